#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# deploy/systemd/gwartd.service passes `systemd-analyze verify`. verify wants
# ExecStart's binary to exist, so a copy of the unit in the build dir points
# at the gwartd just built (everything else as shipped).
set -eu
command -v systemd-analyze >/dev/null 2>&1 ||
	{ echo "SKIP: no systemd-analyze"; exit 77; }
dir="$GWART_BUILD/deploy-systemd"
mkdir -p "$dir"
unit="$dir/gwartd.service"
sed "s|^ExecStart=/usr/local/bin/gwartd |ExecStart=$GWART_BUILD/control/gwartd |" \
	"$GWART_SRC/deploy/systemd/gwartd.service" >"$unit"
grep -q "^ExecStart=$GWART_BUILD/control/gwartd " "$unit" || { echo "FAIL: ExecStart not rewritten"; exit 1; }
out=$(systemd-analyze verify "$unit" 2>&1) || { echo "$out"; echo "FAIL: systemd-analyze verify"; exit 1; }
# verify exits 0 on some warnings: any line naming the unit is one.
if printf '%s\n' "$out" | grep -q 'gwartd.service'; then
	printf '%s\n' "$out"
	echo "FAIL: warnings about gwartd.service"
	exit 1
fi
echo "PASS: systemd-analyze verify gwartd.service"
