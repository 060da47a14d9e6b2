/*
 * test_privacy: every answer an investor can get, across all endpoints and
 * in both formats, is scanned for the value of every INTERNAL and PERSONAL
 * field of the data set; none may appear.
 *
 * A few hundred records (tests/integration/gen_records.c) go in through
 * POST /v1/sync with every INTERNAL and PERSONAL field set to a distinctive
 * value: texts carry GEN_TAG, revisions start at GEN_REV_BASE, consent
 * dates lie in 1999, source coordinates end in .25 and .75. Blurred records
 * carry GEN_TAG_BLUR in house number, Gemarkung, Flur and Flurstück, parcel
 * ids starting with GEN_PARCEL_BLUR, and exact positions no other record
 * shares. Then updates, withdrawals, objections and new publications, so
 * that the change feed holds withdrawals of records that were visible.
 *
 * The scanner looks in every body and header for: the tags and the other
 * marker strings; the JSON names of every field that is not PUBLIC
 * (lowerCamelCase and snake_case) and the enum values only such fields or
 * unpublished statuses have; every number in the text equal to a marker
 * number (revisions, source coordinates, exact positions of blurred
 * records); and every 8 bytes equal to a marker double (protobuf). Page
 * tokens are also decoded (base64url) and scanned. Protobuf and JSON
 * records are decoded and must hold PUBLIC fields only.
 *
 * Positive controls: the same scanner finds the markers in a county
 * staff member's answers, so it can fail.
 */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "buf.h"
#include "gen_records.h"
#include "harness.h"
#include "json.h"
#include "vacancy.pb-c.h"

#define SEED_DEFAULT 20261204u
#define NPRIV	     240
#define HITS_SHOWN   12

#define HIT_STRING 1 /* a marker string or a field name */
#define HIT_NUMBER 2 /* a number in the text equal to a marker number */
#define HIT_BYTES  4 /* 8 bytes equal to a marker double */

static struct daemon dmn;
static char *tok_muni[GEN_NMUNI], *tok_county, *tok_investor;
static PGconn *pg;
static struct gen_rec *recs;
static uint64_t seed;
static int loaded;

/* The municipalities of the data set (indexes into gen_munis). */
static const int privacy_munis[] = {0, 1, 2, GEN_OUTSIDE};
#define NPMUNI 4

/* record id -> generator record */
struct idmap {
	char id[37];
	int rec;
};
static struct idmap *ids;
static int nids;

/* ---- the scanner ---- */

static struct scanner {
	char **needles;
	int nneedles;
	double *nums; /* sorted */
	int nnums;
	uint64_t *pats; /* sorted bit patterns of the marker doubles */
	int npats;
	unsigned long responses, bytes, hits;
	int shown;
} sc;

static void
sc_needle(const char *s)
{
	sc.needles = realloc(sc.needles, (size_t)(sc.nneedles + 1) * sizeof(*sc.needles));
	sc.needles[sc.nneedles++] = strdup(s);
}

