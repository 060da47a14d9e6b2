/*
 * test_csv: the CSV reader of "vacancy sync" (clients/csv.c) and the pure
 * half of clients/sync.c it feeds: RFC 4180 cells, delimiter and BOM,
 * decimal commas, every error class with its line and column, withdrawals,
 * lists, nested and JSON fields, limits; then the AGS of a batch,
 * duplicates, the split into parts and the transfer ids.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../clients/csv.h"
#include "../../clients/sync.h"

void test_csv_register(void);

/* A batch and its problems, read from text. */
struct rd {
	struct sync_batch b;
	struct sync_problems p;
	int rc;
};

static void
rd_read(struct rd *r, const char *text)
{
	sync_batch_init(&r->b, SYNC_FORMAT_CSV);
	sync_problems_init(&r->p, 100);
	r->rc = csv_read(text, strlen(text), &r->b, &r->p);
}

static void
rd_free(struct rd *r)
{
	sync_batch_free(&r->b);
	sync_problems_free(&r->p);
}

/* The problem on line with where containing col (or NULL) and message containing msg. */
static const struct sync_problem *
find(const struct rd *r, unsigned long line, const char *col, const char *msg)
{
	for (size_t i = 0; i < r->p.n; i++) {
		const struct sync_problem *it = &r->p.items[i];

		if (line && it->line != line)
			continue;
		if (col && (it->where == NULL || strstr(it->where, col) == NULL))
			continue;
		if (msg && strstr(it->message, msg) == NULL)
			continue;
		return it;
	}
	return NULL;
}

/* The upsert of change i, or NULL. */
static const Vacancy__V1__Record *
up(const struct rd *r, size_t i)
{
	if (i >= r->b.n ||
	    r->b.changes[i]->change_case != VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT)
		return NULL;
	return r->b.changes[i]->upsert;
}

static void
test_basic(void)
{
	struct rd r;
	const Vacancy__V1__Record *a;

	rd_read(&r, "external_id,revision,usage,site_kind,location.lat,location.lon,"
		    "marketing_contact.email,title\n"
		    "A-1,7,COMMERCIAL,unit,50.5785,13.0012,wf@example.de,Laden\n"
		    "A-2,8,residential, Building ,50.1,12.9,,\n");
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.p.errors, 0);
	CU_ASSERT_EQUAL_FATAL(r.b.n, 2);
	a = up(&r, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL(a->external_id, "A-1");
	CU_ASSERT(a->has_revision && a->revision == 7);
	CU_ASSERT_EQUAL_FATAL(a->n_usage, 1);
	CU_ASSERT_EQUAL(a->usage[0], VACANCY__V1__USAGE__VALUE__COMMERCIAL);
	CU_ASSERT(a->has_site_kind && a->site_kind == VACANCY__V1__SITE_KIND__VALUE__UNIT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a->location);
	CU_ASSERT_DOUBLE_EQUAL(a->location->lat, 50.5785, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(a->location->lon, 13.0012, 1e-12);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a->marketing_contact);
	CU_ASSERT_STRING_EQUAL(a->marketing_contact->email, "wf@example.de");
	CU_ASSERT_STRING_EQUAL(a->title, "Laden");
	CU_ASSERT_EQUAL(r.b.sources[0].line, 2);
	a = up(&r, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->site_kind,
			VACANCY__V1__SITE_KIND__VALUE__BUILDING); /* trimmed, any case */
	CU_ASSERT_PTR_NULL(a->marketing_contact);		  /* empty: absent */
	CU_ASSERT_PTR_NULL(a->title);
	CU_ASSERT_EQUAL(r.b.sources[1].line, 3);
	rd_free(&r);
}

