/*
 * test_codec: content negotiation, the budgeted allocator, decoding of
 * protobuf and JSON bodies (budget exhaustion, strict refusal of unknown
 * fields with their path, truncated input) and encoding, of daemon/codec.c.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "vacancy.pb-c.h"

void test_codec_register(void);

#define UUID "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6a"

/* An unknown varint field, number 999 (tag (999 << 3) | 0 = 7992), value 1. */
static const uint8_t unknown999[] = {0xb8, 0x3e, 0x01};

/* Packs msg into a new buffer (owned by the caller). */
static uint8_t *
pack(const ProtobufCMessage *msg, size_t *len)
{
	uint8_t *p;

	*len = protobuf_c_message_get_packed_size(msg);
	p = malloc(*len ? *len : 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(protobuf_c_message_pack(msg, p), *len);
	return p;
}

/* Appends a varint to p at *n. */
static void
put_varint(uint8_t *p, size_t *n, size_t v)
{
	while (v >= 0x80) {
		p[(*n)++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[(*n)++] = (uint8_t)v;
}

/* Appends field `number` as length-delimited bytes (body, len) to p at *n. */
static void
put_bytes_field(uint8_t *p, size_t *n, unsigned number, const uint8_t *body, size_t len)
{
	put_varint(p, n, (size_t)number << 3 | 2);
	put_varint(p, n, len);
	memcpy(p + *n, body, len);
	*n += len;
}

/* A small record of string, enum, double, repeated and message fields (static storage). */
static void
small_record(Vacancy__V1__Record *r, Vacancy__V1__LatLon *loc)
{
	static Vacancy__V1__Usage__Value usage[] = {VACANCY__V1__USAGE__VALUE__COMMERCIAL};

	vacancy__v1__record__init(r);
	vacancy__v1__lat_lon__init(loc);
	loc->has_lat = 1, loc->lat = 50.58;
	loc->has_lon = 1, loc->lon = 12.99;
	r->record_id = (char *)UUID;
	r->municipality_ags = (char *)"14521000";
	r->has_status = 1, r->status = VACANCY__V1__STATUS__VALUE__MARKETED;
	r->n_usage = 1, r->usage = usage;
	r->location = loc;
	r->has_usable_area_m2 = 1, r->usable_area_m2 = 420.5;
	r->title = (char *)"Ladenlokal am Markt";
}

static void
test_content_type(void)
{
	static const char *const pb[] = {
	    "application/x-protobuf",
	    "application/protobuf",
	    "application/octet-stream",
	    "Application/X-Protobuf",
	    "application/x-protobuf; messageType=vacancy.v1.SyncRequest",
	    " application/x-protobuf ",
	};
	static const char *const js[] = {
	    "application/json",
	    "application/json; charset=utf-8",
	    "application/json;charset=UTF-8",
	    "APPLICATION/JSON",
	    "Application/Json ; Charset=\"utf-8\"",
	    "\tapplication/json\t;charset=utf-8",
	};
	static const char *const bad[] = {
	    "",
	    "text/plain",
	    "text/json",
	    "application/jsonx",
	    "application/json-patch+json",
	    "application/x-protobuffer",
	    "application/xml",
	    "application",
	    "json",
	    "*/*",
	    "application/*",
	    "; application/json",
	    "application/json, application/x-protobuf",
	};
	enum codec_format f;

	for (size_t i = 0; i < sizeof(pb) / sizeof(pb[0]); i++) {
		f = CODEC_JSON;
		CU_ASSERT_EQUAL(codec_format_from_content_type(pb[i], &f), 0);
		CU_ASSERT_EQUAL(f, CODEC_PROTOBUF);
	}
	for (size_t i = 0; i < sizeof(js) / sizeof(js[0]); i++) {
		f = CODEC_PROTOBUF;
		CU_ASSERT_EQUAL(codec_format_from_content_type(js[i], &f), 0);
		CU_ASSERT_EQUAL(f, CODEC_JSON);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = codec_format_from_content_type(bad[i], &f);

		CU_ASSERT_EQUAL(rc, -1);
		if (rc != -1)
			fprintf(stderr, "\n  accepted: '%s'", bad[i]);
	}
	CU_ASSERT_EQUAL(codec_format_from_content_type(NULL, &f), -1);

	CU_ASSERT_STRING_EQUAL(codec_content_type(CODEC_PROTOBUF), "application/x-protobuf");
	CU_ASSERT_STRING_EQUAL(codec_content_type(CODEC_JSON), "application/json");
}

static void
test_accept(void)
{
	static const struct {
		const char *accept;
		enum codec_format want;
	} cases[] = {
	    {"application/json", CODEC_JSON},
	    {"application/x-protobuf", CODEC_PROTOBUF},
	    {"application/protobuf", CODEC_PROTOBUF},
	    {"application/json, application/x-protobuf", CODEC_JSON},
	    {"application/x-protobuf, application/json", CODEC_PROTOBUF},
	    {"application/protobuf,application/json", CODEC_PROTOBUF},
	    {"application/json;q=0.9,application/x-protobuf", CODEC_JSON},
	    {"text/html, application/xhtml+xml, application/json;q=0.9, */*;q=0.8", CODEC_JSON},
	    {"*/*", CODEC_PROTOBUF},
	    {"*/*, application/json", CODEC_JSON},
	    {"text/html,*/*", CODEC_PROTOBUF},
	    {"APPLICATION/JSON", CODEC_JSON},
	    {"application/json; charset=utf-8", CODEC_JSON},
	    {"  application/json  , text/plain", CODEC_JSON},
	    {"text/plain,  application/json", CODEC_JSON},
	    {"application/jsonl", CODEC_PROTOBUF},
	    {"text/json", CODEC_PROTOBUF},
	    {"", CODEC_PROTOBUF},
	    {",,,", CODEC_PROTOBUF},
	    {NULL, CODEC_PROTOBUF},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum codec_format got = codec_format_from_accept(cases[i].accept);

		CU_ASSERT_EQUAL(got, cases[i].want);
		if (got != cases[i].want)
			fprintf(stderr, "\n  Accept: '%s'",
				cases[i].accept ? cases[i].accept : "NULL");
	}
}

static void
test_budget_allocator(void)
{
	struct codec_budget b;
	void *p, *q, *r;

	codec_budget_init(&b, 1000);
	CU_ASSERT_EQUAL(b.limit, 1000);
	CU_ASSERT_EQUAL(b.used, 0);
	CU_ASSERT_EQUAL(b.exhausted, 0);
	CU_ASSERT_PTR_EQUAL(b.alloc.allocator_data, &b);

	p = b.alloc.alloc(b.alloc.allocator_data, 600);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 1, 600);
	CU_ASSERT_EQUAL((uintptr_t)p % 16, 0); /* aligned for any member */
	CU_ASSERT_EQUAL(b.used, 600);
	q = b.alloc.alloc(b.alloc.allocator_data, 400); /* exactly the limit */
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(b.used, 1000);
	CU_ASSERT_EQUAL(b.exhausted, 0);
	r = b.alloc.alloc(b.alloc.allocator_data, 1);
	CU_ASSERT_PTR_NULL(r);
	CU_ASSERT_EQUAL(b.exhausted, 1);
	CU_ASSERT_EQUAL(b.used, 1000);
	b.alloc.free(b.alloc.allocator_data, p);
	CU_ASSERT_EQUAL(b.used, 400);
	CU_ASSERT_EQUAL(b.peak, 1000);
	b.alloc.free(b.alloc.allocator_data, NULL);
	CU_ASSERT_EQUAL(b.used, 400);
	p = b.alloc.alloc(b.alloc.allocator_data, 600);
	CU_ASSERT_PTR_NOT_NULL(p);
	b.alloc.free(b.alloc.allocator_data, p);
	b.alloc.free(b.alloc.allocator_data, q);
	CU_ASSERT_EQUAL(b.used, 0);
	/* a request larger than any budget does not wrap around */
	CU_ASSERT_PTR_NULL(b.alloc.alloc(b.alloc.allocator_data, SIZE_MAX));
	CU_ASSERT_PTR_NULL(b.alloc.alloc(b.alloc.allocator_data, SIZE_MAX - 8));
	CU_ASSERT_EQUAL(b.used, 0);
}

#define NCHANGES 300

/* A SyncRequest of NCHANGES upserts with strings, arrays and nested messages, packed. */
static uint8_t *
big_sync_request(size_t *len)
{
	static Vacancy__V1__Usage__Value usage[] = {VACANCY__V1__USAGE__VALUE__RESIDENTIAL,
						    VACANCY__V1__USAGE__VALUE__MIXED};
	static char *parcels[] = {(char *)"14123400100012000000", (char *)"14123400100012000100"};
	Vacancy__V1__SyncRequest req = VACANCY__V1__SYNC_REQUEST__INIT;
	Vacancy__V1__RecordChange *changes, **pchanges;
	Vacancy__V1__Record *recs;
	Vacancy__V1__LatLon *locs;
	char(*ext)[32];
	uint8_t *out;

	changes = calloc(NCHANGES, sizeof(*changes));
	pchanges = calloc(NCHANGES, sizeof(*pchanges));
	recs = calloc(NCHANGES, sizeof(*recs));
	locs = calloc(NCHANGES, sizeof(*locs));
	ext = calloc(NCHANGES, sizeof(*ext));
	CU_ASSERT_FATAL(changes && pchanges && recs && locs && ext);
	req.transfer_id = (char *)"transfer-0001";
	req.municipality_ags = (char *)"14521000";
	req.has_scope = 1, req.scope = VACANCY__V1__SYNC_SCOPE__VALUE__FULL;
	for (size_t i = 0; i < NCHANGES; i++) {
		small_record(&recs[i], &locs[i]);
		snprintf(ext[i], sizeof(ext[i]), "OBJ-%05zu", i);
		recs[i].external_id = ext[i];
		recs[i].has_revision = 1, recs[i].revision = i + 1;
		recs[i].n_usage = 2, recs[i].usage = usage;
		recs[i].n_parcel_ids = 2, recs[i].parcel_ids = parcels;
		recs[i].description = (char *)"Ehemaliges Textilgeschäft mit Schaufensterfront, "
					      "Lager im Hof, Zufahrt über die Gartenstraße.";
		vacancy__v1__record_change__init(&changes[i]);
		changes[i].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
		changes[i].upsert = &recs[i];
		pchanges[i] = &changes[i];
	}
	req.n_changes = NCHANGES;
	req.changes = pchanges;
	out = pack(&req.base, len);
	free(ext);
	free(locs);
	free(recs);
	free(pchanges);
	free(changes);
	return out;
}

static void
test_budgeted_decode(void)
{
	size_t len, relen, limit, first_ok = 0;
	uint8_t *data = big_sync_request(&len), *again;
	struct codec_budget b;
	char err[256];
	int failed = 0, succeeded = 0;

	CU_ASSERT(len > 30000);
	/* from nothing to far more than needed, in steps of a sixteenth of the body */
	for (limit = 0; limit <= 64 * len; limit += len / 16) {
		ProtobufCMessage *msg;

		codec_budget_init(&b, limit);
		err[0] = '\0';
		msg = codec_decode(&vacancy__v1__sync_request__descriptor, CODEC_PROTOBUF, data,
				   len, &b, 32, 1, err, sizeof(err));
		CU_ASSERT(b.peak <= limit);
		if (msg == NULL) {
			failed++;
			/* clean failure: flagged, explained, nothing left allocated */
			CU_ASSERT_EQUAL(b.exhausted, 1);
			CU_ASSERT_EQUAL(b.used, 0);
			CU_ASSERT(err[0] != '\0');
			CU_ASSERT_PTR_NOT_NULL(strstr(err, "memory"));
			/* once a limit sufficed, every larger one must too */
			CU_ASSERT_EQUAL(first_ok, 0);
			continue;
		}
		succeeded++;
		if (first_ok == 0)
			first_ok = limit;
		CU_ASSERT_EQUAL(b.exhausted, 0);
		CU_ASSERT(b.used > len);
		CU_ASSERT_EQUAL(((Vacancy__V1__SyncRequest *)msg)->n_changes, NCHANGES);
		/* the decoded message is the one that was sent */
		again = pack(msg, &relen);
		CU_ASSERT_EQUAL(relen, len);
		CU_ASSERT(relen == len && memcmp(again, data, len) == 0);
		free(again);
		protobuf_c_message_free_unpacked(msg, &b.alloc);
		CU_ASSERT_EQUAL(b.used, 0);
	}
	CU_ASSERT(failed > 0);
	CU_ASSERT(succeeded > 0);

	/* a generous budget always suffices */
	codec_budget_init(&b, (size_t)1 << 30);
	ProtobufCMessage *msg = codec_decode(&vacancy__v1__sync_request__descriptor, CODEC_PROTOBUF,
					     data, len, &b, 32, 1, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT(b.used > len && b.peak >= b.used);
	protobuf_c_message_free_unpacked(msg, &b.alloc);
	CU_ASSERT_EQUAL(b.used, 0);
	free(data);
}

/* Decodes data as desc with a generous budget; strict as given. */
static ProtobufCMessage *
decode(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len, int strict,
       struct codec_budget *b, char *err, size_t errlen)
{
	codec_budget_init(b, 1 << 24);
	err[0] = '\0';
	return codec_decode(desc, CODEC_PROTOBUF, data, len, b, 32, strict, err, errlen);
}

static void
test_strict_top_level(void)
{
	Vacancy__V1__Record r;
	Vacancy__V1__LatLon loc;
	Vacancy__V1__Record *got;
	struct codec_budget b;
	uint8_t *packed, *data;
	size_t len;
	char err[256];

	small_record(&r, &loc);
	packed = pack(&r.base, &len);
	data = malloc(len + sizeof(unknown999));
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	memcpy(data, packed, len);
	memcpy(data + len, unknown999, sizeof(unknown999));

	/* the valid record alone passes strict mode */
	got = (Vacancy__V1__Record *)decode(&vacancy__v1__record__descriptor, packed, len, 1, &b,
					    err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got->record_id, UUID);
	protobuf_c_message_free_unpacked(&got->base, &b.alloc);
	CU_ASSERT_EQUAL(b.used, 0);

	/* strict: refused, naming the field number, nothing left allocated */
	got = (Vacancy__V1__Record *)decode(&vacancy__v1__record__descriptor, data,
					    len + sizeof(unknown999), 1, &b, err, sizeof(err));
	CU_ASSERT_PTR_NULL(got);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "999"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown"));
	CU_ASSERT_EQUAL(b.used, 0);
	CU_ASSERT_EQUAL(b.exhausted, 0);
	err[0] = '\0';
	CU_ASSERT_EQUAL(codec_find_unknown(&r.base, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");

	/* not strict: accepted, the unknown field kept aside */
	got = (Vacancy__V1__Record *)decode(&vacancy__v1__record__descriptor, data,
					    len + sizeof(unknown999), 0, &b, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(got->title, "Ladenlokal am Markt");
	CU_ASSERT_EQUAL(got->base.n_unknown_fields, 1);
	CU_ASSERT_EQUAL(got->base.unknown_fields[0].tag, 999);
	/* and codec_find_unknown finds it there */
	CU_ASSERT_EQUAL(codec_find_unknown(&got->base, err, sizeof(err)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "999"));
	protobuf_c_message_free_unpacked(&got->base, &b.alloc);
	CU_ASSERT_EQUAL(b.used, 0);

	free(data);
	free(packed);
}

static void
test_strict_nested(void)
{
	Vacancy__V1__SyncRequest req = VACANCY__V1__SYNC_REQUEST__INIT;
	Vacancy__V1__RecordChange wchange = VACANCY__V1__RECORD_CHANGE__INIT;
	Vacancy__V1__RecordChange *pw = &wchange;
	Vacancy__V1__Withdrawal w = VACANCY__V1__WITHDRAWAL__INIT;
	Vacancy__V1__Record r;
	Vacancy__V1__LatLon loc;
	Vacancy__V1__SyncRequest *got;
	struct codec_budget b;
	uint8_t *head, *rec, *data, change[1024];
	size_t hlen, rlen, clen = 0, dlen = 0;
	char err[256];

	/* changes[0]: a withdrawal; changes[1]: an upsert whose record has field 999 */
	w.external_id = (char *)"OBJ-1", w.has_revision = 1, w.revision = 7;
	wchange.change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW;
	wchange.withdraw = &w;
	req.transfer_id = (char *)"t-1";
	req.municipality_ags = (char *)"14521000";
	req.n_changes = 1, req.changes = &pw;
	head = pack(&req.base, &hlen);
	small_record(&r, &loc);
	rec = pack(&r.base, &rlen);
	CU_ASSERT_FATAL(rlen + 16 < sizeof(change));
	{
		uint8_t body[1024];

		memcpy(body, rec, rlen);
		memcpy(body + rlen, unknown999, sizeof(unknown999));
		put_bytes_field(change, &clen, 1, body, rlen + sizeof(unknown999)); /* upsert */
	}
	data = malloc(hlen + clen + 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	memcpy(data, head, hlen);
	dlen = hlen;
	put_bytes_field(data, &dlen, 5, change, clen); /* changes[1] */

	got = (Vacancy__V1__SyncRequest *)decode(&vacancy__v1__sync_request__descriptor, data, dlen,
						 1, &b, err, sizeof(err));
	CU_ASSERT_PTR_NULL(got);
	/* the path names the element and the member */
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "changes[1].upsert: unknown field number 999"));
	CU_ASSERT_EQUAL(b.used, 0);

	got = (Vacancy__V1__SyncRequest *)decode(&vacancy__v1__sync_request__descriptor, data, dlen,
						 0, &b, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_EQUAL_FATAL(got->n_changes, 2);
	CU_ASSERT_EQUAL(got->changes[0]->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW);
	CU_ASSERT_EQUAL_FATAL(got->changes[1]->change_case,
			      VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT);
	CU_ASSERT_EQUAL(got->changes[1]->upsert->base.n_unknown_fields, 1);
	CU_ASSERT_STRING_EQUAL(got->changes[1]->upsert->record_id, UUID);
	protobuf_c_message_free_unpacked(&got->base, &b.alloc);
	CU_ASSERT_EQUAL(b.used, 0);

	/* deeper still: inside the record's location, inside changes[0].upsert */
	{
		uint8_t locb[64], recb[1024], chb[1024], all[1100];
		size_t ln = 0, rn = 0, cn = 0, an = 0;
		Vacancy__V1__Record bare = VACANCY__V1__RECORD__INIT;
		uint8_t *bp;
		size_t blen;

		locb[ln++] = 0x09; /* lat, fixed64 */
		memcpy(locb + ln, &loc.lat, 8);
		ln += 8;
		memcpy(locb + ln, unknown999, sizeof(unknown999));
		ln += sizeof(unknown999);
		bare.record_id = (char *)UUID;
		bp = pack(&bare.base, &blen);
		memcpy(recb, bp, blen);
		rn = blen;
		put_bytes_field(recb, &rn, 34, locb, ln); /* location */
		put_bytes_field(chb, &cn, 1, recb, rn);	  /* upsert */
		put_bytes_field(all, &an, 5, chb, cn);	  /* changes[0] */
		free(bp);

		got = (Vacancy__V1__SyncRequest *)decode(&vacancy__v1__sync_request__descriptor,
							 all, an, 1, &b, err, sizeof(err));
		CU_ASSERT_PTR_NULL(got);
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(err, "changes[0].upsert.location: unknown field number 999"));
		CU_ASSERT_EQUAL(b.used, 0);
	}

	/* inside the withdrawal of a oneof: the member that is set is named */
	{
		uint8_t wb[64], chb[80], all[96];
		size_t wn = 0, cn = 0, an = 0;

		put_bytes_field(wb, &wn, 1, (const uint8_t *)"OBJ-1", 5); /* external_id */
		memcpy(wb + wn, unknown999, sizeof(unknown999));
		wn += sizeof(unknown999);
		put_bytes_field(chb, &cn, 2, wb, wn);  /* withdraw */
		put_bytes_field(all, &an, 5, chb, cn); /* changes[0] */
		got = (Vacancy__V1__SyncRequest *)decode(&vacancy__v1__sync_request__descriptor,
							 all, an, 1, &b, err, sizeof(err));
		CU_ASSERT_PTR_NULL(got);
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(err, "changes[0].withdraw: unknown field number 999"));
		CU_ASSERT_PTR_NULL(strstr(err, "upsert"));
		CU_ASSERT_EQUAL(b.used, 0);
	}

	/* unknown field at the top level of the SyncRequest: no path prefix */
	memcpy(data, head, hlen);
	memcpy(data + hlen, unknown999, sizeof(unknown999));
	got =
	    (Vacancy__V1__SyncRequest *)decode(&vacancy__v1__sync_request__descriptor, data,
					       hlen + sizeof(unknown999), 1, &b, err, sizeof(err));
	CU_ASSERT_PTR_NULL(got);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "999"));
	CU_ASSERT_STRING_EQUAL(err, "unknown fields are refused: unknown field number 999");
	CU_ASSERT_EQUAL(b.used, 0);

	free(data);
	free(rec);
	free(head);
}

/*
 * The path format codec.h documents: "changes[2].upsert: unknown field 99",
 * members joined with '.', the reason after ": ". (Regression: found by these
 * tests at fd55976, where every level added ": "; fixed in c9f08bb.)
 */
static void
test_strict_path_format(void)
{
	Vacancy__V1__Record r = VACANCY__V1__RECORD__INIT;
	uint8_t rec[64], change[80], req[96];
	size_t rn, cn = 0, qn = 0;
	char err[256];
	struct codec_budget b;

	r.record_id = (char *)"x";
	rn = protobuf_c_message_pack(&r.base, rec);
	memcpy(rec + rn, unknown999, sizeof(unknown999));
	rn += sizeof(unknown999);
	put_bytes_field(change, &cn, 1, rec, rn); /* upsert */
	put_bytes_field(req, &qn, 5, change, cn); /* changes[0] */
	put_bytes_field(req, &qn, 5, change, cn); /* changes[1] */
	put_bytes_field(req, &qn, 5, change, cn); /* changes[2] */
	CU_ASSERT_PTR_NULL(
	    decode(&vacancy__v1__sync_request__descriptor, req, qn, 1, &b, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "unknown fields are refused: changes[0].upsert: unknown field "
				    "number 999");
	CU_ASSERT_EQUAL(b.used, 0);
}

static void
test_truncated(void)
{
	Vacancy__V1__Record r;
	Vacancy__V1__LatLon loc;
	struct codec_budget b;
	uint8_t *packed;
	size_t len;
	char err[256];
	static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t bad_wire[] = {0x0f, 0x00}; /* field 1, wire type 7 */
	static const uint8_t long_len[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'};

	small_record(&r, &loc);
	packed = pack(&r.base, &len);
	CU_ASSERT_FATAL(len > 10);
	/* the record ends with its title, a string: cut it in the middle */
	CU_ASSERT_PTR_NULL(
	    decode(&vacancy__v1__record__descriptor, packed, len - 5, 1, &b, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a valid protobuf"));
	CU_ASSERT_EQUAL(b.exhausted, 0);
	CU_ASSERT_EQUAL(b.used, 0);
	CU_ASSERT_PTR_NULL(
	    decode(&vacancy__v1__record__descriptor, packed, len - 1, 0, &b, err, sizeof(err)));
	CU_ASSERT_EQUAL(b.used, 0);
	/* the whole record decodes */
	ProtobufCMessage *m =
	    decode(&vacancy__v1__record__descriptor, packed, len, 1, &b, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(m);
	if (m)
		protobuf_c_message_free_unpacked(m, &b.alloc);

	CU_ASSERT_PTR_NULL(decode(&vacancy__v1__record__descriptor, garbage, sizeof(garbage), 0, &b,
				  err, sizeof(err)));
	CU_ASSERT_EQUAL(b.used, 0);
	CU_ASSERT_PTR_NULL(decode(&vacancy__v1__record__descriptor, bad_wire, sizeof(bad_wire), 0,
				  &b, err, sizeof(err)));
	CU_ASSERT_EQUAL(b.used, 0);
	CU_ASSERT_PTR_NULL(decode(&vacancy__v1__record__descriptor, long_len, sizeof(long_len), 0,
				  &b, err, sizeof(err)));
	CU_ASSERT_EQUAL(b.used, 0);
	free(packed);
}

static void
test_json_decode(void)
{
	static const char body[] =
	    "{\"recordId\":\"" UUID "\",\"municipalityAgs\":\"14521000\",\"revision\":\"18\","
	    "\"status\":\"MARKETED\",\"usage\":[\"RESIDENTIAL\",\"MIXED\"],"
	    "\"location\":{\"lat\":50.5,\"lon\":13.0},\"usableAreaM2\":120.25}";
	Vacancy__V1__Record *r;
	struct codec_budget b;
	char err[256];

	codec_budget_init(&b, 1 << 20);
	r = (Vacancy__V1__Record *)codec_decode(&vacancy__v1__record__descriptor, CODEC_JSON,
						(const uint8_t *)body, strlen(body), &b, 32, 1, err,
						sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_EQUAL(r->base.descriptor, &vacancy__v1__record__descriptor);
	CU_ASSERT_STRING_EQUAL(r->record_id, UUID);
	CU_ASSERT_STRING_EQUAL(r->municipality_ags, "14521000");
	CU_ASSERT(r->has_revision && r->revision == 18);
	CU_ASSERT(r->has_status && r->status == VACANCY__V1__STATUS__VALUE__MARKETED);
	CU_ASSERT_EQUAL_FATAL(r->n_usage, 2);
	CU_ASSERT_EQUAL(r->usage[1], VACANCY__V1__USAGE__VALUE__MIXED);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->location);
	CU_ASSERT_DOUBLE_EQUAL(r->location->lon, 13.0, 0.0);
	CU_ASSERT(r->has_usable_area_m2 && r->usable_area_m2 == 120.25);
	CU_ASSERT_PTR_NULL(r->title);
	CU_ASSERT(b.used > 0);
	protobuf_c_message_free_unpacked(&r->base, &b.alloc);
	CU_ASSERT_EQUAL(b.used, 0);

	/* a JSON body that does not fit the budget */
	codec_budget_init(&b, 64);
	CU_ASSERT_PTR_NULL(codec_decode(&vacancy__v1__record__descriptor, CODEC_JSON,
					(const uint8_t *)body, strlen(body), &b, 32, 1, err,
					sizeof(err)));
	CU_ASSERT_EQUAL(b.exhausted, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "memory"));
	CU_ASSERT_EQUAL(b.used, 0);

	/* unknown keys, bad syntax, bad enum names are refused with a reason */
	static const char *const bad[] = {
	    "{\"recordId\":\"x\",\"noSuchField\":1}",
	    "{\"recordId\":",
	    "{\"status\":\"OPEN\"}",
	    "[]",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		codec_budget_init(&b, 1 << 20);
		err[0] = '\0';
		CU_ASSERT_PTR_NULL(codec_decode(&vacancy__v1__record__descriptor, CODEC_JSON,
						(const uint8_t *)bad[i], strlen(bad[i]), &b, 32, 1,
						err, sizeof(err)));
		CU_ASSERT(err[0] != '\0');
		CU_ASSERT_EQUAL(b.exhausted, 0);
		CU_ASSERT_EQUAL(b.used, 0);
	}
	/* the depth limit is passed on */
	codec_budget_init(&b, 1 << 20);
	CU_ASSERT_PTR_NULL(codec_decode(&vacancy__v1__record__descriptor, CODEC_JSON,
					(const uint8_t *)body, strlen(body), &b, 1, 1, err,
					sizeof(err)));
	CU_ASSERT_EQUAL(b.used, 0);
}

static void
test_encode(void)
{
	Vacancy__V1__Record r, *back;
	Vacancy__V1__LatLon loc;
	struct buf out;
	uint8_t *want;
	size_t wlen;

	small_record(&r, &loc);
	want = pack(&r.base, &wlen);

	/* protobuf: appended to what the buffer holds, and decodes to the same record */
	buf_init(&out, 0);
	buf_add(&out, "ab", 2);
	CU_ASSERT_EQUAL(codec_encode(&r.base, CODEC_PROTOBUF, &out), 0);
	CU_ASSERT_EQUAL_FATAL(out.len, wlen + 2);
	CU_ASSERT_EQUAL(memcmp(out.data, "ab", 2), 0);
	CU_ASSERT_EQUAL(memcmp(out.data + 2, want, wlen), 0);
	back = vacancy__v1__record__unpack(NULL, out.len - 2, (const uint8_t *)out.data + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_STRING_EQUAL(back->record_id, UUID);
	CU_ASSERT_STRING_EQUAL(back->title, "Ladenlokal am Markt");
	CU_ASSERT(back->has_status && back->status == VACANCY__V1__STATUS__VALUE__MARKETED);
	CU_ASSERT_EQUAL(back->n_usage, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back->location);
	CU_ASSERT_DOUBLE_EQUAL(back->location->lat, 50.58, 0.0);
	CU_ASSERT_DOUBLE_EQUAL(back->usable_area_m2, 420.5, 0.0);
	vacancy__v1__record__free_unpacked(back, NULL);
	buf_free(&out);

	/* JSON: an object with lowerCamelCase names */
	buf_init(&out, 0);
	CU_ASSERT_EQUAL(codec_encode(&r.base, CODEC_JSON, &out), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out.data);
	CU_ASSERT_EQUAL(out.data[0], '{');
	CU_ASSERT_EQUAL(out.data[out.len - 1], '}');
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "\"recordId\":\"" UUID "\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "\"status\":\"MARKETED\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "\"usableAreaM2\""));
	buf_free(&out);

	/* a buffer that cannot hold the body fails */
	buf_init(&out, 8);
	CU_ASSERT_EQUAL(codec_encode(&r.base, CODEC_PROTOBUF, &out), -1);
	buf_free(&out);
	buf_init(&out, 8);
	CU_ASSERT_EQUAL(codec_encode(&r.base, CODEC_JSON, &out), -1);
	buf_free(&out);

	/* an empty message is an empty protobuf body and "{}" */
	Vacancy__V1__Record empty = VACANCY__V1__RECORD__INIT;
	buf_init(&out, 0);
	CU_ASSERT_EQUAL(codec_encode(&empty.base, CODEC_PROTOBUF, &out), 0);
	CU_ASSERT_EQUAL(out.len, 0);
	buf_free(&out);
	buf_init(&out, 0);
	CU_ASSERT_EQUAL(codec_encode(&empty.base, CODEC_JSON, &out), 0);
	CU_ASSERT_STRING_EQUAL(out.data, "{}");
	buf_free(&out);
	free(want);
}

static void
test_heap_allocator(void)
{
	char *p = codec_heap.alloc(codec_heap.allocator_data, 32);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 'x', 32);
	codec_heap.free(codec_heap.allocator_data, p);
}

/* Entity tags: strong, stable, different per body and content type; the
 * If-None-Match forms of RFC 9110. */
static void
test_etag(void)
{
	char a[35], b[35], c[35], d[35];

	codec_etag("application/json", "{}", 2, a);
	codec_etag("application/json", "{}", 2, b);
	codec_etag("application/x-protobuf", "{}", 2, c);
	codec_etag("application/json", "{ }", 3, d);
	CU_ASSERT_EQUAL(strlen(a), 34);
	CU_ASSERT(a[0] == '"' && a[33] == '"');
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_STRING_NOT_EQUAL(a, c);
	CU_ASSERT_STRING_NOT_EQUAL(a, d);
	CU_ASSERT_TRUE(codec_etag_match(a, a));
	CU_ASSERT_TRUE(codec_etag_match("*", a));
	{
		char list[128], weak[64];
		snprintf(list, sizeof(list), "%s, %s", c, a);
		CU_ASSERT_TRUE(codec_etag_match(list, a));
		snprintf(weak, sizeof(weak), "W/%s", a);
		CU_ASSERT_TRUE(codec_etag_match(weak, a));
		snprintf(list, sizeof(list), "%s ,\t%s ", c, d);
		CU_ASSERT_FALSE(codec_etag_match(list, a));
	}
	CU_ASSERT_FALSE(codec_etag_match(NULL, a));
	CU_ASSERT_FALSE(codec_etag_match("", a));
	CU_ASSERT_FALSE(codec_etag_match("\"abc\"", a));
}

void
test_codec_register(void)
{
	CU_pSuite s = CU_add_suite("codec", NULL, NULL);

	CU_add_test(s, "Content-Type parsing", test_content_type);
	CU_add_test(s, "Accept negotiation", test_accept);
	CU_add_test(s, "budget allocator", test_budget_allocator);
	CU_add_test(s, "budgeted decode of a large SyncRequest over many limits",
		    test_budgeted_decode);
	CU_add_test(s, "strict mode: unknown field at the top level", test_strict_top_level);
	CU_add_test(s, "strict mode: unknown field nested, with its path", test_strict_nested);
	CU_add_test(s, "strict mode: path format changes[i].member", test_strict_path_format);
	CU_add_test(s, "truncated and malformed protobuf", test_truncated);
	CU_add_test(s, "JSON decode through codec_decode", test_json_decode);
	CU_add_test(s, "encode: protobuf round trip, JSON object", test_encode);
	CU_add_test(s, "codec_heap", test_heap_allocator);
	CU_add_test(s, "entity tags", test_etag);
}
