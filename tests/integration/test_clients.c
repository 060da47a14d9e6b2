/*
 * test_clients: the client commands "vacancy search", "vacancy export" and
 * "vacancy feed" end to end against the real daemon and database. Seven
 * sites of one municipality are loaded with "vacancy sync" from a CSV file
 * written here: four that investors see (P-1..P-4) and three they never see
 * (H-1 INTERNAL, H-2 CONFIRMED, H-3 owner OBJECTED). What the client prints
 * is compared with docs/search.md written as SQL over
 * investor.published_record; the GeoJSON files are read by ogrinfo (GDAL);
 * the feed is compared with investor.changes. Usage errors are shown to
 * send nothing (the daemon's connection counter stands still), server errors
 * to print the server's message.
 *
 * The client runs as a child process (fork and exec, no shell), with the
 * registry's URL, CA and token in its environment, stdout and stderr in
 * files of the daemon's directory; a run that does not end within
 * CLI_TIMEOUT_MS is killed and counts as a failure.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "harness.h"
#include "vacancy.pb-c.h"

void test_clients_register(void);

#define AGS	       "14521020"
#define MAX_EXPORT     5
#define CLI_TIMEOUT_MS 20000
#define CLI_MAX_ARGS   32
#define ID_LEN	       36
/* the order of docs/search.md for the default sort */
#define BY_UPDATED " ORDER BY v._updated_at DESC, v.record_id"

extern char **environ;

static struct daemon dmn;
static char *tok_muni, *tok_county, *tok_investor;
static char since[64]; /* --updated-since between the two loads (RFC 3339) */

/* One site of the suite, as the CSV file gives it ("" = not given). */
struct site {
	const char *ext;
	const char *vis[3];   /* publication, owner_consent, owner_category */
	const char *what[5];  /* site_kind, usage, marketing, object_type, status */
	const char *where[4]; /* municipality_ars, location.lat, location.lon, location_blur_m */
	const char *size[4];  /* usable_area_m2, plot_area_m2, purchase_price_eur, rent_eur_month */
	const char *descr;
	char title[128];
	int published; /* investors see it */
	int revision;
	char id[ID_LEN + 1]; /* the registry's record_id, once loaded */
};

/* The CSV columns of an upsert row, after the fixed ones: those of vis, what, where, size. */
#define SITE_COLUMNS                                                                               \
	"publication,owner_consent,owner_category,site_kind,usage,marketing,object_type,status,"   \
	"municipality_ars,location.lat,location.lon,location_blur_m,usable_area_m2,plot_area_m2,"  \
	"purchase_price_eur,rent_eur_month"

/*
 * P-2 is published although its owner's consent is UNKNOWN (a business),
 * P-3 although only the notice is published (the municipality owns it).
 * P-4 is blurred by 500 m: investors see it at about 50.57941,13.00706,
 * some 300 m from its true place. The hidden sites match many filters and
 * texts, so that a search that forgot visibility would show them.
 */
static struct site sites[] = {
    {
	"P-1",
	{"PUBLIC", "NO_OBJECTION", "PRIVATE"},
	{"UNIT", "COMMERCIAL", "RENT", "RETAIL", "MARKETED"},
	{"", "50.5785", "13.0012", ""},
	{"110", "", "", "650"},
	"Ebenerdiges Ladenlokal, zuletzt ein Schuhgeschäft.",
	"Laden mit Schaufenster am Markt",
	1,
	1,
	"",
    },
    {
	"P-2",
	{"PUBLIC", "UNKNOWN", "BUSINESS"},
	{"BUILDING", "MIXED|RESIDENTIAL", "SALE", "HOUSE", "MARKETED"},
	{"145210020020", "50.5817", "13.0105", ""},
	{"380", "310", "89000", ""},
	"Laden und vier Wohnungen; das Dach wurde 1996 erneuert.",
	"Wohn- und Geschäftshaus der Gründerzeit",
	1,
	1,
	"",
    },
    {
	"P-3",
	{"PUBLIC", "NOTICE_PUBLISHED", "MUNICIPAL"},
	{"BROWNFIELD", "INDUSTRIAL|COMMERCIAL", "SALE|LEASE", "HALL_STORAGE_PRODUCTION",
	 "RESERVED"},
	{"", "50.5912", "13.0200", ""},
	{"1650", "4200", "320000", ""},
	"Stahlhalle mit Kranbahn, Hof mit 20 Stellplätzen.",
	"Gewerbehalle \"Nord\", mit Büro & Hof",
	1,
	1,
	"",
    },
    {
	"P-4",
	{"PUBLIC", "CONSENTED", "PRIVATE"},
	{"PLOT", "RESIDENTIAL", "SALE", "PLOT", "MARKETED"},
	{"", "50.57725", "13.0049", "500"},
	{"", "640", "38400", ""},
	"Ebenes Grundstück, bebaubar nach § 34 BauGB.",
	"Baulücke in der Altstadt",
	1,
	1,
	"",
    },
    {
	"H-1",
	{"INTERNAL", "CONSENTED", "PRIVATE"},
	{"UNIT", "COMMERCIAL", "RENT", "RETAIL", "MARKETED"},
	{"", "50.579", "13.003", ""},
	{"95", "", "", "400"},
	"Noch nicht freigegeben: Laden mit Schaufenster.",
	"Gewerbehalle intern",
	0,
	1,
	"",
    },
    {
	"H-2",
	{"PUBLIC", "CONSENTED", "BUSINESS"},
	{"BUILDING", "INDUSTRIAL", "SALE", "HALL_STORAGE_PRODUCTION", "CONFIRMED"},
	{"", "50.5678", "12.9895", ""},
	{"4800", "8200", "150000", ""},
	"Fabrik mit Shedhalle, seit 2012 ungenutzt.",
	"Ehemalige Fabrik mit Gewerbehallen",
	0,
	1,
	"",
    },
    {
	"H-3",
	{"PUBLIC", "OBJECTED", "PRIVATE"},
	{"UNIT", "COMMERCIAL", "RENT", "OFFICE_PRACTICE", "MARKETED"},
	{"", "50.5796", "13.0033", ""},
	{"240", "", "", "1560"},
	"Sechs Räume, Teeküche; Laden im Erdgeschoss.",
	"Büroetage am Markt mit Hof",
	0,
	1,
	"",
    },
};

#define NSITES ((int)(sizeof(sites) / sizeof(sites[0])))

/* ---- helpers ---- */

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static long
count(const char *sql)
{
	char *v = harness_sql_value(sql);
	long n = v ? atol(v) : -1;

	free(v);
	return n;
}

/* The site whose external id or record id is key, or NULL. */
static struct site *
site(const char *key)
{
	for (int i = 0; i < NSITES; i++)
		if (strcmp(sites[i].ext, key) == 0 || strcmp(sites[i].id, key) == 0)
			return &sites[i];
	return NULL;
}

/* The record id of site ext ("?" when unknown). */
static const char *
id_of(const char *ext)
{
	struct site *s = site(ext);

	return s && s->id[0] ? s->id : "?";
}

