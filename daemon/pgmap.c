/*
 * pgmap: PGresult rows to protobuf-c messages over descriptors.
 */
#include "pgmap.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "pbfield.h"
#include "project.h"

/* Nested JSON columns are at most this deep. */
#define PGMAP_JSON_DEPTH 16

/* Sets the has_ flag of an optional scalar. */
static void
pgmap_set_has(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset != 0)
		*(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 1;
}

int
pgmap_set_scalar(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, const char *text,
		 ProtobufCAllocator *alloc, char *err, size_t errlen)
{
	void *member = (char *)msg + f->offset;
	char *end;

	errno = 0;
	/* strto* skip blanks and take signs; the database sends neither */
	if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_ENUM &&
	    f->type != PROTOBUF_C_TYPE_BOOL && !(text[0] >= '0' && text[0] <= '9') &&
	    !(text[0] == '-' && text[1] >= '0' && text[1] <= '9'))
		goto bad;
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		size_t n = strlen(text);
		char *s = alloc->alloc(alloc->allocator_data, n + 1);

		if (s == NULL)
			goto nomem;
		memcpy(s, text, n + 1);
		pbfield_clear(msg, f, alloc);
		*(char **)member = s;
		return 0;
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (strcmp(text, "t") && strcmp(text, "f") && strcmp(text, "true") &&
		    strcmp(text, "false"))
			goto bad;
		*(protobuf_c_boolean *)member = text[0] == 't';
		break;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32: {
		long long v = strtoll(text, &end, 10);
		if (errno || *end || end == text || v < INT32_MIN || v > INT32_MAX)
			goto bad;
		*(int32_t *)member = (int32_t)v;
		break;
	}
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32: {
		unsigned long long v = strtoull(text, &end, 10);
		if (errno || *end || end == text || text[0] == '-' || v > UINT32_MAX)
			goto bad;
		*(uint32_t *)member = (uint32_t)v;
		break;
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		long long v = strtoll(text, &end, 10);
		if (errno || *end || end == text)
			goto bad;
		*(int64_t *)member = v;
		break;
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64: {
		unsigned long long v = strtoull(text, &end, 10);
		if (errno || *end || end == text || text[0] == '-')
			goto bad;
		*(uint64_t *)member = v;
		break;
	}
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_FLOAT: {
		double v = strtod(text, &end);
		if (errno || *end || end == text || !isfinite(v))
			goto bad;
		if (f->type == PROTOBUF_C_TYPE_DOUBLE)
			*(double *)member = v;
		else
			*(float *)member = (float)v;
		break;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, text);
		if (ev == NULL)
			goto bad;
		*(int *)member = ev->value;
		break;
	}
	default:
		snprintf(err, errlen, "%s: type not mapped from text", f->name);
		return -1;
	}
	pgmap_set_has(msg, f);
	return 0;
bad:
	snprintf(err, errlen, "%s: cannot read '%.40s'", f->name, text);
	return -1;
nomem:
	snprintf(err, errlen, "%s: out of memory", f->name);
	return -1;
}

int
pgmap_row(const PGresult *res, int row, ProtobufCMessage *msg, ProtobufCAllocator *alloc, char *err,
	  size_t errlen)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	int ncols = PQnfields(res);

	for (int c = 0; c < ncols; c++) {
		const char *name = PQfname(res, c);
		const ProtobufCFieldDescriptor *f;
		const char *text;

		if (name[0] == '_')
			continue;
		/* checked before NULLs are skipped, so drift shows on every row */
		if ((f = protobuf_c_message_descriptor_get_field_by_name(d, name)) == NULL) {
			snprintf(err, errlen, "%s: no such field in %s", name, d->short_name);
			return -1;
		}
		if (PQgetisnull(res, row, c))
			continue;
		text = PQgetvalue(res, row, c);
		if (f->label == PROTOBUF_C_LABEL_REPEATED || f->type == PROTOBUF_C_TYPE_MESSAGE) {
			char reason[200];

			if (json_decode_field(msg, f, text, (size_t)PQgetlength(res, row, c), alloc,
					      PGMAP_JSON_DEPTH, reason, sizeof(reason)) == -1) {
				snprintf(err, errlen, "%s: %s", name, reason);
				return -1;
			}
			continue;
		}
		if (pgmap_set_scalar(msg, f, text, alloc, err, errlen) == -1)
			return -1;
	}
	return 0;
}
