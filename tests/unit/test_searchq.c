/*
 * test_searchq: the search's query string, checks, page tokens and SQL
 * (daemon/searchq.c, rules in docs/search.md).
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "searchq.h"

void test_searchq_register(void);

static const unsigned char key_a[SEARCHQ_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char key_b[SEARCHQ_KEY_LEN] = "fedcba9876543210fedcba9876543210";
static const struct searchq_limits lim = {500, 100000, 3600};

static Vacancy__V1__SearchRequest *
parse_ok(const char *qs)
{
	struct searchq_err err;
	Vacancy__V1__SearchRequest *req = searchq_parse(qs, 0, &codec_heap, &err);

	if (req == NULL)
		fprintf(stderr, "parse '%s': %s\n", qs, err.message);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req);
	return req;
}

/* Parses qs, expecting a refusal naming param. */
static void
parse_bad(const char *qs, int export, const char *param)
{
	struct searchq_err err;
	Vacancy__V1__SearchRequest *req = searchq_parse(qs, export, &codec_heap, &err);

	CU_ASSERT_PTR_NULL(req);
	if (req != NULL) {
		fprintf(stderr, "'%s' was accepted\n", qs);
		protobuf_c_message_free_unpacked(&req->base, &codec_heap);
		return;
	}
	CU_ASSERT_EQUAL(err.status, 400);
	CU_ASSERT_STRING_EQUAL(err.param, param);
	CU_ASSERT_EQUAL(strncmp(err.message, param, strlen(param)), 0);
}

static void
free_req(Vacancy__V1__SearchRequest *req)
{
	protobuf_c_message_free_unpacked(&req->base, &codec_heap);
}

static struct searchq_caller
caller(enum role role, const char *scope, int64_t principal, const unsigned char *key)
{
	struct searchq_caller who = {role, scope, principal, key, 1800000000};

	return who;
}

/* Parses and checks qs for who; returns the check's result. */
static int
check(const char *qs, const struct searchq_caller *who, struct searchq *q, struct searchq_err *err)
{
	Vacancy__V1__SearchRequest *req = parse_ok(qs);
	int rc = searchq_check(req, &lim, who,
			       who->role == ROLE_INVESTOR ? SEARCHQ_INVESTOR : SEARCHQ_STAFF_FULL,
			       q, err);

	free_req(req);
	return rc;
}

static void
check_bad(const char *qs, const struct searchq_caller *who, int status, const char *param)
{
	struct searchq q;
	struct searchq_err err;

	CU_ASSERT_EQUAL(check(qs, who, &q, &err), -1);
	CU_ASSERT_EQUAL(err.status, status);
	CU_ASSERT_STRING_EQUAL(err.param, param);
	if (strcmp(err.param, param) != 0)
		fprintf(stderr, "'%s': %s\n", qs, err.message);
}

