#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The README's first command, deploy/demo.sh, as a test: gwartd with no
# arguments (its embedded development default: EAL on --no-huge with the
# virtual port) routes the demo connectors' messages, and the script's last
# line is the verdict with nothing lost or duplicated. gwartd with no
# arguments once ran EAL with none at all (hugepages: "Cannot get hugepage
# information") after the EAL-from-config rework; nothing else started it so.
set -u
: "${GWART_BUILD:?}" "${GWART_SRC:?}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=20000
GWART_BUILD="$GWART_BUILD" GWART_DEMO_COUNT=$n sh "$GWART_SRC/deploy/demo.sh" >"$out" 2>&1
rc=$?
fail() { cat "$out" >&2; echo "FAIL(demo): $*" >&2; exit 1; }
grep -q "Cannot get hugepage" "$out" && fail "EAL looked for hugepages"
[ $rc -eq 0 ] || fail "demo.sh exited $rc"
last=$(tail -n 1 "$out")
case "$last" in
"demo: sent=$n delivered=$n duplicates=0 lost=0 "*) ;;
*) fail "last line: $last" ;;
esac
grep -q '^gwartd: rx_pkts' "$out" || fail "no router counters printed"
echo "PASS(demo): $last"
