#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# "sh deploy/demo.sh mail" as a test: its last line is the verdict with
# nothing lost or duplicated and the refused recipient's bounce back, and it
# is the only such line. Skips where the SMTP connectors are not built (the
# direct harness runs in it_mail_direct).
set -u
: "${GWART_BUILD:?}" "${GWART_SRC:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (netns, net_tap)"; exit 77; }
[ -x "$GWART_BUILD/connectors/smtp/gwart-smtp" ] ||
	{ echo "SKIP: gwart-smtp is not built"; exit 77; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=40
GWART_BUILD="$GWART_BUILD" GWART_DEMO_MAIL_COUNT=$n sh "$GWART_SRC/deploy/demo.sh" mail >"$out" 2>&1
rc=$?
fail() { cat "$out" >&2; echo "FAIL(demo_mail): $*" >&2; exit 1; }
[ $rc -eq 0 ] || fail "demo.sh mail exited $rc"
last=$(tail -n 1 "$out")
# One message of the n goes to the refused recipient: n-1 are deliverable.
[ "$last" = "mail: sent=$((n - 1)) delivered=$((n - 1)) duplicates=0 lost=0 bounced=1" ] ||
	fail "last line: $last"
[ "$(grep -c '^mail: sent=' "$out")" = 1 ] || fail "more than one verdict line"
echo "PASS(demo_mail): $last"
