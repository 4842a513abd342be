#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The Wireshark dissector (deploy/wireshark/gwart.lua) against real traffic
# and against garbage, with tshark as the client.
#  1. Live: tshark captures the router's tap port while gwforge, holding
#     connectors 1, 2 and 3's real keys (dissector.py live), makes gwartd
#     send and receive every frame type: HELLO and WELCOME, DATA out of
#     order (1, 3, 4, 2, then 4 again with RETRANSMIT) so the router's ACKs
#     carry a bitmap, DATA without a route (NACK NO_ROUTE), a message of
#     three chunks (PROTOCOL.md 3.1.1) forwarded to connector 2, KEEPALIVE and its
#     echo, connector 2's ACK with a bitmap and its BYE, the router's BYE
#     (gwartctl connector set-key) and reconnection probe, and a disabled
#     connector's HELLO (NACK NOT_AUTHORISED). tshark -X lua_script decodes
#     the capture (-T json) and dissector.py check compares: every frame
#     sent, found by its bytes, decodes to the values chosen; every router
#     frame decodes to what gwforge (the C codec) read from its socket; the
#     router's answers are what PROTOCOL.md requires (ACK cumulative point 1
#     and bitmap naming 3 and 4 but not 2, NACK reason and seqs, the
#     keepalive echo, WELCOME fields, egress DATA in custody order, the
#     forwarded chunks with flag and extension unchanged, "chunk 2/3" in
#     the info column); and
#     every field of every frame equals gw_wire_parse()'s view of the bytes
#     (libgwart-connector through ctypes), gwart.status its verdict.
#  2. Garbage: a pcap of random datagrams, every truncation of the frames
#     captured in 1 and of chunk frames (PROTOCOL.md 14.1's, the 2^64 edge,
#     the largest frame), one-field corruptions of them (each check of
#     PROTOCOL.md 5, each rule of 3.1.1), on port 4790: no Lua error, the
#     verdict (gwart.status) the C parser's for each, expert info on every
#     refused one.
#  3. If gwartctl has "capture": the same traffic (connectors 4, 5, 6)
#     captured by gwartd itself (gwartctl capture start/stop), decoded and
#     compared the same way; every frame stop counts is decoded, none missed.
. "$GWART_SRC/tests/integration/lib.sh"
command -v tshark >/dev/null || { echo "SKIP: tshark not installed (deploy/setup.sh)"; exit 77; }
LUA="$GWART_SRC/deploy/wireshark/gwart.lua"
PY="$GWART_SRC/tests/integration/dissector.py"
LIB="$GWART_BUILD/control/sdk/libgwart-connector.so"
[ -f "$LIB" ] || fail "no $LIB"
# python3 loads the SDK (ctypes): a sanitized one needs its runtimes first.
PYRUN=""
if ldd "$LIB" | grep -q libasan; then
	PYRUN="env LD_PRELOAD=$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
	PYRUN="$PYRUN ASAN_OPTIONS=detect_leaks=0"
fi

# tshark as root warns ("could be dangerous") and goes on; stderr is kept apart.
# The dissector's output is judged by dissector.py, never by tshark's exit.
decode() {
	tshark -n -r "$1" -X lua_script:"$LUA" -T json --no-duplicate-keys >"$2" 2>"$2.err" ||
		{ cat "$2.err"; fail "tshark -r $1 failed"; }
	! grep -qE "Lua Error|Lua: Error|dissector bug" "$2" "$2.err" ||
		{ grep -m3 -E "Lua Error|Lua: Error|dissector bug" "$2" "$2.err"; fail "Lua error"; }
}

# Connectors 1-3 for the tap capture, 4-6 for gwartd's own.
cat >"$TMP/gwartd.json" <<JSON
{
  "udp_port": 4790,
  "ports": [ { "ip": "$ROUTER" } ],
  "connectors": [
    { "id": 1, "name": "a1" }, { "id": 2, "name": "b2" }, { "id": 3, "name": "d3" },
    { "id": 4, "name": "a4" }, { "id": 5, "name": "b5" }, { "id": 6, "name": "d6" }
  ],
  "routes": [
    { "type": "smtp", "pattern": "*.one.example", "targets": [ { "connector": 2, "cost": 10 } ] },
    { "type": "smtp", "pattern": "*.two.example", "targets": [ { "connector": 5, "cost": 10 } ] }
  ]
}
JSON
add_keys "$TMP/gwartd.json"
start_gwartd "$TMP/gwartd.json"

