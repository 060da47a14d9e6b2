/*
 * db: the asynchronous PostgreSQL pool (see db.h for the contract).
 *
 * Owns: the pool, its connections (a fixed array, never reallocated), the
 * FIFO of waiting queries, the list of finished queries whose callbacks have
 * not run yet, and the registry of named statements.
 *
 * Where a query is: WAITING in pool->waitq; RUNNING as conn->q; DONE in
 * pool->doneq; CALLING while its callback runs. User callbacks run only from
 * db_pool_done_cb (a pool event of its own, so nothing of ours is on the
 * stack) or from db_pool_free; every other function only moves queries
 * between these places. So a callback may submit, cancel or even free the
 * pool, and no caller of a callback holds a pointer it could invalidate.
 *
 * A connection is CONNECTING, IDLE, BUSY or BROKEN; db_conn_set_state() is
 * the only writer and db_conn_close() the only teardown. Blocking libpq calls
 * (PQexec, PQcancel, PQreset, PQconnectdb) are never used. Note that libpq
 * still resolves host names synchronously in PQconnectStartParams: give the
 * daemon a unix socket, an IP address or hostaddr.
 */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define DB_MUST_CHECK	  __attribute__((warn_unused_result))
#define DB_MAX_STMTS	  256	/* distinct statement names per pool */
#define DB_MAX_PARAMS	  65535 /* protocol limit of Bind */
#define DB_GRACE_MS	  1000	/* after the deadline, before the connection is closed */
#define DB_MSG_LEN	  256
#define DB_JITTER_PERCENT 20
#define DB_SNDBUF_BYTES	  (4 << 20) /* asked for; the kernel caps it (wmem_max) */

enum db_conn_state {
	DB_CONN_CONNECTING,
	DB_CONN_IDLE,
	DB_CONN_BUSY,
	DB_CONN_BROKEN,
};

static const char *const db_conn_state_names[] = {"CONNECTING", "IDLE", "BUSY", "BROKEN"};

enum db_query_state {
	DB_QUERY_WAITING, /* in pool->waitq, deadline armed */
	DB_QUERY_RUNNING, /* conn->q of some connection, deadline (then grace) armed */
	DB_QUERY_DONE,	  /* in pool->doneq with status, res and errmsg */
	DB_QUERY_CALLING, /* its callback is running; freed when it returns */
};

static const char *const db_query_state_names[] = {"waiting", "running", "finished", "calling"};

struct db_named {
	char *name; /* owned */
	char *sql;  /* owned */
};

struct db_query {
	struct db_pool *pool; /* borrowed */
	TAILQ_ENTRY(db_query) entry;
	enum db_query_state state;
	int stmt;  /* index in pool->stmts, -1 for an unnamed statement */
	char *sql; /* owned; unnamed statements only */
	int nparams;
	char **params; /* owned: one allocation holding the array and the strings */
	size_t params_bytes;
	db_result_cb cb;
	void *arg;		 /* the caller's; never touched once cancelled */
	struct event *timer;	 /* owned: deadline, then grace */
	struct db_conn *conn;	 /* while RUNNING */
	int overdue;		 /* the deadline passed while RUNNING */
	int preparing;		 /* RUNNING: the PQsendPrepare step is in flight */
	int cancelled;		 /* RUNNING: drop the result, never call cb */
	enum db_status status;	 /* DONE */
	PGresult *res;		 /* DONE: owned, cleared after the callback */
	char errmsg[DB_MSG_LEN]; /* DONE */
};

TAILQ_HEAD(db_query_list, db_query);

struct db_conn {
	struct db_pool *pool; /* borrowed */
	int id;
	enum db_conn_state state;
	PGconn *pg;	       /* owned; NULL when BROKEN */
	struct event *ev;      /* owned: socket watcher */
	evutil_socket_t ev_fd; /* what ev watches */
	short ev_what;
	struct event *timer; /* owned: connect timeout, or reconnect backoff */
	int backoff_ms;	     /* next reconnect delay, before jitter */
	int failures;	     /* failed attempts since the last good connect */
	int flushing;	     /* PQflush returned 1: also wait for write readiness */
	int doomed;	     /* a FATAL notice came: the server ends this session */
	char doom_msg[DB_MSG_LEN];
	struct db_query *q; /* the running query, or NULL */
	PGresult *res;	    /* result collected for q until PQgetResult gives NULL */
	unsigned char prepared[DB_MAX_STMTS]; /* statement i is prepared here */
};

struct db_pool {
	struct event_base *base; /* borrowed */
	struct db_pool_opts opts;
	char *name;  /* owned copy of opts.name */
	char **kw;   /* owned: connection keywords, NULL-terminated */
	char **vals; /* owned: their values; may hold a password */
	int nkw;
	struct db_conn *conns; /* owned: opts.size of them */
	struct db_query_list waitq, doneq;
	int nwaiting;
	struct db_named stmts[DB_MAX_STMTS];
	int nstmts;
	struct event *done_ev; /* owned: runs the callbacks of doneq */
	struct timeval deadline_tv, grace_tv, connect_tv;
	const struct timeval *deadline, *grace; /* common timeouts of the base */
	uint64_t rng;
	uint64_t queries, errors, unavailable, timeouts, reconnects, recycled;
	int in_callback; /* db_pool_done_cb is on the stack */
	int closing;	 /* db_pool_free has begun */
};

