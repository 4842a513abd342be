#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send hostile datagrams at a router: each category crafted so that exactly
one drop reason must count it. Prints one JSON object: category -> count.
Frames are built and sealed by gwforge (tests/tools; the tags come from
include/gwart/auth.h), bytes that are no frame at all come from here. Only
ever sends to the address given (inside the test's namespace).

Usage: hostile.py GWFORGE ROUTER PORT SEED BIND KEY4"""
import json
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forge import Forge, NACK, T  # noqa: E402

forge, router, port, seed, bind, key4 = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5], sys.argv[6]
R = f"{router}:{port}"
rnd = random.Random(seed)
sent = {}
f = Forge(forge)
f.sock(0, bind, 0)
f.key(1, "%064x" % rnd.getrandbits(256))  # a guess at connector 1's key
DEST = "smtp:x@y.demo.example"


def count(cat, n=1):
    sent[cat] = sent.get(cat, 0) + n


def fsend(cat, **kw):
    f.send(0, R, **kw)
    count(cat, kw.get("count", 1))


n_sent = 0


def hexsend(cat, b, dport=None):
    global n_sent
    f.sendhex(0, f"{router}:{dport or port}", b.hex())
    count(cat)
    n_sent += 1
    # The tap's kernel queue is short and this host has two cores: a burst
    # would be dropped by the kernel before the router could count it.
    if n_sent % 8 == 0:
        time.sleep(0.001)


# ---- no session needed: refused by the parser or before any session ------
for i in range(200):
    n = rnd.randrange(1, 24)
    hexsend("WIRE_TRUNCATED", bytes(rnd.getrandbits(8) for _ in range(n)))
fsend("WIRE_BAD_MAGIC", type="DATA", magic=0xb8a8, seq=1, seq_step=1, count=200, dest=DEST,
      seal="none")
for v in (0, 1, 3, 7, 255):  # version 1 included: refused, never answered
    fsend("WIRE_BAD_VERSION", type="DATA", version=v, seq=1, seq_step=1, count=20, dest=DEST,
          seal="none")
for t in (0, 8, 9, 200, 255):
    fsend("WIRE_BAD_TYPE", type=t, sender=1, epoch=1, seq=1, count=20, seal="none")
fsend("WIRE_BAD_LENGTH", type="DATA", seq=1, seq_step=1, count=100, dest=DEST, seal="none",
      extra=8)  # declared length shorter than the datagram
for i in range(100):
    fsend("UNKNOWN_CONN", type="DATA", sender=999 + i, epoch=1, seq=i + 1, dest=DEST,
          seal="none")
# A NACK is the router's to send, never a connector's.
fsend("WRONG_DIRECTION", type="NACK", sender=1, epoch=1, seq=1, seq_step=1, count=100,
      reason=1, seal="none")
f.send(0, f"{router}:{port + 1}", type="DATA", seq=1, seq_step=1, count=100, dest=DEST,
       seal="none")
count("UDP_PORT", 100)
for i in range(500):
    n = rnd.randrange(24, 1400)
    b = bytes(rnd.getrandbits(8) for _ in range(n))
    # Random bytes are refused for their magic unless they happen to start
    # with it; those (about 1 in 65,536) may land under any reason.
    hexsend("WIRE_BAD_MAGIC" if b[:2] != b"GW" else "random", b)
# IPv4 fragments: a datagram larger than the MTU, fragmented by the kernel
# (3000 + 8 bytes of IP payload: 3 fragments of at most 1480 bytes). The
# frame's bytes come from gwforge; the socket is ours, since gwforge never
# lets the kernel fragment.
_, big = f.cmd(f"send 0 {R} type=DATA seq=1 dest={DEST} payload_len=2900 seal=none show=1 dry=1")
fs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
fs.setsockopt(socket.IPPROTO_IP, 10, 0)   # IP_MTU_DISCOVER = IP_PMTUDISC_DONT
for i in range(10):
    fs.sendto(bytes.fromhex(big["hex"]), (router, port))
    count("IP_FRAG", 3)
    time.sleep(0.001)

# ---- with a session: connector 4, its real key, breaks the rules ----------
f.keyfile(4, key4)
f.sock(1, bind, 0, 4)
epoch = f.connect(1, R, 4)["epoch"]


def csend(cat, **kw):
    f.send(1, R, sender=4, **kw)
    count(cat, kw.get("count", 1))


csend("TOO_FAR", type="DATA", seq=100000, seq_step=1, count=50, dest=DEST)  # NACK EXPIRED
csend("BAD_ORIGIN", type="DATA", seq=1, seq_step=1, count=50, origin=1, dest=DEST)
# A stale epoch: no NACK in version 2 (the router cannot authenticate an
# answer for an epoch it does not know).
csend("NO_SESSION", type="DATA", epoch=epoch + 1000, seq=1, seq_step=1, count=50, dest=DEST)
csend("BAD_ACK", type="ACK", seq=(1 << 63), seq_step=1, count=50, base=0, bitmap=0)
# A tag one bit wrong, and a right one from another port of the same host.
csend("AUTH_FAILED", type="DATA", seq=60, seq_step=1, count=50, dest=DEST, seal="flip")
f.send(0, R, type="DATA", sender=4, key=4, seq=70, seq_step=1, count=50, dest=DEST)
count("AUTH_FAILED", 50)
# One frame accepted, then its very bytes 50 times more.
_, one = f.cmd(f"send 1 {R} type=DATA sender=4 seq=200 dest={DEST} show=1")
for _ in range(50):
    f.sendhex(1, R, one["hex"])
count("REPLAYED", 50)
frames, _ = f.recv(1, 2000)
nacks = {}
for x in frames:
    if x["type"] == T["NACK"]:
        nacks[x["reason"]] = nacks.get(x["reason"], 0) + 1
    if x["auth"] != "ok":
        sys.exit(f"a router frame with a wrong tag: {x}")
if nacks.get(NACK["EXPIRED"], 0) != 50 or nacks.get(NACK["NO_SESSION"], 0) != 0:
    sys.exit(f"expected 50 EXPIRED and no NO_SESSION NACKs, got {nacks}")
frames, n = f.recv(0, 100)
if n["n"]:
    sys.exit(f"the router answered refused frames: {frames[:3]}")
f.close()
print(json.dumps(sent))
