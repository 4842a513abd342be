/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scenario stages: each fast-path stage's own function in isolation, on one
 * core, in the shape the worker calls it (bursts of 32 where it bursts),
 * cycles per message from the TSC over many repetitions. This is the
 * outside view of "where the time goes"; the router's stage_stats tunable
 * is the inside view (inproc --stage-stats). Also: DPDK heap per route
 * (route index + route object) and per connector (owner state + custody).
 *
 *   parse      gw_wire_parse() of a DATA frame with the scenario's payload
 *   classify   dp_pkt_classify(): Ethernet/IPv4/UDP checks, IPv4 checksum
 *   dedup      dp_dedup_check + set_pending + set_done, in-order seqs
 *   route      dp_route_lookup_bulk(), 32 addresses of --routes routes
 *              drawn with --pop, divided by 32
 *   custody    dp_custody_put of 32 then one cumulative dp_custody_ack
 *   handoff    dp_handoff_send + recv of 32 items (one SPSC ring)
 *   tx_build   dp_pkt_alloc_udp + copy + gw_wire_rewrite_hdr +
 *              dp_pkt_finish_udp + free: the egress copy of a DATA frame
 *   ack_build  the same for a 64-byte ACK frame
 *   auth_rx    v2: the tags of 32 DATA frames from 4 origins checked in one
 *              dp_auth_gmac_grouped() call (cryptodev crypto_aesni_gcm,
 *              the worker's code) and compared (gw_tag_equal), per frame
 *   auth_tx    v2: 32 DATA frames to 4 destinations sealed the same way
 *   auth_ack   v2: per message of a 32-message burst, the ACK frames' share:
 *              one ACK sealed for the origin, four destination ACKs checked
 *              (one call each: they come from four sessions)
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <gwart/wire.h>

#include <rte_bus_vdev.h>
#include <rte_cryptodev.h>

#include <gwart/auth.h>

#include "auth_dev.h"
#include "custody.h"
#include "gb.h"
#include "handoff.h"
#include "lcore.h"
#include "pkt.h"
#include "route.h"
#include "router.h"

#define REPS 200000u
#define BURST 32u
#define AUTH_ROUNDS 5u

static uint64_t heap_used(void)
{
	struct rte_malloc_socket_stats st;

	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &st) != 0)
		return 0;
	return st.heap_allocsz_bytes;
}

static void add(struct gb_result *r, const char *name, double cyc)
{
	if (r->n_stages < GB_MAX_STAGES) {
		r->stage_name[r->n_stages] = name;
		r->stage_cyc_per_msg[r->n_stages++] = cyc;
	}
}

/* A DATA frame as a connector sends it, inside Ethernet/IPv4/UDP. */
static struct rte_mbuf *data_frame(struct rte_mempool *mp, const struct dp_port_addr *pa,
				   const struct gb_opts *o, const char *dest, uint16_t dlen)
{
	struct gw_hdr_args h = {.sender = 1, .epoch = 1, .seq = 1};
	static uint8_t payload[GW_PAYLOAD_MAX];
	uint16_t flen = (uint16_t)GW_DATA_LEN(dlen, o->payload);
	struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, 1}};
	uint8_t *gw;
	struct rte_mbuf *m = dp_pkt_alloc_udp(mp, pa, rte_cpu_to_be_16(20000), &mac, pa->ip_be,
					      rte_cpu_to_be_16(GB_ROUTER_UDP), flen, &gw);

	if (m == NULL)
		return NULL;
	gw_wire_encode_data(gw, flen, &h, 1, 1, dest, dlen, payload, (uint16_t)o->payload);
	dp_pkt_finish_udp(m);
	return m;
}

/* The workers' authentication work (auth_dev.c) on frames like @frame
 * (@flen bytes, a DATA frame): cryptodev sessions of 4 connectors made
 * here, as dp_auth_sess_create() makes them (that needs a router). */
