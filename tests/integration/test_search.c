/*
 * test_search: GET /v1/records, POST /v1/search and GET /v1/export.geojson
 * against the real daemon and database, on the eleven fixtures of
 * test_http.c (every rule of investor visibility; SECRET-* values in every
 * INTERNAL and PERSONAL field). The randomised comparison with SQL is in
 * test_search_random.c; here: roles, forms, bad input, injection, tokens,
 * the export and the query plans.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "codec.h"
#include "harness.h"
#include "searchq.h"
#include "vacancy.pb-c.h"

void test_search_register(void);

#define MAX_PAGE   4
#define MAX_EXPORT 8

static struct daemon dmn;
static char *tok_muni, *tok_county, *tok_investor, *tok_investor2, *tok_other_county;

static int
suite_init(void)
{
	char extra[256];

	if (fixtures_load() == -1)
		return -1;
	snprintf(extra, sizeof(extra),
		 "max_page_size = %d\nmax_export_records = %d\nmax_search_radius_m = 50000\n"
		 "auth_cache_ttl_ms = 60000\n",
		 MAX_PAGE, MAX_EXPORT);
	if (harness_daemon_start(&dmn, extra) == -1 ||
	    harness_daemon_wait_healthy(&dmn, 10000) == -1)
		return -1;
	tok_muni = harness_token(&dmn, "municipality", "14521020");
	tok_county = harness_token(&dmn, "county", "14521");
	tok_other_county = harness_token(&dmn, "county", "14522");
	tok_investor = harness_token(&dmn, "investor", "");
	tok_investor2 = harness_token(&dmn, "investor", "");
	return tok_muni && tok_county && tok_investor && tok_investor2 && tok_other_county ? 0 : -1;
}

static int
suite_clean(void)
{
	int rc = harness_daemon_stop(&dmn);

	free(tok_muni);
	free(tok_county);
	free(tok_other_county);
	free(tok_investor);
	free(tok_investor2);
	return rc == 0 ? 0 : -1;
}

static long
count(const char *sql)
{
	char *v = harness_sql_value(sql);
	long n = v ? atol(v) : -1;

	free(v);
	return n;
}

/* GET /v1/records?qs as protobuf; the response or NULL (status in *status). */
static Vacancy__V1__SearchResponse *
get_page(const char *token, const char *qs, long *status, struct http_resp *keep)
{
	struct http_resp r;
	char path[2048];
	Vacancy__V1__SearchResponse *s = NULL;

	snprintf(path, sizeof(path), "/v1/records?%s", qs);
	CU_ASSERT_EQUAL_FATAL(harness_http(&dmn, "GET", path, token, "application/x-protobuf", NULL,
					   NULL, 0, NULL, &r),
			      0);
	*status = r.status;
	if (r.status == 200)
		s = vacancy__v1__search_response__unpack(NULL, r.len, (const uint8_t *)r.body);
	if (keep != NULL)
		*keep = r;
	else
		harness_resp_free(&r);
	return s;
}

/*
 * Walks all pages of qs (page size MAX_PAGE); appends the ids, each
 * followed by '\n', to out. Returns the number of records, -1 on an error.
 */
static int
walk(const char *token, const char *qs, char *out, size_t outlen)
{
	char tok[256] = "", q[2048];
	int n = 0, pages = 0;

	out[0] = '\0';
	do {
		Vacancy__V1__SearchResponse *s;
		long status;

		snprintf(q, sizeof(q), "%s%spage_size=%d%s%s", qs, qs[0] ? "&" : "", MAX_PAGE,
			 tok[0] ? "&page_token=" : "", tok);
		if ((s = get_page(token, q, &status, NULL)) == NULL)
			return -1;
		CU_ASSERT(s->n_records <= MAX_PAGE);
		for (size_t i = 0; i < s->n_records; i++) {
			snprintf(out + strlen(out), outlen - strlen(out), "%s\n",
				 s->records[i]->record_id);
			n++;
		}
		snprintf(tok, sizeof(tok), "%s", s->next_page_token ? s->next_page_token : "");
		vacancy__v1__search_response__free_unpacked(s, NULL);
	} while (tok[0] != '\0' && ++pages < 100);
	return n;
}

