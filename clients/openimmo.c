/*
 * openimmo: OpenImmo 1.2.x documents to RecordChanges, on libxml2's tree.
 * Owns the safe parse (memory only, no network, no DTD, no entities: a
 * DOCTYPE stops the parser before its internal subset), the mapping of
 * each immobilie onto the record (clients/examples/README.md is the table),
 * the defaults for fields OpenImmo lacks, and the report of what was not
 * mapped: every element and attribute that a mapping reads is marked in
 * its _private field, and whatever is left unmarked is listed with its path
 * and count. Values go through csv_field_set, so the same text gives the
 * same value in both formats.
 */
#include "openimmo.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "buf.h"
#include "codec.h"
#include "csv.h"
#include "json.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The address that marks a node or attribute as read by a mapping. */
static char oi_used;

/* An element or attribute path that was not mapped, with how often. */
struct oi_unmapped {
	char *path; /* owned: "ausstattung/heizungsart@ZENTRAL" */
	size_t count;
	unsigned long line;   /* first seen */
	unsigned long number; /* in this immobilie */
};

/* One document. */
struct oi_reader {
	struct sync_batch *b;	 /* borrowed */
	struct sync_problems *p; /* borrowed */
	char ts_revision[15];	 /* uebertragung@timestamp as YYYYMMDDhhmmss, or "" */
	char ts_date[11];	 /* its date, YYYY-MM-DD, or "" */
	struct oi_unmapped *unmapped;
	size_t nunmapped, capunmapped;
	size_t def_status, def_publication, def_consent, def_verified_stand, def_verified_ts;
	size_t md5_ignored;
	unsigned long number;  /* immobilien seen */
	int doctype;	       /* the document declares a DOCTYPE */
	char first_error[256]; /* the parser's first complaint */
	unsigned long first_error_line;
};

/* One immobilie being mapped. */
struct oi_obj {
	struct oi_reader *rd;
	xmlNode *node;
	unsigned long number, line;
	char id[72];		/* objektnr_extern for messages, "?" until known */
	Vacancy__V1__Record *r; /* owned until added to the batch */
	size_t errors;		/* rd->p->errors when the immobilie started */
};

/* Hints for paths that are left unmapped on purpose. */
static const struct {
	const char *path, *hint;
} oi_hints[] = {
    {"kontaktperson/name", "a person's name: the contact is an office, not a person"},
    {"kontaktperson/vorname", "a person's name: the contact is an office, not a person"},
    {"kontaktperson/anrede", "a person's name: the contact is an office, not a person"},
    {"kontaktperson/titel", "a person's name: the contact is an office, not a person"},
    {"zustand_angaben/altlasten",
     "free text; set contamination with user_defined_simplefield feldname=\"contamination\""},
    {"verwaltung_techn/openimmo_obid", "the registry's key is objektnr_extern"},
    {"anhaenge/anhang/anhangtitel", "attachments carry no title in the registry"},
    {"geo/gemeindecode", "the municipality comes from --ags or the user field municipality_ags"},
};

/* ---- small helpers over libxml2 ---- */

static int
oi_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* The first child element called name, marked as read; NULL if none. */
static xmlNode *
oi_child(xmlNode *parent, const char *name)
{
	if (parent == NULL)
		return NULL;
	for (xmlNode *c = parent->children; c; c = c->next)
		if (oi_is(c, name)) {
			c->_private = &oi_used;
			return c;
		}
	return NULL;
}

/* Whether parent has a child element called name (nothing is marked). */
static int
oi_has_child(const xmlNode *parent, const char *name)
{
	for (const xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
		if (oi_is(c, name))
			return 1;
	return 0;
}

/* Trims ASCII blanks of a malloc'd string in place (moving it). */
static char *
oi_trim(char *s)
{
	size_t a = 0, n;

	if (s == NULL)
		return NULL;
	while (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '\n')
		a++;
	n = strlen(s + a);
	while (n > 0 && (s[a + n - 1] == ' ' || s[a + n - 1] == '\t' || s[a + n - 1] == '\r' ||
			 s[a + n - 1] == '\n'))
		n--;
	memmove(s, s + a, n);
	s[n] = '\0';
	return s;
}

/* The text of element n, trimmed; malloc'd ("" when none); NULL when out of memory. */
static char *
oi_text(const xmlNode *n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	char *s = strdup(t ? (const char *)t : "");

	xmlFree(t);
	return oi_trim(s);
}

/* The attribute name of n, marked as read, trimmed; malloc'd; NULL when absent. */
static char *
oi_attr(xmlNode *n, const char *name)
{
	for (xmlAttr *a = n ? n->properties : NULL; a; a = a->next) {
		xmlChar *v;
		char *s;

		if (strcmp((const char *)a->name, name) != 0)
			continue;
		a->_private = &oi_used;
		v = xmlNodeListGetString(n->doc, a->children, 1);
		s = strdup(v ? (const char *)v : "");
		xmlFree(v);
		return oi_trim(s);
	}
	return NULL;
}

/* Marks n and everything below it as read (a DELETE needs none of it). */
static void
oi_mark_all(xmlNode *n)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		n->_private = &oi_used;
		for (xmlAttr *a = n->properties; a; a = a->next)
			a->_private = &oi_used;
		oi_mark_all(n->children);
	}
}

/* Appends the path of n below the immobilie ("preise/kaufpreis") to out. */
static void
oi_path(struct buf *out, const xmlNode *n, const xmlNode *top)
{
	const xmlNode *chain[64];
	size_t depth = 0;

	for (; n && n != top && depth < NELEM(chain); n = n->parent)
		chain[depth++] = n;
	while (depth-- > 0) {
		buf_adds(out, (const char *)chain[depth]->name);
		if (depth)
			buf_addc(out, '/');
	}
}

