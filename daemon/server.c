/*
 * server: listener, TLS, evhttp limits, connection counting, signals.
 *
 * Connection counting: evhttp in libevent 2.1 has no connection limit and no
 * hook for a connection's end, so every connection's bufferevent carries a
 * token whose destruction we observe: for TLS an ex_data slot on the SSL
 * object (freed with the bufferevent), for plain loopback HTTP a pass-through
 * filter whose context is freed with it. At max_connections the listener is
 * disabled and new connections wait in the kernel's backlog; it is enabled
 * again when one closes (memcached does the same).
 *
 * If a TLS connection cannot be set up, evhttp would fall back to plain HTTP
 * were the callback to return NULL. We never return NULL: the fallback is a
 * filter that fails the first read, so no handler runs.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "req.h"
#include "rmsync.h"

static int server_ssl_index = -1;

static const char *const server_state_names[] = {"starting", "running", "draining", "stopped"};

/* The one place the server changes state. */
static void
server_set_state(struct server *srv, enum server_state st)
{
	log_debug("server: %s -> %s", server_state_names[srv->state], server_state_names[st]);
	srv->state = st;
}

/* Draining ends when no request is in flight and every connection that
 * answered one has written it out and closed (replies carry "Connection:
 * close" while draining); idle keep-alive connections are cut after
 * DRAIN_LINGER_MS. */
#define DRAIN_LINGER_MS 2000

static void server_drain_check(struct server *srv);

/* The live server. Connections can outlive server_free(): libevent frees
 * their bufferevents (and OpenSSL their SSL objects) as late as
 * event_base_free(), and their free callbacks must not reach a freed
 * server. One server per process. */
static struct server *server_live;

/* A connection is gone: count it and resume accepting if we had paused. */
static void
server_conn_closed(struct server *srv)
{
	srv->nconns--;
	if (srv->state == SERVER_DRAINING)
		server_drain_check(srv);
	if (srv->paused && srv->nconns < srv->cfg->max_connections && srv->listener != NULL &&
	    srv->state == SERVER_RUNNING) {
		evconnlistener_enable(srv->listener);
		srv->paused = 0;
		log_info("server: below max_connections again, accepting");
	}
}

/* A connection was made: count it and pause accepting at the limit. */
static void
server_conn_opened(struct server *srv)
{
	srv->nconns++;
	srv->conns_accepted++;
	if (srv->nconns >= srv->cfg->max_connections && !srv->paused && srv->listener != NULL) {
		evconnlistener_disable(srv->listener);
		srv->paused = 1;
		log_warnx("server: max_connections (%d) reached, pausing accept",
			  srv->cfg->max_connections);
	}
}

/* OpenSSL frees an SSL object of one of our connections. */
static void
server_ssl_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ptr != NULL && ptr == server_live)
		server_conn_closed(ptr);
}

/* libevent frees the pass-through filter of a plain connection. */
static void
server_plain_free_cb(void *ctx)
{
	if (ctx == server_live)
		server_conn_closed(ctx);
}

/* Input filter of a connection that must not be served: fail at once. */
static enum bufferevent_filter_result
server_refuse_filter(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
		     enum bufferevent_flush_mode mode, void *ctx)
{
	(void)src;
	(void)dst;
	(void)limit;
	(void)mode;
	(void)ctx;
	return BEV_ERROR;
}

/* evhttp asks for the bufferevent of a new connection (fd set later). */
static struct bufferevent *
server_bevcb(struct event_base *base, void *arg)
{
	struct server *srv = arg;
	struct bufferevent *plain, *bev;
	SSL *ssl;

	if (!srv->cfg->tls) {
		plain = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
		bev = plain ? bufferevent_filter_new(plain, NULL, NULL, BEV_OPT_CLOSE_ON_FREE,
						     server_plain_free_cb, srv)
			    : NULL;
		if (bev != NULL) {
			server_conn_opened(srv);
			return bev;
		}
		if (plain)
			bufferevent_free(plain);
		goto refuse;
	}
	if ((ssl = SSL_new(srv->ssl_ctx)) == NULL)
		goto refuse;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		goto refuse;
	}
	/* counted from here on: the slot's free callback uncounts */
	SSL_set_ex_data(ssl, server_ssl_index, srv);
	server_conn_opened(srv);
	return bev;
refuse:
	srv->conns_refused_tls++;
	log_warnx("server: cannot set up a TLS connection; refusing it");
	plain = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	return bufferevent_filter_new(plain, server_refuse_filter, server_refuse_filter,
				      BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
}

