/* SPDX-License-Identifier: BSD-3-Clause */
/* Port set-up for the router (update API: start-up and shutdown only). */
#ifndef GWART_DP_PORT_H
#define GWART_DP_PORT_H

#include "router.h"

/*
 * dp_port_setup - configure ethdev @port_id for the router: one RX queue per
 * worker, one TX queue per worker, offloads
 * the port offers for IPv4/UDP checksums, promiscuous off. Start-up only.
 * Records the port's MAC and @ip_be in rt->ports[]. 0 or negative errno.
 */
int dp_port_setup(struct dp_router *rt, uint16_t port_id, uint32_t ip_be);
/* Stop and close every configured port. */
void dp_port_close_all(struct dp_router *rt);

#endif
