/*
 * searchq: a search from request to SQL. See searchq.h and docs/search.md.
 *
 * The statement has one shape for every search:
 *
 *   WITH k AS (current versions  [UNION ALL  versions at the walk's position])
 *   , page AS (the next page_size + 1 keys in order, after the last row)
 *   SELECT _asof, _rid, _k, <Record columns> FROM page LEFT JOIN <content>
 *
 * k holds the keys that filters and order use under the same names for
 * every source (the investor views, the registry tables, the kept
 * versions); filters are written once against those names and PostgreSQL
 * pulls them down into each source, where the partial indexes of 005/009
 * serve them. Content is joined last and is current: a record no longer
 * visible to the caller comes back with NULL content and is left out.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "log.h"
#include "searchq.h"
#include "validate.h"

#define SEARCHQ_VALUE_MAX 1024 /* bytes of one decoded parameter value */
#define PT_VERSION	  1
#define PT_PAYLOAD	  44
#define PT_MAC		  16
#define PT_LEN		  (PT_PAYLOAD + PT_MAC)

static int sq_fail(struct searchq_err *e, int status, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
sq_fail(struct searchq_err *e, int status, const char *param, const char *fmt, ...)
{
	va_list ap;
	int n;

	e->status = status;
	snprintf(e->param, sizeof(e->param), "%s", param);
	n = snprintf(e->message, sizeof(e->message), "%s: ", param);
	if (n < 0 || (size_t)n >= sizeof(e->message))
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->message + n, sizeof(e->message) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- the query string ---- */

static int
sq_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..n) ('+' is a space) into out; -1 on a bad escape,
 * %00, or more than outlen - 1 bytes. */
static int
sq_unescape(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			if ((hi = sq_hex(s[i + 1])) < 0 || (lo = sq_hex(s[i + 2])) < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
			if (c == 0)
				return -1;
		} else if (c == '+') {
			c = ' ';
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}

/* A plain decimal number (no hex, no inf/nan) that is finite. */
static int
sq_number(const char *s, double *out)
{
	const char *p = s;
	char *end;

	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p) || strlen(s) > 40)
		return -1;
	for (; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p) && *p != '.' && *p != 'e' && *p != 'E' &&
		    *p != '-' && *p != '+')
			return -1;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out) ? 0 : -1;
}

static void *
sq_alloc(ProtobufCAllocator *a, size_t n)
{
	return a->alloc(a->allocator_data, n);
}

static char *
sq_strdup(ProtobufCAllocator *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = sq_alloc(a, n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

/* Appends the enum values named in the comma list v to a repeated field. */
static int
sq_set_enums(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, char *v, ProtobufCAllocator *a,
	     struct searchq_err *err)
{
	const ProtobufCEnumDescriptor *ed = f->descriptor;
	size_t *n = (size_t *)((char *)m + f->quantifier_offset);
	int **arr = (int **)((char *)m + f->offset);
	char *save = NULL, *name;

	if (*v == '\0' || *v == ',' || v[strlen(v) - 1] == ',' || strstr(v, ",,") != NULL)
		return sq_fail(err, 400, f->name, "an empty value in the list");
	for (name = strtok_r(v, ",", &save); name != NULL; name = strtok_r(NULL, ",", &save)) {
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value_by_name(ed, name);
		int *grown;

		if (ev == NULL || ev->value == 0) {
			char esc[48];

			return sq_fail(err, 400, f->name, "unknown value '%s'",
				       log_escape(name, strlen(name), esc, sizeof(esc)));
		}
		if (*n >= 64)
			return sq_fail(err, 400, f->name, "too many values");
		if ((grown = sq_alloc(a, (*n + 1) * sizeof(int))) == NULL)
			return sq_fail(err, 503, f->name, "out of memory");
		if (*n > 0)
			memcpy(grown, *arr, *n * sizeof(int));
		if (*arr != NULL)
			a->free(a->allocator_data, *arr);
		grown[(*n)++] = ev->value;
		*arr = grown;
	}
	return 0;
}

/* A sub-message of doubles (BBox, Near) from "a,b,c" in field order. */
static int
sq_set_tuple(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, char *v, ProtobufCAllocator *a,
	     struct searchq_err *err)
{
	const ProtobufCMessageDescriptor *md = f->descriptor;
	ProtobufCMessage **slot = (ProtobufCMessage **)((char *)m + f->offset);
	ProtobufCMessage *sub;
	char *save = NULL, *tok = v;
	char names[96] = "";

	for (unsigned i = 0; i < md->n_fields; i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? "," : "",
			 md->fields[i].name);
	if (*slot != NULL)
		return sq_fail(err, 400, f->name, "given more than once");
	if ((sub = sq_alloc(a, md->sizeof_message)) == NULL)
		return sq_fail(err, 503, f->name, "out of memory");
	md->message_init(sub);
	*slot = sub;
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *sf = &md->fields[i];
		double d;

		tok = strtok_r(i == 0 ? v : NULL, ",", &save);
		if (tok == NULL || sq_number(tok, &d) == -1)
			return sq_fail(err, 400, f->name, "expected %u numbers %s", md->n_fields,
				       names);
		*(protobuf_c_boolean *)((char *)sub + sf->quantifier_offset) = 1;
		*(double *)((char *)sub + sf->offset) = d;
	}
	if (strtok_r(NULL, ",", &save) != NULL)
		return sq_fail(err, 400, f->name, "expected %u numbers %s", md->n_fields, names);
	return 0;
}

/* Sets field f of the SearchRequest m from the decoded value v. */
static int
sq_set_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, char *v, ProtobufCAllocator *a,
	     struct searchq_err *err)
{
	void *at = (char *)m + f->offset;
	protobuf_c_boolean *has = (protobuf_c_boolean *)((char *)m + f->quantifier_offset);
	double d;

