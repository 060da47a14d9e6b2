/*
 * test_db: the asynchronous pool of daemon/db.c against a real PostgreSQL.
 *
 * Needs VACANCY_TEST_PG_CONNINFO (a superuser on a throwaway cluster) and,
 * for the restart test, VACANCY_TEST_PG_RESTART (a shell command that
 * restarts that cluster and returns once it is up). Every test makes its own
 * event_base and pool and runs the loop only through t_run(), which is
 * bounded by a timer, so no test can hang.
 */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "db.h"

void test_db_register(void);

#define T_FIELDS 8
#define T_VALLEN 128
#define T_INT4	 23
#define T_TEXT	 25
#define T_BOOL	 16
#define T_FLOAT8 701

/* What a callback saw; res is borrowed by the callback, so everything is copied. */
struct t_rec {
	int called;
	enum db_status st;
	ExecStatusType pgst;
	char sqlstate[8];
	char errmsg[256];
	int ntuples, nfields;
	char val[T_FIELDS][T_VALLEN];
	int isnull[T_FIELDS];
	int len[T_FIELDS];
	Oid type[T_FIELDS];
	int seq;      /* rank among all completions of the test */
	double at_ms; /* when, from t_start */
	/* Actions for callbacks that act on the pool. */
	struct db_pool *pool;
	struct db_query *cancel; /* cancelled from the callback */
	int chain;		 /* submit the next link of a chain */
	int free_pool;		 /* call db_pool_free from the callback */
	int refused;		 /* db_query from the callback returned NULL */
};

static const char *t_conninfo;
static struct t_rec t_dummy; /* for queries that must be refused */
static int t_completed;
static int t_timed_out;
static struct timespec t_start;

/* Milliseconds since t_start. */
static double
t_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t_start.tv_sec) * 1000.0 +
	       (double)(now.tv_nsec - t_start.tv_nsec) / 1e6;
}

/* Resets the per-test counters. */
static void
t_begin(void)
{
	t_completed = 0;
	clock_gettime(CLOCK_MONOTONIC, &t_start);
}

/* Records a completion into the t_rec of arg. */
static void
t_record_cb(enum db_status st, const PGresult *res, const char *errmsg, void *arg)
{
	struct t_rec *r = arg;
	const char *code;

	r->called++;
	r->st = st;
	r->seq = t_completed++;
	r->at_ms = t_ms();
	snprintf(r->errmsg, sizeof(r->errmsg), "%s", errmsg != NULL ? errmsg : "(null)");
	r->sqlstate[0] = '\0';
	r->ntuples = r->nfields = 0;
	r->pgst = PGRES_EMPTY_QUERY;
	if (res == NULL)
		return;
	r->pgst = PQresultStatus(res);
	code = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (code != NULL)
		snprintf(r->sqlstate, sizeof(r->sqlstate), "%s", code);
	r->ntuples = PQntuples(res);
	r->nfields = PQnfields(res);
	for (int i = 0; i < r->nfields && i < T_FIELDS; i++) {
		r->type[i] = PQftype(res, i);
		if (r->ntuples == 0)
			continue;
		r->isnull[i] = PQgetisnull(res, 0, i);
		r->len[i] = PQgetlength(res, 0, i);
		snprintf(r->val[i], sizeof(r->val[i]), "%s", PQgetvalue(res, 0, i));
	}
}

/* Records, then does what the t_rec asks of a callback. */
static void
t_act_cb(enum db_status st, const PGresult *res, const char *errmsg, void *arg)
{
	static const struct db_stmt next = {NULL, "SELECT $1::int"};
	struct t_rec *r = arg;
	char num[16];
	const char *params[1] = {num};

	t_record_cb(st, res, errmsg, arg);
	if (r->cancel != NULL)
		db_query_cancel(r->cancel);
	if (r->chain > 0) {
		/* r[1] is the next link of an array of t_rec. */
		r[1].pool = r->pool;
		r[1].chain = r->chain - 1;
		snprintf(num, sizeof(num), "%d", r->seq + 1);
		if (db_query(r->pool, &next, 1, params, t_act_cb, &r[1]) == NULL)
			r->refused = 1;
	}
	if (r->free_pool) {
		db_pool_free(r->pool);
		/* The pool is closing (not yet freed: this callback is on its stack). */
		r->free_pool = 0;
	}
}

/* Callback run while db_pool_free drains: submitting must be refused. */
static void
t_submit_cb(enum db_status st, const PGresult *res, const char *errmsg, void *arg)
{
	static const struct db_stmt one = {NULL, "SELECT 1"};
	struct t_rec *r = arg;

	t_record_cb(st, res, errmsg, arg);
	if (db_query(r->pool, &one, 0, NULL, t_record_cb, &t_dummy) == NULL)
		r->refused = 1;
}

/* Timer of t_run: the bound of one wait. */
static void
t_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	t_timed_out = 1;
}

typedef int (*t_pred)(const void *arg);

/* Runs the loop until pred(arg) holds or timeout_ms passes; returns pred(arg). */
static int
t_run(struct event_base *base, t_pred pred, const void *arg, int timeout_ms)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	struct event *t = evtimer_new(base, t_timeout_cb, NULL);

	if (t == NULL || evtimer_add(t, &tv) == -1) {
		CU_FAIL("cannot arm the test timer");
		return 0;
	}
	t_timed_out = 0;
	while ((pred == NULL || !pred(arg)) && !t_timed_out)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return pred == NULL ? 1 : pred(arg);
}

/* At least *arg callbacks have run. */
static int
t_pred_completed(const void *arg)
{
	return t_completed >= *(const int *)arg;
}

/* The pool has a usable connection. */
static int
t_pred_healthy(const void *arg)
{
	return db_pool_healthy(arg);
}

/* Every connection of the pool is IDLE. */
static int
t_pred_all_idle(const void *arg)
{
	struct db_pool_stats s;

	db_pool_stats(arg, &s);
	return s.idle == s.size;
}

/* Some connection of the pool is BUSY. */
static int
t_pred_busy(const void *arg)
{
	struct db_pool_stats s;

	db_pool_stats(arg, &s);
	return s.busy > 0;
}

