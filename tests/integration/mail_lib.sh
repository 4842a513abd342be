#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Real Postfix instances for the mail tests and the mail demo. Each instance
# has its own config_directory, queue_directory and data_directory under a
# directory of the caller's (no postmulti, nothing under /etc/postfix or
# /var/spool/postfix is touched), listens on one address inside a network
# namespace the caller created, and never looks anything up in DNS (every
# next hop is a bracketed IP address, smtp_dns_support_level = disabled,
# smtp_host_lookup = native, myhostname set).
#
#   . tests/integration/mail_lib.sh     (after deploy/netns.sh)
#   pf_write A DIR NS IP ROLE [NEXTHOP]  write DIR/etc/{main,master}.cf
#       ROLE "sender":   accepts mail from anyone in 198.18.0.0/15 and
#                        relays $MAIL_DOMAIN to NEXTHOP ([ip]:port); its own
#                        domain $SENDER_DOMAIN (where bounces come back) is
#                        delivered into the Maildir DIR/mail/sender/.
#       ROLE "receiver": accepts mail for $MAIL_DOMAIN only and delivers it
#                        into DIR/mail/<user>/ (Maildir); $MAIL_REJECT is not
#                        a mailbox, so RCPT TO for it is refused with 550.
#   pf_start DIR / pf_stop DIR           start / stop (stop waits for exit)
#   pf_drain_stop DIR                    stop once the sessions under way ended
#   pf_sendmail DIR ARGS...              Postfix's sendmail for instance DIR
#   pf_queue_len DIR                     messages in its queue
#   pf_wait_empty DIR SECONDS            wait for its queue to drain
#   pf_wait_port NS IP PORT SECONDS      wait for a listener
#
# Why these settings: the instances must start in well under a second,
# retry quickly after a peer restarts (the test restarts them and the
# connectors mid-run: minimal_backoff_time, queue_run_delay), and run as
# root in a test directory (no chroot in master.cf, mail owned by nobody).

MAIL_DOMAIN=${MAIL_DOMAIN:-mail.test}
SENDER_DOMAIN=${SENDER_DOMAIN:-send.test}
MAIL_SENDER=${MAIL_SENDER:-sender@$SENDER_DOMAIN}
MAIL_USERS=${MAIL_USERS:-u1 u2 u3 u4}
MAIL_REJECT=${MAIL_REJECT:-nosuch@$MAIL_DOMAIN}
PF_UID=$(id -u nobody)
PF_GID=$(id -g nobody)

pf_have() {
	command -v postfix >/dev/null 2>&1 && [ -x /usr/lib/postfix/sbin/master ] &&
		command -v swaks >/dev/null 2>&1
}

