/*
 * test_openimmo: the OpenImmo reader of "vacancy sync" (clients/openimmo.c):
 * each mapping onto the record, DELETE, VOLL/TEIL, revisions, user fields,
 * defaults, the report of what is not mapped, refusal of DOCTYPEs (XXE,
 * entity bombs) and of malformed XML; and the example files: the CSV and
 * the OpenImmo export of the same sites must give the same changes, byte
 * for byte.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../clients/csv.h"
#include "../../clients/openimmo.h"
#include "../../clients/sync.h"
#include "buf.h"
#include "json.h"

void test_openimmo_register(void);

#define HEAD                                                                                       \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                             \
	"<openimmo>\n"                                                                             \
	"<uebertragung art=\"OFFLINE\" umfang=\"TEIL\" version=\"1.2.7\" "                         \
	"timestamp=\"2026-11-20T14:30:00\"/>\n"                                                    \
	"<anbieter>\n"
#define TAIL "</anbieter>\n</openimmo>\n"

struct rd {
	struct sync_batch b;
	struct sync_problems p;
	int rc;
};

static void
rd_parse(struct rd *r, const char *doc)
{
	sync_batch_init(&r->b, SYNC_FORMAT_OPENIMMO);
	sync_problems_init(&r->p, 200);
	r->rc = openimmo_read(doc, strlen(doc), &r->b, &r->p);
}

/* Parses one immobilie with body inside and an objektnr_extern ID. */
static void
rd_one(struct rd *r, const char *id, const char *body)
{
	struct buf doc;

	buf_init(&doc, 0);
	buf_printf(&doc,
		   HEAD "<immobilie>\n%s\n<verwaltung_techn><objektnr_extern>%s</objektnr_extern>"
			"<stand_vom>2026-11-01</stand_vom></verwaltung_techn>\n</immobilie>\n" TAIL,
		   body, id);
	rd_parse(r, doc.data);
	buf_free(&doc);
}

static void
rd_free(struct rd *r)
{
	sync_batch_free(&r->b);
	sync_problems_free(&r->p);
}

/* The first problem of severity s whose where and message contain the texts (NULL: any). */
static const struct sync_problem *
find(const struct rd *r, enum sync_severity s, const char *where, const char *msg)
{
	for (size_t i = 0; i < r->p.n; i++) {
		const struct sync_problem *it = &r->p.items[i];

		if (it->severity != s)
			continue;
		if (where && (it->where == NULL || strstr(it->where, where) == NULL))
			continue;
		if (msg && strstr(it->message, msg) == NULL)
			continue;
		return it;
	}
	return NULL;
}

static const Vacancy__V1__Record *
up(const struct rd *r, size_t i)
{
	if (i >= r->b.n ||
	    r->b.changes[i]->change_case != VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT)
		return NULL;
	return r->b.changes[i]->upsert;
}