/* A whole file (malloc'd, NUL-terminated; *len its length) or NULL. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			char *nb = realloc(b, cap = (n + 4096 + 1) * 2);

			if (nb == NULL) {
				free(b);
				fclose(f);
				return NULL;
			}
			b = nb;
		}
		got = fread(b + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	fclose(f);
	b[n] = '\0';
	if (len)
		*len = n;
	return b;
}

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* A path in the daemon's directory, into out (700 bytes). */
static const char *
work(char *out, const char *name)
{
	snprintf(out, 700, "%s/%s", dmn.dir, name);
	return out;
}

/*
 * The ids a SQL query lists (first column), each followed by '\n', into out.
 * param, if not NULL, is $1 (as text). Returns the number of rows, -1 on an
 * SQL error.
 */
static int
sql_ids(const char *sql, const char *param, char *out, size_t outlen)
{
	PGconn *c = harness_pg(harness_env("VACANCY_TEST_PG_CONNINFO"));
	PGresult *res =
	    PQexecParams(c, sql, param ? 1 : 0, NULL, param ? &param : NULL, NULL, NULL, 0);
	int n = -1;

	out[0] = '\0';
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		n = PQntuples(res);
		for (int i = 0; i < n; i++)
			snprintf(out + strlen(out), outlen - strlen(out), "%s\n",
				 PQgetvalue(res, i, 0));
	} else {
		fprintf(stderr, "test_clients: SQL failed: %s\n%s\n", PQerrorMessage(c), sql);
	}
	PQclear(res);
	PQfinish(c);
	return n;
}

/* The ids of a list ("id\n" each) as external ids "P-1,P-3", into out. */
static const char *
exts(const char *ids, char *out, size_t outlen)
{
	char id[ID_LEN + 1];

	out[0] = '\0';
	for (const char *p = ids; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != '\0')) {
		struct site *s;

		snprintf(id, sizeof(id), "%.*s", (int)strcspn(p, "\n"), p);
		s = site(id);
		snprintf(out + strlen(out), outlen - strlen(out), "%s%s", out[0] ? "," : "",
			 s ? s->ext : id);
	}
	return out;
}

/* Appends to out each value of "key":"..." in text, in order, each with '\n'. */
static int
values_of(const char *text, const char *key, char *out, size_t outlen)
{
	char pat[64];
	int n = 0;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	for (const char *p = strstr(text, pat); p; p = strstr(p, pat)) {
		p += strlen(pat);
		snprintf(out + strlen(out), outlen - strlen(out), "%.*s\n", (int)strcspn(p, "\""),
			 p);
		n++;
	}
	return n;
}

/* 1 when ids is a list of record ids, each followed by '\n', none twice. */
static int
distinct(const char *ids)
{
	size_t n = strlen(ids), w = ID_LEN + 1;

	if (n % w != 0)
		return 0;
	for (size_t i = 0; i < n; i += w) {
		if (ids[i + ID_LEN] != '\n')
			return 0;
		for (size_t j = i + w; j < n; j += w)
			if (memcmp(ids + i, ids + j, ID_LEN) == 0)
				return 0;
	}
	return 1;
}

/* ---- running the client ---- */

/* What one run of the client left. */
struct run {
	int status; /* exit status; 128 + signal; -2 killed after CLI_TIMEOUT_MS */
	char *out;  /* stdout, owned */
	char *err;  /* stderr, owned */
	size_t out_len;
};

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/*
 * Starts the client with args (NULL-terminated) and the registry's URL, CA
 * and token (none when token is NULL) in its environment; stdout and
 * stderr go to the files out and err. SIGINT and SIGTERM have their default
 * action and are not blocked, as in a shell's foreground. Returns the pid.
 */
static pid_t
cli_spawn(const char *token, const char *const *args, const char *out, const char *err)
{
	char url[64], ca[600], tok[512];
	const char *argv[CLI_MAX_ARGS + 2], *envp[512];
	int n = 0, e = 0;
	pid_t pid;

	snprintf(url, sizeof(url), "VACANCY_URL=https://127.0.0.1:%d", dmn.port);
	snprintf(ca, sizeof(ca), "VACANCY_CACERT=%s/ca.pem", harness_env("VACANCY_TEST_TLS"));
	snprintf(tok, sizeof(tok), "VACANCY_TOKEN=%s", token ? token : "");
	argv[n++] = harness_env("VACANCY_TEST_CLIENT");
	for (; *args && n < CLI_MAX_ARGS; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	for (char **v = environ; *v && e < 500; v++)
		if (strncmp(*v, "VACANCY_URL=", 12) != 0 &&
		    strncmp(*v, "VACANCY_TOKEN=", 14) != 0 &&
		    strncmp(*v, "VACANCY_CACERT=", 15) != 0 &&
		    strncmp(*v, "VACANCY_MUNICIPALITY_AGS=", 25) != 0)
			envp[e++] = *v;
	envp[e++] = url;
	envp[e++] = ca;
	if (token)
		envp[e++] = tok;
	envp[e] = NULL;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		sigset_t none;
		int fd_in = open("/dev/null", O_RDONLY);
		int fd_out = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fd_err = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd_in < 0 || fd_out < 0 || fd_err < 0 || dup2(fd_in, 0) < 0 ||
		    dup2(fd_out, 1) < 0 || dup2(fd_err, 2) < 0)
			_exit(126);
		setpgid(0, 0); /* cli_wait kills all it started */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(argv[0], (char *const *)argv, (char *const *)envp);
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid); /* also here: whichever runs first */
	return pid;
}

/*
 * Waits for pid: its exit status, 128 + signal, or -2 after timeout_ms, when
 * its process group (it and whatever it started) is killed.
 */
static int
cli_wait(pid_t pid, int timeout_ms)
{
	int status;

	for (int waited = 0; waited <= timeout_ms; waited += 5) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (w == -1 && errno != EINTR)
			return -1;
		sleep_ms(5);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -2;
}

/* Runs the client with args (NULL-terminated) as token; fills r. Returns r->status. */
static int
cli_v(struct run *r, const char *token, const char *const *args)
{
	char out[700], err[700], line[1024] = "";
	pid_t pid;

	work(out, "cli.out");
	work(err, "cli.err");
	memset(r, 0, sizeof(*r));
	if ((pid = cli_spawn(token, args, out, err)) < 0)
		r->status = -1;
	else if ((r->status = cli_wait(pid, CLI_TIMEOUT_MS)) == -2) {
		for (const char *const *a = args; *a; a++)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s", *a);
		fprintf(stderr, "test_clients: 'vacancy%s' did not end within %d ms: killed\n",
			line, CLI_TIMEOUT_MS);
	}
	r->out = slurp(out, &r->out_len);
	r->err = slurp(err, NULL);
	if (r->out == NULL)
		r->out = calloc(1, 1);
	if (r->err == NULL)
		r->err = calloc(1, 1);
	return r->status;
}

