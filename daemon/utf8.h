/*
 * utf8: decoding UTF-8 strictly (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF, no truncated sequence), for the JSON codec, the
 * validator and the client's readers and printers. Pure.
 */
#ifndef VACANCY_UTF8_H
#define VACANCY_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes the sequence at s (avail bytes, avail > 0). Returns its length
 * (1-4) and sets *cp, or minus the length of the maximal invalid subpart
 * (at least 1), which one replacement character stands for. A NUL byte is
 * never a continuation byte, so NUL-terminated text may pass SIZE_MAX.
 */
int utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp);

#endif
