/*
 * syncrow: a transfer's changes in the shape registry.apply_transfer()
 * stores them (migration 016), written by the daemon so that the database
 * only reads them.
 *
 * A registry.sync_change[] array literal, one element per change in the
 * order of the request: (u, x, r, d, h, p, i) =
 *   upsert or not, external_id, revision,
 *   d: the row, a registry.sync_row literal (syncrow_columns, in the type's
 *      order): the record's fields without external_id and revision, the
 *      location as lat and lon, the attachments as JSON without their
 *      rights holders and the rights holders (PERSONAL) apart as text[]
 *      (NULL where an attachment has none), and the defaults written out
 *      (empty marketing and parcel_ids lists, price_on_request false,
 *      location_blur_m 0), so that an absent field and its default compare
 *      equal in the database;
 *   h: the history document of the record if it is created, JSON: its
 *      fields without the PERSONAL ones, in the API's value forms;
 *   p: its PERSONAL fields, JSON, or NULL when none is set;
 *   i: the id the record gets if it is created (a UUID of version 7).
 * A withdrawal has only u, x and r.
 */
#ifndef VACANCY_SYNCROW_H
#define VACANCY_SYNCROW_H

#include <stdint.h>

#include "buf.h"
#include "vacancy.pb-c.h"

#define SYNCROW_UUID_LEN 37 /* 36 characters and the NUL */

/* registry.sync_row's columns in order, NULL-terminated (checked by a test
 * against sql/). */
extern const char *const syncrow_columns[];

/*
 * Appends the changes of req to out. ids: one new record id per change (for
 * upserts; NULL: none sent). Borrows req (fields are cleared and restored
 * while it is written). Returns 0, or -1 when out failed or a change is
 * neither an upsert nor a withdrawal.
 */
int syncrow_encode(Vacancy__V1__SyncRequest *req, const char (*ids)[SYNCROW_UUID_LEN],
		   struct buf *out) __attribute__((warn_unused_result));

/* A UUID of version 7 (RFC 9562): 48 bits of unix_ms, then rnd's bits. */
void syncrow_uuid7(uint64_t unix_ms, const unsigned char rnd[10], char out[SYNCROW_UUID_LEN]);

#endif
