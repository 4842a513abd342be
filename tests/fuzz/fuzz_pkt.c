/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the packet layer the router sees first:
 * dp_pkt_classify() on one received Ethernet frame, and gw_wire_parse() on
 * the UDP payload it hands on, so the whole chain wire-under-packet is fuzzed.
 *
 * The input is the frame exactly as a port would deliver it. Each input is
 * classified three times, in a fresh single-segment mbuf each time:
 *  1. as it is, no offload flags (every checksum verified in software);
 *  2. as a well-formed sender would have sent the same bytes: for IPv4 with
 *     a 20-byte header the IP total length and the UDP length are set from
 *     the frame size, and the IPv4, ICMP and (non-zero) UDP checksums are
 *     recomputed, so mutations reach past the checksum checks;
 *  3. as it is, with the port claiming "IP and L4 checksums good": whatever
 *     a NIC says, the classifier must stay inside the packet.
 *
 * Out-of-bounds detection: mbuf data lives in DPDK's pool, not on the malloc
 * heap, so ASan would not see a read past the packet on its own. The harness
 * poisons the headroom and everything after the packet's last byte up to the
 * end of the mbuf's buffer for the duration of the call, so any read outside
 * [data, data + len) is an ASan report.
 *
 * Oracle: a DROP has a reason < DP_DROP_COUNT and leaves the packet untouched;
 * a GWART's frame lies inside the packet at the fixed offset DP_PKT_HDRS, the
 * headers it was accepted on really say "IPv4/UDP to the router's port", and
 * the frame then goes through gw_wire_parse() (status in range, a refusal maps
 * onto the matching WIRE_* drop reason the worker accounts, an accepted frame
 * is version 2 and stays inside the datagram, its trailer last); a REPLY is a complete ARP reply or ICMP echo
 * reply to the requester whose checksums verify. Every mbuf goes back to the
 * pool (counted: pool memory is not malloc, so LeakSanitizer cannot see it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include <gwart/wire.h>

#include "pkt.h"
#include "stats.h"

/* Data bytes per mbuf: a jumbo frame, so every gwart frame up to
 * GW_FRAME_MAX fits one segment (gwartd's mbuf size is configurable).
 * run.sh passes the same figure as -max_len. */
#define ROOM 9216u
#define NB_MBUF 63u

#define ROUTER_IP RTE_IPV4(198u, 18u, 0u, 1u)

enum pass { P_RAW, P_FIXED, P_OFFLOAD, P_COUNT };

static struct rte_mempool *pool;
static struct dp_port_addr pa;
static uint16_t udp_be;
static uint8_t in[ROOM]; /* the frame of the current pass, before classify */
static int cur_pass;	 /* enum pass */

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_pkt: %s:%d: check failed: %s (pass %d)\n", __FILE__, \
				__LINE__, #c, cur_pass);                                           \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void fuzz_fini(void)
{
	rte_mempool_free(pool);
	rte_eal_cleanup();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char prefix[64];
	/* clang-format off */
	char *eal[] = {"fuzz", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		       "--log-level=error", "-l", "0", prefix, NULL};
	/* clang-format on */

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=fuzzpkt%ld", (long)getpid());
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "fuzz_pkt: EAL init failed\n");
		exit(1);
	}
	/* No per-lcore cache, so the in-use count is exact after every input. */
	pool = rte_pktmbuf_pool_create("fuzz_pkt", NB_MBUF, 0, 0, RTE_PKTMBUF_HEADROOM + ROOM,
				       SOCKET_ID_ANY);
	if (pool == NULL) {
		fprintf(stderr, "fuzz_pkt: mempool: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	atexit(fuzz_fini); /* runs before LeakSanitizer's check at exit */
	pa.port_id = 0;
	pa.ip_be = rte_cpu_to_be_32(ROUTER_IP);
	pa.mac = (struct rte_ether_addr){{0x02, 0x00, 0x5e, 0x00, 0x00, 0x01}};
	pa.mtu = 1500;
	udp_be = rte_cpu_to_be_16(GW_WIRE_UDP_PORT);
	return 0;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* Pass 2: lengths and checksums as a correct sender would have set them.
 * Returns 0 when the frame is not IPv4 with a 20-byte header (nothing to do). */
static int fix_up(uint8_t *f, size_t n)
{
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
	uint16_t ip_len;

	if (n < RTE_ETHER_HDR_LEN + sizeof(*ih) || rd16(f + 12) != RTE_ETHER_TYPE_IPV4 ||
	    ih->version_ihl != RTE_IPV4_VHL_DEF)
		return 0;
	ip_len = (uint16_t)(n - RTE_ETHER_HDR_LEN);
	ih->total_length = rte_cpu_to_be_16(ip_len);
	if (ih->next_proto_id == IPPROTO_UDP &&
	    ip_len >= sizeof(*ih) + sizeof(struct rte_udp_hdr)) {
		struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ih + 1);

		uh->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - sizeof(*ih)));
		if (uh->dgram_cksum != 0) {
			uh->dgram_cksum = 0;
			uh->dgram_cksum = rte_ipv4_udptcp_cksum(ih, uh);
		}
	} else if (ih->next_proto_id == IPPROTO_ICMP &&
		   ip_len >= sizeof(*ih) + sizeof(struct rte_icmp_hdr)) {
		struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ih + 1);

		ic->icmp_cksum = 0;
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, ip_len - sizeof(*ih));
	}
	ih->hdr_checksum = 0;
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	return 1;
}

