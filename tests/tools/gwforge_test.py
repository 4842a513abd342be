#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""gwforge against itself on loopback (no router, no root): frames it seals
as the router would (dir=r2c) arrive with tags its receive side accepts,
one flipped bit or another key is refused, fields land where wire.h puts
them, seq_step/count, captures replayed, floods from distinct ports.
Usage: gwforge_test.py GWFORGE"""
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from forge import Forge, T  # noqa: E402

K = "11" * 32
f = Forge(sys.argv[1])
bad = []


def check(cond, what):
    if not cond:
        bad.append(what)


f.key(5, K)
rx = f.sock(0, "127.0.0.1", 0, 5)
f.sock(1, "127.0.0.1", 0)
R = f"127.0.0.1:{rx}"
f.send(1, R, type="WELCOME", nonce=9, epoch=77, salt="ab" * 16, key=5)
f.send(1, R, type="WELCOME", nonce=9, epoch=77, key=5, seal="flip")
f.cmd(f"session 5 77 9 {'ab' * 16}")
f.send(1, R, type="ACK", sender=0, key=5, dir="r2c", seq=3, base=5, bitmap=6)
f.send(1, R, type="DATA", sender=0, key=5, dir="r2c", seq=10, seq_step=5, count=3,
       origin=4, dest="smtp:a@b.example", payload_len=40)
f.send(1, R, type="KEEPALIVE", sender=0, key=5, dir="r2c", epoch=0)  # a probe: handshake key
f.send(1, R, type="NACK", sender=0, key=5, dir="c2r", reason=3)  # the other direction's key
frames, n = f.recv(0, 300)
check(n["n"] == 8, f"8 frames expected, got {n}")
auth = [x["auth"] for x in frames]
check(auth == ["ok", "bad", "ok", "ok", "ok", "ok", "ok", "bad"], f"tags: {auth}")
w = frames[0]
check((w["type"], w["epoch"], w["nonce"], w["salt"], w["length"], w["n"]) ==
      (T["WELCOME"], 77, 9, "ab" * 16, 96, 96), f"WELCOME fields: {w}")
a = frames[2]
check((a["seq"], a["base"], a["bitmap"], a["length"], a["ctr"]) == (3, 5, 6, 64, (1 << 56) + 1),
      f"ACK fields: {a}")
d = [x for x in frames if x["type"] == T["DATA"]]
check([x["seq"] for x in d] == [10, 15, 20] and [x["origin_seq"] for x in d] == [10, 15, 20],
      f"DATA seqs: {d}")
check(all(x["length"] == 24 + 16 + 16 + 40 + 24 and x["origin"] == 4 for x in d), f"DATA: {d}")
check([x["ctr"] for x in d] == [(1 << 56) + 2, (1 << 56) + 3, (1 << 56) + 4], "lane-1 counters")
# Capture replay and floods.
_, one = f.cmd(f"send 1 {R} type=ACK sender=0 key=5 dir=r2c show=1")
f.recv(0, 100)
b = bytes.fromhex(one["hex"])
with tempfile.NamedTemporaryFile(delete=False) as cap:
    for d_ in ("U", "D", "D"):
        cap.write(bytes([ord(d_), len(b) >> 8, len(b) & 255]) + b)
r = f.replay(1, R, cap.name, dir="D")
os.unlink(cap.name)
check(r["sent"] == 2 and r["records"] == 3, f"replay: {r}")
f.flood("127.0.0.1", R, 5, hex=one["hex"])
frames, n = f.recv(0, 300)
check(n["n"] == 7 and all(x["auth"] == "ok" for x in frames), f"replayed/flooded: {n}")
check(len({x["from"] for x in frames[2:]}) == 5, "flood: 5 source ports")
check(struct.unpack("!H", b[4:6])[0] == len(b) == 64, "ACK length field")
f.close()
if bad:
    sys.exit("gwforge self-test: " + "; ".join(bad))
print("gwforge self-test: ok")
