/*
 * metrics: counters and histograms, and the GET /metrics handler.
 */
#include "metrics.h"
#include "rmsync.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "handlers.h"
#include "server.h"

/* The status codes we count one by one; anything else lands in "other". */
static const int metrics_statuses[] = {200, 201, 304, 400, 401, 403, 404, 405,
				       409, 413, 415, 422, 429, 499, 500, 503};
#define METRICS_NSTATUS (sizeof(metrics_statuses) / sizeof(metrics_statuses[0]) + 1)

/* Histogram bucket upper bounds in seconds. */
static const double metrics_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
					 0.25,	0.5,	1.0,   2.5,  5.0,   10.0};
#define METRICS_NBUCKETS (sizeof(metrics_buckets) / sizeof(metrics_buckets[0]))

struct metrics_route {
	uint64_t by_status[METRICS_NSTATUS];
	uint64_t bucket[METRICS_NBUCKETS];
	uint64_t count;
	double sum;
};

struct metrics {
	struct metrics_route route[ROUTE_COUNT + 1];
};

struct metrics *
metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

void
metrics_free(struct metrics *m)
{
	free(m);
}

void
metrics_observe(struct metrics *m, enum route_id route, int status, double seconds)
{
	struct metrics_route *mr = &m->route[route <= ROUTE_COUNT ? route : ROUTE_COUNT];
	size_t s;

	for (s = 0; s < METRICS_NSTATUS - 1; s++)
		if (metrics_statuses[s] == status)
			break;
	mr->by_status[s]++;
	for (size_t b = 0; b < METRICS_NBUCKETS; b++)
		if (seconds <= metrics_buckets[b])
			mr->bucket[b]++;
	mr->count++;
	mr->sum += seconds;
}

/* Prometheus lines of one pool's gauges and counters. */
static void
metrics_render_pool(struct buf *out, const char *name, const struct db_pool *pool)
{
	struct db_pool_stats st;

	db_pool_stats(pool, &st);
	buf_printf(out,
		   "vacancyd_db_connections{pool=\"%s\",state=\"connecting\"} %d\n"
		   "vacancyd_db_connections{pool=\"%s\",state=\"idle\"} %d\n"
		   "vacancyd_db_connections{pool=\"%s\",state=\"busy\"} %d\n"
		   "vacancyd_db_connections{pool=\"%s\",state=\"broken\"} %d\n"
		   "vacancyd_db_queue_length{pool=\"%s\"} %d\n"
		   "vacancyd_db_queries_total{pool=\"%s\"} %llu\n"
		   "vacancyd_db_errors_total{pool=\"%s\"} %llu\n"
		   "vacancyd_db_unavailable_total{pool=\"%s\"} %llu\n"
		   "vacancyd_db_timeouts_total{pool=\"%s\"} %llu\n"
		   "vacancyd_db_reconnects_total{pool=\"%s\"} %llu\n"
		   "vacancyd_db_recycled_total{pool=\"%s\"} %llu\n",
		   name, st.connecting, name, st.idle, name, st.busy, name, st.broken, name,
		   st.queued, name, (unsigned long long)st.queries, name,
		   (unsigned long long)st.errors, name, (unsigned long long)st.unavailable, name,
		   (unsigned long long)st.timeouts, name, (unsigned long long)st.reconnects, name,
		   (unsigned long long)st.recycled);
}

