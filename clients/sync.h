/*
 * sync: the "vacancy sync" command, and the data both file readers (csv.c,
 * openimmo.c) fill: a batch of RecordChanges, each with the place in the
 * file it came from, and a list of problems (errors, warnings, notices)
 * with their places. The pure half (batch, problems, AGS resolution,
 * splitting into transfers, transfer ids) takes plain data and is tested
 * without a network; the command half reads the file, sends the parts to
 * POST /v1/sync and reports.
 */
#ifndef VACANCY_CLIENT_SYNC_H
#define VACANCY_CLIENT_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "vacancy.pb-c.h"

#define SYNC_MAX_FILE	       ((size_t)256 << 20) /* bytes of one input file */
#define SYNC_MAX_PROBLEMS      1000		   /* problems listed; the rest are counted */
#define SYNC_DEFAULT_TIMEOUT_S 600		  /* per request, unless --timeout says otherwise */
#define SYNC_DEFAULT_BATCH     5000		  /* changes per transfer by default */
#define SYNC_MAX_BATCH	       10000		  /* the registry's max_sync_records default */
#define SYNC_MAX_PART	       ((size_t)15 << 20) /* packed bytes per transfer (server: 16 MiB) */
#define SYNC_RETRIES	       5		  /* retries of one transfer: 1, 2, 4, 8, 16 s */
#define SYNC_ID_MAX	       100		  /* --transfer-id; leaves room for "-9999of9999" */

enum sync_format { SYNC_FORMAT_CSV, SYNC_FORMAT_OPENIMMO };

/* Where a change came from, for messages. */
struct sync_source {
	unsigned long line;   /* line in the file (CSV: where the row starts) */
	unsigned long number; /* OpenImmo: the immobilie's position, from 1; CSV: 0 */
};

/*
 * The changes of one file, in file order. Every change and everything in it
 * is allocated with codec_heap (malloc) and owned by the batch.
 */
struct sync_batch {
	enum sync_format format;
	Vacancy__V1__RecordChange **changes; /* owned */
	struct sync_source *sources;	     /* owned, parallel to changes */
	size_t n, cap;
	char *ags;		/* owned: the AGS the file itself names, or NULL */
	unsigned long ags_line; /* where it was first named */
	int full;		/* the file says it is the whole stock (OpenImmo VOLL) */
};

enum sync_severity { SYNC_ERROR, SYNC_WARNING, SYNC_NOTICE };

struct sync_problem {
	enum sync_severity severity;
	unsigned long line; /* 0: the file as a whole */
	char *where;	    /* owned: "column F (usage)", "immobilie 3 (ANN-3): geo/plz"; or NULL */
	char *message;	    /* owned; may quote file text: escape before printing */
};

/* Problems in the order found. Errors are counted even when not listed. */
struct sync_problems {
	struct sync_problem *items; /* owned */
	size_t n, cap;
	size_t max;	/* list at most this many */
	size_t dropped; /* not listed because of max */
	size_t errors, warnings;
	int oom; /* an entry could not be stored (counted all the same) */
};

/* One transfer: changes[start .. start+n) of the batch. */
struct sync_part {
	size_t start, n;
	size_t bytes; /* packed size of the changes, without the request's own fields */
};

/* What "vacancy sync" was asked to do; strings are borrowed. */
struct sync_options {
	const char *file;
	const char *ags;	 /* --ags, or NULL (then VACANCY_MUNICIPALITY_AGS) */
	const char *transfer_id; /* --transfer-id, or NULL */
	long batch;		 /* --batch, 1..SYNC_MAX_BATCH */
	int check;		 /* --check: validate_only */
	int full;		 /* --full */
	int json;		 /* --json */
};

void sync_batch_init(struct sync_batch *b, enum sync_format format);
void sync_batch_free(struct sync_batch *b);
/* Appends c (consumed: freed on failure too). 0, or -1 when out of memory. */
int sync_batch_add(struct sync_batch *b, Vacancy__V1__RecordChange *c, struct sync_source src)
    __attribute__((warn_unused_result));
/* The external_id of change i ("" if none). */
const char *sync_change_external_id(const Vacancy__V1__RecordChange *c);

void sync_problems_init(struct sync_problems *p, size_t max);
void sync_problems_free(struct sync_problems *p);
/* Records a problem; where may be NULL. Never fails (see oom). */
void sync_problem_add(struct sync_problems *p, enum sync_severity s, unsigned long line,
		      const char *where, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* 1 when s is an AGS: 8 digits, Land 01-16. */
int sync_ags_valid(const char *s);

/*
 * Completes a batch read from a file: resolves the transfer's AGS from ags
 * (--ags, or NULL) and the file's own (both must agree; the command passes
 * VACANCY_MUNICIPALITY_AGS only when the file names none), gives every
 * upsert without municipality_ags that AGS, checks that every upsert names
 * it, and reports an external_id used twice. Appends to p. Returns the AGS
 * (pointing into b or to ags) or NULL after an error.
 */
const char *sync_batch_finish(struct sync_batch *b, const char *ags, struct sync_problems *p);

/*
 * Splits b into transfers of at most max_changes changes and max_bytes
 * packed bytes each (the request's own fields take part of it). *parts is
 * owned by the caller (free). Returns 0, or -1 with an error in p (a single
 * change larger than max_bytes, out of memory).
 */
int sync_plan(const struct sync_batch *b, size_t max_changes, size_t max_bytes,
	      struct sync_part **parts, size_t *nparts, struct sync_problems *p)
    __attribute__((warn_unused_result));

/*
 * The base of the transfer ids: the first 16 hex digits of SHA-256 over
 * the file's bytes, "full" or "partial", and the AGS. out holds 17 bytes.
 * 0, or -1 when the digest failed.
 */
int sync_transfer_base(const char *data, size_t len, int full, const char *ags, size_t batch,
		       char out[17]) __attribute__((warn_unused_result));

/* 1 when id may be used as --transfer-id: 1..SYNC_ID_MAX of [A-Za-z0-9._:-]. */
int sync_transfer_id_valid(const char *id);

/* The format of a file: by its extension (.csv, .xml), else by its content. */
enum sync_format sync_detect_format(const char *path, const char *data, size_t len);

/*
 * Runs "vacancy sync": reads o->file, reports problems, sends the parts to
 * the registry configured by cfg (checked here) and prints the outcome.
 * Returns the exit status: 0 all applied (or, with --check, all valid),
 * 1 rejected or failed, 2 usage error.
 */
int sync_command(const struct sync_options *o, const struct client_http_config *cfg);

#endif
