/*
 * gen_records: random but valid vacancy records for the integration tests
 * (test_search_random, test_privacy), and their transfer through POST
 * /v1/sync.
 *
 * Every record.md field is filled plausibly, from a small German vocabulary
 * so that full-text search finds things, at positions around the
 * municipalities of the Erzgebirgskreis. Values of INTERNAL and PERSONAL
 * text fields carry GEN_TAG; the PUBLIC fields withheld from investors when
 * a record is blurred (house number, Gemarkung, Flur, Flurstück) carry
 * GEN_TAG_BLUR when location_blur_m > 0, and the parcel ids of blurred
 * records start with GEN_PARCEL_BLUR. Numbers that are not PUBLIC are
 * distinctive too: revisions from GEN_REV_BASE, consent dates in 1999,
 * source coordinates ending in .25 and .75, and positions on a grid of
 * 2^-20 degrees unique to each record (no public number equals them).
 * No PUBLIC value contains a tag.
 *
 * Random numbers are splitmix64 from one seed, so a seed means the same
 * data everywhere.
 */
#ifndef VACANCY_GEN_RECORDS_H
#define VACANCY_GEN_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "vacancy.pb-c.h"

#define GEN_TAG		"Qx7Zv"
#define GEN_TAG_BLUR	"Jh4Kp"
#define GEN_PARCEL_BLUR "149871543"
#define GEN_REV_BASE	8800000000ULL
#define GEN_NMUNI	9
#define GEN_OUTSIDE	8 /* index of the municipality outside the Erzgebirgskreis */

/* A municipality the generator places records in. */
struct gen_muni {
	const char *ags;
	const char *locality;
	const char *postcode;
	double lat, lon; /* centre */
	int weight;	 /* share of the records, percent */
};
extern const struct gen_muni gen_munis[GEN_NMUNI];

/* One record as the test knows it; enums hold proto values, 0 = absent. */
struct gen_rec {
	int n; /* stable index */
	int m; /* index into gen_munis */
	uint64_t rev;
	int withdrawn;
	char ext[48], ars[16], verified[16], consent_date[16], vacant_since[16];
	char bplan[64], street[64], house[24], gemarkung[48], flur[40], flurstueck[40];
	char parcel[2][24];
	int nparcel;
	char title[200], description[900], location_text[200];
	char price[24], rent[24], rent_m2[16];
	char notes[160], owner_name[96], owner_address[160], owner_phone[48], owner_email[96];
	char att_url[2][96], att_sha[2][72], att_rights[2][64];
	int natt, att_group[2], att_has_rights[2];
	int publication, consent, site_kind, object_type, status, degree, precision, reason;
	int condition, year, development, planning, contamination, owner_cat, willingness;
	int usage[5], nusage, marketing[4], nmarketing;
	double lat, lon;
	int has_source, crs;
	double sx, sy;
	unsigned blur;
	int has_usable, has_floor, has_sales, has_plot, has_divisible, price_on_request;
	double usable, floor, sales, plot, divisible;
	/* the protobuf form, pointing into the fields above (gen_rec_pb) */
	Vacancy__V1__Record pb;
	Vacancy__V1__LatLon loc;
	Vacancy__V1__MarketingContact mc;
	Vacancy__V1__Attachment att[2];
	Vacancy__V1__Attachment *attp[2];
	Vacancy__V1__Usage__Value pusage[5];
	Vacancy__V1__Marketing__Value pmarketing[4];
	char *pparcel[2];
};

/* ---- random numbers ---- */

void gen_seed(uint64_t seed);
uint64_t gen_u64(void);
/* 0 .. n-1 */
int gen_rnd(int n);
/* 1 with probability pct percent */
int gen_chance(int pct);
/* VACANCY_TEST_SEED when set, else dflt. */
uint64_t gen_seed_from_env(uint64_t dflt);
/* A random element of a NULL-free array of n strings. */
const char *gen_pick(const char *const *a, int n);

/* ---- vocabulary for text search ---- */

extern const char *const gen_query_words[];
extern const int gen_nquery_words;

/* ---- records ---- */

/*
 * Fills g as record n of municipality m (see gen_munis) with random values.
 * With same_pos (may be NULL) and both records unblurred, the position is
 * sometimes copied from same_pos (equal distances for the tie-break).
 * Calls gen_rec_pb.
 */
void gen_rec_init(struct gen_rec *g, int n, int m, const struct gen_rec *same_pos);
/* Sets g->pb and its parts from g's fields (again after a change). */
void gen_rec_pb(struct gen_rec *g);
/* A newer revision with a changed title, usable area and price. */
void gen_rec_touch(struct gen_rec *g);
/* 1 when record.md lets investors see g. */
int gen_rec_published(const struct gen_rec *g);

/*
 * 1 when record.md puts the Record field (proto name) in tier PUBLIC.
 * Written from record.md, not taken from daemon/project.c; a field not
 * listed is not PUBLIC.
 */
int gen_field_public(const char *name);
/* 1 when field f of message m is present (set flag, pointer, count). */
int gen_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/*
 * NULL when r holds PUBLIC fields only (and no attachment rights holder),
 * else the name of the first field that is not PUBLIC.
 */
const char *gen_non_public(const Vacancy__V1__Record *r);

/* Today (UTC) as days since 1970-01-01 and as YYYY-MM-DD. */
long gen_today(void);
void gen_date(long day, char out[16]);

/*
 * One transfer of municipality ags (all records must be of it) through POST
 * /v1/sync as protobuf with token: upserts of up[0..nup), withdrawals of
 * wd[0..nwd) (each at its record's current revision; the caller has raised
 * it). Returns the decoded answer (free with
 * vacancy__v1__sync_response__free_unpacked) or NULL with a line on stderr
 * when the answer is not 200 or rejects or reports anything stale.
 */
Vacancy__V1__SyncResponse *gen_sync(const struct daemon *d, const char *token, const char *ags,
				    const char *transfer_id, struct gen_rec **up, size_t nup,
				    struct gen_rec **wd, size_t nwd);

#endif
