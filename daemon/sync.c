/*
 * sync: POST /v1/sync, a municipality's transfer of upserts and withdrawals
 * (docs/sync.md). Decode (strict, within the body and memory budgets) ->
 * authorise (own AGS) -> limit (max_sync_records) -> validate every field of
 * every record (validate.c) -> the changes in their stored shape (syncrow.c)
 * -> one statement, registry.apply_transfer(), in
 * one transaction -> SyncResponse. The daemon never applies part of a
 * transfer: the database either commits all of it or nothing.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "handlers.h"
#include "json.h"
#include "log.h"
#include "rmsync.h"
#include "syncrow.h"
#include "validate.h"

/* Transfers with at least this many changes return freed memory to the system. */
#define SYNC_TRIM_CHANGES 1000

/* What a transfer needs while the database works on it; freed with the req. */
struct sync_ctx {
	struct codec_budget budget;
	Vacancy__V1__SyncRequest *req; /* owned, from budget */
	int validate_only;
	/* the answer, held while the read model catches up with the commit */
	Vacancy__V1__SyncResponse *resp;
	struct req *r;
	struct rmsync *rms;
};

static const struct db_stmt sync_stmt = {
    "sync_apply",
    "SELECT registry.apply_transfer($1::bigint, $2, $3, $4, $5, $6::boolean, $7::bytea, "
    "$8::registry.sync_change[])",
};

static void
sync_ctx_free(void *p)
{
	struct sync_ctx *c = p;
	int large = c->req != NULL && c->req->n_changes >= SYNC_TRIM_CHANGES;

	if (c->resp != NULL) {
		rmsync_forget(c->rms, c->r);
		protobuf_c_message_free_unpacked(&c->resp->base, &codec_heap);
	}
	if (c->req != NULL)
		protobuf_c_message_free_unpacked(&c->req->base, &c->budget.alloc);
	free(c);
	/*
	 * A large transfer's buffers (its body, the decoded request, the JSON for
	 * the database: tens of MB) leave free holes that glibc keeps: a daemon
	 * that took in a million records stood at 357 MB where a fresh one holds
	 * the same data in 272. Give the free pages back.
	 */
	if (large)
		malloc_trim(0);
}

/* Replies 422 with every error (nothing was written). Frees nothing else. */
static void
sync_reply_invalid(struct req *r, Vacancy__V1__FieldError **errs, size_t n, size_t dropped,
		   uint32_t rejected, size_t changes)
{
	Vacancy__V1__Error e = VACANCY__V1__ERROR__INIT;
	char message[256];

	snprintf(message, sizeof(message), "%u of %zu changes rejected%s; nothing was applied",
		 rejected, changes, dropped ? " (the list is cut at the first errors)" : "");
	e.has_http_status = 1;
	e.http_status = 422;
	e.code = "INVALID_ARGUMENT";
	e.message = message;
	e.request_id = r->id;
	e.n_field_errors = n;
	e.field_errors = errs;
	req_reply_msg(r, 422, &e.base);
}

/* The read model shows the transfer (or read_model_wait_ms passed). */
static void
sync_reply_held(struct req *r)
{
	struct sync_ctx *c = r->ctx;
	Vacancy__V1__SyncResponse *resp = c->resp;

	c->resp = NULL;
	req_reply_msg(r, 200, &resp->base);
	protobuf_c_message_free_unpacked(&resp->base, &codec_heap);
}

