/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The egress side of gwart-smtp: GWMAIL1 messages from gwart, delivered by
 * SMTP to the configured next hop, receipts (GWRCPT1) back to the ingress
 * connector they came from.
 *
 * Custody. The SDK acknowledges a message to the router when on_message
 * returns, and on_message may not wait for a remote MTA. So the callback
 * writes the mail durably into the egress queue (spool.c: fsync()ed file
 * and directory) before it returns, and delivery runs from the queue:
 * custody passes router -> egress queue on disk -> next hop (its 250), as
 * it passes between Postfix queues. The receipt "delivered" leaves only
 * after the next hop's 250. A mail the queue cannot take (full, a write
 * failing) is counted and dropped while acknowledged: it is not lost,
 * because the ingress keeps it in its own spool until a receipt comes, and
 * sends it again after --resend-s.
 *
 * Exactly once. Before a mail is queued its (origin, Id) is looked up in
 * the delivered-Id log (delivered.c) and in the queue: a mail delivered
 * already gets its recorded receipt again, one queued already is dropped.
 * A delivery's outcome is recorded (fdatasync) in the log before the queue
 * entry is removed and before the receipt is sent; so after a crash
 * between the two the entry is found in the log at start-up and only its
 * receipt is sent. The one window left is SMTP's own (RFC 1047): a
 * connection lost after the final "." and before the next hop's reply
 * leaves the mail undecided here and it is delivered again.
 *
 * Retries: a 4xx (or no answer) leaves a recipient pending; the mail is
 * tried again after --retry-s x 2^k (+-20 %, capped at --retry-max-s),
 * only for its pending recipients; after --max-queue-s they fail with
 * "554 5.4.7". A 5xx fails the recipient with the next hop's code and text,
 * which the ingress turns into a bounce.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "delivered.h"
#include "gs.h"
#include "mailmsg.h"
#include "relay.h"
#include "spool.h"

#define RQ_MAX 4096u  /* receipts waiting for the SDK */

struct eg_job {
	struct gs_egress *eg;
	struct sp_entry *e;
	struct gs_relay *r;
	void *body;
	uint32_t n;
	uint32_t *idx;        /* the job's recipient k is the entry's idx[k] */
	const char **rc;
};

struct eg_receipt {
	struct eg_receipt *next;
	char dest[GW_DEST_MAX + 1];
	size_t len;
	uint8_t buf[];
};

struct eg_stats {
	uint64_t mails, bad, dup_delivered, dup_queued, queue_full, queue_errors, attempts;
	uint64_t rcpts_delivered, rcpts_failed, rcpts_deferred, expired, completed;
	uint64_t log_errors, receipts_queued, receipts_sent, receipts_dropped;
	uint64_t receipts_acked, receipts_refused;
};

struct gs_egress {
	struct gs_ctx *g;
	struct sp_spool *sp;
	struct dl_log *dl;
	struct sockaddr_storage hop;
	socklen_t hop_len;
	uint32_t active;
	bool shutting_down;
	bool dirty;           /* scan the queue at the next tick */
	uint64_t scan_at;     /* else not before this (ms) */
	struct eg_receipt *rq_head, *rq_tail;
	uint32_t rq_n;
	struct eg_stats st;
};

static void receipt_queue(struct gs_egress *eg, uint32_t origin, const void *buf, size_t len)
{
	struct eg_receipt *r;

	if (eg->rq_n >= RQ_MAX) {
		/* The ingress sends the mail again and gets it from the log. */
		eg->st.receipts_dropped++;
		return;
	}
	r = malloc(sizeof(*r) + len);
	if (!r) {
		eg->st.receipts_dropped++;
		return;
	}
	snprintf(r->dest, sizeof(r->dest), GS_RECEIPT_TYPE ":receipts@%" PRIu32, origin);
	memcpy(r->buf, buf, len);
	r->len = len;
	r->next = NULL;
	if (eg->rq_tail)
		eg->rq_tail->next = r;
	else
		eg->rq_head = r;
	eg->rq_tail = r;
	eg->rq_n++;
	eg->st.receipts_queued++;
}

static void receipts_flush(struct gs_egress *eg)
{
	while (eg->rq_head) {
		struct eg_receipt *r = eg->rq_head;
		int ret = gw_conn_send_msg(eg->g->conn, r->dest, r->buf, r->len, NULL);

		if (ret == -ENOTCONN || ret == -EAGAIN)
			return;
		if (ret == 0)
			eg->st.receipts_sent++;
		else
			eg->st.receipts_dropped++;
		eg->rq_head = r->next;
		if (!eg->rq_head)
			eg->rq_tail = NULL;
		eg->rq_n--;
		free(r);
	}
}

