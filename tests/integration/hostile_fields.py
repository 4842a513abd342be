#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Frames with every sequence field at its edges, for hostile_fields.sh, sent
through gwforge (tests/tools) from the address it binds (another address of
the test's namespace) to the router only. Connectors 3, 4 and 5 are
authenticated: gwforge holds their real keys, so every frame below reaches
the state machine with a valid tag, as a buggy connector's would (a key is
not what keeps the router alive). The honest connectors 1 and 2 are only
impersonated, without their keys. Prints one JSON object of what it sent and
what it must have caused; exits non-zero when the router answered wrongly
(an ACK flood, a message freed by a wild ACK, an unauthenticated answer).

Usage: hostile_fields.py GWFORGE ROUTER PORT BIND_ADDR KEY3 KEY4 KEY5 TAP"""
import json
import os
import json as _json
import secrets
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forge import Forge, M64, T  # noqa: E402

forge, router, port, bind = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
keys = {3: sys.argv[5], 4: sys.argv[6], 5: sys.argv[7]}
tap = sys.argv[8]
R = f"{router}:{port}"
SEQS = [0, 1, 1 << 63, M64]
EPOCHS = [0, 1, (1 << 32) - 1]
C1 = 0xFFFFFFFFFFFFFFC1
out = {"sent": {}, "expect": {}}
f = Forge(forge)
for cid, path in keys.items():
    f.keyfile(cid, path)
f.sock(0, bind, 0)


def count(d, k, n=1):
    out[d][k] = out[d].get(k, 0) + n


def fail(msg):
    print(json.dumps(out))
    sys.exit(msg)


def send(cat, **kw):
    n = kw.get("count", 1)
    f.send(0, R, **kw)
    count("sent", cat, n)


def session(cid, seq, nonce):
    """HELLO as cid (its real key) with HELLO.seq = seq: the WELCOME's epoch."""
    f.cmd(f"sock 0 {bind} 0 id={cid}")  # a fresh port, its frames checked with cid's keys
    w = f.connect(0, R, cid, seq=seq, nonce=nonce)
    f.cmd(f"keepalive 0 {R} id={cid} ms=200")  # alive as long as we need it
    return w["epoch"]


def recv(ms):
    frames, n = f.recv(0, ms)
    bad = [x for x in frames if x["auth"] != "ok"]
    if bad:
        fail(f"router frames with a wrong tag: {bad[:3]}")
    return frames


def recv_until(done, ms, settle=200):
    """Frames until done(frames) holds (ms at most, this host is shared),
    then settle ms more: what a runaway would add shows up too."""
    got = []
    waited = 0
    while waited < ms and not done(got):
        got += recv(100)
        waited += 100
    return got + recv(settle)


def tap_dropped():
    """Datagrams the kernel dropped on their way into the router's port."""
    j = subprocess.run(["ip", "-s", "-j", "link", "show", tap], capture_output=True, text=True)
    return _json.loads(j.stdout)[0]["stats64"]["tx"]["dropped"]


def acks_in(frames):
    return [x["seq"] for x in frames if x["type"] == T["ACK"]]


def data_in(frames):
    return [x["seq"] for x in frames if x["type"] == T["DATA"]]


# ---- 1. HELLO seq 2^64 - 1, then DATA at the top: one ACK, not a flood ----
e3 = session(3, M64, 0x3333)
f.send(0, R, type="DATA", sender=3, seq=M64, dest="smtp:x@hostile3.example")
frames = recv_until(lambda fr: M64 in acks_in(fr) and data_in(fr), 2000, 300)
cums = acks_in(frames)
if M64 not in cums:
    fail(f"no ACK with cum 2^64-1 for the last seq (got {cums[:5]})")
if len(cums) > 4:
    fail(f"{len(cums)} ACKs for one DATA: the ACK loop ran away")
out["expect"]["acks_top"] = len(cums)
# The router forwards it to connector 3 (us): custody holds it until ACKed.
egress = data_in(frames)
# A repeat (a new frame, so a new ctr: the replay window is not what stops
# it) and the seq below: duplicates, ACKed again (once each).
f.send(0, R, type="DATA", sender=3, seq=M64, dest="smtp:x@hostile3.example")
f.send(0, R, type="DATA", sender=3, seq=M64 - 1, dest="smtp:x@hostile3.example")
frames = recv(300)
if len(acks_in(frames)) > 4:
    fail("duplicates at 2^64-1 answered by an ACK flood")
egress += data_in(frames)
if not egress:
    fail("the message at 2^64-1 was acknowledged but never forwarded to connector 3")
eseq = egress[0]

# ---- 2. wild ACKs while connector 3's custody holds that message ----------
# Valid only when everything named lies in [1, next_tx): cum 0 or 1 and no
# bitmap, or base 1 (egress seqs start far above 64). Valid ones name
# nothing new (acks_ignored); the rest are BAD_ACK. None frees the message.
for cum in SEQS:
    for base in SEQS + [C1]:
        for bm in (0, 1, M64):
            ok = cum in (0, 1) and (bm == 0 or base == 1)
            send("ack_wild", type="ACK", sender=3, seq=cum, base=base, bitmap=bm)
            count("expect", "acks_ignored" if ok else "BAD_ACK")
# The same from stale epochs, correctly sealed for them: refused before
# anything is looked at (no session of that epoch).
for ep in EPOCHS:
    if ep != e3:
        send("ack_stale", type="ACK", sender=3, epoch=ep, seq=0, base=C1, bitmap=M64)
        count("expect", "STALE")
