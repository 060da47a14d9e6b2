/*
 * json: protobuf JSON mapping over protobuf-c descriptors.
 *
 * One encoder and one decoder serve every message: they walk
 * ProtobufCMessageDescriptor field tables and reach members through offset and
 * quantifier_offset, exactly as protobuf-c's own pack and unpack do. Presence
 * follows protobuf-c's packer, so a message that round-trips through JSON
 * packs to the same bytes:
 *
 *   repeated          n_* (size_t at quantifier_offset) > 0
 *   oneof member      *_case (uint32_t at quantifier_offset) == field id
 *   optional scalar   has_* (protobuf_c_boolean at quantifier_offset)
 *   optional bytes    has_* as for scalars
 *   optional string   pointer not NULL and not the field's default_value
 *   optional message  pointer not NULL
 *   required          always (no quantifier)
 *
 * The decoder is a recursive descent parser that writes straight into the
 * message being built. Every allocation is linked into that message before
 * the next one is attempted, so on any error protobuf_c_message_free_unpacked
 * releases everything and nothing else needs tracking. Nesting is bounded by
 * max_depth; unknown keys are refused rather than skipped, so the parser never
 * walks a value that the schema does not describe.
 *
 * Numbers are formatted and parsed in the C locale whatever the process
 * locale is (the command-line client may call setlocale).
 */
#include "json.h"
#include "pbfield.h"
#include "utf8.h"

#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MEMBER(msg, off)  ((void *)((char *)(msg) + (off)))
#define CMEMBER(msg, off) ((const void *)((const char *)(msg) + (off)))

#define SHORT_MAX  256 /* keys and enum names: longer ones match nothing */
#define NUMBER_MAX 400 /* longest number token accepted */
#define SHOW_MAX   80  /* client text quoted in an error */
#define PATH_HEAD  3   /* components of a long path shown from its start */
#define PATH_TAIL  5   /* and from its end */

/* How protobuf-c records whether a field is present. */

struct enc {
	struct buf *out; /* borrowed */
	int pretty;
	int proto_names; /* keys as in the .proto (snake_case), not lowerCamelCase */
};

/* Where the decoder is, for error messages; lives on the C stack. */
struct path {
	const struct path *up;
	const ProtobufCFieldDescriptor *field; /* NULL: an element of up */
	size_t index;
};

struct dec {
	const char *start; /* borrowed input */
	const char *p;
	const char *end;
	ProtobufCAllocator *alloc; /* borrowed */
	unsigned max_depth;
	char *err; /* borrowed, errlen bytes */
	size_t errlen;
	int failed;
};

/* malloc for the allocator interface. */
static void *
sys_alloc(void *data, size_t size)
{
	(void)data;
	return malloc(size);
}

/* free for the allocator interface. */
static void
sys_free(void *data, void *p)
{
	(void)data;
	free(p);
}

/* What protobuf-c uses when given no allocator: plain malloc and free. */
static ProtobufCAllocator sys_allocator = {sys_alloc, sys_free, NULL};

/* The C locale for numbers, created once; (locale_t)0 if that failed. */
static locale_t
c_locale(void)
{
	static locale_t loc;

	if (loc == (locale_t)0)
		loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	return loc;
}

/* Returns the next character of the lowerCamelCase form of *np (0 at the end) and advances. */
static char
camel_next(const char **np)
{
	const char *s = *np;
	int up = 0;

	while (*s == '_') {
		up = 1;
		s++;
	}
	if (*s == '\0') {
		*np = s;
		return '\0';
	}
	*np = s + 1;
	if (up && *s >= 'a' && *s <= 'z')
		return (char)(*s - 'a' + 'A');
	return *s;
}

/* protoc's ToJsonName: drop each '_' and capitalise the letter after it. */
const char *
json_field_name(const ProtobufCFieldDescriptor *field, char *out, size_t outlen)
{
	const char *s = field->name;
	size_t i = 0;
	char c;

	if (outlen == 0)
		return out;
	while (i + 1 < outlen && (c = camel_next(&s)) != '\0')
		out[i++] = c;
	out[i] = '\0';
	return out;
}

/* Whether key (klen bytes) is the lowerCamelCase form of the field name. */
static int
camel_equal(const char *name, const char *key, size_t klen)
{
	size_t i = 0;
	char c;

	while ((c = camel_next(&name)) != '\0') {
		if (i >= klen || key[i] != c)
			return 0;
		i++;
	}
	return i == klen;
}

/* Finds the field whose proto name or JSON name is key (NUL-terminated, klen bytes). */
static const ProtobufCFieldDescriptor *
field_lookup(const ProtobufCMessageDescriptor *desc, const char *key, size_t klen)
{
	const ProtobufCFieldDescriptor *f;

	if ((f = protobuf_c_message_descriptor_get_field_by_name(desc, key)) != NULL)
		return f;
	for (unsigned i = 0; i < desc->n_fields; i++)
		if (camel_equal(desc->fields[i].name, key, klen))
			return &desc->fields[i];
	return NULL;
}

/* Writes cp as UTF-8 to out (when not NULL); returns the number of bytes. */
static size_t
utf8_encode(char *out, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (out)
		memcpy(out, b, n);
	return n;
}

/* ---- Encoding ---- */

