/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Phases of a run with endpoints, figures from the snapshots, and the
 * invariant check that decides the exit status (see gb_run.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include <gwart/auth.h>

#include "gb_run.h"

#define GB_SESSION_TIMEOUT_MS 10000

void gb_conn_key(const struct gb_ctx *ctx, uint32_t id, uint8_t out[32])
{
	static const char label[] = "gwart-bench connector";
	uint8_t msg[sizeof(label) - 1 + 4];

	memcpy(msg, label, sizeof(label) - 1);
	msg[sizeof(label) - 1] = (uint8_t)(id >> 24);
	msg[sizeof(label)] = (uint8_t)(id >> 16);
	msg[sizeof(label) + 1] = (uint8_t)(id >> 8);
	msg[sizeof(label) + 2] = (uint8_t)id;
	gw_blake2b_mac(out, 32, ctx->master_key, msg, sizeof(msg));
}

int gb_ctx_init(struct gb_ctx *ctx, const struct gb_opts *o, uint32_t first_dest_id)
{
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->o = o;
	ctx->tsc_hz = rte_get_tsc_hz();
	rc = gw_auth_init();
	if (rc != 0)
		return rc;
	gw_key_generate(ctx->master_key);
	ctx->phase = GB_PH_SETUP;
	rc = gb_workload_init(&ctx->wl, o, first_dest_id);
	if (rc != 0)
		return rc;
	/* The replay generator's templates rely on one DATA length per run. */
	ctx->dest_len = ctx->wl.addr_len[0];
	ctx->data_len = (uint16_t)GW_DATA_LEN(ctx->dest_len, o->payload);
	/* Two keys per connector, twice over (a new session's keys are made
	 * before the old ones go). */
	gb_tag_open(&ctx->tag, 4u * (o->origins + o->dests), o->verbose);
	ctx->ver = gb_verify_create(1, o->origins);
	ctx->last_seq = calloc(o->origins, sizeof(uint64_t));
	if (ctx->ver == NULL || ctx->last_seq == NULL)
		return -ENOMEM;
	return 0;
}

int gb_ctx_endpoints(struct gb_ctx *ctx, const uint16_t *ports, unsigned n_ep,
		     struct rte_mempool *pool, uint32_t router_ip_be,
		     const struct rte_ether_addr *router_mac)
{
	const struct gb_opts *o = ctx->o;
	unsigned e;
	int rc;

	for (e = 0; e < n_ep; e++) {
		bool gen = e < o->gen_threads;
		unsigned k = gen ? e : e - o->gen_threads;
		unsigned nthr = gen ? o->gen_threads : o->sink_threads;
		unsigned total = gen ? o->origins : o->dests;
		unsigned lo = total * k / nthr, hi = total * (k + 1) / nthr;
		uint32_t first = (gen ? 1 : o->origins + 1) + lo;

		rc = gb_endpoint_init(&ctx->ep[e], ctx, e, ports[e], o->workers, router_ip_be,
				      first, hi - lo, gen, pool,
				      o->float_cpus ? -1 : gb_cpu_pick(o->cpus_harness, e));
		if (rc != 0)
			return rc;
		rte_ether_addr_copy(router_mac, &ctx->ep[e].router_mac);
		ctx->n_ep = e + 1;
	}
	return 0;
}

void gb_ctx_stop(struct gb_ctx *ctx)
{
	unsigned e;

	ctx->phase = GB_PH_STOP;
	for (e = 0; e < ctx->n_ep; e++)
		gb_endpoint_join(&ctx->ep[e]);
}

void gb_ctx_fini(struct gb_ctx *ctx)
{
	unsigned e;

	for (e = 0; e < ctx->n_ep; e++)
		gb_endpoint_fini(&ctx->ep[e]);
	gb_tag_close(&ctx->tag);
	gb_verify_free(ctx->ver);
	free(ctx->last_seq);
	gb_workload_fini(&ctx->wl);
	memset(ctx, 0, sizeof(*ctx));
}

static unsigned origins_idle(const struct gb_ctx *ctx)
{
	unsigned e, n = 0;

	for (e = 0; e < ctx->n_ep; e++)
		if (ctx->ep[e].is_origin)
			n += atomic_load(&ctx->ep[e].idle);
	return n;
}

static double cpu_ns_delta(const struct gb_snap *a, const struct gb_snap *b, unsigned n)
{
	double ns = 0;
	unsigned w;

	for (w = 0; w < n && w < GB_MAX_QUEUES; w++)
		ns += (double)(b->worker_ns[w] - a->worker_ns[w]);
	return ns;
}

static double user_ns_delta(const struct gb_snap *a, const struct gb_snap *b, unsigned n)
{
	double ns = 0;
	unsigned w;

	for (w = 0; w < n && w < GB_MAX_QUEUES; w++)
		ns += (double)(b->worker_user_ns[w] - a->worker_user_ns[w]);
	return ns;
}

static void figures(struct gb_ctx *ctx, const struct gb_snap *s0, const struct gb_snap *s1,
		    struct gb_result *r)
{
	const struct gb_opts *o = ctx->o;
	double hz = (double)ctx->tsc_hz, cpu_ns, cpu_cyc, user_ns, user_cyc, dl, dbl, busy, routed;
	unsigned i;

	r->tsc_hz = hz;
	r->workers = o->workers;
	r->wall_s = (double)(s1->tsc - s0->tsc) / hz;
	r->messages = s1->ep.delivered - s0->ep.delivered;
	r->rate = r->wall_s > 0 ? (double)r->messages / r->wall_s : 0;
	cpu_ns = cpu_ns_delta(s0, s1, o->workers);
	cpu_cyc = cpu_ns * hz / 1e9;
	r->worker_cpu_s = cpu_ns / 1e9;
	/* Shares of their CPUs the busy-polling threads got: a pinned thread
	 * that polls gets all of its CPU unless something else ran there. */
	if (r->wall_s > 0) {
		unsigned e, f, threads = 0;

		r->worker_cpu_share = cpu_ns / 1e9 / r->wall_s / o->workers;
		/* Endpoint threads: distinct tids (endpoints share them). */
		for (e = 0; e < ctx->n_ep; e++) {
			int tid = atomic_load(&ctx->ep[e].tid);

			for (f = 0; f < e && atomic_load(&ctx->ep[f].tid) != tid; f++)
				;
			threads += f == e && tid > 0;
		}
		if (threads > 0)
			r->harness_cpu_share =
			    (double)(s1->harness_ns - s0->harness_ns) / 1e9 / r->wall_s / threads;
	}
	user_ns = user_ns_delta(s0, s1, o->workers);
	user_cyc = user_ns * hz / 1e9;
	r->worker_user_s = user_ns / 1e9;
	dl = (double)(s1->loops - s0->loops);
	dbl = (double)(s1->busy_loops - s0->busy_loops);
	r->busy_frac = dl > 0 ? dbl / dl : 0;
	if (r->messages == 0)
		return;
	r->harness_cyc_per_msg =
	    (double)(s1->ep.busy_cycles - s0->ep.busy_cycles) / (double)r->messages;
	r->harness_cpu_cyc_per_msg =
	    (double)(s1->harness_ns - s0->harness_ns) * hz / 1e9 / (double)r->messages;
	if (cpu_ns > 0) {
		r->cyc_per_msg_cpu = cpu_cyc / (double)r->messages;
		r->cyc_per_msg_user = user_cyc / (double)r->messages;
	}
	/* Per worker core: messages per second of the workers' own (user
	 * mode) CPU time. */
	if (user_ns > 0)
		r->rate_per_worker_cpu = (double)r->messages / r->worker_user_s;
	/* Busy cycles per message: the workers' own TSC of every iteration
	 * that did work (top of the iteration to its end), over the messages
	 * they routed in the window. Nothing is calibrated or subtracted: an
	 * idle iteration is simply not counted. */
	busy = (double)(s1->busy_cycles - s0->busy_cycles);
	routed = (double)(s1->routed - s0->routed);
	if (busy > 0 && routed > 0) {
		r->busy_cyc_per_msg = busy / routed;
		r->busy_tsc_per_msg = r->busy_cyc_per_msg;
		r->busy_method = "worker TSC of busy iterations / routed";
	}
	if (busy > 0 && s1->tsc > s0->tsc && o->workers > 0) {
		r->idle_frac = 1.0 - busy / ((double)(s1->tsc - s0->tsc) * o->workers);
		if (r->idle_frac < 0)
			r->idle_frac = 0;
		r->harness_bound = r->idle_frac > GB_HARNESS_BOUND_IDLE;
	}
	{
		uint64_t d[DP_HIST_BUCKETS];
		double to_us = r->tsc_hz > 0 ? 1e6 / r->tsc_hz : 0;

		for (i = 0; i < DP_HIST_BUCKETS; i++)
			d[i] = s1->residence[i] - s0->residence[i];
		r->res_p50_us = (double)dp_hist_quantile(d, 0.5, &r->res_count) * to_us;
		r->res_p99_us = (double)dp_hist_quantile(d, 0.99, NULL) * to_us;
		r->res_p999_us = (double)dp_hist_quantile(d, 0.999, NULL) * to_us;
		r->res_max_us = (double)dp_hist_quantile(d, 1.0, NULL) * to_us;
	}
	if (s1->n_stages > 0) {
		/* Stage accounting is sampled (one burst in so many): its sum
		 * is the busy cycles of the sampled bursts only. Each stage is
		 * its share of that sum, applied to the busy figure above. */
		double sum = 0;

		for (i = 0; i < s1->n_stages; i++)
			sum += (double)(s1->stage_cycles[i] - s0->stage_cycles[i]);
		r->n_stages = sum > 0 ? s1->n_stages : 0;
		for (i = 0; i < r->n_stages; i++) {
			r->stage_name[i] = s1->stage_name[i];
			r->stage_frac[i] = (double)(s1->stage_cycles[i] - s0->stage_cycles[i]) / sum;
			r->stage_cyc_per_msg[i] = r->stage_frac[i] * r->busy_cyc_per_msg;
		}
	}
}

/* Violations of exactly-once fail the run (exit 1) whatever else happened;
 * acknowledged messages not delivered while the router still held some in
 * custody when the drain time ran out make it inconclusive (exit 3): the
 * worker did not get the CPU to finish, nothing proves a loss. */
static void verdict(struct gb_ctx *ctx, struct gb_result *r)
{
	const struct gb_ep_stats *s = &r->ep;
	bool unsettled = r->unsettled != 0 && r->unsettled != UINT64_MAX;

	gb_verify_check(ctx->ver, ctx->last_seq, &r->ver);
	r->ok = false;
	r->inconclusive = false;
	if (r->why[0] != '\0')
		return;
	if (s->dup_delivered)
		snprintf(r->why, sizeof(r->why), "%lu message(s) delivered twice",
			 s->dup_delivered);
	else if (r->ver.unexpected)
		snprintf(r->why, sizeof(r->why), "%lu refused message(s) delivered",
			 r->ver.unexpected);
	else if (s->misrouted || s->corrupt)
		snprintf(r->why, sizeof(r->why), "%lu misrouted, %lu corrupt", s->misrouted,
			 s->corrupt);
	else if (r->ver.lost && unsettled) {
		snprintf(r->why, sizeof(r->why),
			 "inconclusive: did not settle within the drain time, %lu acknowledged "
			 "message(s) undelivered, %lu still in the router's custody",
			 r->ver.lost, r->unsettled);
		r->inconclusive = true;
	} else if (r->ver.lost)
		snprintf(r->why, sizeof(r->why), "%lu acknowledged message(s) never delivered",
			 r->ver.lost);
	else if (s->unresolved)
		snprintf(r->why, sizeof(r->why), "%lu message(s) still unacknowledged at the end",
			 s->unresolved);
	else if (s->refused)
		snprintf(r->why, sizeof(r->why), "%lu message(s) refused by the router",
			 s->refused);
	else if (r->messages == 0)
		snprintf(r->why, sizeof(r->why), "no message delivered in the measured interval");
	else if (!ctx->o->no_auth && (s->rx_auth_failed || s->rx_replayed))
		/* The router signs every frame it sends a connector (v2). */
		snprintf(r->why, sizeof(r->why),
			 "%lu router frame(s) failed authentication, %lu replayed",
			 s->rx_auth_failed, s->rx_replayed);
	else
		r->ok = true;
}

int gb_run_phases(struct gb_ctx *ctx, const struct gb_run_ops *ops, struct gb_result *r)
{
	const struct gb_opts *o = ctx->o;
	struct gb_snap s0 = {0}, s1 = {0}, send = {0};
	unsigned e, waited;
	uint64_t deadline;

	if (gb_ctx_start(ctx) != 0) {
		snprintf(r->why, sizeof(r->why), "cannot start endpoint threads");
		goto stop;
	}
	for (waited = 0; gb_ctx_up(ctx) < o->origins + o->dests; waited += 10) {
		/* 10 s, and 1 ms more a connector: HELLOs are paced. */
		if (waited >= GB_SESSION_TIMEOUT_MS + (o->origins + o->dests)) {
			snprintf(r->why, sizeof(r->why), "only %u of %u sessions came up",
				 gb_ctx_up(ctx), o->origins + o->dests);
			for (e = 0; o->verbose && e < ctx->n_ep; e++)
				fprintf(stderr, "gwart-bench: endpoint %u: %u up, rx %lu bad %lu\n",
					e, atomic_load(&ctx->ep[e].up), ctx->ep[e].st.rx_frames,
					ctx->ep[e].st.rx_bad);
			goto stop;
		}
		ops->pump(ops->arg, 10);
	}
	ctx->phase = GB_PH_RUN;
	/* A run bounded by --count measures from its first message. */
	if (o->count == 0)
		ops->pump(ops->arg, (unsigned)(o->warmup_s * 1000));
	ops->snap(ops->arg, &s0);
	ctx->recording = 1;
	deadline = s0.tsc + (uint64_t)(o->duration_s * (double)ctx->tsc_hz);
	while (rte_rdtsc() < deadline) {
		ops->pump(ops->arg, 20);
		if (o->count != 0 && origins_idle(ctx) == o->origins) {
			struct gb_ep_stats st;

			gb_ctx_stats(ctx, &st);
			if (st.sent >= (uint64_t)o->count * o->origins)
				break;
		}
	}
	ops->snap(ops->arg, &s1);
	ctx->recording = 0;

	/* Drain: no new messages; everything sent must settle. */
	ctx->phase = GB_PH_DRAIN;
	deadline = rte_rdtsc() + (uint64_t)(o->drain_s * (double)ctx->tsc_hz);
	for (;;) {
		struct gb_ep_stats st;

		ops->pump(ops->arg, 10);
		gb_ctx_stats(ctx, &st);
		if (origins_idle(ctx) == o->origins &&
		    st.delivered + st.dup_delivered >= st.acked && ops->custody(ops->arg) == 0)
			break;
		if (rte_rdtsc() >= deadline) {
			r->unsettled = ops->custody(ops->arg);
			if (r->unsettled == 0)
				r->unsettled = UINT64_MAX; /* custody unknown or empty */
			if (o->verbose)
				fprintf(stderr,
					"gwart-bench: drain timed out: idle %u/%u acked %lu "
					"delivered %lu custody %lu\n",
					origins_idle(ctx), o->origins, st.acked, st.delivered,
					ops->custody(ops->arg));
			break;
		}
	}
	ops->snap(ops->arg, &send);
stop:
	gb_ctx_stop(ctx);
	gb_ctx_stats(ctx, &r->ep);
	for (e = 0; e < ctx->n_ep; e++)
		gb_hist_merge(&r->lat, &ctx->ep[e].lat);
	for (e = 0; e < ctx->n_ep; e++)
		if ((double)ctx->ep[e].mem_per_conn > r->harness_mem_per_conn)
			r->harness_mem_per_conn = (double)ctx->ep[e].mem_per_conn;
	if (r->why[0] == '\0') {
		figures(ctx, &s0, &s1, r);
		r->r_rx_pkts = send.rx_pkts;
		r->r_routed = send.routed;
		r->r_tx_data = send.tx_data;
		r->r_retransmits = send.retransmits;
		r->r_dups = send.dups;
		r->r_handoffs = send.handoffs;
		r->r_steered = send.steered;
		r->r_drops = send.drops_total;
		r->r_busy = send.drops_busy;
		r->r_tx_full = send.drops_tx_full;
	}
	verdict(ctx, r);
	return r->ok ? 0 : -1;
}
