/*
 * route: the table of endpoints and the matcher from method and path to an
 * endpoint with its path parameter. Pure.
 */
#ifndef VACANCY_ROUTE_H
#define VACANCY_ROUTE_H

#include <stddef.h>

enum route_id {
	ROUTE_HEALTHZ,
	ROUTE_METRICS,
	ROUTE_RECORD_GET,
	ROUTE_RECORD_HISTORY,
	ROUTE_SYNC,
	ROUTE_OVERVIEW,
	ROUTE_MUNICIPALITIES,
	ROUTE_CHANGES,
	ROUTE_SEARCH_GET,
	ROUTE_SEARCH_POST,
	ROUTE_EXPORT,
	ROUTE_COUNT /* number of routes; also "no route" */
};

#define ROUTE_PARAM_MAX 64

struct route_match {
	enum route_id id;
	char param[ROUTE_PARAM_MAX]; /* the {param} segment, decoded; "" if none */
	char allow[64];		     /* on 405: the methods the path allows */
};

enum route_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

/* Matches method ("GET") and path (no query string) against the table. */
enum route_result route_match(const char *method, const char *path, struct route_match *m);
/* 1 when s is a UUID in canonical 8-4-4-4-12 hex form. */
int route_is_uuid(const char *s);
/* The endpoint's name for metrics and logs, e.g. "GET /v1/records/{id}". */
const char *route_name(enum route_id id);

#endif