/* The ids of a SQL query, one per line, in its order. */
static void
sql_ids(const char *sql, char *out, size_t outlen)
{
	PGconn *c = harness_pg(harness_env("VACANCY_TEST_PG_CONNINFO"));
	PGresult *res = PQexec(c, sql);

	out[0] = '\0';
	CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_TUPLES_OK);
	for (int i = 0; i < PQntuples(res); i++)
		snprintf(out + strlen(out), outlen - strlen(out), "%s\n", PQgetvalue(res, i, 0));
	PQclear(res);
	PQfinish(c);
}

static void
t_roles(void)
{
	char got[4096], want[4096];

	/* investors: the published records, no others */
	CU_ASSERT_EQUAL(walk(tok_investor, "", got, sizeof(got)), 4);
	sql_ids("SELECT record_id FROM investor.published_record "
		"ORDER BY _updated_at DESC, record_id",
		want, sizeof(want));
	CU_ASSERT_STRING_EQUAL(got, want);
	/* the county: its region, published or not, without tombstones */
	CU_ASSERT_EQUAL(walk(tok_county, "", got, sizeof(got)), 9);
	sql_ids("SELECT record_id FROM registry.record WHERE municipality_ags LIKE '14521%' "
		"AND withdrawn_at IS NULL ORDER BY updated_at DESC, record_id",
		want, sizeof(want));
	CU_ASSERT_STRING_EQUAL(got, want);
	/* a municipality: its own */
	CU_ASSERT_EQUAL(walk(tok_muni, "", got, sizeof(got)), 8);
	CU_ASSERT_PTR_NULL(strstr(got, "000000000007")); /* fixture 7 is 14521035 */
	/* another county: only its own */
	CU_ASSERT_EQUAL(walk(tok_other_county, "", got, sizeof(got)), 1);
	CU_ASSERT_STRING_EQUAL(got, "00000000-0000-4000-8000-000000000008\n");
	/* a region narrows the scope, one outside it is refused */
	CU_ASSERT_EQUAL(walk(tok_county, "region=14521035", got, sizeof(got)), 1);
	{
		long status;
		Vacancy__V1__SearchResponse *s =
		    get_page(tok_muni, "region=14521035", &status, NULL);

		CU_ASSERT_PTR_NULL(s);
		CU_ASSERT_EQUAL(status, 403);
	}
}

static void
t_staff_logged(void)
{
	static const char logged[] =
	    "SELECT count(*) FROM registry.personal_access_log WHERE purpose = 'search'";
	long before = count(logged);
	struct http_resp r;
	Vacancy__V1__SearchResponse *s;
	long status;

	s = get_page(tok_county, "page_size=3", &status, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->n_records, 3);
	/* full records: personal fields included, each read logged once */
	for (size_t i = 0; i < s->n_records; i++)
		CU_ASSERT(s->records[i]->owner_name != NULL &&
			  strncmp(s->records[i]->owner_name, "SECRET-OWNER-", 13) == 0);
	CU_ASSERT_EQUAL(count(logged), before + 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.headers, "Cache-Control: no-store"));
	vacancy__v1__search_response__free_unpacked(s, NULL);
	harness_resp_free(&r);

	/* investors: nothing logged, nothing personal, cacheable privately */
	before = count("SELECT count(*) FROM registry.personal_access_log");
	s = get_page(tok_investor, "page_size=4", &status, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (size_t i = 0; i < s->n_records; i++) {
		CU_ASSERT_PTR_NULL(s->records[i]->owner_name);
		CU_ASSERT_PTR_NULL(s->records[i]->external_id);
		CU_ASSERT_PTR_NULL(s->records[i]->internal_notes);
		CU_ASSERT(!s->records[i]->has_publication);
	}
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM registry.personal_access_log"), before);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.headers, "Cache-Control: private, no-cache"));
	CU_ASSERT_PTR_NULL(memmem(r.body, r.len, "SECRET", 6));
	vacancy__v1__search_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
}

