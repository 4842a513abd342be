/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Groups in progress (the messages of several frames) as the router routes
 * them, both sides of group.h's tables (groups.c):
 *   origin side, on the origin's owner (lc->grp_o): the destination chosen
 *     by the first accepted chunk, which every later chunk follows; the
 *     verdicts of chunks handed to another worker;
 *   destination side, on the destination's owner (lc->grp_d): the group's
 *     reservation in the destination's custody, its chunks held there and
 *     transmitted, failover of a whole group;
 * and their expiry. Worker context only, each function on the worker that
 * owns the table it names, between two quiescent states.
 */
#ifndef GWART_DP_GROUPS_H
#define GWART_DP_GROUPS_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "lcore.h"

/* ---- origin side: routing (lc->grp_o) ---- */

/*
 * Route chunk @pd (a new message of @pd->c, ingress.c) found route @r
 * (NULL: none): through its group's entry when it has one (that
 * destination, whatever @r says), else by @r and the group's hash (an
 * entry made). Takes custody (this worker) or hands it over, or refuses
 * it (NACK, counted): GROUP_MISMATCH, GROUP_EXPIRED (a chunk of a group
 * this router forgot: never routed anew), GROUP_DEST_GONE, GROUPS_FULL,
 * NO_ROUTE, TOO_BIG and the custody refusals. Takes @pd->m.
 */
void dp_group_route(struct dp_lcore *lc, const struct dp_pending *pd, const struct dp_route *r);

/* The verdict of a chunk of (@origin, group @group) this worker handed
 * over: @taken or not (the origin's entry follows). */
void dp_group_verdict(struct dp_lcore *lc, uint32_t origin, uint64_t group, int taken);

/* ---- destination side: custody (lc->grp_d) ---- */

/* Take chunk @m into @dc's custody as part of its group (group.h,
 * lc->grp_d): its first chunk here reserves the whole group (count slots,
 * total_len bytes) or is refused (GROUP_TOO_BIG when it could never fit,
 * BUSY / BUSY_BYTES when it does not now, GROUPS_FULL when the table is);
 * later chunks take what was reserved, so they are never refused for room;
 * a chunk whose lengths disagree with its group's: GROUP_MISMATCH. @move:
 * a failover move (the operator's bounds do not apply, the ring's do).
 * Returns 0 or the drop reason (@m untouched). */
int dp_egress_take_chunk(struct dp_lcore *lc, const struct dp_conn *dc, struct rte_mbuf *m,
			 int move);
/* dp_custody_rel.chunk_done for this worker's destinations: a chunk of
 * group number @grp left custody (acknowledged by its destination). */
void dp_egress_chunk_done(void *lc, uint32_t grp);
/* Failover of the group whose chunk is at never-transmitted @seq of @ds:
 * all of it moves to one connector (every chunk here, none transmitted),
 * or none of it does (counted failover_group_kept). 0 to go on with the
 * failover pass, -1 to stop it (no route, no connector up, no room: the
 * next scan tries again). */
int dp_egress_group_failover(struct dp_lcore *lc, struct dp_conn_state *ds, uint32_t grp,
			     uint64_t seq);
/* Periodic (every retransmission scan): DP_GROUP_SCAN entries of each of
 * this worker's group tables looked at; groups silent past
 * group_timeout_ms forgotten (their reservations released). */
void dp_group_scan(struct dp_lcore *lc);
/* The NACK reason a refusal counted under @why is answered with. */
unsigned dp_drop_nack(unsigned why);

#endif
