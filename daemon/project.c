/*
 * project: tier table of the Record fields and generic field clearing over
 * protobuf-c descriptors.
 */
#include "project.h"

#include "pbfield.h"

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

/*
 * Whether Record's i-th field (descriptor order) is PUBLIC: decided once, as
 * project_record runs for every record the read model takes in.
 */
static int
project_field_public(unsigned i)
{
	static unsigned char known[256], public[256];
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;

	if (i >= sizeof(known))
		return project_tier(d->fields[i].name) == TIER_PUBLIC;
	if (!known[i]) {
		public[i] = project_tier(d->fields[i].name) == TIER_PUBLIC;
		known[i] = 1;
	}
	return public[i];
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
		if (!project_field_public(i))
			pbfield_clear(&r->base, &d->fields[i], alloc);
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
