/*
 * validate: the rules of record.md for transfers arriving by sync. Pure: no
 * I/O, no global state; everything it learns goes into a validate_errors.
 *
 * One table per message names the rule of each field (flags, text limits,
 * a format check for strings, a hook for everything else). A generic walk
 * over the protobuf-c descriptor applies them: presence and REQUIRED,
 * READ_ONLY, valid UTF-8 without control characters and the length in code
 * points for every string (also of sub-messages and repeated fields), enum
 * numbers against their descriptor (protobuf-c does not check them on
 * decode), repeated enum duplicates, finiteness of doubles; then the field's
 * own check. A field gets at most one error: once a generic rule fails, its
 * specific rules are skipped, so a staff member sees the cause and not its
 * echoes. Cross-field rules hang off the field they are reported on.
 *
 * Client text is echoed in messages only escaped (log_escape: control
 * characters, quotes and non-ASCII as \xNN) and cut to ECHO_BYTES bytes.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "validate.h"
#include "pbfield.h"
#include "utf8.h"

#define ECHO_BYTES 40			 /* client text quoted in a message, at most */
#define ECHO_BUF   (ECHO_BYTES * 4 + 16) /* escaped: up to 4 bytes each, "..." */
#define FIELD_MAX  96			 /* "attachments[49].rights_holder" and more */
#define LIST_MAX   400			 /* the names of an enum's values */
#define ENUM_SEEN  256			 /* repeated enums: duplicates among this many values */

#define ID_MAX_CHARS	 64  /* external_id */
#define TOKEN_MAX_CHARS	 128 /* transfer_id, full_session */
#define ID_COPY_BYTES	 256 /* validate_add copies an external_id up to this as sent */
#define YEAR_MIN	 1000
#define YEAR_AHEAD	 5
#define LAT_MIN		 47.2
#define LAT_MAX		 55.1
#define LON_MIN		 5.8
#define LON_MAX		 15.1
#define UTM_E_MIN	 0.0
#define UTM_E_MAX	 1000000.0
#define UTM_N_MIN	 5200000.0
#define UTM_N_MAX	 6200000.0
#define BLUR_MAX_M	 2000u
#define AREA_MAX_M2	 100000000.0
#define PURCHASE_DIGITS	 12 /* numeric(14,2): <= 999999999999.99 */
#define RENT_DIGITS	 10 /* numeric(12,2): <= 9999999999.99 */
#define RENT_M2_DIGITS	 8  /* numeric(10,2): <= 99999999.99 */
#define MONEY_MAX_DIGITS 12 /* validate_money: ^[0-9]{1,12}(\.[0-9]{1,2})?$ */

/* The change being checked and where its errors go. */
struct vctx {
	struct validate_errors *errs;
	const struct validate_ctx *ctx;
	long index;			/* < 0: the transfer itself */
	const char *external_id;	/* borrowed; as sent, may be NULL */
	const Vacancy__V1__Record *rec; /* the record, NULL outside one */
	int ags_ok;			/* rec's municipality_ags is valid and ctx's */
	size_t nerr;			/* errors reported so far (to skip follow-ups) */
};

struct field_rule;
/* The format of one string value (called once its text is valid). */
typedef void (*text_rule_fn)(struct vctx *v, const char *field, const char *s);
/* Any other rule of a field: called whether or not the field is present,
 * unless a generic rule already reported it. m is the message holding f. */
typedef void (*field_rule_fn)(struct vctx *v, const char *field, const ProtobufCMessage *m,
			      const ProtobufCFieldDescriptor *f);

#define F_REQUIRED  0x01u /* absent, empty, blank or UNSPECIFIED: REQUIRED */
#define F_MULTILINE 0x02u /* tab, CR and LF allowed */
#define F_READ_ONLY 0x04u /* assigned by the registry: must be absent */
#define F_OWN	    0x08u /* not walked: the caller checks it (SyncRequest.changes) */

struct field_rule {
	const char *name;    /* the proto field name */
	unsigned flags;	     /* F_* */
	unsigned max_chars;  /* strings: code points; 0: the text rule decides */
	unsigned max_items;  /* repeated fields; 0: no limit */
	text_rule_fn text;   /* strings: the format */
	field_rule_fn check; /* other and cross-field rules */
};

struct message_rules {
	const ProtobufCMessageDescriptor *desc;
	const struct field_rule *rules;
	size_t n;
};

/* A field no table names (a proto addition without a rule): short, one line. */
static const struct field_rule default_rule = {"", 0, 256, 0, NULL, NULL};

static void fail(struct vctx *v, const char *field, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int errors_vadd(struct validate_errors *e, long index, const char *external_id,
		       const char *field, const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

/* ---- characters ---- */

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
	}
	return 1;
}

/* Nothing but spaces, tabs and line breaks (also the empty string). */
static int
is_blank(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	}
	return 1;
}

/* A space or a no-break space (U+00A0, a frequent guest from spreadsheets). */
static int
has_space(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == ' ' || ((unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0))
			return 1;
	}
	return 0;
}

/* s starts with the ASCII prefix p, ignoring case. */
static int
prefix_ci(const char *s, const char *p)
{
	for (; *p != '\0'; s++, p++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != *p)
			return 0;
	}
	return 1;
}

/* C0 (but tab, CR and LF where multiline), DEL and C1. */
static int
is_control(uint32_t cp, int multiline)
{
	if (cp == '\t' || cp == '\r' || cp == '\n')
		return !multiline;
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* What text_scan found. */
struct text_fault {
	const char *code; /* NULL, VALIDATE_INVALID_TEXT or VALIDATE_TOO_LONG */
	size_t offset;	  /* INVALID_TEXT: byte offset of the bad character */
	size_t position;  /* INVALID_TEXT: its position in characters, from 1 */
	long cp;	  /* INVALID_TEXT: the control character, -1 for bad UTF-8 */
	size_t chars;	  /* the length in code points (when the text is valid) */
};

/* validate_text with the details a message needs. */
static const char *
text_scan(const char *s, int multiline, size_t max_chars, struct text_fault *tf)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, chars = 0;

	memset(tf, 0, sizeof(*tf));
	while (p[i] != '\0') {
		uint32_t cp = 0;
		int dec = utf8_decode(p + i, SIZE_MAX, &cp);
		size_t len = dec > 0 ? (size_t)dec : 0;

		if (len == 0 || is_control(cp, multiline)) {
			tf->code = VALIDATE_INVALID_TEXT;
			tf->offset = i;
			tf->position = chars + 1;
			tf->cp = len == 0 ? -1 : (long)cp;
			return tf->code;
		}
		i += len;
		chars++;
	}
	tf->chars = chars;
	if (chars > max_chars)
		tf->code = VALIDATE_TOO_LONG;
	return tf->code;
}

/*
 * Client text for a message: at most ECHO_BYTES bytes of s, escaped, with
 * "..." when cut. out holds ECHO_BUF bytes. Returns out.
 */
static const char *
echo(const char *s, char *out)
{
	size_t len = strnlen(s, ECHO_BYTES + 1);

	/* 4 bytes per escaped byte and log_escape's reserve of 4 fit: it never cuts */
	log_escape(s, ECHO_BYTES, out, ECHO_BUF - 4);
	if (len > ECHO_BYTES)
		strcat(out, "...");
	return out;
}

