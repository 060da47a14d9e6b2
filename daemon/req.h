/*
 * req: one HTTP request from arrival to reply. Routing, body limits,
 * content negotiation, the per-request deadline, authentication, the
 * database call on behalf of the request, and the error model of api.md
 * (every error is an Error message in the negotiated format).
 *
 * Lifetime: a req is created when evhttp hands over a request and freed
 * right after its one reply. A pending database query is cancelled before
 * the free, so no database callback can reach a freed req. When the client
 * goes away, the request is answered (evhttp then just frees it) and its
 * query cancelled.
 */
#ifndef VACANCY_REQ_H
#define VACANCY_REQ_H

#include <stdint.h>
#include <time.h>

#include <event2/http.h>
#include <libpq-fe.h>
#include <protobuf-c/protobuf-c.h>

#include "buf.h"
#include "codec.h"
#include "db.h"
#include "route.h"
#include "server.h"
#include "token.h"
#include "vacancy.pb-c.h"

struct principal {
	int64_t id;
	enum role role;
	char scope[16];
	char name[128];
};

enum req_state { REQ_ROUTING, REQ_AUTH, REQ_HANDLER, REQ_STREAMING, REQ_DONE };

struct req {
	struct server *srv;
	struct evhttp_request *evreq; /* borrowed from evhttp until the reply */
	struct route_match route;
	enum route_result unrouted; /* why no route matched, answered after auth */
	char id[17];		    /* request id, hex; in logs and in Error.request_id */
	char peer[64];
	struct timespec started;
	enum req_state state;
	enum codec_format out; /* response format */
	int personal;	       /* the reply holds personal data: no caching at all */
	struct principal principal;
	struct event *deadline;
	struct db_query *query; /* the pending query, or NULL */
	void (*db_cb)(struct req *, enum db_status, const PGresult *, const char *);
	/* authentication in flight */
	unsigned char auth_hash[TOKEN_HASH_LEN];
	void (*auth_next)(struct req *r);
	/* a handler's own state; ctx_free(ctx) runs when the req is freed */
	void *ctx;
	void (*ctx_free)(void *ctx);
	void (*stream_drained)(struct req *r); /* streaming: after a chunk is written */
};

typedef void (*req_db_cb)(struct req *r, enum db_status st, const PGresult *res,
			  const char *errmsg);

/* evhttp's generic callback: the entry of every request. arg is the server. */
void req_dispatch(struct evhttp_request *evreq, void *arg);

/*
 * Ends the request with status and body (consumed; may be NULL). The req is
 * freed: the caller must not touch r afterwards.
 */
void req_reply(struct req *r, int status, const char *content_type, struct buf *body);
/*
 * A streamed 200 reply (chunked): start sends the headers; each chunk's
 * bytes are taken (chunk is emptied) and drained(r), if given, runs once
 * they are written to the socket, which paces the producer; end sends the
 * last chunk and frees r. abort closes the connection without the last
 * chunk (the client can tell the body is incomplete) and frees r. When the
 * client goes away mid-stream, r is freed for you and drained never runs.
 * chunk returns -1 when it had to abort (r is gone). An empty chunk is not
 * sent, and its drained never runs.
 */
void req_stream_start(struct req *r, const char *content_type);
int req_stream_chunk(struct req *r, struct buf *chunk, void (*drained)(struct req *r));
void req_stream_end(struct req *r);
void req_stream_abort(struct req *r, const char *why);

/* Encodes msg in the negotiated format and replies (frees r). */
void req_reply_msg(struct req *r, int status, const ProtobufCMessage *msg);
/* Replies with an Error message (frees r). code is api.md's machine code. */
void req_error(struct req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps a failed database call to 503 UNAVAILABLE or 500 INTERNAL (frees r). */
void req_db_failed(struct req *r, enum db_status st, const PGresult *res, const char *errmsg);

/*
 * Runs a statement for the request; cb is called with the result unless the
 * request ended first. Returns 0, or -1 after replying 503 (queue full).
 */
int req_query(struct req *r, struct db_pool *pool, const struct db_stmt *stmt, int nparams,
	      const char *const *params, req_db_cb cb) __attribute__((warn_unused_result));

/* The pool for the caller's role: investors get the investor pool. */
struct db_pool *req_pool(const struct req *r);

/* Request body as a contiguous buffer (pulled up); len in *len. */
const uint8_t *req_body(struct req *r, size_t *len);
/* A request header value, or NULL. */
const char *req_header(struct req *r, const char *name);

#endif
