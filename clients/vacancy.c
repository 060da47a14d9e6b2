/*
 * vacancy: the command-line client of the registry. Subcommands live in one
 * table (name, handler, one-line help, synopsis, details, own options); the
 * options every command shares (registry URL, token, CA file, timeout) come
 * from the environment and are overridden by flags, before or after the
 * command name. A handler checks its arguments, opens the session, makes its
 * requests and prints; it returns the exit status: 0 success, 1 server or
 * transport error, 2 usage error.
 *
 * The token is kept in one owned copy, wiped at exit; a --token argument is
 * wiped from argv as soon as it is read so that it leaves the process list.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "json.h"
#include "http.h"
#include "log.h"
#include "print.h"
#include "report.h"
#include "search.h"
#include "sync.h"
#include "vacancy.pb-c.h"

#ifndef VACANCY_VERSION
#define VACANCY_VERSION "0.1.0"
#endif

enum cli_exit { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

enum cli_opt {
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_URL = 256,
	OPT_TOKEN,
	OPT_CACERT,
	OPT_CERT,
	OPT_KEY,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_CHECK,
	OPT_FULL,
	OPT_AGS,
	OPT_TRANSFER_ID,
	OPT_BATCH,
	OPT_REGION,
	OPT_GROUP_BY,
	OPT_CSV,
	OPT_MUNICIPALITIES,
	OPT_SERIES,
	OPT_FROM,
	OPT_TO,
	OPT_ASCII,
	/* the filters of search and export, in the order of enum search_param */
	OPT_SEARCH_REGION,
	OPT_BBOX,
	OPT_NEAR,
	OPT_SITE_KIND,
	OPT_USAGE,
	OPT_MARKETING,
	OPT_OBJECT_TYPE,
	OPT_STATUS,
	OPT_MIN_USABLE_AREA,
	OPT_MAX_USABLE_AREA,
	OPT_MIN_PLOT_AREA,
	OPT_MAX_PLOT_AREA,
	OPT_MAX_PRICE,
	OPT_MAX_RENT,
	OPT_UPDATED_SINCE,
	OPT_TEXT,
	OPT_SORT,
	OPT_ALL,
	OPT_LIMIT,
	OPT_PAGE_SIZE,
	OPT_JSON_LINES,
	OPT_GEOJSON,
	OPT_AFTER,
	OPT_FEED_LIMIT,
	OPT_FOLLOW,
	OPT_INTERVAL,
};

_Static_assert(OPT_SORT - OPT_SEARCH_REGION == SEARCH_SORT &&
		   OPT_TEXT - OPT_SEARCH_REGION == SEARCH_TEXT &&
		   OPT_STATUS - OPT_SEARCH_REGION == SEARCH_STATUS,
	       "the filter options follow enum search_param");

/* Settings of one run. */
struct cli {
	const char *url;    /* borrowed from the environment or argv */
	char *token;	    /* owned copy, wiped before it is freed */
	const char *cacert; /* borrowed */
	const char *cert;   /* borrowed: client certificate instead of a token */
	const char *key;    /* borrowed: its private key */
	long timeout_s;
	int timeout_given; /* --timeout was on the command line */
	int json;
	int csv;
	int help;
	int version;
	/* sync */
	int check;
	int full;
	const char *ags;	 /* borrowed from argv */
	const char *transfer_id; /* borrowed from argv */
	long batch;
	/* report */
	struct report_options report; /* strings borrowed from argv */
	/* search and export */
	struct search_options search; /* strings borrowed from argv */
	/* feed */
	struct feed_options feed; /* strings borrowed from argv */
};

struct cmd;
typedef int (*cmd_fn)(struct cli *c, const struct cmd *cmd, int argc, char **argv);

struct cmd {
	const char *name;
	cmd_fn run;
	const char *summary;  /* one line for the command list */
	const char *synopsis; /* what follows "vacancy NAME" */
	const char *details;  /* paragraph for "vacancy help NAME" */
	const int *opts;      /* its own options (enum cli_opt), 0-terminated */
};

/* An option with what --help says about it. */
struct opt_doc {
	struct option opt;
	const char *arg;  /* argument name in help, or NULL */
	const char *help; /* may contain '\n' */
};

static const struct opt_doc shared_opts[] = {
    {{"url", required_argument, NULL, OPT_URL},
     "URL",
     "registry base URL, e.g. https://127.0.0.1:8443 [VACANCY_URL]"},
    {{"token", required_argument, NULL, OPT_TOKEN},
     "TOKEN",
     "bearer token [VACANCY_TOKEN]; prefer the environment:\n"
     "a command line is visible to other users"},
    {{"cacert", required_argument, NULL, OPT_CACERT},
     "FILE",
     "CA certificates that verify the server [VACANCY_CACERT],\n"
     "default: the system store; verification is always on"},
    {{"cert", required_argument, NULL, OPT_CERT},
     "FILE",
     "client certificate (PEM) issued by the county's CA, as the\n"
     "credential instead of a token [VACANCY_CERT]"},
    {{"key", required_argument, NULL, OPT_KEY},
     "FILE",
     "the client certificate's private key (PEM) [VACANCY_KEY]"},
    {{"timeout", required_argument, NULL, OPT_TIMEOUT},
     "SECONDS",
     "give up on a request after SECONDS (default 30)"},
    {{"help", no_argument, NULL, OPT_HELP}, NULL, "show help"},
    {{"version", no_argument, NULL, OPT_VERSION}, NULL, "show the version"},
};

