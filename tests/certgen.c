/*
 * certgen: test certificates (certgen.h).
 */
#include "certgen.h"

#include <stdio.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

EVP_PKEY *
certgen_key(void)
{
	return EVP_EC_gen("P-256");
}

static int
certgen_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int rc;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	rc = X509_add_ext(cert, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

X509 *
certgen_cert(EVP_PKEY *key, const char *cn, const char *const *uris, size_t n, X509 *issuer,
	     EVP_PKEY *issuer_key, int ca, long not_before_s, long not_after_s)
{
	static long serial = 1000;
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();
	char san[2048];
	size_t at = 0;

	if (cert == NULL || name == NULL)
		goto fail;
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
	X509_gmtime_adj(X509_getm_notBefore(cert), not_before_s);
	X509_gmtime_adj(X509_getm_notAfter(cert), not_after_s);
	X509_set_pubkey(cert, key);
	if (cn != NULL && X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
						     (const unsigned char *)cn, -1, -1, 0) != 1)
		goto fail;
	X509_set_subject_name(cert, name);
	X509_set_issuer_name(cert, issuer != NULL ? X509_get_subject_name(issuer) : name);
	if (issuer == NULL) {
		issuer = cert;
		issuer_key = key;
	}
	if (certgen_ext(cert, issuer, NID_basic_constraints,
			ca ? "critical,CA:TRUE" : "critical,CA:FALSE") == -1 ||
	    certgen_ext(cert, issuer, NID_key_usage,
			ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") == -1 ||
	    (!ca && certgen_ext(cert, issuer, NID_ext_key_usage, "clientAuth") == -1))
		goto fail;
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(san + at, sizeof(san) - at, "%sURI:%s", i ? "," : "", uris[i]);
	if (n > 0 && (at >= sizeof(san) || certgen_ext(cert, issuer, NID_subject_alt_name, san) == -1))
		goto fail;
	if (X509_sign(cert, issuer_key, EVP_sha256()) == 0)
		goto fail;
	X509_NAME_free(name);
	return cert;
fail:
	X509_NAME_free(name);
	X509_free(cert);
	return NULL;
}

X509_CRL *
certgen_crl(X509 *ca, EVP_PKEY *ca_key, X509 *const *revoked, size_t n, long next_update_s)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = X509_gmtime_adj(NULL, -3600), *next = X509_gmtime_adj(NULL, next_update_s);
	int ok = crl != NULL && last != NULL && next != NULL && X509_CRL_set_version(crl, 1) == 1 &&
		 X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) == 1 &&
		 X509_CRL_set1_lastUpdate(crl, last) == 1 &&
		 X509_CRL_set1_nextUpdate(crl, next) == 1;

	for (size_t i = 0; ok && i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();

		ok = r != NULL &&
		     X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked[i])) == 1 &&
		     X509_REVOKED_set_revocationDate(r, last) == 1 && X509_CRL_add0_revoked(crl, r) == 1;
		if (!ok)
			X509_REVOKED_free(r);
	}
	ok = ok && X509_CRL_sort(crl) == 1 && X509_CRL_sign(crl, ca_key, EVP_sha256()) > 0;
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	if (!ok) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

int
certgen_write_crl(X509_CRL *crl, const char *path)
{
	FILE *f = fopen(path, "w");
	int ok = f != NULL && PEM_write_X509_CRL(f, crl) == 1;

	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int
certgen_write(X509 *cert, const char *cert_path, EVP_PKEY *key, const char *key_path)
{
	FILE *c = fopen(cert_path, "w"), *k = fopen(key_path, "w");
	int ok = c != NULL && k != NULL && PEM_write_X509(c, cert) == 1 &&
		 PEM_write_PrivateKey(k, key, NULL, NULL, 0, NULL, NULL) == 1;

	if (c != NULL && fclose(c) != 0)
		ok = 0;
	if (k != NULL && fclose(k) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

X509 *
certgen_read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *cert;

	if (f == NULL)
		return NULL;
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return cert;
}

EVP_PKEY *
certgen_read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *key;

	if (f == NULL)
		return NULL;
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return key;
}