/* ---- single rules ---- */

/* 0: a real day; 1: not of the shape YYYY-MM-DD; 2: the shape, but no such day. */
static int
date_parse(const char *s)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d, dim;

	if (strnlen(s, 11) != 10 || !all_digits(s, 4) || s[4] != '-' || !all_digits(s + 5, 2) ||
	    s[7] != '-' || !all_digits(s + 8, 2))
		return 1;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1 || m < 1 || m > 12) /* there is no year 0 (PostgreSQL agrees) */
		return 2;
	dim = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	return d >= 1 && d <= dim ? 0 : 2;
}

/*
 * The integer digits of a money amount without leading zeros (its order of
 * magnitude), or -1 when s is not ^[0-9]{1,12}(\.[0-9]{1,2})?$.
 */
static int
money_digits(const char *s)
{
	size_t i = 0, lead = 0, k = 0;

	while (s[i] == '0')
		i++, lead++;
	while (is_digit(s[i]))
		i++;
	if (i == 0 || i > MONEY_MAX_DIGITS)
		return -1;
	if (s[i] == '.') {
		for (i++; is_digit(s[i]); i++)
			k++;
		if (k < 1 || k > 2)
			return -1;
	}
	if (s[i] != '\0')
		return -1;
	/* digits before the point, minus the leading zeros */
	for (k = 0; is_digit(s[k]); k++)
		;
	return (int)(k - lead);
}

/*
 * A piece of a parcel id: n characters of digits, padded with '_' on either
 * side (_*[0-9]*_*); with need_digit at least one digit.
 */
static int
padded_digits(const char *s, size_t n, int need_digit)
{
	size_t i = 0, digits = 0;

	while (i < n && s[i] == '_')
		i++;
	for (; i < n && is_digit(s[i]); i++)
		digits++;
	while (i < n && s[i] == '_')
		i++;
	return i == n && (digits > 0 || !need_digit);
}

/*
 * The shape of a Flurstückskennzeichen (20 characters: Land 2, Gemarkung 4,
 * Flur 3, Zähler 5, Nenner 4, Folge 2). Land and Gemarkung are digits; Flur,
 * Zähler, Nenner and Folge are digits padded with '_' on either side, and
 * may be all '_' (absent) except the Zähler, which needs a digit. NULL when
 * the shape is right, else what is wrong.
 */
static const char *
parcel_shape(const char *p)
{
	size_t len = strnlen(p, 21);

	if (len != 20)
		return "must be 20 characters";
	if (!all_digits(p, 2))
		return "Land (characters 1-2) must be digits";
	if (!all_digits(p + 2, 4))
		return "Gemarkung (characters 3-6) must be digits";
	if (!padded_digits(p + 6, 3, 0))
		return "Flur (characters 7-9) must be digits padded with '_'";
	if (!padded_digits(p + 9, 5, 1))
		return "Zähler (characters 10-14) must be digits padded with '_'";
	if (!padded_digits(p + 14, 4, 0))
		return "Nenner (characters 15-18) must be digits padded with '_'";
	if (!padded_digits(p + 18, 2, 0))
		return "Folge (characters 19-20) must be digits padded with '_'";
	return NULL;
}

/* transfer_id and full_session: 1-128 of [A-Za-z0-9._:-]. */
static int
token_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= TOKEN_MAX_CHARS ||
		    !(is_alnum(s[i]) || s[i] == '.' || s[i] == '_' || s[i] == ':' || s[i] == '-'))
			return 0;
	}
	return i > 0;
}

/* something@something.tld: one '@', a local part, a domain with a dot, no
 * empty label and a top-level domain of two characters or more, no spaces. */
static int
email_ok(const char *s)
{
	const char *at = strchr(s, '@'), *dom, *dot;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL || has_space(s))
		return 0;
	dom = at + 1;
	dot = strrchr(dom, '.');
	if (dot == NULL || dom[0] == '.' || strstr(dom, "..") != NULL || strlen(dot + 1) < 2)
		return 0;
	return 1;
}

/* RFC 6838 restricted-name: a letter or digit, then letters, digits and
 * !#$&-^_.+ (at most 127 in all). */
static int
media_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 127 || !is_alnum(s[0]))
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (!is_alnum(s[i]) && strchr("!#$&-^_.+", s[i]) == NULL)
			return 0;
	}
	return 1;
}

int
validate_ags(const char *s)
{
	int land;

	if (s == NULL || strnlen(s, 9) != 8 || !all_digits(s, 8))
		return 0;
	land = (s[0] - '0') * 10 + (s[1] - '0');
	return land >= 1 && land <= 16;
}

/*
 * ARS = Land(2) Regierungsbezirk(1) Kreis(2) Gemeindeverband(4) Gemeinde(3);
 * AGS = the same without the Gemeindeverband. The Gemeindeverband is not
 * checked (the AGS does not carry it).
 */
int
validate_ars(const char *ars, const char *ags)
{
	if (ars == NULL || strnlen(ars, 13) != 12 || !all_digits(ars, 12) || !validate_ags(ags))
		return 0;
	return memcmp(ars, ags, 5) == 0 && memcmp(ars + 9, ags + 5, 3) == 0;
}

int
validate_parcel_id(const char *p, const char *ags)
{
	return p != NULL && parcel_shape(p) == NULL && validate_ags(ags) && memcmp(p, ags, 2) == 0;
}

int
validate_date(const char *s)
{
	return s != NULL && date_parse(s) == 0;
}

int
validate_money(const char *s)
{
	return s != NULL && money_digits(s) >= 0;
}

int
validate_postcode(const char *s)
{
	return s != NULL && strnlen(s, 6) == 5 && all_digits(s, 5);
}

const char *
validate_text(const char *s, int multiline, size_t max_chars)
{
	struct text_fault tf;

	if (s == NULL)
		return VALIDATE_INVALID_TEXT;
	return text_scan(s, multiline, max_chars, &tf);
}

/* ---- the error list ---- */

void
validate_errors_init(struct validate_errors *e, size_t max)
{
	memset(e, 0, sizeof(*e));
	e->max = max;
}

/* Each item was built by errors_vadd from malloc'd parts, as protobuf-c's
 * default allocator would: free_unpacked with NULL frees it. */
void
validate_errors_free(struct validate_errors *e)
{
	size_t max = e->max;

	for (size_t i = 0; i < e->n; i++)
		protobuf_c_message_free_unpacked(&e->items[i]->base, NULL);
	free(e->items);
	validate_errors_init(e, max);
}

/*
 * Counts change `index` as rejected unless it already is. validate_transfer
 * reports in index order, so comparing with the last counted index is
 * enough; for callers that do not, an index below the last one is looked up
 * among the listed errors (if its earlier errors were all dropped over
 * e->max, it is counted again: rejected may then overcount, never miss).
 */
