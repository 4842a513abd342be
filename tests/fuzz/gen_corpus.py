#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the protocol version 2 seed corpora of fuzz_wire, fuzz_pkt and fuzz_router.

    python3 tests/fuzz/gen_corpus.py [wire|pkt|router ...]

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


def wire_data(sender, epoch, seq, origin, oseq, dest, payload, flags=0, n=1, conn_id=None):
    body = struct.pack(">QIHH", oseq, origin, len(dest), len(payload)) + dest + payload
    return frame(T_DATA, body, sender, epoch, seq, flags, lane_ctr(1, n), conn_id)


F_CHUNK = 0x0002
MSG_MAX = 64 << 20
U64_MAX = (1 << 64) - 1


def wire_chunk(sender, epoch, seq, origin, oseq, dest, payload, group, total, count, index,
               chunk_len, flags=F_CHUNK, n=1, conn_id=None):
    """A DATA frame with the chunk extension (PROTOCOL.md 3.1.1) after its
    payload; the arguments are written as given, valid or not."""
    body = struct.pack(">QIHH", oseq, origin, len(dest), len(payload)) + dest + payload + \
        struct.pack(">QIIII", group, total, count, index, chunk_len)
    return frame(T_DATA, body, sender, epoch, seq, flags, lane_ctr(1, n), conn_id)


def chunk_seeds():
    """Chunks at the edges of 3.1.1's rules: valid ones (first, middle, last,
    the 2^64 edge, the largest frame and message) and one rule broken in
    each of the invalid ones (BAD_CHUNK unless named otherwise)."""
    d = b"smtp:alice@notes.acme.com"
    s = {}
    # 3,000 bytes in chunks of 1,200: 1,200 + 1,200 + 600, group 100.
    for i, name in enumerate(("first", "middle", "last")):
        pl = 600 if i == 2 else 1200
        s["chunk-" + name] = wire_chunk(7, 3, 100 + i, 7, 100 + i, d, bytes([0x41 + i]) * pl,
                                        100, 3000, 3, i, 1200, n=20 + i)
    # The group's last seq is 2^64 - 1 (valid), chunk 1 of 2.
    s["chunk-seq-max"] = wire_chunk(7, 3, U64_MAX, 7, U64_MAX, d, b"z", U64_MAX - 1, 3, 2, 1, 2)
    # The longest frame (8,535 bytes) and the largest message: 64 MiB in
    # 8,192 chunks of 8,192, the last one, to a 255-byte address.
    s["chunk-max"] = wire_chunk(7, 3, 9 + 8191, 7, 9 + 8191, b"smtp:" + b"d" * 250,
                                b"q" * 8192, 9, MSG_MAX, 8192, 8191, 8192)
    # The smallest group: 2 bytes in 2 chunks of 1, forwarded by the router
    # with RETRANSMIT.
    s["chunk-fwd-retransmit"] = wire_chunk(0, 5, 1 << 33, 9, 2, b"x:y", b"b", 1, 2, 2, 1, 1,
                                           flags=F_CHUNK | 1, conn_id=9)
    bad = {
        "count": (100, 3000, 4, 1, 1200, 101, 1200),        # ceil(3000/1200) is 3
        "one-chunk": (100, 1000, 1, 0, 1200, 100, 1000),   # count 1 is no group
        "last-len": (100, 3000, 3, 2, 1200, 102, 1200),    # the last carries 600
        "middle-short": (100, 3000, 3, 1, 1200, 101, 600),
        "index": (100, 3000, 3, 3, 1200, 103, 600),        # index == count
        "seq": (100, 3000, 3, 1, 1200, 102, 1200),         # origin_seq != group + index
        "group-0": (0, 3000, 3, 1, 1200, 1, 1200),
        "seq-wrap": (U64_MAX, 3, 2, 0, 2, U64_MAX, 2),     # the last seq would pass 2^64 - 1
        "total-over": (9, MSG_MAX + 1, 8193, 8192, 8192, 9 + 8192, 1),
        "chunk-len-0": (100, 3000, 3, 0, 0, 100, 0),
        "chunk-len-over": (100, 20000, 3, 0, 8193, 100, 8193),
    }
    for name, (g, t, c, i, cl, oseq, pl) in bad.items():
        if pl > 8192:
            pl = 8192  # the frame cannot carry more: PAYLOAD_TOO_BIG comes first
        s["bad-chunk-" + name] = wire_chunk(7, 3, oseq, 7, oseq, d, b"p" * pl, g, t, c, i, cl)
    # The flag without the extension (BAD_LENGTH), on an ACK (BAD_FLAGS).
    s["bad-chunk-no-ext"] = wire_data(7, 3, 42, 7, 42, d, b"hello", flags=F_CHUNK)
    s["bad-chunk-on-ack"] = frame(T_ACK, struct.pack(">QQ", 44, 5), sender=0, epoch=3, seq=42,
                                  flags=F_CHUNK, ctr=lane_ctr(1, 9), conn_id=7)
    return s


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
    s["data-smtp"] = wire_data(7, 3, 42, 7, 42, b"smtp:alice@notes.acme.com", b"hello, world")
    s["data-notes-empty"] = wire_data(7, 3, 42, 7, 42, b"notes:CN=Bob/O=Acme", b"")
    s["data-max"] = wire_data(7, 3, 42, 7, 43, b"smtp:" + b"d" * 250, b"p" * 8192)
    s["data-fwd-retransmit"] = wire_data(0, 5, 1, 9, 1000, b"free-busy:room-12@cal.example",
                                         b"m" * 64, flags=1, conn_id=9)
    s["data-253-dots"] = wire_data(7, 3, 44, 7, 44, b"x:" + b"." * 253, b"")
    s["v1-hello"] = struct.pack(">HBBHHIIQ", 0x4757, 1, T_HELLO, 40, 0, 7, 0, 42) + \
        struct.pack(">QII", 0x1122334455667788, 960, 0)
    s.update(chunk_seeds())
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
        "udp-chunk-first": udp_pkt(w["chunk-first"], 5),
        "udp-chunk-last": udp_pkt(w["chunk-last"], 6),
        "udp-chunk-seq-max": udp_pkt(w["chunk-seq-max"], 7),
        "udp-bad-chunk-count": udp_pkt(w["bad-chunk-count"], 8),
    }


