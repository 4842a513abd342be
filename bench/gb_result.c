/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Results: the SUMMARY line (liburcu benchmark habit: one greppable line
 * per run) and the JSON file that bench/report.py turns into the report.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "gb.h"

void gb_result_init(struct gb_result *r, const char *scenario)
{
	memset(r, 0, sizeof(*r));
	r->scenario = scenario;
	r->busy_method = "none";
	r->mem_per_route = -1;
	r->mem_per_conn = -1;
	gb_hist_reset(&r->lat);
}

static double us(const struct gb_result *r, uint64_t cyc)
{
	return r->tsc_hz > 0 ? (double)cyc * 1e6 / r->tsc_hz : 0;
}

void gb_result_summary(const struct gb_opts *o, const struct gb_result *r, FILE *f)
{
	if (strcmp(r->scenario, "inproc") == 0 || strcmp(r->scenario, "memif") == 0 ||
	    strcmp(r->scenario, "echo") == 0)
		fprintf(f,
			"harness-bound: %s (workers idle %.1f %% of the measured window, busy %.1f "
			"cycles/msg%s)\n",
			r->harness_bound ? "yes" : "no", 100.0 * r->idle_frac, r->busy_cyc_per_msg,
			r->busy_cyc_per_msg > 0 ? "" : "; the workers' busy cycles were not visible");
	fprintf(f,
		"SUMMARY scenario=%s label=%s workers=%u origins=%u dests=%u routes=%u "
		"payload=%u pop=%s drop=%g dup=%g rate=%.0f msg/s per_worker_core=%.0f "
		"busy_cyc_per_msg=%.1f harness_cyc_per_msg=%.1f harness_cpu_cyc_per_msg=%.1f user_cyc_per_msg=%.1f cpu_cyc_per_msg=%.1f p50_us=%.2f "
		"p99_us=%.2f "
		"p999_us=%.2f max_us=%.2f res_p50_us=%.2f res_p99_us=%.2f res_p999_us=%.2f "
		"res_max_us=%.2f acked=%lu delivered=%lu lost=%lu dup_delivered=%lu "
		"harness_bound=%s ok=%d%s%s\n",
		r->scenario, o->label ? o->label : "-", r->workers, o->origins, o->dests, o->routes,
		o->payload, o->pop == GB_POP_ZIPF ? "zipf" : "uniform", o->drop, o->dup, r->rate,
		r->rate_per_worker_cpu, r->busy_cyc_per_msg, r->harness_cyc_per_msg,
		r->harness_cpu_cyc_per_msg, r->cyc_per_msg_user,
		r->cyc_per_msg_cpu, us(r, gb_hist_quantile(&r->lat, 0.5)),
		us(r, gb_hist_quantile(&r->lat, 0.99)), us(r, gb_hist_quantile(&r->lat, 0.999)),
		us(r, r->lat.count ? r->lat.max : 0), r->res_p50_us, r->res_p99_us, r->res_p999_us,
		r->res_max_us, r->ver.expected, r->ver.delivered,
		r->ver.lost, r->ep.dup_delivered, r->harness_bound ? "yes" : "no", r->ok ? 1 : 0,
		r->ok ? "" : " why=", r->ok ? "" : r->why);
}

#define JI(obj, k, v) json_object_set_new(obj, k, json_integer((json_int_t)(v)))
#define JR(obj, k, v) json_object_set_new(obj, k, json_real((double)(v)))
#define JS(obj, k, v) json_object_set_new(obj, k, json_string(v))

