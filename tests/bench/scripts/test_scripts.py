# SPDX-License-Identifier: BSD-3-Clause
"""The benchmark scripts' parsing and arithmetic, not their speed.

    python3 test_scripts.py REPO_ROOT

bench/report.py's figures (testpmd logs, the worker's busy figure of
gwart-bench JSON files of old and new revisions, medians, spread, the
harness-bound line, missing keys) fed with fixtures: recorded ones under
fixtures/ and small synthetic ones written here; then bench/run.sh -r and
-m end to end with stub gwart-bench and dpdk-testpmd binaries (the order
of the runs, the one ratio line at the end, a row that cannot run, the
half-load rate). Standard library only; no DPDK, no root.
"""
import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
spec = importlib.util.spec_from_file_location("report", os.path.join(ROOT, "bench", "report.py"))
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


def read(path):
    with open(path) as f:
        return f.read()


def testpmd_log(per_second, ports=2):
    """A testpmd --stats-period=1 log in the recorded one's shape: a block a
    second, each port's Rx-pps (per_second: the per-port rate of each)."""
    out = ["EAL: Detected CPU lcores: 2", "Set 5tswap packet forwarding mode"]
    for pps in per_second:
        out.append("Port statistics ====================================")
        for p in range(ports):
            out += ["  ######################## NIC statistics for port %d  ####" % p,
                    "  RX-packets: 320416     RX-missed: 0          RX-bytes:  0",
                    "  Rx-pps:   %10d          Rx-bps:            0" % pps,
                    "  Tx-pps:   %10d          Tx-bps:            0" % pps]
    out += ["Telling cores to stop...", "  RX-packets: 55836864       RX-dropped: 0", "Bye..."]
    return "\n".join(out) + "\n"


def gwart_json(**res):
    """A gwart-bench JSON file's content: what a revision's gb_result.c
    writes, only the keys given (older revisions lack newer keys)."""
    params = res.pop("params", {"scenario": "inproc", "stage_stats": 0})
    return {"tool": "gwart-bench", "params": params, "result": res}


def new_json(cyc, hz=2.0e9, ok=1, hb=False, idle=0.0, rate=2.0e6, cpu=None):
    """As the harness writes it from issue 9 on: busy_cycles_per_msg is the
    worker's TSC, harness_bound and idle_fraction present."""
    return gwart_json(ok=ok, inconclusive=0, why="" if ok else "1 message(s) delivered twice",
                      tsc_hz=hz, rate_msg_s=rate, rate_per_worker_core=rate * 1.2,
                      busy_cycles_per_msg=cyc, busy_method="worker busy iterations' TSC",
                      busy_tsc_cycles_per_msg=cyc, harness_bound=hb, idle_fraction=idle,
                      cpu_cycles_per_msg=cpu if cpu is not None else cyc * 1.05)


class Dir:
    def __init__(self):
        self.t = tempfile.TemporaryDirectory()
        self.path = self.t.name

    def write(self, name, content):
        p = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(content if isinstance(content, str) else json.dumps(content))
        return p


def run_ratio(args):
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = report.ratio_main(args)
    return rc, buf.getvalue().splitlines()


class TestpmdLogs(unittest.TestCase):
    def test_recorded(self):
        text = read(os.path.join(FIX, "testpmd-5tswap-null.log"))
        # Blocks 2 and 3, both ports summed; block 1 (0 pps) dropped.
        self.assertEqual(report.testpmd_rates(text), [9054084 + 9054081, 9603073 + 9602942])
        pps, why = report.testpmd_run(os.path.join(FIX, "testpmd-5tswap-null.log"))
        self.assertAlmostEqual(pps, (18108165 + 19206015) / 2)
        self.assertEqual(why, "")

    def test_cut_short(self):
        text = read(os.path.join(FIX, "testpmd-5tswap-null.log"))
        cut = text[:text.rindex("NIC statistics for port 1")]
        self.assertEqual(report.testpmd_rates(cut), [18108165])

    def test_table(self):
        for name, per, want in [
            ("first dropped", [0, 10, 20], [20, 40]),
            ("one block: nothing left", [5], []),
            ("none", [], []),
            ("zero seconds stay", [7, 0, 6], [0, 12]),
        ]:
            with self.subTest(name):
                self.assertEqual(report.testpmd_rates(testpmd_log(per)), want)

    def test_no_stats(self):
        pps, why = report.testpmd_run(os.path.join(FIX, "testpmd-no-stats.log"))
        self.assertIsNone(pps)
        self.assertIn("no per-second statistics", why)
        self.assertEqual(report.testpmd_run("/nonexistent.log"), (None, "no testpmd log"))


