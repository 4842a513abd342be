#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# completion.sh GWARTCTL COMPLETION_FILE: the bash completion of gwartctl,
# sourced in bash and called as bash calls it (COMP_WORDS, COMP_CWORD):
# commands, subcommands and options come from the gwartctl being completed
# (its --help, read at completion time: a command added to --help is
# completed); tunable names and connector ids from the daemon, here a fake
# gwartctl on $PATH standing in for one (tests/integration/completion.sh
# asks a live gwartd); nothing, and nothing on stderr, when no daemon
# answers.
set -eu
ctl=$1
comp=$2
command -v bash >/dev/null 2>&1 || { echo "SKIP: no bash"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
# The fake: the real --help plus one command no gwartctl has; canned
# tables for "connectors" and "get" (the real printers' headers), exit 4
# (daemon down) when $FAKE_DOWN is set.
cat >"$tmp/bin/gwartctl" <<FAKE
#!/bin/sh
for a in "\$@"; do
	case \$a in
	--help) "$ctl" --help; echo "  frobnicate WIDGET [--hard] [--file F]"; exit 0 ;;
	esac
done
[ -n "\${FAKE_DOWN:-}" ] && { echo "gwartctl: gwartd is not running" >&2; exit 4; }
echo "\$*" >>"$tmp/calls"
case " \$* " in
*" connectors "*) printf '%s\n' "ID  NAME   STATE" "   7  mail  up" "  42  notes  down" ;;
*" get "*) printf '%s\n' "NAME  VALUE  UNIT" "burst  32  packets" "keepalive_ms  1000  ms" "keepalive_mult  3  intervals" ;;
esac
FAKE
chmod +x "$tmp/bin/gwartctl"
touch "$tmp/cap-file.pcapng"

cat >"$tmp/run.bash" <<'BASH'
comp=$1; shift
. "$comp"
# c WORD... : complete the last word; prints the sorted candidates.
c() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_gwartctl
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}
fails=0
want() { # want EXPECTED WORD...
	local exp=$1; shift
	local got
	got=$(c "$@")
	if [ "$got" != "$exp" ]; then
		echo "FAIL: [$*] -> '$got', expected '$exp'"
		fails=$((fails + 1))
	fi
}
# contains WORD-LIST WORD...: every word of the list among the candidates.
contains() {
	local exp=$1; shift
	local got w
	got=" $(c "$@") "
	for w in $exp; do
		case $got in *" $w "*) ;; *) echo "FAIL: [$*] lacks $w: '$got'"; fails=$((fails + 1)) ;; esac
	done
}
contains "status stats connectors sessions routes route connector get set shutdown keygen batch top" gwartctl ""
want "frobnicate" gwartctl fro               # a command only --help knows
want "connector connectors" gwartctl conn
want "add del disable drain enable reconnect set-key" gwartctl connector ""
want "add del" gwartctl route ""
want "--socket" gwartctl --s
want "--json" gwartctl --j
want "--drain --timeout" gwartctl shutdown --
want "--interval --once" gwartctl top --
want "--file --hard" gwartctl frobnicate w --
want "--key --key-file" gwartctl connector add 9 x --
want "$TMPD/cap-file.pcapng" gwartctl frobnicate w --file "$TMPD/cap"
want "$TMPD/cap-file.pcapng" gwartctl capture start --file "$TMPD/cap"   # F.pcapng
want "--connector --file --snaplen" gwartctl capture start --
want "--with-keys" gwartctl config show --
# Live values (the fake daemon), after global options.
want "42 7" gwartctl connector del ""
want "42" gwartctl --socket /x/s.sock --json connector drain 4
want "42 7" gwartctl connectors ""
want "42 7" gwartctl route add smtp '*' 7:10 ""
want "keepalive_ms keepalive_mult" gwartctl set keep
want "burst keepalive_ms keepalive_mult" gwartctl get ""
want "" gwartctl set burst ""                # a value: nothing to offer
want "" gwartctl connector add ""            # a new id: nothing to offer
grep -q -- "--socket /x/s.sock" "$CALLS" || { echo "FAIL: --socket not passed to the daemon"; fails=$((fails + 1)); }
# The daemon down: nothing, quietly.
FAKE_DOWN=1
export FAKE_DOWN
want "" gwartctl connector del ""
want "" gwartctl get ""
want "connector connectors" gwartctl conn    # commands need no daemon
exit $fails
BASH
out=$(PATH="$tmp/bin:$PATH" TMPD="$tmp" CALLS="$tmp/calls" bash "$tmp/run.bash" "$comp" 2>"$tmp/err") || {
	printf '%s\n' "$out"
	cat "$tmp/err"
	echo "FAIL: completion"
	exit 1
}
[ -s "$tmp/err" ] && { cat "$tmp/err"; echo "FAIL: completion wrote to stderr"; exit 1; }
echo "PASS: gwartctl completion (commands from --help, live ids and tunables, quiet without a daemon)"
