#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The real `gwartd --check-config FILE` (no EAL, no root): a file with
# several errors exits 2 with exactly those lines on stderr, and the shipped
# example, its key files pointed at real 0600 files, exits 0, and so does
# every deploy/examples file.
#   check_config.sh GWARTD SOURCE_ROOT
set -u
gwartd=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$tmp/bad.json" <<'JSON'
{
  "udp_port": 0,
  "bogus": true,
  "connectors": [
    { "id": 1, "name": "a", "key": "00ff" },
    { "id": 1, "name": "b", "key_file": "/nonexistent/gwart.key" }
  ],
  "routes": [
    { "type": "smtp", "pattern": "*", "targets": [ { "connector": 9 } ] }
  ]
}
JSON
cat >"$tmp/want" <<EOF2
$tmp/bad.json:2:3: udp_port: not an integer in 1..65535
$tmp/bad.json:3:3: bogus: unknown key
$tmp/bad.json:5:29: connectors[0] (id 1): "key" is not 64 hexadecimal digits or the base64 of 32 bytes, not all zero
$tmp/bad.json:6:7: connectors[1] (id 1): duplicate id (connectors[0])
$tmp/bad.json:6:29: connectors[1] (id 1): key file /nonexistent/gwart.key: No such file or directory
$tmp/bad.json:9:54: routes[0] (smtp:*): targets[0]: unknown connector 9
EOF2
"$gwartd" --check-config "$tmp/bad.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "bad file: exit $rc, not 2"
[ ! -s "$tmp/out" ] || fail "bad file: stdout not empty"
diff -u "$tmp/want" "$tmp/err" || fail "bad file: lines differ"

# "log": each type and level checked where it stands; the old tunable
# log_level says where levels went.
cat >"$tmp/log.json" <<'JSON'
{
  "log": { "sesion": "debug",
           "session": "loud", "control": 5, "all": "notice", "gwart.config": "debug" },
  "tunables": { "log_level": 2 }
}
JSON
cat >"$tmp/want" <<EOF2
$tmp/log.json:2:12: log.sesion: unknown log type (dataplane, control, session, config or all)
$tmp/log.json:3:12: log.session: not a log level (emerg, alert, crit, err, warning, notice, info, debug)
$tmp/log.json:3:31: log.control: not a log level (emerg, alert, crit, err, warning, notice, info, debug)
$tmp/log.json:4:17: tunable log_level: replaced by "log": {"control": LEVEL} (levels per type: dataplane, control, session, config)
EOF2
"$gwartd" --check-config "$tmp/log.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "log: exit $rc, not 2"
diff -u "$tmp/want" "$tmp/err" || fail "log: lines differ"
printf '{ "log": { "all": "notice", "gwart.session": "debug", "dataplane": "7" } }\n' \
	>"$tmp/log-ok.json"
"$gwartd" --check-config "$tmp/log-ok.json" 2>"$tmp/err" ||
	{ cat "$tmp/err"; fail "log: valid levels refused"; }

# "allow_from": each bad entry at its own place; a good list passes.
cat >"$tmp/allow.json" <<'JSON'
{
  "connectors": [
    { "id": 1, "name": "a", "key": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      "allow_from": [ "198.18.0.2", "198.18.0.1/24", "198.18.0.0/24" ] },
    { "id": 2, "name": "b", "key": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
      "allow_from": [] }
  ]
}
JSON
cat >"$tmp/want" <<EOF2
$tmp/allow.json:4:37: connectors[0] (id 1): allow_from[1]: "198.18.0.1/24" has host bits set (the prefix is 198.18.0.0/24)
$tmp/allow.json:6:7: connectors[1] (id 2): "allow_from" is not an array of 1 to 16 IPv4 addresses or prefixes ("198.18.0.0/24"; leave it out to allow any address)
EOF2
"$gwartd" --check-config "$tmp/allow.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "allow_from: exit $rc, not 2"
diff -u "$tmp/want" "$tmp/err" || fail "allow_from: lines differ"
sed -e 's|"198.18.0.1/24", ||' -e 's|"allow_from": \[\]|"allow_from": [ "0.0.0.0/0" ]|' \
	"$tmp/allow.json" >"$tmp/allow-ok.json"