/* The ids of a SearchResponse body in format f. */
static void
ids_of(const struct http_resp *r, int json, char *out, size_t outlen)
{
	ProtobufCMessage *m;
	char err[256];
	struct codec_budget b;

	out[0] = '\0';
	codec_budget_init(&b, 1 << 24);
	m = codec_decode(&vacancy__v1__search_response__descriptor,
			 json ? CODEC_JSON : CODEC_PROTOBUF, (const uint8_t *)r->body, r->len, &b,
			 64, 1, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for (size_t i = 0; i < ((Vacancy__V1__SearchResponse *)m)->n_records; i++)
		snprintf(out + strlen(out), outlen - strlen(out), "%s\n",
			 ((Vacancy__V1__SearchResponse *)m)->records[i]->record_id);
	protobuf_c_message_free_unpacked(m, &b.alloc);
}

static void
t_forms_agree(void)
{
	static const char qs[] = "/v1/records?object_type=RETAIL&usage=MIXED,AGRICULTURAL"
				 "&min_usable_area_m2=100&near=50.585,13.005,5000"
				 "&sort=DISTANCE_ASC&page_size=4";
	static const char json[] = "{\"objectType\":[\"RETAIL\"],\"usage\":[\"MIXED\","
				   "\"AGRICULTURAL\"],\"minUsableAreaM2\":100,\"near\":{\"lat\":"
				   "50.585,\"lon\":13.005,\"radiusM\":5000},\"sort\":"
				   "\"DISTANCE_ASC\",\"pageSize\":4}";
	Vacancy__V1__SearchRequest q = VACANCY__V1__SEARCH_REQUEST__INIT;
	Vacancy__V1__Near nr = VACANCY__V1__NEAR__INIT;
	Vacancy__V1__ObjectType__Value ot[] = {VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL};
	Vacancy__V1__Usage__Value us[] = {VACANCY__V1__USAGE__VALUE__MIXED,
					  VACANCY__V1__USAGE__VALUE__AGRICULTURAL};
	struct http_resp r;
	char a[2048], b[2048], c[2048], d[2048];
	uint8_t pb[512];
	size_t n;

	CU_ASSERT_EQUAL(harness_http(&dmn, "GET", qs, tok_investor, "application/json", NULL, NULL,
				     0, NULL, &r),
			0);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	ids_of(&r, 1, a, sizeof(a));
	harness_resp_free(&r);
	CU_ASSERT(strlen(a) > 0);
	CU_ASSERT_EQUAL(harness_http(&dmn, "GET", qs, tok_investor, NULL, NULL, NULL, 0, NULL, &r),
			0);
	ids_of(&r, 0, b, sizeof(b));
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(harness_http(&dmn, "POST", "/v1/search", tok_investor, "application/json",
				     "application/json", json, strlen(json), NULL, &r),
			0);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	ids_of(&r, 1, c, sizeof(c));
	harness_resp_free(&r);
	q.n_object_type = 1;
	q.object_type = ot;
	q.n_usage = 2;
	q.usage = us;
	q.has_min_usable_area_m2 = 1;
	q.min_usable_area_m2 = 100;
	nr.has_lat = nr.has_lon = nr.has_radius_m = 1;
	nr.lat = 50.585;
	nr.lon = 13.005;
	nr.radius_m = 5000;
	q.near = &nr;
	q.has_sort = 1;
	q.sort = VACANCY__V1__SEARCH_SORT__VALUE__DISTANCE_ASC;
	q.has_page_size = 1;
	q.page_size = 4;
	n = protobuf_c_message_pack(&q.base, pb);
	CU_ASSERT_EQUAL(harness_http(&dmn, "POST", "/v1/search", tok_investor, NULL,
				     "application/x-protobuf", pb, n, NULL, &r),
			0);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	ids_of(&r, 0, d, sizeof(d));
	harness_resp_free(&r);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_STRING_EQUAL(a, c);
	CU_ASSERT_STRING_EQUAL(a, d);
	/* the distance order of SQL over the view */
	sql_ids("SELECT record_id FROM investor.published_record p JOIN registry.record r "
		"USING (record_id) WHERE p.object_type = 'RETAIL' AND r.usage && "
		"'{MIXED,AGRICULTURAL}' AND p.usable_area_m2 >= 100 AND ST_DWithin(p._geom::"
		"geography, ST_MakePoint(13.005, 50.585)::geography, 5000) ORDER BY "
		"ST_Distance(p._geom::geography, ST_MakePoint(13.005, 50.585)::geography), "
		"record_id LIMIT 4",
		b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(a, b);
}

/* Expects a 400 (or status) naming param for GET path or a POST body. */
static void
expect_refusal(const char *method, const char *path, const char *body, const char *token,
	       long status, const char *param)
{
	struct http_resp r;
	Vacancy__V1__Error *e;

	CU_ASSERT_EQUAL_FATAL(harness_http(&dmn, method, path, token, NULL,
					   body ? "application/json" : NULL, body,
					   body ? strlen(body) : 0, NULL, &r),
			      0);
	CU_ASSERT_EQUAL(r.status, status);
	if (r.status != status)
		fprintf(stderr, "%s %s %s: %ld\n", method, path, body ? body : "", r.status);
	e = vacancy__v1__error__unpack(NULL, r.len, (const uint8_t *)r.body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	if (param != NULL) {
		CU_ASSERT_EQUAL_FATAL(e->n_field_errors, 1);
		CU_ASSERT_STRING_EQUAL(e->field_errors[0]->field, param);
		CU_ASSERT_EQUAL(strncmp(e->message, param, strlen(param)), 0);
	}
	vacancy__v1__error__free_unpacked(e, NULL);
	harness_resp_free(&r);
}

static void
t_bad_input(void)
{
	static const struct {
		const char *qs, *param;
	} bad[] = {
	    {"colour=red", "colour"},
	    {"region=1", "region"},
	    {"region=99", "region"},
	    {"region=14&region=15", "region"},
	    {"bbox=51,12,50,13", "bbox"},
	    {"bbox=50,14,51,13", "bbox"},
	    {"bbox=50,12,51", "bbox"},
	    {"near=50,13,50001", "near"},
	    {"near=50,13,0", "near"},
	    {"near=50,13", "near"},
	    {"min_usable_area_m2=abc", "min_usable_area_m2"},
	    {"min_usable_area_m2=1e999", "min_usable_area_m2"},
	    {"min_usable_area_m2=300&max_usable_area_m2=200", "min_usable_area_m2"},
	    {"min_plot_area_m2=300&max_plot_area_m2=200", "min_plot_area_m2"},
	    {"max_purchase_price_eur=1.001", "max_purchase_price_eur"},
	    {"max_rent_eur_month=zehn", "max_rent_eur_month"},
	    {"updated_since=yesterday", "updated_since"},
	    {"object_type=CASTLE", "object_type"},
	    {"status=REUSED", "status"},
	    {"sort=DISTANCE_ASC", "sort"},
	    {"sort=RANDOM", "sort"},
	    {"page_size=0", "page_size"},
	    {"page_size=5", "page_size"}, /* over max_page_size = 4 */
	    {"page_size=-3", "page_size"},
	    {"page_token=bm90IGEgdG9rZW4", "page_token"},
	    {"text=", "text"},
	    {"text=%00", "text"},
	};
	char path[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "/v1/records?%s", bad[i].qs);
		expect_refusal("GET", path, NULL, tok_investor, 400, bad[i].param);
		snprintf(path, sizeof(path), "/v1/export.geojson?%s", bad[i].qs);
		if (strncmp(bad[i].qs, "page_", 5) != 0)
			expect_refusal("GET", path, NULL, tok_investor, 400, bad[i].param);
	}
	/* the export has no pages */
	expect_refusal("GET", "/v1/export.geojson?page_size=2", NULL, tok_investor, 400,
		       "page_size");
	/* POST: the same checks; the body's own errors name the JSON path */
	expect_refusal("POST", "/v1/search",
		       "{\"bbox\":{\"minLat\":51,\"minLon\":12,\"maxLat\":50,\"maxLon\":13}}",
		       tok_investor, 400, "bbox");
	expect_refusal("POST", "/v1/search", "{\"bbox\":{\"minLat\":50}}", tok_investor, 400,
		       "bbox");
	expect_refusal("POST", "/v1/search", "{\"pageSize\":9}", tok_investor, 400, "page_size");
	expect_refusal("POST", "/v1/search", "{\"status\":[\"CONFIRMED\"]}", tok_investor, 400,
		       "status");
	expect_refusal("POST", "/v1/search", "{\"colour\":\"red\"}", tok_investor, 400, NULL);
	expect_refusal("POST", "/v1/search", "{\"minUsableAreaM2\":\"many\"}", tok_investor, 400,
		       NULL);
	/* a region outside the scope */
	expect_refusal("GET", "/v1/records?region=14522", NULL, tok_county, 403, "region");
	/* no token, no search */
	expect_refusal("GET", "/v1/records", NULL, NULL, 401, NULL);
	expect_refusal("GET", "/v1/export.geojson", NULL, NULL, 401, NULL);
}

static void
t_injection(void)
{
	static const char *const evil[] = {
	    "%27%3B+DROP+TABLE+registry.record%3B+--",
	    "%27+OR+%271%27%3D%271",
	    "Fixture%27)+OR+true+--",
	    "%5C%27%3B+SELECT+pg_sleep(5)%3B+--",
	    "%24%241%24%24",
	    "Fixture+%7C+Description",
	    "%22Fixture%22+-Description",
	};
	long records = count("SELECT count(*) FROM registry.record");
	char path[512], got[4096], want[4096], sql[512];

	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		char *plain;
		long status;
		Vacancy__V1__SearchResponse *s;

		snprintf(path, sizeof(path), "text=%s&page_size=4", evil[i]);
		s = get_page(tok_investor, path, &status, NULL);
		CU_ASSERT_EQUAL(status, 200);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		got[0] = '\0';
		for (size_t k = 0; k < s->n_records; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s\n",
				 s->records[k]->record_id);
		vacancy__v1__search_response__free_unpacked(s, NULL);
		/* the same words through SQL, as a literal */
		plain = harness_sql_value("SELECT 1"); /* keeps the connection warm */
		free(plain);
		{
			PGconn *c = harness_pg(harness_env("VACANCY_TEST_PG_CONNINFO"));
			char dec[256];
			const char *pv[1] = {dec};
			PGresult *res;
			size_t o = 0;

			/* percent-decode the test's own literal */
			for (const char *p = evil[i]; *p && o < sizeof(dec) - 1; p++) {
				if (*p == '+')
					dec[o++] = ' ';
				else if (*p == '%' && p[1] && p[2]) {
					char hx[3] = {p[1], p[2], 0};

					dec[o++] = (char)strtol(hx, NULL, 16);
					p += 2;
				} else
					dec[o++] = *p;
			}
			dec[o] = '\0';
			res = PQexecParams(c,
					   "SELECT record_id FROM investor.published_record WHERE "
					   "_tsv @@ websearch_to_tsquery('german', $1) ORDER BY "
					   "_updated_at DESC, record_id LIMIT 4",
					   1, NULL, pv, NULL, NULL, 0);
			want[0] = '\0';
			CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_TUPLES_OK);
			for (int k = 0; k < PQntuples(res); k++)
				snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s\n",
					 PQgetvalue(res, k, 0));
			PQclear(res);
			PQfinish(c);
		}
		CU_ASSERT_STRING_EQUAL(got, want);
	}
	/* the "Fixture" words do match: the filter is not just empty */
	CU_ASSERT_EQUAL(walk(tok_investor, "text=Fixture", got, sizeof(got)), 4);
	CU_ASSERT_EQUAL(walk(tok_investor, "text=Fixture+-Description", got, sizeof(got)), 0);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM registry.record"), records);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
		 "'%%pg_sleep(5)%%' AND pid <> pg_backend_pid()");
	CU_ASSERT_EQUAL(count(sql), 0);
}

