/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session frames: HELLO / KEEPALIVE / BYE that the workers pass up through
 * their MP/SC ring, and WELCOME / NACK / KEEPALIVE / BYE replies and
 * reconnection probes sent on the control thread's own TX queue (or the owner worker's
 * control ring). Also the dataplane side of the session state machine's
 * ops. Control thread only.
 */
#ifndef GWART_CP_FRAMES_H
#define GWART_CP_FRAMES_H

#include <stddef.h>

#include "cp.h"

/* The ring is not an fd: cp_init() registers this poller with this
 * interval, the idle latency of session frames (as the old 200 us nap). */
#define CP_FRAMES_POLL_US 200

/* Take in the frames waiting in the ring (up to a bound) and answer them;
 * returns frames handled. */
unsigned cp_frames_poll(struct cp_ctx *cp);

/* One session frame (HELLO, KEEPALIVE, BYE: the UDP payload @frame of @len
 * bytes) received on port index @p from @src: checked (keys.h), counted,
 * answered. What the ring poller calls for each frame; tests call it with
 * frames built by auth.h. */
struct dp_pkt_src;
void cp_frames_input(struct cp_ctx *cp, unsigned p, const struct dp_pkt_src *src,
		     const void *frame, size_t len);

/* Send connector @id a BYE (@reason) sealed with its current session's
 * keys, to the session's address. 0, -ENOENT (no live session or keys),
 * -ENOMEM (no mbuf), -ERANGE (lane-0 counter exhausted). */
int cp_frames_bye(struct cp_ctx *cp, uint32_t id, uint32_t reason);

/* The state machine's dataplane calls; their arg is the struct cp_ctx. */
extern const struct cp_session_ops cp_frames_session_ops;

#endif
