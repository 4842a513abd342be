#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Throughput by message size (issue 11): whole messages of one size at a
# time, sent with gw_conn_send_msg() and delivered whole through on_message
# (gwart-conn pair --size-min S --size-max S), through gwartd on net_tap in
# a network namespace this script creates: kernel UDP sockets on both
# connectors, the router's port a tap (no NIC). Every message is checked
# byte for byte and exactly once; a run that is not exact fails the script.
#
#   bench/msgsize.sh [-b BUILD_DIR] [-o OUT_DIR] [-r REPS] [SIZE...]
#
#   SIZE      bytes per message (default 1024 65536 1048576: 1 KB, 64 KB,
#             1 MiB; a 1 KB message fits one frame, the others are groups
#             of chunks)
#   REPS      rounds (default GB_REPS or 3); the sizes are interleaved in
#             each round, so that the host's drift hits them alike
#   GB_MSG_BYTES  bytes per run (default 256 MB): count = GB_MSG_BYTES / SIZE,
#             clamped to 20..250,000 messages
#   GB_MSG_WINDOW the connectors' send window (default: the SDK's)
#   GB_MSG_TUNABLES  router tunables, JSON members (e.g. '"custody_limit":
#             4096'; default none)
#
# One gwartd per run (fresh custody and counters). Leaves one JSON per run
# in OUT_DIR/json/msg-SIZE-rN.json and its log in OUT_DIR/logs/, then
# bench/report.py msgsize prints the table (medians, MB = 10^6 bytes) and
# writes it to OUT_DIR/msgsize.md. Exit status: non-zero if any run lost,
# duplicated or corrupted a message, or did not finish.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build"
out="$here/bench-out/msgsize"
reps=${GB_REPS:-3}
while getopts "b:o:r:" opt; do
	case $opt in
	b) build=$(cd "$OPTARG" && pwd) ;;
	o) out=$OPTARG ;;
	r) reps=$OPTARG ;;
	*) echo "usage: $0 [-b BUILD] [-o OUT] [-r REPS] [SIZE...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
sizes=${*:-1024 65536 1048576}
total=${GB_MSG_BYTES:-256000000}
[ "$(id -u)" = 0 ] || { echo "msgsize: needs root (netns, net_tap)" >&2; exit 77; }
. "$here/deploy/netns.sh"
mkdir -p "$out/json" "$out/logs"
rm -f "$out"/json/msg-*.json

ns=""
gw_pid=""
kdir=$(mktemp -d)
cleanup() {
	[ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null
	[ -n "$ns" ] && gw_netns_destroy "$ns"
	ns=""
	rm -rf "$kdir"
}
trap cleanup EXIT INT TERM
status=0

# CPU seconds (user + system: net_tap's PMD works through syscalls) of
# thread NAME of process PID.
thread_cpu() {
	for t in /proc/"$1"/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ]; then
			awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "$t/stat"
			return
		fi
	done
	echo 0
}