# ---- fuzz_router: operation sequences (fr_op() in fuzz_router.c) ----------
# Roles: 0 the connector's own address (where it last said a valid HELLO
# from, at the time the operation is built), 1 its other one, 2 an
# attacker's, 3 a stranger's. Seal: 0 valid, 1 a handshake frame sealed with
# the key before the last set-key, 2 bad tag, 3 zero tag (roles 2 and 3 hold
# no key: their tags are always bad). Epoch: 0 its own, 1 the
# router's current one (as a sniffer learns it), 2 raw, 3 zero.
OP_HELLO, OP_DATA, OP_DATA2, OP_ACK, OP_KA, OP_BYE, OP_RAW, OP_REPLAY, OP_CLOCK, OP_RUN, \
    OP_STEP, OP_ADMIN, OP_SETKEY = range(13)
U64MAX = (1 << 64) - 1
D1, D2, D3, DANY, DNONE, DDOTS, DRAW, DX = range(8)


def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack(">Q", v & U64MAX)


def hello(k, role=0, seal=0, newinst=0, stale=0, seqmode=0, winmode=0, q=0, seq=None,
          win=None, nonce=None, ctr=None):
    """seqmode 0 next seq, 1 2^64-1, 2 @seq, 3 one; winmode 0 64, 1 @win, 2 zero, 3 max."""
    b = (k & 3) | role << 2 | seal << 4 | newinst << 6 | stale << 7
    m = seqmode | winmode << 2 | q << 4
    out = bytes([OP_HELLO, b, m])
    if seqmode == 2:
        out += u64(seq)
    if winmode == 1:
        out += u32(win)
    if k == 0:
        out += u64(nonce or 0)
    if k == 0 or stale:
        if k == 0:
            out += u64(ctr or 0)
    return out