static void
count_rejected(struct validate_errors *e, long index)
{
	uint32_t ix = index > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)index;

	if (index < 0)
		return;
	if (e->any_rejected) {
		if (ix == e->last_rejected_index)
			return;
		if (ix < e->last_rejected_index) {
			for (size_t i = 0; i < e->n; i++) {
				if (e->items[i]->has_index && e->items[i]->index == ix)
					return;
			}
		}
	}
	e->rejected++;
	if (!e->any_rejected || ix > e->last_rejected_index)
		e->last_rejected_index = ix;
	e->any_rejected = 1;
}

/* A malloc'd copy of s, or NULL (also for NULL). */
static char *
dup_str(const char *s)
{
	size_t n;
	char *d;

	if (s == NULL)
		return NULL;
	n = strlen(s) + 1;
	d = malloc(n);
	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

/*
 * The external_id to send back: as sent when it is short, valid UTF-8 and
 * free of control characters; else escaped and cut (a 16 MiB id or invalid
 * UTF-8 must not be copied into every error and the encoded answer).
 */
static char *
dup_external_id(const char *id)
{
	char buf[ECHO_BUF];

	if (id == NULL)
		return NULL;
	if (strnlen(id, ID_COPY_BYTES + 1) <= ID_COPY_BYTES &&
	    validate_text(id, 0, SIZE_MAX) == NULL)
		return dup_str(id);
	return dup_str(echo(id, buf));
}

static int
errors_vadd(struct validate_errors *e, long index, const char *external_id, const char *field,
	    const char *code, const char *fmt, va_list ap)
{
	Vacancy__V1__FieldError *fe;
	va_list ap2;
	int len;

	count_rejected(e, index);
	if (e->n >= e->max) {
		e->dropped++;
		return 0;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		void *p;

		if (cap > SIZE_MAX / sizeof(*e->items) ||
		    (p = realloc(e->items, cap * sizeof(*e->items))) == NULL)
			goto fail;
		e->items = p;
		e->cap = cap;
	}
	fe = malloc(sizeof(*fe));
	if (fe == NULL)
		goto fail;
	vacancy__v1__field_error__init(fe);
	if (index >= 0) {
		fe->has_index = 1;
		fe->index = index > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)index;
	}
	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len >= 0 && (fe->message = malloc((size_t)len + 1)) != NULL)
		vsnprintf(fe->message, (size_t)len + 1, fmt, ap);
	fe->external_id = dup_external_id(external_id);
	fe->field = dup_str(field);
	fe->code = dup_str(code);
	if (fe->message == NULL || (external_id != NULL && fe->external_id == NULL) ||
	    (field != NULL && fe->field == NULL) || (code != NULL && fe->code == NULL)) {
		protobuf_c_message_free_unpacked(&fe->base, NULL);
		goto fail;
	}
	e->items[e->n++] = fe;
	return 0;
fail:
	/* an error that could not be listed still makes the transfer unacceptable */
	e->dropped++;
	return -1;
}

int
validate_add(struct validate_errors *e, long index, const char *external_id, const char *field,
	     const char *code, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = errors_vadd(e, index, external_id, field, code, fmt, ap);
	va_end(ap);
	return rc;
}

/* Reports an error of the change v checks (out of memory shows in dropped). */
static void
fail(struct vctx *v, const char *field, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)errors_vadd(v->errs, v->index, v->external_id, field, code, fmt, ap);
	va_end(ap);
	v->nerr++;
}

/* ---- format rules of strings (text_rule_fn) ---- */

/* municipality_ags of the transfer and of each record. */
static void
text_ags(struct vctx *v, const char *field, const char *s)
{
	char e[ECHO_BUF];

	if (!validate_ags(s))
		fail(v, field, VALIDATE_INVALID_FORMAT,
		     "%s must be 8 digits with a Land from 01 to 16, got '%s'", field, echo(s, e));
	else if (v->ctx->ags == NULL || strcmp(s, v->ctx->ags) != 0)
		fail(v, field, VALIDATE_WRONG_MUNICIPALITY,
		     "%s %s is not the municipality of this transfer (%s)", field, s,
		     v->ctx->ags != NULL && validate_ags(v->ctx->ags) ? v->ctx->ags : "unknown");
}

static void
text_ars(struct vctx *v, const char *field, const char *s)
{
	char e[ECHO_BUF];

	if (strnlen(s, 13) != 12 || !all_digits(s, 12))
		fail(v, field, VALIDATE_INVALID_FORMAT, "%s must be 12 digits, got '%s'", field,
		     echo(s, e));
	else if (v->ags_ok && !validate_ars(s, v->rec->municipality_ags))
		fail(v, field, VALIDATE_INCONSISTENT,
		     "%s %s does not agree with municipality_ags %s: its digits 1-5 and 10-12 "
		     "must be those of the AGS",
		     field, s, v->rec->municipality_ags);
}

/* A date that is not after today. */
static void
text_past_date(struct vctx *v, const char *field, const char *s)
{
	char e[ECHO_BUF];

	switch (date_parse(s)) {
	case 1:
		fail(v, field, VALIDATE_INVALID_FORMAT, "%s must be a date YYYY-MM-DD, got '%s'",
		     field, echo(s, e));
		return;
	case 2:
		fail(v, field, VALIDATE_INVALID_FORMAT,
		     "%s must be a date YYYY-MM-DD, got %s: no such day", field, s);
		return;
	}
	if (strcmp(s, v->ctx->today) > 0)
		fail(v, field, VALIDATE_OUT_OF_RANGE, "%s must not be after today (%s), got %s",
		     field, v->ctx->today, s);
}

static void
text_postcode(struct vctx *v, const char *field, const char *s)
{
	char e[ECHO_BUF];

	if (!validate_postcode(s))
		fail(v, field, VALIDATE_INVALID_FORMAT, "%s must be 5 digits, got '%s'", field,
		     echo(s, e));
}

static void
text_parcel_id(struct vctx *v, const char *field, const char *s)
{
	const char *why = parcel_shape(s);
	char e[ECHO_BUF];

	if (why != NULL)
		fail(v, field, VALIDATE_INVALID_FORMAT,
		     "%s is a Flurstückskennzeichen: Land(2) Gemarkung(4) Flur(3) Zähler(5) "
		     "Nenner(4) "
		     "Folge(2); %s, got '%s'",
		     field, why, echo(s, e));
	else if (v->ags_ok && memcmp(s, v->rec->municipality_ags, 2) != 0)
		fail(v, field, VALIDATE_INCONSISTENT,
		     "%s lies in Land %.2s, but municipality_ags %s is in Land %.2s", field, s,
		     v->rec->municipality_ags, v->rec->municipality_ags);
}

static void
money(struct vctx *v, const char *field, const char *s, int max_digits, const char *max)
{
	int digits = money_digits(s);
	char e[ECHO_BUF];

	if (digits < 0)
		fail(
		    v, field, VALIDATE_INVALID_FORMAT,
		    "%s must be euros as a decimal like 1250.50 (digits, optionally '.' and 1 or 2 "
		    "decimals; no sign, exponent, spaces or thousands separators%s), got '%s'",
		    field, strchr(s, ',') != NULL ? "; the decimal separator is '.'" : "",
		    echo(s, e));
	else if (digits > max_digits)
		fail(v, field, VALIDATE_OUT_OF_RANGE, "%s must be at most %s, got %s", field, max,
		     s);
}