/* Every recipient decided: record, remove, receipt. */
static void finalize(struct gs_egress *eg, struct sp_entry *e)
{
	struct mailmsg_rcpt_result *rr = calloc(e->nrcpt, sizeof(*rr));
	struct mailmsg_receipt rc = { e->tag, rr, e->nrcpt };
	uint8_t *buf = NULL;
	size_t cap;
	long len;

	if (!rr)
		goto later;
	for (uint32_t i = 0; i < e->nrcpt; i++) {
		const struct sp_rcpt *r = &e->rcpt[i];
		int code = r->code;

		if (r->state == SP_DELIVERED && (code < 200 || code > 299))
			code = 250;
		if (r->state != SP_DELIVERED && (code < 500 || code > 599))
			code = 554;
		rr[i] = (struct mailmsg_rcpt_result){ r->addr, code, r->text };
	}
	cap = mailmsg_receipt_len(&rc);
	buf = malloc(cap);
	if (!buf)
		goto later;
	len = mailmsg_encode_receipt(&rc, buf, cap);
	if (len < 0 || (size_t)len > DL_RECEIPT_MAX) {
		/* Should not happen (texts are cleaned); make it minimal. */
		for (uint32_t i = 0; i < e->nrcpt; i++)
			rr[i].text = "";
		len = mailmsg_encode_receipt(&rc, buf, cap);
		if (len < 0)
			goto later;
	}
	if (dl_add(eg->dl, e->origin, e->tag, buf, (size_t)len) < 0) {
		eg->st.log_errors++;
		goto later;
	}
	receipt_queue(eg, e->origin, buf, (size_t)len);
	eg->st.completed++;
	sp_remove(eg->sp, e);
	free(buf);
	free(rr);
	return;
later:
	free(buf);
	free(rr);
	e->due_ms = gs_now_ms() + 1000;
}

static void job_free(struct eg_job *j)
{
	if (!j)
		return;
	free(j->body);
	free(j->idx);
	free(j->rc);
	free(j);
}

static void delivered(void *arg, const struct smtp_cli *cli)
{
	struct eg_job *j = arg;
	struct gs_egress *eg = j->eg;
	struct sp_entry *e = j->e;
	bool temp = false;

	eg->active--;
	eg->dirty = true;
	for (uint32_t k = 0; k < j->n; k++) {
		const struct smtp_cli_outcome *o = smtp_cli_rcpt(cli, k);
		struct sp_rcpt *r = &e->rcpt[j->idx[k]];
		char text[640];

		snprintf(text, sizeof(text), "%s%s%s", o->enh, o->enh[0] ? " " : "", o->text);
		mailmsg_clean_text(r->text, sizeof(r->text), text, strlen(text));
		r->code = (uint16_t)o->code;
		switch (o->result) {
		case SMTP_CLI_DELIVERED:
			r->state = SP_DELIVERED;
			eg->st.rcpts_delivered++;
			break;
		case SMTP_CLI_PERM:
			r->state = SP_FAILED;
			if (o->code < 500 || o->code > 599) {
				r->code = 554;
				snprintf(text, sizeof(text), "5.3.0 %s", r->text);
				mailmsg_clean_text(r->text, sizeof(r->text), text, strlen(text));
			}
			eg->st.rcpts_failed++;
			break;
		default:
			temp = true;
			eg->st.rcpts_deferred++;
			break;
		}
	}
	e->user = NULL;
	job_free(j);
	if (temp) {
		uint64_t age_s = gs_age_s(e->created_us);

		if (age_s >= eg->g->o.max_queue_s) {
			for (uint32_t i = 0; i < e->nrcpt; i++) {
				struct sp_rcpt *r = &e->rcpt[i];
				char text[640];

				if (r->state != SP_PENDING)
					continue;
				snprintf(text, sizeof(text), "5.4.7 Delivery time expired, last: %d %s",
					 r->code, r->text);
				mailmsg_clean_text(r->text, sizeof(r->text), text, strlen(text));
				r->code = 554;
				r->state = SP_FAILED;
				eg->st.expired++;
			}
			temp = false;
		}
	}
	if (sp_commit(eg->sp, e) < 0)
		eg->st.queue_errors++;
	if (!temp) {
		finalize(eg, e);
		return;
	}
	e->due_ms = gs_now_ms() + gs_retry_ms(eg->g, e->attempts++);
}