def data(k, dest=D2, role=0, seal=0, epoch=0, seqsel=0, plen=16, ctrsel=0, q=0, seed=0x33,
         flags=0, seq=None, epoch_raw=None, origin=None, ctr=None, raw_dest=None, chunk=None):
    """seqsel 0 next, 1 repeat last, 2 @seq, 3 2^64-1; plen 0..199, or 200.. for
    1300 + (plen - 200) * 128 bytes (capped at 8192); ctrsel 0 next, 1 repeat,
    2 @ctr, 3 wrong lane; chunk: the chunk byte (chunk_make() in
    fuzz_router.c, see cb()), which makes the frame one chunk of a group."""
    b = (k & 3) | role << 2 | seal << 4 | flags << 6 | (0 if chunk is None else 1) << 7
    m = epoch | seqsel << 2 | (1 if origin is not None else 0) << 4 | dest << 5
    out = bytes([OP_DATA, b, m, plen, ctrsel | q << 2, seed])
    if chunk is not None:
        out += bytes([chunk])
    if epoch == 2:
        out += u32(epoch_raw)
    if seqsel == 2:
        out += u64(seq)
    if origin is not None:
        out += bytes([origin])
    if dest == DRAW:
        out += bytes([len(raw_dest) - 1]) + raw_dest
    if k == 0 or ctrsel == 2:
        out += u64(ctr or 0)
    return out


def ack(k, role=0, seal=0, epoch=0, cumsel=0, basesel=0, bmsel=0, ctrsel=0, q=0, cum=None,
        base=None, bitmap=None, epoch_raw=None, ctr=None):
    """cumsel 0 what it received, 1 @cum, 2 2^64-1, 3 zero; basesel 0 cum+1,
    1 0xFFFFFFFFFFFFFFC1, 2 @base, 3 the router's first egress seq; bmsel 0
    what it received above base, 1 all ones, 2 @bitmap, 3 zero."""
    b = (k & 3) | role << 2 | seal << 4
    m = epoch | cumsel << 2 | basesel << 4 | bmsel << 6
    out = bytes([OP_ACK, b, m, ctrsel | q << 2])
    if epoch == 2:
        out += u32(epoch_raw)
    if cumsel == 1:
        out += u64(cum)
    if basesel == 2:
        out += u64(base)
    if bmsel == 2:
        out += u64(bitmap)
    if k == 0 or ctrsel == 2:
        out += u64(ctr or 0)
    return out


def cb(count, index, mismatch=0):
    """The chunk byte: chunk index of a group of count (2..5) chunks whose
    chunk_len is the op's payload size; mismatch 1 gives this chunk another
    total_len than its group's other chunks (NACKed, never forwarded)."""
    return (count - 2) | index << 2 | mismatch << 5


ECMP = b"smtp:f@y.ecmp.example"  # routed to connectors 2 and 3 at equal cost


def session(op, k, role=0, seal=0, epoch=0, ctrsel=0, q=0, seq=None, reason=None,
            epoch_raw=None, ctr=None):
    b = (k & 3) | role << 2 | seal << 4
    m = epoch | (1 if seq is not None else 0) << 2 | (1 if reason is not None else 0) << 3
    out = bytes([op, b, m, ctrsel | q << 2])
    if epoch == 2:
        out += u32(epoch_raw)
    if seq is not None:
        out += u64(seq)
    if k == 0 or ctrsel == 2:
        out += u64(ctr or 0)
    if op == OP_BYE and reason is not None:
        out += u32(reason)
    return out


def keepalive(k, **kw):
    return session(OP_KA, k, **kw)


def bye(k, **kw):
    return session(OP_BYE, k, **kw)


