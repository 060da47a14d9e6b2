/*
 * syncrow: a transfer's changes as registry.apply_transfer() stores them
 * (syncrow.h). The row is a composite literal written column by column from
 * syncrow_columns, in registry.sync_row's order; the two history documents
 * are JSON, written by json_encode with the fields that the database keeps
 * elsewhere cleared for the moment and the members that differ from the
 * proto shape spliced in before the object's closing brace.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "pbfield.h"
#include "syncrow.h"

/* registry.sync_row's columns in order (migration 003); see syncrow.h */
enum col_kind {
	COL_FIELD,   /* the Record field of the same name */
	COL_LAT,     /* location.lat */
	COL_LON,     /* location.lon */
	COL_ATTACH,  /* attachments as JSON, without their rights holders */
	COL_HOLDERS, /* the attachments' rights holders, text[] */
};

struct col {
	const char *name;
	enum col_kind kind;
	const char *absent; /* the text of an absent field, NULL for SQL NULL */
};

const char *const syncrow_columns[] = {
    "municipality_ags",
    "municipality_ars",
    "last_verified_at",
    "publication",
    "owner_consent",
    "owner_consent_date",
    "site_kind",
    "usage",
    "marketing",
    "object_type",
    "status",
    "vacancy_degree",
    "vacant_since",
    "vacant_since_precision",
    "vacancy_reason",
    "condition",
    "construction_year",
    "development",
    "planning_basis",
    "bplan_ref",
    "contamination",
    "street",
    "house_number",
    "postcode",
    "locality",
    "gemarkung",
    "flur",
    "flurstueck",
    "parcel_ids",
    "lat",
    "lon",
    "source_x",
    "source_y",
    "source_crs",
    "location_blur_m",
    "usable_area_m2",
    "floor_area_m2",
    "sales_area_m2",
    "plot_area_m2",
    "divisible_from_m2",
    "purchase_price_eur",
    "rent_eur_month",
    "rent_eur_m2",
    "price_on_request",
    "title",
    "description",
    "location_text",
    "marketing_contact",
    "attachments",
    "attachment_rights_holders",
    "owner_category",
    "owner_name",
    "owner_address",
    "owner_phone",
    "owner_email",
    "owner_willingness",
    "internal_notes",
    NULL,
};

#define NCOLS (sizeof(syncrow_columns) / sizeof(syncrow_columns[0]) - 1)

/* What each column is, and its field descriptor: decided once. */
static struct {
	int ready, failed;
	enum col_kind kind[NCOLS];
	const char *absent[NCOLS];
	const ProtobufCFieldDescriptor *field[NCOLS];
} cols;

static const struct col col_special[] = {
    {"lat", COL_LAT, NULL},
    {"lon", COL_LON, NULL},
    {"attachments", COL_ATTACH, NULL},
    {"attachment_rights_holders", COL_HOLDERS, NULL},
    /* defaults written out: an absent field and its default compare equal */
    {"marketing", COL_FIELD, "{}"},
    {"parcel_ids", COL_FIELD, "{}"},
    {"price_on_request", COL_FIELD, "f"},
    {"location_blur_m", COL_FIELD, "0"},
};

static int
cols_init(void)
{
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;

	if (cols.ready)
		return cols.failed ? -1 : 0;
	cols.ready = 1;
	for (size_t i = 0; i < NCOLS; i++) {
		cols.kind[i] = COL_FIELD;
		cols.absent[i] = NULL;
		for (size_t k = 0; k < sizeof(col_special) / sizeof(col_special[0]); k++) {
			if (strcmp(col_special[k].name, syncrow_columns[i]) == 0) {
				cols.kind[i] = col_special[k].kind;
				cols.absent[i] = col_special[k].absent;
			}
		}
		if (cols.kind[i] != COL_FIELD)
			continue;
		cols.field[i] =
		    protobuf_c_message_descriptor_get_field_by_name(d, syncrow_columns[i]);
		if (cols.field[i] == NULL)
			cols.failed = 1; /* the unit test names it */
	}
	return cols.failed ? -1 : 0;
}

/*
 * The literal nests four levels: the array (1) of sync_change records (2)
 * whose row is a sync_row record (3) with arrays in it (4). Everything is
 * written straight into the output, escaped for the level it sits at: a
 * quote that delimits a value of level k carries 2^(k-1) - 1 backslashes
 * (it must survive the unescaping of the k - 1 levels around it), a '"' or
 * '\' inside such a value 2^k - 1.
 */
static void
lit_backslashes(struct buf *out, size_t n)
{
	static const char bs[16] = "\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\";

	buf_add(out, bs, n);
}