/* Runs until n callbacks (counted from the start of the test) have run. */
static int
t_wait(struct event_base *base, int n, int timeout_ms)
{
	return t_run(base, t_pred_completed, &n, timeout_ms);
}

/* Pool options of the tests. */
static struct db_pool_opts
t_opts(int size, int max_queue, int timeout_ms)
{
	struct db_pool_opts o = {
	    .name = "dbtest",
	    .size = size,
	    .max_queue = max_queue,
	    .query_timeout_ms = timeout_ms,
	    .reconnect_min_ms = 20,
	    .reconnect_max_ms = 200,
	    .connect_timeout_ms = 3000,
	};
	return o;
}

/* A pool on the test cluster with every connection up, or NULL. */
static struct db_pool *
t_pool(struct event_base *base, int size, int max_queue, int timeout_ms)
{
	struct db_pool_opts o = t_opts(size, max_queue, timeout_ms);
	struct db_pool *pool = db_pool_new(base, t_conninfo, &o);

	if (pool == NULL)
		return NULL;
	if (!t_run(base, t_pred_all_idle, pool, 10000)) {
		db_pool_free(pool);
		return NULL;
	}
	return pool;
}

/* Submits sql with params; the handle must not be NULL. */
static struct db_query *
t_query(struct db_pool *pool, const char *sql, int n, const char *const *params, struct t_rec *r)
{
	struct db_stmt stmt = {NULL, sql};

	return db_query(pool, &stmt, n, params, t_record_cb, r);
}

/* The test conninfo rewritten as key='value' pairs, followed by extra; -1 if too long. */
static int
t_conninfo_plus(char *out, size_t outlen, const char *extra)
{
	PQconninfoOption *opts = PQconninfoParse(t_conninfo, NULL);
	size_t o = 0;
	int rc = -1;

	if (opts == NULL)
		return -1;
	for (PQconninfoOption *opt = opts; opt->keyword != NULL; opt++) {
		if (opt->val == NULL)
			continue;
		if (o + strlen(opt->keyword) + 2 * strlen(opt->val) + 5 >= outlen)
			goto done;
		o += (size_t)sprintf(out + o, "%s='", opt->keyword);
		for (const char *v = opt->val; *v != '\0'; v++) {
			if (*v == '\'' || *v == '\\')
				out[o++] = '\\';
			out[o++] = *v;
		}
		out[o++] = '\'';
		out[o++] = ' ';
	}
	if (o + strlen(extra) + 1 > outlen)
		goto done;
	strcpy(out + o, extra);
	rc = 0;
done:
	PQconninfoFree(opts);
	return rc;
}

/* Options in conninfo are kept; statement_timeout is the pool's; application_name theirs. */
static void
test_db_conninfo_options(void)
{
	struct event_base *base = event_base_new();
	struct db_pool_opts o = t_opts(1, 10, 2500);
	struct db_pool *pool;
	struct t_rec r[1];
	char conninfo[2048];

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_EQUAL_FATAL(
	    t_conninfo_plus(conninfo, sizeof(conninfo),
			    "options='-c search_path=dbtest_sp "
			    "-c statement_timeout=0' application_name=dbtest_own"),
	    0);
	pool = db_pool_new(base, conninfo, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_PTR_NOT_NULL(t_query(pool,
				       "SELECT current_setting('search_path'), "
				       "current_setting('statement_timeout'), "
				       "current_setting('application_name')",
				       0, NULL, &r[0]));
	CU_ASSERT_TRUE(t_wait(base, 1, 5000));
	CU_ASSERT_EQUAL(r[0].st, DB_OK);
	CU_ASSERT_STRING_EQUAL(r[0].val[0], "dbtest_sp");
	CU_ASSERT_STRING_EQUAL(r[0].val[1], "2500ms");
	CU_ASSERT_STRING_EQUAL(r[0].val[2], "dbtest_own");
	db_pool_free(pool);
	event_base_free(base);
}

/* Parameters, SQL NULL, types of results, connect options, bad arguments. */
static void
test_db_simple(void)
{
	struct event_base *base = event_base_new();
	struct db_pool *pool;
	struct db_pool_stats s;
	struct db_stmt stmt = {NULL, "SELECT 1"}, empty_name = {"", "SELECT 1"};
	const char *params[3] = {"41", "h\xc3\xa9llo 'quoted' \\ ;", NULL};
	struct t_rec r[3];

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	pool = t_pool(base, 2, 10, 5000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_TRUE(db_pool_healthy(pool));

	CU_ASSERT_PTR_NOT_NULL(t_query(pool,
				       "SELECT $1::int + 1, $2::text, $3::text IS NULL, $3::text, "
				       "1.5::float8, current_setting('application_name'), "
				       "current_setting('statement_timeout')",
				       3, params, &r[0]));
	/* The callback never runs inside db_query, even with idle connections. */
	CU_ASSERT_EQUAL(r[0].called, 0);
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "DO $$BEGIN END$$", 0, NULL, &r[1]));
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1 WHERE false", 0, NULL, &r[2]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, 3, 5000));

	CU_ASSERT_EQUAL(r[0].called, 1);
	CU_ASSERT_EQUAL(r[0].st, DB_OK);
	CU_ASSERT_STRING_EQUAL(r[0].errmsg, "");
	CU_ASSERT_EQUAL(r[0].pgst, PGRES_TUPLES_OK);
	CU_ASSERT_EQUAL(r[0].ntuples, 1);
	CU_ASSERT_EQUAL(r[0].nfields, 7);
	CU_ASSERT_STRING_EQUAL(r[0].val[0], "42");
	CU_ASSERT_EQUAL(r[0].type[0], T_INT4);
	CU_ASSERT_STRING_EQUAL(r[0].val[1], params[1]);
	CU_ASSERT_EQUAL(r[0].type[1], T_TEXT);
	CU_ASSERT_STRING_EQUAL(r[0].val[2], "t");
	CU_ASSERT_EQUAL(r[0].type[2], T_BOOL);
	CU_ASSERT_TRUE(r[0].isnull[3]);
	CU_ASSERT_FALSE(r[0].isnull[0]);
	CU_ASSERT_STRING_EQUAL(r[0].val[4], "1.5");
	CU_ASSERT_EQUAL(r[0].type[4], T_FLOAT8);
	CU_ASSERT_STRING_EQUAL(r[0].val[5], "vacancyd-dbtest");
	CU_ASSERT_STRING_EQUAL(r[0].val[6], "5s");

	CU_ASSERT_EQUAL(r[1].called, 1);
	CU_ASSERT_EQUAL(r[1].st, DB_OK);
	CU_ASSERT_EQUAL(r[1].pgst, PGRES_COMMAND_OK);
	CU_ASSERT_EQUAL(r[2].st, DB_OK);
	CU_ASSERT_EQUAL(r[2].ntuples, 0);

	/* Bad arguments: refused, nothing queued. */
	CU_ASSERT_PTR_NULL(db_query(pool, &stmt, 0, NULL, NULL, NULL));
	CU_ASSERT_PTR_NULL(db_query(pool, NULL, 0, NULL, t_record_cb, &r[0]));
	CU_ASSERT_PTR_NULL(db_query(pool, &stmt, -1, NULL, t_record_cb, &r[0]));
	CU_ASSERT_PTR_NULL(db_query(pool, &stmt, 1, NULL, t_record_cb, &r[0]));
	CU_ASSERT_PTR_NULL(db_query(pool, &empty_name, 0, NULL, t_record_cb, &r[0]));
	CU_ASSERT_PTR_NULL(db_query(NULL, &stmt, 0, NULL, t_record_cb, &r[0]));

	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.size, 2);
	CU_ASSERT_EQUAL(s.idle, 2);
	CU_ASSERT_EQUAL(s.queued, 0);
	CU_ASSERT_EQUAL(s.queries, 3);
	CU_ASSERT_EQUAL(s.errors, 0);
	CU_ASSERT_EQUAL(s.unavailable, 0);
	CU_ASSERT_EQUAL(s.reconnects, 0);
	CU_ASSERT_EQUAL(r[0].called + r[1].called + r[2].called, 3);
	db_pool_free(pool);
	event_base_free(base);
}

