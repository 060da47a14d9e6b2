/*
 * test_sync: POST /v1/sync against the real daemon and database: a mixed
 * transfer rejected whole with every error listed, the valid part applied,
 * replays, conflicts, stale revisions, FULL withdrawals, field-level
 * history (also through GET /v1/records/{id}/history), validate_only, every
 * class of bad input, roles, the database restarted in the middle of a
 * transfer, and concurrent transfers of one municipality.
 */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "codec.h"
#include "harness.h"
#include "json.h"
#include "vacancy.pb-c.h"

#define AGS "14521020"

static struct daemon dmn;
static char *tok_muni, *tok_other, *tok_county, *tok_investor;

/* A valid record: external_id ext, revision rev, title title. Static
 * storage inside; fields point to literals or to the record's own buffers. */
struct rec {
	Vacancy__V1__Record r;
	Vacancy__V1__LatLon loc;
	Vacancy__V1__Usage__Value usage[1];
	char ext[64], title[128];
};

static void
rec_init(struct rec *x, const char *ext, uint64_t rev, const char *title)
{
	vacancy__v1__record__init(&x->r);
	vacancy__v1__lat_lon__init(&x->loc);
	snprintf(x->ext, sizeof(x->ext), "%s", ext);
	snprintf(x->title, sizeof(x->title), "%s", title);
	x->r.municipality_ags = AGS;
	x->r.external_id = x->ext;
	x->r.has_revision = 1;
	x->r.revision = rev;
	x->r.last_verified_at = "2026-10-01";
	x->r.has_publication = 1;
	x->r.publication = VACANCY__V1__PUBLICATION__VALUE__PUBLIC;
	x->r.has_owner_consent = 1;
	x->r.owner_consent = VACANCY__V1__OWNER_CONSENT__VALUE__CONSENTED;
	x->r.has_site_kind = 1;
	x->r.site_kind = VACANCY__V1__SITE_KIND__VALUE__UNIT;
	x->usage[0] = VACANCY__V1__USAGE__VALUE__COMMERCIAL;
	x->r.n_usage = 1;
	x->r.usage = x->usage;
	x->r.has_object_type = 1;
	x->r.object_type = VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL;
	x->r.has_status = 1;
	x->r.status = VACANCY__V1__STATUS__VALUE__MARKETED;
	x->r.street = "Buchholzer Straße";
	x->r.house_number = "12";
	x->r.postcode = "09456";
	x->r.locality = "Annaberg-Buchholz";
	x->loc.has_lat = x->loc.has_lon = 1;
	x->loc.lat = 50.5797;
	x->loc.lon = 13.0061;
	x->r.location = &x->loc;
	x->r.title = x->title;
	x->r.owner_name = "Owner of "
			  "the test";
	x->r.has_usable_area_m2 = 1;
	x->r.usable_area_m2 = 140;
}

/* A transfer of n changes; changes[i] upserts recs[i] or withdraws. */
struct xfer {
	Vacancy__V1__SyncRequest q;
	Vacancy__V1__RecordChange *ch[64];
	Vacancy__V1__RecordChange chs[64];
	Vacancy__V1__Withdrawal wd[64];
};

static void
xfer_init(struct xfer *t, const char *transfer_id, int full)
{
	vacancy__v1__sync_request__init(&t->q);
	t->q.transfer_id = (char *)transfer_id;
	t->q.municipality_ags = AGS;
	t->q.has_scope = 1;
	t->q.scope =
	    full ? VACANCY__V1__SYNC_SCOPE__VALUE__FULL : VACANCY__V1__SYNC_SCOPE__VALUE__PARTIAL;
	t->q.changes = t->ch;
}

static void
xfer_upsert(struct xfer *t, struct rec *x)
{
	size_t i = t->q.n_changes++;

	vacancy__v1__record_change__init(&t->chs[i]);
	t->chs[i].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
	t->chs[i].upsert = &x->r;
	t->ch[i] = &t->chs[i];
}

static void
xfer_withdraw(struct xfer *t, const char *ext, uint64_t rev)
{
	size_t i = t->q.n_changes++;

	vacancy__v1__record_change__init(&t->chs[i]);
	vacancy__v1__withdrawal__init(&t->wd[i]);
	t->wd[i].external_id = (char *)ext;
	t->wd[i].has_revision = 1;
	t->wd[i].revision = rev;
	t->chs[i].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW;
	t->chs[i].withdraw = &t->wd[i];
	t->ch[i] = &t->chs[i];
}

/* POSTs t as protobuf with token; the decoded SyncResponse (200) or NULL. */
static Vacancy__V1__SyncResponse *
post(const struct xfer *t, const char *token, struct http_resp *r)
{
	size_t n = protobuf_c_message_get_packed_size(&t->q.base);
	uint8_t *b = malloc(n + 1);

	protobuf_c_message_pack(&t->q.base, b);
	harness_http(&dmn, "POST", "/v1/sync", token, NULL, "application/x-protobuf", b, n, NULL,
		     r);
	free(b);
	if (r->status != 200)
		return NULL;
	return vacancy__v1__sync_response__unpack(NULL, r->len, (const uint8_t *)r->body);
}

/* Sends x alone as transfer_id; checks the answer's created and unchanged counts. */
static void
sync_expect(struct rec *x, const char *transfer_id, uint32_t created, uint32_t unchanged)
{
	struct xfer t;
	struct http_resp r;
	Vacancy__V1__SyncResponse *s;

	xfer_init(&t, transfer_id, 0);
	xfer_upsert(&t, x);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->created, created);
	CU_ASSERT_EQUAL(s->unchanged, unchanged);
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
}

static Vacancy__V1__Error *
error_of(const struct http_resp *r)
{
	return vacancy__v1__error__unpack(NULL, r->len, (const uint8_t *)r->body);
}

static long
count(const char *sql)
{
	char *v = harness_sql_value(sql);
	long n = v ? atol(v) : -1;

	free(v);
	return n;
}

#define RECORDS                                                                                    \
	"SELECT count(*) FROM registry.record r JOIN registry.record_internal i USING "            \
	"(record_id) WHERE i.municipality_ags = '" AGS "'"
#define LIVE	RECORDS " AND r.withdrawn_at IS NULL"
#define HISTORY "SELECT count(*) FROM registry.history"
#define FEED	"SELECT count(*) FROM registry.feed"

