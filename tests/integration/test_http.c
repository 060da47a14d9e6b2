/*
 * test_http: the real vacancyd over TLS against the throwaway cluster.
 * Health, authentication, roles and scopes, the projection of a record for
 * each role (field by field, and by scanning bodies for the values of every
 * INTERNAL and PERSONAL field), JSON and protobuf, every transport limit,
 * deadlines, database faults, metrics, SIGHUP, SIGTERM, config checks,
 * token revocation and the command-line client.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "codec.h"
#include "harness.h"
#include "json.h"
#include "pbfield.h"
#include "project.h"
#include "vacancy.pb-c.h"

static struct daemon dmn;
static char *tok_muni, *tok_county, *tok_investor, *tok_other_county;

/* Fixture records: n, AGS, and what decides their visibility. */
struct fixture {
	int n;
	const char *ags;
	const char *publication, *status, *consent, *owner_category;
	int blur_m;
	int withdrawn;
	int investor_visible;
};

static const struct fixture fixtures[] = {
    {1, "14521020", "PUBLIC", "MARKETED", "UNKNOWN", "MUNICIPAL", 0, 0, 1},
    {2, "14521020", "PUBLIC", "RESERVED", "CONSENTED", "PRIVATE", 500, 0, 1},
    {3, "14521020", "INTERNAL", "MARKETED", "CONSENTED", "PRIVATE", 0, 0, 0},
    {4, "14521020", "PUBLIC", "CONFIRMED", "CONSENTED", "BUSINESS", 0, 0, 0},
    {5, "14521020", "PUBLIC", "MARKETED", "OBJECTED", "BUSINESS", 0, 0, 0},
    {6, "14521020", "PUBLIC", "MARKETED", "NOTICE_PUBLISHED", "PRIVATE", 0, 0, 0},
    {7, "14521035", "PUBLIC", "MARKETED", "NO_OBJECTION", "PRIVATE", 0, 0, 1},
    {8, "14522080", "PUBLIC", "MARKETED", "CONSENTED", "BUSINESS", 0, 0, 1},
    {9, "14521020", "PUBLIC", "REUSED", "CONSENTED", "BUSINESS", 0, 0, 0},
    {10, "14521020", "PUBLIC", "MARKETED", "CONSENTED", "BUSINESS", 0, 1, 0},
    {11, "14521020", "PUBLIC", "SUSPECTED", "CONSENTED", "PUBLIC", 0, 0, 0},
};
#define NFIX (sizeof(fixtures) / sizeof(fixtures[0]))

/* The true position of fixture n. */
static double
fix_lat(int n)
{
	return 50.58 + n * 0.001;
}
static double
fix_lon(int n)
{
	return 13.00 + n * 0.001;
}

static void
fix_id(int n, char out[37])
{
	snprintf(out, 37, "00000000-0000-4000-8000-%012d", n);
}

/* Inserts fixture f with every field set; INTERNAL and PERSONAL values carry
 * markers ("SECRET-...") that must never reach an investor. */
