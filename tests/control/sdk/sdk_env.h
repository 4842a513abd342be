/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application side of the SDK's suites and their shared set-up: test
 * applications that count every callback, the pump that drives a fake
 * router and its connectors in turn, a send/flow helper, the exactly-once
 * assertion, and struct sdk_env (one fake router, connectors 1 and 2 and
 * their applications), which most tests start from.
 *
 * Everything runs on the test's one thread (see fake_router.h); failures
 * are Criterion assertions, so the helpers return only what a test uses.
 */
#ifndef GWART_TEST_SDK_ENV_H
#define GWART_TEST_SDK_ENV_H

#include <stdint.h>

#include <gwart/connector.h>

#include "fake_router.h"

#define APP_MAX 20000 /* origin seqs an application can account for */

/* One application behind a connector: what its callbacks saw, by
 * origin_seq. Payloads carry (origin, seq, a hash of seq, dest length), so
 * on_deliver detects corruption and mix-ups (corrupt). */
struct app {
	uint32_t id;                  /* its connector's id (set by open_conn) */
	uint32_t results[APP_MAX];    /* on_result calls per origin_seq */
	int status[APP_MAX];          /* the last status given */
	uint32_t deliveries[APP_MAX]; /* on_deliver calls per origin_seq */
	uint64_t n_results, n_acked, n_failed, n_delivered, corrupt, n_notices;
	uint64_t notice_seq;          /* the last on_notice seq */
};

/* CLOCK_MONOTONIC in microseconds (the fake router's clock). */
uint64_t now_us(void);

/* A zeroed application; free() it. */
struct app *app_new(void);

/* Open connector @id towards @fr on 127.0.0.1 with @a's callbacks; @tweak
 * (may be NULL) supplies the other configuration fields, an rto_us of 0
 * becomes 10 ms, an all-zero key fr_key(@id). Asserts that it opened. */
struct gw_conn *open_conn(struct fake_router *fr, uint32_t id, struct app *a,
			  struct gw_conn_cfg *tweak);

/* One round: waits up to 1 ms for any socket (so the loop does not spin on
 * shared cores), pumps the fake router, then polls each of the @n
 * connectors (asserting >= 0). */
void pump(struct fake_router *fr, struct gw_conn **cs, int n);

/* Pump until all @n sessions are up; asserts that they are within 5 s. */
void wait_up(struct fake_router *fr, struct gw_conn **cs, int n);

/* Send one message with the checkable payload (origin @origin, the seq the
 * send will take); returns gw_conn_send()'s result, seq in *@seq. */
int send_one(struct gw_conn *c, const char *dest, uint32_t origin, uint64_t *seq);

/*
 * Send @count messages from @cs[0] to @dest while pumping, until every one
 * is resolved and (if @dst) delivered, or @ms passes. Returns the sends
 * that were refused with -EAGAIN (window full).
 */
uint64_t run_flow(struct fake_router *fr, struct gw_conn **cs, int n, struct app *src,
		  struct app *dst, const char *dest, uint64_t count, unsigned ms);

/* Each seq of [@first, @first + @count) resolved once with status 0 at
 * @src and (if @dst) delivered once, uncorrupted, at @dst. */
void assert_exactly_once(const struct app *src, const struct app *dst, uint64_t first,
			 uint64_t count);

/*
 * The shared set-up: a fake router, connector 1 (application a) and, with
 * n == 2, connector 2 (application b). Tests that change the fake router
 * before the connectors say HELLO call env_new(), set it, then env_open()
 * and env_up(); the others call env_start().
 */
struct sdk_env {
	struct fake_router *fr;
	struct app *a, *b;     /* behind connector 1 and connector 2 */
	struct gw_conn *cs[2]; /* connectors 1 and 2; a test that closes one
				* itself sets it to NULL */
	int n;                 /* connectors opened (1 or 2) */
};

/* The fake router (@dup_window, @seed: fr_new()) and both applications. */
void env_new(struct sdk_env *e, uint32_t dup_window, uint64_t seed);
/* Open connectors 1..@n with @cfg1, @cfg2 (NULL: defaults; see open_conn). */
void env_open(struct sdk_env *e, int n, struct gw_conn_cfg *cfg1, struct gw_conn_cfg *cfg2);
/* wait_up() on the open connectors. */
void env_up(struct sdk_env *e);
/* env_new(), env_open(), env_up(). */
void env_start(struct sdk_env *e, uint32_t dup_window, uint64_t seed, int n,
	       struct gw_conn_cfg *cfg1, struct gw_conn_cfg *cfg2);
/* Close the connectors still open (results not checked), free the rest. */
void env_free(struct sdk_env *e);

#endif /* GWART_TEST_SDK_ENV_H */
