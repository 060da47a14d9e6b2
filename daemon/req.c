/*
 * req: request lifecycle, limits, negotiation, deadline, error model.
 */
#include "req.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/rand.h>

#include "auth.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"

#define ROLES_STAFF (1u << ROLE_MUNICIPALITY | 1u << ROLE_COUNTY)
#define ROLES_ALL   (ROLES_STAFF | 1u << ROLE_INVESTOR)

/* What each route needs before its handler runs. */
struct req_endpoint {
	enum route_id id;
	void (*handler)(struct req *r);
	unsigned roles; /* 0: no authentication */
	int sync_body;	/* 1: max_sync_body_bytes applies, else max_body_bytes */
};

static const struct req_endpoint req_endpoints[] = {
    {ROUTE_HEALTHZ, health_get, 0, 0},
    {ROUTE_METRICS, metrics_get, 0, 0},
    {ROUTE_RECORD_GET, records_get, ROLES_ALL, 0},
    {ROUTE_RECORD_HISTORY, history_get, ROLES_STAFF, 0},
    {ROUTE_SYNC, sync_post, 1u << ROLE_MUNICIPALITY, 1},
    {ROUTE_OVERVIEW, overview_get, ROLES_STAFF, 0},
    {ROUTE_MUNICIPALITIES, municipalities_get, 1u << ROLE_COUNTY, 0},
    {ROUTE_CHANGES, changes_get, ROLES_ALL, 0},
    {ROUTE_SEARCH_GET, search_get, ROLES_ALL, 0},
    {ROUTE_SEARCH_POST, search_post, ROLES_ALL, 0},
    {ROUTE_EXPORT, export_get, ROLES_ALL, 0},
};

static const struct req_endpoint *
req_endpoint(enum route_id id)
{
	for (size_t i = 0; i < sizeof(req_endpoints) / sizeof(req_endpoints[0]); i++)
		if (req_endpoints[i].id == id)
			return &req_endpoints[i];
	return NULL;
}

static const char *const req_state_names[] = {"routing", "auth", "handler", "streaming", "done"};

/* The one place a request changes state. */
static void
req_set_state(struct req *r, enum req_state st)
{
	log_debug("req %s: %s -> %s", r->id, req_state_names[r->state], req_state_names[st]);
	r->state = st;
}

static double
req_elapsed(const struct req *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - r->started.tv_sec) +
	       (double)(now.tv_nsec - r->started.tv_nsec) / 1e9;
}

static void req_free(struct req *r);

/* Called by evhttp when the client's connection closes before our reply. */
static void
req_conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct req *r = arg;

	(void)evcon;
	log_debug("req %s: client went away", r->id);
	if (r->state == REQ_STREAMING) {
		/* evhttp has detached the request; ending it frees it */
		metrics_observe(r->srv->metrics, r->route.id, 499, req_elapsed(r));
		evhttp_send_reply_end(r->evreq);
		req_free(r);
		return;
	}
	/* The evhttp_request survives without its connection until we answer;
	 * answering now frees it and cancels the query. */
	req_error(r, 499, "CANCELLED", "client closed the connection");
}

/* Frees r after its reply; cancels a pending query first. */
static void
req_free(struct req *r)
{
	struct server *srv = r->srv;

	if (r->query != NULL) {
		db_query_cancel(r->query);
		r->query = NULL;
	}
	if (r->deadline != NULL)
		event_free(r->deadline);
	if (r->ctx != NULL && r->ctx_free != NULL)
		r->ctx_free(r->ctx);
	free(r);
	server_request_done(srv);
}

