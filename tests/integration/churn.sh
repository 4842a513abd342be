#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Thousands of live changes through gwartctl while traffic flows: 2,000
# route add/del cycles on extra routes (x GWART_SOAK_SCALE), 200 connector
# add/route/disable/enable/reconnect/drain/del cycles on extra ids, the
# demo route replaced in place every 10 cycles and a tunable republished
# every 50, while gwart-conn pair streams 50,000 messages on the demo
# route, one in flight at a time so that the stream spans the churn (which
# repeats until the stream ends). Every change publishes a new object under
# RCU and retires the old one; under ASan (the sanitizer build) a worker
# touching a retired object aborts gwartd. Then: the pair saw no loss and
# no duplicate, the router took and delivered each message once, the route
# and connector tables are back to their baseline, every received packet
# is accounted for, and no drop reason appears that this traffic cannot
# cause.
# Args: [COUNT] [ROUTE_CYCLES] [CONN_CYCLES]
. "$GWART_SRC/tests/integration/lib.sh"
# Sanitizer build: an undefined-behaviour report must fail the run too.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

count=${1:-50000}
rcycles=$((${2:-2000} * SCALE))
ccycles=$((${3:-200} * SCALE))
CHUNK=100 # changes per gwartctl batch: one process per chunk

cfg=$(write_config)
export GWART_SOCKET="$GW_SOCK"
start_gwartd "$cfg"