# pf_write DIR NS IP ROLE [NEXTHOP]
pf_write() {
	d=$1 ns=$2 ip=$3 role=$4 nexthop=${5:-}
	mkdir -p "$d/etc" "$d/spool" "$d/data" "$d/mail"
	chown "$PF_UID:$PF_GID" "$d/mail"
	chown postfix "$d/data"
	# The daemons run as postfix and the delivery agent as nobody: they
	# must be able to walk down to their directories.
	p=$d
	while [ "$p" != / ] && [ "$p" != /tmp ]; do
		chmod o+x "$p"
		p=$(dirname "$p")
	done
	echo "$ns" >"$d/netns"
	echo "$ip" >"$d/ip"
	if [ "$role" = sender ]; then
		host="mta.$SENDER_DOMAIN"
		vdomains="$SENDER_DOMAIN"
		vmaps="$MAIL_SENDER=sender/ postmaster@$SENDER_DOMAIN=sender/"
		relay="relay_domains = $MAIL_DOMAIN
transport_maps = inline:{ $MAIL_DOMAIN=relay:$nexthop }"
	else
		host="mx.$MAIL_DOMAIN"
		vdomains="$MAIL_DOMAIN"
		vmaps="postmaster@$MAIL_DOMAIN=postmaster/"
		for u in $MAIL_USERS; do
			vmaps="$vmaps $u@$MAIL_DOMAIN=$u/"
		done
		relay="relay_domains ="
	fi
	cat >"$d/etc/main.cf" <<EOF
# Written by tests/integration/mail_lib.sh for one test run.
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
myhostname = $host
mydomain = ${host#*.}
myorigin = \$mydomain
mydestination =
inet_interfaces = $ip
inet_protocols = ipv4
smtp_bind_address = $ip
mynetworks = 198.18.0.0/15 127.0.0.0/8
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtputf8_enable = no
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file_prefixes = $d
maillog_file = $d/maillog
$relay
virtual_mailbox_domains = $vdomains
virtual_mailbox_base = $d/mail
virtual_mailbox_maps = inline:{ $vmaps }
virtual_uid_maps = static:$PF_UID
virtual_gid_maps = static:$PF_GID
virtual_mailbox_limit = 0
message_size_limit = ${PF_SIZE_LIMIT:-10240000}
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
# Quick retries: peers are restarted on purpose during the run.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 4s
smtp_connect_timeout = 5s
smtp_data_done_timeout = 120s
bounce_queue_lifetime = 1h
maximal_queue_lifetime = 1h
default_process_limit = 20
smtp_destination_concurrency_limit = ${PF_CONCURRENCY:-4}
relay_destination_concurrency_limit = ${PF_CONCURRENCY:-4}
# No DSN "delayed" mail for messages that wait through a restart.
delay_warning_time = 0h
EOF
	# master.cf: chroot off everywhere (the instance lives in the test's
	# directory, not in a chroot jail under its queue).
	cat >"$d/etc/master.cf" <<'EOF'
smtp       inet      n - n - -  smtpd
pickup     unix      n - n 60 1 pickup
cleanup    unix      n - n - 0  cleanup
qmgr       unix      n - n 300 1 qmgr
rewrite    unix      - - n - -  trivial-rewrite
bounce     unix      - - n - 0  bounce
defer      unix      - - n - 0  bounce
trace      unix      - - n - 0  bounce
verify     unix      - - n - 1  verify
flush      unix      n - n 1000? 0 flush
proxymap   unix      - - n - -  proxymap
proxywrite unix      - - n - 1  proxymap
smtp       unix      - - n - -  smtp
relay      unix      - - n - -  smtp
showq      unix      n - n - -  showq
error      unix      - - n - -  error
retry      unix      - - n - -  error
discard    unix      - - n - -  discard
local      unix      - n n - -  local
virtual    unix      - n n - -  virtual
anvil      unix      - - n - 1  anvil
scache     unix      - - n - 1  scache
postlog    unix-dgram n - n - 1 postlogd
EOF
}

pf_ns() { cat "$1/netns"; }

# pf_alive PID: the process exists and is not a zombie (Postfix's master
# daemonises: once it exited, it stays a zombie until PID 1 reaps it, which
# in a container can take seconds; kill -0 would call it alive).
pf_alive() {
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# pf_start DIR: start the instance in its namespace and wait until it
# answers SMTP on port 25. The first start goes through "postfix start"
# (its check creates the queue directories, about 2 s); a restart runs the
# master directly ("master -w": returns once it initialised, 0.2 s).
pf_start() {
	ns=$(pf_ns "$1")
	if [ -d "$1/spool/pid" ]; then
		ip netns exec "$ns" /usr/lib/postfix/sbin/master -c "$1/etc" -w >>"$1/start.log" 2>&1 ||
			{ cat "$1/start.log" >&2; return 1; }
	else
		ip netns exec "$ns" postfix -c "$1/etc" start >>"$1/start.log" 2>&1 ||
			{ cat "$1/start.log" >&2; return 1; }
	fi
	pf_wait_port "$ns" "$(cat "$1/ip")" 25 20
}

# pf_stop DIR: SIGTERM to its master (what "postfix stop" does, without
# its checks) and wait until it has exited: a restart right after must not
# find the old master's lock.
pf_stop() {
	pidf="$1/spool/pid/master.pid"
	pid=$(tr -d ' ' <"$pidf" 2>/dev/null || true)
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
	i=0
	while [ -n "$pid" ] && pf_alive "$pid"; do
		i=$((i + 1))
		[ $i -gt 200 ] && { kill -9 "$pid" 2>/dev/null || true; break; }
		sleep 0.1
	done
}

# pf_drain_stop DIR: stop the instance the way that loses no answer: new
# SMTP transactions are deferred first (450 at RCPT: the client retries
# later), the sessions already under way finish (a reload lets each old
# smtpd complete its session and exit), then the master stops. Stopping
# in the middle of a transaction instead (postfix stop, or a crash) can
# leave a mail queued whose 250 never reached the client, which then
# sends it again: SMTP's window around the final "." (RFC 1047), which no
# client can close and which is not what this restart tests.
pf_drain_stop() {
	pidf="$1/spool/pid/master.pid"
	mpid=$(tr -d ' ' <"$pidf" 2>/dev/null || true)
	[ -n "$mpid" ] || return 0
	cp "$1/etc/main.cf" "$1/etc/main.cf.run"
	echo "smtpd_client_restrictions = defer" >>"$1/etc/main.cf"
	old=$(pgrep -P "$mpid" -x smtpd || true)
	ip netns exec "$(pf_ns "$1")" postfix -c "$1/etc" reload >>"$1/start.log" 2>&1 || true
	i=0
	for p in $old; do
		while pf_alive "$p" && [ $i -lt 300 ]; do
			i=$((i + 1))
			sleep 0.1
		done
	done
	pf_stop "$1"
	mv "$1/etc/main.cf.run" "$1/etc/main.cf"
}

pf_sendmail() {
	d=$1
	shift
	ip netns exec "$(pf_ns "$d")" /usr/sbin/sendmail -C "$d/etc" "$@"
}

# pf_queue_len DIR: messages in any of the instance's queues.
pf_queue_len() {
	n=0
	for q in maildrop incoming active deferred hold; do
		[ -d "$1/spool/$q" ] || continue
		c=$(find "$1/spool/$q" -type f | wc -l)
		n=$((n + c))
	done
	echo "$n"
}

# pf_wait_empty DIR SECONDS: 0 when the queue drained in time.
pf_wait_empty() {
	i=0
	while [ "$(pf_queue_len "$1")" -ne 0 ]; do
		i=$((i + 1))
		[ $i -gt $(($2 * 4)) ] && return 1
		sleep 0.25
	done
	return 0
}

# pf_flush DIR: retry the deferred queue now (after a peer came back).
pf_flush() {
	ip netns exec "$(pf_ns "$1")" postqueue -c "$1/etc" -f >/dev/null 2>&1 || true
}

# pf_wait_port NS IP PORT SECONDS
pf_wait_port() {
	i=0
	until ip netns exec "$1" python3 -c 'import socket,sys
s=socket.create_connection((sys.argv[1], int(sys.argv[2])), 1); s.close()' "$2" "$3" \
		2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(($4 * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

# mail_addrs NS IP...: give the namespace's loopback the MTAs' addresses.
mail_addrs() {
	ns=$1
	shift
	for a in "$@"; do
		ip -n "$ns" addr add "$a/32" dev lo
	done
}

# ---- The gwart path (it_mail, demo.sh mail): needs lib.sh (TMP, NS,
# start_gwartd, key_file, add_keys, fail) and GW_SMTP_LIMIT (the ingress's
# --max-message, the SIZE it advertises).
#   gw_mail_start                gwartd with the mail routes, then both
#                                connectors (ingress id 1 on IN_IP:IN_PORT,
#                                bounces to A_IP:25; egress id 2 to B_IP:25)
#   gw_smtp_restart ingress|egress   SIGTERM, wait, start again (same spool)
#   gw_mail_kill_gwartd          SIGKILL gwartd holding mail, start it again
#   gw_mail_kill_gwartd_receipts SIGKILL gwartd holding receipts, the same
#   gw_mail_report               the connectors' and the router's counters
#   gw_smtp_stop_all             SIGTERM both connectors (cleanup)
GW_SMTP_IN_PID=""
GW_SMTP_EG_PID=""
GW_SMTP_N=0

gw_mail_config() {
	# GWMAIL1's envelope lines need room beyond the mail itself
	# (gwart-smtp --help: the router's max_message >= --max-message +
	# 64 KiB).
	# custody_limit at its most (4,096 frames, some 4.5 MB: a few dozen
	# mails of this mix): while a connector is down on purpose the router
	# keeps taking mail, which is what the kill -9 scenarios need.
	tun="\"custody_limit\": 4096"
	echo "{ \"udp_port\": 4790, \"tunables\": { \"max_message\": 1048576 } }" >"$TMP/tun.json"
	if "$GWART_BUILD/control/gwartd" --check-config "$TMP/tun.json" 2>&1 |
		grep -q 'max_message: unknown'; then
		# A router without the tunable (before the router's issue-11
		# work) has no per-message limit to raise.
		echo "mail: this gwartd has no max_message tunable; none set" >&2
	else
		tun="$tun, \"max_message\": $((GW_SMTP_LIMIT + 65536))"
	fi
	cat >"$TMP/gwartd.json" <<JSON
{
  "udp_port": 4790,
  "ports": [ { "ip": "$ROUTER" } ],
  "tunables": { $tun },
  "connectors": [ { "id": 1, "name": "mail-in" }, { "id": 2, "name": "mail-out" } ],
  "routes": [
    { "type": "smtp", "pattern": "$MAIL_DOMAIN", "targets": [ { "connector": 2, "cost": 10 } ] },
    { "type": "smtp-receipt", "pattern": "1", "targets": [ { "connector": 1, "cost": 10 } ] }
  ]
}
JSON
	add_keys "$TMP/gwartd.json"
	echo "$TMP/gwartd.json"
}

# gw_smtp_run ingress|egress: one gwart-smtp process in the namespace, its
# pid in GW_SMTP_IN_PID / GW_SMTP_EG_PID, its output appended to
# $TMP/smtp-<side>.log (all its lives in one file).
gw_smtp_run() {
	GW_SMTP_N=$((GW_SMTP_N + 1))
	echo "=== start $GW_SMTP_N $(date +%T)" >>"$TMP/smtp-$1.log"
	common="--router $ROUTER --bind $HOST --max-message $GW_SMTP_LIMIT --retry-s 1 --retry-max-s 4"
	if [ "$1" = ingress ]; then
		# --resend-s: a mail gwart acknowledged but whose receipt never
		# came (gwartd killed with it in custody) is sent again this soon.
		ip netns exec "$NS" "$SMTP_BIN" --mode ingress --id 1 --key-file "$(key_file 1)" \
			$common --listen "$IN_IP:$IN_PORT" --bounce-relay "$A_IP:25" \
			--spool "$TMP/gs-in" --name gw-in.test --resend-s "${GW_SMTP_RESEND_S:-10}" \
			--stats-file "$TMP/gs-in.json" >>"$TMP/smtp-ingress.log" 2>&1 &
		GW_SMTP_IN_PID=$!
		pf_wait_port "$NS" "$IN_IP" "$IN_PORT" 20 || mail_fail "the ingress does not listen"
	else
		ip netns exec "$NS" "$SMTP_BIN" --mode egress --id 2 --key-file "$(key_file 2)" \
			$common --next-hop "$B_IP:25" --spool "$TMP/gs-eg" --name gw-out.test \
			--stats-file "$TMP/gs-eg.json" >>"$TMP/smtp-egress.log" 2>&1 &
		GW_SMTP_EG_PID=$!
	fi
}

# gw_smtp_stop PID: SIGTERM and wait; a connector that does not stop within
# its drain time plus a margin, or exits non-zero, fails the test.
gw_smtp_stop() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while pf_alive "$1"; do
		i=$((i + 1))
		[ $i -gt 300 ] && { kill -9 "$1"; mail_fail "gwart-smtp $1 did not stop in 30 s"; }
		sleep 0.1
	done
	rc=0
	wait "$1" || rc=$?
	[ $rc -eq 0 ] || mail_fail "gwart-smtp $1 exited with $rc after SIGTERM"
}

gw_smtp_restart() {
	if [ "$1" = ingress ]; then
		gw_smtp_stop "$GW_SMTP_IN_PID"
		GW_SMTP_IN_PID=""
	else
		gw_smtp_stop "$GW_SMTP_EG_PID"
		GW_SMTP_EG_PID=""
	fi
	gw_smtp_run "$1"
}

gw_smtp_stop_all() {
	for p in $GW_SMTP_IN_PID $GW_SMTP_EG_PID; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $GW_SMTP_IN_PID $GW_SMTP_EG_PID; do
		wait "$p" 2>/dev/null || true
	done
	GW_SMTP_IN_PID="" GW_SMTP_EG_PID=""
}

gw_mail_start() {
	start_gwartd "$(gw_mail_config)"
	mkdir -p "$TMP/gs-in" "$TMP/gs-eg"
	gw_smtp_run egress
	gw_smtp_run ingress
}

# gw_in_stat KEY: an ingress counter from its stats file (rewritten every
# second), 0 before the file exists.
gw_in_stat() {
	python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["ingress"][sys.argv[2]])' "$TMP/gs-in.json" "$1" \
		2>/dev/null || echo 0
}

gw_eg_stat() {
	python3 -c 'import json,sys
print(json.load(open(sys.argv[1]))["egress"][sys.argv[2]])' "$TMP/gs-eg.json" "$1" \
		2>/dev/null || echo 0
}

# gw_wait_grow FN KEY N: up to 20 s for counter KEY (FN: gw_in_stat or
# gw_eg_stat) to grow by N; prints how much it grew.
gw_wait_grow() {
	base=$($1 "$2")
	i=0
	while [ "$($1 "$2")" -lt $((base + $3)) ] && [ $i -lt 200 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	echo $(($($1 "$2") - base))
}

gw_restart_gwartd() {
	kill -9 "$GWARTD_PID"
	wait "$GWARTD_PID" 2>/dev/null || true
	GWARTD_PID=""
	cat "$TMP/gwartd.log" >>"$TMP/gwartd-killed.log"
	start_gwartd "$TMP/gwartd.json"
}

# gw_mail_kill_gwartd: SIGKILL gwartd while it certainly holds mail: the
# egress is stopped first, so what the router acknowledges to the ingress
# meanwhile stays in its memory; the kill destroys it, and only the
# ingress's spool (no receipt came: sent again after --resend-s) can bring
# it to B. GW_KILLED: how many mails the router acknowledged in that time.
GW_KILLED=0
gw_mail_kill_gwartd() {
	gw_smtp_stop "$GW_SMTP_EG_PID"
	GW_SMTP_EG_PID=""
	GW_KILLED=$(gw_wait_grow gw_in_stat results_ok 3)
	gw_restart_gwartd
	echo "mail: gwartd killed holding $GW_KILLED mails acknowledged to the ingress"
	gw_smtp_run egress
}

# gw_mail_kill_gwartd_receipts: SIGKILL gwartd while it holds receipts:
# the ingress is stopped first, so the receipts of what the egress delivers
# meanwhile wait in the router's memory; the kill destroys them, the
# ingress (spool entries without receipt) sends those mails again, and the
# egress must recognise them as delivered (its durable Id log: counted as
# dup_delivered, receipted again) instead of delivering them twice.
GW_RCPT_KILLED=0
gw_mail_kill_gwartd_receipts() {
	gw_smtp_stop "$GW_SMTP_IN_PID"
	GW_SMTP_IN_PID=""
	GW_RCPT_KILLED=$(gw_wait_grow gw_eg_stat receipts_acked 3)
	gw_restart_gwartd
	echo "mail: gwartd killed holding $GW_RCPT_KILLED receipts for the ingress"
	gw_smtp_run ingress
}

# gw_mail_report: stop both connectors and gwartd cleanly, print every life's final
# line, and require both to have ended empty: the ingress's spool holds no
# mail without its receipt, the egress's queue nothing undelivered.
gw_mail_report() {
	gw_smtp_stop "$GW_SMTP_IN_PID"
	gw_smtp_stop "$GW_SMTP_EG_PID"
	GW_SMTP_IN_PID="" GW_SMTP_EG_PID=""
	stop_gwartd # a clean exit (and, in the sanitizer build, no leak report)
	for s in ingress egress; do
		grep 'final:' "$TMP/smtp-$s.log" | sed "s/^gwart-smtp: final: /mail: $s: /" || true
	done
	left=$(python3 -c 'import json,sys
i = json.load(open(sys.argv[1]))["ingress"]
e = json.load(open(sys.argv[2]))["egress"]
print(i["spool_entries"], e["queue_entries"])' "$TMP/gs-in.json" "$TMP/gs-eg.json") ||
		mail_fail "no connector stats"
	[ "$left" = "0 0" ] || mail_fail "left at the end (ingress spool, egress queue): $left"
	# How much the faults made the connectors redo (every life summed).
	resends=$(grep -o ' resends=[0-9]*' "$TMP/smtp-ingress.log" |
		awk -F= '{ n += $2 } END { print n + 0 }')
	[ "$GW_KILLED" -eq 0 ] || [ "$resends" -gt 0 ] ||
		mail_fail "gwartd was killed holding $GW_KILLED mails, and the ingress sent none again"
	dups=$(grep -o ' dup_delivered=[0-9]*' "$TMP/smtp-egress.log" |
		awk -F= '{ n += $2 } END { print n + 0 }')
	[ "$GW_RCPT_KILLED" -eq 0 ] || [ "$dups" -gt 0 ] ||
		mail_fail "gwartd was killed holding $GW_RCPT_KILLED receipts, and the egress" \
			"recognised no mail sent again as delivered"
	echo "mail: ingress resends=$resends" \
		"egress dup_delivered=$(grep -o ' dup_delivered=[0-9]*' "$TMP/smtp-egress.log" |
		awk -F= '{ n += $2 } END { print n + 0 }')" \
		"rcpts_deferred=$(grep -o ' rcpts_deferred=[0-9]*' "$TMP/smtp-egress.log" |
		awk -F= '{ n += $2 } END { print n + 0 }')"
}
