/* SPDX-License-Identifier: BSD-3-Clause */
/* L2-L4 classification: one numbered case per way a packet can be refused,
 * the accepted shapes, and ARP / ICMP echo answered correctly in place. */
#include <string.h>

#include <criterion/criterion.h>
#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include <gwart/auth.h>

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

/* ---- frames to connectors from header templates (api/pkt.h) ---------------
 * The reference for each frame: dp_pkt_alloc_udp() + dp_pkt_finish_udp()
 * (every header written, both checksums computed over the whole packet,
 * rte_ipv4_udptcp_cksum()). The template path must produce the same bytes. */

static struct dp_hdr_tmpl tmpl(int offload)
{
	struct dp_port_addr router = port();
	struct dp_hdr_tmpl t;

	router.tx_csum_offload = (uint8_t)offload;
	dp_pkt_tmpl_build(&t, &router, rte_cpu_to_be_16(GW_PORT), &peer_mac,
			  rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(40001));
	return t;
}

/* The reference packet for gwart frame @fr (@len bytes). */
static struct rte_mbuf *reference(const uint8_t *fr, uint16_t len)
{
	struct dp_port_addr router = port();
	uint8_t *pl;
	struct rte_mbuf *m = dp_pkt_alloc_udp(test_pool, &router, rte_cpu_to_be_16(GW_PORT),
					      &peer_mac, rte_cpu_to_be_32(PEER_IP),
					      rte_cpu_to_be_16(40001), len, &pl);

	cr_assert_not_null(m);
	memcpy(pl, fr, len);
	dp_pkt_finish_udp(m);
	return m;
}

/* @m (template path, sealed with the tag at the end of @fr) against the
 * reference: the same bytes, and a valid datagram to the peer. */
static void same_as_reference(struct rte_mbuf *m, const char *what, unsigned v)
{
	uint8_t *fr = dp_pkt_gw(m);
	uint16_t len = (uint16_t)(fr[4] << 8 | fr[5]);
	struct rte_mbuf *r = reference(fr, len);
	struct dp_port_addr peer = port();
	const uint8_t *gw;
	uint16_t gl;
	struct dp_pkt_src src;
	enum dp_drop_reason why;

	cr_assert_eq(rte_pktmbuf_data_len(m), rte_pktmbuf_data_len(r), "%s %u: length", what, v);
	cr_assert_eq(memcmp(rte_pktmbuf_mtod(m, void *), rte_pktmbuf_mtod(r, void *),
			    rte_pktmbuf_data_len(m)),
		     0, "%s %u (frame %u bytes): same bytes as the reference", what, v, len);
	peer.ip_be = rte_cpu_to_be_32(PEER_IP);
	cr_assert_eq(dp_pkt_classify(&peer, rte_cpu_to_be_16(40001), m, &gw, &gl, &src, &why),
		     DP_PKT_GWART, "%s %u: %s", what, v, dp_drop_name(why));
	rte_pktmbuf_free(r);
}

/* A custody DATA frame of @payload bytes to @dest, with a tag of @tag_byte. */
static uint16_t custody_frame(uint8_t *buf, const char *dest, uint16_t payload, uint8_t seed)
{
	static uint8_t pl[GW_PAYLOAD_MAX];
	struct gw_hdr_args h = {.sender = 7, .epoch = 0x01020304u, .seq = 99,
				.ctr = gw_ctr_make(GW_LANE_STREAM, 5)};
	size_t n;
	unsigned i;

	for (i = 0; i < payload; i++)
		pl[i] = (uint8_t)(seed + i * 37);
	n = gw_wire_encode_data(buf, GW_FRAME_MAX, &h, 7, 1234567, dest, (uint16_t)strlen(dest),
				pl, payload);
	cr_assert_gt(n, 0);
	memset(buf + n - GW_TAG_LEN, 0xa5, GW_TAG_LEN); /* as the origin's tag */
	return (uint16_t)n;
}

/* One transmission as egress does it: copy, rewrite, seal (a tag of its
 * own), finish the checksum. */
static struct rte_mbuf *transmit(const struct dp_hdr_tmpl *t, const uint8_t *src, uint16_t len,
				 const struct gw_hdr_args *h, uint8_t tag_seed)
{
	uint8_t *fr = NULL;
	struct rte_mbuf *m = dp_pkt_alloc_frame(test_pool, len, &fr);
	unsigned i;

	cr_assert_not_null(m);
	dp_pkt_put_data(m, t, src, len, dp_csum_gw_body(src, len), h);
	for (i = 0; i < GW_TAG_LEN; i++)
		fr[len - GW_TAG_LEN + i] = (uint8_t)(tag_seed * 13 + i * 7);
	if (!t->csum_offload)
		dp_pkt_csum_tag(fr, len);
	return m;
}

