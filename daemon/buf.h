/*
 * buf: a growable byte buffer for encoders that must run without libevent
 * (the client, the unit tests). Always NUL-terminated, so text output can be
 * used as a C string. An allocation failure is sticky: later appends do
 * nothing and buf_failed() reports it, so encoders check once at the end.
 */
#ifndef VACANCY_BUF_H
#define VACANCY_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* owned; NUL-terminated when len > 0 or after any append */
	size_t len;
	size_t cap;
	size_t max; /* 0 = unlimited; growing past it fails the buffer */
	int failed;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Grows the buffer by n bytes and returns them to be written; NULL if it failed. */
void *buf_extend(struct buf *b, size_t n);
/* Returns the data and hands ownership to the caller; the buffer is reset. */
char *buf_detach(struct buf *b, size_t *len);
static inline int
buf_failed(const struct buf *b)
{
	return b->failed;
}

#endif
