/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwforge: a frame forger for the hostile integration tests. It reads one
 * command per line on stdin and answers each with lines on stdout ending in
 * "ok ..." or "err ...", so that a test script (python3) holds the logic and
 * this tool holds every byte and every tag.
 *
 * Why a C tool: the tags must come from the one implementation the router,
 * the SDK and the bench use (include/gwart/auth.h over libsodium), never
 * from a second one written in a test language. Frames are packed here by
 * hand (struct gw_wire_* from wire.h) rather than by gw_wire_encode_*,
 * because the tests need exactly the values the encoders refuse (seq 0,
 * version 1, a HELLO from sender 0, lengths that lie).
 *
 * Commands (NAME a small integer naming a socket; numbers decimal or 0x):
 *   key ID HEX|BASE64            a connector's secret K (handshake keys derived)
 *   keyfile ID PATH              the same from a key file
 *   keyid ID                     its fingerprint, as gwartd lists it: the
 *                                first 8 bytes of BLAKE2b-256(key=K,
 *                                "gwart v2 key id"), hex
 *   session ID EPOCH NONCE SALT_HEX
 *                                session keys as if that WELCOME had been
 *                                accepted (counters reset); for guesses
 *   sock NAME IP PORT [id=ID]    a UDP socket bound there (PORT 0: any);
 *                                id: whose keys check the router's frames
 *   connect NAME IP:PORT id=ID [nonce=N] [seq=S] [rx_window=W] [timeout_ms=T
 *                                (10000)]
 *                                HELLO (sealed with hs.c2r, ctr = clock),
 *                                wait for the WELCOME, check it (hs.r2c
 *                                tag, nonce and ctr echo), derive the
 *                                session keys: "ok epoch=E ..."
 *   send NAME IP:PORT FIELD=VALUE...
 *                                one frame (or count=N of them); see
 *                                build_frame() for the fields (DATA with
 *                                group=G [index= ccount= chunk_len=
 *                                total_len=]: a chunk); seal=auto
 *                                (default) seals as a connector would;
 *                                show=1 prints the last frame's bytes,
 *                                dry=1 builds without sending
 *   sendhex NAME IP:PORT HEX [spoof=IP:PORT]
 *   replay NAME IP:PORT FILE [dir=U|D] [type=T] [sender=ID] [limit=N]
 *          [spoof=IP:PORT]       datagrams of a faultlink --capture file
 *   flood IP IP:PORT n=N FIELD=VALUE... | hex=HEX
 *                                N sockets on IP, ephemeral ports, one
 *                                frame each (built afresh: ctr=auto moves;
 *                                hex: the same captured bytes each time)
 *   recv NAME MS [max=N]         every datagram for MS ms: one "frame ..."
 *                                line each (up to max), tags checked, then
 *                                "ok n=N" with counts by type
 *   keepalive NAME IP:PORT id=ID ms=MS
 *                                a sealed KEEPALIVE every MS ms from then on
 *                                (between and during commands), as a live
 *                                connector sends; ms=0 stops it
 *   sleep MS
 *   quit
 * spoof=IP:PORT sends through a raw socket with that source address: the
 * tests use it to send from a session's own address and port (in use by
 * the real connector or relay), where only the tag can refuse the frame.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#define GF_MAX_CONN 64
#define GF_MAX_SOCK 64
#define GF_MAX_ARGS 48
#define GF_LINE 65536
#define GF_BUF (GW_FRAME_MAX + 4096) /* room for frames that lie about themselves */

struct gf_conn {
	bool used, has_key, has_session;
	uint32_t id;
	uint8_t k[GW_KEY_LEN];
	struct gw_hs_keys hs;
	uint32_t epoch;
	uint64_t nonce;
	uint8_t salt[GW_SALT_LEN];
	struct gw_gmac_key c2r, r2c;
	uint64_t tx_count[GW_LANE_COUNT]; /* last ctr count sent per lane */
	uint64_t last_hello_ctr;          /* newest HELLO ctr sent */
	uint64_t last_welcome_ctr;
};

struct gf_sock {
	int fd;
	uint32_t id; /* connector whose keys check what the router sends here */
};

static struct gf_conn conns[GF_MAX_CONN];
static struct gf_sock socks[GF_MAX_SOCK];
static uint64_t hs_clock_last;
static int raw_fd = -1;

/* Keepalives a live connector would send on its own (cmd_keepalive). */
struct gf_keep {
	bool on;
	int sock;
	uint32_t id;
	struct sockaddr_in dst;
	uint64_t every_ms, next_ms, sent;
};
static struct gf_keep keeps[GF_MAX_SOCK];
static void keepalive_tick(void);

/* ---- helpers ------------------------------------------------------------ */

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return (errno || *end) ? -EINVAL : 0;
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	uint64_t port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	if (parse_u64(colon + 1, &port) < 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex text into bytes: the count, or -EINVAL. */
static ssize_t parse_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > cap)
		return -EINVAL;
	for (i = 0; i < n / 2; i++) {
		int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);

		if (h < 0 || l < 0)
			return -EINVAL;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return (ssize_t)(n / 2);
}

static void print_hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

static struct gf_conn *conn_get(uint32_t id, bool create)
{
	struct gf_conn *free_slot = NULL;

