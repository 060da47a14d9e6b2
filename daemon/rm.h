/*
 * rm: the investor read model. The published records, as the investor
 * view shows them, held in memory and kept current from the change feed
 * (rmsync.c), so that investor searches and fetches by id are answered
 * without the database. Pure: no I/O.
 *
 * Each entry is one version of a published record: its search keys, the
 * feed positions it was valid between, and (while current) the encoded
 * public Record. Entries live in the cells of a grid over Germany, each
 * cell sorted newest first; a search merges the cells its box touches.
 * Superseded versions stay for page_token_ttl_s, so a walk pinned to a
 * feed position reads the records as they were then, exactly as the SQL
 * path does (sql/009_search.sql): membership and order as of the
 * position, content as now, records no longer published left out.
 *
 * A search the model cannot answer exactly is answered by SQL instead:
 * free text (German stemming lives in PostgreSQL), a radius and the
 * distance order (PostGIS's spheroid distance), a position the model does
 * not hold (before its load, after its present).
 */
#ifndef VACANCY_RM_H
#define VACANCY_RM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "searchq.h"

#define RM_FOREVER INT64_MAX

/* The search keys of one version, as the investor view has them. */
struct rm_keys {
	unsigned char id[16];
	int64_t updated_us;  /* microseconds since 1970 */
	uint32_t ags;	     /* the 8-digit AGS as a number */
	uint64_t ars;	     /* the 12-digit ARS as a number; 0: none */
	double usable, plot; /* NAN: absent */
	int64_t price, rent; /* cents; -1: absent */
	double lat, lon;     /* the position investors see */
	uint8_t site_kind, object_type, status;
	uint8_t usage, marketing; /* bit sets of enum values */
};

struct rm_entry {
	struct rm_keys k;
	int64_t valid_from, valid_to; /* feed positions; valid_to RM_FOREVER while current */
	uint32_t cell;
	uint32_t pb_len;
	unsigned char *pb; /* the encoded public Record while current, else NULL */
};

struct rm;

struct rm *rm_new(void);
void rm_free(struct rm *m);

/*
 * Applies the change at feed position seq to record id: the record is now
 * published with keys k and encoding pb (copied), or (k NULL) not
 * published. Positions must grow. 0, or -1 when out of memory (the model
 * is then unusable: rm_failed).
 */
int rm_apply(struct rm *m, int64_t seq, const unsigned char id[16], const struct rm_keys *k,
	     const unsigned char *pb, size_t pb_len);
/* Marks that everything up to seq is applied (also when nothing changed). */
void rm_advance(struct rm *m, int64_t seq);
/* Drops superseded versions that ended at or before seq; from then on the
 * model answers only for positions after seq. */
void rm_prune(struct rm *m, int64_t seq);

/*
 * Exact positions. The model mirrors the database exactly only at some feed
 * positions: the end of its initial load and of every refresh that read
 * all changes up to then (a change read later carries the record as it is
 * at the read, not as it was at its position). Walks are pinned to such a
 * position; rm_expire drops those older than `before` (the newest stays)
 * and prunes the versions no remaining position needs.
 */
void rm_mark_exact(struct rm *m, int64_t seq, time_t when);
int rm_is_exact(const struct rm *m, int64_t seq);
/* The present when it is exact, else -1. */
int64_t rm_exact_now(const struct rm *m);
void rm_expire(struct rm *m, time_t before);

int64_t rm_seq(const struct rm *m);	/* applied up to */
int64_t rm_oldest(const struct rm *m);	/* answers for positions >= this */
size_t rm_count(const struct rm *m);	/* published records now */
size_t rm_versions(const struct rm *m); /* entries, past versions included */
size_t rm_bytes(const struct rm *m);	/* memory held, approximately */
int rm_failed(const struct rm *m);

/* The current entry of a published record, or NULL. */
const struct rm_entry *rm_get(const struct rm *m, const unsigned char id[16]);

/* 1 when the model can answer q exactly (see above). */
int rm_supports(const struct rm *m, const struct searchq *q);

/*
 * The next page of q at position asof (q's cursor position, or the
 * model's present for a first page): up to q->page_size + 1 entries in
 * order (the last one only tells that more follow). out[i] is the
 * matching version; the content to show is rm_get() of its id, which may
 * be gone. Returns the number of entries, or -1 (out of memory).
 */
int rm_search(const struct rm *m, const struct searchq *q, int64_t asof,
	      const struct rm_entry **out, size_t max);

/* The sort key of e under sort, as searchq_advance() takes it (NULL: none). */
const char *rm_key_text(const struct rm_entry *e, int sort, char *buf, size_t len);

#endif
