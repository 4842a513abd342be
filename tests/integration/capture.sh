#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# gwartctl capture: a live gwartd, messages through it (gwart-conn pair),
# the pcapng file it writes read back by tests/integration/pcapng_frames.py
# (the file format parsed from its specification, not by gwart's code) and
# by tshark where it is installed:
#  - every frame: each message's DATA frame in from connector 1 and out to
#    connector 2 (every origin seq, payload bytes as sent), directions
#    marked, the file's frames and size exactly what stop and status say;
#  - --connector 2: only connector 2's frames (in: sender 2; out: to its
#    address), its DATA out all there, none of connector 1's;
#  - --snaplen 70: no frame longer than 70 bytes, the original lengths kept;
#  - errors: stop without start (ENOENT), a second start (EBUSY), a file
#    that exists (EEXIST, not truncated), a directory that does not (ENOENT),
#    a relative path made absolute by gwartctl, an unknown connector;
#  - misses: a second gwartd with "capture": {"ring": 16, "max_bytes":
#    65536}: frames missed are counted (ring/pool per worker, the file's
#    limit), the file stays under max_bytes, and every message is still
#    delivered exactly once (a capture miss is not a drop).
. "$GWART_SRC/tests/integration/lib.sh"
PCAP="$GWART_SRC/tests/integration/pcapng_frames.py"
CONN="$GWART_BUILD/bench/gwart-conn"
N=300
PAYLOAD=100

ctl() { "$CTL" --socket "$GW_SOCK" "$@"; }

# expect_rc RC WHAT GREP -- CMD...: CMD exits RC with GREP in its stderr.
expect_rc() {
	want=$1 what=$2 pat=$3
	shift 4
	rc=0
	"$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ $rc -eq "$want" ] || fail "$what: exit $rc, not $want ($(cat "$TMP/err"))"
	grep -q -- "$pat" "$TMP/err" || fail "$what: no '$pat' in: $(cat "$TMP/err")"
}

# pair COUNT LABEL: connector 1 sends COUNT messages to connector 2.
pair() {
	in_ns "$CONN" pair --router $ROUTER --bind $HOST --src-id 1 --dst-id 2 $(ckey 1 2) \
		--dest smtp:alice@notes.demo.example --count "$1" --payload $PAYLOAD \
		--timeout 60 --label "$2" >"$TMP/$2.log" 2>&1 || {
		cat "$TMP/$2.log" >&2
		fail "$2: connectors reported loss, duplication or timeout"
	}
	grep -q " sent=$1 delivered=$1 duplicates=0 lost=0 " "$TMP/$2.log" ||
		fail "$2: $(grep "^$2:" "$TMP/$2.log")"
}

# The config: write_config's, with a "capture" object.
with_capture() {
	python3 -c 'import json,sys
d = json.load(open(sys.argv[1])); d["capture"] = json.loads(sys.argv[2])
json.dump(d, open(sys.argv[1], "w"), indent=1)' "$1" "$2"
	echo "$1"
}

start_gwartd "$(with_capture "$(write_config)" '{"ring": 4096, "max_bytes": 67108864, "snaplen": 65535}')"

# ---- errors before any capture ------------------------------------------------------
expect_rc 3 "stop without start" "no capture is running" -- ctl capture stop
ctl --json capture status >"$TMP/st.json" || fail "capture status failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["active"] is False and d["frames"] == 0 and d["snaplen"] == 65535, d' "$TMP/st.json" ||
	fail "status before start: $(cat "$TMP/st.json")"
echo keep >"$TMP/exists.pcapng"
expect_rc 5 "existing file" "exists" -- ctl capture start --file "$TMP/exists.pcapng"
[ "$(cat "$TMP/exists.pcapng")" = keep ] || fail "an existing file was truncated"
expect_rc 3 "missing directory" "$TMP/nodir/x.pcapng: No such file" -- \
	ctl capture start --file "$TMP/nodir/x.pcapng"
expect_rc 3 "unknown connector" "no connector 77" -- \
	ctl capture start --file "$TMP/c77.pcapng" --connector 77
[ ! -e "$TMP/c77.pcapng" ] || fail "a refused start left its file"
expect_rc 2 "snaplen 0" "snaplen" -- ctl capture start --file "$TMP/s0.pcapng" --snaplen 0
expect_rc 2 "no --file" "usage" -- ctl capture start --snaplen 10

