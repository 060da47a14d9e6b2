/*
 * test_report: "vacancy report" (clients/report.c) without a network: the
 * checks of its options, the request path, timestamps in UTC, the bars, and
 * the three outputs printed into a memstream from fixed messages and compared
 * with the exact expected text (alignment, thousands separators, absent
 * values, totals, CSV quoting, overdue marker and footer).
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../clients/report.h"

void test_report_register(void);

#define FULL  "\u2588"
#define DASH  "\u2013"
#define ERRSZ 256

/* A memstream and what it holds after close. */
struct capture {
	FILE *f;
	char *text;
	size_t len;
};

static FILE *
capture_open(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->text, &c->len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->f);
	return c->f;
}

/* Closes the stream; the text stays in c->text (owned, free it). */
static const char *
capture_close(struct capture *c)
{
	fclose(c->f);
	return c->text ? c->text : "";
}

/* Compares got with want and shows both on a mismatch. */
static void
check_text(const char *got, const char *want)
{
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "\n--- got:\n%s--- want:\n%s---\n", got, want);
		CU_FAIL("output differs");
	}
}

/* s repeated n times (owned by the caller). */
static char *
repeat(const char *s, size_t n)
{
	size_t len = strlen(s);
	char *out = malloc(len * n + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * len, s, len);
	out[len * n] = '\0';
	return out;
}

/* The bar report_bar draws for v out of max. */
static char *
bar(uint64_t v, uint64_t max, int ascii)
{
	struct buf b;
	char *s;

	buf_init(&b, 0);
	report_bar(&b, v, max, ascii);
	CU_ASSERT_FALSE(buf_failed(&b));
	s = strdup(b.data ? b.data : "");
	buf_free(&b);
	return s;
}

static time_t
utc(int y, int mon, int d, int h, int min, int s)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = min;
	tm.tm_sec = s;
	return timegm(&tm);
}

