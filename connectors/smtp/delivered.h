/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The egress side's record of mails it delivered, per origin: a mail that
 * an ingress sends again (its receipt was lost, gwartd restarted, the
 * ingress restarted) is not delivered twice; the receipt kept with it is
 * sent again instead.
 *
 * One append-only file, FILE. Each record: magic, origin (the ingress
 * connector's id), the mail's Id text, the receipt payload (GWRCPT1) that
 * was sent for it, a CRC-32. dl_add() appends it and fdatasync()s before it
 * returns, so "recorded" is true on disk when it returns 0: the caller
 * records before it tells anyone the mail was delivered.
 *
 * Horizon: the record keeps the last max_records Ids (count, not time).
 * When an Id older than that is offered again it is delivered again. The
 * ingress re-sends only mails still in its spool (bounded by its
 * max_entries) and removes each one when its receipt arrives, so
 * max_records above the sum of the spool bounds of every ingress feeding
 * this egress keeps every re-send inside the horizon unless the ingress
 * keeps losing receipts for one mail while more than max_records newer
 * mails are delivered (the default 100,000 is 10 x the spool's default).
 *
 * Compaction: when the file holds 2 x max_records records, the live ones
 * are written to FILE.tmp, fsync()ed, renamed over FILE, and the directory
 * fsync()ed (a crash leaves the old file or the new one, both complete).
 * A torn last record (a crash inside an append) is cut off at open and
 * counted; a damaged record in the middle stops the reading there: what
 * follows is set aside in FILE.damaged and counted (those Ids fall out of
 * the horizon: they may be delivered again, never lost).
 *
 * Threading: one thread, no locks. Blocking: dl_open(), dl_add() (fsync).
 */
#ifndef GWART_SMTP_DELIVERED_H
#define GWART_SMTP_DELIVERED_H

#include <stddef.h>
#include <stdint.h>

#define DL_DEF_MAX_RECORDS 100000u
#define DL_ID_MAX 255u        /* bytes of an Id */
#define DL_RECEIPT_MAX 65535u /* bytes of a receipt kept */

struct dl_stats {
	uint64_t records;        /* now: Ids remembered */
	uint64_t file_records;   /* now: records in the file (live + superseded) */
	uint64_t added;          /* monotonic from here on */
	uint64_t evicted;        /* Ids forgotten past the horizon */
	uint64_t compactions;
	uint64_t torn_tail;      /* a torn last record cut off at open */
	uint64_t damaged;        /* opens that found a damaged record mid-file */
	uint64_t write_errors;
	uint64_t hits;           /* dl_find() that found an Id */
	uint64_t refused_bad;    /* dl_add() with bad lengths */
};

struct dl_log;

/* Open FILE (created if absent) and load it. 0 or a negative errno. */
int dl_open(const char *path, uint32_t max_records, struct dl_log **out);
void dl_close(struct dl_log *dl);

/* The receipt recorded for (@origin, @id), or NULL; *len its length. */
const void *dl_find(struct dl_log *dl, uint32_t origin, const char *id, size_t *len);

/* Record (@origin, @id) with @receipt durably (appended and fdatasync()ed)
 * before returning 0. An Id recorded already is recorded again (the
 * newest receipt wins). -EINVAL for bad lengths, -EIO for a failed
 * write (counted; nothing is remembered then), -ENOMEM. */
int dl_add(struct dl_log *dl, uint32_t origin, const char *id, const void *receipt,
	   size_t len);

void dl_get_stats(const struct dl_log *dl, struct dl_stats *st);

#endif