/* cli_v with the arguments in the call, NULL-terminated. */
static int
cli(struct run *r, const char *token, ...)
{
	const char *args[CLI_MAX_ARGS + 1];
	va_list ap;
	int n = 0;

	va_start(ap, token);
	while (n < CLI_MAX_ARGS && (args[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	args[n] = NULL;
	return cli_v(r, token, args);
}

/* The number of lines of s. */
static int
lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The last line of s (without its '\n'), into out. */
static const char *
last_line(const char *s, char *out, size_t outlen)
{
	size_t n = strlen(s), start;

	while (n > 0 && s[n - 1] == '\n')
		n--;
	start = n;
	while (start > 0 && s[start - 1] != '\n')
		start--;
	snprintf(out, outlen, "%.*s", (int)(n - start), s + start);
	return out;
}

/*
 * The ids "vacancy search --json --all FILTERS" prints as token, each with
 * '\n', into out; their number, or -1 when the run failed.
 */
static int
search_ids(const char *token, const char *const *filters, char *out, size_t outlen)
{
	const char *args[CLI_MAX_ARGS + 1] = {"search", "--json", "--all"};
	struct run r;
	int n = 3, got = -1;

	for (; *filters && n < CLI_MAX_ARGS; filters++)
		args[n++] = *filters;
	args[n] = NULL;
	out[0] = '\0';
	if (cli_v(&r, token, args) == 0) {
		got = values_of(r.out, "recordId", out, outlen);
		CU_ASSERT_EQUAL(lines(r.out), got); /* one JSON object per line */
	} else {
		fprintf(stderr, "test_clients: search failed (%d): %s\n", r.status, r.err);
	}
	run_free(&r);
	return got;
}

/* 1 when two id lists are equal; else 0, and both are printed as external ids. */
static int
same_ids(const char *what, const char *got, const char *want)
{
	char a[512], b[512];

	if (strcmp(got, want) == 0 && distinct(got))
		return 1;
	fprintf(stderr, "test_clients: %s: got [%s], want [%s]\n", what, exts(got, a, sizeof(a)),
		exts(want, b, sizeof(b)));
	return 0;
}

/* The external ids of a list of record ids, sorted, comma-separated, into out. */
static const char *
ext_set(const char *ids, char *out, size_t outlen)
{
	char tmp[512];
	const char *names[16];
	int n = 0;

	exts(ids, tmp, sizeof(tmp));
	for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t && n < 16;
	     t = strtok_r(NULL, ",", &save)) {
		int k = n++;

		while (k > 0 && strcmp(names[k - 1], t) > 0) {
			names[k] = names[k - 1];
			k--;
		}
		names[k] = t;
	}
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(out + strlen(out), outlen - strlen(out), "%s%s", i ? "," : "", names[i]);
	return out;
}

/* A counter of the daemon's /metrics: the value of the line "name VALUE", or -1. */
static long long
metric(const char *name)
{
	struct http_resp r;
	long long v = -1;
	size_t n = strlen(name);

	if (harness_http(&dmn, "GET", "/metrics", NULL, NULL, NULL, NULL, 0, NULL, &r) == 0 &&
	    r.status == 200) {
		for (const char *p = r.body; p && *p;
		     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			if (strncmp(p, name, n) == 0 && p[n] == ' ') {
				v = atoll(p + n + 1);
				break;
			}
		if (v == -1)
			v = 0; /* a counter not yet shown */
	}
	harness_resp_free(&r);
	return v;
}

#define ACCEPTED    "vacancyd_connections_accepted_total"
#define CHANGES_200 "vacancyd_requests_total{endpoint=\"GET /v1/changes\",status=\"200\"}"

/* The message of the Error the daemon answers to GET path as token (malloc'd), or NULL. */
static char *
server_message(const char *token, const char *path, long want_status)
{
	struct http_resp r;
	Vacancy__V1__Error *e = NULL;
	char *msg = NULL;

	if (harness_http(&dmn, "GET", path, token, "application/x-protobuf", NULL, NULL, 0, NULL,
			 &r) == 0 &&
	    r.status == want_status &&
	    (e = vacancy__v1__error__unpack(NULL, r.len, (const uint8_t *)r.body)) != NULL &&
	    e->message && *e->message)
		msg = strdup(e->message);
	if (e)
		vacancy__v1__error__free_unpacked(e, NULL);
	if (msg == NULL)
		fprintf(stderr, "test_clients: GET %s: HTTP %ld, not %ld with a message\n", path,
			r.status, want_status);
	harness_resp_free(&r);
	return msg;
}

/* "Feature Count: N" of ogrinfo on path, or -1 when ogrinfo refuses the file. */
static int
ogr_count(const char *path)
{
	char cmd[1024], out[8192];
	const char *p;

	snprintf(cmd, sizeof(cmd), "ogrinfo -ro -al -so '%s' 2>&1", path);
	if (harness_run(cmd, out, sizeof(out)) != 0 ||
	    (p = strstr(out, "Feature Count: ")) == NULL) {
		fprintf(stderr, "test_clients: ogrinfo %s:\n%s\n", path, out);
		return -1;
	}
	return atoi(p + 15);
}

/* ---- the CSV files of vacancy sync ---- */

#define CSV_HEAD                                                                                   \
	"action,municipality_ags,external_id,revision,last_verified_at,street,postcode,"           \
	"locality," SITE_COLUMNS ",title,description\n"
#define CSV_NCOLS (8 + 3 + 5 + 4 + 4 + 2)

/* One cell, quoted (RFC 4180), then ',' or the end of the row. */
static void
csv_cell(FILE *f, const char *s, int last)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputs(last ? "\"\n" : "\",", f);
}

/*
 * Writes the CSV file name in the daemon's directory: an upsert row for
 * each site of ups (NULL-terminated external ids, each at its revision) and a
 * withdrawal of wd (if not NULL) at its revision; then runs "vacancy sync" on
 * it as the municipality. Returns the client's exit status.
 */
static int
sync_csv(const char *name, const char *const *ups, const char *wd)
{
	char path[700], tid[64], rev[16];
	struct run r;
	FILE *f = fopen(work(path, name), "w");
	int rc;

	CU_ASSERT_PTR_NOT_NULL(f);
	if (f == NULL)
		return -1;
	fputs(CSV_HEAD, f);
	for (; *ups; ups++) {
		const struct site *s = site(*ups);
		const char *const *groups[] = {s->vis, s->what, s->where, s->size};
		const int ngroup[] = {3, 5, 4, 4};

		snprintf(rev, sizeof(rev), "%d", s->revision);
		fprintf(f, "U," AGS ",%s,%s,2026-10-01,Teststraße,09456,Annaberg-Buchholz,", s->ext,
			rev);
		for (int g = 0; g < 4; g++)
			for (int k = 0; k < ngroup[g]; k++)
				csv_cell(f, groups[g][k], 0);
		csv_cell(f, s->title, 0);
		csv_cell(f, s->descr, 1);
	}
	if (wd) {
		struct site *s = site(wd);

		snprintf(rev, sizeof(rev), "%d", s->revision);
		fprintf(f, "D," AGS ",%s,%s", s->ext, rev);
		for (int k = 4; k < CSV_NCOLS; k++) /* the other cells empty */
			fputc(',', f);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		return -1;
	snprintf(tid, sizeof(tid), "clients-%s", name);
	rc = cli(&r, tok_muni, "sync", "--transfer-id", tid, path, NULL);
	if (rc != 0)
		fprintf(stderr, "test_clients: sync %s: %d\n%s%s\n", name, rc, r.out, r.err);
	run_free(&r);
	return rc;
}

/* ---- the suite ---- */

static int
suite_init(void)
{
	if (harness_sql("TRUNCATE registry.record, registry.transfer, registry.feed, "
			"registry.sync_session_item, registry.personal_access_log CASCADE") == -1)
		return -1;
	if (harness_daemon_start(&dmn, "max_export_records = 5\nauth_cache_ttl_ms = 60000") == -1 ||
	    harness_daemon_wait_healthy(&dmn, 10000) == -1)
		return -1;
	tok_muni = harness_token(&dmn, "municipality", AGS);
	tok_county = harness_token(&dmn, "county", "14521");
	tok_investor = harness_token(&dmn, "investor", "");
	return tok_muni && tok_county && tok_investor ? 0 : -1;
}

static int
suite_clean(void)
{
	int rc = harness_daemon_stop(&dmn);

	free(tok_muni);
	free(tok_county);
	free(tok_investor);
	return rc == 0 ? 0 : -1;
}

/* The investors' records in the documented order, into out; their number. */
static int
published(char *out, size_t outlen)
{
	return sql_ids("SELECT v.record_id FROM investor.published_record v" BY_UPDATED, NULL, out,
		       outlen);
}

/* 1. Seven sites in two syncs: exactly P-1..P-4 are published. */
static void
test_load(void)
{
	static const char *const first[] = {"P-1", "P-2", "H-1", "H-2", NULL};
	static const char *const second[] = {"P-3", "P-4", "H-3", NULL};
	char sql[512], ids[1024], set[256];
	char *v;

	CU_ASSERT_EQUAL_FATAL(sync_csv("load-1.csv", first, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(sync_csv("load-2.csv", second, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(count("SELECT count(*) FROM registry.record"), NSITES);
	for (int i = 0; i < NSITES; i++) {
		snprintf(sql, sizeof(sql),
			 "SELECT record_id FROM registry.record_internal WHERE external_id = '%s' "
			 "AND municipality_ags = '" AGS "'",
			 sites[i].ext);
		v = harness_sql_value(sql);
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		snprintf(sites[i].id, sizeof(sites[i].id), "%s", v);
		free(v);
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM investor.published_record WHERE record_id = '%s'",
			 sites[i].id);
		CU_ASSERT_EQUAL(count(sql), sites[i].published);
	}
	CU_ASSERT_EQUAL(published(ids, sizeof(ids)), 4);
	CU_ASSERT_STRING_EQUAL(ext_set(ids, set, sizeof(set)), "P-1,P-2,P-3,P-4");
	/* the second load is later than the first: --updated-since can tell them apart */
	CU_ASSERT_EQUAL(
	    count("SELECT count(*) FROM registry.record r JOIN registry.record_internal "
		  "i USING (record_id) WHERE i.external_id IN ('P-3', 'P-4', 'H-3') "
		  "AND r.updated_at <= (SELECT max(r2.updated_at) FROM registry.record "
		  "r2 JOIN registry.record_internal i2 USING (record_id) WHERE "
		  "i2.external_id IN ('P-1', 'P-2', 'H-1', 'H-2'))"),
	    0);
	v = harness_sql_value("SELECT to_char(min(r.updated_at) AT TIME ZONE 'UTC', "
			      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM registry.record r JOIN "
			      "registry.record_internal i USING (record_id) WHERE i.external_id "
			      "IN ('P-3', 'P-4', 'H-3')");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	snprintf(since, sizeof(since), "%s", v);
	free(v);
}

/* 2. "vacancy search" as investor: exactly the published records, in order. */
static void
test_search_published(void)
{
	static const char *const none[] = {NULL};
	char got[1024], want[1024];
	struct run r;

	CU_ASSERT_EQUAL(published(want, sizeof(want)), 4);
	CU_ASSERT_EQUAL(search_ids(tok_investor, none, got, sizeof(got)), 4);
	CU_ASSERT(same_ids("search --json", got, want));
	/* the table: a header and one row per record, no hidden site */
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "search", NULL), 0);
	CU_ASSERT_EQUAL(lines(r.out), 5);
	CU_ASSERT_EQUAL(strncmp(r.out, "record id", 9), 0);
	for (int i = 0; i < NSITES; i++)
		CU_ASSERT_EQUAL(strstr(r.out, sites[i].id) != NULL, sites[i].published);
	run_free(&r);
}

/* A filter: flags, the same as SQL over v (investor.published_record), and
 * the external ids it matches (sorted). */
struct filter_case {
	const char *args[5];
	const char *where;
	const char *param; /* $1 of where, or NULL */
	const char *want;
};

#define POINT "ST_SetSRID(ST_MakePoint(13.0012, 50.5785), 4326)::geography"
#define TSQ   "v._tsv @@ websearch_to_tsquery('german', $1)"

static const struct filter_case filter_cases[] = {
    {{"--object-type", "RETAIL"}, "v.object_type = 'RETAIL'", NULL, "P-1"},
    {{"--object-type", "retail,house"}, "v.object_type IN ('RETAIL', 'HOUSE')", NULL, "P-1,P-2"},
    {{"--object-type", "RETAIL", "--object-type", "PLOT"},
     "v.object_type IN ('RETAIL', 'PLOT')",
     NULL,
     "P-1,P-4"},
    {{"--status", "RESERVED"}, "v.status = 'RESERVED'", NULL, "P-3"},
    {{"--status", "MARKETED"}, "v.status = 'MARKETED'", NULL, "P-1,P-2,P-4"},
    {{"--usage", "RESIDENTIAL"},
     "v._usage && ARRAY['RESIDENTIAL']::registry.usage[]",
     NULL,
     "P-2,P-4"},
    {{"--usage", "INDUSTRIAL,MIXED"},
     "v._usage && ARRAY['INDUSTRIAL', 'MIXED']::registry.usage[]",
     NULL,
     "P-2,P-3"},
    {{"--marketing", "LEASE"}, "v._marketing && ARRAY['LEASE']::registry.marketing[]", NULL, "P-3"},
    {{"--site-kind", "PLOT,BROWNFIELD"}, "v.site_kind IN ('PLOT', 'BROWNFIELD')", NULL, "P-3,P-4"},
    {{"--min-usable-area", "380"}, "v.usable_area_m2 >= 380", NULL, "P-2,P-3"},
    {{"--max-usable-area", "380"}, "v.usable_area_m2 <= 380", NULL, "P-1,P-2"},
    {{"--min-plot-area", "640"}, "v.plot_area_m2 >= 640", NULL, "P-3,P-4"},
    {{"--max-plot-area", "640"}, "v.plot_area_m2 <= 640", NULL, "P-2,P-4"},
    {{"--max-price", "89000"}, "v._price <= 89000", NULL, "P-2,P-4"},
    {{"--max-rent", "650.00"}, "v._rent <= 650", NULL, "P-1"},
    {{"--region", "145210020020"}, "v.municipality_ars LIKE '145210020020%'", NULL, "P-2"},
    {{"--region", "14521035"}, "v.municipality_ags LIKE '14521035%'", NULL, ""},
    /* edges included: P-1 on the lower corner, P-2 on the upper */
    {{"--bbox", "50.5785,13.0012,50.5817,13.0105"},
     "ST_Y(v._geom) BETWEEN 50.5785 AND 50.5817 AND ST_X(v._geom) BETWEEN 13.0012 AND 13.0105",
     NULL,
     "P-1,P-2,P-4"},
    /* P-4's true place: investors see it elsewhere */
    {{"--bbox", "50.577,13.004,50.578,13.006"},
     "ST_Y(v._geom) BETWEEN 50.577 AND 50.578 AND ST_X(v._geom) BETWEEN 13.004 AND 13.006",
     NULL,
     ""},
    /* P-4 is 300 m from P-1, its blurred place some 430 m */
    {{"--near", "50.5785,13.0012,350"},
     "ST_DWithin(v._geom::geography, " POINT ", 350)",
     NULL,
     "P-1"},
    {{"--updated-since", "2000-01-01"},
     "v._updated_at >= '2000-01-01T00:00:00Z'",
     NULL,
     "P-1,P-2,P-3,P-4"},
    {{"--text", "Gewerbehallen"}, TSQ, "Gewerbehallen", "P-3"},
    {{"--text", "\"Gewerbehalle Nord\""}, TSQ, "\"Gewerbehalle Nord\"", "P-3"},
    {{"--text", "Büro & Hof"}, TSQ, "Büro & Hof", "P-3"},
    {{"--text", "'; DROP TABLE registry.record; --"}, TSQ, "'; DROP TABLE registry.record; --", ""},
    {{"--text", "Laden -Schaufenster"}, TSQ, "Laden -Schaufenster", "P-2"},
    {{"--text", "und der"}, TSQ, "und der", ""},
    {{"--object-type", "RETAIL,HOUSE", "--max-price", "100000"},
     "v.object_type IN ('RETAIL', 'HOUSE') AND v._price <= 100000",
     NULL,
     "P-2"},
};

/* Runs one filter case (with extra SQL order, or the default); 1 when it holds. */
static int
filter_holds(const char *what, const char *const *args, const char *where, const char *param,
	     const char *order, const char *want_set)
{
	char sql[1024], got[1024], want[1024], set[256];
	int ok = 1;

	snprintf(sql, sizeof(sql), "SELECT v.record_id FROM investor.published_record v WHERE %s%s",
		 where, order ? order : BY_UPDATED);
	if (sql_ids(sql, param, want, sizeof(want)) < 0 ||
	    search_ids(tok_investor, args, got, sizeof(got)) < 0)
		ok = 0;
	else if (!same_ids(what, got, want))
		ok = 0;
	if (strcmp(ext_set(want, set, sizeof(set)), want_set) != 0) {
		fprintf(stderr, "test_clients: %s: SQL finds [%s], the data say [%s]\n", what, set,
			want_set);
		ok = 0;
	}
	return ok;
}

/* 3. Each filter narrows the search as its SQL does. */
static void
test_filters(void)
{
	const char *args[5] = {"--updated-since", since, NULL};
	char what[128];

	for (size_t i = 0; i < sizeof(filter_cases) / sizeof(filter_cases[0]); i++) {
		const struct filter_case *c = &filter_cases[i];

		snprintf(what, sizeof(what), "filter %zu (%s %s)", i, c->args[0], c->args[1]);
		CU_ASSERT(filter_holds(what, c->args, c->where, c->param, NULL, c->want));
	}
	CU_ASSERT(filter_holds("--updated-since (the second load)", args,
			       "v._updated_at >= $1::timestamptz", since, NULL, "P-3,P-4"));
	args[0] = "--near";
	args[1] = "50.5785,13.0012,1000";
	args[2] = "--sort";
	args[3] = "distance_asc";
	CU_ASSERT(filter_holds("--near 1000 m by distance", args,
			       "ST_DWithin(v._geom::geography, " POINT ", 1000)", NULL,
			       " ORDER BY ST_Distance(v._geom::geography, " POINT "), v.record_id",
			       "P-1,P-2,P-4"));
	/* the text was a parameter, not SQL */
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM registry.record"), NSITES);
}

/* 4. Every order, and paging: all pages give one page's records, once each. */
static void
test_sort_and_pages(void)
{
	static const struct {
		const char *args[5];
		const char *order;
		const char *want; /* external ids in order; NULL: ties of the load order */
	} sorts[] = {
	    {{"--sort", "UPDATED_DESC"}, BY_UPDATED, NULL},
	    {{"--sort", "AREA_DESC"},
	     " ORDER BY v.usable_area_m2 DESC NULLS LAST, v.record_id",
	     "P-3,P-2,P-1,P-4"},
	    {{"--sort", "AREA_ASC"},
	     " ORDER BY v.usable_area_m2 ASC NULLS LAST, v.record_id",
	     "P-1,P-2,P-3,P-4"},
	    {{"--sort", "PRICE_ASC"},
	     " ORDER BY v._price ASC NULLS LAST, v.record_id",
	     "P-4,P-2,P-3,P-1"},
	    {{"--sort", "DISTANCE_ASC", "--near", "50.5785,13.0012,50000"},
	     " ORDER BY ST_Distance(v._geom::geography, " POINT "), v.record_id",
	     "P-1,P-4,P-2,P-3"},
	};
	char sql[512], got[1024], want[1024], names[256], what[64];
	struct run r;

	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		const char *paged[8] = {"--page-size", "1"};

		snprintf(sql, sizeof(sql), "SELECT v.record_id FROM investor.published_record v%s",
			 sorts[i].order);
		CU_ASSERT_EQUAL(sql_ids(sql, NULL, want, sizeof(want)), 4);
		exts(want, names, sizeof(names));
		if (sorts[i].want) {
			CU_ASSERT_STRING_EQUAL(names, sorts[i].want);
		} else { /* the second load first */
			CU_ASSERT(strncmp(names, "P-3,P-4", 7) == 0 ||
				  strncmp(names, "P-4,P-3", 7) == 0);
		}
		CU_ASSERT_EQUAL(search_ids(tok_investor, sorts[i].args, got, sizeof(got)), 4);
		snprintf(what, sizeof(what), "%s %s", sorts[i].args[0], sorts[i].args[1]);
		CU_ASSERT(same_ids(what, got, want));
		/* page by page: the same */
		for (int k = 0; k < 4 && sorts[i].args[k]; k++)
			paged[2 + k] = sorts[i].args[k];
		CU_ASSERT_EQUAL(search_ids(tok_investor, paged, got, sizeof(got)), 4);
		CU_ASSERT(same_ids(what, got, want));
	}

	/* one big page, pages of 1 and of 2 */
	CU_ASSERT_EQUAL(published(want, sizeof(want)), 4);
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "search", "--json", "--page-size", "50", NULL), 0);
	values_of(r.out, "recordId", got, sizeof(got));
	CU_ASSERT(same_ids("one page", got, want));
	CU_ASSERT_PTR_NULL(strstr(r.err, "more records follow"));
	run_free(&r);
	CU_ASSERT_EQUAL(
	    cli(&r, tok_investor, "search", "--json", "--all", "--page-size", "1", NULL), 0);
	values_of(r.out, "recordId", got, sizeof(got));
	CU_ASSERT(same_ids("--all --page-size 1", got, want));
	run_free(&r);
	CU_ASSERT_EQUAL(
	    search_ids(tok_investor, (const char *[]){"--page-size", "2", NULL}, got, sizeof(got)),
	    4);
	CU_ASSERT(same_ids("--all --page-size 2", got, want));
	/* without --all: the first page, and a word that more follow */
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "search", "--json", "--page-size", "2", NULL), 0);
	values_of(r.out, "recordId", got, sizeof(got));
	CU_ASSERT_EQUAL(strlen(got), 2 * (ID_LEN + 1));
	CU_ASSERT(strlen(got) <= strlen(want) && strncmp(got, want, strlen(got)) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "more records follow"));
	run_free(&r);
	/* --limit across pages */
	CU_ASSERT_EQUAL(
	    cli(&r, tok_investor, "search", "--json", "--limit", "3", "--page-size", "2", NULL), 0);
	values_of(r.out, "recordId", got, sizeof(got));
	CU_ASSERT_EQUAL(strlen(got), 3 * (ID_LEN + 1));
	CU_ASSERT(strlen(got) <= strlen(want) && strncmp(got, want, strlen(got)) == 0);
	run_free(&r);
}

