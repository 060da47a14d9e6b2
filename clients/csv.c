/*
 * csv: CSV rows to RecordChanges. Owns the RFC 4180 tokenizer (quotes with
 * "" escapes, line breaks inside quotes, CRLF or LF, a UTF-8 BOM, ',' or
 * ';' taken from the header line), the mapping of header names to Record
 * fields, and the conversion of cell text to field values, which the
 * OpenImmo reader shares. Every problem is reported with its line and
 * column, and reading goes on so that one run shows all of them; a row
 * with a problem adds no change.
 */
#include "csv.h"
#include "utf8.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "codec.h"
#include "json.h"
#include "pgmap.h"

/* JSON cells (attachments) nest at most this deep. */
#define CSV_JSON_DEPTH 16
/* Values of a '|' list. */
#define CSV_MAX_LIST 1000

/* Fields the registry assigns: a file must not set them. */
static const char *const csv_read_only[] = {"record_id", "updated_at", "withdrawn_at"};
/* Decimal euros, normalised to two decimals. */
static const char *const csv_money_fields[] = {"purchase_price_eur", "rent_eur_month",
					       "rent_eur_m2"};
/* YYYY-MM-DD; DD.MM.YYYY (as German spreadsheets write dates) is converted. */
static const char *const csv_date_fields[] = {"last_verified_at", "owner_consent_date",
					      "vacant_since"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* What a header column holds. */
enum csv_col_role {
	CSV_COL_FIELD,	  /* a Record field */
	CSV_COL_ACTION,	  /* U, I, D */
	CSV_COL_NAMELESS, /* no name: must stay empty (spreadsheets add such columns) */
	CSV_COL_UNKNOWN,  /* reported once with the header */
};

struct csv_col {
	char *name; /* owned, trimmed */
	enum csv_col_role role;
	struct csv_field field;
};

/* One cell of the current row: text at row.data + off, NUL-terminated. */
struct csv_cell {
	size_t off, len;
	unsigned long line; /* where the cell starts */
};

struct csv_reader {
	const char *cur, *end; /* the next byte to read, the end of the data */
	char delim;
	unsigned long line; /* the physical line rd->cur is on, from 1 */
	struct buf row;	    /* the cells of the current row */
	struct csv_cell *cells;
	size_t ncells, cap;
	size_t nfields;		/* cells of the row, also those not stored */
	unsigned long row_line; /* where the row starts */
	size_t row_errors;	/* probs->errors before the row was read */
	int stop;		/* a problem after which nothing can be read */
	struct csv_col *cols;	/* borrowed from csv_read; NULL while reading the header */
	size_t ncols;
	struct sync_problems *probs; /* borrowed */
};

static int
csv_name_in(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, list[i]) == 0)
			return 1;
	return 0;
}

/* Trims ASCII blanks (space, tab, CR, LF) from both ends of s in place. */
static char *
csv_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* 1 when s (n bytes) is valid UTF-8 (no overlongs, no surrogates). */
static int
csv_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;

	while (p < e) {
		uint32_t cp;
		int len = utf8_decode(p, (size_t)(e - p), &cp);

		if (len <= 0)
			return 0;
		p += len;
	}
	return 1;
}

/* Spreadsheet column letters: 0 -> A, 25 -> Z, 26 -> AA. */
static void
csv_col_letters(size_t col, char *out, size_t outlen)
{
	char tmp[16];
	size_t n = 0;

	col++;
	while (col > 0 && n < sizeof(tmp)) {
		col--;
		tmp[n++] = (char)('A' + col % 26);
		col /= 26;
	}
	for (size_t i = 0; i < n && i + 1 < outlen; i++)
		out[i] = tmp[n - 1 - i];
	out[n < outlen ? n : outlen - 1] = '\0';
}

/* "column F (usage)" for column col; the name once the header is known. */
static const char *
csv_where(const struct csv_reader *rd, size_t col, char *out, size_t outlen)
{
	char letters[16];

	csv_col_letters(col, letters, sizeof(letters));
	if (rd->cols && col < rd->ncols && rd->cols[col].name && rd->cols[col].name[0])
		snprintf(out, outlen, "column %s (%.80s)", letters, rd->cols[col].name);
	else
		snprintf(out, outlen, "column %s", letters);
	return out;
}

/* ---- field lookup and value conversion (shared with openimmo.c) ---- */