def raw_udp(payload, role=0, k=0, q=0):
    b = role << 1 | (k & 3) << 3 | q << 5 | (1 if len(payload) > 255 else 0) << 6
    out = bytes([OP_RAW, b, len(payload) & 0xFF])
    if len(payload) > 255:
        out += bytes([len(payload) >> 8])
    return out + payload


def replay(n, role=0, other_q=0):
    """Replay the n-th frame injected so far (0-based), from role (0: as sent)."""
    return bytes([OP_REPLAY]) + struct.pack(">H", n) + bytes([role | other_q << 2])


def clock(sel, mult=0):
    """sel: 0 100 us, 1 1 ms, 2 10 ms, 3 100 ms, 4 1 s, 5 3.5 s, 6 10 s, 7 120 s; x (1 + mult)."""
    return bytes([OP_CLOCK, sel | mult << 3])


def run():
    return bytes([OP_RUN])


def step(w):
    return bytes([OP_STEP, w])


def admin(k, action):
    """action 0 enable, 1 disable, 2 reconnect, 3 drain (k 1..3)."""
    return bytes([OP_ADMIN, ((k - 1) & 3) | action << 2])


def settle():
    """Twice a millisecond passes and the router runs: the workers'
    retransmission scan sends a new session's first messages (with two
    workers, those handed over after the first scan go at the second)."""
    return clock(1) + run() + clock(1) + run()


def setkey(k):
    """Operator: a new key for connector k (1..3): its session closes."""
    return bytes([OP_SETKEY, (k - 1) & 3])


def up(*ks):
    """Sessions of connectors ks up (HELLO, WELCOME)."""
    return b"".join(hello(k) for k in ks) + run()


