/*
 * config: one declarative table of every setting, and the parser of the
 * "name = value" file format. Sizes take K/M/G suffixes (powers of 1024);
 * booleans are on/off, yes/no, true/false, 1/0.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

enum config_type { CONFIG_INT, CONFIG_SIZE, CONFIG_BOOL, CONFIG_STRING };

struct config_entry {
	const char *name;
	enum config_type type;
	size_t offset;
	long min, max;
	const char *def;
	const char *help;
};

#define CF(field) offsetof(struct config, field)

static const struct config_entry config_table[] = {
    {"listen_addr", CONFIG_STRING, CF(listen_addr), 0, 0, "127.0.0.1", "address to listen on"},
    {"listen_port", CONFIG_INT, CF(listen_port), 0, 65535, "8443", "TCP port (0: any free port)"},
    {"listen_backlog", CONFIG_INT, CF(listen_backlog), 1, 65535, "511", "listen(2) backlog"},
    {"tls", CONFIG_BOOL, CF(tls), 0, 1, "on",
     "serve HTTPS; off is allowed only on a loopback address"},
    {"tls_cert_file", CONFIG_STRING, CF(tls_cert_file), 0, 0, "", "server certificate chain (PEM)"},
    {"tls_key_file", CONFIG_STRING, CF(tls_key_file), 0, 0, "", "server private key (PEM)"},
    {"tls_client_ca_file", CONFIG_STRING, CF(tls_client_ca_file), 0, 0, "",
     "CA certificates (PEM) whose client certificates are credentials; empty: tokens only"},
    {"tls_client_verify_depth", CONFIG_INT, CF(tls_client_verify_depth), 1, 10, "2",
     "most CA certificates between a client certificate and tls_client_ca_file"},
    {"tls_client_crl_file", CONFIG_STRING, CF(tls_client_crl_file), 0, 0, "",
     "revocation lists (PEM) of the client CAs, one for every CA of a chain: a certificate "
     "or intermediate they name gets no TLS session, nor does any chain while one of its "
     "lists is missing or past its next update; empty: not checked"},
    {"db_staff_conninfo", CONFIG_STRING, CF(db_staff_conninfo), 0, 0, "",
     "libpq conninfo of the role for municipality and county requests"},
    {"db_investor_conninfo", CONFIG_STRING, CF(db_investor_conninfo), 0, 0, "",
     "libpq conninfo of the role for investor requests (sees only the public view)"},
    {"db_pool_size", CONFIG_INT, CF(db_pool_size), 1, 256, "4", "connections per database pool"},
    {"db_max_queue", CONFIG_INT, CF(db_max_queue), 1, 1000000, "1024",
     "queries that may wait for a connection; beyond it requests get 503"},
    {"db_query_timeout_ms", CONFIG_INT, CF(db_query_timeout_ms), 10, 3600000, "10000",
     "deadline of one database query"},
    {"db_connect_timeout_ms", CONFIG_INT, CF(db_connect_timeout_ms), 100, 600000, "5000",
     "deadline of one connection attempt"},
    {"db_reconnect_min_ms", CONFIG_INT, CF(db_reconnect_min_ms), 1, 600000, "100",
     "first reconnect backoff"},
    {"db_reconnect_max_ms", CONFIG_INT, CF(db_reconnect_max_ms), 1, 600000, "5000",
     "reconnect backoff cap"},
    {"db_recycle_bytes", CONFIG_SIZE, CF(db_recycle_bytes), 0, 1073741824, "4M",
     "a database connection that sent a query this large is opened anew (libpq's buffers "
     "only grow); 0: never"},
    {"max_connections", CONFIG_INT, CF(max_connections), 1, 1000000, "4096",
     "client connections; at the limit the listener pauses"},
    {"max_header_bytes", CONFIG_SIZE, CF(max_header_bytes), 1024, 1048576, "16K",
     "request line plus headers"},
    {"max_body_bytes", CONFIG_SIZE, CF(max_body_bytes), 1024, 1073741824, "64K",
     "request body, all endpoints except sync"},
    {"max_sync_body_bytes", CONFIG_SIZE, CF(max_sync_body_bytes), 1024, 1073741824, "16M",
     "request body of POST /v1/sync"},
    {"max_sync_records", CONFIG_INT, CF(max_sync_records), 1, 1000000, "10000",
     "records per transfer"},
    {"max_sync_errors", CONFIG_INT, CF(max_sync_errors), 1, 1000000, "10000",
     "validation errors listed in one answer; the rest are counted"},
    {"decode_budget_factor", CONFIG_INT, CF(decode_budget_factor), 1, 64, "8",
     "decoded message memory may be at most this many times the body size"},
    {"max_json_depth", CONFIG_INT, CF(max_json_depth), 4, 256, "32", "nesting of JSON bodies"},
    {"request_timeout_ms", CONFIG_INT, CF(request_timeout_ms), 10, 3600000, "30000",
     "deadline of one request from its handler's start"},
    {"idle_timeout_s", CONFIG_INT, CF(idle_timeout_s), 1, 86400, "60",
     "read/write timeout of a connection (also bounds slow headers and TLS handshakes)"},
    {"max_page_size", CONFIG_INT, CF(max_page_size), 1, 10000, "500", "records per search page"},
    {"max_search_radius_m", CONFIG_INT, CF(max_search_radius_m), 1, 20000000, "100000",
     "largest radius of a search around a point, in metres"},
    {"max_export_records", CONFIG_INT, CF(max_export_records), 1, 100000000, "100000",
     "records one GeoJSON export may hold; more is refused before streaming"},
    {"read_model", CONFIG_BOOL, CF(read_model), 0, 1, "on",
     "answer investor searches and fetches from the in-memory read model"},
    {"read_model_refresh_ms", CONFIG_INT, CF(read_model_refresh_ms), 1, 60000, "50",
     "how often the read model reads the change feed (the delay other daemons see)"},
    {"read_model_batch", CONFIG_INT, CF(read_model_batch), 100, 10000000, "50000",
     "changes the read model reads in one query"},
    {"read_model_wait_ms", CONFIG_INT, CF(read_model_wait_ms), 0, 60000, "2000",
     "longest a sync waits for the read model to show it before answering"},
    {"overview_cache_ms", CONFIG_INT, CF(overview_cache_ms), 0, 3600000, "1000",
     "how long a computed overview is reused while the registry does not change (0: "
     "never); it bounds how late a transfer that changed nothing shows as the last one"},
    {"page_token_ttl_s", CONFIG_INT, CF(page_token_ttl_s), 1, 86400, "3600",
     "how long a search's page token stays valid (the database keeps versions a day)"},
    {"page_token_key_file", CONFIG_STRING, CF(page_token_key_file), 0, 0, "",
     "file of at least 32 bytes that signs page tokens; the same for every daemon of a "
     "registry (empty: a random key per process)"},
    {"auth_cache_ttl_ms", CONFIG_INT, CF(auth_cache_ttl_ms), 0, 3600000, "5000",
     "how long a verified token is trusted without asking the database (revocation delay)"},
    {"stale_after_days", CONFIG_INT, CF(stale_after_days), 1, 36500, "365",
     "a record not verified for this long counts as stale"},
    {"overdue_after_days", CONFIG_INT, CF(overdue_after_days), 1, 36500, "90",
     "a municipality without a transfer for this long is overdue"},
    {"metrics_allow", CONFIG_STRING, CF(metrics_allow), 0, 0, "loopback",
     "who may read /metrics: loopback or any"},
    {"log_level", CONFIG_STRING, CF(log_level), 0, 0, "info", "error, warn, info or debug"},
    {"pid_file", CONFIG_STRING, CF(pid_file), 0, 0, "", "write the daemon's pid here"},
};

#define CONFIG_N (sizeof(config_table) / sizeof(config_table[0]))

static const struct config_entry *
config_find(const char *name)
{
	for (size_t i = 0; i < CONFIG_N; i++)
		if (strcmp(config_table[i].name, name) == 0)
			return &config_table[i];
	return NULL;
}

/* Parses a decimal integer with an optional K/M/G suffix (for sizes). */
static int
config_parse_number(const char *s, int allow_suffix, long *out)
{
	char *end;
	long v, mul = 1;

	if (!isdigit((unsigned char)s[0]) && s[0] != '-')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (allow_suffix && *end) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			mul = 1024L;
			break;
		case 'M':
			mul = 1024L * 1024;
			break;
		case 'G':
			mul = 1024L * 1024 * 1024;
			break;
		default:
			return -1;
		}
		end++;
		if (toupper((unsigned char)*end) == 'B' || toupper((unsigned char)*end) == 'I')
			end++;
	}
	if (*end)
		return -1;
	if (v > LONG_MAX / mul || v < LONG_MIN / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int
config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"on", "yes", "true", "1"};
	static const char *const no[] = {"off", "no", "false", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

void
config_defaults(struct config *cfg)
{
	char err[128];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < CONFIG_N; i++)
		if (config_set(cfg, config_table[i].name, config_table[i].def, err, sizeof(err)))
			abort(); /* a default outside its own bounds is a programming error */
}

