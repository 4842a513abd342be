/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ingress side of gwart-smtp: SMTP sessions from the sending MTA, the
 * ingress spool, one GWMAIL1 message per recipient domain group into
 * gwart, receipts back, re-sends, bounces.
 *
 * Custody. A mail is answered 250 only when (1) it is in the spool on disk
 * (spool.c: fsync()ed file and directory) and (2) gwart acknowledged the
 * message of every domain group (on_result 0). Before the 250 the entry is
 * marked accepted on disk (SP_F_ACCEPTED), so that after a crash an entry
 * without the mark, whose sender was never told 250 and will send it
 * again, is removed rather than sent twice; an entry with it is sent again
 * (same Id: the egress suppresses what it delivered) until every
 * recipient's receipt is in. Failed recipients are bounced (dsn.c) through
 * the bounce relay; then the entry is removed.
 *
 * Ids: the mail's Id is "<connector id>.<spool id, 16 hex>"; the message of
 * domain group g carries "<Id>.<g>" (groups are numbered in the order
 * their domain first appears among the recipients, so the same after a
 * restart), so that two groups routed to the same egress are two mails to
 * its delivered-Id record.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dsn.h"
#include "gs.h"
#include "mailmsg.h"
#include "relay.h"
#include "smtp_server.h"
#include "spool.h"

#include "ingress_int.h"

static struct gs_ingress *gs_ingress_self;

static void check_done(struct gs_ingress *in, struct sp_entry *e);

/* ---- ids and groups ---- */

void in_mail_id(const struct gs_ingress *in, uint64_t sid, char *buf, size_t cap)
{
	snprintf(buf, cap, "%" PRIu32 ".%016" PRIx64, in->g->o.id, sid);
}

static void group_id(const struct gs_ingress *in, uint64_t sid, uint32_t g, char *buf,
		     size_t cap)
{
	snprintf(buf, cap, "%" PRIu32 ".%016" PRIx64 ".%" PRIu32, in->g->o.id, sid, g);
}

static bool same_domain(const char *a, const char *b)
{
	struct mailmsg_str da = mailmsg_addr_domain(a, strlen(a));
	struct mailmsg_str db = mailmsg_addr_domain(b, strlen(b));

	return da.len == db.len && (da.len == 0 || !strncasecmp(da.p, db.p, da.len));
}

static struct in_mail *mail_new(struct sp_entry *e)
{
	struct in_mail *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->grp_of = calloc(e->nrcpt, sizeof(*m->grp_of));
	m->gst = calloc(e->nrcpt, sizeof(*m->gst));
	m->gstatus = calloc(e->nrcpt, sizeof(*m->gstatus));
	if (!m->grp_of || !m->gst || !m->gstatus) {
		free(m->grp_of);
		free(m->gst);
		free(m->gstatus);
		free(m);
		return NULL;
	}
	for (uint32_t i = 0; i < e->nrcpt; i++) {
		uint32_t j;

		for (j = 0; j < i; j++)
			if (same_domain(e->rcpt[i].addr, e->rcpt[j].addr))
				break;
		m->grp_of[i] = j < i ? m->grp_of[j] : (uint16_t)m->ngroups++;
	}
	e->user = m;
	return m;
}

static void mail_free(struct sp_entry *e)
{
	struct in_mail *m = e->user;

	if (!m)
		return;
	if (m->sess)
		m->sess->waiting = NULL;
	gs_relay_abort(m->bounce);
	free(m->grp_of);
	free(m->gst);
	free(m->gstatus);
	free(m->body);
	free(m->dsn);
	free(m);
	e->user = NULL;
}

static void entry_remove(struct gs_ingress *in, struct sp_entry *e)
{
	/* Results still owed for it find nothing and are ignored. */
	for (uint32_t i = 0; i < in->npend;)
		if (in->pend[i].eid == e->id)
			in->pend[i] = in->pend[--in->npend];
		else
			i++;
	mail_free(e);
	sp_remove(in->sp, e);
}

/* ---- sending into gwart ---- */

