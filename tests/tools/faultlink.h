/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-faultlink's private header: the relay's state, one fault pipeline
 * per direction, and what each of its files provides (faultlink.c: options,
 * sockets, the poll loop and main; fl_pipeline.c: the faults, the buffer
 * pool and the delay heap).
 */
#ifndef FAULTLINK_H
#define FAULTLINK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "clock.h"

#define FL_PKT_MAX 9216            /* bytes: any gwart frame (GW_FRAME_MAX 8487) */
#define FL_BATCH 32                /* datagrams per recvmmsg */
#define FL_DEF_QUEUE 2048          /* packet buffers per direction */
#define FL_DEF_REORDER_TIMEOUT_US 1000 /* a held datagram waits at most this */
#define FL_CUT_CHECK_US 5000       /* stat() the cut file at most this often */

struct fl_fault {
	double drop, dup, reorder; /* percent */
	uint64_t delay_us, jitter_us;
};

struct fl_pkt {
	uint64_t release_us;
	uint64_t order; /* FIFO among equal release times */
	uint16_t len;
	uint8_t data[FL_PKT_MAX];
};

struct fl_dir {
	const char *name;
	struct fl_fault f;
	uint64_t rng;
	struct fl_pkt *pool;
	uint32_t *free_stk; /* free buffer indices (LIFO: hot buffers reused) */
	uint32_t nfree;
	uint32_t *heap;     /* delayed datagrams, min-heap on (release_us, order) */
	uint32_t nheap;
	int32_t held;       /* reorder: buffer held for the next datagram, or -1 */
	uint64_t held_deadline;
	uint64_t order;
	/* counters */
	uint64_t rx, tx, dropped, duped, reordered, delayed, overflow, tx_err;
};

/* The relay (defined in faultlink.c). */
struct fl_relay {
	int listen_fd, up_fd;
	struct sockaddr_in listen_sa, up_sa, client;
	bool have_client, follow;
	const char *cut_file;
	const char *capture_file; /* --capture */
	uint64_t capture_err;
	bool cut;
	uint64_t cut_checked_us;
	uint64_t reorder_timeout_us;
	uint32_t queue;
	uint64_t seed;
	uint64_t relearned, foreign, no_client;
	struct fl_dir up, down;
};

extern struct fl_relay fl;

static inline uint64_t fl_now_us(void)
{
	return dp_clock_mono_us();
}

/* fl_pipeline.c: each direction's faults -> reorder -> delay -> send. */
int fl_dir_init(struct fl_dir *d, const char *name, uint64_t seed);
void fl_dir_free(struct fl_dir *d);
int32_t fl_buf_get(struct fl_dir *d);
void fl_buf_put(struct fl_dir *d, int32_t i);
void fl_ingest(struct fl_dir *d, int32_t i, uint64_t now);
void fl_release_due(struct fl_dir *d, uint64_t now);
uint64_t fl_next_due(const struct fl_dir *d);

#endif
