/*
 * validate: the rules of record.md for transfers arriving by sync. Pure.
 * Every bad field of every record is reported, not only the first; each
 * error names the change's index, its external_id, the field (proto names,
 * nested with dots and [i]: "location.lat", "attachments[2].sha256"), a
 * stable code and a human message.
 */
#ifndef VACANCY_VALIDATE_H
#define VACANCY_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "vacancy.pb-c.h"

/* Error codes (FieldError.code). */
#define VALIDATE_REQUIRED	    "REQUIRED"		 /* a required field is absent */
#define VALIDATE_INVALID_FORMAT	    "INVALID_FORMAT"	 /* shape wrong (digits, date, decimal) */
#define VALIDATE_OUT_OF_RANGE	    "OUT_OF_RANGE"	 /* a number or date outside its range */
#define VALIDATE_TOO_LONG	    "TOO_LONG"		 /* text longer than its limit */
#define VALIDATE_INVALID_TEXT	    "INVALID_TEXT"	 /* not UTF-8, or control characters */
#define VALIDATE_UNKNOWN_VALUE	    "UNKNOWN_VALUE"	 /* an enum number the schema lacks */
#define VALIDATE_INCONSISTENT	    "INCONSISTENT"	 /* fields contradict each other */
#define VALIDATE_DUPLICATE	    "DUPLICATE"		 /* external_id twice in one transfer */
#define VALIDATE_WRONG_MUNICIPALITY "WRONG_MUNICIPALITY" /* record of another AGS */
#define VALIDATE_READ_ONLY	    "READ_ONLY"		 /* a field the registry assigns */
#define VALIDATE_OUTSIDE_GERMANY    "OUTSIDE_GERMANY"	 /* position outside Germany */

/* The list of errors of one transfer. Entries and their strings are malloc'd. */
struct validate_errors {
	Vacancy__V1__FieldError **items;
	size_t n, cap;
	size_t max; /* list at most max errors; count the rest in dropped */
	size_t dropped;
	uint32_t rejected;	      /* changes with at least one error */
	uint32_t last_rejected_index; /* internal: to count each change once */
	int any_rejected;
};

/* What the rules need to know besides the transfer. */
struct validate_ctx {
	const char *ags;    /* the transfer's (and principal's) AGS */
	int current_year;   /* construction_year <= current_year + 5 */
	char today[11];	    /* YYYY-MM-DD (UTC); dates may not lie after it */
	size_t max_records; /* changes per transfer (the caller answers 413 above it) */
};

void validate_errors_init(struct validate_errors *e, size_t max);
void validate_errors_free(struct validate_errors *e);
/*
 * Appends one error. index < 0 means the transfer itself (no index). The
 * strings are copied. Returns 0, or -1 when out of memory.
 */
int validate_add(struct validate_errors *e, long index, const char *external_id, const char *field,
		 const char *code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Appends, when errors were dropped, one last entry (code TOO_MANY_ERRORS,
 * no index) saying how many and naming the limit, so no answer hides them.
 */
void validate_errors_close(struct validate_errors *e, const char *limit_name);

/* Fills ctx's dates from the current time: "today" is the latest calendar
 * date anywhere on Earth (UTC+14), so local dates in Germany never lie after
 * it. */
void validate_ctx_now(struct validate_ctx *ctx, const char *ags, size_t max_records);

/*
 * Checks the transfer: transfer_id (1-128 of [A-Za-z0-9._:-]), AGS (as
 * ctx->ags), scope given, full_session (same alphabet), every change (exactly
 * one of upsert/withdraw), every record, duplicate external_ids. Appends to
 * errs; the transfer is acceptable when errs->n == 0 && errs->dropped == 0.
 */
void validate_transfer(const Vacancy__V1__SyncRequest *req, const struct validate_ctx *ctx,
		       struct validate_errors *errs);
/* Checks one upserted record (index: its position in the transfer). */
void validate_record(const Vacancy__V1__Record *r, long index, const struct validate_ctx *ctx,
		     struct validate_errors *errs);

/* Single rules, also for the client and the tests. 1 = valid. */
int validate_ags(const char *s);			/* 8 digits, Land 01-16 */
int validate_ars(const char *ars, const char *ags);	/* 12 digits, agrees with the AGS */
int validate_parcel_id(const char *p, const char *ags); /* Flurstückskennzeichen */
int validate_date(const char *s);			/* YYYY-MM-DD, a real day */
int validate_money(const char *s);			/* decimal euros, <= 2 decimals */
int validate_postcode(const char *s);			/* 5 digits */
/*
 * Text: valid UTF-8, no control characters (newline, carriage return and tab
 * allowed when multiline), at most max_chars characters (code points).
 * Returns NULL when valid, else the error code (VALIDATE_INVALID_TEXT or
 * VALIDATE_TOO_LONG).
 */
const char *validate_text(const char *s, int multiline, size_t max_chars);

/*
 * For the tests: NULL when validate.c has a rule for every field of the
 * messages it checks (SyncRequest, Withdrawal, Record and its sub-messages),
 * a limit for every string and no rule without a field; else the name of
 * the first field (or rule) that breaks this, so that a field added to the
 * proto cannot slip through unchecked.
 */
const char *validate_unruled_field(void);

#endif
