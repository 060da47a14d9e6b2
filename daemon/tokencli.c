/*
 * tokencli: credential management. A new token is printed once, on stdout
 * alone (so scripts can capture it); only its SHA-256 is stored.
 */
#include "tokencli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "certid.h"
#include "token.h"

static void
tokencli_usage(FILE *out)
{
	fprintf(out,
		"usage: vacancyd [-f FILE] token create --role ROLE --scope SCOPE [--name NAME]\n"
		"       vacancyd [-f FILE] token revoke PREFIX|TOKEN|CERT.pem\n"
		"       vacancyd [-f FILE] token list\n"
		"ROLE is municipality (SCOPE: its AGS), county (SCOPE: AGS prefix, e.g. 14521)\n"
		"or investor (SCOPE: \"\").\n"
		"A client certificate is revoked by its prefix (x509:..., see list) or by its\n"
		"PEM file (a path with a /), also before its first use.\n");
}

static PGconn *
tokencli_connect(const struct config *cfg)
{
	PGconn *conn = PQconnectdb(cfg->db_staff_conninfo);

	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "vacancyd: database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

static int
tokencli_create(PGconn *conn, int argc, char **argv)
{
	static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
					     {"scope", required_argument, NULL, 's'},
					     {"name", required_argument, NULL, 'n'},
					     {NULL, 0, NULL, 0}};
	const char *role_s = NULL, *scope = NULL, *name = NULL;
	char token[TOKEN_LEN + 1], hex[TOKEN_BYTEA_LEN], prefix[TOKEN_SHOW_LEN + 1];
	char defname[64], err[256];
	unsigned char hash[TOKEN_HASH_LEN];
	const char *params[5];
	PGresult *res;
	enum role role;
	int c, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			role_s = optarg;
			break;
		case 's':
			scope = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		default:
			tokencli_usage(stderr);
			return 2;
		}
	}
	if (role_s == NULL || scope == NULL || role_parse(role_s, &role) == -1) {
		tokencli_usage(stderr);
		return 2;
	}
	if (scope_valid(role, scope, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancyd: %s\n", err);
		return 2;
	}
	if (name == NULL) {
		snprintf(defname, sizeof(defname), "%s %s", role_s, scope);
		name = defname;
	}
	if (token_generate(token) == -1) {
		fprintf(stderr, "vacancyd: no random bytes for a token\n");
		return 1;
	}
	token_hash(token, TOKEN_LEN, hash);
	token_bytea(hash, hex);
	snprintf(prefix, sizeof(prefix), "%.*s", TOKEN_SHOW_LEN, token);
	params[0] = role_s;
	params[1] = scope;
	params[2] = name;
	params[3] = hex;
	params[4] = prefix;
	res = PQexecParams(conn,
			   "WITH p AS (INSERT INTO registry.principal (role, scope, name) "
			   "VALUES ($1::registry.role, $2, $3) RETURNING principal_id) "
			   "INSERT INTO registry.credential (token_hash, prefix, principal_id) "
			   "SELECT $4::bytea, $5, principal_id FROM p RETURNING principal_id",
			   5, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "vacancyd: %s", PQerrorMessage(conn));
		goto out;
	}
	printf("%s\n", token);
	fprintf(stderr,
		"vacancyd: created %s token %s... for scope '%s' (principal %s); "
		"it is shown only now\n",
		role_s, prefix, scope, PQgetvalue(res, 0, 0));
	rc = 0;
out:
	OPENSSL_cleanse(token, sizeof(token));
	PQclear(res);
	return rc;
}

/*
 * Revokes the client certificate in the PEM file path, also before its first
 * use: its credential is then recorded already revoked. 0, 1 or 2 (usage).
 */
