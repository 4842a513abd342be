#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Wireshark dissector's test helper, for dissector.sh.

  dissector.py live GWFORGE ROUTER PORT HOST CTL SOCK KEYDIR A B D DOMAIN > SENT.json
      Connectors A and B (gwforge, their real keys KEYDIR/ID.key) open
      sessions, exchange DATA (A to B, smtp:alice@x.DOMAIN; out of order, so
      the router's ACK carries a bitmap), ACK with a bitmap, a DATA without a
      route (NACK NO_ROUTE), a message of three chunks (PROTOCOL.md 3.1.1,
      forwarded to B), KEEPALIVE, BYE both ways (gwartctl connector set-key
      makes the router say BYE) and a HELLO of connector D, disabled (NACK
      NOT_AUTHORISED). Prints every frame sent (the values chosen here) and
      received (gwforge's decode) as JSON.
  dissector.py garbage LIBGWART OUT.pcap VALID.hex... > EXPECT.json
      A pcap of UDP datagrams to port 4790: random bytes, every truncation
      and a set of corruptions of the valid frames given (hex) and of chunk
      frames made here (PROTOCOL.md 14.1's three, the 2^64 edge, one rule of
      3.1.1 broken in each of a set), each with the verdict the C parser
      (gw_wire_parse in libgwart-connector, ctypes) gives it.
  dissector.py check LIBGWART TSHARK.json SENT.json|- EXPECT.json|-
      Compares tshark's decode (-T json) with what was sent, with what the
      protocol requires of the router's answers, and field by field with
      gw_wire_parse() of the same bytes; exits non-zero on any difference.

The C parser is the oracle on purpose: the dissector is a second decoder,
and it is right only where it agrees with the codec the router runs."""
import ctypes
import json
import os
import random
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forge import Forge, T  # noqa: E402

TYPES = {v: k for k, v in T.items()}
F_CHUNK = 0x0002
STATUSES = ["OK", "TRUNCATED", "BAD_MAGIC", "BAD_VERSION", "BAD_TYPE", "BAD_LENGTH", "BAD_FLAGS",
            "DEST_EMPTY", "DEST_TOO_LONG", "BAD_DEST", "PAYLOAD_TOO_BIG", "BAD_SENDER", "BAD_SEQ",
            "BAD_REASON", "BAD_FIELD", "BAD_CHUNK"]

# ---- the C parser through ctypes (struct gw_frame of include/gwart/wire.h) ----


class _Chunk(ctypes.Structure):
    _fields_ = [("group", ctypes.c_uint64), ("total_len", ctypes.c_uint32),
                ("count", ctypes.c_uint32), ("index", ctypes.c_uint32),
                ("chunk_len", ctypes.c_uint32)]


class _Data(ctypes.Structure):
    _fields_ = [("origin_seq", ctypes.c_uint64), ("origin", ctypes.c_uint32),
                ("dest_len", ctypes.c_uint16), ("payload_len", ctypes.c_uint16),
                ("dest", ctypes.c_void_p), ("payload", ctypes.c_void_p),
                ("dest_type_len", ctypes.c_uint8), ("dest_dom_off", ctypes.c_uint8),
                ("chunk", _Chunk)]


class _Ack(ctypes.Structure):
    _fields_ = [("base", ctypes.c_uint64), ("bitmap", ctypes.c_uint64)]


class _Nack(ctypes.Structure):
    _fields_ = [("origin_seq", ctypes.c_uint64), ("reason", ctypes.c_uint16),
                ("retry_after_us", ctypes.c_uint32)]


class _Hello(ctypes.Structure):
    _fields_ = [("nonce", ctypes.c_uint64), ("rx_window", ctypes.c_uint32)]


class _Welcome(ctypes.Structure):
    _fields_ = [("nonce", ctypes.c_uint64), ("router_seq", ctypes.c_uint64),
                ("dup_window", ctypes.c_uint32), ("keepalive_ms", ctypes.c_uint32),
                ("keepalive_mult", ctypes.c_uint32), ("max_payload", ctypes.c_uint32),
                ("salt", ctypes.c_void_p)]


class _Bye(ctypes.Structure):
    _fields_ = [("reason", ctypes.c_uint32)]


class _U(ctypes.Union):
    _fields_ = [("data", _Data), ("ack", _Ack), ("nack", _Nack), ("hello", _Hello),
                ("welcome", _Welcome), ("bye", _Bye)]


class _Frame(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint8), ("version", ctypes.c_uint8),
                ("length", ctypes.c_uint16), ("flags", ctypes.c_uint16),
                ("sender", ctypes.c_uint32), ("epoch", ctypes.c_uint32),
                ("seq", ctypes.c_uint64), ("ctr", ctypes.c_uint64), ("tag", ctypes.c_void_p),
                ("u", _U)]


class Parser:
    def __init__(self, lib):
        self.lib = ctypes.CDLL(lib)
        self.lib.gw_wire_parse.restype = ctypes.c_int
        self.lib.gw_wire_parse.argtypes = [ctypes.c_void_p, ctypes.c_size_t,
                                           ctypes.POINTER(_Frame)]

    def parse(self, b):
        """(status name, dict of the fields gw_wire_parse() gives, named as
        the dissector's gwart.* fields) for the datagram b."""
        buf = ctypes.create_string_buffer(b, len(b) or 1)
        fr = _Frame()
        st = self.lib.gw_wire_parse(buf, len(b), ctypes.byref(fr))
        if st != 0:
            return STATUSES[st], {}
        at = ctypes.addressof(buf)
        f = {"gwart.type": fr.type, "gwart.version": fr.version, "gwart.length": fr.length,
             "gwart.flags": fr.flags, "gwart.sender": fr.sender, "gwart.epoch": fr.epoch,
             "gwart.seq": fr.seq, "gwart.trailer.ctr": fr.ctr,
             "gwart.trailer.tag": b[fr.tag - at:fr.tag - at + 16].hex()}
        u = fr.u
        if fr.type == 1:
            d = u.data
            dest = b[d.dest - at:d.dest - at + d.dest_len]
            f.update({"gwart.data.origin_seq": d.origin_seq, "gwart.data.origin": d.origin,
                      "gwart.data.dest_len": d.dest_len, "gwart.data.payload_len": d.payload_len,
                      "gwart.data.dest": dest.decode("latin-1"),
                      "gwart.data.dest.type": dest[:d.dest_type_len].decode("latin-1"),
                      "gwart.data.dest.domain": dest[d.dest_dom_off:].decode("latin-1"),
                      "gwart.data.payload":
                          b[d.payload - at:d.payload - at + d.payload_len].hex()})
            if fr.flags & F_CHUNK:
                k = d.chunk
                f.update({"gwart.chunk.group": k.group, "gwart.chunk.total_len": k.total_len,
                          "gwart.chunk.count": k.count, "gwart.chunk.index": k.index,
                          "gwart.chunk.chunk_len": k.chunk_len,
                          "gwart.chunk.offset": k.index * k.chunk_len})
        elif fr.type == 2:
            f.update({"gwart.ack.cum": fr.seq, "gwart.ack.base": u.ack.base,
                      "gwart.ack.bitmap": u.ack.bitmap})
        elif fr.type == 3:
            f.update({"gwart.nack.seq": fr.seq, "gwart.nack.origin_seq": u.nack.origin_seq,
                      "gwart.nack.reason": u.nack.reason,
                      "gwart.nack.retry_after_us": u.nack.retry_after_us})
        elif fr.type == 4:
            f.update({"gwart.hello.next_seq": fr.seq, "gwart.hello.nonce": u.hello.nonce,
                      "gwart.hello.rx_window": u.hello.rx_window})
        elif fr.type == 5:
            w = u.welcome
            f.update({"gwart.welcome.t": fr.seq, "gwart.welcome.nonce": w.nonce,
                      "gwart.welcome.router_seq": w.router_seq,
                      "gwart.welcome.dup_window": w.dup_window,
                      "gwart.welcome.keepalive_ms": w.keepalive_ms,
                      "gwart.welcome.keepalive_mult": w.keepalive_mult,
                      "gwart.welcome.max_payload": w.max_payload,
                      "gwart.welcome.salt": b[w.salt - at:w.salt - at + 16].hex()})
        elif fr.type == 6:
            f["gwart.keepalive.clock_us"] = fr.seq
        elif fr.type == 7:
            f["gwart.bye.reason"] = u.bye.reason
        return "OK", f


# ---- pcap writing (classic libpcap, Ethernet) ----


def _csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_packet(payload, src="198.18.0.2", dst="198.18.0.1", sport=40000, dport=4790):
    sa, da = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
    ulen = 8 + len(payload)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    ck = _csum(sa + da + struct.pack("!BBH", 0, 17, ulen) + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", ck) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0, sa, da)
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + udp


def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(packets):
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(p), len(p)))
            f.write(p)


# ---- garbage ----


def corruptions(v):
    """Frames one field away from valid v: each refused by one check."""
    out = []

    def put(off, fmt, val):
        b = bytearray(v)
        if off + struct.calcsize(fmt) <= len(b):
            struct.pack_into(fmt, b, off, val)
            out.append(bytes(b))
    put(0, "!H", 0x4758)          # magic
    put(2, "B", 1)                # version 1
    put(2, "B", 3)
    put(3, "B", 0)                # type
    put(3, "B", 8)
    put(3, "B", 255)
    put(4, "!H", len(v) + 1)      # length > datagram
    put(4, "!H", len(v) - 1)      # trailing byte
    put(4, "!H", 0)
    put(4, "!H", 0xFFFF)
    put(6, "!H", 0x0004)          # unknown flag
    put(6, "!H", 0x0001)          # RETRANSMIT
    put(6, "!H", 0x0002)          # CHUNK (not DATA: BAD_FLAGS; plain DATA: BAD_LENGTH)
    put(6, "!H", 0x0003)
    put(8, "!I", 0)               # sender 0 (HELLO: BAD_SENDER)
    put(8, "!I", 7)               # sender != 0 (WELCOME: BAD_SENDER)
    put(12, "!I", 0)              # epoch 0
    put(16, "!Q", 0)              # seq 0 (DATA: BAD_SEQ)
    t = v[3] if len(v) > 3 else 0
    if t == 1:
        put(24, "!Q", 0)          # origin_seq 0
        put(32, "!I", 0)          # origin 0
        put(36, "!H", 0)          # dest_len 0
        put(36, "!H", 300)
        put(38, "!H", 9000)
        put(40, "B", ord(":"))    # empty type
        put(41, "B", 0)           # control byte in the address
        put(40 + 16, "B", 0x7F)
        b = bytearray(v)          # dest_len 300, payload_len 0, length agreeing
        dl, pl = struct.unpack_from("!HH", b, 36)
        b = b[:40] + b"smtp:" + b"a" * 295 + b[40 + dl + pl:]
        struct.pack_into("!HHH", b, 36, 300, 0, 0)
        struct.pack_into("!H", b, 4, len(b))
        out.append(bytes(b))
        b = bytearray(v[:40]) + b"smtp:x@" + bytearray(v[-24:])  # empty domain
        struct.pack_into("!HH", b, 36, 7, 0)
        struct.pack_into("!H", b, 4, len(b))
        out.append(bytes(b))
        if struct.unpack_from("!H", v, 6)[0] & F_CHUNK and len(v) >= 88:
            out += chunk_corruptions(v)
    elif t == 2:  # bits past 2^64 - 1 name no seq (PROTOCOL.md 9)
        b = bytearray(v)
        struct.pack_into("!QQ", b, 24, (1 << 64) - 10, (1 << 64) - 1)
        out.append(bytes(b))
    elif t == 3:
        put(32, "!H", 0)
        put(32, "!H", 7)
        put(34, "!H", 1)
    elif t == 4:
        put(32, "!I", 0)
        put(36, "!I", 1)
    elif t == 5:
        put(40, "!I", 0)
        put(44, "!I", 0)
        put(48, "!I", 0)
        put(52, "!I", 8193)
    elif t == 7:
        put(28, "!I", 1)
    out.append(v + b"\0")         # a datagram longer than its frame
    return out


def chunk_frame(oseq, group, total, count, index, chunk_len, payload, dest=b"smtp:bob@a.bc",
                sender=7, epoch=0x1D2C3B4A, flags=F_CHUNK, seq=None, ctr=(1 << 56) | 4):
    """A DATA frame with a chunk extension (PROTOCOL.md 3.1.1), fields as
    given, valid or not; the tag is zero (neither decoder judges it)."""
    body = struct.pack("!QIHH", oseq, sender or 7, len(dest), len(payload)) + dest + payload
    body += struct.pack("!QIIII", group, total, count, index, chunk_len)
    n = 24 + len(body) + 24
    hdr = struct.pack("!HBBHHIIQ", 0x4757, 2, 1, n, flags, sender, epoch,
                      oseq if seq is None else seq)
    return hdr + body + struct.pack("!Q", ctr) + bytes(16)


def chunk_frames():
    """Valid chunks: PROTOCOL.md 14.1's three (10 bytes in chunks of 4), one
    of them as the router forwards it, the 2^64 edge, the largest frame."""
    msg = b"0123456789"
    out = [chunk_frame(47 + i, 47, 10, 3, i, 4, msg[4 * i:4 * i + 4], ctr=(1 << 56) | (4 + i))
           for i in range(3)]
    out.append(chunk_frame(48, 47, 10, 3, 1, 4, b"4567", sender=0, epoch=9,
                           flags=F_CHUNK | 1, seq=0x2A5F1C3B00000002))
    m = (1 << 64) - 1
    out.append(chunk_frame(m, m - 1, 3, 2, 1, 2, b"z"))
    out.append(chunk_frame(9 + 8191, 9, 64 << 20, 8192, 8191, 8192, b"q" * 8192,
                           dest=b"smtp:" + b"d" * 250))
    return out


def chunk_corruptions(v):
    """Chunk v with one rule of 3.1.1 broken (BAD_CHUNK), or its length
    without the extension (BAD_LENGTH)."""
    dl, pl = struct.unpack_from("!HH", v, 36)
    x = 40 + dl + pl
    group, total, count, index, clen = struct.unpack_from("!QIIII", v, x)
    oseq = struct.unpack_from("!Q", v, 24)[0]
    out = []

    def put(off, fmt, val):
        b = bytearray(v)
        struct.pack_into(fmt, b, off, val & ((1 << (8 * struct.calcsize(fmt))) - 1))
        out.append(bytes(b))
    put(x, "!Q", 0)                      # group 0
    put(x, "!Q", group + 1)              # origin_seq != group + index
    put(x, "!Q", (1 << 64) - 1)
    put(24, "!Q", oseq + 1)
    put(x + 8, "!I", (64 << 20) + 1)     # total_len above 64 MiB
    put(x + 8, "!I", total + clen)       # count no longer ceil(total / chunk_len)
    put(x + 8, "!I", 0)
    put(x + 12, "!I", count + 1)
    put(x + 12, "!I", 1)                 # a group of one
    put(x + 16, "!I", count)             # index == count
    put(x + 16, "!I", 0xFFFFFFFF)
    put(x + 20, "!I", 0)                 # chunk_len 0, 8193, one more
    put(x + 20, "!I", 8193)
    put(x + 20, "!I", clen + 1)
    put(6, "!H", 0)                      # the flag cleared: length counts 24 bytes too many
    b = bytearray(v[:x]) + v[x + 24:]    # the extension removed, length agreeing
    struct.pack_into("!H", b, 4, len(b))
    out.append(bytes(b))
    return out


def garbage(lib, pcap, valid):
    p = Parser(lib)
    rnd = random.Random(4790)
    payloads = [b"", b"G", b"GW", b"GW\x02", b"GW\x02\x01"]
    for _ in range(150):
        payloads.append(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 160))))
    for _ in range(60):  # random after a valid magic and version
        n = rnd.randrange(24, 200)
        b = bytearray(rnd.getrandbits(8) for _ in range(n))
        b[0:3] = b"GW\x02"
        b[3] = rnd.randrange(0, 9)
        if rnd.random() < 0.5:
            struct.pack_into("!H", b, 4, n)
        payloads.append(bytes(b))
    # Bytes each type's body may hold any value in (the parser still judges
    # the few values that are refused, such as a zero seq).
    free = {1: [(24, 36)], 2: [(24, 40)], 3: [(24, 32), (36, 40)], 4: [(24, 36)],
            5: [(24, 72)], 6: [], 7: [(24, 28)]}
    for v in valid + chunk_frames():
        cuts = range(len(v) + 1) if len(v) <= 300 else \
            sorted(set(range(0, len(v), 97)) | set(range(len(v) - 60, len(v) + 1)))
        payloads += [v[:i] for i in cuts]
        payloads += corruptions(v)
        for _ in range(20):  # random values in every field that takes any
            b = bytearray(v)
            ext = [(len(v) - 48, len(v) - 24)] if v[3] == 1 and v[7] & F_CHUNK else []
            for lo, hi in [(8, 24), (len(v) - 24, len(v))] + free.get(v[3], []) + ext:
                b[lo:hi] = bytes(rnd.getrandbits(8) for _ in range(hi - lo))
            payloads.append(bytes(b))
    pkts = [udp_packet(x, sport=40000 + i % 20000) for i, x in enumerate(payloads)]
    write_pcap(pcap, pkts)
    exp = []
    for x in payloads:
        st, f = p.parse(x)
        exp.append({"hex": x.hex(), "status": st, "fields": f})
    json.dump({"frames": exp}, sys.stdout)