static int
fixture_insert(const struct fixture *f)
{
	char sql[8192], id[37];

	fix_id(f->n, id);
	snprintf(
	    sql, sizeof(sql),
	    "BEGIN;"
	    "INSERT INTO registry.record (record_id, municipality_ags, municipality_ars, "
	    " last_verified_at, site_kind, usage, marketing, object_type, status, vacancy_degree,"
	    " vacant_since, vacant_since_precision, condition, construction_year, development,"
	    " planning_basis, bplan_ref, contamination, street, house_number, postcode, locality,"
	    " gemarkung, flur, flurstueck, parcel_ids, geom, usable_area_m2, floor_area_m2,"
	    " sales_area_m2, plot_area_m2, divisible_from_m2, purchase_price_eur, rent_eur_month,"
	    " rent_eur_m2, price_on_request, title, description, location_text, marketing_contact,"
	    " attachments, withdrawn_at) VALUES ('%s', '%s', '%.5s0000%s', '2026-05-01', "
	    "'BUILDING',"
	    " '{COMMERCIAL,MIXED}', '{SALE,RENT}', 'RETAIL', '%s', 'COMPLETE', '2021-03-01', "
	    "'MONTH',"
	    " 'NEEDS_REFURBISHMENT', 1911, 'FULL', 'BPLAN', 'plan-%d', 'NONE_KNOWN', 'Markt',"
	    " 'HN%d', '09456', 'Annaberg-Buchholz', 'GEMARKUNG%d', 'FLUR%d', 'FLURSTUECK%d',"
	    " '{\"14400200300123000400\"}', ST_SetSRID(ST_MakePoint(%.6f, %.6f), 4326), 120.5, 300,"
	    " 80, 400, 40, 99000.00, 850.50, 7.25, false, 'Fixture %d', 'Description %d',"
	    " 'Location %d', '{\"organisation\":\"WiFoe\",\"personRole\":\"Beratung\"}',"
	    " '[{\"group\":\"PHOTO\",\"mediaType\":\"image/jpeg\",\"url\":\"https://x/%d.jpg\"}]', "
	    "%s);"
	    "INSERT INTO registry.record_internal (record_id, municipality_ags, external_id, "
	    "revision,"
	    " publication, owner_consent, owner_consent_date, source_x, source_y, source_crs,"
	    " location_blur_m, owner_category, internal_notes) VALUES ('%s', '%s', 'SECRET-EXT-%d',"
	    " 7, '%s', '%s', '2026-01-0%d', 371234.5, 5605123.5, 25833, %d, '%s',"
	    " 'SECRET-NOTE-%d');"
	    "INSERT INTO registry.record_personal (record_id, vacancy_reason, owner_name,"
	    " owner_address, owner_phone, owner_email, owner_willingness,"
	    " attachment_rights_holders) VALUES ('%s', 'HEIRS_DISPUTE', 'SECRET-OWNER-%d',"
	    " 'SECRET-ADDRESS-%d', 'SECRET-PHONE-%d', 'secret-mail-%d@example.invalid', 'SELL',"
	    " '{SECRET-RIGHTS-%d}');"
	    "COMMIT;",
	    id, f->ags, f->ags, f->ags + 5, f->status, f->n, f->n, f->n, f->n, f->n, fix_lon(f->n),
	    fix_lat(f->n), f->n, f->n, f->n, f->n, f->withdrawn ? "now()" : "NULL", id, f->ags,
	    f->n, f->publication, f->consent, f->n % 9 + 1, f->blur_m, f->owner_category, f->n, id,
	    f->n, f->n, f->n, f->n, f->n);
	return harness_sql(sql);
}

/* Every value an investor must never see, for fixture n. */
static int
body_has_secret(const char *body, size_t len, int n)
{
	const char *marks[] = {"SECRET-", "secret-mail", "HEIRS_DISPUTE", "371234",
			       "5605123", "25833",	 "ownerConsent",  "\"SELL\""};
	char hn[32];

	(void)len;
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (memmem(body, len, marks[i], strlen(marks[i])) != NULL)
			return 1;
	snprintf(hn, sizeof(hn), "SECRET-OWNER-%d", n);
	return memmem(body, len, hn, strlen(hn)) != NULL;
}

int
fixtures_load(void)
{
	if (harness_sql("TRUNCATE registry.record, registry.personal_access_log CASCADE") == -1)
		return -1;
	for (size_t i = 0; i < NFIX; i++)
		if (fixture_insert(&fixtures[i]) == -1)
			return -1;
	return 0;
}

static int
suite_init(void)
{
	if (fixtures_load() == -1)
		return -1;
	/* Investors are answered from SQL here: these tests change rows with
	 * SQL behind the feed's back, which the read model (fed by the feed,
	 * like every real write) would not see. The model's answers are
	 * checked by the search_random, privacy, clients and mirror suites. */
	if (harness_daemon_start(&dmn, "auth_cache_ttl_ms = 0\nmax_body_bytes = 4K\n"
				       "max_sync_body_bytes = 64K\nmax_header_bytes = 4K\n"
				       "read_model = off") == -1 ||
	    harness_daemon_wait_healthy(&dmn, 10000) == -1)
		return -1;
	tok_muni = harness_token(&dmn, "municipality", "14521020");
	tok_county = harness_token(&dmn, "county", "14521");
	tok_other_county = harness_token(&dmn, "county", "14522");
	tok_investor = harness_token(&dmn, "investor", "");
	return tok_muni && tok_county && tok_investor && tok_other_county ? 0 : -1;
}

static int
suite_clean(void)
{
	int rc = harness_daemon_stop(&dmn);

	free(tok_muni);
	free(tok_county);
	free(tok_other_county);
	free(tok_investor);
	if (rc != 0)
		fprintf(stderr, "test_http: vacancyd exited with %d (see %s)\n", rc, dmn.log);
	return rc == 0 ? 0 : -1;
}

