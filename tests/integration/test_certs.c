/*
 * test_certs: TLS client certificates as credentials (api.md; daemon/certid.c,
 * daemon/auth.c, migration 015). The test CA of tests/run.sh stands for the
 * county's CA; certificates are made per case by tests/certgen.c.
 */
#include <CUnit/CUnit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "certgen.h"
#include "certid.h"
#include "harness.h"

void test_certs_register(void);

#define MUNI   "14521020"
#define COUNTY "14521"

static struct daemon d;	      /* tls_client_ca_file set, no auth cache */
static char dir[600];	      /* the certificates */
static char conf_extra[1024]; /* the daemon's extra config */

/* Paths of case NAME's certificate and key. */
static void
paths(const char *name, char *cert, char *key, size_t len)
{
	snprintf(cert, len, "%s/%s.pem", dir, name);
	snprintf(key, len, "%s/%s.key", dir, name);
}

/* Writes case NAME: cn, one claim URI (or none), issued by ca/ca_key. 0 or -1. */
static int
make(const char *name, const char *cn, const char *uri, X509 *ca, EVP_PKEY *ca_key,
     long not_after_s)
{
	char cert_path[700], key_path[700];
	EVP_PKEY *key = certgen_key();
	X509 *cert;
	int rc;

	if (key == NULL)
		return -1;
	cert = certgen_cert(key, cn, uri != NULL ? &uri : NULL, uri != NULL ? 1 : 0, ca, ca_key, 0,
			    -3600 * 2, not_after_s);
	paths(name, cert_path, key_path, sizeof(cert_path));
	rc = cert != NULL ? certgen_write(cert, cert_path, key, key_path) : -1;
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

/* Writes dir/FILE: ca's revocation list naming cases a and b (NULL: fewer). */
static int
write_crl(const char *file, X509 *ca, EVP_PKEY *ca_key, const char *a, const char *b,
	  long next_update_s)
{
	char cert_path[700], key_path[700], path[700];
	X509 *revoked[2];
	X509_CRL *crl;
	size_t n = 0;
	int rc = -1;

	for (const char *name = a; name != NULL; name = (name == a ? b : NULL)) {
		paths(name, cert_path, key_path, sizeof(cert_path));
		if ((revoked[n] = certgen_read_cert(cert_path)) == NULL)
			goto done;
		n++;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((crl = certgen_crl(ca, ca_key, revoked, n, next_update_s)) != NULL) {
		rc = certgen_write_crl(crl, path);
		X509_CRL_free(crl);
	}
done:
	while (n > 0)
		X509_free(revoked[--n]);
	return rc;
}

static int
setup(void)
{
	char ca_pem[700], ca_key_path[700];
	const char *tls = harness_env("VACANCY_TEST_TLS");
	X509 *ca, *foreign;
	EVP_PKEY *ca_key, *foreign_key;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/certs", harness_env("VACANCY_TEST_WORK"));
	mkdir(dir, 0700);
	snprintf(ca_pem, sizeof(ca_pem), "%s/ca.pem", tls);
	snprintf(ca_key_path, sizeof(ca_key_path), "%s/ca.key", tls);
	ca = certgen_read_cert(ca_pem);
	ca_key = certgen_read_key(ca_key_path);
	foreign_key = certgen_key();
	foreign = foreign_key != NULL ? certgen_cert(foreign_key, "Some other CA", NULL, 0, NULL,
						     NULL, 1, -3600, 86400)
				      : NULL;
	if (ca == NULL || ca_key == NULL || foreign == NULL)
		rc = -1;
	if (rc == 0)
		rc = make("muni", "Stadt Annaberg-Buchholz (cert test)",
			  "urn:vacancyd:municipality:" MUNI, ca, ca_key, 86400) |
		     make("county", "Landratsamt (cert test)", "urn:vacancyd:county:" COUNTY, ca,
			  ca_key, 86400) |
		     make("investor", "Portal (cert test)", "urn:vacancyd:investor:", ca, ca_key,
			  86400) |
		     make("noclaim", "No claim (cert test)", NULL, ca, ca_key, 86400) |
		     make("badscope", "Bad scope (cert test)", "urn:vacancyd:municipality:14521",
			  ca, ca_key, 86400) |
		     make("expired", "Expired (cert test)", "urn:vacancyd:county:" COUNTY, ca,
			  ca_key, -3600) |
		     make("foreign", "Foreign (cert test)", "urn:vacancyd:county:" COUNTY, foreign,
			  foreign_key, 86400) |
		     make("revoked", "Revoked (cert test)", "urn:vacancyd:county:" COUNTY, ca,
			  ca_key, 86400) |
		     make("prerevoked", "Revoked before use (cert test)",
			  "urn:vacancyd:municipality:" MUNI, ca, ca_key, 86400) |
		     make("crl-revoked", "On the CRL (cert test)", "urn:vacancyd:county:" COUNTY,
			  ca, ca_key, 86400) |
		     make("crl-kept", "Not on the CRL (cert test)", "urn:vacancyd:county:" COUNTY,
			  ca, ca_key, 86400);
	if (rc == 0)
		rc = write_crl("current.crl", ca, ca_key, "crl-revoked", NULL, 86400) |
		     write_crl("both.crl", ca, ca_key, "crl-revoked", "crl-kept", 86400) |
		     write_crl("stale.crl", ca, ca_key, "crl-revoked", NULL, -60);
	X509_free(ca);
	X509_free(foreign);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(foreign_key);
	if (rc != 0)
		return -1;
	snprintf(conf_extra, sizeof(conf_extra), "tls_client_ca_file = %s\nauth_cache_ttl_ms = 0\n",
		 ca_pem);
	return harness_daemon_start(&d, conf_extra);
}

static int
teardown(void)
{
	harness_client_cert(NULL, NULL);
	harness_daemon_stop(&d);
	return 0;
}

/* One request to dm as case NAME's certificate (no token unless given). */
static int
as_on(struct daemon *dm, const char *name, const char *method, const char *path, const char *token,
      const char *body, struct http_resp *r)
{
	char cert[700], key[700];
	int rc;

	paths(name, cert, key, sizeof(cert));
	harness_client_cert(cert, key);
	rc = harness_http(dm, method, path, token, "application/json",
			  body != NULL ? "application/json" : NULL, body, body ? strlen(body) : 0,
			  NULL, r);
	harness_client_cert(NULL, NULL);
	return rc;
}

static int
as(const char *name, const char *method, const char *path, const char *token, const char *body,
   struct http_resp *r)
{
	return as_on(&d, name, method, path, token, body, r);
}

static const char validate_muni[] =
    "{\"transferId\":\"cert-1\",\"municipalityAgs\":\"" MUNI "\",\"scope\":\"PARTIAL\","
    "\"validateOnly\":true,\"changes\":[]}";
static const char validate_other[] =
    "{\"transferId\":\"cert-2\",\"municipalityAgs\":\"14521030\",\"scope\":\"PARTIAL\","
    "\"validateOnly\":true,\"changes\":[]}";

static long
principals(const char *name)
{
	char sql[512], *v;
	long n;

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM registry.principal p JOIN registry.credential c USING "
		 "(principal_id) WHERE p.name = '%s' AND c.kind = 'certificate' AND c.prefix LIKE "
		 "'x509:%%'",
		 name);
	v = harness_sql_value(sql);
	n = v != NULL ? strtol(v, NULL, 10) : -1;
	free(v);
	return n;
}

static void
t_municipality(void)
{
	struct http_resp r;

	/* its own municipality: sync and read */
	CU_ASSERT_EQUAL(as("muni", "POST", "/v1/sync", NULL, validate_muni, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(as("muni", "GET", "/v1/overview?region=" MUNI, NULL, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	/* not another one */
	CU_ASSERT_EQUAL(as("muni", "POST", "/v1/sync", NULL, validate_other, &r), 0);
	CU_ASSERT_EQUAL(r.status, 403);
	harness_resp_free(&r);
	/* recorded once, on first use, with the certificate's name, role and scope */
	CU_ASSERT_EQUAL(principals("Stadt Annaberg-Buchholz (cert test)"), 1);
	{
		char *v = harness_sql_value(
		    "SELECT count(*) FROM registry.principal WHERE name = 'Stadt Annaberg-Buchholz "
		    "(cert test)' AND role = 'municipality' AND scope = '" MUNI "'");

		CU_ASSERT_PTR_NOT_NULL(v);
		CU_ASSERT_STRING_EQUAL(v != NULL ? v : "", "1");
		free(v);
	}
}

static void
t_county_and_investor(void)
{
	struct http_resp r;

	CU_ASSERT_EQUAL(as("county", "GET", "/v1/municipalities?region=" COUNTY, NULL, NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(as("county", "GET", "/v1/municipalities?region=14522", NULL, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 403);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(as("county", "POST", "/v1/sync", NULL, validate_muni, &r), 0);
	CU_ASSERT_EQUAL(r.status, 403);
	harness_resp_free(&r);
	/* an investor certificate reads what investors read, and writes nothing */
	CU_ASSERT_EQUAL(as("investor", "GET", "/v1/records?page_size=5", NULL, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(as("investor", "GET", "/v1/overview?region=" COUNTY, NULL, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 403);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(as("investor", "POST", "/v1/sync", NULL, validate_muni, &r), 0);
	CU_ASSERT_EQUAL(r.status, 403);
	harness_resp_free(&r);
}

static void
t_refused(void)
{
	struct http_resp r;

	/* issued by the CA but naming no valid claim: 401 with the reason */
	CU_ASSERT_EQUAL(as("noclaim", "GET", "/v1/records?page_size=1", NULL, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "names no role"));
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(as("badscope", "GET", "/v1/records?page_size=1", NULL, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "does not fit its role"));
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(principals("No claim (cert test)"), 0);
	CU_ASSERT_EQUAL(principals("Bad scope (cert test)"), 0);
	/* not issued by the county's CA, or expired: no TLS session at all */
	CU_ASSERT_EQUAL(as("foreign", "GET", "/v1/records?page_size=1", NULL, NULL, &r), -1);
	CU_ASSERT_EQUAL(r.status, 0);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(as("expired", "GET", "/v1/records?page_size=1", NULL, NULL, &r), -1);
	CU_ASSERT_EQUAL(r.status, 0);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(principals("Foreign (cert test)"), 0);
	CU_ASSERT_EQUAL(principals("Expired (cert test)"), 0);
	CU_ASSERT(harness_log_contains(&d, "certificate has expired"));
	CU_ASSERT(harness_log_contains(&d, "unable to get local issuer certificate"));
	CU_ASSERT(!harness_log_contains(&d, "(cert test)")); /* no names in the log */
	/* the daemon serves on */
	CU_ASSERT_EQUAL(as("county", "GET", "/v1/municipalities?region=" COUNTY, NULL, NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
}

static void
t_revoke(void)
{
	char cert_path[700], key_path[700], cmd[2048], out[512], prefix[TOKEN_SHOW_LEN + 1];
	struct certid id;
	struct http_resp r;
	X509 *cert;

	CU_ASSERT_EQUAL(as("revoked", "GET", "/v1/municipalities?region=" COUNTY, NULL, NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	/* vacancyd token list shows it; token revoke takes its prefix */
	paths("revoked", cert_path, key_path, sizeof(cert_path));
	cert = certgen_read_cert(cert_path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cert);
	CU_ASSERT_EQUAL_FATAL(certid_read(cert, &id, out, sizeof(out)), 0);
	X509_free(cert);
	certid_prefix(id.fingerprint, prefix);
	snprintf(cmd, sizeof(cmd), "%s -f %s token list", harness_env("VACANCY_TEST_VACANCYD"),
		 d.conf);
	CU_ASSERT_EQUAL(harness_run(cmd, out, sizeof(out)), 0);
	snprintf(cmd, sizeof(cmd), "%s -f %s token list | grep -c '^%s .*Revoked (cert test)'",
		 harness_env("VACANCY_TEST_VACANCYD"), d.conf, prefix);
	CU_ASSERT_EQUAL(harness_run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "1\n");
	snprintf(cmd, sizeof(cmd), "%s -f %s token revoke %s 2>&1",
		 harness_env("VACANCY_TEST_VACANCYD"), d.conf, prefix);
	CU_ASSERT_EQUAL(harness_run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(as("revoked", "GET", "/v1/municipalities?region=" COUNTY, NULL, NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "revoked"));
	harness_resp_free(&r);
	/* and stays revoked: a second use does not record it anew */
	CU_ASSERT_EQUAL(as("revoked", "GET", "/v1/municipalities?region=" COUNTY, NULL, NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.status, 401);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(principals("Revoked (cert test)"), 1);

	/* revoked by its PEM file before it was ever used */
	paths("prerevoked", cert_path, key_path, sizeof(cert_path));
	snprintf(cmd, sizeof(cmd), "%s -f %s token revoke %s 2>&1",
		 harness_env("VACANCY_TEST_VACANCYD"), d.conf, cert_path);
	CU_ASSERT_EQUAL(harness_run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "revoked the certificate x509:"));
	CU_ASSERT_EQUAL(principals("Revoked before use (cert test)"), 1);
	CU_ASSERT_EQUAL(as("prerevoked", "POST", "/v1/sync", NULL, validate_muni, &r), 0);
	CU_ASSERT_EQUAL(r.status, 401);
	harness_resp_free(&r);
	/* again: still one credential, still revoked */
	CU_ASSERT_EQUAL(harness_run(cmd, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(principals("Revoked before use (cert test)"), 1);
	/* a file that holds no certificate is a usage error */
	snprintf(cmd, sizeof(cmd), "%s -f %s token revoke %s/ca.key 2>&1",
		 harness_env("VACANCY_TEST_VACANCYD"), d.conf, harness_env("VACANCY_TEST_TLS"));
	CU_ASSERT_EQUAL(harness_run(cmd, out, sizeof(out)), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "holds no PEM certificate"));
}

static void
t_token_first_and_off(void)
{
	char *tok = harness_token(&d, "municipality", MUNI);
	struct daemon plain;
	struct http_resp r;

	/* a token on the request wins over the connection's certificate */
	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	CU_ASSERT_EQUAL(as("investor", "POST", "/v1/sync", tok, validate_muni, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	free(tok);
	/* without tls_client_ca_file no certificate is asked for or read */
	CU_ASSERT_EQUAL_FATAL(harness_daemon_start(&plain, NULL), 0);
	{
		char cert[700], key[700];

		paths("county", cert, key, sizeof(cert));
		harness_client_cert(cert, key);
		CU_ASSERT_EQUAL(harness_http(&plain, "GET", "/v1/municipalities?region=" COUNTY,
					     NULL, "application/json", NULL, NULL, 0, NULL, &r),
				0);
		harness_client_cert(NULL, NULL);
	}
	CU_ASSERT_EQUAL(r.status, 401);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "client certificate"));
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(harness_daemon_stop(&plain), 0);
}

/* Runs the vacancy client against d: env assignments pre (may be ""), then args. */
static int
client(const char *pre, const char *args, char *out, size_t outlen)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd),
		 "env -u VACANCY_TOKEN -u VACANCY_CERT -u VACANCY_KEY "
		 "VACANCY_URL=https://127.0.0.1:%d VACANCY_CACERT=%s/ca.pem %s %s %s 2>&1",
		 d.port, harness_env("VACANCY_TEST_TLS"), pre, harness_env("VACANCY_TEST_CLIENT"),
		 args);
	return harness_run(cmd, out, outlen);
}

static void
t_client(void)
{
	char cert[700], key[700], args[2048], out[4096];

	paths("investor", cert, key, sizeof(cert));
	/* vacancy --cert --key: the certificate is the credential */
	snprintf(args, sizeof(args), "search --limit 1 --json --cert %s --key %s", cert, key);
	CU_ASSERT_EQUAL(client("", args, out, sizeof(out)), 0);
	/* the same from the environment */
	snprintf(args, sizeof(args), "VACANCY_CERT=%s VACANCY_KEY=%s", cert, key);
	CU_ASSERT_EQUAL(client(args, "search --limit 1 --json", out, sizeof(out)), 0);
	/* a certificate without its key is refused before any request */
	snprintf(args, sizeof(args), "search --limit 1 --cert %s", cert);
	CU_ASSERT_NOT_EQUAL(client("", args, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "needs its key"));
	/* neither: 401, and the hint names both credentials */
	CU_ASSERT_NOT_EQUAL(client("", "search --limit 1", out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "--cert"));
}

/* A daemon whose client certificates are checked against dir/CRL. */
static int
start_with_crl(struct daemon *dm, const char *crl)
{
	char extra[2048];

	snprintf(extra, sizeof(extra), "%stls_client_crl_file = %s/%s\n", conf_extra, dir, crl);
	return harness_daemon_start(dm, extra);
}

/* A request with token tok (no certificate) is served by dm. */
static void
token_served(struct daemon *dm, const char *tok)
{
	struct http_resp r;

	CU_ASSERT_EQUAL(harness_http(dm, "GET", "/v1/records?page_size=1", tok, "application/json",
				     NULL, NULL, 0, NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
}

static void
t_crl(void)
{
	struct daemon c;
	struct http_resp r;
	char extra[2048], *tok = harness_token(&d, "investor", "");

	CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
	/* a certificate the CA's list names gets no TLS session; the others do */
	CU_ASSERT_EQUAL_FATAL(start_with_crl(&c, "current.crl"), 0);
	CU_ASSERT(harness_log_contains(&c, "1 client certificate revocation list(s)"));
	CU_ASSERT_EQUAL(as_on(&c, "crl-revoked", "GET", "/v1/records?page_size=1", NULL, NULL, &r),
			-1);
	CU_ASSERT_EQUAL(r.status, 0);
	harness_resp_free(&r);
	CU_ASSERT(harness_log_contains(&c, "client certificate refused at depth 0 (serial "));
	CU_ASSERT(harness_log_contains(&c, "): certificate revoked"));
	CU_ASSERT_EQUAL(as_on(&c, "crl-kept", "GET", "/v1/records?page_size=1", NULL, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(principals("On the CRL (cert test)"), 0);
	/* a new list takes effect on SIGHUP */
	snprintf(extra, sizeof(extra), "%stls_client_crl_file = %s/both.crl\n", conf_extra, dir);
	CU_ASSERT_EQUAL(harness_daemon_write_config(&c, extra), 0);
	kill(c.pid, SIGHUP);
	usleep(300000);
	CU_ASSERT(harness_log_contains(&c, "reloaded"));
	CU_ASSERT_EQUAL(as_on(&c, "crl-kept", "GET", "/v1/records?page_size=1", NULL, NULL, &r),
			-1);
	harness_resp_free(&r);
	/* tokens are served as before */
	token_served(&c, tok);
	CU_ASSERT_EQUAL(harness_daemon_stop(&c), 0);

	/* a list past its next update: no certificate gets a session (fail closed) */
	CU_ASSERT_EQUAL_FATAL(start_with_crl(&c, "stale.crl"), 0);
	CU_ASSERT_EQUAL(as_on(&c, "crl-kept", "GET", "/v1/records?page_size=1", NULL, NULL, &r),
			-1);
	harness_resp_free(&r);
	CU_ASSERT(harness_log_contains(&c, "CRL has expired"));
	token_served(&c, tok);
	CU_ASSERT_EQUAL(harness_daemon_stop(&c), 0);

	/* a file without a revocation list stops the start, and says so */
	CU_ASSERT_EQUAL(start_with_crl(&c, "muni.pem"), -1);
	CU_ASSERT(harness_log_contains(&c, "TLS client CRL ("));
	harness_daemon_stop(&c);
	free(tok);
}

/* Writes what certgen makes to dir/NAME; 0 or -1. */
static int
write_crl_to(X509 *issuer, EVP_PKEY *issuer_key, X509 *revoked, const char *name)
{
	char path[700];
	X509_CRL *crl = certgen_crl(issuer, issuer_key, &revoked, revoked != NULL ? 1 : 0, 86400);
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = crl != NULL ? certgen_write_crl(crl, path) : -1;
	X509_CRL_free(crl);
	return rc;
}

/* Concatenates dir/A and dir/B into dir/OUT; 0 or -1. */
static int
cat2(const char *a, const char *b, const char *out)
{
	char cmd[2200], res[64];

	snprintf(cmd, sizeof(cmd), "cat %s/%s %s/%s > %s/%s", dir, a, dir, b ? b : a, dir, out);
	if (b == NULL)
		snprintf(cmd, sizeof(cmd), "cat %s/%s > %s/%s", dir, a, dir, out);
	return harness_run(cmd, res, sizeof(res)) == 0 ? 0 : -1;
}

/*
 * A chain through an intermediate CA: every CA's list is checked, so a
 * revoked intermediate refuses the certificates under it, and a missing
 * list of the intermediate refuses them too.
 */
static void
t_crl_chain(void)
{
	EVP_PKEY *root_key = certgen_key(), *int_key = certgen_key(), *leaf_key = certgen_key();
	X509 *root = NULL, *inter = NULL, *leaf = NULL;
	static const char *const uri[1] = {"urn:vacancyd:county:" COUNTY};
	char root_pem[700], extra[2048], cert[700], key[700];
	struct daemon c;
	struct http_resp r;
	FILE *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(root_key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(int_key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(leaf_key);
	root = certgen_cert(root_key, "Chain root CA", NULL, 0, NULL, NULL, 1, -3600, 86400);
	inter = certgen_cert(int_key, "Chain intermediate CA", NULL, 0, root, root_key, 1, -3600,
			     86400);
	leaf = certgen_cert(leaf_key, "Via intermediate (cert test)", uri, 1, inter, int_key, 0,
			    -3600, 86400);
	CU_ASSERT_FATAL(root != NULL && inter != NULL && leaf != NULL);
	/* the root as the client CA; the leaf sent with its intermediate */
	snprintf(root_pem, sizeof(root_pem), "%s/chain-root.pem", dir);
	f = fopen(root_pem, "w");
	CU_ASSERT_FATAL(f != NULL && PEM_write_X509(f, root) == 1);
	fclose(f);
	paths("chain", cert, key, sizeof(cert));
	CU_ASSERT_EQUAL_FATAL(certgen_write(leaf, cert, leaf_key, key), 0);
	f = fopen(cert, "a");
	CU_ASSERT_FATAL(f != NULL && PEM_write_X509(f, inter) == 1);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(write_crl_to(root, root_key, NULL, "root-none.crl") |
				  write_crl_to(root, root_key, inter, "root-int.crl") |
				  write_crl_to(inter, int_key, NULL, "int-none.crl") |
				  cat2("root-none.crl", "int-none.crl", "chain-ok.crl") |
				  cat2("root-int.crl", "int-none.crl", "chain-revoked.crl") |
				  cat2("root-none.crl", NULL, "chain-noint.crl"),
			      0);

	static const struct {
		const char *crl;
		int served;
		const char *why;
	} cases[] = {
	    {"chain-ok.crl", 1, NULL},
	    {"chain-revoked.crl", 0, "at depth 1 (serial "},
	    {"chain-noint.crl", 0, "unable to get certificate CRL"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(extra, sizeof(extra),
			 "tls_client_ca_file = %s\ntls_client_crl_file = %s/%s\n"
			 "auth_cache_ttl_ms = 0\n",
			 root_pem, dir, cases[i].crl);
		CU_ASSERT_EQUAL_FATAL(harness_daemon_start(&c, extra), 0);
		CU_ASSERT_EQUAL(
		    as_on(&c, "chain", "GET", "/v1/municipalities?region=" COUNTY, NULL, NULL, &r),
		    cases[i].served ? 0 : -1);
		CU_ASSERT_EQUAL(r.status, cases[i].served ? 200 : 0);
		harness_resp_free(&r);
		if (cases[i].why != NULL)
			CU_ASSERT(harness_log_contains(&c, cases[i].why));
		CU_ASSERT_EQUAL(harness_daemon_stop(&c), 0);
	}
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(int_key);
	EVP_PKEY_free(leaf_key);
}

/*
 * Refused certificates are logged at most SERVER_TLS_REFUSED_PER_S (20)
 * times a second; the rest are counted in one line once the second is over.
 */
static void
t_refusal_log_limit(void)
{
	struct http_resp r;

	/* 45 refusals within at most two seconds: one of them has more than 20 */
	for (int i = 0; i < 45; i++) {
		CU_ASSERT_EQUAL(as("foreign", "GET", "/v1/records?page_size=1", NULL, NULL, &r),
				-1);
		harness_resp_free(&r);
	}
	sleep(2);
	CU_ASSERT_EQUAL(as("foreign", "GET", "/v1/records?page_size=1", NULL, NULL, &r), -1);
	harness_resp_free(&r);
	CU_ASSERT(harness_log_contains(&d, "more client certificates refused"));
	/* and the daemon serves on */
	CU_ASSERT_EQUAL(as("county", "GET", "/v1/municipalities?region=" COUNTY, NULL, NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
}

static void
t_bad_ca_file(void)
{
	struct daemon bad;

	/* an unreadable client CA file: the daemon does not start, and says why */
	CU_ASSERT_EQUAL(harness_daemon_start(&bad, "tls_client_ca_file = /nonexistent/ca.pem\n"),
			-1);
	CU_ASSERT(harness_log_contains(&bad, "TLS client CA (/nonexistent/ca.pem)"));
	harness_daemon_stop(&bad);
}

void
test_certs_register(void)
{
	CU_pSuite s = CU_add_suite("certs", setup, teardown);

	CU_add_test(s, "a municipality's certificate: its scope, recorded once", t_municipality);
	CU_add_test(s, "county and investor certificates: their role's limits",
		    t_county_and_investor);
	CU_add_test(s, "no claim, a bad scope, another CA, expired: refused", t_refused);
	CU_add_test(s, "revoked with vacancyd token revoke x509:... or CERT.pem, also before use",
		    t_revoke);
	CU_add_test(s, "a token wins; without tls_client_ca_file certificates are ignored",
		    t_token_first_and_off);
	CU_add_test(s, "vacancy --cert --key, and VACANCY_CERT, VACANCY_KEY", t_client);
	CU_add_test(s, "an unreadable client CA file stops the start", t_bad_ca_file);
	CU_add_test(s, "revocation lists: refused at the handshake, reloaded, stale, missing",
		    t_crl);
	CU_add_test(s, "revocation lists of an intermediate CA's chain", t_crl_chain);
	CU_add_test(s, "refused certificates: at most 20 log lines a second", t_refusal_log_limit);
}
