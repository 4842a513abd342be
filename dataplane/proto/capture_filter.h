/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture's filter (gwartctl capture start --connector ID): which
 * frames of a burst a worker copies into the capture. Pure C over the
 * frame's bytes (Ethernet, IPv4, UDP, the gwart header), no DPDK, so that
 * tests/dataplane/proto/test_capture_filter.c checks every case without an
 * EAL. Header-only: the worker inlines it (dataplane/capture.c).
 *
 * With no filter (conn 0) every frame matches: ARP, ICMP, garbage, every
 * gwart frame. With a filter only gwart traffic of that connector matches:
 *  - received: IPv4/UDP to the router's UDP port whose gwart header names
 *    the connector as its sender (what the frame claims: a forged frame
 *    is captured as what it claims to be, which is what one wants to see);
 *  - sent: IPv4/UDP to the connector's current address and port (the
 *    router's frames carry sender 0, so the address is what says whom a
 *    frame is for; while the connector has no session, no address: nothing
 *    sent matches).
 * Any frame too short for the fields read does not match.
 */
#ifndef GWART_DP_CAPTURE_FILTER_H
#define GWART_DP_CAPTURE_FILTER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define DP_CAP_ETH_LEN 14u
#define DP_CAP_UDP_LEN 8u
#define DP_CAP_GW_SENDER_OFF 8u /* gw_wire_hdr.sender, network order */

/* The UDP header of an IPv4/UDP frame (not a later fragment), NULL if not
 * one; *@ip at the IPv4 header. */
static inline const uint8_t *dp_cap_udp(const uint8_t *f, uint32_t len, const uint8_t **ip)
{
	uint32_t ihl;

	if (len < DP_CAP_ETH_LEN + 20u + DP_CAP_UDP_LEN)
		return NULL;
	if (f[12] != 0x08 || f[13] != 0x00) /* EtherType IPv4 */
		return NULL;
	*ip = f + DP_CAP_ETH_LEN;
	ihl = ((*ip)[0] & 0x0fu) * 4u;
	if (((*ip)[0] >> 4) != 4 || ihl < 20u || (*ip)[9] != 17 /* UDP */)
		return NULL;
	if ((((*ip)[6] & 0x1fu) | (*ip)[7]) != 0) /* a fragment offset: no UDP header */
		return NULL;
	if (len < DP_CAP_ETH_LEN + ihl + DP_CAP_UDP_LEN)
		return NULL;
	return *ip + ihl;
}

/* A received frame of @len bytes at @f: captured under filter @conn (0:
 * all) by a router listening on UDP port @router_udp_be (network order)? */
static inline bool dp_cap_rx_match(const uint8_t *f, uint32_t len, uint32_t conn,
				   uint16_t router_udp_be)
{
	const uint8_t *ip, *udp;
	uint16_t dport;
	uint32_t sender;

	if (conn == 0)
		return true;
	udp = dp_cap_udp(f, len, &ip);
	if (udp == NULL)
		return false;
	memcpy(&dport, udp + 2, 2);
	if (dport != router_udp_be)
		return false;
	if ((uint32_t)(udp - f) + DP_CAP_UDP_LEN + DP_CAP_GW_SENDER_OFF + 4u > len)
		return false;
	sender = (uint32_t)udp[DP_CAP_UDP_LEN + DP_CAP_GW_SENDER_OFF] << 24 |
		 (uint32_t)udp[DP_CAP_UDP_LEN + DP_CAP_GW_SENDER_OFF + 1] << 16 |
		 (uint32_t)udp[DP_CAP_UDP_LEN + DP_CAP_GW_SENDER_OFF + 2] << 8 |
		 (uint32_t)udp[DP_CAP_UDP_LEN + DP_CAP_GW_SENDER_OFF + 3];
	return sender == conn;
}

/* A frame about to be sent: captured under filter @conn (0: all), whose
 * connector is at @ip_be:@udp_be now (network order; @ip_be 0: no address,
 * nothing matches)? */
static inline bool dp_cap_tx_match(const uint8_t *f, uint32_t len, uint32_t conn,
				   uint32_t ip_be, uint16_t udp_be)
{
	const uint8_t *ip, *udp;
	uint32_t dst;
	uint16_t dport;

	if (conn == 0)
		return true;
	if (ip_be == 0)
		return false;
	udp = dp_cap_udp(f, len, &ip);
	if (udp == NULL)
		return false;
	memcpy(&dst, ip + 16, 4);
	memcpy(&dport, udp + 2, 2);
	return dst == ip_be && dport == udp_be;
}

#endif
