/*
 * token: generation, hashing and parsing of bearer tokens; roles and scopes.
 */
#include "token.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

static const char token_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
token_generate(char out[TOKEN_LEN + 1])
{
	unsigned char raw[33]; /* 33 bytes give 44 chars; we keep 43 = 256 bits */
	size_t o = strlen(TOKEN_PREFIX);

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	memcpy(out, TOKEN_PREFIX, o);
	for (size_t i = 0; i < sizeof(raw); i += 3) {
		unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];

		for (int k = 3; k >= 0 && o < TOKEN_LEN; k--)
			out[o++] = token_alphabet[(v >> (6 * k)) & 63];
	}
	out[TOKEN_LEN] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

void
token_hash(const char *token, size_t len, unsigned char out[TOKEN_HASH_LEN])
{
	unsigned int n = TOKEN_HASH_LEN;

	EVP_Digest(token, len, out, &n, EVP_sha256(), NULL);
}

void
token_bytea(const unsigned char hash[TOKEN_HASH_LEN], char out[TOKEN_BYTEA_LEN])
{
	static const char hex[] = "0123456789abcdef";

	out[0] = '\\';
	out[1] = 'x';
	for (int i = 0; i < TOKEN_HASH_LEN; i++) {
		out[2 + 2 * i] = hex[hash[i] >> 4];
		out[3 + 2 * i] = hex[hash[i] & 0xf];
	}
	out[TOKEN_BYTEA_LEN - 1] = '\0';
}

int
token_wellformed(const char *tok, size_t len)
{
	size_t plen = strlen(TOKEN_PREFIX);

	if (len != TOKEN_LEN || strncmp(tok, TOKEN_PREFIX, plen) != 0)
		return 0;
	for (size_t i = plen; i < len; i++)
		if (!isalnum((unsigned char)tok[i]) && tok[i] != '-' && tok[i] != '_')
			return 0;
	return 1;
}

int
token_from_authorization(const char *header, const char **tok, size_t *len)
{
	const char *p, *end;

	if (header == NULL || strncasecmp(header, "Bearer", 6) != 0 ||
	    (header[6] != ' ' && header[6] != '\t'))
		return -1;
	for (p = header + 6; *p == ' ' || *p == '\t'; p++)
		;
	for (end = p; *end && *end != ' ' && *end != '\t'; end++)
		;
	for (const char *q = end; *q; q++)
		if (*q != ' ' && *q != '\t')
			return -1;
	if (!token_wellformed(p, (size_t)(end - p)))
		return -1;
	*tok = p;
	*len = (size_t)(end - p);
	return 0;
}

static const char *const role_names[] = {"none", "municipality", "county", "investor"};

const char *
role_name(enum role role)
{
	return (unsigned)role < 4 ? role_names[role] : "none";
}

int
role_parse(const char *s, enum role *out)
{
	for (int i = ROLE_MUNICIPALITY; i <= ROLE_INVESTOR; i++) {
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum role)i;
			return 0;
		}
	}
	return -1;
}

/* 1 when s has n digits and starts with a Land 01..16. */
static int
scope_digits_with_land(const char *s, size_t n)
{
	int land;

	if (strlen(s) != n || n < 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	land = (s[0] - '0') * 10 + (s[1] - '0');
	return land >= 1 && land <= 16;
}

int
scope_valid(enum role role, const char *scope, char *err, size_t errlen)
{
	switch (role) {
	case ROLE_MUNICIPALITY:
		if (scope_digits_with_land(scope, 8))
			return 0;
		snprintf(err, errlen, "a municipality's scope is its AGS: 8 digits, Land 01-16");
		return -1;
	case ROLE_COUNTY:
		if (strlen(scope) >= 2 && strlen(scope) <= 8 &&
		    scope_digits_with_land(scope, strlen(scope)))
			return 0;
		snprintf(err, errlen,
			 "a county's scope is an AGS prefix: 2-8 digits, Land 01-16 (e.g. 14521)");
		return -1;
	case ROLE_INVESTOR:
		if (*scope == '\0')
			return 0;
		snprintf(err, errlen, "an investor has no scope (use \"\")");
		return -1;
	case ROLE_NONE:
		break;
	}
	snprintf(err, errlen, "unknown role");
	return -1;
}

int
scope_covers(const char *scope, const char *ags)
{
	size_t n = strlen(scope);

	return strlen(ags) >= n && strncmp(scope, ags, n) == 0;
}