/* GET /v1/records/{fixture n} as token, decoded; NULL unless 200. */
static Vacancy__V1__Record *
get_record(int n, const char *token, const char *accept, struct http_resp *r)
{
	char path[128], id[37];

	fix_id(n, id);
	snprintf(path, sizeof(path), "/v1/records/%s", id);
	if (harness_http(&dmn, "GET", path, token, accept, NULL, NULL, 0, NULL, r) == -1 ||
	    r->status != 200)
		return NULL;
	if (accept && strstr(accept, "json")) {
		char err[256];
		return (Vacancy__V1__Record *)json_decode(&vacancy__v1__record__descriptor, r->body,
							  r->len, NULL, 32, err, sizeof(err));
	}
	return vacancy__v1__record__unpack(NULL, r->len, (const uint8_t *)r->body);
}

/* Decodes an Error body and checks its code. */
static void
assert_error(const struct http_resp *r, long status, const char *code)
{
	Vacancy__V1__Error *e;

	CU_ASSERT_EQUAL(r->status, status);
	if (strstr(r->content_type, "json")) {
		char err[256];
		e = (Vacancy__V1__Error *)json_decode(&vacancy__v1__error__descriptor, r->body,
						      r->len, NULL, 32, err, sizeof(err));
	} else {
		e = vacancy__v1__error__unpack(NULL, r->len, (const uint8_t *)r->body);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(e->code, code);
	CU_ASSERT(e->has_http_status && e->http_status == (uint32_t)status);
	CU_ASSERT(e->request_id != NULL && strlen(e->request_id) == 16);
	CU_ASSERT(e->message != NULL && *e->message != '\0');
	vacancy__v1__error__free_unpacked(e, NULL);
}

static void
test_healthz(void)
{
	struct http_resp r;

	CU_ASSERT_EQUAL(harness_http(&dmn, "GET", "/healthz", NULL, NULL, NULL, NULL, 0, NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "ok\n");
	harness_resp_free(&r);
}

static void
test_unauthenticated(void)
{
	const char *bad[] = {NULL, "not-a-token", "vcy_short",
			     "vcy_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
	struct http_resp r;
	char path[128], id[37];

	fix_id(1, id);
	snprintf(path, sizeof(path), "/v1/records/%s", id);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		harness_http(&dmn, "GET", path, bad[i], NULL, NULL, NULL, 0, NULL, &r);
		assert_error(&r, 401, "UNAUTHENTICATED");
		CU_ASSERT_PTR_NOT_NULL(strcasestr(r.headers, "WWW-Authenticate: Bearer"));
		CU_ASSERT_FALSE(body_has_secret(r.body, r.len, 1));
		harness_resp_free(&r);
	}
	/* the scheme must be Bearer */
	harness_http(&dmn, "GET", path, NULL, NULL, NULL, NULL, 0,
		     "Authorization: Basic dXNlcjpwdw==", &r);
	assert_error(&r, 401, "UNAUTHENTICATED");
	harness_resp_free(&r);
	/* under /v1/, 401 comes before 404 and 405: an unauthenticated caller
	 * learns nothing, not even which endpoints exist */
	harness_http(&dmn, "POST", "/v1/search", NULL, NULL, NULL, NULL, 0, NULL, &r);
	assert_error(&r, 401, "UNAUTHENTICATED");
	harness_resp_free(&r);
	harness_http(&dmn, "DELETE", "/v1/records/00000000-0000-4000-8000-000000000001", NULL, NULL,
		     NULL, NULL, 0, NULL, &r);
	assert_error(&r, 401, "UNAUTHENTICATED");
	harness_resp_free(&r);
	harness_http(&dmn, "GET", "/nothing-here", NULL, NULL, NULL, NULL, 0, NULL, &r);
	assert_error(&r, 404, "NOT_FOUND");
	harness_resp_free(&r);
	/* 401 comes before 404: an unauthenticated caller learns nothing */
	harness_http(&dmn, "GET", "/v1/records/00000000-0000-4000-8000-999999999999", NULL, NULL,
		     NULL, NULL, 0, NULL, &r);
	assert_error(&r, 401, "UNAUTHENTICATED");
	harness_resp_free(&r);
}

static void
test_routes(void)
{
	struct http_resp r;

	harness_http(&dmn, "GET", "/v1/nothing", tok_investor, NULL, NULL, NULL, 0, NULL, &r);
	assert_error(&r, 404, "NOT_FOUND");
	harness_resp_free(&r);
	harness_http(&dmn, "DELETE", "/v1/records/00000000-0000-4000-8000-000000000001",
		     tok_investor, NULL, NULL, NULL, 0, NULL, &r);
	assert_error(&r, 405, "METHOD_NOT_ALLOWED");
	CU_ASSERT_PTR_NOT_NULL(strcasestr(r.headers, "Allow: GET"));
	harness_resp_free(&r);
	harness_http(&dmn, "GET", "/v1/records/not-a-uuid", tok_county, NULL, NULL, NULL, 0, NULL,
		     &r);
	assert_error(&r, 400, "INVALID_ARGUMENT");
	harness_resp_free(&r);
	harness_http(&dmn, "GET", "/v1/records/00000000-0000-4000-8000-999999999999", tok_county,
		     NULL, NULL, NULL, 0, NULL, &r);
	assert_error(&r, 404, "NOT_FOUND");
	harness_resp_free(&r);
	/* errors follow Accept too */
	harness_http(&dmn, "GET", "/v1/nothing", tok_investor, "application/json", NULL, NULL, 0,
		     NULL, &r);
	CU_ASSERT_STRING_EQUAL(r.content_type, "application/json");
	assert_error(&r, 404, "NOT_FOUND");
	harness_resp_free(&r);
}

/* Checks an investor's copy field by field against the tier table. */
static void
assert_investor_projection(const Vacancy__V1__Record *rec)
{
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;
	char err[128];

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		int present;

		if (project_tier(f->name) == TIER_PUBLIC)
			continue;
		present = pbfield_count(&rec->base, f) > 0;
		if (present)
			fprintf(stderr, "investor received non-public field %s\n", f->name);
		CU_ASSERT_FALSE(present);
	}
	for (size_t i = 0; i < rec->n_attachments; i++)
		CU_ASSERT_PTR_NULL(rec->attachments[i]->rights_holder);
	CU_ASSERT_FALSE(codec_find_unknown(&rec->base, err, sizeof(err)));
}

static void
test_investor_projection(void)
{
	struct http_resp rp, rj;
	Vacancy__V1__Record *p = get_record(1, tok_investor, NULL, &rp);
	Vacancy__V1__Record *j = get_record(1, tok_investor, "application/json", &rj);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	CU_ASSERT_STRING_EQUAL(rp.content_type, "application/x-protobuf");
	CU_ASSERT_STRING_EQUAL(rj.content_type, "application/json");
	assert_investor_projection(p);
	assert_investor_projection(j);
	CU_ASSERT_FALSE(body_has_secret(rp.body, rp.len, 1));
	CU_ASSERT_FALSE(body_has_secret(rj.body, rj.len, 1));
	/* PUBLIC fields arrive */
	CU_ASSERT_STRING_EQUAL(p->title, "Fixture 1");
	CU_ASSERT_STRING_EQUAL(p->house_number, "HN1");
	CU_ASSERT_STRING_EQUAL(p->purchase_price_eur, "99000.00");
	CU_ASSERT(p->has_usable_area_m2 && p->usable_area_m2 == 120.5);
	CU_ASSERT_EQUAL(p->n_usage, 2);
	CU_ASSERT_EQUAL(p->n_attachments, 1);
	CU_ASSERT(fabs(p->location->lat - fix_lat(1)) < 1e-9);
	/* JSON and protobuf carry the same record */
	CU_ASSERT_EQUAL(protobuf_c_message_get_packed_size(&p->base),
			protobuf_c_message_get_packed_size(&j->base));
	{
		size_t n = protobuf_c_message_get_packed_size(&p->base);
		uint8_t *a = malloc(n), *b = malloc(n);
		protobuf_c_message_pack(&p->base, a);
		protobuf_c_message_pack(&j->base, b);
		CU_ASSERT_EQUAL(memcmp(a, b, n), 0);
		free(a);
		free(b);
	}
	vacancy__v1__record__free_unpacked(p, NULL);
	protobuf_c_message_free_unpacked(&j->base, NULL);
	harness_resp_free(&rp);
	harness_resp_free(&rj);
}

/* Distance in metres between two WGS84 points (equirectangular; fine at 500 m). */
static double
metres(double lat1, double lon1, double lat2, double lon2)
{
	double x = (lon2 - lon1) * cos((lat1 + lat2) / 2 * M_PI / 180) * 111320;
	double y = (lat2 - lat1) * 111320;

	return sqrt(x * x + y * y);
}

static void
test_investor_blur(void)
{
	struct http_resp r;
	Vacancy__V1__Record *p = get_record(2, tok_investor, "application/json", &r);
	double d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	assert_investor_projection(p);
	CU_ASSERT_PTR_NULL(p->house_number);
	CU_ASSERT_PTR_NULL(p->gemarkung);
	CU_ASSERT_PTR_NULL(p->flur);
	CU_ASSERT_PTR_NULL(p->flurstueck);
	CU_ASSERT_EQUAL(p->n_parcel_ids, 0);
	CU_ASSERT_PTR_NULL(strstr(r.body, "HN2"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->location);
	d = metres(fix_lat(2), fix_lon(2), p->location->lat, p->location->lon);
	CU_ASSERT(d > 0.01);
	CU_ASSERT(d <= 500.0);
	/* staff see the true position and the house number */
	protobuf_c_message_free_unpacked(&p->base, NULL);
	harness_resp_free(&r);
	p = get_record(2, tok_muni, NULL, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(p->house_number, "HN2");
	CU_ASSERT(metres(fix_lat(2), fix_lon(2), p->location->lat, p->location->lon) < 0.01);
	CU_ASSERT(p->has_location_blur_m && p->location_blur_m == 500);
	vacancy__v1__record__free_unpacked(p, NULL);
	harness_resp_free(&r);
}

static void
test_investor_visibility(void)
{
	for (size_t i = 0; i < NFIX; i++) {
		struct http_resp r;
		Vacancy__V1__Record *p = get_record(fixtures[i].n, tok_investor, NULL, &r);

		if (fixtures[i].investor_visible) {
			CU_ASSERT_EQUAL(r.status, 200);
		} else {
			if (r.status != 404)
				fprintf(stderr, "fixture %d: investor got %ld\n", fixtures[i].n,
					r.status);
			assert_error(&r, 404, "NOT_FOUND");
		}
		CU_ASSERT_FALSE(body_has_secret(r.body, r.len, fixtures[i].n));
		if (p)
			vacancy__v1__record__free_unpacked(p, NULL);
		harness_resp_free(&r);
	}
}

static void
test_staff_full_and_logged(void)
{
	const char *tokens[] = {tok_muni, tok_county};

	for (int t = 0; t < 2; t++) {
		char *before =
		    harness_sql_value("SELECT count(*) FROM registry.personal_access_log "
				      "WHERE record_id = '00000000-0000-4000-8000-000000000003'");
		char *after;
		struct http_resp r;
		Vacancy__V1__Record *p = get_record(3, tokens[t], NULL, &r);

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_STRING_EQUAL(p->owner_name, "SECRET-OWNER-3");
		CU_ASSERT_STRING_EQUAL(p->owner_email, "secret-mail-3@example.invalid");
		CU_ASSERT_STRING_EQUAL(p->internal_notes, "SECRET-NOTE-3");
		CU_ASSERT_STRING_EQUAL(p->external_id, "SECRET-EXT-3");
		CU_ASSERT(p->has_revision && p->revision == 7);
		CU_ASSERT(p->has_vacancy_reason);
		CU_ASSERT(p->has_source_crs && p->source_crs == 25833);
		CU_ASSERT(p->n_attachments == 1 && p->attachments[0]->rights_holder &&
			  strcmp(p->attachments[0]->rights_holder, "SECRET-RIGHTS-3") == 0);
		CU_ASSERT(p->has_publication &&
			  p->publication == VACANCY__V1__PUBLICATION__VALUE__INTERNAL);
		after =
		    harness_sql_value("SELECT count(*) FROM registry.personal_access_log "
				      "WHERE record_id = '00000000-0000-4000-8000-000000000003'");
		CU_ASSERT_PTR_NOT_NULL_FATAL(before);
		CU_ASSERT_PTR_NOT_NULL_FATAL(after);
		CU_ASSERT_EQUAL(atoi(after), atoi(before) + 1);
		free(before);
		free(after);
		vacancy__v1__record__free_unpacked(p, NULL);
		harness_resp_free(&r);
	}
	/* the log names the principal and the purpose */
	{
		char *v = harness_sql_value(
		    "SELECT count(DISTINCT l.principal_id) FROM registry.personal_access_log l "
		    "JOIN registry.principal p USING (principal_id) WHERE l.purpose = "
		    "'GET /v1/records/{id}' AND p.role IN ('municipality','county')");
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		CU_ASSERT(atoi(v) >= 2);
		free(v);
	}
}

static void
test_scopes(void)
{
	struct http_resp r;
	Vacancy__V1__Record *p;
	char *before = harness_sql_value("SELECT count(*) FROM registry.personal_access_log");

	/* a municipality reads only its own AGS */
	p = get_record(7, tok_muni, NULL, &r);
	CU_ASSERT_PTR_NULL(p);
	assert_error(&r, 403, "PERMISSION_DENIED");
	CU_ASSERT_FALSE(body_has_secret(r.body, r.len, 7));
	harness_resp_free(&r);
	/* the county its region, not beyond */
	p = get_record(7, tok_county, NULL, &r);
	CU_ASSERT_PTR_NOT_NULL(p);
	if (p)
		vacancy__v1__record__free_unpacked(p, NULL);
	harness_resp_free(&r);
	p = get_record(8, tok_county, NULL, &r);
	CU_ASSERT_PTR_NULL(p);
	assert_error(&r, 403, "PERMISSION_DENIED");
	harness_resp_free(&r);
	p = get_record(7, tok_other_county, NULL, &r);
	CU_ASSERT_PTR_NULL(p);
	assert_error(&r, 403, "PERMISSION_DENIED");
	harness_resp_free(&r);
	{
		/* refused reads are not logged as reads of personal data: only the
		 * successful county read above added a row */
		char *after =
		    harness_sql_value("SELECT count(*) FROM registry.personal_access_log");
		CU_ASSERT_EQUAL(atoi(after), atoi(before) + 1);
		free(after);
	}
	free(before);
}

/* Defence in depth: the database roles themselves. */
static void
test_database_roles(void)
{
	PGconn *inv = harness_pg(harness_env("VACANCY_TEST_PG_INVESTOR"));
	PGconn *staff = harness_pg(harness_env("VACANCY_TEST_PG_STAFF"));
	const char *denied_investor[] = {
	    "SELECT * FROM registry.record_personal",
	    "SELECT * FROM registry.record_internal",
	    "SELECT * FROM registry.record",
	    "SELECT * FROM registry.full_record",
	    "SELECT * FROM registry.read_full(1, 'x', ARRAY[]::uuid[])",
	    "SELECT * FROM registry.credential"};
	PGresult *res;

	for (size_t i = 0; i < sizeof(denied_investor) / sizeof(denied_investor[0]); i++) {
		res = PQexec(inv, denied_investor[i]);
		CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_FATAL_ERROR);
		CU_ASSERT_STRING_EQUAL(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
		PQclear(res);
	}
	res = PQexec(inv, "SELECT count(*) FROM investor.published_record");
	CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_TUPLES_OK);
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		int visible = 0;
		for (size_t i = 0; i < NFIX; i++)
			visible += fixtures[i].investor_visible;
		CU_ASSERT_EQUAL(atoi(PQgetvalue(res, 0, 0)), visible);
	}
	PQclear(res);
	/* staff cannot read personal data except through the logging function */
	res = PQexec(staff, "SELECT owner_name FROM registry.record_personal");
	CU_ASSERT_STRING_EQUAL(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	res = PQexec(staff, "SELECT * FROM registry.full_record");
	CU_ASSERT_STRING_EQUAL(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	res = PQexec(staff, "DELETE FROM registry.personal_access_log");
	CU_ASSERT_STRING_EQUAL(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	PQfinish(inv);
	PQfinish(staff);
}

static void
test_body_limits(void)
{
	struct http_resp r;
	char *big = malloc(100 * 1024);

	memset(big, 'x', 100 * 1024);
	/* over max_body_bytes (4K) on a non-sync endpoint: our 413 */
	harness_http(&dmn, "GET", "/v1/records/00000000-0000-4000-8000-000000000001", tok_county,
		     NULL, "application/x-protobuf", big, 5000, NULL, &r);
	assert_error(&r, 413, "PAYLOAD_TOO_LARGE");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "max_body_bytes"));
	harness_resp_free(&r);
	/* under it: served */
	harness_http(&dmn, "GET", "/v1/records/00000000-0000-4000-8000-000000000001", tok_county,
		     NULL, "application/x-protobuf", big, 1000, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	/* over max_sync_body_bytes (64K), the largest any endpoint takes: the
	 * HTTP layer refuses it before any handler */
	harness_http(&dmn, "POST", "/v1/records", tok_county, NULL, "application/x-protobuf", big,
		     100 * 1024, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 413);
	harness_resp_free(&r);
	free(big);
	/* the daemon still serves */
	harness_http(&dmn, "GET", "/healthz", NULL, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
}

static void
test_header_limit(void)
{
	struct http_resp r;
	char *h = malloc(6000);

	snprintf(h, 6000, "X-Padding: ");
	memset(h + 11, 'a', 5000);
	h[5011] = '\0';
	/* headers over max_header_bytes (4K) */
	harness_http(&dmn, "GET", "/healthz", NULL, NULL, NULL, NULL, 0, h, &r);
	CU_ASSERT(r.status == 400 || r.status == 413 || r.status == 431);
	CU_ASSERT_EQUAL(r.status, 400);
	harness_resp_free(&r);
	free(h);
	harness_http(&dmn, "GET", "/healthz", NULL, NULL, NULL, NULL, 0, "X-Small: yes", &r);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
}

/* Reads one counter of /metrics; -1 if absent. */
static long
metric(const char *line_prefix)
{
	struct http_resp r;
	long v = -1;
	char *p;

	if (harness_http(&dmn, "GET", "/metrics", NULL, NULL, NULL, NULL, 0, NULL, &r) == 0 &&
	    (p = strstr(r.body, line_prefix)) != NULL)
		v = strtol(p + strlen(line_prefix), NULL, 10);
	harness_resp_free(&r);
	return v;
}

static void
test_plain_http_to_tls_port(void)
{
	const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	long before = metric("vacancyd_requests_total{endpoint=\"GET /healthz\",status=\"200\"} ");
	long after;
	char out[512];
	ssize_t n = harness_raw_tcp(dmn.port, req, sizeof(req) - 1, out, sizeof(out), 2000);

	/* no HTTP answer: at most a TLS alert, then the connection closes */
	CU_ASSERT(n >= 0);
	CU_ASSERT(n < 5 || strncmp(out, "HTTP/", 5) != 0);
	CU_ASSERT_PTR_NULL(strstr(out, "ok"));
	after = metric("vacancyd_requests_total{endpoint=\"GET /healthz\",status=\"200\"} ");
	CU_ASSERT(before > 0);
	/* exactly the one metrics read in between, no handler ran for the plain request */
	CU_ASSERT_EQUAL(after, before);
}

static void
test_metrics(void)
{
	struct http_resp r;

	harness_http(&dmn, "GET", "/metrics", NULL, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.content_type, "text/plain"));
	CU_ASSERT_PTR_NOT_NULL(strstr(
	    r.body, "vacancyd_requests_total{endpoint=\"GET /v1/records/{id}\",status=\"200\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(
	    r.body, "vacancyd_requests_total{endpoint=\"GET /v1/records/{id}\",status=\"401\"}"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(r.body, "vacancyd_request_duration_seconds_bucket{endpoint="));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(r.body, "vacancyd_db_connections{pool=\"staff\",state=\"idle\"}"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(r.body, "vacancyd_db_connections{pool=\"investor\",state=\"idle\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "vacancyd_connections "));
	harness_resp_free(&r);
}

static void
test_token_revocation(void)
{
	char *tok = harness_token(&dmn, "investor", ""), cmd[1024];
	struct http_resp r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	harness_http(&dmn, "GET", "/v1/records/00000000-0000-4000-8000-000000000001", tok, NULL,
		     NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	snprintf(cmd, sizeof(cmd), "%s -f %s token revoke %.12s 2>&1",
		 harness_env("VACANCY_TEST_VACANCYD"), dmn.conf, tok);
	CU_ASSERT_EQUAL(harness_run(cmd, NULL, 0), 0);
	/* auth_cache_ttl_ms = 0 here: revocation is immediate */
	harness_http(&dmn, "GET", "/v1/records/00000000-0000-4000-8000-000000000001", tok, NULL,
		     NULL, NULL, 0, NULL, &r);
	assert_error(&r, 401, "UNAUTHENTICATED");
	harness_resp_free(&r);
	/* revoking again finds nothing */
	CU_ASSERT_NOT_EQUAL(harness_run(cmd, NULL, 0), 0);
	/* the token itself is not in the database, only its hash */
	{
		char sql[256], *v;
		snprintf(
		    sql, sizeof(sql),
		    "SELECT count(*) FROM registry.credential WHERE token_hash::text LIKE '%%%s%%'"
		    " OR prefix = '%s'",
		    tok + 4, tok);
		v = harness_sql_value(sql);
		CU_ASSERT_STRING_EQUAL(v, "0");
		free(v);
	}
	free(tok);
}

static void
test_token_cli_validation(void)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "%s -f %s token create --role municipality --scope 17000000 2>&1",
		 harness_env("VACANCY_TEST_VACANCYD"), dmn.conf);
	CU_ASSERT_EQUAL(harness_run(cmd, NULL, 0), 2);
	snprintf(cmd, sizeof(cmd), "%s -f %s token create --role mayor --scope 14521020 2>&1",
		 harness_env("VACANCY_TEST_VACANCYD"), dmn.conf);
	CU_ASSERT_EQUAL(harness_run(cmd, NULL, 0), 2);
	snprintf(cmd, sizeof(cmd), "%s -f %s token list", harness_env("VACANCY_TEST_VACANCYD"),
		 dmn.conf);
	{
		char out[8192];
		CU_ASSERT_EQUAL(harness_run(cmd, out, sizeof(out)), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "municipality"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "14521020"));
		CU_ASSERT_PTR_NULL(strstr(out, tok_muni)); /* never the whole token */
	}
}

static void
test_config_check(void)
{
	char cmd[2048], out[1024], path[700];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s -n -f %s 2>&1", harness_env("VACANCY_TEST_VACANCYD"),
		 dmn.conf);
	CU_ASSERT_EQUAL(harness_run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "valid"));
	snprintf(path, sizeof(path), "%s/bad.conf", dmn.dir);
	f = fopen(path, "w");
	fprintf(f, "listen_port = 8443\nmax_body_bytes = 10Q\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s -n -f %s 2>&1", harness_env("VACANCY_TEST_VACANCYD"), path);
	CU_ASSERT_EQUAL(harness_run(cmd, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "line 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "max_body_bytes"));
	/* plain HTTP is refused off loopback */
	snprintf(cmd, sizeof(cmd), "%s -n -f %s -o tls=off -o listen_addr=0.0.0.0 2>&1",
		 harness_env("VACANCY_TEST_VACANCYD"), dmn.conf);
	CU_ASSERT_EQUAL(harness_run(cmd, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "loopback"));
	/* a missing certificate is found by -n */
	snprintf(cmd, sizeof(cmd), "%s -n -f %s -o tls_cert_file=/nonexistent.pem 2>&1",
		 harness_env("VACANCY_TEST_VACANCYD"), dmn.conf);
	CU_ASSERT_EQUAL(harness_run(cmd, out, sizeof(out)), 1);
}

/* Polling clients revalidate with If-None-Match and get 304; personal data
 * is never cacheable. */
static void
test_etags(void)
{
	const char *path = "/v1/records/00000000-0000-4000-8000-000000000001";
	char etag[64] = "", inm[96], *p;
	struct http_resp r;

	harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strcasestr(r.headers, "Cache-Control: private, no-cache"));
	p = strcasestr(r.headers, "ETag: ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	snprintf(etag, sizeof(etag), "%.*s", (int)strcspn(p + 6, "\r\n"), p + 6);
	harness_resp_free(&r);
	snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
	harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, inm, &r);
	CU_ASSERT_EQUAL(r.status, 304);
	CU_ASSERT_EQUAL(r.len, 0);
	harness_resp_free(&r);
	/* the JSON form is another representation: another tag, so 200 */
	harness_http(&dmn, "GET", path, tok_investor, "application/json", NULL, NULL, 0, inm, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	/* a changed record: 200 with a new tag */
	CU_ASSERT_EQUAL(harness_sql("UPDATE registry.record SET title = 'Fixture 1, renamed' WHERE "
				    "record_id = '00000000-0000-4000-8000-000000000001'"),
			0);
	harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, inm, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NULL(strstr(r.headers, etag));
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(harness_sql("UPDATE registry.record SET title = 'Fixture 1' WHERE "
				    "record_id = '00000000-0000-4000-8000-000000000001'"),
			0);
	/* staff answers hold personal data: no-store */
	harness_http(&dmn, "GET", path, tok_county, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strcasestr(r.headers, "Cache-Control: no-store"));
	harness_resp_free(&r);
}

void test_http_register(void);
void
test_http_register(void)
{
	CU_pSuite s = CU_add_suite("http", suite_init, suite_clean);

	CU_add_test(s, "healthz", test_healthz);
	CU_add_test(s, "401 without a valid token", test_unauthenticated);
	CU_add_test(s, "404, 405, 400 in the error model", test_routes);
	CU_add_test(s, "investor projection, protobuf and JSON", test_investor_projection);
	CU_add_test(s, "investor blur", test_investor_blur);
	CU_add_test(s, "investor sees only published records", test_investor_visibility);
	CU_add_test(s, "staff read everything, logged", test_staff_full_and_logged);
	CU_add_test(s, "scopes: 403 outside", test_scopes);
	CU_add_test(s, "database roles", test_database_roles);
	CU_add_test(s, "body limits", test_body_limits);
	CU_add_test(s, "header limit", test_header_limit);
	CU_add_test(s, "plain HTTP to the TLS port", test_plain_http_to_tls_port);
	CU_add_test(s, "metrics", test_metrics);
	CU_add_test(s, "token revocation", test_token_revocation);
	CU_add_test(s, "token CLI validation", test_token_cli_validation);
	CU_add_test(s, "config check", test_config_check);
	CU_add_test(s, "ETag and 304", test_etags);
}
