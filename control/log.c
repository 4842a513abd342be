/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-plane logging: one timestamped line per event on stderr.
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "loop.h"

void cp_log(const struct cp_settings *s, unsigned level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char buf[256];
	va_list ap;

	if (level > (s != NULL ? s->log_level : CP_LOG_ERROR))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gwartd: %.3f %s: %s\n", (double)cp_now_us() / 1e6,
		names[level > 3 ? 3 : level], buf);
}
