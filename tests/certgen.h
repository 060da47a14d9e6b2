/*
 * certgen: X.509 material for the tests of client certificates (unit and
 * integration), made with OpenSSL's API so that every case (no claim, two
 * claims, another CA, expired) is one call. Never for production.
 */
#ifndef VACANCY_CERTGEN_H
#define VACANCY_CERTGEN_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* A new EC P-256 key, or NULL. */
EVP_PKEY *certgen_key(void);

/*
 * A certificate for key: commonName cn (NULL: none), one subjectAltName URI
 * per element of uris (n of them, none: no extension), valid from
 * not_before_s to not_after_s seconds from now, a CA when ca is set. Signed
 * by issuer/issuer_key, or self-signed when issuer is NULL. NULL on error.
 */
X509 *certgen_cert(EVP_PKEY *key, const char *cn, const char *const *uris, size_t n,
		   X509 *issuer, EVP_PKEY *issuer_key, int ca, long not_before_s, long not_after_s);

/*
 * A revocation list of ca naming the n certificates of revoked, issued an
 * hour ago, its next update next_update_s seconds from now (negative: past).
 * NULL on error.
 */
X509_CRL *certgen_crl(X509 *ca, EVP_PKEY *ca_key, X509 *const *revoked, size_t n,
		      long next_update_s);

/* Writes crl as a PEM file. 0 or -1. */
int certgen_write_crl(X509_CRL *crl, const char *path);

/* Writes cert and key as PEM files. 0 or -1. */
int certgen_write(X509 *cert, const char *cert_path, EVP_PKEY *key, const char *key_path);

/* Reads a PEM certificate or private key. NULL on error. */
X509 *certgen_read_cert(const char *path);
EVP_PKEY *certgen_read_key(const char *path);

#endif
