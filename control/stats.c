/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Statistics: the one-line summary gwartd prints, the JSON object that the
 * stats file and gwartctl's "stats" share, and the gauges (open fds,
 * custody, sessions) that must return to their baseline.
 */
#include <dirent.h>
#include <errno.h>

#include <rte_mempool.h>

#include <jansson.h>

#include "conn.h"
#include "capture.h"
#include "cp.h"
#include "router_api.h"

/* Open file descriptors of this process (/proc/self/fd). */
static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (d == NULL)
		return 0;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	/* ".", ".." and the descriptor opendir() itself holds. */
	return n >= 3 ? n - 3 : 0;
}

uint64_t cp_custody_total(struct cp_ctx *cp)
{
	return dp_conn_custody_total(cp->rt);
}

unsigned cp_sessions_up(const struct cp_ctx *cp)
{
	return cp_sessions_up_now(&cp->sess);
}

/* ---- statistics ------------------------------------------------------------ */

void cp_stats_print(struct cp_ctx *cp, FILE *f)
{
	struct dp_worker_stats s;
	uint32_t id;
	unsigned i;

	dp_router_stats(cp->rt, &s);
	fprintf(f,
		"gwartd: rx_pkts=%lu data=%lu routed=%lu acks=%lu nacks=%lu dups_suppressed=%lu "
		"tx_data=%lu retransmits=%lu delivered=%lu steered=%lu handoffs=%lu arp=%lu "
		"icmp=%lu sessions_up=%lu\n",
		s.rx_pkts, s.rx_data, s.routed, s.acks_sent, s.nacks_sent, s.dups, s.tx_data,
		s.retransmits, s.delivered, s.steered, s.handoffs, s.arp_replies, s.icmp_replies,
		cp->sess.ups);
	for (i = 0; i < DP_DROP_COUNT; i++)
		if (s.drops[i] != 0)
			fprintf(f, "gwartd: drop %-20s %lu  (%s)\n", dp_drop_name(i), s.drops[i],
				dp_drop_str(i));
	/* The control thread's refusals of session frames (the workers' are
	 * the drops above). */
	fprintf(f,
		"gwartd: control hellos=%lu welcomes=%lu hello_unknown=%lu hello_auth_failed=%lu "
		"hello_replayed=%lu refused=%lu keepalives=%lu auth_failed=%lu replayed=%lu "
		"stale_epoch=%lu sessions_moved=%lu probes=%lu\n",
		cp->stats.hellos, cp->stats.welcomes, cp->stats.hello_unknown,
		cp->stats.hello_auth_failed, cp->stats.hello_replayed, cp->stats.refused,
		cp->stats.keepalives, cp->stats.auth_failed, cp->stats.replayed,
		cp->stats.stale_epoch, cp->stats.sessions_moved, cp->stats.probes);
	for (id = dp_conn_next(cp->rt, 0); id != 0; id = dp_conn_next(cp->rt, id)) {
		const struct dp_conn *c = dp_conn_peek(cp->rt, id);
		struct dp_conn_snap snap;
		const struct dp_conn_stats *cs = &snap.stats;

		if (c == NULL || dp_conn_snapshot(cp->rt, id, &snap) != 0)
			continue;
		fprintf(f,
			"gwartd: connector %u %-12s %s epoch=%u rx=%lu routed=%lu dups=%lu "
			"nacked=%lu tx=%lu retx=%lu delivered=%lu custody=%u\n",
			id, c->name, c->up ? "up  " : "down", c->epoch, cs->rx_data, cs->routed,
			cs->dups, cs->nacked, cs->tx_data, cs->retransmits, cs->delivered,
			snap.held);
	}
}

/* Every counter as one JSON object: the stats file and the control API's
 * "stats" command (control/api.c) share it. NULL when out of memory. */
