#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# it_smtp_smoke: gwart-smtp end to end, without Postfix.
#
#   swaks -> gwart-smtp ingress (id 1, 127.0.0.1:2525) -> gwartd
#         -> gwart-smtp egress (id 2) -> smtp_sink.py (next hop, 127.0.0.1:2626)
#   receipts egress -> gwartd -> ingress; bounces ingress -> smtp_sink.py
#   (bounce relay, 127.0.0.1:2627)
#
# Checks: every mail answered 250 reaches the next hop exactly once (by
# Message-ID and recipient), a mail to two domains goes as two groups, the
# next hop's first two 451s are retried, a recipient the next hop refuses
# (550) comes back as one bounce from the null sender, a mail above
# --max-message is refused 552 (SIZE= and at DATA); with the egress
# stopped, three mails answered 250 and then gwartd and the ingress killed
# (SIGKILL), the restarted ingress sends its spool again and each mail is
# delivered once; those spool entries put back (receipts "lost") are sent
# again and suppressed by the egress's delivered-Id log, their receipts
# sent again; --spool-entries and --max-sessions refuse 452 4.3.1 and 421,
# counted. Both spools end empty; both processes end on SIGTERM with their
# final counters line.
set -eu
. "$GWART_SRC/tests/integration/lib.sh"

command -v swaks >/dev/null || { echo "SKIP: swaks is not installed"; exit 77; }
SMTP="$GWART_BUILD/connectors/smtp/gwart-smtp"
SINK="$GWART_SRC/tests/integration/smtp_sink.py"
[ -x "$SMTP" ] || { echo "SKIP: $SMTP not built"; exit 77; }
N=${GWART_SMTP_SMOKE_N:-20}
IN_PID="" EG_PID="" HOP_PID="" BNC_PID=""

smoke_cleanup() {
	for p in $IN_PID $EG_PID $HOP_PID $BNC_PID; do kill -9 "$p" 2>/dev/null || true; done
	it_cleanup
}
trap smoke_cleanup EXIT INT TERM

# restart_gwartd: start_gwartd's command again in the existing namespace
# (after a SIGKILL: its custody is gone).
restart_gwartd() {
	ip netns exec "$NS" "$GWART_BUILD/control/gwartd" --lcores=0-1 --no-huge -m 512 --no-shconf \
		--no-pci --file-prefix="$NS" --log-level=warning --vdev="net_tap0,iface=$TAP" \
		-- --config "$TMP/gwartd.json" --socket "$GW_SOCK" --stats-file "$TMP/stats.json" \
		>"$TMP/gwartd.log" 2>&1 &
	GWARTD_PID=$!
	gw_wait_link "$NS" "$TAP" 30 || sfail "gwartd did not create $TAP again"
	ip -n "$NS" addr add "$HOST/24" dev "$TAP"
	ip -n "$NS" link set "$TAP" up
	i=0
	until grep -q running "$TMP/gwartd.log"; do
		i=$((i + 1))
		[ $i -gt 300 ] && sfail "gwartd did not start again"
		sleep 0.1
	done
}

sfail() {
	for f in in eg; do
		[ -f "$TMP/$f.log" ] && { echo "--- $f log" >&2; tail -n 20 "$TMP/$f.log" >&2; }
	done
	fail "$@"
}

cat >"$TMP/gwartd.json" <<JSON
{
  "udp_port": 4790,
  "ports": [ { "ip": "$ROUTER" } ],
  "connectors": [ { "id": 1, "name": "smtp-in" }, { "id": 2, "name": "smtp-out" } ],
  "routes": [
    { "type": "smtp", "pattern": "*", "targets": [ { "connector": 2, "cost": 10 } ] },
    { "type": "smtp-receipt", "pattern": "1", "targets": [ { "connector": 1, "cost": 10 } ] }
  ]
}
JSON
add_keys "$TMP/gwartd.json"
start_gwartd "$TMP/gwartd.json"

ip netns exec "$NS" python3 "$SINK" --listen 127.0.0.1:2626 --dir "$TMP/hop" --tempfail-first 2 \
	>"$TMP/hop.log" 2>&1 &
HOP_PID=$!
ip netns exec "$NS" python3 "$SINK" --listen 127.0.0.1:2627 --dir "$TMP/bounce" >"$TMP/bounce.log" 2>&1 &
BNC_PID=$!

start_eg() {
	ip netns exec "$NS" "$SMTP" --id 2 --key-file "$(key_file 2)" --router "$ROUTER" --mode egress \
		--next-hop 127.0.0.1:2626 --spool "$TMP/eg" --name egress.test \
		--stats-file "$TMP/eg.json" --retry-s 1 --retry-max-s 2 >>"$TMP/eg.log" 2>&1 &
	EG_PID=$!
}
start_in() {
	ip netns exec "$NS" "$SMTP" --id 1 --key-file "$(key_file 1)" --router "$ROUTER" --mode ingress \
		--listen 127.0.0.1:2525 --bounce-relay 127.0.0.1:2627 --spool "$TMP/in" \
		--name ingress.test --max-message 65536 --resend-s 3 --retry-s 1 \
		--stats-file "$TMP/in.json" ${IN_EXTRA:-} >>"$TMP/in.log" 2>&1 &
	IN_PID=$!
}