static void poison(struct rte_mbuf *m, int on)
{
	uint8_t *buf = m->buf_addr;
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *end = d + rte_pktmbuf_data_len(m);
	uint8_t *lim = buf + m->buf_len;

	if (on) {
		ASAN_POISON_MEMORY_REGION(buf, (size_t)(d - buf));
		ASAN_POISON_MEMORY_REGION(end, (size_t)(lim - end));
	} else {
		ASAN_UNPOISON_MEMORY_REGION(buf, m->buf_len);
	}
}

/* What the wire layer says about the frame, and the drop the worker would
 * account for a refusal: worker.c maps statuses onto reasons by offset, so
 * the two X-macro lists must stay in the same order. */
static void check_wire(const uint8_t *gw, uint16_t len)
{
	struct gw_frame f;
	enum gw_wire_status st = gw_wire_parse(gw, len, &f);

	CHECK(st < GW_WIRE_STATUS_COUNT);
	if (st != GW_WIRE_OK) {
		unsigned r = DP_DROP_WIRE_TRUNCATED + st - GW_WIRE_TRUNCATED;

		CHECK(r < DP_DROP_COUNT);
		CHECK(strncmp(dp_drop_name(r), "WIRE_", 5) == 0);
		CHECK(strcmp(dp_drop_name(r) + 5, gw_wire_status_name(st)) == 0);
		return;
	}
	CHECK(f.length == len && f.type >= GW_T_DATA && f.type <= GW_T_MAX);
	/* Version 2 only; its trailer ends the datagram. */
	CHECK(f.version == GW_WIRE_VERSION && len >= GW_HDR_LEN + GW_TRAILER_LEN);
	CHECK(f.tag == gw + len - GW_TAG_LEN);
	if (f.type == GW_T_DATA) {
		CHECK(f.u.data.dest == gw + GW_HDR_LEN + GW_DATA_FIXED_LEN);
		CHECK(f.u.data.payload == f.u.data.dest + f.u.data.dest_len);
		/* A chunk's extension sits between its payload and the
		 * trailer (PROTOCOL.md 3.1.1). */
		CHECK(f.u.data.payload + f.u.data.payload_len ==
		      gw + len - GW_TRAILER_LEN - ((f.flags & GW_F_CHUNK) ? GW_CHUNK_EXT_LEN : 0));
		CHECK(!(f.flags & GW_F_CHUNK) ||
		      gw_chunk_check(&f.u.data.chunk, f.u.data.origin_seq, f.u.data.payload_len) == 0);
	} else {
		CHECK(!(f.flags & GW_F_CHUNK));
	}
}

