/*
 * test_validate: the rules of record.md as daemon/validate.c applies them to
 * sync transfers. A valid maximal and a valid minimal record of Annaberg-
 * Buchholz (Erzgebirgskreis) are the fixtures; table-driven cases change one
 * field each (addressed by its error path, e.g. "attachments[1].url", and
 * resolved through the protobuf-c descriptors) and expect exactly one error
 * with that field, code and index, or none. Every error any test sees is
 * also checked for shape: a known code, a field, and a one-line UTF-8
 * message that starts with the field's name.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "validate.h"
#include "vacancy.pb-c.h"

void test_validate_register(void);

/* Annaberg-Buchholz: Land 14 (Sachsen), Regierungsbezirk 5, Kreis 21
 * (Erzgebirgskreis), Gemeinde 020. */
#define AGS "14521020"
/* Its ARS as the rules see it: 14 5 21 0000 020. The Gemeindeverband 0000 is
 * a placeholder: the AGS does not carry it, so validate_ars cannot check it. */
#define ARS	  "145210000020"
#define SHA	  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define TODAY	  "2026-06-15"
#define TOMORROW  "2026-06-16"
#define THIS_YEAR 2026
#define INDEX	  3 /* the change index record cases are validated as */

#define MAX_ATT	   51
#define MAX_PARCEL 101

#define EXPECT(cond, what)                                                                         \
	CU_assertImplementation(!!(cond), __LINE__, (what), __FILE__, "", CU_FALSE)

/* A record and the storage its pointers use. */
struct fx {
	Vacancy__V1__Record r;
	Vacancy__V1__LatLon loc;
	Vacancy__V1__MarketingContact mc;
	Vacancy__V1__Attachment att[MAX_ATT];
	Vacancy__V1__Attachment *attp[MAX_ATT];
	Vacancy__V1__Usage__Value usage[4];
	Vacancy__V1__Marketing__Value marketing[4];
	char *parcels[MAX_PARCEL];
};

static struct validate_ctx
fixed_ctx(void)
{
	struct validate_ctx c;

	memset(&c, 0, sizeof(c));
	c.ags = AGS;
	c.current_year = THIS_YEAR;
	memcpy(c.today, TODAY, sizeof(TODAY));
	c.max_records = 100;
	return c;
}

/* Only what record.md requires. */
static void
fx_minimal(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	vacancy__v1__record__init(&f->r);
	vacancy__v1__lat_lon__init(&f->loc);
	vacancy__v1__marketing_contact__init(&f->mc);
	for (size_t i = 0; i < MAX_ATT; i++) {
		vacancy__v1__attachment__init(&f->att[i]);
		f->att[i].has_group = 1;
		f->att[i].group = VACANCY__V1__ATTACHMENT_GROUP__VALUE__PHOTO;
		f->att[i].url = "https://www.annaberg-buchholz.de/leerstand/42/bild.jpg";
		f->attp[i] = &f->att[i];
	}
	for (size_t i = 0; i < MAX_PARCEL; i++)
		f->parcels[i] = "14400200300123000400";
	f->r.municipality_ags = AGS;
	f->r.external_id = "LS-2026-0042";
	f->r.has_revision = 1;
	f->r.revision = 7;
	f->r.last_verified_at = "2026-05-04";
	f->r.has_publication = 1;
	f->r.publication = VACANCY__V1__PUBLICATION__VALUE__INTERNAL;
	f->r.has_owner_consent = 1;
	f->r.owner_consent = VACANCY__V1__OWNER_CONSENT__VALUE__UNKNOWN;
	f->r.has_site_kind = 1;
	f->r.site_kind = VACANCY__V1__SITE_KIND__VALUE__UNIT;
	f->usage[0] = VACANCY__V1__USAGE__VALUE__COMMERCIAL;
	f->r.n_usage = 1;
	f->r.usage = f->usage;
	f->r.has_object_type = 1;
	f->r.object_type = VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL;
	f->r.has_status = 1;
	f->r.status = VACANCY__V1__STATUS__VALUE__SUSPECTED;
	f->r.street = "Große Kirchgasse";
	f->r.postcode = "09456";
	f->r.locality = "Annaberg-Buchholz";
	f->loc.has_lat = 1;
	f->loc.lat = 50.5796;
	f->loc.has_lon = 1;
	f->loc.lon = 13.0025;
	f->r.location = &f->loc;
}

/* Every field but those the registry assigns. */
static void
fx_full(struct fx *f)
{
	Vacancy__V1__Record *r = &f->r;

	fx_minimal(f);
	r->municipality_ars = ARS;
	r->publication = VACANCY__V1__PUBLICATION__VALUE__PUBLIC;
	r->owner_consent = VACANCY__V1__OWNER_CONSENT__VALUE__NO_OBJECTION;
	r->owner_consent_date = "2026-01-10";
	f->usage[0] = VACANCY__V1__USAGE__VALUE__COMMERCIAL;
	f->usage[1] = VACANCY__V1__USAGE__VALUE__MIXED;
	r->n_usage = 2;
	f->marketing[0] = VACANCY__V1__MARKETING__VALUE__SALE;
	f->marketing[1] = VACANCY__V1__MARKETING__VALUE__RENT;
	r->n_marketing = 2;
	r->marketing = f->marketing;
	r->status = VACANCY__V1__STATUS__VALUE__MARKETED;
	r->has_vacancy_degree = 1;
	r->vacancy_degree = VACANCY__V1__VACANCY_DEGREE__VALUE__COMPLETE;
	r->vacant_since = "2023-04-01";
	r->has_vacant_since_precision = 1;
	r->vacant_since_precision = VACANCY__V1__DATE_PRECISION__VALUE__MONTH;
	r->has_vacancy_reason = 1;
	r->vacancy_reason = VACANCY__V1__VACANCY_REASON__VALUE__HEIRS_DISPUTE;
	r->has_condition = 1;
	r->condition = VACANCY__V1__CONDITION__VALUE__NEEDS_REFURBISHMENT;
	r->has_construction_year = 1;
	r->construction_year = 1898;
	r->has_development = 1;
	r->development = VACANCY__V1__DEVELOPMENT__VALUE__FULL;
	r->has_planning_basis = 1;
	r->planning_basis = VACANCY__V1__PLANNING_BASIS__VALUE__S34;
	r->bplan_ref = "https://www.annaberg-buchholz.de/bauleitplanung/bplan-17";
	r->has_contamination = 1;
	r->contamination = VACANCY__V1__CONTAMINATION__VALUE__NONE_KNOWN;
	r->house_number = "12a";
	r->gemarkung = "Annaberg";
	r->flur = "3";
	r->flurstueck = "123/4";
	f->parcels[1] = "144002___00123______";
	r->n_parcel_ids = 2;
	r->parcel_ids = f->parcels;
	r->has_source_x = 1;
	r->source_x = 358612.4;
	r->has_source_y = 1;
	r->source_y = 5605187.9;
	r->has_source_crs = 1;
	r->source_crs = 25833;
	r->has_location_blur_m = 1;
	r->location_blur_m = 250;
	r->has_usable_area_m2 = 1;
	r->usable_area_m2 = 420.5;
	r->has_floor_area_m2 = 1;
	r->floor_area_m2 = 610;
	r->has_sales_area_m2 = 1;
	r->sales_area_m2 = 380;
	r->has_plot_area_m2 = 1;
	r->plot_area_m2 = 890;
	r->has_divisible_from_m2 = 1;
	r->divisible_from_m2 = 120;
	r->purchase_price_eur = "189000.00";
	r->rent_eur_month = "2450.5";
	r->rent_eur_m2 = "5.83";
	r->has_price_on_request = 1;
	r->price_on_request = 0;
	r->title = "Ladengeschäft am Markt";
	r->description = "Ladenfläche im Erdgeschoss,\n\tSchaufensterfront zur Großen Kirchgasse.";
	r->location_text = "Altstadt, 200 m zum Markt.\r\nBus 210 in 100 m.";
	f->mc.organisation = "Wirtschaftsförderung Erzgebirge GmbH";
	f->mc.person_role = "Standortberatung";
	f->mc.phone = "+49 3733 145-0";
	f->mc.email = "standort@wfe-erzgebirge.de";
	r->marketing_contact = &f->mc;
	f->att[0].media_type = "image/jpeg";
	f->att[0].sha256 = SHA;
	f->att[0].rights_holder = "Stadt Annaberg-Buchholz";
	f->att[0].licence = "CC BY 4.0";
	f->att[1].group = VACANCY__V1__ATTACHMENT_GROUP__VALUE__FLOORPLAN;
	f->att[1].media_type = "application/pdf";
	f->att[1].sha256 = SHA;
	f->att[1].url = "http://intranet.annaberg-buchholz.de/grundriss.pdf";
	f->att[1].rights_holder = "Architekturbüro Müller";
	f->att[1].licence = "all rights reserved";
	r->n_attachments = 2;
	r->attachments = f->attp;
	r->has_owner_category = 1;
	r->owner_category = VACANCY__V1__OWNER_CATEGORY__VALUE__PRIVATE;
	r->owner_name = "Erbengemeinschaft Schmidt";
	r->owner_address = "Musterweg 1\n09456 Annaberg-Buchholz";
	r->owner_phone = "03733 123456";
	r->owner_email = "schmidt.erben@example.de";
	r->has_owner_willingness = 1;
	r->owner_willingness = VACANCY__V1__OWNER_WILLINGNESS__VALUE__SELL;
	r->internal_notes = "Erben uneins; Notartermin 2026-07.\nNachfassen im Herbst.";
}

/* ---- checking errors ---- */