# jget FILE KEY.PATH: a number from a gwart-smtp stats file (0 if absent).
jget() {
	python3 -c 'import json,sys
try:
    d=json.load(open(sys.argv[1]))
    for k in sys.argv[2].split("."): d=d[k]
    print(d)
except Exception: print(0)' "$1" "$2"
}

wait_up() {
	i=0
	until [ "$(jget "$TMP/$1.json" gwart.up)" = 1 ]; do
		i=$((i + 1))
		[ $i -gt 200 ] && sfail "$1 did not come up"
		sleep 0.1
	done
}

# send I RCPTS [SWAKS ARGS...]: one mail, must be answered 250.
send() {
	i=$1 to=$2
	shift 2
	in_ns swaks --server 127.0.0.1:2525 --from "sender@src.example" --to "$to" \
		--header "Message-ID: <smoke-$i@test>" --header "Subject: smoke $i" \
		--body "smoke body $i" "$@" >"$TMP/swaks.$i" 2>&1 ||
		sfail "mail $i not accepted: $(grep -E '^ *<~?\*? *[45]' "$TMP/swaks.$i" | tail -n 1)"
	grep -q "<- *250 2.0.0 Ok: queued as 1\." "$TMP/swaks.$i" || sfail "mail $i: no 250 with its Id"
}