static void start(struct gs_egress *eg, struct sp_entry *e)
{
	struct eg_job *j = calloc(1, sizeof(*j));
	struct smtp_cli_mail m;
	size_t blen;
	int err;

	if (!j)
		goto retry;
	j->eg = eg;
	j->e = e;
	j->idx = calloc(e->nrcpt, sizeof(*j->idx));
	j->rc = calloc(e->nrcpt, sizeof(*j->rc));
	if (!j->idx || !j->rc)
		goto retry;
	for (uint32_t i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state == SP_PENDING) {
			j->idx[j->n] = i;
			j->rc[j->n++] = e->rcpt[i].addr;
		}
	if (j->n == 0) {
		job_free(j);
		finalize(eg, e);
		return;
	}
	if (sp_read_body(eg->sp, e, &j->body, &blen) < 0) {
		eg->st.queue_errors++;
		goto retry;
	}
	m = (struct smtp_cli_mail){ e->from, j->rc, j->n, j->body, blen };
	eg->st.attempts++;
	j->r = gs_relay_start(eg->g->loop, &eg->hop, eg->hop_len, eg->g->o.name, &m,
			      eg->g->o.idle_s * 1000u, delivered, j, &err);
	if (!j->r) {
		if (err == -EINVAL) {
			/* smtp_client refuses the mail itself: it never can go. */
			for (uint32_t k = 0; k < j->n; k++) {
				struct sp_rcpt *r = &e->rcpt[j->idx[k]];

				r->state = SP_FAILED;
				r->code = 554;
				snprintf(r->text, sizeof(r->text), "5.3.0 The mail cannot be relayed "
					 "(an address the client refuses)");
				eg->st.rcpts_failed++;
			}
			job_free(j);
			sp_commit(eg->sp, e);
			finalize(eg, e);
			return;
		}
		goto retry;
	}
	e->user = j;
	eg->active++;
	return;
retry:
	job_free(j);
	e->due_ms = gs_now_ms() + gs_retry_ms(eg->g, e->attempts++);
}

void gs_egress_on_mail(struct gs_egress *eg, uint32_t origin, const void *msg, size_t len)
{
	static struct mailmsg_str rv[MAILMSG_RCPTS_MAX];
	static char rbuf[MAILMSG_RCPTS_MAX][MAILMSG_ADDR_MAX + 1];
	static const char *rc[MAILMSG_RCPTS_MAX];
	char id[MAILMSG_ID_MAX + 1], from[MAILMSG_ADDR_MAX + 1];
	struct mailmsg_mail_view v;
	struct sp_entry *e;
	const void *old;
	size_t olen;
	int ret;

	eg->st.mails++;
	if (mailmsg_decode_mail(msg, len, &v, rv, MAILMSG_RCPTS_MAX) < 0) {
		eg->st.bad++;
		return;
	}
	memcpy(id, v.id.p, v.id.len);
	id[v.id.len] = 0;
	memcpy(from, v.from.p, v.from.len);
	from[v.from.len] = 0;
	old = dl_find(eg->dl, origin, id, &olen);
	if (old) {
		eg->st.dup_delivered++;
		receipt_queue(eg, origin, old, olen);
		return;
	}
	if (sp_find_tag(eg->sp, origin, id)) {
		eg->st.dup_queued++;
		return;
	}
	for (unsigned i = 0; i < v.nrcpt; i++) {
		memcpy(rbuf[i], rv[i].p, rv[i].len);
		rbuf[i][rv[i].len] = 0;
		rc[i] = rbuf[i];
	}
	/* On disk before this returns: the SDK acknowledges on return. */
	ret = sp_put(eg->sp, origin, id, from, rc, v.nrcpt, v.msg, v.msg_len, &e);
	if (ret < 0) {
		if (ret == -ENOSPC)
			eg->st.queue_full++;
		else
			eg->st.queue_errors++;
		return;
	}
	e->due_ms = 0;
	eg->dirty = true;
}

int gs_egress_on_result(struct gs_egress *eg, uint64_t msg_id, int status)
{
	(void)msg_id;
	if (status == 0)
		eg->st.receipts_acked++;
	else
		eg->st.receipts_refused++; /* the ingress re-sends; the log answers */
	return 1;
}

int gs_egress_tick(struct gs_loop *l, uint64_t now, void *arg)
{
	struct gs_egress *eg = arg;
	uint64_t wait = UINT64_MAX;

	(void)l;
	receipts_flush(eg);
	if (!eg->dirty && now < eg->scan_at)
		return eg->rq_head ? 10 : (int)(eg->scan_at - now);
	eg->dirty = false;
	for (uint32_t i = 0; i < sp_count(eg->sp); i++) {
		struct sp_entry *e = sp_at(eg->sp, i);
		uint32_t before = sp_count(eg->sp);

		if (e->user)
			continue;
		if (e->due_ms <= now) {
			if (eg->shutting_down || eg->active >= eg->g->o.conns)
				continue;
			start(eg, e);
			if (sp_count(eg->sp) != before) {
				i--;
				continue;
			}
		}
		if (!e->user && e->due_ms > now && e->due_ms - now < wait)
			wait = e->due_ms - now;
	}
	if (wait > 60000)
		wait = 60000;
	eg->scan_at = now + (wait < 50 ? wait : 50);
	if (eg->rq_head)
		wait = 10;
	return (int)wait;
}

