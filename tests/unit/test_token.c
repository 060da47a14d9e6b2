/*
 * test_token: bearer tokens (shape, randomness, hash, Authorization header),
 * roles and scopes of daemon/token.c.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "token.h"

void test_token_register(void);

#define NTOKENS 1000

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* A well-formed token with every character c after the prefix. */
static void
fill_token(char out[TOKEN_LEN + 1], char c)
{
	memcpy(out, TOKEN_PREFIX, 4);
	memset(out + 4, c, TOKEN_LEN - 4);
	out[TOKEN_LEN] = '\0';
}

static int
cmp_token(const void *a, const void *b)
{
	return memcmp(a, b, TOKEN_LEN + 1);
}

static void
test_generate_shape(void)
{
	static char toks[NTOKENS][TOKEN_LEN + 1];
	int seen[256] = {0};
	size_t dup = 0;

	CU_ASSERT_EQUAL(TOKEN_LEN, 47);
	CU_ASSERT_STRING_EQUAL(TOKEN_PREFIX, "vcy_");
	for (int i = 0; i < NTOKENS; i++) {
		char *t = toks[i];

		memset(t, 'x', TOKEN_LEN + 1);
		CU_ASSERT_EQUAL_FATAL(token_generate(t), 0);
		CU_ASSERT_EQUAL(strlen(t), TOKEN_LEN);
		CU_ASSERT_EQUAL(strncmp(t, "vcy_", 4), 0);
		for (size_t k = 4; k < TOKEN_LEN; k++) {
			CU_ASSERT_PTR_NOT_NULL(strchr(alphabet, t[k]));
			CU_ASSERT_NOT_EQUAL(t[k], '\0');
			seen[(unsigned char)t[k]]++;
		}
		CU_ASSERT_EQUAL(token_wellformed(t, strlen(t)), 1);
	}
	/* 43,000 random characters use the whole base64url alphabet */
	for (const char *a = alphabet; *a; a++)
		CU_ASSERT(seen[(unsigned char)*a] > 0);
	/* no two alike */
	qsort(toks, NTOKENS, sizeof(toks[0]), cmp_token);
	for (int i = 1; i < NTOKENS; i++)
		if (memcmp(toks[i - 1], toks[i], TOKEN_LEN) == 0)
			dup++;
	CU_ASSERT_EQUAL(dup, 0);
}

/* SHA-256 of s computed here with OpenSSL directly. */
static void
sha256(const char *s, size_t len, unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
	CU_ASSERT_EQUAL(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
	CU_ASSERT_EQUAL(EVP_DigestUpdate(ctx, s, len), 1);
	CU_ASSERT_EQUAL(EVP_DigestFinal_ex(ctx, out, &n), 1);
	CU_ASSERT_EQUAL(n, 32);
	EVP_MD_CTX_free(ctx);
}

static void
test_hash(void)
{
	/* FIPS 180-2 test vector */
	static const unsigned char abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
					      0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
					      0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
					      0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	unsigned char h[TOKEN_HASH_LEN], want[32];
	char tok[TOKEN_LEN + 1];

	CU_ASSERT_EQUAL(TOKEN_HASH_LEN, 32);
	memset(h, 0, sizeof(h));
	token_hash("abc", 3, h);
	CU_ASSERT_EQUAL(memcmp(h, abc, 32), 0);
	/* as a bytea parameter */
	{
		char hex[TOKEN_BYTEA_LEN];

		memset(hex, '?', sizeof(hex));
		token_bytea(h, hex);
		CU_ASSERT_STRING_EQUAL(
		    hex, "\\xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	}

	/* only len bytes count */
	memset(h, 0, sizeof(h));
	token_hash("abcdef", 3, h);
	CU_ASSERT_EQUAL(memcmp(h, abc, 32), 0);

	for (int i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL_FATAL(token_generate(tok), 0);
		token_hash(tok, TOKEN_LEN, h);
		sha256(tok, TOKEN_LEN, want);
		CU_ASSERT_EQUAL(memcmp(h, want, 32), 0);
	}
	/* different tokens, different hashes */
	fill_token(tok, 'A');
	token_hash(tok, TOKEN_LEN, h);
	fill_token(tok, 'B');
	token_hash(tok, TOKEN_LEN, want);
	CU_ASSERT_NOT_EQUAL(memcmp(h, want, 32), 0);
}

static void
test_wellformed(void)
{
	char tok[TOKEN_LEN + 2];

	fill_token(tok, 'A');
	CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN), 1);
	fill_token(tok, '-');
	CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN), 1);
	fill_token(tok, '_');
	CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN), 1);
	fill_token(tok, '9');
	CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN), 1);

	/* length */
	CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN - 1), 0);
	CU_ASSERT_EQUAL(token_wellformed(tok, 0), 0);
	CU_ASSERT_EQUAL(token_wellformed("vcy_", 4), 0);
	tok[TOKEN_LEN] = 'a';
	tok[TOKEN_LEN + 1] = '\0';
	CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN + 1), 0);
	CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN), 1); /* len bytes only */

	/* prefix */
	fill_token(tok, 'A');
	tok[0] = 'V';
	CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN), 0);
	fill_token(tok, 'A');
	tok[3] = '-';
	CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN), 0);
	fill_token(tok, 'A');
	memcpy(tok, "abc_", 4);
	CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN), 0);

	/* alphabet: base64url only, at any position */
	static const char bad[] = {'+', '/', '=', '.', ' ', '~', '\0', '\x80', '\xc3'};
	for (size_t i = 0; i < sizeof(bad); i++) {
		for (size_t pos = 4; pos < TOKEN_LEN; pos += 21) {
			fill_token(tok, 'A');
			tok[pos] = bad[i];
			CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN), 0);
		}
	}
	fill_token(tok, 'A');
	tok[TOKEN_LEN - 1] = '=';
	CU_ASSERT_EQUAL(token_wellformed(tok, TOKEN_LEN), 0);
}

