#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The attacker of spoof.sh, phase by phase, through gwforge. The attacker
knows no key but reads the relays' captures (every frame of the honest
connectors 1 and 2). Each phase reads the router's counters before and
after (gwartctl --json stats) and requires every forged or replayed frame
counted under the reason the protocol gives it, nothing answered to the
attacker, and no session moved or closed by it. Prints one JSON object
(what was sent and what the sink received); exits non-zero on the first
wrong answer.

Usage: spoof.py GWFORGE ROUTER:PORT EVIL_IP SELF_IP TMP GWARTCTL SOCKET KEY3 KEY4 TAP"""
import json
import os
import secrets
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forge import Forge, hdr, read_capture, reason_count, T  # noqa: E402

forge, R, EVIL, SELF, TMP, CTL, SOCK, KEY3, KEY4, TAP = sys.argv[1:11]
LANE1 = 1 << 56
FAR = 1 << 40  # a counter far ahead of any real one: passes the replay window
out = {"phases": {}, "v1_sent": 0, "forged_delivered": 0}
f = Forge(forge)


def ctl(*args):
    p = subprocess.run([CTL, "--socket", SOCK, "--json", *args], capture_output=True, text=True)
    if p.returncode:
        die(f"gwartctl {' '.join(args)}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def conns():
    return {c["id"]: c for c in ctl("connectors")}


def die(msg):
    print(json.dumps(out, indent=1))
    sys.exit(f"spoof: {msg}")


def wait(cond, secs, what):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.1)
    die(f"{what} not within {secs} s")


def sniff(port, type_=None, sender=None, dir_="U"):
    """Frames the relay at PORT captured: [(header dict, bytes)]."""
    got = []
    for d, b in read_capture(f"{TMP}/cap{port}"):
        if d != dir_ or len(b) < 24:
            continue
        h = hdr(b)
        if (type_ is None or h["type"] == T[type_]) and (sender is None or h["sender"] == sender):
            got.append((h, b))
    return got


def epoch_of(port, cid):
    """The epoch an eavesdropper reads off connector cid's latest frame."""
    fr = [h["epoch"] for h, _ in sniff(port, sender=cid) if h["epoch"]]
    if not fr:
        die(f"nothing of connector {cid} captured at relay {port}")
    return fr[-1]


def quiet(what):
    """Nothing the router sent reached the attacker (it authenticates no
    answer to a frame it refused, and answers a KEEPALIVE only at the
    session's address)."""
    frames, n = f.recv(1, 200)
    if n["n"]:
        die(f"{what}: the router answered the attacker: {frames[:3]}")


def tap_dropped():
    """Datagrams the kernel dropped on their way into the router's port (its
    tap queue overflows when this shared host starves the router): the
    router cannot count what it never saw."""
    j = subprocess.run(["ip", "-s", "-j", "link", "show", TAP], capture_output=True, text=True)
    return json.loads(j.stdout)[0]["stats64"]["tx"]["dropped"]


def changed(a, b):
    """Every counter that moved between two stats snapshots (diagnosis)."""
    out = {}
    for sec in ("drops", "control"):
        for k, v in b.get(sec, {}).items():
            if isinstance(v, int) and v != a.get(sec, {}).get(k, 0):
                out[f"{sec}.{k}"] = v - a.get(sec, {}).get(k, 0)
    return out


def honest_state():
    """Connectors 1 and 2 as the router sees them: up, epoch, sessions opened."""
    cs = conns()
    opens = {x["id"]: x["opens"] for x in ctl("sessions")}
    return {i: (cs[i]["up"], cs[i]["epoch"], opens[i]) for i in (1, 2)}


def relearn():
    """The honest connectors' epochs, as the eavesdropper reads them now."""
    global e1, e2
    e1, e2 = epoch_of(7001, 1), epoch_of(7002, 2)
    ep[1], ep[2] = e1, e2


