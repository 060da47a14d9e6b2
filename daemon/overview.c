/*
 * overview: GET /v1/overview (figures per group, or the monthly series) and
 * GET /v1/municipalities (freshness per municipality), docs/overview.md.
 * Parameters are checked strictly (unknown ones are refused, 400 names the
 * parameter); the region must lie in the caller's scope (403). The figures
 * come from set-based SQL functions over the staff role's tables; no
 * personal data is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "handlers.h"
#include "log.h"
#include "om.h"
#include "pgmap.h"
#include "rmsync.h"

#define OVERVIEW_MAX_MONTHS 240

static const char *const overview_keys[] = {"municipality", "object_type", "site_kind", "status",
					    "usage"};

static const struct db_stmt overview_stmt = {
    "overview", "SELECT * FROM registry.overview($1, $2, $3, $4::int)"};
static const struct db_stmt series_stmt = {
    "overview_series",
    /* months not given: the last 24 up to the current one, in Europe/Berlin */
    "SELECT * FROM registry.vacancy_series($1, coalesce($2::date, (date_trunc('month', "
    "registry.today()) - interval '23 months')::date), coalesce($3::date, registry.today()))"};
/* The last accepted transfer of each municipality of a region, for the
 * figures computed in memory (the model does not follow transfers that
 * changed nothing). */
static const struct db_stmt transfers_stmt = {
    "overview_transfers",
    "SELECT municipality_ags, registry.rfc3339(max(received_at)) FROM registry.transfer "
    "WHERE municipality_ags BETWEEN registry.region_lo($1) AND registry.region_hi($1) "
    "GROUP BY 1 ORDER BY 1"};
static const struct db_stmt municipalities_stmt = {
    "municipalities", "SELECT * FROM registry.municipality_list($1, $2::int)"};

/* The checked parameters of a request. */
struct overview_query {
	char region[9];
	const char *group[2]; /* static strings; group[1] may be NULL */
	int series;
	char from[11], to[11]; /* YYYY-MM-01; "" = the database's current month (Berlin) */
};

/* 1 when s is one of the names in allowed (n entries). */
static int
overview_allowed(const char *s, const char *const *allowed, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, allowed[i]) == 0)
			return 1;
	return 0;
}

/* Parses YYYY-MM into YYYY-MM-01 and a month number; 0 or -1. */
static int
overview_month(const char *s, char out[11], int *months)
{
	int y, m;

	if (strlen(s) != 7 || s[4] != '-' || sscanf(s, "%4d-%2d", &y, &m) != 2 || y < 1900 ||
	    y > 2999 || m < 1 || m > 12)
		return -1;
	for (int i = 0; i < 7; i++)
		if (i != 4 && (s[i] < '0' || s[i] > '9'))
			return -1;
	snprintf(out, 11, "%04d-%02d-01", y, m);
	*months = y * 12 + m - 1;
	return 0;
}

/*
 * Checks the query string against the allowed parameters and the caller's
 * scope; fills q. On failure replies (400 or 403) and returns -1.
 */
