/*
 * test_rm: the investor read model (daemon/rm.c) against a brute-force
 * evaluation of docs/search.md over every version it was given, for random
 * changes, searches, positions and page walks.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "rm.h"

void test_rm_register(void);

#define NREC  400
#define NSTEP 1500

/* Every version ever applied, for the brute force. */
struct ver {
	struct rm_keys k;
	int64_t from, to;
};

static struct ver vers[NREC + NSTEP];
static size_t nvers;
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

static void
random_keys(struct rm_keys *k, int id, int64_t now)
{
	memset(k, 0, sizeof(*k));
	k->id[0] = (unsigned char)(id >> 8);
	k->id[1] = (unsigned char)id;
	k->id[15] = (unsigned char)pick(256);
	/* few distinct values: ties everywhere */
	k->updated_us = now - pick(5) * 1000000;
	k->ags = 14521000 + (uint32_t)pick(40);
	k->ars = pick(4) ? 145210000000ULL + (uint64_t)pick(1000) : 0;
	k->usable = pick(5) ? 50.0 * pick(8) : NAN;
	k->plot = pick(3) ? 100.0 * pick(6) : NAN;
	k->price = pick(4) ? 1000 * (int64_t)pick(10) : -1;
	k->rent = pick(4) ? 500 * (int64_t)pick(6) : -1;
	k->lat = 50.3 + pick(4000) / 10000.0;
	k->lon = 12.5 + pick(8000) / 10000.0;
	k->site_kind = (uint8_t)(1 + pick(4));
	k->object_type = (uint8_t)(1 + pick(12));
	k->status = (uint8_t)(pick(2) ? VACANCY__V1__STATUS__VALUE__MARKETED
				      : VACANCY__V1__STATUS__VALUE__RESERVED);
	k->usage = (uint8_t)(1u << (1 + pick(5)));
	k->marketing = (uint8_t)((1u << (1 + pick(4))) | (pick(2) ? 1u << (1 + pick(4)) : 0));
}

/* The model's order, written out plainly. */
static int
before(int sort, const struct rm_keys *a, const struct rm_keys *b)
{
	if (sort == VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC) {
		if (a->updated_us != b->updated_us)
			return a->updated_us > b->updated_us;
	} else if (sort == VACANCY__V1__SEARCH_SORT__VALUE__PRICE_ASC) {
		if ((a->price < 0) != (b->price < 0))
			return b->price < 0;
		if (a->price >= 0 && a->price != b->price)
			return a->price < b->price;
	} else {
		if (isnan(a->usable) != isnan(b->usable))
			return isnan(b->usable);
		if (!isnan(a->usable) && a->usable != b->usable)
			return sort == VACANCY__V1__SEARCH_SORT__VALUE__AREA_ASC
				   ? a->usable < b->usable
				   : a->usable > b->usable;
	}
	return memcmp(a->id, b->id, 16) < 0;
}

static int sort_for_qsort;

static int
ver_cmp(const void *a, const void *b)
{
	const struct rm_keys *x = &(*(const struct ver *const *)a)->k;
	const struct rm_keys *y = &(*(const struct ver *const *)b)->k;

	return before(sort_for_qsort, x, y) ? -1 : before(sort_for_qsort, y, x) ? 1 : 0;
}

/* The filter of the test's searches (a subset: region, bbox, enums, areas,
 * prices), as plain conditions. */
struct want {
	int ags_lo, ags_hi;
	double bbox[4];
	int has_bbox;
	int object_type, status, usage;
	double min_usable;
	int64_t max_price;
};

static int
wanted(const struct want *w, const struct rm_keys *k)
{
	if (w->ags_lo && ((int)k->ags < w->ags_lo || (int)k->ags > w->ags_hi))
		return 0;
	if (w->has_bbox && (k->lat < w->bbox[0] || k->lat > w->bbox[2] || k->lon < w->bbox[1] ||
			    k->lon > w->bbox[3]))
		return 0;
	if (w->object_type && k->object_type != w->object_type)
		return 0;
	if (w->status && k->status != w->status)
		return 0;
	if (w->usage && !(k->usage & (1u << w->usage)))
		return 0;
	if (w->min_usable >= 0 && !(k->usable >= w->min_usable))
		return 0;
	if (w->max_price >= 0 && (k->price < 0 || k->price > w->max_price))
		return 0;
	return 1;
}

