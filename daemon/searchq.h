/*
 * searchq: a search from request to SQL (docs/search.md). Pure.
 *
 *   query string --searchq_parse--> SearchRequest (GET /v1/records; POST
 *   /v1/search decodes the body into the same message)
 *   SearchRequest --searchq_check--> struct searchq: every rule checked, the
 *   role's scope applied, the page token verified
 *   struct searchq --searchq_sql--> one parameterised statement for a page
 *
 * Errors name the parameter: err->param is its snake_case name and
 * err->message starts with it.
 *
 * Page tokens are base64url of: version, sort, the feed position the walk
 * is pinned to, the last row's sort key and record id, the time of issue,
 * and an HMAC-SHA-256 (truncated to 128 bits) over all that, the caller's
 * principal id and a digest of the normalised filters. Only the server's
 * key can make one; one from another search or caller does not verify.
 */
#ifndef VACANCY_SEARCHQ_H
#define VACANCY_SEARCHQ_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <protobuf-c/protobuf-c.h>

#include "buf.h"
#include "token.h"
#include "vacancy.pb-c.h"

#define SEARCHQ_TEXT_MAX     200 /* characters of the text filter */
#define SEARCHQ_MAX_PARAMS   64
#define SEARCHQ_KEY_LEN	     32 /* bytes of the page token key */
#define SEARCHQ_DEFAULT_PAGE 50

/* What a statement reads and returns. */
enum searchq_mode {
	SEARCHQ_INVESTOR,     /* investor views; Record columns of the public view */
	SEARCHQ_STAFF_FULL,   /* registry tables; full records through read_full() */
	SEARCHQ_STAFF_PUBLIC, /* registry tables; PUBLIC fields (the staff export) */
};

struct searchq_err {
	int status;	/* 400 or 403 */
	char param[32]; /* snake_case parameter name */
	char message[256];
};

/* The limits of config.h that apply. */
struct searchq_limits {
	int max_page_size;
	double max_radius_m;
	int page_token_ttl_s;
};

/* Who asks. */
struct searchq_caller {
	enum role role;
	const char *scope; /* AGS prefix; "" for investors */
	int64_t principal;
	const unsigned char *key; /* SEARCHQ_KEY_LEN bytes */
	time_t now;
};

struct searchq {
	enum searchq_mode mode;
	int64_t principal;
	/* the region and scope as ranges of keys */
	char ags_lo[9], ags_hi[9];
	int has_ars;
	char ars_lo[13], ars_hi[13];
	int has_bbox;
	double bbox[4]; /* min_lat, min_lon, max_lat, max_lon */
	int has_near;
	double near_lat, near_lon, near_m;
	/* enum filters as bit sets of the enum's values */
	uint32_t site_kind, usage, marketing, object_type, status;
	int has_area[4]; /* min usable, max usable, min plot, max plot */
	double area[4];
	char max_price[24], max_rent[24];
	char updated_since[40];
	char text[SEARCHQ_TEXT_MAX * 4 + 1];
	int sort; /* Vacancy__V1__SearchSort__Value, never UNSPECIFIED */
	uint32_t page_size;
	unsigned char digest[32]; /* of the normalised filters and sort */
	/* where the walk stands (from the page token) */
	int has_cursor;
	int64_t asof;	  /* the feed position of the first page */
	int key_null;	  /* the last row had no sort key */
	int64_t key_int;  /* UPDATED: microseconds; PRICE: cents */
	double key_float; /* AREA, DISTANCE */
	unsigned char last_id[16];
};

/*
 * A query string (not NUL-free: %00 is refused) to a SearchRequest
 * allocated with alloc. export set: page_size and page_token are not
 * parameters. NULL and err on failure.
 */
Vacancy__V1__SearchRequest *searchq_parse(const char *qs, int export, ProtobufCAllocator *alloc,
					  struct searchq_err *err);

/* Checks req for caller and fills q. 0, or -1 with err. */
int searchq_check(const Vacancy__V1__SearchRequest *req, const struct searchq_limits *lim,
		  const struct searchq_caller *who, enum searchq_mode mode, struct searchq *q,
		  struct searchq_err *err) __attribute__((warn_unused_result));

/*
 * The statement for the next page of q: page_size + 1 rows at most, in
 * order, each with _asof (the walk's feed position), _rid (the record id),
 * _k (the sort key as text, NULL when absent) and the Record columns (all
 * NULL when the record is no longer visible: leave it out). params[] points
 * into q's storage or into pstore (which must outlive the call). Returns the
 * number of parameters, or -1 when sql failed.
 */
struct searchq_params {
	char store[SEARCHQ_MAX_PARAMS][256];
	const char *v[SEARCHQ_MAX_PARAMS];
	int n;
	int overflow; /* more than SEARCHQ_MAX_PARAMS: the statement fails */
};
int searchq_sql(const struct searchq *q, struct buf *sql, struct searchq_params *p)
    __attribute__((warn_unused_result));

/* "SELECT count(*) AS n" of the records q walks, counting at most limit. */
int searchq_count_sql(const struct searchq *q, long limit, struct buf *sql,
		      struct searchq_params *p) __attribute__((warn_unused_result));

/*
 * Moves the walk past a row: asof, the row's _k text (NULL when absent) and
 * _rid. 0, or -1 when the values do not parse.
 */
int searchq_advance(struct searchq *q, const char *asof, const char *k, const char *rid);

/* The text form of a UUID, lower case; and its 16 bytes from text (hex
 * digits of either case, dashes anywhere): 0 or -1. */
void searchq_uuid_text(const unsigned char id[16], char out[37]);
int searchq_uuid_parse(const char *s, unsigned char out[16]);

/* The page token of q's position (after searchq_advance) into out. */
void searchq_token(const struct searchq *q, const struct searchq_caller *who, char *out,
		   size_t outlen);

#endif
