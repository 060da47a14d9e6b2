/*
 * health: GET /healthz. 200 when both database pools answer a trivial
 * query, 503 otherwise. No authentication; it reveals nothing else.
 */
#include <string.h>

#include "handlers.h"

static const struct db_stmt health_stmt = {"health", "SELECT 1"};

static void
health_reply(struct req *r, int ok)
{
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, ok ? "ok\n" : "database unavailable\n");
	req_reply(r, ok ? 200 : 503, "text/plain; charset=utf-8", &b);
}

/* The investor pool answered (second step). */
static void
health_investor_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	(void)res;
	(void)errmsg;
	health_reply(r, st == DB_OK);
}

/* The staff pool answered (first step). */
static void
health_staff_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	(void)res;
	(void)errmsg;
	if (st != DB_OK) {
		health_reply(r, 0);
		return;
	}
	if (req_query(r, r->srv->investor, &health_stmt, 0, NULL, health_investor_cb) == -1)
		return;
}

void
health_get(struct req *r)
{
	/* A pool with no live connection fails fast instead of queueing. */
	if (!db_pool_healthy(r->srv->staff) || !db_pool_healthy(r->srv->investor)) {
		health_reply(r, 0);
		return;
	}
	if (req_query(r, r->srv->staff, &health_stmt, 0, NULL, health_staff_cb) == -1)
		return;
}
