/*
 * harness: daemons, HTTPS, raw sockets and SQL for the integration tests.
 * Test code: blocking calls are fine here.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static int harness_seq;

const char *
harness_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, "harness: %s is not set; run the tests through tests/run.sh\n",
			name);
		exit(2);
	}
	return v;
}

static void
harness_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* A port nobody listens on right now. */
static int
harness_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd, port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int
harness_daemon_write_config(struct daemon *d, const char *extra)
{
	const char *tls = harness_env("VACANCY_TEST_TLS");
	FILE *f = fopen(d->conf, "w");

	if (f == NULL)
		return -1;
	fprintf(f,
		"listen_addr = 127.0.0.1\n"
		"listen_port = %d\n"
		"tls_cert_file = %s/server.pem\n"
		"tls_key_file = %s/server.key\n"
		"db_staff_conninfo = %s\n"
		"db_investor_conninfo = %s\n"
		"db_pool_size = 2\n"
		"db_reconnect_max_ms = 500\n"
		"log_level = info\n"
		"%s\n",
		d->port, tls, tls, harness_env("VACANCY_TEST_PG_STAFF"),
		harness_env("VACANCY_TEST_PG_INVESTOR"), extra ? extra : "");
	return fclose(f) == 0 ? 0 : -1;
}

int
harness_log_contains(const struct daemon *d, const char *s)
{
	char line[4096];
	int found = 0;
	FILE *f = fopen(d->log, "r");

	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, s) != NULL;
	fclose(f);
	return found;
}

int
harness_daemon_start(struct daemon *d, const char *extra)
{
	const char *wrapper = getenv("VACANCY_TEST_WRAPPER");
	struct http_resp r;
	char *argv[32];
	int argc = 0;

	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s/daemon-%d-%d", harness_env("VACANCY_TEST_WORK"),
		 (int)getpid(), ++harness_seq);
	mkdir(d->dir, 0700);
	snprintf(d->conf, sizeof(d->conf), "%s/vacancyd.conf", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/vacancyd.log", d->dir);
	if ((d->port = harness_free_port()) < 0 || harness_daemon_write_config(d, extra) == -1)
		return -1;
	if ((d->pid = fork()) == -1)
		return -1;
	if (d->pid == 0) {
		int fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char *w = wrapper ? strdup(wrapper) : NULL;

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		for (char *tok = w ? strtok(w, " ") : NULL; tok && argc < 24;
		     tok = strtok(NULL, " "))
			argv[argc++] = tok;
		argv[argc++] = (char *)harness_env("VACANCY_TEST_VACANCYD");
		argv[argc++] = "-f";
		argv[argc++] = d->conf;
		argv[argc] = NULL;
		execvp(argv[0], argv);
		_exit(127);
	}
	/* up to 30 s: valgrind starts slowly */
	for (int i = 0; i < 300; i++) {
		int status;

		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr, "harness: vacancyd exited at start (status %d); see %s\n",
				status, d->log);
			d->pid = 0;
			return -1;
		}
		if (harness_http(d, "GET", "/healthz", NULL, NULL, NULL, NULL, 0, NULL, &r) == 0) {
			harness_resp_free(&r);
			return 0;
		}
		harness_resp_free(&r);
		harness_sleep_ms(100);
	}
	fprintf(stderr, "harness: vacancyd does not answer; see %s\n", d->log);
	return -1;
}

int
harness_daemon_wait_healthy(const struct daemon *d, int timeout_ms)
{
	struct http_resp r;

	for (int waited = 0; waited <= timeout_ms; waited += 100) {
		if (harness_http(d, "GET", "/healthz", NULL, NULL, NULL, NULL, 0, NULL, &r) == 0 &&
		    r.status == 200) {
			harness_resp_free(&r);
			return 0;
		}
		harness_resp_free(&r);
		harness_sleep_ms(100);
	}
	return -1;
}

int
harness_daemon_stop(struct daemon *d)
{
	int status;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	for (int i = 0; i < 300; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			if (WIFEXITED(status))
				return WEXITSTATUS(status);
			return 128 + WTERMSIG(status);
		}
		harness_sleep_ms(100);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	return -1;
}

