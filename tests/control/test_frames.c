/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Protocol version 2 on the control thread (control/frames.c, keys.c): the
 * HELLO proof and its freshness, WELCOME and NACK NOT_AUTHORISED, KEEPALIVE
 * and BYE checks (epoch, address, lane, replay, tag), answers to the
 * session's address, router BYE on set-key, probes, and a HELLO flood that
 * opens nothing and allocates nothing. Frames are built and checked with
 * auth.h, as a connector would, and go through cp_frames_input(), the
 * function the ring poller calls; what control sends is caught by the
 * context's tx_hook. A real router (workers running), no ports, no root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "conn.h"
#include "cp_router.h"
#include "cp.h"
#include "frames.h"
#include "pkt.h"
#include "router_api.h"

static struct cp_ctx cp;

/* ---- what control sends ------------------------------------------------------------ */

#define CAP_MAX 64

static struct {
	struct rte_mbuf *m[CAP_MAX];
	unsigned n;
	unsigned dropped; /* beyond CAP_MAX (the flood test wants none) */
} cap;

static void hook(void *arg, unsigned port, struct rte_mbuf *m)
{
	(void)arg;
	(void)port;
	if (cap.n < CAP_MAX)
		cap.m[cap.n++] = m;
	else {
		cap.dropped++;
		rte_pktmbuf_free(m);
	}
}

static void cap_clear(void)
{
	unsigned i;

	for (i = 0; i < cap.n; i++)
		rte_pktmbuf_free(cap.m[i]);
	cap.n = 0;
	cap.dropped = 0;
}

/* Sent frame @i: its gwart bytes, length and destination. */
struct sent {
	const uint8_t *gw;
	size_t len;
	uint32_t dst_ip_be;
	uint16_t dst_udp_be;
	struct gw_frame f;
};

static struct sent sent(unsigned i)
{
	struct sent s;
	const struct rte_ipv4_hdr *ih;
	const struct rte_udp_hdr *uh;

	cr_assert_lt(i, cap.n, "frame %u of %u sent", i, cap.n);
	ih = rte_pktmbuf_mtod_offset(cap.m[i], const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uh = (const struct rte_udp_hdr *)(ih + 1);
	s.gw = dp_pkt_gw(cap.m[i]);
	s.len = rte_be_to_cpu_16(uh->dgram_len) - 8;
	s.dst_ip_be = ih->dst_addr;
	s.dst_udp_be = uh->dst_port;
	cr_assert_eq(gw_wire_parse(s.gw, s.len, &s.f), GW_WIRE_OK, "sent frame %u parses", i);
	return s;
}

/* ---- a connector, as the SDK would be ------------------------------------------------ */

struct tconn {
	uint32_t id;
	uint8_t key[GW_KEY_LEN];
	struct gw_hs_keys hs;
	uint64_t nonce;
	uint64_t hello_ctr;
	struct dp_pkt_src src;
	/* its session, from the WELCOME */
	uint32_t epoch;
	uint8_t salt[GW_SALT_LEN];
	struct gw_gmac_key tx, rx; /* c2r, r2c */
	uint64_t n;                /* lane-0 frames sent */
};

static void tconn_init(struct tconn *t, uint32_t id, uint8_t key_byte, uint32_t ip, uint16_t port)
{
	memset(t, 0, sizeof(*t));
	t->id = id;
	memset(t->key, key_byte, sizeof(t->key));
	gw_auth_derive_hs(t->key, id, &t->hs);
	t->nonce = 0x1234567800000000ull | id;
	t->hello_ctr = 1700000000000000000ull;
	t->src.ip_be = htonl(ip);
	t->src.udp_be = htons(port);
}

static void add(struct tconn *t)
{
	cr_assert_eq(cp_connector_add(&cp, t->id, "tc", t->key), 0);
}

/* A HELLO with the next ctr, sealed with hs.c2r; its length. */
static size_t hello(struct tconn *t, uint8_t *buf)
{
	struct gw_hdr_args h = {.sender = t->id, .epoch = 0, .seq = 1, .ctr = ++t->hello_ctr};
	size_t len = gw_wire_encode_hello(buf, GW_FRAME_MAX, &h, t->nonce, 64);

	cr_assert_eq(len, GW_HELLO_LEN);
	gw_auth_seal_hs(buf, len, t->hs.c2r);
	return len;
}

static void input(const struct dp_pkt_src *src, const uint8_t *buf, size_t len)
{
	cp_frames_input(&cp, 0, src, buf, len);
}

/* Take the WELCOME just sent as the connector does: tag with hs.r2c, nonce
 * echo, ctr = its newest HELLO's; then its session keys. */
static void take_welcome(struct tconn *t, unsigned i)
{
	struct sent s = sent(i);
	struct gw_session_keys k;

	cr_assert_eq(s.f.type, GW_T_WELCOME);
	cr_assert_eq(s.len, GW_WELCOME_LEN);
	cr_assert(gw_auth_check_hs(s.gw, s.len, t->hs.r2c), "WELCOME sealed with hs.r2c");
	cr_assert_eq(s.f.u.welcome.nonce, t->nonce);
	cr_assert_eq(s.f.ctr, t->hello_ctr, "WELCOME echoes the HELLO's ctr");
	cr_assert_neq(s.f.epoch, 0);
	cr_assert_eq(s.dst_ip_be, t->src.ip_be);
	cr_assert_eq(s.dst_udp_be, t->src.udp_be);
	t->epoch = s.f.epoch;
	memcpy(t->salt, s.f.u.welcome.salt, GW_SALT_LEN);
	gw_auth_derive_session(t->key, t->id, t->epoch, t->nonce, t->salt, &k);
	gw_gmac_key_init(&t->tx, k.c2r);
	gw_gmac_key_init(&t->rx, k.r2c);
	t->n = 0;
}

/* HELLO, WELCOME: a session up. */
static void tc_connect(struct tconn *t)
{
	uint8_t buf[GW_FRAME_MAX];
	size_t len = hello(t, buf);

	cap_clear();
	input(&t->src, buf, len);
	cr_assert_eq(cap.n, 1, "one WELCOME");
	take_welcome(t, 0);
	cap_clear();
	cr_assert_eq(cp_session_get(&cp, t->id)->state, CP_SESS_UP);
}

/* A lane-0 frame (KEEPALIVE, or BYE) of the session with count @n. */
static size_t session_frame(struct tconn *t, uint8_t *buf, unsigned type, uint64_t n)
{
	struct gw_hdr_args h = {.sender = t->id, .epoch = t->epoch, .seq = 77,
				.ctr = gw_ctr_make(GW_LANE_SESSION, n)};
	size_t len = type == GW_T_BYE ? gw_wire_encode_bye(buf, GW_FRAME_MAX, &h, 0)
				      : gw_wire_encode_keepalive(buf, GW_FRAME_MAX, &h);

	cr_assert_neq(len, 0);
	gw_auth_seal_session(buf, len, &t->tx);
	return len;
}

static size_t keepalive(struct tconn *t, uint8_t *buf)
{
	return session_frame(t, buf, GW_T_KEEPALIVE, ++t->n);
}

/* The router's lane-0 frame @i as the connector checks it. */
static struct sent take_session(struct tconn *t, unsigned i, unsigned type, uint64_t count)
{
	struct sent s = sent(i);

