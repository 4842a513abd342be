/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Criterion suite "sdk_state": the connector SDK's state file (state.c)
 * against the fake router: the origin seq across clean restarts and a
 * crash, the receive window across a restart with and without the file,
 * and the file's lock and checks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <gwart/connector.h>

#include "fake_router.h"
#include "sdk_env.h"

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static char *state_dir_new(void)
{
	char *dir = strdup("/tmp/gwart-sdk-XXXXXX");

	cr_assert_not_null(dir);
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static void state_dir_free(char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	free(dir);
}

Test(sdk_state, origin_seq_survives_clean_restarts)
{
	struct sdk_env e;
	char *dir = state_dir_new(), path[256];
	struct gw_conn_cfg cfg = { .seq_reserve = 100 };
	struct gw_conn_stats st;
	unsigned fds;
	int round;

	env_new(&e, 64, 101);
	fds = count_fds();
	snprintf(path, sizeof(path), "%s/c1.state", dir);
	cfg.state_path = path;
	e.n = 2;
	e.cs[1] = open_conn(e.fr, 2, e.b, NULL);
	for (round = 0; round < 3; round++) {
		e.cs[0] = open_conn(e.fr, 1, e.a, &cfg);
		gw_conn_get_stats(e.cs[0], &st);
		cr_assert_eq(st.next_seq, 1 + 250 * (uint64_t)round, "round %d", round);
		cr_assert_eq(st.seq_ceiling, st.next_seq + 100, "the reserve is durable first");
		cr_assert_eq(st.state_clean, round > 0);
		env_up(&e);
		/* 250 > 100: the reserve moves ahead while sending. */
		run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 250, 20000);
		gw_conn_get_stats(e.cs[0], &st);
		cr_assert_eq(st.seq_resyncs, 0, "the seq came from the state file");
		cr_assert_geq(st.state_writes, 3);
		cr_assert_eq(st.state_errors, 0);
		cr_assert_eq(gw_conn_close(e.cs[0]), 0);
		e.cs[0] = NULL;
	}
	assert_exactly_once(e.a, e.b, 1, 750);
	gw_conn_close(e.cs[1]);
	e.cs[1] = NULL;
	cr_assert_eq(count_fds(), fds, "the lock and the sockets are closed");
	env_free(&e);
	state_dir_free(dir);
}

Test(sdk_state, origin_seq_survives_a_crash_within_the_reserve)
{
	struct sdk_env e;
	char *dir = state_dir_new(), path[256];
	struct gw_conn_cfg cfg = { .seq_reserve = 100, .first_seq = 1 };
	struct gw_conn_stats st;
	int status;
	pid_t pid;

	env_new(&e, 64, 103);
	snprintf(path, sizeof(path), "%s/c1.state", dir);
	cfg.state_path = path;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* The child pumps its copy of the fake router, uses 170 seqs
		 * and dies without gw_conn_close(). */
		env_open(&e, 2, &cfg, NULL);
		env_up(&e);
		run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 170, 20000);
		_exit(e.a->n_acked == 170 ? 0 : 3);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d", status);
	/* The child's sockets died with it; the fake router forgets them. */
	fr_restart(e.fr, 1);
	env_open(&e, 2, &cfg, NULL);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_gt(st.next_seq, 170, "a crash never reuses a seq");
	cr_assert_leq(st.next_seq, 171 + 100, "a crash skips at most the reserve: %lu",
		      (unsigned long)st.next_seq);
	cr_assert_eq(st.state_clean, 0);
	env_up(&e);
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 10, 20000);
	assert_exactly_once(e.a, e.b, st.next_seq, 10);
	env_free(&e);
	state_dir_free(dir);
}

/*
 * A destination delivers 100 messages whose ACKs never reach the router,
 * then restarts: the router retransmits them in the new session. With the
 * state file they are duplicates; without it they are delivered again (the
 * documented limit).
 */