struct harness_sink {
	struct http_resp *r;
	size_t cap;
};

static size_t
harness_body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct harness_sink *s = arg;
	size_t add = size * n;

	if (s->r->len + add + 1 > s->cap) {
		size_t ncap = (s->r->len + add + 1) * 2;
		char *nb = realloc(s->r->body, ncap);

		if (nb == NULL)
			return 0;
		s->r->body = nb;
		s->cap = ncap;
	}
	memcpy(s->r->body + s->r->len, p, add);
	s->r->len += add;
	s->r->body[s->r->len] = '\0';
	return add;
}

static size_t
harness_header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct http_resp *r = arg;
	size_t add = size * n, have = strlen(r->headers);

	if (have + add + 1 < sizeof(r->headers)) {
		memcpy(r->headers + have, p, add);
		r->headers[have + add] = '\0';
	}
	if (add > 14 && strncasecmp(p, "Content-Type:", 13) == 0) {
		size_t k = add - 14;

		while (k > 0 && (p[14 + k - 1] == '\r' || p[14 + k - 1] == '\n'))
			k--;
		snprintf(r->content_type, sizeof(r->content_type), "%.*s", (int)k, p + 14);
	}
	return add;
}

/* The client certificate harness_http presents (harness_client_cert). */
static char client_cert[600], client_key[600];

void
harness_client_cert(const char *cert, const char *key)
{
	snprintf(client_cert, sizeof(client_cert), "%s", cert != NULL ? cert : "");
	snprintf(client_key, sizeof(client_key), "%s", key != NULL ? key : "");
}

