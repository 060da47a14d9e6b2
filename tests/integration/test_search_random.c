/*
 * test_search_random: search (GET /v1/records?..., POST /v1/search) against
 * docs/search.md written here as plain SQL.
 *
 * About 3,000 random records (tests/integration/gen_records.c; fixed seed,
 * printed; VACANCY_TEST_SEED overrides it) go in through POST /v1/sync as
 * nine municipalities (eight of the Erzgebirgskreis, one outside it), in
 * transfers whose records share their updated_at, then a round of updates
 * and one of withdrawals. Areas, prices and positions repeat on purpose, so
 * that the record_id tie-break decides many places.
 *
 * Then 1,000 random searches as investor, county (14521) and one
 * municipality: random filters (region, bbox with edges on record
 * positions, near, every enum, areas, prices, updated_since, text from the
 * generator's vocabulary, status), sort, page size and a walk of one to four
 * pages through next_page_token, as GET query strings and as POST bodies in
 * JSON and protobuf, answers in either. Each page must be the matching slice
 * of a direct SQL query (investors: investor.published_record; staff:
 * registry.record in the scope), with next_page_token exactly when more rows
 * follow. Investors must get PUBLIC fields only, blurred positions and no
 * house number or parcel data when blurred; staff the personal fields, and
 * one access-log row per record returned.
 *
 * Last, a stable walk: records change, are withdrawn and created between
 * the pages of a walk, which must still list what matched at its first page
 * in that page's order, minus what the investor may no longer see.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <libpq-fe.h>

#include "buf.h"
#include "gen_records.h"
#include "harness.h"
#include "json.h"
#include "vacancy.pb-c.h"

#define SEED_DEFAULT 20261203u
#define NRECS	     3000
#define NSEARCHES    1000
#define XFER_A	     250 /* records per transfer when created */
#define XFER_B	     30	 /* records per transfer of the update round */
#define DETAILS_MAX  3	 /* mismatches printed in full */
#define MUNI_INDEX   0	 /* the municipality searching as itself: 14521020 */
#define COUNTY	     "14521"
#define STABLE_WORD  "Zinnbergwerk"

enum role_ix { R_INVESTOR, R_COUNTY, R_MUNI };
enum form { F_GET, F_JSON, F_PB };
static const char *const role_names[] = {"investor", "county", "municipality"};
static const char *const form_names[] = {"GET", "POST json", "POST protobuf"};

static struct daemon dmn;
static char *tok_muni[GEN_NMUNI], *tok_county, *tok_investor;
static PGconn *pg;
static struct gen_rec *recs;
static int nrecs, loaded;
static uint64_t seed;

/* What the test knows of each stored record, by record id. */
struct known {
	char id[37];
	int rec; /* index into recs */
	int published, withdrawn;
	double pub_lat, pub_lon; /* the position investors see */
};
static struct known *known;
static int nknown;
static struct known **by_rec; /* recs index -> known, NULL if not stored */

/* updated_at values of the data, as RFC 3339 with Z and with +02:00 */
static char (*stamps)[48];
static int nstamps;

static unsigned long nrequests, npages_cmp, nrecords_cmp, nempty, nmismatch;
static int details_left = DETAILS_MAX;

/* ---- one keep-alive HTTPS connection (harness_http opens one per request) ---- */

static void *ka;

static int
ka_http(const char *method, const char *path, const char *token, const char *accept,
	const char *content_type, const void *body, size_t len, struct http_resp *out)
{
	nrequests++;
	return harness_http_keep(&ka, &dmn, method, path, token, accept, content_type, body, len,
				 out);
}

/* ---- SQL as the cluster admin ---- */

/* The result of sql with the text parameters (NULL when none), or NULL. */
static PGresult *
sql_params(const char *sql, int n, const char *const *params)
{
	PGresult *res = PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "\n  SQL failed: %s  in: %.2000s\n", PQerrorMessage(pg), sql);
		PQclear(res);
		return NULL;
	}
	return res;
}