# ---- live traffic through gwartd ----

# gwforge's names for the fields it prints, and the dissector's.
FORGE_FIELDS = {"magic": "gwart.magic", "version": "gwart.version", "type": "gwart.type",
                "length": "gwart.length", "flags": "gwart.flags", "sender": "gwart.sender",
                "epoch": "gwart.epoch", "seq": "gwart.seq", "ctr": "gwart.trailer.ctr"}
FORGE_BODY = {1: {"origin": "gwart.data.origin", "origin_seq": "gwart.data.origin_seq",
                  "dest_len": "gwart.data.dest_len", "payload_len": "gwart.data.payload_len"},
              2: {"base": "gwart.ack.base", "bitmap": "gwart.ack.bitmap"},
              3: {"origin_seq": "gwart.nack.origin_seq", "reason": "gwart.nack.reason",
                  "retry": "gwart.nack.retry_after_us"},
              5: {"nonce": "gwart.welcome.nonce", "router_seq": "gwart.welcome.router_seq",
                  "dup_window": "gwart.welcome.dup_window",
                  "keepalive_ms": "gwart.welcome.keepalive_ms",
                  "keepalive_mult": "gwart.welcome.keepalive_mult",
                  "max_payload": "gwart.welcome.max_payload", "salt": "gwart.welcome.salt"},
              7: {"reason": "gwart.bye.reason"}}


