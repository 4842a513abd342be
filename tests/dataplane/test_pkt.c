/* SPDX-License-Identifier: BSD-3-Clause */
/* L2-L4 classification: one numbered case per way a packet can be refused,
 * the accepted shapes, and ARP / ICMP echo answered correctly in place. */
#include <string.h>

#include <criterion/criterion.h>
#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "eal.h"
#include "pkt.h"

TestSuite(pkt, .init = test_eal_up, .fini = test_eal_down);

#define ROUTER_IP RTE_IPV4(198u, 18u, 0u, 1u)
#define PEER_IP RTE_IPV4(198u, 18u, 0u, 2u)
#define GW_PORT 4790

static const struct dp_port_addr pa = {
	.port_id = 0,
	.mac = {{0x02, 0, 0, 0, 0, 1}},
	.mtu = 1500,
};
static const struct rte_ether_addr peer_mac = {{0x02, 0, 0, 0, 0, 2}};

static struct dp_port_addr port(void)
{
	struct dp_port_addr p = pa;

	p.ip_be = rte_cpu_to_be_32(ROUTER_IP);
	return p;
}

enum mut {
	M_NONE, M_SHORT_ETH, M_IPV6, M_IP_OPTS, M_IP_LONG, M_IP_CSUM, M_NOT_US, M_FRAG_MF,
	M_FRAG_OFF, M_TCP, M_UDP_LEN, M_UDP_PORT, M_UDP_CSUM, M_UDP_ZERO_CSUM, M_PAD,
	M_IP_SHORT, M_DF,
};

/* Build Ethernet/IPv4/UDP to the router carrying @len payload bytes, then
 * apply one mutation. */
static struct rte_mbuf *build(enum mut mu, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ih;
	struct rte_udp_hdr *uh;
	uint16_t pad = mu == M_PAD ? 18 : 0;
	char *p;

	cr_assert_not_null(m);
	p = rte_pktmbuf_append(m, sizeof(*eh) + sizeof(*ih) + sizeof(*uh) + len + pad);
	cr_assert_not_null(p);
	memset(p, 0, rte_pktmbuf_data_len(m));
	eh = (struct rte_ether_hdr *)p;
	eh->dst_addr = pa.mac;
	eh->src_addr = peer_mac;
	eh->ether_type = rte_cpu_to_be_16(mu == M_IPV6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
	ih = (struct rte_ipv4_hdr *)(eh + 1);
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->total_length = rte_cpu_to_be_16(sizeof(*ih) + sizeof(*uh) + len);
	ih->time_to_live = 64;
	ih->next_proto_id = mu == M_TCP ? IPPROTO_TCP : IPPROTO_UDP;
	ih->src_addr = rte_cpu_to_be_32(PEER_IP);
	ih->dst_addr = rte_cpu_to_be_32(mu == M_NOT_US ? PEER_IP + 7 : ROUTER_IP);
	if (mu == M_FRAG_MF)
		ih->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	if (mu == M_FRAG_OFF)
		ih->fragment_offset = rte_cpu_to_be_16(3);
	if (mu == M_DF)
		ih->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	if (mu == M_IP_OPTS)
		ih->version_ihl = 0x46;
	if (mu == M_IP_LONG)
		ih->total_length = rte_cpu_to_be_16(sizeof(*ih) + sizeof(*uh) + len + 1);
	if (mu == M_IP_SHORT)
		ih->total_length = rte_cpu_to_be_16(10);
	uh = (struct rte_udp_hdr *)(ih + 1);
	uh->src_port = rte_cpu_to_be_16(40000);
	uh->dst_port = rte_cpu_to_be_16(mu == M_UDP_PORT ? GW_PORT + 1 : GW_PORT);
	uh->dgram_len = rte_cpu_to_be_16(sizeof(*uh) + len + (mu == M_UDP_LEN ? 1 : 0));
	memset(uh + 1, 0xab, len);
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	if (mu == M_IP_CSUM)
		ih->hdr_checksum ^= 0x0101;
	if (mu != M_UDP_ZERO_CSUM)
		uh->dgram_cksum = rte_ipv4_udptcp_cksum(ih, uh);
	if (mu == M_UDP_CSUM)
		uh->dgram_cksum ^= 0x0101;
	if (mu == M_SHORT_ETH)
		rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - 10);
	return m;
}

struct pkt_case {
	int line;
	enum mut mu;
	enum dp_pkt_verdict v;
	enum dp_drop_reason why;
};