static const struct opt_doc command_opts[] = {
    {{"json", no_argument, NULL, OPT_JSON},
     NULL,
     "print the server's JSON (protobuf JSON mapping) as it is"},
    {{"check", no_argument, NULL, OPT_CHECK},
     NULL,
     "validate only: the registry reports what would happen\nand applies nothing"},
    {{"full", no_argument, NULL, OPT_FULL},
     NULL,
     "the file is the whole stock: records it lacks are\nwithdrawn (OpenImmo umfang=\"VOLL\" says "
     "so too)"},
    {{"ags", required_argument, NULL, OPT_AGS},
     "AGS",
     "municipality key, 8 digits [VACANCY_MUNICIPALITY_AGS];\nrequired unless the file names it"},
    {{"transfer-id", required_argument, NULL, OPT_TRANSFER_ID},
     "ID",
     "base of the transfer ids instead of the file's digest"},
    {{"batch", required_argument, NULL, OPT_BATCH},
     "N",
     "at most N changes per transfer (default 5000, max 10000)"},
    {{"region", required_argument, NULL, OPT_REGION},
     "PREFIX",
     "AGS prefix of 2 to 8 digits, e.g. 14521 (default:\nthe token's scope)"},
    {{"group-by", required_argument, NULL, OPT_GROUP_BY},
     "A[,B]",
     "one or two of municipality, object_type, site_kind,\nstatus, usage (default "
     "municipality)"},
    {{"municipalities", no_argument, NULL, OPT_MUNICIPALITIES},
     NULL,
     "list the municipalities: records, last transfer, overdue"},
    {{"series", no_argument, NULL, OPT_SERIES}, NULL, "the vacant sites month by month, with bars"},
    {{"from", required_argument, NULL, OPT_FROM},
     "YYYY-MM",
     "first month of --series (default: 23 months before --to)"},
    {{"to", required_argument, NULL, OPT_TO},
     "YYYY-MM",
     "last month of --series (default: the current month)"},
    {{"ascii", no_argument, NULL, OPT_ASCII},
     NULL,
     "bars of '#' (the default when the locale is not UTF-8)"},
    {{"csv", no_argument, NULL, OPT_CSV},
     NULL,
     "CSV (RFC 4180) with the proto field names as header"},
    {{"region", required_argument, NULL, OPT_SEARCH_REGION},
     "PREFIX",
     "AGS or ARS prefix of 2 to 12 digits, e.g. 14521"},
    {{"bbox", required_argument, NULL, OPT_BBOX},
     "S,W,N,E",
     "in the box min_lat,min_lon,max_lat,max_lon (WGS 84,\nedges included), e.g. "
     "50.5,12.9,50.7,13.1"},
    {{"near", required_argument, NULL, OPT_NEAR},
     "LAT,LON,M",
     "within M metres of LAT,LON, e.g. 50.58,13.00,2000"},
    {{"site-kind", required_argument, NULL, OPT_SITE_KIND},
     "K[,K]",
     "BUILDING, UNIT, PLOT, BROWNFIELD"},
    {{"usage", required_argument, NULL, OPT_USAGE},
     "U[,U]",
     "RESIDENTIAL, COMMERCIAL, INDUSTRIAL, AGRICULTURAL, MIXED"},
    {{"marketing", required_argument, NULL, OPT_MARKETING},
     "M[,M]",
     "SALE, RENT, LEASEHOLD, LEASE"},
    {{"object-type", required_argument, NULL, OPT_OBJECT_TYPE},
     "T[,T]",
     "OFFICE_PRACTICE, RETAIL, HOSPITALITY, PLOT, HOUSE,\nHALL_STORAGE_PRODUCTION, "
     "APARTMENT, PARKING, OTHER,\nAGRICULTURE_FORESTRY, LEISURE_COMMERCIAL, INVESTMENT"},
    {{"status", required_argument, NULL, OPT_STATUS},
     "S[,S]",
     "SUSPECTED, CONFIRMED, MARKETED, RESERVED, REUSED,\nWITHDRAWN, DEMOLISHED "
     "(investors: MARKETED, RESERVED)"},
    {{"min-usable-area", required_argument, NULL, OPT_MIN_USABLE_AREA},
     "M2",
     "usable area at least M2 square metres"},
    {{"max-usable-area", required_argument, NULL, OPT_MAX_USABLE_AREA},
     "M2",
     "usable area at most M2 square metres"},
    {{"min-plot-area", required_argument, NULL, OPT_MIN_PLOT_AREA},
     "M2",
     "plot area at least M2 square metres"},
    {{"max-plot-area", required_argument, NULL, OPT_MAX_PLOT_AREA},
     "M2",
     "plot area at most M2 square metres"},
    {{"max-price", required_argument, NULL, OPT_MAX_PRICE},
     "EUR",
     "purchase price at most EUR, e.g. 150000 or 99999.50"},
    {{"max-rent", required_argument, NULL, OPT_MAX_RENT}, "EUR", "monthly rent at most EUR"},
    {{"updated-since", required_argument, NULL, OPT_UPDATED_SINCE},
     "TIME",
     "changed at or after TIME: RFC 3339 with offset, e.g.\n2026-01-31T12:00:00+01:00, or a "
     "date (midnight UTC)"},
    {{"text", required_argument, NULL, OPT_TEXT},
     "WORDS",
     "words in title or description (German stemming;\n\"...\" for a phrase, -word "
     "excludes)"},
    {{"sort", required_argument, NULL, OPT_SORT},
     "ORDER",
     "UPDATED_DESC (default), AREA_DESC, AREA_ASC,\nPRICE_ASC, DISTANCE_ASC (needs --near)"},
    {{"all", no_argument, NULL, OPT_ALL}, NULL, "follow the pages to the last one"},
    {{"limit", required_argument, NULL, OPT_LIMIT},
     "N",
     "stop after N records (following the pages)"},
    {{"page-size", required_argument, NULL, OPT_PAGE_SIZE},
     "N",
     "records per request (the registry's default is 50,\nits maximum max_page_size, 500 "
     "unless configured)"},
    {{"json", no_argument, NULL, OPT_JSON_LINES},
     NULL,
     "one JSON object per line (protobuf JSON mapping)"},
    {{"geojson", required_argument, NULL, OPT_GEOJSON},
     "FILE",
     "write the FeatureCollection to FILE (through FILE.tmp),\nor to stdout for -"},
    {{"after", required_argument, NULL, OPT_AFTER},
     "CURSOR",
     "the changes after CURSOR, as a previous run printed it\n(default: from the "
     "beginning)"},
    {{"limit", required_argument, NULL, OPT_FEED_LIMIT}, "N", "stop after N changes"},
    {{"follow", no_argument, NULL, OPT_FOLLOW},
     NULL,
     "once caught up, poll for more until SIGINT or SIGTERM"},
    {{"interval", required_argument, NULL, OPT_INTERVAL},
     "SECONDS",
     "between the polls of --follow (default 5)"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int cmd_get(struct cli *c, const struct cmd *cmd, int argc, char **argv);
static int cmd_sync(struct cli *c, const struct cmd *cmd, int argc, char **argv);
static int cmd_report(struct cli *c, const struct cmd *cmd, int argc, char **argv);
static int cmd_search(struct cli *c, const struct cmd *cmd, int argc, char **argv);
static int cmd_export(struct cli *c, const struct cmd *cmd, int argc, char **argv);
static int cmd_feed(struct cli *c, const struct cmd *cmd, int argc, char **argv);
static int cmd_help(struct cli *c, const struct cmd *cmd, int argc, char **argv);

static const int get_opts[] = {OPT_JSON, 0};
static const int sync_opts[] = {OPT_CHECK, OPT_FULL, OPT_AGS, OPT_TRANSFER_ID,
				OPT_BATCH, OPT_JSON, 0};
static const int report_opts[] = {
    OPT_REGION, OPT_GROUP_BY, OPT_MUNICIPALITIES, OPT_SERIES, OPT_FROM, OPT_TO,
    OPT_ASCII,	OPT_CSV,      OPT_JSON,		  0};
#define FILTER_OPTS                                                                                \
	OPT_SEARCH_REGION, OPT_BBOX, OPT_NEAR, OPT_SITE_KIND, OPT_USAGE, OPT_MARKETING,            \
	    OPT_OBJECT_TYPE, OPT_STATUS, OPT_MIN_USABLE_AREA, OPT_MAX_USABLE_AREA,                 \
	    OPT_MIN_PLOT_AREA, OPT_MAX_PLOT_AREA, OPT_MAX_PRICE, OPT_MAX_RENT, OPT_UPDATED_SINCE,  \
	    OPT_TEXT, OPT_SORT
static const int search_opts[] = {FILTER_OPTS, OPT_JSON_LINES, OPT_CSV, OPT_ALL,
				  OPT_LIMIT,   OPT_PAGE_SIZE,  0};
static const int export_opts[] = {OPT_GEOJSON, FILTER_OPTS, 0};
static const int feed_opts[] = {OPT_AFTER,    OPT_FEED_LIMIT, OPT_FOLLOW,
				OPT_INTERVAL, OPT_JSON_LINES, 0};
static const int no_opts[] = {0};

static const struct cmd cmds[] = {
    {"get", cmd_get, "show one record", "[--json] RECORD_ID",
     "Fetches one record (GET /v1/records/RECORD_ID) and prints it in sections,\n"
     "with the German terms of the registry. RECORD_ID is the registry's UUID.\n"
     "The server sends only the fields your role may read.",
     get_opts},
    {"sync", cmd_sync, "send the stock of a CSV or OpenImmo file", "[options] FILE",
     "Sends a municipality's sites from FILE to the registry (POST /v1/sync):\n"
     "FILE.csv has one row per site, the columns named as the record's fields;\n"
     "FILE.xml is an OpenImmo 1.2.x export (other names: told by the content).\n"
     "The file is checked first: if anything in it is wrong, every problem is\n"
     "listed with its line and column and nothing is sent. Fields OpenImmo\n"
     "lacks get safe defaults (publication INTERNAL); unmapped elements are\n"
     "listed as warnings. See clients/examples/README.md for both formats.\n"
     "\n"
     "The municipality key comes from the file's municipality_ags, --ags or\n"
     "VACANCY_MUNICIPALITY_AGS. Large files go in parts (--batch, 15 MiB at\n"
     "most each); with --full the last part is FULL and withdraws what no part\n"
     "named. Lost connections and HTTP 503 are retried 5 times (1 to 16 s).\n"
     "Transfer ids derive from the file, so running the same command again\n"
     "after a failure resumes: parts already applied are not applied twice.\n"
     "A part the registry rejects stops the run; earlier parts stay applied.\n"
     "\n"
     "Prints the counts (created, updated, unchanged, withdrawn, stale) or,\n"
     "with --json, each SyncResponse as one JSON line. Exit status: 0 all\n"
     "applied (with --check: all valid), 1 anything rejected or failed, 2 usage.",
     sync_opts},
    {"report", cmd_report, "show the figures of a region", "[options]",
     "Shows the county office's view of a region (county and municipality\n"
     "tokens; --municipalities: county only). Three forms:\n"
     "\n"
     "  vacancy report [--region PREFIX] [--group-by A[,B]]\n"
     "    GET /v1/overview: one row per group with records, published, stale,\n"
     "    usable and plot area (m²), median and 90th percentile of the vacancy\n"
     "    in days, and, grouped by municipality, its last transfer; a totals\n"
     "    line. Definitions: docs/overview.md.\n"
     "  vacancy report --municipalities [--region PREFIX]\n"
     "    GET /v1/municipalities: every municipality with its records and last\n"
     "    transfer; '!' marks one overdue (no accepted transfer for 90 days,\n"
     "    as configured by default).\n"
     "  vacancy report --series [--region PREFIX] [--from YYYY-MM] [--to YYYY-MM]\n"
     "    the vacant sites and their usable area at the end of each month, with\n"
     "    a bar; at most 240 months, by default the last 24.\n"
     "\n"
     "Tables are for people: thousands separated by commas, areas in whole m²,\n"
     "days to one decimal, '–' where the registry gave no value, times in UTC.\n"
     "--csv writes the values as they came (RFC 4180, CRLF, no totals), --json\n"
     "the server's JSON. Colour only on a terminal, never with NO_COLOR set.",
     report_opts},
    {"search", cmd_search, "find records by place, kind, size, price, text", "[filters] [options]",
     "Searches the records your role may see (GET /v1/records): investors the\n"
     "published records, municipality and county staff the records of their\n"
     "scope. The filters combine with AND; the values of one list filter\n"
     "(--site-kind, --usage, --marketing, --object-type, --status; repeated or\n"
     "A,B) with OR. Enum names may be written in lower case. Every filter and\n"
     "the orders are defined in docs/search.md; the filters are checked before\n"
     "anything is sent.\n"
     "\n"
     "One page is printed (50 records, or --page-size), and stderr says when\n"
     "more follow; --all follows the pages to the end, --limit N stops after N\n"
     "records. Paging is stable: each record once, in the order of the first\n"
     "page, while records change.\n"
     "\n"
     "The table shows the record id (for 'vacancy get'), the AGS, object type,\n"
     "status, usable area, purchase price or else monthly rent, locality and\n"
     "title (cut at 40 columns), server text escaped; it is printed once the\n"
     "last page is in. --json writes one Record per line (JSON lines, the\n"
     "protobuf JSON mapping, as 'vacancy get --json'), --csv RFC 4180 with the\n"
     "proto field names as header (lists joined by '|', CRLF); both page by\n"
     "page, the data as it came.\n"
     "\n"
     "Examples:\n"
     "  vacancy search --region 14521 --object-type retail,office_practice \\\n"
     "      --min-usable-area 100 --max-rent 1200\n"
     "  vacancy search --near 50.58,13.00,2000 --sort DISTANCE_ASC --limit 10\n"
     "  vacancy search --text 'Gewerbehalle -Abriss' --all --csv > hallen.csv\n"
     "  vacancy search --updated-since 2026-11-01 --all --json | jq .title\n"
     "\n"
     "Exit status: 0 success (also when nothing matches), 1 server or transport\n"
     "error, 2 usage error (nothing was sent).",
     search_opts},
    {"export", cmd_export, "write the search as a GeoJSON file", "--geojson FILE [filters]",
     "Writes the records a search with the same filters finds (every one, no\n"
     "pages; --sort orders them) as an RFC 7946 FeatureCollection: one Point\n"
     "feature per record with its public fields as properties\n"
     "(GET /v1/export.geojson, docs/search.md). The registry streams it and\n"
     "the client writes it as it arrives into FILE.tmp, which becomes FILE\n"
     "when the whole answer is in; on any failure, FILE is left as it was and\n"
     "FILE.tmp removed. With '--geojson -' it goes to stdout. An error answer\n"
     "(e.g. more than max_export_records matches) is printed and nothing is\n"
     "written. --timeout bounds the connection and each stall, not the whole\n"
     "download.\n"
     "\n"
     "Examples:\n"
     "  vacancy export --geojson leerstand.geojson --region 14521\n"
     "  vacancy export --geojson - --status MARKETED --site-kind BROWNFIELD | ogrinfo -ro -al "
     "-so /vsistdin/\n"
     "\n"
     "Exit status: 0 FILE written, 1 server, transport or write error, 2 usage\n"
     "error (nothing was sent).",
     export_opts},
    {"feed", cmd_feed, "follow the changes of the published records", "[options]",
     "Reads the change feed (GET /v1/changes), which mirrors use to keep a copy\n"
     "of the published records: in commit order, each record that became or\n"
     "stayed visible as UPSERT with its public form now, each that stopped\n"
     "being visible as WITHDRAW. One line per change:\n"
     "\n"
     "  CURSOR  KIND  RECORD_ID  object type, status, locality: title\n"
     "\n"
     "(server text escaped), or with --json the Change as one JSON line. It\n"
     "starts after --after CURSOR (default: the beginning) and stops when it\n"
     "has caught up or after --limit N changes; --follow keeps polling every\n"
     "--interval seconds until SIGINT or SIGTERM (a request in flight is\n"
     "finished first; lost connections and HTTP 503 are retried). At the end\n"
     "stderr says 'vacancy: next cursor N': run again with --after N to go on\n"
     "where this run stopped.\n"
     "\n"
     "Examples:\n"
     "  vacancy feed --limit 20\n"
     "  vacancy feed --after 1042 --follow --interval 30 --json >> changes.jsonl\n"
     "\n"
     "Exit status: 0 success (also when --follow was stopped by a signal), 1\n"
     "server or transport error, or interrupted without --follow, 2 usage error.",
     feed_opts},
    {"help", cmd_help, "show help for a command", "[COMMAND]",
     "Shows the general help, or the help of COMMAND.", no_opts},
};

/* Writes a usage error and a pointer to the help; returns CLI_USAGE. */
static int cli_usage_error(const struct cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
cli_usage_error(const struct cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("vacancy: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\nrun 'vacancy help %s' for its usage\n", cmd->name);
	else
		fputs("\nrun 'vacancy --help' for usage\n", stderr);
	return CLI_USAGE;
}

/* The command called name, or NULL. */
static const struct cmd *
cmd_find(const char *name)
{
	for (size_t i = 0; i < NELEM(cmds); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* The documentation of option id, or NULL. */
static const struct opt_doc *
opt_find(int id)
{
	for (size_t i = 0; i < NELEM(shared_opts); i++)
		if (shared_opts[i].opt.val == id)
			return &shared_opts[i];
	for (size_t i = 0; i < NELEM(command_opts); i++)
		if (command_opts[i].opt.val == id)
			return &command_opts[i];
	return NULL;
}

/* Writes the head of an option's help, "-h, --help" or "--name ARG", into head (64 bytes). */
static int
opt_head(const struct opt_doc *d, char *head)
{
	if (d->opt.val < 256) /* also a short option */
		return snprintf(head, 64, "-%c, --%s", d->opt.val, d->opt.name);
	return snprintf(head, 64, "--%s%s%s", d->opt.name, d->arg ? " " : "", d->arg ? d->arg : "");
}

/* Writes "  --name ARG   help" lines, help continuation lines aligned. */
static void
opt_print(FILE *out, const struct opt_doc *d, int width)
{
	char head[64];
	const char *p = d->help, *nl;

	opt_head(d, head);
	fprintf(out, "  %-*s  ", width, head);
	while ((nl = strchr(p, '\n')) != NULL) {
		fprintf(out, "%.*s\n%*s", (int)(nl - p), p, width + 4, "");
		p = nl + 1;
	}
	fprintf(out, "%s\n", p);
}

/* The general help. */
static void
cli_help(FILE *out)
{
	char head[64];
	int width = 26, w;

	fputs("usage: vacancy [options] COMMAND [ARGS]\n"
	      "\n"
	      "Client of the vacancy registry (vacancyd).\n"
	      "\n"
	      "commands:\n",
	      out);
	for (size_t i = 0; i < NELEM(cmds); i++)
		if ((w = snprintf(head, sizeof(head), "%s %s", cmds[i].name, cmds[i].synopsis)) >
			width &&
		    w < (int)sizeof(head))
			width = w;
	for (size_t i = 0; i < NELEM(cmds); i++) {
		snprintf(head, sizeof(head), "%s %s", cmds[i].name, cmds[i].synopsis);
		fprintf(out, "  %-*s  %s\n", width, head, cmds[i].summary);
	}
	fputs("\noptions (before or after the command; flags override the environment):\n", out);
	for (size_t i = 0; i < NELEM(shared_opts); i++)
		opt_print(out, &shared_opts[i], 17);
	fputs("\n"
	      "Exit status: 0 success, 1 server or transport error, 2 usage error.\n"
	      "Run 'vacancy help COMMAND' for the options of a command.\n",
	      out);
}

/* Prints the version and those of the libraries that matter for a bug report. */
static void
cli_version(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	printf("vacancy %s (libcurl %s, %s, protobuf-c %s)\n", VACANCY_VERSION, v->version,
	       v->ssl_version ? v->ssl_version : "no TLS", protobuf_c_version());
}

/* The help of one command. */
static void
cmd_usage(const struct cmd *cmd, FILE *out)
{
	char head[64];
	int width = 17, w;

	fprintf(out, "usage: vacancy %s %s\n\n%s\n", cmd->name, cmd->synopsis, cmd->details);
	for (const int *id = cmd->opts; *id; id++)
		if ((w = opt_head(opt_find(*id), head)) > width && w < 64)
			width = w;
	if (cmd->opts[0]) {
		fputs("\noptions:\n", out);
		for (const int *id = cmd->opts; *id; id++)
			opt_print(out, opt_find(*id), width);
	}
	fputs("\nShared options: --url, --token, --cacert, --cert, --key, --timeout "
	      "(see 'vacancy --help').\n",
	      out);
}

/* Wipes and frees the token copy. */
static void
cli_clear_token(struct cli *c)
{
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
		c->token = NULL;
	}
}

/* Takes a copy of the token; wipe wipes the original (an argv string). 0 or -1. */
static int
cli_set_token(struct cli *c, char *token, int wipe)
{
	cli_clear_token(c);
	if (*token && (c->token = strdup(token)) == NULL) {
		fprintf(stderr, "vacancy: out of memory\n");
		return -1;
	}
	if (wipe)
		explicit_bzero(token, strlen(token));
	return 0;
}

/* Parses "--timeout" seconds: a whole number from 1 to 86400. 0 or -1. */
static int
cli_timeout(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < 1 || v > 86400)
		return -1;
	*out = v;
	return 0;
}

/* Reads VACANCY_URL, VACANCY_TOKEN, VACANCY_CACERT, VACANCY_CERT and VACANCY_KEY. 0 or -1. */
static int
cli_env(struct cli *c)
{
	char *v;

	if ((v = getenv("VACANCY_URL")) != NULL && *v)
		c->url = v;
	if ((v = getenv("VACANCY_CACERT")) != NULL && *v)
		c->cacert = v;
	if ((v = getenv("VACANCY_CERT")) != NULL && *v)
		c->cert = v;
	if ((v = getenv("VACANCY_KEY")) != NULL && *v)
		c->key = v;
	if ((v = getenv("VACANCY_TOKEN")) != NULL && *v)
		return cli_set_token(c, v, 0);
	return 0;
}

/*
 * Parses the options of argv[1..argc) into c; argv[0] names the program or
 * the command. Without a command only the shared options are known and
 * parsing stops at the first operand (the command name); with one, its own
 * options are known too and may come after operands (argv is permuted).
 * Returns the index of the first operand, or -1 after a usage error.
 */
static int
cli_parse(struct cli *c, const struct cmd *cmd, int argc, char **argv)
{
	struct option longopts[NELEM(shared_opts) + NELEM(command_opts) + 1];
	char shortopt[2] = {0}, shown[64];
	size_t n = 0;
	int ch;

	for (size_t i = 0; i < NELEM(shared_opts); i++)
		longopts[n++] = shared_opts[i].opt;
	for (const int *id = cmd ? cmd->opts : no_opts; *id; id++)
		longopts[n++] = opt_find(*id)->opt;
	memset(&longopts[n], 0, sizeof(longopts[n]));
	optind = 0; /* GNU: start afresh */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, cmd ? ":hV" : "+:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_URL:
			c->url = optarg;
			break;
		case OPT_TOKEN:
			if (cli_set_token(c, optarg, 1) == -1)
				return -1;
			break;
		case OPT_CACERT:
			c->cacert = optarg;
			break;
		case OPT_CERT:
			c->cert = optarg;
			break;
		case OPT_KEY:
			c->key = optarg;
			break;
		case OPT_TIMEOUT:
			c->timeout_given = 1;
			if (cli_timeout(optarg, &c->timeout_s) == -1) {
				cli_usage_error(cmd,
						"--timeout wants whole seconds from 1 to 86400");
				return -1;
			}
			break;
		case OPT_JSON:
			c->json = 1;
			break;
		case OPT_CHECK:
			c->check = 1;
			break;
		case OPT_FULL:
			c->full = 1;
			break;
		case OPT_AGS:
			c->ags = optarg;
			break;
		case OPT_TRANSFER_ID:
			c->transfer_id = optarg;
			break;
		case OPT_BATCH: {
			char *end;

			errno = 0;
			c->batch = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end != '\0' || c->batch < 1 ||
			    c->batch > SYNC_MAX_BATCH) {
				cli_usage_error(cmd, "--batch wants a whole number from 1 to %d",
						SYNC_MAX_BATCH);
				return -1;
			}
			break;
		}
		case OPT_REGION:
			c->report.region = optarg;
			break;
		case OPT_GROUP_BY:
			c->report.group_by = optarg;
			break;
		case OPT_MUNICIPALITIES:
			c->report.municipalities = 1;
			break;
		case OPT_SERIES:
			c->report.series = 1;
			break;
		case OPT_FROM:
			c->report.from = optarg;
			break;
		case OPT_TO:
			c->report.to = optarg;
			break;
		case OPT_ASCII:
			c->report.ascii = 1;
			break;
		case OPT_CSV:
			c->csv = 1;
			break;
		case OPT_SEARCH_REGION:
		case OPT_BBOX:
		case OPT_NEAR:
		case OPT_SITE_KIND:
		case OPT_USAGE:
		case OPT_MARKETING:
		case OPT_OBJECT_TYPE:
		case OPT_STATUS:
		case OPT_MIN_USABLE_AREA:
		case OPT_MAX_USABLE_AREA:
		case OPT_MIN_PLOT_AREA:
		case OPT_MAX_PLOT_AREA:
		case OPT_MAX_PRICE:
		case OPT_MAX_RENT:
		case OPT_UPDATED_SINCE:
		case OPT_TEXT:
		case OPT_SORT: {
			enum search_param p = (enum search_param)(ch - OPT_SEARCH_REGION);

			if (search_option_add(&c->search, p, optarg) == -1) {
				cli_usage_error(cmd, "%s is given more than %d times",
						search_flag(p), SEARCH_MAX_ARGS);
				return -1;
			}
			break;
		}
		case OPT_ALL:
			c->search.all = 1;
			break;
		case OPT_LIMIT:
			c->search.limit = optarg;
			break;
		case OPT_PAGE_SIZE:
			c->search.page_size = optarg;
			break;
		case OPT_JSON_LINES:
			c->json = 1;
			break;
		case OPT_GEOJSON:
			c->search.geojson = optarg;
			break;
		case OPT_AFTER:
			c->feed.after = optarg;
			break;
		case OPT_FEED_LIMIT:
			c->feed.limit = optarg;
			break;
		case OPT_FOLLOW:
			c->feed.follow = 1;
			break;
		case OPT_INTERVAL:
			c->feed.interval = optarg;
			break;
		case OPT_HELP:
			c->help = 1;
			break;
		case OPT_VERSION:
			c->version = 1;
			break;
		case ':':
			cli_usage_error(cmd, "option %s needs an argument", argv[optind - 1]);
			return -1;
		default:
			/* Name only: a mistyped --token=... must not echo its value. */
			if (optopt) {
				shortopt[0] = (char)optopt;
				cli_usage_error(cmd, "unknown option -%s",
						log_escape(shortopt, 1, shown, sizeof(shown)));
			} else {
				cli_usage_error(cmd, "unknown option %s",
						log_escape(argv[optind - 1],
							   strcspn(argv[optind - 1], "="), shown,
							   sizeof(shown)));
			}
			return -1;
		}
	}
	return optind;
}