# 1. Live traffic, captured on the tap.
# Not through in_ns: $! must be tshark itself (ip netns exec execs it), and
# it stops on SIGTERM (a background job of sh ignores SIGINT).
ip netns exec "$NS" tshark -Q -n -i "$TAP" -w "$TMP/live.pcapng" -f "udp port 4790" \
	2>"$TMP/tshark.log" &
tshark_pid=$!
i=0
until [ -s "$TMP/live.pcapng" ]; do # dumpcap writes the pcapng header once it captures
	i=$((i + 1))
	[ $i -gt 100 ] && { cat "$TMP/tshark.log"; fail "tshark did not start capturing"; }
	sleep 0.1
done
in_ns python3 "$PY" live "$FORGE" $ROUTER 4790 $HOST "$CTL" "$GW_SOCK" "$TMP/keys" 1 2 3 \
	one.example >"$TMP/sent.json" || fail "traffic: gwforge failed"
sleep 0.5
kill -TERM $tshark_pid
wait $tshark_pid || true
decode "$TMP/live.pcapng" "$TMP/live.json"
$PYRUN python3 "$PY" check "$LIB" "$TMP/live.json" "$TMP/sent.json" >"$TMP/check.json" ||
	{ cat "$TMP/check.json"; fail "live capture: dissector disagrees"; }
cat "$TMP/check.json"

# The value strings and the display filter names, as a Wireshark user sees
# them: every type by name, the NACK reasons by name, a bitmap seq filtered.
tshark -n -r "$TMP/live.pcapng" -X lua_script:"$LUA" -V >"$TMP/live.txt" 2>/dev/null
for s in "Type: DATA (1)" "Type: ACK (2)" "Type: NACK (3)" "Type: HELLO (4)" \
	"Type: WELCOME (5)" "Type: KEEPALIVE (6)" "Type: BYE (7)" "Reason: NO_ROUTE (1)" \
	"Reason: NOT_AUTHORISED (5)" "Flags: RETRANSMIT (0x0001)" "Reason: normal close (0)" \
	"Flags: CHUNK (0x0002)" "Chunk extension" "Chunks in group: 3" "Chunk index: 2"; do
	grep -qF "$s" "$TMP/live.txt" || fail "tshark -V shows no '$s'"
done
n=$(tshark -n -r "$TMP/live.pcapng" -X lua_script:"$LUA" \
	-Y 'gwart.ack.acked == 3 && gwart.ack.cum == 1 && gwart.sender == 0' 2>/dev/null | wc -l)
[ "$n" -ge 1 ] || fail "display filter gwart.ack.acked == 3: no ACK"
n=$(tshark -n -r "$TMP/live.pcapng" -X lua_script:"$LUA" \
	-Y 'gwart.nack.reason == 1 && gwart.nack.seq == 5' 2>/dev/null | wc -l)
[ "$n" -eq 1 ] || fail "display filter gwart.nack.reason == 1: $n NACKs, want 1"
# A chunk as a Wireshark user sees it: filtered by its extension, and
# "chunk 2/3" (its index + 1 of its count) in the info column, as sent and as
# the router forwarded it.
info=$(tshark -n -r "$TMP/live.pcapng" -X lua_script:"$LUA" \
	-Y 'gwart.flags.chunk == 1 && gwart.chunk.group == 6 && gwart.chunk.index == 1' 2>/dev/null)
echo "$info" | grep -q "DATA c->r .*chunk 2/3 group=6 (10 B)" || { echo "$info"; fail "no chunk 2/3 sent"; }
echo "$info" | grep -q "DATA r->c .*chunk 2/3 group=6 (10 B)" ||
	{ echo "$info"; fail "no chunk 2/3 forwarded"; }