def phase(name, reasons, sent, fn, learned=False, replay=False):
    """Run fn; the counters under REASONS (one name or several that may
    share the frames between them) must grow by at least SENT (a number,
    or a function giving it once fn has run). LEARNED: the frames use the
    sniffed epochs, learned afresh first; if an honest session was down or
    renewed meanwhile (a late keepalive on this loaded host), the frames met
    no session of that epoch, and the phase runs again (twice at most).
    REPLAY: the frames are sniffed copies; a copy whose original the kernel
    dropped before the router saw it (at any time since the start) is new
    to the router, rightly taken, and harmless (the same bytes): allowed
    for as many as the kernel dropped."""
    for attempt in (1, 2, 3):
        if learned:
            relearn()
        st0 = honest_state()
        before = ctl("stats")
        kd0 = tap_dropped()
        fn()
        n = sent() if callable(sent) else sent
        # The workers count as they get to it: a loaded host (or the
        # sanitizer build) may take a while; 3 s at most.
        end = time.monotonic() + 3
        while True:
            time.sleep(0.2)
            after = ctl("stats")
            delta = {r: reason_count(after, r) - reason_count(before, r) for r in reasons}
            kd = tap_dropped() - (kd_start if replay else kd0)
            if sum(delta.values()) >= n - kd or time.monotonic() > end:
                break
        st1 = honest_state()
        out["phases"][name] = {"sent": n, "counted": delta, "attempts": attempt}
        if kd:
            out["phases"][name]["kernel_dropped"] = kd
        if sum(delta.values()) >= n - kd:
            return after
        flapped = st0 != st1 or any(not st0[i][0] or st0[i][1] != ep[i] for i in (1, 2))
        if not (learned and attempt < 3 and flapped):
            break
        wait(lambda: all(v[0] for v in honest_state().values()), 10, "honest sessions back")
    die(f"{name}: sent {n}, counted only {delta} (kernel dropped {kd}); all that moved: "
        f"{changed(before, after)}")


def wrong_key():
    return secrets.token_hex(32)


st0 = ctl("stats")
kd_start = tap_dropped()
c0 = conns()
moved0 = st0["control"].get("sessions_moved", 0)
addr = {i: c0[i]["address"] for i in (1, 2)}
if not addr[1] or not addr[2]:
    die(f"honest connectors not up: {addr}")

# The test's own connectors, with their real keys: 3 is the sink every
# forged DATA is routed to, 4 the one that moves.
f.keyfile(3, KEY3)
f.sock(30, SELF, 0, 3)
f.connect(30, R, 3)
f.cmd(f"keepalive 30 {R} id=3 ms=100")
# The attacker's socket and the keys it guesses for connectors 1 and 2.
f.sock(1, EVIL, 0)
f.key(1, wrong_key())
f.key(2, wrong_key())
ep = {}
relearn()
SINK = "smtp:x@sink.example"

# ---- A. DATA as connector 1 --------------------------------------------------
# Guessed epochs (v1 epochs were sequential and echoed in NACKs): refused
# before anything is looked at, and not answered.
guesses = [e for e in list(range(1, 21)) + [secrets.randbits(32) | 1 for _ in range(20)]
           if e != e1]
phase("data_guessed_epoch", ["NO_SESSION"], len(guesses), lambda: [
    f.send(1, R, type="DATA", sender=1, epoch=e, seq=1000 + i, dest=SINK, seal="none")
    for i, e in enumerate(guesses)])
quiet("forged DATA, guessed epochs")
# The sniffed epoch, from the attacker's address: the session's address
# is not the attacker's.
phase("data_learned_epoch", ["AUTH_FAILED"], 50, lambda: f.send(
    1, R, type="DATA", sender=1, epoch=e1, seq=5000, seq_step=1, count=50, dest=SINK,
    seal="none"), learned=True)
# ... and spoofed from the session's own address and port: only the tag
# can refuse it (counters far ahead, so the replay window lets it by).
def data_spoofed():
    f.cmd(f"session 1 {e1} 1 {'00' * 16}")  # keys derived from a wrong K
    for k, s in enumerate(("none", "session")):
        f.send(1, R, type="DATA", sender=1, epoch=e1, seq=6000, seq_step=1, count=50,
               dest=SINK, seal=s, ctr=LANE1 + FAR + k * 100, spoof=addr[1])


phase("data_spoofed_source", ["AUTH_FAILED"], 100, data_spoofed, learned=True)
quiet("forged DATA, learned epoch")
# The sniffed DATA frames themselves, replayed: refused for their source
# from the attacker's address, for their counters from the session's.
data1 = []


