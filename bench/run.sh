#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# One invocation of the whole benchmark: gwart's scenarios and its peers
# side by side on this host, then the report (bench/report.py).
#
#   bench/run.sh [-b BUILD_DIR] [-o OUT_DIR] [-q] [-a | -r | -m]
#
#   OUT_DIR      default bench-out; bench-out/ratio with -r, bench-out/matrix
#                with -m (they leave a full report's files alone)
#   -q           quick: fewer points per sweep (a couple of minutes); with
#                -m a smoke run (1 repetition of 1 s, 100,000 routes and
#                64 connectors for the large rows)
#   -r           the ratio to testpmd only (deploy/bench.sh --ratio):
#                GB_REPS (3) repetitions, interleaved, each one gwart-bench
#                inproc run (64 B, 1,000 routes, authentication on, worker
#                alone on its CPU) then dpdk-testpmd 5tswap on net_null with
#                the same lcore layout; ends with exactly one line
#                "ratio: gwart/testpmd-5tswap = R (gwart C cycles/msg,
#                testpmd T cycles/pkt, spread S %)" (bench/report.py ratio)
#   -m           the issue-9 matrix (deploy/bench.sh --matrix): workers,
#                payload, routes and connectors one at a time from the ratio's
#                base row, each run followed by its own testpmd run, and the
#                residence quantiles at half the base's rate; GB_REPS (3, -q
#                1) rounds; tables in OUT_DIR/matrix.md (bench/report.py
#                matrix; rows in bench/report.py matrix_rows)
#   -a           authentication only (protocol v2): the tag candidates
#                (gwart-bench crypto), then GB_AUTH_PAIRS (6) pairs of inproc
#                runs with authentication on and off (--no-auth), interleaved,
#                dpdk-testpmd 5tswap net_null between pairs, worker pinned
#                alone on its CPU; prints the pair ratios (BENCHMARK.md,
#                "Before and after")
#   GB_DURATION  measured seconds per run (default 3; -m -q: 1)
#   GB_CPUS      "HARNESS,WORKER": CPUs for control+generators+sinks and for
#                the router's worker (default 0,1; 0,0 on a 1-CPU host)
#   GB_FLOAT     1: pin nothing (default on hosts with 2 CPUs or fewer, which
#                are shared: a pinned worker next to another process's
#                busy-polling thread can be starved for seconds); 0: pin
#                (-r and -m always pin: the worker alone on its CPU)
#   GB_REPS      repetitions of -r and rounds of -m
#   GB_RUN_LIMIT seconds one gwart-bench run of -r or -m may take (300): a
#                run past it is stopped and its row reported as not run
#   GB_TESTPMD, GB_TESTPMD_SECONDS: see bench/testpmd.sh
#
# gwart scenarios (gwart-bench): inproc (the router in-process on net_ring
# ports; sweeps of payload, routes, popularity, connectors, workers, faults,
# latency at half load, stage breakdown, mempool driver), memif (gwartd in
# its own process), tap (SDK connectors over the Linux stack through
# net_tap, in a namespace), stages (each stage's function in isolation),
# message sizes (bench/msgsize.sh: whole messages of 1 KB, 64 KB and 1 MiB).
# Peers: dpdk-testpmd 5tswap on net_null and net_ring, a kernel UDP
# forwarder, NATS core and JetStream (when nats-server is installed).
# Everything that touches the Linux stack runs in a network namespace this
# script creates and removes, on 198.18.0.0/15.
#
# Exit status: non-zero if any gwart scenario failed its delivered-set check
# (a message lost or duplicated); a peer that cannot run is noted, not fatal.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build"
out=""
quick=0
auth_only=0
mode=all
while getopts "b:o:qarm" opt; do
	case $opt in
	b) build=$(cd "$OPTARG" && pwd) ;;
	o) out=$OPTARG ;;
	q) quick=1 ;;
	a) auth_only=1 ;;
	r) mode=ratio ;;
	m) mode=matrix ;;
	*) echo "usage: $0 [-b BUILD] [-o OUT] [-q] [-a | -r | -m]" >&2; exit 2 ;;
	esac
