/*
 * search: "vacancy search" and "vacancy export". Owns the table of filter
 * flags (flag, query parameter, form), their checks, the query string, the
 * three outputs of a search (an aligned table, JSON lines, RFC 4180 CSV),
 * the page loop of GET /v1/records and the streamed download of
 * GET /v1/export.geojson.
 *
 * Every filter is checked here before anything is sent, in the form
 * docs/search.md gives it, so that a typo is a usage error (exit 2) and not
 * a round trip; what only the registry knows (the radius cap, the page size
 * cap, which statuses a role may ask for) it checks and answers with 400.
 *
 * Server text is untrusted: in the table every string goes through
 * client_print_escape; JSON lines are our own encoding of the decoded
 * record; CSV carries the data as it came, quoted, for a file.
 *
 * The export does not go through http.c, which reads whole bodies into
 * memory: it has a libcurl handle of its own, set up with the same TLS
 * rules, whose write callback writes straight into FILE.tmp.
 */
#include "search.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "print.h"
#include "utf8.h"

#define SEARCH_COLUMNS	   8	      /* of the table */
#define SEARCH_GAP	   "  "	      /* between columns */
#define SEARCH_ABSENT	   "\u2013"   /* en dash: a value the server did not send */
#define SEARCH_ELLIPSIS	   "\u2026"   /* the end of a cut text */
#define SEARCH_NUMBER_MAX  32	      /* characters of one number in a flag */
#define SEARCH_ERROR_BODY  (64 << 10) /* bytes of an export's error answer kept */
#define SEARCH_EXPORT_TYPE "application/geo+json"

/* The form of a filter's value. */
enum search_form {
	FORM_REGION, /* 2-12 digits, Land 01-16 */
	FORM_BBOX,   /* min_lat,min_lon,max_lat,max_lon */
	FORM_NEAR,   /* lat,lon,radius_m */
	FORM_ENUM,   /* enum names, repeated or comma-separated */
	FORM_AREA,   /* decimal >= 0 */
	FORM_MONEY,  /* decimal >= 0, at most 2 decimals */
	FORM_TIME,   /* RFC 3339 with offset, or a date */
	FORM_TEXT,   /* 1-200 characters */
	FORM_SORT,   /* one enum name */
};

/* One filter flag: its name on the command line and in the query. */
static const struct search_def {
	const char *flag;
	const char *name;
	enum search_form form;
	const ProtobufCEnumDescriptor *values; /* FORM_ENUM */
} search_defs[SEARCH_NPARAM] = {
    [SEARCH_REGION] = {"--region", "region", FORM_REGION, NULL},
    [SEARCH_BBOX] = {"--bbox", "bbox", FORM_BBOX, NULL},
    [SEARCH_NEAR] = {"--near", "near", FORM_NEAR, NULL},
    [SEARCH_SITE_KIND] = {"--site-kind", "site_kind", FORM_ENUM,
			  &vacancy__v1__site_kind__value__descriptor},
    [SEARCH_USAGE] = {"--usage", "usage", FORM_ENUM, &vacancy__v1__usage__value__descriptor},
    [SEARCH_MARKETING] = {"--marketing", "marketing", FORM_ENUM,
			  &vacancy__v1__marketing__value__descriptor},
    [SEARCH_OBJECT_TYPE] = {"--object-type", "object_type", FORM_ENUM,
			    &vacancy__v1__object_type__value__descriptor},
    [SEARCH_STATUS] = {"--status", "status", FORM_ENUM, &vacancy__v1__status__value__descriptor},
    [SEARCH_MIN_USABLE_AREA] = {"--min-usable-area", "min_usable_area_m2", FORM_AREA, NULL},
    [SEARCH_MAX_USABLE_AREA] = {"--max-usable-area", "max_usable_area_m2", FORM_AREA, NULL},
    [SEARCH_MIN_PLOT_AREA] = {"--min-plot-area", "min_plot_area_m2", FORM_AREA, NULL},
    [SEARCH_MAX_PLOT_AREA] = {"--max-plot-area", "max_plot_area_m2", FORM_AREA, NULL},
    [SEARCH_MAX_PRICE] = {"--max-price", "max_purchase_price_eur", FORM_MONEY, NULL},
    [SEARCH_MAX_RENT] = {"--max-rent", "max_rent_eur_month", FORM_MONEY, NULL},
    [SEARCH_UPDATED_SINCE] = {"--updated-since", "updated_since", FORM_TIME, NULL},
    [SEARCH_TEXT] = {"--text", "text", FORM_TEXT, NULL},
    [SEARCH_SORT] = {"--sort", "sort", FORM_SORT, &vacancy__v1__search_sort__value__descriptor},
};

/* ---- Options ---- */

int
search_option_add(struct search_options *o, enum search_param p, const char *arg)
{
	if ((unsigned)p >= SEARCH_NPARAM || o->n[p] >= SEARCH_MAX_ARGS)
		return -1;
	o->arg[p][o->n[p]++] = arg;
	return 0;
}

const char *
search_flag(enum search_param p)
{
	return (unsigned)p < SEARCH_NPARAM ? search_defs[p].flag : "?";
}

void
search_escape(struct buf *b, const char *s, int keep_comma)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
		    (keep_comma && *p == ',')) {
			buf_addc(b, (char)*p);
		} else {
			buf_addc(b, '%');
			buf_addc(b, hex[*p >> 4]);
			buf_addc(b, hex[*p & 0xf]);
		}
	}
}

/*
 * Whether s[0..n) is a decimal "[-]digits[.digits]" (the sign only when
 * sign, at most max_frac decimals unless max_frac < 0); its value in *v.
 */
static int
search_number(const char *s, size_t n, int sign, int max_frac, double *v)
{
	char tmp[SEARCH_NUMBER_MAX + 1];
	size_t i = 0, digits, frac = 0;

	if (n == 0 || n > SEARCH_NUMBER_MAX)
		return 0;
	if (sign && s[0] == '-')
		i++;
	digits = strspn(s + i, "0123456789");
	if (digits == 0 || i + digits > n)
		return 0;
	i += digits;
	if (i < n && s[i] == '.') {
		frac = strspn(s + i + 1, "0123456789");
		if (frac == 0 || (max_frac >= 0 && frac > (size_t)max_frac))
			return 0;
		i += 1 + frac;
	}
	if (i != n)
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*v = strtod(tmp, NULL);
	return 1;
}

