/*
 * rmsync: the read model's load and refresh. See rmsync.h.
 */
#include <math.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "codec.h"
#include "log.h"
#include "pgmap.h"
#include "project.h"
#include "om.h"
#include "req.h"
#include "rmsync.h"
#include "searchq.h"
#include "server.h"

/* The investor view's row with the model's keys in front. */
/* A refresh that applied at least this many changes returns freed memory. */
#define RMSYNC_TRIM_ROWS 1000

#define RM_KEYS                                                                                    \
	"(extract(epoch FROM p._updated_at) * 1000000)::bigint AS _k_us, "                         \
	"p._usage::text AS _k_usage, p._marketing::text AS _k_marketing, "                         \
	"(p._price * 100)::bigint AS _k_price, (p._rent * 100)::bigint AS _k_rent, "               \
	"ST_Y(p._geom) AS _k_lat, ST_X(p._geom) AS _k_lon, p.*"

/* The overview model's columns of a live record r (with its internal row
 * i): the keys of registry.overview() (007), the vacancy start computed as
 * it does (by the precision of vacant_since, else the first vacant status
 * in the history), dates as days since 1970. */
#define OM_COLS                                                                                    \
	"r.record_id AS _o_id, r.municipality_ags AS _o_ags, r.object_type::text AS _o_type, "     \
	"r.site_kind::text AS _o_kind, r.status::text AS _o_status, r.usage::text AS _o_usage, "   \
	"registry.is_published(i.publication, r.status, i.owner_consent, i.owner_category, "       \
	"r.withdrawn_at) AS _o_pub, r.usable_area_m2 AS _o_usable, r.plot_area_m2 AS _o_plot, "    \
	"r.last_verified_at - date '1970-01-01' AS _o_verified, "                                  \
	"CASE WHEN r.status IN ('SUSPECTED', 'CONFIRMED', 'MARKETED', 'RESERVED') THEN CASE "      \
	"WHEN r.vacant_since IS NULL THEN (SELECT min(h.changed_at AT TIME ZONE "                  \
	"'Europe/Berlin')::date FROM registry.history h WHERE h.record_id = r.record_id AND "      \
	"h.field = 'status' AND h.new_value IN ('SUSPECTED', 'CONFIRMED', 'MARKETED', "            \
	"'RESERVED')) WHEN r.vacant_since_precision = 'MONTH' THEN (date_trunc('month', "          \
	"r.vacant_since) + interval '14 days')::date WHEN r.vacant_since_precision = 'YEAR' "      \
	"THEN make_date(extract(year FROM r.vacant_since)::int, 7, 1) ELSE r.vacant_since END "    \
	"- date '1970-01-01' END AS _o_start"

static const struct db_stmt rmsync_om_stmt = {
    "om_changes",
    "WITH c AS (SELECT seq, record_id FROM registry.feed WHERE seq > $1::bigint ORDER BY seq "
    "LIMIT $2::int) SELECT registry.today() - date '1970-01-01' AS _today, c.seq AS _seq, "
    "c.record_id AS _rid, o.* FROM (SELECT 1) one LEFT JOIN c ON true LEFT JOIN LATERAL "
    "(SELECT " OM_COLS " FROM registry.record r JOIN registry.record_internal i USING "
    "(record_id) WHERE r.record_id = c.record_id AND r.withdrawn_at IS NULL) o ON true "
    "ORDER BY c.seq",
};

static const struct db_stmt rmsync_changes_stmt = {
    "rm_changes",
    "SELECT c.seq AS _seq, c.record_id AS _rid, " RM_KEYS " FROM investor.changes c "
    "LEFT JOIN investor.published_record p ON p.record_id = c.record_id "
    "WHERE c.seq > $1::bigint ORDER BY c.seq LIMIT $2::int",
};

struct rmsync_waiter {
	struct req *r;
	void (*done)(struct req *r);
	uint64_t need, om_need; /* the refreshes that must have ended */
	struct timespec deadline;
	TAILQ_ENTRY(rmsync_waiter) entry;
};

