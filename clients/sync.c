/*
 * sync: "vacancy sync FILE". Owns the batch and problem lists the readers
 * fill, the AGS of a transfer, the split into parts, the deterministic
 * transfer ids, and the run: read the file, report its problems (nothing is
 * sent while there is an error), POST each part to /v1/sync with retries,
 * and print what the registry did, with every answer mapped back to the
 * line (CSV) or immobilie (OpenImmo) it concerns.
 *
 * A retry of the same file sends the same transfer ids, so parts that were
 * applied before are answered from the registry's record ("replayed") and
 * nothing is applied twice.
 */
#include "sync.h"
#include "print.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "codec.h"
#include "csv.h"
#include "json.h"
#include "openimmo.h"

/* Bytes of a part kept for the request's own fields (ids, AGS, scope). */
#define SYNC_REQUEST_OVERHEAD 1024
/* Width of the progress bar in characters. */
#define SYNC_BAR_WIDTH 30

/* ---- batch and problems ---- */

void
sync_batch_init(struct sync_batch *b, enum sync_format format)
{
	memset(b, 0, sizeof(*b));
	b->format = format;
}

void
sync_batch_free(struct sync_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		protobuf_c_message_free_unpacked(&b->changes[i]->base, &codec_heap);
	free(b->changes);
	free(b->sources);
	free(b->ags);
	memset(b, 0, sizeof(*b));
}

int
sync_batch_add(struct sync_batch *b, Vacancy__V1__RecordChange *c, struct sync_source src)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		Vacancy__V1__RecordChange **nc = realloc(b->changes, cap * sizeof(*nc));
		struct sync_source *ns;

		if (nc == NULL)
			goto fail;
		b->changes = nc;
		if ((ns = realloc(b->sources, cap * sizeof(*ns))) == NULL)
			goto fail;
		b->sources = ns;
		b->cap = cap;
	}
	b->changes[b->n] = c;
	b->sources[b->n] = src;
	b->n++;
	return 0;
fail:
	protobuf_c_message_free_unpacked(&c->base, &codec_heap);
	return -1;
}

const char *
sync_change_external_id(const Vacancy__V1__RecordChange *c)
{
	const char *id = NULL;

	if (c->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT && c->upsert)
		id = c->upsert->external_id;
	else if (c->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW && c->withdraw)
		id = c->withdraw->external_id;
	return id ? id : "";
}

void
sync_problems_init(struct sync_problems *p, size_t max)
{
	memset(p, 0, sizeof(*p));
	p->max = max;
}

void
sync_problems_free(struct sync_problems *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->items[i].where);
		free(p->items[i].message);
	}
	free(p->items);
	memset(p, 0, sizeof(*p));
}