class WorkerCycles(unittest.TestCase):
    def test_methods(self):
        rec = json.loads(read(os.path.join(FIX, "gwart-0343485.json")))
        for name, r, p, want in [
            ("0343485: CPU-time busy, TSC figure beside it", rec["result"], rec["params"],
             (rec["result"]["busy_tsc_cycles_per_msg"], "tsc")),
            ("issue 9: busy_cycles_per_msg is the TSC", new_json(600)["result"], {},
             (600, "tsc")),
            ("before 0343485, no --stage-stats: CPU-time only",
             {"busy_cycles_per_msg": 450.0, "busy_tsc_cycles_per_msg": 0.0,
              "busy_method": "worker user CPU time minus idle iterations x idle cost"}, {},
             (450.0, "cpu")),
            ("before 0343485 with --stage-stats", {"busy_cycles_per_msg": 450.0,
                                                   "busy_tsc_cycles_per_msg": 520.0},
             {"stage_stats": 1}, (520.0, "tsc+stage-stats")),
            ("stage_stats TSC method", {"busy_cycles_per_msg": 530.0,
                                        "busy_method": "router TSC accounting (stage_stats)"},
             {"stage_stats": 1}, (530.0, "tsc+stage-stats")),
            ("no busy keys at all", {"rate_msg_s": 1.0}, {}, (None, "none")),
            ("no result", None, None, (None, "none")),
        ]:
            with self.subTest(name):
                self.assertEqual(report.worker_cycles(r, p), want)


class Residence(unittest.TestCase):
    def test_keys(self):
        nested = {"latency": {"router_residence": {"count": 10, "p50_us": 1.0, "p99_us": 3.0,
                                                   "p999_us": 5.0, "max_us": 9.0}}}
        for name, r, want in [
            ("0343485: latency.router_residence", nested,
             {"p50": 1.0, "p99": 3.0, "p999": 5.0, "max": 9.0, "count": 10, "source": "router"}),
            ("no samples (no --stage-stats)",
             {"latency": {"router_residence": {"count": 0, "p50_us": 0.0, "p99_us": 0.0}}}, None),
            ("issue 9: top-level keys, end to end",
             dict(nested, residence_source="end_to_end", residence_p50_us=2.0,
                  residence_p99_us=12.0, residence_p999_us=30.0),
             {"p50": 2.0, "p99": 12.0, "p999": 30.0, "max": None, "count": None,
              "source": "end_to_end"}),
            ("nothing", {}, None),
        ]:
            with self.subTest(name):
                self.assertEqual(report.residence(r), want)