void
config_free(struct config *cfg)
{
	for (size_t i = 0; i < CONFIG_N; i++) {
		if (config_table[i].type == CONFIG_STRING) {
			char **p = (char **)((char *)cfg + config_table[i].offset);
			free(*p);
			*p = NULL;
		}
	}
}

int
config_set(struct config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
	const struct config_entry *e = config_find(name);
	char *base = (char *)cfg;
	long v;

	if (e == NULL) {
		snprintf(err, errlen, "unknown setting '%.64s'", name);
		return -1;
	}
	switch (e->type) {
	case CONFIG_INT:
	case CONFIG_SIZE:
		if (config_parse_number(value, e->type == CONFIG_SIZE, &v) == -1) {
			snprintf(err, errlen, "%s: '%.64s' is not a %s", name, value,
				 e->type == CONFIG_SIZE ? "size (e.g. 64K, 16M)" : "whole number");
			return -1;
		}
		if (v < e->min || v > e->max) {
			snprintf(err, errlen, "%s: %ld is outside %ld..%ld", name, v, e->min,
				 e->max);
			return -1;
		}
		if (e->type == CONFIG_INT)
			*(int *)(base + e->offset) = (int)v;
		else
			*(long *)(base + e->offset) = v;
		return 0;
	case CONFIG_BOOL:
		if (config_parse_bool(value, (int *)(base + e->offset)) == -1) {
			snprintf(err, errlen, "%s: '%.64s' is not on/off", name, value);
			return -1;
		}
		return 0;
	case CONFIG_STRING: {
		char **p = (char **)(base + e->offset);
		char *copy = strdup(value);

		if (copy == NULL) {
			snprintf(err, errlen, "%s: out of memory", name);
			return -1;
		}
		free(*p);
		*p = copy;
		return 0;
	}
	}
	snprintf(err, errlen, "%s: bad table entry", name);
	return -1;
}

