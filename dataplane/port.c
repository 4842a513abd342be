/* SPDX-License-Identifier: BSD-3-Clause */
/* Port set-up and close: the ethdev configuration the workers poll. */
#include <errno.h>
#include <stdio.h>

#include <rte_ethdev.h>

#include "port.h"
#include "tuning.h"

int dp_port_setup(struct dp_router *rt, uint16_t port_id, uint32_t ip_be)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	struct dp_port_addr *pa;
	uint16_t nrx = (uint16_t)rt->n_workers, ntx = (uint16_t)rt->n_workers;
	uint16_t q, rxd = DP_RX_DESC, txd = DP_TX_DESC;
	int rc;

	if (rt->n_ports == DP_MAX_PORTS)
		return -ENOSPC;
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0)
		return rc;
	if (nrx > info.max_rx_queues || ntx > info.max_tx_queues) {
		fprintf(stderr, "gwartd: port %u has %u rx / %u tx queues, need %u / %u\n",
			port_id, info.max_rx_queues, info.max_tx_queues, nrx, ntx);
		return -EINVAL;
	}
	conf.rxmode.offloads = info.rx_offload_capa &
			       (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
	/* Checksums on TX are the NIC's job where it can: software checksums
	 * are a per-byte cost on every frame. */
	if ((info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM)) ==
	    (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM))
		conf.txmode.offloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	if (nrx > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_UDP)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_UDP &
						   info.flow_type_rss_offloads;
	}
	/* The control thread gets a TX queue of its own where the port allows
	 * more TX than RX queues; net_tap does not (it pairs them), and there
	 * control frames go out through a worker's queue via its ring. */
	rc = -EINVAL;
	if (ntx + 1 <= info.max_tx_queues)
		rc = rte_eth_dev_configure(port_id, nrx, ntx + 1, &conf);
	if (rc == 0) {
		ntx++;
	} else {
		rc = rte_eth_dev_configure(port_id, nrx, ntx, &conf);
		if (rc != 0)
			return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd);
	if (rc != 0)
		return rc;
	for (q = 0; q < nrx; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, rxd, rte_eth_dev_socket_id(port_id), NULL,
					    rt->pool);
		if (rc != 0)
			return rc;
	}
	for (q = 0; q < ntx; q++) {
		rc = rte_eth_tx_queue_setup(port_id, q, txd, rte_eth_dev_socket_id(port_id), NULL);
		if (rc != 0)
			return rc;
	}
	rc = rte_eth_dev_start(port_id);
	if (rc != 0)
		return rc;
	pa = &rt->ports[rt->n_ports];
	pa->port_id = port_id;
	pa->ip_be = ip_be;
	pa->ctl_txq = ntx > rt->n_workers ? (int)rt->n_workers : -1;
	pa->tx_csum_offload = conf.txmode.offloads != 0;
	rte_eth_macaddr_get(port_id, &pa->mac);
	if (rte_eth_dev_get_mtu(port_id, &pa->mtu) != 0)
		pa->mtu = 1500;
	rt->n_ports++;
	return 0;
}

void dp_port_close_all(struct dp_router *rt)
{
	unsigned i;

	for (i = 0; i < rt->n_ports; i++) {
		rte_eth_dev_stop(rt->ports[i].port_id);
		rte_eth_dev_close(rt->ports[i].port_id);
	}
	rt->n_ports = 0;
}