static void
req_body_cleanup_cb(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

void
req_reply(struct req *r, int status, const char *content_type, struct buf *body)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->evreq);
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->evreq);
	struct evbuffer *eb = NULL;

	if (r->state == REQ_STREAMING) {
		/* the status line is out: an error can only cut the stream */
		if (body)
			buf_free(body);
		req_stream_abort(r, "an error after the stream began");
		return;
	}
	if (r->state == REQ_DONE) {
		/* a programming error: two replies for one request */
		log_warnx("req %s: second reply (%d) ignored", r->id, status);
		if (body)
			buf_free(body);
		return;
	}
	req_set_state(r, REQ_DONE);
	if (evcon != NULL)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	if (content_type != NULL)
		evhttp_add_header(out, "Content-Type", content_type);
	evhttp_add_header(out, "X-Request-Id", r->id);
	/* Successful GETs carry an ETag so that polling clients get 304; what
	 * holds personal data is never stored by caches. */
	if (status == 200 && body != NULL && body->len > 0 &&
	    evhttp_request_get_command(r->evreq) == EVHTTP_REQ_GET) {
		char etag[35];

		codec_etag(content_type, body->data, body->len, etag);
		evhttp_add_header(out, "ETag", etag);
		if (codec_etag_match(req_header(r, "If-None-Match"), etag)) {
			status = 304;
			buf_free(body);
			body = NULL;
		}
	}
	evhttp_add_header(out, "Cache-Control",
			  r->personal || (status != 200 && status != 304) ? "no-store"
									  : "private, no-cache");
	if (r->srv->state == SERVER_DRAINING)
		evhttp_add_header(out, "Connection", "close");
	if (body != NULL && body->len > 0) {
		size_t len;
		char *data = buf_detach(body, &len);

		/* evhttp moves the reference into the connection; data is freed
		 * by req_body_cleanup_cb once it has been written out */
		if ((eb = evbuffer_new()) == NULL ||
		    evbuffer_add_reference(eb, data, len, req_body_cleanup_cb, NULL) == -1) {
			free(data);
			status = 500;
		}
	} else if (body != NULL) {
		buf_free(body);
	}
	metrics_observe(r->srv->metrics, r->route.id, status, req_elapsed(r));
	if (status >= 500 || log_get_level() >= LOG_LEVEL_DEBUG)
		log_info("req %s: %s %s -> %d in %.1f ms", r->id, r->peer, route_name(r->route.id),
			 status, req_elapsed(r) * 1000);
	evhttp_send_reply(r->evreq, status, NULL, eb);
	if (eb != NULL)
		evbuffer_free(eb);
	req_free(r);
}

void
req_stream_start(struct req *r, const char *content_type)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(r->evreq);

	req_set_state(r, REQ_STREAMING);
	/* a stream may outlast request_timeout_ms; idle_timeout_s still
	 * bounds a client that stops reading */
	if (r->deadline != NULL)
		evtimer_del(r->deadline);
	evhttp_add_header(out, "Content-Type", content_type);
	evhttp_add_header(out, "X-Request-Id", r->id);
	evhttp_add_header(out, "Cache-Control", r->personal ? "no-store" : "private, no-cache");
	if (r->srv->state == SERVER_DRAINING)
		evhttp_add_header(out, "Connection", "close");
	evhttp_send_reply_start(r->evreq, 200, NULL);
}

/* evhttp's "written out" callback of a chunk. */
static void
req_stream_drained_cb(struct evhttp_connection *evcon, void *arg)
{
	struct req *r = arg;
	void (*cb)(struct req *) = r->stream_drained;

	(void)evcon;
	r->stream_drained = NULL;
	if (cb != NULL)
		cb(r);
}

int
req_stream_chunk(struct req *r, struct buf *chunk, void (*drained)(struct req *r))
{
	struct evbuffer *eb;

	if ((eb = evbuffer_new()) == NULL || buf_failed(chunk) ||
	    evbuffer_add(eb, chunk->data, chunk->len) == -1) {
		if (eb != NULL)
			evbuffer_free(eb);
		req_stream_abort(r, "out of memory");
		return -1;
	}
	buf_reset(chunk);
	r->stream_drained = drained;
	evhttp_send_reply_chunk_with_cb(r->evreq, eb, drained ? req_stream_drained_cb : NULL, r);
	evbuffer_free(eb);
	return 0;
}

