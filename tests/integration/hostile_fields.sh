#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Hostile field values, protocol version 2: while connectors 1 and 2 stream
# through gwartd, another address of the namespace (198.18.0.3) sends with
# gwforge (hostile_fields.py) frames with every sequence field at 0, 1, 2^63
# and 2^64-1 (seq, ACK cum and base, bitmaps all ones, epochs 0, 1 and
# 2^32-1, HELLO.seq, rx_window), DATA that cannot leave within the
# destination's MTU, datagrams larger than an mbuf, and DATA without a
# route, all as connectors 3, 4 and 5 holding their real keys: every frame
# carries a valid tag and reaches the state machine, as a buggy connector's
# would. It also sends such frames under the honest connectors' ids without
# their keys. Afterwards gwartd must still answer gwartctl, stop on SIGTERM
# in its usual time, the honest stream must have delivered exactly once what
# was acknowledged (lost=0 duplicates=0), every frame the router sent the
# hostile sender must carry a valid tag, and the counters must have moved
# under the expected reasons. (Forgery itself, with and without sniffed
# values, is it_spoof's.)
. "$GWART_SRC/tests/integration/lib.sh"
EVIL=198.18.0.3
count=$((40000 * SCALE))

cat >"$TMP/gwartd.json" <<JSON
{
  "udp_port": 4790,
  "ports": [ { "ip": "$ROUTER" } ],
  "tunables": { },
  "connectors": [
    { "id": 1, "name": "mail" }, { "id": 2, "name": "notes" },
    { "id": 3, "name": "h3" }, { "id": 4, "name": "h4" }, { "id": 5, "name": "h5" }
  ],
  "routes": [
    { "type": "smtp", "pattern": "*.demo.example", "targets": [ { "connector": 2, "cost": 10 } ] },
    { "type": "smtp", "pattern": "hostile3.example", "targets": [ { "connector": 3, "cost": 10 } ] },
    { "type": "smtp", "pattern": "hostile4.example", "targets": [ { "connector": 4, "cost": 10 } ] },
    { "type": "smtp", "pattern": "hostile5.example", "targets": [ { "connector": 5, "cost": 10 } ] }
  ]
}
JSON
add_keys "$TMP/gwartd.json"
start_gwartd "$TMP/gwartd.json"
ip -n "$NS" addr add "$EVIL/24" dev "$TAP"
# The kernel side may send jumbo frames; the router's port stays at 1500.
ip -n "$NS" link set "$TAP" mtu 9000

in_ns "$GWART_BUILD/bench/gwart-conn" pair --router $ROUTER --bind $HOST --src-id 1 --dst-id 2 \
	$(ckey 1 2) --dest smtp:erin@x.demo.example --count "$count" --rate 4000 --payload 64 \
	--timeout 180 --label honest >"$TMP/pair.log" 2>&1 &
pair=$!
i=0
until [ "$(live routed)" -gt 1000 ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$TMP/pair.log"; fail "honest stream did not start"; }
	sleep 0.1
done

in_ns python3 "$GWART_SRC/tests/integration/hostile_fields.py" "$FORGE" $ROUTER 4790 $EVIL \
	"$(key_file 3)" "$(key_file 4)" "$(key_file 5)" "$TAP" >"$TMP/hostile.json" ||
	{ cat "$TMP/hostile.json"; fail "hostile sender: wrong answer"; }
cat "$TMP/hostile.json"
kill -0 "$GWARTD_PID" || fail "gwartd died"
"$CTL" --socket "$GW_SOCK" status >/dev/null || fail "gwartctl status: no answer after the attack"

wait $pair || { cat "$TMP/pair.log"; fail "the honest stream was harmed"; }
cat "$TMP/pair.log"
line=$(grep '^honest:' "$TMP/pair.log" | grep ' sent=')
echo "$line" | grep -q " sent=$count delivered=$count duplicates=0 lost=0 " ||
	fail "unexpected result: $line"
"$CTL" --socket "$GW_SOCK" status >/dev/null || fail "gwartctl status: no answer"

t0=$(date +%s)
stop_gwartd
t1=$(date +%s)
[ $((t1 - t0)) -le 10 ] || fail "SIGTERM took $((t1 - t0)) s"

python3 - "$TMP/hostile.json" "$TMP/stats.json" <<'PY' || fail "counters wrong"
import json, os, sys
sys.path.insert(0, os.environ["GWART_SRC"] + "/tests/integration")
from forge import reason_count
h = json.load(open(sys.argv[1]))["expect"]
st = json.load(open(sys.argv[2]))
ok = True
# A stale epoch: NO_SESSION (no session of that epoch) or STALE_EPOCH (an
# ACK of its sender's previous session).
stale = reason_count(st, "STALE")
print(f"{'STALE':12} expected>={h.get('STALE', 0):4} counted={stale}")
ok &= stale >= h.get("STALE", 0)
for k in ("BAD_ACK", "TOO_BIG", "PORT_RX", "NO_ROUTE"):
    got = reason_count(st, k)
    print(f"{k:12} expected>={h.get(k, 0):4} counted={got}")
    if got < h.get(k, 0):
        ok = False
print(f"acks_ignored expected>={h['acks_ignored']:4} counted={st['acks_ignored']}")
if st["acks_ignored"] < h["acks_ignored"]:
    ok = False
# TOO_BIG and NO_ROUTE come from the hostile sender alone: exactly what it sent.
for k in ("TOO_BIG", "NO_ROUTE"):
    if reason_count(st, k) != h[k]:
        print(f"{k} not exact")
        ok = False
for k in ("TOO_FAR", "BAD_SEQ"):
    print(f"{k:12} counted={reason_count(st, k)}")
    if reason_count(st, k) == 0:
        ok = False
sys.exit(0 if ok else 1)
PY
echo "PASS($T)"