static void
test_rfc4180(void)
{
	struct rd r;
	const Vacancy__V1__Record *a;

	/* quotes with "" escapes, a line break inside quotes (CRLF kept as LF), CRLF rows */
	rd_read(&r, "external_id,revision,title,description\r\n"
		    "\"A-1\",1,\"Haus \"\"Zur Post\"\"\",\"Zeile 1\r\nZeile 2\nZeile 3\"\r\n"
		    "A-2,2,\"Komma, im Titel\",\r\n");
	CU_ASSERT_EQUAL(r.p.errors, 0);
	CU_ASSERT_EQUAL_FATAL(r.b.n, 2);
	a = up(&r, 0);
	CU_ASSERT_STRING_EQUAL(a->title, "Haus \"Zur Post\"");
	CU_ASSERT_STRING_EQUAL(a->description, "Zeile 1\nZeile 2\nZeile 3");
	CU_ASSERT_EQUAL(r.b.sources[0].line, 2);
	CU_ASSERT_EQUAL(r.b.sources[1].line, 5); /* the row after a three-line cell */
	CU_ASSERT_STRING_EQUAL(up(&r, 1)->title, "Komma, im Titel");
	rd_free(&r);

	/* no newline at the end; a lone CR ends a row too */
	rd_read(&r, "external_id,revision\rB-1,1\rB-2,2");
	CU_ASSERT_EQUAL(r.p.errors, 0);
	CU_ASSERT_EQUAL_FATAL(r.b.n, 2);
	CU_ASSERT_STRING_EQUAL(up(&r, 1)->external_id, "B-2");
	CU_ASSERT_EQUAL(r.b.sources[1].line, 3);
	rd_free(&r);
}

static void
test_quote_errors(void)
{
	struct rd r;

	rd_read(&r, "external_id,revision,title\n"
		    "A-1,1,\"offen\n"
		    "A-2,2,x\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column C (title)", "never closed"));
	CU_ASSERT_EQUAL(r.b.n, 0);
	rd_free(&r);

	rd_read(&r, "external_id,revision,title\n"
		    "A-1,1,\"zu\"viel\n"
		    "A-2,2,ein \"Zitat\"\n"
		    "A-3,3,gut\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column C", "after the closing quote"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 3, "column C", "inside a cell"));
	CU_ASSERT_EQUAL(r.p.errors, 2);
	CU_ASSERT_EQUAL(r.b.n, 1); /* the good row still reads */
	rd_free(&r);
}

static void
test_delimiter_bom_decimal_comma(void)
{
	struct rd r;
	const Vacancy__V1__Record *a;

	rd_read(&r, "\xef\xbb\xbf"
		    "external_id;revision;usable_area_m2;purchase_price_eur;rent_eur_m2;title\n"
		    "A-1;1;85,5;1250,5;6,50;\"Halle; groß\"\n"
		    "A-2;2;120.25;007;0,5;x\n");
	CU_ASSERT_EQUAL(r.p.errors, 0);
	CU_ASSERT_EQUAL_FATAL(r.b.n, 2);
	a = up(&r, 0);
	CU_ASSERT_STRING_EQUAL(a->external_id, "A-1"); /* the BOM is not part of the name */
	CU_ASSERT_DOUBLE_EQUAL(a->usable_area_m2, 85.5, 1e-12);
	CU_ASSERT_STRING_EQUAL(a->purchase_price_eur, "1250.50");
	CU_ASSERT_STRING_EQUAL(a->rent_eur_m2, "6.50");
	CU_ASSERT_STRING_EQUAL(a->title, "Halle; groß");
	a = up(&r, 1);
	CU_ASSERT_DOUBLE_EQUAL(a->usable_area_m2, 120.25, 1e-12);
	CU_ASSERT_STRING_EQUAL(a->purchase_price_eur, "7.00");
	CU_ASSERT_STRING_EQUAL(a->rent_eur_m2, "0.50");
	rd_free(&r);

	/* with ',' as delimiter a decimal comma is refused; thousands separators always */
	rd_read(&r, "external_id,revision,usable_area_m2\nA-1,1,\"85,5\"\n");
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column C (usable_area_m2)", "decimal comma"));
	rd_free(&r);
	rd_read(&r, "external_id;revision;purchase_price_eur\nA-1;1;1.250,50\n");
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column C", "thousands separators"));
	rd_free(&r);
}