	for (int i = 0; i < GF_MAX_CONN; i++) {
		if (conns[i].used && conns[i].id == id)
			return &conns[i];
		if (!conns[i].used && !free_slot)
			free_slot = &conns[i];
	}
	if (!create || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = true;
	free_slot->id = id;
	return free_slot;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The handshake clock: CLOCK_REALTIME ns, strictly increasing in this
 * process, as a connector's HELLO ctr must be (PROTOCOL.md). */
static uint64_t hs_clock(void)
{
	uint64_t now = realtime_ns();

	hs_clock_last = now > hs_clock_last ? now : hs_clock_last + 1;
	return hs_clock_last;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void session_set(struct gf_conn *c, uint32_t epoch, uint64_t nonce,
			const uint8_t salt[GW_SALT_LEN])
{
	struct gw_session_keys sk;

	gw_auth_derive_session(c->k, c->id, epoch, nonce, salt, &sk);
	gw_gmac_key_init(&c->c2r, sk.c2r);
	gw_gmac_key_init(&c->r2c, sk.r2c);
	gw_auth_wipe(&sk, sizeof(sk));
	c->epoch = epoch;
	c->nonce = nonce;
	memcpy(c->salt, salt, GW_SALT_LEN);
	c->tx_count[0] = c->tx_count[1] = 0;
	c->has_session = true;
}

/* ---- key=value arguments ------------------------------------------------ */

struct gf_args {
	int n;
	char *k[GF_MAX_ARGS], *v[GF_MAX_ARGS];
};

static void args_split(struct gf_args *a, char **tok, int ntok)
{
	a->n = 0;
	for (int i = 0; i < ntok && a->n < GF_MAX_ARGS; i++) {
		char *eq = strchr(tok[i], '=');

		a->k[a->n] = tok[i];
		a->v[a->n] = eq ? eq + 1 : (char *)"";
		if (eq)
			*eq = 0;
		a->n++;
	}
}

static const char *arg_str(const struct gf_args *a, const char *k)
{
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->k[i], k))
			return a->v[i];
	return NULL;
}

/* A numeric argument: *ok cleared on a malformed value. */
static uint64_t arg_u64(const struct gf_args *a, const char *k, uint64_t def, bool *ok)
{
	const char *s = arg_str(a, k);
	uint64_t v;

	if (!s)
		return def;
	if (parse_u64(s, &v) < 0) {
		*ok = false;
		return def;
	}
	return v;
}

static int type_parse(const char *s)
{
	static const char *const names[] = { NULL, "DATA", "ACK", "NACK", "HELLO", "WELCOME",
					     "KEEPALIVE", "BYE" };
	uint64_t v;

	for (int t = 1; t <= (int)GW_T_MAX; t++)
		if (!strcasecmp(s, names[t]))
			return t;
	return parse_u64(s, &v) == 0 && v <= 255 ? (int)v : -1;
}

/* ---- building frames ---------------------------------------------------- */

/*
 * Fields (defaults in brackets): type, magic [0x4757], version [2],
 * flags [0], sender [0 for WELCOME, else key or 1], epoch [the session's,
 * 0 for HELLO/WELCOME], seq [1], length [the true one], ctr [auto],
 * seal [auto: none|hs|session|auto|zero|flip], dir [c2r; WELCOME r2c],
 * key [sender: whose keys seal], body fields per type: DATA origin [sender]
 * origin_seq [seq] dest [smtp:x@forge.example] payload_len [16] payload
 * [hex, else payload_byte, default 'f'], and with group= a chunk extension
 * after the payload (PROTOCOL.md 3.1.1: group total_len count index
 * chunk_len [0], written as given; flags=2 is the caller's, so that the
 * flag and the extension can be forged apart); ACK base [0] bitmap [0]; NACK
 * origin_seq reason [1] retry [0] reserved [0]; HELLO nonce [1]
 * rx_window [64] reserved [0]; WELCOME nonce router_seq dup_window [64]
 * keepalive_ms [1000] keepalive_mult [3] max_payload [1024] salt [zeros];
 * BYE reason [0]. extra=N appends N zero bytes after the frame (length
 * unchanged: a datagram longer than its frame).
 * Returns the datagram's length, or 0 with *err set. *ctr_out: the ctr
 * written.
 */
static size_t build_frame(uint8_t *buf, size_t cap, const struct gf_args *a, const char **err,
			  uint64_t *ctr_out)
{
	const char *ts = arg_str(a, "type"), *seal = arg_str(a, "seal"), *dir = arg_str(a, "dir");
	const char *s;
	bool ok = true, r2c, chunk = false;
	int type;
	uint8_t payload[GW_FRAME_MAX];
	size_t body = 0, len, plen = 0, dlen;
	struct gw_wire_hdr *h = (struct gw_wire_hdr *)buf;
	uint8_t *b = buf + GW_HDR_LEN;
	struct gf_conn *c;
	uint32_t sender, epoch, keyid;
	uint64_t ctr, seq, extra;

	*err = NULL;
	if (!ts || (type = type_parse(ts)) < 0) {
		*err = "type missing or unknown";
		return 0;
	}
	r2c = dir ? !strcmp(dir, "r2c") : type == GW_T_WELCOME;
	sender = (uint32_t)arg_u64(a, "sender", type == GW_T_WELCOME ? 0 : 1, &ok);
	keyid = (uint32_t)arg_u64(a, "key", sender, &ok);
	c = conn_get(keyid, false);
	epoch = (uint32_t)arg_u64(a, "epoch",
				  (type == GW_T_HELLO || type == GW_T_WELCOME || !c || !c->has_session)
					  ? 0
					  : c->epoch,
				  &ok);
	seq = arg_u64(a, "seq", 1, &ok);
	memset(buf, 0, cap < GF_BUF ? cap : GF_BUF);
	switch (type) {
	case GW_T_DATA: {
		struct gw_wire_data d;
		const char *dest = arg_str(a, "dest");
		const char *ph = arg_str(a, "payload");

		if (!dest)
			dest = "smtp:x@forge.example";
		dlen = strlen(dest);
		if (ph) {
			ssize_t r = parse_hex(ph, payload, sizeof(payload));

			if (r < 0) {
				*err = "payload: not hex";
				return 0;
			}
			plen = (size_t)r;
		} else {
			plen = arg_u64(a, "payload_len", 16, &ok);
			if (plen > sizeof(payload)) {
				*err = "payload_len too large for this tool";
				return 0;
			}
			memset(payload, (int)arg_u64(a, "payload_byte", 'f', &ok), plen);
		}
		if (GW_HDR_LEN + GW_DATA_FIXED_LEN + dlen + plen + GW_TRAILER_LEN > cap) {
			*err = "frame too large";
			return 0;
		}
		d.origin_seq = htobe64(arg_u64(a, "origin_seq", seq, &ok));
		d.origin = htobe32((uint32_t)arg_u64(a, "origin", sender, &ok));
		d.dest_len = htobe16((uint16_t)arg_u64(a, "dest_len", dlen, &ok));
		d.payload_len = htobe16((uint16_t)arg_u64(a, "payload_len_field", plen, &ok));
		memcpy(b, &d, sizeof(d));
		memcpy(b + sizeof(d), dest, dlen);
		memcpy(b + sizeof(d) + dlen, payload, plen);
		body = sizeof(d) + dlen + plen;
		/* group=G: a chunk, its extension after the payload, every
		 * field as given (the tests send what the encoder refuses
		 * too); GW_F_CHUNK set unless flags= says otherwise. The chunk
		 * count is ccount= (count= when ccount= is not given, though
		 * count= is also how many frames send sends). */
		if (arg_str(a, "group")) {
			struct gw_wire_chunk x = {
				htobe64(arg_u64(a, "group", 0, &ok)),
				htobe32((uint32_t)arg_u64(a, "total_len", 0, &ok)),
				htobe32((uint32_t)arg_u64(a, "ccount", arg_u64(a, "count", 0, &ok), &ok)),
				htobe32((uint32_t)arg_u64(a, "index", 0, &ok)),
				htobe32((uint32_t)arg_u64(a, "chunk_len", 0, &ok)),
			};

			if (GW_HDR_LEN + body + sizeof(x) + GW_TRAILER_LEN > cap) {
				*err = "frame too large";
				return 0;
			}
			memcpy(b + body, &x, sizeof(x));
			body += sizeof(x);
			chunk = true;
		}
		break;
	}
	case GW_T_ACK: {
		struct gw_wire_ack k = { htobe64(arg_u64(a, "base", 0, &ok)),
					 htobe64(arg_u64(a, "bitmap", 0, &ok)) };

		memcpy(b, &k, sizeof(k));
		body = sizeof(k);
		break;
	}
	case GW_T_NACK: {
		struct gw_wire_nack k = { htobe64(arg_u64(a, "origin_seq", seq, &ok)),
					  htobe16((uint16_t)arg_u64(a, "reason", 1, &ok)),
					  htobe16((uint16_t)arg_u64(a, "reserved", 0, &ok)),
					  htobe32((uint32_t)arg_u64(a, "retry", 0, &ok)) };

		memcpy(b, &k, sizeof(k));
		body = sizeof(k);
		break;
	}
	case GW_T_HELLO: {
		struct gw_wire_hello k = { htobe64(arg_u64(a, "nonce", 1, &ok)),
					   htobe32((uint32_t)arg_u64(a, "rx_window", 64, &ok)),
					   htobe32((uint32_t)arg_u64(a, "reserved", 0, &ok)) };

		memcpy(b, &k, sizeof(k));
		body = sizeof(k);
		break;
	}
	case GW_T_WELCOME: {
		struct gw_wire_welcome k;

		memset(&k, 0, sizeof(k));
		k.nonce = htobe64(arg_u64(a, "nonce", 1, &ok));
		k.router_seq = htobe64(arg_u64(a, "router_seq", 0, &ok));
		k.dup_window = htobe32((uint32_t)arg_u64(a, "dup_window", 64, &ok));
		k.keepalive_ms = htobe32((uint32_t)arg_u64(a, "keepalive_ms", 1000, &ok));
		k.keepalive_mult = htobe32((uint32_t)arg_u64(a, "keepalive_mult", 3, &ok));
		k.max_payload = htobe32((uint32_t)arg_u64(a, "max_payload", 1024, &ok));
		if ((s = arg_str(a, "salt")) && parse_hex(s, k.salt, GW_SALT_LEN) != GW_SALT_LEN) {
			*err = "salt: 32 hex digits";
			return 0;
		}
		memcpy(b, &k, sizeof(k));
		body = sizeof(k);
		break;
	}
	case GW_T_KEEPALIVE:
		body = 0;
		break;
	case GW_T_BYE: {
		struct gw_wire_bye k = { htobe32((uint32_t)arg_u64(a, "reason", 0, &ok)), 0 };

		memcpy(b, &k, sizeof(k));
		body = sizeof(k);
		break;
	}
	default: /* an unknown type: a body of body_len zero bytes */
		body = arg_u64(a, "body_len", 16, &ok);
		if (GW_HDR_LEN + body + GW_TRAILER_LEN > cap) {
			*err = "body_len too large";
			return 0;
		}
		break;
	}
	len = GW_HDR_LEN + body + GW_TRAILER_LEN;

	/* The trailer's counter: as the sender would choose it unless told. */
	s = arg_str(a, "ctr");
	if (s && strcmp(s, "auto")) {
		if (parse_u64(s, &ctr) < 0) {
			*err = "ctr: a number or auto";
			return 0;
		}
	} else if (gw_frame_is_handshake((unsigned)type, epoch)) {
		ctr = hs_clock();
	} else {
		unsigned lane = gw_type_lane((unsigned)type);

		ctr = gw_ctr_make(lane, c ? ++c->tx_count[lane] : 1);
	}
	if (type == GW_T_HELLO && c && ctr > c->last_hello_ctr)
		c->last_hello_ctr = ctr;
	*ctr_out = ctr;

	h->magic = htobe16((uint16_t)arg_u64(a, "magic", GW_WIRE_MAGIC, &ok));
	h->version = (uint8_t)arg_u64(a, "version", GW_WIRE_VERSION, &ok);
	h->type = (uint8_t)type;
	h->length = htobe16((uint16_t)arg_u64(a, "length", len, &ok));
	h->flags = htobe16((uint16_t)arg_u64(a, "flags", chunk ? GW_F_CHUNK : 0, &ok));
	h->sender = htobe32(sender);
	h->epoch = htobe32(epoch);
	h->seq = htobe64(seq);
	ctr = htobe64(ctr);
	memcpy(buf + len - GW_TRAILER_LEN, &ctr, GW_CTR_LEN);
	if (!ok) {
		*err = "a field's value is not a number";
		return 0;
	}

	/* The tag. */
	if (!seal || !strcmp(seal, "auto"))
		seal = gw_frame_is_handshake((unsigned)type, epoch) ? "hs" : "session";
	if (!strcmp(seal, "hs")) {
		if (!c || !c->has_key) {
			*err = "seal=hs: no key for that connector";
			return 0;
		}
		gw_auth_seal_hs(buf, len, r2c ? c->hs.r2c : c->hs.c2r);
	} else if (!strcmp(seal, "session")) {
		if (!c || !c->has_session) {
			*err = "seal=session: no session for that connector";
			return 0;
		}
		gw_auth_seal_session(buf, len, r2c ? &c->r2c : &c->c2r);
	} else if (!strcmp(seal, "flip")) { /* a valid tag, one bit wrong */
		if (c && c->has_session && !gw_frame_is_handshake((unsigned)type, epoch))
			gw_auth_seal_session(buf, len, r2c ? &c->r2c : &c->c2r);
		else if (c && c->has_key)
			gw_auth_seal_hs(buf, len, r2c ? c->hs.r2c : c->hs.c2r);
		buf[len - 1] ^= 0x01;
	} else if (strcmp(seal, "none") && strcmp(seal, "zero")) {
		*err = "seal: auto|hs|session|flip|none";
		return 0;
	}
	extra = arg_u64(a, "extra", 0, &ok);
	if (len + extra > cap) {
		*err = "extra too large";
		return 0;
	}
	len += extra; /* zeros already there */
	return len;
}

/* ---- sending ------------------------------------------------------------ */

static uint16_t csum_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t csum_add(uint32_t s, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	return s;
}

/* One datagram from @src (any address and port) to @dst through a raw
 * socket: the kernel fills the IP checksum, we the UDP one. DF set. */
static int send_spoofed(const struct sockaddr_in *src, const struct sockaddr_in *dst,
			const uint8_t *data, size_t len)
{
	uint8_t pkt[20 + 8 + GF_BUF];
	struct iphdr *ip = (struct iphdr *)pkt;
	struct udphdr *udp = (struct udphdr *)(pkt + 20);
	uint8_t pseudo[12];
	uint32_t s;

	if (len > GF_BUF)
		return -EMSGSIZE;
	if (raw_fd < 0) {
		raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (raw_fd < 0)
			return -errno;
	}
	memset(pkt, 0, 28);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->frag_off = htons(IP_DF);
	ip->tot_len = htons((uint16_t)(28 + len));
	ip->saddr = src->sin_addr.s_addr;
	ip->daddr = dst->sin_addr.s_addr;
	udp->source = src->sin_port;
	udp->dest = dst->sin_port;
	udp->len = htons((uint16_t)(8 + len));
	memcpy(pkt + 28, data, len);
	memcpy(pseudo, &ip->saddr, 4);
	memcpy(pseudo + 4, &ip->daddr, 4);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_UDP;
	memcpy(pseudo + 10, &udp->len, 2);
	s = csum_add(0, pseudo, sizeof(pseudo));
	s = csum_add(s, udp, 8 + len);
	udp->check = htons(csum_fold(s));
	if (udp->check == 0)
		udp->check = 0xffff;
	if (sendto(raw_fd, pkt, 28 + len, 0, (const struct sockaddr *)dst, sizeof(*dst)) < 0)
		return -errno;
	return 0;
}

static int send_dgram(int fd, const struct sockaddr_in *dst, const char *spoof,
		      const uint8_t *data, size_t len)
{
	if (spoof) {
		struct sockaddr_in src;

		if (parse_addr(spoof, &src) < 0)
			return -EINVAL;
		return send_spoofed(&src, dst, data, len);
	}
	for (int tries = 0; tries < 1000; tries++) {
		if (sendto(fd, data, len, 0, (const struct sockaddr *)dst, sizeof(*dst)) >= 0)
			return 0;
		if (errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED)
			return -errno;
		usleep(100); /* a full queue: wait, the tests count every frame */
	}
	return -EAGAIN;
}

static struct gf_sock *sock_get(const char *name)
{
	uint64_t i;