/* The database answered: a SyncResponse as JSON, or an error. */
static void
sync_applied_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	struct sync_ctx *c = r->ctx;
	Vacancy__V1__SyncResponse *resp;
	const char *state;
	char err[256], esc[160];

	if (st == DB_ERROR && (state = PQresultErrorField(res, PG_DIAG_SQLSTATE)) != NULL) {
		if (strcmp(state, "VY409") == 0) {
			req_error(r, 409, "CONFLICT",
				  "transfer_id %s was applied before with other content; a new "
				  "transfer needs a new transfer_id",
				  log_escape(c->req->transfer_id, 64, esc, sizeof(esc)));
			return;
		}
		if (strcmp(state, "VY403") == 0) {
			req_error(r, 403, "PERMISSION_DENIED", "you may not sync municipality %s",
				  c->req->municipality_ags);
			return;
		}
	}
	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg);
		return;
	}
	resp = (Vacancy__V1__SyncResponse *)json_decode(
	    &vacancy__v1__sync_response__descriptor, PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0), &codec_heap, 0, err, sizeof(err));
	if (resp == NULL) {
		req_error(r, 500, "INTERNAL", "the database's answer could not be read: %s", err);
		return;
	}
	if (resp->rejected > 0 && !c->validate_only) {
		sync_reply_invalid(r, resp->errors, resp->n_errors, 0, resp->rejected,
				   c->req->n_changes);
	} else {
		if (!resp->has_replayed || !resp->replayed)
			log_info(
			    "req %s: sync %s transfer %s: %u created, %u updated, %u unchanged, "
			    "%u withdrawn, %u stale%s",
			    r->id, c->req->municipality_ags,
			    log_escape(c->req->transfer_id, 64, esc, sizeof(esc)), resp->created,
			    resp->updated, resp->unchanged, resp->withdrawn, resp->stale,
			    c->validate_only ? " (validate only)" : "");
		/* its author's next search on this daemon sees the transfer */
		if (!c->validate_only && (resp->created || resp->updated || resp->withdrawn)) {
			c->resp = resp;
			c->r = r;
			c->rms = r->srv->rms;
			if (rmsync_wait(c->rms, r, sync_reply_held) == 0)
				return;
			c->resp = NULL;
		}
		req_reply_msg(r, 200, &resp->base);
	}
	protobuf_c_message_free_unpacked(&resp->base, &codec_heap);
}

/*
 * The changes for registry.apply_transfer() (syncrow.h), each upsert with
 * the id its record gets if it is created. NULL when out of memory or
 * without randomness.
 */
static char *
sync_changes_literal(Vacancy__V1__SyncRequest *req)
{
	char(*ids)[SYNCROW_UUID_LEN] = NULL;
	unsigned char *rnd = NULL;
	struct timespec now;
	uint64_t ms;
	struct buf b;
	size_t n = req->n_changes;

	buf_init(&b, 0);
	if (clock_gettime(CLOCK_REALTIME, &now) == -1)
		now = (struct timespec){time(NULL), 0};
	ms = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
	if (n > 0) {
		if ((ids = malloc(n * sizeof(*ids))) == NULL || (rnd = malloc(n * 10)) == NULL ||
		    RAND_bytes(rnd, (int)(n * 10)) != 1)
			goto fail;
		for (size_t i = 0; i < n; i++)
			syncrow_uuid7(ms, rnd + 10 * i, ids[i]);
	}
	if (syncrow_encode(req, ids, &b) == -1)
		goto fail;
	free(ids);
	free(rnd);
	return buf_detach(&b, NULL);
fail:
	free(ids);
	free(rnd);
	buf_free(&b);
	return NULL;
}

/*
 * SHA-256 of the transfer's canonical protobuf form without validate_only,
 * in the bytea text form "\x...": the same transfer sent as JSON or as
 * protobuf has the same digest. 0 or -1.
 */
static int
sync_digest(Vacancy__V1__SyncRequest *req, char out[TOKEN_BYTEA_LEN])
{
	protobuf_c_boolean had = req->has_validate_only, v = req->validate_only;
	unsigned char md[TOKEN_HASH_LEN];
	unsigned int mdlen = sizeof(md);
	size_t n;
	uint8_t *packed;

	req->has_validate_only = 0;
	n = protobuf_c_message_get_packed_size(&req->base);
	if ((packed = malloc(n ? n : 1)) == NULL) {
		req->has_validate_only = had;
		return -1;
	}
	protobuf_c_message_pack(&req->base, packed);
	req->has_validate_only = had;
	req->validate_only = v;
	EVP_Digest(packed, n, md, &mdlen, EVP_sha256(), NULL);
	free(packed);
	token_bytea(md, out);
	return 0;
}