static const char *const codes[] = {
    VALIDATE_REQUIRED,	   VALIDATE_INVALID_FORMAT,  VALIDATE_OUT_OF_RANGE,
    VALIDATE_TOO_LONG,	   VALIDATE_INVALID_TEXT,    VALIDATE_UNKNOWN_VALUE,
    VALIDATE_INCONSISTENT, VALIDATE_DUPLICATE,	     VALIDATE_WRONG_MUNICIPALITY,
    VALIDATE_READ_ONLY,	   VALIDATE_OUTSIDE_GERMANY,
};

/* Every error: a known code, a field, a short one-line UTF-8 message that
 * starts with the field. */
static void
check_shape(const struct validate_errors *e)
{
	CU_ASSERT(e->n <= e->max);
	for (size_t i = 0; i < e->n; i++) {
		const Vacancy__V1__FieldError *fe = e->items[i];
		int known = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(fe);
		CU_ASSERT_PTR_NOT_NULL_FATAL(fe->code);
		CU_ASSERT_PTR_NOT_NULL_FATAL(fe->field);
		CU_ASSERT_PTR_NOT_NULL_FATAL(fe->message);
		for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++)
			known |= strcmp(fe->code, codes[k]) == 0;
		CU_ASSERT(known);
		CU_ASSERT(fe->field[0] != '\0');
		CU_ASSERT(validate_text(fe->message, 0, 700) == NULL);
		CU_ASSERT(strncmp(fe->message, fe->field, strlen(fe->field)) == 0);
		if (fe->external_id != NULL)
			CU_ASSERT(validate_text(fe->external_id, 0, 256) == NULL);
	}
}

/* The error with this field and code, or NULL. */
static const Vacancy__V1__FieldError *
find(const struct validate_errors *e, const char *field, const char *code)
{
	for (size_t i = 0; i < e->n; i++) {
		if (strcmp(e->items[i]->field, field) == 0 && strcmp(e->items[i]->code, code) == 0)
			return e->items[i];
	}
	return NULL;
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Validates f's record as change INDEX; expects exactly one error (field,
 * code) or, with code NULL, none. what names the case in a failure. */
static void
expect_record(struct fx *f, const char *what, const char *field, const char *code)
{
	struct validate_ctx ctx = fixed_ctx();
	struct validate_errors e;
	const Vacancy__V1__FieldError *fe;
	char msg[1024];

	validate_errors_init(&e, 100);
	validate_record(&f->r, INDEX, &ctx, &e);
	check_shape(&e);
	fe = e.n > 0 ? e.items[0] : NULL;
	if (code == NULL) {
		snprintf(msg, sizeof(msg), "%s: no error expected, got %zu (%s %s: %s)", what, e.n,
			 fe ? fe->field : "", fe ? fe->code : "", fe ? fe->message : "");
		EXPECT(e.n == 0 && e.dropped == 0 && e.rejected == 0, msg);
	} else {
		snprintf(msg, sizeof(msg), "%s: expected %s %s, got %zu (%s %s: %s)", what, field,
			 code, e.n, fe ? fe->field : "", fe ? fe->code : "", fe ? fe->message : "");
		EXPECT(e.n == 1 && e.dropped == 0 && e.rejected == 1 && fe->has_index &&
			   fe->index == INDEX && strcmp(fe->field, field) == 0 &&
			   strcmp(fe->code, code) == 0,
		       msg);
		/* the external_id as sent (an unprintable one comes back escaped) */
		if (fe != NULL && f->r.external_id != NULL &&
		    validate_text(f->r.external_id, 0, 64) == NULL)
			EXPECT(same_str(fe->external_id, f->r.external_id), msg);
		if (fe != NULL && f->r.external_id == NULL)
			EXPECT(fe->external_id == NULL, msg);
	}
	validate_errors_free(&e);
}

/* ---- addressing a field by its error path ---- */

struct slot {
	ProtobufCMessage *msg;
	const ProtobufCFieldDescriptor *fd;
	void *value; /* the field's member, or the element for "name[i]" */
	int element;
};

/* "title", "location.lat", "attachments[1].url", "usage[0]" in f's record. */
static struct slot
resolve(struct fx *f, const char *path)
{
	ProtobufCMessage *m = &f->r.base;

	for (;;) {
		size_t n = strcspn(path, ".[");
		char name[64];
		struct slot s;

		CU_ASSERT_FATAL(n < sizeof(name));
		memcpy(name, path, n);
		name[n] = '\0';
		s.msg = m;
		s.fd = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s.fd);
		s.value = (char *)m + s.fd->offset;
		s.element = 0;
		path += n;
		if (*path == '[') {
			char *end;
			size_t i = strtoul(path + 1, &end, 10);
			size_t size =
			    s.fd->type == PROTOBUF_C_TYPE_ENUM ? sizeof(int) : sizeof(void *);

			CU_ASSERT_FATAL(i < *(size_t *)((char *)m + s.fd->quantifier_offset));
			s.value = *(char **)s.value + i * size;
			s.element = 1;
			path = end + 1;
		}
		if (*path == '\0')
			return s;
		CU_ASSERT_FATAL(*path == '.');
		path++;
		m = *(ProtobufCMessage **)s.value;
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	}
}

static void
set_str(struct fx *f, const char *path, char *value)
{
	struct slot s = resolve(f, path);

	CU_ASSERT_FATAL(s.fd->type == PROTOBUF_C_TYPE_STRING);
	*(char **)s.value = value;
}

/* Makes a field absent (a repeated one empty). */
static void
clear(struct fx *f, const char *path)
{
	struct slot s = resolve(f, path);

	if (s.fd->label == PROTOBUF_C_LABEL_REPEATED && !s.element)
		*(size_t *)((char *)s.msg + s.fd->quantifier_offset) = 0;
	else if (s.fd->type == PROTOBUF_C_TYPE_STRING || s.fd->type == PROTOBUF_C_TYPE_MESSAGE)
		*(void **)s.value = NULL;
	else
		*(protobuf_c_boolean *)((char *)s.msg + s.fd->quantifier_offset) = 0;
}

/* Sets a number, enum or bool (and its has_ flag). */
static void
set_num(struct fx *f, const char *path, double d)
{
	struct slot s = resolve(f, path);

	switch (s.fd->type) {
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_INT32:
		*(int32_t *)s.value = (int32_t)d;
		break;
	case PROTOBUF_C_TYPE_UINT32:
		*(uint32_t *)s.value = (uint32_t)d;
		break;
	case PROTOBUF_C_TYPE_UINT64:
		*(uint64_t *)s.value = (uint64_t)d;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)s.value = d;
		break;
	default:
		CU_FAIL_FATAL("set_num: unsupported type");
	}
	if (!s.element && s.fd->label == PROTOBUF_C_LABEL_OPTIONAL)
		*(protobuf_c_boolean *)((char *)s.msg + s.fd->quantifier_offset) = 1;
}