void
sync_problem_add(struct sync_problems *p, enum sync_severity s, unsigned long line,
		 const char *where, const char *fmt, ...)
{
	struct sync_problem *it;
	va_list ap;
	char *msg = NULL;

	if (s == SYNC_ERROR)
		p->errors++;
	else if (s == SYNC_WARNING)
		p->warnings++;
	if (p->n >= p->max) {
		p->dropped++;
		return;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;

		if ((it = realloc(p->items, cap * sizeof(*it))) == NULL) {
			p->oom = 1;
			return;
		}
		p->items = it;
		p->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	it = &p->items[p->n];
	it->severity = s;
	it->line = line;
	it->message = msg;
	it->where = where ? strdup(where) : NULL;
	if (msg == NULL || (where && it->where == NULL)) {
		free(msg);
		free(it->where);
		p->oom = 1;
		return;
	}
	p->n++;
}

/* ---- AGS, duplicates, parts, ids ---- */

int
sync_ags_valid(const char *s)
{
	int land;

	for (int i = 0; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	if (s[8] != '\0')
		return 0;
	land = (s[0] - '0') * 10 + (s[1] - '0');
	return land >= 1 && land <= 16;
}

/* "immobilie 3 (ANN-3)" for an OpenImmo change; NULL for CSV (the line says it all). */
static const char *
sync_source_where(const struct sync_batch *b, size_t i, char *out, size_t outlen)
{
	if (b->format != SYNC_FORMAT_OPENIMMO)
		return NULL;
	snprintf(out, outlen, "immobilie %lu (%.64s)", b->sources[i].number,
		 sync_change_external_id(b->changes[i]));
	return out;
}

/* Orders change indexes by external_id, then by position. */
static const struct sync_batch *sync_sort_batch;

static int
sync_cmp_id(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(sync_change_external_id(sync_sort_batch->changes[x]),
		       sync_change_external_id(sync_sort_batch->changes[y]));

	return c ? c : (x > y) - (x < y);
}

/* Reports every external_id named by more than one change. */
static void
sync_find_duplicates(const struct sync_batch *b, struct sync_problems *p)
{
	size_t *idx;
	char where[128];

	if (b->n < 2)
		return;
	if ((idx = malloc(b->n * sizeof(*idx))) == NULL) {
		sync_problem_add(p, SYNC_ERROR, 0, NULL, "out of memory");
		return;
	}
	for (size_t i = 0; i < b->n; i++)
		idx[i] = i;
	sync_sort_batch = b;
	qsort(idx, b->n, sizeof(*idx), sync_cmp_id);
	for (size_t i = 1, first = idx[0]; i < b->n; i++) {
		size_t k = idx[i];
		const char *id = sync_change_external_id(b->changes[k]);

		if (strcmp(id, sync_change_external_id(b->changes[first])) != 0) {
			first = k; /* the earliest of the next group: the sort keeps file order */
			continue;
		}
		if (b->format == SYNC_FORMAT_OPENIMMO)
			sync_problem_add(p, SYNC_ERROR, b->sources[k].line,
					 sync_source_where(b, k, where, sizeof(where)),
					 "objektnr_extern '%.64s' also in immobilie %lu: each site "
					 "once per transfer",
					 id, b->sources[first].number);
		else
			sync_problem_add(p, SYNC_ERROR, b->sources[k].line, NULL,
					 "external_id '%.64s' also on line %lu: each site once per "
					 "transfer",
					 id, b->sources[first].line);
	}
	free(idx);
}

const char *
sync_batch_finish(struct sync_batch *b, const char *ags, struct sync_problems *p)
{
	size_t errors = p->errors;
	const char *resolved = NULL;
	char where[128];

	if (ags && !sync_ags_valid(ags))
		sync_problem_add(
		    p, SYNC_ERROR, 0, NULL,
		    "'%.20s' (--ags or VACANCY_MUNICIPALITY_AGS) is not a municipality "
		    "key: 8 digits such as 14521020",
		    ags);
	else if (b->ags && !sync_ags_valid(b->ags))
		sync_problem_add(p, SYNC_ERROR, b->ags_line, NULL,
				 "municipality_ags '%.20s' is not a municipality key: 8 digits "
				 "such as 14521020",
				 b->ags);
	else if (ags && b->ags && strcmp(ags, b->ags) != 0)
		sync_problem_add(p, SYNC_ERROR, b->ags_line, NULL,
				 "the file is for municipality %.20s, but --ags says %s", b->ags,
				 ags);
	else if ((resolved = ags ? ags : b->ags) == NULL)
		sync_problem_add(p, SYNC_ERROR, 0, NULL,
				 "no municipality key (AGS): give a municipality_ags %s, --ags, or "
				 "VACANCY_MUNICIPALITY_AGS",
				 b->format == SYNC_FORMAT_CSV ? "column" : "user field");
	/* "empty" only when no row was dropped for an error of its own */
	if (b->n == 0 && p->errors == 0)
		sync_problem_add(p, SYNC_ERROR, 0, NULL,
				 "the file holds no changes; nothing to send");
	for (size_t i = 0; resolved && i < b->n; i++) {
		Vacancy__V1__Record *r = b->changes[i]->upsert;

		if (b->changes[i]->change_case != VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT)
			continue;
		if (r->municipality_ags == NULL) {
			if ((r->municipality_ags = strdup(resolved)) == NULL) {
				sync_problem_add(p, SYNC_ERROR, 0, NULL, "out of memory");
				return NULL;
			}
		} else if (strcmp(r->municipality_ags, resolved) != 0) {
			sync_problem_add(p, SYNC_ERROR, b->sources[i].line,
					 sync_source_where(b, i, where, sizeof(where)),
					 "municipality_ags %.20s differs from %s: a transfer is "
					 "for one municipality",
					 r->municipality_ags, resolved);
		}
	}
	sync_find_duplicates(b, p);
	return p->errors == errors ? resolved : NULL;
}

/* Bytes of a varint holding v. */
static size_t
sync_varint_size(size_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

int
sync_plan(const struct sync_batch *b, size_t max_changes, size_t max_bytes,
	  struct sync_part **parts_out, size_t *nparts_out, struct sync_problems *p)
{
	struct sync_part *parts = NULL, cur = {0, 0, 0};
	size_t n = 0, cap = 0, budget;
	char where[128];

	*parts_out = NULL;
	*nparts_out = 0;
	if (max_changes == 0 || max_bytes <= SYNC_REQUEST_OVERHEAD) {
		sync_problem_add(p, SYNC_ERROR, 0, NULL, "no room for a change in a transfer");
		return -1;
	}
	budget = max_bytes - SYNC_REQUEST_OVERHEAD;
	for (size_t i = 0; i <= b->n; i++) {
		size_t size = 0, cost = 0;

		if (i < b->n) {
			size = protobuf_c_message_get_packed_size(&b->changes[i]->base);
			cost = 1 + sync_varint_size(size) + size; /* tag, length, bytes */
			if (cost > budget) {
				sync_problem_add(p, SYNC_ERROR, b->sources[i].line,
						 sync_source_where(b, i, where, sizeof(where)),
						 "the change takes %zu bytes, more than a transfer "
						 "may hold (%zu)",
						 cost, budget);
				free(parts);
				return -1;
			}
		}
		if (cur.n > 0 && (i == b->n || cur.n == max_changes || cur.bytes + cost > budget)) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				struct sync_part *np = realloc(parts, ncap * sizeof(*np));

				if (np == NULL) {
					sync_problem_add(p, SYNC_ERROR, 0, NULL, "out of memory");
					free(parts);
					return -1;
				}
				parts = np;
				cap = ncap;
			}
			parts[n++] = cur;
			cur.start = i;
			cur.n = cur.bytes = 0;
		}
		if (i < b->n) {
			cur.n++;
			cur.bytes += cost;
		}
	}
	*parts_out = parts;
	*nparts_out = n;
	return 0;
}

int
sync_transfer_base(const char *data, size_t len, int full, const char *ags, size_t batch,
		   char out[17])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const char *scope = full ? "full" : "partial";
	char split[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, data, len) == 1 &&
	     EVP_DigestUpdate(ctx, scope, strlen(scope)) == 1 &&
	     EVP_DigestUpdate(ctx, ags, strlen(ags)) == 1 &&
	     /* the split: the same file cut differently makes other transfers */
	     snprintf(split, sizeof(split), "/%zu", batch) > 0 &&
	     EVP_DigestUpdate(ctx, split, strlen(split)) == 1 &&
	     EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 8;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[16] = '\0';
	return 0;
}

