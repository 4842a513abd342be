# SPDX-License-Identifier: BSD-3-Clause
"""The hostile tests' handle on tests/tools/gwforge: one gwforge process,
commands written to its stdin, answers parsed. Every byte and every tag is
gwforge's (include/gwart/auth.h); this module only talks to it and turns its
"key=value" lines into dicts. No cryptography here, on purpose."""
import subprocess

M64 = (1 << 64) - 1
T = {"DATA": 1, "ACK": 2, "NACK": 3, "HELLO": 4, "WELCOME": 5, "KEEPALIVE": 6, "BYE": 7}
NACK = {"NO_ROUTE": 1, "BUSY": 2, "TOO_BIG": 3, "EXPIRED": 4, "NOT_AUTHORISED": 5,
        "NO_SESSION": 6}


class ForgeError(Exception):
    pass


def kv(line):
    d = {}
    for tok in line.split()[1:]:
        if "=" in tok:
            k, v = tok.split("=", 1)
            try:
                d[k] = v if k in ("salt", "hex", "from") else int(v)
            except ValueError:
                d[k] = v
    return d


class Forge:
    def __init__(self, path):
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, bufsize=1)

    def cmd(self, line, check=True):
        """Send one command; returns (frames, final) where frames are the
        'frame ...' lines as dicts and final the 'ok ...' line as a dict."""
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        frames = []
        while True:
            out = self.p.stdout.readline()
            if not out:
                raise ForgeError(f"gwforge exited during: {line}")
            out = out.rstrip("\n")
            if out.startswith("frame "):
                frames.append(kv(out))
            elif out.startswith("ok"):
                return frames, kv(out)
            elif out.startswith("err"):
                if check:
                    raise ForgeError(f"{line!r}: {out}")
                return frames, {"err": out[4:]}

    def key(self, cid, text):
        self.cmd(f"key {cid} {text.strip()}")

    def keyfile(self, cid, path):
        self.cmd(f"keyfile {cid} {path}")

    def sock(self, name, ip, port=0, cid=0):
        return self.cmd(f"sock {name} {ip} {port} id={cid}")[1]["port"]

    def connect(self, name, dst, cid, **kw):
        args = " ".join(f"{k}={v}" for k, v in kw.items())
        return self.cmd(f"connect {name} {dst} id={cid} {args}")[1]

    def send(self, name, dst, check=True, **kw):
        args = " ".join(f"{k}={v}" for k, v in kw.items())
        return self.cmd(f"send {name} {dst} {args}", check)[1]

    def sendhex(self, name, dst, hexs, spoof=None):
        return self.cmd(f"sendhex {name} {dst} {hexs}" + (f" spoof={spoof}" if spoof else ""))[1]

    def replay(self, name, dst, path, **kw):
        args = " ".join(f"{k}={v}" for k, v in kw.items())
        return self.cmd(f"replay {name} {dst} {path} {args}")[1]

    def flood(self, ip, dst, n, **kw):
        args = " ".join(f"{k}={v}" for k, v in kw.items())
        return self.cmd(f"flood {ip} {dst} n={n} {args}")[1]

    def recv(self, name, ms, maxlines=100000):
        """(frames, counts) received on socket name for ms milliseconds."""
        return self.cmd(f"recv {name} {int(ms)} max={maxlines}")

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        self.p.wait(timeout=10)


def read_capture(path):
    """The records of a gwart-faultlink --capture file: [(dir, bytes)]."""
    out = []
    with open(path, "rb") as f:
        b = f.read()
    i = 0
    while i + 3 <= len(b):
        n = b[i + 1] << 8 | b[i + 2]
        if i + 3 + n > len(b):
            break
        out.append((chr(b[i]), b[i + 3:i + 3 + n]))
        i += 3 + n
    return out


def hdr(b):
    """The header of a captured frame: dict of its fields (raw decode)."""
    import struct
    magic, version, type_, length, flags, sender, epoch, seq = struct.unpack("!HBBHHIIQ", b[:24])
    return {"magic": magic, "version": version, "type": type_, "length": length, "flags": flags,
            "sender": sender, "epoch": epoch, "seq": seq}


# Where the router counts each refusal: the dataplane's drop reasons (frames
# the workers check: DATA, ACK, and the parser's verdicts for every frame)
# and the control thread's counters (HELLO, KEEPALIVE, BYE).
REASONS = {
    "AUTH_FAILED": (["AUTH_FAILED"], ["auth_failed", "hello_auth_failed"]),
    "REPLAYED": (["REPLAYED"], ["replayed", "hello_replayed"]),
    "NO_SESSION": (["NO_SESSION"], ["stale_epoch"]),
    "STALE": (["NO_SESSION", "STALE_EPOCH"], ["stale_epoch"]),
    "BAD_VERSION": (["WIRE_BAD_VERSION"], []),
    "BAD_SEQ": (["WIRE_BAD_SEQ"], []),
    "UNKNOWN_CONN": (["UNKNOWN_CONN"], ["hello_unknown"]),
}


def reason_count(st, name):
    """How many refusals a stats JSON (gwartctl --json stats, the stats
    file) counts under reason NAME, wherever the router counts it."""
    d = st.get("drops", {})
    c = st.get("control", {})
    dp, cp = REASONS.get(name, ([name], []))
    return sum(d.get(k, 0) for k in dp) + sum(c.get(k, 0) for k in cp)
