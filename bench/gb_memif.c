/* SPDX-License-Identifier: BSD-3-Clause */
#include "gb.h"
int gb_run_memif(const struct gb_opts *o, struct gb_result *r) { (void)o; snprintf(r->why, sizeof(r->why), "todo"); return -1; }