/* One request on handle c (reset first: an open connection is kept). */
static int
harness_perform(CURL *c, const struct daemon *d, const char *method, const char *path,
		const char *token, const char *accept, const char *content_type, const void *body,
		size_t len, const char *extra_header, long timeout_ms, struct http_resp *out)
{
	struct harness_sink sink = {out, 0};
	struct curl_slist *hdrs = NULL;
	char url[8192], h[8192], ca[600];
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	curl_easy_reset(c);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", d->port, path);
	snprintf(ca, sizeof(ca), "%s/ca.pem", harness_env("VACANCY_TEST_TLS"));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	if (client_cert[0]) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, client_cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, client_key);
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, harness_body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, harness_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	if (token) {
		snprintf(h, sizeof(h), "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (accept) {
		snprintf(h, sizeof(h), "Accept: %s", accept);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (content_type) {
		snprintf(h, sizeof(h), "Content-Type: %s", content_type);
		hdrs = curl_slist_append(hdrs, h);
	}
	if (extra_header)
		hdrs = curl_slist_append(hdrs, extra_header);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	rc = curl_easy_perform(c);
	out->curl_error = (int)rc;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(hdrs);
	if (out->body == NULL && (out->body = calloc(1, 1)) == NULL)
		return -1;
	return rc == CURLE_OK ? 0 : -1;
}

int
harness_http(const struct daemon *d, const char *method, const char *path, const char *token,
	     const char *accept, const char *content_type, const void *body, size_t len,
	     const char *extra_header, struct http_resp *out)
{
	CURL *c = curl_easy_init();
	int rc;

	if (c == NULL) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	rc = harness_perform(c, d, method, path, token, accept, content_type, body, len,
			     extra_header, 20000L, out);
	curl_easy_cleanup(c);
	return rc;
}

int
harness_http_keep(void **conn, const struct daemon *d, const char *method, const char *path,
		  const char *token, const char *accept, const char *content_type, const void *body,
		  size_t len, struct http_resp *out)
{
	if (*conn == NULL && (*conn = curl_easy_init()) == NULL) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return harness_perform(*conn, d, method, path, token, accept, content_type, body, len, NULL,
			       30000L, out);
}

void
harness_http_close(void **conn)
{
	if (*conn != NULL)
		curl_easy_cleanup(*conn);
	*conn = NULL;
}

void
harness_resp_free(struct http_resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* A connected loopback socket or -1. */
static int
harness_connect(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

ssize_t
harness_raw_tcp(int port, const void *req, size_t len, char *out, size_t outlen, int timeout_ms)
{
	int fd = harness_connect(port);
	size_t got = 0;

	if (fd < 0)
		return -1;
	if (write(fd, req, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	while (got + 1 < outlen) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		if ((n = read(fd, out + got, outlen - 1 - got)) <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	close(fd);
	return (ssize_t)got;
}

void *
harness_tls_open(int port)
{
	char ca[600];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	int fd = -1;

	snprintf(ca, sizeof(ca), "%s/ca.pem", harness_env("VACANCY_TEST_TLS"));
	if (ctx == NULL || SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((fd = harness_connect(port)) < 0 || (ssl = SSL_new(ctx)) == NULL)
		goto fail;
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		goto fail;
	SSL_CTX_free(ctx); /* the SSL holds a reference */
	return ssl;
fail:
	ERR_clear_error();
	if (ssl)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	return NULL;
}

void
harness_tls_close(void *p)
{
	SSL *ssl = p;
	int fd;

	if (ssl == NULL)
		return;
	fd = SSL_get_fd(ssl);
	SSL_free(ssl);
	close(fd);
}

int
harness_tls_serial(int port, char *out, size_t outlen)
{
	SSL *ssl = harness_tls_open(port);
	X509 *cert;
	BIGNUM *bn;
	char *hex;
	int rc = -1;

	if (ssl == NULL)
		return -1;
	if ((cert = SSL_get1_peer_certificate(ssl)) != NULL) {
		if ((bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), NULL)) != NULL) {
			if ((hex = BN_bn2hex(bn)) != NULL) {
				snprintf(out, outlen, "%s", hex);
				OPENSSL_free(hex);
				rc = 0;
			}
			BN_free(bn);
		}
		X509_free(cert);
	}
	harness_tls_close(ssl);
	return rc;
}

PGconn *
harness_pg(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);

	if (PQstatus(c) != CONNECTION_OK)
		fprintf(stderr, "harness: %s", PQerrorMessage(c));
	return c;
}

int
harness_sql(const char *sql)
{
	PGconn *c = harness_pg(harness_env("VACANCY_TEST_PG_CONNINFO"));
	PGresult *res = PQexec(c, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "harness: SQL failed: %s", PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	return ok ? 0 : -1;
}

char *
harness_sql_value(const char *sql)
{
	PGconn *c = harness_pg(harness_env("VACANCY_TEST_PG_CONNINFO"));
	PGresult *res = PQexec(c, sql);
	char *v = NULL;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
		v = strdup(PQgetvalue(res, 0, 0));
	else if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fprintf(stderr, "harness: SQL failed: %s", PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	return v;
}

int
harness_run(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	size_t got = 0, n;
	int status;

	if (p == NULL)
		return -1;
	if (out != NULL && outlen > 0) {
		while (got + 1 < outlen && (n = fread(out + got, 1, outlen - 1 - got, p)) > 0)
			got += n;
		out[got] = '\0';
	}
	while (fgetc(p) != EOF)
		;
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *
harness_token(const struct daemon *d, const char *role, const char *scope)
{
	char cmd[2048], out[256];

	snprintf(cmd, sizeof(cmd), "%s -f %s token create --role %s --scope '%s' 2>/dev/null",
		 harness_env("VACANCY_TEST_VACANCYD"), d->conf, role, scope);
	if (harness_run(cmd, out, sizeof(out)) != 0)
		return NULL;
	out[strcspn(out, "\n")] = '\0';
	return strdup(out);
}

long
harness_metric(const struct daemon *d, const char *name)
{
	struct http_resp r;
	char line[256];
	const char *p;
	long n = -1;

	snprintf(line, sizeof(line), "\n%s ", name);
	if (harness_http(d, "GET", "/metrics", NULL, NULL, NULL, NULL, 0, NULL, &r) == 0 &&
	    r.body != NULL && (p = strstr(r.body, line)) != NULL)
		n = atol(p + strlen(line));
	harness_resp_free(&r);
	return n;
}