# copies MSGID RCPT: how many times the next hop received it for RCPT.
copies() {
	grep -l "^Message-ID: <$1@test>" "$TMP"/hop/*.eml 2>/dev/null |
		xargs -r grep -l "^X-Sink-To: .*$2" | wc -l
}

wait_files() {
	dir=$1 want=$2 i=0
	until [ "$(ls "$dir" 2>/dev/null | grep -c '\.eml$')" -ge "$want" ]; do
		i=$((i + 1))
		[ $i -gt 600 ] && sfail "$dir: $(ls "$dir" 2>/dev/null | grep -c '\.eml$') of $want mails"
		sleep 0.1
	done
}

start_eg
start_in
wait_up eg
wait_up in

# 1. N mails, one recipient each; the next hop's first two 451s retried.
for i in $(seq 1 "$N"); do send "$i" "u$i@dst.example"; done
# 2. Two domains: two groups, two deliveries.
send two "a@dst.example,b@other.example"
# 3. Refused by the next hop: a bounce to the sender.
send rej "reject@dst.example"
wait_files "$TMP/hop" $((N + 2))
wait_files "$TMP/bounce" 1
for i in $(seq 1 "$N"); do
	c=$(copies "smoke-$i" "u$i@dst.example")
	[ "$c" = 1 ] || sfail "mail $i delivered $c times"
done
[ "$(copies smoke-two a@dst.example)" = 1 ] || sfail "group dst.example not delivered once"
[ "$(copies smoke-two b@other.example)" = 1 ] || sfail "group other.example not delivered once"
b=$(ls "$TMP"/bounce/*.eml)
tr -d '\r' <"$b" | grep -q '^X-Sink-From: *$' || sfail "the bounce is not from the null sender"
grep -q "^X-Sink-To: sender@src.example" "$b" || sfail "the bounce is not to the sender"
grep -q "reject@dst.example" "$b" || sfail "the bounce does not name the recipient"
grep -q "550" "$b" || sfail "the bounce does not give the next hop's code"
[ "$(jget "$TMP/eg.json" egress.rcpts_deferred)" -ge 2 ] || sfail "the 451s were not seen"

# 4. Too big: 552 at MAIL FROM SIZE= and at the end of DATA.
head -c 70000 /dev/zero | tr '\0' 'x' | fold -w 76 >"$TMP/big.txt"
in_ns swaks --server 127.0.0.1:2525 --from sender@src.example --to big@dst.example \
	--body "$TMP/big.txt" >"$TMP/swaks.big" 2>&1 && sfail "a mail over --max-message was taken"
grep -q "552 5.3.4" "$TMP/swaks.big" || sfail "the big mail was not refused with 552 5.3.4"
in_ns python3 - <<'EOF' || sfail "MAIL FROM SIZE= above the limit not refused with 552"
import smtplib
s = smtplib.SMTP("127.0.0.1", 2525)
s.ehlo("probe")
code, _ = s.mail("sender@src.example", ["SIZE=999999"])
raise SystemExit(0 if code == 552 else 1)
EOF

# 5. Custody through a gwartd crash: egress stopped, three mails answered
# 250 (the router holds them), gwartd and the ingress killed (SIGKILL):
# the router's copies are gone, the restarted ingress sends its spool
# again (same Ids), each delivered once.
kill -TERM "$EG_PID"
wait "$EG_PID" || sfail "egress did not exit cleanly"
EG_PID=""
grep -q "gwart-smtp: final: id=2" "$TMP/eg.log" || sfail "egress printed no final line"
for i in k1 k2 k3; do send "$i" "$i@dst.example"; done
kill -9 "$IN_PID" "$GWARTD_PID"
wait "$IN_PID" 2>/dev/null || true
wait "$GWARTD_PID" 2>/dev/null || true
IN_PID="" GWARTD_PID=""
[ "$(ls "$TMP"/in/ingress | grep -c '\.mail$')" = 3 ] || sfail "the ingress spool does not hold the 3 mails"
mkdir "$TMP/replay"
cp "$TMP"/in/ingress/*.mail "$TMP"/in/ingress/*.state "$TMP/replay/"
restart_gwartd
start_in
start_eg
wait_files "$TMP/hop" $((N + 5))
for i in k1 k2 k3; do
	c=$(copies "smoke-$i" "$i@dst.example")
	[ "$c" = 1 ] || sfail "mail $i delivered $c times through the gwartd crash"
done
wait_empty() {
	i=0
	until [ "$(ls "$1" | grep -c '\.mail$')" = 0 ]; do
		i=$((i + 1))
		[ $i -gt 300 ] && sfail "$1 did not empty"
		sleep 0.1
	done
}
wait_empty "$TMP/in/ingress"
wait_empty "$TMP/eg/egress"

# 6. The same Ids once more (the spool entries of step 5 put back, as if
# their receipts had been lost): the egress suppresses them (its
# delivered-Id log) and sends the receipts again; the ingress empties.
kill -TERM "$IN_PID"
wait "$IN_PID" || sfail "ingress did not exit cleanly"
cp "$TMP"/replay/* "$TMP/in/ingress/"
start_in
wait_empty "$TMP/in/ingress"
for i in k1 k2 k3; do
	c=$(copies "smoke-$i" "$i@dst.example")
	[ "$c" = 1 ] || sfail "mail $i delivered $c times after a re-send"
done
i=0
until [ "$(jget "$TMP/eg.json" egress.dup_delivered)" -ge 3 ]; do
	i=$((i + 1))
	[ $i -gt 50 ] && sfail "the egress did not count the 3 re-sends as delivered already"
	sleep 0.1
done
dup=$(jget "$TMP/eg.json" egress.dup_delivered)

# 7. The bounds: egress stopped (receipts do not come, entries stay),
# the ingress restarted with room for 2 mails and 2 sessions: the third
# mail is refused 452 4.3.1, a third session 421, both counted; once the
# egress is back the spool empties and mail is taken again.
kill -TERM "$IN_PID" "$EG_PID"
wait "$IN_PID" || sfail "ingress did not exit cleanly"
wait "$EG_PID" || sfail "egress did not exit cleanly"
IN_PID="" EG_PID=""
grep -q "gwart-smtp: final: id=1" "$TMP/in.log" || sfail "ingress printed no final line"
IN_EXTRA="--spool-entries 2 --max-sessions 2"
start_in
wait_up in
send b1 b1@dst.example
send b2 b2@dst.example
in_ns swaks --server 127.0.0.1:2525 --from sender@src.example --to b3@dst.example \
	>"$TMP/swaks.b3" 2>&1 && sfail "a mail above --spool-entries was taken"
grep -q "452 4.3.1" "$TMP/swaks.b3" || sfail "a full spool did not answer 452 4.3.1"
in_ns python3 - <<'PY' || sfail "a session above --max-sessions was not refused with 421"
import socket, time
a = [socket.create_connection(("127.0.0.1", 2525)) for _ in range(2)]
for s in a:
    assert s.recv(512).startswith(b"220"), "a session within the bound got no 220"
time.sleep(0.3)
c = socket.create_connection(("127.0.0.1", 2525))
raise SystemExit(0 if c.recv(512).startswith(b"421") else 1)
PY
sleep 1.2 # the stats file
[ "$(jget "$TMP/in.json" ingress.spool_full)" = 1 ] || sfail "spool_full not counted"
[ "$(jget "$TMP/in.json" ingress.sessions_refused)" -ge 1 ] || sfail "sessions_refused not counted"
start_eg
wait_empty "$TMP/in/ingress"
send b4 b4@dst.example
wait_files "$TMP/hop" $((N + 8))
for i in b1 b2 b4; do
	[ "$(copies "smoke-$i" "$i@dst.example")" = 1 ] || sfail "mail $i not delivered once"
done

kill -TERM "$IN_PID" "$EG_PID"
wait "$IN_PID" || sfail "ingress did not exit cleanly"
wait "$EG_PID" || sfail "egress did not exit cleanly"
IN_PID="" EG_PID=""
echo "smtp_smoke: sent=$((N + 9)) delivered=$(ls "$TMP"/hop/*.eml | wc -l) bounced=1" \
	"too_big=refused resent_suppressed=$dup"
stop_gwartd