	cr_assert_eq(s.f.type, type);
	cr_assert_eq(s.f.epoch, t->epoch);
	cr_assert_eq(s.f.ctr, gw_ctr_make(GW_LANE_SESSION, count), "ctr %llx",
		     (unsigned long long)s.f.ctr);
	cr_assert(gw_auth_check_session(s.gw, s.len, &t->rx), "sealed with s.r2c");
	return s;
}

static void setup(void)
{
	test_cp_router_up(&cp, 8);
	cp.tx_hook = hook;
}

static void teardown(void)
{
	cap_clear();
	test_cp_router_down(&cp);
}

TestSuite(frames, .init = setup, .fini = teardown, .timeout = 60);

/* ---- HELLO --------------------------------------------------------------------------- */

Test(frames, handshake_and_keepalive)
{
	struct tconn t;
	uint8_t buf[GW_FRAME_MAX];
	const struct dp_conn *c;
	size_t len;
	struct sent s;

	tconn_init(&t, 3, 0x11, 0xC6120002, 40001);
	add(&t);
	tc_connect(&t);
	c = dp_conn_peek(cp.rt, 3);
	cr_assert(c->up);
	cr_assert_eq(c->epoch, t.epoch, "the epoch the dataplane uses");
	cr_assert_eq(memcmp(c->salt, t.salt, GW_SALT_LEN), 0);
	cr_assert_eq(cp.stats.hellos, 1);
	cr_assert_eq(cp.stats.welcomes, 1);
	/* A keepalive proves liveness and is answered, lane 0 count 1. */
	cp.sess.s[3].last_rx_us = 0;
	len = keepalive(&t, buf);
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 1);
	s = take_session(&t, 0, GW_T_KEEPALIVE, 1);
	cr_assert_eq(s.f.seq, 77, "the answer echoes seq");
	cr_assert_eq(s.dst_ip_be, t.src.ip_be);
	cr_assert_eq(s.dst_udp_be, t.src.udp_be);
	cr_assert_neq(cp.sess.s[3].last_rx_us, 0, "liveness");
	cap_clear();
	len = keepalive(&t, buf);
	input(&t.src, buf, len);
	take_session(&t, 0, GW_T_KEEPALIVE, 2);
}

