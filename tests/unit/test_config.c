/*
 * test_config: the settings table and the "name = value" parser of
 * daemon/config.c: every value type, comments, errors with line numbers and
 * bounds, the relations config_check enforces, and config_print, whose
 * output must parse back to the same settings and never show a password.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "config.h"

void test_config_register(void);

/* A configuration that config_check accepts: defaults plus what has no default. */
static void
cfg_ready(struct config *cfg)
{
	char err[256];

	config_defaults(cfg);
	CU_ASSERT_EQUAL_FATAL(
	    config_set(cfg, "db_staff_conninfo", "host=/tmp dbname=v user=staff", err, sizeof(err)),
	    0);
	CU_ASSERT_EQUAL_FATAL(config_set(cfg, "db_investor_conninfo",
					 "host=/tmp dbname=v user=investor", err, sizeof(err)),
			      0);
	CU_ASSERT_EQUAL_FATAL(
	    config_set(cfg, "tls_cert_file", "/etc/vacancyd/cert.pem", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(
	    config_set(cfg, "tls_key_file", "/etc/vacancyd/key.pem", err, sizeof(err)), 0);
}

/* Parses text into cfg (defaults first); returns config_parse's result. */
static int
parse(struct config *cfg, const char *text, char *err, size_t errlen)
{
	config_defaults(cfg);
	err[0] = '\0';
	return config_parse(cfg, text, err, errlen);
}

/* config_print's output as a string (owned by the caller). */
static char *
print_to_string(const struct config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	config_print(cfg, f);
	fclose(f);
	return text;
}

/* The value config_print wrote for name (surrounding quotes removed) into out; 0 or -1. */
static int
printed_value(const char *text, const char *name, char *out, size_t outlen)
{
	char key[80];
	const char *p;
	size_t n;

	snprintf(key, sizeof(key), "\n%s = ", name);
	if ((p = strstr(text, key)) == NULL)
		return -1;
	p += strlen(key);
	n = strcspn(p, "\n");
	if (n >= 2 && p[0] == '"' && p[n - 1] == '"')
		p++, n -= 2;
	if (n >= outlen)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Runs config_check; err receives the reason. */
static int
check(const struct config *cfg, char *err, size_t errlen)
{
	err[0] = '\0';
	return config_check(cfg, err, errlen);
}

static void
test_defaults(void)
{
	struct config cfg;
	char err[256];

	config_defaults(&cfg);
	CU_ASSERT_STRING_EQUAL(cfg.listen_addr, "127.0.0.1");
	CU_ASSERT_EQUAL(cfg.listen_port, 8443);
	CU_ASSERT_EQUAL(cfg.tls, 1);
	CU_ASSERT_STRING_EQUAL(cfg.tls_cert_file, "");
	CU_ASSERT_STRING_EQUAL(cfg.db_staff_conninfo, "");
	CU_ASSERT_EQUAL(cfg.max_header_bytes, 16L * 1024);
	CU_ASSERT_EQUAL(cfg.max_body_bytes, 64L * 1024);
	CU_ASSERT_EQUAL(cfg.max_sync_body_bytes, 16L * 1024 * 1024);
	CU_ASSERT_EQUAL(cfg.max_sync_records, 10000);
	CU_ASSERT_EQUAL(cfg.max_page_size, 500);
	CU_ASSERT_EQUAL(cfg.stale_after_days, 365);
	CU_ASSERT_STRING_EQUAL(cfg.metrics_allow, "loopback");
	CU_ASSERT_STRING_EQUAL(cfg.log_level, "info");
	/* bare defaults lack conninfo and TLS files */
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), -1);
	config_free(&cfg);
	CU_ASSERT_PTR_NULL(cfg.listen_addr);

	cfg_ready(&cfg);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);
}

