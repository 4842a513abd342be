#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Checks that libgwart-connector exports its public API and nothing else:
# every dynamic symbol it defines is a gw_ function declared in a public
# header (include/gwart/), none is an SDK internal (gw_sdk_), and the set is
# exactly the version script's global list.
# Usage: check_exports.sh NM LIBGWART_CONNECTOR_SO VERSION_MAP INCLUDE_GWART_DIR
set -eu
nm=$1 so=$2 map=$3 hdrs=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The linker's version nodes (GWART_CONNECTOR_0 ...) are absolute symbols
# ("A"), not code or data: leave them out, and strip "@@NODE" from the rest.
"$nm" -D --defined-only "$so" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$tmp/exported"
# C comments out (the map and the headers use them), across lines.
nocomment() {
	awk '{
		line = $0; out = ""
		while (line != "") {
			if (inc) {
				i = index(line, "*/"); if (!i) break
				line = substr(line, i + 2); inc = 0
			} else {
				i = index(line, "/*"); if (!i) { out = out line; break }
				out = out substr(line, 1, i - 1); line = substr(line, i + 2); inc = 1
			}
		}
		print out
	}' "$@"
}
# The map's global lists: the names between "global:" and "local:" or the
# end of the node ("}"), over every version node (GWART_CONNECTOR_0, _1...).
nocomment "$map" | awk '/global:/ { on = 1; next } /local:/ || /}/ { on = 0 }
	on { gsub(/[ \t;]/, ""); if ($0 != "") print }' | sort -u >"$tmp/listed"
# What the public headers declare as functions (comments do not count).
nocomment "$hdrs"/*.h >"$tmp/decls"

fail=0
if [ ! -s "$tmp/exported" ]; then
	echo "FAIL: $so exports nothing (wrong file?)"
	exit 1
fi
bad=$(grep -v '^gw_' "$tmp/exported" || true)
if [ -n "$bad" ]; then
	echo "FAIL: symbols outside gw_*:"; echo "$bad" | sed 's/^/  /'
	fail=1
fi
bad=$(grep '^gw_sdk_' "$tmp/exported" || true)
if [ -n "$bad" ]; then
	echo "FAIL: SDK internals exported:"; echo "$bad" | sed 's/^/  /'
	fail=1
fi
for s in $(cat "$tmp/exported"); do
	if ! grep -qE "(^|[^A-Za-z0-9_])$s[[:space:]]*\(" "$tmp/decls"; then
		echo "FAIL: $s is exported but declared in no public header"
		fail=1
	fi
done
if ! cmp -s "$tmp/exported" "$tmp/listed"; then
	echo "FAIL: exports differ from the version script (< exported, > listed):"
	diff "$tmp/exported" "$tmp/listed" | grep '^[<>]' | sed 's/^/  /'
	fail=1
fi
[ "$fail" -eq 0 ] || exit 1
echo "ok: $(wc -l <"$tmp/exported") symbols, all gw_*, all public, all listed"