/* A parsed CSV text: rows of cells (owned). */
struct csv {
	int nrows;
	int ncells[16];
	char *cell[16][32];
};

static void
csv_free(struct csv *t)
{
	for (int i = 0; i < t->nrows; i++)
		for (int k = 0; k < t->ncells[i]; k++)
			free(t->cell[i][k]);
	t->nrows = 0;
}

/*
 * Parses RFC 4180 text strictly (rows end in CRLF, the last one too; a cell
 * with '"', ',', CR or LF is quoted, a quote in it doubled). 0, or -1 when
 * the text is not such CSV or too large for t.
 */
static int
csv_parse(const char *s, struct csv *t)
{
	memset(t, 0, sizeof(*t));
	while (*s) {
		char cell[1024];
		size_t n = 0;

		if (t->nrows == 16 || t->ncells[t->nrows] == 32)
			return -1;
		if (*s == '"') {
			for (s++;; s++) {
				if (*s == '\0')
					return -1;
				if (*s == '"' && s[1] != '"')
					break;
				if (*s == '"')
					s++;
				if (n + 1 < sizeof(cell))
					cell[n++] = *s;
			}
			s++;
		} else {
			for (; *s && *s != ',' && *s != '\r' && *s != '\n'; s++) {
				if (*s == '"')
					return -1;
				if (n + 1 < sizeof(cell))
					cell[n++] = *s;
			}
		}
		cell[n] = '\0';
		t->cell[t->nrows][t->ncells[t->nrows]++] = strdup(cell);
		if (*s == ',') {
			s++;
		} else if (s[0] == '\r' && s[1] == '\n') {
			s += 2;
			t->nrows++;
		} else {
			return -1;
		}
	}
	return 0;
}

