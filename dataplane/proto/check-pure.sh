#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Keeps the protocol core pure: every #include of a file in $1 (dataplane/proto)
# must name a header of proto itself, a public header under $2 (include/), or
# one of the C library headers below (no I/O, no threads, no allocation); never
# DPDK. Prints each offending line and exits 1. Used at configure time and as a
# unit test.
proto=$1
pub=$2
# sodium.h: libsodium is computation (auth.c); its randombytes reads getrandom,
# which only control-side callers use (salts, epochs, keys), never a worker.
allowed=' assert.h endian.h errno.h inttypes.h limits.h sodium.h stdbool.h stddef.h stdint.h string.h time.h '
bad=0
tmp=$(mktemp) || exit 2
for f in "$proto"/*.c "$proto"/*.h; do
	[ -e "$f" ] || continue
	grep -nE '^[[:space:]]*#[[:space:]]*include' "$f" > "$tmp"
	while IFS= read -r hit; do
		n=${hit%%:*}
		line=${hit#*:}
		inc=$(printf '%s\n' "$line" | sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1/p')
		if [ -z "$inc" ]; then
			echo "$f:$n: $line (computed include)"
			bad=1
			continue
		fi
		name=$(printf '%s\n' "$inc" | sed 's/^.\(.*\).$/\1/')
		ok=0
		case "$name" in
		*rte_*|*..*) ok=0 ;;
		*/*) [ -f "$pub/$name" ] && ok=1 ;;
		*) if [ -f "$proto/$name" ]; then ok=1
		   else case "$allowed" in *" $name "*) ok=1 ;; esac; fi ;;
		esac
		case "$inc" in
		'"'*) [ -f "$proto/$name" ] || [ -f "$pub/$name" ] || ok=0 ;;
		esac
		if [ $ok -eq 0 ]; then
			echo "$f:$n: $line"
			bad=1
		fi
	done < "$tmp"
done
rm -f "$tmp"
exit $bad