int
sync_transfer_id_valid(const char *id)
{
	size_t n = 0;

	for (const char *s = id; *s; s++, n++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == ':' || *s == '-'))
			return 0;
	return n >= 1 && n <= SYNC_ID_MAX;
}

enum sync_format
sync_detect_format(const char *path, const char *data, size_t len)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t i = 0;

	if (dot && (slash == NULL || dot > slash)) {
		if (strcasecmp(dot, ".csv") == 0)
			return SYNC_FORMAT_CSV;
		if (strcasecmp(dot, ".xml") == 0)
			return SYNC_FORMAT_OPENIMMO;
	}
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	return i < len && data[i] == '<' ? SYNC_FORMAT_OPENIMMO : SYNC_FORMAT_CSV;
}

/* ---- the command ---- */

/* Totals over the parts of one run. */
struct sync_totals {
	uint64_t created, updated, unchanged, withdrawn, stale, rejected;
	size_t replayed, done;
};

/* One run of the command. */
struct sync_run {
	const struct sync_options *o;
	const char *file;	 /* borrowed, for messages */
	struct sync_batch batch; /* owned */
	struct sync_part *parts; /* owned */
	size_t nparts;
	const char *ags; /* borrowed from the batch or the options */
	int full;	 /* FULL scope */
	char base[SYNC_ID_MAX + 1];
	struct client_http *h; /* owned */
	struct sync_totals t;
	struct buf stale;    /* lines "  line 7 (ANN-7): ..." for the summary */
	int bar;	     /* draw a progress bar on stderr */
	size_t sent_changes; /* changes of the parts answered so far */
};

/* Clears the progress bar's line before other output. */
static void
sync_bar_clear(const struct sync_run *run)
{
	if (run->bar)
		fputs("\r\033[K", stderr);
}

/* Draws the progress bar: parts and changes answered so far. */
static void
sync_bar_draw(const struct sync_run *run, size_t part)
{
	size_t total = run->batch.n, filled;

	if (!run->bar)
		return;
	filled = total ? run->sent_changes * SYNC_BAR_WIDTH / total : 0;
	fputs("\r\033[K[", stderr);
	for (size_t i = 0; i < SYNC_BAR_WIDTH; i++)
		fputc(i < filled ? '#' : '.', stderr);
	fprintf(stderr, "] %zu/%zu changes, part %zu of %zu", run->sent_changes, total, part + 1,
		run->nparts);
	fflush(stderr);
}

