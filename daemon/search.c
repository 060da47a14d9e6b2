/*
 * search: POST /v1/search (SearchRequest) and GET /v1/records?... (the same
 * fields as query parameters) -> SearchResponse. Rules in docs/search.md.
 *
 * Both forms become one SearchRequest; searchq checks it for the caller and
 * writes the page's statement. Investors read through the investor pool,
 * whose role sees only the investor views, and every record is projected
 * again here; staff read full records through registry.read_full(), which
 * logs every record it returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>

#include "handlers.h"
#include "log.h"
#include "pgmap.h"
#include "project.h"
#include "rmsync.h"
#include "search.h"

struct search_ctx {
	struct codec_budget budget; /* the POST body's decoding */
	Vacancy__V1__SearchRequest *req;
	ProtobufCAllocator *req_alloc;
	struct searchq q;
	struct searchq_caller who;
	struct searchq_params params;
};

static void
search_ctx_free(void *arg)
{
	struct search_ctx *c = arg;

	if (c->req != NULL)
		protobuf_c_message_free_unpacked(&c->req->base, c->req_alloc);
	free(c);
}

void
search_reply_error(struct req *r, const struct searchq_err *err)
{
	Vacancy__V1__Error e = VACANCY__V1__ERROR__INIT;
	Vacancy__V1__FieldError fe = VACANCY__V1__FIELD_ERROR__INIT;
	Vacancy__V1__FieldError *list[1] = {&fe};
	const char *code = err->status == 403	? "PERMISSION_DENIED"
			   : err->status == 503 ? "UNAVAILABLE"
						: "INVALID_ARGUMENT";

	fe.field = (char *)err->param;
	fe.code = (char *)code;
	fe.message = (char *)err->message;
	e.has_http_status = 1;
	e.http_status = (uint32_t)err->status;
	e.code = (char *)code;
	e.message = (char *)err->message;
	e.n_field_errors = 1;
	e.field_errors = list;
	e.request_id = r->id;
	req_reply_msg(r, err->status, &e.base);
}

void
search_caller(const struct req *r, struct searchq_caller *who)
{
	who->role = r->principal.role;
	who->scope = r->principal.role == ROLE_INVESTOR ? "" : r->principal.scope;
	who->principal = r->principal.id;
	who->key = r->srv->page_key;
	who->now = time(NULL);
}

struct db_pool *
search_pool(const struct req *r, enum searchq_mode mode)
{
	return mode == SEARCHQ_INVESTOR ? r->srv->investor : r->srv->staff;
}

Vacancy__V1__Record *
search_row_record(const struct req *r, const PGresult *res, int i, int *failed, char *err,
		  size_t errlen)
{
	Vacancy__V1__Record *rec;
	int col = PQfnumber(res, "record_id");

	*failed = 0;
	if (col < 0 || PQgetisnull(res, i, col))
		return NULL; /* no longer visible to the caller */
	if ((rec = codec_heap.alloc(NULL, sizeof(*rec))) == NULL) {
		snprintf(err, errlen, "out of memory");
		*failed = 1;
		return NULL;
	}
	vacancy__v1__record__init(rec);
	if (pgmap_row(res, i, &rec->base, &codec_heap, err, errlen) == -1) {
		protobuf_c_message_free_unpacked(&rec->base, &codec_heap);
		*failed = 1;
		return NULL;
	}
	/* the code's own projection on top of the database's; a record the
	 * code would not show is left out (fail closed) */
	if (project_record(rec, r->principal.role, &codec_heap) == -1) {
		protobuf_c_message_free_unpacked(&rec->base, &codec_heap);
		return NULL;
	}
	return rec;
}