static long
sql_long(const char *sql)
{
	PGresult *res = sql_params(sql, 0, NULL);
	long v = -1;

	if (res != NULL && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* ---- what the test knows ---- */

static int
known_cmp(const void *a, const void *b)
{
	return strcmp(((const struct known *)a)->id, ((const struct known *)b)->id);
}

static struct known *
known_find(const char *id)
{
	struct known key;

	if (id == NULL || strlen(id) != 36)
		return NULL;
	memcpy(key.id, id, 37);
	return bsearch(&key, known, (size_t)nknown, sizeof(*known), known_cmp);
}

/* Reads every record's id, visibility and investor position; the stamps. 0 or -1. */
static int
known_load(void)
{
	PGresult *res =
	    sql_params("SELECT r.record_id::text, i.external_id, r.published, ST_Y(r.pub_geom), "
		       "ST_X(r.pub_geom), r.withdrawn_at IS NOT NULL FROM registry.record r "
		       "JOIN registry.record_internal i USING (record_id)",
		       0, NULL);
	int n;

	if (res == NULL)
		return -1;
	n = PQntuples(res);
	free(known);
	known = calloc((size_t)n + 1, sizeof(*known));
	nknown = 0;
	for (int i = 0; i < n; i++) {
		struct known *k = &known[nknown];
		int idx;

		if (sscanf(PQgetvalue(res, i, 1), "EXT-%d-", &idx) != 1 || idx < 0 || idx >= nrecs)
			continue; /* not one of the generator's */
		snprintf(k->id, sizeof(k->id), "%s", PQgetvalue(res, i, 0));
		k->rec = idx;
		k->published = PQgetvalue(res, i, 2)[0] == 't';
		k->withdrawn = PQgetvalue(res, i, 5)[0] == 't';
		if (k->published) {
			k->pub_lat = strtod(PQgetvalue(res, i, 3), NULL);
			k->pub_lon = strtod(PQgetvalue(res, i, 4), NULL);
		}
		nknown++;
	}
	PQclear(res);
	qsort(known, (size_t)nknown, sizeof(*known), known_cmp);
	free(by_rec);
	by_rec = calloc((size_t)nrecs + 1, sizeof(*by_rec));
	for (int i = 0; i < nknown; i++)
		by_rec[known[i].rec] = &known[i];

	res = sql_params("SELECT s FROM (SELECT DISTINCT updated_at FROM registry.record) u, "
			 "LATERAL (VALUES (registry.rfc3339(updated_at)), "
			 "(to_char((updated_at AT TIME ZONE 'UTC') + interval '2 hours', "
			 "'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+02:00')) v(s) "
			 "ORDER BY u.updated_at, s",
			 0, NULL);
	if (res == NULL)
		return -1;
	free(stamps);
	nstamps = PQntuples(res);
	stamps = calloc((size_t)nstamps + 1, sizeof(*stamps));
	for (int i = 0; i < nstamps; i++)
		snprintf(stamps[i], sizeof(stamps[i]), "%s", PQgetvalue(res, i, 0));
	PQclear(res);
	return nknown > 0 && nstamps > 0 ? 0 : -1;
}

/* ---- searches ---- */

struct search {
	int role, form, accept_json, comma;
	char region[16];
	int has_bbox, has_near;
	char bbox[4][32]; /* min_lat, min_lon, max_lat, max_lon, as sent */
	char near[3][32]; /* lat, lon, radius_m */
	int site_kind[4], nsk, usage[5], nus, marketing[4], nmk, object_type[12], nobj;
	int status[7], nst;
	char min_usable[24], max_usable[24], min_plot[24], max_plot[24];
	char max_price[24], max_rent[24], updated_since[48], text[256];
	int sort;	     /* 0: not given (UPDATED_DESC) */
	int npages, size[4]; /* size 0: not given (50) */
};

static const char *
enum_name(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value(d, v);

	return e ? e->name : "?";
}

static const char *
token_of(int role)
{
	return role == R_INVESTOR ? tok_investor
	       : role == R_COUNTY ? tok_county
				  : tok_muni[MUNI_INDEX];
}

/* 1 when the record lies in the role's view (ignoring filters). */
static int
visible_to(int role, const struct known *k)
{
	const char *ags = gen_munis[recs[k->rec].m].ags;

	if (role == R_INVESTOR)
		return k->published;
	if (k->withdrawn)
		return 0;
	return role == R_COUNTY ? strncmp(ags, COUNTY, 5) == 0
				: strcmp(ags, gen_munis[MUNI_INDEX].ags) == 0;
}

/* A random record the role can see, for positions; NULL if none found.
 * Drawn by the generator's index, not by id: a seed means the same searches. */
static const struct known *
random_visible(int role)
{
	for (int tries = 0; tries < 1000; tries++) {
		const struct known *k = by_rec[gen_rnd(nrecs)];

		if (k != NULL && visible_to(role, k))
			return k;
	}
	return NULL;
}

static void
position_of(int role, const struct known *k, double *lat, double *lon)
{
	if (role == R_INVESTOR) {
		*lat = k->pub_lat;
		*lon = k->pub_lon;
	} else {
		*lat = recs[k->rec].lat;
		*lon = recs[k->rec].lon;
	}
}

/* An area bound as sent: a common value of the data or a random one. */
static void
rnd_area_text(char *out, size_t len, int hi)
{
	static const char *const pool[] = {"50",     "100",  "120.5",  "250",
					   "400.00", "1000", "1500.75"};

	if (gen_chance(40))
		snprintf(out, len, "%s", pool[gen_rnd(7)]);
	else
		snprintf(out, len, "%d.%02d", gen_rnd(hi), gen_rnd(100));
}

static void
rnd_text(char *out, size_t len)
{
	const char *a = gen_pick(gen_query_words, gen_nquery_words);
	const char *b = gen_pick(gen_query_words, gen_nquery_words);

	switch (gen_rnd(9)) {
	case 0:
	case 1:
	case 2:
		snprintf(out, len, "%s", a);
		break;
	case 3:
		snprintf(out, len, "%s %s", a, b);
		break;
	case 4:
		snprintf(out, len, "%s or %s", a, b);
		break;
	case 5:
		snprintf(out, len, "%s -%s", a, b);
		break;
	case 6: {
		static const char *const phrases[] = {"\"am Markt\"", "\"ehemalige Bäckerei\"",
						      "\"Gewerbehalle mit Kranbahn\"",
						      "\"Dach undicht\""};
		snprintf(out, len, "%s", phrases[gen_rnd(4)]);
		break;
	}
	case 7:
		snprintf(out, len, "%s", gen_chance(50) ? "und der" : "LADENLOKAL");
		break;
	default:
		snprintf(out, len, "%s, %s!", a, b);
	}
}

static void
rnd_enum_set(int *out, int *n, int nvalues, int max_n)
{
	int want = 1 + gen_rnd(max_n);

	*n = 0;
	while (*n < want) {
		int v = 1 + gen_rnd(nvalues), dup = 0;

		for (int i = 0; i < *n; i++)
			dup |= out[i] == v;
		if (!dup)
			out[(*n)++] = v;
	}
}

static void
search_random(struct search *s, int role)
{
	const struct known *k;
	double lat, lon;

	memset(s, 0, sizeof(*s));
	s->role = role;
	s->form = gen_rnd(10) < 4 ? F_GET : gen_chance(50) ? F_JSON : F_PB;
	s->accept_json = gen_chance(50);
	s->comma = gen_chance(50);
	if (gen_chance(35)) {
		const struct gen_rec *g = &recs[gen_rnd(nrecs)];
		int use_ars = role != R_MUNI && g->ars[0] != '\0' && gen_chance(15);

		if (role == R_MUNI)
			snprintf(s->region, sizeof(s->region), "%s", gen_munis[MUNI_INDEX].ags);
		else if (use_ars && (role == R_INVESTOR || strncmp(g->ars, COUNTY, 5) == 0))
			snprintf(s->region, sizeof(s->region), "%.*s", 9 + gen_rnd(4), g->ars);
		else if (role == R_COUNTY)
			snprintf(s->region, sizeof(s->region), COUNTY "%.*s", gen_rnd(4),
				 gen_munis[gen_rnd(GEN_OUTSIDE)].ags + 5);
		else
			snprintf(s->region, sizeof(s->region), "%.*s", 2 + gen_rnd(7),
				 gen_munis[g->m].ags);
	}
	if (gen_chance(25) && (k = random_visible(role)) != NULL) {
		double dlat = 0.002 + gen_rnd(800) / 10000.0,
		       dlon = 0.002 + gen_rnd(1200) / 10000.0;
		double v[4];

		position_of(role, k, &lat, &lon);
		v[0] = lat - dlat * gen_rnd(100) / 100.0;
		v[1] = lon - dlon * gen_rnd(100) / 100.0;
		v[2] = v[0] + dlat;
		v[3] = v[1] + dlon;
		s->has_bbox = 1;
		for (int i = 0; i < 4; i++)
			/* mins rounded down, maxes up: the box still holds the position */
			snprintf(s->bbox[i], sizeof(s->bbox[i]), "%.5f",
				 i < 2 ? floor(v[i] * 1e5) / 1e5 : ceil(v[i] * 1e5) / 1e5);
		/* edges exactly on the position (included), or a box of one point */
		switch (gen_rnd(8)) {
		case 0:
			snprintf(s->bbox[0], sizeof(s->bbox[0]), "%.17g", lat);
			break;
		case 1:
			snprintf(s->bbox[3], sizeof(s->bbox[3]), "%.17g", lon);
			break;
		case 2:
			snprintf(s->bbox[0], sizeof(s->bbox[0]), "%.17g", lat);
			snprintf(s->bbox[2], sizeof(s->bbox[2]), "%.17g", lat);
			snprintf(s->bbox[1], sizeof(s->bbox[1]), "%.17g", lon);
			snprintf(s->bbox[3], sizeof(s->bbox[3]), "%.17g", lon);
			break;
		default:
			break;
		}
	}
	if (gen_chance(25) && (k = random_visible(role)) != NULL) {
		position_of(role, k, &lat, &lon);
		s->has_near = 1;
		if (gen_chance(70)) {
			lat += (gen_rnd(200) - 100) / 10000.0;
			lon += (gen_rnd(200) - 100) / 10000.0;
			snprintf(s->near[0], sizeof(s->near[0]), "%.5f", lat);
			snprintf(s->near[1], sizeof(s->near[1]), "%.5f", lon);
		} else {
			snprintf(s->near[0], sizeof(s->near[0]), "%.17g", lat);
			snprintf(s->near[1], sizeof(s->near[1]), "%.17g", lon);
		}
		if (gen_chance(50))
			snprintf(s->near[2], sizeof(s->near[2]), "%d", 100 + gen_rnd(15000));
		else
			snprintf(s->near[2], sizeof(s->near[2]), "%d.5", 500 + gen_rnd(40000));
	}
	if (gen_chance(15))
		rnd_enum_set(s->site_kind, &s->nsk, 4, 2);
	if (gen_chance(15))
		rnd_enum_set(s->usage, &s->nus, 5, 2);
	if (gen_chance(15))
		rnd_enum_set(s->marketing, &s->nmk, 4, 2);
	if (gen_chance(15))
		rnd_enum_set(s->object_type, &s->nobj, 12, 3);
	if (role == R_INVESTOR && gen_chance(10)) {
		s->nst = 1 + gen_rnd(2);
		s->status[0] = s->nst == 2 || gen_chance(50) ? VACANCY__V1__STATUS__VALUE__MARKETED
							     : VACANCY__V1__STATUS__VALUE__RESERVED;
		s->status[1] = VACANCY__V1__STATUS__VALUE__RESERVED;
	} else if (role != R_INVESTOR && gen_chance(15)) {
		rnd_enum_set(s->status, &s->nst, 7, 3);
	}
	if (gen_chance(15))
		rnd_area_text(s->min_usable, sizeof(s->min_usable), 2000);
	if (gen_chance(10)) {
		rnd_area_text(s->max_usable, sizeof(s->max_usable), 5000);
		if (s->min_usable[0] && strtod(s->max_usable, NULL) < strtod(s->min_usable, NULL))
			snprintf(s->max_usable, sizeof(s->max_usable), "%s", s->min_usable);
	}
	if (gen_chance(10))
		rnd_area_text(s->min_plot, sizeof(s->min_plot), 5000);
	if (gen_chance(8)) {
		rnd_area_text(s->max_plot, sizeof(s->max_plot), 20000);
		if (s->min_plot[0] && strtod(s->max_plot, NULL) < strtod(s->min_plot, NULL))
			snprintf(s->max_plot, sizeof(s->max_plot), "%s", s->min_plot);
	}
	if (gen_chance(12)) {
		static const char *const pool[] = {"99000.00", "150000", "49000.5", "250000.00"};
		if (gen_chance(40))
			snprintf(s->max_price, sizeof(s->max_price), "%s", pool[gen_rnd(4)]);
		else
			snprintf(s->max_price, sizeof(s->max_price), "%d.%02d", gen_rnd(900000),
				 gen_rnd(100));
	}
	if (gen_chance(10))
		snprintf(s->max_rent, sizeof(s->max_rent), "%s",
			 gen_chance(40)	  ? "800.00"
			 : gen_chance(50) ? "1200.5"
					  : "3000");
	if (gen_chance(12))
		snprintf(s->updated_since, sizeof(s->updated_since), "%s",
			 gen_chance(10) ? "2020-01-01T00:00:00Z" : stamps[gen_rnd(nstamps)]);
	if (gen_chance(20))
		rnd_text(s->text, sizeof(s->text));
	if (gen_chance(80))
		s->sort = 1 + gen_rnd(s->has_near ? 5 : 4);
	s->npages = 1 + gen_rnd(4);
	if (gen_chance(20)) {
		/* sizes not given: 50 per page */
	} else if (gen_chance(25)) {
		for (int i = 0; i < s->npages; i++)
			s->size[i] = 1 + gen_rnd(60);
	} else {
		s->size[0] = 1 + gen_rnd(60);
		for (int i = 1; i < s->npages; i++)
			s->size[i] = s->size[0];
	}
}

static int
page_size_of(const struct search *s, int k)
{
	return s->size[k] ? s->size[k] : 50;
}

/* Appends s percent-encoded (everything but unreserved characters). */
static void
url_add(struct buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			buf_addc(b, (char)*p);
		else
			buf_printf(b, "%%%02X", *p);
	}
}

/* Appends "&" unless this is the query's first parameter. */
static void
q_sep(struct buf *b, int *first)
{
	if (!*first)
		buf_addc(b, '&');
	*first = 0;
}

static void
q_enum(struct buf *b, int *first, const struct search *s, const char *name,
       const ProtobufCEnumDescriptor *d, const int *v, int n)
{
	for (int i = 0; i < n; i++) {
		if (s->comma && i > 0) {
			buf_printf(b, ",%s", enum_name(d, v[i]));
		} else {
			q_sep(b, first);
			buf_printf(b, "%s=%s", name, enum_name(d, v[i]));
		}
	}
}

static void
q_str(struct buf *b, int *first, const char *name, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return;
	q_sep(b, first);
	buf_printf(b, "%s=", name);
	url_add(b, v);
}

/* Appends the GET query of s with page k's size and token (may be NULL). */
static void
search_query(const struct search *s, int k, const char *token, struct buf *b)
{
	int first = 1;

	q_str(b, &first, "region", s->region);
	if (s->has_bbox) {
		q_sep(b, &first);
		buf_printf(b, "bbox=%s,%s,%s,%s", s->bbox[0], s->bbox[1], s->bbox[2], s->bbox[3]);
	}
	if (s->has_near) {
		q_sep(b, &first);
		buf_printf(b, "near=%s,%s,%s", s->near[0], s->near[1], s->near[2]);
	}
	q_enum(b, &first, s, "site_kind", &vacancy__v1__site_kind__value__descriptor, s->site_kind,
	       s->nsk);
	q_enum(b, &first, s, "usage", &vacancy__v1__usage__value__descriptor, s->usage, s->nus);
	q_enum(b, &first, s, "marketing", &vacancy__v1__marketing__value__descriptor, s->marketing,
	       s->nmk);
	q_enum(b, &first, s, "object_type", &vacancy__v1__object_type__value__descriptor,
	       s->object_type, s->nobj);
	q_enum(b, &first, s, "status", &vacancy__v1__status__value__descriptor, s->status, s->nst);
	q_str(b, &first, "min_usable_area_m2", s->min_usable);
	q_str(b, &first, "max_usable_area_m2", s->max_usable);
	q_str(b, &first, "min_plot_area_m2", s->min_plot);
	q_str(b, &first, "max_plot_area_m2", s->max_plot);
	q_str(b, &first, "max_purchase_price_eur", s->max_price);
	q_str(b, &first, "max_rent_eur_month", s->max_rent);
	q_str(b, &first, "updated_since", s->updated_since);
	q_str(b, &first, "text", s->text);
	if (s->sort)
		q_str(b, &first, "sort",
		      enum_name(&vacancy__v1__search_sort__value__descriptor, s->sort));
	if (s->size[k]) {
		q_sep(b, &first);
		buf_printf(b, "page_size=%d", s->size[k]);
	}
	q_str(b, &first, "page_token", token);
}

static void
json_str(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

static void
j_enum(struct buf *b, int *first, const char *name, const ProtobufCEnumDescriptor *d, const int *v,
       int n)
{
	if (n == 0)
		return;
	buf_printf(b, "%s\"%s\":[", *first ? "" : ",", name);
	for (int i = 0; i < n; i++)
		buf_printf(b, "%s\"%s\"", i ? "," : "", enum_name(d, v[i]));
	buf_addc(b, ']');
	*first = 0;
}

/* name: number (as sent), when given */
static void
j_num(struct buf *b, int *first, const char *name, const char *v)
{
	if (v[0] == '\0')
		return;
	buf_printf(b, "%s\"%s\":%s", *first ? "" : ",", name, v);
	*first = 0;
}

static void
j_str(struct buf *b, int *first, const char *name, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return;
	buf_printf(b, "%s\"%s\":", *first ? "" : ",", name);
	json_str(b, v);
	*first = 0;
}

/* The SearchRequest of s in the protobuf JSON mapping, written by hand. */
static void
search_json(const struct search *s, int k, const char *token, struct buf *b)
{
	int first = 1;

	buf_addc(b, '{');
	j_str(b, &first, "region", s->region);
	if (s->has_bbox) {
		buf_printf(b,
			   "%s\"bbox\":{\"minLat\":%s,\"minLon\":%s,\"maxLat\":%s,\"maxLon\":%s}",
			   first ? "" : ",", s->bbox[0], s->bbox[1], s->bbox[2], s->bbox[3]);
		first = 0;
	}
	if (s->has_near) {
		buf_printf(b, "%s\"near\":{\"lat\":%s,\"lon\":%s,\"radiusM\":%s}", first ? "" : ",",
			   s->near[0], s->near[1], s->near[2]);
		first = 0;
	}
	j_enum(b, &first, "siteKind", &vacancy__v1__site_kind__value__descriptor, s->site_kind,
	       s->nsk);
	j_enum(b, &first, "usage", &vacancy__v1__usage__value__descriptor, s->usage, s->nus);
	j_enum(b, &first, "marketing", &vacancy__v1__marketing__value__descriptor, s->marketing,
	       s->nmk);
	j_enum(b, &first, "objectType", &vacancy__v1__object_type__value__descriptor,
	       s->object_type, s->nobj);
	j_enum(b, &first, "status", &vacancy__v1__status__value__descriptor, s->status, s->nst);
	j_num(b, &first, "minUsableAreaM2", s->min_usable);
	j_num(b, &first, "maxUsableAreaM2", s->max_usable);
	j_num(b, &first, "minPlotAreaM2", s->min_plot);
	j_num(b, &first, "maxPlotAreaM2", s->max_plot);
	j_str(b, &first, "maxPurchasePriceEur", s->max_price);
	j_str(b, &first, "maxRentEurMonth", s->max_rent);
	j_str(b, &first, "updatedSince", s->updated_since);
	j_str(b, &first, "text", s->text);
	if (s->sort)
		j_str(b, &first, "sort",
		      enum_name(&vacancy__v1__search_sort__value__descriptor, s->sort));
	if (s->size[k]) {
		buf_printf(b, "%s\"pageSize\":%d", first ? "" : ",", s->size[k]);
		first = 0;
	}
	j_str(b, &first, "pageToken", token);
	buf_addc(b, '}');
}

/* The SearchRequest of s packed as protobuf into b. */
static void
search_pb(const struct search *s, int k, const char *token, struct buf *b)
{
	Vacancy__V1__SearchRequest q = VACANCY__V1__SEARCH_REQUEST__INIT;
	Vacancy__V1__BBox bb = VACANCY__V1__BBOX__INIT;
	Vacancy__V1__Near nr = VACANCY__V1__NEAR__INIT;
	Vacancy__V1__SiteKind__Value sk[4];
	Vacancy__V1__Usage__Value us[5];
	Vacancy__V1__Marketing__Value mk[4];
	Vacancy__V1__ObjectType__Value ob[12];
	Vacancy__V1__Status__Value st[7];
	uint8_t *out;

	if (s->region[0])
		q.region = (char *)s->region;
	if (s->has_bbox) {
		bb.has_min_lat = bb.has_min_lon = bb.has_max_lat = bb.has_max_lon = 1;
		bb.min_lat = strtod(s->bbox[0], NULL);
		bb.min_lon = strtod(s->bbox[1], NULL);
		bb.max_lat = strtod(s->bbox[2], NULL);
		bb.max_lon = strtod(s->bbox[3], NULL);
		q.bbox = &bb;
	}
	if (s->has_near) {
		nr.has_lat = nr.has_lon = nr.has_radius_m = 1;
		nr.lat = strtod(s->near[0], NULL);
		nr.lon = strtod(s->near[1], NULL);
		nr.radius_m = strtod(s->near[2], NULL);
		q.near = &nr;
	}
	for (int i = 0; i < s->nsk; i++)
		sk[i] = (Vacancy__V1__SiteKind__Value)s->site_kind[i];
	for (int i = 0; i < s->nus; i++)
		us[i] = (Vacancy__V1__Usage__Value)s->usage[i];
	for (int i = 0; i < s->nmk; i++)
		mk[i] = (Vacancy__V1__Marketing__Value)s->marketing[i];
	for (int i = 0; i < s->nobj; i++)
		ob[i] = (Vacancy__V1__ObjectType__Value)s->object_type[i];
	for (int i = 0; i < s->nst; i++)
		st[i] = (Vacancy__V1__Status__Value)s->status[i];
	q.n_site_kind = (size_t)s->nsk;
	q.site_kind = sk;
	q.n_usage = (size_t)s->nus;
	q.usage = us;
	q.n_marketing = (size_t)s->nmk;
	q.marketing = mk;
	q.n_object_type = (size_t)s->nobj;
	q.object_type = ob;
	q.n_status = (size_t)s->nst;
	q.status = st;
#define PB_DOUBLE(field, text)                                                                     \
	do {                                                                                       \
		if ((text)[0]) {                                                                   \
			q.has_##field = 1;                                                         \
			q.field = strtod((text), NULL);                                            \
		}                                                                                  \
	} while (0)
	PB_DOUBLE(min_usable_area_m2, s->min_usable);
	PB_DOUBLE(max_usable_area_m2, s->max_usable);
	PB_DOUBLE(min_plot_area_m2, s->min_plot);
	PB_DOUBLE(max_plot_area_m2, s->max_plot);
#undef PB_DOUBLE
	if (s->max_price[0])
		q.max_purchase_price_eur = (char *)s->max_price;
	if (s->max_rent[0])
		q.max_rent_eur_month = (char *)s->max_rent;
	if (s->updated_since[0])
		q.updated_since = (char *)s->updated_since;
	if (s->text[0])
		q.text = (char *)s->text;
	if (s->sort) {
		q.has_sort = 1;
		q.sort = (Vacancy__V1__SearchSort__Value)s->sort;
	}
	if (s->size[k]) {
		q.has_page_size = 1;
		q.page_size = (uint32_t)s->size[k];
	}
	q.page_token = (char *)token;
	out = buf_extend(b, protobuf_c_message_get_packed_size(&q.base));
	if (out != NULL)
		protobuf_c_message_pack(&q.base, out);
}

/* Writes s as a readable line (its GET form, page sizes, format) to stderr. */
static void
search_print(const struct search *s, int no)
{
	struct buf b;

	buf_init(&b, 0);
	search_query(s, 0, NULL, &b);
	fprintf(stderr, "\n  search #%d (seed %llu) as %s, %s, answer %s, %d page(s) of", no,
		(unsigned long long)seed, role_names[s->role], form_names[s->form],
		s->accept_json ? "json" : "protobuf", s->npages);
	for (int k = 0; k < s->npages; k++)
		fprintf(stderr, " %d", page_size_of(s, k));
	fprintf(stderr, ":\n    GET /v1/records?%s\n", b.data ? b.data : "");
	buf_free(&b);
	if (s->form == F_JSON) {
		buf_init(&b, 0);
		search_json(s, 0, NULL, &b);
		fprintf(stderr, "    POST /v1/search %s\n", b.data);
		buf_free(&b);
	}
}

/* ---- the oracle: docs/search.md as SQL ---- */

struct cols {
	const char *id, *geom, *updated, *tsv, *ags, *ars, *site_kind, *usage, *marketing;
	const char *object_type, *status, *usable, *plot, *price, *rent;
};

static const struct cols investor_cols = {
    "v.record_id",	  "v._geom",
    "v._updated_at",	  "v._tsv",
    "v.municipality_ags", "v.municipality_ars",
    "v.site_kind",	  "r.usage",
    "r.marketing",	  "v.object_type",
    "v.status",		  "v.usable_area_m2",
    "v.plot_area_m2",	  "r.purchase_price_eur",
    "r.rent_eur_month",
};
static const struct cols staff_cols = {
    "r.record_id",	  "r.geom",
    "r.updated_at",	  "r.tsv",
    "r.municipality_ags", "r.municipality_ars",
    "r.site_kind",	  "r.usage",
    "r.marketing",	  "r.object_type",
    "r.status",		  "r.usable_area_m2",
    "r.plot_area_m2",	  "r.purchase_price_eur",
    "r.rent_eur_month",
};

static void
o_in(struct buf *b, const char *col, const char *type, const ProtobufCEnumDescriptor *d,
     const int *v, int n, int overlap)
{
	if (n == 0)
		return;
	buf_printf(b, overlap ? " AND %s && ARRAY[" : " AND %s = ANY (ARRAY[", col);
	for (int i = 0; i < n; i++)
		buf_printf(b, "%s'%s'", i ? "," : "", enum_name(d, v[i]));
	buf_printf(b, "]::registry.%s[]%s", type, overlap ? "" : ")");
}

/* The SQL of s (the text, if any, is $1), its first limit rows. */
static void
oracle_sql(const struct search *s, int limit, struct buf *b)
{
	const struct cols *c = s->role == R_INVESTOR ? &investor_cols : &staff_cols;
	char point[160];

	if (s->role == R_INVESTOR)
		buf_adds(b, "SELECT v.record_id::text FROM investor.published_record v "
			    "JOIN registry.record r USING (record_id) WHERE true");
	else
		buf_printf(b,
			   "SELECT r.record_id::text FROM registry.record r "
			   "WHERE r.withdrawn_at IS NULL AND r.municipality_ags LIKE '%s%%'",
			   s->role == R_COUNTY ? COUNTY : gen_munis[MUNI_INDEX].ags);
	if (s->region[0])
		buf_printf(b, " AND %s LIKE '%s%%'", strlen(s->region) <= 8 ? c->ags : c->ars,
			   s->region);
	if (s->has_bbox)
		buf_printf(b,
			   " AND ST_Y(%s) BETWEEN '%s'::float8 AND '%s'::float8"
			   " AND ST_X(%s) BETWEEN '%s'::float8 AND '%s'::float8",
			   c->geom, s->bbox[0], s->bbox[2], c->geom, s->bbox[1], s->bbox[3]);
	snprintf(point, sizeof(point),
		 "ST_SetSRID(ST_MakePoint('%s'::float8, '%s'::float8), 4326)::geography",
		 s->near[1], s->near[0]);
	if (s->has_near)
		buf_printf(b, " AND ST_DWithin(%s::geography, %s, '%s'::float8)", c->geom, point,
			   s->near[2]);
	o_in(b, c->site_kind, "site_kind", &vacancy__v1__site_kind__value__descriptor, s->site_kind,
	     s->nsk, 0);
	o_in(b, c->usage, "usage", &vacancy__v1__usage__value__descriptor, s->usage, s->nus, 1);
	o_in(b, c->marketing, "marketing", &vacancy__v1__marketing__value__descriptor, s->marketing,
	     s->nmk, 1);
	o_in(b, c->object_type, "object_type", &vacancy__v1__object_type__value__descriptor,
	     s->object_type, s->nobj, 0);
	o_in(b, c->status, "status", &vacancy__v1__status__value__descriptor, s->status, s->nst, 0);
	if (s->min_usable[0])
		buf_printf(b, " AND %s >= '%s'::float8", c->usable, s->min_usable);
	if (s->max_usable[0])
		buf_printf(b, " AND %s <= '%s'::float8", c->usable, s->max_usable);
	if (s->min_plot[0])
		buf_printf(b, " AND %s >= '%s'::float8", c->plot, s->min_plot);
	if (s->max_plot[0])
		buf_printf(b, " AND %s <= '%s'::float8", c->plot, s->max_plot);
	if (s->max_price[0])
		buf_printf(b, " AND %s <= '%s'::numeric", c->price, s->max_price);
	if (s->max_rent[0])
		buf_printf(b, " AND %s <= '%s'::numeric", c->rent, s->max_rent);
	if (s->updated_since[0])
		buf_printf(b, " AND %s >= '%s'::timestamptz", c->updated, s->updated_since);
	if (s->text[0])
		buf_printf(b, " AND %s @@ websearch_to_tsquery('german', $1)", c->tsv);
	switch (s->sort) {
	case 0:
	case VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC:
		buf_printf(b, " ORDER BY %s DESC", c->updated);
		break;
	case VACANCY__V1__SEARCH_SORT__VALUE__AREA_DESC:
		buf_printf(b, " ORDER BY %s DESC NULLS LAST", c->usable);
		break;
	case VACANCY__V1__SEARCH_SORT__VALUE__AREA_ASC:
		buf_printf(b, " ORDER BY %s ASC NULLS LAST", c->usable);
		break;
	case VACANCY__V1__SEARCH_SORT__VALUE__PRICE_ASC:
		buf_printf(b, " ORDER BY %s ASC NULLS LAST", c->price);
		break;
	default:
		buf_printf(b, " ORDER BY ST_Distance(%s::geography, %s)", c->geom, point);
	}
	buf_printf(b, ", %s LIMIT %d", c->id, limit);
}

/* The ids the oracle lists (malloc'd array of n), or NULL on an SQL error. */
static char (*oracle_ids(const struct search *s, int limit, int *n))[37]
{
	const char *params[1] = {s->text};
	char(*ids)[37];
	PGresult *res;
	struct buf b;

	buf_init(&b, 0);
	oracle_sql(s, limit, &b);
	res = sql_params(b.data, s->text[0] ? 1 : 0, s->text[0] ? params : NULL);
	buf_free(&b);
	if (res == NULL)
		return NULL;
	*n = PQntuples(res);
	ids = calloc((size_t)*n + 1, sizeof(*ids));
	for (int i = 0; i < *n; i++)
		snprintf(ids[i], sizeof(ids[i]), "%s", PQgetvalue(res, i, 0));
	PQclear(res);
	return ids;
}

/* Prints the sort keys of the ids the mismatch is about. */
static void
explain_ids(const struct search *s, char (*ids)[37], int n)
{
	const char *params[3] = {s->role == R_INVESTOR ? "true" : "false",
				 s->has_near ? s->near[1] : "0", s->has_near ? s->near[0] : "0"};
	struct buf b;
	PGresult *res;

	if (n == 0)
		return;
	buf_init(&b, 0);
	buf_adds(&b, "SELECT r.record_id, registry.rfc3339(r.updated_at), r.usable_area_m2, "
		     "r.purchase_price_eur, r.published, ST_AsText(r.geom), ST_AsText(r.pub_geom), "
		     "ST_Distance((CASE WHEN $1::bool THEN r.pub_geom ELSE r.geom END)::geography, "
		     "ST_SetSRID(ST_MakePoint($2::float8, $3::float8), 4326)::geography) "
		     "FROM registry.record r WHERE r.record_id::text IN (");
	for (int i = 0; i < n; i++)
		buf_printf(&b, "%s'%s'", i ? "," : "", ids[i]);
	buf_adds(&b, ") ORDER BY 1");
	res = sql_params(b.data, 3, params);
	buf_free(&b);
	if (res == NULL)
		return;
	fprintf(stderr, "    id | updated_at | usable | price | published | geom | pub_geom | "
			"distance to near\n");
	for (int i = 0; i < PQntuples(res); i++) {
		fprintf(stderr, "    ");
		for (int c = 0; c < PQnfields(res); c++)
			fprintf(stderr, "%s%s", c ? " | " : "",
				PQgetisnull(res, i, c) ? "-" : PQgetvalue(res, i, c));
		fprintf(stderr, "\n");
	}
	PQclear(res);
}

/* ---- checking the answers ---- */

static int
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL || a[0] == '\0') && (b == NULL || b[0] == '\0');
	return strcmp(a, b) == 0;
}

