#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Guarantee 1 through a faulty link: 100,000 messages (x GWART_SOAK_SCALE)
# between two connectors, each behind a seeded fault-injecting relay that
# drops, duplicates, reorders and delays in both directions. The receiver
# must see every acknowledged message exactly once, and the router must
# report duplicates it suppressed (the relay's duplicates reach it).
# Args: [LCORES] (e.g. "0@0,1@1,2@1" for two workers, both directions handed off)
. "$GWART_SRC/tests/integration/lib.sh"
lcores=${1:-0-1}
count=$((${2:-100000} * SCALE))

start_gwartd "$(write_config)" "$lcores"
faults="--drop-up 3 --dup-up 3 --reorder-up 3 --delay-up-us 200 --drop-down 3 --dup-down 3 --reorder-down 3 --delay-down-us 200"
in_ns "$GWART_BUILD/tests/tools/gwart-faultlink" --listen $HOST:7001 --upstream $ROUTER:4790 \
	--seed 11 $faults >"$TMP/fl1.log" 2>&1 &
in_ns "$GWART_BUILD/tests/tools/gwart-faultlink" --listen $HOST:7002 --upstream $ROUTER:4790 \
	--seed 22 $faults >"$TMP/fl2.log" 2>&1 &
sleep 0.3

in_ns "$GWART_BUILD/bench/gwart-conn" pair --router $ROUTER --bind $HOST \
	--via-src $HOST:7001 --via-dst $HOST:7002 --src-id 1 --dst-id 2 \
	$(ckey 1 2) --dest smtp:alice@notes.demo.example --count "$count" --payload 64 \
	--timeout 240 --label exactly_once >"$TMP/conn.log" 2>&1 || {
	cat "$TMP/conn.log" >&2
	fail "connectors reported loss, duplication or timeout"
}
cat "$TMP/conn.log"
line=$(grep '^exactly_once:' "$TMP/conn.log")
echo "$line" | grep -q " sent=$count delivered=$count duplicates=0 lost=0 " ||
	fail "unexpected result: $line"

stop_gwartd
dups=$(stat dups_suppressed)
retx=$(stat retransmits)
routed=$(stat routed)
echo "router: routed=$routed dups_suppressed=$dups retransmits=$retx"
[ "$routed" -eq "$count" ] || fail "router routed $routed, expected $count"
[ "$dups" -gt 0 ] || fail "router suppressed no duplicates: the fault link did not bite"
[ "$retx" -gt 0 ] || fail "router retransmitted nothing despite downstream loss"
if [ "$lcores" != 0-1 ]; then
	# Several workers: the origin and the destination have different
	# owners, so every message crossed a hand-off ring.
	ho=$(stat handoffs)
	echo "router: handoffs=$ho steered=$(stat steered)"
	[ "$ho" -gt 0 ] || fail "no message crossed workers"
fi
echo "PASS($T)"
