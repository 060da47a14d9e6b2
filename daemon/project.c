/*
 * project: tier table of the Record fields and generic field clearing over
 * protobuf-c descriptors.
 */
#include "project.h"

#include <stdlib.h>
#include <string.h>

struct project_tier_entry {
	const char *field;
	enum tier tier;
};

/* Every field of Record that is not PUBLIC. PUBLIC fields are listed in
 * project_public so that a field added to the proto without a decision is
 * treated as PERSONAL (see project_tier) and caught by the unit test. */
static const struct project_tier_entry project_restricted[] = {
    {"external_id", TIER_INTERNAL},	   {"revision", TIER_INTERNAL},
    {"publication", TIER_INTERNAL},	   {"owner_consent", TIER_INTERNAL},
    {"owner_consent_date", TIER_INTERNAL}, {"source_x", TIER_INTERNAL},
    {"source_y", TIER_INTERNAL},	   {"source_crs", TIER_INTERNAL},
    {"location_blur_m", TIER_INTERNAL},	   {"owner_category", TIER_INTERNAL},
    {"internal_notes", TIER_INTERNAL},	   {"vacancy_reason", TIER_PERSONAL},
    {"owner_name", TIER_PERSONAL},	   {"owner_address", TIER_PERSONAL},
    {"owner_phone", TIER_PERSONAL},	   {"owner_email", TIER_PERSONAL},
    {"owner_willingness", TIER_PERSONAL},
};

static const char *const project_public[] = {
    "record_id",
    "municipality_ags",
    "municipality_ars",
    "updated_at",
    "last_verified_at",
    "site_kind",
    "usage",
    "marketing",
    "object_type",
    "status",
    "vacancy_degree",
    "vacant_since",
    "vacant_since_precision",
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
    "location",
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
    "withdrawn_at",
};

enum tier
project_tier(const char *field_name)
{
	for (size_t i = 0; i < sizeof(project_restricted) / sizeof(project_restricted[0]); i++)
		if (strcmp(project_restricted[i].field, field_name) == 0)
			return project_restricted[i].tier;
	for (size_t i = 0; i < sizeof(project_public) / sizeof(project_public[0]); i++)
		if (strcmp(project_public[i], field_name) == 0)
			return TIER_PUBLIC;
	return TIER_PERSONAL;
}

const char *
tier_name(enum tier t)
{
	switch (t) {
	case TIER_PUBLIC:
		return "PUBLIC";
	case TIER_INTERNAL:
		return "INTERNAL";
	case TIER_PERSONAL:
		break;
	}
	return "PERSONAL";
}

int
project_is_published(const Vacancy__V1__Record *r)
{
	int consent_ok, owner_not_person;

	if (!r->has_publication || r->publication != VACANCY__V1__PUBLICATION__VALUE__PUBLIC)
		return 0;
	if (!r->has_status || (r->status != VACANCY__V1__STATUS__VALUE__MARKETED &&
			       r->status != VACANCY__V1__STATUS__VALUE__RESERVED))
		return 0;
	if (r->withdrawn_at != NULL)
		return 0;
	if (r->has_owner_consent && r->owner_consent == VACANCY__V1__OWNER_CONSENT__VALUE__OBJECTED)
		return 0;
	consent_ok = r->has_owner_consent &&
		     (r->owner_consent == VACANCY__V1__OWNER_CONSENT__VALUE__CONSENTED ||
		      r->owner_consent == VACANCY__V1__OWNER_CONSENT__VALUE__NO_OBJECTION);
	owner_not_person = r->has_owner_category &&
			   (r->owner_category == VACANCY__V1__OWNER_CATEGORY__VALUE__BUSINESS ||
			    r->owner_category == VACANCY__V1__OWNER_CATEGORY__VALUE__PUBLIC ||
			    r->owner_category == VACANCY__V1__OWNER_CATEGORY__VALUE__MUNICIPAL);
	return consent_ok || owner_not_person;
}

/* Frees one value of field type f->type stored at p (string or message). */
static void
project_free_value(const ProtobufCFieldDescriptor *f, void *p, ProtobufCAllocator *alloc)
{
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		char *s = *(char **)p;
		if (s != NULL && s != (const char *)f->default_value)
			alloc->free(alloc->allocator_data, s);
	} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage *m = *(ProtobufCMessage **)p;
		if (m != NULL)
			protobuf_c_message_free_unpacked(m, alloc);
	} else if (f->type == PROTOBUF_C_TYPE_BYTES) {
		ProtobufCBinaryData *bd = p;
		if (bd->data != NULL &&
		    (f->default_value == NULL ||
		     bd->data != ((const ProtobufCBinaryData *)f->default_value)->data))
			alloc->free(alloc->allocator_data, bd->data);
	}
}

/* Size of one element of a field's C representation. */
static size_t
project_elem_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	default:
		return 4;
	}
}

void
project_clear_field(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
		    ProtobufCAllocator *alloc)
{
	char *base = (char *)msg;
	void *member = base + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = (size_t *)(base + f->quantifier_offset);
		char *arr = *(char **)member;
		size_t sz = project_elem_size(f);

		for (size_t i = 0; arr != NULL && i < *n; i++)
			project_free_value(f, arr + i * sz, alloc);
		if (arr != NULL)
			alloc->free(alloc->allocator_data, arr);
		*(char **)member = NULL;
		*n = 0;
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = (uint32_t *)(base + f->quantifier_offset);
		if (*which != f->id)
			return;
		*which = 0;
	}
	project_free_value(f, member, alloc);
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		*(void **)member = NULL;
		break;
	case PROTOBUF_C_TYPE_BYTES:
		memset(member, 0, sizeof(ProtobufCBinaryData));
		break;
	default:
		memset(member, 0, project_elem_size(f));
		break;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	    f->quantifier_offset != 0 && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)(base + f->quantifier_offset) = 0;
}

int
project_record(Vacancy__V1__Record *r, enum role role, ProtobufCAllocator *alloc)
{
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;

	if (role != ROLE_INVESTOR)
		return 0;
	if (!r->has_status ||
	    (r->status != VACANCY__V1__STATUS__VALUE__MARKETED &&
	     r->status != VACANCY__V1__STATUS__VALUE__RESERVED) ||
	    r->withdrawn_at != NULL)
		return -1;
	for (unsigned i = 0; i < d->n_fields; i++)
		if (project_tier(d->fields[i].name) != TIER_PUBLIC)
			project_clear_field(&r->base, &d->fields[i], alloc);
	for (size_t i = 0; i < r->n_attachments; i++) {
		if (r->attachments[i]->rights_holder != NULL) {
			alloc->free(alloc->allocator_data, r->attachments[i]->rights_holder);
			r->attachments[i]->rights_holder = NULL;
		}
	}
	return 0;
}

int
project_has_personal(const Vacancy__V1__Record *r)
{
	for (size_t i = 0; i < r->n_attachments; i++)
		if (r->attachments[i]->rights_holder != NULL)
			return 1;
	return r->has_vacancy_reason || r->owner_name || r->owner_address || r->owner_phone ||
	       r->owner_email || r->has_owner_willingness;
}
