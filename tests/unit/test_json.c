/*
 * test_json: the protobuf JSON mapping of daemon/json.c.
 *
 * Round trips fill every field of every message of vacancy.proto (and of a
 * hand-written descriptor with the scalar types, bytes, a required field, a
 * string default, a scalar oneof and recursion that vacancy.proto lacks),
 * encode, decode and compare the protobuf wire bytes. Exact texts pin the
 * mapping; a table of bad inputs pins every error class with its JSON path;
 * a budgeted allocator fails at every byte count and must leave nothing
 * allocated. Run under ASan for the leak checks.
 */
#include <CUnit/CUnit.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "vacancy.pb-c.h"

void test_json_register(void);

/* ---- A descriptor written by hand, for what vacancy.proto does not have ---- */

struct scalars {
	ProtobufCMessage base;
	protobuf_c_boolean has_i64;
	int64_t i64;
	protobuf_c_boolean has_s64;
	int64_t s64;
	protobuf_c_boolean has_sf32;
	int32_t sf32;
	protobuf_c_boolean has_fx64;
	uint64_t fx64;
	protobuf_c_boolean has_flt;
	float flt;
	protobuf_c_boolean has_data;
	ProtobufCBinaryData data;
	size_t n_blobs;
	ProtobufCBinaryData *blobs;
	size_t n_flags;
	protobuf_c_boolean *flags;
	size_t n_reals;
	double *reals;
	char *greeting; /* default "hello" */
	int32_t req;	/* required */
	uint32_t pick_case;
	union {
		int32_t pick_num;
		char *pick_text;
		ProtobufCBinaryData pick_blob;
	};
	uint32_t plain; /* proto3-style: no presence */
	size_t n_nums;
	int64_t *nums;
	struct scalars *child;
};

static char greeting_default[] = "hello";
static const ProtobufCMessageDescriptor scalars_descriptor;

#define SC_FIELD(nm, num, lab, ty, q, o, fl)                                                       \
	{                                                                                          \
		.name = nm, .id = num, .label = PROTOBUF_C_LABEL_##lab,                            \
		.type = PROTOBUF_C_TYPE_##ty, .quantifier_offset = q,                              \
		.offset = offsetof(struct scalars, o), .flags = fl                                 \
	}
#define SC_Q(m) offsetof(struct scalars, m)

static const ProtobufCFieldDescriptor scalars_fields[] = {
    SC_FIELD("i64", 1, OPTIONAL, INT64, SC_Q(has_i64), i64, 0),
    SC_FIELD("s64", 2, OPTIONAL, SINT64, SC_Q(has_s64), s64, 0),
    SC_FIELD("sf32", 3, OPTIONAL, SFIXED32, SC_Q(has_sf32), sf32, 0),
    SC_FIELD("fx64", 4, OPTIONAL, FIXED64, SC_Q(has_fx64), fx64, 0),
    SC_FIELD("flt", 5, OPTIONAL, FLOAT, SC_Q(has_flt), flt, 0),
    SC_FIELD("data", 6, OPTIONAL, BYTES, SC_Q(has_data), data, 0),
    SC_FIELD("blobs", 7, REPEATED, BYTES, SC_Q(n_blobs), blobs, 0),
    SC_FIELD("flags", 8, REPEATED, BOOL, SC_Q(n_flags), flags, PROTOBUF_C_FIELD_FLAG_PACKED),
    SC_FIELD("reals", 9, REPEATED, DOUBLE, SC_Q(n_reals), reals, 0),
    {.name = "greeting",
     .id = 10,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_STRING,
     .offset = offsetof(struct scalars, greeting),
     .default_value = greeting_default},
    SC_FIELD("req", 11, REQUIRED, INT32, 0, req, 0),
    SC_FIELD("pick_num", 12, OPTIONAL, INT32, SC_Q(pick_case), pick_num,
	     PROTOBUF_C_FIELD_FLAG_ONEOF),
    SC_FIELD("pick_text", 13, OPTIONAL, STRING, SC_Q(pick_case), pick_text,
	     PROTOBUF_C_FIELD_FLAG_ONEOF),
    SC_FIELD("pick_blob", 14, OPTIONAL, BYTES, SC_Q(pick_case), pick_blob,
	     PROTOBUF_C_FIELD_FLAG_ONEOF),
    SC_FIELD("plain", 15, NONE, UINT32, 0, plain, 0),
    SC_FIELD("nums", 16, REPEATED, SINT64, SC_Q(n_nums), nums, 0),
    {.name = "child",
     .id = 17,
     .label = PROTOBUF_C_LABEL_OPTIONAL,
     .type = PROTOBUF_C_TYPE_MESSAGE,
     .offset = offsetof(struct scalars, child),
     .descriptor = &scalars_descriptor},
};

#define SC_NFIELDS (sizeof(scalars_fields) / sizeof(scalars_fields[0]))

/* indices of scalars_fields sorted by name (checked by test_scalars_descriptor) */
static const unsigned scalars_by_name[] = {6,  16, 5,  7,  4, 3,  9, 0, 15,
					   13, 11, 12, 14, 8, 10, 1, 2};
static const ProtobufCIntRange scalars_ranges[] = {{1, 0}, {0, SC_NFIELDS}};

static void
scalars_init(struct scalars *m)
{
	memset(m, 0, sizeof(*m));
	m->base.descriptor = &scalars_descriptor;
	m->greeting = greeting_default;
}

static const ProtobufCMessageDescriptor scalars_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "test.Scalars",
    "Scalars",
    "Test__Scalars",
    "test",
    sizeof(struct scalars),
    SC_NFIELDS,
    scalars_fields,
    scalars_by_name,
    1,
    scalars_ranges,
    (ProtobufCMessageInit)scalars_init,
    NULL,
    NULL,
    NULL,
};

/* ---- Helpers ---- */

static char errbuf[512];

/* Encodes m; returns a malloc'ed string (NULL if json_encode failed). */
static char *
encode(const ProtobufCMessage *m, int flags)
{
	struct buf b;

	buf_init(&b, 0);
	if (json_encode(m, &b, flags) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* Decodes the NUL-terminated text with malloc; the error is in errbuf. */
static ProtobufCMessage *
decode(const ProtobufCMessageDescriptor *desc, const char *text)
{
	return json_decode(desc, text, strlen(text), NULL, 0, errbuf, sizeof(errbuf));
}

/* Whether a and b pack to the same protobuf bytes. */
static int
same_wire(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t na = protobuf_c_message_get_packed_size(a);
	size_t nb = protobuf_c_message_get_packed_size(b);
	uint8_t *pa, *pb;
	int eq;

	if (na != nb)
		return 0;
	pa = malloc(na + 1);
	pb = malloc(nb + 1);
	protobuf_c_message_pack(a, pa);
	protobuf_c_message_pack(b, pb);
	eq = memcmp(pa, pb, na) == 0;
	free(pa);
	free(pb);
	return eq;
}

/* Asserts that m encodes to exactly want. */
static void
check_encode(const ProtobufCMessage *m, int flags, const char *want)
{
	char *got = encode(m, flags);
	int ok = got != NULL && strcmp(got, want) == 0;

	if (!ok)
		fprintf(stderr, "\n  want %s\n  got  %s\n", want, got ? got : "(failure)");
	CU_ASSERT(ok);
	free(got);
}

/* Asserts that decoding len bytes of text as desc fails with an error containing want. */
static void
check_error_len(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
		unsigned max_depth, const char *want)
{
	ProtobufCMessage *m = json_decode(desc, text, len, NULL, max_depth, errbuf, sizeof(errbuf));
	int ok = m == NULL && strstr(errbuf, want) != NULL;

	if (!ok)
		fprintf(stderr, "\n  input %.*s\n  want error with \"%s\"\n  got   %s\n", (int)len,
			text, want, m ? "success" : errbuf);
	CU_ASSERT(ok);
	protobuf_c_message_free_unpacked(m, NULL);
}

static void
check_error(const ProtobufCMessageDescriptor *desc, const char *text, const char *want)
{
	check_error_len(desc, text, strlen(text), 0, want);
}

/* Asserts that text decodes and encodes back to exactly want (text itself if NULL). */
static void
check_canonical(const ProtobufCMessageDescriptor *desc, const char *text, const char *want)
{
	ProtobufCMessage *m = decode(desc, text);

	if (m == NULL)
		fprintf(stderr, "\n  input %s\n  error %s\n", text, errbuf);
	CU_ASSERT_FATAL(m != NULL);
	check_encode(m, 0, want ? want : text);
	protobuf_c_message_free_unpacked(m, NULL);
}

static const char *const sample_strings[] = {
    "Alte Spinnerei",
    "Wirtschaftsf\xc3\xb6rderung Erzgebirge \xe2\x80\x93 B\xc3\xbcro",
    "quote \" backslash \\ slash / tab \t newline \n return \r",
    "ctrl \x01\x1f del \x7f bell \a",
    "sep \xe2\x80\xa8 \xe2\x80\xa9 <b>&amp;</b> '",
    "\xf0\x9f\x8f\x9a\xef\xb8\x8f astral \xf4\x8f\xbf\xbf",
    "",
    "14521",
};

static const double sample_doubles[] = {
    120.5, 0.1,	  -0.0, 1.0 / 3, 1e-300,   5e-324,    DBL_MAX,
    -1e21, 50.72, 12.9, NAN,	 INFINITY, -INFINITY,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Size of one element of a repeated field of type t (as protobuf-c lays it out). */
static size_t
elt_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	default:
		return 4;
	}
}

static void fill_message(ProtobufCMessage *m, unsigned seed, unsigned depth);

/* Stores a sample value number k of f's type at slot (malloc'ed where it owns memory). */
static void
fill_value(const ProtobufCFieldDescriptor *f, void *slot, unsigned k, unsigned depth)
{
	static const int32_t i32[] = {1905, -1, INT32_MIN, INT32_MAX, 0};
	static const uint32_t u32[] = {25833, 0, UINT32_MAX};
	static const int64_t i64[] = {INT64_MIN, INT64_MAX, -42, 0};
	static const uint64_t u64[] = {UINT64_MAX, 7, 0, 12345678901234567890u};
	static const float flt[] = {0.1f, FLT_MAX, -2.5f, FLT_MIN, 16777217.0f};
	const ProtobufCEnumDescriptor *ed;
	const ProtobufCMessageDescriptor *md;
	ProtobufCBinaryData *bd;
	ProtobufCMessage *sub;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)slot = i32[k % NELEM(i32)];
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)slot = u32[k % NELEM(u32)];
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)slot = i64[k % NELEM(i64)];
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		*(uint64_t *)slot = u64[k % NELEM(u64)];
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)slot = flt[k % NELEM(flt)];
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)slot = sample_doubles[k % NELEM(sample_doubles)];
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)slot = k % 2;
		break;
	case PROTOBUF_C_TYPE_ENUM:
		ed = f->descriptor;
		*(int *)slot = ed->values[k % ed->n_values].value;
		break;
	case PROTOBUF_C_TYPE_STRING:
		*(char **)slot = strdup(sample_strings[k % NELEM(sample_strings)]);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		bd = slot;
		bd->len = k % 5;
		bd->data = bd->len ? malloc(bd->len) : NULL;
		for (size_t i = 0; i < bd->len; i++)
			bd->data[i] = (uint8_t)(k * 77 + i * 13);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		md = f->descriptor;
		sub = malloc(md->sizeof_message);
		protobuf_c_message_init(md, sub);
		if (depth < 3)
			fill_message(sub, k, depth + 1);
		*(ProtobufCMessage **)slot = sub;
		break;
	}
}