/* Copies runs of plain bytes at once; escapes and replacements one at a time. */
void
json_add_string(struct buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len, *run = p;
	char esc[8];
	uint32_t cp = 0;
	int n = 0;

	buf_addc(out, '"');
	while (p < e) {
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++;
			continue;
		}
		if (*p >= 0x80) {
			n = utf8_decode(p, (size_t)(e - p), &cp);
			if (n > 0 && cp != 0x2028 && cp != 0x2029) {
				p += n;
				continue;
			}
		}
		buf_add(out, run, (size_t)(p - run));
		switch (*p) {
		case '"':
			buf_add(out, "\\\"", 2);
			break;
		case '\\':
			buf_add(out, "\\\\", 2);
			break;
		case '\b':
			buf_add(out, "\\b", 2);
			break;
		case '\f':
			buf_add(out, "\\f", 2);
			break;
		case '\n':
			buf_add(out, "\\n", 2);
			break;
		case '\r':
			buf_add(out, "\\r", 2);
			break;
		case '\t':
			buf_add(out, "\\t", 2);
			break;
		default:
			if (*p < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", *p);
				buf_add(out, esc, 6);
			} else if (n > 0) {
				/* U+2028 and U+2029 end lines in JavaScript */
				snprintf(esc, sizeof(esc), "\\u%04" PRIx32, cp);
				buf_add(out, esc, 6);
				p += n - 1;
			} else {
				buf_add(out, "\xef\xbf\xbd", 3); /* U+FFFD */
				p += -n - 1;
			}
			break;
		}
		run = ++p;
	}
	buf_add(out, run, (size_t)(p - run));
	buf_addc(out, '"');
}

/* Appends bytes as standard base64 with padding, in quotes. */
static void
enc_base64(struct buf *out, const uint8_t *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	uint32_t v;
	size_t i;

	buf_addc(out, '"');
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		q[0] = tab[v >> 18];
		q[1] = tab[v >> 12 & 63];
		q[2] = tab[v >> 6 & 63];
		q[3] = tab[v & 63];
		buf_add(out, q, 4);
	}
	if (n - i > 0) {
		v = (uint32_t)p[i] << 16;
		if (n - i == 2)
			v |= (uint32_t)p[i + 1] << 8;
		q[0] = tab[v >> 18];
		q[1] = tab[v >> 12 & 63];
		q[2] = n - i == 2 ? tab[v >> 6 & 63] : '=';
		q[3] = '=';
		buf_add(out, q, 4);
	}
	buf_addc(out, '"');
}

/*
 * A double of at most 6 decimal places and under 1e9 in magnitude (areas,
 * coordinates, distances) in its shortest digits, without printf: 1 when v
 * is one, else 0. m / 10^k is correctly rounded, so when it equals v the
 * digits of m parse back to v, the smallest such k has the fewest, and they
 * are the digits "%.15g" gives (at most 15 of them).
 */
static int
format_decimal(double v, char *out, size_t outlen)
{
	static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
	double a = fabs(v);
	char digits[24];

	if (!(a >= 1e-3 && a < 1e9) || outlen < 24)
		return 0;
	for (int k = 0; k < (int)(sizeof(pow10) / sizeof(pow10[0])); k++) {
		uint64_t m = (uint64_t)llround(a * pow10[k]);
		size_t n = 0, len = 0;

		if ((double)m / pow10[k] != a)
			continue;
		do { /* the digits of m, last first, at least k + 1 of them */
			digits[n++] = (char)('0' + m % 10);
			m /= 10;
		} while (m > 0 || n < (size_t)k + 1);
		if (v < 0)
			out[len++] = '-';
		while (n > 0) {
			if (n == (size_t)k)
				out[len++] = '.';
			out[len++] = digits[--n];
		}
		out[len] = '\0';
		return 1;
	}
	return 0;
}

/*
 * Formats a finite v with the fewest significant digits (from 15, or 6 for a
 * float) that parse back to the same value.
 */
static void
format_double(double v, int is_float, char *out, size_t outlen)
{
	locale_t loc, old = (locale_t)0;
	int prec = is_float ? 6 : 15, last = is_float ? 9 : 17;

	if (!is_float && format_decimal(v, out, outlen))
		return;
	loc = c_locale();
	if (loc != (locale_t)0)
		old = uselocale(loc);
	for (;; prec++) {
		snprintf(out, outlen, "%.*g", prec, v);
		if (prec == last)
			break;
		if (is_float ? strtof(out, NULL) == (float)v : strtod(out, NULL) == v)
			break;
	}
	if (loc != (locale_t)0)
		uselocale(old);
}

void
json_format_double(double v, char *out)
{
	if (isnan(v))
		strcpy(out, "NaN");
	else if (isinf(v))
		strcpy(out, v > 0 ? "Infinity" : "-Infinity");
	else
		format_double(v, 0, out, JSON_DOUBLE_LEN);
}

/* Appends a double or float: a number, or "NaN", "Infinity", "-Infinity". */
static void
enc_double(struct buf *out, double v, int is_float)
{
	char tmp[40];

	if (isnan(v)) {
		buf_adds(out, "\"NaN\"");
	} else if (isinf(v)) {
		buf_adds(out, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	} else {
		format_double(v, is_float, tmp, sizeof(tmp));
		buf_adds(out, tmp);
	}
}

/* Starts a new line indented by level steps when pretty printing. */
static void
enc_newline(struct enc *e, unsigned level)
{
	if (!e->pretty)
		return;
	buf_addc(e->out, '\n');
	for (unsigned i = 0; i < level; i++)
		buf_add(e->out, "  ", 2);
}

static void enc_message(struct enc *e, const ProtobufCMessage *msg, unsigned level);

/* Appends one value of field f stored at p (a member or an array element). */
static void
enc_value(struct enc *e, const ProtobufCFieldDescriptor *f, const void *p, unsigned level)
{
	const ProtobufCEnumValue *ev;
	const ProtobufCBinaryData *bd;
	const ProtobufCMessage *sub;
	const char *s;
	char tmp[32];

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		snprintf(tmp, sizeof(tmp), "%" PRId32, *(const int32_t *)p);
		buf_adds(e->out, tmp);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		snprintf(tmp, sizeof(tmp), "%" PRIu32, *(const uint32_t *)p);
		buf_adds(e->out, tmp);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(tmp, sizeof(tmp), "\"%" PRId64 "\"", *(const int64_t *)p);
		buf_adds(e->out, tmp);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(tmp, sizeof(tmp), "\"%" PRIu64 "\"", *(const uint64_t *)p);
		buf_adds(e->out, tmp);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		enc_double(e->out, *(const float *)p, 1);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		enc_double(e->out, *(const double *)p, 0);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		buf_adds(e->out, *(const protobuf_c_boolean *)p ? "true" : "false");
		break;
	case PROTOBUF_C_TYPE_ENUM:
		/* a value this build does not know (from a newer peer) stays a number */
		ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
		if (ev) {
			json_add_string(e->out, ev->name, strlen(ev->name));
		} else {
			snprintf(tmp, sizeof(tmp), "%d", *(const int *)p);
			buf_adds(e->out, tmp);
		}
		break;
	case PROTOBUF_C_TYPE_STRING:
		s = *(char *const *)p;
		json_add_string(e->out, s ? s : "", s ? strlen(s) : 0);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		bd = p;
		enc_base64(e->out, bd->data, bd->data ? bd->len : 0);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		sub = *(ProtobufCMessage *const *)p;
		if (sub)
			enc_message(e, sub, level);
		else
			buf_adds(e->out, "{}");
		break;
	}
}

