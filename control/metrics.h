/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus endpoint: GET /metrics in the text exposition format
 * (version 0.0.4), served by libmicrohttpd on the address and port of the
 * configuration's "metrics" key (off when absent: no listening socket).
 *
 * metrics.c (cp_metrics_*) runs MHD in external-select mode on the control
 * loop: MHD's epoll fd is watched by cp_loop, MHD_run() is called when it
 * is readable and when the timer armed from MHD_get_timeout() fires, so
 * every page is built on the control thread from cp_stats_json(), the one
 * source of counters, like the stats file and gwartctl's "stats".
 *
 * metrics_text.c (cp_metrics_text_*) turns that JSON object into the text:
 * pure (jansson and the histogram layout only), so unit tests reach it
 * without an EAL or a socket. The number of connectors with series of
 * their own is bounded (CP_METRICS_CONNECTORS_MAX).
 *
 * Threading: everything here runs on the control thread (a registered
 * QSBR thread, online while MHD's callbacks run from the loop).
 */
#ifndef GWART_CP_METRICS_H
#define GWART_CP_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct cp_ctx;
struct json_t;

/* ---- limits (each has a counter in "metrics", see cp_metrics_json) ---- */
/* Connections open at once; the next is closed at accept (refused_conns).
 * A Prometheus server holds one; the margin is for curl and promtool. */
#define CP_METRICS_CONN_MAX 8
/* Bytes of memory per connection (MHD's pool): bounds the request line and
 * headers; a request that does not fit is answered 414/431 by MHD and
 * counted: bad_requests, or no_request when even the request line does not
 * fit (MHD closes before we see a request). Prometheus sends ~300 bytes. */
#define CP_METRICS_REQUEST_MAX 16384
/* Connectors with series of their own (the first ones, by id): each has
 * about 20, and a page is built on the control thread: 65,535 connectors
 * would be 1.3 M series and 70 MB, 1.6 s of control thread per scrape.
 * The rest count in the totals; gwart_metrics_connectors_omitted says how
 * many were left out. */
#define CP_METRICS_CONNECTORS_MAX 1024
/* Seconds a connection may stay idle (a slow or silent client) before MHD
 * closes it (timeouts when a request was under way). */
#define CP_METRICS_IDLE_S 10
/* The residence histogram's le bounds, in TSC cycles: from 2^LO to 2^HI,
 * CP_METRICS_HIST_PER_OCTAVE per power of two (1 or 2: at 1x, 1.5x, which
 * are dp_hist bucket edges). Fixed, so every scrape has the same series. */
#define CP_METRICS_HIST_LO_LOG2 8  /* 256 cycles: ~0.1 us at 2-3 GHz */
#define CP_METRICS_HIST_HI_LOG2 34 /* 2^34 cycles: ~6-9 s */
#define CP_METRICS_HIST_PER_OCTAVE 2

/* Start serving on @addr_be:@port (network order, host order). Listens now;
 * 0, -EALREADY (started), -ENOMEM, or the negative errno of the bind
 * (-EADDRINUSE, -EADDRNOTAVAIL, ...). */
int cp_metrics_start(struct cp_ctx *cp, uint32_t addr_be, uint16_t port);
/* Close the listening socket and every connection; a no-op when off. */
void cp_metrics_stop(struct cp_ctx *cp);
/* The endpoint's own counters as a JSON object (requests, not_found,
 * bad_method, bad_requests, no_request, refused_conns, timeouts, render_failed,
 * connections, connections_open, address, port); NULL when off or out of
 * memory. The stats reply and each page carry it as "metrics". */
struct json_t *cp_metrics_json(const struct cp_ctx *cp);

/* The exposition text of @stats (cp_stats_json()'s object, with "metrics"
 * when present): every integer counter as gwart_<name>_total, the gauges
 * (sessions up, custody, mbufs in use, open fds, ...) without the suffix,
 * drops as gwart_drops_total{reason=...}, connectors labelled {id, name},
 * workers {worker, lcore}, and "residence_buckets" as the histogram
 * gwart_residence_seconds. malloc'd and NUL-terminated, its length in *@len;
 * NULL when out of memory. */
char *cp_metrics_text_render(struct json_t *stats, size_t *len);
/* @s as a label value (backslash, double quote and newline escaped) into
 * @out (@outlen bytes, NUL-terminated, truncated to fit): the length it
 * needs without the NUL. */
size_t cp_metrics_text_escape(const char *s, char *out, size_t outlen);

#endif