/* Sets every field of m (one member of each oneof, chosen by seed). */
static void
fill_message(ProtobufCMessage *m, unsigned seed, unsigned depth)
{
	const ProtobufCMessageDescriptor *desc = m->descriptor;

	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		char *member = (char *)m + f->offset;
		char *q = (char *)m + f->quantifier_offset;
		unsigned k = seed * 7 + i;

		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (*(uint32_t *)q != 0 || (seed + f->id) % 2 != 0)
				continue;
			*(uint32_t *)q = f->id;
			fill_value(f, member, k, depth);
		} else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = 2 + k % 2, es = elt_size(f->type);
			char *arr = calloc(n, es);

			for (size_t j = 0; j < n; j++)
				fill_value(f, arr + j * es, k + (unsigned)j, depth);
			*(void **)member = arr;
			*(size_t *)q = n;
		} else {
			if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
			    f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
				*(protobuf_c_boolean *)q = 1;
			fill_value(f, member, k, depth);
		}
	}
}

/* A new message of type desc with every field set. */
static ProtobufCMessage *
new_filled(const ProtobufCMessageDescriptor *desc, unsigned seed)
{
	ProtobufCMessage *m = malloc(desc->sizeof_message);

	protobuf_c_message_init(desc, m);
	fill_message(m, seed, 0);
	return m;
}

/* An allocator that refuses once more than limit bytes were asked for. */
struct budget {
	size_t limit;
	size_t used;
	size_t live; /* allocations not freed yet */
};

union budget_hdr {
	size_t size;
	max_align_t align;
};

static void *
budget_alloc(void *data, size_t n)
{
	struct budget *b = data;
	union budget_hdr *h;

	if (n > b->limit - b->used)
		return NULL;
	if ((h = malloc(sizeof(*h) + n)) == NULL)
		return NULL;
	h->size = n;
	b->used += n;
	b->live++;
	return h + 1;
}

static void
budget_free(void *data, void *p)
{
	struct budget *b = data;

	if (p == NULL)
		return;
	b->live--;
	free((union budget_hdr *)p - 1);
}

/* ---- Tests ---- */

static const ProtobufCMessageDescriptor *const all_messages[] = {
    &vacancy__v1__record__descriptor,
    &vacancy__v1__sync_request__descriptor,
    &vacancy__v1__sync_response__descriptor,
    &vacancy__v1__search_request__descriptor,
    &vacancy__v1__search_response__descriptor,
    &vacancy__v1__change_batch__descriptor,
    &vacancy__v1__overview__descriptor,
    &vacancy__v1__municipality_list__descriptor,
    &vacancy__v1__history__descriptor,
    &vacancy__v1__error__descriptor,
    &scalars_descriptor,
};

/* The hand-written descriptor is what protoc-c would generate. */
static void
test_scalars_descriptor(void)
{
	for (size_t i = 1; i < SC_NFIELDS; i++)
		CU_ASSERT(strcmp(scalars_fields[scalars_by_name[i - 1]].name,
				 scalars_fields[scalars_by_name[i]].name) < 0);
	for (size_t i = 0; i < SC_NFIELDS; i++)
		CU_ASSERT(scalars_fields[i].id == i + 1);
}

/* Every message type, every field set: encode, decode, same wire bytes, same text. */
static void
test_round_trip_all(void)
{
	for (size_t t = 0; t < NELEM(all_messages); t++) {
		for (unsigned seed = 0; seed < 4; seed++) {
			const ProtobufCMessageDescriptor *desc = all_messages[t];
			ProtobufCMessage *m = new_filled(desc, seed), *m2, *m3, *u;
			char *json = encode(m, 0), *json2, *pretty;
			size_t n;
			uint8_t *wire;

			CU_ASSERT_FATAL(json != NULL);
			m2 = decode(desc, json);
			if (m2 == NULL)
				fprintf(stderr, "\n  %s: %s\n  in %s\n", desc->name, errbuf, json);
			CU_ASSERT_FATAL(m2 != NULL);
			CU_ASSERT(same_wire(m, m2));
			json2 = encode(m2, 0);
			CU_ASSERT_STRING_EQUAL(json, json2);

			/* pretty output decodes to the same message */
			pretty = encode(m, JSON_PRETTY);
			m3 = decode(desc, pretty);
			CU_ASSERT_FATAL(m3 != NULL);
			CU_ASSERT(same_wire(m, m3));
			CU_ASSERT(strchr(json, '\n') == NULL);
			CU_ASSERT(strstr(pretty, "\n  \"") != NULL);

			/* what protobuf-c itself unpacks encodes to the same text */
			n = protobuf_c_message_get_packed_size(m);
			wire = malloc(n + 1);
			protobuf_c_message_pack(m, wire);
			u = protobuf_c_message_unpack(desc, NULL, n, wire);
			CU_ASSERT_FATAL(u != NULL);
			free(json2);
			json2 = encode(u, 0);
			CU_ASSERT_STRING_EQUAL(json, json2);

			protobuf_c_message_free_unpacked(u, NULL);
			free(wire);
			free(json2);
			free(pretty);
			protobuf_c_message_free_unpacked(m3, NULL);
			protobuf_c_message_free_unpacked(m2, NULL);
			protobuf_c_message_free_unpacked(m, NULL);
			free(json);
		}
	}
}