Test(frames, forged_hello_changes_nothing)
{
	struct tconn t, wrong;
	uint8_t buf[GW_FRAME_MAX];
	size_t len;

	tconn_init(&t, 4, 0x22, 0xC6120002, 40002);
	add(&t);
	/* Another key under its id. */
	tconn_init(&wrong, 4, 0x23, 0xC6120002, 40002);
	len = hello(&wrong, buf);
	input(&wrong.src, buf, len);
	/* The right key, one bit of the frame changed after sealing. */
	len = hello(&t, buf);
	buf[GW_HDR_LEN] ^= 1;
	input(&t.src, buf, len);
	/* The right tag, one bit of the tag changed. */
	len = hello(&t, buf);
	buf[len - 1] ^= 0x80;
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 0, "nothing answered");
	cr_assert_eq(cp.stats.hello_auth_failed, 3);
	cr_assert_eq(cp.auth[4]->st.hello_auth_failed, 3);
	cr_assert_eq(cp_session_get(&cp, 4)->opens, 0);
	cr_assert(!dp_conn_peek(cp.rt, 4)->up);
	/* Forged HELLOs moved no ctr: the next valid one is accepted. */
	cr_assert_eq(cp.auth[4]->hello_ctr, 0);
	tc_connect(&t);
}

Test(frames, unknown_id_dropped)
{
	struct tconn t;
	uint8_t buf[GW_FRAME_MAX];
	size_t len;

	tconn_init(&t, 9, 0x33, 0xC6120002, 40003);
	len = hello(&t, buf);
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 0);
	cr_assert_eq(cp.stats.hello_unknown, 1);
	cr_assert_eq(cp.stats.unknown_conn, 1);
	cr_assert_eq(cp.stats.hello_auth_failed, 0, "no key, no tag work");
}

/* One captured HELLO replayed, from its own address and from many ports:
 * no session, no move, no answer, each counted. An older ctr with a valid
 * tag: refused too. */
Test(frames, replayed_and_stale_hello)
{
	struct tconn t;
	uint8_t buf[GW_FRAME_MAX], old[GW_FRAME_MAX];
	struct dp_pkt_src src;
	uint32_t epoch;
	size_t len, old_len;
	unsigned i;

	tconn_init(&t, 5, 0x44, 0xC6120002, 40004);
	add(&t);
	old_len = hello(&t, old); /* never sent: older than the next */
	len = hello(&t, buf);
	input(&t.src, buf, len);
	take_welcome(&t, 0);
	cap_clear();
	epoch = t.epoch;
	input(&t.src, buf, len);
	src = t.src;
	for (i = 0; i < 500; i++) {
		src.udp_be = htons((uint16_t)(20000 + i));
		src.ip_be = htonl(0xC6120100 + (i & 0xff));
		input(&src, buf, len);
	}
	cr_assert_eq(cp.stats.hello_replayed, 501);
	cr_assert_eq(cp.auth[5]->st.hello_replayed, 501);
	/* Stale: a valid tag, a ctr below the newest accepted. */
	input(&t.src, old, old_len);
	cr_assert_eq(cp.stats.hello_replayed, 502);
	cr_assert_eq(cap.n, 0, "nothing answered");
	cr_assert_eq(cp_session_get(&cp, 5)->opens, 1);
	cr_assert_eq(dp_conn_peek(cp.rt, 5)->epoch, epoch);
	cr_assert_eq(dp_conn_peek(cp.rt, 5)->udp_be, t.src.udp_be, "not moved");
	cr_assert_eq(cp.stats.sessions_moved, 0);
}

/* Same instance, same address, live session: the same epoch and salt. */
Test(frames, repeated_hello_same_session)
{
	struct tconn t;
	uint8_t buf[GW_FRAME_MAX], salt[GW_SALT_LEN];
	uint32_t epoch;
	size_t len;

	tconn_init(&t, 6, 0x55, 0xC6120002, 40005);
	add(&t);
	tc_connect(&t);
	epoch = t.epoch;
	memcpy(salt, t.salt, sizeof(salt));
	len = keepalive(&t, buf);
	input(&t.src, buf, len);
	cap_clear();
	len = hello(&t, buf);
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 1);
	take_welcome(&t, 0);
	cr_assert_eq(t.epoch, epoch);
	cr_assert_eq(memcmp(t.salt, salt, sizeof(salt)), 0);
	cr_assert_eq(cp_session_get(&cp, 6)->opens, 1, "no new session");
	/* Counters and windows kept: our next keepalive answer is count 2. */
	cap_clear();
	t.n = 1;
	len = keepalive(&t, buf);
	input(&t.src, buf, len);
	take_session(&t, 0, GW_T_KEEPALIVE, 2);
	/* A new instance (nonce) on the same address: a new session. */
	cap_clear();
	t.nonce++;
	len = hello(&t, buf);
	input(&t.src, buf, len);
	take_welcome(&t, 0);
	cr_assert_neq(t.epoch, epoch);
	cr_assert_eq(cp_session_get(&cp, 6)->opens, 2);
}