# The changes, as gwartctl batch lines, CHUNK per file. Extra routes live
# in a sliding window of 50; extra connectors (ids 1000+) get a route of
# their own for part of their life, so deleting them must wait for it.
python3 - "$TMP" "$rcycles" "$ccycles" "$CHUNK" <<'EOF'
import secrets, sys
tmp, rc, cc, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lines = []
every = max(1, rc // max(1, cc))
j = 0
for i in range(1, rc + 1):
    lines.append(f"route add smtp r{i}.churn.example 2:{i % 7} 3:5")
    if i > 50:
        lines.append(f"route del smtp r{i - 50}.churn.example")
    if i % 10 == 0:  # same target, new object: workers must never miss it
        lines.append(f"route add smtp *.demo.example 2:{10 + i % 5}")
    if i % 50 == 0:
        lines.append(f"set busy_retry_us {2000 + i % 1000}")
    if i % every == 0 and j < cc:
        j += 1
        c = 1000 + j
        # Every connector its own key (deny by default: none without)
        lines += [f"connector add {c} churn{j} --key {secrets.token_hex(32)}",
                  f"route add smtp c{j}.churn.example {c}:1 3:2",
                  f"connector disable {c}", f"connector enable {c}",
                  f"connector reconnect {c}",
                  f"route del smtp c{j}.churn.example",
                  f"connector drain {c}", f"connector del {c}"]
for i in range(max(1, rc - 49), rc + 1):
    lines.append(f"route del smtp r{i}.churn.example")
lines.append("set busy_retry_us 2000")
n = 0
for k in range(0, len(lines), chunk):
    with open(f"{tmp}/churn.{n:05d}", "w") as f:
        f.write("\n".join(lines[k:k + chunk]) + "\n")
    n += 1
print(len(lines))
EOF

"$CTL" --json status >"$TMP/before.json" || fail "gwartctl status"
in_ns "$GWART_BUILD/bench/gwart-conn" pair --router $ROUTER --bind $HOST --src-id 1 --dst-id 2 \
	$(ckey 1 2) --dest smtp:frank@x.demo.example --count "$count" --window 1 --timeout 240 \
	--label churn \
	>"$TMP/pair.log" 2>&1 &
pair=$!

# Whole passes of the changes until the traffic has ended (at least one);
# count the changes made while the pair was running.
changes=0
during=0
passes=0
start=$(date +%s)
while :; do
	for f in "$TMP"/churn.*; do
		n=$(wc -l <"$f")
		"$CTL" batch <"$f" >/dev/null 2>"$TMP/ctl.err" ||
			{ cat "$TMP/ctl.err" >&2; fail "gwartctl batch $(basename "$f") failed"; }
		changes=$((changes + n))
		kill -0 $pair 2>/dev/null && during=$((during + n))
	done
	passes=$((passes + 1))
	kill -0 $pair 2>/dev/null || break
done
echo "churn: $changes changes ($passes pass(es)) in $(($(date +%s) - start)) s," \
	"$during while traffic flowed"

wait $pair || { cat "$TMP/pair.log" >&2; fail "traffic was harmed by the churn"; }
cat "$TMP/pair.log"
grep -q "^churn: sent=$count delivered=$count duplicates=0 lost=0 " "$TMP/pair.log" ||
	fail "unexpected pair result"
[ "$during" -ge 2000 ] || fail "only $during changes overlapped the traffic"

# Tables back to where they started; the demo route still goes to 2.
"$CTL" --json status >"$TMP/after.json" || fail "gwartctl status"
"$CTL" --json routes smtp >"$TMP/routes.json" || fail "gwartctl routes"
python3 - "$TMP/before.json" "$TMP/after.json" "$TMP/routes.json" <<'EOF' || fail "tables"
import json, sys
b, a, r = (json.load(open(p)) for p in sys.argv[1:4])
for k in ("connectors", "routes"):
    assert a[k] == b[k], f"{k}: {a[k]} after, {b[k]} before"
assert a["socket"]["bad_requests"] == 0, a["socket"]
demo = [x for x in r if x["pattern"] == "*.demo.example"]
assert [t["connector"] for t in demo[0]["targets"]] == [2], demo
print("tables back to baseline:", a["connectors"], "connectors,", a["routes"], "routes")
EOF

# Plain shutdown (no drain) through the socket; gwartd must exit 0.
"$CTL" shutdown >/dev/null || fail "gwartctl shutdown"
rc=0
wait "$GWARTD_PID" || rc=$?
GWARTD_PID=""
[ $rc -eq 0 ] || fail "gwartd exited with $rc"

python3 - "$TMP/stats.json" "$count" <<'EOF' || fail "drop accounting"
import json, sys
st = json.load(open(sys.argv[1]))
count = int(sys.argv[2])
d = st["drops"]
ok = True
# Every packet the ports received: answered (ARP, ICMP), a frame that
# parsed, or dropped before parsing under exactly one reason.
pre = ("ETH_", "ARP_", "IP_", "ICMP_", "UDP_", "MULTISEG", "WIRE_")
pre_drops = sum(v for k, v in d.items() if k.startswith(pre))
lhs = st["rx_pkts"]
rhs = st["arp_replies"] + st["icmp_replies"] + st["rx_frames"] + pre_drops
print(f"rx_pkts={lhs} = replies+frames+pre-parse drops={rhs}")
ok &= lhs == rhs
# Reasons this traffic may show: kernel noise on the tap (IPv6, other
# ports), BUSY (custody flow control, NACKed and retried), in-flight
# duplicates of retransmissions, a full TX queue (retransmitted).
allowed = {"ETH_TYPE", "IP_NOT_US", "UDP_PORT", "ICMP_OTHER", "ARP_NOT_US", "IP_PROTO",
           "BUSY", "DUP_IN_FLIGHT", "TX_FULL"}
for k, v in sorted(d.items()):
    if v:
        print(f"drop {k}={v}{'' if k in allowed else '  <- unexpected'}")
        ok &= k in allowed
conns = {c["id"]: c for c in st["connectors"]}
print(f"connector 1 routed={conns[1]['routed']}, connector 2 delivered={conns[2]['delivered']}, "
      f"custody_total={st['custody_total']}, deleted_in_custody="
      f"{st['control']['deleted_in_custody']}")
ok &= st["routed"] == count and conns[1]["routed"] == count
ok &= st["delivered"] == count and conns[2]["delivered"] == count
ok &= st["custody_total"] == 0 and st["control"]["deleted_in_custody"] == 0
ok &= sorted(conns) == [1, 2, 3, 4]
sys.exit(0 if ok else 1)
EOF
echo "PASS($T)"
