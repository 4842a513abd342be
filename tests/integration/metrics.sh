#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The Prometheus endpoint (control/metrics.c) with the ecosystem's own
# clients, inside the test's network namespace:
#  1. no "metrics" key: gwartd listens on no TCP socket at all;
#  2. "metrics" on 127.0.0.1 (the namespace's own loopback; 198.18.0.1 is the
#     DPDK port's address, which the kernel does not own): after traffic
#     between two connectors, curl's page passes `promtool check metrics`,
#     its counters equal `gwartctl stats --json` (routed, drops by reason,
#     per connector, per worker, the residence histogram's count);
#  3. a real prometheus server, started here with its own configuration and
#     storage in $TMP (scrape_interval 1s), scrapes gwartd and answers
#     /api/v1/query?query=gwart_routed_total with the router's count;
#  4. the endpoint's limits, each with its counter: 404, 405, an oversized
#     request (431/414), a request left unfinished (idle timeout), the
#     connection limit (refused at accept).
. "$GWART_SRC/tests/integration/lib.sh"
for tool in curl promtool prometheus ss; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not installed (deploy/setup.sh)"; exit 77; }
done
MPORT=9469
MURL="http://127.0.0.1:$MPORT/metrics"
count=3000

# ---- 1. off when absent --------------------------------------------------------------
start_gwartd "$(write_config)"
in_ns ss -Htln >"$TMP/listen0" || fail "ss failed"
[ ! -s "$TMP/listen0" ] || { cat "$TMP/listen0"; fail "TCP sockets listen without a \"metrics\" key"; }
# No socket of gwartd is a TCP one either (its fds against the netns' table).
grep -q 'metrics on' "$TMP/gwartd.log" && fail "gwartd announced metrics without the key"
[ "$(live metrics 2>/dev/null || echo none)" = none ] || fail "stats has \"metrics\" without the key"
stop_gwartd
gw_netns_destroy "$NS"

# ---- 2. on: the page -------------------------------------------------------------------
cfg=$(write_config '"stage_stats": 1')
python3 - "$cfg" "$MPORT" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["metrics"] = {"address": "127.0.0.1", "port": int(sys.argv[2])}
json.dump(d, open(sys.argv[1], "w"), indent=1)
EOF
"$GWART_BUILD/control/gwartd" --check-config "$cfg" || fail "config with metrics refused"
start_gwartd "$cfg" 0@0,1@1,2@1
grep -q "metrics on $MURL" "$TMP/gwartd.log" || fail "no 'metrics on' line"
in_ns ss -Htln "sport = :$MPORT" | grep -q "127.0.0.1:$MPORT" || fail "nothing listens on :$MPORT"

# A small window: many small bursts, so that stage_stats, which samples one
# busy iteration in 64, records residence times.
in_ns "$GWART_BUILD/bench/gwart-conn" pair --router $ROUTER --bind $HOST --src-id 1 --dst-id 2 \
	$(ckey 1 2) --dest smtp:alice@notes.demo.example --count $count --payload 64 \
	--window 4 --timeout 60 --label metrics >"$TMP/conn.log" 2>&1 || { cat "$TMP/conn.log"; fail "traffic failed"; }
grep -q " delivered=$count duplicates=0 lost=0 " "$TMP/conn.log" || fail "traffic: $(cat "$TMP/conn.log")"

# Traffic has stopped: the page and gwartctl's stats must agree. The pair's
# sessions may still be closing (BYE, or keepalive timeout): session gauges
# are compared with the stats read just before and just after the page.
"$CTL" --socket "$GW_SOCK" --json stats >"$TMP/before.json" || fail "gwartctl stats failed"
in_ns curl -sS -f -o "$TMP/page" -D "$TMP/headers" "$MURL" || fail "curl $MURL failed"
grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/headers" ||
	{ cat "$TMP/headers"; fail "wrong Content-Type"; }
