#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Read a pcapng file (the format's own block rules, written here from the
# specification, not by gwart's code: draft-ietf-opsawg-pcapng) and print
# one JSON object per Enhanced Packet Block, the gwart header decoded
# (include/gwart/PROTOCOL.md) where the frame is IPv4/UDP on port 4790:
#   {"dir": "in"|"out"|"?", "if": N, "caplen": N, "origlen": N,
#    "src": "IP:PORT", "dst": "IP:PORT", "type": T, "sender": ID,
#    "origin": ID, "origin_seq": S, "payload_len": N}   (last three: DATA)
# then a last line {"summary": {...}}: blocks by type, interfaces, the
# file's size. Refuses (exit 1) a file whose blocks do not chain exactly to
# its end, whose block lengths disagree, or that has no section header.
#   pcapng_frames.py FILE [GWART_UDP_PORT]
import json
import socket
import struct
import sys

SHB, IDB, EPB = 0x0A0D0D0A, 0x00000001, 0x00000006
GW_MAGIC = 0x4757  # include/gwart/wire.h GW_WIRE_MAGIC, checked below


def die(msg):
    print("pcapng_frames: " + msg, file=sys.stderr)
    sys.exit(1)


def options(buf):
    """pcapng options: (code, value) until opt_endofopt."""
    out, off = [], 0
    while off + 4 <= len(buf):
        code, ln = struct.unpack_from("<HH", buf, off)
        if code == 0:
            break
        out.append((code, buf[off + 4:off + 4 + ln]))
        off += 4 + ((ln + 3) & ~3)
    return out


def decode(data, port):
    f = {}
    if len(data) < 14 + 20 + 8 or data[12:14] != b"\x08\x00":
        return f
    ihl = (data[14] & 0x0F) * 4
    if data[14 + 9] != 17:
        return f
    ip = data[14:14 + ihl]
    udp = 14 + ihl
    sport, dport, ulen = struct.unpack_from("!HHH", data, udp)
    f["src"] = "%s:%d" % (socket.inet_ntoa(ip[12:16]), sport)
    f["dst"] = "%s:%d" % (socket.inet_ntoa(ip[16:20]), dport)
    if port not in (sport, dport):
        return f
    gw = udp + 8
    if len(data) < gw + 24:
        return f
    magic, ver, typ, length, flags, sender, epoch, seq = struct.unpack_from("!HBBHHIIQ", data, gw)
    f.update(type=typ, sender=sender, epoch=epoch, seq=seq, length=length, magic=magic)
    if typ == 1 and len(data) >= gw + 24 + 16:
        oseq, origin, dlen, plen = struct.unpack_from("!QIHH", data, gw + 24)
        f.update(origin=origin, origin_seq=oseq, dest_len=dlen, payload_len=plen)
    return f


def main():
    path = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 4790
    blob = open(path, "rb").read()
    off, counts, ifaces, frames = 0, {}, [], []
    if len(blob) < 12 or struct.unpack_from("<I", blob, 0)[0] != SHB:
        die("%s: no section header block" % path)
    if struct.unpack_from("<I", blob, 8)[0] != 0x1A2B3C4D:
        die("%s: not little-endian or a bad byte-order magic" % path)
    while off < len(blob):
        if off + 12 > len(blob):
            die("%s: truncated block at %d" % (path, off))
        btype, blen = struct.unpack_from("<II", blob, off)
        if blen < 12 or blen % 4 or off + blen > len(blob):
            die("%s: block at %d: bad length %d" % (path, off, blen))
        if struct.unpack_from("<I", blob, off + blen - 4)[0] != blen:
            die("%s: block at %d: trailing length differs" % (path, off))
        body = blob[off + 8:off + blen - 4]
        counts[btype] = counts.get(btype, 0) + 1
        if btype == IDB:
            link, _, snap = struct.unpack_from("<HHI", body, 0)
            name = ""
            for code, val in options(body[8:]):
                if code == 2:
                    name = val.decode(errors="replace")
            ifaces.append({"linktype": link, "snaplen": snap, "name": name})
        elif btype == EPB:
            ifid, _, _, cap, orig = struct.unpack_from("<IIIII", body, 0)
            data = body[20:20 + cap]
            opts = options(body[20 + ((cap + 3) & ~3):])
            d = "?"
            for code, val in opts:
                if code == 2 and len(val) >= 4:
                    fl = struct.unpack_from("<I", val)[0] & 3
                    d = {1: "in", 2: "out"}.get(fl, "?")
            if ifid >= len(ifaces):
                die("%s: packet on interface %d of %d" % (path, ifid, len(ifaces)))
            fr = {"dir": d, "if": ifid, "caplen": cap, "origlen": orig}
            fr.update(decode(data, port))
            if fr.get("magic", GW_MAGIC) != GW_MAGIC:
                fr.pop("type", None)
            fr.pop("magic", None)
            frames.append(fr)
        off += blen
    if counts.get(SHB, 0) != 1:
        die("%s: %d section headers" % (path, counts.get(SHB, 0)))
    for fr in frames:
        print(json.dumps(fr))
    print(json.dumps({"summary": {"blocks": {str(k): v for k, v in counts.items()},
                                  "interfaces": ifaces, "packets": len(frames),
                                  "size": len(blob)}}))


main()