static void
random_search(char *qs, size_t len, struct want *w)
{
	static const char *const sorts[] = {"UPDATED_DESC", "AREA_DESC", "AREA_ASC", "PRICE_ASC"};
	static const char *const types[] = {"", "OFFICE_PRACTICE", "RETAIL", "HOSPITALITY"};
	int s = pick(4);

	memset(w, 0, sizeof(*w));
	w->min_usable = -1;
	w->max_price = -1;
	snprintf(qs, len, "sort=%s", sorts[s]);
	if (pick(3) == 0) {
		int g = pick(40);

		w->ags_lo = w->ags_hi = 14521000 + g;
		snprintf(qs + strlen(qs), len - strlen(qs), "&region=%d", w->ags_lo);
	}
	if (pick(2) == 0) {
		w->has_bbox = 1;
		w->bbox[0] = 50.3 + pick(2000) / 10000.0;
		w->bbox[1] = 12.5 + pick(4000) / 10000.0;
		w->bbox[2] = w->bbox[0] + pick(2500) / 10000.0;
		w->bbox[3] = w->bbox[1] + pick(5000) / 10000.0;
		snprintf(qs + strlen(qs), len - strlen(qs), "&bbox=%.4f,%.4f,%.4f,%.4f", w->bbox[0],
			 w->bbox[1], w->bbox[2], w->bbox[3]);
	}
	if (pick(3) == 0) {
		w->object_type = 1 + pick(3);
		snprintf(qs + strlen(qs), len - strlen(qs), "&object_type=%s",
			 types[w->object_type]);
	}
	if (pick(3) == 0) {
		w->status = VACANCY__V1__STATUS__VALUE__RESERVED;
		snprintf(qs + strlen(qs), len - strlen(qs), "&status=RESERVED");
	}
	if (pick(4) == 0) {
		w->usage = VACANCY__V1__USAGE__VALUE__COMMERCIAL;
		snprintf(qs + strlen(qs), len - strlen(qs), "&usage=COMMERCIAL");
	}
	if (pick(3) == 0) {
		w->min_usable = 50.0 * pick(6);
		snprintf(qs + strlen(qs), len - strlen(qs), "&min_usable_area_m2=%g",
			 w->min_usable);
	}
	if (pick(4) == 0) {
		w->max_price = 1000 * (int64_t)pick(10);
		snprintf(qs + strlen(qs), len - strlen(qs), "&max_purchase_price_eur=%lld",
			 (long long)w->max_price / 100);
		w->max_price = (w->max_price / 100) * 100;
	}
	snprintf(qs + strlen(qs), len - strlen(qs), "&page_size=%d", 1 + pick(30));
}

static void
t_model_vs_brute_force(void)
{
	static const unsigned char key[SEARCHQ_KEY_LEN] = "rm";
	struct searchq_limits lim = {500, 100000, 3600};
	struct searchq_caller who = {ROLE_INVESTOR, "", 1, key, 1800000000};
	struct rm *m = rm_new();
	int64_t seq = 0, now = 1790000000000000LL;
	int current[NREC];
	int mismatches = 0, searches = 0, rows = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	memset(current, -1, sizeof(current));
	for (int step = 0; step < NREC + NSTEP; step++) {
		int id = step < NREC ? step : pick(NREC);
		unsigned char rid[16] = {0};
		struct rm_keys k;

		seq++;
		now += 1000000;
		rid[0] = (unsigned char)(id >> 8);
		rid[1] = (unsigned char)id;
		if (current[id] >= 0)
			vers[current[id]].to = seq;
		if (step >= NREC && pick(5) == 0) {
			/* no longer published */
			CU_ASSERT_EQUAL(rm_apply(m, seq, rid, NULL, NULL, 0), 0);
			current[id] = -1;
		} else {
			random_keys(&k, id, now);
			memcpy(k.id, rid, 16);
			CU_ASSERT_EQUAL(rm_apply(m, seq, rid, &k, (const unsigned char *)"x", 1),
					0);
			vers[nvers] = (struct ver){k, seq, RM_FOREVER};
			current[id] = (int)nvers++;
		}
		if (step < NREC || step % 50 != 0)
			continue;
		/* searches at random positions of the last 200 changes */
		for (int s = 0; s < 8; s++) {
			char qs[512];
			struct want w;
			Vacancy__V1__SearchRequest *req;
			struct searchq q;
			struct searchq_err err;
			int64_t asof = seq - pick(200);
			const struct rm_entry *got[64];
			struct ver *all[NREC + NSTEP];
			size_t nall = 0;
			int n, pos = 0;

			if (asof < rm_oldest(m))
				asof = seq;
			random_search(qs, sizeof(qs), &w);
			req = searchq_parse(qs, 0, &codec_heap, &err);
			CU_ASSERT_PTR_NOT_NULL_FATAL(req);
			CU_ASSERT_EQUAL_FATAL(
			    searchq_check(req, &lim, &who, SEARCHQ_INVESTOR, &q, &err), 0);
			protobuf_c_message_free_unpacked(&req->base, &codec_heap);
			CU_ASSERT(rm_supports(m, &q));
			for (size_t v = 0; v < nvers; v++)
				if (vers[v].from <= asof && asof < vers[v].to &&
				    wanted(&w, &vers[v].k))
					all[nall++] = &vers[v];
			sort_for_qsort = q.sort;
			qsort(all, nall, sizeof(*all), ver_cmp);
			/* walk up to three pages */
			for (int page = 0; page < 3; page++) {
				char kb[64];
				const char *kt;
				char idtext[37];

				n = rm_search(m, &q, asof, got, q.page_size + 1);
				CU_ASSERT(n >= 0);
				for (int i = 0; i < n && i < (int)q.page_size; i++, pos++) {
					rows++;
					if ((size_t)pos >= nall ||
					    memcmp(got[i]->k.id, all[pos]->k.id, 16) != 0 ||
					    got[i]->valid_from != all[pos]->from) {
						if (mismatches++ < 3)
							fprintf(stderr,
								"rm: %s at %lld page %d row %d\n",
								qs, (long long)asof, page, i);
						break;
					}
				}
				/* more follow exactly when the brute force has more */
				CU_ASSERT_EQUAL(n > (int)q.page_size, nall > (size_t)pos);
				if ((size_t)n <= q.page_size)
					break;
				kt = rm_key_text(got[q.page_size - 1], q.sort, kb, sizeof(kb));
				snprintf(idtext, sizeof(idtext),
					 "%02x%02x0000-0000-0000-0000-0000000000%02x",
					 got[q.page_size - 1]->k.id[0],
					 got[q.page_size - 1]->k.id[1],
					 got[q.page_size - 1]->k.id[15]);
				CU_ASSERT_EQUAL_FATAL(searchq_advance(&q, "0", kt, idtext), 0);
				q.asof = asof;
			}
			searches++;
		}
		/* keep the last 200 positions */
		rm_prune(m, seq - 200);
	}
	fprintf(stderr,
		"rm: %d searches, %d rows compared, %d mismatches, %zu records, %zu "
		"versions, %zu bytes\n",
		searches, rows, mismatches, rm_count(m), rm_versions(m), rm_bytes(m));
	CU_ASSERT(searches > 100 && rows > 1000);
	CU_ASSERT_EQUAL(mismatches, 0);
	/* only the current versions have content, and rm_get finds them */
	for (int id = 0; id < NREC; id++) {
		unsigned char rid[16] = {0};
		const struct rm_entry *e;

		rid[0] = (unsigned char)(id >> 8);
		rid[1] = (unsigned char)id;
		e = rm_get(m, rid);
		CU_ASSERT_EQUAL(e != NULL, current[id] >= 0);
		if (e != NULL)
			CU_ASSERT(e->pb != NULL && e->valid_to == RM_FOREVER);
	}
	rm_free(m);
}

