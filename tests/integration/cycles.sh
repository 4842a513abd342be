#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Q199817 (session handles leak until the server fails): 10,000 connector
# open/close cycles (x GWART_SOAK_SCALE), each a full HELLO/WELCOME and BYE,
# on two connectors at once. Afterwards the live gwartd's gauges, read
# through gwartctl, are back to their baseline exactly: sessions up, open
# file descriptors, mbufs in use; every session opened was closed; and the
# connector process's own descriptors are back where they were.
. "$GWART_SRC/tests/integration/lib.sh"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

count=$((${1:-10000} * SCALE))

cfg=$(write_config '"backoff_initial_ms": 100')
start_gwartd "$cfg"

GAUGES="sessions_up_now open_fds mempool_in_use"
# The tap's own start-up traffic (router solicitations) settles first.
sleep 1
base=$(live $GAUGES)
ups0=$(live control.sessions_up)
echo "baseline: $GAUGES = $base"

in_ns "$GWART_BUILD/bench/gwart-conn" cycles --router $ROUTER --bind $HOST --id 3 $(ckey 3 4) \
	--parallel 2 --count "$count" --payload 64 --backoff-initial-ms 100 --label cycles \
	>"$TMP/cycles.log" 2>&1 || { cat "$TMP/cycles.log" >&2; fail "cycles failed"; }
cat "$TMP/cycles.log"
grep -q "^cycles: cycles=$count failed=0 " "$TMP/cycles.log" || fail "not every cycle completed"
fds=$(sed -n 's/.* fds_before=\([0-9]*\) fds_after=\([0-9]*\) .*/\1 \2/p' "$TMP/cycles.log")
set -- $fds
[ "$1" = "$2" ] || fail "the connector process's fds went from $1 to $2"

# Each BYE closes its session at once; allow the control thread a moment
# (and a probe mbuf in flight) before requiring the exact baseline.
i=0
while now=$(live $GAUGES) && [ "$now" != "$base" ]; do
	i=$((i + 1))
	[ $i -gt 50 ] && fail "gauges $GAUGES: $now, baseline $base"
	sleep 0.1
done
echo "after:    $GAUGES = $now"
set -- $(live control.sessions_up control.sessions_down control.welcomes control.probes)
opened=$(($1 - ups0))
echo "router: sessions opened=$opened up=$1 down=$2 welcomes=$3 probes=$4"
[ "$opened" -ge "$count" ] || fail "only $opened sessions opened for $count cycles"
[ "$1" -eq "$2" ] || fail "sessions_up $1 != sessions_down $2"

stop_gwartd
[ "$(stat control.sessions_up)" -eq "$(stat control.sessions_down)" ] ||
	fail "at exit: sessions_up != sessions_down"
echo "PASS($T)"