static void
test_full_mapping(void)
{
	struct rd r;
	const Vacancy__V1__Record *a;

	rd_one(
	    &r, "ANN-1",
	    "<objektkategorie><nutzungsart WOHNEN=\"false\" GEWERBE=\"1\"/>"
	    "<vermarktungsart KAUF=\"true\" MIETE_PACHT=\"true\" ERBPACHT=\"0\" LEASING=\"false\"/>"
	    "<objektart><einzelhandel/></objektart></objektkategorie>"
	    "<geo><plz>09456</plz><ort>Annaberg-Buchholz</ort>"
	    "<geokoordinaten breitengrad=\"50.5785\" laengengrad=\"13.0012\"/>"
	    "<strasse> Buchholzer Stra&#xDF;e </strasse><hausnummer>12</hausnummer>"
	    "<flur>3</flur><flurstueck>412/3</flurstueck><gemarkung>Annaberg</gemarkung></geo>"
	    "<kontaktperson><firma>Stadt &amp; Land</firma><position>Standortberatung</position>"
	    "<tel_durchw>+49 3733 1</tel_durchw><email_direkt>wf@example.de</email_direkt>"
	    "</kontaktperson>"
	    "<preise><kaufpreis>89000</kaufpreis><kaltmiete>650.5</kaltmiete>"
	    "<mietpreis_pro_qm>5.91</mietpreis_pro_qm><waehrung iso_waehrung=\"EUR\"/></preise>"
	    "<flaechen><nutzflaeche>110</nutzflaeche><gesamtflaeche>130.5</gesamtflaeche>"
	    "<verkaufsflaeche>85.5</verkaufsflaeche><grundstuecksflaeche>300</grundstuecksflaeche>"
	    "<teilbar_ab>40</teilbar_ab></flaechen>"
	    "<zustand_angaben><baujahr>1898</baujahr><zustand zustand_art=\"MODERNISIERT\"/>"
	    "<bebaubar_nach bebaubar_attr=\"34_NACHBARSCHAFT\"/>"
	    "<erschliessung erschl_attr=\"ORTSUEBLICHERSCHLOSSEN\"/></zustand_angaben>"
	    "<freitexte><objekttitel>Laden</objekttitel><objektbeschreibung><![CDATA[Zeile 1\n"
	    "Zeile <2>]]></objektbeschreibung><lage>Innenstadt</lage></freitexte>");
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.p.errors, 0);
	CU_ASSERT_EQUAL(r.p.warnings, 0);
	CU_ASSERT_EQUAL_FATAL(r.b.n, 1);
	a = up(&r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL(a->external_id, "ANN-1");
	CU_ASSERT_EQUAL(a->revision, 20261120143000ULL);
	CU_ASSERT_EQUAL_FATAL(a->n_usage, 1);
	CU_ASSERT_EQUAL(a->usage[0], VACANCY__V1__USAGE__VALUE__COMMERCIAL);
	CU_ASSERT_EQUAL_FATAL(a->n_marketing, 2);
	CU_ASSERT_EQUAL(a->marketing[0], VACANCY__V1__MARKETING__VALUE__SALE);
	CU_ASSERT_EQUAL(a->marketing[1], VACANCY__V1__MARKETING__VALUE__RENT);
	CU_ASSERT_EQUAL(a->object_type, VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL);
	CU_ASSERT_EQUAL(a->site_kind, VACANCY__V1__SITE_KIND__VALUE__UNIT);
	CU_ASSERT_STRING_EQUAL(a->postcode, "09456");
	CU_ASSERT_STRING_EQUAL(a->locality, "Annaberg-Buchholz");
	CU_ASSERT_STRING_EQUAL(a->street, "Buchholzer Straße");
	CU_ASSERT_STRING_EQUAL(a->house_number, "12");
	CU_ASSERT_STRING_EQUAL(a->flur, "3");
	CU_ASSERT_STRING_EQUAL(a->flurstueck, "412/3");
	CU_ASSERT_STRING_EQUAL(a->gemarkung, "Annaberg");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a->location);
	CU_ASSERT_DOUBLE_EQUAL(a->location->lat, 50.5785, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(a->location->lon, 13.0012, 1e-12);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a->marketing_contact);
	CU_ASSERT_STRING_EQUAL(a->marketing_contact->organisation, "Stadt & Land");
	CU_ASSERT_STRING_EQUAL(a->marketing_contact->person_role, "Standortberatung");
	CU_ASSERT_STRING_EQUAL(a->marketing_contact->phone, "+49 3733 1");
	CU_ASSERT_STRING_EQUAL(a->marketing_contact->email, "wf@example.de");
	CU_ASSERT_STRING_EQUAL(a->purchase_price_eur, "89000.00");
	CU_ASSERT_STRING_EQUAL(a->rent_eur_month, "650.50");
	CU_ASSERT_STRING_EQUAL(a->rent_eur_m2, "5.91");
	CU_ASSERT(!a->has_price_on_request);
	CU_ASSERT_DOUBLE_EQUAL(a->usable_area_m2, 110, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(a->floor_area_m2, 130.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(a->sales_area_m2, 85.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(a->plot_area_m2, 300, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(a->divisible_from_m2, 40, 1e-12);
	CU_ASSERT_EQUAL(a->construction_year, 1898);
	CU_ASSERT_EQUAL(a->condition, VACANCY__V1__CONDITION__VALUE__MODERNISED);
	CU_ASSERT_EQUAL(a->planning_basis, VACANCY__V1__PLANNING_BASIS__VALUE__S34);
	CU_ASSERT_EQUAL(a->development, VACANCY__V1__DEVELOPMENT__VALUE__LOCAL_STANDARD);
	CU_ASSERT_STRING_EQUAL(a->title, "Laden");
	CU_ASSERT_STRING_EQUAL(a->description, "Zeile 1\nZeile <2>");
	CU_ASSERT_STRING_EQUAL(a->location_text, "Innenstadt");
	/* defaults */
	CU_ASSERT_EQUAL(a->status, VACANCY__V1__STATUS__VALUE__MARKETED);
	CU_ASSERT_EQUAL(a->publication, VACANCY__V1__PUBLICATION__VALUE__INTERNAL);
	CU_ASSERT_EQUAL(a->owner_consent, VACANCY__V1__OWNER_CONSENT__VALUE__UNKNOWN);
	CU_ASSERT_STRING_EQUAL(a->last_verified_at, "2026-11-01");
	CU_ASSERT_PTR_NULL(a->municipality_ags); /* from --ags, in sync_batch_finish */
	CU_ASSERT_EQUAL(r.b.sources[0].number, 1);
	CU_ASSERT_EQUAL(r.b.sources[0].line, 5);
	CU_ASSERT_FALSE(r.b.full);
	rd_free(&r);
}

static void
test_usage_and_kinds(void)
{
	static const struct {
		const char *nutzung, *objektart;
		int usage, object_type, site_kind;
	} cases[] = {
	    {"WOHNEN=\"true\" GEWERBE=\"true\"", "<haus/>", VACANCY__V1__USAGE__VALUE__MIXED,
	     VACANCY__V1__OBJECT_TYPE__VALUE__HOUSE, VACANCY__V1__SITE_KIND__VALUE__BUILDING},
	    {"WAZ=\"true\"", "<wohnung/>", VACANCY__V1__USAGE__VALUE__RESIDENTIAL,
	     VACANCY__V1__OBJECT_TYPE__VALUE__APARTMENT, VACANCY__V1__SITE_KIND__VALUE__UNIT},
	    {"ANLAGE=\"true\"", "", VACANCY__V1__USAGE__VALUE__COMMERCIAL,
	     VACANCY__V1__OBJECT_TYPE__VALUE__INVESTMENT, VACANCY__V1__SITE_KIND__VALUE__BUILDING},
	    {"ANLAGE=\"true\" WOHNEN=\"true\"", "<zinshaus_renditeobjekt/>",
	     VACANCY__V1__USAGE__VALUE__RESIDENTIAL, VACANCY__V1__OBJECT_TYPE__VALUE__INVESTMENT,
	     VACANCY__V1__SITE_KIND__VALUE__BUILDING},
	    {"GEWERBE=\"true\"", "<grundstueck/>", VACANCY__V1__USAGE__VALUE__COMMERCIAL,
	     VACANCY__V1__OBJECT_TYPE__VALUE__PLOT, VACANCY__V1__SITE_KIND__VALUE__PLOT},
	    {"GEWERBE=\"true\"", "<buero_praxen/>", VACANCY__V1__USAGE__VALUE__COMMERCIAL,
	     VACANCY__V1__OBJECT_TYPE__VALUE__OFFICE_PRACTICE, VACANCY__V1__SITE_KIND__VALUE__UNIT},
	    {"GEWERBE=\"true\"", "<gastgewerbe/>", VACANCY__V1__USAGE__VALUE__COMMERCIAL,
	     VACANCY__V1__OBJECT_TYPE__VALUE__HOSPITALITY, VACANCY__V1__SITE_KIND__VALUE__BUILDING},
	    {"GEWERBE=\"true\"", "<hallen_lager_prod/>", VACANCY__V1__USAGE__VALUE__COMMERCIAL,
	     VACANCY__V1__OBJECT_TYPE__VALUE__HALL_STORAGE_PRODUCTION,
	     VACANCY__V1__SITE_KIND__VALUE__BUILDING},
	    {"GEWERBE=\"true\"", "<land_und_forstwirtschaft/>",
	     VACANCY__V1__USAGE__VALUE__COMMERCIAL,
	     VACANCY__V1__OBJECT_TYPE__VALUE__AGRICULTURE_FORESTRY,
	     VACANCY__V1__SITE_KIND__VALUE__BUILDING},
	    {"GEWERBE=\"true\"", "<parken/>", VACANCY__V1__USAGE__VALUE__COMMERCIAL,
	     VACANCY__V1__OBJECT_TYPE__VALUE__PARKING, VACANCY__V1__SITE_KIND__VALUE__BUILDING},
	    {"GEWERBE=\"true\"", "<freizeitimmobilie_gewerblich/>",
	     VACANCY__V1__USAGE__VALUE__COMMERCIAL,
	     VACANCY__V1__OBJECT_TYPE__VALUE__LEISURE_COMMERCIAL,
	     VACANCY__V1__SITE_KIND__VALUE__BUILDING},
	    {"GEWERBE=\"true\"", "<sonstige/>", VACANCY__V1__USAGE__VALUE__COMMERCIAL,
	     VACANCY__V1__OBJECT_TYPE__VALUE__OTHER, VACANCY__V1__SITE_KIND__VALUE__BUILDING},
	};
	char body[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rd r;
		const Vacancy__V1__Record *a;

		snprintf(body, sizeof(body),
			 "<objektkategorie><nutzungsart %s/><objektart>%s</objektart>"
			 "</objektkategorie>",
			 cases[i].nutzung, cases[i].objektart);
		rd_one(&r, "X", body);
		CU_ASSERT_EQUAL(r.p.errors, 0);
		a = up(&r, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		CU_ASSERT_EQUAL_FATAL(a->n_usage, 1);
		CU_ASSERT_EQUAL(a->usage[0], cases[i].usage);
		CU_ASSERT_EQUAL(a->object_type, cases[i].object_type);
		CU_ASSERT_EQUAL(a->site_kind, cases[i].site_kind);
		rd_free(&r);
	}
}

static void
test_state_mappings(void)
{
	static const struct {
		const char *xml;
		int condition, development, planning, status;
	} cases[] = {
	    {"<zustand zustand_art=\"ERSTBEZUG\"/><erschliessung erschl_attr=\"UNERSCHLOSSEN\"/>"
	     "<bebaubar_nach bebaubar_attr=\"KEIN BAULAND\"/>",
	     VACANCY__V1__CONDITION__VALUE__FIRST_OCCUPANCY, VACANCY__V1__DEVELOPMENT__VALUE__NONE,
	     VACANCY__V1__PLANNING_BASIS__VALUE__NOT_BUILDING_LAND, 0},
	    {"<zustand zustand_art=\"neuwertig\"/><erschliessung erschl_attr=\"TEILERSCHLOSSEN\"/>"
	     "<bebaubar_nach bebaubar_attr=\"35_AUSSENGEBIET\"/><verkaufstatus "
	     "stand=\"RESERVIERT\"/>",
	     VACANCY__V1__CONDITION__VALUE__AS_NEW, VACANCY__V1__DEVELOPMENT__VALUE__PARTIAL,
	     VACANCY__V1__PLANNING_BASIS__VALUE__S35, VACANCY__V1__STATUS__VALUE__RESERVED},
	    {"<zustand zustand_art=\"VOLL_SANIERT\"/><erschliessung "
	     "erschl_attr=\"VOLLERSCHLOSSEN\"/>"
	     "<bebaubar_nach bebaubar_attr=\"B_PLAN\"/>",
	     VACANCY__V1__CONDITION__VALUE__REFURBISHED, VACANCY__V1__DEVELOPMENT__VALUE__FULL,
	     VACANCY__V1__PLANNING_BASIS__VALUE__BPLAN, 0},
	    {"<zustand zustand_art=\"GEPFLEGT\"/><erschliessung erschl_attr=\"NICHT_ERSCHLOSSEN\"/>"
	     "<bebaubar_nach bebaubar_attr=\"BAUERWARTUNGSLAND\"/>",
	     VACANCY__V1__CONDITION__VALUE__WELL_KEPT, VACANCY__V1__DEVELOPMENT__VALUE__NONE,
	     VACANCY__V1__PLANNING_BASIS__VALUE__EXPECTED_BUILDING_LAND, 0},
	    {"<zustand zustand_art=\"SANIERUNGSBEDUERFTIG\"/>",
	     VACANCY__V1__CONDITION__VALUE__NEEDS_REFURBISHMENT, 0, 0, 0},
	    {"<zustand zustand_art=\"BAUFAELLIG\"/>", VACANCY__V1__CONDITION__VALUE__DILAPIDATED, 0,
	     0, 0},
	    {"<zustand zustand_art=\"ROHBAU\"/>", VACANCY__V1__CONDITION__VALUE__SHELL, 0, 0, 0},
	    {"<zustand zustand_art=\"ENTKERNT\"/>", VACANCY__V1__CONDITION__VALUE__GUTTED, 0, 0, 0},
	    {"<zustand zustand_art=\"ABRISSOBJEKT\"/>",
	     VACANCY__V1__CONDITION__VALUE__DEMOLITION_OBJECT, 0, 0, 0},
	    {"<zustand zustand_art=\"PROJEKTIERT\"/>", VACANCY__V1__CONDITION__VALUE__PROJECTED, 0,
	     0, 0},
	    {"<zustand zustand_art=\"TEIL_SANIERT\"/>", VACANCY__V1__CONDITION__VALUE__MODERNISED,
	     0, 0, 0},
	    {"<zustand zustand_art=\"RENOVIERUNGSBEDUERFTIG\"/>",
	     VACANCY__V1__CONDITION__VALUE__NEEDS_REFURBISHMENT, 0, 0, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rd r;
		const Vacancy__V1__Record *a;
		char body[512];

		snprintf(body, sizeof(body), "<zustand_angaben>%s</zustand_angaben>", cases[i].xml);
		rd_one(&r, "X", body);
		CU_ASSERT_EQUAL(r.p.errors, 0);
		CU_ASSERT_EQUAL(r.p.warnings, 0);
		a = up(&r, 0);
		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		CU_ASSERT_EQUAL(a->condition, cases[i].condition);
		CU_ASSERT_EQUAL(a->development, cases[i].development);
		CU_ASSERT_EQUAL(a->planning_basis, cases[i].planning);
		if (cases[i].status)
			CU_ASSERT_EQUAL(a->status, cases[i].status);
		rd_free(&r);
	}
}

static void
test_state_problems(void)
{
	struct rd r;

	rd_one(&r, "X",
	       "<zustand_angaben><baujahr>um 1900</baujahr>"
	       "<zustand zustand_art=\"NACH_VEREINBARUNG\"/>"
	       "<erschliessung erschl_attr=\"HALB\"/><verkaufstatus stand=\"VERKAUFT\"/>"
	       "</zustand_angaben>");
	CU_ASSERT_PTR_NOT_NULL(
	    find(&r, SYNC_ERROR, "immobilie 1 (X): zustand_angaben/baujahr", "not a year"));
	CU_ASSERT_PTR_NOT_NULL(
	    find(&r, SYNC_ERROR, "zustand_angaben/erschliessung@erschl_attr", "'HALB'"));
	CU_ASSERT_PTR_NOT_NULL(
	    find(&r, SYNC_WARNING, "zustand_angaben/zustand@zustand_art", "NACH_VEREINBARUNG"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_WARNING, "verkaufstatus@stand", "VERKAUFT"));
	CU_ASSERT_EQUAL(r.p.errors, 2);
	CU_ASSERT_EQUAL(r.b.n, 0); /* an immobilie with an error adds nothing */
	rd_free(&r);
}

static void
test_prices(void)
{
	struct rd r;
	const Vacancy__V1__Record *a;

	/* on request: the 0 exporters write is no price */
	rd_one(&r, "X",
	       "<preise><kaufpreis auf_anfrage=\"true\">0</kaufpreis>"
	       "<nettokaltmiete>1200</nettokaltmiete></preise>");
	CU_ASSERT_EQUAL(r.p.errors, 0);
	a = up(&r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT(a->has_price_on_request && a->price_on_request);
	CU_ASSERT_PTR_NULL(a->purchase_price_eur);
	CU_ASSERT_STRING_EQUAL(a->rent_eur_month, "1200.00"); /* nettokaltmiete when no kaltmiete */
	rd_free(&r);

	/* kaltmiete wins over nettokaltmiete, which is then reported */
	rd_one(&r, "X",
	       "<preise><kaltmiete>400</kaltmiete><nettokaltmiete>380</nettokaltmiete>"
	       "</preise>");
	CU_ASSERT_STRING_EQUAL(up(&r, 0)->rent_eur_month, "400.00");
	CU_ASSERT_PTR_NOT_NULL(
	    find(&r, SYNC_WARNING, "preise/nettokaltmiete", "1\xc3\x97 not mapped"));
	rd_free(&r);

	rd_one(&r, "X",
	       "<preise><kaufpreis>12.345</kaufpreis><kaltmiete>1,5</kaltmiete>"
	       "<waehrung iso_waehrung=\"CHF\"/></preise>");
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, "preise/kaufpreis",
				    "purchase_price_eur: '12.345' has more than two"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, "preise/kaltmiete", "decimal comma"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, "preise/waehrung@iso_waehrung", "euros only"));
	CU_ASSERT_EQUAL(r.b.n, 0);
	rd_free(&r);
}

static void
test_contact_and_areas_fallbacks(void)
{
	struct rd r;
	const Vacancy__V1__Record *a;

	rd_one(&r, "X",
	       "<kontaktperson><email_zentrale>info@x.example</email_zentrale>"
	       "<tel_zentrale>+49 1</tel_zentrale><name>Muster</name></kontaktperson>"
	       "<flaechen><wohnflaeche>68.4</wohnflaeche></flaechen>");
	a = up(&r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL(a->marketing_contact->email, "info@x.example");
	CU_ASSERT_STRING_EQUAL(a->marketing_contact->phone, "+49 1");
	CU_ASSERT_DOUBLE_EQUAL(a->usable_area_m2, 68.4, 1e-12);
	CU_ASSERT_PTR_NOT_NULL(
	    find(&r, SYNC_WARNING, "kontaktperson/name", "an office, not a person"));
	rd_free(&r);
}

static void
test_attachments(void)
{
	struct rd r;
	const Vacancy__V1__Record *a;

	rd_one(&r, "X",
	       "<anhaenge>"
	       "<anhang location=\"REMOTE\" gruppe=\"TITELBILD\"><format>JPG</format>"
	       "<daten><pfad>https://x.example/a.jpg</pfad></daten>"
	       "<check ctype=\"MD5\">9e107d9d372bb6826bd81d3542a419d6</check></anhang>"
	       "<anhang location=\"REMOTE\" gruppe=\"GRUNDRISS\"><format>.pdf</format>"
	       "<daten><pfad>http://x.example/g.pdf</pfad></daten></anhang>"
	       "<anhang location=\"REMOTE\" gruppe=\"DOKUMENTE\"><anhangtitel>Expos\xc3\xa9 Markt 3"
	       "</anhangtitel><format>application/PDF</format>"
	       "<daten><pfad>https://x.example/e.pdf</pfad></daten></anhang>"
	       "<anhang location=\"REMOTE\" gruppe=\"DOKUMENTE\"><anhangtitel>Energieausweis"
	       "</anhangtitel><daten><pfad>https://x.example/ea.pdf</pfad></daten></anhang>"
	       "<anhang location=\"EXTERN\" gruppe=\"BILD\"><format>JPG</format>"
	       "<daten><pfad>bilder/a.jpg</pfad></daten></anhang>"
	       "<anhang location=\"INTERN\" gruppe=\"BILD\"><format>JPG</format>"
	       "<daten><anhanginhalt>/9j/4AAQ</anhanginhalt></daten></anhang>"
	       "<anhang location=\"REMOTE\" gruppe=\"ANBIETERLOGO\"><format>PNG</format>"
	       "<daten><pfad>https://x.example/logo.png</pfad></daten></anhang>"
	       "</anhaenge>");
	CU_ASSERT_EQUAL(r.p.errors, 0);
	a = up(&r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL_FATAL(a->n_attachments, 4);
	CU_ASSERT_EQUAL(a->attachments[0]->group, VACANCY__V1__ATTACHMENT_GROUP__VALUE__PHOTO);
	CU_ASSERT_STRING_EQUAL(a->attachments[0]->media_type, "image/jpeg");
	CU_ASSERT_STRING_EQUAL(a->attachments[0]->url, "https://x.example/a.jpg");
	CU_ASSERT_PTR_NULL(a->attachments[0]->sha256); /* an MD5 is no SHA-256 */
	CU_ASSERT_EQUAL(a->attachments[1]->group, VACANCY__V1__ATTACHMENT_GROUP__VALUE__FLOORPLAN);
	CU_ASSERT_STRING_EQUAL(a->attachments[1]->media_type, "application/pdf");
	CU_ASSERT_EQUAL(a->attachments[2]->group, VACANCY__V1__ATTACHMENT_GROUP__VALUE__EXPOSE);
	CU_ASSERT_STRING_EQUAL(a->attachments[2]->media_type, "application/pdf");
	CU_ASSERT_EQUAL(a->attachments[3]->group, VACANCY__V1__ATTACHMENT_GROUP__VALUE__OTHER);
	CU_ASSERT_PTR_NULL(a->attachments[3]->media_type);
	CU_ASSERT_PTR_NOT_NULL(
	    find(&r, SYNC_WARNING, "anhaenge/anhang/daten/pfad", "bilder/a.jpg"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_WARNING, "anhaenge/anhang/daten", "not uploaded"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_WARNING, "anhang@gruppe", "ANBIETERLOGO"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_WARNING, "anhaenge/anhang/anhangtitel", "1\xc3\x97"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_NOTICE, "anhaenge/anhang/check", "1\xc3\x97 ignored"));
	CU_ASSERT_EQUAL(r.p.warnings, 4);
	rd_free(&r);
}

static void
test_user_fields_and_defaults(void)
{
	struct rd r;
	const Vacancy__V1__Record *a;

	rd_one(
	    &r, "X",
	    "<objektkategorie><nutzungsart GEWERBE=\"true\"/><objektart><hallen_lager_prod/>"
	    "</objektart></objektkategorie>"
	    "<verwaltung_objekt>"
	    "<user_defined_simplefield feldname=\"site_kind\">brownfield</user_defined_simplefield>"
	    "<user_defined_simplefield feldname=\"usage\">INDUSTRIAL</user_defined_simplefield>"
	    "<user_defined_simplefield feldname=\"status\">CONFIRMED</user_defined_simplefield>"
	    "<user_defined_simplefield feldname=\"publication\">PUBLIC</user_defined_simplefield>"
	    "<user_defined_simplefield feldname=\"owner_consent\">OBJECTED"
	    "</user_defined_simplefield>"
	    "<user_defined_simplefield feldname=\"last_verified_at\">01.10.2026"
	    "</user_defined_simplefield>"
	    "<user_defined_simplefield feldname=\"municipality_ags\">14521020"
	    "</user_defined_simplefield>"
	    "<user_defined_simplefield feldname=\"parcel_ids\">142201003011870002__|"
	    "14220100301188______</user_defined_simplefield>"
	    "<user_defined_simplefield feldname=\"location_blur_m\">250</user_defined_simplefield>"
	    "<user_defined_simplefield feldname=\"contamination\">suspected"
	    "</user_defined_simplefield>"
	    "</verwaltung_objekt>");
	CU_ASSERT_EQUAL(r.p.errors, 0);
	a = up(&r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->site_kind, VACANCY__V1__SITE_KIND__VALUE__BROWNFIELD); /* overrides */
	CU_ASSERT_EQUAL_FATAL(a->n_usage, 1);
	CU_ASSERT_EQUAL(a->usage[0], VACANCY__V1__USAGE__VALUE__INDUSTRIAL);
	CU_ASSERT_EQUAL(a->object_type, VACANCY__V1__OBJECT_TYPE__VALUE__HALL_STORAGE_PRODUCTION);
	CU_ASSERT_EQUAL(a->status, VACANCY__V1__STATUS__VALUE__CONFIRMED);
	CU_ASSERT_EQUAL(a->publication, VACANCY__V1__PUBLICATION__VALUE__PUBLIC);
	CU_ASSERT_EQUAL(a->owner_consent, VACANCY__V1__OWNER_CONSENT__VALUE__OBJECTED);
	CU_ASSERT_STRING_EQUAL(a->last_verified_at, "2026-10-01");
	CU_ASSERT_STRING_EQUAL(a->municipality_ags, "14521020");
	CU_ASSERT_EQUAL(a->n_parcel_ids, 2);
	CU_ASSERT_EQUAL(a->location_blur_m, 250);
	CU_ASSERT_EQUAL(a->contamination, VACANCY__V1__CONTAMINATION__VALUE__SUSPECTED);
	CU_ASSERT_STRING_EQUAL(r.b.ags, "14521020");
	CU_ASSERT_PTR_NULL(find(&r, SYNC_NOTICE, NULL, "defaults")); /* none needed */
	rd_free(&r);

	rd_one(&r, "X",
	       "<verwaltung_objekt>"
	       "<user_defined_simplefield feldname=\"farbe\">rot</user_defined_simplefield>"
	       "<user_defined_simplefield feldname=\"record_id\">x</user_defined_simplefield>"
	       "<user_defined_simplefield feldname=\"status\">LEER</user_defined_simplefield>"
	       "<user_defined_simplefield feldname=\"title\">a</user_defined_simplefield>"
	       "<user_defined_simplefield feldname=\"title\">b</user_defined_simplefield>"
	       "<user_defined_simplefield>ohne Namen</user_defined_simplefield>"
	       "</verwaltung_objekt>");
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, "@feldname", "'farbe' is not a record field"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, NULL, "record_id: assigned by the registry"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, NULL, "status: unknown value 'LEER'"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, "@feldname", "'title' is given twice"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, NULL, "no feldname"));
	CU_ASSERT_EQUAL(r.p.errors, 5);
	rd_free(&r);

	/* defaults, counted in one notice */
	rd_one(&r, "X", "");
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_NOTICE, NULL,
				    "status MARKETED 1\xc3\x97, publication INTERNAL 1\xc3\x97, "
				    "owner_consent UNKNOWN 1\xc3\x97, last_verified_at = stand_vom "
				    "1\xc3\x97"));
	rd_free(&r);
}

static void
test_delete_and_scope(void)
{
	struct rd r;
	const Vacancy__V1__Withdrawal *w;

	rd_parse(&r, "<?xml version=\"1.0\"?><openimmo>"
		     "<uebertragung umfang=\"VOLL\" timestamp=\"2026-11-20T14:30:00+01:00\"/>"
		     "<anbieter><immobilie><objektkategorie><nutzungsart GEWERBE=\"x\"/>"
		     "</objektkategorie><ausstattung><kran>true</kran></ausstattung>"
		     "<verwaltung_techn><objektnr_extern>A-9</objektnr_extern>"
		     "<aktion aktionart=\"DELETE\"/></verwaltung_techn></immobilie>"
		     "<immobilie><verwaltung_techn><objektnr_extern>A-10</objektnr_extern>"
		     "<aktion aktionart=\"REFERENZ\"/></verwaltung_techn></immobilie>"
		     "</anbieter></openimmo>");
	CU_ASSERT_EQUAL(r.p.errors, 0);
	CU_ASSERT(r.b.full);
	CU_ASSERT_EQUAL_FATAL(r.b.n, 1);
	CU_ASSERT_EQUAL(r.b.changes[0]->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW);
	w = r.b.changes[0]->withdraw;
	CU_ASSERT_STRING_EQUAL(w->external_id, "A-9");
	CU_ASSERT_EQUAL(w->revision, 20261120143000ULL); /* zone ignored: digits as written */
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_WARNING, "aktion@aktionart", "REFERENZ"));
	CU_ASSERT_EQUAL(r.p.warnings, 1); /* a DELETE's content is not reported */
	rd_free(&r);

	/* TEIL; no timestamp: the revision comes from stand_vom */
	rd_parse(&r, "<openimmo><uebertragung umfang=\"TEIL\"/><anbieter><immobilie>"
		     "<verwaltung_techn><objektnr_extern>A-1</objektnr_extern>"
		     "<stand_vom>2026-10-05</stand_vom></verwaltung_techn></immobilie>"
		     "<immobilie><verwaltung_techn><objektnr_extern>A-2</objektnr_extern>"
		     "</verwaltung_techn></immobilie>"
		     "<immobilie><verwaltung_techn><aktion aktionart=\"UPDATE\"/>"
		     "<stand_vom>5.10.2026</stand_vom></verwaltung_techn></immobilie>"
		     "</anbieter></openimmo>");
	CU_ASSERT_FALSE(r.b.full);
	CU_ASSERT_EQUAL_FATAL(r.b.n, 1);
	CU_ASSERT_EQUAL(up(&r, 0)->revision, 20261005000000ULL);
	CU_ASSERT_STRING_EQUAL(up(&r, 0)->last_verified_at, "2026-10-05");
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, "immobilie 2 (A-2)", "no revision"));
	CU_ASSERT_PTR_NOT_NULL(
	    find(&r, SYNC_ERROR, "immobilie 3 (?)", "objektnr_extern is missing"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, "aktion@aktionart", "'UPDATE'"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, "verwaltung_techn/stand_vom", "not a date"));
	rd_free(&r);

	rd_parse(&r, "<openimmo><uebertragung umfang=\"HALB\" timestamp=\"gestern\"/></openimmo>");
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, "uebertragung@umfang", "'HALB'"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, "uebertragung@timestamp", "'gestern'"));
	rd_free(&r);
}

