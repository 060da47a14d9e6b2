/*
 * pbfield: protobuf-c field layout helpers; see pbfield.h.
 */
#include "pbfield.h"

#include <stdint.h>
#include <string.h>

/* Classifies the quantifier of f the way protobuf-c's packer does. */
enum pbfield_quant
pbfield_quant(const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return PBFIELD_COUNT;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return PBFIELD_CASE;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		return PBFIELD_HAS;
	return PBFIELD_NONE;
}

/* Size of one value of type t in a message or a repeated array. */
size_t
pbfield_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return sizeof(uint32_t);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int); /* protobuf-c forces enums to int size */
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* Whether the len bytes at p are all zero (proto3 "not set"). */
static int
all_zero(const void *p, size_t len)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < len; i++)
		if (s[i] != 0)
			return 0;
	return 1;
}

/* Whether field f of msg is present, by the same rules as protobuf-c's packer. */
int
pbfield_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	const void *member = (const char *)msg + f->offset;
	const void *q = (const char *)msg + f->quantifier_offset;
	enum pbfield_quant quant = pbfield_quant(f);

	switch (quant) {
	case PBFIELD_COUNT:
		return *(const size_t *)q > 0;
	case PBFIELD_HAS:
		return *(const protobuf_c_boolean *)q != 0;
	case PBFIELD_CASE:
		if (*(const uint32_t *)q != f->id)
			return 0;
		break;
	case PBFIELD_NONE:
		break;
	}
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(char *const *)member;

		if (s == NULL || s == f->default_value)
			return 0;
		return f->label != PROTOBUF_C_LABEL_NONE || quant == PBFIELD_CASE || *s != '\0';
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(ProtobufCMessage *const *)member != NULL;
	if (f->label == PROTOBUF_C_LABEL_NONE && quant == PBFIELD_NONE) {
		if (f->type == PROTOBUF_C_TYPE_BYTES)
			return ((const ProtobufCBinaryData *)member)->len > 0;
		return !all_zero(member, pbfield_size(f->type));
	}
	return 1;
}

size_t
pbfield_count(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)((const char *)msg + f->quantifier_offset);
	return pbfield_present(msg, f) ? 1 : 0;
}

/* Frees one value of field type f->type stored at p (string or message). */
static void
pbfield_free_value(const ProtobufCFieldDescriptor *f, void *p, ProtobufCAllocator *alloc)
{
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		char *s = *(char **)p;
		if (s != NULL && s != (const char *)f->default_value)
			alloc->free(alloc->allocator_data, s);
	} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage *m = *(ProtobufCMessage **)p;
		if (m != NULL)
			protobuf_c_message_free_unpacked(m, alloc);
	} else if (f->type == PROTOBUF_C_TYPE_BYTES) {
		ProtobufCBinaryData *bd = p;
		if (bd->data != NULL &&
		    (f->default_value == NULL ||
		     bd->data != ((const ProtobufCBinaryData *)f->default_value)->data))
			alloc->free(alloc->allocator_data, bd->data);
	}
}

void
pbfield_clear(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, ProtobufCAllocator *alloc)
{
	char *base = (char *)msg;
	void *member = base + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = (size_t *)(base + f->quantifier_offset);
		char *arr = *(char **)member;
		size_t sz = pbfield_size(f->type);

		for (size_t i = 0; arr != NULL && i < *n; i++)
			pbfield_free_value(f, arr + i * sz, alloc);
		if (arr != NULL)
			alloc->free(alloc->allocator_data, arr);
		*(char **)member = NULL;
		*n = 0;
		return;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t *which = (uint32_t *)(base + f->quantifier_offset);
		if (*which != f->id)
			return;
		*which = 0;
	}
	pbfield_free_value(f, member, alloc);
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		*(void **)member = NULL;
		break;
	case PROTOBUF_C_TYPE_BYTES:
		memset(member, 0, sizeof(ProtobufCBinaryData));
		break;
	default:
		memset(member, 0, pbfield_size(f->type));
		break;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
	    f->quantifier_offset != 0 && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)(base + f->quantifier_offset) = 0;
}