static void db_conn_connect(struct db_conn *c);
static void db_conn_close(struct db_conn *c, const char *why);
static void db_conn_send(struct db_conn *c, struct db_query *q);
static void db_pool_dispatch(struct db_pool *p);
static void db_pool_destroy(struct db_pool *p);
static void db_conn_event_cb(evutil_socket_t fd, short what, void *arg);

/* Converts milliseconds to a timeval. */
static struct timeval
db_tv(int ms)
{
	struct timeval tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

/* Copies a libpq or server message as one line: whitespace runs become one space. */
static void
db_msg(char *out, size_t outlen, const char *msg)
{
	size_t o = 0;
	int space = 0;

	if (msg == NULL)
		msg = "";
	for (; *msg != '\0' && o + 1 < outlen; msg++) {
		if (*msg == ' ' || *msg == '\t' || *msg == '\n' || *msg == '\r') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < outlen)
			out[o++] = ' ';
		space = 0;
		out[o++] = *msg;
	}
	out[o] = '\0';
}

/* The primary message of an error result, or its whole message. */
static const char *
db_res_msg(const PGresult *res)
{
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	return m != NULL ? m : PQresultErrorMessage(res);
}

/* A delay of ms with +-DB_JITTER_PERCENT of jitter (xorshift64; no global rand state). */
static int
db_pool_jitter(struct db_pool *p, int ms)
{
	double f;

	p->rng ^= p->rng << 13;
	p->rng ^= p->rng >> 7;
	p->rng ^= p->rng << 17;
	f = (double)(p->rng >> 11) / (double)(UINT64_C(1) << 53); /* [0, 1) */
	f = 1.0 + (2.0 * f - 1.0) * DB_JITTER_PERCENT / 100.0;
	return ms * f < 1.0 ? 1 : (int)(ms * f);
}

/* The only writer of c->state; logs the transition at debug level. */
static void
db_conn_set_state(struct db_conn *c, enum db_conn_state st)
{
	if (c->state == st)
		return;
	log_debug("db %s: conn %d: %s -> %s", c->pool->name, c->id, db_conn_state_names[c->state],
		  db_conn_state_names[st]);
	c->state = st;
}

/* True for the severity of an error that ends the session. */
static int
db_res_fatal(const PGresult *res)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);

	return sev != NULL && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0);
}

/*
 * Server notices (libpq's default prints them raw on stderr) go to the debug
 * log, escaped. A FATAL error arriving while no command runs (the server
 * shutting down, idle_session_timeout) comes this way: the connection is
 * doomed and is closed before anything else is sent on it.
 */
static void
db_notice_cb(void *arg, const PGresult *res)
{
	struct db_conn *c = arg;
	char line[DB_MSG_LEN], esc[DB_MSG_LEN];

	db_msg(line, sizeof(line), PQresultErrorMessage(res));
	log_debug("db %s: conn %d: %s", c->pool->name, c->id,
		  log_escape(line, sizeof(line), esc, sizeof(esc)));
	if (db_res_fatal(res) && !c->doomed) {
		c->doomed = 1;
		db_msg(c->doom_msg, sizeof(c->doom_msg), db_res_msg(res));
	}
}

/* Frees a query that is in no list and on no connection; NULL is fine. */
static void
db_query_free(struct db_query *q)
{
	if (q == NULL)
		return;
	if (q->timer != NULL)
		event_free(q->timer);
	PQclear(q->res);
	free(q->params);
	free(q->sql);
	free(q);
}

/*
 * Finishes q (already out of waitq and off its connection): a cancelled
 * query is freed at once, any other goes to doneq for its callback on the
 * next loop turn (or at once in db_pool_free). res is consumed.
 */
static void
db_query_complete(struct db_query *q, enum db_status st, PGresult *res, const char *errmsg)
{
	struct db_pool *p = q->pool;
	const char *code;

	evtimer_del(q->timer);
	q->conn = NULL;
	q->preparing = 0;
	if (q->cancelled) {
		PQclear(res);
		db_query_free(q);
		return;
	}
	q->state = DB_QUERY_DONE;
	q->status = st;
	q->res = res;
	db_msg(q->errmsg, sizeof(q->errmsg), errmsg);
	if (st == DB_ERROR) {
		p->errors++;
		code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (code != NULL && strcmp(code, "57014") == 0)
			p->timeouts++; /* statement_timeout, the server half of the deadline */
	} else if (st == DB_UNAVAILABLE) {
		p->unavailable++;
	}
	TAILQ_INSERT_TAIL(&p->doneq, q, entry);
	if (!p->closing)
		event_active(p->done_ev, EV_TIMEOUT, 0);
}

/* Runs the callback of a DONE query, then frees it. */
static void
db_query_deliver(struct db_query *q)
{
	struct db_pool *p = q->pool;

	TAILQ_REMOVE(&p->doneq, q, entry);
	q->state = DB_QUERY_CALLING;
	q->cb(q->status, q->res, q->errmsg, q->arg);
	db_query_free(q);
}

