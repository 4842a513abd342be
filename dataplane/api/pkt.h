/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet / ARP / IPv4 / ICMP / UDP: classify received packets, answer ARP
 * and ICMP echo for the router's addresses, and build UDP frames towards
 * connectors. Worker and control-thread context; no locks.
 */
#ifndef GWART_DP_PKT_H
#define GWART_DP_PKT_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <rte_udp.h>

#include <gwart/wire.h>

#include "router.h"
#include "stats.h"

/* Where a gwart frame came from. */
struct dp_pkt_src {
	uint32_t ip_be;
	uint16_t udp_be;
	struct rte_ether_addr mac;
};

enum dp_pkt_verdict {
	DP_PKT_GWART,   /* a UDP datagram for the router's port: *gw, *gw_len set */
	DP_PKT_REPLY,   /* answered in place (ARP reply / ICMP echo reply): send m back */
	DP_PKT_DROP,    /* refuse: *why set; caller drops m */
};

/*
 * dp_pkt_classify - validate the L2-L4 headers of @m received on port @pa.
 * Pure with respect to router state (reads @pa only), so it is unit-testable
 * and fuzzable. For DP_PKT_REPLY the packet has been rewritten in place.
 */
enum dp_pkt_verdict dp_pkt_classify(const struct dp_port_addr *pa, uint16_t udp_be,
				    struct rte_mbuf *m, const uint8_t **gw, uint16_t *gw_len,
				    struct dp_pkt_src *src, enum dp_drop_reason *why);

/* Bytes of Ethernet + IPv4 + UDP headers in front of every gwart frame. */
#define DP_PKT_HDRS (RTE_ETHER_HDR_LEN + 20 + 8)

/*
 * dp_pkt_alloc_udp - allocate an mbuf from @pool holding Ethernet/IPv4/UDP
 * headers from @pa towards (@mac, @ip_be, @dst_udp_be) with room for @len
 * bytes of UDP payload, returned in *payload. NULL if the pool is empty or
 * @len does not fit one mbuf. Call dp_pkt_finish_udp() after writing the
 * payload.
 */
struct rte_mbuf *dp_pkt_alloc_udp(struct rte_mempool *pool, const struct dp_port_addr *pa,
				  uint16_t src_udp_be, const struct rte_ether_addr *mac,
				  uint32_t ip_be, uint16_t dst_udp_be, uint16_t len, uint8_t **payload);
/* Compute the IPv4 header checksum and the UDP checksum. */
void dp_pkt_finish_udp(struct rte_mbuf *m);
/* The same, or leave both to port @pa's TX offload where it has one. */
void dp_pkt_finish_udp_tx(struct rte_mbuf *m, const struct dp_port_addr *pa);

/* ---- frames to connectors from their header template (worker fast path) ----
 *
 * Every frame a worker sends to a connector gets its L2-L4 headers from the
 * connector's template (dp_conn.tmpl, api/router.h), and its checksums from
 * values the worker holds in registers: nothing written is read back, except
 * the 16-byte tag the device has just produced. Ones' complement sums here
 * are of 16-bit words as they lie in memory (rte_raw_cksum()'s convention),
 * so values enter them in network order (rte_cpu_to_be_*), and a run of
 * bytes at an odd offset of the UDP payload enters byte-swapped. The UDP
 * checksum is finished in two steps: dp_pkt_tmpl_put() leaves the folded sum
 * of everything but the frame's tag in the checksum field, and
 * dp_pkt_csum_tag() adds the tag once it is sealed (reply.c, at TX flush).
 * On a port that offloads checksums, dp_pkt_tmpl_put() sets the offload
 * flags and the pseudo-header sum instead, and dp_pkt_csum_tag() is not
 * called. */

_Static_assert(sizeof(((struct dp_hdr_tmpl *)0)->hdr) == DP_PKT_HDRS, "template size");

/* Control thread: build @t for frames from port @pa (and the router's UDP
 * port @src_udp_be) to (@mac, @ip_be, @dst_udp_be). */
void dp_pkt_tmpl_build(struct dp_hdr_tmpl *t, const struct dp_port_addr *pa,
		       uint16_t src_udp_be, const struct rte_ether_addr *mac, uint32_t ip_be,
		       uint16_t dst_udp_be);

/* Add the two 32-bit halves of @x (network order, as in memory) to @s. */
static inline uint64_t dp_csum_add(uint64_t s, uint64_t x)
{
	return s + (x & 0xffffffffu) + (x >> 32);
}