static int
suite_init(void)
{
	if (harness_sql("TRUNCATE registry.record, registry.transfer, registry.feed, "
			"registry.sync_session_item, registry.personal_access_log CASCADE") == -1)
		return -1;
	if (harness_daemon_start(&dmn, "max_sync_records = 20\nauth_cache_ttl_ms = 60000\n"
				       "max_sync_body_bytes = 1M") == -1 ||
	    harness_daemon_wait_healthy(&dmn, 10000) == -1)
		return -1;
	tok_muni = harness_token(&dmn, "municipality", AGS);
	tok_other = harness_token(&dmn, "municipality", "14521035");
	tok_county = harness_token(&dmn, "county", "14521");
	tok_investor = harness_token(&dmn, "investor", "");
	return tok_muni && tok_other && tok_county && tok_investor ? 0 : -1;
}

static int
suite_clean(void)
{
	int rc = harness_daemon_stop(&dmn);

	free(tok_muni);
	free(tok_other);
	free(tok_county);
	free(tok_investor);
	return rc == 0 ? 0 : -1;
}

/* Finds an error for (index, field, code) in a list. */
static int
has_error(Vacancy__V1__FieldError **e, size_t n, uint32_t index, const char *field,
	  const char *code)
{
	for (size_t i = 0; i < n; i++)
		if (e[i]->has_index && e[i]->index == index && e[i]->field &&
		    strcmp(e[i]->field, field) == 0 && e[i]->code && strcmp(e[i]->code, code) == 0)
			return 1;
	return 0;
}

static void
test_mixed_rejected_then_valid_part(void)
{
	struct rec a, b, c, d;
	struct xfer t;
	struct http_resp r;
	Vacancy__V1__Error *e;
	Vacancy__V1__SyncResponse *s;
	long before = count(RECORDS), hist = count(HISTORY);

	rec_init(&a, "M-1", 1, "Laden am Markt");
	rec_init(&b, "M-2", 1, "Büro");
	rec_init(&c, "M-3", 1, "Halle");
	rec_init(&d, "M-4", 1, "Gewerbe");
	b.r.postcode = "945";	       /* bad postcode */
	b.r.has_construction_year = 1; /* and a bad year in the same record */
	b.r.construction_year = 999;
	d.r.municipality_ags = "14521035"; /* another municipality's record */
	d.loc.lat = 60.0;		   /* outside Germany */
	xfer_init(&t, "mixed-1", 0);
	xfer_upsert(&t, &a);
	xfer_upsert(&t, &b);
	xfer_upsert(&t, &c);
	xfer_upsert(&t, &d);
	CU_ASSERT_PTR_NULL(post(&t, tok_muni, &r));
	CU_ASSERT_EQUAL(r.status, 422);
	e = error_of(&r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(e->code, "INVALID_ARGUMENT");
	CU_ASSERT(has_error(e->field_errors, e->n_field_errors, 1, "postcode", "INVALID_FORMAT"));
	CU_ASSERT(
	    has_error(e->field_errors, e->n_field_errors, 1, "construction_year", "OUT_OF_RANGE"));
	CU_ASSERT(has_error(e->field_errors, e->n_field_errors, 3, "municipality_ags",
			    "WRONG_MUNICIPALITY"));
	CU_ASSERT(
	    has_error(e->field_errors, e->n_field_errors, 3, "location.lat", "OUTSIDE_GERMANY") ||
	    has_error(e->field_errors, e->n_field_errors, 3, "location", "OUTSIDE_GERMANY"));
	for (size_t i = 0; i < e->n_field_errors; i++) {
		CU_ASSERT(e->field_errors[i]->index == 1 || e->field_errors[i]->index == 3);
		CU_ASSERT_PTR_NOT_NULL(e->field_errors[i]->external_id);
		CU_ASSERT_PTR_NOT_NULL(e->field_errors[i]->message);
	}
	vacancy__v1__error__free_unpacked(e, NULL);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(count(RECORDS), before);
	CU_ASSERT_EQUAL(count(HISTORY), hist);

	/* the valid part, under the same transfer_id: a rejected transfer is not recorded */
	xfer_init(&t, "mixed-1", 0);
	xfer_upsert(&t, &a);
	xfer_upsert(&t, &c);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->created, 2);
	CU_ASSERT_EQUAL(s->updated + s->unchanged + s->withdrawn + s->stale, 0);
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(count(RECORDS), before + 2);
}

static void
test_replay_and_conflict(void)
{
	struct rec a;
	struct xfer t;
	struct http_resp r;
	Vacancy__V1__SyncResponse *s;
	long recs, hist, feed;

	rec_init(&a, "R-1", 1, "Replay");
	xfer_init(&t, "replay-1", 0);
	xfer_upsert(&t, &a);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->created, 1);
	CU_ASSERT_FALSE(s->has_replayed && s->replayed);
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	recs = count(RECORDS);
	hist = count(HISTORY);
	feed = count(FEED);
	/* the same transfer again: the first answer, nothing changed */
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->created, 1);
	CU_ASSERT(s->has_replayed && s->replayed);
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(count(RECORDS), recs);
	CU_ASSERT_EQUAL(count(HISTORY), hist);
	CU_ASSERT_EQUAL(count(FEED), feed);
	/* the same transfer as JSON is the same transfer */
	{
		struct buf b;
		buf_init(&b, 0);
		CU_ASSERT_EQUAL(json_encode(&t.q.base, &b, 0), 0);
		harness_http(&dmn, "POST", "/v1/sync", tok_muni, "application/json",
			     "application/json", b.data, b.len, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"replayed\":true"));
		harness_resp_free(&r);
		buf_free(&b);
	}
	/* the same transfer_id with other content: 409 */
	a.r.revision = 2;
	snprintf(a.title, sizeof(a.title), "Other");
	CU_ASSERT_PTR_NULL(post(&t, tok_muni, &r));
	CU_ASSERT_EQUAL(r.status, 409);
	CU_ASSERT_PTR_NOT_NULL(memmem(r.body, r.len, "CONFLICT", 8));
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(count(HISTORY), hist);
}

