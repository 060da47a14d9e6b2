/*
 * test_om: the overview model (daemon/om.c) against a brute-force
 * evaluation of registry.overview() (sql/007_overview_speed.sql) over a
 * plain array of the live records, for random puts, replacements,
 * removals, regions, groupings, days and stale limits; hand-computed edge
 * cases; and a timing of a county-sized overview (printed, not asserted).
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "om.h"

void test_om_register(void);

#define TODAY 20000 /* 2024-10-04 */

static uint64_t rng = 88172645463325252ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
pick(int n)
{
	return (int)(next() % (uint64_t)n);
}

static const enum om_dim dims[] = {OM_NODIM,	 OM_MUNICIPALITY, OM_OBJECT_TYPE,
				   OM_SITE_KIND, OM_STATUS,	  OM_USAGE};

/* ---- the brute force, written plainly ---- */

/* The transfer times the test set, by AGS. */
#define MAXXFER 64
static uint32_t xfer_ags[MAXXFER];
static char xfer_at[MAXXFER][40];
static int xfer_set[MAXXFER];
static size_t nxfer;

static const char *
xfer_of(uint32_t ags)
{
	for (size_t i = 0; i < nxfer; i++)
		if (xfer_ags[i] == ags)
			return xfer_set[i] ? xfer_at[i] : NULL;
	return NULL;
}

static void
xfer_put(uint32_t ags, const char *at)
{
	size_t i;

	for (i = 0; i < nxfer && xfer_ags[i] != ags; i++)
		;
	if (i == nxfer) {
		CU_ASSERT_FATAL(nxfer < MAXXFER);
		xfer_ags[nxfer++] = ags;
	}
	xfer_set[i] = at != NULL;
	if (at != NULL)
		snprintf(xfer_at[i], sizeof(xfer_at[i]), "%s", at);
}

