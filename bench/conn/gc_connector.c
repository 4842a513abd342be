/* SPDX-License-Identifier: BSD-3-Clause */
/* gwart-conn: opening one SDK connector with the settings of the options. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"

/* "IP[:PORT]": the port defaults to the protocol's. */
static int split_addr(const char *s, char *host, size_t hcap, uint16_t *port)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	char *end;
	long v;

	if (n == 0 || n >= hcap)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = 0;
	*port = GW_WIRE_UDP_PORT;
	if (colon) {
		v = strtol(colon + 1, &end, 10);
		if (*end || v <= 0 || v > 65535)
			return -EINVAL;
		*port = (uint16_t)v;
	}
	return 0;
}

struct gw_conn *gc_conn_open(uint32_t id, const char *addr, gw_conn_deliver_fn deliver,
			     gw_conn_result_fn result, gc_message_fn message,
			     gc_rx_notice_fn rx_notice)
{
	struct gw_conn_cfg cfg = { 0 };
	struct gw_conn *c;
	char host[64];
	int err;

	if (split_addr(addr, host, sizeof(host), &cfg.router_port) < 0) {
		fprintf(stderr, "gwart-conn: bad address %s\n", addr);
		return NULL;
	}
	cfg.id = id;
	cfg.router_addr = host;
	cfg.bind_addr = gc.o.bind;
	cfg.max_inflight = gc.o.window;
	cfg.rx_window = gc.o.rx_window;
	cfg.rto_us = gc.o.rto_us;
	cfg.first_seq = gc.o.first_seq;
	/* Whole messages: frames of any size the SDK chooses, and room for
	 * the largest message drawn. */
	cfg.max_payload = gc.o.msg ? 0 : gc.o.payload;
	if (gc.o.max_message)
		cfg.max_message = (size_t)gc.o.max_message;
	else if (gc.o.msg && gc.o.size_max > GW_MSG_DEFAULT_MAX)
		cfg.max_message = gc.o.size_max;
	cfg.on_message = message;
	cfg.on_rx_notice = rx_notice;
	cfg.on_deliver = deliver;
	cfg.on_result = result;
	cfg.state_path = gc.o.state;
	cfg.backoff_initial_ms = gc.o.bo_initial_ms;
	cfg.backoff_mult_pct = gc.o.bo_mult_pct;
	cfg.backoff_jitter_pct = gc.o.bo_jitter_pct;
	cfg.backoff_max_ms = gc.o.bo_max_ms;
	if (gc_key_for(&gc.o, id, cfg.key) < 0)
		return NULL;
	c = gw_conn_open(&cfg, &err);
	gw_auth_wipe(cfg.key, sizeof(cfg.key)); /* the handle has its own copy */
	if (!c)
		fprintf(stderr, "gwart-conn: connector %u: %s\n", id, strerror(-err));
	return c;
}