static void
test_revisions_history_withdraw(void)
{
	struct rec a;
	struct xfer t;
	struct http_resp r;
	Vacancy__V1__SyncResponse *s;
	char path[128], *id;
	long hist, feed;

	rec_init(&a, "H-1", 5, "Erste Fassung");
	sync_expect(&a, "hist-1", 1, 0);
	/* created: its fields without the PERSONAL ones, those apart, its status */
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.history WHERE transfer_id = 'hist-1' AND field = "
		  "'(created)' AND tier = 'INTERNAL' AND new_value::jsonb->>'title' = 'Erste "
		  "Fassung' AND (new_value::jsonb->>'lat')::float8 BETWEEN 47 AND 56 AND "
		  "new_value::jsonb->>'marketing' IS NOT NULL AND NOT new_value::jsonb ?| "
		  "registry.personal_keys() AND new_value NOT LIKE '%Owner of%'"),
	    1);
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.history h JOIN registry.history_personal p "
		  "USING (history_id) WHERE h.transfer_id = 'hist-1' AND h.field = '(created)' AND "
		  "h.tier = 'PERSONAL' AND h.new_value IS NULL AND "
		  "p.new_value::jsonb->>'owner_name' LIKE 'Owner of%'"),
	    1);
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.history WHERE transfer_id = 'hist-1' AND field = "
		  "'status' AND old_value IS NULL AND new_value = 'MARKETED'"),
	    1);
	/* equal content, even with a newer revision: unchanged, no history, no feed */
	hist = count(HISTORY);
	feed = count(FEED);
	a.r.revision = 6;
	xfer_init(&t, "hist-2", 0);
	xfer_upsert(&t, &a);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->unchanged, 1);
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(count(HISTORY), hist);
	CU_ASSERT_EQUAL(count(FEED), feed);
	/* other content, older revision: stale, reported, not applied */
	a.r.revision = 4;
	snprintf(a.title, sizeof(a.title), "Veraltet");
	xfer_init(&t, "hist-3", 0);
	xfer_upsert(&t, &a);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->stale, 1);
	CU_ASSERT(has_error(s->errors, s->n_errors, 0, "revision", "STALE"));
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(count(HISTORY), hist);
	/* newer: updated, one history row per changed field (title, status, owner) */
	a.r.revision = 7;
	snprintf(a.title, sizeof(a.title), "Zweite Fassung");
	a.r.status = VACANCY__V1__STATUS__VALUE__RESERVED;
	a.r.owner_name = "New owner";
	xfer_init(&t, "hist-4", 0);
	xfer_upsert(&t, &a);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->updated, 1);
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(count(HISTORY), hist + 3);
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.history WHERE transfer_id = 'hist-4' AND field = "
		  "'title' AND old_value = 'Erste Fassung' AND new_value = 'Zweite Fassung'"),
	    1);
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.history WHERE transfer_id = 'hist-4' AND field = "
		  "'status' AND old_value = 'MARKETED' AND new_value = 'RESERVED'"),
	    1);
	/* a PERSONAL value never sits in the history table itself */
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM registry.history WHERE old_value LIKE '%Owner "
			      "of%' OR new_value LIKE '%New owner%'"),
			0);
	/* the history endpoint, for the owner and the county; logged */
	id = harness_sql_value(
	    "SELECT record_id FROM registry.record_internal WHERE external_id = 'H-1'");
	CU_ASSERT_PTR_NOT_NULL_FATAL(id);
	snprintf(path, sizeof(path), "/v1/records/%s/history", id);
	{
		long logged = count("SELECT count(*) FROM registry.personal_access_log");
		Vacancy__V1__History *h;
		int title = 0, owner = 0;

		harness_http(&dmn, "GET", path, tok_county, NULL, NULL, NULL, 0, NULL, &r);
		CU_ASSERT_EQUAL_FATAL(r.status, 200);
		h = vacancy__v1__history__unpack(NULL, r.len, (const uint8_t *)r.body);
		CU_ASSERT_PTR_NOT_NULL_FATAL(h);
		for (size_t i = 0; i < h->n_entries; i++) {
			Vacancy__V1__HistoryEntry *en = h->entries[i];
			CU_ASSERT_PTR_NOT_NULL(en->changed_at);
			CU_ASSERT_PTR_NOT_NULL(en->principal);
			CU_ASSERT_PTR_NOT_NULL(en->transfer_id);
			if (en->field && strcmp(en->field, "title") == 0 && en->old_value &&
			    strcmp(en->old_value, "Erste Fassung") == 0 && en->new_value &&
			    strcmp(en->new_value, "Zweite Fassung") == 0 && en->revision == 7)
				title = 1;
			if (en->field && strcmp(en->field, "owner_name") == 0 && en->new_value &&
			    strcmp(en->new_value, "New owner") == 0)
				owner = 1;
		}
		CU_ASSERT(title);
		CU_ASSERT(owner);
		vacancy__v1__history__free_unpacked(h, NULL);
		harness_resp_free(&r);
		CU_ASSERT_EQUAL(count("SELECT count(*) FROM registry.personal_access_log"),
				logged + 1);
		/* neither investors nor other municipalities */
		harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 403);
		harness_resp_free(&r);
		harness_http(&dmn, "GET", path, tok_other, NULL, NULL, NULL, 0, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 403);
		harness_resp_free(&r);
	}
	/* withdraw: a tombstone with the revision, in the feed */
	feed = count(FEED);
	xfer_init(&t, "hist-5", 0);
	xfer_withdraw(&t, "H-1", 8);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->withdrawn, 1);
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM registry.record r JOIN "
			      "registry.record_internal i USING (record_id) WHERE i.external_id = "
			      "'H-1' AND r.withdrawn_at IS NOT NULL AND i.revision = 8"),
			1);
	CU_ASSERT_EQUAL(count(FEED), feed + 1);
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.feed f JOIN registry.record_internal i USING "
		  "(record_id) WHERE i.external_id = 'H-1' AND f.kind = 'WITHDRAW'"),
	    1);
	/* the investor no longer sees it */
	snprintf(path, sizeof(path), "/v1/records/%s", id);
	harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	harness_resp_free(&r);
	free(id);
}