/* SQL errors are DB_ERROR with their SQLSTATE, and leave the connection usable. */
static void
test_db_sql_error(void)
{
	struct event_base *base = event_base_new();
	struct db_pool *pool;
	struct db_pool_stats s;
	const char *zero[1] = {"0"};
	struct t_rec r[4];

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	pool = t_pool(base, 1, 10, 5000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELEC 1", 0, NULL, &r[0]));
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1 / $1::int", 1, zero, &r[1]));
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1; SELECT 2", 0, NULL, &r[2]));
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 7", 0, NULL, &r[3]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, 4, 5000));

	CU_ASSERT_EQUAL(r[0].st, DB_ERROR);
	CU_ASSERT_EQUAL(r[0].pgst, PGRES_FATAL_ERROR);
	CU_ASSERT_STRING_EQUAL(r[0].sqlstate, "42601");
	CU_ASSERT_PTR_NOT_NULL(strstr(r[0].errmsg, "syntax error"));
	CU_ASSERT_EQUAL(r[1].st, DB_ERROR);
	CU_ASSERT_STRING_EQUAL(r[1].sqlstate, "22012");
	CU_ASSERT_STRING_EQUAL(r[1].errmsg, "division by zero");
	CU_ASSERT_EQUAL(r[2].st, DB_ERROR);
	CU_ASSERT_STRING_EQUAL(r[2].sqlstate, "42601");
	CU_ASSERT_EQUAL(r[3].st, DB_OK);
	CU_ASSERT_STRING_EQUAL(r[3].val[0], "7");
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(r[i].seq, i);

	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.errors, 3);
	CU_ASSERT_EQUAL(s.unavailable, 0);
	CU_ASSERT_EQUAL(s.reconnects, 0);
	CU_ASSERT_EQUAL(s.idle, 1);
	CU_ASSERT_TRUE(db_pool_healthy(pool));
	db_pool_free(pool);
	event_base_free(base);
}

/* Submits n "SELECT $1::int, pg_backend_pid()" with i as parameter into r[i]. */
static int
t_submit_numbers(struct db_pool *pool, int n, struct t_rec *r)
{
	char num[16];
	const char *params[1] = {num};
	int ok = 0;

	for (int i = 0; i < n; i++) {
		snprintf(num, sizeof(num), "%d", i);
		ok += t_query(pool, "SELECT $1::int, pg_backend_pid()", 1, params, &r[i]) != NULL;
	}
	return ok;
}

/* More queries than connections: all complete, dispatched first come first served. */
static void
test_db_fifo(void)
{
	enum { N1 = 40, N3 = 120, SIZE = 3 };
	struct event_base *base = event_base_new();
	struct db_pool_opts o = t_opts(1, N1, 5000);
	struct db_pool *pool;
	struct db_pool_stats s;
	struct t_rec *r = calloc(N3, sizeof(*r));
	char num[16];
	int worst = 0;

	t_begin();
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);

	/* One connection: strictly in order. Submitted while still connecting. */
	pool = db_pool_new(base, t_conninfo, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_EQUAL(t_submit_numbers(pool, N1, r), N1);
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.queued, N1);
	CU_ASSERT_TRUE_FATAL(t_wait(base, N1, 10000));
	for (int i = 0; i < N1; i++) {
		snprintf(num, sizeof(num), "%d", i);
		CU_ASSERT_EQUAL(r[i].called, 1);
		CU_ASSERT_EQUAL(r[i].st, DB_OK);
		CU_ASSERT_EQUAL(r[i].seq, i);
		CU_ASSERT_STRING_EQUAL(r[i].val[0], num);
		CU_ASSERT_STRING_EQUAL(r[i].val[1], r[0].val[1]); /* one backend */
	}
	db_pool_free(pool);

	/*
	 * SIZE connections: at most SIZE run at once and they are dispatched in
	 * order, so when query i completes, at most SIZE - 1 older ones can be
	 * still unfinished.
	 */
	t_begin();
	memset(r, 0, N3 * sizeof(*r));
	pool = t_pool(base, SIZE, N3, 10000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_EQUAL(t_submit_numbers(pool, N3, r), N3);
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.busy, SIZE);
	CU_ASSERT_EQUAL(s.queued, N3 - SIZE);
	CU_ASSERT_TRUE_FATAL(t_wait(base, N3, 10000));
	for (int i = 0; i < N3; i++) {
		int later = 0;

		snprintf(num, sizeof(num), "%d", i);
		CU_ASSERT_EQUAL(r[i].called, 1);
		CU_ASSERT_EQUAL(r[i].st, DB_OK);
		CU_ASSERT_STRING_EQUAL(r[i].val[0], num);
		for (int j = 0; j < i; j++)
			later += r[j].seq > r[i].seq;
		worst = later > worst ? later : worst;
	}
	CU_ASSERT(worst <= SIZE - 1);
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.queries, N3);
	CU_ASSERT_EQUAL(s.queued, 0);
	CU_ASSERT_EQUAL(s.idle, SIZE);
	db_pool_free(pool);
	event_base_free(base);
	free(r);
}

