#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# man.sh GWARTCTL PAGE...: each built man page renders with man(1) at 80
# columns without a warning from groff and without a line wider than 80;
# every command of `gwartctl --help` has an entry under COMMANDS in
# gwartctl(8) (its words start an entry heading) and every option it shows
# appears in the page; every error name of include/gwart/ctl.h is under
# ERRORS.
set -eu
ctl=$1
shift
command -v man >/dev/null 2>&1 || { echo "SKIP: no man (Debian package man-db)"; exit 77; }
for page in "$@"; do
	[ -f "$page" ] || { echo "SKIP: $page not built (no scdoc: Debian package scdoc)"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for page in "$@"; do
	name=$(basename "$page")
	# --warnings: groff's -ww, every warning it has; man-db's own complaints
	# go to stderr too.
	MANWIDTH=80 MAN_KEEP_FORMATTING= man --warnings -E UTF-8 -l "$page" \
		>"$tmp/$name.txt" 2>"$tmp/$name.err" || { cat "$tmp/$name.err"; echo "FAIL: man -l $name"; exit 1; }
	if [ -s "$tmp/$name.err" ]; then
		cat "$tmp/$name.err"
		echo "FAIL: man -l $name warns"
		exit 1
	fi
	# man -l pipes through col -b when not on a terminal: plain text.
	[ "$(wc -l <"$tmp/$name.txt")" -gt 50 ] || { cat "$tmp/$name.txt"; echo "FAIL: $name nearly empty"; exit 1; }
	awk -v n="$name" 'length > 80 { print n ": " length " columns: " $0; bad = 1 } END { exit bad }' \
		"$tmp/$name.txt" || { echo "FAIL: $name wider than 80 columns"; exit 1; }
	grep -q '^NAME' "$tmp/$name.txt" || { echo "FAIL: $name has no NAME section"; exit 1; }
	cp "$tmp/$name.txt" "$tmp/$(echo "$name" | sed 's/\.8$//').txt"
done
[ -f "$tmp/gwartctl.txt" ] || { echo "FAIL: gwartctl.8 not among the pages"; exit 1; }
"$ctl" --help >"$tmp/help" || { echo "FAIL: gwartctl --help"; exit 1; }
ctlh=$(dirname "$0")/../../include/gwart/ctl.h
python3 - "$tmp/help" "$tmp/gwartctl.txt" "$ctlh" <<'PY'
import re, sys
help_txt = open(sys.argv[1]).read().splitlines()
man = open(sys.argv[2]).read().splitlines()
ctl_h = open(sys.argv[3]).read()

def section(name):
    out, on = [], False
    for l in man:
        if re.match(r"^[A-Z][A-Z ]+$", l):
            on = l.strip() == name
        elif on:
            out.append(l)
    return out

# Entry headings under COMMANDS: 7 columns in (bodies are at 11, the
# subsection titles at 3); "a ID, b ID" is two headings.
heads = []
for l in section("COMMANDS"):
    if re.match(r"^ {7}\S", l):
        heads += [h.strip() for h in l.split(", ")]
if len(heads) < 10:
    sys.exit("FAIL: only %d command entries under COMMANDS: %r" % (len(heads), heads))
text = "\n".join(man)
fails, cmds = [], []
for l in help_txt:
    m = re.match(r"^  ([a-z].*?)(  |$)", l)
    if not m:
        m = re.match(r"^  (--[a-z-]+)", l)
        if m and m.group(1) not in "\n".join(section("OPTIONS")):
            fails.append("option %s of gwartctl --help not under OPTIONS" % m.group(1))
        continue
    syn = m.group(1).split()
    words = [syn[0]]
    if len(syn) > 1 and re.match(r"^[a-z][a-z-]*(\|[a-z][a-z-]*)*$", syn[1]):
        words.append(syn[1])
    alts = [words[0]] if len(words) == 1 else \
        ["%s %s" % (words[0], w) for w in words[1].split("|")]
    for cmd in alts:
        cmds.append(cmd)
        if not any(h == cmd or h.startswith(cmd + " ") for h in heads):
            fails.append("command '%s' of gwartctl --help has no entry in gwartctl(8)" % cmd)
    for o in re.findall(r"--[a-z][a-z-]*", m.group(1)):
        if o not in text:
            fails.append("option %s (%s) not in gwartctl(8)" % (o, m.group(1)))
if len(cmds) < 15:
    fails.append("only %d commands parsed from gwartctl --help" % len(cmds))
errs = set(re.findall(r'#define GW_CTL_E[A-Z0-9]+ "([A-Z0-9]+)"', ctl_h))
if len(errs) < 5:
    fails.append("only %d error names parsed from ctl.h" % len(errs))
errsec = "\n".join(section("ERRORS"))
for e in sorted(errs):
    if not re.search(r"^ {7}%s$" % e, errsec, re.M):
        fails.append("error %s (include/gwart/ctl.h) not under ERRORS in gwartctl(8)" % e)
for f in fails:
    print("FAIL: " + f + " (deploy/man/gwartctl.8.scd)")
if fails:
    sys.exit(1)
print("PASS: %d commands of gwartctl --help documented, %d error names" % (len(cmds), len(errs)))
PY
echo "PASS: man -l renders $* at 80 columns without warnings"
