/*
 * test_syncrow: the transfer in the shape registry.apply_transfer() stores
 * it (daemon/syncrow.c, migration 016): a sync_change[] literal whose row is
 * a sync_row literal in the type's column order, reshaped fields, written
 * defaults, and the PERSONAL fields only where they belong. The literals are
 * read back here by the rules PostgreSQL reads them with.
 */
#include <CUnit/CUnit.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "syncrow.h"

void test_syncrow_register(void);

#define MAXF 64

/*
 * Splits a composite "(..)" or array "{..}" literal into its elements,
 * unquoted and unescaped (each malloc'd), NULL for SQL NULL: an empty
 * unquoted field of a composite, or NULL unquoted in an array. Returns the
 * count, or -1 when s is not such a literal.
 */
static int
split(const char *s, char open, char close, char *out[MAXF])
{
	size_t n = strlen(s);
	int count = 0;
	const char *p;

	if (n < 2 || s[0] != open || s[n - 1] != close)
		return -1;
	p = s + 1;
	if (open == '{' && *p == '}')
		return 0;
	for (;;) {
		struct buf v;
		int quoted = 0;

		if (count == MAXF)
			return -1;
		buf_init(&v, 0);
		if (*p == '"') {
			quoted = 1;
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					return -1;
				if (*p == '\\')
					p++;
				buf_addc(&v, *p);
			}
			p++;
		} else {
			while (*p != ',' && *p != close)
				buf_addc(&v, *p++);
		}
		buf_addc(&v, '\0');
		if (!quoted && (open == '(' ? v.len == 1 : strcmp(v.data, "NULL") == 0)) {
			buf_free(&v);
			out[count++] = NULL;
		} else {
			out[count++] = buf_detach(&v, NULL);
		}
		if (*p == close)
			return p[1] == '\0' ? count : -1;
		if (*p++ != ',')
			return -1;
	}
}

static void
free_fields(char *f[MAXF], int n)
{
	for (int i = 0; i < n; i++)
		free(f[i]);
}

static int
col(const char *name)
{
	for (int i = 0; syncrow_columns[i] != NULL; i++)
		if (strcmp(syncrow_columns[i], name) == 0)
			return i;
	CU_FAIL_FATAL("no such column");
	return -1;
}

static char *
encode(Vacancy__V1__SyncRequest *req, const char (*ids)[SYNCROW_UUID_LEN])
{
	struct buf b;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL_FATAL(syncrow_encode(req, ids, &b), 0);
	return buf_detach(&b, NULL);
}

#define FIELD(row, name) ((row)[col(name)])