promtool check metrics <"$TMP/page" >"$TMP/promtool" 2>&1 ||
	{ cat "$TMP/promtool"; fail "promtool check metrics refused the page"; }
"$CTL" --socket "$GW_SOCK" --json stats >"$TMP/live.json" || fail "gwartctl stats failed"
python3 - "$TMP/page" "$TMP/live.json" "$count" "$TMP/before.json" <<'EOF' || fail "page and stats differ"
import json, re, sys
page = open(sys.argv[1]).read()
st = json.load(open(sys.argv[2]))
count = int(sys.argv[3])
st0 = json.load(open(sys.argv[4]))
series = {}
for line in page.splitlines():
    if line.startswith("#"):
        continue
    m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)', line)
    assert m, "unparsable line: " + line
    series[m.group(1) + (m.group(2) or "")] = float(m.group(3))
def want(name, v):
    got = series.get(name)
    assert got == v, "%s: page %s, stats %s" % (name, got, v)
want("gwart_routed_total", st["routed"])
assert st["routed"] >= count, "routed %d" % st["routed"]
want("gwart_delivered_total", st["delivered"])
# The kernel side still sends the odd packet (IPv6 ND): read later, no smaller.
assert 0 < series["gwart_rx_pkts_total"] <= st["rx_pkts"], "rx_pkts"
want("gwart_custody", st["custody_total"])
def either(name, a, b):
    got = series.get(name)
    assert got in (a, b), "%s: page %s, stats %s before and %s after" % (name, got, a, b)
either("gwart_sessions_up", st0["sessions_up_now"], st["sessions_up_now"])
want("gwart_control_hellos_total", st["control"]["hellos"])
want("gwart_metrics_connectors_omitted", 0)
# Every reason, zeros included (the kernel's odd IPv6 frame still drops: no larger).
for r, v in st["drops"].items():
    got = series.get('gwart_drops_total{reason="%s"}' % r)
    assert got is not None and got <= v, "drops %s: page %s, stats %s" % (r, got, v)
assert st["drops"]["NO_ROUTE"] == series['gwart_drops_total{reason="NO_ROUTE"}']
for c in st["connectors"]:
    lab = '{id="%d",name="%s"}' % (c["id"], c["name"])
    want("gwart_connector_routed_total" + lab, c["routed"])
    want("gwart_connector_delivered_total" + lab, c["delivered"])
    want("gwart_connector_custody" + lab, c["custody"])
    c0 = [x for x in st0["connectors"] if x["id"] == c["id"]][0]
    either("gwart_connector_up" + lab, 1 if c0["up"] else 0, 1 if c["up"] else 0)
assert len(st["workers"]) == 2, st["workers"]
for w in st["workers"]:
    lab = '{worker="%d",lcore="%d"}' % (w["worker"], w["lcore"])
    want("gwart_worker_routed_total" + lab, w["routed"])
    want("gwart_worker_tx_data_total" + lab, w["tx_data"])
# The histogram: cumulative, +Inf = _count = the stats' sample count.
n = st["residence_ns"]["count"]
assert n > 0, "no residence samples (stage_stats on)"
b = [(k, v) for k, v in series.items() if k.startswith("gwart_residence_seconds_bucket")]
vals = [v for k, v in b]
assert vals == sorted(vals), "buckets not cumulative"
want('gwart_residence_seconds_bucket{le="+Inf"}', n)
want("gwart_residence_seconds_count", n)
assert sum(v for k, v in st["residence_buckets"]) == n
print("page: %d series, routed %d, residence samples %d" % (len(series), st["routed"], n))
EOF

# ---- 4. limits (started now: the idle one takes CP_METRICS_IDLE_S) --------------------
in_ns python3 - "$MPORT" >"$TMP/idle.log" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finished
t = time.time()
s.settimeout(30)
while s.recv(4096):
    pass
print("closed after %.1f s" % (time.time() - t))
EOF
idle_pid=$!

