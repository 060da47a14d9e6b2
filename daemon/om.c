/*
 * om: the overview model. See om.h.
 *
 * Records live in one bucket per AGS; the buckets are ordered by AGS, so a
 * region (an AGS prefix) is a contiguous run of them found by binary
 * search. A bucket's slots are kept in id order, so that a region is read
 * in (AGS, id) order and the area sums come out the same whatever order
 * the records arrived in: a sorted run, then a short sorted tail that new
 * records are inserted into and that is merged into the run once it holds
 * about the square root of the run's length (records loaded in id order
 * are appended to the run directly). Removed records stay as dead slots in
 * their place (a record put again revives its slot) until a quarter of the
 * bucket is dead, then the bucket is compacted.
 *
 * The id index maps an id to its bucket. Its slots hold the id's 32-bit
 * hash and the bucket number only; the id itself is checked by a binary
 * search in the bucket. Two ids with the same hash in the same bucket may
 * find each other's slot, which does no harm: the slot says nothing but
 * the bucket. Bucket numbers never change (the AGS order is a separate
 * array of numbers).
 *
 * Memory: a slot is 48 bytes; a bucket's array grows by an eighth and
 * is shrunk when a quarter is spare (plus a few slots each); the index has
 * 8 bytes a slot, a quarter to half of them used: about 52 bytes a record
 * (51.7 measured for 1,000,000), plus 16 to 32 for the index.
 *
 * The overview reads the region once in (AGS, id) order, adding each
 * (record, usage) row to its group (a hash table of group keys), which
 * gives the sums in that order; the vacancy days go to a scratch array of
 * (group, days) keys sorted once by radix sort, from which each group's
 * percentiles are read.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "om.h"

#define OM_AGS_MAX  99999999u
#define OM_TAIL_MIN 16 /* the tail is merged from this length on ... */
/* ... once its length squared reaches the run's */

/* A record in its bucket. */
struct om_slot {
	unsigned char id[16];
	double usable, plot;
	int32_t verified_day, vacancy_start_day;
	uint8_t object_type, site_kind, status, usage, published;
	uint8_t dead; /* removed; kept for its place in the order */
};

struct om_bucket {
	uint32_t ags;
	uint32_t n;	  /* slots in use, dead ones included */
	uint32_t nsorted; /* [0, nsorted) the run, [nsorted, n) the tail, each by id */
	uint32_t ndead;
	uint32_t cap;
	struct om_slot *s;
	char *transfer; /* owned; NULL: none */
};

/* A slot of the id index. */
struct om_ix {
	uint32_t hash;
	uint32_t b1; /* bucket number + 1; 0: empty */
};

struct om {
	struct om_bucket *b; /* by bucket number */
	uint32_t *order;     /* bucket numbers by AGS */
	uint32_t nb, bcap;
	struct om_ix *ix;
	size_t nix, nused; /* nused: live records */
};

