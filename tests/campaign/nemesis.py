#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The campaign's third party (campaign.py runs it inside the test namespace,
bound to an address of its own). It knows everything but the connectors'
keys: their ids, the live epochs and seqs (given on the command line, as an
observer of the wire would learn them), and the frames on the wire.

  nemesis.py spoof ROUTER PORT BIND STATE_JSON
      frames claiming the campaign's connectors, each sent from BIND and
      again from the connector's own address and port (raw socket, when
      gwartd knows it): DATA with a payload that is
      no campaign message (a receiver that delivers one logs it "f": forged
      and accepted), ACKs for the receivers (cum, base and bitmap around the
      live egress seqs and at the edges of 2^64), HELLOs, BYEs, KEEPALIVEs,
      NACKs; every sequence field at 0, 1, 2^63, 2^64-1 and near the live
      value; epochs live, 0, live+-1 and 2^32-1.
  nemesis.py replay ROUTER PORT BIND IFACE SECS
      captures SECS seconds of the frames to the router on IFACE (AF_PACKET),
      then sends every one again, from BIND and, with a raw socket, from its
      original source address and port (an exact replay).
  nemesis.py flood KIND ROUTER PORT BIND SECS PPS
      KIND: hello (HELLOs for configured and unknown ids from 512 source
      ports), unknown (HELLO/DATA/ACK/KEEPALIVE of unconfigured ids), hugelen
      (declared lengths and body lengths that lie: up to 65535 in 64-byte
      datagrams, dest_len/payload_len beyond the datagram), random (random
      bytes, 1..1400 of them, half with the gwart magic in front).
Each prints one JSON object with what it sent on stdout (flood: after a line
"ready" once its frames are built, when the flood begins)."""
import json
import os
import random
import socket
import struct
import sys
import time

M64 = (1 << 64) - 1
VERSION = 2
T_DATA, T_ACK, T_NACK, T_HELLO, T_WELCOME, T_KEEPALIVE, T_BYE = 1, 2, 3, 4, 5, 6, 7
FORGED = b"FORGED-BY-NEMESIS" * 4


def hdr(type_, length, sender, epoch, seq, flags=0, version=VERSION):
    return struct.pack("!HBBHHIIQ", 0x4757, version, type_, length & 0xFFFF, flags,
                       sender & 0xFFFFFFFF, epoch & 0xFFFFFFFF, seq & M64)


def trailer(rng, ctr=None):
    """ctr (8) | tag (16): a counter near what a sender would use, a tag the
    attacker cannot compute."""
    if ctr is None:
        ctr = rng.choice([0, 1, (1 << 56) | 1, (1 << 56) | rng.randrange(1 << 32), M64])
    return struct.pack("!Q", ctr & M64) + bytes(rng.randrange(256) for _ in range(16))


def frame(rng, type_, sender, epoch, seq, body, flags=0):
    length = 24 + len(body) + 24
    return hdr(type_, length, sender, epoch, seq, flags) + body + trailer(rng)


def data(rng, sender, epoch, seq, dest, payload=FORGED):
    body = struct.pack("!QIHH", seq & M64, sender, len(dest), len(payload)) + dest + payload
    return frame(rng, T_DATA, sender, epoch, seq, body)


def ack(rng, sender, epoch, cum, base, bitmap):
    return frame(rng, T_ACK, sender, epoch, cum, struct.pack("!QQ", base & M64, bitmap & M64))


def nack(rng, sender, epoch, seq, reason):
    return frame(rng, T_NACK, sender, epoch, seq, struct.pack("!QHHI", seq & M64, reason, 0, 0))


def hello(rng, sender, seq, nonce, rx_window=64):
    return frame(rng, T_HELLO, sender, 0, seq, struct.pack("!QII", nonce & M64, rx_window, 0))


def keepalive(rng, sender, epoch, seq):
    return frame(rng, T_KEEPALIVE, sender, epoch, seq, b"")


def bye(rng, sender, epoch, seq):
    return frame(rng, T_BYE, sender, epoch, seq, struct.pack("!II", 0, 0))


class Sender:
    def __init__(self, router, port, bind, nsock=1):
        self.dst = (router, port)
        self.socks = []
        for _ in range(nsock):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_PMTUDISC_DO: never fragment
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
            s.bind((bind, 0))
            s.setblocking(False)
            self.socks.append(s)
        self.i = 0
        self.sent = 0
        self.errors = 0

    def send(self, b):
        s = self.socks[self.i % len(self.socks)]
        self.i += 1
        try:
            s.sendto(b, self.dst)
            self.sent += 1
        except OSError:
            self.errors += 1


def paced(secs, pps):
    """Yields once per packet at pps for secs (bursts of 16)."""
    t0 = time.monotonic()
    n = 0
    while True:
        now = time.monotonic()
        if now - t0 >= secs:
            return
        due = int((now - t0) * pps) + 1
        if n >= due:
            time.sleep(min(0.002, 16.0 / pps))
            continue
        for _ in range(min(16, due - n)):
            n += 1
            yield n


def edges(live):
    return sorted({0, 1, 2, 1 << 63, M64 - 1, M64, live & M64, (live + 1) & M64,
                   (live - 1) & M64, (live + 64) & M64, (live + (1 << 32)) & M64})


def raw_udp(raw, src, sport, dst, dport, payload, ident):
    """One UDP datagram with a source address of our choosing (IP_HDRINCL)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident & 0xFFFF, 0x4000, 64, 17, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    try:
        raw.sendto(iph + udp, (dst, 0))
        return 1
    except OSError:
        return 0