# ---- every frame ---------------------------------------------------------------------
# A relative path: gwartctl makes it absolute (gwartd's cwd is not ours).
(cd "$TMP" && "$CTL" --socket "$GW_SOCK" capture start --file all.pcapng) ||
	fail "capture start failed"
[ -f "$TMP/all.pcapng" ] || fail "relative --file not created in gwartctl's directory"
expect_rc 5 "second start" "a capture is running" -- ctl capture start --file "$TMP/two.pcapng"
ctl --json capture status >"$TMP/st.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); f=sys.argv[2]
assert d["active"] is True and d["file"] == f and "connector" not in d, d' \
	"$TMP/st.json" "$TMP/all.pcapng" || fail "status while running: $(cat "$TMP/st.json")"
pair $N all
ctl --json capture status >"$TMP/st_run.json"
ctl --json capture stop >"$TMP/stop.json" || fail "capture stop failed"
ctl --json capture status >"$TMP/st_after.json"
ctl --json stats >"$TMP/stats_live.json"
python3 "$PCAP" "$TMP/all.pcapng" >"$TMP/all.frames" || fail "pcapng file unreadable"
python3 - "$TMP/all.frames" "$TMP/stop.json" "$TMP/st_after.json" "$TMP/stats_live.json" \
	"$TMP/all.pcapng" $N $PAYLOAD <<'EOF' || fail "capture of every frame: see above"
import json, os, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
frames, summ = lines[:-1], lines[-1]["summary"]
stop, after, stats = (json.load(open(p)) for p in sys.argv[2:5])
path, n, payload = sys.argv[5], int(sys.argv[6]), int(sys.argv[7])
size = os.path.getsize(path)
# What the file holds is what gwartd says it wrote.
assert stop["file"] == path, stop
assert stop["frames"] == len(frames) == summ["packets"], (stop, summ)
assert stop["bytes"] == size, (stop, size)
assert stop["dropped"] == 0, stop
assert after["active"] is False and after["frames"] == stop["frames"], after
assert stats["capture"]["frames"] == stop["frames"] and stats["capture"]["bytes"] == size, stats["capture"]
assert summ["interfaces"], summ
data_in = [f for f in frames if f.get("type") == 1 and f["dir"] == "in"]
data_out = [f for f in frames if f.get("type") == 1 and f["dir"] == "out"]
# Every message in from connector 1 and out to connector 2, payloads as sent.
seqs_in = {f["origin_seq"] for f in data_in if f["sender"] == 1 and f["origin"] == 1}
seqs_out = {f["origin_seq"] for f in data_out if f["sender"] == 0 and f["origin"] == 1}
assert len(seqs_in) == n, ("in", len(seqs_in))
assert seqs_out == seqs_in, ("out", len(seqs_out), sorted(seqs_in - seqs_out)[:5])
assert all(f["payload_len"] == payload for f in data_in + data_out)
assert all(f["caplen"] == f["origlen"] for f in frames), "snaplen 65535 cut a frame"
assert all(f["dst"] == "198.18.0.1:4790" for f in data_in)
assert all(f["src"] == "198.18.0.1:4790" for f in data_out)
# ACKs both ways (router to 1, 2 to router), HELLOs in, WELCOMEs out.
types = {(f.get("type"), f["dir"]) for f in frames}
for t in ((2, "in"), (2, "out"), (4, "in"), (5, "out")):
    assert t in types, ("missing", t, sorted(types, key=str))
print("every frame: %d frames, %d DATA in, %d DATA out, %d bytes" %
      (len(frames), len(data_in), len(data_out), size))
EOF
if command -v tshark >/dev/null 2>&1; then
	# The ecosystem's reader agrees on the count.
	tn=$(tshark -r "$TMP/all.pcapng" 2>/dev/null | wc -l)
	[ "$tn" -eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["frames"])' "$TMP/stop.json")" ] ||
		fail "tshark reads $tn frames"
	echo "tshark: $tn frames"
else
	echo "tshark not installed: the file was checked by pcapng_frames.py only"
fi

# ---- --connector 2 -------------------------------------------------------------------
ctl capture start --file "$TMP/c2.pcapng" --connector 2 >/dev/null || fail "start --connector"
ctl --json capture status >"$TMP/st.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["connector"] == 2, d' \
	"$TMP/st.json" || fail "status --connector: $(cat "$TMP/st.json")"
