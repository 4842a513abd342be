#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Build and run one libFuzzer target.
#   run.sh <srcroot> <outdir> <seconds> [wire|pkt|config|ctl_request|router|smtp_server|smtp_client|mailmsg] [<builddir>]
# wire (default): the frame parser and auth.h's tags (fuzz_wire.c, wire.dict,
#      corpus/wire).
# pkt: the L2-L4 classifier with the frame parser under it (fuzz_pkt.c,
#      pkt.dict, corpus/pkt); needs DPDK and liburcu through pkg-config.
# config: the configuration loader's parse step (fuzz_config.c, config.dict,
#      corpus/config).
# ctl_request: the control socket's framing and the API's request envelope
#      (fuzz_ctl_request.c, ctl_request.dict, corpus/ctl_request).
# router: a real router object (workers stepped one iteration at a time on
#      the fuzzer's thread, the control plane, a net_ring port) driven by
#      operation sequences from connectors and attackers, with invariants
#      checked after every run (fuzz_router.c, router.dict, corpus/router,
#      whose README names each regression input); run with 1 worker, then
#      again with 2 (FUZZ_ROUTER_WORKERS), each for <seconds>. It compiles
#      every router file itself (the virtual clock of fuzz_router_clock.h
#      forced in), FUZZ_JOBS (default 2) at a time.
# smtp_server: the SMTP server session fed a client's bytes in random chunks
#      with random draining, and whole; both runs must agree (fuzz_smtp_server.c,
#      smtp_server.dict, corpus/smtp_server).
# smtp_client: the SMTP client fed a next hop's replies; every outcome must
#      make a valid receipt and DSN (fuzz_smtp_client.c, smtp_client.dict,
#      corpus/smtp_client).
# mailmsg: the GWMAIL1/GWRCPT1 decoders, re-encoded byte for byte
#      (fuzz_mailmsg.c, mailmsg.dict, corpus/mailmsg).
#      The three compile connectors/smtp's pure files, nothing else.
# config and ctl_request compile the files they fuzz with instrumentation and
# take the rest of gwart (never called, only linked) from <builddir>'s static
# libraries, so that build must be done first (meson test does it).
# Builds <outdir>/fuzz_<target> with libFuzzer + ASan + UBSan; runs every
# committed regression input (corpus/<target>/regress-*) once, whatever
# <seconds>; then fuzzes for <seconds> on a scratch copy of the committed
# seed corpus (the committed seeds are never modified), and prints
# "fuzz <target>: R regression inputs, N runs, OK". A crash, leak, sanitizer
# report or oracle failure exits non-zero; the input that caused it is left
# in <outdir> as crash-*/leak-*/timeout-*, and the log in
# <outdir>/fuzz_<target>.log (fuzz_<target>.regress.log for the regression
# inputs). Give each target its own <outdir> so that artifacts cannot be
# mistaken for the other's.
#
# Time: meson test runs each target for GWART_FUZZ_SECONDS (default 10; the
# whole fuzz suite then takes about two minutes on two cores, builds
# included). The long setting is hours per target, e.g.
#   GWART_FUZZ_SECONDS=14400 meson test -C build --suite fuzz --timeout-multiplier 0
# (4 h each; fuzz_router runs its two worker counts 4 h each), or one target
# by hand: sh tests/fuzz/run.sh . /tmp/fz-router 14400 router. A finding
# found that way becomes a committed regress-* input (fuzz_router: add it to
# router_regressions() in gen_corpus.py, which writes the corpus and README).
# python3 tests/fuzz/mutants.py shows each fuzz_router regression input fails
# once the defence it is named for is removed (one build per mutant).
# FUZZ_ROUTER_TRACE=1 makes fuzz_router print each operation and a summary
# after each run (replaying a crash-* file by hand).
set -eu

if [ $# -lt 3 ] || [ $# -gt 5 ]; then
	echo "usage: $0 <srcroot> <outdir> <seconds> [wire|pkt|config|ctl_request|router|smtp_server|smtp_client|mailmsg] [<builddir>]" >&2
	exit 2
fi
src=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
secs=$3
target=${4:-wire}
build=${5:-}
case $secs in
'' | *[!0-9]*) echo "seconds must be a positive integer" >&2; exit 2 ;;
esac

