/*
 * search: the "vacancy search" and "vacancy export" commands. Search pages
 * through GET /v1/records (SearchResponse, protobuf) and prints the records
 * as a table, JSON lines or CSV; export streams GET /v1/export.geojson into
 * a file. Both take the same filters; their names, forms and meaning are
 * those of docs/search.md.
 *
 * The pure half (collecting and checking the flags, the query string, the
 * three outputs) takes plain data and a FILE and is tested without a
 * network; the command half makes the requests.
 */
#ifndef VACANCY_CLIENT_SEARCH_H
#define VACANCY_CLIENT_SEARCH_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "http.h"
#include "vacancy.pb-c.h"

#define SEARCH_MAX_ARGS		16	    /* occurrences of one flag */
#define SEARCH_DEFAULT_PAGE	50	    /* the registry's page_size when none is sent */
#define SEARCH_TEXT_MAX		200	    /* characters of --text (docs/search.md) */
#define SEARCH_MAX_COUNT	1000000000L /* --limit, --page-size: whole numbers up to this */
#define SEARCH_TITLE_COLUMNS	40	    /* a longer title is cut in the table */
#define SEARCH_LOCALITY_COLUMNS 24	    /* a longer locality is cut in the table */

/* The filters, in the order the query string names them. */
enum search_param {
	SEARCH_REGION,
	SEARCH_BBOX,
	SEARCH_NEAR,
	SEARCH_SITE_KIND,
	SEARCH_USAGE,
	SEARCH_MARKETING,
	SEARCH_OBJECT_TYPE,
	SEARCH_STATUS,
	SEARCH_MIN_USABLE_AREA,
	SEARCH_MAX_USABLE_AREA,
	SEARCH_MIN_PLOT_AREA,
	SEARCH_MAX_PLOT_AREA,
	SEARCH_MAX_PRICE,
	SEARCH_MAX_RENT,
	SEARCH_UPDATED_SINCE,
	SEARCH_TEXT,
	SEARCH_SORT,
	SEARCH_NPARAM
};

/* What the command line said; every string is borrowed from argv, unchecked. */
struct search_options {
	const char *arg[SEARCH_NPARAM][SEARCH_MAX_ARGS]; /* each occurrence of a filter flag */
	int n[SEARCH_NPARAM];
	const char *limit;     /* --limit N, or NULL */
	const char *page_size; /* --page-size N, or NULL */
	int all;	       /* --all */
	int json;	       /* --json */
	int csv;	       /* --csv */
	const char *geojson;   /* export: --geojson FILE ("-": stdout), or NULL */
};

enum search_mode { SEARCH_MODE_RECORDS, SEARCH_MODE_EXPORT };
enum search_format { SEARCH_TABLE, SEARCH_JSON, SEARCH_CSV };

/* A checked request: what search_check makes of the options. */
struct search_query {
	enum search_mode mode;
	char *filters;	/* owned: "region=14521&status=MARKETED...", percent-encoded, or "" */
	long page_size; /* 0: the registry's default (SEARCH_DEFAULT_PAGE) */
	long limit;	/* 0: no limit */
	int all;
	enum search_format format;
	const char *geojson; /* borrowed from the options */
};

/*
 * Records one occurrence of filter flag p (arg borrowed). Returns 0, or -1
 * when p was given SEARCH_MAX_ARGS times already.
 */
int search_option_add(struct search_options *o, enum search_param p, const char *arg)
    __attribute__((warn_unused_result));

/* The flag of filter p, e.g. "--site-kind". */
const char *search_flag(enum search_param p);

/*
 * Appends s percent-encoded for a query string: unreserved characters
 * (RFC 3986: letters, digits, "-._~") as they are, and commas too when
 * keep_comma, every other byte as %XX.
 */
void search_escape(struct buf *b, const char *s, int keep_comma);

/*
 * Checks o for mode and fills q (release with search_query_free): every
 * filter in the form docs/search.md gives it (list values may be repeated
 * or comma-separated and are matched to the enum names case-insensitively;
 * --updated-since also takes a date, meaning midnight UTC), single-valued
 * flags at most once, min <= max, the options of the other mode refused.
 * Returns 0, or -1 with a reason for a usage error in err (q then needs no
 * freeing); -1 with err "out of memory" when allocation failed.
 */
int search_check(const struct search_options *o, enum search_mode mode, struct search_query *q,
		 char *err, size_t errlen) __attribute__((warn_unused_result));
void search_query_free(struct search_query *q);

/*
 * The path and query of one request of q: "/v1/records?FILTERS" with
 * "&page_size=N" when page_size > 0 and "&page_token=T" when page_token is
 * set; for export "/v1/export.geojson?FILTERS". Owned by the caller (free);
 * NULL when out of memory.
 */
char *search_path(const struct search_query *q, const char *page_token, long page_size);

/* Where the records of a search go: a table collected to the end, or lines now. */
struct search_out {
	enum search_format format;
	FILE *out;    /* borrowed */
	size_t count; /* records taken */
	char **cells; /* owned: the table's cells, SEARCH_COLUMNS per row */
	size_t nrow, cap;
	int failed; /* out of memory or a write failed */
};

void search_out_init(struct search_out *so, enum search_format format, FILE *out);

/*
 * Takes one record (borrowed): a JSON line or a CSV row (header first) is
 * written at once; a table row is kept for search_out_finish. Returns 0,
 * or -1 when out of memory or the write failed (sticky).
 */
int search_out_record(struct search_out *so, const Vacancy__V1__Record *r)
    __attribute__((warn_unused_result));

/*
 * Writes the table (header and rows, columns as wide as their widest cell,
 * server text escaped), or nothing for the other formats. 0 or -1.
 */
int search_out_finish(struct search_out *so) __attribute__((warn_unused_result));
void search_out_free(struct search_out *so);

/*
 * Runs "vacancy search" or, for SEARCH_MODE_EXPORT, "vacancy export":
 * checks o and cfg, makes the requests to the registry and prints (export:
 * writes the file), errors on stderr. Returns the exit status: 0 success,
 * 1 server or transport error, 2 usage error (then nothing was sent).
 */
int search_command(const struct search_options *o, enum search_mode mode,
		   const struct client_http_config *cfg);

#endif