/* s repeated n times (n 0: once); malloc'd. */
static char *
repeat(const char *s, size_t n)
{
	size_t len = strlen(s), times = n ? n : 1;
	char *out = malloc(len * times + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	for (size_t i = 0; i < times; i++)
		memcpy(out + i * len, s, len);
	out[len * times] = '\0';
	return out;
}

/* ---- the case tables ---- */

enum op { OP_STR, OP_NUM, OP_CLEAR };

struct field_case {
	const char *path;
	enum op op;
	const char *s; /* OP_STR: s repeated rep times */
	size_t rep;
	double d;	   /* OP_NUM */
	const char *field; /* the expected error's field; NULL: path */
	const char *code;  /* the expected code; NULL: valid */
};

#define STR(p, v, c)                                                                               \
	{                                                                                          \
		p, OP_STR, v, 0, 0, NULL, c                                                        \
	}
#define STRN(p, v, n, c)                                                                           \
	{                                                                                          \
		p, OP_STR, v, n, 0, NULL, c                                                        \
	}
#define STRF(p, v, f, c)                                                                           \
	{                                                                                          \
		p, OP_STR, v, 0, 0, f, c                                                           \
	}
#define NUM(p, v, c)                                                                               \
	{                                                                                          \
		p, OP_NUM, NULL, 0, v, NULL, c                                                     \
	}
#define NUMF(p, v, f, c)                                                                           \
	{                                                                                          \
		p, OP_NUM, NULL, 0, v, f, c                                                        \
	}
#define CLR(p, c)                                                                                  \
	{                                                                                          \
		p, OP_CLEAR, NULL, 0, 0, NULL, c                                                   \
	}
#define CLRF(p, f, c)                                                                              \
	{                                                                                          \
		p, OP_CLEAR, NULL, 0, 0, f, c                                                      \
	}

#define REQ   VALIDATE_REQUIRED
#define FMT   VALIDATE_INVALID_FORMAT
#define RANGE VALIDATE_OUT_OF_RANGE
#define LONG  VALIDATE_TOO_LONG
#define TEXT  VALIDATE_INVALID_TEXT
#define ENUMV VALIDATE_UNKNOWN_VALUE
#define INCON VALIDATE_INCONSISTENT
#define DUP   VALIDATE_DUPLICATE
#define WRONG VALIDATE_WRONG_MUNICIPALITY
#define RO    VALIDATE_READ_ONLY
#define OUT   VALIDATE_OUTSIDE_GERMANY
#define OK    NULL

/* One field of the maximal record changed; exactly this error, or none. */
static const struct field_case full_cases[] = {
    /* assigned by the registry */
    STR("record_id", "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6a", RO),
    STR("updated_at", "2026-06-01T10:00:00Z", RO),
    STR("withdrawn_at", "", RO),
    /* AGS and ARS */
    CLR("municipality_ags", REQ),
    STR("municipality_ags", "", REQ),
    STR("municipality_ags", "1452102", FMT),
    STR("municipality_ags", "145210200", FMT),
    STR("municipality_ags", "1452102a", FMT),
    STR("municipality_ags", "00521020", FMT),
    STR("municipality_ags", "17521020", FMT),
    /* another municipality: one error, the ARS and parcels are not compared with it */
    STR("municipality_ags", "14521030", WRONG),
    STR("municipality_ags", "13071001", WRONG),
    CLR("municipality_ars", OK),
    STR("municipality_ars", "145210020020", OK), /* Gemeindeverband not checked */
    STR("municipality_ars", "14521000002", FMT),
    STR("municipality_ars", "14521000002x", FMT),
    STR("municipality_ars", "145220000020", INCON), /* another Kreis */
    STR("municipality_ars", "145210000030", INCON), /* another Gemeinde */
    STR("municipality_ars", "245210000020", INCON), /* another Land */
    /* identity */
    CLR("external_id", REQ),
    STR("external_id", "", REQ),
    STR("external_id", "   ", REQ),
    STRN("external_id", "x", 64, OK),
    STRN("external_id", "x", 65, LONG),
    STRN("external_id", "ü", 64, OK),
    STR("external_id", "LS\001", TEXT),
    STR("external_id", "LS\n42", TEXT),
    CLR("revision", REQ),
    NUM("revision", 0, OK),
    /* dates */
    CLR("last_verified_at", REQ),
    STR("last_verified_at", "", REQ),
    STR("last_verified_at", TODAY, OK),
    STR("last_verified_at", TOMORROW, RANGE),
    STR("last_verified_at", "2024-02-29", OK),
    STR("last_verified_at", "2023-02-29", FMT),
    STR("last_verified_at", "2026-13-01", FMT),
    STR("last_verified_at", "2026-04-31", FMT),
    STR("last_verified_at", "15.06.2026", FMT),
    STR("last_verified_at", "2026-6-15", FMT),
    STR("last_verified_at", "2026-06-15T00:00:00Z", FMT),
    STR("owner_consent_date", "", FMT),
    STR("owner_consent_date", "2000-02-29", OK),
    STR("owner_consent_date", "1900-02-29", FMT),
    STR("owner_consent_date", TOMORROW, RANGE),
    CLR("owner_consent_date", OK),
    STR("vacant_since", "2027-01-01", RANGE),
    STR("vacant_since", "2026-02-30", FMT),
    CLRF("vacant_since", "vacant_since_precision", INCON),
    CLR("vacant_since_precision", OK),
    /* required enums */
    CLR("publication", REQ),
    NUM("publication", 0, REQ),
    NUM("publication", 3, ENUMV),
    CLR("owner_consent", REQ),
    NUM("owner_consent", 0, REQ),
    NUM("owner_consent", 6, ENUMV),
    CLR("site_kind", REQ),
    NUM("site_kind", 0, REQ),
    NUM("site_kind", -1, ENUMV),
    CLR("object_type", REQ),
    NUM("object_type", 13, ENUMV),
    CLR("status", REQ),
    NUM("status", 0, REQ),
    NUM("status", 8, ENUMV),
    CLR("usage", REQ),
    NUMF("usage[1]", VACANCY__V1__USAGE__VALUE__COMMERCIAL, "usage[1]", DUP),
    NUM("usage[0]", 99, ENUMV),
    NUM("usage[1]", 0, ENUMV),
    /* optional enums: a value of the schema; UNSPECIFIED given is not one */
    CLR("marketing", OK),
    NUM("marketing[1]", VACANCY__V1__MARKETING__VALUE__SALE, DUP),
    NUM("marketing[0]", 9, ENUMV),
    NUM("vacancy_degree", 3, ENUMV),
    NUM("vacancy_degree", 0, ENUMV),
    NUM("vacant_since_precision", 5, ENUMV),
    NUM("vacancy_reason", 7, ENUMV),
    NUM("condition", 0, ENUMV),
    NUM("condition", 12, ENUMV),
    NUM("development", 5, ENUMV),
    NUM("planning_basis", 6, ENUMV),
    NUM("contamination", 5, ENUMV),
    NUM("owner_category", 6, ENUMV),
    NUM("owner_willingness", 42, ENUMV),
    NUM("attachments[1].group", 77, ENUMV),
    NUM("attachments[1].group", 0, REQ),
    CLR("attachments[0].group", REQ),
    /* construction year: 1000 ... current year + 5 */
    NUM("construction_year", 1000, OK),
    NUM("construction_year", THIS_YEAR + 5, OK),
    NUM("construction_year", 999, RANGE),
    NUM("construction_year", THIS_YEAR + 6, RANGE),
    NUM("construction_year", -1898, RANGE),
    /* address */
    CLR("street", REQ),
    STR("street", "", REQ),
    STR("street", " \t", REQ),
    STRN("street", "ß", 128, OK),
    STRN("street", "ß", 129, LONG),
    STR("street", "Markt\n1", TEXT),
    STR("street", "Markt\t1", TEXT),
    STRN("house_number", "1", 16, OK),
    STRN("house_number", "1", 17, LONG),
    CLR("postcode", REQ),
    STR("postcode", "", REQ),
    STR("postcode", "0945", FMT),
    STR("postcode", "094560", FMT),
    STR("postcode", "09 456", FMT),
    STR("postcode", "0945a", FMT),
    STR("postcode", "\xef\xbc\x90\xef\xbc\x99\xef\xbc\x94\xef\xbc\x95\xef\xbc\x96", FMT),
    CLR("locality", REQ),
    STRN("locality", "a", 129, LONG),
    STRN("gemarkung", "a", 129, LONG),
    STRN("flur", "a", 129, LONG),
    STRN("flurstueck", "a", 128, OK),
    STRN("flurstueck", "a", 129, LONG),
    STRN("bplan_ref", "a", 512, OK),
    STRN("bplan_ref", "a", 513, LONG),
    /* parcel ids: Land(2) Gemarkung(4) Flur(3) Zähler(5) Nenner(4) Folge(2) */
    STR("parcel_ids[0]", "14400200300123000400", OK),
    STR("parcel_ids[0]", "144002___00123____00", OK),	 /* no Flur, no Nenner */
    STR("parcel_ids[0]", "144002003__1230004__", OK),	 /* left-padded Zähler */
    STR("parcel_ids[0]", "14400200300123_004__", OK),	 /* left-padded Nenner */
    STR("parcel_ids[0]", "13400200300123000400", INCON), /* Land 13, AGS in 14 */
    STR("parcel_ids[1]", "0940020030012300040_", INCON),
    STR("parcel_ids[0]", "1440020030012300040", FMT),	/* 19 characters */
    STR("parcel_ids[0]", "144002003001230004000", FMT), /* 21 */
    STR("parcel_ids[0]", "14_00200300123000400", FMT),	/* Gemarkung */
    STR("parcel_ids[0]", "1440020_300123000400", FMT),	/* Flur "0_3" */
    STR("parcel_ids[0]", "144002003_____000400", FMT),	/* Zähler without a digit */
    STR("parcel_ids[0]", "1440020030012300040a", FMT),
    STR("parcel_ids[0]", "14-4002-003-00123-00", FMT),
    STR("parcel_ids[0]", "", FMT),
    /* location and source coordinates */
    CLR("location", OK), /* the source coordinates stand in */
    CLR("location.lat", REQ),
    CLR("location.lon", REQ),
    NUM("location.lat", NAN, RANGE),
    NUM("location.lon", INFINITY, RANGE),
    NUM("location.lat", 47.2, OK),
    NUM("location.lat", 55.1, OK),
    NUM("location.lon", 5.8, OK),
    NUM("location.lon", 15.1, OK),
    NUM("location.lat", 47.1, OUT),
    NUM("location.lat", 55.2, OUT),
    NUM("location.lon", 5.7, OUT),
    NUM("location.lon", 15.2, OUT),
    NUM("location.lat", -50.5796, OUT),
    CLRF("source_x", "source_x", INCON),
    CLRF("source_y", "source_y", INCON),
    CLRF("source_crs", "source_crs", INCON),
    NUM("source_crs", 25832, OK),
    NUM("source_crs", 4326, RANGE),
    NUM("source_crs", 31468, RANGE), /* Gauß-Krüger: not accepted */
    NUM("source_x", 33358612.4, RANGE),
    NUM("source_x", -1, RANGE),
    NUM("source_x", NAN, RANGE),
    NUM("source_y", 5199999, RANGE),
    NUM("source_y", 6200001, RANGE),
    NUM("location_blur_m", 2000, OK),
    NUM("location_blur_m", 2001, RANGE),
    /* areas */
    NUM("usable_area_m2", -0.5, RANGE),
    NUM("floor_area_m2", NAN, RANGE),
    NUM("sales_area_m2", INFINITY, RANGE),
    NUM("plot_area_m2", 100000000, OK),
    NUM("plot_area_m2", 100000001, RANGE),
    NUM("usable_area_m2", 0, OK),
    NUM("divisible_from_m2", 890, OK), /* = the largest, plot_area_m2 */
    NUM("divisible_from_m2", 890.5, INCON),
    NUM("divisible_from_m2", -1, RANGE),
    /* a bad area is reported, not compared with */
    NUMF("plot_area_m2", -5, "plot_area_m2", RANGE),
    /* money */
    STR("purchase_price_eur", "1250", OK),
    STR("purchase_price_eur", "0.5", OK),
    STR("purchase_price_eur", "999999999999.99", OK),
    STR("purchase_price_eur", "1234567890123", FMT),
    STR("purchase_price_eur", "1.250,50", FMT),
    STR("purchase_price_eur", "1250,50", FMT),
    STR("purchase_price_eur", "-1", FMT),
    STR("purchase_price_eur", "1e5", FMT),
    STR("purchase_price_eur", "1250.505", FMT),
    STR("purchase_price_eur", "", FMT),
    STR("rent_eur_month", "9999999999.99", OK),
    STR("rent_eur_month", "000000000001.00", OK),
    STR("rent_eur_month", "10000000000", RANGE),
    STR("rent_eur_month", "12 EUR", FMT),
    STR("rent_eur_m2", "99999999.99", OK),
    STR("rent_eur_m2", "100000000.00", RANGE),
    STR("rent_eur_m2", ".83", FMT),
    /* description */
    STRN("title", "ä", 200, OK),
    STRN("title", "ä", 201, LONG),
    STR("title", "Laden\n", TEXT),
    STR("title", "Laden\x7f", TEXT),
    STR("title", "Laden\xc2\x85", TEXT),
    STR("title", "Laden \xf0\x9f\x8f\xa0", OK),
    STR("title", "Laden\xc0\x80", TEXT),
    STRN("description", "x", 8000, OK),
    STRN("description", "x", 8001, LONG),
    STR("description", "a\r\nb\tc", OK),
    STR("description", "a\vb", TEXT),
    STR("description", "\xed\xa0\x80", TEXT),
    STRN("location_text", "x", 4000, OK),
    STRN("location_text", "x", 4001, LONG),
    STR("location_text", "a\033[31m", TEXT),
    STRN("internal_notes", "x", 8001, LONG),
    STR("internal_notes", "a\nb", OK),
    /* owner */
    STRN("owner_name", "a", 257, LONG),
    STRN("owner_address", "a", 513, LONG),
    STR("owner_address", "\xf4\x90\x80\x80", TEXT),
    STRN("owner_phone", "1", 65, LONG),
    STR("owner_email", "a b@example.de", FMT),
    STR("owner_email",
	"a\xc2\xa0"
	"b@example.de",
	FMT),
    STR("owner_email", "name@example", FMT),
    STR("owner_email", "@example.de", FMT),
    STR("owner_email", "a@b@example.de", FMT),
    STR("owner_email", "a@example..de", FMT),
    STR("owner_email", "a@.example.de", FMT),
    STR("owner_email", "a@example.d", FMT),
    STR("owner_email", "jürgen@müller-bau.de", OK),
    /* marketing contact */
    STRN("marketing_contact.organisation", "a", 201, LONG),
    STRN("marketing_contact.person_role", "a", 101, LONG),
    STRN("marketing_contact.phone", "1", 65, LONG),
    STR("marketing_contact.email", "standort at wfe.de", FMT),
    STR("marketing_contact.email", "\xc3", TEXT),
    CLR("marketing_contact", OK),
    /* attachments */
    STR("attachments[0].media_type", "jpeg", FMT),
    STR("attachments[0].media_type", "image/", FMT),
    STR("attachments[0].media_type", "/jpeg", FMT),
    STR("attachments[0].media_type", "image/jpeg; q=1", FMT),
    STR("attachments[0].media_type",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document", OK),
    STRN("attachments[0].media_type", "a", 101, LONG),
    STR("attachments[0].sha256", "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08",
	OK),
    STR("attachments[0].sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0",
	FMT),
    STR("attachments[0].sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g",
	FMT),
    STR("attachments[1].sha256", "", FMT),
    CLR("attachments[1].sha256", OK),
    CLR("attachments[1].url", REQ),
    STR("attachments[1].url", "", REQ),
    STR("attachments[1].url", "ftp://example.de/a.pdf", FMT),
    STR("attachments[1].url", "www.example.de/a.pdf", FMT),
    STR("attachments[1].url", "https://", FMT),
    STR("attachments[1].url", "https:///a.pdf", FMT),
    STR("attachments[1].url", "https://example.de/Grund riss.pdf", FMT),
    STR("attachments[1].url", "HTTPS://example.de/a.pdf", OK),
    STRN("attachments[1].url", "u", 2049, LONG),
    STRN("attachments[1].rights_holder", "a", 257, LONG),
    STRN("attachments[1].licence", "a", 129, LONG),
    CLR("attachments", OK),
};

/* One field of the minimal record changed. */
static const struct field_case minimal_cases[] = {
    CLR("location", REQ),
    NUM("divisible_from_m2", 10, INCON), /* no area to divide */
    NUM("location_blur_m", 0, OK),
    NUM("construction_year", 2026, OK),
};

static void
run_cases(const struct field_case *cases, size_t n, void (*fixture)(struct fx *), const char *name)
{
	struct fx *f = malloc(sizeof(*f));

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (size_t i = 0; i < n; i++) {
		const struct field_case *c = &cases[i];
		char what[160], *s = NULL;

		fixture(f);
		switch (c->op) {
		case OP_STR:
			s = repeat(c->s, c->rep);
			set_str(f, c->path, s);
			break;
		case OP_NUM:
			set_num(f, c->path, c->d);
			break;
		case OP_CLEAR:
			clear(f, c->path);
			break;
		}
		snprintf(what, sizeof(what), "%s case %zu (%s)", name, i, c->path);
		expect_record(f, what, c->field ? c->field : c->path, c->code);
		free(s);
	}
	free(f);
}

/* ---- tests ---- */

static void
test_full_valid(void)
{
	struct fx f;
	size_t unset = 0;

	fx_full(&f);
	expect_record(&f, "maximal record", NULL, NULL);
	/* maximal: every field but the three the registry assigns is given */
	for (unsigned i = 0; i < vacancy__v1__record__descriptor.n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &vacancy__v1__record__descriptor.fields[i];
		const char *base = (const char *)&f.r;
		int has;

		if (fd->label == PROTOBUF_C_LABEL_REPEATED)
			has = *(const size_t *)(base + fd->quantifier_offset) > 0;
		else if (fd->type == PROTOBUF_C_TYPE_STRING || fd->type == PROTOBUF_C_TYPE_MESSAGE)
			has = *(void *const *)(base + fd->offset) != NULL;
		else
			has = *(const protobuf_c_boolean *)(base + fd->quantifier_offset);
		if (!has)
			unset++;
	}
	CU_ASSERT_EQUAL(unset, 3); /* record_id, updated_at, withdrawn_at */
}

static void
test_minimal_valid(void)
{
	struct fx f;

	fx_minimal(&f);
	expect_record(&f, "minimal record", NULL, NULL);
	/* without location, with source coordinates instead */
	f.r.location = NULL;
	f.r.has_source_x = f.r.has_source_y = f.r.has_source_crs = 1;
	f.r.source_x = 358612.4;
	f.r.source_y = 5605187.9;
	f.r.source_crs = 25833;
	expect_record(&f, "minimal record with source coordinates", NULL, NULL);
}

static void
test_full_cases(void)
{
	run_cases(full_cases, sizeof(full_cases) / sizeof(full_cases[0]), fx_full, "full");
}

static void
test_minimal_cases(void)
{
	run_cases(minimal_cases, sizeof(minimal_cases) / sizeof(minimal_cases[0]), fx_minimal,
		  "minimal");
}

static void
test_list_limits(void)
{
	struct fx f;

	fx_full(&f);
	f.r.n_attachments = 50;
	expect_record(&f, "50 attachments", NULL, NULL);
	f.r.n_attachments = 51;
	expect_record(&f, "51 attachments", "attachments", RANGE);
	fx_full(&f);
	f.r.n_parcel_ids = 100;
	expect_record(&f, "100 parcel ids", NULL, NULL);
	f.r.n_parcel_ids = 101;
	expect_record(&f, "101 parcel ids", "parcel_ids", RANGE);
}

/* Two of the three source fields missing: one error on each. */
static void
test_source_partial(void)
{
	struct validate_ctx ctx = fixed_ctx();
	struct validate_errors e;
	struct fx f;

	fx_minimal(&f);
	f.r.has_source_crs = 1;
	f.r.source_crs = 25833;
	validate_errors_init(&e, 100);
	validate_record(&f.r, 0, &ctx, &e);
	check_shape(&e);
	CU_ASSERT_EQUAL(e.n, 2);
	CU_ASSERT_PTR_NOT_NULL(find(&e, "source_x", INCON));
	CU_ASSERT_PTR_NOT_NULL(find(&e, "source_y", INCON));
	validate_errors_free(&e);

	/* nothing where it is: location required, and the lone source_y reported */
	fx_minimal(&f);
	f.r.location = NULL;
	f.r.has_source_y = 1;
	f.r.source_y = 5605187.9;
	validate_record(&f.r, 0, &ctx, &e);
	CU_ASSERT_EQUAL(e.n, 3);
	CU_ASSERT_PTR_NOT_NULL(find(&e, "location", REQ));
	CU_ASSERT_PTR_NOT_NULL(find(&e, "source_x", INCON));
	CU_ASSERT_PTR_NOT_NULL(find(&e, "source_crs", INCON));
	validate_errors_free(&e);
}

/* A record with ten different bad fields gives exactly those ten errors. */
static void
test_ten_errors(void)
{
	static const struct {
		const char *field, *code;
	} want[] = {
	    {"record_id", RO},
	    {"municipality_ars", INCON},
	    {"status", REQ},
	    {"usage[1]", DUP},
	    {"construction_year", RANGE},
	    {"street", REQ},
	    {"postcode", FMT},
	    {"location.lat", OUT},
	    {"description", TEXT},
	    {"attachments[1].sha256", FMT},
	};
	struct validate_ctx ctx = fixed_ctx();
	struct validate_errors e;
	struct fx f;

	fx_full(&f);
	f.r.record_id = "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6a";
	f.r.municipality_ars = "145210000021";
	f.r.status = VACANCY__V1__STATUS__VALUE__UNSPECIFIED;
	f.usage[1] = f.usage[0];
	f.r.construction_year = 999;
	f.r.street = NULL;
	f.r.postcode = "0945";
	f.loc.lat = 60;
	f.r.description = "Laden\007";
	f.att[1].sha256 = "xyz";
	validate_errors_init(&e, 100);
	validate_record(&f.r, 4, &ctx, &e);
	check_shape(&e);
	CU_ASSERT_EQUAL(e.n, 10);
	CU_ASSERT_EQUAL(e.dropped, 0);
	CU_ASSERT_EQUAL(e.rejected, 1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const Vacancy__V1__FieldError *fe = find(&e, want[i].field, want[i].code);

		EXPECT(fe != NULL, want[i].field);
		if (fe != NULL) {
			CU_ASSERT(fe->has_index && fe->index == 4);
			CU_ASSERT_STRING_EQUAL(fe->external_id, "LS-2026-0042");
		}
	}
	/* the message of the house-style example */
	CU_ASSERT_PTR_NOT_NULL_FATAL(find(&e, "postcode", FMT));
	CU_ASSERT_STRING_EQUAL(find(&e, "postcode", FMT)->message,
			       "postcode must be 5 digits, got '0945'");
	validate_errors_free(&e);
}

/* ---- transfers ---- */

struct tx {
	Vacancy__V1__SyncRequest req;
	Vacancy__V1__RecordChange ch[8];
	Vacancy__V1__RecordChange *chp[8];
	Vacancy__V1__Withdrawal wd[8];
	struct fx rec[3];
};

/* A valid transfer of n (<= 8) changes: upserts of rec[i % 3] (their
 * external_ids made distinct) */
static void
tx_init(struct tx *t, size_t n)
{
	static char *ids[3] = {"LS-A", "LS-B", "LS-C"};

	memset(t, 0, sizeof(*t));
	vacancy__v1__sync_request__init(&t->req);
	t->req.transfer_id = "annaberg-2026-06-15.1";
	t->req.municipality_ags = AGS;
	t->req.has_scope = 1;
	t->req.scope = VACANCY__V1__SYNC_SCOPE__VALUE__PARTIAL;
	for (size_t i = 0; i < 3; i++) {
		fx_full(&t->rec[i]);
		t->rec[i].r.external_id = ids[i];
	}
	for (size_t i = 0; i < 8; i++) {
		vacancy__v1__record_change__init(&t->ch[i]);
		vacancy__v1__withdrawal__init(&t->wd[i]);
		t->chp[i] = &t->ch[i];
		if (i < 3) {
			t->ch[i].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
			t->ch[i].upsert = &t->rec[i].r;
		}
	}
	t->req.n_changes = n;
	t->req.changes = t->chp;
}

static void
tx_withdraw(struct tx *t, size_t i, char *external_id, int has_revision)
{
	t->wd[i].external_id = external_id;
	t->wd[i].has_revision = has_revision;
	t->wd[i].revision = 8;
	t->ch[i].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW;
	t->ch[i].withdraw = &t->wd[i];
}

/* Validates t; expects exactly one error (field, code, index; -1 for the
 * transfer) or none. */
static void
expect_transfer(struct tx *t, const char *what, const char *field, const char *code, long index)
{
	struct validate_ctx ctx = fixed_ctx();
	struct validate_errors e;
	const Vacancy__V1__FieldError *fe;
	char msg[1024];

	validate_errors_init(&e, 100);
	validate_transfer(&t->req, &ctx, &e);
	check_shape(&e);
	fe = e.n > 0 ? e.items[0] : NULL;
	snprintf(msg, sizeof(msg), "%s: expected %s %s, got %zu (%s %s: %s)", what,
		 field ? field : "-", code ? code : "-", e.n, fe ? fe->field : "",
		 fe ? fe->code : "", fe ? fe->message : "");
	if (code == NULL) {
		EXPECT(e.n == 0 && e.dropped == 0 && e.rejected == 0, msg);
	} else {
		EXPECT(e.n == 1 && e.dropped == 0 && strcmp(fe->field, field) == 0 &&
			   strcmp(fe->code, code) == 0,
		       msg);
		if (index < 0)
			EXPECT(fe != NULL && !fe->has_index && fe->external_id == NULL &&
				   e.rejected == 0,
			       msg);
		else
			EXPECT(fe != NULL && fe->has_index && fe->index == (uint32_t)index &&
				   e.rejected == 1,
			       msg);
	}
	validate_errors_free(&e);
}

static void
test_transfer_level(void)
{
	struct tx *t = malloc(sizeof(*t));
	char *s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	tx_init(t, 3);
	expect_transfer(t, "valid", NULL, NULL, -1);
	tx_init(t, 0);
	expect_transfer(t, "no changes", NULL, NULL, -1);

	tx_init(t, 1);
	t->req.transfer_id = NULL;
	expect_transfer(t, "transfer_id absent", "transfer_id", REQ, -1);
	t->req.transfer_id = "";
	expect_transfer(t, "transfer_id empty", "transfer_id", REQ, -1);
	t->req.transfer_id = "annaberg 2026";
	expect_transfer(t, "transfer_id space", "transfer_id", FMT, -1);
	t->req.transfer_id = "annaberg/2026";
	expect_transfer(t, "transfer_id slash", "transfer_id", FMT, -1);
	t->req.transfer_id = "imp:2026-06-15T10.00_a-B";
	expect_transfer(t, "transfer_id alphabet", NULL, NULL, -1);
	s = repeat("t", 128);
	t->req.transfer_id = s;
	expect_transfer(t, "transfer_id 128", NULL, NULL, -1);
	free(s);
	s = repeat("t", 129);
	t->req.transfer_id = s;
	expect_transfer(t, "transfer_id 129", "transfer_id", FMT, -1);
	free(s);

	tx_init(t, 1);
	t->req.municipality_ags = NULL;
	expect_transfer(t, "ags absent", "municipality_ags", REQ, -1);
	t->req.municipality_ags = "1452102";
	expect_transfer(t, "ags short", "municipality_ags", FMT, -1);
	t->req.municipality_ags = "14521030";
	expect_transfer(t, "ags of another", "municipality_ags", WRONG, -1);

	tx_init(t, 1);
	t->req.has_scope = 0;
	expect_transfer(t, "scope absent", "scope", REQ, -1);
	t->req.has_scope = 1;
	t->req.scope = VACANCY__V1__SYNC_SCOPE__VALUE__UNSPECIFIED;
	expect_transfer(t, "scope UNSPECIFIED", "scope", REQ, -1);
	t->req.scope = (Vacancy__V1__SyncScope__Value)3;
	expect_transfer(t, "scope 3", "scope", ENUMV, -1);
	t->req.scope = VACANCY__V1__SYNC_SCOPE__VALUE__FULL;
	expect_transfer(t, "scope FULL", NULL, NULL, -1);

	t->req.full_session = "stock-2026-06";
	expect_transfer(t, "full_session", NULL, NULL, -1);
	t->req.full_session = "stock 2026";
	expect_transfer(t, "full_session space", "full_session", FMT, -1);
	t->req.full_session = "";
	expect_transfer(t, "full_session empty", "full_session", FMT, -1);
	t->req.full_session = "stock\n";
	expect_transfer(t, "full_session newline", "full_session", TEXT, -1);

	/* a change with neither upsert nor withdraw */
	tx_init(t, 3);
	t->ch[1].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE__NOT_SET;
	t->ch[1].upsert = NULL;
	expect_transfer(t, "empty change", "change", REQ, 1);

	/* more changes than max_records (100): one transfer-level error */
	tx_init(t, 3);
	{
		struct validate_ctx ctx = fixed_ctx();
		struct validate_errors e;

		ctx.max_records = 2;
		validate_errors_init(&e, 100);
		validate_transfer(&t->req, &ctx, &e);
		check_shape(&e);
		CU_ASSERT_EQUAL_FATAL(e.n, 1);
		CU_ASSERT_STRING_EQUAL(e.items[0]->field, "changes");
		CU_ASSERT_STRING_EQUAL(e.items[0]->code, RANGE);
		CU_ASSERT_FALSE(e.items[0]->has_index);
		CU_ASSERT_EQUAL(e.rejected, 0);
		validate_errors_free(&e);
		ctx.max_records = 3;
		validate_transfer(&t->req, &ctx, &e);
		CU_ASSERT_EQUAL(e.n, 0);
		validate_errors_free(&e);
	}
	free(t);
}

static void
test_withdrawals(void)
{
	struct tx *t = malloc(sizeof(*t));
	char *s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	tx_init(t, 4);
	tx_withdraw(t, 3, "LS-OLD", 1);
	expect_transfer(t, "valid withdrawal", NULL, NULL, -1);
	tx_withdraw(t, 3, NULL, 1);
	expect_transfer(t, "withdrawal without external_id", "external_id", REQ, 3);
	tx_withdraw(t, 3, "", 1);
	expect_transfer(t, "withdrawal empty external_id", "external_id", REQ, 3);
	tx_withdraw(t, 3, "LS-OLD", 0);
	expect_transfer(t, "withdrawal without revision", "revision", REQ, 3);
	tx_withdraw(t, 3, "LS\x1f", 1);
	expect_transfer(t, "withdrawal control char", "external_id", TEXT, 3);
	s = repeat("w", 65);
	tx_withdraw(t, 3, s, 1);
	expect_transfer(t, "withdrawal 65", "external_id", LONG, 3);
	free(s);
	free(t);
}

/* Records 0 and 2 bad, 1 good: rejected 2, every error where it belongs. */
static void
test_rejected_count(void)
{
	struct tx *t = malloc(sizeof(*t));
	struct validate_ctx ctx = fixed_ctx();
	struct validate_errors e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	tx_init(t, 3);
	t->rec[0].r.postcode = "0945";
	t->rec[2].r.street = NULL;
	t->rec[2].r.has_status = 0;
	validate_errors_init(&e, 100);
	validate_transfer(&t->req, &ctx, &e);
	check_shape(&e);
	CU_ASSERT_EQUAL(e.rejected, 2);
	CU_ASSERT_EQUAL_FATAL(e.n, 3);
	CU_ASSERT(e.items[0]->has_index && e.items[0]->index == 0);
	CU_ASSERT_STRING_EQUAL(e.items[0]->external_id, "LS-A");
	CU_ASSERT_STRING_EQUAL(e.items[0]->field, "postcode");
	for (size_t i = 1; i < 3; i++) {
		CU_ASSERT(e.items[i]->has_index && e.items[i]->index == 2);
		CU_ASSERT_STRING_EQUAL(e.items[i]->external_id, "LS-C");
	}
	CU_ASSERT_PTR_NOT_NULL(find(&e, "street", REQ));
	CU_ASSERT_PTR_NOT_NULL(find(&e, "status", REQ));
	validate_errors_free(&e);
	free(t);
}

static void
test_duplicates(void)
{
	struct tx *t = malloc(sizeof(*t));
	struct validate_ctx ctx = fixed_ctx();
	struct validate_errors e;
	const Vacancy__V1__FieldError *fe;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* 0 upsert A, 1 upsert B, 2 upsert C, 3 withdraw A, 4 withdraw B, 5 withdraw A,
	 * 6 withdraw D */
	tx_init(t, 7);
	tx_withdraw(t, 3, "LS-A", 1);
	tx_withdraw(t, 4, "LS-B", 1);
	tx_withdraw(t, 5, "LS-A", 1);
	tx_withdraw(t, 6, "LS-D", 1);
	validate_errors_init(&e, 100);
	validate_transfer(&t->req, &ctx, &e);
	check_shape(&e);
	CU_ASSERT_EQUAL_FATAL(e.n, 3);
	CU_ASSERT_EQUAL(e.rejected, 3);
	for (size_t i = 0; i < 3; i++) {
		static const uint32_t at[] = {3, 4, 5};

		fe = e.items[i];
		CU_ASSERT_STRING_EQUAL(fe->field, "external_id");
		CU_ASSERT_STRING_EQUAL(fe->code, DUP);
		CU_ASSERT(fe->has_index && fe->index == at[i]);
	}
	CU_ASSERT_STRING_EQUAL(e.items[0]->external_id, "LS-A");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.items[0]->message, "change 0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.items[1]->message, "change 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.items[2]->message, "change 0"));
	validate_errors_free(&e);

	/* upserts among themselves; case matters */
	tx_init(t, 3);
	t->rec[2].r.external_id = "LS-A";
	t->rec[1].r.external_id = "ls-a";
	validate_transfer(&t->req, &ctx, &e);
	CU_ASSERT_EQUAL_FATAL(e.n, 1);
	CU_ASSERT(e.items[0]->index == 2);
	CU_ASSERT_STRING_EQUAL(e.items[0]->code, DUP);
	validate_errors_free(&e);

	/* ids that are bad anyway are reported as such, not as duplicates */
	tx_init(t, 3);
	t->rec[0].r.external_id = "";
	t->rec[1].r.external_id = "";
	validate_transfer(&t->req, &ctx, &e);
	CU_ASSERT_EQUAL(e.n, 2);
	CU_ASSERT_PTR_NULL(find(&e, "external_id", DUP));
	validate_errors_free(&e);
	free(t);
}

