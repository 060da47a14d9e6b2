/*
 * report: the "vacancy report" command, the county office's view of its
 * region in the terminal: the figures of GET /v1/overview grouped by one or
 * two keys, the freshness of each municipality (GET /v1/municipalities) and
 * the monthly series of vacant sites (GET /v1/overview?series=monthly).
 *
 * The pure half (argument checks, the request path, tables, CSV, bars) takes
 * plain data and a FILE and is tested without a network; the command half
 * makes the one request and prints. Definitions of the figures: see
 * docs/overview.md.
 */
#ifndef VACANCY_CLIENT_REPORT_H
#define VACANCY_CLIENT_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "buf.h"
#include "http.h"
#include "vacancy.pb-c.h"

#define REPORT_MAX_GROUP  2   /* keys of --group-by */
#define REPORT_BAR_WIDTH  40  /* columns of the longest bar of --series */
#define REPORT_MAX_MONTHS 240 /* months of one series (the registry's limit) */
#define REPORT_SPAN	  24  /* months of a series when only --to is given */

enum report_mode { REPORT_OVERVIEW, REPORT_MUNICIPALITIES, REPORT_SERIES };
enum report_format { REPORT_TABLE, REPORT_CSV };

/* What "vacancy report" was asked to do; strings are borrowed from argv. */
struct report_options {
	int municipalities;   /* --municipalities */
	int series;	      /* --series */
	const char *region;   /* --region, or NULL: the caller's scope */
	const char *group_by; /* --group-by as given, or NULL: municipality */
	const char *from;     /* --from YYYY-MM, or NULL */
	const char *to;	      /* --to YYYY-MM, or NULL */
	int csv;	      /* --csv */
	int json;	      /* --json */
	int ascii;	      /* --ascii */
};

/* A checked request: what report_check makes of the options. */
struct report_query {
	enum report_mode mode;
	const char *region;		     /* borrowed from the options, or NULL */
	const char *group[REPORT_MAX_GROUP]; /* static key names, e.g. "municipality" */
	int n_group;			     /* 1 or 2 for REPORT_OVERVIEW, else 0 */
	char from[8], to[8];		     /* YYYY-MM, or "" for the registry's default */
	enum report_format format;
	int json;  /* print the server's JSON as it is */
	int ascii; /* bars of '#' even on a UTF-8 terminal */
};

/*
 * Checks an AGS prefix: 2 to 8 digits, the first two a Land (01 to 16).
 * Returns 0, or -1 with a reason in err.
 */
int report_check_region(const char *s, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Splits a --group-by value "A" or "A,B" into keys[] (static names) and *n:
 * each one of municipality, object_type, site_kind, status, usage, at most
 * REPORT_MAX_GROUP of them, all different. Returns 0, or -1 with a reason.
 */
int report_parse_group_by(const char *arg, const char *keys[REPORT_MAX_GROUP], int *n, char *err,
			  size_t errlen) __attribute__((warn_unused_result));

/*
 * Parses a month "YYYY-MM" (MM 01 to 12) into a count of months since
 * year 0 (year * 12 + month - 1). Returns 0, or -1 when s is not a month.
 */
int report_parse_month(const char *s, long *month) __attribute__((warn_unused_result));

/* Writes month (as from report_parse_month) as "YYYY-MM" into out (8 bytes). */
void report_format_month(long month, char out[8]);

/* The current month at time now in Europe/Berlin (CET/CEST, EU rules). */
long report_berlin_month(time_t now);

/*
 * Checks the options and fills q: the mode and its options must go
 * together, the region, group keys and months must be valid, from <= to,
 * at most REPORT_MAX_MONTHS months. When one end of the series is given,
 * the other is filled in: --from alone runs to the current month (now, in
 * Europe/Berlin), --to alone starts REPORT_SPAN - 1 months before it.
 * Returns 0, or -1 with a reason in err (for a usage error).
 */
int report_check(const struct report_options *o, time_t now, struct report_query *q, char *err,
		 size_t errlen) __attribute__((warn_unused_result));

/*
 * The path and query of q's request, every value percent-encoded, e.g.
 * "/v1/overview?region=14521&group_by=municipality,status". Owned by the
 * caller (free); NULL when out of memory.
 */
char *report_path(const struct report_query *q);

/*
 * Converts an RFC 3339 timestamp ("2026-03-01T12:34:56.5+01:00") to UTC
 * "YYYY-MM-DD HH:MM" in out (17 bytes). Returns 0, or -1 when s is not one.
 */
int report_format_time(const char *s, char out[17]) __attribute__((warn_unused_result));

/*
 * Appends a bar for v out of max, REPORT_BAR_WIDTH columns for max: full
 * blocks and one partial block (eighths, U+2588 to U+258F), or '#' when
 * ascii. Rounded to the nearest eighth (ascii: column); a value above zero
 * shows at least the thinnest block, zero (or max 0) shows nothing.
 */
void report_bar(struct buf *b, uint64_t v, uint64_t max, int ascii);

/*
 * Prints ov's rows (borrowed) grouped by group[0..n_group), 1 or 2 key
 * names as report_parse_group_by gives them, as an aligned table with a
 * totals line, or as CSV (RFC 4180: CRLF, quoted where needed) with the
 * proto field names as header. Rows stay in the server's order.
 * Returns 0, or -1 when out of memory or writing to out failed.
 */
int report_print_overview(const Vacancy__V1__Overview *ov, const char *const *group, int n_group,
			  enum report_format format, FILE *out) __attribute__((warn_unused_result));

/*
 * Prints ml (borrowed): AGS, name, records, last transfer in UTC and
 * whether it is overdue, an overdue row marked with a leading '!' (and, when
 * color, in bold red), and the footer "N of M municipalities overdue"; or
 * CSV. Returns 0, or -1 when out of memory or writing to out failed.
 */
int report_print_municipalities(const Vacancy__V1__MunicipalityList *ml, enum report_format format,
				int color, FILE *out) __attribute__((warn_unused_result));

/*
 * Prints ov's monthly series (borrowed): month, vacant count, usable area
 * and a bar scaled to the largest vacant count (see report_bar); or CSV.
 * Returns 0, or -1 when out of memory or writing to out failed.
 */
int report_print_series(const Vacancy__V1__Overview *ov, enum report_format format, int ascii,
			FILE *out) __attribute__((warn_unused_result));

/* Whether a table may be coloured: a terminal, TERM set and not "dumb", NO_COLOR unset. */
int report_use_color(int is_tty, const char *term, const char *no_color);

/* Whether a codeset (nl_langinfo(CODESET)) is UTF-8. */
int report_codeset_utf8(const char *codeset);

/*
 * Runs "vacancy report": checks o, sends the one request to the registry
 * configured by cfg (checked here) and prints the answer on stdout, errors
 * on stderr. Returns the exit status: 0 success, 1 server or transport
 * error, 2 usage error.
 */
int report_command(const struct report_options *o, const struct client_http_config *cfg);

#endif
