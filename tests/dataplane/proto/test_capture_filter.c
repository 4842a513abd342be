/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture filter (dataplane/proto/capture_filter.h): a numbered table
 * of frames built byte by byte here (Ethernet, IPv4 with or without
 * options, UDP, the gwart header), each with what the RX and the TX
 * decision must be; then every truncation of a matching frame.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "capture_filter.h"

#define ROUTER_PORT_BE 0xB612 /* 4790 in network order on a little-endian host: bytes 12 b6 */

static uint16_t be16(uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	uint16_t r;

	memcpy(&r, b, 2);
	return r;
}

static uint32_t be32(uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	uint32_t r;

	memcpy(&r, b, 4);
	return r;
}

struct spec {
	uint16_t ethertype;
	uint8_t version, ihl, proto;
	uint16_t frag;              /* flags+offset field, host order */
	uint32_t dst_ip;            /* host order */
	uint16_t dport;
	uint32_t sender;
	unsigned gw_len;            /* gwart bytes after UDP */
};

/* Builds @s into @f, returns its length. */
static unsigned build(uint8_t *f, const struct spec *s)
{
	unsigned ip = 14, udp, n;

	memset(f, 0, 256);
	f[12] = (uint8_t)(s->ethertype >> 8);
	f[13] = (uint8_t)s->ethertype;
	f[ip] = (uint8_t)(s->version << 4 | s->ihl);
	f[ip + 6] = (uint8_t)(s->frag >> 8);
	f[ip + 7] = (uint8_t)s->frag;
	f[ip + 9] = s->proto;
	f[ip + 12] = 198, f[ip + 13] = 18, f[ip + 14] = 0, f[ip + 15] = 2;
	f[ip + 16] = (uint8_t)(s->dst_ip >> 24), f[ip + 17] = (uint8_t)(s->dst_ip >> 16);
	f[ip + 18] = (uint8_t)(s->dst_ip >> 8), f[ip + 19] = (uint8_t)s->dst_ip;
	udp = ip + (unsigned)s->ihl * 4;
	f[udp] = 0x30, f[udp + 1] = 0x39; /* source port 12345 */
	f[udp + 2] = (uint8_t)(s->dport >> 8), f[udp + 3] = (uint8_t)s->dport;
	n = udp + 8;
	f[n + 8] = (uint8_t)(s->sender >> 24), f[n + 9] = (uint8_t)(s->sender >> 16);
	f[n + 10] = (uint8_t)(s->sender >> 8), f[n + 11] = (uint8_t)s->sender;
	return n + s->gw_len;
}

#define IPV4 0x0800
#define ROUTER_IP 0xC6120001u /* 198.18.0.1 */
#define CONN_IP 0xC6120002u   /* 198.18.0.2 */
#define OK_FRAME(dst, port, sender) {IPV4, 4, 5, 17, 0, dst, port, sender, 24}