static void
text_purchase(struct vctx *v, const char *field, const char *s)
{
	money(v, field, s, PURCHASE_DIGITS, "999999999999.99");
}

static void
text_rent_month(struct vctx *v, const char *field, const char *s)
{
	money(v, field, s, RENT_DIGITS, "9999999999.99");
}

static void
text_rent_m2(struct vctx *v, const char *field, const char *s)
{
	money(v, field, s, RENT_M2_DIGITS, "99999999.99");
}

static void
text_email(struct vctx *v, const char *field, const char *s)
{
	char e[ECHO_BUF];

	if (!email_ok(s))
		fail(v, field, VALIDATE_INVALID_FORMAT,
		     "%s must be an e-mail address like name@example.de (no spaces), got '%s'",
		     field, echo(s, e));
}

static void
text_url(struct vctx *v, const char *field, const char *s)
{
	const char *host;
	char e[ECHO_BUF];

	if (prefix_ci(s, "https://"))
		host = s + 8;
	else if (prefix_ci(s, "http://"))
		host = s + 7;
	else {
		fail(v, field, VALIDATE_INVALID_FORMAT,
		     "%s must start with https:// or http://, got '%s'", field, echo(s, e));
		return;
	}
	if (*host == '\0' || *host == '/' || *host == '?' || *host == '#')
		fail(v, field, VALIDATE_INVALID_FORMAT, "%s names no host, got '%s'", field,
		     echo(s, e));
	else if (has_space(s))
		fail(v, field, VALIDATE_INVALID_FORMAT,
		     "%s must not contain spaces (write them as %%20), got '%s'", field,
		     echo(s, e));
}

static void
text_media_type(struct vctx *v, const char *field, const char *s)
{
	const char *slash = strchr(s, '/');
	char e[ECHO_BUF];

	if (slash == NULL || !media_name_ok(s, (size_t)(slash - s)) ||
	    !media_name_ok(slash + 1, strlen(slash + 1)))
		fail(v, field, VALIDATE_INVALID_FORMAT,
		     "%s must be a media type type/subtype like image/jpeg (no parameters), got "
		     "'%s'",
		     field, echo(s, e));
}

static void
text_sha256(struct vctx *v, const char *field, const char *s)
{
	size_t n = strnlen(s, 65);
	char e[ECHO_BUF];

	for (size_t i = 0; i < n; i++) {
		if (!is_hex(s[i])) {
			n = 0;
			break;
		}
	}
	if (n != 64)
		fail(v, field, VALIDATE_INVALID_FORMAT,
		     "%s must be 64 hexadecimal digits (SHA-256), got '%s'", field, echo(s, e));
}

/* transfer_id, full_session */
static void
text_token(struct vctx *v, const char *field, const char *s)
{
	char e[ECHO_BUF];

	if (!token_ok(s))
		fail(v, field, VALIDATE_INVALID_FORMAT,
		     "%s must be 1 to 128 characters of A-Z a-z 0-9 . _ : -, got '%s'", field,
		     echo(s, e));
}

/* ---- other rules (field_rule_fn) ---- */

/* The value of an optional double field; 0 when absent. */
static int
get_double(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, double *out)
{
	const char *base = (const char *)m;

	if (!*(const protobuf_c_boolean *)(base + f->quantifier_offset))
		return 0;
	*out = *(const double *)(base + f->offset);
	return 1;
}

static void
rule_construction_year(struct vctx *v, const char *field, const ProtobufCMessage *m,
		       const ProtobufCFieldDescriptor *f)
{
	const Vacancy__V1__Record *r = (const Vacancy__V1__Record *)m;
	int max = v->ctx->current_year + YEAR_AHEAD;

	(void)f;
	if (r->has_construction_year &&
	    (r->construction_year < YEAR_MIN || r->construction_year > max))
		fail(v, field, VALIDATE_OUT_OF_RANGE, "%s must be between %d and %d, got %d", field,
		     YEAR_MIN, max, (int)r->construction_year);
}

static void
rule_vacant_since_precision(struct vctx *v, const char *field, const ProtobufCMessage *m,
			    const ProtobufCFieldDescriptor *f)
{
	const Vacancy__V1__Record *r = (const Vacancy__V1__Record *)m;

	(void)f;
	if (r->has_vacant_since_precision && r->vacant_since == NULL)
		fail(v, field, VALIDATE_INCONSISTENT, "%s is given without vacant_since", field);
}

static int
source_complete(const Vacancy__V1__Record *r)
{
	return r->has_source_x && r->has_source_y && r->has_source_crs;
}

static void
rule_location(struct vctx *v, const char *field, const ProtobufCMessage *m,
	      const ProtobufCFieldDescriptor *f)
{
	const Vacancy__V1__Record *r = (const Vacancy__V1__Record *)m;

	(void)f;
	if (r->location == NULL && !source_complete(r))
		fail(v, field, VALIDATE_REQUIRED,
		     "%s is required unless source_x, source_y and source_crs are all given",
		     field);
}

/* "; lat and lon look swapped" when they do. */
static const char *
swapped_hint(const Vacancy__V1__LatLon *p)
{
	if (p->has_lat && p->has_lon && p->lon >= LAT_MIN && p->lon <= LAT_MAX &&
	    p->lat >= LON_MIN && p->lat <= LON_MAX)
		return "; lat and lon look swapped";
	return "";
}

static void
rule_lat(struct vctx *v, const char *field, const ProtobufCMessage *m,
	 const ProtobufCFieldDescriptor *f)
{
	const Vacancy__V1__LatLon *p = (const Vacancy__V1__LatLon *)m;

	(void)f;
	if (p->has_lat && (p->lat < LAT_MIN || p->lat > LAT_MAX))
		fail(v, field, VALIDATE_OUTSIDE_GERMANY,
		     "%s must lie in Germany (latitude 47.2 to 55.1), got %.7g%s", field, p->lat,
		     swapped_hint(p));
}

static void
rule_lon(struct vctx *v, const char *field, const ProtobufCMessage *m,
	 const ProtobufCFieldDescriptor *f)
{
	const Vacancy__V1__LatLon *p = (const Vacancy__V1__LatLon *)m;

	(void)f;
	if (p->has_lon && (p->lon < LON_MIN || p->lon > LON_MAX))
		fail(v, field, VALIDATE_OUTSIDE_GERMANY,
		     "%s must lie in Germany (longitude 5.8 to 15.1), got %.7g%s", field, p->lon,
		     swapped_hint(p));
}

/* source_x, source_y and source_crs come together; reported on each missing one. */
static int
source_missing(struct vctx *v, const char *field, const Vacancy__V1__Record *r, int has)
{
	if (has)
		return 0;
	if (r->has_source_x || r->has_source_y || r->has_source_crs)
		fail(v, field, VALIDATE_INCONSISTENT,
		     "%s is missing: source_x, source_y and source_crs are given together or not "
		     "at all",
		     field);
	return 1;
}

