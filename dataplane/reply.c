/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's ACKs and NACKs, and sealing at TX flush (reply.h).
 */
#include <string.h>

#include <rte_mbuf.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "auth_dev.h"
#include "conn_state.h"
#include "io.h"
#include "pkt.h"
#include "reply.h"

/* ---- replies -------------------------------------------------------------- */

/* A fresh mbuf for a @len-byte reply to @c and the reply's lane-1 counter
 * in @h->ctr, or NULL (counted NO_MBUF, or no session / counter spent).
 * The counter is taken after the allocation, so a failed one spends none. */
static struct rte_mbuf *reply_alloc(struct dp_lcore *lc, const struct dp_conn *c, uint16_t len,
				    struct gw_hdr_args *h)
{
	uint8_t *pl;
	struct rte_mbuf *m = dp_tx_alloc(lc, len, &pl);

	if (unlikely(m == NULL)) {
		dp_count_drop(lc, DP_DROP_NO_MBUF);
		return NULL;
	}
	h->ctr = dp_tx_ctr(lc, c);
	if (unlikely(h->ctr == 0)) {
		rte_pktmbuf_free(m); /* a buffer never written, not a packet */
		return NULL;
	}
	return m;
}

/* A NACK to connector @c, at its session's address, sealed with its session
 * (lane 1). Without a session nothing is sent: in v2 the router answers no
 * frame it cannot authenticate an answer for (epoch-0 answers are control's).
 * Headers from @c's template, the checksum from the values written. */
void dp_reply_nack(struct dp_lcore *lc, const struct dp_conn *c, uint64_t seq,
		      unsigned reason, uint32_t retry_us)
{
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = c->epoch, .seq = seq};
	struct rte_mbuf *m = reply_alloc(lc, c, GW_NACK_LEN, &h);

	if (unlikely(m == NULL))
		return;
	dp_pkt_put_nack(m, &c->tmpl, &h, seq, reason, retry_us);
	DP_COUNT_INC(lc->stats.nacks_sent);
	dp_tx_sealed(lc, c->port, m, c->auth);
}

static void send_ack(struct dp_lcore *lc, const struct dp_conn *c, uint64_t cum, uint64_t base,
		     uint64_t bitmap)
{
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = c->epoch, .seq = cum};
	struct rte_mbuf *m = reply_alloc(lc, c, GW_ACK_LEN, &h);

	if (unlikely(m == NULL))
		return;
	dp_pkt_put_ack(m, &c->tmpl, &h, base, bitmap);
	DP_COUNT_INC(lc->stats.acks_sent);
	dp_tx_sealed(lc, c->port, m, c->auth);
}

/* Seal at flush: the frames of one session go to the device in one call
 * (dp_auth_gmac_grouped()), then their UDP checksums are finished with the
 * tags (they cover them): dp_tx_sealed() frames carry the sum of the rest
 * already (dp_pkt_tmpl_put()), and where the port offloads, nothing is left
 * to do. */
void dp_tx_seal_port(struct dp_lcore *lc, unsigned p)
{
	const struct dp_port_addr *pa = &lc->rt->ports[p];
	unsigned n = lc->n_tx[p], i;
	uint8_t *fr[DP_BURST_MAX], *dig[DP_BURST_MAX], ok[DP_BURST_MAX];
	uint16_t len[DP_BURST_MAX];

	for (i = 0; i < n; i++) {
		ok[i] = 1;
		if (lc->tx_auth[p][i] == NULL)
			continue;
		fr[i] = dp_pkt_gw(lc->tx[p][i]);
		len[i] = (uint16_t)(fr[i][4] << 8 | fr[i][5]);
		dig[i] = fr[i] + len[i] - GW_TAG_LEN;
	}
	if (!lc->rt->auth_off)
		dp_auth_gmac_grouped(n, lc->tx_auth[p], 1, fr, len, dig, ok);
	for (i = 0; i < n; i++) {
		if (lc->tx_auth[p][i] == NULL)
			continue;
		/* The device refused one (never seen): it leaves with a zero
		 * tag, which its receiver refuses and counts; a retransmission
		 * or the peer's retry heals. */
		if (unlikely(!ok[i]))
			memset(dig[i], 0, GW_TAG_LEN);
		if (!pa->tx_csum_offload)
			dp_pkt_csum_tag(fr[i], len[i]);
	}
}

/* ---- ACK batching: one ACK per origin per burst ----------------------------- */

void dp_reply_ack_flush(struct dp_lcore *lc)
{
	unsigned i;

	for (i = 0; i < lc->n_ack; i++) {
		const struct dp_conn *c = dp_conn_get(lc->rt, lc->ack_list[i]);
		struct dp_dedup_ack a[DP_DEDUP_ACK_MAX];
		struct dp_conn_state *st;
		unsigned k, n;
		uint64_t cum;

		if (unlikely(c == NULL || !c->up))
			continue;
		st = c->st;
		cum = dp_dedup_cum(&st->win);
		/* Usually one frame: the cumulative point covers in-order
		 * traffic and the bitmap the rest of this burst. At most
		 * DP_DEDUP_ACK_MAX whatever seqs the origin sent (a HELLO
		 * may put the window anywhere, up to 2^64 - 1). */
		n = dp_dedup_acks(&st->win, st->ack_lo, st->ack_hi, a);
		for (k = 0; k < n; k++)
			send_ack(lc, c, cum, a[k].base, a[k].bitmap);
	}
	lc->n_ack = 0;
	lc->burst_gen++;
}