static void
t_supports(void)
{
	static const unsigned char key[SEARCHQ_KEY_LEN] = "rm";
	struct searchq_limits lim = {500, 100000, 3600};
	struct searchq_caller who = {ROLE_INVESTOR, "", 1, key, 1800000000};
	const char *const no[] = {"text=Laden", "near=50,13,100",
				  "near=50,13,100&sort=DISTANCE_ASC"};
	struct rm *m = rm_new();
	struct searchq q;
	struct searchq_err err;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	for (size_t i = 0; i < 3; i++) {
		Vacancy__V1__SearchRequest *req = searchq_parse(no[i], 0, &codec_heap, &err);

		CU_ASSERT_EQUAL_FATAL(searchq_check(req, &lim, &who, SEARCHQ_INVESTOR, &q, &err),
				      0);
		CU_ASSERT(!rm_supports(m, &q));
		protobuf_c_message_free_unpacked(&req->base, &codec_heap);
	}
	/* a position the model does not hold exactly */
	rm_advance(m, 100);
	rm_mark_exact(m, 40, 1000);
	rm_mark_exact(m, 50, 2000);
	rm_mark_exact(m, 100, 3000);
	CU_ASSERT_EQUAL(rm_exact_now(m), 100);
	rm_expire(m, 1500); /* drops 40 */
	CU_ASSERT_EQUAL(rm_oldest(m), 50);
	memset(&q, 0, sizeof(q));
	q.mode = SEARCHQ_INVESTOR;
	q.sort = VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC;
	q.has_cursor = 1;
	q.asof = 49;
	CU_ASSERT(!rm_supports(m, &q));
	q.asof = 101;
	CU_ASSERT(!rm_supports(m, &q));
	q.asof = 50;
	CU_ASSERT(rm_supports(m, &q));
	q.asof = 75; /* inside a refresh: not exact */
	CU_ASSERT(!rm_supports(m, &q));
	q.asof = 100;
	CU_ASSERT(rm_supports(m, &q));
	rm_advance(m, 120); /* read, but not to the end */
	CU_ASSERT_EQUAL(rm_exact_now(m), -1);
	q.asof = 50;
	q.mode = SEARCHQ_STAFF_FULL;
	CU_ASSERT(!rm_supports(m, &q));
	rm_free(m);
}

void
test_rm_register(void)
{
	CU_pSuite s = CU_add_suite("rm", NULL, NULL);

	CU_add_test(s, "read model = brute force over every version", t_model_vs_brute_force);
	CU_add_test(s, "what the model leaves to SQL", t_supports);
}
