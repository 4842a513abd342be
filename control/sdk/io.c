/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Batched socket I/O of the connector SDK.
 *
 * Frames are not written one syscall each: DATA and control frames are
 * queued and handed to the kernel GW_CONN_BATCH at a time with sendmmsg(),
 * and datagrams are received GW_CONN_BATCH at a time with recvmmsg(). At a
 * few hundred thousand messages per second the kernel's per-datagram path,
 * not the protocol, is the cost; so runs of equal-sized frames (the common
 * case: one application, one payload size) go out as one UDP GSO send
 * (UDP_SEGMENT), which the kernel splits into the same datagrams after one
 * trip through the stack: about four times the rate on loopback. Where the
 * kernel refuses GSO the handle falls back to plain datagrams for good.
 *
 * The socket is connect()ed to the router: the kernel drops datagrams from
 * any other source, and send needs no address.
 *
 * Protocol v2: every frame is sealed (gw_sdk_seal) as it enters the queue,
 * in both of the queue's entry points, so that queue order is counter order
 * within a lane and nothing reaches the kernel untagged.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h, kernel 4.18 */
#endif

#include "sdk_internal.h"

int gw_sdk_io_init(struct gw_conn *c)
{
	uint32_t i;

	c->txq = calloc(GW_SDK_TXQ_MAX, sizeof(*c->txq));
	c->tx_msgs = calloc(GW_SDK_TXQ_MAX, sizeof(*c->tx_msgs));
	c->tx_iov = calloc(GW_SDK_TXQ_MAX, sizeof(*c->tx_iov));
	c->tx_msg_first = calloc(GW_SDK_TXQ_MAX, sizeof(*c->tx_msg_first));
	c->tx_cmsg = calloc(GW_SDK_TXQ_MAX, sizeof(*c->tx_cmsg));
	c->rx_msgs = calloc(GW_CONN_BATCH, sizeof(*c->rx_msgs));
	c->rx_iov = calloc(GW_CONN_BATCH, sizeof(*c->rx_iov));
	c->rx_buf = malloc((size_t)GW_CONN_BATCH * GW_FRAME_MAX);
	if (!c->txq || !c->tx_msgs || !c->tx_iov || !c->tx_msg_first || !c->tx_cmsg ||
	    !c->rx_msgs || !c->rx_iov || !c->rx_buf)
		return -ENOMEM;

	/* The receive vectors never change: point them at their buffers once. */
	for (i = 0; i < GW_CONN_BATCH; i++) {
		c->rx_iov[i].iov_base = c->rx_buf + (size_t)i * GW_FRAME_MAX;
		c->rx_iov[i].iov_len = GW_FRAME_MAX;
		c->rx_msgs[i].msg_hdr.msg_iov = &c->rx_iov[i];
		c->rx_msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

void gw_sdk_io_free(struct gw_conn *c)
{
	free(c->txq);
	free(c->tx_msgs);
	free(c->tx_iov);
	free(c->tx_msg_first);
	free(c->tx_cmsg);
	free(c->rx_msgs);
	free(c->rx_iov);
	free(c->rx_buf);
	c->txq = NULL;
	c->tx_msgs = NULL;
	c->tx_iov = NULL;
	c->tx_msg_first = NULL;
	c->tx_cmsg = NULL;
	c->rx_msgs = NULL;
	c->rx_iov = NULL;
	c->rx_buf = NULL;
}

/*
 * Reserve a control frame in the queue and return its buffer
 * (GW_SDK_CTL_FRAME_MAX bytes); the caller encodes into it and commits the
 * length. NULL when the queue is full even after a flush (the kernel refuses
 * to take more): control frames are all repeated by their own timers or by
 * the peer, so dropping one is safe.
 */
uint8_t *gw_sdk_txq_ctl(struct gw_conn *c, uint64_t now)
{
	if (c->txq_n >= GW_SDK_TXQ_MAX)
		gw_sdk_txq_flush(c, now);
	if (c->txq_n >= GW_SDK_TXQ_MAX) {
		c->st.tx_errors++;
		return NULL;
	}
	return c->txq[c->txq_n].ctl;
}

void gw_sdk_txq_commit_ctl(struct gw_conn *c, size_t len)
{
	struct gw_sdk_txent *e = &c->txq[c->txq_n];

	if (len == 0)
		return; /* the encoder refused: nothing to send */
	/* Sealed here, the one way into the queue, so that no control frame
	 * leaves without its tag; the counter is taken in queue order. */
	if (!gw_sdk_seal(c, e->ctl, len))
		return;
	e->buf = e->ctl;
	e->len = (uint16_t)len;
	e->slot = -1;
	e->seq = 0;
	c->txq_n++;
}

/* Queue the frame of outbox slot @slot. The caller has already set its
 * header (epoch, flags) and its next due time. */
void gw_sdk_txq_data(struct gw_conn *c, uint32_t slot, uint64_t now)
{
	struct gw_sdk_slot *s = &c->out[slot];
	struct gw_sdk_txent *e;

	if (s->queued)
		return;
	if (c->txq_n >= GW_CONN_BATCH)
		gw_sdk_txq_flush(c, now);
	if (c->txq_n >= GW_SDK_TXQ_MAX) {
		/* Kernel full: leave it due now, the timers send it later. */
		s->due_us = now;
		if (c->rtx_due_us > now)
			c->rtx_due_us = now;
		return;
	}
	/* Every transmission is a new frame on the wire: a fresh counter and
	 * tag (a retransmission with the old ones would be refused as a
	 * replay). The header was rewritten by the caller just before. */
	if (!gw_sdk_seal(c, s->frame, s->len)) {
		c->st.tx_errors++;
		return;
	}
	e = &c->txq[c->txq_n++];
	e->buf = s->frame;
	e->len = s->len;
	e->slot = (int32_t)slot;
	e->seq = s->seq;
	s->queued = 1;
}

/* An entry is still worth sending unless it is DATA whose slot was resolved
 * (acked or given up, maybe reused) after it was queued. */
static bool txent_valid(const struct gw_conn *c, const struct gw_sdk_txent *e)
{
	const struct gw_sdk_slot *s;

	if (e->slot < 0)
		return true;
	s = &c->out[e->slot];
	return s->state == GW_SDK_SLOT_LIVE && s->seq == e->seq;
}

/* Account for entry @e: sent (true) or refused by the kernel (false). */
static void txent_done(struct gw_conn *c, const struct gw_sdk_txent *e, bool sent, uint64_t now)
{
	struct gw_sdk_slot *s;

	if (sent)
		c->st.tx_frames++;
	else
		c->st.tx_errors++;
	if (e->slot < 0)
		return;
	s = &c->out[e->slot];
	s->queued = 0;
	if (!sent) {
		/* Not on the wire: due again at once, without counting it as
		 * a retransmission nor doubling its RTO. */
		s->due_us = now;
		if (c->rtx_due_us > now)
			c->rtx_due_us = now;
		return;
	}
	s->last_tx_us = now;
	if (s->tx_count++ == 0) {
		c->st.sent++;
		if (s->gidx >= 0)
			c->st.chunks_sent++;
	}
	else
		c->st.retransmitted++;
}

/*
 * Lay frames [e, n) out as messages: each run of equal-sized frames (at most
 * GW_SDK_GSO_SEGS, GW_SDK_GSO_BYTES) becomes one GSO message, anything else
 * one datagram. Returns the number of messages; tx_msg_first[m] names the
 * first frame of message m (the last one ends where m + 1 begins, or at n).
 */
static uint32_t build_msgs(struct gw_conn *c, uint32_t e, uint32_t n)
{
	uint32_t m = 0;

	while (e < n) {
		struct msghdr *h = &c->tx_msgs[m].msg_hdr;
		uint16_t len = c->txq[e].len;
		uint32_t k = 1;

		if (!c->gso_off)
			while (e + k < n && c->txq[e + k].len == len && k < GW_SDK_GSO_SEGS &&
			       (k + 1) * len <= GW_SDK_GSO_BYTES)
				k++;
		memset(h, 0, sizeof(*h));
		h->msg_iov = &c->tx_iov[e];
		h->msg_iovlen = k;
		if (k > 1) {
			struct cmsghdr *cm = &c->tx_cmsg[m].align;

			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			memcpy(CMSG_DATA(cm), &len, sizeof(len));
			h->msg_control = c->tx_cmsg[m].buf;
			h->msg_controllen = sizeof(c->tx_cmsg[m].buf);
		}
		c->tx_msg_first[m++] = e;
		e += k;
	}
	return m;
}

int gw_sdk_txq_flush(struct gw_conn *c, uint64_t now)
{
	uint32_t i, n = 0, e = 0, refused = 0;
	int ret = 0;

	/* Compact the queue into the iovec array, skipping stale DATA. */
	for (i = 0; i < c->txq_n; i++) {
		struct gw_sdk_txent *ent = &c->txq[i];

		if (!txent_valid(c, ent))
			continue;
		if (n != i)
			c->txq[n] = *ent;
		if (c->txq[n].slot < 0)
			c->txq[n].buf = c->txq[n].ctl; /* the copy moved its buffer */
		c->tx_iov[n].iov_base = (void *)c->txq[n].buf;
		c->tx_iov[n].iov_len = c->txq[n].len;
		n++;
	}
	c->txq_n = 0;
	c->tx_blocked = false;

	while (e < n) {
		uint32_t nm = build_msgs(c, e, n), m, end;
		int r = sendmmsg(c->fd, c->tx_msgs, nm, MSG_DONTWAIT);

		if (r > 0) {
			m = (uint32_t)r;
			end = m < nm ? c->tx_msg_first[m] : n;
			for (i = e; i < end; i++)
				txent_done(c, &c->txq[i], true, now);
			e = end;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/* A connected UDP socket reports an earlier ICMP port
		 * unreachable on a later send, consuming it: try again (the
		 * router may simply not be up yet). */
		if (r < 0 && errno == ECONNREFUSED && refused++ < 2)
			continue;
		/* No UDP GSO here (old kernel, a device or path that will not
		 * take it): plain datagrams from now on. */
		if (r < 0 && !c->gso_off && c->tx_msgs[0].msg_hdr.msg_iovlen > 1 &&
		    (errno == EINVAL || errno == EIO || errno == EOPNOTSUPP ||
		     errno == ENOPROTOOPT || errno == EMSGSIZE)) {
			c->gso_off = true;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == ENOBUFS))
			c->tx_blocked = true;
		else if (r < 0 && errno != ECONNREFUSED)
			ret = -errno;
		break;
	}
	for (i = e; i < n; i++)
		txent_done(c, &c->txq[i], false, now);
	return ret;
}

int gw_sdk_rx_batch(struct gw_conn *c)
{
	int r;

	do {
		r = recvmmsg(c->fd, c->rx_msgs, GW_CONN_BATCH, MSG_DONTWAIT, NULL);
	} while (r < 0 && errno == EINTR);
	if (r >= 0)
		return r;
	/* Nothing there, or the router's port answered unreachable (it is
	 * not up yet): neither is a failure of this handle. */
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED)
		return 0;
	return -errno;
}