static void
rule_source_x(struct vctx *v, const char *field, const ProtobufCMessage *m,
	      const ProtobufCFieldDescriptor *f)
{
	const Vacancy__V1__Record *r = (const Vacancy__V1__Record *)m;

	(void)f;
	if (source_missing(v, field, r, r->has_source_x))
		return;
	if (r->source_x < UTM_E_MIN || r->source_x > UTM_E_MAX)
		fail(v, field, VALIDATE_OUT_OF_RANGE,
		     "%s must be an ETRS89/UTM easting from 0 to 1000000 m, got %.10g%s", field,
		     r->source_x,
		     r->source_x >= 32000000.0 && r->source_x < 34000000.0
			 ? "; EPSG:25832/25833 eastings carry no zone number in front"
			 : "");
}

static void
rule_source_y(struct vctx *v, const char *field, const ProtobufCMessage *m,
	      const ProtobufCFieldDescriptor *f)
{
	const Vacancy__V1__Record *r = (const Vacancy__V1__Record *)m;

	(void)f;
	if (source_missing(v, field, r, r->has_source_y))
		return;
	if (r->source_y < UTM_N_MIN || r->source_y > UTM_N_MAX)
		fail(
		    v, field, VALIDATE_OUT_OF_RANGE,
		    "%s must be an ETRS89/UTM northing in Germany, 5200000 to 6200000 m, got %.10g",
		    field, r->source_y);
}

static void
rule_source_crs(struct vctx *v, const char *field, const ProtobufCMessage *m,
		const ProtobufCFieldDescriptor *f)
{
	const Vacancy__V1__Record *r = (const Vacancy__V1__Record *)m;

	(void)f;
	if (source_missing(v, field, r, r->has_source_crs))
		return;
	if (r->source_crs != 25832 && r->source_crs != 25833)
		fail(v, field, VALIDATE_OUT_OF_RANGE,
		     "%s must be 25832 or 25833 (ETRS89 / UTM zone 32N or 33N), got %u", field,
		     (unsigned)r->source_crs);
}

static void
rule_blur(struct vctx *v, const char *field, const ProtobufCMessage *m,
	  const ProtobufCFieldDescriptor *f)
{
	const Vacancy__V1__Record *r = (const Vacancy__V1__Record *)m;

	(void)f;
	if (r->has_location_blur_m && r->location_blur_m > BLUR_MAX_M)
		fail(v, field, VALIDATE_OUT_OF_RANGE, "%s must be at most %u m, got %u", field,
		     BLUR_MAX_M, (unsigned)r->location_blur_m);
}

static int
area_ok(double a)
{
	return a >= 0 && a <= AREA_MAX_M2; /* false for NaN too */
}

static void
rule_area(struct vctx *v, const char *field, const ProtobufCMessage *m,
	  const ProtobufCFieldDescriptor *f)
{
	double a;

	if (get_double(m, f, &a) && !area_ok(a))
		fail(v, field, VALIDATE_OUT_OF_RANGE,
		     "%s must be from 0 to 100000000 m2, got %.10g", field, a);
}

/* divisible_from_m2 <= the largest of the other areas (which must be given). */
static void
rule_divisible(struct vctx *v, const char *field, const ProtobufCMessage *m,
	       const ProtobufCFieldDescriptor *f)
{
	const Vacancy__V1__Record *r = (const Vacancy__V1__Record *)m;
	const struct {
		const char *name;
		int has;
		double a;
	} other[] = {
	    {"usable_area_m2", r->has_usable_area_m2, r->usable_area_m2},
	    {"floor_area_m2", r->has_floor_area_m2, r->floor_area_m2},
	    {"sales_area_m2", r->has_sales_area_m2, r->sales_area_m2},
	    {"plot_area_m2", r->has_plot_area_m2, r->plot_area_m2},
	};
	const char *largest = NULL;
	double max = 0;
	size_t before = v->nerr;

	rule_area(v, field, m, f);
	if (!r->has_divisible_from_m2 || v->nerr != before)
		return;
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		if (!other[i].has)
			continue;
		if (!area_ok(other[i].a))
			return; /* that area has its own error; nothing to compare with */
		if (largest == NULL || other[i].a > max) {
			largest = other[i].name;
			max = other[i].a;
		}
	}
	if (largest == NULL)
		fail(v, field, VALIDATE_INCONSISTENT,
		     "%s needs an area to divide: usable_area_m2, floor_area_m2, sales_area_m2 or "
		     "plot_area_m2",
		     field);
	else if (r->divisible_from_m2 > max)
		fail(v, field, VALIDATE_INCONSISTENT,
		     "%s (%.10g) must not exceed the largest area given (%s %.10g)", field,
		     r->divisible_from_m2, largest, max);
}

/* ---- the tables: one rule per field, in proto order ---- */

#define NRULES(a) (sizeof(a) / sizeof((a)[0]))

static const struct field_rule sync_request_rules[] = {
    {"transfer_id", F_REQUIRED, 0, 0, text_token, NULL},
    {"municipality_ags", F_REQUIRED, 0, 0, text_ags, NULL},
    {"scope", F_REQUIRED, 0, 0, NULL, NULL},
    {"validate_only", 0, 0, 0, NULL, NULL},
    {"changes", F_OWN, 0, 0, NULL, NULL},
    {"full_session", 0, 0, 0, text_token, NULL},
};

static const struct field_rule withdrawal_rules[] = {
    {"external_id", F_REQUIRED, ID_MAX_CHARS, 0, NULL, NULL},
    {"revision", F_REQUIRED, 0, 0, NULL, NULL},
};

