#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The benchmark report on a fresh Debian 12 machine, in one command (as root):
#   sh deploy/bench.sh [-q] [-o OUT_DIR]
#   sh deploy/bench.sh --ratio [-o OUT_DIR]
#   sh deploy/bench.sh --matrix [-q] [-o OUT_DIR]
# Installs what is missing (deploy/setup.sh's packages, dpdk-testpmd among
# them, plus for the full report the peers: nats-server, libnats-dev,
# gnuplot-nox), builds, runs bench/run.sh and leaves its output in OUT_DIR
# (default ./bench-out).
# Without a mode: gwart's scenarios and its peers side by side,
# OUT_DIR/report.md, OUT_DIR/results.json and the PNG plots; -q: quick
# (fewer points per sweep).
# --ratio: gwart inproc and dpdk-testpmd 5tswap on net_null, same lcores,
# 3 repetitions interleaved (GB_REPS); ends with exactly one line
#   ratio: gwart/testpmd-5tswap = R (gwart C cycles/msg, testpmd T cycles/pkt, spread S %)
# --matrix: the issue-9 matrix (workers, payload, routes, connectors, each
# row with its own testpmd ratio; residence at half load), OUT_DIR/matrix.md;
# -q: a smoke run.
# GB_DURATION, GB_CPUS, GB_FLOAT, GB_REPS: see bench/run.sh.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${GWART_BUILD:-"$here/build"}

mode=""
for a in "$@"; do
	case $a in
	--ratio) mode=-r ;;
	--matrix) mode=-m ;;
	esac
done
if [ -n "$mode" ]; then
	# The modes need gwart and dpdk-testpmd (the dpdk package, one of
	# setup.sh's own), not the peers.
	n=$#
	while [ "$n" -gt 0 ]; do
		a=$1
		shift
		case $a in
		--ratio | --matrix) ;;
		*) set -- "$@" "$a" ;;
		esac
		n=$((n - 1))
	done
	"$here/deploy/setup.sh" "$build"
	exec sh "$here/bench/run.sh" -b "$build" "$mode" "$@"
fi

# The peers install with the build dependencies, before the build is
# configured; a build configured earlier, without libnats-dev, learns about
# it on reconfiguration below.
GWART_EXTRA_PKGS="nats-server libnats-dev gnuplot-nox" "$here/deploy/setup.sh" "$build"
if [ ! -x "$build/bench/gwart-bench-nats" ] && pkg-config --exists libnats; then
	meson setup --reconfigure "$build" >/dev/null
	ninja -C "$build" >/dev/null
fi
exec sh "$here/bench/run.sh" -b "$build" "$@"