struct rmsync {
	struct server *srv;
	/* connections of their own: a slow or locked database stalls the
	 * refreshes, never the requests' pools */
	struct db_pool *ipool, *spool;
	struct rm *m;
	struct event *timer;
	struct db_query *query;
	int limit;
	uint64_t started, ended; /* refreshes issued, refreshes ended reading to the end */
	TAILQ_HEAD(, rmsync_waiter) waiters;
	uint64_t refreshes, changes, answers;
	double last_ms;
	struct timespec t0;
	/* the overview model: every live record, from registry.feed */
	struct om *om;
	int64_t om_seq;
	int32_t today; /* registry.today(), days since 1970 */
	int om_failed;
	struct db_query *om_query;
	uint64_t om_started, om_ended;
	uint64_t om_generation; /* changes whenever the figures may */
};

/* Column numbers of a result. */
struct rmsync_cols {
	int seq, rid, us, usage, marketing, price, rent, lat, lon, ags, ars, kind, type, status,
	    usable, plot, id;
};

static void
rmsync_cols(const PGresult *res, struct rmsync_cols *c)
{
	c->seq = PQfnumber(res, "_seq");
	c->rid = PQfnumber(res, "_rid");
	c->us = PQfnumber(res, "_k_us");
	c->usage = PQfnumber(res, "_k_usage");
	c->marketing = PQfnumber(res, "_k_marketing");
	c->price = PQfnumber(res, "_k_price");
	c->rent = PQfnumber(res, "_k_rent");
	c->lat = PQfnumber(res, "_k_lat");
	c->lon = PQfnumber(res, "_k_lon");
	c->ags = PQfnumber(res, "municipality_ags");
	c->ars = PQfnumber(res, "municipality_ars");
	c->kind = PQfnumber(res, "site_kind");
	c->type = PQfnumber(res, "object_type");
	c->status = PQfnumber(res, "status");
	c->usable = PQfnumber(res, "usable_area_m2");
	c->plot = PQfnumber(res, "plot_area_m2");
	c->id = PQfnumber(res, "record_id");
}

static uint8_t
rmsync_enum(const ProtobufCEnumDescriptor *d, const char *name)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(d, name);

	return v != NULL ? (uint8_t)v->value : 0;
}

/* "{A,B}" to a bit set of the enum's values. */
static uint8_t
rmsync_set(const ProtobufCEnumDescriptor *d, const char *s)
{
	char name[64];
	uint8_t bits = 0;

	while (*s != '\0') {
		size_t n;

		s += strspn(s, "{},");
		n = strcspn(s, "{},");
		if (n == 0)
			break;
		snprintf(name, sizeof(name), "%.*s", (int)n, s);
		bits |= (uint8_t)(1u << rmsync_enum(d, name));
		s += n;
	}
	return bits;
}

static double
rmsync_double(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NAN : strtod(PQgetvalue(res, row, col), NULL);
}

