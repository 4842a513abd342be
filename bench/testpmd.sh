#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The yardstick every gwart figure of issue 9 is read against, one
# definition for bench/run.sh (-r, -m) and bench/compare.sh:
#
#   . bench/testpmd.sh
#   gb_testpmd_5tswap LOG HCPU WCPU
#
# dpdk-testpmd --forward-mode=5tswap on two net_null ports, its main lcore
# on HCPU (gwart's harness CPU) and its one forwarding core on WCPU (gwart's
# worker CPU), stopped with SIGINT after GB_TESTPMD_SECONDS (7), output in
# LOG; run once more for twice as long when that gave fewer than 3
# per-second blocks (a loaded host's EAL start-up). Exit status 124 is the
# intended one. bench/report.py reads the per-second
# Rx-pps lines (testpmd_rates: the first dropped) and turns them into
# cycles per packet at gwart-bench's TSC rate. GB_TESTPMD: the binary.

gb_testpmd_5tswap() {
	_tp=${GB_TESTPMD:-dpdk-testpmd}
	if ! command -v "$_tp" >/dev/null; then
		echo "$_tp is not installed" >"$1"
		return 127
	fi
	_secs=${GB_TESTPMD_SECONDS:-7}
	_gb_testpmd_once "$1" "$2" "$3" "$_secs"
	_rc=$?
	# Fewer than 3 per-second blocks (the first is dropped) leaves at most
	# one second to count: on a loaded host EAL alone can take most of the
	# 7 s. Once more, twice as long, saying so at the top of the log.
	_n=$(grep -c 'Port statistics' "$1")
	if [ "$_n" -lt 3 ]; then
		_gb_testpmd_once "$1.again" "$2" "$3" $((_secs * 2))
		_rc=$?
		{ echo "gb_testpmd_5tswap: run again for $((_secs * 2)) s: $_secs s gave $_n per-second block(s)"
		  cat "$1.again"; } >"$1"
		rm -f "$1.again"
	fi
	return $_rc
}

_gb_testpmd_once() {
	# stdin from /dev/null: without it testpmd may wait for a key, or eat
	# the caller's loop input.
	timeout -k 5 -s INT "$4" "$_tp" --lcores="0@$2,1@$3" --no-huge \
		-m 1024 --no-pci --no-shconf --vdev=net_null0 --vdev=net_null1 -- \
		--forward-mode=5tswap --nb-cores=1 --stats-period=1 --total-num-mbufs=16384 \
		</dev/null >"$1" 2>&1
}
