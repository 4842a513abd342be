/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartctl internals: the printers of human-readable results
 * (gwartctl_show.c). Each takes the "result" of a reply, borrowed.
 */
#ifndef GWART_GWARTCTL_H
#define GWART_GWARTCTL_H

#include <jansson.h>

void ctl_print_status(json_t *r);
void ctl_print_stats(json_t *r);
void ctl_print_connectors(json_t *r);
void ctl_print_sessions(json_t *r);
void ctl_print_routes(json_t *r);
void ctl_print_tunables(json_t *r);
void ctl_print_drain(json_t *r);

#endif