/* Deadline of a query: a waiting one gives up; a running one gets a grace, then is cut off. */
static void
db_query_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_query *q = arg;
	struct db_pool *p = q->pool;

	(void)fd;
	(void)what;
	switch (q->state) {
	case DB_QUERY_WAITING:
		TAILQ_REMOVE(&p->waitq, q, entry);
		p->nwaiting--;
		p->timeouts++;
		db_query_complete(q, DB_UNAVAILABLE, NULL, "timed out waiting for a connection");
		break;
	case DB_QUERY_RUNNING:
		if (!q->overdue) {
			/* statement_timeout should answer first; wait a little for it. */
			q->overdue = 1;
			if (evtimer_add(q->timer, p->grace) == 0)
				break;
		}
		p->timeouts++;
		db_conn_close(q->conn, "query timed out"); /* completes or frees q */
		break;
	default:
		break;
	}
}

/* Runs the callbacks of finished queries from a clean stack. */
static void
db_pool_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_pool *p = arg;
	struct db_query *q;

	(void)fd;
	(void)what;
	p->in_callback++;
	while (!p->closing && (q = TAILQ_FIRST(&p->doneq)) != NULL)
		db_query_deliver(q);
	p->in_callback--;
	if (p->closing && p->in_callback == 0)
		db_pool_destroy(p); /* a callback called db_pool_free */
}

/* Watches fd for what, persistently; a new event when fd or what changed, or with force. */
static DB_MUST_CHECK int
db_conn_watch(struct db_conn *c, evutil_socket_t fd, short what, int force)
{
	if (fd < 0)
		return -1;
	if (c->ev != NULL && !force && c->ev_fd == fd && c->ev_what == what)
		return 0;
	if (c->ev != NULL)
		event_free(c->ev);
	c->ev = event_new(c->pool->base, fd, what | EV_PERSIST, db_conn_event_cb, c);
	if (c->ev == NULL)
		return -1;
	if (event_add(c->ev, NULL) == -1) {
		event_free(c->ev);
		c->ev = NULL;
		return -1;
	}
	c->ev_fd = fd;
	c->ev_what = what;
	return 0;
}

/* Ends c's session and its watchers; c is BROKEN and ready to connect anew. */
static void
db_conn_teardown(struct db_conn *c)
{
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	evtimer_del(c->timer);
	PQclear(c->res);
	c->res = NULL;
	PQfinish(c->pg);
	c->pg = NULL;
	memset(c->prepared, 0, sizeof(c->prepared)); /* a new session knows none */
	c->flushing = 0;
	c->doomed = 0;
	db_conn_set_state(c, DB_CONN_BROKEN);
}

/*
 * The one failure path of a connection: closes it, completes its running query
 * as DB_UNAVAILABLE (a cancelled one is freed), marks it BROKEN and, unless
 * the pool is closing, schedules a reconnect with backoff. why may point
 * into the PGconn: it is copied before PQfinish.
 */
static void
db_conn_close(struct db_conn *c, const char *why)
{
	struct db_pool *p = c->pool;
	struct db_query *q = c->q;
	char reason[DB_MSG_LEN], esc[DB_MSG_LEN];
	struct timeval tv;
	int delay;

	db_msg(reason, sizeof(reason), why);
	db_conn_teardown(c);
	c->q = NULL;
	if (q != NULL)
		db_query_complete(q, DB_UNAVAILABLE, NULL, reason);
	log_escape(reason, sizeof(reason), esc, sizeof(esc));
	if (p->closing) {
		log_debug("db %s: conn %d: closed: %s", p->name, c->id, esc);
		return;
	}
	c->failures++;
	delay = db_pool_jitter(p, c->backoff_ms);
	c->backoff_ms = c->backoff_ms > p->opts.reconnect_max_ms / 2 ? p->opts.reconnect_max_ms
								     : c->backoff_ms * 2;
	/* an outage would otherwise log every attempt: warn on the 1st, 2nd,
	 * 4th, 8th... failure in a row, the rest at debug level */
	if ((c->failures & (c->failures - 1)) == 0)
		log_warnx("db %s: conn %d: %s; reconnecting in %d ms (failure %d in a row)",
			  p->name, c->id, esc, delay, c->failures);
	else
		log_debug("db %s: conn %d: %s; reconnecting in %d ms (failure %d in a row)",
			  p->name, c->id, esc, delay, c->failures);
	tv = db_tv(delay);
	if (evtimer_add(c->timer, &tv) == -1)
		log_warnx("db %s: conn %d: cannot schedule reconnect", p->name, c->id);
}

