/*
 * print: renders registry messages for people. A record is printed by walking
 * its descriptor in field order; the only per-field knowledge is the label
 * table below (section, English label with the German term of record.md, and
 * a value style such as m² or EUR). Values are formatted by wire type, so a
 * field added to the proto shows up (under "Other") without code changes.
 *
 * Server text is untrusted: control characters, C1 controls, bidi overrides
 * and invalid UTF-8 are written as \xNN or \uNNNN so that a record cannot
 * move the cursor or recolour the terminal. Newlines in long texts are kept
 * and indented to the value column.
 */
#include "print.h"
#include "pbfield.h"
#include "utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

enum print_section {
	SEC_IDENTITY,
	SEC_STATE,
	SEC_LOCATION,
	SEC_SIZE,
	SEC_DESCRIPTION,
	SEC_CONTACT,
	SEC_OWNER,
	SEC_INTERNAL,
	SEC_OTHER,
	SEC_COUNT
};

static const char *const print_section_names[SEC_COUNT] = {
    "Identity", "State", "Location", "Size and price", "Description",
    "Contact",	"Owner", "Internal", "Other",
};

enum print_style {
	STYLE_PLAIN,
	STYLE_AREA,   /* grouped digits, " m²" */
	STYLE_MONEY,  /* decimal string as given, " EUR" */
	STYLE_METRES, /* " m" */
	STYLE_EPSG,   /* "EPSG:" prefix */
	STYLE_FLATTEN /* a sub-message whose fields become lines of their own */
};

struct print_label {
	const char *path; /* field name, or "parent.child" for sub-message fields */
	enum print_section section;
	enum print_style style;
	const char *label;
};

