#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The benchmark report on a fresh Debian 12 machine, in one command (as root):
#   sh deploy/bench.sh [-q] [-o OUT_DIR]
# Installs what is missing (deploy/setup.sh's packages plus the peers:
# nats-server, libnats-dev, gnuplot-nox), builds, runs bench/run.sh (gwart's
# scenarios and its peers side by side) and leaves OUT_DIR/report.md,
# OUT_DIR/results.json and the PNG plots (default OUT_DIR: ./bench-out).
# -q: quick (fewer points per sweep). GB_DURATION, GB_CPUS, GB_FLOAT: see
# bench/run.sh.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${GWART_BUILD:-"$here/build"}

peers="dpdk nats-server libnats-dev gnuplot-nox python3 iproute2"
missing=""
for p in $peers; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "bench: missing packages:$missing (run as root)" >&2
		exit 1
	fi
	echo "bench: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# Builds (and installs the build dependencies). A build configured before
# libnats-dev was installed learns about it on reconfiguration.
"$here/deploy/setup.sh" "$build"
if [ ! -x "$build/bench/gwart-bench-nats" ] && pkg-config --exists libnats; then
	meson setup --reconfigure "$build" >/dev/null
	ninja -C "$build" >/dev/null
fi
exec sh "$here/bench/run.sh" -b "$build" "$@"
