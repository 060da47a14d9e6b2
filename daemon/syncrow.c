/*
 * syncrow: a transfer's changes as registry.apply_transfer() stores them
 * (syncrow.h). The record's own fields are written by json_encode with the
 * fields that the database keeps elsewhere cleared for the moment; the
 * members that differ from the proto shape are spliced in before the
 * object's closing brace.
 */
#include <string.h>

#include "json.h"
#include "syncrow.h"

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

static void
add_attachments(struct buf *out, int *some, Vacancy__V1__Record *rec)
{
	member(out, some, "attachments");
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

/*
 * The row; with_personal 0 leaves out the PERSONAL fields (record.md): what
 * the history of a created record shows every staff reader.
 */
static void
add_row(struct buf *out, Vacancy__V1__Record *rec, int with_personal)
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
	if (!with_personal) {
		rec->has_vacancy_reason = 0;
		rec->owner_name = rec->owner_address = rec->owner_phone = rec->owner_email = NULL;
		rec->has_owner_willingness = 0;
	}
	rc = json_encode(&rec->base, out, JSON_PROTO_NAMES);
	*rec = saved;
	if (rc == -1)
		return; /* out is failed */

	some = obj_reopen(out, start);
	if (location != NULL)
		add_location(out, &some, location);
	add_attachments(out, &some, rec);
	if (with_personal)
		add_holders(out, &some, rec);
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

/* The PERSONAL fields that are set, or null when none is. */
static void
add_personal(struct buf *out, const Vacancy__V1__Record *rec)
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
		buf_adds(out, "null");
		return;
	}
	buf_addc(out, '}');
}

static void
add_head(struct buf *out, int upsert, const char *external_id, uint64_t revision)
{
	buf_adds(out, upsert ? "{\"u\":true,\"x\":" : "{\"u\":false,\"x\":");
	if (external_id != NULL)
		json_add_string(out, external_id, strlen(external_id));
	else
		buf_adds(out, "null");
	buf_printf(out, ",\"r\":\"%llu\"", (unsigned long long)revision);
}

int
syncrow_encode(Vacancy__V1__SyncRequest *req, struct buf *out)
{
	buf_addc(out, '[');
	for (size_t i = 0; i < req->n_changes; i++) {
		Vacancy__V1__RecordChange *c = req->changes[i];

		if (i > 0)
			buf_addc(out, ',');
		if (c->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT) {
			add_head(out, 1, c->upsert->external_id, c->upsert->revision);
			buf_adds(out, ",\"d\":");
			add_row(out, c->upsert, 1);
			buf_adds(out, ",\"h\":");
			add_row(out, c->upsert, 0);
			buf_adds(out, ",\"p\":");
			add_personal(out, c->upsert);
			buf_addc(out, '}');
		} else if (c->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW) {
			add_head(out, 0, c->withdraw->external_id, c->withdraw->revision);
			buf_addc(out, '}');
		} else {
			/* validate_transfer refuses these; never half a change */
			return -1;
		}
	}
	buf_addc(out, ']');
	return buf_failed(out) ? -1 : 0;
}
