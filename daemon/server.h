/*
 * server: the daemon's listening side and shared context. Owns the listener
 * (our own evconnlistener, so connections are counted and the listener
 * pauses at max_connections), the TLS context (swapped on SIGHUP), the
 * evhttp instance with every limit set, the two database pools and the
 * metrics. The path of a request: listener -> TLS -> evhttp -> req.c
 * (route, limits, auth) -> a handler -> db -> reply.
 */
#ifndef VACANCY_SERVER_H
#define VACANCY_SERVER_H

#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "config.h"
#include "db.h"

struct auth_cache;
struct metrics;

enum server_state { SERVER_STARTING, SERVER_RUNNING, SERVER_DRAINING, SERVER_STOPPED };

struct server {
	struct event_base *base;
	struct config *cfg; /* owned; replaced on reload */
	char *config_path;  /* owned; NULL when running on defaults */
	enum server_state state;

	struct evhttp *http;
	struct evconnlistener *listener; /* ours; evhttp frees it with bound */
	struct evhttp_bound_socket *bound;
	SSL_CTX *ssl_ctx; /* owned; connections hold their own references */
	int port;	  /* the bound port */

	int nconns; /* open client connections */
	int paused; /* listener disabled at max_connections */
	uint64_t conns_accepted;
	uint64_t conns_refused_tls; /* connections refused because TLS could not start */
	int inflight;		    /* requests between arrival and reply */

	struct db_pool *staff;	  /* municipality and county requests */
	struct db_pool *investor; /* investor requests: sees the public view only */
	struct auth_cache *auth;
	struct metrics *metrics;
	unsigned char page_key[32]; /* signs search page tokens */
	struct rmsync *rms;	    /* the investor read model, or NULL */

	struct event *sig_term, *sig_int, *sig_hup, *drain_timer;
	int lingering; /* drained of requests, waiting for connections */
};

/* Database pool options from the config; name is kept (a literal). */
struct db_pool_opts server_pool_opts(const struct config *cfg, const char *name);

/* Creates TLS context, pools, evhttp and listener from cfg (consumed). */
struct server *server_new(struct event_base *base, struct config *cfg, const char *config_path)
    __attribute__((warn_unused_result));
void server_free(struct server *srv);

/*
 * Builds a TLS server context from the configured certificate and key.
 * NULL with a reason in err. Used at start, on SIGHUP and by `vacancyd -n`.
 */
SSL_CTX *server_tls_context(const struct config *cfg, char *err, size_t errlen);

/*
 * The key that signs page tokens: SHA-256 of page_token_key_file (at least
 * 32 bytes), or random when none is configured. 0, or -1 with err.
 */
int server_page_key(const struct config *cfg, unsigned char out[32], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Starts draining: no new connections, exit when in-flight requests are done. */
void server_drain(struct server *srv, const char *why);
/* Re-reads the config file and certificates; keeps the old ones on error. */
void server_reload(struct server *srv);

/* Called by req.c when a request ends, so a drain can finish. */
void server_request_done(struct server *srv);

#endif
