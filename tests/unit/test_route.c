/*
 * test_route: the endpoint table of daemon/route.c: every route with its
 * parameter, paths that must not match, 405 with the allowed methods,
 * route names, and the UUID check of record ids.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "route.h"

void test_route_register(void);

#define UUID "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6a"

/* Expects method and path to be NOT_FOUND, with no id or parameter leaking out. */
static void
expect_not_found(const char *method, const char *path)
{
	struct route_match m;
	enum route_result rc;

	memset(&m, 0xA5, sizeof(m));
	rc = route_match(method, path, &m);
	CU_ASSERT_EQUAL(rc, ROUTE_NOT_FOUND);
	if (rc != ROUTE_NOT_FOUND)
		fprintf(stderr, "\n  matched: %s %s", method, path);
	CU_ASSERT_EQUAL(m.id, ROUTE_COUNT);
	CU_ASSERT_STRING_EQUAL(m.param, "");
	CU_ASSERT_STRING_EQUAL(m.allow, "");
}

static void
test_every_route(void)
{
	struct route_match m;

	memset(&m, 0xA5, sizeof(m));
	CU_ASSERT_EQUAL(route_match("GET", "/healthz", &m), ROUTE_FOUND);
	CU_ASSERT_EQUAL(m.id, ROUTE_HEALTHZ);
	CU_ASSERT_STRING_EQUAL(m.param, "");

	memset(&m, 0xA5, sizeof(m));
	CU_ASSERT_EQUAL(route_match("GET", "/metrics", &m), ROUTE_FOUND);
	CU_ASSERT_EQUAL(m.id, ROUTE_METRICS);
	CU_ASSERT_STRING_EQUAL(m.param, "");

	memset(&m, 0xA5, sizeof(m));
	CU_ASSERT_EQUAL(route_match("GET", "/v1/records/" UUID, &m), ROUTE_FOUND);
	CU_ASSERT_EQUAL(m.id, ROUTE_RECORD_GET);
	CU_ASSERT_STRING_EQUAL(m.param, UUID);

	/* the parameter is any 1..63 characters of [A-Za-z0-9._-]; the handler checks it */
	CU_ASSERT_EQUAL(route_match("GET", "/v1/records", &m), ROUTE_FOUND);
	CU_ASSERT_EQUAL(m.id, ROUTE_SEARCH_GET);
	CU_ASSERT_EQUAL(route_match("POST", "/v1/search", &m), ROUTE_FOUND);
	CU_ASSERT_EQUAL(m.id, ROUTE_SEARCH_POST);
	CU_ASSERT_EQUAL(route_match("GET", "/v1/search", &m), ROUTE_BAD_METHOD);
	CU_ASSERT_EQUAL(route_match("GET", "/v1/export.geojson", &m), ROUTE_FOUND);
	CU_ASSERT_EQUAL(m.id, ROUTE_EXPORT);
	CU_ASSERT_EQUAL(route_match("POST", "/v1/records", &m), ROUTE_BAD_METHOD);
	CU_ASSERT_EQUAL(route_match("GET", "/v1/records/x", &m), ROUTE_FOUND);
	CU_ASSERT_STRING_EQUAL(m.param, "x");
	CU_ASSERT_EQUAL(route_match("GET", "/v1/records/Az09._-", &m), ROUTE_FOUND);
	CU_ASSERT_STRING_EQUAL(m.param, "Az09._-");
}

static void
test_param_length(void)
{
	char path[128], param[80];
	struct route_match m;

	/* 63 characters: the longest parameter */
	memset(param, 'a', 63);
	param[63] = '\0';
	snprintf(path, sizeof(path), "/v1/records/%s", param);
	CU_ASSERT_EQUAL(route_match("GET", path, &m), ROUTE_FOUND);
	CU_ASSERT_EQUAL(m.id, ROUTE_RECORD_GET);
	CU_ASSERT_STRING_EQUAL(m.param, param);
	CU_ASSERT_EQUAL(strlen(m.param), 63);

	/* 64 and more: no route (and no overflow of m.param) */
	memset(param, 'a', 64);
	param[64] = '\0';
	snprintf(path, sizeof(path), "/v1/records/%s", param);
	expect_not_found("GET", path);
	memset(param, 'b', 79);
	param[79] = '\0';
	snprintf(path, sizeof(path), "/v1/records/%s", param);
	expect_not_found("GET", path);
}

static void
test_not_found(void)
{
	/* trailing slash, extra segments, empty parameter */
	expect_not_found("GET", "/healthz/");
	expect_not_found("GET", "/metrics/");
	expect_not_found("GET", "/v1/records/" UUID "/");
	expect_not_found("GET", "/v1/records/" UUID "/extra");
	expect_not_found("GET", "/v1/records/");
	expect_not_found("GET", "/v1/records/");
	expect_not_found("GET", "/v1/search/");
	expect_not_found("GET", "/v1/export.json");
	expect_not_found("GET", "/v1/records//" UUID);
	/* forbidden characters in the parameter */
	expect_not_found("GET", "/v1/records/ab%2Fcd");
	expect_not_found("GET", "/v1/records/%00");
	expect_not_found("GET", "/v1/records/a/b");
	expect_not_found("GET", "/v1/records/a b");
	expect_not_found("GET", "/v1/records/a?b");
	expect_not_found("GET", "/v1/records/a+b");
	expect_not_found("GET", "/v1/records/\xc3\xa4");
	/* prefixes, other case, other paths */
	expect_not_found("GET", "/health");
	expect_not_found("GET", "/healthzz");
	expect_not_found("GET", "/HEALTHZ");
	expect_not_found("GET", "/V1/records/" UUID);
	expect_not_found("GET", "/v2/records/" UUID);
	expect_not_found("GET", "");
	expect_not_found("GET", "/");
	expect_not_found("POST", "/nowhere");
	expect_not_found("GET", "healthz");
	expect_not_found("GET", "//healthz");
}