/* max_queue bounds the waiting queries; running ones do not count. */
static void
test_db_queue_full(void)
{
	struct event_base *base = event_base_new();
	struct db_pool_opts o = t_opts(1, 3, 5000);
	struct db_pool *pool;
	struct db_pool_stats s;
	struct t_rec r[8];

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	pool = db_pool_new(base, t_conninfo, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	/* Still connecting: everything waits. */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1", 0, NULL, &r[i]));
	CU_ASSERT_PTR_NULL(t_query(pool, "SELECT 1", 0, NULL, &r[3]));
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.queued, 3);
	CU_ASSERT_EQUAL(s.queries, 3);
	CU_ASSERT_TRUE_FATAL(t_wait(base, 3, 5000));
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(r[i].st, DB_OK);
	CU_ASSERT_EQUAL(r[3].called, 0);

	/* One running plus three waiting; the fifth is refused. */
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT pg_sleep(0.2)", 0, NULL, &r[4]));
	for (int i = 5; i < 8; i++)
		CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1", 0, NULL, &r[i]));
	CU_ASSERT_PTR_NULL(t_query(pool, "SELECT 1", 0, NULL, &r[3]));
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.busy, 1);
	CU_ASSERT_EQUAL(s.queued, 3);
	CU_ASSERT_TRUE_FATAL(t_wait(base, 7, 5000));
	for (int i = 4; i < 8; i++) {
		CU_ASSERT_EQUAL(r[i].called, 1);
		CU_ASSERT_EQUAL(r[i].st, DB_OK);
	}
	CU_ASSERT_EQUAL(r[3].called, 0);
	/* Room again. */
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1", 0, NULL, &r[3]));
	CU_ASSERT_TRUE(t_wait(base, 8, 5000));
	CU_ASSERT_EQUAL(r[3].st, DB_OK);
	db_pool_free(pool);
	event_base_free(base);
}

/* Cancelled queries never call back; cancelling a running one keeps its session. */
static void
test_db_cancel(void)
{
	struct event_base *base = event_base_new();
	struct db_pool *pool;
	struct db_pool_stats s;
	struct db_query *a, *b, *d;
	struct t_rec r[6];

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	pool = t_pool(base, 1, 10, 5000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT pg_backend_pid()", 0, NULL, &r[0]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, 1, 5000));

	a = t_query(pool, "SELECT pg_sleep(0.3), 'a'", 0, NULL, &r[1]);
	b = t_query(pool, "SELECT 'b'", 0, NULL, &r[2]);
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 'c', pg_backend_pid()", 0, NULL, &r[3]));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.busy, 1);
	CU_ASSERT_EQUAL(s.queued, 2);
	db_query_cancel(b); /* waiting */
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.queued, 1);
	CU_ASSERT_TRUE(t_run(base, NULL, NULL, 50)); /* a is on the server now */
	db_query_cancel(a);			     /* running */
	CU_ASSERT_TRUE_FATAL(t_wait(base, 2, 5000));
	CU_ASSERT_EQUAL(r[3].called, 1);
	CU_ASSERT_EQUAL(r[3].st, DB_OK);
	CU_ASSERT_STRING_EQUAL(r[3].val[0], "c");
	/* The same session served c after the cancelled a. */
	CU_ASSERT_STRING_EQUAL(r[3].val[1], r[0].val[0]);
	CU_ASSERT(r[3].at_ms >= 250);

	/* Cancelled right after it was sent to an idle connection. */
	d = t_query(pool, "SELECT 'd'", 0, NULL, &r[4]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	db_query_cancel(d);
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 'e'", 0, NULL, &r[5]));
	CU_ASSERT_TRUE(t_wait(base, 3, 5000));
	CU_ASSERT_STRING_EQUAL(r[5].val[0], "e");
	t_run(base, NULL, NULL, 100); /* a late callback would show here */

	CU_ASSERT_EQUAL(r[1].called, 0);
	CU_ASSERT_EQUAL(r[2].called, 0);
	CU_ASSERT_EQUAL(r[4].called, 0);
	CU_ASSERT_EQUAL(t_completed, 3);
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.reconnects, 0);
	CU_ASSERT_EQUAL(s.idle, 1);
	db_pool_free(pool);
	event_base_free(base);
}

