#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Build and run the wire parser fuzz target.
#   run.sh <srcroot> <outdir> <seconds>
# Builds <outdir>/fuzz_wire with libFuzzer + ASan + UBSan, runs it for
# <seconds> on a scratch copy of the committed seed corpus (the committed
# seeds are never modified), and prints "fuzz wire: N runs, OK". A crash,
# leak, sanitizer report or oracle failure exits non-zero; the input that
# caused it is left in <outdir> as crash-*/leak-*/timeout-*, and the
# log in <outdir>/fuzz_wire.log.
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 <srcroot> <outdir> <seconds>" >&2
	exit 2
fi
src=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
secs=$3
case $secs in
'' | *[!0-9]*) echo "seconds must be a positive integer" >&2; exit 2 ;;
esac

CC=${CC:-clang}
# Sanitizer findings must end the run: UBSan would otherwise print and go on.
"$CC" -O1 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$src/include" "$src/dataplane/wire.c" "$src/tests/fuzz/fuzz_wire.c" \
	-o "$out/fuzz_wire"

corpus=$(mktemp -d "$out/corpus.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
cp "$src"/tests/fuzz/corpus/wire/* "$corpus"/

log=$out/fuzz_wire.log
# -max_len above GW_FRAME_MAX so over-long frames are tried too.
rc=0
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
"$out/fuzz_wire" -max_total_time="$secs" -max_len=9000 -timeout=10 \
	-dict="$src/tests/fuzz/wire.dict" -artifact_prefix="$out/" \
	-print_final_stats=1 "$corpus" >"$log" 2>&1 || rc=$?

if [ "$rc" -ne 0 ]; then
	tail -n 40 "$log" >&2
	echo "fuzz wire: FAILED (exit $rc), see $log" >&2
	exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
if [ -z "$runs" ]; then
	tail -n 20 "$log" >&2
	echo "fuzz wire: FAILED (no final stats), see $log" >&2
	exit 1
fi
echo "fuzz wire: $runs runs, OK"
