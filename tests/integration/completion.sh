#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The bash completion of gwartctl (deploy/completion/gwartctl) against a
# live gwartd: connector ids are those `gwartctl --json connectors` lists
# (also after one is added at run time), tunable names those of
# `gwartctl --json get`; the --socket typed on the line is the one asked;
# once gwartd has stopped, nothing and nothing on stderr.
. "$GWART_SRC/tests/integration/lib.sh"
command -v bash >/dev/null 2>&1 || { echo "SKIP: no bash"; exit 77; }
COMP="$GWART_SRC/deploy/completion/gwartctl"

# complete WORD...: the sorted candidates for the last word, on one line.
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		_gwartctl; printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " " | sed "s/ \$//"' \
		sh "$COMP" "$@" 2>>"$TMP/comp.err"
}
# json_words CMD EXPR: the values EXPR picks from `gwartctl --json CMD`, sorted.
json_words() {
	"$CTL" --socket "$GW_SOCK" --json "$1" >"$TMP/j.json" || fail "gwartctl $1"
	python3 -c "import json,sys; print(' '.join(sorted(str(x) for x in $2)))" "$TMP/j.json"
}

start_gwartd "$(write_config)"
ids=$(json_words connectors '[c["id"] for c in json.load(open(sys.argv[1]))]')
[ "$ids" = "1 2 3 4" ] || fail "connectors: $ids"
got=$(complete_words "$CTL" --socket "$GW_SOCK" connector del "")
[ "$got" = "$ids" ] || fail "connector del: '$got', expected '$ids'"
"$CTL" --socket "$GW_SOCK" connector add 77 extra --key "$(key_hex 1)" >/dev/null ||
	fail "connector add 77"
got=$(complete_words "$CTL" --socket "$GW_SOCK" connectors 7)
[ "$got" = 77 ] || fail "connectors 7: '$got', expected 77"
got=$(complete_words "$CTL" --socket="$GW_SOCK" route add smtp '*.x' "")
[ "$got" = "1 2 3 4 77" ] || fail "route add target: '$got'"
names=$(json_words get '[t["name"] for t in json.load(open(sys.argv[1]))]')
[ "$(echo "$names" | wc -w)" -ge 10 ] || fail "tunables: $names"
got=$(complete_words "$CTL" --socket "$GW_SOCK" get "")
[ "$got" = "$names" ] || fail "get: '$got', expected '$names'"
got=$(complete_words "$CTL" --socket "$GW_SOCK" set rto)
[ "$got" = "rto_max_us rto_us" ] || fail "set rto: '$got'"
# Another socket on the line: that daemon is asked (there is none).
got=$(complete_words "$CTL" --socket "$TMP/other.sock" connector del "")
[ -z "$got" ] || fail "--socket ignored: '$got'"
stop_gwartd
got=$(complete_words "$CTL" --socket "$GW_SOCK" connector del "")
[ -z "$got" ] || fail "no daemon: '$got'"
got=$(complete_words "$CTL" --socket "$GW_SOCK" connector "")
[ "$got" = "add del disable drain enable reconnect set-key" ] || fail "connector: '$got'"
[ -s "$TMP/comp.err" ] && { cat "$TMP/comp.err" >&2; fail "completion wrote to stderr"; }
echo "PASS($T)"