static void
t_upsert(void)
{
	Vacancy__V1__SyncRequest req = VACANCY__V1__SYNC_REQUEST__INIT;
	Vacancy__V1__RecordChange ch = VACANCY__V1__RECORD_CHANGE__INIT, *chs[1] = {&ch};
	Vacancy__V1__Record rec = VACANCY__V1__RECORD__INIT;
	Vacancy__V1__LatLon ll = VACANCY__V1__LAT_LON__INIT;
	Vacancy__V1__MarketingContact mc = VACANCY__V1__MARKETING_CONTACT__INIT;
	Vacancy__V1__Attachment a1 = VACANCY__V1__ATTACHMENT__INIT;
	Vacancy__V1__Attachment a2 = VACANCY__V1__ATTACHMENT__INIT;
	Vacancy__V1__Attachment *atts[2] = {&a1, &a2};
	Vacancy__V1__Usage__Value usage[2] = {VACANCY__V1__USAGE__VALUE__COMMERCIAL,
					      VACANCY__V1__USAGE__VALUE__RESIDENTIAL};
	char *parcels[2] = {"14 \"a\"", "back\\slash"};
	static const char ids[1][SYNCROW_UUID_LEN] = {"0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b"};
	char *lit, *elems[MAXF], *chg[MAXF], *row[MAXF], *arr[MAXF];
	int n, nc, nr, na;

	rec.external_id = "B-1";
	rec.has_revision = 1;
	rec.revision = 18446744073709551615ULL;
	rec.municipality_ags = "14521020";
	rec.title = "Laden \"am Markt\", (alt)";
	rec.owner_name = "Erika Muster";
	rec.has_vacancy_reason = 1;
	rec.vacancy_reason = VACANCY__V1__VACANCY_REASON__VALUE__HEIRS_DISPUTE;
	rec.has_usable_area_m2 = 1;
	rec.usable_area_m2 = 706.4;
	rec.has_construction_year = 1;
	rec.construction_year = 1890;
	rec.purchase_price_eur = "120000.00";
	rec.n_usage = 2;
	rec.usage = usage;
	rec.n_parcel_ids = 2;
	rec.parcel_ids = parcels;
	mc.organisation = "WiFö";
	rec.marketing_contact = &mc;
	ll.has_lat = ll.has_lon = 1;
	ll.lat = 50.5;
	ll.lon = 12.25;
	rec.location = &ll;
	a1.url = "https://example.invalid/a.jpg";
	a1.rights_holder = "Foto Schmidt";
	a2.url = "https://example.invalid/b.pdf";
	rec.n_attachments = 2;
	rec.attachments = atts;
	ch.change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
	ch.upsert = &rec;
	req.n_changes = 1;
	req.changes = chs;

	lit = encode(&req, ids);
	n = split(lit, '{', '}', elems);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	nc = split(elems[0], '(', ')', chg);
	CU_ASSERT_EQUAL_FATAL(nc, 7); /* u, x, r, d, h, p, i */
	CU_ASSERT_STRING_EQUAL(chg[0], "t");
	CU_ASSERT_STRING_EQUAL(chg[1], "B-1");
	CU_ASSERT_STRING_EQUAL(chg[2], "18446744073709551615");
	CU_ASSERT_STRING_EQUAL(chg[6], ids[0]);
	/* the row: every column of sync_row, reshaped */
	nr = split(chg[3], '(', ')', row);
	CU_ASSERT_EQUAL_FATAL(nr, col("internal_notes") + 1);
	CU_ASSERT_PTR_NULL(syncrow_columns[nr]);
	CU_ASSERT_STRING_EQUAL(FIELD(row, "municipality_ags"), "14521020");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "title"), "Laden \"am Markt\", (alt)");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "lat"), "50.5");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "lon"), "12.25");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "usable_area_m2"), "706.4");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "construction_year"), "1890");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "purchase_price_eur"), "120000.00");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "vacancy_reason"), "HEIRS_DISPUTE");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "owner_name"), "Erika Muster");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "marketing_contact"), "{\"organisation\":\"WiFö\"}");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "attachments"),
			       "[{\"url\":\"https://example.invalid/a.jpg\"},"
			       "{\"url\":\"https://example.invalid/b.pdf\"}]");
	/* absent: NULL, or the default written out */
	CU_ASSERT_PTR_NULL(FIELD(row, "status"));
	CU_ASSERT_PTR_NULL(FIELD(row, "floor_area_m2"));
	CU_ASSERT_PTR_NULL(FIELD(row, "source_x"));
	CU_ASSERT_STRING_EQUAL(FIELD(row, "marketing"), "{}");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "price_on_request"), "f");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "location_blur_m"), "0");
	/* arrays: enum names; strings quoted and escaped; a missing holder NULL */
	na = split(FIELD(row, "usage"), '{', '}', arr);
	CU_ASSERT_EQUAL_FATAL(na, 2);
	CU_ASSERT_STRING_EQUAL(arr[0], "COMMERCIAL");
	CU_ASSERT_STRING_EQUAL(arr[1], "RESIDENTIAL");
	free_fields(arr, na);
	na = split(FIELD(row, "parcel_ids"), '{', '}', arr);
	CU_ASSERT_EQUAL_FATAL(na, 2);
	CU_ASSERT_STRING_EQUAL(arr[0], "14 \"a\"");
	CU_ASSERT_STRING_EQUAL(arr[1], "back\\slash");
	free_fields(arr, na);
	na = split(FIELD(row, "attachment_rights_holders"), '{', '}', arr);
	CU_ASSERT_EQUAL_FATAL(na, 2);
	CU_ASSERT_STRING_EQUAL(arr[0], "Foto Schmidt");
	CU_ASSERT_PTR_NULL(arr[1]);
	free_fields(arr, na);
	/* the history document every staff reader sees: no PERSONAL field */
	CU_ASSERT_PTR_NOT_NULL(strstr(chg[4], "\"lat\":50.5,\"lon\":12.25"));
	CU_ASSERT_PTR_NOT_NULL(strstr(chg[4], "\"attachments\":[{"));
	CU_ASSERT_PTR_NOT_NULL(strstr(chg[4], "\"purchase_price_eur\":\"120000.00\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(chg[4], "\"marketing\":[]"));
	CU_ASSERT_PTR_NULL(strstr(chg[4], "Erika"));
	CU_ASSERT_PTR_NULL(strstr(chg[4], "HEIRS_DISPUTE"));
	CU_ASSERT_PTR_NULL(strstr(chg[4], "Foto Schmidt"));
	CU_ASSERT_PTR_NULL(strstr(chg[4], "external_id"));
	/* the PERSONAL document */
	CU_ASSERT_STRING_EQUAL(chg[5],
			       "{\"vacancy_reason\":\"HEIRS_DISPUTE\",\"owner_name\":\"Erika "
			       "Muster\",\"attachment_rights_holders\":[\"Foto Schmidt\",null]}");
	free_fields(row, nr);
	free_fields(chg, nc);
	free_fields(elems, n);
	/* the request is as it was */
	CU_ASSERT_STRING_EQUAL(rec.external_id, "B-1");
	CU_ASSERT(rec.has_revision && rec.location == &ll && rec.n_attachments == 2);
	CU_ASSERT_STRING_EQUAL(a1.rights_holder, "Foto Schmidt");
	CU_ASSERT_STRING_EQUAL(rec.owner_name, "Erika Muster");
	free(lit);
}

