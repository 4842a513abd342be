#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# gwartd started with only --config FILE (no EAL arguments of its own) takes
# EAL's from the file: deploy/examples/dev-2core.json, its tap, file prefix
# and key files made the test's own, comes up on net_tap without hugepages
# ("hugepages": false), prints the EAL arguments it built, answers ICMP echo
# on the file's port address and gwartctl on its socket, and stops cleanly.
# Then the same file with EAL arguments on the command line: those win (a
# second tap named only there comes up; the file's is not created) and the
# file's "eal" is reported unused.
. "$GWART_SRC/tests/integration/lib.sh"

GWARTD="$GWART_BUILD/control/gwartd"
cfg="$TMP/dev.json"
python3 - "$GWART_SRC/deploy/examples/dev-2core.json" "$cfg" "$TAP" "$NS" \
	"$(key_file 1)" "$(key_file 2)" <<'EOF'
import json, sys
src, dst, tap, prefix, k1, k2 = sys.argv[1:]
d = json.load(open(src))
assert d["eal"]["hugepages"] is False and d["eal"]["lcores"] == "0-1"
d["ports"][0]["device"] = "net_tap0,iface=" + tap
d["eal"]["file_prefix"] = prefix
for c, k in zip(d["connectors"], (k1, k2)):
    c["key_file"] = k
json.dump(d, open(dst, "w"), indent=1)
EOF
ip=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"][0]["ip"])' "$cfg")
[ "$ip" = "$ROUTER" ] || fail "dev example's port is $ip, not $ROUTER"

# wait_running: until gwartd says it runs (or exits).
wait_running() {
	i=0
	until grep -q ': running$' "$TMP/gwartd.log"; do
		i=$((i + 1))
		[ $i -gt 300 ] && fail "gwartd did not start"
		kill -0 "$GWARTD_PID" 2>/dev/null || fail "gwartd exited"
		sleep 0.1
	done
}

gw_netns_create "$NS"
ip netns exec "$NS" "$GWARTD" --config "$cfg" --socket "$GW_SOCK" \
	--stats-file "$TMP/stats.json" >"$TMP/gwartd.log" 2>&1 &
GWARTD_PID=$!
gw_wait_link "$NS" "$TAP" 30 || fail "gwartd did not create $TAP (the file's device)"
ip -n "$NS" addr add "$HOST/24" dev "$TAP"
ip -n "$NS" link set "$TAP" up
wait_running
want="gwartd: EAL arguments from $cfg: --lcores=0-1 --main-lcore=0 --no-huge -m 512"
want="$want --file-prefix=$NS --vdev=net_tap0,iface=$TAP --no-pci --log-level=warning"
grep -qxF "$want" "$TMP/gwartd.log" || fail "EAL arguments not as the file says"
grep -q '^gwartd: 1 worker(s), 1 port(s), udp port 4790' "$TMP/gwartd.log" ||
	fail "not 1 worker on 1 port"
if command -v ping >/dev/null 2>&1; then
	in_ns ping -c 2 -i 0.2 -W 2 "$ROUTER" >/dev/null || fail "no ICMP echo from $ROUTER"
fi
n=$("$CTL" --socket "$GW_SOCK" --json connectors |
	python3 -c 'import json,sys
d = json.load(sys.stdin)
print(len(d["connectors"] if isinstance(d, dict) else d))') ||
	fail "gwartctl connectors failed"
[ "$n" = 2 ] || fail "$n connectors, not the file's 2"
stop_gwartd

# Command-line EAL arguments win over the file's.
TAP2="gwu$$"
rm -f "$TMP/stats.json"
ip netns exec "$NS" "$GWARTD" --lcores=0-1 --no-huge -m 512 --no-pci --no-shconf \
	--file-prefix="$NS-cli" --log-level=warning --vdev="net_tap0,iface=$TAP2" -- \
	--config "$cfg" --socket "$GW_SOCK" --stats-file "$TMP/stats.json" \
	>"$TMP/gwartd.log" 2>&1 &
GWARTD_PID=$!
gw_wait_link "$NS" "$TAP2" 30 || fail "gwartd did not create $TAP2 (the command line's)"
wait_running
ip -n "$NS" link show "$TAP" >/dev/null 2>&1 && fail "the file's $TAP exists too"
grep -q 'EAL arguments from the command line: the config.s "eal" and ports\[\]\.device are not used' \
	"$TMP/gwartd.log" || fail "no note that the file's EAL keys are unused"
grep -q 'EAL arguments from /' "$TMP/gwartd.log" && fail "the file's EAL arguments printed"
stop_gwartd
echo "PASS($T): EAL from the file (net_tap, no hugepages), command line wins"
