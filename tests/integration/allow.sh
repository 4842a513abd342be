#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# "allow_from" (control/allow.c, frames.c): connectors 1 and 2 may say HELLO
# from 198.18.0.2/32 only, connector 4 from 198.18.0.0/24. While the real
# pair (gwart-conn, connectors 1 -> 2, from 198.18.0.2) streams, gwforge on a
# second address of the tap (198.18.0.3) says HELLO as connector 1 with its
# real key: no WELCOME, counted as hello_addr_refused (in total and for
# connector 1), one warning line for the burst (rate-limited), the pair's
# session neither moved nor harmed (lost=0 duplicates=0). A forged HELLO
# from there counts as hello_auth_failed, not as refused by address (the
# tag is checked first). Then connector 4, up from 198.18.0.2, is narrowed by
# a reload to 198.18.0.3/32: its live session is closed (a BYE it can
# check), and its next HELLO from 198.18.0.2 is refused; config show prints
# the lists, and reloads them as no change.
. "$GWART_SRC/tests/integration/lib.sh"
FAR=198.18.0.3
count=$((6000 * SCALE))

cfg=$(write_config '"keepalive_ms": 500, "keepalive_mult": 3, "backoff_initial_ms": 100')
# allow_conf FILE LIST4: the config with 1 and 2 on $HOST only, 4 on LIST4.
allow_conf() {
	python3 - "$cfg" "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for c in d["connectors"]:
    if c["id"] in (1, 2):
        c["allow_from"] = ["198.18.0.2"]
    if c["id"] == 4:
        c["allow_from"] = sys.argv[3].split(",")
json.dump(d, open(sys.argv[2], "w"), indent=1)
EOF
}
allow_conf "$TMP/a.json" 198.18.0.0/24
cp "$TMP/a.json" "$cfg"
"$GWART_BUILD/control/gwartd" --check-config "$cfg" || fail "the config does not check"
start_gwartd "$cfg"
ip -n "$NS" addr add "$FAR/24" dev "$TAP"
gwctl() { "$CTL" --socket "$GW_SOCK" "$@"; }

in_ns "$GWART_BUILD/bench/gwart-conn" pair --router $ROUTER --bind $HOST \
	--src-id 1 --dst-id 2 $(ckey 1 2) --dest smtp:erin@x.demo.example --count "$count" \
	--rate 1000 --payload 64 --backoff-initial-ms 100 --timeout 60 --label allow \
	>"$TMP/pair.log" 2>&1 &
pair=$!
i=0
until [ "$(live sessions_up_now)" = 2 ] && [ "$(live routed)" -gt 500 ]; do
	i=$((i + 1))
	[ $i -gt 150 ] && { cat "$TMP/pair.log"; fail "the pair did not start"; }
	sleep 0.1
done

# Connector 1's real key from the other address: three tries of 1.5 s (each
# resends its HELLO), none answered. A forgery (another key) from there.
in_ns python3 - "$FORGE" "$ROUTER:4790" "$FAR" "$(key_file 1)" "$(key_file 3)" \
	>"$TMP/far.log" 2>&1 <<'EOF' || { cat "$TMP/far.log"; fail "the refused side"; }
import os, sys
sys.path.insert(0, os.environ["GWART_SRC"] + "/tests/integration")
from forge import Forge
forge, router, far, k1, k3 = sys.argv[1:]
f = Forge(forge)
f.keyfile(1, k1)
f.sock(1, far, 0, 1)
for i in range(3):
    _, r = f.cmd(f"connect 1 {router} id=1 timeout_ms=1500", check=False)
    assert "err" in r and "no WELCOME" in r["err"], f"try {i}: answered: {r}"
    print("refused:", r["err"])
