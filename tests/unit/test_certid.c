/*
 * test_certid: the role and scope a client certificate names
 * (daemon/certid.c), on certificates made by tests/certgen.c.
 */
#include <CUnit/CUnit.h>
#include <string.h>

#include <openssl/evp.h>

#include "certgen.h"
#include "certid.h"

void test_certid_register(void);

static EVP_PKEY *key;

static int
setup(void)
{
	return (key = certgen_key()) == NULL ? -1 : 0;
}

static int
teardown(void)
{
	EVP_PKEY_free(key);
	return 0;
}

/* Reads the claim of a self-signed certificate with cn and uris. */
static int
read_claim(const char *cn, const char *const *uris, size_t n, struct certid *id, char *err,
	   size_t errlen)
{
	X509 *cert = certgen_cert(key, cn, uris, n, NULL, NULL, 0, -60, 3600);
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
	err[0] = '\0';
	rc = certid_read(cert, id, err, errlen);
	X509_free(cert);
	return rc;
}

static void
t_claims(void)
{
	const char *muni[] = {"https://example.invalid/x", "urn:vacancyd:municipality:14521020"};
	const char *county[] = {"urn:vacancyd:county:14521"};
	const char *investor[] = {"urn:vacancyd:investor:"};
	struct certid id;
	char err[256];

	CU_ASSERT_EQUAL(read_claim("Stadt Annaberg-Buchholz", muni, 2, &id, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(id.role, ROLE_MUNICIPALITY);
	CU_ASSERT_STRING_EQUAL(id.scope, "14521020");
	CU_ASSERT_STRING_EQUAL(id.name, "Stadt Annaberg-Buchholz");
	CU_ASSERT_EQUAL(read_claim("Landratsamt", county, 1, &id, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(id.role, ROLE_COUNTY);
	CU_ASSERT_STRING_EQUAL(id.scope, "14521");
	CU_ASSERT_EQUAL(read_claim("Portal", investor, 1, &id, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(id.role, ROLE_INVESTOR);
	CU_ASSERT_STRING_EQUAL(id.scope, "");
}

static void
t_refusals(void)
{
	const char *none[] = {"https://example.invalid/x"};
	const char *two[] = {"urn:vacancyd:county:14521", "urn:vacancyd:county:14522"};
	const char *role[] = {"urn:vacancyd:admin:14521"};
	const char *short_ags[] = {"urn:vacancyd:municipality:14521"};
	const char *investor_scope[] = {"urn:vacancyd:investor:14"};
	const char *land[] = {"urn:vacancyd:county:17"};
	const char *noscope[] = {"urn:vacancyd:county"};
	const char *longscope[] = {"urn:vacancyd:county:145210200000000000000"};
	struct certid id;
	char err[256];

	CU_ASSERT_EQUAL(read_claim("x", NULL, 0, &id, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "names no role"));
	CU_ASSERT_EQUAL(read_claim("x", none, 1, &id, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "names no role"));
	CU_ASSERT_EQUAL(read_claim("x", two, 2, &id, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than one"));
	CU_ASSERT_EQUAL(read_claim("x", role, 1, &id, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown role"));
	CU_ASSERT_EQUAL(read_claim("x", short_ags, 1, &id, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not fit its role"));
	CU_ASSERT_EQUAL(read_claim("x", investor_scope, 1, &id, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not fit its role"));
	CU_ASSERT_EQUAL(read_claim("x", land, 1, &id, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not fit its role"));
	CU_ASSERT_EQUAL(read_claim("x", noscope, 1, &id, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no scope part"));
	CU_ASSERT_EQUAL(read_claim("x", longscope, 1, &id, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "too long"));
}

static void
t_name_and_fingerprint(void)
{
	const char *county[] = {"urn:vacancyd:county:14521"};
	X509 *cert = certgen_cert(key, "Gro\xc3\x9f\x01gemeinde\x7f Th\xc3\xbcm", county, 1, NULL,
				  NULL, 0, -60, 3600);
	unsigned char md[32];
	unsigned int mdlen = sizeof(md);
	char err[256], prefix[TOKEN_SHOW_LEN + 1], want[TOKEN_SHOW_LEN + 1];
	struct certid id;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
	CU_ASSERT_EQUAL_FATAL(certid_read(cert, &id, err, sizeof(err)), 0);
	/* control characters left out, UTF-8 kept */
	CU_ASSERT_STRING_EQUAL(id.name, "Gro\xc3\x9fgemeinde Th\xc3\xbcm");
	CU_ASSERT_EQUAL_FATAL(X509_digest(cert, EVP_sha256(), md, &mdlen), 1);
	CU_ASSERT_EQUAL(memcmp(id.fingerprint, md, sizeof(md)), 0);
	certid_prefix(id.fingerprint, prefix);
	snprintf(want, sizeof(want), "x509:%02x%02x%02x%x", md[0], md[1], md[2], md[3] >> 4);
	CU_ASSERT_STRING_EQUAL(prefix, want);
	CU_ASSERT_EQUAL(strlen(prefix), TOKEN_SHOW_LEN);
	X509_free(cert);

	/* no commonName: named after the credential prefix */
	cert = certgen_cert(key, NULL, county, 1, NULL, NULL, 0, -60, 3600);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
	CU_ASSERT_EQUAL(certid_read(cert, &id, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(strncmp(id.name, "certificate x509:", 17), 0);
	X509_free(cert);
}

void
test_certid_register(void)
{
	CU_pSuite s = CU_add_suite("certid", setup, teardown);

	CU_add_test(s, "role and scope from the subjectAltName URI", t_claims);
	CU_add_test(s, "certificates that name no valid claim", t_refusals);
	CU_add_test(s, "name cleaned, SHA-256 fingerprint and prefix", t_name_and_fingerprint);
}
