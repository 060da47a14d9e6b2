/*
 * report: "vacancy report". Owns the checks of its options, the request path,
 * and the three outputs (overview table, municipalities, monthly series),
 * each as an aligned table or RFC 4180 CSV; --json prints the server's body
 * as it came. Every cell is rendered to text first, then the columns are
 * sized in terminal columns and written in one piece, so a failed write or
 * allocation is reported once at the end.
 *
 * Server text (AGS, names, months, timestamps) is untrusted: in tables,
 * control characters, C1 controls, bidi overrides and invalid UTF-8 are
 * written as \xNN or \uNNNN. CSV carries the data as it is (quoted): it is
 * meant for a file or a spreadsheet, not for the terminal.
 */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "print.h"

#define REPORT_MAX_COLS	 12	  /* columns of the widest table (overview: 10) */
#define REPORT_GAP	 "  "	  /* between columns */
#define REPORT_ABSENT	 "\u2013" /* en dash: a value the server did not send */
#define REPORT_ALERT_ON	 "\033[1;31m"
#define REPORT_ALERT_OFF "\033[0m"

/* The grouping keys of GET /v1/overview: parameter value, row field, table header. */
static const struct report_key {
	const char *name;
	const char *field;
	const char *head;
} report_keys[] = {
    {"municipality", "municipality_ags", "AGS"},
    {"object_type", "object_type", "object type"},
    {"site_kind", "site_kind", "site kind"},
    {"status", "status", "status"},
    {"usage", "usage", "usage"},
};

#define NKEYS (sizeof(report_keys) / sizeof(report_keys[0]))

/* ---- Checking the options ---- */

int
report_check_region(const char *s, char *err, size_t errlen)
{
	char shown[64];
	size_t n = strspn(s, "0123456789");
	int land;

	if (n != strlen(s) || n < 2 || n > 8) {
		snprintf(err, errlen,
			 "--region wants an AGS prefix of 2 to 8 digits, e.g. 14521, not '%s'",
			 log_escape(s, strlen(s), shown, sizeof(shown)));
		return -1;
	}
	land = (s[0] - '0') * 10 + (s[1] - '0');
	if (land < 1 || land > 16) {
		snprintf(err, errlen, "--region %s: no Land has the key %.2s (01 to 16)", s, s);
		return -1;
	}
	return 0;
}