def write_cap(path, frames, dir_="U"):
    with open(path, "wb") as w:
        for _, b in frames:
            w.write(bytes([ord(dir_), len(b) >> 8, len(b) & 255]) + b)


def read_capture_frames(port, dir_):
    return [(hdr(b), b) for d, b in read_capture(f"{TMP}/cap{port}") if d == dir_ and len(b) >= 24]


def replay_data():
    data1[:] = [x for x in sniff(7001, "DATA", 1) if x[0]["epoch"] == e1][-200:]
    time.sleep(0.2)  # the last of them reached the router before their copies
    write_cap(f"{TMP}/data1.cap", data1)
    f.replay(1, R, f"{TMP}/data1.cap")
    f.replay(1, R, f"{TMP}/data1.cap", spoof=addr[1])


phase("data_replayed", ["AUTH_FAILED", "REPLAYED"], lambda: 2 * len(data1), replay_data,
      learned=True, replay=True)
quiet("replayed DATA")

# ---- B. HELLO take-over of connector 2 without its key --------------------
phase("hello_without_key", ["AUTH_FAILED"], 100, lambda: [
    f.send(1, R, type="HELLO", sender=2, nonce=0xbad, count=50),
    f.send(1, R, type="HELLO", sender=2, nonce=0xbad, count=50, spoof=addr[2])])
quiet("HELLO without the key")

# ---- C. connector 2's own HELLO, sniffed and replayed from other ports -----
hellos = sniff(7002, "HELLO", 2)
if not hellos:
    die("no HELLO of connector 2 captured")
hello_hex = hellos[-1][1].hex()
phase("hello_replayed", ["REPLAYED"], 40, lambda: [
    f.flood(EVIL, R, 20, hex=hello_hex),
    [f.sendhex(1, R, hello_hex, spoof=addr[2]) for _ in range(20)]], replay=True)
quiet("replayed HELLO")

# ---- D. a HELLO flood from 1,000 ports, forged and replayed ---------------
up0 = ctl("stats")
phase("hello_flood", ["AUTH_FAILED", "REPLAYED"], 2000, lambda: [
    f.flood(EVIL, R, 1000, type="HELLO", sender=2, nonce=0xf100d),
    f.flood(EVIL, R, 1000, hex=hello_hex)], replay=True)
up1 = ctl("stats")
if up1["control"]["sessions_up"] != up0["control"]["sessions_up"] or \
        up1["sessions_up_now"] != up0["sessions_up_now"]:
    die(f"the HELLO flood opened sessions: sessions_up {up0['control']['sessions_up']} -> "
        f"{up1['control']['sessions_up']}, now {up1['sessions_up_now']}")
quiet("HELLO flood")
if conns()[2]["address"] != addr[2]:
    die(f"connector 2 moved to {conns()[2]['address']}")

# ---- E. connector 2's link cut: its sniffed ACKs and KEEPALIVEs replayed --
acks = sniff(7002, "ACK", 2)[-300:]
write_cap(f"{TMP}/acks2.cap", acks)
relearn()
ka2 = [b for h, b in sniff(7002, "KEEPALIVE", 2) if h["epoch"] == e2][-10:]
n_cut = [0]
open(f"{TMP}/cut7002", "w").close()
t_cut = time.monotonic()


def replay_acks():
    # During the cut the router still retransmits to connector 2; an ACK
    # that freed custody now would lose those messages (v1: 3,002 lost).
    # Its sniffed KEEPALIVEs, replayed from its own address, and forged
    # ones must not keep it up either (v1: a dead connector "up" 10 s):
    # they go on until the router finds it dead, within its detection time
    # (500 ms x 3) and a margin for this shared host.
    f.replay(1, R, f"{TMP}/acks2.cap")
    f.replay(1, R, f"{TMP}/acks2.cap", spoof=addr[2])
    n_cut[0] += 2 * len(acks)
    k = 0
    while conns()[2]["up"]:
        if time.monotonic() > t_cut + 4.0:
            die("connector 2 kept up 4 s into its cut by replayed and forged keepalives")
        for b in ka2:
            f.sendhex(1, R, b.hex(), spoof=addr[2])
        f.send(1, R, type="KEEPALIVE", sender=2, epoch=e2, count=5, seal="none",
               ctr=FAR + k, spoof=addr[2])
        n_cut[0] += len(ka2) + 5
        k += 1
        time.sleep(0.1)
    out["cut_detected_s"] = round(time.monotonic() - t_cut, 2)
    f.replay(1, R, f"{TMP}/acks2.cap")  # and once more, its session gone
    f.replay(1, R, f"{TMP}/acks2.cap", spoof=addr[2])
    n_cut[0] += 2 * len(acks)


