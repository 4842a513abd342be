#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The demo: install and build what is missing, start gwartd on its embedded
# default (net_tap port gw0, demo connectors) inside a network namespace of
# its own, push messages between two SDK connectors through it over the
# Linux stack, stop everything, and end with one line:
#   demo: sent=N delivered=N duplicates=N lost=N rate=R msg/s
# Exit status is non-zero if anything was lost or duplicated.
#   GWART_DEMO_COUNT (default 100000), GWART_DEMO_PAYLOAD (default 64)
#
# sh deploy/demo.sh mail: real mail instead, between two Postfix instances
# of the demo's own (tests/integration/mail.sh with fewer messages and no
# restarts): Postfix A -> gwart-smtp ingress -> gwartd -> gwart-smtp egress
# -> Postfix B -> Maildir, one message to a recipient B refuses (its bounce
# comes back to the sender), and one line at the end:
#   mail: sent=N delivered=N duplicates=N lost=N bounced=N
# non-zero exit if anything was lost or duplicated.
#   GWART_DEMO_MAIL_COUNT (default 100), GWART_DEMO_MAIL_FAULTS (default 0;
#   1: the test's restarts of each connector, gwartd and Postfix B as well)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${GWART_BUILD:-"$here/build"}
count=${GWART_DEMO_COUNT:-100000}
payload=${GWART_DEMO_PAYLOAD:-64}
mode=${1:-}
case "$mode" in
"" | mail) ;;
*) echo "usage: sh deploy/demo.sh [mail]" >&2; exit 2 ;;
esac

"$here/deploy/setup.sh" "$build"

if [ "$mode" = mail ]; then
	mcount=${GWART_DEMO_MAIL_COUNT:-100}
	out=$(mktemp)
	trap 'rm -f "$out"' EXIT INT TERM
	set +e
	GWART_BUILD="$build" GWART_SRC="$here" GWART_MAIL_COUNT="$mcount" \
		GWART_MAIL_FAULTS="${GWART_DEMO_MAIL_FAULTS:-0}" \
		sh "$here/tests/integration/mail.sh" >"$out" 2>&1
	rc=$?
	set -e
	grep -v '^mail: sent=' "$out" || true
	line=$(grep '^mail: sent=' "$out" | tail -n 1 || true)
	if [ -z "$line" ]; then
		echo "mail: sent=0 delivered=0 duplicates=0 lost=0 bounced=0 (the mail path failed, rc=$rc)"
		exit 1
	fi
	echo "$line"
	[ $rc -eq 0 ] || exit 1
	exit 0
fi
. "$here/deploy/netns.sh"

ns="gwart-demo-$$"
tmp=$(mktemp -d)
gw_pid=""
cleanup() {
	[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null || true
	gw_netns_destroy "$ns"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

gw_netns_create "$ns"
# gwartd with no arguments runs the embedded default; the tap interface it
# creates lives in this namespace only. Protocol version 2: it draws the
# demo connectors' key at start-up and, told where by GWART_DEMO_KEY_FILE,
# writes it there (mode 0600, never printed) for the connectors below.
GWART_DEMO_KEY_FILE="$tmp/demo.key" ip netns exec "$ns" "$build/control/gwartd" \
	>"$tmp/gwartd.log" 2>&1 &
gw_pid=$!
if ! gw_wait_link "$ns" gw0 30; then
	cat "$tmp/gwartd.log" >&2
	echo "demo: gwartd did not create gw0" >&2
	exit 1
fi
ip -n "$ns" addr add 198.18.0.2/24 dev gw0
ip -n "$ns" link set gw0 up
i=0
until grep -q running "$tmp/gwartd.log"; do
	i=$((i + 1))
	if [ $i -gt 300 ] || ! kill -0 "$gw_pid" 2>/dev/null; then
		cat "$tmp/gwartd.log" >&2
		echo "demo: gwartd did not start" >&2
		exit 1
	fi
	sleep 0.1
done
head -n 1 "$tmp/gwartd.log"

set +e
ip netns exec "$ns" "$build/bench/gwart-conn" pair --router 198.18.0.1 --bind 198.18.0.2 \
	--src-id 1 --dst-id 2 --key-file "$tmp/demo.key" --dest smtp:user@notes.demo.example \
	--count "$count" --payload "$payload" --timeout 120 --label demo >"$tmp/conn.log" 2>&1
rc=$?
set -e

kill -TERM "$gw_pid"
wait "$gw_pid" || true
gw_pid=""
# What the router says it routed, then the connectors' verdict last.
grep -E '^gwartd: (rx_pkts|connector|drop)' "$tmp/gwartd.log" || true
# The connectors' counters, then their verdict as the one last line.
grep -v '^demo: sent=' "$tmp/conn.log" | sed 's/^demo: /connectors: /' || true
line=$(grep '^demo: sent=' "$tmp/conn.log" | tail -n 1 || true)
if [ -z "$line" ]; then
	echo "demo: sent=0 delivered=0 duplicates=0 lost=0 rate=0 msg/s (connectors failed, rc=$rc)"
	exit 1
fi
echo "$line"
exit $rc