/* Lines about refused client certificates per second, at most; the rest are counted. */
#define SERVER_TLS_REFUSED_PER_S 20

/*
 * Says why a client certificate is refused (the handshake then fails): the
 * peer's address, the reason, the depth in the chain and the serial number,
 * never its names; at most SERVER_TLS_REFUSED_PER_S lines a second.
 */
static int
server_tls_verify_cb(int ok, X509_STORE_CTX *x)
{
	static time_t second;
	static unsigned lines, dropped;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "unknown";
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	time_t now = time(NULL);
	X509 *cert;
	BIGNUM *bn = NULL;
	char *hex = NULL;

	if (ok)
		return ok;
	if (now != second) {
		if (dropped > 0)
			log_info("tls: %u more client certificates refused", dropped);
		second = now;
		lines = dropped = 0;
	}
	if (++lines > SERVER_TLS_REFUSED_PER_S) {
		dropped++;
		return ok;
	}
	if (ssl != NULL && getpeername(SSL_get_fd(ssl), (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr,
				  sizeof(addr));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr,
				  sizeof(addr));
	}
	if ((cert = X509_STORE_CTX_get_current_cert(x)) != NULL &&
	    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) != NULL)
		hex = BN_bn2hex(bn);
	log_info("tls: %s: client certificate refused at depth %d (serial %s): %s", addr,
		 X509_STORE_CTX_get_error_depth(x), hex != NULL ? hex : "unknown",
		 X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)));
	OPENSSL_free(hex);
	BN_free(bn);
	return ok;
}

/*
 * Adds the revocation lists of file to ctx's store and checks every
 * certificate of a client's chain against its issuer's list: a client
 * certificate or intermediate CA a list names gets no TLS session, and
 * neither does any chain while the list of one of its CAs is missing or
 * past its next update (fail closed). The lists are read again with the
 * certificates on SIGHUP. 0, or -1 with the reason in err.
 */
static int
server_tls_crl(SSL_CTX *ctx, const char *file, char *err, size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
	unsigned long e;
	int n;

	if (lookup == NULL || (n = X509_load_crl_file(lookup, file, X509_FILETYPE_PEM)) < 1) {
		e = ERR_peek_last_error();
		snprintf(err, errlen, "TLS client CRL (%s): %s", file,
			 e ? ERR_reason_error_string(e) : "no revocation list in the file");
		ERR_clear_error();
		return -1;
	}
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	log_info("server: %d client certificate revocation list(s) from %s", n, file);
	return 0;
}

/*
 * Client certificates issued by the CAs of tls_client_ca_file are asked for
 * and verified (a certificate that does not verify ends the handshake); none
 * is required, since bearer tokens remain credentials. auth.c reads the
 * verified certificate's claim. 0, or -1 with err set.
 */
static int
server_tls_client_ca(SSL_CTX *ctx, const struct config *cfg, char *err, size_t errlen)
{
	static const unsigned char sid_ctx[] = "vacancyd";
	STACK_OF(X509_NAME) * names;
	unsigned long e;

	if (SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca_file, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(cfg->tls_client_ca_file)) == NULL) {
		e = ERR_get_error();
		snprintf(err, errlen, "TLS client CA (%s): %s", cfg->tls_client_ca_file,
			 e ? ERR_reason_error_string(e) : "no certificate in the file");
		ERR_clear_error();
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	if (*cfg->tls_client_crl_file &&
	    server_tls_crl(ctx, cfg->tls_client_crl_file, err, errlen) == -1)
		return -1;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, server_tls_verify_cb);
	SSL_CTX_set_verify_depth(ctx, cfg->tls_client_verify_depth);
	/* resumed sessions keep their verified client certificate */
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	return 0;
}

SSL_CTX *
server_tls_context(const struct config *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	unsigned long e;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert_file) != 1)
		goto fail;
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key_file, SSL_FILETYPE_PEM) != 1)
		goto fail;
	if (SSL_CTX_check_private_key(ctx) != 1)
		goto fail;
	if (*cfg->tls_client_ca_file && server_tls_client_ca(ctx, cfg, err, errlen) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
fail:
	e = ERR_get_error();
	snprintf(err, errlen, "TLS (%s, %s): %s", cfg->tls_cert_file, cfg->tls_key_file,
		 e ? ERR_reason_error_string(e) : "cannot create context");
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return NULL;
}

