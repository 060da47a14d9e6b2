/*
 * route: endpoint table. A pattern is a path whose segments are literal or
 * "{param}" (at most one per pattern); a parameter segment matches 1..63
 * characters of [A-Za-z0-9._-].
 */
#include "route.h"

#include <stdio.h>
#include <string.h>

struct route {
	enum route_id id;
	const char *method;
	const char *pattern;
	const char *name;
};

static const struct route route_table[] = {
    {ROUTE_HEALTHZ, "GET", "/healthz", "GET /healthz"},
    {ROUTE_METRICS, "GET", "/metrics", "GET /metrics"},
    {ROUTE_RECORD_GET, "GET", "/v1/records/{id}", "GET /v1/records/{id}"},
    {ROUTE_RECORD_HISTORY, "GET", "/v1/records/{id}/history", "GET /v1/records/{id}/history"},
    {ROUTE_SYNC, "POST", "/v1/sync", "POST /v1/sync"},
    {ROUTE_OVERVIEW, "GET", "/v1/overview", "GET /v1/overview"},
    {ROUTE_MUNICIPALITIES, "GET", "/v1/municipalities", "GET /v1/municipalities"},
    {ROUTE_CHANGES, "GET", "/v1/changes", "GET /v1/changes"},
    {ROUTE_SEARCH_GET, "GET", "/v1/records", "GET /v1/records"},
    {ROUTE_SEARCH_POST, "POST", "/v1/search", "POST /v1/search"},
    {ROUTE_EXPORT, "GET", "/v1/export.geojson", "GET /v1/export.geojson"},
};

#define ROUTE_N (sizeof(route_table) / sizeof(route_table[0]))

/* 1 when c may appear in a path parameter. */
static int
route_param_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* Matches one pattern; on success copies the parameter into param. */
static int
route_path_matches(const char *pattern, const char *path, char *param)
{
	const char *p = pattern, *s = path;

	param[0] = '\0';
	while (*p) {
		if (*p == '{') {
			size_t n = 0;

			while (route_param_char(s[n]))
				n++;
			if (n == 0 || n >= ROUTE_PARAM_MAX)
				return 0;
			memcpy(param, s, n);
			param[n] = '\0';
			s += n;
			p = strchr(p, '}');
			if (p == NULL)
				return 0;
			p++;
			continue;
		}
		if (*p++ != *s++)
			return 0;
	}
	return *s == '\0';
}

enum route_result
route_match(const char *method, const char *path, struct route_match *m)
{
	char param[ROUTE_PARAM_MAX];
	int path_seen = 0;

	memset(m, 0, sizeof(*m));
	m->id = ROUTE_COUNT;
	for (size_t i = 0; i < ROUTE_N; i++) {
		if (!route_path_matches(route_table[i].pattern, path, param))
			continue;
		if (strcmp(route_table[i].method, method) == 0) {
			m->id = route_table[i].id;
			memcpy(m->param, param, sizeof(param));
			return ROUTE_FOUND;
		}
		if (!strstr(m->allow, route_table[i].method)) {
			size_t len = strlen(m->allow);
			snprintf(m->allow + len, sizeof(m->allow) - len, "%s%s",
				 path_seen ? ", " : "", route_table[i].method);
		}
		path_seen = 1;
	}
	return path_seen ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}

const char *
route_name(enum route_id id)
{
	for (size_t i = 0; i < ROUTE_N; i++)
		if (route_table[i].id == id)
			return route_table[i].name;
	return "other";
}

int
route_is_uuid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return s[36] == '\0';
}
