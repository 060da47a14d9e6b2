/*
 * feed: the "vacancy feed" command, a reader of the change feed
 * (GET /v1/changes?after=CURSOR&limit=N, ChangeBatch). It prints one line
 * per change from a cursor on, until it has caught up or, with --follow,
 * polling for more until SIGINT or SIGTERM; at the end it writes the cursor
 * to resume from on stderr.
 *
 * The pure half (checking the options, the request path, one change as a
 * line) is tested without a network; the command half makes the requests.
 */
#ifndef VACANCY_CLIENT_FEED_H
#define VACANCY_CLIENT_FEED_H

#include <stdio.h>

#include "http.h"
#include "vacancy.pb-c.h"

#define FEED_CURSOR_MAX	      18    /* digits of a cursor (the registry's limit) */
#define FEED_BATCH	      100   /* the registry's batch when no limit is sent */
#define FEED_DEFAULT_INTERVAL 5	    /* seconds between polls of --follow */
#define FEED_MAX_INTERVAL     86400 /* seconds */
#define FEED_TITLE_COLUMNS    60    /* a longer title is cut */

/* What the command line said; strings borrowed from argv, unchecked. */
struct feed_options {
	const char *after;    /* --after CURSOR, or NULL: from the start */
	const char *limit;    /* --limit N, or NULL */
	const char *interval; /* --interval SECONDS, or NULL */
	int follow;	      /* --follow */
	int json;	      /* --json */
};

/* A checked run. */
struct feed_query {
	char cursor[FEED_CURSOR_MAX + 1]; /* where to start: "0" for the beginning */
	long limit;			  /* changes to print at most, 0 for no limit */
	long interval_s;		  /* between polls once caught up */
	int follow;
	int json;
};

/*
 * Checks o and fills q: a cursor of 1 to FEED_CURSOR_MAX digits, a limit
 * of at least 1, an interval of 1 to FEED_MAX_INTERVAL whole seconds and
 * only with --follow. Returns 0, or -1 with a reason for a usage error.
 */
int feed_check(const struct feed_options *o, struct feed_query *q, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * "/v1/changes?after=CURSOR" with "&limit=N" when limit > 0 (cursor must
 * be digits, as feed_check and feed_cursor_ok ensure). Owned by the caller
 * (free); NULL when out of memory.
 */
char *feed_path(const char *cursor, long limit);

/* Whether s is a cursor: 1 to FEED_CURSOR_MAX digits. */
int feed_cursor_ok(const char *s);

/*
 * Writes one change (borrowed) as a line: with json its JSON form (the
 * protobuf JSON mapping), otherwise "CURSOR  KIND  RECORD_ID  summary",
 * the summary (object type, status, locality: title) for an UPSERT, server
 * text escaped. Returns 0, or -1 when out of memory or the write failed.
 */
int feed_print_change(const Vacancy__V1__Change *ch, int json, FILE *out)
    __attribute__((warn_unused_result));

/*
 * Runs "vacancy feed": checks o and cfg, reads the feed and prints it on
 * stdout, errors and the cursor to resume from on stderr. Returns the exit
 * status: 0 success (also when --follow was stopped by SIGINT or SIGTERM),
 * 1 server or transport error, or interrupted without --follow, 2 usage
 * error.
 */
int feed_command(const struct feed_options *o, const struct client_http_config *cfg);

#endif