static void receiver_restart(bool persist, uint64_t seed)
{
	struct sdk_env e;
	char *dir = state_dir_new(), path[256];
	struct gw_conn_cfg cfg = { 0 };
	struct fake_router *fr;
	struct gw_conn_stats st;
	uint64_t s, end;

	env_new(&e, 960, seed);
	fr = e.fr;
	snprintf(path, sizeof(path), "%s/c2.state", dir);
	cfg.state_path = persist ? path : NULL;
	env_open(&e, 2, NULL, &cfg);
	env_up(&e);
	run_flow(fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 100, 20000);
	end = now_us() + 5000000;
	while (fr->conn[2].eg_low != fr->conn[2].eg_next && now_us() < end)
		pump(fr, e.cs, 2); /* the last ACKs still on their way */
	fr->drop_acks_from = 2;
	run_flow(fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 100, 20000);
	assert_exactly_once(e.a, e.b, 1, 200);
	cr_assert_eq(fr->conn[2].eg_next - fr->conn[2].eg_low, 100, "100 un-acked in custody");
	cr_assert_eq(gw_conn_close(e.cs[1]), 0);
	fr_pump(fr); /* its last ACKs (dropped) and BYEs */
	fr->drop_acks_from = 0;

	e.cs[1] = open_conn(fr, 2, e.b, &cfg);
	gw_conn_get_stats(e.cs[1], &st);
	cr_assert_eq(st.rx_restored, persist);
	env_up(&e);
	end = now_us() + 5000000;
	while (fr->conn[2].eg_low != fr->conn[2].eg_next && now_us() < end)
		pump(fr, e.cs, 2);
	cr_assert_eq(fr->conn[2].eg_low, fr->conn[2].eg_next, "custody drained");
	end = now_us() + 50000; /* the rest of the retransmitted burst */
	while (now_us() < end)
		pump(fr, e.cs, 2);
	gw_conn_get_stats(e.cs[1], &st);
	for (s = 101; s <= 200; s++)
		cr_assert_eq(e.b->deliveries[s], persist ? 1 : 2, "seq %lu", (unsigned long)s);
	cr_assert_eq(st.delivered, persist ? 0 : 100);
	if (persist) /* some, not all: one cumulative ACK may free the rest first */
		cr_assert_gt(st.duplicates, 0);
	/* And new traffic flows on. */
	run_flow(fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 100, 20000);
	for (s = 201; s <= 300; s++)
		cr_assert_eq(e.b->deliveries[s], 1);
	env_free(&e);
	state_dir_free(dir);
}

Test(sdk_state, receive_window_survives_a_clean_restart)
{
	receiver_restart(true, 107);
}

Test(sdk_state, without_state_a_restart_redelivers_unacknowledged)
{
	receiver_restart(false, 109);
}

Test(sdk_state, state_file_is_locked_and_checked)
{
	struct sdk_env e;
	char *dir = state_dir_new(), path[256], other[256];
	struct gw_conn_cfg cfg = { 0 };
	struct gw_conn *c, *c2;
	uint8_t junk[64] = { 1, 2, 3 };
	int fd, err = 0;

	env_new(&e, 64, 113);
	snprintf(path, sizeof(path), "%s/c.state", dir);
	cfg.state_path = path;
	c = open_conn(e.fr, 1, e.a, &cfg);
	/* A second live handle on the same state: refused. */
	fr_key(1, cfg.key); /* a valid key: the state is what is refused */
	cfg.id = 1;
	cfg.router_addr = "127.0.0.1";
	cfg.router_port = e.fr->port;
	c2 = gw_conn_open(&cfg, &err);
	cr_assert_null(c2);
	cr_assert_eq(err, -EBUSY);
	cr_assert_eq(gw_conn_close(c), 0);
	/* Another connector's state: refused. */
	cfg.id = 2;
	cr_assert_null(gw_conn_open(&cfg, &err));
	cr_assert_eq(err, -EINVAL);
	/* A damaged one: refused, not silently replaced. */
	snprintf(other, sizeof(other), "%s/bad.state", dir);
	fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	cfg.state_path = other;
	cr_assert_null(gw_conn_open(&cfg, &err));
	cr_assert_eq(err, -EBADMSG);
	/* After all that, the original opens again. */
	cfg.id = 1;
	cfg.state_path = path;
	c = gw_conn_open(&cfg, &err);
	cr_assert_not_null(c, "reopen: %d", err);
	cr_assert_eq(gw_conn_close(c), 0);
	env_free(&e);
	state_dir_free(dir);
}