static void
test_unmapped_reported(void)
{
	struct rd r;
	struct buf doc;

	buf_init(&doc, 0);
	buf_adds(&doc, HEAD);
	for (int i = 0; i < 3; i++)
		buf_printf(&doc,
			   "<immobilie><objektkategorie><nutzungsart GEWERBE=\"true\"/><objektart>"
			   "<haus haustyp=\"VILLA\"/><wohnung/></objektart></objektkategorie>"
			   "<ausstattung><heizungsart ZENTRAL=\"true\" OFEN=\"false\"/>"
			   "<kran>true</kran><leer>  </leer></ausstattung>"
			   "<geo><plz>09456</plz><user_defined_simplefield feldname=\"x\">1"
			   "</user_defined_simplefield></geo>"
			   "<verwaltung_techn><objektnr_extern>A-%d</objektnr_extern>"
			   "<openimmo_obid>OB%d</openimmo_obid></verwaltung_techn></immobilie>",
			   i, i);
	buf_adds(&doc, TAIL);
	rd_parse(&r, doc.data);
	CU_ASSERT_EQUAL(r.p.errors, 0);
	CU_ASSERT_EQUAL(r.b.n, 3);
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_WARNING, "objektkategorie/objektart/haus@haustyp",
				    "3\xc3\x97 not mapped"));
	CU_ASSERT_PTR_NOT_NULL(
	    find(&r, SYNC_WARNING, "objektkategorie/objektart/wohnung", "3\xc3\x97 not mapped"));
	CU_ASSERT_PTR_NOT_NULL(
	    find(&r, SYNC_WARNING, "ausstattung/heizungsart@ZENTRAL", "3\xc3\x97 not mapped"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_WARNING, "ausstattung/heizungsart@OFEN", "3\xc3\x97"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_WARNING, "ausstattung/kran", "3\xc3\x97"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_WARNING, "geo/user_defined_simplefield", "3\xc3\x97"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_WARNING, "verwaltung_techn/openimmo_obid",
				    "the registry's key is objektnr_extern"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_WARNING, "ausstattung/leer", "3\xc3\x97"));
	CU_ASSERT_PTR_NULL(find(&r, SYNC_WARNING, "geo/plz", NULL)); /* mapped */
	CU_ASSERT_EQUAL(r.p.warnings, 9);
	rd_free(&r);
	buf_free(&doc);
}