static void
sc_number(double v)
{
	uint64_t u;

	sc.nums = realloc(sc.nums, (size_t)(sc.nnums + 1) * sizeof(*sc.nums));
	sc.nums[sc.nnums++] = v;
	memcpy(&u, &v, sizeof(u));
	sc.pats = realloc(sc.pats, (size_t)(sc.npats + 1) * sizeof(*sc.pats));
	sc.pats[sc.npats++] = u;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
sc_free(void)
{
	for (int i = 0; i < sc.nneedles; i++)
		free(sc.needles[i]);
	free(sc.needles);
	free(sc.nums);
	free(sc.pats);
	memset(&sc, 0, sizeof(sc));
}

/* 1 when v is within 6e-8 of a marker number (GeoJSON prints 7 decimals). */
static int
sc_is_marker(double v)
{
	int lo = 0, hi = sc.nnums - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (fabs(sc.nums[mid] - v) <= 6e-8)
			return 1;
		if (sc.nums[mid] < v)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return 0;
}

static void
sc_report(const char *what, const char *kind, const char *needle, const char *p, size_t len,
	  size_t at)
{
	size_t from = at > 40 ? at - 40 : 0, to = at + 60 < len ? at + 60 : len;

	sc.hits++;
	if (sc.shown++ >= HITS_SHOWN)
		return;
	fprintf(stderr,
		"\n  privacy (seed %llu): %s: %s '%s' at byte %zu: ", (unsigned long long)seed,
		what, kind, needle, at);
	for (size_t i = from; i < to; i++)
		fputc(isprint((unsigned char)p[i]) ? p[i] : '.', stderr);
	fputc('\n', stderr);
}

/*
 * Scans len bytes; returns the HIT_ kinds found (0: clean). counted: add to
 * the totals (the positive controls are not counted). report: report hits.
 */
static int
sc_scan_data(const char *what, const char *p, size_t len, int report)
{
	int mask = 0;

	for (int i = 0; i < sc.nneedles; i++) {
		const char *h = memmem(p, len, sc.needles[i], strlen(sc.needles[i]));

		if (h != NULL) {
			mask |= HIT_STRING;
			if (report)
				sc_report(what, "marker", sc.needles[i], p, len, (size_t)(h - p));
		}
	}
	for (size_t i = 0; i < len; i++) {
		char tok[48];
		size_t k = 0;
		double v;

		/* digits inside a word (a hex ETag, an id) are not a number */
		if (!isdigit((unsigned char)p[i]) ||
		    (i > 0 && (isalnum((unsigned char)p[i - 1]) || p[i - 1] == '.')))
			continue;
		while (i + k < len && k + 1 < sizeof(tok) &&
		       (isdigit((unsigned char)p[i + k]) || p[i + k] == '.' || p[i + k] == 'e' ||
			p[i + k] == 'E' ||
			((p[i + k] == '-' || p[i + k] == '+') && k > 0 &&
			 (p[i + k - 1] == 'e' || p[i + k - 1] == 'E')))) {
			tok[k] = p[i + k];
			k++;
		}
		tok[k] = '\0';
		if (i + k < len && isalpha((unsigned char)p[i + k])) {
			i += k - 1;
			continue;
		}
		v = strtod(tok, NULL);
		if (sc_is_marker(v)) {
			mask |= HIT_NUMBER;
			if (report)
				sc_report(what, "number", tok, p, len, i);
		}
		i += k > 0 ? k - 1 : 0;
	}
	for (size_t i = 0; i + 8 <= len; i++) {
		uint64_t u;

		memcpy(&u, p + i, 8);
		if (bsearch(&u, sc.pats, (size_t)sc.npats, sizeof(u), cmp_u64) != NULL) {
			mask |= HIT_BYTES;
			if (report)
				sc_report(what, "double", "(8 bytes)", p, len, i);
		}
	}
	return mask;
}

/* Scans a whole answer (headers and body) an investor received. */
static int
sc_scan(const char *what, const struct http_resp *r)
{
	char w[1400];
	int mask;

	sc.responses++;
	sc.bytes += r->len + strlen(r->headers);
	snprintf(w, sizeof(w), "%.1200s (headers)", what);
	mask = sc_scan_data(w, r->headers, strlen(r->headers), 1);
	snprintf(w, sizeof(w), "%.1200s (body, HTTP %ld, %.100s)", what, r->status,
		 r->content_type);
	return mask | sc_scan_data(w, r->body ? r->body : "", r->len, 1);
}

/* A base64url text decoded (padding optional); malloc'd, length in *n. */
static unsigned char *
b64url_decode(const char *s, size_t *n)
{
	size_t len = strlen(s);
	unsigned char *out = malloc(len + 1);
	unsigned acc = 0;
	int bits = 0;

	*n = 0;
	for (size_t i = 0; out != NULL && i < len; i++) {
		const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		const char *c = s[i] ? strchr(a, s[i]) : NULL;

		if (c == NULL)
			continue; /* padding, '+' or '/' of plain base64 */
		acc = (acc << 6) | (unsigned)(c - a);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[(*n)++] = (unsigned char)(acc >> bits);
		}
	}
	return out;
}

/* Scans a page token as text and as the bytes it encodes. */
static void
sc_scan_token(const char *what, const char *token)
{
	size_t n;
	unsigned char *raw;
	char w[512];

	if (token == NULL || token[0] == '\0')
		return;
	snprintf(w, sizeof(w), "%s (page token)", what);
	sc_scan_data(w, token, strlen(token), 1);
	if ((raw = b64url_decode(token, &n)) != NULL) {
		snprintf(w, sizeof(w), "%s (page token decoded)", what);
		sc_scan_data(w, (const char *)raw, n, 1);
	}
	free(raw);
}

/* The JSON names of a field: lowerCamelCase and snake_case, quoted. */
static void
sc_field_names(const char *name)
{
	char camel[96], q[128];
	size_t k = 0;

	for (const char *p = name; *p && k + 1 < sizeof(camel); p++) {
		if (*p == '_' && p[1] != '\0') {
			p++;
			camel[k++] = (char)toupper((unsigned char)*p);
		} else {
			camel[k++] = *p;
		}
	}
	camel[k] = '\0';
	snprintf(q, sizeof(q), "\"%s\"", camel);
	sc_needle(q);
	if (strcmp(camel, name) != 0) {
		snprintf(q, sizeof(q), "\"%s\"", name);
		sc_needle(q);
	}
}

