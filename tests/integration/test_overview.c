/*
 * test_overview: GET /v1/overview and GET /v1/municipalities against figures
 * recomputed independently from docs/overview.md.
 *
 * A few hundred random records (fixed seed, printed; VACANCY_TEST_SEED
 * overrides it) go in through POST /v1/sync as five municipalities, four of
 * the Erzgebirgskreis and one outside it, and get random histories: status
 * changes, areas, usages, consents, vacant_since added and removed,
 * withdrawals, a record brought back, a FULL transfer that withdraws what it
 * omits. As the cluster admin the test then moves every transfer (history,
 * received_at, withdrawn_at, updated_at) to an instant of its own in past
 * months, so the history spans two years, some instants fall on the first
 * of a month shortly after midnight in Berlin (still the previous month in
 * UTC), and some municipalities are overdue.
 *
 * Every figure of every grouping (five keys alone and the ten pairs) for the
 * county, a part of it and each municipality (with its own token) is
 * compared with SQL over registry.record, record_internal and history
 * written here from the definitions (not the implementation's functions);
 * medians and 90th percentiles are interpolated here. The monthly series is
 * compared with a replay of the field-level history at each month's end;
 * the municipality list with registry.municipality and registry.transfer.
 * Then roles and scopes (403), and every bad parameter (400 naming it).
 *
 * A mismatch is an assertion failure per figure, and a line on stderr with
 * the request, the group's keys, the figure, the expected and the received
 * value.
 */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "harness.h"
#include "vacancy.pb-c.h"

#define STALE_DAYS   200 /* stale_after_days of the suite's daemon */
#define OVERDUE_DAYS 30	 /* overdue_after_days */
#define COUNTY	     "14521"
#define NCOUNTY	     300 /* records of the four county municipalities */
#define NOUTSIDE     12	 /* records of the municipality outside the county */
#define NSITES	     (NCOUNTY + NOUTSIDE)
#define XFER_MAX     400
#define SHIFT_MAX    64
#define DIFFS_MAX    40 /* diff lines printed per request */
#define SEED_DEFAULT 20261122u

#define VACANT_SQL "('SUSPECTED', 'CONFIRMED', 'MARKETED', 'RESERVED')"

/*
 * The municipalities the test syncs as. last_hours: how long before now
 * their last transfer arrived (the others lie in past months): 5 days,
 * 28.5 days (not overdue), 31.5 days and 100 days (overdue), and 2 days for
 * the one outside the county. The margins make "within 30 days" the same
 * whether reckoned in instants or in calendar days.
 */
static const struct muni {
	const char *ags;
	int weight; /* share of the county's records, percent */
	int last_hours;
} munis[] = {
    {"14521020", 35, 5 * 24},	    /* Annaberg-Buchholz */
    {"14521035", 30, 28 * 24 + 12}, /* Aue-Bad Schlema */
    {"14521390", 20, 31 * 24 + 12}, /* Marienberg */
    {"14521550", 15, 100 * 24},	    /* Schwarzenberg: its last transfer is FULL */
    {"14522080", 0, 2 * 24},	    /* Mittelsachsen: outside the county */
};
#define NMUNI	  5
#define OUTSIDE	  4 /* index of the municipality outside the county */
#define FULL_MUNI 3 /* index of the municipality whose last transfer is FULL */

static const char *const keys[] = {"municipality", "object_type", "site_kind", "status", "usage"};
#define NKEYS 5

static struct daemon dmn;
static char *tok_muni[NMUNI], *tok_county, *tok_investor;
static PGconn *admin;
static int loaded;	 /* the data went in and was moved in time */
static long today;	 /* days since 1970-01-01, Europe/Berlin */
static int cur_y, cur_m; /* the current month in Europe/Berlin */
static unsigned long nfigures, nrequests, nrows;
static int diffs_left;

/* ---- random numbers: splitmix64, so a seed means the same data everywhere ---- */

static uint64_t rng_state;

static uint64_t
rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 0 .. n-1 */
static int
rnd(int n)
{
	return (int)(rng_next() % (uint64_t)n);
}

/* 1 with probability pct percent */
static int
chance(int pct)
{
	return rnd(100) < pct;
}

/* ---- calendar ---- */

static long
days_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* YYYY-MM-DD of day z into out (16 bytes). */
static void
date_str(long z, char *out)
{
	int y, m, d;

	civil_from_days(z, &y, &m, &d);
	snprintf(out, 16, "%04d-%02d-%02d", y, m, d);
}

/* YYYY-MM of the month back months before the current one (16 bytes). */
static void
month_str(int back, char *out)
{
	int k = cur_y * 12 + (cur_m - 1) - back;

	snprintf(out, 16, "%04d-%02d", k / 12, k % 12 + 1);
}

/* ---- the records, as the test sends them ---- */

struct site {
	int m; /* index into munis */
	char ext[16], title[48], house[8];
	uint64_t rev;
	int site_kind, object_type, status, publication, consent, owner_cat; /* 0: absent */
	unsigned usage;	       /* bit u-1 set: usage u */
	char vacant_since[16]; /* "" absent */
	int precision;	       /* 0 absent */
	char verified[16];
	int has_usable, has_plot;
	double usable, plot, lat, lon;
	int withdrawn;
};

static struct site sites[NSITES];

/* A record of the protobuf, pointing into its site. */
struct pbrec {
	Vacancy__V1__Record r;
	Vacancy__V1__LatLon loc;
	Vacancy__V1__Usage__Value usage[5];
};

static void
site_record(struct pbrec *p, const struct site *s)
{
	vacancy__v1__record__init(&p->r);
	vacancy__v1__lat_lon__init(&p->loc);
	p->r.municipality_ags = (char *)munis[s->m].ags;
	p->r.external_id = (char *)s->ext;
	p->r.has_revision = 1;
	p->r.revision = s->rev;
	p->r.last_verified_at = (char *)s->verified;
	p->r.has_publication = 1;
	p->r.publication = (Vacancy__V1__Publication__Value)s->publication;
	p->r.has_owner_consent = 1;
	p->r.owner_consent = (Vacancy__V1__OwnerConsent__Value)s->consent;
	p->r.has_site_kind = 1;
	p->r.site_kind = (Vacancy__V1__SiteKind__Value)s->site_kind;
	p->r.has_object_type = 1;
	p->r.object_type = (Vacancy__V1__ObjectType__Value)s->object_type;
	p->r.has_status = 1;
	p->r.status = (Vacancy__V1__Status__Value)s->status;
	for (int u = 1; u <= 5; u++)
		if (s->usage & (1u << (u - 1)))
			p->usage[p->r.n_usage++] = (Vacancy__V1__Usage__Value)u;
	p->r.usage = p->usage;
	if (s->vacant_since[0] != '\0')
		p->r.vacant_since = (char *)s->vacant_since;
	if (s->precision != 0) {
		p->r.has_vacant_since_precision = 1;
		p->r.vacant_since_precision = (Vacancy__V1__DatePrecision__Value)s->precision;
	}
	if (s->owner_cat != 0) {
		p->r.has_owner_category = 1;
		p->r.owner_category = (Vacancy__V1__OwnerCategory__Value)s->owner_cat;
	}
	p->r.has_usable_area_m2 = s->has_usable;
	p->r.usable_area_m2 = s->usable;
	p->r.has_plot_area_m2 = s->has_plot;
	p->r.plot_area_m2 = s->plot;
	p->r.street = "Hauptstraße";
	p->r.house_number = (char *)s->house;
	p->r.postcode = "09456";
	p->r.locality = "Erzgebirge";
	p->r.title = (char *)s->title;
	p->loc.has_lat = p->loc.has_lon = 1;
	p->loc.lat = s->lat;
	p->loc.lon = s->lon;
	p->r.location = &p->loc;
}

/* An area with two decimals, 5 to 5000 m2. */
static double
rnd_area(void)
{
	return (500 + rnd(499500)) / 100.0;
}

/* A nonempty set of one to three usages, other than old. */
static unsigned
rnd_usage(unsigned old)
{
	for (;;) {
		unsigned u = 0;
		int n = 1 + rnd(3);

		while (__builtin_popcount(u) < n)
			u |= 1u << rnd(5);
		if (u != old)
			return u;
	}
}

/* A status other than old (1-7). */
static int
rnd_status(int old)
{
	int s;

	do
		s = 1 + rnd(7);
	while (s == old);
	return s;
}

/* vacant_since mostly 400 to 3400 days back (so that MONTH and YEAR never
 * lie after today), now and then today itself; a random precision. */