static void
test_money(void)
{
	char out[64], err[128];

	CU_ASSERT_EQUAL(csv_money("1250.5", 0, out, sizeof(out), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(out, "1250.50");
	CU_ASSERT_EQUAL(csv_money("89000", 0, out, sizeof(out), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(out, "89000.00");
	CU_ASSERT_EQUAL(csv_money("12.500", 0, out, sizeof(out), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(out, "12.50");
	CU_ASSERT_EQUAL(csv_money("0", 0, out, sizeof(out), err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(out, "0.00");
	CU_ASSERT_EQUAL(csv_money("12,345", 1, out, sizeof(out), err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than two decimals"));
	CU_ASSERT_EQUAL(csv_money("12.345", 0, out, sizeof(out), err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(csv_money("1e5", 0, out, sizeof(out), err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(csv_money("EUR 5", 0, out, sizeof(out), err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(csv_money(".5", 0, out, sizeof(out), err, sizeof(err)), -1);
}

static void
test_cell_errors(void)
{
	struct rd r;

	rd_read(&r, "external_id,revision,usage,construction_year,price_on_request,location.lat,"
		    "status,attachments,record_id\n"
		    "A-1,x,WOHNEN,19o5,vielleicht,abc,MARKETED,[{],\n"
		    "A-2,2,COMMERCIAL,1905,ja,50.1,unspecified,,0b4f3c9e\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column B (revision)", "whole number"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column C (usage)", "unknown value 'WOHNEN'"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column C (usage)", "RESIDENTIAL, COMMERCIAL"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column D (construction_year)", "whole number"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column E (price_on_request)", "true or false"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column F (location.lat)", "not a number"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column H (attachments)", "JSON"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 3, "column G (status)", "unknown value"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 3, "column I (record_id)", "assigned by the registry"));
	CU_ASSERT_EQUAL(r.p.errors, 8);
	CU_ASSERT_EQUAL(r.b.n, 0);
	rd_free(&r);
}

static void
test_bool_and_dates(void)
{
	struct rd r;

	rd_read(&r, "external_id,revision,price_on_request,last_verified_at,vacant_since\n"
		    "A-1,1,JA,20.11.2026,2025-03-01\n"
		    "A-2,2,0,1.2.2026,\n"
		    "A-3,3,False,,\n");
	CU_ASSERT_EQUAL(r.p.errors, 0);
	CU_ASSERT_EQUAL_FATAL(r.b.n, 3);
	CU_ASSERT(up(&r, 0)->has_price_on_request && up(&r, 0)->price_on_request);
	CU_ASSERT_STRING_EQUAL(up(&r, 0)->last_verified_at, "2026-11-20");
	CU_ASSERT_STRING_EQUAL(up(&r, 0)->vacant_since, "2025-03-01");
	CU_ASSERT(up(&r, 1)->has_price_on_request && !up(&r, 1)->price_on_request);
	CU_ASSERT_STRING_EQUAL(up(&r, 1)->last_verified_at, "2026-02-01");
	CU_ASSERT(up(&r, 2)->has_price_on_request && !up(&r, 2)->price_on_request);
	rd_free(&r);
}

static void
test_header_errors(void)
{
	struct rd r;

	rd_read(&r, "external_id,revision,Usage,foo,revision,\n"
		    "A-1,1,COMMERCIAL,x,2,\n"
		    "A-2,2,,,,oops\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_PTR_NOT_NULL(find(&r, 1, "column C (Usage)", "did you mean 'usage'"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 1, "column D (foo)", "unknown column 'foo'"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 1, "column E (revision)", "twice (also column B)"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 3, "column F", "without a name"));
	rd_free(&r);

	rd_read(&r, "revision,title\n1,x\n");
	CU_ASSERT_PTR_NOT_NULL(find(&r, 1, NULL, "no external_id column"));
	CU_ASSERT_EQUAL(r.b.n, 0);
	rd_free(&r);

	rd_read(&r, "");
	CU_ASSERT_PTR_NOT_NULL(find(&r, 0, NULL, "empty"));
	rd_free(&r);
}

static void
test_row_shape(void)
{
	struct rd r;

	/* blank lines and rows of empty cells carry nothing; too few or too many cells do */
	rd_read(&r, "external_id,revision,title\n"
		    "\n"
		    "A-1,1,x\n"
		    ",,\n"
		    "A-2,2\n"
		    "A-3,3,x,y\n"
		    ",4,z\n"
		    "A-5,5,ok\n");
	CU_ASSERT_PTR_NOT_NULL(find(&r, 5, NULL, "2 cells, the header 3"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 6, NULL, "4 cells, the header 3"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 7, "column A (external_id)", "external_id is empty"));
	CU_ASSERT_EQUAL(r.p.errors, 3);
	CU_ASSERT_EQUAL_FATAL(r.b.n, 2);
	CU_ASSERT_EQUAL(r.b.sources[0].line, 3);
	CU_ASSERT_EQUAL(r.b.sources[1].line, 8);
	rd_free(&r);
}

static void
test_withdrawals(void)
{
	struct rd r;
	const Vacancy__V1__Withdrawal *w;

	rd_read(&r, "action,municipality_ags,external_id,revision,title\n"
		    "d,14521020,A-1,9,\n"
		    "I,14521020,A-2,3,Neu\n"
		    ",14521020,A-3,4,Alt\n"
		    "D,,A-4,5,Titel\n"
		    "D,,A-5,,\n"
		    "X,,A-6,6,\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_EQUAL_FATAL(r.b.n, 3);
	CU_ASSERT_EQUAL(r.b.changes[0]->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW);
	w = r.b.changes[0]->withdraw;
	CU_ASSERT_STRING_EQUAL(w->external_id, "A-1");
	CU_ASSERT(w->has_revision && w->revision == 9);
	CU_ASSERT_STRING_EQUAL(up(&r, 1)->title, "Neu"); /* I is an upsert */
	CU_ASSERT_STRING_EQUAL(up(&r, 1)->municipality_ags, "14521020");
	CU_ASSERT_STRING_EQUAL(up(&r, 2)->title, "Alt"); /* empty is an upsert */
	CU_ASSERT_PTR_NOT_NULL(
	    find(&r, 5, "column E (title)", "uses only external_id and revision"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 6, "column D (revision)", "needs a revision"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 7, "column A (action)", "'X' is not U"));
	CU_ASSERT_STRING_EQUAL(r.b.ags, "14521020");
	rd_free(&r);
}

static void
test_lists(void)
{
	struct rd r;
	const Vacancy__V1__Record *a;

	rd_read(&r, "external_id,revision,usage,marketing,parcel_ids\n"
		    "A-1,1,residential | COMMERCIAL|RESIDENTIAL,rent|sale,"
		    "142201003011870002__|14220100301188______\n"
		    "A-2,2,MIXED,SALE||RENT,\n"
		    "A-3,3,MIXED,SALE|,\n");
	CU_ASSERT_EQUAL_FATAL(r.b.n, 1);
	a = up(&r, 0);
	/* a set: sorted by value, a value once */
	CU_ASSERT_EQUAL_FATAL(a->n_usage, 2);
	CU_ASSERT_EQUAL(a->usage[0], VACANCY__V1__USAGE__VALUE__RESIDENTIAL);
	CU_ASSERT_EQUAL(a->usage[1], VACANCY__V1__USAGE__VALUE__COMMERCIAL);
	CU_ASSERT_EQUAL_FATAL(a->n_marketing, 2);
	CU_ASSERT_EQUAL(a->marketing[0], VACANCY__V1__MARKETING__VALUE__SALE);
	CU_ASSERT_EQUAL(a->marketing[1], VACANCY__V1__MARKETING__VALUE__RENT);
	/* a list keeps its order */
	CU_ASSERT_EQUAL_FATAL(a->n_parcel_ids, 2);
	CU_ASSERT_STRING_EQUAL(a->parcel_ids[0], "142201003011870002__");
	CU_ASSERT_STRING_EQUAL(a->parcel_ids[1], "14220100301188______");
	CU_ASSERT_PTR_NOT_NULL(find(&r, 3, "column D (marketing)", "empty value"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 4, "column D (marketing)", "empty value"));
	rd_free(&r);
}

static void
test_attachments_json(void)
{
	struct rd r;
	const Vacancy__V1__Record *a;

	rd_read(
	    &r,
	    "external_id,revision,attachments\n"
	    "A-1,1,\"[{\"\"group\"\":\"\"PHOTO\"\",\"\"media_type\"\":\"\"image/jpeg\"\","
	    "\"\"url\"\":\"\"https://x.example/a.jpg\"\"},{\"\"group\"\":\"\"FLOORPLAN\"\","
	    "\"\"mediaType\"\":\"\"application/pdf\"\",\"\"url\"\":\"\"https://x.example/g.pdf\"\","
	    "\"\"sha256\"\":\"\"" /* 64 hex digits */
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"\","
	    "\"\"licence\"\":\"\"CC-BY-4.0\"\",\"\"rights_holder\"\":\"\"Foto Muster\"\"}]\"\n"
	    "A-2,2,\"[{\"\"group\"\":\"\"PICTURE\"\"}]\"\n"
	    "A-3,3,\"{\"\"group\"\":\"\"PHOTO\"\"}\"\n");
	CU_ASSERT_EQUAL_FATAL(r.b.n, 1);
	a = up(&r, 0);
	CU_ASSERT_EQUAL_FATAL(a->n_attachments, 2);
	CU_ASSERT_EQUAL(a->attachments[0]->group, VACANCY__V1__ATTACHMENT_GROUP__VALUE__PHOTO);
	CU_ASSERT_STRING_EQUAL(a->attachments[0]->media_type, "image/jpeg");
	CU_ASSERT_STRING_EQUAL(a->attachments[1]->url, "https://x.example/g.pdf");
	CU_ASSERT_STRING_EQUAL(a->attachments[1]->licence, "CC-BY-4.0");
	CU_ASSERT_STRING_EQUAL(a->attachments[1]->rights_holder, "Foto Muster");
	CU_ASSERT_PTR_NOT_NULL(find(&r, 3, "column C (attachments)", "JSON"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 4, "column C (attachments)", "JSON"));
	rd_free(&r);
}

static void
test_utf8(void)
{
	struct rd r;

	rd_read(&r, "external_id,revision,street\nA-1,1,Gro\xdf"
		    "e Kirchgasse\nA-2,2,Große Kirchgasse\n");
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column C (street)", "not UTF-8"));
	CU_ASSERT_EQUAL(r.b.n, 1);
	rd_free(&r);
}

static void
test_limits(void)
{
	struct rd r;
	struct buf big;
	char *cell;

	/* the header's column count */
	buf_init(&big, 0);
	buf_adds(&big, "external_id");
	for (int i = 0; i < CSV_MAX_COLUMNS; i++)
		buf_adds(&big, ",title");
	buf_adds(&big, "\nA-1\n");
	rd_read(&r, big.data);
	CU_ASSERT_PTR_NOT_NULL(find(&r, 1, NULL, "201 columns"));
	CU_ASSERT_EQUAL(r.b.n, 0);
	rd_free(&r);

	/* one cell over the limit, the next row still read */
	buf_reset(&big);
	buf_adds(&big, "external_id,revision,description\nA-1,1,\"");
	cell = buf_extend(&big, CSV_MAX_CELL + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cell);
	memset(cell, 'x', CSV_MAX_CELL + 1);
	buf_adds(&big, "\"\nA-2,2,kurz\n");
	rd_read(&r, big.data);
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, "column C (description)", "longer than 64 KiB"));
	CU_ASSERT_EQUAL_FATAL(r.b.n, 1);
	CU_ASSERT_STRING_EQUAL(up(&r, 0)->external_id, "A-2");
	rd_free(&r);
	buf_free(&big);

	/* the file size is checked before anything is read */
	sync_batch_init(&r.b, SYNC_FORMAT_CSV);
	sync_problems_init(&r.p, 10);
	CU_ASSERT_EQUAL(csv_read("x", CSV_MAX_FILE + 1, &r.b, &r.p), -1);
	CU_ASSERT_PTR_NOT_NULL(find(&r, 0, NULL, "at most 256 MiB"));
	rd_free(&r);
}

static void
test_problem_cap(void)
{
	struct rd r;
	struct buf text;

	buf_init(&text, 0);
	buf_adds(&text, "external_id,revision\n");
	for (int i = 0; i < 150; i++)
		buf_printf(&text, "A-%d,x\n", i);
	rd_read(&r, text.data);
	CU_ASSERT_EQUAL(r.p.errors, 150); /* all counted */
	CU_ASSERT_EQUAL(r.p.n, 100);	  /* the first listed */
	CU_ASSERT_EQUAL(r.p.dropped, 50);
	rd_free(&r);
	buf_free(&text);
}

static void
test_field_lookup(void)
{
	struct csv_field f;

	CU_ASSERT_EQUAL(csv_field_find("usage", &f), 0);
	CU_ASSERT_EQUAL(f.kind, CSV_FIELD_LIST);
	CU_ASSERT_EQUAL(csv_field_find("location.lat", &f), 0);
	CU_ASSERT_EQUAL(f.kind, CSV_FIELD_SCALAR);
	CU_ASSERT_STRING_EQUAL(f.inner->name, "lat");
	CU_ASSERT_EQUAL(csv_field_find("attachments", &f), 0);
	CU_ASSERT_EQUAL(f.kind, CSV_FIELD_JSON);
	CU_ASSERT_EQUAL(csv_field_find("updated_at", &f), 0);
	CU_ASSERT_EQUAL(f.kind, CSV_FIELD_READ_ONLY);
	CU_ASSERT_EQUAL(csv_field_find("location.x", &f), -1);
	CU_ASSERT_EQUAL(csv_field_find("title.x", &f), -1);
	CU_ASSERT_EQUAL(csv_field_find("attachments.url", &f), -1);
	CU_ASSERT_EQUAL(csv_field_find("Usage", &f), -1);
}

/* ---- the batch: AGS, duplicates, parts, ids ---- */

static void
test_ags(void)
{
	struct rd r;

	/* the column names it; rows without it get it */
	rd_read(&r, "municipality_ags,external_id,revision\n14521020,A-1,1\n,A-2,2\n");
	CU_ASSERT_STRING_EQUAL(sync_batch_finish(&r.b, NULL, &r.p), "14521020");
	CU_ASSERT_STRING_EQUAL(up(&r, 1)->municipality_ags, "14521020");
	rd_free(&r);

	/* rows must agree */
	rd_read(&r, "municipality_ags,external_id,revision\n14521020,A-1,1\n14521035,A-2,2\n");
	CU_ASSERT_PTR_NOT_NULL(find(&r, 3, "column A", "differs from 14521020 on line 2"));
	rd_free(&r);

	/* --ags must agree with the file */
	rd_read(&r, "municipality_ags,external_id,revision\n14521020,A-1,1\n");
	CU_ASSERT_PTR_NULL(sync_batch_finish(&r.b, "14521035", &r.p));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, NULL, "but --ags says 14521035"));
	rd_free(&r);

	/* none at all; a malformed one */
	rd_read(&r, "external_id,revision\nA-1,1\n");
	CU_ASSERT_PTR_NULL(sync_batch_finish(&r.b, NULL, &r.p));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 0, NULL, "no municipality key"));
	rd_free(&r);
	rd_read(&r, "external_id,revision\nA-1,1\n");
	CU_ASSERT_PTR_NULL(sync_batch_finish(&r.b, "1452102", &r.p));
	CU_ASSERT_PTR_NULL(sync_batch_finish(&r.b, "99521020", &r.p));
	CU_ASSERT_STRING_EQUAL(sync_batch_finish(&r.b, "14521020", &r.p), "14521020");
	CU_ASSERT_STRING_EQUAL(up(&r, 0)->municipality_ags, "14521020");
	rd_free(&r);

	CU_ASSERT(sync_ags_valid("14521020"));
	CU_ASSERT(sync_ags_valid("01001000"));
	CU_ASSERT(!sync_ags_valid("17001000"));
	CU_ASSERT(!sync_ags_valid("00001000"));
	CU_ASSERT(!sync_ags_valid("1452102a"));
	CU_ASSERT(!sync_ags_valid("145210200"));
}

static void
test_duplicates_and_empty(void)
{
	struct rd r;

	rd_read(&r, "action,external_id,revision\n,A-1,1\n,A-2,1\n,A-1,2\nD,A-1,3\n");
	CU_ASSERT_PTR_NULL(sync_batch_finish(&r.b, "14521020", &r.p));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 4, NULL, "'A-1' also on line 2"));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 5, NULL, "'A-1' also on line 2"));
	CU_ASSERT_EQUAL(r.p.errors, 2);
	rd_free(&r);

	rd_read(&r, "external_id,revision\n");
	CU_ASSERT_PTR_NULL(sync_batch_finish(&r.b, "14521020", &r.p));
	CU_ASSERT_PTR_NOT_NULL(find(&r, 0, NULL, "no changes"));
	rd_free(&r);
}

static void
test_plan(void)
{
	struct rd r;
	struct buf text;
	struct sync_part *parts = NULL;
	size_t n = 0, total = 0;

	buf_init(&text, 0);
	buf_adds(&text, "external_id,revision,description\n");
	for (int i = 0; i < 25; i++)
		buf_printf(&text, "A-%02d,%d,%0200d\n", i, i + 1, 0);
	rd_read(&r, text.data);
	CU_ASSERT_EQUAL_FATAL(r.b.n, 25);

	/* by count */
	CU_ASSERT_EQUAL(sync_plan(&r.b, 10, SYNC_MAX_PART, &parts, &n, &r.p), 0);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT(parts[0].start == 0 && parts[0].n == 10);
	CU_ASSERT(parts[1].start == 10 && parts[1].n == 10);
	CU_ASSERT(parts[2].start == 20 && parts[2].n == 5);
	free(parts);

	/* by bytes: each change is ~215 bytes, so 1024 + 5 * 230 bytes hold 5 */
	CU_ASSERT_EQUAL(sync_plan(&r.b, 1000, 1024 + 5 * 230, &parts, &n, &r.p), 0);
	CU_ASSERT_EQUAL_FATAL(n, 5);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT(parts[i].bytes <= 5 * 230);
		CU_ASSERT_EQUAL(parts[i].start, total);
		total += parts[i].n;
	}
	CU_ASSERT_EQUAL(total, 25);
	free(parts);

	/* a change larger than a part is an error naming its line */
	CU_ASSERT_EQUAL(sync_plan(&r.b, 1000, 1024 + 100, &parts, &n, &r.p), -1);
	CU_ASSERT_PTR_NOT_NULL(find(&r, 2, NULL, "more than a transfer may hold"));
	CU_ASSERT_PTR_NULL(parts);
	rd_free(&r);
	buf_free(&text);
}

static void
test_transfer_ids(void)
{
	char a[17], b[17], c[17], d[17];

	CU_ASSERT_EQUAL(sync_transfer_base("abc", 3, 0, "14521020", 5000, a), 0);
	CU_ASSERT_EQUAL(sync_transfer_base("abc", 3, 0, "14521020", 5000, b), 0);
	CU_ASSERT_EQUAL(sync_transfer_base("abc", 3, 1, "14521020", 5000, c), 0);
	CU_ASSERT_EQUAL(sync_transfer_base("abc", 3, 0, "14521035", 5000, d), 0);
	CU_ASSERT_EQUAL(strlen(a), 16);
	CU_ASSERT_STRING_EQUAL(a, b); /* a retry sends the same id */
	CU_ASSERT_STRING_NOT_EQUAL(a, c);
	CU_ASSERT_STRING_NOT_EQUAL(a, d);
	/* SHA-256("abcpartial14521020/5000"), first 8 bytes */
	CU_ASSERT_STRING_EQUAL(a, "f3393a0de29f9f2a");
	/* the same file split differently gets other transfer ids (no 409) */
	CU_ASSERT_EQUAL(sync_transfer_base("abc", 3, 0, "14521020", 4000, d), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, d);

	CU_ASSERT(sync_transfer_id_valid("demo-14521020"));
	CU_ASSERT(sync_transfer_id_valid("a.b_c:d-1"));
	CU_ASSERT(!sync_transfer_id_valid(""));
	CU_ASSERT(!sync_transfer_id_valid("mit leer"));
	CU_ASSERT(!sync_transfer_id_valid("ümlaut"));
	CU_ASSERT(!sync_transfer_id_valid(
	    "0123456789012345678901234567890123456789012345678901234567890123456789"
	    "012345678901234567890123456789x"));

	CU_ASSERT_EQUAL(sync_detect_format("a.CSV", "<x", 2), SYNC_FORMAT_CSV);
	CU_ASSERT_EQUAL(sync_detect_format("a.xml", "x,y", 3), SYNC_FORMAT_OPENIMMO);
	CU_ASSERT_EQUAL(sync_detect_format("export", "\xef\xbb\xbf \n<?xml", 10),
			SYNC_FORMAT_OPENIMMO);
	CU_ASSERT_EQUAL(sync_detect_format("dir.xml/export", "a;b", 3), SYNC_FORMAT_CSV);
}

void
test_csv_register(void)
{
	CU_pSuite s = CU_add_suite("csv", NULL, NULL);

	CU_add_test(s, "one row per change, fields by header name", test_basic);
	CU_add_test(s, "RFC 4180: quotes, escapes, line breaks in cells, CRLF", test_rfc4180);
	CU_add_test(s, "quote errors with line and column", test_quote_errors);
	CU_add_test(s, "';' detected, BOM skipped, decimal comma",
		    test_delimiter_bom_decimal_comma);
	CU_add_test(s, "money normalised to two decimals", test_money);
	CU_add_test(s, "bad cells: every error with line and column", test_cell_errors);
	CU_add_test(s, "booleans and German dates", test_bool_and_dates);
	CU_add_test(s, "header: unknown, duplicate and nameless columns", test_header_errors);
	CU_add_test(s, "row shape: blank rows, cell counts, empty id", test_row_shape);
	CU_add_test(s, "action D: withdrawals; I and empty: upserts", test_withdrawals);
	CU_add_test(s, "repeated fields with '|': sets and lists", test_lists);
	CU_add_test(s, "attachments as JSON", test_attachments_json);
	CU_add_test(s, "cells that are not UTF-8", test_utf8);
	CU_add_test(s, "limits: columns, cell size, file size", test_limits);
	CU_add_test(s, "all errors counted, the first listed", test_problem_cap);
	CU_add_test(s, "field names", test_field_lookup);
	CU_add_test(s, "the AGS of a batch", test_ags);
	CU_add_test(s, "duplicate external_ids, empty file", test_duplicates_and_empty);
	CU_add_test(s, "split into parts by count and bytes", test_plan);
	CU_add_test(s, "transfer ids and file formats", test_transfer_ids);
}