static int
rec_cmp(const void *a, const void *b)
{
	const struct om_rec *x = *(const struct om_rec *const *)a;
	const struct om_rec *y = *(const struct om_rec *const *)b;

	if (x->ags != y->ags)
		return x->ags < y->ags ? -1 : 1;
	return memcmp(x->id, y->id, 16);
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One (record, usage) row of the SQL's base, with its group key. */
struct brow {
	int key[5]; /* ags, object type, site kind, status, usage; 0: not grouped */
	const struct om_rec *r;
};

static int
key_cmp(const void *a, const void *b)
{
	const int *x = a, *y = b;

	for (int i = 0; i < 5; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* percentile_cont as docs/overview.md and PostgreSQL define it. */
static double
brute_percentile(const double *v, size_t n, double p)
{
	double pos = p * (double)(n - 1);
	size_t lo = (size_t)floor(pos), hi = (size_t)ceil(pos);

	if (lo == hi)
		return v[lo];
	return v[lo] + (v[hi] - v[lo]) * (pos - (double)lo);
}

static size_t
brute(const struct om_rec *live, size_t nlive, uint32_t lo, uint32_t hi, enum om_dim g1,
      enum om_dim g2, int32_t today, int stale_days, struct om_row **out)
{
	int by[6] = {0};
	const struct om_rec **sel = malloc((nlive + 1) * sizeof(*sel));
	struct brow *rows = malloc((nlive * 8 + 1) * sizeof(*rows));
	int(*keys)[5] = malloc((nlive * 8 + 1) * sizeof(*keys));
	double *days = malloc((nlive + 1) * sizeof(*days));
	size_t nsel = 0, nrows = 0, nkeys = 0, ngroups = 0;
	struct om_row *res;

	CU_ASSERT_FATAL(sel != NULL && rows != NULL && keys != NULL && days != NULL);
	by[g1] = by[g2] = 1;
	for (size_t i = 0; i < nlive; i++)
		if (live[i].ags >= lo && live[i].ags <= hi)
			sel[nsel++] = &live[i];
	qsort(sel, nsel, sizeof(*sel), rec_cmp);
	for (size_t i = 0; i < nsel; i++) {
		for (int u = 0; u < 8; u++) {
			struct brow *b = &rows[nrows];

			if (by[OM_USAGE] ? !(sel[i]->usage & (1u << u)) || u == 0 : u > 0)
				continue;
			b->key[0] = by[OM_MUNICIPALITY] ? (int)sel[i]->ags : 0;
			b->key[1] = by[OM_OBJECT_TYPE] ? sel[i]->object_type : 0;
			b->key[2] = by[OM_SITE_KIND] ? sel[i]->site_kind : 0;
			b->key[3] = by[OM_STATUS] ? sel[i]->status : 0;
			b->key[4] = by[OM_USAGE] ? u : 0;
			b->r = sel[i];
			memcpy(keys[nkeys++], b->key, sizeof(b->key));
			nrows++;
		}
	}
	qsort(keys, nkeys, sizeof(*keys), key_cmp);
	res = calloc(nkeys + 1, sizeof(*res));
	CU_ASSERT_FATAL(res != NULL);
	for (size_t k = 0; k < nkeys; k++) {
		struct om_row *g = &res[ngroups];
		size_t nd = 0;

		if (k > 0 && key_cmp(keys[k], keys[k - 1]) == 0)
			continue;
		g->ags = (uint32_t)keys[k][0];
		g->object_type = keys[k][1];
		g->site_kind = keys[k][2];
		g->status = keys[k][3];
		g->usage = keys[k][4];
		for (size_t i = 0; i < nrows; i++) {
			const struct om_rec *r = rows[i].r;

			if (key_cmp(rows[i].key, keys[k]) != 0)
				continue;
			g->records++;
			g->published += r->published;
			g->stale += (int64_t)today - r->verified_day > stale_days;
			if (!isnan(r->usable))
				g->usable_area_m2 += r->usable;
			if (!isnan(r->plot))
				g->plot_area_m2 += r->plot;
			if (r->vacancy_start_day != OM_NONE)
				days[nd++] = (double)((int64_t)today - r->vacancy_start_day);
		}
		if (nd > 0) {
			qsort(days, nd, sizeof(*days), dbl_cmp);
			g->has_percentiles = 1;
			g->median_vacancy_days = brute_percentile(days, nd, 0.5);
			g->p90_vacancy_days = brute_percentile(days, nd, 0.9);
		}
		g->last_transfer_at = by[OM_MUNICIPALITY] ? xfer_of(g->ags) : NULL;
		ngroups++;
	}
	free(sel);
	free(rows);
	free(keys);
	free(days);
	*out = res;
	return ngroups;
}

static int
same_text(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * 1 when the rows are equal. Sums must be equal exactly, not only within
 * 1e-9: the brute force adds in (ags, id) order, as the model promises.
 */
static int
same_rows(const struct om_row *a, size_t na, const struct om_row *b, size_t nb)
{
	if (na != nb) {
		printf("\n  %zu rows, want %zu\n", na, nb);
		return 0;
	}
	for (size_t i = 0; i < na; i++) {
		const struct om_row *x = &a[i], *y = &b[i];

		if (x->ags != y->ags || x->object_type != y->object_type ||
		    x->site_kind != y->site_kind || x->status != y->status ||
		    x->usage != y->usage || x->records != y->records ||
		    x->published != y->published || x->stale != y->stale ||
		    x->usable_area_m2 != y->usable_area_m2 || x->plot_area_m2 != y->plot_area_m2 ||
		    x->has_percentiles != y->has_percentiles ||
		    (y->has_percentiles && (x->median_vacancy_days != y->median_vacancy_days ||
					    x->p90_vacancy_days != y->p90_vacancy_days)) ||
		    !same_text(x->last_transfer_at, y->last_transfer_at)) {
			printf(
			    "\n  row %zu: %u/%d/%d/%d/%d %llu %llu %llu %.17g %.17g %d %.17g %.17g "
			    "%s\n  want    %u/%d/%d/%d/%d %llu %llu %llu %.17g %.17g %d %.17g "
			    "%.17g %s\n",
			    i, x->ags, x->object_type, x->site_kind, x->status, x->usage,
			    (unsigned long long)x->records, (unsigned long long)x->published,
			    (unsigned long long)x->stale, x->usable_area_m2, x->plot_area_m2,
			    x->has_percentiles, x->median_vacancy_days, x->p90_vacancy_days,
			    x->last_transfer_at ? x->last_transfer_at : "-", y->ags, y->object_type,
			    y->site_kind, y->status, y->usage, (unsigned long long)y->records,
			    (unsigned long long)y->published, (unsigned long long)y->stale,
			    y->usable_area_m2, y->plot_area_m2, y->has_percentiles,
			    y->median_vacancy_days, y->p90_vacancy_days,
			    y->last_transfer_at ? y->last_transfer_at : "-");
			return 0;
		}
	}
	return 1;
}

/* ---- random records ---- */

static const uint32_t agss[] = {14521010, 14521020, 14521035, 14521999, 14522080, 14522090,
				14612000, 9162000,  9184112,  9184113,	1001000,  16077001};
#define NAGS (sizeof(agss) / sizeof(agss[0]))

static void
random_id(unsigned char id[16])
{
	uint64_t a = next(), b = next();

	memcpy(id, &a, 8);
	memcpy(id + 8, &b, 8);
	if (pick(4) == 0)
		memset(id, 0x42, 6); /* shared prefixes: memcmp looks further */
}

static double
random_area(void)
{
	/* not integers, of different sizes: the order of a sum shows */
	return pick(4) == 0 ? NAN : (pick(2) ? pick(1000000) / 7.0 : pick(1000) / 3.0);
}

static void
random_rec(struct om_rec *r, const unsigned char id[16], uint32_t ags)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->id, id, 16);
	r->ags = ags;
	r->object_type = (uint8_t)(1 + pick(12));
	r->site_kind = (uint8_t)(1 + pick(4));
	r->status = (uint8_t)(1 + pick(7));
	do
		r->usage = (uint8_t)((1u << (1 + pick(5))) | (pick(3) ? 0 : 1u << (1 + pick(5))));
	while (r->usage == 0);
	r->published = (uint8_t)pick(2);
	r->usable = random_area();
	r->plot = random_area();
	r->verified_day = TODAY - pick(800);
	/* few distinct starts: ties; a few in the future: negative days */
	r->vacancy_start_day = pick(10) < 3    ? OM_NONE
			       : pick(20) == 0 ? TODAY + pick(3)
					       : TODAY - pick(60) * 7;
}

/* The region of a random AGS prefix of 2 to 8 digits. */
static void
random_region(uint32_t *lo, uint32_t *hi)
{
	uint32_t ags = pick(8) ? agss[pick(NAGS)] : (uint32_t)pick(100000000);
	int len = 2 + pick(7);
	uint32_t scale = 1;

	for (int i = len; i < 8; i++)
		scale *= 10;
	*lo = ags / scale * scale;
	*hi = *lo + scale - 1;
}

/* The live records, for the brute force. */
struct pool {
	struct om_rec *live;
	size_t n;
};

static long
pool_find(const struct pool *p, const unsigned char id[16])
{
	for (size_t i = 0; i < p->n; i++)
		if (memcmp(p->live[i].id, id, 16) == 0)
			return (long)i;
	return -1;
}

static void
pool_put(struct pool *p, const struct om_rec *r)
{
	long i = pool_find(p, r->id);

	p->live[i < 0 ? (long)p->n++ : i] = *r;
}

static void
pool_remove(struct pool *p, const unsigned char id[16])
{
	long i = pool_find(p, id);

	if (i >= 0)
		p->live[i] = p->live[--p->n];
}

/* Compares every grouping of nregions random regions; returns mismatches. */
static int
check_queries(const struct om *m, const struct pool *p, int nregions, int *queries)
{
	int bad = 0;

	for (int q = 0; q < nregions; q++) {
		uint32_t lo, hi;
		int32_t today = TODAY + pick(3) - 1;
		int stale = 300 + pick(200);

		random_region(&lo, &hi);
		if (q == 0) {
			lo = 0; /* everything */
			hi = 99999999;
		}
		for (size_t a = 0; a < 6; a++) {
			for (size_t b = 0; b < 6; b++) {
				struct om_row *got, *want;
				size_t ngot, nwant;

				CU_ASSERT_EQUAL_FATAL(om_overview(m, lo, hi, dims[a], dims[b],
								  today, stale, &got, &ngot),
						      0);
				nwant = brute(p->live, p->n, lo, hi, dims[a], dims[b], today, stale,
					      &want);
				if (!same_rows(got, ngot, want, nwant)) {
					printf("  region [%u, %u] by %d,%d today %d stale %d\n", lo,
					       hi, (int)dims[a], (int)dims[b], today, stale);
					bad++;
				}
				CU_ASSERT_EQUAL(got == NULL, ngot == 0);
				free(got);
				free(want);
				(*queries)++;
			}
		}
	}
	return bad;
}

#define NIDS 700
#define NOPS 4000

static void
t_model_vs_brute_force(void)
{
	static unsigned char ids[NIDS][16];
	struct pool p = {calloc(NIDS, sizeof(struct om_rec)), 0};
	struct om *m = om_new();
	int bad = 0, queries = 0, moves = 0, removals = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p.live);
	nxfer = 0;
	for (int i = 0; i < NIDS; i++)
		random_id(ids[i]);
	for (int op = 1; op <= NOPS; op++) {
		int k = pick(NIDS), what = pick(10);

		if (what < 7) {
			struct om_rec r;
			long old = pool_find(&p, ids[k]);
			/* mostly the same municipality again when replacing */
			uint32_t ags = old >= 0 && pick(3) ? p.live[old].ags : agss[pick(NAGS)];

			moves += old >= 0 && ags != p.live[old].ags;
			random_rec(&r, ids[k], ags);
			CU_ASSERT_EQUAL_FATAL(om_put(m, &r), 0);
			pool_put(&p, &r);
		} else if (what < 9) {
			removals += pool_find(&p, ids[k]) >= 0;
			om_remove(m, ids[k]);
			pool_remove(&p, ids[k]);
		} else {
			char at[40];
			uint32_t ags = agss[pick(NAGS)];
			const char *v = pick(5) ? at : NULL;

			snprintf(at, sizeof(at), "2024-%02d-%02dT10:00:00Z", 1 + pick(12),
				 1 + pick(28));
			CU_ASSERT_EQUAL_FATAL(om_set_transfer(m, ags, v), 0);
			xfer_put(ags, v);
		}
		CU_ASSERT_EQUAL_FATAL(om_count(m), p.n);
		if (op % 250 == 0)
			bad += check_queries(m, &p, 6, &queries);
	}
	/* empty it again: every bucket loses its last record */
	for (int i = 0; i < NIDS; i++) {
		om_remove(m, ids[i]);
		pool_remove(&p, ids[i]);
	}
	CU_ASSERT_EQUAL(om_count(m), 0);
	bad += check_queries(m, &p, 3, &queries);
	printf("\n  %d overviews compared, %d moves, %d removals ", queries, moves, removals);
	CU_ASSERT(queries > 500 && moves > 100 && removals > 300);
	CU_ASSERT_EQUAL(bad, 0);
	om_free(m);
	free(p.live);
}

/* Large buckets filled in random order: merges of long runs, compaction. */
static void
t_large_buckets(void)
{
	enum { N = 30000 };
	static unsigned char ids[N][16];
	struct pool p = {calloc(N, sizeof(struct om_rec)), 0};
	struct om *m = om_new();
	int bad = 0, queries = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p.live);
	nxfer = 0;
	for (int i = 0; i < N; i++) {
		struct om_rec r;

		random_id(ids[i]);
		random_rec(&r, ids[i], agss[pick(3)]);
		CU_ASSERT_EQUAL_FATAL(om_put(m, &r), 0);
		pool_put(&p, &r);
	}
	bad += check_queries(m, &p, 2, &queries);
	/* remove two thirds, put some of them back elsewhere */
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0)
			continue;
		om_remove(m, ids[i]);
		pool_remove(&p, ids[i]);
		if (i % 7 == 0) {
			struct om_rec r;

			random_rec(&r, ids[i], agss[pick(3)]);
			CU_ASSERT_EQUAL_FATAL(om_put(m, &r), 0);
			pool_put(&p, &r);
		}
	}
	CU_ASSERT_EQUAL(om_count(m), p.n);
	bad += check_queries(m, &p, 2, &queries);
	CU_ASSERT_EQUAL(bad, 0);
	om_free(m);
	free(p.live);
}

