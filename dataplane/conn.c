/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connector lifecycle, whole: create, republish on every session and
 * administrative change, control's snapshot of worker-owned state, delete
 * in phases (with the owner worker's half, dp_conn_owner_retire()), and
 * free at shutdown. See conn.h for the contracts and DATAPLANE.md for the
 * lifetimes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "auth_dev.h"
#include "conn.h"
#include "conn_state.h"
#include "custody.h"
#include "egress.h"
#include "lcore.h"
#include "pkt.h"

/* ---- memory: the DPDK heap, or a test's hooks ----------------------------- */

static struct dp_conn_test_hooks hooks;

void dp_conn_set_test_hooks(const struct dp_conn_test_hooks *h)
{
	if (h != NULL)
		hooks = *h;
	else
		memset(&hooks, 0, sizeof(hooks));
}

static void *obj_alloc(enum dp_conn_obj kind, size_t size)
{
	if (hooks.alloc != NULL)
		return hooks.alloc(hooks.arg, kind, size);
	return rte_zmalloc(kind == DP_CONN_OBJ_CONN ? "gw_conn" : "gw_conn_state", size,
			   RTE_CACHE_LINE_SIZE);
}

/* Readers cannot find @obj any more; tests start its grace-period clock. */
static void obj_unlinked(enum dp_conn_obj kind, void *obj)
{
	if (hooks.unlinked != NULL)
		hooks.unlinked(hooks.arg, kind, obj);
}

static void obj_free(enum dp_conn_obj kind, void *obj)
{
	if (obj == NULL)
		return;
	if (hooks.free != NULL)
		hooks.free(hooks.arg, kind, obj);
	else
		rte_free(obj);
}

static void conn_free_rcu(struct rcu_head *head)
{
	obj_free(DP_CONN_OBJ_CONN, caa_container_of(head, struct dp_conn, rcu));
}

/* ---- which ids exist: a two-level bitmap (control thread only) ------------ */

_Static_assert(DP_MAX_CONNECTORS % (64 * 64) == 0, "two-level id bitmap");

static void conn_id_set(struct dp_router *rt, uint32_t id)
{
	rt->conn_bits[id / 64] |= 1ull << (id % 64);
	rt->conn_sum[id / 4096] |= 1ull << (id / 64 % 64);
	rt->n_conns++;
}

static void conn_id_clear(struct dp_router *rt, uint32_t id)
{
	rt->conn_bits[id / 64] &= ~(1ull << (id % 64));
	if (rt->conn_bits[id / 64] == 0)
		rt->conn_sum[id / 4096] &= ~(1ull << (id / 64 % 64));
	rt->n_conns--;
}

uint32_t dp_conn_next(const struct dp_router *rt, uint32_t after)
{
	uint32_t id = after + 1, w, s;
	uint64_t bits;

	if (after >= DP_MAX_CONNECTORS - 1)
		return 0;
	/* The rest of after's word first. */
	w = id / 64;
	bits = rt->conn_bits[w] & (~0ull << (id % 64));
	if (bits != 0)
		return w * 64 + (uint32_t)__builtin_ctzll(bits);
	/* Then the summary: words above w in its group, then later groups. */
	w++;
	for (s = w / 64; s < DP_MAX_CONNECTORS / 4096; s++) {
		uint64_t sum = rt->conn_sum[s];

		if (s == w / 64)
			sum &= w % 64 ? ~0ull << (w % 64) : ~0ull;
		if (sum != 0) {
			uint32_t word = s * 64 + (uint32_t)__builtin_ctzll(sum);

			return word * 64 + (uint32_t)__builtin_ctzll(rt->conn_bits[word]);
		}
	}
	return 0;
}

const struct dp_conn *dp_conn_peek(const struct dp_router *rt, uint32_t id)
{
	if (id == 0 || id >= DP_MAX_CONNECTORS)
		return NULL;
	return rt->conns[id];
}

/* ---- create and republish ---------------------------------------------- */

/*
 * Replace connector @id by an edited copy. Phases: (1) copy, (2) edit the
 * copy, (3) publish it, (4) retire the old object after a grace period so
 * that workers still reading it finish first (call_rcu: the control thread
 * does not wait). The state (dp_conn.st) moves to the copy unchanged.
 */
static int conn_republish(struct dp_router *rt, uint32_t id,
			  void (*edit)(struct dp_conn *c, const void *arg), const void *arg)
{
	struct dp_conn *old = rt->conns[id], *nc;

	if (old == NULL)
		return -ENOENT;
	nc = obj_alloc(DP_CONN_OBJ_CONN, sizeof(*nc));
	if (nc == NULL)
		return -ENOMEM;
	memcpy(nc, old, sizeof(*nc));
	edit(nc, arg);
	rcu_assign_pointer(rt->conns[id], nc);
	obj_unlinked(DP_CONN_OBJ_CONN, old);
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
	/* Room for custody_limit messages, and for a message of max_message
	 * bytes in chunks of DP_CHUNK_MIN_PAYLOAD (a group takes a slot per
	 * chunk): up to DP_CUSTODY_MAX. */
	while (slots < DP_CUSTODY_MAX &&
	       (slots < rt->tun->custody_limit ||
		(uint64_t)slots * DP_CHUNK_MIN_PAYLOAD < rt->tun->max_message))
		slots <<= 1;
	st = obj_alloc(DP_CONN_OBJ_STATE, sizeof(*st));
	c = obj_alloc(DP_CONN_OBJ_CONN, sizeof(*c));
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
	conn_id_set(rt, id);
	return 0;
err:
	obj_free(DP_CONN_OBJ_CONN, c);
	obj_free(DP_CONN_OBJ_STATE, st);
	return -ENOMEM;
}

struct up_arg {
	const struct dp_router *rt;
	const struct dp_conn_session *s;
	const struct dp_auth_sess *auth;
	int new_session;
};

static void edit_up(struct dp_conn *c, const void *arg)
{
	const struct up_arg *ua = arg;
	const struct dp_conn_session *s = ua->s;

	c->up = 1;
	if (s->epoch != 0)
		c->epoch = s->epoch;
	else
		c->epoch = c->epoch + 1 == 0 ? 1 : c->epoch + 1;
	memcpy(c->salt, s->salt, sizeof(c->salt));
	c->port = s->port;
	c->mac = s->mac;
	c->ip_be = s->ip_be;
	c->udp_be = s->udp_be;
	/* Built here, once per publication, so that a worker's frames to it
	 * only copy it (api/pkt.h). A port index out of range (never from
	 * control) leaves a zero template rather than reading past ports[]. */
	if (s->port < DP_MAX_PORTS)
		dp_pkt_tmpl_build(&c->tmpl, &ua->rt->ports[s->port], ua->rt->udp_be, &s->mac,
				  s->ip_be, s->udp_be);
	else
		memset(&c->tmpl, 0, sizeof(c->tmpl));
	c->rx_window = s->rx_window;
	c->nonce = s->nonce;
	c->hello_seq = s->hello_seq;
	c->hello_gen++;
	c->auth = ua->auth;
	if (ua->new_session)
		c->sess_gen++;
}

/*
 * A new session gets new cryptodev sessions from @s->keys (created here, on
 * the control thread, before anything is published: a failure changes
 * nothing) and a new sess_gen, so that the owner worker resets its lane-1
 * replay window and send counter. The same session again (a live session,
 * same epoch, salt and instance nonce: the keys derived from them are the
 * same) keeps its cryptodev sessions, counters and window; its address may
 * still be edited (control decides what a move is). The sessions replaced
 * are freed after a grace period: a worker may still be using them.
 */
int dp_conn_session_up(struct dp_router *rt, uint32_t id, const struct dp_conn_session *s,
		       uint32_t *epoch)
{
	const struct dp_conn *old;
	const struct dp_auth_sess *prev;
	struct up_arg ua = {.rt = rt, .s = s};
	struct dp_auth_sess *auth = NULL;
	int rc;

	if (id == 0 || id >= DP_MAX_CONNECTORS || s->rx_window == 0)
		return -EINVAL;
	old = rt->conns[id];
	if (old == NULL)
		return -ENOENT;
	prev = old->auth;
	if (old->up && prev != NULL && s->epoch != 0 && s->epoch == old->epoch &&
	    s->nonce == old->nonce && memcmp(s->salt, old->salt, GW_SALT_LEN) == 0) {
		ua.auth = prev;
		prev = NULL;
	} else {
		auth = dp_auth_sess_create(rt, &s->keys, &rc);
		if (auth == NULL)
			return rc;
		ua.auth = auth;
		ua.new_session = 1;
	}
	rc = conn_republish(rt, id, edit_up, &ua);
	if (rc != 0) {
		dp_auth_sess_free(auth);
		return rc;
	}
	dp_auth_sess_retire((struct dp_auth_sess *)prev);
	if (epoch != NULL)
		*epoch = rt->conns[id]->epoch;
	return 0;
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
	c->auth = NULL;
}

/* The session's keys are forgotten with it (the next session has new ones):
 * its cryptodev sessions are freed after a grace period. */
int dp_conn_session_down(struct dp_router *rt, uint32_t id)
{
	const struct dp_auth_sess *prev;
	int rc;

	if (id == 0 || id >= DP_MAX_CONNECTORS)
		return -EINVAL;
	prev = rt->conns[id] != NULL ? rt->conns[id]->auth : NULL;
	rc = conn_republish(rt, id, edit_down, NULL);
	if (rc == 0)
		dp_auth_sess_retire((struct dp_auth_sess *)prev);
	return rc;
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

static void edit_name(struct dp_conn *c, const void *arg)
{
	snprintf(c->name, sizeof(c->name), "%s", (const char *)arg);
}

int dp_conn_set_name(struct dp_router *rt, uint32_t id, const char *name)
{
	if (id == 0 || id >= DP_MAX_CONNECTORS || name == NULL || name[0] == '\0' ||
	    strlen(name) >= sizeof(rt->conns[0]->name))
		return -EINVAL;
	return conn_republish(rt, id, edit_name, name);
}

/* ---- what control may read of worker-owned state ------------------------ */

int dp_conn_snapshot(const struct dp_router *rt, uint32_t id, struct dp_conn_snap *out)
{
	const struct dp_conn *c = dp_conn_peek(rt, id);
	const struct dp_conn_state *st;
	const uint64_t *src;
	uint64_t *dst;
	size_t i;

	_Static_assert(sizeof(struct dp_conn_stats) % sizeof(uint64_t) == 0,
		       "dp_conn_stats holds 64-bit counters only");
	if (c == NULL)
		return -ENOENT;
	st = c->st;
	out->held = __atomic_load_n(&st->cust->held, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&st->cust->bytes, __ATOMIC_RELAXED);
	out->rx_cum = __atomic_load_n(&st->win.cum, __ATOMIC_RELAXED);
	out->tx_acked = __atomic_load_n(&st->cust->head, __ATOMIC_RELAXED) - 1;
	src = (const uint64_t *)&st->stats;
	dst = (uint64_t *)&out->stats;
	for (i = 0; i < sizeof(out->stats) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	return 0;
}

uint64_t dp_conn_custody_total(const struct dp_router *rt)
{
	uint64_t n = 0;
	uint32_t id;

	for (id = dp_conn_next(rt, 0); id != 0; id = dp_conn_next(rt, id))
		n += __atomic_load_n(&rt->conns[id]->st->cust->held, __ATOMIC_RELAXED);
	return n;
}

uint64_t dp_conn_custody_bytes_total(const struct dp_router *rt)
{
	uint64_t n = 0;
	uint32_t id;

	for (id = dp_conn_next(rt, 0); id != 0; id = dp_conn_next(rt, id))
		n += __atomic_load_n(&rt->conns[id]->st->cust->bytes, __ATOMIC_RELAXED);
	return n;
}

/* ---- removal ------------------------------------------------------------ */

/*
 * Removal in phases, as WireGuard's peer_make_dead() and
 * peer_remove_after_dead():
 * (0) refuse while custody holds messages (nothing acknowledged to an origin
 *     is ever dropped on purpose) or a group's reservation (its chunks are
 *     still to come), or while the owner's command ring has no
 *     room (the control thread is its only producer, so room seen here is
 *     still there in phase 3);
 * (1) make it dead: unpublish the object and clear its id, so that no
 *     worker can find it from now on. Workers never keep a dp_conn pointer
 *     across a quiescent state, they look connectors up by id each time
 *     (the NULL they get is the dead flag WireGuard's readers re-check);
 *     what they do keep is the state, on the owner's active list;
 * (2) wait for a grace period, so that no worker still uses a pointer it
 *     fetched before (1); a message that such a worker put into custody
 *     meanwhile is counted in *lost;
 * (3) hand the state to its owner worker, which alone may unlink it from
 *     its active list, and wait for the acknowledgement
 *     (dp_conn_owner_retire(): st->retired, release/acquire);
 * (4) free the custody queue with what it holds, the state and the object:
 *     nothing references them any more.
 */
int dp_conn_delete(struct dp_router *rt, uint32_t id, unsigned *lost)
{
	struct dp_conn *c = (struct dp_conn *)dp_conn_peek(rt, id);
	struct dp_conn_state *st;
	uint64_t deadline;
	unsigned n;

	if (lost != NULL)
		*lost = 0;
	if (c == NULL)
		return -ENOENT;
	st = c->st;
	/* (0) */
	if (__atomic_load_n(&st->cust->held, __ATOMIC_RELAXED) != 0 ||
	    __atomic_load_n(&st->cust->bytes, __ATOMIC_RELAXED) != 0)
		return -EBUSY;
	if (rte_ring_free_count(rt->ctl_cmd[c->owner]) == 0)
		return -EAGAIN;
	/* (1) */
	rcu_assign_pointer(rt->conns[id], NULL);
	conn_id_clear(rt, id);
	obj_unlinked(DP_CONN_OBJ_CONN, c);
	obj_unlinked(DP_CONN_OBJ_STATE, st);
	/* (2) */
	synchronize_rcu();
	/* (3) Cannot fail: single producer, room checked in (0). */
	if (rte_ring_sp_enqueue(rt->ctl_cmd[c->owner], st) != 0)
		return -EAGAIN;
	deadline = rte_get_tsc_cycles() + 2 * rte_get_tsc_hz();
	while (!__atomic_load_n(&st->retired, __ATOMIC_ACQUIRE)) {
		struct timespec ts = {0, 50000};

		/* A worker that does not answer is stuck: leak the state
		 * rather than free it under that worker. */
		if (rte_get_tsc_cycles() > deadline)
			return -ETIMEDOUT;
		rcu_thread_offline();
		nanosleep(&ts, NULL);
		rcu_thread_online();
	}
	/* (4) */
	n = dp_custody_free(st->cust);
	if (lost != NULL)
		*lost = n;
	dp_auth_sess_free((struct dp_auth_sess *)c->auth);
	obj_free(DP_CONN_OBJ_STATE, st);
	obj_free(DP_CONN_OBJ_CONN, c);
	return 0;
}

void dp_conn_owner_retire(struct dp_lcore *lc)
{
	struct dp_conn_state *st;

	while (rte_ring_sc_dequeue(lc->rt->ctl_cmd[lc->idx], (void **)&st) == 0) {
		if (st->act_pprev != NULL)
			dp_egress_forget(st);
		__atomic_store_n(&st->retired, 1, __ATOMIC_RELEASE);
	}
}

/* Shutdown, workers stopped: nothing reads connectors any more, so each is
 * unlinked and freed at once (older versions still wait in call_rcu, which
 * dp_router_free() flushes with rcu_barrier()). */
unsigned dp_conn_free_all(struct dp_router *rt)
{
	unsigned n = 0;
	uint32_t id;

	while ((id = dp_conn_next(rt, 0)) != 0) {
		struct dp_conn *c = rt->conns[id];

		rcu_assign_pointer(rt->conns[id], NULL);
		conn_id_clear(rt, id);
		obj_unlinked(DP_CONN_OBJ_CONN, c);
		obj_unlinked(DP_CONN_OBJ_STATE, c->st);
		n += dp_custody_free(c->st->cust);
		dp_auth_sess_free((struct dp_auth_sess *)c->auth);
		obj_free(DP_CONN_OBJ_STATE, c->st);
		obj_free(DP_CONN_OBJ_CONN, c);
	}
	return n;
}
