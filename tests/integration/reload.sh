#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Configuration reload under traffic (control/reload.c): while gwart-conn
# pair streams COUNT messages 1 -> 2 on *.demo.example, reloads through
# `gwartctl reload FILE` and through SIGHUP (the --config file rewritten)
# alternate between two files that rename connector 2, re-target the pair's
# own route (2 alone / 2 and a standby 4, costs changed: replaced in place),
# re-key 4, rename 6 and re-cost its route; the first of them also adds 6,
# deletes 5 and its route, and deletes 3 and its route while 3 holds 50
# messages in custody (pending: deleted only once they are delivered).
# Rejected reloads in the middle (a restart-only key, a cross-field tunable
# error, a syntax error by SIGHUP) change nothing. Then: the pair saw 0 lost
# and 0 duplicated; connector 3's custody reaches a receiver exactly once
# and 3 is deleted after; `gwartctl config show` passes --check-config and
# reloads as no change; a key set by hand makes config show ask for
# --with-keys; the router routed and delivered every message once.
# Args: [COUNT]
. "$GWART_SRC/tests/integration/lib.sh"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
count=$((${1:-20000} * SCALE))
CONN="$GWART_BUILD/bench/gwart-conn"
export GWART_SOCKET="$GW_SOCK"
for i in 1 2 3 4 5 6 4b; do key_file $i >/dev/null; done
K="$TMP/keys"

# conf FILE DEMO_TARGETS NAME2 KEY4 [WITH_3_5] [NAME6 COST6] [TUNABLES] [SESSION_LOG_LEVEL]
# (gwart.config at notice, where a SIGHUP reload's result is logged: the
# tests' EAL --log-level=warning would hide it.)
conf() {
	extra_c='' extra_r=''
	if [ "$5" = old ]; then
		extra_c='{ "id": 3, "name": "cal", "key_file": "'$K'/3.key" },
    { "id": 5, "name": "old", "key_file": "'$K'/5.key" },'
		extra_r='{ "type": "smtp", "pattern": "hold.example", "targets": [ { "connector": 3 } ] },
    { "type": "smtp", "pattern": "old.example", "targets": [ { "connector": 5, "cost": 1 } ] },'
	else
		extra_c='{ "id": 6, "name": "'$6'", "key_file": "'$K'/6.key" },'
		extra_r='{ "type": "smtp", "pattern": "new.example", "targets": [ { "connector": 6, "cost": '$7' } ] },'
	fi
	cat >"$1" <<JSON
{
  "udp_port": 4790,
  "ports": [ { "ip": "$ROUTER" } ],
  "tunables": { ${8:-} },
  "log": { "session": "${9:-info}", "config": "notice" },
  "connectors": [
    $extra_c
    { "id": 1, "name": "mail", "key_file": "$K/1.key" },
    { "id": 2, "name": "$3", "key_file": "$K/2.key" },
    { "id": 4, "name": "notify", "key_file": "$K/$4.key" }
  ],
  "routes": [
    $extra_r
    { "type": "smtp", "pattern": "*.demo.example", "targets": [ $2 ] },
    { "type": "notes", "pattern": "*/O=Demo", "targets": [ { "connector": 1, "cost": 10 } ] }
  ]
}
JSON
}
T2='{ "connector": 2, "cost": 10 }'
T24='{ "connector": 4, "cost": 50 }, { "connector": 2, "cost": 5 }'
conf "$TMP/gwartd.json" "$T2" notes 4 old
conf "$TMP/b.json" "$T24" notes-b 4b new new 1 '"busy_retry_us": 3000' debug
conf "$TMP/c.json" "$T2" notes-c 4 new new2 2 '"busy_retry_us": 2500, "rto_us": 25000' info
"$GWART_BUILD/control/gwartd" --check-config "$TMP/b.json" || fail "b.json invalid"
start_gwartd "$TMP/gwartd.json"

# applied FILE_OR_JSON: the "applied" counts of a reload reply, one line.
applied() {
	python3 -c 'import json,sys
a = json.load(open(sys.argv[1]))["applied"]
print(" ".join("%s=%d" % (k, a[k]) for k in sorted(a)))' "$1"
}
shown() { "$CTL" --json config show --with-keys >"$1" || fail "config show"; }

