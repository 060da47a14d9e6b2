/*
 * auth: who is calling. A bearer token is hashed and looked up, first in a
 * small in-memory cache (auth_cache_ttl_ms bounds how long a revoked token
 * keeps working), then in the database through registry.authenticate().
 * A request without a token may come on a connection whose TLS client
 * certificate was verified against tls_client_ca_file: the role and scope it
 * names (certid.h) and its SHA-256 go the same way, through
 * registry.authenticate_cert().
 */
#ifndef VACANCY_AUTH_H
#define VACANCY_AUTH_H

#include "req.h"

struct auth_cache *auth_cache_new(size_t slots);
void auth_cache_free(struct auth_cache *c);
void auth_cache_clear(struct auth_cache *c);

/*
 * Authenticates r from its Authorization header (or else its client
 * certificate) and then calls next(r) with r->principal set. On a missing or
 * unknown credential it replies 401 itself; on
 * a database failure 503. Either way the request continues in exactly one
 * place.
 */
void auth_begin(struct req *r, void (*next)(struct req *r));

#endif