static int64_t
rmsync_cents(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? -1 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/*
 * Row i as keys and the encoded public Record. 1 when published, 0 when
 * not (or when the code's projection refuses it), -1 on an error.
 */
static int
rmsync_row(const PGresult *res, int i, const struct rmsync_cols *c, struct rm_keys *k,
	   struct buf *pb)
{
	Vacancy__V1__Record *rec;
	char err[256];
	uint8_t *at;
	size_t n;

	if (PQgetisnull(res, i, c->id))
		return 0;
	memset(k, 0, sizeof(*k));
	if (searchq_uuid_parse(PQgetvalue(res, i, c->id), k->id) == -1)
		return -1;
	k->updated_us = strtoll(PQgetvalue(res, i, c->us), NULL, 10);
	k->ags = (uint32_t)strtoul(PQgetvalue(res, i, c->ags), NULL, 10);
	k->ars = PQgetisnull(res, i, c->ars) ? 0 : strtoull(PQgetvalue(res, i, c->ars), NULL, 10);
	k->usable = rmsync_double(res, i, c->usable);
	k->plot = rmsync_double(res, i, c->plot);
	k->price = rmsync_cents(res, i, c->price);
	k->rent = rmsync_cents(res, i, c->rent);
	k->lat = rmsync_double(res, i, c->lat);
	k->lon = rmsync_double(res, i, c->lon);
	k->site_kind =
	    rmsync_enum(&vacancy__v1__site_kind__value__descriptor, PQgetvalue(res, i, c->kind));
	k->object_type =
	    rmsync_enum(&vacancy__v1__object_type__value__descriptor, PQgetvalue(res, i, c->type));
	k->status =
	    rmsync_enum(&vacancy__v1__status__value__descriptor, PQgetvalue(res, i, c->status));
	k->usage = rmsync_set(&vacancy__v1__usage__value__descriptor, PQgetvalue(res, i, c->usage));
	k->marketing = rmsync_set(&vacancy__v1__marketing__value__descriptor,
				  PQgetvalue(res, i, c->marketing));
	if ((rec = codec_heap.alloc(NULL, sizeof(*rec))) == NULL)
		return -1;
	vacancy__v1__record__init(rec);
	if (pgmap_row(res, i, &rec->base, &codec_heap, err, sizeof(err)) == -1) {
		log_warnx("read model: a record could not be read: %s", err);
		protobuf_c_message_free_unpacked(&rec->base, &codec_heap);
		return -1;
	}
	/* the code's projection on top of the view's, as for every answer */
	if (project_record(rec, ROLE_INVESTOR, &codec_heap) == -1) {
		protobuf_c_message_free_unpacked(&rec->base, &codec_heap);
		return 0;
	}
	n = protobuf_c_message_get_packed_size(&rec->base);
	buf_reset(pb);
	if ((at = buf_extend(pb, n)) != NULL)
		protobuf_c_message_pack(&rec->base, at);
	protobuf_c_message_free_unpacked(&rec->base, &codec_heap);
	return at == NULL ? -1 : 1;
}

/* Applies the rows of res at seq (or each row's _seq). -1 on an error. */
static int
rmsync_apply(struct rmsync *s, const PGresult *res, int64_t seq)
{
	struct rmsync_cols c;
	struct buf pb;
	int rc = 0;

	rmsync_cols(res, &c);
	buf_init(&pb, 0);
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		struct rm_keys k;
		unsigned char id[16];
		int64_t at = c.seq >= 0 ? strtoll(PQgetvalue(res, i, c.seq), NULL, 10) : seq;
		int published = rmsync_row(res, i, &c, &k, &pb);

		if (published == -1)
			rc = -1;
		else if (published == 0 && c.rid < 0)
			continue; /* the load: a row the projection refuses is not shown */
		else if (c.rid >= 0 && searchq_uuid_parse(PQgetvalue(res, i, c.rid), id) == -1)
			rc = -1;
		else if (rm_apply(s->m, at, published ? k.id : id, published ? &k : NULL,
				  (const unsigned char *)pb.data, pb.len) == -1)
			rc = -1;
	}
	buf_free(&pb);
	return rc;
}

