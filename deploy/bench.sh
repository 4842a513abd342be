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

# The peers install with the build dependencies, before the build is
# configured; a build configured earlier, without libnats-dev, learns about
# it on reconfiguration below.
GWART_EXTRA_PKGS="nats-server libnats-dev gnuplot-nox" "$here/deploy/setup.sh" "$build"
if [ ! -x "$build/bench/gwart-bench-nats" ] && pkg-config --exists libnats; then
	meson setup --reconfigure "$build" >/dev/null
	ninja -C "$build" >/dev/null
fi
exec sh "$here/bench/run.sh" -b "$build" "$@"