static void
search_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	Vacancy__V1__SearchResponse resp = VACANCY__V1__SEARCH_RESPONSE__INIT;
	struct search_ctx *c = r->ctx;
	int rows, shown, asof_col, k_col, rid_col;
	char err[256], token[128];

	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg);
		return;
	}
	rows = PQntuples(res);
	shown = rows > (int)c->q.page_size ? (int)c->q.page_size : rows;
	asof_col = PQfnumber(res, "_asof");
	k_col = PQfnumber(res, "_k");
	rid_col = PQfnumber(res, "_rid");
	if (shown > 0 && (resp.records = calloc((size_t)shown, sizeof(*resp.records))) == NULL) {
		req_error(r, 503, "UNAVAILABLE", "out of memory");
		return;
	}
	for (int i = 0; i < shown; i++) {
		int failed;
		Vacancy__V1__Record *rec = search_row_record(r, res, i, &failed, err, sizeof(err));

		if (failed) {
			req_error(r, 500, "INTERNAL", "a record could not be read: %s", err);
			goto out;
		}
		if (rec != NULL)
			resp.records[resp.n_records++] = rec;
	}
	if (rows > (int)c->q.page_size) {
		int last = (int)c->q.page_size - 1;

		if (searchq_advance(&c->q, PQgetvalue(res, last, asof_col),
				    PQgetisnull(res, last, k_col) ? NULL
								  : PQgetvalue(res, last, k_col),
				    PQgetvalue(res, last, rid_col)) == -1) {
			req_error(r, 500, "INTERNAL", "the page's position could not be read");
			goto out;
		}
		searchq_token(&c->q, &c->who, token, sizeof(token));
		resp.next_page_token = token;
	}
	req_reply_msg(r, 200, &resp.base);
out:
	for (size_t i = 0; i < resp.n_records; i++)
		protobuf_c_message_free_unpacked(&resp.records[i]->base, &codec_heap);
	free(resp.records);
}