/* Every marker of the data set, from the records as sent. */
static void
sc_build(void)
{
	static const char *const values[] = {
	    /* publication, consent, owner category and willingness */
	    "INTERNAL", "PUBLIC", "UNKNOWN", "NOTICE_PUBLISHED", "NO_OBJECTION", "CONSENTED",
	    "OBJECTED", "PRIVATE", "BUSINESS", "MUNICIPAL", "SELL", "LET", "UNDECIDED",
	    /* vacancy reasons (OTHER is an object type too) */
	    "PRICE_EXPECTATION", "HEIRS_DISPUTE", "REFURBISHMENT_NEEDED", "MARKETING_FAILED",
	    "NO_INTEREST",
	    /* statuses investors never see (SUSPECTED, CONFIRMED: contamination too) */
	    "REUSED", "WITHDRAWN", "DEMOLISHED"};
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;
	char q[64];

	sc_free();
	sc_needle(GEN_TAG);
	sc_needle(GEN_TAG_BLUR);
	sc_needle(GEN_PARCEL_BLUR);
	sc_needle("1999-");
	for (unsigned i = 0; i < d->n_fields; i++)
		if (!gen_field_public(d->fields[i].name))
			sc_field_names(d->fields[i].name);
	sc_field_names("rights_holder");
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(q, sizeof(q), "\"%s\"", values[i]);
		sc_needle(q);
	}
	for (int i = 0; i < NPRIV; i++) {
		const struct gen_rec *g = &recs[i];

		/* every revision the record had: from its first to its current */
		for (uint64_t rev = GEN_REV_BASE + (uint64_t)i * 64; rev <= g->rev; rev++)
			sc_number((double)rev);
		if (g->has_source) {
			sc_number(g->sx);
			sc_number(g->sy);
		}
		if (g->blur > 0) {
			sc_number(g->lat);
			sc_number(g->lon);
		}
	}
	qsort(sc.nums, (size_t)sc.nnums, sizeof(*sc.nums), cmp_double);
	qsort(sc.pats, (size_t)sc.npats, sizeof(*sc.pats), cmp_u64);
}

/* ---- records ---- */

static int
idmap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct idmap *)a)->id, ((const struct idmap *)b)->id);
}

static const struct gen_rec *
rec_by_id(const char *id)
{
	struct idmap key, *hit;

	if (id == NULL || strlen(id) != 36)
		return NULL;
	memcpy(key.id, id, 37);
	hit = bsearch(&key, ids, (size_t)nids, sizeof(*ids), idmap_cmp);
	return hit ? &recs[hit->rec] : NULL;
}

/* Every INTERNAL and PERSONAL field present, as markers. */
static void
fill_secrets(struct gen_rec *g)
{
	int n = g->n;

	if (g->owner_name[0] == '\0')
		snprintf(g->owner_name, sizeof(g->owner_name), "Eigentümer " GEN_TAG "-%d", n);
	if (g->owner_address[0] == '\0')
		snprintf(g->owner_address, sizeof(g->owner_address), "Postweg " GEN_TAG "-%d", n);
	if (g->owner_phone[0] == '\0')
		snprintf(g->owner_phone, sizeof(g->owner_phone), "+49 3733 " GEN_TAG "-%d", n);
	if (g->owner_email[0] == '\0')
		snprintf(g->owner_email, sizeof(g->owner_email), GEN_TAG "-%d@example.org", n);
	if (g->notes[0] == '\0')
		snprintf(g->notes, sizeof(g->notes), "Interne Notiz " GEN_TAG "-%d", n);
	if (g->consent_date[0] == '\0')
		snprintf(g->consent_date, sizeof(g->consent_date), "1999-%02d-%02d", 1 + n % 12,
			 1 + n % 28);
	if (g->reason == 0)
		g->reason = 1 + n % 6;
	if (g->willingness == 0)
		g->willingness = 1 + n % 5;
	if (g->owner_cat == 0)
		g->owner_cat = 1 + n % 5;
	if (!g->has_source) {
		g->has_source = 1;
		g->sx = 340000.0 + n * 3 + 0.25;
		g->sy = 5600000.0 + n * 3 + 0.75;
		g->crs = 25833;
	}
	if (g->natt == 0) {
		g->natt = 1;
		g->att_group[0] = 1;
		snprintf(g->att_url[0], sizeof(g->att_url[0]),
			 "https://example.org/objekte/%d/0.jpg", n);
		memset(g->att_sha[0], 'a', 64);
		g->att_sha[0][64] = '\0';
		snprintf(g->att_rights[0], sizeof(g->att_rights[0]), "Fotograf " GEN_TAG "-%d-0",
			 n);
	}
	for (int i = 0; i < g->natt; i++)
		g->att_has_rights[i] = 1;
	gen_rec_pb(g);
}

/*
 * An investor's record: PUBLIC fields only, published, blurred where it
 * should be. Reports and fails otherwise.
 */
