/*
 * rmsync: keeps the investor read model (rm.c) equal to the database.
 *
 * At start it loads the published records in one REPEATABLE READ snapshot
 * (a blocking connection, before the daemon listens); then every
 * read_model_refresh_ms it reads the change feed after its position
 * through the investor pool and applies each change with the record as it
 * is now. A sync waits for the refresh after its commit before it answers,
 * so its author's next search sees it; other daemons see it within a
 * refresh interval (the bounded delay). Everything the model cannot answer
 * exactly goes to SQL (rm_supports).
 */
#ifndef VACANCY_RMSYNC_H
#define VACANCY_RMSYNC_H

#include <stdint.h>

#include "rm.h"

struct server;
struct rmsync;
struct req;

/* NULL when read_model is off, or the load failed (logged; SQL serves). */
struct rmsync *rmsync_new(struct server *srv);
void rmsync_free(struct rmsync *s);

struct om;

/* The overview model (every live record) and the registry's today (days
 * since 1970, Europe/Berlin) when it may answer, else NULL. */
const struct om *rmsync_overview(const struct rmsync *s, int32_t *today);

/* A number that changes whenever the overview model's figures may. */
uint64_t rmsync_overview_generation(const struct rmsync *s);

/* The model when it may answer now, else NULL. */
const struct rm *rmsync_model(const struct rmsync *s);

/*
 * Calls done(r) once the model has read every change committed before this
 * call (at most read_model_wait_ms later; then done runs anyway). 0, or -1
 * when there is no model (call done yourself). rmsync_forget(r) before r
 * is freed otherwise.
 */
int rmsync_wait(struct rmsync *s, struct req *r, void (*done)(struct req *r));
void rmsync_forget(struct rmsync *s, struct req *r);

/* Counts an answer given from the model (searches and fetches). */
void rmsync_answered(struct rmsync *s);

/* For /metrics: records, versions, bytes, position, refreshes, answers. */
struct rmsync_stats {
	uint64_t records, versions, bytes, refreshes, changes, answers;
	int64_t seq;
	double last_refresh_ms;
};
void rmsync_stats(const struct rmsync *s, struct rmsync_stats *out);

#endif
