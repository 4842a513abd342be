/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet / ARP / IPv4 / ICMP / UDP: classify received packets, answer ARP
 * and ICMP echo for the router's addresses, and build UDP frames towards
 * connectors. Worker and control-thread context; no locks.
 */
#ifndef GWART_DP_PKT_H
#define GWART_DP_PKT_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

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
/*
 * dp_pkt_write_udp - write Ethernet/IPv4/UDP headers from @pa towards (@mac,
 * @ip_be, @dst_udp_be) into the DP_PKT_HDRS bytes at the start of @m's data,
 * for a UDP payload of the rest of @m. Used to transmit a custody frame in
 * place: the caller has prepended (or kept) the header room.
 */
void dp_pkt_write_udp(struct rte_mbuf *m, const struct dp_port_addr *pa, uint16_t src_udp_be,
		      const struct rte_ether_addr *mac, uint32_t ip_be, uint16_t dst_udp_be);
/* Compute the IPv4 header checksum and the UDP checksum. */
void dp_pkt_finish_udp(struct rte_mbuf *m);
/* The same, or leave both to port @pa's TX offload where it has one. */
void dp_pkt_finish_udp_tx(struct rte_mbuf *m, const struct dp_port_addr *pa);

/* The gwart frame inside a packet that dp_pkt_classify() accepted. */
static inline uint8_t *dp_pkt_gw(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, DP_PKT_HDRS);
}

#endif
