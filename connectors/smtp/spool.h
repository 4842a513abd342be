/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mail spool of gwart-smtp: one durable file per mail, so that a mail
 * whose sender was told 250 (ingress), or that gwart handed us (egress),
 * survives a crash of this process, of gwartd or of the host.
 *
 * Layout of DIR:
 *   <id>.mail   the envelope and the message, written once: to
 *               <id>.mail.tmp, fsync(), rename(), fsync(DIR). sp_put()
 *               returns only after all four, so "on disk" is true when it
 *               returns 0.
 *   <id>.state  the recipients' states (pending, delivered, failed,
 *               bounced), replaced the same way by sp_commit(); absent
 *               means every recipient pending.
 *   seq         the id ceiling: no id at or above it was handed out.
 *   damaged/    entries that failed their checks at start-up, kept aside
 *               for the operator (never read again, never deleted).
 * <id> is 16 hex digits. Ids only grow, across restarts too (the ceiling
 * is reserved on disk ahead of use; it also never starts below the clock
 * in microseconds, so an emptied directory does not reuse ids), because
 * the egress side suppresses a mail whose id it already delivered.
 *
 * Every file carries a magic, a version, its lengths and a CRC-32; a torn
 * or damaged .mail file is refused at sp_open() with a message on stderr,
 * moved to damaged/ and counted; a damaged .state file is moved aside and
 * counted and the entry kept with every recipient pending (re-sending is
 * safe: egress suppresses what it delivered and sends the receipt again).
 * Leftover .tmp files (a crash inside a write) are removed and counted.
 *
 * Bounds: at most max_entries entries and max_bytes bytes of .mail files;
 * sp_put() refuses above them with -ENOSPC and counts which bound refused.
 * Entries found at start-up are all kept even above the bounds.
 *
 * Threading: one thread per spool, no locks. Blocking: sp_open(), sp_put(),
 * sp_commit(), sp_remove() and sp_read_body() do file I/O with fsync().
 */
#ifndef GWART_SMTP_SPOOL_H
#define GWART_SMTP_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SP_TEXT_MAX 200u          /* bytes of a recipient's result text kept */
#define SP_ADDR_MAX 512u          /* bytes of an address (RFC 5321: 256 path) */
#define SP_RCPT_MAX 1000u         /* recipients per entry */
#define SP_TAG_MAX 255u           /* bytes of the tag (egress: the mail's Id) */
#define SP_DEF_MAX_ENTRIES 10000u
#define SP_DEF_MAX_BYTES (1024ull << 20) /* 1 GiB */
#define SP_BODY_MAX (64ull << 20) /* the protocol's message ceiling */

enum sp_rcpt_state {
	SP_PENDING = 0,   /* no outcome yet */
	SP_DELIVERED = 1, /* the next hop answered 250 */
	SP_FAILED = 2,    /* a permanent failure; a bounce is owed (ingress) */
	SP_BOUNCED = 3,   /* the bounce was handed to the bounce relay, or none is owed */
};

struct sp_rcpt {
	char *addr;
	uint8_t state;    /* enum sp_rcpt_state */
	uint16_t code;    /* the SMTP reply code of the outcome, 0: none */
	char text[SP_TEXT_MAX + 1]; /* its text, NUL-terminated */
};

/* One spooled mail. Owned by the spool; valid until sp_remove() or
 * sp_close(). The owner may change rcpt[i].state/code/text and then call
 * sp_commit(); the other fields are read-only. */
struct sp_entry {
	uint64_t id;
	uint64_t created_us;  /* wall clock at sp_put() */
	uint32_t origin;      /* egress: the ingress connector's id; ingress: 0 */
	uint32_t nrcpt;
	char *tag;            /* egress: the mail's gwart Id; ingress: "" */
	char *from;           /* envelope sender, "" for the null sender */
	struct sp_rcpt *rcpt;
	uint64_t body_len;
	uint64_t file_bytes;  /* size of the .mail file, counted in the bound */
	uint32_t dflags;      /* the owner's durable flags (SP_F_*), written with
			       * the recipients' states by sp_commit() */
	/* The owner's scratch, never written to disk. */
	uint64_t due_ms;      /* e.g. when to re-send or retry next */
	uint32_t attempts;
	uint32_t flags;
	void *user;
};