int
csv_field_find(const char *name, struct csv_field *out)
{
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;
	const ProtobufCFieldDescriptor *f, *g = NULL;
	const char *dot = strchr(name, '.');
	char head[64];

	memset(out, 0, sizeof(*out));
	if (dot) {
		if ((size_t)(dot - name) >= sizeof(head))
			return -1;
		memcpy(head, name, (size_t)(dot - name));
		head[dot - name] = '\0';
		if ((f = protobuf_c_message_descriptor_get_field_by_name(d, head)) == NULL ||
		    f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
			return -1;
		g = protobuf_c_message_descriptor_get_field_by_name(f->descriptor, dot + 1);
		if (g == NULL || g->type == PROTOBUF_C_TYPE_MESSAGE ||
		    g->label == PROTOBUF_C_LABEL_REPEATED)
			return -1;
		out->outer = f;
		out->inner = g;
		out->kind = CSV_FIELD_SCALAR;
		return 0;
	}
	if ((f = protobuf_c_message_descriptor_get_field_by_name(d, name)) == NULL)
		return -1;
	out->outer = f;
	if (csv_name_in(name, csv_read_only, NELEM(csv_read_only)))
		out->kind = CSV_FIELD_READ_ONLY;
	else if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		out->kind = CSV_FIELD_JSON;
	else if (f->label == PROTOBUF_C_LABEL_REPEATED)
		out->kind = CSV_FIELD_LIST;
	else
		out->kind = CSV_FIELD_SCALAR;
	return 0;
}

/* 1 when s is -?[0-9]+ followed, if fraction, by an optional .[0-9]+ */
static int
csv_is_decimal(const char *s, int fraction)
{
	if (*s == '-')
		s++;
	if (!isdigit((unsigned char)*s))
		return 0;
	while (isdigit((unsigned char)*s))
		s++;
	if (fraction && *s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return *s == '\0';
}

/*
 * Copies a number to out with a decimal comma turned into a point when
 * decimal_comma allows it. 0, or -1 with a reason.
 */
static int
csv_number_text(const char *text, int decimal_comma, char *out, size_t outlen, char *err,
		size_t errlen)
{
	const char *comma = strchr(text, ',');
	size_t n = strlen(text);

	if (n >= outlen) {
		snprintf(err, errlen, "'%.40s' is too long for a number", text);
		return -1;
	}
	memcpy(out, text, n + 1);
	if (comma == NULL)
		return 0;
	if (!decimal_comma) {
		snprintf(err, errlen,
			 "'%.40s': a decimal comma is accepted only in files separated by ';' "
			 "(write a decimal point)",
			 text);
		return -1;
	}
	if (strchr(text, '.') || strchr(comma + 1, ',')) {
		snprintf(err, errlen,
			 "'%.40s': write the number without thousands separators, e.g. 1250,50",
			 text);
		return -1;
	}
	out[comma - text] = '.';
	return 0;
}

int
csv_money(const char *text, int decimal_comma, char *out, size_t outlen, char *err, size_t errlen)
{
	char num[64];
	const char *p, *dot, *frac = "";
	int neg = 0;

	if (csv_number_text(text, decimal_comma, num, sizeof(num), err, errlen) == -1)
		return -1;
	if (!csv_is_decimal(num, 1)) {
		snprintf(err, errlen, "'%.40s' is not an amount in euros such as 1250.50", text);
		return -1;
	}
	p = num;
	if (*p == '-')
		neg = 1, p++;
	if ((dot = strchr(p, '.')) != NULL) {
		frac = dot + 1;
		for (size_t i = 2; i < strlen(frac); i++)
			if (frac[i] != '0') {
				snprintf(err, errlen, "'%.40s' has more than two decimals", text);
				return -1;
			}
	}
	while (*p == '0' && p[1] >= '0' && p[1] <= '9')
		p++; /* leading zeros */
	if ((size_t)snprintf(out, outlen, "%s%.*s.%c%c", neg ? "-" : "",
			     (int)(dot ? (size_t)(dot - p) : strlen(p)), p, frac[0] ? frac[0] : '0',
			     frac[0] && frac[1] ? frac[1] : '0') >= outlen) {
		snprintf(err, errlen, "'%.40s' is too long", text);
		return -1;
	}
	return 0;
}

/* DD.MM.YYYY or D.M.YYYY to YYYY-MM-DD in out; other text is copied. */
static void
csv_date(const char *text, char *out, size_t outlen)
{
	unsigned d, m, y;
	int used = 0;

	if (sscanf(text, "%2u.%2u.%4u%n", &d, &m, &y, &used) == 3 && text[used] == '\0' &&
	    used >= 8 && isdigit((unsigned char)text[used - 4]) && y >= 1000) {
		snprintf(out, outlen, "%04u-%02u-%02u", y, m, d);
		return;
	}
	snprintf(out, outlen, "%s", text);
}

/* Appends the value names of enum d, but UNSPECIFIED, as "A, B, C". */
static void
csv_enum_names(const ProtobufCEnumDescriptor *d, char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < d->n_values; i++) {
		int n;

		if (d->values[i].value == 0)
			continue;
		n = snprintf(out + used, outlen - used, "%s%s", used ? ", " : "",
			     d->values[i].name);
		if (n < 0 || (size_t)n >= outlen - used)
			break;
		used += (size_t)n;
	}
}

/* The value of enum d named text in any case; NULL with a reason. */
static const ProtobufCEnumValue *
csv_enum_value(const ProtobufCEnumDescriptor *d, const char *text, char *err, size_t errlen)
{
	const ProtobufCEnumValue *v;
	char upper[64], names[400];
	size_t n = strlen(text);

	if (n < sizeof(upper)) {
		for (size_t i = 0; i <= n; i++)
			upper[i] = (char)toupper((unsigned char)text[i]);
		v = protobuf_c_enum_descriptor_get_value_by_name(d, upper);
		if (v && v->value != 0)
			return v;
	}
	csv_enum_names(d, names, sizeof(names));
	snprintf(err, errlen, "unknown value '%.40s' (one of %s)", text, names);
	return NULL;
}

/*
 * Converts text for scalar field f (named name) to what pgmap_set_scalar
 * reads, in out. 0, or -1 with a reason.
 */
static int
csv_scalar_text(const ProtobufCFieldDescriptor *f, const char *name, const char *text,
		int decimal_comma, char *out, size_t outlen, char *err, size_t errlen)
{
	char num[64], lower[8];
	const ProtobufCEnumValue *v;
	size_t n;

	switch (f->type) {
	case PROTOBUF_C_TYPE_ENUM:
		if ((v = csv_enum_value(f->descriptor, text, err, errlen)) == NULL)
			return -1;
		snprintf(out, outlen, "%s", v->name);
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		n = strlen(text);
		if (n < sizeof(lower)) {
			for (size_t i = 0; i <= n; i++)
				lower[i] = (char)tolower((unsigned char)text[i]);
			if (!strcmp(lower, "true") || !strcmp(lower, "t") ||
			    !strcmp(lower, "yes") || !strcmp(lower, "ja") || !strcmp(lower, "1")) {
				snprintf(out, outlen, "true");
				return 0;
			}
			if (!strcmp(lower, "false") || !strcmp(lower, "f") ||
			    !strcmp(lower, "no") || !strcmp(lower, "nein") || !strcmp(lower, "0")) {
				snprintf(out, outlen, "false");
				return 0;
			}
		}
		snprintf(err, errlen, "'%.40s' is not true or false", text);
		return -1;
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_FLOAT:
		if (csv_number_text(text, decimal_comma, num, sizeof(num), err, errlen) == -1)
			return -1;
		if (!csv_is_decimal(num, 1)) {
			snprintf(err, errlen, "'%.40s' is not a number such as 1250.5", text);
			return -1;
		}
		snprintf(out, outlen, "%s", num);
		return 0;
	case PROTOBUF_C_TYPE_STRING:
		if (csv_name_in(name, csv_money_fields, NELEM(csv_money_fields))) {
			if (csv_money(text, decimal_comma, out, outlen, err, errlen) == -1)
				return -1;
			return 0;
		}
		if (csv_name_in(name, csv_date_fields, NELEM(csv_date_fields))) {
			csv_date(text, out, outlen);
			return 0;
		}
		if (strlen(text) >= outlen) {
			snprintf(err, errlen, "longer than %zu bytes", outlen - 1);
			return -1;
		}
		snprintf(out, outlen, "%s", text);
		return 0;
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		snprintf(err, errlen, "not a single value");
		return -1;
	default: /* integers */
		if (!csv_is_decimal(text, 0)) {
			snprintf(err, errlen, "'%.40s' is not a whole number", text);
			return -1;
		}
		snprintf(out, outlen, "%s", text);
		return 0;
	}
}

/* Orders enum values by number, for sorting a set. */
static int
csv_cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Sets a repeated scalar from "A|B|C" through its JSON array form. */
static int
csv_set_list(Vacancy__V1__Record *r, const ProtobufCFieldDescriptor *f, const char *text,
	     int decimal_comma, char *err, size_t errlen)
{
	struct buf json;
	char *copy = NULL, *item, *val = NULL;
	int *enums = NULL, rc = -1;
	size_t n = 0;

	buf_init(&json, 0);
	if ((copy = strdup(text)) == NULL || (val = malloc(CSV_MAX_CELL + 1)) == NULL ||
	    (enums = malloc(CSV_MAX_LIST * sizeof(*enums))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	buf_addc(&json, '[');
	for (char *s = copy, *next; s; s = next) {
		/* split by hand: strtok would skip the empty value in "A||B" */
		if ((next = strchr(s, '|')) != NULL)
			*next++ = '\0';
		item = csv_trim(s);
		if (*item == '\0') {
			snprintf(err, errlen, "an empty value between '|'");
			goto done;
		}
		if (n == CSV_MAX_LIST) {
			snprintf(err, errlen, "more than %d values", CSV_MAX_LIST);
			goto done;
		}
		if (csv_scalar_text(f, f->name, item, decimal_comma, val, CSV_MAX_CELL + 1, err,
				    errlen) == -1)
			goto done;
		if (f->type == PROTOBUF_C_TYPE_ENUM) {
			enums[n++] =
			    protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, val)->value;
			continue;
		}
		if (n++)
			buf_addc(&json, ',');
		if (f->type == PROTOBUF_C_TYPE_STRING)
			json_add_string(&json, val, strlen(val));
		else
			buf_adds(&json, val);
	}
	/* a set: order carries no meaning and a value counts once */
	if (f->type == PROTOBUF_C_TYPE_ENUM) {
		size_t k = 0;

		qsort(enums, n, sizeof(*enums), csv_cmp_int);
		for (size_t i = 0; i < n; i++) {
			if (i > 0 && enums[i] == enums[i - 1])
				continue;
			buf_printf(
			    &json, "%s\"%s\"", k++ ? "," : "",
			    protobuf_c_enum_descriptor_get_value(f->descriptor, enums[i])->name);
		}
	}
	buf_addc(&json, ']');
	if (buf_failed(&json)) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (n == 0) {
		snprintf(err, errlen, "no value");
		goto done;
	}
	rc = json_decode_field(&r->base, f, json.data, json.len, &codec_heap, CSV_JSON_DEPTH, err,
			       errlen);
done:
	buf_free(&json);
	free(copy);
	free(val);
	free(enums);
	return rc;
}

int
csv_field_set(Vacancy__V1__Record *r, const struct csv_field *cf, const char *text,
	      int decimal_comma, char *err, size_t errlen)
{
	const ProtobufCFieldDescriptor *f = cf->inner ? cf->inner : cf->outer;
	ProtobufCMessage *target = &r->base;
	char name[128], *val = NULL;
	int rc = -1;

	if (cf->inner)
		snprintf(name, sizeof(name), "%s.%s", cf->outer->name, cf->inner->name);
	else
		snprintf(name, sizeof(name), "%s", cf->outer->name);
	switch (cf->kind) {
	case CSV_FIELD_READ_ONLY:
		snprintf(err, errlen, "assigned by the registry; leave it empty");
		return -1;
	case CSV_FIELD_JSON: {
		char reason[200];

		if (json_decode_field(&r->base, cf->outer, text, strlen(text), &codec_heap,
				      CSV_JSON_DEPTH, reason, sizeof(reason)) == -1) {
			snprintf(err, errlen, "not valid JSON for this field (%s)", reason);
			return -1;
		}
		return 0;
	}
	case CSV_FIELD_LIST:
		return csv_set_list(r, cf->outer, text, decimal_comma, err, errlen);
	case CSV_FIELD_SCALAR:
		break;
	}
	if ((val = malloc(CSV_MAX_CELL + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (csv_scalar_text(f, name, text, decimal_comma, val, CSV_MAX_CELL + 1, err, errlen) == -1)
		goto done;
	if (cf->inner) {
		ProtobufCMessage **sub = (ProtobufCMessage **)((char *)r + cf->outer->offset);
		const ProtobufCMessageDescriptor *sd = cf->outer->descriptor;

		if (*sub == NULL) {
			if ((*sub = malloc(sd->sizeof_message)) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto done;
			}
			protobuf_c_message_init(sd, *sub);
		}
		target = *sub;
	}
	rc = pgmap_set_scalar(target, f, val, &codec_heap, err, errlen);
done:
	free(val);
	return rc;
}

/* ---- tokenizer ---- */

/* Appends n bytes to the current cell unless it is too long or not stored. */
static void
csv_add(struct csv_reader *rd, const char *s, size_t n, size_t start, int store, int *too_long)
{
	if (!store || *too_long)
		return;
	if (rd->row.len - start + n > CSV_MAX_CELL) {
		*too_long = 1;
		return;
	}
	buf_add(&rd->row, s, n);
}

/*
 * Reads one cell at rd->cur into the row. Returns 1 when a delimiter follows
 * (the row goes on), 0 when the row ended (line break, end of data, or a
 * problem that stops reading).
 */
static int
csv_cell(struct csv_reader *rd)
{
	size_t col = rd->nfields, start = rd->row.len;
	unsigned long line = rd->line;
	int store = rd->ncells <= CSV_MAX_COLUMNS, too_long = 0;
	char where[128];
	const char *q;

	if (rd->cur < rd->end && *rd->cur == '"') {
		rd->cur++;
		for (;;) {
			for (q = rd->cur; q < rd->end && *q != '"' && *q != '\r' && *q != '\n'; q++)
				;
			csv_add(rd, rd->cur, (size_t)(q - rd->cur), start, store, &too_long);
			rd->cur = q;
			if (q == rd->end) {
				sync_problem_add(rd->probs, SYNC_ERROR, line,
						 csv_where(rd, col, where, sizeof(where)),
						 "the quoted cell starting here is never closed "
						 "(a '\"' is missing)");
				rd->stop = 1;
				return 0;
			}
			if (*q == '"') {
				if (q + 1 < rd->end && q[1] == '"') {
					csv_add(rd, "\"", 1, start, store, &too_long);
					rd->cur = q + 2;
					continue;
				}
				rd->cur = q + 1;
				break;
			}
			/* a line break inside quotes belongs to the cell, written as LF */
			rd->cur = q + 1;
			if (*q == '\r' && rd->cur < rd->end && *rd->cur == '\n')
				rd->cur++;
			rd->line++;
			csv_add(rd, "\n", 1, start, store, &too_long);
		}
		if (rd->cur < rd->end && *rd->cur != rd->delim && *rd->cur != '\r' &&
		    *rd->cur != '\n') {
			sync_problem_add(rd->probs, SYNC_ERROR, rd->line,
					 csv_where(rd, col, where, sizeof(where)),
					 "text after the closing quote; quote the whole cell and "
					 "double each quote inside it");
			while (rd->cur < rd->end && *rd->cur != rd->delim && *rd->cur != '\r' &&
			       *rd->cur != '\n')
				rd->cur++;
		}
	} else {
		int quote = 0;

		for (q = rd->cur; q < rd->end && *q != rd->delim && *q != '\r' && *q != '\n'; q++)
			if (*q == '"')
				quote = 1;
		if (quote)
			sync_problem_add(rd->probs, SYNC_ERROR, line,
					 csv_where(rd, col, where, sizeof(where)),
					 "a '\"' inside a cell that does not start with one; quote "
					 "the whole cell and double each quote inside it");
		csv_add(rd, rd->cur, (size_t)(q - rd->cur), start, store, &too_long);
		rd->cur = q;
	}
	if (too_long)
		sync_problem_add(rd->probs, SYNC_ERROR, line,
				 csv_where(rd, col, where, sizeof(where)),
				 "the cell is longer than %zu KiB", CSV_MAX_CELL >> 10);
	rd->nfields++;
	if (store) {
		if (rd->ncells == rd->cap) {
			size_t cap = rd->cap ? rd->cap * 2 : 32;
			struct csv_cell *c = realloc(rd->cells, cap * sizeof(*c));

			if (c == NULL) {
				sync_problem_add(rd->probs, SYNC_ERROR, line, NULL,
						 "out of memory");
				rd->stop = 1;
				return 0;
			}
			rd->cells = c;
			rd->cap = cap;
		}
		rd->cells[rd->ncells].off = start;
		rd->cells[rd->ncells].len = too_long ? 0 : rd->row.len - start;
		rd->cells[rd->ncells].line = line;
		rd->ncells++;
		if (too_long)
			rd->row.len = start;
		buf_addc(&rd->row, '\0');
		if (buf_failed(&rd->row)) {
			sync_problem_add(rd->probs, SYNC_ERROR, line, NULL, "out of memory");
			rd->stop = 1;
			return 0;
		}
	}
	if (rd->cur == rd->end)
		return 0;
	if (*rd->cur == rd->delim) {
		rd->cur++;
		return 1;
	}
	if (*rd->cur == '\r' && rd->cur + 1 < rd->end && rd->cur[1] == '\n')
		rd->cur++;
	rd->cur++; /* CR, LF or CRLF */
	rd->line++;
	return 0;
}

/* Reads the next row. 1 when there is one, 0 at the end of the data. */
static int
csv_next_row(struct csv_reader *rd)
{
	if (rd->stop || rd->cur >= rd->end)
		return 0;
	buf_reset(&rd->row);
	rd->row_errors = rd->probs->errors;
	rd->ncells = rd->nfields = 0;
	rd->row_line = rd->line;
	while (csv_cell(rd))
		;
	return !(rd->stop && rd->ncells == 0);
}

/* The text of cell i of the current row, trimmed (the row buffer is changed). */
static char *
csv_cell_text(struct csv_reader *rd, size_t i)
{
	return csv_trim(rd->row.data + rd->cells[i].off);
}

/* ',' or ';', whichever the header line (outside quotes) holds more of. */
static char
csv_detect_delim(const char *p, const char *end)
{
	size_t commas = 0, semis = 0;
	int quoted = 0;

	for (; p < end; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && (*p == '\n' || *p == '\r'))
			break;
		else if (!quoted && *p == ',')
			commas++;
		else if (!quoted && *p == ';')
			semis++;
	}
	return semis > commas ? ';' : ',';
}

/* ---- header and rows ---- */

/* Suggests the field a mistyped header name probably means, or NULL. */
static const char *
csv_suggest(const char *name, char *out, size_t outlen)
{
	struct csv_field f;
	size_t n = strlen(name);

	if (n >= outlen)
		return NULL;
	for (size_t i = 0; i <= n; i++) {
		char c = (char)tolower((unsigned char)name[i]);

		out[i] = (c == '-' || c == ' ') ? '_' : c;
	}
	if (strcmp(out, name) != 0 && (strcmp(out, "action") == 0 || csv_field_find(out, &f) == 0))
		return out;
	return NULL;
}

/*
 * Reads the header row into rd->cols (owned by the caller, also after a
 * failure). Returns the number of columns, or -1 when it is unusable.
 */
static long
csv_header(struct csv_reader *rd)
{
	struct csv_col *cols;
	char where[128], hint[80];
	size_t n = rd->ncells;

	if (rd->nfields > CSV_MAX_COLUMNS) {
		sync_problem_add(rd->probs, SYNC_ERROR, rd->row_line, NULL,
				 "the header has %zu columns; at most %d are allowed", rd->nfields,
				 CSV_MAX_COLUMNS);
		return -1;
	}
	if ((cols = calloc(n, sizeof(*cols))) == NULL) {
		sync_problem_add(rd->probs, SYNC_ERROR, rd->row_line, NULL, "out of memory");
		return -1;
	}
	rd->cols = cols;
	rd->ncols = n;
	for (size_t i = 0; i < n; i++) {
		char *name = csv_cell_text(rd, i);
		const char *s;

		if ((cols[i].name = strdup(name)) == NULL) {
			sync_problem_add(rd->probs, SYNC_ERROR, rd->row_line, NULL,
					 "out of memory");
			return -1;
		}
		csv_where(rd, i, where, sizeof(where));
		if (!csv_utf8_valid(name, strlen(name))) {
			cols[i].role = CSV_COL_UNKNOWN;
			cols[i].name[0] = '\0';
			sync_problem_add(rd->probs, SYNC_ERROR, rd->cells[i].line, where,
					 "the name is not UTF-8 text; save the file as UTF-8 "
					 "(\"CSV UTF-8\")");
			continue;
		}
		if (*name == '\0') {
			cols[i].role = CSV_COL_NAMELESS;
			continue;
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(cols[k].name, name) == 0) {
				char first[16];

				csv_col_letters(k, first, sizeof(first));
				sync_problem_add(rd->probs, SYNC_ERROR, rd->cells[i].line, where,
						 "the column '%s' appears twice (also column %s)",
						 name, first);
				cols[i].role = CSV_COL_UNKNOWN;
				break;
			}
		}
		if (cols[i].role == CSV_COL_UNKNOWN)
			continue;
		if (strcmp(name, "action") == 0) {
			cols[i].role = CSV_COL_ACTION;
		} else if (csv_field_find(name, &cols[i].field) == 0) {
			cols[i].role = CSV_COL_FIELD;
		} else {
			cols[i].role = CSV_COL_UNKNOWN;
			if ((s = csv_suggest(name, hint, sizeof(hint))) != NULL)
				sync_problem_add(rd->probs, SYNC_ERROR, rd->cells[i].line, where,
						 "unknown column '%s' (did you mean '%s'?)", name,
						 s);
			else
				sync_problem_add(rd->probs, SYNC_ERROR, rd->cells[i].line, where,
						 "unknown column '%s': header names are the record "
						 "fields of record.md, e.g. external_id, usage, "
						 "location.lat",
						 name);
		}
	}
	return (long)n;
}

/* The index of the column named name, or -1. */
static long
csv_col_index(const struct csv_col *cols, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (cols[i].role == CSV_COL_FIELD && strcmp(cols[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Notes the AGS a row names: the first one is the file's, others must agree. */
static void
csv_note_ags(struct csv_reader *rd, struct sync_batch *b, size_t col, const char *ags)
{
	char where[128];

	if (b->ags == NULL) {
		if ((b->ags = strdup(ags)) == NULL)
			sync_problem_add(rd->probs, SYNC_ERROR, rd->cells[col].line, NULL,
					 "out of memory");
		b->ags_line = rd->cells[col].line;
		return;
	}
	if (strcmp(b->ags, ags) != 0)
		sync_problem_add(rd->probs, SYNC_ERROR, rd->cells[col].line,
				 csv_where(rd, col, where, sizeof(where)),
				 "municipality_ags %.20s differs from %s on line %lu: a transfer "
				 "is for one municipality",
				 ags, b->ags, b->ags_line);
}

/* Reads one data row (already tokenized) into a change of b. */
static void
csv_row(struct csv_reader *rd, const struct csv_col *cols, size_t ncols, struct sync_batch *b,
	long col_id, long col_rev, long col_ags)
{
	Vacancy__V1__Record *r = NULL;
	Vacancy__V1__RecordChange *c = NULL;
	struct sync_source src = {rd->row_line, 0};
	size_t errors = rd->row_errors; /* the tokenizer's problems count too */
	char where[128], err[512];
	int withdraw = 0, any = 0;

	for (size_t i = 0; i < rd->ncells; i++)
		if (*csv_cell_text(rd, i))
			any = 1;
	if (!any && rd->nfields <= ncols)
		return; /* a blank line or a row of empty cells: no data */
	if (rd->nfields != ncols) {
		sync_problem_add(rd->probs, SYNC_ERROR, rd->row_line, NULL,
				 "the row has %zu cells, the header %zu (a delimiter too many or "
				 "too few, or a line break outside quotes?)",
				 rd->nfields, ncols);
		return;
	}
	for (size_t i = 0; i < ncols; i++) {
		const char *t = csv_cell_text(rd, i);

		if (cols[i].role != CSV_COL_ACTION || *t == '\0')
			continue;
		if (strcasecmp(t, "D") == 0) {
			withdraw = 1;
		} else if (strcasecmp(t, "U") != 0 && strcasecmp(t, "I") != 0) {
			sync_problem_add(rd->probs, SYNC_ERROR, rd->cells[i].line,
					 csv_where(rd, i, where, sizeof(where)),
					 "action '%.20s' is not U (upsert), I (insert, same as U) "
					 "or D (withdraw)",
					 t);
			/* the other cells are still checked as those of an upsert */
		}
	}
	if ((r = malloc(sizeof(*r))) == NULL)
		goto oom;
	vacancy__v1__record__init(r);
	for (size_t i = 0; i < ncols; i++) {
		const char *t = csv_cell_text(rd, i);

		if (*t == '\0' || cols[i].role == CSV_COL_ACTION || cols[i].role == CSV_COL_UNKNOWN)
			continue;
		csv_where(rd, i, where, sizeof(where));
		if (cols[i].role == CSV_COL_NAMELESS) {
			sync_problem_add(rd->probs, SYNC_ERROR, rd->cells[i].line, where,
					 "a value in a column without a name in the header");
			continue;
		}
		if (!csv_utf8_valid(t, strlen(t))) {
			sync_problem_add(rd->probs, SYNC_ERROR, rd->cells[i].line, where,
					 "not UTF-8 text; save the file as UTF-8 (\"CSV UTF-8\")");
			continue;
		}
		if ((long)i == col_ags)
			csv_note_ags(rd, b, i, t);
		if (withdraw && (long)i != col_id && (long)i != col_rev && (long)i != col_ags) {
			sync_problem_add(rd->probs, SYNC_ERROR, rd->cells[i].line, where,
					 "a withdrawal (action D) uses only external_id and "
					 "revision; leave this cell empty");
			continue;
		}
		if (csv_field_set(r, &cols[i].field, t, rd->delim == ';', err, sizeof(err)) == -1)
			sync_problem_add(rd->probs, SYNC_ERROR, rd->cells[i].line, where, "%s",
					 err);
	}
	if (r->external_id == NULL) {
		/* without a column, the header's error says it once */
		if (col_id >= 0 && !*csv_cell_text(rd, (size_t)col_id))
			sync_problem_add(rd->probs, SYNC_ERROR, rd->row_line,
					 csv_where(rd, (size_t)col_id, where, sizeof(where)),
					 "external_id is empty: every row needs one");
		goto done;
	}
	if (withdraw && !r->has_revision) {
		sync_problem_add(rd->probs, SYNC_ERROR, rd->row_line,
				 col_rev >= 0 ? csv_where(rd, (size_t)col_rev, where, sizeof(where))
					      : NULL,
				 "a withdrawal (action D) needs a revision");
	}
	if (rd->probs->errors != errors)
		goto done;
	if ((c = malloc(sizeof(*c))) == NULL)
		goto oom;
	vacancy__v1__record_change__init(c);
	if (withdraw) {
		Vacancy__V1__Withdrawal *w = malloc(sizeof(*w));

		if (w == NULL)
			goto oom;
		vacancy__v1__withdrawal__init(w);
		w->external_id = r->external_id;
		r->external_id = NULL;
		w->has_revision = 1;
		w->revision = r->revision;
		c->change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW;
		c->withdraw = w;
	} else {
		c->change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
		c->upsert = r;
		r = NULL;
	}
	if (sync_batch_add(b, c, src) == -1) {
		c = NULL; /* consumed */
		goto oom;
	}
	c = NULL;
	goto done;
oom:
	sync_problem_add(rd->probs, SYNC_ERROR, rd->row_line, NULL, "out of memory");
	rd->stop = 1;
done:
	if (r)
		protobuf_c_message_free_unpacked(&r->base, &codec_heap);
	if (c)
		protobuf_c_message_free_unpacked(&c->base, &codec_heap);
}

int
csv_read(const char *data, size_t len, struct sync_batch *out, struct sync_problems *p)
{
	struct csv_reader rd = {0};
	struct csv_col *cols = NULL;
	size_t errors = p->errors;
	long ncols = -1, col_id = -1, col_rev = -1, col_ags = -1;

	if (len > CSV_MAX_FILE) {
		sync_problem_add(p, SYNC_ERROR, 0, NULL, "the file has %zu bytes; at most %zu MiB",
				 len, CSV_MAX_FILE >> 20);
		return -1;
	}
	rd.cur = data;
	rd.end = data + len;
	rd.line = 1;
	rd.probs = p;
	buf_init(&rd.row, 0);
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		rd.cur += 3;
	rd.delim = csv_detect_delim(rd.cur, rd.end);
	if (!csv_next_row(&rd)) {
		if (!rd.stop)
			sync_problem_add(p, SYNC_ERROR, 0, NULL,
					 "the file is empty: a header line is needed");
		goto done;
	}
	ncols = csv_header(&rd);
	cols = rd.cols;
	if (ncols == -1)
		goto done;
	if ((col_id = csv_col_index(cols, rd.ncols, "external_id")) < 0)
		sync_problem_add(p, SYNC_ERROR, rd.row_line, NULL,
				 "no external_id column: every row needs one");
	col_rev = csv_col_index(cols, rd.ncols, "revision");
	col_ags = csv_col_index(cols, rd.ncols, "municipality_ags");
	while (csv_next_row(&rd))
		csv_row(&rd, cols, rd.ncols, out, col_id, col_rev, col_ags);
done:
	for (size_t i = 0; cols && i < rd.ncols; i++)
		free(cols[i].name);
	free(cols);
	free(rd.cells);
	buf_free(&rd.row);
	return p->errors > errors ? -1 : 0;
}