static void
t_defaults_and_withdrawal(void)
{
	Vacancy__V1__SyncRequest req = VACANCY__V1__SYNC_REQUEST__INIT;
	Vacancy__V1__RecordChange c1 = VACANCY__V1__RECORD_CHANGE__INIT;
	Vacancy__V1__RecordChange c2 = VACANCY__V1__RECORD_CHANGE__INIT, *chs[2] = {&c1, &c2};
	Vacancy__V1__Record rec = VACANCY__V1__RECORD__INIT;
	Vacancy__V1__Withdrawal w = VACANCY__V1__WITHDRAWAL__INIT;
	Vacancy__V1__Marketing__Value mk[1] = {VACANCY__V1__MARKETING__VALUE__SALE};
	char *lit, *elems[MAXF], *chg[MAXF], *row[MAXF];
	int n, nc, nr;

	/* set fields are not written twice; no location, no attachments */
	rec.external_id = "B-2";
	rec.has_revision = 1;
	rec.revision = 3;
	rec.n_marketing = 1;
	rec.marketing = mk;
	rec.has_price_on_request = 1;
	rec.price_on_request = 1;
	rec.has_location_blur_m = 1;
	rec.location_blur_m = 250;
	c1.change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
	c1.upsert = &rec;
	w.external_id = "B-3";
	w.has_revision = 1;
	w.revision = 7;
	c2.change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW;
	c2.withdraw = &w;
	req.n_changes = 2;
	req.changes = chs;

	lit = encode(&req, NULL);
	n = split(lit, '{', '}', elems);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	nc = split(elems[0], '(', ')', chg);
	CU_ASSERT_EQUAL_FATAL(nc, 7);
	CU_ASSERT_PTR_NULL(chg[5]); /* no PERSONAL field: no document */
	CU_ASSERT_PTR_NULL(chg[6]); /* no id given */
	CU_ASSERT_PTR_NOT_NULL(strstr(chg[4], "\"marketing\":[\"SALE\"]"));
	CU_ASSERT_PTR_NULL(strstr(chg[4], "\"price_on_request\":false"));
	CU_ASSERT_PTR_NOT_NULL(strstr(chg[4], "\"location_blur_m\":250"));
	CU_ASSERT_PTR_NOT_NULL(strstr(chg[4], "\"attachments\":[]"));
	nr = split(chg[3], '(', ')', row);
	CU_ASSERT_EQUAL_FATAL(nr, col("internal_notes") + 1);
	CU_ASSERT_STRING_EQUAL(FIELD(row, "marketing"), "{SALE}");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "price_on_request"), "t");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "location_blur_m"), "250");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "parcel_ids"), "{}");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "attachments"), "[]");
	CU_ASSERT_STRING_EQUAL(FIELD(row, "attachment_rights_holders"), "{}");
	CU_ASSERT_PTR_NULL(FIELD(row, "lat"));
	CU_ASSERT_PTR_NULL(FIELD(row, "usage"));
	free_fields(row, nr);
	free_fields(chg, nc);
	/* a withdrawal: u, x, r only */
	nc = split(elems[1], '(', ')', chg);
	CU_ASSERT_EQUAL_FATAL(nc, 7);
	CU_ASSERT_STRING_EQUAL(chg[0], "f");
	CU_ASSERT_STRING_EQUAL(chg[1], "B-3");
	CU_ASSERT_STRING_EQUAL(chg[2], "7");
	for (int i = 3; i < 7; i++)
		CU_ASSERT_PTR_NULL(chg[i]);
	free_fields(chg, nc);
	free_fields(elems, n);
	free(lit);

	/* an empty transfer is an empty array; a change with no member is refused */
	req.n_changes = 0;
	lit = encode(&req, NULL);
	CU_ASSERT_STRING_EQUAL(lit, "{}");
	free(lit);
	{
		struct buf b;

		c1.change_case = VACANCY__V1__RECORD_CHANGE__CHANGE__NOT_SET;
		req.n_changes = 1;
		buf_init(&b, 0);
		CU_ASSERT_EQUAL(syncrow_encode(&req, NULL, &b), -1);
		buf_free(&b);
	}
}

