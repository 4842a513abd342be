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


def send(cat, frame, dport=None):
    s.sendto(frame, (router, dport or port))
    sent[cat] = sent.get(cat, 0) + 1


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
print(json.dumps(sent))
