/*
 * config: the daemon's settings, declared once in a table (name, type,
 * bounds, default, help) in config.c. A file holds "name = value" lines;
 * "#" starts a comment. Unknown names and out-of-range values are errors
 * with the file's line number. Pure: no sockets, no database.
 */
#ifndef VACANCY_CONFIG_H
#define VACANCY_CONFIG_H

#include <stdio.h>

struct config {
	/* listener and TLS */
	char *listen_addr;
	int listen_port;
	int listen_backlog;
	int tls;
	char *tls_cert_file;
	char *tls_key_file;
	char *tls_client_ca_file;
	int tls_client_verify_depth;
	char *tls_client_crl_file;
	/* database */
	char *db_staff_conninfo;
	char *db_investor_conninfo;
	int db_pool_size;
	int db_max_queue;
	int db_query_timeout_ms;
	int db_connect_timeout_ms;
	int db_reconnect_min_ms;
	int db_reconnect_max_ms;
	long db_recycle_bytes;
	/* limits */
	int max_connections;
	long max_header_bytes;
	long max_body_bytes;
	long max_sync_body_bytes;
	int max_sync_records;
	int max_sync_errors;
	int decode_budget_factor;
	int max_json_depth;
	int request_timeout_ms;
	int idle_timeout_s;
	int max_page_size;
	int max_search_radius_m;
	int max_export_records;
	int page_token_ttl_s;
	int read_model;
	int read_model_refresh_ms;
	int read_model_batch;
	int read_model_wait_ms;
	int overview_cache_ms;
	char *page_token_key_file;
	/* behaviour */
	int auth_cache_ttl_ms;
	int stale_after_days;
	int overdue_after_days;
	char *metrics_allow;
	char *log_level;
	char *pid_file;
};

/* Sets every setting to its default (strings are allocated). */
void config_defaults(struct config *cfg);
void config_free(struct config *cfg);

/*
 * Sets one setting from its text form. Returns 0, or -1 with a reason in err
 * (unknown name, malformed value, outside bounds).
 */
int config_set(struct config *cfg, const char *name, const char *value, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Parses "name = value" lines from text (NUL-terminated) into cfg, which must
 * hold defaults already. Returns 0, or -1 with "line N: reason" in err.
 */
int config_parse(struct config *cfg, const char *text, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Reads and parses a file; -1 with a reason (including I/O errors) in err. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Checks relations between settings (e.g. TLS files present, plain HTTP only on loopback). */
int config_check(const struct config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Writes every setting with its help and current value, as a valid config file. */
void config_print(const struct config *cfg, FILE *out);

#endif