phase("acks_keepalives_during_cut", ["AUTH_FAILED", "REPLAYED", "NO_SESSION"],
      lambda: n_cut[0], replay_acks, replay=True)
while time.monotonic() < t_cut + 2.0:
    time.sleep(0.1)
os.unlink(f"{TMP}/cut7002")
wait(lambda: conns()[2]["up"], 10, "connector 2 back after the cut")
quiet("replayed ACKs")

# ---- F. BYE and KEEPALIVE for connectors 1 and 2 --------------------------
time.sleep(0.3)
# Sessions closed by a BYE, per connector: a forged one must close none. (A
# session lost to a late keepalive on this loaded host is not a forgery's
# doing and shows as a timeout, not here.)
byes0 = {x["id"]: x["byes"] for x in ctl("sessions")}
ka = {}


def bye_keepalive():
    for i in (1, 2):
        for t in ("BYE", "KEEPALIVE"):
            f.send(1, R, type=t, sender=i, epoch=ep[i], seq=1, count=25, seal="none")
            f.send(1, R, type=t, sender=i, epoch=ep[i], seq=1, count=25, seal="none",
                   ctr=FAR, spoof=addr[i])


def keepalive_replay():
    for i in (1, 2):
        ka[i] = [b.hex() for h, b in sniff(7000 + i, "KEEPALIVE", i) if h["epoch"]][-20:]
        for x in ka[i]:
            f.sendhex(1, R, x, spoof=addr[i])


phase("bye_keepalive_forged", ["AUTH_FAILED"], 200, bye_keepalive, learned=True)
phase("keepalive_replayed", ["REPLAYED", "NO_SESSION"], lambda: len(ka[1]) + len(ka[2]),
      keepalive_replay, replay=True)
quiet("forged BYE and KEEPALIVE")
byes1 = {x["id"]: x["byes"] for x in ctl("sessions")}
if byes1 != byes0:
    die(f"forged BYEs closed sessions: closes by BYE {byes0} -> {byes1}")

# ---- G. connector 4 moves; its old port and forged keepalives ------------
f.keyfile(4, KEY4)
pa = f.sock(40, SELF, 0, 4)
w = f.connect(40, R, 4)
nonce = w["nonce"]
f.cmd(f"keepalive 40 {R} id=4 ms=100")
time.sleep(0.3)
# The same instance from the same address again (its WELCOME lost, say):
# the same session, so the same epoch and salt, hence the same keys.
w2 = f.connect(40, R, 4, nonce=nonce)
if (w2["epoch"], w2["salt"]) != (w["epoch"], w["salt"]):
    die(f"a repeated HELLO of a live session got a new session: {w} then {w2}")
pb = f.sock(41, SELF, 0, 4)
f.connect(41, R, 4, nonce=nonce)  # the same instance from another port: moves
f.cmd(f"keepalive 40 {R} ms=0")
f.cmd(f"keepalive 41 {R} id=4 ms=100")
time.sleep(0.3)
c4 = conns()[4]
if c4["address"] != f"{SELF}:{pb}" or not c4["up"]:
    die(f"connector 4 did not move to port {pb}: {c4}")
f.recv(40, 50)  # what was on its way to the old port before the move
f.recv(41, 50)
# KEEPALIVEs from the old port, correctly sealed with the new session's
# keys (what a confused connector might send): refused for their source,
# answered nowhere, while the new port's own are answered there.
phase("keepalive_old_port", ["AUTH_FAILED"], 20, lambda: f.send(
    40, R, type="KEEPALIVE", sender=4, count=20))
frames, n = f.recv(40, 300)
if n["n"]:
    die(f"frames to connector 4's old port after it moved: {frames[:3]}")
frames, n = f.recv(41, 300)
if not any(x["type"] == T["KEEPALIVE"] and x["auth"] == "ok" for x in frames):
    die(f"connector 4's keepalives at its new port went unanswered: {n}")
