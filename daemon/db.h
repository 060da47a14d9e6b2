/*
 * db: a fixed pool of asynchronous libpq connections driven by the libevent
 * loop. Nothing here blocks: connections are made with PQconnectStartParams /
 * PQconnectPoll, queries are sent with PQsendQueryParams or
 * PQsendQueryPrepared on non-blocking sockets, results are read with
 * PQconsumeInput / PQisBusy / PQgetResult from read events.
 *
 * Each connection is CONNECTING, IDLE, BUSY or BROKEN; state changes go
 * through one function and are logged at debug level. A broken connection is
 * reconnected with exponential backoff (reconnect_min_ms .. reconnect_max_ms,
 * with jitter). Queries wait in a FIFO (at most max_queue) for an idle
 * connection. Every query has a deadline (query_timeout_ms, measured from
 * submission): the server side is bounded by statement_timeout set at connect,
 * and if no answer has come by the deadline plus a grace period, the
 * connection is closed as BROKEN and the query completes as DB_UNAVAILABLE.
 */
#ifndef VACANCY_DB_H
#define VACANCY_DB_H

#include <stdint.h>

#include <event2/event.h>
#include <libpq-fe.h>

struct db_pool;
struct db_query;

enum db_status {
	DB_OK,		/* the statement succeeded; res is its result */
	DB_ERROR,	/* the server reported an SQL error; res holds it (SQLSTATE etc.) */
	DB_UNAVAILABLE, /* no connection, connection lost, or deadline passed; res is NULL */
};

/*
 * Called exactly once for every query that db_query() accepted, unless the
 * query was cancelled first. res is borrowed: the pool PQclear()s it when the
 * callback returns. errmsg is a human-readable reason (never NULL, "" on OK).
 * The callback may submit new queries and cancel other queries.
 *
 * Callbacks run from the event loop (a pool event of their own, never from
 * inside db_query() or db_query_cancel()) or from db_pool_free(). A callback
 * may also call db_pool_free() on its own pool. On DB_ERROR, errmsg is the
 * server's primary message, which can quote client data: escape it before
 * logging. A FATAL error (the server ending the session) is DB_UNAVAILABLE.
 */
typedef void (*db_result_cb)(enum db_status st, const PGresult *res, const char *errmsg, void *arg);

/* A statement. With a name it is prepared lazily once per connection. */
struct db_stmt {
	const char *name; /* NULL: sent unnamed with PQsendQueryParams */
	const char *sql;
};

struct db_pool_opts {
	const char *name;	/* for log lines, e.g. "staff" */
	int size;		/* number of connections, >= 1 */
	int max_queue;		/* waiting queries beyond which db_query() refuses */
	int query_timeout_ms;	/* deadline of one query, from submission */
	int reconnect_min_ms;	/* first backoff after a failure */
	int reconnect_max_ms;	/* backoff cap */
	int connect_timeout_ms; /* a CONNECTING connection older than this is BROKEN */
	size_t recycle_bytes;	/* a query with parameters this large: its connection is
				   opened anew after it (0: never) */
};

/*
 * queries: accepted by db_query(); errors, unavailable: callbacks with
 * DB_ERROR, DB_UNAVAILABLE; timeouts: deadlines passed (waiting, or running
 * past the grace) plus statement_timeout errors (SQLSTATE 57014);
 * reconnects: connection attempts after a failure or a lost connection;
 * recycled: connections opened anew after a query of recycle_bytes or more.
 */
struct db_pool_stats {
	int size, connecting, idle, busy, broken;
	int queued;
	uint64_t queries, errors, unavailable, timeouts, reconnects, recycled;
};

/*
 * Creates the pool and starts connecting all connections (returns at once).
 * conninfo is a libpq connection string; it is copied. NULL on failure
 * (bad options, a conninfo that does not parse). Each session gets
 * statement_timeout = query_timeout_ms (appended to conninfo's options) and
 * application_name vacancyd-<name> unless conninfo sets one. libpq resolves
 * host names synchronously: use a unix socket or an IP address.
 */
struct db_pool *db_pool_new(struct event_base *base, const char *conninfo,
			    const struct db_pool_opts *opts) __attribute__((warn_unused_result));

/*
 * Closes every connection. Queries still waiting or running complete with
 * DB_UNAVAILABLE before this returns (finished ones get their result); their
 * callbacks cannot submit any more. NULL is fine.
 */
void db_pool_free(struct db_pool *pool);

/*
 * Submits a statement with nparams text parameters (NULL entries are SQL
 * NULL). Parameters are copied: the caller may free them after the call.
 * Returns a handle for db_query_cancel(), or NULL when the queue is full or
 * the arguments are bad (the callback is then never called). A statement
 * name stands for one SQL text for the life of the pool: the same name with
 * other SQL is refused.
 */
struct db_query *db_query(struct db_pool *pool, const struct db_stmt *stmt, int nparams,
			  const char *const *params, db_result_cb cb, void *arg)
    __attribute__((warn_unused_result));

/*
 * The callback of q will not be called. A waiting query is dropped; a running
 * one finishes on its connection and its result is discarded. q must be a
 * handle whose callback has not run yet.
 */
void db_query_cancel(struct db_query *q);

void db_pool_stats(const struct db_pool *pool, struct db_pool_stats *out);

/* 1 when at least one connection is IDLE or BUSY. */
int db_pool_healthy(const struct db_pool *pool);

#endif
