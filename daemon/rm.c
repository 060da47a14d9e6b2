/*
 * rm: the investor read model. See rm.h.
 *
 * Memory: an entry is ~120 bytes plus its encoding while current; the id
 * index holds a pointer per slot at most half full; each cell holds a
 * pointer per entry in it.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rm.h"
#include "vacancy.pb-c.h"

/* The grid: 0.1° of latitude by 0.15° of longitude (about 11 km square)
 * over Germany's box; positions outside are clamped to the edge cells. */
#define RM_LAT0	 47.0
#define RM_LAT1	 55.2
#define RM_LON0	 5.5
#define RM_LON1	 15.5
#define RM_DLAT	 0.1
#define RM_DLON	 0.15
#define RM_ROWS	 82
#define RM_COLS	 67
#define RM_CELLS (RM_ROWS * RM_COLS)

struct rm_cell {
	struct rm_entry **e; /* newest first, then by id */
	uint32_t n, cap;
};

struct rm {
	int64_t seq, oldest;
	int failed;
	/* the current entry of each published record, by id */
	struct rm_entry **slots;
	size_t nslots, nused;
	struct rm_cell cells[RM_CELLS];
	/* superseded entries in the order they ended (valid_to grows) */
	struct rm_entry **past;
	size_t npast, past_head, past_cap;
	size_t nentries, bytes;
	/* exact positions, oldest first */
	struct rm_exact {
		int64_t seq;
		time_t when;
	} * exact;
	size_t nexact, exact_cap;
};

struct rm *
rm_new(void)
{
	struct rm *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->nslots = 1024;
	if ((m->slots = calloc(m->nslots, sizeof(*m->slots))) == NULL) {
		free(m);
		return NULL;
	}
	m->bytes = sizeof(*m) + m->nslots * sizeof(*m->slots);
	return m;
}

static void
rm_entry_free(struct rm_entry *e)
{
	free(e->pb);
	free(e);
}

void
rm_free(struct rm *m)
{
	if (m == NULL)
		return;
	for (int c = 0; c < RM_CELLS; c++) {
		for (uint32_t i = 0; i < m->cells[c].n; i++)
			rm_entry_free(m->cells[c].e[i]);
		free(m->cells[c].e);
	}
	free(m->slots);
	free(m->past);
	free(m->exact);
	free(m);
}

int64_t
rm_seq(const struct rm *m)
{
	return m->seq;
}

int64_t
rm_oldest(const struct rm *m)
{
	return m->oldest;
}

size_t
rm_count(const struct rm *m)
{
	return m->nused;
}

size_t
rm_versions(const struct rm *m)
{
	return m->nentries;
}

size_t
rm_bytes(const struct rm *m)
{
	return m->bytes;
}

int
rm_failed(const struct rm *m)
{
	return m->failed;
}

/* ---- the id index: open addressing, linear probing ---- */

static size_t
rm_hash(const unsigned char id[16])
{
	uint64_t h;

	/* record ids are UUIDs whose last 8 bytes are random (version 4, and version 7
	 * since migration 014, whose first bytes are a time): those bytes are the hash */
	memcpy(&h, id + 8, sizeof(h));
	return (size_t)(h ^ (h >> 29));
}

static size_t
rm_slot(const struct rm *m, const unsigned char id[16])
{
	size_t i = rm_hash(id) & (m->nslots - 1);

	while (m->slots[i] != NULL && memcmp(m->slots[i]->k.id, id, 16) != 0)
		i = (i + 1) & (m->nslots - 1);
	return i;
}

const struct rm_entry *
rm_get(const struct rm *m, const unsigned char id[16])
{
	return m->slots[rm_slot(m, id)];
}

static int
rm_grow(struct rm *m)
{
	struct rm_entry **old = m->slots;
	size_t n = m->nslots;

	if ((m->slots = calloc(n * 2, sizeof(*m->slots))) == NULL) {
		m->slots = old;
		return -1;
	}
	m->nslots = n * 2;
	for (size_t i = 0; i < n; i++)
		if (old[i] != NULL)
			m->slots[rm_slot(m, old[i]->k.id)] = old[i];
	free(old);
	m->bytes += n * sizeof(*m->slots);
	return 0;
}

/* Removes the slot i, shifting back the entries of its probe run. */
static void
rm_unslot(struct rm *m, size_t i)
{
	size_t j = i, mask = m->nslots - 1;

	m->slots[i] = NULL;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (m->slots[j] == NULL)
			break;
		home = rm_hash(m->slots[j]->k.id) & mask;
		/* j's entry may move to i if its home is not within (i, j] */
		if ((i < j) ? (home <= i || home > j) : (home <= i && home > j)) {
			m->slots[i] = m->slots[j];
			m->slots[j] = NULL;
			i = j;
		}
	}
	m->nused--;
}