CC=${CC:-clang}
# Sanitizer findings must end the run: UBSan would otherwise print and go on.
case $target in
wire)
	# shellcheck disable=SC2046 # pkg-config output is a word list
	"$CC" -O1 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$(pkg-config --cflags libsodium) -I"$src/include" \
		"$src/dataplane/proto/wire.c" "$src/dataplane/proto/auth.c" \
		"$src/tests/fuzz/fuzz_wire.c" $(pkg-config --libs libsodium) \
		-o "$out/fuzz_wire"
	# -max_len above GW_FRAME_MAX so over-long frames are tried too.
	max_len=9000
	;;
pkt)
	dpdk_cflags=$(pkg-config --cflags libdpdk liburcu-qsbr)
	dpdk_libs=$(pkg-config --libs libdpdk)
	# shellcheck disable=SC2086 # pkg-config output is a word list
	"$CC" -O1 -g -std=gnu11 -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API \
		-Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$dpdk_cflags -I"$src/include" -I"$src/dataplane/api" -I"$src/dataplane/proto" \
		"$src/dataplane/pkt.c" "$src/dataplane/stats.c" "$src/dataplane/proto/wire.c" \
		"$src/tests/fuzz/fuzz_pkt.c" $dpdk_libs -o "$out/fuzz_pkt"
	# The mbuf data room in fuzz_pkt.c (ROOM): a jumbo frame.
	max_len=9216
	;;
config | ctl_request)
	if [ -z "$build" ] || [ ! -f "$build/control/libgwart-cp.a" ]; then
		echo "fuzz $target: needs <builddir> with the static libraries built" >&2
		exit 2
	fi
	b=$(cd "$build" && pwd)
	if [ "$target" = config ]; then
		fuzzed="control/config.c control/eal_args.c control/settings.c control/route.c"
	else
		fuzzed="control/sock.c control/loop.c control/api.c"
	fi
	srcs=
	for f in $fuzzed; do srcs="$srcs $src/$f"; done
	dpdk_cflags=$(pkg-config --cflags libdpdk liburcu-qsbr jansson libsodium)
	libs="$(pkg-config --libs libdpdk liburcu-qsbr liburcu-cds jansson libsodium libsystemd libmicrohttpd) -lrte_bus_vdev"
	# Objects first: the archives' copies of the fuzzed files are then
	# never pulled in.
	# shellcheck disable=SC2086 # word lists
	"$CC" -O1 -g -std=gnu11 -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API \
		-Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$dpdk_cflags -I"$src/include" -I"$src/control" -I"$src/control/backoff" \
		-I"$src/dataplane/api" -I"$src/dataplane/proto" \
		$srcs "$src/tests/fuzz/fuzz_$target.c" \
		"$b/control/libgwart-cp.a" "$b/control/libgwart-cp-core.a" \
		"$b/dataplane/libgwart-dp.a" "$b/dataplane/proto/libgwart-proto.a" \
		"$b/control/libgwart-backoff.a" $libs -lpthread -lm \
		-o "$out/fuzz_$target"
	# Above the control socket's 64 KiB line, so over-long lines are tried.
	max_len=70000
	;;
