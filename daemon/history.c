/*
 * history: GET /v1/records/{record_id}/history, the audit trail of one
 * record for the municipality that owns it and the county: who changed what,
 * when, in which transfer, old -> new per field. PERSONAL values come
 * through registry.read_history(), which logs their reading.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "pgmap.h"

/* One row per history entry, or one row of NULLs when there is none; _ags
 * tells an out-of-scope record (403) from a missing one (404, no rows). */
static const struct db_stmt history_stmt = {
    "record_history",
    "SELECT r.municipality_ags AS _ags, h.* FROM registry.record r "
    "LEFT JOIN LATERAL registry.read_history($1::bigint, $2, r.record_id) h ON true "
    "WHERE r.record_id = $3::uuid",
};

static void
history_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	Vacancy__V1__History h = VACANCY__V1__HISTORY__INIT;
	Vacancy__V1__HistoryEntry **entries = NULL;
	int rows, col;
	char err[256];

	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg);
		return;
	}
	if ((rows = PQntuples(res)) == 0) {
		req_error(r, 404, "NOT_FOUND", "no record %s", r->route.param);
		return;
	}
	if (!scope_covers(r->principal.scope, PQgetvalue(res, 0, 0))) {
		req_error(r, 403, "PERMISSION_DENIED", "record %s lies outside your scope %s",
			  r->route.param, r->principal.scope);
		return;
	}
	r->personal = 1;
	col = PQfnumber(res, "changed_at");
	if (rows == 1 && PQgetisnull(res, 0, col))
		rows = 0;
	if (rows > 0 && (entries = calloc((size_t)rows, sizeof(*entries))) == NULL) {
		req_error(r, 503, "UNAVAILABLE", "out of memory");
		return;
	}
	h.record_id = r->route.param;
	h.entries = entries;
	for (int i = 0; i < rows; i++) {
		if ((entries[i] = calloc(1, sizeof(**entries))) == NULL)
			goto nomem;
		h.n_entries++;
		vacancy__v1__history_entry__init(entries[i]);
		if (pgmap_row(res, i, &entries[i]->base, &codec_heap, err, sizeof(err)) == -1) {
			req_error(r, 500, "INTERNAL", "history of %s could not be read: %s",
				  r->route.param, err);
			goto out;
		}
	}
	req_reply_msg(r, 200, &h.base);
	goto out;
nomem:
	req_error(r, 503, "UNAVAILABLE", "out of memory");
out:
	for (size_t i = 0; i < h.n_entries; i++)
		protobuf_c_message_free_unpacked(&entries[i]->base, &codec_heap);
	free(entries);
}

void
history_get(struct req *r)
{
	char principal[24];
	const char *params[3];

	if (!route_is_uuid(r->route.param)) {
		req_error(r, 400, "INVALID_ARGUMENT", "record_id must be a UUID");
		return;
	}
	snprintf(principal, sizeof(principal), "%lld", (long long)r->principal.id);
	params[0] = principal;
	params[1] = "GET /v1/records/{id}/history";
	params[2] = r->route.param;
	if (req_query(r, r->srv->staff, &history_stmt, 3, params, history_cb) == -1)
		return;
}
