/*
 * json: the protobuf JSON mapping of every message of proto/vacancy.proto,
 * written once over protobuf-c's descriptors (never per message).
 *
 * Keys are lowerCamelCase in field-number order; only present fields are
 * written (has_* set, non-NULL string or message other than the default, a
 * repeated field with elements, the set member of a oneof). 64-bit integers
 * are strings, enums are value names, bytes are base64, doubles round-trip,
 * NaN and the infinities are the strings "NaN", "Infinity", "-Infinity".
 *
 * The decoder is strict because it guards writes: RFC 8259 syntax only,
 * valid UTF-8, unknown and duplicate keys refused, at most one member of a
 * oneof, a nesting limit. It builds the message directly (no tree) with the
 * caller's allocator, so the result is freed with
 * protobuf_c_message_free_unpacked(msg, alloc) like the result of *_unpack.
 * Errors name the JSON path: "changes[3].upsert.usableAreaM2: expected a
 * number". Error texts are plain ASCII: client text in them is escaped.
 */
#ifndef VACANCY_JSON_H
#define VACANCY_JSON_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "buf.h"

#define JSON_PRETTY	 0x1 /* newlines and two-space indentation */
#define JSON_PROTO_NAMES 0x2 /* keys as the .proto names (snake_case): for the database */

/* max_depth 0 means this many nested objects and arrays. */
#define JSON_DEFAULT_MAX_DEPTH 64

/*
 * Appends the JSON form of msg (borrowed) to out. Returns 0, or -1 when out
 * failed (size limit or out of memory); out then holds a truncated text.
 */
int json_encode(const ProtobufCMessage *msg, struct buf *out, int flags)
    __attribute__((warn_unused_result));

/*
 * Parses text (len bytes, need not be NUL-terminated) as the JSON form of a
 * message of type desc, nested at most max_depth objects and arrays deep.
 * Everything is allocated with alloc (NULL: malloc and free, like protobuf-c's
 * default); the caller owns the result and frees it with
 * protobuf_c_message_free_unpacked(msg, alloc). On error returns NULL, has
 * freed everything it allocated, and has written a reason naming the JSON
 * path into err (errlen bytes, may be 0).
 */
ProtobufCMessage *json_decode(const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
			      ProtobufCAllocator *alloc, unsigned max_depth, char *err,
			      size_t errlen);

/*
 * Sets one field of msg (allocated with alloc) from the JSON value text, as
 * the member of an object would: an array for a repeated field, null for
 * "absent". What the field held is freed and replaced; setting a member of a
 * oneof clears the member that was set. On error returns -1 with a reason in
 * err and leaves msg as it was. Used for JSON columns returned by PostgreSQL.
 */
int json_decode_field(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field,
		      const char *text, size_t len, ProtobufCAllocator *alloc, unsigned max_depth,
		      char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Writes the lowerCamelCase JSON name of field ("usable_area_m2" ->
 * "usableAreaM2") into out, truncated to outlen - 1 bytes. Returns out.
 */
const char *json_field_name(const ProtobufCFieldDescriptor *field, char *out, size_t outlen);

/*
 * Appends s (len bytes, may hold NULs) as a JSON string literal: quotes,
 * escapes for '"', '\\', control characters, U+2028 and U+2029; other
 * non-ASCII as raw UTF-8, each invalid byte sequence replaced by U+FFFD.
 */
void json_add_string(struct buf *out, const char *s, size_t len);

/*
 * Writes a finite v in the fewest digits that parse back to it, as JSON
 * numbers are written ("706.4", "1e+21"); NaN and the infinities as
 * PostgreSQL's float8 reads them ("NaN", "Infinity", "-Infinity"). out
 * holds at least JSON_DOUBLE_LEN bytes.
 */
#define JSON_DOUBLE_LEN 40
void json_format_double(double v, char *out);

#endif