/* ---- cells ---- */

static uint32_t
rm_cell_of(double lat, double lon)
{
	int r = (int)floor((lat - RM_LAT0) / RM_DLAT), c = (int)floor((lon - RM_LON0) / RM_DLON);

	r = r < 0 ? 0 : r >= RM_ROWS ? RM_ROWS - 1 : r;
	c = c < 0 ? 0 : c >= RM_COLS ? RM_COLS - 1 : c;
	return (uint32_t)(r * RM_COLS + c);
}

/* <0 when a comes before b newest first (then by id). */
static int
rm_cmp_updated(const struct rm_entry *a, const struct rm_entry *b)
{
	if (a->k.updated_us != b->k.updated_us)
		return a->k.updated_us > b->k.updated_us ? -1 : 1;
	return memcmp(a->k.id, b->k.id, 16);
}

/* The first index in cell whose entry does not come before e. */
static uint32_t
rm_cell_find(const struct rm_cell *cell, const struct rm_entry *e)
{
	uint32_t lo = 0, hi = cell->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (rm_cmp_updated(cell->e[mid], e) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
rm_cell_insert(struct rm *m, struct rm_entry *e)
{
	struct rm_cell *cell = &m->cells[e->cell];
	uint32_t at;

	if (cell->n == cell->cap) {
		uint32_t cap = cell->cap ? cell->cap * 2 : 16;
		struct rm_entry **g = realloc(cell->e, cap * sizeof(*g));

		if (g == NULL)
			return -1;
		m->bytes += (cap - cell->cap) * sizeof(*g);
		cell->e = g;
		cell->cap = cap;
	}
	at = rm_cell_find(cell, e);
	memmove(cell->e + at + 1, cell->e + at, (cell->n - at) * sizeof(*cell->e));
	cell->e[at] = e;
	cell->n++;
	return 0;
}

static void
rm_cell_remove(struct rm *m, struct rm_entry *e)
{
	struct rm_cell *cell = &m->cells[e->cell];
	uint32_t at = rm_cell_find(cell, e);

	/* versions of one record may share a key: find this very entry */
	while (at < cell->n && cell->e[at] != e)
		at++;
	if (at == cell->n)
		return; /* cannot happen */
	memmove(cell->e + at, cell->e + at + 1, (cell->n - at - 1) * sizeof(*cell->e));
	cell->n--;
}

/* ---- changes ---- */

static int
rm_past_push(struct rm *m, struct rm_entry *e)
{
	if (m->past_head + m->npast == m->past_cap) {
		if (m->past_head > 0) {
			memmove(m->past, m->past + m->past_head, m->npast * sizeof(*m->past));
			m->past_head = 0;
		} else {
			size_t cap = m->past_cap ? m->past_cap * 2 : 256;
			struct rm_entry **g = realloc(m->past, cap * sizeof(*g));

			if (g == NULL)
				return -1;
			m->bytes += (cap - m->past_cap) * sizeof(*g);
			m->past = g;
			m->past_cap = cap;
		}
	}
	m->past[m->past_head + m->npast++] = e;
	return 0;
}

int
rm_apply(struct rm *m, int64_t seq, const unsigned char id[16], const struct rm_keys *k,
	 const unsigned char *pb, size_t pb_len)
{
	struct rm_entry *old, *e = NULL;
	size_t i;

	if (m->failed)
		return -1;
	if (seq > m->seq)
		m->seq = seq;
	if (k != NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL ||
		    (e->pb = malloc(pb_len ? pb_len : 1)) == NULL)
			goto nomem;
		e->k = *k;
		memcpy(e->k.id, id, 16);
		e->valid_from = seq;
		e->valid_to = RM_FOREVER;
		e->cell = rm_cell_of(k->lat, k->lon);
		memcpy(e->pb, pb, pb_len);
		e->pb_len = (uint32_t)pb_len;
	}
	if ((m->nused + 1) * 2 > m->nslots && rm_grow(m) == -1)
		goto nomem;
	i = rm_slot(m, id);
	if ((old = m->slots[i]) != NULL) {
		/* the old version stays for walks pinned before seq */
		if (rm_past_push(m, old) == -1)
			goto nomem;
		old->valid_to = seq;
		m->bytes -= old->pb_len;
		free(old->pb);
		old->pb = NULL;
		old->pb_len = 0;
		rm_unslot(m, i);
	}
	if (e != NULL) {
		if (rm_cell_insert(m, e) == -1)
			goto nomem;
		m->slots[rm_slot(m, id)] = e;
		m->nused++;
		m->nentries++;
		m->bytes += sizeof(*e) + pb_len;
	}
	return 0;
nomem:
	if (e != NULL)
		rm_entry_free(e);
	m->failed = 1;
	return -1;
}

void
rm_advance(struct rm *m, int64_t seq)
{
	if (seq > m->seq)
		m->seq = seq;
}

void
rm_prune(struct rm *m, int64_t seq)
{
	while (m->npast > 0 && m->past[m->past_head]->valid_to <= seq) {
		struct rm_entry *e = m->past[m->past_head];

		rm_cell_remove(m, e);
		m->bytes -= sizeof(*e);
		m->nentries--;
		rm_entry_free(e);
		m->past_head++;
		m->npast--;
	}
	if (m->npast == 0)
		m->past_head = 0;
	if (seq > m->oldest)
		m->oldest = seq;
}

/* ---- search ---- */

/* The filters of a searchq in the model's terms. */
struct rm_filter {
	const struct searchq *q;
	int64_t asof;
	int has_ags;
	uint32_t ags_lo, ags_hi;
	uint64_t ars_lo, ars_hi;
	int64_t max_price, max_rent, since; /* -1: none */
	/* the cursor as an entry, when the walk has one */
	int has_cursor;
	struct rm_entry cursor;
};

/* Decimal euros with at most 2 decimals (checked by searchq) in cents. */
static int64_t
rm_cents(const char *s)
{
	int64_t v = 0;
	int frac = -1;

	for (; *s != '\0'; s++) {
		if (*s == '.') {
			frac = 0;
			continue;
		}
		v = v * 10 + (*s - '0');
		if (frac >= 0)
			frac++;
	}
	for (int f = frac < 0 ? 0 : frac; f < 2; f++)
		v *= 10;
	return v;
}

/* RFC 3339 (checked by searchq) in microseconds, rounded like PostgreSQL. */
static int64_t
rm_micros(const char *s)
{
	struct tm tm;
	int64_t us = 0, scale = 100000;
	const char *p = s + 19;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	t = timegm(&tm);
	if (*p == '.') {
		int rounded = 0;

		for (p++; isdigit((unsigned char)*p); p++) {
			if (scale > 0) {
				us += (*p - '0') * scale;
				scale /= 10;
			} else if (!rounded) {
				us += *p >= '5'; /* the seventh digit rounds */
				rounded = 1;
			}
		}
	}
	if (*p == '+' || *p == '-') {
		int off = atoi(p + 1) * 3600 + atoi(p + 4) * 60;

		t -= *p == '+' ? off : -off;
	}
	return (int64_t)t * 1000000 + us;
}

static void
rm_filter_init(struct rm_filter *f, const struct searchq *q, int64_t asof)
{
	memset(f, 0, sizeof(*f));
	f->q = q;
	f->asof = asof;
	if (q->ags_lo[0] != '\0') {
		f->has_ags = 1;
		f->ags_lo = (uint32_t)strtoul(q->ags_lo, NULL, 10);
		f->ags_hi = (uint32_t)strtoul(q->ags_hi, NULL, 10);
	}
	if (q->has_ars) {
		f->ars_lo = strtoull(q->ars_lo, NULL, 10);
		f->ars_hi = strtoull(q->ars_hi, NULL, 10);
	}
	f->max_price = q->max_price[0] ? rm_cents(q->max_price) : -1;
	f->max_rent = q->max_rent[0] ? rm_cents(q->max_rent) : -1;
	f->since = q->updated_since[0] ? rm_micros(q->updated_since) : INT64_MIN;
	if (q->has_cursor) {
		f->has_cursor = 1;
		memcpy(f->cursor.k.id, q->last_id, 16);
		f->cursor.k.updated_us = q->key_int;
		f->cursor.k.price = q->key_null ? -1 : q->key_int;
		f->cursor.k.usable = q->key_null ? NAN : q->key_float;
	}
}

static int
rm_match(const struct rm_filter *f, const struct rm_entry *e)
{
	const struct searchq *q = f->q;
	const struct rm_keys *k = &e->k;

	if (e->valid_from > f->asof || f->asof >= e->valid_to)
		return 0;
	if (f->has_ags && (k->ags < f->ags_lo || k->ags > f->ags_hi))
		return 0;
	if (q->has_ars && (k->ars == 0 || k->ars < f->ars_lo || k->ars > f->ars_hi))
		return 0;
	if (q->has_bbox && (k->lat < q->bbox[0] || k->lat > q->bbox[2] || k->lon < q->bbox[1] ||
			    k->lon > q->bbox[3]))
		return 0;
	if ((q->site_kind && !(q->site_kind & (1u << k->site_kind))) ||
	    (q->object_type && !(q->object_type & (1u << k->object_type))) ||
	    (q->status && !(q->status & (1u << k->status))) ||
	    (q->usage && !(q->usage & k->usage)) ||
	    (q->marketing && !(q->marketing & k->marketing)))
		return 0;
	if ((q->has_area[0] && !(k->usable >= q->area[0])) ||
	    (q->has_area[1] && !(k->usable <= q->area[1])) ||
	    (q->has_area[2] && !(k->plot >= q->area[2])) ||
	    (q->has_area[3] && !(k->plot <= q->area[3])))
		return 0; /* comparisons with NAN are false: absent never matches */
	if ((f->max_price >= 0 && (k->price < 0 || k->price > f->max_price)) ||
	    (f->max_rent >= 0 && (k->rent < 0 || k->rent > f->max_rent)))
		return 0;
	return k->updated_us >= f->since;
}

/* <0 when a comes before b in q's order (ties by id, absent keys last). */
static int
rm_cmp(int sort, const struct rm_entry *a, const struct rm_entry *b)
{
	int an, bn;

	switch (sort) {
	case VACANCY__V1__SEARCH_SORT__VALUE__AREA_DESC:
	case VACANCY__V1__SEARCH_SORT__VALUE__AREA_ASC:
		an = isnan(a->k.usable);
		bn = isnan(b->k.usable);
		if (an != bn)
			return an ? 1 : -1;
		if (!an && a->k.usable != b->k.usable) {
			int less = a->k.usable < b->k.usable;

			return (sort == VACANCY__V1__SEARCH_SORT__VALUE__AREA_ASC) == less ? -1 : 1;
		}
		break;
	case VACANCY__V1__SEARCH_SORT__VALUE__PRICE_ASC:
		an = a->k.price < 0;
		bn = b->k.price < 0;
		if (an != bn)
			return an ? 1 : -1;
		if (!an && a->k.price != b->k.price)
			return a->k.price < b->k.price ? -1 : 1;
		break;
	default:
		return rm_cmp_updated(a, b);
	}
	return memcmp(a->k.id, b->k.id, 16);
}

int
rm_supports(const struct rm *m, const struct searchq *q)
{
	if (m->failed || q->mode != SEARCHQ_INVESTOR || q->has_near || q->text[0] != '\0' ||
	    q->sort == VACANCY__V1__SEARCH_SORT__VALUE__DISTANCE_ASC)
		return 0;
	return !q->has_cursor || (q->asof >= m->oldest && rm_is_exact(m, q->asof));
}

void
rm_mark_exact(struct rm *m, int64_t seq, time_t when)
{
	if (m->nexact > 0 && m->exact[m->nexact - 1].seq >= seq)
		return;
	if (m->nexact == m->exact_cap) {
		size_t cap = m->exact_cap ? m->exact_cap * 2 : 64;
		struct rm_exact *g = realloc(m->exact, cap * sizeof(*g));

		if (g == NULL)
			return; /* the position is just not offered for walks */
		m->exact = g;
		m->exact_cap = cap;
	}
	m->exact[m->nexact++] = (struct rm_exact){seq, when};
}

int
rm_is_exact(const struct rm *m, int64_t seq)
{
	size_t lo = 0, hi = m->nexact;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->exact[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->nexact && m->exact[lo].seq == seq;
}

int64_t
rm_exact_now(const struct rm *m)
{
	if (m->failed || m->nexact == 0 || m->exact[m->nexact - 1].seq != m->seq)
		return -1;
	return m->seq;
}

void
rm_expire(struct rm *m, time_t before)
{
	size_t drop = 0;

	while (drop + 1 < m->nexact && m->exact[drop].when < before)
		drop++;
	if (drop > 0) {
		memmove(m->exact, m->exact + drop, (m->nexact - drop) * sizeof(*m->exact));
		m->nexact -= drop;
	}
	if (m->nexact > 0)
		rm_prune(m, m->exact[0].seq);
}

/* The cells a search looks at: the box's, or every non-empty one. */
static size_t
rm_cells(const struct rm *m, const struct searchq *q, uint32_t *out)
{
	int r0 = 0, r1 = RM_ROWS - 1, c0 = 0, c1 = RM_COLS - 1;
	size_t n = 0;

	if (q->has_bbox) {
		uint32_t lo = rm_cell_of(q->bbox[0], q->bbox[1]),
			 hi = rm_cell_of(q->bbox[2], q->bbox[3]);

		r0 = (int)(lo / RM_COLS);
		c0 = (int)(lo % RM_COLS);
		r1 = (int)(hi / RM_COLS);
		c1 = (int)(hi % RM_COLS);
	}
	for (int r = r0; r <= r1; r++)
		for (int c = c0; c <= c1; c++)
			if (m->cells[r * RM_COLS + c].n > 0)
				out[n++] = (uint32_t)(r * RM_COLS + c);
	return n;
}

/*
 * The best max matching entries after the cursor, by a bounded max-heap
 * (its top is the worst kept). Newest first, each cell is read from the
 * cursor on in its own order and left as soon as its entries come after
 * the worst kept: a page costs about the entries newer than its last one
 * in the cells the box touches, one filter test each (a k-way merge of the
 * cells spent most of its time keeping its heap).
 */
static void
rm_top_down(const struct rm_entry **h, size_t n, size_t i, int sort)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, s = i;
		const struct rm_entry *t;

		if (l < n && rm_cmp(sort, h[l], h[s]) > 0)
			s = l;
		if (r < n && rm_cmp(sort, h[r], h[s]) > 0)
			s = r;
		if (s == i)
			return;
		t = h[i];
		h[i] = h[s];
		h[s] = t;
		i = s;
	}
}