/* The session settings of c (pointers borrowed from c). */
static void
cli_http_config(const struct cli *c, struct client_http_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->url = c->url;
	cfg->token = c->token;
	cfg->cacert = c->cacert;
	cfg->cert = c->cert;
	cfg->key = c->key;
	cfg->user_agent = "vacancy/" VACANCY_VERSION;
	cfg->timeout_s = c->timeout_s;
}

/*
 * Checks the shared settings and opens the session into *h. Returns CLI_OK,
 * CLI_USAGE (bad or missing settings) or CLI_FAIL, having printed why.
 */
static int
cli_connect(const struct cli *c, struct client_http **h)
{
	struct client_http_config cfg;
	char err[512];

	cli_http_config(c, &cfg);
	/* a transfer of thousands of records takes longer than a GET */
	if (!c->timeout_given)
		cfg.timeout_s = SYNC_DEFAULT_TIMEOUT_S;
	if (client_http_check(&cfg, err, sizeof(err)) == -1)
		return cli_usage_error(NULL, "%s", err);
	if (client_http_open(h, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancy: %s\n", err);
		return CLI_FAIL;
	}
	return CLI_OK;
}

/*
 * Copies id to out (37 bytes) in lower case if it is a UUID written
 * 8-4-4-4-12 in hex digits. 0 or -1.
 */
static int
cli_uuid(const char *id, char *out)
{
	for (int i = 0; i < 36; i++) {
		char ch = id[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (ch != '-')
				return -1;
		} else if (ch >= 'A' && ch <= 'F') {
			ch = (char)(ch - 'A' + 'a');
		} else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
			return -1;
		}
		out[i] = ch;
	}
	if (id[36] != '\0')
		return -1;
	out[36] = '\0';
	return 0;
}