/* The Record's fields: where they go and what they are called. */
static const struct print_label print_labels[] = {
    {"record_id", SEC_IDENTITY, STYLE_PLAIN, "record ID (Registry-ID)"},
    {"municipality_ags", SEC_IDENTITY, STYLE_PLAIN, "AGS (Amtlicher Gemeindeschlüssel)"},
    {"municipality_ars", SEC_IDENTITY, STYLE_PLAIN, "ARS (Regionalschlüssel)"},
    {"external_id", SEC_IDENTITY, STYLE_PLAIN, "external ID (objektnr_extern)"},
    {"revision", SEC_IDENTITY, STYLE_PLAIN, "revision (Version)"},
    {"updated_at", SEC_IDENTITY, STYLE_PLAIN, "updated at (Stand vom)"},
    {"last_verified_at", SEC_IDENTITY, STYLE_PLAIN, "last verified (zuletzt bestätigt)"},
    {"withdrawn_at", SEC_IDENTITY, STYLE_PLAIN, "withdrawn at (zurückgezogen am)"},
    {"publication", SEC_INTERNAL, STYLE_PLAIN, "publication (Freigabe)"},
    {"owner_consent", SEC_INTERNAL, STYLE_PLAIN, "owner consent (Widerspruch/Einwilligung)"},
    {"owner_consent_date", SEC_INTERNAL, STYLE_PLAIN, "consent date (Datum)"},
    {"site_kind", SEC_STATE, STYLE_PLAIN, "site kind (Flächentyp)"},
    {"usage", SEC_STATE, STYLE_PLAIN, "usage (Nutzungsart)"},
    {"marketing", SEC_STATE, STYLE_PLAIN, "marketing (Vermarktungsart)"},
    {"object_type", SEC_STATE, STYLE_PLAIN, "object type (Objektart)"},
    {"status", SEC_STATE, STYLE_PLAIN, "status (Status)"},
    {"vacancy_degree", SEC_STATE, STYLE_PLAIN, "vacancy degree (Grad des Leerstands)"},
    {"vacant_since", SEC_STATE, STYLE_PLAIN, "vacant since (leer seit)"},
    {"vacant_since_precision", SEC_STATE, STYLE_PLAIN, "precision (Genauigkeit)"},
    {"vacancy_reason", SEC_STATE, STYLE_PLAIN, "vacancy reason (Leerstandsgrund)"},
    {"condition", SEC_STATE, STYLE_PLAIN, "condition (Zustand)"},
    {"construction_year", SEC_STATE, STYLE_PLAIN, "construction year (Baujahr)"},
    {"development", SEC_STATE, STYLE_PLAIN, "development (Erschließung)"},
    {"planning_basis", SEC_STATE, STYLE_PLAIN, "planning basis (bebaubar nach)"},
    {"bplan_ref", SEC_STATE, STYLE_PLAIN, "land-use plan (B-Plan / XPlanung)"},
    {"contamination", SEC_STATE, STYLE_PLAIN, "contamination (Altlasten)"},
    {"street", SEC_LOCATION, STYLE_PLAIN, "street (Straße)"},
    {"house_number", SEC_LOCATION, STYLE_PLAIN, "house number (Hausnummer)"},
    {"postcode", SEC_LOCATION, STYLE_PLAIN, "postcode (PLZ)"},
    {"locality", SEC_LOCATION, STYLE_PLAIN, "locality (Ort)"},
    {"gemarkung", SEC_LOCATION, STYLE_PLAIN, "cadastral district (Gemarkung)"},
    {"flur", SEC_LOCATION, STYLE_PLAIN, "cadastral section (Flur)"},
    {"flurstueck", SEC_LOCATION, STYLE_PLAIN, "parcel (Flurstück)"},
    {"parcel_ids", SEC_LOCATION, STYLE_PLAIN, "parcel IDs (Flurstückskennzeichen)"},
    {"location", SEC_LOCATION, STYLE_PLAIN, "location (Lage)"},
    {"source_x", SEC_LOCATION, STYLE_PLAIN, "source x (Quellkoordinaten)"},
    {"source_y", SEC_LOCATION, STYLE_PLAIN, "source y (Quellkoordinaten)"},
    {"source_crs", SEC_LOCATION, STYLE_EPSG, "source CRS (Quellkoordinaten)"},
    {"location_blur_m", SEC_LOCATION, STYLE_METRES, "blur radius (Unschärferadius)"},
    {"usable_area_m2", SEC_SIZE, STYLE_AREA, "usable area (Nutzfläche)"},
    {"floor_area_m2", SEC_SIZE, STYLE_AREA, "floor area (Gesamtfläche)"},
    {"sales_area_m2", SEC_SIZE, STYLE_AREA, "sales area (Verkaufsfläche)"},
    {"plot_area_m2", SEC_SIZE, STYLE_AREA, "plot area (Grundstücksfläche)"},
    {"divisible_from_m2", SEC_SIZE, STYLE_AREA, "divisible from (teilbar ab)"},
    {"purchase_price_eur", SEC_SIZE, STYLE_MONEY, "purchase price (Kaufpreis)"},
    {"rent_eur_month", SEC_SIZE, STYLE_MONEY, "rent per month (Kaltmiete)"},
    {"rent_eur_m2", SEC_SIZE, STYLE_MONEY, "rent per m² (Miete pro m²)"},
    {"price_on_request", SEC_SIZE, STYLE_PLAIN, "price on request (Preis auf Anfrage)"},
    {"title", SEC_DESCRIPTION, STYLE_PLAIN, "title (Objekttitel)"},
    {"description", SEC_DESCRIPTION, STYLE_PLAIN, "description (Objektbeschreibung)"},
    {"location_text", SEC_DESCRIPTION, STYLE_PLAIN, "location text (Lagebeschreibung)"},
    {"attachments", SEC_DESCRIPTION, STYLE_PLAIN, "attachments (Anhänge)"},
    {"marketing_contact", SEC_CONTACT, STYLE_FLATTEN, "contact (Ansprechpartner)"},
    {"marketing_contact.organisation", SEC_CONTACT, STYLE_PLAIN, "organisation (Organisation)"},
    {"marketing_contact.person_role", SEC_CONTACT, STYLE_PLAIN, "person or role (Ansprechpartner)"},
    {"marketing_contact.phone", SEC_CONTACT, STYLE_PLAIN, "phone (Telefon)"},
    {"marketing_contact.email", SEC_CONTACT, STYLE_PLAIN, "email (E-Mail)"},
    {"owner_category", SEC_OWNER, STYLE_PLAIN, "category (Eigentümerart)"},
    {"owner_name", SEC_OWNER, STYLE_PLAIN, "name (Eigentümer)"},
    {"owner_address", SEC_OWNER, STYLE_PLAIN, "address (Anschrift)"},
    {"owner_phone", SEC_OWNER, STYLE_PLAIN, "phone (Telefon)"},
    {"owner_email", SEC_OWNER, STYLE_PLAIN, "email (E-Mail)"},
    {"owner_willingness", SEC_OWNER, STYLE_PLAIN,
     "willingness (Verkaufs-/Vermietungsbereitschaft)"},
    {"internal_notes", SEC_INTERNAL, STYLE_PLAIN, "internal notes (interne Notizen)"},
};