static const struct pkt_case cases[] = {
	{__LINE__, M_NONE, DP_PKT_GWART, 0},
	{__LINE__, M_UDP_ZERO_CSUM, DP_PKT_GWART, 0},
	{__LINE__, M_PAD, DP_PKT_GWART, 0},
	{__LINE__, M_DF, DP_PKT_GWART, 0},
	{__LINE__, M_SHORT_ETH, DP_PKT_DROP, DP_DROP_ETH_SHORT},
	{__LINE__, M_IPV6, DP_PKT_DROP, DP_DROP_ETH_TYPE},
	{__LINE__, M_IP_OPTS, DP_PKT_DROP, DP_DROP_IP_BAD},
	{__LINE__, M_IP_LONG, DP_PKT_DROP, DP_DROP_IP_BAD},
	{__LINE__, M_IP_SHORT, DP_PKT_DROP, DP_DROP_IP_BAD},
	{__LINE__, M_IP_CSUM, DP_PKT_DROP, DP_DROP_IP_CSUM},
	{__LINE__, M_NOT_US, DP_PKT_DROP, DP_DROP_IP_NOT_US},
	{__LINE__, M_FRAG_MF, DP_PKT_DROP, DP_DROP_IP_FRAG},
	{__LINE__, M_FRAG_OFF, DP_PKT_DROP, DP_DROP_IP_FRAG},
	{__LINE__, M_TCP, DP_PKT_DROP, DP_DROP_IP_PROTO},
	{__LINE__, M_UDP_LEN, DP_PKT_DROP, DP_DROP_UDP_BAD},
	{__LINE__, M_UDP_PORT, DP_PKT_DROP, DP_DROP_UDP_PORT},
	{__LINE__, M_UDP_CSUM, DP_PKT_DROP, DP_DROP_UDP_CSUM},
};

Test(pkt, classify_table)
{
	struct dp_port_addr p = port();
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rte_mbuf *m = build(cases[i].mu, 40);
		const uint8_t *gw = NULL;
		uint16_t gl = 0;
		struct dp_pkt_src src;
		enum dp_drop_reason why = DP_DROP_COUNT;
		enum dp_pkt_verdict v;

		v = dp_pkt_classify(&p, rte_cpu_to_be_16(GW_PORT), m, &gw, &gl, &src, &why);
		cr_assert_eq(v, cases[i].v, "line %d: verdict %d", cases[i].line, v);
		if (v == DP_PKT_DROP) {
			cr_assert_eq(why, cases[i].why, "line %d: reason %s", cases[i].line,
				     dp_drop_name(why));
		} else {
			cr_assert_eq(gl, 40, "line %d: gwart length", cases[i].line);
			cr_assert_eq(gw, dp_pkt_gw(m), "line %d: fixed offset", cases[i].line);
			cr_assert_eq(gw[0], 0xab);
			cr_assert_eq(src.ip_be, rte_cpu_to_be_32(PEER_IP));
			cr_assert_eq(src.udp_be, rte_cpu_to_be_16(40000));
			cr_assert(rte_is_same_ether_addr(&src.mac, &peer_mac));
		}
		rte_pktmbuf_free(m);
	}
}

Test(pkt, every_truncation_refused)
{
	struct dp_port_addr p = port();
	uint16_t cut;

	/* Every length shorter than the full headers must be refused, never
	 * read past (ASan build). */
	for (cut = 0; cut < DP_PKT_HDRS; cut++) {
		struct rte_mbuf *m = build(M_NONE, 0);
		const uint8_t *gw;
		uint16_t gl;
		struct dp_pkt_src src;
		enum dp_drop_reason why;

		rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - cut);
		cr_assert_eq(dp_pkt_classify(&p, rte_cpu_to_be_16(GW_PORT), m, &gw, &gl, &src, &why),
			     DP_PKT_DROP, "length %u", cut);
		rte_pktmbuf_free(m);
	}
}

static struct rte_mbuf *arp_req(uint32_t tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;

	char *p;

	cr_assert_not_null(m);
	p = rte_pktmbuf_append(m, sizeof(*eh) + sizeof(*ah) + 18);
	cr_assert_not_null(p);
	memset(p, 0, sizeof(*eh) + sizeof(*ah) + 18);
	eh = (struct rte_ether_hdr *)p;
	memset(&eh->dst_addr, 0xff, 6);
	eh->src_addr = peer_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah = (struct rte_arp_hdr *)(eh + 1);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = 6;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	ah->arp_data.arp_sha = peer_mac;
	ah->arp_data.arp_sip = rte_cpu_to_be_32(PEER_IP);
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	return m;
}