/* Writes a JSON body as it came, ending in a newline. 0 or -1. */
static int
cli_write_json(const struct client_response *r)
{
	if (r->body.len && fwrite(r->body.data, 1, r->body.len, stdout) != r->body.len)
		return -1;
	if ((r->body.len == 0 || r->body.data[r->body.len - 1] != '\n') &&
	    fputc('\n', stdout) == EOF)
		return -1;
	return 0;
}

/* vacancy get [--json] RECORD_ID */
static int
cmd_get(struct cli *c, const struct cmd *cmd, int argc, char **argv)
{
	struct client_http *h = NULL;
	struct client_http_config cfg;
	struct client_response resp;
	Vacancy__V1__Record *rec = NULL;
	const char *want = c->json ? CLIENT_HTTP_JSON : CLIENT_HTTP_PROTOBUF, *why = NULL;
	char id[37], path[64], *seg = NULL, shown[128];
	int rc;

	client_response_init(&resp);
	if (argc != 1) {
		rc = cli_usage_error(cmd, "get wants one RECORD_ID");
		goto done;
	}
	if (cli_uuid(argv[0], id) == -1) {
		rc = cli_usage_error(cmd, "'%s' is not a record ID (a UUID such as %s)",
				     log_escape(argv[0], strlen(argv[0]), shown, sizeof(shown)),
				     "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6a");
		goto done;
	}
	if ((rc = cli_connect(c, &h)) != CLI_OK)
		goto done;
	rc = CLI_FAIL;
	if ((seg = client_http_escape(id)) == NULL) {
		fprintf(stderr, "vacancy: out of memory\n");
		goto done;
	}
	snprintf(path, sizeof(path), "/v1/records/%s", seg);
	if (client_http_get(h, path, want, &resp) == -1) {
		fprintf(stderr, "vacancy: %s\n", client_http_error(h));
		goto done;
	}
	cli_http_config(c, &cfg);
	if (client_http_expect(&resp, &cfg, "GET /v1/records/{id}", want) == -1)
		goto done;
	if (c->json) {
		if (cli_write_json(&resp) == -1)
			goto done;
		rc = CLI_OK;
		goto done;
	}
	rec = (Vacancy__V1__Record *)client_http_unpack(&resp, &vacancy__v1__record__descriptor,
							&why);
	if (rec == NULL) {
		fprintf(stderr, "vacancy: cannot read the Record the server sent: %s (%zu bytes)\n",
			why, resp.body.len);
		goto done;
	}
	if (client_print_record(rec, stdout) == -1) {
		if (!ferror(stdout))
			fprintf(stderr, "vacancy: out of memory\n");
		goto done; /* main reports a write error */
	}
	rc = CLI_OK;
done:
	if (rec)
		client_http_free_message(&rec->base);
	client_response_free(&resp);
	client_http_close(h);
	free(seg);
	return rc;
}

