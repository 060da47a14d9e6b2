/*
 * gen_records: random valid records and their transfer through sync; see
 * gen_records.h for what the values promise.
 */
#include "gen_records.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Approximate centres; positions lie on a 2^-20 degree grid around them.
 * 14522080 lies outside the Erzgebirgskreis (the county's scope). */
const struct gen_muni gen_munis[GEN_NMUNI] = {
    {"14521020", "Annaberg-Buchholz", "09456", 50.5797, 13.0061, 20},
    {"14521035", "Aue-Bad Schlema", "08280", 50.5866, 12.7003, 14},
    {"14521390", "Marienberg", "09496", 50.6508, 13.1634, 12},
    {"14521550", "Schwarzenberg", "08340", 50.5453, 12.7834, 12},
    {"14521590", "Stollberg", "09366", 50.7083, 12.7783, 10},
    {"14521690", "Zschopau", "09405", 50.7477, 13.0700, 10},
    {"14521460", "Olbernhau", "09526", 50.6600, 13.3400, 8},
    {"14521440", "Oberwiesenthal", "09484", 50.4197, 12.9705, 10},
    {"14522080", "Mittelsachsen", "09661", 50.9300, 13.1400, 4},
};

/* ---- random numbers: splitmix64 ---- */

static uint64_t gen_state;

/* Grid positions (lat and lon separately, as 2^-20 degree steps) in use. */
#define GEN_USED_CAP 65536
static int64_t gen_used[2][GEN_USED_CAP];
static int gen_nused[2];

void
gen_seed(uint64_t seed)
{
	gen_state = seed;
	memset(gen_used, 0, sizeof(gen_used));
	gen_nused[0] = gen_nused[1] = 0;
}

uint64_t
gen_u64(void)
{
	uint64_t z = (gen_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int
gen_rnd(int n)
{
	return (int)(gen_u64() % (uint64_t)n);
}

int
gen_chance(int pct)
{
	return gen_rnd(100) < pct;
}

uint64_t
gen_seed_from_env(uint64_t dflt)
{
	const char *env = getenv("VACANCY_TEST_SEED");

	return env != NULL && *env != '\0' ? strtoull(env, NULL, 0) : dflt;
}

const char *
gen_pick(const char *const *a, int n)
{
	return a[gen_rnd(n)];
}

/* Index of the first weight the draw falls in; weights sum to 100. */
static int
gen_weighted(const int *w, int n)
{
	int d = gen_rnd(100), acc = 0;

	for (int i = 0; i < n; i++) {
		acc += w[i];
		if (d < acc)
			return i;
	}
	return n - 1;
}

/* ---- calendar ---- */

long
gen_today(void)
{
	return (long)(time(NULL) / 86400);
}

void
gen_date(long z, char out[16])
{
	long era, doe, yoe, doy, mp;
	int y, m, d;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (int)(doy - (153 * mp + 2) / 5 + 1);
	m = (int)(mp < 10 ? mp + 3 : mp - 9);
	y = (int)(yoe + era * 400 + (m <= 2));
	snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

/* ---- vocabulary ---- */

static const char *const gen_adjectives[] = {
    "Ehemalige", "Historische", "Zentrale", "Ruhige",	 "Große", "Kleine",
    "Moderne",	 "Sanierte",	"Helle",    "Geräumige", "Alte",  "Neue",
};
static const char *const gen_nouns[] = {
    "Ladenlokal", "Gewerbehalle", "Bürofläche", "Lagerhalle",	    "Werkstatt",
    "Gaststätte", "Wohnhaus",	  "Baulücke",	"Brachfläche",	    "Fabrikgebäude",
    "Scheune",	  "Praxisräume",  "Pension",	"Stadtvilla",	    "Bauernhof",
    "Garagenhof", "Spinnerei",	  "Bäckerei",	"Mehrfamilienhaus", "Kino",
};
static const char *const gen_places[] = {
    "am Markt",		  "am Bahnhof",	  "im Ortskern",     "in der Altstadt", "im Gewerbegebiet",
    "an der Hauptstraße", "am Stadtpark", "an der Zschopau", "am Schlossberg",	"in Ortsrandlage",
};
static const char *const gen_phrases[] = {
    "mit Schaufenster",
    "mit Lagerflächen und Rampe",
    "mit Parkplätzen vor dem Haus",
    "mit Aufzug",
    "barrierefrei erreichbar",
    "unter Denkmalschutz",
    "mit trockenem Keller",
    "mit Dachterrasse",
    "Heizung erneuert",
    "Dach undicht",
    "Fenster saniert",
    "Nähe Autobahn",
    "gute Anbindung an den Nahverkehr",
    "ehemalige Bäckerei",
    "ehemaliges Kino",
    "ehemalige Textilfabrik",
    "großer Garten",
    "Stellplätze vorhanden",
    "Büro und Werkstatt im Erdgeschoss",
    "Gewerbehalle mit Kranbahn",
};
static const char *const gen_streets[] = {
    "Hauptstraße",	 "Marktplatz", "Bahnhofstraße", "Buchholzer Straße", "Schulstraße",
    "Karlsbader Straße", "Am Anger",   "Lindenweg",	"Mühlgasse",	     "Annaberger Straße",
};

const char *const gen_query_words[] = {
    "Ladenlokal",  "Ladenlokale",   "Gewerbehallen", "Halle",	     "Büro",	     "Bürofläche",
    "Lagerhallen", "Werkstätten",   "Gaststätte",    "Wohnhaus",     "Baulücke",     "Fabrik",
    "Scheune",	   "Markt",	    "Bahnhof",	     "Altstadt",     "Schaufenster", "Parkplätze",
    "Aufzug",	   "Denkmalschutz", "Keller",	     "Dachterrasse", "barrierefrei", "Textilfabrik",
    "Garten",	   "Stellplätze",   "Bäckerei",	     "Kino",	     "Nahverkehr",   "Pension",
    "Spinnerei",   "Kranbahn",	    "Villa",	     "Stadtvilla",   "Zschopau",
};
const int gen_nquery_words = sizeof(gen_query_words) / sizeof(gen_query_words[0]);

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- positions ---- */

#define GEN_GRID 1048576.0 /* 2^20 steps per degree */

/* 1 when k was free in set which (and is now taken). */
static int
gen_take(int which, int64_t k)
{
	uint64_t h = ((uint64_t)k * 0x9e3779b97f4a7c15ULL) >> 48;

	if (gen_nused[which] >= GEN_USED_CAP / 2)
		return 1; /* full: give up uniqueness rather than loop */
	for (;; h = (h + 1) % GEN_USED_CAP) {
		if (gen_used[which][h] == 0) {
			gen_used[which][h] = k;
			gen_nused[which]++;
			return 1;
		}
		if (gen_used[which][h] == k)
			return 0;
	}
}

/* A grid coordinate near centre, within spread steps, unused so far. */
static double
gen_coord(int which, double centre, int spread)
{
	int64_t c = (int64_t)llround(centre * GEN_GRID), k;

	do
		k = c + gen_rnd(2 * spread + 1) - spread;
	while (!gen_take(which, k));
	return (double)k / GEN_GRID;
}

/* ---- records ---- */

/* An area of 2 decimals; sometimes one of a few common values (ties). */
static double
gen_area(double lo, double hi)
{
	static const double pool[] = {50, 100, 120.5, 250, 400, 1000, 1500.75, 3000};

	if (gen_chance(35))
		return pool[gen_rnd(NELEM(pool))];
	return floor(lo * 100 + gen_rnd((int)((hi - lo) * 100))) / 100.0;
}

/* A sum of money with cents 00, 50, 90 or 99 (never .25 or .75). */
static void
gen_money(char *out, size_t len, int lo, int hi, const char *const *pool, int npool)
{
	static const char *const cents[] = {"00", "50", "90", "99"};

	if (pool != NULL && gen_chance(35)) {
		snprintf(out, len, "%s", pool[gen_rnd(npool)]);
		return;
	}
	snprintf(out, len, "%d.%s", lo + gen_rnd(hi - lo), cents[gen_rnd(4)]);
}

static void
gen_title(struct gen_rec *g)
{
	snprintf(g->title, sizeof(g->title), "%s %s %s",
		 gen_pick(gen_adjectives, NELEM(gen_adjectives)),
		 gen_pick(gen_nouns, NELEM(gen_nouns)), gen_pick(gen_places, NELEM(gen_places)));
}

static void
gen_description(struct gen_rec *g)
{
	int n = 1 + gen_rnd(4);
	size_t len = 0;

	g->description[0] = '\0';
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(g->description + len, sizeof(g->description) - len,
					"%s%s%s", i ? ". " : "", i == 1 ? "Das Objekt ist " : "",
					gen_pick(gen_phrases, NELEM(gen_phrases)));
	if (gen_chance(30))
		snprintf(g->description + len, sizeof(g->description) - len,
			 ". Besichtigung nach Vereinbarung mit der %s",
			 gen_pick(gen_nouns, NELEM(gen_nouns)));
}

static void
gen_set_of(int *out, int *n, int max_n, int nvalues, int min_n)
{
	int want = min_n + gen_rnd(max_n - min_n + 1);

	*n = 0;
	while (*n < want) {
		int v = 1 + gen_rnd(nvalues), dup = 0;

		for (int i = 0; i < *n; i++)
			dup |= out[i] == v;
		if (!dup)
			out[(*n)++] = v;
	}
}

void
gen_rec_init(struct gen_rec *g, int n, int m, const struct gen_rec *same_pos)
{
	static const int status_w[] = {8, 10, 45, 20, 7, 5, 5};
	static const int consent_w[] = {20, 13, 25, 35, 7};
	static const int owner_w[] = {5, 40, 25, 10, 10, 10};
	static const unsigned blurs[] = {200, 500, 1000, 2000};
	static const char *const prices[] = {"49000.00", "99000.00", "150000.00", "250000.00"};
	static const char *const rents[] = {"450.00", "800.00", "1200.50"};
	const struct gen_muni *mu = &gen_munis[m];
	long today = gen_today();
	double largest;

	memset(g, 0, sizeof(*g));
	g->n = n;
	g->m = m;
	g->rev = GEN_REV_BASE + (uint64_t)n * 64 + (uint64_t)gen_rnd(4);
	snprintf(g->ext, sizeof(g->ext), "EXT-%d-" GEN_TAG "-SECRET", n);
	if (gen_chance(70))
		snprintf(g->ars, sizeof(g->ars), "%.5s%c%.3s%.3s", mu->ags, m % 2 ? '5' : '0',
			 mu->ags + 5, mu->ags + 5);
	gen_date(today - 1 - gen_rnd(700), g->verified);
	g->publication = gen_chance(90) ? VACANCY__V1__PUBLICATION__VALUE__PUBLIC
					: VACANCY__V1__PUBLICATION__VALUE__INTERNAL;
	g->consent = 1 + gen_weighted(consent_w, NELEM(consent_w));
	if (g->consent != VACANCY__V1__OWNER_CONSENT__VALUE__UNKNOWN)
		snprintf(g->consent_date, sizeof(g->consent_date), "1999-%02d-%02d",
			 1 + gen_rnd(12), 1 + gen_rnd(28));
	g->site_kind = 1 + gen_rnd(4);
	gen_set_of(g->usage, &g->nusage, 3, 5, 1);
	gen_set_of(g->marketing, &g->nmarketing, 2, 4, 0);
	g->object_type = 1 + gen_rnd(12);
	g->status = 1 + gen_weighted(status_w, NELEM(status_w));
	g->degree = gen_rnd(3);
	if (gen_chance(80)) {
		/* 2008-01-01 is day 13879 */
		gen_date(13879 + gen_rnd((int)(today - 30 - 13879)), g->vacant_since);
		g->precision = gen_rnd(5);
	}
	g->reason = gen_chance(70) ? 1 + gen_rnd(6) : 0;
	g->condition = gen_rnd(12);
	g->year = gen_chance(70) ? 1850 + gen_rnd(171) : 0;
	g->development = gen_rnd(5);
	g->planning = gen_rnd(6);
	if (gen_chance(40))
		snprintf(g->bplan, sizeof(g->bplan), "B-Plan Nr. %d \"%s\"", 1 + gen_rnd(80),
			 gen_pick(gen_places, NELEM(gen_places)) + 3);
	g->contamination = gen_rnd(5);
	g->blur = gen_chance(40) ? blurs[gen_rnd(NELEM(blurs))] : 0;
	snprintf(g->street, sizeof(g->street), "%s", gen_pick(gen_streets, NELEM(gen_streets)));
	if (g->blur > 0) {
		snprintf(g->house, sizeof(g->house), GEN_TAG_BLUR "%d", n);
		snprintf(g->gemarkung, sizeof(g->gemarkung), "Gemarkung " GEN_TAG_BLUR "-%d", n);
		snprintf(g->flur, sizeof(g->flur), "Flur " GEN_TAG_BLUR "-%d", n);
		snprintf(g->flurstueck, sizeof(g->flurstueck), GEN_TAG_BLUR "-%d/2", n);
		g->nparcel = 1 + gen_rnd(2);
		for (int i = 0; i < g->nparcel; i++)
			snprintf(g->parcel[i], sizeof(g->parcel[i]), GEN_PARCEL_BLUR "%05d______",
				 (n + 50000 * i) % 100000);
	} else {
		if (gen_chance(90))
			snprintf(g->house, sizeof(g->house), "%d%s", 1 + gen_rnd(120),
				 gen_chance(15) ? "a" : "");
		if (gen_chance(70)) {
			snprintf(g->gemarkung, sizeof(g->gemarkung), "%s", mu->locality);
			snprintf(g->flur, sizeof(g->flur), "%d", 1 + gen_rnd(9));
			snprintf(g->flurstueck, sizeof(g->flurstueck), "%d/%d", 1 + gen_rnd(900),
				 1 + gen_rnd(9));
		}
		g->nparcel = gen_rnd(3);
		for (int i = 0; i < g->nparcel; i++)
			snprintf(g->parcel[i], sizeof(g->parcel[i]), "144410%03d%05d%04d__",
				 1 + gen_rnd(9), 1 + gen_rnd(900), 1 + gen_rnd(9));
	}
	if (same_pos != NULL && same_pos->blur == 0 && g->blur == 0 && gen_chance(8)) {
		g->lat = same_pos->lat;
		g->lon = same_pos->lon;
	} else {
		g->lat = gen_coord(0, mu->lat, 30000);
		g->lon = gen_coord(1, mu->lon, 50000);
	}
	if (gen_chance(25)) {
		g->has_source = 1;
		g->sx = 340000.0 + n * 3 + 0.25;
		g->sy = 5600000.0 + n * 3 + 0.75;
		g->crs = 25833;
	}
	g->has_usable = gen_chance(85);
	g->usable = g->has_usable ? gen_area(20, 5000) : 0;
	g->has_floor = gen_chance(50);
	g->floor = g->has_floor ? gen_area(30, 8000) : 0;
	g->has_sales = gen_chance(20);
	g->sales = g->has_sales ? gen_area(10, 1000) : 0;
	g->has_plot = gen_chance(60);
	g->plot = g->has_plot ? gen_area(100, 20000) : 0;
	largest = fmax(fmax(g->usable, g->floor), fmax(g->sales, g->plot));
	if (largest > 10 && gen_chance(20)) {
		g->has_divisible = 1;
		g->divisible = floor(largest * 50) / 100.0; /* half, rounded down */
	}
	if (gen_chance(60))
		gen_money(g->price, sizeof(g->price), 5000, 900000, prices, NELEM(prices));
	if (gen_chance(45))
		gen_money(g->rent, sizeof(g->rent), 150, 9000, rents, NELEM(rents));
	if (gen_chance(30))
		gen_money(g->rent_m2, sizeof(g->rent_m2), 2, 15, NULL, 0);
	g->price_on_request = gen_chance(10);
	gen_title(g);
	gen_description(g);
	snprintf(g->location_text, sizeof(g->location_text), "Lage %s, %d Minuten zum Zentrum",
		 gen_pick(gen_places, NELEM(gen_places)), 1 + gen_rnd(20));
	g->natt = gen_rnd(3);
	for (int i = 0; i < g->natt; i++) {
		g->att_group[i] = 1 + gen_rnd(4);
		snprintf(g->att_url[i], sizeof(g->att_url[i]),
			 "https://example.org/objekte/%d/%d.jpg", n, i);
		for (int k = 0; k < 64; k++)
			g->att_sha[i][k] = "0123456789abcdef"[gen_rnd(16)];
		g->att_sha[i][64] = '\0';
		g->att_has_rights[i] = gen_chance(70);
		snprintf(g->att_rights[i], sizeof(g->att_rights[i]), "Fotograf " GEN_TAG "-%d-%d",
			 n, i);
	}
	g->owner_cat = gen_weighted(owner_w, NELEM(owner_w));
	if (gen_chance(80))
		snprintf(g->owner_name, sizeof(g->owner_name), "%s " GEN_TAG "-%d",
			 gen_chance(50) ? "Erbengemeinschaft" : "Grundbesitz GmbH", n);
	if (gen_chance(60))
		snprintf(g->owner_address, sizeof(g->owner_address),
			 "Postweg " GEN_TAG "-%d, %s %s", n, mu->postcode, mu->locality);
	if (gen_chance(50))
		snprintf(g->owner_phone, sizeof(g->owner_phone), "+49 3733 " GEN_TAG "-%d", n);
	if (gen_chance(50))
		snprintf(g->owner_email, sizeof(g->owner_email), GEN_TAG "-%d@example.org", n);
	g->willingness = gen_rnd(6);
	if (gen_chance(60))
		snprintf(g->notes, sizeof(g->notes),
			 "Interne Notiz " GEN_TAG "-%d: Eigentümer verhandelt mit Interessenten",
			 n);
	gen_rec_pb(g);
}

/* NULL for an empty string (absent). */
static char *
opt(char *s)
{
	return s[0] != '\0' ? s : NULL;
}

void
gen_rec_pb(struct gen_rec *g)
{
	Vacancy__V1__Record *r = &g->pb;

	vacancy__v1__record__init(r);
	vacancy__v1__lat_lon__init(&g->loc);
	vacancy__v1__marketing_contact__init(&g->mc);
	r->municipality_ags = (char *)gen_munis[g->m].ags;
	r->municipality_ars = opt(g->ars);
	r->external_id = g->ext;
	r->has_revision = 1;
	r->revision = g->rev;
	r->last_verified_at = g->verified;
	r->has_publication = 1;
	r->publication = (Vacancy__V1__Publication__Value)g->publication;
	r->has_owner_consent = 1;
	r->owner_consent = (Vacancy__V1__OwnerConsent__Value)g->consent;
	r->owner_consent_date = opt(g->consent_date);
	r->has_site_kind = 1;
	r->site_kind = (Vacancy__V1__SiteKind__Value)g->site_kind;
	for (int i = 0; i < g->nusage; i++)
		g->pusage[i] = (Vacancy__V1__Usage__Value)g->usage[i];
	r->n_usage = (size_t)g->nusage;
	r->usage = g->pusage;
	for (int i = 0; i < g->nmarketing; i++)
		g->pmarketing[i] = (Vacancy__V1__Marketing__Value)g->marketing[i];
	r->n_marketing = (size_t)g->nmarketing;
	r->marketing = g->pmarketing;
	r->has_object_type = 1;
	r->object_type = (Vacancy__V1__ObjectType__Value)g->object_type;
	r->has_status = 1;
	r->status = (Vacancy__V1__Status__Value)g->status;
#define OPT_ENUM(field, value, type)                                                               \
	do {                                                                                       \
		r->has_##field = (value) != 0;                                                     \
		r->field = (type)(value);                                                          \
	} while (0)
	OPT_ENUM(vacancy_degree, g->degree, Vacancy__V1__VacancyDegree__Value);
	r->vacant_since = opt(g->vacant_since);
	if (r->vacant_since != NULL)
		OPT_ENUM(vacant_since_precision, g->precision, Vacancy__V1__DatePrecision__Value);
	OPT_ENUM(vacancy_reason, g->reason, Vacancy__V1__VacancyReason__Value);
	OPT_ENUM(condition, g->condition, Vacancy__V1__Condition__Value);
	OPT_ENUM(construction_year, g->year, int32_t);
	OPT_ENUM(development, g->development, Vacancy__V1__Development__Value);
	OPT_ENUM(planning_basis, g->planning, Vacancy__V1__PlanningBasis__Value);
	OPT_ENUM(contamination, g->contamination, Vacancy__V1__Contamination__Value);
	OPT_ENUM(owner_category, g->owner_cat, Vacancy__V1__OwnerCategory__Value);
	OPT_ENUM(owner_willingness, g->willingness, Vacancy__V1__OwnerWillingness__Value);
#undef OPT_ENUM
	r->bplan_ref = opt(g->bplan);
	r->street = g->street;
	r->house_number = opt(g->house);
	r->postcode = (char *)gen_munis[g->m].postcode;
	r->locality = (char *)gen_munis[g->m].locality;
	r->gemarkung = opt(g->gemarkung);
	r->flur = opt(g->flur);
	r->flurstueck = opt(g->flurstueck);
	for (int i = 0; i < g->nparcel; i++)
		g->pparcel[i] = g->parcel[i];
	r->n_parcel_ids = (size_t)g->nparcel;
	r->parcel_ids = g->pparcel;
	g->loc.has_lat = g->loc.has_lon = 1;
	g->loc.lat = g->lat;
	g->loc.lon = g->lon;
	r->location = &g->loc;
	if (g->has_source) {
		r->has_source_x = r->has_source_y = r->has_source_crs = 1;
		r->source_x = g->sx;
		r->source_y = g->sy;
		r->source_crs = (uint32_t)g->crs;
	}
	r->has_location_blur_m = 1;
	r->location_blur_m = g->blur;
	r->has_usable_area_m2 = g->has_usable;
	r->usable_area_m2 = g->usable;
	r->has_floor_area_m2 = g->has_floor;
	r->floor_area_m2 = g->floor;
	r->has_sales_area_m2 = g->has_sales;
	r->sales_area_m2 = g->sales;
	r->has_plot_area_m2 = g->has_plot;
	r->plot_area_m2 = g->plot;
	r->has_divisible_from_m2 = g->has_divisible;
	r->divisible_from_m2 = g->divisible;
	r->purchase_price_eur = opt(g->price);
	r->rent_eur_month = opt(g->rent);
	r->rent_eur_m2 = opt(g->rent_m2);
	r->has_price_on_request = 1;
	r->price_on_request = g->price_on_request;
	r->title = g->title;
	r->description = g->description;
	r->location_text = g->location_text;
	g->mc.organisation = "Wirtschaftsförderung Erzgebirge GmbH";
	g->mc.person_role = "Standortberatung";
	g->mc.phone = "+49 3733 145-0";
	g->mc.email = "standort@wfe-erzgebirge.example";
	r->marketing_contact = &g->mc;
	for (int i = 0; i < g->natt; i++) {
		vacancy__v1__attachment__init(&g->att[i]);
		g->att[i].has_group = 1;
		g->att[i].group = (Vacancy__V1__AttachmentGroup__Value)g->att_group[i];
		g->att[i].media_type = "image/jpeg";
		g->att[i].sha256 = g->att_sha[i];
		g->att[i].url = g->att_url[i];
		g->att[i].rights_holder = g->att_has_rights[i] ? g->att_rights[i] : NULL;
		g->att[i].licence = "CC-BY-4.0";
		g->attp[i] = &g->att[i];
	}
	r->n_attachments = (size_t)g->natt;
	r->attachments = g->attp;
	r->owner_name = opt(g->owner_name);
	r->owner_address = opt(g->owner_address);
	r->owner_phone = opt(g->owner_phone);
	r->owner_email = opt(g->owner_email);
	r->internal_notes = opt(g->notes);
}

void
gen_rec_touch(struct gen_rec *g)
{
	char old[sizeof(g->title)];

	memcpy(old, g->title, sizeof(old));
	g->rev += 1 + (uint64_t)gen_rnd(3);
	do
		gen_title(g);
	while (strcmp(old, g->title) == 0);
	g->has_usable = 1;
	g->usable = gen_area(20, 5000) + 0.5;
	g->has_divisible = 0;
	gen_money(g->price, sizeof(g->price), 5000, 900000, NULL, 0);
	gen_rec_pb(g);
}

int
gen_rec_published(const struct gen_rec *g)
{
	int consent_ok = g->consent == VACANCY__V1__OWNER_CONSENT__VALUE__CONSENTED ||
			 g->consent == VACANCY__V1__OWNER_CONSENT__VALUE__NO_OBJECTION;
	int not_person = g->owner_cat == VACANCY__V1__OWNER_CATEGORY__VALUE__BUSINESS ||
			 g->owner_cat == VACANCY__V1__OWNER_CATEGORY__VALUE__PUBLIC ||
			 g->owner_cat == VACANCY__V1__OWNER_CATEGORY__VALUE__MUNICIPAL;

	return !g->withdrawn && g->publication == VACANCY__V1__PUBLICATION__VALUE__PUBLIC &&
	       (g->status == VACANCY__V1__STATUS__VALUE__MARKETED ||
		g->status == VACANCY__V1__STATUS__VALUE__RESERVED) &&
	       g->consent != VACANCY__V1__OWNER_CONSENT__VALUE__OBJECTED &&
	       (consent_ok || not_person);
}

/* ---- tiers ---- */

/* record.md's PUBLIC fields; withdrawn_at is the tombstone the registry sets. */
static const char *const gen_public_fields[] = {
    "record_id",
    "municipality_ags",
    "municipality_ars",
    "updated_at",
    "last_verified_at",
    "site_kind",
    "usage",
    "marketing",
    "object_type",
    "status",
    "vacancy_degree",
    "vacant_since",
    "vacant_since_precision",
    "condition",
    "construction_year",
    "development",
    "planning_basis",
    "bplan_ref",
    "contamination",
    "street",
    "house_number",
    "postcode",
    "locality",
    "gemarkung",
    "flur",
    "flurstueck",
    "parcel_ids",
    "location",
    "usable_area_m2",
    "floor_area_m2",
    "sales_area_m2",
    "plot_area_m2",
    "divisible_from_m2",
    "purchase_price_eur",
    "rent_eur_month",
    "rent_eur_m2",
    "price_on_request",
    "title",
    "description",
    "location_text",
    "marketing_contact",
    "attachments",
    "withdrawn_at",
};

int
gen_field_public(const char *name)
{
	for (int i = 0; i < NELEM(gen_public_fields); i++)
		if (strcmp(gen_public_fields[i], name) == 0)
			return 1;
	return 0;
}

int
gen_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)(base + f->offset) != NULL;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset) != 0;
}

const char *
gen_non_public(const Vacancy__V1__Record *r)
{
	const ProtobufCMessageDescriptor *d = &vacancy__v1__record__descriptor;

	for (unsigned i = 0; i < d->n_fields; i++)
		if (!gen_field_public(d->fields[i].name) && gen_present(&r->base, &d->fields[i]))
			return d->fields[i].name;
	for (size_t i = 0; i < r->n_attachments; i++)
		if (r->attachments[i]->rights_holder != NULL)
			return "attachments.rights_holder";
	return NULL;
}

/* ---- sync ---- */

Vacancy__V1__SyncResponse *
gen_sync(const struct daemon *d, const char *token, const char *ags, const char *transfer_id,
	 struct gen_rec **up, size_t nup, struct gen_rec **wd, size_t nwd)
{
	Vacancy__V1__SyncRequest q = VACANCY__V1__SYNC_REQUEST__INIT;
	Vacancy__V1__RecordChange **ch = calloc(nup + nwd + 1, sizeof(*ch));
	Vacancy__V1__RecordChange *chs = calloc(nup + nwd + 1, sizeof(*chs));
	Vacancy__V1__Withdrawal *w = calloc(nwd + 1, sizeof(*w));
	Vacancy__V1__SyncResponse *s = NULL;
	struct http_resp r = {0};
	uint8_t *body = NULL;
	size_t len;

	if (ch == NULL || chs == NULL || w == NULL)
		goto out;
	q.transfer_id = (char *)transfer_id;
	q.municipality_ags = (char *)ags;
	q.has_scope = 1;
	q.scope = VACANCY__V1__SYNC_SCOPE__VALUE__PARTIAL;
	q.changes = ch;
	for (size_t i = 0; i < nup; i++) {
		gen_rec_pb(up[i]);
		vacancy__v1__record_change__init(&chs[i]);
		chs[i].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
		chs[i].upsert = &up[i]->pb;
		ch[q.n_changes++] = &chs[i];
	}
	for (size_t i = 0; i < nwd; i++) {
		vacancy__v1__withdrawal__init(&w[i]);
		w[i].external_id = wd[i]->ext;
		w[i].has_revision = 1;
		w[i].revision = wd[i]->rev;
		vacancy__v1__record_change__init(&chs[nup + i]);
		chs[nup + i].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW;
		chs[nup + i].withdraw = &w[i];
		ch[q.n_changes++] = &chs[nup + i];
	}
	len = protobuf_c_message_get_packed_size(&q.base);
	if ((body = malloc(len + 1)) == NULL)
		goto out;
	protobuf_c_message_pack(&q.base, body);
	if (harness_http(d, "POST", "/v1/sync", token, "application/x-protobuf",
			 "application/x-protobuf", body, len, NULL, &r) == -1 ||
	    r.status != 200) {
		fprintf(stderr, "\n  sync %s: HTTP %ld (curl %d): %.300s\n", transfer_id, r.status,
			r.curl_error, r.body ? r.body : "");
		goto out;
	}
	s = vacancy__v1__sync_response__unpack(NULL, r.len, (const uint8_t *)r.body);
	if (s != NULL && (s->rejected != 0 || s->stale != 0)) {
		fprintf(stderr, "\n  sync %s: %u rejected, %u stale; first error: %s %s\n",
			transfer_id, s->rejected, s->stale, s->n_errors ? s->errors[0]->field : "-",
			s->n_errors ? s->errors[0]->message : "-");
		vacancy__v1__sync_response__free_unpacked(s, NULL);
		s = NULL;
	}
out:
	harness_resp_free(&r);
	free(body);
	free(w);
	free(chs);
	free(ch);
	return s;
}