static void
t_tokens(void)
{
	Vacancy__V1__SearchResponse *s;
	char got[4096], all[4096], path[512];
	long status;

	/* a walk in pages of 1 equals one page of 4, each record once */
	CU_ASSERT_EQUAL(walk(tok_investor, "sort=AREA_ASC", all, sizeof(all)), 4);
	{
		char tok[256] = "", q[512];
		int n = 0;

		got[0] = '\0';
		do {
			snprintf(q, sizeof(q), "sort=AREA_ASC&page_size=1%s%s",
				 tok[0] ? "&page_token=" : "", tok);
			s = get_page(tok_investor, q, &status, NULL);
			CU_ASSERT_PTR_NOT_NULL_FATAL(s);
			CU_ASSERT_EQUAL(s->n_records, 1);
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s\n",
				 s->records[0]->record_id);
			snprintf(tok, sizeof(tok), "%s",
				 s->next_page_token ? s->next_page_token : "");
			vacancy__v1__search_response__free_unpacked(s, NULL);
		} while (tok[0] && ++n < 10);
		CU_ASSERT_STRING_EQUAL(got, all);
	}
	/* a token of investor 1 for AREA_ASC */
	s = get_page(tok_investor, "sort=AREA_ASC&page_size=1", &status, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->next_page_token);
	/* foreign: another caller, another search */
	snprintf(path, sizeof(path), "/v1/records?sort=AREA_ASC&page_token=%s", s->next_page_token);
	expect_refusal("GET", path, NULL, tok_investor2, 400, "page_token");
	snprintf(path, sizeof(path), "/v1/records?sort=AREA_DESC&page_token=%s",
		 s->next_page_token);
	expect_refusal("GET", path, NULL, tok_investor, 400, "page_token");
	snprintf(path, sizeof(path), "/v1/records?sort=AREA_ASC&region=14&page_token=%s",
		 s->next_page_token);
	expect_refusal("GET", path, NULL, tok_investor, 400, "page_token");
	/* forged: one character changed */
	{
		char forged[256];

		snprintf(forged, sizeof(forged), "%s", s->next_page_token);
		forged[10] = forged[10] == 'x' ? 'y' : 'x';
		snprintf(path, sizeof(path), "/v1/records?sort=AREA_ASC&page_token=%s", forged);
		expect_refusal("GET", path, NULL, tok_investor, 400, "page_token");
	}
	/* the same caller and search: accepted */
	snprintf(path, sizeof(path), "sort=AREA_ASC&page_token=%s", s->next_page_token);
	vacancy__v1__search_response__free_unpacked(s, NULL);
	s = get_page(tok_investor, path, &status, NULL);
	CU_ASSERT_EQUAL(status, 200);
	if (s)
		vacancy__v1__search_response__free_unpacked(s, NULL);
}