Test(pkt, arp)
{
	struct dp_port_addr p = port();
	struct rte_mbuf *m = arp_req(ROUTER_IP);
	const uint8_t *gw;
	uint16_t gl;
	struct dp_pkt_src src;
	enum dp_drop_reason why;
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;

	cr_assert_eq(dp_pkt_classify(&p, 0, m, &gw, &gl, &src, &why), DP_PKT_REPLY);
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ah = (struct rte_arp_hdr *)(eh + 1);
	cr_assert_eq(rte_pktmbuf_data_len(m), sizeof(*eh) + sizeof(*ah), "padding trimmed");
	cr_assert(rte_is_same_ether_addr(&eh->dst_addr, &peer_mac));
	cr_assert(rte_is_same_ether_addr(&eh->src_addr, &p.mac));
	cr_assert_eq(ah->arp_opcode, rte_cpu_to_be_16(RTE_ARP_OP_REPLY));
	cr_assert(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &p.mac));
	cr_assert_eq(ah->arp_data.arp_sip, p.ip_be);
	cr_assert(rte_is_same_ether_addr(&ah->arp_data.arp_tha, &peer_mac));
	cr_assert_eq(ah->arp_data.arp_tip, rte_cpu_to_be_32(PEER_IP));
	rte_pktmbuf_free(m);

	m = arp_req(ROUTER_IP + 1);
	cr_assert_eq(dp_pkt_classify(&p, 0, m, &gw, &gl, &src, &why), DP_PKT_DROP);
	cr_assert_eq(why, DP_DROP_ARP_NOT_US);
	rte_pktmbuf_free(m);

	m = arp_req(ROUTER_IP);
	ah = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
	ah->arp_hlen = 8;
	cr_assert_eq(dp_pkt_classify(&p, 0, m, &gw, &gl, &src, &why), DP_PKT_DROP);
	cr_assert_eq(why, DP_DROP_ARP_BAD);
	rte_pktmbuf_free(m);
}

static struct rte_mbuf *echo_req_n(int corrupt, uint16_t dlen, int zero);

static struct rte_mbuf *echo_req(int corrupt)
{
	return echo_req_n(corrupt, 24, 0);
}

static struct rte_mbuf *echo_req_n(int corrupt, uint16_t dlen, int zero)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ih;
	struct rte_icmp_hdr *ic;
	char *p;

	cr_assert_not_null(m);
	p = rte_pktmbuf_append(m, sizeof(*eh) + sizeof(*ih) + sizeof(*ic) + dlen);
	cr_assert_not_null(p);
	memset(p, 0, sizeof(*eh) + sizeof(*ih) + sizeof(*ic) + dlen);
	eh = (struct rte_ether_hdr *)p;
	eh->dst_addr = pa.mac;
	eh->src_addr = peer_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ih = (struct rte_ipv4_hdr *)(eh + 1);
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->total_length = rte_cpu_to_be_16(sizeof(*ih) + sizeof(*ic) + dlen);
	ih->time_to_live = 64;
	ih->next_proto_id = IPPROTO_ICMP;
	ih->src_addr = rte_cpu_to_be_32(PEER_IP);
	ih->dst_addr = rte_cpu_to_be_32(ROUTER_IP);
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	ic = (struct rte_icmp_hdr *)(ih + 1);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_ident = zero ? 0 : rte_cpu_to_be_16(0x1234);
	ic->icmp_seq_nb = zero ? 0 : rte_cpu_to_be_16(7);
	memset(ic + 1, zero ? 0 : 0x5a, dlen);
	ic->icmp_cksum = ~rte_raw_cksum(ic, sizeof(*ic) + dlen);
	if (corrupt)
		ic->icmp_cksum ^= 1;
	return m;
}