/* Prints the problems of the file on stderr, "FILE:LINE: where: message". */
static void
sync_print_problems(const struct sync_run *run, const struct sync_problems *p)
{
	static const char *const label[] = {"", "warning: ", "notice: "};
	struct buf line;

	buf_init(&line, 0);
	for (size_t i = 0; i < p->n; i++) {
		const struct sync_problem *it = &p->items[i];

		buf_reset(&line);
		client_print_escape(&line, run->file, strlen(run->file), PRINT_NL_C);
		if (it->line)
			buf_printf(&line, ":%lu", it->line);
		buf_printf(&line, ": %s", label[it->severity]);
		if (it->where) {
			client_print_escape(&line, it->where, strlen(it->where), PRINT_NL_C);
			buf_adds(&line, ": ");
		}
		client_print_escape(&line, it->message, strlen(it->message), PRINT_NL_C);
		if (!buf_failed(&line))
			fprintf(stderr, "%s\n", line.data);
	}
	if (p->dropped)
		fprintf(stderr, "vacancy: %zu more problems not listed\n", p->dropped);
	if (p->oom)
		fprintf(stderr, "vacancy: out of memory: some problems could not be listed\n");
	buf_free(&line);
}

/* Reads path into *data (owned, NUL-terminated). 0, or -1 after a message. */
static int
sync_read_file(const char *path, char **data, size_t *len)
{
	struct stat st;
	char *d = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "vacancy: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		fprintf(stderr, "vacancy: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "vacancy: %s: not a regular file\n", path);
		goto fail;
	}
	if ((uint64_t)st.st_size > SYNC_MAX_FILE) {
		fprintf(stderr, "vacancy: %s: %jd bytes; a file may have at most %zu MiB\n", path,
			(intmax_t)st.st_size, SYNC_MAX_FILE >> 20);
		goto fail;
	}
	if ((d = malloc((size_t)st.st_size + 1)) == NULL) {
		fprintf(stderr, "vacancy: out of memory\n");
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, d + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "vacancy: %s: %s\n", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break; /* shrank while reading: take what is there */
		got += (size_t)n;
	}
	d[got] = '\0';
	close(fd);
	*data = d;
	*len = got;
	return 0;
fail:
	free(d);
	close(fd);
	return -1;
}

/* "line 12 (ANN-12)" or "immobilie 3, line 120 (ANN-3)" for change i of the batch. */
static void
sync_change_name(struct buf *out, const struct sync_batch *b, size_t i)
{
	if (b->format == SYNC_FORMAT_OPENIMMO)
		buf_printf(out, "immobilie %lu, line %lu (", b->sources[i].number,
			   b->sources[i].line);
	else
		buf_printf(out, "line %lu (", b->sources[i].line);
	client_print_escape(out, sync_change_external_id(b->changes[i]),
			    strlen(sync_change_external_id(b->changes[i])), PRINT_NL_C);
	buf_addc(out, ')');
}

/* Appends one field error, mapped to the file, as "  line 12 (ANN-12): field: CODE: message". */
static void
sync_field_error(struct buf *out, const struct sync_run *run, const struct sync_part *part,
		 const Vacancy__V1__FieldError *fe)
{
	buf_adds(out, "  ");
	if (fe->has_index && fe->index < part->n) {
		sync_change_name(out, &run->batch, part->start + fe->index);
	} else if (fe->has_index) {
		buf_printf(out, "change #%" PRIu32 " of the part", fe->index);
	} else {
		buf_adds(out, "transfer");
	}
	if (fe->field && *fe->field) {
		buf_adds(out, ": ");
		client_print_escape(out, fe->field, strlen(fe->field), PRINT_NL_C);
	}
	if (fe->code && *fe->code) {
		buf_adds(out, ": ");
		client_print_escape(out, fe->code, strlen(fe->code), PRINT_NL_C);
	}
	if (fe->message && *fe->message) {
		buf_adds(out, ": ");
		client_print_escape(out, fe->message, strlen(fe->message), PRINT_NL_C);
	}
	buf_addc(out, '\n');
}

/* Writes the field errors of an answer on stderr. */
static void
sync_print_field_errors(const struct sync_run *run, const struct sync_part *part,
			Vacancy__V1__FieldError **errs, size_t n)
{
	struct buf out;

	buf_init(&out, 0);
	for (size_t i = 0; i < n; i++)
		if (errs[i])
			sync_field_error(&out, run, part, errs[i]);
	if (!buf_failed(&out) && out.len)
		fputs(out.data, stderr);
	buf_free(&out);
}

/* Decodes an Error answer (protobuf or JSON); NULL when there is none. Free with
 * protobuf_c_message_free_unpacked(e, NULL) / client_http_free_message. */
