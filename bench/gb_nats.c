/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-bench-nats: the NATS peer, driven with the libnats C client and the
 * same payload sizes as gwart's scenarios.
 *
 *   gwart-bench-nats --url nats://198.18.0.1:4222 --mode core|js --payload B
 *                    --duration S [--server-pid PID] [--dup P] [--json FILE]
 *
 *  core  one publisher connection, one subscriber connection (at-most-once):
 *        the rate is messages delivered to the subscriber per second;
 *  js    JetStream, in-memory stream, every message published with a unique
 *        Nats-Msg-Id (de-duplication window on), asynchronously with up to
 *        4096 outstanding: the rate is publish acknowledgements per second,
 *        the server's equivalent of gwart taking custody. With --dup P a
 *        fraction P of publishes repeats an earlier id; the stream must end
 *        with exactly the unique messages (the run fails otherwise).
 *
 * With --server-pid the server's CPU time (user + system) over the measured
 * interval gives messages per server CPU-second, comparable to gwart's
 * messages per worker core. One SUMMARY line; exit 0 when the invariant
 * holds (core: nothing lost beyond what the server reports as slow-consumer
 * drops is not checked: core NATS promises at most once).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "clock.h"

struct gn_opts {
	const char *url, *mode, *json, *label;
	int payload;
	double duration, warmup, dup;
	int server_pid;
};

static atomic_ulong g_rx, g_acks, g_dups, g_errs;

static double now_s(void)
{
	return (double)dp_clock_mono_ns() / 1e9;
}

/* user + system time of process @pid, seconds; 0 if unknown. */
static double proc_cpu_s(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	size_t n;
	FILE *f;
	int i;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	for (i = 2; i < 14 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu %llu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
	(void)nc;
	(void)sub;
	(void)closure;
	atomic_fetch_add_explicit(&g_rx, 1, memory_order_relaxed);
	natsMsg_Destroy(msg);
}

static void on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	(void)js;
	(void)closure;
	if (pa != NULL) {
		atomic_fetch_add_explicit(&g_acks, 1, memory_order_relaxed);
		if (pa->Duplicate)
			atomic_fetch_add_explicit(&g_dups, 1, memory_order_relaxed);
	} else if (pae != NULL) {
		atomic_fetch_add_explicit(&g_errs, 1, memory_order_relaxed);
	}
	natsMsg_Destroy(msg);
}

struct gn_result {
	unsigned long published, window_msgs, dup_sent, dup_acked, errors, stream_msgs;
	double window_s, rate, server_cpu_s, per_core;
	int ok;
	char why[128];
};

/* Figures, the SUMMARY line and the JSON file: called before teardown, so a
 * client library crash while closing cannot lose the result. */
static void emit(const struct gn_opts *o, struct gn_result *r)
{
	FILE *f;

	r->rate = r->window_s > 0 ? (double)r->window_msgs / r->window_s : 0;
	r->per_core = r->server_cpu_s > 0 ? (double)r->window_msgs / r->server_cpu_s : 0;
	printf("SUMMARY scenario=nats-%s label=%s payload=%d rate=%.0f msg/s "
	       "per_server_core=%.0f server_cpu_s=%.2f published=%lu dup_sent=%lu dup_acked=%lu "
	       "stream_msgs=%lu ok=%d%s%s\n",
	       o->mode, o->label, o->payload, r->rate, r->per_core, r->server_cpu_s, r->published,
	       r->dup_sent, r->dup_acked, r->stream_msgs, r->ok, r->ok ? "" : " why=", r->why);
	fflush(stdout);
	if (o->json != NULL && (f = fopen(o->json, "w")) != NULL) {
		fprintf(f,
			"{\"tool\": \"gwart-bench-nats\", \"params\": {\"scenario\": \"nats-%s\", "
			"\"payload\": %d, \"duration_s\": %g, \"dup\": %g, \"label\": \"%s\"}, "
			"\"result\": {\"ok\": %d, \"why\": \"%s\", \"rate_msg_s\": %.1f, "
			"\"rate_per_server_core\": %.1f, \"server_cpu_s\": %.3f, \"wall_s\": %.3f, "
			"\"messages\": %lu, \"published\": %lu, \"dup_sent\": %lu, "
			"\"dup_acked\": %lu, \"stream_msgs\": %lu}}\n",
			o->mode, o->payload, o->duration, o->dup, o->label, r->ok, r->why, r->rate,
			r->per_core, r->server_cpu_s, r->window_s, r->window_msgs, r->published,
			r->dup_sent, r->dup_acked, r->stream_msgs);
		fclose(f);
	}
}