	if (parse_u64(name, &i) < 0 || i >= GF_MAX_SOCK || socks[i].fd < 0)
		return NULL;
	return &socks[i];
}

static int udp_open(const char *ip, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, df = IP_PMTUDISC_DO, bufsz = 4 << 20;

	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Never fragment: a frame larger than the path must stay one
	 * datagram (the router's TOO_BIG and PORT_RX checks see it whole). */
	setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &df, sizeof(df));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

/* ---- receiving ---------------------------------------------------------- */

/* What the receiver of a router frame would say of its tag. */
static const char *tag_verdict(const uint8_t *b, size_t n, uint32_t id)
{
	struct gf_conn *c = conn_get(id, false);
	const struct gw_wire_hdr *h = (const void *)b;
	uint16_t flen;

	if (n < GW_HDR_LEN + GW_TRAILER_LEN)
		return "short";
	flen = be16toh(h->length);
	if (flen > n || flen < GW_HDR_LEN + GW_TRAILER_LEN)
		return "short";
	if (!c || !c->has_key)
		return "nokey";
	if (gw_frame_is_handshake(h->type, be32toh(h->epoch)))
		return gw_auth_check_hs(b, flen, c->hs.r2c) ? "ok" : "bad";
	if (!c->has_session || be32toh(h->epoch) != c->epoch)
		return "nosession";
	return gw_auth_check_session(b, flen, &c->r2c) ? "ok" : "bad";
}

/* One line describing a received datagram (raw decode: nothing refused). */
static void print_frame(const uint8_t *b, size_t n, const struct sockaddr_in *from, uint32_t id)
{
	char ip[INET_ADDRSTRLEN];
	const struct gw_wire_hdr *h = (const void *)b;
	const uint8_t *body = b + GW_HDR_LEN;
	uint16_t flen;
	uint64_t ctr;

	inet_ntop(AF_INET, &from->sin_addr, ip, sizeof(ip));
	printf("frame from=%s:%u n=%zu", ip, ntohs(from->sin_port), n);
	if (n < GW_HDR_LEN) {
		printf(" type=0 short=1\n");
		return;
	}
	flen = be16toh(h->length);
	printf(" magic=%u version=%u type=%u length=%u flags=%u sender=%" PRIu32
	       " epoch=%" PRIu32 " seq=%" PRIu64,
	       be16toh(h->magic), h->version, h->type, flen, be16toh(h->flags),
	       be32toh(h->sender), be32toh(h->epoch), be64toh(h->seq));
	if (flen >= GW_HDR_LEN + GW_TRAILER_LEN && flen <= n) {
		memcpy(&ctr, b + flen - GW_TRAILER_LEN, 8);
		printf(" ctr=%" PRIu64, be64toh(ctr));
	}
	printf(" auth=%s", tag_verdict(b, n, id));
	switch (h->type) {
	case GW_T_DATA:
		if (n >= GW_HDR_LEN + GW_DATA_FIXED_LEN) {
			struct gw_wire_data d;

			memcpy(&d, body, sizeof(d));
			printf(" origin=%" PRIu32 " origin_seq=%" PRIu64 " dest_len=%u payload_len=%u",
			       be32toh(d.origin), be64toh(d.origin_seq), be16toh(d.dest_len),
			       be16toh(d.payload_len));
			/* A chunk: its extension, after the payload. */
			if ((be16toh(h->flags) & GW_F_CHUNK) &&
			    n >= GW_HDR_LEN + GW_DATA_FIXED_LEN + (size_t)be16toh(d.dest_len) +
					 be16toh(d.payload_len) + GW_CHUNK_EXT_LEN) {
				struct gw_wire_chunk x;

				memcpy(&x, body + GW_DATA_FIXED_LEN + be16toh(d.dest_len) +
						   be16toh(d.payload_len),
				       sizeof(x));
				printf(" group=%" PRIu64 " total_len=%u count=%u index=%u chunk_len=%u",
				       be64toh(x.group), be32toh(x.total_len), be32toh(x.count),
				       be32toh(x.index), be32toh(x.chunk_len));
			}
		}
		break;
	case GW_T_ACK:
		if (n >= GW_HDR_LEN + GW_ACK_BODY_LEN) {
			struct gw_wire_ack k;

			memcpy(&k, body, sizeof(k));
			printf(" base=%" PRIu64 " bitmap=%" PRIu64, be64toh(k.base),
			       be64toh(k.bitmap));
		}
		break;
	case GW_T_NACK:
		if (n >= GW_HDR_LEN + GW_NACK_BODY_LEN) {
			struct gw_wire_nack k;

			memcpy(&k, body, sizeof(k));
			printf(" origin_seq=%" PRIu64 " reason=%u retry=%" PRIu32,
			       be64toh(k.origin_seq), be16toh(k.reason), be32toh(k.retry_after_us));
		}
		break;
	case GW_T_WELCOME:
		if (n >= GW_HDR_LEN + GW_WELCOME_BODY_LEN) {
			struct gw_wire_welcome k;

			memcpy(&k, body, sizeof(k));
			printf(" nonce=%" PRIu64 " router_seq=%" PRIu64 " dup_window=%" PRIu32
			       " keepalive_ms=%" PRIu32 " keepalive_mult=%" PRIu32
			       " max_payload=%" PRIu32 " salt=",
			       be64toh(k.nonce), be64toh(k.router_seq), be32toh(k.dup_window),
			       be32toh(k.keepalive_ms), be32toh(k.keepalive_mult),
			       be32toh(k.max_payload));
			print_hex(k.salt, GW_SALT_LEN);
		}
		break;
	case GW_T_BYE:
		if (n >= GW_HDR_LEN + GW_BYE_BODY_LEN) {
			struct gw_wire_bye k;

			memcpy(&k, body, sizeof(k));
			printf(" reason=%" PRIu32, be32toh(k.reason));
		}
		break;
	default:
		break;
	}
	putchar('\n');
}

/* ---- commands ----------------------------------------------------------- */

static void cmd_key(char **tok, int ntok, bool file)
{
	uint64_t id;
	struct gf_conn *c;
	char text[512];
	size_t n;

	if (ntok != 3 || parse_u64(tok[1], &id) < 0 || id > UINT32_MAX) {
		reply("err usage: key ID TEXT | keyfile ID PATH");
		return;
	}
	c = conn_get((uint32_t)id, true);
	if (!c) {
		reply("err too many connectors");
		return;
	}
	if (file) {
		FILE *f = fopen(tok[2], "r");

		if (!f) {
			reply("err %s: %s", tok[2], strerror(errno));
			return;
		}
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
	} else {
		n = strlen(tok[2]);
		if (n >= sizeof(text))
			n = sizeof(text) - 1;
		memcpy(text, tok[2], n);
	}
	text[n] = 0;
	if (gw_key_parse(text, n, c->k) < 0) {
		reply("err not a key");
		return;
	}
	gw_auth_derive_hs(c->k, c->id, &c->hs);
	c->has_key = true;
	c->has_session = false;
	reply("ok");
}

static void cmd_keyid(char **tok, int ntok)
{
	static const char label[] = "gwart v2 key id";
	uint8_t h[32];
	uint64_t id;
	struct gf_conn *c;

	if (ntok != 2 || parse_u64(tok[1], &id) < 0 || !(c = conn_get((uint32_t)id, false)) ||
	    !c->has_key) {
		reply("err usage: keyid ID (after key or keyfile)");
		return;
	}
	gw_blake2b_mac(h, sizeof(h), c->k, label, sizeof(label) - 1);
	printf("ok key_id=");
	print_hex(h, 8);
	putchar('\n');
	fflush(stdout);
}

static void cmd_session(char **tok, int ntok)
{
	uint64_t id, epoch, nonce;
	uint8_t salt[GW_SALT_LEN];
	struct gf_conn *c;

	if (ntok != 5 || parse_u64(tok[1], &id) < 0 || parse_u64(tok[2], &epoch) < 0 ||
	    parse_u64(tok[3], &nonce) < 0 || parse_hex(tok[4], salt, GW_SALT_LEN) != GW_SALT_LEN) {
		reply("err usage: session ID EPOCH NONCE SALT_HEX");
		return;
	}
	c = conn_get((uint32_t)id, false);
	if (!c || !c->has_key) {
		reply("err no key for %" PRIu64, id);
		return;
	}
	session_set(c, (uint32_t)epoch, nonce, salt);
	reply("ok");
}

static void cmd_sock(char **tok, int ntok)
{
	uint64_t i, port;
	struct gf_args a;
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	bool ok = true;
	int fd;

	if (ntok < 4 || parse_u64(tok[1], &i) < 0 || i >= GF_MAX_SOCK ||
	    parse_u64(tok[3], &port) < 0 || port > 65535) {
		reply("err usage: sock NAME IP PORT [id=ID]");
		return;
	}
	args_split(&a, tok + 4, ntok - 4);
	if (socks[i].fd >= 0)
		close(socks[i].fd);
	socks[i].fd = -1;
	fd = udp_open(tok[2], (uint16_t)port);
	if (fd < 0) {
		reply("err bind %s:%" PRIu64 ": %s", tok[2], port, strerror(-fd));
		return;
	}
	socks[i].fd = fd;
	socks[i].id = (uint32_t)arg_u64(&a, "id", 0, &ok);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	reply("ok port=%u", ntohs(sa.sin_port));
}

static void cmd_send(char **tok, int ntok)
{
	static uint8_t buf[GF_BUF];
	struct gf_sock *s = ntok >= 3 ? sock_get(tok[1]) : NULL;
	struct sockaddr_in dst;
	struct gf_args a;
	const char *err;
	uint64_t count, seq_step, ctr = 0, n, seq0, oseq0;
	size_t len = 0;
	bool ok = true;
	char seqbuf[32], oseqbuf[32];
	int r, iseq = -1, ioseq = -1;

	if (!s || parse_addr(tok[2], &dst) < 0) {
		reply("err usage: send NAME IP:PORT FIELD=VALUE...");
		return;
	}
	args_split(&a, tok + 3, ntok - 3);
	count = arg_u64(&a, "count", 1, &ok);
	seq_step = arg_u64(&a, "seq_step", 0, &ok);
	seq0 = arg_u64(&a, "seq", 1, &ok);
	oseq0 = arg_u64(&a, "origin_seq", seq0, &ok);
	if (!ok || a.n + 2 > GF_MAX_ARGS) {
		reply("err count, seq_step, seq: numbers");
		return;
	}
	/* count=N seq_step=S: seq and origin_seq move by S from one to the next */
	if (seq_step) {
		for (int i = 0; i < a.n; i++) {
			if (!strcmp(a.k[i], "seq"))
				iseq = i;
			else if (!strcmp(a.k[i], "origin_seq"))
				ioseq = i;
		}
		if (iseq < 0) {
			iseq = a.n++;
			a.k[iseq] = (char *)"seq";
		}
		if (ioseq < 0) {
			ioseq = a.n++;
			a.k[ioseq] = (char *)"origin_seq";
		}
		a.v[iseq] = seqbuf;
		a.v[ioseq] = oseqbuf;
	}
	for (n = 0; n < count; n++) {
		if (seq_step) {
			snprintf(seqbuf, sizeof(seqbuf), "%" PRIu64, seq0 + n * seq_step);
			snprintf(oseqbuf, sizeof(oseqbuf), "%" PRIu64, oseq0 + n * seq_step);
		}
		len = build_frame(buf, sizeof(buf), &a, &err, &ctr);
		if (!len) {
			reply("err %s", err);
			return;
		}
		/* dry=1: built (and shown), not sent */
		r = arg_str(&a, "dry") ? 0 : send_dgram(s->fd, &dst, arg_str(&a, "spoof"), buf, len);
		if (r < 0) {
			reply("err send: %s", strerror(-r));
			return;
		}
		/* Pace bursts: the tap's kernel queue is short on these hosts,
		 * and every frame sent must reach the router to be counted. */
		if (count > 1 && n % 8 == 7) {
			usleep(1000);
			keepalive_tick();
		}
	}
	if (arg_str(&a, "show")) { /* the last frame's bytes, for a later replay */
		printf("ok sent=%" PRIu64 " ctr=%" PRIu64 " hex=", count, ctr);
		print_hex(buf, len);
		putchar('\n');
		fflush(stdout);
		return;
	}
	reply("ok sent=%" PRIu64 " ctr=%" PRIu64, count, ctr);
}

static void cmd_sendhex(char **tok, int ntok)
{
	static uint8_t buf[GF_BUF];
	struct gf_sock *s = ntok >= 4 ? sock_get(tok[1]) : NULL;
	struct sockaddr_in dst;
	struct gf_args a;
	ssize_t len;
	int r;

	if (!s || parse_addr(tok[2], &dst) < 0 || (len = parse_hex(tok[3], buf, sizeof(buf))) < 0) {
		reply("err usage: sendhex NAME IP:PORT HEX [spoof=IP:PORT]");
		return;
	}
	args_split(&a, tok + 4, ntok - 4);
	r = send_dgram(s->fd, &dst, arg_str(&a, "spoof"), buf, (size_t)len);
	if (r < 0)
		reply("err send: %s", strerror(-r));
	else
		reply("ok sent=1");
}

/*
 * A faultlink --capture file: records of 1 byte direction ('U' client ->
 * router, 'D' router -> client), 2 bytes length (big-endian), the bytes.
 */
static void cmd_replay(char **tok, int ntok)
{
	static uint8_t buf[GF_BUF];
	struct gf_sock *s = ntok >= 4 ? sock_get(tok[1]) : NULL;
	struct sockaddr_in dst;
	struct gf_args a;
	const char *dir, *ts;
	int type = -1;
	uint64_t limit, sender, sent = 0, seen = 0;
	bool ok = true;
	FILE *f;
	int r;

	if (!s || parse_addr(tok[2], &dst) < 0) {
		reply("err usage: replay NAME IP:PORT FILE [dir=U|D] [type=T] [sender=ID] [limit=N]");
		return;
	}
	args_split(&a, tok + 4, ntok - 4);
	dir = arg_str(&a, "dir");
	ts = arg_str(&a, "type");
	if (ts && (type = type_parse(ts)) < 0) {
		reply("err type");
		return;
	}
	limit = arg_u64(&a, "limit", UINT64_MAX, &ok);
	sender = arg_u64(&a, "sender", UINT64_MAX, &ok);
	if (!ok) {
		reply("err limit, sender: numbers");
		return;
	}
	f = fopen(tok[3], "rb");
	if (!f) {
		reply("err %s: %s", tok[3], strerror(errno));
		return;
	}
	while (sent < limit) {
		uint8_t rec[3];
		uint16_t len;

		if (fread(rec, 1, 3, f) != 3)
			break;
		len = (uint16_t)(rec[1] << 8 | rec[2]);
		if (len > sizeof(buf) || fread(buf, 1, len, f) != len)
			break;
		seen++;
		if (dir && rec[0] != (uint8_t)dir[0])
			continue;
		if (type >= 0 && (len < GW_HDR_LEN || buf[3] != type))
			continue;
		if (sender != UINT64_MAX &&
		    (len < GW_HDR_LEN || be32toh(((struct gw_wire_hdr *)buf)->sender) != sender))
			continue;
		r = send_dgram(s->fd, &dst, arg_str(&a, "spoof"), buf, len);
		if (r < 0) {
			fclose(f);
			reply("err send: %s", strerror(-r));
			return;
		}
		if (++sent % 8 == 0) {
			usleep(1000);
			keepalive_tick();
		}
	}
	fclose(f);
	reply("ok sent=%" PRIu64 " records=%" PRIu64, sent, seen);
}

static void cmd_flood(char **tok, int ntok)
{
	static uint8_t buf[GF_BUF];
	struct sockaddr_in dst;
	struct gf_args a;
	const char *err;
	uint64_t n, i, ctr;
	bool ok = true;

	if (ntok < 4 || parse_addr(tok[2], &dst) < 0) {
		reply("err usage: flood IP IP:PORT n=N FIELD=VALUE...");
		return;
	}
	args_split(&a, tok + 3, ntok - 3);
	n = arg_u64(&a, "n", 1, &ok);
	for (i = 0; i < n; i++) {
		const char *hx = arg_str(&a, "hex");
		ssize_t hl = hx ? parse_hex(hx, buf, sizeof(buf)) : 0;
		size_t len = hx ? (hl > 0 ? (size_t)hl : 0) : build_frame(buf, sizeof(buf), &a, &err, &ctr);
		int fd, r;

		if (!len) {
			reply("err %s", hx ? "hex" : err);
			return;
		}
		fd = udp_open(tok[1], 0); /* a new ephemeral port per frame */
		if (fd < 0) {
			reply("err socket: %s", strerror(-fd));
			return;
		}
		r = send_dgram(fd, &dst, NULL, buf, len);
		close(fd);
		if (r < 0) {
			reply("err send: %s", strerror(-r));
			return;
		}
		if (i % 8 == 7) {
			usleep(1000);
			keepalive_tick();
		}
	}
	reply("ok sent=%" PRIu64, n);
}

/* Frames on @s for @ms milliseconds; each printed (up to @max), counted. */
static void cmd_recv(char **tok, int ntok)
{
	static uint8_t buf[GF_BUF];
	struct gf_sock *s = ntok >= 3 ? sock_get(tok[1]) : NULL;
	struct gf_args a;
	uint64_t ms, max, n = 0, by_type[9] = { 0 }, bad = 0, end;
	bool ok = true;

	if (!s || parse_u64(tok[2], &ms) < 0) {
		reply("err usage: recv NAME MS [max=N]");
		return;
	}
	args_split(&a, tok + 3, ntok - 3);
	max = arg_u64(&a, "max", 100000, &ok);
	end = mono_ms() + ms;
	for (;;) {
		uint64_t now = mono_ms();
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t r;

		if (now >= end)
			break;
		keepalive_tick();
		if (poll(&p, 1, (int)(end - now < 20 ? end - now : 20)) <= 0)
			continue;
		r = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (r < 0)
			continue;
		n++;
		by_type[r >= GW_HDR_LEN && buf[3] <= 7 ? buf[3] : 8]++;
		if (strcmp(tag_verdict(buf, (size_t)r, s->id), "ok"))
			bad++;
		if (n <= max)
			print_frame(buf, (size_t)r, &from, s->id);
	}
	reply("ok n=%" PRIu64 " DATA=%" PRIu64 " ACK=%" PRIu64 " NACK=%" PRIu64 " HELLO=%" PRIu64
	      " WELCOME=%" PRIu64 " KEEPALIVE=%" PRIu64 " BYE=%" PRIu64 " other=%" PRIu64
	      " not_ok=%" PRIu64,
	      n, by_type[1], by_type[2], by_type[3], by_type[4], by_type[5], by_type[6], by_type[7],
	      by_type[0] + by_type[8], bad);
}

/* HELLO, then the WELCOME a connector would accept; the session keys. */
static void cmd_connect(char **tok, int ntok)
{
	static uint8_t buf[GF_BUF];
	struct gf_sock *s = ntok >= 3 ? sock_get(tok[1]) : NULL;
	struct sockaddr_in dst;
	struct gf_args a;
	struct gf_conn *c;
	uint64_t id, nonce, seq, win, tmo, end, hello_ctr = 0, other = 0, resend = 0;
	bool ok = true;
	char nb[48], sb[48], wb[48], ib[48];

	if (!s || parse_addr(tok[2], &dst) < 0) {
		reply("err usage: connect NAME IP:PORT id=ID [nonce=N] [seq=S] [rx_window=W]");
		return;
	}
	args_split(&a, tok + 3, ntok - 3);
	id = arg_u64(&a, "id", 0, &ok);
	c = conn_get((uint32_t)id, false);
	if (!c || !c->has_key) {
		reply("err no key for connector %" PRIu64, id);
		return;
	}
	gw_random_bytes(&nonce, sizeof(nonce));
	nonce = arg_u64(&a, "nonce", nonce | 1, &ok);
	seq = arg_u64(&a, "seq", 1, &ok);
	win = arg_u64(&a, "rx_window", 64, &ok);
	tmo = arg_u64(&a, "timeout_ms", 10000, &ok); /* a loaded host answers late */
	if (!ok) {
		reply("err connect: fields are numbers");
		return;
	}
	snprintf(nb, sizeof(nb), "%" PRIu64, nonce);
	snprintf(sb, sizeof(sb), "%" PRIu64, seq);
	snprintf(wb, sizeof(wb), "%" PRIu64, win);
	snprintf(ib, sizeof(ib), "%" PRIu64, id);
	s->id = (uint32_t)id;
	end = mono_ms() + tmo;
	while (mono_ms() < end) {
		struct gf_args ha = { 5,
				      { (char *)"type", (char *)"nonce", (char *)"seq",
					(char *)"rx_window", (char *)"sender" },
				      { (char *)"HELLO", nb, sb, wb, ib } };
		const char *err;
		size_t len;
		uint64_t until;

		len = build_frame(buf, sizeof(buf), &ha, &err, &hello_ctr);
		if (!len || send_dgram(s->fd, &dst, NULL, buf, len) < 0) {
			reply("err HELLO: %s", err ? err : "send failed");
			return;
		}
		resend++;
		until = mono_ms() + 200;
		while (mono_ms() < until) {
			struct pollfd p = { .fd = s->fd, .events = POLLIN };
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			struct gw_frame fr;
			ssize_t r;

			keepalive_tick();
			if (poll(&p, 1, 20) <= 0)
				continue;
			r = recvfrom(s->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
				     &fl);
			if (r < 0)
				continue;
			if (gw_wire_parse(buf, (size_t)r, &fr) != GW_WIRE_OK) {
				other++;
				continue;
			}
			if (fr.type == GW_T_NACK && fr.epoch == 0 && fr.ctr == hello_ctr &&
			    gw_auth_check_hs(buf, fr.length, c->hs.r2c)) {
				reply("err nack reason=%u", fr.u.nack.reason);
				return;
			}
			/* The connector's acceptance rule: tag, nonce echo,
			 * last accepted < ctr <= newest HELLO sent. */
			if (fr.type != GW_T_WELCOME || !gw_auth_check_hs(buf, fr.length, c->hs.r2c) ||
			    fr.u.welcome.nonce != nonce || fr.ctr <= c->last_welcome_ctr ||
			    fr.ctr > c->last_hello_ctr) {
				other++;
				continue;
			}
			c->last_welcome_ctr = fr.ctr;
			session_set(c, fr.epoch, nonce, fr.u.welcome.salt);
			printf("ok epoch=%" PRIu32 " nonce=%" PRIu64 " router_seq=%" PRIu64
			       " dup_window=%" PRIu32 " keepalive_ms=%" PRIu32
			       " keepalive_mult=%" PRIu32 " max_payload=%" PRIu32
			       " hellos=%" PRIu64 " other=%" PRIu64 " salt=",
			       fr.epoch, nonce, fr.u.welcome.router_seq, fr.u.welcome.dup_window,
			       fr.u.welcome.keepalive_ms, fr.u.welcome.keepalive_mult,
			       fr.u.welcome.max_payload, resend, other);
			print_hex(fr.u.welcome.salt, GW_SALT_LEN);
			putchar('\n');
			fflush(stdout);
			return;
		}
	}
	reply("err no WELCOME for connector %" PRIu64 " (%" PRIu64 " HELLOs, %" PRIu64
	      " other frames)",
	      id, resend, other);
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The due keepalives, sealed with the connector's current session (lane 0,
 * next ctr); seq is a monotonic clock in us, as PROTOCOL.md says. */
static void keepalive_tick(void)
{
	uint64_t now = mono_ms();

	for (int i = 0; i < GF_MAX_SOCK; i++) {
		struct gf_keep *k = &keeps[i];
		struct gf_conn *c;
		uint8_t buf[GW_KEEPALIVE_LEN];
		struct gw_wire_hdr *h = (struct gw_wire_hdr *)buf;
		uint64_t ctr;

		if (!k->on || now < k->next_ms || socks[k->sock].fd < 0)
			continue;
		k->next_ms = now + k->every_ms;
		c = conn_get(k->id, false);
		if (!c || !c->has_session)
			continue;
		memset(buf, 0, sizeof(buf));
		h->magic = htobe16(GW_WIRE_MAGIC);
		h->version = GW_WIRE_VERSION;
		h->type = GW_T_KEEPALIVE;
		h->length = htobe16(GW_KEEPALIVE_LEN);
		h->sender = htobe32(c->id);
		h->epoch = htobe32(c->epoch);
		h->seq = htobe64(mono_us());
		ctr = htobe64(gw_ctr_make(GW_LANE_SESSION, ++c->tx_count[GW_LANE_SESSION]));
		memcpy(buf + GW_HDR_LEN, &ctr, GW_CTR_LEN);
		gw_auth_seal_session(buf, sizeof(buf), &c->c2r);
		if (sendto(socks[k->sock].fd, buf, sizeof(buf), MSG_DONTWAIT,
			   (struct sockaddr *)&k->dst, sizeof(k->dst)) >= 0)
			k->sent++;
	}
}

static void cmd_keepalive(char **tok, int ntok)
{
	struct gf_sock *s = ntok >= 3 ? sock_get(tok[1]) : NULL;
	struct gf_args a;
	bool ok = true;
	uint64_t idx;
	struct gf_keep *k;

	if (!s || parse_u64(tok[1], &idx) < 0) {
		reply("err usage: keepalive NAME IP:PORT id=ID ms=MS");
		return;
	}
	k = &keeps[idx];
	if (parse_addr(tok[2], &k->dst) < 0) {
		reply("err keepalive: IP:PORT");
		return;
	}
	args_split(&a, tok + 3, ntok - 3);
	k->id = (uint32_t)arg_u64(&a, "id", s->id, &ok);
	k->every_ms = arg_u64(&a, "ms", 0, &ok);
	if (!ok) {
		reply("err keepalive: numbers");
		return;
	}
	k->sock = (int)idx;
	k->on = k->every_ms > 0;
	k->next_ms = 0;
	reply("ok sent=%" PRIu64, k->sent);
	k->sent = 0;
}

/* The next command line from stdin, the keepalives kept going while we
 * wait for it. Returns false at EOF. */
static bool read_line(char *line, size_t cap)
{
	static char buf[GF_LINE];
	static size_t have;

	for (;;) {
		char *nl = memchr(buf, '\n', have);
		struct pollfd p = { .fd = 0, .events = POLLIN };
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - buf) + 1;
			size_t m = n < cap ? n : cap - 1;

			memcpy(line, buf, m);
			line[m] = 0;
			memmove(buf, buf + n, have - n);
			have -= n;
			return true;
		}
		if (have == sizeof(buf))
			have = 0; /* a line longer than any command: dropped */
		keepalive_tick();
		if (poll(&p, 1, 20) <= 0)
			continue;
		r = read(0, buf + have, sizeof(buf) - have);
		if (r <= 0)
			return false;
		have += (size_t)r;
	}
}