/* ---- hostile and broken documents ---- */

static void
test_doctype_refused(void)
{
	static const char *const docs[] = {
	    /* XXE: an external entity naming a local file */
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE openimmo [\n"
	    "<!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n"
	    "<openimmo><anbieter><immobilie><freitexte><objekttitel>&xxe;</objekttitel>"
	    "</freitexte><verwaltung_techn><objektnr_extern>A</objektnr_extern>"
	    "<stand_vom>2026-11-01</stand_vom></verwaltung_techn></immobilie></anbieter>"
	    "</openimmo>",
	    /* an external DTD */
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE openimmo SYSTEM \"file:///etc/passwd\">\n"
	    "<openimmo/>",
	    /* a DTD over the network, and a parameter entity */
	    "<!DOCTYPE openimmo PUBLIC \"-//x//y\" \"http://127.0.0.1:9/openimmo.dtd\" [\n"
	    "<!ENTITY % p SYSTEM \"http://127.0.0.1:9/p\"> %p; ]><openimmo/>",
	    /* billion laughs */
	    "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n"
	    "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
	    "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
	    "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
	    "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
	    "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
	    "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
	    "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
	    "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
	    "]>\n<openimmo><anbieter><immobilie><freitexte><objekttitel>&lol9;</objekttitel>"
	    "</freitexte></immobilie></anbieter></openimmo>",
	};
	clock_t start = clock();

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct rd r;

		rd_parse(&r, docs[i]);
		CU_ASSERT_EQUAL(r.rc, -1);
		CU_ASSERT_EQUAL(r.b.n, 0);
		CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, NULL, "DOCTYPE"));
		for (size_t k = 0; k < r.p.n; k++)
			CU_ASSERT_PTR_NULL(strstr(r.p.items[k].message, "root:"));
		rd_free(&r);
	}
	/* nothing was expanded: refusing all of them takes no time */
	CU_ASSERT((double)(clock() - start) / CLOCKS_PER_SEC < 1.0);
}