/* Starts a non-blocking connect; on failure the connection is closed (and retried). */
static void
db_conn_connect(struct db_conn *c)
{
	struct db_pool *p = c->pool;

	c->pg = PQconnectStartParams((const char *const *)p->kw, (const char *const *)p->vals, 0);
	if (c->pg == NULL) {
		db_conn_close(c, "out of memory");
		return;
	}
	PQsetNoticeReceiver(c->pg, db_notice_cb, c);
	db_conn_set_state(c, DB_CONN_CONNECTING);
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		db_conn_close(c, PQerrorMessage(c->pg));
		return;
	}
	if (evtimer_add(c->timer, &p->connect_tv) == -1) {
		db_conn_close(c, "cannot arm the connect timeout");
		return;
	}
	/* Before the first PQconnectPoll, behave as if it had asked for write readiness. */
	if (db_conn_watch(c, PQsocket(c->pg), EV_WRITE, 1) == -1)
		db_conn_close(c, "cannot watch the socket");
}

/*
 * libpq moves what it could not send to the front of its output buffer after
 * every partial send: a query of tens of MB (a large transfer) through a
 * Unix socket that takes 208 KB at a time moved 2 GB, 8 % of the daemon's
 * time in a 10,000-record sync. A wider send buffer makes that a few moves.
 * The kernel caps it at net.core.wmem_max; a refusal only costs the speed.
 */
static void
db_conn_widen_sndbuf(struct db_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int size = DB_SNDBUF_BYTES;

	/* on TCP a fixed size would end the kernel's own tuning of the buffer */
	if (getsockname(PQsocket(c->pg), (struct sockaddr *)&ss, &len) == -1 ||
	    ss.ss_family != AF_UNIX)
		return;
	if (setsockopt(PQsocket(c->pg), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) == -1)
		log_debug("db %s: conn %d: SO_SNDBUF not widened: %s", c->pool->name, c->id,
			  strerror(errno));
}

/* The connection is up: non-blocking, IDLE, and serves the queue. */
static void
db_conn_ready(struct db_conn *c)
{
	struct db_pool *p = c->pool;

	evtimer_del(c->timer);
	if (PQsetnonblocking(c->pg, 1) != 0) {
		db_conn_close(c, PQerrorMessage(c->pg));
		return;
	}
	db_conn_widen_sndbuf(c);
	if (db_conn_watch(c, PQsocket(c->pg), EV_READ, 1) == -1) {
		db_conn_close(c, "cannot watch the socket");
		return;
	}
	if (c->failures > 0)
		log_info("db %s: conn %d: connected again after %d failure(s)", p->name, c->id,
			 c->failures);
	c->failures = 0;
	c->backoff_ms = p->opts.reconnect_min_ms;
	db_conn_set_state(c, DB_CONN_IDLE);
	db_pool_dispatch(p);
}

/* One step of PQconnectPoll, then wait for what it asks on whatever socket it now uses. */
static void
db_conn_connect_poll(struct db_conn *c)
{
	short what;

	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_FAILED:
		db_conn_close(c, PQerrorMessage(c->pg));
		return;
	case PGRES_POLLING_OK:
		db_conn_ready(c);
		return;
	case PGRES_POLLING_READING:
		what = EV_READ;
		break;
	default:
		what = EV_WRITE;
		break;
	}
	/*
	 * libpq may have closed its socket and opened another (next address,
	 * SSL or GSS fallback), possibly under the same number: always watch anew.
	 */
	if (db_conn_watch(c, PQsocket(c->pg), what, 1) == -1)
		db_conn_close(c, "cannot watch the socket");
}

/* Pushes buffered output; while some remains, also waits for write readiness. -1: closed. */
static DB_MUST_CHECK int
db_conn_flush(struct db_conn *c)
{
	int rc = PQflush(c->pg);

	if (rc == -1) {
		db_conn_close(c, PQerrorMessage(c->pg));
		return -1;
	}
	if (rc == 1 && !c->flushing)
		log_debug("db %s: conn %d: socket full, waiting to write", c->pool->name, c->id);
	c->flushing = rc == 1;
	if (db_conn_watch(c, PQsocket(c->pg), c->flushing ? EV_READ | EV_WRITE : EV_READ, 0) ==
	    -1) {
		db_conn_close(c, "cannot watch the socket");
		return -1;
	}
	return 0;
}

/*
 * Sends q on c (IDLE, or BUSY with q after its prepare step). A named
 * statement not yet prepared on c is prepared first (q->preparing). If the
 * send fails on a dead connection, q was not sent: it goes back to the head
 * of the queue and c is closed. Any other failure completes q.
 */
static void
db_conn_send(struct db_conn *c, struct db_query *q)
{
	struct db_pool *p = c->pool;
	const char *const *params = (const char *const *)q->params;
	char msg[DB_MSG_LEN];
	int ok;

	c->q = q;
	q->conn = c;
	q->state = DB_QUERY_RUNNING;
	if (q->stmt < 0) {
		ok = PQsendQueryParams(c->pg, q->sql, q->nparams, NULL, params, NULL, NULL, 0);
	} else if (!c->prepared[q->stmt]) {
		ok = PQsendPrepare(c->pg, p->stmts[q->stmt].name, p->stmts[q->stmt].sql, 0, NULL);
		q->preparing = 1;
	} else {
		ok = PQsendQueryPrepared(c->pg, p->stmts[q->stmt].name, q->nparams, params, NULL,
					 NULL, 0);
	}
	if (!ok) {
		db_msg(msg, sizeof(msg), PQerrorMessage(c->pg));
		c->q = NULL;
		q->conn = NULL;
		q->preparing = 0;
		if (PQstatus(c->pg) == CONNECTION_BAD) {
			q->state = DB_QUERY_WAITING;
			TAILQ_INSERT_HEAD(&p->waitq, q, entry);
			p->nwaiting++;
			db_conn_close(c, msg);
		} else {
			log_warnx("db %s: conn %d: cannot send: %s", p->name, c->id, msg);
			db_conn_set_state(c, DB_CONN_IDLE);
			db_query_complete(q, DB_UNAVAILABLE, NULL, msg);
		}
		return;
	}
	db_conn_set_state(c, DB_CONN_BUSY);
	if (db_conn_flush(c) == -1)
		return; /* c is closed and q completed */
}