static int auth_stages(struct gb_result *r, const uint8_t *frame, uint16_t flen)
{
	static uint8_t fr_buf[BURST][GW_FRAME_MAX], ack_buf[5][GW_ACK_LEN];
	struct rte_cryptodev_config cfg = {.socket_id = (int)rte_socket_id(), .nb_queue_pairs = 1};
	struct dp_auth_sess ss[4];
	const struct dp_auth_sess *a[BURST];
	uint8_t *fr[BURST], *dig[BURST], ok[BURST], tags[BURST][GW_TAG_LEN], key[GW_KEY_LEN];
	uint16_t len[BURST];
	struct rte_mempool *sp = NULL;
	struct rte_crypto_sym_xform x;
	uint64_t t, best, i, sink = 0;
	unsigned n, c, round;
	int dev, rc = -1;

	if (rte_vdev_init("crypto_aesni_gcm_gbs", NULL) != 0)
		return -1;
	dev = rte_cryptodev_get_dev_id("crypto_aesni_gcm_gbs");
	if (dev < 0 || rte_cryptodev_configure((uint8_t)dev, &cfg) != 0 ||
	    rte_cryptodev_start((uint8_t)dev) != 0)
		goto out;
	sp = rte_cryptodev_sym_session_pool_create(
		"gbs_auth", 8, rte_cryptodev_sym_get_private_session_size((uint8_t)dev), 0, 0,
		(int)rte_socket_id());
	if (sp == NULL)
		goto out;
	/* The workers' own transform; @key is redrawn before each session. */
	dp_auth_xform_init(&x, key);
	for (c = 0; c < 4; c++) {
		gw_key_generate(key);
		ss[c].dev = (uint8_t)dev;
		ss[c].c2r = rte_cryptodev_sym_session_create((uint8_t)dev, &x, sp);
		gw_key_generate(key);
		ss[c].r2c = rte_cryptodev_sym_session_create((uint8_t)dev, &x, sp);
		if (ss[c].c2r == NULL || ss[c].r2c == NULL)
			goto out;
	}
	for (n = 0; n < BURST; n++) {
		memcpy(fr_buf[n], frame, flen);
		fr[n] = fr_buf[n];
		len[n] = flen;
		a[n] = &ss[n % 4];
	}
	/* Best of AUTH_ROUNDS: these are short loops, and the least disturbed
	 * round is the function's own cost on a shared host. */
	best = 0;
	for (round = 0; round < AUTH_ROUNDS; round++) {
		t = rte_rdtsc();
		for (i = 0; i < REPS / BURST / AUTH_ROUNDS; i++) {
			for (n = 0; n < BURST; n++) {
				fr_buf[n][flen - GW_TAG_LEN - 1] = (uint8_t)i; /* a new ctr */
				dig[n] = tags[n];
			}
			dp_auth_gmac_grouped(BURST, a, 0, fr, len, dig, ok);
			for (n = 0; n < BURST; n++)
				sink += ok[n] && dp_auth_tag_equal(tags[n], fr[n] + flen - GW_TAG_LEN);
		}
		t = rte_rdtsc() - t;
		if (round == 0 || t < best)
			best = t;
	}
	add(r, "auth_rx", (double)best / (REPS / BURST / AUTH_ROUNDS * BURST));
	for (round = 0; round < AUTH_ROUNDS; round++) {
		t = rte_rdtsc();
		for (i = 0; i < REPS / BURST / AUTH_ROUNDS; i++) {
			for (n = 0; n < BURST; n++) {
				fr_buf[n][flen - GW_TAG_LEN - 1] = (uint8_t)i;
				dig[n] = fr[n] + flen - GW_TAG_LEN;
			}
			dp_auth_gmac_grouped(BURST, a, 1, fr, len, dig, ok);
			sink += ok[0];
		}
		t = rte_rdtsc() - t;
		if (round == 0 || t < best)
			best = t;
	}
	add(r, "auth_tx", (double)best / (REPS / BURST / AUTH_ROUNDS * BURST));
	for (round = 0; round < AUTH_ROUNDS; round++) {
		t = rte_rdtsc();
		for (i = 0; i < REPS / BURST / AUTH_ROUNDS; i++) {
			for (c = 0; c < 5; c++) {
				uint8_t *af = ack_buf[c];
				uint8_t *ad = c == 0 ? af + GW_ACK_LEN - GW_TAG_LEN : tags[c];
				uint16_t al = GW_ACK_LEN;

				af[GW_ACK_LEN - GW_TAG_LEN - 1] = (uint8_t)i;
				dp_auth_gmac_burst(&ss[c % 4], c == 0 ? ss[0].r2c : ss[c - 1].c2r, 1,
						   &af, &al, &ad, ok);
				if (c != 0)
					sink += dp_auth_tag_equal(tags[c], af + GW_ACK_LEN - GW_TAG_LEN);
			}
		}
		t = rte_rdtsc() - t;
		if (round == 0 || t < best)
			best = t;
	}
	add(r, "auth_ack", (double)best / (REPS / BURST / AUTH_ROUNDS * BURST));
	rc = 0;
out:
	for (c = 0; rc == 0 && c < 4; c++) {
		rte_cryptodev_sym_session_free((uint8_t)dev, ss[c].c2r);
		rte_cryptodev_sym_session_free((uint8_t)dev, ss[c].r2c);
	}
	rte_mempool_free(sp);
	if (dev >= 0) {
		rte_cryptodev_stop((uint8_t)dev);
		rte_cryptodev_close((uint8_t)dev);
	}
	rte_vdev_uninit("crypto_aesni_gcm_gbs");
	gw_auth_wipe(key, sizeof(key));
	if (sink == 0xdeadbeef)
		fprintf(stderr, "gwart-bench: (keep)\n");
	return rc;
}