static void
t_parse_fields(void)
{
	Vacancy__V1__SearchRequest *req = parse_ok(
	    "region=14521&bbox=50.1,12.5,50.9,13.5&near=50.5,13,2500&object_type=RETAIL"
	    "&object_type=OFFICE_PRACTICE,HALL_STORAGE_PRODUCTION&usage=COMMERCIAL"
	    "&min_usable_area_m2=100&max_usable_area_m2=1e3&max_purchase_price_eur=250000.50"
	    "&updated_since=2026-01-01T00%3A00%3A00Z&text=Laden+mit+%22Schaufenster%22%26Lager"
	    "&sort=AREA_DESC&page_size=20&page_token=abc&&");

	CU_ASSERT_STRING_EQUAL(req->region, "14521");
	CU_ASSERT_PTR_NOT_NULL_FATAL(req->bbox);
	CU_ASSERT(req->bbox->has_min_lat && req->bbox->has_max_lon);
	CU_ASSERT_DOUBLE_EQUAL(req->bbox->min_lon, 12.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(req->bbox->max_lat, 50.9, 1e-12);
	CU_ASSERT_PTR_NOT_NULL_FATAL(req->near);
	CU_ASSERT_DOUBLE_EQUAL(req->near->radius_m, 2500, 1e-12);
	CU_ASSERT_EQUAL_FATAL(req->n_object_type, 3);
	CU_ASSERT_EQUAL(req->object_type[0], VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL);
	CU_ASSERT_EQUAL(req->object_type[2],
			VACANCY__V1__OBJECT_TYPE__VALUE__HALL_STORAGE_PRODUCTION);
	CU_ASSERT_EQUAL(req->n_usage, 1);
	CU_ASSERT(req->has_min_usable_area_m2 && req->min_usable_area_m2 == 100);
	CU_ASSERT(req->has_max_usable_area_m2 && req->max_usable_area_m2 == 1000);
	CU_ASSERT_STRING_EQUAL(req->max_purchase_price_eur, "250000.50");
	CU_ASSERT_STRING_EQUAL(req->updated_since, "2026-01-01T00:00:00Z");
	CU_ASSERT_STRING_EQUAL(req->text, "Laden mit \"Schaufenster\"&Lager");
	CU_ASSERT(req->has_sort && req->sort == VACANCY__V1__SEARCH_SORT__VALUE__AREA_DESC);
	CU_ASSERT(req->has_page_size && req->page_size == 20);
	CU_ASSERT_STRING_EQUAL(req->page_token, "abc");
	free_req(req);

	req = parse_ok(NULL);
	CU_ASSERT_PTR_NULL(req->region);
	free_req(req);
}

static void
t_parse_errors(void)
{
	char big[1200];

	parse_bad("colour=red", 0, "colour");
	parse_bad("region=1&region=2", 0, "region");
	parse_bad("page_size=1&page_size=2", 0, "page_size");
	parse_bad("min_usable_area_m2=abc", 0, "min_usable_area_m2");
	parse_bad("min_usable_area_m2=0x10", 0, "min_usable_area_m2");
	parse_bad("min_usable_area_m2=inf", 0, "min_usable_area_m2");
	parse_bad("min_usable_area_m2=nan", 0, "min_usable_area_m2");
	parse_bad("min_usable_area_m2=1e999", 0, "min_usable_area_m2");
	parse_bad("min_usable_area_m2=1,5", 0, "min_usable_area_m2");
	parse_bad("min_usable_area_m2=", 0, "min_usable_area_m2");
	parse_bad("min_usable_area_m2", 0, "min_usable_area_m2");
	parse_bad("page_size=-1", 0, "page_size");
	parse_bad("page_size=99999999999", 0, "page_size");
	parse_bad("object_type=SHOP", 0, "object_type");
	parse_bad("object_type=RETAIL,,", 0, "object_type");
	parse_bad("object_type=UNSPECIFIED", 0, "object_type");
	parse_bad("sort=NEWEST", 0, "sort");
	parse_bad("bbox=1,2,3", 0, "bbox");
	parse_bad("bbox=1,2,3,4,5", 0, "bbox");
	parse_bad("bbox=1,2,x,4", 0, "bbox");
	parse_bad("near=50,13", 0, "near");
	parse_bad("bbox=1,2,3,4&bbox=1,2,3,4", 0, "bbox");
	parse_bad("text=a%00b", 0, "text");
	parse_bad("text=a%zzb", 0, "text");
	parse_bad("text=a%2", 0, "text");
	parse_bad("page_size=5", 1, "page_size");
	parse_bad("page_token=x", 1, "page_token");
	memset(big, 'a', sizeof(big));
	memcpy(big, "text=", 5);
	big[sizeof(big) - 1] = '\0';
	parse_bad(big, 0, "text");
}

static void
t_check_region(void)
{
	struct searchq_caller inv = caller(ROLE_INVESTOR, "", 7, key_a);
	struct searchq_caller county = caller(ROLE_COUNTY, "14521", 8, key_a);
	struct searchq_caller muni = caller(ROLE_MUNICIPALITY, "14521020", 9, key_a);
	struct searchq q;
	struct searchq_err err;

	CU_ASSERT_EQUAL(check("", &inv, &q, &err), 0);
	CU_ASSERT_STRING_EQUAL(q.ags_lo, ""); /* no region, no scope: no range */
	CU_ASSERT_EQUAL(check("region=145", &inv, &q, &err), 0);
	CU_ASSERT_STRING_EQUAL(q.ags_lo, "14500000");
	CU_ASSERT_STRING_EQUAL(q.ags_hi, "14599999");
	CU_ASSERT_EQUAL(check("region=145210200012", &inv, &q, &err), 0);
	CU_ASSERT(q.has_ars);
	CU_ASSERT_STRING_EQUAL(q.ars_lo, "145210200012");
	CU_ASSERT_EQUAL(check("region=14521020001", &inv, &q, &err), 0);
	CU_ASSERT_STRING_EQUAL(q.ars_lo, "145210200010");
	CU_ASSERT_STRING_EQUAL(q.ars_hi, "145210200019");
	/* the scope narrows a wider region, a narrower region narrows the scope */
	CU_ASSERT_EQUAL(check("", &county, &q, &err), 0);
	CU_ASSERT_STRING_EQUAL(q.ags_lo, "14521000");
	CU_ASSERT_EQUAL(check("region=14", &county, &q, &err), 0);
	CU_ASSERT_STRING_EQUAL(q.ags_hi, "14521999");
	CU_ASSERT_EQUAL(check("region=1452102", &county, &q, &err), 0);
	CU_ASSERT_STRING_EQUAL(q.ags_lo, "14521020");
	CU_ASSERT_STRING_EQUAL(q.ags_hi, "14521029");
	CU_ASSERT_EQUAL(check("region=145210200", &muni, &q, &err), 0);
	CU_ASSERT_STRING_EQUAL(q.ags_lo, "14521020");
	CU_ASSERT_STRING_EQUAL(q.ags_hi, "14521020");
	check_bad("region=14522", &county, 403, "region");
	check_bad("region=14521030", &muni, 403, "region");
	check_bad("region=145220000001", &county, 403, "region");
	check_bad("region=1", &inv, 400, "region");
	check_bad("region=1452102000123", &inv, 400, "region");
	check_bad("region=17", &inv, 400, "region");
	check_bad("region=00", &inv, 400, "region");
	check_bad("region=14%2021", &inv, 400, "region");
}

static void
t_check_values(void)
{
	struct searchq_caller inv = caller(ROLE_INVESTOR, "", 7, key_a);
	struct searchq_caller county = caller(ROLE_COUNTY, "14521", 8, key_a);
	struct searchq q;
	struct searchq_err err;

	check_bad("bbox=51,12,50,13", &inv, 400, "bbox");
	check_bad("bbox=50,13,51,12", &inv, 400, "bbox");
	check_bad("bbox=91,12,92,13", &inv, 400, "bbox");
	check_bad("bbox=50,-181,51,13", &inv, 400, "bbox");
	CU_ASSERT_EQUAL(check("bbox=50,12,50,12", &inv, &q, &err), 0); /* a point box */
	check_bad("near=50,13,0", &inv, 400, "near");
	check_bad("near=50,13,-5", &inv, 400, "near");
	check_bad("near=50,13,100001", &inv, 400, "near");
	check_bad("near=95,13,10", &inv, 400, "near");
	CU_ASSERT_EQUAL(check("near=50,13,100000", &inv, &q, &err), 0);
	check_bad("min_usable_area_m2=200&max_usable_area_m2=100", &inv, 400, "min_usable_area_m2");
	check_bad("min_plot_area_m2=2000&max_plot_area_m2=1000", &inv, 400, "min_plot_area_m2");
	check_bad("min_usable_area_m2=-1", &inv, 400, "min_usable_area_m2");
	CU_ASSERT_EQUAL(check("min_usable_area_m2=100&max_usable_area_m2=100", &inv, &q, &err), 0);
	check_bad("status=REUSED", &inv, 400, "status");
	check_bad("status=MARKETED,CONFIRMED", &inv, 400, "status");
	CU_ASSERT_EQUAL(check("status=MARKETED,RESERVED", &inv, &q, &err), 0);
	CU_ASSERT_EQUAL(check("status=REUSED,CONFIRMED", &county, &q, &err), 0);
	check_bad("max_purchase_price_eur=12.345", &inv, 400, "max_purchase_price_eur");
	check_bad("max_purchase_price_eur=-1", &inv, 400, "max_purchase_price_eur");
	check_bad("max_rent_eur_month=1e3", &inv, 400, "max_rent_eur_month");
	check_bad("updated_since=2026-01-01", &inv, 400, "updated_since");
	check_bad("updated_since=2026-02-30T00:00:00Z", &inv, 400, "updated_since");
	check_bad("updated_since=2026-01-01T25:00:00Z", &inv, 400, "updated_since");
	check_bad("updated_since=2026-01-01T00:00:00", &inv, 400, "updated_since");
	check_bad("updated_since=2026-01-01T00:00:00%2B1:00", &inv, 400, "updated_since");
	CU_ASSERT_EQUAL(check("updated_since=2026-01-01T00:00:00.123%2B01:00", &inv, &q, &err), 0);
	CU_ASSERT_EQUAL(check("updated_since=2026-01-01t00:00:00z", &inv, &q, &err), 0);
	check_bad("text=", &inv, 400, "text");
	check_bad("text=a%01b", &inv, 400, "text");
	check_bad("text=%ff%fe", &inv, 400, "text");
	check_bad("sort=DISTANCE_ASC", &inv, 400, "sort");
	CU_ASSERT_EQUAL(check("sort=DISTANCE_ASC&near=50,13,10", &inv, &q, &err), 0);
	check_bad("page_size=0", &inv, 400, "page_size");
	check_bad("page_size=501", &inv, 400, "page_size");
	CU_ASSERT_EQUAL(check("", &inv, &q, &err), 0);
	CU_ASSERT_EQUAL(q.page_size, SEARCHQ_DEFAULT_PAGE);
	CU_ASSERT_EQUAL(q.sort, VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC);
	CU_ASSERT_EQUAL(check("page_size=500", &inv, &q, &err), 0);
	CU_ASSERT_EQUAL(q.page_size, 500);
}

/* A token for qs after a row (asof, k, rid), as the first page would make it. */
static void
make_token(const char *qs, const struct searchq_caller *who, const char *k, char *tok, size_t len)
{
	struct searchq q;
	struct searchq_err err;

	CU_ASSERT_EQUAL_FATAL(check(qs, who, &q, &err), 0);
	CU_ASSERT_EQUAL_FATAL(
	    searchq_advance(&q, "4711", k, "0f0e0d0c-0b0a-0908-0706-050403020100"), 0);
	searchq_token(&q, who, tok, len);
}

static void
t_token(void)
{
	struct searchq_caller a = caller(ROLE_INVESTOR, "", 7, key_a);
	struct searchq_caller other = caller(ROLE_INVESTOR, "", 8, key_a);
	struct searchq_caller rekeyed = caller(ROLE_INVESTOR, "", 7, key_b);
	struct searchq q;
	struct searchq_err err;
	char tok[128], qs[512];

	/* a round trip restores the position */
	make_token("object_type=RETAIL&sort=AREA_DESC", &a, "123.25", tok, sizeof(tok));
	CU_ASSERT(strlen(tok) > 40);
	CU_ASSERT(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
		  strlen(tok));
	snprintf(qs, sizeof(qs), "object_type=RETAIL&sort=AREA_DESC&page_size=7&page_token=%s",
		 tok);
	CU_ASSERT_EQUAL_FATAL(check(qs, &a, &q, &err), 0);
	CU_ASSERT(q.has_cursor);
	CU_ASSERT_EQUAL(q.asof, 4711);
	CU_ASSERT(!q.key_null);
	CU_ASSERT_DOUBLE_EQUAL(q.key_float, 123.25, 0);
	CU_ASSERT_EQUAL(q.last_id[0], 0x0f);
	CU_ASSERT_EQUAL(q.last_id[15], 0x00);
	CU_ASSERT_EQUAL(q.page_size, 7);

	/* another search, caller or key: refused */
	snprintf(qs, sizeof(qs), "object_type=OFFICE_PRACTICE&sort=AREA_DESC&page_token=%s", tok);
	check_bad(qs, &a, 400, "page_token");
	snprintf(qs, sizeof(qs), "object_type=RETAIL&sort=AREA_ASC&page_token=%s", tok);
	check_bad(qs, &a, 400, "page_token");
	snprintf(qs, sizeof(qs), "object_type=RETAIL&sort=AREA_DESC&page_token=%s", tok);
	check_bad(qs, &other, 400, "page_token");
	check_bad(qs, &rekeyed, 400, "page_token");

	/* every altered character is noticed */
	for (size_t i = 0; i < strlen(tok); i++) {
		char t2[128];

		snprintf(t2, sizeof(t2), "%s", tok);
		t2[i] = t2[i] == 'A' ? 'B' : 'A';
		snprintf(qs, sizeof(qs), "object_type=RETAIL&sort=AREA_DESC&page_token=%s", t2);
		check_bad(qs, &a, 400, "page_token");
	}
	snprintf(qs, sizeof(qs), "object_type=RETAIL&sort=AREA_DESC&page_token=%.*s",
		 (int)strlen(tok) - 1, tok);
	check_bad(qs, &a, 400, "page_token");
	check_bad("page_token=%2B%2F%3D", &a, 400, "page_token");

	/* expiry */
	{
		struct searchq_caller later = a;

		later.now = a.now + lim.page_token_ttl_s + 1;
		snprintf(qs, sizeof(qs), "object_type=RETAIL&sort=AREA_DESC&page_token=%s", tok);
		check_bad(qs, &later, 400, "page_token");
		later.now = a.now + lim.page_token_ttl_s;
		CU_ASSERT_EQUAL(check(qs, &later, &q, &err), 0);
	}

	/* integer keys and the absent key */
	make_token("", &a, "1790000000123456", tok, sizeof(tok));
	snprintf(qs, sizeof(qs), "page_token=%s", tok);
	CU_ASSERT_EQUAL_FATAL(check(qs, &a, &q, &err), 0);
	CU_ASSERT_EQUAL(q.key_int, 1790000000123456LL);
	make_token("sort=PRICE_ASC", &a, NULL, tok, sizeof(tok));
	snprintf(qs, sizeof(qs), "sort=PRICE_ASC&page_token=%s", tok);
	CU_ASSERT_EQUAL_FATAL(check(qs, &a, &q, &err), 0);
	CU_ASSERT(q.key_null);
}

/* The highest $n in sql. */
static int
max_param(const char *sql)
{
	int max = 0;

	for (const char *p = strchr(sql, '$'); p != NULL; p = strchr(p + 1, '$'))
		if (atoi(p + 1) > max)
			max = atoi(p + 1);
	return max;
}

static void
sql_of(const char *qs, const struct searchq_caller *who, enum searchq_mode mode, struct buf *b,
       struct searchq_params *p, int *n)
{
	Vacancy__V1__SearchRequest *req = parse_ok(qs);
	struct searchq q;
	struct searchq_err err;

	CU_ASSERT_EQUAL_FATAL(searchq_check(req, &lim, who, mode, &q, &err), 0);
	free_req(req);
	buf_init(b, 0);
	*n = searchq_sql(&q, b, p);
	buf_addc(b, '\0');
}

static void
t_sql(void)
{
	static const char evil[] = "'; DROP TABLE registry.record; --";
	struct searchq_caller inv = caller(ROLE_INVESTOR, "", 7, key_a);
	struct searchq_caller county = caller(ROLE_COUNTY, "14521", 8, key_a);
	struct searchq_params p;
	struct buf b;
	char tok[128], qs[512];
	int n;

	sql_of("text=%27%3B+DROP+TABLE+registry.record%3B+--&object_type=RETAIL&usage=MIXED"
	       "&near=50,13,100&min_plot_area_m2=5&max_rent_eur_month=900&sort=DISTANCE_ASC",
	       &inv, SEARCHQ_INVESTOR, &b, &p, &n);
	CU_ASSERT(n > 0);
	CU_ASSERT_EQUAL(max_param(b.data), n);
	/* client text travels only as a parameter */
	CU_ASSERT_PTR_NULL(strstr(b.data, "DROP"));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "investor.published_record"));
	CU_ASSERT_PTR_NULL(strstr(b.data, "registry."));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "investor.object_type_array"));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "ST_DWithin"));
	{
		int found = 0;

		for (int i = 0; i < p.n; i++)
			found |= strcmp(p.v[i], evil) == 0;
		CU_ASSERT(found);
	}
	buf_free(&b);

	/* staff: the registry tables, read_full for the content */
	sql_of("status=REUSED", &county, SEARCHQ_STAFF_FULL, &b, &p, &n);
	CU_ASSERT_EQUAL(max_param(b.data), n);
	CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "registry.read_full("));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "withdrawn_at IS NULL"));
	CU_ASSERT_PTR_NULL(strstr(b.data, "investor."));
	buf_free(&b);
	sql_of("", &county, SEARCHQ_STAFF_PUBLIC, &b, &p, &n);
	CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "registry.public_record"));
	CU_ASSERT_PTR_NULL(strstr(b.data, "read_full"));
	buf_free(&b);

	/* every filter at once on a later staff page: each value bound once */
	{
		static const char all[] =
		    "region=145210200&bbox=50,12,51,14&near=50.5,13,1000&site_kind=BUILDING"
		    "&usage=MIXED&marketing=RENT&object_type=RETAIL&status=CONFIRMED"
		    "&min_usable_area_m2=1&max_usable_area_m2=2&min_plot_area_m2=3"
		    "&max_plot_area_m2=4&max_purchase_price_eur=5&max_rent_eur_month=6"
		    "&updated_since=2026-01-01T00:00:00Z&text=Laden&sort=DISTANCE_ASC";
		struct searchq_caller muni = caller(ROLE_MUNICIPALITY, "14521020", 9, key_a);

		make_token(all, &muni, "12.5", tok, sizeof(tok));
		snprintf(qs, sizeof(qs), "%s&page_token=%s", all, tok);
		sql_of(qs, &muni, SEARCHQ_STAFF_FULL, &b, &p, &n);
		CU_ASSERT(n > 0 && n < SEARCHQ_MAX_PARAMS);
		CU_ASSERT_EQUAL(max_param(b.data), n);
		CU_ASSERT_EQUAL(p.overflow, 0);
		/* the bbox both for the index and exactly */
		CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "ST_Y(l.geom) BETWEEN"));
		buf_free(&b);
	}

	/* a later page reads the versions at the walk's position too */
	make_token("object_type=RETAIL", &inv, "1790000000123456", tok, sizeof(tok));
	snprintf(qs, sizeof(qs), "object_type=RETAIL&page_token=%s", tok);
	sql_of(qs, &inv, SEARCHQ_INVESTOR, &b, &p, &n);
	CU_ASSERT_EQUAL(max_param(b.data), n);
	CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "investor.published_past"));
	CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "investor.changes"));
	CU_ASSERT_STRING_EQUAL(p.v[0], "4711");
	buf_free(&b);
}

