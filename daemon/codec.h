/*
 * codec: bodies on the wire. Content negotiation (protobuf or JSON),
 * decoding behind a size cap and an allocator with a byte budget (protobuf-c
 * has neither), refusal of unknown fields on writes, and encoding. Pure.
 */
#ifndef VACANCY_CODEC_H
#define VACANCY_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "buf.h"

enum codec_format { CODEC_PROTOBUF, CODEC_JSON };

#define CODEC_CT_PROTOBUF "application/x-protobuf"
#define CODEC_CT_JSON	  "application/json"

/*
 * An allocator that fails once `limit` bytes are live. Each block carries a
 * small header with its size so that frees give the bytes back.
 */
struct codec_budget {
	ProtobufCAllocator alloc; /* pass &budget->alloc to protobuf-c */
	size_t used;
	size_t peak;
	size_t limit;
	int exhausted;
};

void codec_budget_init(struct codec_budget *b, size_t limit);

/* malloc/free as a ProtobufCAllocator, for messages built from trusted data. */
extern ProtobufCAllocator codec_heap;

/*
 * The request format from a Content-Type value: application/x-protobuf (also
 * application/protobuf, application/octet-stream) or application/json, with
 * optional parameters. -1 for anything else (the caller answers 415).
 */
int codec_format_from_content_type(const char *ct, enum codec_format *out)
    __attribute__((warn_unused_result));

/* The response format from an Accept value: JSON when it asks for
 * application/json before any protobuf type, protobuf otherwise. */
enum codec_format codec_format_from_accept(const char *accept);
const char *codec_content_type(enum codec_format f);

/*
 * Decodes a body of type desc. Everything comes from budget; the result is
 * freed with protobuf_c_message_free_unpacked(msg, &budget->alloc). With
 * strict set, unknown fields anywhere in the message are refused. NULL with
 * a human reason in err on failure (and budget->exhausted when that was the
 * cause).
 */
ProtobufCMessage *codec_decode(const ProtobufCMessageDescriptor *desc, enum codec_format f,
			       const uint8_t *data, size_t len, struct codec_budget *budget,
			       unsigned max_json_depth, int strict, char *err, size_t errlen);

/* A strong entity tag of a response: a quoted hex SHA-256 prefix of its
 * content type and body (34 characters and NUL). */
void codec_etag(const char *content_type, const void *body, size_t len, char out[35]);
/* 1 when an If-None-Match value (a list of tags, W/ weak ones, or "*")
 * matches etag. */
int codec_etag_match(const char *if_none_match, const char *etag);

/* Appends the encoding of msg to out; 0 or -1 when out failed. */
int codec_encode(const ProtobufCMessage *msg, enum codec_format f, struct buf *out)
    __attribute__((warn_unused_result));

/*
 * Looks for unknown fields in msg and its sub-messages. Returns 1 and writes
 * the path of the first one ("changes[2].upsert: unknown field 99") to err,
 * or 0.
 */
int codec_find_unknown(const ProtobufCMessage *msg, char *err, size_t errlen);

#endif
