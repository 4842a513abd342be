#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# gwartctl top against a live gwartd with two workers and traffic flowing:
# --once prints one plain screen (no terminal control codes, every line
# within 80 columns) with a row per worker and per connector of the stats,
# and its figures agree with `gwartctl --json stats` taken before and after
# it (the messages its rates account for were routed between the two; the
# workers' rows add up to the total; busy % within 0..100 and above 0 on a
# worker that routes; the state of every connector; a long name cut); the live view exits 0
# on q (on a terminal: q without Enter), on end of input and on SIGINT;
# bad arguments exit 2, no daemon 4.
. "$GWART_SRC/tests/integration/lib.sh"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export GWART_SOCKET="$GW_SOCK"

rc=0
"$CTL" --socket "$TMP/none.sock" top --once >/dev/null 2>"$TMP/err" || rc=$?
[ $rc -eq 4 ] || fail "top with no daemon: exit $rc, expected 4"

start_gwartd "$(write_config)" "0@0,1@1,2@1"
for bad in "--interval 0" "--interval x" "--interval" "--bogus"; do
	rc=0
	# shellcheck disable=SC2086
	"$CTL" top --once $bad >/dev/null 2>"$TMP/err" || rc=$?
	[ $rc -eq 2 ] || fail "top --once $bad: exit $rc, expected 2"
done

# A name longer than the column: cut, the cut marked.
"$CTL" connector add 9 exchange-online-mail-gw-euwest --key "$(key_hex 9)" >/dev/null ||
	fail "connector add 9"

# Traffic for the rest of the test: 1 -> 2 (the sender's messages route to 2).
in_ns "$GWART_BUILD/bench/gwart-conn" pair --router $ROUTER --bind $HOST --src-id 1 --dst-id 2 \
	$(ckey 1 2) --dest smtp:alice@notes.demo.example --count $((5000000 * SCALE)) \
	--payload 64 --timeout 120 --label top >"$TMP/conn.log" 2>&1 &
CONN_PID=$!
i=0
until [ "$(live routed)" -gt 1000 ]; do
	i=$((i + 1))
	[ $i -gt 200 ] && { cat "$TMP/conn.log" >&2; fail "no traffic through gwartd"; }
	sleep 0.1
done

"$CTL" --json stats >"$TMP/a.json" || fail "stats before"
"$CTL" top --once --interval 1.5 >"$TMP/top.txt" 2>"$TMP/top.err" || {
	cat "$TMP/top.err" >&2
	fail "top --once failed"
}
"$CTL" --json stats >"$TMP/b.json" || fail "stats after"
cat "$TMP/top.txt"
python3 - "$TMP/a.json" "$TMP/b.json" "$TMP/top.txt" <<'EOF2' || fail "top --once disagrees with stats"
import json, re, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
raw = open(sys.argv[3], "rb").read()
assert b"\x1b" not in raw, "terminal control codes in --once output"
lines = raw.decode().splitlines()
for l in lines:
    assert len(l) <= 80, "%d columns: %r" % (len(l), l)
m = re.match(r"^gwartd  routed/s (\d+) +delivered/s (\d+) +drops/s (\d+) +every ([0-9.]+)s$", lines[0])
assert m, "header: %r" % lines[0]
routed_s, dt = float(m.group(1)), float(m.group(4))
assert 1.3 <= dt <= 5, "interval %s, asked for 1.5" % dt
# What its rate accounts for was routed between our two samples (each
# rate is rounded to 1 msg/s).
n = routed_s * dt
outer = b["routed"] - a["routed"]
assert 0 < n <= outer + dt + 1, "top counted %.0f routed in %.2fs, stats %d around it" % (n, dt, outer)
wk = [l for l in lines if re.match(r"^\d+ +\d+ +[0-9.]+ +[0-9.]+ +[0-9.]+ ", l)]
assert len(wk) == len(b["workers"]) == 2, "worker rows %r, stats %d" % (wk, len(b["workers"]))
mm, total, busy = 0.0, 0, []
for l, w in zip(wk, b["workers"]):
    f = l.split()
    assert int(f[0]) == w["worker"] and int(f[1]) == w["lcore"], "row %r vs %r" % (l, w)
    mm += float(f[2])
    busy.append(float(f[4]))
    total += int(f[7])
    aw = [x for x in a["workers"] if x["worker"] == w["worker"]][0]
    assert aw["routed"] <= int(f[7]) <= w["routed"], "worker routed %s outside %d..%d" % (f[7], aw["routed"], w["routed"])