/* Many changes: duplicates found in O(n log n); the list capped. */
static void
test_many_changes(void)
{
	enum { N = 5000 };
	Vacancy__V1__SyncRequest req = VACANCY__V1__SYNC_REQUEST__INIT;
	Vacancy__V1__RecordChange **chp = calloc(N, sizeof(*chp));
	Vacancy__V1__RecordChange *ch = calloc(N, sizeof(*ch));
	struct validate_ctx ctx = fixed_ctx();
	struct validate_errors e;
	struct fx f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(chp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	fx_minimal(&f);
	for (size_t i = 0; i < N; i++) {
		vacancy__v1__record_change__init(&ch[i]);
		ch[i].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
		ch[i].upsert = &f.r; /* the same external_id every time */
		chp[i] = &ch[i];
	}
	req.transfer_id = "many";
	req.municipality_ags = AGS;
	req.has_scope = 1;
	req.scope = VACANCY__V1__SYNC_SCOPE__VALUE__FULL;
	req.n_changes = N;
	req.changes = chp;
	ctx.max_records = N;
	validate_errors_init(&e, 1000);
	validate_transfer(&req, &ctx, &e);
	check_shape(&e);
	CU_ASSERT_EQUAL(e.n, 1000);
	CU_ASSERT_EQUAL(e.dropped, N - 1 - 1000);
	CU_ASSERT_EQUAL(e.rejected, N - 1);
	CU_ASSERT_EQUAL(e.items[999]->index, 1000);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.items[999]->message, "change 0 "));
	validate_errors_free(&e);
	free(ch);
	free(chp);
}