/* Callbacks submit new queries and cancel queries that are running, waiting or finished. */
static void
test_db_reentrant(void)
{
	enum { CHAIN = 20, ROUNDS = 10 };
	struct event_base *base = event_base_new();
	struct db_pool *pool;
	struct t_rec chain[CHAIN + 1], x[3];
	char num[16];

	t_begin();
	memset(chain, 0, sizeof(chain));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	pool = t_pool(base, 2, 10, 5000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);

	/* A chain: each callback submits the next query. */
	chain[0].pool = pool;
	chain[0].chain = CHAIN;
	{
		struct db_stmt stmt = {NULL, "SELECT 0"};

		CU_ASSERT_PTR_NOT_NULL(db_query(pool, &stmt, 0, NULL, t_act_cb, &chain[0]));
	}
	CU_ASSERT_TRUE_FATAL(t_wait(base, CHAIN + 1, 5000));
	for (int i = 0; i <= CHAIN; i++) {
		snprintf(num, sizeof(num), "%d", i);
		CU_ASSERT_EQUAL(chain[i].called, 1);
		CU_ASSERT_EQUAL(chain[i].st, DB_OK);
		CU_ASSERT_EQUAL(chain[i].seq, i);
		CU_ASSERT_STRING_EQUAL(chain[i].val[0], num);
		CU_ASSERT_EQUAL(chain[i].refused, 0);
	}

	/*
	 * x0 and x1 go to the two idle connections and usually finish in the
	 * same loop turn; whichever callback runs first cancels the other, which
	 * by then has mostly finished (its callback pending), sometimes is still
	 * running. x2 waits behind them and is cancelled. Exactly one calls back.
	 */
	for (int round = 0; round < ROUNDS; round++) {
		struct db_stmt s0 = {NULL, "SELECT 'x0'"}, s1 = {NULL, "SELECT 'x1'"};
		struct db_query *q0, *q1, *q2;

		t_begin();
		memset(x, 0, sizeof(x));
		CU_ASSERT_TRUE_FATAL(t_run(base, t_pred_all_idle, pool, 5000));
		q0 = db_query(pool, &s0, 0, NULL, t_act_cb, &x[0]);
		q1 = db_query(pool, &s1, 0, NULL, t_act_cb, &x[1]);
		q2 = t_query(pool, "SELECT 'x2'", 0, NULL, &x[2]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(q0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(q1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(q2);
		x[0].cancel = q1;
		x[1].cancel = q0;
		db_query_cancel(q2);
		CU_ASSERT_TRUE(t_wait(base, 1, 5000));
		t_run(base, t_pred_all_idle, pool, 5000);
		t_run(base, NULL, NULL, 20);
		CU_ASSERT_EQUAL(x[0].called + x[1].called, 1);
		CU_ASSERT_EQUAL(x[0].st, DB_OK);
		CU_ASSERT_EQUAL(x[1].st, DB_OK);
		CU_ASSERT_EQUAL(x[2].called, 0);
		CU_ASSERT_EQUAL(t_completed, 1);
	}
	db_pool_free(pool);
	event_base_free(base);
}

/* statement_timeout, set from query_timeout_ms, ends a long statement on the server. */
static void
test_db_deadline_statement(void)
{
	struct event_base *base = event_base_new();
	struct db_pool *pool;
	struct db_pool_stats s;
	struct t_rec r[2];
	double sent;

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	pool = t_pool(base, 1, 10, 300);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	sent = t_ms();
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT pg_sleep(5)", 0, NULL, &r[0]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, 1, 5000));
	CU_ASSERT_NOT_EQUAL(r[0].st, DB_OK);
	CU_ASSERT_EQUAL(r[0].st, DB_ERROR);
	CU_ASSERT_STRING_EQUAL(r[0].sqlstate, "57014");
	CU_ASSERT(r[0].at_ms - sent >= 250);
	CU_ASSERT(r[0].at_ms - sent < 1300);

	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1", 0, NULL, &r[1]));
	CU_ASSERT_TRUE(t_wait(base, 2, 5000));
	CU_ASSERT_EQUAL(r[1].st, DB_OK);
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.timeouts, 1);
	CU_ASSERT_EQUAL(s.reconnects, 0);
	db_pool_free(pool);
	event_base_free(base);
}

/*
 * With statement_timeout switched off on the session, a statement runs past
 * deadline + grace: its connection is closed and it is DB_UNAVAILABLE. The
 * query waiting behind it times out at its own deadline.
 */
static void
test_db_deadline_waiting(void)
{
	struct event_base *base = event_base_new();
	struct db_pool *pool;
	struct db_pool_stats s;
	struct t_rec r[4];
	double sent;

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	pool = t_pool(base, 1, 10, 300);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_PTR_NOT_NULL(
	    t_query(pool, "SELECT set_config('statement_timeout', '0', false)", 0, NULL, &r[0]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, 1, 5000));
	CU_ASSERT_EQUAL_FATAL(r[0].st, DB_OK);

	sent = t_ms();
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT pg_sleep(3)", 0, NULL, &r[1]));
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1", 0, NULL, &r[2]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, 3, 5000));

	CU_ASSERT_EQUAL(r[2].st, DB_UNAVAILABLE);
	CU_ASSERT_STRING_EQUAL(r[2].errmsg, "timed out waiting for a connection");
	CU_ASSERT(r[2].at_ms - sent >= 250);
	CU_ASSERT(r[2].at_ms - sent < 1000);
	CU_ASSERT_EQUAL(r[2].seq, 1);

	CU_ASSERT_EQUAL(r[1].st, DB_UNAVAILABLE);
	CU_ASSERT_STRING_EQUAL(r[1].errmsg, "query timed out");
	CU_ASSERT(r[1].at_ms - sent >= 1250);
	CU_ASSERT(r[1].at_ms - sent < 2500);
	CU_ASSERT_EQUAL(r[1].seq, 2);

	/* A new session, with statement_timeout as configured again. */
	CU_ASSERT_PTR_NOT_NULL(
	    t_query(pool, "SELECT current_setting('statement_timeout')", 0, NULL, &r[3]));
	CU_ASSERT_TRUE(t_wait(base, 4, 5000));
	CU_ASSERT_EQUAL(r[3].st, DB_OK);
	CU_ASSERT_STRING_EQUAL(r[3].val[0], "300ms");
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.timeouts, 2);
	CU_ASSERT_EQUAL(s.unavailable, 2);
	CU_ASSERT(s.reconnects >= 1);
	CU_ASSERT_TRUE(db_pool_healthy(pool));
	db_pool_free(pool);
	event_base_free(base);
}

/* A named statement is prepared once per session, and again after a reconnect. */
static void
test_db_prepared(void)
{
	enum { N = 25 };
	static const struct db_stmt add = {"dbtest_add", "SELECT $1::int + 1"};
	static const struct db_stmt add_other = {"dbtest_add", "SELECT $1::int + 2"};
	static const struct db_stmt bad = {"dbtest_bad", "SELEC 1"};
	static const char *plans = "SELECT generic_plans + custom_plans, statement "
				   "FROM pg_prepared_statements WHERE name = $1";
	struct event_base *base = event_base_new();
	struct db_pool *pool;
	struct db_pool_stats s;
	struct t_rec r[N], x[8], y[3];
	char num[16], want[16], count[16];
	const char *params[1] = {num};
	const char *pname[1] = {"dbtest_add"}, *bname[1] = {"dbtest_bad"};

	t_begin();
	memset(r, 0, sizeof(r));
	memset(x, 0, sizeof(x));
	memset(y, 0, sizeof(y));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	pool = t_pool(base, 1, N + 5, 5000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	for (int i = 0; i < N; i++) {
		snprintf(num, sizeof(num), "%d", i);
		CU_ASSERT_PTR_NOT_NULL(db_query(pool, &add, 1, params, t_record_cb, &r[i]));
	}
	/* The same name for other SQL is refused. */
	CU_ASSERT_PTR_NULL(db_query(pool, &add_other, 1, params, t_record_cb, &x[7]));
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, plans, 1, pname, &x[0]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, N + 1, 5000));
	for (int i = 0; i < N; i++) {
		snprintf(want, sizeof(want), "%d", i + 1);
		CU_ASSERT_EQUAL(r[i].st, DB_OK);
		CU_ASSERT_STRING_EQUAL(r[i].val[0], want);
	}
	snprintf(count, sizeof(count), "%d", N);
	CU_ASSERT_EQUAL(x[0].st, DB_OK);
	CU_ASSERT_EQUAL(x[0].ntuples, 1);
	CU_ASSERT_STRING_EQUAL(x[0].val[0], count); /* prepared once, executed N times */
	CU_ASSERT_STRING_EQUAL(x[0].val[1], add.sql);

	/* A statement that does not prepare is an error each time, never "does not exist". */
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &bad, 0, NULL, t_record_cb, &x[1]));
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &bad, 0, NULL, t_record_cb, &x[2]));
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, plans, 1, bname, &x[3]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, N + 4, 5000));
	CU_ASSERT_EQUAL(x[1].st, DB_ERROR);
	CU_ASSERT_STRING_EQUAL(x[1].sqlstate, "42601");
	CU_ASSERT_EQUAL(x[2].st, DB_ERROR);
	CU_ASSERT_STRING_EQUAL(x[2].sqlstate, "42601");
	CU_ASSERT_EQUAL(x[3].st, DB_OK);
	CU_ASSERT_EQUAL(x[3].ntuples, 0);

	/* Deallocated behind the pool's back: one error, then it is prepared again. */
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "DEALLOCATE dbtest_add", 0, NULL, &y[0]));
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &add, 1, params, t_record_cb, &y[1]));
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &add, 1, params, t_record_cb, &y[2]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, N + 7, 5000));
	CU_ASSERT_EQUAL(y[0].st, DB_OK);
	CU_ASSERT_EQUAL(y[1].st, DB_ERROR);
	CU_ASSERT_STRING_EQUAL(y[1].sqlstate, "26000");
	CU_ASSERT_EQUAL(y[2].st, DB_OK);

	/* The server ends the session: the pool reconnects and prepares again. */
	CU_ASSERT_PTR_NOT_NULL(
	    t_query(pool, "SELECT pg_terminate_backend(pg_backend_pid())", 0, NULL, &x[4]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, N + 8, 5000));
	CU_ASSERT_EQUAL(x[4].st, DB_UNAVAILABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(x[4].errmsg, "terminating connection"));
	CU_ASSERT_TRUE_FATAL(t_run(base, t_pred_all_idle, pool, 5000));
	snprintf(num, sizeof(num), "%d", 41);
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &add, 1, params, t_record_cb, &x[5]));
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, plans, 1, pname, &x[6]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, N + 10, 5000));
	CU_ASSERT_EQUAL(x[5].st, DB_OK);
	CU_ASSERT_STRING_EQUAL(x[5].val[0], "42");
	CU_ASSERT_EQUAL(x[6].st, DB_OK);
	CU_ASSERT_STRING_EQUAL(x[6].val[0], "1");
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.reconnects, 1);
	CU_ASSERT_EQUAL(s.errors, 3);
	CU_ASSERT_EQUAL(s.unavailable, 1);
	CU_ASSERT_EQUAL(x[7].called, 0);
	db_pool_free(pool);
	event_base_free(base);
}