# Mmsg/s has 3 decimals: 1000 msg/s per worker.
assert abs(mm * 1e6 - routed_s) <= 1000 * len(wk) + 1, "workers %.3f Mmsg/s, total %.0f/s" % (mm, routed_s)
assert a["routed"] <= total <= b["routed"], "workers' ROUTED %d outside %d..%d" % (total, a["routed"], b["routed"])
assert all(0 <= x <= 100 for x in busy) and max(busy) > 0, "busy %r" % busy
cn = {}
for l in lines:
    mc = re.match(r"^ *(\d+) (.{20}) (up|down) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)$", l)
    if mc:
        cn[int(mc.group(1))] = mc
ids = [c["id"] for c in b["connectors"]]
assert 9 in ids and len(ids) == 5, "connectors %r" % ids
assert sorted(cn) == sorted(ids), "connector rows %r, stats %r" % (sorted(cn), ids)
for c in b["connectors"]:
    mc = cn[c["id"]]
    want = c["name"] if len(c["name"]) <= 20 else c["name"][:19] + "~"
    assert mc.group(2).strip() == want, "name %r vs %r" % (mc.group(2), c["name"])
    assert (mc.group(3) == "up") == c["up"], "connector %d state %s" % (c["id"], mc.group(3))
in1, out2 = float(cn[1].group(4)), float(cn[2].group(5))
ca = {c["id"]: c for c in a["connectors"]}
cb = {c["id"]: c for c in b["connectors"]}
d_in, d_out = cb[1]["rx_data"] - ca[1]["rx_data"], cb[2]["tx_data"] - ca[2]["tx_data"]
assert 0 < in1 * dt <= d_in + dt + 1, "connector 1: in %.0f/s, %d around it" % (in1, d_in)
assert 0 < out2 * dt <= d_out + dt + 1, "connector 2: out %.0f/s, %d around it" % (out2, d_out)
print("top --once: %.0f routed/s over %.2fs (stats: %d around it), workers %.3f Mmsg/s, busy %r" % (routed_s, dt, outer, mm, busy))
EOF2

# The live view: q quits, end of input quits, SIGINT quits; each exit 0.
rc=0
(sleep 2.5; echo q; sleep 3) 2>/dev/null | timeout 20 "$CTL" top >"$TMP/live.txt" 2>&1 || rc=$?
[ $rc -eq 0 ] || fail "top: exit $rc after q"
grep -q "$(printf '\033')\[H" "$TMP/live.txt" || fail "top: no screen drawn before q"
grep -q '^WORKER' "$TMP/live.txt" || fail "top: no worker table"
# On a terminal (script(1) gives it one): keys without Enter, so q alone
# quits at once while the input stays open.
if command -v script >/dev/null 2>&1; then
	mkfifo "$TMP/tty-in"
	(sleep 2.5; printf q; sleep 8) >"$TMP/tty-in" 2>/dev/null &
	KEYS_PID=$!
	t0=$(date +%s)
	rc=0
	timeout 20 script -qfec "$CTL top" /dev/null <"$TMP/tty-in" >"$TMP/pty.txt" 2>&1 || rc=$?
	t1=$(date +%s)
	kill $KEYS_PID 2>/dev/null || true
	[ $rc -eq 0 ] || { cat -v "$TMP/pty.txt" >&2; fail "top on a terminal: exit $rc after q"; }
	[ $((t1 - t0)) -lt 8 ] || fail "top on a terminal: q without Enter did not quit ($((t1 - t0)) s)"
	grep -q '^WORKER' "$TMP/pty.txt" || fail "top on a terminal: no worker table"
else
	echo "note: no script(1): the terminal case is not run"
fi
rc=0
timeout 10 "$CTL" top </dev/null >/dev/null 2>&1 || rc=$?
[ $rc -eq 0 ] || fail "top: exit $rc at end of input"
sleep 30 2>/dev/null | "$CTL" top >/dev/null 2>&1 &
TOP_PID=$!
sleep 1.5
kill -INT $TOP_PID
rc=0
wait $TOP_PID || rc=$?
[ $rc -eq 0 ] || fail "top: exit $rc after SIGINT"

kill "$CONN_PID" 2>/dev/null || true
wait "$CONN_PID" 2>/dev/null || true
stop_gwartd
echo "PASS($T)"
