#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""PROTOCOL.md section 14 (worked example, protocol version 2) and 14.1 (a
message of three chunks, section 3.1.1), computed
independently of the C code: Python's hashlib (BLAKE2b) and the
`cryptography` package (AES-256-GCM with an empty plaintext = GMAC).

test_wire.c (wire::golden_v2_*) checks the C encoders and auth.c's seal
functions against the same bytes, so the document, this script and the C
code are three witnesses of one set of values.

    python3 golden_v2.py                 # the document's blocks
    python3 golden_v2.py --c             # C arrays, as pasted into test_wire.c
    python3 golden_v2.py --check FILE    # every block present in FILE
                                         # (meson test protocol_golden)
"""
import hashlib
import struct
import sys

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:  # an independent AES-GCM is the point: skip without one
    print("python3 'cryptography' package missing: skipped")
    sys.exit(77)

# ---- the example's public values (the key is a published TEST key) --------
SECRET = bytes(range(32))             # 00 01 02 ... 1f: never use it for real
CONN = 7
NONCE = 0x9A3C71E2B45D0F86            # the connector's instance nonce
HELLO_CTR = 1796169600000000000       # 2026-12-02T00:00:00Z in ns (CLOCK_REALTIME)
EPOCH = 0x1D2C3B4A
SALT = bytes(range(0xA0, 0xB0))       # the router's salt for this session
EGRESS_T = 0x2A5F1C3B00000000         # WELCOME seq: egress base - 1, nothing sent yet
LANE_STREAM = 1


def blake2b(key, msg, n):
    return hashlib.blake2b(msg, digest_size=n, key=key).digest()


def derive(label, extra):
    return blake2b(SECRET, label.encode() + extra, 32)


HS_C2R = derive("gwart v2 hs c2r", struct.pack(">I", CONN))
HS_R2C = derive("gwart v2 hs r2c", struct.pack(">I", CONN))
SV = struct.pack(">IIQ", CONN, EPOCH, NONCE) + SALT
S_C2R = derive("gwart v2 session c2r", SV)
S_R2C = derive("gwart v2 session r2c", SV)
KEY_ID = blake2b(SECRET, b"gwart v2 key id", 32)[:8]


def hdr(typ, length, flags, sender, epoch, seq):
    return struct.pack(">HBBHHIIQ", 0x4757, 2, typ, length, flags, sender, epoch, seq)


def seal_hs(body_and_ctr, key):
    return body_and_ctr + blake2b(key, body_and_ctr, 16)


def seal_session(body_and_ctr, key):
    ctr = body_and_ctr[-8:]
    iv = b"\0\0\0\0" + ctr
    tag = AESGCM(key).encrypt(iv, b"", body_and_ctr)  # empty plaintext: tag only
    assert len(tag) == 16
    return body_and_ctr + tag


def ctr_make(lane, n):
    return (lane << 56) | n


def hello():
    body = struct.pack(">QII", NONCE, 256, 0)
    f = hdr(4, 24 + 16 + 24, 0, CONN, 0, 42) + body + struct.pack(">Q", HELLO_CTR)
    return seal_hs(f, HS_C2R)


def welcome():
    body = struct.pack(">QQIIII", NONCE, 41, 960, 1000, 3, 1153) + SALT
    f = hdr(5, 24 + 48 + 24, 0, 0, EPOCH, EGRESS_T) + body + struct.pack(">Q", HELLO_CTR)
    return seal_hs(f, HS_R2C)


DEST = b"smtp:bob@a.bc"
PAYLOAD = b"hello"


def data():
    body = struct.pack(">QIHH", 42, CONN, len(DEST), len(PAYLOAD)) + DEST + PAYLOAD
    n = 24 + len(body) + 24
    # flags RETRANSMIT: 42 was sent before, in the session that ended
    f = hdr(1, n, 0x0001, CONN, EPOCH, 42) + body + struct.pack(">Q", ctr_make(LANE_STREAM, 1))
    return seal_session(f, S_C2R)


def ack():
    body = struct.pack(">QQ", 43, 0x0A)  # the router's encoding: base = cumulative point + 1
    f = hdr(2, 64, 0, 0, EPOCH, 42) + body + struct.pack(">Q", ctr_make(LANE_STREAM, 1))
    return seal_session(f, S_R2C)


# ---- section 14.1: a message of three chunks (PROTOCOL.md 3.1.1) -----------
# After the ACK above the connector sends its next new message, 10 bytes to
# the same address, as a group of chunks of 4 bytes (chunk_len is the
# sender's choice; 4 keeps the example short): origin_seqs 47, 48, 49, the
# lane-1 counts after those of the retransmissions of 43 and 45 (2 and 3).
F_CHUNK = 0x0002
MSG = b"0123456789"
CHUNK_LEN = 4
GROUP = 47
CHUNK_CTR0 = 4


def chunk_check(group, total, count, index, chunk_len, oseq, plen):
    """PROTOCOL.md 3.1.1's rules, written from the document (not from
    wire.c): True iff the chunk is valid."""
    if not 1 <= chunk_len <= 8192 or total > 64 * 1024 * 1024:
        return False
    if count != -(-total // chunk_len) or count < 2 or index >= count:
        return False
    last = total - (count - 1) * chunk_len
    if plen != (chunk_len if index < count - 1 else last):
        return False
    return group >= 1 and oseq == group + index and group + count - 1 <= (1 << 64) - 1


def chunks():
    """The group's frames, in index order, each sealed with s.c2r."""
    count = -(-len(MSG) // CHUNK_LEN)
    out = []
    for i in range(count):
        part = MSG[i * CHUNK_LEN:(i + 1) * CHUNK_LEN]
        oseq = GROUP + i
        assert chunk_check(GROUP, len(MSG), count, i, CHUNK_LEN, oseq, len(part))
        body = struct.pack(">QIHH", oseq, CONN, len(DEST), len(part)) + DEST + part
        ext = struct.pack(">QIIII", GROUP, len(MSG), count, i, CHUNK_LEN)
        n = 24 + len(body) + len(ext) + 24
        f = hdr(1, n, F_CHUNK, CONN, EPOCH, oseq) + body + ext + \
            struct.pack(">Q", ctr_make(LANE_STREAM, CHUNK_CTR0 + i))
        out.append(seal_session(f, S_C2R))
    assert b"".join(f[53:53 + f[39]] for f in out) == MSG
    return out


def chunk_fields(i, f):
    pl = struct.unpack_from(">H", f, 38)[0]
    x = 40 + len(DEST) + pl
    last = i == len(chunks()) - 1
    return [(0, 4, "magic, version 2, type DATA"), (4, 2, "length %d" % len(f)),
            (6, 2, "flags CHUNK"), (8, 4, "sender 7"), (12, 4, "epoch 0x1d2c3b4a"),
            (16, 8, "seq %d (= origin_seq)" % (GROUP + i)),
            (24, 8, "origin_seq %d = group + index" % (GROUP + i)), (32, 4, "origin 7"),
            (36, 2, "dest_len 13"), (38, 2, "payload_len %d" % pl),
            (40, 13, '"smtp:bob@a.bc"'), (53, pl, '"%s"' % f[53:53 + pl].decode()),
            (x, 8, "group %d: origin_seq of chunk 0" % GROUP),
            (x + 8, 4, "total_len %d" % len(MSG)), (x + 12, 4, "count 3"),
            (x + 16, 4, "index %d" % i),
            (x + 20, 4, "chunk_len %d%s" % (CHUNK_LEN, " (this one: 10 - 2 * 4 = 2)"
                                             if last else "")),
            (x + 24, 8, "ctr: lane 1, count %d" % (CHUNK_CTR0 + i)),
            (x + 32, 16, TAG_S % "c2r")]


# Each rule of 3.1.1 broken once (the chunk with index 1 otherwise): the
# C parser refuses each (test_chunk.c's table has the same boundaries).
assert chunk_check(GROUP, 10, 3, 1, 4, 48, 4)
for args in [(GROUP, 10, 3, 1, 0, 48, 4), (GROUP, 10, 3, 1, 8193, 48, 4),
             (GROUP, 64 * 1024 * 1024 + 1, 3, 1, 4, 48, 4), (GROUP, 10, 4, 1, 4, 48, 4),
             (GROUP, 4, 1, 0, 4, 47, 4), (GROUP, 10, 3, 3, 4, 50, 4), (GROUP, 10, 3, 1, 4, 48, 2),
             (GROUP, 10, 3, 2, 4, 49, 4), (GROUP, 10, 3, 1, 4, 49, 4), (0, 10, 3, 1, 4, 1, 4),
             ((1 << 64) - 2, 10, 3, 0, 4, (1 << 64) - 2, 4)]:
    assert not chunk_check(*args), args


def csum16(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def on_wire(frame, src_mac, dst_mac, src_ip, dst_ip, sport, dport):
    """Ethernet II + IPv4 (DF, TTL 64, id 0) + UDP with checksum."""
    ulen = 8 + len(frame)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0,
                     bytes(src_ip), bytes(dst_ip))
    ip = ip[:10] + struct.pack(">H", csum16(ip)) + ip[12:]
    pseudo = bytes(src_ip) + bytes(dst_ip) + struct.pack(">BBH", 0, 17, ulen)
    udp = struct.pack(">HHHH", sport, dport, ulen, 0)
    c = csum16(pseudo + udp + frame) or 0xFFFF
    udp = udp[:6] + struct.pack(">H", c)
    return bytes(dst_mac) + bytes(src_mac) + b"\x08\x00" + ip + udp + frame


def hexdump(b):
    out = []
    for i in range(0, len(b), 16):
        chunk = b[i:i + 16]
        asc = "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in chunk)
        out.append("%04x  %-48s %s" % (i, " ".join("%02x" % c for c in chunk), asc))
    return "\n".join(out)


def hexline(b):
    return " ".join("%02x" % c for c in b)


def c_array(name, b):
    lines = ["static const uint8_t %s[%d] = {" % (name, len(b))]
    for i in range(0, len(b), 12):
        lines.append("\t" + " ".join("0x%02x," % c for c in b[i:i + 12]))
    lines.append("};")
    return "\n".join(lines)


FRAMES = [("hello", hello()), ("welcome", welcome()), ("data", data()), ("ack", ack())] + \
    [("chunk%d" % i, f) for i, f in enumerate(chunks())]
KEYS = [("hs_c2r", HS_C2R), ("hs_r2c", HS_R2C), ("s_c2r", S_C2R), ("s_r2c", S_R2C),
        ("key_id", KEY_ID)]

def listing(b, fields):
    """The document's field-by-field listing of one frame."""
    out = ["off  bytes                                            field"]
    for off, n, desc in fields:
        chunk = b[off:off + n]
        for i in range(0, len(chunk), 16):
            part = " ".join("%02x" % c for c in chunk[i:i + 16])
            out.append(("%3d  %-48s %s" % (off + i, part, desc if i == 0 else "")).rstrip())
    return "\n".join(out)


TAG_HS = "tag: BLAKE2b-128, key hs.%s, over bytes 0..%d"
TAG_S = "tag: AES-256-GMAC, key s.%s, IV 00000000 || ctr"
FIELDS = {
    "hello": [(0, 2, 'magic "GW"'), (2, 1, "version 2"), (3, 1, "type HELLO"),
              (4, 2, "length 64"), (6, 2, "flags 0"), (8, 4, "sender 7"), (12, 4, "epoch 0"),
              (16, 8, "seq 42: lowest origin_seq it will still send"),
              (24, 8, "nonce (instance)"), (32, 4, "rx_window 256"), (36, 4, "reserved"),
              (40, 8, "ctr: 1796169600000000000 ns (2026-12-02T00:00:00Z)"),
              (48, 16, TAG_HS % ("c2r", 47))],
    "welcome": [(0, 4, "magic, version 2, type WELCOME"), (4, 2, "length 96"),
                (6, 2, "flags 0"), (8, 4, "sender 0 (router)"), (12, 4, "epoch 0x1d2c3b4a"),
                (16, 8, "seq T: egress cumulative point (base - 1)"), (24, 8, "nonce echoed"),
                (32, 8, "router_seq 41"), (40, 4, "dup_window 960"),
                (44, 4, "keepalive_ms 1000"), (48, 4, "keepalive_mult 3"),
                (52, 4, "max_payload 1153"), (56, 16, "salt"),
                (72, 8, "ctr: the HELLO's, echoed"), (80, 16, TAG_HS % ("r2c", 79))],
    "data": [(0, 4, "magic, version 2, type DATA"), (4, 2, "length 82"),
             (6, 2, "flags RETRANSMIT"), (8, 4, "sender 7"), (12, 4, "epoch 0x1d2c3b4a"),
             (16, 8, "seq 42 (= origin_seq)"), (24, 8, "origin_seq 42"), (32, 4, "origin 7"),
             (36, 2, "dest_len 13"), (38, 2, "payload_len 5"), (40, 13, '"smtp:bob@a.bc"'),
             (53, 5, '"hello"'), (58, 8, "ctr: lane 1, count 1"), (66, 16, TAG_S % "c2r")],
    "ack": [(0, 4, "magic, version 2, type ACK"), (4, 2, "length 64"), (6, 2, "flags 0"),
            (8, 4, "sender 0 (router)"), (12, 4, "epoch 0x1d2c3b4a"),
            (16, 8, "seq: every origin_seq <= 42 taken"), (24, 8, "base 43"),
            (32, 8, "bitmap 0b1010: 44 and 46 taken"), (40, 8, "ctr: lane 1, count 1"),
            (48, 16, TAG_S % "r2c")],
}

CONN_MAC, RTR_MAC = [2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1]
CONN_IP, RTR_IP = [198, 18, 0, 2], [198, 18, 0, 1]


def doc_blocks():
    """Every block PROTOCOL.md section 14 shows, as it shows it."""
    frames = dict(FRAMES)
    blocks = ["\n".join("%-7s %s" % (n, hexline(b)) for n, b in KEYS)]
    blocks += [listing(frames[n], FIELDS[n]) for n in ("hello", "welcome", "data", "ack")]
    blocks.append(hexdump(on_wire(frames["data"], CONN_MAC, RTR_MAC, CONN_IP, RTR_IP, 40000, 4790)))
    blocks.append(hexdump(on_wire(frames["ack"], RTR_MAC, CONN_MAC, RTR_IP, CONN_IP, 4790, 40000)))
    # 14.1: the three chunks, then the first on the wire.
    blocks += [listing(f, chunk_fields(i, f)) for i, f in enumerate(chunks())]
    blocks.append(hexdump(on_wire(frames["chunk0"], CONN_MAC, RTR_MAC, CONN_IP, RTR_IP, 40000,
                                  4790)))
    return blocks


def check_doc(path):
    """Exit status 0 iff every block appears verbatim in @path (a fenced
    block of its own), so the document cannot drift from the bytes."""
    text = open(path, encoding="utf-8").read()
    bad = 0
    for b in doc_blocks():
        if ("```\n" + b + "\n```") not in text:
            print("PROTOCOL.md lacks this block (or shows other bytes):\n" + b + "\n")
            bad += 1
    print("%d of %d blocks of section 14 match" % (len(doc_blocks()) - bad, len(doc_blocks())))
    return 1 if bad else 0


if __name__ == "__main__":
    if "--c" in sys.argv:
        for n, b in KEYS:
            print(c_array("G_" + n.upper(), b))
        for n, b in FRAMES:
            print(c_array("G_" + n.upper(), b))
        sys.exit(0)
    if "--check" in sys.argv:
        sys.exit(check_doc(sys.argv[sys.argv.index("--check") + 1]))
    print("\n\n".join(doc_blocks()))