static const struct field_rule record_rules[] = {
    {"record_id", F_READ_ONLY, 0, 0, NULL, NULL},
    {"municipality_ags", F_REQUIRED, 0, 0, text_ags, NULL},
    {"municipality_ars", 0, 0, 0, text_ars, NULL},
    {"external_id", F_REQUIRED, ID_MAX_CHARS, 0, NULL, NULL},
    {"revision", F_REQUIRED, 0, 0, NULL, NULL},
    {"updated_at", F_READ_ONLY, 0, 0, NULL, NULL},
    {"last_verified_at", F_REQUIRED, 0, 0, text_past_date, NULL},
    {"publication", F_REQUIRED, 0, 0, NULL, NULL},
    {"owner_consent", F_REQUIRED, 0, 0, NULL, NULL},
    {"owner_consent_date", 0, 0, 0, text_past_date, NULL},
    {"site_kind", F_REQUIRED, 0, 0, NULL, NULL},
    {"usage", F_REQUIRED, 0, 0, NULL, NULL},
    {"marketing", 0, 0, 0, NULL, NULL},
    {"object_type", F_REQUIRED, 0, 0, NULL, NULL},
    {"status", F_REQUIRED, 0, 0, NULL, NULL},
    {"vacancy_degree", 0, 0, 0, NULL, NULL},
    {"vacant_since", 0, 0, 0, text_past_date, NULL},
    {"vacant_since_precision", 0, 0, 0, NULL, rule_vacant_since_precision},
    {"vacancy_reason", 0, 0, 0, NULL, NULL},
    {"condition", 0, 0, 0, NULL, NULL},
    {"construction_year", 0, 0, 0, NULL, rule_construction_year},
    {"development", 0, 0, 0, NULL, NULL},
    {"planning_basis", 0, 0, 0, NULL, NULL},
    {"bplan_ref", 0, 512, 0, NULL, NULL},
    {"contamination", 0, 0, 0, NULL, NULL},
    {"street", F_REQUIRED, 128, 0, NULL, NULL},
    {"house_number", 0, 16, 0, NULL, NULL},
    {"postcode", F_REQUIRED, 0, 0, text_postcode, NULL},
    {"locality", F_REQUIRED, 128, 0, NULL, NULL},
    {"gemarkung", 0, 128, 0, NULL, NULL},
    {"flur", 0, 128, 0, NULL, NULL},
    {"flurstueck", 0, 128, 0, NULL, NULL},
    {"parcel_ids", 0, 0, 100, text_parcel_id, NULL},
    {"location", 0, 0, 0, NULL, rule_location},
    {"source_x", 0, 0, 0, NULL, rule_source_x},
    {"source_y", 0, 0, 0, NULL, rule_source_y},
    {"source_crs", 0, 0, 0, NULL, rule_source_crs},
    {"location_blur_m", 0, 0, 0, NULL, rule_blur},
    {"usable_area_m2", 0, 0, 0, NULL, rule_area},
    {"floor_area_m2", 0, 0, 0, NULL, rule_area},
    {"sales_area_m2", 0, 0, 0, NULL, rule_area},
    {"plot_area_m2", 0, 0, 0, NULL, rule_area},
    {"divisible_from_m2", 0, 0, 0, NULL, rule_divisible},
    {"purchase_price_eur", 0, 0, 0, text_purchase, NULL},
    {"rent_eur_month", 0, 0, 0, text_rent_month, NULL},
    {"rent_eur_m2", 0, 0, 0, text_rent_m2, NULL},
    {"price_on_request", 0, 0, 0, NULL, NULL},
    {"title", 0, 200, 0, NULL, NULL},
    {"description", F_MULTILINE, 8000, 0, NULL, NULL},
    {"location_text", F_MULTILINE, 4000, 0, NULL, NULL},
    {"marketing_contact", 0, 0, 0, NULL, NULL},
    {"attachments", 0, 0, 50, NULL, NULL},
    {"owner_category", 0, 0, 0, NULL, NULL},
    {"owner_name", 0, 256, 0, NULL, NULL},
    {"owner_address", F_MULTILINE, 512, 0, NULL, NULL},
    {"owner_phone", 0, 64, 0, NULL, NULL},
    {"owner_email", 0, 254, 0, text_email, NULL},
    {"owner_willingness", 0, 0, 0, NULL, NULL},
    {"internal_notes", F_MULTILINE, 8000, 0, NULL, NULL},
    {"withdrawn_at", F_READ_ONLY, 0, 0, NULL, NULL},
};

static const struct field_rule latlon_rules[] = {
    {"lat", F_REQUIRED, 0, 0, NULL, rule_lat},
    {"lon", F_REQUIRED, 0, 0, NULL, rule_lon},
};

static const struct field_rule marketing_contact_rules[] = {
    {"organisation", 0, 200, 0, NULL, NULL},
    {"person_role", 0, 100, 0, NULL, NULL},
    {"phone", 0, 64, 0, NULL, NULL},
    {"email", 0, 254, 0, text_email, NULL},
};

static const struct field_rule attachment_rules[] = {
    {"group", F_REQUIRED, 0, 0, NULL, NULL},  {"media_type", 0, 100, 0, text_media_type, NULL},
    {"sha256", 0, 0, 0, text_sha256, NULL},   {"url", F_REQUIRED, 2048, 0, text_url, NULL},
    {"rights_holder", 0, 256, 0, NULL, NULL}, {"licence", 0, 128, 0, NULL, NULL},
};

static const struct message_rules all_rules[] = {
    {&vacancy__v1__sync_request__descriptor, sync_request_rules, NRULES(sync_request_rules)},
    {&vacancy__v1__withdrawal__descriptor, withdrawal_rules, NRULES(withdrawal_rules)},
    {&vacancy__v1__record__descriptor, record_rules, NRULES(record_rules)},
    {&vacancy__v1__lat_lon__descriptor, latlon_rules, NRULES(latlon_rules)},
    {&vacancy__v1__marketing_contact__descriptor, marketing_contact_rules,
     NRULES(marketing_contact_rules)},
    {&vacancy__v1__attachment__descriptor, attachment_rules, NRULES(attachment_rules)},
};

static const struct message_rules *
rules_for(const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < NRULES(all_rules); i++) {
		if (all_rules[i].desc == d)
			return &all_rules[i];
	}
	return NULL;
}

/* The rule named name; the search starts at *hint (the tables follow the
 * proto's order, so it usually hits at once). NULL when none. */
static const struct field_rule *
rule_find(const struct message_rules *t, const char *name, size_t *hint)
{
	if (t == NULL)
		return NULL;
	for (size_t k = 0; k < t->n; k++) {
		size_t j = (*hint + k) % t->n;

		if (strcmp(t->rules[j].name, name) == 0) {
			*hint = j + 1;
			return &t->rules[j];
		}
	}
	return NULL;
}

const char *
validate_unruled_field(void)
{
	for (size_t i = 0; i < NRULES(all_rules); i++) {
		const struct message_rules *t = &all_rules[i];
		size_t hint = 0;

		for (unsigned k = 0; k < t->desc->n_fields; k++) {
			const ProtobufCFieldDescriptor *f = &t->desc->fields[k];
			const struct field_rule *r = rule_find(t, f->name, &hint);

			if (r == NULL)
				return f->name;
			/* every string has a limit: a length or a format */
			if (f->type == PROTOBUF_C_TYPE_STRING &&
			    !(r->flags & (F_READ_ONLY | F_OWN)) && r->max_chars == 0 &&
			    r->text == NULL)
				return f->name;
			/* a sub-message the walk would not know */
			if (f->type == PROTOBUF_C_TYPE_MESSAGE && !(r->flags & F_OWN) &&
			    rules_for(f->descriptor) == NULL)
				return f->name;
		}
		for (size_t k = 0; k < t->n; k++) {
			if (protobuf_c_message_descriptor_get_field_by_name(
				t->desc, t->rules[k].name) == NULL)
				return t->rules[k].name;
		}
	}
	return NULL;
}

/* ---- the walk ---- */

/* "A, B, C": the values of an enum but UNSPECIFIED (0). */
static const char *
enum_list(const ProtobufCEnumDescriptor *ed, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < ed->n_values && o < outlen; i++) {
		int n;

		if (ed->values[i].value == 0)
			continue;
		n = snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", ed->values[i].name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	return out;
}

