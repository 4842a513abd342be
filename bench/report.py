# SPDX-License-Identifier: BSD-3-Clause
"""Turn bench/run.sh output into the report, and the figures of its modes.

    python3 bench/report.py OUT_DIR
    python3 bench/report.py ratio GWART.json TESTPMD.log [GWART.json TESTPMD.log ...]
    python3 bench/report.py matrix-plan [--quick]
    python3 bench/report.py matrix OUT_DIR
    python3 bench/report.py half-rate GWART.json
    python3 bench/report.py compare OUT_DIR ROUNDS NAME[=NOTE]...
    python3 bench/report.py msgsize OUT_DIR

OUT_DIR: reads OUT_DIR/json/*.json (one file per run: gwart-bench, its
peers, the host) and writes OUT_DIR/report.md, OUT_DIR/results.json
(everything merged) and, when gnuplot is installed, OUT_DIR/*.png from
bench/plots.gp (data files OUT_DIR/plot-*.dat).

ratio (bench/run.sh -r, deploy/bench.sh --ratio): one gwart-bench JSON and
one dpdk-testpmd log per repetition; prints each repetition, a line when
the harness could not keep the worker busy, and last exactly one line
    ratio: gwart/testpmd-5tswap = R (gwart C cycles/msg, testpmd T cycles/pkt, spread S %)
R the median of the repetitions' ratios (testpmd cycles per packet over
gwart's busy cycles per message: 1.0 is as fast as testpmd), C and T the
medians, S (max - min) / median of the ratios.

matrix-plan / matrix (bench/run.sh -m): the rows of the issue-9 matrix (one
definition, read by run.sh) and their tables (OUT_DIR/matrix.md, printed).

compare (bench/compare.sh): per revision, medians over ROUNDS interleaved
rounds, beside testpmd.

msgsize (bench/msgsize.sh, issue 11): OUT_DIR/json/msg-SIZE-rN.json, one
per run of whole messages of one size; per size the median messages/s and
MB/s (10^6 bytes) over the rounds, their spread, the worker's CPU per GB,
and whether every run was exact; the table goes to OUT_DIR/msgsize.md and
stdout. Exit status 1 if a run was not exact or none was found.

Standard library only.
"""
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys


def load(out):
    runs, host = {}, {}
    for path in sorted(glob.glob(os.path.join(out, "json", "*.json"))):
        try:
            d = json.load(open(path))
        except ValueError:
            continue
        name = os.path.basename(path)[:-5]
        if d.get("tool") == "host":
            host = d
        else:
            runs[name] = d
    return host, runs


def res(runs, name, key, default=None):
    r = runs.get(name, {}).get("result", {})
    return r.get(key, default)


def per_core(runs, name):
    r = runs.get(name, {}).get("result", {})
    for k in ("rate_per_worker_core", "rate_per_core", "rate_per_server_core"):
        if r.get(k):
            return r[k]
    return None


