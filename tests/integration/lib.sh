#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Shared set-up for integration tests: a network namespace per test, gwartd
# on a net_tap port inside it (198.18.0.1), the kernel side of the tap at
# 198.18.0.2, per-connector secret keys (protocol version 2) in the test's
# temporary directory, and teardown on exit. Nothing leaves the namespace.
#
# Environment from meson: GWART_BUILD (build dir), GWART_SRC (source dir).
set -eu
. "$GWART_SRC/deploy/netns.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (netns, net_tap)"; exit 77; }

T=$(basename "$0" .sh)
NS="gwt-$T-$$"
TAP="gwt$$"
TMP=$(mktemp -d)
GWARTD_PID=""
SCALE=${GWART_SOAK_SCALE:-1}
ROUTER=198.18.0.1
HOST=198.18.0.2
CTL="$GWART_BUILD/control/gwartctl"
FORGE="$GWART_BUILD/tests/tools/gwforge"
# The control socket start_gwartd gives gwartd unless its config names one.
GW_SOCK="$TMP/gwartd.sock"

it_cleanup() {
	[ -n "$GWARTD_PID" ] && kill "$GWARTD_PID" 2>/dev/null || true
	gw_netns_destroy "$NS"
	if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap it_cleanup EXIT INT TERM

fail() {
	echo "FAIL($T): $*" >&2
	[ -f "$TMP/gwartd.log" ] && { echo "--- gwartd log" >&2; tail -n 40 "$TMP/gwartd.log" >&2; }
	exit 1
}

# start_gwartd CONFIG_JSON_FILE [LCORES] [QUEUES] [EXTRA_EAL]
#   LCORES default "0-1"; EXTRA_EAL: more EAL arguments (split on blanks),
#   e.g. another --vdev, placed after the tap's so the tap stays port 0.
#   $GWARTD_ARGS: more gwartd arguments (e.g. --test-hooks).
start_gwartd() {
	cfg=$1
	lcores=${2:-0-1}
	queues=${3:-1}
	extra_eal=${4:-}
	# A control socket of the test's own unless its config names one, so
	# tests (and the two builds) never share /run/gwart.
	sock_arg=""
	grep -q '"control"' "$cfg" || sock_arg="--socket $GW_SOCK"
	# The namespace may exist already: a test that made it first (it_mail
	# puts its MTAs' addresses in it), or a restart after kill -9.
	[ -e "/run/netns/$NS" ] || gw_netns_create "$NS"
	# GWARTD_MEM: EAL's memory arguments (it_pdump: hugepages with a
	# shared configuration, which secondary processes need).
	ip netns exec "$NS" "$GWART_BUILD/control/gwartd" --lcores="$lcores" \
		${GWARTD_MEM:---no-huge -m 512 --no-shconf} \
		--no-pci --file-prefix="$NS" --log-level=warning \
		--vdev="net_tap0,iface=$TAP" $extra_eal -- --config "$cfg" $sock_arg \
		--stats-file "$TMP/stats.json" ${GWARTD_ARGS:-} >"$TMP/gwartd.log" 2>&1 &
	GWARTD_PID=$!
	gw_wait_link "$NS" "$TAP" 30 || fail "gwartd did not create $TAP"
	ip -n "$NS" addr add "$HOST/24" dev "$TAP"
	ip -n "$NS" link set "$TAP" up
	i=0
	until grep -q running "$TMP/gwartd.log"; do
		i=$((i + 1))
		[ $i -gt 300 ] && fail "gwartd did not start"
		kill -0 "$GWARTD_PID" 2>/dev/null || fail "gwartd exited"
		sleep 0.1
	done
}

# stop_gwartd: SIGTERM, wait, require a clean exit and the stats file.
stop_gwartd() {
	kill -TERM "$GWARTD_PID"
	rc=0
	wait "$GWARTD_PID" || rc=$?
	GWARTD_PID=""
	[ $rc -eq 0 ] || fail "gwartd exited with $rc"
	[ -f "$TMP/stats.json" ] || fail "no stats file"
}

# stat PATH.TO.KEY: a number from the stats file (python3 ships with meson).
stat() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d=d[int(k)] if isinstance(d,list) else d[k]
print(d)' "$TMP/stats.json" "$1"
}