router)
	# The whole router (dataplane, protocol core, control plane but its
	# mains) compiled with coverage and sanitizers, each router file with
	# the fuzzer's virtual clock forced in (fuzz_router_clock.h) except
	# control/loop.c, which defines the real one. Objects in parallel.
	obj=$out/obj-router
	rm -rf "$obj"
	mkdir -p "$obj"
	dpdk_cflags=$(pkg-config --cflags libdpdk liburcu-qsbr jansson libsodium)
	libs="$(pkg-config --libs libdpdk liburcu-qsbr liburcu-cds jansson libsodium libsystemd libmicrohttpd) -lrte_net_ring -lrte_bus_vdev"
	# Router files are not this area's: clang's warnings there are not
	# made errors (gcc builds them with -Werror); the harness's are.
	cflags="-O1 -g -std=gnu11 -D_GNU_SOURCE -DALLOW_EXPERIMENTAL_API -DGWART_VERSION=\"fuzz\" \
		-Wall -Wextra -Wno-missing-field-initializers -Wno-unused-parameter \
		-fno-sanitize-recover=all $dpdk_cflags -I$src/include -I$src/dataplane/api \
		-I$src/dataplane/proto -I$src/dataplane -I$src/control -I$src/control/backoff"
	for f in "$src"/dataplane/*.c "$src"/dataplane/proto/*.c "$src"/control/*.c \
		"$src"/control/backoff/*.c; do
		case ${f##*/} in
		gwartd.c | gwartd_args.c | gwartctl.c | gwartctl_show.c | gwartctl_top.c) continue ;;
		esac
		echo "$f"
	done >"$obj/list"
	# shellcheck disable=SC2086 # word lists
	CC=$CC CFLAGS=$cflags OBJ=$obj CLOCK=$src/tests/fuzz/fuzz_router_clock.h \
	xargs -P "${FUZZ_JOBS:-2}" -n 1 sh -c '
		f=$1
		o=$OBJ/$(echo "$f" | tr / _).o
		inc="-include $CLOCK"
		case $f in */control/loop.c) inc= ;; esac
		exec $CC $CFLAGS $inc -fsanitize=fuzzer-no-link,address,undefined -c "$f" -o "$o"
	' sh <"$obj/list"
	# shellcheck disable=SC2086 # word lists
	# call_rcu and rcu_barrier run on the fuzzer's thread (fuzz_router.c).
	"$CC" $cflags -Werror -fsanitize=fuzzer,address,undefined \
		-Wl,--wrap=urcu_qsbr_call_rcu -Wl,--wrap=urcu_qsbr_barrier \
		"$src/tests/fuzz/fuzz_router.c" "$obj"/*.o $libs -lpthread -lm \
		-o "$out/fuzz_router"
	max_len=4096
	;;
smtp_server | smtp_client | mailmsg)
	smtp=$src/connectors/smtp
	"$CC" -O1 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-I"$smtp" "$smtp/mailmsg.c" "$smtp/smtp_server.c" "$smtp/smtp_client.c" "$smtp/dsn.c" \
		"$src/tests/fuzz/fuzz_$target.c" -o "$out/fuzz_$target"
	# Past the server's longest command line (1000 in most modes) and
	# content limit (2048), the client's reply line (2048), several
	# mail payloads' worth.
	max_len=16384
	;;
*)
	echo "unknown target '$target' (wire, pkt, config, ctl_request, router, smtp_server, smtp_client or mailmsg)" >&2
	exit 2
	;;
esac

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# fuzz_one LABEL: the regression inputs (corpus/<target>/regress-*, each run
# once, whatever the time budget), then <seconds> of fuzzing on a scratch
# copy of the corpus. The environment selects the variant (FUZZ_ROUTER_WORKERS).
fuzz_one() {
	label=$1
	log=$out/fuzz_$label.log
	regress=$(find "$src/tests/fuzz/corpus/$target" -name 'regress-*' -type f | sort)
	if [ -n "$regress" ]; then
		rc=0
		# shellcheck disable=SC2086 # one path per word (no blanks in them)
		"$out/fuzz_$target" -timeout=10 -artifact_prefix="$out/" $regress \
			>"$out/fuzz_$label.regress.log" 2>&1 || rc=$?
		if [ "$rc" -ne 0 ]; then
			tail -n 40 "$out/fuzz_$label.regress.log" >&2
			echo "fuzz $label: regression input FAILED (exit $rc), see" \
				"$out/fuzz_$label.regress.log" >&2
			exit 1
		fi
	fi
	corpus=$(mktemp -d "$out/corpus.XXXXXX")
	cp "$src/tests/fuzz/corpus/$target"/* "$corpus"/
	rc=0
	"$out/fuzz_$target" -max_total_time="$secs" -max_len="$max_len" -timeout=10 \
		-dict="$src/tests/fuzz/$target.dict" -artifact_prefix="$out/" \
		-print_final_stats=1 "$corpus" >"$log" 2>&1 || rc=$?
	rm -rf "$corpus"
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$log" >&2
		echo "fuzz $label: FAILED (exit $rc), see $log" >&2
		exit 1
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ -z "$runs" ]; then
		tail -n 20 "$log" >&2
		echo "fuzz $label: FAILED (no final stats), see $log" >&2
		exit 1
	fi
	echo "fuzz $label: $(echo "$regress" | grep -c regress-) regression inputs, $runs runs, OK"
}

if [ "$target" = router ]; then
	# One worker, then two (hand-offs and verdicts between them).
	FUZZ_ROUTER_WORKERS=1 fuzz_one router
	FUZZ_ROUTER_WORKERS=2 fuzz_one router2
else
	fuzz_one "$target"
fi
