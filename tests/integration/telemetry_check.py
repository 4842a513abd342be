#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# tests/integration/telemetry.sh's comparisons: what dpdk-telemetry.py
# printed for the /gwart/* commands against gwartctl --json taken just
# before (A) and just after (B), converted to the telemetry shape by the
# rules of control/telemetry.h, written again here from the header's text:
# arrays holding objects become objects keyed by index, an empty array stays
# [], booleans become 0/1, null members are left out.
#
#   telemetry_check.py same DIR      A/*.json, T.out, B/*.json: exit 0 when
#                                    every value agrees, 3 when the moment was
#                                    not quiet (A != B beyond the clocks:
#                                    retry), 1 on a disagreement
import json
import sys

# Values that move with no traffic at all: worker loop counts (they spin),
# telemetry's own request counters (this very request), session ages.
# Each must still lie between A and B.
RISING = {"loops", "busy_cycles", "requests", "answered", "since_ms", "last_rx_age_ms"}
FALLING = {"next_probe_in_ms"}


def shape(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        if any(isinstance(x, (dict, list)) for x in v):
            return {str(i): shape(x) for i, x in enumerate(v) if x is not None}
        if all(isinstance(x, int) and x >= 0 for x in v):
            return [int(x) for x in v]
        return [str(x) for x in v]
    return v


def telemetry_replies(path):
    """dpdk-telemetry.py prints one JSON object per command, {CMD: REPLY}."""
    out = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            d = json.loads(line)
            (cmd, rep), = d.items()
            out.setdefault(cmd, []).append(rep)
    return out


class Quiet(Exception):
    pass


def compare(path, a, t, b, errs):
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or a.keys() != b.keys():
            raise Quiet("%s: gwartctl's keys changed between A and B" % path)
        if not isinstance(t, dict) or t.keys() != a.keys():
            errs.append("%s: keys %s, gwartctl %s" % (
                path, sorted(t.keys()) if isinstance(t, dict) else t, sorted(a.keys())))
            return
        for k in a:
            compare(path + "." + k, a[k], t[k], b[k], errs)
        return
    leaf = path.rsplit(".", 1)[-1]
    if a == b:
        if t != a:
            errs.append("%s: telemetry %r, gwartctl %r before and after" % (path, t, a))
        return
    if leaf in RISING and isinstance(t, int) and a <= t <= b:
        return
    if leaf in FALLING and isinstance(t, int) and b <= t <= a:
        return
    if leaf in RISING or leaf in FALLING:
        errs.append("%s: telemetry %r not between gwartctl's %r and %r" % (path, t, a, b))
        return
    raise Quiet("%s changed from %r to %r between A and B" % (path, a, b))


def same(d):
    tel = telemetry_replies(d + "/T.out")
    errs = []
    checked = 0
    # /gwart/stats is cp_stats_json(): gwartctl's stats less its "socket".
    pairs = [("stats", "/gwart/stats", lambda s: {k: v for k, v in s.items() if k != "socket"}),
             ("stats", "/gwart/workers", lambda s: s["workers"]),
             ("stats", "/gwart/drops", lambda s: s["drops"]),
             ("connectors", "/gwart/connectors", None),
             ("sessions", "/gwart/sessions", None),
             ("routes", "/gwart/routes", None)]
    try:
        for src, cmd, part in pairs:
            a = json.load(open("%s/A/%s.json" % (d, src)))
            b = json.load(open("%s/B/%s.json" % (d, src)))
            if part is not None:
                a, b = part(a), part(b)
            if cmd not in tel:
                errs.append("%s: no reply" % cmd)
                continue
            compare(cmd, shape(a), tel[cmd][0], shape(b), errs)
            checked += 1
    except Quiet as q:
        print("not quiet: %s" % q)
        return 3
    for e in errs:
        print("MISMATCH " + e)
    print("compared %d commands, %d mismatches" % (checked, len(errs)))
    return 1 if errs or checked != len(pairs) else 0


if __name__ == "__main__":
    sys.exit(same(sys.argv[2]) if sys.argv[1] == "same" else 2)