#define PRINT_INDENT 2 /* before a label */
#define PRINT_GAP    3 /* at least, between the longest label and its value */
#define PRINT_DEPTH  8 /* nesting of inline sub-messages */

/* One output line: a label and its (possibly multi-line) value. */
struct print_row {
	enum print_section section;
	char *label; /* owned */
	char *value; /* owned */
};

struct print_rows {
	struct print_row *v; /* owned */
	size_t n, cap;
};

static void print_value(struct buf *b, const char *path, const ProtobufCMessage *m,
			const ProtobufCFieldDescriptor *f, enum print_style style, int keep_nl,
			int depth);

/* The label entry for a field path, or NULL. */
static const struct print_label *
print_lookup(const char *path)
{
	for (size_t i = 0; i < sizeof(print_labels) / sizeof(print_labels[0]); i++)
		if (strcmp(print_labels[i].path, path) == 0)
			return &print_labels[i];
	return NULL;
}

/* Cuts b back to len bytes, dropping what was appended since. */
static void
print_truncate(struct buf *b, size_t len)
{
	if (b->failed || b->data == NULL || len > b->len)
		return;
	b->len = len;
	b->data[len] = '\0';
}

void
client_print_escape(struct buf *b, const char *s, size_t n, enum print_nl nl)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t cp;
	int dec;

	while (i < n) {
		dec = utf8_decode(p + i, n - i, &cp);
		len = dec > 0 ? (size_t)dec : 0;
		if (len == 0) {
			buf_printf(b, "\\x%02x", p[i]);
			i++;
		} else if (nl == PRINT_NL_KEEP && cp == '\r' && i + 1 < n && p[i + 1] == '\n') {
			i++;
		} else if (nl == PRINT_NL_KEEP && cp == '\n') {
			buf_addc(b, '\n');
			i++;
		} else if (nl == PRINT_NL_C && (cp == '\n' || cp == '\t')) {
			buf_adds(b, cp == '\n' ? "\\n" : "\\t");
			i++;
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			for (size_t k = 0; k < len; k++)
				buf_printf(b, "\\x%02x", p[i + k]);
			i += len;
		} else if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
			buf_printf(b, "\\u%04" PRIx32, cp);
			i += len;
		} else {
			buf_add(b, p + i, len);
			i += len;
		}
	}
}

/* Number of terminal columns of our own (valid UTF-8, no wide) text. */
static size_t
print_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/*
 * Appends v in the shortest plain decimal form that reads back as the same
 * value (no exponent for everyday magnitudes); group puts a comma between
 * thousands. is_float compares at float precision.
 */
