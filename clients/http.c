/*
 * http: one libcurl easy handle per session, configured once (TLS, CA,
 * timeout, bearer auth) and reused for every request so that later commands
 * that page through results keep their connection. Owns the handle, the
 * parsed base URL and the last error text; never logs or prints the token.
 */
#include "http.h"
#include "log.h"
#include "print.h"
#include "json.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Decoding may allocate this many times the body, plus a floor. */
#define HTTP_BUDGET_FACTOR 8
#define HTTP_BUDGET_FLOOR  ((size_t)1 << 20)
#define HTTP_ALLOC_HDR	   alignof(max_align_t)

struct client_http {
	CURL *curl;	 /* owned */
	CURLU *base;	 /* owned: the parsed base URL */
	char *base_path; /* owned: its path without trailing '/' */
	char *origin;	 /* owned: "scheme://host:port", for messages */
	char curl_err[CURL_ERROR_SIZE];
	char err[CURL_ERROR_SIZE + 256];
};

/* The remaining allocation budget of one decode. */
struct http_budget {
	size_t left;
	int exceeded; /* an allocation was refused */
};

/* Whether host (as libcurl reports it, IPv6 in brackets) is a loopback address. */
static int
http_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;
	char tmp[64], *zone;
	size_t len = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (len < 3 || host[0] != '[' || host[len - 1] != ']' || len - 2 >= sizeof(tmp))
		return 0;
	memcpy(tmp, host + 1, len - 2);
	tmp[len - 2] = '\0';
	if ((zone = strchr(tmp, '%')) != NULL)
		*zone = '\0';
	return inet_pton(AF_INET6, tmp, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Whether URL part p of u is present. */
static int
http_has_part(CURLU *u, CURLUPart p)
{
	char *s = NULL;
	int has = curl_url_get(u, p, &s, 0) == CURLUE_OK && s != NULL;

	curl_free(s);
	return has;
}

int
client_http_check(const struct client_http_config *cfg, char *err, size_t errlen)
{
	CURLU *u = NULL;
	CURLUcode uc;
	char *scheme = NULL, *host = NULL;
	FILE *f;

	if (cfg->url == NULL || *cfg->url == '\0') {
		snprintf(err, errlen, "no registry URL: set VACANCY_URL or pass --url");
		goto fail;
	}
	if ((u = curl_url()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (strstr(cfg->url, "://") == NULL) {
		snprintf(err, errlen, "the registry URL must start with https://");
		goto fail;
	}
	if ((uc = curl_url_set(u, CURLUPART_URL, cfg->url, 0)) != CURLUE_OK) {
		snprintf(err, errlen, "the registry URL is not valid: %s", curl_url_strerror(uc));
		goto fail;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(err, errlen, "the registry URL is not valid");
		goto fail;
	}
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) {
		snprintf(err, errlen, "the registry URL must start with https://");
		goto fail;
	}
	if (strcmp(scheme, "http") == 0 && !http_loopback(host)) {
		snprintf(err, errlen,
			 "plain http is allowed only for a loopback address; use https://");
		goto fail;
	}
	if (http_has_part(u, CURLUPART_USER) || http_has_part(u, CURLUPART_PASSWORD)) {
		snprintf(err, errlen,
			 "the registry URL must not contain credentials; use VACANCY_TOKEN");
		goto fail;
	}
	if (http_has_part(u, CURLUPART_QUERY) || http_has_part(u, CURLUPART_FRAGMENT)) {
		snprintf(err, errlen, "the registry URL must not contain a query or fragment");
		goto fail;
	}
	for (const char *p = cfg->token; p && *p; p++) {
		if (*p < 0x21 || *p > 0x7e) {
			snprintf(err, errlen,
				 "the token contains characters a bearer token cannot have");
			goto fail;
		}
	}
	if ((cfg->cert == NULL) != (cfg->key == NULL)) {
		snprintf(err, errlen,
			 "a client certificate needs its key: give --cert and --key "
			 "(VACANCY_CERT, VACANCY_KEY) together");
		goto fail;
	}
	{
		const char *files[3] = {cfg->cacert, cfg->cert, cfg->key};
		const char *what[3] = {"CA file", "client certificate", "client key"};

		for (int i = 0; i < 3; i++) {
			if (files[i] == NULL)
				continue;
			if ((f = fopen(files[i], "r")) == NULL) {
				snprintf(err, errlen, "%s %s: %s", what[i], files[i],
					 strerror(errno));
				goto fail;
			}
			fclose(f);
		}
	}
	if (cfg->timeout_s <= 0) {
		snprintf(err, errlen, "the timeout must be positive");
		goto fail;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return 0;
fail:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return -1;
}

/* libcurl write callback: appends to the response body up to the cap. */
static size_t
http_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct client_response *r = arg;
	size_t n = size * nmemb;

	if (n > CLIENT_HTTP_MAX_BODY - r->body.len) {
		r->too_large = 1;
		return 0; /* makes libcurl fail with CURLE_WRITE_ERROR */
	}
	buf_add(&r->body, data, n);
	return buf_failed(&r->body) ? 0 : n;
}

#define HTTP_SETOPT(h, opt, val)                                                                   \
	do {                                                                                       \
		if ((rc = curl_easy_setopt((h)->curl, (opt), (val))) != CURLE_OK)                  \
			goto fail;                                                                 \
	} while (0)

int
client_http_open(struct client_http **out, const struct client_http_config *cfg, char *err,
		 size_t errlen)
{
	struct client_http *h;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	CURLcode rc = CURLE_OK;
	size_t len;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((h->base = curl_url()) == NULL ||
	    curl_url_set(h->base, CURLUPART_URL, cfg->url, 0) != CURLUE_OK ||
	    curl_url_get(h->base, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(h->base, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(h->base, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
	    curl_url_get(h->base, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto fail;
	len = strlen(path);
	while (len > 0 && path[len - 1] == '/')
		len--;
	if ((h->base_path = strndup(path, len)) == NULL)
		goto fail;
	len = strlen(scheme) + strlen(host) + strlen(port) + 5;
	if ((h->origin = malloc(len)) == NULL)
		goto fail;
	snprintf(h->origin, len, "%s://%s:%s", scheme, host, port);
	if ((h->curl = curl_easy_init()) == NULL)
		goto fail;
	HTTP_SETOPT(h, CURLOPT_ERRORBUFFER, h->curl_err);
	HTTP_SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
	HTTP_SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
	HTTP_SETOPT(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cfg->cacert)
		HTTP_SETOPT(h, CURLOPT_CAINFO, cfg->cacert);
	if (cfg->cert) {
		HTTP_SETOPT(h, CURLOPT_SSLCERT, cfg->cert);
		HTTP_SETOPT(h, CURLOPT_SSLKEY, cfg->key);
	}
	HTTP_SETOPT(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	HTTP_SETOPT(h, CURLOPT_TIMEOUT, cfg->timeout_s);
	HTTP_SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	HTTP_SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	HTTP_SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CLIENT_HTTP_MAX_BODY);
	HTTP_SETOPT(h, CURLOPT_WRITEFUNCTION, http_write_cb);
	if (cfg->user_agent)
		HTTP_SETOPT(h, CURLOPT_USERAGENT, cfg->user_agent);
	/* Plain http is loopback only: never hand the token to a proxy in clear. */
	if (strcmp(scheme, "http") == 0)
		HTTP_SETOPT(h, CURLOPT_NOPROXY, "*");
	if (cfg->token && *cfg->token) {
		/* libcurl sends it only to this host, never after a redirect elsewhere. */
		HTTP_SETOPT(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		HTTP_SETOPT(h, CURLOPT_XOAUTH2_BEARER, cfg->token);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	*out = h;
	return 0;
fail:
	snprintf(err, errlen, "cannot set up the HTTP session: %s",
		 rc != CURLE_OK ? curl_easy_strerror(rc) : "out of memory");
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	client_http_close(h);
	return -1;
}

void
client_http_close(struct client_http *h)
{
	if (h == NULL)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_url_cleanup(h->base);
	free(h->base_path);
	free(h->origin);
	free(h);
}

const char *
client_http_error(const struct client_http *h)
{
	return h->err;
}

/* Copies the media type of a Content-Type value, lower-cased, into r. */
static void
http_media_type(struct client_response *r, const char *ct)
{
	size_t n = 0;

	while (ct && *ct == ' ')
		ct++;
	for (; ct && *ct && *ct != ';' && *ct != ' ' && n + 1 < sizeof(r->content_type); ct++)
		r->content_type[n++] = (*ct >= 'A' && *ct <= 'Z') ? (char)(*ct - 'A' + 'a') : *ct;
	r->content_type[n] = '\0';
}

/*
 * One request: GET, or POST of body (len bytes, borrowed) as content_type
 * when content_type is set. See client_http_get for the rest.
 */
static int
http_request(struct client_http *h, const char *path, const char *accept, const char *content_type,
	     const void *body, size_t len, struct client_response *r)
{
	struct curl_slist *headers = NULL, *more;
	CURLU *u = NULL;
	char *full = NULL, *url = NULL, *ct = NULL, accept_hdr[128], ct_hdr[128];
	CURLcode rc = CURLE_OK;
	size_t n;

	h->err[0] = h->curl_err[0] = '\0';
	buf_reset(&r->body);
	r->status = 0;
	r->content_type[0] = '\0';
	r->too_large = 0;
	n = strlen(h->base_path) + strlen(path) + 1;
	if ((full = malloc(n)) == NULL)
		goto oom;
	snprintf(full, n, "%s%s", h->base_path, path);
	if ((u = curl_url_dup(h->base)) == NULL ||
	    curl_url_set(u, CURLUPART_PATH, full, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto oom;
	snprintf(accept_hdr, sizeof(accept_hdr), "Accept: %s", accept);
	if ((more = curl_slist_append(headers, accept_hdr)) == NULL)
		goto oom;
	headers = more;
	if (content_type) {
		snprintf(ct_hdr, sizeof(ct_hdr), "Content-Type: %s", content_type);
		if ((more = curl_slist_append(headers, ct_hdr)) == NULL)
			goto oom;
		headers = more;
		/* no "Expect: 100-continue" round trip before large bodies */
		if ((more = curl_slist_append(headers, "Expect:")) == NULL)
			goto oom;
		headers = more;
	}
	HTTP_SETOPT(h, CURLOPT_URL, url);
	if (content_type) {
		HTTP_SETOPT(h, CURLOPT_POST, 1L);
		HTTP_SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		HTTP_SETOPT(h, CURLOPT_POSTFIELDS, len ? body : "");
	} else {
		HTTP_SETOPT(h, CURLOPT_HTTPGET, 1L);
	}
	HTTP_SETOPT(h, CURLOPT_HTTPHEADER, headers);
	HTTP_SETOPT(h, CURLOPT_WRITEDATA, r);
	rc = curl_easy_perform(h->curl);
	if (rc != CURLE_OK) {
		if (r->too_large || rc == CURLE_FILESIZE_EXCEEDED)
			snprintf(h->err, sizeof(h->err), "%s: the response exceeds %zu MiB",
				 h->origin, CLIENT_HTTP_MAX_BODY >> 20);
		else if (buf_failed(&r->body))
			snprintf(h->err, sizeof(h->err), "out of memory reading the response");
		else
			snprintf(h->err, sizeof(h->err), "%s: %s", h->origin,
				 h->curl_err[0] ? h->curl_err : curl_easy_strerror(rc));
		goto done;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK)
		http_media_type(r, ct);
	goto done;
oom:
	snprintf(h->err, sizeof(h->err), "out of memory");
	rc = CURLE_OUT_OF_MEMORY;
	goto done;
fail:
	snprintf(h->err, sizeof(h->err), "cannot set up the request: %s", curl_easy_strerror(rc));
done:
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	if (content_type) /* the body is borrowed: libcurl must not keep it */
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(headers);
	curl_free(url);
	curl_url_cleanup(u);
	free(full);
	return rc == CURLE_OK ? 0 : -1;
}

int
client_http_get(struct client_http *h, const char *path, const char *accept,
		struct client_response *r)
{
	return http_request(h, path, accept, NULL, NULL, 0, r);
}

int
client_http_post(struct client_http *h, const char *path, const char *content_type,
		 const void *body, size_t len, const char *accept, struct client_response *r)
{
	return http_request(h, path, accept, content_type, body, len, r);
}

char *
client_http_escape(const char *s)
{
	char *e, *copy;

	/* Since libcurl 7.82 the handle argument is unused. */
	if ((e = curl_easy_escape(NULL, s, 0)) == NULL)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}

void
client_response_init(struct client_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, CLIENT_HTTP_MAX_BODY);
}

void
client_response_free(struct client_response *r)
{
	buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * protobuf-c allocator with a budget (allocator_data, NULL for none). Each
 * block carries its size in front so that free can give the budget back.
 */
static void *
http_alloc(void *data, size_t size)
{
	struct http_budget *bg = data;
	unsigned char *p;

	if (size > SIZE_MAX - HTTP_ALLOC_HDR)
		return NULL;
	if (bg && size + HTTP_ALLOC_HDR > bg->left) {
		bg->exceeded = 1;
		return NULL;
	}
	if ((p = malloc(size + HTTP_ALLOC_HDR)) == NULL)
		return NULL;
	memcpy(p, &size, sizeof(size));
	if (bg)
		bg->left -= size + HTTP_ALLOC_HDR;
	return p + HTTP_ALLOC_HDR;
}

/* Frees a block of http_alloc and returns its size to the budget. */
static void
http_free(void *data, void *ptr)
{
	struct http_budget *bg = data;
	unsigned char *p = ptr;
	size_t size;

	if (p == NULL)
		return;
	p -= HTTP_ALLOC_HDR;
	memcpy(&size, p, sizeof(size));
	if (bg)
		bg->left += size + HTTP_ALLOC_HDR;
	free(p);
}

ProtobufCMessage *
client_http_unpack(const struct client_response *r, const ProtobufCMessageDescriptor *d,
		   const char **why)
{
	struct http_budget bg = {HTTP_BUDGET_FLOOR + HTTP_BUDGET_FACTOR * r->body.len, 0};
	ProtobufCAllocator a = {http_alloc, http_free, &bg};
	static const uint8_t empty[1];
	ProtobufCMessage *m;

	m = protobuf_c_message_unpack(d, &a, r->body.len,
				      r->body.data ? (const uint8_t *)r->body.data : empty);
	if (m == NULL)
		*why = bg.exceeded ? "too costly to decode" : "malformed";
	return m;
}

void
client_http_free_message(ProtobufCMessage *m)
{
	ProtobufCAllocator a = {http_alloc, http_free, NULL};

	protobuf_c_message_free_unpacked(m, &a);
}

/*
 * Reports an answer with status >= 400 on stderr: the code and message of
 * its Error body (protobuf or JSON), or the status alone when there is none
 * to read, with hints for a missing token and an endpoint the registry does
 * not offer (what: "METHOD /path", for that hint).
 */
void
client_http_report_error(const struct client_response *r, const struct client_http_config *cfg,
			 const char *what)
{
	Vacancy__V1__Error *e = NULL;
	const char *why = NULL;
	char ct[64], reason[256];

	if (strcmp(r->content_type, CLIENT_HTTP_PROTOBUF) == 0) {
		e = (Vacancy__V1__Error *)client_http_unpack(r, &vacancy__v1__error__descriptor,
							     &why);
		if (e) {
			client_print_error(e, r->status, stderr);
			client_http_free_message(&e->base);
			goto hint;
		}
	} else if (strcmp(r->content_type, CLIENT_HTTP_JSON) == 0) {
		e = (Vacancy__V1__Error *)json_decode(&vacancy__v1__error__descriptor,
						      r->body.data ? r->body.data : "", r->body.len,
						      NULL, 0, reason, sizeof(reason));
		why = reason;
		if (e) {
			client_print_error(e, r->status, stderr);
			protobuf_c_message_free_unpacked(&e->base, NULL);
			goto hint;
		}
	}
	if (why)
		fprintf(stderr, "vacancy: HTTP %ld: unreadable error answer (%s)\n", r->status,
			why);
	else
		fprintf(stderr, "vacancy: HTTP %ld: the answer carries no error details (%s)\n",
			r->status,
			r->content_type[0]
			    ? log_escape(r->content_type, sizeof(r->content_type), ct, sizeof(ct))
			    : "no Content-Type");
hint:
	if (r->status == 401 && (cfg->token == NULL || *cfg->token == '\0') && cfg->cert == NULL)
		fputs("vacancy: no token was sent: set VACANCY_TOKEN or pass --token (or a client "
		      "certificate: --cert, --key)\n",
		      stderr);
	if (r->status == 404 || r->status == 405)
		fprintf(stderr,
			"vacancy: this registry does not offer GET %s (check the URL or the "
			"registry's version)\n",
			what);
}

int
client_http_expect(const struct client_response *r, const struct client_http_config *cfg,
		   const char *what, const char *want)
{
	char shown[128];

	if (r->status >= 400) {
		client_http_report_error(r, cfg, what);
		return -1;
	}
	if (r->status != 200) {
		fprintf(stderr, "vacancy: unexpected answer HTTP %ld%s\n", r->status,
			r->status >= 300 && r->status < 400
			    ? " (redirects are not followed; check the registry URL)"
			    : "");
		return -1;
	}
	if (strcmp(r->content_type, want) != 0) {
		fprintf(stderr, "vacancy: expected %s from the server, got %s\n", want,
			r->content_type[0] ? log_escape(r->content_type, sizeof(r->content_type),
							shown, sizeof(shown))
					   : "no Content-Type");
		return -1;
	}
	return 0;
}