# 50 messages for connector 3, which is down: they wait in custody.
in_ns "$CONN" send --router $ROUTER --bind $HOST --src-id 1 $(ckey 1) \
	--dest smtp:carol@hold.example --count 50 --timeout 60 --expect acked --label hold \
	>"$TMP/hold.log" 2>&1 || { cat "$TMP/hold.log" >&2; fail "hold: not acknowledged"; }
[ "$(conn_live 3 custody)" -eq 50 ] || fail "connector 3 custody $(conn_live 3 custody), not 50"

in_ns "$CONN" pair --router $ROUTER --bind $HOST --src-id 1 --dst-id 2 $(ckey 1 2) \
	--dest smtp:alice@notes.demo.example --count "$count" --window 1 --timeout 240 \
	--label reload >"$TMP/pair.log" 2>&1 &
pair=$!
# Under way before the first reload.
n=0
until [ "$(conn_live 2 delivered)" -gt 100 ]; do
	n=$((n + 1))
	[ $n -gt 300 ] && { cat "$TMP/pair.log" >&2; fail "the pair did not start"; }
	sleep 0.1
done

# The first reload: adds 6, deletes 5, leaves 3 pending (custody), renames
# 2, re-keys 4, re-targets the pair's route, one tunable.
"$CTL" --json reload "$TMP/b.json" >"$TMP/r1.json" || fail "first reload refused"
got=$(applied "$TMP/r1.json")
echo "first reload: $got"
[ "$got" = "connectors_added=1 connectors_deleted=1 connectors_disabled=0 connectors_enabled=0 connectors_pending=1 connectors_renamed=1 keys_changed=1 log_levels_changed=1 routes_added=1 routes_changed=1 routes_deleted=2 tunables_changed=1" ] ||
	fail "first reload applied: $got"
"$CTL" connectors 5 >/dev/null 2>&1 && fail "connector 5 not deleted"
[ "$(conn_live 3 custody)" -eq 50 ] || fail "connector 3 lost custody"

# Rejected while traffic flows: nothing changes.
shown "$TMP/before.json"
sed 's/"udp_port": 4790/"udp_port": 4791/' "$TMP/c.json" >"$TMP/bad1.json"
sed 's/"busy_retry_us": 2500, "rto_us": 25000/"rto_us": 2000000/' "$TMP/c.json" >"$TMP/bad2.json"
for f in bad1 bad2; do
	rc=0
	"$CTL" reload "$TMP/$f.json" 2>"$TMP/$f.err" || rc=$?
	[ $rc -eq 2 ] || fail "$f: exit $rc, not 2"
	cat "$TMP/$f.err"
done
grep -q "restart-only key(s) changed: udp_port (nothing applied" "$TMP/bad1.err" || fail "bad1 message"
grep -q "tunable rto_us (2000000) must not exceed rto_max_us (1000000) (nothing applied" \
	"$TMP/bad2.err" || fail "bad2 message"
shown "$TMP/after.json"
cmp -s "$TMP/before.json" "$TMP/after.json" || fail "a rejected reload changed the configuration"

# Then alternate c and b until the stream ends: every other one by SIGHUP
# (the --config file rewritten), the others by gwartctl reload.
hups() { grep -c "reload (SIGHUP)" "$TMP/gwartd.log" || true; }
reloads=0
sighups=0
next=c
while kill -0 $pair 2>/dev/null; do
	if [ $((reloads % 2)) -eq 0 ]; then
		h=$(hups)
		cp "$TMP/$next.json" "$TMP/gwartd.json"
		kill -HUP "$GWARTD_PID"
		n=0
		until [ "$(hups)" -gt "$h" ]; do
			n=$((n + 1))
			[ $n -gt 100 ] && fail "no SIGHUP reload logged"
			sleep 0.05
		done
		sighups=$((sighups + 1))
	else
		"$CTL" --json reload "$TMP/$next.json" >"$TMP/rn.json" || fail "reload $next refused"
	fi
	reloads=$((reloads + 1))
	if [ "$next" = c ]; then next=b; else next=c; fi