static void
test_types(void)
{
	struct config cfg;
	char err[256];

	CU_ASSERT_EQUAL(parse(&cfg,
			      "listen_port = 9000\n"
			      "db_pool_size=7\n"
			      "max_header_bytes = 2048\n"
			      "max_body_bytes = 128K\n"
			      "max_sync_body_bytes = 32m\n"
			      "listen_addr = ::1\n"
			      "log_level = debug\n",
			      err, sizeof(err)),
			0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(cfg.listen_port, 9000);
	CU_ASSERT_EQUAL(cfg.db_pool_size, 7);
	CU_ASSERT_EQUAL(cfg.max_header_bytes, 2048);
	CU_ASSERT_EQUAL(cfg.max_body_bytes, 128L * 1024);
	CU_ASSERT_EQUAL(cfg.max_sync_body_bytes, 32L * 1024 * 1024);
	CU_ASSERT_STRING_EQUAL(cfg.listen_addr, "::1");
	CU_ASSERT_STRING_EQUAL(cfg.log_level, "debug");
	config_free(&cfg);

	/* size suffixes: K, M, G, either case, optional B */
	CU_ASSERT_EQUAL(parse(&cfg, "max_sync_body_bytes = 1G", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.max_sync_body_bytes, 1024L * 1024 * 1024);
	config_free(&cfg);
	CU_ASSERT_EQUAL(parse(&cfg, "max_body_bytes = 2KB", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.max_body_bytes, 2048);
	config_free(&cfg);
	CU_ASSERT_EQUAL(parse(&cfg, "max_body_bytes = 3k", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.max_body_bytes, 3072);
	config_free(&cfg);
	CU_ASSERT_EQUAL(parse(&cfg, "max_header_bytes = 1M", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.max_header_bytes, 1024L * 1024);
	config_free(&cfg);
	/* a suffix on a plain integer setting is malformed */
	CU_ASSERT_EQUAL(parse(&cfg, "listen_port = 8K", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "listen_port"));
	CU_ASSERT_EQUAL(cfg.listen_port, 8443);
	config_free(&cfg);
	CU_ASSERT_EQUAL(parse(&cfg, "db_max_queue = 1k", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "db_max_queue"));
	config_free(&cfg);
	/* unknown suffix */
	CU_ASSERT_EQUAL(parse(&cfg, "max_body_bytes = 4T", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "max_body_bytes"));
	config_free(&cfg);
}

static void
test_bool_forms(void)
{
	static const char *const on[] = {"on", "yes", "true", "1", "ON", "Yes", "TRUE"};
	static const char *const off[] = {"off", "no", "false", "0", "OFF", "No", "False"};
	struct config cfg;
	char text[64], err[256];

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		snprintf(text, sizeof(text), "tls = off\ntls = %s\n", on[i]);
		CU_ASSERT_EQUAL(parse(&cfg, text, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(cfg.tls, 1);
		config_free(&cfg);
	}
	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		snprintf(text, sizeof(text), "tls = %s\n", off[i]);
		CU_ASSERT_EQUAL(parse(&cfg, text, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(cfg.tls, 0);
		config_free(&cfg);
	}
	CU_ASSERT_EQUAL(parse(&cfg, "tls = maybe\n", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "tls"));
	CU_ASSERT_EQUAL(cfg.tls, 1); /* unchanged */
	config_free(&cfg);
	CU_ASSERT_EQUAL(parse(&cfg, "tls = 2\n", err, sizeof(err)), -1);
	config_free(&cfg);
	CU_ASSERT_EQUAL(parse(&cfg, "tls =\n", err, sizeof(err)), -1);
	config_free(&cfg);
}

static void
test_strings(void)
{
	struct config cfg;
	char err[256];

	/* quotes are removed; blanks inside them are kept */
	CU_ASSERT_EQUAL(parse(&cfg,
			      "pid_file = \"/run/vacancyd/vacancyd.pid\"\n"
			      "db_staff_conninfo = \"host=/tmp  dbname=v\"\n"
			      "tls_cert_file = /etc/v/cert.pem   \n"
			      "tls_key_file =\t/etc/v/key.pem\r\n",
			      err, sizeof(err)),
			0);
	CU_ASSERT_STRING_EQUAL(cfg.pid_file, "/run/vacancyd/vacancyd.pid");
	CU_ASSERT_STRING_EQUAL(cfg.db_staff_conninfo, "host=/tmp  dbname=v");
	CU_ASSERT_STRING_EQUAL(cfg.tls_cert_file, "/etc/v/cert.pem");
	CU_ASSERT_STRING_EQUAL(cfg.tls_key_file, "/etc/v/key.pem");
	config_free(&cfg);

	/* "" is the empty string; a value may hold '=' */
	CU_ASSERT_EQUAL(
	    parse(&cfg, "pid_file = /x\npid_file = \"\"\nlog_level=a=b\n", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.pid_file, "");
	CU_ASSERT_STRING_EQUAL(cfg.log_level, "a=b");
	config_free(&cfg);

	/* a quoted number is still a number */
	CU_ASSERT_EQUAL(parse(&cfg, "listen_port = \"8080\"\n", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.listen_port, 8080);
	config_free(&cfg);

	/* a later line overrides an earlier one */
	CU_ASSERT_EQUAL(parse(&cfg, "log_level = warn\nlog_level = error\n", err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(cfg.log_level, "error");
	config_free(&cfg);
}

static void
test_comments_blank_lines(void)
{
	struct config cfg;
	char err[256];

	CU_ASSERT_EQUAL(parse(&cfg,
			      "# a comment\n"
			      "\n"
			      "   \t \n"
			      "   # indented comment\n"
			      "listen_port = 8000 # trailing comment\n"
			      "#listen_port = 1\n"
			      "log_level = warn#no blank before it\n"
			      "\r\n",
			      err, sizeof(err)),
			0);
	CU_ASSERT_EQUAL(cfg.listen_port, 8000);
	CU_ASSERT_STRING_EQUAL(cfg.log_level, "warn");
	config_free(&cfg);

	/* empty text and text without a final newline */
	CU_ASSERT_EQUAL(parse(&cfg, "", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.listen_port, 8443);
	config_free(&cfg);
	CU_ASSERT_EQUAL(parse(&cfg, "listen_port=1", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.listen_port, 1);
	config_free(&cfg);
}

static void
test_unknown_and_syntax(void)
{
	struct config cfg;
	char err[256];

	CU_ASSERT_EQUAL(parse(&cfg, "# c\nlisten_port = 1\nlisten_prot = 2\n", err, sizeof(err)),
			-1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "listen_prot"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown"));
	config_free(&cfg);

	/* names are case-sensitive */
	CU_ASSERT_EQUAL(parse(&cfg, "Listen_Port = 1\n", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 1"));
	config_free(&cfg);

	/* a line without '=' */
	CU_ASSERT_EQUAL(parse(&cfg, "\n\nlisten_port 8000\n", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 3"));
	config_free(&cfg);

	/* the same through config_set */
	config_defaults(&cfg);
	CU_ASSERT_EQUAL(config_set(&cfg, "nope", "1", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "nope"));
	config_free(&cfg);
}

static void
test_bounds(void)
{
	struct config cfg;
	char err[256];

	CU_ASSERT_EQUAL(parse(&cfg, "listen_port = 65536\n", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "listen_port"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "0..65535"));
	CU_ASSERT_EQUAL(cfg.listen_port, 8443);
	config_free(&cfg);

	CU_ASSERT_EQUAL(parse(&cfg, "\ndb_pool_size = 0\n", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "db_pool_size"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "1..256"));
	config_free(&cfg);

	CU_ASSERT_EQUAL(parse(&cfg, "listen_port = -1\n", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "0..65535"));
	config_free(&cfg);

	/* bounds are checked after the suffix is applied */
	CU_ASSERT_EQUAL(parse(&cfg, "max_header_bytes = 2M\n", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "max_header_bytes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "1024..1048576"));
	config_free(&cfg);
	CU_ASSERT_EQUAL(parse(&cfg, "max_body_bytes = 2G\n", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "max_body_bytes"));
	config_free(&cfg);

	/* the bounds themselves are inside */
	CU_ASSERT_EQUAL(parse(&cfg, "listen_port = 0\ndb_pool_size = 256\nmax_header_bytes = 1K\n",
			      err, sizeof(err)),
			0);
	CU_ASSERT_EQUAL(cfg.listen_port, 0);
	CU_ASSERT_EQUAL(cfg.db_pool_size, 256);
	CU_ASSERT_EQUAL(cfg.max_header_bytes, 1024);
	config_free(&cfg);
}

static void
test_malformed_numbers(void)
{
	static const char *const bad[] = {
	    "listen_port = 12x\n",
	    "listen_port =\n",
	    "listen_port = \"\"\n",
	    "listen_port = 9999999999999\n",
	    "listen_port = 0x10\n",
	    "listen_port = -\n",
	    "listen_port = 1 2\n",
	    "listen_port = +5\n",
	    "listen_port = 1.5\n",
	    "max_body_bytes = 12x\n",
	    "max_body_bytes = K\n",
	    "max_body_bytes = 64KK\n",
	    "max_body_bytes = 9999999999999G\n",
	};
	struct config cfg;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(&cfg, bad[i], err, sizeof(err));

		CU_ASSERT_EQUAL(rc, -1);
		if (rc != -1)
			fprintf(stderr, "\n  accepted: %s", bad[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 1"));
		CU_ASSERT_EQUAL(cfg.listen_port, 8443);
		CU_ASSERT_EQUAL(cfg.max_body_bytes, 64L * 1024);
		config_free(&cfg);
	}
}

static void
test_check_tls(void)
{
	struct config cfg;
	char err[256];

	/* TLS on without certificate or key */
	cfg_ready(&cfg);
	CU_ASSERT_EQUAL(config_set(&cfg, "tls_cert_file", "", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "tls"));
	config_free(&cfg);
	cfg_ready(&cfg);
	CU_ASSERT_EQUAL(config_set(&cfg, "tls_key_file", "", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), -1);
	config_free(&cfg);

	/* client certificates need TLS */
	cfg_ready(&cfg);
	CU_ASSERT_EQUAL(
	    config_set(&cfg, "tls_client_ca_file", "/etc/vacancyd/county-ca.pem", err, sizeof(err)),
	    0);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(config_set(&cfg, "tls", "off", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "tls_client_ca_file"));
	CU_ASSERT_EQUAL(config_set(&cfg, "tls_client_verify_depth", "0", err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(config_set(&cfg, "tls_client_verify_depth", "11", err, sizeof(err)), -1);
	config_free(&cfg);

	/* revocation lists need the client CAs */
	cfg_ready(&cfg);
	CU_ASSERT_EQUAL(
	    config_set(&cfg, "tls_client_crl_file", "/etc/vacancyd/county.crl", err, sizeof(err)),
	    0);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "tls_client_crl_file"));
	CU_ASSERT_EQUAL(
	    config_set(&cfg, "tls_client_ca_file", "/etc/vacancyd/county-ca.pem", err, sizeof(err)),
	    0);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);

	/* plain HTTP: loopback only */
	static const char *const loop[] = {"127.0.0.1", "127.0.0.53", "::1", "localhost"};
	static const char *const wide[] = {"0.0.0.0", "::", "192.168.1.10", "10.0.0.1",
					   "example.org"};
	for (size_t i = 0; i < sizeof(loop) / sizeof(loop[0]); i++) {
		cfg_ready(&cfg);
		CU_ASSERT_EQUAL(config_set(&cfg, "tls", "off", err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(config_set(&cfg, "listen_addr", loop[i], err, sizeof(err)), 0);
		/* without TLS the files are not needed */
		CU_ASSERT_EQUAL(config_set(&cfg, "tls_cert_file", "", err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), 0);
		config_free(&cfg);
	}
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		cfg_ready(&cfg);
		CU_ASSERT_EQUAL(config_set(&cfg, "tls", "off", err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(config_set(&cfg, "listen_addr", wide[i], err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, wide[i]));
		/* with TLS the same address is fine */
		CU_ASSERT_EQUAL(config_set(&cfg, "tls", "on", err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), 0);
		config_free(&cfg);
	}
}

static void
test_check_relations(void)
{
	struct config cfg;
	char err[256];

	/* both conninfos are required */
	cfg_ready(&cfg);
	CU_ASSERT_EQUAL(config_set(&cfg, "db_investor_conninfo", "", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "conninfo"));
	config_free(&cfg);

	/* reconnect backoff: min <= max */
	cfg_ready(&cfg);
	CU_ASSERT_EQUAL(config_set(&cfg, "db_reconnect_min_ms", "6000", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(config_set(&cfg, "db_reconnect_max_ms", "5000", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "db_reconnect_min_ms"));
	CU_ASSERT_EQUAL(config_set(&cfg, "db_reconnect_min_ms", "5000", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);

	/* body limits: the general one may not exceed the sync one */
	cfg_ready(&cfg);
	CU_ASSERT_EQUAL(config_set(&cfg, "max_body_bytes", "32M", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "max_body_bytes"));
	CU_ASSERT_EQUAL(config_set(&cfg, "max_sync_body_bytes", "32M", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), 0);
	config_free(&cfg);

	/* metrics_allow: loopback or any */
	static const char *const metrics_ok[] = {"loopback", "any"};
	static const char *const metrics_bad[] = {"all", "", "Any", "127.0.0.1"};
	for (size_t i = 0; i < 2; i++) {
		cfg_ready(&cfg);
		CU_ASSERT_EQUAL(config_set(&cfg, "metrics_allow", metrics_ok[i], err, sizeof(err)),
				0);
		CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), 0);
		config_free(&cfg);
	}
	for (size_t i = 0; i < sizeof(metrics_bad) / sizeof(metrics_bad[0]); i++) {
		cfg_ready(&cfg);
		CU_ASSERT_EQUAL(config_set(&cfg, "metrics_allow", metrics_bad[i], err, sizeof(err)),
				0);
		CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "metrics_allow"));
		config_free(&cfg);
	}

	/* log_level: error, warn, info, debug */
	static const char *const level_ok[] = {"error", "warn", "info", "debug"};
	static const char *const level_bad[] = {"warning", "", "DEBUG", "trace"};
	for (size_t i = 0; i < 4; i++) {
		cfg_ready(&cfg);
		CU_ASSERT_EQUAL(config_set(&cfg, "log_level", level_ok[i], err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), 0);
		config_free(&cfg);
	}
	for (size_t i = 0; i < 4; i++) {
		cfg_ready(&cfg);
		CU_ASSERT_EQUAL(config_set(&cfg, "log_level", level_bad[i], err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(check(&cfg, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "log_level"));
		config_free(&cfg);
	}
}

/* Sets name to value in cfg, failing the test if config_set refuses. */
static void
set(struct config *cfg, const char *name, const char *value)
{
	char err[256];

	CU_ASSERT_EQUAL(config_set(cfg, name, value, err, sizeof(err)), 0);
}

static void
test_print_roundtrip(void)
{
	struct config a, b;
	char err[256], value[256], *text, *again;

	/* a value of every type that differs from its default */
	cfg_ready(&a);
	set(&a, "listen_addr", "::1");
	set(&a, "listen_port", "0");
	set(&a, "tls", "off");
	set(&a, "db_pool_size", "9");
	set(&a, "db_reconnect_min_ms", "250");
	set(&a, "max_header_bytes", "32K");
	set(&a, "max_body_bytes", "1M");
	set(&a, "max_sync_body_bytes", "1G");
	set(&a, "auth_cache_ttl_ms", "0");
	set(&a, "metrics_allow", "any");
	set(&a, "log_level", "debug");
	set(&a, "pid_file", "/run/vacancyd.pid");
	text = print_to_string(&a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);

	/* every setting is written, with its help as a comment */
	CU_ASSERT_EQUAL(printed_value(text, "listen_port", value, sizeof(value)), 0);
	CU_ASSERT_STRING_EQUAL(value, "0");
	CU_ASSERT_EQUAL(printed_value(text, "tls", value, sizeof(value)), 0);
	CU_ASSERT_STRING_EQUAL(value, "off");
	CU_ASSERT_EQUAL(printed_value(text, "max_sync_body_bytes", value, sizeof(value)), 0);
	CU_ASSERT_STRING_EQUAL(value, "1073741824");
	CU_ASSERT_EQUAL(printed_value(text, "pid_file", value, sizeof(value)), 0);
	CU_ASSERT_STRING_EQUAL(value, "/run/vacancyd.pid");
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TCP port (0: any free port) (default: 8443)\n"));
	CU_ASSERT_EQUAL(printed_value(text, "no_such_setting", value, sizeof(value)), -1);

	CU_ASSERT_EQUAL(parse(&b, text, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_STRING_EQUAL(b.listen_addr, "::1");
	CU_ASSERT_EQUAL(b.listen_port, 0);
	CU_ASSERT_EQUAL(b.tls, 0);
	CU_ASSERT_STRING_EQUAL(b.tls_cert_file, a.tls_cert_file);
	CU_ASSERT_STRING_EQUAL(b.tls_key_file, a.tls_key_file);
	CU_ASSERT_STRING_EQUAL(b.db_staff_conninfo, a.db_staff_conninfo);
	CU_ASSERT_STRING_EQUAL(b.db_investor_conninfo, a.db_investor_conninfo);
	CU_ASSERT_EQUAL(b.db_pool_size, 9);
	CU_ASSERT_EQUAL(b.db_reconnect_min_ms, 250);
	CU_ASSERT_EQUAL(b.db_reconnect_max_ms, a.db_reconnect_max_ms);
	CU_ASSERT_EQUAL(b.max_header_bytes, 32L * 1024);
	CU_ASSERT_EQUAL(b.max_body_bytes, 1024L * 1024);
	CU_ASSERT_EQUAL(b.max_sync_body_bytes, 1024L * 1024 * 1024);
	CU_ASSERT_EQUAL(b.auth_cache_ttl_ms, 0);
	CU_ASSERT_STRING_EQUAL(b.metrics_allow, "any");
	CU_ASSERT_STRING_EQUAL(b.log_level, "debug");
	CU_ASSERT_STRING_EQUAL(b.pid_file, "/run/vacancyd.pid");
	CU_ASSERT_EQUAL(check(&b, err, sizeof(err)), 0);

	/* and the whole text: printing what was parsed gives the same file */
	again = print_to_string(&b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(again);
	CU_ASSERT_STRING_EQUAL(again, text);

	free(again);
	free(text);
	config_free(&a);
	config_free(&b);

	/* defaults print and parse back to defaults (empty strings included) */
	config_defaults(&a);
	text = print_to_string(&a);
	CU_ASSERT_EQUAL(parse(&b, text, err, sizeof(err)), 0);
	again = print_to_string(&b);
	CU_ASSERT_STRING_EQUAL(again, text);
	CU_ASSERT_STRING_EQUAL(b.tls_cert_file, "");
	free(again);
	free(text);
	config_free(&a);
	config_free(&b);
}

/*
 * Regression (found by these tests at fd55976, fixed in c9f08bb): '#' started
 * a comment even inside a quoted value and config_print wrote strings
 * unquoted, so a value holding '#' could not be written in a file and a
 * value set with -o did not survive `vacancyd -p`.
 */
static void
test_print_roundtrip_hash(void)
{
	struct config a, b;
	char err[256], *text;

	CU_ASSERT_EQUAL(
	    parse(&a, "tls_key_file = \"/etc/vacancyd/key#2.pem\" # comment\n", err, sizeof(err)),
	    0);
	CU_ASSERT_STRING_EQUAL(a.tls_key_file, "/etc/vacancyd/key#2.pem");
	config_free(&a);

	cfg_ready(&a);
	set(&a, "tls_cert_file", "/etc/vacancyd/cert#2.pem");
	set(&a, "pid_file", " /run/with blanks.pid ");
	text = print_to_string(&a);
	CU_ASSERT_EQUAL(parse(&b, text, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(b.tls_cert_file, "/etc/vacancyd/cert#2.pem");
	CU_ASSERT_STRING_EQUAL(b.pid_file, " /run/with blanks.pid ");
	free(text);
	config_free(&a);
	config_free(&b);
}

/*
 * Checks that config_print shows no part of the password libpq would read
 * from conninfo: no 6-character window of it appears in the output.
 */
static void
expect_password_hidden(const char *conninfo)
{
	PQconninfoOption *opts, *o;
	const char *password = NULL;
	struct config cfg;
	char *text, *perr = NULL;

	/* the case is sound: libpq itself finds a password in it */
	opts = PQconninfoParse(conninfo, &perr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(opts);
	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, "password") == 0)
			password = o->val;
	CU_ASSERT_PTR_NOT_NULL_FATAL(password);
	CU_ASSERT_FATAL(strlen(password) >= 6);

	cfg_ready(&cfg);
	set(&cfg, "db_staff_conninfo", conninfo);
	text = print_to_string(&cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (size_t i = 0; i + 6 <= strlen(password); i++) {
		char window[7];

		memcpy(window, password + i, 6);
		window[6] = '\0';
		CU_ASSERT_PTR_NULL(strstr(text, window));
		if (strstr(text, window) != NULL) {
			fprintf(stderr, "\n  '%s' of the password of '%s' printed", window,
				conninfo);
			break;
		}
	}
	/* the output still says that the setting exists (as a value or a comment) */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "db_staff_conninfo"));
	free(text);
	config_free(&cfg);
	PQconninfoFree(opts);
}

static void
test_print_hides_password(void)
{
	struct config cfg;
	char value[256], *text;

	expect_password_hidden("host=db user=staff password=Sesam0ffne dbname=v");
	expect_password_hidden("password=Sesam0ffne");
	expect_password_hidden("host=db password = 'Geheim 42' dbname=v");
	expect_password_hidden("password='it\\'s a Secret' host=db");
	expect_password_hidden("host=db\tpassword=Tab5ecret\tdbname=v");
	/* libpq's URI form: the userinfo, or a query parameter */
	expect_password_hidden("postgresql://staff:Sesam0ffne@db:5432/v");
	expect_password_hidden("postgres://investor:Geheim42@db/v?sslmode=require");
	expect_password_hidden("postgresql://staff:Sesam0ffne@[::1]:5432/v");
	expect_password_hidden("postgresql://staff:Sesam0ffne@db1:5432,db2:5432/v");
	expect_password_hidden("postgresql://staff:Ses:am0ffne@/v?host=/run/postgresql");
	expect_password_hidden("postgresql://db/v?user=staff&password=Tr0mpete77&sslmode=require");

	/* other strings, and a conninfo without a secret, are shown as they are */
	cfg_ready(&cfg);
	set(&cfg, "db_investor_conninfo", "postgresql://investor@db:5432/v");
	text = print_to_string(&cfg);
	CU_ASSERT_EQUAL(printed_value(text, "tls_cert_file", value, sizeof(value)), 0);
	CU_ASSERT_STRING_EQUAL(value, "/etc/vacancyd/cert.pem");
	CU_ASSERT_EQUAL(printed_value(text, "db_staff_conninfo", value, sizeof(value)), 0);
	CU_ASSERT_STRING_EQUAL(value, "host=/tmp dbname=v user=staff");
	CU_ASSERT_EQUAL(printed_value(text, "db_investor_conninfo", value, sizeof(value)), 0);
	CU_ASSERT_STRING_EQUAL(value, "postgresql://investor@db:5432/v");
	free(text);
	config_free(&cfg);
}

/*
 * BUG (config.c, config_mask_conninfo): an unquoted conninfo value may hold
 * a backslash-escaped blank (libpq reads "password=Sesam\ Geheim42" as
 * "Sesam Geheim42"), but the mask stops at the first blank and prints the
 * rest of the password. Expected to fail until the unquoted scan skips
 * "\x" pairs as the quoted one does.
 */
static void
test_print_hides_escaped_password(void)
{
	expect_password_hidden("host=db password=Sesam\\ Geheim42 dbname=v");
}

static void
test_load(void)
{
	char path[] = "/tmp/vacancyd-test-config-XXXXXX";
	struct config cfg;
	char err[512];
	FILE *f;
	int fd;

	/* a missing file: -1, naming the file and the system's reason */
	config_defaults(&cfg);
	CU_ASSERT_EQUAL(config_load(&cfg, "/nonexistent/vacancyd.conf", err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/vacancyd.conf"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, strerror(ENOENT)));
	config_free(&cfg);

	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("# test\nlisten_port = 9443\nmax_body_bytes = 256K\n", f);
	fclose(f);
	config_defaults(&cfg);
	CU_ASSERT_EQUAL(config_load(&cfg, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.listen_port, 9443);
	CU_ASSERT_EQUAL(cfg.max_body_bytes, 256L * 1024);
	config_free(&cfg);

	/* an error names the file and the line */
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("listen_port = 9443\nlisten_port = many\n", f);
	fclose(f);
	config_defaults(&cfg);
	CU_ASSERT_EQUAL(config_load(&cfg, path, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "listen_port"));
	config_free(&cfg);

	/* an empty file is a valid file */
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fclose(f);
	config_defaults(&cfg);
	CU_ASSERT_EQUAL(config_load(&cfg, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg.listen_port, 8443);
	config_free(&cfg);
	unlink(path);
}

void
test_config_register(void)
{
	CU_pSuite s = CU_add_suite("config", NULL, NULL);

	CU_add_test(s, "defaults pass config_check once conninfo and TLS are set", test_defaults);
	CU_add_test(s, "int, size with K/M/G, string values", test_types);
	CU_add_test(s, "bool forms", test_bool_forms);
	CU_add_test(s, "plain and quoted strings", test_strings);
	CU_add_test(s, "comments and blank lines", test_comments_blank_lines);
	CU_add_test(s, "unknown name and bad syntax name the line", test_unknown_and_syntax);
	CU_add_test(s, "out of bounds names the setting and bounds", test_bounds);
	CU_add_test(s, "malformed numbers", test_malformed_numbers);
	CU_add_test(s, "check: TLS files, plain HTTP only on loopback", test_check_tls);
	CU_add_test(s, "check: conninfo, reconnect, body limits, metrics_allow, log_level",
		    test_check_relations);
	CU_add_test(s, "print re-parses to the same settings", test_print_roundtrip);
	CU_add_test(s, "values with '#' and blanks survive quoting and print",
		    test_print_roundtrip_hash);
	CU_add_test(s, "print hides conninfo passwords (key=value and URI)",
		    test_print_hides_password);
	CU_add_test(s, "BUG: print hides a password with an escaped blank",
		    test_print_hides_escaped_password);
	CU_add_test(s, "load: file, errors with path and line, missing file", test_load);
}
