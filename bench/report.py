# SPDX-License-Identifier: BSD-3-Clause
"""Turn a bench/run.sh output directory into the report.

    python3 bench/report.py OUT_DIR

Reads OUT_DIR/json/*.json (one file per run: gwart-bench, its peers, the
host) and writes OUT_DIR/report.md, OUT_DIR/results.json (everything merged)
and, when gnuplot is installed, OUT_DIR/*.png from bench/plots.gp (data files
OUT_DIR/plot-*.dat). Standard library only.
"""
import glob
import json
import os
import shutil
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


def main():
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
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
