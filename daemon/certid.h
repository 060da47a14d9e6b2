/*
 * certid: who a TLS client certificate names (api.md: "a TLS client
 * certificate issued by the county's CA; the certificate names role and
 * scope"). Pure: reads a certificate that OpenSSL has already verified
 * against tls_client_ca_file.
 *
 * The claim is one subjectAltName URI "urn:vacancyd:ROLE:SCOPE":
 *   urn:vacancyd:municipality:14521020   a municipality (SCOPE its AGS)
 *   urn:vacancyd:county:14521            a county office (an AGS prefix)
 *   urn:vacancyd:investor:               an investor portal (no scope)
 * The name is the subject's commonName. The credential is the SHA-256 of the
 * certificate's DER encoding: registry.authenticate_cert() finds (or, on its
 * first use, records) the principal for it, so a certificate can be revoked
 * with `vacancyd token revoke x509:HEX` like a token.
 */
#ifndef VACANCY_CERTID_H
#define VACANCY_CERTID_H

#include <stddef.h>

#include <openssl/x509.h>

#include "token.h"

#define CERTID_URI_PREFIX  "urn:vacancyd:"
#define CERTID_SHOW_PREFIX "x509:" /* credential prefix: this and 7 hex digits */

struct certid {
	enum role role;
	char scope[16];
	char name[128];
	unsigned char fingerprint[TOKEN_HASH_LEN];
};

/*
 * Reads the claim of cert into out. 0, or -1 with a reason for the client in
 * err (no claim, two claims, an unknown role, a scope that does not fit it).
 */
int certid_read(X509 *cert, struct certid *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The credential prefix shown to staff: "x509:" and the first 7 hex digits. */
void certid_prefix(const unsigned char fingerprint[TOKEN_HASH_LEN], char out[TOKEN_SHOW_LEN + 1]);

#endif