/*
 * What an answered record must be for the role: NULL when fine, else why
 * not (static text).
 */
static const char *
check_record(int role, const Vacancy__V1__Record *rec)
{
	static char why[256];
	const struct known *k = known_find(rec->record_id);
	const struct gen_rec *g;
	const char *np;

	if (k == NULL)
		return "a record_id the test does not know";
	g = &recs[k->rec];
	if (rec->location == NULL || !rec->location->has_lat || !rec->location->has_lon)
		return "no location";
	if (role == R_INVESTOR) {
		if ((np = gen_non_public(rec)) != NULL) {
			snprintf(why, sizeof(why), "the investor received the non-PUBLIC field %s",
				 np);
			return why;
		}
		if (!k->published)
			return "the investor received an unpublished record";
		if (!rec->has_status || (rec->status != VACANCY__V1__STATUS__VALUE__MARKETED &&
					 rec->status != VACANCY__V1__STATUS__VALUE__RESERVED))
			return "the investor received a status other than MARKETED/RESERVED";
		if (fabs(rec->location->lat - k->pub_lat) > 1e-12 ||
		    fabs(rec->location->lon - k->pub_lon) > 1e-12) {
			snprintf(why, sizeof(why),
				 "location %.17g,%.17g is not the view's %.17g,%.17g (blur %u)",
				 rec->location->lat, rec->location->lon, k->pub_lat, k->pub_lon,
				 g->blur);
			return why;
		}
		if (g->blur > 0 && (rec->house_number || rec->gemarkung || rec->flur ||
				    rec->flurstueck || rec->n_parcel_ids > 0))
			return "a blurred record came with house number or parcel data";
		if (g->blur == 0 && !str_eq(rec->house_number, g->house))
			return "an unblurred record lost its house number";
		return NULL;
	}
	if (!str_eq(rec->external_id, g->ext))
		return "external_id missing or wrong for staff";
	if (!str_eq(rec->owner_name, g->owner_name))
		return "owner_name missing or wrong for staff";
	if (!str_eq(rec->internal_notes, g->notes))
		return "internal_notes missing or wrong for staff";
	if (rec->location->lat != g->lat || rec->location->lon != g->lon)
		return "staff did not get the exact position";
	return NULL;
}

