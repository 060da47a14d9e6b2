/*
 * csv: a registry stock as CSV (RFC 4180), one row per change, into a sync
 * batch. Header names are the record's field names (record.md, proto),
 * nested with dots ("location.lat"); repeated scalars hold values separated
 * by '|'; "attachments" holds a JSON array (protobuf JSON mapping); the
 * "action" column says U (upsert, also I and empty) or D (withdraw).
 *
 * The field setter is shared with the OpenImmo reader (user-defined fields
 * name record fields the same way), so both formats turn the same text into
 * the same value. Pure: no I/O.
 */
#ifndef VACANCY_CLIENT_CSV_H
#define VACANCY_CLIENT_CSV_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "sync.h"
#include "vacancy.pb-c.h"

#define CSV_MAX_FILE	SYNC_MAX_FILE	   /* bytes of one file */
#define CSV_MAX_CELL	((size_t)64 << 10) /* bytes of one cell */
#define CSV_MAX_COLUMNS 200		   /* columns of the header */

/* How a named field takes its text. */
enum csv_field_kind {
	CSV_FIELD_SCALAR,    /* one value */
	CSV_FIELD_LIST,	     /* a repeated scalar: values separated by '|' */
	CSV_FIELD_JSON,	     /* a message or repeated message: JSON (protobuf mapping) */
	CSV_FIELD_READ_ONLY, /* assigned by the registry: never sent */
};

/* A Record field named by a header or an OpenImmo user field. */
struct csv_field {
	const ProtobufCFieldDescriptor *outer; /* the field of Record */
	const ProtobufCFieldDescriptor *inner; /* for "a.b": b in a's message; else NULL */
	enum csv_field_kind kind;
};

/* Looks up a field name ("usage", "location.lat"). 0, or -1 when unknown. */
int csv_field_find(const char *name, struct csv_field *out) __attribute__((warn_unused_result));

/*
 * Sets field cf of r (built with codec_heap) from text, which is trimmed of
 * blanks and must not be empty. Enums by value name in any case; booleans
 * true/false, t/f, yes/no, ja/nein, 1/0; numbers with a decimal point (or a
 * decimal comma when decimal_comma); money to exactly two decimals (more
 * decimals are refused unless zeros); dates DD.MM.YYYY become YYYY-MM-DD;
 * sets (usage, marketing) are sorted and repeated values collapse. Returns
 * 0, or -1 with a reason in err (which may quote text; escape it to print).
 */
int csv_field_set(Vacancy__V1__Record *r, const struct csv_field *cf, const char *text,
		  int decimal_comma, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Normalises a money amount ("1250,5" with decimal_comma, "1250.5") to
 * "1250.50" in out. 0, or -1 with a reason in err.
 */
int csv_money(const char *text, int decimal_comma, char *out, size_t outlen, char *err,
	      size_t errlen) __attribute__((warn_unused_result));

/*
 * Reads a CSV file (len bytes, UTF-8 with an optional BOM, delimiter ','
 * or ';' as the header line shows) into out, which was set up with
 * sync_batch_init. Every problem goes to p, with its line and column; rows
 * with an error add no change. Returns 0 when the file had no error, -1
 * otherwise (p says why).
 */
int csv_read(const char *data, size_t len, struct sync_batch *out, struct sync_problems *p)
    __attribute__((warn_unused_result));

#endif
