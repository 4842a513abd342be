#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Messages of several frames are routed as one (issue 11): through a real
# gwartd, with every connector a gwforge socket holding its real key
# (group_route.py says what each case sends and expects):
#   a route change (gwartctl route add) between a group's chunks: every
#   chunk reaches the destination its first chunk went to;
#   failover: a never-transmitted group moves whole to the second choice,
#   one with a chunk transmitted stays whole for the first and reaches it
#   when it comes back;
#   hostile chunks from another address of the namespace (a group id reused
#   with other lengths, a group above max_message, extensions that
#   contradict themselves, a chunk under another connector's id): refused
#   and counted under their own reasons; gwartd stays up and stops on
#   SIGTERM in its usual time.
. "$GWART_SRC/tests/integration/lib.sh"
EVIL=198.18.0.3

cat >"$TMP/gwartd.json" <<JSON
{
  "udp_port": 4790,
  "ports": [ { "ip": "$ROUTER" } ],
  "tunables": { "keepalive_ms": 200, "keepalive_mult": 3, "max_message": 100000 },
  "connectors": [
    { "id": 1, "name": "origin" }, { "id": 2, "name": "first" }, { "id": 3, "name": "second" },
    { "id": 4, "name": "hostile" }, { "id": 5, "name": "fo-main" }, { "id": 6, "name": "fo-backup" }
  ],
  "routes": [
    { "type": "smtp", "pattern": "*.grp.example", "targets": [ { "connector": 2, "cost": 10 } ] },
    { "type": "smtp", "pattern": "*.fo.example",
      "targets": [ { "connector": 5, "cost": 10 }, { "connector": 6, "cost": 20 } ] },
    { "type": "smtp", "pattern": "*.hx.example", "targets": [ { "connector": 3, "cost": 10 } ] }
  ]
}
JSON
add_keys "$TMP/gwartd.json"
start_gwartd "$TMP/gwartd.json"
ip -n "$NS" addr add "$EVIL/24" dev "$TAP"

in_ns python3 "$GWART_SRC/tests/integration/group_route.py" "$FORGE" "$CTL" "$GW_SOCK" \
	$ROUTER 4790 $HOST $EVIL "$TMP/keys" >"$TMP/group.json" ||
	{ cat "$TMP/group.json"; fail "wrong answer (above)"; }
cat "$TMP/group.json"
kill -0 "$GWARTD_PID" || fail "gwartd died"
"$CTL" --socket "$GW_SOCK" status >/dev/null || fail "gwartctl status: no answer"
"$CTL" --socket "$GW_SOCK" get max_message | grep -q 100000 || fail "max_message not as configured"

t0=$(date +%s)
stop_gwartd
t1=$(date +%s)
[ $((t1 - t0)) -le 10 ] || fail "SIGTERM took $((t1 - t0)) s"

python3 - "$TMP/group.json" "$TMP/stats.json" <<'PY' || fail "counters wrong"
import json, os, sys
sys.path.insert(0, os.environ["GWART_SRC"] + "/tests/integration")
from forge import reason_count
exp = json.load(open(sys.argv[1]))["hostile"]["expect"]
st = json.load(open(sys.argv[2]))
ok = True
for k, n in exp.items():
    got = reason_count(st, k)
    print(f"{k:16} expected>={n:3} counted={got}")
    ok &= got >= n
for k in ("groups_started", "groups_done", "groups_moved", "failover_group_kept"):
    print(f"{k:20} {st[k]}")
    ok &= st[k] >= 1
sys.exit(0 if ok else 1)
PY
echo "PASS($T)"