int main(void)
{
	static char line[GF_LINE];
	char *tok[GF_MAX_ARGS + 8];

	if (gw_auth_init() < 0) {
		fprintf(stderr, "gwforge: libsodium unusable here (AES-NI?)\n");
		return 1;
	}
	for (int i = 0; i < GF_MAX_SOCK; i++)
		socks[i].fd = -1;
	while (read_line(line, sizeof(line))) {
		int ntok = 0;
		char *save = NULL, *t;

		for (t = strtok_r(line, " \t\r\n", &save); t && ntok < (int)(sizeof(tok) / sizeof(*tok));
		     t = strtok_r(NULL, " \t\r\n", &save))
			tok[ntok++] = t;
		if (!ntok || tok[0][0] == '#')
			continue;
		if (!strcmp(tok[0], "quit"))
			break;
		if (!strcmp(tok[0], "key"))
			cmd_key(tok, ntok, false);
		else if (!strcmp(tok[0], "keyfile"))
			cmd_key(tok, ntok, true);
		else if (!strcmp(tok[0], "keyid"))
			cmd_keyid(tok, ntok);
		else if (!strcmp(tok[0], "session"))
			cmd_session(tok, ntok);
		else if (!strcmp(tok[0], "sock"))
			cmd_sock(tok, ntok);
		else if (!strcmp(tok[0], "connect"))
			cmd_connect(tok, ntok);
		else if (!strcmp(tok[0], "send"))
			cmd_send(tok, ntok);
		else if (!strcmp(tok[0], "sendhex"))
			cmd_sendhex(tok, ntok);
		else if (!strcmp(tok[0], "replay"))
			cmd_replay(tok, ntok);
		else if (!strcmp(tok[0], "flood"))
			cmd_flood(tok, ntok);
		else if (!strcmp(tok[0], "recv"))
			cmd_recv(tok, ntok);
		else if (!strcmp(tok[0], "keepalive"))
			cmd_keepalive(tok, ntok);
		else if (!strcmp(tok[0], "sleep")) {
			uint64_t ms;

			if (ntok == 2 && parse_u64(tok[1], &ms) == 0) {
				uint64_t end = mono_ms() + ms;

				while (mono_ms() < end) {
					keepalive_tick();
					usleep(2000);
				}
				reply("ok");
			} else {
				reply("err usage: sleep MS");
			}
		} else {
			reply("err unknown command %s", tok[0]);
		}
	}
	for (int i = 0; i < GF_MAX_CONN; i++)
		gw_auth_wipe(&conns[i], sizeof(conns[i]));
	return 0;
}