static int
tokencli_revoke_cert(PGconn *conn, const char *path)
{
	char err[256], hex[TOKEN_BYTEA_LEN], prefix[TOKEN_SHOW_LEN + 1];
	const char *params[5];
	struct certid id;
	PGresult *res;
	X509 *cert;
	FILE *f;
	int rc = 1;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "vacancyd: %s: %s\n", path, strerror(errno));
		return 2;
	}
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (cert == NULL) {
		fprintf(stderr, "vacancyd: %s holds no PEM certificate\n", path);
		return 2;
	}
	if (certid_read(cert, &id, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancyd: %s: %s\n", path, err);
		X509_free(cert);
		return 2;
	}
	X509_free(cert);
	token_bytea(id.fingerprint, hex);
	certid_prefix(id.fingerprint, prefix);
	params[0] = hex;
	params[1] = role_name(id.role);
	params[2] = id.scope;
	params[3] = id.name;
	params[4] = prefix;
	res = PQexecParams(
	    conn,
	    "WITH known AS (UPDATE registry.credential SET revoked_at = coalesce(revoked_at, "
	    "now()) "
	    "WHERE token_hash = $1::bytea RETURNING 1), "
	    "p AS (INSERT INTO registry.principal (role, scope, name, revoked_at) "
	    "SELECT $2::registry.role, $3, $4, now() WHERE NOT EXISTS (SELECT 1 FROM known) "
	    "RETURNING principal_id) "
	    "INSERT INTO registry.credential (token_hash, prefix, principal_id, kind, revoked_at) "
	    "SELECT $1::bytea, $5, principal_id, 'certificate', now() FROM p",
	    5, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "vacancyd: %s", PQerrorMessage(conn));
	} else {
		fprintf(stderr,
			"vacancyd: revoked the certificate %s (%s %s, %s); running daemons stop "
			"accepting it within auth_cache_ttl_ms (or at once on SIGHUP)\n",
			prefix, role_name(id.role), id.scope, id.name);
		rc = 0;
	}
	PQclear(res);
	return rc;
}

static int
tokencli_revoke(PGconn *conn, int argc, char **argv)
{
	char prefix[TOKEN_SHOW_LEN + 1];
	const char *params[1] = {prefix};
	PGresult *res;
	int rc = 1;

	if (argc == 2 && strchr(argv[1], '/') != NULL)
		return tokencli_revoke_cert(conn, argv[1]);
	if (argc != 2 || strlen(argv[1]) < TOKEN_SHOW_LEN) {
		fprintf(stderr,
			"vacancyd: token revoke needs a token or its first %d characters, or a "
			"client certificate's PEM file (a path with a /)\n",
			TOKEN_SHOW_LEN);
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "%.*s", TOKEN_SHOW_LEN, argv[1]);
	res = PQexecParams(conn,
			   "UPDATE registry.credential SET revoked_at = now() "
			   "WHERE prefix = $1 AND revoked_at IS NULL",
			   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "vacancyd: %s", PQerrorMessage(conn));
	} else if (strcmp(PQcmdTuples(res), "0") == 0) {
		fprintf(stderr, "vacancyd: no active token starts with %s\n", prefix);
	} else {
		fprintf(stderr,
			"vacancyd: revoked %s token(s) %s...; running daemons stop accepting "
			"it within auth_cache_ttl_ms (or at once on SIGHUP)\n",
			PQcmdTuples(res), prefix);
		rc = 0;
	}
	PQclear(res);
	return rc;
}

static int
tokencli_list(PGconn *conn)
{
	PGresult *res = PQexec(conn, "SELECT c.prefix, p.role, p.scope, p.name, "
				     "to_char(c.created_at, 'YYYY-MM-DD HH24:MI'), "
				     "coalesce(to_char(c.revoked_at, 'YYYY-MM-DD HH24:MI'), '') "
				     "FROM registry.credential c JOIN registry.principal p "
				     "USING (principal_id) ORDER BY c.created_at, c.prefix");

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "vacancyd: %s", PQerrorMessage(conn));
		PQclear(res);
		return 1;
	}
	printf("%-14s %-13s %-9s %-17s %-17s %s\n", "TOKEN", "ROLE", "SCOPE", "CREATED", "REVOKED",
	       "NAME");
	for (int i = 0; i < PQntuples(res); i++)
		printf("%-14s %-13s %-9s %-17s %-17s %s\n", PQgetvalue(res, i, 0),
		       PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 4),
		       PQgetvalue(res, i, 5), PQgetvalue(res, i, 3));
	PQclear(res);
	return 0;
}

int
tokencli_main(const struct config *cfg, int argc, char **argv)
{
	PGconn *conn;
	int rc;

	if (argc < 1) {
		tokencli_usage(stderr);
		return 2;
	}
	if (strcmp(argv[0], "create") && strcmp(argv[0], "revoke") && strcmp(argv[0], "list")) {
		tokencli_usage(stderr);
		return 2;
	}
	if ((conn = tokencli_connect(cfg)) == NULL)
		return 1;
	if (strcmp(argv[0], "create") == 0)
		rc = tokencli_create(conn, argc, argv);
	else if (strcmp(argv[0], "revoke") == 0)
		rc = tokencli_revoke(conn, argc, argv);
	else
		rc = tokencli_list(conn);
	PQfinish(conn);
	return rc;
}