/* Applies the limits of cfg to evhttp (at start and on reload). */
static void
server_apply_limits(struct server *srv)
{
	struct timeval tv = {srv->cfg->idle_timeout_s, 0};

	evhttp_set_max_headers_size(srv->http, srv->cfg->max_header_bytes);
	/* the largest body of any endpoint; req.c applies the per-route limit */
	evhttp_set_max_body_size(srv->http, srv->cfg->max_sync_body_bytes);
	evhttp_set_timeout_tv(srv->http, &tv);
}

static void
server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	(void)what;
	if (sig == SIGHUP)
		server_reload(srv);
	else
		server_drain(srv, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void
server_drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (srv->inflight > 0)
		log_warnx("server: %d requests still running after the drain period; exiting",
			  srv->inflight);
	else
		log_info("server: closing %d idle connections", srv->nconns);
	event_base_loopexit(srv->base, NULL);
}

/* Exits the loop once drained; when only connections remain, waits for them
 * at most DRAIN_LINGER_MS. */
static void
server_drain_check(struct server *srv)
{
	struct timeval tv = {DRAIN_LINGER_MS / 1000, (DRAIN_LINGER_MS % 1000) * 1000};

	if (srv->inflight > 0)
		return;
	if (srv->nconns <= 0) {
		event_base_loopexit(srv->base, NULL);
		return;
	}
	if (!srv->lingering && srv->drain_timer != NULL) {
		srv->lingering = 1;
		evtimer_del(srv->drain_timer);
		evtimer_add(srv->drain_timer, &tv);
	}
}

void
server_drain(struct server *srv, const char *why)
{
	struct timeval tv;

	if (srv->state == SERVER_DRAINING)
		return;
	log_info("server: %s: draining %d requests, accepting no more", why, srv->inflight);
	server_set_state(srv, SERVER_DRAINING);
	if (srv->listener != NULL) {
		/* evhttp frees the listener with its bound socket */
		evhttp_del_accept_socket(srv->http, srv->bound);
		srv->listener = NULL;
		srv->bound = NULL;
	}
	tv.tv_sec = srv->cfg->request_timeout_ms / 1000 + 1;
	tv.tv_usec = 0;
	srv->drain_timer = evtimer_new(srv->base, server_drain_timeout_cb, srv);
	if (srv->drain_timer == NULL) {
		event_base_loopexit(srv->base, NULL);
		return;
	}
	evtimer_add(srv->drain_timer, &tv);
	server_drain_check(srv);
}

void
server_request_done(struct server *srv)
{
	srv->inflight--;
	if (srv->state == SERVER_DRAINING)
		server_drain_check(srv);
}

int
server_page_key(const struct config *cfg, unsigned char out[32], char *err, size_t errlen)
{
	unsigned char data[4096];
	unsigned int len = 0;
	size_t n;
	FILE *f;

	if (cfg->page_token_key_file[0] == '\0') {
		if (RAND_bytes(out, 32) != 1) {
			snprintf(err, errlen, "no random bytes for the page token key");
			return -1;
		}
		return 0;
	}
	if ((f = fopen(cfg->page_token_key_file, "rb")) == NULL) {
		snprintf(err, errlen, "page_token_key_file %s: %s", cfg->page_token_key_file,
			 strerror(errno));
		return -1;
	}
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	if (n < 32) {
		snprintf(err, errlen, "page_token_key_file %s: needs at least 32 bytes",
			 cfg->page_token_key_file);
		return -1;
	}
	if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "page_token_key_file: SHA-256 failed");
		return -1;
	}
	OPENSSL_cleanse(data, sizeof(data));
	return 0;
}

