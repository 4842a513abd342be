/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One outgoing SMTP transaction over a non-blocking TCP connection, driven
 * by the event loop: connect, then move bytes between the socket and the
 * smtp_client state machine (smtp_client.h) until every recipient has its
 * outcome, or the next hop stays silent for the idle timeout, or the
 * connection fails. Used by the egress side (the next hop) and by the
 * ingress side (bounces to the bounce relay).
 *
 * Threading: the loop's thread. Ownership: the relay owns its socket and
 * its smtp_cli; the mail's body must stay valid until done() ran or
 * gs_relay_abort() returned.
 */
#ifndef GWART_SMTP_RELAY_H
#define GWART_SMTP_RELAY_H

#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"
#include "smtp_client.h"

/* "IPv4:PORT" or "[IPv6]:PORT" into *sa. 0 or -EINVAL. */
int gs_addr_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len);

struct gs_relay;

/* Called once, when the transaction is over: every recipient's outcome is
 * in smtp_cli_rcpt(cli, i) (TEMP for those a failure left undecided). The
 * relay is freed when it returns. */
typedef void (*gs_relay_done_fn)(void *arg, const struct smtp_cli *cli);

struct gs_relay_stats {
	uint64_t started, connect_failed, timeouts, lost, done;
};

/*
 * Start delivering @m to @sa. Returns the relay, or NULL with *err
 * (-EINVAL: smtp_cli refused the mail; -ENOMEM; a socket error). A
 * connection that fails later is reported through done() with every
 * recipient TEMP, never by NULL here.
 */
struct gs_relay *gs_relay_start(struct gs_loop *l, const struct sockaddr_storage *sa,
				socklen_t salen, const char *helo, const struct smtp_cli_mail *m,
				uint32_t idle_ms, gs_relay_done_fn done, void *arg, int *err);

/* Abandon a transaction without calling done() (shutdown). */
void gs_relay_abort(struct gs_relay *r);

/* The loop tick that runs the relays' idle timers (register it once). */
int gs_relay_tick(struct gs_loop *l, uint64_t now_ms, void *arg);

void gs_relay_get_stats(struct gs_relay_stats *st);

#endif
