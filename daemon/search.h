/*
 * search: what the search handlers and the GeoJSON export share: a
 * checked search (searchq) for the caller of a request, its page statement,
 * and the mapping of a page's rows to projected Records.
 */
#ifndef VACANCY_SEARCH_H
#define VACANCY_SEARCH_H

#include "req.h"
#include "searchq.h"

/* Replies 400/403 with an Error whose field_errors name the parameter. */
void search_reply_error(struct req *r, const struct searchq_err *err);

/* The caller of r as searchq sees it (now, key, scope). */
void search_caller(const struct req *r, struct searchq_caller *who);

/* The pool a search in mode reads through. */
struct db_pool *search_pool(const struct req *r, enum searchq_mode mode);

/*
 * Row i of a page as a Record projected for r's caller, allocated with
 * codec_heap. NULL when the record is no longer visible (leave it out);
 * *failed set when the row could not be read (err says why).
 */
Vacancy__V1__Record *search_row_record(const struct req *r, const PGresult *res, int i, int *failed,
				       char *err, size_t errlen);

#endif