static json_t *params_json(const struct gb_opts *o)
{
	json_t *p = json_object();

	JS(p, "scenario", o->scenario);
	JS(p, "label", o->label ? o->label : "");
	JI(p, "workers", o->workers);
	JI(p, "origins", o->origins);
	JI(p, "dests", o->dests);
	JI(p, "gen_threads", o->gen_threads);
	JI(p, "sink_threads", o->sink_threads);
	JI(p, "routes", o->routes);
	JI(p, "payload", o->payload);
	JS(p, "popularity", o->pop == GB_POP_ZIPF ? "zipf" : "uniform");
	JR(p, "zipf_s", o->zipf_s);
	JR(p, "duration_s", o->duration_s);
	JI(p, "rate_limit", o->rate);
	JR(p, "fault_drop", o->drop);
	JR(p, "fault_dup", o->dup);
	JI(p, "seed", o->seed);
	JI(p, "stage_stats", o->stage_stats);
	JI(p, "rx_window", o->rx_window);
	JI(p, "custody_limit", o->custody_limit);
	JI(p, "udp_csum", o->udp_csum);
	JI(p, "no_auth", o->no_auth);
	JI(p, "sink_verify", o->sink_verify);
	JS(p, "pool_ops", o->pool_ops ? o->pool_ops : "default");
	JI(p, "float_cpus", o->float_cpus);
	JS(p, "cpus_harness", o->cpus_harness ? o->cpus_harness : "");
	JS(p, "cpus_workers", o->cpus_workers ? o->cpus_workers : "");
	return p;
}

static json_t *latency_json(const struct gb_result *r)
{
	const struct gb_hist *h = &r->lat;
	json_t *l = json_object(), *cdf = json_array();
	uint64_t acc = 0;
	unsigned i;

	JI(l, "count", h->count);
	JR(l, "mean_us", us(r, (uint64_t)gb_hist_mean(h)));
	JR(l, "p50_us", us(r, gb_hist_quantile(h, 0.5)));
	JR(l, "p90_us", us(r, gb_hist_quantile(h, 0.9)));
	JR(l, "p99_us", us(r, gb_hist_quantile(h, 0.99)));
	JR(l, "p999_us", us(r, gb_hist_quantile(h, 0.999)));
	JR(l, "max_us", us(r, h->count ? h->max : 0));
	JR(l, "min_us", us(r, h->count ? h->min : 0));
	{
		json_t *res = json_object();

		JI(res, "count", r->res_count);
		JR(res, "p50_us", r->res_p50_us);
		JR(res, "p99_us", r->res_p99_us);
		JR(res, "p999_us", r->res_p999_us);
		JR(res, "max_us", r->res_max_us);
		json_object_set_new(l, "router_residence", res);
	}
	for (i = 0; i < GB_HIST_BUCKETS && h->count; i++) {
		json_t *pt;

		if (h->b[i] == 0)
			continue;
		acc += h->b[i];
		pt = json_array();
		json_array_append_new(pt, json_real(us(r, dp_hist_upper_sub(i, GB_HIST_SUB_BITS))));
		json_array_append_new(pt, json_real((double)acc / (double)h->count));
		json_array_append_new(cdf, pt);
	}
	json_object_set_new(l, "cdf", cdf);
	return l;
}