	if (f->type == PROTOBUF_C_TYPE_ENUM && f->label == PROTOBUF_C_LABEL_REPEATED)
		return sq_set_enums(m, f, v, a, err);
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return sq_set_tuple(m, f, v, a, err);
	if ((f->type == PROTOBUF_C_TYPE_STRING && *(char **)at != NULL) ||
	    (f->type != PROTOBUF_C_TYPE_STRING && *has))
		return sq_fail(err, 400, f->name, "given more than once");
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		if ((*(char **)at = sq_strdup(a, v)) == NULL)
			return sq_fail(err, 503, f->name, "out of memory");
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		if (sq_number(v, &d) == -1)
			return sq_fail(err, 400, f->name, "expected a decimal number");
		*(double *)at = d;
		*has = 1;
		return 0;
	case PROTOBUF_C_TYPE_UINT32: {
		size_t n = strlen(v);
		unsigned long long u;

		if (n == 0 || n > 10 || strspn(v, "0123456789") != n ||
		    (u = strtoull(v, NULL, 10)) > UINT32_MAX)
			return sq_fail(err, 400, f->name, "expected a whole number");
		*(uint32_t *)at = (uint32_t)u;
		*has = 1;
		return 0;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, v);
		char esc[48];

		if (ev == NULL || ev->value == 0)
			return sq_fail(err, 400, f->name, "unknown value '%s'",
				       log_escape(v, strlen(v), esc, sizeof(esc)));
		*(int *)at = ev->value;
		*has = 1;
		return 0;
	}
	default:
		return sq_fail(err, 400, f->name, "not a query parameter");
	}
}

Vacancy__V1__SearchRequest *
searchq_parse(const char *qs, int export, ProtobufCAllocator *alloc, struct searchq_err *err)
{
	const ProtobufCMessageDescriptor *md = &vacancy__v1__search_request__descriptor;
	Vacancy__V1__SearchRequest *req;
	const char *p = qs ? qs : "";

	if ((req = sq_alloc(alloc, sizeof(*req))) == NULL) {
		sq_fail(err, 503, "query", "out of memory");
		return NULL;
	}
	vacancy__v1__search_request__init(req);
	while (*p != '\0') {
		size_t len = strcspn(p, "&"), klen = strcspn(p, "=");
		const ProtobufCFieldDescriptor *f;
		char key[64], value[SEARCHQ_VALUE_MAX], esc[48];

		if (len == 0) {
			p++;
			continue;
		}
		if (klen > len)
			klen = len;
		if (sq_unescape(p, klen, key, sizeof(key)) == -1) {
			sq_fail(err, 400, "query", "a parameter name is malformed or too long");
			goto fail;
		}
		f = protobuf_c_message_descriptor_get_field_by_name(md, key);
		if (f == NULL || (export && (strcmp(f->name, "page_size") == 0 ||
					     strcmp(f->name, "page_token") == 0))) {
			/* the name is client text: escaped */
			sq_fail(err, 400, log_escape(key, strlen(key), esc, sizeof(esc)),
				"unknown parameter (see docs/search.md for the filters)");
			goto fail;
		}
		if (klen == len ||
		    sq_unescape(p + klen + 1, len - klen - 1, value, sizeof(value)) == -1) {
			sq_fail(err, 400, f->name,
				"the value is missing, malformed (%%-escape, NUL) or over %d bytes",
				SEARCHQ_VALUE_MAX - 1);
			goto fail;
		}
		if (sq_set_field(&req->base, f, value, alloc, err) == -1)
			goto fail;
		p += len;
	}
	return req;
fail:
	protobuf_c_message_free_unpacked(&req->base, alloc);
	return NULL;
}

/* ---- checks ---- */

