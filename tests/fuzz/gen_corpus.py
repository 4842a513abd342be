#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the protocol version 2 seed corpora of fuzz_wire and fuzz_pkt.

    python3 tests/fuzz/gen_corpus.py [wire|pkt ...]

The seeds are committed; this script is how they were made, so that a
protocol change regenerates them instead of hand-editing bytes. Frames follow
include/gwart/wire.h: a 24-byte header (version 2), the body, then the v2
trailer (ctr, 8 bytes big-endian; tag, 16 bytes). Handshake frames (HELLO,
WELCOME, epoch 0) carry a real BLAKE2b-128 tag with the handshake key of the
test secret below (the parsers do not check tags, but the seeds are then valid
frames a router would accept); session frames carry a real AES-256-GMAC tag
when the `cryptography` module is there, else zeros.
"""
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = bytes(range(32))  # the test secret of every fuzz seed (never a real one)

T_DATA, T_ACK, T_NACK, T_HELLO, T_WELCOME, T_KEEPALIVE, T_BYE = range(1, 8)
BODY = {T_ACK: 16, T_NACK: 16, T_HELLO: 16, T_WELCOME: 48, T_KEEPALIVE: 0, T_BYE: 8}


def derive(label, extra):
    return hashlib.blake2b(label.encode() + extra, key=KEY, digest_size=32).digest()


def hs_keys(conn_id):
    i = struct.pack(">I", conn_id)
    return derive("gwart v2 hs c2r", i), derive("gwart v2 hs r2c", i)


def gmac(key, ctr, aad):
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:
        return bytes(16)
    return AESGCM(key).encrypt(b"\0\0\0\0" + struct.pack(">Q", ctr), b"", aad)


def frame(ftype, body, sender=0, epoch=0, seq=0, flags=0, ctr=0, conn_id=None, seal=True):
    length = 24 + len(body) + 24
    hdr = struct.pack(">HBBHHIIQ", 0x4757, 2, ftype, length, flags, sender, epoch, seq)
    f = hdr + body + struct.pack(">Q", ctr)
    cid = conn_id if conn_id is not None else sender
    if not seal or cid == 0:
        return f + bytes(16)
    if ftype in (T_HELLO, T_WELCOME) or epoch == 0:
        c2r, r2c = hs_keys(cid)
        key = r2c if sender == 0 else c2r
        return f + hashlib.blake2b(f, key=key, digest_size=16).digest()
    # Session keys of a fixed session (nonce 0x1122334455667788, salt 0x5a..).
    v = struct.pack(">IIQ", cid, epoch, 0x1122334455667788) + b"\x5a" * 16
    key = derive("gwart v2 session r2c" if sender == 0 else "gwart v2 session c2r", v)
    return f + gmac(key, ctr, f)


def lane_ctr(lane, n):
    return (lane << 56) | n


def data(sender, epoch, seq, origin, oseq, dest, payload, flags=0, n=1, conn_id=None):
    body = struct.pack(">QIHH", oseq, origin, len(dest), len(payload)) + dest + payload
    return frame(T_DATA, body, sender, epoch, seq, flags, lane_ctr(1, n), conn_id)


def wire_seeds():
    s = {}
    s["hello"] = frame(T_HELLO, struct.pack(">QII", 0x1122334455667788, 960, 0), sender=7,
                       seq=42, ctr=1764633600000000000)
    s["welcome"] = frame(T_WELCOME,
                         struct.pack(">QQIIII", 0x1122334455667788, 41, 960, 1000, 3, 1177) +
                         b"\x5a" * 16, sender=0, epoch=3, seq=42, ctr=1764633600000000000,
                         conn_id=7)
    s["ack"] = frame(T_ACK, struct.pack(">QQ", 44, 5), sender=0, epoch=3, seq=42,
                     ctr=lane_ctr(1, 9), conn_id=7)
    s["nack-busy"] = frame(T_NACK, struct.pack(">QHHI", 42, 2, 0, 2000), sender=0, epoch=3,
                           seq=42, ctr=lane_ctr(1, 10), conn_id=7)
    s["nack-no-route"] = frame(T_NACK, struct.pack(">QHHI", 42, 1, 0, 0), sender=0, epoch=3,
                               seq=42, ctr=lane_ctr(1, 11), conn_id=7)
    s["keepalive"] = frame(T_KEEPALIVE, b"", sender=7, epoch=3, seq=42, ctr=lane_ctr(0, 5))
    s["probe"] = frame(T_KEEPALIVE, b"", sender=0, epoch=0, seq=0, ctr=1764633600000000001,
                       conn_id=7)
    s["bye"] = frame(T_BYE, struct.pack(">II", 0, 0), sender=7, epoch=3, seq=42,
                     ctr=lane_ctr(0, 6))
    s["nack-not-authorised"] = frame(T_NACK, struct.pack(">QHHI", 42, 5, 0, 0), sender=0,
                                     epoch=0, seq=42, ctr=1764633600000000000, conn_id=7)
    s["data-smtp"] = data(7, 3, 42, 7, 42, b"smtp:alice@notes.acme.com", b"hello, world")
    s["data-notes-empty"] = data(7, 3, 42, 7, 42, b"notes:CN=Bob/O=Acme", b"")
    s["data-max"] = data(7, 3, 42, 7, 43, b"smtp:" + b"d" * 250, b"p" * 8192)
    s["data-fwd-retransmit"] = data(0, 5, 1, 9, 1000, b"free-busy:room-12@cal.example",
                                    b"m" * 64, flags=1, conn_id=9)
    s["data-253-dots"] = data(7, 3, 44, 7, 44, b"x:" + b"." * 253, b"")
    s["v1-hello"] = struct.pack(">HBBHHIIQ", 0x4757, 1, T_HELLO, 40, 0, 7, 0, 42) + \
        struct.pack(">QII", 0x1122334455667788, 960, 0)
    return s


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def udp_pkt(gw, ident, with_csum=True):
    src, dst = bytes([198, 18, 0, 2]), bytes([198, 18, 0, 1])
    eth = bytes([2, 0, 0x5E, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0])
    ulen = 8 + len(gw)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + ulen, ident, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack(">H", csum(ip)) + ip[12:]
    udp = struct.pack(">HHHH", 40000, 4790, ulen, 0)
    if with_csum:
        c = csum(src + dst + struct.pack(">BBH", 0, 17, ulen) + udp + gw) or 0xFFFF
        udp = udp[:6] + struct.pack(">H", c)
    return eth + ip + udp + gw


def pkt_seeds():
    w = wire_seeds()
    return {
        "udp-data-smtp": udp_pkt(w["data-smtp"], 1),
        "udp-hello-nocsum": udp_pkt(w["hello"], 2, with_csum=False),
        "udp-ack": udp_pkt(w["ack"], 3),
        "udp-v1-hello": udp_pkt(w["v1-hello"], 4),
    }


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, b in sorted(seeds.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(b)


def main(argv):
    targets = argv[1:] or ["wire", "pkt"]
    for t in targets:
        write(t, {"wire": wire_seeds, "pkt": pkt_seeds}[t]())


if __name__ == "__main__":
    main(sys.argv)
