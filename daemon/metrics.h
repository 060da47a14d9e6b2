/*
 * metrics: request counters by endpoint and status, a latency histogram per
 * endpoint, and the state of connections and database pools, rendered as
 * Prometheus text on GET /metrics.
 */
#ifndef VACANCY_METRICS_H
#define VACANCY_METRICS_H

#include "buf.h"
#include "route.h"

struct metrics;
struct server;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);
/* Counts one finished request. route ROUTE_COUNT means "no route matched". */
void metrics_observe(struct metrics *m, enum route_id route, int status, double seconds);
/* Appends the Prometheus text of m and srv's gauges to out. */
void metrics_render(const struct metrics *m, const struct server *srv, struct buf *out);

#endif
