/* SPDX-License-Identifier: BSD-3-Clause */
/* One EAL per Criterion test process (Criterion forks each test). */
#ifndef GWART_TEST_EAL_FIXTURE_H
#define GWART_TEST_EAL_FIXTURE_H

#include <criterion/criterion.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

static struct rte_mempool *test_pool;

static inline void test_eal_up(void)
{
	char *argv[] = {"test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			"--log-level=error", "-l", "0", NULL};

	cr_assert(rte_eal_init(9, argv) >= 0, "EAL init");
	test_pool = rte_pktmbuf_pool_create("test_pool", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					    SOCKET_ID_ANY);
	cr_assert_not_null(test_pool);
}

static inline void test_eal_down(void)
{
	rte_mempool_free(test_pool);
	rte_eal_cleanup();
}

#endif
