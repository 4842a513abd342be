#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""it_log's driver (log.sh): gwartctl log against a live gwartd, session
events before and after `gwartctl log session debug`, a connector that
flaps, and a flood of frames the router drops, each checked in gwartd's
own log output (its rte_log lines) and counters. Frames come from gwforge
(tests/tools) on another address of the test's namespace.

Usage: log_events.py GWFORGE GWARTCTL SOCKET ROUTER:PORT BIND KEY3 KEY4 GWARTD_LOG
Prints what it saw; exits non-zero with the reason when a check fails."""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forge import Forge  # noqa: E402

forge, ctl, sock, R, bind, key3, key4, logpath = sys.argv[1:9]
FLAP_INTERVAL = 4   # s: the config's log_flap_interval_s
DROP_INTERVAL = 3   # s: the config's log_drop_interval_s
FLAPS = 30


def die(msg):
    print("--- gwartd log (gwart lines)")
    for l in lines():
        print(l)
    sys.exit(msg)


def gwartctl(*args, rc=0):
    p = subprocess.run([ctl, "--socket", sock, *args], capture_output=True, text=True)
    if p.returncode != rc:
        die(f"gwartctl {' '.join(args)}: exit {p.returncode}, wanted {rc}: {p.stderr}")
    return p.stdout


def lines():
    with open(logpath, errors="replace") as f:
        return [l.rstrip("\n") for l in f if l.startswith("gwartd: ") and " " in l]


# "gwartd: 12.345 session notice: connector 3: ..." -> (type, level, text)
LINE = re.compile(r"^gwartd: \d+\.\d{3} (dataplane|control|session|config) "
                  r"(emerg|alert|crit|err|warning|notice|info|debug): (.*)$")


def parsed():
    out = []
    for l in lines():
        m = LINE.match(l)
        if m:
            out.append(m.groups())
    return out


def levels():
    return json.loads(gwartctl("--json", "log"))["types"]


# ---- 1. gwartctl log: the four types and the config's levels ----------------
want = {"gwart.dataplane": "warning", "gwart.control": "notice", "gwart.session": "notice",
        "gwart.config": "info"}
if levels() != want:
    die(f"gwartctl --json log: {levels()}, wanted {want}")
table = gwartctl("log")
for t, lv in want.items():
    if not re.search(rf"^{re.escape(t)}\s+{lv}\s*$", table, re.M):
        die(f"gwartctl log: no row '{t} {lv}' in:\n{table}")
gwartctl("log", "sesion", "debug", rc=3)  # unknown type: ENOENT
gwartctl("log", "session", "loud", rc=2)  # unknown level: EINVAL
gwartctl("log", "session", rc=2)          # usage
if levels() != want:
    die("refused log.set changed a level")
print("gwartctl log: four types at the config's levels; bad type 3, bad level 2")

# ---- 2. session at notice, then debug: the same events, debug lines only after
f = Forge(forge)
f.keyfile(3, key3)
f.keyfile(4, key4)
f.cmd(f"sock 0 {bind} 0 id=3")
f.connect(0, R, 3)
f.send(0, R, type="BYE", sender=3)
time.sleep(1.5)  # probes to connector 3 (backoff 100 ms x 1.6^n)
probe = re.compile(r"^connector 3: reconnection probe \d+$")
before = [p for p in parsed() if p[0] == "session" and probe.match(p[2])]
if before:
    die(f"debug lines while gwart.session was notice: {before[:3]}")
if not any(p[:2] == ("session", "notice") and p[2].startswith("connector 3: session up")
           for p in parsed()):
    die("no notice line for connector 3's session up")
gwartctl("log", "session", "debug")
if levels()["gwart.session"] != "debug":
    die(f"gwartctl log session debug: level now {levels()['gwart.session']}")
if not re.search(r"^gwart\.session\s+debug\s*$", gwartctl("log"), re.M):
    die("gwartctl log does not show gwart.session debug")
if not any(p[:2] == ("control", "notice") and
           p[2] == "log level of gwart.session: debug (was notice)" for p in parsed()):
    die("no notice line for the level change")
deadline = time.time() + 10
while time.time() < deadline:
    after = [p for p in parsed() if p[:2] == ("session", "debug") and probe.match(p[2])]
    if after:
        break
    time.sleep(0.2)
else:
    die("gwart.session debug: no reconnection probe line at debug")
print(f"session debug: {after[0][2]!r} at debug once the level changed, none before")

# ---- 3. connector 4 flaps: bounded lines, every change logged or counted ----
f.cmd(f"sock 1 {bind} 0 id=4")
t0 = time.time()
for i in range(FLAPS):
    f.connect(1, R, 4)
    f.send(1, R, type="BYE", sender=4)
flap_s = time.time() - t0
time.sleep(FLAP_INTERVAL + 2.5)  # the summary once the limit allows it
sess = json.loads(gwartctl("--json", "sessions"))
changes = sum(s["opens"] + s["closes"] for s in sess if s["id"] in (3, 4))
st = json.loads(gwartctl("--json", "stats"))
supp = st["control"]["log_flap_suppressed"]
c4 = [p for p in parsed() if p[0] == "session" and p[1] != "debug" and
      p[2].startswith("connector 4: ")]
summaries = [p for p in c4 if re.search(r"for \d+ s", p[2])]
events = [p for p in parsed() if p[0] == "session" and p[1] != "debug" and
          re.match(r"^connector [34]: session (up|down) \(|^connector [34]: session up, epoch \d+(;|$)",
                   p[2])]
bound = 4 * (int(flap_s / FLAP_INTERVAL) + 2) + 2
print(f"flaps: {FLAPS} in {flap_s:.1f} s; connector 4 lines {len(c4)} (bound {bound}), "
      f"summaries {len(summaries)}, suppressed {supp}, changes {changes}")
for p in c4:
    print("  ", p[1], p[2])
if len(c4) > bound:
    die(f"connector 4: {len(c4)} session lines for {2 * FLAPS} changes, bound {bound}")
if supp == 0 or not any(re.search(r"it flaps: [1-9]\d* session change\(s\) not logged in the "
                                  r"last \d+ s \(check the connector's process and the path "
                                  r"to it; gwartctl sessions 4\)", p[2]) for p in c4):
    die("no flap line with the count of changes not logged and what to do")
# Its last state, as gwartctl sees it (down after its last BYE, unless that
# BYE raced the next HELLO and found a replaced session).
state = [s["state"] for s in sess if s["id"] == 4][0]
last = "session down for" if state == "down" else "session up, epoch"
if not summaries or last not in summaries[-1][2]:
    die(f"the last state of a flapping connector ({state}) was not logged")
if len(events) + supp != changes:
    die(f"session changes: {len(events)} logged + {supp} suppressed != {changes}")

# ---- 4. a flood of bad frames: bounded drop lines that add up to the counter
t0 = time.time()
while time.time() - t0 < 10:
    f.send(0, R, type="DATA", magic=0xb8a8, seq=1, seq_step=1, count=100,
           dest="smtp:x@y.example", seal="none")
    time.sleep(0.05)
flood_s = time.time() - t0
time.sleep(DROP_INTERVAL + 2.5)  # the last rises' line
st = json.loads(gwartctl("--json", "stats"))
dropped = st["drops"]["WIRE_BAD_MAGIC"]
dl = [p for p in parsed() if p[0] == "dataplane" and " WIRE_BAD_MAGIC " in p[2]]
DL = re.compile(r"^drops: (\d+) WIRE_BAD_MAGIC in the last (\d+) s \(non-gwart traffic on the "
                r"gwart port: find the sender; gwartctl stats\)(; (\d+) similar lines? "
                r"suppressed)?$")
total = 0
nsupp = 0
for p in dl:
    print("  ", p[1], p[2])
    m = DL.match(p[2])
    if not m or p[1] != "warning":
        die(f"drop line not as documented: {p}")
    total += int(m.group(1))
    nsupp += int(m.group(4) or 0)
bound = int(flood_s / DROP_INTERVAL) + 3
print(f"flood: {dropped} WIRE_BAD_MAGIC drops in {flood_s:.1f} s, {len(dl)} lines (bound "
      f"{bound}) adding up to {total}, {nsupp} similar lines suppressed")
if not 2 <= len(dl) <= bound:
    die(f"{len(dl)} drop lines for a {flood_s:.0f} s flood, wanted 2..{bound}")
if nsupp == 0 or st["control"]["log_drop_suppressed"] < nsupp:
    die("no suppression counted")
if total != dropped:
    die(f"drop lines add up to {total}, the counter says {dropped}")
f.close()
print("log events: ok")
