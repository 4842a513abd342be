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
# worker CPU), stopped with SIGINT after GB_TESTPMD_SECONDS (7; raise it on
# a host so loaded that EAL needs longer to start), output in LOG. Exit
# status 124 is the intended one. bench/report.py reads the per-second
# Rx-pps lines (testpmd_rates: the first dropped) and turns them into
# cycles per packet at gwart-bench's TSC rate. GB_TESTPMD: the binary.

gb_testpmd_5tswap() {
	_tp=${GB_TESTPMD:-dpdk-testpmd}
	if ! command -v "$_tp" >/dev/null; then
		echo "$_tp is not installed" >"$1"
		return 127
	fi
	# stdin from /dev/null: without it testpmd may wait for a key, or eat
	# the caller's loop input.
	timeout -k 5 -s INT "${GB_TESTPMD_SECONDS:-7}" "$_tp" --lcores="0@$2,1@$3" --no-huge \
		-m 1024 --no-pci --no-shconf --vdev=net_null0 --vdev=net_null1 -- \
		--forward-mode=5tswap --nb-cores=1 --stats-period=1 --total-num-mbufs=16384 \
		</dev/null >"$1" 2>&1
}
