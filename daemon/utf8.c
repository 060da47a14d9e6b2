/*
 * utf8: the one UTF-8 decoder of the project (RFC 3629). Pure.
 */
#include "utf8.h"

/*
 * Decodes the UTF-8 sequence at s (avail bytes, avail > 0) per RFC 3629.
 * Returns its length and sets *cp, or minus the length of the maximal invalid
 * subpart (at least 1) that a replacement character stands for.
 */
int
utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
	unsigned lo = 0x80, hi = 0xbf, n;
	uint32_t v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return -1;
	if (s[0] < 0xe0) {
		n = 2;
		v = s[0] & 0x1f;
	} else if (s[0] < 0xf0) {
		n = 3;
		v = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else {
		n = 4;
		v = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	}
	for (unsigned i = 1; i < n; i++) {
		if (i >= avail || s[i] < lo || s[i] > hi)
			return -(int)i;
		v = v << 6 | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return (int)n;
}
