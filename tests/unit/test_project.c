/*
 * test_project: the visibility tiers of record.md and the investor
 * projection of daemon/project.c. Records are filled generically from the
 * descriptor (every field set, so a new proto field is covered without
 * touching this file) with codec_heap, as the daemon builds them; run under
 * ASan to catch leaks and double frees of the clearing code.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "pbfield.h"
#include "project.h"
#include "vacancy.pb-c.h"

void test_project_register(void);

/* record.md's tiers: every Record field not listed here is PUBLIC. */
static const char *const personal_fields[] = {
    "vacancy_reason", "owner_name",  "owner_address",
    "owner_phone",    "owner_email", "owner_willingness",
};
static const char *const internal_fields[] = {
    "external_id",	  "revision",	    "publication",    "owner_consent",
    "owner_consent_date", "source_x",	    "source_y",	      "source_crs",
    "location_blur_m",	  "owner_category", "internal_notes",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int
in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}

/* The tier record.md gives a Record field. */
static enum tier
spec_tier(const char *name)
{
	if (in_list(name, personal_fields, NELEM(personal_fields)))
		return TIER_PERSONAL;
	if (in_list(name, internal_fields, NELEM(internal_fields)))
		return TIER_INTERNAL;
	return TIER_PUBLIC;
}

static const ProtobufCFieldDescriptor *
field(const ProtobufCMessageDescriptor *d, const char *name)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(d, name);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	return f;
}

static void *
heap_alloc(size_t n)
{
	void *p = codec_heap.alloc(codec_heap.allocator_data, n);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 0, n);
	return p;
}

static char *
heap_str(const char *s)
{
	char *p = heap_alloc(strlen(s) + 1);

	memcpy(p, s, strlen(s) + 1);
	return p;
}

/* Size of one element of a field's C representation. */
static size_t
elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return sizeof(uint32_t);
	}
}

static void fill_message(ProtobufCMessage *m);

/* A new message of type d with every field set (owned; free with codec_heap). */
static ProtobufCMessage *
new_message(const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = heap_alloc(d->sizeof_message);

	protobuf_c_message_init(d, m);
	fill_message(m);
	return m;
}

/* Writes value number k of field f into slot: non-zero, distinct per k. */
static void
fill_value(const ProtobufCFieldDescriptor *f, void *slot, unsigned k)
{
	char text[96];

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		snprintf(text, sizeof(text), "%s value %u", f->name, k);
		*(char **)slot = heap_str(text);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)slot = new_message(f->descriptor);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;

		/* values[0] is UNSPECIFIED */
		*(int *)slot = ed->values[1 + k % (ed->n_values - 1)].value;
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)slot = 1;
		break;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)slot = 1990 + (int32_t)k;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)slot = 250 + k;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(uint64_t *)slot = 42 + k;
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)slot = 12.5 + k;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)slot = 1.5f + (float)k;
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *bd = slot;

		bd->data = heap_alloc(4);
		memcpy(bd->data, "\x01\x02\x03\x04", 4);
		bd->len = 4;
		break;
	}
	}
}

/* Sets field f of m (two elements if repeated); what it held must be empty. */
static void
fill_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	char *base = (char *)m;
	void *member = base + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t sz = elem_size(f);
		char *arr = heap_alloc(2 * sz);

		fill_value(f, arr, 0);
		fill_value(f, arr + sz, 1);
		*(void **)member = arr;
		*(size_t *)(base + f->quantifier_offset) = 2;
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = (uint32_t *)(base + f->quantifier_offset);

		if (*which != 0)
			return; /* one member of a oneof only */
		*which = f->id;
		fill_value(f, member, 0);
		return;
	}
	fill_value(f, member, 0);
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
}

static void
fill_message(ProtobufCMessage *m)
{
	for (unsigned i = 0; i < m->descriptor->n_fields; i++)
		fill_field(m, &m->descriptor->fields[i]);
}