/* s escaped for a message (shown holds at least 64 bytes). */
static const char *
search_shown(const char *s, char *shown, size_t len)
{
	return log_escape(s, strlen(s), shown, len);
}

/* Checks a --region value. 0, or -1 with a reason. */
static int
search_check_region(const char *s, char *err, size_t errlen)
{
	char shown[64];
	size_t n = strlen(s);
	int land;

	if (strspn(s, "0123456789") != n || n < 2 || n > 12) {
		snprintf(err, errlen,
			 "--region wants an AGS or ARS prefix of 2 to 12 digits, e.g. 14521, not "
			 "'%s'",
			 search_shown(s, shown, sizeof(shown)));
		return -1;
	}
	land = (s[0] - '0') * 10 + (s[1] - '0');
	if (land < 1 || land > 16) {
		snprintf(err, errlen, "--region %s: no Land has the key %.2s (01 to 16)", s, s);
		return -1;
	}
	return 0;
}

/*
 * Splits s at commas into want numbers in v[] (the last unsigned when
 * last_unsigned). Returns the count found (want when all are numbers), or
 * -1 when a part is not a number.
 */
static int
search_numbers(const char *s, double *v, int want, int last_unsigned)
{
	int n = 0;

	for (const char *p = s;; n++) {
		size_t len = strcspn(p, ",");

		if (n < want &&
		    !search_number(p, len, !(last_unsigned && n == want - 1), -1, &v[n]))
			return -1;
		if (p[len] == '\0')
			return n + 1;
		p += len + 1;
	}
}

/* Checks a position; which names the flag. 0, or -1 with a reason. */
static int
search_check_position(const char *flag, double lat, double lon, char *err, size_t errlen)
{
	if (lat < -90 || lat > 90) {
		snprintf(err, errlen, "%s: latitude %g is outside -90..90", flag, lat);
		return -1;
	}
	if (lon < -180 || lon > 180) {
		snprintf(err, errlen, "%s: longitude %g is outside -180..180", flag, lon);
		return -1;
	}
	return 0;
}

/* Checks --bbox min_lat,min_lon,max_lat,max_lon. 0, or -1 with a reason. */
static int
search_check_bbox(const char *s, char *err, size_t errlen)
{
	char shown[64];
	double v[4];
	int n = search_numbers(s, v, 4, 0);

	if (n != 4) {
		if (n == -1)
			snprintf(err, errlen,
				 "--bbox wants four numbers min_lat,min_lon,max_lat,max_lon, e.g. "
				 "50.5,12.9,50.7,13.1, not '%s'",
				 search_shown(s, shown, sizeof(shown)));
		else
			snprintf(
			    err, errlen,
			    "--bbox wants four numbers min_lat,min_lon,max_lat,max_lon, got %d", n);
		return -1;
	}
	if (search_check_position("--bbox", v[0], v[1], err, errlen) == -1 ||
	    search_check_position("--bbox", v[2], v[3], err, errlen) == -1)
		return -1;
	if (v[0] > v[2] || v[1] > v[3]) {
		snprintf(err, errlen,
			 "--bbox crosses itself: min_lat <= max_lat and min_lon <= max_lon, "
			 "e.g. 50.5,12.9,50.7,13.1");
		return -1;
	}
	return 0;
}

/* Checks --near lat,lon,radius_m. 0, or -1 with a reason. */
static int
search_check_near(const char *s, char *err, size_t errlen)
{
	char shown[64];
	double v[3];
	int n = search_numbers(s, v, 3, 1);

	if (n != 3) {
		if (n == -1)
			snprintf(err, errlen,
				 "--near wants lat,lon,radius_m, e.g. 50.58,13.00,2000, not '%s'",
				 search_shown(s, shown, sizeof(shown)));
		else
			snprintf(err, errlen, "--near wants three numbers lat,lon,radius_m, got %d",
				 n);
		return -1;
	}
	if (search_check_position("--near", v[0], v[1], err, errlen) == -1)
		return -1;
	if (v[2] <= 0) {
		snprintf(err, errlen, "--near: the radius must be more than 0 metres");
		return -1;
	}
	return 0;
}

/* Days of month m (1-12) of year y. */
static int
search_month_days(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* The value of the n digits at s, or -1 when one is not a digit. */
static int
search_digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Whether s starts with a date YYYY-MM-DD (10 characters). */
static int
search_date(const char *s)
{
	int y, m, d;

	if (strnlen(s, 10) < 10 || s[4] != '-' || s[7] != '-')
		return 0;
	y = search_digits(s, 4);
	m = search_digits(s + 5, 2);
	d = search_digits(s + 8, 2);
	return y >= 0 && m >= 1 && m <= 12 && d >= 1 && d <= search_month_days(y, m);
}

/* Whether s is "HH:MM" with HH up to max_h and MM up to 59 (5 characters). */
static int
search_hhmm(const char *s, int max_h)
{
	int h, m;

	if (strnlen(s, 5) < 5 || s[2] != ':')
		return 0;
	h = search_digits(s, 2);
	m = search_digits(s + 3, 2);
	return h >= 0 && h <= max_h && m >= 0 && m <= 59;
}

/*
 * Appends the --updated-since value: an RFC 3339 timestamp with offset as
 * it is, or a date YYYY-MM-DD as its midnight in UTC. 0, or -1 with a
 * reason.
 */
static int
search_time(struct buf *b, const char *s, char *err, size_t errlen)
{
	const char *p = s + 11;
	char shown[64];
	int sec;

	if (search_date(s) && s[10] == '\0') {
		char midnight[32];

		snprintf(midnight, sizeof(midnight), "%.10sT00:00:00Z", s);
		search_escape(b, midnight, 0);
		return 0;
	}
	if (!search_date(s) || s[10] != 'T' || !search_hhmm(p, 23) || p[5] != ':')
		goto bad;
	if ((sec = search_digits(p + 6, 2)) < 0 || sec > 60)
		goto bad;
	p += 8;
	if (*p == '.') {
		size_t frac = strspn(p + 1, "0123456789");

		if (frac == 0 || frac > 9)
			goto bad;
		p += 1 + frac;
	}
	if (*p == 'Z') {
		p++;
	} else if ((*p == '+' || *p == '-') && search_hhmm(p + 1, 23)) {
		p += 6;
	} else {
		goto bad;
	}
	if (*p != '\0')
		goto bad;
	search_escape(b, s, 0);
	return 0;
bad:
	snprintf(err, errlen,
		 "--updated-since wants a date YYYY-MM-DD or an RFC 3339 time with offset, e.g. "
		 "2026-01-31T12:00:00+01:00, not '%s'",
		 search_shown(s, shown, sizeof(shown)));
	return -1;
}

/* Checks --text: 1 to SEARCH_TEXT_MAX characters of UTF-8. 0, or -1 with a reason. */
static int
search_check_text(const char *s, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), chars = 0;
	uint32_t cp;

	for (size_t i = 0; i < n; chars++) {
		int len = utf8_decode(p + i, n - i, &cp);

		if (len < 0) {
			snprintf(err, errlen, "--text is not valid UTF-8 (byte %zu)", i + 1);
			return -1;
		}
		i += (size_t)len;
	}
	if (chars == 0 || chars > SEARCH_TEXT_MAX) {
		snprintf(err, errlen, "--text wants 1 to %d characters, got %zu", SEARCH_TEXT_MAX,
			 chars);
		return -1;
	}
	return 0;
}