/* Appends msg as an object whose closing brace is indented by level. */
static void
enc_message(struct enc *e, const ProtobufCMessage *msg, unsigned level)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	const ProtobufCFieldDescriptor *f;
	const char *name;
	const char *arr;
	size_t n, esize;
	int first = 1;
	char c;

	buf_addc(e->out, '{');
	for (unsigned i = 0; i < desc->n_fields && !buf_failed(e->out); i++) {
		f = &desc->fields[i];
		if (!pbfield_present(msg, f))
			continue;
		if (!first)
			buf_addc(e->out, ',');
		first = 0;
		enc_newline(e, level + 1);
		buf_addc(e->out, '"');
		name = f->name;
		if (e->proto_names)
			buf_adds(e->out, name);
		else
			while ((c = camel_next(&name)) != '\0')
				buf_addc(e->out, c);
		buf_adds(e->out, e->pretty ? "\": " : "\":");
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			enc_value(e, f, CMEMBER(msg, f->offset), level + 1);
			continue;
		}
		n = *(const size_t *)CMEMBER(msg, f->quantifier_offset);
		arr = *(const char *const *)CMEMBER(msg, f->offset);
		esize = pbfield_size(f->type);
		buf_addc(e->out, '[');
		for (size_t j = 0; j < n && !buf_failed(e->out); j++) {
			if (j > 0)
				buf_addc(e->out, ',');
			enc_newline(e, level + 2);
			enc_value(e, f, arr + j * esize, level + 2);
		}
		enc_newline(e, level + 1);
		buf_addc(e->out, ']');
	}
	if (!first)
		enc_newline(e, level);
	buf_addc(e->out, '}');
}

/* Entry point of the encoder; see json.h. */
int
json_encode(const ProtobufCMessage *msg, struct buf *out, int flags)
{
	struct enc e = {out, (flags & JSON_PRETTY) != 0, (flags & JSON_PROTO_NAMES) != 0};

	enc_message(&e, msg, 0);
	return buf_failed(out) ? -1 : 0;
}

/* ---- Decoding: errors and allocation ---- */

/* Appends to out at *pos (snprintf-style, truncating). */
static void err_append(char *out, size_t outlen, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
err_append(char *out, size_t outlen, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos + 1 >= outlen)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + *pos, outlen - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos = *pos + (size_t)n < outlen ? *pos + (size_t)n : outlen - 1;
}

/*
 * Writes the path from the root to p (n components in all), as in
 * "changes[3].upsert.title"; a long path keeps its first PATH_HEAD and last
 * PATH_TAIL components so that the reason after it is not cut off. Returns
 * the number of components of the path up to p.
 */
static size_t
path_print(const struct path *p, size_t n, char *out, size_t outlen, size_t *pos)
{
	char name[SHORT_MAX];
	int elide = n > PATH_HEAD + PATH_TAIL;
	const char *sep;
	size_t i;

	if (p == NULL)
		return 0;
	i = path_print(p->up, n, out, outlen, pos);
	if (elide && i >= PATH_HEAD && i < n - PATH_TAIL) {
		if (i == PATH_HEAD)
			err_append(out, outlen, pos, " ...");
		return i + 1;
	}
	sep = *pos == 0 || p->field == NULL ? "" : ".";
	if (elide && i == n - PATH_TAIL)
		sep = " ";
	if (p->field)
		err_append(out, outlen, pos, "%s%s", sep,
			   json_field_name(p->field, name, sizeof(name)));
	else
		err_append(out, outlen, pos, "%s[%zu]", sep, p->index);
	return i + 1;
}