/* RFC 3339 date-time with an offset: 2026-01-31T12:00:00(.fff)(Z|+01:00). */
static int
sq_rfc3339(const char *s)
{
	char date[11];
	size_t n = strlen(s), i = 19;

	if (n < 20 || n > 35)
		return 0;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (!validate_date(date) || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return 0;
	for (int k = 11; k < 19; k++)
		if (k != 13 && k != 16 && !isdigit((unsigned char)s[k]))
			return 0;
	if (atoi(s + 11) > 23 || atoi(s + 14) > 59 || atoi(s + 17) > 60)
		return 0;
	if (s[i] == '.') {
		size_t d = strspn(s + i + 1, "0123456789");

		if (d == 0 || d > 9)
			return 0;
		i += 1 + d;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0')
		return 1;
	return (s[i] == '+' || s[i] == '-') && n - i == 6 && isdigit((unsigned char)s[i + 1]) &&
	       isdigit((unsigned char)s[i + 2]) && s[i + 3] == ':' &&
	       isdigit((unsigned char)s[i + 4]) && isdigit((unsigned char)s[i + 5]) &&
	       atoi(s + i + 1) <= 23 && atoi(s + i + 4) <= 59;
}

static void
sq_pad(char *out, const char *prefix, size_t width, char fill)
{
	size_t n = strlen(prefix);

	memcpy(out, prefix, n);
	memset(out + n, fill, width - n);
	out[width] = '\0';
}

static int
sq_digits(const char *s)
{
	return s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
}

/* The region combined with the caller's scope into AGS and ARS ranges. */
static int
sq_check_region(const char *region, const char *scope, struct searchq *q, struct searchq_err *err)
{
	const char *ags = scope; /* the AGS prefix that applies */
	size_t n;

	if (region != NULL) {
		int land;

		n = strlen(region);
		if (n < 2 || n > 12 || !sq_digits(region))
			return sq_fail(err, 400, "region",
				       "expected an AGS prefix (2-8 digits) or an ARS prefix "
				       "(9-12 digits)");
		land = (region[0] - '0') * 10 + (region[1] - '0');
		if (land < 1 || land > 16)
			return sq_fail(err, 400, "region", "no Land %.2s (01-16)", region);
		if (n <= 8) {
			if (scope_covers(scope, region))
				ags = region;
			else if (!scope_covers(region, scope))
				return sq_fail(err, 403, "region", "%s lies outside your scope %s",
					       region, scope);
		} else {
			size_t common = strlen(scope) < 5 ? strlen(scope) : 5;

			if (strncmp(region, scope, common) != 0)
				return sq_fail(err, 403, "region", "%s lies outside your scope %s",
					       region, scope);
			q->has_ars = 1;
			sq_pad(q->ars_lo, region, 12, '0');
			sq_pad(q->ars_hi, region, 12, '9');
		}
	}
	if (ags[0] != '\0') {
		sq_pad(q->ags_lo, ags, 8, '0');
		sq_pad(q->ags_hi, ags, 8, '9');
	}
	return 0;
}

static int
sq_check_geo(const Vacancy__V1__SearchRequest *req, const struct searchq_limits *lim,
	     struct searchq *q, struct searchq_err *err)
{
	const Vacancy__V1__BBox *b = req->bbox;
	const Vacancy__V1__Near *nr = req->near;

	if (b != NULL) {
		if (!b->has_min_lat || !b->has_min_lon || !b->has_max_lat || !b->has_max_lon)
			return sq_fail(err, 400, "bbox",
				       "needs min_lat, min_lon, max_lat, max_lon");
		q->bbox[0] = b->min_lat;
		q->bbox[1] = b->min_lon;
		q->bbox[2] = b->max_lat;
		q->bbox[3] = b->max_lon;
		for (int i = 0; i < 4; i++)
			if (!isfinite(q->bbox[i]) || fabs(q->bbox[i]) > (i % 2 ? 180 : 90))
				return sq_fail(err, 400, "bbox",
					       "latitudes lie in -90..90, longitudes in -180..180");
		if (q->bbox[0] > q->bbox[2] || q->bbox[1] > q->bbox[3])
			return sq_fail(err, 400, "bbox",
				       "the box crosses itself: min_lat > max_lat or min_lon > "
				       "max_lon");
		q->has_bbox = 1;
	}
	if (nr != NULL) {
		if (!nr->has_lat || !nr->has_lon || !nr->has_radius_m)
			return sq_fail(err, 400, "near", "needs lat, lon and radius_m");
		if (!isfinite(nr->lat) || !isfinite(nr->lon) || fabs(nr->lat) > 90 ||
		    fabs(nr->lon) > 180)
			return sq_fail(err, 400, "near", "lat lies in -90..90, lon in -180..180");
		if (!isfinite(nr->radius_m) || nr->radius_m <= 0 ||
		    nr->radius_m > lim->max_radius_m)
			return sq_fail(err, 400, "near",
				       "radius_m must be over 0 and at most %.0f "
				       "(max_search_radius_m)",
				       lim->max_radius_m);
		q->has_near = 1;
		q->near_lat = nr->lat;
		q->near_lon = nr->lon;
		q->near_m = nr->radius_m;
	}
	return 0;
}

/* A repeated enum filter as a bit set; 0 when absent. */
static int
sq_check_enums(const char *param, const ProtobufCEnumDescriptor *ed, const int *v, size_t n,
	       uint32_t allowed, uint32_t *out, struct searchq_err *err)
{
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, v[i]);

		if (ev == NULL || v[i] <= 0 || v[i] >= 32)
			return sq_fail(err, 400, param, "unknown value %d", v[i]);
		if (!(allowed & (1u << v[i])))
			return sq_fail(err, 400, param, "%s is never visible to you", ev->name);
		*out |= 1u << v[i];
	}
	return 0;
}

static int
sq_check_values(const Vacancy__V1__SearchRequest *req, const struct searchq_caller *who,
		struct searchq *q, struct searchq_err *err)
{
	static const char *const area_names[4] = {"min_usable_area_m2", "max_usable_area_m2",
						  "min_plot_area_m2", "max_plot_area_m2"};
	const int has[4] = {req->has_min_usable_area_m2, req->has_max_usable_area_m2,
			    req->has_min_plot_area_m2, req->has_max_plot_area_m2};
	const double v[4] = {req->min_usable_area_m2, req->max_usable_area_m2,
			     req->min_plot_area_m2, req->max_plot_area_m2};
	uint32_t statuses = who->role == ROLE_INVESTOR
				? (1u << VACANCY__V1__STATUS__VALUE__MARKETED) |
				      (1u << VACANCY__V1__STATUS__VALUE__RESERVED)
				: ~0u;