static int
overview_parse(struct req *r, const char *const *params, size_t nparams, int with_groups,
	       struct overview_query *q)
{
	const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(r->evreq));
	struct evkeyvalq kv;
	struct evkeyval *e;
	const char *region = NULL, *group_by = NULL, *series = NULL, *from = NULL, *to = NULL;
	int mfrom = 0, mto = 0, rc = -1;
	char esc[80];

	memset(q, 0, sizeof(*q));
	TAILQ_INIT(&kv);
	if (qs != NULL && evhttp_parse_query_str(qs, &kv) == -1) {
		req_error(r, 400, "INVALID_ARGUMENT", "the query string is malformed");
		return -1;
	}
	TAILQ_FOREACH(e, &kv, next)
	{
		const char **slot = NULL;

		if (!overview_allowed(e->key, params, nparams)) {
			req_error(r, 400, "INVALID_ARGUMENT", "unknown parameter '%s'",
				  log_escape(e->key, 40, esc, sizeof(esc)));
			goto out;
		}
		if (strcmp(e->key, "region") == 0)
			slot = &region;
		else if (strcmp(e->key, "group_by") == 0)
			slot = &group_by;
		else if (strcmp(e->key, "series") == 0)
			slot = &series;
		else if (strcmp(e->key, "from") == 0)
			slot = &from;
		else
			slot = &to;
		if (*slot != NULL) {
			req_error(r, 400, "INVALID_ARGUMENT", "parameter '%s' is given twice",
				  e->key);
			goto out;
		}
		*slot = e->value;
	}
	/* region: an AGS prefix inside the caller's scope */
	if (region == NULL)
		region = r->principal.scope;
	{
		size_t n = strlen(region);
		int land = n >= 2 ? (region[0] - '0') * 10 + (region[1] - '0') : 0;

		for (size_t i = 0; i < n; i++)
			if (region[i] < '0' || region[i] > '9')
				n = 0;
		if (n < 2 || n > 8 || land < 1 || land > 16) {
			req_error(r, 400, "INVALID_ARGUMENT",
				  "region must be an AGS prefix of 2-8 digits, got '%s'",
				  log_escape(region, 16, esc, sizeof(esc)));
			goto out;
		}
	}
	if (!scope_covers(r->principal.scope, region) ||
	    (r->principal.role == ROLE_MUNICIPALITY && strcmp(region, r->principal.scope) != 0)) {
		req_error(r, 403, "PERMISSION_DENIED", "region %s lies outside your scope %s",
			  region, r->principal.scope);
		goto out;
	}
	snprintf(q->region, sizeof(q->region), "%s", region);
	if (with_groups) {
		q->group[0] = overview_keys[0];
		if (group_by != NULL) {
			char buf[64], *comma;

			snprintf(buf, sizeof(buf), "%s", group_by);
			comma = strchr(buf, ',');
			if (comma)
				*comma++ = '\0';
			for (int g = 0; g < 2; g++) {
				const char *name = g == 0 ? buf : comma;

				q->group[g] = NULL;
				if (name == NULL)
					continue;
				for (size_t k = 0; k < 5; k++)
					if (strcmp(name, overview_keys[k]) == 0)
						q->group[g] = overview_keys[k];
				if (q->group[g] == NULL || strchr(name, ',')) {
					req_error(r, 400, "INVALID_ARGUMENT",
						  "group_by takes one or two of municipality, "
						  "object_type, site_kind, status, usage; got '%s'",
						  log_escape(group_by, 60, esc, sizeof(esc)));
					goto out;
				}
			}
			if (q->group[1] != NULL && q->group[0] == q->group[1]) {
				req_error(r, 400, "INVALID_ARGUMENT", "group_by names %s twice",
					  q->group[0]);
				goto out;
			}
		}
	}
	if (series != NULL) {
		if (strcmp(series, "monthly") != 0) {
			req_error(r, 400, "INVALID_ARGUMENT", "series must be 'monthly'");
			goto out;
		}
		if (group_by != NULL) {
			req_error(r, 400, "INVALID_ARGUMENT",
				  "group_by and series cannot be combined");
			goto out;
		}
		q->series = 1;
	} else if (from != NULL || to != NULL) {
		req_error(r, 400, "INVALID_ARGUMENT", "from and to belong to series=monthly");
		goto out;
	}
	if (q->series) {
		/* the current month here only bounds the length; the database
		 * takes its own (Berlin) date for months not given */
		time_t now = time(NULL);
		struct tm tm;
		char cur[8], scratch[11];

		gmtime_r(&now, &tm);
		strftime(cur, sizeof(cur), "%Y-%m", &tm);
		if (overview_month(to ? to : cur, to ? q->to : scratch, &mto) == -1) {
			req_error(r, 400, "INVALID_ARGUMENT", "to must be a month YYYY-MM");
			goto out;
		}
		if (from == NULL) {
			mfrom = mto - 23;
			/* with to given, from is 23 months before it */
			if (to != NULL) {
				unsigned m = (unsigned)mfrom;
				snprintf(q->from, sizeof(q->from), "%04u-%02u-01", (m / 12) % 10000,
					 m % 12 + 1);
			}
		} else if (overview_month(from, q->from, &mfrom) == -1) {
			req_error(r, 400, "INVALID_ARGUMENT", "from must be a month YYYY-MM");
			goto out;
		}
		if (mfrom > mto) {
			req_error(r, 400, "INVALID_ARGUMENT",
				  "from lies after to (from..to is empty)");
			goto out;
		}
		if (mto - mfrom + 1 > OVERVIEW_MAX_MONTHS) {
			req_error(r, 400, "INVALID_ARGUMENT",
				  "from..to covers %d months; a series covers at most %d",
				  mto - mfrom + 1, OVERVIEW_MAX_MONTHS);
			goto out;
		}
	}
	rc = 0;