/* Reports a problem at element n (attribute attr, or NULL) of an immobilie. */
static void oi_problem(struct oi_obj *o, enum sync_severity s, const xmlNode *n, const char *attr,
		       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
oi_problem(struct oi_obj *o, enum sync_severity s, const xmlNode *n, const char *attr,
	   const char *fmt, ...)
{
	struct buf where;
	char *msg = NULL;
	va_list ap;

	buf_init(&where, 0);
	buf_printf(&where, "immobilie %lu (%s)", o->number, o->id);
	if (n && n != o->node) {
		buf_adds(&where, ": ");
		oi_path(&where, n, o->node);
	}
	if (attr)
		buf_printf(&where, "%s@%s", n && n != o->node ? "" : ": ", attr);
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	sync_problem_add(o->rd->p, s, n ? (unsigned long)xmlGetLineNo(n) : o->line,
			 buf_failed(&where) ? NULL : where.data, "%s", msg ? msg : "out of memory");
	free(msg);
	buf_free(&where);
}

/* Sets record field name from text read at n (attribute attr); reports a bad value. */
static void
oi_set(struct oi_obj *o, const char *name, const char *text, const xmlNode *n, const char *attr)
{
	struct csv_field f;
	char err[512];

	if (csv_field_find(name, &f) == -1) {
		oi_problem(o, SYNC_ERROR, n, attr, "internal: no record field %s", name);
		return;
	}
	if (csv_field_set(o->r, &f, text, 0, err, sizeof(err)) == -1)
		oi_problem(o, SYNC_ERROR, n, attr, "%s: %s", name, err);
}

/* Maps the text of child element name of parent onto record field field. */
static void
oi_leaf(struct oi_obj *o, xmlNode *parent, const char *name, const char *field)
{
	xmlNode *c = oi_child(parent, name);
	char *t;

	if (c == NULL)
		return;
	if ((t = oi_text(c)) == NULL) {
		oi_problem(o, SYNC_ERROR, c, NULL, "out of memory");
		return;
	}
	if (*t)
		oi_set(o, field, t, c, NULL);
	free(t);
}

/* Maps the first of the child elements names[] present (a fallback chain). */
static void
oi_leaf_first(struct oi_obj *o, xmlNode *parent, const char *const *names, size_t n,
	      const char *field)
{
	for (size_t i = 0; i < n; i++)
		if (oi_has_child(parent, names[i])) {
			oi_leaf(o, parent, names[i], field);
			return;
		}
}

/* xsd:boolean: 1 true, 0 false, -1 neither. */
static int
oi_bool(const char *s)
{
	if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
		return 0;
	return -1;
}

/* Looks up an OpenImmo value (any case) in a table of pairs; NULL if absent. */
struct oi_map {
	const char *from, *to; /* to NULL: known, not mapped */
};

static const struct oi_map *
oi_lookup(const struct oi_map *m, size_t n, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(m[i].from, value) == 0)
			return &m[i];
	return NULL;
}

/*
 * Maps attribute attr of child element name of parent through table m onto
 * field. Values the table lacks are errors; known values mapped to NULL
 * are warnings (nothing is set).
 */
static void
oi_attr_enum(struct oi_obj *o, xmlNode *parent, const char *name, const char *attr,
	     const struct oi_map *m, size_t n, const char *field)
{
	xmlNode *c = oi_child(parent, name);
	const struct oi_map *hit;
	char *v;

	if (c == NULL || (v = oi_attr(c, attr)) == NULL)
		return;
	if (*v == '\0') {
		free(v);
		return;
	}
	if ((hit = oi_lookup(m, n, v)) == NULL)
		oi_problem(o, SYNC_ERROR, c, attr, "unknown value '%.40s'", v);
	else if (hit->to == NULL)
		oi_problem(o, SYNC_WARNING, c, attr,
			   "%s has no equivalent in the registry; %s is left out (set it with "
			   "user_defined_simplefield feldname=\"%s\")",
			   hit->from, field, field);
	else
		oi_set(o, field, hit->to, c, attr);
	free(v);
}

/* ---- revision and dates ---- */

/* 1 when s[0..n) are digits. */
static int
oi_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* YYYY-MM-DD at the start of s (an xsd:date may carry a zone after it). */
static int
oi_date(const char *s, char out[11])
{
	if (strlen(s) < 10 || !oi_digits(s, 4) || s[4] != '-' || !oi_digits(s + 5, 2) ||
	    s[7] != '-' || !oi_digits(s + 8, 2))
		return -1;
	if (s[10] != '\0' && s[10] != 'Z' && s[10] != '+' && s[10] != '-' && s[10] != 'T' &&
	    s[10] != ' ')
		return -1;
	memcpy(out, s, 10);
	out[10] = '\0';
	return 0;
}

/*
 * uebertragung@timestamp (xsd:dateTime, e.g. 2026-11-20T14:30:00) to the
 * revision 20261120143000: the digits as written; seconds' fractions and a
 * zone are ignored. A date alone gives hhmmss 000000.
 */
static int
oi_timestamp(const char *s, char rev[15], char date[11])
{
	if (oi_date(s, date) == -1)
		return -1;
	memcpy(rev, s, 4);
	memcpy(rev + 4, s + 5, 2);
	memcpy(rev + 6, s + 8, 2);
	if (s[10] == 'T' || s[10] == ' ') {
		if (strlen(s) < 19 || !oi_digits(s + 11, 2) || s[13] != ':' ||
		    !oi_digits(s + 14, 2) || s[16] != ':' || !oi_digits(s + 17, 2))
			return -1;
		memcpy(rev + 8, s + 11, 2);
		memcpy(rev + 10, s + 14, 2);
		memcpy(rev + 12, s + 17, 2);
	} else {
		memcpy(rev + 8, "000000", 6);
	}
	rev[14] = '\0';
	return 0;
}

/* ---- the mapping of one immobilie ---- */

static const struct oi_map oi_marketing[] = {
    {"KAUF", "SALE"},
    {"MIETE_PACHT", "RENT"},
    {"ERBPACHT", "LEASEHOLD"},
    {"LEASING", "LEASE"},
};

/* objektart/<child> -> object_type and the derived site_kind. */
static const struct {
	const char *element, *object_type, *site_kind;
} oi_objektart[] = {
    {"zimmer", "APARTMENT", "UNIT"},
    {"wohnung", "APARTMENT", "UNIT"},
    {"haus", "HOUSE", "BUILDING"},
    {"grundstueck", "PLOT", "PLOT"},
    {"buero_praxen", "OFFICE_PRACTICE", "UNIT"},
    {"einzelhandel", "RETAIL", "UNIT"},
    {"gastgewerbe", "HOSPITALITY", "BUILDING"},
    {"hallen_lager_prod", "HALL_STORAGE_PRODUCTION", "BUILDING"},
    {"land_und_forstwirtschaft", "AGRICULTURE_FORESTRY", "BUILDING"},
    {"parken", "PARKING", "BUILDING"},
    {"freizeitimmobilie_gewerblich", "LEISURE_COMMERCIAL", "BUILDING"},
    {"zinshaus_renditeobjekt", "INVESTMENT", "BUILDING"},
    {"sonstige", "OTHER", "BUILDING"},
};

