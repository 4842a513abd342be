/* SPDX-License-Identifier: BSD-3-Clause */
/* The durable mail spool (spool.h): file formats, atomic writes, start-up
 * checks, bounds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

#define MAIL_MAGIC "GWSPML1\n"
#define STATE_MAGIC "GWSPST1\n"
#define SEQ_MAGIC "GWSPSQ1\n"
#define FMT_VERSION 1u
#define MAIL_HDR 64u
#define STATE_HDR 28u
#define SEQ_LEN 20u
/* Ids reserved on disk per write of the ceiling: a crash skips at most
 * this many, never reuses one. */
#define SEQ_RESERVE 4096u

struct sp_spool {
	int dirfd;
	int lockfd;
	char *dir;
	struct sp_cfg cfg;
	struct sp_stats st;
	struct sp_entry **e;  /* sorted by id */
	uint32_t n, cap;
	uint64_t next_id, ceiling;
};

/* ---- little-endian fields ---- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint32_t sp_crc32(uint32_t crc, const void *buf, size_t len)
{
	static uint32_t table[256];
	const uint8_t *p = buf;

	if (!table[1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- durable writes ---- */

static int write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* NAME.tmp, written and fsync()ed, renamed to NAME, then the directory
 * fsync()ed: after a crash NAME is either the old file or the whole new
 * one, never a part. */
static int write_durable(struct sp_spool *sp, const char *name, struct iovec *iov, int n)
{
	char tmp[64];
	int fd, ret;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(sp->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, iov, n);
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && renameat(sp->dirfd, tmp, sp->dirfd, name) < 0)
		ret = -errno;
	if (ret == 0 && fsync(sp->dirfd) < 0)
		ret = -errno;
	if (ret < 0) {
		unlinkat(sp->dirfd, tmp, 0);
		sp->st.write_errors++;
	}
	return ret;
}

static int read_file(int dirfd, const char *name, uint8_t **buf, size_t *len, size_t max)
{
	struct stat sb;
	size_t got = 0;
	uint8_t *b;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0 || sb.st_size < 0 || (uint64_t)sb.st_size > max) {
		close(fd);
		return -EBADMSG;
	}
	b = malloc((size_t)sb.st_size + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, b + got, (size_t)sb.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*buf = b;
	*len = got;
	return 0;
}

/* ---- the id ceiling ---- */

static int seq_write(struct sp_spool *sp, uint64_t ceiling)
{
	uint8_t b[SEQ_LEN];
	struct iovec iov = { b, sizeof(b) };

	memcpy(b, SEQ_MAGIC, 8);
	put64(b + 8, ceiling);
	put32(b + 16, sp_crc32(0, b, 16));
	if (write_durable(sp, "seq", &iov, 1) < 0)
		return -EIO;
	sp->ceiling = ceiling;
	return 0;
}

static uint64_t seq_read(struct sp_spool *sp)
{
	uint8_t *b = NULL;
	uint64_t v = 0;
	size_t len;

	if (read_file(sp->dirfd, "seq", &b, &len, 64) < 0)
		return 0;
	if (len == SEQ_LEN && !memcmp(b, SEQ_MAGIC, 8) && get32(b + 16) == sp_crc32(0, b, 16))
		v = get64(b + 8);
	else
		fprintf(stderr, "gwart-smtp: spool %s: seq file damaged, ids continue from the "
			"clock and the entries found\n", sp->dir);
	free(b);
	return v;
}

/* ---- entries ---- */

static void entry_free(struct sp_entry *e)
{
	if (!e)
		return;
	for (uint32_t i = 0; e->rcpt && i < e->nrcpt; i++)
		free(e->rcpt[i].addr);
	free(e->rcpt);
	free(e->tag);
	free(e->from);
	free(e);
}

static void mail_name(char *buf, size_t cap, uint64_t id, const char *ext)
{
	snprintf(buf, cap, "%016llx.%s", (unsigned long long)id, ext);
}