int
report_parse_group_by(const char *arg, const char *keys[REPORT_MAX_GROUP], int *n, char *err,
		      size_t errlen)
{
	char shown[64];
	const char *p = arg;

	*n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *key = NULL;

		for (size_t i = 0; i < NKEYS; i++)
			if (strlen(report_keys[i].name) == len &&
			    strncmp(report_keys[i].name, p, len) == 0)
				key = report_keys[i].name;
		if (len == 0) {
			snprintf(err, errlen,
				 "--group-by wants one or two keys separated by a comma, "
				 "e.g. municipality,status");
			return -1;
		}
		if (key == NULL) {
			snprintf(err, errlen,
				 "--group-by: '%s' is not one of municipality, object_type, "
				 "site_kind, status, usage",
				 log_escape(p, len, shown, sizeof(shown)));
			return -1;
		}
		if (*n == REPORT_MAX_GROUP) {
			snprintf(err, errlen, "--group-by takes at most %d keys", REPORT_MAX_GROUP);
			return -1;
		}
		for (int i = 0; i < *n; i++) {
			if (keys[i] == key) {
				snprintf(err, errlen, "--group-by names '%s' twice", key);
				return -1;
			}
		}
		keys[(*n)++] = key;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

int
report_parse_month(const char *s, long *month)
{
	long y, m;

	for (int i = 0; i < 7; i++)
		if (i == 4 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return -1;
	if (s[7] != '\0')
		return -1;
	y = (s[0] - '0') * 1000L + (s[1] - '0') * 100L + (s[2] - '0') * 10L + (s[3] - '0');
	m = (s[5] - '0') * 10L + (s[6] - '0');
	if (m < 1 || m > 12)
		return -1;
	*month = y * 12 + m - 1;
	return 0;
}

void
report_format_month(long month, char out[8])
{
	int y, m;

	if (month < 0)
		month = 0;
	if (month > 9999L * 12 + 11)
		month = 9999L * 12 + 11;
	y = (int)(month / 12);
	m = (int)(month % 12) + 1;
	snprintf(out, 8, "%04u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u);
}

/* The instant of 01:00 UTC on the last Sunday of month mon (0-based, 31 days) of year. */
static time_t
report_last_sunday(int year, int mon)
{
	struct tm tm = {0};
	time_t t;

	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = 31;
	tm.tm_hour = 1;
	t = timegm(&tm); /* also sets tm_wday */
	return t - (time_t)tm.tm_wday * 86400;
}

long
report_berlin_month(time_t now)
{
	struct tm tm;
	time_t local;
	int year;

	gmtime_r(&now, &tm);
	year = tm.tm_year + 1900;
	/* CEST (UTC+2) from the last Sunday of March to that of October, 01:00 UTC */
	if (now >= report_last_sunday(year, 2) && now < report_last_sunday(year, 9))
		local = now + 7200;
	else
		local = now + 3600;
	gmtime_r(&local, &tm);
	return (tm.tm_year + 1900L) * 12 + tm.tm_mon;
}

/* Checks --from and --to and fills q->from and q->to. 0, or -1 with a reason. */
static int
report_check_months(const struct report_options *o, time_t now, struct report_query *q, char *err,
		    size_t errlen)
{
	char shown[64], a[8], b[8];
	long from = 0, to = 0;

	if (o->from == NULL && o->to == NULL)
		return 0; /* the registry's default: the last 24 months */
	if (o->from && report_parse_month(o->from, &from) == -1) {
		snprintf(err, errlen, "--from wants a month YYYY-MM, e.g. 2025-01, not '%s'",
			 log_escape(o->from, strlen(o->from), shown, sizeof(shown)));
		return -1;
	}
	if (o->to && report_parse_month(o->to, &to) == -1) {
		snprintf(err, errlen, "--to wants a month YYYY-MM, e.g. 2025-12, not '%s'",
			 log_escape(o->to, strlen(o->to), shown, sizeof(shown)));
		return -1;
	}
	if (o->to == NULL)
		to = report_berlin_month(now);
	if (o->from == NULL)
		from = to - (REPORT_SPAN - 1) < 0 ? 0 : to - (REPORT_SPAN - 1);
	report_format_month(from, a);
	report_format_month(to, b);
	if (from > to) {
		if (o->to)
			snprintf(err, errlen, "--from %s is after --to %s", a, b);
		else
			snprintf(err, errlen,
				 "--from %s is after the current month %s: the series ends there",
				 a, b);
		return -1;
	}
	if (to - from + 1 > REPORT_MAX_MONTHS) {
		snprintf(err, errlen,
			 "%s to %s are %ld months; the registry gives at most %d in one series", a,
			 b, to - from + 1, REPORT_MAX_MONTHS);
		return -1;
	}
	memcpy(q->from, a, sizeof(a));
	memcpy(q->to, b, sizeof(b));
	return 0;
}

int
report_check(const struct report_options *o, time_t now, struct report_query *q, char *err,
	     size_t errlen)
{
	memset(q, 0, sizeof(*q));
	q->mode = o->municipalities ? REPORT_MUNICIPALITIES
		  : o->series	    ? REPORT_SERIES
				    : REPORT_OVERVIEW;
	q->format = o->csv ? REPORT_CSV : REPORT_TABLE;
	q->json = o->json;
	q->ascii = o->ascii;
	q->region = o->region;
	if (o->csv && o->json) {
		snprintf(err, errlen, "--csv and --json exclude each other");
		return -1;
	}
	if (o->municipalities && o->series) {
		snprintf(err, errlen, "--municipalities and --series exclude each other");
		return -1;
	}
	if (o->group_by && q->mode != REPORT_OVERVIEW) {
		snprintf(err, errlen, "--group-by does not go with %s",
			 o->series ? "--series" : "--municipalities");
		return -1;
	}
	if ((o->from || o->to) && q->mode != REPORT_SERIES) {
		snprintf(err, errlen, "%s needs --series", o->from ? "--from" : "--to");
		return -1;
	}
	if (o->ascii && q->mode != REPORT_SERIES) {
		snprintf(err, errlen, "--ascii applies to the bars of --series only");
		return -1;
	}
	if (o->region && report_check_region(o->region, err, errlen) == -1)
		return -1;
	if (q->mode == REPORT_OVERVIEW) {
		if (o->group_by == NULL) {
			q->group[0] = report_keys[0].name;
			q->n_group = 1;
		} else if (report_parse_group_by(o->group_by, q->group, &q->n_group, err, errlen) ==
			   -1) {
			return -1;
		}
	}
	if (q->mode == REPORT_SERIES && report_check_months(o, now, q, err, errlen) == -1)
		return -1;
	return 0;
}

/* Appends "&name=value" ('?' first), value percent-encoded. */
static void
report_param(struct buf *b, const char *name, const char *value)
{
	char *e = client_http_escape(value);

	if (e == NULL) {
		b->failed = 1;
		return;
	}
	buf_printf(b, "%c%s=%s", strchr(b->data, '?') ? '&' : '?', name, e);
	free(e);
}

char *
report_path(const struct report_query *q)
{
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, q->mode == REPORT_MUNICIPALITIES ? "/v1/municipalities" : "/v1/overview");
	if (b.failed)
		goto fail;
	if (q->region)
		report_param(&b, "region", q->region);
	if (q->mode == REPORT_OVERVIEW && q->n_group > 0) {
		char *e;

		report_param(&b, "group_by", q->group[0]);
		/* each key escaped, joined by a literal comma as the contract writes it */
		for (int i = 1; i < q->n_group; i++) {
			if ((e = client_http_escape(q->group[i])) == NULL)
				goto fail;
			buf_printf(&b, ",%s", e);
			free(e);
		}
	}
	if (q->mode == REPORT_SERIES) {
		report_param(&b, "series", "monthly");
		if (q->from[0])
			report_param(&b, "from", q->from);
		if (q->to[0])
			report_param(&b, "to", q->to);
	}
	if (b.failed)
		goto fail;
	return buf_detach(&b, NULL);
fail:
	buf_free(&b);
	return NULL;
}

/* ---- Text of cells ---- */

/* Terminal columns of text that is valid UTF-8 (escaped or our own): one per character. */
static size_t
report_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Appends a number "[-]digits[.fraction]" with a comma between thousands. */
static void
report_grouped(struct buf *b, const char *num)
{
	const char *digits = num[0] == '-' ? num + 1 : num;
	size_t intlen = strspn(digits, "0123456789");

	if (digits != num)
		buf_addc(b, '-');
	for (size_t i = 0; i < intlen; i++) {
		if (i > 0 && (intlen - i) % 3 == 0)
			buf_addc(b, ',');
		buf_addc(b, digits[i]);
	}
	buf_adds(b, digits + intlen);
}

/* Appends a count, grouped in thousands when group. */
static void
report_count(struct buf *b, uint64_t v, int group)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	if (group)
		report_grouped(b, tmp);
	else
		buf_adds(b, tmp);
}

/* Appends a non-finite double as the protobuf JSON mapping names it; 0 if v is finite. */
static int
report_nonfinite(struct buf *b, double v)
{
	if (isfinite(v))
		return 0;
	buf_adds(b, isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
	return 1;
}

/*
 * Appends v with decimals digits after the point, grouped in thousands:
 * areas with 0 (half away from zero), days with 1. Never "-0".
 */
static void
report_fixed(struct buf *b, double v, int decimals)
{
	char tmp[400];

	if (report_nonfinite(b, v))
		return;
	if (decimals == 0)
		v = round(v);
	snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
	if (tmp[0] == '-' && strspn(tmp + 1, "0.") == strlen(tmp + 1))
		memmove(tmp, tmp + 1, strlen(tmp)); /* "-0.0" -> "0.0" */
	report_grouped(b, tmp);
}

/* Appends v for CSV: the shortest plain decimal that reads back as v, no grouping. */
static void
report_csv_double(struct buf *b, double v)
{
	char tmp[64];

	if (report_nonfinite(b, v))
		return;
	if (v != 0 && (fabs(v) >= 1e15 || fabs(v) < 1e-6)) {
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
			if (strtod(tmp, NULL) == v)
				break;
		}
	} else {
		for (int prec = 0; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*f", prec, v == 0 ? 0.0 : v);
			if (strtod(tmp, NULL) == v)
				break;
		}
	}
	buf_adds(b, tmp);
}

int
report_format_time(const char *s, char out[17])
{
	struct tm tm = {0};
	const char *p;
	long off = 0;
	time_t t;
	char *end;

	/* YYYY-MM-DDTHH:MM:SS */
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL || end - s != 10 || (*end != 'T' && *end != 't' && *end != ' '))
		return -1;
	p = end + 1;
	end = strptime(p, "%H:%M:%S", &tm);
	if (end == NULL || end - p != 8)
		return -1;
	p = end;
	if (*p == '.') {
		if (strspn(p + 1, "0123456789") == 0)
			return -1;
		p += 1 + strspn(p + 1, "0123456789");
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;

		if (strspn(p + 1, "0123456789") != 2 || p[3] != ':' ||
		    strspn(p + 4, "0123456789") != 2)
			return -1;
		hh = (p[1] - '0') * 10 + (p[2] - '0');
		mm = (p[4] - '0') * 10 + (p[5] - '0');
		if (hh > 23 || mm > 59)
			return -1;
		off = (hh * 60L + mm) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0')
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	t -= off;
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return -1;
	snprintf(out, 17, "%04u-%02u-%02u %02u:%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
		 (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u);
	return 0;
}

/* Appends a timestamp of the server as UTC "YYYY-MM-DD HH:MM", or escaped as sent. */
static void
report_time(struct buf *b, const char *s)
{
	char t[17];

	if (report_format_time(s, t) == 0)
		buf_adds(b, t);
	else
		client_print_escape(b, s, strlen(s), PRINT_NL_HEX);
}

void
report_bar(struct buf *b, uint64_t v, uint64_t max, int ascii)
{
	static const char *const eighths[8] = {
	    "", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589",
	};
	uint64_t steps = ascii ? REPORT_BAR_WIDTH : REPORT_BAR_WIDTH * 8, units;

	if (v == 0 || max == 0)
		return;
	if (v >= max)
		units = steps;
	else
		units = (uint64_t)floorl((long double)v * steps / max + 0.5L);
	if (units == 0)
		units = 1; /* above zero is never drawn as nothing */
	if (ascii) {
		for (uint64_t i = 0; i < units; i++)
			buf_addc(b, '#');
		return;
	}
	for (uint64_t i = 0; i < units / 8; i++)
		buf_adds(b, "\u2588");
	buf_adds(b, eighths[units % 8]);
}

/* ---- Tables ---- */

enum report_row_flag {
	REPORT_ROW_RULE = 0x1,	/* a rule line before the row */
	REPORT_ROW_ALERT = 0x2, /* marked with '!' (and coloured) */
};

struct report_col {
	const char *head;
	int right; /* right-aligned (numbers) */
};

/* Rows of cells, each an owned string; sized and written by report_table_write. */
struct report_table {
	struct report_col cols[REPORT_MAX_COLS];
	size_t ncol;
	char **cells;	 /* owned: nrow * ncol owned strings */
	unsigned *flags; /* owned: per row */
	size_t nrow, cap;
	int marker; /* a two-column marker ("! ") before every line */
	int oom;
};

static void
report_table_col(struct report_table *t, const char *head, int right)
{
	if (t->ncol < REPORT_MAX_COLS)
		t->cols[t->ncol++] = (struct report_col){head, right};
}

static void
report_table_free(struct report_table *t)
{
	for (size_t i = 0; i < t->nrow * t->ncol; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->flags);
}

/*
 * Appends a row of t->ncol cells, taking the text of each buf (reset
 * afterwards). An allocation failure, now or in a buf, is kept in t->oom.
 */
static void
report_table_add(struct report_table *t, struct buf *cell, unsigned flags)
{
	if (t->oom)
		goto out;
	if (t->nrow == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **cells = realloc(t->cells, cap * t->ncol * sizeof(*cells));
		unsigned *fl;

		if (cells == NULL)
			goto oom;
		t->cells = cells;
		if ((fl = realloc(t->flags, cap * sizeof(*fl))) == NULL)
			goto oom;
		t->flags = fl;
		t->cap = cap;
	}
	for (size_t c = 0; c < t->ncol; c++)
		if (buf_failed(&cell[c]))
			goto oom;
	for (size_t c = 0; c < t->ncol; c++) {
		char *s = cell[c].len ? buf_detach(&cell[c], NULL) : strdup("");

		if (s == NULL) {
			for (size_t k = 0; k < c; k++)
				free(t->cells[t->nrow * t->ncol + k]);
			goto oom;
		}
		t->cells[t->nrow * t->ncol + c] = s;
	}
	t->flags[t->nrow++] = flags;
	goto out;
oom:
	t->oom = 1;
out:
	for (size_t c = 0; c < t->ncol; c++)
		buf_reset(&cell[c]);
}

/* Appends n spaces (or n of the string s). */
static void
report_pad(struct buf *b, size_t n, const char *s)
{
	while (n-- > 0)
		buf_adds(b, s);
}

/* Appends one line of cells (the header when cells is NULL), without trailing spaces. */
static void
report_table_line(struct buf *b, const struct report_table *t, const size_t *width,
		  char *const *cells, unsigned flags, int color)
{
	size_t start = b->len;

	if (color && (flags & REPORT_ROW_ALERT))
		buf_adds(b, REPORT_ALERT_ON);
	if (t->marker)
		buf_adds(b, flags & REPORT_ROW_ALERT ? "! " : "  ");
	for (size_t c = 0; c < t->ncol; c++) {
		const char *s = cells ? cells[c] : t->cols[c].head;
		size_t pad = width[c] - report_width(s);

		if (c > 0)
			buf_adds(b, REPORT_GAP);
		if (t->cols[c].right)
			report_pad(b, pad, " ");
		buf_adds(b, s);
		if (!t->cols[c].right)
			report_pad(b, pad, " ");
	}
	while (b->len > start && b->data[b->len - 1] == ' ')
		b->data[--b->len] = '\0';
	if (color && (flags & REPORT_ROW_ALERT))
		buf_adds(b, REPORT_ALERT_OFF);
	buf_addc(b, '\n');
}

/* Writes the header and the rows of t, columns sized to their widest cell. */
static void
report_table_write(struct buf *b, const struct report_table *t, int color)
{
	size_t width[REPORT_MAX_COLS], total;

	for (size_t c = 0; c < t->ncol; c++) {
		width[c] = report_width(t->cols[c].head);
		for (size_t r = 0; r < t->nrow; r++) {
			size_t w = report_width(t->cells[r * t->ncol + c]);

			if (w > width[c])
				width[c] = w;
		}
	}
	total = t->marker ? 2 : 0;
	for (size_t c = 0; c < t->ncol; c++)
		total += width[c] + (c > 0 ? strlen(REPORT_GAP) : 0);
	report_table_line(b, t, width, NULL, 0, 0);
	for (size_t r = 0; r < t->nrow; r++) {
		if (t->flags[r] & REPORT_ROW_RULE) {
			report_pad(b, total, "-");
			buf_addc(b, '\n');
		}
		report_table_line(b, t, width, &t->cells[r * t->ncol], t->flags[r], color);
	}
}

/* Appends one CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF. */
static void
report_csv_field(struct buf *b, const char *s)
{
	if (s[strcspn(s, ",\"\r\n")] == '\0') {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

/* Appends cells as one CSV record ending in CRLF; each cell is reset. */
static void
report_csv_line(struct buf *b, struct buf *cell, size_t n)
{
	for (size_t c = 0; c < n; c++) {
		if (c > 0)
			buf_addc(b, ',');
		if (buf_failed(&cell[c]))
			b->failed = 1;
		report_csv_field(b, cell[c].data ? cell[c].data : "");
		buf_reset(&cell[c]);
	}
	buf_adds(b, "\r\n");
}

/* Appends a CSV header line of names. */
static void
report_csv_head(struct buf *b, const char *const *names, size_t n)
{
	for (size_t c = 0; c < n; c++)
		buf_printf(b, "%s%s", c > 0 ? "," : "", names[c]);
	buf_adds(b, "\r\n");
}

/*
 * Writes b to out and frees it: 0, or -1 when b failed or the write did. No
 * flush: the caller's final fflush reports a full disk with its errno.
 */
static int
report_flush(struct buf *b, FILE *out)
{
	int rc = 0;

	if (buf_failed(b))
		rc = -1;
	else if (b->len && fwrite(b->data, 1, b->len, out) != b->len)
		rc = -1;
	else if (ferror(out))
		rc = -1;
	buf_free(b);
	return rc;
}

static void
report_cells_init(struct buf *cell, size_t n)
{
	for (size_t c = 0; c < n; c++)
		buf_init(&cell[c], 0);
}

static void
report_cells_free(struct buf *cell, size_t n)
{
	for (size_t c = 0; c < n; c++)
		buf_free(&cell[c]);
}

/* ---- Overview ---- */

/* Appends the name of enum value v, or its number when the descriptor lacks it. */
static void
report_enum(struct buf *b, const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);

	if (ev)
		buf_adds(b, ev->name);
	else
		buf_printf(b, "%d", v);
}

/*
 * Appends the value of grouping key `key` of r (escaped when table).
 * Returns 0 when r lacks it (nothing appended).
 */
static int
report_key_value(struct buf *b, const Vacancy__V1__OverviewRow *r, const char *key, int table)
{
	if (strcmp(key, "municipality") == 0) {
		if (r->municipality_ags == NULL)
			return 0;
		if (table)
			client_print_escape(b, r->municipality_ags, strlen(r->municipality_ags),
					    PRINT_NL_HEX);
		else
			buf_adds(b, r->municipality_ags);
	} else if (strcmp(key, "object_type") == 0) {
		if (!r->has_object_type)
			return 0;
		report_enum(b, &vacancy__v1__object_type__value__descriptor, (int)r->object_type);
	} else if (strcmp(key, "site_kind") == 0) {
		if (!r->has_site_kind)
			return 0;
		report_enum(b, &vacancy__v1__site_kind__value__descriptor, (int)r->site_kind);
	} else if (strcmp(key, "status") == 0) {
		if (!r->has_status)
			return 0;
		report_enum(b, &vacancy__v1__status__value__descriptor, (int)r->status);
	} else if (strcmp(key, "usage") == 0) {
		if (!r->has_usage)
			return 0;
		report_enum(b, &vacancy__v1__usage__value__descriptor, (int)r->usage);
	} else {
		return 0;
	}
	return 1;
}

/* The static entry of a grouping key name, or NULL. */
static const struct report_key *
report_key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(report_keys[i].name, name) == 0)
			return &report_keys[i];
	return NULL;
}

/* Sums of the totals line: absent values count 0, as absent areas do in the contract. */
struct report_totals {
	uint64_t records, published, stale;
	double usable, plot;
};

/*
 * Renders row r into cell[] (the grouping keys, the figures and, when
 * with_transfer, the last transfer) for a table or CSV, and adds its
 * figures to sum.
 */
static void
report_overview_row(struct buf *cell, const Vacancy__V1__OverviewRow *r, const char *const *group,
		    int n_group, int table, int with_transfer, struct report_totals *sum)
{
	const char *absent = table ? REPORT_ABSENT : "";
	const int has_n[3] = {r->has_records, r->has_published, r->has_stale};
	const uint64_t n[3] = {r->records, r->published, r->stale};
	uint64_t *const sum_n[3] = {&sum->records, &sum->published, &sum->stale};
	const int has_d[4] = {r->has_usable_area_m2, r->has_plot_area_m2,
			      r->has_median_vacancy_days, r->has_p90_vacancy_days};
	const double d[4] = {r->usable_area_m2, r->plot_area_m2, r->median_vacancy_days,
			     r->p90_vacancy_days};
	size_t c = 0;

	for (int k = 0; k < n_group; k++, c++)
		if (!report_key_value(&cell[c], r, group[k], table))
			buf_adds(&cell[c], absent);
	for (int k = 0; k < 3; k++, c++) {
		if (!has_n[k]) {
			buf_adds(&cell[c], absent);
			continue;
		}
		report_count(&cell[c], n[k], table);
		*sum_n[k] += n[k];
	}
	for (int k = 0; k < 4; k++, c++) {
		if (!has_d[k])
			buf_adds(&cell[c], absent);
		else if (table)
			report_fixed(&cell[c], d[k], k < 2 ? 0 : 1); /* areas whole, days .1 */
		else
			report_csv_double(&cell[c], d[k]);
	}
	if (has_d[0])
		sum->usable += d[0];
	if (has_d[1])
		sum->plot += d[1];
	if (!with_transfer)
		return;
	if (r->last_transfer_at == NULL)
		buf_adds(&cell[c], absent);
	else if (table)
		report_time(&cell[c], r->last_transfer_at);
	else
		buf_adds(&cell[c], r->last_transfer_at);
}

int
report_print_overview(const Vacancy__V1__Overview *ov, const char *const *group, int n_group,
		      enum report_format format, FILE *out)
{
	static const char *const figures[] = {
	    "records",		"published",	"stale",
	    "usable_area_m2",	"plot_area_m2", "median_vacancy_days",
	    "p90_vacancy_days",
	};
	struct report_table t = {0};
	struct report_totals sum = {0};
	struct buf b, cell[REPORT_MAX_COLS];
	const char *names[REPORT_MAX_COLS];
	int table = format == REPORT_TABLE, with_transfer = 0, with_usage = 0;
	size_t ncol = 0, c;

	if (n_group < 1 || n_group > REPORT_MAX_GROUP)
		return -1;
	for (int k = 0; k < n_group; k++) {
		const struct report_key *key = report_key_find(group[k]);

		if (key == NULL)
			return -1;
		with_transfer |= strcmp(key->name, "municipality") == 0;
		with_usage |= strcmp(key->name, "usage") == 0;
		names[ncol++] = key->field;
		report_table_col(&t, key->head, 0);
	}
	for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++)
		names[ncol++] = figures[i];
	report_table_col(&t, "records", 1);
	report_table_col(&t, "published", 1);
	report_table_col(&t, "stale", 1);
	report_table_col(&t, "usable m\u00b2", 1);
	report_table_col(&t, "plot m\u00b2", 1);
	report_table_col(&t, "median days", 1);
	report_table_col(&t, "p90 days", 1);
	if (with_transfer) {
		names[ncol++] = "last_transfer_at";
		report_table_col(&t, "last transfer (UTC)", 0);
	}
	buf_init(&b, 0);
	report_cells_init(cell, ncol);
	if (!table)
		report_csv_head(&b, names, ncol);
	for (size_t i = 0; i < ov->n_rows; i++) {
		const Vacancy__V1__OverviewRow *r = ov->rows[i];

		if (r == NULL)
			continue;
		report_overview_row(cell, r, group, n_group, table, with_transfer, &sum);
		if (table)
			report_table_add(&t, cell, 0);
		else
			report_csv_line(&b, cell, ncol);
	}
	if (table) {
		/* a record with several usages is in several rows: the sum counts it in each */
		buf_adds(&cell[0], with_usage ? "total*" : "total");
		c = (size_t)n_group;
		report_count(&cell[c++], sum.records, 1);
		report_count(&cell[c++], sum.published, 1);
		report_count(&cell[c++], sum.stale, 1);
		report_fixed(&cell[c++], sum.usable, 0);
		report_fixed(&cell[c++], sum.plot, 0);
		buf_adds(&cell[c++], REPORT_ABSENT);
		buf_adds(&cell[c++], REPORT_ABSENT);
		if (with_transfer)
			buf_adds(&cell[c++], REPORT_ABSENT);
		report_table_add(&t, cell, REPORT_ROW_RULE);
		if (t.oom)
			b.failed = 1;
		else
			report_table_write(&b, &t, 0);
		if (with_usage)
			buf_adds(&b,
				 "* a record with several usages counts once in each of them\n");
	}
	report_cells_free(cell, ncol);
	report_table_free(&t);
	return report_flush(&b, out);
}