/* Records the first error as "path: reason"; returns -1. */
static int dec_fail(struct dec *d, const struct path *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
dec_fail(struct dec *d, const struct path *path, const char *fmt, ...)
{
	const struct path *up;
	size_t pos = 0, n = 0;
	va_list ap;

	if (d->failed)
		return -1;
	d->failed = 1;
	if (d->errlen == 0)
		return -1;
	d->err[0] = '\0';
	for (up = path; up; up = up->up)
		n++;
	path_print(path, n, d->err, d->errlen, &pos);
	if (pos > 0)
		err_append(d->err, d->errlen, &pos, ": ");
	if (pos + 1 < d->errlen) {
		va_start(ap, fmt);
		vsnprintf(d->err + pos, d->errlen - pos, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Reports that what was expected at the current position is not there. */
static int
dec_expected(struct dec *d, const struct path *path, const char *what)
{
	if (d->p >= d->end)
		return dec_fail(d, path, "unexpected end of input, expected %s", what);
	return dec_fail(d, path, "expected %s", what);
}

/* Reports a syntax error at the current position. */
static int
dec_syntax(struct dec *d, const struct path *path, const char *what)
{
	if (d->p >= d->end)
		return dec_fail(d, path, "unexpected end of input, expected %s", what);
	return dec_fail(d, path, "syntax error at offset %zu: expected %s",
			(size_t)(d->p - d->start), what);
}

/* Allocates n bytes with the caller's allocator; NULL with an error when it refuses. */
static void *
dec_alloc(struct dec *d, size_t n)
{
	void *p = d->alloc->alloc(d->alloc->allocator_data, n);

	if (p == NULL)
		dec_fail(d, NULL, "allocation budget exceeded");
	return p;
}

/* Returns p (may be NULL) to the caller's allocator. */
static void
dec_free(struct dec *d, void *p)
{
	if (p)
		d->alloc->free(d->alloc->allocator_data, p);
}

/* Sets up d to parse text; NULL alloc means malloc and free. */
static void
dec_init(struct dec *d, const char *text, size_t len, ProtobufCAllocator *alloc, unsigned max_depth,
	 char *err, size_t errlen)
{
	if (text == NULL)
		text = "";
	d->start = d->p = text;
	d->end = text + len;
	d->alloc = alloc ? alloc : &sys_allocator;
	d->max_depth = max_depth ? max_depth : JSON_DEFAULT_MAX_DEPTH;
	d->err = err;
	d->errlen = err ? errlen : 0;
	d->failed = 0;
	if (d->errlen > 0)
		err[0] = '\0';
}

/* ---- Decoding: tokens ---- */

/* The next input byte, or -1 at the end. */
static int
peek(const struct dec *d)
{
	return d->p < d->end ? (unsigned char)*d->p : -1;
}

/* Skips the four whitespace characters of RFC 8259, and nothing else. */
static void
skip_ws(struct dec *d)
{
	while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
		d->p++;
}

/* Consumes lit if the input continues with it; returns whether it did. */
static int
match_literal(struct dec *d, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(d->end - d->p) < n || memcmp(d->p, lit, n) != 0)
		return 0;
	d->p += n;
	return 1;
}

/* Parses four hex digits at p (bounded by e) into *v; 0 or -1. */
static int
hex4(const unsigned char *p, const unsigned char *e, uint32_t *v)
{
	*v = 0;
	if (e - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];

		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return -1;
		*v = *v << 4 | c;
	}
	return 0;
}

/*
 * Validates and decodes the JSON string whose opening quote is at s. Writes
 * at most outcap bytes of the decoded text to out (none if out is NULL), sets
 * *outlen to the full decoded length and *endp past the closing quote.
 * Refuses raw control characters, invalid UTF-8, bad escapes, unpaired
 * surrogates and U+0000 (protobuf-c strings end at a NUL). 0 or -1.
 */
static int
string_scan(struct dec *d, const struct path *path, const char *s, char *out, size_t outcap,
	    size_t *outlen, const char **endp)
{
	const unsigned char *p = (const unsigned char *)s + 1;
	const unsigned char *e = (const unsigned char *)d->end;
	uint32_t cp, lo;
	size_t n = 0, k;
	char tmp[4];
	int r;

	for (;;) {
		if (p >= e) {
			d->p = d->end;
			return dec_syntax(d, path, "'\"' to end the string");
		}
		if (*p == '"')
			break;
		if (*p < 0x20)
			return dec_fail(d, path, "control character U+%04X in string at offset %zu",
					*p, (size_t)((const char *)p - d->start));
		if (*p != '\\') {
			if ((r = utf8_decode(p, (size_t)(e - p), &cp)) < 0)
				return dec_fail(d, path, "invalid UTF-8 in string at offset %zu",
						(size_t)((const char *)p - d->start));
			k = (size_t)r;
			if (out && n + k <= outcap)
				memcpy(out + n, p, k);
			n += k;
			p += k;
			continue;
		}
		if (e - p < 2) {
			p = e;
			continue;
		}
		switch (p[1]) {
		case '"':
		case '\\':
		case '/':
			cp = p[1];
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (hex4(p + 2, e, &cp) == -1)
				return dec_fail(d, path, "invalid \\u escape at offset %zu",
						(size_t)((const char *)p - d->start));
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return dec_fail(d, path,
						"unpaired surrogate \\u%04" PRIX32 " at offset %zu",
						cp, (size_t)((const char *)p - d->start));
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (e - p < 12 || p[6] != '\\' || p[7] != 'u' ||
				    hex4(p + 8, e, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff)
					return dec_fail(d, path,
							"unpaired surrogate \\u%04" PRIX32
							" at offset %zu",
							cp, (size_t)((const char *)p - d->start));
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
			if (cp == 0)
				return dec_fail(d, path, "\\u0000 is not allowed in strings");
			p += 4;
			break;
		default:
			return dec_fail(d, path, "invalid escape sequence at offset %zu",
					(size_t)((const char *)p - d->start));
		}
		p += 2;
		k = utf8_encode(tmp, cp);
		if (out && n + k <= outcap)
			memcpy(out + n, tmp, k);
		n += k;
	}
	*outlen = n;
	*endp = (const char *)p + 1;
	return 0;
}

/* Parses the string at d->p into a new NUL-terminated string from the allocator. */
static int
dec_string_alloc(struct dec *d, const struct path *path, char **res, size_t *reslen)
{
	const char *endp;
	size_t n;
	char *s;

	if (string_scan(d, path, d->p, NULL, 0, &n, &endp) == -1)
		return -1;
	if ((s = dec_alloc(d, n + 1)) == NULL)
		return -1;
	if (string_scan(d, path, d->p, s, n, &n, &endp) == -1) {
		dec_free(d, s);
		return -1;
	}
	s[n] = '\0';
	d->p = endp;
	*res = s;
	*reslen = n;
	return 0;
}

/*
 * Parses the string at d->p into out (size outsz > 0), NUL-terminated and
 * cut short if it does not fit; *n is the full length, so n >= outsz means
 * out holds a prefix.
 */
static int
dec_string_short(struct dec *d, const struct path *path, char *out, size_t outsz, size_t *n)
{
	const char *endp;

	if (string_scan(d, path, d->p, out, outsz - 1, n, &endp) == -1)
		return -1;
	out[*n < outsz ? *n : outsz - 1] = '\0';
	d->p = endp;
	return 0;
}

/* Returns the length of the RFC 8259 number at s (bounded by e), or 0 when there is none. */
static size_t
number_len(const char *s, const char *e)
{
	const char *p = s;

#define DIGIT(q) ((q) < e && *(q) >= '0' && *(q) <= '9')
	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (DIGIT(p) && *p != '0')
		while (DIGIT(p))
			p++;
	else
		return 0;
	if (p < e && *p == '.') {
		if (!DIGIT(p + 1))
			return 0;
		for (p++; DIGIT(p); p++)
			;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (!DIGIT(p))
			return 0;
		while (DIGIT(p))
			p++;
	}
#undef DIGIT
	return (size_t)(p - s);
}

enum num { NUM_OK, NUM_FRACTION, NUM_RANGE };

/*
 * Converts a valid number token (n <= NUMBER_MAX bytes) to sign and magnitude
 * when its value is an integer below 2^64, exactly: "1e3" and "100.0e-2" are
 * integers, "1.5" is not.
 */
static enum num
number_to_integer(const char *s, size_t n, int *neg, uint64_t *mag)
{
	const char *p = s, *e = s + n, *dig;
	char digits[NUMBER_MAX];
	size_t nd = 0, nfrac = 0, len;
	long exp = 0, scale;
	int eneg = 0;
	uint64_t v = 0;

	*neg = 0;
	*mag = 0;
	if (p < e && *p == '-') {
		*neg = 1;
		p++;
	}
	while (p < e && *p >= '0' && *p <= '9')
		digits[nd++] = *p++;
	if (p < e && *p == '.')
		for (p++; p < e && *p >= '0' && *p <= '9'; nfrac++)
			digits[nd++] = *p++;
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		for (; p < e && *p >= '0' && *p <= '9'; p++)
			if (exp < 100000)
				exp = exp * 10 + (*p - '0');
	}
	scale = (eneg ? -exp : exp) - (long)nfrac;
	for (dig = digits; dig < digits + nd && *dig == '0'; dig++)
		;
	len = (size_t)(digits + nd - dig);
	if (len == 0)
		return NUM_OK; /* zero, whatever its exponent or sign */
	if (scale < 0) {
		if ((size_t)-scale >= len)
			return NUM_FRACTION;
		for (size_t i = len - (size_t)-scale; i < len; i++)
			if (dig[i] != '0')
				return NUM_FRACTION;
		len -= (size_t)-scale;
		scale = 0;
	}
	if (len + (size_t)scale > 20)
		return NUM_RANGE;
	for (size_t i = 0; i < len; i++) {
		if (v > (UINT64_MAX - (uint64_t)(dig[i] - '0')) / 10)
			return NUM_RANGE;
		v = v * 10 + (uint64_t)(dig[i] - '0');
	}
	for (; scale > 0; scale--) {
		if (v > UINT64_MAX / 10)
			return NUM_RANGE;
		v *= 10;
	}
	*mag = v;
	return NUM_OK;
}

/* Stores sign and magnitude into an integer slot of type t; -1 when out of range. */
static int
integer_store(ProtobufCType t, int neg, uint64_t mag, void *slot)
{
	if (mag == 0)
		neg = 0;
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (mag > (neg ? (uint64_t)INT32_MAX + 1 : (uint64_t)INT32_MAX))
			return -1;
		*(int32_t *)slot = neg ? (int32_t)(-(int64_t)mag) : (int32_t)mag;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (neg || mag > UINT32_MAX)
			return -1;
		*(uint32_t *)slot = (uint32_t)mag;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
			return -1;
		if (neg)
			*(int64_t *)slot =
			    mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
		else
			*(int64_t *)slot = (int64_t)mag;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (neg)
			return -1;
		*(uint64_t *)slot = mag;
		return 0;
	default:
		return -1;
	}
}

/*
 * Reads the text of a numeric value: a number token, or the contents of a
 * string, into tok (NUMBER_MAX + 1 bytes, NUL-terminated). *quoted tells
 * which. The text of a string is not checked here.
 */
static int
dec_number_text(struct dec *d, const struct path *path, const char *what, char *tok, size_t *n,
		int *quoted)
{
	int c = peek(d);

	*quoted = c == '"';
	if (*quoted) {
		if (dec_string_short(d, path, tok, NUMBER_MAX + 1, n) == -1)
			return -1;
		if (*n > NUMBER_MAX)
			return dec_fail(d, path, "number too long");
		return 0;
	}
	if (c != '-' && (c < '0' || c > '9'))
		return dec_expected(d, path, what);
	if ((*n = number_len(d->p, d->end)) == 0)
		return dec_syntax(d, path, what);
	if (*n > NUMBER_MAX)
		return dec_fail(d, path, "number too long");
	memcpy(tok, d->p, *n);
	tok[*n] = '\0';
	d->p += *n;
	return 0;
}

/* Parses an integer field value (a number or a string holding one) into slot. */
static int
dec_integer(struct dec *d, const ProtobufCFieldDescriptor *f, void *slot, const struct path *path)
{
	char tok[NUMBER_MAX + 1], shown[SHOW_MAX];
	uint64_t mag;
	int quoted, neg;
	size_t n;

	if (dec_number_text(d, path, "an integer", tok, &n, &quoted) == -1)
		return -1;
	if (quoted && (n == 0 || number_len(tok, tok + n) != n))
		return dec_fail(d, path, "expected an integer, got \"%s\"",
				log_escape(tok, n, shown, sizeof(shown)));
	switch (number_to_integer(tok, n, &neg, &mag)) {
	case NUM_OK:
		break;
	case NUM_FRACTION:
		return dec_fail(d, path, "expected an integer, got %s",
				log_escape(tok, n, shown, sizeof(shown)));
	case NUM_RANGE:
		return dec_fail(d, path, "integer out of range: %s",
				log_escape(tok, n, shown, sizeof(shown)));
	}
	if (integer_store(f->type, neg, mag, slot) == -1)
		return dec_fail(d, path, "integer out of range: %s",
				log_escape(tok, n, shown, sizeof(shown)));
	return 0;
}

/* Parses a float or double value: a number, "NaN", "Infinity", "-Infinity" or a numeric string. */
static int
dec_float(struct dec *d, const ProtobufCFieldDescriptor *f, void *slot, const struct path *path)
{
	char tok[NUMBER_MAX + 1], shown[SHOW_MAX];
	locale_t loc;
	int quoted;
	size_t n;
	double v;

	if (dec_number_text(d, path, "a number", tok, &n, &quoted) == -1)
		return -1;
	if (quoted && strcmp(tok, "NaN") == 0)
		v = NAN;
	else if (quoted && strcmp(tok, "Infinity") == 0)
		v = INFINITY;
	else if (quoted && strcmp(tok, "-Infinity") == 0)
		v = -INFINITY;
	else if (quoted && (n == 0 || number_len(tok, tok + n) != n))
		return dec_fail(d, path, "expected a number, got \"%s\"",
				log_escape(tok, n, shown, sizeof(shown)));
	else {
		loc = c_locale();
		v = loc != (locale_t)0 ? strtod_l(tok, NULL, loc) : strtod(tok, NULL);
		if (isinf(v))
			return dec_fail(d, path, "number out of range: %s",
					log_escape(tok, n, shown, sizeof(shown)));
	}
	if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
		*(double *)slot = v;
		return 0;
	}
	if (isinf((float)v) && !isinf(v))
		return dec_fail(d, path, "number out of range for a float: %s",
				log_escape(tok, n, shown, sizeof(shown)));
	*(float *)slot = (float)v;
	return 0;
}