/*
 * Closes an IDLE connection on purpose and connects it again at once: libpq's
 * output buffer only grows, so a session that sent a large query (a sync of
 * thousands of records) would keep tens of MB for its life. Not a failure:
 * no backoff, no warning.
 */
static void
db_conn_recycle(struct db_conn *c)
{
	db_conn_teardown(c);
	c->pool->recycled++;
	log_debug("db %s: conn %d: opened anew after a large query", c->pool->name, c->id);
	db_conn_connect(c);
}

/*
 * PQgetResult gave NULL: the command of c->q is over. After a successful
 * prepare step the statement is executed; otherwise q completes and c
 * serves the queue.
 */
static void
db_conn_finish(struct db_conn *c)
{
	struct db_query *q = c->q;
	PGresult *res = c->res;
	const char *code;

	c->res = NULL;
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		/* libpq made up a final error for a lost connection: not the server's answer. */
		PQclear(res);
		db_conn_close(c, PQerrorMessage(c->pg));
		return;
	}
	if (q->preparing) {
		q->preparing = 0;
		if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			res = NULL;
			c->prepared[q->stmt] = 1;
			if (!q->cancelled) {
				db_conn_send(c, q);
				db_pool_dispatch(c->pool);
				return;
			}
		}
	}
	c->q = NULL;
	db_conn_set_state(c, DB_CONN_IDLE);
	code = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (q->stmt >= 0 && code != NULL && strcmp(code, "26000") == 0)
		c->prepared[q->stmt] = 0; /* DEALLOCATE/DISCARD ran: prepare again next time */
	/* before the callback, which may queue the next query onto c */
	if (c->pool->opts.recycle_bytes > 0 && q->params_bytes >= c->pool->opts.recycle_bytes &&
	    !c->pool->closing)
		db_conn_recycle(c);
	if (res == NULL)
		db_query_complete(q, DB_UNAVAILABLE, NULL, "no result from the server");
	else if (PQresultStatus(res) == PGRES_FATAL_ERROR)
		db_query_complete(q, DB_ERROR, res, db_res_msg(res));
	else
		db_query_complete(q, DB_OK, res, "");
	db_pool_dispatch(c->pool);
}

/* Takes one result of c (consumed). A FATAL error ends the session: c is closed, -1. */
static DB_MUST_CHECK int
db_conn_result(struct db_conn *c, PGresult *res)
{
	char msg[DB_MSG_LEN];

	if (db_res_fatal(res)) {
		db_msg(msg, sizeof(msg), db_res_msg(res));
		PQclear(res);
		db_conn_close(c, msg);
		return -1;
	}
	if (c->q == NULL) {
		log_debug("db %s: conn %d: dropping a result nobody asked for", c->pool->name,
			  c->id);
		PQclear(res);
		return 0;
	}
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
	case PGRES_EMPTY_QUERY:
	case PGRES_FATAL_ERROR:
		/* One statement gives one result; should there be more, the first error wins. */
		if (c->res == NULL || (PQresultStatus(c->res) != PGRES_FATAL_ERROR)) {
			PQclear(c->res);
			c->res = res;
		} else {
			PQclear(res);
		}
		return 0;
	default:
		snprintf(msg, sizeof(msg), "unsupported result %s",
			 PQresStatus(PQresultStatus(res)));
		PQclear(res);
		db_conn_close(c, msg);
		return -1;
	}
}

/* Reads every result that is complete; ends with c IDLE, BUSY again, or closed. */
static void
db_conn_drain(struct db_conn *c)
{
	PGresult *res;
	PGnotify *n;

	while (c->pg != NULL && !PQisBusy(c->pg)) {
		res = PQgetResult(c->pg);
		if (res == NULL) {
			if (c->q == NULL)
				break;
			db_conn_finish(c); /* may send again on c, or close it */
			continue;
		}
		if (db_conn_result(c, res) == -1)
			return;
	}
	if (c->pg == NULL)
		return;
	while ((n = PQnotifies(c->pg)) != NULL)
		PQfreemem(n);
	if (c->doomed)
		db_conn_close(c, c->doom_msg);
	else if (PQstatus(c->pg) == CONNECTION_BAD)
		db_conn_close(c, PQerrorMessage(c->pg));
}

/*
 * Before a query goes to an IDLE connection: reads and parses what the
 * server may have said meanwhile (one non-blocking recv), so that a session
 * the server has ended is closed while the query can still safely wait for
 * another (a query sent on it could not be retried). -1: c was closed.
 */
