/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture to a pcapng file (gwartctl capture start/stop/status):
 * the capture object workers fill (dataplane/api/capture_api.h), the writer
 * thread that empties it into the file (rte_pcapng), the cp_capture_*
 * actions and their statistics.
 *
 * Threads: every cp_capture_* function runs on the control thread (a
 * registered QSBR thread; cp_capture_stop() waits for one grace period).
 * The writer is a plain pthread owned by this module, not an RCU reader
 * and not an EAL lcore: it only dequeues the ring, writes (the only
 * syscalls of a capture) and frees copies; it shares with the control
 * thread only the counters of struct cp_capture_count (relaxed atomics)
 * and its stop flag (release/acquire).
 */
#ifndef GWART_CP_CAPTURE_H
#define GWART_CP_CAPTURE_H

#include <stdint.h>

struct cp_ctx;
struct json_t;

/* Config "capture" {ring, max_bytes, snaplen}: restart-only (read at
 * start-up, cp_capture_configure()). */
#define CP_CAPTURE_DEF_RING 4096          /* frames in flight, workers -> writer */
#define CP_CAPTURE_MIN_RING 16
#define CP_CAPTURE_MAX_RING (1u << 20)
#define CP_CAPTURE_DEF_MAX_BYTES (1ull << 30) /* bytes: a file stops growing here */
#define CP_CAPTURE_MIN_MAX_BYTES 4096ull  /* bytes: room for the file's header blocks */
#define CP_CAPTURE_DEF_SNAPLEN 65535      /* bytes of each frame kept */
#define CP_CAPTURE_MAX_SNAPLEN 65535
#define CP_CAPTURE_WRITER_BURST 64        /* frames per write */
#define CP_CAPTURE_WRITER_IDLE_US 200     /* us: the writer's sleep on an empty ring */
#define CP_CAPTURE_PATH_MAX 4096

struct cp_capture_cfg {
	uint32_t ring;
	uint64_t max_bytes;
	uint32_t snaplen;           /* default of capture start without --snaplen */
};

/* Counters of one capture; the process totals add every finished one. */
struct cp_capture_count {
	uint64_t frames;            /* frames written to the file */
	uint64_t bytes;             /* bytes written (pcapng blocks, header blocks too) */
	uint64_t dropped;           /* frames missed: pool empty, ring full, max_bytes reached */
};

struct cp_capture_params {
	const char *file;           /* absolute path; must not exist (O_EXCL) */
	uint32_t conn;              /* 0: every frame */
	uint32_t snaplen;           /* 0: the configured default */
};

/* The limits (config "capture"), before the first start; defaults when
 * never called. -EINVAL outside the CP_CAPTURE_* bounds. */
int cp_capture_configure(struct cp_ctx *cp, const struct cp_capture_cfg *cfg);
/*
 * Start capturing: create the file (mode 0600, refused if it exists: the
 * daemon writes with its own privileges, so it never truncates or follows
 * a link), its pool and ring, start the writer, publish the capture.
 * 0; -EBUSY a capture runs; -EINVAL bad params (relative path, snaplen
 * out of 1..65535); -ENOENT the unknown connector @conn; the open's errno
 * (-EEXIST, -EACCES, -ENOENT, -EISDIR, ...) with the file named in @err;
 * -ENOMEM. Nothing is left behind on failure (a created file is removed).
 */
int cp_capture_start(struct cp_ctx *cp, const struct cp_capture_params *p, char *err,
		     size_t errlen);
/* Stop: unpublish, wait for the workers, let the writer drain the ring,
 * close the file, free the pool. Fills *@out (may be NULL) with this
 * capture's counters and @file (CP_CAPTURE_PATH_MAX) with its path.
 * -ENOENT when none runs. */
int cp_capture_stop(struct cp_ctx *cp, struct cp_capture_count *out, char *file);
/* Control's own frame @m, about to leave on port index @p through the
 * control thread's TX queue (frames.c; frames control hands to a worker
 * are the worker's to capture): a copy into the running capture, if any
 * and if its filter takes it. @m is only read. */
struct rte_mbuf;
void cp_capture_ctl_tx(struct cp_ctx *cp, unsigned p, const struct rte_mbuf *m);
/* {active, file?, connector?, snaplen, frames, bytes, dropped}: the
 * running capture's (snaplen: the default when none runs, counters of the
 * last one). New reference, NULL when out of memory. */
struct json_t *cp_capture_status_json(struct cp_ctx *cp);
/* The process totals {frames, bytes, dropped} for cp_stats_json() (every
 * capture so far, the running one included). New reference or NULL. */
struct json_t *cp_capture_stats_json(struct cp_ctx *cp);
/* Stop a running capture (exit path), free the module's state. */
void cp_capture_fini(struct cp_ctx *cp);
/*
 * DPDK's own capture (rte_pdump), so that `dpdk-dumpcap` can attach as a
 * secondary process: only where the EAL runs with a shared configuration
 * (not --no-shconf or --in-memory: there a secondary process cannot
 * attach and rte_pdump_init() fails with ENOTSUP). 1 enabled, 0 not
 * available here (ENOTSUP), or a negative errno. Start-up, once ports exist.
 */
int cp_capture_pdump_init(void);
void cp_capture_pdump_fini(void);

#endif