/* Expects header to be refused. */
static void
expect_refused(const char *header)
{
	const char *tok = NULL;
	size_t len = 0;
	int rc = token_from_authorization(header, &tok, &len);

	CU_ASSERT_EQUAL(rc, -1);
	if (rc != -1)
		fprintf(stderr, "\n  accepted: '%s'", header ? header : "(null)");
}

static void
test_from_authorization(void)
{
	char tok[TOKEN_LEN + 1], h[256];
	const char *t;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(token_generate(tok), 0);

	snprintf(h, sizeof(h), "Bearer %s", tok);
	t = NULL, len = 0;
	CU_ASSERT_EQUAL(token_from_authorization(h, &t, &len), 0);
	CU_ASSERT_PTR_EQUAL(t, h + 7); /* borrowed, points into the header */
	CU_ASSERT_EQUAL(len, TOKEN_LEN);

	snprintf(h, sizeof(h), "bearer %s", tok);
	CU_ASSERT_EQUAL(token_from_authorization(h, &t, &len), 0);
	CU_ASSERT_EQUAL(len, TOKEN_LEN);
	CU_ASSERT_EQUAL(memcmp(t, tok, TOKEN_LEN), 0);

	snprintf(h, sizeof(h), "BEARER\t%s", tok);
	CU_ASSERT_EQUAL(token_from_authorization(h, &t, &len), 0);

	/* extra blanks between scheme and token, and after it */
	snprintf(h, sizeof(h), "Bearer    %s   ", tok);
	t = NULL, len = 0;
	CU_ASSERT_EQUAL(token_from_authorization(h, &t, &len), 0);
	CU_ASSERT_PTR_EQUAL(t, h + 10);
	CU_ASSERT_EQUAL(len, TOKEN_LEN);
	snprintf(h, sizeof(h), "Bearer \t %s\t", tok);
	CU_ASSERT_EQUAL(token_from_authorization(h, &t, &len), 0);
	CU_ASSERT_EQUAL(len, TOKEN_LEN);

	/* other schemes */
	snprintf(h, sizeof(h), "Basic %s", tok);
	expect_refused(h);
	snprintf(h, sizeof(h), "Token %s", tok);
	expect_refused(h);
	snprintf(h, sizeof(h), "Bearers %s", tok);
	expect_refused(h);
	/* no blank after the scheme */
	snprintf(h, sizeof(h), "Bearer%s", tok);
	expect_refused(h);
	snprintf(h, sizeof(h), "Bearer:%s", tok);
	expect_refused(h);
	/* leading blank */
	snprintf(h, sizeof(h), " Bearer %s", tok);
	expect_refused(h);
	/* missing token */
	expect_refused("Bearer");
	expect_refused("Bearer ");
	expect_refused("Bearer    \t ");
	expect_refused("");
	expect_refused(NULL);
	expect_refused(tok);
	/* trailing garbage */
	snprintf(h, sizeof(h), "Bearer %s x", tok);
	expect_refused(h);
	snprintf(h, sizeof(h), "Bearer %s,", tok);
	expect_refused(h);
	snprintf(h, sizeof(h), "Bearer %s %s", tok, tok);
	expect_refused(h);
	/* wrong length */
	snprintf(h, sizeof(h), "Bearer %sA", tok);
	expect_refused(h);
	snprintf(h, sizeof(h), "Bearer %.*s", TOKEN_LEN - 1, tok);
	expect_refused(h);
	expect_refused("Bearer vcy_");
	expect_refused("Bearer abc");
	/* wrong alphabet */
	snprintf(h, sizeof(h), "Bearer %.*s+", TOKEN_LEN - 1, tok);
	expect_refused(h);
}