static void
check_enum(struct vctx *v, const char *field, const struct field_rule *r,
	   const ProtobufCEnumDescriptor *ed, int value)
{
	char list[LIST_MAX];

	if (value == 0 && (r->flags & F_REQUIRED)) {
		fail(v, field, VALIDATE_REQUIRED, "%s is required: one of %s; got UNSPECIFIED",
		     field, enum_list(ed, list, sizeof(list)));
		return;
	}
	if (value == 0)
		fail(v, field, VALIDATE_UNKNOWN_VALUE,
		     "%s must be one of %s, got UNSPECIFIED (leave the field out instead)", field,
		     enum_list(ed, list, sizeof(list)));
	else if (protobuf_c_enum_descriptor_get_value(ed, value) == NULL)
		fail(v, field, VALIDATE_UNKNOWN_VALUE, "%s must be one of %s, got the number %d",
		     field, enum_list(ed, list, sizeof(list)), value);
}

/* Each value defined and not UNSPECIFIED, none twice. */
static void
check_enum_list(struct vctx *v, const char *field, const ProtobufCEnumDescriptor *ed,
		const int *values, size_t n)
{
	size_t first[ENUM_SEEN];
	char item[FIELD_MAX + 24], list[LIST_MAX];

	for (size_t k = 0; k < ENUM_SEEN; k++)
		first[k] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, values[i]);
		size_t pos;

		snprintf(item, sizeof(item), "%s[%zu]", field, i);
		if (ev == NULL || values[i] == 0) {
			if (ev == NULL)
				fail(v, item, VALIDATE_UNKNOWN_VALUE,
				     "%s must be one of %s, got the number %d", item,
				     enum_list(ed, list, sizeof(list)), values[i]);
			else
				fail(v, item, VALIDATE_UNKNOWN_VALUE,
				     "%s must be one of %s, got UNSPECIFIED", item,
				     enum_list(ed, list, sizeof(list)));
			continue;
		}
		pos = (size_t)(ev - ed->values);
		if (pos >= ENUM_SEEN) /* no enum of ours comes near */
			continue;
		if (first[pos] != SIZE_MAX)
			fail(v, item, VALIDATE_DUPLICATE, "%s: %s is already given as %s[%zu]",
			     item, ev->name, field, first[pos]);
		else
			first[pos] = i;
	}
}

static void
check_string(struct vctx *v, const char *field, const struct field_rule *r, const char *s)
{
	struct text_fault tf;
	char e[ECHO_BUF];
	size_t from;

	if ((r->flags & F_REQUIRED) && is_blank(s)) {
		fail(v, field, VALIDATE_REQUIRED, "%s is required and must not be empty", field);
		return;
	}
	if (text_scan(s, (r->flags & F_MULTILINE) != 0, r->max_chars ? r->max_chars : SIZE_MAX,
		      &tf) == NULL) {
		if (r->text != NULL)
			r->text(v, field, s);
		return;
	}
	if (strcmp(tf.code, VALIDATE_TOO_LONG) == 0) {
		fail(v, field, VALIDATE_TOO_LONG, "%s must be at most %u characters, got %zu",
		     field, r->max_chars, tf.chars);
		return;
	}
	/* quote the text before the fault, and the fault itself (escaped) */
	from = tf.offset > ECHO_BYTES / 2 ? tf.offset - ECHO_BYTES / 2 : 0;
	echo(s + from, e);
	if (tf.cp < 0)
		fail(v, field, VALIDATE_INVALID_TEXT,
		     "%s is not valid UTF-8 at character %zu (byte 0x%02X), near '%s%s'", field,
		     tf.position, (unsigned char)s[tf.offset], from ? "..." : "", e);
	else
		fail(v, field, VALIDATE_INVALID_TEXT,
		     "%s contains the control character U+%04lX at character %zu%s, near '%s%s'",
		     field, (unsigned long)tf.cp, tf.position,
		     tf.cp == '\t' || tf.cp == '\r' || tf.cp == '\n'
			 ? " (this field is one line: no line breaks or tabs)"
			 : "",
		     from ? "..." : "", e);
}

static void walk(struct vctx *v, const ProtobufCMessage *m, const char *prefix);

/* A required field is absent. */
static void
fail_required(struct vctx *v, const char *field, const ProtobufCFieldDescriptor *f)
{
	char list[LIST_MAX];

	if (f->type == PROTOBUF_C_TYPE_ENUM)
		fail(v, field, VALIDATE_REQUIRED, "%s %s: one of %s", field,
		     f->label == PROTOBUF_C_LABEL_REPEATED ? "needs at least one value"
							   : "is required",
		     enum_list(f->descriptor, list, sizeof(list)));
	else if (f->label == PROTOBUF_C_LABEL_REPEATED)
		fail(v, field, VALIDATE_REQUIRED, "%s needs at least one value", field);
	else
		fail(v, field, VALIDATE_REQUIRED, "%s is required", field);
}

/* The checks of a present singular value. */
static void
check_value(struct vctx *v, const char *field, const struct field_rule *r,
	    const ProtobufCFieldDescriptor *f, const void *p)
{
	char prefix[FIELD_MAX];

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		check_string(v, field, r, *(char *const *)p);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		check_enum(v, field, r, f->descriptor, *(const int *)p);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		snprintf(prefix, sizeof(prefix), "%s.", field);
		walk(v, *(const ProtobufCMessage *const *)p, prefix);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		if (!isfinite(*(const double *)p))
			fail(v, field, VALIDATE_OUT_OF_RANGE, "%s must be a finite number", field);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		if (!isfinite(*(const float *)p))
			fail(v, field, VALIDATE_OUT_OF_RANGE, "%s must be a finite number", field);
		break;
	default:
		break;
	}
}

static void
check_repeated(struct vctx *v, const char *field, const struct field_rule *r,
	       const ProtobufCFieldDescriptor *f, const void *array, size_t n)
{
	char item[FIELD_MAX + 24];
	size_t size;

	if (r->max_items != 0 && n > r->max_items)
		fail(v, field, VALIDATE_OUT_OF_RANGE, "%s may have at most %u entries, got %zu",
		     field, r->max_items, n);
	if (f->type == PROTOBUF_C_TYPE_ENUM) {
		check_enum_list(v, field, f->descriptor, array, n);
		return;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		size = sizeof(void *);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		size = sizeof(double);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		size = sizeof(float);
		break;
	default:
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(item, sizeof(item), "%s[%zu]", field, i);
		check_value(v, item, r, f, (const char *)array + i * size);
	}
}

/* Applies the rules of m's table (or the default rule) to every field of m. */
static void
walk(struct vctx *v, const ProtobufCMessage *m, const char *prefix)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const struct message_rules *t = rules_for(d);
	size_t hint = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const struct field_rule *r = rule_find(t, f->name, &hint);
		const char *p = (const char *)m + f->offset;
		size_t n = pbfield_count(m, f), before = v->nerr;
		char field[FIELD_MAX];

		if (r == NULL)
			r = &default_rule;
		if (r->flags & F_OWN)
			continue;
		snprintf(field, sizeof(field), "%s%s", prefix, f->name);
		if (r->flags & F_READ_ONLY) {
			if (n != 0)
				fail(v, field, VALIDATE_READ_ONLY,
				     "%s is assigned by the registry and must not be sent", field);
			continue;
		}
		if (n == 0) {
			if (r->flags & F_REQUIRED)
				fail_required(v, field, f);
		} else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			check_repeated(v, field, r, f, *(void *const *)p, n);
		} else {
			check_value(v, field, r, f, p);
		}
		if (r->check != NULL && v->nerr == before)
			r->check(v, field, m, f);
	}
}

