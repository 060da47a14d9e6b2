/*
 * project: the visibility tiers of record.md and the projection of a record
 * for a role. Investors receive only PUBLIC fields of published records; the
 * owning municipality and the county receive everything. Pure.
 *
 * This is the code half of a two-part enforcement: the investor path also
 * reads from a database view that holds only published records and PUBLIC
 * fields, with a role that cannot read anything else.
 */
#ifndef VACANCY_PROJECT_H
#define VACANCY_PROJECT_H

#include <protobuf-c/protobuf-c.h>

#include "token.h"
#include "vacancy.pb-c.h"

enum tier { TIER_PUBLIC, TIER_INTERNAL, TIER_PERSONAL };

/* The tier of a Record field by name; unknown names are PERSONAL (fail closed). */
enum tier project_tier(const char *field_name);
const char *tier_name(enum tier t);

/*
 * record.md's publication rule over a full record: publication PUBLIC,
 * status MARKETED or RESERVED, not withdrawn, consent not OBJECTED, and
 * consent (CONSENTED, NO_OBJECTION) or an owner that is not a natural person.
 */
int project_is_published(const Vacancy__V1__Record *r);

/*
 * Projects r in place for role. For investors: clears every field that is
 * not PUBLIC and the PERSONAL parts of nested messages (attachment rights
 * holders); returns -1 when the record must not be shown to investors at all
 * (a status investors never see, or withdrawn). Other roles: no change.
 * Freed parts go back to alloc (the allocator r was built with).
 */
int project_record(Vacancy__V1__Record *r, enum role role, ProtobufCAllocator *alloc)
    __attribute__((warn_unused_result));

/* 1 when the record holds any PERSONAL field (its read must be logged). */
int project_has_personal(const Vacancy__V1__Record *r);

#endif