static int run(const struct gb_opts *o, struct gb_result *r, struct rte_mempool *mp)
{
	struct dp_port_addr pa = {
	    .port_id = 0, .ip_be = rte_cpu_to_be_32(0xc6120001u), .mtu = 9000};
	struct gb_workload wl;
	struct dp_route_table *rt = NULL;
	struct dp_custody *cu = NULL;
	struct dp_handoff *ho = NULL;
	struct dp_dedup *win = NULL;
	struct rte_mbuf *m, *ms[BURST];
	struct gb_rng rng = {.s = o->seed};
	const uint8_t *gw;
	const char *dest0;
	uint16_t gwlen, dlen = 0, lens[BURST];
	const uint8_t *addrs[BURST];
	const struct dp_route *out[BURST];
	struct gw_frame f;
	uint64_t t, h0, i, k, sink = 0;
	unsigned n;
	int rc = -1;

	if (gb_workload_init(&wl, o, 1) != 0)
		return -1;
	dest0 = gb_workload_addr(&wl, 0, &dlen);
	m = data_frame(mp, &pa, o, dest0, dlen);
	if (m == NULL)
		goto out;
	gw = dp_pkt_gw(m);
	gwlen = (uint16_t)(rte_pktmbuf_data_len(m) - DP_PKT_HDRS);

	if (gw_wire_parse(gw, gwlen, &f) != GW_WIRE_OK) {
		fprintf(stderr, "gwart-bench: stages: test frame does not parse: %s\n",
			gw_wire_status_name(gw_wire_parse(gw, gwlen, &f)));
		goto out;
	}
	t = rte_rdtsc();
	for (i = 0; i < REPS; i++)
		sink += gw_wire_parse(gw, gwlen, &f);
	add(r, "parse", (double)(rte_rdtsc() - t) / REPS);

	t = rte_rdtsc();
	for (i = 0; i < REPS; i++) {
		struct dp_pkt_src src;
		const uint8_t *g2;
		uint16_t l2;
		enum dp_drop_reason why;

		sink +=
		    dp_pkt_classify(&pa, rte_cpu_to_be_16(GB_ROUTER_UDP), m, &g2, &l2, &src, &why);
	}
	add(r, "classify", (double)(rte_rdtsc() - t) / REPS);
	rte_pktmbuf_free(m);

	win = calloc(1, sizeof(*win));
	if (win == NULL)
		goto out;
	dp_dedup_init(win, 0);
	t = rte_rdtsc();
	for (i = 1; i <= REPS; i++) {
		sink += dp_dedup_check(win, i);
		dp_dedup_set_pending(win, i);
		dp_dedup_set_done(win, i);
	}
	add(r, "dedup", (double)(rte_rdtsc() - t) / REPS);

	h0 = heap_used();
	rt = dp_route_table_create("gb_stage_routes", o->routes + 64, (int)rte_socket_id());
	if (rt == NULL)
		goto out;
	for (i = 0; i < o->routes; i++) {
		char type[17], pat[32];
		struct dp_route_target tg = {.cost = 10};

		gb_workload_route(&wl, (uint32_t)i, type, sizeof(type), pat, sizeof(pat),
				  &tg.conn_id);
		if (dp_route_add(rt, type, pat, &tg, 1) != 0)
			goto out;
		if ((i & 4095) == 4095)
			rcu_quiescent_state();
	}
	r->mem_per_route = (double)(heap_used() - h0) / o->routes;
	t = 0;
	for (i = 0; i < REPS / BURST; i++) {
		uint64_t t0;

		for (n = 0; n < BURST; n++)
			addrs[n] = (const uint8_t *)gb_workload_addr(
			    &wl, gb_workload_pick(&wl, &rng), &lens[n]);
		t0 = rte_rdtsc();
		dp_route_lookup_bulk(rt, addrs, lens, BURST, out);
		t += rte_rdtsc() - t0;
		for (n = 0; n < BURST; n++)
			sink += out[n] == NULL;
		rcu_quiescent_state();
	}
	add(r, "route", (double)t / (REPS / BURST * BURST));

	h0 = heap_used();
	cu = dp_custody_create(1024, 1, (int)rte_socket_id());
	if (cu == NULL)
		goto out;
	r->mem_per_conn = (double)(heap_used() - h0) + (double)sizeof(struct dp_conn_state) +
			  (double)sizeof(struct dp_conn);
	t = 0;
	for (i = 0, k = 0; i < REPS / BURST; i++) {
		uint64_t t0;

		if (rte_pktmbuf_alloc_bulk(mp, ms, BURST) != 0)
			goto out;
		t0 = rte_rdtsc();
		for (n = 0; n < BURST; n++)
			k = dp_custody_put(cu, ms[n], 1024);
		cu->next_tx = cu->tail;
		dp_custody_ack(cu, k, k + 1, 0, NULL);
		t += rte_rdtsc() - t0;
	}
	add(r, "custody", (double)t / (REPS / BURST * BURST));

	ho = dp_handoff_create(2, 4096, (int)rte_socket_id());
	if (ho == NULL)
		goto out;
	t = rte_rdtsc();
	for (i = 0; i < REPS / BURST; i++) {
		struct dp_ho_item it[BURST];

		for (n = 0; n < BURST; n++) {
			it[n].seq = i;
			it[n].conn = n;
			it[n].op = DP_HO_VERDICT;
			it[n].arg = 0;
		}
		dp_handoff_send(ho, 0, 1, it, BURST);
		sink += dp_handoff_recv(ho, 1, 0, it, BURST);
	}
	add(r, "handoff", (double)(rte_rdtsc() - t) / (REPS / BURST * BURST));

	m = data_frame(mp, &pa, o, dest0, dlen);
	if (m == NULL)
		goto out;
	rte_pktmbuf_adj(m, DP_PKT_HDRS);
	for (k = 0; k < 2; k++) {
		uint16_t len = k == 0 ? rte_pktmbuf_data_len(m) : GW_ACK_LEN;
		struct rte_ether_addr mac = {{0x02, 0, 0, 0, 0, 2}};
		struct gw_hdr_args h = {.sender = 0, .epoch = 1, .seq = 5};

		t = rte_rdtsc();
		for (i = 0; i < REPS; i++) {
			uint8_t *pl;
			struct rte_mbuf *c =
			    dp_pkt_alloc_udp(mp, &pa, rte_cpu_to_be_16(GB_ROUTER_UDP), &mac,
					     pa.ip_be, rte_cpu_to_be_16(20000), len, &pl);

			if (c == NULL)
				goto out;
			if (k == 0) {
				memcpy(pl, rte_pktmbuf_mtod(m, const void *), len);
				gw_wire_rewrite_hdr(pl, &h);
			} else {
				gw_wire_encode_ack(pl, len, &h, 6, 0);
			}
			dp_pkt_finish_udp(c);
			rte_pktmbuf_free(c);
		}
		add(r, k == 0 ? "tx_build" : "ack_build", (double)(rte_rdtsc() - t) / REPS);
	}
	/* v2: what authentication adds, on this DATA frame: the gwart frame
	 * only (the tag covers it, not the Ethernet/IPv4/UDP headers). */
	{
		unsigned base = r->n_stages;
		double before = 0, with = 0;

		for (n = 0; n < base; n++)
			before += r->stage_cyc_per_msg[n];
		if (gw_auth_init() != 0 ||
		    auth_stages(r, rte_pktmbuf_mtod_offset(m, const uint8_t *, DP_PKT_HDRS),
				(uint16_t)(rte_pktmbuf_data_len(m) - DP_PKT_HDRS)) != 0) {
			fprintf(stderr, "gwart-bench: stages: no cryptodev crypto_aesni_gcm\n");
			rte_pktmbuf_free(m);
			goto out;
		}
		for (n = base; n < r->n_stages; n++)
			with += r->stage_cyc_per_msg[n];
		printf("AUTH stages: %.1f cycles/msg without authentication, %.1f with "
		       "(+%.1f; capacity ratio %.3f)\n",
		       before, before + with, with, before / (before + with));
	}
	rte_pktmbuf_free(m);
	rc = 0;
out:
	if (cu != NULL)
		dp_custody_free(cu);
	dp_handoff_free(ho);
	dp_route_table_free(rt);
	free(win);
	gb_workload_fini(&wl);
	if (sink == 0xdeadbeef)
		fprintf(stderr, "gwart-bench: (keep)\n");
	return rc;
}

