/*
 * log: leveled logging to stderr (or syslog-free files via redirection).
 * log_warn appends strerror(errno). Client-supplied text must pass through
 * log_escape before it is logged; secrets and owner data are never logged.
 */
#ifndef VACANCY_LOG_H
#define VACANCY_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; 0 or -1. */
int log_level_parse(const char *s, enum log_level *out) __attribute__((warn_unused_result));

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Copies at most n bytes of untrusted s into out (size outlen) with control
 * characters, quotes and non-ASCII bytes escaped as \xNN, truncating with
 * "..." when it does not fit. Returns out.
 */
const char *log_escape(const char *s, size_t n, char *out, size_t outlen);

#endif