/* vacancy sync FILE [--check] [--full] [--ags AGS] [--transfer-id ID] [--batch N] [--json] */
static int
cmd_sync(struct cli *c, const struct cmd *cmd, int argc, char **argv)
{
	struct client_http_config cfg;
	struct sync_options o = {
	    .file = argc > 0 ? argv[0] : NULL,
	    .ags = c->ags,
	    .transfer_id = c->transfer_id,
	    .batch = c->batch ? c->batch : SYNC_DEFAULT_BATCH,
	    .check = c->check,
	    .full = c->full,
	    .json = c->json,
	};

	if (argc != 1)
		return cli_usage_error(cmd, "sync wants one FILE");
	cli_http_config(c, &cfg);
	return sync_command(&o, &cfg);
}

/* vacancy report [--municipalities | --series] [options]; report.c checks and requests */
static int
cmd_report(struct cli *c, const struct cmd *cmd, int argc, char **argv)
{
	struct client_http_config cfg;
	struct report_options o = c->report;

	(void)argv;
	if (argc != 0)
		return cli_usage_error(cmd, "report takes options only, no operands");
	o.json = c->json;
	o.csv = c->csv;
	cli_http_config(c, &cfg);
	return report_command(&o, &cfg);
}

/* vacancy search [filters] [options]; search.c checks, requests and prints */
static int
cmd_search(struct cli *c, const struct cmd *cmd, int argc, char **argv)
{
	struct client_http_config cfg;
	struct search_options o = c->search;
	char shown[64];

	if (argc != 0)
		return cli_usage_error(cmd, "search takes options only, not '%s' (words: --text)",
				       log_escape(argv[0], strlen(argv[0]), shown, sizeof(shown)));
	o.json = c->json;
	o.csv = c->csv;
	cli_http_config(c, &cfg);
	return search_command(&o, SEARCH_MODE_RECORDS, &cfg);
}