static int pend_add(struct gs_ingress *in, uint64_t msg_id, uint64_t eid, uint32_t g)
{
	if (in->npend == in->cappend) {
		uint32_t cap = in->cappend ? in->cappend * 2 : 256;
		struct in_pend *p = realloc(in->pend, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		in->pend = p;
		in->cappend = cap;
	}
	in->pend[in->npend++] = (struct in_pend){ msg_id, eid, g };
	return 0;
}

/* The GWMAIL1 of group @g sent; 0, or the SDK's error (-ENOTCONN and
 * -EAGAIN: try again later). */
static int send_group(struct gs_ingress *in, struct sp_entry *e, uint32_t g, const uint8_t *body,
		      size_t blen)
{
	struct in_mail *m = e->user;
	const char *rc[SP_RCPT_MAX];
	char id[MAILMSG_ID_MAX + 1], dest[GW_DEST_MAX + 1];
	struct mailmsg_mail mm = { 0 };
	unsigned n = 0;
	uint64_t msg_id;
	uint8_t *buf;
	size_t cap;
	long len;
	int ret;

	for (uint32_t i = 0; i < e->nrcpt; i++)
		if (m->grp_of[i] == g)
			rc[n++] = e->rcpt[i].addr;
	group_id(in, e->id, g, id, sizeof(id));
	mm.id = id;
	mm.from = e->from;
	mm.rcpts = rc;
	mm.nrcpt = n;
	mm.body = body;
	mm.body_len = blen;
	cap = mailmsg_mail_len(&mm);
	buf = malloc(cap ? cap : 1);
	if (!buf)
		return -ENOMEM;
	len = mailmsg_encode_mail(&mm, buf, cap);
	if (len < 0) {
		free(buf);
		return -EINVAL;
	}
	if (snprintf(dest, sizeof(dest), "smtp:%s", rc[0]) >= (int)sizeof(dest)) {
		free(buf);
		return -EINVAL;
	}
	ret = gw_conn_send_msg(in->g->conn, dest, buf, (size_t)len, &msg_id);
	free(buf);
	if (ret < 0) {
		if (ret == -ENOTCONN || ret == -EAGAIN)
			in->st.send_deferred++;
		return ret;
	}
	ret = pend_add(in, msg_id, e->id, g);
	if (ret < 0)
		return ret; /* its result will be ignored; the resend covers it */
	m->gst[g] = G_SENT;
	in->st.sends++;
	return 0;
}

static bool group_pending(const struct sp_entry *e, const struct in_mail *m, uint32_t g)
{
	for (uint32_t i = 0; i < e->nrcpt; i++)
		if (m->grp_of[i] == g && e->rcpt[i].state == SP_PENDING)
			return true;
	return false;
}

/* Send every group that still needs it (first submission: G_UNSENT ones;
 * re-send: groups with pending recipients not waiting for a result). */
static int send_groups(struct gs_ingress *in, struct sp_entry *e, bool resend)
{
	struct in_mail *m = e->user;
	void *body = m->body;
	size_t blen = m->body_len;
	bool read = false;
	int ret = 0;

	for (uint32_t g = 0; g < m->ngroups; g++) {

		if (resend ? m->gst[g] == G_SENT || !group_pending(e, m, g) : m->gst[g] != G_UNSENT)
			continue;
		if (!body) {
			if (sp_read_body(in->sp, e, &body, &blen) < 0) {
				in->st.spool_errors++;
				return -EIO;
			}
			read = true;
		}
		ret = send_group(in, e, g, body, blen);
		if (ret == -ENOTCONN || ret == -EAGAIN)
			break;
		if (ret < 0 && !resend) {
			m->gst[g] = G_REFUSED;
			m->gstatus[g] = ret == -EMSGSIZE ? GW_NACK_TOO_BIG : -ret;
		}
		if (ret == 0 && resend)
			in->st.resends++;
	}
	if (read)
		free(body);
	return ret == -ENOTCONN || ret == -EAGAIN ? ret : 0;
}

/* ---- answering the client ---- */

static bool perm_refusal(int status)
{
	return status == GW_NACK_NO_ROUTE || status == GW_NACK_TOO_BIG;
}

static void refusal_reply(int status, struct smtp_srv_verdict *v)
{
	switch (status) {
	case GW_NACK_NO_ROUTE:
		*v = (struct smtp_srv_verdict){ 550, "5.1.2",
			"No route to the recipient's domain through gwart" };
		break;
	case GW_NACK_TOO_BIG:
		*v = (struct smtp_srv_verdict){ 552, "5.3.4",
			"Message too big for the gwart route" };
		break;
	default:
		*v = (struct smtp_srv_verdict){ 451, "4.3.0",
			"Temporary failure handing the mail to gwart, try again later" };
		break;
	}
}

static void answer(struct gs_ingress *in, struct sp_entry *e, const struct smtp_srv_verdict *v)
{
	struct in_mail *m = e->user;
	struct in_sess *s = m->sess;

	m->sess = NULL;
	if (!s) {
		if (v->code < 300)
			in->st.replies_lost++;
		return;
	}
	s->waiting = NULL;
	smtp_srv_mail_reply(s->srv, v);
	s->kick = true;
}

/* Every group of the first submission decided: answer the client. */
static void decide(struct gs_ingress *in, struct sp_entry *e)
{
	struct in_mail *m = e->user;
	uint32_t acked = 0, refused = 0;
	int first = 0;
	bool temp = false;
	char id[64], text[128];

	for (uint32_t g = 0; g < m->ngroups; g++) {
		if (m->gst[g] == G_ACKED) {
			acked++;
		} else {
			refused++;
			if (!first)
				first = m->gstatus[g];
			if (!perm_refusal(m->gstatus[g]))
				temp = true;
		}
	}
	m->answering = false;
	free(m->body);
	m->body = NULL;
	if (acked == 0) {
		struct smtp_srv_verdict v;

		refusal_reply(temp ? 0 : first, &v);
		if (v.code >= 500)
			in->st.refused_perm++;
		else
			in->st.refused_tmp++;
		answer(in, e, &v);
		entry_remove(in, e);
		return;
	}
	/* gwart holds some of it: the mail is ours now. Groups refused for
	 * good become failed recipients (a bounce); the others are sent again
	 * by the re-send timer. */
	for (uint32_t i = 0; refused && i < e->nrcpt; i++) {
		uint32_t g = m->grp_of[i];
		struct smtp_srv_verdict v;

		if (m->gst[g] != G_REFUSED || !perm_refusal(m->gstatus[g]))
			continue;
		refusal_reply(m->gstatus[g], &v);
		e->rcpt[i].state = SP_FAILED;
		e->rcpt[i].code = (uint16_t)v.code;
		snprintf(e->rcpt[i].text, sizeof(e->rcpt[i].text), "%s %s", v.enh, v.text);
		in->st.rcpts_failed++;
	}
	e->dflags |= SP_F_ACCEPTED;
	if (sp_commit(in->sp, e) < 0)
		in->st.spool_errors++;
	e->due_ms = gs_now_ms() + (uint64_t)in->g->o.resend_s * 1000u;
	in->st.accepted++;
	in_mail_id(in, e->id, id, sizeof(id));
	snprintf(text, sizeof(text), "Ok: queued as %s", id);
	answer(in, e, &(struct smtp_srv_verdict){ 250, "2.0.0", text });
	check_done(in, e);
}

/* ---- receipts, completion, bounces ---- */

static void bounce_done(void *arg, const struct smtp_cli *cli);

static void start_bounce(struct gs_ingress *in, struct sp_entry *e)
{
	struct in_mail *m = e->user;
	struct dsn_rcpt dr[SP_RCPT_MAX];
	struct dsn_report r = { 0 };
	char id[64], dsn_id[80], enh[SP_RCPT_MAX][16];
	const char *from, *to;
	struct smtp_cli_mail cm;
	void *body = NULL;
	size_t blen = 0, dlen;
	unsigned n = 0;
	int ret, err;

	for (uint32_t i = 0; i < e->nrcpt; i++) {
		const char *t = e->rcpt[i].text, *sp = strchr(t, ' ');

		if (e->rcpt[i].state != SP_FAILED)
			continue;
		enh[n][0] = 0;
		/* "x.y.z text": the enhanced code apart. */
		if (sp && sp - t < 16 && t[0] >= '2' && t[0] <= '5' && t[1] == '.') {
			memcpy(enh[n], t, (size_t)(sp - t));
			enh[n][sp - t] = 0;
			t = sp + 1;
		}
		dr[n] = (struct dsn_rcpt){ e->rcpt[i].addr,
			e->rcpt[i].code >= 400 && e->rcpt[i].code <= 599 ? e->rcpt[i].code : 550,
			enh[n], t };
		n++;
	}
	if (n == 0)
		return;
	if (!e->from[0] || !in->have_bounce) {
		/* No bounce for a bounce (RFC 5321 6.1); without a relay, logged. */
		if (e->from[0]) {
			in->st.bounces_no_relay++;
			gs_log("no --bounce-relay: %u failed recipient(s) of mail from <%s> not "
			       "bounced", n, e->from);
		} else {
			in->st.bounces_null_sender++;
		}
		goto bounced;
	}
	if (sp_read_body(in->sp, e, &body, &blen) < 0) {
		in->st.spool_errors++;
		e->due_ms = gs_now_ms() + gs_retry_ms(in->g, m->bounce_attempts++);
		return;
	}
	in_mail_id(in, e->id, id, sizeof(id));
	snprintf(dsn_id, sizeof(dsn_id), "%s.dsn%u", id, m->bounce_attempts);
	r.reporting_mta = in->g->o.name;
	r.dsn_id = dsn_id;
	r.envelope_id = id;
	r.sender = e->from;
	r.orig = body;
	r.orig_len = blen;
	r.now = (int64_t)gs_wall_s();
	r.arrival = (int64_t)(e->created_us / 1000000u);
	r.rcpts = dr;
	r.nrcpt = n;
	free(m->dsn);
	m->dsn = NULL;
	ret = dsn_build(&r, &m->dsn, &dlen);
	if (ret == 0)
		ret = dsn_envelope(&r, &from, &to);
	free(body);
	if (ret < 0) {
		gs_log("bounce for mail %s not built (%s): given up", id, strerror(-ret));
		in->st.bounces_failed++;
		goto bounced;
	}
	cm = (struct smtp_cli_mail){ from, &to, 1, m->dsn, dlen };
	m->bounce = gs_relay_start(in->g->loop, &in->bounce_sa, in->bounce_salen, in->g->o.name,
				   &cm, in->g->o.idle_s * 1000u, bounce_done, e, &err);
	if (!m->bounce) {
		e->due_ms = gs_now_ms() + gs_retry_ms(in->g, m->bounce_attempts++);
		return;
	}
	in->bounces_active++;
	return;
bounced:
	for (uint32_t i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state == SP_FAILED)
			e->rcpt[i].state = SP_BOUNCED;
	if (sp_commit(in->sp, e) < 0)
		in->st.spool_errors++;
}

static void bounce_done(void *arg, const struct smtp_cli *cli)
{
	struct sp_entry *e = arg;
	struct in_mail *m = e->user;
	/* One ingress per process: the relay's argument is the entry. */
	struct gs_ingress *in = gs_ingress_self;
	const struct smtp_cli_outcome *o = smtp_cli_rcpt(cli, 0);

	m->bounce = NULL;
	free(m->dsn);
	m->dsn = NULL;
	in->bounces_active--;
	in->dirty = true;
	if (o->result == SMTP_CLI_TEMP) {
		in->st.bounce_retries++;
		gs_log("bounce to <%s> deferred by the bounce relay: %d %s", e->from, o->code,
		       o->text);
		e->due_ms = gs_now_ms() + gs_retry_ms(in->g, m->bounce_attempts++);
		return;
	}
	if (o->result == SMTP_CLI_DELIVERED) {
		in->st.bounces++;
	} else {
		in->st.bounces_failed++;
		gs_log("bounce to <%s> refused by the bounce relay: %d %s: given up", e->from,
		       o->code, o->text);
	}
	for (uint32_t i = 0; i < e->nrcpt; i++)
		if (e->rcpt[i].state == SP_FAILED)
			e->rcpt[i].state = SP_BOUNCED;
	if (sp_commit(in->sp, e) < 0)
		in->st.spool_errors++;
	check_done(in, e);
}

/* After any change of @e's recipients: remove it when done, start its
 * bounce when that is all that is left. */
static void check_done(struct gs_ingress *in, struct sp_entry *e)
{
	struct in_mail *m = e->user;

	if (m->answering || !(e->dflags & SP_F_ACCEPTED))
		return;
	if (sp_entry_final(e, 1)) {
		in->st.completed++;
		entry_remove(in, e);
		return;
	}
	if (sp_entry_final(e, 0) && !m->bounce && in->bounces_active < BOUNCE_CONNS) {
		start_bounce(in, e);
		if (sp_entry_final(e, 1)) {
			in->st.completed++;
			entry_remove(in, e);
		}
	}
}

int gs_ingress_on_result(struct gs_ingress *in, uint64_t msg_id, int status)
{
	struct sp_entry *e;
	struct in_mail *m;
	uint32_t i, g;

	in->dirty = true;
	for (i = 0; i < in->npend; i++)
		if (in->pend[i].msg_id == msg_id)
			break;
	if (i == in->npend)
		return 0;
	e = sp_find(in->sp, in->pend[i].eid);
	g = in->pend[i].g;
	in->pend[i] = in->pend[--in->npend];
	if (!e || !(m = e->user))
		return 1;
	if (status == 0)
		in->st.results_ok++;
	else
		in->st.results_refused++;
	m->gst[g] = status == 0 ? G_ACKED : G_REFUSED;
	m->gstatus[g] = status;
	if (m->answering) {
		for (uint32_t k = 0; k < m->ngroups; k++)
			if (m->gst[k] == G_UNSENT || m->gst[k] == G_SENT)
				return 1;
		decide(in, e);
		return 1;
	}
	/* A re-send refused for good: its recipients fail (and bounce). */
	if (status != 0 && perm_refusal(status)) {
		struct smtp_srv_verdict v;

		refusal_reply(status, &v);
		for (uint32_t k = 0; k < e->nrcpt; k++) {
			if (m->grp_of[k] != g || e->rcpt[k].state != SP_PENDING)
				continue;
			e->rcpt[k].state = SP_FAILED;
			e->rcpt[k].code = (uint16_t)v.code;
			snprintf(e->rcpt[k].text, sizeof(e->rcpt[k].text), "%s %s", v.enh, v.text);
			in->st.rcpts_failed++;
		}
		if (sp_commit(in->sp, e) < 0)
			in->st.spool_errors++;
		check_done(in, e);
	}
	return 1;
}

void gs_ingress_on_receipt(struct gs_ingress *in, uint32_t origin, const void *msg, size_t len)
{
	static struct mailmsg_rcpt_view rv[MAILMSG_RCPTS_MAX];
	struct mailmsg_receipt_view v;
	char prefix[16];
	unsigned long long sid;
	unsigned g;
	struct sp_entry *e;
	struct in_mail *m;
	bool changed = false;
	size_t pl;
	char idbuf[MAILMSG_ID_MAX + 1], *end;

	(void)origin;
	in->dirty = true;
	if (mailmsg_decode_receipt(msg, len, &v, rv, MAILMSG_RCPTS_MAX) < 0) {
		in->st.receipts_bad++;
		return;
	}
	in->st.receipts++;
	pl = (size_t)snprintf(prefix, sizeof(prefix), "%" PRIu32 ".", in->g->o.id);
	memcpy(idbuf, v.id.p, v.id.len);
	idbuf[v.id.len] = 0;
	if (v.id.len < pl + 18 || memcmp(idbuf, prefix, pl) || idbuf[pl + 16] != '.') {
		in->st.receipts_unknown++;
		return;
	}
	errno = 0;
	sid = strtoull(idbuf + pl, &end, 16);
	if (errno || end != idbuf + pl + 16) {
		in->st.receipts_unknown++;
		return;
	}
	g = (unsigned)strtoul(idbuf + pl + 17, &end, 10);
	e = sp_find(in->sp, sid);
	if (*end || !e || !(m = e->user) || g >= m->ngroups) {
		/* Done already (a receipt sent again), or never ours. */
		in->st.receipts_unknown++;
		return;
	}
	if (v.status == MAILMSG_DEFERRED)
		return; /* not final: the egress keeps trying */
	for (unsigned k = 0; k < v.nrcpt; k++) {
		for (uint32_t i = 0; i < e->nrcpt; i++) {
			struct sp_rcpt *r = &e->rcpt[i];

			if (m->grp_of[i] != g || r->state != SP_PENDING ||
			    strlen(r->addr) != v.rcpt[k].addr.len ||
			    memcmp(r->addr, v.rcpt[k].addr.p, v.rcpt[k].addr.len))
				continue;
			if (v.rcpt[k].code >= 200 && v.rcpt[k].code < 300) {
				r->state = SP_DELIVERED;
				in->st.rcpts_delivered++;
			} else if (v.rcpt[k].code >= 500) {
				r->state = SP_FAILED;
				in->st.rcpts_failed++;
			} else {
				continue;
			}
			r->code = (uint16_t)v.rcpt[k].code;
			mailmsg_clean_text(r->text, sizeof(r->text), v.rcpt[k].text.p,
					   v.rcpt[k].text.len);
			changed = true;
		}
	}
	if (!changed)
		return;
	if (sp_commit(in->sp, e) < 0)
		in->st.spool_errors++;
	check_done(in, e);
}

/* ---- a mail from a session ---- */

void in_mail_take(struct in_sess *s)
{
	struct gs_ingress *in = s->in;
	const struct smtp_srv_mail *mm = smtp_srv_mail(s->srv);
	char id[64], trace[MAILMSG_RECEIVED_MAX];
	struct sp_entry *e;
	struct in_mail *m;
	uint8_t *body, *full;
	size_t blen;
	int tl, ret;

	in->st.mails++;
	in->dirty = true;
	if (in->shutting_down) {
		smtp_srv_mail_reply(s->srv, &(struct smtp_srv_verdict){ 421, "4.3.2",
			"Service shutting down, try again later" });
		return;
	}
	in_mail_id(in, sp_peek_id(in->sp), id, sizeof(id));
	tl = mailmsg_received(trace, sizeof(trace), mm->helo, mm->esmtp, s->ip, in->g->o.name,
			      id, (int64_t)gs_wall_s());
	body = smtp_srv_take_body(s->srv, &blen);
	full = tl > 0 ? malloc((size_t)tl + blen + 1) : NULL;
	if (!full) {
		free(body);
		smtp_srv_mail_reply(s->srv, &(struct smtp_srv_verdict){ 451, "4.3.0",
			"Local error in processing" });
		in->st.refused_tmp++;
		return;
	}
	memcpy(full, trace, (size_t)tl);
	if (blen)
		memcpy(full + tl, body, blen);
	free(body);
	blen += (size_t)tl;
	ret = sp_put(in->sp, 0, NULL, mm->from, mm->rcpts, mm->nrcpt, full, blen, &e);
	if (ret < 0) {
		free(full);
		if (ret == -ENOSPC) {
			in->st.spool_full++;
			smtp_srv_mail_reply(s->srv, &(struct smtp_srv_verdict){ 452, "4.3.1",
				"Insufficient system storage" });
		} else {
			in->st.spool_errors++;
			smtp_srv_mail_reply(s->srv, &(struct smtp_srv_verdict){ 451, "4.3.0",
				"Queue file write error" });
		}
		in->st.refused_tmp++;
		return;
	}
	m = mail_new(e);
	if (!m) {
		free(full);
		sp_remove(in->sp, e);
		smtp_srv_mail_reply(s->srv, &(struct smtp_srv_verdict){ 451, "4.3.0",
			"Local error in processing" });
		in->st.refused_tmp++;
		return;
	}
	m->answering = true;
	m->body = full;
	m->body_len = blen;
	m->sess = s;
	m->reply_deadline = gs_now_ms() + (uint64_t)in->g->o.reply_s * 1000u;
	s->waiting = e;
	send_groups(in, e, false);
	for (uint32_t g = 0; g < m->ngroups; g++)
		if (m->gst[g] == G_UNSENT || m->gst[g] == G_SENT)
			return;
	decide(in, e);
}

/* ---- timers ---- */

int gs_ingress_tick(struct gs_loop *l, uint64_t now, void *arg)
{
	struct gs_ingress *in = arg;
	struct in_sess *s, *next;
	uint64_t wait = UINT64_MAX;

	(void)l;
	for (s = in->sessions; s; s = next) {
		next = s->next;
		if (s->kick) {
			s->kick = false;
			in_sess_run(s);
			continue;
		}
		if (!s->waiting && now >= s->idle_deadline) {
			smtp_srv_timeout(s->srv);
			in_sess_run(s);
			continue;
		}
		if (!s->waiting && s->idle_deadline - now < wait)
			wait = s->idle_deadline - now;
	}
	if (!in->dirty && now < in->scan_at)
		return (int)(in->scan_at - now < wait ? in->scan_at - now : wait);
	in->dirty = false;
	for (uint32_t i = 0; i < sp_count(in->sp); i++) {
		struct sp_entry *e = sp_at(in->sp, i);
		struct in_mail *m = e->user;
		uint64_t before = sp_count(in->sp);

		if (!m)
			continue;
		if (m->answering) {
			bool unsent = false;

			for (uint32_t g = 0; g < m->ngroups; g++)
				unsent |= m->gst[g] == G_UNSENT;
			if (unsent && now < m->reply_deadline)
				send_groups(in, e, false);
			unsent = false;
			for (uint32_t g = 0; g < m->ngroups; g++)
				unsent |= m->gst[g] == G_UNSENT;
			if (unsent && now >= m->reply_deadline) {
				/* gwart did not take it in time: what is unsent is
				 * refused, temporarily. */
				in->st.timeouts_reply++;
				for (uint32_t g = 0; g < m->ngroups; g++)
					if (m->gst[g] == G_UNSENT) {
						m->gst[g] = G_REFUSED;
						m->gstatus[g] = -ETIMEDOUT;
					}
				bool sent = false;

				for (uint32_t g = 0; g < m->ngroups; g++)
					sent |= m->gst[g] == G_SENT;
				if (!sent)
					decide(in, e);
			} else if (unsent && m->reply_deadline - now < wait) {
				wait = 10; /* the SDK's window: retry soon */
			}
			if (sp_count(in->sp) != before)
				i--;
			continue;
		}
		if (m->bounce)
			continue;
		if (now >= e->due_ms) {
			uint64_t age_s = gs_age_s(e->created_us);

			if (!sp_entry_final(e, 0) && age_s >= in->g->o.max_queue_s) {
				/* Given up: no receipt in --max-queue-s. */
				for (uint32_t k = 0; k < e->nrcpt; k++)
					if (e->rcpt[k].state == SP_PENDING) {
						e->rcpt[k].state = SP_FAILED;
						e->rcpt[k].code = 451;
						snprintf(e->rcpt[k].text, sizeof(e->rcpt[k].text),
							 "4.4.7 Delivery time expired: no receipt "
							 "through gwart");
						in->st.expired++;
					}
				if (sp_commit(in->sp, e) < 0)
					in->st.spool_errors++;
			}
			if (!sp_entry_final(e, 0)) {
				/* No session (yet: at start-up) or no room: soon
				 * again, without counting an attempt. */
				if (send_groups(in, e, true) < 0)
					e->due_ms = now + 1000;
				else
					e->due_ms = now + gs_retry_ms(in->g, e->attempts++) +
						    (uint64_t)in->g->o.resend_s * 1000u;
			} else {
				e->due_ms = now + 1000;
				check_done(in, e);
				if (sp_count(in->sp) != before) {
					i--;
					continue;
				}
			}
		}
		if (e->due_ms > now && e->due_ms - now < wait)
			wait = e->due_ms - now;
	}
	if (wait > 60000)
		wait = 60000;
	in->scan_at = now + (wait < SCAN_MS ? wait : SCAN_MS);
	return (int)wait;
}

/* ---- set-up ---- */

int gs_ingress_open(struct gs_ctx *g, struct gs_ingress **out)
{
	struct gs_ingress *in = calloc(1, sizeof(*in));
	struct sp_cfg sc = { g->o.spool_entries, g->o.spool_bytes };
	char dir[4096];
	uint64_t now = gs_now_ms();
	int ret;

	if (!in)
		return -ENOMEM;
	in->g = g;
	in->lfd = -1;
	if (g->o.bounce_relay) {
		if (gs_addr_parse(g->o.bounce_relay, &in->bounce_sa, &in->bounce_salen) < 0) {
			gs_log("--bounce-relay %s: not ADDR:PORT", g->o.bounce_relay);
			free(in);
			return -EINVAL;
		}
		in->have_bounce = true;
	}
	snprintf(dir, sizeof(dir), "%s/ingress", g->o.spool);
	ret = sp_open(dir, &sc, &in->sp);
	if (ret < 0) {
		gs_log("ingress spool %s: %s", dir, strerror(-ret));
		free(in);
		return ret;
	}
	/* What the spool holds: sent again if its sender was told 250,
	 * removed if not (the sender still has it and will send it again). */
	for (uint32_t i = 0; i < sp_count(in->sp);) {
		struct sp_entry *e = sp_at(in->sp, i);

		if (!(e->dflags & SP_F_ACCEPTED)) {
			in->st.unanswered_removed++;
			sp_remove(in->sp, e);
			continue;
		}
		if (!mail_new(e)) {
			ret = -ENOMEM;
			goto fail;
		}
		e->due_ms = now;
		i++;
	}
	in->lfd = in_listen(g->o.listen);
	if (in->lfd < 0) {
		ret = in->lfd;
		gs_log("--listen %s: %s", g->o.listen, strerror(-ret));
		goto fail;
	}
	ret = gs_loop_add(g->loop, in->lfd, POLLIN, in_on_accept, in);
	if (ret < 0)
		goto fail;
	gs_ingress_self = in;
	*out = in;
	return 0;
fail:
	gs_ingress_close(in);
	return ret;
}

void gs_ingress_close(struct gs_ingress *in)
{
	if (!in)
		return;
	while (in->sessions)
		in_sess_close(in->sessions);
	for (uint32_t i = 0; in->sp && i < sp_count(in->sp); i++)
		mail_free(sp_at(in->sp, i));
	if (in->lfd >= 0) {
		gs_loop_del(in->g->loop, in->lfd);
		close(in->lfd);
	}
	sp_close(in->sp);
	free(in->pend);
	if (gs_ingress_self == in)
		gs_ingress_self = NULL;
	free(in);
}

#define IN_STATS(X) \
	X(sessions) X(sessions_refused) X(mails) X(accepted) X(refused_tmp) X(refused_perm) \
	X(spool_full) X(spool_errors) X(replies_lost) X(unanswered_removed) X(sends) \
	X(resends) X(send_deferred) X(results_ok) X(results_refused) X(receipts) \
	X(receipts_bad) X(receipts_unknown) X(rcpts_delivered) X(rcpts_failed) X(completed) \
	X(expired) X(bounces) X(bounce_retries) X(bounces_null_sender) X(bounces_no_relay) \
	X(bounces_failed) X(timeouts_reply)

void gs_ingress_report(const struct gs_ingress *in, FILE *f, bool json)
{
	struct sp_stats ss;
	const char *sep = "";

	sp_get_stats(in->sp, &ss);
	if (json) {
		fprintf(f, "\"ingress\": {");
#define X(n) fprintf(f, "%s\"%s\": %" PRIu64, sep, #n, in->st.n), sep = ", ";
		IN_STATS(X)
#undef X
		fprintf(f, ", \"spool_entries\": %" PRIu64 ", \"spool_bytes\": %" PRIu64
			", \"spool_refused_entries\": %" PRIu64 ", \"spool_refused_bytes\": %" PRIu64
			", \"spool_damaged\": %" PRIu64 ", \"spool_state_damaged\": %" PRIu64
			", \"spool_write_errors\": %" PRIu64 ", \"spool_loaded\": %" PRIu64 "}",
			ss.entries, ss.bytes, ss.refused_entries, ss.refused_bytes, ss.damaged,
			ss.state_damaged, ss.write_errors, ss.loaded);
		return;
	}
	fprintf(f, "ingress:");
#define X(n) fprintf(f, " %s=%" PRIu64, #n, in->st.n);
	IN_STATS(X)
#undef X
	fprintf(f, " spool_entries=%" PRIu64 " spool_bytes=%" PRIu64 " spool_damaged=%" PRIu64,
		ss.entries, ss.bytes, ss.damaged);
}