def cmd_spoof(router, port, bind, state_json):
    """state: {"connectors": [{"id", "epoch", "dest" (senders), "seq",
    "address" (IP:PORT gwartd has for it, or null)}], ...}. Every frame goes
    from BIND and, when the connector's address is known, from that address
    too (a raw socket): the second copy passes the address check and must
    fail the tag."""
    st = json.loads(state_json)
    rng = random.Random(st.get("seed", 1))
    tx = Sender(router, port, bind)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    out = {"frames": 0, "from_own_address": 0, "by_type": {}}
    src = [None]

    def send(kind, b):
        tx.send(b)
        if src[0]:
            out["from_own_address"] += raw_udp(raw, src[0][0], src[0][1], router, port, b,
                                               tx.sent)
        out["by_type"][kind] = out["by_type"].get(kind, 0) + 1
        if tx.sent % 16 == 0:
            time.sleep(0.0005)  # the tap's kernel queue is short

    for c in st["connectors"]:
        cid, ep, live = c["id"], c.get("epoch", 1), c.get("seq", 1)
        a = c.get("address")
        src[0] = (a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) if a else None
        epochs = sorted({ep, 0, ep + 1, max(ep - 1, 0), 0xFFFFFFFF, 1})
        for e in epochs:
            for s in edges(live):
                if c.get("dest"):
                    send("data", data(rng, cid, e, s, c["dest"].encode()))
                send("ack", ack(rng, cid, e, s, s, M64))
                send("ack", ack(rng, cid, e, live, (s - 1) & M64, rng.randrange(1 << 64)))
                send("nack", nack(rng, cid, e, s, rng.randrange(1, 7)))
            send("keepalive", keepalive(rng, cid, e, live))
            send("bye", bye(rng, cid, e, live))
        for s in edges(live):
            send("hello", hello(rng, cid, s, rng.randrange(1 << 64), rng.choice([0, 1, 64, 960, 65535])))
        # A version 1 frame (no trailer) as the connector: dropped, BAD_VERSION.
        send("v1", hdr(T_KEEPALIVE, 24, cid, ep, live, version=1))
    out["frames"] = tx.sent
    out["errors"] = tx.errors
    print(json.dumps(out))