static void
check_record(const char *what, const Vacancy__V1__Record *r)
{
	const struct gen_rec *g = rec_by_id(r->record_id);
	const char *np = gen_non_public(r);
	int ok = 1;

	if (np != NULL) {
		fprintf(stderr, "\n  privacy: %s: record %s carries %s\n", what, r->record_id, np);
		ok = 0;
	}
	if (g == NULL || !gen_rec_published(g)) {
		fprintf(stderr, "\n  privacy: %s: record %s is not published\n", what,
			r->record_id ? r->record_id : "(no id)");
		ok = 0;
	} else if (g->blur > 0 && (r->house_number || r->gemarkung || r->flur || r->flurstueck ||
				   r->n_parcel_ids > 0 || r->location == NULL ||
				   (r->location->lat == g->lat && r->location->lon == g->lon))) {
		fprintf(stderr, "\n  privacy: %s: blurred record %s came unblurred\n", what,
			r->record_id);
		ok = 0;
	}
	CU_ASSERT(ok);
}

/* ---- requests ---- */

static unsigned long nrecord_checks;

/* One request as the investor, scanned; returns the answer (caller frees). */
static void
inv(const char *method, const char *path, const char *accept, const char *ct, const void *body,
    size_t len, struct http_resp *r)
{
	char what[1200];

	harness_http(&dmn, method, path, tok_investor, accept, ct, body, len, NULL, r);
	snprintf(what, sizeof(what), "investor %s %.900s (Accept %s)", method, path,
		 accept ? accept : "-");
	CU_ASSERT_EQUAL(sc_scan(what, r), 0);
}

/* Decodes a 200 answer of type desc in the format of the reply; NULL if not. */
static ProtobufCMessage *
decode(const ProtobufCMessageDescriptor *desc, const struct http_resp *r)
{
	char err[256];

	if (r->status != 200)
		return NULL;
	if (strstr(r->content_type, "json") != NULL)
		return json_decode(desc, r->body, r->len, NULL, 64, err, sizeof(err));
	return protobuf_c_message_unpack(desc, NULL, r->len, (const uint8_t *)r->body);
}

static const char *const accepts[] = {"application/x-protobuf", "application/json"};

/* ---- the suite ---- */

static int
suite_init(void)
{
	if (harness_sql("TRUNCATE registry.record, registry.transfer, registry.feed, "
			"registry.sync_session_item, registry.personal_access_log CASCADE") == -1)
		return -1;
	if (harness_daemon_start(&dmn, "auth_cache_ttl_ms = 60000") == -1 ||
	    harness_daemon_wait_healthy(&dmn, 10000) == -1)
		return -1;
	for (int i = 0; i < NPMUNI; i++) {
		int m = privacy_munis[i];

		if ((tok_muni[m] = harness_token(&dmn, "municipality", gen_munis[m].ags)) == NULL)
			return -1;
	}
	tok_county = harness_token(&dmn, "county", "14521");
	tok_investor = harness_token(&dmn, "investor", "");
	pg = harness_pg(harness_env("VACANCY_TEST_PG_CONNINFO"));
	recs = calloc(NPRIV, sizeof(*recs));
	return tok_county && tok_investor && recs && PQstatus(pg) == CONNECTION_OK ? 0 : -1;
}

static int
suite_clean(void)
{
	int rc = harness_daemon_stop(&dmn);

	for (int m = 0; m < GEN_NMUNI; m++)
		free(tok_muni[m]);
	free(tok_county);
	free(tok_investor);
	PQfinish(pg);
	free(recs);
	free(ids);
	printf("\n  privacy: seed %llu; %lu investor answers (%lu bytes) scanned for %d strings, "
	       "%d numbers; %lu records decoded; %lu hits\n",
	       (unsigned long long)seed, sc.responses, sc.bytes, sc.nneedles, sc.nnums,
	       nrecord_checks, sc.hits);
	sc_free();
	if (rc != 0)
		fprintf(stderr, "privacy: vacancyd exited with %d (see %s)\n", rc, dmn.log);
	return rc == 0 ? 0 : -1;
}

/* One transfer per municipality of the records picked (flag per record). */
static int
send_picked(const char *tag, const int *pick, int withdraw)
{
	int rc = 0;

	for (int i = 0; i < NPMUNI; i++) {
		int m = privacy_munis[i], n = 0;
		struct gen_rec *list[NPRIV];
		Vacancy__V1__SyncResponse *sr;
		char tid[48];

		for (int k = 0; k < NPRIV; k++)
			if (pick[k] && recs[k].m == m)
				list[n++] = &recs[k];
		if (n == 0)
			continue;
		snprintf(tid, sizeof(tid), "priv-%s-%d", tag, m);
		sr = withdraw ? gen_sync(&dmn, tok_muni[m], gen_munis[m].ags, tid, NULL, 0, list,
					 (size_t)n)
			      : gen_sync(&dmn, tok_muni[m], gen_munis[m].ags, tid, list, (size_t)n,
					 NULL, 0);
		if (sr == NULL)
			rc = -1;
		else
			vacancy__v1__sync_response__free_unpacked(sr, NULL);
	}
	return rc;
}