static void
print_ids(const char *what, char (*ids)[37], int from, int n)
{
	fprintf(stderr, "    %s (%d):", what, n);
	for (int i = 0; i < n && i < 60; i++)
		fprintf(stderr, "%s%s", i % 3 ? " " : "\n      ", ids[from + i]);
	if (n > 60)
		fprintf(stderr, "\n      ...");
	fprintf(stderr, "\n");
}

/* Reports a failed search (the first few in full) and counts it. */
static void
mismatch(const struct search *s, int no, int page, const char *what, char (*exp)[37], int eoff,
	 int en, char (*got)[37], int gn, const struct http_resp *r)
{
	nmismatch++;
	if (details_left-- <= 0)
		return;
	search_print(s, no);
	fprintf(stderr, "    page %d: %s\n", page + 1, what);
	if (r != NULL && r->status != 200)
		fprintf(stderr, "    HTTP %ld: %.400s\n", r->status, r->body ? r->body : "");
	if (exp != NULL)
		print_ids("expected", exp, eoff, en);
	if (got != NULL)
		print_ids("received", got, 0, gn);
	if (exp != NULL && got != NULL) {
		/* the keys around the first difference */
		int d = 0;
		char(*around)[37] = calloc(8, sizeof(*around));
		int na = 0;

		while (d < en && d < gn && strcmp(exp[eoff + d], got[d]) == 0)
			d++;
		if (eoff > 0 && d == 0) /* the last record of the page before */
			memcpy(around[na++], exp[eoff - 1], 37);
		for (int i = d; i < d + 3 && i < en; i++)
			memcpy(around[na++], exp[eoff + i], 37);
		for (int i = d; i < d + 3 && i < gn; i++)
			memcpy(around[na++], got[i], 37);
		fprintf(stderr, "    first difference at position %d; keys:\n", d + 1);
		explain_ids(s, around, na);
		free(around);
	}
}

