/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L2-L4 handling for the router's addresses. The router is an IPv4 host
 * with one address per port: it answers ARP requests and ICMP echo for that
 * address and accepts UDP on its gwart port; everything else is refused with
 * a reason. IPv4 options and fragments are refused: gwart frames never need
 * either, and refusing them keeps the frame offset fixed (DP_PKT_HDRS).
 */
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "pkt.h"

static enum dp_pkt_verdict arp_input(const struct dp_port_addr *pa, struct rte_mbuf *m,
				     struct rte_ether_hdr *eh, enum dp_drop_reason *why)
{
	struct rte_arp_hdr *ah;
	uint32_t sip;

	if (rte_pktmbuf_data_len(m) < sizeof(*eh) + sizeof(*ah)) {
		*why = DP_DROP_ARP_BAD;
		return DP_PKT_DROP;
	}
	ah = (struct rte_arp_hdr *)(eh + 1);
	if (ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || ah->arp_hlen != 6 ||
	    ah->arp_plen != 4) {
		*why = DP_DROP_ARP_BAD;
		return DP_PKT_DROP;
	}
	if (ah->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    ah->arp_data.arp_tip != pa->ip_be) {
		*why = DP_DROP_ARP_NOT_US;
		return DP_PKT_DROP;
	}
	/* Answer in place: the requester becomes the target. */
	sip = ah->arp_data.arp_sip;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&ah->arp_data.arp_sha, &ah->arp_data.arp_tha);
	ah->arp_data.arp_tip = sip;
	rte_ether_addr_copy(&pa->mac, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = pa->ip_be;
	rte_ether_addr_copy(&eh->src_addr, &eh->dst_addr);
	rte_ether_addr_copy(&pa->mac, &eh->src_addr);
	/* Drop any Ethernet padding beyond the ARP body. */
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - (uint32_t)(sizeof(*eh) + sizeof(*ah)));
	return DP_PKT_REPLY;
}

static enum dp_pkt_verdict icmp_input(const struct dp_port_addr *pa, struct rte_mbuf *m,
				      struct rte_ether_hdr *eh, struct rte_ipv4_hdr *ih,
				      uint16_t ip_len, enum dp_drop_reason *why)
{
	struct rte_icmp_hdr *ic;
	uint16_t icmp_len = ip_len - sizeof(*ih);

	if (icmp_len < sizeof(*ic)) {
		*why = DP_DROP_ICMP_OTHER;
		return DP_PKT_DROP;
	}
	ic = (struct rte_icmp_hdr *)(ih + 1);
	if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || ic->icmp_code != 0 ||
	    rte_raw_cksum(ic, icmp_len) != 0xffff) {
		*why = DP_DROP_ICMP_OTHER;
		return DP_PKT_DROP;
	}
	/* Echo reply in place. The checksum is computed afresh: the RFC 1624
	 * incremental update yields 0x0000 instead of 0xffff when the whole
	 * reply (identifier, sequence, data) is zero, and receivers drop that. */
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, icmp_len);
	ih->dst_addr = ih->src_addr;
	ih->src_addr = pa->ip_be;
	ih->time_to_live = 64;
	ih->hdr_checksum = 0;
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	rte_ether_addr_copy(&eh->src_addr, &eh->dst_addr);
	rte_ether_addr_copy(&pa->mac, &eh->src_addr);
	rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - (uint32_t)(sizeof(*eh) + ip_len));
	m->ol_flags = 0;
	return DP_PKT_REPLY;
}

enum dp_pkt_verdict dp_pkt_classify(const struct dp_port_addr *pa, uint16_t udp_be,
				    struct rte_mbuf *m, const uint8_t **gw, uint16_t *gw_len,
				    struct dp_pkt_src *src, enum dp_drop_reason *why)
{
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ih;
	struct rte_udp_hdr *uh;
	uint32_t len = rte_pktmbuf_data_len(m);
	uint16_t ip_len, udp_len;