static DB_MUST_CHECK int
db_conn_check(struct db_conn *c)
{
	if (!PQconsumeInput(c->pg)) {
		db_conn_close(c, PQerrorMessage(c->pg));
		return -1;
	}
	(void)PQisBusy(c->pg); /* parses what came: a FATAL notice dooms c */
	if (c->doomed) {
		db_conn_close(c, c->doom_msg);
		return -1;
	}
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		db_conn_close(c, PQerrorMessage(c->pg));
		return -1;
	}
	return 0;
}

/* Socket of an IDLE or BUSY connection is ready. */
static void
db_conn_io(struct db_conn *c, short what)
{
	if ((what & EV_READ) && !PQconsumeInput(c->pg)) {
		db_conn_close(c, PQerrorMessage(c->pg));
		return;
	}
	if (c->flushing && db_conn_flush(c) == -1)
		return;
	db_conn_drain(c);
}

/* Socket event of a connection. */
static void
db_conn_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	(void)fd;
	if (c->state == DB_CONN_CONNECTING)
		db_conn_connect_poll(c);
	else if (c->state == DB_CONN_IDLE || c->state == DB_CONN_BUSY)
		db_conn_io(c, what);
}

/* Timer of a connection: the connect timeout while CONNECTING, the backoff while BROKEN. */
static void
db_conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;

	(void)fd;
	(void)what;
	if (c->state == DB_CONN_CONNECTING) {
		db_conn_close(c, "connect timed out");
	} else if (c->state == DB_CONN_BROKEN) {
		c->pool->reconnects++;
		db_conn_connect(c);
	}
}

/* First IDLE connection, or NULL. */
static struct db_conn *
db_pool_idle(const struct db_pool *p)
{
	for (int i = 0; i < p->opts.size; i++)
		if (p->conns[i].state == DB_CONN_IDLE)
			return &p->conns[i];
	return NULL;
}

/* Hands waiting queries, oldest first, to idle connections. */
static void
db_pool_dispatch(struct db_pool *p)
{
	struct db_conn *c;
	struct db_query *q;

	if (p->closing)
		return;
	/* Each turn makes c BUSY or BROKEN, or completes q: this ends. */
	while ((q = TAILQ_FIRST(&p->waitq)) != NULL && (c = db_pool_idle(p)) != NULL) {
		if (db_conn_check(c) == -1)
			continue;
		TAILQ_REMOVE(&p->waitq, q, entry);
		p->nwaiting--;
		db_conn_send(c, q);
	}
}

/*
 * Builds the connection keywords from conninfo: its own settings, plus
 * statement_timeout appended to its options and application_name
 * vacancyd-<name> unless it names one. -1 when conninfo does not parse.
 */
static DB_MUST_CHECK int
db_pool_conninfo(struct db_pool *p, const char *conninfo)
{
	PQconninfoOption *opts, *o;
	char *err = NULL, *extra = NULL;
	const char *user_options = NULL;
	int n = 0, have_app = 0;

	opts = PQconninfoParse(conninfo, &err);
	if (opts == NULL) {
		/* err may quote the string, password included: do not log it. */
		log_warnx("db %s: the connection string does not parse", p->name);
		PQfreemem(err);
		return -1;
	}
	for (o = opts; o->keyword != NULL; o++)
		n++;
	p->kw = calloc((size_t)n + 3, sizeof(*p->kw));
	p->vals = calloc((size_t)n + 3, sizeof(*p->vals));
	if (p->kw == NULL || p->vals == NULL)
		goto fail;
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "options") == 0) {
			user_options = o->val;
			continue;
		}
		if (strcmp(o->keyword, "application_name") == 0)
			have_app = 1;
		p->kw[p->nkw] = strdup(o->keyword);
		p->vals[p->nkw] = strdup(o->val);
		if (p->kw[p->nkw++] == NULL || p->vals[p->nkw - 1] == NULL)
			goto fail;
	}
	if (asprintf(&extra, "%s%s-c statement_timeout=%d", user_options ? user_options : "",
		     user_options ? " " : "", p->opts.query_timeout_ms) == -1)
		goto fail;
	p->vals[p->nkw] = extra;
	if ((p->kw[p->nkw++] = strdup("options")) == NULL)
		goto fail;
	if (!have_app) {
		if (asprintf(&extra, "vacancyd-%s", p->name) == -1)
			goto fail;
		p->vals[p->nkw] = extra;
		if ((p->kw[p->nkw++] = strdup("application_name")) == NULL)
			goto fail;
	}
	PQconninfoFree(opts);
	return 0;
fail:
	log_warnx("db %s: out of memory", p->name);
	PQconninfoFree(opts);
	return -1;
}