static void
t_uuid(void)
{
	unsigned char id[16];
	char text[37];

	CU_ASSERT_EQUAL(searchq_uuid_parse("0F0E0D0C-0b0a-0908-0706-050403020100", id), 0);
	searchq_uuid_text(id, text);
	CU_ASSERT_STRING_EQUAL(text, "0f0e0d0c-0b0a-0908-0706-050403020100");
	CU_ASSERT_EQUAL(searchq_uuid_parse("0f0e0d0c0b0a09080706050403020100", id), 0);
	CU_ASSERT_EQUAL(id[15], 0x00);
	CU_ASSERT_EQUAL(searchq_uuid_parse("0f0e0d0c-0b0a-0908-0706-0504030201", id), -1);
	CU_ASSERT_EQUAL(searchq_uuid_parse("0f0e0d0c-0b0a-0908-0706-05040302010000", id), -1);
	CU_ASSERT_EQUAL(searchq_uuid_parse("0f0e0d0c-0b0a-0908-0706-05040302010g", id), -1);
	CU_ASSERT_EQUAL(searchq_uuid_parse("0f0e0d0c-0b0a-0908-0706-05040302010", id), -1);
	CU_ASSERT_EQUAL(searchq_uuid_parse("", id), -1);
}

void
test_searchq_register(void)
{
	CU_pSuite s = CU_add_suite("searchq", NULL, NULL);

	CU_add_test(s, "query string to SearchRequest", t_parse_fields);
	CU_add_test(s, "query string errors name the parameter", t_parse_errors);
	CU_add_test(s, "region, ARS and scope", t_check_region);
	CU_add_test(s, "value checks", t_check_values);
	CU_add_test(s, "page tokens: round trip, tampering, expiry", t_token);
	CU_add_test(s, "SQL: parameters only, right sources per role", t_sql);
	CU_add_test(s, "UUIDs to bytes and back", t_uuid);
}