/*
 * A query with parameters of recycle_bytes or more: its connection is opened
 * anew (a new backend), the answer is delivered, prepared statements are
 * prepared again; smaller queries keep the session.
 */
static void
test_db_recycle(void)
{
	static const struct db_stmt len = {"dbtest_len", "SELECT length($1), pg_backend_pid()"};
	struct event_base *base = event_base_new();
	struct db_pool_opts o = t_opts(1, 10, 5000);
	struct db_pool *pool;
	struct db_pool_stats s;
	struct t_rec r[4];
	char *big = malloc(5001);
	const char *small_p[1] = {"abc"}, *big_p[1] = {big};

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'x', 5000);
	big[5000] = '\0';
	o.recycle_bytes = 4096;
	pool = db_pool_new(base, t_conninfo, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_TRUE_FATAL(t_run(base, t_pred_all_idle, pool, 10000));
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &len, 1, small_p, t_record_cb, &r[0]));
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &len, 1, small_p, t_record_cb, &r[1]));
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &len, 1, big_p, t_record_cb, &r[2]));
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &len, 1, small_p, t_record_cb, &r[3]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, 4, 5000));
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(r[i].st, DB_OK);
	CU_ASSERT_STRING_EQUAL(r[0].val[0], "3");
	CU_ASSERT_STRING_EQUAL(r[2].val[0], "5000");
	CU_ASSERT_STRING_EQUAL(r[3].val[0], "3");
	/* one backend until the large query, another after it */
	CU_ASSERT_STRING_EQUAL(r[0].val[1], r[1].val[1]);
	CU_ASSERT_STRING_EQUAL(r[1].val[1], r[2].val[1]);
	CU_ASSERT_STRING_NOT_EQUAL(r[2].val[1], r[3].val[1]);
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.recycled, 1);
	CU_ASSERT_EQUAL(s.reconnects, 0);
	CU_ASSERT_EQUAL(s.errors + s.unavailable, 0);
	db_pool_free(pool);
	event_base_free(base);
	free(big);
}