/* ---- Municipalities ---- */

int
report_print_municipalities(const Vacancy__V1__MunicipalityList *ml, enum report_format format,
			    int color, FILE *out)
{
	static const char *const names[] = {"municipality_ags", "name", "records",
					    "last_transfer_at", "overdue"};
	struct report_table t = {.marker = 1};
	struct buf b, cell[5];
	int table = format == REPORT_TABLE;
	const char *absent = table ? REPORT_ABSENT : "";
	size_t overdue = 0, listed = 0;

	report_table_col(&t, "AGS", 0);
	report_table_col(&t, "name", 0);
	report_table_col(&t, "records", 1);
	report_table_col(&t, "last transfer (UTC)", 0);
	report_table_col(&t, "overdue", 0);
	buf_init(&b, 0);
	report_cells_init(cell, 5);
	if (!table)
		report_csv_head(&b, names, 5);
	for (size_t i = 0; i < ml->n_municipalities; i++) {
		const Vacancy__V1__Municipality *m = ml->municipalities[i];
		const char *text[2];
		int late;

		if (m == NULL)
			continue;
		listed++;
		late = m->has_overdue && m->overdue;
		overdue += late;
		text[0] = m->municipality_ags;
		text[1] = m->name;
		for (int k = 0; k < 2; k++) {
			if (text[k] == NULL)
				buf_adds(&cell[k], absent);
			else if (table)
				client_print_escape(&cell[k], text[k], strlen(text[k]),
						    PRINT_NL_HEX);
			else
				buf_adds(&cell[k], text[k]);
		}
		if (m->has_records)
			report_count(&cell[2], m->records, table);
		else
			buf_adds(&cell[2], absent);
		if (m->last_transfer_at == NULL)
			buf_adds(&cell[3], table ? "never" : "");
		else if (table)
			report_time(&cell[3], m->last_transfer_at);
		else
			buf_adds(&cell[3], m->last_transfer_at);
		if (!m->has_overdue)
			buf_adds(&cell[4], absent);
		else if (table)
			buf_adds(&cell[4], m->overdue ? "yes" : "no");
		else
			buf_adds(&cell[4], m->overdue ? "true" : "false");
		if (table)
			report_table_add(&t, cell, late ? REPORT_ROW_ALERT : 0);
		else
			report_csv_line(&b, cell, 5);
	}
	if (table) {
		if (t.oom)
			b.failed = 1;
		else
			report_table_write(&b, &t, color);
		buf_printf(&b, "%zu of %zu %s overdue\n", overdue, listed,
			   listed == 1 ? "municipality" : "municipalities");
	}
	report_cells_free(cell, 5);
	report_table_free(&t);
	return report_flush(&b, out);
}