static void check_gwart(struct rte_mbuf *m, size_t n, const uint8_t *gw, uint16_t gw_len,
			const struct dp_pkt_src *src)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(in + RTE_ETHER_HDR_LEN);
	const struct rte_udp_hdr *uh = (const struct rte_udp_hdr *)(ih + 1);
	uint16_t ip_len;

	/* The frame: inside the packet, at the fixed offset, untouched. */
	CHECK(rte_pktmbuf_data_len(m) == n && memcmp(d, in, n) == 0);
	CHECK(gw == d + DP_PKT_HDRS && gw == dp_pkt_gw(m));
	CHECK(n >= DP_PKT_HDRS && gw_len <= n - DP_PKT_HDRS);
	/* What it was accepted on, re-read from the input bytes. */
	CHECK(rd16(in + 12) == RTE_ETHER_TYPE_IPV4 && ih->version_ihl == RTE_IPV4_VHL_DEF);
	ip_len = rte_be_to_cpu_16(ih->total_length);
	CHECK(ip_len <= n - RTE_ETHER_HDR_LEN && ip_len == sizeof(*ih) + sizeof(*uh) + gw_len);
	CHECK(rte_be_to_cpu_16(uh->dgram_len) == sizeof(*uh) + gw_len);
	CHECK(ih->dst_addr == pa.ip_be && ih->next_proto_id == IPPROTO_UDP);
	CHECK((rte_be_to_cpu_16(ih->fragment_offset) & 0x3fff) == 0);
	CHECK(uh->dst_port == udp_be);
	if (cur_pass != P_OFFLOAD) {
		CHECK(rte_raw_cksum(ih, sizeof(*ih)) == 0xffff);
		CHECK(uh->dgram_cksum == 0 || rte_ipv4_udptcp_cksum_verify(ih, uh) == 0);
	}
	CHECK(src->ip_be == ih->src_addr && src->udp_be == uh->src_port);
	CHECK(memcmp(&src->mac, in + 6, RTE_ETHER_ADDR_LEN) == 0);
	check_wire(gw, gw_len);
}

static void check_arp_reply(struct rte_mbuf *m, size_t n)
{
	const struct rte_ether_hdr *e0 = (const struct rte_ether_hdr *)in;
	const struct rte_arp_hdr *a0 = (const struct rte_arp_hdr *)(e0 + 1);
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_arp_hdr *ah = (const struct rte_arp_hdr *)(eh + 1);

	/* The request that was answered. */
	CHECK(n >= sizeof(*e0) + sizeof(*a0));
	CHECK(rd16((const uint8_t *)&a0->arp_hardware) == RTE_ARP_HRD_ETHER &&
	      rd16((const uint8_t *)&a0->arp_protocol) == RTE_ETHER_TYPE_IPV4 &&
	      a0->arp_hlen == 6 && a0->arp_plen == 4);
	CHECK(rd16((const uint8_t *)&a0->arp_opcode) == RTE_ARP_OP_REQUEST);
	CHECK(a0->arp_data.arp_tip == pa.ip_be);
	/* The reply: exactly Ethernet + ARP, padding gone. */
	CHECK(rte_pktmbuf_data_len(m) == sizeof(*eh) + sizeof(*ah));
	CHECK(rd16((const uint8_t *)&ah->arp_hardware) == RTE_ARP_HRD_ETHER &&
	      rd16((const uint8_t *)&ah->arp_protocol) == RTE_ETHER_TYPE_IPV4 &&
	      ah->arp_hlen == 6 && ah->arp_plen == 4);
	CHECK(rd16((const uint8_t *)&ah->arp_opcode) == RTE_ARP_OP_REPLY);
	CHECK(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &pa.mac));
	CHECK(ah->arp_data.arp_sip == pa.ip_be);
	CHECK(rte_is_same_ether_addr(&ah->arp_data.arp_tha, &a0->arp_data.arp_sha));
	CHECK(ah->arp_data.arp_tip == a0->arp_data.arp_sip);
	CHECK(rte_is_same_ether_addr(&eh->dst_addr, &e0->src_addr));
	CHECK(rte_is_same_ether_addr(&eh->src_addr, &pa.mac));
	CHECK(eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP));
}

