#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# systemd notification (control/notify.c) against a stand-in notification
# socket (notify.py): READY=1 and a STATUS= line once gwartd runs, WATCHDOG=1
# pings at half of $WATCHDOG_USEC, none while a worker is parked by the
# test-only tunable test_stall, pings again once it runs, and STOPPING=1
# and a clean exit on SIGTERM. Timing is generous (2 loaded cores): only
# "some pings" and "no ping over a window" are asserted, never a rate.
. "$GWART_SRC/tests/integration/lib.sh"

NLOG="$TMP/notify.log"
python3 "$GWART_SRC/tests/integration/notify.py" "$TMP/notify.sock" "$NLOG" &
NPID=$!
trap 'kill $NPID 2>/dev/null || true; it_cleanup' EXIT INT TERM
i=0
until [ -f "$NLOG.bound" ]; do
	i=$((i + 1))
	[ $i -gt 300 ] && fail "notify.py did not bind"
	sleep 0.1
done
touch "$NLOG"

pings() { grep -c '^WATCHDOG=1$' "$NLOG" || true; }
# wait_for PATTERN SECONDS: until a line of the notification log matches.
wait_for() {
	i=0
	until grep -Eq -- "$1" "$NLOG"; do
		i=$((i + 1))
		[ $i -gt $(($2 * 10)) ] && { cat "$NLOG" >&2; fail "no notification /$1/ in $2 s"; }
		sleep 0.1
	done
}
# wait_pings N SECONDS: until at least N pings in all.
wait_pings() {
	i=0
	until [ "$(pings)" -ge "$1" ]; do
		i=$((i + 1))
		[ $i -gt $(($2 * 10)) ] && { cat "$NLOG" >&2; fail "only $(pings) ping(s), expected $1 in $2 s"; }
		sleep 0.1
	done
}

# Watchdog of 2 s: a ping (or its check) every second. test_stall is
# test-only: gwartd allows it with --test-hooks alone.
export NOTIFY_SOCKET="$TMP/notify.sock" WATCHDOG_USEC=2000000
GWARTD_ARGS=--test-hooks
start_gwartd "$(write_config)"
unset NOTIFY_SOCKET WATCHDOG_USEC GWARTD_ARGS

wait_for '^READY=1$' 30
wait_for '^STATUS=routing: [0-9]+ connectors, [0-9]+ sessions$' 30
# READY only once ports, workers and the socket are up: the socket answers.
"$CTL" --socket "$GW_SOCK" status >/dev/null || fail "READY=1 before the control socket"
wait_pings 3 60

# Park the only worker: after the in-flight check, pings must stop.
"$CTL" --socket "$GW_SOCK" set test_stall 1 >/dev/null || fail "set test_stall 1"
sleep 3
n=$(pings)
sleep 6
[ "$(pings)" -eq "$n" ] || fail "$(($(pings) - n)) ping(s) while the worker was stalled"

# Running again: pings resume.
"$CTL" --socket "$GW_SOCK" set test_stall 0 >/dev/null || fail "set test_stall 0"
wait_pings $((n + 2)) 60

stop_gwartd
wait_for '^STOPPING=1$' 10
grep -q '^STATUS=stopped' "$NLOG" || { cat "$NLOG" >&2; fail "no final STATUS= line"; }
# Nothing after STOPPING=1 but STATUS= lines.
sed -n '/^STOPPING=1$/,$p' "$NLOG" | grep -v '^STOPPING=1$' | grep -qv '^STATUS=' &&
	fail "notifications after STOPPING=1: $(sed -n '/^STOPPING=1$/,$p' "$NLOG")"
echo "PASS($T): READY, STATUS, $(pings) ping(s), none while stalled, STOPPING"
