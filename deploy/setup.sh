#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Install what gwart needs on Debian 12 (as root, no prompt) and build it.
#   deploy/setup.sh [BUILD_DIR] [extra meson options...]
# GWART_EXTRA_PKGS names further Debian packages to install first (the
# benchmark's peers).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$here/build"}
[ $# -gt 0 ] && shift

pkgs="build-essential pkg-config meson ninja-build
      dpdk dpdk-dev libdpdk-dev liburcu-dev libjemalloc-dev libcriterion-dev
      libjansson-dev libsodium-dev libsystemd-dev iproute2 iputils-ping python3 python3-cryptography clang libclang-rt-14-dev
      ${GWART_EXTRA_PKGS:-}"
pkgs="$pkgs scdoc"  # man pages gwartd(8), gwartctl(8) from deploy/man/*.scd
pkgs="$pkgs man-db"  # man -l in the man page test (tests/deploy/man.sh)
pkgs="$pkgs bash-completion"  # its completionsdir: where meson installs deploy/completion/gwartctl
pkgs="$pkgs libmicrohttpd-dev"  # gwartd's /metrics endpoint (control/metrics.c)
pkgs="$pkgs prometheus curl"  # it_metrics: promtool check metrics, a real prometheus, curl
pkgs="$pkgs tshark"  # it_dissector: decodes captures with deploy/wireshark/gwart.lua
pkgs="$pkgs postfix swaks"  # it_mail, demo.sh mail: two Postfix instances of their own

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing packages:$missing (run as root)" >&2
		exit 1
	fi
	echo "setup: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# Postfix without a system configuration: the tests and the demo run
	# instances of their own (postfix -c DIR); the host gets no MTA.
	echo "postfix postfix/main_mailer_type select No configuration" |
		debconf-set-selections
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	case " $missing " in
	*" postfix "*)
		# Installed by us: no system-wide Postfix on port 25, now or at
		# boot (the package enables its unit; without main.cf it does not
		# start, but a host whose policy lets it run must not get one).
		if [ -f /etc/postfix/main.cf ] && postfix status >/dev/null 2>&1; then
			postfix stop >/dev/null 2>&1 || true
		fi
		systemctl disable --now postfix.service >/dev/null 2>&1 ||
			systemctl disable postfix.service >/dev/null 2>&1 || true
		;;
	esac
fi

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$here" "$@" >/dev/null
fi
ninja -C "$build" >/dev/null
echo "setup: built in $build"