/* Sends page k of s; the decoded answer or NULL (r holds the reply). */
static Vacancy__V1__SearchResponse *
search_page(const struct search *s, int k, const char *token, struct http_resp *r, char *err,
	    size_t errlen)
{
	const char *accept = s->accept_json ? "application/json" : "application/x-protobuf";
	Vacancy__V1__SearchResponse *resp = NULL;
	struct buf b;

	buf_init(&b, 0);
	if (s->form == F_GET) {
		buf_adds(&b, "/v1/records?");
		search_query(s, k, token, &b);
		ka_http("GET", b.data, token_of(s->role), accept, NULL, NULL, 0, r);
	} else if (s->form == F_JSON) {
		search_json(s, k, token, &b);
		ka_http("POST", "/v1/search", token_of(s->role), accept, "application/json", b.data,
			b.len, r);
	} else {
		search_pb(s, k, token, &b);
		ka_http("POST", "/v1/search", token_of(s->role), accept, "application/x-protobuf",
			b.data, b.len, r);
	}
	buf_free(&b);
	if (r->status != 200) {
		snprintf(err, errlen, "HTTP %ld (curl %d)", r->status, r->curl_error);
		return NULL;
	}
	if (strstr(r->content_type,
		   s->accept_json ? "application/json" : "application/x-protobuf") == NULL) {
		snprintf(err, errlen, "Content-Type '%s' for Accept %s", r->content_type, accept);
		return NULL;
	}
	if (s->accept_json)
		resp = (Vacancy__V1__SearchResponse *)json_decode(
		    &vacancy__v1__search_response__descriptor, r->body, r->len, NULL, 64, err,
		    errlen);
	else if ((resp = vacancy__v1__search_response__unpack(NULL, r->len,
							      (const uint8_t *)r->body)) == NULL)
		snprintf(err, errlen, "the protobuf answer does not decode");
	return resp;
}

static int
id_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* For staff: the access-log rows since after_id are exactly one per id returned. */
static int
check_access_log(long after_id, char (*got)[37], int ngot, char *why, size_t len)
{
	char q[256];
	PGresult *res;
	int n, ok = 1;

	snprintf(q, sizeof(q),
		 "SELECT record_id::text, purpose FROM registry.personal_access_log "
		 "WHERE access_id > %ld ORDER BY record_id::text COLLATE \"C\"",
		 after_id);
	if ((res = sql_params(q, 0, NULL)) == NULL) {
		snprintf(why, len, "the access log could not be read");
		return -1;
	}
	n = PQntuples(res);
	qsort(got, (size_t)ngot, sizeof(*got), id_cmp);
	if (n != ngot) {
		snprintf(why, len, "%d access-log rows for %d records returned", n, ngot);
		ok = 0;
	}
	for (int i = 0; ok && i < n; i++) {
		if (strcmp(PQgetvalue(res, i, 0), got[i]) != 0) {
			snprintf(why, len, "access log names %s, the records returned differ",
				 PQgetvalue(res, i, 0));
			ok = 0;
		} else if (strcmp(PQgetvalue(res, i, 1), "search") != 0) {
			snprintf(why, len, "access-log purpose '%s', not 'search'",
				 PQgetvalue(res, i, 1));
			ok = 0;
		}
	}
	PQclear(res);
	return ok ? 0 : -1;
}

