#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Logging through rte_log (issue 10): gwartd started with the lib's EAL
# --log-level=warning and a config naming a level per gwart type (the
# control type by its full name: lib.sh takes a "control" key for the
# control socket's section); then
# log_events.py: `gwartctl log` lists gwart.dataplane, .control, .session
# and .config at the config's levels, `gwartctl log session debug` makes a
# session event (reconnection probes) log at debug where it did not
# before, a connector flapping 30 times (gwforge HELLO + BYE from another
# address) gets a bounded number of session lines whose count plus the
# suppressed count is every session change, and a 10 s flood of non-gwart
# frames gets a bounded number of rate-limited drop lines that say what to
# do, add up to the drop counter and count what they suppressed. A reload
# of the file with other levels applies them, and config show prints the
# running levels. Then EAL's own --log-level=gwart.session:debug on the command line wins over
# the config (a second, short gwartd).
. "$GWART_SRC/tests/integration/lib.sh"
EVIL=198.18.0.3

cat >"$TMP/gwartd.json" <<JSON
{
  "udp_port": 4790,
  "ports": [ { "ip": "$ROUTER" } ],
  "log": { "dataplane": "warning", "gwart.control": "notice", "session": "notice",
           "config": "info" },
  "tunables": { "log_drop_interval_s": 3, "log_flap_interval_s": 4,
                "backoff_initial_ms": 100, "backoff_max_ms": 400 },
  "connectors": [ { "id": 3, "name": "c3" }, { "id": 4, "name": "c4" } ],
  "routes": [ { "type": "smtp", "pattern": "*", "targets": [ { "connector": 3 } ] } ]
}
JSON
add_keys "$TMP/gwartd.json"
start_gwartd "$TMP/gwartd.json"
ip -n "$NS" addr add "$EVIL/24" dev "$TAP"

in_ns python3 "$GWART_SRC/tests/integration/log_events.py" "$FORGE" "$CTL" "$GW_SOCK" \
	"$ROUTER:4790" "$EVIL" "$(key_file 3)" "$(key_file 4)" "$TMP/gwartd.log" ||
	fail "log events"
# Log levels are reloadable: the same file with other levels, and config
# show prints the running ones (a file reload accepts).
sed 's|"session": "notice"|"session": "err"|; s|"config": "info"|"config": "debug"|' \
	"$TMP/gwartd.json" >"$TMP/gwartd2.json"
"$CTL" --socket "$GW_SOCK" reload "$TMP/gwartd2.json" >/dev/null || fail "reload"
out=$("$CTL" --socket "$GW_SOCK" log) || fail "gwartctl log"
echo "$out" | grep -Eq '^gwart\.session +err *$' || fail "reload: session level not err: $out"
echo "$out" | grep -Eq '^gwart\.config +debug *$' || fail "reload: config level not debug"
"$CTL" --socket "$GW_SOCK" --json config show | python3 -c '
import json, sys
lg = json.load(sys.stdin)["config"]["log"]
want = {"dataplane": "warning", "control": "notice", "session": "err", "config": "debug"}
assert lg == want, lg' || fail "config show: log levels"
stop_gwartd

# The command line's --log-level for a gwart type wins over the config's
# (a fresh namespace: start_gwartd makes one).
gw_netns_destroy "$NS"
start_gwartd "$TMP/gwartd.json" 0-1 1 --log-level=gwart.session:debug
out=$("$CTL" --socket "$GW_SOCK" log) || fail "gwartctl log"
echo "$out"
echo "$out" | grep -Eq '^gwart\.session +debug *$' || fail "--log-level=gwart.session:debug lost"
echo "$out" | grep -Eq '^gwart\.control +notice *$' || fail "config's control level lost"
grep -q "config notice: log: gwart.session stays debug as --log-level gave it" "$TMP/gwartd.log" ||
	fail "no notice that the command line kept gwart.session"
stop_gwartd
echo "it_log: ok"
