#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The whole test suite: install what is missing, build and run every test
# twice (a normal build and an ASan+UBSan build) and end with one line
#   N passed, N failed
# summed over both. Exit status is non-zero on any failure.
#   GWART_FUZZ_SECONDS   libFuzzer time per target (default 30; long runs: 3600)
#   GWART_SOAK_SCALE     multiplies message counts of integration tests (default 1)
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
b1=${GWART_BUILD:-"$here/build"}
b2=${GWART_BUILD_SAN:-"$here/build-san"}

"$here/deploy/setup.sh" "$b1" || exit 1
"$here/deploy/setup.sh" "$b2" -Db_sanitize=address,undefined -Db_lundef=false \
	-Dbuildtype=debugoptimized || exit 1

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for b in "$b1" "$b2"; do
	echo "=== tests in $b"
	meson test -C "$b" --print-errorlogs --num-processes 1 || status=1
done

# Count results from both builds' machine-readable logs.
counts=$(python3 - "$b1/meson-logs/testlog.json" "$b2/meson-logs/testlog.json" <<'PY'
import json, sys
p = f = 0
for path in sys.argv[1:]:
    try:
        for line in open(path):
            r = json.loads(line)
            if r.get("result") in ("OK", "EXPECTEDFAIL"):
                p += 1
            elif r.get("result") != "SKIP":
                f += 1
    except FileNotFoundError:
        f += 1
print(p, f)
PY
)
set -- $counts
passed=$1
failed=$2
[ "$failed" -ne 0 ] && status=1
echo "$passed passed, $failed failed"
exit $status
