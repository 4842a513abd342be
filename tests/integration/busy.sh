#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Guarantee 2: custody is bounded. The destination connects only after the
# origin has filled its custody queue (limit 64), so the router answers BUSY;
# once the destination drains the queue every retried message arrives exactly
# once and nothing acknowledged is lost.
. "$GWART_SRC/tests/integration/lib.sh"

start_gwartd "$(write_config '"custody_limit": 64, "busy_retry_us": 20000')"
in_ns "$GWART_BUILD/bench/gwart-conn" pair --router $ROUTER --bind $HOST --src-id 1 --dst-id 2 \
	$(ckey 1 2) --dest smtp:dave@x.demo.example --count 5000 --dst-delay 2 --timeout 120 --label busy \
	>"$TMP/conn.log" 2>&1 || { cat "$TMP/conn.log"; fail "loss, duplication or timeout"; }
cat "$TMP/conn.log"
grep -q '^busy: sent=5000 delivered=5000 duplicates=0 lost=0 ' "$TMP/conn.log" ||
	fail "unexpected result"
stop_gwartd
busy=$(stat drops.BUSY)
echo "router: BUSY refusals=$busy"
[ "$busy" -gt 0 ] || fail "custody limit never reached"
[ "$(stat routed)" -eq 5000 ] || fail "routed $(stat routed) != 5000"
echo "PASS($T)"