/* The column of name in the header row of t, or -1. */
static int
csv_col(const struct csv *t, const char *name)
{
	for (int k = 0; t->nrows > 0 && k < t->ncells[0]; k++)
		if (strcmp(t->cell[0][k], name) == 0)
			return k;
	return -1;
}

/* 5. --csv: RFC 4180 with a header, one row per record, the values as stored. */
static void
test_csv(void)
{
	static const char head[] =
	    "record_id,municipality_ags,site_kind,object_type,status,usage,marketing,"
	    "usable_area_m2,plot_area_m2,purchase_price_eur,rent_eur_month,price_on_request,"
	    "street,house_number,postcode,locality,lat,lon,updated_at,title";
	char want[1024], got[1024] = "", sql[256], *v;
	struct run r;
	struct csv t;
	int title, price, lat;

	CU_ASSERT_EQUAL(published(want, sizeof(want)), 4);
	/* pages of 3: the header once */
	CU_ASSERT_EQUAL_FATAL(
	    cli(&r, tok_investor, "search", "--csv", "--all", "--page-size", "3", NULL), 0);
	CU_ASSERT_EQUAL(strncmp(r.out, head, strlen(head)), 0);
	CU_ASSERT_EQUAL_FATAL(csv_parse(r.out, &t), 0);
	run_free(&r);
	CU_ASSERT_EQUAL(t.nrows, 5);
	for (int i = 0; i < t.nrows; i++)
		CU_ASSERT_EQUAL(t.ncells[i], 20);
	title = csv_col(&t, "title");
	price = csv_col(&t, "purchase_price_eur");
	lat = csv_col(&t, "lat");
	CU_ASSERT_FATAL(title > 0 && price > 0 && lat > 0);
	for (int i = 1; i < t.nrows; i++) {
		struct site *s = site(t.cell[i][0]);

		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s\n", t.cell[i][0]);
		CU_ASSERT_STRING_EQUAL(t.cell[i][1], AGS);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		/* quotes, commas and '&' come back as they went in */
		CU_ASSERT_STRING_EQUAL(t.cell[i][title], s->title);
		snprintf(sql, sizeof(sql),
			 "SELECT coalesce(purchase_price_eur, '') || '|' || ST_Y(_geom) FROM "
			 "investor.published_record WHERE record_id = '%s'",
			 s->id);
		v = harness_sql_value(sql);
		CU_ASSERT_PTR_NOT_NULL_FATAL(v);
		CU_ASSERT_EQUAL(strncmp(v, t.cell[i][price], strcspn(v, "|")), 0);
		CU_ASSERT_EQUAL(strlen(t.cell[i][price]), strcspn(v, "|"));
		/* the position investors see (P-4: blurred) */
		CU_ASSERT_DOUBLE_EQUAL(strtod(t.cell[i][lat], NULL),
				       strtod(strchr(v, '|') + 1, NULL), 1e-9);
		free(v);
	}
	CU_ASSERT(same_ids("--csv", got, want));
	csv_free(&t);
}