struct om *
om_new(void)
{
	struct om *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->nix = 1024;
	if ((m->ix = calloc(m->nix, sizeof(*m->ix))) == NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
om_free(struct om *m)
{
	if (m == NULL)
		return;
	for (uint32_t i = 0; i < m->nb; i++) {
		free(m->b[i].s);
		free(m->b[i].transfer);
	}
	free(m->b);
	free(m->order);
	free(m->ix);
	free(m);
}

size_t
om_count(const struct om *m)
{
	return m->nused;
}

size_t
om_bytes(const struct om *m)
{
	size_t bytes =
	    sizeof(*m) + m->nix * sizeof(*m->ix) + m->bcap * (sizeof(*m->b) + sizeof(*m->order));

	for (uint32_t i = 0; i < m->nb; i++) {
		bytes += (size_t)m->b[i].cap * sizeof(struct om_slot);
		if (m->b[i].transfer != NULL)
			bytes += strlen(m->b[i].transfer) + 1;
	}
	return bytes;
}

/* ---- buckets ---- */

/* The bucket of ags, or UINT32_MAX; *at: its place (or where it would go)
 * in the AGS order. */
static uint32_t
om_bucket_find(const struct om *m, uint32_t ags, uint32_t *at)
{
	uint32_t lo = 0, hi = m->nb;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->b[m->order[mid]].ags < ags)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < m->nb && m->b[m->order[lo]].ags == ags ? m->order[lo] : UINT32_MAX;
}

/* The bucket of ags, made when missing; UINT32_MAX when out of memory. */
static uint32_t
om_bucket_get(struct om *m, uint32_t ags)
{
	uint32_t at, bn = om_bucket_find(m, ags, &at);

	if (bn != UINT32_MAX)
		return bn;
	if (m->nb == m->bcap) {
		uint32_t cap = m->bcap ? m->bcap * 2 : 64;
		struct om_bucket *b = realloc(m->b, cap * sizeof(*b));
		uint32_t *order;

		if (b == NULL)
			return UINT32_MAX;
		m->b = b;
		if ((order = realloc(m->order, cap * sizeof(*order))) == NULL)
			return UINT32_MAX; /* m->b is merely larger than needed */
		m->order = order;
		m->bcap = cap;
	}
	bn = m->nb++;
	memset(&m->b[bn], 0, sizeof(m->b[bn]));
	m->b[bn].ags = ags;
	memmove(m->order + at + 1, m->order + at, (bn - at) * sizeof(*m->order));
	m->order[at] = bn;
	return bn;
}

/* The first slot in [lo, hi) of bucket slots s whose id is not below id. */
static uint32_t
om_lower(const struct om_slot *s, uint32_t lo, uint32_t hi, const unsigned char id[16])
{
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (memcmp(s[mid].id, id, 16) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The slot of id in bk (live or dead), or UINT32_MAX. */
static uint32_t
om_slot_find(const struct om_bucket *bk, const unsigned char id[16])
{
	uint32_t at = om_lower(bk->s, 0, bk->nsorted, id);

	if (at < bk->nsorted && memcmp(bk->s[at].id, id, 16) == 0)
		return at;
	at = om_lower(bk->s, bk->nsorted, bk->n, id);
	if (at < bk->n && memcmp(bk->s[at].id, id, 16) == 0)
		return at;
	return UINT32_MAX;
}

static void
om_slot_set(struct om_slot *s, const struct om_rec *r)
{
	memcpy(s->id, r->id, 16);
	s->usable = r->usable;
	s->plot = r->plot;
	s->verified_day = r->verified_day;
	s->vacancy_start_day = r->vacancy_start_day;
	s->object_type = r->object_type;
	s->site_kind = r->site_kind;
	s->status = r->status;
	s->usage = r->usage;
	s->published = r->published != 0;
	s->dead = 0;
}

/* Room for one more slot in bk. */
static int
om_reserve(struct om_bucket *bk)
{
	uint32_t cap;
	struct om_slot *s;

	if (bk->n < bk->cap)
		return 0;
	cap = bk->cap + bk->cap / 8 + 8;
	if ((s = realloc(bk->s, cap * sizeof(*s))) == NULL)
		return -1;
	bk->s = s;
	bk->cap = cap;
	return 0;
}

/* Merges the tail into the run, from the back (no slot moves twice). */
static void
om_merge(struct om_bucket *bk)
{
	uint32_t ntail = bk->n - bk->nsorted, i = bk->nsorted, j = ntail, k = bk->n;
	struct om_slot *tail = malloc(ntail * sizeof(*tail));

	if (tail == NULL)
		return; /* the tail just grows: slower inserts, same order */
	memcpy(tail, bk->s + bk->nsorted, ntail * sizeof(*tail));
	while (j > 0) {
		if (i > 0 && memcmp(bk->s[i - 1].id, tail[j - 1].id, 16) > 0)
			bk->s[--k] = bk->s[--i];
		else
			bk->s[--k] = tail[--j];
	}
	free(tail);
	bk->nsorted = bk->n;
}

/* Inserts r (an id bk does not hold) in order; there is room (om_reserve). */
static void
om_insert(struct om_bucket *bk, const struct om_rec *r)
{
	uint32_t at, ntail = bk->n - bk->nsorted;

	if (ntail == 0 && (bk->nsorted == 0 || memcmp(bk->s[bk->nsorted - 1].id, r->id, 16) < 0)) {
		/* in id order, as a load reads them: onto the run */
		om_slot_set(&bk->s[bk->n++], r);
		bk->nsorted++;
		return;
	}
	at = om_lower(bk->s, bk->nsorted, bk->n, r->id);
	memmove(bk->s + at + 1, bk->s + at, (bk->n - at) * sizeof(*bk->s));
	om_slot_set(&bk->s[at], r);
	bk->n++;
	ntail++;
	if (ntail >= OM_TAIL_MIN && (uint64_t)ntail * ntail >= bk->nsorted)
		om_merge(bk);
}

/* Drops the dead slots of bk, keeping the order, and gives back memory. */
static void
om_compact(struct om_bucket *bk)
{
	uint32_t w = 0, nsorted = 0;

	for (uint32_t i = 0; i < bk->n; i++) {
		if (i == bk->nsorted)
			nsorted = w;
		if (!bk->s[i].dead)
			bk->s[w++] = bk->s[i];
	}
	if (bk->nsorted == bk->n)
		nsorted = w;
	bk->n = w;
	bk->nsorted = nsorted;
	bk->ndead = 0;
	if (w == 0) {
		free(bk->s);
		bk->s = NULL;
		bk->cap = 0;
	} else if (bk->cap > w + w / 4 + 16) {
		uint32_t cap = w + w / 8 + 8;
		struct om_slot *s = realloc(bk->s, cap * sizeof(*s));

		if (s != NULL) { /* else it keeps the larger array */
			bk->s = s;
			bk->cap = cap;
		}
	}
}

/* Marks slot at of bk dead. */
static void
om_kill(struct om_bucket *bk, uint32_t at)
{
	bk->s[at].dead = 1;
	bk->ndead++;
	if (bk->ndead * 4 >= bk->n)
		om_compact(bk);
}

/* ---- the id index: open addressing, linear probing ---- */

static uint32_t
om_hash(const unsigned char id[16])
{
	uint64_t a, b, h;

	/* ids are random UUIDs, but tests and imports need not be */
	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	h = a * 0x9e3779b97f4a7c15ULL ^ b;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* The index slot of the live record id (hash h), *at its slot in its
 * bucket; or the empty index slot where it would go. */
static size_t
om_ix_find(const struct om *m, const unsigned char id[16], uint32_t h, uint32_t *at)
{
	size_t mask = m->nix - 1, i = h & mask;

	for (; m->ix[i].b1 != 0; i = (i + 1) & mask) {
		const struct om_bucket *bk;
		uint32_t s;

		if (m->ix[i].hash != h)
			continue;
		bk = &m->b[m->ix[i].b1 - 1];
		if ((s = om_slot_find(bk, id)) != UINT32_MAX && !bk->s[s].dead) {
			*at = s;
			return i;
		}
	}
	return i;
}

static int
om_ix_grow(struct om *m)
{
	size_t n = m->nix * 2, mask = n - 1;
	struct om_ix *ix = calloc(n, sizeof(*ix));

	if (ix == NULL)
		return -1;
	for (size_t i = 0; i < m->nix; i++) {
		size_t j;

		if (m->ix[i].b1 == 0)
			continue;
		for (j = m->ix[i].hash & mask; ix[j].b1 != 0; j = (j + 1) & mask)
			;
		ix[j] = m->ix[i];
	}
	free(m->ix);
	m->ix = ix;
	m->nix = n;
	return 0;
}

/* Empties index slot i, shifting back the slots of its probe run. */
static void
om_ix_unslot(struct om *m, size_t i)
{
	size_t j = i, mask = m->nix - 1;

	m->ix[i].b1 = 0;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (m->ix[j].b1 == 0)
			break;
		home = m->ix[j].hash & mask;
		/* j's slot may move to i if its home is not within (i, j] */
		if ((i < j) ? (home <= i || home > j) : (home <= i && home > j)) {
			m->ix[i] = m->ix[j];
			m->ix[j].b1 = 0;
			i = j;
		}
	}
}

/* ---- changes ---- */

int
om_put(struct om *m, const struct om_rec *r)
{
	uint32_t h = om_hash(r->id), bn, at = 0, dead;
	struct om_bucket *bk;
	size_t i;

	if (r->ags > OM_AGS_MAX)
		return -1;
	/* everything that can fail comes first: then the model is unchanged */
	if ((m->nused + 1) * 2 > m->nix && om_ix_grow(m) == -1)
		return -1;
	if ((bn = om_bucket_get(m, r->ags)) == UINT32_MAX)
		return -1;
	bk = &m->b[bn];
	i = om_ix_find(m, r->id, h, &at);
	if (m->ix[i].b1 == bn + 1) {
		om_slot_set(&bk->s[at], r); /* same municipality: in place */
		return 0;
	}
	/* a dead slot of this id in the new bucket is revived in its place */
	dead = om_slot_find(bk, r->id);
	if (dead == UINT32_MAX && om_reserve(bk) == -1)
		return -1;
	if (m->ix[i].b1 != 0) {
		/* moved from another municipality */
		om_kill(&m->b[m->ix[i].b1 - 1], at);
		m->ix[i].b1 = bn + 1;
	} else {
		m->ix[i].hash = h;
		m->ix[i].b1 = bn + 1;
		m->nused++;
	}
	if (dead != UINT32_MAX) {
		om_slot_set(&bk->s[dead], r);
		bk->ndead--;
	} else {
		om_insert(bk, r);
	}
	return 0;
}

void
om_remove(struct om *m, const unsigned char id[16])
{
	uint32_t at = 0;
	size_t i = om_ix_find(m, id, om_hash(id), &at);

	if (m->ix[i].b1 == 0)
		return;
	om_kill(&m->b[m->ix[i].b1 - 1], at);
	om_ix_unslot(m, i);
	m->nused--;
}

int
om_set_transfer(struct om *m, uint32_t ags, const char *rfc3339)
{
	uint32_t bn;
	char *copy = NULL;

	if (ags > OM_AGS_MAX)
		return -1;
	if (rfc3339 != NULL && (copy = strdup(rfc3339)) == NULL)
		return -1;
	if ((bn = om_bucket_get(m, ags)) == UINT32_MAX) {
		free(copy);
		return -1;
	}
	free(m->b[bn].transfer);
	m->b[bn].transfer = copy;
	return 0;
}

/* ---- the overview ---- */

/*
 * A group key: AGS, object type, site kind, status and usage, each 0 when
 * not grouped by it, packed so that the keys' order is the rows' order.
 */
#define OM_KEY(ags, o, k, s, u)                                                                    \
	((uint64_t)(ags) << 32 | (uint64_t)(o) << 24 | (uint64_t)(k) << 16 | (uint64_t)(s) << 8 |  \
	 (uint64_t)(u))

/* A vacancy duration in the scratch array: its group number above bit 33,
 * the days offset by 2^32 (a difference of two int32 days) below. */
#define OM_DAYS_BITS 33
#define OM_DAYS_BIAS ((int64_t)1 << 32)

struct om_grp {
	uint64_t key;
	uint64_t records, published, stale;
	double usable, plot;
	int has_p;
	double median, p90;
};

struct om_agg {
	struct om_grp *g;
	size_t ng, gcap;
	uint32_t *ht; /* group number + 1 by key; 0: empty */
	size_t nht;
	uint64_t last_key; /* the group of the previous row, for runs */
	size_t last;
	uint64_t *days;
	size_t nd, dcap;
};

static size_t
om_key_hash(uint64_t key)
{
	key *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(key ^ (key >> 31));
}

static int
om_ht_grow(struct om_agg *a)
{
	size_t n = a->nht ? a->nht * 2 : 256, mask = n - 1;
	uint32_t *ht = calloc(n, sizeof(*ht));

	if (ht == NULL)
		return -1;
	for (size_t g = 0; g < a->ng; g++) {
		size_t i = om_key_hash(a->g[g].key) & mask;

		while (ht[i] != 0)
			i = (i + 1) & mask;
		ht[i] = (uint32_t)(g + 1);
	}
	free(a->ht);
	a->ht = ht;
	a->nht = n;
	return 0;
}

/* The group of key, made when missing; NULL when out of memory. */
static struct om_grp *
om_group(struct om_agg *a, uint64_t key)
{
	size_t i, mask;

	if (a->ng > 0 && a->last_key == key)
		return &a->g[a->last];
	if ((a->ng + 1) * 2 > a->nht && om_ht_grow(a) == -1)
		return NULL;
	mask = a->nht - 1;
	for (i = om_key_hash(key) & mask; a->ht[i] != 0; i = (i + 1) & mask)
		if (a->g[a->ht[i] - 1].key == key)
			break;
	if (a->ht[i] == 0) {
		if (a->ng == a->gcap) {
			size_t cap = a->gcap ? a->gcap * 2 : 64;
			struct om_grp *g = realloc(a->g, cap * sizeof(*g));

			if (g == NULL)
				return NULL;
			a->g = g;
			a->gcap = cap;
		}
		memset(&a->g[a->ng], 0, sizeof(a->g[a->ng]));
		a->g[a->ng].key = key;
		a->ht[i] = (uint32_t)(++a->ng);
	}
	a->last_key = key;
	a->last = a->ht[i] - 1;
	return &a->g[a->last];
}

/* Adds one (record, usage) row to the group of key. */
static int
om_add(struct om_agg *a, uint64_t key, const struct om_slot *s, int stale, int64_t days)
{
	struct om_grp *g = om_group(a, key);

	if (g == NULL)
		return -1;
	g->records++;
	g->published += s->published;
	g->stale += (uint64_t)stale;
	if (!isnan(s->usable))
		g->usable += s->usable;
	if (!isnan(s->plot))
		g->plot += s->plot;
	if (s->vacancy_start_day != OM_NONE) {
		if (a->nd == a->dcap) {
			size_t cap = a->dcap ? a->dcap * 2 : 4096;
			uint64_t *d = realloc(a->days, cap * sizeof(*d));

			if (d == NULL)
				return -1;
			a->days = d;
			a->dcap = cap;
		}
		a->days[a->nd++] =
		    (uint64_t)(g - a->g) << OM_DAYS_BITS | (uint64_t)(days + OM_DAYS_BIAS);
	}
	return 0;
}

/* Sorts v[0..n) by LSD radix, a byte at a time, skipping the bytes all
 * keys share (the upper bytes of both the days and the group). */
static void
om_radix(uint64_t *v, uint64_t *tmp, size_t n)
{
	uint64_t *src = v, *dst = tmp, *t;
	size_t cnt[256];

	if (n < 2)
		return;
	for (int shift = 0; shift < 64; shift += 8) {
		size_t sum = 0;

		memset(cnt, 0, sizeof(cnt));
		for (size_t i = 0; i < n; i++)
			cnt[(src[i] >> shift) & 255]++;
		if (cnt[(src[0] >> shift) & 255] == n)
			continue;
		for (int k = 0; k < 256; k++) {
			size_t c = cnt[k];

			cnt[k] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[(src[i] >> shift) & 255]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

static double
om_days(uint64_t v)
{
	return (double)((int64_t)(v & (((uint64_t)1 << OM_DAYS_BITS) - 1)) - OM_DAYS_BIAS);
}

/*
 * percentile_cont(p) over the sorted days v[0..n), n > 0, step by step as
 * PostgreSQL's percentile_cont_final_common and float8_lerp compute it
 * (one operation a statement, so that no compiler fuses them).
 */
static double
om_percentile(const uint64_t *v, size_t n, double p)
{
	double pos = p * (double)(int64_t)(n - 1);
	int64_t lo = (int64_t)floor(pos), hi = (int64_t)ceil(pos);
	double lov, hiv, prop, diff, step;

	lov = om_days(v[lo]);
	if (lo == hi)
		return lov;
	hiv = om_days(v[hi]);
	prop = pos - (double)lo;
	diff = hiv - lov;
	step = prop * diff;
	return lov + step;
}

static int
om_grp_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct om_grp *)a)->key, y = ((const struct om_grp *)b)->key;

	return x < y ? -1 : x > y;
}

/* Adds the live records of bucket bk in id order (run and tail merged). */
static int
om_scan(struct om_agg *a, const struct om_bucket *bk, const int by[6], int32_t today,
	int stale_days)
{
	uint32_t i = 0, j = bk->nsorted;
	uint64_t base = OM_KEY(by[OM_MUNICIPALITY] ? bk->ags : 0, 0, 0, 0, 0);

	while (i < bk->nsorted || j < bk->n) {
		const struct om_slot *s;
		uint64_t key;
		int64_t days;
		int stale;

		if (j == bk->n || (i < bk->nsorted && memcmp(bk->s[i].id, bk->s[j].id, 16) < 0))
			s = &bk->s[i++];
		else
			s = &bk->s[j++];
		if (s->dead)
			continue;
		key = base | OM_KEY(0, by[OM_OBJECT_TYPE] ? s->object_type : 0,
				    by[OM_SITE_KIND] ? s->site_kind : 0,
				    by[OM_STATUS] ? s->status : 0, 0);
		stale = (int64_t)today - s->verified_day > stale_days;
		days = (int64_t)today - s->vacancy_start_day;
		if (!by[OM_USAGE]) {
			if (om_add(a, key, s, stale, days) == -1)
				return -1;
			continue;
		}
		/* one row per usage, as the SQL unnests the array */
		for (unsigned u = 1; u < 8; u++)
			if ((s->usage & (1u << u)) && om_add(a, key | u, s, stale, days) == -1)
				return -1;
	}
	return 0;
}

int
om_overview(const struct om *m, uint32_t ags_lo, uint32_t ags_hi, enum om_dim g1, enum om_dim g2,
	    int32_t today_day, int stale_days, struct om_row **rows, size_t *n)
{
	struct om_agg a;
	struct om_row *out = NULL;
	uint64_t *tmp = NULL;
	int by[6] = {0};
	uint32_t at;

	*rows = NULL;
	*n = 0;
	if ((unsigned)g1 > OM_USAGE || (unsigned)g2 > OM_USAGE)
		return -1;
	by[g1] = by[g2] = 1;
	memset(&a, 0, sizeof(a));
	om_bucket_find(m, ags_lo, &at);
	for (; at < m->nb && m->b[m->order[at]].ags <= ags_hi; at++) {
		const struct om_bucket *bk = &m->b[m->order[at]];

		if (bk->n > bk->ndead && om_scan(&a, bk, by, today_day, stale_days) == -1)
			goto fail;
	}
	if (a.ng == 0)
		goto done;

	/* each group's days in a run, ascending: the percentiles */
	if (a.nd > 0 && (tmp = malloc(a.nd * sizeof(*tmp))) == NULL)
		goto fail;
	om_radix(a.days, tmp, a.nd);
	for (size_t i = 0, j; i < a.nd; i = j) {
		struct om_grp *g = &a.g[a.days[i] >> OM_DAYS_BITS];

		for (j = i + 1; j < a.nd && a.days[j] >> OM_DAYS_BITS == a.days[i] >> OM_DAYS_BITS;
		     j++)
			;
		g->has_p = 1;
		g->median = om_percentile(a.days + i, j - i, 0.5);
		g->p90 = om_percentile(a.days + i, j - i, 0.9);
	}

	qsort(a.g, a.ng, sizeof(*a.g), om_grp_cmp);
	if ((out = calloc(a.ng, sizeof(*out))) == NULL)
		goto fail;
	for (size_t i = 0; i < a.ng; i++) {
		const struct om_grp *g = &a.g[i];
		struct om_row *r = &out[i];

		r->ags = (uint32_t)(g->key >> 32);
		r->object_type = (int)(g->key >> 24 & 255);
		r->site_kind = (int)(g->key >> 16 & 255);
		r->status = (int)(g->key >> 8 & 255);
		r->usage = (int)(g->key & 255);
		r->records = g->records;
		r->published = g->published;
		r->stale = g->stale;
		r->usable_area_m2 = g->usable;
		r->plot_area_m2 = g->plot;
		r->has_percentiles = g->has_p;
		r->median_vacancy_days = g->median;
		r->p90_vacancy_days = g->p90;
		if (by[OM_MUNICIPALITY]) {
			uint32_t pos, bn = om_bucket_find(m, r->ags, &pos);

			r->last_transfer_at = bn == UINT32_MAX ? NULL : m->b[bn].transfer;
		}
	}
	*rows = out;
	*n = a.ng;
done:
	free(tmp);
	free(a.g);
	free(a.ht);
	free(a.days);
	return 0;
fail:
	free(out);
	free(tmp);
	free(a.g);
	free(a.ht);
	free(a.days);
	return -1;
}
