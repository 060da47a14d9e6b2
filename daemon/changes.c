/*
 * changes: GET /v1/changes?after=CURSOR&limit=N, the change feed for
 * mirrors (ChangeBatch). Every role gets the public projection: the feed is
 * read through the investor pool, whose database role sees only
 * investor.changes and investor.published_record. The cursor is the feed's
 * sequence number, opaque to clients; feed rows are numbered in commit
 * order (003), so a cursor never skips a change that commits late.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "handlers.h"
#include "log.h"
#include "pgmap.h"
#include "project.h"

#define CHANGES_DEFAULT_LIMIT 100

static const struct db_stmt changes_stmt = {
    "changes",
    "SELECT c.seq AS _seq, c.record_id AS _rid, p.* FROM investor.changes c "
    "LEFT JOIN investor.published_record p ON p.record_id = c.record_id "
    "WHERE c.seq > $1::bigint ORDER BY c.seq LIMIT $2::int",
};

/* The request's cursor, for next_cursor when the page is empty. */
struct changes_ctx {
	char after[24];
};

static void
changes_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	Vacancy__V1__ChangeBatch batch = VACANCY__V1__CHANGE_BATCH__INIT;
	struct changes_ctx *c = r->ctx;
	Vacancy__V1__Change **items = NULL;
	int rows, seq_col, rid_col, id_col;
	char err[256];

	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg);
		return;
	}
	rows = PQntuples(res);
	seq_col = PQfnumber(res, "_seq");
	rid_col = PQfnumber(res, "_rid");
	id_col = PQfnumber(res, "record_id");
	if (rows > 0 && (items = calloc((size_t)rows, sizeof(*items))) == NULL)
		goto nomem;
	batch.changes = items;
	for (int i = 0; i < rows; i++) {
		Vacancy__V1__Change *ch;

		if ((ch = calloc(1, sizeof(*ch))) == NULL)
			goto nomem;
		vacancy__v1__change__init(ch);
		items[batch.n_changes++] = ch;
		ch->cursor = strdup(PQgetvalue(res, i, seq_col));
		ch->record_id = strdup(PQgetvalue(res, i, rid_col));
		if (ch->cursor == NULL || ch->record_id == NULL)
			goto nomem;
		ch->has_kind = 1;
		if (PQgetisnull(res, i, id_col)) {
			ch->kind = VACANCY__V1__CHANGE_KIND__VALUE__WITHDRAW;
			continue;
		}
		ch->kind = VACANCY__V1__CHANGE_KIND__VALUE__UPSERT;
		if ((ch->record = calloc(1, sizeof(*ch->record))) == NULL)
			goto nomem;
		vacancy__v1__record__init(ch->record);
		if (pgmap_row(res, i, &ch->record->base, &codec_heap, err, sizeof(err)) == -1) {
			req_error(r, 500, "INTERNAL", "the feed could not be read: %s", err);
			goto out;
		}
		/* the code's own projection on top of the view's */
		if (project_record(ch->record, ROLE_INVESTOR, &codec_heap) == -1) {
			protobuf_c_message_free_unpacked(&ch->record->base, &codec_heap);
			ch->record = NULL;
			ch->kind = VACANCY__V1__CHANGE_KIND__VALUE__WITHDRAW;
		}
	}
	batch.next_cursor = rows > 0 ? items[rows - 1]->cursor : c->after;
	req_reply_msg(r, 200, &batch.base);
	goto out;
nomem:
	req_error(r, 503, "UNAVAILABLE", "out of memory");
out:
	for (size_t i = 0; i < batch.n_changes; i++)
		protobuf_c_message_free_unpacked(&items[i]->base, &codec_heap);
	free(items);
}

/* 1 when s is a decimal number without sign of at most 18 digits. */
static int
changes_number(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 18)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

void
changes_get(struct req *r)
{
	const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->evreq));
	const char *after = NULL, *limit = NULL, *params[2];
	struct evkeyvalq kv;
	struct evkeyval *e;
	struct changes_ctx *c;
	char lim[16], esc[64];
	long n = CHANGES_DEFAULT_LIMIT;

	TAILQ_INIT(&kv);
	if (qs != NULL && evhttp_parse_query_str(qs, &kv) == -1) {
		req_error(r, 400, "INVALID_ARGUMENT", "the query string is malformed");
		return;
	}
	TAILQ_FOREACH(e, &kv, next)
	{
		const char **slot = strcmp(e->key, "after") == 0   ? &after
				    : strcmp(e->key, "limit") == 0 ? &limit
								   : NULL;

		if (slot == NULL || *slot != NULL) {
			req_error(r, 400, "INVALID_ARGUMENT", "%s parameter '%s'",
				  slot ? "repeated" : "unknown",
				  log_escape(e->key, 40, esc, sizeof(esc)));
			evhttp_clear_headers(&kv);
			return;
		}
		*slot = e->value;
	}
	if (after != NULL && !changes_number(after)) {
		req_error(r, 400, "INVALID_ARGUMENT",
			  "after must be a cursor from an earlier batch");
		evhttp_clear_headers(&kv);
		return;
	}
	if (limit != NULL &&
	    (!changes_number(limit) || (n = atol(limit)) < 1 || n > r->srv->cfg->max_page_size)) {
		req_error(r, 400, "INVALID_ARGUMENT", "limit must be 1..%d (max_page_size)",
			  r->srv->cfg->max_page_size);
		evhttp_clear_headers(&kv);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		evhttp_clear_headers(&kv);
		req_error(r, 503, "UNAVAILABLE", "out of memory");
		return;
	}
	snprintf(c->after, sizeof(c->after), "%s", after ? after : "0");
	evhttp_clear_headers(&kv);
	r->ctx = c;
	r->ctx_free = free;
	snprintf(lim, sizeof(lim), "%ld", n);
	params[0] = c->after;
	params[1] = lim;
	if (req_query(r, r->srv->investor, &changes_stmt, 2, params, changes_cb) == -1)
		return;
}