"$gwartd" --check-config "$tmp/allow-ok.json" 2>"$tmp/err" ||
	{ cat "$tmp/err"; fail "allow_from: a valid list refused"; }

# The example, with its key files here instead of /etc/gwart/keys.
mkdir "$tmp/keys"
for k in exchange-mail notes-mail notes-calendar notes-calendar-standby; do
	printf '%064x\n' 1 >"$tmp/keys/$k.key"
	chmod 600 "$tmp/keys/$k.key"
done
sed "s|/etc/gwart/keys/|$tmp/keys/|" "$src/deploy/gwartd.example.json" >"$tmp/example.json"
"$gwartd" --check-config "$tmp/example.json" 2>"$tmp/err" ||
	{ cat "$tmp/err"; fail "example: exit $?"; }
[ ! -s "$tmp/err" ] || fail "example: errors printed"
# A loose key file is the loader's refusal too.
chmod 644 "$tmp/keys/notes-mail.key"
"$gwartd" --check-config "$tmp/example.json" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "loose key: exit $rc, not 2"
grep -q "^$tmp/example.json:18:7: connectors\[1\] (id 2): key file .*notes-mail.key: mode 0644" \
	"$tmp/err" || { cat "$tmp/err"; fail "loose key: line missing"; }

# deploy/examples: each passes as shipped once the key files it names exist
# (the check reads them, as start-up would: they are the deployment's, so
# here they are pointed at 0600 files of the test's own).
for ex in "$src"/deploy/examples/*.json; do
	name=$(basename "$ex")
	for k in $(grep -o '/etc/gwart/keys/[^"]*' "$ex"); do
		printf '%064x\n' 7 >"$tmp/keys/$(basename "$k")"
		chmod 600 "$tmp/keys/$(basename "$k")"
	done
	sed "s|/etc/gwart/keys/|$tmp/keys/|" "$ex" >"$tmp/$name"
	"$gwartd" --check-config "$tmp/$name" 2>"$tmp/err" ||
		{ cat "$tmp/err"; fail "$name: exit $?"; }
	[ ! -s "$tmp/err" ] || fail "$name: errors printed"
	n=$((${n:-0} + 1))
done
[ "${n:-0}" -ge 2 ] || fail "only ${n:-0} example(s) under deploy/examples"
# Without its key files the production example is refused, naming each
# (not on a host that has them).
if [ ! -e /etc/gwart/keys ]; then
	"$gwartd" --check-config "$src/deploy/examples/prod-16core.json" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] || fail "prod example without keys: exit $rc, not 2"
	[ "$(grep -c ': key file /etc/gwart/keys/.*: No such file or directory$' "$tmp/err")" -eq \
		"$(grep -c key_file "$src/deploy/examples/prod-16core.json")" ] ||
		{ cat "$tmp/err"; fail "prod example without keys: not one line per key file"; }
fi
# gwartd --config FILE with no EAL arguments reads and checks FILE before
# EAL starts: a bad file stops it with its first error and no EAL output
# (no root, hugepages or devices needed to get there); --help is gwartd's.
"$gwartd" --config "$tmp/bad.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] || fail "--config bad file: exit $rc, not 1"
grep -qx "gwartd: config $tmp/bad.json: bogus: unknown key" "$tmp/err" ||
	{ cat "$tmp/err"; fail "--config bad file: first error not printed"; }
grep -q 'EAL' "$tmp/out" "$tmp/err" && { cat "$tmp/out" "$tmp/err"; fail "--config bad file: EAL ran"; }
"$gwartd" -- --config /nonexistent/gwartd.json >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -q '^gwartd: cannot read config /nonexistent/gwartd.json: ' "$tmp/err" ||
	{ cat "$tmp/err"; fail "-- --config missing file: exit $rc"; }
"$gwartd" --help >"$tmp/out" 2>&1 || fail "--help: exit $?"
grep -q '^       gwartd --config FILE \[OPTIONS\]$' "$tmp/out" &&
	grep -q '^EAL arguments are those before "--"' "$tmp/out" ||
	{ cat "$tmp/out"; fail "--help: no word on EAL arguments from the file"; }
echo "check_config: ok"