/* vacancy export --geojson FILE [filters]; search.c checks and streams */
static int
cmd_export(struct cli *c, const struct cmd *cmd, int argc, char **argv)
{
	struct client_http_config cfg;
	char shown[64];

	if (argc != 0)
		return cli_usage_error(cmd,
				       "export takes options only, not '%s' (the file: "
				       "--geojson FILE)",
				       log_escape(argv[0], strlen(argv[0]), shown, sizeof(shown)));
	cli_http_config(c, &cfg);
	return search_command(&c->search, SEARCH_MODE_EXPORT, &cfg);
}

/* vacancy feed [--after CURSOR] [--limit N] [--follow [--interval S]] [--json] */
static int
cmd_feed(struct cli *c, const struct cmd *cmd, int argc, char **argv)
{
	struct client_http_config cfg;
	struct feed_options o = c->feed;

	(void)argv;
	if (argc != 0)
		return cli_usage_error(cmd, "feed takes options only, no operands");
	o.json = c->json;
	cli_http_config(c, &cfg);
	return feed_command(&o, &cfg);
}

/* vacancy help [COMMAND] */
static int
cmd_help(struct cli *c, const struct cmd *cmd, int argc, char **argv)
{
	const struct cmd *about;
	char shown[64];

	(void)c;
	if (argc == 0) {
		cli_help(stdout);
		return CLI_OK;
	}
	if (argc > 1)
		return cli_usage_error(cmd, "help wants at most one COMMAND");
	if ((about = cmd_find(argv[0])) == NULL)
		return cli_usage_error(NULL, "no command '%s'",
				       log_escape(argv[0], strlen(argv[0]), shown, sizeof(shown)));
	cmd_usage(about, stdout);
	return CLI_OK;
}