void
server_reload(struct server *srv)
{
	unsigned char key[32];
	struct config *ncfg;
	enum log_level level;
	SSL_CTX *nctx = NULL;
	char err[512];

	if (srv->config_path == NULL) {
		log_info("server: SIGHUP: no config file; reloading certificates only");
		if (srv->cfg->tls &&
		    (nctx = server_tls_context(srv->cfg, err, sizeof(err))) == NULL) {
			log_warnx("server: reload failed, keeping the old certificates: %s", err);
			return;
		}
		if (nctx) {
			SSL_CTX_free(srv->ssl_ctx);
			srv->ssl_ctx = nctx;
		}
		auth_cache_clear(srv->auth);
		return;
	}
	if ((ncfg = malloc(sizeof(*ncfg))) == NULL)
		return;
	config_defaults(ncfg);
	if (config_load(ncfg, srv->config_path, err, sizeof(err)) == -1 ||
	    config_check(ncfg, err, sizeof(err)) == -1)
		goto fail;
	if (ncfg->tls && (nctx = server_tls_context(ncfg, err, sizeof(err))) == NULL)
		goto fail;
	if (strcmp(ncfg->page_token_key_file, srv->cfg->page_token_key_file) != 0 ||
	    ncfg->page_token_key_file[0] != '\0') {
		if (server_page_key(ncfg, key, err, sizeof(err)) == -1) {
			SSL_CTX_free(nctx);
			goto fail;
		}
		memcpy(srv->page_key, key, sizeof(key));
		OPENSSL_cleanse(key, sizeof(key));
	}
	if (strcmp(ncfg->listen_addr, srv->cfg->listen_addr) ||
	    ncfg->listen_port != srv->cfg->listen_port || ncfg->tls != srv->cfg->tls ||
	    strcmp(ncfg->db_staff_conninfo, srv->cfg->db_staff_conninfo) ||
	    strcmp(ncfg->db_investor_conninfo, srv->cfg->db_investor_conninfo) ||
	    ncfg->db_pool_size != srv->cfg->db_pool_size)
		log_warnx(
		    "server: listener, tls and database settings take effect on restart only");
	if (log_level_parse(ncfg->log_level, &level) == 0)
		log_set_level(level);
	if (nctx != NULL) {
		/* live connections keep a reference to the old context */
		SSL_CTX_free(srv->ssl_ctx);
		srv->ssl_ctx = nctx;
	}
	/* settings that need a restart keep their running values */
	ncfg->tls = srv->cfg->tls;
	config_free(srv->cfg);
	free(srv->cfg);
	srv->cfg = ncfg;
	server_apply_limits(srv);
	auth_cache_clear(srv->auth);
	log_info("server: configuration and certificates reloaded from %s", srv->config_path);
	return;
fail:
	log_warnx("server: reload failed, keeping the running configuration: %s", err);
	config_free(ncfg);
	free(ncfg);
}

/* Creates our own listener (so that we can pause it) and hands it to evhttp. */
static int
server_listen(struct server *srv, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int sslen = sizeof(ss);
	char addr[128];
	socklen_t len = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (strchr(srv->cfg->listen_addr, ':'))
		snprintf(addr, sizeof(addr), "[%s]:%d", srv->cfg->listen_addr,
			 srv->cfg->listen_port);
	else
		snprintf(addr, sizeof(addr), "%s:%d",
			 strcmp(srv->cfg->listen_addr, "localhost") ? srv->cfg->listen_addr
								    : "127.0.0.1",
			 srv->cfg->listen_port);
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen) == -1) {
		snprintf(err, errlen, "listen_addr '%s' is not an IP address",
			 srv->cfg->listen_addr);
		return -1;
	}
	srv->listener = evconnlistener_new_bind(
	    srv->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    srv->cfg->listen_backlog, (struct sockaddr *)&ss, sslen);
	if (srv->listener == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr, strerror(errno));
		return -1;
	}
	/* Replies are written whole: without TCP_NODELAY, Nagle and the
	 * client's delayed ACK hold back their last segment about 40 ms.
	 * Accepted sockets inherit it from the listening one. */
	{
		int one = 1;

		if (setsockopt(evconnlistener_get_fd(srv->listener), IPPROTO_TCP, TCP_NODELAY, &one,
			       sizeof(one)) == -1)
			log_warn("server: TCP_NODELAY");
	}
	if ((srv->bound = evhttp_bind_listener(srv->http, srv->listener)) == NULL) {
		evconnlistener_free(srv->listener);
		srv->listener = NULL;
		snprintf(err, errlen, "cannot attach the listener to evhttp");
		return -1;
	}
	if (getsockname(evconnlistener_get_fd(srv->listener), (struct sockaddr *)&ss, &len) == 0)
		srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							   : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

struct db_pool_opts
server_pool_opts(const struct config *cfg, const char *name)
{
	struct db_pool_opts o = {
	    .name = name,
	    .size = cfg->db_pool_size,
	    .max_queue = cfg->db_max_queue,
	    .query_timeout_ms = cfg->db_query_timeout_ms,
	    .reconnect_min_ms = cfg->db_reconnect_min_ms,
	    .reconnect_max_ms = cfg->db_reconnect_max_ms,
	    .connect_timeout_ms = cfg->db_connect_timeout_ms,
	    .recycle_bytes = (size_t)cfg->db_recycle_bytes,
	};
	return o;
}

