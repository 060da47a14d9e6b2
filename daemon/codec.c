/*
 * codec: content negotiation, budgeted decoding, encoding.
 */
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

#include <openssl/evp.h>

static void *
codec_heap_alloc(void *data, size_t size)
{
	(void)data;
	return malloc(size);
}

static void
codec_heap_free(void *data, void *ptr)
{
	(void)data;
	free(ptr);
}

ProtobufCAllocator codec_heap = {codec_heap_alloc, codec_heap_free, NULL};

/* Every block is preceded by its size, padded to keep alignment. */
#define CODEC_HDR 16

static void *
codec_budget_alloc(void *data, size_t size)
{
	struct codec_budget *b = data;
	unsigned char *p;

	if (size > b->limit - b->used || size > SIZE_MAX - CODEC_HDR) {
		b->exhausted = 1;
		return NULL;
	}
	if ((p = malloc(size + CODEC_HDR)) == NULL) {
		b->exhausted = 1;
		return NULL;
	}
	memcpy(p, &size, sizeof(size));
	b->used += size;
	if (b->used > b->peak)
		b->peak = b->used;
	return p + CODEC_HDR;
}

static void
codec_budget_free(void *data, void *ptr)
{
	struct codec_budget *b = data;
	unsigned char *p;
	size_t size;

	if (ptr == NULL)
		return;
	p = (unsigned char *)ptr - CODEC_HDR;
	memcpy(&size, p, sizeof(size));
	b->used -= size;
	free(p);
}

void
codec_budget_init(struct codec_budget *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->alloc.alloc = codec_budget_alloc;
	b->alloc.free = codec_budget_free;
	b->alloc.allocator_data = b;
	b->limit = limit;
}

/* 1 when the media type at s (up to ';' or end) equals type. */
static int
codec_media_is(const char *s, size_t n, const char *type)
{
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return strlen(type) == n && strncasecmp(s, type, n) == 0;
}

int
codec_format_from_content_type(const char *ct, enum codec_format *out)
{
	size_t n;

	if (ct == NULL)
		return -1;
	n = strcspn(ct, ";");
	if (codec_media_is(ct, n, "application/x-protobuf") ||
	    codec_media_is(ct, n, "application/protobuf") ||
	    codec_media_is(ct, n, "application/octet-stream")) {
		*out = CODEC_PROTOBUF;
		return 0;
	}
	if (codec_media_is(ct, n, "application/json")) {
		*out = CODEC_JSON;
		return 0;
	}
	return -1;
}

enum codec_format
codec_format_from_accept(const char *accept)
{
	const char *p = accept;

	/* The first listed type we serve wins; q-values are not weighed. */
	while (p != NULL && *p) {
		size_t n = strcspn(p, ",");
		size_t m = strcspn(p, ";,");

		if (codec_media_is(p, m, "application/json"))
			return CODEC_JSON;
		if (codec_media_is(p, m, "application/x-protobuf") ||
		    codec_media_is(p, m, "application/protobuf"))
			return CODEC_PROTOBUF;
		p += n;
		if (*p == ',')
			p++;
	}
	return CODEC_PROTOBUF;
}

const char *
codec_content_type(enum codec_format f)
{
	return f == CODEC_JSON ? CODEC_CT_JSON : CODEC_CT_PROTOBUF;
}

/* Walks msg depth first; path holds the dotted path of msg itself. */
static int
codec_unknown_walk(const ProtobufCMessage *msg, char *path, size_t pathlen, char *err,
		   size_t errlen)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const char *base = (const char *)msg;
	size_t used = strlen(path);

	if (msg->n_unknown_fields > 0) {
		snprintf(err, errlen, "%s%sunknown field number %u", path, used ? ": " : "",
			 msg->unknown_fields[0].tag);
		return 1;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			ProtobufCMessage *const *arr =
			    *(ProtobufCMessage *const *const *)(base + f->offset);

			for (size_t k = 0; k < n; k++) {
				snprintf(path + used, pathlen - used, "%s%s[%zu]", used ? "." : "",
					 f->name, k);
				if (codec_unknown_walk(arr[k], path, pathlen, err, errlen))
					return 1;
			}
		} else {
			const ProtobufCMessage *m = *(ProtobufCMessage *const *)(base + f->offset);

			if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
			if (m == NULL)
				continue;
			snprintf(path + used, pathlen - used, "%s%s", used ? "." : "", f->name);
			if (codec_unknown_walk(m, path, pathlen, err, errlen))
				return 1;
		}
		path[used] = '\0';
	}
	path[used] = '\0';
	return 0;
}

int
codec_find_unknown(const ProtobufCMessage *msg, char *err, size_t errlen)
{
	char path[256] = "";

	return codec_unknown_walk(msg, path, sizeof(path), err, errlen);
}

ProtobufCMessage *
codec_decode(const ProtobufCMessageDescriptor *desc, enum codec_format f, const uint8_t *data,
	     size_t len, struct codec_budget *budget, unsigned max_json_depth, int strict,
	     char *err, size_t errlen)
{
	ProtobufCMessage *msg;
	char reason[256];

	if (f == CODEC_JSON) {
		msg = json_decode(desc, (const char *)data, len, &budget->alloc, max_json_depth,
				  reason, sizeof(reason));
		if (msg == NULL) {
			snprintf(err, errlen, "%s",
				 budget->exhausted ? "message needs more memory than allowed"
						   : reason);
			return NULL;
		}
		return msg;
	}
	msg = protobuf_c_message_unpack(desc, &budget->alloc, len, data);
	if (msg == NULL) {
		snprintf(err, errlen, "%s",
			 budget->exhausted ? "message needs more memory than allowed"
					   : "body is not a valid protobuf message of this type");
		return NULL;
	}
	if (strict && codec_find_unknown(msg, reason, sizeof(reason))) {
		snprintf(err, errlen, "unknown fields are refused: %s", reason);
		protobuf_c_message_free_unpacked(msg, &budget->alloc);
		return NULL;
	}
	return msg;
}

int
codec_encode(const ProtobufCMessage *msg, enum codec_format f, struct buf *out)
{
	uint8_t *p;
	size_t n;

	if (f == CODEC_JSON)
		return json_encode(msg, out, 0);
	n = protobuf_c_message_get_packed_size(msg);
	if ((p = buf_extend(out, n)) == NULL)
		return -1;
	protobuf_c_message_pack(msg, p);
	return 0;
}

void
codec_etag(const char *content_type, const void *body, size_t len, char out[35])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memset(md, 0, sizeof(md));
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, content_type ? content_type : "",
			     content_type ? strlen(content_type) : 0) == 1 &&
	    EVP_DigestUpdate(ctx, "\n", 1) == 1 && EVP_DigestUpdate(ctx, body, len) == 1)
		EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	out[0] = '"';
	for (int i = 0; i < 16; i++) {
		out[1 + 2 * i] = hex[md[i] >> 4];
		out[2 + 2 * i] = hex[md[i] & 15];
	}
	out[33] = '"';
	out[34] = '\0';
}

int
codec_etag_match(const char *inm, const char *etag)
{
	size_t elen = strlen(etag);

	if (inm == NULL)
		return 0;
	for (const char *p = inm; *p;) {
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		/* weak comparison (RFC 9110 13.1.2): W/ is ignored */
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == elen && strncmp(p, etag, n) == 0)
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}