static void
rnd_vacant_since(struct site *s, int i)
{
	if (i % 40 == 3) {
		date_str(today, s->vacant_since);
		s->precision = VACANCY__V1__DATE_PRECISION__VALUE__DAY;
		return;
	}
	date_str(today - 400 - rnd(3000), s->vacant_since);
	s->precision = rnd(5); /* 0: absent, counts as DAY */
}

static void
site_init(struct site *s, int i)
{
	memset(s, 0, sizeof(*s));
	if (i < NCOUNTY) {
		int w = rnd(100), acc = 0;

		for (s->m = 0; s->m < OUTSIDE - 1; s->m++) {
			acc += munis[s->m].weight;
			if (w < acc)
				break;
		}
	} else {
		s->m = OUTSIDE;
	}
	snprintf(s->ext, sizeof(s->ext), "OV-%04d", i);
	snprintf(s->title, sizeof(s->title), "Leerstand %d", i);
	snprintf(s->house, sizeof(s->house), "%d", 1 + rnd(150));
	s->rev = 1 + (uint64_t)rnd(5);
	s->site_kind = 1 + rnd(4);
	s->object_type = 1 + rnd(12);
	s->status = 1 + rnd(7);
	s->publication = 1 + rnd(2);
	s->consent = 1 + rnd(5);
	s->owner_cat = rnd(6);
	s->usage = rnd_usage(0);
	if (chance(75))
		rnd_vacant_since(s, i);
	/* stale_after_days exactly (not stale) and one day more (stale) */
	switch (i % 25) {
	case 0:
		date_str(today - STALE_DAYS, s->verified);
		break;
	case 1:
		date_str(today - STALE_DAYS - 1, s->verified);
		break;
	case 2:
		date_str(today, s->verified);
		break;
	default:
		date_str(today - rnd(500), s->verified);
	}
	s->has_usable = chance(80);
	s->usable = s->has_usable ? rnd_area() : 0;
	s->has_plot = chance(60);
	s->plot = s->has_plot ? rnd_area() * 3 : 0;
	s->lat = 50.45 + rnd(25000) / 100000.0;
	s->lon = 12.60 + rnd(70000) / 100000.0;
}

/* ---- transfers ---- */

struct xfer {
	Vacancy__V1__SyncRequest q;
	Vacancy__V1__RecordChange *ch[XFER_MAX];
	Vacancy__V1__RecordChange chs[XFER_MAX];
	Vacancy__V1__Withdrawal wd[XFER_MAX];
	struct pbrec recs[XFER_MAX];
	char id[48];
	int m;
	/* what the test expects the answer to count */
	unsigned created, updated, unchanged, withdrawn;
};

static struct xfer xf;

/* Where each transfer is moved in time: an SQL timestamptz expression. */
static struct shift {
	int m;
	char id[48];
	char at[256];
} shifts[SHIFT_MAX];
static int nshifts;

static void
xfer_begin(int m, const char *id, int full)
{
	memset(&xf, 0, sizeof(xf));
	vacancy__v1__sync_request__init(&xf.q);
	snprintf(xf.id, sizeof(xf.id), "%s-%s", id, munis[m].ags);
	xf.m = m;
	xf.q.transfer_id = xf.id;
	xf.q.municipality_ags = (char *)munis[m].ags;
	xf.q.has_scope = 1;
	xf.q.scope =
	    full ? VACANCY__V1__SYNC_SCOPE__VALUE__FULL : VACANCY__V1__SYNC_SCOPE__VALUE__PARTIAL;
	xf.q.changes = xf.ch;
}

static void
xfer_upsert(const struct site *s)
{
	size_t i = xf.q.n_changes++;

	site_record(&xf.recs[i], s);
	vacancy__v1__record_change__init(&xf.chs[i]);
	xf.chs[i].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
	xf.chs[i].upsert = &xf.recs[i].r;
	xf.ch[i] = &xf.chs[i];
}

static void
xfer_withdraw(const struct site *s)
{
	size_t i = xf.q.n_changes++;

	vacancy__v1__record_change__init(&xf.chs[i]);
	vacancy__v1__withdrawal__init(&xf.wd[i]);
	xf.wd[i].external_id = (char *)s->ext;
	xf.wd[i].has_revision = 1;
	xf.wd[i].revision = s->rev;
	xf.chs[i].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW;
	xf.chs[i].withdraw = &xf.wd[i];
	xf.ch[i] = &xf.chs[i];
}

/*
 * Sends the transfer as its municipality and checks the answer's counts;
 * remembers where it is to be moved in time (at: an SQL expression). 0 or -1.
 */
static int
xfer_send(const char *at)
{
	size_t n = protobuf_c_message_get_packed_size(&xf.q.base);
	uint8_t *b = malloc(n + 1);
	Vacancy__V1__SyncResponse *s = NULL;
	struct http_resp r;
	int ok;

	if (xf.q.n_changes == 0) {
		free(b);
		return 0;
	}
	protobuf_c_message_pack(&xf.q.base, b);
	harness_http(&dmn, "POST", "/v1/sync", tok_muni[xf.m], "application/x-protobuf",
		     "application/x-protobuf", b, n, NULL, &r);
	free(b);
	if (r.status == 200)
		s = vacancy__v1__sync_response__unpack(NULL, r.len, (const uint8_t *)r.body);
	ok = s != NULL && s->created == xf.created && s->updated == xf.updated &&
	     s->unchanged == xf.unchanged && s->withdrawn == xf.withdrawn && s->stale == 0 &&
	     s->rejected == 0;
	if (!ok) {
		fprintf(stderr, "\n  sync %s: HTTP %ld", xf.id, r.status);
		if (s)
			fprintf(stderr,
				"; created %u/%u updated %u/%u unchanged %u/%u withdrawn %u/%u "
				"stale %u rejected %u (got/expected)",
				s->created, xf.created, s->updated, xf.updated, s->unchanged,
				xf.unchanged, s->withdrawn, xf.withdrawn, s->stale, s->rejected);
	}
	CU_ASSERT(ok);
	if (s)
		vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	if (nshifts < SHIFT_MAX) {
		shifts[nshifts].m = xf.m;
		snprintf(shifts[nshifts].id, sizeof(shifts[nshifts].id), "%s", xf.id);
		snprintf(shifts[nshifts].at, sizeof(shifts[nshifts].at), "%s", at);
		nshifts++;
	}
	return ok ? 0 : -1;
}

/* An instant back months before the current month's start in Berlin, plus
 * minutes (Berlin local time), as SQL. */
static void
at_month(char *out, size_t len, int back, int minutes)
{
	snprintf(out, len,
		 "(date_trunc('month', now() AT TIME ZONE 'Europe/Berlin') - interval '%d months' "
		 "+ interval '%d minutes') AT TIME ZONE 'Europe/Berlin'",
		 back, minutes);
}

/* ---- the suite ---- */

static long
sql_long(const char *sql)
{
	char *v = harness_sql_value(sql);
	long n = v ? atol(v) : -1;

	free(v);
	return n;
}

#define DAEMON_CONFIG                                                                              \
	"stale_after_days = 200\noverdue_after_days = 30\nmax_sync_records = 1000\n"               \
	"auth_cache_ttl_ms = 60000"

/* How many answers the daemon's in-memory models have given. */
static long
model_answers(void)
{
	return harness_metric(&dmn, "vacancyd_read_model_answers_total");
}

static int
suite_init(void)
{
	char *t;
	int y, m, d;

	if (harness_sql("TRUNCATE registry.record, registry.transfer, registry.feed, "
			"registry.sync_session_item, registry.personal_access_log CASCADE") == -1)
		return -1;
	if (harness_daemon_start(&dmn, DAEMON_CONFIG) == -1 ||
	    harness_daemon_wait_healthy(&dmn, 10000) == -1)
		return -1;
	for (int i = 0; i < NMUNI; i++)
		if ((tok_muni[i] = harness_token(&dmn, "municipality", munis[i].ags)) == NULL)
			return -1;
	tok_county = harness_token(&dmn, "county", COUNTY);
	tok_investor = harness_token(&dmn, "investor", "");
	admin = harness_pg(harness_env("VACANCY_TEST_PG_CONNINFO"));
	if (tok_county == NULL || tok_investor == NULL || PQstatus(admin) != CONNECTION_OK)
		return -1;
	t = harness_sql_value("SELECT (now() AT TIME ZONE 'Europe/Berlin')::date");
	if (t == NULL || sscanf(t, "%d-%d-%d", &y, &m, &d) != 3) {
		free(t);
		return -1;
	}
	free(t);
	today = days_from_civil(y, m, d);
	cur_y = y;
	cur_m = m;
	return 0;
}