static void
search_varint(struct buf *b, uint64_t v)
{
	do {
		buf_addc(b, (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
		v >>= 7;
	} while (v != 0);
}

/* A length-delimited field of a protobuf message. */
static void
search_pb_field(struct buf *b, unsigned field, const void *data, size_t len)
{
	search_varint(b, (uint64_t)field << 3 | 2);
	search_varint(b, len);
	buf_add(b, data, len);
}

/*
 * Answers c's search from the read model when it can (1), else 0 (SQL
 * answers). The protobuf answer is put together from the records' stored
 * encodings; JSON decodes them.
 */
static int
search_from_model(struct req *r, struct search_ctx *c)
{
	const struct rm *m = rmsync_model(r->srv->rms);
	Vacancy__V1__SearchResponse resp = VACANCY__V1__SEARCH_RESPONSE__INIT;
	const struct rm_entry **hits;
	char token[128] = "";
	int64_t asof;
	int n, shown;

	if (m == NULL || !rm_supports(m, &c->q))
		return 0;
	asof = c->q.has_cursor ? c->q.asof : rm_exact_now(m);
	if ((hits = calloc(c->q.page_size + 1, sizeof(*hits))) == NULL ||
	    (n = rm_search(m, &c->q, asof, hits, c->q.page_size + 1)) < 0) {
		free(hits);
		return 0;
	}
	rmsync_answered(r->srv->rms);
	shown = n > (int)c->q.page_size ? (int)c->q.page_size : n;
	if (n > (int)c->q.page_size) {
		const struct rm_entry *last = hits[shown - 1];
		char kb[48], id[37], at[24];

		searchq_uuid_text(last->k.id, id);
		snprintf(at, sizeof(at), "%lld", (long long)asof);
		if (searchq_advance(&c->q, at, rm_key_text(last, c->q.sort, kb, sizeof(kb)), id) ==
		    0)
			searchq_token(&c->q, &c->who, token, sizeof(token));
	}
	if (r->out == CODEC_PROTOBUF) {
		struct buf body;

		buf_init(&body, 0);
		for (int i = 0; i < shown; i++) {
			const struct rm_entry *now = rm_get(m, hits[i]->k.id);

			if (now != NULL) /* else no longer published: left out */
				search_pb_field(&body, 1, now->pb, now->pb_len);
		}
		if (token[0] != '\0')
			search_pb_field(&body, 2, token, strlen(token));
		free(hits);
		req_reply(r, 200, CODEC_CT_PROTOBUF, &body);
		return 1;
	}
	if (shown > 0 && (resp.records = calloc((size_t)shown, sizeof(*resp.records))) == NULL) {
		free(hits);
		return 0;
	}
	for (int i = 0; i < shown; i++) {
		const struct rm_entry *now = rm_get(m, hits[i]->k.id);
		Vacancy__V1__Record *rec;

		if (now == NULL)
			continue;
		rec = vacancy__v1__record__unpack(&codec_heap, now->pb_len, now->pb);
		if (rec != NULL)
			resp.records[resp.n_records++] = rec;
	}
	if (token[0] != '\0')
		resp.next_page_token = token;
	free(hits);
	req_reply_msg(r, 200, &resp.base);
	for (size_t i = 0; i < resp.n_records; i++)
		protobuf_c_message_free_unpacked(&resp.records[i]->base, &codec_heap);
	free(resp.records);
	return 1;
}

/* Checks the request of c and runs its page's statement. */
static void
search_run(struct req *r, struct search_ctx *c)
{
	const struct config *cfg = r->srv->cfg;
	struct searchq_limits lim = {cfg->max_page_size, cfg->max_search_radius_m,
				     cfg->page_token_ttl_s};
	enum searchq_mode mode =
	    r->principal.role == ROLE_INVESTOR ? SEARCHQ_INVESTOR : SEARCHQ_STAFF_FULL;
	struct searchq_err err;
	struct db_stmt stmt = {NULL, NULL};
	struct buf sql;
	int n;

	search_caller(r, &c->who);
	if (searchq_check(c->req, &lim, &c->who, mode, &c->q, &err) == -1) {
		search_reply_error(r, &err);
		return;
	}
	r->personal = mode == SEARCHQ_STAFF_FULL;
	if (mode == SEARCHQ_INVESTOR && search_from_model(r, c))
		return;
	buf_init(&sql, 0);
	if ((n = searchq_sql(&c->q, &sql, &c->params)) == -1) {
		buf_free(&sql);
		req_error(r, 503, "UNAVAILABLE", "out of memory");
		return;
	}
	buf_addc(&sql, '\0');
	stmt.sql = sql.data;
	log_debug("req %s: %s", r->id, sql.data);
	if (req_query(r, search_pool(r, mode), &stmt, n, c->params.v, search_cb) == -1) {
		buf_free(&sql);
		return;
	}
	buf_free(&sql); /* the pool keeps its own copy */
}

static struct search_ctx *
search_ctx_new(struct req *r)
{
	struct search_ctx *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		req_error(r, 503, "UNAVAILABLE", "out of memory");
		return NULL;
	}
	r->ctx = c;
	r->ctx_free = search_ctx_free;
	return c;
}

void
search_get(struct req *r)
{
	const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->evreq));
	struct searchq_err err;
	struct search_ctx *c;

	if ((c = search_ctx_new(r)) == NULL)
		return;
	c->req_alloc = &codec_heap;
	if ((c->req = searchq_parse(qs, 0, &codec_heap, &err)) == NULL) {
		search_reply_error(r, &err);
		return;
	}
	search_run(r, c);
}

void
search_post(struct req *r)
{
	const struct config *cfg = r->srv->cfg;
	enum codec_format in;
	struct search_ctx *c;
	const uint8_t *body;
	size_t len;
	char err[256];

	if (codec_format_from_content_type(req_header(r, "Content-Type"), &in) == -1) {
		req_error(r, 415, "UNSUPPORTED_MEDIA_TYPE",
			  "send the SearchRequest as application/x-protobuf or application/json");
		return;
	}
	if ((c = search_ctx_new(r)) == NULL)
		return;
	body = req_body(r, &len);
	codec_budget_init(&c->budget, len * (size_t)cfg->decode_budget_factor + 65536);
	c->req_alloc = &c->budget.alloc;
	c->req = (Vacancy__V1__SearchRequest *)codec_decode(
	    &vacancy__v1__search_request__descriptor, in, body, len, &c->budget,
	    (unsigned)cfg->max_json_depth, 1, err, sizeof(err));
	if (c->req == NULL) {
		req_error(r, c->budget.exhausted ? 413 : 400,
			  c->budget.exhausted ? "PAYLOAD_TOO_LARGE" : "INVALID_ARGUMENT",
			  "the body is not a SearchRequest: %s", err);
		return;
	}
	search_run(r, c);
}