/* ---- the error list ---- */

static void
test_cap(void)
{
	struct validate_ctx ctx = fixed_ctx();
	struct validate_errors e;
	struct fx f;

	fx_full(&f);
	f.r.record_id = "x";
	f.r.updated_at = "x";
	f.r.withdrawn_at = "x";
	f.r.postcode = "x";
	f.r.street = NULL;
	f.r.locality = NULL;
	f.r.has_status = 0;
	f.r.has_site_kind = 0;
	f.r.title = "\001";
	f.r.owner_email = "x";
	validate_errors_init(&e, 3);
	validate_record(&f.r, 0, &ctx, &e);
	check_shape(&e);
	CU_ASSERT_EQUAL(e.n, 3);
	CU_ASSERT_EQUAL(e.dropped, 7);
	CU_ASSERT_EQUAL(e.rejected, 1);
	/* the transfer is not acceptable, listed or not */
	validate_errors_free(&e);
	CU_ASSERT_EQUAL(e.n, 0);
	CU_ASSERT_EQUAL(e.dropped, 0);
	CU_ASSERT_EQUAL(e.max, 3); /* reusable after free */

	validate_errors_init(&e, 0);
	validate_record(&f.r, 0, &ctx, &e);
	validate_record(&f.r, 1, &ctx, &e);
	CU_ASSERT_EQUAL(e.n, 0);
	CU_ASSERT_EQUAL(e.dropped, 20);
	CU_ASSERT_EQUAL(e.rejected, 2);
	validate_errors_free(&e);
}