static int
suite_clean(void)
{
	int rc = harness_daemon_stop(&dmn);

	for (int i = 0; i < NMUNI; i++)
		free(tok_muni[i]);
	free(tok_county);
	free(tok_investor);
	PQfinish(admin);
	printf("\n  overview: %lu requests, %lu rows, %lu figures compared\n", nrequests, nrows,
	       nfigures);
	return rc == 0 ? 0 : -1;
}

/* ---- loading the data ---- */

/* Round 0: each municipality's records in three transfers. */
static int
load_created(void)
{
	char at[256];
	int rc = 0;

	for (int m = 0; m < NMUNI; m++) {
		for (int part = 0; part < 3; part++) {
			char id[16];
			int k = 0;

			snprintf(id, sizeof(id), "ov-c%d", part);
			xfer_begin(m, id, 0);
			for (int i = 0; i < NSITES; i++) {
				if (sites[i].m != m || k++ % 3 != part)
					continue;
				xfer_upsert(&sites[i]);
				xf.created++;
			}
			/* 16-20 months back on the 5th; 15 back at 00:30 on the 1st
			 * (the previous month in UTC); 11 back on the 13th */
			if (part == 0)
				at_month(at, sizeof(at), 20 - m, 4 * 1440 + 600);
			else if (part == 1)
				at_month(at, sizeof(at), 15, 30);
			else
				at_month(at, sizeof(at), 11, 12 * 1440 + 17 * 60);
			rc |= xfer_send(at);
		}
	}
	return rc;
}

/* Round 1 (7 months back): status for 40 %, areas for 15 %, usages for 5 %. */
static int
load_round1(void)
{
	char at[256];
	int rc = 0;

	for (int m = 0; m < NMUNI; m++) {
		xfer_begin(m, "ov-r1", 0);
		for (int i = 0; i < NSITES; i++) {
			struct site *s = &sites[i];
			int changed = 0;

			if (s->m != m)
				continue;
			if (chance(40)) {
				s->status = rnd_status(s->status);
				changed = 1;
			}
			if (chance(15)) {
				/* a new area, or none any more */
				s->has_usable = !(s->has_usable && chance(30));
				s->usable = s->has_usable ? rnd_area() : 0;
				changed = 1;
			}
			if (chance(5)) {
				s->usage = rnd_usage(s->usage);
				changed = 1;
			}
			if (!changed)
				continue;
			s->rev += 1 + (uint64_t)rnd(3);
			xfer_upsert(s);
			xf.updated++;
		}
		/* Annaberg-Buchholz at 00:30 on the 1st, the others some days later */
		at_month(at, sizeof(at), 7, 30 + m * 3 * 1440);
		rc |= xfer_send(at);
	}
	return rc;
}

/* Round 2 (4 months back): status, vacant_since, verification, consent,
 * areas; about 6 % withdrawn. */
static int
load_round2(void)
{
	char at[256];
	int rc = 0;

	for (int m = 0; m < NMUNI; m++) {
		xfer_begin(m, "ov-r2", 0);
		for (int i = 0; i < NSITES; i++) {
			struct site *s = &sites[i];
			int changed = 0;

			if (s->m != m || s->withdrawn)
				continue;
			if (chance(6)) {
				s->rev++;
				s->withdrawn = 1;
				xfer_withdraw(s);
				xf.withdrawn++;
				continue;
			}
			if (chance(30)) {
				s->status = rnd_status(s->status);
				changed = 1;
			}
			if (chance(10)) {
				/* vacant_since removed, or added */
				if (s->vacant_since[0] != '\0') {
					s->vacant_since[0] = '\0';
					s->precision = 0;
				} else {
					rnd_vacant_since(s, i + 1);
				}
				changed = 1;
			}
			if (chance(20)) {
				char v[16];

				date_str(today - rnd(30), v);
				if (strcmp(v, s->verified) != 0) {
					memcpy(s->verified, v, sizeof(v));
					changed = 1;
				}
			}
			if (chance(10)) {
				int c;

				do
					c = 1 + rnd(5);
				while (c == s->consent);
				s->consent = c;
				changed = 1;
			}
			if (chance(10)) {
				s->has_usable = 1;
				s->usable = rnd_area();
				changed = 1;
			}
			if (!changed)
				continue;
			s->rev += 1 + (uint64_t)rnd(2);
			xfer_upsert(s);
			xf.updated++;
		}
		at_month(at, sizeof(at), 4, 10 * 1440 + 9 * 60 + 15 * m);
		rc |= xfer_send(at);
	}
	return rc;
}

/*
 * Round 3, each municipality's last transfer (relative to now): status for
 * 20 %, about 8 % withdrawn, up to two withdrawn records brought back. The
 * FULL municipality names all its live records but three, which it thereby
 * withdraws.
 */
static int
load_round3(void)
{
	char at[256];
	int rc = 0;

	for (int m = 0; m < NMUNI; m++) {
		int back = 0, omit[3], nomit = 0, live = 0;

		xfer_begin(m, "ov-r3", m == FULL_MUNI);
		if (m == FULL_MUNI) {
			for (int i = 0; i < NSITES; i++)
				live += sites[i].m == m && !sites[i].withdrawn;
			/* three distinct live records to omit */
			while (nomit < 3 && live >= 3) {
				int i = rnd(NSITES), dup = 0;

				if (sites[i].m != m || sites[i].withdrawn)
					continue;
				for (int k = 0; k < nomit; k++)
					dup |= omit[k] == i;
				if (!dup)
					omit[nomit++] = i;
			}
		}
		for (int i = 0; i < NSITES; i++) {
			struct site *s = &sites[i];
			int omitted = 0;

			if (s->m != m)
				continue;
			for (int k = 0; k < nomit; k++)
				omitted |= omit[k] == i;
			if (omitted) {
				s->withdrawn = 1;
				xf.withdrawn++;
				continue;
			}
			if (s->withdrawn) {
				if (back < 2) {
					back++;
					s->withdrawn = 0;
					s->status = rnd_status(s->status);
					s->rev += 1;
					xfer_upsert(s);
					xf.updated++;
				}
				continue;
			}
			if (m != FULL_MUNI && chance(8)) {
				s->rev++;
				s->withdrawn = 1;
				xfer_withdraw(s);
				xf.withdrawn++;
				continue;
			}
			if (chance(20)) {
				s->status = rnd_status(s->status);
				s->rev += 1;
				xfer_upsert(s);
				xf.updated++;
			} else if (m == FULL_MUNI) {
				xfer_upsert(s); /* the whole stock: unchanged */
				xf.unchanged++;
			}
		}
		snprintf(at, sizeof(at), "date_trunc('second', now()) - interval '%d hours'",
			 munis[m].last_hours);
		rc |= xfer_send(at);
	}
	return rc;
}

/* Moves every transfer to its instant: history, received_at, and the
 * record's withdrawn_at and updated_at where that transfer set them. */
static int
shift_transfers(void)
{
	size_t cap = 4096 + (size_t)nshifts * 400, len;
	char *sql = malloc(cap);
	int rc;

	len = (size_t)snprintf(sql, cap,
			       "BEGIN; CREATE TEMP TABLE ov_shift (ags char(8), tid text, at "
			       "timestamptz) ON COMMIT DROP; INSERT INTO ov_shift VALUES ");
	for (int i = 0; i < nshifts; i++)
		len += (size_t)snprintf(sql + len, cap - len, "%s('%s', '%s', %s)", i ? ", " : "",
					munis[shifts[i].m].ags, shifts[i].id, shifts[i].at);
	snprintf(
	    sql + len, cap - len,
	    "; UPDATE registry.record r SET withdrawn_at = s.at FROM ov_shift s "
	    "JOIN registry.transfer t ON t.municipality_ags = s.ags AND t.transfer_id = s.tid "
	    "WHERE r.municipality_ags = s.ags AND r.withdrawn_at = t.received_at; "
	    "UPDATE registry.record r SET updated_at = s.at FROM ov_shift s "
	    "JOIN registry.transfer t ON t.municipality_ags = s.ags AND t.transfer_id = s.tid "
	    "WHERE r.municipality_ags = s.ags AND r.updated_at = t.received_at; "
	    "UPDATE registry.history h SET changed_at = s.at FROM ov_shift s "
	    "WHERE h.municipality_ags = s.ags AND h.transfer_id = s.tid; "
	    "UPDATE registry.feed f SET at = s.at FROM ov_shift s JOIN registry.transfer t "
	    "ON t.municipality_ags = s.ags AND t.transfer_id = s.tid WHERE f.at = t.received_at; "
	    "UPDATE registry.transfer t SET received_at = s.at FROM ov_shift s "
	    "WHERE t.municipality_ags = s.ags AND t.transfer_id = s.tid; COMMIT");
	rc = harness_sql(sql);
	free(sql);
	return rc;
}