static void
test_load(void)
{
	int pick[NPRIV], nvis = 0, nblur = 0;
	PGresult *res;

	seed = gen_seed_from_env(SEED_DEFAULT);
	gen_seed(seed);
	printf("\n  privacy: seed %llu (VACANCY_TEST_SEED=%llu reproduces it)\n",
	       (unsigned long long)seed, (unsigned long long)seed);
	for (int i = 0; i < NPRIV; i++) {
		gen_rec_init(&recs[i], i, privacy_munis[gen_rnd(NPMUNI)], i ? &recs[i - 1] : NULL);
		fill_secrets(&recs[i]);
		pick[i] = 1;
	}
	CU_ASSERT_EQUAL_FATAL(send_picked("a", pick, 0), 0);
	/* updates (history), objections of published records, new publications */
	for (int i = 0; i < NPRIV; i++) {
		struct gen_rec *g = &recs[i];

		pick[i] = 0;
		if (gen_chance(12)) {
			gen_rec_touch(g);
			pick[i] = 1;
		} else if (gen_rec_published(g) && gen_chance(8)) {
			g->rev++;
			g->consent = VACANCY__V1__OWNER_CONSENT__VALUE__OBJECTED;
			pick[i] = 1;
		} else if (!gen_rec_published(g) && gen_chance(8)) {
			g->rev++;
			g->publication = VACANCY__V1__PUBLICATION__VALUE__PUBLIC;
			g->status = VACANCY__V1__STATUS__VALUE__RESERVED;
			g->consent = VACANCY__V1__OWNER_CONSENT__VALUE__NO_OBJECTION;
			pick[i] = 1;
		}
		if (pick[i])
			gen_rec_pb(g);
	}
	CU_ASSERT_EQUAL_FATAL(send_picked("b", pick, 0), 0);
	/* withdrawals, published ones among them */
	for (int i = 0; i < NPRIV; i++) {
		pick[i] = gen_chance(6);
		if (pick[i]) {
			recs[i].rev++;
			recs[i].withdrawn = 1;
		}
	}
	CU_ASSERT_EQUAL_FATAL(send_picked("c", pick, 1), 0);
	res = PQexec(pg, "SELECT r.record_id::text, i.external_id FROM registry.record r "
			 "JOIN registry.record_internal i USING (record_id)");
	CU_ASSERT_EQUAL_FATAL(PQresultStatus(res), PGRES_TUPLES_OK);
	nids = 0;
	ids = calloc((size_t)PQntuples(res) + 1, sizeof(*ids));
	for (int i = 0; i < PQntuples(res); i++) {
		int n;

		if (sscanf(PQgetvalue(res, i, 1), "EXT-%d-", &n) == 1 && n >= 0 && n < NPRIV) {
			snprintf(ids[nids].id, sizeof(ids[nids].id), "%s", PQgetvalue(res, i, 0));
			ids[nids++].rec = n;
		}
	}
	PQclear(res);
	qsort(ids, (size_t)nids, sizeof(*ids), idmap_cmp);
	CU_ASSERT_EQUAL_FATAL(nids, NPRIV);
	for (int i = 0; i < NPRIV; i++) {
		nvis += gen_rec_published(&recs[i]);
		nblur += gen_rec_published(&recs[i]) && recs[i].blur > 0;
	}
	printf("  privacy: %d records, %d published (%d of them blurred)\n", NPRIV, nvis, nblur);
	CU_ASSERT(nvis > 40);
	CU_ASSERT(nblur > 10);
	sc_build();
	loaded = 1;
}