class Ratio(unittest.TestCase):
    def setUp(self):
        self.d = Dir()
        self.addCleanup(self.d.t.cleanup)

    def reps(self, spec):
        """spec: [(gwart JSON or None, per-port testpmd rates)] -> args"""
        args = []
        for i, (g, tp) in enumerate(spec, 1):
            gp = os.path.join(self.d.path, "json", "ratio-gwart-%d.json" % i)
            if g is not None:
                self.d.write("json/ratio-gwart-%d.json" % i, g)
            else:
                self.d.write("logs/ratio-gwart-%d.log" % i,
                             "EAL: ...\ngwart-bench: at most 65535 connectors\n")
            args += [gp, self.d.write("logs/ratio-testpmd-%d.log" % i, testpmd_log(tp))]
        return args

    def test_median_of_three(self):
        # 2 GHz; testpmd 2 ports x 10, 12.5, 8 Mpps = 100, 80, 125 cycles/pkt;
        # gwart 400, 400, 500: ratios 0.25, 0.20, 0.25.
        rc, out = run_ratio(self.reps([(new_json(400), [0, 10e6, 10e6]),
                                       (new_json(400), [0, 12.5e6]),
                                       (new_json(500), [0, 8e6, 8e6, 8e6])]))
        self.assertEqual(rc, 0)
        self.assertEqual(out[-1], "ratio: gwart/testpmd-5tswap = 0.250 (gwart 400 cycles/msg, "
                                  "testpmd 100 cycles/pkt, spread 20.0 %)")
        self.assertEqual(sum(1 for l in out if l.startswith("ratio:")), 1)
        self.assertFalse(any(l.startswith("harness-bound") for l in out))
        self.assertTrue(out[1].endswith("ratio 0.200"), out[1])

    def test_harness_bound(self):
        rc, out = run_ratio(self.reps([(new_json(400, hb=True, idle=0.25), [0, 10e6]),
                                       (new_json(400), [0, 10e6]),
                                       (new_json(400, hb=True, idle=0.1), [0, 10e6])]))
        self.assertEqual(rc, 0)
        self.assertTrue(out[-2].startswith("harness-bound: repetitions 1, 3 of 3 "
                                           "(harness_bound true, worker idle 10-25 %)"),
                        out[-2])
        self.assertEqual(out[-1], "ratio: gwart/testpmd-5tswap = 0.250 (gwart 400 cycles/msg, "
                                  "testpmd 100 cycles/pkt, spread 0.0 %)")

    def test_descheduled(self):
        rc, out = run_ratio(self.reps([(new_json(400, cpu=200), [0, 10e6]),
                                       (new_json(400), [0, 10e6]),
                                       (new_json(400, cpu=380), [0, 10e6])]))
        self.assertEqual(rc, 0)
        self.assertIn("; descheduled: the busy figure is 100 % above", out[0])
        self.assertNotIn("descheduled", out[1] + out[2])
        self.assertTrue(out[-2].startswith("descheduled: repetition 1 of 3 (busy TSC "
                                           "cycles/msg 100-100 % above"), out[-2])
        # CPU time per message 200, 420, 380 against testpmd's 100
        self.assertTrue(out[-2].endswith("(idle polling included: a lower bound) the ratio "
                                         "is 0.263"), out[-2])

    def test_recorded_issue9_halfload(self):
        # The harness of issue 9 (harness_bound, idle_fraction, residence_*
        # keys), a loaded host: descheduled and harness-bound both.
        g = os.path.join(FIX, "gwart-issue9-halfload.json")
        r, p = report.read_run(g)
        self.assertEqual(report.worker_cycles(r, p), (r["busy_cycles_per_msg"], "tsc+stage-stats"))
        self.assertEqual(report.residence(r)["source"], "router")
        self.assertAlmostEqual(report.residence(r)["p99"], r["residence_p99_us"])
        rc, out = run_ratio([g, os.path.join(FIX, "testpmd-5tswap-null.log")])
        self.assertEqual(rc, 0)
        self.assertTrue(out[-3].startswith("descheduled: repetition 1 of 1"), out)
        self.assertTrue(out[-2].startswith("harness-bound: repetition 1 of 1 (harness_bound "
                                           "true, worker idle 40-40 %)"), out)
        self.assertTrue(out[-1].startswith("ratio: gwart/testpmd-5tswap = 0.015 (gwart 9539 "
                                           "cycles/msg, testpmd 139 cycles/pkt"), out[-1])

    def test_missing_keys(self):
        old = gwart_json(ok=1, tsc_hz=2.0e9, rate_msg_s=4.2e6, busy_cycles_per_msg=380.0,
                         busy_tsc_cycles_per_msg=400.0,
                         busy_method="worker user CPU time minus idle iterations x idle cost")
        rc, out = run_ratio(self.reps([(old, [0, 10e6])]))
        self.assertEqual(rc, 0)
        self.assertIn("harness_bound -", out[0])
        self.assertEqual(out[-1], "ratio: gwart/testpmd-5tswap = 0.250 (gwart 400 cycles/msg, "
                                  "testpmd 100 cycles/pkt, spread 0.0 %)")

    def test_failed_and_not_run(self):
        rc, out = run_ratio(self.reps([(new_json(400, ok=0), [0, 10e6]),
                                       (None, [0, 10e6]),
                                       (new_json(500), [0, 10e6])]))
        self.assertEqual(rc, 1)
        self.assertIn("not run: at most 65535 connectors", out[1])
        self.assertIn("FAILED: gwart-bench's check (exactly once, or a run without messages) failed in repetition 1", out)
        self.assertIn("counted: 1 of 3 repetitions", out)
        self.assertEqual(out[-1], "ratio: gwart/testpmd-5tswap = 0.200 (gwart 500 cycles/msg, "
                                  "testpmd 100 cycles/pkt, spread 0.0 %)")

    def test_nothing_counted(self):
        rc, out = run_ratio(self.reps([(new_json(400), [5e6])]))
        self.assertEqual(rc, 2)
        self.assertEqual(out[-1], "ratio: gwart/testpmd-5tswap = - (gwart - cycles/msg, "
                                  "testpmd - cycles/pkt, spread - %)")

    def test_recorded_pair(self):
        rc, out = run_ratio([os.path.join(FIX, "gwart-0343485.json"),
                             os.path.join(FIX, "testpmd-5tswap-null.log")])
        rec = json.loads(read(os.path.join(FIX, "gwart-0343485.json")))["result"]
        t = rec["tsc_hz"] / ((18108165 + 19206015) / 2)
        self.assertEqual(rc, 0)
        self.assertEqual(out[-1], "ratio: gwart/testpmd-5tswap = %.3f (gwart %.0f cycles/msg, "
                                  "testpmd %.0f cycles/pkt, spread 0.0 %%)" % (
                                      t / rec["busy_tsc_cycles_per_msg"],
                                      rec["busy_tsc_cycles_per_msg"], t))