static void
test_add(void)
{
	struct validate_errors e;
	char field[16] = "title", id[16] = "LS-1";

	validate_errors_init(&e, 100);
	CU_ASSERT_EQUAL(validate_add(&e, -1, NULL, "transfer_id", REQ, "transfer_id is %s", "gone"),
			0);
	CU_ASSERT_EQUAL(validate_add(&e, 5, id, field, LONG, "%s %d", "x", 5), 0);
	/* the strings are copies */
	strcpy(field, "other");
	strcpy(id, "LS-2");
	CU_ASSERT_STRING_EQUAL(e.items[1]->field, "title");
	CU_ASSERT_STRING_EQUAL(e.items[1]->external_id, "LS-1");
	CU_ASSERT_STRING_EQUAL(e.items[1]->message, "x 5");
	CU_ASSERT_FALSE(e.items[0]->has_index);
	CU_ASSERT_PTR_NULL(e.items[0]->external_id);
	CU_ASSERT_STRING_EQUAL(e.items[0]->message, "transfer_id is gone");
	CU_ASSERT(e.items[1]->has_index && e.items[1]->index == 5);
	CU_ASSERT_EQUAL(e.rejected, 1);
	/* each change once, also out of order */
	(void)validate_add(&e, 5, NULL, "f", REQ, "f");
	(void)validate_add(&e, 2, NULL, "f", REQ, "f");
	(void)validate_add(&e, 2, NULL, "f", REQ, "f");
	(void)validate_add(&e, 5, NULL, "f", REQ, "f");
	(void)validate_add(&e, 7, NULL, "f", REQ, "f");
	(void)validate_add(&e, 2, NULL, "f", REQ, "f");
	(void)validate_add(&e, 0, NULL, "f", REQ, "f");
	(void)validate_add(&e, -1, NULL, "f", REQ, "f");
	CU_ASSERT_EQUAL(e.rejected, 4); /* 0, 2, 5, 7 */
	CU_ASSERT_EQUAL(e.n, 10);
	validate_errors_free(&e);

	/* an external_id that is not printable text comes back escaped and cut */
	{
		char *big = repeat("x", 100000);

		validate_errors_init(&e, 10);
		(void)validate_add(&e, 0, "LS\xff\x01", "external_id", TEXT, "external_id bad");
		(void)validate_add(&e, 1, big, "external_id", LONG, "external_id long");
		CU_ASSERT_STRING_EQUAL(e.items[0]->external_id, "LS\\xff\\x01");
		CU_ASSERT(strlen(e.items[1]->external_id) <= 64);
		CU_ASSERT_PTR_NOT_NULL(strstr(e.items[1]->external_id, "..."));
		validate_errors_free(&e);
		free(big);
	}
}