done
echo "$reloads reloads ($sighups by SIGHUP) while traffic flowed"
grep "reload (SIGHUP)" "$TMP/gwartd.log" | tail -n 2
grep -q "reload (SIGHUP) refused" "$TMP/gwartd.log" && fail "a SIGHUP reload was refused"
[ "$reloads" -ge 4 ] || fail "only $reloads reloads overlapped the traffic"

wait $pair || { cat "$TMP/pair.log" >&2; fail "traffic was harmed by the reloads"; }
cat "$TMP/pair.log"
grep -q "^reload: sent=$count delivered=$count duplicates=0 lost=0 " "$TMP/pair.log" ||
	fail "unexpected pair result"

# A SIGHUP with a broken file: refused, logged, nothing changed.
shown "$TMP/before.json"
cp "$TMP/gwartd.json" "$TMP/good.json"
printf '{ "udp_port": 4790,\n' >"$TMP/gwartd.json"
kill -HUP "$GWARTD_PID"
n=0
until grep -q "reload (SIGHUP) refused: $TMP/gwartd.json: line 2" "$TMP/gwartd.log"; do
	n=$((n + 1))
	[ $n -gt 100 ] && fail "no refused SIGHUP reload logged"
	sleep 0.05
done
shown "$TMP/after.json"
cmp -s "$TMP/before.json" "$TMP/after.json" || fail "a refused SIGHUP changed the configuration"
cp "$TMP/good.json" "$TMP/gwartd.json"

# Connector 3 is still there, its 50 messages kept; a receiver takes them,
# then the pending delete goes through.
"$CTL" connectors 3 >/dev/null || fail "connector 3 deleted with custody"
in_ns "$CONN" recv --router $ROUTER --bind $HOST --id 3 $(ckey 3) --count 50 --timeout 60 \
	--label held >"$TMP/held.log" 2>&1 || { cat "$TMP/held.log" >&2; fail "held: receiver failed"; }
cat "$TMP/held.log"
grep -q "^held: delivered=50 duplicates=0 " "$TMP/held.log" || fail "held: not exactly once"
n=0
while "$CTL" connectors 3 >/dev/null 2>&1; do
	n=$((n + 1))
	[ $n -gt 100 ] && fail "connector 3 not deleted once its custody was delivered"
	sleep 0.1
done

# Round trip: what config show prints, --check-config accepts, and a reload
# of it changes nothing.
"$CTL" config show >"$TMP/shown.json" || fail "config show"
"$GWART_BUILD/control/gwartd" --check-config "$TMP/shown.json" ||
	{ cat "$TMP/shown.json" >&2; fail "config show's output fails --check-config"; }
"$CTL" --json reload "$TMP/shown.json" >"$TMP/rt.json" || fail "reload of config show refused"
got=$(applied "$TMP/rt.json")
echo "round trip: $got"
echo "$got" | grep -Eq '^(connectors|keys|routes|tunables)_[a-z]+=0( [a-z_]+=0)*$' ||
	fail "the round trip changed something: $got"

# A key set by hand (not the one its key_file holds) came from no file:
# config show wants --with-keys.
"$CTL" connector set-key 4 --key "$(key_hex 3)" >/dev/null || fail "set-key"
rc=0
"$CTL" config show >/dev/null 2>"$TMP/show.err" || rc=$?
[ $rc -eq 6 ] || fail "config show with an inline key: exit $rc, not 6"
grep -q "connector 4 (notify) has a key that came from no key_file.*--with-keys" \
	"$TMP/show.err" || fail "config show: $(cat "$TMP/show.err")"
"$CTL" config show --with-keys | grep -q "\"key\": \"$(key_hex 3)\"" ||
	fail "config show --with-keys lacks connector 4's key"

stop_gwartd
python3 - "$TMP/stats.json" "$count" <<'EOF' || fail "router counters"
import json, sys
st = json.load(open(sys.argv[1]))
n = int(sys.argv[2]) + 50
print(f"routed={st['routed']} delivered={st['delivered']} custody_total={st['custody_total']} "
      f"deleted_in_custody={st['control']['deleted_in_custody']}")
ok = st["routed"] == n and st["delivered"] == n
ok &= st["custody_total"] == 0 and st["control"]["deleted_in_custody"] == 0
ok &= sorted(c["id"] for c in st["connectors"]) == [1, 2, 4, 6]
sys.exit(0 if ok else 1)
EOF
echo "PASS($T)"