/* The scanner finds the markers in staff answers: it can fail. */
static void
test_positive_control(void)
{
	const struct gen_rec *g = NULL;
	struct http_resp r;
	char path[96] = "";
	int mask;

	CU_ASSERT_FATAL(loaded);
	for (int i = 0; i < nids && g == NULL; i++) {
		const struct gen_rec *c = &recs[ids[i].rec];

		if (c->blur > 0 && !c->withdrawn && c->m != GEN_OUTSIDE)
			g = c;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	for (int i = 0; i < nids; i++)
		if (&recs[ids[i].rec] == g)
			snprintf(path, sizeof(path), "/v1/records/%s", ids[i].id);
	harness_http(&dmn, "GET", path, tok_county, "application/json", NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	mask = sc_scan_data("control", r.body, r.len, 0);
	CU_ASSERT(mask & HIT_STRING);
	CU_ASSERT(mask & HIT_NUMBER);
	CU_ASSERT_PTR_NOT_NULL(memmem(r.body, r.len, g->owner_name, strlen(g->owner_name)));
	harness_resp_free(&r);
	harness_http(&dmn, "GET", path, tok_county, "application/x-protobuf", NULL, NULL, 0, NULL,
		     &r);
	CU_ASSERT_EQUAL(r.status, 200);
	mask = sc_scan_data("control", r.body, r.len, 0);
	CU_ASSERT(mask & HIT_STRING);
	CU_ASSERT(mask & HIT_BYTES);
	harness_resp_free(&r);
	/* a staff search answer too */
	harness_http(&dmn, "GET", "/v1/records?page_size=20", tok_county, "application/json", NULL,
		     NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(sc_scan_data("control", r.body, r.len, 0) & HIT_STRING);
	harness_resp_free(&r);
	/* staff exports carry exact positions (7 decimals): the number scan sees them */
	harness_http(&dmn, "GET", "/v1/export.geojson", tok_county, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(sc_scan_data("control", r.body, r.len, 0) & HIT_NUMBER);
	harness_resp_free(&r);
}

/* GET /v1/records/{id} for every record, in both formats. */
static void
test_records(void)
{
	CU_ASSERT_FATAL(loaded);
	for (int i = 0; i < nids; i++) {
		const struct gen_rec *g = &recs[ids[i].rec];
		char path[96];

		snprintf(path, sizeof(path), "/v1/records/%s", ids[i].id);
		for (int f = 0; f < 2; f++) {
			struct http_resp r;
			Vacancy__V1__Record *rec;

			inv("GET", path, accepts[f], NULL, NULL, 0, &r);
			CU_ASSERT_EQUAL(r.status, gen_rec_published(g) ? 200 : 404);
			if ((rec = (Vacancy__V1__Record *)decode(&vacancy__v1__record__descriptor,
								 &r)) != NULL) {
				check_record(path, rec);
				nrecord_checks++;
				protobuf_c_message_free_unpacked(&rec->base, NULL);
			}
			harness_resp_free(&r);
		}
	}
}

/*
 * Walks a search to its end as the investor: GET /v1/records?query, or POST
 * /v1/search with a JSON (json) or protobuf body. Returns the records seen.
 */
static int
walk_search(const char *query, const char *json, const Vacancy__V1__SearchRequest *pb,
	    const char *accept)
{
	char *token = NULL;
	int seen = 0, pages = 0;

	do {
		struct http_resp r;
		Vacancy__V1__SearchResponse *resp;
		struct buf b;

		buf_init(&b, 0);
		if (query != NULL) {
			buf_printf(&b, "/v1/records?%s", query);
			if (token != NULL)
				buf_printf(&b, "%spage_token=%s", query[0] ? "&" : "", token);
			inv("GET", b.data, accept, NULL, NULL, 0, &r);
		} else if (json != NULL) {
			if (token != NULL)
				buf_printf(&b, "{\"pageToken\":\"%s\",%s", token, json + 1);
			else
				buf_adds(&b, json);
			inv("POST", "/v1/search", accept, "application/json", b.data, b.len, &r);
		} else {
			Vacancy__V1__SearchRequest q = *pb;
			uint8_t *out;

			q.page_token = token;
			out = buf_extend(&b, protobuf_c_message_get_packed_size(&q.base));
			protobuf_c_message_pack(&q.base, out);
			inv("POST", "/v1/search", accept, "application/x-protobuf", b.data, b.len,
			    &r);
		}
		buf_free(&b);
		CU_ASSERT_EQUAL(r.status, 200);
		free(token);
		token = NULL;
		resp = (Vacancy__V1__SearchResponse *)decode(
		    &vacancy__v1__search_response__descriptor, &r);
		if (r.status == 200)
			CU_ASSERT_PTR_NOT_NULL(resp);
		if (resp != NULL) {
			for (size_t i = 0; i < resp->n_records; i++) {
				check_record("search", resp->records[i]);
				nrecord_checks++;
			}
			seen += (int)resp->n_records;
			if (resp->next_page_token != NULL && resp->next_page_token[0] != '\0') {
				token = strdup(resp->next_page_token);
				sc_scan_token("search", token);
			}
			protobuf_c_message_free_unpacked(&resp->base, NULL);
		}
		harness_resp_free(&r);
	} while (token != NULL && ++pages < 100);
	free(token);
	return seen;
}

static void
test_searches(void)
{
	static const char *const queries[] = {
	    "page_size=50",
	    "region=14521&sort=AREA_DESC&page_size=37",
	    "text=Ladenlokal%20or%20Halle%20or%20Werkstatt&page_size=7",
	    "bbox=50.3,12.5,51.0,13.5&sort=PRICE_ASC&page_size=100",
	    "near=50.58,13.0,30000&sort=DISTANCE_ASC&page_size=25",
	    "region=14522&page_size=10",
	    "status=MARKETED,RESERVED&sort=AREA_ASC&page_size=60",
	};
	Vacancy__V1__SearchRequest pb = VACANCY__V1__SEARCH_REQUEST__INIT;
	int published = 0;

	CU_ASSERT_FATAL(loaded);
	for (int i = 0; i < NPRIV; i++)
		published += gen_rec_published(&recs[i]);
	for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++)
		for (int f = 0; f < 2; f++) {
			int seen = walk_search(queries[q], NULL, NULL, accepts[f]);

			if (q == 0)
				CU_ASSERT_EQUAL(seen, published);
		}
	for (int f = 0; f < 2; f++) {
		CU_ASSERT_EQUAL(walk_search(NULL, "{\"pageSize\":40}", NULL, accepts[f]),
				published);
		CU_ASSERT(walk_search(
			      NULL, "{\"region\":\"14521\",\"sort\":\"AREA_DESC\",\"pageSize\":9}",
			      NULL, accepts[f]) > 0);
	}
	pb.has_page_size = 1;
	pb.page_size = 33;
	pb.has_sort = 1;
	pb.sort = VACANCY__V1__SEARCH_SORT__VALUE__PRICE_ASC;
	for (int f = 0; f < 2; f++)
		CU_ASSERT_EQUAL(walk_search(NULL, NULL, &pb, accepts[f]), published);
}

static void
test_changes(void)
{
	CU_ASSERT_FATAL(loaded);
	for (int f = 0; f < 2; f++) {
		char after[32] = "0";
		int changes = 0, withdraws = 0;

		for (int pages = 0; pages < 200; pages++) {
			struct http_resp r;
			char path[96];
			Vacancy__V1__ChangeBatch *b;
			size_t n;

			snprintf(path, sizeof(path), "/v1/changes?after=%s&limit=40", after);
			inv("GET", path, accepts[f], NULL, NULL, 0, &r);
			CU_ASSERT_EQUAL(r.status, 200);
			b = (Vacancy__V1__ChangeBatch *)decode(
			    &vacancy__v1__change_batch__descriptor, &r);
			harness_resp_free(&r);
			if (b == NULL)
				break;
			n = b->n_changes;
			for (size_t i = 0; i < n; i++) {
				if (b->changes[i]->record != NULL) {
					check_record("changes", b->changes[i]->record);
					nrecord_checks++;
				}
				withdraws += b->changes[i]->has_kind &&
					     b->changes[i]->kind ==
						 VACANCY__V1__CHANGE_KIND__VALUE__WITHDRAW;
			}
			changes += (int)n;
			if (b->next_cursor != NULL)
				snprintf(after, sizeof(after), "%s", b->next_cursor);
			protobuf_c_message_free_unpacked(&b->base, NULL);
			if (n == 0)
				break;
		}
		CU_ASSERT(changes > 40);
		CU_ASSERT(withdraws > 0); /* visible records withdrawn or objected to */
	}
}

static void
test_export(void)
{
	static const char *const queries[] = {"", "?region=14521&sort=AREA_ASC",
					      "?text=Halle%20or%20Garten", "?near=50.6,12.9,40000"};
	int published = 0;

	CU_ASSERT_FATAL(loaded);
	for (int i = 0; i < NPRIV; i++)
		published += gen_rec_published(&recs[i]);
	for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		for (int f = 0; f < 2; f++) {
			struct http_resp r;
			char path[256];
			int features = 0;

			snprintf(path, sizeof(path), "/v1/export.geojson%s", queries[q]);
			inv("GET", path, f ? "application/geo+json" : NULL, NULL, NULL, 0, &r);
			CU_ASSERT_EQUAL(r.status, 200);
			CU_ASSERT_PTR_NOT_NULL(strstr(r.content_type, "geo+json"));
			for (const char *p = r.body; (p = strstr(p, "\"Feature\"")) != NULL; p++)
				features++;
			if (q == 0)
				CU_ASSERT_EQUAL(features, published);
			harness_resp_free(&r);
		}
	}
}

/* Endpoints the investor may not use, and bad requests: answers scanned too. */
static void
test_refusals_and_errors(void)
{
	static const struct {
		const char *method, *path, *ct, *body;
		long status; /* 0: any 4xx */
	} cases[] = {
	    {"GET", "/v1/overview?region=14521", NULL, NULL, 403},
	    {"GET", "/v1/overview", NULL, NULL, 403},
	    {"GET", "/v1/municipalities?region=14521", NULL, NULL, 403},
	    {"POST", "/v1/sync", "application/json", "{\"transferId\":\"x\"}", 403},
	    {"GET", "/v1/records?bogus=1", NULL, NULL, 400},
	    {"GET", "/v1/records?status=SUSPECTED", NULL, NULL, 400},
	    {"GET", "/v1/records?status=CONFIRMED,MARKETED", NULL, NULL, 400},
	    {"GET", "/v1/records?page_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, NULL, 400},
	    {"GET", "/v1/records?bbox=51,13,50,12", NULL, NULL, 400},
	    {"GET", "/v1/records?near=50.5,13.0,99999999", NULL, NULL, 400},
	    {"GET", "/v1/records?sort=DISTANCE_ASC", NULL, NULL, 400},
	    {"GET", "/v1/records?region=99", NULL, NULL, 400},
	    {"GET", "/v1/records?page_size=100000", NULL, NULL, 400},
	    {"GET", "/v1/records?min_usable_area_m2=abc", NULL, NULL, 400},
	    {"GET", "/v1/records?text=", NULL, NULL, 0},
	    {"GET", "/v1/records/not-a-uuid", NULL, NULL, 400},
	    {"GET", "/v1/records/00000000-0000-4000-8000-000000000000", NULL, NULL, 404},
	    {"GET", "/v1/changes?after=x", NULL, NULL, 400},
	    {"GET", "/v1/changes?limit=0", NULL, NULL, 400},
	    {"POST", "/v1/search", "application/json", "{\"pageSize\":", 400},
	    {"POST", "/v1/search", "application/json", "{\"ownerName\":\"x\"}", 400},
	    {"POST", "/v1/search", "application/x-protobuf", "\xff\xff\xff", 400},
	    {"GET", "/v1/export.geojson?sort=BOGUS", NULL, NULL, 400},
	    {"GET", "/v1/export.geojson?page_size=5", NULL, NULL, 400},
	    {"DELETE", "/v1/records", NULL, NULL, 405},
	};

	CU_ASSERT_FATAL(loaded);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int f = 0; f < 2; f++) {
			struct http_resp r;

			inv(cases[i].method, cases[i].path, accepts[f], cases[i].ct, cases[i].body,
			    cases[i].body ? strlen(cases[i].body) : 0, &r);
			if (cases[i].status != 0 ? r.status != cases[i].status
						 : r.status < 400 || r.status > 499)
				fprintf(stderr, "\n  privacy: %s %s: HTTP %ld, expected %ld\n",
					cases[i].method, cases[i].path, r.status, cases[i].status);
			if (cases[i].status != 0) {
				CU_ASSERT_EQUAL(r.status, cases[i].status);
			} else {
				CU_ASSERT(r.status >= 400 && r.status <= 499);
			}
			harness_resp_free(&r);
		}
	}
	/* the history of published and unpublished records: 403 */
	for (int i = 0; i < nids && i < 20; i++) {
		struct http_resp r;
		char path[128];

		snprintf(path, sizeof(path), "/v1/records/%s/history", ids[i].id);
		inv("GET", path, accepts[i % 2], NULL, NULL, 0, &r);
		CU_ASSERT_EQUAL(r.status, 403);
		harness_resp_free(&r);
	}
	/* a page token of a staff search, presented by the investor */
	{
		struct http_resp r;
		Vacancy__V1__SearchResponse *resp;

		harness_http(&dmn, "GET", "/v1/records?page_size=3", tok_county, NULL, NULL, NULL,
			     0, NULL, &r);
		resp = (Vacancy__V1__SearchResponse *)decode(
		    &vacancy__v1__search_response__descriptor, &r);
		harness_resp_free(&r);
		CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
		if (resp->next_page_token != NULL) {
			char path[1024];

			snprintf(path, sizeof(path), "/v1/records?page_size=3&page_token=%s",
				 resp->next_page_token);
			inv("GET", path, NULL, NULL, NULL, 0, &r);
			CU_ASSERT_EQUAL(r.status, 400);
			harness_resp_free(&r);
		}
		protobuf_c_message_free_unpacked(&resp->base, NULL);
	}
}

/* The scan covered a non-trivial amount of data, and found nothing. */
static void
test_totals(void)
{
	printf("  privacy: %lu investor answers, %lu bytes scanned\n", sc.responses, sc.bytes);
	CU_ASSERT(sc.responses >= 600);
	CU_ASSERT(sc.bytes >= 300000);
	CU_ASSERT_EQUAL(sc.hits, 0);
}

void test_privacy_register(void);

void
test_privacy_register(void)
{
	CU_pSuite s = CU_add_suite("privacy", suite_init, suite_clean);

	CU_add_test(s, "load records whose INTERNAL and PERSONAL values are markers", test_load);
	CU_add_test(s, "positive control: staff answers show the markers", test_positive_control);
	CU_add_test(s, "investor GET /v1/records/{id}, every record, both formats", test_records);
	CU_add_test(s, "investor searches, GET and POST, all pages, both formats", test_searches);
	CU_add_test(s, "investor change feed from 0 to the end, both formats", test_changes);
	CU_add_test(s, "investor GeoJSON exports", test_export);
	CU_add_test(s, "investor refusals and errors", test_refusals_and_errors);
	CU_add_test(s, "no marker in any investor answer; the scan was not trivial", test_totals);
}
