#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# A stand-in for systemd's notification socket (sd_notify(3)): binds an
# AF_UNIX datagram socket at PATH and appends every message it receives to
# LOG, one line per assignment ("READY=1", "WATCHDOG=1", ...), until killed.
#   notify.py PATH LOG
import os
import socket
import sys

path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
# The socket exists once this file does: the test waits for it.
open(log + ".bound", "w").close()
with open(log, "a", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode("utf-8", "replace")
        for line in msg.split("\n"):
            if line:
                out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())
