#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# A second port full of garbage while good traffic flows on the first:
# gwartd runs with its net_tap port (198.18.0.1) plus a net_memif server port
# (198.18.1.1, socket in $TMP). dpdk-testpmd joins as the memif client in
# txonly mode, addressed to 198.18.1.1 UDP 4790, so its packets pass L2-L4
# and reach the gwart parser with payloads that are not gwart frames. Two
# phases, each with good traffic on the tap port alongside: 64-byte frames
# (22-byte UDP payload, shorter than a gwart header: WIRE_TRUNCATED), then
# 200-byte frames (158 payload bytes testpmd never writes, zeros in a fresh
# pool: WIRE_BAD_MAGIC). The good traffic must arrive exactly once, gwartd
# must exit 0, and each phase's packets must be counted under its reason, as
# many as testpmd says it sent less at most what the memif rings held.
#
# Teardown order: DPDK 22.11's memif PMD unmaps its rings when the peer
# leaves, from the interrupt thread, without waiting for a thread inside
# rx_burst: a peer leaving while the other side polls can crash it (gwartd
# was seen to SIGSEGV in the memif RX path). So no side leaves while the
# other polls: testpmd stops forwarding, gwartd drains and exits (its workers
# stop before its ports close), then testpmd quits.
#
# Args: [COUNT] [SECONDS] [LCORES] [reconnect]: good messages per phase (x
# GWART_SOAK_SCALE), seconds of garbage after each phase's good traffic,
# gwartd's lcores; "reconnect" runs each phase in a testpmd of its own, so
# gwartd's memif server sees its client leave while it polls (reproduces the
# crash above; not registered in meson).
. "$GWART_SRC/tests/integration/lib.sh"
count=$((${1:-20000} * SCALE))
secs=${2:-1}
lcores=${3:-0-1}
mode=${4:-}
TESTPMD=${GWART_TESTPMD:-dpdk-testpmd}
command -v "$TESTPMD" >/dev/null 2>&1 || { echo "SKIP: no $TESTPMD"; exit 77; }
SOCK="$TMP/memif.sock"
GARBAGE_DST=198.18.1.1
TESTPMD_PID=""
TPLOG=""

# On failure: testpmd gets "stop" and EOF, then SIGTERM through timeout,
# before lib.sh's cleanup kills gwartd and the namespace.
tp_cleanup() {
	if [ -n "$TESTPMD_PID" ]; then
		{ echo stop >&3 && echo quit >&3; } 2>/dev/null || true
		exec 3>&-
		i=0
		while kill -0 "$TESTPMD_PID" 2>/dev/null && [ $i -lt 30 ]; do
			i=$((i + 1))
			sleep 0.1
		done
		kill "$TESTPMD_PID" 2>/dev/null || true
	fi
	# lib.sh's it_cleanup stops (set -e) at its kill when gwartd is already
	# gone and reaped, before the namespace is removed: forget such a pid.
	if [ -n "$GWARTD_PID" ] && ! kill -0 "$GWARTD_PID" 2>/dev/null; then
		GWARTD_PID=""
	fi
	it_cleanup
}
trap tp_cleanup EXIT INT TERM
# A command to a testpmd that is gone must fail, not kill the script (and
# skip the cleanup) with SIGPIPE.
trap '' PIPE

# gwartd_alive WHEN: fail with gwartd's exit status if it is gone (a zombie
# still answers kill -0: look at its state).
gwartd_alive() {
	st=$(awk '{ print $3 }' "/proc/$GWARTD_PID/stat" 2>/dev/null || true)
	[ -n "$st" ] && [ "$st" != Z ] && return 0
	rc=0
	wait "$GWARTD_PID" || rc=$?
	GWARTD_PID=""
	fail "gwartd died $1 (exit status $rc$([ $rc -gt 128 ] && echo ", signal $((rc - 128))"))"
}

start_gwartd "$(write_config)" "$lcores" 1 \
	"--vdev=net_memif0,role=server,socket=$SOCK,socket-abstract=no"
grep -q ' 2 port(s)' "$TMP/gwartd.log" || fail "gwartd did not set up two ports"
# gwartd polls one RX queue per worker on every port. A memif client decides
# how many rings there are, and DPDK 22.11's memif server still polls queues
# it has no ring for (seen with two workers and one ring: every packet
# counted twice, plus tens of thousands of ETH_TYPE drops from stale
# descriptors): testpmd brings one ring per gwartd worker.
workers=$(sed -n 's/^gwartd: \([0-9]*\) worker(s).*/\1/p' "$TMP/gwartd.log")

# tp_wait PATTERN N WHAT: wait (up to 20 s) until PATTERN is in testpmd's log
# N times.
tp_wait() {
	i=0
	while [ "$(grep -c -e "$1" "$TPLOG")" -lt "$2" ]; do
		i=$((i + 1))
		kill -0 "$TESTPMD_PID" 2>/dev/null && [ $i -le 200 ] || {
			cat "$TPLOG" >&2
			fail "testpmd: no $3"
		}
		sleep 0.1
	done
}