static void
test_full_withdraws_omitted(void)
{
	struct rec a, b, c;
	struct xfer t;
	struct http_resp r;
	Vacancy__V1__SyncResponse *s;
	long live;

	rec_init(&a, "F-1", 1, "eins");
	rec_init(&b, "F-2", 1, "zwei");
	rec_init(&c, "F-3", 1, "drei");
	xfer_init(&t, "full-0", 0);
	xfer_upsert(&t, &a);
	xfer_upsert(&t, &b);
	xfer_upsert(&t, &c);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	live = count(LIVE);
	CU_ASSERT(live >= 3);
	/* FULL naming only F-1: everything else of the municipality is withdrawn */
	xfer_init(&t, "full-1", 1);
	xfer_upsert(&t, &a);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->unchanged, 1);
	CU_ASSERT_EQUAL(s->withdrawn, (uint32_t)(live - 1));
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(count(LIVE), 1);
	/* tombstones, not deletes */
	CU_ASSERT_EQUAL(count(RECORDS) >= live, 1);
	/* a FULL stock in two parts: the first part's records survive the second */
	xfer_init(&t, "full-2a", 0);
	t.q.full_session = "sess-1";
	xfer_upsert(&t, &b);
	b.r.revision = 2;
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->updated, 1); /* brought back */
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	xfer_init(&t, "full-2b", 1);
	t.q.full_session = "sess-1";
	c.r.revision = 2;
	xfer_upsert(&t, &c);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->updated, 1);
	CU_ASSERT_EQUAL(s->withdrawn, 1); /* F-1, named in neither part */
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(count(LIVE), 2);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM registry.sync_session_item"), 0);
}

static void
test_validate_only(void)
{
	struct rec a, b;
	struct xfer t;
	struct http_resp r;
	Vacancy__V1__SyncResponse *s;
	long recs = count(RECORDS), hist = count(HISTORY);

	rec_init(&a, "V-1", 1, "prüfen");
	rec_init(&b, "V-2", 1, "prüfen");
	xfer_init(&t, "check-1", 0);
	t.q.has_validate_only = 1;
	t.q.validate_only = 1;
	xfer_upsert(&t, &a);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->created, 1); /* what would happen */
	CU_ASSERT(s->has_validate_only && s->validate_only);
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	/* invalid: 200 with the errors, still nothing written */
	b.r.postcode = NULL;
	xfer_upsert(&t, &b);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->rejected, 1);
	CU_ASSERT(has_error(s->errors, s->n_errors, 1, "postcode", "REQUIRED"));
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(count(RECORDS), recs);
	CU_ASSERT_EQUAL(count(HISTORY), hist);
	/* and the transfer_id is still free */
	t.q.validate_only = 0;
	t.q.n_changes = 1;
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->created, 1);
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
}

static void
expect_status(const char *ctype, const void *body, size_t len, const char *token, long status,
	      const char *code, const char *needle)
{
	struct http_resp r;

	harness_http(&dmn, "POST", "/v1/sync", token, "application/json", ctype, body, len, NULL,
		     &r);
	if (r.status != status)
		fprintf(stderr, "\n  expected %ld, got %ld: %s", status, r.status, r.body);
	CU_ASSERT_EQUAL(r.status, status);
	if (code)
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, code));
	if (needle)
		CU_ASSERT_PTR_NOT_NULL(strstr(r.body, needle));
	harness_resp_free(&r);
}

static void
test_bad_input(void)
{
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0x0f, 0x01, 0x02};
	struct rec a;
	struct xfer t;
	uint8_t buf[4096];
	size_t n;
	long recs = count(RECORDS);

	rec_init(&a, "B-1", 1, "bad input");
	xfer_init(&t, "bad-1", 0);
	xfer_upsert(&t, &a);
	n = protobuf_c_message_pack(&t.q.base, buf);
	/* malformed protobuf, truncated body, wrong content type */
	expect_status("application/x-protobuf", garbage, sizeof(garbage), tok_muni, 400,
		      "INVALID_ARGUMENT", NULL);
	expect_status("application/x-protobuf", buf, n - 7, tok_muni, 400, "INVALID_ARGUMENT",
		      NULL);
	expect_status("text/csv", buf, n, tok_muni, 415, "UNSUPPORTED_MEDIA_TYPE", NULL);
	expect_status(NULL, buf, n, tok_muni, 415, NULL, NULL);
	/* an unknown protobuf field inside a record */
	{
		uint8_t ext[4200];
		uint8_t rec[2048];
		size_t rn = protobuf_c_message_pack(&a.r.base, rec), k = 0;
		/* rec + field 999 varint 1 */
		rec[rn++] = 0xb8;
		rec[rn++] = 0x3e;
		rec[rn++] = 0x01;
		/* SyncRequest: 1 transfer_id, 2 ags, 3 scope, 5 { 1 upsert } */
		ext[k++] = 0x0a, ext[k++] = 5, memcpy(ext + k, "bad-2", 5), k += 5;
		ext[k++] = 0x12, ext[k++] = 8, memcpy(ext + k, AGS, 8), k += 8;
		ext[k++] = 0x18, ext[k++] = 1;
		ext[k++] = 0x2a, ext[k++] = (uint8_t)(rn + 3 > 127 ? 0 : rn + 3);
		if (rn + 3 <= 127) {
			ext[k++] = 0x0a, ext[k++] = (uint8_t)rn;
			memcpy(ext + k, rec, rn), k += rn;
			expect_status("application/x-protobuf", ext, k, tok_muni, 400,
				      "INVALID_ARGUMENT", "changes[0].upsert");
		}
	}
	/* JSON: unknown field, wrong type, malformed */
	{
		const char *unk = "{\"transferId\":\"j1\",\"municipalityAgs\":\"" AGS
				  "\",\"scope\":\"PARTIAL\",\"changes\":[],\"colour\":\"red\"}";
		const char *typ =
		    "{\"transferId\":\"j1\",\"municipalityAgs\":\"" AGS
		    "\",\"scope\":\"PARTIAL\",\"changes\":[{\"upsert\":{\"revision\":\"x\"}}]}";
		const char *bad = "{\"transferId\":";
		expect_status("application/json", unk, strlen(unk), tok_muni, 400,
			      "INVALID_ARGUMENT", "colour");
		expect_status("application/json", typ, strlen(typ), tok_muni, 400,
			      "INVALID_ARGUMENT", "revision");
		expect_status("application/json", bad, strlen(bad), tok_muni, 400,
			      "INVALID_ARGUMENT", NULL);
	}
	/* over max_sync_records (20 here): 413 naming the limit */
	{
		static struct rec many[21];
		struct xfer big;
		char ext_id[16];

		xfer_init(&big, "big-1", 0);
		for (int i = 0; i < 21; i++) {
			snprintf(ext_id, sizeof(ext_id), "BIG-%d", i);
			rec_init(&many[i], ext_id, 1, "many");
			xfer_upsert(&big, &many[i]);
		}
		n = protobuf_c_message_pack(&big.q.base, buf);
		CU_ASSERT(n < sizeof(buf));
		expect_status("application/x-protobuf", buf, n, tok_muni, 413, "PAYLOAD_TOO_LARGE",
			      "max_sync_records");
	}
	/* another municipality's AGS: 403, nothing written */
	t.q.municipality_ags = "14521035";
	n = protobuf_c_message_pack(&t.q.base, buf);
	expect_status("application/x-protobuf", buf, n, tok_muni, 403, "PERMISSION_DENIED", NULL);
	/* roles: county and investor may not sync */
	t.q.municipality_ags = AGS;
	n = protobuf_c_message_pack(&t.q.base, buf);
	expect_status("application/x-protobuf", buf, n, tok_county, 403, "PERMISSION_DENIED", NULL);
	expect_status("application/x-protobuf", buf, n, tok_investor, 403, "PERMISSION_DENIED",
		      NULL);
	expect_status("application/x-protobuf", buf, n, NULL, 401, "UNAUTHENTICATED", NULL);
	CU_ASSERT_EQUAL(count(RECORDS), recs);
}