/* The quote that delimits a value of level `level`. */
static void
lit_quote(struct buf *out, int level)
{
	lit_backslashes(out, ((size_t)1 << (level - 1)) - 1);
	buf_addc(out, '"');
}

/* Whether s must be quoted: as record_out and array_out decide, together. */
static int
lit_needs_quotes(const char *s, size_t n)
{
	if (n == 0 || (n == 4 && strncasecmp(s, "NULL", 4) == 0))
		return 1;
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '"':
		case '\\':
		case '(':
		case ')':
		case '{':
		case '}':
		case ',':
		case ' ':
		case '\t':
		case '\n':
		case '\r':
		case '\v':
		case '\f':
			return 1;
		default:
			break;
		}
	}
	return 0;
}

/* s as a value of level `level`: bare when it can be, else quoted and escaped. */
static void
lit_value(struct buf *out, const char *s, size_t n, int level)
{
	size_t nb = ((size_t)1 << level) - 1, run = 0;

	if (!lit_needs_quotes(s, n)) {
		buf_add(out, s, n);
		return;
	}
	lit_quote(out, level);
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		buf_add(out, s + run, i - run);
		lit_backslashes(out, nb);
		run = i;
	}
	buf_add(out, s + run, n - run);
	lit_quote(out, level);
}

static void
lit_value_buf(struct buf *out, const struct buf *in, int level)
{
	lit_value(out, in->data != NULL ? in->data : "", in->len, level);
}

/* One value of f at p as PostgreSQL reads it; 0, or -1 for an unknown enum. */
static int
value_text(struct buf *out, const ProtobufCFieldDescriptor *f, const void *p)
{
	char tmp[JSON_DOUBLE_LEN];
	const ProtobufCEnumValue *ev;

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		buf_adds(out, *(char *const *)p);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		if ((ev = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p)) ==
		    NULL)
			return -1;
		buf_adds(out, ev->name);
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		json_format_double(*(const double *)p, tmp);
		buf_adds(out, tmp);
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		buf_addc(out, *(const protobuf_c_boolean *)p ? 't' : 'f');
		return 0;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		buf_printf(out, "%" PRId32, *(const int32_t *)p);
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		buf_printf(out, "%" PRIu32, *(const uint32_t *)p);
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		buf_printf(out, "%" PRId64, *(const int64_t *)p);
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		buf_printf(out, "%" PRIu64, *(const uint64_t *)p);
		return 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return json_encode(*(ProtobufCMessage *const *)p, out, JSON_PROTO_NAMES);
	default:
		return -1; /* no such field in Record */
	}
}

/* The levels of the literal (see lit_backslashes). */
#define LV_CHANGE 2 /* a field of a sync_change */
#define LV_ROW	  3 /* a field of the sync_row */
#define LV_ELEM	  4 /* an element of an array in the sync_row */

/* Field f of rec as a field of the row: a scalar, or an array literal. */
static int
field_value(struct buf *out, struct buf *tmp, const Vacancy__V1__Record *rec,
	    const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)rec + f->offset;

	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		tmp->len = 0;
		if (value_text(tmp, f, base) == -1)
			return -1;
		lit_value_buf(out, tmp, LV_ROW);
		return 0;
	}
	lit_quote(out, LV_ROW);
	buf_addc(out, '{');
	for (size_t i = 0, n = pbfield_count(&rec->base, f); i < n; i++) {
		const char *arr = *(char *const *)base;

		if (i > 0)
			buf_addc(out, ',');
		tmp->len = 0;
		if (value_text(tmp, f, arr + i * pbfield_size(f->type)) == -1)
			return -1;
		lit_value_buf(out, tmp, LV_ELEM);
	}
	buf_addc(out, '}');
	lit_quote(out, LV_ROW);
	return 0;
}

/* The attachments as JSON, without their rights holders. */
static void
attachments_json(struct buf *out, Vacancy__V1__Record *rec)
{
	buf_addc(out, '[');
	for (size_t i = 0; i < rec->n_attachments; i++) {
		Vacancy__V1__Attachment *a = rec->attachments[i];
		char *holder = a->rights_holder;
		int rc;

		if (i > 0)
			buf_addc(out, ',');
		a->rights_holder = NULL;
		/* -1 leaves out failed, which the caller checks */
		rc = json_encode(&a->base, out, JSON_PROTO_NAMES);
		a->rights_holder = holder;
		if (rc == -1)
			return;
	}
	buf_addc(out, ']');
}