out:
	evhttp_clear_headers(&kv);
	return rc;
}

/* Fills a repeated message field from the rows of res; -1 after replying. */
static int
overview_rows(struct req *r, const PGresult *res, const ProtobufCMessageDescriptor *d,
	      ProtobufCMessage ***out, size_t *n)
{
	int rows = PQntuples(res);
	char err[256];

	*n = 0;
	*out = NULL;
	if (rows > 0 && (*out = calloc((size_t)rows, sizeof(**out))) == NULL)
		goto nomem;
	for (int i = 0; i < rows; i++) {
		if (((*out)[i] = calloc(1, d->sizeof_message)) == NULL)
			goto nomem;
		(*n)++;
		protobuf_c_message_init(d, (*out)[i]);
		if (pgmap_row(res, i, (*out)[i], &codec_heap, err, sizeof(err)) == -1) {
			req_error(r, 500, "INTERNAL", "figures could not be read: %s", err);
			return -1;
		}
	}
	return 0;
nomem:
	req_error(r, 503, "UNAVAILABLE", "out of memory");
	return -1;
}

static void
overview_free_rows(ProtobufCMessage **rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		protobuf_c_message_free_unpacked(rows[i], &codec_heap);
	free(rows);
}

static void
overview_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	Vacancy__V1__Overview o = VACANCY__V1__OVERVIEW__INIT;
	ProtobufCMessage **rows;
	size_t n;
	int series = PQfnumber(res, "month") >= 0;

	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg);
		return;
	}
	if (overview_rows(r, res,
			  series ? &vacancy__v1__series_point__descriptor
				 : &vacancy__v1__overview_row__descriptor,
			  &rows, &n) == -1) {
		overview_free_rows(rows, n);
		return;
	}
	if (series) {
		o.series = (Vacancy__V1__SeriesPoint **)rows;
		o.n_series = n;
	} else {
		o.rows = (Vacancy__V1__OverviewRow **)rows;
		o.n_rows = n;
	}
	req_reply_msg(r, 200, &o.base);
	overview_free_rows(rows, n);
}

static enum om_dim
overview_dim(const char *g)
{
	if (g == NULL)
		return OM_NODIM;
	if (strcmp(g, "municipality") == 0)
		return OM_MUNICIPALITY;
	if (strcmp(g, "object_type") == 0)
		return OM_OBJECT_TYPE;
	if (strcmp(g, "site_kind") == 0)
		return OM_SITE_KIND;
	if (strcmp(g, "status") == 0)
		return OM_STATUS;
	return OM_USAGE;
}

/* The request's figures, computed from the overview model. */
struct overview_ctx {
	struct overview_query q;
};

/*
 * Computed overviews, reused while the model's generation is the same and
 * for at most overview_cache_ms (the last transfers are read per
 * computation: a transfer that changed nothing changes no generation).
 * Dashboards reload the same few regions; a county's figures cost a pass
 * over its records each time otherwise.
 */
#define OVERVIEW_CACHE 32
static struct overview_cached {
	char key[64];
	uint64_t generation;
	struct timespec at;
	enum codec_format format;
	char *body;
	size_t len;
} overview_cache[OVERVIEW_CACHE];

static void
overview_cache_key(const struct overview_query *q, int stale_days, char *key, size_t len)
{
	snprintf(key, len, "%s|%s|%s|%d", q->region, q->group[0] ? q->group[0] : "",
		 q->group[1] ? q->group[1] : "", stale_days);
}

static double
overview_age_ms(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) * 1e3 + (double)(now.tv_nsec - t->tv_nsec) / 1e6;
}

void
overview_cache_clear(void)
{
	for (int i = 0; i < OVERVIEW_CACHE; i++) {
		free(overview_cache[i].body);
		overview_cache[i].body = NULL;
	}
}

