#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small SMTP sink for the gwart-smtp tests (Python 3.12 has no smtpd).

  smtp_sink.py --listen IP:PORT --dir DIR [--reject SUBSTR] [--tempfail-first N]

Speaks enough RFC 5321 for an MTA client: EHLO (PIPELINING, 8BITMIME, SIZE),
HELO, MAIL, RCPT, DATA (dot-unstuffing), RSET, NOOP, QUIT, commands taken
in order as pipelined. A recipient containing SUBSTR is refused 550 5.1.1.
The first N transactions are answered 451 4.3.0 at the end of DATA (a next
hop in trouble: the client must retry). Each accepted mail is written to
DIR/<n>.eml with "X-Sink-From:" and "X-Sink-To:" lines first (the envelope).
"""
import argparse
import asyncio
import os

ap = argparse.ArgumentParser()
ap.add_argument("--listen", required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--reject", default="reject")
ap.add_argument("--tempfail-first", type=int, default=0)
args = ap.parse_args()
os.makedirs(args.dir, exist_ok=True)
state = {"n": 0, "tempfail": args.tempfail_first}


async def session(reader, writer):
    def send(line):
        writer.write((line + "\r\n").encode())

    send("220 sink ESMTP")
    mail_from, rcpts = None, []
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = line.decode("latin-1").rstrip("\r\n")
            up = cmd.upper()
            if up.startswith("EHLO"):
                send("250-sink")
                send("250-PIPELINING")
                send("250-8BITMIME")
                send("250 SIZE 10485760")
            elif up.startswith("HELO"):
                send("250 sink")
            elif up.startswith("MAIL FROM:"):
                mail_from, rcpts = cmd[10:].split(" ")[0].strip("<>"), []
                send("250 2.1.0 Ok")
            elif up.startswith("RCPT TO:"):
                addr = cmd[8:].split(" ")[0].strip("<>")
                if args.reject in addr:
                    send("550 5.1.1 <%s>: Recipient address rejected: no such user" % addr)
                else:
                    rcpts.append(addr)
                    send("250 2.1.5 Ok")
            elif up == "DATA":
                if mail_from is None or not rcpts:
                    send("554 5.5.1 Error: no valid recipients")
                    continue
                send("354 End data with <CR><LF>.<CR><LF>")
                await writer.drain()
                body = bytearray()
                while True:
                    l = await reader.readline()
                    if not l:
                        return
                    if l == b".\r\n":
                        break
                    body += l[1:] if l.startswith(b".") else l
                if state["tempfail"] > 0:
                    state["tempfail"] -= 1
                    send("451 4.3.0 Error: try again later")
                else:
                    state["n"] += 1
                    path = os.path.join(args.dir, "%d.eml" % state["n"])
                    with open(path + ".tmp", "wb") as f:
                        f.write(("X-Sink-From: %s\r\nX-Sink-To: %s\r\n" %
                                 (mail_from, ",".join(rcpts))).encode())
                        f.write(body)
                    os.rename(path + ".tmp", path)
                    send("250 2.0.0 Ok: queued as S%d" % state["n"])
                mail_from, rcpts = None, []
            elif up == "RSET":
                mail_from, rcpts = None, []
                send("250 2.0.0 Ok")
            elif up == "NOOP":
                send("250 2.0.0 Ok")
            elif up == "QUIT":
                send("221 2.0.0 Bye")
                await writer.drain()
                break
            else:
                send("502 5.5.2 Error: command not recognized")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main():
    host, port = args.listen.rsplit(":", 1)
    server = await asyncio.start_server(session, host, int(port), limit=1 << 20)
    async with server:
        await server.serve_forever()


asyncio.run(main())