static PGresult *
rmsync_exec(PGconn *pg, const char *sql, ExecStatusType want)
{
	PGresult *res = PQexec(pg, sql);

	if (PQresultStatus(res) != want) {
		char esc[256];
		const char *msg = PQresultErrorMessage(res);

		log_warnx("read model: load failed: %s",
			  log_escape(msg, strlen(msg), esc, sizeof(esc)));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* ---- the overview model's rows ---- */

/* Applies the om rows of res; each row with _o_id is put, one without it
 * (a record gone) removed. -1 on an error. */
static int
rmsync_om_apply(struct rmsync *s, const PGresult *res)
{
	int cid = PQfnumber(res, "_o_id"), cags = PQfnumber(res, "_o_ags"),
	    ctype = PQfnumber(res, "_o_type"), ckind = PQfnumber(res, "_o_kind"),
	    cstatus = PQfnumber(res, "_o_status"), cusage = PQfnumber(res, "_o_usage"),
	    cpub = PQfnumber(res, "_o_pub"), cusable = PQfnumber(res, "_o_usable"),
	    cplot = PQfnumber(res, "_o_plot"), cver = PQfnumber(res, "_o_verified"),
	    cstart = PQfnumber(res, "_o_start"), cseq = PQfnumber(res, "_seq"),
	    crid = PQfnumber(res, "_rid");

	for (int i = 0; i < PQntuples(res); i++) {
		struct om_rec o;

		if (cseq >= 0 && PQgetisnull(res, i, cseq))
			continue; /* the refresh's row for today alone */
		if (cseq >= 0) {
			int64_t seq = strtoll(PQgetvalue(res, i, cseq), NULL, 10);

			if (seq > s->om_seq)
				s->om_seq = seq;
		}
		if (PQgetisnull(res, i, cid)) {
			unsigned char id[16];

			if (crid < 0 || searchq_uuid_parse(PQgetvalue(res, i, crid), id) == -1)
				return -1;
			om_remove(s->om, id);
			continue;
		}
		memset(&o, 0, sizeof(o));
		if (searchq_uuid_parse(PQgetvalue(res, i, cid), o.id) == -1)
			return -1;
		o.ags = (uint32_t)strtoul(PQgetvalue(res, i, cags), NULL, 10);
		o.object_type = rmsync_enum(&vacancy__v1__object_type__value__descriptor,
					    PQgetvalue(res, i, ctype));
		o.site_kind = rmsync_enum(&vacancy__v1__site_kind__value__descriptor,
					  PQgetvalue(res, i, ckind));
		o.status = rmsync_enum(&vacancy__v1__status__value__descriptor,
				       PQgetvalue(res, i, cstatus));
		o.usage =
		    rmsync_set(&vacancy__v1__usage__value__descriptor, PQgetvalue(res, i, cusage));
		o.published = PQgetvalue(res, i, cpub)[0] == 't';
		o.usable = rmsync_double(res, i, cusable);
		o.plot = rmsync_double(res, i, cplot);
		o.verified_day = (int32_t)strtol(PQgetvalue(res, i, cver), NULL, 10);
		o.vacancy_start_day = PQgetisnull(res, i, cstart)
					  ? OM_NONE
					  : (int32_t)strtol(PQgetvalue(res, i, cstart), NULL, 10);
		if (om_put(s->om, &o) == -1)
			return -1;
	}
	return 0;
}

static int
rmsync_om_load(struct rmsync *s)
{
	PGconn *pg = PQconnectdb(s->srv->cfg->db_staff_conninfo);
	PGresult *res = NULL;
	int rc = -1;

	if (PQstatus(pg) != CONNECTION_OK) {
		char esc[256];
		const char *msg = PQerrorMessage(pg);

		log_warnx("overview model: cannot connect: %s",
			  log_escape(msg, strlen(msg), esc, sizeof(esc)));
		goto out;
	}
	if ((res = rmsync_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			       PGRES_COMMAND_OK)) == NULL)
		goto out;
	PQclear(res);
	if ((res = rmsync_exec(pg,
			       "SELECT coalesce(max(seq), 0), registry.today() - date '1970-01-01' "
			       "FROM registry.feed",
			       PGRES_TUPLES_OK)) == NULL)
		goto out;
	s->om_seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	s->today = (int32_t)strtol(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	if ((res = rmsync_exec(pg,
			       "DECLARE om_load NO SCROLL CURSOR FOR SELECT " OM_COLS
			       " FROM registry.record r JOIN registry.record_internal i USING "
			       "(record_id) WHERE r.withdrawn_at IS NULL",
			       PGRES_COMMAND_OK)) == NULL)
		goto out;
	PQclear(res);
	for (;;) {
		if ((res = rmsync_exec(pg, "FETCH 5000 FROM om_load", PGRES_TUPLES_OK)) == NULL)
			goto out;
		if (PQntuples(res) == 0)
			break;
		if (rmsync_om_apply(s, res) == -1)
			goto out;
		PQclear(res);
		res = NULL;
	}
	rc = 0;
out:
	PQclear(res);
	PQfinish(pg);
	return rc;
}

/* ---- the initial load: one snapshot, before the daemon listens ---- */

static int
rmsync_load(struct rmsync *s)
{
	PGconn *pg = PQconnectdb(s->srv->cfg->db_investor_conninfo);
	PGresult *res = NULL;
	int64_t seq;
	int rc = -1;

	if (PQstatus(pg) != CONNECTION_OK) {
		char esc[256];
		const char *msg = PQerrorMessage(pg);

		log_warnx("read model: cannot connect: %s",
			  log_escape(msg, strlen(msg), esc, sizeof(esc)));
		goto out;
	}
	if ((res = rmsync_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			       PGRES_COMMAND_OK)) == NULL)
		goto out;
	PQclear(res);
	if ((res = rmsync_exec(pg, "SELECT coalesce(max(seq), 0) FROM investor.changes",
			       PGRES_TUPLES_OK)) == NULL)
		goto out;
	seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if ((res = rmsync_exec(pg,
			       "DECLARE rm_load NO SCROLL CURSOR FOR SELECT " RM_KEYS
			       " FROM investor.published_record p",
			       PGRES_COMMAND_OK)) == NULL)
		goto out;
	PQclear(res);
	for (;;) {
		int n;

		if ((res = rmsync_exec(pg, "FETCH 5000 FROM rm_load", PGRES_TUPLES_OK)) == NULL)
			goto out;
		if ((n = PQntuples(res)) == 0)
			break;
		if (rmsync_apply(s, res, seq) == -1) {
			log_warnx("read model: load failed (out of memory or a bad row)");
			goto out;
		}
		PQclear(res);
		res = NULL;
	}
	rm_advance(s->m, seq);
	rm_mark_exact(s->m, seq, time(NULL));
	rc = 0;
out:
	PQclear(res);
	PQfinish(pg);
	return rc;
}

/* ---- refreshes ---- */

static double
rmsync_ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static void rmsync_refresh(struct rmsync *s);

/* Calls the waiters whose refresh has ended, or whose time is up. */
static void
rmsync_wake(struct rmsync *s)
{
	struct rmsync_waiter *w, *next;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (w = TAILQ_FIRST(&s->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if ((s->ended >= w->need &&
		     (s->om == NULL || s->om_failed || s->om_ended >= w->om_need)) ||
		    now.tv_sec > w->deadline.tv_sec ||
		    (now.tv_sec == w->deadline.tv_sec && now.tv_nsec >= w->deadline.tv_nsec)) {
			struct req *r = w->r;
			void (*done)(struct req *) = w->done;

			TAILQ_REMOVE(&s->waiters, w, entry);
			free(w);
			done(r);
		}
	}
}

static void
rmsync_refresh_cb(enum db_status st, const PGresult *res, const char *errmsg, void *arg)
{
	struct rmsync *s = arg;
	uint64_t gen = s->started;
	int rows;

	s->query = NULL;
	if (st != DB_OK) {
		char esc[256];

		log_warnx("read model: refresh failed: %s",
			  log_escape(errmsg, strlen(errmsg), esc, sizeof(esc)));
		rmsync_wake(s);
		return;
	}
	rows = PQntuples(res);
	if (rmsync_apply(s, res, 0) == -1) {
		/* the model no longer mirrors the database: SQL answers */
		log_warnx("read model: a change could not be applied; answering from SQL");
		rmsync_wake(s);
		return;
	}
	s->refreshes++;
	s->changes += (uint64_t)rows;
	s->last_ms = rmsync_ms_since(&s->t0);
	if (rows < s->limit) {
		/* read to the end: the model is the database as of its position */
		rm_mark_exact(s->m, rm_seq(s->m), time(NULL));
		s->ended = gen;
	}
	rm_expire(s->m, time(NULL) - s->srv->cfg->page_token_ttl_s);
	/* replaced encodings leave holes: give free pages back after a burst */
	if (rows >= RMSYNC_TRIM_ROWS)
		malloc_trim(0);
	rmsync_wake(s);
	/* more to read, or a writer waiting for a refresh begun after it */
	if (rows == s->limit || !TAILQ_EMPTY(&s->waiters))
		rmsync_refresh(s);
}

static void
rmsync_om_cb(enum db_status st, const PGresult *res, const char *errmsg, void *arg)
{
	struct rmsync *s = arg;
	uint64_t gen = s->om_started;
	int changes;

	s->om_query = NULL;
	if (st != DB_OK) {
		char esc[256];

		log_warnx("overview model: refresh failed: %s",
			  log_escape(errmsg, strlen(errmsg), esc, sizeof(esc)));
		rmsync_wake(s);
		return;
	}
	if (PQntuples(res) > 0) {
		int32_t today =
		    (int32_t)strtol(PQgetvalue(res, 0, PQfnumber(res, "_today")), NULL, 10);

		if (today != s->today)
			s->om_generation++;
		s->today = today;
	}
	changes = PQgetisnull(res, 0, PQfnumber(res, "_seq")) ? 0 : PQntuples(res);
	if (changes > 0)
		s->om_generation++;
	if (rmsync_om_apply(s, res) == -1) {
		log_warnx("overview model: a change could not be applied; answering from SQL");
		s->om_failed = 1;
	}
	if (changes < s->limit)
		s->om_ended = gen;
	rmsync_wake(s);
	if (changes == s->limit || !TAILQ_EMPTY(&s->waiters))
		rmsync_refresh(s);
}

static void
rmsync_om_refresh(struct rmsync *s)
{
	char after[24], limit[16];
	const char *params[2] = {after, limit};

	if (s->om == NULL || s->om_failed || s->om_query != NULL)
		return;
	snprintf(after, sizeof(after), "%lld", (long long)s->om_seq);
	snprintf(limit, sizeof(limit), "%d", s->limit);
	s->om_query = db_query(s->spool, &rmsync_om_stmt, 2, params, rmsync_om_cb, s);
	if (s->om_query != NULL)
		s->om_started++;
}

static void
rmsync_refresh(struct rmsync *s)
{
	rmsync_om_refresh(s);
	char after[24], limit[16];
	const char *params[2] = {after, limit};

	if (s->query != NULL || rm_failed(s->m))
		return;
	snprintf(after, sizeof(after), "%lld", (long long)rm_seq(s->m));
	snprintf(limit, sizeof(limit), "%d", s->limit);
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	s->query = db_query(s->ipool, &rmsync_changes_stmt, 2, params, rmsync_refresh_cb, s);
	if (s->query != NULL)
		s->started++;
}

static void
rmsync_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rmsync_refresh(arg);
	rmsync_wake(arg);
}

struct rmsync *
rmsync_new(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	struct timeval tv = {cfg->read_model_refresh_ms / 1000,
			     (cfg->read_model_refresh_ms % 1000) * 1000};
	struct timespec t0;
	struct rmsync *s;

	if (!cfg->read_model)
		return NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL || (s->m = rm_new()) == NULL) {
		free(s);
		log_warnx("read model: out of memory; answering from SQL");
		return NULL;
	}
	s->srv = srv;
	s->limit = cfg->read_model_batch;
	TAILQ_INIT(&s->waiters);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rmsync_load(s) == -1) {
		log_warnx("read model: not loaded; investor searches answer from SQL");
		rmsync_free(s);
		return NULL;
	}
	log_info("read model: %zu published records loaded at feed position %lld in %.0f ms, "
		 "%zu bytes",
		 rm_count(s->m), (long long)rm_seq(s->m), rmsync_ms_since(&t0), rm_bytes(s->m));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((s->om = om_new()) == NULL || rmsync_om_load(s) == -1) {
		log_warnx("overview model: not loaded; overviews answer from SQL");
		om_free(s->om);
		s->om = NULL;
	} else {
		log_info("overview model: %zu records loaded at feed position %lld in %.0f ms, "
			 "%zu bytes",
			 om_count(s->om), (long long)s->om_seq, rmsync_ms_since(&t0),
			 om_bytes(s->om));
	}
	/* after the loads: a pool's connection attempts need the event loop */
	{
		struct db_pool_opts io = server_pool_opts(cfg, "investor-model");
		struct db_pool_opts so = server_pool_opts(cfg, "staff-model");

		io.size = so.size = 1;
		if ((s->ipool = db_pool_new(srv->base, cfg->db_investor_conninfo, &io)) == NULL ||
		    (s->spool = db_pool_new(srv->base, cfg->db_staff_conninfo, &so)) == NULL) {
			log_warnx("read model: no database pool; answering from SQL");
			rmsync_free(s);
			return NULL;
		}
	}
	if ((s->timer = event_new(srv->base, -1, EV_PERSIST, rmsync_timer_cb, s)) == NULL ||
	    event_add(s->timer, &tv) == -1) {
		rmsync_free(s);
		return NULL;
	}
	return s;
}

