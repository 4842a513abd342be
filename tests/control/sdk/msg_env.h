/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The set-up of the suites on messages of any size (sdk_msg, sdk_reasm):
 * an application that accounts for every message by id (on_result,
 * on_message with a byte-for-byte check of a pattern, on_notice,
 * on_rx_notice), and struct menv, a fake router with connectors 1 (the
 * sender) and 2 (the receiver). Same threading as sdk_env.h: one thread.
 */
#ifndef GWART_TEST_MSG_ENV_H
#define GWART_TEST_MSG_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gwart/connector.h>

#include "fake_router.h"

#define MSG_IDS (1u << 17) /* message ids a test application accounts for */
#define NOTICES 64
#define DEST "smtp:u@c2.example"

/* An application speaking messages: what its callbacks saw, by id. */
struct mapp {
	uint32_t id;
	uint8_t results[MSG_IDS];
	int status[MSG_IDS];
	uint8_t got[MSG_IDS];     /* on_message calls per msg_id */
	size_t want_len[MSG_IDS]; /* set by the test: the expected length */
	uint64_t n_results, n_msgs, corrupt, n_notices, n_deliver;
	uint64_t big_results;     /* on_result for ids >= MSG_IDS (counted only) */
	uint64_t big_msgs;        /* on_message for ids >= MSG_IDS (counted only) */
	size_t big_len;           /* the last one's length */
	uint64_t last_notice;
	uint32_t rxn_origin[NOTICES]; /* on_rx_notice calls, in order */
	uint64_t rxn_id[NOTICES];
	int rxn_reason[NOTICES];
	uint64_t n_rxn;
};

struct menv {
	struct fake_router *fr;
	struct mapp *a, *b;   /* behind connectors 1 and 2 */
	struct gw_conn *cs[2];
};

/* Byte @i of message @id: what on_message checks. */
uint8_t pat(uint64_t id, size_t i);
void fill(uint8_t *b, size_t len, uint64_t id);

/* Open connector @id with @a's callbacks (on_message only if @handler);
 * @tweak supplies the other fields (rto_us 0: 10 ms). */
struct gw_conn *mopen(struct fake_router *fr, uint32_t id, struct mapp *a,
		      const struct gw_conn_cfg *tweak, bool handler);
/* Router (@dup_window, announcing @max_payload, @seed), connectors 1 and 2
 * (@handler: whether 2 has on_message), both up. */
void menv_start(struct menv *e, uint32_t dup_window, uint32_t max_payload, uint64_t seed,
		const struct gw_conn_cfg *c1, const struct gw_conn_cfg *c2, bool handler);
void menv_free(struct menv *e);
/* Pump until @id is resolved at 1 and (if @delivered) delivered at 2, or @ms. */
void settle(struct menv *e, uint64_t id, bool delivered, unsigned ms);
/* Pump for @ms. */
void idle(struct menv *e, unsigned ms);
/* Send @len pattern bytes from 1 to @dest (retrying -EAGAIN); the id. */
uint64_t send_msg(struct menv *e, const char *dest, size_t len, uint8_t *buf);

#endif /* GWART_TEST_MSG_ENV_H */