static void
print_double(struct buf *b, double v, int group, int is_float)
{
	char tmp[64];
	const char *dot, *digits;
	size_t intlen;
	int prec;

	if (!isfinite(v)) {
		buf_adds(b, isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
		return;
	}
	if (v != 0 && (fabs(v) >= 1e15 || fabs(v) < 1e-6)) {
		for (prec = 1; prec < 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
			if (is_float ? (float)strtod(tmp, NULL) == (float)v
				     : strtod(tmp, NULL) == v)
				break;
		}
		buf_adds(b, tmp);
		return;
	}
	for (prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*f", prec, v);
		if (is_float ? (float)strtod(tmp, NULL) == (float)v : strtod(tmp, NULL) == v)
			break;
	}
	if (!group) {
		buf_adds(b, tmp);
		return;
	}
	digits = tmp[0] == '-' ? tmp + 1 : tmp;
	if (digits != tmp)
		buf_addc(b, '-');
	dot = strchr(digits, '.');
	intlen = dot ? (size_t)(dot - digits) : strlen(digits);
	for (size_t i = 0; i < intlen; i++) {
		if (i > 0 && (intlen - i) % 3 == 0)
			buf_addc(b, ',');
		buf_addc(b, digits[i]);
	}
	if (dot)
		buf_adds(b, dot);
}

/* Appends a field name as a label: "media_type" -> "media type". */
static void
print_name_label(struct buf *b, const char *name)
{
	for (; *name; name++)
		buf_addc(b, *name == '_' ? ' ' : *name);
}

/*
 * Appends the fields of sub-message m on one line: "lat 50.1, lon 13.2".
 * Appends nothing when no field is set.
 */
static void
print_inline(struct buf *b, const char *path, const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const struct print_label *e;
	char sub[128];
	size_t start, mark;
	int count = 0;

	if (depth >= PRINT_DEPTH) {
		buf_adds(b, "...");
		return;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		snprintf(sub, sizeof(sub), "%s.%s", path, f->name);
		e = print_lookup(sub);
		start = b->len;
		if (count > 0)
			buf_adds(b, ", ");
		print_name_label(b, f->name);
		buf_addc(b, ' ');
		mark = b->len;
		print_value(b, sub, m, f, e ? e->style : STYLE_PLAIN, 0, depth + 1);
		if (b->len == mark)
			print_truncate(b, start);
		else
			count++;
	}
}

/* Appends one value of type f->type stored at slot, with its unit. */
static void
print_scalar(struct buf *b, const char *path, const ProtobufCFieldDescriptor *f, const void *slot,
	     enum print_style style, int keep_nl, int depth)
{
	const ProtobufCEnumValue *ev;
	const ProtobufCMessage *m;
	const char *s;
	size_t mark = b->len;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		buf_printf(b, "%" PRId32, *(const int32_t *)slot);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		buf_printf(b, "%" PRId64, *(const int64_t *)slot);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		buf_printf(b, "%s%" PRIu32, style == STYLE_EPSG ? "EPSG:" : "",
			   *(const uint32_t *)slot);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		buf_printf(b, "%" PRIu64, *(const uint64_t *)slot);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		print_double(b, *(const float *)slot, style == STYLE_AREA, 1);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		print_double(b, *(const double *)slot, style == STYLE_AREA, 0);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		buf_adds(b, *(const protobuf_c_boolean *)slot ? "yes" : "no");
		break;
	case PROTOBUF_C_TYPE_ENUM:
		/* 0 is UNSPECIFIED in every enum of the proto: "not given". */
		if (*(const int *)slot == 0)
			return;
		ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)slot);
		if (ev)
			buf_adds(b, ev->name);
		else
			buf_printf(b, "%d", *(const int *)slot);
		break;
	case PROTOBUF_C_TYPE_STRING:
		s = *(const char *const *)slot;
		if (s == NULL || *s == '\0')
			return;
		client_print_escape(b, s, strlen(s), keep_nl ? PRINT_NL_KEEP : PRINT_NL_HEX);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		if (((const ProtobufCBinaryData *)slot)->len == 0)
			return;
		buf_printf(b, "<%zu bytes>", ((const ProtobufCBinaryData *)slot)->len);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		m = *(const ProtobufCMessage *const *)slot;
		if (m)
			print_inline(b, path, m, depth);
		return;
	}
	if (b->len == mark)
		return;
	if (style == STYLE_AREA)
		buf_adds(b, " m²");
	else if (style == STYLE_MONEY)
		buf_adds(b, " EUR");
	else if (style == STYLE_METRES)
		buf_adds(b, " m");
}

/*
 * Appends the value of field f of message m: a singular value, or the set
 * elements of a repeated one separated by ", " (messages at the top level:
 * one per line; inside a line: in parentheses). Appends nothing when nothing
 * is set.
 */