/* Client text in messages: escaped and at most ~40 characters of it. */
static void
test_messages(void)
{
	struct validate_ctx ctx = fixed_ctx();
	struct validate_errors e;
	struct fx f;
	char *big = repeat("9", 10000);

	fx_minimal(&f);
	f.r.postcode = big;
	validate_errors_init(&e, 10);
	validate_record(&f.r, 0, &ctx, &e);
	CU_ASSERT_EQUAL_FATAL(e.n, 1);
	CU_ASSERT(strlen(e.items[0]->message) < 120);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.items[0]->message, "9999999999..."));
	validate_errors_free(&e);

	f.r.postcode = "09\"\\ä";
	validate_record(&f.r, 0, &ctx, &e);
	CU_ASSERT_EQUAL_FATAL(e.n, 1);
	CU_ASSERT_STRING_EQUAL(e.items[0]->message,
			       "postcode must be 5 digits, got '09\\x22\\x5c\\xc3\\xa4'");
	validate_errors_free(&e);

	/* the spot of bad text, quoted escaped */
	f.r.postcode = "09456";
	f.r.title = "Ladengeschaeft am Markt, Erdgeschoss mit Schaufenster\033[2J und Lager";
	validate_record(&f.r, 0, &ctx, &e);
	CU_ASSERT_EQUAL_FATAL(e.n, 1);
	CU_ASSERT_STRING_EQUAL(e.items[0]->message,
			       "title contains the control character U+001B at character 54, "
			       "near '...oss mit Schaufenster\\x1b[2J und Lager'");
	validate_errors_free(&e);
	f.r.title = "Laden\xe2\x82";
	validate_record(&f.r, 0, &ctx, &e);
	CU_ASSERT_EQUAL_FATAL(e.n, 1);
	CU_ASSERT_STRING_EQUAL(e.items[0]->message,
			       "title is not valid UTF-8 at character 6 (byte 0xE2), "
			       "near 'Laden\\xe2\\x82'");
	validate_errors_free(&e);

	/* enum messages name the values */
	f.r.title = NULL;
	f.r.site_kind = (Vacancy__V1__SiteKind__Value)9;
	validate_record(&f.r, 0, &ctx, &e);
	CU_ASSERT_EQUAL_FATAL(e.n, 1);
	CU_ASSERT_STRING_EQUAL(e.items[0]->message,
			       "site_kind must be one of BUILDING, UNIT, PLOT, BROWNFIELD, got the "
			       "number 9");
	validate_errors_free(&e);

	/* swapped coordinates are pointed out */
	f.r.site_kind = VACANCY__V1__SITE_KIND__VALUE__UNIT;
	f.loc.lat = 13.0025;
	f.loc.lon = 50.5796;
	validate_record(&f.r, 0, &ctx, &e);
	CU_ASSERT_EQUAL_FATAL(e.n, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.items[0]->message, "swapped"));
	validate_errors_free(&e);
	/* ... but only when swapping them would land in Germany */
	f.loc.lat = 3.0;
	f.loc.lon = 50.5796;
	validate_record(&f.r, 0, &ctx, &e);
	CU_ASSERT_EQUAL_FATAL(e.n, 2);
	CU_ASSERT_PTR_NULL(strstr(e.items[0]->message, "swapped"));
	CU_ASSERT_PTR_NULL(strstr(e.items[1]->message, "swapped"));
	validate_errors_free(&e);

	/* an easting with the UTM zone in front is pointed out */
	f.loc.lat = 50.5796;
	f.loc.lon = 13.0025;
	f.r.has_source_x = f.r.has_source_y = f.r.has_source_crs = 1;
	f.r.source_x = 33358612.4;
	f.r.source_y = 5605187.9;
	f.r.source_crs = 25833;
	validate_record(&f.r, 0, &ctx, &e);
	CU_ASSERT_EQUAL_FATAL(e.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.items[0]->message, "no zone number in front"));
	validate_errors_free(&e);
	f.r.source_x = 1358612.4;
	validate_record(&f.r, 0, &ctx, &e);
	CU_ASSERT_EQUAL_FATAL(e.n, 1);
	CU_ASSERT_PTR_NULL(strstr(e.items[0]->message, "zone number"));
	validate_errors_free(&e);
	free(big);
}

/* Enums as they arrive: protobuf-c keeps numbers its descriptor lacks. */
static void
test_decoded_enums(void)
{
	struct validate_ctx ctx = fixed_ctx();
	struct validate_errors e;
	Vacancy__V1__Record *back;
	uint8_t *wire;
	size_t len;
	struct fx f;

	fx_full(&f);
	f.usage[1] = (Vacancy__V1__Usage__Value)42;
	f.att[0].group = (Vacancy__V1__AttachmentGroup__Value)77;
	len = vacancy__v1__record__get_packed_size(&f.r);
	wire = malloc(len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(wire);
	CU_ASSERT_EQUAL_FATAL(vacancy__v1__record__pack(&f.r, wire), len);
	back = vacancy__v1__record__unpack(NULL, len, wire);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	validate_errors_init(&e, 100);
	validate_record(back, 0, &ctx, &e);
	check_shape(&e);
	CU_ASSERT_EQUAL(e.n, 2);
	CU_ASSERT_PTR_NOT_NULL(find(&e, "usage[1]", ENUMV));
	CU_ASSERT_PTR_NOT_NULL(find(&e, "attachments[0].group", ENUMV));
	validate_errors_free(&e);
	vacancy__v1__record__free_unpacked(back, NULL);
	free(wire);
}

/* ---- single rules ---- */

static void
test_utf8(void)
{
	static const struct {
		const char *s;
		int multiline;
		size_t max;
		const char *code;
	} c[] = {
	    {"", 0, 0, OK},
	    {"a", 0, 0, LONG},
	    {"Grüße", 0, 5, OK},
	    {"Grüße", 0, 4, LONG},
	    {"\xc0\x80", 0, 10, TEXT},	       /* overlong NUL */
	    {"\xc1\xbf", 0, 10, TEXT},	       /* overlong */
	    {"\xe0\x80\xaf", 0, 10, TEXT},     /* overlong '/' */
	    {"\xe0\xa0\x80", 0, 10, OK},       /* U+0800 */
	    {"\xed\x9f\xbf", 0, 10, OK},       /* U+D7FF */
	    {"\xed\xa0\x80", 0, 10, TEXT},     /* U+D800, a surrogate */
	    {"\xed\xbf\xbf", 0, 10, TEXT},     /* U+DFFF */
	    {"\xee\x80\x80", 0, 10, OK},       /* U+E000 */
	    {"\xef\xbf\xbf", 0, 10, OK},       /* U+FFFF */
	    {"\xf0\x80\x80\x80", 0, 10, TEXT}, /* overlong */
	    {"\xf0\x8f\xbf\xbf", 0, 10, TEXT}, /* overlong */
	    {"\xf0\x90\x80\x80", 0, 10, OK},   /* U+10000 */
	    {"\xf4\x8f\xbf\xbf", 0, 10, OK},   /* U+10FFFF */
	    {"\xf4\x90\x80\x80", 0, 10, TEXT}, /* U+110000 */
	    {"\xf5\x80\x80\x80", 0, 10, TEXT},
	    {"\xff", 0, 10, TEXT},
	    {"\x80", 0, 10, TEXT},	   /* a lone continuation */
	    {"\xc3", 0, 10, TEXT},	   /* truncated */
	    {"a\xe2\x82", 0, 10, TEXT},	   /* truncated */
	    {"\xf0\x9f\x8f", 0, 10, TEXT}, /* truncated */
	    {"\xe2\x82"
	     "a",
	     0, 10, TEXT},		    /* not a continuation */
	    {"\xc3\xa4\xa4", 0, 10, TEXT},  /* one continuation too many */
	    {"\xf0\x9f\x8f\xa0", 0, 1, OK}, /* an emoji: one code point */
	    {"\xf0\x9f\x8f\xa0\xf0\x9f\x8f\xa0", 0, 1, LONG},
	    {"e\xcc\x81", 0, 1, LONG}, /* e + combining acute: two */
	    {"e\xcc\x81", 0, 2, OK},
	    {"\xc3\xa9", 0, 1, OK}, /* precomposed: one */
	    {"a\001", 0, 10, TEXT},
	    {"a\tb", 0, 10, TEXT},
	    {"a\tb", 1, 10, OK},
	    {"a\r\nb", 1, 10, OK},
	    {"a\nb", 0, 10, TEXT},
	    {"a\x7f", 1, 10, TEXT},	/* DEL */
	    {"a\xc2\x80", 1, 10, TEXT}, /* C1 */
	    {"a\xc2\x9f", 1, 10, TEXT},
	    {"a\xc2\xa0", 0, 10, OK},	/* no-break space is text */
	    {"abcdef\001", 0, 2, TEXT}, /* bad text wins over length */
	};
	char what[64];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *got = validate_text(c[i].s, c[i].multiline, c[i].max);

		snprintf(what, sizeof(what), "validate_text case %zu", i);
		EXPECT(same_str(got, c[i].code), what);
	}
	CU_ASSERT_STRING_EQUAL(validate_text(NULL, 0, 10), TEXT);
}