class Compare(unittest.TestCase):
    def test_old_and_new(self):
        d = Dir()
        self.addCleanup(d.t.cleanup)
        old = gwart_json(ok=1, tsc_hz=2.0e9, rate_msg_s=4.0e6, busy_cycles_per_msg=420.0,
                         busy_tsc_cycles_per_msg=500.0, params={"stage_stats": 1})
        for k, (c_new, tp) in enumerate([(250, 10e6), (260, 10e6), (240, 12.5e6)], 1):
            d.write("json/cmp-r1-%d.json" % k, old)
            d.write("json/cmp-r2-%d.json" % k, new_json(c_new, hb=(k == 2)))
            d.write("logs/cmp-testpmd-%d.log" % k, testpmd_log([0, tp]))
        buf = io.StringIO()
        with redirect_stdout(buf):
            rc = report.compare_main([d.path, "3", "r1=8dccbad", "r2=main (abc1234)"])
        out = buf.getvalue()
        self.assertEqual(rc, 0, out)
        rows = {l.split("|")[1].strip(): [c.strip() for c in l.split("|")[2:-1]]
                for l in out.splitlines() if l.startswith("| ") and "revision" not in l}
        # old: busy 500 (*), harness_bound absent, ratio 100/500 x2, 80/500
        self.assertEqual(rows["8dccbad"][0], "500 *")
        self.assertEqual(rows["8dccbad"][3], "-")
        self.assertEqual(rows["8dccbad"][4], "0.200 (20 %)")
        self.assertEqual(rows["8dccbad"][5], "1")
        self.assertEqual(rows["main (abc1234)"][0], "250")
        self.assertEqual(rows["main (abc1234)"][3], "1 of 3 (idle 0 %)")
        self.assertEqual(rows["main (abc1234)"][4], "0.385 (17 %)")  # 0.4, 0.385, 0.333
        self.assertEqual(rows["main (abc1234)"][5], "2.000")          # 500/250, 500/260, 500/240
        self.assertIn("* taken with --stage-stats", out)


STUB_GB = r"""#!/bin/sh
# gwart-bench stand-in: records its arguments, writes a canned JSON.
echo "g $*" >>"$STUB_ORDER"
json=""; label=""; origins=4; rate=0; ss=0
while [ $# -gt 0 ]; do
	case $1 in
	--stage-stats) ss=1 ;;
	--json) json=$2; shift ;;
	--label) label=$2; shift ;;
	--origins) origins=$2; shift ;;
	--rate) rate=$2; shift ;;
	esac
	shift
done
if [ "$origins" -gt 30000 ]; then echo "gwart-bench: EAL: not enough memory" >&2; exit 2; fi
if [ "$origins" = 5 ] && [ -n "${STUB_SLOW:-}" ]; then sleep 30; fi
n=$(grep -c '^g' "$STUB_ORDER")
cyc=$((400 + 10 * n))
cat >"$json" <<J
{"tool": "gwart-bench", "params": {"stage_stats": $ss, "rate_limit": $rate},
 "result": {"ok": 1, "inconclusive": 0, "why": "", "tsc_hz": 2000000000.0,
  "rate_msg_s": 3000000.0, "rate_per_worker_core": 3100000.0, "busy_cycles_per_msg": $cyc,
  "busy_method": "worker busy iterations' TSC", "harness_bound": false, "idle_fraction": 0.0,
  "latency": {"router_residence": {"count": 1000, "p50_us": 1.5, "p99_us": 4.0,
              "p999_us": 9.0, "max_us": 20.0}}}}
J
echo "SUMMARY scenario=inproc label=$label busy_cyc_per_msg=$cyc ok=1"
"""