/* Parses an enum value: the name of a value, or the number of a defined value. */
static int
dec_enum(struct dec *d, const ProtobufCFieldDescriptor *f, void *slot, const struct path *path)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	const ProtobufCEnumValue *ev = NULL;
	char name[SHORT_MAX], shown[SHOW_MAX];
	int32_t v;
	uint64_t mag;
	size_t n;
	int c = peek(d), neg;

	if (c == '"') {
		if (dec_string_short(d, path, name, sizeof(name), &n) == -1)
			return -1;
		if (n < sizeof(name))
			ev = protobuf_c_enum_descriptor_get_value_by_name(ed, name);
		if (ev == NULL)
			return dec_fail(d, path, "unknown value '%s' of enum %s",
					log_escape(name, n, shown, sizeof(shown)), ed->name);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		if ((n = number_len(d->p, d->end)) == 0)
			return dec_syntax(d, path, "an enum value name or number");
		if (n <= NUMBER_MAX && number_to_integer(d->p, n, &neg, &mag) == NUM_OK &&
		    integer_store(PROTOBUF_C_TYPE_INT32, neg, mag, &v) == 0)
			ev = protobuf_c_enum_descriptor_get_value(ed, v);
		if (ev == NULL)
			return dec_fail(d, path, "unknown value %s of enum %s",
					log_escape(d->p, n, shown, sizeof(shown)), ed->name);
		d->p += n;
	} else {
		return dec_expected(d, path, "an enum value name");
	}
	*(int *)slot = ev->value;
	return 0;
}