/* 6. export --geojson: a file ogrinfo reads, with the records of the search. */
static void
test_export(void)
{
	char file[700], tmp[710], got[1024], want[1024], *text;
	struct run r;

	work(file, "investor.geojson");
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	CU_ASSERT_EQUAL(published(want, sizeof(want)), 4);
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "export", "--geojson", file, NULL), 0);
	CU_ASSERT_EQUAL(r.out_len, 0);
	run_free(&r);
	CU_ASSERT_FALSE(exists(tmp));
	CU_ASSERT_EQUAL(ogr_count(file), 4);
	text = slurp(file, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(strncmp(text, "{\"type\":\"FeatureCollection\"", 27), 0);
	values_of(text, "id", got, sizeof(got));
	CU_ASSERT(same_ids("export", got, want));
	/* PUBLIC fields only */
	CU_ASSERT_PTR_NULL(strstr(text, "externalId"));
	CU_ASSERT_PTR_NULL(strstr(text, "ownerCategory"));
	free(text);

	/* with a filter and an order */
	work(file, "filtered.geojson");
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "export", "--geojson", file, "--object-type",
			    "RETAIL,HOUSE", "--sort", "AREA_DESC", NULL),
			0);
	run_free(&r);
	CU_ASSERT_EQUAL(ogr_count(file), 2);
	text = slurp(file, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	values_of(text, "id", got, sizeof(got));
	snprintf(want, sizeof(want), "%s\n%s\n", id_of("P-2"), id_of("P-1"));
	CU_ASSERT(same_ids("export --object-type RETAIL,HOUSE --sort AREA_DESC", got, want));
	free(text);

	/* to stdout */
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "export", "--geojson", "-", NULL), 0);
	CU_ASSERT_EQUAL(strncmp(r.out, "{\"type\":\"FeatureCollection\"", 27), 0);
	CU_ASSERT_EQUAL(values_of(r.out, "id", got, sizeof(got)), 4);
	run_free(&r);
	CU_ASSERT_EQUAL(ogr_count(work(file, "cli.out")), 4);
}