struct server *
server_new(struct event_base *base, struct config *cfg, const char *config_path)
{
	struct db_pool_opts opts;
	struct server *srv;
	char err[512];

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		config_free(cfg);
		free(cfg);
		return NULL;
	}
	srv->base = base;
	srv->cfg = cfg;
	server_live = srv;
	if (config_path && (srv->config_path = strdup(config_path)) == NULL)
		goto fail_msg;
	if (server_ssl_index == -1)
		server_ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, server_ssl_free_cb);
	if (cfg->tls && (srv->ssl_ctx = server_tls_context(cfg, err, sizeof(err))) == NULL)
		goto fail;
	if (server_page_key(cfg, srv->page_key, err, sizeof(err)) == -1)
		goto fail;
	if (cfg->page_token_key_file[0] == '\0')
		log_info("server: page tokens are signed with a key of this process only; set "
			 "page_token_key_file when several daemons serve one registry");
	/* the models load first, blocking, before the pools start to connect
	 * and the listener opens (without them, SQL answers) */
	srv->rms = rmsync_new(srv);
	opts = server_pool_opts(cfg, "staff");
	if ((srv->staff = db_pool_new(base, cfg->db_staff_conninfo, &opts)) == NULL)
		goto fail_msg;
	opts = server_pool_opts(cfg, "investor");
	if ((srv->investor = db_pool_new(base, cfg->db_investor_conninfo, &opts)) == NULL)
		goto fail_msg;
	if ((srv->auth = auth_cache_new(4096)) == NULL || (srv->metrics = metrics_new()) == NULL)
		goto fail_msg;
	if ((srv->http = evhttp_new(base)) == NULL)
		goto fail_msg;
	server_apply_limits(srv);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						  EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						  EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_flags(srv->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_bevcb(srv->http, server_bevcb, srv);
	evhttp_set_gencb(srv->http, req_dispatch, srv);
	if (server_listen(srv, err, sizeof(err)) == -1)
		goto fail;
	srv->sig_term = evsignal_new(base, SIGTERM, server_signal_cb, srv);
	srv->sig_int = evsignal_new(base, SIGINT, server_signal_cb, srv);
	srv->sig_hup = evsignal_new(base, SIGHUP, server_signal_cb, srv);
	if (!srv->sig_term || !srv->sig_int || !srv->sig_hup || evsignal_add(srv->sig_term, NULL) ||
	    evsignal_add(srv->sig_int, NULL) || evsignal_add(srv->sig_hup, NULL))
		goto fail_msg;
	server_set_state(srv, SERVER_RUNNING);
	log_info("server: listening on %s://%s:%d (max_connections %d)",
		 cfg->tls ? "https" : "http", cfg->listen_addr, srv->port, cfg->max_connections);
	return srv;
fail_msg:
	snprintf(err, sizeof(err), "out of resources while starting");
fail:
	log_warnx("server: %s", err);
	server_free(srv);
	return NULL;
}

void
server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	if (server_live == srv)
		server_live = NULL;
	server_set_state(srv, SERVER_STOPPED);
	if (srv->sig_term)
		event_free(srv->sig_term);
	if (srv->sig_int)
		event_free(srv->sig_int);
	if (srv->sig_hup)
		event_free(srv->sig_hup);
	if (srv->drain_timer)
		event_free(srv->drain_timer);
	rmsync_free(srv->rms);
	srv->rms = NULL;
	overview_cache_clear();
	/* Pools first: a request still waiting for the database gets its
	 * DB_UNAVAILABLE callback and replies while its connection exists. */
	if (srv->staff)
		db_pool_free(srv->staff);
	if (srv->investor)
		db_pool_free(srv->investor);
	srv->staff = srv->investor = NULL;
	/* evhttp_free closes every connection and frees a still-bound listener */
	if (srv->http) {
		srv->listener = NULL;
		evhttp_free(srv->http);
	} else if (srv->listener) {
		evconnlistener_free(srv->listener);
	}
	auth_cache_free(srv->auth);
	metrics_free(srv->metrics);
	SSL_CTX_free(srv->ssl_ctx);
	config_free(srv->cfg);
	free(srv->cfg);
	free(srv->config_path);
	free(srv);
}