void
req_stream_end(struct req *r)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->evreq);

	req_set_state(r, REQ_DONE);
	if (evcon != NULL)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	metrics_observe(r->srv->metrics, r->route.id, 200, req_elapsed(r));
	evhttp_send_reply_end(r->evreq);
	req_free(r);
}

void
req_stream_abort(struct req *r, const char *why)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->evreq);

	log_warnx("req %s: stream aborted: %s", r->id, why);
	req_set_state(r, REQ_DONE);
	metrics_observe(r->srv->metrics, r->route.id, 500, req_elapsed(r));
	if (evcon != NULL) {
		/* no last chunk: the client sees an incomplete body, not a
		 * short one that looks whole */
		evhttp_connection_set_closecb(evcon, NULL, NULL);
		evhttp_connection_free(evcon);
	} else {
		evhttp_send_reply_end(r->evreq);
	}
	req_free(r);
}

void
req_reply_msg(struct req *r, int status, const ProtobufCMessage *msg)
{
	struct buf b;

	buf_init(&b, 0);
	if (codec_encode(msg, r->out, &b) == -1) {
		buf_free(&b);
		req_error(r, 500, "INTERNAL", "response could not be encoded");
		return;
	}
	req_reply(r, status, codec_content_type(r->out), &b);
}

void
req_error(struct req *r, int status, const char *code, const char *fmt, ...)
{
	Vacancy__V1__Error e = VACANCY__V1__ERROR__INIT;
	char message[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	e.has_http_status = 1;
	e.http_status = (uint32_t)status;
	e.code = (char *)code;
	e.message = message;
	e.request_id = r->id;
	req_reply_msg(r, status, &e.base);
}

void
req_db_failed(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	char esc[256];

	if (st == DB_UNAVAILABLE) {
		req_error(r, 503, "UNAVAILABLE", "the database is not reachable; try again");
		return;
	}
	log_warnx("req %s: database error %s: %s", r->id,
		  res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : "?",
		  log_escape(errmsg, strlen(errmsg), esc, sizeof(esc)));
	req_error(r, 500, "INTERNAL", "internal error (request %s)", r->id);
}

/* The pool's callback: hands the result to the request's continuation. */
static void
req_query_cb(enum db_status st, const PGresult *res, const char *errmsg, void *arg)
{
	struct req *r = arg;

	r->query = NULL;
	r->db_cb(r, st, res, errmsg);
}

int
req_query(struct req *r, struct db_pool *pool, const struct db_stmt *stmt, int nparams,
	  const char *const *params, req_db_cb cb)
{
	r->db_cb = cb;
	r->query = db_query(pool, stmt, nparams, params, req_query_cb, r);
	if (r->query == NULL) {
		req_error(r, 503, "UNAVAILABLE", "the server is busy; try again");
		return -1;
	}
	return 0;
}

struct db_pool *
req_pool(const struct req *r)
{
	return r->principal.role == ROLE_INVESTOR ? r->srv->investor : r->srv->staff;
}

const uint8_t *
req_body(struct req *r, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->evreq);

	*len = evbuffer_get_length(in);
	return *len ? evbuffer_pullup(in, -1) : (const uint8_t *)"";
}

const char *
req_header(struct req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->evreq), name);
}

/* The per-request deadline fired: answer now; the query is cancelled. */
static void
req_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct req *r = arg;

	(void)fd;
	(void)what;
	log_warnx("req %s: deadline of %d ms passed", r->id, r->srv->cfg->request_timeout_ms);
	req_error(r, 503, "DEADLINE_EXCEEDED", "the request took longer than %d ms",
		  r->srv->cfg->request_timeout_ms);
}