/* Trims leading and trailing blanks in place; returns the new start. */
static char *
config_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Cuts a '#' comment off line, except inside a double-quoted value. */
static void
config_strip_comment(char *line)
{
	int quoted = 0;

	for (char *p = line; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '#' && !quoted) {
			*p = '\0';
			return;
		}
	}
}

int
config_parse(struct config *cfg, const char *text, char *err, size_t errlen)
{
	char *copy, *line, *next, *eq, *name, *value, reason[256];
	int lineno = 0, rc = -1;

	if ((copy = strdup(text)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		config_strip_comment(line);
		line = config_trim(line);
		if (*line == '\0')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			snprintf(err, errlen, "line %d: expected 'name = value'", lineno);
			goto fail;
		}
		*eq = '\0';
		name = config_trim(line);
		value = config_trim(eq + 1);
		if (value[0] == '"' && strlen(value) >= 2 && value[strlen(value) - 1] == '"') {
			value[strlen(value) - 1] = '\0';
			value++;
		}
		if (config_set(cfg, name, value, reason, sizeof(reason)) == -1) {
			snprintf(err, errlen, "line %d: %s", lineno, reason);
			goto fail;
		}
	}
	rc = 0;
fail:
	free(copy);
	return rc;
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct buf b;
	char chunk[4096], reason[256];
	size_t n;
	FILE *f;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&b, 1 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(f) || buf_failed(&b)) {
		snprintf(err, errlen, "%s: cannot read (or larger than 1 MiB)", path);
		fclose(f);
		buf_free(&b);
		return -1;
	}
	fclose(f);
	rc = config_parse(cfg, b.data ? b.data : "", reason, sizeof(reason));
	if (rc == -1)
		snprintf(err, errlen, "%s: %s", path, reason);
	buf_free(&b);
	return rc;
}

/* 1 when addr is a loopback address literal or "localhost". */
static int
config_is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	       strcmp(addr, "localhost") == 0;
}