int
main(int argc, char **argv)
{
	struct cli c = {.timeout_s = 30};
	const struct cmd *cmd;
	char shown[64];
	int first, n, rc;

	if (cli_env(&c) == -1) {
		rc = CLI_FAIL;
		goto done;
	}
	if ((first = cli_parse(&c, NULL, argc, argv)) == -1) {
		rc = CLI_USAGE;
		goto done;
	}
	if (c.version) {
		cli_version();
		rc = CLI_OK;
		goto done;
	}
	if (first >= argc) {
		if (c.help) {
			cli_help(stdout);
			rc = CLI_OK;
		} else {
			rc = cli_usage_error(NULL, "no command given");
		}
		goto done;
	}
	if ((cmd = cmd_find(argv[first])) == NULL) {
		rc = cli_usage_error(
		    NULL, "no command '%s'",
		    log_escape(argv[first], strlen(argv[first]), shown, sizeof(shown)));
		goto done;
	}
	if ((n = cli_parse(&c, cmd, argc - first, argv + first)) == -1) {
		rc = CLI_USAGE;
		goto done;
	}
	if (c.help) {
		cmd_usage(cmd, stdout);
		rc = CLI_OK;
		goto done;
	}
	if (c.version) {
		cli_version();
		rc = CLI_OK;
		goto done;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "vacancy: cannot initialise libcurl\n");
		rc = CLI_FAIL;
		goto done;
	}
	rc = cmd->run(&c, cmd, argc - first - n, argv + first + n);
	curl_global_cleanup();
done:
	cli_clear_token(&c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "vacancy: writing the output: %s\n", strerror(errno));
		if (rc == CLI_OK)
			rc = CLI_FAIL;
	}
	return rc;
}
