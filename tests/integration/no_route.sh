#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# A destination without a route gets NACK NO_ROUTE for every message, each
# counted once by reason at the router; routed traffic is unaffected.
. "$GWART_SRC/tests/integration/lib.sh"

start_gwartd "$(write_config)"
in_ns "$GWART_BUILD/bench/gwart-conn" send --router $ROUTER --bind $HOST --src-id 3 $(ckey 3) \
	--dest smtp:bob@unrouted.example --count 500 --timeout 30 >"$TMP/send.log" 2>&1 || true
cat "$TMP/send.log"
grep -Eq 'NO_ROUTE=500\b' "$TMP/send.log" || fail "sender did not see 500 NO_ROUTE NACKs"
grep -Eq 'acked=0\b' "$TMP/send.log" || fail "a message without a route was acknowledged"

in_ns "$GWART_BUILD/bench/gwart-conn" pair --router $ROUTER --bind $HOST --src-id 1 --dst-id 2 \
	$(ckey 1 2) --dest smtp:carol@x.demo.example --count 2000 --timeout 60 --label routed \
	>"$TMP/pair.log" 2>&1 || { cat "$TMP/pair.log"; fail "routed traffic failed"; }
stop_gwartd
[ "$(stat drops.NO_ROUTE)" -eq 500 ] || fail "NO_ROUTE drops $(stat drops.NO_ROUTE) != 500"
[ "$(conn_stat 3 nacked)" -eq 500 ] || fail "connector 3 nacked $(conn_stat 3 nacked) != 500"
[ "$(stat routed)" -eq 2000 ] || fail "routed $(stat routed) != 2000"
echo "PASS($T)"