/* The same, in place: @src as it arrived (headers stripped, 5 bytes of
 * padding after it, receive flags set). */
static struct rte_mbuf *transmit_in_place(const struct dp_hdr_tmpl *t, const uint8_t *src,
					  uint16_t len, const struct gw_hdr_args *h,
					  uint8_t tag_seed)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);
	uint8_t *fr;
	unsigned i;

	cr_assert_not_null(m);
	fr = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(DP_PKT_HDRS + len + 5));
	cr_assert_not_null(fr);
	cr_assert_not_null(rte_pktmbuf_adj(m, DP_PKT_HDRS));
	fr = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(fr, src, len);
	memset(fr + len, 0xee, 5);
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	cr_assert_geq(rte_pktmbuf_headroom(m), DP_PKT_HDRS);
	dp_pkt_put_data_in_place(m, t, len, dp_csum_gw_body(src, len), h);
	fr = dp_pkt_gw(m);
	for (i = 0; i < GW_TAG_LEN; i++)
		fr[len - GW_TAG_LEN + i] = (uint8_t)(tag_seed * 13 + i * 7);
	dp_pkt_csum_tag(fr, len);
	return m;
}

/* DATA transmissions, table-driven: frame lengths of both parities (the
 * trailer at an odd offset enters the sum byte-swapped), small and large,
 * first transmissions and retransmissions, counters and seqs with every
 * byte set. */
Test(pkt, tmpl_data_matches_full_checksum)
{
	static const struct {
		const char *dest;
		uint16_t payload;
	} cases[] = {
		{"t:x", 0},   {"t:x", 1},   {"t:xy", 1},   {"t:x", 2},    {"t:x", 63},
		{"t:x", 64},  {"t:xy", 64}, {"t:x", 65},   {"t:x", 511},  {"t:x", 1024},
		{"t:xy", 1024}, {"t:x", 1025}, {"smtp:d0001234.example.com", 64},
		{"t:x", GW_PAYLOAD_MAX > 1400 ? 1400 : GW_PAYLOAD_MAX},
	};
	struct dp_hdr_tmpl t = tmpl(0);
	static uint8_t src[GW_FRAME_MAX];
	unsigned i;

	for (i = 0; i < RTE_DIM(cases); i++) {
		uint16_t len = custody_frame(src, cases[i].dest, cases[i].payload, (uint8_t)i);
		struct gw_hdr_args h = {.flags = i & 1 ? GW_F_RETRANSMIT : 0,
					.sender = GW_CONN_ID_ROUTER,
					.epoch = 0xfedcba98u - i,
					.seq = 0x0123456789abcdefull + i * 0x1111,
					.ctr = gw_ctr_make(GW_LANE_STREAM, 0xffeeddccbbaull + i)};
		struct rte_mbuf *m = transmit(&t, src, len, &h, (uint8_t)i);

		cr_assert_eq(len & 1, (unsigned)(strlen(cases[i].dest) + cases[i].payload) & 1);
		same_as_reference(m, "data case", i);
		rte_pktmbuf_free(m);
		/* The first transmission, in place in the mbuf it arrived in
		 * (Ethernet padding after it, receive flags set): the same. */
		m = transmit_in_place(&t, src, len, &h, (uint8_t)i);
		same_as_reference(m, "data in place", i);
		cr_assert_eq(m->ol_flags, 0, "receive flags cleared");
		rte_pktmbuf_free(m);
	}
}

/* The 0xffff / 0x0000 corner: a sum that folds to 0xffff complements to 0,
 * which means "no checksum" in IPv4; RFC 768 sends 0xffff instead, and so
 * must the template path, as rte_ipv4_udptcp_cksum() does. Every value of
 * one payload word, both parities, so the corner is met, not hoped for. */
