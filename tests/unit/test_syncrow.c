/*
 * test_syncrow: the transfer in the shape registry.apply_transfer() stores
 * it (daemon/syncrow.c, migration 014): reshaped fields, written defaults,
 * and the PERSONAL fields only where they belong.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "syncrow.h"

void test_syncrow_register(void);

static char *
encode(Vacancy__V1__SyncRequest *req)
{
	struct buf b;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL_FATAL(syncrow_encode(req, &b), 0);
	return buf_detach(&b, NULL);
}

static void
t_upsert(void)
{
	Vacancy__V1__SyncRequest req = VACANCY__V1__SYNC_REQUEST__INIT;
	Vacancy__V1__RecordChange ch = VACANCY__V1__RECORD_CHANGE__INIT, *chs[1] = {&ch};
	Vacancy__V1__Record rec = VACANCY__V1__RECORD__INIT;
	Vacancy__V1__LatLon ll = VACANCY__V1__LAT_LON__INIT;
	Vacancy__V1__Attachment a1 = VACANCY__V1__ATTACHMENT__INIT;
	Vacancy__V1__Attachment a2 = VACANCY__V1__ATTACHMENT__INIT;
	Vacancy__V1__Attachment *atts[2] = {&a1, &a2};
	char *json, *d, *h, *p;

	rec.external_id = "B-1";
	rec.has_revision = 1;
	rec.revision = 18446744073709551615ULL;
	rec.municipality_ags = "14521020";
	rec.title = "Laden \"am Markt\"";
	rec.owner_name = "Erika Muster";
	rec.has_vacancy_reason = 1;
	rec.vacancy_reason = VACANCY__V1__VACANCY_REASON__VALUE__HEIRS_DISPUTE;
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

	json = encode(&req);
	{
		const char *head = "[{\"u\":true,\"x\":\"B-1\",\"r\":\"18446744073709551615\",\"d\":{";

		CU_ASSERT_EQUAL(strncmp(json, head, strlen(head)), 0);
	}
	d = strstr(json, "\"d\":");
	h = strstr(json, "\"h\":");
	p = strstr(json, "\"p\":");
	CU_ASSERT_FATAL(d != NULL && h != NULL && p != NULL && d < h && h < p);
	h[-1] = p[-1] = '\0'; /* the commas: d, h, p are now separate strings */
	/* the row: reshaped and complete */
	CU_ASSERT_PTR_NULL(strstr(d, "external_id"));
	CU_ASSERT_PTR_NULL(strstr(d, "\"revision\""));
	CU_ASSERT_PTR_NULL(strstr(d, "\"location\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "\"lat\":50.5,\"lon\":12.25"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "\"title\":\"Laden \\\"am Markt\\\"\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "\"owner_name\":\"Erika Muster\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "\"vacancy_reason\":\"HEIRS_DISPUTE\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "\"attachment_rights_holders\":[\"Foto Schmidt\",null]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "\"attachments\":[{\"url\":\"https://example.invalid/a.jpg\"},"
					 "{\"url\":\"https://example.invalid/b.pdf\"}],"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "\"marketing\":[]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "\"parcel_ids\":[]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "\"price_on_request\":false"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d, "\"location_blur_m\":0"));
	/* the history document every staff reader sees: no PERSONAL field */
	CU_ASSERT_PTR_NOT_NULL(strstr(h, "\"lat\":50.5"));
	CU_ASSERT_PTR_NOT_NULL(strstr(h, "\"attachments\":[{"));
	CU_ASSERT_PTR_NULL(strstr(h, "Erika"));
	CU_ASSERT_PTR_NULL(strstr(h, "HEIRS_DISPUTE"));
	CU_ASSERT_PTR_NULL(strstr(h, "Foto Schmidt"));
	CU_ASSERT_PTR_NULL(strstr(h, "attachment_rights_holders"));
	/* the PERSONAL document */
	CU_ASSERT_STRING_EQUAL(p, "\"p\":{\"vacancy_reason\":\"HEIRS_DISPUTE\",\"owner_name\":\"Erika "
				  "Muster\",\"attachment_rights_holders\":[\"Foto Schmidt\",null]}}]");
	/* the request is as it was */
	CU_ASSERT_STRING_EQUAL(rec.external_id, "B-1");
	CU_ASSERT(rec.has_revision && rec.location == &ll && rec.n_attachments == 2);
	CU_ASSERT_STRING_EQUAL(a1.rights_holder, "Foto Schmidt");
	CU_ASSERT_STRING_EQUAL(rec.owner_name, "Erika Muster");
	free(json);
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
	char *json;

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

	json = encode(&req);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"marketing\":[\"SALE\"]"));
	CU_ASSERT_PTR_NULL(strstr(json, "\"marketing\":[]"));
	CU_ASSERT_PTR_NULL(strstr(json, "\"price_on_request\":false"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"location_blur_m\":250"));
	CU_ASSERT_PTR_NULL(strstr(json, "\"location_blur_m\":0"));
	CU_ASSERT_PTR_NULL(strstr(json, "\"lat\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"attachments\":[],\"attachment_rights_holders\":[]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, ",\"p\":null}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "},{\"u\":false,\"x\":\"B-3\",\"r\":\"7\"}]"));
	free(json);

	/* an empty transfer is an empty array; a change with no member is refused */
	req.n_changes = 0;
	json = encode(&req);
	CU_ASSERT_STRING_EQUAL(json, "[]");
	free(json);
	{
		struct buf b;

		c1.change_case = VACANCY__V1__RECORD_CHANGE__CHANGE__NOT_SET;
		req.n_changes = 1;
		buf_init(&b, 0);
		CU_ASSERT_EQUAL(syncrow_encode(&req, &b), -1);
		buf_free(&b);
	}
}

void
test_syncrow_register(void)
{
	CU_pSuite s = CU_add_suite("syncrow", NULL, NULL);

	CU_add_test(s, "an upsert: row, history documents, PERSONAL fields", t_upsert);
	CU_add_test(s, "defaults written once, withdrawals, empty and bad", t_defaults_and_withdrawal);
}
