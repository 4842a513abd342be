/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What ingress.c (custody: spool, groups, results, receipts, bounces,
 * timers) and ingress_smtp.c (the SMTP sessions) share. Private to them.
 * Threading: the loop's thread only.
 */
#ifndef GWART_SMTP_INGRESS_INT_H
#define GWART_SMTP_INGRESS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "gs.h"
#include "smtp_server.h"
#include "spool.h"

#define IN_BUF 16384u
#define BOUNCE_CONNS 2u
#define SCAN_MS 50u

enum { G_UNSENT, G_SENT, G_ACKED, G_REFUSED };

struct in_sess;

/* The memory side of a spool entry (sp_entry.user). */
struct in_mail {
	struct in_sess *sess;    /* the client waiting for the answer, or NULL */
	bool answering;          /* the first submission is not decided yet */
	uint32_t ngroups;
	uint16_t *grp_of;        /* recipient -> group */
	uint8_t *gst;            /* group -> G_* */
	int *gstatus;            /* group -> NACK reason (G_REFUSED) */
	uint8_t *body;           /* the GWMAIL1 body while answering */
	size_t body_len;
	uint64_t reply_deadline;
	struct gs_relay *bounce; /* a bounce in flight */
	uint8_t *dsn;
	uint32_t bounce_attempts;
};

struct in_sess {
	struct in_sess *next, *prev;
	struct gs_ingress *in;
	int fd;
	struct smtp_srv *srv;
	char ip[64];
	uint8_t buf[IN_BUF];
	size_t len, off;
	uint64_t idle_deadline;
	struct sp_entry *waiting;
	bool kick;               /* feed again from the tick (answered meanwhile) */
};

struct in_pend {
	uint64_t msg_id;
	uint64_t eid;
	uint32_t g;
};

struct in_stats {
	uint64_t sessions, sessions_refused, mails, accepted, refused_tmp, refused_perm;
	uint64_t spool_full, spool_errors, replies_lost, unanswered_removed, sends, resends;
	uint64_t send_deferred, results_ok, results_refused, receipts, receipts_bad;
	uint64_t receipts_unknown, rcpts_delivered, rcpts_failed, completed, expired;
	uint64_t bounces, bounce_retries, bounces_null_sender, bounces_no_relay;
	uint64_t bounces_failed, timeouts_reply;
};

struct gs_ingress {
	struct gs_ctx *g;
	struct sp_spool *sp;
	int lfd;
	struct in_sess *sessions;
	uint32_t nsess;
	struct in_pend *pend;
	uint32_t npend, cappend;
	struct sockaddr_storage bounce_sa;
	socklen_t bounce_salen;
	bool have_bounce;
	uint32_t bounces_active;
	bool shutting_down;
	/* The spool is scanned for timers at most every SCAN_MS, or at once
	 * after something changed (dirty): a busy loop does not walk 10,000
	 * entries per wake-up. */
	bool dirty;
	uint64_t scan_at;
	struct in_stats st;
};

/* ingress.c */
void in_mail_id(const struct gs_ingress *in, uint64_t sid, char *buf, size_t cap);
/* A whole mail from session @s: spool it, send its groups, answer it when
 * decided (maybe at once). */
void in_mail_take(struct in_sess *s);
/* ingress_smtp.c */
void in_sess_run(struct in_sess *s);
void in_sess_close(struct in_sess *s);
void in_on_accept(struct gs_loop *l, int fd, int revents, void *arg);
int in_listen(const char *addr);

#endif