static const struct oi_map oi_condition[] = {
    {"ERSTBEZUG", "FIRST_OCCUPANCY"},
    {"NEUWERTIG", "AS_NEW"},
    {"MODERNISIERT", "MODERNISED"},
    {"VOLL_SANIERT", "REFURBISHED"},
    {"GEPFLEGT", "WELL_KEPT"},
    {"SANIERUNGSBEDUERFTIG", "NEEDS_REFURBISHMENT"},
    {"BAUFAELLIG", "DILAPIDATED"},
    {"ROHBAU", "SHELL"},
    {"ENTKERNT", "GUTTED"},
    {"ABRISSOBJEKT", "DEMOLITION_OBJECT"},
    {"PROJEKTIERT", "PROJECTED"},
    /* partly renewed: not claimed as refurbished throughout */
    {"TEIL_SANIERT", "MODERNISED"},
    {"TEIL_VOLLSANIERT", "MODERNISED"},
    {"TEIL_VOLLRENOVIERT", "MODERNISED"},
    {"TEIL_VOLLRENOVIERUNGSBED", "NEEDS_REFURBISHMENT"},
    {"RENOVIERUNGSBEDUERFTIG", "NEEDS_REFURBISHMENT"},
    {"NACH_VEREINBARUNG", NULL},
};

static const struct oi_map oi_development[] = {
    {"UNERSCHLOSSEN", "NONE"}, /* the spelling of the 1.2.7 schema */
    {"NICHT_ERSCHLOSSEN", "NONE"}, {"TEILERSCHLOSSEN", "PARTIAL"},
    {"VOLLERSCHLOSSEN", "FULL"},   {"ORTSUEBLICHERSCHLOSSEN", "LOCAL_STANDARD"},
};

static const struct oi_map oi_planning[] = {
    {"34_NACHBARSCHAFT", "S34"},
    {"35_AUSSENGEBIET", "S35"},
    {"B_PLAN", "BPLAN"},
    {"KEIN BAULAND", "NOT_BUILDING_LAND"}, /* the 1.2.7 schema's spelling, with a space */
    {"KEIN_BAULAND", "NOT_BUILDING_LAND"},
    {"BAUERWARTUNGSLAND", "EXPECTED_BUILDING_LAND"},
    {"BAULAND_OHNE_B_PLAN", "S34"},
    {"LAENDERSPEZIFISCH", NULL},
};

static const struct oi_map oi_sale_state[] = {
    {"OFFEN", "MARKETED"},
    {"RESERVIERT", "RESERVED"},
    {"VERKAUFT", NULL},
};

/* anhang@gruppe -> attachment group; NULL: not about the site, left out. */
static const struct oi_map oi_groups[] = {
    {"TITELBILD", "PHOTO"},	 {"BILD", "PHOTO"},
    {"INNENANSICHTEN", "PHOTO"}, {"AUSSENANSICHTEN", "PHOTO"},
    {"PANORAMA", "PHOTO"},	 {"GRUNDRISS", "FLOORPLAN"},
    {"DOKUMENTE", "OTHER"},	 {"KARTEN_LAGEPLAN", "OTHER"},
    {"LINKS", "OTHER"},		 {"FILM", "OTHER"},
    {"FILMLINK", "OTHER"},	 {"EPASS-SKALA", "OTHER"},
    {"ANBIETERLOGO", NULL},	 {"QRCODE", NULL},
    {"ANBOBJURL", NULL},
};

/* anhang/format -> media type. */
static const struct oi_map oi_formats[] = {
    {"JPG", "image/jpeg"},    {"JPEG", "image/jpeg"},	  {"PNG", "image/png"},
    {"GIF", "image/gif"},     {"WEBP", "image/webp"},	  {"TIF", "image/tiff"},
    {"TIFF", "image/tiff"},   {"PDF", "application/pdf"}, {"MP4", "video/mp4"},
    {"SVG", "image/svg+xml"},
};

/* objektkategorie: usage, marketing, object_type, site_kind. */
static void
oi_category(struct oi_obj *o, xmlNode *im)
{
	static const char *const usage_attrs[] = {"WOHNEN", "GEWERBE", "ANLAGE", "WAZ"};
	xmlNode *k = oi_child(im, "objektkategorie"), *nu, *vm, *oa;
	int flag[4] = {0, 0, 0, 0}, res, com;
	char text[64] = "";

	if (k == NULL)
		return;
	if ((nu = oi_child(k, "nutzungsart")) != NULL) {
		for (size_t i = 0; i < NELEM(usage_attrs); i++) {
			char *v = oi_attr(nu, usage_attrs[i]);

			if (v && (flag[i] = oi_bool(v)) == -1) {
				oi_problem(o, SYNC_ERROR, nu, usage_attrs[i],
					   "'%.20s' is not true or false", v);
				flag[i] = 0;
			}
			free(v);
		}
		/* Wohnen auf Zeit is residential; an investment (ANLAGE) is commercial
		 * unless it is a residential one */
		res = flag[0] || flag[3];
		com = flag[1] || (flag[2] && !res);
		if (res && com)
			oi_set(o, "usage", "MIXED", nu, NULL);
		else if (res)
			oi_set(o, "usage", "RESIDENTIAL", nu, NULL);
		else if (com)
			oi_set(o, "usage", "COMMERCIAL", nu, NULL);
	}
	if ((vm = oi_child(k, "vermarktungsart")) != NULL) {
		size_t used = 0;

		for (size_t i = 0; i < NELEM(oi_marketing); i++) {
			char *v = oi_attr(vm, oi_marketing[i].from);
			int on = v ? oi_bool(v) : 0;

			if (on == -1)
				oi_problem(o, SYNC_ERROR, vm, oi_marketing[i].from,
					   "'%.20s' is not true or false", v);
			if (on == 1)
				used += (size_t)snprintf(text + used, sizeof(text) - used, "%s%s",
							 used ? "|" : "", oi_marketing[i].to);
			free(v);
		}
		if (used)
			oi_set(o, "marketing", text, vm, NULL);
	}
	if ((oa = oi_child(k, "objektart")) != NULL) {
		for (xmlNode *c = oa->children; c; c = c->next) {
			if (c->type != XML_ELEMENT_NODE)
				continue;
			for (size_t i = 0; i < NELEM(oi_objektart); i++) {
				if (!oi_is(c, oi_objektart[i].element))
					continue;
				c->_private = &oi_used;
				oi_set(o, "object_type", oi_objektart[i].object_type, c, NULL);
				oi_set(o, "site_kind", oi_objektart[i].site_kind, c, NULL);
				goto done; /* the first kind counts; others are reported */
			}
		}
	}
	if (flag[2] && !o->r->has_object_type) {
		/* an investment without an objektart */
		oi_set(o, "object_type", "INVESTMENT", nu, "ANLAGE");
		oi_set(o, "site_kind", "BUILDING", nu, "ANLAGE");
	}
done:
	return;
}

