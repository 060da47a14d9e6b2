/*
 * fuzz_json: libFuzzer target for the JSON codec of daemon/json.c.
 *
 * The first input byte picks the message type (or a field of Record for
 * json_decode_field) and whether a small allocation budget applies; the rest
 * is the JSON text. Whatever decodes must encode, decode again to the same
 * protobuf bytes and encode to the same text; whatever fails must say why and
 * give back every byte it allocated.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *       -Idaemon -Ibuild/default/proto tests/fuzz/fuzz_json.c daemon/json.c \
 *       daemon/buf.c daemon/log.c build/default/proto/vacancy.pb-c.c -lprotobuf-c -lm
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "vacancy.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *const targets[] = {
    &vacancy__v1__record__descriptor,	      &vacancy__v1__sync_request__descriptor,
    &vacancy__v1__search_request__descriptor, &vacancy__v1__change_batch__descriptor,
    &vacancy__v1__overview__descriptor,	      &vacancy__v1__error__descriptor,
    &vacancy__v1__record_change__descriptor,  &vacancy__v1__lat_lon__descriptor,
};

#define MAX_DEPTH 16

/* Counts what is allocated and refuses past a limit. */
struct budget {
	size_t limit;
	size_t used;
	size_t live;
};

union hdr {
	size_t size;
	max_align_t align;
};

/* Allocates n bytes within the budget. */
static void *
budget_alloc(void *data, size_t n)
{
	struct budget *b = data;
	union hdr *h;

	if (n > b->limit - b->used || (h = malloc(sizeof(*h) + n)) == NULL)
		return NULL;
	b->used += n;
	b->live++;
	return h + 1;
}

/* Returns an allocation to the budget's count. */
static void
budget_free(void *data, void *p)
{
	struct budget *b = data;

	if (p == NULL)
		return;
	b->live--;
	free((union hdr *)p - 1);
}

/* Packs m into a new buffer; *n is its size. */
static uint8_t *
pack(const ProtobufCMessage *m, size_t *n)
{
	uint8_t *p;

	*n = protobuf_c_message_get_packed_size(m);
	if ((p = malloc(*n + 1)) == NULL)
		abort();
	protobuf_c_message_pack(m, p);
	return p;
}

/* Encodes m, decodes the text again and checks that nothing changed. */
static void
check_round_trip(const ProtobufCMessage *m, int flags)
{
	const ProtobufCMessageDescriptor *desc = m->descriptor;
	ProtobufCMessage *m2;
	struct buf b, b2;
	uint8_t *p1, *p2;
	size_t n1, n2;
	char err[256];

	buf_init(&b, 0);
	buf_init(&b2, 0);
	if (json_encode(m, &b, flags) == -1)
		abort();
	m2 = json_decode(desc, b.data, b.len, NULL, MAX_DEPTH, err, sizeof(err));
	if (m2 == NULL)
		abort();
	p1 = pack(m, &n1);
	p2 = pack(m2, &n2);
	if (n1 != n2 || memcmp(p1, p2, n1) != 0)
		abort();
	if (json_encode(m2, &b2, flags) == -1 || b.len != b2.len || memcmp(b.data, b2.data, b.len))
		abort();
	free(p1);
	free(p2);
	protobuf_c_message_free_unpacked(m2, NULL);
	buf_free(&b);
	buf_free(&b2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char start[] = "{\"title\":\"x\",\"usage\":[1]}";
	ProtobufCAllocator alloc = {budget_alloc, budget_free, NULL};
	struct budget b = {SIZE_MAX, 0, 0};
	const ProtobufCMessageDescriptor *rd = &vacancy__v1__record__descriptor;
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *m;
	const char *text;
	char err[256];
	uint8_t sel;

	if (size < 2)
		return 0;
	sel = data[0];
	text = (const char *)data + 2;
	size -= 2;
	alloc.allocator_data = &b;
	if (sel & 0x80)
		b.limit = (size_t)data[1] * 16; /* fail somewhere in the middle */

	if (sel & 0x40) {
		/* one field of a record, as the daemon fills them from PostgreSQL */
		m = json_decode(rd, start, strlen(start), &alloc, 0, err, sizeof(err));
		if (m == NULL) {
			if (err[0] == '\0' || b.live != 0)
				abort();
			return 0;
		}
		err[0] = '\0';
		if (json_decode_field(m, &rd->fields[data[1] % rd->n_fields], text, size, &alloc,
				      MAX_DEPTH, err, sizeof(err)) == -1 &&
		    err[0] == '\0')
			abort();
		check_round_trip(m, sel & 1);
		protobuf_c_message_free_unpacked(m, &alloc);
		if (b.live != 0)
			abort();
		return 0;
	}

	desc = targets[sel % (sizeof(targets) / sizeof(targets[0]))];
	m = json_decode(desc, text, size, &alloc, MAX_DEPTH, err, sizeof(err));
	if (m == NULL) {
		if (err[0] == '\0' || b.live != 0)
			abort();
		return 0;
	}
	check_round_trip(m, (sel >> 3) & 1);
	protobuf_c_message_free_unpacked(m, &alloc);
	if (b.live != 0)
		abort();
	return 0;
}