def live(forge, router, port, host, ctl, sock, keydir, a, b, d, domain):
    """Connector a sends to b (domain routes there), d is disabled."""
    R = f"{router}:{port}"
    A, B, D = int(a), int(b), int(d)
    f = Forge(forge)
    for cid in (A, B, D):
        f.keyfile(cid, f"{keydir}/{cid}.key")
    out = {"sent": [], "received": [], "hello": [], "welcome": {}, "ids": [A, B, D]}

    def send(name, note, **kw):
        """One frame as the values chosen here; its bytes (show=1) find it
        in the capture."""
        r = f.send(name, R, show=1, **kw)
        kw = {k: v for k, v in kw.items()}
        out["sent"].append({"note": note, "hex": r["hex"], "ctr": r["ctr"], "chosen": kw})
        return r

    def recv(name, ms):
        frames, _ = f.recv(name, ms)
        for x in frames:
            x["sock"] = name
        out["received"] += frames
        return frames

    def answer(name, types=(2, 3)):
        """What the router sends name until its answer (an ACK or a NACK)
        has come, 10 s at most on a loaded host, and 100 ms more."""
        got = []
        for _ in range(100):
            got += recv(name, 100)
            if any(x["type"] in types for x in got):
                break
        return got + recv(name, 100)

    # gwforge socket names are the connector ids.
    ports = {A: f.sock(A, host, 0, cid=A), B: f.sock(B, host, 0, cid=B)}
    out["ports"] = ports
    nonces = {A: 0x1122334455667700 + A, B: 0x1122334455667700 + B}
    rxw = {A: 32, B: 16}
    for cid in (A, B):
        w = f.connect(cid, R, cid, nonce=nonces[cid], seq=1, rx_window=rxw[cid])
        out["hello"].append({"sender": cid, "nonce": nonces[cid], "seq": 1,
                             "rx_window": rxw[cid], "port": ports[cid]})
        out["welcome"][str(cid)] = w
        f.cmd(f"keepalive {cid} {R} id={cid} ms=300")
    dest = f"smtp:alice@x.{domain}"
    # 1, then 3 and 4 (2 missing: the router's ACKs name them in the bitmap),
    # then 2 (the cumulative point jumps to 4), 4 again with RETRANSMIT (a
    # duplicate, acknowledged again), 5 to nowhere (NACK NO_ROUTE).
    for s, flags, note in ((1, 0, "data"), (3, 0, "gap"), (4, 0, "gap"), (2, 0, "fill"),
                           (4, 1, "dup")):
        payload = ("%02x" % s) * (8 + s)
        send(A, note, type="DATA", sender=A, seq=s, dest=dest, payload=payload, flags=flags)
        for x in answer(A):
            x["after"] = f"{note}{s}"
    send(A, "noroute", type="DATA", sender=A, seq=5, dest="smtp:bob@nowhere.invalid",
         payload="ee" * 5)
    answer(A)
    # A message of three chunks (PROTOCOL.md 3.1.1): 10 bytes in chunks of 4,
    # origin seqs 6, 7, 8 (group 6), forwarded to B like any DATA.
    msg = b"0123456789"
    for i in range(3):
        send(A, f"chunk{i}", type="DATA", sender=A, seq=6 + i, dest=dest,
             payload=msg[4 * i:4 * i + 4].hex(), flags=F_CHUNK, group=6, total_len=10,
             count=3, index=i, chunk_len=4)
        for x in answer(A):
            x["after"] = f"chunk{i}"
    send(A, "keepalive", type="KEEPALIVE", sender=A, seq=987654321)
    for _ in range(50):  # its echo
        if any(x["type"] == 6 and x["seq"] == 987654321 for x in recv(A, 100)):
            break
    # Connector 2 takes the router's DATA and acknowledges the third with a
    # bitmap first (cumulative point at the first), then everything.
    got = []
    for _ in range(50):  # the seven messages forwarded (and retransmitted)
        got += recv(B, 100)
        if len({x["seq"] for x in got if x["type"] == 1}) >= 7:
            break
    data = sorted({x["seq"] for x in got if x["type"] == 1})
    out["egress"] = data
    if len(data) >= 7:
        send(B, "ack_bitmap", type="ACK", sender=B, seq=data[0], base=data[2], bitmap=1)
        recv(B, 100)
        send(B, "ack_all", type="ACK", sender=B, seq=data[-1], base=0, bitmap=0)
    recv(B, 200)
    f.cmd(f"keepalive {B} {R} id={B} ms=0")
    send(B, "bye", type="BYE", sender=B, seq=0, reason=0)
    recv(B, 200)
    # The router's BYE: a new key closes A's session; probes follow (epoch 0
    # KEEPALIVEs) about a second later.
    f.cmd(f"keepalive {A} {R} id={A} ms=0")
    recv(A, 100)
    subprocess.run([ctl, "--socket", sock, "connector", "set-key", str(A), "--key",
                    os.urandom(32).hex()], check=True, stdout=subprocess.DEVNULL)
    for _ in range(20):  # the BYE at once, the first probe one backoff later (~1 s)
        if any(x["type"] == 6 and x["epoch"] == 0 for x in recv(A, 500)):
            break
    # A disabled connector's HELLO: NACK NOT_AUTHORISED, epoch 0.
    subprocess.run([ctl, "--socket", sock, "connector", "disable", str(D)], check=True,
                   stdout=subprocess.DEVNULL)
    ports[D] = f.sock(D, host, 0, cid=D)
    _, r = f.cmd(f"connect {D} {R} id={D} nonce=77 seq=42 rx_window=8 timeout_ms=3000",
                 check=False)
    out["hello"].append({"sender": D, "nonce": 77, "seq": 42, "rx_window": 8, "port": ports[D]})
    out["nack_d"] = r
    f.close()
    json.dump(out, sys.stdout, indent=1)