# 2. Garbage on 4790: random, truncated and corrupted versions of the
# frames just captured (one of each type at least).
valid=$(python3 - "$TMP/live.json" <<'EOF'
import json, sys
seen = {}
for p in json.load(open(sys.argv[1])):
    u = p["_source"]["layers"].get("udp", {})
    g = p["_source"]["layers"].get("gwart", {})
    if "udp.payload" in u and g.get("gwart.status") == "0":
        seen.setdefault(g.get("gwart.type"), u["udp.payload"].replace(":", ""))
print(" ".join(seen.values()))
EOF
)
[ "$(echo $valid | wc -w)" -eq 7 ] || fail "not every frame type captured: $valid"
$PYRUN python3 "$PY" garbage "$LIB" "$TMP/garbage.pcap" $valid >/dev/null
decode "$TMP/garbage.pcap" "$TMP/garbage.json"
$PYRUN python3 "$PY" check "$LIB" "$TMP/garbage.json" - >"$TMP/gcheck.json" ||
	{ cat "$TMP/gcheck.json"; fail "garbage: dissector disagrees with gw_wire_parse"; }
cat "$TMP/gcheck.json"
# The chunks among them: valid ones decoded, every rule's refusal named.
n=$(tshark -n -r "$TMP/garbage.pcap" -X lua_script:"$LUA" \
	-Y 'gwart.flags.chunk == 1 && gwart.status == 0' 2>/dev/null | wc -l)
[ "$n" -ge 6 ] || fail "garbage: $n valid chunks decoded, want 6 or more"
n=$(tshark -n -r "$TMP/garbage.pcap" -X lua_script:"$LUA" -Y 'gwart.status == 15' \
	2>/dev/null | grep -c "BAD_CHUNK")
[ "$n" -ge 20 ] || fail "garbage: $n frames shown BAD_CHUNK, want 20 or more"

# Cut by a snap length (as dumpcap -s leaves frames): decoded as far as
# captured, said so, no error.
editcap -s 70 "$TMP/live.pcapng" "$TMP/snap.pcapng" >/dev/null || fail "editcap failed"
decode "$TMP/snap.pcapng" "$TMP/snap.json"
grep -q '"gwart.expert.snaplen"\|snap length' "$TMP/snap.json" || fail "snap length not reported"

# 3. gwartd's own capture, once gwartctl has it.
if "$CTL" --help 2>&1 | grep -q "capture start"; then
	"$CTL" --socket "$GW_SOCK" capture start --file "$TMP/gw.pcapng" >/dev/null ||
		fail "gwartctl capture start"
	in_ns python3 "$PY" live "$FORGE" $ROUTER 4790 $HOST "$CTL" "$GW_SOCK" "$TMP/keys" 4 5 6 \
		two.example >"$TMP/sent2.json" || fail "traffic 2: gwforge failed"
	"$CTL" --socket "$GW_SOCK" --json capture stop >"$TMP/capstop.json" ||
		fail "gwartctl capture stop"
	decode "$TMP/gw.pcapng" "$TMP/gw.json"
	$PYRUN python3 "$PY" check "$LIB" "$TMP/gw.json" "$TMP/sent2.json" >"$TMP/check2.json" ||
		{ cat "$TMP/capstop.json" "$TMP/check2.json"; fail "gwartctl capture: dissector disagrees"; }
	cat "$TMP/check2.json"
	# Every frame gwartd says it wrote was decoded, and none was missed.
	python3 - "$TMP/capstop.json" "$TMP/check2.json" <<'EOF' || fail "capture counts differ"
import json, sys
st, ck = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print(f"capture stop: frames={st['frames']} dropped={st['dropped']}; decoded {ck['frames']}")
sys.exit(0 if st["frames"] == ck["frames"] and st["dropped"] == 0 else 1)
EOF
else
	echo "note: gwartctl has no capture command yet; case 3 not run"
fi
stop_gwartd
echo "PASS($T)"
