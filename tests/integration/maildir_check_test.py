#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""maildir_check.py judged against Maildirs made by hand: the verdict must
count exactly what was done to them (a copy removed, doubled, altered, one
not sent, a bounce missing or present), so the Postfix tests' last line can
be believed. Runs without root or Postfix (suite unit)."""
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import mail_gen  # noqa: E402

DSN = """From: MAILER-DAEMON@mta.send.test
To: sender@send.test
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

refused
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mta.send.test

Final-Recipient: rfc822; %s
Action: failed
Status: 5.1.1

--B
Content-Type: text/rfc822-headers

Message-ID: %s
From: sender@send.test

--B--
"""


def put(box, name, data):
    d = os.path.join(box, "new")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def run(case, edit, want_line, want_rc):
    tmp = tempfile.mkdtemp()
    try:
        rng = random.Random(1)
        man, msgs = [], []
        for i in range(6):
            rcpts = ["u%d@mail.test" % (i % 2 + 1)]
            kind = "reject" if i == 5 else "ok"
            if kind == "reject":
                rcpts = ["nosuch@mail.test"]
            msg, mid, dig = mail_gen.build(i, "t", 2000 + 100 * i, "sender@send.test", rcpts, rng)
            man.append("%s %s %d %s smtp %s\n" % (mid, dig, len(msg), rcpts[0], kind))
            msgs.append((msg, mid, rcpts[0], kind))
        with open(os.path.join(tmp, "manifest"), "w") as f:
            f.writelines(man)
        root = os.path.join(tmp, "mail")
        bounce = os.path.join(tmp, "sender")
        os.makedirs(os.path.join(bounce, "new"))
        for i, (msg, mid, rcpt, kind) in enumerate(msgs):
            # As Postfix stores it: trace headers in front, CRLF gone.
            stored = b"Return-Path: <sender@send.test>\nReceived: by mx\n" + msg
            if kind == "ok":
                put(os.path.join(root, rcpt.split("@")[0]), "%d.mx" % i, stored)
            else:
                put(bounce, "b%d.mta" % i, (DSN % (rcpt, mid)).encode())
        edit(root, bounce, msgs)
        p = subprocess.run([sys.executable, os.path.join(HERE, "maildir_check.py"),
                            "--manifest", os.path.join(tmp, "manifest"), "--maildirs", root,
                            "--bounces", bounce], capture_output=True, text=True)
        last = p.stdout.strip().splitlines()[-1]
        ok = last == want_line and p.returncode == want_rc
        print("%s %s: %s (rc %d)" % ("ok" if ok else "FAIL", case, last, p.returncode))
        if not ok:
            print(p.stdout, p.stderr)
        return ok
    finally:
        shutil.rmtree(tmp)


def nothing(root, bounce, msgs):
    pass


def lose(root, bounce, msgs):
    os.unlink(os.path.join(root, "u1", "new", "0.mx"))


def double(root, bounce, msgs):
    shutil.copy(os.path.join(root, "u2", "new", "1.mx"), os.path.join(root, "u2", "new", "1b.mx"))


def alter(root, bounce, msgs):
    p = os.path.join(root, "u1", "new", "2.mx")
    data = open(p, "rb").read()
    open(p, "wb").write(data[:-10] + b"X" + data[-9:])


def stranger(root, bounce, msgs):
    put(os.path.join(root, "u1"), "z.mx", b"Message-ID: <other@x>\n\nhi\n")


def no_bounce(root, bounce, msgs):
    shutil.rmtree(os.path.join(bounce, "new"))


def rejected_delivered(root, bounce, msgs):
    put(os.path.join(root, "nosuch"), "r.mx", msgs[5][0])


def crlf(root, bounce, msgs):
    # The same message with CRLF line ends counts as the same body.
    p = os.path.join(root, "u1", "new", "0.mx")
    data = open(p, "rb").read()
    open(p, "wb").write(data.replace(b"\n", b"\r\n"))


cases = [
    ("intact", nothing, "mail: sent=5 delivered=5 duplicates=0 lost=0 bounced=1", 0),
    ("crlf", crlf, "mail: sent=5 delivered=5 duplicates=0 lost=0 bounced=1", 0),
    ("lost", lose, "mail: sent=5 delivered=4 duplicates=0 lost=1 bounced=1", 1),
    ("duplicate", double, "mail: sent=5 delivered=5 duplicates=1 lost=0 bounced=1", 1),
    ("altered", alter, "mail: sent=5 delivered=4 duplicates=0 lost=1 bounced=1", 1),
    ("unknown", stranger, "mail: sent=5 delivered=5 duplicates=0 lost=0 bounced=1", 1),
    ("no bounce", no_bounce, "mail: sent=5 delivered=5 duplicates=0 lost=0 bounced=0", 1),
    ("rejected delivered", rejected_delivered,
     "mail: sent=5 delivered=5 duplicates=0 lost=0 bounced=1", 1),
]
sys.exit(0 if all([run(*c) for c in cases]) else 1)