# ---- comparing ----


class Check:
    def __init__(self):
        self.errors = []
        self.n = 0

    def eq(self, what, got, want):
        self.n += 1
        if got != want:
            self.errors.append(f"{what}: dissector {got!r:.300}, expected {want!r:.300}")

    def true(self, what, cond):
        self.n += 1
        if not cond:
            self.errors.append(what)


HEX_FIELDS = {"gwart.welcome.salt", "gwart.trailer.tag", "gwart.data.payload"}
STR_FIELDS = {"gwart.data.dest", "gwart.data.dest.type", "gwart.data.dest.domain"}


def val(g, k, kind=int):
    v = g.get(k)
    if v is None:
        return None
    if kind is int:
        return num(v)
    if kind == "hex":
        return str(v[0]).replace(":", "")
    return v[0]


def compare_parser(c, i, rec, st, pf):
    """Every field gw_wire_parse() gives, as the dissector gives it."""
    g = rec["gwart"]
    c.eq(f"frame {i}: gwart.status", val(g, "gwart.status"), STATUSES.index(st))
    if st != "OK":
        c.true(f"frame {i}: {st} without expert info", rec["expert"])
        return
    for k, want in pf.items():
        if k in HEX_FIELDS:
            got = val(g, k, "hex")
            if k == "gwart.data.payload" and want == "":
                got = got or ""
        elif k in STR_FIELDS:
            got = val(g, k, str)
        else:
            got = val(g, k)
        c.eq(f"frame {i}: {k}", got, want)
    if pf["gwart.type"] == 2:
        base, bm = pf["gwart.ack.base"], pf["gwart.ack.bitmap"]
        want = [base + b for b in range(64) if bm >> b & 1 and base + b < 1 << 64]
        got = [num(x) for x in g.get("gwart.ack.acked", [])]
        c.eq(f"frame {i}: gwart.ack.acked", got, want)
    ctr = pf["gwart.trailer.ctr"]
    if pf["gwart.type"] in (4, 5) or pf["gwart.epoch"] == 0:
        c.true(f"frame {i}: handshake ctr without a time", "gwart.trailer.time" in g)
    else:
        c.eq(f"frame {i}: gwart.trailer.lane", val(g, "gwart.trailer.lane"), ctr >> 56)
        c.eq(f"frame {i}: gwart.trailer.count", val(g, "gwart.trailer.count"),
             ctr & ((1 << 56) - 1))
    c.eq(f"frame {i}: gwart.from_router", val(g, "gwart.from_router"),
         1 if pf["gwart.sender"] == 0 else 0)