static const struct {
	struct spec s;
	uint32_t conn;              /* the filter */
	bool rx, tx;                /* TX: connector at CONN_IP:40000 */
} rows[] = {
	/* 1 */ {OK_FRAME(ROUTER_IP, 4790, 7), 0, true, true},     /* no filter: all */
	/* 2 */ {{0x0806, 4, 5, 17, 0, 0, 0, 0, 24}, 0, true, true}, /* ARP, no filter */
	/* 3 */ {{0x0806, 4, 5, 17, 0, 0, 0, 0, 24}, 7, false, false},
	/* 4 */ {OK_FRAME(ROUTER_IP, 4790, 7), 7, true, false},    /* from 7, to the router */
	/* 5 */ {OK_FRAME(ROUTER_IP, 4790, 8), 7, false, false},   /* another sender */
	/* 6 */ {OK_FRAME(ROUTER_IP, 4791, 7), 7, false, false},   /* not the router's port */
	/* 7 */ {OK_FRAME(CONN_IP, 40000, 0), 7, false, true},     /* router -> connector 7 */
	/* 8 */ {OK_FRAME(CONN_IP, 40001, 0), 7, false, false},    /* its host, another port */
	/* 9 */ {OK_FRAME(0xC6120003u, 40000, 0), 7, false, false}, /* another host */
	/* 10 */ {{IPV4, 4, 5, 6, 0, CONN_IP, 40000, 7, 24}, 7, false, false}, /* TCP */
	/* 11 */ {{IPV4, 6, 5, 17, 0, CONN_IP, 40000, 7, 24}, 7, false, false}, /* version 6 */
	/* 12 */ {{IPV4, 4, 4, 17, 0, CONN_IP, 40000, 7, 24}, 7, false, false}, /* IHL < 5 */
	/* 13 */ {{IPV4, 4, 5, 17, 0x0010, CONN_IP, 40000, 7, 24}, 7, false, false}, /* later fragment */
	/* 14 */ {{IPV4, 4, 5, 17, 0x2000, CONN_IP, 40000, 7, 24}, 7, false, true}, /* MF, offset 0 */
	/* 15 */ {{IPV4, 4, 7, 17, 0, ROUTER_IP, 4790, 7, 24}, 7, true, false}, /* IP options */
	/* 16 */ {{IPV4, 4, 7, 17, 0, CONN_IP, 40000, 0, 24}, 7, false, true},
	/* 17 */ {{IPV4, 4, 5, 17, 0, ROUTER_IP, 4790, 7, 11}, 7, false, false}, /* no room for sender */
	/* 18 */ {{IPV4, 4, 5, 17, 0, ROUTER_IP, 4790, 7, 12}, 7, true, false}, /* just room */
	/* 19 */ {OK_FRAME(ROUTER_IP, 4790, 0x01020304u), 0x01020304u, true, false}, /* byte order */
	/* 20 */ {OK_FRAME(ROUTER_IP, 4790, 0x04030201u), 0x01020304u, false, false},
};

TestSuite(capture_filter);

Test(capture_filter, rows)
{
	uint8_t f[256];
	unsigned i;

	cr_assert_eq(be16(4790), ROUTER_PORT_BE);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned len = build(f, &rows[i].s);

		cr_expect_eq(dp_cap_rx_match(f, len, rows[i].conn, be16(4790)), rows[i].rx,
			     "row %u: rx", i + 1);
		cr_expect_eq(dp_cap_tx_match(f, len, rows[i].conn, be32(CONN_IP), be16(40000)),
			     rows[i].tx, "row %u: tx", i + 1);
	}
}

/* No connector address (no session): nothing sent matches a filter. */
Test(capture_filter, tx_without_address)
{
	uint8_t f[256];
	struct spec s = OK_FRAME(CONN_IP, 40000, 0);
	unsigned len = build(f, &s);

	cr_expect(dp_cap_tx_match(f, len, 7, be32(CONN_IP), be16(40000)));
	cr_expect(!dp_cap_tx_match(f, len, 7, 0, be16(40000)));
	cr_expect(dp_cap_tx_match(f, len, 0, 0, 0), "no filter: every frame");
}

/* Every prefix of a matching frame shorter than the fields read does not
 * match (and reads nothing past its end: ASan, build-san). */
Test(capture_filter, truncations)
{
	struct spec rx = OK_FRAME(ROUTER_IP, 4790, 7), tx = OK_FRAME(CONN_IP, 40000, 0);
	uint8_t f[256];
	unsigned len, n;

	len = build(f, &rx);
	for (n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1);

		memcpy(cut, f, n);
		cr_expect_eq(dp_cap_rx_match(cut, n, 7, be16(4790)), n >= 14 + 20 + 8 + 12,
			     "rx prefix %u", n);
		free(cut);
	}
	len = build(f, &tx);
	for (n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1);

		memcpy(cut, f, n);
		cr_expect_eq(dp_cap_tx_match(cut, n, 7, be32(CONN_IP), be16(40000)),
			     n >= 14 + 20 + 8, "tx prefix %u", n);
		free(cut);
	}
}