/* Value of a base64 digit of either alphabet (standard or URL-safe), or -1. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decodes base64 (padding optional) in place; 0 or -1. */
static int
b64_decode(char *s, size_t n, size_t *outlen)
{
	size_t o = 0, pad = 0;
	uint32_t acc = 0;
	int bits = 0, v;

	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if ((pad > 0 && (n + pad) % 4 != 0) || n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((v = b64_value((unsigned char)s[i])) < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			s[o++] = (char)(acc >> bits & 0xff);
		}
	}
	*outlen = o;
	return 0;
}

/* Parses a base64 string into a ProtobufCBinaryData slot. */
static int
dec_bytes(struct dec *d, void *slot, const struct path *path)
{
	ProtobufCBinaryData *bd = slot;
	size_t n, len;
	char *s;

	if (peek(d) != '"')
		return dec_expected(d, path, "a base64 string");
	if (dec_string_alloc(d, path, &s, &n) == -1)
		return -1;
	if (b64_decode(s, n, &len) == -1) {
		dec_free(d, s);
		return dec_fail(d, path, "invalid base64");
	}
	if (len == 0) {
		dec_free(d, s); /* as protobuf-c unpacks empty bytes */
		s = NULL;
	}
	bd->data = (uint8_t *)s;
	bd->len = len;
	return 0;
}

static int dec_object(struct dec *d, ProtobufCMessage *msg, const struct path *path,
		      unsigned depth);

/* Parses one value of f's type at d->p into slot (a singular member or an array element). */
static int
dec_value(struct dec *d, const ProtobufCFieldDescriptor *f, void *slot, const struct path *path,
	  unsigned depth)
{
	const ProtobufCMessageDescriptor *md;
	ProtobufCMessage *sub;
	size_t n;
	char *s;

	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		if (peek(d) != '{')
			return dec_expected(d, path, "an object");
		md = f->descriptor;
		if ((sub = dec_alloc(d, md->sizeof_message)) == NULL)
			return -1;
		protobuf_c_message_init(md, sub);
		/* owned by the parent from here on: a failure below is freed with it */
		*(ProtobufCMessage **)slot = sub;
		return dec_object(d, sub, path, depth);
	case PROTOBUF_C_TYPE_STRING:
		if (peek(d) != '"')
			return dec_expected(d, path, "a string");
		if (dec_string_alloc(d, path, &s, &n) == -1)
			return -1;
		*(char **)slot = s;
		return 0;
	case PROTOBUF_C_TYPE_BYTES:
		return dec_bytes(d, slot, path);
	case PROTOBUF_C_TYPE_BOOL:
		if (match_literal(d, "true"))
			*(protobuf_c_boolean *)slot = 1;
		else if (match_literal(d, "false"))
			*(protobuf_c_boolean *)slot = 0;
		else
			return dec_expected(d, path, "true or false");
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		return dec_enum(d, f, slot, path);
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return dec_float(d, f, slot, path);
	default:
		return dec_integer(d, f, slot, path);
	}
}