def check(lib, tshark_json, sent_json):
    p = Parser(lib)
    c = Check()
    recs = tshark_frames(tshark_json)
    for i, rec in enumerate(recs, 1):
        c.true(f"frame {i}: Lua error", "Lua Error" not in rec["text"])
        c.true(f"frame {i}: dissector bug: {rec['expert']}",
               not any("dissector bug" in e for e in rec["expert"]))
        if rec["payload"] is None:
            continue
        c.true(f"frame {i}: UDP payload not dissected as gwart", rec["gwart"])
        st, pf = p.parse(rec["payload"])
        compare_parser(c, i, rec, st, pf)
    summary = {"frames": len(recs), "checks": 0}
    if sent_json != "-":
        summary.update(check_live(c, recs, json.load(open(sent_json))))
    summary["checks"] = c.n
    summary["errors"] = c.errors[:40]
    print(json.dumps(summary, indent=1))
    return not c.errors


def check_live(c, recs, s):
    """The frames sent with the values chosen, the router's answers with
    what gwforge read and what the protocol requires of them."""
    by_hex = {}
    for i, r in enumerate(recs, 1):
        if r["payload"] is not None:
            by_hex.setdefault(r["payload"].hex(), (i, r))
    seen = {}
    # 1. Every frame sent, found by its bytes: each chosen value decoded.
    names = {"seq": "gwart.seq", "sender": "gwart.sender", "flags": "gwart.flags",
             "base": "gwart.ack.base", "bitmap": "gwart.ack.bitmap", "reason": "gwart.bye.reason"}
    for x in s["sent"]:
        hit = by_hex.get(x["hex"])
        c.true(f"sent {x['note']}: not in the capture", hit)
        if not hit:
            continue
        i, r = hit
        g = r["gwart"]
        ch = x["chosen"]
        c.eq(f"sent {x['note']} (frame {i}): type", val(g, "gwart.type"), T[ch["type"]])
        c.eq(f"sent {x['note']} (frame {i}): status", val(g, "gwart.status"), 0)
        c.eq(f"sent {x['note']} (frame {i}): ctr", val(g, "gwart.trailer.ctr"), x["ctr"])
        for k, fk in names.items():
            if k in ch and not (k == "reason" and ch["type"] != "BYE"):
                c.eq(f"sent {x['note']} (frame {i}): {fk}", val(g, fk), int(ch[k]))
        if ch["type"] == "DATA":
            c.eq(f"sent {x['note']} (frame {i}): dest", val(g, "gwart.data.dest", str), ch["dest"])
            c.eq(f"sent {x['note']} (frame {i}): payload", val(g, "gwart.data.payload", "hex"),
                 ch["payload"])
            c.eq(f"sent {x['note']} (frame {i}): origin", val(g, "gwart.data.origin"),
                 int(ch["sender"]))
            c.eq(f"sent {x['note']} (frame {i}): origin_seq", val(g, "gwart.data.origin_seq"),
                 int(ch["seq"]))
            c.eq(f"sent {x['note']} (frame {i}): RETRANSMIT",
                 val(g, "gwart.flags.retransmit"), int(ch.get("flags", 0)) & 1)
            c.eq(f"sent {x['note']} (frame {i}): CHUNK",
                 val(g, "gwart.flags.chunk"), 1 if "group" in ch else 0)
            for k in ("group", "total_len", "count", "index", "chunk_len"):
                if k in ch:
                    c.eq(f"sent {x['note']} (frame {i}): gwart.chunk.{k}",
                         val(g, "gwart.chunk." + k), int(ch[k]))
            if "group" in ch:
                c.eq(f"sent {x['note']} (frame {i}): gwart.chunk.offset",
                     val(g, "gwart.chunk.offset"), int(ch["index"]) * int(ch["chunk_len"]))
        if ch["type"] == "ACK":
            c.eq(f"sent {x['note']} (frame {i}): ack.cum", val(g, "gwart.ack.cum"), int(ch["seq"]))
        if ch["type"] == "KEEPALIVE":
            c.eq(f"sent {x['note']} (frame {i}): clock", val(g, "gwart.keepalive.clock_us"),
                 int(ch["seq"]))
        seen[x["note"]] = seen.get(x["note"], 0) + 1
    # 2. HELLOs as chosen (gwforge's connect sends them; found by nonce).
    gw = [(i, r["gwart"]) for i, r in enumerate(recs, 1) if r["gwart"]]
    for h in s["hello"]:
        hits = [(i, g) for i, g in gw if val(g, "gwart.type") == 4 and
                val(g, "gwart.hello.nonce") == h["nonce"]]
        c.true(f"HELLO of {h['sender']}: not in the capture", hits)
        for i, g in hits:
            c.eq(f"HELLO frame {i}: sender", val(g, "gwart.sender"), h["sender"])
            c.eq(f"HELLO frame {i}: next_seq", val(g, "gwart.hello.next_seq"), h["seq"])
            c.eq(f"HELLO frame {i}: rx_window", val(g, "gwart.hello.rx_window"), h["rx_window"])
            c.eq(f"HELLO frame {i}: epoch", val(g, "gwart.epoch"), 0)
            c.eq(f"HELLO frame {i}: conn", val(g, "gwart.conn"), h["sender"])
    # 3. Every frame the router sent, as gwforge read it, found by type,
    # seq and ctr (unique: counters never repeat in a session).
    idx = {}
    for i, g in gw:
        if val(g, "gwart.sender") == 0 and "gwart.trailer.ctr" in g:
            idx[(val(g, "gwart.type"), val(g, "gwart.seq"), val(g, "gwart.trailer.ctr"))] = (i, g)
    for fr in s["received"]:
        key = (fr["type"], fr["seq"], fr.get("ctr"))
        hit = idx.get(key)
        c.true(f"router frame {key}: not in the capture", hit)
        if not hit:
            continue
        i, g = hit
        for k, fk in list(FORGE_FIELDS.items()) + list(FORGE_BODY.get(fr["type"], {}).items()):
            if k in fr:
                got = val(g, fk, "hex") if k == "salt" else val(g, fk)
                c.eq(f"router frame {i}: {fk}", got, fr[k])
        if fr["type"] != 6 or fr["epoch"] != 0:  # the probe after a new key: new hs key
            c.eq(f"router frame {i}: tag verified by gwforge", fr["auth"], "ok")
        c.eq(f"router frame {i}: gwart.conn", val(g, "gwart.conn"), fr["sock"])
    # 4. What the protocol requires of the router's answers (PROTOCOL.md).
    rx = s["received"]
    types_seen = {TYPES[val(g, "gwart.type")] for _, g in gw if val(g, "gwart.type") in TYPES}
    c.eq("frame types in the capture", sorted(types_seen), sorted(T))
    for cid, w in s["welcome"].items():
        ws = [g for _, g in gw if val(g, "gwart.type") == 5 and
              val(g, "gwart.welcome.nonce") == w["nonce"]]
        c.true(f"WELCOME for {cid}: none decoded", ws)
        for g in ws:
            c.eq(f"WELCOME {cid}: epoch", val(g, "gwart.epoch"), w["epoch"])
            c.eq(f"WELCOME {cid}: salt", val(g, "gwart.welcome.salt", "hex"), w["salt"])
            c.eq(f"WELCOME {cid}: dup_window", val(g, "gwart.welcome.dup_window"),
                 w["dup_window"])
            c.eq(f"WELCOME {cid}: router_seq", val(g, "gwart.welcome.router_seq"), 0)
            c.eq(f"WELCOME {cid}: conn", val(g, "gwart.conn"), int(cid))
    A, B, D = s["ids"]
    e1 = s["welcome"][str(A)]["epoch"]
    acks = [x for x in rx if x["sock"] == A and x["type"] == 2]

    def dis(x):
        """The dissector's decode of router frame x (gwforge's record)."""
        return idx.get((x["type"], x["seq"], x.get("ctr")), (0, {}))[1]

    def acked(a):
        """The seqs an ACK names in its bitmap, as the dissector lists them."""
        return {num(v) for v in dis(a).get("gwart.ack.acked", [])}

    after = {}
    for a in acks:
        after.setdefault(a.get("after"), []).append(a)
    named = set()
    for step in ("gap3", "gap4"):  # 1 taken, then 3 and 4 with 2 missing
        c.true(f"no ACK after DATA {step}", after.get(step))
        for a in after.get(step, []):
            c.eq(f"ACK after {step}: gwart.ack.cum", val(dis(a), "gwart.ack.cum"), 1)
            c.eq(f"ACK after {step}: epoch", a["epoch"], e1)
            named |= acked(a)
    c.true(f"ACK bitmaps after 1,3,4 name {sorted(named)}: want 3 and 4, not 2",
           {3, 4} <= named and 2 not in named)
    c.true("no ACK with cumulative point 4 after 2 filled the gap",
           any(val(dis(a), "gwart.ack.cum") == 4 for a in after.get("fill2", [])))
    c.true("no ACK again for the duplicate of 4",
           any(val(dis(a), "gwart.ack.cum") == 4 for a in after.get("dup4", [])))
    nacks = [x for x in rx if x["sock"] == A and x["type"] == 3]
    c.true("no NACK NO_ROUTE", [n for n in nacks if n["reason"] == 1 and n["seq"] == 5 and
                                n["origin_seq"] == 5 and n["epoch"] == e1 and n["retry"] == 0])
    kas = [x for x in rx if x["sock"] == A and x["type"] == 6 and x["seq"] == 987654321]
    c.true("no KEEPALIVE answer echoing 987654321", kas)
    byes = [x for x in rx if x["sock"] == A and x["type"] == 7]
    c.true("no router BYE after set-key", [b for b in byes if b["reason"] == 0 and
                                           b["epoch"] == e1 and b["seq"] == 0])
    probes = [x for x in rx if x["sock"] == A and x["type"] == 6 and x["epoch"] == 0]
    c.true("no reconnection probe", probes)
    for pr in probes:
        hit = idx.get((6, pr["seq"], pr["ctr"]))
        if hit:
            c.eq("probe: gwart.keepalive.probe", val(hit[1], "gwart.keepalive.probe"), 1)
    n3 = [g for _, g in gw if val(g, "gwart.type") == 3 and val(g, "gwart.nack.reason") == 5]
    c.true("no NACK NOT_AUTHORISED decoded", n3)
    for g in n3:
        c.eq("NOT_AUTHORISED: epoch", val(g, "gwart.epoch"), 0)
        c.eq("NOT_AUTHORISED: seq", val(g, "gwart.nack.seq"), 42)
        c.eq("NOT_AUTHORISED: origin_seq", val(g, "gwart.nack.origin_seq"), 42)
        c.eq("NOT_AUTHORISED: handshake", val(g, "gwart.handshake"), 1)
        c.eq("NOT_AUTHORISED: conn", val(g, "gwart.conn"), D)
    # The egress link: DATA to B carries A's messages in custody order
    # 1, 3, 4, 2 on consecutive link seqs.
    d2 = {}
    for _, g in gw:
        if val(g, "gwart.type") == 1 and val(g, "gwart.sender") == 0:
            d2.setdefault(val(g, "gwart.seq"), set()).add(
                (val(g, "gwart.data.origin"), val(g, "gwart.data.origin_seq"),
                 val(g, "gwart.flags.retransmit")))
    order = [sorted(d2[k])[0][1] for k in sorted(d2)]
    c.eq("egress DATA origin_seqs by link seq", order, [1, 3, 4, 2, 6, 7, 8])
    c.true(f"egress link seqs not consecutive: {sorted(d2)}",
           sorted(d2) == list(range(min(d2), min(d2) + 7)) if d2 else False)
    # The chunks as the router forwarded them: CHUNK kept, the extension
    # unchanged (group 6, 10 bytes in 3 chunks of 4).
    fwd = [g for _, g in gw if val(g, "gwart.type") == 1 and val(g, "gwart.sender") == 0 and
           val(g, "gwart.flags.chunk") == 1]
    c.eq("forwarded chunks: indexes", sorted({val(g, "gwart.chunk.index") for g in fwd}),
         [0, 1, 2])
    for g in fwd:
        i = val(g, "gwart.chunk.index")
        c.eq(f"forwarded chunk {i}: fields",
             [val(g, "gwart.chunk." + k) for k in ("group", "total_len", "count", "chunk_len")] +
             [val(g, "gwart.data.origin_seq"), val(g, "gwart.data.payload_len")],
             [6, 10, 3, 4, 6 + i, 4 if i < 2 else 2])
    return {"sent": len(s["sent"]), "received": len(rx), "types": sorted(types_seen),
            "sent_found": sum(seen.values())}


