/*
 * http: the client's session with the registry, on libcurl. TLS peer and host
 * verification are always on; plain http is accepted only for a loopback
 * address. Responses are read into memory up to CLIENT_HTTP_MAX_BODY and
 * protobuf bodies are decoded under an allocation budget.
 */
#ifndef VACANCY_CLIENT_HTTP_H
#define VACANCY_CLIENT_HTTP_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "buf.h"

#define CLIENT_HTTP_MAX_BODY ((size_t)64 << 20)
#define CLIENT_HTTP_PROTOBUF "application/x-protobuf"
#define CLIENT_HTTP_JSON     "application/json"

/* What a session needs; every pointer is borrowed for the call only. */
struct client_http_config {
	const char *url;	/* base URL, e.g. https://127.0.0.1:8443 or https://host/registry */
	const char *token;	/* bearer token, or NULL to send none */
	const char *cacert;	/* CA file, or NULL for the system store */
	const char *cert;	/* client certificate (PEM), or NULL */
	const char *key;	/* its private key (PEM); needed with cert */
	const char *user_agent; /* e.g. "vacancy/0.1.0" */
	long timeout_s;		/* for a whole request, connect included */
};

struct client_http;

struct client_response {
	long status;		/* HTTP status */
	char content_type[128]; /* media type, lower case, parameters dropped; "" if none */
	struct buf body;	/* owned */
	int too_large;		/* the body passed CLIENT_HTTP_MAX_BODY */
};

/*
 * Checks cfg without touching the network: URL syntax, scheme (https, or
 * http for loopback only), no credentials, query or fragment in the URL, a
 * token of visible ASCII, a readable CA file, a client certificate only with
 * its key and both readable. Returns 0, or -1 with a reason
 * in err (which never repeats the URL or the token).
 */
int client_http_check(const struct client_http_config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Opens a session for a configuration that passed client_http_check. *out is
 * owned by the caller (client_http_close). Returns 0, or -1 with err filled.
 */
int client_http_open(struct client_http **out, const struct client_http_config *cfg, char *err,
		     size_t errlen) __attribute__((warn_unused_result));
void client_http_close(struct client_http *h);

/*
 * Sends GET base-path + path (path already escaped, starting with '/') with
 * "Accept: accept" and reads the answer into r, which must have been set up
 * with client_response_init. Any HTTP status counts as success; -1 means no
 * complete answer (transport, TLS, timeout, body too large), with the reason
 * in client_http_error(h).
 */
int client_http_get(struct client_http *h, const char *path, const char *accept,
		    struct client_response *r) __attribute__((warn_unused_result));
/*
 * Sends POST base-path + path with body (len bytes, borrowed for the call)
 * as content_type, "Accept: accept", and reads the answer into r, like
 * client_http_get. -1 means no complete answer; r->too_large tells a body
 * over the cap from a transport failure (which a caller may retry).
 */
int client_http_post(struct client_http *h, const char *path, const char *content_type,
		     const void *body, size_t len, const char *accept, struct client_response *r)
    __attribute__((warn_unused_result));
/*
 * Checks an answer that is to carry a message of type want: a status over
 * 399 is reported with the server's Error (client_http_report_error, what
 * names the request), anything but 200 and another media type are reported
 * too. 0 when the body can be read, else -1 (r->status tells which).
 */
int client_http_expect(const struct client_response *r, const struct client_http_config *cfg,
		       const char *what, const char *want);

/* The reason of the last failure of h, for "vacancy: %s". */
const char *client_http_error(const struct client_http *h);

/* Percent-encodes s for use as one path segment; owned by the caller, NULL on failure. */
char *client_http_escape(const char *s);

void client_response_init(struct client_response *r);
void client_response_free(struct client_response *r);

/*
 * Decodes r's body as a message of type d, allocating at most a fixed
 * multiple of the body size. Returns a message owned by the caller, to be
 * released with client_http_free_message, or NULL with *why set to a static
 * reason (malformed, or too costly to decode).
 */
ProtobufCMessage *client_http_unpack(const struct client_response *r,
				     const ProtobufCMessageDescriptor *d, const char **why);
void client_http_free_message(ProtobufCMessage *m);

void client_http_report_error(const struct client_response *r, const struct client_http_config *cfg,
			      const char *what);

#endif