/* After authentication: role check, then the handler. */
static void
req_authorised(struct req *r)
{
	const struct req_endpoint *ep = req_endpoint(r->route.id);

	if (!(ep->roles & (1u << r->principal.role))) {
		req_error(r, 403, "PERMISSION_DENIED", "the %s role may not use %s",
			  role_name(r->principal.role), route_name(r->route.id));
		return;
	}
	req_set_state(r, REQ_HANDLER);
	ep->handler(r);
}

/* No endpoint matched the path (404) or the method (405). */
static void
req_unrouted(struct req *r)
{
	if (r->unrouted == ROUTE_BAD_METHOD) {
		evhttp_add_header(evhttp_request_get_output_headers(r->evreq), "Allow",
				  r->route.allow);
		req_error(r, 405, "METHOD_NOT_ALLOWED", "allowed: %s", r->route.allow);
		return;
	}
	req_error(r, 404, "NOT_FOUND", "no such endpoint");
}

static const char *
req_method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	default:
		return "OTHER";
	}
}

void
req_dispatch(struct evhttp_request *evreq, void *arg)
{
	struct server *srv = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(evreq);
	const struct req_endpoint *ep;
	const char *path, *addr = "?";
	unsigned char rnd[8];
	struct timeval tv;
	enum route_result rr;
	struct req *r;
	ev_uint16_t port = 0;
	size_t len;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		evhttp_send_error(evreq, 503, "out of memory");
		return;
	}
	r->srv = srv;
	r->evreq = evreq;
	r->route.id = ROUTE_COUNT;
	clock_gettime(CLOCK_MONOTONIC, &r->started);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	for (int i = 0; i < 8; i++)
		snprintf(r->id + 2 * i, 3, "%02x", rnd[i]);
	if (evcon != NULL) {
		evhttp_connection_get_peer(evcon, (char **)&addr, &port);
		evhttp_connection_set_closecb(evcon, req_conn_closed_cb, r);
	}
	snprintf(r->peer, sizeof(r->peer), "%s:%u", addr, port);
	srv->inflight++;
	r->out = codec_format_from_accept(req_header(r, "Accept"));

	tv.tv_sec = srv->cfg->request_timeout_ms / 1000;
	tv.tv_usec = (srv->cfg->request_timeout_ms % 1000) * 1000;
	if ((r->deadline = evtimer_new(srv->base, req_deadline_cb, r)) == NULL ||
	    evtimer_add(r->deadline, &tv) == -1) {
		req_error(r, 503, "UNAVAILABLE", "out of resources");
		return;
	}
	path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || *path == '\0')
		path = "/";
	rr = route_match(req_method_name(evhttp_request_get_command(evreq)), path, &r->route);
	if (rr != ROUTE_FOUND) {
		/* Under /v1/ the caller must authenticate before learning which
		 * endpoints exist; elsewhere (health, metrics) at once. */
		r->unrouted = rr;
		if (strncmp(path, "/v1/", 4) == 0) {
			req_set_state(r, REQ_AUTH);
			auth_begin(r, req_unrouted);
		} else {
			req_unrouted(r);
		}
		return;
	}
	ep = req_endpoint(r->route.id);
	len = evbuffer_get_length(evhttp_request_get_input_buffer(evreq));
	if (len >
	    (size_t)(ep->sync_body ? srv->cfg->max_sync_body_bytes : srv->cfg->max_body_bytes)) {
		req_error(r, 413, "PAYLOAD_TOO_LARGE", "request body of %zu bytes exceeds %s = %ld",
			  len, ep->sync_body ? "max_sync_body_bytes" : "max_body_bytes",
			  ep->sync_body ? srv->cfg->max_sync_body_bytes : srv->cfg->max_body_bytes);
		return;
	}
	if (ep->roles == 0) {
		req_set_state(r, REQ_HANDLER);
		ep->handler(r);
		return;
	}
	req_set_state(r, REQ_AUTH);
	auth_begin(r, req_authorised);
}