pair $N c2
ctl --json capture stop >"$TMP/stop.json" || fail "capture stop failed"
python3 "$PCAP" "$TMP/c2.pcapng" >"$TMP/c2.frames" || fail "pcapng file unreadable"
python3 - "$TMP/c2.frames" "$TMP/stop.json" $N <<'EOF' || fail "capture --connector 2: see above"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
frames, stop, n = lines[:-1], json.load(open(sys.argv[2])), int(sys.argv[3])
assert stop["frames"] == len(frames) and stop["dropped"] == 0, stop
ins = [f for f in frames if f["dir"] == "in"]
outs = [f for f in frames if f["dir"] == "out"]
assert ins and outs, (len(ins), len(outs))
assert all(f.get("sender") == 2 for f in ins), [f for f in ins if f.get("sender") != 2][:3]
# Out: only to connector 2's address (the one its HELLOs came from).
addr2 = {f["src"] for f in ins}
assert all(f["dst"] in addr2 for f in outs), ([f for f in outs if f["dst"] not in addr2][:3], addr2)
assert not any(f.get("type") == 1 and f["dir"] == "in" for f in frames), "connector 1's DATA captured"
seqs = {(f["origin"], f["origin_seq"]) for f in outs if f.get("type") == 1}
assert len(seqs) == n and {o for o, _ in seqs} == {1}, (len(seqs), {o for o, _ in seqs})
assert any(f.get("type") == 2 for f in ins), "no ACK from 2"
print("--connector 2: %d in (sender 2), %d out (to %s)" % (len(ins), len(outs), sorted(addr2)))
EOF

# ---- --snaplen 70 --------------------------------------------------------------------
ctl capture start --file "$TMP/s70.pcapng" --snaplen 70 >/dev/null || fail "start --snaplen"
pair 50 s70
ctl --json capture stop >"$TMP/stop.json" || fail "capture stop failed"
python3 "$PCAP" "$TMP/s70.pcapng" >"$TMP/s70.frames" || fail "pcapng file unreadable"
python3 - "$TMP/s70.frames" <<'EOF' || fail "capture --snaplen 70: see above"
import json, sys
frames = [json.loads(l) for l in open(sys.argv[1])][:-1]
assert frames and all(f["caplen"] <= 70 for f in frames), max(f["caplen"] for f in frames)
data = [f for f in frames if f.get("type") == 1]
assert data and all(f["caplen"] == 70 and f["origlen"] > 70 for f in data)
print("--snaplen 70: %d frames, none over 70 bytes, DATA original lengths %s" %
      (len(frames), sorted({f["origlen"] for f in data})))
EOF
stop_gwartd

# ---- misses: a tiny ring and a small file limit ---------------------------------------
gw_netns_destroy "$NS"
start_gwartd "$(with_capture "$(write_config)" '{"ring": 16, "max_bytes": 65536}')"
ctl capture start --file "$TMP/tiny.pcapng" >/dev/null || fail "start (tiny ring)"
pair 5000 tiny
ctl --json capture stop >"$TMP/stop.json" || fail "capture stop failed"
ctl --json stats >"$TMP/stats_live.json"
python3 "$PCAP" "$TMP/tiny.pcapng" >"$TMP/tiny.frames" || fail "pcapng file unreadable"
python3 - "$TMP/tiny.frames" "$TMP/stop.json" "$TMP/stats_live.json" "$TMP/tiny.pcapng" <<'EOF' ||
import json, os, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
stop, stats = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
size = os.path.getsize(sys.argv[4])
assert stop["frames"] == lines[-1]["summary"]["packets"] and stop["bytes"] == size, (stop, size)
assert size <= 65536, size
assert stop["dropped"] > 0, stop
ring_misses = sum(w["capture_dropped"] for w in stats["workers"])
assert ring_misses > 0, "a ring of 16 never overflowed: %s" % stats["workers"]
# The rest were the writer's: frames past max_bytes.
assert stop["dropped"] > ring_misses, "max_bytes cut nothing: %s" % stop
assert stats["capture"]["dropped"] == stop["dropped"], (stats["capture"], stop)
print("tiny ring: %d frames written (%d bytes <= 65536), %d missed (%d by the ring/pool)" %
      (stop["frames"], size, stop["dropped"], ring_misses))
EOF
	fail "capture misses: see above"
stop_gwartd
echo "PASS($T)"