int gs_egress_open(struct gs_ctx *g, struct gs_egress **out)
{
	struct gs_egress *eg = calloc(1, sizeof(*eg));
	struct sp_cfg sc = { g->o.spool_entries, g->o.spool_bytes };
	char path[4096];
	int ret;

	if (!eg)
		return -ENOMEM;
	eg->g = g;
	if (gs_addr_parse(g->o.next_hop, &eg->hop, &eg->hop_len) < 0) {
		gs_log("--next-hop %s: not ADDR:PORT", g->o.next_hop);
		free(eg);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/egress", g->o.spool);
	ret = sp_open(path, &sc, &eg->sp);
	if (ret < 0) {
		gs_log("egress queue %s: %s", path, strerror(-ret));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/delivered.log", g->o.state);
	ret = dl_open(path, g->o.delivered_max, &eg->dl);
	if (ret < 0) {
		gs_log("delivered log %s: %s", path, strerror(-ret));
		goto fail;
	}
	/* A crash between recording a delivery and removing its queue entry:
	 * only the receipt is left to send. */
	for (uint32_t i = 0; i < sp_count(eg->sp);) {
		struct sp_entry *e = sp_at(eg->sp, i);
		size_t rl;
		const void *r = dl_find(eg->dl, e->origin, e->tag, &rl);

		if (r) {
			receipt_queue(eg, e->origin, r, rl);
			sp_remove(eg->sp, e);
			continue;
		}
		e->due_ms = 0;
		i++;
	}
	*out = eg;
	return 0;
fail:
	gs_egress_close(eg);
	return ret;
}

void gs_egress_shutdown(struct gs_egress *eg)
{
	eg->shutting_down = true;
}

bool gs_egress_busy(const struct gs_egress *eg)
{
	return eg->active > 0 || eg->rq_head;
}

void gs_egress_close(struct gs_egress *eg)
{
	if (!eg)
		return;
	for (uint32_t i = 0; eg->sp && i < sp_count(eg->sp); i++) {
		struct sp_entry *e = sp_at(eg->sp, i);
		struct eg_job *j = e->user;

		if (j) {
			gs_relay_abort(j->r);
			job_free(j);
			e->user = NULL;
		}
	}
	while (eg->rq_head) {
		struct eg_receipt *r = eg->rq_head;

		eg->rq_head = r->next;
		free(r);
	}
	sp_close(eg->sp);
	dl_close(eg->dl);
	free(eg);
}

#define EG_STATS(X) \
	X(mails) X(bad) X(dup_delivered) X(dup_queued) X(queue_full) X(queue_errors) \
	X(attempts) X(rcpts_delivered) X(rcpts_failed) X(rcpts_deferred) X(expired) \
	X(completed) X(log_errors) X(receipts_queued) X(receipts_sent) X(receipts_dropped) \
	X(receipts_acked) X(receipts_refused)

void gs_egress_report(const struct gs_egress *eg, FILE *f, bool json)
{
	struct sp_stats ss;
	struct dl_stats ds;
	const char *sep = "";

	sp_get_stats(eg->sp, &ss);
	dl_get_stats(eg->dl, &ds);
	if (json) {
		fprintf(f, "\"egress\": {");
#define X(n) fprintf(f, "%s\"%s\": %" PRIu64, sep, #n, eg->st.n), sep = ", ";
		EG_STATS(X)
#undef X
		fprintf(f, ", \"queue_entries\": %" PRIu64 ", \"queue_bytes\": %" PRIu64
			", \"queue_damaged\": %" PRIu64 ", \"delivered_records\": %" PRIu64
			", \"delivered_evicted\": %" PRIu64 ", \"delivered_torn\": %" PRIu64
			", \"delivered_damaged\": %" PRIu64 ", \"delivered_write_errors\": %" PRIu64
			", \"active\": %" PRIu32 "}",
			ss.entries, ss.bytes, ss.damaged, ds.records, ds.evicted, ds.torn_tail,
			ds.damaged, ds.write_errors, eg->active);
		return;
	}
	fprintf(f, "egress:");
#define X(n) fprintf(f, " %s=%" PRIu64, #n, eg->st.n);
	EG_STATS(X)
#undef X
	fprintf(f, " queue_entries=%" PRIu64 " delivered_records=%" PRIu64, ss.entries,
		ds.records);
}