static void
test_bad_method(void)
{
	static const char *const paths[] = {"/healthz", "/metrics", "/v1/records/" UUID};
	static const char *const methods[] = {"POST", "PUT", "DELETE", "HEAD", "get", "PATCH"};
	struct route_match m;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		for (size_t k = 0; k < sizeof(methods) / sizeof(methods[0]); k++) {
			memset(&m, 0xA5, sizeof(m));
			CU_ASSERT_EQUAL(route_match(methods[k], paths[i], &m), ROUTE_BAD_METHOD);
			CU_ASSERT_EQUAL(m.id, ROUTE_COUNT);
			CU_ASSERT_STRING_EQUAL(m.allow, "GET");
		}
	}
	/* a wrong method on a path that exists for no method is still 404 */
	expect_not_found("POST", "/v1/records/");
}

static void
test_route_name(void)
{
	CU_ASSERT_STRING_EQUAL(route_name(ROUTE_HEALTHZ), "GET /healthz");
	CU_ASSERT_STRING_EQUAL(route_name(ROUTE_METRICS), "GET /metrics");
	CU_ASSERT_STRING_EQUAL(route_name(ROUTE_RECORD_GET), "GET /v1/records/{id}");
	CU_ASSERT_STRING_EQUAL(route_name(ROUTE_COUNT), "other");

	/* every route has a name of its own, and each matches its own path */
	for (int i = 0; i < ROUTE_COUNT; i++) {
		CU_ASSERT_STRING_NOT_EQUAL(route_name((enum route_id)i), "other");
		for (int k = 0; k < i; k++)
			CU_ASSERT_STRING_NOT_EQUAL(route_name((enum route_id)i),
						   route_name((enum route_id)k));
	}
}

static void
test_is_uuid(void)
{
	static const char *const good[] = {
	    UUID,
	    "0B4F3C9E-5A1D-4E2B-9C7A-1F2E3D4C5B6A",
	    "00000000-0000-0000-0000-000000000000",
	    "ffffffff-ffff-ffff-ffff-ffffffffffff",
	    "AbCdEf01-2345-6789-aBcD-eF0123456789",
	};
	static const char *const bad[] = {
	    "",
	    "0b4f3c9e",
	    "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6",    /* 35 */
	    "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6a0",  /* 37 */
	    "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6a-",  /* 37 */
	    "0b4f3c9e5a1d4e2b9c7a1f2e3d4c5b6a",	      /* no dashes */
	    "0b4f3c9e5-a1d-4e2b-9c7a-1f2e3d4c5b6a",   /* first dash late */
	    "0b4f3c9-e5a1d-4e2b-9c7a-1f2e3d4c5b6a",   /* first dash early */
	    "0b4f3c9e-5a1d4-e2b-9c7a-1f2e3d4c5b6a",   /* second dash moved */
	    "0b4f3c9e-5a1d-4e2b9-c7a-1f2e3d4c5b6a",   /* third dash moved */
	    "0b4f3c9e-5a1d-4e2b-9c7a1-f2e3d4c5b6a",   /* fourth dash moved */
	    "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6g",   /* non-hex */
	    "0b4f3c9g-5a1d-4e2b-9c7a-1f2e3d4c5b6a",   /* non-hex */
	    "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6 ",   /* blank */
	    " 0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6",   /* blank */
	    "{0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6a}", /* braces */
	    "0b4f3c9e_5a1d_4e2b_9c7a_1f2e3d4c5b6a",   /* underscores */
	    "------------------------------------",   /* 36 dashes */
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CU_ASSERT_EQUAL(route_is_uuid(good[i]), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = route_is_uuid(bad[i]);

		CU_ASSERT_EQUAL(rc, 0);
		if (rc != 0)
			fprintf(stderr, "\n  accepted: '%s'", bad[i]);
	}
}

void
test_route_register(void)
{
	CU_pSuite s = CU_add_suite("route", NULL, NULL);

	CU_add_test(s, "every route matches with its parameter", test_every_route);
	CU_add_test(s, "parameter of 63 characters matches, 64 does not", test_param_length);
	CU_add_test(s, "slashes, extra segments, empty or forbidden parameters: 404",
		    test_not_found);
	CU_add_test(s, "wrong method: 405 with Allow GET", test_bad_method);
	CU_add_test(s, "route_name", test_route_name);
	CU_add_test(s, "route_is_uuid", test_is_uuid);
}
