/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session state machine internals shared by control/ctl.c (frames) and
 * control/session.c (timers, operations). Control thread only.
 */
#ifndef GWART_CP_SESSION_H
#define GWART_CP_SESSION_H

#include "cp.h"

enum cp_close_why {
	CP_CLOSE_TIMEOUT,   /* no keepalive within interval x multiplier */
	CP_CLOSE_BYE,       /* the connector said BYE */
	CP_CLOSE_ADMIN,     /* operator: reconnect or delete */
	CP_CLOSE_REPLACED,  /* a new HELLO opened a new session */
};

void cp_sess_open(struct cp_ctx *cp, uint32_t id, uint32_t epoch, uint64_t now_us);
void cp_sess_close(struct cp_ctx *cp, uint32_t id, enum cp_close_why why, uint64_t now_us);
void cp_sess_rx(struct cp_ctx *cp, uint32_t id, uint64_t now_us);

/* Transmit a control frame on port index @p: the control thread's own TX
 * queue where the port has one, else worker @w's control ring. */
void cp_ctl_tx(struct cp_ctx *cp, unsigned w, unsigned p, struct rte_mbuf *m);

#endif