/* A valid, fresh HELLO from another address moves the session (counted);
 * a forged or replayed one from there moves nothing. */
Test(frames, moved_only_with_proof)
{
	struct tconn t;
	uint8_t buf[GW_FRAME_MAX];
	struct dp_pkt_src b;
	uint32_t epoch;
	size_t len;

	tconn_init(&t, 7, 0x66, 0xC6120002, 40006);
	add(&t);
	tc_connect(&t);
	epoch = t.epoch;
	b = t.src;
	b.ip_be = htonl(0xC6120009);
	b.udp_be = htons(50000);
	/* Forged from B. */
	len = hello(&t, buf);
	buf[len - 3] ^= 4;
	input(&b, buf, len);
	cr_assert_eq(cap.n, 0);
	cr_assert_eq(dp_conn_peek(cp.rt, 7)->ip_be, t.src.ip_be, "not moved by a forgery");
	cr_assert_eq(cp.stats.sessions_moved, 0);
	/* Valid and fresh from B: moved, new epoch. */
	len = hello(&t, buf);
	t.src = b;
	input(&b, buf, len);
	take_welcome(&t, 0);
	cr_assert_neq(t.epoch, epoch);
	cr_assert_eq(dp_conn_peek(cp.rt, 7)->ip_be, b.ip_be);
	cr_assert_eq(dp_conn_peek(cp.rt, 7)->udp_be, b.udp_be);
	cr_assert_eq(cp.stats.sessions_moved, 1);
	cr_assert_eq(cp.auth[7]->st.sessions_moved, 1);
	/* The same HELLO replayed from A: moves nothing back. */
	cap_clear();
	b.ip_be = htonl(0xC6120002);
	b.udp_be = htons(40006);
	input(&b, buf, len);
	cr_assert_eq(cap.n, 0);
	cr_assert_eq(dp_conn_peek(cp.rt, 7)->udp_be, htons(50000));
	cr_assert_eq(cp.stats.sessions_moved, 1);
}

/* Disabled: NACK NOT_AUTHORISED only to a proved HELLO, epoch 0, ctr
 * echoed, sealed hs.r2c. */
Test(frames, disabled_not_authorised)
{
	struct tconn t;
	uint8_t buf[GW_FRAME_MAX];
	struct sent s;
	size_t len;

	tconn_init(&t, 8, 0x77, 0xC6120002, 40007);
	add(&t);
	cr_assert_eq(cp_connector_enable(&cp, 8, 0), 0);
	len = hello(&t, buf);
	buf[len - 1] ^= 1;
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 0, "a forgery is not answered");
	len = hello(&t, buf);
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 1);
	s = sent(0);
	cr_assert_eq(s.f.type, GW_T_NACK);
	cr_assert_eq(s.f.u.nack.reason, GW_NACK_NOT_AUTHORISED);
	cr_assert_eq(s.f.epoch, 0);
	cr_assert_eq(s.f.ctr, t.hello_ctr);
	cr_assert(gw_auth_check_hs(s.gw, s.len, t.hs.r2c));
	cr_assert_eq(cp.stats.refused, 1);
	cr_assert_eq(cp_session_get(&cp, 8)->opens, 0);
	/* Replaying it draws no second NACK. */
	cap_clear();
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 0);
	cr_assert_eq(cp.stats.hello_replayed, 1);
}

/* ---- KEEPALIVE and BYE ----------------------------------------------------------------- */