# Protocol v2: both connectors share one fresh secret, in files only we
# may read.
(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$kdir/key")
key=$(cat "$kdir/key")
(umask 077 && cat >"$kdir/gwartd.json" <<EOF
{ "udp_port": 4790, "ports": [ { "ip": "198.18.0.1" } ],
  "tunables": { ${GB_MSG_TUNABLES:-} },
  "connectors": [ { "id": 1, "name": "msg-src", "key": "$key" },
                  { "id": 2, "name": "msg-dst", "key": "$key" } ],
  "routes": [ { "type": "smtp", "pattern": "notes.demo.example",
                "targets": [ { "connector": 2, "cost": 10 } ] } ] }
EOF
)
key=""
ncpu=$(nproc)
lc="($(seq -s, 0 $((ncpu - 1))))"

# run SIZE REP: one gwartd, one pair, one JSON.
run() {
	size=$1
	rep=$2
	name="msg-$size-r$rep"
	count=$((total / size))
	[ $count -lt 20 ] && count=20
	[ $count -gt 250000 ] && count=250000
	ns="gwart-msgsize-$$"
	gw_netns_create "$ns"
	ip netns exec "$ns" "$build/control/gwartd" --lcores="0@$lc,1@$lc" --no-huge -m 512 \
		--no-pci --no-shconf --file-prefix="gbmsg$$" --log-level=warning \
		--vdev=net_tap0,iface=gbmsg0 -- --config "$kdir/gwartd.json" \
		>"$out/logs/$name-gwartd.log" 2>&1 &
	gw_pid=$!
	if ! gw_wait_link "$ns" gbmsg0 30; then
		echo "msgsize: $name: gwartd did not create its tap" >&2
		status=1
		kill "$gw_pid" 2>/dev/null
		gw_pid=""
		gw_netns_destroy "$ns"
		ns=""
		return
	fi
	ip -n "$ns" addr add 198.18.0.2/24 dev gbmsg0
	ip -n "$ns" link set gbmsg0 up
	i=0
	until grep -q running "$out/logs/$name-gwartd.log"; do
		i=$((i + 1))
		[ $i -gt 300 ] && break
		sleep 0.1
	done
	c0=$(thread_cpu "$gw_pid" rte-worker-1)
	t0=$(date +%s.%N)
	# shellcheck disable=SC2046
	ip netns exec "$ns" "$build/bench/gwart-conn" pair --router 198.18.0.1 \
		--bind 198.18.0.2 --src-id 1 --dst-id 2 --dest smtp:user@notes.demo.example \
		--key-file "$kdir/key" --count "$count" --size-min "$size" --size-max "$size" \
		$([ -n "${GB_MSG_WINDOW:-}" ] && echo --window "$GB_MSG_WINDOW") \
		--timeout 300 --label msg >"$out/logs/$name.log" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	c1=$(thread_cpu "$gw_pid" rte-worker-1)
	kill -TERM "$gw_pid" 2>/dev/null
	wait "$gw_pid"
	gw_pid=""
	gw_netns_destroy "$ns"
	ns=""
	line=$(grep '^msg: sent=' "$out/logs/$name.log" | tail -n 1)
	nacks=$(grep '^msg: nacks' "$out/logs/$name.log" | tail -n 1)
	echo "SUMMARY scenario=msgsize size=$size rep=$rep rc=$rc ${line#msg: }"
	[ $rc -eq 0 ] || { echo "msgsize: $name FAILED (rc=$rc): see $out/logs/$name.log" >&2; status=1; }
	python3 - "$out/json/$name.json" "$nacks $line" "$rc" "$size" "$count" "$rep" "$c0" "$c1" \
		"$t0" "$t1" <<'PY'
import json, re, sys
path, line, rc, size, count, rep, c0, c1, t0, t1 = sys.argv[1:]
kv = dict(re.findall(r"(\w+)=([0-9.]+)", line))
cpu = float(c1) - float(c0)
deliv = int(kv.get("delivered", 0))
json.dump({"tool": "gwart-conn", "params": {"scenario": "msgsize", "label": path.split("/")[-1][:-5],
           "size": int(size), "count": int(count), "rep": int(rep),
           "connectors": "gwart-conn pair --size-min S --size-max S (SDK, kernel UDP sockets, net_tap)"},
           "result": {"ok": int(rc == "0"), "messages": deliv,
                      "rate_msg_s": float(kv.get("rate", 0)),
                      "mb_s": float(kv.get("mb_rate", 0)),
                      "bytes": int(kv.get("bytes", 0)),
                      "lost": int(kv.get("lost", 0)), "duplicates": int(kv.get("duplicates", 0)),
                      "corrupt": int(kv.get("corrupt", 0)),
                      "retransmits": int(kv.get("retransmits", 0)),
                      "worker_cpu_s": cpu, "wall_s": float(t1) - float(t0)}},
          open(path, "w"), indent=1)
PY
}

echo "msgsize: sizes $sizes, $reps round(s), $total bytes per run, tunables {${GB_MSG_TUNABLES:-}}, $ncpu CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ $r -le "$reps" ]; do
	for s in $sizes; do
		run "$s" $r
	done
	r=$((r + 1))
done
python3 "$here/bench/report.py" msgsize "$out" || status=1
exit $status