def fmt(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if abs(v) >= 1e6:
        return "%.2f M%s" % (v / 1e6, unit)
    if abs(v) >= 1e3:
        return "%.1f k%s" % (v / 1e3, unit)
    return "%.1f%s" % (v, unit)


def ratio(a, b):
    return "%.3f" % (a / b) if a and b else "–"


def table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def hz(host, runs):
    v = res(runs, "inproc-base", "tsc_hz")
    return v or 2.6e9


def best_inproc(runs):
    """The inproc run the comparison uses: the better per-core figure of the
    floating and the pinned base runs, among those that checked out."""
    cand = [n for n in ("inproc-base", "inproc-pinned")
            if n in runs and runs[n]["result"].get("ok") and per_core(runs, n)]
    return max(cand, key=lambda n: per_core(runs, n)) if cand else "inproc-base"


def headline(host, runs):
    ref = best_inproc(runs)
    g = per_core(runs, ref)
    h = hz(host, runs)
    rows = []
    spec = [
        ("gwart inproc (net_ring, in-process)", "inproc-base", "exactly once, custody + ACK"),
        ("gwart inproc, worker pinned alone", "inproc-pinned", "same, worker on its own CPU"),
        ("gwart memif (gwartd in its own process)", "memif-base", "exactly once"),
        ("gwart tap (SDK connectors, kernel UDP)", "tap-base", "exactly once; kernel-bound"),
        ("dpdk-testpmd 5tswap, net_null", "testpmd-null", "no protocol: host software limit"),
        ("dpdk-testpmd 5tswap, net_ring", "testpmd-ring", "32 packets ping-ponging in cache"),
        ("kernel UDP forwarder (recvmmsg/sendmmsg)", "udpfwd-64", "no protocol, no kernel bypass"),
        ("NATS core pub/sub", "nats-core-64", "at most once; per server CPU-second"),
        ("NATS JetStream, Nats-Msg-Id dedup", "nats-js-64", "publish acks; per server CPU-second"),
    ]
    for label, name, note in spec:
        if name not in runs:
            rows.append([label, "not run", "–", "–", "–", note])
            continue
        pc = per_core(runs, name)
        rows.append([label, fmt(res(runs, name, "rate_msg_s"), "/s"), fmt(pc, "/s"),
                     "%.0f" % (h / pc) if pc else "–",
                     ratio(g, pc) if name != ref else "1 (reference)", note])
    return table(["system", "rate (wall)", "per core (CPU time)", "cycles / msg",
                  "gwart ÷ this (per core)", "what it is"], rows)


def target(runs):
    ref = best_inproc(runs)
    g, t = per_core(runs, ref), per_core(runs, "testpmd-null")
    m = per_core(runs, "memif-base")
    out = ["- gwart's reference figure is `%s` (the better of the floating and pinned base "
           "runs that checked out)." % ref]
    if g and t:
        out.append("- Design target, per worker core at 64 B with exactly-once on: at least half of "
                   "testpmd's 5tswap rate on the same kind of ports and core. inproc reaches "
                   "**%.3f** of testpmd-null per core (target 0.5): **%s** (%.0f against %.0f "
                   "cycles per message/packet)." %
                   (g / t, "met" if g / t >= 0.5 else "not met", 2.6e9 / g, 2.6e9 / t))
    if m and t:
        out.append("- memif (gwartd's own mbufs recycled on the worker, as with a NIC): **%.3f** "
                   "of testpmd-null per core." % (m / t))
    n = per_core(runs, "nats-js-64")
    if g and n:
        out.append("- Against NATS JetStream with de-duplication (per CPU-second of the server): "
                   "gwart is **%.0f×**." % (g / n))
    n = per_core(runs, "nats-core-64")
    if g and n:
        out.append("- Against NATS core pub/sub (no acknowledgement, no de-duplication): "
                   "gwart is **%.1f×**." % (g / n))
    return "\n".join(out) + "\n"


def gwart_runs(runs):
    return [n for n in runs if runs[n].get("tool") == "gwart-bench"
            and runs[n]["params"]["scenario"] in ("inproc", "memif")]


def checks(runs):
    rows = []
    for n in sorted(gwart_runs(runs)):
        r = runs[n]["result"]
        v = r.get("verify", {})
        rows.append([n, "yes" if r.get("ok") else "**NO: %s**" % r.get("why", ""),
                     v.get("acknowledged", 0), v.get("delivered", 0), v.get("lost", 0),
                     v.get("duplicates_delivered", 0),
                     r.get("endpoints", {}).get("retransmits", 0),
                     r.get("router", {}).get("retransmits", 0),
                     r.get("endpoints", {}).get("fault_drop", 0)])
    if "tap-base" in runs:
        r = runs["tap-base"]["result"]
        rows.append(["tap-base", "yes" if r.get("ok") else "**NO**", "–", r.get("messages"),
                     r.get("lost"), r.get("duplicates"), "–", "–", "–"])
    return table(["run", "exactly once", "acknowledged", "delivered", "lost",
                  "delivered twice", "origin retransmits", "router retransmits",
                  "faults injected (drops)"], rows)


def sweep(runs, prefix, key, label, out, datname):
    pts = []
    for n in runs:
        if n.startswith(prefix):
            try:
                x = int(n[len(prefix):])
            except ValueError:
                continue
            pts.append((x, n))
    pts.sort()
    rows, dat = [], []
    for x, n in pts:
        r = runs[n]["result"]
        lat = r.get("latency", {})
        rows.append([x, fmt(r.get("rate_msg_s"), "/s"), fmt(r.get("rate_per_worker_core"), "/s"),
                     "%.0f" % r.get("busy_cycles_per_msg", 0),
                     "%.1f" % lat.get("p50_us", 0), "%.1f" % lat.get("p99_us", 0),
                     "yes" if r.get("ok") else "NO"])
        dat.append("%d %f %f" % (x, r.get("rate_msg_s", 0) / 1e6,
                                 (r.get("rate_per_worker_core") or 0) / 1e6))
    with open(os.path.join(out, datname), "w") as f:
        f.write("# %s rate_Mmsg_s per_core_Mmsg_s\n" % key + "\n".join(dat) + "\n")
    return table([label, "rate (wall)", "per worker core", "busy cycles / msg", "p50 µs",
                  "p99 µs", "exactly once"], rows)


def latency(runs, out):
    rows = []
    for n, what in (("inproc-base", "saturated"), ("inproc-halfload", "half load (rate cap)"),
                    ("memif-base", "memif, saturated"), ("inproc-faults", "1 % drop + 1 % dup")):
        if n not in runs:
            continue
        r = runs[n]["result"]
        lat = r.get("latency", {})
        rows.append([n, what, fmt(r.get("rate_msg_s"), "/s")] +
                    ["%.1f" % lat.get(k, 0) for k in ("p50_us", "p99_us", "p999_us", "max_us")])
        with open(os.path.join(out, "plot-cdf-%s.dat" % n), "w") as f:
            f.write("# latency_us cumulative_fraction\n")
            for us, frac in lat.get("cdf", []):
                f.write("%f %f\n" % (us, frac))
    return table(["run", "load", "rate", "p50 µs", "p99 µs", "p99.9 µs", "max µs"], rows)


def stages(runs):
    out = ""
    r = runs.get("inproc-stages", {}).get("result")
    if r and r.get("stage_cycles_per_msg"):
        st = r["stage_cycles_per_msg"]
        tot = sum(st.values()) or 1
        out += ("Inside the router (`inproc --stage-stats`: the dataplane's own TSC marks, "
                "proportions scaled to the worker's user CPU time, %.0f busy cycles/msg):\n\n"
                % r.get("busy_cycles_per_msg", 0))
        out += table(["stage", "cycles / msg", "share"],
                     [[k, "%.0f" % v, "%.0f %%" % (100 * v / tot)] for k, v in
                      sorted(st.items(), key=lambda kv: -kv[1])])
    rows = []
    for n in sorted((n for n in runs if n.startswith("stages-")),
                    key=lambda n: int(n.split("-")[1])):
        r = runs[n]["result"]
        rows.append([runs[n]["params"]["routes"]] +
                    ["%.1f" % r["stage_cycles_per_msg"].get(k, 0) for k in
                     ("classify", "parse", "dedup", "route", "custody", "handoff", "tx_build",
                      "ack_build")] +
                    ["%.0f" % r.get("mem_per_route_bytes", 0),
                     "%.0f" % r.get("mem_per_connector_bytes", 0)])
    if rows:
        out += ("\nEach stage's function alone (`gwart-bench stages`), cycles per message "
                "(route: bulk of 32 over uniformly drawn routes), and DPDK heap:\n\n")
        out += table(["routes", "classify", "parse", "dedup", "route", "custody", "hand-off",
                      "egress copy", "ACK frame", "B / route", "B / connector"], rows)
    return out


def others(runs):
    rows = []
    for n, what in (("inproc-zipf-100000", "Zipf (s=0.99) over 100,000 routes"),
                    ("inproc-routes-100000", "uniform over 100,000 routes"),
                    ("inproc-conns-512", "256 origins + 256 destinations"),
                    ("inproc-workers-2", "2 workers (oversubscribed: 2 CPUs in all)"),
                    ("inproc-faults", "1 % drop + 1 % duplication, both links"),
                    ("inproc-pool-ring", "mbuf pool ring_mp_mc (FIFO) instead of stack"),
                    ("inproc-base", "reference: 4+4 connectors, 1,000 routes, stack pool")):
        if n not in runs:
            continue
        r = runs[n]["result"]
        rows.append([what, fmt(r.get("rate_msg_s"), "/s"), fmt(r.get("rate_per_worker_core"), "/s"),
                     "%.0f" % r.get("busy_cycles_per_msg", 0),
                     "%.0f" % (r.get("router", {}).get("busy", 0)),
                     "yes" if r.get("ok") else "NO"])
    return table(["inproc variant", "rate (wall)", "per worker core", "busy cycles / msg",
                  "BUSY refusals", "exactly once"], rows)


def plots(out):
    gp = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plots.gp")
    if shutil.which("gnuplot") is None:
        return "gnuplot is not installed: no plots (data in plot-*.dat).\n"
    r = subprocess.run(["gnuplot", "-e", "out='%s'" % out, gp], capture_output=True, text=True)
    if r.returncode != 0:
        return "gnuplot failed: %s\n" % r.stderr.strip()[:300]
    return ""


# ---- figures of the ratio, matrix and compare modes -------------------------
# These read one run's gwart-bench JSON (of any revision: older ones lack
# newer keys, shown as "-") and one dpdk-testpmd log each.

NA = "-"


def read_run(path):
    """A gwart-bench JSON file's (result, params), or (None, None) when the
    run left none (refused its options, crashed, was never run)."""
    try:
        with open(path) as f:
            d = json.load(f)
    except (OSError, ValueError):
        return None, None
    if not isinstance(d, dict):
        return None, None
    return d.get("result") or {}, d.get("params") or {}


def log_of(gpath):
    """run.sh's log beside a run's JSON: OUT/json/NAME.json -> OUT/logs/NAME.log."""
    d, n = os.path.split(gpath)
    n = n[:-5] if n.endswith(".json") else n
    if os.path.basename(d) == "json":
        d = os.path.join(os.path.dirname(d), "logs")
    return os.path.join(d, n + ".log")


def why_not_run(log):
    """The reason a run left no JSON: gwart-bench's own complaint (its last
    "gwart-bench: ..." line), else the log's last line."""
    try:
        with open(log, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
    except OSError:
        return "no output"
    own = [l for l in lines if l.startswith("gwart-bench:")]
    if own:
        return own[-1][len("gwart-bench:"):].strip()
    return lines[-1][:200] if lines else "no output"


def worker_cycles(r, p=None):
    """The worker's busy cycles per message and how they were taken.

    The ratio's figure is the worker's own TSC over its busy iterations per
    message: busy_cycles_per_msg where busy_method says it is TSC-based,
    else busy_tsc_cycles_per_msg (counted always from 0343485 on, before
    that only with --stage-stats). A JSON with neither gives the CPU-time
    estimate (user CPU time less idle iterations at a calibrated cost; it
    reads low), method "cpu". Returns (value or None, method), method one
    of "tsc", "tsc+stage-stats" (stage marks on: more cycles than without),
    "cpu", "none".
    """
    if not r:
        return None, "none"
    busy = r.get("busy_cycles_per_msg") or 0
    tsc = r.get("busy_tsc_cycles_per_msg") or 0
    if busy > 0 and "tsc" in str(r.get("busy_method", "")).lower():
        v = busy
    elif tsc > 0:
        v = tsc
    elif busy > 0:
        return busy, "cpu"
    else:
        return None, "none"
    return v, "tsc+stage-stats" if (p or {}).get("stage_stats") else "tsc"


def testpmd_rates(text):
    """Per-second forwarding rates in a `dpdk-testpmd --stats-period=1` log:
    each "Port statistics" block's Rx-pps summed over its ports (5tswap
    forwards what every port receives; one core polls them all). The first
    block is dropped (no previous sample: its rate is 0 or start-up), and
    so is a block the interrupt cut short (fewer ports than the others)."""
    blocks = [[int(v) for v in re.findall(r"Rx-pps:\s+(\d+)", b)]
              for b in re.split(r"Port statistics =+", text)[1:]]
    ports = max((len(b) for b in blocks), default=0)
    return [sum(b) for b in blocks[1:] if ports and len(b) == ports]


def testpmd_run(path):
    """(packets per second: the mean of the per-second rates, why not)."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return None, "no testpmd log"
    per = testpmd_rates(text)
    if not per:
        n = len(re.findall(r"Port statistics =+", text))
        last = [l.strip() for l in text.splitlines() if l.strip()]
        return None, "no per-second statistics after the first (%d block%s in the log%s)" % (
            n, "" if n == 1 else "s",
            ": started too slowly for GB_TESTPMD_SECONDS?" if "Bye" in text else
            ", last line: " + last[-1][:120] if last else ", empty")
    pps = sum(per) / len(per)
    if pps <= 0:
        return None, "testpmd forwarded nothing"
    return pps, ""


def median(xs):
    return statistics.median(xs) if xs else None


def spread(xs):
    """(max - min) / median, as a fraction; None without figures."""
    m = median(xs)
    return (max(xs) - min(xs)) / m if xs and m else None


def f0(v):
    return NA if v is None else "%.0f" % v


def fm(v, unit=""):
    return NA if v is None else fmt(v, unit)


def fbool(v):
    return NA if v is None else ("yes" if v else "no")


def gwart_rep(gpath, hz_default=None):
    """One gwart-bench run's figures as the modes use them."""
    r, p = read_run(gpath)
    x = {"ran": r is not None, "ok": None, "inconclusive": None, "why": "",
         "cyc": None, "method": "none", "rate": None, "per_core": None,
         "hb": None, "idle": None, "hz": None, "stage_stats": None, "res": None,
         "cpu_cyc": None, "desched": None}
    if r is None:
        x["why"] = "not run: " + why_not_run(log_of(gpath))
        return x
    x["ok"] = bool(r.get("ok"))
    x["inconclusive"] = bool(r.get("inconclusive"))
    x["why"] = r.get("why", "")
    x["cyc"], x["method"] = worker_cycles(r, p)
    x["rate"] = r.get("rate_msg_s")
    x["per_core"] = r.get("rate_per_worker_core")
    x["hb"] = r.get("harness_bound")
    x["idle"] = r.get("idle_fraction")
    x["hz"] = r.get("tsc_hz") or hz_default
    x["stage_stats"] = p.get("stage_stats")
    x["res"] = residence(r)
    x["cpu_cyc"] = r.get("cpu_cycles_per_msg") or None
    x["desched"] = descheduled(x["cyc"], x["method"], x["cpu_cyc"])
    return x


def descheduled(cyc, method, cpu_cyc):
    """How far the TSC busy figure exceeds the worker's whole CPU time per
    message (a fraction), when it does by more than 10 %, else None. The
    CPU time holds every busy cycle the worker really ran (and its idle
    ones); a TSC figure above it counts time the host gave another thread
    in the middle of a busy iteration: not the worker's cost."""
    if not cyc or not cpu_cyc or not method.startswith("tsc"):
        return None
    over = cyc / cpu_cyc - 1
    return over if over > 0.10 else None


def residence(r):
    """Router residence quantiles (µs) {p50, p99, p999, max, count, source},
    from whichever keys this revision writes, or None without samples.
    Issue 9's harness writes residence_p50_us/_p99_us/_p999_us with --rate
    and names their source: "router" (the workers' own histogram, kept with
    --stage-stats) or "end_to_end" (the harness's, which contains the
    router's: an upper bound). Older ones: latency.router_residence, filled
    only with --stage-stats."""
    if r.get("residence_p99_us"):
        return {"p50": r.get("residence_p50_us"), "p99": r.get("residence_p99_us"),
                "p999": r.get("residence_p999_us"), "max": r.get("residence_max_us"),
                "count": None, "source": r.get("residence_source", "router")}
    lat = r.get("latency") or {}
    for src in (r.get("residence"), r.get("router_residence"), lat.get("router_residence")):
        if not isinstance(src, dict):
            continue
        q = {k: src.get(k + "_us") for k in ("p50", "p99", "p999", "max")}
        n = src.get("count")
        if q["p99"] and (n is None or n > 0):
            q["count"] = n
            q["source"] = "router"
            return q
    return None


def pair(x, tp_path, hz):
    """Adds the testpmd run beside gwart run x: its cycles per packet at the
    TSC frequency gwart-bench reported, and the repetition's ratio."""
    x["tp_pps"], x["tp_why"] = testpmd_run(tp_path) if tp_path else (None, "")
    hz = x["hz"] or hz
    x["tp_cyc"] = hz / x["tp_pps"] if x["tp_pps"] and hz else None
    x["counted"] = bool(x["ok"] and x["cyc"] and x["tp_cyc"])
    x["ratio"] = x["tp_cyc"] / x["cyc"] if x["counted"] else None
    return x


def rep_line(i, x):
    if not x["ran"]:
        return "rep %d: gwart %s" % (i, x["why"])
    g = "gwart %s busy cycles/msg (%s), %s msg/s, harness_bound %s, exactly once %s" % (
        f0(x["cyc"]), x["method"], fm(x["rate"]), fbool(x["hb"]),
        "yes" if x["ok"] else ("inconclusive" if x["inconclusive"] else "NO") +
        (": " + x["why"] if x["why"] else ""))
    t = ("testpmd %s cycles/pkt (%s pkt/s)" % (f0(x["tp_cyc"]), fm(x["tp_pps"]))
         if x["tp_cyc"] else "testpmd %s" % (x["tp_why"] or "not run"))
    return "rep %d: %s; %s; ratio %s%s" % (
        i, g, t, "%.3f" % x["ratio"] if x["ratio"] else "- (not counted)",
        "; descheduled: the busy figure is %.0f %% above the worker's CPU time per message"
        % (100 * x["desched"]) if x["desched"] else "")


def desched_line(reps):
    """The line printed before the ratio when the host took the worker's CPU
    during busy iterations of a counted repetition, else None."""
    d = [(i, x) for i, x in reps if x.get("counted") and x["desched"]]
    if not d:
        return None
    over = [x["desched"] for _, x in d]
    # The CPU time per message holds idle polling too: an upper bound on
    # the worker's cost, so a ratio from it is a lower bound on gwart's.
    low = median([x["tp_cyc"] / x["cpu_cyc"] for x in
                  (y for _, y in reps if y.get("counted")) if x["cpu_cyc"]])
    return ("descheduled: repetition%s %s of %d (busy TSC cycles/msg %.0f-%.0f %% above the "
            "worker's CPU time per message): the host ran something else on the worker's CPU "
            "in the middle of busy iterations, so those figures overstate its cost; a quiet "
            "host is needed%s" % (
                "s" if len(d) > 1 else "", ", ".join(str(i) for i, _ in d), len(reps),
                100 * min(over), 100 * max(over),
                "; from the worker's CPU time per message instead (idle polling included: a "
                "lower bound) the ratio is %.3f" % low if low else ""))


def harness_bound_line(reps):
    """The line printed before the ratio when the harness could not keep the
    worker busy in a counted repetition, else None."""
    hb = [(i, x) for i, x in reps if x.get("counted") and x["hb"]]
    if not hb:
        return None
    idle = [x["idle"] for _, x in hb if x["idle"] is not None]
    return ("harness-bound: repetition%s %s of %d (harness_bound true%s): the worker's "
            "cycles/msg were taken at less than full bursts, so they overstate its cost "
            "at capacity and the ratio understates it" % (
                "s" if len(hb) > 1 else "", ", ".join(str(i) for i, _ in hb), len(reps),
                ", worker idle %.0f-%.0f %%" % (100 * min(idle), 100 * max(idle))
                if idle else ""))


def ratio_line(counted):
    """The one line the ratio mode ends with."""
    rs = [x["ratio"] for x in counted]
    if not rs:
        return "ratio: gwart/testpmd-5tswap = - (gwart - cycles/msg, testpmd - cycles/pkt, " \
               "spread - %)"
    return "ratio: gwart/testpmd-5tswap = %.3f (gwart %.0f cycles/msg, testpmd %.0f " \
           "cycles/pkt, spread %.1f %%)" % (
               median(rs), median([x["cyc"] for x in counted]),
               median([x["tp_cyc"] for x in counted]), 100 * spread(rs))


def ratio_main(args):
    if len(args) < 2 or len(args) % 2:
        print("usage: report.py ratio GWART.json TESTPMD.log [...]", file=sys.stderr)
        return 2
    xs = [gwart_rep(args[i]) for i in range(0, len(args), 2)]
    hz = next((x["hz"] for x in xs if x["hz"]), None)
    reps = [(i + 1, pair(x, args[2 * i + 1], hz)) for i, x in enumerate(xs)]
    for i, x in reps:
        print(rep_line(i, x))
    counted = [x for _, x in reps if x["counted"]]
    failed = [i for i, x in reps if x["ran"] and not x["ok"] and not x["inconclusive"]]
    if any(x["method"] == "cpu" for x in counted):
        print("note: this gwart-bench has no TSC busy figure; its CPU-time estimate (reads "
              "low) stands in")
    if failed:
        print("FAILED: gwart-bench's check (exactly once, or a run without messages) failed in repetition%s %s" % (
            "s" if len(failed) > 1 else "", ", ".join(map(str, failed))))
    if len(counted) < len(reps):
        print("counted: %d of %d repetitions" % (len(counted), len(reps)))
    for line in (desched_line(reps), harness_bound_line(reps)):
        if line:
            print(line)
    print(ratio_line(counted))
    return 1 if failed else (0 if counted else 2)


# ---- the issue-9 matrix -----------------------------------------------------
# One factor at a time from the base row, the target's: 1 worker, 64 B,
# 1,000 routes, 4 origins + 4 destinations, authentication on, the worker
# alone on its CPU and the harness on another. Each row's runs are followed
# by a testpmd 5tswap run (its own ratio), except where the worker is not at
# capacity by design (half load).

def matrix_rows(quick, ncpu, hcpu, wcpu):
    """[(name, what, gwart-bench args, testpmd after it)]; "@HALF@" in the
    args stands for half the base row's rate in the same repetition."""
    pin = ["--cpus-harness", str(hcpu), "--cpus-workers", str(wcpu), "--no-float"]
    base = ["--workers", "1", "--payload", "64", "--routes", "1000"]

    def b(*kv):
        a = list(base)
        for k, v in zip(kv[::2], kv[1::2]):
            if k in a:
                a[a.index(k) + 1] = v
            else:
                a += [k, v]
        return a
    others = [c for c in range(ncpu) if c != int(hcpu)]
    if len(others) >= 2:
        w2 = (["--cpus-harness", str(hcpu), "--cpus-workers", "%d,%d" % tuple(others[:2]),
               "--no-float"], "2 workers, each alone on its CPU")
    else:
        w2 = (["--cpus-workers", "0-%d" % (ncpu - 1), "--float"],
              "2 workers floating over %d CPU%s shared with the harness (not a scaling "
              "figure)" % (ncpu, "s" if ncpu > 1 else ""))
    # Quick: a smoke run of the scripts, the large rows small. 65,535
    # connectors, not the 65,536: connector ids are 1..65,535
    # (DP_MAX_CONNECTORS - 1), and gwart-bench refuses more.
    many_routes, many_conns = (100000, 64) if quick else (1000000, 65535)
    # Route i is served by destination i mod D: as many routes as the most
    # destinations, in both connector rows, so that traffic reaches every
    # destination and only the connectors differ between them.
    conn_routes = str(max(1000, many_conns // 2 + 1))
    return [
        ("base", "1 worker, 64 B, 1,000 routes, 4 + 4 connectors", b() + pin, True),
        ("workers-2", w2[1], b("--workers", "2") + w2[0], True),
        ("payload-1024", "1 KB payload", b("--payload", "1024") + pin, True),
        ("routes-10", "10 routes", b("--routes", "10") + pin, True),
        ("routes-%d" % many_routes, "{:,} routes".format(many_routes),
         b("--routes", str(many_routes)) + pin, True),
        ("conns-10", "10 connectors (5 + 5), {:,} routes".format(int(conn_routes)),
         b("--origins", "5", "--dests", "5", "--routes", conn_routes) + pin, True),
        ("conns-%d" % many_conns, "{:,} connectors ({:,} + {:,}), {:,} routes: traffic to "
         "every destination".format(many_conns, many_conns - many_conns // 2, many_conns // 2,
                                    int(conn_routes)),
         b("--origins", str(many_conns - many_conns // 2), "--dests", str(many_conns // 2),
           "--routes", conn_routes) + pin, True),
        # Residence is recorded by the workers with stage accounting on.
        ("halfload", "base at half its full-load rate (residence)",
         b("--rate", "@HALF@") + ["--stage-stats"] + pin, False),
    ]


def plan_main(args):
    quick, ncpu, cpus = False, os.cpu_count() or 1, "0,1"
    it = iter(args)
    for a in it:
        if a == "--quick":
            quick = True
        elif a == "--ncpu":
            ncpu = int(next(it))
        elif a == "--cpus":
            cpus = next(it)
        else:
            print("usage: report.py matrix-plan [--quick] [--ncpu N] [--cpus H,W]",
                  file=sys.stderr)
            return 2
    h, w = cpus.split(",")
    for name, what, a, tp in matrix_rows(quick, ncpu, h, w):
        print("%s\t%d\t%s\t%s" % (name, int(tp), " ".join(a), what))
    return 0


def half_rate_main(args):
    """Half the run's delivered rate (msg/s, at least 1,000), for --rate."""
    r, _ = read_run(args[0]) if args else (None, None)
    if not r or not r.get("rate_msg_s"):
        print("report.py half-rate: no rate in %s" % (args[0] if args else "?"),
              file=sys.stderr)
        return 1
    print(max(1000, int(r["rate_msg_s"] / 2)))
    return 0


def read_plan(out):
    rows = []
    with open(os.path.join(out, "matrix-plan.txt")) as plan:
        for line in plan:
            f = line.rstrip("\n").split("\t")
            if len(f) == 4:
                rows.append((f[0], f[1] == "1", f[2], f[3]))
    return rows


def mx_reps(out, name, reps, tp):
    xs = []
    for k in range(1, reps + 1):
        g = os.path.join(out, "json", "mx-%s-%d.json" % (name, k))
        t = os.path.join(out, "logs", "mx-%s-%d-testpmd.log" % (name, k)) if tp else None
        xs.append(pair(gwart_rep(g), t, None))
    return xs


def med(xs, key):
    return median([x[key] for x in xs if x.get(key) is not None])


def row_status(xs):
    """What a row's runs came to, in words: "yes" when every repetition
    checked out; otherwise why not."""
    if not any(x["ran"] for x in xs):
        return "; ".join(dict.fromkeys(x["why"] for x in xs)) if xs else "not run"
    bad = [x for x in xs if x["ran"] and not x["ok"]]
    miss = [x for x in xs if not x["ran"]]
    if not bad and not miss:
        return "yes"
    parts = []
    if bad:
        parts.append("**%s** in %d of %d: %s" % (
            "inconclusive" if all(x["inconclusive"] for x in bad) else "failed", len(bad),
            len(xs), bad[0]["why"] or "no reason given"))
    if miss:
        parts.append("%s in %d of %d" % (miss[0]["why"], len(miss), len(xs)))
    return "; ".join(parts)


def hb_cell(xs):
    v = [x["hb"] for x in xs if x["ran"] and x["hb"] is not None]
    if not v:
        return NA
    n = sum(1 for h in v if h)
    idle = med(xs, "idle")
    s = "no" if n == 0 else ("yes" if n == len(v) else "%d of %d" % (n, len(v)))
    return s + (" (idle %.0f %%)" % (100 * idle) if idle is not None else "")


def paired(a, b, f):
    """f(a_k, b_k) over the repetitions where both counted figures exist."""
    return [f(x, y) for x, y in zip(a, b) if x.get("cyc") and y.get("cyc") and x["ok"] and y["ok"]]


def matrix_tables(out):
    host = {}
    try:
        with open(os.path.join(out, "json", "host.json")) as f:
            host = json.load(f)
    except (OSError, ValueError):
        pass
    reps = int(host.get("reps", 1))
    plan = read_plan(out)
    rows, by = [], {}
    for name, tp, args, what in plan:
        xs = mx_reps(out, name, reps, tp)
        by[name] = xs
        rs = [x["ratio"] for x in xs if x.get("ratio")]
        sp = spread(rs)
        rows.append([name, what, f0(med(xs, "cyc")), fm(med(xs, "rate"), "/s"),
                     fm(med(xs, "per_core"), "/s"), hb_cell(xs),
                     f0(med(xs, "tp_cyc")) if tp else NA,
                     ("%.3f" % median(rs) + (" (%.0f %%)" % (100 * sp) if len(rs) > 1 else ""))
                     if rs else NA, row_status(xs)])
    md = ["Matrix: %d repetition%s of each row, rows interleaved with a dpdk-testpmd 5tswap "
          "net_null run after each (its cycles per packet at gwart-bench's TSC rate, %s); "
          "%s s measured per gwart run%s. Figures are medians over the repetitions; "
          "gwart/testpmd is the median of each repetition's testpmd cycles/pkt over gwart's "
          "busy cycles/msg (1.0: as fast as testpmd), spread (max - min) / median. Host: %s, "
          "%s CPUs, load average %s at the start.\n" % (
              reps, "s" if reps != 1 else "",
              "%.2f GHz" % (host_hz(by) / 1e9) if host_hz(by) else "TSC unknown",
              host.get("duration_s", "?"), ", quick" if host.get("quick") else "",
              host.get("model", "?"), host.get("cpus", "?"), host.get("load_start", "?"))]
    md.append(table(["row", "setting", "busy cycles / msg", "msg/s", "per worker core",
                     "harness-bound", "testpmd cycles / pkt", "gwart / testpmd",
                     "exactly once"], rows))
    ds = ["%s (%d of %d, up to %.0f %%)" % (n, sum(1 for x in xs if x["desched"]), len(xs),
                                            100 * max(x["desched"] for x in xs if x["desched"]))
          for n, xs in by.items() if any(x["desched"] for x in xs)]
    if ds:
        md.append("\nDescheduled (busy TSC cycles/msg above the worker's CPU time per message: "
                  "the host ran something else on the worker's CPU during busy iterations, "
                  "the figure overstates its cost): %s.\n" % ", ".join(ds))
    md.append("\n" + targets_table(plan, by) + "\n" + residence_table(by))
    return "\n".join(md), by


def host_hz(by):
    return next((x["hz"] for xs in by.values() for x in xs if x.get("hz")), None)


def first(by, prefix, pick):
    ns = sorted((n for n in by if n.startswith(prefix)),
                key=lambda n: int(n[len(prefix):]) if n[len(prefix):].isdigit() else 0)
    return (ns[0] if pick == "min" else ns[-1]) if ns else None


def drop_target(by, prefix, label):
    lo, hi = first(by, prefix, "min"), first(by, prefix, "max")
    if not lo or lo == hi:
        return [label, "not run", NA]
    a, b = by[lo], by[hi]
    for n, xs in ((lo, a), (hi, b)):
        if not any(x["ran"] and x["cyc"] for x in xs):
            return [label, "%s: %s" % (n, row_status(xs)), NA]
    caps = paired(a, b, lambda x, y: x["cyc"] / y["cyc"])
    if not caps:
        return [label, "no repetition where both checked out", NA]
    m = median(caps)
    return [label, "%s -> %s: capacity %+.0f %% (busy cycles/msg %s -> %s, %d repetition%s)" % (
        lo, hi, 100 * (m - 1), f0(med(a, "cyc")), f0(med(b, "cyc")), len(caps),
        "s" if len(caps) > 1 else ""), "yes" if m >= 0.8 else "no"]


def targets_table(plan, by):
    rows = []
    base = by.get("base", [])
    rs = [x["ratio"] for x in base if x.get("ratio")]
    hb = any(x["hb"] for x in base if x["ran"])
    st = row_status(base) if base else "not run"
    if not rs and st == "yes":
        st = "no testpmd figure: %s" % (base[0].get("tp_why") or "not run")
    rows.append(["at least 0.5 x testpmd 5tswap per worker core (base row)",
                 ("%.3f" % median(rs) + (" (harness-bound)" if hb else "")) if rs else st,
                 NA if not rs else ("yes" if median(rs) >= 0.5 else "no")])
    rows.append(drop_target(by, "routes-", "at most 20 % lower, fewest to most routes"))
    rows.append(drop_target(by, "conns-", "at most 20 % lower, fewest to most connectors"))
    w1, w2 = base, by.get("workers-2", [])
    sc = [y["rate"] / x["rate"] for x, y in zip(w1, w2)
          if x["ok"] and y["ok"] and x.get("rate") and y.get("rate")]
    cap = paired(w1, w2, lambda x, y: 2 * x["cyc"] / y["cyc"])
    shared = any(n == "workers-2" and "--float" in a.split() for n, _, a, _ in plan)
    if sc:
        bound = any(x["hb"] for x in w1 + w2 if x["ran"])
        rows.append(["2 workers at least 1.8 x 1 worker",
                     "msg/s %.2f x; from busy cycles %s%s" % (
                         median(sc), "%.2f x" % median(cap) if cap else NA,
                         " (harness-bound: the harness set the rates)" if bound else
                         " (the workers shared their CPUs with the harness)" if shared else ""),
                     "not shown (harness-bound)" if bound else
                     "not shown (too few CPUs)" if shared else
                     ("yes" if median(sc) >= 1.8 else "no")])
    else:
        rows.append(["2 workers at least 1.8 x 1 worker", row_status(w2) if w2 else "not run",
                     NA])
    hl = by.get("halfload", [])
    good = [x for x in hl if x["ok"] and x["res"]]
    p99 = median([x["res"]["p99"] for x in good])
    e2e = any(x["res"]["source"] != "router" for x in good)
    if p99 is None:
        st = row_status(hl) if hl else "not run"
        rows.append(["router residence p99 under 10 µs at half load",
                     st if st != "yes" else "no residence samples in the JSON", NA])
    else:
        # End to end contains the router's residence: below 10 µs it shows
        # the target met; above, it shows nothing.
        rows.append(["router residence p99 under 10 µs at half load",
                     "%.2f µs%s" % (p99, " (end to end: an upper bound)" if e2e else ""),
                     "yes" if p99 < 10 else ("not shown" if e2e else "no")])
    return table(["target", "measured", "met"], rows)


def residence_table(by):
    hl = by.get("halfload", [])
    if not hl:
        return ""
    good = [x for x in hl if x["ok"] and x["res"]]
    q = {k: median([x["res"][k] for x in good if x["res"].get(k) is not None])
         for k in ("p50", "p99", "p999", "max")}
    src = sorted({x["res"]["source"] for x in good})
    st = row_status(hl)
    row = ["halfload", fm(med(hl, "rate"), "/s"), ", ".join(src) or NA] + \
          ["%.2f" % q[k] if q[k] is not None else NA for k in ("p50", "p99", "p999", "max")] + \
          [st if not good or st != "yes" else "yes"]
    if not good and st == "yes":
        row[-1] = "no residence samples in the JSON"
    return ("Residence at half the base row's full-load rate, medians (source router: the "
            "workers' own histogram, RX poll to the message's first transmission; "
            "end_to_end: the harness's generator-to-sink figure, which contains it):\n\n" +
            table(["row", "msg/s", "source", "p50 µs", "p99 µs", "p99.9 µs", "max µs",
                   "exactly once"], [row]))


def matrix_main(args):
    if not args:
        print("usage: report.py matrix OUT_DIR", file=sys.stderr)
        return 2
    out = args[0]
    md, by = matrix_tables(out)
    with open(os.path.join(out, "matrix.md"), "w") as f:
        f.write(md)
    print(md)
    bad = [x for xs in by.values() for x in xs if x["ran"] and not x["ok"]
           and not x["inconclusive"]]
    return 1 if bad else 0


# ---- bench/compare.sh -------------------------------------------------------

def compare_main(args):
    """compare OUT_DIR ROUNDS NAME=LABEL...: OUT_DIR/json/cmp-NAME-K.json per
    revision and round, OUT_DIR/logs/cmp-testpmd-K.log per round."""
    if len(args) < 3:
        print("usage: report.py compare OUT_DIR ROUNDS NAME[=LABEL]...", file=sys.stderr)
        return 2
    out, rounds = args[0], int(args[1])
    revs = [a.split("=", 1) if "=" in a else (a, a) for a in args[2:]]
    tps = [os.path.join(out, "logs", "cmp-testpmd-%d.log" % k) for k in range(1, rounds + 1)]
    by = {n: [pair(gwart_rep(os.path.join(out, "json", "cmp-%s-%d.json" % (n, k))), tps[k - 1],
                   None) for k in range(1, rounds + 1)] for n, _ in revs}
    hz = host_hz(by)
    for xs in by.values():      # a round whose gwart run left no TSC rate
        for k, x in enumerate(xs):
            if x["tp_cyc"] is None and x["tp_pps"] and hz:
                pair(x, tps[k], hz)
    ref = by[revs[0][0]]
    rows, marks = [], set()
    for n, label in revs:
        xs = by[n]
        meth = sorted({x["method"] for x in xs if x["cyc"]})
        mark = ""
        if any(m != "tsc" for m in meth):
            mark = " *" if "tsc+stage-stats" in meth else " †"
            marks.add(mark.strip())
        if any(x["desched"] for x in xs):
            mark += " ‡"
            marks.add("‡")
        rs = [x["ratio"] for x in xs if x.get("ratio")]
        sp = spread(rs)
        cap = paired(ref, xs, lambda a, b: a["cyc"] / b["cyc"])
        rows.append([label, f0(med(xs, "cyc")) + mark, fm(med(xs, "rate"), "/s"),
                     fm(med(xs, "per_core"), "/s"), hb_cell(xs),
                     "%.3f" % median(rs) + (" (%.0f %%)" % (100 * sp) if len(rs) > 1 else "")
                     if rs else NA,
                     ("%.3f" % median(cap) if cap else NA) if n != revs[0][0] else "1",
                     row_status(xs)])
    tp = [x["tp_cyc"] for x in by[revs[0][0]] if x["tp_cyc"]]
    print("%d round%s, each: %s, then dpdk-testpmd 5tswap net_null%s" % (
        rounds, "s" if rounds != 1 else "", ", ".join(l for _, l in revs),
        " (median %.0f cycles/pkt over %d)" % (median(tp), len(tp)) if tp else
        " (no figure: %s)" % by[revs[0][0]][0].get("tp_why", "")))
    print(table(["revision", "busy cycles / msg", "msg/s", "per worker core", "harness_bound",
                 "gwart / testpmd", "capacity vs first", "exactly once"], rows), end="")
    if "*" in marks:
        print("* taken with --stage-stats (a revision before 0343485 counts the worker's busy "
              "cycles only with it, or -a asked for it): the stage marks add cycles, not "
              "comparable with the unmarked figures")
    if "†" in marks:
        print("† CPU-time estimate (user CPU time less idle iterations at a calibrated "
              "cost; reads low): not comparable with the unmarked figures")
    if "‡" in marks:
        print("‡ descheduled in some round: the busy TSC figure exceeds the worker's CPU time "
              "per message by more than 10 % (the host ran something else on its CPU during "
              "busy iterations): the figure overstates its cost; rerun on a quiet host")
    print("capacity vs first: median over rounds of the first revision's busy cycles/msg "
          "over this one's (above 1: faster)")
    bad = [x for xs in by.values() for x in xs if x["ran"] and not x["ok"]
           and not x["inconclusive"]]
    return 1 if bad else 0


def size_name(b):
    for unit, n in (("MiB", 1 << 20), ("KB", 1 << 10)):
        if b >= n and b % n == 0:
            return "%d %s" % (b // n, unit)
    return "%d B" % b


def msgsize_rows(runs):
    """Per size (ascending): [size, rounds, exact, msg/s, MB/s, spread,
    worker CPU s/GB]; medians over the rounds that were exact."""
    by = {}
    for n, d in runs.items():
        if d.get("params", {}).get("scenario") == "msgsize":
            by.setdefault(d["params"]["size"], []).append(d["result"])
    rows = []
    for size in sorted(by):
        rs = by[size]
        good = [r for r in rs if r.get("ok")]
        rate = [r["rate_msg_s"] for r in good if r.get("rate_msg_s")]
        mbs = [r["mb_s"] for r in good if r.get("mb_s")]
        cpu = [r["worker_cpu_s"] / (r["bytes"] / 1e9) for r in good
               if r.get("bytes") and r.get("worker_cpu_s") is not None]
        rows.append([size_name(size), len(rs),
                     "yes" if len(good) == len(rs) else "**NO (%d of %d)**" % (len(rs) - len(good),
                                                                              len(rs)),
                     "%.0f" % median(rate) if rate else "–",
                     "%.2f" % median(mbs) if mbs else "–",
                     "%.0f %%" % (100 * spread(mbs)) if len(mbs) > 1 else "–",
                     "%.1f" % median(cpu) if cpu else "–"])
    return rows


def msgsize_table(runs):
    return table(["message", "runs", "exactly once, byte-identical", "messages/s", "MB/s",
                  "MB/s spread", "worker CPU s per GB"], msgsize_rows(runs))


def msgsize_main(args):
    if len(args) != 1:
        print("usage: report.py msgsize OUT_DIR", file=sys.stderr)
        return 2
    host, runs = load(args[0])
    rows = msgsize_rows(runs)
    if not rows:
        print("msgsize: no msg-*.json runs in %s" % args[0], file=sys.stderr)
        return 1
    md = msgsize_table(runs)
    with open(os.path.join(args[0], "msgsize.md"), "w") as f:
        f.write(md)
    print(md, end="")
    return 0 if all(r[2] == "yes" for r in rows) else 1


MODES = {"msgsize": msgsize_main, "ratio": ratio_main, "matrix-plan": plan_main, "matrix": matrix_main,
         "half-rate": half_rate_main, "compare": compare_main}


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if sys.argv[1] in MODES:
        return MODES[sys.argv[1]](sys.argv[2:])
    out = sys.argv[1]
    host, runs = load(out)
    notes = open(os.path.join(out, "notes.txt")).read().strip() \
        if os.path.exists(os.path.join(out, "notes.txt")) else ""
    md = ["# gwart benchmark report\n"]
    md.append("Host: %s, %s CPUs (%s), %s GiB memory, %s hugepages, hypervisor %s, kernel %s; "
              "DPDK %s, nats-server %s. Load average at start %s, at end %s.\n" % (
                  host.get("model"), host.get("cpus"), "max %s MHz" % host.get("max_mhz")
                  if host.get("max_mhz") else "TSC %.2f GHz" % (hz(host, runs) / 1e9),
                  host.get("mem_gib"), host.get("hugepages"), host.get("hypervisor"),
                  host.get("kernel"), host.get("dpdk"), host.get("nats_server"),
                  host.get("load_start"), host.get("load_end", "?")))
    if host.get("float"):
        place = ("Placement: no thread pinned (`--float`, the default on hosts with 2 CPUs or "
                 "fewer: these are shared, and a worker pinned next to another process's "
                 "busy-polling thread was starved for seconds); `inproc-pinned` repeats the "
                 "base run with the worker alone on CPU %s and the harness on CPU %s."
                 % (host.get("cpu_worker"), host.get("cpus_harness")))
    else:
        place = ("Placement: the router's worker lcore on CPU %s; the control thread, generator "
                 "and sink threads on CPU %s." % (host.get("cpu_worker"),
                                                   host.get("cpus_harness")))
    md.append(place + " With %s CPUs the lcores are oversubscribed (control, worker, "
              "generator and sink: 4 busy threads), so wall-clock rates depend on what else "
              "runs; per-core figures divide by the CPU time the worker (or peer) actually "
              "got (user mode for gwart and testpmd, user + system for the kernel forwarder "
              "and NATS). No hugepages (`--no-huge`), virtual devices only. %s s measured "
              "per run.\n" % (host.get("cpus"), host.get("duration_s")))
    md.append("## Side by side (64-byte payloads)\n\n" + headline(host, runs) + "\n" +
              target(runs))
    md.append("## Delivered-set checks (every gwart run)\n\n" + checks(runs))
    md.append("## Throughput against payload size\n\n" +
              sweep(runs, "inproc-payload-", "payload_bytes", "payload B", out,
                    "plot-payload.dat") + "\n![throughput vs payload](payload.png)\n")
    md.append("## Throughput against routes\n\n" +
              sweep(runs, "inproc-routes-", "routes", "routes", out, "plot-routes.dat") +
              "\n![throughput vs routes](routes.png)\n")
    md.append("## Other parameters\n\n" + others(runs))
    if msgsize_rows(runs):
        md.append("## Message sizes (whole messages through gwartd on net_tap)\n\n"
                  "`bench/msgsize.sh`: gwart-conn pair --size-min S --size-max S, each "
                  "message checked byte for byte; medians over the rounds; MB = 10^6 "
                  "bytes.\n\n" + msgsize_table(runs))
    md.append("## Latency, end to end\n\nGenerator TSC stamped in the payload at the first "
              "transmission, read by the sink at delivery; HDR-style log-linear histogram "
              "(≤ 3 % bucket error).\n\n" + latency(runs, out) +
              "\nRouter residence time (RX to TX inside the worker) is not observable from "
              "outside without a dataplane hook; it is bounded above by these end-to-end "
              "figures, which add the generator's and sink's queueing and, on this "
              "oversubscribed host, scheduling delays of the harness threads.\n\n"
              "![latency CDF](latency_cdf.png)\n")
    md.append("## Where the time goes\n\n" + stages(runs))
    pl = plots(out)
    if pl:
        md.append("\n" + pl)
    if notes:
        md.append("\n## Notes\n\n" + "\n".join("- " + l for l in notes.splitlines()) + "\n")
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md))
    json.dump({"host": host, "runs": runs}, open(os.path.join(out, "results.json"), "w"),
              indent=1, sort_keys=True)
    bad = [n for n in gwart_runs(runs) if not runs[n]["result"].get("ok")]
    bad += [n for n, d in runs.items() if d.get("params", {}).get("scenario") == "msgsize"
            and not d["result"].get("ok")]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