	if (sq_check_enums("site_kind", &vacancy__v1__site_kind__value__descriptor,
			   (const int *)req->site_kind, req->n_site_kind, ~0u, &q->site_kind,
			   err) == -1 ||
	    sq_check_enums("usage", &vacancy__v1__usage__value__descriptor, (const int *)req->usage,
			   req->n_usage, ~0u, &q->usage, err) == -1 ||
	    sq_check_enums("marketing", &vacancy__v1__marketing__value__descriptor,
			   (const int *)req->marketing, req->n_marketing, ~0u, &q->marketing,
			   err) == -1 ||
	    sq_check_enums("object_type", &vacancy__v1__object_type__value__descriptor,
			   (const int *)req->object_type, req->n_object_type, ~0u, &q->object_type,
			   err) == -1 ||
	    sq_check_enums("status", &vacancy__v1__status__value__descriptor,
			   (const int *)req->status, req->n_status, statuses, &q->status,
			   err) == -1)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (!has[i])
			continue;
		if (!isfinite(v[i]) || v[i] < 0)
			return sq_fail(err, 400, area_names[i], "expected a number >= 0");
		q->has_area[i] = 1;
		q->area[i] = v[i];
	}
	for (int i = 0; i < 4; i += 2)
		if (has[i] && has[i + 1] && v[i] > v[i + 1])
			return sq_fail(err, 400, area_names[i], "greater than %s (inverted range)",
				       area_names[i + 1]);
	if (req->max_purchase_price_eur != NULL) {
		if (strlen(req->max_purchase_price_eur) >= sizeof(q->max_price) - 4 ||
		    !validate_money(req->max_purchase_price_eur))
			return sq_fail(err, 400, "max_purchase_price_eur",
				       "expected euros with at most 2 decimals, e.g. 250000.50");
		snprintf(q->max_price, sizeof(q->max_price), "%s", req->max_purchase_price_eur);
	}
	if (req->max_rent_eur_month != NULL) {
		if (strlen(req->max_rent_eur_month) >= sizeof(q->max_rent) - 4 ||
		    !validate_money(req->max_rent_eur_month))
			return sq_fail(err, 400, "max_rent_eur_month",
				       "expected euros with at most 2 decimals, e.g. 1200.50");
		snprintf(q->max_rent, sizeof(q->max_rent), "%s", req->max_rent_eur_month);
	}
	if (req->updated_since != NULL) {
		if (!sq_rfc3339(req->updated_since))
			return sq_fail(err, 400, "updated_since",
				       "expected an RFC 3339 time with offset, e.g. "
				       "2026-01-31T00:00:00Z");
		snprintf(q->updated_since, sizeof(q->updated_since), "%s", req->updated_since);
	}
	if (req->text != NULL) {
		const char *bad = validate_text(req->text, 0, SEARCHQ_TEXT_MAX);

		if (req->text[0] == '\0' || bad != NULL)
			return sq_fail(err, 400, "text",
				       "expected 1-%d characters of text (UTF-8, no control "
				       "characters)",
				       SEARCHQ_TEXT_MAX);
		snprintf(q->text, sizeof(q->text), "%s", req->text);
	}
	return 0;
}

/* The digest of everything that defines the walk except its position. */
static void
sq_digest(struct searchq *q)
{
	char canon[2048];
	int n;

	n = snprintf(canon, sizeof(canon),
		     "m=%d;ags=%s-%s;ars=%d:%s-%s;bbox=%d:%a,%a,%a,%a;near=%d:%a,%a,%a;"
		     "e=%x,%x,%x,%x,%x;a=%d%d%d%d:%a,%a,%a,%a;p=%s;r=%s;u=%s;s=%d;t=",
		     (int)q->mode, q->ags_lo, q->ags_hi, q->has_ars, q->ars_lo, q->ars_hi,
		     q->has_bbox, q->bbox[0], q->bbox[1], q->bbox[2], q->bbox[3], q->has_near,
		     q->near_lat, q->near_lon, q->near_m, q->site_kind, q->usage, q->marketing,
		     q->object_type, q->status, q->has_area[0], q->has_area[1], q->has_area[2],
		     q->has_area[3], q->area[0], q->area[1], q->area[2], q->area[3], q->max_price,
		     q->max_rent, q->updated_since, q->sort);
	if (n < 0 || (size_t)n >= sizeof(canon))
		n = 0; /* cannot happen with the field sizes above */
	{
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		unsigned int len = 0;

		if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
		    EVP_DigestUpdate(c, canon, (size_t)n) != 1 ||
		    EVP_DigestUpdate(c, q->text, strlen(q->text)) != 1 ||
		    EVP_DigestFinal_ex(c, q->digest, &len) != 1)
			memset(q->digest, 0, sizeof(q->digest));
		EVP_MD_CTX_free(c);
	}
}

/* ---- page tokens ---- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
sq_b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t k = n - i < 3 ? n - i : 3;

		if (k > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			v |= in[i + 2];
		for (size_t j = 0; j < k + 1; j++)
			out[o++] = b64url[(v >> (18 - 6 * j)) & 63];
	}
	out[o] = '\0';
}

/* Decodes exactly outlen bytes; -1 on anything else. */
static int
sq_b64_decode(const char *in, unsigned char *out, size_t outlen)
{
	size_t n = strlen(in), o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (n != (outlen * 8 + 5) / 6)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *p = strchr(b64url, in[i]);

		if (in[i] == '\0' || p == NULL)
			return -1;
		acc = (acc << 6) | (uint32_t)(p - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < outlen)
				out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o == outlen && acc == 0 ? 0 : -1;
}

static void
sq_put64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t
sq_get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
sq_mac(const unsigned char *payload, const struct searchq *q, const struct searchq_caller *who,
       unsigned char out[PT_MAC])
{
	unsigned char msg[PT_PAYLOAD + 8 + 32], md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	memcpy(msg, payload, PT_PAYLOAD);
	sq_put64(msg + PT_PAYLOAD, (uint64_t)who->principal);
	memcpy(msg + PT_PAYLOAD + 8, q->digest, 32);
	if (HMAC(EVP_sha256(), who->key, SEARCHQ_KEY_LEN, msg, sizeof(msg), md, &len) == NULL)
		memset(md, 0, sizeof(md));
	memcpy(out, md, PT_MAC);
}