/* geo: address, cadastre, coordinates. */
static void
oi_geo(struct oi_obj *o, xmlNode *im)
{
	xmlNode *g = oi_child(im, "geo"), *k;
	char *lat, *lon;

	if (g == NULL)
		return;
	oi_leaf(o, g, "plz", "postcode");
	oi_leaf(o, g, "ort", "locality");
	oi_leaf(o, g, "strasse", "street");
	oi_leaf(o, g, "hausnummer", "house_number");
	oi_leaf(o, g, "gemarkung", "gemarkung");
	oi_leaf(o, g, "flur", "flur");
	oi_leaf(o, g, "flurstueck", "flurstueck");
	if ((k = oi_child(g, "geokoordinaten")) == NULL)
		return;
	lat = oi_attr(k, "breitengrad");
	lon = oi_attr(k, "laengengrad");
	if (lat && *lat)
		oi_set(o, "location.lat", lat, k, "breitengrad");
	if (lon && *lon)
		oi_set(o, "location.lon", lon, k, "laengengrad");
	free(lat);
	free(lon);
}

/* kontaktperson: the marketing office. */
static void
oi_contact(struct oi_obj *o, xmlNode *im)
{
	static const char *const phone[] = {"tel_durchw", "tel_zentrale"};
	static const char *const email[] = {"email_direkt", "email_zentrale"};
	xmlNode *k = oi_child(im, "kontaktperson");

	if (k == NULL)
		return;
	oi_leaf(o, k, "firma", "marketing_contact.organisation");
	oi_leaf(o, k, "position", "marketing_contact.person_role");
	oi_leaf_first(o, k, phone, NELEM(phone), "marketing_contact.phone");
	oi_leaf_first(o, k, email, NELEM(email), "marketing_contact.email");
}

/* preise: purchase price, rents, price on request; euros only. */
static void
oi_prices(struct oi_obj *o, xmlNode *im)
{
	static const char *const rent[] = {"kaltmiete", "nettokaltmiete"};
	xmlNode *pr = oi_child(im, "preise"), *kp, *w;
	char *v, *t;

	if (pr == NULL)
		return;
	if ((w = oi_child(pr, "waehrung")) != NULL && (v = oi_attr(w, "iso_waehrung")) != NULL) {
		if (*v && strcasecmp(v, "EUR") != 0)
			oi_problem(o, SYNC_ERROR, w, "iso_waehrung",
				   "prices in %.8s: the registry keeps euros only", v);
		free(v);
	}
	if ((kp = oi_child(pr, "kaufpreis")) != NULL) {
		int on_request = -1;

		if ((v = oi_attr(kp, "auf_anfrage")) != NULL) {
			if (*v && (on_request = oi_bool(v)) == -1)
				oi_problem(o, SYNC_ERROR, kp, "auf_anfrage",
					   "'%.20s' is not true or false", v);
			if (on_request >= 0)
				oi_set(o, "price_on_request", on_request ? "true" : "false", kp,
				       "auf_anfrage");
			free(v);
		}
		if ((t = oi_text(kp)) != NULL) {
			char norm[64], err[128];

			/* on request, exporters write 0 where no price may stand */
			if (*t && !(on_request == 1 &&
				    csv_money(t, 0, norm, sizeof(norm), err, sizeof(err)) == 0 &&
				    strspn(norm, "0.") == strlen(norm)))
				oi_set(o, "purchase_price_eur", t, kp, NULL);
			free(t);
		}
	}
	oi_leaf_first(o, pr, rent, NELEM(rent), "rent_eur_month");
	oi_leaf(o, pr, "mietpreis_pro_qm", "rent_eur_m2");
}

/* flaechen: areas in m². */
static void
oi_areas(struct oi_obj *o, xmlNode *im)
{
	static const char *const usable[] = {"nutzflaeche", "wohnflaeche"};
	xmlNode *f = oi_child(im, "flaechen");

	if (f == NULL)
		return;
	oi_leaf_first(o, f, usable, NELEM(usable), "usable_area_m2");
	oi_leaf(o, f, "gesamtflaeche", "floor_area_m2");
	oi_leaf(o, f, "verkaufsflaeche", "sales_area_m2");
	oi_leaf(o, f, "grundstuecksflaeche", "plot_area_m2");
	oi_leaf(o, f, "teilbar_ab", "divisible_from_m2");
}

/* zustand_angaben: year, condition, development, planning basis, sale state. */
static void
oi_state(struct oi_obj *o, xmlNode *im)
{
	xmlNode *z = oi_child(im, "zustand_angaben"), *bj;
	char *t;

	if (z == NULL)
		return;
	if ((bj = oi_child(z, "baujahr")) != NULL && (t = oi_text(bj)) != NULL) {
		/* xsd:string in OpenImmo: only a plain year is taken */
		if (*t && (strlen(t) != 4 || !oi_digits(t, 4)))
			oi_problem(o, SYNC_ERROR, bj, NULL,
				   "'%.40s' is not a year such as 1905 (set construction_year "
				   "with a user field when the year is an estimate)",
				   t);
		else if (*t)
			oi_set(o, "construction_year", t, bj, NULL);
		free(t);
	}
	oi_attr_enum(o, z, "zustand", "zustand_art", oi_condition, NELEM(oi_condition),
		     "condition");
	oi_attr_enum(o, z, "erschliessung", "erschl_attr", oi_development, NELEM(oi_development),
		     "development");
	oi_attr_enum(o, z, "bebaubar_nach", "bebaubar_attr", oi_planning, NELEM(oi_planning),
		     "planning_basis");
	oi_attr_enum(o, z, "verkaufstatus", "stand", oi_sale_state, NELEM(oi_sale_state), "status");
}