/* ---- Monthly series ---- */

int
report_print_series(const Vacancy__V1__Overview *ov, enum report_format format, int ascii,
		    FILE *out)
{
	static const char *const names[] = {"month", "vacant", "usable_area_m2"};
	struct report_table t = {0};
	struct buf b, cell[4];
	int table = format == REPORT_TABLE;
	const char *absent = table ? REPORT_ABSENT : "";
	uint64_t max = 0;

	report_table_col(&t, "month", 0);
	report_table_col(&t, "vacant", 1);
	report_table_col(&t, "usable m\u00b2", 1);
	report_table_col(&t, "", 0);
	for (size_t i = 0; i < ov->n_series; i++)
		if (ov->series[i] && ov->series[i]->has_vacant && ov->series[i]->vacant > max)
			max = ov->series[i]->vacant;
	buf_init(&b, 0);
	report_cells_init(cell, 4);
	if (!table)
		report_csv_head(&b, names, 3);
	for (size_t i = 0; i < ov->n_series; i++) {
		const Vacancy__V1__SeriesPoint *p = ov->series[i];

		if (p == NULL)
			continue;
		if (p->month == NULL)
			buf_adds(&cell[0], absent);
		else if (table)
			client_print_escape(&cell[0], p->month, strlen(p->month), PRINT_NL_HEX);
		else
			buf_adds(&cell[0], p->month);
		if (p->has_vacant)
			report_count(&cell[1], p->vacant, table);
		else
			buf_adds(&cell[1], absent);
		if (!p->has_usable_area_m2)
			buf_adds(&cell[2], absent);
		else if (table)
			report_fixed(&cell[2], p->usable_area_m2, 0);
		else
			report_csv_double(&cell[2], p->usable_area_m2);
		if (!table) {
			report_csv_line(&b, cell, 3);
			continue;
		}
		if (p->has_vacant)
			report_bar(&cell[3], p->vacant, max, ascii);
		report_table_add(&t, cell, 0);
	}
	if (table) {
		if (t.oom)
			b.failed = 1;
		else
			report_table_write(&b, &t, 0);
	}
	report_cells_free(cell, 4);
	report_table_free(&t);
	return report_flush(&b, out);
}

