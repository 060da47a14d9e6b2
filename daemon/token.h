/*
 * token: bearer tokens, roles and scopes. A token is "vcy_" followed by 43
 * base64url characters (32 random bytes); the registry stores only its
 * SHA-256. Pure apart from drawing random bytes.
 */
#ifndef VACANCY_TOKEN_H
#define VACANCY_TOKEN_H

#include <stddef.h>

#define TOKEN_PREFIX   "vcy_"
#define TOKEN_LEN      47 /* strlen(TOKEN_PREFIX) + 43 */
#define TOKEN_SHOW_LEN 12 /* characters shown to staff to tell tokens apart */
#define TOKEN_HASH_LEN 32

enum role { ROLE_NONE, ROLE_MUNICIPALITY, ROLE_COUNTY, ROLE_INVESTOR };

/* Writes a new random token (TOKEN_LEN chars + NUL) into out; 0 or -1. */
int token_generate(char out[TOKEN_LEN + 1]) __attribute__((warn_unused_result));
/* SHA-256 of the token text. */
void token_hash(const char *token, size_t len, unsigned char out[TOKEN_HASH_LEN]);

/* A hash as PostgreSQL's bytea text form "\x" and 64 hex digits, for a query parameter. */
#define TOKEN_BYTEA_LEN (2 + 2 * TOKEN_HASH_LEN + 1)
void token_bytea(const unsigned char hash[TOKEN_HASH_LEN], char out[TOKEN_BYTEA_LEN]);
/* 1 when tok has the token's shape (prefix, length, alphabet). */
int token_wellformed(const char *tok, size_t len);
/*
 * Extracts the token from an Authorization header value ("Bearer <token>",
 * scheme case-insensitive). Sets *tok (borrowed, points into header) and
 * *len; returns 0, or -1 when the header is not a well-formed bearer token.
 */
int token_from_authorization(const char *header, const char **tok, size_t *len)
    __attribute__((warn_unused_result));

const char *role_name(enum role role);
int role_parse(const char *s, enum role *out) __attribute__((warn_unused_result));
/*
 * Checks that scope fits role: municipality an AGS (8 digits, Land 01-16),
 * county an AGS prefix of 2-8 digits with a valid Land, investor "".
 */
int scope_valid(enum role role, const char *scope, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* 1 when ags (or a region prefix) lies inside scope. */
int scope_covers(const char *scope, const char *ags);

#endif
