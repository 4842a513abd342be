/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture to a pcapng file (capture.h): cp_capture_* actions, the
 * writer thread, the counters.
 *
 * One capture at a time. Its parts and who uses them:
 *   pool   copies of frames (rte_pcapng_copy(): a pcapng Enhanced Packet
 *          Block around the frame's first snaplen bytes); workers
 *          allocate, the writer frees; sized "capture".ring, no per-lcore
 *          cache, so that the ring size is what bounds frames in flight
 *   ring   MP/SC, workers -> writer, "capture".ring entries
 *   file   rte_pcapng over a file descriptor of its own; only the writer
 *          writes to it once it runs
 *   writer a pthread: dequeue, write (up to "capture".max_bytes), free;
 *          sleeps CP_CAPTURE_WRITER_IDLE_US on an empty ring, never on
 *          a worker's behalf: workers never wait for it (a full ring is a
 *          counted miss)
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pcapng.h>
#include <rte_pdump.h>
#include <rte_ring.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include <urcu-qsbr.h>

#include "capture.h"
#include "capture_api.h"
#include "capture_filter.h"
#include "conn.h"
#include "cp.h"
#include "router_api.h"

#ifndef GWART_VERSION
#define GWART_VERSION "unknown"
#endif


/* One running capture: created by start, freed by stop. */
struct cp_capture_run {
	struct dp_capture dp;       /* what workers see (published) */
	rte_pcapng_t *pcap;
	int fd;                     /* the file, owned by pcap once it exists */
	pthread_t writer;
	bool writer_started;
	bool stop;                  /* control -> writer: release / acquire */
	uint64_t max_bytes;
	int write_errno;            /* writer only: the first write failure; then
				     * everything is counted dropped */
	/* Writer: wo (relaxed stores), control: ro (relaxed loads). */
	struct cp_capture_count n;
	uint64_t worker_dropped_base; /* the workers' capture_dropped at start */
	uint64_t ctl_dropped;       /* control thread only: its own frames missed */
	char file[CP_CAPTURE_PATH_MAX];
};

/* The module's state, in struct cp_ctx.capture (allocated on first use). */
struct cp_capture {
	struct cp_capture_cfg cfg;
	struct cp_capture_run *run;   /* NULL: none running */
	struct cp_capture_count done; /* totals of finished captures */
	struct cp_capture_count last; /* the last finished one (status) */
	unsigned seq;                 /* names of pools and rings */
};

static struct cp_capture *state(struct cp_ctx *cp)
{
	if (cp->capture == NULL) {
		cp->capture = calloc(1, sizeof(*cp->capture));
		if (cp->capture == NULL)
			return NULL;
		cp->capture->cfg = (struct cp_capture_cfg){
			.ring = CP_CAPTURE_DEF_RING,
			.max_bytes = CP_CAPTURE_DEF_MAX_BYTES,
			.snaplen = CP_CAPTURE_DEF_SNAPLEN,
		};
	}
	return cp->capture;
}

int cp_capture_configure(struct cp_ctx *cp, const struct cp_capture_cfg *cfg)
{
	struct cp_capture *s;

	if (cfg->ring < CP_CAPTURE_MIN_RING || cfg->ring > CP_CAPTURE_MAX_RING ||
	    cfg->max_bytes < CP_CAPTURE_MIN_MAX_BYTES || cfg->snaplen < 1 ||
	    cfg->snaplen > CP_CAPTURE_MAX_SNAPLEN)
		return -EINVAL;
	s = state(cp);
	if (s == NULL)
		return -ENOMEM;
	if (s->run != NULL)
		return -EBUSY;
	s->cfg = *cfg;
	return 0;
}