json_t *cp_stats_json(struct cp_ctx *cp)
{
	struct dp_worker_stats s;
	json_t *root, *drops, *conns, *ctl, *workers;
	uint32_t id;
	unsigned i;

	dp_router_stats(cp->rt, &s);
	root = json_object();
	drops = json_object();
	conns = json_array();
	ctl = json_object();
	workers = json_array();
	if (root == NULL || drops == NULL || conns == NULL || ctl == NULL || workers == NULL)
		goto fail;
#define J(obj, k, v) json_object_set_new(obj, k, json_integer((json_int_t)(v)))
	J(root, "rx_pkts", s.rx_pkts);
	J(root, "rx_frames", s.rx_frames);
	J(root, "rx_data", s.rx_data);
	J(root, "routed", s.routed);
	J(root, "acks_sent", s.acks_sent);
	J(root, "nacks_sent", s.nacks_sent);
	J(root, "dups_suppressed", s.dups);
	J(root, "tx_data", s.tx_data);
	J(root, "retransmits", s.retransmits);
	J(root, "delivered", s.delivered);
	J(root, "acks_ignored", s.acks_ignored);
	J(root, "steered", s.steered);
	J(root, "handoffs", s.handoffs);
	J(root, "moved", s.moved);
	J(root, "failover_too_big", s.failover_too_big);
	J(root, "groups_started", s.groups_started);
	J(root, "groups_done", s.groups_done);
	J(root, "groups_expired", s.groups_expired);
	J(root, "groups_moved", s.groups_moved);
	J(root, "failover_group_kept", s.failover_group_kept);
	J(root, "arp_replies", s.arp_replies);
	J(root, "icmp_replies", s.icmp_replies);
	J(root, "ctl_frames", s.ctl_frames);
	J(root, "ctl_hs_frames", s.ctl_hs_frames);
	/* Gauges that must return to their baseline (a leak shows as drift): sessions,
	 * mbufs in use, open file descriptors. */
	J(root, "sessions_up_now", cp->sess.ups - cp->sess.downs);
	J(root, "mempool_in_use", rte_mempool_in_use_count(cp->rt->pool));
	J(root, "custody_total", cp_custody_total(cp));
	J(root, "custody_bytes_total", dp_conn_custody_bytes_total(cp->rt));
	J(root, "open_fds", count_fds());
	for (i = 0; i < DP_DROP_COUNT; i++)
		J(drops, dp_drop_name(i), s.drops[i]);
	{
		json_t *stages = json_object();

		for (i = 0; i < DP_STAGE_COUNT; i++)
			J(stages, dp_stage_name(i), s.stage_cycles[i]);
		json_object_set_new(root, "stage_cycles", stages);
		J(root, "busy_cycles", s.busy_cycles);
		{
			json_t *res = json_object();
			double ns = 1e9 / (double)cp->rt->tsc_hz;
			uint64_t n;

			J(res, "p50", (double)dp_hist_quantile(s.residence, 0.50, &n) * ns);
			J(res, "p99", (double)dp_hist_quantile(s.residence, 0.99, NULL) * ns);
			J(res, "p999", (double)dp_hist_quantile(s.residence, 0.999, NULL) * ns);
			J(res, "max", (double)dp_hist_quantile(s.residence, 1.0, NULL) * ns);
			J(res, "count", n);
			json_object_set_new(root, "residence_ns", res);
		}
		{
			/* The raw residence histogram, for Prometheus (metrics_text.c):
			 * [upper, count] per non-empty dp_hist bucket, ascending, upper
			 * being the bucket's largest value in TSC cycles (tsc_hz). */
			json_t *b = json_array();

			for (i = 0; b != NULL && i < DP_HIST_BUCKETS; i++)
				if (s.residence[i] != 0)
					json_array_append_new(
						b, json_pack("[II]", (json_int_t)dp_hist_upper(i),
							     (json_int_t)s.residence[i]));
			json_object_set_new(root, "residence_buckets", b);
		}
		J(root, "loops", s.loops);
		J(root, "busy_loops", s.busy_loops);
	}
	/* Per worker: what top, telemetry and metrics show by worker. */
	for (i = 0; i < cp->rt->n_workers; i++) {
		struct dp_worker_stats w;
		unsigned lcore, r;
		uint64_t dropped = 0;
		json_t *o = json_object();

		if (o == NULL || dp_router_worker_stats(cp->rt, i, &w, &lcore) != 0) {
			json_decref(o);
			goto fail;
		}
		for (r = 0; r < DP_DROP_COUNT; r++)
			dropped += w.drops[r];
		J(o, "worker", i);
		J(o, "lcore", lcore);
		J(o, "rx_pkts", w.rx_pkts);
		J(o, "rx_data", w.rx_data);
		J(o, "routed", w.routed);
		J(o, "tx_data", w.tx_data);
		J(o, "retransmits", w.retransmits);
		J(o, "delivered", w.delivered);
		J(o, "dropped", dropped);
		J(o, "loops", w.loops);
		J(o, "busy_loops", w.busy_loops);
		J(o, "busy_cycles", w.busy_cycles);
		J(o, "capture_dropped", w.capture_dropped);
		json_array_append_new(workers, o);
	}
	J(root, "tsc_hz", cp->rt->tsc_hz);
	/* Packet capture: frames and bytes written, frames missed (capture.c). */
	json_object_set_new(root, "capture", cp_capture_stats_json(cp));
	J(ctl, "hellos", cp->stats.hellos);
	J(ctl, "welcomes", cp->stats.welcomes);
	J(ctl, "keepalives", cp->stats.keepalives);
	J(ctl, "byes", cp->stats.byes);
	J(ctl, "byes_repeated", cp->stats.byes_repeated);
	J(ctl, "unknown_conn", cp->stats.unknown_conn);
	J(ctl, "hello_unknown", cp->stats.hello_unknown);
	J(ctl, "hello_auth_failed", cp->stats.hello_auth_failed);
	J(ctl, "hello_replayed", cp->stats.hello_replayed);
	J(ctl, "hello_addr_refused", cp->stats.hello_addr_refused);
	J(ctl, "auth_failed", cp->stats.auth_failed);
	J(ctl, "replayed", cp->stats.replayed);
	J(ctl, "sessions_moved", cp->stats.sessions_moved);
	J(ctl, "byes_sent", cp->stats.byes_sent);
	J(ctl, "stale_epoch", cp->stats.stale_epoch);
	J(ctl, "refused", cp->stats.refused);
	J(ctl, "bad_frames", cp->stats.bad_frames);
	J(ctl, "tx_failed", cp->stats.tx_failed);
	J(ctl, "sessions_up", cp->sess.ups);
	J(ctl, "sessions_down", cp->sess.downs);
	J(ctl, "probes", cp->stats.probes);
	J(ctl, "deleted_in_custody", cp->stats.deleted_in_custody);
	J(ctl, "reloads", cp->stats.reloads);
	J(ctl, "reloads_refused", cp->stats.reloads_refused);
	J(ctl, "tunables_refused", cp->stats.tunables_refused);
	/* Rate-limited log lines (logwatch.c, session.c): written, refused. */
	J(ctl, "log_drop_lines", cp->logwatch.lines);
	J(ctl, "log_drop_suppressed", cp->logwatch.suppressed);
	J(ctl, "log_flap_suppressed", cp->sess.log_suppressed);
	{
		const struct cp_tel_stats *t = &cp->tel_stats;
		json_t *tel = json_object();

		if (tel == NULL)
			goto fail;
#define JA(k) J(tel, #k, __atomic_load_n(&t->k, __ATOMIC_RELAXED))
		JA(requests);
		JA(answered);
		JA(timeouts);
		JA(refused);
		JA(truncated);
		JA(errors);
#undef JA
		json_object_set_new(root, "telemetry", tel);
	}
	for (id = dp_conn_next(cp->rt, 0); id != 0; id = dp_conn_next(cp->rt, id)) {
		const struct dp_conn *c = dp_conn_peek(cp->rt, id);
		struct dp_conn_snap snap;
		const struct dp_conn_stats *cs = &snap.stats;
		json_t *o;

		if (c == NULL || dp_conn_snapshot(cp->rt, id, &snap) != 0)
			continue;
		o = json_object();
		if (o == NULL)
			goto fail;
		J(o, "id", id);
		json_object_set_new(o, "name", json_string(c->name));
		json_object_set_new(o, "up", json_boolean(c->up));
		J(o, "epoch", c->epoch);
		J(o, "rx_data", cs->rx_data);
		J(o, "routed", cs->routed);
		J(o, "dups", cs->dups);
		J(o, "nacked", cs->nacked);
		J(o, "tx_data", cs->tx_data);
		J(o, "retransmits", cs->retransmits);
		J(o, "delivered", cs->delivered);
		J(o, "moved", cs->moved);
		J(o, "custody", snap.held);
		J(o, "custody_bytes", snap.bytes);
		if (cp->auth[id] != NULL) {
			const struct cp_auth_stats *st = &cp->auth[id]->st;
			char hex[CP_KEY_ID_HEX];

			/* The fingerprint only: keys are never printed. */
			cp_key_id_hex(cp->auth[id]->key_id, hex);
			json_object_set_new(o, "key", json_string("set"));
			json_object_set_new(o, "key_id", json_string(hex));
			J(o, "hello_auth_failed", st->hello_auth_failed);
			J(o, "hello_replayed", st->hello_replayed);
			J(o, "hello_addr_refused", st->hello_addr_refused);
			J(o, "auth_failed", st->auth_failed);
			J(o, "replayed", st->replayed);
			J(o, "stale", st->stale);
			J(o, "sessions_moved", st->sessions_moved);
		}
		json_array_append_new(conns, o);
	}
#undef J
	json_object_set_new(root, "drops", drops);
	json_object_set_new(root, "control", ctl);
	json_object_set_new(root, "connectors", conns);
	json_object_set_new(root, "workers", workers);
	return root;
fail:
	json_decref(workers);
	json_decref(drops);
	json_decref(conns);
	json_decref(ctl);
	json_decref(root);
	return NULL;
}

int cp_stats_write_json(struct cp_ctx *cp, const char *path)
{
	json_t *root = cp_stats_json(cp);
	int rc;

	if (root == NULL)
		return -ENOMEM;
	rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? 0 : -EIO;
	json_decref(root);
	return rc;
}