/* Runs search s and compares every page; 0 when all agreed. */
static int
run_search(const struct search *s, int no)
{
	char(*exp)[37], (*got)[37] = NULL, *token = NULL, err[512];
	int nexp = 0, need = 1, off = 0, ngot_all = 0, rc = -1;
	long log_before = 0;

	for (int k = 0; k < s->npages; k++)
		need += page_size_of(s, k);
	if ((exp = oracle_ids(s, need, &nexp)) == NULL) {
		mismatch(s, no, 0, "the oracle's SQL failed", NULL, 0, 0, NULL, 0, NULL);
		return -1;
	}
	if (nexp == 0)
		nempty++;
	got = calloc((size_t)need + 1, sizeof(*got));
	if (s->role != R_INVESTOR)
		log_before = sql_long("SELECT coalesce(max(access_id), 0) FROM "
				      "registry.personal_access_log");
	for (int k = 0; k < s->npages; k++) {
		int size = page_size_of(s, k), want = nexp - off < size ? nexp - off : size;
		struct http_resp r;
		Vacancy__V1__SearchResponse *resp;
		int has_next, want_next = nexp > off + size, n;

		resp = search_page(s, k, token, &r, err, sizeof(err));
		npages_cmp++;
		if (resp == NULL) {
			mismatch(s, no, k, err, exp, off, want, NULL, 0, &r);
			harness_resp_free(&r);
			goto out;
		}
		n = (int)resp->n_records;
		for (int i = 0; i < n && ngot_all + i < need; i++)
			snprintf(got[ngot_all + i], 37, "%s",
				 resp->records[i]->record_id ? resp->records[i]->record_id
							     : "(none)");
		has_next = resp->next_page_token != NULL && resp->next_page_token[0] != '\0';
		if (n != want || ngot_all + n > need ||
		    memcmp(got + ngot_all, exp + off, (size_t)n * sizeof(*got)) != 0) {
			mismatch(s, no, k, "the records differ from the SQL's", exp, off, want,
				 got + ngot_all, n < need - ngot_all ? n : need - ngot_all, NULL);
			vacancy__v1__search_response__free_unpacked(resp, NULL);
			harness_resp_free(&r);
			goto out;
		}
		if (has_next != want_next) {
			mismatch(s, no, k,
				 want_next ? "no next_page_token although more records follow"
					   : "a next_page_token although no more records follow",
				 exp, off, want, got + ngot_all, n, NULL);
			vacancy__v1__search_response__free_unpacked(resp, NULL);
			harness_resp_free(&r);
			goto out;
		}
		for (int i = 0; i < n; i++) {
			const char *why = check_record(s->role, resp->records[i]);

			nrecords_cmp++;
			if (why != NULL) {
				char msg[512];

				snprintf(msg, sizeof(msg), "record %s: %s",
					 resp->records[i]->record_id, why);
				mismatch(s, no, k, msg, NULL, 0, 0, NULL, 0, NULL);
				vacancy__v1__search_response__free_unpacked(resp, NULL);
				harness_resp_free(&r);
				goto out;
			}
		}
		/* investors' answers hold no INTERNAL or PERSONAL value */
		if (s->role == R_INVESTOR &&
		    (memmem(r.body, r.len, GEN_TAG, strlen(GEN_TAG)) != NULL ||
		     memmem(r.body, r.len, GEN_TAG_BLUR, strlen(GEN_TAG_BLUR)) != NULL)) {
			mismatch(s, no, k, "an investor's answer contains a marker value", NULL, 0,
				 0, NULL, 0, NULL);
			vacancy__v1__search_response__free_unpacked(resp, NULL);
			harness_resp_free(&r);
			goto out;
		}
		ngot_all += n;
		off += n;
		free(token);
		token = has_next ? strdup(resp->next_page_token) : NULL;
		vacancy__v1__search_response__free_unpacked(resp, NULL);
		harness_resp_free(&r);
		if (!has_next)
			break;
	}
	if (s->role != R_INVESTOR &&
	    check_access_log(log_before, got, ngot_all, err, sizeof(err)) == -1) {
		mismatch(s, no, 0, err, NULL, 0, 0, NULL, 0, NULL);
		goto out;
	}
	rc = 0;
out:
	free(token);
	free(got);
	free(exp);
	return rc;
}

/* ---- the suite ---- */

/* PostgreSQL's notices (a text of stop words only) are expected here. */
static void
quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int
suite_init(void)
{
	if (harness_sql("TRUNCATE registry.record, registry.transfer, registry.feed, "
			"registry.sync_session_item, registry.personal_access_log CASCADE") == -1)
		return -1;
	if (harness_daemon_start(&dmn, "auth_cache_ttl_ms = 60000\nmax_body_bytes = 1M") == -1 ||
	    harness_daemon_wait_healthy(&dmn, 10000) == -1)
		return -1;
	for (int m = 0; m < GEN_NMUNI; m++)
		if ((tok_muni[m] = harness_token(&dmn, "municipality", gen_munis[m].ags)) == NULL)
			return -1;
	tok_county = harness_token(&dmn, "county", COUNTY);
	tok_investor = harness_token(&dmn, "investor", "");
	pg = harness_pg(harness_env("VACANCY_TEST_PG_CONNINFO"));
	if (tok_county == NULL || tok_investor == NULL || PQstatus(pg) != CONNECTION_OK)
		return -1;
	PQsetNoticeProcessor(pg, quiet_notice, NULL);
	recs = calloc(NRECS + 128, sizeof(*recs)); /* and two stable walks */
	return recs != NULL ? 0 : -1;
}

static int
suite_clean(void)
{
	int rc;

	/* the keep-alive connection goes first: vacancyd freed its server
	 * while an idle TLS connection was still open (use after free at
	 * exit, seen under AddressSanitizer) */
	harness_http_close(&ka);
	rc = harness_daemon_stop(&dmn);
	for (int m = 0; m < GEN_NMUNI; m++)
		free(tok_muni[m]);
	free(tok_county);
	free(tok_investor);
	PQfinish(pg);
	free(recs);
	free(known);
	free(by_rec);
	free(stamps);
	printf("\n  search_random: seed %llu; %lu requests, %lu pages and %lu records compared, "
	       "%lu of %d searches matched nothing, %lu mismatched\n",
	       (unsigned long long)seed, nrequests, npages_cmp, nrecords_cmp, nempty, NSEARCHES,
	       nmismatch);
	if (rc != 0)
		fprintf(stderr, "search_random: vacancyd exited with %d (see %s)\n", rc, dmn.log);
	return rc == 0 ? 0 : -1;
}

/* Sends list[0..n) (upserts, or withdrawals with withdraw set) as one
 * series of transfers per municipality of at most per records each, and
 * checks that each applied all (created in round "a", else updated or
 * withdrawn). 0 or -1. */
static int
send_rounds(const char *tag, struct gen_rec **list, int n, int per, int withdraw)
{
	int rc = 0;

	for (int m = 0; m < GEN_NMUNI; m++) {
		struct gen_rec **batch = calloc((size_t)n + 1, sizeof(*batch));
		int nb = 0, part = 0;

		for (int i = 0; i <= n; i++) {
			if (i < n && list[i]->m == m)
				batch[nb++] = list[i];
			if (nb == per || (i == n && nb > 0)) {
				char id[64];
				Vacancy__V1__SyncResponse *sr;

				snprintf(id, sizeof(id), "sr-%s-%d-%d", tag, m, part++);
				sr = withdraw ? gen_sync(&dmn, tok_muni[m], gen_munis[m].ags, id,
							 NULL, 0, batch, (size_t)nb)
					      : gen_sync(&dmn, tok_muni[m], gen_munis[m].ags, id,
							 batch, (size_t)nb, NULL, 0);
				if (sr == NULL) {
					rc = -1;
				} else {
					unsigned done = withdraw		? sr->withdrawn
							: strcmp(tag, "a") == 0 ? sr->created
										: sr->updated;
					if (done != (unsigned)nb) {
						fprintf(stderr, "\n  sync %s: %u of %d applied\n",
							id, done, nb);
						rc = -1;
					}
					vacancy__v1__sync_response__free_unpacked(sr, NULL);
				}
				nb = 0;
			}
		}
		free(batch);
	}
	return rc;
}