/* freitexte: title and texts. */
static void
oi_texts(struct oi_obj *o, xmlNode *im)
{
	xmlNode *f = oi_child(im, "freitexte");

	if (f == NULL)
		return;
	oi_leaf(o, f, "objekttitel", "title");
	oi_leaf(o, f, "objektbeschreibung", "description");
	oi_leaf(o, f, "lage", "location_text");
}

/* 1 when s is an absolute http(s) URL with a host. */
static int
oi_is_url(const char *s)
{
	const char *h;

	if (strncasecmp(s, "https://", 8) == 0)
		h = s + 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		h = s + 7;
	else
		return 0;
	return *h && *h != '/' && strpbrk(s, " \t\r\n") == NULL;
}

/* 1 when an anhangtitel names an exposé ("Exposé", "Expose ..."). */
static int
oi_is_expose(const char *title)
{
	return strncasecmp(title, "expos", 5) == 0 &&
	       (title[5] == 'e' || title[5] == 'E' || (strncmp(title + 5, "\xc3\xa9", 2) == 0) ||
		strncmp(title + 5, "\xc3\x89", 2) == 0);
}

/* One anhang as a JSON object appended to json; 0 when left out. */
static int
oi_attachment(struct oi_obj *o, xmlNode *a, struct buf *json, size_t count)
{
	const struct oi_map *g = NULL, *fm;
	char *gruppe = oi_attr(a, "gruppe"), *loc = oi_attr(a, "location");
	char *format = NULL, *url = NULL, *title = NULL;
	const char *group = "OTHER", *media = NULL;
	xmlNode *d, *pf, *ck;
	int added = 0;

	if (gruppe && *gruppe) {
		if ((g = oi_lookup(oi_groups, NELEM(oi_groups), gruppe)) == NULL) {
			oi_problem(o, SYNC_ERROR, a, "gruppe", "unknown value '%.40s'", gruppe);
			goto done;
		}
		if (g->to == NULL) {
			oi_problem(o, SYNC_WARNING, a, "gruppe",
				   "%s is not about the site; the attachment is left out", g->from);
			oi_mark_all(a->children);
			goto done;
		}
		group = g->to;
	}
	if ((ck = oi_child(a, "check")) != NULL) {
		char *ctype = oi_attr(ck, "ctype");

		/* an MD5 (or a date) is no SHA-256: the registry cannot use it */
		o->rd->md5_ignored++;
		free(ctype);
	}
	if (strcmp(group, "OTHER") == 0 && g && strcmp(g->from, "DOKUMENTE") == 0 &&
	    oi_has_child(a, "anhangtitel")) {
		xmlNode *t = oi_child(a, "anhangtitel");

		title = oi_text(t);
		if (title && oi_is_expose(title))
			group = "EXPOSE";
		else
			t->_private = NULL; /* read, but not mapped: reported */
	}
	if ((d = oi_child(a, "daten")) == NULL || (pf = oi_child(d, "pfad")) == NULL) {
		if (d && oi_has_child(d, "anhanginhalt")) {
			oi_problem(o, SYNC_WARNING, d, NULL,
				   "embedded attachment content is not uploaded (the registry "
				   "takes URLs); the attachment is left out");
			oi_mark_all(d->children);
		} else {
			oi_problem(o, SYNC_WARNING, a, NULL,
				   "no daten/pfad; the attachment is left out");
		}
		goto done;
	}
	if ((url = oi_text(pf)) == NULL || !oi_is_url(url)) {
		oi_problem(o, SYNC_WARNING, pf, NULL,
			   "'%.80s' is not an http(s) URL: files are not uploaded, the attachment "
			   "is left out",
			   url ? url : "");
		goto done;
	}
	if ((format = oi_text(oi_child(a, "format"))) != NULL && *format) {
		if (strchr(format, '/')) {
			for (char *s = format; *s; s++)
				*s = (char)tolower((unsigned char)*s);
			media = format;
		} else if ((fm = oi_lookup(oi_formats, NELEM(oi_formats),
					   format + (format[0] == '.'))) != NULL) {
			media = fm->to;
		} else {
			oi_problem(o, SYNC_WARNING, a, NULL,
				   "format '%.20s' is not known; the media type is left out",
				   format);
		}
	}
	buf_adds(json, count ? ",{" : "{");
	buf_printf(json, "\"group\":\"%s\"", group);
	if (media) {
		buf_adds(json, ",\"mediaType\":");
		json_add_string(json, media, strlen(media));
	}
	buf_adds(json, ",\"url\":");
	json_add_string(json, url, strlen(url));
	buf_addc(json, '}');
	added = 1;
done:
	if (!added) { /* the problem above speaks for the whole anhang */
		oi_mark_all(a->children);
		for (xmlAttr *at = a->properties; at; at = at->next)
			at->_private = &oi_used;
	}
	free(gruppe);
	free(loc);
	free(format);
	free(url);
	free(title);
	return added;
}

/* anhaenge: attachments with http(s) URLs. */
static void
oi_attachments(struct oi_obj *o, xmlNode *im)
{
	xmlNode *an = oi_child(im, "anhaenge");
	struct buf json;
	size_t n = 0;

	if (an == NULL)
		return;
	buf_init(&json, 0);
	buf_addc(&json, '[');
	for (xmlNode *a = an->children; a; a = a->next) {
		if (!oi_is(a, "anhang"))
			continue;
		a->_private = &oi_used;
		n += (size_t)oi_attachment(o, a, &json, n);
	}
	buf_addc(&json, ']');
	if (buf_failed(&json))
		oi_problem(o, SYNC_ERROR, an, NULL, "out of memory");
	else if (n)
		oi_set(o, "attachments", json.data, an, NULL);
	buf_free(&json);
}

/*
 * verwaltung_objekt/user_defined_simplefield@feldname: any record field by
 * its record.md name; applied last, so it overrides what was derived.
 */