static Vacancy__V1__Error *
sync_decode_error(const struct client_response *r, int *json)
{
	const char *why;
	char reason[128];

	*json = 0;
	if (strcmp(r->content_type, CLIENT_HTTP_PROTOBUF) == 0)
		return (Vacancy__V1__Error *)client_http_unpack(r, &vacancy__v1__error__descriptor,
								&why);
	if (strcmp(r->content_type, CLIENT_HTTP_JSON) == 0) {
		*json = 1;
		return (Vacancy__V1__Error *)json_decode(
		    &vacancy__v1__error__descriptor, r->body.data ? r->body.data : "", r->body.len,
		    NULL, 0, reason, sizeof(reason));
	}
	return NULL;
}

static void
sync_free_error(Vacancy__V1__Error *e, int json)
{
	if (e == NULL)
		return;
	if (json)
		protobuf_c_message_free_unpacked(&e->base, NULL);
	else
		client_http_free_message(&e->base);
}

/* "part 2 of 5" or "the transfer" when there is one part. */
static const char *
sync_part_name(const struct sync_run *run, size_t k, char *out, size_t outlen)
{
	if (run->nparts == 1)
		snprintf(out, outlen, "the transfer");
	else
		snprintf(out, outlen, "part %zu of %zu", k + 1, run->nparts);
	return out;
}

/* What stays after part k failed: earlier parts are applied. */
static void
sync_print_stopped(const struct sync_run *run, size_t k, int rejected)
{
	if (run->o->check || k == 0) {
		fprintf(stderr, "vacancy: nothing was applied\n");
		return;
	}
	if (k == 1)
		fprintf(stderr,
			"vacancy: part 1 was applied and stays applied; parts 2 to %zu were "
			"not.\n",
			run->nparts);
	else
		fprintf(stderr,
			"vacancy: parts 1 to %zu were applied and stay applied; parts %zu to %zu "
			"were not.\n",
			k, k + 1, run->nparts);
	if (rejected)
		fprintf(stderr, "vacancy: fix the lines above and send the file again: the sites "
				"already applied then count as unchanged.\n");
	else
		fprintf(stderr, "vacancy: run the same command again: parts already applied are "
				"answered from the registry's record and not applied twice.\n");
	if (run->full)
		fprintf(stderr, "vacancy: the FULL stock is incomplete: nothing was withdrawn yet "
				"for the sites the file lacks.\n");
}

/* Prints an error answer (not 422) with the code and message of its body. */
static void
sync_print_error_answer(const struct sync_run *run, size_t k, const struct client_response *r)
{
	Vacancy__V1__Error *e;
	struct buf out;
	char name[64];
	int json;

	buf_init(&out, 0);
	sync_part_name(run, k, name, sizeof(name));
	buf_printf(&out, "vacancy: %s: HTTP %ld", name, r->status);
	if ((e = sync_decode_error(r, &json)) != NULL) {
		if (e->code && *e->code) {
			buf_adds(&out, ": ");
			client_print_escape(&out, e->code, strlen(e->code), PRINT_NL_C);
		}
		if (e->message && *e->message) {
			buf_adds(&out, ": ");
			client_print_escape(&out, e->message, strlen(e->message), PRINT_NL_C);
		}
		if (e->request_id && *e->request_id) {
			buf_adds(&out, " (request id ");
			client_print_escape(&out, e->request_id, strlen(e->request_id), PRINT_NL_C);
			buf_addc(&out, ')');
		}
	}
	buf_addc(&out, '\n');
	switch (r->status) {
	case 409:
		if (run->o->transfer_id)
			buf_printf(&out,
				   "vacancy: --transfer-id %s was used before for other content; "
				   "choose a new one.\n",
				   run->base);
		else
			buf_printf(
			    &out,
			    "vacancy: transfer id %s was used before for other content: this "
			    "file sent with another --batch is split differently. Use the "
			    "--batch of the first run, or pass --transfer-id.\n",
			    run->base);
		break;
	case 413:
		buf_adds(&out, "vacancy: the registry refused the part as too large; send smaller "
			       "parts with --batch N.\n");
		break;
	case 401:
		buf_adds(&out, "vacancy: check the token (VACANCY_TOKEN or --token).\n");
		break;
	case 404:
	case 405:
		buf_adds(&out, "vacancy: this registry does not offer POST /v1/sync (check the URL "
			       "or the registry's version).\n");
		break;
	default:
		break;
	}
	if (!buf_failed(&out))
		fputs(out.data, stderr);
	buf_free(&out);
	sync_free_error(e, json);
}