/* 7. A failed export leaves no file (and an old one as it was). */
static void
test_export_errors(void)
{
	char file[700], tmp[710], *msg, *text;
	struct run r;
	FILE *f;

	/* the county's seven records are more than max_export_records */
	work(file, "county.geojson");
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	CU_ASSERT_EQUAL(cli(&r, tok_county, "export", "--geojson", file, NULL), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "max_export_records"));
	CU_ASSERT_EQUAL(r.out_len, 0);
	run_free(&r);
	CU_ASSERT_FALSE(exists(file));
	CU_ASSERT_FALSE(exists(tmp));
	/* an old file stays as it was */
	f = fopen(file, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("old\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(cli(&r, tok_county, "export", "--geojson", file, NULL), 1);
	run_free(&r);
	text = slurp(file, NULL);
	CU_ASSERT(text && strcmp(text, "old\n") == 0);
	free(text);
	CU_ASSERT_FALSE(exists(tmp));
	unlink(file);
	/* exactly max_export_records is allowed: P-1, P-2, P-4, H-1, H-3 */
	CU_ASSERT_EQUAL(
	    cli(&r, tok_county, "export", "--geojson", file, "--status", "MARKETED", NULL), 0);
	run_free(&r);
	CU_ASSERT_EQUAL(ogr_count(file), MAX_EXPORT);
	unlink(file);

	/* investors never see CONFIRMED: the registry refuses (400), exit 1 */
	work(file, "confirmed.geojson");
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	msg = server_message(tok_investor, "/v1/export.geojson?status=CONFIRMED", 400);
	CU_ASSERT_PTR_NOT_NULL(msg);
	CU_ASSERT_EQUAL(
	    cli(&r, tok_investor, "export", "--geojson", file, "--status", "CONFIRMED", NULL), 1);
	CU_ASSERT(msg && strstr(r.err, msg) != NULL);
	run_free(&r);
	free(msg);
	CU_ASSERT_FALSE(exists(file));
	CU_ASSERT_FALSE(exists(tmp));
}

/*
 * The feed lines of out as "CURSOR KIND ID\n" (the summary left out), into
 * norm; their number, or -1 when a line is not "CURSOR  KIND  ID ...".
 */
static int
feed_lines(const char *out, char *norm, size_t len)
{
	char line[1024], cursor[32], kind[16], id[64];
	int n = 0;

	norm[0] = '\0';
	for (const char *p = out; *p; n++) {
		size_t l = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		if (sscanf(line, "%31s %15s %63s", cursor, kind, id) != 3 || strlen(id) != ID_LEN)
			return -1;
		snprintf(norm + strlen(norm), len - strlen(norm), "%s %s %s\n", cursor, kind, id);
		p += l + (p[l] == '\n');
	}
	return n;
}

/* The changes after cursor as investor.changes has them, normalised as feed_lines; their
 * number. */
static int
feed_want(const char *after, char *out, size_t len)
{
	return sql_ids("SELECT c.seq || ' ' || CASE WHEN p.record_id IS NULL THEN 'WITHDRAW' ELSE "
		       "'UPSERT' END || ' ' || c.record_id FROM investor.changes c LEFT JOIN "
		       "investor.published_record p USING (record_id) WHERE c.seq > $1::bigint "
		       "ORDER BY c.seq",
		       after, out, len);
}

/* 1 when the last line of err is "vacancy: next cursor CURSOR (...". */
static int
ends_with_cursor(const char *err, const char *cursor)
{
	char last[256], want[96];

	snprintf(want, sizeof(want), "vacancy: next cursor %s (", cursor);
	if (strncmp(last_line(err, last, sizeof(last)), want, strlen(want)) == 0)
		return 1;
	fprintf(stderr, "test_clients: stderr ends with '%s', not '%s...'\n", last, want);
	return 0;
}

/* 1 when the file at path contains s, waiting up to timeout_ms for it. */
static int
file_gets(const char *path, const char *s, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		char *text = slurp(path, NULL);
		int found = text && strstr(text, s);

		free(text);
		if (found)
			return 1;
		sleep_ms(50);
	}
	return 0;
}

/* 1 when the daemon has answered a GET /v1/changes since it answered before, waiting up to
 * timeout_ms. */
static int
polled_since(long long before, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		if (metric(CHANGES_200) > before)
			return 1;
		sleep_ms(50);
	}
	return 0;
}

/*
 * "vacancy feed --follow --interval 1 --after END" while one sync happens
 * (ups, wd as sync_csv); stopped by sig. Checks that it printed exactly
 * the sync's changes and stopped cleanly.
 */