Test(pkt, tmpl_checksum_corner_never_zero)
{
	struct dp_hdr_tmpl t = tmpl(0);
	static uint8_t src[GW_FRAME_MAX];
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = 3, .seq = 4,
				.ctr = gw_ctr_make(GW_LANE_STREAM, 9)};
	unsigned odd, corner = 0;

	for (odd = 0; odd < 2; odd++) {
		uint16_t len = custody_frame(src, odd ? "t:xy" : "t:x", 8, 0);
		/* The first payload word: after header, fixed DATA part, dest. */
		unsigned off = GW_HDR_LEN + GW_DATA_FIXED_LEN + (odd ? 4 : 3);
		uint32_t v;

		for (v = 0; v <= 0xffff; v++) {
			struct rte_mbuf *m;
			struct rte_udp_hdr *uh;

			src[off] = (uint8_t)(v >> 8);
			src[off + 1] = (uint8_t)v;
			m = transmit(&t, src, len, &h, 1);
			uh = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, DP_PKT_HDRS - 8);
			cr_assert_neq(uh->dgram_cksum, 0, "value %u: never 0", v);
			if (uh->dgram_cksum == 0xffff) {
				/* Only the corner's representation: the
				 * reference must say the same. */
				corner++;
				same_as_reference(m, "corner", v);
			} else if ((v & 0xff) == 0) {
				same_as_reference(m, "sweep", v);
			}
			rte_pktmbuf_free(m);
		}
	}
	cr_assert_geq(corner, 2, "the 0xffff corner was met in both parities");
}

/* ACKs and NACKs from the values written, against the reference. */
Test(pkt, tmpl_ack_nack_match_full_checksum)
{
	struct dp_hdr_tmpl t = tmpl(0);
	static const uint64_t v[][3] = {
		{1, 2, 0},
		{0xffffffffffffffffull, 0xfffffffffffffffeull, 0xffffffffffffffffull},
		{0x0123456789abcdefull, 0x0123456789abcdf0ull, 0x8000000000000001ull},
		{0, 0, 0},
	};
	unsigned i;

	for (i = 0; i < RTE_DIM(v); i++) {
		struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = (uint32_t)(v[i][0] >> 7),
					.seq = v[i][0] != 0 ? v[i][0] : 1,
					.ctr = gw_ctr_make(GW_LANE_STREAM, (v[i][2] >> 8) + 1)};
		uint8_t *fr = NULL;
		struct rte_mbuf *m;
		unsigned k;

		m = dp_pkt_alloc_frame(test_pool, GW_ACK_LEN, &fr);
		cr_assert_not_null(m);
		dp_pkt_put_ack(m, &t, &h, v[i][1], v[i][2]);
		for (k = 0; k < GW_TAG_LEN; k++)
			fr[GW_ACK_LEN - GW_TAG_LEN + k] = (uint8_t)(i * 31 + k);
		dp_pkt_csum_tag(fr, GW_ACK_LEN);
		same_as_reference(m, "ack", i);
		rte_pktmbuf_free(m);

		m = dp_pkt_alloc_frame(test_pool, GW_NACK_LEN, &fr);
		cr_assert_not_null(m);
		dp_pkt_put_nack(m, &t, &h, v[i][1] | 1, 1 + i % GW_NACK_REASON_MAX,
				(uint32_t)v[i][2]);
		for (k = 0; k < GW_TAG_LEN; k++)
			fr[GW_NACK_LEN - GW_TAG_LEN + k] = (uint8_t)(i * 17 + k);
		dp_pkt_csum_tag(fr, GW_NACK_LEN);
		same_as_reference(m, "nack", i);
		rte_pktmbuf_free(m);
	}
}

/* A port that offloads: flags set, the pseudo-header sum in place (what
 * the NIC expects, rte_ipv4_phdr_cksum()), nothing else computed. */
Test(pkt, tmpl_offload_pseudo_header)
{
	struct dp_hdr_tmpl t = tmpl(1);
	static uint8_t src[GW_FRAME_MAX];
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = 3, .seq = 4,
				.ctr = gw_ctr_make(GW_LANE_STREAM, 9)};
	uint16_t len = custody_frame(src, "t:xy", 65, 3);
	struct rte_mbuf *m = transmit(&t, src, len, &h, 1);
	struct rte_ipv4_hdr *ih =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ih + 1);

	cr_assert_eq(m->ol_flags & (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
				    RTE_MBUF_F_TX_UDP_CKSUM),
		     RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
	cr_assert_eq(m->l2_len, RTE_ETHER_HDR_LEN);
	cr_assert_eq(m->l3_len, sizeof(*ih));
	cr_assert_eq(ih->hdr_checksum, 0);
	cr_assert_eq(uh->dgram_cksum, rte_ipv4_phdr_cksum(ih, m->ol_flags));
	cr_assert_eq(rte_be_to_cpu_16(uh->dgram_len), 8 + len);
	rte_pktmbuf_free(m);
}