static void
test_region(void)
{
	char err[ERRSZ];
	const char *good[] = {"14", "145", "14521", "14521020", "01", "16"};
	const char *bad[] = {"", "1", "145210201", "1452a", "14 521", "00", "17", "99", "-14"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CU_ASSERT_EQUAL(report_check_region(good[i], err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(report_check_region(bad[i], err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "--region"));
	}
	CU_ASSERT_EQUAL(report_check_region("99", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "01 to 16"));
	/* text from the command line is escaped in the reason */
	CU_ASSERT_EQUAL(report_check_region("1\033[2J", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(strchr(err, '\033'));
}

static void
test_group_by(void)
{
	const char *keys[REPORT_MAX_GROUP];
	char err[ERRSZ];
	int n = -1;
	const char *bad[] = {
	    "",
	    ",",
	    "status,",
	    ",status",
	    "foo",
	    "Status",
	    "status,status",
	    "a,b",
	    "status, usage",
	    "municipality,status,usage",
	    "status;usage",
	};

	CU_ASSERT_EQUAL(report_parse_group_by("municipality", keys, &n, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(keys[0], "municipality");
	CU_ASSERT_EQUAL(report_parse_group_by("usage,object_type", keys, &n, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_STRING_EQUAL(keys[0], "usage");
	CU_ASSERT_STRING_EQUAL(keys[1], "object_type");
	CU_ASSERT_EQUAL(report_parse_group_by("site_kind,status", keys, &n, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(n, 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(report_parse_group_by(bad[i], keys, &n, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "--group-by"));
	}
	CU_ASSERT_EQUAL(report_parse_group_by("status,status", keys, &n, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "twice"));
	CU_ASSERT_EQUAL(
	    report_parse_group_by("municipality,status,usage", keys, &n, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "at most 2"));
	CU_ASSERT_EQUAL(report_parse_group_by("stats", keys, &n, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'stats' is not one of"));
}

static void
test_months(void)
{
	const char *bad[] = {"",      "2025",	 "2025-1",   "2025-00",	 "2025-13",
			     "25-01", "2025/01", "2025-011", "2025-01 ", "2025-1a"};
	char out[8];
	long m = -1;

	CU_ASSERT_EQUAL(report_parse_month("2025-01", &m), 0);
	CU_ASSERT_EQUAL(m, 2025L * 12);
	CU_ASSERT_EQUAL(report_parse_month("2025-12", &m), 0);
	CU_ASSERT_EQUAL(m, 2025L * 12 + 11);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(report_parse_month(bad[i], &m), -1);
	report_format_month(2025L * 12 + 11, out);
	CU_ASSERT_STRING_EQUAL(out, "2025-12");
	report_format_month(2026L * 12, out);
	CU_ASSERT_STRING_EQUAL(out, "2026-01");
	report_format_month(7L * 12 + 2, out);
	CU_ASSERT_STRING_EQUAL(out, "0007-03");
}

/* Europe/Berlin: CET in winter, CEST from the last Sunday of March to that of October. */
static void
test_berlin_month(void)
{
	/* winter, UTC+1 */
	CU_ASSERT_EQUAL(report_berlin_month(utc(2026, 1, 31, 22, 59, 59)), 2026L * 12 + 0);
	CU_ASSERT_EQUAL(report_berlin_month(utc(2026, 1, 31, 23, 0, 0)), 2026L * 12 + 1);
	CU_ASSERT_EQUAL(report_berlin_month(utc(2025, 12, 31, 23, 0, 0)), 2026L * 12 + 0);
	CU_ASSERT_EQUAL(report_berlin_month(utc(2025, 12, 31, 22, 59, 59)), 2025L * 12 + 11);
	/* summer, UTC+2 (2026: 29 March to 25 October) */
	CU_ASSERT_EQUAL(report_berlin_month(utc(2026, 3, 31, 21, 59, 59)), 2026L * 12 + 2);
	CU_ASSERT_EQUAL(report_berlin_month(utc(2026, 3, 31, 22, 0, 0)), 2026L * 12 + 3);
	CU_ASSERT_EQUAL(report_berlin_month(utc(2026, 6, 30, 22, 0, 0)), 2026L * 12 + 6);
	CU_ASSERT_EQUAL(report_berlin_month(utc(2026, 9, 30, 21, 59, 59)), 2026L * 12 + 8);
	CU_ASSERT_EQUAL(report_berlin_month(utc(2026, 9, 30, 22, 0, 0)), 2026L * 12 + 9);
	/* after the last Sunday of October the offset is one hour again */
	CU_ASSERT_EQUAL(report_berlin_month(utc(2026, 10, 31, 22, 0, 0)), 2026L * 12 + 9);
	CU_ASSERT_EQUAL(report_berlin_month(utc(2026, 10, 31, 23, 0, 0)), 2026L * 12 + 10);
	/* a year whose March ends on a Sunday: 2024-03-31 is the change itself */
	CU_ASSERT_EQUAL(report_berlin_month(utc(2024, 3, 31, 21, 59, 59)), 2024L * 12 + 2);
	CU_ASSERT_EQUAL(report_berlin_month(utc(2024, 3, 31, 22, 0, 0)), 2024L * 12 + 3);
}

static void
test_check(void)
{
	const time_t now = utc(2026, 11, 21, 23, 48, 0); /* 00:48 on 22 November in Berlin */
	struct report_options o;
	struct report_query q;
	char err[ERRSZ];

	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(report_check(&o, now, &q, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(q.mode, REPORT_OVERVIEW);
	CU_ASSERT_EQUAL(q.format, REPORT_TABLE);
	CU_ASSERT_EQUAL(q.n_group, 1);
	CU_ASSERT_STRING_EQUAL(q.group[0], "municipality");
	CU_ASSERT_PTR_NULL(q.region);

	o.region = "14521";
	o.group_by = "status,usage";
	o.csv = 1;
	CU_ASSERT_EQUAL(report_check(&o, now, &q, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(q.format, REPORT_CSV);
	CU_ASSERT_EQUAL(q.n_group, 2);
	CU_ASSERT_STRING_EQUAL(q.region, "14521");

	/* options that do not go together */
	struct {
		struct report_options o;
		const char *reason;
	} bad[] = {
	    {{.csv = 1, .json = 1}, "exclude each other"},
	    {{.municipalities = 1, .series = 1}, "exclude each other"},
	    {{.municipalities = 1, .group_by = "status"}, "--group-by does not go"},
	    {{.series = 1, .group_by = "status"}, "--group-by does not go"},
	    {{.from = "2025-01"}, "--from needs --series"},
	    {{.municipalities = 1, .to = "2025-01"}, "--to needs --series"},
	    {{.ascii = 1}, "--ascii"},
	    {{.region = "1"}, "--region"},
	    {{.group_by = "town"}, "--group-by"},
	    {{.series = 1, .from = "2025-13"}, "--from wants a month"},
	    {{.series = 1, .to = "12/2025"}, "--to wants a month"},
	    {{.series = 1, .from = "2025-06", .to = "2025-05"}, "--from 2025-06 is after --to"},
	    {{.series = 1, .from = "2027-01"}, "after the current month 2026-11"},
	    {{.series = 1, .from = "2006-01", .to = "2026-01"}, "241 months"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(report_check(&bad[i].o, now, &q, err, sizeof(err)), -1);
		if (strstr(err, bad[i].reason) == NULL) {
			fprintf(stderr, "\ncase %zu: '%s' lacks '%s'\n", i, err, bad[i].reason);
			CU_FAIL("reason");
		}
	}

	/* the series: neither end is the registry's default, one end fills the other */
	memset(&o, 0, sizeof(o));
	o.series = 1;
	CU_ASSERT_EQUAL(report_check(&o, now, &q, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(q.mode, REPORT_SERIES);
	CU_ASSERT_EQUAL(q.n_group, 0);
	CU_ASSERT_STRING_EQUAL(q.from, "");
	CU_ASSERT_STRING_EQUAL(q.to, "");
	o.to = "2025-12";
	CU_ASSERT_EQUAL(report_check(&o, now, &q, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(q.from, "2024-01");
	CU_ASSERT_STRING_EQUAL(q.to, "2025-12");
	o.to = NULL;
	o.from = "2026-02";
	CU_ASSERT_EQUAL(report_check(&o, now, &q, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(q.from, "2026-02");
	CU_ASSERT_STRING_EQUAL(q.to, "2026-11");
	o.from = "2006-02";
	o.to = "2026-01";
	CU_ASSERT_EQUAL(report_check(&o, now, &q, err, sizeof(err)), 0); /* exactly 240 */
	o.from = o.to = "2026-01";
	CU_ASSERT_EQUAL(report_check(&o, now, &q, err, sizeof(err)), 0);
	o.ascii = 1;
	o.csv = 1;
	CU_ASSERT_EQUAL(report_check(&o, now, &q, err, sizeof(err)), 0);
	CU_ASSERT(q.ascii);

	memset(&o, 0, sizeof(o));
	o.municipalities = 1;
	o.json = 1;
	CU_ASSERT_EQUAL(report_check(&o, now, &q, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(q.mode, REPORT_MUNICIPALITIES);
	CU_ASSERT(q.json);
}

/* The path report_path makes of options (checked first). */
static char *
path_of(const struct report_options *o)
{
	struct report_query q;
	char err[ERRSZ];

	CU_ASSERT_EQUAL_FATAL(report_check(o, utc(2026, 11, 21, 12, 0, 0), &q, err, sizeof(err)),
			      0);
	return report_path(&q);
}

static void
test_path(void)
{
	struct report_options o = {0};
	struct report_query q = {0};
	char *p;

	p = path_of(&o);
	CU_ASSERT_STRING_EQUAL(p, "/v1/overview?group_by=municipality");
	free(p);
	o.region = "14521";
	o.group_by = "municipality,status";
	p = path_of(&o);
	CU_ASSERT_STRING_EQUAL(p, "/v1/overview?region=14521&group_by=municipality,status");
	free(p);

	memset(&o, 0, sizeof(o));
	o.municipalities = 1;
	p = path_of(&o);
	CU_ASSERT_STRING_EQUAL(p, "/v1/municipalities");
	free(p);
	o.region = "14521020";
	p = path_of(&o);
	CU_ASSERT_STRING_EQUAL(p, "/v1/municipalities?region=14521020");
	free(p);

	memset(&o, 0, sizeof(o));
	o.series = 1;
	p = path_of(&o);
	CU_ASSERT_STRING_EQUAL(p, "/v1/overview?series=monthly");
	free(p);
	o.region = "14";
	o.from = "2025-01";
	o.to = "2025-12";
	p = path_of(&o);
	CU_ASSERT_STRING_EQUAL(p, "/v1/overview?region=14&series=monthly&from=2025-01&to=2025-12");
	free(p);

	/* values are percent-encoded even where the checks would have stopped them */
	q.mode = REPORT_MUNICIPALITIES;
	q.region = "14 5&x=1";
	p = report_path(&q);
	CU_ASSERT_STRING_EQUAL(p, "/v1/municipalities?region=14%205%26x%3D1");
	free(p);
}

static void
test_time(void)
{
	char out[17];
	const char *bad[] = {
	    "",
	    "2026-03-01",
	    "2026-03-01T12:34Z",
	    "2026-03-01T12:34:56",
	    "2026-03-01T12:34:56+0100",
	    "2026-03-01T12:34:56.Z",
	    "2026-03-01T12:34:56Zjunk",
	    "garbage",
	    "2026-03-01T12:34:56+24:00",
	};

	CU_ASSERT_EQUAL(report_format_time("2026-03-01T12:34:56.123456Z", out), 0);
	CU_ASSERT_STRING_EQUAL(out, "2026-03-01 12:34");
	CU_ASSERT_EQUAL(report_format_time("2026-03-01T00:30:00+01:00", out), 0);
	CU_ASSERT_STRING_EQUAL(out, "2026-02-28 23:30");
	CU_ASSERT_EQUAL(report_format_time("2026-12-31T23:30:59-01:00", out), 0);
	CU_ASSERT_STRING_EQUAL(out, "2027-01-01 00:30");
	CU_ASSERT_EQUAL(report_format_time("2024-02-29t08:00:00z", out), 0);
	CU_ASSERT_STRING_EQUAL(out, "2024-02-29 08:00");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(report_format_time(bad[i], out), -1);
}

static void
test_bar(void)
{
	char *got, *want;

	/* the largest value fills the width; zero and an all-zero series draw nothing */
	got = bar(8, 8, 0), want = repeat(FULL, REPORT_BAR_WIDTH);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got), free(want);
	got = bar(0, 8, 0);
	CU_ASSERT_STRING_EQUAL(got, "");
	free(got);
	got = bar(0, 0, 0);
	CU_ASSERT_STRING_EQUAL(got, "");
	free(got);
	/* half: 20 full blocks, no partial */
	got = bar(4, 8, 0), want = repeat(FULL, 20);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got), free(want);
	/* a third: 106.7 eighths -> 107 = 13 full blocks and three eighths */
	got = bar(1, 3, 0), want = repeat(FULL, 13);
	CU_ASSERT_EQUAL(strncmp(got, want, strlen(want)), 0);
	CU_ASSERT_STRING_EQUAL(got + strlen(want), "\u258d");
	free(got), free(want);
	/* 7/320 of the width -> seven eighths, no full block */
	got = bar(7, 320, 0);
	CU_ASSERT_STRING_EQUAL(got, "\u2589");
	free(got);
	/* 1/640 rounds to zero eighths but is above zero: the thinnest block */
	got = bar(1, 1000, 0);
	CU_ASSERT_STRING_EQUAL(got, "\u258f");
	free(got);
	/* one eighth below full: 39 blocks and seven eighths */
	got = bar(319, 320, 0), want = repeat(FULL, 39);
	CU_ASSERT_EQUAL(strncmp(got, want, strlen(want)), 0);
	CU_ASSERT_STRING_EQUAL(got + strlen(want), "\u2589");
	free(got), free(want);
	/* counts too large for plain arithmetic still scale */
	got = bar(UINT64_MAX / 2, UINT64_MAX, 0), want = repeat(FULL, 20);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got), free(want);

	/* ASCII: whole columns */
	got = bar(8, 8, 1), want = repeat("#", REPORT_BAR_WIDTH);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got), free(want);
	got = bar(1, 3, 1), want = repeat("#", 13);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got), free(want);
	got = bar(5, 8, 1), want = repeat("#", 25);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got), free(want);
	got = bar(1, 80, 1); /* half a column rounds up */
	CU_ASSERT_STRING_EQUAL(got, "#");
	free(got);
	got = bar(1, 1000, 1);
	CU_ASSERT_STRING_EQUAL(got, "#");
	free(got);
	got = bar(0, 1000, 1);
	CU_ASSERT_STRING_EQUAL(got, "");
	free(got);
}

/* Two municipalities: one with every figure, one with most absent. */
static void
fill_overview(Vacancy__V1__Overview *ov, Vacancy__V1__OverviewRow *r, Vacancy__V1__OverviewRow **rp)
{
	vacancy__v1__overview__init(ov);
	vacancy__v1__overview_row__init(&r[0]);
	vacancy__v1__overview_row__init(&r[1]);
	r[0].municipality_ags = "14521020";
	r[0].has_records = 1, r[0].records = 1234;
	r[0].has_published = 1, r[0].published = 10;
	r[0].has_stale = 1, r[0].stale = 3;
	r[0].has_usable_area_m2 = 1, r[0].usable_area_m2 = 12345.6;
	r[0].has_plot_area_m2 = 1, r[0].plot_area_m2 = 1500000.49;
	r[0].has_median_vacancy_days = 1, r[0].median_vacancy_days = 400.26;
	r[0].has_p90_vacancy_days = 1, r[0].p90_vacancy_days = 812.96;
	r[0].last_transfer_at = "2026-03-01T12:34:56.123456Z";
	r[1].municipality_ags = "14521035";
	r[1].has_records = 1, r[1].records = 7;
	r[1].has_published = 1, r[1].published = 0;
	r[1].has_plot_area_m2 = 1, r[1].plot_area_m2 = 0.5; /* half away from zero: 1 */
	rp[0] = &r[0];
	rp[1] = &r[1];
	ov->rows = rp;
	ov->n_rows = 2;
}

static void
test_overview_table(void)
{
	static const char *const by_ags[] = {"municipality"};
	Vacancy__V1__Overview ov;
	Vacancy__V1__OverviewRow r[2], *rp[2];
	struct capture c;
	char *rule = repeat("-", 101), *want;
	size_t n;

	fill_overview(&ov, r, rp);
	/* widths: 8 AGS, 7, 9, 5, 9, 9, 11, 8, 19; two spaces between */
	const char *head = "AGS     "
			   "  "
			   "records"
			   "  "
			   "published"
			   "  "
			   "stale"
			   "  "
			   "usable m\u00b2"
			   "  "
			   "  plot m\u00b2"
			   "  "
			   "median days"
			   "  "
			   "p90 days"
			   "  "
			   "last transfer (UTC)\n";
	const char *row1 = "14521020"
			   "  "
			   "  1,234"
			   "  "
			   "       10"
			   "  "
			   "    3"
			   "  "
			   "   12,346"
			   "  "
			   "1,500,000"
			   "  "
			   "      400.3"
			   "  "
			   "   813.0"
			   "  "
			   "2026-03-01 12:34\n";
	const char *row2 = "14521035"
			   "  "
			   "      7"
			   "  "
			   "        0"
			   "  "
			   "    " DASH "  "
			   "        " DASH "  "
			   "        1"
			   "  "
			   "          " DASH "  "
			   "       " DASH "  " DASH "\n";
	const char *total = "total   "
			    "  "
			    "  1,241"
			    "  "
			    "       10"
			    "  "
			    "    3"
			    "  "
			    "   12,346"
			    "  "
			    "1,500,001"
			    "  "
			    "          " DASH "  "
			    "       " DASH "  " DASH "\n";

	n = strlen(head) + strlen(row1) + strlen(row2) + strlen(rule) + 1 + strlen(total) + 1;
	want = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	snprintf(want, n, "%s%s%s%s\n%s", head, row1, row2, rule, total);
	CU_ASSERT_EQUAL(report_print_overview(&ov, by_ags, 1, REPORT_TABLE, capture_open(&c)), 0);
	check_text(capture_close(&c), want);
	free(c.text);
	free(want);
	free(rule);
}

static void
test_overview_keys(void)
{
	static const char *const by[] = {"status", "usage"};
	Vacancy__V1__Overview ov;
	Vacancy__V1__OverviewRow r[2], *rp[2];
	struct capture c;
	const char *text;

	vacancy__v1__overview__init(&ov);
	vacancy__v1__overview_row__init(&r[0]);
	vacancy__v1__overview_row__init(&r[1]);
	r[0].has_status = 1, r[0].status = VACANCY__V1__STATUS__VALUE__MARKETED;
	r[0].has_usage = 1, r[0].usage = VACANCY__V1__USAGE__VALUE__RESIDENTIAL;
	r[0].has_records = 1, r[0].records = 1234;
	r[0].has_published = 1, r[0].published = 10;
	r[0].has_usable_area_m2 = 1, r[0].usable_area_m2 = 12345.6;
	r[0].has_plot_area_m2 = 1, r[0].plot_area_m2 = 0.1;
	r[0].has_median_vacancy_days = 1, r[0].median_vacancy_days = 400.25;
	r[0].last_transfer_at = "2026-03-01T12:34:56Z"; /* not grouped by municipality: unused */
	r[1].has_usage = 1, r[1].usage = VACANCY__V1__USAGE__VALUE__COMMERCIAL;
	r[1].has_records = 1, r[1].records = 2;
	rp[0] = &r[0], rp[1] = &r[1];
	ov.rows = rp;
	ov.n_rows = 2;

	/* table: enum names, absent key, totals over usages flagged */
	CU_ASSERT_EQUAL(report_print_overview(&ov, by, 2, REPORT_TABLE, capture_open(&c)), 0);
	text = capture_close(&c);
	CU_ASSERT_EQUAL(strncmp(text, "status    usage        records  published  stale", 48), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text,
				      "\nMARKETED  RESIDENTIAL    1,234         10      " DASH
				      "     12,346        0        400.2         " DASH "\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n" DASH "         COMMERCIAL         2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\ntotal*                   1,236         10      0"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, "\n* a record with several usages counts once in each of them\n"));
	CU_ASSERT_PTR_NULL(strstr(text, "last transfer"));
	free(c.text);

	/* CSV: proto field names, values as sent, absent empty, no totals */
	CU_ASSERT_EQUAL(report_print_overview(&ov, by, 2, REPORT_CSV, capture_open(&c)), 0);
	check_text(capture_close(&c),
		   "status,usage,records,published,stale,usable_area_m2,plot_area_m2,"
		   "median_vacancy_days,p90_vacancy_days\r\n"
		   "MARKETED,RESIDENTIAL,1234,10,,12345.6,0.1,400.25,\r\n"
		   ",COMMERCIAL,2,,,,,,\r\n");
	free(c.text);

	/* an unknown key is refused rather than printed wrongly */
	static const char *const unknown[] = {"town"};
	CU_ASSERT_EQUAL(report_print_overview(&ov, unknown, 1, REPORT_TABLE, capture_open(&c)), -1);
	capture_close(&c);
	free(c.text);
}

static void
test_overview_csv(void)
{
	static const char *const by_ags[] = {"municipality"};
	Vacancy__V1__Overview ov;
	Vacancy__V1__OverviewRow r[2], *rp[2];
	struct capture c;

	fill_overview(&ov, r, rp);
	r[1].municipality_ags = "1452,\"x\""; /* hostile text is quoted, never breaks a row */
	CU_ASSERT_EQUAL(report_print_overview(&ov, by_ags, 1, REPORT_CSV, capture_open(&c)), 0);
	check_text(capture_close(&c),
		   "municipality_ags,records,published,stale,usable_area_m2,plot_area_m2,"
		   "median_vacancy_days,p90_vacancy_days,last_transfer_at\r\n"
		   "14521020,1234,10,3,12345.6,1500000.49,400.26,812.96,"
		   "2026-03-01T12:34:56.123456Z\r\n"
		   "\"1452,\"\"x\"\"\",7,0,,,0.5,,,\r\n");
	free(c.text);
}

static void
test_overview_empty(void)
{
	static const char *const by_ags[] = {"municipality"};
	Vacancy__V1__Overview ov;
	struct capture c;
	const char *text;

	vacancy__v1__overview__init(&ov);
	CU_ASSERT_EQUAL(report_print_overview(&ov, by_ags, 1, REPORT_TABLE, capture_open(&c)), 0);
	text = capture_close(&c);
	CU_ASSERT_EQUAL(strncmp(text, "AGS    records", 14), 0);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(text, "\ntotal        0          0      0          0        0"));
	free(c.text);
	CU_ASSERT_EQUAL(report_print_overview(&ov, by_ags, 1, REPORT_CSV, capture_open(&c)), 0);
	check_text(capture_close(&c), "municipality_ags,records,published,stale,usable_area_m2,"
				      "plot_area_m2,median_vacancy_days,p90_vacancy_days,"
				      "last_transfer_at\r\n");
	free(c.text);
}

/* Three municipalities: up to date, overdue without a transfer, hostile name. */
static void
fill_municipalities(Vacancy__V1__MunicipalityList *ml, Vacancy__V1__Municipality *m,
		    Vacancy__V1__Municipality **mp)
{
	vacancy__v1__municipality_list__init(ml);
	for (int i = 0; i < 3; i++) {
		vacancy__v1__municipality__init(&m[i]);
		mp[i] = &m[i];
	}
	m[0].municipality_ags = "14521020";
	m[0].name = "Annaberg-Buchholz, Stadt";
	m[0].has_records = 1, m[0].records = 1234;
	m[0].last_transfer_at = "2026-03-01T12:34:56Z";
	m[0].has_overdue = 1, m[0].overdue = 0;
	m[1].municipality_ags = "14521035";
	m[1].name = "B\u00e4renstein";
	m[1].has_records = 1, m[1].records = 0;
	m[1].has_overdue = 1, m[1].overdue = 1;
	m[2].municipality_ags = "14521040";
	m[2].name = "Say \"hi\"\033[31m";
	m[2].last_transfer_at = "2026-01-01T00:30:00+01:00";
	ml->municipalities = mp;
	ml->n_municipalities = 3;
}

static void
test_municipalities(void)
{
	Vacancy__V1__MunicipalityList ml;
	Vacancy__V1__Municipality m[3], *mp[3];
	struct capture c;
	/* widths: 2 marker, 8 AGS, 24 name, 7 records, 19 last transfer, 7 overdue */
	const char *head = "  AGS       name                      records  last transfer (UTC)  "
			   "overdue\n";
	const char *row1 = "  14521020  Annaberg-Buchholz, Stadt    1,234  2026-03-01 12:34     "
			   "no\n";
	const char *row2 =
	    "! 14521035  B\u00e4renstein                      0  never                "
	    "yes\n";
	const char *row3 = "  14521040  Say \"hi\"\\x1b[31m                " DASH
			   "  2025-12-31 23:30     " DASH "\n";
	const char *foot = "1 of 3 municipalities overdue\n";
	char want[1024];

	fill_municipalities(&ml, m, mp);
	snprintf(want, sizeof(want), "%s%s%s%s%s", head, row1, row2, row3, foot);
	CU_ASSERT_EQUAL(report_print_municipalities(&ml, REPORT_TABLE, 0, capture_open(&c)), 0);
	check_text(capture_close(&c), want);
	CU_ASSERT_PTR_NULL(strchr(c.text, '\033'));
	free(c.text);

	/* colour: the overdue row only, reset before its newline */
	snprintf(want, sizeof(want), "%s%s\033[1;31m%.*s\033[0m\n%s%s", head, row1,
		 (int)strlen(row2) - 1, row2, row3, foot);
	CU_ASSERT_EQUAL(report_print_municipalities(&ml, REPORT_TABLE, 1, capture_open(&c)), 0);
	check_text(capture_close(&c), want);
	free(c.text);

	/* CSV: data as sent, quoted where RFC 4180 wants it */
	m[1].name = "Line\nBreak";
	CU_ASSERT_EQUAL(report_print_municipalities(&ml, REPORT_CSV, 1, capture_open(&c)), 0);
	check_text(capture_close(&c),
		   "municipality_ags,name,records,last_transfer_at,overdue\r\n"
		   "14521020,\"Annaberg-Buchholz, Stadt\",1234,2026-03-01T12:34:56Z,false\r\n"
		   "14521035,\"Line\nBreak\",0,,true\r\n"
		   "14521040,\"Say \"\"hi\"\"\033[31m\",,2026-01-01T00:30:00+01:00,\r\n");
	free(c.text);

	/* the footer counts; one municipality is singular */
	ml.n_municipalities = 1;
	CU_ASSERT_EQUAL(report_print_municipalities(&ml, REPORT_TABLE, 0, capture_open(&c)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(capture_close(&c), "\n0 of 1 municipality overdue\n"));
	free(c.text);
	ml.n_municipalities = 0;
	CU_ASSERT_EQUAL(report_print_municipalities(&ml, REPORT_TABLE, 0, capture_open(&c)), 0);
	check_text(capture_close(&c), "  AGS  name  records  last transfer (UTC)  overdue\n"
				      "0 of 0 municipalities overdue\n");
	free(c.text);
}

static void
test_series(void)
{
	Vacancy__V1__Overview ov;
	Vacancy__V1__SeriesPoint p[5], *pp[5];
	struct capture c;
	char want[2048], *b40, *b20, *b5;
	static const char *const months[] = {"2025-01", "2025-02", "2025-03", "2025-04", "2025-05"};

	vacancy__v1__overview__init(&ov);
	for (int i = 0; i < 5; i++) {
		vacancy__v1__series_point__init(&p[i]);
		p[i].month = (char *)months[i];
		pp[i] = &p[i];
	}
	p[0].has_vacant = 1, p[0].vacant = 8;
	p[0].has_usable_area_m2 = 1, p[0].usable_area_m2 = 1000.4;
	p[1].has_vacant = 1, p[1].vacant = 4;
	p[1].has_usable_area_m2 = 1, p[1].usable_area_m2 = 0;
	p[2].has_vacant = 1, p[2].vacant = 0;
	p[3].has_vacant = 1, p[3].vacant = 1;
	p[3].has_usable_area_m2 = 1, p[3].usable_area_m2 = 12.5;
	ov.series = pp;
	ov.n_series = 5;

	for (int ascii = 0; ascii <= 1; ascii++) {
		b40 = repeat(ascii ? "#" : FULL, 40);
		b20 = repeat(ascii ? "#" : FULL, 20);
		b5 = repeat(ascii ? "#" : FULL, 5);
		snprintf(want, sizeof(want),
			 "month    vacant  usable m\u00b2\n"
			 "2025-01       8      1,000  %s\n"
			 "2025-02       4          0  %s\n"
			 "2025-03       0          " DASH "\n"
			 "2025-04       1         13  %s\n"
			 "2025-05       " DASH "          " DASH "\n",
			 b40, b20, b5);
		CU_ASSERT_EQUAL(report_print_series(&ov, REPORT_TABLE, ascii, capture_open(&c)), 0);
		check_text(capture_close(&c), want);
		if (ascii)
			CU_ASSERT_PTR_NULL(strstr(c.text, FULL));
		free(c.text);
		free(b40), free(b20), free(b5);
	}

	CU_ASSERT_EQUAL(report_print_series(&ov, REPORT_CSV, 0, capture_open(&c)), 0);
	check_text(capture_close(&c), "month,vacant,usable_area_m2\r\n"
				      "2025-01,8,1000.4\r\n"
				      "2025-02,4,0\r\n"
				      "2025-03,0,\r\n"
				      "2025-04,1,12.5\r\n"
				      "2025-05,,\r\n");
	free(c.text);

	/* all zero: no bars, no division by zero */
	p[0].vacant = p[1].vacant = p[3].vacant = 0;
	CU_ASSERT_EQUAL(report_print_series(&ov, REPORT_TABLE, 0, capture_open(&c)), 0);
	CU_ASSERT_PTR_NULL(strstr(capture_close(&c), FULL));
	free(c.text);
}

static void
test_terminal(void)
{
	CU_ASSERT_TRUE(report_use_color(1, "xterm-256color", NULL));
	CU_ASSERT_FALSE(report_use_color(0, "xterm-256color", NULL));
	CU_ASSERT_FALSE(report_use_color(1, "dumb", NULL));
	CU_ASSERT_FALSE(report_use_color(1, NULL, NULL));
	CU_ASSERT_FALSE(report_use_color(1, "", NULL));
	CU_ASSERT_FALSE(report_use_color(1, "xterm", "1"));
	CU_ASSERT_FALSE(report_use_color(1, "xterm", ""));
	CU_ASSERT_TRUE(report_codeset_utf8("UTF-8"));
	CU_ASSERT_TRUE(report_codeset_utf8("utf8"));
	CU_ASSERT_FALSE(report_codeset_utf8("ANSI_X3.4-1968"));
	CU_ASSERT_FALSE(report_codeset_utf8("ISO-8859-15"));
	CU_ASSERT_FALSE(report_codeset_utf8(NULL));
}

void
test_report_register(void)
{
	CU_pSuite s = CU_add_suite("report", NULL, NULL);

	CU_add_test(s, "region", test_region);
	CU_add_test(s, "group by", test_group_by);
	CU_add_test(s, "months", test_months);
	CU_add_test(s, "Berlin month", test_berlin_month);
	CU_add_test(s, "option checks", test_check);
	CU_add_test(s, "request path", test_path);
	CU_add_test(s, "timestamps in UTC", test_time);
	CU_add_test(s, "bars", test_bar);
	CU_add_test(s, "overview table", test_overview_table);
	CU_add_test(s, "overview keys and CSV", test_overview_keys);
	CU_add_test(s, "overview CSV quoting", test_overview_csv);
	CU_add_test(s, "overview empty", test_overview_empty);
	CU_add_test(s, "municipalities", test_municipalities);
	CU_add_test(s, "series", test_series);
	CU_add_test(s, "terminal", test_terminal);
}