# ---- reading tshark -T json ----


def _flatten(layer, out):
    """tshark's nested gwart layer into {field: [values]} (every occurrence,
    subtrees included)."""
    for k, v in layer.items():
        if isinstance(v, dict):
            _flatten(v, out)
        elif isinstance(v, list):
            for x in v:
                if isinstance(x, dict):
                    _flatten(x, out)
                else:
                    out.setdefault(k, []).append(x)
        else:
            out.setdefault(k, []).append(v)


def tshark_frames(path):
    pk = json.load(open(path))
    out = []
    for p in pk:
        lay = p["_source"]["layers"]
        rec = {"gwart": {}, "expert": [], "payload": None, "src": None, "dst": None}
        g = lay.get("gwart")
        if isinstance(g, list):
            g = g[0]
        if g is not None:
            _flatten(g, rec["gwart"])
        ex = []
        _collect_expert(lay, ex)
        rec["expert"] = ex
        udp = lay.get("udp", {})
        if "udp.payload" in udp:
            rec["payload"] = bytes.fromhex(udp["udp.payload"].replace(":", ""))
        ip = lay.get("ip", {})
        rec["src"] = f"{ip.get('ip.src')}:{udp.get('udp.srcport')}"
        rec["dst"] = f"{ip.get('ip.dst')}:{udp.get('udp.dstport')}"
        rec["text"] = json.dumps(lay)
        out.append(rec)
    return out


def _collect_expert(d, out):
    if isinstance(d, dict):
        for k, v in d.items():
            if k == "_ws.expert.message":
                out.append(v)
            _collect_expert(v, out)
    elif isinstance(d, list):
        for x in d:
            _collect_expert(x, out)


def num(v):
    """A tshark JSON value as an int (decimal, or 0x hex)."""
    if isinstance(v, list):
        v = v[0]
    v = str(v)
    return int(v, 16) if v.startswith("0x") else int(v)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "garbage":
        garbage(sys.argv[2], sys.argv[3], [bytes.fromhex(h) for h in sys.argv[4:]])
    elif cmd == "live":
        live(*sys.argv[2:13])
    elif cmd == "check":
        sys.exit(0 if check(sys.argv[2], sys.argv[3], sys.argv[4]) else 1)
    else:
        sys.exit(f"unknown command {cmd}")