/* ---- The command ---- */

int
report_use_color(int is_tty, const char *term, const char *no_color)
{
	return is_tty && term && *term && strcmp(term, "dumb") != 0 && no_color == NULL;
}

int
report_codeset_utf8(const char *codeset)
{
	return codeset && (strcasecmp(codeset, "UTF-8") == 0 || strcasecmp(codeset, "utf8") == 0);
}

/*
 * Whether the user's locale (LC_ALL, LC_CTYPE, LANG) writes UTF-8. The
 * program's own locale is put back, so nothing else changes behaviour.
 */
static int
report_locale_utf8(void)
{
	const char *cur = setlocale(LC_CTYPE, NULL);
	char *saved = cur ? strdup(cur) : NULL;
	int utf8 = 0;

	if (setlocale(LC_CTYPE, "") != NULL)
		utf8 = report_codeset_utf8(nl_langinfo(CODESET));
	setlocale(LC_CTYPE, saved ? saved : "C");
	free(saved);
	return utf8;
}

/* Writes a JSON body as it came, ending in a newline. 0 or -1. */
static int
report_write_json(const struct client_response *r)
{
	if (r->body.len && fwrite(r->body.data, 1, r->body.len, stdout) != r->body.len)
		return -1;
	if ((r->body.len == 0 || r->body.data[r->body.len - 1] != '\n') &&
	    fputc('\n', stdout) == EOF)
		return -1;
	return 0;
}

