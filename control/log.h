/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-plane log lines on stderr, filtered by the log_level setting.
 */
#ifndef GWART_CP_LOG_H
#define GWART_CP_LOG_H

#include "settings.h"

#define CP_LOG_ERROR 0
#define CP_LOG_WARNING 1
#define CP_LOG_INFO 2
#define CP_LOG_DEBUG 3

/* Log an event if @level <= @s->log_level (@s NULL: errors only). */
void cp_log(const struct cp_settings *s, unsigned level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
