#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Checks that every installed header under include/gwart/ stands alone: it
# compiles by itself with only the include root on the path (-Wall -Wextra
# -Werror), survives being included twice, and pulls in no DPDK header and
# nothing from the router's own tree (dataplane/, control/, or any other
# file of the repository outside include/). Headers are found by globbing,
# so one added later is covered without touching this test.
# Usage: check_headers.sh INCLUDE_DIR CC [CC_ARGS...]
set -eu
inc=$(cd "$1" && pwd) && shift
root=$(dirname "$inc")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail=0 n=0
for h in "$inc"/gwart/*.h; do
	[ -e "$h" ] || { echo "FAIL: no header under $inc/gwart"; exit 1; }
	name=gwart/$(basename "$h")
	n=$((n + 1))
	echo "#include <$name>" >"$tmp/one.c"
	if ! "$@" -fsyntax-only -Wall -Wextra -Werror -I "$inc" "$tmp/one.c" \
		>"$tmp/log" 2>&1; then
		echo "FAIL: $name does not compile alone with -I include:"
		sed 's/^/  /' "$tmp/log"
		fail=1
		continue
	fi
	printf '#include <%s>\n#include <%s>\n' "$name" "$name" >"$tmp/twice.c"
	if ! "$@" -fsyntax-only -Wall -Wextra -Werror -I "$inc" "$tmp/twice.c" \
		>"$tmp/log" 2>&1; then
		echo "FAIL: $name cannot be included twice (include guard?):"
		sed 's/^/  /' "$tmp/log"
		fail=1
	fi
	# Every file the preprocessor opened for it, resolved: relative
	# includes ("../../dataplane/x.h") resolve too, so this catches what
	# a textual check of the #include lines would not.
	"$@" -M -I "$inc" "$tmp/one.c" | sed -e 's/^[^:]*://' -e 's/\\$//' |
		tr ' ' '\n' | sed '/^$/d' >"$tmp/deps"
	while read -r d; do
		case $d in "$tmp"/*) continue ;; esac
		r=$(realpath "$d")
		case $r in
		"$inc"/*) ;;
		"$root"/*)
			echo "FAIL: $name includes ${r#"$root"/} (outside include/)"
			fail=1 ;;
		*/dpdk/* | */rte_*.h | */generic/rte_*)
			echo "FAIL: $name includes a DPDK header: $r"
			fail=1 ;;
		esac
	done <"$tmp/deps"
done
[ "$fail" -eq 0 ] || exit 1
echo "ok: $n headers stand alone"