static void
test_dates(void)
{
	static const char *const good[] = {"2024-02-29", "2000-02-29", "2026-12-31",
					   "0001-01-01", "2026-06-15", "1999-04-30"};
	static const char *const bad[] = {"2023-02-29",		  "1900-02-29", "2026-13-01",
					  "2026-00-10",		  "2026-01-00", "2026-04-31",
					  "0000-01-01",		  "2026-1-01",	"20260101",
					  "2026/01/01",		  "",		" 2026-01-01",
					  "2026-01-01T00:00:00Z", "2026-01-1a", "+026-01-01"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		EXPECT(validate_date(good[i]), good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT(!validate_date(bad[i]), bad[i]);
	CU_ASSERT_FALSE(validate_date(NULL));
}

static void
test_money(void)
{
	static const char *const good[] = {"0",	   "0.5",      "1250.50",	  "1250.5",
					   "1250", "00012.30", "999999999999.99", "000000000000"};
	static const char *const bad[] = {
	    "",	     "-1",	 "+1",	  "1e3",	   "1,50",
	    "1.",    ".5",	 "1.234", "1234567890123", " 1",
	    "1 ",    "1_000",	 "NaN",	  "0x10",	   "1..2",
	    "1.2.3", "\xd9\xa1", "1.-1",  "1.5e",	   "9999999999999",
	    "12.a"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		EXPECT(validate_money(good[i]), good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT(!validate_money(bad[i]), bad[i]);
	CU_ASSERT_FALSE(validate_money(NULL));
}

static void
test_postcode(void)
{
	CU_ASSERT_TRUE(validate_postcode("09456"));
	CU_ASSERT_TRUE(validate_postcode("01067"));
	CU_ASSERT_FALSE(validate_postcode("0945"));
	CU_ASSERT_FALSE(validate_postcode("094561"));
	CU_ASSERT_FALSE(validate_postcode("0945a"));
	CU_ASSERT_FALSE(validate_postcode(" 9456"));
	CU_ASSERT_FALSE(validate_postcode(""));
	CU_ASSERT_FALSE(validate_postcode(NULL));
}

static void
test_ags_ars(void)
{
	CU_ASSERT_TRUE(validate_ags(AGS));
	CU_ASSERT_TRUE(validate_ags("01001000"));
	CU_ASSERT_TRUE(validate_ags("16077052"));
	CU_ASSERT_FALSE(validate_ags("00521020")); /* Land 00 */
	CU_ASSERT_FALSE(validate_ags("17521020")); /* Land 17 */
	CU_ASSERT_FALSE(validate_ags("99521020"));
	CU_ASSERT_FALSE(validate_ags("1452102"));
	CU_ASSERT_FALSE(validate_ags("145210200"));
	CU_ASSERT_FALSE(validate_ags("1452102x"));
	CU_ASSERT_FALSE(validate_ags(""));
	CU_ASSERT_FALSE(validate_ags(NULL));

	/* ARS = Land 14, RB 5, Kreis 21, Gemeindeverband 0000 (placeholder), Gemeinde 020 */
	CU_ASSERT_TRUE(validate_ars(ARS, AGS));
	CU_ASSERT_TRUE(validate_ars("145210020020", AGS));  /* any Gemeindeverband */
	CU_ASSERT_FALSE(validate_ars("145220000020", AGS)); /* Kreis 22 */
	CU_ASSERT_FALSE(validate_ars("145310000020", AGS)); /* Regierungsbezirk */
	CU_ASSERT_FALSE(validate_ars("135210000020", AGS)); /* Land */
	CU_ASSERT_FALSE(validate_ars("145210000021", AGS)); /* Gemeinde 021 */
	CU_ASSERT_FALSE(validate_ars("14521000002", AGS));
	CU_ASSERT_FALSE(validate_ars("1452100000200", AGS));
	CU_ASSERT_FALSE(validate_ars("14521000002a", AGS));
	CU_ASSERT_FALSE(validate_ars(ARS, "1452102")); /* no valid AGS to agree with */
	CU_ASSERT_FALSE(validate_ars("175210000020", "17521020"));
	CU_ASSERT_FALSE(validate_ars(NULL, AGS));
	CU_ASSERT_FALSE(validate_ars(ARS, NULL));
}

static void
test_parcel_ids(void)
{
	CU_ASSERT_TRUE(validate_parcel_id("14400200300123000400", AGS));
	/* '_' pads Flur, Zähler, Nenner and Folge on either side; absent Flur, Nenner
	 * and Folge are all '_' */
	CU_ASSERT_TRUE(validate_parcel_id("144002___00123____00", AGS));
	CU_ASSERT_TRUE(validate_parcel_id("144002___00123______", AGS));
	CU_ASSERT_TRUE(validate_parcel_id("144002__3123__12____", AGS));
	CU_ASSERT_TRUE(validate_parcel_id("1440023__123__12__01", AGS));
	CU_ASSERT_FALSE(validate_parcel_id("13400200300123000400", AGS)); /* Land 13 */
	CU_ASSERT_FALSE(validate_parcel_id("14400200300123000400", "1452102"));
	CU_ASSERT_FALSE(validate_parcel_id("14400200300123000400", NULL));
	CU_ASSERT_FALSE(validate_parcel_id("1440020_000123000400", AGS)); /* '_' inside */
	CU_ASSERT_TRUE(validate_parcel_id("144002_0_00123000400", AGS));  /* around a digit */
	CU_ASSERT_FALSE(validate_parcel_id("144002003_____000400", AGS)); /* no Zähler */
	CU_ASSERT_FALSE(validate_parcel_id("1_400200300123000400", AGS));
	CU_ASSERT_FALSE(validate_parcel_id("144_0200300123000400", AGS));
	CU_ASSERT_FALSE(validate_parcel_id("1440020030012300040", AGS));
	CU_ASSERT_FALSE(validate_parcel_id("144002003001230004000", AGS));
	CU_ASSERT_FALSE(validate_parcel_id("14400200300123000 00", AGS));
	CU_ASSERT_FALSE(validate_parcel_id("", AGS));
	CU_ASSERT_FALSE(validate_parcel_id(NULL, AGS));
}

static void
test_ctx_now(void)
{
	struct validate_ctx ctx;
	/* "today" is the date at UTC+14, the latest calendar date anywhere */
	time_t before = time(NULL) + 14 * 3600, after;
	struct tm tb, ta;
	char db[11], da[11];

	validate_ctx_now(&ctx, AGS, 1234);
	after = time(NULL) + 14 * 3600;
	CU_ASSERT_PTR_NOT_NULL_FATAL(gmtime_r(&before, &tb));
	CU_ASSERT_PTR_NOT_NULL_FATAL(gmtime_r(&after, &ta));
	strftime(db, sizeof(db), "%Y-%m-%d", &tb);
	strftime(da, sizeof(da), "%Y-%m-%d", &ta);
	CU_ASSERT_STRING_EQUAL(ctx.ags, AGS);
	CU_ASSERT_EQUAL(ctx.max_records, 1234);
	CU_ASSERT(validate_date(ctx.today));
	CU_ASSERT(strcmp(ctx.today, db) == 0 || strcmp(ctx.today, da) == 0);
	CU_ASSERT_EQUAL(ctx.current_year, atoi(ctx.today));
}

/* Dropped errors are never hidden: one closing entry counts them. */
static void
test_errors_close(void)
{
	struct validate_errors e;

	validate_errors_init(&e, 2);
	for (int i = 0; i < 5; i++)
		validate_add(&e, i, "E", "postcode", VALIDATE_INVALID_FORMAT, "bad %d", i);
	CU_ASSERT_EQUAL(e.n, 2);
	CU_ASSERT_EQUAL(e.dropped, 3);
	validate_errors_close(&e, "max_sync_errors");
	CU_ASSERT_EQUAL_FATAL(e.n, 3);
	CU_ASSERT_STRING_EQUAL(e.items[2]->code, "TOO_MANY_ERRORS");
	CU_ASSERT_FALSE(e.items[2]->has_index);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.items[2]->message, "3 more errors"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.items[2]->message, "max_sync_errors = 2"));
	CU_ASSERT_EQUAL(e.dropped, 3);
	validate_errors_free(&e);
	/* nothing dropped: nothing added */
	validate_errors_init(&e, 10);
	validate_add(&e, 0, "E", "postcode", VALIDATE_INVALID_FORMAT, "bad");
	validate_errors_close(&e, "max_sync_errors");
	CU_ASSERT_EQUAL(e.n, 1);
	validate_errors_free(&e);
}

static void
test_rules_cover_proto(void)
{
	const char *f = validate_unruled_field();

	EXPECT(f == NULL, f ? f : "");
}

void
test_validate_register(void)
{
	CU_pSuite s = CU_add_suite("validate", NULL, NULL);

	CU_add_test(s, "a maximal valid record: no error", test_full_valid);
	CU_add_test(s, "a minimal valid record: no error", test_minimal_valid);
	CU_add_test(s, "each rule on the maximal record: one error or none", test_full_cases);
	CU_add_test(s, "rules on the minimal record", test_minimal_cases);
	CU_add_test(s, "attachments <= 50, parcel_ids <= 100", test_list_limits);
	CU_add_test(s, "source_x/y/crs together", test_source_partial);
	CU_add_test(s, "ten bad fields, ten errors", test_ten_errors);
	CU_add_test(s, "transfer: id, AGS, scope, full_session, changes", test_transfer_level);
	CU_add_test(s, "withdrawals", test_withdrawals);
	CU_add_test(s, "rejected counts changes, not errors", test_rejected_count);
	CU_add_test(s, "duplicate external_ids across upserts and withdrawals", test_duplicates);
	CU_add_test(s, "5000 changes: duplicates, cap", test_many_changes);
	CU_add_test(s, "max errors: the rest counted in dropped", test_cap);
	CU_add_test(s, "validate_add: copies, index, counting", test_add);
	CU_add_test(s, "messages: escaped, cut, precise", test_messages);
	CU_add_test(s, "enum numbers unknown to the schema survive decoding", test_decoded_enums);
	CU_add_test(s, "validate_text: UTF-8, controls, code points", test_utf8);
	CU_add_test(s, "validate_date", test_dates);
	CU_add_test(s, "validate_money", test_money);
	CU_add_test(s, "validate_postcode", test_postcode);
	CU_add_test(s, "validate_ags, validate_ars", test_ags_ars);
	CU_add_test(s, "validate_parcel_id", test_parcel_ids);
	CU_add_test(s, "validate_ctx_now", test_ctx_now);
	CU_add_test(s, "dropped errors are summarised", test_errors_close);
	CU_add_test(s, "every proto field has a rule", test_rules_cover_proto);
}