Test(pkt, icmp_echo)
{
	struct dp_port_addr p = port();
	struct rte_mbuf *m = echo_req(0);
	const uint8_t *gw;
	uint16_t gl;
	struct dp_pkt_src src;
	enum dp_drop_reason why;
	struct rte_ipv4_hdr *ih;
	struct rte_icmp_hdr *ic;

	cr_assert_eq(dp_pkt_classify(&p, 0, m, &gw, &gl, &src, &why), DP_PKT_REPLY);
	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	ic = (struct rte_icmp_hdr *)(ih + 1);
	cr_assert_eq(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	cr_assert_eq(rte_raw_cksum(ic, sizeof(*ic) + 24), 0xffff, "ICMP checksum valid");
	cr_assert_eq(rte_raw_cksum(ih, sizeof(*ih)), 0xffff, "IP checksum valid");
	cr_assert_eq(ih->dst_addr, rte_cpu_to_be_32(PEER_IP));
	cr_assert_eq(ih->src_addr, p.ip_be);
	cr_assert_eq(ic->icmp_seq_nb, rte_cpu_to_be_16(7));
	rte_pktmbuf_free(m);

	m = echo_req(1);
	cr_assert_eq(dp_pkt_classify(&p, 0, m, &gw, &gl, &src, &why), DP_PKT_DROP);
	cr_assert_eq(why, DP_DROP_ICMP_OTHER);
	rte_pktmbuf_free(m);
}

Test(pkt, built_frames_classify_on_the_other_side)
{
	struct dp_port_addr router = port(), peer = port();
	struct rte_mbuf *m;
	uint8_t *pl;
	const uint8_t *gw;
	uint16_t gl;
	struct dp_pkt_src src;
	enum dp_drop_reason why;

	peer.ip_be = rte_cpu_to_be_32(PEER_IP);
	peer.mac = peer_mac;
	m = dp_pkt_alloc_udp(test_pool, &router, rte_cpu_to_be_16(GW_PORT), &peer_mac,
			     peer.ip_be, rte_cpu_to_be_16(40000), 100, &pl);
	cr_assert_not_null(m);
	memset(pl, 0x11, 100);
	dp_pkt_finish_udp(m);
	/* Seen from the peer, the frame must be a valid UDP datagram to it. */
	cr_assert_eq(dp_pkt_classify(&peer, rte_cpu_to_be_16(40000), m, &gw, &gl, &src, &why),
		     DP_PKT_GWART, "reason %s", dp_drop_name(why));
	cr_assert_eq(gl, 100);
	cr_assert_eq(src.ip_be, router.ip_be);
	cr_assert_eq(src.udp_be, rte_cpu_to_be_16(GW_PORT));
	rte_pktmbuf_free(m);
	/* Too big for one mbuf: refused, nothing leaked. */
	cr_assert_null(dp_pkt_alloc_udp(test_pool, &router, 0, &peer_mac, 0, 0, 9000, &pl));
}

/* Regression (found by fuzz_pkt): an all-zero echo request's reply needs
 * checksum 0xffff, which an incremental update got wrong (0x0000). */
Test(pkt, icmp_echo_all_zero)
{
	struct dp_port_addr p = port();
	struct rte_mbuf *m = echo_req_n(0, 0, 1);
	const uint8_t *gw;
	uint16_t gl;
	struct dp_pkt_src src;
	enum dp_drop_reason why;
	struct rte_icmp_hdr *ic;

	cr_assert_eq(dp_pkt_classify(&p, 0, m, &gw, &gl, &src, &why), DP_PKT_REPLY);
	ic = rte_pktmbuf_mtod_offset(m, struct rte_icmp_hdr *,
				     sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr));
	cr_assert_eq(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	cr_assert_eq(rte_raw_cksum(ic, sizeof(*ic)), 0xffff, "reply checksum verifies");
	rte_pktmbuf_free(m);
}

/* Regression (found by fuzz_pkt): IPv4 total length 20 with protocol UDP;
 * the UDP header must not be read from beyond the packet. */
Test(pkt, udp_header_beyond_ip_length)
{
	struct dp_port_addr p = port();
	struct rte_mbuf *m = build(M_IP_SHORT, 0);
	struct rte_ipv4_hdr *ih;
	const uint8_t *gw;
	uint16_t gl;
	struct dp_pkt_src src;
	enum dp_drop_reason why = DP_DROP_COUNT;

	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
	ih->total_length = rte_cpu_to_be_16(sizeof(*ih));
	ih->hdr_checksum = 0;
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	/* Only the IPv4 header is in the packet. */
	rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - sizeof(struct rte_ether_hdr) - sizeof(*ih));
	cr_assert_eq(dp_pkt_classify(&p, rte_cpu_to_be_16(GW_PORT), m, &gw, &gl, &src, &why),
		     DP_PKT_DROP);
	cr_assert_eq(why, DP_DROP_UDP_BAD, "reason %s", dp_drop_name(why));
	rte_pktmbuf_free(m);
}