/* No server: queries time out waiting, the pool is unhealthy and keeps retrying. */
static void
test_db_unreachable(void)
{
	struct event_base *base = event_base_new();
	struct db_pool_opts o = t_opts(2, 10, 300);
	struct db_pool *pool;
	struct db_pool_stats s;
	struct t_rec r[3];

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	/* Bad strings and options make no pool. */
	CU_ASSERT_PTR_NULL(db_pool_new(base, "this is not a conninfo", &o));
	CU_ASSERT_PTR_NULL(db_pool_new(base, "nosuchkeyword=1", &o));
	o.size = 0;
	CU_ASSERT_PTR_NULL(db_pool_new(base, t_conninfo, &o));
	o = t_opts(2, 10, 300);
	o.reconnect_max_ms = 10;
	CU_ASSERT_PTR_NULL(db_pool_new(base, t_conninfo, &o));

	o = t_opts(2, 10, 300);
	o.reconnect_min_ms = 20;
	o.reconnect_max_ms = 80;
	pool = db_pool_new(base,
			   "host=/nonexistent/vacancyd-dbtest port=5432 user=nobody "
			   "dbname=nobody password=secret",
			   &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1", 0, NULL, &r[i]));
	CU_ASSERT_FALSE(db_pool_healthy(pool));
	CU_ASSERT_TRUE_FATAL(t_wait(base, 3, 3000));
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(r[i].called, 1);
		CU_ASSERT_EQUAL(r[i].st, DB_UNAVAILABLE);
		CU_ASSERT_STRING_EQUAL(r[i].errmsg, "timed out waiting for a connection");
		CU_ASSERT(r[i].at_ms < 1000);
	}
	t_run(base, NULL, NULL, 400);
	CU_ASSERT_FALSE(db_pool_healthy(pool));
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.idle + s.busy, 0);
	CU_ASSERT_EQUAL(s.broken + s.connecting, 2);
	/* 700 ms with backoff 20 .. 80 ms (+-20%): well over 2 attempts per connection. */
	CU_ASSERT(s.reconnects >= 8);
	CU_ASSERT(s.reconnects <= 36); /* without doubling: about 70 */
	CU_ASSERT_EQUAL(s.unavailable, 3);
	CU_ASSERT_EQUAL(s.timeouts, 3);
	db_pool_free(pool);
	event_base_free(base);
}

/* A server that accepts TCP but never answers: connect_timeout_ms ends each attempt. */
static void
test_db_connect_timeout(void)
{
	struct event_base *base = event_base_new();
	struct db_pool_opts o = t_opts(1, 10, 300);
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	struct db_pool *pool;
	struct db_pool_stats s;
	struct t_rec r[1];
	char conninfo[256];
	int fd;

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CU_ASSERT_FATAL(listen(fd, 16) == 0);
	CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
	snprintf(conninfo, sizeof(conninfo),
		 "host=127.0.0.1 port=%d user=nobody dbname=nobody sslmode=disable "
		 "gssencmode=disable",
		 ntohs(sin.sin_port));
	o.connect_timeout_ms = 150;
	o.reconnect_min_ms = 20;
	o.reconnect_max_ms = 40;
	pool = db_pool_new(base, conninfo, &o);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	db_pool_stats(pool, &s);
	CU_ASSERT_EQUAL(s.connecting, 1);
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1", 0, NULL, &r[0]));
	CU_ASSERT_TRUE(t_wait(base, 1, 3000));
	CU_ASSERT_EQUAL(r[0].st, DB_UNAVAILABLE);
	t_run(base, NULL, NULL, 700);
	db_pool_stats(pool, &s);
	/* About 1000 ms / (150 + 30) ms attempts; without the timeout there would be none. */
	CU_ASSERT(s.reconnects >= 3);
	CU_ASSERT(s.reconnects <= 8);
	CU_ASSERT_FALSE(db_pool_healthy(pool));
	db_pool_free(pool);
	close(fd);
	event_base_free(base);
}

