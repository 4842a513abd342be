#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The command-line contract of gwart-conn and gwart-faultlink that scripts
# rely on: --help exits 0 on stdout, a usage error exits 2 with one message
# naming the option on stderr. No router, no root: nothing here runs a link.
#   cli.sh GWART-CONN GWART-FAULTLINK
set -u
conn=$1
fl=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0

# expect RC PATTERN CMD...: CMD exits RC and its stdout+stderr match PATTERN.
expect() {
	want=$1 pat=$2
	shift 2
	rc=0
	"$@" >"$tmp/out" 2>&1 || rc=$?
	if [ "$rc" -ne "$want" ] || ! grep -Eq -- "$pat" "$tmp/out"; then
		echo "FAIL: $* -> exit $rc (want $want), output:"
		cat "$tmp/out"
		bad=1
	fi
}

expect 0 '^usage:' "$conn" --help
expect 0 '^  --payload BYTES .*\[24\.\.8192\] \(default 64\)' "$conn" pair --help
expect 2 '^usage:' "$conn"
expect 2 "unknown mode 'bogus'" "$conn" bogus
expect 2 '--payload: 10 is out of range \(accepted: 24\.\.8192\)' \
	"$conn" pair --router 127.0.0.1 --src-id 1 --dst-id 2 --dest a --count 1 --payload 10
expect 2 '--dest is required' "$conn" pair --router 127.0.0.1 --src-id 1 --dst-id 2 --count 1
expect 2 "unknown option '--bogus'" "$conn" recv --router 127.0.0.1 --id 2 --bogus
K=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
expect 2 '--expect acked\|NO_ROUTE' \
	"$conn" send --router 127.0.0.1 --src-id 1 --dest a --count 1 --expect nonsense --key $K
# Protocol v2: a key is required, must be one, and a per-id key file
# (%u) must exist for every connector the mode opens.
expect 2 '--key HEX or --key-file FILE is required' \
	"$conn" recv --router 127.0.0.1 --id 2
expect 2 '--key: not 64 hex digits' "$conn" recv --router 127.0.0.1 --id 2 --key 0123
expect 2 'exclude each other' \
	"$conn" recv --router 127.0.0.1 --id 2 --key $K --key-file "$tmp/k"
(umask 077 && echo $K >"$tmp/k1" && echo $K >"$tmp/k2")
expect 2 "--key-file $tmp/k3: No such file" \
	"$conn" pair --router 127.0.0.1 --src-id 1 --dst-id 3 --dest a --count 1 --key-file "$tmp/k%u" \
	--timeout 0.001
# Whole messages (issue 11): --size-max turns them on; sizes checked.
P="pair --router 127.0.0.1 --src-id 1 --dst-id 2 --dest a --count 1 --key $K"
expect 0 '^  --size-max BYTES ' "$conn" pair --help
expect 2 "--size-max: '0' is not BYTES" "$conn" $P --size-max 0
expect 2 "--size-max: '67108865' is not BYTES" "$conn" $P --size-max 67108865
expect 2 "--size-max: '-1' is not BYTES" "$conn" $P --size-max -1
expect 2 "--size-min: '67108865' is not BYTES" "$conn" $P --size-max 9 --size-min 67108865
expect 2 '--size-min 10 is above --size-max 5' "$conn" $P --size-min 10 --size-max 5
expect 2 '--size-dist log or uniform' "$conn" $P --size-max 5 --size-dist normal
expect 2 '--size-min, --size-dist and --max-message go with --size-max' \
	"$conn" $P --size-dist log
expect 2 '--size-min, --size-dist and --max-message go with --size-max' \
	"$conn" $P --max-message 100
expect 2 '--size-min, --size-dist and --max-message go with --size-max' "$conn" $P --size-min 0
expect 2 'whole messages \(--size-max\) are for pair and send' \
	"$conn" recv --router 127.0.0.1 --id 2 --key $K --size-max 100
expect 0 '^usage: gwart-faultlink' "$fl" --help
expect 2 '^usage: gwart-faultlink' "$fl"
expect 2 '--seed is required' "$fl" --listen 127.0.0.1:0 --upstream 127.0.0.1:9
expect 2 "--listen: '127.0.0.1' is not IP:PORT" \
	"$fl" --listen 127.0.0.1 --upstream 127.0.0.1:9 --seed 1
expect 2 '--drop-up: 101 is out of range \(accepted: 0\.\.100\)' \
	"$fl" --listen 127.0.0.1:0 --upstream 127.0.0.1:9 --seed 1 --drop-up 101
exit $bad
