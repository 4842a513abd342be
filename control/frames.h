/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session frames: HELLO / KEEPALIVE / BYE that the workers pass up through
 * their MP/SC ring, and WELCOME / NACK / KEEPALIVE replies and reconnection
 * probes sent on the control thread's own TX queue (or the owner worker's
 * control ring). Also the dataplane side of the session state machine's
 * ops. Control thread only.
 */
#ifndef GWART_CP_FRAMES_H
#define GWART_CP_FRAMES_H

#include "cp.h"

/* The ring is not an fd: cp_init() registers this poller with this
 * interval, the idle latency of session frames (as the old 200 us nap). */
#define CP_FRAMES_POLL_US 200

/* Take in the frames waiting in the ring (up to a bound) and answer them;
 * returns frames handled. */
unsigned cp_frames_poll(struct cp_ctx *cp);

/* The state machine's dataplane calls; their arg is the struct cp_ctx. */
extern const struct cp_session_ops cp_frames_session_ops;

#endif