	if (unlikely(m->nb_segs != 1)) {
		*why = DP_DROP_MULTISEG;
		return DP_PKT_DROP;
	}
	if (unlikely(len < sizeof(*eh))) {
		*why = DP_DROP_ETH_SHORT;
		return DP_PKT_DROP;
	}
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (unlikely(eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))) {
		if (eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
			return arp_input(pa, m, eh, why);
		*why = DP_DROP_ETH_TYPE;
		return DP_PKT_DROP;
	}
	if (unlikely(len < sizeof(*eh) + sizeof(*ih))) {
		*why = DP_DROP_IP_BAD;
		return DP_PKT_DROP;
	}
	ih = (struct rte_ipv4_hdr *)(eh + 1);
	ip_len = rte_be_to_cpu_16(ih->total_length);
	/* Options are refused (fixed frame offset); total length must fit
	 * what arrived, Ethernet padding may follow it. */
	if (unlikely(ih->version_ihl != RTE_IPV4_VHL_DEF || ip_len < sizeof(*ih) ||
		     ip_len > len - sizeof(*eh))) {
		*why = DP_DROP_IP_BAD;
		return DP_PKT_DROP;
	}
	if (unlikely(ih->dst_addr != pa->ip_be)) {
		*why = DP_DROP_IP_NOT_US;
		return DP_PKT_DROP;
	}
	if (!(m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_GOOD) &&
	    unlikely(rte_raw_cksum(ih, sizeof(*ih)) != 0xffff)) {
		*why = DP_DROP_IP_CSUM;
		return DP_PKT_DROP;
	}
	if (unlikely(ih->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
							     RTE_IPV4_HDR_OFFSET_MASK))) {
		*why = DP_DROP_IP_FRAG;
		return DP_PKT_DROP;
	}
	if (unlikely(ih->next_proto_id != IPPROTO_UDP)) {
		if (ih->next_proto_id == IPPROTO_ICMP)
			return icmp_input(pa, m, eh, ih, ip_len, why);
		*why = DP_DROP_IP_PROTO;
		return DP_PKT_DROP;
	}
	uh = (struct rte_udp_hdr *)(ih + 1);
	/* ip_len fits the packet, so checking it first keeps the UDP header
	 * read inside the packet. */
	if (unlikely(ip_len < sizeof(*ih) + sizeof(*uh))) {
		*why = DP_DROP_UDP_BAD;
		return DP_PKT_DROP;
	}
	udp_len = rte_be_to_cpu_16(uh->dgram_len);
	if (unlikely(udp_len < sizeof(*uh) || udp_len != ip_len - sizeof(*ih))) {
		*why = DP_DROP_UDP_BAD;
		return DP_PKT_DROP;
	}
	if (unlikely(uh->dst_port != udp_be)) {
		*why = DP_DROP_UDP_PORT;
		return DP_PKT_DROP;
	}
	/* A zero UDP checksum means "none" in IPv4; otherwise verify unless
	 * the port already did. */
	if (uh->dgram_cksum != 0 && (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) !=
					    RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
		if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
		    rte_ipv4_udptcp_cksum_verify(ih, uh) != 0) {
			*why = DP_DROP_UDP_CSUM;
			return DP_PKT_DROP;
		}
	}
	src->ip_be = ih->src_addr;
	src->udp_be = uh->src_port;
	rte_ether_addr_copy(&eh->src_addr, &src->mac);
	*gw = (const uint8_t *)(uh + 1);
	*gw_len = udp_len - sizeof(*uh);
	return DP_PKT_GWART;
}

static void write_hdrs(char *p, const struct dp_port_addr *pa, uint16_t src_udp_be,
		       const struct rte_ether_addr *mac, uint32_t ip_be, uint16_t dst_udp_be,
		       uint16_t len)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ih;
	struct rte_udp_hdr *uh;

	rte_ether_addr_copy(mac, &eh->dst_addr);
	rte_ether_addr_copy(&pa->mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ih = (struct rte_ipv4_hdr *)(eh + 1);
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->type_of_service = 0;
	ih->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ih) + sizeof(*uh) + len));
	ih->packet_id = 0;
	ih->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ih->time_to_live = 64;
	ih->next_proto_id = IPPROTO_UDP;
	ih->hdr_checksum = 0;
	ih->src_addr = pa->ip_be;
	ih->dst_addr = ip_be;
	uh = (struct rte_udp_hdr *)(ih + 1);
	uh->src_port = src_udp_be;
	uh->dst_port = dst_udp_be;
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*uh) + len));
	uh->dgram_cksum = 0;
}

struct rte_mbuf *dp_pkt_alloc_udp(struct rte_mempool *pool, const struct dp_port_addr *pa,
				  uint16_t src_udp_be, const struct rte_ether_addr *mac,
				  uint32_t ip_be, uint16_t dst_udp_be, uint16_t len, uint8_t **payload)
{
	struct rte_mbuf *m;
	char *p;

	m = rte_pktmbuf_alloc(pool);
	if (unlikely(m == NULL))
		return NULL;
	p = rte_pktmbuf_append(m, DP_PKT_HDRS + len);
	if (unlikely(p == NULL)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	write_hdrs(p, pa, src_udp_be, mac, ip_be, dst_udp_be, len);
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(struct rte_ipv4_hdr);
	*payload = (uint8_t *)p + DP_PKT_HDRS;
	return m;
}

void dp_pkt_tmpl_build(struct dp_hdr_tmpl *t, const struct dp_port_addr *pa,
		       uint16_t src_udp_be, const struct rte_ether_addr *mac, uint32_t ip_be,
		       uint16_t dst_udp_be)
{
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(t->hdr + RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ih + 1);
	/* The pseudo-header (RFC 768) without its length. */
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
	} __rte_packed ph = {.src = pa->ip_be, .dst = ip_be, .proto = IPPROTO_UDP};

	memset(t, 0, sizeof(*t));
	write_hdrs((char *)t->hdr, pa, src_udp_be, mac, ip_be, dst_udp_be, 0);
	ih->total_length = 0;
	uh->dgram_len = 0;
	t->ip_sum = rte_raw_cksum(ih, sizeof(*ih));
	t->phdr_sum = rte_raw_cksum(&ph, sizeof(ph));
	t->l4_sum = t->phdr_sum + (uint32_t)src_udp_be + dst_udp_be;
	t->csum_offload = pa->tx_csum_offload;
}

void dp_pkt_finish_udp(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ih =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ih + 1);

	ih->hdr_checksum = 0;
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	uh->dgram_cksum = 0;
	uh->dgram_cksum = rte_ipv4_udptcp_cksum(ih, uh);
}

void dp_pkt_finish_udp_tx(struct rte_mbuf *m, const struct dp_port_addr *pa)
{
	struct rte_ipv4_hdr *ih;
	struct rte_udp_hdr *uh;

	if (!pa->tx_csum_offload) {
		dp_pkt_finish_udp(m);
		return;
	}
	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uh = (struct rte_udp_hdr *)(ih + 1);
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ih);
	m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
	ih->hdr_checksum = 0;
	/* The NIC expects the pseudo-header sum in place. */
	uh->dgram_cksum = rte_ipv4_phdr_cksum(ih, m->ol_flags);
}