/*
 * The name of the value of enum flag def written item (n bytes), matched
 * case-insensitively; UNSPECIFIED is no value. NULL with a reason when it
 * is none.
 */
static const char *
search_enum_name(const struct search_def *def, const char *item, size_t n, char *err, size_t errlen)
{
	const ProtobufCEnumDescriptor *d = def->values;
	char shown[64];
	struct buf names;

	for (unsigned i = 0; i < d->n_values; i++)
		if (d->values[i].value != 0 && strlen(d->values[i].name) == n &&
		    strncasecmp(d->values[i].name, item, n) == 0)
			return d->values[i].name;
	buf_init(&names, 0);
	for (unsigned i = 0; i < d->n_values; i++)
		if (d->values[i].value != 0)
			buf_printf(&names, "%s%s", names.len ? ", " : "", d->values[i].name);
	snprintf(err, errlen, "%s: '%s' is not one of %s", def->flag,
		 log_escape(item, n, shown, sizeof(shown)), names.data ? names.data : "?");
	buf_free(&names);
	return NULL;
}

/*
 * Appends "&name=VALUE" for every value of the comma list s of enum flag
 * def: each value trimmed, matched case-insensitively, sent by its name.
 * 0, or -1 with a reason.
 */
static int
search_enum_list(struct buf *b, const struct search_def *def, const char *s, char *err,
		 size_t errlen)
{
	char shown[64];

	for (const char *p = s;;) {
		size_t len = strcspn(p, ","), skip = strspn(p, " "); /* stops at ',' too */
		const char *item = p + skip, *name;
		size_t n = len - skip;

		while (n > 0 && item[n - 1] == ' ')
			n--;
		if (n == 0) {
			snprintf(err, errlen, "%s: an empty value in '%s'", def->flag,
				 search_shown(s, shown, sizeof(shown)));
			return -1;
		}
		if ((name = search_enum_name(def, item, n, err, errlen)) == NULL)
			return -1;
		buf_printf(b, "%s%s=%s", b->len ? "&" : "", def->name, name);
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* Appends "&name=VALUE" for the single value s of filter def. 0, or -1 with a reason. */
static int
search_scalar(struct buf *b, const struct search_def *def, const char *s, char *err, size_t errlen)
{
	char shown[64];
	double v;

	switch (def->form) {
	case FORM_REGION:
		if (search_check_region(s, err, errlen) == -1)
			return -1;
		break;
	case FORM_BBOX:
		if (search_check_bbox(s, err, errlen) == -1)
			return -1;
		break;
	case FORM_NEAR:
		if (search_check_near(s, err, errlen) == -1)
			return -1;
		break;
	case FORM_AREA:
		if (!search_number(s, strlen(s), 0, -1, &v)) {
			snprintf(err, errlen, "%s wants square metres, a number >= 0, not '%s'",
				 def->flag, search_shown(s, shown, sizeof(shown)));
			return -1;
		}
		break;
	case FORM_MONEY:
		if (!search_number(s, strlen(s), 0, 2, &v)) {
			snprintf(err, errlen,
				 "%s wants euros, a number >= 0 with at most 2 decimals after a "
				 "point, e.g. 1200.50, not '%s'",
				 def->flag, search_shown(s, shown, sizeof(shown)));
			return -1;
		}
		break;
	case FORM_TEXT:
		if (search_check_text(s, err, errlen) == -1)
			return -1;
		break;
	case FORM_SORT:
		if ((s = search_enum_name(def, s, strlen(s), err, errlen)) == NULL)
			return -1;
		break;
	case FORM_TIME:
	case FORM_ENUM:
		break;
	}
	buf_printf(b, "%s%s=", b->len ? "&" : "", def->name);
	if (def->form == FORM_TIME)
		return search_time(b, s, err, errlen);
	search_escape(b, s, def->form == FORM_BBOX || def->form == FORM_NEAR);
	return 0;
}

/* Checks that the value of min is not above that of max (both checked numbers). */
static int
search_check_range(const struct search_options *o, enum search_param min, enum search_param max,
		   char *err, size_t errlen)
{
	if (o->n[min] == 0 || o->n[max] == 0 ||
	    strtod(o->arg[min][0], NULL) <= strtod(o->arg[max][0], NULL))
		return 0;
	snprintf(err, errlen, "%s %s is more than %s %s", search_defs[min].flag, o->arg[min][0],
		 search_defs[max].flag, o->arg[max][0]);
	return -1;
}

/* Parses a whole number 1..SEARCH_MAX_COUNT for flag. 0, or -1 with a reason. */
static int
search_count(const char *flag, const char *s, long *out, char *err, size_t errlen)
{
	char shown[64];
	size_t n = strlen(s);

	if (n == 0 || n > 10 || strspn(s, "0123456789") != n || (*out = atol(s)) < 1 ||
	    *out > SEARCH_MAX_COUNT) {
		snprintf(err, errlen, "%s wants a whole number of at least 1, not '%s'", flag,
			 search_shown(s, shown, sizeof(shown)));
		return -1;
	}
	return 0;
}

/* Checks the options that are not filters. 0, or -1 with a reason. */
static int
search_check_output(const struct search_options *o, enum search_mode mode, struct search_query *q,
		    char *err, size_t errlen)
{
	if (mode == SEARCH_MODE_EXPORT) {
		const char *other = o->json	   ? "--json"
				    : o->csv	   ? "--csv"
				    : o->all	   ? "--all"
				    : o->limit	   ? "--limit"
				    : o->page_size ? "--page-size"
						   : NULL;

		if (other) {
			snprintf(err, errlen, "%s does not go with export: it writes every record",
				 other);
			return -1;
		}
		if (o->geojson == NULL || *o->geojson == '\0') {
			snprintf(err, errlen, "export wants --geojson FILE (or - for stdout)");
			return -1;
		}
		q->geojson = o->geojson;
		return 0;
	}
	if (o->geojson) {
		snprintf(err, errlen, "--geojson is for 'vacancy export'");
		return -1;
	}
	if (o->json && o->csv) {
		snprintf(err, errlen, "--json and --csv exclude each other");
		return -1;
	}
	if (o->all && o->limit) {
		snprintf(err, errlen, "--all and --limit exclude each other");
		return -1;
	}
	if (o->limit && search_count("--limit", o->limit, &q->limit, err, errlen) == -1)
		return -1;
	if (o->page_size &&
	    search_count("--page-size", o->page_size, &q->page_size, err, errlen) == -1)
		return -1;
	q->all = o->all;
	q->format = o->json ? SEARCH_JSON : o->csv ? SEARCH_CSV : SEARCH_TABLE;
	return 0;
}

int
search_check(const struct search_options *o, enum search_mode mode, struct search_query *q,
	     char *err, size_t errlen)
{
	struct buf b;

	memset(q, 0, sizeof(*q));
	q->mode = mode;
	if (search_check_output(o, mode, q, err, errlen) == -1)
		return -1;
	buf_init(&b, 0);
	for (int p = 0; p < SEARCH_NPARAM; p++) {
		const struct search_def *def = &search_defs[p];

		if (def->form != FORM_ENUM && o->n[p] > 1) {
			snprintf(err, errlen, "%s may be given once", def->flag);
			goto fail;
		}
		for (int i = 0; i < o->n[p]; i++) {
			if (def->form == FORM_ENUM
				? search_enum_list(&b, def, o->arg[p][i], err, errlen) == -1
				: search_scalar(&b, def, o->arg[p][i], err, errlen) == -1)
				goto fail;
		}
	}
	if (search_check_range(o, SEARCH_MIN_USABLE_AREA, SEARCH_MAX_USABLE_AREA, err, errlen) ==
		-1 ||
	    search_check_range(o, SEARCH_MIN_PLOT_AREA, SEARCH_MAX_PLOT_AREA, err, errlen) == -1)
		goto fail;
	if (o->n[SEARCH_SORT] && strcasecmp(o->arg[SEARCH_SORT][0], "DISTANCE_ASC") == 0 &&
	    o->n[SEARCH_NEAR] == 0) {
		snprintf(err, errlen, "--sort DISTANCE_ASC needs --near: the distance from where?");
		goto fail;
	}
	if (buf_failed(&b)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	q->filters = b.len ? buf_detach(&b, NULL) : strdup("");
	if (q->filters == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return 0;
fail:
	buf_free(&b);
	return -1;
}

void
search_query_free(struct search_query *q)
{
	free(q->filters);
	q->filters = NULL;
}

char *
search_path(const struct search_query *q, const char *page_token, long page_size)
{
	struct buf b;
	const char *sep = "?";

	buf_init(&b, 0);
	buf_adds(&b, q->mode == SEARCH_MODE_EXPORT ? "/v1/export.geojson" : "/v1/records");
	if (q->filters && *q->filters) {
		buf_printf(&b, "?%s", q->filters);
		sep = "&";
	}
	if (q->mode == SEARCH_MODE_RECORDS && page_size > 0) {
		buf_printf(&b, "%spage_size=%ld", sep, page_size);
		sep = "&";
	}
	if (q->mode == SEARCH_MODE_RECORDS && page_token) {
		buf_printf(&b, "%spage_token=", sep);
		search_escape(&b, page_token, 0);
	}
	if (buf_failed(&b)) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* ---- Output ---- */

static const struct search_col {
	const char *head;
	int right; /* right-aligned (numbers) */
} search_cols[SEARCH_COLUMNS] = {
    {"record id", 0},	   {"AGS", 0},	 {"object type", 0}, {"status", 0},
    {"usable m\u00b2", 1}, {"price", 1}, {"locality", 0},    {"title", 0},
};

static const char *const search_csv_head[] = {
    "record_id",
    "municipality_ags",
    "site_kind",
    "object_type",
    "status",
    "usage",
    "marketing",
    "usable_area_m2",
    "plot_area_m2",
    "purchase_price_eur",
    "rent_eur_month",
    "price_on_request",
    "street",
    "house_number",
    "postcode",
    "locality",
    "lat",
    "lon",
    "updated_at",
    "title",
};

#define SEARCH_CSV_COLUMNS (sizeof(search_csv_head) / sizeof(search_csv_head[0]))

void
search_out_init(struct search_out *so, enum search_format format, FILE *out)
{
	memset(so, 0, sizeof(*so));
	so->format = format;
	so->out = out;
}

void
search_out_free(struct search_out *so)
{
	for (size_t i = 0; i < so->nrow * SEARCH_COLUMNS; i++)
		free(so->cells[i]);
	free(so->cells);
	so->cells = NULL;
	so->nrow = so->cap = 0;
}

/* Terminal columns of valid UTF-8 text: one per character. */
static size_t
search_width(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/*
 * Cuts what was appended to b since start (valid UTF-8) to at most columns
 * characters, the last of them an ellipsis when anything was cut.
 */
static void
search_cut(struct buf *b, size_t start, size_t columns)
{
	size_t w = 0, i;

	if (buf_failed(b) || search_width(b->data + start, b->len - start) <= columns)
		return;
	for (i = start; i < b->len; i++) {
		if (((unsigned char)b->data[i] & 0xc0) != 0x80 && w++ == columns - 1)
			break;
	}
	b->len = i;
	b->data[i] = '\0';
	buf_adds(b, SEARCH_ELLIPSIS);
}

/* Appends untrusted text on one line, escaped, cut to columns (0: not cut). */
static void
search_text_cell(struct buf *b, const char *s, size_t columns)
{
	size_t start = b->len;

	if (s == NULL || *s == '\0') {
		buf_adds(b, SEARCH_ABSENT);
		return;
	}
	client_print_escape(b, s, strlen(s), PRINT_NL_C);
	if (columns)
		search_cut(b, start, columns);
}

/* Appends the name of enum value v, or its number when the descriptor lacks it. */
static void
search_enum(struct buf *b, const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);

	if (ev)
		buf_adds(b, ev->name);
	else
		buf_printf(b, "%d", v);
}

/* Appends the digits of num with a comma between thousands ("1234567" -> "1,234,567"). */
static void
search_grouped(struct buf *b, const char *num, size_t intlen)
{
	for (size_t i = 0; i < intlen; i++) {
		if (i > 0 && (intlen - i) % 3 == 0)
			buf_addc(b, ',');
		buf_addc(b, num[i]);
	}
}

/* Appends an amount of euros from the server: grouped when a plain decimal, else escaped. */
static void
search_money(struct buf *b, const char *s, const char *unit)
{
	double v;
	size_t intlen = strspn(s, "0123456789");

	if (search_number(s, strlen(s), 0, -1, &v)) {
		search_grouped(b, s, intlen);
		buf_adds(b, s + intlen);
	} else {
		client_print_escape(b, s, strlen(s), PRINT_NL_C);
	}
	buf_adds(b, unit);
}

/* Appends an area in whole square metres, grouped. */
static void
search_area(struct buf *b, double v)
{
	char tmp[400];

	if (!isfinite(v) || v < 0) {
		buf_printf(b, "%g", v);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%.0f", round(v));
	search_grouped(b, tmp, strlen(tmp));
}

/* Renders the table cells of r into cell[SEARCH_COLUMNS]. */
static void
search_table_row(struct buf *cell, const Vacancy__V1__Record *r)
{
	search_text_cell(&cell[0], r->record_id, 0);
	search_text_cell(&cell[1], r->municipality_ags, 0);
	if (r->has_object_type)
		search_enum(&cell[2], &vacancy__v1__object_type__value__descriptor,
			    (int)r->object_type);
	else
		buf_adds(&cell[2], SEARCH_ABSENT);
	if (r->has_status)
		search_enum(&cell[3], &vacancy__v1__status__value__descriptor, (int)r->status);
	else
		buf_adds(&cell[3], SEARCH_ABSENT);
	if (r->has_usable_area_m2)
		search_area(&cell[4], r->usable_area_m2);
	else
		buf_adds(&cell[4], SEARCH_ABSENT);
	if (r->purchase_price_eur && *r->purchase_price_eur)
		search_money(&cell[5], r->purchase_price_eur, " EUR");
	else if (r->rent_eur_month && *r->rent_eur_month)
		search_money(&cell[5], r->rent_eur_month, " EUR/month");
	else if (r->has_price_on_request && r->price_on_request)
		buf_adds(&cell[5], "on request");
	else
		buf_adds(&cell[5], SEARCH_ABSENT);
	search_text_cell(&cell[6], r->locality, SEARCH_LOCALITY_COLUMNS);
	search_text_cell(&cell[7], r->title, SEARCH_TITLE_COLUMNS);
}

/* Keeps a row of cells (the bufs' texts are taken). 0 or -1. */
static int
search_table_add(struct search_out *so, struct buf *cell)
{
	if (so->nrow == so->cap) {
		size_t cap = so->cap ? so->cap * 2 : 64;
		char **cells = realloc(so->cells, cap * SEARCH_COLUMNS * sizeof(*cells));

		if (cells == NULL)
			return -1;
		so->cells = cells;
		so->cap = cap;
	}
	for (size_t c = 0; c < SEARCH_COLUMNS; c++)
		if (buf_failed(&cell[c]))
			return -1;
	for (size_t c = 0; c < SEARCH_COLUMNS; c++) {
		char *s = cell[c].len ? buf_detach(&cell[c], NULL) : strdup("");

		if (s == NULL) {
			for (size_t k = 0; k < c; k++)
				free(so->cells[so->nrow * SEARCH_COLUMNS + k]);
			return -1;
		}
		so->cells[so->nrow * SEARCH_COLUMNS + c] = s;
	}
	so->nrow++;
	return 0;
}

/* Appends one CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF. */
static void
search_csv_field(struct buf *b, const char *s)
{
	if (s[strcspn(s, ",\"\r\n")] == '\0') {
		buf_adds(b, s);
		return;
	}
	buf_addc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			buf_addc(b, '"');
		buf_addc(b, *s);
	}
	buf_addc(b, '"');
}

/* Appends v as the shortest plain decimal that reads back as v. */
static void
search_csv_double(struct buf *b, double v)
{
	char tmp[400];
	int prec;

	if (!isfinite(v)) {
		buf_adds(b, isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
		return;
	}
	for (prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*f", prec, v == 0 ? 0.0 : v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	buf_adds(b, tmp);
}

/* Appends the names of a repeated enum field separated by '|' (as the sync CSV has them). */
static void
search_csv_enums(struct buf *b, const ProtobufCEnumDescriptor *d, const int *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(b, '|');
		search_enum(b, d, v[i]);
	}
}

/* Renders the CSV cells of r into cell[SEARCH_CSV_COLUMNS]; absent values are empty. */
static void
search_csv_row(struct buf *cell, const Vacancy__V1__Record *r)
{
	const char *text[SEARCH_CSV_COLUMNS] = {
	    [0] = r->record_id,	      [1] = r->municipality_ags, [9] = r->purchase_price_eur,
	    [10] = r->rent_eur_month, [12] = r->street,		 [13] = r->house_number,
	    [14] = r->postcode,	      [15] = r->locality,	 [18] = r->updated_at,
	    [19] = r->title,
	};

	for (size_t c = 0; c < SEARCH_CSV_COLUMNS; c++)
		if (text[c])
			buf_adds(&cell[c], text[c]);
	if (r->has_site_kind)
		search_enum(&cell[2], &vacancy__v1__site_kind__value__descriptor,
			    (int)r->site_kind);
	if (r->has_object_type)
		search_enum(&cell[3], &vacancy__v1__object_type__value__descriptor,
			    (int)r->object_type);
	if (r->has_status)
		search_enum(&cell[4], &vacancy__v1__status__value__descriptor, (int)r->status);
	search_csv_enums(&cell[5], &vacancy__v1__usage__value__descriptor, (const int *)r->usage,
			 r->n_usage);
	search_csv_enums(&cell[6], &vacancy__v1__marketing__value__descriptor,
			 (const int *)r->marketing, r->n_marketing);
	if (r->has_usable_area_m2)
		search_csv_double(&cell[7], r->usable_area_m2);
	if (r->has_plot_area_m2)
		search_csv_double(&cell[8], r->plot_area_m2);
	if (r->has_price_on_request)
		buf_adds(&cell[11], r->price_on_request ? "true" : "false");
	if (r->location && r->location->has_lat)
		search_csv_double(&cell[16], r->location->lat);
	if (r->location && r->location->has_lon)
		search_csv_double(&cell[17], r->location->lon);
}

/* Writes b to so->out and frees it. 0, or -1 (and so->failed) when b or the write failed. */
static int
search_out_write(struct search_out *so, struct buf *b)
{
	if (buf_failed(b) || (b->len && fwrite(b->data, 1, b->len, so->out) != b->len) ||
	    ferror(so->out))
		so->failed = 1;
	buf_free(b);
	return so->failed ? -1 : 0;
}

int
search_out_record(struct search_out *so, const Vacancy__V1__Record *r)
{
	struct buf b, cell[SEARCH_CSV_COLUMNS];
	size_t ncell = so->format == SEARCH_CSV ? SEARCH_CSV_COLUMNS : SEARCH_COLUMNS;
	int rc = 0;

	if (so->failed)
		return -1;
	buf_init(&b, 0);
	for (size_t c = 0; c < ncell; c++)
		buf_init(&cell[c], 0);
	switch (so->format) {
	case SEARCH_JSON:
		if (json_encode(&r->base, &b, 0) == -1)
			b.failed = 1;
		buf_addc(&b, '\n');
		rc = search_out_write(so, &b);
		break;
	case SEARCH_CSV:
		if (so->count == 0) {
			for (size_t c = 0; c < SEARCH_CSV_COLUMNS; c++)
				buf_printf(&b, "%s%s", c ? "," : "", search_csv_head[c]);
			buf_adds(&b, "\r\n");
		}
		search_csv_row(cell, r);
		for (size_t c = 0; c < SEARCH_CSV_COLUMNS; c++) {
			if (c > 0)
				buf_addc(&b, ',');
			if (buf_failed(&cell[c]))
				b.failed = 1;
			search_csv_field(&b, cell[c].data ? cell[c].data : "");
		}
		buf_adds(&b, "\r\n");
		rc = search_out_write(so, &b);
		break;
	case SEARCH_TABLE:
		search_table_row(cell, r);
		if (search_table_add(so, cell) == -1) {
			so->failed = 1;
			rc = -1;
		}
		buf_free(&b);
		break;
	}
	for (size_t c = 0; c < ncell; c++)
		buf_free(&cell[c]);
	if (rc == 0)
		so->count++;
	return rc;
}

/* Appends one table line (the header when cells is NULL), without trailing spaces. */
static void
search_table_line(struct buf *b, const size_t *width, char *const *cells)
{
	size_t start = b->len;

	for (size_t c = 0; c < SEARCH_COLUMNS; c++) {
		const char *s = cells ? cells[c] : search_cols[c].head;
		size_t pad = width[c] - search_width(s, strlen(s));

		if (c > 0)
			buf_adds(b, SEARCH_GAP);
		for (size_t i = 0; search_cols[c].right && i < pad; i++)
			buf_addc(b, ' ');
		buf_adds(b, s);
		for (size_t i = 0; !search_cols[c].right && i < pad; i++)
			buf_addc(b, ' ');
	}
	while (b->len > start && b->data[b->len - 1] == ' ')
		b->data[--b->len] = '\0';
	buf_addc(b, '\n');
}

int
search_out_finish(struct search_out *so)
{
	size_t width[SEARCH_COLUMNS];
	struct buf b;

	if (so->failed)
		return -1;
	if (so->format != SEARCH_TABLE || so->nrow == 0)
		return 0;
	for (size_t c = 0; c < SEARCH_COLUMNS; c++) {
		width[c] = search_width(search_cols[c].head, strlen(search_cols[c].head));
		for (size_t r = 0; r < so->nrow; r++) {
			const char *s = so->cells[r * SEARCH_COLUMNS + c];
			size_t w = search_width(s, strlen(s));

			if (w > width[c])
				width[c] = w;
		}
	}
	buf_init(&b, 0);
	search_table_line(&b, width, NULL);
	for (size_t r = 0; r < so->nrow; r++)
		search_table_line(&b, width, &so->cells[r * SEARCH_COLUMNS]);
	return search_out_write(so, &b);
}

/* ---- The commands ---- */

/* The page_size to ask for when got records are taken: 0 for the registry's default. */
static long
search_page_want(const struct search_query *q, size_t got)
{
	long size = q->page_size ? q->page_size : SEARCH_DEFAULT_PAGE, left;

	if (q->limit == 0)
		return q->page_size;
	left = q->limit - (long)got;
	return left < size ? left : q->page_size;
}

/*
 * GET /v1/records page by page: one page, every page (--all) or until
 * q->limit records; each record goes to so. Sets *more when the registry
 * has records after the last one taken. 0, or -1 having said why.
 */
static int
search_pages(struct client_http *h, const struct search_query *q,
	     const struct client_http_config *cfg, struct search_out *so, int *more)
{
	struct client_response resp;
	Vacancy__V1__SearchResponse *page = NULL;
	char *path = NULL, *token = NULL, *next;
	const char *why = NULL;
	int rc = -1;

	client_response_init(&resp);
	for (;;) {
		if ((path = search_path(q, token, search_page_want(q, so->count))) == NULL) {
			fprintf(stderr, "vacancy: out of memory\n");
			goto done;
		}
		if (client_http_get(h, path, CLIENT_HTTP_PROTOBUF, &resp) == -1) {
			fprintf(stderr, "vacancy: %s\n", client_http_error(h));
			goto done;
		}
		free(path);
		path = NULL;
		if (client_http_expect(&resp, cfg, "/v1/records", CLIENT_HTTP_PROTOBUF) == -1)
			goto done;
		page = (Vacancy__V1__SearchResponse *)client_http_unpack(
		    &resp, &vacancy__v1__search_response__descriptor, &why);
		if (page == NULL) {
			fprintf(stderr,
				"vacancy: cannot read the SearchResponse the server sent: %s (%zu "
				"bytes)\n",
				why, resp.body.len);
			goto done;
		}
		for (size_t i = 0; i < page->n_records; i++) {
			if (q->limit && so->count >= (size_t)q->limit)
				break;
			if (page->records[i] && search_out_record(so, page->records[i]) == -1)
				goto write_failed;
		}
		*more = page->next_page_token && *page->next_page_token;
		next = *more ? strdup(page->next_page_token) : NULL;
		if (*more && next == NULL) {
			fprintf(stderr, "vacancy: out of memory\n");
			goto done;
		}
		if (next && token && strcmp(next, token) == 0) {
			fprintf(stderr, "vacancy: the registry sent the same page token twice\n");
			free(next);
			goto done;
		}
		free(token);
		token = next;
		client_http_free_message(&page->base);
		page = NULL;
		if (!*more || (q->limit ? so->count >= (size_t)q->limit : !q->all))
			break;
		if (so->format != SEARCH_TABLE && fflush(so->out) != 0)
			goto write_failed;
	}
	rc = 0;
	goto done;
write_failed:
	if (!ferror(so->out))
		fprintf(stderr, "vacancy: out of memory\n");
done:
	if (page)
		client_http_free_message(&page->base);
	client_response_free(&resp);
	free(path);
	free(token);
	return rc;
}

/* vacancy search: the pages, then the table or the last lines. */
static int
search_records(const struct search_query *q, const struct client_http_config *cfg)
{
	struct client_http *h = NULL;
	struct search_out so;
	char err[512];
	int more = 0, rc = 1;

	search_out_init(&so, q->format, stdout);
	if (client_http_open(&h, cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancy: %s\n", err);
		goto done;
	}
	if (search_pages(h, q, cfg, &so, &more) == -1)
		goto done;
	if (search_out_finish(&so) == -1) {
		if (!ferror(stdout))
			fprintf(stderr, "vacancy: out of memory\n");
		goto done; /* main reports a write error */
	}
	if (so.count == 0 && q->format == SEARCH_TABLE)
		fputs("vacancy: no records match\n", stderr);
	if (more && !q->all && !q->limit)
		fprintf(stderr,
			"vacancy: more records follow: --all lists every page, --limit N the "
			"first N\n");
	rc = 0;
done:
	search_out_free(&so);
	client_http_close(h);
	return rc;
}

/* Where the export's body goes. */
struct search_sink {
	CURL *curl;		     /* borrowed */
	FILE *file;		     /* borrowed: FILE.tmp or stdout */
	struct client_response resp; /* status, media type and, unless 200, the body */
	int started;		     /* the status is known */
	int write_errno;	     /* writing the file failed with it */
	int wrong_type;		     /* a 200 that is not GeoJSON */
};

/* libcurl write callback: a 200 goes to the file, anything else to memory. */
static size_t
search_sink_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct search_sink *s = arg;
	size_t n = size * nmemb;
	char *ct = NULL;

	if (!s->started) {
		s->started = 1;
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->resp.status);
		if (curl_easy_getinfo(s->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct) {
			size_t k = 0;

			for (ct += strspn(ct, " "); *ct && *ct != ';' && *ct != ' ' &&
						    k + 1 < sizeof(s->resp.content_type);
			     ct++)
				s->resp.content_type[k++] =
				    (*ct >= 'A' && *ct <= 'Z') ? (char)(*ct - 'A' + 'a') : *ct;
			s->resp.content_type[k] = '\0';
		}
		if (s->resp.status == 200 &&
		    strcmp(s->resp.content_type, SEARCH_EXPORT_TYPE) != 0) {
			s->wrong_type = 1;
			return 0;
		}
	}
	if (s->resp.status != 200) {
		buf_add(&s->resp.body, data, n);
		return n; /* beyond its cap the buffer just stops growing */
	}
	if (n && fwrite(data, 1, n, s->file) != n) {
		s->write_errno = errno ? errno : EIO;
		return 0;
	}
	return n;
}

#define SEARCH_SETOPT(opt, val)                                                                    \
	do {                                                                                       \
		if ((rc = curl_easy_setopt(curl, (opt), (val))) != CURLE_OK)                       \
			goto fail;                                                                 \
	} while (0)

/*
 * Sets up curl like http.c sets up its sessions (TLS verification, TLS 1.2
 * at least, no redirects, the bearer token only to this host, no proxy for
 * plain http) for GET url. --timeout bounds the connection and any stall,
 * not the whole download. 0, or -1 with a reason.
 */
static int
search_export_setup(CURL *curl, const char *url, int plain, const struct client_http_config *cfg,
		    struct curl_slist *headers, struct search_sink *s, char *errbuf, char *err,
		    size_t errlen)
{
	CURLcode rc;

	SEARCH_SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SEARCH_SETOPT(CURLOPT_URL, url);
	SEARCH_SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SEARCH_SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SEARCH_SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SEARCH_SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cfg->cacert)
		SEARCH_SETOPT(CURLOPT_CAINFO, cfg->cacert);
	SEARCH_SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SEARCH_SETOPT(CURLOPT_CONNECTTIMEOUT, cfg->timeout_s);
	SEARCH_SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SEARCH_SETOPT(CURLOPT_LOW_SPEED_TIME, cfg->timeout_s);
	SEARCH_SETOPT(CURLOPT_NOSIGNAL, 1L);
	SEARCH_SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	if (cfg->user_agent)
		SEARCH_SETOPT(CURLOPT_USERAGENT, cfg->user_agent);
	if (plain)
		SEARCH_SETOPT(CURLOPT_NOPROXY, "*");
	if (cfg->token && *cfg->token) {
		SEARCH_SETOPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		SEARCH_SETOPT(CURLOPT_XOAUTH2_BEARER, cfg->token);
	}
	SEARCH_SETOPT(CURLOPT_HTTPHEADER, headers);
	SEARCH_SETOPT(CURLOPT_HTTPGET, 1L);
	SEARCH_SETOPT(CURLOPT_WRITEFUNCTION, search_sink_cb);
	SEARCH_SETOPT(CURLOPT_WRITEDATA, s);
	return 0;
fail:
	snprintf(err, errlen, "cannot set up the request: %s", curl_easy_strerror(rc));
	return -1;
}

/*
 * The URL of path (escaped, with its query) under the configured base URL,
 * whose path prefix is kept. Owned by the caller (curl_free); NULL on failure.
 * *plain tells whether the scheme is http.
 */
static char *
search_export_url(const char *base, const char *path, int *plain)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *prefix = NULL, *url = NULL;
	struct buf full;
	size_t len;

	buf_init(&full, 0);
	if (u == NULL || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &prefix, 0) != CURLUE_OK)
		goto done;
	*plain = strcmp(scheme, "http") == 0;
	len = strlen(prefix);
	while (len > 0 && prefix[len - 1] == '/')
		len--;
	buf_add(&full, prefix, len);
	buf_adds(&full, path);
	if (buf_failed(&full) || curl_url_set(u, CURLUPART_PATH, full.data, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		url = NULL;
done:
	buf_free(&full);
	curl_free(scheme);
	curl_free(prefix);
	curl_url_cleanup(u);
	return url;
}

/* Opens FILE.tmp (name in tmp) for writing, or stdout for "-". NULL with errno. */
static FILE *
search_export_open(const char *file, struct buf *tmp)
{
	int fd;
	FILE *f;

	if (strcmp(file, "-") == 0)
		return stdout;
	buf_printf(tmp, "%s.tmp", file);
	if (buf_failed(tmp)) {
		errno = ENOMEM;
		return NULL;
	}
	if ((fd = open(tmp->data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) == -1)
		return NULL;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(tmp->data);
	}
	return f;
}

/* Makes FILE.tmp the FILE: flushed, synced, closed, renamed. 0, or -1 with errno. */
static int
search_export_commit(FILE *f, const char *tmp, const char *file)
{
	int rc = 0, saved;

	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) == -1)
		rc = -1;
	saved = errno;
	if (fclose(f) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc == 0 && rename(tmp, file) == -1) {
		rc = -1;
		saved = errno;
	}
	errno = saved;
	return rc;
}

/*
 * vacancy export: GET /v1/export.geojson streamed into FILE.tmp, renamed to
 * FILE when the whole answer arrived with 200; otherwise the server's Error
 * is printed and neither file is left.
 */
static int
search_export(const struct search_query *q, const struct client_http_config *cfg)
{
	struct search_sink sink = {0};
	struct curl_slist *headers = NULL, *more;
	struct buf tmp;
	CURL *curl = NULL;
	FILE *f = NULL;
	char *path = NULL, *url = NULL, errbuf[CURL_ERROR_SIZE] = "", err[512], shown[256];
	CURLcode rc;
	int plain = 0, status = 1, to_stdout = strcmp(q->geojson, "-") == 0;

	buf_init(&tmp, 0);
	client_response_init(&sink.resp);
	buf_init(&sink.resp.body, SEARCH_ERROR_BODY);
	if ((path = search_path(q, NULL, 0)) == NULL ||
	    (url = search_export_url(cfg->url, path, &plain)) == NULL ||
	    (curl = curl_easy_init()) == NULL ||
	    (more = curl_slist_append(NULL, "Accept: " SEARCH_EXPORT_TYPE ", " CLIENT_HTTP_JSON)) ==
		NULL) {
		fprintf(stderr, "vacancy: cannot set up the request: out of memory\n");
		goto done;
	}
	headers = more;
	if ((f = search_export_open(q->geojson, &tmp)) == NULL) {
		fprintf(stderr, "vacancy: cannot write %s: %s\n",
			log_escape(tmp.data ? tmp.data : q->geojson,
				   strlen(tmp.data ? tmp.data : q->geojson), shown, sizeof(shown)),
			strerror(errno));
		goto done;
	}
	sink.curl = curl;
	sink.file = f;
	if (search_export_setup(curl, url, plain, cfg, headers, &sink, errbuf, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "vacancy: %s\n", err);
		goto done;
	}
	rc = curl_easy_perform(curl);
	if (!sink.started)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &sink.resp.status);
	if (sink.write_errno) {
		fprintf(stderr, "vacancy: writing %s: %s\n",
			to_stdout ? "the output"
				  : log_escape(tmp.data, tmp.len, shown, sizeof(shown)),
			strerror(sink.write_errno));
		goto done;
	}
	if (sink.wrong_type) {
		fprintf(stderr, "vacancy: expected %s from the server, got %s\n",
			SEARCH_EXPORT_TYPE,
			sink.resp.content_type[0]
			    ? log_escape(sink.resp.content_type, sizeof(sink.resp.content_type),
					 shown, sizeof(shown))
			    : "no Content-Type");
		goto done;
	}
	if (rc != CURLE_OK) {
		fprintf(stderr, "vacancy: %s\n", errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto done;
	}
	if (sink.resp.status != 200) {
		(void)client_http_expect(&sink.resp, cfg, "/v1/export.geojson", SEARCH_EXPORT_TYPE);
		goto done;
	}
	if (!sink.started) {
		fprintf(stderr, "vacancy: the registry answered 200 without a body\n");
		goto done;
	}
	if (to_stdout) {
		status = fflush(stdout) == 0 ? 0 : 1; /* main reports a write error */
		goto done;
	}
	if (search_export_commit(f, tmp.data, q->geojson) == -1) {
		f = NULL;
		fprintf(stderr, "vacancy: writing %s: %s\n",
			log_escape(q->geojson, strlen(q->geojson), shown, sizeof(shown)),
			strerror(errno));
		unlink(tmp.data);
		goto done;
	}
	f = NULL;
	status = 0;
done:
	if (f && f != stdout) {
		fclose(f);
		unlink(tmp.data);
	}
	if (curl)
		curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	curl_free(url);
	free(path);
	buf_free(&tmp);
	client_response_free(&sink.resp);
	return status;
}

int
search_command(const struct search_options *o, enum search_mode mode,
	       const struct client_http_config *cfg)
{
	struct search_query q;
	char err[512];
	int rc;

	if (search_check(o, mode, &q, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancy: %s\nrun 'vacancy help %s' for its usage\n", err,
			mode == SEARCH_MODE_EXPORT ? "export" : "search");
		return strcmp(err, "out of memory") == 0 ? 1 : 2;
	}
	if (client_http_check(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancy: %s\nrun 'vacancy --help' for usage\n", err);
		search_query_free(&q);
		return 2;
	}
	rc = mode == SEARCH_MODE_EXPORT ? search_export(&q, cfg) : search_records(&q, cfg);
	search_query_free(&q);
	return rc;
}