static void
test_load(void)
{
	const char *env = getenv("VACANCY_TEST_SEED");
	unsigned long seed = env && *env ? strtoul(env, NULL, 0) : SEED_DEFAULT;
	int rc = 0;

	rng_state = seed;
	printf("\n  overview: seed %lu (VACANCY_TEST_SEED=%lu reproduces it), today %ld\n", seed,
	       seed, today);
	for (int i = 0; i < NSITES; i++)
		site_init(&sites[i], i);
	rc |= load_created();
	rc |= load_round1();
	rc |= load_round2();
	rc |= load_round3();
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL_FATAL(shift_transfers(), 0);
	/* every transfer was moved, and each record's history still runs forward */
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM registry.history WHERE changed_at > now() - "
				 "interval '1 day'"),
			0);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM registry.transfer WHERE received_at > now() "
				 "- interval '1 day'"),
			0);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM (SELECT changed_at < lag(changed_at) OVER "
				 "(PARTITION BY record_id ORDER BY history_id) AS back FROM "
				 "registry.history) x WHERE back"),
			0);
	CU_ASSERT_EQUAL(sql_long("SELECT count(*) FROM registry.record WHERE withdrawn_at > now() "
				 "- interval '1 day'"),
			0);
	/* the data exercises what it should: all statuses live, withdrawals,
	 * records vacant since a status change after their creation */
	CU_ASSERT_EQUAL(sql_long("SELECT count(DISTINCT status) FROM registry.record WHERE "
				 "withdrawn_at IS NULL AND municipality_ags LIKE '14521%'"),
			7);
	CU_ASSERT(sql_long("SELECT count(*) FROM registry.record WHERE withdrawn_at IS NOT NULL") >
		  10);
	CU_ASSERT(sql_long("SELECT count(*) FROM registry.record r WHERE r.withdrawn_at IS NULL "
			   "AND r.vacant_since IS NULL AND r.status IN " VACANT_SQL
			   " AND (SELECT min(changed_at) FROM registry.history h WHERE h.record_id "
			   "= r.record_id AND h.field = 'status' AND h.new_value IN " VACANT_SQL
			   ") > (SELECT min(changed_at) FROM registry.history h WHERE h.record_id "
			   "= r.record_id)") > 0);
	printf("  overview: %ld records (%ld live), %ld history rows (%ld status changes), %ld "
	       "transfers\n",
	       sql_long("SELECT count(*) FROM registry.record"),
	       sql_long("SELECT count(*) FROM registry.record WHERE withdrawn_at IS NULL"),
	       sql_long("SELECT count(*) FROM registry.history"),
	       sql_long("SELECT count(*) FROM registry.history WHERE field = 'status' AND "
			"old_value IS NOT NULL"),
	       sql_long("SELECT count(*) FROM registry.transfer"));
	/* the history and the transfers were moved back in time with SQL,
	 * behind the change feed: a restarted daemon loads its overview model
	 * from the data as it now is (and so the tests below compare the
	 * model's figures with the SQL's) */
	CU_ASSERT_EQUAL_FATAL(harness_daemon_stop(&dmn), 0);
	CU_ASSERT_EQUAL_FATAL(harness_daemon_start(&dmn, DAEMON_CONFIG), 0);
	CU_ASSERT_EQUAL_FATAL(harness_daemon_wait_healthy(&dmn, 20000), 0);
	loaded = 1;
}

/* ---- comparing ---- */

static void
diff(const char *what, const char *key, const char *field, const char *expected, const char *got)
{
	if (diffs_left-- > 0)
		fprintf(stderr, "\n  %s [%s] %s: expected %s, got %s", what, key, field, expected,
			got);
	else if (diffs_left == -1)
		fprintf(stderr, "\n  %s: more differences not shown", what);
}

static void
cmp_count(const char *what, const char *key, const char *field, long expected, int has,
	  uint64_t got)
{
	/* an absent count reads as 0 */
	long g = has ? (long)got : 0;

	nfigures++;
	if (g != expected) {
		char e[32], v[32];

		snprintf(e, sizeof(e), "%ld", expected);
		snprintf(v, sizeof(v), has ? "%ld" : "%ld (absent)", g);
		diff(what, key, field, e, v);
	}
	CU_ASSERT_EQUAL(g, expected);
}

/* Sums of floating areas: equal within a relative 1e-9. */
static void
cmp_double(const char *what, const char *key, const char *field, double expected, int has,
	   double got, double abs_tol)
{
	double g = has ? got : 0;
	double tol = fmax(abs_tol, 1e-9 * fmax(fabs(expected), fabs(g)));
	int ok = fabs(g - expected) <= tol;

	nfigures++;
	if (!ok) {
		char e[48], v[48];

		snprintf(e, sizeof(e), "%.6f", expected);
		snprintf(v, sizeof(v), has ? "%.6f" : "%.6f (absent)", g);
		diff(what, key, field, e, v);
	}
	CU_ASSERT(ok);
}

/* A percentile as docs/overview.md defines it: d sorted, n > 0. */
static double
percentile(const long *d, size_t n, double f)
{
	double pos = f * (double)(n - 1);
	size_t i = (size_t)floor(pos);

	if (i + 1 >= n)
		return (double)d[n - 1];
	return (double)d[i] + (double)(d[i + 1] - d[i]) * (pos - (double)i);
}

static void
cmp_pct(const char *what, const char *key, const char *field, int exp_has, double expected, int has,
	double got)
{
	nfigures++;
	if (!exp_has || !has) {
		if (exp_has != has) {
			char e[48], v[48];

			snprintf(e, sizeof(e), exp_has ? "%.4f" : "absent", expected);
			snprintf(v, sizeof(v), has ? "%.4f" : "absent", got);
			diff(what, key, field, e, v);
		}
		CU_ASSERT_EQUAL(has, exp_has);
		return;
	}
	cmp_double(what, key, field, expected, 1, got, 1e-6);
	nfigures--;
}

/* Durations "{1,5,9}" (sorted by the SQL) into d; their number, -1 on a NULL. */
static long
parse_days(const char *s, long **d)
{
	size_t n = 0, cap = 16;
	char *end;

	*d = malloc(cap * sizeof(**d));
	if (*s++ != '{')
		return -1;
	while (*s && *s != '}') {
		if (n == cap)
			*d = realloc(*d, (cap *= 2) * sizeof(**d));
		(*d)[n++] = strtol(s, &end, 10);
		if (end == s)
			return -1; /* NULL: a vacant record without a vacancy start */
		s = *end == ',' ? end + 1 : end;
	}
	return (long)n;
}

/* The name of value v of an enum, or "?". */
static const char *
enum_name(const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value(d, v);

	return e ? e->name : "?";
}

/* The value of key k in a row, or NULL when the row does not carry it. */
static const char *
row_key(const Vacancy__V1__OverviewRow *r, const char *k)
{
	if (strcmp(k, "municipality") == 0)
		return r->municipality_ags;
	if (strcmp(k, "object_type") == 0)
		return r->has_object_type
			   ? enum_name(&vacancy__v1__object_type__value__descriptor, r->object_type)
			   : NULL;
	if (strcmp(k, "site_kind") == 0)
		return r->has_site_kind
			   ? enum_name(&vacancy__v1__site_kind__value__descriptor, r->site_kind)
			   : NULL;
	if (strcmp(k, "status") == 0)
		return r->has_status ? enum_name(&vacancy__v1__status__value__descriptor, r->status)
				     : NULL;
	return r->has_usage ? enum_name(&vacancy__v1__usage__value__descriptor, r->usage) : NULL;
}

/* The SQL expression of a key over the per-record relation b (and u). */
static const char *
key_sql(const char *k)
{
	if (strcmp(k, "usage") == 0)
		return "u.u::text";
	if (strcmp(k, "municipality") == 0)
		return "b.municipality";
	if (strcmp(k, "object_type") == 0)
		return "b.object_type";
	if (strcmp(k, "site_kind") == 0)
		return "b.site_kind";
	return "b.status";
}