Test(frames, keepalive_refusals)
{
	struct tconn t, wrong;
	uint8_t buf[GW_FRAME_MAX];
	struct dp_pkt_src b;
	struct gw_hdr_args h;
	size_t len;

	tconn_init(&t, 10, 0x88, 0xC6120002, 40008);
	add(&t);
	tc_connect(&t);
	cp.sess.s[10].last_rx_us = 1;
	/* Forged: a wrong session key. */
	wrong = t;
	memset(wrong.key, 0x99, sizeof(wrong.key));
	{
		struct gw_session_keys k;

		gw_auth_derive_session(wrong.key, 10, t.epoch, t.nonce, t.salt, &k);
		gw_gmac_key_init(&wrong.tx, k.c2r);
	}
	len = keepalive(&wrong, buf);
	input(&t.src, buf, len);
	cr_assert_eq(cp.stats.auth_failed, 1);
	/* Forged: a bit of the tag. */
	len = keepalive(&t, buf);
	buf[len - 2] ^= 1;
	input(&t.src, buf, len);
	cr_assert_eq(cp.stats.auth_failed, 2);
	/* The forged count 1 did not use up count 1: a valid 1 passes. */
	t.n = 0;
	len = keepalive(&t, buf);
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 1, "the valid one answered");
	cr_assert_gt(cp.sess.s[10].last_rx_us, 1);
	cap_clear();
	cp.sess.s[10].last_rx_us = 1;
	/* Replayed. */
	input(&t.src, buf, len);
	cr_assert_eq(cp.stats.replayed, 1);
	cr_assert_eq(cp.auth[10]->st.replayed, 1);
	/* From another address, valid tag (a captured frame sent from elsewhere). */
	len = keepalive(&t, buf);
	b = t.src;
	b.udp_be = htons(40999);
	input(&b, buf, len);
	cr_assert_eq(cp.stats.auth_failed, 3);
	/* Wrong lane (1) for a KEEPALIVE. */
	len = session_frame(&t, buf, GW_T_KEEPALIVE, gw_ctr_make(GW_LANE_STREAM, 50));
	{
		/* session_frame put lane 0 over the count; rebuild with lane 1 */
		struct gw_hdr_args hh = {.sender = t.id, .epoch = t.epoch, .seq = 1,
					 .ctr = gw_ctr_make(GW_LANE_STREAM, 50)};

		len = gw_wire_encode_keepalive(buf, sizeof(buf), &hh);
		gw_auth_seal_session(buf, len, &t.tx);
	}
	input(&t.src, buf, len);
	cr_assert_eq(cp.stats.auth_failed, 4);
	/* Stale epoch: dropped, counted, and no NACK NO_SESSION in v2. */
	h = (struct gw_hdr_args){.sender = t.id, .epoch = t.epoch ^ 0x5a5a, .seq = 1,
				 .ctr = gw_ctr_make(GW_LANE_SESSION, 60)};
	len = gw_wire_encode_keepalive(buf, sizeof(buf), &h);
	gw_auth_seal_session(buf, len, &t.tx);
	input(&t.src, buf, len);
	cr_assert_eq(cp.stats.stale_epoch, 1);
	/* Epoch 0 from a connector is no session either. */
	h.epoch = 0;
	len = gw_wire_encode_keepalive(buf, sizeof(buf), &h);
	gw_auth_seal_hs(buf, len, t.hs.c2r);
	input(&t.src, buf, len);
	cr_assert_eq(cp.stats.stale_epoch, 2);
	cr_assert_eq(cap.n, 0, "no refusal is answered");
	cr_assert_eq(cp.sess.s[10].last_rx_us, 1, "no refused frame is liveness");
	cr_assert_eq(cp.auth[10]->st.auth_failed, 4);
}

/* The answer goes to the session's address: after a move, to the new one,
 * and a keepalive from the old address is refused (not answered there). */
Test(frames, keepalive_answer_to_session_address)
{
	struct tconn t;
	uint8_t buf[GW_FRAME_MAX];
	struct dp_pkt_src a;
	struct sent s;
	size_t len;

	tconn_init(&t, 11, 0xaa, 0xC6120002, 40010);
	add(&t);
	tc_connect(&t);
	a = t.src;
	t.src.udp_be = htons(40011);
	len = hello(&t, buf);
	input(&t.src, buf, len);
	take_welcome(&t, 0);
	cap_clear();
	len = keepalive(&t, buf);
	input(&a, buf, len);
	cr_assert_eq(cap.n, 0, "nothing to the old address");
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 1);
	s = take_session(&t, 0, GW_T_KEEPALIVE, 1);
	cr_assert_eq(s.dst_ip_be, t.src.ip_be);
	cr_assert_eq(s.dst_udp_be, htons(40011));
}

Test(frames, bye_checked_then_closes)
{
	struct tconn t;
	uint8_t buf[GW_FRAME_MAX];
	size_t len;

	tconn_init(&t, 12, 0xbb, 0xC6120002, 40012);
	add(&t);
	tc_connect(&t);
	len = session_frame(&t, buf, GW_T_BYE, ++t.n);
	buf[len - 5] ^= 1;
	input(&t.src, buf, len);
	cr_assert_eq(cp_session_get(&cp, 12)->state, CP_SESS_UP, "a forged BYE closes nothing");
	cr_assert_eq(cp.stats.auth_failed, 1);
	len = session_frame(&t, buf, GW_T_BYE, ++t.n);
	input(&t.src, buf, len);
	cr_assert_eq(cp_session_get(&cp, 12)->state, CP_SESS_DOWN);
	cr_assert_eq(cp_session_get(&cp, 12)->byes, 1);
	cr_assert(!dp_conn_peek(cp.rt, 12)->up);
	/* A further copy (next count) is a repeat; the same bytes a replay. */
	input(&t.src, buf, len);
	cr_assert_eq(cp.stats.replayed, 1);
	len = session_frame(&t, buf, GW_T_BYE, ++t.n);
	input(&t.src, buf, len);
	cr_assert_eq(cp.stats.byes_repeated, 1);
	/* A KEEPALIVE of the closed session keeps nothing alive. */
	len = keepalive(&t, buf);
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 0);
	cr_assert_eq(cp_session_get(&cp, 12)->state, CP_SESS_DOWN);
}

