#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# rte_pdump: DPDK's own capture tool, dpdk-dumpcap, attached to a live
# gwartd as a secondary process, captures the frames of messages through
# it; the pcapng it writes (read by tests/integration/pcapng_frames.py)
# holds every message's DATA frame in from connector 1 and out to
# connector 2. A secondary process needs the EAL's shared configuration
# and hugepages: this test reserves 2 MB pages as root (HOST-NOTES.md),
# mounts a hugetlbfs in its temporary directory and gives them back at exit
# (the count it added, so that another test's reservation is left alone);
# it skips (77) with the reason when dpdk-dumpcap is missing or the pages
# cannot be had.
. "$GWART_SRC/tests/integration/lib.sh"
PCAP="$GWART_SRC/tests/integration/pcapng_frames.py"
CONN="$GWART_BUILD/bench/gwart-conn"
HP=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
PAGES=256
N=200
added=0
mounted=0
DUMP_PID=""

command -v dpdk-dumpcap >/dev/null 2>&1 || { echo "SKIP: dpdk-dumpcap not installed"; exit 77; }
[ -w "$HP" ] || { echo "SKIP: cannot reserve 2 MB hugepages ($HP not writable)"; exit 77; }

pdump_cleanup() {
	[ -n "$DUMP_PID" ] && kill "$DUMP_PID" 2>/dev/null || true
	[ -n "$GWARTD_PID" ] && kill "$GWARTD_PID" 2>/dev/null || true
	gw_netns_destroy "$NS"
	[ $mounted = 1 ] && umount "$TMP/huge" 2>/dev/null
	# Give back exactly what this test added.
	[ "$added" -gt 0 ] && echo $(($(cat "$HP") - added)) >"$HP"
	it_cleanup
}
trap pdump_cleanup EXIT
trap 'exit 1' INT TERM

old=$(cat "$HP")
echo $((old + PAGES)) >"$HP" 2>/dev/null || true
added=$(($(cat "$HP") - old))
if [ "$added" -lt "$PAGES" ]; then
	echo "SKIP: reserved $added of $PAGES 2 MB hugepages (not enough free memory)"
	exit 77
fi
mkdir "$TMP/huge"
mount -t hugetlbfs -o pagesize=2M nodev "$TMP/huge" || {
	echo "SKIP: cannot mount hugetlbfs"
	exit 77
}
mounted=1

# gwartd on hugepages with a shared configuration (a file prefix of its
# own) instead of --no-huge --no-shconf. The secondary maps the primary's
# memory at the primary's addresses: left to EAL, those are near the top
# of the address space where an ASan build's gwartd put them and where
# dpdk-dumpcap's own libraries may already sit ("Cannot reserve ... please
# use '--base-virtaddr'", seen in CI). A fixed base above ASan's shadow
# (which ends at 0x10007fff7fff) and far below mmap's region suits both.
cfg=$(write_config)
GWARTD_MEM="--huge-dir $TMP/huge --base-virtaddr=0x200000000000" start_gwartd "$cfg"
grep -q "rte_pdump enabled" "$TMP/gwartd.log" || fail "gwartd did not enable rte_pdump"

# The secondary: port 0 (the tap), every frame in and out, until SIGTERM
# (an asynchronous command of sh starts with SIGINT ignored; -p: the tap
# refuses promiscuous mode, which gwart does not need).
ip netns exec "$NS" dpdk-dumpcap --file-prefix="$NS" -i 0 -p -w "$TMP/dump.pcapng" >"$TMP/dumpcap.log" 2>&1 &
DUMP_PID=$!
i=0
# Its counter line comes once the primary has installed the callbacks.
until grep -q "Packets captured" "$TMP/dumpcap.log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 300 ] && { cat "$TMP/dumpcap.log" >&2; fail "dpdk-dumpcap did not start"; }
	kill -0 "$DUMP_PID" 2>/dev/null || { cat "$TMP/dumpcap.log" >&2; fail "dpdk-dumpcap exited"; }
	sleep 0.1
done

in_ns "$CONN" pair --router $ROUTER --bind $HOST --src-id 1 --dst-id 2 $(ckey 1 2) \
	--dest smtp:alice@notes.demo.example --count $N --payload 100 --timeout 60 \
	--label pdump >"$TMP/conn.log" 2>&1 || { cat "$TMP/conn.log" >&2; fail "pair failed"; }
grep -q " sent=$N delivered=$N duplicates=0 lost=0 " "$TMP/conn.log" ||
	fail "$(grep '^pdump:' "$TMP/conn.log")"
sleep 0.3
kill -TERM "$DUMP_PID"
wait "$DUMP_PID" || true
DUMP_PID=""
tr '\r' '\n' <"$TMP/dumpcap.log" | tail -n 3
python3 "$PCAP" "$TMP/dump.pcapng" >"$TMP/dump.frames" || fail "dpdk-dumpcap's file unreadable"
python3 - "$TMP/dump.frames" $N <<'EOF' || fail "dpdk-dumpcap's capture: see above"
import json, sys
frames = [json.loads(l) for l in open(sys.argv[1])][:-1]
n = int(sys.argv[2])
data = [f for f in frames if f.get("type") == 1]
ins = {f["origin_seq"] for f in data if f["sender"] == 1 and f["dst"] == "198.18.0.1:4790"}
outs = {f["origin_seq"] for f in data if f["sender"] == 0 and f["src"] == "198.18.0.1:4790"}
assert len(ins) == n, ("DATA in", len(ins))
assert outs == ins, ("DATA out", len(outs))
print("dpdk-dumpcap: %d frames, %d messages in and out" % (len(frames), n))
EOF
kill -TERM "$GWARTD_PID"
rc=0
wait "$GWARTD_PID" || rc=$?
GWARTD_PID=""
[ $rc -eq 0 ] || fail "gwartd exited with $rc"
echo "PASS($T)"