# Still held: the router retransmits it (first RTO 20 ms, doubling).
frames = recv(1500)
if eseq not in data_in(frames):
    fail(f"egress seq {eseq} not retransmitted after the wild ACKs: freed by one of them")
# Now the honest ACK from connector 3, and once more (nothing new).
f.send(0, R, type="ACK", sender=3, seq=eseq, base=eseq + 1, bitmap=0)
f.send(0, R, type="ACK", sender=3, seq=eseq, base=eseq + 1, bitmap=0)
count("expect", "acks_ignored")
count("expect", "delivered_by_3")

# ---- 3. every HELLO.seq edge for connector 4, DATA at every seq edge ------
nonce = 0x4000
for hs in SEQS:
    nonce += 1
    e4 = session(4, hs, nonce)
    for seq in SEQS:
        for ep in [e4] + [e for e in EPOCHS if e != e4]:
            send("data_edges", type="DATA", sender=4, epoch=ep, seq=seq,
                 dest="smtp:x@hostile4.example")
    recv(200)
    if len(acks_in(recv(300))) > 16:
        fail(f"ACK flood after HELLO seq {hs}")

# ---- 4. frames that cannot leave within the destination's MTU -------------
# The kernel side of the tap has a jumbo MTU, the router's port 1500: a
# 1,950-byte datagram reaches the router (it fits the mbuf) but could never
# be forwarded. Refused with NACK TOO_BIG, never ACKed.
# Connector 5: a fresh window (3's and 4's now stand at the top).
e5 = session(5, 1, 0x5555)
kd0 = tap_dropped()
send("TOO_BIG", type="DATA", sender=5, seq=1, seq_step=1, count=20,
     dest="smtp:x@hostile5.example", payload_len=1850, payload_byte=ord("b"))


def nacks_of(frames, reason):
    return [x for x in frames if x["type"] == T["NACK"] and x["reason"] == reason]


frames = recv_until(lambda fr: len(nacks_of(fr, 3)) >= 20, 2000)
nacks = [x["reason"] for x in frames if x["type"] == T["NACK"]]
acked = acks_in(frames)
# Each one the router saw is NACKed; the kernel may drop some on their way
# in when this shared host is loaded, and says how many.
kd = tap_dropped() - kd0
count("expect", "TOO_BIG", nacks.count(3))
if nacks.count(3) > 20 or nacks.count(3) < 20 - kd:
    fail(f"expected 20 NACK TOO_BIG (kernel dropped {kd}), got reasons {nacks}")
if acked:
    fail(f"too-big DATA acknowledged: cums {acked}")
# The same seqs small enough: taken (TOO_BIG is no custody, they are new).
f.send(0, R, type="DATA", sender=5, seq=1, seq_step=1, count=20, dest="smtp:x@hostile5.example")
frames = recv_until(lambda fr: max(acks_in(fr) or [0]) >= 20, 2000)
if max(acks_in(frames) or [0]) != 20:
    fail(f"small DATA after TOO_BIG not all taken: cums {acks_in(frames)}")
# They are routed back to connector 5, us: acknowledged, so that their
# retransmissions end.
eg = sorted(set(data_in(frames + recv(300))))
for x in eg:
    f.send(0, R, type="ACK", sender=5, seq=x, base=x + 1, bitmap=0)
# No route, from an authenticated connector: NACK NO_ROUTE.
send("NO_ROUTE", type="DATA", sender=5, seq=21, seq_step=1, count=5,
     dest="smtp:x@nowhere.invalid")
count("expect", "NO_ROUTE", 5)
frames = recv_until(lambda fr: len(nacks_of(fr, 1)) >= 5, 2000)
if len(nacks_of(frames, 1)) != 5:
    fail(f"expected 5 NACK NO_ROUTE, got {nacks_of(frames, 1)} among {len(frames)} frames")

# ---- 5. datagrams larger than the router's mbufs (2,048 bytes) ------------
send("PORT_RX", type="DATA", sender=5, seq=100, seq_step=1, count=20,
     dest="smtp:x@hostile5.example", payload_len=3500, payload_byte=ord("m"))
count("expect", "PORT_RX", 20)
recv(200)

# ---- 6. the honest connectors' ids, from this address, without their keys
# Every value at its edge, under epochs 0, 1, 2^32-1 and tags of a guessed
# key: refused before they reach anything (no session of that epoch, or
# not the session's address, or a wrong tag). None may be delivered, none
# answered.
f.cmd(f"keepalive 0 {R} ms=0")
f.sock(0, bind, 0)
for cid in (1, 2):
    f.key(cid, secrets.token_hex(32))
    for ep in EPOCHS:
        for seq in SEQS:
            # Epochs are random now: none of these is the honest one's
            # (1 in 2^32), so each is refused as of no session.
            send("honest_ids", type="DATA", sender=cid, epoch=ep, seq=seq,
                 dest="smtp:x@nowhere.invalid", seal="none" if ep else "hs")
            count("expect", "STALE")
            for cum in SEQS:
                for base in (0, 1, 1 << 63, C1):
                    send("honest_ids", type="ACK", sender=cid, epoch=ep, seq=cum, base=base,
                         bitmap=M64 if base else 0, seal="none" if ep else "hs")
                    count("expect", "STALE")
frames, n = f.recv(0, 300)
if n["n"]:
    fail(f"the router answered frames forged for connectors 1 and 2: {frames[:3]}")
f.close()
print(json.dumps(out))