static natsStatus run_core(const struct gn_opts *o, char *buf, struct gn_result *r)
{
	natsConnection *pub = NULL, *sub_nc = NULL;
	natsSubscription *sub = NULL;
	double t_end, t0 = 0, c0 = 0;
	unsigned long rx0 = 0;
	int measuring = 0;
	natsStatus s;

	s = natsConnection_ConnectTo(&sub_nc, o->url);
	if (s == NATS_OK)
		s = natsConnection_Subscribe(&sub, sub_nc, "gb.core", on_msg, NULL);
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(sub, 1 << 22, 1 << 30);
	if (s == NATS_OK)
		s = natsConnection_Flush(sub_nc);
	if (s == NATS_OK)
		s = natsConnection_ConnectTo(&pub, o->url);
	t_end = now_s() + o->warmup + o->duration;
	while (s == NATS_OK) {
		unsigned i;

		for (i = 0; i < 256 && s == NATS_OK; i++) {
			s = natsConnection_Publish(pub, "gb.core", buf, o->payload);
			r->published++;
		}
		if (!measuring && now_s() >= t_end - o->duration) {
			measuring = 1;
			t0 = now_s();
			rx0 = atomic_load(&g_rx);
			c0 = proc_cpu_s(o->server_pid);
		}
		if (now_s() >= t_end)
			break;
	}
	if (s == NATS_OK) {
		r->window_s = now_s() - t0;
		r->window_msgs = atomic_load(&g_rx) - rx0;
		r->server_cpu_s = proc_cpu_s(o->server_pid) - c0;
		s = natsConnection_FlushTimeout(pub, 10000);
	}
	r->ok = s == NATS_OK && r->window_msgs > 0;
	if (s != NATS_OK)
		snprintf(r->why, sizeof(r->why), "%s", natsStatus_GetText(s));
	emit(o, r);
	/* Stop deliveries before freeing what the callback thread uses. */
	if (sub != NULL)
		natsSubscription_Unsubscribe(sub);
	if (sub_nc != NULL)
		natsConnection_Close(sub_nc);
	if (pub != NULL)
		natsConnection_Close(pub);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(pub);
	natsConnection_Destroy(sub_nc);
	return s;
}

