/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "conn.h"
#include "custody.h"

static void conn_free_rcu(struct rcu_head *head)
{
	rte_free(caa_container_of(head, struct dp_conn, rcu));
}

const struct dp_conn *dp_conn_peek(const struct dp_router *rt, uint32_t id)
{
	if (id == 0 || id >= DP_MAX_CONNECTORS)
		return NULL;
	return rt->conns[id];
}

/*
 * Replace connector @id by an edited copy. Phases: (1) copy, (2) edit the
 * copy, (3) publish it, (4) retire the old object after a grace period so
 * that workers still reading it finish first.
 */
static int conn_republish(struct dp_router *rt, uint32_t id,
			  void (*edit)(struct dp_conn *c, const void *arg), const void *arg)
{
	struct dp_conn *old = rt->conns[id], *nc;

	if (old == NULL)
		return -ENOENT;
	nc = rte_malloc("gw_conn", sizeof(*nc), RTE_CACHE_LINE_SIZE);
	if (nc == NULL)
		return -ENOMEM;
	memcpy(nc, old, sizeof(*nc));
	edit(nc, arg);
	rcu_assign_pointer(rt->conns[id], nc);
	call_rcu(&old->rcu, conn_free_rcu);
	return 0;
}

int dp_conn_create(struct dp_router *rt, uint32_t id, const char *name)
{
	struct dp_conn *c;
	struct dp_conn_state *st;
	uint32_t slots = 1;

	if (id == 0 || id >= DP_MAX_CONNECTORS || name == NULL || strlen(name) >= sizeof(c->name))
		return -EINVAL;
	if (rt->conns[id] != NULL)
		return -EEXIST;
	while (slots < DP_CUSTODY_MAX && slots < rt->tun->custody_limit)
		slots <<= 1;
	st = rte_zmalloc("gw_conn_state", sizeof(*st), RTE_CACHE_LINE_SIZE);
	c = rte_zmalloc("gw_conn", sizeof(*c), RTE_CACHE_LINE_SIZE);
	if (st == NULL || c == NULL)
		goto err;
	st->cust = dp_custody_create(slots, rt->egress_base, SOCKET_ID_ANY);
	if (st->cust == NULL)
		goto err;
	st->id = id;
	dp_dedup_init(&st->win, 0);
	c->id = id;
	c->owner = (uint16_t)(id % rt->n_workers);
	c->enabled = 1;
	c->st = st;
	strcpy(c->name, name);
	rcu_assign_pointer(rt->conns[id], c);
	return 0;
err:
	rte_free(c);
	rte_free(st);
	return -ENOMEM;
}

static void edit_up(struct dp_conn *c, const void *arg)
{
	const struct dp_conn_session *s = arg;

	c->up = 1;
	c->epoch = c->epoch + 1 == 0 ? 1 : c->epoch + 1;
	c->port = s->port;
	c->mac = s->mac;
	c->ip_be = s->ip_be;
	c->udp_be = s->udp_be;
	c->rx_window = s->rx_window;
	c->nonce = s->nonce;
	c->hello_seq = s->hello_seq;
	c->hello_gen++;
}

int dp_conn_session_up(struct dp_router *rt, uint32_t id, const struct dp_conn_session *s,
		       uint32_t *epoch)
{
	int rc;

	if (id == 0 || id >= DP_MAX_CONNECTORS || s->rx_window == 0)
		return -EINVAL;
	rc = conn_republish(rt, id, edit_up, s);
	if (rc == 0 && epoch != NULL)
		*epoch = rt->conns[id]->epoch;
	return rc;
}

static void edit_refresh(struct dp_conn *c, const void *arg)
{
	uint64_t seq = *(const uint64_t *)arg;

	if (seq > c->hello_seq)
		c->hello_seq = seq;
	c->hello_gen++;
}

int dp_conn_session_refresh(struct dp_router *rt, uint32_t id, uint64_t hello_seq)
{
	if (id == 0 || id >= DP_MAX_CONNECTORS)
		return -EINVAL;
	return conn_republish(rt, id, edit_refresh, &hello_seq);
}

static void edit_down(struct dp_conn *c, const void *arg)
{
	(void)arg;
	c->up = 0;
}

int dp_conn_session_down(struct dp_router *rt, uint32_t id)
{
	if (id == 0 || id >= DP_MAX_CONNECTORS)
		return -EINVAL;
	return conn_republish(rt, id, edit_down, NULL);
}

static void edit_enabled(struct dp_conn *c, const void *arg)
{
	c->enabled = *(const int *)arg ? 1 : 0;
}

int dp_conn_set_enabled(struct dp_router *rt, uint32_t id, int enabled)
{
	if (id == 0 || id >= DP_MAX_CONNECTORS)
		return -EINVAL;
	return conn_republish(rt, id, edit_enabled, &enabled);
}

unsigned dp_conn_free_all(struct dp_router *rt)
{
	unsigned n = 0;
	uint32_t id;

	for (id = 1; id < DP_MAX_CONNECTORS; id++) {
		struct dp_conn *c = rt->conns[id];

		if (c == NULL)
			continue;
		rcu_assign_pointer(rt->conns[id], NULL);
		n += dp_custody_free(c->st->cust);
		rte_free(c->st);
		rte_free(c);
	}
	return n;
}
