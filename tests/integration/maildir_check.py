#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Checks what the receiving MTA's Maildirs hold against what the sending
side was told 250 for (mail_gen.py's manifest), and what came back to the
sender's mailbox as bounces.

  maildir_check.py --manifest M --maildirs ROOT [--bounces MAILDIR]

ROOT holds one Maildir per mailbox (ROOT/<localpart>/{new,cur}); a manifest
line "<mid> <sha256> <size> <rcpt,...> <client> <kind>" expects, for kind
"ok", exactly one copy in each recipient's Maildir whose Message-ID is <mid>
and whose body (after the first empty line, LF line ends) has that digest;
for kind "reject" (a recipient the receiving MTA refuses) no copy, and one
delivery status notice in the sender's Maildir naming that recipient and
that Message-ID.

Prints the detail of every discrepancy (at most 20 of each kind), then
  mail: rejected=N bounced=N corrupt=N unknown=N unexpected_bounces=N
and, last, the line the issue asks for:
  mail: sent=N delivered=N duplicates=N lost=N bounced=N
sent counts "ok" messages; delivered those found exactly once, intact, in
every recipient's Maildir; duplicates the extra copies; lost the messages
with a recipient that has no intact copy; bounced the rejected messages
whose bounce came back. Exit 0 only if duplicates, lost, corrupt, unknown
and unexpected bounces are all 0 and every rejected message bounced.
--wait S polls up to S seconds for that to be true before judging.
"""
import argparse
import email
import email.policy
import hashlib
import os
import re
import sys
import time

CACHE = {}
MID_RE = re.compile(rb"^message-id:[ \t]*(<[^>\r\n]*>)", re.I | re.M)


def split(raw):
    raw = raw.replace(b"\r\n", b"\n")
    k = raw.find(b"\n\n")
    if k < 0:
        return raw, b""
    return raw[:k + 1], raw[k + 2:]


def maildir_files(md):
    for sub in ("new", "cur"):
        d = os.path.join(md, sub)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                yield os.path.join(d, f)


def scan_mailboxes(root):
    """{(mailbox, mid): [digest, ...]} and the files without a Message-ID."""
    seen, nomid = {}, []
    if not os.path.isdir(root):
        return seen, nomid
    for box in sorted(os.listdir(root)):
        for path in maildir_files(os.path.join(root, box)):
            # Files in a Maildir never change: read each once across polls.
            if path not in CACHE:
                with open(path, "rb") as f:
                    hdr, body = split(f.read())
                m = MID_RE.search(hdr)
                CACHE[path] = (m.group(1).decode("ascii", "replace") if m else None,
                               hashlib.sha256(body).hexdigest())
            mid, dig = CACHE[path]
            if mid is None:
                nomid.append(path)
                continue
            seen.setdefault((box, mid), []).append(dig)
    return seen, nomid


def scan_bounces(md):
    """[(set of failed recipients, set of Message-IDs mentioned)] per DSN."""
    out = []
    if not md or not os.path.isdir(md):
        return out
    for path in maildir_files(md):
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.compat32)
        if msg.get_content_type() != "multipart/report":
            continue
        rcpts, mids = set(), set()
        for part in msg.walk():
            ct = part.get_content_type()
            if ct == "message/delivery-status":
                # compat32 parses each status block into a Message.
                blocks = part.get_payload()
                if not isinstance(blocks, list):
                    blocks = [email.message_from_string(str(blocks))]
                for b in blocks:
                    fr = b.get("Final-Recipient") or b.get("Original-Recipient")
                    act = (b.get("Action") or "").strip().lower()
                    if fr and act in ("failed", ""):
                        rcpts.add(fr.split(";", 1)[-1].strip().lower())
            elif ct in ("message/rfc822", "text/rfc822-headers"):
                if ct == "message/rfc822":
                    inner = part.get_payload()
                    inner = inner[0] if isinstance(inner, list) and inner else inner
                    text = inner.as_bytes() if hasattr(inner, "as_bytes") else b""
                else:
                    text = part.get_payload(decode=True) or b""
                for m in MID_RE.finditer(text):
                    mids.add(m.group(1).decode("ascii", "replace"))
        out.append((rcpts, mids))
    return out


def judge(a):
    sent = []
    with open(a.manifest) as f:
        for line in f:
            p = line.split()
            if len(p) >= 6:
                sent.append((p[0], p[1], p[3].split(","), p[5]))
    seen, nomid = scan_mailboxes(a.maildirs)
    bounces = scan_bounces(a.bounces)
    ok = [s for s in sent if s[3] == "ok"]
    rej = [s for s in sent if s[3] == "reject"]
    detail = {"lost": [], "duplicate": [], "corrupt": [], "unknown": [], "bounce": []}
    delivered = dups = lost = corrupt = 0
    expected = set()
    for mid, dig, rcpts, _ in ok:
        whole = True
        for r in rcpts:
            box = r.split("@")[0]
            expected.add((box, mid))
            copies = seen.get((box, mid), [])
            good = [d for d in copies if d == dig]
            if len(copies) > 1:
                dups += len(copies) - 1
                detail["duplicate"].append("%s in %s: %d copies" % (mid, box, len(copies)))
            if len(copies) != len(good):
                corrupt += len(copies) - len(good)
                detail["corrupt"].append("%s in %s: body digest differs" % (mid, box))
            if not good:
                whole = False
                detail["lost"].append("%s for %s" % (mid, r))
        if whole:
            delivered += 1
        else:
            lost += 1
    rejected_mids = {mid for mid, _, _, _ in rej}
    unknown = len(nomid)
    for (box, mid), copies in seen.items():
        if (box, mid) not in expected:
            unknown += len(copies)
            why = "a rejected recipient's mail delivered" if mid in rejected_mids else "not sent"
            detail["unknown"].append("%s in %s: %s" % (mid, box, why))
    bounced = 0
    for mid, _, rcpts, _ in rej:
        if any(mid in mids and set(r.lower() for r in rcpts) <= rs for rs, mids in bounces):
            bounced += 1
        else:
            detail["bounce"].append("%s for %s: no bounce" % (mid, ",".join(rcpts)))
    ok_mids = {mid for mid, _, _, _ in ok}
    unexpected = sum(1 for _, mids in bounces if mids & ok_mids)
    verdict = (dups == 0 and lost == 0 and corrupt == 0 and unknown == 0 and
               unexpected == 0 and bounced == len(rej))
    return verdict, detail, (len(ok), delivered, dups, lost, bounced, len(rej), corrupt,
                             unknown, unexpected)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--maildirs", required=True)
    ap.add_argument("--bounces", default="")
    ap.add_argument("--wait", type=float, default=0)
    a = ap.parse_args()
    end = time.monotonic() + a.wait
    while True:
        verdict, detail, n = judge(a)
        # Duplicates, damaged or unknown mail never go away: judge now.
        if verdict or time.monotonic() >= end or n[2] or n[6] or n[7]:
            break
        time.sleep(1)
    for kind, lines in detail.items():
        for line in lines[:20]:
            print("mail: %s: %s" % (kind, line))
        if len(lines) > 20:
            print("mail: %s: ... %d more" % (kind, len(lines) - 20))
    sent, delivered, dups, lost, bounced, rejected, corrupt, unknown, unexpected = n
    print("mail: rejected=%d bounced=%d corrupt=%d unknown=%d unexpected_bounces=%d" %
          (rejected, bounced, corrupt, unknown, unexpected))
    print("mail: sent=%d delivered=%d duplicates=%d lost=%d bounced=%d" %
          (sent, delivered, dups, lost, bounced))
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