int
report_command(const struct report_options *o, const struct client_http_config *cfg)
{
	struct client_http *h = NULL;
	struct client_response resp;
	struct report_query q;
	ProtobufCMessage *msg = NULL;
	const ProtobufCMessageDescriptor *d;
	const char *want, *why = NULL, *what;
	char err[512], *path = NULL;
	int rc = 1, prc, write_errno = 0;

	client_response_init(&resp);
	if (report_check(o, time(NULL), &q, err, sizeof(err)) == -1 ||
	    client_http_check(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancy: %s\nrun 'vacancy help report' for its usage\n", err);
		rc = 2;
		goto done;
	}
	want = q.json ? CLIENT_HTTP_JSON : CLIENT_HTTP_PROTOBUF;
	d = q.mode == REPORT_MUNICIPALITIES ? &vacancy__v1__municipality_list__descriptor
					    : &vacancy__v1__overview__descriptor;
	what = q.mode == REPORT_MUNICIPALITIES ? "/v1/municipalities" : "/v1/overview";
	if ((path = report_path(&q)) == NULL) {
		fprintf(stderr, "vacancy: out of memory\n");
		goto done;
	}
	if (client_http_open(&h, cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancy: %s\n", err);
		goto done;
	}
	if (client_http_get(h, path, want, &resp) == -1) {
		fprintf(stderr, "vacancy: %s\n", client_http_error(h));
		goto done;
	}
	if (client_http_expect(&resp, cfg, what, want) == -1)
		goto done;
	if (q.json) {
		if (report_write_json(&resp) == 0)
			rc = 0;
		else
			write_errno = errno; /* main reports a write error */
		goto done;
	}
	if ((msg = client_http_unpack(&resp, d, &why)) == NULL) {
		fprintf(stderr, "vacancy: cannot read the %s the server sent: %s (%zu bytes)\n",
			d->short_name, why, resp.body.len);
		goto done;
	}
	switch (q.mode) {
	case REPORT_OVERVIEW:
		prc = report_print_overview((const Vacancy__V1__Overview *)msg, q.group, q.n_group,
					    q.format, stdout);
		break;
	case REPORT_MUNICIPALITIES:
		prc = report_print_municipalities(
		    (const Vacancy__V1__MunicipalityList *)msg, q.format,
		    report_use_color(isatty(STDOUT_FILENO), getenv("TERM"), getenv("NO_COLOR")),
		    stdout);
		break;
	case REPORT_SERIES:
	default:
		prc = report_print_series((const Vacancy__V1__Overview *)msg, q.format,
					  q.ascii || !report_locale_utf8(), stdout);
		break;
	}
	if (prc == -1) {
		if (!ferror(stdout))
			fprintf(stderr, "vacancy: out of memory\n");
		write_errno = errno; /* main reports a write error: keep its reason */
		goto done;
	}
	rc = 0;
done:
	if (msg)
		client_http_free_message(msg);
	client_response_free(&resp);
	client_http_close(h);
	free(path);
	if (write_errno)
		errno = write_errno;
	return rc;
}