/* 1 when field f of m is present; when absent, also checks it holds nothing. */
static int
present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	const void *member = base + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)(base + f->quantifier_offset);

		if (n == 0)
			CU_ASSERT_PTR_NULL(*(void *const *)member);
		return n > 0;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)member != NULL;
	if (*(const protobuf_c_boolean *)(base + f->quantifier_offset))
		return 1;
	/* absent: the value is zeroed too, so nothing stale is left behind */
	for (size_t i = 0; i < elem_size(f); i++)
		CU_ASSERT_EQUAL(((const unsigned char *)member)[i], 0);
	return 0;
}

/* A Record with every field set, as an investor may see it (MARKETED, not withdrawn). */
static Vacancy__V1__Record *
full_record(void)
{
	Vacancy__V1__Record *r =
	    (Vacancy__V1__Record *)new_message(&vacancy__v1__record__descriptor);

	r->status = VACANCY__V1__STATUS__VALUE__MARKETED;
	r->publication = VACANCY__V1__PUBLICATION__VALUE__PUBLIC;
	r->owner_consent = VACANCY__V1__OWNER_CONSENT__VALUE__CONSENTED;
	r->owner_category = VACANCY__V1__OWNER_CATEGORY__VALUE__PRIVATE;
	codec_heap.free(codec_heap.allocator_data, r->withdrawn_at);
	r->withdrawn_at = NULL;
	return r;
}

static void
free_record(Vacancy__V1__Record *r)
{
	protobuf_c_message_free_unpacked(&r->base, &codec_heap);
}

