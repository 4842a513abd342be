#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A third party's frames with every sequence field at its edges, for
hostile_fields.sh. Sent from the address it binds (another address of the
test's namespace) to the router only. Prints one JSON object of what it sent
and what it must have caused; exits non-zero when the router answered
wrongly (an ACK flood, a message freed by a wild ACK).

Usage: hostile_fields.py ROUTER PORT BIND_ADDR"""
import json
import socket
import struct
import sys
import time

router, port, bind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
M64 = (1 << 64) - 1
SEQS = [0, 1, 1 << 63, M64]
EPOCHS = [0, 1, (1 << 32) - 1]
C1 = 0xFFFFFFFFFFFFFFC1
out = {"sent": {}, "expect": {}}


def count(d, k, n=1):
    out[d][k] = out[d].get(k, 0) + n


def hdr(type_, length, sender, epoch, seq, flags=0):
    return struct.pack("!HBBHHIIQ", 0x4757, 1, type_, length, flags, sender, epoch, seq)


def data(sender, epoch, seq, dest, payload=b"h" * 16):
    length = 40 + len(dest) + len(payload)
    return hdr(1, length, sender, epoch, seq) + struct.pack(
        "!QIHH", seq, sender, len(dest), len(payload)) + dest + payload


def ack(sender, epoch, cum, base, bitmap):
    return hdr(2, 40, sender, epoch, cum) + struct.pack("!QQ", base, bitmap)


def hello(sender, seq, nonce, rx_window=64):
    return hdr(4, 40, sender, 0, seq) + struct.pack("!QII", nonce, rx_window, 0)


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 2)   # IP_MTU_DISCOVER = IP_PMTUDISC_DO: never fragment
s.bind((bind, 0))
s.settimeout(0.05)
n_sent = 0


def send(cat, frame):
    global n_sent
    s.sendto(frame, (router, port))
    count("sent", cat)
    n_sent += 1
    # The tap's kernel queue is short and the host small: pace the bursts.
    if n_sent % 8 == 0:
        time.sleep(0.001)


def recv_all(secs):
    """Every frame from the router for secs seconds: list of bytes."""
    got, end = [], time.monotonic() + secs
    while time.monotonic() < end:
        try:
            b, _ = s.recvfrom(16384)
            got.append(b)
        except socket.timeout:
            pass
    return got


def session(cid, seq, nonce):
    """HELLO as cid with HELLO.seq = seq; returns the WELCOME's epoch."""
    for _ in range(40):
        s.sendto(hello(cid, seq, nonce), (router, port))
        for b in recv_all(0.1):
            if len(b) >= 56 and b[3] == 5 and struct.unpack("!Q", b[24:32])[0] == nonce:
                return struct.unpack("!I", b[12:16])[0]
    sys.exit(f"no WELCOME for connector {cid} (HELLO seq {seq})")


def acks_in(frames):
    return [struct.unpack("!Q", b[16:24])[0] for b in frames if len(b) == 40 and b[3] == 2]


def fail(msg):
    print(json.dumps(out))
    sys.exit(msg)


# ---- 1. HELLO seq 2^64 - 1, then DATA at the top: one ACK, not a flood ----
e3 = session(3, M64, 0x3333)
s.sendto(data(3, e3, M64, b"smtp:x@hostile3.example"), (router, port))
frames = recv_all(0.5)
cums = acks_in(frames)
if M64 not in cums:
    fail(f"no ACK with cum 2^64-1 for the last seq (got {cums[:5]})")
if len(cums) > 4:
    fail(f"{len(cums)} ACKs for one DATA: the ACK loop ran away")
out["expect"]["acks_top"] = len(cums)
# The router forwards it to connector 3 (us): custody holds it until ACKed.
egress = [struct.unpack("!Q", b[16:24])[0] for b in frames if len(b) > 40 and b[3] == 1]
# A repeat, and the seq below: duplicates, ACKed again (once each).
s.sendto(data(3, e3, M64, b"smtp:x@hostile3.example"), (router, port))
s.sendto(data(3, e3, M64 - 1, b"smtp:x@hostile3.example"), (router, port))
frames = recv_all(0.3)
if len(acks_in(frames)) > 4:
    fail("duplicates at 2^64-1 answered by an ACK flood")
egress += [struct.unpack("!Q", b[16:24])[0] for b in frames if len(b) > 40 and b[3] == 1]
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
            send("ack_wild", ack(3, e3, cum, base, bm))
            count("expect", "acks_ignored" if ok else "BAD_ACK")
# The same from stale epochs: refused before anything is looked at.
for ep in EPOCHS:
    if ep != e3:
        send("ack_stale", ack(3, ep, 0, C1, M64))
        count("expect", "STALE_EPOCH")
# Still held: the router retransmits it (first RTO 20 ms, doubling).
frames = recv_all(1.5)
if eseq not in [struct.unpack("!Q", b[16:24])[0] for b in frames if len(b) > 40 and b[3] == 1]:
    fail(f"egress seq {eseq} not retransmitted after the wild ACKs: freed by one of them")
# Now the honest ACK from connector 3, and once more (nothing new).
s.sendto(ack(3, e3, eseq, eseq + 1, 0), (router, port))
s.sendto(ack(3, e3, eseq, eseq + 1, 0), (router, port))
count("expect", "acks_ignored")
count("expect", "delivered_by_3")

# ---- 3. every HELLO.seq edge for connector 4, DATA at every seq edge ------
nonce = 0x4000
for hs in SEQS:
    nonce += 1
    e4 = session(4, hs, nonce)
    for seq in SEQS:
        for ep in [e4] + [e for e in EPOCHS if e != e4]:
            send("data_edges", data(4, ep, seq, b"smtp:x@hostile4.example"))
    recv_all(0.2)
    if len(acks_in(recv_all(0.3))) > 16:
        fail(f"ACK flood after HELLO seq {hs}")

# ---- 4. frames that cannot leave within the destination's MTU -------------
# The kernel side of the tap has a jumbo MTU, the router's port 1500: a
# 1,950-byte datagram reaches the router (it fits the mbuf) but could never
# be forwarded. Refused with NACK TOO_BIG, never ACKed.
# Connector 5: a fresh window (3's and 4's now stand at the top).
e5 = session(5, 1, 0x5555)
for i in range(20):
    send("TOO_BIG", data(5, e5, 1 + i, b"smtp:x@hostile5.example", payload=b"b" * 1850))
    count("expect", "TOO_BIG")
frames = recv_all(0.5)
nacks = [struct.unpack("!H", b[32:34])[0] for b in frames if len(b) == 40 and b[3] == 3]
acked = acks_in(frames)
if nacks.count(3) != 20:
    fail(f"expected 20 NACK TOO_BIG, got reasons {nacks}")
if acked:
    fail(f"too-big DATA acknowledged: cums {acked}")
# The same seqs small enough: taken (TOO_BIG is no custody, they are new).
for i in range(20):
    s.sendto(data(5, e5, 1 + i, b"smtp:x@hostile5.example"), (router, port))
frames = recv_all(0.5)
if max(acks_in(frames) or [0]) != 20:
    fail(f"small DATA after TOO_BIG not all taken: cums {acks_in(frames)}")

# ---- 5. datagrams larger than the router's mbufs (2,048 bytes) ------------
for i in range(20):
    send("PORT_RX", data(5, e5, 100 + i, b"smtp:x@hostile5.example", payload=b"m" * 3500))
    count("expect", "PORT_RX")
recv_all(0.2)

# ---- 6. the honest connectors' ids, from this address, fields at the edges
# No HELLO for them (a HELLO would take their session over: that, like a
# DATA forged with a guessed epoch inside their window, is what
# authentication is for). DATA to an unroutable destination so that none can
# be delivered; the values 0, 1, 2^63, 2^64-1 lie outside an honest
# connector's live window once its stream is under way.
for cid in (1, 2):
    for ep in EPOCHS:
        for seq in SEQS:
            send("honest_ids", data(cid, ep, seq, b"smtp:x@nowhere.invalid"))
            for cum in SEQS:
                for base in (0, 1, 1 << 63, C1):
                    send("honest_ids", ack(cid, ep, cum, base, M64 if base else 0))
recv_all(0.3)
print(json.dumps(out))
