#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send hostile datagrams at a router: each category crafted so that exactly
one drop reason must count it. Prints one JSON object: category -> count.
Only ever sends to the address given (inside the test's namespace)."""
import json
import random
import socket
import struct
import sys
import time

router, port, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent = {}


def hdr(type_, length, sender=1, epoch=1, seq=1, magic=0x4757, version=1, flags=0):
    return struct.pack("!HBBHHIIQ", magic, version, type_, length, flags, sender, epoch, seq)


def data(sender=1, epoch=1, seq=1, dest=b"smtp:x@y.demo.example", payload=b"p" * 16, **kw):
    length = 24 + 16 + len(dest) + len(payload)
    return hdr(1, length, sender, epoch, seq, **kw) + struct.pack(
        "!QIHH", seq, sender, len(dest), len(payload)) + dest + payload


def pace():
    # The tap's kernel queue is short and this host has two cores: a burst
    # would be dropped by the kernel before the router could count it.
    global n_sent
    n_sent += 1
    if n_sent % 8 == 0:
        time.sleep(0.001)


n_sent = 0


def send(cat, frame, dport=None):
    s.sendto(frame, (router, dport or port))
    sent[cat] = sent.get(cat, 0) + 1
    pace()


for i in range(200):
    send("WIRE_TRUNCATED", bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 24))))
for i in range(200):
    f = bytearray(data(seq=i + 1))
    f[0] ^= 0xFF
    send("WIRE_BAD_MAGIC", bytes(f))
for i in range(100):
    send("WIRE_BAD_VERSION", data(seq=i + 1, version=rnd.choice([0, 2, 7, 255])))
for i in range(100):
    f = bytearray(data(seq=i + 1))
    f[3] = rnd.choice([0, 8, 9, 200, 255])
    send("WIRE_BAD_TYPE", bytes(f))
for i in range(100):
    f = data(seq=i + 1) + b"trailing"   # declared length shorter than datagram
    send("WIRE_BAD_LENGTH", f)
for i in range(100):
    send("UNKNOWN_CONN", data(sender=999 + i, seq=i + 1))
for i in range(100):
    # A NACK is the router's to send, never a connector's.
    body = struct.pack("!QHHI", i + 1, 1, 0, 0)
    send("WRONG_DIRECTION", hdr(3, 24 + len(body), sender=1, epoch=1, seq=i + 1) + body)
for i in range(100):
    send("UDP_PORT", data(seq=i + 1), dport=port + 1)
for i in range(500):
    n = rnd.randrange(24, 1400)
    f = bytes(rnd.getrandbits(8) for _ in range(n))
    # Random bytes are refused for their magic unless they happen to start
    # with it; those (about 1 in 65,536) may land under any reason.
    send("WIRE_BAD_MAGIC" if f[:2] != b"GW" else "random", f)
# IPv4 fragments: a datagram larger than the MTU, fragmented by the kernel
# (3000 + 8 bytes of IP payload: 3 fragments of at most 1480 bytes).
fs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
fs.setsockopt(socket.IPPROTO_IP, 10, 0)   # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
for i in range(10):
    fs.sendto(data(seq=i + 1, payload=b"f" * 2900), (router, port))
    sent["IP_FRAG"] = sent.get("IP_FRAG", 0) + 3
    pace()

# With a session: connector 4 says HELLO, then breaks the rules.
cs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
cs.settimeout(2.0)
cs.bind((sys.argv[4], 0))
hello = hdr(4, 40, sender=4, epoch=0, seq=1) + struct.pack("!QII", 0xfeed, 64, 0)
epoch = 0
for attempt in range(20):
    cs.sendto(hello, (router, port))
    try:
        while True:
            b, _ = cs.recvfrom(2048)
            if len(b) >= 24 and b[3] == 5:
                epoch = struct.unpack("!I", b[12:16])[0]
                break
    except socket.timeout:
        continue
    if epoch:
        break
if not epoch:
    sys.exit("no WELCOME for connector 4")


def csend(cat, frame):
    cs.sendto(frame, (router, port))
    sent[cat] = sent.get(cat, 0) + 1
    pace()


for i in range(50):   # far beyond the duplicate window: NACK EXPIRED
    csend("TOO_FAR", data(sender=4, epoch=epoch, seq=100000 + i))
for i in range(50):   # origin differs from sender
    f = bytearray(data(sender=4, epoch=epoch, seq=i + 1))
    f[32:36] = struct.pack("!I", 1)
    csend("BAD_ORIGIN", bytes(f))
for i in range(50):   # a stale epoch: NACK NO_SESSION
    csend("NO_SESSION", data(sender=4, epoch=epoch + 1000, seq=i + 1))
for i in range(50):   # acknowledging egress seqs never sent
    csend("BAD_ACK", hdr(2, 40, sender=4, epoch=epoch, seq=(1 << 63) + i) + struct.pack("!QQ", 0, 0))
nacks = {}
try:
    while True:
        b, _ = cs.recvfrom(2048)
        if len(b) == 40 and b[3] == 3:
            r = struct.unpack("!H", b[32:34])[0]
            nacks[r] = nacks.get(r, 0) + 1
except socket.timeout:
    pass
if nacks.get(4, 0) != 50 or nacks.get(6, 0) != 50:
    sys.exit(f"expected 50 EXPIRED and 50 NO_SESSION NACKs, got {nacks}")
print(json.dumps(sent))