def cmd_replay(router, port, bind, iface, secs):
    ETH_P_ALL = 0x0003
    cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    cap.bind((iface, 0))
    cap.settimeout(0.05)
    frames = []
    end = time.monotonic() + secs
    while time.monotonic() < end and len(frames) < 20000:
        try:
            pkt, addr = cap.recvfrom(65535)
        except socket.timeout:
            continue
        # addr[2]: PACKET_OUTGOING (4) = sent by the kernel towards gwartd.
        if addr[2] != 4 or len(pkt) < 14 + 20 + 8 or pkt[12:14] != b"\x08\x00":
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17:
            continue
        src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        sport, dport = struct.unpack("!HH", ip[ihl:ihl + 4])
        if dst != router or dport != port or src == bind:
            continue
        frames.append((src, sport, bytes(ip[ihl + 8:])))
    cap.close()
    tx = Sender(router, port, bind)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    exact = 0
    for i, (src, sport, payload) in enumerate(frames):
        tx.send(payload)
        exact += raw_udp(raw, src, sport, router, port, payload, i)
        if i % 16 == 0:
            time.sleep(0.0005)
    by_type = {}
    for _, _, p in frames:
        if len(p) >= 4:
            by_type[str(p[3])] = by_type.get(str(p[3]), 0) + 1
    print(json.dumps({"captured": len(frames), "from_third": tx.sent, "exact": exact,
                      "by_type": by_type}))


def cmd_flood(kind, router, port, bind, secs, pps, ids):
    rng = random.Random(os.getpid())
    tx = Sender(router, port, bind, nsock=512 if kind == "hello" else 4)
    # Pre-built frames: the flood's cost is the router's, not Python's.
    pool = []
    for i in range(4096):
        if kind == "hello":
            cid = rng.choice(ids + [rng.randrange(1000, 1 << 32)])
            pool.append(hello(rng, cid, rng.randrange(1 << 64), rng.randrange(1 << 64)))
        elif kind == "unknown":
            cid = rng.randrange(1000, 1 << 32)
            t = rng.choice([T_HELLO, T_DATA, T_ACK, T_KEEPALIVE, T_BYE])
            if t == T_HELLO:
                pool.append(hello(rng, cid, rng.randrange(1 << 64), rng.randrange(1 << 64)))
            elif t == T_DATA:
                pool.append(data(rng, cid, rng.randrange(1 << 32), rng.randrange(1 << 64),
                                 b"smtp:x@p1.example"))
            elif t == T_ACK:
                pool.append(ack(rng, cid, rng.randrange(1 << 32), rng.randrange(1 << 64),
                                rng.randrange(1 << 64), rng.randrange(1 << 64)))
            elif t == T_KEEPALIVE:
                pool.append(keepalive(rng, cid, rng.randrange(1 << 32), 1))
            else:
                pool.append(bye(rng, cid, rng.randrange(1 << 32), 1))
        elif kind == "hugelen":
            cid = rng.choice(ids)
            t = rng.choice([T_DATA, T_ACK, T_HELLO, T_KEEPALIVE])
            if t == T_DATA:
                b = bytearray(data(rng, cid, 1, rng.randrange(1 << 64), b"smtp:x@p1.example"))
                struct.pack_into("!HH", b, 24 + 12, rng.choice([255, 1000, 65535]),
                                 rng.choice([8192, 65535, 60000]))
            else:
                b = bytearray(frame(rng, t, cid, 1, 1, bytes(16)))
            struct.pack_into("!H", b, 4, rng.choice([65535, 9000, 8487, 8488, len(b) + 1,
                                                     len(b) * 2, 25]))
            pool.append(bytes(b))
        elif kind == "random":
            n = rng.randrange(1, 1400)
            b = os.urandom(n)
            if rng.random() < 0.5:
                b = struct.pack("!HB", 0x4757, VERSION) + b
            pool.append(b)
        else:
            raise SystemExit(f"nemesis: unknown flood {kind}")
    print("ready", flush=True)  # the runner starts its measurement now
    for n in paced(secs, pps):
        tx.send(pool[n % len(pool)])
    print(json.dumps({"kind": kind, "sent": tx.sent, "errors": tx.errors, "secs": secs,
                      "pps": pps}))


def main(a):
    if len(a) >= 5 and a[0] == "spoof":
        cmd_spoof(a[1], int(a[2]), a[3], a[4])
    elif len(a) >= 6 and a[0] == "replay":
        cmd_replay(a[1], int(a[2]), a[3], a[4], float(a[5]))
    elif len(a) >= 7 and a[0] == "flood":
        ids = [int(x) for x in a[7].split(",")] if len(a) > 7 else [1, 2]
        cmd_flood(a[1], a[2], int(a[3]), a[4], float(a[5]), int(a[6]), ids)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