/* Runs ogrinfo over file; the feature count it reports, or -1. */
static long
ogr_count(const char *file)
{
	char cmd[1024], out[8192], *p;

	snprintf(cmd, sizeof(cmd), "ogrinfo -ro -al -so '%s' 2>&1", file);
	if (harness_run(cmd, out, sizeof(out)) != 0) {
		fprintf(stderr, "ogrinfo: %s\n", out);
		return -1;
	}
	if ((p = strstr(out, "Feature Count: ")) == NULL)
		return -1;
	return atol(p + 15);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
t_export(void)
{
	struct http_resp r;
	char file[600];

	snprintf(file, sizeof(file), "%s/export.geojson", harness_env("VACANCY_TEST_WORK"));
	/* investors: the published records in pages of max_page_size = 4 */
	if (harness_http(&dmn, "GET", "/v1/export.geojson", tok_investor, NULL, NULL, NULL, 0, NULL,
			 &r) == -1) {
		fprintf(stderr, "export: curl error %d\n", r.curl_error);
		CU_FAIL_FATAL("no answer to the export");
	}
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.content_type, "application/geo+json");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.headers, "Transfer-Encoding: chunked"));
	CU_ASSERT_PTR_NULL(memmem(r.body, r.len, "SECRET", 6));
	CU_ASSERT_PTR_NULL(memmem(r.body, r.len, "HN2", 3)); /* blurred: no house number */
	/* fixture 2 is blurred: its exact position is not in the export */
	CU_ASSERT_PTR_NULL(memmem(r.body, r.len, "13.002000", 9));
	write_file(file, r.body, r.len);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(ogr_count(file), count("SELECT count(*) FROM investor.published_record"));

	/* a filter; more than max_export_records (8) is refused before streaming */
	CU_ASSERT_EQUAL_FATAL(harness_http(&dmn, "GET", "/v1/export.geojson?region=14521020",
					   tok_county, NULL, NULL, NULL, 0, NULL, &r),
			      0);
	CU_ASSERT_EQUAL(r.status, 200);
	write_file(file, r.body, r.len);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(ogr_count(file),
			count("SELECT count(*) FROM registry.record WHERE municipality_ags = "
			      "'14521020' AND withdrawn_at IS NULL"));
	expect_refusal("GET", "/v1/export.geojson", NULL, tok_county, 400, "query");
}