/* The same records, fed in different orders and histories: the same rows,
 * to the bit. */
static void
t_order_independent(void)
{
	enum { N = 5000 };
	static struct om_rec recs[N];
	static unsigned char strangers[N][16];
	struct om *a = om_new(), *b = om_new();
	int bad = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (int i = 0; i < N; i++) {
		unsigned char id[16];

		random_id(id);
		random_rec(&recs[i], id, agss[pick(4)]);
		CU_ASSERT_EQUAL_FATAL(om_put(a, &recs[i]), 0);
	}
	/* b: backwards, each first put elsewhere with other values, between
	 * strangers that come and go */
	for (int i = N; i-- > 0;) {
		struct om_rec r;

		random_rec(&r, recs[i].id, agss[pick(NAGS)]);
		CU_ASSERT_EQUAL_FATAL(om_put(b, &r), 0);
		random_id(strangers[i]);
		random_rec(&r, strangers[i], recs[i].ags);
		CU_ASSERT_EQUAL_FATAL(om_put(b, &r), 0);
		if (i % 2)
			om_remove(b, strangers[i]);
	}
	for (int i = 0; i < N; i++)
		CU_ASSERT_EQUAL_FATAL(om_put(b, &recs[i]), 0);
	CU_ASSERT_EQUAL(om_count(b), N + N / 2);
	for (int i = 0; i < N; i += 2)
		om_remove(b, strangers[i]);
	CU_ASSERT_EQUAL(om_count(b), N);
	for (size_t g1 = 0; g1 < 6; g1++) {
		for (size_t g2 = 0; g2 < 6; g2++) {
			struct om_row *ra, *rb;
			size_t na, nb;

			CU_ASSERT_EQUAL_FATAL(
			    om_overview(a, 0, 99999999, dims[g1], dims[g2], TODAY, 365, &ra, &na),
			    0);
			CU_ASSERT_EQUAL_FATAL(
			    om_overview(b, 0, 99999999, dims[g1], dims[g2], TODAY, 365, &rb, &nb),
			    0);
			bad += !same_rows(rb, nb, ra, na);
			free(ra);
			free(rb);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	om_free(a);
	om_free(b);
}

/* ---- hand-computed cases ---- */

static struct om_rec
rec(int id, uint32_t ags, int object_type, int usage, int vacant_days)
{
	struct om_rec r;

	memset(&r, 0, sizeof(r));
	r.id[0] = (unsigned char)(id >> 8);
	r.id[1] = (unsigned char)id;
	r.ags = ags;
	r.object_type = (uint8_t)object_type;
	r.site_kind = 1;
	r.status = 1;
	r.usage = (uint8_t)usage;
	r.usable = NAN;
	r.plot = NAN;
	r.verified_day = TODAY;
	r.vacancy_start_day = vacant_days < 0 ? OM_NONE : TODAY - vacant_days;
	return r;
}

static void
put(struct om *m, struct om_rec r)
{
	CU_ASSERT_EQUAL_FATAL(om_put(m, &r), 0);
}

/* om_overview with the usual today and stale limit; the row count. */
static size_t
overview(const struct om *m, uint32_t lo, uint32_t hi, enum om_dim g1, enum om_dim g2,
	 struct om_row **rows)
{
	size_t n;

	CU_ASSERT_EQUAL_FATAL(om_overview(m, lo, hi, g1, g2, TODAY, 365, rows, &n), 0);
	return n;
}

static void
t_empty(void)
{
	struct om *m = om_new();
	struct om_row *rows;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(overview(m, 0, 99999999, OM_MUNICIPALITY, OM_USAGE, &rows), 0);
	CU_ASSERT_PTR_NULL(rows);
	put(m, rec(1, 14521010, 1, 2, 5));
	CU_ASSERT_EQUAL(overview(m, 9000000, 9999999, OM_MUNICIPALITY, OM_NODIM, &rows), 0);
	CU_ASSERT_EQUAL(overview(m, 14521011, 14521019, OM_STATUS, OM_NODIM, &rows), 0);
	CU_ASSERT_EQUAL(overview(m, 14521010, 14521010, OM_STATUS, OM_NODIM, &rows), 1);
	free(rows);
	/* no grouping at all: one row of everything */
	CU_ASSERT_EQUAL_FATAL(overview(m, 14000000, 14999999, OM_NODIM, OM_NODIM, &rows), 1);
	CU_ASSERT(rows[0].ags == 0 && rows[0].status == 0 && rows[0].records == 1);
	free(rows);
	CU_ASSERT_EQUAL(
	    om_overview(m, 0, 99999999, (enum om_dim)6, OM_NODIM, TODAY, 365, &rows, &(size_t){0}),
	    -1);
	om_free(m);
}

static void
t_percentiles(void)
{
	struct om *m = om_new();
	struct om_row *rows;
	static const int d4[] = {10, 2, 4, 1, 3};

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	put(m, rec(1, 14521010, 1, 2, -1)); /* type 1: never vacant */
	put(m, rec(2, 14521010, 1, 2, -1));
	put(m, rec(3, 14521010, 2, 2, 40)); /* type 2: one value */
	put(m, rec(4, 14521010, 3, 2, 20)); /* type 3: two values */
	put(m, rec(5, 14521010, 3, 2, 10));
	put(m, rec(6, 14521010, 3, 2, -1));
	for (int i = 0; i < 5; i++) /* type 4: 1 2 3 4 10 */
		put(m, rec(10 + i, 14521010, 4, 2, d4[i]));
	put(m, rec(20, 14521010, 5, 2, 3)); /* type 5: 3 3, twice the same */
	put(m, rec(21, 14521010, 5, 2, 3));
	put(m, rec(22, 14521010, 6, 2, 0)); /* type 6: -2 0 (a start in the future) */
	put(m, rec(23, 14521010, 6, 2, 0));
	put(m, rec(24, 14521010, 6, 2, 0));
	{
		struct om_rec r = rec(22, 14521010, 6, 2, 0);

		r.vacancy_start_day = TODAY + 2;
		put(m, r);
	}
	CU_ASSERT_EQUAL_FATAL(overview(m, 14521010, 14521010, OM_OBJECT_TYPE, OM_NODIM, &rows), 6);
	CU_ASSERT(rows[0].object_type == 1 && rows[0].records == 2 && !rows[0].has_percentiles);
	CU_ASSERT(rows[1].has_percentiles && rows[1].median_vacancy_days == 40 &&
		  rows[1].p90_vacancy_days == 40);
	CU_ASSERT(rows[2].records == 3 && rows[2].has_percentiles);
	CU_ASSERT_EQUAL(rows[2].median_vacancy_days, 15);
	CU_ASSERT_EQUAL(rows[2].p90_vacancy_days, 19); /* 10 + 10 * 0.9 */
	CU_ASSERT_EQUAL(rows[3].median_vacancy_days, 3);
	/* pos 3.6: 4 + 6 * (0.9 * 4 - 3), which is not quite 7.6 in doubles */
	CU_ASSERT_EQUAL(rows[3].p90_vacancy_days, 4.0 + 6.0 * (0.9 * 4.0 - 3.0));
	CU_ASSERT(fabs(rows[3].p90_vacancy_days - 7.6) < 1e-12);
	CU_ASSERT(rows[4].median_vacancy_days == 3 && rows[4].p90_vacancy_days == 3);
	CU_ASSERT_EQUAL(rows[5].median_vacancy_days, 0);
	CU_ASSERT_EQUAL(rows[5].p90_vacancy_days, 0);
	free(rows);
	/* all in one: 16 records, 13 durations -2 0 0 1 2 3 3 3 4 10 10 20 40:
	 * the median at 6, p90 at 10.8 */
	CU_ASSERT_EQUAL_FATAL(overview(m, 14521010, 14521010, OM_NODIM, OM_NODIM, &rows), 1);
	CU_ASSERT_EQUAL(rows[0].records, 16);
	CU_ASSERT_EQUAL(rows[0].median_vacancy_days, 3);
	CU_ASSERT_EQUAL(rows[0].p90_vacancy_days, 10.0 + 10.0 * (0.9 * 12.0 - 10.0));
	free(rows);
	om_free(m);
}

static void
t_usage_and_areas(void)
{
	struct om *m = om_new();
	struct om_row *rows;
	struct om_rec a = rec(1, 14521010, 1, (1 << 1) | (1 << 3), 10),
		      b = rec(2, 14521010, 1, 1 << 3, 20), c = rec(3, 14521010, 1, 1 << 5, -1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	a.usable = 100.5;
	a.published = 1;
	b.plot = 50.25;
	c.usable = 7;
	c.plot = 3;
	put(m, a);
	put(m, b);
	put(m, c);
	CU_ASSERT_EQUAL_FATAL(overview(m, 14521000, 14521999, OM_USAGE, OM_NODIM, &rows), 3);
	CU_ASSERT(rows[0].usage == 1 && rows[0].records == 1 && rows[0].published == 1);
	CU_ASSERT(rows[0].usable_area_m2 == 100.5 && rows[0].plot_area_m2 == 0);
	CU_ASSERT(rows[0].median_vacancy_days == 10);
	CU_ASSERT(rows[1].usage == 3 && rows[1].records == 2 && rows[1].published == 1);
	CU_ASSERT(rows[1].usable_area_m2 == 100.5 && rows[1].plot_area_m2 == 50.25);
	CU_ASSERT(rows[1].median_vacancy_days == 15 && rows[1].p90_vacancy_days == 19);
	CU_ASSERT(rows[2].usage == 5 && rows[2].records == 1 && !rows[2].has_percentiles);
	CU_ASSERT(rows[2].usable_area_m2 == 7 && rows[2].plot_area_m2 == 3);
	CU_ASSERT(rows[0].ags == 0 && rows[0].object_type == 0 && rows[0].status == 0);
	free(rows);
	/* not grouped by usage: each record once */
	CU_ASSERT_EQUAL_FATAL(overview(m, 14521000, 14521999, OM_OBJECT_TYPE, OM_NODIM, &rows), 1);
	CU_ASSERT(rows[0].records == 3 && rows[0].usable_area_m2 == 107.5 &&
		  rows[0].plot_area_m2 == 53.25 && rows[0].usage == 0);
	free(rows);
	/* grouped by usage and municipality: rows by ags, then usage */
	put(m, rec(4, 14521005, 1, 1 << 3, -1));
	CU_ASSERT_EQUAL_FATAL(overview(m, 14521000, 14521999, OM_USAGE, OM_MUNICIPALITY, &rows), 4);
	CU_ASSERT(rows[0].ags == 14521005 && rows[0].usage == 3);
	CU_ASSERT(rows[1].ags == 14521010 && rows[1].usage == 1);
	CU_ASSERT(rows[3].ags == 14521010 && rows[3].usage == 5);
	free(rows);
	om_free(m);
}

static void
t_stale_boundary(void)
{
	struct om *m = om_new();
	struct om_row *rows;
	struct om_rec r;
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	r = rec(1, 14521010, 1, 2, -1);
	r.verified_day = TODAY - 365; /* exactly stale_days: not stale */
	put(m, r);
	r = rec(2, 14521010, 1, 2, -1);
	r.verified_day = TODAY - 366;
	put(m, r);
	r = rec(3, 14521010, 1, 2, -1);
	put(m, r);
	CU_ASSERT_EQUAL_FATAL(overview(m, 14521010, 14521010, OM_MUNICIPALITY, OM_NODIM, &rows), 1);
	CU_ASSERT(rows[0].records == 3 && rows[0].stale == 1);
	free(rows);
	CU_ASSERT_EQUAL_FATAL(om_overview(m, 14521010, 14521010, OM_MUNICIPALITY, OM_NODIM,
					  TODAY + 1, 365, &rows, &n),
			      0);
	CU_ASSERT(n == 1 && rows[0].stale == 2);
	free(rows);
	om_free(m);
}

static void
t_move_and_remove(void)
{
	struct om *m = om_new();
	struct om_row *rows;
	struct om_rec x = rec(1, 14521010, 1, 2, 5);
	size_t before;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(om_set_transfer(m, 14521010, "2024-05-06T07:08:09Z"), 0);
	put(m, x);
	put(m, rec(2, 14521020, 2, 2, -1));
	before = om_bytes(m);
	CU_ASSERT_EQUAL_FATAL(
	    overview(m, 14521000, 14521999, OM_MUNICIPALITY, OM_OBJECT_TYPE, &rows), 2);
	CU_ASSERT(rows[0].ags == 14521010 && rows[0].object_type == 1 && rows[0].records == 1);
	CU_ASSERT(rows[0].last_transfer_at != NULL &&
		  strcmp(rows[0].last_transfer_at, "2024-05-06T07:08:09Z") == 0);
	CU_ASSERT_PTR_NULL(rows[1].last_transfer_at);
	free(rows);
	/* the same record moves to the other municipality and type */
	x.ags = 14521020;
	x.object_type = 3;
	put(m, x);
	CU_ASSERT_EQUAL(om_count(m), 2);
	CU_ASSERT_EQUAL_FATAL(
	    overview(m, 14521000, 14521999, OM_MUNICIPALITY, OM_OBJECT_TYPE, &rows), 2);
	CU_ASSERT(rows[0].ags == 14521020 && rows[0].object_type == 2 && rows[0].records == 1);
	CU_ASSERT(rows[1].ags == 14521020 && rows[1].object_type == 3 && rows[1].records == 1);
	CU_ASSERT(rows[1].has_percentiles && rows[1].median_vacancy_days == 5);
	free(rows);
	CU_ASSERT(om_bytes(m) < before); /* the emptied bucket gave back its slots */
	/* grouped otherwise: no transfer time */
	CU_ASSERT_EQUAL_FATAL(overview(m, 14521000, 14521999, OM_OBJECT_TYPE, OM_NODIM, &rows), 2);
	CU_ASSERT_PTR_NULL(rows[0].last_transfer_at);
	free(rows);
	/* and back; then the last record of a bucket goes */
	x.ags = 14521010;
	put(m, x);
	om_remove(m, x.id);
	om_remove(m, x.id); /* absent: nothing */
	CU_ASSERT_EQUAL(om_count(m), 1);
	CU_ASSERT_EQUAL(overview(m, 14521010, 14521010, OM_MUNICIPALITY, OM_NODIM, &rows), 0);
	CU_ASSERT_EQUAL_FATAL(overview(m, 14521000, 14521999, OM_MUNICIPALITY, OM_NODIM, &rows), 1);
	CU_ASSERT(rows[0].ags == 14521020 && rows[0].records == 1);
	free(rows);
	/* put again after removal, and the transfer time replaced and cleared */
	put(m, x);
	CU_ASSERT_EQUAL(om_set_transfer(m, 14521010, "2024-06-01T00:00:00+02:00"), 0);
	CU_ASSERT_EQUAL_FATAL(overview(m, 14521010, 14521010, OM_MUNICIPALITY, OM_NODIM, &rows), 1);
	CU_ASSERT(rows[0].records == 1 && rows[0].last_transfer_at != NULL &&
		  strcmp(rows[0].last_transfer_at, "2024-06-01T00:00:00+02:00") == 0);
	free(rows);
	CU_ASSERT_EQUAL(om_set_transfer(m, 14521010, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(overview(m, 14521010, 14521010, OM_MUNICIPALITY, OM_NODIM, &rows), 1);
	CU_ASSERT_PTR_NULL(rows[0].last_transfer_at);
	free(rows);
	/* an AGS beyond 8 digits is refused */
	x.ags = 100000000;
	CU_ASSERT_EQUAL(om_put(m, &x), -1);
	CU_ASSERT_EQUAL(om_count(m), 2);
	om_free(m);
}

/* ---- speed and memory (printed; speed is never asserted) ---- */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
ms_cmp(const void *a, const void *b)
{
	return dbl_cmp(a, b);
}

static void
t_timing(void)
{
	enum { N = 100000, NMUN = 60, RUNS = 11 };
	static const enum om_dim groupings[][2] = {{OM_MUNICIPALITY, OM_NODIM},
						   {OM_MUNICIPALITY, OM_USAGE},
						   {OM_OBJECT_TYPE, OM_STATUS},
						   {OM_MUNICIPALITY, OM_OBJECT_TYPE}};
	struct om *m = om_new();
	double t0, per;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	t0 = now_ms();
	for (int i = 0; i < N; i++) {
		struct om_rec r;
		unsigned char id[16];

		random_id(id);
		/* municipalities of very different sizes */
		random_rec(&r, id, 14521000 + (uint32_t)(pick(NMUN) * pick(NMUN) / NMUN) * 5);
		CU_ASSERT_EQUAL_FATAL(om_put(m, &r), 0);
	}
	per = (double)om_bytes(m) / N;
	printf("\n  %d records put in %.0f ms, %.1f bytes each with the index", N, now_ms() - t0,
	       per);
	CU_ASSERT(per < 80);
	for (size_t g = 0; g < sizeof(groupings) / sizeof(groupings[0]); g++) {
		double ms[RUNS];
		size_t n = 0;

		for (int i = 0; i < RUNS; i++) {
			struct om_row *rows;

			t0 = now_ms();
			CU_ASSERT_EQUAL_FATAL(om_overview(m, 14521000, 14521999, groupings[g][0],
							  groupings[g][1], TODAY, 365, &rows, &n),
					      0);
			ms[i] = now_ms() - t0;
			free(rows);
		}
		qsort(ms, RUNS, sizeof(ms[0]), ms_cmp);
		printf("\n  overview by %d,%d: %zu rows, median %.2f ms", (int)groupings[g][0],
		       (int)groupings[g][1], n, ms[RUNS / 2]);
	}
	printf("\n");
	om_free(m);
}

void
test_om_register(void)
{
	CU_pSuite s = CU_add_suite("om", NULL, NULL);

	CU_add_test(s, "overview model = brute force", t_model_vs_brute_force);
	CU_add_test(s, "large buckets in random order", t_large_buckets);
	CU_add_test(s, "same records, any history: same bits", t_order_independent);
	CU_add_test(s, "empty regions", t_empty);
	CU_add_test(s, "percentiles", t_percentiles);
	CU_add_test(s, "usages and areas", t_usage_and_areas);
	CU_add_test(s, "stale boundary", t_stale_boundary);
	CU_add_test(s, "moves and removals", t_move_and_remove);
	CU_add_test(s, "timing of a county's overview", t_timing);
}
