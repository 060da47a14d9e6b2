/*
 * pgmap: fills protobuf messages from PostgreSQL result rows, generically.
 * A column named like a field of the message sets that field: scalars from
 * their text form (enums by value name, booleans t/f), repeated and message
 * fields from JSON text (the SQL emits to_json / json_build_object).
 * NULL leaves a field absent; columns whose names start with "_" are for the
 * SQL's own use and skipped; any other unknown column is an error, so the
 * SQL and the proto cannot drift apart silently. Pure (needs only PGresult).
 */
#ifndef VACANCY_PGMAP_H
#define VACANCY_PGMAP_H

#include <libpq-fe.h>
#include <protobuf-c/protobuf-c.h>

/*
 * Fills msg (initialised, allocated with alloc) from row of res. Returns 0,
 * or -1 with "column: reason" in err.
 */
int pgmap_row(const PGresult *res, int row, ProtobufCMessage *msg, ProtobufCAllocator *alloc,
	      char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Sets scalar field f of msg from its text form. 0 or -1 with a reason.
 */
int pgmap_set_scalar(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f, const char *text,
		     ProtobufCAllocator *alloc, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