# Each regression case: (name, what it is, bytes). The issue 8 findings first.
def router_regressions():
    r = []
    flow = data(1, D2) + data(1, D2) + data(1, D2) + settle()
    r.append(("regress-ack-base-wrap",
              "issue 8: one ACK with base 0xFFFFFFFFFFFFFFC1 and an all-ones bitmap for a "
              "destination holding custody (SIGSEGV in send_data/egress_failover, 63 slots "
              "freed, never sent). Sent forged by an attacker in the sniffed epoch, then sealed "
              "by the destination itself (a buggy peer with the key), then with cum 2^64-1.",
              up(1, 2) + flow +
              ack(2, role=2, epoch=1, basesel=1, bmsel=1) + run() +
              ack(2, basesel=1, bmsel=1) + run() +
              ack(2, cumsel=2, basesel=1, bmsel=1) + run() +
              ack(2) + run()))
    r.append(("regress-hello-seq-max",
              "issue 8: HELLO with seq 2^64-1 for an idle configured connector, then DATA "
              "(flush_acks looped 2^58 times sending ACKs). From the connector itself (valid "
              "proof), then forged for another connector.",
              hello(1, seqmode=1) + run() + data(1, D2) + data(1, D2, seqsel=3) + run() +
              hello(2, role=2, seqmode=1) + run() + data(2, D1) + run() +
              hello(3) + run() + hello(3, seqmode=1) + run() + data(3, D1) + run()))
    r.append(("regress-forged-data-epoch",
              "issue 8: DATA as connector 1 from another address with the epoch a sniffer "
              "learns (49,982 forged messages delivered, the real sender's ACKed as "
              "duplicates and lost): forged with a bad and a zero tag, from the attacker's "
              "address and spoofing the connector's own, with the sniffed and a guessed "
              "epoch, and sealed by the connector itself but from its other address (not "
              "its session's); then the real connector's messages with the same seqs, and "
              "its ACK from its other address before the real one.",
              up(1, 2) +
              data(1, D2, role=2, epoch=1, seal=2) + data(1, D2, role=2, epoch=1, seal=3) +
              data(1, D2, role=0, epoch=1, seal=2, seqsel=2, seq=1) +
              data(1, D2, role=2, epoch=2, epoch_raw=1, seal=2, seqsel=2, seq=2) +
              data(1, D2, role=2, epoch=1, ctrsel=2, ctr=(1 << 56) | 1, seqsel=2, seq=3) +
              data(1, D2, role=1, seqsel=2, seq=4) + run() +
              data(1, D2, seqsel=2, seq=1) + data(1, D2, seqsel=2, seq=2) +
              data(1, D2, seqsel=2, seq=3) + settle() + ack(2, role=1) + run() +
              ack(2) + run()))
    r.append(("regress-hello-takeover",
              "issue 8: HELLO as connector 2 from another address, then ACKs for what arrives "
              "there (50 take-overs in 10 s, 19,169 acknowledged messages lost). Forged "
              "HELLOs, a replay of its real HELLO from the attacker's address, ACKs from "
              "there; then the real connector moves with a valid HELLO (allowed).",
              up(1, 2) + data(1, D2) + run() +
              hello(2, role=2) + hello(2, role=2, seal=3) + replay(1, role=2) + run() +
              data(1, D2) + data(1, D2) + run() +
              ack(2, role=2, epoch=1) + ack(2, role=2, epoch=1, bmsel=1) + run() +
              hello(2, role=1) + run() + clock(3) + run() + ack(2) + run()))
    r.append(("regress-replayed-acks",
              "issue 8: ACKs as connector 2 with sniffed egress seqs while its link is cut "
              "(3,002 lost): its real ACKs replayed, from its address and the attacker's, "
              "after new messages were transmitted (one of them named, when first sent, a seq "
              "not yet transmitted: refused then, it must stay refused once that seq is out); "
              "ACKs naming seqs never sent.",
              up(1, 2) + data(1, D2) + settle() + ack(2) + run() +
              ack(2, bmsel=2, bitmap=1) + run() +
              data(1, D2) + data(1, D2) + settle() +
              replay(4) + replay(4, role=2) + replay(3) + replay(3, role=2) + run() +
              ack(2, role=2, epoch=1, cumsel=1, cum=U64MAX >> 1) +
              ack(2, role=2, epoch=1, basesel=3, bmsel=1) + run() +
              clock(3) + run() + ack(2) + run()))
    r.append(("regress-forged-bye-keepalive",
              "issue 8: BYEs as connectors 1 and 2 (forced closes) and KEEPALIVEs as a dead "
              "connector 2 (kept up 10 s): forged, zero-tagged, spoofing its address, "
              "replayed; its session must time out all the same.",
              up(1, 2) + keepalive(2) + bye(1) + run() + hello(1) + run() +
              bye(1, role=2, epoch=1) + bye(2, role=0, epoch=1, seal=2) +
              bye(2, role=2, epoch=1, seal=3) + replay(3) + replay(3, role=2) + run() +
              keepalive(2, role=2, epoch=1) + clock(4) + run() +
              keepalive(2, role=2, epoch=1) + clock(4) + run() +
              keepalive(2, role=0, epoch=1, seal=2) + clock(4) + run() +
              replay(2) + clock(4) + run() + clock(6) + run()))
    r.append(("regress-too-big-data",
              "issue 8: DATA above the router's max_payload or beyond the destination port's "
              "MTU (ACKed, never delivered, retransmitted into TX_FULL forever): must be "
              "NACKed TOO_BIG before custody. Payloads 8192, 1428 and 1300 (the 1500-byte "
              "MTU's edge), and one that fits.",
              up(1, 2) + data(1, D2, plen=255) + data(1, D2, plen=201) +
              data(1, D2, plen=200) + data(1, D2, plen=199) + run() +
              clock(4) + run() + ack(2) + run() + clock(4) + run()))
    r.append(("regress-rm-candidates-dots",
              "issue 8: dp_rm_candidates() on a destination of 253 dots (its stack array "
              "overflowed): DATA to 'x:' and 253 dots, valid, forged and raw.",
              up(1, 3) + data(1, DDOTS) + data(1, DDOTS, role=2, epoch=1) +
              data(1, DRAW, raw_dest=b"x:" + b"." * 253) + run() + ack(3) + run()))
    r.append(("regress-hello-flood",
              "issue 8: a flood of HELLOs for one configured connector opened one session "
              "per packet: forged HELLOs from many roles and tags, stale-ctr replays of a "
              "valid one; only its own fresh proof may open (or keep) a session.",
              up(1) + b"".join(hello(1, role=r_, seal=s_) for r_ in (2, 3) for s_ in (0, 2, 3)) +
              b"".join(replay(0, role=r_) for r_ in (0, 1, 2, 3)) + hello(1, stale=1) + run() +
              data(1, D1) + run()))
    r.append(("regress-keepalive-old-port",
              "issue 8: KEEPALIVE from a connector's old port after it moved was answered to "
              "the old port and counted as liveness: the connector moves (valid HELLO from "
              "its other address), then KEEPALIVEs sealed by it come from its old address, "
              "one a second, and a replay; answers go to the session's address only, and "
              "they are no liveness: the session times out.",
              up(1) + hello(1, role=1) + run() + keepalive(1) + run() +
              (keepalive(1, role=1) + clock(4) + run()) * 5 +
              replay(2, role=1) + run() + clock(6) + run()))
    r.append(("regress-keepalive-answer-before-move",
              "fuzz_router's model, not the router (found at 5846904): a session opened in "
              "single steps (no full check since), a valid HELLO from the connector's other "
              "address, then a KEEPALIVE of the session from its old address; control serves "
              "its session ring before the handshake ring, answers the KEEPALIVE to the "
              "session's address (right then) and moves the session after: the answer "
              "leaves once the session is elsewhere and must be accepted (it was taken "
              "for a KEEPALIVE answered to a spoofed address).",
              hello(1) + step(1) + step(1) + hello(1, role=1) + keepalive(1, role=1) + run() +
              keepalive(1) + run()))
    r.append(("regress-group-split-ecmp",
              "issue 11: chunks of one group to an equal-cost route (*.ecmp.example, "
              "connectors 2 and 3) were routed one by one, as any message, and equal-cost "
              "sharing sent chunk 0 to 3 and chunk 1 to 2 (a router without group routing). "
              "Connector 1's group of four chunks, out of order and interleaved with "
              "connector 3's group of two and a plain message, in single worker steps: "
              "every chunk of a group must reach one destination.",
              up(1, 2, 3) + data(1, DRAW, raw_dest=ECMP, chunk=cb(4, 0)) +
              data(3, DRAW, raw_dest=ECMP, chunk=cb(2, 0)) + step(0) +
              data(1, D2, seqsel=2, seq=10) +
              data(1, DRAW, raw_dest=ECMP, seqsel=2, seq=4, chunk=cb(4, 3)) +
              data(3, DRAW, raw_dest=ECMP, chunk=cb(2, 1)) + step(1) + step(0) +
              data(1, DRAW, raw_dest=ECMP, seqsel=2, seq=3, chunk=cb(4, 2)) +
              data(1, DRAW, raw_dest=ECMP, chunk=cb(4, 1)) + settle() +
              ack(2) + ack(3) + run()))
    return r