/*
 * The expected rows of region and keys k[0..nk-1], straight from
 * docs/overview.md: records not withdrawn whose AGS starts with region;
 * record.md's publication rule; stale when today - last_verified_at >
 * stale_after_days; absent areas count 0; vacancy_start from vacant_since by
 * precision (MONTH: the 15th, YEAR: 1 July, else that day) or the first day
 * (Berlin) the history shows a vacant status; usage counts once per usage.
 * Columns: the keys, records, published, stale, usable, plot, and the sorted
 * durations of the vacant records (NULL when none).
 */
static PGresult *
expected_rows(const char *region, const char *const *k, int nk)
{
	char sql[4096], sel[128] = "", grp[128] = "", stale[16];
	const char *params[2] = {region, stale};
	int uses_usage = 0;

	for (int i = 0; i < nk; i++) {
		snprintf(sel + strlen(sel), sizeof(sel) - strlen(sel), "%s, ", key_sql(k[i]));
		snprintf(grp + strlen(grp), sizeof(grp) - strlen(grp), "%s%s", i ? ", " : "",
			 key_sql(k[i]));
		uses_usage |= strcmp(k[i], "usage") == 0;
	}
	snprintf(stale, sizeof(stale), "%d", STALE_DAYS);
	snprintf(
	    sql, sizeof(sql),
	    "WITH t AS (SELECT (now() AT TIME ZONE 'Europe/Berlin')::date AS today), "
	    "b AS (SELECT r.municipality_ags::text AS municipality, "
	    " r.object_type::text AS object_type, r.site_kind::text AS site_kind, "
	    " r.status::text AS status, r.usage, "
	    " i.publication = 'PUBLIC' AND r.status IN ('MARKETED', 'RESERVED') "
	    "  AND i.owner_consent <> 'OBJECTED' "
	    "  AND (i.owner_consent IN ('CONSENTED', 'NO_OBJECTION') "
	    "   OR coalesce(i.owner_category IN ('BUSINESS', 'PUBLIC', 'MUNICIPAL'), false)) "
	    "  AS published, "
	    " t.today - r.last_verified_at > $2::int AS stale, "
	    " coalesce(r.usable_area_m2, 0) AS ua, coalesce(r.plot_area_m2, 0) AS pa, "
	    " r.status IN " VACANT_SQL " AS vacant, "
	    " t.today - CASE "
	    "  WHEN r.vacant_since IS NULL THEN (SELECT (min(h.changed_at) AT TIME ZONE "
	    "   'Europe/Berlin')::date FROM registry.history h WHERE h.record_id = r.record_id "
	    "   AND h.field = 'status' AND h.new_value IN " VACANT_SQL ") "
	    "  WHEN r.vacant_since_precision = 'MONTH' THEN make_date(extract(year FROM "
	    "   r.vacant_since)::int, extract(month FROM r.vacant_since)::int, 15) "
	    "  WHEN r.vacant_since_precision = 'YEAR' THEN make_date(extract(year FROM "
	    "   r.vacant_since)::int, 7, 1) "
	    "  ELSE r.vacant_since END AS days "
	    " FROM registry.record r JOIN registry.record_internal i USING (record_id) CROSS JOIN "
	    "t "
	    " WHERE r.withdrawn_at IS NULL AND r.municipality_ags::text LIKE $1 || '%%') "
	    "SELECT %scount(*), count(*) FILTER (WHERE b.published), "
	    " count(*) FILTER (WHERE b.stale), sum(b.ua), sum(b.pa), "
	    " array_agg(b.days ORDER BY b.days) FILTER (WHERE b.vacant) "
	    "FROM b %s GROUP BY %s",
	    sel, uses_usage ? "CROSS JOIN LATERAL unnest(b.usage) AS u(u)" : "", grp);
	return PQexecParams(admin, sql, 2, NULL, params, NULL, NULL, 0);
}

/* 1 when the RFC 3339 text got is the instant of ags's last transfer. */
static int
is_last_transfer(const char *got, const char *ags)
{
	const char *params[2] = {got, ags};
	PGresult *res;
	int ok;

	if (got == NULL || strchr(got, 'T') == NULL)
		return 0;
	res = PQexecParams(admin,
			   "SELECT $1::timestamptz = max(received_at) FROM registry.transfer "
			   "WHERE municipality_ags = $2",
			   2, NULL, params, NULL, NULL, 0);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	     strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return ok;
}

struct expect {
	char key[96];
	long records, published, stale;
	double usable, plot;
	long ndays; /* vacant records */
	long *days;
	int seen;
};

/* GET path as token; the decoded Overview (200) or NULL. */
static Vacancy__V1__Overview *
get_overview(const char *token, const char *path, long *status)
{
	struct http_resp r;
	Vacancy__V1__Overview *o = NULL;

	harness_http(&dmn, "GET", path, token, "application/x-protobuf", NULL, NULL, 0, NULL, &r);
	nrequests++;
	*status = r.status;
	if (r.status == 200)
		o = vacancy__v1__overview__unpack(NULL, r.len, (const uint8_t *)r.body);
	else
		fprintf(stderr, "\n  GET %s: HTTP %ld %.200s", path, r.status, r.body);
	harness_resp_free(&r);
	return o;
}

/* One request of the overview compared with the SQL: every group on both
 * sides, every figure. */
static void
check_overview(const char *who, const char *token, const char *region, const char *path,
	       const char *const *k, int nk)
{
	char what[256];
	Vacancy__V1__Overview *o;
	PGresult *res;
	struct expect *ex;
	long status;
	int n;

	snprintf(what, sizeof(what), "GET %s (%s)", path, who);
	diffs_left = DIFFS_MAX;
	o = get_overview(token, path, &status);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_PTR_NOT_NULL(o);
	res = expected_rows(region, k, nk);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "\n  expected rows: %s", PQerrorMessage(admin));
		CU_FAIL("expected rows");
		PQclear(res);
		if (o)
			vacancy__v1__overview__free_unpacked(o, NULL);
		return;
	}
	n = PQntuples(res);
	ex = calloc((size_t)n + 1, sizeof(*ex));
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < nk; j++)
			snprintf(ex[i].key + strlen(ex[i].key),
				 sizeof(ex[i].key) - strlen(ex[i].key), "%s%s", j ? "|" : "",
				 PQgetvalue(res, i, j));
		ex[i].records = atol(PQgetvalue(res, i, nk));
		ex[i].published = atol(PQgetvalue(res, i, nk + 1));
		ex[i].stale = atol(PQgetvalue(res, i, nk + 2));
		ex[i].usable = strtod(PQgetvalue(res, i, nk + 3), NULL);
		ex[i].plot = strtod(PQgetvalue(res, i, nk + 4), NULL);
		ex[i].ndays = PQgetisnull(res, i, nk + 5)
				  ? 0
				  : parse_days(PQgetvalue(res, i, nk + 5), &ex[i].days);
		CU_ASSERT(ex[i].ndays >= 0); /* else the test's own data is wrong */
	}
	PQclear(res);
	CU_ASSERT(n > 0);
	for (size_t i = 0; o && i < o->n_rows; i++) {
		const Vacancy__V1__OverviewRow *row = o->rows[i];
		char key[96] = "";
		struct expect *e = NULL;
		int has_muni = 0;

		nrows++;
		for (int j = 0; j < nk; j++) {
			const char *v = row_key(row, k[j]);

			snprintf(key + strlen(key), sizeof(key) - strlen(key), "%s%s", j ? "|" : "",
				 v ? v : "(absent)");
			has_muni |= strcmp(k[j], "municipality") == 0;
		}
		/* the keys not grouped by are unset */
		for (int j = 0; j < NKEYS; j++) {
			int grouped = 0;

			for (int q = 0; q < nk; q++)
				grouped |= strcmp(k[q], keys[j]) == 0;
			if (!grouped && row_key(row, keys[j]) != NULL) {
				diff(what, key, keys[j], "unset", row_key(row, keys[j]));
				CU_FAIL("a key not grouped by is set");
			}
		}
		for (int j = 0; j < n; j++)
			if (strcmp(ex[j].key, key) == 0)
				e = &ex[j];
		if (e == NULL || e->seen) {
			diff(what, key, "row", e ? "once" : "no such group", e ? "again" : "a row");
			CU_FAIL("a row the SQL does not have, or a row twice");
			continue;
		}
		e->seen = 1;
		cmp_count(what, key, "records", e->records, row->has_records, row->records);
		cmp_count(what, key, "published", e->published, row->has_published, row->published);
		cmp_count(what, key, "stale", e->stale, row->has_stale, row->stale);
		cmp_double(what, key, "usable_area_m2", e->usable, row->has_usable_area_m2,
			   row->usable_area_m2, 1e-9);
		cmp_double(what, key, "plot_area_m2", e->plot, row->has_plot_area_m2,
			   row->plot_area_m2, 1e-9);
		cmp_pct(what, key, "median_vacancy_days", e->ndays > 0,
			e->ndays > 0 ? percentile(e->days, (size_t)e->ndays, 0.5) : 0,
			row->has_median_vacancy_days, row->median_vacancy_days);
		cmp_pct(what, key, "p90_vacancy_days", e->ndays > 0,
			e->ndays > 0 ? percentile(e->days, (size_t)e->ndays, 0.9) : 0,
			row->has_p90_vacancy_days, row->p90_vacancy_days);
		/* last_transfer_at: on rows grouped by municipality alone; where
		 * another grouping carries it, it must be right too */
		nfigures++;
		if (nk == 1 && has_muni) {
			int ok = is_last_transfer(row->last_transfer_at, row->municipality_ags);

			if (!ok)
				diff(what, key, "last_transfer_at", "max(transfer.received_at)",
				     row->last_transfer_at ? row->last_transfer_at : "absent");
			CU_ASSERT(ok);
		} else if (row->last_transfer_at != NULL) {
			int ok = has_muni &&
				 is_last_transfer(row->last_transfer_at, row->municipality_ags);

			if (!ok)
				diff(what, key, "last_transfer_at", "absent",
				     row->last_transfer_at);
			CU_ASSERT(ok);
		}
	}
	for (int j = 0; j < n; j++) {
		if (!ex[j].seen && o) {
			diff(what, ex[j].key, "row", "a row", "none");
			CU_FAIL("a group of the SQL is missing");
		}
		free(ex[j].days);
	}
	free(ex);
	if (o)
		vacancy__v1__overview__free_unpacked(o, NULL);
}