int
config_check(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->tls && (!*cfg->tls_cert_file || !*cfg->tls_key_file)) {
		snprintf(err, errlen, "tls is on but tls_cert_file or tls_key_file is not set");
		return -1;
	}
	if (*cfg->tls_client_crl_file && !*cfg->tls_client_ca_file) {
		snprintf(err, errlen,
			 "tls_client_crl_file is set but tls_client_ca_file is not: "
			 "revocation lists need the client CAs");
		return -1;
	}
	if (!cfg->tls && *cfg->tls_client_ca_file) {
		snprintf(err, errlen,
			 "tls_client_ca_file is set but tls is off: client "
			 "certificates need TLS");
		return -1;
	}
	if (!cfg->tls && !config_is_loopback(cfg->listen_addr)) {
		snprintf(err, errlen,
			 "tls = off is allowed only on a loopback address, not on '%.64s'",
			 cfg->listen_addr);
		return -1;
	}
	if (!*cfg->db_staff_conninfo || !*cfg->db_investor_conninfo) {
		snprintf(err, errlen, "db_staff_conninfo and db_investor_conninfo must be set");
		return -1;
	}
	if (cfg->db_reconnect_min_ms > cfg->db_reconnect_max_ms) {
		snprintf(err, errlen, "db_reconnect_min_ms is larger than db_reconnect_max_ms");
		return -1;
	}
	if (cfg->max_body_bytes > cfg->max_sync_body_bytes) {
		snprintf(err, errlen, "max_body_bytes is larger than max_sync_body_bytes");
		return -1;
	}
	if (strcmp(cfg->metrics_allow, "loopback") != 0 && strcmp(cfg->metrics_allow, "any") != 0) {
		snprintf(err, errlen, "metrics_allow must be loopback or any");
		return -1;
	}
	if (strcmp(cfg->log_level, "error") && strcmp(cfg->log_level, "warn") &&
	    strcmp(cfg->log_level, "info") && strcmp(cfg->log_level, "debug")) {
		snprintf(err, errlen, "log_level must be error, warn, info or debug");
		return -1;
	}
	return 0;
}

/*
 * Copies a libpq conninfo with its secrets replaced by "***": the value of
 * every password= keyword (quoted or not) and the password in the userinfo
 * of a postgresql:// URI. Returns out.
 */
static const char *
config_mask_conninfo(const char *s, char *out, size_t outlen)
{
	struct buf b;
	const char *p = s, *at, *colon, *slash;

	buf_init(&b, outlen - 1);
	if ((p = strstr(s, "://")) != NULL) {
		slash = strchr(p + 3, '/');
		at = strchr(p + 3, '@');
		colon = strchr(p + 3, ':');
		if (at != NULL && (slash == NULL || at < slash) && colon != NULL && colon < at) {
			buf_add(&b, s, (size_t)(colon + 1 - s));
			buf_adds(&b, "***");
			s = at;
		}
	}
	for (p = s; *p;) {
		const char *k = strstr(p, "password");
		const char *v;

		if (k == NULL) {
			buf_adds(&b, p);
			break;
		}
		for (v = k + 8; *v == ' ' || *v == '\t'; v++)
			;
		if (*v != '=') {
			buf_add(&b, p, (size_t)(v - p));
			p = v;
			continue;
		}
		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		buf_add(&b, p, (size_t)(v - p));
		buf_adds(&b, "***");
		if (*v == '\'') {
			for (v++; *v && *v != '\''; v++)
				if (*v == '\\' && v[1])
					v++;
			if (*v)
				v++;
		} else {
			while (*v && *v != ' ' && *v != '\t') {
				if (*v == '\\' && v[1])
					v++; /* libpq: a backslash escapes the next character */
				v++;
			}
		}
		p = v;
	}
	snprintf(out, outlen, "%s", buf_failed(&b) ? "(too long to show)" : b.data ? b.data : "");
	buf_free(&b);
	return out;
}

void
config_print(const struct config *cfg, FILE *out)
{
	const char *base = (const char *)cfg;

	for (size_t i = 0; i < CONFIG_N; i++) {
		const struct config_entry *e = &config_table[i];

		fprintf(out, "# %s (default: %s)\n", e->help, *e->def ? e->def : "none");
		switch (e->type) {
		case CONFIG_INT:
			fprintf(out, "%s = %d\n", e->name, *(const int *)(base + e->offset));
			break;
		case CONFIG_SIZE:
			fprintf(out, "%s = %ld\n", e->name, *(const long *)(base + e->offset));
			break;
		case CONFIG_BOOL:
			fprintf(out, "%s = %s\n", e->name,
				*(const int *)(base + e->offset) ? "on" : "off");
			break;
		case CONFIG_STRING: {
			const char *s = *(char *const *)(base + e->offset);
			/* a conninfo may hold a password, as password=... or as the
			 * userinfo of a postgresql:// URI: never print it */
			char masked[1024];

			if (strstr(e->name, "conninfo"))
				s = config_mask_conninfo(s, masked, sizeof(masked));
			/* quoted, so '#' and blanks in the value survive a re-parse */
			fprintf(out, "%s = \"%s\"\n", e->name, s);
			break;
		}
		}
	}
}
