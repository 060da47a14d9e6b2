/*
 * main: command line, start-up and the event loop of vacancyd.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "config.h"
#include "log.h"
#include "server.h"
#include "explaincli.h"
#include "tokencli.h"

#define VACANCYD_VERSION "0.1.0"

static void
main_usage(FILE *out)
{
	fprintf(out, "usage: vacancyd [-d] [-f FILE] [-o NAME=VALUE]... [-n]\n"
		     "       vacancyd [-f FILE] [-o NAME=VALUE]... token create|revoke|list ...\n"
		     "       vacancyd [-f FILE] explain [-r ROLE] [-l ASOF] QUERY\n"
		     "                              print a search's SQL for psql\n"
		     "       vacancyd -p            print every setting with its default\n"
		     "  -f FILE  configuration file (name = value lines)\n"
		     "  -o N=V   override one setting after the file\n"
		     "  -n       check the configuration (and TLS files) and exit\n"
		     "  -d       log at debug level\n"
		     "  -V       print the version\n");
}

/* Writes the pid file if one is configured; 0 or -1. */
static int
main_write_pid(const char *path)
{
	FILE *f;

	if (*path == '\0')
		return 0;
	if ((f = fopen(path, "w")) == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
	    fclose(f) != 0) {
		log_warn("pid_file %s", path);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *config_path = NULL;
	struct event_base *base;
	struct config *cfg;
	struct server *srv;
	enum log_level level;
	int c, check = 0, debug = 0, rc;
	char err[512];

	if ((cfg = malloc(sizeof(*cfg))) == NULL)
		return 1;
	config_defaults(cfg);
	/* first pass: the file, so that -o overrides it whatever the order */
	while ((c = getopt(argc, argv, "+df:no:pVh")) != -1) {
		if (c == 'f')
			config_path = optarg;
		else if (c == 'h' || c == '?') {
			main_usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (config_path && config_load(cfg, config_path, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancyd: %s\n", err);
		return 1;
	}
	optind = 1;
	while ((c = getopt(argc, argv, "+df:no:pVh")) != -1) {
		char *eq;

		switch (c) {
		case 'd':
			debug = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'o':
			if ((eq = strchr(optarg, '=')) == NULL) {
				fprintf(stderr, "vacancyd: -o wants NAME=VALUE\n");
				return 2;
			}
			*eq = '\0';
			if (config_set(cfg, optarg, eq + 1, err, sizeof(err)) == -1) {
				fprintf(stderr, "vacancyd: -o: %s\n", err);
				return 2;
			}
			*eq = '=';
			break;
		case 'p':
			config_print(cfg, stdout);
			return 0;
		case 'V':
			printf("vacancyd %s\n", VACANCYD_VERSION);
			return 0;
		default:
			break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0 && strcmp(argv[0], "token") == 0) {
		rc = tokencli_main(cfg, argc - 1, argv + 1);
		config_free(cfg);
		free(cfg);
		return rc;
	}
	if (argc > 0 && strcmp(argv[0], "explain") == 0) {
		rc = explaincli_main(cfg, argc, argv);
		config_free(cfg);
		free(cfg);
		return rc;
	}
	if (argc > 0) {
		main_usage(stderr);
		return 2;
	}
	if (config_check(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancyd: %s%s%s\n", config_path ? config_path : "",
			config_path ? ": " : "", err);
		return 1;
	}
	if (check) {
		SSL_CTX *ctx = cfg->tls ? server_tls_context(cfg, err, sizeof(err)) : NULL;

		if (cfg->tls && ctx == NULL) {
			fprintf(stderr, "vacancyd: %s\n", err);
			return 1;
		}
		SSL_CTX_free(ctx);
		printf("vacancyd: configuration %s is valid\n",
		       config_path ? config_path : "(defaults)");
		config_free(cfg);
		free(cfg);
		return 0;
	}
	if (log_level_parse(cfg->log_level, &level) == 0)
		log_set_level(debug ? LOG_LEVEL_DEBUG : level);
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	if (main_write_pid(cfg->pid_file) == -1)
		return 1;
	/* server_new consumes cfg */
	if ((srv = server_new(base, cfg, config_path)) == NULL) {
		event_base_free(base);
		return 1;
	}
	event_base_dispatch(base);
	log_info("vacancyd: stopped");
	server_free(srv);
	event_base_free(base);
	return 0;
}