/* Every grouping (5 keys, 10 pairs) of region as token. */
static void
check_all_groupings(const char *who, const char *token, const char *region)
{
	char path[256];

	for (int a = 0; a < NKEYS; a++) {
		const char *k1[1] = {keys[a]};

		snprintf(path, sizeof(path), "/v1/overview?region=%s&group_by=%s", region, keys[a]);
		check_overview(who, token, region, path, k1, 1);
		for (int b = a + 1; b < NKEYS; b++) {
			const char *k2[2] = {keys[a], keys[b]};

			snprintf(path, sizeof(path), "/v1/overview?region=%s&group_by=%s,%s",
				 region, keys[a], keys[b]);
			check_overview(who, token, region, path, k2, 2);
		}
	}
}

static void
test_groupings(void)
{
	char who[64];
	long answers = model_answers();

	CU_ASSERT_FATAL(loaded);
	check_all_groupings("county", tok_county, COUNTY);
	/* a part of the county: Annaberg-Buchholz and Aue-Bad Schlema */
	check_all_groupings("county", tok_county, "145210");
	for (int m = 0; m < NMUNI; m++) {
		snprintf(who, sizeof(who), "municipality %s", munis[m].ags);
		check_all_groupings(who, tok_muni[m], munis[m].ags);
	}
	/* the pair in the other order: the same groups, keys in that order */
	{
		const char *k[2] = {"usage", "status"};

		check_overview("county", tok_county, COUNTY,
			       "/v1/overview?region=14521&group_by=usage,status", k, 2);
	}
	/* the figures came from the overview model, not from SQL */
	printf("  overview: %ld answers from the overview model\n", model_answers() - answers);
	CU_ASSERT(answers >= 0 && model_answers() - answers > 20);
}

/* Defaults: region is the caller's scope, group_by is municipality. */
static void
test_defaults(void)
{
	const char *k[1] = {"municipality"};
	const char *ks[1] = {"status"};

	CU_ASSERT_FATAL(loaded);
	check_overview("county", tok_county, COUNTY, "/v1/overview", k, 1);
	check_overview("county", tok_county, COUNTY, "/v1/overview?group_by=status", ks, 1);
	check_overview("county", tok_county, "14521390", "/v1/overview?region=14521390", k, 1);
	for (int m = 0; m < NMUNI; m++)
		check_overview("municipality", tok_muni[m], munis[m].ags, "/v1/overview", k, 1);
	/* and the same figures as JSON */
	{
		struct http_resp r;

		harness_http(&dmn, "GET", "/v1/overview?region=14521&group_by=status", tok_county,
			     "application/json", NULL, NULL, 0, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.content_type, "application/json"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"rows\""));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"MARKETED\""));
		harness_resp_free(&r);
	}
}

/* ---- the monthly series ---- */

/*
 * The series of region over the months from..to (YYYY-MM), replayed from
 * the field-level history at the end of each month (Berlin): the last
 * status, withdrawn_at and usable_area_m2 rows before the next month's
 * first instant, the area from the '(created)' row's fields when no
 * usable_area_m2 row came after it. Columns: month, vacant, usable area.
 */
static PGresult *
expected_series(const char *region, const char *from, const char *to)
{
	char f[16], t[16];
	const char *params[3] = {region, f, t};

	snprintf(f, sizeof(f), "%.7s-01", from);
	snprintf(t, sizeof(t), "%.7s-01", to);
	return PQexecParams(
	    admin,
	    "WITH ends AS (SELECT g::date AS m, ((g::date + interval '1 month')::timestamp "
	    "  AT TIME ZONE 'Europe/Berlin') AS e "
	    " FROM generate_series($2::date, $3::date, interval '1 month') AS g), "
	    "st AS (SELECT e.m, "
	    " (SELECT h.new_value FROM registry.history h WHERE h.record_id = r.record_id "
	    "  AND h.field = 'status' AND h.changed_at < e.e "
	    "  ORDER BY h.changed_at DESC, h.history_id DESC LIMIT 1) AS status, "
	    " (SELECT h.new_value IS NOT NULL FROM registry.history h "
	    "  WHERE h.record_id = r.record_id AND h.field = 'withdrawn_at' AND h.changed_at < e.e "
	    "  ORDER BY h.changed_at DESC, h.history_id DESC LIMIT 1) AS withdrawn, "
	    " (SELECT CASE WHEN h.field = '(created)' "
	    "   THEN (h.new_value::jsonb ->> 'usable_area_m2')::float8 "
	    "   ELSE h.new_value::float8 END FROM registry.history h "
	    "  WHERE h.record_id = r.record_id AND h.changed_at < e.e AND (h.field = "
	    "   'usable_area_m2' OR (h.field = '(created)' AND h.new_value IS NOT NULL)) "
	    "  ORDER BY h.changed_at DESC, h.history_id DESC LIMIT 1) AS area "
	    " FROM ends e CROSS JOIN registry.record r "
	    " WHERE r.municipality_ags::text LIKE $1 || '%') "
	    "SELECT to_char(m, 'YYYY-MM'), "
	    " count(*) FILTER (WHERE status IN " VACANT_SQL " AND withdrawn IS NOT TRUE), "
	    " coalesce(sum(coalesce(area, 0)) FILTER (WHERE status IN " VACANT_SQL
	    "  AND withdrawn IS NOT TRUE), 0) "
	    "FROM st GROUP BY m ORDER BY m",
	    3, NULL, params, NULL, NULL, 0);
}