/* A fully populated Record names every one of its fields, in field-number order. */
static void
test_record_every_field(void)
{
	const ProtobufCMessageDescriptor *desc = &vacancy__v1__record__descriptor;
	ProtobufCMessage *m = new_filled(desc, 1);
	char *json = encode(m, 0), key[80], name[64];
	const char *prev = json, *at;

	CU_ASSERT_FATAL(json != NULL);
	CU_ASSERT_EQUAL(desc->n_fields, 60);
	for (unsigned i = 0; i < desc->n_fields; i++) {
		snprintf(key, sizeof(key),
			 "\"%s\":", json_field_name(&desc->fields[i], name, sizeof(name)));
		at = strstr(json, key);
		if (at == NULL)
			fprintf(stderr, "\n  missing %s in %s\n", key, json);
		CU_ASSERT(at != NULL && at > prev);
		if (at)
			prev = at;
	}
	CU_ASSERT(strstr(json, "\"usableAreaM2\":") != NULL);
	CU_ASSERT(strstr(json, "\"location\":{\"lat\":") != NULL);
	CU_ASSERT(strstr(json, "\"attachments\":[{\"group\":\"") != NULL);
	CU_ASSERT(strstr(json, "usable_area_m2") == NULL);
	free(json);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* A hand-built SyncRequest with a Record in a oneof, decoded back field by field. */
static void
test_sync_request_oneof(void)
{
	Vacancy__V1__Usage__Value usage[] = {VACANCY__V1__USAGE__VALUE__RESIDENTIAL,
					     VACANCY__V1__USAGE__VALUE__MIXED};
	Vacancy__V1__LatLon loc = VACANCY__V1__LAT_LON__INIT;
	Vacancy__V1__Attachment att = VACANCY__V1__ATTACHMENT__INIT, *atts[] = {&att};
	Vacancy__V1__Record rec = VACANCY__V1__RECORD__INIT;
	Vacancy__V1__Withdrawal wd = VACANCY__V1__WITHDRAWAL__INIT;
	Vacancy__V1__RecordChange c1 = VACANCY__V1__RECORD_CHANGE__INIT;
	Vacancy__V1__RecordChange c2 = VACANCY__V1__RECORD_CHANGE__INIT;
	Vacancy__V1__RecordChange *changes[] = {&c1, &c2};
	Vacancy__V1__SyncRequest req = VACANCY__V1__SYNC_REQUEST__INIT, *back;
	char *json;

	loc.has_lat = loc.has_lon = 1;
	loc.lat = 50.6294;
	loc.lon = 12.9347;
	att.has_group = 1;
	att.group = VACANCY__V1__ATTACHMENT_GROUP__VALUE__FLOORPLAN;
	att.url = "https://example.org/p.pdf";
	rec.external_id = "EXT-1";
	rec.has_revision = 1;
	rec.revision = 3;
	rec.n_usage = 2;
	rec.usage = usage;
	rec.location = &loc;
	rec.n_attachments = 1;
	rec.attachments = atts;
	c1.change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
	c1.upsert = &rec;
	wd.external_id = "EXT-2";
	wd.has_revision = 1;
	wd.revision = 9;
	c2.change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW;
	c2.withdraw = &wd;
	req.transfer_id = "t-1";
	req.has_scope = 1;
	req.scope = VACANCY__V1__SYNC_SCOPE__VALUE__FULL;
	req.n_changes = 2;
	req.changes = changes;

	json = encode(&req.base, 0);
	CU_ASSERT_STRING_EQUAL(
	    json,
	    "{\"transferId\":\"t-1\",\"scope\":\"FULL\",\"changes\":[{\"upsert\":{\"externalId\":"
	    "\"EXT-1\",\"revision\":\"3\",\"usage\":[\"RESIDENTIAL\",\"MIXED\"],\"location\":{"
	    "\"lat\":50.6294,\"lon\":12.9347},\"attachments\":[{\"group\":\"FLOORPLAN\",\"url\":"
	    "\"https://example.org/p.pdf\"}]}},{\"withdraw\":{\"externalId\":\"EXT-2\","
	    "\"revision\":\"9\"}}]}");
	back = (Vacancy__V1__SyncRequest *)decode(&vacancy__v1__sync_request__descriptor, json);
	CU_ASSERT_FATAL(back != NULL);
	CU_ASSERT(same_wire(&req.base, &back->base));
	CU_ASSERT_EQUAL_FATAL(back->n_changes, 2);
	CU_ASSERT_EQUAL(back->changes[0]->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT);
	CU_ASSERT_EQUAL(back->changes[1]->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW);
	CU_ASSERT_STRING_EQUAL(back->changes[0]->upsert->external_id, "EXT-1");
	CU_ASSERT_EQUAL(back->changes[0]->upsert->usage[1], VACANCY__V1__USAGE__VALUE__MIXED);
	CU_ASSERT_EQUAL(back->changes[0]->upsert->location->lat, 50.6294);
	CU_ASSERT_PTR_NULL(back->changes[0]->upsert->title);
	CU_ASSERT_FALSE(back->has_validate_only);
	CU_ASSERT_EQUAL(back->changes[1]->withdraw->revision, 9);
	protobuf_c_message_free_unpacked(&back->base, NULL);
	free(json);
}

/* Exact texts: names, omission, 64-bit strings, enum names, compact and pretty. */
static void
test_encode_exact(void)
{
	Vacancy__V1__Withdrawal wd = VACANCY__V1__WITHDRAWAL__INIT;
	Vacancy__V1__Record rec = VACANCY__V1__RECORD__INIT;
	Vacancy__V1__LatLon loc = VACANCY__V1__LAT_LON__INIT;
	Vacancy__V1__SyncResponse resp = VACANCY__V1__SYNC_RESPONSE__INIT;
	Vacancy__V1__FieldError fe = VACANCY__V1__FIELD_ERROR__INIT, *fes[] = {&fe};
	Vacancy__V1__RecordChange ch = VACANCY__V1__RECORD_CHANGE__INIT;
	Vacancy__V1__Usage__Value usage[] = {VACANCY__V1__USAGE__VALUE__RESIDENTIAL,
					     VACANCY__V1__USAGE__VALUE__MIXED};
	char *parcels[] = {"123/4", "123/5"};

	check_encode(&wd.base, 0, "{}");
	check_encode(&wd.base, JSON_PRETTY, "{}");
	wd.external_id = "A-17";
	wd.has_revision = 1;
	wd.revision = 18446744073709551615u;
	check_encode(&wd.base, 0,
		     "{\"externalId\":\"A-17\",\"revision\":\"18446744073709551615\"}");
	check_encode(&wd.base, JSON_PRETTY,
		     "{\n  \"externalId\": \"A-17\",\n  \"revision\": \"18446744073709551615\"\n}");
	wd.revision = 42;
	wd.external_id = NULL;
	check_encode(&wd.base, 0, "{\"revision\":\"42\"}");

	rec.record_id = "r1";
	rec.has_revision = 1;
	rec.revision = 7;
	rec.has_site_kind = 1;
	rec.site_kind = VACANCY__V1__SITE_KIND__VALUE__PLOT;
	rec.n_usage = 2;
	rec.usage = usage;
	rec.has_object_type = 1;
	rec.object_type = VACANCY__V1__OBJECT_TYPE__VALUE__PLOT;
	rec.has_construction_year = 1;
	rec.construction_year = -12;
	rec.n_parcel_ids = 2;
	rec.parcel_ids = parcels;
	loc.has_lat = loc.has_lon = 1;
	loc.lat = 50.5;
	loc.lon = 12.25;
	rec.location = &loc;
	rec.has_source_crs = 1;
	rec.source_crs = 4294967295u;
	rec.has_usable_area_m2 = 1;
	rec.usable_area_m2 = 120.5;
	rec.has_price_on_request = 1;
	rec.price_on_request = 0;
	rec.title = "Alte Spinnerei";
	rec.usable_area_m2 = 120.5;
	rec.status = VACANCY__V1__STATUS__VALUE__MARKETED; /* has_status not set: omitted */
	rec.floor_area_m2 = 99;				   /* has_floor_area_m2 not set */
	check_encode(
	    &rec.base, 0,
	    "{\"recordId\":\"r1\",\"revision\":\"7\",\"siteKind\":\"PLOT\",\"usage\":["
	    "\"RESIDENTIAL\",\"MIXED\"],\"objectType\":\"PLOT\",\"constructionYear\":-12,"
	    "\"parcelIds\":[\"123/4\",\"123/5\"],\"location\":{\"lat\":50.5,\"lon\":12.25},"
	    "\"sourceCrs\":4294967295,\"usableAreaM2\":120.5,\"priceOnRequest\":false,"
	    "\"title\":\"Alte Spinnerei\"}");
	check_encode(&rec.base, JSON_PRETTY,
		     "{\n"
		     "  \"recordId\": \"r1\",\n"
		     "  \"revision\": \"7\",\n"
		     "  \"siteKind\": \"PLOT\",\n"
		     "  \"usage\": [\n"
		     "    \"RESIDENTIAL\",\n"
		     "    \"MIXED\"\n"
		     "  ],\n"
		     "  \"objectType\": \"PLOT\",\n"
		     "  \"constructionYear\": -12,\n"
		     "  \"parcelIds\": [\n"
		     "    \"123/4\",\n"
		     "    \"123/5\"\n"
		     "  ],\n"
		     "  \"location\": {\n"
		     "    \"lat\": 50.5,\n"
		     "    \"lon\": 12.25\n"
		     "  },\n"
		     "  \"sourceCrs\": 4294967295,\n"
		     "  \"usableAreaM2\": 120.5,\n"
		     "  \"priceOnRequest\": false,\n"
		     "  \"title\": \"Alte Spinnerei\"\n"
		     "}");

	/* an enum value unknown to this build stays a number; UNSPECIFIED is a name */
	memset(&rec, 0, sizeof(rec));
	vacancy__v1__record__init(&rec);
	rec.has_status = 1;
	rec.status = 99;
	rec.has_site_kind = 1;
	rec.site_kind = VACANCY__V1__SITE_KIND__VALUE__UNSPECIFIED;
	check_encode(&rec.base, 0, "{\"siteKind\":\"UNSPECIFIED\",\"status\":99}");
	rec.location = &loc;
	loc.has_lon = 0;
	check_encode(&rec.base, 0,
		     "{\"siteKind\":\"UNSPECIFIED\",\"status\":99,\"location\":{\"lat\":50.5}}");
	loc.has_lat = 0;
	check_encode(
	    &rec.base, JSON_PRETTY,
	    "{\n  \"siteKind\": \"UNSPECIFIED\",\n  \"status\": 99,\n  \"location\": {}\n}");

	/* zero values that are present are written */
	resp.has_created = 1;
	resp.has_validate_only = 1;
	resp.n_errors = 1;
	resp.errors = fes;
	fe.has_index = 1;
	fe.index = 0;
	fe.field = "usable_area_m2";
	fe.message = "";
	check_encode(
	    &resp.base, 0,
	    "{\"created\":0,\"errors\":[{\"index\":0,\"field\":\"usable_area_m2\",\"message\":"
	    "\"\"}],\"validateOnly\":false}");

	/* the set member of a oneof only; an empty oneof writes nothing */
	check_encode(&ch.base, 0, "{}");
	ch.change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW;
	ch.withdraw = &wd;
	check_encode(&ch.base, 0, "{\"withdraw\":{\"revision\":\"42\"}}");
	check_encode(&ch.base, JSON_PRETTY,
		     "{\n  \"withdraw\": {\n    \"revision\": \"42\"\n  }\n}");
}

/* The fewest "%.*g" digits from 15 that parse back to v: the reference. */
static void
shortest_g(double v, char *out, size_t outlen)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, outlen, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/*
 * Decimals of up to 6 places under 1e9 (coordinates, areas) take a path
 * without printf: the same digits as the reference, on values at and around
 * every place count and magnitude, negatives, and neighbours one ulp away.
 */
static void
test_encode_decimals(void)
{
	static const double scale[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7};
	Vacancy__V1__LatLon loc = VACANCY__V1__LAT_LON__INIT;
	unsigned long long x = 88172645463325252ULL;
	char want[128], ref[40];
	size_t checked = 0;

	for (int i = 0; i < 40000; i++) {
		double v;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
		v = (double)(x % 1000000000000000ULL) / scale[x % NELEM(scale)];
		v /= scale[(x >> 8) % NELEM(scale)];
		if ((x >> 20) & 1)
			v = -v;
		if ((x >> 21) % 4 == 0)
			v = nextafter(v, (x >> 23) & 1 ? INFINITY : -INFINITY);
		if (v == 0 || fabs(v) >= 1e21)
			continue;
		shortest_g(v, ref, sizeof(ref));
		loc.has_lat = 1;
		loc.lat = v;
		snprintf(want, sizeof(want), "{\"lat\":%s}", ref);
		check_encode(&loc.base, 0, want);
		checked++;
	}
	CU_ASSERT(checked > 30000);
	loc.lat = 50.565304;
	check_encode(&loc.base, 0, "{\"lat\":50.565304}");
	loc.lat = -0.001;
	check_encode(&loc.base, 0, "{\"lat\":-0.001}");
	loc.lat = 999999999.999999;
	check_encode(&loc.base, 0, "{\"lat\":999999999.999999}");
	loc.lat = 1e-4; /* below the fast range: exponent form stays */
	check_encode(&loc.base, 0, "{\"lat\":0.0001}");
}

/* Doubles round-trip with the fewest digits; specials are strings. */
static void
test_encode_numbers(void)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
	    {0.1, "0.1"},
	    {1.0 / 3, "0.3333333333333333"},
	    {2.0 / 3, "0.6666666666666666"},
	    {100, "100"},
	    {-0.0, "-0"},
	    {1e21, "1e+21"},
	    {123456789012345680.0, "1.2345678901234568e+17"},
	    {0.30000000000000004, "0.30000000000000004"},
	    {5e-324, "4.94065645841247e-324"},
	    {DBL_MAX, "1.7976931348623157e+308"},
	    {NAN, "\"NaN\""},
	    {INFINITY, "\"Infinity\""},
	    {-INFINITY, "\"-Infinity\""},
	};
	Vacancy__V1__LatLon loc = VACANCY__V1__LAT_LON__INIT, *back;
	struct scalars sc;
	char want[128], *json;

	for (size_t i = 0; i < NELEM(cases); i++) {
		loc.has_lat = 1;
		loc.lat = cases[i].v;
		snprintf(want, sizeof(want), "{\"lat\":%s}", cases[i].want);
		check_encode(&loc.base, 0, want);
		json = encode(&loc.base, 0);
		back = (Vacancy__V1__LatLon *)decode(&vacancy__v1__lat_lon__descriptor, json);
		CU_ASSERT_FATAL(back != NULL);
		CU_ASSERT(memcmp(&back->lat, &loc.lat, sizeof(double)) == 0);
		protobuf_c_message_free_unpacked(&back->base, NULL);
		free(json);
	}
	/* fewer digits of DBL_MAX round up past it: out of range, not DBL_MAX */
	check_error(&vacancy__v1__lat_lon__descriptor, "{\"lat\":1.79769313486232e+308}",
		    "lat: number out of range");

	scalars_init(&sc);
	sc.has_flt = 1;
	sc.flt = 0.1f;
	check_encode(&sc.base, 0, "{\"flt\":0.1,\"req\":0}");
	sc.flt = 16777216.0f;
	check_encode(&sc.base, 0, "{\"flt\":16777216,\"req\":0}");
	sc.flt = FLT_MAX;
	check_encode(&sc.base, 0, "{\"flt\":3.4028235e+38,\"req\":0}");
	sc.flt = -INFINITY;
	check_encode(&sc.base, 0, "{\"flt\":\"-Infinity\",\"req\":0}");
	sc.has_flt = 0;
	sc.has_i64 = 1;
	sc.i64 = INT64_MIN;
	sc.has_sf32 = 1;
	sc.sf32 = INT32_MIN;
	sc.req = -1;
	check_encode(&sc.base, 0,
		     "{\"i64\":\"-9223372036854775808\",\"sf32\":-2147483648,\"req\":-1}");
}

