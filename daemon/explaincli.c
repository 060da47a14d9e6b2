/*
 * explaincli: `vacancyd explain [-r ROLE] [-l ASOF] QUERY` prints the
 * statement a search runs, as psql input: PREPARE of the SQL and EXPLAIN
 * ANALYZE of its execution with the parameters as literals. For operators
 * asking why a search is slow, and for the plans in docs/search.md
 * (tests/bench/search_plans.sh). Touches nothing.
 *
 *   ROLE   investor (default), county:PREFIX or municipality:AGS
 *   ASOF   plan a later page: the walk pinned at that feed position
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "explaincli.h"
#include "searchq.h"

static void
explain_literal(const char *s)
{
	putchar('\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			putchar('\'');
		putchar(*s);
	}
	putchar('\'');
}

int
explaincli_main(const struct config *cfg, int argc, char **argv)
{
	static const unsigned char key[SEARCHQ_KEY_LEN] = "explain";
	struct searchq_limits lim = {cfg->max_page_size, cfg->max_search_radius_m,
				     cfg->page_token_ttl_s};
	struct searchq_caller who = {ROLE_INVESTOR, "", 0, key, time(NULL)};
	enum searchq_mode mode = SEARCHQ_INVESTOR;
	Vacancy__V1__SearchRequest *req;
	struct searchq_params p;
	struct searchq_err err;
	struct searchq q;
	struct buf sql;
	const char *asof = NULL;
	int c, n;

	optind = 1;
	while ((c = getopt(argc, argv, "r:l:")) != -1) {
		switch (c) {
		case 'r':
			if (strncmp(optarg, "county:", 7) == 0) {
				who.role = ROLE_COUNTY;
				who.scope = optarg + 7;
			} else if (strncmp(optarg, "municipality:", 13) == 0) {
				who.role = ROLE_MUNICIPALITY;
				who.scope = optarg + 13;
			} else if (strcmp(optarg, "investor") != 0) {
				fprintf(stderr, "vacancyd explain: role is investor, county:PREFIX "
						"or municipality:AGS\n");
				return 2;
			}
			break;
		case 'l':
			asof = optarg;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: vacancyd explain [-r ROLE] [-l ASOF] QUERY\n");
		return 2;
	}
	if (who.role != ROLE_INVESTOR)
		mode = SEARCHQ_STAFF_FULL;
	if ((req = searchq_parse(argv[optind], 0, &codec_heap, &err)) == NULL ||
	    searchq_check(req, &lim, &who, mode, &q, &err) == -1) {
		fprintf(stderr, "vacancyd explain: %d %s\n", err.status, err.message);
		if (req != NULL)
			protobuf_c_message_free_unpacked(&req->base, &codec_heap);
		return 1;
	}
	protobuf_c_message_free_unpacked(&req->base, &codec_heap);
	if (asof != NULL &&
	    searchq_advance(&q, asof, "0", "00000000-0000-0000-0000-000000000000") == -1) {
		fprintf(stderr, "vacancyd explain: -l wants a feed position\n");
		return 2;
	}
	buf_init(&sql, 0);
	if ((n = searchq_sql(&q, &sql, &p)) == -1) {
		buf_free(&sql);
		return 1;
	}
	buf_addc(&sql, '\0');
	printf("PREPARE search AS %s;\nEXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE search(",
	       sql.data);
	for (int i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", stdout);
		explain_literal(p.v[i]);
	}
	puts(");\nDEALLOCATE search;");
	buf_free(&sql);
	return 0;
}