static void check_icmp_reply(struct rte_mbuf *m, size_t n)
{
	const struct rte_ether_hdr *e0 = (const struct rte_ether_hdr *)in;
	const struct rte_ipv4_hdr *i0 = (const struct rte_ipv4_hdr *)(e0 + 1);
	const struct rte_icmp_hdr *c0 = (const struct rte_icmp_hdr *)(i0 + 1);
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(eh + 1);
	const struct rte_icmp_hdr *ic = (const struct rte_icmp_hdr *)(ih + 1);
	uint16_t ip_len, icmp_len;

	/* The request that was answered. */
	CHECK(n >= sizeof(*e0) + sizeof(*i0) + sizeof(*c0));
	CHECK(i0->version_ihl == RTE_IPV4_VHL_DEF && i0->next_proto_id == IPPROTO_ICMP);
	CHECK(i0->dst_addr == pa.ip_be);
	ip_len = rte_be_to_cpu_16(i0->total_length);
	CHECK(ip_len >= sizeof(*i0) + sizeof(*c0) && ip_len <= n - sizeof(*e0));
	icmp_len = (uint16_t)(ip_len - sizeof(*i0));
	CHECK(c0->icmp_type == RTE_IP_ICMP_ECHO_REQUEST && c0->icmp_code == 0);
	CHECK(rte_raw_cksum(c0, icmp_len) == 0xffff);
	if (cur_pass != P_OFFLOAD)
		CHECK(rte_raw_cksum(i0, sizeof(*i0)) == 0xffff);
	/* The reply: IPv4 to the requester from the router, trimmed to the IP
	 * length, both checksums valid, identifier/sequence/data echoed. */
	CHECK(rte_pktmbuf_data_len(m) == sizeof(*eh) + ip_len);
	CHECK(eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4));
	CHECK(rte_is_same_ether_addr(&eh->dst_addr, &e0->src_addr));
	CHECK(rte_is_same_ether_addr(&eh->src_addr, &pa.mac));
	CHECK(ih->version_ihl == RTE_IPV4_VHL_DEF && ih->next_proto_id == IPPROTO_ICMP);
	CHECK(ih->total_length == i0->total_length && ih->time_to_live > 0);
	CHECK(ih->src_addr == pa.ip_be && ih->dst_addr == i0->src_addr);
	CHECK(rte_raw_cksum(ih, sizeof(*ih)) == 0xffff);
	CHECK(ic->icmp_type == RTE_IP_ICMP_ECHO_REPLY && ic->icmp_code == 0);
	CHECK(rte_raw_cksum(ic, icmp_len) == 0xffff);
	CHECK(memcmp(&ic->icmp_ident, &c0->icmp_ident, icmp_len - 4u) == 0);
}

static void classify_one(size_t n)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	const uint8_t *gw = NULL;
	uint16_t gw_len = 0;
	struct dp_pkt_src src;
	enum dp_drop_reason why = DP_DROP_COUNT;
	enum dp_pkt_verdict v;
	char *d;

	CHECK(m != NULL);
	d = rte_pktmbuf_append(m, (uint16_t)n);
	CHECK(d != NULL);
	memcpy(d, in, n);
	if (cur_pass == P_OFFLOAD)
		m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	memset(&src, 0, sizeof(src));

	poison(m, 1);
	v = dp_pkt_classify(&pa, udp_be, m, &gw, &gw_len, &src, &why);
	switch (v) {
	case DP_PKT_GWART:
		check_gwart(m, n, gw, gw_len, &src);
		break;
	case DP_PKT_REPLY:
		CHECK(m->nb_segs == 1 && rte_pktmbuf_pkt_len(m) == rte_pktmbuf_data_len(m));
		CHECK(rte_pktmbuf_data_len(m) <= n);
		CHECK((size_t)m->data_off + rte_pktmbuf_data_len(m) <= m->buf_len);
		if (rd16(in + 12) == RTE_ETHER_TYPE_ARP)
			check_arp_reply(m, n);
		else
			check_icmp_reply(m, n);
		break;
	case DP_PKT_DROP:
		CHECK((unsigned)why < DP_DROP_COUNT);
		CHECK(strcmp(dp_drop_name(why), "UNKNOWN") != 0);
		CHECK(rte_pktmbuf_data_len(m) == n && memcmp(d, in, n) == 0);
		break;
	default:
		CHECK(!"verdict out of range");
	}
	poison(m, 0);
	rte_pktmbuf_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > ROOM)
		return 0; /* does not fit one mbuf; run.sh sets -max_len=ROOM */
	for (cur_pass = 0; cur_pass < P_COUNT; cur_pass++) {
		memcpy(in, data, size);
		if (cur_pass == P_FIXED && !fix_up(in, size))
			continue;
		classify_one(size);
	}
	CHECK(rte_mempool_in_use_count(pool) == 0);
	return 0;
}