/* A client that reads the headers of an export and goes away. */
static void
t_export_client_gone(void)
{
	char req[1024], buf[256];
	void *ssl;

	for (int round = 0; round < 5; round++) {
		ssl = harness_tls_open(dmn.port);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ssl);
		snprintf(req, sizeof(req),
			 "GET /v1/export.geojson HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
			 "%s\r\n\r\n",
			 tok_investor);
		CU_ASSERT(SSL_write(ssl, req, (int)strlen(req)) > 0);
		if (round > 0)
			CU_ASSERT(SSL_read(ssl, buf, round * 40) > 0);
		harness_tls_close(ssl);
	}
	CU_ASSERT_EQUAL(harness_daemon_wait_healthy(&dmn, 5000), 0);
	{
		char got[4096];

		CU_ASSERT_EQUAL(walk(tok_investor, "", got, sizeof(got)), 4);
	}
}

/* A kept-alive connection still open when the daemon stops: its SSL object
 * is freed after the server (a use-after-free once, seen by ASan). */
static void
t_stop_with_idle_connection(void)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	struct daemon d2;
	char buf[512];
	void *ssl;

	CU_ASSERT_EQUAL_FATAL(harness_daemon_start(&d2, NULL), 0);
	ssl = harness_tls_open(d2.port);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ssl);
	CU_ASSERT(SSL_write(ssl, req, (int)strlen(req)) > 0);
	CU_ASSERT(SSL_read(ssl, buf, sizeof(buf)) > 0);
	CU_ASSERT_EQUAL(harness_daemon_stop(&d2), 0);
	harness_tls_close(ssl);
}