# Connector 3's key under id 1: a forgery, refused by its tag.
f.keyfile(3, k3)
out = f.send(1, router, type="HELLO", sender=1, seal="hs", key=3, check=False)
print("forged:", out)
frames, n = f.recv(1, 500)
assert not frames, f"forgery answered: {frames}"
f.close()
EOF
cat "$TMP/far.log"
set -- $(live control.hello_addr_refused control.hello_auth_failed control.sessions_moved)
refused=$1 forged=$2 moved=$3
echo "from $FAR: hello_addr_refused=$refused hello_auth_failed=$forged sessions_moved=$moved"
[ "$refused" -ge 3 ] || fail "refused HELLOs not counted: $refused"
[ "$(conn_live 1 hello_addr_refused)" = "$refused" ] || fail "not counted for connector 1"
[ "$(conn_live 2 hello_addr_refused)" = 0 ] || fail "counted for connector 2"
[ "$forged" -ge 1 ] || fail "the forgery was not counted as hello_auth_failed"
[ "$moved" = 0 ] || fail "a session moved"
# Its session (renewed or not, by the real connector) is still at $HOST.
gwctl --json connectors >"$TMP/conns.json" || fail "gwartctl connectors"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
d = d.get("connectors", d) if isinstance(d, dict) else d
a = [c for c in d if c["id"] == 1][0]["address"]
assert a.startswith(sys.argv[2] + ":"), a' "$TMP/conns.json" "$HOST" ||
	fail "connector 1's session is not at $HOST: $(cat "$TMP/conns.json")"
lines=$(grep -c "not in its allow_from" "$TMP/gwartd.log" || true)
echo "log lines about it: $lines (rate-limited: one per 10 s)"
[ "$lines" = 1 ] || fail "$lines log lines for a burst of $refused refusals"
grep "not in its allow_from" "$TMP/gwartd.log" | grep -q "from $FAR" || fail "log line"

wait $pair || { cat "$TMP/pair.log"; fail "the pair was harmed"; }
grep "^allow: sent=" "$TMP/pair.log"
grep -q "^allow: sent=$count delivered=$count duplicates=0 lost=0 " "$TMP/pair.log" ||
	fail "the pair: $(grep '^allow: sent=' "$TMP/pair.log")"

# Connector 4 up from $HOST, then a reload narrowing its list: closed.
gwctl config show >"$TMP/shown.json" 2>"$TMP/show.err" || { cat "$TMP/show.err"; fail "config show"; }
python3 - "$TMP/shown.json" <<'EOF' || fail "config show lacks allow_from"
import json, sys
c = {x["id"]: x for x in json.load(open(sys.argv[1]))["connectors"]}
assert c[1]["allow_from"] == ["198.18.0.2/32"], c[1]
assert c[4]["allow_from"] == ["198.18.0.0/24"], c[4]
assert "allow_from" not in c[3], c[3]
EOF
gwctl --json reload "$TMP/shown.json" >"$TMP/r0.json" || fail "config show does not reload"
allow_conf "$TMP/b.json" 198.18.0.3/32
in_ns python3 - "$FORGE" "$ROUTER:4790" "$HOST" "$(key_file 4)" "$CTL" "$GW_SOCK" "$TMP/b.json" \
	>"$TMP/four.log" 2>&1 <<'EOF' || { cat "$TMP/four.log"; fail "the narrowing reload"; }
import json, os, subprocess, sys
sys.path.insert(0, os.environ["GWART_SRC"] + "/tests/integration")
from forge import Forge
forge, router, host, k4, ctl, sock, nxt = sys.argv[1:]
def stats():
    out = subprocess.run([ctl, "--socket", sock, "--json", "stats"], check=True,
                         capture_output=True, text=True).stdout
    return {c["id"]: c for c in json.loads(out)["connectors"]}
f = Forge(forge)
f.keyfile(4, k4)
f.sock(4, host, 0, 4)
print("connected:", f.connect(4, router, 4))
assert stats()[4]["up"], "connector 4 not up"
subprocess.run([ctl, "--socket", sock, "reload", nxt], check=True)
frames, n = f.recv(4, 1000)
print("after the reload:", n)
assert any(fr.get("type") == "BYE" or fr.get("type") == 7 for fr in frames), frames
assert not stats()[4]["up"], "connector 4 still up"
_, r = f.cmd(f"connect 4 {router} id=4 timeout_ms=1500", check=False)
assert "err" in r, f"HELLO from {host} answered after the reload: {r}"
print("then:", r["err"])
assert stats()[4]["hello_addr_refused"] >= 1
f.close()
EOF
cat "$TMP/four.log"
stop_gwartd
echo "PASS($T)"