static void
follow(int sig, const char *name, const char *const *ups, const char *wd)
{
	char out[700], err[700], norm[2048], want[2048], last[ID_LEN + 1], *end, *text;
	const char *args[] = {"feed", "--follow", "--interval", "1", "--after", NULL, NULL};
	long long polls;
	int n = wd != NULL;
	pid_t pid;

	for (const char *const *u = ups; *u; u++)
		n++;
	end = harness_sql_value("SELECT coalesce(max(seq), 0) FROM investor.changes");
	CU_ASSERT_PTR_NOT_NULL_FATAL(end);
	args[5] = end;
	work(out, "follow.out");
	work(err, "follow.err");
	polls = metric(CHANGES_200);
	pid = cli_spawn(tok_investor, args, out, err);
	CU_ASSERT_FATAL(pid > 0);
	/* it has asked once and found nothing: the change comes while it runs */
	CU_ASSERT(polled_since(polls, 10000));
	CU_ASSERT_EQUAL(sync_csv(name, ups, wd), 0);
	CU_ASSERT_EQUAL(feed_want(end, want, sizeof(want)), n);
	/* the id of the last change */
	snprintf(last, sizeof(last), "%s",
		 strlen(want) > ID_LEN ? want + strlen(want) - ID_LEN - 1 : "");
	CU_ASSERT(last[0] && file_gets(out, last, 10000));
	kill(pid, sig);
	CU_ASSERT_EQUAL(cli_wait(pid, 10000), 0);
	text = slurp(out, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(feed_lines(text, norm, sizeof(norm)), lines(want));
	CU_ASSERT_STRING_EQUAL(norm, want);
	free(text);
	free(end);
	end = harness_sql_value("SELECT max(seq) FROM investor.changes");
	text = slurp(err, NULL);
	CU_ASSERT(end && text && ends_with_cursor(text, end));
	free(text);
	free(end);
}

/* 8. The feed: every change, resumable; updates and withdrawals; --follow. */
static void
test_feed(void)
{
	static const char *const p1[] = {"P-1", NULL}, *const p3[] = {"P-3", NULL};
	static const char *const none[] = {NULL};
	char want[2048], norm[2048], got[2048], cursor[32] = "", *end;
	struct run r;
	int n;

	/* from the beginning: the four published records, nothing of the hidden ones */
	n = feed_want("0", want, sizeof(want));
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "feed", NULL), 0);
	CU_ASSERT_EQUAL(feed_lines(r.out, norm, sizeof(norm)), 4);
	CU_ASSERT_STRING_EQUAL(norm, want);
	for (int i = 0; i < NSITES; i++)
		CU_ASSERT_EQUAL(strstr(r.out, sites[i].id) != NULL, sites[i].published);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "UPSERT"));
	end = harness_sql_value("SELECT max(seq) FROM investor.changes");
	CU_ASSERT_PTR_NOT_NULL_FATAL(end);
	CU_ASSERT(ends_with_cursor(r.err, end));
	run_free(&r);

	/* two, then the rest from where the first run stopped */
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "feed", "--limit", "2", NULL), 0);
	CU_ASSERT_EQUAL(feed_lines(r.out, got, sizeof(got)), 2);
	if (strchr(got, '\n') != NULL)
		snprintf(cursor, sizeof(cursor), "%.*s", (int)strcspn(strchr(got, '\n') + 1, " "),
			 strchr(got, '\n') + 1);
	CU_ASSERT(ends_with_cursor(r.err, cursor));
	run_free(&r);
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "feed", "--after", cursor, NULL), 0);
	CU_ASSERT_EQUAL(feed_lines(r.out, got + strlen(got), sizeof(got) - strlen(got)), 2);
	CU_ASSERT_STRING_EQUAL(got, want);
	CU_ASSERT(ends_with_cursor(r.err, end));
	run_free(&r);
	/* at the end: nothing new, the same cursor */
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "feed", "--after", end, NULL), 0);
	CU_ASSERT_EQUAL(r.out_len, 0);
	CU_ASSERT(ends_with_cursor(r.err, end));
	run_free(&r);

	/* a sync that updates P-1 and withdraws P-2 */
	snprintf(site("P-1")->title, sizeof(site("P-1")->title), "Laden am Markt, renoviert");
	site("P-1")->revision = 2;
	site("P-2")->revision = 2;
	site("P-2")->published = 0;
	CU_ASSERT_EQUAL(sync_csv("update.csv", p1, "P-2"), 0);
	CU_ASSERT_EQUAL(feed_want(end, want, sizeof(want)), 2);
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "feed", "--after", end, NULL), 0);
	CU_ASSERT_EQUAL(feed_lines(r.out, norm, sizeof(norm)), 2);
	CU_ASSERT_STRING_EQUAL(norm, want);
	snprintf(got, sizeof(got), " UPSERT %s\n", id_of("P-1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(norm, got));
	snprintf(got, sizeof(got), " WITHDRAW %s\n", id_of("P-2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(norm, got));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "Laden am Markt, renoviert"));
	run_free(&r);
	free(end);

	/* --follow takes a change made while it runs; SIGINT and SIGTERM end it with 0 */
	snprintf(site("P-3")->title, sizeof(site("P-3")->title), "Gewerbehalle Nord, neu gedeckt");
	site("P-3")->revision = 2;
	follow(SIGINT, "follow-1.csv", p3, NULL);
	site("P-4")->revision = 2;
	site("P-4")->published = 0;
	follow(SIGTERM, "follow-2.csv", none, "P-4");
}

/* 9. Usage errors exit 2 and send nothing; server errors exit 1 with the server's message. */
static void
test_errors(void)
{
	static const char *const bad[][6] = {
	    {"search", "--bbox", "1,2,3"},
	    {"search", "--min-usable-area", "abc"},
	    {"search", "--colour", "red"},
	    {"search", "--status", "VACANT"},
	    {"search", "--sort", "DISTANCE_ASC"},
	    {"search", "--min-plot-area", "500", "--max-plot-area", "100"},
	    {"search", "--json", "--csv"},
	    {"export", "--region", "14521"},
	    {"export", "--geojson", "-", "--all"},
	    {"feed", "--interval", "1"},
	    {"feed", "--after", "abc"},
	};
	static const char *const mention[] = {
	    "--bbox", "--min-usable-area", "--colour", "--status", "--near",  "--max-plot-area",
	    "--csv",  "--geojson",	   "--all",    "--follow", "--after",
	};
	long long before, idle, after;
	struct run r;
	char *msg;

	/* how much one look at the counter moves it */
	before = metric(ACCEPTED);
	idle = metric(ACCEPTED) - before;
	CU_ASSERT(before > 0 && idle >= 1);
	before = metric(ACCEPTED);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(cli_v(&r, tok_investor, bad[i]), 2);
		if (strstr(r.err, mention[i]) == NULL)
			fprintf(stderr, "test_clients: '%s %s' said: %s\n", bad[i][0], bad[i][1],
				r.err);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, mention[i]));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "run 'vacancy "));
		CU_ASSERT_EQUAL(r.out_len, 0);
		run_free(&r);
	}
	after = metric(ACCEPTED);
	CU_ASSERT_EQUAL(after - before, idle); /* no connection but the counter's own */

	/* 400: a page larger than the registry's maximum */
	msg = server_message(tok_investor, "/v1/records?page_size=100000", 400);
	CU_ASSERT_PTR_NOT_NULL(msg);
	CU_ASSERT_EQUAL(cli(&r, tok_investor, "search", "--page-size", "100000", NULL), 1);
	CU_ASSERT(msg && strstr(r.err, msg) != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "INVALID_ARGUMENT"));
	CU_ASSERT_EQUAL(r.out_len, 0);
	run_free(&r);
	free(msg);

	/* 401: a well-formed token the registry does not know */
	msg = server_message("vcy_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/v1/records", 401);
	CU_ASSERT_PTR_NOT_NULL(msg);
	CU_ASSERT_EQUAL(
	    cli(&r, "vcy_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "search", "--json", NULL),
	    1);
	CU_ASSERT(msg && strstr(r.err, msg) != NULL);
	CU_ASSERT_EQUAL(r.out_len, 0);
	run_free(&r);
	CU_ASSERT_EQUAL(cli(&r, "vcy_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "feed", NULL),
			1);
	CU_ASSERT(msg && strstr(r.err, msg) != NULL);
	run_free(&r);
	free(msg);

	/* 403: a municipality searching another municipality */
	msg = server_message(tok_muni, "/v1/records?region=14521035", 403);
	CU_ASSERT_PTR_NOT_NULL(msg);
	CU_ASSERT_EQUAL(cli(&r, tok_muni, "search", "--region", "14521035", NULL), 1);
	CU_ASSERT(msg && strstr(r.err, msg) != NULL);
	CU_ASSERT_EQUAL(r.out_len, 0);
	run_free(&r);
	free(msg);
}

void
test_clients_register(void)
{
	CU_pSuite s = CU_add_suite("clients", suite_init, suite_clean);

	CU_add_test(s, "sync loads seven sites, four published", test_load);
	CU_add_test(s, "search: exactly the published records, in order", test_search_published);
	CU_add_test(s, "search: each filter as its SQL", test_filters);
	CU_add_test(s, "search: every order; pages neither skip nor repeat", test_sort_and_pages);
	CU_add_test(s, "search --csv is RFC 4180", test_csv);
	CU_add_test(s, "export --geojson: ogrinfo reads it", test_export);
	CU_add_test(s, "export errors leave no file", test_export_errors);
	CU_add_test(s, "feed: changes, --after, --follow and signals", test_feed);
	CU_add_test(s, "usage errors send nothing; server errors exit 1", test_errors);
}