/* Grows a repeated array from *cap to twice as many elements (at least 4). */
static int
array_grow(struct dec *d, void **arr, size_t *cap, size_t n, size_t esize)
{
	size_t ncap = *cap ? *cap * 2 : 4;
	void *p;

	if (ncap > SIZE_MAX / 2 / esize)
		return dec_fail(d, NULL, "allocation budget exceeded");
	if ((p = dec_alloc(d, ncap * esize)) == NULL)
		return -1;
	if (n > 0)
		memcpy(p, *arr, n * esize);
	dec_free(d, *arr);
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Parses a JSON array into the empty repeated field f of msg. */
static int
dec_array(struct dec *d, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
	  const struct path *path, unsigned depth)
{
	size_t *n = MEMBER(msg, f->quantifier_offset);
	void **arr = MEMBER(msg, f->offset);
	size_t cap = 0, esize = pbfield_size(f->type);
	struct path ep;
	char *slot;
	int c;

	if (peek(d) != '[')
		return dec_expected(d, path, "an array");
	if (++depth > d->max_depth)
		return dec_fail(d, path, "nested deeper than %u levels", d->max_depth);
	d->p++;
	skip_ws(d);
	if (peek(d) == ']') {
		d->p++;
		return 0;
	}
	for (;;) {
		ep = (struct path){path, NULL, *n};
		if (*n == cap && array_grow(d, arr, &cap, *n, esize) == -1)
			return -1;
		/* counted before it is filled: a zeroed element is safe to free */
		slot = (char *)*arr + *n * esize;
		memset(slot, 0, esize);
		(*n)++;
		skip_ws(d);
		if (match_literal(d, "null"))
			return dec_fail(d, &ep, "null is not allowed in an array");
		if (dec_value(d, f, slot, &ep, depth) == -1)
			return -1;
		skip_ws(d);
		if ((c = peek(d)) != ',' && c != ']')
			return dec_syntax(d, path, "',' or ']'");
		d->p++;
		if (c == ']')
			return 0;
	}
}

/* Parses the value of member f of msg (still unset); null leaves it absent. */
static int
dec_member(struct dec *d, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
	   const struct path *path, unsigned depth)
{
	const ProtobufCFieldDescriptor *other;
	void *member = MEMBER(msg, f->offset);
	void *q = MEMBER(msg, f->quantifier_offset);
	char name[SHORT_MAX];

	if (match_literal(d, "null")) {
		if (f->label == PROTOBUF_C_LABEL_REQUIRED)
			return dec_fail(d, path, "a required field cannot be null");
		return 0;
	}
	switch (pbfield_quant(f)) {
	case PBFIELD_COUNT:
		return dec_array(d, msg, f, path, depth);
	case PBFIELD_CASE:
		if (*(uint32_t *)q != 0 && *(uint32_t *)q != f->id) {
			other = protobuf_c_message_descriptor_get_field(msg->descriptor,
									*(uint32_t *)q);
			return dec_fail(d, path,
					"'%s' is already set and belongs to the same oneof",
					other ? json_field_name(other, name, sizeof(name)) : "?");
		}
		/* set first: the member must be reachable for cleanup while it is parsed */
		*(uint32_t *)q = f->id;
		return dec_value(d, f, member, path, depth);
	case PBFIELD_HAS:
		if (dec_value(d, f, member, path, depth) == -1)
			return -1;
		*(protobuf_c_boolean *)q = 1;
		return 0;
	case PBFIELD_NONE:
		break;
	}
	return dec_value(d, f, member, path, depth);
}

/* Parses a JSON object at d->p into msg, a freshly initialised message. */
static int
dec_object(struct dec *d, ProtobufCMessage *msg, const struct path *path, unsigned depth)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	const ProtobufCFieldDescriptor *f;
	unsigned char *seen = NULL; /* owned: one bit per field, against duplicates */
	char key[SHORT_MAX], shown[SHOW_MAX], name[SHORT_MAX];
	struct path fp;
	size_t klen, i;
	int c;

	if (peek(d) != '{')
		return dec_expected(d, path, "an object");
	if (++depth > d->max_depth)
		return dec_fail(d, path, "nested deeper than %u levels", d->max_depth);
	d->p++;
	if (desc->n_fields > 0) {
		if ((seen = dec_alloc(d, (desc->n_fields + 7) / 8)) == NULL)
			goto fail;
		memset(seen, 0, (desc->n_fields + 7) / 8);
	}
	skip_ws(d);
	if (peek(d) == '}') {
		d->p++;
		goto done;
	}
	for (;;) {
		skip_ws(d);
		if (peek(d) != '"') {
			dec_syntax(d, path, "a field name in quotes");
			goto fail;
		}
		if (dec_string_short(d, path, key, sizeof(key), &klen) == -1)
			goto fail;
		skip_ws(d);
		if (peek(d) != ':') {
			dec_syntax(d, path, "':'");
			goto fail;
		}
		d->p++;
		f = klen < sizeof(key) ? field_lookup(desc, key, klen) : NULL;
		if (f == NULL) {
			dec_fail(d, path, "unknown field '%s'",
				 log_escape(key, klen, shown, sizeof(shown)));
			goto fail;
		}
		i = (size_t)(f - desc->fields);
		if (seen[i / 8] & (1u << i % 8)) {
			dec_fail(d, path, "duplicate field '%s'",
				 json_field_name(f, name, sizeof(name)));
			goto fail;
		}
		seen[i / 8] |= (unsigned char)(1u << i % 8);
		fp = (struct path){path, f, 0};
		skip_ws(d);
		if (dec_member(d, msg, f, &fp, depth) == -1)
			goto fail;
		skip_ws(d);
		c = peek(d);
		if (c == ',') {
			d->p++;
			continue;
		}
		if (c == '}') {
			d->p++;
			break;
		}
		dec_syntax(d, path, "',' or '}'");
		goto fail;
	}
done:
	/* as protobuf-c's unpacker: a required field without a default must be given */
	for (i = 0; i < desc->n_fields; i++) {
		f = &desc->fields[i];
		if (f->label == PROTOBUF_C_LABEL_REQUIRED && f->default_value == NULL &&
		    !(seen[i / 8] & (1u << i % 8))) {
			dec_fail(d, path, "missing required field '%s'",
				 json_field_name(f, name, sizeof(name)));
			goto fail;
		}
	}
	dec_free(d, seen);
	return 0;
fail:
	dec_free(d, seen);
	return -1;
}