/* path's series (from..to, n months) compared month by month. */
static void
check_series(const char *who, const char *token, const char *region, const char *path,
	     const char *from, const char *to, int n)
{
	char what[256];
	Vacancy__V1__Overview *o;
	PGresult *res;
	long status, sum = 0;

	snprintf(what, sizeof(what), "GET %s (%s)", path, who);
	diffs_left = DIFFS_MAX;
	o = get_overview(token, path, &status);
	CU_ASSERT_EQUAL(status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	res = expected_series(region, from, to);
	CU_ASSERT_EQUAL_FATAL(PQresultStatus(res), PGRES_TUPLES_OK);
	CU_ASSERT_EQUAL(PQntuples(res), n);
	if (o->n_series != (size_t)n) {
		char e[16], g[16];

		snprintf(e, sizeof(e), "%d", n);
		snprintf(g, sizeof(g), "%zu", o->n_series);
		diff(what, "-", "points", e, g);
	}
	CU_ASSERT_EQUAL(o->n_series, (size_t)n);
	for (int i = 0; i < PQntuples(res) && (size_t)i < o->n_series; i++) {
		const Vacancy__V1__SeriesPoint *p = o->series[i];
		const char *month = PQgetvalue(res, i, 0);

		nrows++;
		nfigures++;
		if (p->month == NULL || strcmp(p->month, month) != 0)
			diff(what, month, "month", month, p->month ? p->month : "absent");
		CU_ASSERT(p->month != NULL && strcmp(p->month, month) == 0);
		cmp_count(what, month, "vacant", atol(PQgetvalue(res, i, 1)), p->has_vacant,
			  p->vacant);
		cmp_double(what, month, "usable_area_m2", strtod(PQgetvalue(res, i, 2), NULL),
			   p->has_usable_area_m2, p->usable_area_m2, 1e-9);
		sum += atol(PQgetvalue(res, i, 1));
	}
	/* months before the first record: 0; then something */
	if (n >= 24)
		CU_ASSERT(sum > 0);
	PQclear(res);
	vacancy__v1__overview__free_unpacked(o, NULL);
}

static void
test_series(void)
{
	char from[16], to[16], path[256], who[64];

	CU_ASSERT_FATAL(loaded);
	/* 30 months back (before the first transfer) to the current month */
	month_str(30, from);
	month_str(0, to);
	snprintf(path, sizeof(path), "/v1/overview?region=%s&series=monthly&from=%s&to=%s", COUNTY,
		 from, to);
	check_series("county", tok_county, COUNTY, path, from, to, 31);
	for (int m = 0; m < NMUNI; m++) {
		snprintf(path, sizeof(path), "/v1/overview?region=%s&series=monthly&from=%s&to=%s",
			 munis[m].ags, from, to);
		snprintf(who, sizeof(who), "municipality %s", munis[m].ags);
		check_series(who, tok_muni[m], munis[m].ags, path, from, to, 31);
	}
	/* the default: the last 24 months up to the current one */
	month_str(23, from);
	check_series("county", tok_county, COUNTY, "/v1/overview?series=monthly", from, to, 24);
	check_series("county", tok_county, COUNTY, "/v1/overview?region=14521&series=monthly", from,
		     to, 24);
	/* a range within the past, and a single month */
	month_str(16, from);
	month_str(6, to);
	snprintf(path, sizeof(path), "/v1/overview?region=145210&series=monthly&from=%s&to=%s",
		 from, to);
	check_series("county", tok_county, "145210", path, from, to, 11);
	snprintf(path, sizeof(path), "/v1/overview?region=14521&series=monthly&from=%s&to=%s", to,
		 to);
	check_series("county", tok_county, COUNTY, path, to, to, 1);
	/* 240 months, the most allowed */
	month_str(239, from);
	month_str(0, to);
	snprintf(path, sizeof(path), "/v1/overview?region=14521&series=monthly&from=%s&to=%s", from,
		 to);
	check_series("county", tok_county, COUNTY, path, from, to, 240);
}

/* ---- municipalities ---- */

static void
check_municipalities(const char *region, int expect_n)
{
	char path[128], what[160], days[16];
	const char *params[2] = {region, days};
	struct http_resp r;
	Vacancy__V1__MunicipalityList *l = NULL;
	PGresult *res;
	int n, *seen;

	snprintf(path, sizeof(path), "/v1/municipalities?region=%s", region);
	snprintf(what, sizeof(what), "GET %s (county)", path);
	snprintf(days, sizeof(days), "%d", OVERDUE_DAYS);
	diffs_left = DIFFS_MAX;
	harness_http(&dmn, "GET", path, tok_county, "application/x-protobuf", NULL, NULL, 0, NULL,
		     &r);
	nrequests++;
	CU_ASSERT_EQUAL(r.status, 200);
	if (r.status == 200)
		l = vacancy__v1__municipality_list__unpack(NULL, r.len, (const uint8_t *)r.body);
	else
		fprintf(stderr, "\n  %s: HTTP %ld %.200s", what, r.status, r.body);
	harness_resp_free(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	/* every municipality of the region; records as in the overview; the
	 * last accepted transfer; overdue without one within 30 days */
	res = PQexecParams(admin,
			   "SELECT m.ags::text, m.name, "
			   " (SELECT count(*) FROM registry.record r WHERE r.municipality_ags = "
			   "  m.ags AND r.withdrawn_at IS NULL), "
			   " x.last IS NOT NULL, "
			   " x.last IS NULL OR x.last < now() - make_interval(days => $2::int) "
			   "FROM registry.municipality m CROSS JOIN LATERAL (SELECT "
			   " max(t.received_at) AS last FROM registry.transfer t "
			   " WHERE t.municipality_ags = m.ags) x "
			   "WHERE m.ags::text LIKE $1 || '%' ORDER BY m.ags",
			   2, NULL, params, NULL, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(PQresultStatus(res), PGRES_TUPLES_OK);
	n = PQntuples(res);
	CU_ASSERT_EQUAL(n, expect_n);
	CU_ASSERT_EQUAL(l->n_municipalities, (size_t)n);
	seen = calloc((size_t)n + 1, sizeof(*seen));
	for (size_t i = 0; i < l->n_municipalities; i++) {
		const Vacancy__V1__Municipality *mu = l->municipalities[i];
		const char *ags = mu->municipality_ags ? mu->municipality_ags : "(absent)";
		int j;

		nrows++;
		for (j = 0; j < n; j++)
			if (strcmp(PQgetvalue(res, j, 0), ags) == 0)
				break;
		if (j == n || seen[j]) {
			diff(what, ags, "row", j == n ? "no such municipality" : "once",
			     j == n ? "a row" : "again");
			CU_FAIL("a municipality not in the region, or twice");
			continue;
		}
		seen[j] = 1;
		nfigures += 4;
		if (mu->name == NULL || strcmp(mu->name, PQgetvalue(res, j, 1)) != 0)
			diff(what, ags, "name", PQgetvalue(res, j, 1),
			     mu->name ? mu->name : "absent");
		CU_ASSERT(mu->name != NULL && strcmp(mu->name, PQgetvalue(res, j, 1)) == 0);
		nfigures--;
		cmp_count(what, ags, "records", atol(PQgetvalue(res, j, 2)), mu->has_records,
			  mu->records);
		if (strcmp(PQgetvalue(res, j, 3), "t") == 0) {
			int ok = is_last_transfer(mu->last_transfer_at, ags);

			if (!ok)
				diff(what, ags, "last_transfer_at", "max(transfer.received_at)",
				     mu->last_transfer_at ? mu->last_transfer_at : "absent");
			CU_ASSERT(ok);
		} else {
			if (mu->last_transfer_at != NULL)
				diff(what, ags, "last_transfer_at", "absent (never a transfer)",
				     mu->last_transfer_at);
			CU_ASSERT_PTR_NULL(mu->last_transfer_at);
		}
		{
			int exp = strcmp(PQgetvalue(res, j, 4), "t") == 0;
			int got = mu->has_overdue && mu->overdue;

			if (exp != got)
				diff(what, ags, "overdue", exp ? "true" : "false",
				     got ? "true" : "false");
			CU_ASSERT_EQUAL(got, exp);
		}
	}
	for (int j = 0; j < n; j++)
		if (!seen[j]) {
			diff(what, PQgetvalue(res, j, 0), "row", "a row", "none");
			CU_FAIL("a municipality of the region is missing");
		}
	free(seen);
	PQclear(res);
	vacancy__v1__municipality_list__free_unpacked(l, NULL);
}

static void
test_municipalities(void)
{
	CU_ASSERT_FATAL(loaded);
	/* the test's own set-up: two of its municipalities are overdue, two not */
	CU_ASSERT_EQUAL(
	    sql_long("SELECT count(*) FROM (SELECT municipality_ags FROM "
		     "registry.transfer WHERE municipality_ags LIKE '14521%' GROUP BY 1 "
		     "HAVING max(received_at) < now() - interval '30 days') x"),
	    2);
	check_municipalities(COUNTY, 59);
	check_municipalities("145210", 7);
	check_municipalities("14521390", 1);
	check_municipalities("14521990", 0);
}

/* ---- roles and parameters ---- */

static void
expect_status(const char *token, const char *path, long status)
{
	struct http_resp r;

	harness_http(&dmn, "GET", path, token, "application/json", NULL, NULL, 0, NULL, &r);
	nrequests++;
	if (r.status != status)
		fprintf(stderr, "\n  GET %s: expected %ld, got %ld: %.200s", path, status, r.status,
			r.body);
	CU_ASSERT_EQUAL(r.status, status);
	if (status == 403)
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "PERMISSION_DENIED"));
	harness_resp_free(&r);
}

static void
test_roles(void)
{
	char path[128];

	CU_ASSERT_FATAL(loaded);
	/* a municipality: only its own AGS */
	expect_status(tok_muni[0], "/v1/overview?region=14521035", 403);
	expect_status(tok_muni[0], "/v1/overview?region=14521035&group_by=status", 403);
	expect_status(tok_muni[0], "/v1/overview?region=14521", 403);
	expect_status(tok_muni[0], "/v1/overview?region=1452102", 403);
	expect_status(tok_muni[0], "/v1/overview?region=14521035&series=monthly", 403);
	expect_status(tok_muni[1], "/v1/overview?region=14521020", 403);
	expect_status(tok_muni[OUTSIDE], "/v1/overview?region=14521", 403);
	expect_status(tok_muni[0], "/v1/overview?region=14521020", 200);
	/* the municipality list is the county's */
	expect_status(tok_muni[0], "/v1/municipalities?region=14521020", 403);
	expect_status(tok_muni[0], "/v1/municipalities", 403);
	/* investors: neither endpoint */
	expect_status(tok_investor, "/v1/overview", 403);
	expect_status(tok_investor, "/v1/overview?region=14521", 403);
	expect_status(tok_investor, "/v1/overview?region=14521020&group_by=status", 403);
	expect_status(tok_investor, "/v1/overview?region=14521&series=monthly", 403);
	expect_status(tok_investor, "/v1/municipalities?region=14521", 403);
	expect_status(tok_investor, "/v1/municipalities", 403);
	/* the county: only inside its scope */
	expect_status(tok_county, "/v1/overview?region=14522", 403);
	expect_status(tok_county, "/v1/overview?region=14522080", 403);
	expect_status(tok_county, "/v1/overview?region=14", 403);
	expect_status(tok_county, "/v1/overview?region=1452", 403);
	expect_status(tok_county, "/v1/municipalities?region=14522", 403);
	expect_status(tok_county, "/v1/municipalities?region=14", 403);
	snprintf(path, sizeof(path), "/v1/overview?region=%s", munis[OUTSIDE].ags);
	expect_status(tok_county, path, 403);
	/* nobody */
	expect_status(NULL, "/v1/overview?region=14521", 401);
	expect_status(NULL, "/v1/municipalities?region=14521", 401);
}

/* 1 when name occurs in s as a word of its own (not inside another). */
static int
names(const char *s, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = strstr(s, name); p; p = strstr(p + 1, name)) {
		int before = p == s || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
		int after = !(isalnum((unsigned char)p[n]) || p[n] == '_');

		if (before && after)
			return 1;
	}
	return 0;
}