/*
 * The columns the daemon writes are registry.sync_row's, in order: read from
 * the migration that creates the type; no later migration may alter it
 * without this list following.
 */
static void
t_columns_match_sql(void)
{
	FILE *f = fopen("sql/003_sync.sql", "r");
	char line[256];
	int in = 0, i = 0;
	glob_t g;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char name[64];

		if (strncmp(line, "CREATE TYPE registry.sync_row AS (", 34) == 0) {
			in = 1;
			continue;
		}
		if (!in)
			continue;
		if (line[0] == ')')
			break;
		CU_ASSERT_EQUAL_FATAL(sscanf(line, " %63[a-z0-9_]", name), 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(syncrow_columns[i]);
		if (strcmp(name, syncrow_columns[i]) != 0)
			fprintf(stderr, "\n  column %d: sql has %s, syncrow %s\n", i, name,
				syncrow_columns[i]);
		CU_ASSERT_STRING_EQUAL(name, syncrow_columns[i]);
		i++;
	}
	fclose(f);
	CU_ASSERT(in);
	CU_ASSERT_PTR_NULL(syncrow_columns[i]);
	CU_ASSERT_EQUAL_FATAL(glob("sql/*.sql", 0, NULL, &g), 0);
	for (size_t k = 0; k < g.gl_pathc; k++) {
		FILE *m = fopen(g.gl_pathv[k], "r");

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		while (fgets(line, sizeof(line), m) != NULL)
			CU_ASSERT_PTR_NULL(strstr(line, "ALTER TYPE registry.sync_row"));
		fclose(m);
	}
	globfree(&g);
}

static void
t_uuid7(void)
{
	static const unsigned char rnd[10] = {0xff, 0xff, 0xff, 0xff, 0xff,
					      0xff, 0xff, 0xff, 0xff, 0xff};
	static const unsigned char zero[10];
	char id[SYNCROW_UUID_LEN];

	/* 2024-07-01T00:00:00.123Z = 1719792000123 ms = 0x01906b975c7b */
	syncrow_uuid7(1719792000123ULL, rnd, id);
	CU_ASSERT_STRING_EQUAL(id, "01906b97-5c7b-7fff-bfff-ffffffffffff");
	syncrow_uuid7(1719792000123ULL, zero, id);
	CU_ASSERT_STRING_EQUAL(id, "01906b97-5c7b-7000-8000-000000000000");
}

void
test_syncrow_register(void)
{
	CU_pSuite s = CU_add_suite("syncrow", NULL, NULL);

	CU_add_test(s, "an upsert: row literal, history documents, PERSONAL fields", t_upsert);
	CU_add_test(s, "defaults written once, withdrawals, empty and bad",
		    t_defaults_and_withdrawal);
	CU_add_test(s, "the row's columns are registry.sync_row's, in order", t_columns_match_sql);
	CU_add_test(s, "record ids: UUID version 7", t_uuid7);
}