def router_seeds():
    s = {}
    s["two-sessions-one-message"] = up(1, 2) + data(1, D2) + settle() + ack(2) + run()
    s["failover-any"] = (up(1, 2, 3) + bye(2) + run() + clock(4) + run() +
                         data(1, DANY) + data(1, DANY) + run() + clock(5) + run() +
                         ack(3) + run())
    s["retransmit-and-reconnect"] = (up(1, 2) + data(1, D2) + data(1, D2) + run() +
                                     clock(2) + run() + clock(3) + run() + hello(2, newinst=1) +
                                     run() + ack(2) + run())
    s["two-workers-interleave"] = (up(1, 2) + data(1, D2) + data(2, D1) + step(0) + step(1) +
                                   step(0) + data(1, D2, q=1) + step(1) + run() + ack(2) +
                                   ack(1) + run())
    s["admin"] = (up(1, 2, 3) + admin(2, 1) + data(1, DANY) + run() + admin(2, 0) +
                  admin(3, 3) + data(1, DANY) + run() + admin(1, 2) + clock(4) + run() +
                  hello(1) + run())
    s["no-route-and-window"] = (up(1) + data(1, DNONE) + data(1, D2, seqsel=2, seq=5000) +
                                data(1, D3) + run() + clock(6) + run())
    s["raw-v1-hello"] = raw_udp(struct.pack(">HBBHHIIQ", 0x4757, 1, T_HELLO, 40, 0, 1, 0, 1) +
                                struct.pack(">QII", 1, 64, 0)) + run()
    s["raw-arp"] = bytes([OP_RAW, 1, 42]) + bytes(42) + run()
    s["set-key"] = (up(1, 2) + data(1, D2) + settle() + setkey(2) + run() +
                    hello(2, seal=1) + run() + data(1, D2) + settle() + hello(2) + run() +
                    settle() + ack(2) + run())
    # After a move, role 0 is the new address and role 1 the old one.
    s["move-with-data-in-flight"] = (up(1, 2) + hello(1, role=1) + data(1, D2, role=1) +
                                     data(1, D2) + run() + settle() + ack(2) + run())
    s["keepalive-answer"] = up(1) + keepalive(1) + run() + clock(4) + keepalive(1) + run()
    # Messages of several frames (PROTOCOL.md 3.1.1): chunks with
    # consecutive seqs from the group's first (next seq each time).
    s["chunks-one-group"] = (up(1, 2) + b"".join(data(1, D2, chunk=cb(3, i)) for i in range(3)) +
                             settle() + ack(2) + run())
    s["chunks-failover"] = (up(1, 2, 3) + data(1, DANY, chunk=cb(2, 0)) + bye(2) + run() +
                            clock(4) + run() + data(1, DANY, chunk=cb(2, 1)) + run() +
                            clock(5) + run() + ack(3) + run() + hello(2) + run() + ack(2) +
                            run())
    s["chunks-retransmit-mismatch"] = (
        up(1, 2) + data(1, D2, chunk=cb(3, 0)) + data(1, D2, seqsel=1, chunk=cb(3, 0)) +
        data(1, D2, chunk=cb(3, 1, mismatch=1)) + data(1, D2, chunk=cb(3, 2)) + settle() +
        clock(3) + run() + ack(2) + run())
    s["chunks-seq-max"] = (up(1, 2) + hello(1, seqmode=2, seq=U64MAX - 1) + run() +
                           data(1, D2, seqsel=2, seq=U64MAX - 1, chunk=cb(2, 0)) +
                           data(1, D2, seqsel=3, chunk=cb(2, 1)) + settle() + ack(2) + run())
    s["chunks-large"] = (up(1, 2) + data(1, D2, plen=200, chunk=cb(2, 0)) +
                         data(1, D2, plen=200, chunk=cb(2, 1)) +
                         data(1, D2, plen=201, chunk=cb(3, 0)) + settle() + ack(2) + run())
    for name, _, b in router_regressions():
        s[name] = b
    return s


def write_router():
    write("router", router_seeds())
    d = os.path.join(HERE, "corpus", "router")
    with open(os.path.join(d, "README"), "w") as f:
        f.write("fuzz_router seeds and regression inputs (written by tests/fuzz/gen_corpus.py;\n"
                "regenerate, do not edit). run.sh runs every regress-* input once before it\n"
                "fuzzes, whatever the time budget. Byte layout: fr_op() in fuzz_router.c.\n\n")
        for name, what, _ in router_regressions():
            f.write("%s\n    %s\n\n" % (name, what))


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, b in sorted(seeds.items()):
        with open(os.path.join(d, name), "wb") as f:
            f.write(b)


def main(argv):
    targets = argv[1:] or ["wire", "pkt", "router"]
    for t in targets:
        if t == "router":
            write_router()
        else:
            write(t, {"wire": wire_seeds, "pkt": pkt_seeds}[t]())


if __name__ == "__main__":
    main(sys.argv)
