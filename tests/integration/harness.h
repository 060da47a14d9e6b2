/*
 * harness: what the integration tests need. The environment prepared by
 * tests/run.sh (a throwaway cluster, TLS material, binaries), the real
 * vacancyd started on a free port with a config of the test's choosing,
 * HTTPS requests through libcurl, raw TCP and TLS for the transport limits,
 * and SQL as the cluster's admin for fixtures and for checking the database.
 */
#ifndef VACANCY_HARNESS_H
#define VACANCY_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <libpq-fe.h>

struct daemon {
	pid_t pid;
	int port;
	char dir[512];
	char conf[600];
	char log[600];
};

struct http_resp {
	long status;
	char *body; /* NUL-terminated, owned */
	size_t len;
	char content_type[128];
	char headers[8192];
	int curl_error; /* CURLcode; 0 when a response was read */
};

/* An environment variable tests/run.sh sets; aborts the run if missing. */
const char *harness_env(const char *name);

/*
 * Starts vacancyd with the standard test config plus the lines in extra (may
 * be NULL) and waits until it answers /healthz (any status). 0 or -1.
 */
int harness_daemon_start(struct daemon *d, const char *extra);
/* Waits until /healthz says 200 (at most timeout_ms); 0 or -1. */
int harness_daemon_wait_healthy(const struct daemon *d, int timeout_ms);
/* SIGTERM and wait; returns the exit status (0 is a clean exit), -1 on error. */
int harness_daemon_stop(struct daemon *d);
/* Rewrites the config (standard lines plus extra); the daemon is not told. */
int harness_daemon_write_config(struct daemon *d, const char *extra);
/* 1 when the daemon's log contains s. */
int harness_log_contains(const struct daemon *d, const char *s);

/*
 * One HTTPS request to the daemon. token, accept, content_type and body may
 * be NULL. extra_header is one more "Name: value" line or NULL. Returns 0
 * when a response arrived (see out->status), -1 otherwise.
 */
int harness_http(const struct daemon *d, const char *method, const char *path, const char *token,
		 const char *accept, const char *content_type, const void *body, size_t len,
		 const char *extra_header, struct http_resp *out);
void harness_resp_free(struct http_resp *r);
/*
 * From now on harness_http and harness_http_keep present this TLS client
 * certificate and key (PEM files); NULL, NULL presents none again.
 */
void harness_client_cert(const char *cert, const char *key);
/*
 * As harness_http, over a connection kept open between requests in *conn
 * (NULL at first; the handle is made then); harness_http_close ends it.
 */
int harness_http_keep(void **conn, const struct daemon *d, const char *method, const char *path,
		      const char *token, const char *accept, const char *content_type,
		      const void *body, size_t len, struct http_resp *out);
void harness_http_close(void **conn);

/* Plain TCP: sends req, reads until close or timeout; returns bytes read or -1. */
ssize_t harness_raw_tcp(int port, const void *req, size_t len, char *out, size_t outlen,
			int timeout_ms);
/* Opens a TLS connection (verified); returns the SSL* cast to void* or NULL. */
void *harness_tls_open(int port);
void harness_tls_close(void *ssl);
/* The serial number (hex) of the certificate the daemon presents; 0 or -1. */
int harness_tls_serial(int port, char *out, size_t outlen);

/* SQL as the cluster admin. harness_sql returns 0 on success. */
int harness_sql(const char *sql);
/* The first value of the first row (malloc'd) or NULL. */
char *harness_sql_value(const char *sql);
/* A connection as the given conninfo (for role checks); caller PQfinish()es. */
PGconn *harness_pg(const char *conninfo);

/* Creates a token with `vacancyd token create`; malloc'd, or NULL. */
char *harness_token(const struct daemon *d, const char *role, const char *scope);
/* The value of one Prometheus line "name value" of GET /metrics, or -1. */
long harness_metric(const struct daemon *d, const char *name);

/* Runs a shell command, returns its exit status; output (if out) captured. */
int harness_run(const char *cmd, char *out, size_t outlen);

/*
 * Replaces all records with the fixtures of test_http.c: eleven records that
 * cover every rule of investor visibility, with every field set and the
 * values of INTERNAL and PERSONAL fields marked "SECRET-...".
 */
int fixtures_load(void);

#endif