void
sync_post(struct req *r)
{
	const struct config *cfg = r->srv->cfg;
	struct validate_errors errs;
	struct validate_ctx vctx;
	struct sync_ctx *c;
	enum codec_format in;
	const uint8_t *body;
	size_t len;
	char err[256], principal[24], digest[TOKEN_BYTEA_LEN], *changes;
	const char *params[8];
	Vacancy__V1__SyncRequest *req;

	if (codec_format_from_content_type(req_header(r, "Content-Type"), &in) == -1) {
		req_error(r, 415, "UNSUPPORTED_MEDIA_TYPE",
			  "send the transfer as application/x-protobuf or application/json");
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		req_error(r, 503, "UNAVAILABLE", "out of memory");
		return;
	}
	r->ctx = c;
	r->ctx_free = sync_ctx_free;
	body = req_body(r, &len);
	codec_budget_init(&c->budget, len * (size_t)cfg->decode_budget_factor + 65536);
	c->req = (Vacancy__V1__SyncRequest *)codec_decode(
	    &vacancy__v1__sync_request__descriptor, in, body, len, &c->budget,
	    (unsigned)cfg->max_json_depth, 1, err, sizeof(err));
	if ((req = c->req) == NULL) {
		req_error(r, c->budget.exhausted ? 413 : 400,
			  c->budget.exhausted ? "PAYLOAD_TOO_LARGE" : "INVALID_ARGUMENT",
			  "the body is not a SyncRequest: %s", err);
		return;
	}
	if (req->municipality_ags == NULL ||
	    strcmp(req->municipality_ags, r->principal.scope) != 0) {
		req_error(r, 403, "PERMISSION_DENIED",
			  "this token may sync municipality %s only; nothing was written",
			  r->principal.scope);
		return;
	}
	if (req->n_changes > (size_t)cfg->max_sync_records) {
		req_error(r, 413, "PAYLOAD_TOO_LARGE",
			  "the transfer has %zu changes; max_sync_records = %d: split it",
			  req->n_changes, cfg->max_sync_records);
		return;
	}
	c->validate_only = req->has_validate_only && req->validate_only;
	validate_ctx_now(&vctx, r->principal.scope, (size_t)cfg->max_sync_records);
	validate_errors_init(&errs, (size_t)cfg->max_sync_errors);
	validate_transfer(req, &vctx, &errs);
	validate_errors_close(&errs, "max_sync_errors");
	if (errs.n > 0 || errs.dropped > 0) {
		if (c->validate_only) {
			Vacancy__V1__SyncResponse resp = VACANCY__V1__SYNC_RESPONSE__INIT;

			resp.transfer_id = req->transfer_id;
			resp.has_rejected = 1;
			resp.rejected = errs.rejected;
			resp.has_validate_only = 1;
			resp.validate_only = 1;
			resp.n_errors = errs.n;
			resp.errors = errs.items;
			req_reply_msg(r, 200, &resp.base);
		} else {
			sync_reply_invalid(r, errs.items, errs.n, errs.dropped, errs.rejected,
					   req->n_changes);
		}
		validate_errors_free(&errs);
		return;
	}
	validate_errors_free(&errs);
	if ((changes = sync_changes_literal(req)) == NULL || sync_digest(req, digest) == -1) {
		free(changes);
		req_error(r, 503, "UNAVAILABLE",
			  "the transfer could not be prepared (out of memory or no randomness)");
		return;
	}
	snprintf(principal, sizeof(principal), "%lld", (long long)r->principal.id);
	params[0] = principal;
	params[1] = req->municipality_ags;
	params[2] = req->transfer_id;
	params[3] = req->scope == VACANCY__V1__SYNC_SCOPE__VALUE__FULL ? "FULL" : "PARTIAL";
	params[4] = req->full_session;
	params[5] = c->validate_only ? "true" : "false";
	params[6] = digest;
	params[7] = changes;
	/* the pool copies the parameters */
	if (req_query(r, r->srv->staff, &sync_stmt, 8, params, sync_applied_cb) == -1) {
		free(changes);
		return;
	}
	free(changes);
}
