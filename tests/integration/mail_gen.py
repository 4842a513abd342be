#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Mail generator for the Postfix tests: N messages, sizes drawn from
MIN..MAX bytes (log-uniform: most mail is small, some is large; the first
message is exactly MIN and the second exactly MAX), each with a unique
Message-ID and a 7-bit body (base64-looking lines of 76 characters, so no
MTA on the way has a reason to re-encode or fold it), submitted to the
sending MTA by three clients in turn: Python's smtplib on one persistent
connection, Postfix's sendmail, and swaks.

The manifest gets one line per message the MTA accepted (250 to DATA, or
sendmail/swaks exit 0): "<message-id> <sha256 of body> <size> <rcpts>
<client>"; the body digest is over the body as stored in a Maildir (LF line
ends). A message is written to the manifest only after it was accepted, so
the manifest is exactly what the sending side took custody of.

--progress FILE is rewritten after every message with the count so far: the
test triggers its restarts when the run reaches given points.
"""
import argparse
import hashlib
import math
import os
import random
import smtplib
import subprocess
import sys
import time

LINE = 76
ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
TABLE = bytes(ALPHABET[b & 63] for b in range(256))


def build(i, run, size, frm, rcpts, rng):
    """Message i as bytes with LF line ends, about SIZE bytes on the wire
    (CRLF line ends); returns (message, message-id, body digest)."""
    mid = "<gw-%s-%06d@%s>" % (run, i, frm.split("@")[1])
    hdr = ("From: Sender <%s>\nTo: %s\nSubject: gwart mail test %s #%d (%d bytes)\n"
           "Date: %s\nMessage-ID: %s\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=us-ascii\n"
           "Content-Transfer-Encoding: 7bit\n\n") % (
        frm, ", ".join(rcpts), run, i, size,
        time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()), mid)
    # Wire size = bytes + one CR per line. Body lines of LINE chars + LF.
    hdr_wire = len(hdr) + hdr.count("\n")
    left = max(size - hdr_wire, LINE + 2)
    nlines = max(1, left // (LINE + 2))
    last = left - nlines * (LINE + 2)
    raw = rng.randbytes(nlines * LINE + max(last - 2, 0))
    chars = raw.translate(TABLE)
    lines = [chars[k * LINE:(k + 1) * LINE] for k in range(nlines)]
    if last > 2:
        lines.append(chars[nlines * LINE:])
    body = b"\n".join(lines) + b"\n"
    return hdr.encode() + body, mid, hashlib.sha256(body).hexdigest()


def sizes(n, lo, hi, rng):
    out = []
    for i in range(n):
        if i == 0:
            out.append(lo)
        elif i == 1:
            out.append(hi)
        else:
            out.append(int(math.exp(rng.uniform(math.log(lo), math.log(hi)))))
    return out


class Smtp:
    """One persistent SMTP session to the sending MTA, reopened on error."""

    def __init__(self, host, port):
        self.host, self.port, self.s = host, port, None

    def send(self, frm, rcpts, msg):
        for attempt in range(3):
            try:
                if self.s is None:
                    self.s = smtplib.SMTP(self.host, self.port, timeout=60)
                    self.s.ehlo("client.test")
                refused = self.s.sendmail(frm, rcpts, msg.replace(b"\n", b"\r\n"))
                return not refused
            except (smtplib.SMTPException, OSError) as e:
                print("mail_gen: smtp: %s (attempt %d)" % (e, attempt + 1), file=sys.stderr)
                try:
                    self.s.close()
                except Exception:
                    pass
                self.s = None
                time.sleep(0.5)
        return False

    def close(self):
        if self.s is not None:
            try:
                self.s.quit()
            except Exception:
                pass


def probe_size(server, frm, rcpt, over):
    """A message of OVER bytes must be refused with 552: once announced by
    MAIL FROM SIZE= (smtplib sends SIZE= when the server advertises it), and
    once not announced, at the end of DATA. Returns 0 when both were."""
    host, port = server.rsplit(":", 1)
    rc = 0
    s = smtplib.SMTP(host, int(port), timeout=60)
    s.ehlo("probe.test")
    adv = s.esmtp_features.get("size")
    print("mail_gen: SIZE advertised: %s" % adv)
    if adv is None:
        print("mail_gen: FAIL: no SIZE extension in EHLO")
        rc = 1
    body = (b"A" * 76 + b"\r\n") * (over // 78 + 1)
    msg = b"From: <%s>\r\nTo: <%s>\r\nSubject: too big\r\n\r\n" % (
        frm.encode(), rcpt.encode()) + body
    try:
        s.sendmail(frm, [rcpt], msg)
        print("mail_gen: FAIL: %d bytes with SIZE= accepted" % len(msg))
        rc = 1
    except smtplib.SMTPSenderRefused as e:
        print("mail_gen: MAIL FROM SIZE=%d: %d %s" % (len(msg), e.smtp_code, e.smtp_error.decode()))
        rc |= 0 if e.smtp_code == 552 else 1
    except smtplib.SMTPException as e:
        print("mail_gen: FAIL: SIZE= probe: %r" % e)
        rc = 1
    try:
        s.quit()
    except Exception:
        pass
    # Not announced: the server finds out during DATA.
    s = smtplib.SMTP(host, int(port), timeout=60)
    s.ehlo("probe.test")
    code = None
    try:
        c1, _ = s.docmd("MAIL FROM:<%s>" % frm)
        c2, _ = s.docmd("RCPT TO:<%s>" % rcpt)
        c3, _ = s.docmd("DATA")
        if (c1, c2, c3) != (250, 250, 354):
            print("mail_gen: FAIL: DATA probe: MAIL %d RCPT %d DATA %d" % (c1, c2, c3))
            rc = 1
        else:
            try:
                s.sock.sendall(msg + b"\r\n.\r\n")
            except OSError as e:
                print("mail_gen: DATA probe: server closed while sending (%s)" % e)
            code, text = s.getreply()
            print("mail_gen: DATA of %d bytes: %d %s" % (len(msg), code, text.decode()))
            rc |= 0 if code == 552 else 1
    except smtplib.SMTPException as e:
        print("mail_gen: FAIL: DATA probe: %r" % e)
        rc = 1
    try:
        s.quit()
    except Exception:
        pass
    return rc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--probe-size", type=int, default=0,
                    help="send nothing else: check that a message of this many bytes is "
                    "refused with 552 at MAIL FROM SIZE= and at DATA")
    ap.add_argument("--min", type=int, default=1024)
    ap.add_argument("--max", type=int, default=1048576)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--run", default="r%d" % os.getpid())
    ap.add_argument("--server", required=True, help="IP:PORT of the sending MTA")
    ap.add_argument("--from", dest="frm", required=True)
    ap.add_argument("--to", required=True, help="recipients, comma-separated, used in turn")
    ap.add_argument("--reject", default="", help="an address the receiving MTA refuses: "
                    "one message goes to it (index count/2), manifest kind 'reject'")
    ap.add_argument("--sendmail", default="", help="command prefix for Postfix's sendmail")
    ap.add_argument("--swaks", default="", help="command prefix for swaks")
    ap.add_argument("--manifest", default="")
    ap.add_argument("--progress", default="")
    ap.add_argument("--tmp", default="/tmp")
    a = ap.parse_args()
    if a.probe_size:
        return probe_size(a.server, a.frm, a.to.split(",")[0], a.probe_size)

    rng = random.Random(a.seed)
    host, port = a.server.rsplit(":", 1)
    rcpts_all = a.to.split(",")
    smtp = Smtp(host, int(port))
    sz = sizes(a.count, a.min, a.max, rng)
    failed = 0
    with open(a.manifest, "w") as man:
        for i in range(a.count):
            rcpts = [rcpts_all[i % len(rcpts_all)]]
            # Every 7th message has two recipients of the domain: one gwart
            # message per domain group, two mailboxes to fill.
            if len(rcpts_all) > 1 and i % 7 == 3:
                rcpts.append(rcpts_all[(i + 1) % len(rcpts_all)])
            kind = "ok"
            if a.reject and i == a.count // 2:
                rcpts, kind = [a.reject], "reject"
            msg, mid, dig = build(i, a.run, sz[i], a.frm, rcpts, rng)
            client = "smtp"
            if a.sendmail and i % 10 == 4:
                client = "sendmail"
            elif a.swaks and i % 10 == 9:
                client = "swaks"
            if client == "smtp":
                ok = smtp.send(a.frm, rcpts, msg)
            elif client == "sendmail":
                cmd = a.sendmail.split() + ["-f", a.frm, "-i", "--"] + rcpts
                ok = subprocess.run(cmd, input=msg).returncode == 0
            else:
                path = os.path.join(a.tmp, "swaks-%d.eml" % i)
                with open(path, "wb") as f:
                    # swaks ends the data with its own line end.
                    f.write(msg[:-1])
                cmd = a.swaks.split() + ["--silent", "2", "--server", a.server,
                                         "--helo", "swaks.test", "--from", a.frm,
                                         "--to", ",".join(rcpts), "--data", "@" + path]
                ok = subprocess.run(cmd).returncode == 0
                os.unlink(path)
            if ok:
                man.write("%s %s %d %s %s %s\n" % (mid, dig, len(msg), ",".join(rcpts),
                                                   client, kind))
                man.flush()
            else:
                failed += 1
                print("mail_gen: message %d not accepted (%s)" % (i, client), file=sys.stderr)
            if a.progress:
                with open(a.progress + ".new", "w") as p:
                    p.write("%d\n" % (i + 1))
                os.replace(a.progress + ".new", a.progress)
    smtp.close()
    print("mail_gen: submitted=%d refused=%d" % (a.count - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