/* GET path as the county: 400 INVALID_ARGUMENT naming one of the names
 * (a NULL-terminated list). */
static void
expect_400(const char *path, const char *name, const char *other)
{
	struct http_resp r;
	int named;

	harness_http(&dmn, "GET", path, tok_county, "application/json", NULL, NULL, 0, NULL, &r);
	nrequests++;
	named = names(r.body, name) || (other && names(r.body, other));
	if (r.status != 400 || !named)
		fprintf(stderr, "\n  GET %s: expected 400 naming %s%s%s, got %ld: %.300s", path,
			name, other ? " or " : "", other ? other : "", r.status, r.body);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "INVALID_ARGUMENT"));
	CU_ASSERT(named);
	harness_resp_free(&r);
}

/* Records of munis[0] in the county's overview by municipality, or -1. */
static long
county_records_of_first(void)
{
	struct http_resp r;
	Vacancy__V1__Overview *o;
	long n = -1;

	harness_http(&dmn, "GET", "/v1/overview?region=" COUNTY "&group_by=municipality",
		     tok_county, "application/x-protobuf", NULL, NULL, 0, NULL, &r);
	if (r.status == 200 &&
	    (o = vacancy__v1__overview__unpack(NULL, r.len, (const uint8_t *)r.body)) != NULL) {
		for (size_t i = 0; i < o->n_rows; i++)
			if (o->rows[i]->municipality_ags &&
			    strcmp(o->rows[i]->municipality_ags, munis[0].ags) == 0)
				n = (long)o->rows[i]->records;
		vacancy__v1__overview__free_unpacked(o, NULL);
	}
	harness_resp_free(&r);
	return n;
}

/* The overview model reuses a computed overview only while nothing
 * changed: a record synced in shows in the very next overview. */
static void
test_change_shows_at_once(void)
{
	struct site s;
	long before, after;

	CU_ASSERT_FATAL(loaded);
	before = county_records_of_first();
	CU_ASSERT(before > 0);
	CU_ASSERT_EQUAL(county_records_of_first(), before); /* now from the cache */
	site_init(&s, 0);
	s.m = 0;
	s.withdrawn = 0;
	s.rev = 1;
	snprintf(s.ext, sizeof(s.ext), "CACHE-1");
	xfer_begin(0, "cache", 0);
	xfer_upsert(&s);
	xf.created = 1;
	CU_ASSERT_EQUAL_FATAL(xfer_send("now()"), 0);
	after = county_records_of_first();
	CU_ASSERT_EQUAL(after, before + 1);
}

static void
test_bad_parameters(void)
{
	char path[256], from[16], to[16];

	CU_ASSERT_FATAL(loaded);
	expect_400("/v1/overview?region=14521&colour=red", "colour", NULL);
	expect_400("/v1/overview?colour=red", "colour", NULL);
	expect_400("/v1/overview?region=14521&group_by=colour", "group_by", NULL);
	expect_400("/v1/overview?region=14521&group_by=municipality,status,usage", "group_by",
		   NULL);
	expect_400("/v1/overview?region=14521&group_by=status,status", "group_by", NULL);
	expect_400("/v1/overview?region=14521&group_by=", "group_by", NULL);
	expect_400("/v1/overview?region=14521&group_by=status,", "group_by", NULL);
	expect_400("/v1/overview?region=14521&group_by=STATUS", "group_by", NULL);
	expect_400("/v1/overview?region=1452a", "region", NULL);
	expect_400("/v1/overview?region=1", "region", NULL);
	expect_400("/v1/overview?region=145210201", "region", NULL);
	expect_400("/v1/overview?region=17", "region", NULL);
	expect_400("/v1/overview?region=00521", "region", NULL);
	expect_400("/v1/overview?region=%2014521", "region", NULL);
	expect_400("/v1/overview?region=14521&series=weekly", "series", NULL);
	expect_400("/v1/overview?region=14521&series=monthly&from=2025-05&to=2025-04", "from",
		   "to");
	expect_400("/v1/overview?region=14521&series=monthly&from=2025-13&to=2026-01", "from",
		   NULL);
	expect_400("/v1/overview?region=14521&series=monthly&from=2025-00&to=2026-01", "from",
		   NULL);
	expect_400("/v1/overview?region=14521&series=monthly&from=2025-1&to=2026-01", "from", NULL);
	expect_400("/v1/overview?region=14521&series=monthly&from=2025-01&to=2026-1x", "to", NULL);
	expect_400("/v1/overview?region=14521&series=monthly&from=2025-01-01&to=2026-01", "from",
		   NULL);
	/* 241 months: one too many */
	month_str(240, from);
	month_str(0, to);
	snprintf(path, sizeof(path), "/v1/overview?region=14521&series=monthly&from=%s&to=%s", from,
		 to);
	expect_400(path, "from", "to");
	expect_400("/v1/overview?region=14521&series=monthly&from=1990-01&to=2030-12", "from",
		   "to");
	expect_400("/v1/municipalities?region=14521&group_by=status", "group_by", NULL);
	expect_400("/v1/municipalities?region=14x21", "region", NULL);
	expect_400("/v1/municipalities?region=1", "region", NULL);
	/* nothing of it changed anything: the figures still agree */
	{
		const char *k[1] = {"status"};

		check_overview("county", tok_county, COUNTY,
			       "/v1/overview?region=14521&group_by=status", k, 1);
	}
}

void test_overview_register(void);
void
test_overview_register(void)
{
	CU_pSuite s = CU_add_suite("overview", suite_init, suite_clean);

	CU_add_test(s, "random records with random histories go in through sync", test_load);
	CU_add_test(s, "every figure of every grouping equals the SQL", test_groupings);
	CU_add_test(s, "defaults: the caller's scope, grouped by municipality", test_defaults);
	CU_add_test(s, "monthly series replayed from the history", test_series);
	CU_add_test(s, "municipalities: records, last transfer, overdue", test_municipalities);
	CU_add_test(s, "roles and scopes", test_roles);
	CU_add_test(s, "bad parameters: 400 naming the parameter", test_bad_parameters);
	CU_add_test(s, "a change shows in the next overview", test_change_shows_at_once);
}