static void
oi_user_fields(struct oi_obj *o, xmlNode *im)
{
	xmlNode *vo = oi_child(im, "verwaltung_objekt");
	struct csv_field f;
	char err[512];

	if (vo == NULL)
		return;
	for (xmlNode *u = vo->children; u; u = u->next) {
		char *name, *value;

		if (!oi_is(u, "user_defined_simplefield"))
			continue;
		u->_private = &oi_used;
		if ((name = oi_attr(u, "feldname")) == NULL) {
			oi_problem(o, SYNC_ERROR, u, NULL, "no feldname");
			continue;
		}
		for (xmlNode *prev = vo->children; prev != u; prev = prev->next) {
			xmlAttr *fa;

			if (!oi_is(prev, "user_defined_simplefield"))
				continue;
			for (fa = prev->properties; fa; fa = fa->next) {
				xmlChar *pv;
				int same;

				if (strcmp((const char *)fa->name, "feldname") != 0)
					continue;
				pv = xmlNodeListGetString(prev->doc, fa->children, 1);
				same = pv && strcmp(oi_trim((char *)pv), name) == 0;
				xmlFree(pv);
				if (same) {
					oi_problem(o, SYNC_ERROR, u, "feldname",
						   "the user field '%.64s' is given twice", name);
					goto next;
				}
			}
		}
		if (csv_field_find(name, &f) == -1) {
			oi_problem(o, SYNC_ERROR, u, "feldname",
				   "'%.64s' is not a record field (record.md names, e.g. status, "
				   "publication, owner_consent, location.lat)",
				   name);
			goto next;
		}
		if ((value = oi_text(u)) == NULL) {
			oi_problem(o, SYNC_ERROR, u, NULL, "out of memory");
			goto next;
		}
		if (*value == '\0')
			oi_problem(o, SYNC_ERROR, u, NULL, "the user field '%.64s' is empty", name);
		else if (csv_field_set(o->r, &f, value, 0, err, sizeof(err)) == -1)
			oi_problem(o, SYNC_ERROR, u, NULL, "user field %.64s: %s", name, err);
		free(value);
	next:
		free(name);
	}
}

/* Fills what OpenImmo lacks and the registry needs, counting each default. */
static void
oi_defaults(struct oi_obj *o, const char *stand_vom)
{
	Vacancy__V1__Record *r = o->r;

	if (!r->has_status) {
		oi_set(o, "status", "MARKETED", o->node, NULL);
		o->rd->def_status++;
	}
	if (!r->has_publication) {
		oi_set(o, "publication", "INTERNAL", o->node, NULL);
		o->rd->def_publication++;
	}
	if (!r->has_owner_consent) {
		oi_set(o, "owner_consent", "UNKNOWN", o->node, NULL);
		o->rd->def_consent++;
	}
	if (r->last_verified_at == NULL && (stand_vom[0] || o->rd->ts_date[0])) {
		oi_set(o, "last_verified_at", stand_vom[0] ? stand_vom : o->rd->ts_date, o->node,
		       NULL);
		if (stand_vom[0])
			o->rd->def_verified_stand++;
		else
			o->rd->def_verified_ts++;
	}
}

/* Counts an unmapped path (ending in path->data). */
static void
oi_note_unmapped(struct oi_obj *o, const char *path, unsigned long line)
{
	struct oi_reader *rd = o->rd;

	for (size_t i = 0; i < rd->nunmapped; i++)
		if (strcmp(rd->unmapped[i].path, path) == 0) {
			rd->unmapped[i].count++;
			return;
		}
	if (rd->nunmapped == rd->capunmapped) {
		size_t cap = rd->capunmapped ? rd->capunmapped * 2 : 32;
		struct oi_unmapped *u = realloc(rd->unmapped, cap * sizeof(*u));

		if (u == NULL)
			return;
		rd->unmapped = u;
		rd->capunmapped = cap;
	}
	if ((rd->unmapped[rd->nunmapped].path = strdup(path)) == NULL)
		return;
	rd->unmapped[rd->nunmapped].count = 1;
	rd->unmapped[rd->nunmapped].line = line;
	rd->unmapped[rd->nunmapped].number = o->number;
	rd->nunmapped++;
}

/* 1 when n has text other than blanks among its own children. */
static int
oi_has_text(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content &&
		    strspn((const char *)c->content, " \t\r\n") != strlen((const char *)c->content))
			return 1;
	return 0;
}

/* Walks below n and notes every element and attribute no mapping read. */
static void
oi_walk_unmapped(struct oi_obj *o, xmlNode *n, struct buf *path)
{
	for (xmlNode *c = n->children; c; c = c->next) {
		size_t mark = path->len;
		int children = 0, attrs = 0;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (path->len)
			buf_addc(path, '/');
		buf_adds(path, (const char *)c->name);
		for (xmlAttr *a = c->properties; a; a = a->next) {
			size_t amark = path->len;

			if (a->_private == &oi_used)
				continue;
			buf_printf(path, "@%s", (const char *)a->name);
			if (!buf_failed(path))
				oi_note_unmapped(o, path->data, (unsigned long)xmlGetLineNo(c));
			attrs++;
			path->len = amark;
			if (path->data)
				path->data[amark] = '\0';
		}
		for (xmlNode *g = c->children; g; g = g->next)
			if (g->type == XML_ELEMENT_NODE)
				children = 1;
		if (children)
			oi_walk_unmapped(o, c, path);
		else if (c->_private != &oi_used && (attrs == 0 || oi_has_text(c)) &&
			 !buf_failed(path)) /* an empty element with attributes: they said it */
			oi_note_unmapped(o, path->data, (unsigned long)xmlGetLineNo(c));
		path->len = mark;
		if (path->data)
			path->data[mark] = '\0';
	}
}

