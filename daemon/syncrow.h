/*
 * syncrow: a transfer's changes in the shape registry.apply_transfer()
 * stores them (migration 014), written by the daemon so that the database
 * only parses them.
 *
 * One JSON array, one element per change in the order of the request:
 *   {"u":true,"x":EXTERNAL_ID,"r":"REVISION","d":{SYNC_ROW},"h":{..},"p":{..}}
 *   {"u":false,"x":EXTERNAL_ID,"r":"REVISION"}      (a withdrawal)
 * SYNC_ROW has the keys of registry.sync_row (proto field names): the
 * record's fields without external_id and revision, the location as "lat"
 * and "lon", the attachments without their rights holders and the rights
 * holders (PERSONAL) as "attachment_rights_holders" (null where an
 * attachment has none), and the defaults written out (empty marketing and
 * parcel_ids lists, price_on_request false, location_blur_m 0), so that an
 * absent field and its default compare equal in the database.
 * "h" is SYNC_ROW without the PERSONAL fields and "p" those alone (or null
 * when none is set): the history documents of a created record.
 */
#ifndef VACANCY_SYNCROW_H
#define VACANCY_SYNCROW_H

#include "buf.h"
#include "vacancy.pb-c.h"

/*
 * Appends the changes of req to out. Borrows req (fields are cleared and
 * restored while it is written). Returns 0, or -1 when out failed.
 */
int syncrow_encode(Vacancy__V1__SyncRequest *req, struct buf *out)
    __attribute__((warn_unused_result));

#endif