/* Bytes, repeated scalars, default strings, scalar oneofs, proto3 fields. */
static void
test_scalars_exact(void)
{
	struct scalars sc;
	ProtobufCBinaryData blobs[3] = {{0, NULL}, {1, (uint8_t *)"a"}, {2, (uint8_t *)"ab"}};
	protobuf_c_boolean flags[] = {1, 0, 1};
	double reals[] = {NAN, -0.0, 1e308};
	int64_t nums[] = {-1, 0, INT64_MAX};
	struct scalars *back;
	char *json;

	scalars_init(&sc);
	check_encode(&sc.base, 0, "{\"req\":0}");
	sc.has_i64 = 1;
	sc.i64 = INT64_MIN;
	sc.has_s64 = 1;
	sc.s64 = -5;
	sc.has_sf32 = 1;
	sc.sf32 = -7;
	sc.has_fx64 = 1;
	sc.fx64 = UINT64_MAX;
	sc.has_flt = 1;
	sc.flt = 0.1f;
	sc.has_data = 1;
	sc.data.len = 3;
	sc.data.data = (uint8_t *)"\x00\xff\x10";
	sc.n_blobs = 3;
	sc.blobs = blobs;
	sc.n_flags = 3;
	sc.flags = flags;
	sc.n_reals = 3;
	sc.reals = reals;
	sc.greeting = "hi";
	sc.req = 3;
	sc.pick_case = 13;
	sc.pick_text = "txt";
	sc.plain = 9;
	sc.n_nums = 3;
	sc.nums = nums;
	json = encode(&sc.base, 0);
	CU_ASSERT_STRING_EQUAL(json,
			       "{\"i64\":\"-9223372036854775808\",\"s64\":\"-5\",\"sf32\":-7,"
			       "\"fx64\":\"18446744073709551615\",\"flt\":0.1,\"data\":\"AP8Q\","
			       "\"blobs\":[\"\",\"YQ==\",\"YWI=\"],\"flags\":[true,false,true],"
			       "\"reals\":[\"NaN\",-0,1e+308],\"greeting\":\"hi\",\"req\":3,"
			       "\"pickText\":\"txt\",\"plain\":9,\"nums\":[\"-1\",\"0\","
			       "\"9223372036854775807\"]}");
	back = (struct scalars *)decode(&scalars_descriptor, json);
	CU_ASSERT_FATAL(back != NULL);
	CU_ASSERT(same_wire(&sc.base, &back->base));
	CU_ASSERT_EQUAL(back->pick_case, 13);
	CU_ASSERT_STRING_EQUAL(back->pick_text, "txt");
	CU_ASSERT_PTR_NULL(back->blobs[0].data);
	CU_ASSERT(signbit(back->reals[1]) && back->reals[1] == 0);
	protobuf_c_message_free_unpacked(&back->base, NULL);
	free(json);

	/* base64 lengths 1..5 and a oneof bytes member */
	scalars_init(&sc);
	sc.pick_case = 14;
	sc.pick_blob.len = 5;
	sc.pick_blob.data = (uint8_t *)"\xfb\xff\xbf\x00\x01";
	check_encode(&sc.base, 0, "{\"req\":0,\"pickBlob\":\"+/+/AAE=\"}");
	sc.pick_blob.len = 4;
	check_encode(&sc.base, 0, "{\"req\":0,\"pickBlob\":\"+/+/AA==\"}");
	sc.pick_blob.len = 1;
	check_encode(&sc.base, 0, "{\"req\":0,\"pickBlob\":\"+w==\"}");
	sc.pick_case = 12;
	sc.pick_num = 0;
	check_encode(&sc.base, 0, "{\"req\":0,\"pickNum\":0}");

	/* the default string is absent; another pointer to the same text is present */
	check_canonical(&scalars_descriptor, "{\"req\":1}", NULL);
	back = (struct scalars *)decode(&scalars_descriptor, "{\"req\":1}");
	CU_ASSERT_FATAL(back != NULL);
	CU_ASSERT_PTR_EQUAL(back->greeting, greeting_default);
	protobuf_c_message_free_unpacked(&back->base, NULL);
	back = (struct scalars *)decode(&scalars_descriptor, "{\"greeting\":\"hello\",\"req\":1}");
	CU_ASSERT_FATAL(back != NULL);
	CU_ASSERT(back->greeting != greeting_default && strcmp(back->greeting, "hello") == 0);
	check_encode(&back->base, 0, "{\"greeting\":\"hello\",\"req\":1}");
	protobuf_c_message_free_unpacked(&back->base, NULL);
	check_canonical(&scalars_descriptor, "{\"greeting\":null,\"req\":1}", "{\"req\":1}");

	/* a field without presence is written only when not zero */
	check_canonical(&scalars_descriptor, "{\"req\":1,\"plain\":0}", "{\"req\":1}");
	check_canonical(&scalars_descriptor, "{\"req\":1,\"plain\":7}", NULL);

	/* decoding bytes: both alphabets, padding optional */
	check_canonical(&scalars_descriptor, "{\"data\":\"-_8\",\"req\":1}",
			"{\"data\":\"+/8=\",\"req\":1}");
	check_canonical(&scalars_descriptor, "{\"data\":\"+/8=\",\"req\":1}", NULL);
	check_canonical(&scalars_descriptor, "{\"data\":\"QUJD\",\"req\":1}", NULL);
	check_canonical(&scalars_descriptor, "{\"data\":\"AA\",\"req\":1}",
			"{\"data\":\"AA==\",\"req\":1}");
	check_canonical(&scalars_descriptor, "{\"data\":\"\",\"req\":1}", NULL);
	check_canonical(&scalars_descriptor, "{\"data\":\"\\u0041\\u0041==\",\"req\":1}",
			"{\"data\":\"AA==\",\"req\":1}");
}

/* What the decoder accepts, and what it makes of it. */
static void
test_decode_accepts(void)
{
	Vacancy__V1__Record *r;
	Vacancy__V1__SyncRequest *s;
	struct scalars *sc;
	const char *text;

	/* both spellings of a key, and a key written with escapes */
	r = (Vacancy__V1__Record *)decode(
	    &vacancy__v1__record__descriptor,
	    "{\"usable_area_m2\":5,\"plotAreaM2\":6,\"\\u0074itle\":\"t\","
	    "\"location_blur_m\":250,\"locationText\":\"x\"}");
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(r->has_usable_area_m2 && r->usable_area_m2 == 5);
	CU_ASSERT(r->has_plot_area_m2 && r->plot_area_m2 == 6);
	CU_ASSERT_STRING_EQUAL(r->title, "t");
	CU_ASSERT(r->has_location_blur_m && r->location_blur_m == 250);
	CU_ASSERT_STRING_EQUAL(r->location_text, "x");
	CU_ASSERT_FALSE(r->has_revision);
	CU_ASSERT_PTR_NULL(r->record_id);
	protobuf_c_message_free_unpacked(&r->base, NULL);

	/* null is absent, for every kind of field */
	r = (Vacancy__V1__Record *)decode(
	    &vacancy__v1__record__descriptor,
	    "{\"title\":null,\"location\":null,\"usage\":null,\"revision\":null,\"status\":null,"
	    "\"priceOnRequest\":null,\"usableAreaM2\":null,\"attachments\":null}");
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_PTR_NULL(r->title);
	CU_ASSERT_PTR_NULL(r->location);
	CU_ASSERT_EQUAL(r->n_usage, 0);
	CU_ASSERT_FALSE(r->has_revision || r->has_status || r->has_price_on_request ||
			r->has_usable_area_m2);
	check_encode(&r->base, 0, "{}");
	protobuf_c_message_free_unpacked(&r->base, NULL);

	/* whitespace of RFC 8259 everywhere; input need not be NUL-terminated */
	text = " \t\r\n{ \t\"title\" \n:\r \"x\" ,\"usage\" : [ \"MIXED\" , 1 ] , \"location\":{ } "
	       "} \n";
	check_canonical(&vacancy__v1__record__descriptor, text,
			"{\"usage\":[\"MIXED\",\"RESIDENTIAL\"],\"location\":{},\"title\":\"x\"}");
	text = "{\"title\":\"x\"}GARBAGE";
	r = (Vacancy__V1__Record *)json_decode(&vacancy__v1__record__descriptor, text, 13, NULL, 0,
					       errbuf, sizeof(errbuf));
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_STRING_EQUAL(r->title, "x");
	protobuf_c_message_free_unpacked(&r->base, NULL);
	check_error_len(&vacancy__v1__record__descriptor, text, 12, 0, "unexpected end of input");

	/* enums by name or by the number of a defined value */
	check_canonical(&vacancy__v1__record__descriptor,
			"{\"siteKind\":3,\"usage\":[1,\"MIXED\",5.0],\"status\":\"MARKETED\","
			"\"condition\":0}",
			"{\"siteKind\":\"PLOT\",\"usage\":[\"RESIDENTIAL\",\"MIXED\",\"MIXED\"],"
			"\"status\":\"MARKETED\",\"condition\":\"UNSPECIFIED\"}");

	/* integers as numbers or strings, in any notation whose value is an integer */
	check_canonical(&vacancy__v1__record__descriptor,
			"{\"revision\":18446744073709551615,\"constructionYear\":\"1905\","
			"\"sourceCrs\":2.5833e4,\"locationBlurM\":\"1E+2\"}",
			"{\"revision\":\"18446744073709551615\",\"constructionYear\":1905,"
			"\"sourceCrs\":25833,\"locationBlurM\":100}");
	check_canonical(&scalars_descriptor,
			"{\"i64\":\"-9223372036854775808\",\"s64\":-9223372036854775808,"
			"\"sf32\":\"-2147483648\",\"fx64\":18446744073709551615,\"req\":-0}",
			"{\"i64\":\"-9223372036854775808\",\"s64\":\"-9223372036854775808\","
			"\"sf32\":-2147483648,\"fx64\":\"18446744073709551615\",\"req\":0}");
	check_canonical(&scalars_descriptor, "{\"req\":100.000e-2}", "{\"req\":1}");
	check_canonical(&scalars_descriptor, "{\"req\":\"-0.0\"}", "{\"req\":0}");
	check_canonical(&scalars_descriptor, "{\"req\":0e999}", "{\"req\":0}");
	check_canonical(&scalars_descriptor, "{\"req\":0.000001e6}", "{\"req\":1}");
	check_canonical(&scalars_descriptor, "{\"req\":2147483647}", NULL);
	check_canonical(&scalars_descriptor, "{\"i64\":9223372036854775807,\"req\":1}",
			"{\"i64\":\"9223372036854775807\",\"req\":1}");

	/* doubles: numbers, numeric strings and the three special names */
	r = (Vacancy__V1__Record *)decode(
	    &vacancy__v1__record__descriptor,
	    "{\"usableAreaM2\":\"NaN\",\"floorAreaM2\":\"Infinity\",\"salesAreaM2\":\"-Infinity\","
	    "\"plotAreaM2\":\"1.25\",\"divisibleFromM2\":-0,\"sourceX\":1e-400,\"sourceY\":2.5E+"
	    "3}");
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(isnan(r->usable_area_m2));
	CU_ASSERT(isinf(r->floor_area_m2) && r->floor_area_m2 > 0);
	CU_ASSERT(isinf(r->sales_area_m2) && r->sales_area_m2 < 0);
	CU_ASSERT_EQUAL(r->plot_area_m2, 1.25);
	CU_ASSERT(r->has_divisible_from_m2 && signbit(r->divisible_from_m2));
	CU_ASSERT(r->has_source_x && r->source_x == 0);
	CU_ASSERT_EQUAL(r->source_y, 2500);
	protobuf_c_message_free_unpacked(&r->base, NULL);
	sc = (struct scalars *)decode(&scalars_descriptor, "{\"flt\":3.4028235e38,\"req\":1}");
	CU_ASSERT_FATAL(sc != NULL);
	CU_ASSERT(sc->flt == FLT_MAX);
	protobuf_c_message_free_unpacked(&sc->base, NULL);

	/* a oneof may name its other members as null; an empty array is absent */
	s = (Vacancy__V1__SyncRequest *)decode(
	    &vacancy__v1__sync_request__descriptor,
	    "{\"changes\":[{\"upsert\":null,\"withdraw\":{\"externalId\":\"w\"}},"
	    "{\"upsert\":{\"parcelIds\":[]}}],\"validate_only\":true}");
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL_FATAL(s->n_changes, 2);
	CU_ASSERT_EQUAL(s->changes[0]->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW);
	CU_ASSERT_STRING_EQUAL(s->changes[0]->withdraw->external_id, "w");
	CU_ASSERT_EQUAL(s->changes[1]->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT);
	CU_ASSERT_EQUAL(s->changes[1]->upsert->n_parcel_ids, 0);
	CU_ASSERT(s->has_validate_only && s->validate_only);
	protobuf_c_message_free_unpacked(&s->base, NULL);

	/* many elements: the arrays grow */
	{
		struct buf b;
		Vacancy__V1__Record *big;

		buf_init(&b, 0);
		buf_adds(&b, "{\"parcelIds\":[");
		for (int i = 0; i < 1000; i++)
			buf_printf(&b, "%s\"p%d\"", i ? "," : "", i);
		buf_adds(&b, "]}");
		big = (Vacancy__V1__Record *)decode(&vacancy__v1__record__descriptor, b.data);
		CU_ASSERT_FATAL(big != NULL);
		CU_ASSERT_EQUAL(big->n_parcel_ids, 1000);
		CU_ASSERT_STRING_EQUAL(big->parcel_ids[999], "p999");
		protobuf_c_message_free_unpacked(&big->base, NULL);
		buf_free(&b);
	}
}