/* Validates, builds the connection keywords, and starts every connection connecting. */
struct db_pool *
db_pool_new(struct event_base *base, const char *conninfo, const struct db_pool_opts *opts)
{
	struct db_pool *p = NULL;
	const struct db_pool_opts *o = opts;
	struct timeval now;

	if (base == NULL || conninfo == NULL || o == NULL || o->size < 1 || o->max_queue < 0 ||
	    o->query_timeout_ms < 1 || o->reconnect_min_ms < 1 ||
	    o->reconnect_max_ms < o->reconnect_min_ms || o->connect_timeout_ms < 1) {
		log_warnx("db: bad pool options");
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto fail;
	p->base = base;
	p->opts = *o;
	TAILQ_INIT(&p->waitq);
	TAILQ_INIT(&p->doneq);
	if ((p->name = strdup(o->name != NULL ? o->name : "db")) == NULL)
		goto fail;
	p->opts.name = p->name;
	if (db_pool_conninfo(p, conninfo) == -1)
		goto fail;
	p->deadline_tv = db_tv(o->query_timeout_ms);
	p->grace_tv = db_tv(DB_GRACE_MS);
	p->connect_tv = db_tv(o->connect_timeout_ms);
	/* Every query has the same two durations: O(1) timer queues instead of the heap. */
	p->deadline = event_base_init_common_timeout(base, &p->deadline_tv);
	p->grace = event_base_init_common_timeout(base, &p->grace_tv);
	if (p->deadline == NULL)
		p->deadline = &p->deadline_tv;
	if (p->grace == NULL)
		p->grace = &p->grace_tv;
	gettimeofday(&now, NULL);
	p->rng = ((uint64_t)now.tv_sec << 20) ^ (uint64_t)now.tv_usec ^ (uint64_t)getpid() ^
		 (uint64_t)(uintptr_t)p;
	if (p->rng == 0)
		p->rng = 1;
	if ((p->done_ev = event_new(base, -1, 0, db_pool_done_cb, p)) == NULL)
		goto fail;
	if ((p->conns = calloc((size_t)o->size, sizeof(*p->conns))) == NULL)
		goto fail;
	for (int i = 0; i < o->size; i++) {
		struct db_conn *c = &p->conns[i];

		c->pool = p;
		c->id = i;
		c->state = DB_CONN_BROKEN;
		c->ev_fd = -1;
		c->backoff_ms = o->reconnect_min_ms;
		if ((c->timer = evtimer_new(base, db_conn_timer_cb, c)) == NULL)
			goto fail;
	}
	for (int i = 0; i < o->size; i++)
		db_conn_connect(&p->conns[i]);
	return p;
fail:
	if (p != NULL) {
		log_warnx("db %s: cannot create the pool", p->name != NULL ? p->name : "db");
		p->closing = 1;
		db_pool_destroy(p);
	}
	return NULL;
}

/* Frees the pool and everything it still owns; no query may be left. */
static void
db_pool_destroy(struct db_pool *p)
{
	if (p->conns != NULL) {
		for (int i = 0; i < p->opts.size; i++) {
			struct db_conn *c = &p->conns[i];

			if (c->ev != NULL)
				event_free(c->ev);
			if (c->timer != NULL)
				event_free(c->timer);
			PQclear(c->res);
			PQfinish(c->pg);
		}
		free(p->conns);
	}
	for (int i = 0; i < p->nstmts; i++) {
		free(p->stmts[i].name);
		free(p->stmts[i].sql);
	}
	for (int i = 0; i < p->nkw; i++) {
		free(p->kw[i]);
		if (p->vals[i] != NULL)
			explicit_bzero(p->vals[i], strlen(p->vals[i])); /* a password */
		free(p->vals[i]);
	}
	free(p->vals);
	free(p->kw);
	if (p->done_ev != NULL)
		event_free(p->done_ev);
	free(p->name);
	free(p);
}

/* Closes all, completes every query now (callbacks run here), frees unless in a callback. */
void
db_pool_free(struct db_pool *p)
{
	struct db_query *q;

	if (p == NULL || p->closing)
		return;
	p->closing = 1;
	for (int i = 0; i < p->opts.size; i++)
		db_conn_close(&p->conns[i], "the pool is shutting down");
	while ((q = TAILQ_FIRST(&p->waitq)) != NULL) {
		TAILQ_REMOVE(&p->waitq, q, entry);
		p->nwaiting--;
		db_query_complete(q, DB_UNAVAILABLE, NULL, "the pool is shutting down");
	}
	/* Callbacks run now; they may cancel queries still in doneq. */
	while ((q = TAILQ_FIRST(&p->doneq)) != NULL)
		db_query_deliver(q);
	if (p->in_callback == 0)
		db_pool_destroy(p); /* else db_pool_done_cb does it when the callback returns */
}

/* Registry index of a named statement, added if new; -1: name taken by other SQL, or full. */
static DB_MUST_CHECK int
db_pool_stmt(struct db_pool *p, const struct db_stmt *stmt)
{
	char esc[128];

	for (int i = 0; i < p->nstmts; i++) {
		if (strcmp(p->stmts[i].name, stmt->name) != 0)
			continue;
		if (strcmp(p->stmts[i].sql, stmt->sql) == 0)
			return i;
		log_warnx("db %s: statement \"%s\" was registered with other SQL", p->name,
			  log_escape(stmt->name, 64, esc, sizeof(esc)));
		return -1;
	}
	if (p->nstmts == DB_MAX_STMTS) {
		log_warnx("db %s: more than %d named statements", p->name, DB_MAX_STMTS);
		return -1;
	}
	p->stmts[p->nstmts].name = strdup(stmt->name);
	p->stmts[p->nstmts].sql = strdup(stmt->sql);
	if (p->stmts[p->nstmts].name == NULL || p->stmts[p->nstmts].sql == NULL) {
		free(p->stmts[p->nstmts].name);
		free(p->stmts[p->nstmts].sql);
		return -1;
	}
	return p->nstmts++;
}

/* Copies nparams parameters into one allocation owned by q. */
static DB_MUST_CHECK int
db_query_params(struct db_query *q, int nparams, const char *const *params)
{
	size_t size = (size_t)nparams * sizeof(char *), len;
	char *s;

	for (int i = 0; i < nparams; i++)
		if (params[i] != NULL)
			size += strlen(params[i]) + 1;
	q->nparams = nparams;
	q->params_bytes = size;
	if (nparams == 0)
		return 0;
	if ((q->params = malloc(size)) == NULL)
		return -1;
	s = (char *)(q->params + nparams);
	for (int i = 0; i < nparams; i++) {
		if (params[i] == NULL) {
			q->params[i] = NULL;
			continue;
		}
		len = strlen(params[i]) + 1;
		memcpy(s, params[i], len);
		q->params[i] = s;
		s += len;
	}
	return 0;
}

/* Queues a copy of the statement and its parameters, and dispatches at once if it can. */
struct db_query *
db_query(struct db_pool *p, const struct db_stmt *stmt, int nparams, const char *const *params,
	 db_result_cb cb, void *arg)
{
	struct db_query *q = NULL;
	int idx = -1;

	if (p == NULL || p->closing || stmt == NULL || stmt->sql == NULL || cb == NULL ||
	    nparams < 0 || nparams > DB_MAX_PARAMS || (nparams > 0 && params == NULL) ||
	    (stmt->name != NULL && stmt->name[0] == '\0'))
		return NULL;
	if (p->nwaiting >= p->opts.max_queue && db_pool_idle(p) == NULL) {
		log_debug("db %s: queue full (%d waiting)", p->name, p->nwaiting);
		return NULL;
	}
	if (stmt->name != NULL && (idx = db_pool_stmt(p, stmt)) == -1)
		return NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		goto fail;
	q->pool = p;
	q->stmt = idx;
	q->cb = cb;
	q->arg = arg;
	if (idx < 0 && (q->sql = strdup(stmt->sql)) == NULL)
		goto fail;
	if (db_query_params(q, nparams, params) == -1)
		goto fail;
	if ((q->timer = evtimer_new(p->base, db_query_timer_cb, q)) == NULL)
		goto fail;
	if (evtimer_add(q->timer, p->deadline) == -1)
		goto fail;
	q->state = DB_QUERY_WAITING;
	TAILQ_INSERT_TAIL(&p->waitq, q, entry);
	p->nwaiting++;
	p->queries++;
	db_pool_dispatch(p); /* never runs a callback: q stays valid for the caller */
	return q;
fail:
	log_warnx("db %s: out of memory", p->name);
	db_query_free(q);
	return NULL;
}

/* Drops q wherever it is; a running q stays on its connection, marked, until it ends. */
void
db_query_cancel(struct db_query *q)
{
	struct db_pool *p;

	if (q == NULL)
		return;
	p = q->pool;
	log_debug("db %s: cancelling a %s query", p->name, db_query_state_names[q->state]);
	switch (q->state) {
	case DB_QUERY_WAITING:
		TAILQ_REMOVE(&p->waitq, q, entry);
		p->nwaiting--;
		db_query_free(q);
		break;
	case DB_QUERY_RUNNING:
		/* The connection finishes it (or its deadline closes the connection). */
		q->cancelled = 1;
		q->cb = NULL;
		q->arg = NULL;
		break;
	case DB_QUERY_DONE:
		TAILQ_REMOVE(&p->doneq, q, entry);
		db_query_free(q);
		break;
	case DB_QUERY_CALLING:
		break; /* freed when its callback returns */
	}
}

/* Counts connections by state and copies the counters. */
void
db_pool_stats(const struct db_pool *p, struct db_pool_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->size = p->opts.size;
	for (int i = 0; i < p->opts.size; i++) {
		switch (p->conns[i].state) {
		case DB_CONN_CONNECTING:
			out->connecting++;
			break;
		case DB_CONN_IDLE:
			out->idle++;
			break;
		case DB_CONN_BUSY:
			out->busy++;
			break;
		case DB_CONN_BROKEN:
			out->broken++;
			break;
		}
	}
	out->queued = p->nwaiting;
	out->queries = p->queries;
	out->errors = p->errors;
	out->unavailable = p->unavailable;
	out->timeouts = p->timeouts;
	out->reconnects = p->reconnects;
	out->recycled = p->recycled;
}

/* Some connection is IDLE or BUSY. */
int
db_pool_healthy(const struct db_pool *p)
{
	for (int i = 0; i < p->opts.size; i++)
		if (p->conns[i].state == DB_CONN_IDLE || p->conns[i].state == DB_CONN_BUSY)
			return 1;
	return 0;
}
