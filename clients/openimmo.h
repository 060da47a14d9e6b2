/*
 * openimmo: an OpenImmo 1.2.x export (openimmo/uebertragung,
 * openimmo/anbieter/immobilie) into a sync batch, read with libxml2.
 *
 * The document is parsed from memory with the network off, no DTD loaded
 * and no entity substituted; a document that declares a DOCTYPE is refused
 * before its internal subset is read, so no entity is ever defined. Every
 * element and attribute of an immobilie that is not mapped is reported (a
 * warning with its path and count), never dropped silently. Pure: no I/O.
 * The mapping is documented in clients/examples/README.md.
 */
#ifndef VACANCY_CLIENT_OPENIMMO_H
#define VACANCY_CLIENT_OPENIMMO_H

#include <stddef.h>

#include "sync.h"

#define OPENIMMO_MAX_FILE SYNC_MAX_FILE /* bytes of one document */

/*
 * Reads an OpenImmo document (len bytes) into out, which was set up with
 * sync_batch_init: one change per immobilie (DELETE: a withdrawal), out->full
 * from uebertragung@umfang. Records get the defaults for fields OpenImmo
 * lacks (status MARKETED, publication INTERNAL, owner_consent UNKNOWN,
 * last_verified_at from stand_vom or the transfer's date) with one notice
 * counting them. municipality_ags is left to sync_batch_finish unless a
 * user field names it. Returns 0 when there was no error, -1 otherwise.
 */
int openimmo_read(const char *data, size_t len, struct sync_batch *out, struct sync_problems *p)
    __attribute__((warn_unused_result));

#endif