/* ---- set-key, probes --------------------------------------------------------------- */

/* ---- allow_from ---------------------------------------------------------------------- */

static void set_allow(uint32_t id, const char *a, const char *b)
{
	struct cp_allow al = {0};
	char why[128];

	cr_assert_eq(cp_allow_add(&al, a, why, sizeof(why)), 0, "%s", why);
	if (b != NULL)
		cr_assert_eq(cp_allow_add(&al, b, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(cp_connector_set_allow(&cp, id, &al), 0);
}

/* A HELLO with the right key from outside allow_from: no WELCOME, no NACK,
 * no session, no ctr used, counted as hello_addr_refused (globally, per
 * connector, in the stats JSON); a forged one from there is
 * hello_auth_failed (the tag is checked first); the same HELLO from the
 * allowed address then opens the session. */
Test(frames, allow_from_refuses_before_any_change)
{
	struct tconn t, wrong;
	struct dp_pkt_src far;
	uint8_t buf[GW_FRAME_MAX];
	size_t len;
	json_t *st, *c0;

	tconn_init(&t, 14, 0x3c, 0xC6120002, 40014);
	add(&t);
	set_allow(14, "198.18.0.2/32", "198.18.7.0/24");
	far = t.src;
	far.ip_be = htonl(0xC6120003);
	len = hello(&t, buf);
	input(&far, buf, len);
	cr_assert_eq(cap.n, 0, "nothing answered");
	cr_assert_eq(cp.stats.hello_addr_refused, 1);
	cr_assert_eq(cp.auth[14]->st.hello_addr_refused, 1);
	cr_assert_eq(cp.stats.welcomes, 0);
	cr_assert_eq(cp.auth[14]->hello_ctr, 0, "the ctr is not used up");
	cr_assert_eq(cp_session_get(&cp, 14)->opens, 0);
	cr_assert(!dp_conn_peek(cp.rt, 14)->up);
	cr_assert_eq(dp_conn_peek(cp.rt, 14)->ip_be, 0, "no address taken");
	/* A forgery from the refused address: the tag's refusal, not ours. */
	tconn_init(&wrong, 14, 0x3d, 0xC6120003, 40014);
	len = hello(&wrong, buf);
	input(&far, buf, len);
	cr_assert_eq(cp.stats.hello_auth_failed, 1);
	cr_assert_eq(cp.stats.hello_addr_refused, 1);
	/* The same HELLO again from the allowed address: a session. */
	t.hello_ctr--;
	tc_connect(&t);
	cr_assert(dp_conn_peek(cp.rt, 14)->up);
	/* A proved, fresh HELLO from outside does not move the live session. */
	len = hello(&t, buf);
	input(&far, buf, len);
	cr_assert_eq(cap.n, 0);
	cr_assert_eq(cp.stats.hello_addr_refused, 2);
	cr_assert_eq(cp.stats.sessions_moved, 0);
	cr_assert_eq(dp_conn_peek(cp.rt, 14)->ip_be, t.src.ip_be, "not moved");
	/* Inside the second prefix: allowed (a move, with proof). */
	far.ip_be = htonl(0xC61207FE);
	input(&far, buf, len);
	cr_assert_eq(cap.n, 1, "WELCOME");
	cr_assert_eq(cp.stats.sessions_moved, 1);
	st = cp_stats_json(&cp);
	cr_assert_not_null(st);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(st, "control"),
							"hello_addr_refused")), 2);
	c0 = json_array_get(json_object_get(st, "connectors"), 0);
	cr_assert_eq(json_integer_value(json_object_get(c0, "id")), 14);
	cr_assert_eq(json_integer_value(json_object_get(c0, "hello_addr_refused")), 2);
	json_decref(st);
	/* Absent again (n 0): any address. */
	{
		struct cp_allow none = {0};

		cr_assert_eq(cp_connector_set_allow(&cp, 14, &none), 0);
	}
	cap_clear();
	far.ip_be = htonl(0x0A000001);
	len = hello(&t, buf);
	input(&far, buf, len);
	cr_assert_eq(cap.n, 1, "WELCOME from anywhere");
	cr_assert_eq(cp.stats.hello_addr_refused, 2);
}