/* Maps one immobilie into a change of the batch (or reports why not). */
static void
oi_immobilie(struct oi_reader *rd, xmlNode *im)
{
	struct oi_obj o = {rd,	im,   ++rd->number, (unsigned long)xmlGetLineNo(im),
			   "?", NULL, rd->p->errors};
	Vacancy__V1__RecordChange *c = NULL;
	xmlNode *vt, *nr, *ak, *sv;
	char *id = NULL, *art = NULL, *stand = NULL, rev[15] = "", stand_date[11] = "";
	int withdraw = 0;
	struct buf path;

	im->_private = &oi_used;
	vt = oi_child(im, "verwaltung_techn");
	nr = oi_child(vt, "objektnr_extern");
	if ((id = oi_text(nr)) == NULL)
		goto oom;
	snprintf(o.id, sizeof(o.id), "%.64s", *id ? id : "?");
	if (*id == '\0')
		oi_problem(&o, SYNC_ERROR, nr ? nr : im, NULL,
			   "verwaltung_techn/objektnr_extern is missing or empty: every "
			   "immobilie needs one");
	if ((ak = oi_child(vt, "aktion")) != NULL && (art = oi_attr(ak, "aktionart")) != NULL &&
	    *art) {
		if (strcasecmp(art, "DELETE") == 0) {
			withdraw = 1;
		} else if (strcasecmp(art, "REFERENZ") == 0) {
			oi_problem(
			    &o, SYNC_WARNING, ak, "aktionart",
			    "REFERENZ marks a reference object (sold or let), not a vacancy; "
			    "the immobilie is left out");
			oi_mark_all(im->children);
			goto done;
		} else if (strcasecmp(art, "CHANGE") != 0) {
			oi_problem(&o, SYNC_ERROR, ak, "aktionart",
				   "unknown value '%.20s' (CHANGE or DELETE)", art);
		}
	}
	if ((sv = oi_child(vt, "stand_vom")) != NULL) {
		if ((stand = oi_text(sv)) == NULL)
			goto oom;
		if (*stand && oi_date(stand, stand_date) == -1)
			oi_problem(&o, SYNC_ERROR, sv, NULL, "'%.40s' is not a date YYYY-MM-DD",
				   stand);
	}
	/* the transfer's time orders exports best; a day alone may repeat */
	if (rd->ts_revision[0])
		snprintf(rev, sizeof(rev), "%s", rd->ts_revision);
	else if (stand_date[0])
		snprintf(rev, sizeof(rev), "%.4s%.2s%.2s000000", stand_date, stand_date + 5,
			 stand_date + 8);
	if ((o.r = malloc(sizeof(*o.r))) == NULL)
		goto oom;
	vacancy__v1__record__init(o.r);
	if (*id)
		oi_set(&o, "external_id", id, nr, NULL);
	if (rev[0])
		oi_set(&o, "revision", rev, im, NULL);
	if (withdraw) {
		Vacancy__V1__Withdrawal *w;

		oi_mark_all(im->children); /* only the key and the revision count */
		if (!o.r->has_revision)
			oi_problem(&o, SYNC_ERROR, im, NULL,
				   "no revision: give uebertragung@timestamp or "
				   "verwaltung_techn/stand_vom");
		if (rd->p->errors != o.errors)
			goto done;
		if ((w = malloc(sizeof(*w))) == NULL || (c = malloc(sizeof(*c))) == NULL) {
			free(w);
			goto oom;
		}
		vacancy__v1__withdrawal__init(w);
		vacancy__v1__record_change__init(c);
		w->external_id = o.r->external_id;
		o.r->external_id = NULL;
		w->has_revision = 1;
		w->revision = o.r->revision;
		c->change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW;
		c->withdraw = w;
		goto add;
	}
	oi_category(&o, im);
	oi_geo(&o, im);
	oi_contact(&o, im);
	oi_prices(&o, im);
	oi_areas(&o, im);
	oi_state(&o, im);
	oi_texts(&o, im);
	oi_attachments(&o, im);
	oi_user_fields(&o, im);
	if (!o.r->has_revision)
		oi_problem(&o, SYNC_ERROR, im, NULL,
			   "no revision: give uebertragung@timestamp, verwaltung_techn/stand_vom "
			   "or a user field 'revision'");
	oi_defaults(&o, stand_date);
	buf_init(&path, 0);
	oi_walk_unmapped(&o, im, &path);
	buf_free(&path);
	if (rd->p->errors != o.errors)
		goto done;
	if ((c = malloc(sizeof(*c))) == NULL)
		goto oom;
	vacancy__v1__record_change__init(c);
	c->change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
	c->upsert = o.r;
	o.r = NULL;
add : {
	struct sync_source src = {o.line, o.number};

	/* the first AGS a user field names is the file's; sync_batch_finish checks the rest */
	if (c->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT &&
	    c->upsert->municipality_ags && rd->b->ags == NULL) {
		if ((rd->b->ags = strdup(c->upsert->municipality_ags)) == NULL)
			goto oom;
		rd->b->ags_line = o.line;
	}
	if (sync_batch_add(rd->b, c, src) == -1) {
		c = NULL; /* consumed */
		goto oom;
	}
	c = NULL;
}
	goto done;
oom:
	sync_problem_add(rd->p, SYNC_ERROR, o.line, NULL, "out of memory");
done:
	if (o.r)
		protobuf_c_message_free_unpacked(&o.r->base, &codec_heap);
	if (c)
		protobuf_c_message_free_unpacked(&c->base, &codec_heap);
	free(id);
	free(art);
	free(stand);
}

/* ---- the document ---- */

/*
 * SAX internalSubset: called when <!DOCTYPE name ...> has been read and
 * before anything in its [ ] is. OpenImmo needs no DTD, and a DTD is how
 * entities (billion laughs, external files) get in: stop right here.
 */
static void
oi_doctype_cb(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct oi_reader *rd = ctxt->_private;

	(void)name;
	(void)external_id;
	(void)system_id;
	rd->doctype = 1;
	xmlStopParser(ctxt);
}

/* Structured error handler of the parser: keeps the first error, which names the cause. */
static void
oi_error_cb(void *ctx, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct oi_reader *rd = ctxt->_private;

	if (rd->first_error[0] || e == NULL || e->level < XML_ERR_ERROR)
		return;
	snprintf(rd->first_error, sizeof(rd->first_error), "%s",
		 e->message ? e->message : "unreadable");
	oi_trim(rd->first_error);
	rd->first_error_line = e->line > 0 ? (unsigned long)e->line : 0;
}