struct post_arg {
	struct xfer *t;
	long status;
	Vacancy__V1__SyncResponse *s;
};

static void *
post_thread(void *p)
{
	struct post_arg *a = p;
	struct http_resp r;

	a->s = post(a->t, tok_muni, &r);
	a->status = r.status;
	harness_resp_free(&r);
	return NULL;
}

static void
test_database_crash_mid_transfer(void)
{
	struct rec a, b;
	struct xfer t;
	struct post_arg arg;
	pthread_t th;
	PGconn *lock;
	PGresult *res;
	long recs, hist, feed;

	rec_init(&a, "DB-1", 1, "mitten im Transfer");
	rec_init(&b, "DB-2", 1, "mitten im Transfer");
	xfer_init(&t, "restart-1", 0);
	xfer_upsert(&t, &a);
	xfer_upsert(&t, &b);
	recs = count(RECORDS);
	hist = count(HISTORY);
	feed = count(FEED);
	/* hold the feed lock: the transfer does all its writes and then waits
	 * for it, inside its transaction */
	lock = harness_pg(harness_env("VACANCY_TEST_PG_CONNINFO"));
	res = PQexec(lock, "SELECT pg_advisory_lock(hashtext('vacancyd.feed'))");
	CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	arg.t = &t;
	arg.s = NULL;
	pthread_create(&th, NULL, post_thread, &arg);
	/* wait until the transfer is blocked on the lock */
	for (int i = 0; i < 100; i++) {
		if (count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
			  "AND query LIKE '%apply_transfer%'") == 1)
			break;
		usleep(50000);
	}
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
		  "AND query LIKE '%apply_transfer%'"),
	    1);
	/* the database dies: an immediate stop releases nothing (a fast one
	 * could let the lock holder go first and the transfer commit), then
	 * it starts again with crash recovery */
	CU_ASSERT_EQUAL(system(harness_env("VACANCY_TEST_PG_CRASH")), 0);
	pthread_join(th, NULL);
	PQfinish(lock);
	/* the client was told; nothing of the transfer is visible */
	CU_ASSERT_EQUAL(arg.status, 503);
	CU_ASSERT_PTR_NULL(arg.s);
	CU_ASSERT_EQUAL(count(RECORDS), recs);
	CU_ASSERT_EQUAL(count(HISTORY), hist);
	CU_ASSERT_EQUAL(count(FEED), feed);
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.transfer WHERE transfer_id = 'restart-1'"), 0);
	/* the retry with the same transfer_id applies it exactly once */
	CU_ASSERT_EQUAL_FATAL(harness_daemon_wait_healthy(&dmn, 15000), 0);
	post_thread(&arg);
	CU_ASSERT_EQUAL(arg.status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(arg.s);
	CU_ASSERT_EQUAL(arg.s->created, 2);
	CU_ASSERT_FALSE(arg.s->has_replayed && arg.s->replayed);
	vacancy__v1__sync_response__free_unpacked(arg.s, NULL);
	post_thread(&arg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(arg.s);
	CU_ASSERT(arg.s->has_replayed && arg.s->replayed);
	vacancy__v1__sync_response__free_unpacked(arg.s, NULL);
	CU_ASSERT_EQUAL(count(RECORDS), recs + 2);
}

static void
test_concurrent_transfers(void)
{
	static struct rec recs1[10], recs2[10];
	struct xfer t1, t2;
	struct post_arg a1 = {&t1, 0, NULL}, a2 = {&t2, 0, NULL};
	pthread_t th1, th2;
	char ext[16];
	long before = count(RECORDS);

	xfer_init(&t1, "conc-1", 0);
	xfer_init(&t2, "conc-2", 0);
	for (int i = 0; i < 10; i++) {
		snprintf(ext, sizeof(ext), "C1-%d", i);
		rec_init(&recs1[i], ext, 1, "eins");
		xfer_upsert(&t1, &recs1[i]);
		snprintf(ext, sizeof(ext), "C2-%d", i);
		rec_init(&recs2[i], ext, 1, "zwei");
		xfer_upsert(&t2, &recs2[i]);
	}
	pthread_create(&th1, NULL, post_thread, &a1);
	pthread_create(&th2, NULL, post_thread, &a2);
	pthread_join(th1, NULL);
	pthread_join(th2, NULL);
	CU_ASSERT_EQUAL(a1.status, 200);
	CU_ASSERT_EQUAL(a2.status, 200);
	CU_ASSERT(a1.s && a1.s->created == 10);
	CU_ASSERT(a2.s && a2.s->created == 10);
	if (a1.s)
		vacancy__v1__sync_response__free_unpacked(a1.s, NULL);
	if (a2.s)
		vacancy__v1__sync_response__free_unpacked(a2.s, NULL);
	CU_ASSERT_EQUAL(count(RECORDS), before + 20);
	/* and each transfer's feed rows are contiguous: commit order */
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM (SELECT seq, lag(i.external_id) OVER (ORDER BY "
			      "seq) AS prev, i.external_id FROM registry.feed f JOIN "
			      "registry.record_internal i USING (record_id) WHERE i.external_id "
			      "LIKE 'C_-%') x WHERE left(prev, 2) <> left(external_id, 2)"),
			1);
}

/* Sends a as the only change of a new transfer, expects it created, and
 * returns its record_id (malloc'd). */
static char *
create_one(struct rec *a, const char *transfer_id)
{
	struct xfer t;
	struct http_resp r;
	Vacancy__V1__SyncResponse *s;
	char sql[256];

	xfer_init(&t, transfer_id, 0);
	xfer_upsert(&t, a);
	s = post(&t, tok_muni, &r);
	CU_ASSERT(s != NULL && s->created == 1);
	if (s)
		vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	snprintf(sql, sizeof(sql),
		 "SELECT record_id FROM registry.record_internal WHERE external_id = '%.64s'",
		 a->ext);
	return harness_sql_value(sql);
}

/* Cadastral coordinates (ETRS89/UTM 33N) without a WGS84 location: the
 * registry converts them with PostGIS and keeps the originals. */
static void
test_source_coordinates(void)
{
	struct rec a;
	struct xfer t;
	struct http_resp r;
	Vacancy__V1__Record *got;
	char path[128], *id;

	rec_init(&a, "UTM-1", 1, "Flurstück nach UTM");
	a.r.location = NULL;
	a.r.has_source_x = a.r.has_source_y = a.r.has_source_crs = 1;
	a.r.source_x = 357000.5; /* Annaberg-Buchholz in zone 33 */
	a.r.source_y = 5606000.25;
	a.r.source_crs = 25833;
	id = create_one(&a, "utm-1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(id);
	snprintf(path, sizeof(path), "/v1/records/%s", id);
	harness_http(&dmn, "GET", path, tok_muni, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	got = vacancy__v1__record__unpack(NULL, r.len, (const uint8_t *)r.body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got->location);
	/* EPSG:25833 (357000.5, 5606000.25) is about 50.5884 N, 12.9798 E */
	CU_ASSERT_DOUBLE_EQUAL(got->location->lat, 50.5884, 0.0005);
	CU_ASSERT_DOUBLE_EQUAL(got->location->lon, 12.9798, 0.0005);
	CU_ASSERT(got->has_source_x && got->source_x == 357000.5);
	CU_ASSERT(got->has_source_y && got->source_y == 5606000.25);
	CU_ASSERT(got->has_source_crs && got->source_crs == 25833);
	vacancy__v1__record__free_unpacked(got, NULL);
	harness_resp_free(&r);
	free(id);
	/* the same point in zone 32 lies far to the east: outside Germany */
	rec_init(&a, "UTM-2", 1, "falsche Zone");
	a.r.location = NULL;
	a.r.has_source_x = a.r.has_source_y = a.r.has_source_crs = 1;
	a.r.source_x = 990000;
	a.r.source_y = 5606000;
	a.r.source_crs = 25832;
	xfer_init(&t, "utm-2", 0);
	xfer_upsert(&t, &a);
	CU_ASSERT_PTR_NULL(post(&t, tok_muni, &r));
	CU_ASSERT_EQUAL(r.status, 422);
	/* a protobuf body holds zero bytes: search all of it */
	CU_ASSERT_PTR_NOT_NULL(memmem(r.body, r.len, "OUTSIDE_GERMANY", 15));
	harness_resp_free(&r);
}

/* A published, marketed record whose owner is unknown and who has not
 * consented: stored, but never shown to investors (the publication rule is
 * two-valued, absent values do not allow). */
static void
test_unknown_owner_not_published(void)
{
	struct rec a;
	struct xfer t;
	struct http_resp r;
	Vacancy__V1__SyncResponse *s;
	char path[128], *id;

	rec_init(&a, "OWN-1", 1, "Eigentümer unbekannt");
	a.r.owner_consent = VACANCY__V1__OWNER_CONSENT__VALUE__UNKNOWN;
	a.r.has_owner_category = 0;
	id = create_one(&a, "owner-1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(id);
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.record r JOIN registry.record_internal i USING "
		  "(record_id) WHERE i.external_id = 'OWN-1' AND NOT r.published"),
	    1);
	snprintf(path, sizeof(path), "/v1/records/%s", id);
	harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 404);
	harness_resp_free(&r);
	/* the owner turns out to be a business: now investors see it */
	a.r.has_owner_category = 1;
	a.r.owner_category = VACANCY__V1__OWNER_CATEGORY__VALUE__BUSINESS;
	a.r.revision = 2;
	xfer_init(&t, "owner-2", 0);
	xfer_upsert(&t, &a);
	s = post(&t, tok_muni, &r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->updated, 1);
	vacancy__v1__sync_response__free_unpacked(s, NULL);
	harness_resp_free(&r);
	harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	free(id);
}

/* One mirrored record: the last change seen for it. */
struct mirror {
	char id[40];
	int live;
	uint8_t *packed; /* the record's protobuf form when live */
	size_t len;
};

/* Replays the whole feed in pages of `limit` into m (at most max entries);
 * returns the number of records seen, or -1. */
static int
mirror_replay(struct mirror *m, int max, int limit, long *changes_seen)
{
	char cursor[32] = "0", path[128];
	int n = 0;

	*changes_seen = 0;
	for (int page = 0; page < 1000; page++) {
		struct http_resp r;
		Vacancy__V1__ChangeBatch *b;
		size_t got;

		snprintf(path, sizeof(path), "/v1/changes?after=%s&limit=%d", cursor, limit);
		harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, NULL, &r);
		if (r.status != 200) {
			harness_resp_free(&r);
			return -1;
		}
		b = vacancy__v1__change_batch__unpack(NULL, r.len, (const uint8_t *)r.body);
		CU_ASSERT_FALSE(memmem(r.body, r.len, "Owner of", 8) !=
				NULL); /* never personal data */
		harness_resp_free(&r);
		if (b == NULL)
			return -1;
		got = b->n_changes;
		for (size_t i = 0; i < got; i++) {
			Vacancy__V1__Change *c = b->changes[i];
			int k;

			for (k = 0; k < n && strcmp(m[k].id, c->record_id) != 0; k++)
				;
			if (k == n) {
				if (n == max)
					break;
				snprintf(m[n++].id, sizeof(m[0].id), "%s", c->record_id);
			}
			free(m[k].packed);
			m[k].packed = NULL;
			m[k].live = c->kind == VACANCY__V1__CHANGE_KIND__VALUE__UPSERT;
			if (m[k].live && c->record) {
				m[k].len = protobuf_c_message_get_packed_size(&c->record->base);
				m[k].packed = malloc(m[k].len);
				protobuf_c_message_pack(&c->record->base, m[k].packed);
			}
			(*changes_seen)++;
		}
		CU_ASSERT_PTR_NOT_NULL(b->next_cursor);
		snprintf(cursor, sizeof(cursor), "%s", b->next_cursor ? b->next_cursor : "0");
		vacancy__v1__change_batch__free_unpacked(b, NULL);
		if (got < (size_t)limit)
			break;
	}
	return n;
}