/* Fold a sum of dp_csum_add() terms to 16 bits (not complemented). */
static inline uint16_t dp_csum_fold(uint64_t s)
{
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The folded sum @s of bytes that lie at offset @off of the UDP payload. */
static inline uint16_t dp_csum_at(uint16_t s, unsigned off)
{
	return (off & 1) ? rte_bswap16(s) : s;
}

/* Sum of a gwart header with these fields, from registers (wire.c's
 * put_hdr() layout: magic, version, type, length, flags, sender, epoch,
 * seq). */
static inline uint64_t dp_csum_gw_hdr(uint8_t type, uint16_t len, uint16_t flags,
				      uint32_t sender, uint32_t epoch, uint64_t seq)
{
	const uint8_t w[8] = {GW_WIRE_MAGIC >> 8, GW_WIRE_MAGIC & 0xff, GW_WIRE_VERSION, type,
			      (uint8_t)(len >> 8), (uint8_t)len, (uint8_t)(flags >> 8),
			      (uint8_t)flags};
	uint64_t w0, s;

	memcpy(&w0, w, sizeof(w0));
	s = dp_csum_add(0, w0);
	s += rte_cpu_to_be_32(sender);
	s += rte_cpu_to_be_32(epoch);
	return dp_csum_add(s, rte_cpu_to_be_64(seq));
}

/* Sum of a frame's trailer counter @ctr, the frame being @len bytes. */
static inline uint16_t dp_csum_gw_ctr(uint64_t ctr, uint16_t len)
{
	return dp_csum_at(dp_csum_fold(dp_csum_add(0, rte_cpu_to_be_64(ctr))),
			  (unsigned)len - GW_TRAILER_LEN);
}

/* Sum of what a DATA frame keeps across transmissions: its body, from
 * GW_HDR_LEN to the trailer (header and trailer are rewritten each time).
 * Computed once, when custody takes the frame (@fr, @len bytes). */
static inline uint16_t dp_csum_gw_body(const uint8_t *fr, uint16_t len)
{
	if (len < GW_HDR_LEN + GW_TRAILER_LEN)
		return 0;
	return rte_raw_cksum(fr + GW_HDR_LEN, (size_t)len - GW_HDR_LEN - GW_TRAILER_LEN);
}

/*
 * dp_pkt_tmpl_put - write @t's headers at the start of @m's data for a UDP
 * payload of @len bytes (already written or about to be, at DP_PKT_HDRS),
 * whose sum without its tag is @gw_sum (dp_csum_* terms, unfolded): the two
 * lengths, the IPv4 checksum, and the UDP checksum field (see above).
 */
static inline void dp_pkt_tmpl_put(struct rte_mbuf *m, const struct dp_hdr_tmpl *t,
				   uint16_t len, uint64_t gw_sum)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ih + 1);
	uint16_t ip_len = rte_cpu_to_be_16((uint16_t)(sizeof(*ih) + sizeof(*uh) + len));
	uint16_t udp_len = rte_cpu_to_be_16((uint16_t)(sizeof(*uh) + len));

	memcpy(p, t->hdr, DP_PKT_HDRS);
	ih->total_length = ip_len;
	uh->dgram_len = udp_len;
	if (unlikely(t->csum_offload)) {
		m->l2_len = RTE_ETHER_HDR_LEN;
		m->l3_len = sizeof(*ih);
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
			       RTE_MBUF_F_TX_UDP_CKSUM;
		/* The NIC expects the pseudo-header sum in place. */
		uh->dgram_cksum = dp_csum_fold((uint64_t)t->phdr_sum + udp_len);
		return;
	}
	ih->hdr_checksum = (uint16_t)~dp_csum_fold((uint64_t)t->ip_sum + ip_len);
	uh->dgram_cksum = dp_csum_fold((uint64_t)t->l4_sum + 2u * udp_len + gw_sum);
}

/*
 * dp_pkt_csum_tag - finish the UDP checksum that dp_pkt_tmpl_put() began:
 * add the @len-byte gwart frame @fr's tag (just sealed), complement, and
 * never leave 0 (in IPv4 it would mean "no checksum": RFC 768).
 */
static inline void dp_pkt_csum_tag(uint8_t *fr, uint16_t len)
{
	uint16_t *ck = (uint16_t *)(fr - 2); /* the UDP header's last field */
	const uint8_t *tag = fr + len - GW_TAG_LEN;
	uint64_t a, b;
	uint16_t c;

	memcpy(&a, tag, sizeof(a));
	memcpy(&b, tag + 8, sizeof(b));
	c = dp_csum_at(dp_csum_fold(dp_csum_add(dp_csum_add(0, a), b)),
		       (unsigned)len - GW_TAG_LEN);
	c = (uint16_t)~dp_csum_fold((uint64_t)*ck + c);
	*ck = c == 0 ? 0xffff : c;
}

/* A fresh mbuf from @pool with @len bytes of UDP payload after DP_PKT_HDRS
 * bytes of (unwritten) headers; *payload points at the payload. NULL if
 * the pool is empty or it does not fit. */
/* Size fresh (reset, empty) mbuf @m for @len bytes of UDP payload after
 * DP_PKT_HDRS bytes of headers, *payload at the payload; frees @m and
 * returns NULL if it does not fit. */
static inline struct rte_mbuf *dp_pkt_frame_init(struct rte_mbuf *m, uint16_t len,
						 uint8_t **payload)
{
	if (unlikely((uint32_t)DP_PKT_HDRS + len > rte_pktmbuf_tailroom(m))) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	m->data_len = (uint16_t)(DP_PKT_HDRS + len);
	m->pkt_len = m->data_len;
	*payload = rte_pktmbuf_mtod_offset(m, uint8_t *, DP_PKT_HDRS);
	return m;
}