/* Narrowing allow_from past the live session's address closes it (a BYE
 * it can check, then probes); a list still holding it changes nothing. */
Test(frames, allow_narrowed_closes_session)
{
	struct tconn t;
	struct cp_allow bad = {.n = CP_ALLOW_MAX + 1};
	struct sent s;

	tconn_init(&t, 15, 0x3e, 0xC6120002, 40015);
	add(&t);
	tc_connect(&t);
	set_allow(15, "198.18.0.0/24", NULL);
	cr_assert_eq(cap.n, 0, "still allowed: nothing sent");
	cr_assert(dp_conn_peek(cp.rt, 15)->up);
	set_allow(15, "198.18.0.3", NULL);
	cr_assert_eq(cap.n, 1);
	s = take_session(&t, 0, GW_T_BYE, 1);
	cr_assert_eq(s.dst_ip_be, t.src.ip_be);
	cr_assert(!dp_conn_peek(cp.rt, 15)->up);
	cr_assert_eq(cp_session_get(&cp, 15)->state, CP_SESS_DOWN);
	cr_assert_eq(cp.auth[15]->allow.n, 1);
	cr_assert_eq(cp_connector_set_allow(&cp, 15, &bad), -EINVAL);
	cr_assert_eq(cp_connector_set_allow(&cp, 15, NULL), -EINVAL);
	cr_assert_eq(cp_connector_set_allow(&cp, 99, &bad), -ENOENT);
	cr_assert_eq(cp.auth[15]->allow.n, 1, "a refused list changed nothing");
}

Test(frames, set_key_closes_session)
{
	struct tconn t, t2;
	uint8_t buf[GW_FRAME_MAX];
	char before[CP_KEY_ID_HEX], after[CP_KEY_ID_HEX];
	struct sent s;
	uint64_t ctr1;
	size_t len;

	tconn_init(&t, 13, 0xcc, 0xC6120002, 40013);
	add(&t);
	tc_connect(&t);
	len = keepalive(&t, buf);
	input(&t.src, buf, len);
	cap_clear();
	cr_assert_eq(cp_connector_key_id(&cp, 13, before), 0);
	tconn_init(&t2, 13, 0xcd, 0xC6120002, 40013);
	t2.hello_ctr = t.hello_ctr;
	cr_assert_eq(cp_connector_set_key(&cp, 13, t2.key), 0);
	cr_assert_eq(cp_connector_key_id(&cp, 13, after), 0);
	cr_assert_str_neq(before, after);
	/* A BYE the connector can check: old session keys, next lane-0 count,
	 * to the session's address. */
	cr_assert_eq(cap.n, 1);
	s = take_session(&t, 0, GW_T_BYE, 2);
	cr_assert_eq(s.dst_udp_be, t.src.udp_be);
	cr_assert_eq(cp.stats.byes_sent, 1);
	cr_assert_eq(cp_session_get(&cp, 13)->state, CP_SESS_DOWN);
	cr_assert(!dp_conn_peek(cp.rt, 13)->up);
	cr_assert_neq(cp_session_get(&cp, 13)->next_probe_us, 0, "probes start");
	cap_clear();
	/* The old session's frames no longer count. */
	len = keepalive(&t, buf);
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 0);
	/* Probes: epoch 0, sealed with the new key's hs.r2c, ctr increasing. */
	cr_assert_eq(cp_frames_session_ops.probe(&cp, 13), 0);
	cr_assert_eq(cp_frames_session_ops.probe(&cp, 13), 0);
	cr_assert_eq(cap.n, 2);
	s = sent(0);
	ctr1 = s.f.ctr;
	cr_assert_eq(s.f.type, GW_T_KEEPALIVE);
	cr_assert_eq(s.f.epoch, 0);
	cr_assert(gw_auth_check_hs(s.gw, s.len, t2.hs.r2c), "probe sealed with the new hs.r2c");
	cr_assert(!gw_auth_check_hs(s.gw, s.len, t.hs.r2c));
	s = sent(1);
	cr_assert_gt(s.f.ctr, ctr1, "probe ctr strictly increasing");
	cap_clear();
	/* The old key's HELLO fails; the new key's opens a session. */
	len = hello(&t, buf);
	input(&t.src, buf, len);
	cr_assert_eq(cap.n, 0);
	cr_assert_eq(cp.stats.hello_auth_failed, 1);
	t2.hello_ctr = t.hello_ctr;
	tc_connect(&t2);
	/* Refusals. */
	cr_assert_eq(cp_connector_set_key(&cp, 99, t2.key), -ENOENT);
	memset(t2.key, 0, sizeof(t2.key));
	cr_assert_eq(cp_connector_set_key(&cp, 13, t2.key), -EINVAL);
	cr_assert_eq(cp_connector_set_key(&cp, 13, NULL), -EINVAL);
}