done
# -r and -m write beside a full report, not over it.
case $mode in
ratio) out=${out:-"$here/bench-out/ratio"} ;;
matrix) out=${out:-"$here/bench-out/matrix"} ;;
*) out=${out:-"$here/bench-out"} ;;
esac
if [ $mode = matrix ] && [ $quick = 1 ]; then
	dur=${GB_DURATION:-1}
	reps=${GB_REPS:-1}
else
	dur=${GB_DURATION:-3}
	reps=${GB_REPS:-3}
fi
run_limit=${GB_RUN_LIMIT:-300}
report="$here/bench/report.py"
ncpu=$(nproc)
if [ "$ncpu" -gt 1 ]; then cpus=${GB_CPUS:-0,1}; else cpus=${GB_CPUS:-0,0}; fi
if [ "$ncpu" -le 2 ]; then float=${GB_FLOAT:-1}; else float=${GB_FLOAT:-0}; fi
fl=""
[ "$float" = 1 ] && fl=--float
hcpu=${cpus%,*}
wcpu=${cpus#*,}
# lcore placement of the DPDK peers and of gwartd (tap): the same policy
if [ "$float" = 1 ]; then
	lc_h="($(seq -s, 0 $((ncpu - 1))))"
	lc_w=$lc_h
else
	lc_h=$hcpu
	lc_w=$wcpu
fi
gb="$build/bench/gwart-bench"
mkdir -p "$out/json" "$out/logs"
rm -f "$out"/json/*.json
. "$here/deploy/netns.sh"
. "$here/bench/testpmd.sh"

status=0
ns=""
bg_pid=""
cleanup() {
	[ -n "$bg_pid" ] && kill "$bg_pid" 2>/dev/null
	[ -n "$ns" ] && gw_netns_destroy "$ns"
	ns=""
}
trap cleanup EXIT INT TERM

note() {
	echo "bench: $*"
	echo "$*" >>"$out/notes.txt"
}
: >"$out/notes.txt"

# ---- the host ---------------------------------------------------------------
host_json() {
	model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
	mhz=$(lscpu | sed -n 's/^CPU max MHz:[[:space:]]*//p' | head -n 1)
	hv=$(lscpu | sed -n 's/^Hypervisor vendor:[[:space:]]*//p' | head -n 1)
	huge=$(sed -n 's/^HugePages_Total:[[:space:]]*//p' /proc/meminfo)
	mem=$(awk '/^MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
	dpdk=$(pkg-config --modversion libdpdk 2>/dev/null || echo unknown)
	nats=$(nats-server --version 2>/dev/null | sed 's/^nats-server: //' || true)
	cat >"$out/json/host.json" <<EOF
{"tool": "host", "model": "$model", "cpus": $ncpu, "max_mhz": "${mhz:-}",
 "hypervisor": "${hv:-none}", "hugepages": ${huge:-0}, "mem_gib": $mem,
 "kernel": "$(uname -r)", "dpdk": "$dpdk", "nats_server": "${nats:-not installed}",
 "cpus_harness": $hcpu, "cpu_worker": $wcpu, "float": $float, "duration_s": $dur,
 "load_start": "$(cut -d' ' -f1-3 /proc/loadavg)", "mode": "$mode", "reps": $reps,
 "quick": $quick}
EOF
}

# ---- gwart-bench ------------------------------------------------------------
# run_gb NAME SCENARIO [args...]   (args override the defaults)
run_gb() {
	name=$1
	sc=$2
	shift 2
	# shellcheck disable=SC2086
	"$gb" "$sc" --duration "$dur" --cpus-harness "$hcpu" --cpus-workers "$wcpu" $fl \
		--gwartd "$build/control/gwartd" --label "$name" \
		--json "$out/json/$name.json" "$@" >"$out/logs/$name.log" 2>&1
	rc=$?
	line=$(grep '^SUMMARY' "$out/logs/$name.log" | tail -n 1)
	echo "${line:-SUMMARY label=$name ok=0 (no output, rc=$rc)}" | cut -c 1-240
	if [ $rc -eq 3 ]; then
		note "$name inconclusive: the router did not drain in time (worker starved?)"
	elif [ $rc -ne 0 ]; then
		note "$name FAILED (rc=$rc): see logs/$name.log"
		status=1
	fi
}

# half the throughput the base run reached: "half load" for latency
half_rate() {
	python3 -c 'import json,sys
try: print(max(1000, int(json.load(open(sys.argv[1]))["result"]["rate_msg_s"] / 2)))
except Exception: print(100000)' "$out/json/inproc-base.json"
}

# ---- peers ------------------------------------------------------------------
# CPU seconds of thread NAME of process PID: user mode, or with a third
# argument "all" user + system (net_tap's PMD works through syscalls)
thread_utime() {
	for t in /proc/"$1"/task/*; do
		if [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ]; then
			awk -v hz="$(getconf CLK_TCK)" -v all="${3:-}" \
				'{ print (all == "all" ? $14 + $15 : $14) / hz }' "$t/stat"
			return
		fi
	done
	echo 0
}

# peer_testpmd NAME "VDEVS" [testpmd args...]
peer_testpmd() {
	name=$1
	vdevs=$2
	shift 2
	log="$out/logs/$name.log"
	if ! command -v dpdk-testpmd >/dev/null; then
		note "$name skipped: dpdk-testpmd not installed"
		return
	fi
	# shellcheck disable=SC2086
	dpdk-testpmd --lcores="0@$lc_h,1@$lc_w" --no-huge -m 1024 --no-pci --no-shconf \
		--file-prefix="gbtp$$" $vdevs --log-level=warning -- --forward-mode=5tswap \
		--nb-cores=1 --stats-period=1 --total-num-mbufs=16384 "$@" >"$log" 2>&1 &
	bg_pid=$!
	sleep $((${dur%.*} + 4))
	ut=$(thread_utime "$bg_pid" rte-worker-1)
	kill -INT "$bg_pid" 2>/dev/null
	wait "$bg_pid"
	bg_pid=""
	pkts=$(grep 'RX-packets:' "$log" | tail -n 1 | awk '{print $2}')
	wall=$(grep 'Rx-pps:' "$log" | tail -n 2 | awk '{s += $2} END {print s + 0}')
	python3 - "$out/json/$name.json" "$name" "${pkts:-0}" "$wall" "$ut" "$vdevs" <<'PY'
import json, sys
path, name, pkts, wall, ut, vdevs = sys.argv[1:]
pkts, wall, ut = int(pkts), float(wall), float(ut)
json.dump({"tool": "dpdk-testpmd", "params": {"scenario": name, "label": name,
           "ports": vdevs, "forward_mode": "5tswap", "cores": 1},
           "result": {"ok": int(pkts > 0), "rate_msg_s": wall,
                      "rate_per_core": pkts / ut if ut > 0 else 0,
                      "cpu_s": ut, "messages": pkts}}, open(path, "w"), indent=1)
print("SUMMARY scenario=%s rate=%.0f pkt/s per_core=%.0f pkts=%d cpu_s=%.2f" %
      (name, wall, pkts / ut if ut > 0 else 0, pkts, ut))
PY
}

ns_up() {
	ns="gwart-bench-$$"
	gw_netns_create "$ns"
	ip -n "$ns" addr add 198.18.0.1/32 dev lo
}

peer_udpfwd() {
	ns_up
	ip netns exec "$ns" "$build/bench/gwart-bench-udpfwd" --addr 198.18.0.1 \
		--bytes "$1" --duration "$dur" --cpu-fwd "$wcpu" --cpus-other "$hcpu" \
		--label "udpfwd-$2" --json "$out/json/udpfwd-$2.json" >"$out/logs/udpfwd-$2.log" 2>&1 ||
		note "udpfwd-$2 failed: see logs/udpfwd-$2.log"
	grep '^SUMMARY' "$out/logs/udpfwd-$2.log"
	cleanup
}

peer_nats() {
	if ! command -v nats-server >/dev/null || [ ! -x "$build/bench/gwart-bench-nats" ]; then
		note "NATS skipped: nats-server or libnats-dev (gwart-bench-nats) not installed"
		return
	fi
	ns_up
	js="$out/logs/nats-store"
	rm -rf "$js"
	ip netns exec "$ns" nats-server -a 198.18.0.1 -p 4222 -js -sd "$js" \
		>"$out/logs/nats-server.log" 2>&1 &
	bg_pid=$!
	sleep 1
	for mode in core js; do
		for p in $1; do
			n="nats-$mode-$p"
			ip netns exec "$ns" "$build/bench/gwart-bench-nats" \
				--url nats://198.18.0.1:4222 --mode $mode --payload "$p" \
				--duration "$dur" --server-pid "$bg_pid" --dup 0.01 --label "$n" \
				--json "$out/json/$n.json" >"$out/logs/$n.log" 2>&1 ||
				note "$n failed: see logs/$n.log"
			grep '^SUMMARY' "$out/logs/$n.log"
		done
	done
	kill "$bg_pid" 2>/dev/null
	wait "$bg_pid" 2>/dev/null
	bg_pid=""
	rm -rf "$js"
	cleanup
}

# ---- scenario tap: SDK connectors over the Linux stack ----------------------
scenario_tap() {
	name=tap-base
	count=${GB_TAP_COUNT:-200000}
	ns="gwart-bench-tap-$$"
	gw_netns_create "$ns"
	log="$out/logs/$name.log"
	# Protocol v2: both connectors share one fresh secret (gwart-conn pair
	# takes one), in files only we may read.
	kdir=$(mktemp -d)
	(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$kdir/key")
	key=$(cat "$kdir/key")
	(umask 077 && cat >"$kdir/gwartd.json" <<EOF
{ "udp_port": 4790, "ports": [ { "ip": "198.18.0.1" } ],
  "connectors": [ { "id": 1, "name": "tap-src", "key": "$key" },
                  { "id": 2, "name": "tap-dst", "key": "$key" } ],
  "routes": [ { "type": "smtp", "pattern": "notes.demo.example",
                "targets": [ { "connector": 2, "cost": 10 } ] } ] }
EOF
	)
	key=""
	ip netns exec "$ns" "$build/control/gwartd" --lcores="0@$lc_h,1@$lc_w" --no-huge \
		-m 512 --no-pci --no-shconf --file-prefix="gbtap$$" --log-level=warning \
		--vdev=net_tap0,iface=gbtap0 -- --config "$kdir/gwartd.json" \
		>"$out/logs/$name-gwartd.log" 2>&1 &
	bg_pid=$!
	if ! gw_wait_link "$ns" gbtap0 30; then
		note "$name: gwartd did not create its tap"
		status=1
		cleanup
		return
	fi
	ip -n "$ns" addr add 198.18.0.2/24 dev gbtap0
	ip -n "$ns" link set gbtap0 up
	i=0
	until grep -q running "$out/logs/$name-gwartd.log"; do
		i=$((i + 1))
		[ $i -gt 300 ] && break
		sleep 0.1
	done
	u0=$(thread_utime "$bg_pid" rte-worker-1 all)
	t0=$(date +%s.%N)
	ip netns exec "$ns" "$build/bench/gwart-conn" pair --router 198.18.0.1 \
		--bind 198.18.0.2 --src-id 1 --dst-id 2 --dest smtp:user@notes.demo.example \
		--key-file "$kdir/key" \
		--count "$count" --payload 64 --timeout 120 --label tap >"$log" 2>&1
	rc=$?
	rm -rf "$kdir"
	t1=$(date +%s.%N)
	u1=$(thread_utime "$bg_pid" rte-worker-1 all)
	kill -TERM "$bg_pid" 2>/dev/null
	wait "$bg_pid"
	bg_pid=""
	cleanup
	line=$(grep '^tap: sent=' "$log" | tail -n 1)
	echo "SUMMARY scenario=tap $line"
	[ $rc -eq 0 ] || { note "$name FAILED (rc=$rc): see logs/$name.log"; status=1; }
	python3 - "$out/json/$name.json" "$line" "$rc" "$u0" "$u1" "$t0" "$t1" <<'PY'
import json, re, sys
path, line, rc, u0, u1, t0, t1 = sys.argv[1:]
kv = dict(re.findall(r"(\w+)=([0-9.]+)", line))
deliv = int(kv.get("delivered", 0))
cpu = float(u1) - float(u0)
json.dump({"tool": "gwart-conn", "params": {"scenario": "tap", "label": "tap-base",
           "payload": 64, "connectors": "gwart-conn pair (SDK, kernel UDP sockets)"},
           "result": {"ok": int(rc == "0"), "rate_msg_s": float(kv.get("rate", 0)),
                      "messages": deliv, "lost": int(kv.get("lost", 0)),
                      "duplicates": int(kv.get("duplicates", 0)),
                      "worker_user_s": cpu,
                      "rate_per_worker_core": deliv / cpu if cpu > 0 else 0,
                      "wall_s": float(t1) - float(t0)}}, open(path, "w"), indent=1)
PY
}

# ---- authentication on vs off (protocol v2) -----------------------------------
# The worker alone on CPU $wcpu, everything else on $hcpu, whatever the host
# (the comparison needs the worker's own CPU); pairs interleaved so the
# host's drift hits both sides alike; testpmd between pairs as the yardstick.
scenario_auth() {
	pairs=${GB_AUTH_PAIRS:-6}
	run_gb crypto crypto --cpus-workers "$wcpu" --no-float
	grep -v '^CRYPTO\|^SUMMARY\|CRYPTODEV' "$out/logs/crypto.log"
	fl=""
	lc_h=$hcpu
	lc_w=$wcpu
	i=1
	while [ $i -le "$pairs" ]; do
		run_gb "auth-on-$i" inproc --cpus-harness "$hcpu" --cpus-workers "$wcpu" --no-float
		run_gb "auth-off-$i" inproc --cpus-harness "$hcpu" --cpus-workers "$wcpu" \
			--no-float --no-auth
		peer_testpmd "auth-testpmd-$i" "--vdev=net_null0 --vdev=net_null1"
		i=$((i + 1))
	done
	python3 - "$out" "$pairs" <<'PY'
import json, statistics, sys
out, pairs = sys.argv[1], int(sys.argv[2])
def res(n):
    try: return json.load(open("%s/json/%s.json" % (out, n)))["result"]
    except Exception: return {}
# Capacity, not offered load: the worker's busy cycles per message (the
# harness limits the rate, so messages per CPU second say little). A pair
# counts only when both runs checked out (exactly once, settled).
ratios = []
for i in range(1, pairs + 1):
    on, off, tp = res("auth-on-%d" % i), res("auth-off-%d" % i), res("auth-testpmd-%d" % i)
    c_on, c_off = on.get("busy_cycles_per_msg", 0), off.get("busy_cycles_per_msg", 0)
    good = on.get("ok") and off.get("ok") and c_on > 0 and c_off > 0
    if good: ratios.append(c_off / c_on)
    print("pair %d: busy cycles/msg on %.0f off %.0f; capacity on/off %.3f%s; testpmd %.1f M pkt/s per core"
          % (i, c_on, c_off, c_off / c_on if c_on else 0, "" if good else " (not counted: a run failed or has no busy figure)",
             tp.get("rate_per_core", 0) / 1e6))
if ratios:
    m = statistics.median(ratios)
    print("AUTH pairs=%d capacity_on_over_off_median=%.3f min=%.3f max=%.3f target=0.80 met=%d"
          % (len(ratios), m, min(ratios), max(ratios), int(m >= 0.80)))
PY
}

# ---- gwart beside testpmd, pinned: the ratio (-r) and the matrix (-m) -------
# gb_once NAME [args...]: one gwart-bench inproc run (args after the
# defaults, so they override them) under $run_limit seconds: a run past it
# is stopped, leaves no JSON and its row says why, never a figure.
gb_once() {
	# Names of their own: sh has no local variables, and the callers' loops
	# hold theirs (name, log, rc) across this call.
	gbo_name=$1
	shift
	gbo_log="$out/logs/$gbo_name.log"
	timeout -k 10 -s INT "$run_limit" "$gb" inproc --duration "$dur" --warmup 0.5 \
		--label "$gbo_name" --json "$out/json/$gbo_name.json" "$@" </dev/null >"$gbo_log" 2>&1
	gbo_rc=$?
	if [ $gbo_rc -eq 124 ] || [ $gbo_rc -eq 137 ]; then
		rm -f "$out/json/$gbo_name.json"
		echo "gwart-bench: stopped after $run_limit s (GB_RUN_LIMIT)" >>"$gbo_log"
	fi
	gbo_line=$(grep '^SUMMARY' "$gbo_log" | tail -n 1)
	[ -n "$gbo_line" ] || gbo_line="$gbo_name: no SUMMARY (rc=$gbo_rc): $(tail -n 1 "$gbo_log")"
	echo "$gbo_line" | cut -c 1-240
}

# testpmd_5tswap LOG: bench/testpmd.sh's run, on the harness's and the
# worker's CPUs
testpmd_5tswap() {
	gb_testpmd_5tswap "$1" "$hcpu" "$wcpu"
}

scenario_ratio() {
	set --
	i=1
	while [ $i -le "$reps" ]; do
		gb_once "ratio-gwart-$i" --payload 64 --routes 1000 --cpus-harness "$hcpu" \
			--cpus-workers "$wcpu" --no-float
		testpmd_5tswap "$out/logs/ratio-testpmd-$i.log"
		set -- "$@" "$out/json/ratio-gwart-$i.json" "$out/logs/ratio-testpmd-$i.log"
		i=$((i + 1))
	done
	python3 "$report" ratio "$@"
}

# Rows from bench/report.py matrix-plan (NAME, testpmd after it, args,
# what), in order, GB_REPS rounds; @HALF@: half the base row's rate of the
# same round.
scenario_matrix() {
	plan="$out/matrix-plan.txt"
	q=""
	[ $quick = 1 ] && q=--quick
	python3 "$report" matrix-plan $q --ncpu "$ncpu" --cpus "$hcpu,$wcpu" >"$plan" || return 1
	tab=$(printf '\t')
	# Rows that ran past $run_limit once are not tried again: a set-up that
	# slow (65,535 connectors: > 120 s, 21 GB at 0343485) would only cost
	# the other rows their quiet host.
	slow=" "
	k=1
	while [ "$k" -le "$reps" ]; do
		while IFS="$tab" read -r name tp args what; do
			case $slow in
			*" $name "*)
				echo "gwart-bench: skipped: it ran past GB_RUN_LIMIT ($run_limit s) in an earlier round" \
					>"$out/logs/mx-$name-$k.log"
				echo "mx-$name-$k: skipped (ran past $run_limit s before)"
				continue
				;;
			esac
			case $args in
			*@HALF@*)
				if half=$(python3 "$report" half-rate "$out/json/mx-base-$k.json" 2>/dev/null)
				then
					args=$(echo "$args" | sed "s/@HALF@/$half/")
				else
					echo "gwart-bench: the base row has no rate in round $k" \
						>"$out/logs/mx-$name-$k.log"
					echo "mx-$name-$k: not run (no base rate)"
					continue
				fi
				;;
			esac
			# shellcheck disable=SC2086
			gb_once "mx-$name-$k" $args
			if [ $gbo_rc -eq 124 ] || [ $gbo_rc -eq 137 ]; then
				slow="$slow$name "
			fi
			[ "$tp" = 1 ] && testpmd_5tswap "$out/logs/mx-$name-$k-testpmd.log"
		done <"$plan"
		k=$((k + 1))
	done
	python3 "$report" matrix "$out"
}

# ---- the run ----------------------------------------------------------------
[ -x "$gb" ] || { echo "bench: $gb not built" >&2; exit 1; }
host_json
if [ $auth_only = 1 ]; then
	scenario_auth
	exit $status
fi
if [ $mode = ratio ]; then
	echo "bench: ratio, $reps repetitions: gwart-bench inproc (harness CPU $hcpu, worker CPU $wcpu, ${dur}s) then dpdk-testpmd 5tswap net_null (same lcores, ${GB_TESTPMD_SECONDS:-7} s); load average $(cut -d' ' -f1-3 /proc/loadavg)"
	scenario_ratio
	exit $?
fi
if [ $mode = matrix ]; then
	echo "bench: matrix, $reps round(s), harness CPU $hcpu, worker CPU $wcpu, ${dur}s per gwart run; load average $(cut -d' ' -f1-3 /proc/loadavg)"
	scenario_matrix
	exit $?
fi
if [ "$float" = 1 ]; then
	echo "bench: $ncpu CPUs, threads not pinned (shared host), ${dur}s per run"
else
	echo "bench: $ncpu CPUs, harness on CPU $hcpu, worker on CPU $wcpu, ${dur}s per run"
fi

run_gb inproc-base inproc
# The same pinned (worker alone on its CPU): faster when the host leaves
# that CPU alone; inconclusive rather than wrong when it does not.
[ "$float" = 1 ] && run_gb inproc-pinned inproc --cpus-harness "$hcpu" --cpus-workers "$wcpu" \
	--no-float
run_gb inproc-stages inproc --stage-stats
run_gb inproc-pool-ring inproc --pool-ops ring_mp_mc
if [ $quick = 1 ]; then
	payloads="64 1024 8192"
	routes="10 1000 100000"
	stage_routes="1000"
else
	payloads="64 256 1024 4096 8192"
	routes="10 1000 10000 100000 1000000"
	stage_routes="1000 100000 1000000"
fi
for p in $payloads; do run_gb "inproc-payload-$p" inproc --payload "$p"; done
for r in $routes; do run_gb "inproc-routes-$r" inproc --routes "$r"; done
run_gb inproc-zipf-100000 inproc --routes 100000 --pop zipf
run_gb inproc-conns-512 inproc --origins 256 --dests 256 --rx-window 64 --custody-limit 128
run_gb inproc-workers-2 inproc --workers 2 --cpus-workers "0-$((ncpu - 1))"
run_gb inproc-faults inproc --drop 0.01 --dup 0.01
run_gb inproc-halfload inproc --rate "$(half_rate)"
run_gb memif-base memif
for r in $stage_routes; do run_gb "stages-$r" stages --routes "$r"; done
scenario_tap
# Whole messages of 1 KB, 64 KB and 1 MiB (issue 11; bench/msgsize.sh for
# more rounds): one round, the same tap set-up.
GB_MSG_BYTES=${GB_MSG_BYTES:-$([ $quick = 1 ] && echo 64000000 || echo 256000000)} \
	sh "$here/bench/msgsize.sh" -b "$build" -o "$out" -r 1 ||
	{ note "msgsize FAILED: see logs/msg-*.log"; status=1; }

peer_testpmd testpmd-null "--vdev=net_null0 --vdev=net_null1"
peer_testpmd testpmd-ring "--vdev=net_ring0 --vdev=net_ring1" --tx-first
peer_udpfwd $((40 + 18 + 64)) 64
[ $quick = 1 ] || peer_udpfwd $((40 + 18 + 1024)) 1024
if [ $quick = 1 ]; then peer_nats "64"; else peer_nats "64 1024"; fi

sed -i "s/\"quick\": $quick}/\"quick\": $quick, \"load_end\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}/" \
	"$out/json/host.json"
python3 "$here/bench/report.py" "$out" || status=1
echo "bench: report in $out/report.md"
exit $status