/* The workers' capture_dropped, summed (relaxed reads). */
static uint64_t worker_dropped(const struct dp_router *rt)
{
	struct dp_worker_stats w;
	uint64_t sum = 0;
	unsigned i, lcore;

	for (i = 0; i < rt->n_workers; i++)
		if (dp_router_worker_stats(rt, i, &w, &lcore) == 0)
			sum += w.capture_dropped;
	return sum;
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* This capture's counters so far (control thread). */
static struct cp_capture_count run_count(const struct cp_ctx *cp, const struct cp_capture_run *r)
{
	return (struct cp_capture_count){
		.frames = LOAD(r->n.frames),
		.bytes = LOAD(r->n.bytes),
		.dropped = LOAD(r->n.dropped) + worker_dropped(cp->rt) - r->worker_dropped_base +
			   r->ctl_dropped,
	};
}

/* ---- the writer ------------------------------------------------------------------- */

/* Write what fits under max_bytes; the rest, and everything after a write
 * failure (a full disk), is counted dropped. Frees every copy. */
static void write_burst(struct cp_capture_run *r, struct rte_mbuf **ms, unsigned n)
{
	struct rte_mbuf *keep[CP_CAPTURE_WRITER_BURST];
	uint64_t bytes = LOAD(r->n.bytes), want = 0;
	unsigned i, k = 0;
	ssize_t w;

	for (i = 0; i < n; i++) {
		uint32_t len = rte_pktmbuf_pkt_len(ms[i]);

		if (r->write_errno != 0 || bytes + want + len > r->max_bytes) {
			rte_pktmbuf_free(ms[i]);
			continue;
		}
		want += len;
		keep[k++] = ms[i];
	}
	STORE(r->n.dropped, LOAD(r->n.dropped) + (n - k));
	if (k == 0)
		return;
	w = rte_pcapng_write_packets(r->pcap, keep, (uint16_t)k);
	if (w < 0) {
		r->write_errno = rte_errno != 0 ? rte_errno : EIO;
		STORE(r->n.dropped, LOAD(r->n.dropped) + k);
	} else {
		STORE(r->n.frames, LOAD(r->n.frames) + k);
		STORE(r->n.bytes, bytes + (uint64_t)w);
	}
	rte_pktmbuf_free_bulk(keep, k);
}

static void *writer_main(void *arg)
{
	struct cp_capture_run *r = arg;
	struct rte_mbuf *ms[CP_CAPTURE_WRITER_BURST];
	const struct timespec idle = {.tv_nsec = CP_CAPTURE_WRITER_IDLE_US * 1000L};

	for (;;) {
		/* Read before the dequeue: once stop is seen, every enqueue
		 * happened before it (cp_capture_stop() phase 2), so an empty
		 * ring after it is empty for good. */
		bool stopping = __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
		unsigned n = rte_ring_sc_dequeue_burst(r->dp.ring, (void **)ms,
						       CP_CAPTURE_WRITER_BURST, NULL);

		if (n != 0) {
			write_burst(r, ms, n);
			continue;
		}
		if (stopping)
			break;
		nanosleep(&idle, NULL);
	}
	return NULL;
}

/* ---- start and stop --------------------------------------------------------------- */

/* Free what start built (any subset), the file's descriptor included;
 * @unlink_file: a failed start removes the file it created. */
static void run_free(struct cp_capture_run *r, bool unlink_file)
{
	if (r->pcap != NULL)
		rte_pcapng_close(r->pcap); /* closes r->fd */
	else if (r->fd >= 0)
		close(r->fd);
	if (unlink_file)
		unlink(r->file);
	rte_ring_free(r->dp.ring);
	rte_mempool_free(r->dp.pool);
	free(r);
}

/* The copies' size: the largest frame the router can hold (its mbufs are
 * one segment) or the snaplen, whichever is smaller, in pcapng's block. */
static uint16_t copy_room(const struct dp_router *rt, uint32_t snaplen)
{
	uint32_t frame = rte_pktmbuf_data_room_size(rt->pool) - RTE_PKTMBUF_HEADROOM;
	uint32_t room = rte_pcapng_mbuf_size(snaplen < frame ? snaplen : frame);

	return (uint16_t)(room < UINT16_MAX ? room : UINT16_MAX);
}

static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int cp_capture_start(struct cp_ctx *cp, const struct cp_capture_params *p, char *err,
		     size_t errlen)
{
	struct cp_capture *s = state(cp);
	struct cp_capture_run *r;
	struct utsname u;
	char name[RTE_MEMPOOL_NAMESIZE], os[sizeof(u.sysname) + sizeof(u.release) + 2];
	int rc;

	if (s == NULL)
		return -ENOMEM;
	if (s->run != NULL)
		return errf(err, errlen, -EBUSY, "a capture is running (to %s): stop it first",
			    s->run->file);
	if (p->file == NULL || p->file[0] != '/' || strlen(p->file) >= CP_CAPTURE_PATH_MAX)
		return errf(err, errlen, -EINVAL, "file must be an absolute path");
	if (p->snaplen > CP_CAPTURE_MAX_SNAPLEN)
		return errf(err, errlen, -EINVAL, "snaplen must be in 1..%u",
			    CP_CAPTURE_MAX_SNAPLEN);
	if (p->conn != 0 && (p->conn >= DP_MAX_CONNECTORS || dp_conn_peek(cp->rt, p->conn) == NULL))
		return errf(err, errlen, -ENOENT, "no connector %u", p->conn);
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	snprintf(r->file, sizeof(r->file), "%s", p->file);
	r->dp.conn = p->conn;
	r->dp.snaplen = p->snaplen != 0 ? p->snaplen : s->cfg.snaplen;
	r->max_bytes = s->cfg.max_bytes;
	/* The daemon writes with its own privileges: a new file only, never
	 * a link followed or an existing file truncated. */
	r->fd = open(r->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (r->fd < 0) {
		rc = -errno;
		free(r);
		return errf(err, errlen, rc, "%s: %s", p->file, strerror(-rc));
	}
	s->seq++;
	snprintf(name, sizeof(name), "%s_cap%u", cp->rt->prefix, s->seq % 10000);
	r->dp.pool = rte_pktmbuf_pool_create(name, s->cfg.ring, 0, 0,
					     copy_room(cp->rt, r->dp.snaplen), rte_socket_id());
	snprintf(name, sizeof(name), "%s_capr%u", cp->rt->prefix, s->seq % 10000);
	r->dp.ring = rte_ring_create(name, s->cfg.ring, rte_socket_id(),
				     RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (r->dp.pool == NULL || r->dp.ring == NULL) {
		rc = -ENOMEM;
		errf(err, errlen, rc, "no memory for a capture ring of %u frames", s->cfg.ring);
		goto fail;
	}
	snprintf(os, sizeof(os), "Linux");
	if (uname(&u) == 0)
		snprintf(os, sizeof(os), "%s %s", u.sysname, u.release);
	/* The section header and one interface block per port. */
	r->pcap = rte_pcapng_fdopen(r->fd, os, NULL, "gwartd " GWART_VERSION, NULL);
	if (r->pcap == NULL) {
		rc = rte_errno != 0 ? -rte_errno : -EIO;
		errf(err, errlen, rc, "%s: cannot write the pcapng header: %s", p->file,
		     strerror(-rc));
		goto fail;
	}
	{
		off_t hdr = lseek(r->fd, 0, SEEK_CUR);

		r->n.bytes = hdr > 0 ? (uint64_t)hdr : 0;
	}
	rc = -pthread_create(&r->writer, NULL, writer_main, r);
	if (rc != 0) {
		errf(err, errlen, rc, "cannot start the capture writer: %s", strerror(-rc));
		goto fail;
	}
	r->writer_started = true;
	(void)pthread_setname_np(r->writer, "gwart-capture");
	r->worker_dropped_base = worker_dropped(cp->rt);
	s->run = r;
	/* Last: workers copy from their next iteration on. */
	dp_capture_publish(cp->rt, &r->dp);
	return 0;
fail:
	run_free(r, true);
	return rc;
}

int cp_capture_stop(struct cp_ctx *cp, struct cp_capture_count *out, char *file)
{
	struct cp_capture *s = cp->capture;
	struct cp_capture_run *r = s != NULL ? s->run : NULL;
	struct cp_capture_count n;

	if (r == NULL)
		return -ENOENT;
	/*
	 * Removal, in phases (WireGuard's peer removal: unpublish, wait,
	 * then tear down what nobody can reach any more):
	 *
	 * 1. Unpublish. A worker that loads dp_router.capture from now on
	 *    sees none; one that loaded it this iteration may still copy
	 *    into the pool and enqueue on the ring.
	 */
	dp_capture_publish(cp->rt, NULL);
	/*
	 * 2. Wait for a grace period: every worker has passed a quiescent
	 *    state (the top of its loop), so none holds the capture: no
	 *    copy is allocated and nothing is enqueued after this. (One
	 *    worker loop iteration, microseconds; the control thread goes
	 *    offline while it waits.)
	 */
	synchronize_rcu();
	/*
	 * 3. Tell the writer, which drains the ring (writing what is left,
	 *    up to max_bytes) and exits; join it. After the join nothing
	 *    else uses the file, the ring or the pool.
	 */
	__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
	if (r->writer_started)
		pthread_join(r->writer, NULL);
	/*
	 * 4. The counters are final now (the workers' capture_dropped no
	 *    longer moves for this capture).
	 */
	n = run_count(cp, r);
	s->done.frames += n.frames;
	s->done.bytes += n.bytes;
	s->done.dropped += n.dropped;
	s->last = n;
	if (out != NULL)
		*out = n;
	if (file != NULL)
		snprintf(file, CP_CAPTURE_PATH_MAX, "%s", r->file);
	/*
	 * 5. Close the file, free the ring and the pool: every copy is back
	 *    in it (workers freed what did not fit, the writer what it
	 *    dequeued).
	 */
	s->run = NULL;
	run_free(r, false);
	return 0;
}

/* ---- the control thread's own frames ---------------------------------------------- */

void cp_capture_ctl_tx(struct cp_ctx *cp, unsigned p, const struct rte_mbuf *m)
{
	struct cp_capture_run *r = cp->capture != NULL ? cp->capture->run : NULL;
	struct rte_mbuf *c;

	if (r == NULL)
		return;
	if (r->dp.conn != 0) {
		const struct dp_conn *dc = dp_conn_peek(cp->rt, r->dp.conn);

		if (dc == NULL || !dc->up ||
		    !dp_cap_tx_match(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				     r->dp.conn, dc->ip_be, dc->udp_be))
			return;
	}
	c = rte_pcapng_copy(cp->rt->ports[p].port_id, cp->rt->ports[p].ctl_txq, m, r->dp.pool,
			    r->dp.snaplen, rte_rdtsc(), RTE_PCAPNG_DIRECTION_OUT);
	if (c == NULL || rte_ring_mp_enqueue(r->dp.ring, c) != 0) {
		rte_pktmbuf_free(c);
		r->ctl_dropped++;
	}
}

/* ---- statistics ------------------------------------------------------------------- */

json_t *cp_capture_status_json(struct cp_ctx *cp)
{
	struct cp_capture *s = state(cp);
	struct cp_capture_count n;
	json_t *o;

	if (s == NULL)
		return NULL;
	n = s->run != NULL ? run_count(cp, s->run) : s->last;
	o = json_pack("{s:b, s:I, s:I, s:I, s:I}", "active", s->run != NULL, "snaplen",
		      (json_int_t)(s->run != NULL ? s->run->dp.snaplen : s->cfg.snaplen), "frames",
		      (json_int_t)n.frames, "bytes", (json_int_t)n.bytes, "dropped",
		      (json_int_t)n.dropped);
	if (o != NULL && s->run != NULL) {
		json_object_set_new(o, "file", json_string(s->run->file));
		if (s->run->dp.conn != 0)
			json_object_set_new(o, "connector", json_integer(s->run->dp.conn));
	}
	return o;
}

json_t *cp_capture_stats_json(struct cp_ctx *cp)
{
	struct cp_capture *s = cp->capture;
	struct cp_capture_count n = {0};

	if (s != NULL) {
		n = s->done;
		if (s->run != NULL) {
			struct cp_capture_count r = run_count(cp, s->run);

			n.frames += r.frames;
			n.bytes += r.bytes;
			n.dropped += r.dropped;
		}
	}
	return json_pack("{s:b, s:I, s:I, s:I}", "active", s != NULL && s->run != NULL, "frames",
			 (json_int_t)n.frames, "bytes", (json_int_t)n.bytes, "dropped",
			 (json_int_t)n.dropped);
}

void cp_capture_fini(struct cp_ctx *cp)
{
	if (cp->capture == NULL)
		return;
	(void)cp_capture_stop(cp, NULL, NULL);
	free(cp->capture);
	cp->capture = NULL;
}

/* ---- rte_pdump (dpdk-dumpcap) ----------------------------------------------------- */

static bool pdump_on;

int cp_capture_pdump_init(void)
{
	char path[PATH_MAX];

	/* The EAL opens its multi-process socket only with a shared
	 * configuration; rte_pdump_init() itself succeeds without one
	 * (22.11 ignores ENOTSUP), so look for the socket a secondary
	 * process would connect to. */
	if ((size_t)snprintf(path, sizeof(path), "%s/mp_socket", rte_eal_get_runtime_dir()) >=
		    sizeof(path) ||
	    access(path, F_OK) != 0)
		return 0;
	if (rte_pdump_init() != 0)
		return rte_errno != 0 ? -rte_errno : -EIO;
	pdump_on = true;
	return 1;
}

void cp_capture_pdump_fini(void)
{
	if (pdump_on)
		(void)rte_pdump_uninit();
	pdump_on = false;
}
