/*
 * auth: bearer token or client certificate -> principal, with a bounded TTL
 * cache in front of the database. Only SHA-256 hashes of tokens and
 * certificates are kept, here and in the database.
 */
#include "auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "certid.h"
#include "log.h"

#define AUTH_PROBE 8

struct auth_entry {
	unsigned char hash[TOKEN_HASH_LEN];
	int64_t expires_ms; /* 0: empty slot */
	struct principal principal;
};

struct auth_cache {
	size_t slots;
	struct auth_entry *entries;
};

static const struct db_stmt auth_stmt = {
    "auth_lookup",
    "SELECT principal_id, role, scope, name FROM registry.authenticate($1::bytea)",
};

/* A client certificate: its principal, recorded on the certificate's first use. */
static const struct db_stmt auth_cert_stmt = {
    "auth_cert_lookup",
    "SELECT principal_id, role, scope, name FROM "
    "registry.authenticate_cert($1::bytea, $2::registry.role, $3, $4)",
};

static int64_t
auth_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct auth_cache *
auth_cache_new(size_t slots)
{
	struct auth_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->slots = slots < AUTH_PROBE ? AUTH_PROBE : slots;
	if ((c->entries = calloc(c->slots, sizeof(*c->entries))) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
auth_cache_free(struct auth_cache *c)
{
	if (c == NULL)
		return;
	free(c->entries);
	free(c);
}

void
auth_cache_clear(struct auth_cache *c)
{
	memset(c->entries, 0, c->slots * sizeof(*c->entries));
}

static size_t
auth_slot(const struct auth_cache *c, const unsigned char *hash)
{
	uint64_t h;

	memcpy(&h, hash, sizeof(h));
	return (size_t)(h % c->slots);
}

/* 0 and *p set when a fresh entry exists, else -1. */
static int
auth_cache_get(struct auth_cache *c, const unsigned char *hash, struct principal *p)
{
	size_t s = auth_slot(c, hash);
	int64_t now = auth_now_ms();

	for (int i = 0; i < AUTH_PROBE; i++) {
		struct auth_entry *e = &c->entries[(s + (size_t)i) % c->slots];

		if (e->expires_ms > now && memcmp(e->hash, hash, TOKEN_HASH_LEN) == 0) {
			*p = e->principal;
			return 0;
		}
	}
	return -1;
}

/* Stores an entry in the first empty, expired or matching slot of the probe
 * range, else over the one that expires first. */
static void
auth_cache_put(struct auth_cache *c, const unsigned char *hash, const struct principal *p,
	       int ttl_ms)
{
	size_t s = auth_slot(c, hash);
	int64_t now = auth_now_ms();
	struct auth_entry *victim = NULL;

	if (ttl_ms <= 0)
		return;
	for (int i = 0; i < AUTH_PROBE; i++) {
		struct auth_entry *e = &c->entries[(s + (size_t)i) % c->slots];

		if (e->expires_ms <= now || memcmp(e->hash, hash, TOKEN_HASH_LEN) == 0) {
			victim = e;
			break;
		}
		if (victim == NULL || e->expires_ms < victim->expires_ms)
			victim = e;
	}
	memcpy(victim->hash, hash, TOKEN_HASH_LEN);
	victim->principal = *p;
	victim->expires_ms = now + ttl_ms;
}

/* Every 401 goes through here, so each carries the RFC 6750 challenge. */
static void
auth_refuse(struct req *r, int token_given, const char *why)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->evreq), "WWW-Authenticate",
			  token_given ? "Bearer realm=\"vacancyd\", error=\"invalid_token\""
				      : "Bearer realm=\"vacancyd\"");
	req_error(r, 401, "UNAUTHENTICATED", "%s", why);
}

/* The database answered a lookup; refusal is the 401's reason when it found nothing. */
static void
auth_lookup_done(struct req *r, enum db_status st, const PGresult *res, const char *errmsg,
		 const char *refusal)
{
	struct principal *p = &r->principal;

	if (st != DB_OK) {
		req_db_failed(r, st, res, errmsg);
		return;
	}
	if (PQntuples(res) != 1 || role_parse(PQgetvalue(res, 0, 1), &p->role) == -1) {
		auth_refuse(r, 1, refusal);
		return;
	}
	p->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(p->scope, sizeof(p->scope), "%s", PQgetvalue(res, 0, 2));
	snprintf(p->name, sizeof(p->name), "%s", PQgetvalue(res, 0, 3));
	auth_cache_put(r->srv->auth, r->auth_hash, p, r->srv->cfg->auth_cache_ttl_ms);
	r->auth_next(r);
}

static void
auth_lookup_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	auth_lookup_done(r, st, res, errmsg, "the token is not valid");
}

static void
auth_cert_cb(struct req *r, enum db_status st, const PGresult *res, const char *errmsg)
{
	auth_lookup_done(r, st, res, errmsg,
			 "the client certificate is revoked, or no longer names the role and "
			 "scope it was first used with");
}

/*
 * A request without a token: the connection's verified client certificate
 * (certid.h), if tls_client_ca_file asked for one. -1 when there is none;
 * else 0, and r goes on in exactly one place.
 */
static int
auth_cert(struct req *r, void (*next)(struct req *r))
{
	struct evhttp_connection *conn = evhttp_request_get_connection(r->evreq);
	struct bufferevent *bev = conn != NULL ? evhttp_connection_get_bufferevent(conn) : NULL;
	SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
	char hex[TOKEN_BYTEA_LEN], err[256];
	const char *params[4];
	struct certid id;
	X509 *cert;

	if (ssl == NULL || (cert = SSL_get0_peer_certificate(ssl)) == NULL)
		return -1;
	if (SSL_get_verify_result(ssl) != X509_V_OK) { /* the handshake refuses these */
		auth_refuse(r, 1, "the client certificate was not verified");
		return 0;
	}
	if (certid_read(cert, &id, err, sizeof(err)) == -1) {
		auth_refuse(r, 1, err);
		return 0;
	}
	if (auth_cache_get(r->srv->auth, id.fingerprint, &r->principal) == 0) {
		next(r);
		return 0;
	}
	memcpy(r->auth_hash, id.fingerprint, sizeof(id.fingerprint));
	r->auth_next = next;
	token_bytea(id.fingerprint, hex);
	params[0] = hex;
	params[1] = role_name(id.role);
	params[2] = id.scope;
	params[3] = id.name;
	if (req_query(r, r->srv->staff, &auth_cert_stmt, 4, params, auth_cert_cb) == -1)
		return 0; /* req_query has replied */
	return 0;
}

void
auth_begin(struct req *r, void (*next)(struct req *r))
{
	const char *header = req_header(r, "Authorization");
	unsigned char hash[TOKEN_HASH_LEN];
	char hex[TOKEN_BYTEA_LEN];
	const char *params[1] = {hex};
	const char *tok;
	size_t len;

	if (header == NULL) {
		if (auth_cert(r, next) == 0)
			return;
		auth_refuse(r, 0,
			    "an Authorization: Bearer token (or a client certificate) is required");
		return;
	}
	if (token_from_authorization(header, &tok, &len) == -1) {
		auth_refuse(r, 1, "the Authorization header is not a bearer token");
		return;
	}
	token_hash(tok, len, hash);
	if (auth_cache_get(r->srv->auth, hash, &r->principal) == 0) {
		next(r);
		return;
	}
	memcpy(r->auth_hash, hash, sizeof(hash));
	r->auth_next = next;
	token_bytea(hash, hex);
	if (req_query(r, r->srv->staff, &auth_stmt, 1, params, auth_lookup_cb) == -1)
		return; /* req_query has replied */
}