/* Answers from the cache (1), or 0. */
static int
overview_cache_reply(struct req *r, const struct overview_query *q)
{
	uint64_t gen = rmsync_overview_generation(r->srv->rms);
	char key[64];

	if (r->srv->cfg->overview_cache_ms == 0)
		return 0;
	overview_cache_key(q, r->srv->cfg->stale_after_days, key, sizeof(key));
	for (int i = 0; i < OVERVIEW_CACHE; i++) {
		struct overview_cached *c = &overview_cache[i];
		struct buf body;

		if (c->body == NULL || c->format != r->out || c->generation != gen ||
		    strcmp(c->key, key) != 0 ||
		    overview_age_ms(&c->at) > r->srv->cfg->overview_cache_ms)
			continue;
		buf_init(&body, 0);
		buf_add(&body, c->body, c->len);
		rmsync_answered(r->srv->rms);
		req_reply(r, 200, codec_content_type(r->out), &body);
		return 1;
	}
	return 0;
}

/* Keeps an answer in the slot of the same key, or the oldest one. */
static void
overview_cache_put(struct req *r, const struct overview_query *q, const ProtobufCMessage *msg)
{
	struct overview_cached *slot = &overview_cache[0];
	char key[64];
	struct buf b;

	if (r->srv->cfg->overview_cache_ms == 0)
		return;
	overview_cache_key(q, r->srv->cfg->stale_after_days, key, sizeof(key));
	for (int i = 0; i < OVERVIEW_CACHE; i++) {
		struct overview_cached *c = &overview_cache[i];

		if ((c->body != NULL && strcmp(c->key, key) == 0 && c->format == r->out) ||
		    c->body == NULL) {
			slot = c;
			break;
		}
		if (overview_age_ms(&c->at) > overview_age_ms(&slot->at))
			slot = c;
	}
	buf_init(&b, 0);
	if (codec_encode(msg, r->out, &b) == -1) {
		buf_free(&b);
		return;
	}
	free(slot->body);
	slot->body = buf_detach(&b, &slot->len);
	snprintf(slot->key, sizeof(slot->key), "%s", key);
	slot->generation = rmsync_overview_generation(r->srv->rms);
	slot->format = r->out;
	clock_gettime(CLOCK_MONOTONIC, &slot->at);
}

/* The figures from memory; transfers (may be NULL) has the municipalities'
 * last transfers, ordered by AGS. */
static void
overview_from_model(struct req *r, const PGresult *transfers)
{
	struct overview_ctx *c = r->ctx;
	Vacancy__V1__Overview o = VACANCY__V1__OVERVIEW__INIT;
	const struct om *m;
	struct om_row *rows = NULL;
	Vacancy__V1__OverviewRow *msgs = NULL, **ptrs = NULL;
	char(*ags)[12] = NULL;
	size_t n = 0;
	int32_t today;
	int t = 0;
	char lo[9], hi[9];

	if ((m = rmsync_overview(r->srv->rms, &today)) == NULL) {
		req_error(r, 503, "UNAVAILABLE", "the overview model went away; try again");
		return;
	}
	/* the region's first and last 8-digit key (as region_lo/hi do) */
	for (size_t i = 0, len = strlen(c->q.region); i < 8; i++) {
		lo[i] = i < len ? c->q.region[i] : '0';
		hi[i] = i < len ? c->q.region[i] : '9';
	}
	lo[8] = hi[8] = '\0';
	if (om_overview(m, (uint32_t)strtoul(lo, NULL, 10), (uint32_t)strtoul(hi, NULL, 10),
			overview_dim(c->q.group[0]), overview_dim(c->q.group[1]), today,
			r->srv->cfg->stale_after_days, &rows, &n) == -1 ||
	    (n > 0 && ((msgs = calloc(n, sizeof(*msgs))) == NULL ||
		       (ptrs = calloc(n, sizeof(*ptrs))) == NULL ||
		       (ags = calloc(n, sizeof(*ags))) == NULL))) {
		req_error(r, 503, "UNAVAILABLE", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		Vacancy__V1__OverviewRow *w = &msgs[i];
		const struct om_row *x = &rows[i];

		vacancy__v1__overview_row__init(w);
		ptrs[i] = w;
		if (x->ags != 0) {
			snprintf(ags[i], sizeof(ags[i]), "%08u", (unsigned)x->ags);
			w->municipality_ags = ags[i];
			/* rows and transfers are both ordered by AGS: merge */
			while (transfers != NULL && t < PQntuples(transfers) &&
			       strcmp(PQgetvalue(transfers, t, 0), ags[i]) < 0)
				t++;
			if (transfers != NULL && t < PQntuples(transfers) &&
			    strcmp(PQgetvalue(transfers, t, 0), ags[i]) == 0)
				w->last_transfer_at = PQgetvalue(transfers, t, 1);
		}
		w->has_object_type = x->object_type != 0;
		w->object_type = (Vacancy__V1__ObjectType__Value)x->object_type;
		w->has_site_kind = x->site_kind != 0;
		w->site_kind = (Vacancy__V1__SiteKind__Value)x->site_kind;
		w->has_status = x->status != 0;
		w->status = (Vacancy__V1__Status__Value)x->status;
		w->has_usage = x->usage != 0;
		w->usage = (Vacancy__V1__Usage__Value)x->usage;
		w->has_records = w->has_published = w->has_stale = 1;
		w->records = x->records;
		w->published = x->published;
		w->stale = x->stale;
		w->has_usable_area_m2 = w->has_plot_area_m2 = 1;
		w->usable_area_m2 = x->usable_area_m2;
		w->plot_area_m2 = x->plot_area_m2;
		w->has_median_vacancy_days = w->has_p90_vacancy_days = x->has_percentiles;
		w->median_vacancy_days = x->median_vacancy_days;
		w->p90_vacancy_days = x->p90_vacancy_days;
	}
	rmsync_answered(r->srv->rms);
	o.rows = ptrs;
	o.n_rows = n;
	overview_cache_put(r, &c->q, &o.base);
	req_reply_msg(r, 200, &o.base);
out:
	free(rows);
	free(msgs);
	free(ptrs);
	free(ags);
}

static void
overview_transfers_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg);
		return;
	}
	overview_from_model(r, res);
}

