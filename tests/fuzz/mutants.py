#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Show that fuzz_router's regression inputs catch what they are named for.

    python3 tests/fuzz/mutants.py [<outdir>] [name ...]

For each mutant below, a scratch copy of the router's sources (dataplane/,
control/, include/, tests/fuzz/) has one defence removed (a check of issue 8's
fixes or of protocol v2), fuzz_router is built from it (run.sh), and the
regression input that reproduces the finding must fail there, with 1 and 2
workers, while it passes on the real tree. Prints one line per mutant and
exits non-zero if any mutant survives or no longer applies (the source moved:
update the pattern). Not part of meson test: each mutant is a full build
(about a minute on two cores).
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))

# name, file, [(text, replacement)], regression input that must fail
MUTANTS = [
    ("session tag unchecked (ingress)", "dataplane/ingress.c",
     [("if (check && (!ok[i] || !dp_auth_tag_equal(tags[i], v->f.tag))) {", "if (0) {")],
     "regress-forged-data-epoch"),
    ("session address unchecked (ingress)", "dataplane/ingress.c",
     [("if (unlikely(src->ip_be != c->ip_be || src->udp_be != c->udp_be ||\n"
       "\t\t     gw_ctr_lane(f->ctr) != GW_LANE_STREAM)) {",
       "if (unlikely(gw_ctr_lane(f->ctr) != GW_LANE_STREAM)) {")],
     "regress-forged-data-epoch"),
    ("replay window off (ingress)", "dataplane/ingress.c",
     [("if (unlikely(!dp_replay_check(&st->rx_replay, cnt))) {", "if (0) {"),
      ("if (unlikely(!dp_replay_check(&st->rx_replay, gw_ctr_count(f->ctr)))) {", "if (0) {")],
     "regress-replayed-acks"),
    ("TOO_BIG not checked before custody", "dataplane/ingress.c",
     [("if (unlikely((uint32_t)rte_pktmbuf_data_len(m) + 28u > ",
       "if (0 && ((uint32_t)rte_pktmbuf_data_len(m) + 28u > ")],
     "regress-too-big-data"),
    ("ACKs naming unsent seqs applied", "dataplane/proto/ack.h",
     [("\tunsigned top;\n", "\tunsigned top;\n\n\treturn true;\n")],
     "regress-ack-base-wrap"),
    ("HELLO tag unchecked (control)", "control/keys.c",
     [("if (!gw_auth_check_hs(frame, len, a->hs.c2r)) {", "if (0) {")],
     "regress-hello-takeover"),
    ("HELLO freshness unchecked (control)", "control/keys.c",
     [("if (ctr <= a->hello_ctr) {", "if (0) {")],
     "regress-hello-flood"),
    ("KEEPALIVE/BYE tag unchecked (control)", "control/keys.c",
     [("if (!gw_auth_check_session(frame, len, &a->rx)) {", "if (0) {")],
     "regress-forged-bye-keepalive"),
    ("KEEPALIVE/BYE address unchecked (control)", "control/frames.c",
     [("\tif (!same_addr(c, src)) {\n\t\tcp->stats.auth_failed++;",
       "\tif (0) {\n\t\tcp->stats.auth_failed++;")],
     "regress-keepalive-old-port"),
    # Both defences: the origin's worker sends a later chunk where its group
    # went, and the destination's worker refuses one for another connector
    # (with one worker the second alone keeps the group whole).
    ("group destination not kept (groups)", "dataplane/groups.c",
     [("/* The group's destination, whatever the route says now. */\n"
       "\t\tdc = dp_conn_get(lc->rt, g->dest);",
       "dc = r != NULL ? dp_ingress_choose(lc, r, c->id, pd->seq) : NULL;"),
      ("||\n\t\t\t    g->dest != dc->id || g->st != ds)) {", ")) {")],
     "regress-group-split-ecmp"),
]


def main(argv):
    out = argv[1] if len(argv) > 1 and not argv[1].startswith("-") and "/" in argv[1] \
        else "/tmp/gwart-mutants"
    only = [a for a in argv[1:] if a != out]
    bad = 0
    for name, f, subs, want in MUTANTS:
        if only and not any(o in name for o in only):
            continue
        d = os.path.join(out, name.split(" (")[0].replace(" ", "-").replace("/", "-"))
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for sub in ("dataplane", "control", "include", "tests/fuzz"):
            shutil.copytree(os.path.join(SRC, sub), os.path.join(d, sub),
                            ignore=shutil.ignore_patterns("build*"))
        p = os.path.join(d, f)
        text = open(p).read()
        missing = [a for a, _ in subs if a not in text]
        if missing:
            print("%s: does not apply any more (%s)" % (name, missing[0].strip()[:60]))
            bad += 1
            continue
        for a, b in subs:
            text = text.replace(a, b)
        open(p, "w").write(text)
        r = subprocess.run(["sh", os.path.join(d, "tests/fuzz/run.sh"), d, d + "/out", "1",
                            "router"], capture_output=True, text=True)
        if not os.path.exists(d + "/out/fuzz_router"):
            print("%s: build failed:\n%s" % (name, r.stderr[-2000:]))
            bad += 1
            continue
        verdicts = []
        for w in ("1", "2"):
            r = subprocess.run([d + "/out/fuzz_router", os.path.join(HERE, "corpus/router", want)],
                               capture_output=True, text=True,
                               env=dict(os.environ, FUZZ_ROUTER_WORKERS=w))
            why = [ln for ln in r.stderr.splitlines()
                   if "invariant violated" in ln or "ERROR: AddressSanitizer" in ln
                   or "runtime error" in ln]
            if r.returncode == 0:
                verdicts.append("w=%s SURVIVED" % w)
                bad += 1
            else:
                verdicts.append("w=%s caught: %s" % (w, (why or ["exit %d" % r.returncode])[0]
                                                     .replace("fuzz_router: invariant violated ", "")))
        print("%s: %s\n    %s" % (name, want, "\n    ".join(verdicts)))
        sys.stdout.flush()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
