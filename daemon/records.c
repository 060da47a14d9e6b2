/*
 * records: GET /v1/records/{record_id}, one record projected for the caller.
 *
 * Investors read investor.published_record through the investor pool, whose
 * database role can read nothing else; the code projects again. Staff read
 * through registry.read_full(), which checks the principal's scope itself
 * and logs the read of personal data in the same statement.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"
#include "pgmap.h"
#include "project.h"
#include "rmsync.h"
#include "searchq.h"

static const struct db_stmt records_investor_stmt = {
    "record_investor",
    "SELECT * FROM investor.published_record WHERE record_id = $1::uuid",
};

/* One row per existing record: _ags always, the f.* columns only when the
 * principal's scope covers it (and then the read is logged). */
static const struct db_stmt records_staff_stmt = {
    "record_staff",
    "SELECT r.municipality_ags AS _ags, f.* FROM registry.record r "
    "LEFT JOIN LATERAL registry.read_full($1::bigint, $2, ARRAY[r.record_id]) f ON true "
    "WHERE r.record_id = $3::uuid",
};

/* Maps row 0 to a Record, projects it for the caller and replies. */
static void
records_reply_row(struct req *r, const PGresult *res)
{
	Vacancy__V1__Record *rec;
	char err[256];

	if ((rec = codec_heap.alloc(NULL, sizeof(*rec))) == NULL) {
		req_error(r, 503, "UNAVAILABLE", "out of memory");
		return;
	}
	vacancy__v1__record__init(rec);
	if (pgmap_row(res, 0, &rec->base, &codec_heap, err, sizeof(err)) == -1) {
		protobuf_c_message_free_unpacked(&rec->base, &codec_heap);
		req_error(r, 500, "INTERNAL", "record %s could not be read: %s", r->route.param,
			  err);
		return;
	}
	if (project_record(rec, r->principal.role, &codec_heap) == -1) {
		/* the view let through what the code refuses: fail closed */
		protobuf_c_message_free_unpacked(&rec->base, &codec_heap);
		req_error(r, 404, "NOT_FOUND", "no published record %s", r->route.param);
		return;
	}
	req_reply_msg(r, 200, &rec->base);
	protobuf_c_message_free_unpacked(&rec->base, &codec_heap);
}

static void
records_investor_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg);
		return;
	}
	if (PQntuples(res) == 0) {
		req_error(r, 404, "NOT_FOUND", "no published record %s", r->route.param);
		return;
	}
	records_reply_row(r, res);
}

static void
records_staff_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	int col;

	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg);
		return;
	}
	if (PQntuples(res) == 0) {
		req_error(r, 404, "NOT_FOUND", "no record %s", r->route.param);
		return;
	}
	r->personal = 1;
	col = PQfnumber(res, "record_id");
	if (!scope_covers(r->principal.scope, PQgetvalue(res, 0, 0)) || col < 0 ||
	    PQgetisnull(res, 0, col)) {
		req_error(r, 403, "PERMISSION_DENIED", "record %s lies outside your scope %s",
			  r->route.param, r->principal.scope);
		return;
	}
	records_reply_row(r, res);
}

/* Answers an investor from the read model (1), or 0 when there is none. */
static int
records_from_model(struct req *r)
{
	const struct rm *m = rmsync_model(r->srv->rms);
	const struct rm_entry *e;
	unsigned char id[16];

	if (m == NULL || searchq_uuid_parse(r->route.param, id) == -1)
		return 0;
	rmsync_answered(r->srv->rms);
	if ((e = rm_get(m, id)) == NULL) {
		req_error(r, 404, "NOT_FOUND", "no published record %s", r->route.param);
		return 1;
	}
	if (r->out == CODEC_PROTOBUF) {
		struct buf body;

		buf_init(&body, 0);
		buf_add(&body, e->pb, e->pb_len);
		req_reply(r, 200, CODEC_CT_PROTOBUF, &body);
	} else {
		Vacancy__V1__Record *rec =
		    vacancy__v1__record__unpack(&codec_heap, e->pb_len, e->pb);

		if (rec == NULL)
			return 0;
		req_reply_msg(r, 200, &rec->base);
		protobuf_c_message_free_unpacked(&rec->base, &codec_heap);
	}
	return 1;
}

void
records_get(struct req *r)
{
	char principal[24];
	const char *params[3];

	if (!route_is_uuid(r->route.param)) {
		req_error(r, 400, "INVALID_ARGUMENT", "record_id must be a UUID");
		return;
	}
	if (r->principal.role == ROLE_INVESTOR && records_from_model(r))
		return;
	if (r->principal.role == ROLE_INVESTOR) {
		params[0] = r->route.param;
		if (req_query(r, r->srv->investor, &records_investor_stmt, 1, params,
			      records_investor_cb) == -1)
			return;
		return;
	}
	snprintf(principal, sizeof(principal), "%lld", (long long)r->principal.id);
	params[0] = principal;
	params[1] = "GET /v1/records/{id}";
	params[2] = r->route.param;
	if (req_query(r, r->srv->staff, &records_staff_stmt, 3, params, records_staff_cb) == -1)
		return;
}