/* The sync_row literal of rec, as a field of a sync_change. 0 or -1. */
static int
row_literal(struct buf *out, struct buf *tmp, Vacancy__V1__Record *rec)
{
	const Vacancy__V1__LatLon *ll = rec->location;
	char num[JSON_DOUBLE_LEN];

	lit_quote(out, LV_CHANGE);
	buf_addc(out, '(');
	for (size_t i = 0; i < NCOLS; i++) {
		const ProtobufCFieldDescriptor *f = cols.field[i];

		if (i > 0)
			buf_addc(out, ',');
		switch (cols.kind[i]) {
		case COL_LAT:
		case COL_LON:
			if (ll == NULL || !(cols.kind[i] == COL_LAT ? ll->has_lat : ll->has_lon))
				break; /* SQL NULL: nothing between the commas */
			json_format_double(cols.kind[i] == COL_LAT ? ll->lat : ll->lon, num);
			buf_adds(out, num);
			break;
		case COL_ATTACH:
			tmp->len = 0;
			attachments_json(tmp, rec);
			lit_value_buf(out, tmp, LV_ROW);
			break;
		case COL_HOLDERS:
			lit_quote(out, LV_ROW);
			buf_addc(out, '{');
			for (size_t k = 0; k < rec->n_attachments; k++) {
				const char *h = rec->attachments[k]->rights_holder;

				if (k > 0)
					buf_addc(out, ',');
				if (h == NULL)
					buf_adds(out, "NULL");
				else
					lit_value(out, h, strlen(h), LV_ELEM);
			}
			buf_addc(out, '}');
			lit_quote(out, LV_ROW);
			break;
		case COL_FIELD:
			if (pbfield_present(&rec->base, f)) {
				if (field_value(out, tmp, rec, f) == -1)
					return -1;
			} else if (cols.absent[i] != NULL) {
				lit_value(out, cols.absent[i], strlen(cols.absent[i]), LV_ROW);
			}
			break;
		}
	}
	buf_addc(out, ')');
	lit_quote(out, LV_CHANGE);
	return buf_failed(tmp) ? -1 : 0;
}

/* Reopens the object that ends out: drops its '}'. 1 if it has members. */
static int
obj_reopen(struct buf *out, size_t start)
{
	if (buf_failed(out) || out->len < start + 2 || out->data[out->len - 1] != '}')
		return 0;
	out->len--;
	out->data[out->len] = '\0';
	return out->len > start + 1;
}

static void
member(struct buf *out, int *some, const char *key)
{
	if (*some)
		buf_addc(out, ',');
	*some = 1;
	buf_addc(out, '"');
	buf_adds(out, key);
	buf_adds(out, "\":");
}

/* "lat":..,"lon":.. of the location, as json_encode writes doubles. */
static void
add_location(struct buf *out, int *some, const Vacancy__V1__LatLon *ll)
{
	struct buf tmp;

	buf_init(&tmp, 0);
	if (json_encode(&ll->base, &tmp, JSON_PROTO_NAMES) == -1) {
		out->failed = 1;
	} else if (tmp.len > 2) { /* not {} */
		if (*some)
			buf_addc(out, ',');
		*some = 1;
		buf_add(out, tmp.data + 1, tmp.len - 2);
	}
	buf_free(&tmp);
}

static void
add_holders(struct buf *out, int *some, const Vacancy__V1__Record *rec)
{
	member(out, some, "attachment_rights_holders");
	buf_addc(out, '[');
	for (size_t i = 0; i < rec->n_attachments; i++) {
		const char *holder = rec->attachments[i]->rights_holder;

		if (i > 0)
			buf_addc(out, ',');
		if (holder != NULL)
			json_add_string(out, holder, strlen(holder));
		else
			buf_adds(out, "null");
	}
	buf_addc(out, ']');
}

/*
 * The history document of a created record: its fields without the PERSONAL
 * ones (record.md) and without what the database keeps elsewhere, in the
 * API's value forms, with the defaults written out.
 */