Test(frames, add_refuses_missing_key_and_delete_forgets)
{
	struct tconn t;
	uint8_t zero[GW_KEY_LEN] = {0};

	cr_assert_eq(cp_connector_add(&cp, 14, "k", NULL), -EINVAL);
	cr_assert_eq(cp_connector_add(&cp, 14, "k", zero), -EINVAL);
	cr_assert_null(dp_conn_peek(cp.rt, 14));
	tconn_init(&t, 14, 0xdd, 0xC6120002, 40014);
	add(&t);
	tc_connect(&t);
	{
		uint8_t rec[GW_FRAME_MAX];
		size_t rec_len;

		/* A HELLO recorded before the delete... */
		rec_len = hello(&t, rec);
		input(&t.src, rec, rec_len);
		cap_clear();
		cr_assert_eq(cp_connector_del(&cp, 14), 0);
		cr_assert_null(cp.auth[14], "keys gone with the connector");
		cr_assert_eq(cap.n, 1, "a BYE to the live connector");
		cr_assert_eq(sent(0).f.type, GW_T_BYE);
		cap_clear();
		/* ...is still refused when the id comes back with the same key:
		 * the newest HELLO ctr is per id and process. */
		add(&t);
		input(&t.src, rec, rec_len);
		cr_assert_eq(cap.n, 0);
		cr_assert_eq(cp.stats.hello_replayed, 1);
		cr_assert_eq(cp_session_get(&cp, 14)->opens, 0);
		tc_connect(&t);
	}
}

/* ---- floods ------------------------------------------------------------------------ */

/* 20,000 HELLOs with a valid id and bad tags, and one valid HELLO replayed
 * from 20,000 ports: no session, no answer, no heap growth in proportion, no
 * mbuf kept;
 * every one counted. */
Test(frames, hello_flood_bounded)
{
	struct tconn t;
	uint8_t forged[GW_FRAME_MAX], valid[GW_FRAME_MAX];
	struct dp_pkt_src src;
	size_t len, heap0, heap1;
	unsigned mb0, i;

	tconn_init(&t, 15, 0xee, 0xC6120002, 40015);
	add(&t);
	len = hello(&t, valid);
	input(&t.src, valid, len);
	take_welcome(&t, 0);
	cap_clear();
	memcpy(forged, valid, len);
	src = t.src;
	mb0 = rte_mempool_in_use_count(cp.rt->pool);
	heap0 = mallinfo2().uordblks;
	for (i = 0; i < 20000; i++) {
		forged[len - 1] = (uint8_t)i;
		forged[len - 2] = (uint8_t)(i >> 8) ^ 0x5a;
		src.udp_be = htons((uint16_t)(1024 + i));
		input(&src, forged, len);
		input(&src, valid, len);
	}
	heap1 = mallinfo2().uordblks;
	cr_assert_eq(cap.n + cap.dropped, 0, "nothing answered");
	cr_assert_eq(cp.stats.hello_auth_failed, 20000);
	cr_assert_eq(cp.stats.hello_replayed, 20000);
	cr_assert_eq(cp_session_get(&cp, 15)->opens, 1);
	cr_assert_eq(dp_conn_peek(cp.rt, 15)->udp_be, t.src.udp_be);
	cr_assert_eq(rte_mempool_in_use_count(cp.rt->pool), mb0);
	{
		/* What gwartctl stats shows: totals and the connector's own. */
		json_t *st = cp_stats_json(&cp), *ctl = json_object_get(st, "control");
		json_t *c0 = json_array_get(json_object_get(st, "connectors"), 0);

		cr_assert_eq(json_integer_value(json_object_get(ctl, "hello_auth_failed")), 20000);
		cr_assert_eq(json_integer_value(json_object_get(ctl, "hello_replayed")), 20000);
		cr_assert_eq(json_integer_value(json_object_get(c0, "hello_auth_failed")), 20000);
		cr_assert_eq(json_integer_value(json_object_get(c0, "hello_replayed")), 20000);
		cr_assert_str_eq(json_string_value(json_object_get(c0, "key")), "set");
		json_decref(st);
	}
	/* 40,000 packets: one allocation each would be >= 640 KiB (16-byte
	 * chunks). Other threads of the process (the test runner's, RCU's)
	 * may allocate a few KiB meanwhile. */
	cr_assert_lt((ssize_t)(heap1 - heap0), 64 * 1024, "heap grew by %zd bytes",
		     (ssize_t)(heap1 - heap0));
}