void
rmsync_free(struct rmsync *s)
{
	struct rmsync_waiter *w;

	if (s == NULL)
		return;
	while ((w = TAILQ_FIRST(&s->waiters)) != NULL) {
		TAILQ_REMOVE(&s->waiters, w, entry);
		free(w);
	}
	if (s->query != NULL)
		db_query_cancel(s->query);
	if (s->om_query != NULL)
		db_query_cancel(s->om_query);
	db_pool_free(s->ipool);
	db_pool_free(s->spool);
	om_free(s->om);
	if (s->timer != NULL)
		event_free(s->timer);
	rm_free(s->m);
	free(s);
}

const struct om *
rmsync_overview(const struct rmsync *s, int32_t *today)
{
	if (s == NULL || s->om == NULL || s->om_failed)
		return NULL;
	*today = s->today;
	return s->om;
}

uint64_t
rmsync_overview_generation(const struct rmsync *s)
{
	return s != NULL ? s->om_generation : 0;
}

const struct rm *
rmsync_model(const struct rmsync *s)
{
	return s != NULL && !rm_failed(s->m) && rm_exact_now(s->m) >= 0 ? s->m : NULL;
}

int
rmsync_wait(struct rmsync *s, struct req *r, void (*done)(struct req *r))
{
	struct rmsync_waiter *w;
	int ms;

	if (s == NULL || rm_failed(s->m) || (w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	w->r = r;
	w->done = done;
	/* a refresh that starts after now; one in flight may have begun
	 * before the caller's commit */
	w->need = s->started + 1;
	w->om_need = s->om_started + 1;
	ms = s->srv->cfg->read_model_wait_ms;
	clock_gettime(CLOCK_MONOTONIC, &w->deadline);
	w->deadline.tv_sec += ms / 1000;
	w->deadline.tv_nsec += (long)(ms % 1000) * 1000000;
	if (w->deadline.tv_nsec >= 1000000000) {
		w->deadline.tv_sec++;
		w->deadline.tv_nsec -= 1000000000;
	}
	TAILQ_INSERT_TAIL(&s->waiters, w, entry);
	rmsync_refresh(s);
	return 0;
}

void
rmsync_forget(struct rmsync *s, struct req *r)
{
	struct rmsync_waiter *w;

	if (s == NULL)
		return;
	TAILQ_FOREACH(w, &s->waiters, entry)
	{
		if (w->r == r) {
			TAILQ_REMOVE(&s->waiters, w, entry);
			free(w);
			return;
		}
	}
}

void
rmsync_answered(struct rmsync *s)
{
	if (s != NULL)
		s->answers++;
}

void
rmsync_stats(const struct rmsync *s, struct rmsync_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return;
	out->records = rm_count(s->m);
	out->versions = rm_versions(s->m);
	out->bytes = rm_bytes(s->m);
	out->refreshes = s->refreshes;
	out->changes = s->changes;
	out->answers = s->answers;
	out->seq = rm_seq(s->m);
	out->last_refresh_ms = s->last_ms;
}
