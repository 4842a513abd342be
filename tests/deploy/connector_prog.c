/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A connector as someone outside the tree writes one: the installed headers
 * and libgwart-connector only (tests/deploy/install.sh builds it with
 * `pkg-config --cflags --libs gwart-connector` alone). It opens a session
 * towards a router on loopback that is not there (a HELLO leaves, nothing
 * answers), checks that a handle without a key is refused as documented,
 * and prints the file the library was loaded from.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gwart/connector.h>

#define KEY_HEX "5f0b6c1d2e3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9011223344"

int main(void)
{
	struct gw_conn_cfg cfg;
	struct gw_conn_stats st;
	struct gw_conn *c;
	Dl_info info;
	int err = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.id = 7;
	cfg.router_addr = "127.0.0.1";
	cfg.router_port = 9; /* discard: nobody answers */
	/* No key: refused (deny by default). */
	if (gw_conn_open(&cfg, &err) != NULL || err != -EINVAL) {
		fprintf(stderr, "open without a key: err %d, expected %d\n", err, -EINVAL);
		return 1;
	}
	/* The key as an operator's key file holds it (gwartctl keygen). */
	if (gw_key_parse(KEY_HEX, strlen(KEY_HEX), cfg.key) != 0) {
		fprintf(stderr, "gw_key_parse refused the key\n");
		return 1;
	}
	c = gw_conn_open(&cfg, &err);
	if (c == NULL) {
		fprintf(stderr, "gw_conn_open: %s\n", strerror(-err));
		return 1;
	}
	gw_conn_poll(c, 10);
	gw_conn_get_stats(c, &st);
	if (dladdr((void *)gw_conn_open, &info) == 0 || info.dli_fname == NULL) {
		fprintf(stderr, "dladdr failed\n");
		return 1;
	}
	printf("library %s\n", info.dli_fname);
	printf("up %d\n", gw_conn_is_up(c));
	gw_conn_close(c);
	return 0;
}
