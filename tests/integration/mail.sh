#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# it_mail: real mail between two real Postfix servers through gwart.
#
#   mail generator (smtplib, Postfix sendmail, swaks)
#     -> Postfix A (sending MTA, 198.18.1.1:25)
#     -> gwart-smtp ingress (198.18.1.3:2525) -> gwartd (net_tap, 198.18.0.1)
#     -> gwart-smtp egress -> Postfix B (receiving MTA, 198.18.1.2:25)
#     -> Maildir per mailbox
# all inside one network namespace the test creates. Through the run the
# test restarts the ingress connector, the egress connector, kills gwartd
# with SIGKILL and starts it again, and restarts Postfix B, each when a
# given share of the mail has reached B's Maildirs. gwartd is killed twice:
# once holding mail (the egress stopped first: the ingress must send it
# again), once holding receipts (the ingress stopped first: the egress must
# recognise the mail sent again as delivered, not deliver it twice). One message goes to a
# recipient B refuses (550 at RCPT): its bounce must reach the sender's
# Maildir on A. A message larger than the ingress's limit must be refused
# with 552, announced (MAIL FROM SIZE=) and not (at the end of DATA).
# maildir_check.py then requires every message accepted by A exactly once
# in the Maildirs, matched by Message-ID and body SHA-256, and the last
# line is
#   mail: sent=N delivered=N duplicates=N lost=N bounced=N
#
# Environment:
#   GWART_MAIL_COUNT   messages (default 1000, the issue's figure: about
#                      1 min on 2 cores; 200 in direct mode)
#   GWART_MAIL_MAX     largest message in bytes (default 1 MiB; smallest 1 KiB)
#   GWART_MAIL_DIRECT  1 (or the argument "direct": it_mail_direct): A
#                      relays straight to B, no gwart (proves the harness
#                      itself: generator, Postfix pair, restart of B,
#                      bounce, size limit, checker)
#   GWART_MAIL_FAULTS  0: no restarts (the demo's default)
#   GWART_MAIL_WAIT    seconds to wait for the mail to arrive (default 300)
#   GWART_SMTP_BIN     the gwart-smtp to run (default: the build's)
set -eu
. "$GWART_SRC/tests/integration/lib.sh"
. "$GWART_SRC/tests/integration/mail_lib.sh"

pf_have || { echo "SKIP: postfix and swaks are not installed (deploy/setup.sh installs them)"; exit 77; }

MAXSZ=${GWART_MAIL_MAX:-1048576}
DIRECT=${GWART_MAIL_DIRECT:-0}
[ "${1:-}" = direct ] && DIRECT=1
COUNT=${GWART_MAIL_COUNT:-$([ "$DIRECT" = 1 ] && echo 200 || echo 1000)}
FAULTS=${GWART_MAIL_FAULTS:-1}
WAIT=${GWART_MAIL_WAIT:-300}
HERE="$GWART_SRC/tests/integration"
SMTP_BIN=${GWART_SMTP_BIN:-"$GWART_BUILD/connectors/smtp/gwart-smtp"}
A_IP=198.18.1.1
B_IP=198.18.1.2
IN_IP=198.18.1.3
IN_PORT=2525
A="$TMP/pf-a"
# The ingress takes the generator's largest message plus what A adds.
GW_SMTP_LIMIT=${GW_SMTP_LIMIT:-$((MAXSZ + 65536))}
B="$TMP/pf-b"
GEN_PID=""
chmod 755 "$TMP"

if [ "$DIRECT" != 1 ] && [ ! -x "$SMTP_BIN" ]; then
	echo "SKIP: $SMTP_BIN is not built (the gwart path needs the SMTP connectors;" \
		"GWART_MAIL_DIRECT=1 runs the Postfix-to-Postfix harness alone)"
	exit 77
fi

mail_cleanup() {
	[ -n "$GEN_PID" ] && kill "$GEN_PID" 2>/dev/null || true
	type gw_smtp_stop_all >/dev/null 2>&1 && gw_smtp_stop_all
	[ -f "$A/netns" ] && pf_stop "$A"
	[ -f "$B/netns" ] && pf_stop "$B"
	it_cleanup
}
trap mail_cleanup EXIT INT TERM

mail_fail() {
	echo "FAIL(mail): $*" >&2
	for d in "$A" "$B"; do
		[ -f "$d/maillog" ] && { echo "--- $d/maillog" >&2; tail -n 25 "$d/maillog" >&2; }
	done
	for f in "$TMP"/smtp-*.log "$TMP/gen.err"; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -n 25 "$f" >&2; }
	done
	fail "$*"
}

# Copies delivered so far, all mailboxes of B.
delivered_copies() {
	find "$B/mail" -path '*/new/*' -type f 2>/dev/null | wc -l
}

