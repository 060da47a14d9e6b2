/*
 * om: the overview model. Every live (not withdrawn) record of the
 * registry, reduced to what GET /v1/overview counts, held compactly in
 * memory, so that a county's overview is answered without the database.
 * Pure: no I/O.
 *
 * om_overview() computes exactly what registry.overview() computes
 * (sql/007_overview_speed.sql, docs/overview.md): the same groups in the
 * same order, the same counts, percentile_cont as PostgreSQL computes it
 * for float8 (bit for bit), and area sums in the order of the records by
 * (AGS, id), so that they do not depend on the order the model was fed in
 * (PostgreSQL sums in an order of its own: those agree to rounding only).
 */
#ifndef VACANCY_OM_H
#define VACANCY_OM_H

#include <stddef.h>
#include <stdint.h>

#define OM_NONE INT32_MIN

/* One record as the overview sees it. */
struct om_rec {
	unsigned char id[16];
	uint32_t ags; /* 8-digit AGS as a number (at most 99999999) */
	/* enum values of proto/vacancy.proto (ObjectType.Value etc.), 1.. */
	uint8_t object_type, site_kind, status;
	uint8_t usage;		   /* bit (1u << value) for each Usage.Value; bit 0 unused */
	uint8_t published;	   /* 0/1: investors see it */
	double usable, plot;	   /* NAN: absent */
	int32_t verified_day;	   /* last_verified_at as days since 1970-01-01 */
	int32_t vacancy_start_day; /* days since 1970-01-01, or OM_NONE (no vacancy start,
				    * or status not vacant) */
};

struct om;

struct om *om_new(void);
void om_free(struct om *m);

/*
 * Inserts r, or replaces the record with the same id (which may have had
 * another AGS). 0, or -1 when out of memory or r->ags has more than 8
 * digits; the model is then unchanged.
 */
int om_put(struct om *m, const struct om_rec *r) __attribute__((warn_unused_result));
/* Removes the record id; nothing when there is none. */
void om_remove(struct om *m, const unsigned char id[16]);
size_t om_count(const struct om *m); /* live records */
size_t om_bytes(const struct om *m); /* memory held, approximately */

/*
 * Sets the time of the municipality's last accepted transfer (RFC 3339,
 * copied; NULL: none). Rows grouped by municipality point at this copy
 * until the next call for ags or om_free. 0, or -1 when out of memory (the
 * old time stays).
 */
int om_set_transfer(struct om *m, uint32_t ags, const char *rfc3339)
    __attribute__((warn_unused_result));

enum om_dim { OM_NODIM = 0, OM_MUNICIPALITY, OM_OBJECT_TYPE, OM_SITE_KIND, OM_STATUS, OM_USAGE };

/* One group of the overview, as a row of registry.overview(). */
struct om_row {
	uint32_t ags;				   /* 0 when not grouped by municipality */
	int object_type, site_kind, status, usage; /* enum value, 0 when not grouped by it */
	uint64_t records, published, stale;
	double usable_area_m2, plot_area_m2;
	int has_percentiles; /* 0: the group has no vacancy days */
	double median_vacancy_days, p90_vacancy_days;
	/* only when grouped by municipality and known, else NULL; borrowed
	 * from the model (see om_set_transfer) */
	const char *last_transfer_at;
};

/*
 * The rows of the region [ags_lo, ags_hi] grouped by g1 and g2 (either may
 * be OM_NODIM; both the same counts once), as of today_day (days since
 * 1970-01-01, Europe/Berlin), with records stale when
 * today_day - verified_day > stale_days. *rows is a malloc'd array the
 * caller frees (NULL when *n is 0), in the order of (ags, object_type,
 * site_kind, status, usage). 0, or -1 when out of memory or a dimension
 * is not one of enum om_dim.
 */
int om_overview(const struct om *m, uint32_t ags_lo, uint32_t ags_hi, enum om_dim g1,
		enum om_dim g2, int32_t today_day, int stale_days, struct om_row **rows, size_t *n)
    __attribute__((warn_unused_result));

#endif