void
searchq_token(const struct searchq *q, const struct searchq_caller *who, char *out, size_t outlen)
{
	unsigned char t[PT_LEN];
	uint64_t key;

	if (outlen < (PT_LEN * 8 + 5) / 6 + 1) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	memset(t, 0, sizeof(t));
	t[0] = PT_VERSION;
	t[1] = (unsigned char)q->sort;
	t[2] = q->key_null ? 1 : 0;
	sq_put64(t + 4, (uint64_t)q->asof);
	sq_put64(t + 12, (uint64_t)who->now);
	if (q->sort == VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC ||
	    q->sort == VACANCY__V1__SEARCH_SORT__VALUE__PRICE_ASC)
		key = (uint64_t)q->key_int;
	else
		memcpy(&key, &q->key_float, sizeof(key));
	sq_put64(t + 20, key);
	memcpy(t + 28, q->last_id, 16);
	sq_mac(t, q, who, t + PT_PAYLOAD);
	sq_b64_encode(t, PT_LEN, out);
}

static int
sq_check_token(const char *tok, const struct searchq_limits *lim, const struct searchq_caller *who,
	       struct searchq *q, struct searchq_err *err)
{
	unsigned char t[PT_LEN], mac[PT_MAC];
	uint64_t key;
	int64_t issued;

	if (sq_b64_decode(tok, t, sizeof(t)) == -1 || t[0] != PT_VERSION)
		return sq_fail(err, 400, "page_token", "not a page token of this registry");
	sq_mac(t, q, who, mac);
	if (CRYPTO_memcmp(mac, t + PT_PAYLOAD, PT_MAC) != 0 || t[1] != q->sort)
		return sq_fail(err, 400, "page_token",
			       "not valid for this search: altered, or issued for other filters, "
			       "another caller or by another registry");
	issued = (int64_t)sq_get64(t + 12);
	if (issued > (int64_t)who->now + 300 ||
	    (int64_t)who->now - issued > (int64_t)lim->page_token_ttl_s)
		return sq_fail(err, 400, "page_token",
			       "expired (page_token_ttl_s = %d s): start the search again",
			       lim->page_token_ttl_s);
	q->has_cursor = 1;
	q->key_null = t[2] & 1;
	q->asof = (int64_t)sq_get64(t + 4);
	key = sq_get64(t + 20);
	q->key_int = (int64_t)key;
	memcpy(&q->key_float, &key, sizeof(key));
	memcpy(q->last_id, t + 28, 16);
	if (q->asof < 0)
		return sq_fail(err, 400, "page_token", "not a page token of this registry");
	return 0;
}

int
searchq_check(const Vacancy__V1__SearchRequest *req, const struct searchq_limits *lim,
	      const struct searchq_caller *who, enum searchq_mode mode, struct searchq *q,
	      struct searchq_err *err)
{
	memset(q, 0, sizeof(*q));
	memset(err, 0, sizeof(*err));
	q->mode = mode;
	q->principal = who->principal;
	if (sq_check_region(req->region, who->scope, q, err) == -1 ||
	    sq_check_geo(req, lim, q, err) == -1 || sq_check_values(req, who, q, err) == -1)
		return -1;
	q->sort = VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC;
	if (req->has_sort && req->sort != VACANCY__V1__SEARCH_SORT__VALUE__UNSPECIFIED) {
		if (protobuf_c_enum_descriptor_get_value(
			&vacancy__v1__search_sort__value__descriptor, (int)req->sort) == NULL)
			return sq_fail(err, 400, "sort", "unknown value %d", (int)req->sort);
		q->sort = (int)req->sort;
	}
	if (q->sort == VACANCY__V1__SEARCH_SORT__VALUE__DISTANCE_ASC && !q->has_near)
		return sq_fail(err, 400, "sort", "DISTANCE_ASC needs near");
	q->page_size = lim->max_page_size < SEARCHQ_DEFAULT_PAGE ? (uint32_t)lim->max_page_size
								 : SEARCHQ_DEFAULT_PAGE;
	if (req->has_page_size) {
		if (req->page_size < 1 || req->page_size > (uint32_t)lim->max_page_size)
			return sq_fail(err, 400, "page_size", "must be 1..%d (max_page_size)",
				       lim->max_page_size);
		q->page_size = req->page_size;
	}
	sq_digest(q);
	if (req->page_token != NULL && req->page_token[0] != '\0')
		return sq_check_token(req->page_token, lim, who, q, err);
	return 0;
}

/* ---- SQL ---- */