/* Handles a 422: every field error, mapped to the file. */
static void
sync_print_rejected(const struct sync_run *run, size_t k, const struct client_response *r)
{
	const struct sync_part *part = &run->parts[k];
	Vacancy__V1__Error *e;
	char name[64];
	int json;

	sync_part_name(run, k, name, sizeof(name));
	if ((e = sync_decode_error(r, &json)) == NULL) {
		sync_print_error_answer(run, k, r);
		return;
	}
	fprintf(stderr, "vacancy: %s was rejected (%zu error%s); nothing of it was applied:\n",
		name, e->n_field_errors, e->n_field_errors == 1 ? "" : "s");
	sync_print_field_errors(run, part, e->field_errors, e->n_field_errors);
	sync_free_error(e, json);
}

/* Adds the counts of an answer and notes its stale changes. */
static void
sync_count(struct sync_run *run, size_t k, const Vacancy__V1__SyncResponse *s)
{
	const struct sync_part *part = &run->parts[k];

	run->t.created += s->created;
	run->t.updated += s->updated;
	run->t.unchanged += s->unchanged;
	run->t.withdrawn += s->withdrawn;
	run->t.stale += s->stale;
	run->t.rejected += s->rejected;
	if (s->replayed)
		run->t.replayed++;
	for (size_t i = 0; i < s->n_errors; i++) {
		const Vacancy__V1__FieldError *fe = s->errors[i];

		if (fe && fe->code && strcmp(fe->code, "STALE") == 0)
			sync_field_error(&run->stale, run, part, fe);
	}
}

/* Prints one line for part k of several: what it did or would do. */
static void
sync_print_part(const struct sync_run *run, size_t k, const Vacancy__V1__SyncResponse *s)
{
	char name[64];

	if (run->nparts == 1 || run->o->json)
		return;
	sync_bar_clear(run);
	printf("%s: %s%" PRIu32 " created, %" PRIu32 " updated, %" PRIu32 " unchanged, %" PRIu32
	       " withdrawn, %" PRIu32 " stale%s%s\n",
	       sync_part_name(run, k, name, sizeof(name)), run->o->check ? "would be " : "",
	       s->created, s->updated, s->unchanged, s->withdrawn, s->stale,
	       s->rejected ? ", rejected changes" : "", s->replayed ? " (replayed)" : "");
	fflush(stdout); /* in order with the messages on stderr */
}

/* Writes a SyncResponse as one JSON line on stdout. 0 or -1. */
static int
sync_print_json(const Vacancy__V1__SyncResponse *s)
{
	struct buf out;
	int rc = -1;

	buf_init(&out, 0);
	if (json_encode(&s->base, &out, 0) == 0) {
		buf_addc(&out, '\n');
		if (!buf_failed(&out) && fwrite(out.data, 1, out.len, stdout) == out.len &&
		    fflush(stdout) == 0)
			rc = 0;
	}
	buf_free(&out);
	return rc;
}

/* Outcome of one part. */
enum sync_result { SYNC_APPLIED, SYNC_REJECTED, SYNC_FAILED };

/* Handles the 200 answer of part k. */
static enum sync_result
sync_answer(struct sync_run *run, size_t k, const struct client_response *r)
{
	Vacancy__V1__SyncResponse *s;
	const char *why = "not protobuf";
	char name[64];
	enum sync_result res = SYNC_APPLIED;

	sync_part_name(run, k, name, sizeof(name));
	if (strcmp(r->content_type, CLIENT_HTTP_PROTOBUF) != 0 ||
	    (s = (Vacancy__V1__SyncResponse *)client_http_unpack(
		 r, &vacancy__v1__sync_response__descriptor, &why)) == NULL) {
		sync_bar_clear(run);
		fprintf(stderr,
			"vacancy: %s: the registry answered 200 but its SyncResponse cannot be "
			"read (%s)\n",
			name, why);
		return SYNC_FAILED;
	}
	sync_count(run, k, s);
	run->sent_changes += run->parts[k].n;
	if (run->o->json && sync_print_json(s) == -1)
		res = SYNC_FAILED;
	sync_print_part(run, k, s);
	if (s->rejected) {
		sync_bar_clear(run);
		fprintf(stderr, "vacancy: %s: %" PRIu32 " change%s would be rejected:\n", name,
			s->rejected, s->rejected == 1 ? "" : "s");
		for (size_t i = 0; i < s->n_errors; i++)
			if (s->errors[i] &&
			    !(s->errors[i]->code && strcmp(s->errors[i]->code, "STALE") == 0)) {
				sync_print_field_errors(run, &run->parts[k], &s->errors[i], 1);
			}
		res = SYNC_REJECTED;
	}
	client_http_free_message(&s->base);
	return res;
}