static void
print_value(struct buf *b, const char *path, const ProtobufCMessage *m,
	    const ProtobufCFieldDescriptor *f, enum print_style style, int keep_nl, int depth)
{
	const char *member = (const char *)m + f->offset;
	int is_msg = f->type == PROTOBUF_C_TYPE_MESSAGE, count = 0;
	const char *arr;
	size_t n, size, start, mark;

	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		if (pbfield_present(m, f))
			print_scalar(b, path, f, member, style, keep_nl, depth);
		return;
	}
	n = *(const size_t *)(const void *)((const char *)m + f->quantifier_offset);
	arr = *(const char *const *)(const void *)member;
	size = pbfield_size(f->type);
	for (size_t i = 0; i < n && arr; i++) {
		start = b->len;
		if (count > 0)
			buf_adds(b, is_msg && depth == 0 ? "\n" : ", ");
		if (is_msg && depth > 0)
			buf_addc(b, '(');
		mark = b->len;
		print_scalar(b, path, f, arr + i * size, style, 0, depth);
		if (b->len == mark) {
			print_truncate(b, start);
			continue;
		}
		if (is_msg && depth > 0)
			buf_addc(b, ')');
		count++;
	}
}

/* Adds a row, taking ownership of label and value (freed on failure). */
static int
print_rows_add(struct print_rows *rows, enum print_section section, char *label, char *value)
{
	struct print_row *v;
	size_t ncap;

	if (label == NULL || value == NULL)
		goto fail;
	if (rows->n == rows->cap) {
		ncap = rows->cap ? rows->cap * 2 : 64;
		if ((v = realloc(rows->v, ncap * sizeof(*v))) == NULL)
			goto fail;
		rows->v = v;
		rows->cap = ncap;
	}
	rows->v[rows->n++] = (struct print_row){section, label, value};
	return 0;
fail:
	free(label);
	free(value);
	return -1;
}

/* Frees every row and the array. */
static void
print_rows_free(struct print_rows *rows)
{
	for (size_t i = 0; i < rows->n; i++) {
		free(rows->v[i].label);
		free(rows->v[i].value);
	}
	free(rows->v);
	memset(rows, 0, sizeof(*rows));
}

/*
 * Renders field f of m (label from the table, or derived from the field name
 * for fields the table lacks) and adds a row unless the value is empty.
 */
static int
print_field_row(struct print_rows *rows, const ProtobufCMessage *m, const char *path,
		const ProtobufCFieldDescriptor *f, enum print_section section)
{
	const struct print_label *e = print_lookup(path);
	struct buf label, value;

	buf_init(&label, 0);
	buf_init(&value, 0);
	print_value(&value, path, m, f, e ? e->style : STYLE_PLAIN, 1, 0);
	if (value.len == 0 && !value.failed) {
		buf_free(&value);
		return 0;
	}
	if (e)
		buf_adds(&label, e->label);
	else
		print_name_label(&label, path);
	if (label.failed || value.failed) {
		buf_free(&label);
		buf_free(&value);
		return -1;
	}
	return print_rows_add(rows, e ? e->section : section, buf_detach(&label, NULL),
			      buf_detach(&value, NULL));
}

/* Turns every field of m into rows; FLATTEN sub-messages give one row per field. */
static int
print_collect(struct print_rows *rows, const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const ProtobufCMessage *sub;
	const struct print_label *e;
	char path[128];

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		e = print_lookup(f->name);
		if (e && e->style == STYLE_FLATTEN && f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    f->label != PROTOBUF_C_LABEL_REPEATED) {
			if (!pbfield_present(m, f))
				continue;
			sub = *(const ProtobufCMessage *const *)(const void *)((const char *)m +
									       f->offset);
			for (unsigned k = 0; k < sub->descriptor->n_fields; k++) {
				snprintf(path, sizeof(path), "%s.%s", f->name,
					 sub->descriptor->fields[k].name);
				if (print_field_row(rows, sub, path, &sub->descriptor->fields[k],
						    e->section) == -1)
					return -1;
			}
			continue;
		}
		if (print_field_row(rows, m, f->name, f, e ? e->section : SEC_OTHER) == -1)
			return -1;
	}
	return 0;
}