/* dflags */
#define SP_F_ACCEPTED 1u   /* ingress: the client was (being) told 250 */

struct sp_cfg {
	uint32_t max_entries; /* 0: SP_DEF_MAX_ENTRIES */
	uint64_t max_bytes;   /* 0: SP_DEF_MAX_BYTES */
};

struct sp_stats {
	/* now */
	uint64_t entries, bytes;
	/* monotonic */
	uint64_t puts;            /* entries written */
	uint64_t removed;         /* entries removed */
	uint64_t refused_entries; /* sp_put() refused: max_entries reached */
	uint64_t refused_bytes;   /* sp_put() refused: max_bytes would be passed */
	uint64_t refused_bad;     /* sp_put() refused: bad arguments (lengths, counts) */
	uint64_t write_errors;    /* writes, renames, fsyncs or removals that failed */
	uint64_t loaded;          /* entries taken from disk at sp_open() */
	uint64_t damaged;         /* .mail files refused at sp_open(), moved to damaged/ */
	uint64_t state_damaged;   /* .state files refused, moved aside */
	uint64_t tmp_removed;     /* leftover .tmp files removed at sp_open() */
	uint64_t state_writes;    /* .state files written */
};

struct sp_spool;

/* Open (creating DIR if needed) and load every entry. 0 or a negative
 * errno (-ENOMEM, a directory error, -EBUSY when another process holds
 * DIR/lock). A damaged entry is not an error: see above. */
int sp_open(const char *dir, const struct sp_cfg *cfg, struct sp_spool **out);
void sp_close(struct sp_spool *sp);

/*
 * sp_put - write one entry durably. @rcpt: @nrcpt addresses (1..SP_RCPT_MAX,
 * each 1..SP_ADDR_MAX bytes); @from may be "" (not NULL); @tag NULL or
 * at most SP_TAG_MAX bytes. Returns 0 with *out set (owned by the spool),
 * -ENOSPC above a bound, -EINVAL for bad arguments, -EIO for a failed
 * write (nothing left behind), each counted.
 */
int sp_put(struct sp_spool *sp, uint32_t origin, const char *tag, const char *from,
	   const char *const *rcpt, uint32_t nrcpt, const void *body, size_t len,
	   struct sp_entry **out);

/* The id the next sp_put() will give (the Id a trace header names
 * before the entry is written). */
uint64_t sp_peek_id(const struct sp_spool *sp);

/* Write @e's recipient states and dflags durably. 0 or -EIO (counted; the memory
 * copy stays as set, the disk keeps the previous state). */
int sp_commit(struct sp_spool *sp, struct sp_entry *e);

/* Remove @e from disk and memory (@e is freed). 0, or -EIO when unlink
 * failed (counted; the entry is forgotten in memory anyway and will be
 * loaded again by the next sp_open()). */
int sp_remove(struct sp_spool *sp, struct sp_entry *e);

/* Read @e's message into a malloc()ed buffer (*buf, *len; the caller
 * frees), its checksum verified. 0, -ENOMEM, -EIO, or -EBADMSG when the
 * file changed under us. */
int sp_read_body(struct sp_spool *sp, const struct sp_entry *e, void **buf, size_t *len);

/* Lookups. NULL when absent. sp_find_tag() compares origin and tag. */
struct sp_entry *sp_find(struct sp_spool *sp, uint64_t id);
struct sp_entry *sp_find_tag(struct sp_spool *sp, uint32_t origin, const char *tag);

/* Entries in id order: sp_at(sp, 0 .. sp_count(sp) - 1). Indices move on
 * sp_put()/sp_remove(). */
uint32_t sp_count(const struct sp_spool *sp);
struct sp_entry *sp_at(struct sp_spool *sp, uint32_t i);

/* 1 when every recipient of @e is past SP_PENDING (and, with @bounced,
 * none is SP_FAILED either). */
int sp_entry_final(const struct sp_entry *e, int bounced);

void sp_get_stats(const struct sp_spool *sp, struct sp_stats *st);

/* CRC-32 (IEEE, zlib's), used by the spool and the delivered log. */
uint32_t sp_crc32(uint32_t crc, const void *buf, size_t len);

#endif
