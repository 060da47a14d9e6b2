/*
 * print: human-readable output of registry messages for the vacancy client.
 * Pure: takes decoded messages and a FILE, no network. Every text that came
 * from the server is escaped before it reaches the terminal.
 */
#ifndef VACANCY_CLIENT_PRINT_H
#define VACANCY_CLIENT_PRINT_H

#include "buf.h"
#include <stdio.h>

#include "vacancy.pb-c.h"

/*
 * Prints r (borrowed) in sections (Identity, State, Location, Size and price,
 * Description, Contact, Owner, Internal), one aligned "label   value" line per
 * present field; absent fields and empty sections are left out. Fields the
 * label table does not know (added to the proto later) appear under "Other".
 * Returns 0, or -1 when out of memory or writing to out failed.
 */
int client_print_record(const Vacancy__V1__Record *r, FILE *out)
    __attribute__((warn_unused_result));

/*
 * Prints an error answer e (borrowed) as "vacancy: CODE: message", then one
 * line per field error and the request id. http_status names the error when
 * e has no code. Returns 0, or -1 when writing to out failed (callers
 * writing to stderr may ignore it).
 */
int client_print_error(const Vacancy__V1__Error *e, long http_status, FILE *out);

/* How client_print_escape shows line breaks. */
enum print_nl {
	PRINT_NL_KEEP, /* as line breaks (a CR before LF is dropped) */
	PRINT_NL_HEX,  /* as \x0a, like every other control character */
	PRINT_NL_C,    /* as \n and \t, for one-line messages */
};

/*
 * Appends untrusted text s (n bytes) to b with what a terminal would
 * interpret escaped: control characters, C1 controls, bytes that are not
 * UTF-8, bidirectional overrides. Valid UTF-8 is kept.
 */
void client_print_escape(struct buf *b, const char *s, size_t n, enum print_nl nl);

#endif