/* ---- records and transfers ---- */

void
validate_record(const Vacancy__V1__Record *r, long index, const struct validate_ctx *ctx,
		struct validate_errors *errs)
{
	struct vctx v;

	if (r == NULL) {
		(void)validate_add(errs, index, NULL, "upsert", VALIDATE_REQUIRED,
				   "upsert carries no record");
		return;
	}
	memset(&v, 0, sizeof(v));
	v.errs = errs;
	v.ctx = ctx;
	v.index = index;
	v.external_id = r->external_id;
	v.rec = r;
	/* the ARS and parcel Land rules compare with the AGS only once it is
	 * right: a wrong AGS is one error, not three */
	v.ags_ok = validate_ags(r->municipality_ags) && ctx->ags != NULL &&
		   strcmp(r->municipality_ags, ctx->ags) == 0;
	walk(&v, &r->base, "");
}

static void
validate_withdrawal(const Vacancy__V1__Withdrawal *w, long index, const struct validate_ctx *ctx,
		    struct validate_errors *errs)
{
	struct vctx v;

	memset(&v, 0, sizeof(v));
	v.errs = errs;
	v.ctx = ctx;
	v.index = index;
	v.external_id = w->external_id;
	walk(&v, &w->base, "");
}

static const char *
change_external_id(const Vacancy__V1__RecordChange *c)
{
	if (c == NULL)
		return NULL;
	if (c->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT && c->upsert != NULL)
		return c->upsert->external_id;
	if (c->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW && c->withdraw != NULL)
		return c->withdraw->external_id;
	return NULL;
}

/* An external_id that passes its own rules takes part in the duplicate check
 * (a bad one has its own error). */
static int
id_usable(const char *s)
{
	return s != NULL && !is_blank(s) && validate_text(s, 0, ID_MAX_CHARS) == NULL;
}

struct id_at {
	const char *id;
	size_t index;
};

static int
id_at_cmp(const void *a, const void *b)
{
	const struct id_at *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * For each change, the index of the first change with the same external_id,
 * or SIZE_MAX: sorting, so O(n log n) however many changes come. Returns
 * the malloc'd array (n entries; the caller frees it), or NULL when out of
 * memory.
 */
static size_t *
first_uses(const Vacancy__V1__SyncRequest *req)
{
	size_t n = req->n_changes, k = 0;
	struct id_at *ids;
	size_t *first;

	if (n > SIZE_MAX / sizeof(struct id_at))
		return NULL;
	first = malloc(n * sizeof(*first) + 1);
	ids = malloc(n * sizeof(*ids) + 1);
	if (first == NULL || ids == NULL) {
		free(first);
		free(ids);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *id = change_external_id(req->changes[i]);

		first[i] = SIZE_MAX;
		if (id_usable(id)) {
			ids[k].id = id;
			ids[k].index = i;
			k++;
		}
	}
	qsort(ids, k, sizeof(*ids), id_at_cmp);
	for (size_t i = 1; i < k; i++) {
		if (strcmp(ids[i].id, ids[i - 1].id) == 0)
			first[ids[i].index] = first[ids[i - 1].index] != SIZE_MAX
						  ? first[ids[i - 1].index]
						  : ids[i - 1].index;
	}
	free(ids);
	return first;
}

/* first_uses for one change without memory: O(n) per change, so used only
 * when out of memory and for transfers within ctx->max_records. */
static size_t
first_use_scan(const Vacancy__V1__SyncRequest *req, size_t i)
{
	const char *id = change_external_id(req->changes[i]), *o;

	if (!id_usable(id))
		return SIZE_MAX;
	for (size_t j = 0; j < i; j++) {
		o = change_external_id(req->changes[j]);
		if (o != NULL && strcmp(o, id) == 0)
			return j;
	}
	return SIZE_MAX;
}

void
validate_transfer(const Vacancy__V1__SyncRequest *req, const struct validate_ctx *ctx,
		  struct validate_errors *errs)
{
	struct vctx v;
	size_t *first;
	char e[ECHO_BUF];

	memset(&v, 0, sizeof(v));
	v.errs = errs;
	v.ctx = ctx;
	v.index = -1;
	walk(&v, &req->base, "");
	if (req->n_changes > ctx->max_records)
		(void)validate_add(errs, -1, NULL, "changes", VALIDATE_OUT_OF_RANGE,
				   "changes may number at most %zu per transfer, got %zu; send a "
				   "larger stock in parts sharing a full_session",
				   ctx->max_records, req->n_changes);
	first = first_uses(req);
	for (size_t i = 0; i < req->n_changes; i++) {
		const Vacancy__V1__RecordChange *c = req->changes[i];
		const char *id = change_external_id(c);
		size_t dup;

		if (c != NULL && c->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT)
			validate_record(c->upsert, (long)i, ctx, errs);
		else if (c != NULL &&
			 c->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW &&
			 c->withdraw != NULL)
			validate_withdrawal(c->withdraw, (long)i, ctx, errs);
		else
			(void)validate_add(
			    errs, (long)i, NULL, "change", VALIDATE_REQUIRED,
			    "change %zu must carry exactly one of upsert and withdraw", i);
		if (first != NULL)
			dup = first[i];
		else if (req->n_changes <= ctx->max_records)
			dup = first_use_scan(req, i);
		else
			dup = SIZE_MAX; /* out of memory, and rejected as too large anyway */
		if (dup != SIZE_MAX)
			(void)validate_add(errs, (long)i, id, "external_id", VALIDATE_DUPLICATE,
					   "external_id '%s' is already used by change %zu of this "
					   "transfer",
					   echo(id, e), dup);
	}
	free(first);
}

/*
 * Today and the current year in UTC, as validate.h says. (A German calendar
 * day starts one or two hours before the UTC one.)
 */
void
validate_ctx_now(struct validate_ctx *ctx, const char *ags, size_t max_records)
{
	/* "today" is the latest calendar date anywhere (UTC+14), so that a
	 * nightly sync in Germany just after midnight is not in the future */
	time_t now = time(NULL) + 14 * 3600;
	struct tm tm;

	memset(ctx, 0, sizeof(*ctx));
	ctx->ags = ags;
	ctx->max_records = max_records;
	/* without a date every date is "after today": refused rather than let through */
	if (gmtime_r(&now, &tm) == NULL)
		return;
	ctx->current_year = tm.tm_year + 1900;
	if (strftime(ctx->today, sizeof(ctx->today), "%Y-%m-%d", &tm) != 10)
		ctx->today[0] = '\0';
}

void
validate_errors_close(struct validate_errors *e, const char *limit_name)
{
	size_t dropped = e->dropped, max = e->max;

	if (dropped == 0)
		return;
	/* past max on purpose: the summary is the one entry that is always listed */
	e->max = SIZE_MAX;
	if (validate_add(e, -1, NULL, "changes", "TOO_MANY_ERRORS",
			 "%zu more errors are not listed (%s = %zu)", dropped, limit_name,
			 max) == 0)
		e->dropped = dropped;
	e->max = max;
}
