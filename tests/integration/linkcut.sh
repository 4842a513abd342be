#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Guarantee 4 (sessions heal themselves) through a link outage: both
# connectors of a paced stream sit behind fault relays whose links are cut
# (100 % loss both ways) for 2 s, more than three times the failure
# detection time (keepalive 200 ms x 3), then healed. The router must see
# both sessions go down, probe them, and see them come back without any
# command; the SDK must report the loss and reconnect with its backoff; and
# every message must arrive exactly once.
. "$GWART_SRC/tests/integration/lib.sh"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

count=$((${1:-40000} * SCALE))
rate=10000 # msg/s: the cut falls in the middle of the stream
CUT="$TMP/cut"

cfg=$(write_config '"keepalive_ms": 200, "keepalive_mult": 3, "backoff_initial_ms": 100')
start_gwartd "$cfg"

# wait_up N SECONDS: until the router has N sessions up.
wait_up() {
	i=0
	until [ "$(live sessions_up_now)" = "$1" ]; do
		i=$((i + 1))
		[ $i -gt $(($2 * 10)) ] && fail "sessions up: $(live sessions_up_now), expected $1"
		sleep 0.1
	done
}

for p in 7001 7002; do
	in_ns "$GWART_BUILD/tests/tools/gwart-faultlink" --listen $HOST:$p \
		--upstream $ROUTER:4790 --seed $p --cut-file "$CUT" >"$TMP/fl$p.log" 2>&1 &
done
sleep 0.3

ip netns exec "$NS" "$GWART_BUILD/bench/gwart-conn" pair --router $ROUTER --bind $HOST \
	--via-src $HOST:7001 --via-dst $HOST:7002 --src-id 1 --dst-id 2 \
	--dest smtp:alice@notes.demo.example --count "$count" --rate $rate --payload 64 \
	--backoff-initial-ms 100 --timeout 120 --label linkcut >"$TMP/conn.log" 2>&1 &
PAIR=$!

wait_up 2 10
sleep 1
set -- $(live control.sessions_up control.sessions_down control.probes)
up0=$1 down0=$2 probes0=$3
echo "before the cut: sessions_up=$up0 sessions_down=$down0 probes=$probes0"

touch "$CUT"
sleep 2
set -- $(live sessions_up_now control.sessions_down control.probes)
echo "cut for 2 s:    sessions_up_now=$1 sessions_down=$2 probes=$3"
[ "$1" -eq 0 ] || fail "router: $1 session(s) still up after 2 s of silence"
[ "$2" -ge $((down0 + 2)) ] || fail "router: sessions_down $2, expected >= $((down0 + 2))"
[ "$3" -gt "$probes0" ] || fail "router: no reconnection probe during the cut"

rm -f "$CUT"
t0=$(date +%s%N)
wait_up 2 10
t1=$(date +%s%N)
set -- $(live control.sessions_up)
echo "healed:         both sessions up again after $(((t1 - t0) / 1000000)) ms, sessions_up=$1"
[ "$1" -ge $((up0 + 2)) ] || fail "router: sessions_up $1, expected >= $((up0 + 2))"

rc=0
wait $PAIR || rc=$?
cat "$TMP/conn.log"
[ $rc -eq 0 ] || fail "connectors reported loss, duplication or timeout"
grep -q "^linkcut: sent=$count delivered=$count duplicates=0 lost=0 " "$TMP/conn.log" ||
	fail "unexpected result: $(grep '^linkcut: sent=' "$TMP/conn.log")"
for role in src dst; do
	line=$(grep "^linkcut: $role session " "$TMP/conn.log") || fail "no $role session line"
	echo "$line" | grep -Eq ' losses=[1-9][0-9]* timeout=[1-9]' ||
		fail "$role: the SDK did not see the session lost by timeout: $line"
	echo "$line" | grep -Eq ' sessions=([2-9]|[1-9][0-9]+) ' ||
		fail "$role: the SDK did not reconnect: $line"
done

stop_gwartd
echo "router at exit: sessions_up=$(stat control.sessions_up)" \
	"sessions_down=$(stat control.sessions_down) probes=$(stat control.probes)" \
	"routed=$(stat routed)"
[ "$(stat routed)" -eq "$count" ] || fail "router routed $(stat routed), expected $count"
echo "PASS($T)"
