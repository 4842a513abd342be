#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Before/after figures for bench/BENCHMARK.md: git revisions side by side
# in one invocation, beside dpdk-testpmd.
#
#   bench/compare.sh [-k K] [-d SECONDS] [-o OUT_DIR] [-a "ARGS"] [-p] [-c] REV...
#
# Each REV is built in its own worktree under $GB_CMP_DIR (/tmp/gwart-cmp:
# one per commit, kept and reused by later invocations; -c removes them at
# the end): release build, gwart-bench only; logs and JSON files in OUT_DIR
# ($TMPDIR/gwart-cmp-out). Then K rounds (default 3),
# each: every revision's `gwart-bench inproc --duration SECONDS (3)
# --warmup 0.5 --payload 64 --routes 1000 --cpus-harness H --cpus-workers
# W --no-float` (authentication on, the worker alone on its CPU; GB_CPUS
# "H,W", default 0,1; ARGS appended, e.g. "--no-auth" or "--routes
# 1000000"), in the order given, then one dpdk-testpmd 5tswap run on
# net_null with the same lcores (bench/testpmd.sh). Prints per revision the
# medians over the rounds: the worker's busy cycles per message, msg/s,
# per worker core, harness_bound, the ratio to testpmd (testpmd cycles/pkt
# over gwart's busy cycles/msg, round by round) and the capacity against
# the first revision (its busy cycles/msg over this one's, round by round).
# A key an older revision's JSON lacks is printed "-".
#
# Revisions that are not descendants of 0343485 count the worker's busy
# cycles only with stage accounting on: they run with --stage-stats, so
# that every figure is the worker's own TSC over its busy iterations, and
# their figures are marked "*" as not comparable (the stage marks add
# cycles of their own). -p runs them like the others instead: their busy
# figure is then the CPU-time estimate (reads low), marked "†".
#
# Exit status: non-zero if a revision did not build or a run failed its
# delivered-set check. Run it on a quiet host: every figure is a ratio
# taken in one run, nothing else is comparable across runs.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=3
dur=3
out=${TMPDIR:-/tmp}/gwart-cmp-out
extra=""
plain=0
clean=0
while getopts "k:d:o:a:pc" opt; do
	case $opt in
	k) rounds=$OPTARG ;;
	d) dur=$OPTARG ;;
	o) out=$OPTARG ;;
	a) extra=$OPTARG ;;
	p) plain=1 ;;
	c) clean=1 ;;
	*) sed -n '5,6p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: bench/compare.sh [-k K] [-d S] [-o OUT] [-a ARGS] [-p] [-c] REV..." >&2; exit 2; }
wt=${GB_CMP_DIR:-/tmp/gwart-cmp}
jobs=${GB_CMP_JOBS:-2}
if [ "$(nproc)" -gt 1 ]; then cpus=${GB_CPUS:-0,1}; else cpus=${GB_CPUS:-0,0}; fi
hcpu=${cpus%,*}
wcpu=${cpus#*,}
# The first commit whose workers count busy cycles without stage_stats
# (GB_CMP_SINCE: for the scripts' own test, whose repository lacks it).
always_busy=${GB_CMP_SINCE:-0343485}
. "$here/bench/testpmd.sh"
mkdir -p "$out/json" "$out/logs" "$wt"
rm -f "$out"/json/cmp-*.json "$out"/logs/cmp-*.log

# ---- build each revision --------------------------------------------------
status=0
i=0
names=""
for rev in "$@"; do
	i=$((i + 1))
	sha=$(git -C "$here" rev-parse --verify --quiet "$rev^{commit}") ||
		{ echo "compare: $rev is not a commit" >&2; exit 2; }
	short=$(git -C "$here" rev-parse --short "$sha")
	dir="$wt/$sha"
	if [ "$(git -C "$dir" rev-parse HEAD 2>/dev/null)" != "$sha" ]; then
		rm -rf "$dir"
		# -f: a worktree of ours whose directory /tmp lost is still
		# registered; no prune, which would touch others' entries.
		git -C "$here" worktree add -f --detach "$dir" "$sha" >/dev/null 2>&1 ||
			{ echo "compare: cannot add a worktree for $rev at $dir" >&2; exit 1; }
	fi
	echo "compare: building $rev ($short) in $dir/build"
	if { [ -f "$dir/build/build.ninja" ] ||
		meson setup "$dir/build" "$dir" -Dbuildtype=release >"$out/logs/build-r$i.log" 2>&1; } &&
		ninja -C "$dir/build" -j "$jobs" bench/gwart-bench >>"$out/logs/build-r$i.log" 2>&1; then
		:
	else
		echo "compare: $rev ($short) did not build: see $out/logs/build-r$i.log" >&2
		status=1
		continue
	fi
	old=0
	git -C "$here" merge-base --is-ancestor "$always_busy" "$sha" 2>/dev/null || old=1
	label="$rev"
	[ "$rev" = "$short" ] || label="$rev ($short)"
	# r<i>: position on the command line, so a revision may be given twice
	# (an A/A run shows the noise).
	printf '%s\t%s\t%s\t%s\n' "r$i" "$dir/build/bench/gwart-bench" "$old" "$label" \
		>>"$out/revs.$$"
	names="$names r$i"
done
[ -n "$names" ] || { rm -f "$out/revs.$$"; exit 1; }
mv "$out/revs.$$" "$out/revs.txt"

# ---- the rounds -------------------------------------------------------------
echo "compare: $rounds round(s), harness CPU $hcpu, worker CPU $wcpu, ${dur}s per run; load average $(cut -d' ' -f1-3 /proc/loadavg)"
tab=$(printf '\t')
k=1
while [ "$k" -le "$rounds" ]; do
	while IFS="$tab" read -r n gb old label; do
		ss=""
		[ "$old" = 1 ] && [ $plain = 0 ] && ss=--stage-stats
		log="$out/logs/cmp-$n-$k.log"
		# shellcheck disable=SC2086
		timeout -k 10 -s INT "${GB_RUN_LIMIT:-300}" "$gb" inproc --duration "$dur" \
			--warmup 0.5 --payload 64 --routes 1000 --cpus-harness "$hcpu" \
			--cpus-workers "$wcpu" --no-float $ss --label "cmp-$n-$k" \
			--json "$out/json/cmp-$n-$k.json" $extra </dev/null >"$log" 2>&1
		rc=$?
		if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
			rm -f "$out/json/cmp-$n-$k.json"
			echo "gwart-bench: stopped after ${GB_RUN_LIMIT:-300} s (GB_RUN_LIMIT)" >>"$log"
		fi
		line=$(grep '^SUMMARY' "$log" | tail -n 1 | sed 's/ p50_us=.*ok=/ ... ok=/')
		echo "round $k, $label: ${line:-no SUMMARY (rc=$rc): $(tail -n 1 "$log")}" | cut -c 1-200
	done <"$out/revs.txt"
	gb_testpmd_5tswap "$out/logs/cmp-testpmd-$k.log" "$hcpu" "$wcpu"
	k=$((k + 1))
done

set --
while IFS="$tab" read -r n gb old label; do
	set -- "$@" "$n=$label"
done <"$out/revs.txt"
python3 "$here/bench/report.py" compare "$out" "$rounds" "$@" || status=1

if [ $clean = 1 ]; then
	while IFS="$tab" read -r n gb old label; do
		git -C "$here" worktree remove --force "${gb%/build/bench/gwart-bench}" 2>/dev/null
	done <"$out/revs.txt"
fi
exit $status