void
metrics_render(const struct metrics *m, const struct server *srv, struct buf *out)
{
	buf_adds(out, "# HELP vacancyd_requests_total Requests by endpoint and status.\n"
		      "# TYPE vacancyd_requests_total counter\n");
	for (int r = 0; r <= ROUTE_COUNT; r++) {
		for (size_t s = 0; s < METRICS_NSTATUS; s++) {
			if (m->route[r].by_status[s] == 0)
				continue;
			if (s < METRICS_NSTATUS - 1)
				buf_printf(
				    out,
				    "vacancyd_requests_total{endpoint=\"%s\",status=\"%d\"} %llu\n",
				    route_name((enum route_id)r), metrics_statuses[s],
				    (unsigned long long)m->route[r].by_status[s]);
			else
				buf_printf(out,
					   "vacancyd_requests_total{endpoint=\"%s\",status="
					   "\"other\"} %llu\n",
					   route_name((enum route_id)r),
					   (unsigned long long)m->route[r].by_status[s]);
		}
	}
	buf_adds(out, "# HELP vacancyd_request_duration_seconds Time from arrival to reply.\n"
		      "# TYPE vacancyd_request_duration_seconds histogram\n");
	for (int r = 0; r <= ROUTE_COUNT; r++) {
		const struct metrics_route *mr = &m->route[r];
		const char *name = route_name((enum route_id)r);

		if (mr->count == 0)
			continue;
		for (size_t b = 0; b < METRICS_NBUCKETS; b++)
			buf_printf(out,
				   "vacancyd_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%"
				   "g\"} %llu\n",
				   name, metrics_buckets[b], (unsigned long long)mr->bucket[b]);
		buf_printf(
		    out,
		    "vacancyd_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n"
		    "vacancyd_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n"
		    "vacancyd_request_duration_seconds_count{endpoint=\"%s\"} %llu\n",
		    name, (unsigned long long)mr->count, name, mr->sum, name,
		    (unsigned long long)mr->count);
	}
	if (srv->rms != NULL) {
		struct rmsync_stats rs;

		rmsync_stats(srv->rms, &rs);
		buf_printf(out,
			   "# HELP vacancyd_read_model_records Published records in the read "
			   "model.\n"
			   "# TYPE vacancyd_read_model_records gauge\n"
			   "vacancyd_read_model_records %llu\n"
			   "vacancyd_read_model_versions %llu\n"
			   "vacancyd_read_model_bytes %llu\n"
			   "vacancyd_read_model_position %lld\n"
			   "vacancyd_read_model_refreshes_total %llu\n"
			   "vacancyd_read_model_changes_total %llu\n"
			   "vacancyd_read_model_answers_total %llu\n"
			   "vacancyd_read_model_refresh_seconds %.6f\n",
			   (unsigned long long)rs.records, (unsigned long long)rs.versions,
			   (unsigned long long)rs.bytes, (long long)rs.seq,
			   (unsigned long long)rs.refreshes, (unsigned long long)rs.changes,
			   (unsigned long long)rs.answers, rs.last_refresh_ms / 1000);
	}
	buf_printf(out,
		   "# HELP vacancyd_connections Open client connections.\n"
		   "# TYPE vacancyd_connections gauge\n"
		   "vacancyd_connections %d\n"
		   "vacancyd_connections_max %d\n"
		   "vacancyd_listener_paused %d\n"
		   "vacancyd_connections_accepted_total %llu\n"
		   "vacancyd_connections_refused_tls_total %llu\n"
		   "vacancyd_requests_in_flight %d\n",
		   srv->nconns, srv->cfg->max_connections, srv->paused,
		   (unsigned long long)srv->conns_accepted,
		   (unsigned long long)srv->conns_refused_tls, srv->inflight);
	buf_adds(out, "# HELP vacancyd_db_connections Database connections by pool and state.\n"
		      "# TYPE vacancyd_db_connections gauge\n");
	metrics_render_pool(out, "staff", srv->staff);
	metrics_render_pool(out, "investor", srv->investor);
}

/* 1 when the request comes from a loopback address. */
static int
metrics_peer_is_loopback(const struct req *r)
{
	return strncmp(r->peer, "127.", 4) == 0 || strncmp(r->peer, "::1:", 4) == 0;
}

void
metrics_get(struct req *r)
{
	struct buf b;

	if (strcmp(r->srv->cfg->metrics_allow, "loopback") == 0 && !metrics_peer_is_loopback(r)) {
		req_error(r, 403, "PERMISSION_DENIED", "metrics are served to loopback only");
		return;
	}
	buf_init(&b, 0);
	metrics_render(r->srv->metrics, r->srv, &b);
	if (buf_failed(&b)) {
		buf_free(&b);
		req_error(r, 500, "INTERNAL", "out of memory");
		return;
	}
	req_reply(r, 200, "text/plain; version=0.0.4", &b);
}