static natsStatus run_js(const struct gn_opts *o, char *buf, struct gn_result *r)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsOptions jo;
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode je = 0;
	const char *subjects[] = {"gb.js"};
	double t_end, t0 = 0, c0 = 0, u;
	unsigned long a0 = 0, next = 1, seed = 12345;
	int measuring = 0;
	natsStatus s;

	s = natsConnection_ConnectTo(&nc, o->url);
	if (s == NATS_OK) {
		jsOptions_Init(&jo);
		jo.PublishAsync.MaxPending = 4096;
		jo.PublishAsync.AckHandler = on_ack;
		s = natsConnection_JetStream(&js, nc, &jo);
	}
	if (s == NATS_OK) {
		jsStreamConfig_Init(&sc);
		sc.Name = "GBJS";
		sc.Subjects = subjects;
		sc.SubjectsLen = 1;
		sc.Storage = js_MemoryStorage;
		sc.Duplicates = (int64_t)120 * 1000000000; /* 2 min, ns */
		js_DeleteStream(js, "GBJS", NULL, NULL);
		s = js_AddStream(&si, js, &sc, NULL, &je);
		jsStreamInfo_Destroy(si);
		si = NULL;
	}
	t_end = now_s() + o->warmup + o->duration;
	while (s == NATS_OK) {
		unsigned i;

		for (i = 0; i < 64 && s == NATS_OK; i++) {
			jsPubOptions po;
			char id[32];
			unsigned long n = next;

			seed = seed * 6364136223846793005ul + 1442695040888963407ul;
			u = (double)(seed >> 11) / 9007199254740992.0;
			if (o->dup > 0 && next > 1 && u < o->dup) {
				n = next - 1; /* repeat the previous id */
				r->dup_sent++;
			} else {
				next++;
			}
			snprintf(id, sizeof(id), "m%lu", n);
			jsPubOptions_Init(&po);
			po.MsgId = id;
			s = js_PublishAsync(js, "gb.js", buf, o->payload, &po);
			r->published++;
		}
		if (!measuring && now_s() >= t_end - o->duration) {
			measuring = 1;
			t0 = now_s();
			a0 = atomic_load(&g_acks);
			c0 = proc_cpu_s(o->server_pid);
		}
		if (now_s() >= t_end)
			break;
	}
	if (s == NATS_OK) {
		r->window_s = now_s() - t0;
		r->window_msgs = atomic_load(&g_acks) - a0;
		r->server_cpu_s = proc_cpu_s(o->server_pid) - c0;
		s = js_PublishAsyncComplete(js, NULL);
	}
	if (s == NATS_OK)
		s = js_GetStreamInfo(&si, js, "GBJS", NULL, &je);
	if (s == NATS_OK)
		r->stream_msgs = si->State.Msgs;
	r->dup_acked = atomic_load(&g_dups);
	r->errors = atomic_load(&g_errs);
	/* De-duplication holds: the stream has each unique id exactly once. */
	r->ok = s == NATS_OK && r->window_msgs > 0 && r->stream_msgs == next - 1 && r->errors == 0;
	if (s != NATS_OK)
		snprintf(r->why, sizeof(r->why), "%s (js err %d)", natsStatus_GetText(s), (int)je);
	else if (!r->ok)
		snprintf(r->why, sizeof(r->why),
			 "stream holds %lu, unique published %lu, errors %lu", r->stream_msgs,
			 next - 1, r->errors);
	emit(o, r);
	jsStreamInfo_Destroy(si);
	if (js != NULL)
		js_DeleteStream(js, "GBJS", NULL, NULL);
	if (nc != NULL)
		natsConnection_Close(nc);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return s;
}

int main(int argc, char **argv)
{
	struct gn_opts o = {.url = "nats://127.0.0.1:4222",
			    .mode = "core",
			    .payload = 64,
			    .duration = 3,
			    .warmup = 0.5,
			    .label = "-"};
	struct gn_result r = {0};
	char *buf;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--url"))
			o.url = argv[i + 1];
		else if (!strcmp(argv[i], "--mode"))
			o.mode = argv[i + 1];
		else if (!strcmp(argv[i], "--payload"))
			o.payload = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--duration"))
			o.duration = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--server-pid"))
			o.server_pid = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--dup"))
			o.dup = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--json"))
			o.json = argv[i + 1];
		else if (!strcmp(argv[i], "--label"))
			o.label = argv[i + 1];
		else
			break;
	}
	if (i < argc || o.payload < 1 || o.payload > 65536 ||
	    (strcmp(o.mode, "core") && strcmp(o.mode, "js"))) {
		fprintf(stderr, "usage: gwart-bench-nats --url URL --mode core|js --payload B "
				"--duration S [--server-pid PID] [--dup P] [--json FILE]\n");
		return 2;
	}
	buf = calloc(1, (size_t)o.payload);
	if (buf == NULL)
		return 1;
	if (!strcmp(o.mode, "core"))
		run_core(&o, buf, &r);
	else
		run_js(&o, buf, &r);
	free(buf);
	nats_Close();
	return r.ok ? 0 : 1;
}
