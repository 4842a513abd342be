#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# gwart's /gwart/* commands on DPDK's telemetry socket, read with Debian's
# dpdk-telemetry.py beside /ethdev/*:
#  1. after real traffic (gwart-conn pair) has stopped, every /gwart/*
#     reply equals gwartctl --json taken just before and just after it
#     (values that move with no traffic, such as the workers' loop counts,
#     must lie between the two);
#  2. bad parameters get an error reply naming the problem, counted in
#     stats' "telemetry"."errors", and gwartd keeps answering;
#  3. a list longer than one telemetry reply (16 KiB) says so in a
#     "truncated" member instead of losing entries silently, and is counted.
#
# The telemetry socket: EAL makes it in its runtime directory,
# $RUNTIME_DIRECTORY/dpdk/FILE_PREFIX (/var/run/dpdk/FILE_PREFIX for root
# without it), --no-shconf or not; dpdk-telemetry.py -f FILE_PREFIX looks
# in the same place through the same variable. The test points both at a
# directory of its own, so it leaves nothing in /var/run/dpdk.
. "$GWART_SRC/tests/integration/lib.sh"
TEL=$(command -v dpdk-telemetry.py || true)
[ -n "$TEL" ] || { echo "SKIP: dpdk-telemetry.py not installed (Debian package dpdk-dev)"; exit 77; }
CHECK="$GWART_SRC/tests/integration/telemetry_check.py"
export RUNTIME_DIRECTORY="$TMP/run"
mkdir -p "$RUNTIME_DIRECTORY"

# Probes after the connectors leave would move counters while we compare:
# the first one comes an hour later.
start_gwartd "$(write_config '"backoff_max_ms": 3600000, "backoff_initial_ms": 3600000, "backoff_jitter_pct": 0')"
# The kernel's IPv6 chatter on the tap (router solicitations, MLD) would
# count as drops at random moments.
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 || true
sock="$RUNTIME_DIRECTORY/dpdk/$NS/dpdk_telemetry.v2"
[ -S "$sock" ] || fail "no telemetry socket at $sock"

# tel CMD...: one dpdk-telemetry.py session, a command a line; its stdout.
tel() {
	printf '%s\n' "$@" | in_ns "$TEL" -f "$NS" || fail "dpdk-telemetry.py failed"
}

# reply FILE CMD: the reply to CMD (its first) in FILE, as JSON.
reply() {
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    l = l.strip()
    if l.startswith("{") and sys.argv[2] in json.loads(l):
        print(json.dumps(json.loads(l)[sys.argv[2]])); break
else:
    sys.exit(1)' "$1" "$2" || fail "no reply to $2 in $1"
}

