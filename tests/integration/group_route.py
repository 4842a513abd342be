#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Messages of several frames through a running gwartd, for group_route.sh.
Every connector is a gwforge socket holding its real key (tests/tools:
every byte and tag is gwforge's); the destinations never acknowledge, so
the router keeps what it took and retransmits it, and what each destination
received is the set of (group, index) it was sent.

  1. route change: connector 1 sends chunks 0 and 1 of a group to
     *.grp.example (connector 2), the route is replaced by connector 3
     (gwartctl route add), chunks 2 and 3 follow, then a single message:
     all four chunks must reach connector 2 and none connector 3, which
     gets the single message (the route did change).
  2. failover: *.fo.example is connector 5 (cost 10, receive window 2) then
     6 (cost 20). A single message and the first chunk of group A fill 5's
     window; A's rest and all of group B wait untransmitted. 5 falls silent
     (its keepalives stop): its session goes down and, a keepalive interval
     later, B moves whole to 6 while A (a chunk transmitted) stays whole
     for 5; 5 says HELLO again and gets all of A.
  3. hostile (connector 4, from another address of the namespace, its real
     key): a group id reused with another total length, a group above
     max_message, chunk extensions that contradict themselves, and a chunk
     claiming connector 1's id without its key. Each must be refused and
     counted; nothing of them is delivered.
Prints one JSON object; exits non-zero on a wrong answer.

Usage: group_route.py GWFORGE GWARTCTL SOCK ROUTER PORT HOST EVIL KEYDIR"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forge import Forge, NACK  # noqa: E402

forge, ctl, sock, router, port, host, evil, keydir = sys.argv[1:9]
R = f"{router}:{port}"
out = {}
f = Forge(forge)
for cid in (1, 2, 3, 4, 5, 6):
    f.keyfile(cid, f"{keydir}/{cid}.key")


def fail(msg):
    out["fail"] = msg
    print(json.dumps(out))
    sys.exit(msg)


def gwartctl(*args):
    # gwforge sends its keepalives while it runs a command: it sleeps in
    # steps while gwartctl runs (a slow build's gwartctl can take longer
    # than a session's 600 ms of silence).
    p = subprocess.Popen([ctl, "--socket", sock] + list(args), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    while p.poll() is None:
        f.cmd("sleep 20")
    so, se = p.communicate()
    if p.returncode != 0:
        fail(f"gwartctl {' '.join(args)}: {se.strip()}")
    return so


def connect(name, cid, ip, window=64):
    f.cmd(f"sock {name} {ip} 0 id={cid}")
    w = f.connect(name, R, cid, seq=1, rx_window=window)
    f.cmd(f"keepalive {name} {R} id={cid} ms=200")
    return w


def recv(name, ms):
    frames, _ = f.recv(name, ms)
    bad = [x for x in frames if x.get("auth") != "ok"]
    if bad:
        fail(f"router frames with a wrong tag on {name}: {bad[:2]}")
    return frames


def chunks(frames, group):
    """Indexes of group's chunks among DATA frames (GW_F_CHUNK = 2)."""
    return sorted({x["index"] for x in frames
                   if x["type"] == 1 and x["flags"] & 2 and x.get("group") == group})


def singles(frames):
    return sorted({x["origin_seq"] for x in frames if x["type"] == 1 and not x["flags"] & 2})


def answers(frames):
    """origin seqs ACKed (cumulative or bitmap) and NACKed (seq -> reason)."""
    acked, nacked = set(), {}
    for x in frames:
        if x["type"] == 2:
            acked.update(range(1, x["seq"] + 1))
            acked.update(x["base"] + i for i in range(64) if x["bitmap"] >> i & 1)
        elif x["type"] == 3:
            nacked[x["origin_seq"]] = x["reason"]
    return acked, nacked


def chunk(name, dest, group, index, count, clen, total=None, sender=None, **kw):
    """Chunk index of a group of count chunks of clen bytes (the last
    shorter when total says so); origin_seq group + index."""
    total = total if total is not None else count * clen
    plen = clen if index + 1 < count else total - (count - 1) * clen
    # ccount: gwforge's count is how many frames to send.
    args = dict(type="DATA", seq=group + index, dest=dest, payload_len=plen, group=group,
                index=index, ccount=count, chunk_len=clen, total_len=total)
    if sender is not None:
        args["sender"] = sender
    args.update(kw)
    f.send(name, R, **args)


# gwforge's sender is 1 unless told: connector 1's frames need no sender=.
def single(name, dest, seq):
    f.send(name, R, type="DATA", seq=seq, dest=dest, payload_len=64)


# ---- connectors ------------------------------------------------------------
w1 = connect(1, 1, host)
connect(2, 2, host)
connect(3, 3, host)
connect(5, 5, host, window=2)
connect(6, 6, host)
connect(4, 4, evil)

# ---- 1. a route change in the middle of a group -------------------------------
G1 = 1
D1 = "smtp:ann@x.grp.example"
chunk(1, D1, G1, 0, 4, 500)
chunk(1, D1, G1, 1, 4, 500)
fr1 = recv(1, 400)
gwartctl("route", "add", "smtp", "*.grp.example", "3:10")
chunk(1, D1, G1, 2, 4, 500)
chunk(1, D1, G1, 3, 4, 500)
single(1, D1, G1 + 4)
fr1 += recv(1, 600)
acked, nacked = answers(fr1)
to2, to3 = recv(2, 300), recv(3, 300)
out["route_change"] = {"acked": sorted(acked & set(range(G1, G1 + 5))), "nacked": nacked,
                       "to2": chunks(to2, G1), "to3": chunks(to3, G1),
                       "to3_singles": singles(to3)}
if not set(range(G1, G1 + 5)) <= acked:
    fail("route change: not every message acknowledged")
if chunks(to2, G1) != [0, 1, 2, 3]:
    fail("route change: the group's chunks did not all reach connector 2")
if chunks(to3, G1):
    fail("route change: a chunk of the group followed the new route")
if G1 + 4 not in singles(to3):
    fail("route change: the new route was not taken by a new message")

# ---- 2. failover: a whole untransmitted group moves, a started one stays ------
D2 = "smtp:bob@y.fo.example"
S = 10          # the single message
A, B = 11, 14   # groups of 3
single(1, D2, S)
for i in range(3):
    chunk(1, D2, A, i, 3, 400)
for i in range(3):
    chunk(1, D2, B, i, 3, 400)
fr1 = recv(1, 500)
acked, nacked = answers(fr1)
if not set(range(S, B + 3)) <= acked:
    fail(f"failover: not every message acknowledged: {sorted(acked)} {nacked}")
to5 = recv(5, 300)
out["failover_before"] = {"to5_singles": singles(to5), "to5_A": chunks(to5, A),
                          "to5_B": chunks(to5, B)}
if chunks(to5, B) or chunks(to5, A) != [0]:
    fail("failover: connector 5's window should hold the single and A's first chunk")
# Connector 5 falls silent: down after 3 x 200 ms, failover 200 ms later.
f.cmd(f"keepalive 5 {R} id=5 ms=0")
to6 = []
deadline = time.time() + 10
while time.time() < deadline and chunks(to6, B) != [0, 1, 2]:
    to6 += recv(6, 300)
recv(5, 10)
out["failover"] = {"to6_A": chunks(to6, A), "to6_B": chunks(to6, B)}
if chunks(to6, B) != [0, 1, 2]:
    fail("failover: group B did not move whole to connector 6")
if chunks(to6, A):
    fail("failover: a chunk of group A (partly transmitted) moved")
# Connector 5 comes back: everything of A is retransmitted to it.
f.connect(5, R, 5, seq=1, rx_window=64, nonce=77)
f.cmd(f"keepalive 5 {R} id=5 ms=200")
to5 = []
deadline = time.time() + 10
while time.time() < deadline and chunks(to5, A) != [0, 1, 2]:
    to5 += recv(5, 300)
out["failover_after"] = {"to5_A": chunks(to5, A), "to5_B": chunks(to5, B)}
if chunks(to5, A) != [0, 1, 2]:
    fail("failover: group A did not reach connector 5 whole after its return")
if chunks(to5, B):
    fail("failover: group B reached both connectors")

# ---- 3. hostile chunks ---------------------------------------------------------
D3 = "smtp:eve@z.hx.example"
H = 500
chunk(4, D3, H, 0, 3, 100, sender=4)             # honest start: accepted
chunk(4, D3, H, 1, 4, 100, sender=4)             # same group, count 4 / 400 bytes
chunk(4, D3, H + 100, 0, 2000, 100, sender=4)    # 200,000 bytes > max_message
bad = [dict(index=5), dict(chunk_len=0), dict(ccount=1, total_len=100),
       dict(total_len=(64 << 20) + 1, ccount=((64 << 20) + 100) // 100),
       dict(group=H + 7)]                        # origin_seq != group + index
for i, b in enumerate(bad):
    kw = dict(dest=D3, group=H + 200 + 10 * i, index=0, ccount=3, chunk_len=100,
              total_len=300, seq=H + 200 + 10 * i, type="DATA", payload_len=100, sender=4)
    kw.update(b)
    f.send(4, R, **kw)
# Connector 1's id and epoch from the hostile address, with connector 4's
# keys: refused before anything else looks at it (AUTH_FAILED).
chunk(4, D3, 900, 0, 2, 100, sender=1, key=4, origin=1, epoch=w1["epoch"])
fr4 = recv(4, 600)
acked, nacked = answers(fr4)
out["hostile"] = {"acked": sorted(acked), "nacked": {str(k): v for k, v in nacked.items()},
                  "expect": {"GROUP_MISMATCH": 1, "MSG_TOO_BIG": 1, "WIRE_BAD_CHUNK": len(bad),
                             "AUTH_FAILED": 1}}
if H not in acked:
    fail("hostile: the consistent first chunk was not taken")
if nacked.get(H + 1) != NACK["EXPIRED"]:
    fail("hostile: a reused group id with other lengths not refused EXPIRED")
if nacked.get(H + 100) != NACK["TOO_BIG"]:
    fail("hostile: a group above max_message not refused TOO_BIG")
to3 = recv(3, 300)
if chunks(to3, H) != [0] or chunks(to3, H + 100) or chunks(to3, 900):
    fail(f"hostile: delivered {chunks(to3, H)} {chunks(to3, H + 100)} {chunks(to3, 900)}")
print(json.dumps(out))
f.close()