void
overview_get(struct req *r)
{
	static const char *const params[] = {"region", "group_by", "series", "from", "to"};
	struct overview_query q;
	char stale[16];
	const char *p[4];

	if (overview_parse(r, params, 5, 1, &q) == -1)
		return;
	p[0] = q.region;
	if (q.series) {
		p[1] = q.from[0] ? q.from : NULL;
		p[2] = q.to[0] ? q.to : NULL;
		if (req_query(r, r->srv->staff, &series_stmt, 3, p, overview_cb) == -1)
			return;
		return;
	}
	if (rmsync_overview(r->srv->rms, &(int32_t){0}) != NULL) {
		struct overview_ctx *c;

		if (overview_cache_reply(r, &q))
			return;
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			req_error(r, 503, "UNAVAILABLE", "out of memory");
			return;
		}

		c->q = q;
		r->ctx = c;
		r->ctx_free = free;
		if (overview_dim(q.group[0]) != OM_MUNICIPALITY &&
		    overview_dim(q.group[1]) != OM_MUNICIPALITY) {
			overview_from_model(r, NULL);
			return;
		}
		if (req_query(r, r->srv->staff, &transfers_stmt, 1, p, overview_transfers_cb) == -1)
			return;
		return;
	}
	snprintf(stale, sizeof(stale), "%d", r->srv->cfg->stale_after_days);
	p[1] = q.group[0];
	p[2] = q.group[1];
	p[3] = stale;
	if (req_query(r, r->srv->staff, &overview_stmt, 4, p, overview_cb) == -1)
		return;
}

static void
municipalities_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	Vacancy__V1__MunicipalityList l = VACANCY__V1__MUNICIPALITY_LIST__INIT;
	ProtobufCMessage **rows;
	size_t n;

	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg);
		return;
	}
	if (overview_rows(r, res, &vacancy__v1__municipality__descriptor, &rows, &n) == 0) {
		l.municipalities = (Vacancy__V1__Municipality **)rows;
		l.n_municipalities = n;
		req_reply_msg(r, 200, &l.base);
	}
	overview_free_rows(rows, n);
}

void
municipalities_get(struct req *r)
{
	static const char *const params[] = {"region"};
	struct overview_query q;
	char overdue[16];
	const char *p[2];

	if (overview_parse(r, params, 1, 0, &q) == -1)
		return;
	snprintf(overdue, sizeof(overdue), "%d", r->srv->cfg->overdue_after_days);
	p[0] = q.region;
	p[1] = overdue;
	if (req_query(r, r->srv->staff, &municipalities_stmt, 2, p, municipalities_cb) == -1)
		return;
}