STUB_TP = r"""#!/bin/sh
echo "t $*" >>"$STUB_ORDER"
if [ -n "${STUB_TP_FIRST:-}" ] && [ ! -f "$STUB_ORDER.tp1" ]; then
	: >"$STUB_ORDER.tp1"
	cat "$STUB_TP_FIRST"
else
	cat "$STUB_TP_LOG"
fi
exit 0
"""


class Shell(unittest.TestCase):
    def setUp(self):
        self.d = Dir()
        self.addCleanup(self.d.t.cleanup)
        gb = self.d.write("build/bench/gwart-bench", STUB_GB)
        tp = self.d.write("bin/dpdk-testpmd", STUB_TP)
        for p in (gb, tp):
            os.chmod(p, 0o755)
        self.env = dict(os.environ, STUB_ORDER=os.path.join(self.d.path, "order"),
                        STUB_TP_LOG=self.d.write("tp.log", testpmd_log([0, 10e6, 10e6])),
                        GB_TESTPMD=tp, GB_CPUS="0,1")

    def run_sh(self, *args):
        r = subprocess.run(["sh", os.path.join(ROOT, "bench", "run.sh"), "-b",
                            os.path.join(self.d.path, "build"), "-o",
                            os.path.join(self.d.path, "out")] + list(args),
                           env=self.env, capture_output=True, text=True, timeout=120)
        order = read(self.env["STUB_ORDER"]).splitlines()
        return r, order

    def test_ratio_interleaved(self):
        r, order = self.run_sh("-r")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual([l[0] for l in order], list("gtgtgt"))
        self.assertIn("--cpus-harness 0 --cpus-workers 1 --no-float", order[0])
        self.assertIn("--lcores=0@0,1@1", order[1])
        self.assertIn("--forward-mode=5tswap", order[1])
        out = r.stdout.splitlines()
        # gwart 410, 420, 430; testpmd 100: ratios 0.244, 0.238, 0.233
        self.assertEqual(out[-1], "ratio: gwart/testpmd-5tswap = 0.238 (gwart 420 cycles/msg, "
                                  "testpmd 100 cycles/pkt, spread 4.8 %)")
        self.assertEqual(sum(1 for l in out if l.startswith("ratio:")), 1)

    def test_testpmd_again(self):
        # EAL slow: one block in 7 s; run again for 14 s
        self.env.update(GB_REPS="1", STUB_TP_FIRST=self.d.write("slow.log", testpmd_log([0])))
        r, order = self.run_sh("-r")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual([l[0] for l in order], list("gtt"))
        log = read(os.path.join(self.d.path, "out", "logs", "ratio-testpmd-1.log"))
        self.assertTrue(log.startswith("gb_testpmd_5tswap: run again for 14 s: 7 s gave 1 "
                                       "per-second block(s)\n"), log[:200])
        self.assertEqual(r.stdout.splitlines()[-1], "ratio: gwart/testpmd-5tswap = 0.244 "
                         "(gwart 410 cycles/msg, testpmd 100 cycles/pkt, spread 0.0 %)")

    def test_matrix_quick(self):
        r, order = self.run_sh("-m", "-q")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        g = [l for l in order if l[0] == "g"]
        self.assertEqual(len(g), 8)
        # halfload after base, at half its 3,000,000 msg/s, no testpmd after it
        half = [l for l in g if "mx-halfload-1" in l][0]
        self.assertIn("--rate 1500000 --stage-stats", half)
        self.assertEqual(order[-1][0], "g")
        md = read(os.path.join(self.d.path, "out", "matrix.md"))
        self.assertIn("| conns-64 |", md)
        # every full-load row with its own testpmd: 2 GHz / 20 Mpps = 100,
        # gwart 410 (the first stub run): 0.244
        self.assertIn("| 100 | 0.244 | yes |", md)
        self.assertEqual(md.count("| 100 | 0."), 7)
        self.assertIn("| router | 1.50 | 4.00 | 9.00 | 20.00 | yes |", md)
        self.assertIn("| router residence p99 under 10 µs at half load | 4.00 µs | yes |", md)

    def test_matrix_slow_row(self):
        # conns-10 runs past GB_RUN_LIMIT in round 1: stopped, not run again
        self.env.update(GB_REPS="2", GB_RUN_LIMIT="4", STUB_SLOW="1")
        r, order = self.run_sh("-m", "-q")
        g = [l for l in order if l[0] == "g"]
        self.assertEqual(sum(1 for l in g if "mx-conns-10-" in l), 1)
        self.assertEqual(len(g), 15)
        md = read(os.path.join(self.d.path, "out", "matrix.md"))
        self.assertIn("| not run: stopped after 4 s (GB_RUN_LIMIT); not run: skipped: "
                      "it ran past GB_RUN_LIMIT (4 s) in an earlier round |", md)

    def test_matrix_not_run_row(self):
        plan = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "report.py"),
                               "matrix-plan", "--ncpu", "2"], capture_output=True, text=True)
        rows = [l.split("\t") for l in plan.stdout.splitlines()]
        self.assertEqual([r[0] for r in rows], ["base", "workers-2", "payload-1024", "routes-10",
                                                "routes-1000000", "conns-10", "conns-65535",
                                                "halfload"])
        self.env["GB_REPS"] = "1"
        self.env["GB_DURATION"] = "1"
        r, order = self.run_sh("-m")
        self.assertIn("--routes 32768 --origins 32768 --dests 32767", rows[6][2])
        self.assertIn("--routes 32768 --origins 5 --dests 5", rows[5][2])
        md = read(os.path.join(self.d.path, "out", "matrix.md"))
        self.assertIn("| conns-65535 | 65,535 connectors", md)
        self.assertIn("not run: EAL: not enough memory |", md)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class CompareShell(unittest.TestCase):
    """bench/compare.sh end to end in a scratch repository of two commits
    whose meson project builds the stub gwart-bench: worktrees, build, the
    order of the runs, --stage-stats for the older revision, the table."""

    def test_two_revisions(self):
        d = Dir()
        self.addCleanup(d.t.cleanup)
        repo = os.path.join(d.path, "repo")
        for f in ("compare.sh", "testpmd.sh", "report.py"):
            d.write("repo/bench/" + f, read(os.path.join(ROOT, "bench", f)))
        d.write("repo/bench/stub.sh", STUB_GB)
        d.write("repo/meson.build", "project('cmp', 'c')\nsubdir('bench')\n")
        d.write("repo/bench/meson.build",
                "custom_target('gwart-bench', input: 'stub.sh', output: 'gwart-bench',\n"
                "  command: ['cp', '@INPUT@', '@OUTPUT@'], build_by_default: true)\n")
        os.chmod(os.path.join(repo, "bench", "stub.sh"), 0o755)
        tp = d.write("bin/dpdk-testpmd", STUB_TP)
        os.chmod(tp, 0o755)

        def git(*a):
            return subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c",
                                   "user.email=t@t", "-c", "init.defaultBranch=main"] + list(a),
                                  check=True, capture_output=True, text=True).stdout.strip()
        git("init", "-q")
        git("add", "-A")
        git("commit", "-qm", "old")
        old = git("rev-parse", "HEAD")
        d.write("repo/NEWS", "new\n")
        git("add", "-A")
        git("commit", "-qm", "new")
        new = git("rev-parse", "HEAD")
        env = dict(os.environ, STUB_ORDER=os.path.join(d.path, "order"),
                   STUB_TP_LOG=d.write("tp.log", testpmd_log([0, 10e6, 10e6])), GB_TESTPMD=tp,
                   GB_CPUS="0,1", GB_CMP_SINCE=new, GB_CMP_DIR=os.path.join(d.path, "wt"),
                   GB_CMP_JOBS="1")
        r = subprocess.run(["sh", os.path.join(repo, "bench", "compare.sh"), "-k", "2", "-d",
                            "1", "-o", os.path.join(d.path, "out"), "-c", "HEAD~1", "HEAD"],
                           env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        order = read(env["STUB_ORDER"]).splitlines()
        self.assertEqual([l[0] for l in order], list("ggtggt"))
        self.assertIn("--stage-stats", order[0])      # HEAD~1 predates GB_CMP_SINCE
        self.assertNotIn("--stage-stats", order[1])
        self.assertIn(os.path.join(d.path, "wt", old, "build", "bench", "gwart-bench"),
                      read(os.path.join(d.path, "out", "revs.txt")))
        rows = [l for l in r.stdout.splitlines() if l.startswith("| HEAD")]
        # gwart runs 410, 420 | 430, 440; testpmd 2 GHz / 20 Mpps = 100
        self.assertEqual(rows[0].split("|")[2].strip(), "420 *")
        self.assertEqual(rows[1].split("|")[2].strip(), "430")
        self.assertIn("* taken with --stage-stats", r.stdout)
        # -c: the worktrees are gone again
        self.assertFalse(os.path.exists(os.path.join(d.path, "wt", old)))


def msg_json(size, rep, ok=1, rate=100.0, cpu=1.0):
    """What bench/msgsize.sh writes for one run of whole messages."""
    return {"tool": "gwart-conn", "params": {"scenario": "msgsize", "size": size, "count": 50,
                                             "rep": rep, "label": "msg-%d-r%d" % (size, rep)},
            "result": {"ok": ok, "messages": 50, "rate_msg_s": rate, "mb_s": rate * size / 1e6,
                       "bytes": 50 * size, "lost": 0 if ok else 1, "duplicates": 0,
                       "corrupt": 0, "worker_cpu_s": cpu, "wall_s": 2.0}}


class MsgSize(unittest.TestCase):
    """report.py msgsize (bench/msgsize.sh): medians per size over the
    rounds that were exact, sizes in ascending order, named in KB/MiB."""

    def run_msgsize(self, d):
        buf = io.StringIO()
        with redirect_stdout(buf):
            rc = report.msgsize_main([d.path])
        return rc, buf.getvalue()

    def test_table(self):
        d = Dir()
        for rep, (r1k, r1m) in enumerate([(9000, 12), (11000, 10), (10000, 14)], 1):
            d.write("json/msg-1024-r%d.json" % rep, msg_json(1024, rep, rate=r1k))
            d.write("json/msg-1048576-r%d.json" % rep, msg_json(1048576, rep, rate=r1m, cpu=2.0))
        d.write("json/host.json", {"tool": "host"})
        rc, text = self.run_msgsize(d)
        self.assertEqual(rc, 0, text)
        rows = [l.split("|")[1:-1] for l in text.splitlines() if l.startswith("| 1 ")]
        self.assertEqual([r[0].strip() for r in rows], ["1 KB", "1 MiB"])
        self.assertEqual([c.strip() for c in rows[0][1:5]], ["3", "yes", "10000", "10.24"])
        # 1 MiB: medians 12 msg/s, 12.58 MB/s; spread (14 - 10) / 12; CPU 2 s per 52.4 MB
        self.assertEqual([c.strip() for c in rows[1][1:7]],
                         ["3", "yes", "12", "12.58", "33 %", "38.1"])
        self.assertEqual(read(os.path.join(d.path, "msgsize.md")), text)

    def test_failed_run(self):
        d = Dir()
        d.write("json/msg-65536-r1.json", msg_json(65536, 1, rate=200))
        d.write("json/msg-65536-r2.json", msg_json(65536, 2, ok=0, rate=900))
        rc, text = self.run_msgsize(d)
        self.assertEqual(rc, 1)
        row = [l.split("|") for l in text.splitlines() if l.startswith("| 64 KB")][0]
        self.assertEqual(row[3].strip(), "**NO (1 of 2)**")
        self.assertEqual(row[4].strip(), "200")  # the inexact run is not counted

    def test_none(self):
        d = Dir()
        d.write("json/host.json", {"tool": "host"})
        rc, _ = self.run_msgsize(d)
        self.assertEqual(rc, 1)

    def test_names(self):
        self.assertEqual([report.size_name(b) for b in (1, 1000, 1024, 65536, 1 << 20, 3 << 20,
                                                          1025)],
                         ["1 B", "1000 B", "1 KB", "64 KB", "1 MiB", "3 MiB", "1025 B"])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