/* Writes "  label   value", continuation lines indented to the value column. */
static void
print_row_out(FILE *out, const struct print_row *row, size_t width)
{
	const char *p = row->value, *nl;
	size_t len = strlen(p), n, column = PRINT_INDENT + width + PRINT_GAP;

	while (len > 0 && p[len - 1] == '\n')
		len--;
	fprintf(out, "%*s%s%*s", PRINT_INDENT, "", row->label,
		(int)(width - print_width(row->label) + PRINT_GAP), "");
	for (int first = 1;; first = 0) {
		nl = memchr(p, '\n', len);
		n = nl ? (size_t)(nl - p) : len;
		if (!first && n > 0)
			fprintf(out, "%*s", (int)column, "");
		fwrite(p, 1, n, out);
		fputc('\n', out);
		if (nl == NULL)
			break;
		p = nl + 1;
		len -= n + 1;
	}
}

int
client_print_record(const Vacancy__V1__Record *r, FILE *out)
{
	struct print_rows rows = {0};
	size_t width = 0;
	int any = 0;

	if (print_collect(&rows, &r->base) == -1)
		goto fail;
	for (size_t i = 0; i < rows.n; i++)
		if (print_width(rows.v[i].label) > width)
			width = print_width(rows.v[i].label);
	for (int sec = 0; sec < SEC_COUNT; sec++) {
		int header = 0;

		for (size_t i = 0; i < rows.n; i++) {
			if (rows.v[i].section != (enum print_section)sec)
				continue;
			if (!header) {
				fprintf(out, "%s%s\n", any ? "\n" : "", print_section_names[sec]);
				header = any = 1;
			}
			print_row_out(out, &rows.v[i], width);
		}
	}
	print_rows_free(&rows);
	return ferror(out) ? -1 : 0;
fail:
	print_rows_free(&rows);
	return -1;
}

int
client_print_error(const Vacancy__V1__Error *e, long http_status, FILE *out)
{
	struct buf line;
	int rc = 0;

	buf_init(&line, 0);
	buf_adds(&line, "vacancy: ");
	if (e->code && *e->code)
		client_print_escape(&line, e->code, strlen(e->code), PRINT_NL_HEX);
	else
		buf_printf(&line, "HTTP %ld", http_status);
	if (e->message && *e->message) {
		buf_adds(&line, ": ");
		client_print_escape(&line, e->message, strlen(e->message), PRINT_NL_HEX);
	}
	buf_addc(&line, '\n');
	for (size_t i = 0; i < e->n_field_errors; i++) {
		const Vacancy__V1__FieldError *fe = e->field_errors[i];
		const char *parts[3];
		size_t start;
		int n = 0;

		if (fe == NULL)
			continue;
		parts[0] = fe->field, parts[1] = fe->code, parts[2] = fe->message;
		/* "  #3 (ANN-17): usable_area_m2: OUT_OF_RANGE: must not be negative" */
		start = line.len;
		buf_adds(&line, "  ");
		if (fe->has_index) {
			buf_printf(&line, "#%" PRIu32, fe->index);
			n = 1;
		}
		if (fe->external_id && *fe->external_id) {
			buf_adds(&line, n ? " (" : "(");
			client_print_escape(&line, fe->external_id, strlen(fe->external_id),
					    PRINT_NL_HEX);
			buf_addc(&line, ')');
			n = 1;
		}
		for (int k = 0; k < 3; k++) {
			if (parts[k] == NULL || *parts[k] == '\0')
				continue;
			if (n++)
				buf_adds(&line, ": ");
			client_print_escape(&line, parts[k], strlen(parts[k]), PRINT_NL_HEX);
		}
		if (n == 0)
			print_truncate(&line, start); /* an empty entry */
		else
			buf_addc(&line, '\n');
	}
	if (e->request_id && *e->request_id) {
		buf_adds(&line, "  request id: ");
		client_print_escape(&line, e->request_id, strlen(e->request_id), PRINT_NL_HEX);
		buf_addc(&line, '\n');
	}
	if (line.failed)
		rc = -1;
	else if (fwrite(line.data, 1, line.len, out) != line.len || fflush(out) != 0)
		rc = -1;
	buf_free(&line);
	return rc;
}