# wait_delivered N: until N copies are in B's Maildirs (or fail).
wait_delivered() {
	i=0
	while [ "$(delivered_copies)" -lt "$1" ]; do
		i=$((i + 1))
		[ $i -gt $((WAIT * 2)) ] && mail_fail "only $(delivered_copies) of $1 copies arrived in ${WAIT}s" \
			"(queue A $(pf_queue_len "$A"), B $(pf_queue_len "$B"))"
		sleep 0.5
	done
}

gw_netns_create "$NS"
mail_addrs "$NS" "$A_IP" "$B_IP" "$IN_IP"
if [ "$DIRECT" = 1 ]; then
	NEXTHOP="[$B_IP]:25"
else
	gw_mail_start
	NEXTHOP="[$IN_IP]:$IN_PORT"
fi

# B takes somewhat more than the generator's largest message (A's and the
# connectors' trace headers); the size probe in direct mode runs against B.
PF_SIZE_LIMIT=$((MAXSZ + 65536))
pf_write "$B" "$NS" "$B_IP" receiver
pf_write "$A" "$NS" "$A_IP" sender "$NEXTHOP"
t0=$(date +%s)
pf_start "$B" || mail_fail "Postfix B did not start"
pf_start "$A" || mail_fail "Postfix A did not start"
echo "mail: two Postfix instances up in $(($(date +%s) - t0))s; $COUNT messages," \
	"1024..$MAXSZ bytes, $([ "$DIRECT" = 1 ] && echo "A -> B directly" || echo "A -> gwart -> B")"

rcpts=""
for u in $MAIL_USERS; do rcpts="$rcpts${rcpts:+,}$u@$MAIL_DOMAIN"; done
in_ns python3 "$HERE/mail_gen.py" --count "$COUNT" --max "$MAXSZ" --run "$$" \
	--server "$A_IP:25" --from "$MAIL_SENDER" --to "$rcpts" --reject "$MAIL_REJECT" \
	--sendmail "/usr/sbin/sendmail -C $A/etc" --swaks swaks --tmp "$TMP" \
	--manifest "$TMP/manifest" --progress "$TMP/progress" >"$TMP/gen.out" 2>"$TMP/gen.err" &
GEN_PID=$!

# The faults, each once a share of the mail has arrived (so each hits a
# run in full flow: A's queue still holds what the generator gave it).
fault_at() {
	wait_delivered $((COUNT * $1 / 100))
	echo "mail: $(delivered_copies) copies delivered: $2"
}
if [ "$FAULTS" = 1 ]; then
	if [ "$DIRECT" != 1 ]; then
		fault_at 15 "restarting the ingress connector"
		gw_smtp_restart ingress
		fault_at 30 "restarting the egress connector"
		gw_smtp_restart egress
		fault_at 40 "kill -9 gwartd holding mail, starting it again"
		gw_mail_kill_gwartd
		fault_at 50 "kill -9 gwartd holding receipts, starting it again"
		gw_mail_kill_gwartd_receipts
	fi
	fault_at 60 "restarting Postfix B"
	pf_drain_stop "$B"
	sleep 2
	pf_start "$B" || mail_fail "Postfix B did not start again"
	pf_flush "$A"
fi

rc=0
wait "$GEN_PID" || rc=$?
GEN_PID=""
cat "$TMP/gen.out"
[ $rc -eq 0 ] || mail_fail "the generator failed (rc=$rc): $(tail -n 3 "$TMP/gen.err")"

set +e
python3 "$HERE/maildir_check.py" --manifest "$TMP/manifest" --maildirs "$B/mail" \
	--bounces "$A/mail/sender" --wait "$WAIT" >"$TMP/check.out" 2>&1
crc=$?
set -e
pf_wait_empty "$A" 30 || echo "mail: A's queue still holds $(pf_queue_len "$A") messages"

# Larger than the limit: 552 at MAIL FROM SIZE= and at the end of DATA.
if [ "$DIRECT" = 1 ]; then
	probe="$B_IP:25" limit=$PF_SIZE_LIMIT
else
	probe="$IN_IP:$IN_PORT" limit=$GW_SMTP_LIMIT
fi
in_ns python3 "$HERE/mail_gen.py" --probe-size $((limit + 4096)) --server "$probe" \
	--from "$MAIL_SENDER" --to "u1@$MAIL_DOMAIN" >"$TMP/probe.out" 2>&1 ||
	{ cat "$TMP/probe.out"; mail_fail "a message over the limit was not refused with 552"; }
sed 's/^mail_gen: /mail: size limit: /' "$TMP/probe.out"
grep -q "^mail_gen: SIZE advertised: $limit\$" "$TMP/probe.out" ||
	mail_fail "EHLO did not advertise SIZE $limit"

[ "$DIRECT" = 1 ] || gw_mail_report
if [ $crc -ne 0 ]; then
	cat "$TMP/check.out" >&2
	mail_fail "maildir_check: $(tail -n 1 "$TMP/check.out")"
fi
cat "$TMP/check.out"
