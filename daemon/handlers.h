/*
 * handlers: one function per endpoint. Each reads top to bottom:
 * decode -> authorise -> validate -> query -> encode, and ends in exactly one
 * reply (req_reply*, req_error), after which the req is gone.
 */
#ifndef VACANCY_HANDLERS_H
#define VACANCY_HANDLERS_H

#include "req.h"

void health_get(struct req *r);		/* GET /healthz (health.c) */
void metrics_get(struct req *r);	/* GET /metrics (metrics.c) */
void records_get(struct req *r);	/* GET /v1/records/{id} (records.c) */
void history_get(struct req *r);	/* GET /v1/records/{id}/history (history.c) */
void overview_get(struct req *r);	/* GET /v1/overview (overview.c) */
void municipalities_get(struct req *r); /* GET /v1/municipalities (overview.c) */
void changes_get(struct req *r);	/* GET /v1/changes (changes.c) */
void overview_cache_clear(void);	/* drops the computed overviews (overview.c) */
void sync_post(struct req *r);		/* POST /v1/sync (sync.c) */
void search_get(struct req *r);		/* GET /v1/records?... (search.c) */
void search_post(struct req *r);	/* POST /v1/search (search.c) */
void export_get(struct req *r);		/* GET /v1/export.geojson (export.c) */

#endif