static int index_insert(struct sp_spool *sp, struct sp_entry *e)
{
	uint32_t lo = 0, hi = sp->n;

	if (sp->n == sp->cap) {
		uint32_t cap = sp->cap ? sp->cap * 2 : 64;
		struct sp_entry **ne = realloc(sp->e, cap * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		sp->e = ne;
		sp->cap = cap;
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (sp->e[mid]->id < e->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(sp->e + lo + 1, sp->e + lo, (sp->n - lo) * sizeof(*sp->e));
	sp->e[lo] = e;
	sp->n++;
	sp->st.entries = sp->n;
	sp->st.bytes += e->file_bytes;
	return 0;
}

static int index_pos(const struct sp_spool *sp, uint64_t id)
{
	uint32_t lo = 0, hi = sp->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (sp->e[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sp->n && sp->e[lo]->id == id ? (int)lo : -1;
}

struct sp_entry *sp_find(struct sp_spool *sp, uint64_t id)
{
	int i = index_pos(sp, id);

	return i < 0 ? NULL : sp->e[i];
}

struct sp_entry *sp_find_tag(struct sp_spool *sp, uint32_t origin, const char *tag)
{
	for (uint32_t i = 0; i < sp->n; i++)
		if (sp->e[i]->origin == origin && !strcmp(sp->e[i]->tag, tag))
			return sp->e[i];
	return NULL;
}

uint32_t sp_count(const struct sp_spool *sp)
{
	return sp->n;
}

struct sp_entry *sp_at(struct sp_spool *sp, uint32_t i)
{
	return i < sp->n ? sp->e[i] : NULL;
}

int sp_entry_final(const struct sp_entry *e, int bounced)
{
	for (uint32_t i = 0; i < e->nrcpt; i++) {
		if (e->rcpt[i].state == SP_PENDING)
			return 0;
		if (bounced && e->rcpt[i].state == SP_FAILED)
			return 0;
	}
	return 1;
}

void sp_get_stats(const struct sp_spool *sp, struct sp_stats *st)
{
	*st = sp->st;
}

/* Parse a .mail file image; the body is checked (CRC) but not kept. */
static int mail_parse(const uint8_t *b, size_t len, uint64_t id, struct sp_entry **out)
{
	uint32_t tag_len, from_len, nrcpt, rcpt_bytes, crc;
	uint64_t body_len, need;
	struct sp_entry *e;
	const uint8_t *p;
	uint8_t hdr[MAIL_HDR];

	if (len < MAIL_HDR || memcmp(b, MAIL_MAGIC, 8) || get32(b + 8) != FMT_VERSION ||
	    get64(b + 16) != id)
		return -EBADMSG;
	tag_len = get32(b + 32);
	from_len = get32(b + 36);
	nrcpt = get32(b + 40);
	rcpt_bytes = get32(b + 44);
	body_len = get64(b + 48);
	if (tag_len > SP_TAG_MAX || from_len > SP_ADDR_MAX || nrcpt == 0 ||
	    nrcpt > SP_RCPT_MAX || rcpt_bytes > SP_RCPT_MAX * (SP_ADDR_MAX + 2) ||
	    body_len > SP_BODY_MAX)
		return -EBADMSG;
	need = (uint64_t)MAIL_HDR + tag_len + from_len + rcpt_bytes + body_len;
	if (need != len)
		return -EBADMSG;  /* torn (short) or grown */
	memcpy(hdr, b, MAIL_HDR);
	put32(hdr + 56, 0);
	crc = sp_crc32(sp_crc32(0, hdr, MAIL_HDR), b + MAIL_HDR, len - MAIL_HDR);
	if (crc != get32(b + 56))
		return -EBADMSG;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->id = id;
	e->origin = get32(b + 12);
	e->created_us = get64(b + 24);
	e->nrcpt = nrcpt;
	e->body_len = body_len;
	e->file_bytes = len;
	e->tag = strndup((const char *)b + MAIL_HDR, tag_len);
	e->from = strndup((const char *)b + MAIL_HDR + tag_len, from_len);
	e->rcpt = calloc(nrcpt, sizeof(*e->rcpt));
	if (!e->tag || !e->from || !e->rcpt)
		goto nomem;
	p = b + MAIL_HDR + tag_len + from_len;
	for (uint32_t i = 0; i < nrcpt; i++) {
		uint32_t al;

		if ((size_t)(p - b) + 2 > MAIL_HDR + tag_len + from_len + rcpt_bytes)
			goto bad;
		al = (uint32_t)p[0] | (uint32_t)p[1] << 8;
		p += 2;
		if (al == 0 || al > SP_ADDR_MAX ||
		    (size_t)(p - b) + al > MAIL_HDR + tag_len + from_len + rcpt_bytes)
			goto bad;
		e->rcpt[i].addr = strndup((const char *)p, al);
		if (!e->rcpt[i].addr)
			goto nomem;
		p += al;
	}
	if ((size_t)(p - b) != MAIL_HDR + tag_len + from_len + rcpt_bytes)
		goto bad;
	*out = e;
	return 0;
bad:
	entry_free(e);
	return -EBADMSG;
nomem:
	entry_free(e);
	return -ENOMEM;
}

static int state_write(struct sp_spool *sp, const struct sp_entry *e)
{
	size_t cap = STATE_HDR + (size_t)e->nrcpt * (4 + SP_TEXT_MAX) + 4, off;
	struct iovec iov;
	char name[40];
	uint8_t *b;
	int ret;

	b = malloc(cap);
	if (!b) {
		sp->st.write_errors++;
		return -EIO;
	}
	memcpy(b, STATE_MAGIC, 8);
	put32(b + 8, FMT_VERSION);
	put32(b + 12, e->nrcpt);
	put64(b + 16, e->id);
	put32(b + 24, e->dflags);
	off = STATE_HDR;
	for (uint32_t i = 0; i < e->nrcpt; i++) {
		size_t tl = strnlen(e->rcpt[i].text, SP_TEXT_MAX);

		b[off] = e->rcpt[i].state;
		b[off + 1] = (uint8_t)tl;
		b[off + 2] = (uint8_t)e->rcpt[i].code;
		b[off + 3] = (uint8_t)(e->rcpt[i].code >> 8);
		memcpy(b + off + 4, e->rcpt[i].text, tl);
		off += 4 + tl;
	}
	put32(b + off, sp_crc32(0, b, off));
	off += 4;
	iov = (struct iovec){ b, off };
	mail_name(name, sizeof(name), e->id, "state");
	ret = write_durable(sp, name, &iov, 1);
	free(b);
	if (ret < 0)
		return -EIO;
	sp->st.state_writes++;
	return 0;
}

static int state_parse(const uint8_t *b, size_t len, struct sp_entry *e)
{
	size_t off = STATE_HDR;

	if (len < STATE_HDR + 4 || memcmp(b, STATE_MAGIC, 8) || get32(b + 8) != FMT_VERSION ||
	    get32(b + 12) != e->nrcpt || get64(b + 16) != e->id ||
	    get32(b + len - 4) != sp_crc32(0, b, len - 4))
		return -EBADMSG;
	/* Checked into a copy first: a bad record changes nothing. */
	for (uint32_t i = 0; i < e->nrcpt; i++) {
		if (off + 4 > len - 4 || b[off] > SP_BOUNCED || b[off + 1] > SP_TEXT_MAX ||
		    off + 4 + b[off + 1] > len - 4)
			return -EBADMSG;
		off += 4 + b[off + 1];
	}
	if (off != len - 4)
		return -EBADMSG;
	off = STATE_HDR;
	e->dflags = get32(b + 24);
	for (uint32_t i = 0; i < e->nrcpt; i++) {
		e->rcpt[i].state = b[off];
		e->rcpt[i].code = (uint16_t)(b[off + 2] | b[off + 3] << 8);
		memcpy(e->rcpt[i].text, b + off + 4, b[off + 1]);
		e->rcpt[i].text[b[off + 1]] = 0;
		off += 4 + b[off + 1];
	}
	return 0;
}

/* Move a refused file to damaged/ (created on first use) under its name. */
static void set_aside(struct sp_spool *sp, const char *name)
{
	char dst[96];

	mkdirat(sp->dirfd, "damaged", 0700);
	snprintf(dst, sizeof(dst), "damaged/%s", name);
	if (renameat(sp->dirfd, name, sp->dirfd, dst) < 0) {
		fprintf(stderr, "gwart-smtp: spool %s: cannot move %s aside: %s\n", sp->dir, name,
			strerror(errno));
		sp->st.write_errors++;
	}
	fsync(sp->dirfd);
}

static int load_one(struct sp_spool *sp, const char *name, uint64_t id)
{
	struct sp_entry *e = NULL;
	uint8_t *b = NULL;
	char sname[40];
	size_t len;
	int ret;

	ret = read_file(sp->dirfd, name, &b, &len, MAIL_HDR + SP_TAG_MAX + SP_ADDR_MAX +
			(size_t)SP_RCPT_MAX * (SP_ADDR_MAX + 2) + SP_BODY_MAX);
	if (ret == 0)
		ret = mail_parse(b, len, id, &e);
	free(b);
	if (ret == -ENOMEM)
		return ret;
	if (ret < 0) {
		fprintf(stderr, "gwart-smtp: spool %s: %s is damaged or torn (%s): moved to "
			"damaged/, not sent\n", sp->dir, name, strerror(-ret));
		sp->st.damaged++;
		set_aside(sp, name);
		mail_name(sname, sizeof(sname), id, "state");
		if (faccessat(sp->dirfd, sname, F_OK, 0) == 0)
			set_aside(sp, sname);
		return 0;
	}
	mail_name(sname, sizeof(sname), id, "state");
	b = NULL;
	ret = read_file(sp->dirfd, sname, &b, &len, STATE_HDR + 4 +
			(size_t)SP_RCPT_MAX * (4 + SP_TEXT_MAX));
	if (ret == 0 && state_parse(b, len, e) < 0) {
		fprintf(stderr, "gwart-smtp: spool %s: %s is damaged: moved to damaged/, every "
			"recipient of %s taken as pending\n", sp->dir, sname, name);
		sp->st.state_damaged++;
		set_aside(sp, sname);
	} else if (ret < 0 && ret != -ENOENT) {
		sp->st.state_damaged++;
		set_aside(sp, sname);
	}
	free(b);
	ret = index_insert(sp, e);
	if (ret < 0) {
		entry_free(e);
		return ret;
	}
	sp->st.loaded++;
	if (id >= sp->next_id)
		sp->next_id = id + 1;
	return 0;
}

/* "<16 hex>.mail" -> id; anything else is not an entry. */
static int parse_name(const char *s, const char *ext, uint64_t *id)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 16; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	if (s[16] != '.' || strcmp(s + 17, ext))
		return -1;
	*id = v;
	return 0;
}

static int load_all(struct sp_spool *sp)
{
	struct dirent *de;
	DIR *d;
	int ret = 0, fd;

	fd = dup(sp->dirfd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		uint64_t id;

		if (l > 4 && !strcmp(de->d_name + l - 4, ".tmp")) {
			if (unlinkat(sp->dirfd, de->d_name, 0) == 0)
				sp->st.tmp_removed++;
			continue;
		}
		if (parse_name(de->d_name, "mail", &id) < 0)
			continue;
		ret = load_one(sp, de->d_name, id);
		if (ret < 0)
			break;
	}
	closedir(d);
	return ret;
}

/* Orphan .state files (their .mail was removed first by a crash inside
 * sp_remove()) are removed. */
static void drop_orphans(struct sp_spool *sp)
{
	struct dirent *de;
	DIR *d;
	int fd = dup(sp->dirfd);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		uint64_t id;

		if (parse_name(de->d_name, "state", &id) == 0 && !sp_find(sp, id))
			unlinkat(sp->dirfd, de->d_name, 0);
	}
	closedir(d);
}

int sp_open(const char *dir, const struct sp_cfg *cfg, struct sp_spool **out)
{
	struct sp_spool *sp;
	uint64_t now, ceil;
	int ret;

	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->dirfd = sp->lockfd = -1;
	if (cfg)
		sp->cfg = *cfg;
	if (!sp->cfg.max_entries)
		sp->cfg.max_entries = SP_DEF_MAX_ENTRIES;
	if (!sp->cfg.max_bytes)
		sp->cfg.max_bytes = SP_DEF_MAX_BYTES;
	sp->dir = strdup(dir);
	if (!sp->dir) {
		ret = -ENOMEM;
		goto fail;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		goto fail;
	}
	sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0) {
		ret = -errno;
		goto fail;
	}
	/* Two processes on one spool would send each other's mail twice. */
	sp->lockfd = openat(sp->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sp->lockfd < 0) {
		ret = -errno;
		goto fail;
	}
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		goto fail;
	}
	ret = load_all(sp);
	if (ret < 0)
		goto fail;
	drop_orphans(sp);
	ceil = seq_read(sp);
	now = wall_us();
	if (sp->next_id < ceil)
		sp->next_id = ceil;
	if (sp->next_id < now)
		sp->next_id = now;
	if (sp->next_id == 0)
		sp->next_id = 1;
	ret = seq_write(sp, sp->next_id + SEQ_RESERVE);
	if (ret < 0)
		goto fail;
	*out = sp;
	return 0;
fail:
	sp_close(sp);
	return ret;
}

void sp_close(struct sp_spool *sp)
{
	if (!sp)
		return;
	for (uint32_t i = 0; i < sp->n; i++)
		entry_free(sp->e[i]);
	free(sp->e);
	if (sp->lockfd >= 0)
		close(sp->lockfd);
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	free(sp->dir);
	free(sp);
}

int sp_put(struct sp_spool *sp, uint32_t origin, const char *tag, const char *from,
	   const char *const *rcpt, uint32_t nrcpt, const void *body, size_t len,
	   struct sp_entry **out)
{
	size_t tag_len = tag ? strlen(tag) : 0, from_len, rcpt_bytes = 0, off;
	struct iovec iov[3];
	struct sp_entry *e;
	uint8_t hdr[MAIL_HDR], *meta;
	char name[40];
	uint64_t fbytes;
	int ret;

	if (!from || !rcpt || nrcpt == 0 || nrcpt > SP_RCPT_MAX || tag_len > SP_TAG_MAX ||
	    (from_len = strlen(from)) > SP_ADDR_MAX || len > SP_BODY_MAX || (len && !body)) {
		sp->st.refused_bad++;
		return -EINVAL;
	}
	for (uint32_t i = 0; i < nrcpt; i++) {
		size_t l = rcpt[i] ? strlen(rcpt[i]) : 0;

		if (l == 0 || l > SP_ADDR_MAX) {
			sp->st.refused_bad++;
			return -EINVAL;
		}
		rcpt_bytes += 2 + l;
	}
	fbytes = MAIL_HDR + tag_len + from_len + rcpt_bytes + len;
	if (sp->n >= sp->cfg.max_entries) {
		sp->st.refused_entries++;
		return -ENOSPC;
	}
	if (sp->st.bytes + fbytes > sp->cfg.max_bytes) {
		sp->st.refused_bytes++;
		return -ENOSPC;
	}
	if (sp->next_id >= sp->ceiling && seq_write(sp, sp->next_id + SEQ_RESERVE) < 0)
		return -EIO;
	e = calloc(1, sizeof(*e));
	meta = malloc(tag_len + from_len + rcpt_bytes + 1);
	if (!e || !meta)
		goto nomem;
	e->id = sp->next_id;
	e->origin = origin;
	e->created_us = wall_us();
	e->nrcpt = nrcpt;
	e->body_len = len;
	e->file_bytes = fbytes;
	e->tag = strdup(tag ? tag : "");
	e->from = strdup(from);
	e->rcpt = calloc(nrcpt, sizeof(*e->rcpt));
	if (!e->tag || !e->from || !e->rcpt)
		goto nomem;
	memcpy(meta, e->tag, tag_len);
	memcpy(meta + tag_len, from, from_len);
	off = tag_len + from_len;
	for (uint32_t i = 0; i < nrcpt; i++) {
		size_t l = strlen(rcpt[i]);

		e->rcpt[i].addr = strdup(rcpt[i]);
		if (!e->rcpt[i].addr)
			goto nomem;
		meta[off] = (uint8_t)l;
		meta[off + 1] = (uint8_t)(l >> 8);
		memcpy(meta + off + 2, rcpt[i], l);
		off += 2 + l;
	}
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, MAIL_MAGIC, 8);
	put32(hdr + 8, FMT_VERSION);
	put32(hdr + 12, origin);
	put64(hdr + 16, e->id);
	put64(hdr + 24, e->created_us);
	put32(hdr + 32, (uint32_t)tag_len);
	put32(hdr + 36, (uint32_t)from_len);
	put32(hdr + 40, nrcpt);
	put32(hdr + 44, (uint32_t)rcpt_bytes);
	put64(hdr + 48, len);
	put32(hdr + 56, sp_crc32(sp_crc32(sp_crc32(0, hdr, MAIL_HDR), meta, off), body, len));
	iov[0] = (struct iovec){ hdr, MAIL_HDR };
	iov[1] = (struct iovec){ meta, off };
	iov[2] = (struct iovec){ (void *)body, len };
	mail_name(name, sizeof(name), e->id, "mail");
	ret = write_durable(sp, name, iov, 3);
	free(meta);
	meta = NULL;
	if (ret < 0) {
		entry_free(e);
		return -EIO;
	}
	ret = index_insert(sp, e);
	if (ret < 0) {
		unlinkat(sp->dirfd, name, 0);
		goto nomem;
	}
	sp->next_id++;
	sp->st.puts++;
	*out = e;
	return 0;
nomem:
	free(meta);
	entry_free(e);
	return -ENOMEM;
}