static int rm_sort_key;

static int
rm_qsort_cmp(const void *a, const void *b)
{
	return rm_cmp(rm_sort_key, *(const struct rm_entry *const *)a,
		      *(const struct rm_entry *const *)b);
}

static size_t
rm_search_top(const struct rm_filter *f, const struct rm_cell *const *cells, size_t ncells,
	      const struct rm_entry **out, size_t max)
{
	int sort = f->q->sort;
	int newest = sort == VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC;
	size_t n = 0;

	if (max == 0)
		return 0;
	for (size_t c = 0; c < ncells; c++) {
		uint32_t i = 0;

		if (newest && f->has_cursor) {
			i = rm_cell_find(cells[c], &f->cursor);
			while (i < cells[c]->n && rm_cmp_updated(cells[c]->e[i], &f->cursor) <= 0)
				i++;
		}
		for (; i < cells[c]->n; i++) {
			const struct rm_entry *e = cells[c]->e[i];

			if (newest && n == max && rm_cmp_updated(e, out[0]) > 0)
				break; /* the rest of the cell is older still */
			if (!rm_match(f, e) || (f->has_cursor && rm_cmp(sort, e, &f->cursor) <= 0))
				continue;
			if (n < max) {
				out[n++] = e;
				if (n == max)
					for (size_t k = n; k-- > 0;)
						rm_top_down(out, n, k, sort);
			} else if (rm_cmp(sort, e, out[0]) < 0) {
				out[0] = e;
				rm_top_down(out, n, 0, sort);
			}
		}
	}
	rm_sort_key = sort;
	qsort(out, n, sizeof(*out), rm_qsort_cmp);
	return n;
}