/* Packs msg into a new buffer (owned by the caller). */
static uint8_t *
pack(const ProtobufCMessage *msg, size_t *len)
{
	uint8_t *p;

	*len = protobuf_c_message_get_packed_size(msg);
	p = malloc(*len ? *len : 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	protobuf_c_message_pack(msg, p);
	return p;
}

static void
test_tier_table(void)
{
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;

	/* every field has the tier record.md gives it; a new field falls to PERSONAL
	 * (fail closed) and fails here until it is classified */
	for (unsigned i = 0; i < d->n_fields; i++) {
		const char *name = d->fields[i].name;
		enum tier got = project_tier(name);

		CU_ASSERT_EQUAL(got, spec_tier(name));
		if (got != spec_tier(name))
			fprintf(stderr, "\n  field %s: tier %s, record.md says %s", name,
				tier_name(got), tier_name(spec_tier(name)));
	}
	/* every name of the spec lists is a field (no silent rename) */
	for (size_t i = 0; i < NELEM(personal_fields); i++) {
		CU_ASSERT_PTR_NOT_NULL(
		    protobuf_c_message_descriptor_get_field_by_name(d, personal_fields[i]));
		CU_ASSERT_EQUAL(project_tier(personal_fields[i]), TIER_PERSONAL);
	}
	for (size_t i = 0; i < NELEM(internal_fields); i++) {
		CU_ASSERT_PTR_NOT_NULL(
		    protobuf_c_message_descriptor_get_field_by_name(d, internal_fields[i]));
		CU_ASSERT_EQUAL(project_tier(internal_fields[i]), TIER_INTERNAL);
	}
	/* unknown names fail closed */
	CU_ASSERT_EQUAL(project_tier("no_such_field"), TIER_PERSONAL);
	CU_ASSERT_EQUAL(project_tier(""), TIER_PERSONAL);
	CU_ASSERT_EQUAL(project_tier("Title"), TIER_PERSONAL);
	CU_ASSERT_EQUAL(project_tier("title"), TIER_PUBLIC);
	CU_ASSERT_STRING_EQUAL(tier_name(TIER_PUBLIC), "PUBLIC");
	CU_ASSERT_STRING_EQUAL(tier_name(TIER_INTERNAL), "INTERNAL");
	CU_ASSERT_STRING_EQUAL(tier_name(TIER_PERSONAL), "PERSONAL");
}

/* record.md, "Visibility tiers", over enum values; -1 is "absent". */
static int
spec_published(int pub, int status, int consent, int category, int withdrawn)
{
	int consent_ok = consent == VACANCY__V1__OWNER_CONSENT__VALUE__CONSENTED ||
			 consent == VACANCY__V1__OWNER_CONSENT__VALUE__NO_OBJECTION;
	int not_person = category == VACANCY__V1__OWNER_CATEGORY__VALUE__BUSINESS ||
			 category == VACANCY__V1__OWNER_CATEGORY__VALUE__PUBLIC ||
			 category == VACANCY__V1__OWNER_CATEGORY__VALUE__MUNICIPAL;

	return pub == VACANCY__V1__PUBLICATION__VALUE__PUBLIC &&
	       (status == VACANCY__V1__STATUS__VALUE__MARKETED ||
		status == VACANCY__V1__STATUS__VALUE__RESERVED) &&
	       !withdrawn && consent != VACANCY__V1__OWNER_CONSENT__VALUE__OBJECTED &&
	       (consent_ok || not_person);
}

static void
test_is_published(void)
{
	/* every value of each enum, and -1 for absent: the has_ flag clear, with
	 * the most permissive value left behind in the member */
	enum { NPUB = 4, NSTATUS = 9, NCONSENT = 7, NCATEGORY = 7, NCOMBO = 4 * 9 * 7 * 7 * 2 };
	Vacancy__V1__Record r;
	unsigned yes = 0;

	for (unsigned i = 0; i < NCOMBO; i++) {
		unsigned k = i;
		int pub = (int)(k % NPUB) - 1, status, consent, category, withdrawn, got;

		k /= NPUB;
		status = (int)(k % NSTATUS) - 1, k /= NSTATUS;
		consent = (int)(k % NCONSENT) - 1, k /= NCONSENT;
		category = (int)(k % NCATEGORY) - 1, k /= NCATEGORY;
		withdrawn = (int)k;

		vacancy__v1__record__init(&r);
		r.has_publication = pub >= 0;
		r.publication = pub >= 0 ? pub : VACANCY__V1__PUBLICATION__VALUE__PUBLIC;
		r.has_status = status >= 0;
		r.status = status >= 0 ? status : VACANCY__V1__STATUS__VALUE__MARKETED;
		r.has_owner_consent = consent >= 0;
		r.owner_consent =
		    consent >= 0 ? consent : VACANCY__V1__OWNER_CONSENT__VALUE__CONSENTED;
		r.has_owner_category = category >= 0;
		r.owner_category =
		    category >= 0 ? category : VACANCY__V1__OWNER_CATEGORY__VALUE__BUSINESS;
		r.withdrawn_at = withdrawn ? (char *)"2024-05-01T00:00:00Z" : NULL;

		got = project_is_published(&r);
		CU_ASSERT_EQUAL(got, spec_published(pub, status, consent, category, withdrawn));
		if (got != spec_published(pub, status, consent, category, withdrawn))
			fprintf(stderr,
				"\n  publication %d status %d consent %d category %d "
				"withdrawn %d: got %d",
				pub, status, consent, category, withdrawn, got);
		yes += got != 0;
	}
	/* both answers occur: PUBLIC x {MARKETED, RESERVED} x not withdrawn x 26
	 * (consent, category) pairs: 2 consents x 7 categories + 4 consents x 3 categories */
	CU_ASSERT_EQUAL(yes, 2 * (2 * 7 + 4 * 3));
}

static void
test_investor_projection(void)
{
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;
	static const Vacancy__V1__Status__Value statuses[] = {VACANCY__V1__STATUS__VALUE__MARKETED,
							      VACANCY__V1__STATUS__VALUE__RESERVED};

	for (size_t si = 0; si < NELEM(statuses); si++) {
		Vacancy__V1__Record *r = full_record();
		unsigned n_public = 0;

		r->status = statuses[si];
		/* the record really is full (withdrawn_at aside) */
		for (unsigned i = 0; i < d->n_fields; i++)
			if (strcmp(d->fields[i].name, "withdrawn_at") != 0)
				CU_ASSERT(present(&r->base, &d->fields[i]));
		CU_ASSERT_EQUAL_FATAL(r->n_attachments, 2);
		CU_ASSERT_EQUAL(project_has_personal(r), 1);

		CU_ASSERT_EQUAL(project_record(r, ROLE_INVESTOR, &codec_heap), 0);

		for (unsigned i = 0; i < d->n_fields; i++) {
			const ProtobufCFieldDescriptor *f = &d->fields[i];
			int is = present(&r->base, f);

			if (strcmp(f->name, "withdrawn_at") == 0)
				continue;
			if (spec_tier(f->name) == TIER_PUBLIC) {
				CU_ASSERT(is);
				n_public++;
			} else {
				CU_ASSERT(!is);
				if (is)
					fprintf(stderr, "\n  %s left for investors", f->name);
			}
		}
		CU_ASSERT(n_public > 30);
		CU_ASSERT(r->has_status && r->status == statuses[si]);
		CU_ASSERT_STRING_EQUAL(r->title, "title value 0");
		CU_ASSERT_EQUAL(r->n_usage, 2);
		/* nested: attachments keep everything but the rights holder */
		CU_ASSERT_EQUAL_FATAL(r->n_attachments, 2);
		for (size_t k = 0; k < r->n_attachments; k++) {
			Vacancy__V1__Attachment *a = r->attachments[k];

			CU_ASSERT_PTR_NULL(a->rights_holder);
			CU_ASSERT(a->has_group);
			CU_ASSERT_STRING_EQUAL(a->media_type, "media_type value 0");
			CU_ASSERT_PTR_NOT_NULL(a->sha256);
			CU_ASSERT_PTR_NOT_NULL(a->url);
			CU_ASSERT_PTR_NOT_NULL(a->licence);
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(r->marketing_contact);
		CU_ASSERT_PTR_NOT_NULL(r->marketing_contact->organisation);
		CU_ASSERT_PTR_NOT_NULL(r->marketing_contact->email);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r->location);
		CU_ASSERT(r->location->has_lat && r->location->has_lon);
		CU_ASSERT_EQUAL(project_has_personal(r), 0);

		/* projecting twice changes nothing more */
		size_t l1, l2;
		uint8_t *b1 = pack(&r->base, &l1);
		CU_ASSERT_EQUAL(project_record(r, ROLE_INVESTOR, &codec_heap), 0);
		uint8_t *b2 = pack(&r->base, &l2);
		CU_ASSERT(l1 == l2 && memcmp(b1, b2, l1) == 0);
		free(b1);
		free(b2);
		free_record(r);
	}
}

static void
test_investor_refused(void)
{
	static const Vacancy__V1__Status__Value statuses[] = {
	    VACANCY__V1__STATUS__VALUE__SUSPECTED,  VACANCY__V1__STATUS__VALUE__CONFIRMED,
	    VACANCY__V1__STATUS__VALUE__REUSED,	    VACANCY__V1__STATUS__VALUE__WITHDRAWN,
	    VACANCY__V1__STATUS__VALUE__DEMOLISHED, VACANCY__V1__STATUS__VALUE__UNSPECIFIED,
	};
	Vacancy__V1__Record *r;

	for (size_t i = 0; i < NELEM(statuses); i++) {
		r = full_record();
		r->status = statuses[i];
		CU_ASSERT_EQUAL(project_record(r, ROLE_INVESTOR, &codec_heap), -1);
		free_record(r);
	}
	/* no status at all */
	r = full_record();
	r->has_status = 0;
	CU_ASSERT_EQUAL(project_record(r, ROLE_INVESTOR, &codec_heap), -1);
	free_record(r);
	/* withdrawn (a tombstone), with a status investors could otherwise see */
	r = full_record();
	r->withdrawn_at = heap_str("2024-05-01T10:00:00Z");
	CU_ASSERT_EQUAL(project_record(r, ROLE_INVESTOR, &codec_heap), -1);
	r->status = VACANCY__V1__STATUS__VALUE__RESERVED;
	CU_ASSERT_EQUAL(project_record(r, ROLE_INVESTOR, &codec_heap), -1);
	free_record(r);
}

static void
test_staff_unchanged(void)
{
	static const enum role staff[] = {ROLE_MUNICIPALITY, ROLE_COUNTY};
	static const Vacancy__V1__Status__Value statuses[] = {
	    VACANCY__V1__STATUS__VALUE__MARKETED, VACANCY__V1__STATUS__VALUE__SUSPECTED};

	for (size_t i = 0; i < NELEM(staff); i++) {
		for (size_t k = 0; k < NELEM(statuses); k++) {
			Vacancy__V1__Record *r = full_record();
			uint8_t *before, *after;
			size_t lb, la;

			r->status = statuses[k];
			r->withdrawn_at = heap_str("2024-05-01T10:00:00Z");
			before = pack(&r->base, &lb);
			CU_ASSERT_EQUAL(project_record(r, staff[i], &codec_heap), 0);
			after = pack(&r->base, &la);
			CU_ASSERT_EQUAL(la, lb);
			CU_ASSERT(la == lb && memcmp(before, after, lb) == 0);
			CU_ASSERT_PTR_NOT_NULL(r->owner_name);
			CU_ASSERT_PTR_NOT_NULL(r->attachments[0]->rights_holder);
			CU_ASSERT_EQUAL(project_has_personal(r), 1);
			free(before);
			free(after);
			free_record(r);
		}
	}
}

static void
test_has_personal(void)
{
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;
	const ProtobufCFieldDescriptor *rh =
	    field(&vacancy__v1__attachment__descriptor, "rights_holder");
	Vacancy__V1__Record empty = VACANCY__V1__RECORD__INIT;

	CU_ASSERT_EQUAL(project_has_personal(&empty), 0);
	/* a stale value without its has_ flag is not present */
	empty.vacancy_reason = VACANCY__V1__VACANCY_REASON__VALUE__HEIRS_DISPUTE;
	empty.owner_willingness = VACANCY__V1__OWNER_WILLINGNESS__VALUE__SELL;
	CU_ASSERT_EQUAL(project_has_personal(&empty), 0);

	/* a full record without its PERSONAL fields: INTERNAL ones are not personal */
	for (size_t p = 0; p <= NELEM(personal_fields); p++) {
		Vacancy__V1__Record *r = full_record();

		for (size_t i = 0; i < NELEM(personal_fields); i++)
			pbfield_clear(&r->base, field(d, personal_fields[i]), &codec_heap);
		for (size_t k = 0; k < r->n_attachments; k++)
			pbfield_clear(&r->attachments[k]->base, rh, &codec_heap);
		CU_ASSERT_EQUAL(project_has_personal(r), 0);
		if (p < NELEM(personal_fields)) {
			/* each PERSONAL field alone makes the record personal */
			fill_field(&r->base, field(d, personal_fields[p]));
		} else {
			/* and so does one attachment's rights holder */
			fill_field(&r->attachments[1]->base, rh);
		}
		CU_ASSERT_EQUAL(project_has_personal(r), 1);
		free_record(r);
	}
}

/* Clears field name of a full record and checks that it alone is gone. */
static void
clear_one(const char *name)
{
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;
	const ProtobufCFieldDescriptor *f = field(d, name);
	Vacancy__V1__Record *r = full_record();

	CU_ASSERT(present(&r->base, f));
	pbfield_clear(&r->base, f, &codec_heap);
	CU_ASSERT(!present(&r->base, f));
	for (unsigned i = 0; i < d->n_fields; i++)
		if (&d->fields[i] != f && strcmp(d->fields[i].name, "withdrawn_at") != 0)
			CU_ASSERT(present(&r->base, &d->fields[i]));
	/* clearing an absent field is harmless */
	pbfield_clear(&r->base, f, &codec_heap);
	CU_ASSERT(!present(&r->base, f));
	/* and the message is still whole: it packs and frees */
	size_t len;
	uint8_t *p = pack(&r->base, &len);
	CU_ASSERT(len > 0);
	free(p);
	free_record(r);
}

static void
test_clear_field(void)
{
	Vacancy__V1__Record *r;

	clear_one("usage");		/* repeated enum */
	clear_one("parcel_ids");	/* repeated string */
	clear_one("attachments");	/* repeated message */
	clear_one("title");		/* string */
	clear_one("location");		/* message */
	clear_one("marketing_contact"); /* message */
	clear_one("status");		/* enum */
	clear_one("usable_area_m2");	/* optional double */
	clear_one("source_x");		/* optional double */
	clear_one("revision");		/* uint64 */
	clear_one("construction_year"); /* int32 */
	clear_one("source_crs");	/* uint32 */
	clear_one("price_on_request");	/* bool */

	/* explicit values after clearing */
	r = full_record();
	pbfield_clear(&r->base, field(r->base.descriptor, "usage"), &codec_heap);
	CU_ASSERT_EQUAL(r->n_usage, 0);
	CU_ASSERT_PTR_NULL(r->usage);
	pbfield_clear(&r->base, field(r->base.descriptor, "status"), &codec_heap);
	CU_ASSERT_EQUAL(r->has_status, 0);
	CU_ASSERT_EQUAL(r->status, 0);
	pbfield_clear(&r->base, field(r->base.descriptor, "usable_area_m2"), &codec_heap);
	CU_ASSERT_EQUAL(r->has_usable_area_m2, 0);
	CU_ASSERT_EQUAL(r->usable_area_m2, 0.0);
	pbfield_clear(&r->base, field(r->base.descriptor, "title"), &codec_heap);
	CU_ASSERT_PTR_NULL(r->title);
	pbfield_clear(&r->base, field(r->base.descriptor, "location"), &codec_heap);
	CU_ASSERT_PTR_NULL(r->location);
	/* inside a sub-message */
	pbfield_clear(&r->attachments[0]->base,
		      field(&vacancy__v1__attachment__descriptor, "rights_holder"), &codec_heap);
	CU_ASSERT_PTR_NULL(r->attachments[0]->rights_holder);
	CU_ASSERT_PTR_NOT_NULL(r->attachments[1]->rights_holder);
	free_record(r);
}

static void
test_clear_oneof(void)
{
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record_change__descriptor;
	Vacancy__V1__RecordChange *c = heap_alloc(sizeof(*c));

	vacancy__v1__record_change__init(c);
	c->change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
	c->upsert = full_record();
	/* clearing the member that is not set leaves the set one alone */
	pbfield_clear(&c->base, field(d, "withdraw"), &codec_heap);
	CU_ASSERT_EQUAL(c->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->upsert);
	CU_ASSERT_PTR_NOT_NULL(c->upsert->title);
	/* clearing the set member frees it */
	pbfield_clear(&c->base, field(d, "upsert"), &codec_heap);
	CU_ASSERT_EQUAL(c->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE__NOT_SET);
	CU_ASSERT_PTR_NULL(c->upsert);
	protobuf_c_message_free_unpacked(&c->base, &codec_heap);
}

void
test_project_register(void)
{
	CU_pSuite s = CU_add_suite("project", NULL, NULL);

	CU_add_test(s, "every Record field has record.md's tier", test_tier_table);
	CU_add_test(s, "project_is_published truth table", test_is_published);
	CU_add_test(s, "investor projection of a full record keeps only PUBLIC",
		    test_investor_projection);
	CU_add_test(s, "investor: refused statuses and tombstones", test_investor_refused);
	CU_add_test(s, "staff roles: record unchanged", test_staff_unchanged);
	CU_add_test(s, "project_has_personal", test_has_personal);
	CU_add_test(s, "project_clear_field: repeated, string, message, enum, scalars",
		    test_clear_field);
	CU_add_test(s, "project_clear_field: oneof members", test_clear_oneof);
}