static void
test_malformed(void)
{
	struct rd r;

	rd_parse(&r, "<openimmo>\n<anbieter>\n<immobilie>\n</anbieter>\n</openimmo>\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, NULL, "not well-formed XML"));
	CU_ASSERT(r.p.n > 0 && r.p.items[0].line == 4);
	rd_free(&r);

	/* an entity no DTD declares */
	rd_parse(&r, "<openimmo><anbieter>&nbsp;</anbieter></openimmo>");
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, NULL, "not well-formed XML"));
	rd_free(&r);

	rd_parse(&r, "");
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, NULL, "empty"));
	rd_free(&r);

	rd_parse(&r, "<?xml version=\"1.0\"?><feed><entry/></feed>");
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, NULL, "root element is <feed>"));
	rd_free(&r);

	sync_batch_init(&r.b, SYNC_FORMAT_OPENIMMO);
	sync_problems_init(&r.p, 10);
	CU_ASSERT_EQUAL(openimmo_read("<a/>", OPENIMMO_MAX_FILE + 1, &r.b, &r.p), -1);
	CU_ASSERT_PTR_NOT_NULL(find(&r, SYNC_ERROR, NULL, "at most 256 MiB"));
	rd_free(&r);
}

static void
test_latin1(void)
{
	struct rd r;

	rd_parse(&r, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<openimmo><uebertragung "
		     "timestamp=\"2026-11-20T14:30:00\"/><anbieter><immobilie><geo><strasse>"
		     "Gro\xdf"
		     "e Kirchgasse</strasse></geo><verwaltung_techn><objektnr_extern>A"
		     "</objektnr_extern></verwaltung_techn></immobilie></anbieter></openimmo>");
	CU_ASSERT_EQUAL(r.p.errors, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(up(&r, 0));
	CU_ASSERT_STRING_EQUAL(up(&r, 0)->street, "Große Kirchgasse");
	CU_ASSERT_STRING_EQUAL(up(&r, 0)->last_verified_at, "2026-11-20"); /* the transfer date */
	rd_free(&r);
}

/* ---- the examples: CSV and OpenImmo give the same changes ---- */

/* Reads path (relative to the repository root) into out; 0 or -1. */
static int
slurp(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(out, chunk, n);
	fclose(f);
	return buf_failed(out) ? -1 : 0;
}

static const struct sync_batch *cmp_batch;

static int
cmp_change(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return strcmp(sync_change_external_id(cmp_batch->changes[x]),
		      sync_change_external_id(cmp_batch->changes[y]));
}

/* The packed changes of b sorted by external_id, concatenated with their lengths. */
static void
pack_sorted(const struct sync_batch *b, struct buf *out)
{
	size_t *idx = calloc(b->n, sizeof(*idx));

	CU_ASSERT_PTR_NOT_NULL_FATAL(idx);
	for (size_t i = 0; i < b->n; i++)
		idx[i] = i;
	cmp_batch = b;
	qsort(idx, b->n, sizeof(*idx), cmp_change);
	for (size_t i = 0; i < b->n; i++) {
		const ProtobufCMessage *m = &b->changes[idx[i]]->base;
		size_t len = protobuf_c_message_get_packed_size(m);
		uint8_t *p;

		buf_printf(out, "[%zu]", len);
		if ((p = buf_extend(out, len)) != NULL)
			CU_ASSERT_EQUAL(protobuf_c_message_pack(m, p), len);
	}
	free(idx);
}

/* Names the first field in which two records differ, for the failure message. */
static void
report_difference(const struct sync_batch *x, const struct sync_batch *y)
{
	for (size_t i = 0; i < x->n; i++) {
		const char *id = sync_change_external_id(x->changes[i]);

		for (size_t k = 0; k < y->n; k++) {
			struct buf a, b;

			if (strcmp(id, sync_change_external_id(y->changes[k])) != 0)
				continue;
			buf_init(&a, 0);
			buf_init(&b, 0);
			if (json_encode(&x->changes[i]->base, &a, 0) == 0 &&
			    json_encode(&y->changes[k]->base, &b, 0) == 0 && strcmp(a.data, b.data))
				fprintf(stderr, "\n%s differs:\n csv: %s\n xml: %s\n", id, a.data,
					b.data);
			buf_free(&a);
			buf_free(&b);
		}
	}
}

static void
test_examples_equal(void)
{
	struct buf csv_text, xml_text, a, b;
	struct sync_batch cb, xb;
	struct sync_problems cp, xp;
	size_t upserts = 0, withdrawals = 0;

	buf_init(&csv_text, 0);
	buf_init(&xml_text, 0);
	buf_init(&a, 0);
	buf_init(&b, 0);
	sync_batch_init(&cb, SYNC_FORMAT_CSV);
	sync_batch_init(&xb, SYNC_FORMAT_OPENIMMO);
	sync_problems_init(&cp, 1000);
	sync_problems_init(&xp, 1000);
	CU_ASSERT_EQUAL_FATAL(slurp("clients/examples/leerstand.csv", &csv_text), 0);
	CU_ASSERT_EQUAL_FATAL(slurp("clients/examples/leerstand.xml", &xml_text), 0);

	CU_ASSERT_EQUAL(csv_read(csv_text.data, csv_text.len, &cb, &cp), 0);
	CU_ASSERT_STRING_EQUAL(sync_batch_finish(&cb, NULL, &cp), "14521020");
	CU_ASSERT_EQUAL(cp.errors, 0);
	CU_ASSERT_EQUAL(cp.warnings, 0);
	CU_ASSERT_EQUAL(openimmo_read(xml_text.data, xml_text.len, &xb, &xp), 0);
	CU_ASSERT_STRING_EQUAL(sync_batch_finish(&xb, "14521020", &xp), "14521020");
	CU_ASSERT_EQUAL(xp.errors, 0);
	for (size_t i = 0; i < cp.n; i++)
		if (cp.items[i].severity == SYNC_ERROR)
			fprintf(stderr, "\ncsv:%lu: %s: %s", cp.items[i].line,
				cp.items[i].where ? cp.items[i].where : "", cp.items[i].message);
	for (size_t i = 0; i < xp.n; i++)
		if (xp.items[i].severity == SYNC_ERROR)
			fprintf(stderr, "\nxml:%lu: %s: %s", xp.items[i].line,
				xp.items[i].where ? xp.items[i].where : "", xp.items[i].message);

	/* 8 to 12 sites, one withdrawal, every column used */
	CU_ASSERT(cb.n >= 8 && cb.n <= 12);
	for (size_t i = 0; i < cb.n; i++) {
		if (cb.changes[i]->change_case == VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT)
			upserts++;
		else
			withdrawals++;
	}
	CU_ASSERT_EQUAL(withdrawals, 1);
	CU_ASSERT_EQUAL(upserts + withdrawals, cb.n);

	CU_ASSERT_EQUAL_FATAL(cb.n, xb.n);
	pack_sorted(&cb, &a);
	pack_sorted(&xb, &b);
	CU_ASSERT_FALSE(buf_failed(&a) || buf_failed(&b));
	CU_ASSERT_EQUAL(a.len, b.len);
	CU_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		report_difference(&cb, &xb);

	sync_batch_free(&cb);
	sync_batch_free(&xb);
	sync_problems_free(&cp);
	sync_problems_free(&xp);
	buf_free(&csv_text);
	buf_free(&xml_text);
	buf_free(&a);
	buf_free(&b);
}

/* Every column of the example CSV holds a value in some row. */
static void
test_example_columns_used(void)
{
	struct buf text;
	struct sync_batch cb;
	struct sync_problems cp;
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;
	size_t nfields = 0;

	buf_init(&text, 0);
	sync_batch_init(&cb, SYNC_FORMAT_CSV);
	sync_problems_init(&cp, 100);
	CU_ASSERT_EQUAL_FATAL(slurp("clients/examples/leerstand.csv", &text), 0);
	CU_ASSERT_EQUAL(csv_read(text.data, text.len, &cb, &cp), 0);
	/* every writable Record field is in the header and set in at least one row */
	for (unsigned f = 0; f < d->n_fields; f++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[f];
		struct csv_field cf;
		int set = 0;

		if (csv_field_find(fd->name, &cf) == 0 && cf.kind == CSV_FIELD_READ_ONLY)
			continue;
		nfields++;
		for (size_t i = 0; i < cb.n && !set; i++) {
			const Vacancy__V1__Record *r = cb.changes[i]->upsert;
			const char *m = (const char *)r;

			if (cb.changes[i]->change_case != VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT)
				continue;
			if (fd->label == PROTOBUF_C_LABEL_REPEATED)
				set = *(const size_t *)(m + fd->quantifier_offset) > 0;
			else if (fd->type == PROTOBUF_C_TYPE_STRING ||
				 fd->type == PROTOBUF_C_TYPE_MESSAGE)
				set = *(void *const *)(m + fd->offset) != NULL;
			else
				set = *(const protobuf_c_boolean *)(m + fd->quantifier_offset);
		}
		if (!set)
			fprintf(stderr, "\nleerstand.csv never sets %s", fd->name);
		CU_ASSERT(set);
	}
	CU_ASSERT(nfields > 50);
	sync_batch_free(&cb);
	sync_problems_free(&cp);
	buf_free(&text);
}

void
test_openimmo_register(void)
{
	CU_pSuite s = CU_add_suite("openimmo", NULL, NULL);

	CU_add_test(s, "an immobilie onto the record, field by field", test_full_mapping);
	CU_add_test(s, "nutzungsart and objektart: usage, object type, site kind",
		    test_usage_and_kinds);
	CU_add_test(s, "zustand, erschliessung, bebaubar_nach, verkaufstatus", test_state_mappings);
	CU_add_test(s, "state values that do not map", test_state_problems);
	CU_add_test(s, "prices: on request, rents, currency, decimals", test_prices);
	CU_add_test(s, "contact and area fallbacks", test_contact_and_areas_fallbacks);
	CU_add_test(s, "attachments: groups, formats, URLs only", test_attachments);
	CU_add_test(s, "user fields override; defaults fill", test_user_fields_and_defaults);
	CU_add_test(s, "DELETE, REFERENZ, VOLL/TEIL, revisions", test_delete_and_scope);
	CU_add_test(s, "whatever is not mapped is reported with a count", test_unmapped_reported);
	CU_add_test(s, "DOCTYPE refused: XXE, external DTD, entity bombs", test_doctype_refused);
	CU_add_test(s, "malformed and foreign documents", test_malformed);
	CU_add_test(s, "ISO-8859-1 documents", test_latin1);
	CU_add_test(s, "examples: CSV and OpenImmo give the same changes", test_examples_equal);
	CU_add_test(s, "examples: the CSV uses every column", test_example_columns_used);
}