/* A mirror that replays the feed from the start holds exactly the published
 * records, each as GET /v1/records/{id} shows it now; never-visible records
 * are never mentioned; paging loses and repeats nothing. */
static void
test_feed_mirror(void)
{
	static struct mirror m[512], m2[512];
	struct rec hidden;
	struct http_resp r;
	long seen, seen2, published;
	int n, n2, live = 0;
	char *hid;

	/* a record investors never see */
	rec_init(&hidden, "HIDDEN-1", 1, "nie sichtbar");
	hidden.r.publication = VACANCY__V1__PUBLICATION__VALUE__INTERNAL;
	hid = create_one(&hidden, "feed-hidden");
	CU_ASSERT_PTR_NOT_NULL_FATAL(hid);

	n = mirror_replay(m, 512, 7, &seen);
	CU_ASSERT_FATAL(n > 0);
	published = count("SELECT count(*) FROM investor.published_record");
	for (int k = 0; k < n; k++) {
		char sql[160], path[96];

		CU_ASSERT_STRING_NOT_EQUAL(m[k].id, hid);
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM investor.published_record WHERE record_id = '%.36s'",
			 m[k].id);
		CU_ASSERT_EQUAL(count(sql), m[k].live);
		if (!m[k].live)
			continue;
		live++;
		snprintf(path, sizeof(path), "/v1/records/%.36s", m[k].id);
		harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT(r.len == m[k].len && m[k].packed &&
			  memcmp(r.body, m[k].packed, r.len) == 0);
		harness_resp_free(&r);
	}
	CU_ASSERT_EQUAL(live, published);
	/* one page or many: the same changes */
	n2 = mirror_replay(m2, 512, 500, &seen2);
	CU_ASSERT_EQUAL(n2, n);
	CU_ASSERT_EQUAL(seen2, seen);
	CU_ASSERT_EQUAL(seen, count("SELECT count(*) FROM investor.changes"));
	for (int k = 0; k < 512; k++) {
		free(m[k].packed);
		free(m2[k].packed);
	}
	/* the end of the feed answers an empty batch that keeps the cursor */
	harness_http(&dmn, "GET", "/v1/changes?after=999999999&limit=5", tok_investor,
		     "application/json", NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"nextCursor\":\"999999999\""));
	harness_resp_free(&r);
	free(hid);
}