/* Entry point of the decoder; see json.h. */
ProtobufCMessage *
json_decode(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
	    ProtobufCAllocator *alloc, unsigned max_depth, char *err, size_t errlen)
{
	ProtobufCMessage *msg = NULL; /* owned until returned */
	struct dec d;

	dec_init(&d, text, len, alloc, max_depth, err, errlen);
	skip_ws(&d);
	if (peek(&d) != '{') {
		dec_expected(&d, NULL, "an object");
		goto fail;
	}
	if ((msg = dec_alloc(&d, desc->sizeof_message)) == NULL)
		goto fail;
	protobuf_c_message_init(desc, msg);
	if (dec_object(&d, msg, NULL, 0) == -1)
		goto fail;
	skip_ws(&d);
	if (d.p != d.end) {
		dec_fail(&d, NULL, "trailing characters at offset %zu after the value",
			 (size_t)(d.p - d.start));
		goto fail;
	}
	return msg;
fail:
	protobuf_c_message_free_unpacked(msg, d.alloc);
	return NULL;
}

/* Frees what the value of f (one member or array element at slot) owns. */
static void
value_free(const ProtobufCFieldDescriptor *f, void *slot, ProtobufCAllocator *alloc)
{
	const ProtobufCBinaryData *def;
	ProtobufCMessage *sm;
	void *p;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		p = *(char **)slot;
		if (p && p != f->default_value)
			alloc->free(alloc->allocator_data, p);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		p = ((ProtobufCBinaryData *)slot)->data;
		def = f->default_value;
		if (p && (def == NULL || def->data != p))
			alloc->free(alloc->allocator_data, p);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		sm = *(ProtobufCMessage **)slot;
		if (sm && sm != f->default_value)
			protobuf_c_message_free_unpacked(sm, alloc);
		break;
	default:
		break;
	}
}

/* Frees what field f of msg owns, as protobuf_c_message_free_unpacked would. */
static void
field_free(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, ProtobufCAllocator *alloc)
{
	void *member = MEMBER(msg, f->offset);
	size_t n, esize;
	char *arr;

	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		value_free(f, member, alloc);
		memset(member, 0, pbfield_size(f->type));
		return;
	}
	n = *(size_t *)MEMBER(msg, f->quantifier_offset);
	arr = *(char **)member;
	esize = pbfield_size(f->type);
	if (arr == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		value_free(f, arr + i * esize, alloc);
	alloc->free(alloc->allocator_data, arr);
	*(char **)member = NULL;
}

/*
 * Moves field f from src (a scratch message of the same type) into dst,
 * freeing what dst held there first, and leaves the field empty in src.
 */
static void
field_move(ProtobufCMessage *dst, ProtobufCMessage *src, const ProtobufCFieldDescriptor *f,
	   ProtobufCAllocator *alloc)
{
	const ProtobufCFieldDescriptor *cur;
	enum pbfield_quant quant = pbfield_quant(f);
	size_t vsize = quant == PBFIELD_COUNT ? sizeof(void *) : pbfield_size(f->type);
	size_t qsize = 0;
	uint32_t dcase;

	switch (quant) {
	case PBFIELD_COUNT:
		qsize = sizeof(size_t);
		field_free(dst, f, alloc);
		break;
	case PBFIELD_HAS:
		qsize = sizeof(protobuf_c_boolean);
		field_free(dst, f, alloc);
		break;
	case PBFIELD_CASE:
		qsize = sizeof(uint32_t);
		dcase = *(uint32_t *)MEMBER(dst, f->quantifier_offset);
		if (*(uint32_t *)MEMBER(src, f->quantifier_offset) == 0 && dcase != f->id)
			return; /* null for a member that is not the set one */
		cur =
		    dcase ? protobuf_c_message_descriptor_get_field(dst->descriptor, dcase) : NULL;
		if (cur)
			field_free(dst, cur, alloc);
		break;
	case PBFIELD_NONE:
		field_free(dst, f, alloc);
		break;
	}
	memcpy(MEMBER(dst, f->offset), MEMBER(src, f->offset), vsize);
	memset(MEMBER(src, f->offset), 0, vsize);
	if (qsize > 0) {
		memcpy(MEMBER(dst, f->quantifier_offset), MEMBER(src, f->quantifier_offset), qsize);
		memset(MEMBER(src, f->quantifier_offset), 0, qsize);
	}
}

/*
 * Parses the value into a scratch message of the same type and moves the
 * field over only when all of it parsed, so that msg never holds half a value.
 */
int
json_decode_field(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field, const char *text,
		  size_t len, ProtobufCAllocator *alloc, unsigned max_depth, char *err,
		  size_t errlen)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	ProtobufCMessage *tmp = NULL; /* owned: scratch message holding the new value */
	struct path fp = {NULL, field, 0};
	struct dec d;
	unsigned i;

	dec_init(&d, text, len, alloc, max_depth, err, errlen);
	for (i = 0; i < desc->n_fields && &desc->fields[i] != field; i++)
		;
	if (i == desc->n_fields) {
		dec_fail(&d, NULL, "'%s' is not a field of %s", field->name, desc->name);
		goto fail;
	}
	if ((tmp = dec_alloc(&d, desc->sizeof_message)) == NULL)
		goto fail;
	protobuf_c_message_init(desc, tmp);
	skip_ws(&d);
	if (dec_member(&d, tmp, field, &fp, 0) == -1)
		goto fail;
	skip_ws(&d);
	if (d.p != d.end) {
		dec_fail(&d, &fp, "trailing characters at offset %zu after the value",
			 (size_t)(d.p - d.start));
		goto fail;
	}
	field_move(msg, tmp, field, d.alloc);
	protobuf_c_message_free_unpacked(tmp, d.alloc);
	return 0;
fail:
	protobuf_c_message_free_unpacked(tmp, d.alloc);
	return -1;
}
