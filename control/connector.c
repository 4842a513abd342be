/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connector actions (cp_connector_*): create, delete, enable, drain,
 * reconnect, set-key; the dataplane's update API does the publishing, the
 * session state machine the session side, keys.c the secrets.
 */
#include <errno.h>
#include <string.h>

#include "conn.h"
#include "cp.h"
#include "frames.h"
#include "route.h"
#include "router_api.h"

/* The key first: a connector never exists without one (deny by default). */
int cp_connector_add(struct cp_ctx *cp, uint32_t id, const char *name,
		     const uint8_t key[GW_KEY_LEN])
{
	struct cp_auth *a;
	int rc;

	if (id == 0 || id >= DP_MAX_CONNECTORS)
		return -EINVAL;
	if (dp_conn_peek(cp->rt, id) != NULL)
		return -EEXIST;
	rc = cp_auth_create(&a, id, key);
	if (rc != 0)
		return rc;
	rc = dp_conn_create(cp->rt, id, name);
	if (rc != 0) {
		cp_auth_destroy(a);
		return rc;
	}
	cp_auth_destroy(cp->auth[id]); /* none: delete destroyed it */
	a->hello_ctr = cp->hello_ctr_kept[id];
	cp->auth[id] = a;
	cp_sess_reset(&cp->sess, id);
	return 0;
}

int cp_connector_set_key(struct cp_ctx *cp, uint32_t id, const uint8_t key[GW_KEY_LEN])
{
	const struct dp_conn *c = id < DP_MAX_CONNECTORS ? dp_conn_peek(cp->rt, id) : NULL;
	struct cp_auth *a = c != NULL ? cp->auth[id] : NULL;
	uint8_t zero[GW_KEY_LEN] = {0};

	if (a == NULL)
		return -ENOENT;
	if (key == NULL || memcmp(key, zero, GW_KEY_LEN) == 0)
		return -EINVAL;
	/* The live session was proved with the old key: close it, telling
	 * the connector with a BYE it can still check (old session keys);
	 * probes follow after one backoff delay (PROTOCOL.md 12.3), sealed
	 * with the new key, so it says HELLO once it has that key too. */
	if (c->up) {
		cp_frames_bye(cp, id, 0);
		cp_sess_close(&cp->sess, id, CP_CLOSE_ADMIN, cp_now_us());
	}
	cp_auth_set_secret(a, key);
	return 0;
}

int cp_connector_set_allow(struct cp_ctx *cp, uint32_t id, const struct cp_allow *al)
{
	const struct dp_conn *c = id < DP_MAX_CONNECTORS ? dp_conn_peek(cp->rt, id) : NULL;
	struct cp_auth *a = c != NULL ? cp->auth[id] : NULL;

	if (a == NULL)
		return -ENOENT;
	if (al == NULL || al->n > CP_ALLOW_MAX)
		return -EINVAL;
	a->allow = *al;
	/* The session's address was allowed when its HELLO came; no longer:
	 * closed like a key change (set_key above), and its HELLOs from
	 * there are refused from now on. */
	if (c->up && !cp_allow_match(&a->allow, c->ip_be)) {
		cp_frames_bye(cp, id, 0);
		cp_sess_close(&cp->sess, id, CP_CLOSE_ADMIN, cp_now_us());
	}
	return 0;
}

int cp_connector_key_id(const struct cp_ctx *cp, uint32_t id, char hex[CP_KEY_ID_HEX])
{
	if (id == 0 || id >= DP_MAX_CONNECTORS || cp->auth[id] == NULL ||
	    dp_conn_peek(cp->rt, id) == NULL)
		return -ENOENT;
	cp_key_id_hex(cp->auth[id]->key_id, hex);
	return 0;
}

int cp_connector_enable(struct cp_ctx *cp, uint32_t id, int enabled)
{
	int rc = dp_conn_set_enabled(cp->rt, id, enabled);

	/* Enabling ends a drain. */
	if (rc == 0 && enabled && cp->sess.s[id].draining)
		cp_sess_set_draining(&cp->sess, id, 0, cp_now_us());
	return rc;
}

int cp_connector_rename(struct cp_ctx *cp, uint32_t id, const char *name)
{
	if (id == 0 || id >= DP_MAX_CONNECTORS || dp_conn_peek(cp->rt, id) == NULL)
		return -ENOENT;
	return dp_conn_set_name(cp->rt, id, name);
}

int cp_connector_reconnect(struct cp_ctx *cp, uint32_t id)
{
	if (dp_conn_peek(cp->rt, id) == NULL)
		return -ENOENT;
	cp_sess_reconnect(&cp->sess, id, cp_now_us());
	return 0;
}

int cp_connector_drain(struct cp_ctx *cp, uint32_t id)
{
	int rc = dp_conn_set_enabled(cp->rt, id, 0);

	if (rc == 0)
		cp_sess_set_draining(&cp->sess, id, 1, cp_now_us());
	return rc;
}

int cp_connector_custody(struct cp_ctx *cp, uint32_t id, uint32_t *held)
{
	struct dp_conn_snap snap;
	int rc = dp_conn_snapshot(cp->rt, id, &snap);

	if (rc == 0)
		*held = snap.held;
	return rc;
}

const struct cp_session *cp_session_get(const struct cp_ctx *cp, uint32_t id)
{
	if (id == 0 || id >= DP_MAX_CONNECTORS || dp_conn_peek(cp->rt, id) == NULL)
		return NULL;
	return &cp->sess.s[id];
}

struct ref_scan {
	uint32_t id;
	int found;
};

static int route_refs(const struct dp_route *r, void *arg)
{
	struct ref_scan *rs = arg;
	unsigned i;

	for (i = 0; i < r->n_targets; i++)
		if (r->targets[i].conn_id == rs->id) {
			rs->found = 1;
			return 1;
		}
	return 0;
}

/*
 * Delete a connector: refused while a route names it (the route must go
 * first) or custody holds messages for it (drain first: nothing acknowledged
 * is dropped); then its session is closed and the dataplane removes it
 * (dp_conn_delete: unpublish, grace period, owner's acknowledgement, free).
 */
int cp_connector_del(struct cp_ctx *cp, uint32_t id)
{
	struct dp_router *rt = cp->rt;
	struct dp_conn_snap snap;
	struct ref_scan rs = {.id = id};
	unsigned lost;
	int rc;

	if (dp_conn_snapshot(rt, id, &snap) != 0)
		return -ENOENT;
	dp_route_foreach(rt->routes, route_refs, &rs);
	if (rs.found || snap.held != 0)
		return -EBUSY;
	/* Tell a live connector it is gone rather than leave it to time out. */
	if (dp_conn_peek(rt, id)->up)
		cp_frames_bye(cp, id, 0);
	cp_sess_close(&cp->sess, id, CP_CLOSE_ADMIN, cp_now_us());
	rc = dp_conn_delete(rt, id, &lost);
	if (rc == -ETIMEDOUT) {
		/* The owner did not answer: its state is leaked, the
		 * connector is gone all the same. */
		cp->stats.tx_failed++;
		rc = 0;
	}
	if (rc != 0)
		return rc;
	cp->stats.deleted_in_custody += lost;
	cp_sess_reset(&cp->sess, id);
	cp->hello_ctr_kept[id] = cp->auth[id]->hello_ctr;
	cp_auth_destroy(cp->auth[id]);
	cp->auth[id] = NULL;
	return 0;
}