static void
add_history_doc(struct buf *out, Vacancy__V1__Record *rec)
{
	/* kept elsewhere, or reshaped below */
	Vacancy__V1__Record saved = *rec;
	Vacancy__V1__LatLon *location = rec->location;
	size_t start = out->len;
	int some, rc;

	rec->external_id = NULL;
	rec->has_revision = 0;
	rec->location = NULL;
	rec->n_attachments = 0;
	rec->has_vacancy_reason = 0;
	rec->owner_name = rec->owner_address = rec->owner_phone = rec->owner_email = NULL;
	rec->has_owner_willingness = 0;
	rc = json_encode(&rec->base, out, JSON_PROTO_NAMES);
	*rec = saved;
	if (rc == -1)
		return; /* out is failed */

	some = obj_reopen(out, start);
	if (location != NULL)
		add_location(out, &some, location);
	member(out, &some, "attachments");
	attachments_json(out, rec);
	if (rec->n_marketing == 0) {
		member(out, &some, "marketing");
		buf_adds(out, "[]");
	}
	if (rec->n_parcel_ids == 0) {
		member(out, &some, "parcel_ids");
		buf_adds(out, "[]");
	}
	if (!rec->has_price_on_request) {
		member(out, &some, "price_on_request");
		buf_adds(out, "false");
	}
	if (!rec->has_location_blur_m) {
		member(out, &some, "location_blur_m");
		buf_addc(out, '0');
	}
	buf_addc(out, '}');
}

/* The PERSONAL fields that are set; out is left empty when none is. */
static void
add_personal_doc(struct buf *out, const Vacancy__V1__Record *rec)
{
	Vacancy__V1__Record p = VACANCY__V1__RECORD__INIT;
	size_t start = out->len;
	int some;

	p.has_vacancy_reason = rec->has_vacancy_reason;
	p.vacancy_reason = rec->vacancy_reason;
	p.owner_name = rec->owner_name;
	p.owner_address = rec->owner_address;
	p.owner_phone = rec->owner_phone;
	p.owner_email = rec->owner_email;
	p.has_owner_willingness = rec->has_owner_willingness;
	p.owner_willingness = rec->owner_willingness;
	if (json_encode(&p.base, out, JSON_PROTO_NAMES) == -1)
		return; /* out is failed */
	some = obj_reopen(out, start);
	if (rec->n_attachments > 0)
		add_holders(out, &some, rec);
	if (!some) {
		out->len = start;
		return;
	}
	buf_addc(out, '}');
}

void
syncrow_uuid7(uint64_t unix_ms, const unsigned char rnd[10], char out[SYNCROW_UUID_LEN])
{
	unsigned char b[16];

	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(unix_ms >> (40 - 8 * i));
	memcpy(b + 6, rnd, 10);
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f)); /* version 7 */
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f)); /* variant 10 */
	snprintf(out, SYNCROW_UUID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

/* One change as an element of the sync_change[] literal. 0 or -1. */
static int
change_literal(struct buf *out, struct buf *tmp, Vacancy__V1__RecordChange *c, const char *new_id)
{
	const char *x;
	uint64_t rev;
	int upsert = c->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;

	if (upsert) {
		x = c->upsert->external_id;
		rev = c->upsert->revision;
	} else if (c->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW) {
		x = c->withdraw->external_id;
		rev = c->withdraw->revision;
	} else {
		return -1; /* validate_transfer refuses these; never half a change */
	}
	lit_quote(out, 1);
	buf_adds(out, upsert ? "(t," : "(f,");
	if (x != NULL)
		lit_value(out, x, strlen(x), LV_CHANGE);
	buf_printf(out, ",%" PRIu64 ",", rev);
	if (upsert) {
		if (row_literal(out, tmp, c->upsert) == -1)
			return -1;
		buf_addc(out, ',');
		tmp->len = 0;
		add_history_doc(tmp, c->upsert);
		lit_value_buf(out, tmp, LV_CHANGE);
		buf_addc(out, ',');
		tmp->len = 0;
		add_personal_doc(tmp, c->upsert);
		if (tmp->len > 0)
			lit_value_buf(out, tmp, LV_CHANGE);
		buf_addc(out, ',');
		if (new_id != NULL)
			buf_adds(out, new_id);
	} else {
		buf_adds(out, ",,,");
	}
	buf_addc(out, ')');
	lit_quote(out, 1);
	return buf_failed(tmp) ? -1 : 0;
}

int
syncrow_encode(Vacancy__V1__SyncRequest *req, const char (*ids)[SYNCROW_UUID_LEN], struct buf *out)
{
	struct buf tmp;
	int rc = 0;

	if (cols_init() == -1)
		return -1;
	buf_init(&tmp, 0);
	buf_addc(out, '{');
	for (size_t i = 0; i < req->n_changes && rc == 0 && !buf_failed(out); i++) {
		if (i > 0)
			buf_addc(out, ',');
		rc = change_literal(out, &tmp, req->changes[i], ids != NULL ? ids[i] : NULL);
	}
	buf_addc(out, '}');
	buf_free(&tmp);
	return rc == -1 || buf_failed(out) ? -1 : 0;
}