/* Reads uebertragung: scope and the transfer's time. */
static void
oi_transfer(struct oi_reader *rd, xmlNode *root)
{
	xmlNode *u;
	char *umfang, *ts;

	for (u = root->children; u && !oi_is(u, "uebertragung"); u = u->next)
		;
	if (u == NULL)
		return;
	if ((umfang = oi_attr(u, "umfang")) != NULL) {
		if (strcasecmp(umfang, "VOLL") == 0)
			rd->b->full = 1;
		else if (*umfang && strcasecmp(umfang, "TEIL") != 0)
			sync_problem_add(rd->p, SYNC_ERROR, (unsigned long)xmlGetLineNo(u),
					 "uebertragung@umfang",
					 "unknown value '%.20s' (VOLL or TEIL)", umfang);
		free(umfang);
	}
	if ((ts = oi_attr(u, "timestamp")) != NULL) {
		if (*ts && oi_timestamp(ts, rd->ts_revision, rd->ts_date) == -1) {
			sync_problem_add(rd->p, SYNC_ERROR, (unsigned long)xmlGetLineNo(u),
					 "uebertragung@timestamp",
					 "'%.40s' is not a time such as 2026-11-20T14:30:00", ts);
			rd->ts_revision[0] = rd->ts_date[0] = '\0';
		}
		free(ts);
	}
}

/* Reports the unmapped paths, the defaults and the ignored checksums. */
static void
oi_report(struct oi_reader *rd)
{
	struct buf d;

	for (size_t i = 0; i < rd->nunmapped; i++) {
		const struct oi_unmapped *u = &rd->unmapped[i];
		const char *hint = NULL;

		for (size_t k = 0; k < NELEM(oi_hints); k++)
			if (strcmp(oi_hints[k].path, u->path) == 0)
				hint = oi_hints[k].hint;
		sync_problem_add(rd->p, SYNC_WARNING, u->line, u->path,
				 "%zu\xc3\x97 not mapped (first in immobilie %lu)%s%s", u->count,
				 u->number, hint ? ": " : "", hint ? hint : "");
	}
	if (rd->md5_ignored)
		sync_problem_add(rd->p, SYNC_NOTICE, 0, "anhaenge/anhang/check",
				 "%zu\xc3\x97 ignored: a check value (an MD5 or a date) is not the "
				 "SHA-256 the registry keeps",
				 rd->md5_ignored);
	buf_init(&d, 0);
	if (rd->def_status)
		buf_printf(&d, ", status MARKETED %zu\xc3\x97", rd->def_status);
	if (rd->def_publication)
		buf_printf(&d, ", publication INTERNAL %zu\xc3\x97", rd->def_publication);
	if (rd->def_consent)
		buf_printf(&d, ", owner_consent UNKNOWN %zu\xc3\x97", rd->def_consent);
	if (rd->def_verified_stand)
		buf_printf(&d, ", last_verified_at = stand_vom %zu\xc3\x97",
			   rd->def_verified_stand);
	if (rd->def_verified_ts)
		buf_printf(&d, ", last_verified_at = transfer date %zu\xc3\x97",
			   rd->def_verified_ts);
	if (d.len && !buf_failed(&d))
		sync_problem_add(rd->p, SYNC_NOTICE, 0, NULL,
				 "defaults for fields OpenImmo lacks:%s (override with "
				 "user_defined_simplefield)",
				 d.data + 1);
	buf_free(&d);
}

int
openimmo_read(const char *data, size_t len, struct sync_batch *out, struct sync_problems *p)
{
	struct oi_reader rd = {0};
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	xmlNode *root;
	size_t errors = p->errors;

	rd.b = out;
	rd.p = p;
	if (len > OPENIMMO_MAX_FILE || len > INT_MAX) {
		sync_problem_add(p, SYNC_ERROR, 0, NULL, "the file has %zu bytes; at most %zu MiB",
				 len, (size_t)OPENIMMO_MAX_FILE >> 20);
		return -1;
	}
	if (len == 0) {
		sync_problem_add(p, SYNC_ERROR, 0, NULL, "the document is empty");
		return -1;
	}
	xmlInitParser();
	if ((ctxt = xmlCreateMemoryParserCtxt(data, (int)len)) == NULL) {
		sync_problem_add(p, SYNC_ERROR, 0, NULL, "cannot set up the XML parser");
		return -1;
	}
	ctxt->_private = &rd;
	ctxt->sax->internalSubset = oi_doctype_cb;
	ctxt->sax->serror = oi_error_cb;
	/* no NOENT (entities stay unexpanded), no DTDLOAD/DTDATTR/DTDVALID, no
	 * XINCLUDE, no HUGE (libxml2's own size and depth limits hold) */
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				    XML_PARSE_BIG_LINES);
	xmlParseDocument(ctxt);
	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if (rd.doctype || (doc && (doc->intSubset || doc->extSubset))) {
		sync_problem_add(p, SYNC_ERROR, 0, NULL,
				 "the document declares a DOCTYPE: refused, since DTDs can define "
				 "entities and load files (OpenImmo needs none; remove the "
				 "<!DOCTYPE ...> line)");
		goto done;
	}
	if (!ctxt->wellFormed || doc == NULL) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);

		if (rd.first_error[0] == '\0' && e && e->message) {
			snprintf(rd.first_error, sizeof(rd.first_error), "%s", e->message);
			oi_trim(rd.first_error);
			rd.first_error_line = e->line > 0 ? (unsigned long)e->line : 0;
		}
		sync_problem_add(p, SYNC_ERROR, rd.first_error_line, NULL,
				 "not well-formed XML: %s",
				 rd.first_error[0] ? rd.first_error : "unreadable");
		goto done;
	}
	root = xmlDocGetRootElement(doc);
	if (!oi_is(root, "openimmo")) {
		sync_problem_add(p, SYNC_ERROR, root ? (unsigned long)xmlGetLineNo(root) : 0, NULL,
				 "not an OpenImmo export: the root element is <%.40s>, not "
				 "<openimmo>",
				 root ? (const char *)root->name : "");
		goto done;
	}
	oi_transfer(&rd, root);
	for (xmlNode *a = root->children; a; a = a->next) {
		if (!oi_is(a, "anbieter"))
			continue;
		for (xmlNode *im = a->children; im; im = im->next)
			if (oi_is(im, "immobilie"))
				oi_immobilie(&rd, im);
	}
	oi_report(&rd);
done:
	for (size_t i = 0; i < rd.nunmapped; i++)
		free(rd.unmapped[i].path);
	free(rd.unmapped);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return p->errors > errors ? -1 : 0;
}