static void
test_load(void)
{
	struct gen_rec **list = calloc(NRECS + 1, sizeof(*list));
	struct timespec t0, t1;
	int n = 0, rc = 0;
	long published;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	seed = gen_seed_from_env(SEED_DEFAULT);
	gen_seed(seed);
	printf("\n  search_random: seed %llu (VACANCY_TEST_SEED=%llu reproduces it)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	nrecs = NRECS;
	for (int i = 0; i < NRECS; i++) {
		int w = gen_rnd(100), acc = 0, m = 0;

		for (m = 0; m < GEN_NMUNI - 1; m++) {
			acc += gen_munis[m].weight;
			if (w < acc)
				break;
		}
		gen_rec_init(&recs[i], i, m, i > 0 ? &recs[gen_rnd(i)] : NULL);
		list[i] = &recs[i];
	}
	rc |= send_rounds("a", list, NRECS, XFER_A, 0);
	/* updates: 12 % with a newer revision, title, area and price */
	for (int i = 0; i < NRECS; i++)
		if (gen_chance(12)) {
			gen_rec_touch(&recs[i]);
			if (gen_chance(30)) /* and a new status or consent now and then */
				recs[i].status = 1 + gen_rnd(7);
			list[n++] = &recs[i];
		}
	rc |= send_rounds("b", list, n, XFER_B, 0);
	/* withdrawals: 3 % */
	n = 0;
	for (int i = 0; i < NRECS; i++)
		if (gen_chance(3)) {
			recs[i].rev++;
			recs[i].withdrawn = 1;
			list[n++] = &recs[i];
		}
	rc |= send_rounds("c", list, n, 200, 1);
	free(list);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL_FATAL(known_load(), 0);
	published = sql_long("SELECT count(*) FROM registry.record WHERE published");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("  search_random: %d records (%ld published, %ld withdrawn), %d updated_at values, "
	       "loaded in %.1f s\n",
	       nknown, published,
	       sql_long("SELECT count(*) FROM registry.record WHERE withdrawn_at IS NOT NULL"),
	       nstamps / 2, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	/* the generator's idea of publication agrees with the registry's */
	{
		int agree = 1;

		for (int i = 0; i < nknown; i++)
			agree &= known[i].published == gen_rec_published(&recs[known[i].rec]);
		CU_ASSERT(agree);
	}
	CU_ASSERT(published > NRECS / 4 && published < NRECS * 3 / 4);
	loaded = 1;
}

/* How many answers the daemon's in-memory models have given. */
static long
model_answers(void)
{
	return harness_metric(&dmn, "vacancyd_read_model_answers_total");
}

static void
test_random_searches(void)
{
	struct timespec t0, t1;
	unsigned long before = nmismatch;
	long answers = model_answers();

	if (!loaded) {
		CU_FAIL("the data did not load");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < NSEARCHES; i++) {
		struct search s;

		search_random(&s, i % 3);
		(void)run_search(&s, i);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("  search_random: %d searches in %.1f s\n", NSEARCHES,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (nmismatch > before)
		fprintf(stderr,
			"\n  search_random: %lu of %d searches differ from the SQL (seed %llu)\n",
			nmismatch - before, NSEARCHES, (unsigned long long)seed);
	CU_ASSERT_EQUAL(nmismatch, before);
	/* the searches were not trivially empty */
	CU_ASSERT(nempty < NSEARCHES / 2);
	/* investor searches without text or radius came from the read model */
	printf("  search_random: %ld pages answered by the read model\n",
	       model_answers() - answers);
	CU_ASSERT(answers >= 0 && model_answers() - answers > 100);
}

/*
 * Every filter at once, broad enough to match, walked in pages of three, for
 * each role in each form: later pages bind the filters twice (the records
 * as they are and as they were), so they need the most parameters.
 */
static void
test_every_filter(void)
{
	unsigned long before = nmismatch;
	int no = NSEARCHES;

	if (!loaded) {
		CU_FAIL("the data did not load");
		return;
	}
	for (int role = R_INVESTOR; role <= R_MUNI; role++) {
		for (int form = F_GET; form <= F_PB; form++) {
			struct search s;

			memset(&s, 0, sizeof(s));
			s.role = role;
			s.form = form;
			s.accept_json = form == F_JSON;
			snprintf(s.region, sizeof(s.region), "%s",
				 role == R_MUNI ? gen_munis[MUNI_INDEX].ags : COUNTY);
			s.has_bbox = 1;
			snprintf(s.bbox[0], sizeof(s.bbox[0]), "50.0");
			snprintf(s.bbox[1], sizeof(s.bbox[1]), "12.0");
			snprintf(s.bbox[2], sizeof(s.bbox[2]), "51.5");
			snprintf(s.bbox[3], sizeof(s.bbox[3]), "14.0");
			s.has_near = 1;
			snprintf(s.near[0], sizeof(s.near[0]), "%.4f", gen_munis[MUNI_INDEX].lat);
			snprintf(s.near[1], sizeof(s.near[1]), "%.4f", gen_munis[MUNI_INDEX].lon);
			snprintf(s.near[2], sizeof(s.near[2]), "90000");
			for (int v = 1; v <= 4; v++)
				s.site_kind[s.nsk++] = v;
			for (int v = 1; v <= 5; v++)
				s.usage[s.nus++] = v;
			for (int v = 1; v <= 4; v++)
				s.marketing[s.nmk++] = v;
			for (int v = 1; v <= 12; v++)
				s.object_type[s.nobj++] = v;
			s.status[s.nst++] = VACANCY__V1__STATUS__VALUE__MARKETED;
			s.status[s.nst++] = VACANCY__V1__STATUS__VALUE__RESERVED;
			snprintf(s.min_usable, sizeof(s.min_usable), "0");
			snprintf(s.max_usable, sizeof(s.max_usable), "100000");
			snprintf(s.min_plot, sizeof(s.min_plot), "0");
			snprintf(s.max_plot, sizeof(s.max_plot), "1000000");
			snprintf(s.max_price, sizeof(s.max_price), "99999999.99");
			snprintf(s.max_rent, sizeof(s.max_rent), "999999");
			snprintf(s.updated_since, sizeof(s.updated_since), "2020-01-01T00:00:00Z");
			snprintf(s.text, sizeof(s.text),
				 "Halle or Büro or Laden or Keller or Garten");
			s.sort = 1 + (role * 3 + form) % 5;
			s.npages = 4;
			for (int k = 0; k < 4; k++)
				s.size[k] = 3;
			(void)run_search(&s, no++);
		}
	}
	CU_ASSERT_EQUAL(nmismatch, before);
}

/* ---- a walk that stays stable while records change ---- */

#define NSTABLE	 36
#define WALK_MAX (NSTABLE + 16)

/*
 * The walk is made twice: once with the text filter (answered by SQL) and
 * once with an exact plot area as the filter (answered by the read model,
 * which leaves text to SQL); the records of each walk get their own area.
 */
static int stable_by_plot;
static double stable_plot;

struct walked {
	char id[37];
	char title[200];
};

/*
 * GETs one page of the stable walk (token NULL: the first) into out[0..*n)
 * as an investor; returns the next token (malloc'd) or NULL. Clears *ok when
 * the answer fails or carries a field that is not PUBLIC.
 */
static char *
stable_page(const char *token, struct walked *out, int room, int *n, int *ok)
{
	struct buf b;
	struct http_resp r;
	Vacancy__V1__SearchResponse *resp;
	char *next = NULL;

	buf_init(&b, 0);
	if (stable_by_plot)
		buf_printf(&b,
			   "/v1/records?min_plot_area_m2=%.2f&max_plot_area_m2=%.2f&sort=UPDATED_"
			   "DESC&page_size=5",
			   stable_plot, stable_plot);
	else
		buf_adds(&b, "/v1/records?text=" STABLE_WORD "&sort=UPDATED_DESC&page_size=5");
	if (token != NULL) {
		buf_adds(&b, "&page_token=");
		url_add(&b, token);
	}
	ka_http("GET", b.data, tok_investor, "application/x-protobuf", NULL, NULL, 0, &r);
	buf_free(&b);
	*n = 0;
	if (r.status != 200 || (resp = vacancy__v1__search_response__unpack(
				    NULL, r.len, (const uint8_t *)r.body)) == NULL) {
		fprintf(stderr, "\n  stable walk: HTTP %ld: %.300s\n", r.status, r.body);
		*ok = 0;
		harness_resp_free(&r);
		return NULL;
	}
	for (size_t i = 0; i < resp->n_records && *n < room; i++) {
		snprintf(out[*n].id, sizeof(out[*n].id), "%s",
			 resp->records[i]->record_id ? resp->records[i]->record_id : "(none)");
		snprintf(out[*n].title, sizeof(out[*n].title), "%s",
			 resp->records[i]->title ? resp->records[i]->title : "");
		if (gen_non_public(resp->records[i]) != NULL)
			*ok = 0;
		(*n)++;
	}
	if (resp->n_records > 5)
		*ok = 0;
	if (resp->next_page_token && resp->next_page_token[0])
		next = strdup(resp->next_page_token);
	vacancy__v1__search_response__free_unpacked(resp, NULL);
	harness_resp_free(&r);
	return next;
}

/* The generator's record behind a record id (it must be known). */
static struct gen_rec *
rec_of_id(const char *id)
{
	const struct known *k = known_find(id);

	return k ? &recs[k->rec] : NULL;
}

static int
sync_one(const char *tid, struct gen_rec **up, int nup, struct gen_rec **wd, int nwd)
{
	Vacancy__V1__SyncResponse *sr =
	    gen_sync(&dmn, tok_muni[MUNI_INDEX], gen_munis[MUNI_INDEX].ags, tid, up, (size_t)nup,
		     wd, (size_t)nwd);

	if (sr == NULL)
		return -1;
	vacancy__v1__sync_response__free_unpacked(sr, NULL);
	return 0;
}

/* A published record of the walk's municipality with title (not yet sent). */
static void
stable_rec(struct gen_rec *g, int n, const char *title)
{
	gen_rec_init(g, n, MUNI_INDEX, NULL);
	g->publication = VACANCY__V1__PUBLICATION__VALUE__PUBLIC;
	g->status = VACANCY__V1__STATUS__VALUE__MARKETED;
	g->consent = VACANCY__V1__OWNER_CONSENT__VALUE__CONSENTED;
	snprintf(g->title, sizeof(g->title), "%.199s", title);
	snprintf(g->description, sizeof(g->description), "Am Hang gelegen");
	/* in the plot walk, the area plays the word's part */
	g->has_plot = 1;
	g->plot = strncmp(title, STABLE_WORD, strlen(STABLE_WORD)) == 0 ? stable_plot : 100;
	g->has_divisible = 0; /* it may not exceed the areas */
	gen_rec_pb(g);
}

/*
 * Between the pages of a walk (investor, UPDATED_DESC, pages of 5): records
 * not yet listed and one listed get newer versions (their updated_at moves
 * to the top), one is withdrawn, one's owner objects, one is reworded so it
 * no longer matches the text, one that did not match gets the word, and a
 * new matching record arrives. The walk must list the records of the SQL
 * taken before the first page, in that order, each once, minus the
 * withdrawn and the objected; each as it is now.
 */
static void
stable_walk(void)
{
	struct gen_rec *st = &recs[nrecs], *up[4], *wd[1], *changed[5];
	struct walked *walk;
	struct search s;
	char(*l0)[37], *token, title[NSTABLE + 1][48];
	int nl0 = 0, nwalk = 0, ok = 1, page = 0, n, nchanged = 0;
	struct gen_rec *gone[2] = {NULL, NULL};

	if (!loaded) {
		CU_FAIL("the data did not load");
		return;
	}
	/* 36 records with the word in four transfers (ties in updated_at),
	 * one without it */
	for (int i = 0; i <= NSTABLE; i++) {
		snprintf(title[i], sizeof(title[i]),
			 i < NSTABLE ? STABLE_WORD " %d am Hang" : "Vergleichsobjekt am Hang", i);
		stable_rec(&st[i], nrecs + i, title[i]);
	}
	for (int t = 0; t < 4; t++) {
		struct gen_rec *batch[10];
		char tid[32];

		for (int i = 0; i < 9; i++)
			batch[i] = &st[t * 9 + i];
		batch[9] = &st[NSTABLE];
		snprintf(tid, sizeof(tid), "stable-%d-%d", stable_by_plot, t);
		CU_ASSERT_EQUAL_FATAL(sync_one(tid, batch, t == 3 ? 10 : 9, NULL, 0), 0);
	}
	nrecs += NSTABLE + 2; /* the last one is created during the walk */
	CU_ASSERT_EQUAL_FATAL(known_load(), 0);
	/* what matches before anything changes, in order */
	memset(&s, 0, sizeof(s));
	s.role = R_INVESTOR;
	s.sort = VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC;
	if (stable_by_plot) {
		snprintf(s.min_plot, sizeof(s.min_plot), "%.2f", stable_plot);
		snprintf(s.max_plot, sizeof(s.max_plot), "%.2f", stable_plot);
	} else {
		snprintf(s.text, sizeof(s.text), STABLE_WORD);
	}
	l0 = oracle_ids(&s, 1000, &nl0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l0);
	CU_ASSERT_EQUAL_FATAL(nl0, NSTABLE);
	walk = calloc(WALK_MAX, sizeof(*walk));

	token = stable_page(NULL, walk, WALK_MAX, &n, &ok);
	nwalk += n;
	while (token != NULL && ++page < 20 && nwalk < WALK_MAX) {
		if (page == 1) {
			/* two records not yet listed and one listed get newer versions */
			const int pick[3] = {12, 25, 2};

			for (int i = 0; i < 3; i++) {
				struct gen_rec *g = rec_of_id(l0[pick[i]]);

				gen_rec_touch(g);
				snprintf(g->title, sizeof(g->title), STABLE_WORD " neu %d", i);
				up[i] = changed[nchanged++] = g;
			}
			CU_ASSERT_EQUAL(sync_one(stable_by_plot ? "stable-plot-u1" : "stable-u1",
						 up, 3, NULL, 0),
					0);
		} else if (page == 2) {
			struct gen_rec *nw = &st[NSTABLE + 1], *rw = rec_of_id(l0[30]);
			struct gen_rec *ob = rec_of_id(l0[33]);

			gone[0] = wd[0] = rec_of_id(l0[20]);
			wd[0]->rev++;
			wd[0]->withdrawn = 1;
			stable_rec(nw, (int)(nw - recs), STABLE_WORD " ganz neu");
			rw->rev++;
			snprintf(rw->title, sizeof(rw->title), "Umbenannt am Hang");
			rw->plot = 100;
			rw->has_divisible = 0;
			gen_rec_pb(rw);
			changed[nchanged++] = rw;
			gone[1] = ob;
			ob->rev++;
			ob->consent = VACANCY__V1__OWNER_CONSENT__VALUE__OBJECTED;
			up[0] = nw;
			up[1] = rw;
			up[2] = ob;
			CU_ASSERT_EQUAL(
			    sync_one(stable_by_plot ? "stable-plot-u2" : "stable-u2", up, 3, wd, 1),
			    0);
		} else if (page == 3) {
			struct gen_rec *g = &st[NSTABLE];

			g->rev++;
			snprintf(g->title, sizeof(g->title), STABLE_WORD " nachträglich");
			g->plot = stable_plot;
			gen_rec_pb(g);
			up[0] = g;
			g = rec_of_id(l0[28]);
			gen_rec_touch(g);
			snprintf(g->title, sizeof(g->title), STABLE_WORD " nochmals");
			up[1] = changed[nchanged++] = g;
			CU_ASSERT_EQUAL(sync_one(stable_by_plot ? "stable-plot-u3" : "stable-u3",
						 up, 2, NULL, 0),
					0);
		}
		{
			char *next = stable_page(token, walk + nwalk, WALK_MAX - nwalk, &n, &ok);

			free(token);
			token = next;
			nwalk += n;
		}
	}
	free(token);
	CU_ASSERT(ok);
	/* the records that matched, in their order then, minus what is gone */
	{
		char(*want)[37] = calloc(NSTABLE + 1, sizeof(*want));
		int nwant = 0, same;

		for (int i = 0; i < nl0; i++) {
			struct gen_rec *g = rec_of_id(l0[i]);

			if (g != gone[0] && g != gone[1])
				memcpy(want[nwant++], l0[i], 37);
		}
		same = nwant == nwalk;
		for (int i = 0; same && i < nwant; i++)
			same = strcmp(want[i], walk[i].id) == 0;
		if (!same) {
			char(*got)[37] = calloc(WALK_MAX, sizeof(*got));

			for (int i = 0; i < nwalk; i++)
				memcpy(got[i], walk[i].id, 37);
			fprintf(
			    stderr,
			    "\n  stable walk (seed %llu): its pages of 5 differ from the records "
			    "that matched at the first page\n",
			    (unsigned long long)seed);
			print_ids("expected", want, 0, nwant);
			print_ids("received", got, 0, nwalk);
			free(got);
		}
		CU_ASSERT(same);
		free(want);
	}
	/* each record as it is now: the changes listed after they were made
	 * show their new titles (l0[2] was listed before its change) */
	for (int c = 0; c < nchanged; c++) {
		const struct known *k = NULL;

		for (int i = 0; i < nknown; i++)
			if (&recs[known[i].rec] == changed[c])
				k = &known[i];
		if (k == NULL || strcmp(k->id, l0[2]) == 0)
			continue;
		for (int i = 0; i < nwalk; i++) {
			if (strcmp(walk[i].id, k->id) != 0)
				continue;
			if (strcmp(walk[i].title, changed[c]->title) != 0)
				fprintf(stderr, "\n  stable walk: %s listed as '%s', now '%s'\n",
					k->id, walk[i].title, changed[c]->title);
			CU_ASSERT_STRING_EQUAL(walk[i].title, changed[c]->title);
		}
	}
	free(l0);
	free(walk);
}

static void
test_stable_walk(void)
{
	stable_by_plot = 0;
	stable_plot = 7777.25;
	stable_walk();
}

/* The same through the read model, which must also have answered it. */
static void
test_stable_walk_model(void)
{
	long before = model_answers();

	stable_by_plot = 1;
	stable_plot = 8888.75;
	stable_walk();
	CU_ASSERT(model_answers() >= before + 8);
}

void test_search_random_register(void);

void
test_search_random_register(void)
{
	CU_pSuite s = CU_add_suite("search_random", suite_init, suite_clean);

	CU_add_test(s, "load ~3000 random records through sync", test_load);
	CU_add_test(s, "1000 random searches equal SQL over the projected view",
		    test_random_searches);
	CU_add_test(s, "every filter at once, pages of three", test_every_filter);
	CU_add_test(s, "a walk stays stable while records change", test_stable_walk);
	CU_add_test(s, "the same walk through the read model", test_stable_walk_model);
}
