/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router object: create (named DPDK objects under the router's prefix),
 * start and stop the workers, tunables, statistics, free.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_random.h>
#include <rte_ring.h>

#include <gwart/wire.h>

#include "auth_dev.h"
#include "conn.h"
#include "handoff.h"
#include "lcore.h"
#include "pkt.h"
#include "port.h"
#include "route.h"
#include "router_api.h"
#include "worker.h"

static void tun_free_rcu(struct rcu_head *head)
{
	rte_free(caa_container_of(head, struct dp_tunables, rcu));
}

int dp_router_set_tunables(struct dp_router *rt, const struct dp_tunables *t)
{
	struct dp_tunables *nt, *old = rt->tun;

	if (t->burst == 0 || t->burst > DP_BURST_MAX || t->custody_limit == 0 ||
	    t->custody_limit > DP_CUSTODY_MAX || t->rto_us == 0 || t->rto_max_us < t->rto_us ||
	    t->keepalive_ms == 0 || t->keepalive_mult == 0 || t->custody_bytes == 0 ||
	    t->custody_bytes_total == 0 || t->max_message == 0 || t->max_message > GW_MSG_MAX ||
	    t->group_timeout_ms == 0)
		return -EINVAL;
	nt = rte_malloc("gw_tun", sizeof(*nt), 0);
	if (nt == NULL)
		return -ENOMEM;
	memcpy(nt, t, sizeof(*nt));
	rcu_assign_pointer(rt->tun, nt);
	if (old != NULL)
		call_rcu(&old->rcu, tun_free_rcu);
	return 0;
}

/* The process's routers, for default name prefixes: "gw", "gw1", ... */
static unsigned router_serial;

/* Build "<prefix>_<what>" (@idx >= 0: "<prefix>_<what><idx>") into @buf.
 * The prefix's bound keeps every name within RTE_MEMZONE_NAMESIZE; a name
 * that did not fit would come out empty, and its object create fail. */
static const char *obj_name(char *buf, size_t len, const struct dp_router *rt, const char *what,
			    int idx)
{
	int n = idx < 0 ? snprintf(buf, len, "%s_%s", rt->prefix, what)
			: snprintf(buf, len, "%s_%s%d", rt->prefix, what, idx);

	if (n < 0 || (size_t)n >= len)
		buf[0] = '\0';
	return buf;
}

/* A pool or ring create that failed because the name exists says so. */
static int create_err(void)
{
	return rte_errno == EEXIST ? -EEXIST : -ENOMEM;
}

struct dp_router *dp_router_create(const struct dp_router_params *p, int *err)
{
	struct dp_router *rt;
	struct dp_tunables t = {
		.burst = DP_DEF_BURST,
		.custody_limit = DP_DEF_CUSTODY_LIMIT,
		.custody_bytes = DP_DEF_CUSTODY_BYTES,
		.custody_bytes_total = DP_DEF_CUSTODY_BYTES_TOTAL,
		.max_message = DP_DEF_MAX_MESSAGE,
		.group_timeout_ms = DP_DEF_GROUP_TIMEOUT_MS,
		.busy_retry_us = DP_DEF_BUSY_RETRY_US,
		.rto_us = DP_DEF_RTO_US,
		.rto_max_us = DP_MAX_RTO_US,
		.keepalive_ms = DP_DEF_KEEPALIVE_MS,
		.keepalive_mult = DP_DEF_KEEPALIVE_MULT,
	};
	char name[RTE_MEMZONE_NAMESIZE];
	unsigned lcore, w = 0;
	int rc = -ENOMEM;

	if (p->prefix != NULL && strlen(p->prefix) > DP_ROUTER_PREFIX_MAX) {
		rc = -EINVAL;
		goto out;
	}
	rt = rte_zmalloc("gw_router", sizeof(*rt), RTE_CACHE_LINE_SIZE);
	if (rt == NULL)
		goto out;
	_Static_assert(DP_ROUTER_PREFIX_MAX < DP_ROUTER_PREFIX_LEN, "prefix fits");
	if (p->prefix != NULL && p->prefix[0] != '\0')
		snprintf(rt->prefix, sizeof(rt->prefix), "%s", p->prefix);
	else if (router_serial == 0)
		snprintf(rt->prefix, sizeof(rt->prefix), "gw");
	else
		snprintf(rt->prefix, sizeof(rt->prefix), "gw%u", router_serial % 100000u);
	router_serial++;
	rt->n_workers = rte_lcore_count() - 1;
	if (rt->n_workers == 0 || rt->n_workers > DP_MAX_WORKERS) {
		rc = -EINVAL;
		goto out_rt;
	}
	rt->udp_be = rte_cpu_to_be_16(p->udp_port);
	rt->tsc_hz = rte_get_tsc_hz();
	/* Each router process numbers its egress links in a sequence space of
	 * its own (random upper half), so a destination that outlives a router
	 * restart can tell the new numbering from the old and does not take new
	 * messages for duplicates (include/gwart/PROTOCOL.md, WELCOME). */
	rt->egress_base = ((rte_rand() & 0x3fffffffull) << 32) | 1;
	{
		static const struct rte_mbuf_dynfield rx_tsc_desc = {
			.name = "gwart_rx_tsc",
			.size = sizeof(uint64_t),
			.align = __alignof__(uint64_t),
		};

		/* Residence time needs the RX time to travel with the
		 * message, across hand-offs too. */
		rt->rx_tsc_off = rte_mbuf_dynfield_register(&rx_tsc_desc);
	}
	rt->pool = rte_pktmbuf_pool_create(obj_name(name, sizeof(name), rt, "pool", -1), p->nb_mbuf,
					   DP_MBUF_CACHE, 0, p->mbuf_data_room,
					   (int)rte_socket_id());
	if (rt->pool == NULL) {
		rc = create_err();
		goto out_rt;
	}
	rt->ctl_ring = rte_ring_create(obj_name(name, sizeof(name), rt, "ctl", -1), DP_CTL_RING_SIZE,
				       (int)rte_socket_id(), RING_F_SC_DEQ);
	if (rt->ctl_ring == NULL) {
		rc = create_err();
		goto out_pool;
	}
	rt->ctl_hs_ring = rte_ring_create(obj_name(name, sizeof(name), rt, "ctl_hs", -1),
					  DP_CTL_HS_RING_SIZE, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (rt->ctl_hs_ring == NULL) {
		rc = create_err();
		goto out_ctl;
	}
	for (w = 0; w < rt->n_workers; w++) {
		rt->ctl_tx[w] = rte_ring_create(obj_name(name, sizeof(name), rt, "ctl_tx", (int)w),
						DP_CTL_RING_SIZE, (int)rte_socket_id(),
						RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (rt->ctl_tx[w] == NULL) {
			rc = create_err();
			goto out_ho;
		}
		rt->ctl_cmd[w] = rte_ring_create(obj_name(name, sizeof(name), rt, "ctl_cmd", (int)w),
						 64, (int)rte_socket_id(),
						 RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (rt->ctl_cmd[w] == NULL) {
			rc = create_err();
			goto out_ho;
		}
	}
	rc = -ENOMEM;
	w = 0;
	if (rt->n_workers > 1) {
		rt->ho_msg = dp_handoff_create(rt->n_workers, DP_HANDOFF_RING_SIZE,
					       (int)rte_socket_id());
		rt->ho_vrd = dp_handoff_create(rt->n_workers, DP_HANDOFF_RING_SIZE,
					       (int)rte_socket_id());
		if (rt->ho_msg == NULL || rt->ho_vrd == NULL)
			goto out_ho;
	}
	rt->routes = dp_route_table_create(obj_name(name, sizeof(name), rt, "routes", -1),
					   p->max_routes, (int)rte_socket_id());
	if (rt->routes == NULL)
		goto out_ho;
	rc = dp_router_set_tunables(rt, &t);
	if (rc != 0)
		goto out_routes;
	/* Without the device the router exists (its tests and tools may look
	 * at it) but refuses to start: dp_router_start(). The reason was
	 * printed. */
	(void)dp_auth_dev_open(rt, p->max_sessions != 0 ? p->max_sessions : DP_DEF_AUTH_SESSIONS);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct dp_lcore *lc = rte_zmalloc_socket("gw_lcore", sizeof(*lc),
							 RTE_CACHE_LINE_SIZE,
							 (int)rte_lcore_to_socket_id(lcore));

		if (lc == NULL) {
			rc = -ENOMEM;
			goto out_lcores;
		}
		lc->rt = rt;
		lc->idx = w;
		lc->lcore_id = lcore;
		lc->txq = (uint16_t)w;
		lc->burst_gen = 1;
		dp_group_tab_init(&lc->grp_o);
		dp_group_tab_init(&lc->grp_d);
		/* One slot of a ring is never usable. */
		lc->ho_cap = DP_HANDOFF_RING_SIZE - 1;
		rt->worker_lcore[w] = lcore;
		rt->lcores[w++] = lc;
	}
	return rt;

out_lcores:
	for (w = 0; w < rt->n_workers; w++)
		rte_free(rt->lcores[w]);
	rte_free(rt->tun);
	dp_auth_dev_close(rt);
out_routes:
	dp_route_table_free(rt->routes);
out_ho:
	dp_handoff_free(rt->ho_msg);
	dp_handoff_free(rt->ho_vrd);
	for (w = 0; w < rt->n_workers; w++) {
		rte_ring_free(rt->ctl_tx[w]);
		rte_ring_free(rt->ctl_cmd[w]);
	}
	rte_ring_free(rt->ctl_hs_ring);
out_ctl:
	rte_ring_free(rt->ctl_ring);
out_pool:
	rte_mempool_free(rt->pool);
out_rt:
	rte_free(rt);
out:
	*err = rc;
	return NULL;
}

int dp_router_start(struct dp_router *rt)
{
	unsigned w;
	int rc;

	/* No silent insecure mode: without its cryptodev a router cannot
	 * check or seal a session frame, so it does not run at all. */
	if (rt->auth_dev < 0) {
		fprintf(stderr,
			"gwart: refusing to start: no frame authentication device "
			"(cryptodev crypto_aesni_gcm: %s)\n",
			rte_strerror(-rt->auth_dev));
		return -ENODEV;
	}
	__atomic_store_n(&rt->stop, false, __ATOMIC_RELAXED);
	for (w = 0; w < rt->n_workers; w++) {
		rc = rte_eal_remote_launch(dp_worker_main, rt->lcores[w], rt->worker_lcore[w]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void dp_router_stop(struct dp_router *rt)
{
	unsigned w;

	__atomic_store_n(&rt->stop, true, __ATOMIC_RELAXED);
	for (w = 0; w < rt->n_workers; w++)
		rte_eal_wait_lcore(rt->worker_lcore[w]);
}

void dp_router_stats(const struct dp_router *rt, struct dp_worker_stats *out)
{
	unsigned w, i;

	memset(out, 0, sizeof(*out));
	for (w = 0; w < rt->n_workers; w++) {
		const struct dp_worker_stats *s = &rt->lcores[w]->stats;
		const uint64_t *src = (const uint64_t *)s;
		uint64_t *dst = (uint64_t *)out;

		for (i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
			dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
	/* Frames a port refused never reach a worker (net_tap counts one
	 * larger than the mbuf under ierrors and skips it): every drop is
	 * counted, so the PMD's own counts are a reason too. */
	for (i = 0; i < rt->n_ports; i++) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(rt->ports[i].port_id, &es) == 0)
			out->drops[DP_DROP_PORT_RX] += es.ierrors + es.rx_nombuf;
	}
}

unsigned dp_router_pool_min(unsigned n_ports, unsigned n_workers)
{
	uint64_t n = (uint64_t)n_ports * ((uint64_t)n_workers * DP_RX_DESC +
					  ((uint64_t)n_workers + 1) * DP_TX_DESC);

	/* A cache may hold up to 1.5 times its size before it flushes. */
	n += ((uint64_t)n_workers + 1) * (DP_MBUF_CACHE * 3 / 2);
	return n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
}

unsigned dp_router_pool_default(unsigned n_ports, unsigned n_workers)
{
	uint64_t want = 2 * (uint64_t)dp_router_pool_min(n_ports, n_workers), n = 1;

	if (want < DP_DEF_NB_MBUF)
		want = DP_DEF_NB_MBUF;
	while (n - 1 < want && n < (1ull << 31))
		n <<= 1;
	return (unsigned)(n - 1);
}

int dp_router_worker_stats(const struct dp_router *rt, unsigned w, struct dp_worker_stats *out,
			   unsigned *lcore_id)
{
	const uint64_t *src;
	uint64_t *dst = (uint64_t *)out;
	unsigned i;

	if (w >= rt->n_workers)
		return -EINVAL;
	src = (const uint64_t *)&rt->lcores[w]->stats;
	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	*lcore_id = rt->lcores[w]->lcore_id;
	return 0;
}

void dp_router_worker_loops(const struct dp_router *rt, uint64_t *out)
{
	unsigned w;

	for (w = 0; w < rt->n_workers; w++)
		out[w] = __atomic_load_n(&rt->lcores[w]->stats.loops, __ATOMIC_RELAXED);
}

int dp_router_set_refuse(struct dp_router *rt, int refuse)
{
	struct dp_tunables t = *rt->tun;

	t.refuse_new = refuse ? 1 : 0;
	return dp_router_set_tunables(rt, &t);
}

uint32_t dp_router_max_payload(const struct dp_router *rt)
{
	uint32_t room = rte_pktmbuf_data_room_size(rt->pool) - RTE_PKTMBUF_HEADROOM;
	uint32_t lim = GW_PAYLOAD_MAX;
	unsigned i;

	for (i = 0; i < rt->n_ports; i++) {
		uint32_t l3 = rt->ports[i].mtu < room - RTE_ETHER_HDR_LEN
				      ? rt->ports[i].mtu
				      : room - RTE_ETHER_HDR_LEN;
		uint32_t over = 20 + 8 + GW_DATA_LEN(GW_DEST_MAX, 0);

		if (l3 <= over)
			return 0;
		if (l3 - over < lim)
			lim = l3 - over;
	}
	return lim;
}

unsigned dp_router_free(struct dp_router *rt)
{
	unsigned w, held;
	struct rte_mbuf *m;

	while (rte_ring_sc_dequeue(rt->ctl_ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (rte_ring_sc_dequeue(rt->ctl_hs_ring, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	for (w = 0; w < rt->n_workers; w++)
		while (rte_ring_sc_dequeue(rt->ctl_tx[w], (void **)&m) == 0)
			rte_pktmbuf_free(m);
	/* Messages in flight between workers are still in custody's care. */
	if (rt->n_workers > 1) {
		unsigned a, b;

		for (a = 0; a < rt->n_workers; a++)
			for (b = 0; b < rt->n_workers; b++) {
				struct dp_ho_item it;

				if (a == b)
					continue;
				while (dp_handoff_recv(rt->ho_msg, b, a, &it, 1) == 1)
					rte_pktmbuf_free(it.pkt);
				while (dp_handoff_recv(rt->ho_vrd, b, a, &it, 1) == 1)
					;
			}
	}
	held = dp_conn_free_all(rt);
	dp_port_close_all(rt);
	/* Let every pending call_rcu callback run before freeing their
	 * allocator's backing memory. */
	rcu_barrier();
	dp_auth_dev_close(rt);
	dp_route_table_free(rt->routes);
	rte_free(rt->tun);
	for (w = 0; w < rt->n_workers; w++)
		rte_free(rt->lcores[w]);
	dp_handoff_free(rt->ho_msg);
	dp_handoff_free(rt->ho_vrd);
	for (w = 0; w < rt->n_workers; w++) {
		rte_ring_free(rt->ctl_tx[w]);
		rte_ring_free(rt->ctl_cmd[w]);
	}
	rte_ring_free(rt->ctl_ring);
	rte_ring_free(rt->ctl_hs_ring);
	rte_mempool_free(rt->pool);
	rte_free(rt);
	return held;
}
