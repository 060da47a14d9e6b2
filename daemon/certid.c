/*
 * certid: the role and scope a client certificate names (certid.h).
 */
#include "certid.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "utf8.h"

/*
 * The subject's commonName as UTF-8 into out (outlen > 0): control characters
 * and invalid sequences left out, cut at a character boundary. 0, or -1 when
 * there is none.
 */
static int
certid_name(X509 *cert, char *out, size_t outlen)
{
	X509_NAME *subject = X509_get_subject_name(cert);
	int i = subject != NULL ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
	unsigned char *u = NULL;
	size_t n = 0;
	int len;

	if (i < 0 || (len = ASN1_STRING_to_UTF8(
			  &u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)))) < 0)
		return -1;
	for (size_t at = 0; at < (size_t)len;) {
		uint32_t cp;
		int k = utf8_decode(u + at, (size_t)len - at, &cp);

		if (k < 0) { /* an invalid sequence: left out */
			at += (size_t)-k;
			continue;
		}
		if (cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp < 0xa0)) {
			if (n + (size_t)k >= outlen)
				break;
			memcpy(out + n, u + at, (size_t)k);
			n += (size_t)k;
		}
		at += (size_t)k;
	}
	out[n] = '\0';
	OPENSSL_free(u);
	return n > 0 ? 0 : -1;
}

/* "ROLE:SCOPE" after the URI prefix into out. 0 or -1. */
static int
certid_claim(const char *claim, size_t len, struct certid *out, char *err, size_t errlen)
{
	const char *colon = memchr(claim, ':', len);
	char role[16], why[128];
	size_t rlen, slen;

	if (colon == NULL) {
		snprintf(err, errlen, "the certificate's %s URI has no scope part (ROLE:SCOPE)",
			 CERTID_URI_PREFIX);
		return -1;
	}
	rlen = (size_t)(colon - claim);
	slen = len - rlen - 1;
	if (rlen >= sizeof(role) || slen >= sizeof(out->scope)) {
		snprintf(err, errlen, "the certificate's %s URI is too long", CERTID_URI_PREFIX);
		return -1;
	}
	memcpy(role, claim, rlen);
	role[rlen] = '\0';
	memcpy(out->scope, colon + 1, slen);
	out->scope[slen] = '\0';
	if (role_parse(role, &out->role) == -1) {
		snprintf(
		    err, errlen,
		    "the certificate names an unknown role (municipality, county or investor)");
		return -1;
	}
	if (scope_valid(out->role, out->scope, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "the certificate's scope does not fit its role: %s", why);
		return -1;
	}
	return 0;
}

int
certid_read(X509 *cert, struct certid *out, char *err, size_t errlen)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	const size_t plen = strlen(CERTID_URI_PREFIX);
	unsigned int mdlen = TOKEN_HASH_LEN;
	int found = 0, rc = -1;

	memset(out, 0, sizeof(*out));
	for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		const char *uri;
		int len;

		if (gn->type != GEN_URI)
			continue;
		uri = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
		len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
		if (len < 0 || (size_t)len < plen || strncmp(uri, CERTID_URI_PREFIX, plen) != 0 ||
		    memchr(uri, '\0', (size_t)len) != NULL)
			continue;
		if (found++) {
			snprintf(err, errlen, "the certificate names more than one %s URI",
				 CERTID_URI_PREFIX);
			goto out;
		}
		if (certid_claim(uri + plen, (size_t)len - plen, out, err, errlen) == -1)
			goto out;
	}
	if (!found) {
		snprintf(err, errlen,
			 "the certificate names no role: it needs a subjectAltName URI "
			 "%sROLE:SCOPE",
			 CERTID_URI_PREFIX);
		goto out;
	}
	if (X509_digest(cert, EVP_sha256(), out->fingerprint, &mdlen) != 1 ||
	    mdlen != TOKEN_HASH_LEN) {
		snprintf(err, errlen, "the certificate could not be digested");
		goto out;
	}
	if (certid_name(cert, out->name, sizeof(out->name)) == -1) {
		char prefix[TOKEN_SHOW_LEN + 1];

		certid_prefix(out->fingerprint, prefix);
		snprintf(out->name, sizeof(out->name), "certificate %s", prefix);
	}
	rc = 0;
out:
	GENERAL_NAMES_free(sans);
	return rc;
}

void
certid_prefix(const unsigned char fingerprint[TOKEN_HASH_LEN], char out[TOKEN_SHOW_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(CERTID_SHOW_PREFIX);

	memcpy(out, CERTID_SHOW_PREFIX, n);
	for (size_t i = 0; n < TOKEN_SHOW_LEN; i++) {
		out[n++] = hex[fingerprint[i / 2] >> (i % 2 ? 0 : 4) & 0xf];
	}
	out[TOKEN_SHOW_LEN] = '\0';
}