static int sq_param(struct searchq_params *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Adds a parameter (formatted into p's storage) and returns its number. */
static int
sq_param(struct searchq_params *p, const char *fmt, ...)
{
	va_list ap;

	if (p->n >= SEARCHQ_MAX_PARAMS) {
		p->overflow = 1; /* searchq_sql fails */
		return 1;
	}
	va_start(ap, fmt);
	vsnprintf(p->store[p->n], sizeof(p->store[0]), fmt, ap);
	va_end(ap);
	p->v[p->n] = p->store[p->n];
	return ++p->n;
}

/* Adds a parameter that points at s (which outlives the statement). */
static int
sq_param_ref(struct searchq_params *p, const char *s)
{
	if (p->n >= SEARCHQ_MAX_PARAMS) {
		p->overflow = 1;
		return 1;
	}
	p->v[p->n] = s;
	return ++p->n;
}

/* "{A,B}" of the names in a bit set of ed's values. */
static int
sq_param_set(struct searchq_params *p, const ProtobufCEnumDescriptor *ed, uint32_t set)
{
	char arr[64 * 4] = "{";

	for (int v = 1; v < 32; v++) {
		const ProtobufCEnumValue *ev;

		if (!(set & (1u << v)) ||
		    (ev = protobuf_c_enum_descriptor_get_value(ed, v)) == NULL)
			continue;
		snprintf(arr + strlen(arr), sizeof(arr) - strlen(arr), "%s%s", arr[1] ? "," : "",
			 ev->name);
	}
	snprintf(arr + strlen(arr), sizeof(arr) - strlen(arr), "}");
	if (strlen(arr) >= sizeof(p->store[0]))
		return -1; /* cannot happen: every name of an enum fits a slot */
	return sq_param(p, "%s", arr);
}

static void
sq_enum_filter(struct buf *b, struct searchq_params *p, const char *schema, const char *col,
	       const char *type, const ProtobufCEnumDescriptor *ed, uint32_t set, int array)
{
	int n;

	if (set == 0)
		return;
	if ((n = sq_param_set(p, ed, set)) == -1) {
		buf_adds(b, " AND false"); /* never reached; fail closed */
		return;
	}
	/* the investor role may not name the registry schema's types: its
	 * schema has a function for each (009) */
	buf_printf(b, array ? " AND l.%s && " : " AND l.%s = ANY (", col);
	if (strcmp(schema, "investor") == 0)
		buf_printf(b, "investor.%s_array($%d::text[])", type, n);
	else
		buf_printf(b, "$%d::registry.%s[]", n, type);
	if (!array)
		buf_addc(b, ')');
}

/* The filters, against the names of k's columns in a source aliased l. */
static void
sq_filters(const struct searchq *q, struct buf *b, struct searchq_params *p)
{
	static const char *const area_sql[4] = {
	    "l.usable >= ", "l.usable <= ", "l.plot >= ", "l.plot <= "};
	const char *schema = q->mode == SEARCHQ_INVESTOR ? "investor" : "registry";

	buf_adds(b, "true");
	if (q->ags_lo[0] != '\0')
		buf_printf(b, " AND l.ags BETWEEN $%d AND $%d", sq_param(p, "%s", q->ags_lo),
			   sq_param(p, "%s", q->ags_hi));
	if (q->has_ars)
		buf_printf(b, " AND l.ars BETWEEN $%d AND $%d", sq_param(p, "%s", q->ars_lo),
			   sq_param(p, "%s", q->ars_hi));
	if (q->has_bbox) {
		int n[4];

		for (int i = 0; i < 4; i++)
			n[i] = sq_param(p, "%.17g", q->bbox[i]);
		/* && for the index (it compares float4 boxes, so it may let
		 * through points a few decimetres outside), then the exact test */
		buf_printf(b,
			   " AND l.geom && ST_MakeEnvelope($%d::float8, $%d::float8, "
			   "$%d::float8, $%d::float8, 4326) AND ST_Y(l.geom) BETWEEN "
			   "$%d::float8 AND $%d::float8 AND ST_X(l.geom) BETWEEN $%d::float8 AND "
			   "$%d::float8",
			   n[1], n[0], n[3], n[2], n[0], n[2], n[1], n[3]);
	}
	if (q->has_near) {
		/* a box around the circle for the GiST index, then the exact test */
		double dlat = q->near_m / 110000.0 * 1.01 + 1e-6;
		double c = cos((fabs(q->near_lat) + dlat) * M_PI / 180.0);
		double dlon = c > 0.01 ? q->near_m / (111000.0 * c) * 1.01 + 1e-6 : 180;

		buf_printf(b,
			   " AND l.geom && ST_MakeEnvelope($%d::float8, $%d::float8, "
			   "$%d::float8, $%d::float8, 4326)",
			   sq_param(p, "%.17g", fmax(q->near_lon - dlon, -180)),
			   sq_param(p, "%.17g", fmax(q->near_lat - dlat, -90)),
			   sq_param(p, "%.17g", fmin(q->near_lon + dlon, 180)),
			   sq_param(p, "%.17g", fmin(q->near_lat + dlat, 90)));
		buf_printf(b, " AND ST_DWithin(l.geom::geography, _near.g, $%d::float8)",
			   sq_param(p, "%.17g", q->near_m));
	}
	sq_enum_filter(b, p, schema, "site_kind", "site_kind",
		       &vacancy__v1__site_kind__value__descriptor, q->site_kind, 0);
	sq_enum_filter(b, p, schema, "usage", "usage", &vacancy__v1__usage__value__descriptor,
		       q->usage, 1);
	sq_enum_filter(b, p, schema, "marketing", "marketing",
		       &vacancy__v1__marketing__value__descriptor, q->marketing, 1);
	sq_enum_filter(b, p, schema, "object_type", "object_type",
		       &vacancy__v1__object_type__value__descriptor, q->object_type, 0);
	sq_enum_filter(b, p, schema, "status", "status", &vacancy__v1__status__value__descriptor,
		       q->status, 0);
	for (int i = 0; i < 4; i++)
		if (q->has_area[i])
			buf_printf(b, " AND %s$%d::float8", area_sql[i],
				   sq_param(p, "%.17g", q->area[i]));
	if (q->max_price[0] != '\0')
		buf_printf(b, " AND l.price <= $%d::numeric", sq_param_ref(p, q->max_price));
	if (q->max_rent[0] != '\0')
		buf_printf(b, " AND l.rent <= $%d::numeric", sq_param_ref(p, q->max_rent));
	if (q->updated_since[0] != '\0')
		buf_printf(b, " AND l.updated_at >= $%d::timestamptz",
			   sq_param_ref(p, q->updated_since));
	if (q->text[0] != '\0')
		buf_printf(b, " AND l.tsv @@ websearch_to_tsquery('german', $%d)",
			   sq_param_ref(p, q->text));
}

/* The key columns of each source, under k's names. */
static const char sq_cols_investor[] =
    "record_id, municipality_ags AS ags, municipality_ars AS ars, _updated_at AS updated_at, "
    "site_kind, _usage AS usage, _marketing AS marketing, object_type, status, "
    "usable_area_m2 AS usable, plot_area_m2 AS plot, _price AS price, _rent AS rent, "
    "_geom AS geom, _tsv AS tsv";
static const char sq_cols_past[] =
    "record_id, municipality_ags AS ags, municipality_ars AS ars, updated_at, site_kind, "
    "usage, marketing, object_type, status, usable_area_m2 AS usable, plot_area_m2 AS plot, "
    "purchase_price_eur AS price, rent_eur_month AS rent, geom, tsv";

/* Where the feed positions of the caller's records are. */
static const char *
sq_asof_source(const struct searchq *q)
{
	return q->mode == SEARCHQ_INVESTOR ? "investor.changes" : "registry.feed";
}

void
searchq_uuid_text(const unsigned char id[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	int o = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[id[i] >> 4];
		out[o++] = hex[id[i] & 15];
	}
	out[o] = '\0';
}

/* The sort key expression over k (alias k), and whether it descends. */
static const char *
sq_key(int sort, int *desc)
{
	*desc = 0;
	switch (sort) {
	case VACANCY__V1__SEARCH_SORT__VALUE__AREA_DESC:
		*desc = 1;
		return "k.usable";
	case VACANCY__V1__SEARCH_SORT__VALUE__AREA_ASC:
		return "k.usable";
	case VACANCY__V1__SEARCH_SORT__VALUE__PRICE_ASC:
		return "k.price";
	case VACANCY__V1__SEARCH_SORT__VALUE__DISTANCE_ASC:
		return "ST_Distance(k.geom::geography, _near.g)";
	default:
		*desc = 1;
		return "k.updated_at";
	}
}

/* After the last row: (key beyond it) or (same key, greater id) or (no key). */
static void
sq_keyset(const struct searchq *q, struct buf *b, struct searchq_params *p)
{
	char id[37], val[40];
	const char *key, *cast = "::float8";
	int desc, nid;

	if (!q->has_cursor)
		return;
	key = sq_key(q->sort, &desc);
	searchq_uuid_text(q->last_id, id);
	nid = sq_param(p, "%s", id);
	if (q->key_null) {
		buf_printf(b, " WHERE %s IS NULL AND k.record_id > $%d::uuid", key, nid);
		return;
	}
	switch (q->sort) {
	case VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC:
		snprintf(val, sizeof(val), "%lld", (long long)q->key_int);
		cast = "::bigint * interval '1 microsecond' + 'epoch'::timestamptz";
		break;
	case VACANCY__V1__SEARCH_SORT__VALUE__PRICE_ASC:
		snprintf(val, sizeof(val), "%s%lld.%02lld", q->key_int < 0 ? "-" : "",
			 llabs(q->key_int) / 100, llabs(q->key_int) % 100);
		cast = "::numeric";
		break;
	default:
		snprintf(val, sizeof(val), "%.17g", q->key_float);
		break;
	}
	{
		int nv = sq_param(p, "%s", val);

		buf_printf(b,
			   " WHERE (%s %c ($%d%s) OR (%s = ($%d%s) AND k.record_id > $%d::uuid) "
			   "OR %s IS NULL)",
			   key, desc ? '<' : '>', nv, cast, key, nv, cast, nid, key);
	}
}

/* "WITH _near AS (...), k AS (...)": the keys of the records in the walk. */
static void
sq_k(const struct searchq *q, struct buf *b, struct searchq_params *p, int n_asof)
{
	const char *cols = q->mode == SEARCHQ_INVESTOR ? sq_cols_investor : sq_cols_past;
	struct buf f;

	buf_adds(b, "WITH _near AS (SELECT ");
	if (q->has_near)
		buf_printf(b,
			   "ST_SetSRID(ST_MakePoint($%d::float8, $%d::float8), 4326)::geography "
			   "AS g",
			   sq_param(p, "%.17g", q->near_lon), sq_param(p, "%.17g", q->near_lat));
	else
		buf_adds(b, "NULL::geography AS g");
	/* the filters' parameters are bound once and used by both sources */
	buf_init(&f, 0);
	sq_filters(q, &f, p);
	buf_adds(b, "), k AS (SELECT l.* FROM (SELECT ");
	buf_adds(b, cols);
	if (q->mode == SEARCHQ_INVESTOR)
		buf_adds(b, " FROM investor.published_record) l, _near WHERE ");
	else
		buf_adds(b, " FROM registry.record WHERE withdrawn_at IS NULL) l, _near WHERE ");
	buf_add(b, f.data, f.len);
	if (q->has_cursor) {
		/* records changed after the walk's position come from their past */
		buf_printf(b,
			   " AND l.record_id NOT IN (SELECT c.record_id FROM %s c "
			   "WHERE c.seq > $%d::bigint)",
			   sq_asof_source(q), n_asof);
		buf_adds(b, " UNION ALL SELECT l.* FROM (SELECT ");
		buf_adds(b, sq_cols_past);
		if (q->mode == SEARCHQ_INVESTOR)
			buf_printf(b,
				   " FROM investor.published_past WHERE valid_from <= $%d::bigint "
				   "AND valid_to > $%d::bigint) l, _near WHERE ",
				   n_asof, n_asof);
		else
			buf_printf(b,
				   " FROM registry.record_past WHERE withdrawn_at IS NULL AND "
				   "valid_from <= $%d::bigint AND valid_to > $%d::bigint) l, "
				   "_near WHERE ",
				   n_asof, n_asof);
		buf_add(b, f.data, f.len);
	}
	buf_adds(b, ")");
	if (buf_failed(&f))
		p->overflow = 1; /* out of memory: fail the statement */
	buf_free(&f);
}

int
searchq_count_sql(const struct searchq *q, long limit, struct buf *b, struct searchq_params *p)
{
	memset(p, 0, sizeof(*p));
	sq_k(q, b, p, q->has_cursor ? sq_param(p, "%lld", (long long)q->asof) : 0);
	buf_printf(b, " SELECT count(*) AS n FROM (SELECT 1 FROM k LIMIT $%d::bigint) x",
		   sq_param(p, "%ld", limit));
	return buf_failed(b) || p->overflow ? -1 : p->n;
}

int
searchq_sql(const struct searchq *q, struct buf *b, struct searchq_params *p)
{
	const char *key, *dir;
	int desc, n_asof = 0, n_limit;

	memset(p, 0, sizeof(*p));
	key = sq_key(q->sort, &desc);
	if (q->has_cursor)
		n_asof = sq_param(p, "%lld", (long long)q->asof);
	sq_k(q, b, p, n_asof);
	n_limit = sq_param(p, "%u", q->page_size + 1);
	/* updated_at is never NULL: plain DESC matches its index's order */
	dir = q->sort == VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC ? "DESC"
	      : desc						       ? "DESC NULLS LAST"
								       : "ASC";
	buf_printf(b,
		   ", page AS (SELECT k.record_id, %s AS _key, row_number() OVER "
		   "(ORDER BY %s %s, k.record_id) AS _ord FROM k, _near",
		   key, key, dir);
	sq_keyset(q, b, p);
	buf_printf(b, " ORDER BY %s %s, k.record_id LIMIT $%d::int) SELECT ", key, dir, n_limit);
	if (q->has_cursor)
		buf_printf(b, "$%d::bigint AS _asof, ", n_asof);
	else
		buf_printf(b, "(SELECT coalesce(max(seq), 0) FROM %s) AS _asof, ",
			   sq_asof_source(q));
	switch (q->sort) {
	case VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC:
		buf_adds(b, "(extract(epoch FROM page._key) * 1000000)::bigint::text AS _k, ");
		break;
	case VACANCY__V1__SEARCH_SORT__VALUE__PRICE_ASC:
		buf_adds(b, "(page._key * 100)::bigint::text AS _k, ");
		break;
	default:
		buf_adds(b, "page._key::text AS _k, ");
		break;
	}
	buf_adds(b, "page.record_id AS _rid, c.* FROM page ");
	switch (q->mode) {
	case SEARCHQ_INVESTOR:
		buf_adds(b,
			 "LEFT JOIN investor.published_record c ON c.record_id = page.record_id");
		break;
	case SEARCHQ_STAFF_PUBLIC:
		buf_adds(b, "LEFT JOIN registry.public_record c ON c.record_id = page.record_id "
			    "AND c.withdrawn_at IS NULL");
		break;
	case SEARCHQ_STAFF_FULL:
		/* read_full() checks the scope itself and logs each record it returns */
		buf_printf(b,
			   "LEFT JOIN registry.read_full($%d::bigint, 'search', ARRAY(SELECT "
			   "pg.record_id FROM page pg JOIN registry.record r USING (record_id) "
			   "WHERE pg._ord <= $%d::int AND r.withdrawn_at IS NULL)) c "
			   "ON c.record_id = page.record_id",
			   sq_param(p, "%lld", (long long)q->principal),
			   sq_param(p, "%u", q->page_size));
		break;
	}
	buf_adds(b, " ORDER BY page._ord");
	return buf_failed(b) || p->overflow ? -1 : p->n;
}

int
searchq_uuid_parse(const char *s, unsigned char out[16])
{
	int o = 0;

	for (int i = 0; s[i] != '\0'; i++) {
		int hi, lo;

		if (s[i] == '-')
			continue;
		if (o >= 16 || (hi = sq_hex(s[i])) < 0 || s[i + 1] == '\0' ||
		    (lo = sq_hex(s[i + 1])) < 0)
			return -1;
		out[o++] = (unsigned char)(hi * 16 + lo);
		i++;
	}
	return o == 16 ? 0 : -1;
}

int
searchq_advance(struct searchq *q, const char *asof, const char *k, const char *rid)
{
	char *end;

	q->asof = strtoll(asof, &end, 10);
	if (*asof == '\0' || *end != '\0' || q->asof < 0 ||
	    searchq_uuid_parse(rid, q->last_id) == -1)
		return -1;
	q->has_cursor = 1;
	q->key_null = k == NULL;
	q->key_int = 0;
	q->key_float = 0;
	if (k == NULL)
		return 0;
	if (q->sort == VACANCY__V1__SEARCH_SORT__VALUE__UPDATED_DESC ||
	    q->sort == VACANCY__V1__SEARCH_SORT__VALUE__PRICE_ASC) {
		q->key_int = strtoll(k, &end, 10);
		return *k != '\0' && *end == '\0' ? 0 : -1;
	}
	q->key_float = strtod(k, &end);
	return *k != '\0' && *end == '\0' && isfinite(q->key_float) ? 0 : -1;
}