# jq_ JSON EXPR: a python expression over the parsed JSON (as d).
jq_() {
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

ctl_json() {
	"$CTL" --socket "$GW_SOCK" --json "$@" || fail "gwartctl $* failed"
}

# ---- 1. real traffic, then a quiet moment ---------------------------------------
in_ns "$GWART_BUILD/bench/gwart-conn" pair --router $ROUTER --bind $HOST --src-id 1 --dst-id 2 \
	$(ckey 1 2) --dest smtp:alice@notes.demo.example --count 2000 --payload 64 \
	--timeout 60 --label telemetry >"$TMP/conn.log" 2>&1 || {
	cat "$TMP/conn.log" >&2
	fail "connectors reported loss, duplication or timeout"
}
grep -q ' sent=2000 delivered=2000 duplicates=0 lost=0 ' "$TMP/conn.log" ||
	fail "unexpected traffic result: $(cat "$TMP/conn.log")"
# The BYEs are in; nothing else arrives.
sleep 0.5

snap() {
	mkdir -p "$TMP/cmp/$1"
	for c in stats connectors sessions routes; do
		ctl_json "$c" >"$TMP/cmp/$1/$c.json"
	done
}
try=0
while :; do
	try=$((try + 1))
	rm -rf "$TMP/cmp"
	snap A
	tel /gwart/stats /gwart/workers /gwart/drops /gwart/connectors /gwart/sessions \
		/gwart/routes /ethdev/list / >"$TMP/cmp/T.out"
	snap B
	rc=0
	python3 "$CHECK" same "$TMP/cmp" || rc=$?
	[ $rc -eq 0 ] && break
	[ $rc -eq 3 ] && [ $try -lt 3 ] && { sleep 1; continue; }
	echo "--- telemetry"; cat "$TMP/cmp/T.out"
	fail "telemetry disagrees with gwartctl (try $try)"
done
out="$TMP/cmp/T.out"
routed=$(jq_ "$(reply "$out" /gwart/stats)" 'd["routed"]')
[ "$routed" -eq 2000 ] || fail "/gwart/stats routed=$routed, expected 2000"
[ "$(jq_ "$(reply "$out" /ethdev/list)" '0 in d')" = True ] || fail "/ethdev/list lacks port 0"
for c in stats connectors sessions routes workers drops; do
	[ "$(jq_ "$(reply "$out" /)" "'/gwart/$c' in d")" = True ] || fail "/ does not list /gwart/$c"
done

# ---- 2. bad parameters: an error reply each, counted ----------------------------
errs0=$(live telemetry.errors)
tel /gwart/connectors,99 /gwart/connectors,abc /gwart/connectors,0 /gwart/sessions,70000 \
	/gwart/stats,1 /gwart/workers,x /gwart/drops,NOPE /gwart/nosuch '/help,/gwart/stats' \
	/gwart/connectors,2 >"$TMP/err.out"
cat "$TMP/err.out"
n=0
while read -r cmd want; do
	# the Nth reply to that command (replies come in order)
	got=$(python3 -c 'import json,sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print([x[sys.argv[2]] for x in r if sys.argv[2] in x][int(sys.argv[3])].get("errno"))' \
		"$TMP/err.out" "$cmd" "$(echo "$want" | cut -d: -f2)")
	[ "$got" = "$(echo "$want" | cut -d: -f1)" ] || fail "$cmd #$want: errno $got"
	n=$((n + 1))
done <<EOF
/gwart/connectors ENOENT:0
/gwart/connectors EINVAL:1
/gwart/connectors EINVAL:2
/gwart/sessions EINVAL:0
/gwart/stats EINVAL:0
/gwart/workers EINVAL:0
/gwart/drops ENOENT:0
EOF
grep -q '"/gwart/nosuch": null' "$TMP/err.out" || fail "an unknown command is not DPDK's null"
grep -q '"/help": {"/gwart/stats": "' "$TMP/err.out" || fail "no help text for /gwart/stats"
# After the errors it still answers, with the object itself for one id.
[ "$(jq_ "$(python3 -c 'import json,sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print(json.dumps([x["/gwart/connectors"] for x in r if "/gwart/connectors" in x][3]))' "$TMP/err.out")" \
	'd["id"], d["name"], d["delivered"]')" = "(2, 'notes', 2000)" ] ||
	fail "/gwart/connectors,2 is not connector 2"
errs1=$(live telemetry.errors)
[ $((errs1 - errs0)) -eq $n ] || fail "telemetry.errors went $errs0 -> $errs1, expected +$n"

# ---- 3. a list longer than a reply: cut, and said so -----------------------------
printf 'connector add %s c%s --key %s\n' $(for i in $(seq 10 89); do
	echo "$i $i $(key_hex 1)"; done) | "$CTL" --socket "$GW_SOCK" batch >/dev/null ||
	fail "cannot add connectors"
tr0=$(live telemetry.truncated)
tel /gwart/connectors /gwart/connectors,89 >"$TMP/big.out"
ctl_json connectors >"$TMP/big.json"
python3 - "$TMP/big.out" "$TMP/big.json" <<'PY' || fail "the long list was not cut honestly"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
full = json.load(open(sys.argv[2]))
big = json.loads(lines[0])["/gwart/connectors"]
one = json.loads(lines[1])["/gwart/connectors"]
# DPDK's own bytes were compact JSON: {"/gwart/connectors":{...}}.
size = len(json.dumps(json.loads(lines[0]), separators=(",", ":")))
assert size <= 16384, size
t = big.pop("truncated")
shown = len(big)
print("connectors: %d shown of %d, truncated=%s, reply %d bytes" % (shown, len(full), t, size))
assert len(full) == 84 and 0 < shown < 84
assert t["entries_omitted"] == 84 - shown, t
assert sorted(big, key=int) == [str(i) for i in range(shown)]
# Each one shown is whole: DPDK itself would drop what does not fit, member
# by member, without a word.
for i in range(shown):
    want = {k: int(v) if isinstance(v, bool) else v for k, v in full[i].items() if v is not None}
    assert big[str(i)] == want, (i, big[str(i)], want)
assert one["id"] == 89 and one["name"] == "c89"
PY
tr1=$(live telemetry.truncated)
[ "$tr1" -eq $((tr0 + 1)) ] || fail "telemetry.truncated went $tr0 -> $tr1"
[ "$(live telemetry.timeouts)" -eq 0 ] || fail "telemetry requests timed out"

stop_gwartd
echo "PASS($T)"
