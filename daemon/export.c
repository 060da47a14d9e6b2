/*
 * export: GET /v1/export.geojson?<search filters and sort>, the search as an
 * RFC 7946 FeatureCollection of PUBLIC fields (docs/search.md).
 *
 * Streamed: the count is checked against max_export_records first (a clear
 * 400 while one is still possible), then the reply starts and the records
 * are read page by page, each page sent as one chunk and the next one read
 * only when that chunk has been written to the socket, so that a slow
 * client holds one page in memory, not the export. The pages are one stable
 * walk (pinned to the feed position of the first). An error after the
 * headers can only cut the stream: the client sees an incomplete chunked
 * body, never a short one that looks whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "handlers.h"
#include "json.h"
#include "log.h"
#include "search.h"

struct export_ctx {
	Vacancy__V1__SearchRequest *req;
	struct searchq q;
	struct searchq_caller who;
	struct searchq_params params;
	enum searchq_mode mode;
	struct buf out;
	long sent;
};

static void export_page(struct req *r);

static void
export_ctx_free(void *arg)
{
	struct export_ctx *c = arg;

	if (c->req != NULL)
		protobuf_c_message_free_unpacked(&c->req->base, &codec_heap);
	buf_free(&c->out);
	free(c);
}

/* One Feature: id, Point geometry, the record's JSON without its location. */
static int
export_feature(struct buf *out, Vacancy__V1__Record *rec, int first)
{
	Vacancy__V1__LatLon *loc = rec->location;

	buf_adds(out, first ? "\n" : ",\n");
	buf_adds(out, "{\"type\":\"Feature\",\"id\":");
	json_add_string(out, rec->record_id, strlen(rec->record_id));
	if (loc != NULL && loc->has_lat && loc->has_lon)
		buf_printf(out, ",\"geometry\":{\"type\":\"Point\",\"coordinates\":[%.7f,%.7f]}",
			   loc->lon, loc->lat);
	else
		buf_adds(out, ",\"geometry\":null");
	buf_adds(out, ",\"properties\":");
	rec->location = NULL;
	if (json_encode(&rec->base, out, 0) == -1) {
		rec->location = loc;
		return -1;
	}
	rec->location = loc;
	buf_adds(out, "}");
	return buf_failed(out) ? -1 : 0;
}

static void
export_drained(struct req *r)
{
	export_page(r);
}

static void
export_page_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	struct export_ctx *c = r->ctx;
	int rows, shown;
	char err[256];

	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg); /* cuts the stream */
		return;
	}
	/* the headers go out with the first page, as one write: a reply
	 * whose headers were flushed alone and whose body followed from a
	 * later callback sometimes sat unsent in bufferevent_openssl */
	if (r->state != REQ_STREAMING)
		req_stream_start(r, "application/geo+json");
	rows = PQntuples(res);
	shown = rows > (int)c->q.page_size ? (int)c->q.page_size : rows;
	for (int i = 0; i < shown; i++) {
		int failed;
		Vacancy__V1__Record *rec = search_row_record(r, res, i, &failed, err, sizeof(err));

		if (failed) {
			req_stream_abort(r, err);
			return;
		}
		if (rec == NULL)
			continue;
		if (export_feature(&c->out, rec, c->sent == 0) == -1) {
			protobuf_c_message_free_unpacked(&rec->base, &codec_heap);
			req_stream_abort(r, "out of memory");
			return;
		}
		protobuf_c_message_free_unpacked(&rec->base, &codec_heap);
		c->sent++;
	}
	if (rows <= (int)c->q.page_size) {
		buf_adds(&c->out, "\n]}\n");
		if (req_stream_chunk(r, &c->out, NULL) == 0)
			req_stream_end(r);
		return;
	}
	if (searchq_advance(&c->q, PQgetvalue(res, shown - 1, PQfnumber(res, "_asof")),
			    PQgetisnull(res, shown - 1, PQfnumber(res, "_k"))
				? NULL
				: PQgetvalue(res, shown - 1, PQfnumber(res, "_k")),
			    PQgetvalue(res, shown - 1, PQfnumber(res, "_rid"))) == -1) {
		req_stream_abort(r, "the page's position could not be read");
		return;
	}
	/* the next page is read once this one is on its way; a page whose
	 * records all became invisible meanwhile has nothing to wait for */
	if (c->out.len == 0)
		export_page(r);
	else
		(void)req_stream_chunk(r, &c->out, export_drained);
}

/* Reads the next page of the walk. */
static void
export_page(struct req *r)
{
	struct export_ctx *c = r->ctx;
	struct db_stmt stmt = {NULL, NULL};
	struct buf sql;
	int n;

	buf_init(&sql, 0);
	if ((n = searchq_sql(&c->q, &sql, &c->params)) == -1) {
		buf_free(&sql);
		req_stream_abort(r, "out of memory");
		return;
	}
	buf_addc(&sql, '\0');
	stmt.sql = sql.data;
	if (req_query(r, search_pool(r, c->mode), &stmt, n, c->params.v, export_page_cb) == -1) {
		buf_free(&sql); /* req_query replied (which cut the stream) */
		return;
	}
	buf_free(&sql);
}

static void
export_count_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	struct export_ctx *c = r->ctx;
	long n;

	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg);
		return;
	}
	n = atol(PQgetvalue(res, 0, 0));
	if (n > r->srv->cfg->max_export_records) {
		struct searchq_err err = {400, "query", ""};

		snprintf(err.message, sizeof(err.message),
			 "query: more than %d records match (max_export_records): narrow the "
			 "filters",
			 r->srv->cfg->max_export_records);
		search_reply_error(r, &err);
		return;
	}
	buf_adds(&c->out, "{\"type\":\"FeatureCollection\",\"features\":[");
	export_page(r);
}

void
export_get(struct req *r)
{
	const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->evreq));
	const struct config *cfg = r->srv->cfg;
	struct searchq_limits lim = {cfg->max_page_size, cfg->max_search_radius_m,
				     cfg->page_token_ttl_s};
	struct db_stmt stmt = {NULL, NULL};
	struct searchq_err err;
	struct export_ctx *c;
	struct buf sql;
	int n;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		req_error(r, 503, "UNAVAILABLE", "out of memory");
		return;
	}
	buf_init(&c->out, 0);
	r->ctx = c;
	r->ctx_free = export_ctx_free;
	c->mode = r->principal.role == ROLE_INVESTOR ? SEARCHQ_INVESTOR : SEARCHQ_STAFF_PUBLIC;
	if ((c->req = searchq_parse(qs, 1, &codec_heap, &err)) == NULL) {
		search_reply_error(r, &err);
		return;
	}
	search_caller(r, &c->who);
	if (searchq_check(c->req, &lim, &c->who, c->mode, &c->q, &err) == -1) {
		search_reply_error(r, &err);
		return;
	}
	c->q.page_size = (uint32_t)cfg->max_page_size; /* records per chunk */
	buf_init(&sql, 0);
	if ((n = searchq_count_sql(&c->q, (long)cfg->max_export_records + 1, &sql, &c->params)) ==
	    -1) {
		buf_free(&sql);
		req_error(r, 503, "UNAVAILABLE", "out of memory");
		return;
	}
	buf_addc(&sql, '\0');
	stmt.sql = sql.data;
	if (req_query(r, search_pool(r, c->mode), &stmt, n, c->params.v, export_count_cb) == -1) {
		buf_free(&sql);
		return;
	}
	buf_free(&sql);
}
