#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Guarantee 3: a route names connector 2 (cost 10) and connector 3 (cost 20).
# Connector 2 takes a few messages (receive window 4) and then freezes
# (SIGSTOP): the router transmitted those few to it and queues the rest. When
# its keepalives stop, its session goes down and, one keepalive interval
# later, its never-transmitted messages move to connector 3; the transmitted
# ones stay. It thaws (SIGCONT), reconnects by itself and gets those.
# Checked: every acknowledged message delivered exactly once over both
# destinations, some moved, none delivered to both.
. "$GWART_SRC/tests/integration/lib.sh"
count=100000
CONN="$GWART_BUILD/bench/gwart-conn"

cfg=$(write_config '"keepalive_ms": 200, "keepalive_mult": 3, "custody_limit": 4096')
python3 - "$cfg" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["routes"].append({"type": "smtp", "pattern": "*.fo.example",
                    "targets": [{"connector": 2, "cost": 10}, {"connector": 3, "cost": 20}]})
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
start_gwartd "$cfg"

recv() { # ID OUT [extra...]
	id=$1 out=$2
	shift 2
	# Not through in_ns (a shell function): $! must be gwart-conn itself,
	# the process the test freezes.
	ip netns exec "$NS" "$CONN" recv --router $ROUTER --bind $HOST --id "$id" \
		$(ckey "$id") --out "$out" \
		--timeout 180 "$@" >>"$TMP/recv$id.log" 2>&1 &
}
recv 2 "$TMP/d2a.out" --rx-window 4
d2=$!
recv 3 "$TMP/d3.out"
d3=$!
sleep 0.5
in_ns "$CONN" send --router $ROUTER --bind $HOST --src-id 1 $(ckey 1) \
	--dest smtp:fran@a.fo.example \
	--count $count --out "$TMP/acked.out" --timeout 180 >"$TMP/send.log" 2>&1 &
snd=$!
# Freeze connector 2 while the stream is still young.
sleep 0.2
kill -STOP $d2
wait $snd || { cat "$TMP/send.log"; fail "sender did not get every message acknowledged"; }
kill -CONT $d2
i=0
while :; do
	n=$(cat "$TMP"/d2a.out "$TMP"/d3.out 2>/dev/null | wc -l)
	[ "$n" -ge $count ] && break
	i=$((i + 1))
	[ $i -gt 600 ] && fail "only $n of $count delivered"
	sleep 0.1
done
sleep 0.5
kill -TERM $d2 $d3 2>/dev/null || true
wait $d2 $d3 || true
stop_gwartd

python3 - "$TMP" $count <<'PY' || fail "exactly-once over failover violated"
import collections, sys
tmp, count = sys.argv[1], int(sys.argv[2])
def ids(name):
    try:
        return [tuple(l.split()) for l in open(f"{tmp}/{name}") if l.strip()]
    except FileNotFoundError:
        return []
acked = set(ids("acked.out"))
d2 = ids("d2a.out")
d3 = ids("d3.out")
got = collections.Counter(d2 + d3)
dups = sum(n - 1 for n in got.values() if n > 1)
both = set(d2) & set(d3)
print(f"acked={len(acked)} to2={len(d2)} to3={len(d3)} dups={dups} both={len(both)}")
ok = len(acked) == count and set(got) == acked and dups == 0 and not both and len(d3) > 0
sys.exit(0 if ok else 1)
PY
moved=$(conn_stat 2 moved)
echo "router: moved from connector 2: $moved, connector 3 delivered $(conn_stat 3 delivered)"
[ "$moved" -gt 0 ] || fail "nothing failed over"
echo "PASS($T)"