/* Strings: escapes decoded, UTF-8 kept, surrogate pairs combined. */
static void
test_decode_strings(void)
{
	static const struct {
		const char *json; /* the contents of "title" */
		const char *want;
	} cases[] = {
	    {"\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t"},
	    {"\\u00e9\\u20AC\\u00E9", "\xc3\xa9\xe2\x82\xac\xc3\xa9"},
	    {"\\ud83d\\ude00x", "\xf0\x9f\x98\x80x"},
	    {"\\uDBFF\\uDFFF", "\xf4\x8f\xbf\xbf"},
	    {"\\u0001\\u001f\\u007f", "\x01\x1f\x7f"},
	    {"Wirtschaftsf\xc3\xb6rderung \xf0\x9f\x98\x80",
	     "Wirtschaftsf\xc3\xb6rderung \xf0\x9f\x98\x80"},
	    {"\xf4\x8f\xbf\xbf \xef\xbf\xbf \xee\x80\x80 \x7f",
	     "\xf4\x8f\xbf\xbf \xef\xbf\xbf \xee\x80\x80 \x7f"},
	    {"\\u2028\xe2\x80\xa9", "\xe2\x80\xa8\xe2\x80\xa9"},
	    {"<>&'", "<>&'"},
	    {"", ""},
	};
	Vacancy__V1__Record *r;
	char text[256];

	for (size_t i = 0; i < NELEM(cases); i++) {
		snprintf(text, sizeof(text), "{\"title\":\"%s\"}", cases[i].json);
		r = (Vacancy__V1__Record *)decode(&vacancy__v1__record__descriptor, text);
		if (r == NULL)
			fprintf(stderr, "\n  input %s\n  error %s\n", text, errbuf);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT_STRING_EQUAL(r->title, cases[i].want);
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
}

/* json_add_string: escapes, raw UTF-8, U+FFFD for invalid bytes. */
static void
test_add_string(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
#define S(lit) lit, sizeof(lit) - 1
	    {S("plain"), "\"plain\""},
	    {S("a\"b\\c/d"), "\"a\\\"b\\\\c/d\""},
	    {S("\b\f\n\r\t\x01\x1f\x7f"), "\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\""},
	    {S("a\0b"), "\"a\\u0000b\""},
	    {S("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
	    {S("x\xe2\x80\xa8y\xe2\x80\xa9z"), "\"x\\u2028y\\u2029z\""},
	    {S("<script>&amp;</script>"), "\"<script>&amp;</script>\""},
	    {S("a\xff"
	       "b"),
	     "\"a\xef\xbf\xbd"
	     "b\""},
	    {S("\xc3"), "\"\xef\xbf\xbd\""},
	    {S("\xe2\x82"
	       "A"),
	     "\"\xef\xbf\xbd"
	     "A\""},
	    {S("\xf0\x9f\x98"), "\"\xef\xbf\xbd\""},
	    {S("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
	    {S("\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\""},
	    {S("\xf4\x90\x80\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
	    {S("\x80\xbf"), "\"\xef\xbf\xbd\xef\xbf\xbd\""},
	    {S("\xe0\x80\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
	    {S("\xf8\x88\x80\x80\x80"),
	     "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
	    {S(""), "\"\""},
#undef S
	};
	Vacancy__V1__Record rec = VACANCY__V1__RECORD__INIT, *back;
	struct buf b;
	char *json;

	for (size_t i = 0; i < NELEM(cases); i++) {
		buf_init(&b, 0);
		json_add_string(&b, cases[i].in, cases[i].len);
		CU_ASSERT_FATAL(!buf_failed(&b));
		if (strcmp(b.data, cases[i].want) != 0)
			fprintf(stderr, "\n  case %zu: got %s\n", i, b.data);
		CU_ASSERT_STRING_EQUAL(b.data, cases[i].want);
		buf_free(&b);
	}

	/* what the encoder writes for bad strings is valid JSON and decodes */
	rec.title = "bad \xff\xfe utf-8 \xc3 and \x01 control \xe2\x80\xa8";
	json = encode(&rec.base, 0);
	CU_ASSERT_STRING_EQUAL(json, "{\"title\":\"bad \xef\xbf\xbd\xef\xbf\xbd utf-8 \xef\xbf\xbd "
				     "and \\u0001 control \\u2028\"}");
	back = (Vacancy__V1__Record *)decode(&vacancy__v1__record__descriptor, json);
	CU_ASSERT_FATAL(back != NULL);
	CU_ASSERT_STRING_EQUAL(back->title, "bad \xef\xbf\xbd\xef\xbf\xbd utf-8 \xef\xbf\xbd and "
					    "\x01 control \xe2\x80\xa8");
	protobuf_c_message_free_unpacked(&back->base, NULL);
	free(json);
}

/* json_field_name follows protoc's ToJsonName. */
static void
test_field_name(void)
{
	static const struct {
		const ProtobufCMessageDescriptor *desc;
		const char *field, *want;
	} cases[] = {
	    {&vacancy__v1__record__descriptor, "usable_area_m2", "usableAreaM2"},
	    {&vacancy__v1__record__descriptor, "location_blur_m", "locationBlurM"},
	    {&vacancy__v1__record__descriptor, "title", "title"},
	    {&vacancy__v1__record__descriptor, "rent_eur_m2", "rentEurM2"},
	    {&vacancy__v1__overview_row__descriptor, "p90_vacancy_days", "p90VacancyDays"},
	    {&vacancy__v1__attachment__descriptor, "sha256", "sha256"},
	    {&vacancy__v1__error__descriptor, "field_errors", "fieldErrors"},
	};
	const ProtobufCFieldDescriptor *f;
	char out[64];

	for (size_t i = 0; i < NELEM(cases); i++) {
		f = protobuf_c_message_descriptor_get_field_by_name(cases[i].desc, cases[i].field);
		CU_ASSERT_FATAL(f != NULL);
		CU_ASSERT_STRING_EQUAL(json_field_name(f, out, sizeof(out)), cases[i].want);
	}
	f = protobuf_c_message_descriptor_get_field_by_name(&vacancy__v1__record__descriptor,
							    "usable_area_m2");
	CU_ASSERT_STRING_EQUAL(json_field_name(f, out, 4), "usa");
	CU_ASSERT_STRING_EQUAL(json_field_name(f, out, 1), "");
	out[0] = 'x';
	CU_ASSERT_PTR_EQUAL(json_field_name(f, out, 0), out);
	CU_ASSERT_EQUAL(out[0], 'x');
}

static const struct error_case {
	const ProtobufCMessageDescriptor *desc;
	const char *json;
	const char *want;
} error_cases[] = {
#define R &vacancy__v1__record__descriptor
#define S &vacancy__v1__sync_request__descriptor
#define C &vacancy__v1__record_change__descriptor
#define X &scalars_descriptor
    /* unknown and duplicate keys */
    {R, "{\"foo\":1}", "unknown field 'foo'"},
    {R, "{\"Title\":1}", "unknown field 'Title'"},
    {R, "{\"usableAream2\":1}", "unknown field 'usableAream2'"},
    {R,
     "{\"gr\xc3\xb6\xc3\x9f"
     "e\":1}",
     "unknown field 'gr\\xc3\\xb6\\xc3\\x9fe'"},
    {R, "{\"location\":{\"lat\":1,\"alt\":2}}", "location: unknown field 'alt'"},
    {S, "{\"changes\":[{},{\"upsert\":{\"foo\":null}}]}", "changes[1].upsert: unknown field 'foo'"},
    {R, "{\"title\":\"a\",\"title\":\"b\"}", "duplicate field 'title'"},
    {R, "{\"usableAreaM2\":1,\"usable_area_m2\":2}", "duplicate field 'usableAreaM2'"},
    {R, "{\"title\":null,\"title\":\"x\"}", "duplicate field 'title'"},
    {R, "{\"usage\":[],\"usage\":[]}", "duplicate field 'usage'"},
    /* oneof */
    {C, "{\"upsert\":{},\"withdraw\":{}}",
     "withdraw: 'upsert' is already set and belongs to the same oneof"},
    {S, "{\"changes\":[{\"withdraw\":{},\"upsert\":{\"title\":\"x\"}}]}",
     "changes[0].upsert: 'withdraw' is already set"},
    {X, "{\"req\":1,\"pickNum\":1,\"pick_text\":\"a\"}", "pickText: 'pickNum' is already set"},
    /* wrong JSON types */
    {R, "{\"title\":5}", "title: expected a string"},
    {R, "{\"title\":[\"x\"]}", "title: expected a string"},
    {R, "{\"priceOnRequest\":\"true\"}", "priceOnRequest: expected true or false"},
    {R, "{\"priceOnRequest\":1}", "priceOnRequest: expected true or false"},
    {R, "{\"location\":[]}", "location: expected an object"},
    {R, "{\"location\":\"50,12\"}", "location: expected an object"},
    {R, "{\"usage\":\"RESIDENTIAL\"}", "usage: expected an array"},
    {R, "{\"usage\":{}}", "usage: expected an array"},
    {R, "{\"parcelIds\":[\"a\",1]}", "parcelIds[1]: expected a string"},
    {R, "{\"constructionYear\":true}", "constructionYear: expected an integer"},
    {R, "{\"constructionYear\":[1]}", "constructionYear: expected an integer"},
    {R, "{\"usableAreaM2\":{}}", "usableAreaM2: expected a number"},
    {R, "{\"usableAreaM2\":true}", "usableAreaM2: expected a number"},
    {R, "{\"siteKind\":true}", "siteKind: expected an enum value name"},
    {R, "{\"siteKind\":[\"PLOT\"]}", "siteKind: expected an enum value name"},
    {R, "{\"attachments\":[{\"group\":\"PHOTO\"},\"x\"]}", "attachments[1]: expected an object"},
    {R, "{\"attachments\":{\"group\":\"PHOTO\"}}", "attachments: expected an array"},
    {S, "{\"changes\":[{},{},{},{\"upsert\":{\"usableAreaM2\":\"x\"}}]}",
     "changes[3].upsert.usableAreaM2: expected a number"},
    {S, "{\"changes\":[{\"upsert\":{\"attachments\":[{},{\"group\":7}]}}]}",
     "changes[0].upsert.attachments[1].group: unknown value 7 of enum "
     "vacancy.v1.AttachmentGroup.Value"},
    /* integers */
    {R, "{\"constructionYear\":1.5}", "constructionYear: expected an integer, got 1.5"},
    {R, "{\"constructionYear\":\"1.5\"}", "constructionYear: expected an integer, got 1.5"},
    {R, "{\"constructionYear\":1e-1}", "expected an integer, got 1e-1"},
    {R, "{\"constructionYear\":2147483648}", "constructionYear: integer out of range: 2147483648"},
    {R, "{\"constructionYear\":-2147483649}", "constructionYear: integer out of range"},
    {R, "{\"sourceCrs\":4294967296}", "sourceCrs: integer out of range"},
    {R, "{\"sourceCrs\":-1}", "sourceCrs: integer out of range"},
    {R, "{\"revision\":-1}", "revision: integer out of range"},
    {R, "{\"revision\":\"18446744073709551616\"}", "revision: integer out of range"},
    {R, "{\"revision\":1e20}", "revision: integer out of range"},
    {R, "{\"revision\":1e400}", "revision: integer out of range"},
    {R, "{\"constructionYear\":+1}", "constructionYear: expected an integer"},
    {R, "{\"constructionYear\":\"+1\"}", "constructionYear: expected an integer, got \"+1\""},
    {R, "{\"constructionYear\":\"12a\"}", "expected an integer, got \"12a\""},
    {R, "{\"constructionYear\":\" 12\"}", "expected an integer, got \" 12\""},
    {R, "{\"constructionYear\":\"\"}", "expected an integer, got \"\""},
    {R, "{\"constructionYear\":\"0x10\"}", "expected an integer, got \"0x10\""},
    {R, "{\"constructionYear\":\"01\"}", "expected an integer, got \"01\""},
    {R, "{\"constructionYear\":01}", "syntax error at offset 21: expected ',' or '}'"},
    {R, "{\"constructionYear\":-}",
     "constructionYear: syntax error at offset 20: expected an integer"},
    {R, "{\"constructionYear\":NaN}", "constructionYear: expected an integer"},
    {X, "{\"req\":1,\"i64\":\"9223372036854775808\"}", "i64: integer out of range"},
    {X, "{\"req\":1,\"s64\":-9223372036854775809}", "s64: integer out of range"},
    {X, "{\"req\":1,\"fx64\":-1}", "fx64: integer out of range"},
    {X, "{\"req\":1,\"sf32\":\"2147483648\"}", "sf32: integer out of range"},
    {X, "{\"req\":1,\"nums\":[1,2.5]}", "nums[1]: expected an integer, got 2.5"},
    /* enums */
    {R, "{\"status\":\"FOO\"}", "status: unknown value 'FOO' of enum vacancy.v1.Status.Value"},
    {R, "{\"status\":99}", "status: unknown value 99 of enum vacancy.v1.Status.Value"},
    {R, "{\"status\":-1}", "status: unknown value -1 of enum"},
    {R, "{\"status\":\"marketed\"}", "status: unknown value 'marketed'"},
    {R, "{\"status\":\"3\"}", "status: unknown value '3'"},
    {R, "{\"status\":\"\"}", "status: unknown value ''"},
    {R, "{\"status\":1.5}", "status: unknown value 1.5"},
    {R, "{\"status\":4294967297}", "status: unknown value 4294967297"},
    {R, "{\"usage\":[\"RESIDENTIAL\",\"NOPE\"]}", "usage[1]: unknown value 'NOPE'"},
    {S, "{\"scope\":\"PLOT\"}", "scope: unknown value 'PLOT' of enum vacancy.v1.SyncScope.Value"},
    {R, "{\"status\":\"MARKETED\\u0000\"}", "status: \\u0000 is not allowed"},
    /* floating point */
    {R, "{\"usableAreaM2\":1e400}", "usableAreaM2: number out of range: 1e400"},
    {R, "{\"usableAreaM2\":-1e400}", "usableAreaM2: number out of range"},
    {R, "{\"usableAreaM2\":\"1e400\"}", "usableAreaM2: number out of range"},
    {R, "{\"usableAreaM2\":\"nan\"}", "usableAreaM2: expected a number, got \"nan\""},
    {R, "{\"usableAreaM2\":\"infinity\"}", "expected a number, got \"infinity\""},
    {R, "{\"usableAreaM2\":\"Infinity \"}", "expected a number, got \"Infinity \""},
    {R, "{\"usableAreaM2\":\"+Infinity\"}", "expected a number, got \"+Infinity\""},
    {R, "{\"usableAreaM2\":\"1,5\"}", "expected a number, got \"1,5\""},
    {R, "{\"usableAreaM2\":.5}", "usableAreaM2: expected a number"},
    {R, "{\"usableAreaM2\":1.}", "usableAreaM2: syntax error at offset 16: expected a number"},
    {R, "{\"usableAreaM2\":1.e5}", "syntax error at offset 16: expected a number"},
    {R, "{\"usableAreaM2\":1e}", "syntax error at offset 16: expected a number"},
    {R, "{\"usableAreaM2\":NaN}", "usableAreaM2: expected a number"},
    {R, "{\"usableAreaM2\":Infinity}", "usableAreaM2: expected a number"},
    {R, "{\"usableAreaM2\":-Infinity}", "usableAreaM2: syntax error"},
    {X, "{\"req\":1,\"flt\":3.5e38}", "flt: number out of range for a float"},
    {X, "{\"req\":1,\"flt\":\"-1e39\"}", "flt: number out of range for a float"},
    /* arrays */
    {R, "{\"usage\":[null]}", "usage[0]: null is not allowed in an array"},
    {R, "{\"attachments\":[{},null]}", "attachments[1]: null is not allowed in an array"},
    {R, "{\"usage\":[\"RESIDENTIAL\" \"MIXED\"]}",
     "usage: syntax error at offset 24: expected ',' or ']'"},
    {R, "{\"usage\":[\"RESIDENTIAL\",]}", "usage[1]: expected an enum value name"},
    {R, "{\"usage\":[", "usage[0]: unexpected end of input"},
    {R, "{\"usage\":[1", "usage: unexpected end of input, expected ',' or ']'"},
    /* syntax */
    {R, "", "unexpected end of input, expected an object"},
    {R, "   ", "unexpected end of input, expected an object"},
    {R, "{", "unexpected end of input, expected a field name"},
    {R, "{\"title\":\"x\",}", "syntax error at offset 13: expected a field name in quotes"},
    {R, "{,}", "syntax error at offset 1: expected a field name"},
    {R, "{\"title\" \"x\"}", "syntax error at offset 9: expected ':'"},
    {R, "{\"title\"", "unexpected end of input, expected ':'"},
    {R, "{\"title\":", "title: unexpected end of input, expected a string"},
    {R, "{\"title\":\"x\"", "unexpected end of input, expected ',' or '}'"},
    {R, "{'title':1}", "expected a field name"},
    {R, "{title:1}", "expected a field name"},
    {R, "{\"title\":\"x\"}}", "trailing characters at offset 13"},
    {R, "{} x", "trailing characters at offset 3"},
    {R, "{}{}", "trailing characters at offset 2"},
    {R, "[]", "expected an object"},
    {R, "null", "expected an object"},
    {R, "\"x\"", "expected an object"},
    {R, "1", "expected an object"},
    {R, "{\"title\":\"x\" \"y\"}", "syntax error at offset 13: expected ',' or '}'"},
    {R, "{\"title\":tru}", "title: expected a string"},
    {R, "{\"title\":nul}", "title: expected a string"},
    {R, "{\"priceOnRequest\":tru}", "priceOnRequest: expected true or false"},
    {R, "{\"priceOnRequest\":truex}", "syntax error at offset 22: expected ',' or '}'"},
    {R, "{\"title\":nullx}", "syntax error at offset 13: expected ',' or '}'"},
    {R, "{\"title\":\"x\"/**/}", "expected ',' or '}'"},
    /* whitespace is space, tab, LF and CR only */
    {R, "\f{}", "expected an object"},
    {R, "{}\v", "trailing characters at offset 2"},
    {R, "\xc2\xa0{}", "expected an object"},
    {R, "\xef\xbb\xbf{}", "expected an object"},
    {R, "{\"title\":\v\"x\"}", "title: expected a string"},
    {R, "{\"title\"\xc2\xa0:\"x\"}", "expected ':'"},
    {R, "{\"title\":\"x\"\x0c}", "expected ',' or '}'"},
    /* strings and UTF-8 */
    {R,
     "{\"title\":\"a\x01"
     "b\"}",
     "title: control character U+0001 in string at offset 11"},
    {R, "{\"title\":\"a\tb\"}", "title: control character U+0009"},
    {R, "{\"title\":\"a\nb\"}", "title: control character U+000A"},
    {R, "{\"title\":\"\xff\"}", "title: invalid UTF-8 in string at offset 10"},
    {R, "{\"title\":\"\xc0\xaf\"}", "title: invalid UTF-8"},
    {R, "{\"title\":\"\xc1\xbf\"}", "title: invalid UTF-8"},
    {R, "{\"title\":\"\xe0\x80\xaf\"}", "title: invalid UTF-8"},
    {R, "{\"title\":\"\xed\xa0\x80\"}", "title: invalid UTF-8"},
    {R, "{\"title\":\"\xed\xbf\xbf\"}", "title: invalid UTF-8"},
    {R, "{\"title\":\"\xf0\x8f\xbf\xbf\"}", "title: invalid UTF-8"},
    {R, "{\"title\":\"\xf4\x90\x80\x80\"}", "title: invalid UTF-8"},
    {R, "{\"title\":\"\xf5\x80\x80\x80\"}", "title: invalid UTF-8"},
    {R, "{\"title\":\"\xe2\x82\"}", "title: invalid UTF-8"},
    {R, "{\"title\":\"\xf8\x88\x80\x80\x80\"}", "title: invalid UTF-8"},
    {R, "{\"title\":\"ok\x80\"}", "title: invalid UTF-8 in string at offset 12"},
    {R, "{\"title\":\"\xf0\x9f\x98", "title: invalid UTF-8"},
    {R, "{\"title\":\"\\ud800\"}", "title: unpaired surrogate \\uD800"},
    {R, "{\"title\":\"\\udc00\"}", "title: unpaired surrogate \\uDC00"},
    {R, "{\"title\":\"\\ud800\\u0041\"}", "title: unpaired surrogate \\uD800"},
    {R, "{\"title\":\"\\ud800\\ud800\"}", "title: unpaired surrogate \\uD800"},
    {R, "{\"title\":\"\\ude00\\ud83d\"}", "title: unpaired surrogate \\uDE00"},
    {R, "{\"title\":\"\\ud800x\"}", "title: unpaired surrogate"},
    {R, "{\"title\":\"\\ud800\\\"}", "title: unpaired surrogate"},
    {R, "{\"title\":\"\\u12g4\"}", "title: invalid \\u escape at offset 10"},
    {R, "{\"title\":\"\\u12\"}", "title: invalid \\u escape"},
    {R, "{\"title\":\"\\x\"}", "title: invalid escape sequence at offset 10"},
    {R, "{\"title\":\"\\U00e9\"}", "title: invalid escape sequence"},
    {R, "{\"title\":\"\\'\"}", "title: invalid escape sequence"},
    {R, "{\"title\":\"\\u0000\"}", "title: \\u0000 is not allowed in strings"},
    {R, "{\"title\":\"abc", "title: unexpected end of input, expected '\"' to end the string"},
    {R, "{\"title\":\"abc\\", "title: unexpected end of input"},
    {R, "{\"title\":\"abc\\\"}", "title: unexpected end of input"},
    {R, "{\"ti\xfftle\":1}", "invalid UTF-8 in string at offset 4"},
    {R, "{\"ti\\u0000tle\":1}", "\\u0000 is not allowed"},
    /* bytes */
    {X, "{\"req\":1,\"data\":\"A\"}", "data: invalid base64"},
    {X, "{\"req\":1,\"data\":\"AB=C\"}", "data: invalid base64"},
    {X, "{\"req\":1,\"data\":\"A===\"}", "data: invalid base64"},
    {X, "{\"req\":1,\"data\":\"AA=\"}", "data: invalid base64"},
    {X, "{\"req\":1,\"data\":\"AA===\"}", "data: invalid base64"},
    {X, "{\"req\":1,\"data\":\"A*==\"}", "data: invalid base64"},
    {X, "{\"req\":1,\"data\":\"AA AA\"}", "data: invalid base64"},
    {X, "{\"req\":1,\"data\":5}", "data: expected a base64 string"},
    {X, "{\"req\":1,\"blobs\":[\"AA==\",\"!\"]}", "blobs[1]: invalid base64"},
    {X, "{\"req\":1,\"pickBlob\":\"====\"}", "pickBlob: invalid base64"},
    /* required fields, as protobuf-c's unpacker */
    {X, "{}", "missing required field 'req'"},
    {X, "{\"req\":null}", "req: a required field cannot be null"},
    {X, "{\"req\":1,\"child\":{\"i64\":\"1\"}}", "child: missing required field 'req'"},
#undef R
#undef S
#undef C
#undef X
};

/* Every error class, with the path of the offending value. */
static void
test_decode_errors(void)
{
	for (size_t i = 0; i < NELEM(error_cases); i++)
		check_error(error_cases[i].desc, error_cases[i].json, error_cases[i].want);
}

/* Inputs that a string literal table cannot hold. */
static void
test_decode_errors_special(void)
{
	static const char nul_in_string[] = "{\"title\":\"a\0b\"}";
	static const char nul_after[] = "{}\0";
	struct buf b;
	char *long_key, digits[501];

	check_error_len(&vacancy__v1__record__descriptor, nul_in_string, sizeof(nul_in_string) - 1,
			0, "title: control character U+0000");
	check_error_len(&vacancy__v1__record__descriptor, nul_after, sizeof(nul_after) - 1, 0,
			"trailing characters at offset 2");
	check_error_len(&vacancy__v1__record__descriptor, NULL, 0, 0,
			"unexpected end of input, expected an object");

	/* a key longer than any field name is unknown, shown shortened */
	long_key = malloc(1001);
	memset(long_key, 'a', 1000);
	long_key[1000] = '\0';
	buf_init(&b, 0);
	buf_printf(&b, "{\"%s\":1}", long_key);
	check_error(&vacancy__v1__record__descriptor, b.data, "unknown field 'aaaaaaaaaa");
	CU_ASSERT(strlen(errbuf) < 120);
	buf_free(&b);

	/* a number of more than 400 characters is refused before it is copied */
	buf_init(&b, 0);
	memset(digits, '1', 500);
	digits[500] = '\0';
	buf_printf(&b, "{\"usableAreaM2\":1.%s}", digits);
	check_error(&vacancy__v1__record__descriptor, b.data, "usableAreaM2: number too long");
	buf_reset(&b);
	buf_printf(&b, "{\"constructionYear\":\"%s\"}", digits);
	check_error(&vacancy__v1__record__descriptor, b.data, "constructionYear: number too long");
	buf_free(&b);
	free(long_key);

	/* an error buffer of any size, even none, is safe and NUL-terminated */
	for (size_t len = 0; len < 50; len++) {
		static const char text[] = "{\"changes\":[{\"upsert\":{\"title\":1}}]}";
		char small[50];
		ProtobufCMessage *m;

		memset(small, 'x', sizeof(small));
		m = json_decode(&vacancy__v1__sync_request__descriptor, text, sizeof(text) - 1,
				NULL, 0, len ? small : NULL, len);
		CU_ASSERT_PTR_NULL(m);
		if (len > 0) {
			CU_ASSERT(memchr(small, '\0', len) != NULL);
			CU_ASSERT(strncmp(small, "changes[0].upsert.title: expected a string",
					  len - 1) == 0);
		}
	}
}

/* Nesting beyond max_depth is refused, also for a recursive schema. */
static void
test_depth(void)
{
	static const char *sync = "{\"changes\":[{\"upsert\":{\"location\":{\"lat\":1}}}]}";
	ProtobufCMessage *m;
	struct buf b;

	m = json_decode(&vacancy__v1__sync_request__descriptor, sync, strlen(sync), NULL, 5, errbuf,
			sizeof(errbuf));
	CU_ASSERT(m != NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	check_error_len(&vacancy__v1__sync_request__descriptor, sync, strlen(sync), 4,
			"changes[0].upsert.location: nested deeper than 4 levels");
	check_error_len(&vacancy__v1__sync_request__descriptor, sync, strlen(sync), 2,
			"changes[0]: nested deeper than 2 levels");
	check_error_len(&vacancy__v1__sync_request__descriptor, sync, strlen(sync), 1,
			"changes: nested deeper than 1 levels");
	check_error_len(&vacancy__v1__record__descriptor, "{\"usage\":[]}", 12, 1,
			"usage: nested deeper than 1 levels");
	m = json_decode(&vacancy__v1__record__descriptor, "{\"title\":\"x\"}", 13, NULL, 1, errbuf,
			sizeof(errbuf));
	CU_ASSERT(m != NULL);
	protobuf_c_message_free_unpacked(m, NULL);

	/* a recursive message: the default limit applies when max_depth is 0 */
	buf_init(&b, 0);
	for (int i = 0; i < 100; i++)
		buf_adds(&b, "{\"req\":1,\"child\":");
	buf_adds(&b, "{\"req\":1}");
	for (int i = 0; i < 100; i++)
		buf_addc(&b, '}');
	check_error_len(
	    &scalars_descriptor, b.data, b.len, 0,
	    "child.child.child ... child.child.child.child.child: nested deeper than 64 "
	    "levels");
	m = json_decode(&scalars_descriptor, b.data, b.len, NULL, 101, errbuf, sizeof(errbuf));
	CU_ASSERT(m != NULL);
	check_error_len(&scalars_descriptor, b.data, b.len, 100, "nested deeper than 100 levels");
	if (m) {
		char *json = encode(m, 0);

		CU_ASSERT_STRING_EQUAL(json, b.data);
		free(json);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	buf_free(&b);
}

/* json_decode_field replaces one field, frees what it held, and leaves msg alone on error. */
static void
test_decode_field(void)
{
	const ProtobufCMessageDescriptor *rd = &vacancy__v1__record__descriptor;
	const ProtobufCFieldDescriptor *f_loc =
	    protobuf_c_message_descriptor_get_field_by_name(rd, "location");
	const ProtobufCFieldDescriptor *f_att =
	    protobuf_c_message_descriptor_get_field_by_name(rd, "attachments");
	const ProtobufCFieldDescriptor *f_usage =
	    protobuf_c_message_descriptor_get_field_by_name(rd, "usage");
	const ProtobufCFieldDescriptor *f_title =
	    protobuf_c_message_descriptor_get_field_by_name(rd, "title");
	const ProtobufCFieldDescriptor *f_rev =
	    protobuf_c_message_descriptor_get_field_by_name(rd, "revision");
	const ProtobufCFieldDescriptor *f_up = protobuf_c_message_descriptor_get_field_by_name(
	    &vacancy__v1__record_change__descriptor, "upsert");
	const ProtobufCFieldDescriptor *f_wd = protobuf_c_message_descriptor_get_field_by_name(
	    &vacancy__v1__record_change__descriptor, "withdraw");
	Vacancy__V1__Record *r;
	Vacancy__V1__RecordChange *ch;
	struct scalars *sc;
	char err[200];

#define SET(m, f, text)                                                                            \
	json_decode_field(&(m)->base, f, text, strlen(text), NULL, 0, err, sizeof(err))

	r = (Vacancy__V1__Record *)decode(rd, "{\"title\":\"old\"}");
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(SET(r, f_loc, "{\"lat\":50.1,\"lon\":12.9}"), 0);
	CU_ASSERT_FATAL(r->location != NULL);
	CU_ASSERT_EQUAL(r->location->lon, 12.9);
	CU_ASSERT_EQUAL(SET(r, f_loc, " {\"lat\":1} "), 0);
	CU_ASSERT_FALSE(r->location->has_lon);
	CU_ASSERT_EQUAL(r->location->lat, 1);
	CU_ASSERT_EQUAL(SET(r, f_loc, "{\"lat\":\"x\"}"), -1);
	CU_ASSERT_STRING_EQUAL(err, "location.lat: expected a number, got \"x\"");
	CU_ASSERT_EQUAL(r->location->lat, 1);
	CU_ASSERT_EQUAL(SET(r, f_loc, "null"), 0);
	CU_ASSERT_PTR_NULL(r->location);

	CU_ASSERT_EQUAL(SET(r, f_att,
			    "[{\"group\":\"PHOTO\",\"media_type\":\"image/jpeg\"},"
			    "{\"group\":\"FLOORPLAN\",\"url\":\"https://x\"}]"),
			0);
	CU_ASSERT_EQUAL_FATAL(r->n_attachments, 2);
	CU_ASSERT_STRING_EQUAL(r->attachments[0]->media_type, "image/jpeg");
	CU_ASSERT_EQUAL(r->attachments[1]->group, VACANCY__V1__ATTACHMENT_GROUP__VALUE__FLOORPLAN);
	CU_ASSERT_EQUAL(SET(r, f_att, "[{},{\"group\":\"PHOT\"}]"), -1);
	CU_ASSERT_STRING_EQUAL(
	    err,
	    "attachments[1].group: unknown value 'PHOT' of enum vacancy.v1.AttachmentGroup.Value");
	CU_ASSERT_EQUAL(r->n_attachments, 2);
	CU_ASSERT_EQUAL(SET(r, f_att, "[{\"url\":\"u\"}]"), 0);
	CU_ASSERT_EQUAL_FATAL(r->n_attachments, 1);
	CU_ASSERT_STRING_EQUAL(r->attachments[0]->url, "u");
	CU_ASSERT_EQUAL(SET(r, f_att, "[]"), 0);
	CU_ASSERT_EQUAL(r->n_attachments, 0);
	CU_ASSERT_EQUAL(SET(r, f_att, "{}"), -1);
	CU_ASSERT_STRING_EQUAL(err, "attachments: expected an array");

	CU_ASSERT_EQUAL(SET(r, f_usage, "[\"RESIDENTIAL\",\"MIXED\"]"), 0);
	CU_ASSERT_EQUAL_FATAL(r->n_usage, 2);
	CU_ASSERT_EQUAL(r->usage[1], VACANCY__V1__USAGE__VALUE__MIXED);
	CU_ASSERT_EQUAL(SET(r, f_title, "\"neu\""), 0);
	CU_ASSERT_STRING_EQUAL(r->title, "neu");
	CU_ASSERT_EQUAL(SET(r, f_title, "\"x\" y"), -1);
	CU_ASSERT_STRING_EQUAL(err, "title: trailing characters at offset 4 after the value");
	CU_ASSERT_EQUAL(SET(r, f_title, ""), -1);
	CU_ASSERT_STRING_EQUAL(err, "title: unexpected end of input, expected a string");
	CU_ASSERT_STRING_EQUAL(r->title, "neu");
	CU_ASSERT_EQUAL(SET(r, f_rev, "\"12\""), 0);
	CU_ASSERT(r->has_revision && r->revision == 12);
	CU_ASSERT_EQUAL(SET(r, f_rev, "null"), 0);
	CU_ASSERT_FALSE(r->has_revision);
	CU_ASSERT_EQUAL(SET(r, f_wd, "{}"), -1);
	CU_ASSERT_STRING_EQUAL(err, "'withdraw' is not a field of vacancy.v1.Record");
	check_encode(&r->base, 0, "{\"usage\":[\"RESIDENTIAL\",\"MIXED\"],\"title\":\"neu\"}");
	protobuf_c_message_free_unpacked(&r->base, NULL);

	/* a oneof: setting one member frees the other; null clears only the set member */
	ch = (Vacancy__V1__RecordChange *)decode(&vacancy__v1__record_change__descriptor, "{}");
	CU_ASSERT_FATAL(ch != NULL);
	CU_ASSERT_EQUAL(SET(ch, f_up, "{\"externalId\":\"a\",\"parcelIds\":[\"1\"]}"), 0);
	CU_ASSERT_EQUAL(ch->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT);
	CU_ASSERT_EQUAL(SET(ch, f_wd, "{\"externalId\":\"b\"}"), 0);
	CU_ASSERT_EQUAL(ch->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW);
	CU_ASSERT_STRING_EQUAL(ch->withdraw->external_id, "b");
	CU_ASSERT_EQUAL(SET(ch, f_up, "null"), 0);
	CU_ASSERT_EQUAL(ch->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW);
	CU_ASSERT_EQUAL(SET(ch, f_up, "{\"title\":1}"), -1);
	CU_ASSERT_STRING_EQUAL(err, "upsert.title: expected a string");
	CU_ASSERT_EQUAL(ch->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW);
	CU_ASSERT_EQUAL(SET(ch, f_wd, "null"), 0);
	CU_ASSERT_EQUAL(ch->change_case, VACANCY__V1__RECORD_CHANGE__CHANGE__NOT_SET);
	check_encode(&ch->base, 0, "{}");
	CU_ASSERT_EQUAL(SET(ch, f_wd, "{\"revision\":5}"), 0);
	check_encode(&ch->base, 0, "{\"withdraw\":{\"revision\":\"5\"}}");
	protobuf_c_message_free_unpacked(&ch->base, NULL);

	/* scalar and string members of one oneof share storage */
	sc =
	    (struct scalars *)decode(&scalars_descriptor, "{\"req\":1,\"pickText\":\"long text\"}");
	CU_ASSERT_FATAL(sc != NULL);
	CU_ASSERT_EQUAL(SET(sc, &scalars_fields[11], "7"), 0);
	CU_ASSERT_EQUAL(sc->pick_case, 12);
	CU_ASSERT_EQUAL(sc->pick_num, 7);
	CU_ASSERT_EQUAL(SET(sc, &scalars_fields[13], "\"AQID\""), 0);
	CU_ASSERT_EQUAL(sc->pick_case, 14);
	CU_ASSERT_EQUAL(sc->pick_blob.len, 3);
	CU_ASSERT_EQUAL(SET(sc, &scalars_fields[12], "\"t\""), 0);
	CU_ASSERT_STRING_EQUAL(sc->pick_text, "t");
	/* the default string, bytes and a required field */
	CU_ASSERT_EQUAL(SET(sc, &scalars_fields[9], "\"hey\""), 0);
	CU_ASSERT_STRING_EQUAL(sc->greeting, "hey");
	CU_ASSERT_EQUAL(SET(sc, &scalars_fields[9], "null"), 0);
	CU_ASSERT_PTR_EQUAL(sc->greeting, greeting_default);
	CU_ASSERT_EQUAL(SET(sc, &scalars_fields[5], "\"AAAA\""), 0);
	CU_ASSERT(sc->has_data && sc->data.len == 3);
	CU_ASSERT_EQUAL(SET(sc, &scalars_fields[5], "\"\""), 0);
	CU_ASSERT(sc->has_data && sc->data.len == 0);
	CU_ASSERT_EQUAL(SET(sc, &scalars_fields[10], "null"), -1);
	CU_ASSERT_EQUAL(SET(sc, &scalars_fields[10], "-3"), 0);
	CU_ASSERT_EQUAL(sc->req, -3);
	CU_ASSERT_EQUAL(SET(sc, &scalars_fields[6], "[\"AQ\",\"\"]"), 0);
	CU_ASSERT_EQUAL(sc->n_blobs, 2);
	CU_ASSERT_EQUAL(SET(sc, &scalars_fields[16], "{\"req\":2,\"child\":{\"req\":3}}"), 0);
	CU_ASSERT_EQUAL(sc->child->child->req, 3);
	check_encode(&sc->base, 0,
		     "{\"data\":\"\",\"blobs\":[\"AQ==\",\"\"],\"req\":-3,\"pickText\":\"t\","
		     "\"child\":{\"req\":2,\"child\":{\"req\":3}}}");
	protobuf_c_message_free_unpacked(&sc->base, NULL);
#undef SET
}

/* Decoding with a budget that runs out at every possible point frees all and says why. */
static void
test_alloc_budget(void)
{
	const ProtobufCMessageDescriptor *desc = &vacancy__v1__sync_request__descriptor;
	ProtobufCAllocator alloc = {budget_alloc, budget_free, NULL};
	struct budget b = {SIZE_MAX, 0, 0};
	ProtobufCMessage *full = new_filled(desc, 3), *m;
	char *json = encode(full, 0);
	size_t need, failures = 0;

	alloc.allocator_data = &b;
	CU_ASSERT_FATAL(json != NULL);
	m = json_decode(desc, json, strlen(json), &alloc, 0, errbuf, sizeof(errbuf));
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(same_wire(full, m));
	need = b.used;
	protobuf_c_message_free_unpacked(m, &alloc);
	CU_ASSERT_EQUAL(b.live, 0);
	CU_ASSERT(need > 1000);

	for (size_t limit = 0; limit <= need; limit++) {
		b = (struct budget){limit, 0, 0};
		errbuf[0] = '\0';
		m = json_decode(desc, json, strlen(json), &alloc, 0, errbuf, sizeof(errbuf));
		if (limit < need) {
			if (m != NULL || strcmp(errbuf, "allocation budget exceeded") != 0 ||
			    b.live != 0) {
				failures++;
				fprintf(stderr, "\n  limit %zu: %s, live %zu, %s\n", limit,
					m ? "success" : "failure", b.live, errbuf);
			}
		} else {
			CU_ASSERT(m != NULL && same_wire(full, m));
		}
		protobuf_c_message_free_unpacked(m, &alloc);
		CU_ASSERT_EQUAL_FATAL(b.live, 0);
	}
	CU_ASSERT_EQUAL(failures, 0);
	free(json);
	protobuf_c_message_free_unpacked(full, NULL);
}

/* json_decode_field under a budget: all or nothing. */
static void
test_alloc_budget_field(void)
{
	const ProtobufCMessageDescriptor *rd = &vacancy__v1__record__descriptor;
	const ProtobufCFieldDescriptor *f_att =
	    protobuf_c_message_descriptor_get_field_by_name(rd, "attachments");
	static const char value[] = "[{\"group\":\"PHOTO\",\"mediaType\":\"image/jpeg\",\"sha256\":"
				    "\"00ff\",\"url\":\"https://example.org/a.jpg\"},{\"licence\":"
				    "\"CC-BY-4.0\"},{}]";
	static const char start[] = "{\"title\":\"t\",\"attachments\":[{\"url\":\"old\"}]}";
	ProtobufCAllocator alloc = {budget_alloc, budget_free, NULL};
	struct budget b = {SIZE_MAX, 0, 0};
	ProtobufCMessage *r, *orig;
	size_t base, need;
	char err[200];
	int rv;

	alloc.allocator_data = &b;
	r = json_decode(rd, start, strlen(start), &alloc, 0, err, sizeof(err));
	CU_ASSERT_FATAL(r != NULL);
	orig = decode(rd, start);
	CU_ASSERT_FATAL(orig != NULL);
	base = b.used;
	CU_ASSERT_EQUAL(
	    json_decode_field(r, f_att, value, strlen(value), &alloc, 0, err, sizeof(err)), 0);
	need = b.used - base;
	CU_ASSERT_EQUAL(((Vacancy__V1__Record *)r)->n_attachments, 3);
	protobuf_c_message_free_unpacked(r, &alloc);
	CU_ASSERT_EQUAL(b.live, 0);

	for (size_t limit = 0; limit <= need; limit++) {
		b = (struct budget){SIZE_MAX, 0, 0};
		r = json_decode(rd, start, strlen(start), &alloc, 0, err, sizeof(err));
		CU_ASSERT_FATAL(r != NULL);
		b.limit = b.used + limit;
		rv = json_decode_field(r, f_att, value, strlen(value), &alloc, 0, err, sizeof(err));
		if (limit < need) {
			CU_ASSERT_EQUAL(rv, -1);
			CU_ASSERT_STRING_EQUAL(err, "allocation budget exceeded");
			CU_ASSERT(same_wire(r, orig));
		} else {
			CU_ASSERT_EQUAL(rv, 0);
		}
		protobuf_c_message_free_unpacked(r, &alloc);
		CU_ASSERT_EQUAL_FATAL(b.live, 0);
	}
	protobuf_c_message_free_unpacked(orig, NULL);
}

/* The output buffer's limit makes json_encode fail cleanly at every length. */
static void
test_encode_limit(void)
{
	ProtobufCMessage *m = new_filled(&vacancy__v1__search_response__descriptor, 2);
	char *json = encode(m, 0);
	size_t len = strlen(json);
	struct buf b;

	for (size_t max = 1; max <= len; max++) {
		buf_init(&b, max);
		if (max < len) {
			CU_ASSERT_EQUAL(json_encode(m, &b, 0), -1);
		} else {
			CU_ASSERT_EQUAL(json_encode(m, &b, 0), 0);
			CU_ASSERT_STRING_EQUAL(b.data, json);
		}
		buf_free(&b);
	}
	/* appends to what the buffer holds; a failed buffer stays failed */
	buf_init(&b, 0);
	buf_adds(&b, "x=");
	CU_ASSERT_EQUAL(json_encode(m, &b, 0), 0);
	CU_ASSERT(strncmp(b.data, "x={", 3) == 0);
	buf_free(&b);
	buf_init(&b, 2);
	buf_adds(&b, "abc");
	CU_ASSERT_EQUAL(json_encode(m, &b, 0), -1);
	buf_free(&b);
	free(json);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* JSON_PROTO_NAMES writes the .proto names (for the database), and the
 * decoder reads them back to the same message. */
static void
test_proto_names(void)
{
	Vacancy__V1__Record r = VACANCY__V1__RECORD__INIT;
	Vacancy__V1__LatLon loc = VACANCY__V1__LAT_LON__INIT;
	Vacancy__V1__Record *back;
	struct buf b;
	char err[128];

	r.external_id = "E-1";
	r.has_usable_area_m2 = 1;
	r.usable_area_m2 = 12.5;
	loc.has_lat = 1;
	loc.lat = 50.5;
	r.location = &loc;
	buf_init(&b, 0);
	CU_ASSERT_EQUAL_FATAL(json_encode(&r.base, &b, JSON_PROTO_NAMES), 0);
	CU_ASSERT_STRING_EQUAL(b.data, "{\"external_id\":\"E-1\",\"location\":{\"lat\":50.5},"
				       "\"usable_area_m2\":12.5}");
	back = (Vacancy__V1__Record *)json_decode(&vacancy__v1__record__descriptor, b.data, b.len,
						  NULL, 0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_STRING_EQUAL(back->external_id, "E-1");
	CU_ASSERT(back->has_usable_area_m2 && back->usable_area_m2 == 12.5);
	vacancy__v1__record__free_unpacked(back, NULL);
	buf_reset(&b);
	CU_ASSERT_EQUAL(json_encode(&r.base, &b, 0), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(b.data, "\"externalId\""));
	buf_free(&b);
}

void
test_json_register(void)
{
	CU_pSuite s = CU_add_suite("json", NULL, NULL);

	if (s == NULL)
		return;
	CU_add_test(s, "hand-written descriptor is sound", test_scalars_descriptor);
	CU_add_test(s, "round trip of every message, every field", test_round_trip_all);
	CU_add_test(s, "record names every field in order", test_record_every_field);
	CU_add_test(s, "proto names for the database", test_proto_names);
	CU_add_test(s, "sync request with oneof changes", test_sync_request_oneof);
	CU_add_test(s, "exact encodings", test_encode_exact);
	CU_add_test(s, "number formatting", test_encode_numbers);
	CU_add_test(s, "bytes, defaults, scalar oneof, proto3 field", test_scalars_exact);
	CU_add_test(s, "decoder accepts", test_decode_accepts);
	CU_add_test(s, "string escapes and UTF-8", test_decode_strings);
	CU_add_test(s, "json_add_string", test_add_string);
	CU_add_test(s, "json_field_name", test_field_name);
	CU_add_test(s, "error table", test_decode_errors);
	CU_add_test(s, "errors with NUL bytes and long tokens", test_decode_errors_special);
	CU_add_test(s, "depth limit", test_depth);
	CU_add_test(s, "json_decode_field", test_decode_field);
	CU_add_test(s, "allocation budget: decode", test_alloc_budget);
	CU_add_test(s, "allocation budget: decode_field", test_alloc_budget_field);
	CU_add_test(s, "output size limit", test_encode_limit);
	CU_add_test(s, "decimals without printf", test_encode_decimals);
}