/* Runs the client against the suite's daemon as the municipality. */
static int
client(const char *args, char *out, size_t outlen)
{
	char cmd[2048];

	snprintf(
	    cmd, sizeof(cmd),
	    "VACANCY_URL=https://127.0.0.1:%d VACANCY_CACERT=%s/ca.pem VACANCY_TOKEN=%s %s %s 2>&1",
	    dmn.port, harness_env("VACANCY_TEST_TLS"), tok_muni, harness_env("VACANCY_TEST_CLIENT"),
	    args);
	return harness_run(cmd, out, outlen);
}

/* The same sites as CSV and as OpenImmo give the same records: the second
 * file, applied after the first, changes nothing. */
static void
test_csv_and_openimmo_agree(void)
{
	char out[16384];
	long before = count(RECORDS), hist;

	/* OpenImmo has no municipality key: without --ags nothing is sent */
	CU_ASSERT_EQUAL(client("sync --check clients/examples/leerstand.xml", out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "no municipality key"));
	CU_ASSERT_EQUAL(
	    client("sync --check --ags " AGS " clients/examples/leerstand.xml", out, sizeof(out)),
	    0);
	CU_ASSERT_EQUAL(count(RECORDS), before); /* --check writes nothing */
	CU_ASSERT_EQUAL(client("sync clients/examples/leerstand.csv", out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "created"));
	CU_ASSERT(count(RECORDS) > before);
	hist = count(HISTORY);
	CU_ASSERT_EQUAL(
	    client("sync --json --ags " AGS " clients/examples/leerstand.xml", out, sizeof(out)),
	    0);
	/* eleven sites and one withdrawal of a site the registry never had */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"created\":0,\"updated\":0,\"unchanged\":12,"));
	CU_ASSERT_EQUAL(count(HISTORY), hist);
	/* and the first file again is a replay of its transfer */
	CU_ASSERT_EQUAL(client("sync --json clients/examples/leerstand.csv", out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"replayed\":true"));
	/* a file with errors: every error with its line, nothing sent */
	{
		char path[700];
		FILE *f;

		snprintf(path, sizeof(path), "%s/bad.csv", dmn.dir);
		f = fopen(path, "w");
		fprintf(f, "municipality_ags,external_id,revision,postcode,colour\n" AGS
			   ",X-1,1,0945,red\n");
		fclose(f);
		{
			char args[800];
			snprintf(args, sizeof(args), "sync %s", path);
			CU_ASSERT_EQUAL(client(args, out, sizeof(out)), 1);
		}
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "colour"));
	}
}

/*
 * Text that the sync_change[] literal must escape (daemon/syncrow.c: four
 * levels of nesting) arrives in the database as sent, and the same record
 * sent again is unchanged.
 */