int gb_result_write_json(const struct gb_opts *o, const struct gb_result *r, const char *path)
{
	json_t *root = json_object(), *res = json_object(), *ep = json_object();
	json_t *rt = json_object(), *st = json_object(), *ver = json_object();
	unsigned i;
	int rc;

	JS(root, "tool", "gwart-bench");
	json_object_set_new(root, "params", params_json(o));
	JI(res, "ok", r->ok);
	JI(res, "inconclusive", r->inconclusive);
	JS(res, "why", r->why);
	JR(res, "tsc_hz", r->tsc_hz);
	JR(res, "wall_s", r->wall_s);
	JI(res, "messages", r->messages);
	JR(res, "rate_msg_s", r->rate);
	JI(res, "workers", r->workers);
	JR(res, "worker_cpu_s", r->worker_cpu_s);
	JR(res, "rate_per_worker_core", r->rate_per_worker_cpu);
	JR(res, "cpu_cycles_per_msg", r->cyc_per_msg_cpu);
	JR(res, "user_cycles_per_msg", r->cyc_per_msg_user);
	JR(res, "worker_user_s", r->worker_user_s);
	JR(res, "busy_cycles_per_msg", r->busy_cyc_per_msg);
	JS(res, "busy_method", r->busy_method);
	JR(res, "busy_tsc_cycles_per_msg", r->busy_tsc_per_msg);
	JR(res, "busy_fraction", r->busy_frac);
	JR(res, "idle_fraction", r->idle_frac);
	json_object_set_new(res, "harness_bound", json_boolean(r->harness_bound));
	JR(res, "harness_cycles_per_msg", r->harness_cyc_per_msg);
	JR(res, "harness_cpu_cycles_per_msg", r->harness_cpu_cyc_per_msg);
	JR(res, "worker_cpu_share", r->worker_cpu_share);
	JR(res, "harness_cpu_share", r->harness_cpu_share);
	JR(res, "mem_per_route_bytes", r->mem_per_route);
	JR(res, "mem_per_connector_bytes", r->mem_per_conn);
	JR(res, "harness_mem_per_connector_bytes", r->harness_mem_per_conn);
	for (i = 0; i < r->n_stages; i++)
		JR(st, r->stage_name[i], r->stage_cyc_per_msg[i]);
	json_object_set_new(res, "stage_cycles_per_msg", st);
	{
		json_t *sf = json_object();

		for (i = 0; i < r->n_stages; i++)
			JR(sf, r->stage_name[i], r->stage_frac[i]);
		json_object_set_new(res, "stage_fractions", sf);
	}
	if (o->rate > 0) {
		/* Residence at a capped rate (the half-load run): the router's
		 * own histogram when the workers kept one (--stage-stats), else
		 * the harness's end-to-end histogram, which contains it. */
		bool router = r->res_count > 0;

		JS(res, "residence_source", router ? "router" : "end_to_end");
		JR(res, "residence_p50_us", router ? r->res_p50_us : us(r, gb_hist_quantile(&r->lat, 0.5)));
		JR(res, "residence_p99_us", router ? r->res_p99_us : us(r, gb_hist_quantile(&r->lat, 0.99)));
		JR(res, "residence_p999_us",
		   router ? r->res_p999_us : us(r, gb_hist_quantile(&r->lat, 0.999)));
		JR(res, "residence_max_us",
		   router ? r->res_max_us : us(r, r->lat.count ? r->lat.max : 0));
	}
	if (r->echo_rate > 0) {
		JI(res, "echo_disturbed", r->disturbed);
		JR(res, "echo_rate_msg_s", r->echo_rate);
		JR(res, "echo_busy_fraction", r->echo_busy_frac);
	}
	JI(ver, "acknowledged", r->ver.expected);
	JI(ver, "delivered", r->ver.delivered);
	JI(ver, "lost", r->ver.lost);
	JI(ver, "delivered_unacknowledged", r->ver.unexpected);
	JI(ver, "duplicates_delivered", r->ep.dup_delivered);
	JI(ver, "misrouted", r->ep.misrouted);
	JI(ver, "corrupt", r->ep.corrupt);
	JI(ver, "unresolved", r->ep.unresolved);
	json_object_set_new(res, "verify", ver);
	JI(ep, "sent", r->ep.sent);
	JI(ep, "retransmits", r->ep.retransmits);
	JI(ep, "acked", r->ep.acked);
	JI(ep, "refused", r->ep.refused);
	JI(ep, "busy", r->ep.busy);
	JI(ep, "delivered", r->ep.delivered);
	JI(ep, "dup_frames", r->ep.dup_frames);
	JI(ep, "acks_sent", r->ep.acks_sent);
	JI(ep, "fault_drop", r->ep.fault_drop);
	JI(ep, "fault_dup", r->ep.fault_dup);
	JI(ep, "tx_full", r->ep.tx_full);
	JI(ep, "session_losses", r->ep.session_losses);
	JI(ep, "rx_auth_failed", r->ep.rx_auth_failed);
	JI(ep, "rx_replayed", r->ep.rx_replayed);
	json_object_set_new(res, "endpoints", ep);
	JI(rt, "rx_pkts", r->r_rx_pkts);
	JI(rt, "routed", r->r_routed);
	JI(rt, "tx_data", r->r_tx_data);
	JI(rt, "retransmits", r->r_retransmits);
	JI(rt, "dups_suppressed", r->r_dups);
	JI(rt, "handoffs", r->r_handoffs);
	JI(rt, "steered", r->r_steered);
	JI(rt, "drops", r->r_drops);
	JI(rt, "busy", r->r_busy);
	JI(rt, "tx_full", r->r_tx_full);
	json_object_set_new(res, "router", rt);
	json_object_set_new(res, "latency", latency_json(r));
	json_object_set_new(root, "result", res);
	rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_SORT_KEYS) == 0 ? 0 : -EIO;
	json_decref(root);
	return rc;
}