tp_cmd() {
	echo "$1" 2>/dev/null >&3 || { cat "$TPLOG" >&2; fail "testpmd gone before '$1'"; }
}

# testpmd_launch NAME: interactive testpmd, the memif client, its commands
# from a FIFO whose write end this script holds on fd 3. timeout only guards
# against a hang; stdbuf makes its stdout line-buffered so the script sees
# each command's output in time.
testpmd_launch() {
	TPLOG="$TMP/testpmd-$1.log"
	rm -f "$TMP/tp.in"
	mkfifo "$TMP/tp.in"
	in_ns timeout -k 5 60 stdbuf -oL "$TESTPMD" \
		-l 0-1 --no-huge -m 256 --no-pci --no-shconf --file-prefix="$NS-tp$1" \
		--log-level=warning \
		--vdev="net_memif0,role=client,socket=$SOCK,socket-abstract=no" -- \
		-i --forward-mode=txonly --tx-ip=198.18.1.2,$GARBAGE_DST --tx-udp=4790,4790 \
		--total-num-mbufs=2048 --nb-cores=1 --rxq="$workers" --txq="$workers" \
		--no-lsc-interrupt --no-rmv-interrupt <"$TMP/tp.in" >"$TPLOG" 2>&1 &
	TESTPMD_PID=$!
	exec 3>"$TMP/tp.in"
	tp_cmd "show port info 0"
	tp_wait 'Link status: up' 1 "memif link to gwartd"
}

# testpmd_quit: testpmd must exit 0 by itself.
testpmd_quit() {
	tp_cmd quit
	exec 3>&-
	rc=0
	wait "$TESTPMD_PID" || rc=$?
	TESTPMD_PID=""
	[ $rc -eq 0 ] || { cat "$TPLOG" >&2; fail "testpmd exited with $rc"; }
}

# good LABEL: the good traffic on the tap port; every message exactly once.
good() {
	in_ns "$GWART_BUILD/bench/gwart-conn" pair --router $ROUTER --bind $HOST --src-id 1 \
		--dst-id 2 $(ckey 1 2) --dest smtp:erin@x.demo.example --count "$count" --timeout 60 \
		--label "$1" >"$TMP/pair-$1.log" 2>&1 || {
		cat "$TMP/pair-$1.log" >&2
		gwartd_alive "during good traffic ($1)"
		fail "good traffic ($1) was harmed"
	}
	cat "$TMP/pair-$1.log"
	line=$(grep "^$1:" "$TMP/pair-$1.log")
	echo "$line" | grep -q " sent=$count delivered=$count duplicates=0 lost=0 " ||
		fail "unexpected result: $line"
}

# phase N FRAME_LEN K: garbage of FRAME_LEN-byte frames with good traffic
# alongside, the Kth forwarding run of this testpmd; what testpmd sent goes
# to $TMP/sent-N.
phase() {
	tp_cmd "set txpkts $2"
	tp_cmd start
	tp_wait 'txonly packet forwarding - ports' "$3" "start of phase $1"
	good "good$1"
	sleep "$secs"
	tp_cmd stop
	tp_wait 'Accumulated forward statistics for all ports' "$3" "end of phase $1"
	# TX-packets of the Nth accumulated block: what went onto the rings.
	awk -v n="$3" '/Accumulated forward statistics for all ports/ { a = 1; next }
		a && /TX-packets:/ { a = 0; if (++k == n) { sub(/.*TX-packets: */, "");
		sub(/ .*/, ""); print } }' "$TPLOG" >"$TMP/sent-$1"
	gwartd_alive "in phase $1"
}

testpmd_launch a
phase 1 64 1
if [ "$mode" = reconnect ]; then
	testpmd_quit
	sleep 0.5
	gwartd_alive "after its memif client left"
	testpmd_launch b
	phase 2 200 1
else
	phase 2 200 2
fi
# Let gwartd drain the rings, stop it (its workers stop before its ports
# close), then let testpmd go.
sleep 0.5
stop_gwartd
testpmd_quit

short=$(cat "$TMP/sent-1")
long=$(cat "$TMP/sent-2")
trunc=$(stat drops.WIRE_TRUNCATED)
magic=$(stat drops.WIRE_BAD_MAGIC)
echo "testpmd sent: $short x 64 B, $long x 200 B"
echo "router counted: WIRE_TRUNCATED=$trunc WIRE_BAD_MAGIC=$magic"
grep 'drop ' "$TMP/gwartd.log" || true
# A phase may come up short by at most what sat in the memif rings (1024
# slots each) when a client left; nothing else may be counted under these
# reasons.
within() {
	[ "$1" -gt 0 ] && [ "$2" -gt 0 ] && [ "$2" -le "$1" ] &&
		[ "$2" -ge $(($1 - 1024 * workers)) ]
}
within "$short" "$trunc" || fail "64-byte garbage: sent $short, WIRE_TRUNCATED $trunc"
within "$long" "$magic" || fail "200-byte garbage: sent $long, WIRE_BAD_MAGIC $magic"
echo "PASS($T)"