# conn_stat ID KEY: a per-connector counter.
conn_stat() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print([c for c in d["connectors"] if c["id"]==int(sys.argv[2])][0][sys.argv[3]])' \
		"$TMP/stats.json" "$1" "$2"
}

# Packets the kernel dropped on their way into the router's tap port.
tap_tx_dropped() {
	ip -n "$NS" -s -j link show "$TAP" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["dropped"])'
}

# live KEY...: the named counters of the running gwartd (gwartctl stats,
# dotted paths), on one line.
live() {
	"$CTL" --socket "$GW_SOCK" --json stats >"$TMP/live.json" || fail "gwartctl stats failed"
	python3 - "$TMP/live.json" "$@" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for k in sys.argv[2:]:
    v = d
    for p in k.split("."):
        v = v[p]
    out.append(str(v))
print(" ".join(out))
EOF
}

# conn_live ID KEY: a per-connector counter of the running gwartd.
conn_live() {
	"$CTL" --socket "$GW_SOCK" --json stats >"$TMP/live.json" || fail "gwartctl stats failed"
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print([c for c in d["connectors"] if c["id"] == int(sys.argv[2])][0][sys.argv[3]])' \
		"$TMP/live.json" "$1" "$2"
}

in_ns() {
	ip netns exec "$NS" "$@"
}

# key_file ID: the path of connector ID's secret (32 random bytes as 64 hex
# digits, mode 0600: gwartd refuses a key file others can read), created
# on first use; every test's connectors have keys of their own.
key_file() {
	kf="$TMP/keys/$1.key"
	if [ ! -f "$kf" ]; then
		(umask 077 && mkdir -p "$TMP/keys" &&
			od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$kf" && echo >>"$kf")
	fi
	echo "$kf"
}

# key_hex ID: the same key as text (for gwartctl --key and gwforge).
key_hex() {
	tr -d '\n' <"$(key_file "$1")"
}

# key_id ID: the key's fingerprint as gwartd lists it (computed by gwforge
# through include/gwart/auth.h, never here).
key_id() {
	printf 'keyfile %s %s\nkeyid %s\n' "$1" "$(key_file "$1")" "$1" | "$FORGE" |
		sed -n 's/^ok key_id=//p'
}

# ckey ID...: gwart-conn's key option for connectors ID... (their key files
# made if need be): one file per id, "%u" in the name (gwart-conn reads
# each connector's own).
ckey() {
	for i in "$@"; do
		key_file "$i" >/dev/null
	done
	echo "--key-file $TMP/keys/%u.key"
}

# add_keys CONFIG: give every connector of a JSON config that has neither
# "key" nor "key_file" its own key file.
add_keys() {
	for i in $(python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["connectors"]:
    if "key" not in c and "key_file" not in c: print(c["id"])' "$1"); do
		key_file "$i" >/dev/null
	done
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for c in d["connectors"]:
    if "key" not in c and "key_file" not in c:
        c["key_file"] = "%s/%d.key" % (sys.argv[2], c["id"])
json.dump(d, open(sys.argv[1], "w"), indent=1)' "$1" "$TMP/keys"
}

# A config with connectors 1..N (N default 2) and the demo routes, plus
# optional extra tunables JSON (e.g. '"custody_limit": 64').
write_config() {
	tun=${1:-}
	cat >"$TMP/gwartd.json" <<JSON
{
  "udp_port": 4790,
  "ports": [ { "ip": "$ROUTER" } ],
  "tunables": { $tun },
  "connectors": [
    { "id": 1, "name": "mail" }, { "id": 2, "name": "notes" },
    { "id": 3, "name": "cal" }, { "id": 4, "name": "notify" }
  ],
  "routes": [
    { "type": "smtp", "pattern": "*.demo.example", "targets": [ { "connector": 2, "cost": 10 } ] },
    { "type": "smtp", "pattern": "backup.example", "targets": [ { "connector": 3, "cost": 10 }, { "connector": 4, "cost": 10 } ] },
    { "type": "notes", "pattern": "*/O=Demo", "targets": [ { "connector": 1, "cost": 10 } ] }
  ]
}
JSON
	add_keys "$TMP/gwartd.json"
	echo "$TMP/gwartd.json"
}