/* Every filter is served by an index: with sequential scans priced out,
 * no plan reads a whole table of records. */
static void
t_plans(void)
{
	static const char *const filters[] = {
	    "region=14521",
	    "region=145210200",
	    "bbox=50.5,12.9,50.7,13.1",
	    "near=50.58,13.0,2000&sort=DISTANCE_ASC",
	    "site_kind=BUILDING",
	    "usage=MIXED",
	    "marketing=RENT",
	    "object_type=RETAIL",
	    "status=RESERVED",
	    "min_usable_area_m2=100&sort=AREA_DESC",
	    "max_usable_area_m2=100&sort=AREA_ASC",
	    "min_plot_area_m2=100",
	    "max_purchase_price_eur=100000&sort=PRICE_ASC",
	    "max_rent_eur_month=900",
	    "updated_since=2026-01-01T00:00:00Z",
	    "text=Fixture",
	    "",
	};
	static const unsigned char key[SEARCHQ_KEY_LEN] = "k";
	const char *roles[2] = {"VACANCY_TEST_PG_INVESTOR", "VACANCY_TEST_PG_STAFF"};

	for (int role = 0; role < 2; role++) {
		PGconn *c = harness_pg(harness_env(roles[role]));
		PGresult *res = PQexec(c, "SET enable_seqscan = off");

		PQclear(res);
		for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
			struct searchq_caller who = {role ? ROLE_COUNTY : ROLE_INVESTOR,
						     role ? "14521" : "", 1, key, 0};
			struct searchq_limits lim = {500, 100000, 3600};
			struct searchq_params p;
			struct searchq_err err;
			struct searchq q;
			struct buf sql;
			Vacancy__V1__SearchRequest *req;
			char plan[16384] = "";
			int n;

			req = searchq_parse(filters[i], 0, &codec_heap, &err);
			CU_ASSERT_PTR_NOT_NULL_FATAL(req);
			CU_ASSERT_EQUAL_FATAL(
			    searchq_check(req, &lim, &who,
					  role ? SEARCHQ_STAFF_PUBLIC : SEARCHQ_INVESTOR, &q, &err),
			    0);
			protobuf_c_message_free_unpacked(&req->base, &codec_heap);
			for (int later = 0; later < 2; later++) {
				if (later)
					CU_ASSERT_EQUAL(searchq_advance(&q, "1", "1",
									"00000000-0000-4000-8000-"
									"000000000001"),
							0);
				buf_init(&sql, 0);
				buf_adds(&sql, "EXPLAIN ");
				n = searchq_sql(&q, &sql, &p);
				buf_addc(&sql, '\0');
				res = PQexecParams(c, sql.data, n, NULL, p.v, NULL, NULL, 0);
				CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_TUPLES_OK);
				if (PQresultStatus(res) != PGRES_TUPLES_OK)
					fprintf(stderr, "%s\n", PQresultErrorMessage(res));
				plan[0] = '\0';
				for (int k = 0; k < PQntuples(res); k++)
					snprintf(plan + strlen(plan), sizeof(plan) - strlen(plan),
						 "%s\n", PQgetvalue(res, k, 0));
				PQclear(res);
				buf_free(&sql);
				CU_ASSERT_PTR_NULL(strstr(plan, "Seq Scan on record "));
				CU_ASSERT_PTR_NULL(strstr(plan, "Seq Scan on record_internal"));
				CU_ASSERT_PTR_NULL(strstr(plan, "Seq Scan on feed"));
				CU_ASSERT_PTR_NULL(strstr(plan, "Seq Scan on record_past"));
				if (strstr(plan, "Seq Scan on") != NULL)
					fprintf(stderr, "%s %s:\n%s", roles[role], filters[i],
						plan);
			}
		}
		PQfinish(c);
	}
}

void
test_search_register(void)
{
	CU_pSuite s = CU_add_suite("search", suite_init, suite_clean);

	CU_add_test(s, "each role searches what it may see", t_roles);
	CU_add_test(s, "staff reads are logged, investor pages carry no personal data",
		    t_staff_logged);
	CU_add_test(s, "GET, POST JSON and POST protobuf agree, and agree with SQL", t_forms_agree);
	CU_add_test(s, "bad input: 400 naming the parameter", t_bad_input);
	CU_add_test(s, "injection attempts are just text", t_injection);
	CU_add_test(s, "page tokens: whole walks; forged and foreign ones refused", t_tokens);
	CU_add_test(s, "GeoJSON export: streamed, public, loadable, capped", t_export);
	CU_add_test(s, "export: clients that go away mid-stream", t_export_client_gone);
	CU_add_test(s, "query plans: every filter served by an index", t_plans);
	CU_add_test(s, "stopping with an idle kept-alive TLS connection",
		    t_stop_with_idle_connection);
}