static void
test_literal_roundtrip(void)
{
	static const char title[] = "Laden \"Alt\\Neu\" (Markt), {Ecke} NULL";
	static const char *holders[5] = {"NULL", "12,5", "7\"a\\b", "{1}", NULL};
	Vacancy__V1__Attachment att[5], *atts[5];
	struct rec a;

	rec_init(&a, "LIT-1", 1, title);
	a.r.locality = "NULL";
	a.r.internal_notes = "Zeile 1\nZeile \"2\"\t\\";
	for (int i = 0; i < 5; i++) {
		vacancy__v1__attachment__init(&att[i]);
		att[i].url = "https://example.invalid/plan.pdf";
		att[i].has_group = 1;
		att[i].group = VACANCY__V1__ATTACHMENT_GROUP__VALUE__FLOORPLAN;
		att[i].rights_holder = (char *)holders[i];
		atts[i] = &att[i];
	}
	a.r.n_attachments = 5;
	a.r.attachments = atts;
	sync_expect(&a, "lit-1", 1, 0);
	sync_expect(&a, "lit-2", 0, 1); /* the same again */
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.record r JOIN registry.record_internal i "
		  "USING (record_id) JOIN registry.record_personal p USING (record_id) "
		  "WHERE i.external_id = 'LIT-1' "
		  "AND r.title = $t$Laden \"Alt\\Neu\" (Markt), {Ecke} NULL$t$ "
		  "AND r.locality = 'NULL' AND jsonb_array_length(r.attachments) = 5 "
		  "AND p.attachment_rights_holders IS NOT DISTINCT FROM ARRAY['NULL', '12,5', "
		  "$p$7\"a\\b$p$, '{1}', NULL] AND i.internal_notes = E'Zeile 1\\nZeile "
		  "\"2\"\\t\\\\'"),
	    1);
}

/* SQL that must fail with a foreign-key violation (23503) and nothing else. */
static int
fk_refused(const char *stmt)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "DO $$ BEGIN %s; RAISE EXCEPTION 'accepted'; "
		 "EXCEPTION WHEN foreign_key_violation THEN NULL; END $$",
		 stmt);
	return harness_sql(sql) == 0;
}

/*
 * History's references (migration 017: checked once per statement, not by
 * foreign keys): rows naming a missing record or principal, and PERSONAL
 * values naming a missing history row, are refused; deleting a record takes
 * its history and PERSONAL values with it.
 */
static void
test_history_references(void)
{
	struct rec a;
	char sql[512], *id, *principal;

	rec_init(&a, "REF-1", 1, "Referenzen");
	sync_expect(&a, "refs-1", 1, 0);
	id = harness_sql_value("SELECT record_id FROM registry.record_internal "
			       "WHERE external_id = 'REF-1'");
	principal = harness_sql_value("SELECT principal_id FROM registry.history h JOIN "
				      "registry.record_internal i USING (record_id) "
				      "WHERE i.external_id = 'REF-1' LIMIT 1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(principal);
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.history h JOIN "
		  "registry.history_personal p USING (history_id) "
		  "WHERE h.record_id IN (SELECT record_id FROM registry.record_internal "
		  "WHERE external_id = 'REF-1')"),
	    1);

	/* a missing record, among existing ones in the same statement */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO registry.history (record_id, principal_id, municipality_ags, "
		 "transfer_id, revision, field, tier, new_value) VALUES "
		 "('%s', %s, '" AGS "', 'refs-x', 1, 'status', 'PUBLIC', 'MARKETED'), "
		 "(gen_random_uuid(), %s, '" AGS "', 'refs-x', 1, 'status', 'PUBLIC', 'MARKETED')",
		 id, principal, principal);
	CU_ASSERT(fk_refused(sql));
	/* a missing principal */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO registry.history (record_id, principal_id, municipality_ags, "
		 "transfer_id, revision, field, tier, new_value) VALUES "
		 "('%s', -7, '" AGS "', 'refs-x', 1, 'status', 'PUBLIC', 'MARKETED')",
		 id);
	CU_ASSERT(fk_refused(sql));
	/* an update that points a row elsewhere */
	snprintf(sql, sizeof(sql),
		 "UPDATE registry.history SET record_id = gen_random_uuid() WHERE record_id = '%s'",
		 id);
	CU_ASSERT(fk_refused(sql));
	/* a PERSONAL value of no history row */
	CU_ASSERT(fk_refused("INSERT INTO registry.history_personal (history_id, new_value) "
			     "VALUES (-1, '{}')"));
	/* a correct row is taken, and nothing of the refused ones was */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO registry.history (record_id, principal_id, municipality_ags, "
		 "transfer_id, revision, field, tier, new_value) VALUES "
		 "('%s', %s, '" AGS "', 'refs-ok', 1, 'status', 'PUBLIC', 'MARKETED')",
		 id, principal);
	CU_ASSERT_EQUAL(harness_sql(sql), 0);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM registry.history WHERE transfer_id = 'refs-x'"),
			0);

	/* deleting the record deletes its history and its PERSONAL values */
	snprintf(sql, sizeof(sql), "DELETE FROM registry.record WHERE record_id = '%s'", id);
	CU_ASSERT_EQUAL(harness_sql(sql), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM registry.history WHERE record_id = '%s'",
		 id);
	CU_ASSERT_EQUAL(count(sql), 0);
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.history_personal p WHERE NOT EXISTS "
		  "(SELECT 1 FROM registry.history h WHERE h.history_id = p.history_id)"),
	    0);
	free(id);
	free(principal);
}

void test_sync_register(void);
void
test_sync_register(void)
{
	CU_pSuite s = CU_add_suite("sync", suite_init, suite_clean);

	CU_add_test(s, "mixed transfer rejected whole, valid part applied",
		    test_mixed_rejected_then_valid_part);
	CU_add_test(s, "replay and conflict", test_replay_and_conflict);
	CU_add_test(s, "revisions, history, withdrawal", test_revisions_history_withdraw);
	CU_add_test(s, "FULL withdraws what it omits", test_full_withdraws_omitted);
	CU_add_test(s, "validate_only", test_validate_only);
	CU_add_test(s, "unknown owner without consent: stored, not published",
		    test_unknown_owner_not_published);
	CU_add_test(s, "source coordinates converted, originals kept", test_source_coordinates);
	CU_add_test(s, "bad input", test_bad_input);
	CU_add_test(s, "database dies in the middle of a transfer",
		    test_database_crash_mid_transfer);
	CU_add_test(s, "concurrent transfers", test_concurrent_transfers);
	CU_add_test(s, "CSV and OpenImmo give the same records", test_csv_and_openimmo_agree);
	CU_add_test(s, "feed: a mirror equals the published records", test_feed_mirror);
	CU_add_test(s, "awkward text survives the row literal", test_literal_roundtrip);
	CU_add_test(s, "history references: checked per statement, cascaded",
		    test_history_references);
}