# Now connector 4 goes silent; only the old port, forgers and replays
# speak for it. Its session must end within the detection time (500 ms x 3),
# 4 s at most on this shared host.
_, last = f.cmd(f"send 41 {R} type=KEEPALIVE sender=4 show=1")
f.cmd(f"keepalive 41 {R} ms=0")
t_silent = time.monotonic()
e4 = conns()[4]["epoch"]
i = 0
while time.monotonic() < t_silent + 4.0:
    i += 1
    f.send(40, R, type="KEEPALIVE", sender=4)
    f.send(1, R, type="KEEPALIVE", sender=4, epoch=e4, seal="none", ctr=FAR + i,
           spoof=f"{SELF}:{pb}")
    f.sendhex(1, R, last["hex"], spoof=f"{SELF}:{pb}")
    time.sleep(0.1)
    if not conns()[4]["up"]:
        break
down_after = time.monotonic() - t_silent
if conns()[4]["up"]:
    die(f"connector 4 kept up {down_after:.1f} s after it went silent, by keepalives "
        "from its old port, forged and replayed")
out["dead_detected_s"] = round(down_after, 2)
st = ctl("stats")
moved = st["control"].get("sessions_moved", 0) - moved0
out["sessions_moved"] = moved
if moved != 1:
    die(f"sessions_moved grew by {moved}: only connector 4's own move may count")

# ---- I. the router's own frames, sniffed and replayed to the connectors ----
# An ACK replayed to the sender could make it take a message for
# acknowledged that the router never had (a loss nobody sees), a DATA
# replayed to the receiver could be delivered twice. They come from the
# relay's address, the one each connector's socket is connected to: only
# the connector's replay windows and epochs can refuse them (it counts
# them: the pair's session lines, checked by spoof.sh).
def conn_sockets():
    """gwart-conn's sockets: peer (the relay it is connected to) -> local."""
    p = subprocess.run(["ss", "-uanpH"], capture_output=True, text=True, check=True)
    m = {}
    for line in p.stdout.splitlines():
        x = line.split()
        if len(x) >= 6 and "gwart-conn" in line:
            m[x[4]] = x[3]
    return m


socks = conn_sockets()
host = addr[1].split(":")[0]
out["replayed_to"] = {}
for role, port in (("src", 7001), ("dst", 7002)):
    relay = f"{host}:{port}"
    if relay not in socks:
        die(f"no gwart-conn socket connected to {relay}: {socks}")
    fr = [(h, b) for h, b in read_capture_frames(port, "D")
          if h["type"] != T["WELCOME"] and h["epoch"]][-300:]
    write_cap(f"{TMP}/down{port}.cap", fr, "D")
    f.replay(1, socks[relay], f"{TMP}/down{port}.cap", spoof=relay)
    out["replayed_to"][role] = len(fr)

# ---- H. version 1 frames ---------------------------------------------------
def v1():
    for t in ("HELLO", "DATA", "KEEPALIVE", "ACK", "BYE"):
        f.send(1, R, type=t, version=1, sender=1, epoch=ep[1], seq=1, count=20, seal="none")
        f.send(1, R, type=t, version=1, sender=2, epoch=ep[2], seq=1, count=20, seal="none",
               spoof=addr[2])
    out["v1_sent"] = 200


phase("version_1", ["BAD_VERSION"], 200, v1)
quiet("version 1 frames")

# ---- the sink: nothing forged was delivered ---------------------------------
frames, n = f.recv(30, 500)
out["forged_delivered"] = n["DATA"]
out["sink_frames"] = n
cs = conns()
for i in (1, 2):
    if cs[i]["address"] != addr[i]:
        die(f"connector {i}'s session moved from {addr[i]} to {cs[i]['address']}")
# A disabled connector with its real key is told NOT_AUTHORISED, an answer
# gwforge takes only with a valid hs.r2c tag and its HELLO's ctr echoed;
# the same HELLO replayed gets nothing.
subprocess.run([CTL, "--socket", SOCK, "connector", "disable", "3"], check=True,
               capture_output=True)
r = f.cmd(f"connect 30 {R} id=3 timeout_ms=3000", check=False)[1]
if r.get("err") != "nack reason=5":
    die(f"disabled connector 3: {r}")
f.close()
print(json.dumps(out, indent=1))