/* Packs part k as a SyncRequest into *body (owned). 0 or -1. */
static int
sync_pack(const struct sync_run *run, size_t k, uint8_t **body, size_t *len)
{
	Vacancy__V1__SyncRequest req = VACANCY__V1__SYNC_REQUEST__INIT;
	const struct sync_part *part = &run->parts[k];
	char id[SYNC_ID_MAX + 32];

	if (run->nparts == 1)
		snprintf(id, sizeof(id), "%s", run->base);
	else
		snprintf(id, sizeof(id), "%s-%zuof%zu", run->base, k + 1, run->nparts);
	req.transfer_id = id;
	req.municipality_ags = (char *)run->ags;
	req.has_scope = 1;
	req.scope = run->full && k + 1 == run->nparts ? VACANCY__V1__SYNC_SCOPE__VALUE__FULL
						      : VACANCY__V1__SYNC_SCOPE__VALUE__PARTIAL;
	if (run->full && run->nparts > 1)
		req.full_session = (char *)run->base;
	if (run->o->check) {
		req.has_validate_only = 1;
		req.validate_only = 1;
	}
	req.n_changes = part->n;
	req.changes = run->batch.changes + part->start;
	*len = protobuf_c_message_get_packed_size(&req.base);
	if ((*body = malloc(*len ? *len : 1)) == NULL)
		return -1;
	if (protobuf_c_message_pack(&req.base, *body) != *len) {
		free(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

/* Sends part k, retrying transport failures and 503; handles the answer. */
static enum sync_result
sync_send(struct sync_run *run, size_t k)
{
	struct client_response resp;
	enum sync_result res = SYNC_FAILED;
	uint8_t *body = NULL;
	size_t len = 0;
	char name[64];
	int rc;

	client_response_init(&resp);
	sync_part_name(run, k, name, sizeof(name));
	if (sync_pack(run, k, &body, &len) == -1) {
		fprintf(stderr, "vacancy: out of memory\n");
		goto done;
	}
	for (int attempt = 0;; attempt++) {
		unsigned delay = 1u << attempt;
		const char *why;

		sync_bar_draw(run, k);
		rc = client_http_post(run->h, "/v1/sync", CLIENT_HTTP_PROTOBUF, body, len,
				      CLIENT_HTTP_PROTOBUF, &resp);
		if (rc == 0 && resp.status != 503)
			break;
		if (rc == -1 && resp.too_large) {
			sync_bar_clear(run);
			fprintf(stderr, "vacancy: %s: %s\n", name, client_http_error(run->h));
			goto done;
		}
		why =
		    rc == -1 ? client_http_error(run->h) : "HTTP 503: the registry is unavailable";
		sync_bar_clear(run);
		if (attempt == SYNC_RETRIES) {
			fprintf(stderr, "vacancy: %s: %s; gave up after %d retries\n", name, why,
				SYNC_RETRIES);
			goto done;
		}
		fprintf(stderr, "vacancy: %s: %s; retrying in %u s (%d of %d)\n", name, why, delay,
			attempt + 1, SYNC_RETRIES);
		sleep(delay);
	}
	sync_bar_clear(run);
	if (resp.status == 200)
		res = sync_answer(run, k, &resp);
	else if (resp.status == 422) {
		sync_print_rejected(run, k, &resp);
		res = SYNC_REJECTED;
	} else {
		sync_print_error_answer(run, k, &resp);
	}
done:
	free(body);
	client_response_free(&resp);
	return res;
}

/* The summary after the last part (not with --json). */
static void
sync_print_summary(const struct sync_run *run)
{
	const struct sync_totals *t = &run->t;

	if (run->o->json)
		return;
	sync_bar_clear(run);
	if (run->o->check)
		printf("check only, nothing was applied: would create %" PRIu64 ", update %" PRIu64
		       ", leave unchanged %" PRIu64 ", withdraw %" PRIu64 "; stale %" PRIu64
		       ", rejected %" PRIu64 "\n",
		       t->created, t->updated, t->unchanged, t->withdrawn, t->stale, t->rejected);
	else
		printf("created %" PRIu64 ", updated %" PRIu64 ", unchanged %" PRIu64
		       ", withdrawn %" PRIu64 ", stale %" PRIu64 "\n",
		       t->created, t->updated, t->unchanged, t->withdrawn, t->stale);
	if (t->replayed)
		printf("replayed parts: %zu of %zu (sent before; the registry returned its first "
		       "answer and changed nothing)\n",
		       t->replayed, run->nparts);
	if (run->stale.len) {
		printf("stale (not applied: the registry holds a newer or equal revision):\n");
		if (!buf_failed(&run->stale))
			fputs(run->stale.data, stdout);
	}
}

int
sync_command(const struct sync_options *o, const struct client_http_config *cfg)
{
	struct sync_run run = {0};
	struct sync_problems probs;
	char *data = NULL, err[512];
	const char *ags = o->ags;
	size_t len = 0;
	int rc = 1, read_rc, env_ags;

	sync_problems_init(&probs, SYNC_MAX_PROBLEMS);
	buf_init(&run.stale, 0);
	run.o = o;
	run.file = o->file;
	if (client_http_check(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancy: %s\nrun 'vacancy help sync' for its usage\n", err);
		rc = 2;
		goto done;
	}
	if (o->transfer_id && !sync_transfer_id_valid(o->transfer_id)) {
		fprintf(stderr,
			"vacancy: --transfer-id wants 1 to %d of the characters A-Z a-z 0-9 . _ : "
			"-\nrun 'vacancy help sync' for its usage\n",
			SYNC_ID_MAX);
		rc = 2;
		goto done;
	}
	if (ags == NULL && (ags = getenv("VACANCY_MUNICIPALITY_AGS")) != NULL && *ags == '\0')
		ags = NULL;
	env_ags = o->ags == NULL && ags != NULL;
	if (sync_read_file(o->file, &data, &len) == -1)
		goto done;
	sync_batch_init(&run.batch, sync_detect_format(o->file, data, len));
	if (run.batch.format == SYNC_FORMAT_CSV)
		read_rc = csv_read(data, len, &run.batch, &probs);
	else
		read_rc = openimmo_read(data, len, &run.batch, &probs);
	/* the environment is a default: an AGS the file names wins over it */
	if (env_ags && run.batch.ags)
		ags = NULL;
	/* also after errors, so that duplicates and a wrong AGS are listed with them */
	run.ags = sync_batch_finish(&run.batch, ags, &probs);
	if (read_rc == -1)
		run.ags = NULL;
	run.full = o->full || run.batch.full;
	if (probs.errors == 0 && sync_plan(&run.batch, (size_t)o->batch, SYNC_MAX_PART, &run.parts,
					   &run.nparts, &probs) == -1)
		run.nparts = 0;
	sync_print_problems(&run, &probs);
	if (probs.errors) {
		fprintf(stderr, "vacancy: %zu error%s in %s; nothing was sent\n", probs.errors,
			probs.errors == 1 ? "" : "s", o->file);
		goto done;
	}
	if (o->transfer_id)
		snprintf(run.base, sizeof(run.base), "%s", o->transfer_id);
	else if (sync_transfer_base(data, len, run.full, run.ags, o->batch, run.base) == -1) {
		fprintf(stderr, "vacancy: cannot compute the transfer id (SHA-256)\n");
		goto done;
	}
	if (!o->json && run.nparts == 1)
		printf("%s: %zu change%s for municipality %s, %s, transfer id %s\n", o->file,
		       run.batch.n, run.batch.n == 1 ? "" : "s", run.ags,
		       run.full ? "the whole stock (FULL)" : "PARTIAL", run.base);
	else if (!o->json)
		printf("%s: %zu changes for municipality %s, %s, in %zu transfers %s-1of%zu to "
		       "%s-%zuof%zu\n",
		       o->file, run.batch.n, run.ags,
		       run.full ? "the whole stock (FULL)" : "PARTIAL", run.nparts, run.base,
		       run.nparts, run.base, run.nparts, run.nparts);
	if (o->check && run.full && run.nparts > 1 && !o->json)
		printf("note: with --check no part is stored, so the last part cannot know the "
		       "records of the others: its withdrawn count may be too high\n");
	fflush(stdout);
	if (client_http_open(&run.h, cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancy: %s\n", err);
		goto done;
	}
	run.bar = isatty(STDERR_FILENO) && (run.nparts > 1 || run.batch.n > 1000);
	rc = 0;
	for (size_t k = 0; k < run.nparts; k++) {
		enum sync_result res = sync_send(&run, k);

		if (res == SYNC_APPLIED) {
			run.t.done++;
			continue;
		}
		rc = 1;
		if (res == SYNC_REJECTED && o->check) {
			run.t.done++;
			continue; /* show the errors of every part; nothing is applied anyway */
		}
		sync_print_stopped(&run, k, res == SYNC_REJECTED);
		break;
	}
	sync_bar_clear(&run);
	if (run.t.done)
		sync_print_summary(&run);
done:
	client_http_close(run.h);
	free(run.parts);
	sync_batch_free(&run.batch);
	sync_problems_free(&probs);
	buf_free(&run.stale);
	free(data);
	return rc;
}