static inline struct rte_mbuf *dp_pkt_alloc_frame(struct rte_mempool *pool, uint16_t len,
						  uint8_t **payload)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	return likely(m != NULL) ? dp_pkt_frame_init(m, len, payload) : NULL;
}

/*
 * The three frames a worker sends to a connector, written into @m from
 * dp_pkt_alloc_frame() (sized for them) behind template @t, with their
 * checksums begun from the values written. Each takes the header's values
 * from @h (ctr included); the caller seals at flush (dp_tx_sealed()).
 */

/* A transmission of custody DATA frame @src (@len bytes, its body's sum
 * @body_sum, dp_csum_gw_body()): copied, header and counter rewritten. */
static inline void dp_pkt_put_data(struct rte_mbuf *m, const struct dp_hdr_tmpl *t,
				   const uint8_t *src, uint16_t len, uint16_t body_sum,
				   const struct gw_hdr_args *h)
{
	uint8_t *fr = rte_pktmbuf_mtod_offset(m, uint8_t *, DP_PKT_HDRS);

	rte_memcpy(fr, src, len);
	gw_wire_rewrite_hdr(fr, h);
	dp_pkt_tmpl_put(m, t, len,
			dp_csum_gw_hdr(GW_T_DATA, len, h->flags, h->sender, h->epoch, h->seq) +
				body_sum + dp_csum_gw_ctr(h->ctr, len));
}

/* A first transmission of the DATA frame @m holds at its data's start (@len
 * bytes, body sum @body_sum), in place: headers prepended into its headroom
 * (at least DP_PKT_HDRS: the caller checks), anything after the frame
 * (Ethernet padding) cut, receive flags cleared. */
static inline void dp_pkt_put_data_in_place(struct rte_mbuf *m, const struct dp_hdr_tmpl *t,
					    uint16_t len, uint16_t body_sum,
					    const struct gw_hdr_args *h)
{
	m->data_off = (uint16_t)(m->data_off - DP_PKT_HDRS);
	m->data_len = (uint16_t)(DP_PKT_HDRS + len);
	m->pkt_len = m->data_len;
	m->ol_flags = 0;
	gw_wire_rewrite_hdr(rte_pktmbuf_mtod_offset(m, uint8_t *, DP_PKT_HDRS), h);
	dp_pkt_tmpl_put(m, t, len,
			dp_csum_gw_hdr(GW_T_DATA, len, h->flags, h->sender, h->epoch, h->seq) +
				body_sum + dp_csum_gw_ctr(h->ctr, len));
}

/* An ACK: cumulative h->seq, @bitmap from @base. */
static inline void dp_pkt_put_ack(struct rte_mbuf *m, const struct dp_hdr_tmpl *t,
				  const struct gw_hdr_args *h, uint64_t base, uint64_t bitmap)
{
	uint64_t sum;

	gw_wire_encode_ack(rte_pktmbuf_mtod_offset(m, uint8_t *, DP_PKT_HDRS), GW_ACK_LEN, h,
			   base, bitmap);
	sum = dp_csum_gw_hdr(GW_T_ACK, GW_ACK_LEN, h->flags, h->sender, h->epoch, h->seq);
	sum = dp_csum_add(sum, rte_cpu_to_be_64(base));
	sum = dp_csum_add(sum, rte_cpu_to_be_64(bitmap));
	dp_pkt_tmpl_put(m, t, GW_ACK_LEN, sum + dp_csum_gw_ctr(h->ctr, GW_ACK_LEN));
}

/* A NACK of @origin_seq for @reason. */
static inline void dp_pkt_put_nack(struct rte_mbuf *m, const struct dp_hdr_tmpl *t,
				   const struct gw_hdr_args *h, uint64_t origin_seq,
				   unsigned reason, uint32_t retry_us)
{
	uint64_t sum;

	gw_wire_encode_nack(rte_pktmbuf_mtod_offset(m, uint8_t *, DP_PKT_HDRS), GW_NACK_LEN, h,
			    origin_seq, reason, retry_us);
	/* wire.c's layout: origin_seq, reason, reserved (0), retry_after_us. */
	sum = dp_csum_gw_hdr(GW_T_NACK, GW_NACK_LEN, h->flags, h->sender, h->epoch, h->seq);
	sum = dp_csum_add(sum, rte_cpu_to_be_64(origin_seq));
	sum += rte_cpu_to_be_16((uint16_t)reason);
	sum += rte_cpu_to_be_32(retry_us);
	dp_pkt_tmpl_put(m, t, GW_NACK_LEN, sum + dp_csum_gw_ctr(h->ctr, GW_NACK_LEN));
}

/* The gwart frame inside a packet that dp_pkt_classify() accepted. */
static inline uint8_t *dp_pkt_gw(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, DP_PKT_HDRS);
}

#endif