static void
test_roles(void)
{
	static const enum role roles[] = {ROLE_MUNICIPALITY, ROLE_COUNTY, ROLE_INVESTOR};
	static const char *const names[] = {"municipality", "county", "investor"};
	static const char *const bad[] = {
	    "none", "", "County", "INVESTOR", "investors", "municipality ", " county", "admin"};
	enum role r;

	for (size_t i = 0; i < 3; i++) {
		CU_ASSERT_STRING_EQUAL(role_name(roles[i]), names[i]);
		r = ROLE_NONE;
		CU_ASSERT_EQUAL(role_parse(names[i], &r), 0);
		CU_ASSERT_EQUAL(r, roles[i]);
	}
	CU_ASSERT_STRING_EQUAL(role_name(ROLE_NONE), "none");
	CU_ASSERT_STRING_EQUAL(role_name((enum role)99), "none");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = ROLE_COUNTY;
		CU_ASSERT_EQUAL(role_parse(bad[i], &r), -1);
		CU_ASSERT_EQUAL(r, ROLE_COUNTY);
	}
}

/* scope_valid's result, with a non-empty reason on refusal. */
static int
valid(enum role role, const char *scope)
{
	char err[256] = "";
	int rc = scope_valid(role, scope, err, sizeof(err));

	if (rc == -1)
		CU_ASSERT(err[0] != '\0');
	return rc;
}

static void
test_scope_valid(void)
{
	/* municipality: one AGS, 8 digits, Land 01..16 */
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, "14521000"), 0);
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, "01001000"), 0);
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, "16077000"), 0);
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, "00521000"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, "17521000"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, "99521000"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, "1452100"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, "145210001"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, "14521"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, "1452100a"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, "14 21000"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_MUNICIPALITY, ""), -1);

	/* county: an AGS prefix of 2..8 digits with a valid Land */
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "14521"), 0);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "14"), 0);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "145"), 0);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "14521000"), 0);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "01"), 0);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "16"), 0);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "1"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, ""), -1);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "145210001"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "00"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "00521"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "17"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "17521"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "1452x"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_COUNTY, "-14"), -1);

	/* investor: no scope */
	CU_ASSERT_EQUAL(valid(ROLE_INVESTOR, ""), 0);
	CU_ASSERT_EQUAL(valid(ROLE_INVESTOR, "14"), -1);
	CU_ASSERT_EQUAL(valid(ROLE_INVESTOR, "14521000"), -1);

	/* no role */
	CU_ASSERT_EQUAL(valid(ROLE_NONE, ""), -1);
	CU_ASSERT_EQUAL(valid(ROLE_NONE, "14521000"), -1);
}

static void
test_scope_covers(void)
{
	CU_ASSERT_EQUAL(scope_covers("14521", "14521000"), 1);
	CU_ASSERT_EQUAL(scope_covers("14521", "14521340"), 1);
	CU_ASSERT_EQUAL(scope_covers("14", "14521000"), 1);
	CU_ASSERT_EQUAL(scope_covers("14521000", "14521000"), 1);
	CU_ASSERT_EQUAL(scope_covers("14521", "14521"), 1);  /* the region itself */
	CU_ASSERT_EQUAL(scope_covers("14521", "145213"), 1); /* a region inside */
	CU_ASSERT_EQUAL(scope_covers("14521", "14522000"), 0);
	CU_ASSERT_EQUAL(scope_covers("14521", "15521000"), 0);
	CU_ASSERT_EQUAL(scope_covers("14521", "1452"), 0); /* a wider region */
	CU_ASSERT_EQUAL(scope_covers("14521", "14"), 0);
	CU_ASSERT_EQUAL(scope_covers("14521", ""), 0);
	CU_ASSERT_EQUAL(scope_covers("14521000", "14521001"), 0);
	CU_ASSERT_EQUAL(scope_covers("14521000", "1452100"), 0);
}

void
test_token_register(void)
{
	CU_pSuite s = CU_add_suite("token", NULL, NULL);

	CU_add_test(s, "token_generate: shape, alphabet, 1000 unique", test_generate_shape);
	CU_add_test(s, "token_hash is SHA-256 of the text", test_hash);
	CU_add_test(s, "token_wellformed", test_wellformed);
	CU_add_test(s, "token_from_authorization", test_from_authorization);
	CU_add_test(s, "role_parse and role_name", test_roles);
	CU_add_test(s, "scope_valid per role", test_scope_valid);
	CU_add_test(s, "scope_covers", test_scope_covers);
}