uint64_t sp_peek_id(const struct sp_spool *sp)
{
	return sp->next_id;
}

int sp_commit(struct sp_spool *sp, struct sp_entry *e)
{
	return state_write(sp, e);
}

int sp_remove(struct sp_spool *sp, struct sp_entry *e)
{
	int i = index_pos(sp, e->id), ret = 0;
	char name[40];

	/* The .mail first: a crash between the two leaves an orphan .state,
	 * which sp_open() removes; never a mail without its state. */
	mail_name(name, sizeof(name), e->id, "mail");
	if (unlinkat(sp->dirfd, name, 0) < 0 && errno != ENOENT)
		ret = -EIO;
	mail_name(name, sizeof(name), e->id, "state");
	unlinkat(sp->dirfd, name, 0);
	if (fsync(sp->dirfd) < 0)
		ret = -EIO;
	if (ret < 0)
		sp->st.write_errors++;
	if (i >= 0) {
		sp->st.bytes -= e->file_bytes;
		memmove(sp->e + i, sp->e + i + 1, (sp->n - (uint32_t)i - 1) * sizeof(*sp->e));
		sp->n--;
		sp->st.entries = sp->n;
	}
	sp->st.removed++;
	entry_free(e);
	return ret;
}

int sp_read_body(struct sp_spool *sp, const struct sp_entry *e, void **buf, size_t *len)
{
	struct sp_entry *chk = NULL;
	uint8_t *b = NULL;
	char name[40];
	size_t l;
	int ret;

	mail_name(name, sizeof(name), e->id, "mail");
	ret = read_file(sp->dirfd, name, &b, &l, e->file_bytes);
	if (ret < 0) {
		free(b);
		return ret == -ENOMEM ? ret : ret == -EBADMSG ? ret : -EIO;
	}
	ret = mail_parse(b, l, e->id, &chk);
	if (ret < 0) {
		free(b);
		return ret;
	}
	/* The body is the file's tail: move it to the front. */
	memmove(b, b + (l - chk->body_len), chk->body_len);
	*buf = b;
	*len = chk->body_len;
	entry_free(chk);
	return 0;
}