int
rm_search(const struct rm *m, const struct searchq *q, int64_t asof, const struct rm_entry **out,
	  size_t max)
{
	uint32_t idx[RM_CELLS];
	const struct rm_cell *cells[RM_CELLS];
	struct rm_filter f;
	size_t ncells, got;

	rm_filter_init(&f, q, asof);
	ncells = rm_cells(m, q, idx);
	for (size_t i = 0; i < ncells; i++)
		cells[i] = &m->cells[idx[i]];
	got = rm_search_top(&f, cells, ncells, out, max);
	return (int)got;
}

const char *
rm_key_text(const struct rm_entry *e, int sort, char *buf, size_t len)
{
	switch (sort) {
	case VACANCY__V1__SEARCH_SORT__VALUE__AREA_DESC:
	case VACANCY__V1__SEARCH_SORT__VALUE__AREA_ASC:
		if (isnan(e->k.usable))
			return NULL;
		snprintf(buf, len, "%.17g", e->k.usable);
		return buf;
	case VACANCY__V1__SEARCH_SORT__VALUE__PRICE_ASC:
		if (e->k.price < 0)
			return NULL;
		snprintf(buf, len, "%lld", (long long)e->k.price);
		return buf;
	default:
		snprintf(buf, len, "%lld", (long long)e->k.updated_us);
		return buf;
	}
}
