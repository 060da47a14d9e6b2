/*
 * test_client_print: the client's human-readable output (clients/print.c).
 * Records are printed into
 * a memstream and checked line by line: labels, values, alignment, omitted
 * fields and sections, escaping of hostile text.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../clients/print.h"

void test_client_print_register(void);

#define UUID "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6a"

/* Prints r into a new string (owned by the caller); NULL if printing failed. */
static char *
render(const Vacancy__V1__Record *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (f == NULL)
		return NULL;
	rc = client_print_record(r, f);
	fclose(f);
	if (rc != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Prints e into a new string (owned by the caller). */
static char *
render_error(const Vacancy__V1__Error *e, long status)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	CU_ASSERT_EQUAL(client_print_error(e, status, f), 0);
	fclose(f);
	return text;
}

/* Terminal columns of the first n bytes of UTF-8 text s. */
static size_t
columns(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/*
 * Finds the field line "  LABEL   value" in text. Returns a pointer to the
 * value (up to the end of the line, not terminated) and sets *col to the
 * column the value starts at and *len to its length; NULL if absent.
 */
static const char *
field(const char *text, const char *label, size_t *col, size_t *len)
{
	size_t ll = strlen(label);

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');

		if (strncmp(line, "  ", 2) == 0 && strncmp(line + 2, label, ll) == 0 &&
		    line[2 + ll] == ' ') {
			const char *v = line + 2 + ll;

			while (*v == ' ')
				v++;
			*col = columns(line, (size_t)(v - line));
			*len = end ? (size_t)(end - v) : strlen(v);
			return v;
		}
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

/* Whether text has a line that is exactly s. */
static int
has_line(const char *text, const char *s)
{
	size_t n = strlen(s);

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t ll = end ? (size_t)(end - line) : strlen(line);

		if (ll == n && memcmp(line, s, n) == 0)
			return 1;
		line = end ? end + 1 : NULL;
	}
	return 0;
}

/* Checks that field label has value want and starts at column *col (set on first use). */
static void
check_field(const char *text, const char *label, const char *want, size_t *col)
{
	size_t c = 0, len = 0;
	const char *v = field(text, label, &c, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	if (len != strlen(want) || memcmp(v, want, len) != 0) {
		fprintf(stderr, "\n%s: got '%.*s', want '%s'\n", label, (int)len, v, want);
		CU_FAIL("field value");
	}
	if (*col == 0)
		*col = c;
	CU_ASSERT_EQUAL(c, *col);
}

static Vacancy__V1__Usage__Value usages[] = {VACANCY__V1__USAGE__VALUE__COMMERCIAL,
					     VACANCY__V1__USAGE__VALUE__MIXED};
static Vacancy__V1__Marketing__Value marketings[] = {VACANCY__V1__MARKETING__VALUE__SALE,
						     VACANCY__V1__MARKETING__VALUE__RENT};
static char *parcels[] = {"14521000100012345000", "1452100010001234600_"};

/* A record with every field set, as a county user would receive it. */
static void
fill_full(Vacancy__V1__Record *r, Vacancy__V1__LatLon *loc, Vacancy__V1__MarketingContact *mc,
	  Vacancy__V1__Attachment *att, Vacancy__V1__Attachment **atts)
{
	vacancy__v1__record__init(r);
	vacancy__v1__lat_lon__init(loc);
	vacancy__v1__marketing_contact__init(mc);
	vacancy__v1__attachment__init(&att[0]);
	vacancy__v1__attachment__init(&att[1]);
	r->record_id = UUID;
	r->municipality_ags = "14521010";
	r->municipality_ars = "145215201010";
	r->external_id = "ANN-2024-017";
	r->has_revision = 1, r->revision = 7;
	r->updated_at = "2024-05-02T10:11:12Z";
	r->last_verified_at = "2024-04-30";
	r->has_publication = 1, r->publication = VACANCY__V1__PUBLICATION__VALUE__PUBLIC;
	r->has_owner_consent = 1;
	r->owner_consent = VACANCY__V1__OWNER_CONSENT__VALUE__NO_OBJECTION;
	r->owner_consent_date = "2024-01-15";
	r->has_site_kind = 1, r->site_kind = VACANCY__V1__SITE_KIND__VALUE__BUILDING;
	r->n_usage = 2, r->usage = usages;
	r->n_marketing = 2, r->marketing = marketings;
	r->has_object_type = 1, r->object_type = VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL;
	r->has_status = 1, r->status = VACANCY__V1__STATUS__VALUE__MARKETED;
	r->has_vacancy_degree = 1;
	r->vacancy_degree = VACANCY__V1__VACANCY_DEGREE__VALUE__COMPLETE;
	r->vacant_since = "2019-03-01";
	r->has_vacant_since_precision = 1;
	r->vacant_since_precision = VACANCY__V1__DATE_PRECISION__VALUE__MONTH;
	r->has_vacancy_reason = 1;
	r->vacancy_reason = VACANCY__V1__VACANCY_REASON__VALUE__HEIRS_DISPUTE;
	r->has_condition = 1;
	r->condition = VACANCY__V1__CONDITION__VALUE__NEEDS_REFURBISHMENT;
	r->has_construction_year = 1, r->construction_year = 1910;
	r->has_development = 1, r->development = VACANCY__V1__DEVELOPMENT__VALUE__FULL;
	r->has_planning_basis = 1, r->planning_basis = VACANCY__V1__PLANNING_BASIS__VALUE__S34;
	r->bplan_ref = "https://xplanung.example/ann/12";
	r->has_contamination = 1;
	r->contamination = VACANCY__V1__CONTAMINATION__VALUE__NONE_KNOWN;
	r->street = "Markt";
	r->house_number = "5";
	r->postcode = "09456";
	r->locality = "Annaberg-Buchholz";
	r->gemarkung = "Annaberg";
	r->flur = "1";
	r->flurstueck = "123/4";
	r->n_parcel_ids = 2, r->parcel_ids = parcels;
	loc->has_lat = 1, loc->lat = 50.5799;
	loc->has_lon = 1, loc->lon = 13.0024;
	r->location = loc;
	r->has_source_x = 1, r->source_x = 357412.25;
	r->has_source_y = 1, r->source_y = 5605123.5;
	r->has_source_crs = 1, r->source_crs = 25833;
	r->has_location_blur_m = 1, r->location_blur_m = 250;
	r->has_usable_area_m2 = 1, r->usable_area_m2 = 1250.5;
	r->has_floor_area_m2 = 1, r->floor_area_m2 = 1400;
	r->has_sales_area_m2 = 1, r->sales_area_m2 = 980.75;
	r->has_plot_area_m2 = 1, r->plot_area_m2 = 12345678.25;
	r->has_divisible_from_m2 = 1, r->divisible_from_m2 = 0.5;
	r->purchase_price_eur = "1250000.50";
	r->rent_eur_month = "4500.00";
	r->rent_eur_m2 = "8.50";
	r->has_price_on_request = 1, r->price_on_request = 0;
	r->title = "Kaufhaus am Markt";
	r->description = "Erdgeschoss: Verkaufsfläche.\r\n\r\nObergeschoss: Büros.";
	r->location_text = "Zentrale Lage";
	mc->organisation = "Wirtschaftsförderung Erzgebirge GmbH";
	mc->person_role = "Standortberatung";
	mc->phone = "+49 3733 145 0";
	mc->email = "info@wfe.example";
	r->marketing_contact = mc;
	att[0].has_group = 1, att[0].group = VACANCY__V1__ATTACHMENT_GROUP__VALUE__PHOTO;
	att[0].media_type = "image/jpeg";
	att[0].url = "https://files.example/1.jpg";
	att[0].licence = "CC-BY-4.0";
	att[1].has_group = 1, att[1].group = VACANCY__V1__ATTACHMENT_GROUP__VALUE__FLOORPLAN;
	att[1].media_type = "application/pdf";
	att[1].rights_holder = "Büro Müller";
	atts[0] = &att[0], atts[1] = &att[1];
	r->n_attachments = 2, r->attachments = atts;
	r->has_owner_category = 1;
	r->owner_category = VACANCY__V1__OWNER_CATEGORY__VALUE__PRIVATE;
	r->owner_name = "Erbengemeinschaft Schmidt";
	r->owner_address = "Lindenstraße 3, 09456 Annaberg-Buchholz";
	r->owner_phone = "+49 3733 1234";
	r->owner_email = "schmidt@example.org";
	r->has_owner_willingness = 1;
	r->owner_willingness = VACANCY__V1__OWNER_WILLINGNESS__VALUE__SELL;
	r->internal_notes = "Ortstermin 2024-06";
	r->withdrawn_at = "2024-07-01T00:00:00Z";
}

/* Every field of a fully populated record: label, value, column. */
static void
test_full_record(void)
{
	Vacancy__V1__Record r;
	Vacancy__V1__LatLon loc;
	Vacancy__V1__MarketingContact mc;
	Vacancy__V1__Attachment att[2], *atts[2];
	static const char *const sections[] = {"Identity",	 "State",	"Location",
					       "Size and price", "Description", "Contact",
					       "Owner",		 "Internal"};
	const char *prev = NULL, *p;
	size_t col = 0, c, len;
	char *text, indent[128];

	fill_full(&r, &loc, &mc, att, atts);
	text = render(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);

	/* Sections in order, each once, first without a blank line before it. */
	CU_ASSERT_EQUAL(strncmp(text, "Identity\n", 9), 0);
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		char want[64];

		snprintf(want, sizeof(want), "\n\n%s\n", sections[i]);
		p = i == 0 ? text : strstr(text, want);
		CU_ASSERT_PTR_NOT_NULL(p);
		if (p && prev)
			CU_ASSERT_TRUE(p > prev);
		prev = p;
	}
	CU_ASSERT_FALSE(has_line(text, "Other"));

	check_field(text, "record ID (Registry-ID)", UUID, &col);
	check_field(text, "AGS (Amtlicher Gemeindeschlüssel)", "14521010", &col);
	check_field(text, "ARS (Regionalschlüssel)", "145215201010", &col);
	check_field(text, "external ID (objektnr_extern)", "ANN-2024-017", &col);
	check_field(text, "revision (Version)", "7", &col);
	check_field(text, "updated at (Stand vom)", "2024-05-02T10:11:12Z", &col);
	check_field(text, "last verified (zuletzt bestätigt)", "2024-04-30", &col);
	check_field(text, "withdrawn at (zurückgezogen am)", "2024-07-01T00:00:00Z", &col);
	check_field(text, "site kind (Flächentyp)", "BUILDING", &col);
	check_field(text, "usage (Nutzungsart)", "COMMERCIAL, MIXED", &col);
	check_field(text, "marketing (Vermarktungsart)", "SALE, RENT", &col);
	check_field(text, "object type (Objektart)", "RETAIL", &col);
	check_field(text, "status (Status)", "MARKETED", &col);
	check_field(text, "vacancy degree (Grad des Leerstands)", "COMPLETE", &col);
	check_field(text, "vacant since (leer seit)", "2019-03-01", &col);
	check_field(text, "precision (Genauigkeit)", "MONTH", &col);
	check_field(text, "vacancy reason (Leerstandsgrund)", "HEIRS_DISPUTE", &col);
	check_field(text, "condition (Zustand)", "NEEDS_REFURBISHMENT", &col);
	check_field(text, "construction year (Baujahr)", "1910", &col);
	check_field(text, "development (Erschließung)", "FULL", &col);
	check_field(text, "planning basis (bebaubar nach)", "S34", &col);
	check_field(text, "land-use plan (B-Plan / XPlanung)", "https://xplanung.example/ann/12",
		    &col);
	check_field(text, "contamination (Altlasten)", "NONE_KNOWN", &col);
	check_field(text, "street (Straße)", "Markt", &col);
	check_field(text, "house number (Hausnummer)", "5", &col);
	check_field(text, "postcode (PLZ)", "09456", &col);
	check_field(text, "locality (Ort)", "Annaberg-Buchholz", &col);
	check_field(text, "cadastral district (Gemarkung)", "Annaberg", &col);
	check_field(text, "cadastral section (Flur)", "1", &col);
	check_field(text, "parcel (Flurstück)", "123/4", &col);
	check_field(text, "parcel IDs (Flurstückskennzeichen)",
		    "14521000100012345000, 1452100010001234600_", &col);
	check_field(text, "location (Lage)", "lat 50.5799, lon 13.0024", &col);
	check_field(text, "source x (Quellkoordinaten)", "357412.25", &col);
	check_field(text, "source y (Quellkoordinaten)", "5605123.5", &col);
	check_field(text, "source CRS (Quellkoordinaten)", "EPSG:25833", &col);
	check_field(text, "blur radius (Unschärferadius)", "250 m", &col);
	check_field(text, "usable area (Nutzfläche)", "1,250.5 m²", &col);
	check_field(text, "floor area (Gesamtfläche)", "1,400 m²", &col);
	check_field(text, "sales area (Verkaufsfläche)", "980.75 m²", &col);
	check_field(text, "plot area (Grundstücksfläche)", "12,345,678.25 m²", &col);
	check_field(text, "divisible from (teilbar ab)", "0.5 m²", &col);
	check_field(text, "purchase price (Kaufpreis)", "1250000.50 EUR", &col);
	check_field(text, "rent per month (Kaltmiete)", "4500.00 EUR", &col);
	check_field(text, "rent per m² (Miete pro m²)", "8.50 EUR", &col);
	check_field(text, "price on request (Preis auf Anfrage)", "no", &col);
	check_field(text, "title (Objekttitel)", "Kaufhaus am Markt", &col);
	check_field(text, "description (Objektbeschreibung)", "Erdgeschoss: Verkaufsfläche.", &col);
	check_field(text, "location text (Lagebeschreibung)", "Zentrale Lage", &col);
	check_field(text, "attachments (Anhänge)",
		    "group PHOTO, media type image/jpeg, url https://files.example/1.jpg, "
		    "licence CC-BY-4.0",
		    &col);
	check_field(text, "organisation (Organisation)", "Wirtschaftsförderung Erzgebirge GmbH",
		    &col);
	check_field(text, "person or role (Ansprechpartner)", "Standortberatung", &col);
	check_field(text, "phone (Telefon)", "+49 3733 145 0", &col);
	check_field(text, "email (E-Mail)", "info@wfe.example", &col);
	check_field(text, "category (Eigentümerart)", "PRIVATE", &col);
	check_field(text, "name (Eigentümer)", "Erbengemeinschaft Schmidt", &col);
	check_field(text, "address (Anschrift)", "Lindenstraße 3, 09456 Annaberg-Buchholz", &col);
	check_field(text, "willingness (Verkaufs-/Vermietungsbereitschaft)", "SELL", &col);
	check_field(text, "publication (Freigabe)", "PUBLIC", &col);
	check_field(text, "owner consent (Widerspruch/Einwilligung)", "NO_OBJECTION", &col);
	check_field(text, "consent date (Datum)", "2024-01-15", &col);
	check_field(text, "internal notes (interne Notizen)", "Ortstermin 2024-06", &col);

	/* The longest label sets the column: indent 2, label, gap 3. */
	CU_ASSERT_EQUAL(col,
			2 +
			    columns("willingness (Verkaufs-/Vermietungsbereitschaft)",
				    strlen("willingness (Verkaufs-/Vermietungsbereitschaft)")) +
			    3);
	CU_ASSERT_PTR_NOT_NULL(
	    field(text, "willingness (Verkaufs-/Vermietungsbereitschaft)", &c, &len));

	/* Continuation lines sit at the value column; CR LF is a line break, a blank line stays. */
	memset(indent, ' ', col);
	indent[col] = '\0';
	{
		char want[256];

		snprintf(want, sizeof(want), "%sObergeschoss: Büros.", indent);
		CU_ASSERT_TRUE(has_line(text, want));
		snprintf(want, sizeof(want),
			 "%sgroup FLOORPLAN, media type application/pdf, rights holder Büro Müller",
			 indent);
		CU_ASSERT_TRUE(has_line(text, want));
		snprintf(want, sizeof(want), "  description (Objektbeschreibung)");
		p = strstr(text, want);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_PTR_NOT_NULL(strstr(p, "Verkaufsfläche.\n\n"));
	}
	CU_ASSERT_PTR_NULL(strchr(text, '\r'));
	free(text);
}

/* A minimal record prints exactly this; unset, UNSPECIFIED and empty fields are left out. */
static void
test_minimal_record(void)
{
	Vacancy__V1__Record r = VACANCY__V1__RECORD__INIT;
	char *text;

	r.record_id = UUID;
	r.municipality_ags = "14521010";
	r.has_site_kind = 1, r.site_kind = VACANCY__V1__SITE_KIND__VALUE__PLOT;
	r.has_status = 1, r.status = VACANCY__V1__STATUS__VALUE__MARKETED;
	r.has_condition = 1, r.condition = VACANCY__V1__CONDITION__VALUE__UNSPECIFIED;
	r.has_plot_area_m2 = 1, r.plot_area_m2 = 800;
	r.locality = "";
	r.has_floor_area_m2 = 0, r.floor_area_m2 = 99; /* value without has_: absent */
	text = render(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "Identity\n"
				     "  record ID (Registry-ID)             " UUID "\n"
				     "  AGS (Amtlicher Gemeindeschlüssel)   14521010\n"
				     "\n"
				     "State\n"
				     "  site kind (Flächentyp)              PLOT\n"
				     "  status (Status)                     MARKETED\n"
				     "\n"
				     "Size and price\n"
				     "  plot area (Grundstücksfläche)       800 m²\n");
	free(text);
}

/* The Owner section appears as soon as one owner field is set, and only then. */
static void
test_owner_section(void)
{
	Vacancy__V1__Record r = VACANCY__V1__RECORD__INIT;
	char *text;

	r.record_id = UUID;
	r.has_owner_category = 1,
	r.owner_category = VACANCY__V1__OWNER_CATEGORY__VALUE__UNSPECIFIED;
	text = render(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_FALSE(has_line(text, "Owner"));
	free(text);

	r.owner_email = "a@example.org";
	text = render(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "Identity\n"
				     "  record ID (Registry-ID)   " UUID "\n"
				     "\n"
				     "Owner\n"
				     "  email (E-Mail)            a@example.org\n");
	free(text);
}

/* Hostile text cannot reach the terminal raw; an unset sub-message field is skipped. */
static void
test_escaping(void)
{
	Vacancy__V1__Record r = VACANCY__V1__RECORD__INIT;
	Vacancy__V1__LatLon loc = VACANCY__V1__LAT_LON__INIT;
	Vacancy__V1__Usage__Value odd[] = {0, VACANCY__V1__USAGE__VALUE__RESIDENTIAL, 42};
	char *text;
	size_t col, len;
	const char *v;

	r.title = "\x1b[31mrot\x1b[0m \xc2\x9b"
		  "2J \xe2\x80\xae"
		  "abc \xff tab\there";
	r.description = "eins\nzwei\x07";
	r.n_usage = 3, r.usage = odd;
	loc.has_lon = 1, loc.lon = 13.5;
	r.location = &loc;
	text = render(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_PTR_NULL(strchr(text, '\x1b'));
	CU_ASSERT_PTR_NULL(strchr(text, '\x07'));
	CU_ASSERT_PTR_NULL(strchr(text, '\t'));
	v = field(text, "title (Objekttitel)", &col, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(strncmp(v,
				"\\x1b[31mrot\\x1b[0m \\xc2\\x9b2J \\u202eabc \\xff tab\\x09here\n",
				len + 1),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "zwei\\x07\n"));
	/* UNSPECIFIED dropped from a list, an unknown enum number shown as a number. */
	v = field(text, "usage (Nutzungsart)", &col, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(strncmp(v, "RESIDENTIAL, 42\n", len + 1), 0);
	v = field(text, "location (Lage)", &col, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(strncmp(v, "lon 13.5\n", len + 1), 0);
	free(text);
}

/* Number formatting: shortest exact form, thousands grouped only for areas. */
static void
test_numbers(void)
{
	Vacancy__V1__Record r = VACANCY__V1__RECORD__INIT;
	char *text;
	size_t col, len;
	const char *v;

	r.has_usable_area_m2 = 1, r.usable_area_m2 = 0.1;
	r.has_floor_area_m2 = 1, r.floor_area_m2 = 1234567.125;
	r.has_plot_area_m2 = 1, r.plot_area_m2 = 0;
	r.has_source_x = 1, r.source_x = 1234567.5;
	r.has_revision = 1, r.revision = 18446744073709551615u;
	r.has_price_on_request = 1, r.price_on_request = 1;
	text = render(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	v = field(text, "usable area (Nutzfläche)", &col, &len);
	CU_ASSERT(v && strncmp(v, "0.1 m²\n", len + 1) == 0);
	v = field(text, "floor area (Gesamtfläche)", &col, &len);
	CU_ASSERT(v && strncmp(v, "1,234,567.125 m²\n", len + 1) == 0);
	v = field(text, "plot area (Grundstücksfläche)", &col, &len);
	CU_ASSERT(v && strncmp(v, "0 m²\n", len + 1) == 0);
	v = field(text, "source x (Quellkoordinaten)", &col, &len);
	CU_ASSERT(v && strncmp(v, "1234567.5\n", len + 1) == 0);
	v = field(text, "revision (Version)", &col, &len);
	CU_ASSERT(v && strncmp(v, "18446744073709551615\n", len + 1) == 0);
	v = field(text, "price on request (Preis auf Anfrage)", &col, &len);
	CU_ASSERT(v && strncmp(v, "yes\n", len + 1) == 0);
	free(text);
}

/* An empty record prints nothing at all. */
static void
test_empty_record(void)
{
	Vacancy__V1__Record r = VACANCY__V1__RECORD__INIT;
	char *text = render(&r);

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "");
	free(text);
}

/* Error answers: code and message, field errors one per line, request id. */
static void
test_error(void)
{
	Vacancy__V1__Error e = VACANCY__V1__ERROR__INIT;
	Vacancy__V1__FieldError fe[3], *fes[3];
	char *text;

	for (int i = 0; i < 3; i++) {
		vacancy__v1__field_error__init(&fe[i]);
		fes[i] = &fe[i];
	}
	e.code = "INVALID_ARGUMENT";
	e.message = "2 records are invalid";
	fe[0].has_index = 1, fe[0].index = 3;
	fe[0].external_id = "ANN-17";
	fe[0].field = "usable_area_m2";
	fe[0].code = "OUT_OF_RANGE";
	fe[0].message = "must not be negative";
	fe[1].field = "postcode";
	fe[1].message = "five digits\nplease";
	fe[2].has_index = 1, fe[2].index = 0;
	e.n_field_errors = 3, e.field_errors = fes;
	e.request_id = "req-42";
	text = render_error(&e, 400);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text,
			       "vacancy: INVALID_ARGUMENT: 2 records are invalid\n"
			       "  #3 (ANN-17): usable_area_m2: OUT_OF_RANGE: must not be negative\n"
			       "  postcode: five digits\\x0aplease\n"
			       "  #0\n"
			       "  request id: req-42\n");
	free(text);

	/* No code: the HTTP status stands in. */
	e = (Vacancy__V1__Error)VACANCY__V1__ERROR__INIT;
	text = render_error(&e, 503);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_STRING_EQUAL(text, "vacancy: HTTP 503\n");
	free(text);
}

void
test_client_print_register(void)
{
	CU_pSuite s = CU_add_suite("client_print", NULL, NULL);

	CU_add_test(s, "full record", test_full_record);
	CU_add_test(s, "minimal record", test_minimal_record);
	CU_add_test(s, "owner section", test_owner_section);
	CU_add_test(s, "escaping", test_escaping);
	CU_add_test(s, "numbers", test_numbers);
	CU_add_test(s, "empty record", test_empty_record);
	CU_add_test(s, "error", test_error);
}