# ---- 3. a real Prometheus ------------------------------------------------------------
mkdir -p "$TMP/prom"
cat >"$TMP/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: gwart
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
in_ns prometheus --config.file="$TMP/prom/prometheus.yml" --storage.tsdb.path="$TMP/prom/data" \
	--web.listen-address=127.0.0.1:9090 >"$TMP/prom/log" 2>&1 &
routed=$(live routed)
i=0
got=""
while :; do
	got=$(in_ns curl -sS 'http://127.0.0.1:9090/api/v1/query?query=gwart_routed_total' 2>/dev/null |
		python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null || true)
	[ "$got" = "$routed" ] && break
	i=$((i + 1))
	[ $i -gt 60 ] && { tail -n 20 "$TMP/prom/log" >&2
		fail "prometheus: gwart_routed_total is '$got' after 30 s, gwartctl says $routed"; }
	sleep 0.5
done
echo "prometheus: gwart_routed_total=$got (gwartctl: $routed)"
up=$(in_ns curl -sS 'http://127.0.0.1:9090/api/v1/query?query=up%7Bjob%3D%22gwart%22%7D' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
[ "$up" = 1 ] || fail "prometheus: up{job=gwart} is $up"

# 404, 405 and an oversized request, each answered and counted.
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")
[ "$code" = 404 ] || fail "GET / answered $code, not 404"
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' -X POST "$MURL")
[ "$code" = 405 ] || fail "POST /metrics answered $code, not 405"
big=$(python3 -c 'print("x" * 20000)')
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $big" "$MURL")
case $code in 431 | 413 | 414 | 400) ;; *) fail "a 20 kB header answered $code" ;; esac
set -- $(live metrics.not_found metrics.bad_method metrics.bad_requests)
[ "$1" -eq 1 ] || fail "not_found $1, not 1"
[ "$2" -eq 1 ] || fail "bad_method $2, not 1"
[ "$3" -ge 1 ] || fail "bad_requests $3 after an oversized header"
bad=$3
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' "$MURL?$big")
case $code in 414 | 431 | 413 | 400) ;; *) fail "a 20 kB request line answered $code" ;; esac
nreq=$(live metrics.no_request)
[ "$nreq" -ge 1 ] || fail "an oversized request line was not counted (no_request $nreq)"

# The connection limit: hold CP_METRICS_CONN_MAX + 2 connections; the ones
# over the limit are closed at once and counted.
refused0=$(live metrics.refused_conns)
in_ns python3 - "$MPORT" <<'EOF' || fail "connection limit not enforced"
import socket, sys, time
held = []
for i in range(8 + 2):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    held.append(s)
closed = 0
for s in held:
    s.settimeout(3)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    try:
        if s.recv(4096) == b"":
            closed += 1
    except (ConnectionResetError, BrokenPipeError):
        closed += 1
print("closed at accept: %d of %d" % (closed, len(held)))
sys.exit(0 if closed >= 2 else 1)
EOF
refused1=$(live metrics.refused_conns)
[ "$refused1" -ge $((refused0 + 2)) ] || fail "refused_conns $refused0 -> $refused1"
in_ns curl -sS -f -o /dev/null "$MURL" || fail "no page after the connections closed"

wait $idle_pid || { cat "$TMP/idle.log"; fail "the unfinished request was not closed"; }
cat "$TMP/idle.log"
[ "$(live metrics.timeouts)" -ge 1 ] || fail "timeouts not counted"
grep -q '^# TYPE gwart_metrics_refused_conns_total counter' "$TMP/page" ||
	fail "the endpoint's own counters are not on the page"
"$CTL" --socket "$GW_SOCK" stats >"$TMP/stats.txt" || fail "gwartctl stats failed"
sed -n '/^metrics$/,/^[^ ]/p' "$TMP/stats.txt" | grep -q "^  refused_conns  *$refused1$" ||
	{ cat "$TMP/stats.txt"; fail "gwartctl stats shows no metrics section"; }

stop_gwartd
echo "PASS($T)"