int gb_run_stages(const struct gb_opts *o, struct gb_result *r)
{
	char lc[32], mem[16], prefix[48];
	char *argv[] = {"gwart-bench", lc,     "--no-huge",	      "-m", mem, "--no-pci",
			"--no-shconf", prefix, "--log-level=warning", NULL};
	struct rte_mempool *mp;
	unsigned i;
	int rc;

	snprintf(lc, sizeof(lc), "--lcores=0@%d",
		 gb_cpu_pick(o->cpus_workers, 0) < 0 ? 0 : gb_cpu_pick(o->cpus_workers, 0));
	snprintf(mem, sizeof(mem), "%u", 512 + (unsigned)((double)o->routes * 900 / 1048576.0));
	snprintf(prefix, sizeof(prefix), "--file-prefix=gbs%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0) {
		snprintf(r->why, sizeof(r->why), "EAL init: %s", rte_strerror(rte_errno));
		return -1;
	}
	r->tsc_hz = (double)rte_get_tsc_hz();
	rcu_register_thread();
	mp = rte_pktmbuf_pool_create("gb_stage_pool", 8191, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE + o->payload, (int)rte_socket_id());
	rc = mp != NULL ? run(o, r, mp) : -1;
	rcu_barrier();
	rte_mempool_free(mp);
	rcu_unregister_thread();
	rte_eal_cleanup();
	if (rc != 0) {
		snprintf(r->why, sizeof(r->why), "stage microbenchmark failed");
		return -1;
	}
	r->ok = true;
	r->busy_method = "each stage's function in isolation, TSC over repetitions";
	for (i = 0; i < r->n_stages; i++)
		r->busy_cyc_per_msg += r->stage_cyc_per_msg[i];
	return 0;
}