/* The server restarts under a running query: DB_UNAVAILABLE, then the pool recovers. */
static void
test_db_restart(void)
{
	const char *restart = getenv("VACANCY_TEST_PG_RESTART");
	struct event_base *base = event_base_new();
	struct db_pool *pool;
	struct db_pool_stats s;
	struct t_rec r[4];
	int rc;

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	if (restart == NULL || restart[0] == '\0') {
		CU_FAIL("VACANCY_TEST_PG_RESTART is not set");
		event_base_free(base);
		return;
	}
	pool = t_pool(base, 2, 10, 10000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT pg_sleep(5)", 0, NULL, &r[0]));
	t_run(base, NULL, NULL, 100); /* the statement reaches the server */
	CU_ASSERT_TRUE(t_pred_busy(pool));

	rc = system(restart);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_TRUE_FATAL(t_wait(base, 1, 10000));
	CU_ASSERT_EQUAL(r[0].st, DB_UNAVAILABLE);
	CU_ASSERT_NOT_EQUAL(r[0].errmsg[0], '\0');
	CU_ASSERT(r[0].at_ms < 5000);

	CU_ASSERT_TRUE(t_run(base, t_pred_healthy, pool, 10000));
	/* Queued behind the reconnect, or sent on a fresh session: both succeed. */
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1", 0, NULL, &r[1]));
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 2", 0, NULL, &r[2]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, 3, 10000));
	CU_ASSERT_EQUAL(r[1].st, DB_OK);
	CU_ASSERT_EQUAL(r[2].st, DB_OK);
	CU_ASSERT_TRUE(t_run(base, t_pred_all_idle, pool, 10000));
	CU_ASSERT_TRUE(db_pool_healthy(pool));
	db_pool_stats(pool, &s);
	CU_ASSERT(s.reconnects >= 2); /* both sessions ended */
	CU_ASSERT_EQUAL(s.unavailable, 1);

	/*
	 * Restarted while idle, and a query comes before the loop has seen it:
	 * the pool finds the sessions ended before sending, so the query waits
	 * for a reconnect instead of failing.
	 */
	rc = system(restart);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 3", 0, NULL, &r[3]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, 4, 10000));
	CU_ASSERT_EQUAL(r[3].st, DB_OK);
	CU_ASSERT_STRING_EQUAL(r[3].val[0], "3");
	db_pool_stats(pool, &s);
	CU_ASSERT(s.reconnects >= 3);
	CU_ASSERT_EQUAL(s.unavailable, 1);
	db_pool_free(pool);
	event_base_free(base);
}

/* db_pool_free completes running and waiting queries once each, before it returns. */
static void
test_db_pool_free(void)
{
	struct event_base *base = event_base_new();
	struct db_pool *pool;
	struct t_rec r[5];

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	pool = t_pool(base, 2, 10, 10000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT pg_sleep(2)", 0, NULL, &r[0]));
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT pg_sleep(2)", 0, NULL, &r[1]));
	for (int i = 2; i < 5; i++)
		CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT 1", 0, NULL, &r[i]));
	t_run(base, NULL, NULL, 50);
	db_pool_free(pool);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(r[i].called, 1);
		CU_ASSERT_EQUAL(r[i].st, DB_UNAVAILABLE);
	}
	t_run(base, NULL, NULL, 50); /* nothing of the pool is left to fire */
	for (int i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(r[i].called, 1);
	event_base_free(base);
}

/* db_pool_free from inside a callback; callbacks run by it cannot submit. */
static void
test_db_pool_free_in_callback(void)
{
	struct event_base *base = event_base_new();
	struct db_pool *pool;
	struct db_stmt one = {NULL, "SELECT 1"}, slow = {NULL, "SELECT pg_sleep(2)"};
	struct t_rec r[4];

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	pool = t_pool(base, 2, 10, 10000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	for (int i = 0; i < 4; i++)
		r[i].pool = pool;
	r[0].free_pool = 1;
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &one, 0, NULL, t_act_cb, &r[0]));
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &slow, 0, NULL, t_submit_cb, &r[1]));
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &one, 0, NULL, t_submit_cb, &r[2]));
	CU_ASSERT_PTR_NOT_NULL(db_query(pool, &one, 0, NULL, t_submit_cb, &r[3]));
	CU_ASSERT_TRUE(t_wait(base, 4, 5000));
	CU_ASSERT_EQUAL(r[0].st, DB_OK);
	for (int i = 1; i < 4; i++) {
		CU_ASSERT_EQUAL(r[i].called, 1);
		CU_ASSERT_EQUAL(r[i].st, DB_UNAVAILABLE);
		CU_ASSERT_EQUAL(r[i].refused, 1);
	}
	t_run(base, NULL, NULL, 50);
	CU_ASSERT_EQUAL(t_completed, 4);
	event_base_free(base);
}

/* Large parameters and results: partial writes (PQflush 1) and many reads per result. */
static void
test_db_large(void)
{
	enum { LEN = 8 << 20 };
	struct event_base *base = event_base_new();
	struct db_pool *pool;
	char *big = malloc(LEN + 1);
	const char *params[1] = {big};
	const char *len[1] = {"8388608"};
	struct t_rec r[3];

	t_begin();
	memset(r, 0, sizeof(r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'v', LEN);
	big[LEN] = '\0';
	pool = t_pool(base, 1, 10, 10000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pool);
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT length($1), md5($1)", 1, params, &r[0]));
	free(big); /* parameters are copied */
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT md5(repeat('v', $1::int))", 1, len, &r[1]));
	CU_ASSERT_PTR_NOT_NULL(t_query(pool, "SELECT repeat('w', $1::int)", 1, len, &r[2]));
	CU_ASSERT_TRUE_FATAL(t_wait(base, 3, 10000));
	CU_ASSERT_EQUAL(r[0].st, DB_OK);
	CU_ASSERT_STRING_EQUAL(r[0].val[0], "8388608");
	CU_ASSERT_EQUAL(r[1].st, DB_OK);
	CU_ASSERT_STRING_EQUAL(r[0].val[1], r[1].val[0]);
	CU_ASSERT_EQUAL(r[2].st, DB_OK);
	CU_ASSERT_EQUAL(r[2].len[0], LEN);
	CU_ASSERT_EQUAL(r[2].val[0][0], 'w');
	db_pool_free(pool);
	event_base_free(base);
}

/* Suite setup: the cluster is given by the environment. */
static int
t_suite_init(void)
{
	t_conninfo = getenv("VACANCY_TEST_PG_CONNINFO");
	if (t_conninfo == NULL || t_conninfo[0] == '\0') {
		fprintf(stderr, "test_db: VACANCY_TEST_PG_CONNINFO is not set\n");
		return 1;
	}
	return 0;
}

/* Adds the suite "db" to the registry (already initialised by the runner). */
void
test_db_register(void)
{
	CU_pSuite s = CU_add_suite("db", t_suite_init, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "simple query, params, NULL, types", test_db_simple);
	CU_add_test(s, "conninfo options are merged", test_db_conninfo_options);
	CU_add_test(s, "SQL errors carry SQLSTATE", test_db_sql_error);
	CU_add_test(s, "large parameters and results", test_db_large);
	CU_add_test(s, "more queries than connections, FIFO", test_db_fifo);
	CU_add_test(s, "queue full refuses", test_db_queue_full);
	CU_add_test(s, "cancel waiting and running", test_db_cancel);
	CU_add_test(s, "callbacks submit and cancel", test_db_reentrant);
	CU_add_test(s, "deadline: statement_timeout", test_db_deadline_statement);
	CU_add_test(s, "deadline: waiting and grace", test_db_deadline_waiting);
	CU_add_test(s, "a large query's connection is opened anew", test_db_recycle);
	CU_add_test(s, "prepared statements", test_db_prepared);
	CU_add_test(s, "unreachable server", test_db_unreachable);
	CU_add_test(s, "connect timeout", test_db_connect_timeout);
	CU_add_test(s, "server restart", test_db_restart);
	CU_add_test(s, "pool free completes all", test_db_pool_free);
	CU_add_test(s, "pool free inside a callback", test_db_pool_free_in_callback);
}
