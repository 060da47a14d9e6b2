/*
 * test_client_search: "vacancy search", "vacancy export" and "vacancy feed"
 * (clients/search.c, clients/feed.c) without the registry: the query
 * string of every flag (percent-encoding of every kind of character,
 * repeated and comma-separated lists), the checks of every flag with the
 * reason they give, the three outputs of a search and the line of a
 * change compared with the exact expected text, and the commands run
 * against a fake HTTP server in a child process, which records the request
 * lines it gets: a usage error sends nothing, --all follows the page
 * tokens, --limit asks for what it still needs, an export lands in FILE
 * (via FILE.tmp) or, on an error answer, nowhere, and the feed moves its
 * cursor and says where to go on.
 */
#include <CUnit/CUnit.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../clients/feed.h"
#include "../../clients/http.h"
#include "../../clients/search.h"
#include "json.h"

void test_client_search_register(void);

#define ERRSZ  512
#define UUID_A "0b4f3c9e-5a1d-4e2b-9c7a-1f2e3d4c5b6a"
#define UUID_B "7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"

/* ---- Helpers ---- */

/* The filter part of the query string o gives (owned), or NULL with err set. */
static char *
filters(const struct search_options *o, char *err)
{
	struct search_query q;
	char *s;

	err[0] = '\0';
	if (search_check(o, SEARCH_MODE_RECORDS, &q, err, ERRSZ) == -1)
		return NULL;
	s = strdup(q.filters);
	search_query_free(&q);
	return s;
}

/* The query string of one flag given once with arg. */
static char *
one(enum search_param p, const char *arg, char *err)
{
	struct search_options o = {0};

	CU_ASSERT_EQUAL_FATAL(search_option_add(&o, p, arg), 0);
	return filters(&o, err);
}

/* Checks that flag p with arg gives exactly want. */
static void
check_one(enum search_param p, const char *arg, const char *want)
{
	char err[ERRSZ], *got = one(p, arg, err);

	if (got == NULL || strcmp(got, want) != 0) {
		fprintf(stderr, "\n%s '%s': got '%s' (%s), want '%s'\n", search_flag(p), arg,
			got ? got : "(error)", err, want);
		CU_FAIL("query string differs");
	}
	free(got);
}

/* Checks that flag p with arg is a usage error whose reason starts with the flag and has part. */
static void
check_bad(enum search_param p, const char *arg, const char *part)
{
	char err[ERRSZ], *got = one(p, arg, err);

	if (got != NULL || strncmp(err, search_flag(p), strlen(search_flag(p))) != 0 ||
	    strstr(err, part) == NULL) {
		fprintf(stderr, "\n%s '%s': got '%s', reason '%s', want one with '%s'\n",
			search_flag(p), arg, got ? got : "(error)", err, part);
		CU_FAIL("not refused as expected");
	}
	free(got);
}

/* Compares got with want and shows both on a mismatch. */
static void
check_text(const char *got, const char *want)
{
	if (got == NULL || strcmp(got, want) != 0) {
		fprintf(stderr, "\n--- got:\n%s--- want:\n%s---\n", got ? got : "(null)", want);
		CU_FAIL("output differs");
	}
}

/* A memstream and what it holds after close. */
struct capture {
	FILE *f;
	char *text;
	size_t len;
};

static FILE *
capture_open(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->text, &c->len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->f);
	return c->f;
}

static const char *
capture_close(struct capture *c)
{
	fclose(c->f);
	return c->text ? c->text : "";
}

/* The whole content of a file (owned), or NULL when it cannot be read. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	fclose(f);
	return s;
}

/* ---- A fake registry: canned answers, one per connection, request lines logged ---- */

struct fake {
	pid_t pid;
	int port;
	char dir[64];
	char log[128]; /* the request lines, one per line */
};

struct answer {
	char *data; /* owned */
	size_t len;
};

/* An HTTP answer with status, content type and body (len bytes; chunked when chunked). */
static struct answer
answer(int status, const char *type, const void *body, size_t len, int chunked)
{
	struct answer a;
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "HTTP/1.1 %d X\r\nContent-Type: %s\r\nConnection: close\r\n", status, type);
	if (chunked) {
		buf_adds(&b, "Transfer-Encoding: chunked\r\n\r\n");
		for (size_t off = 0; off < len; off += 7) { /* small chunks */
			size_t n = len - off < 7 ? len - off : 7;

			buf_printf(&b, "%zx\r\n", n);
			buf_add(&b, (const char *)body + off, n);
			buf_adds(&b, "\r\n");
		}
		buf_adds(&b, "0\r\n\r\n");
	} else {
		buf_printf(&b, "Content-Length: %zu\r\n\r\n", len);
		buf_add(&b, body, len);
	}
	a.data = buf_detach(&b, &a.len);
	return a;
}

/* A protobuf answer of m with status. */
static struct answer
answer_msg(int status, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *p = malloc(n + 1);
	struct answer a;

	protobuf_c_message_pack(m, p);
	a = answer(status, "application/x-protobuf", p, n, 0);
	free(p);
	return a;
}

/* Serves a[0..n) in order, one per connection, in a child; frees a. */
static void
fake_start(struct fake *f, struct answer *a, int n)
{
	struct sockaddr_in sin = {0};
	socklen_t slen = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/vacancy-test-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(f->dir));
	snprintf(f->log, sizeof(f->log), "%s/requests", f->dir);
	CU_ASSERT_FATAL(lfd >= 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	CU_ASSERT_EQUAL_FATAL(listen(lfd, 8), 0);
	CU_ASSERT_EQUAL_FATAL(getsockname(lfd, (struct sockaddr *)&sin, &slen), 0);
	f->port = ntohs(sin.sin_port);
	fflush(NULL);
	f->pid = fork();
	CU_ASSERT_FATAL(f->pid >= 0);
	if (f->pid == 0) {
		for (int i = 0; i < n; i++) {
			int c = accept(lfd, NULL, NULL), logfd;
			char head[8192];
			size_t got = 0;
			ssize_t r;

			if (c < 0)
				_exit(1);
			while (got < sizeof(head) - 1 &&
			       (r = read(c, head + got, sizeof(head) - 1 - got)) > 0) {
				got += (size_t)r;
				head[got] = '\0';
				if (strstr(head, "\r\n\r\n"))
					break;
			}
			head[got] = '\0';
			logfd = open(f->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
			if (logfd >= 0) {
				size_t line = strcspn(head, "\r\n");

				if (write(logfd, head, line) < 0 || write(logfd, "\n", 1) < 0)
					_exit(1);
				close(logfd);
			}
			if (write(c, a[i].data, a[i].len) < 0)
				_exit(1);
			shutdown(c, SHUT_WR);
			while (read(c, head, sizeof(head)) > 0)
				;
			close(c);
		}
		_exit(0);
	}
	close(lfd);
	for (int i = 0; i < n; i++)
		free(a[i].data);
}

/* Stops the child; returns the request lines it logged (owned, "" for none). */
static char *
fake_stop(struct fake *f)
{
	char *log, path[160];

	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
	log = slurp(f->log);
	unlink(f->log);
	snprintf(path, sizeof(path), "%s/out", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/err", f->dir);
	unlink(path);
	rmdir(f->dir);
	return log ? log : strdup("");
}

/* A session configuration for the fake (plain http on loopback). */
static void
fake_config(const struct fake *f, struct client_http_config *cfg, char *url, size_t len)
{
	snprintf(url, len, "http://127.0.0.1:%d", f->port);
	memset(cfg, 0, sizeof(*cfg));
	cfg->url = url;
	cfg->token = "vct_test";
	cfg->user_agent = "test";
	cfg->timeout_s = 5;
}

/* Output of a command run in this process: stdout and stderr into files of the fake's dir. */
struct run {
	int saved_out, saved_err;
	char out[160], err[160];
};

static void
run_begin(struct run *r, const struct fake *f)
{
	int fd;

	snprintf(r->out, sizeof(r->out), "%s/out", f->dir);
	snprintf(r->err, sizeof(r->err), "%s/err", f->dir);
	fflush(stdout);
	fflush(stderr);
	r->saved_out = dup(1);
	r->saved_err = dup(2);
	fd = open(r->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	close(fd);
	fd = open(r->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
}

/* Restores stdout and stderr; *out and *err get what was written (owned). */
static void
run_end(struct run *r, char **out, char **err)
{
	fflush(stdout);
	fflush(stderr);
	dup2(r->saved_out, 1);
	dup2(r->saved_err, 2);
	close(r->saved_out);
	close(r->saved_err);
	*out = slurp(r->out);
	*err = slurp(r->err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*err);
}

/* Runs search_command against f with o; *out and *err as run_end gives them. */
static int
run_search(const struct fake *f, const struct search_options *o, enum search_mode mode, char **out,
	   char **err)
{
	struct client_http_config cfg;
	char url[64];
	struct run r;
	int rc;

	fake_config(f, &cfg, url, sizeof(url));
	run_begin(&r, f);
	rc = search_command(o, mode, &cfg);
	run_end(&r, out, err);
	return rc;
}

/* A record for the outputs: id, AGS, type, status, area (< 0: none), price, rent, place, title. */
struct rec {
	Vacancy__V1__Record r;
	Vacancy__V1__LatLon loc;
	Vacancy__V1__Usage__Value usage[2];
	Vacancy__V1__Marketing__Value marketing[1];
};

static void
rec_init(struct rec *x, const char *id, const char *ags, Vacancy__V1__ObjectType__Value type,
	 Vacancy__V1__Status__Value status, double area, const char *price, const char *rent,
	 const char *locality, const char *title)
{
	vacancy__v1__record__init(&x->r);
	vacancy__v1__lat_lon__init(&x->loc);
	x->r.record_id = (char *)id;
	x->r.municipality_ags = (char *)ags;
	x->r.has_object_type = 1;
	x->r.object_type = type;
	x->r.has_status = 1;
	x->r.status = status;
	if (area >= 0) {
		x->r.has_usable_area_m2 = 1;
		x->r.usable_area_m2 = area;
	}
	x->r.purchase_price_eur = (char *)price;
	x->r.rent_eur_month = (char *)rent;
	x->r.locality = (char *)locality;
	x->r.title = (char *)title;
}

/* ---- The query string ---- */

static void
test_escape(void)
{
	struct buf b;

	buf_init(&b, 0);
	search_escape(&b, "AZaz09-._~", 0);
	CU_ASSERT_STRING_EQUAL(b.data, "AZaz09-._~");
	buf_reset(&b);
	/* every reserved and unsafe ASCII character is encoded */
	search_escape(&b, " !\"#$%&'()*+,/:;<=>?@[\\]^`{|}", 0);
	CU_ASSERT_STRING_EQUAL(b.data, "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%"
				       "3F%40%5B%5C%5D%5E%60%7B%7C%7D");
	buf_reset(&b);
	/* control characters, DEL, UTF-8 and bytes that are not UTF-8, byte by byte */
	search_escape(&b, "\t\n\r\x7f\xc3\xa4\xe2\x82\xac\xff", 0);
	CU_ASSERT_STRING_EQUAL(b.data, "%09%0A%0D%7F%C3%A4%E2%82%AC%FF");
	buf_reset(&b);
	/* commas are kept only where a value is a list of numbers */
	search_escape(&b, "50.5,-12.9", 1);
	CU_ASSERT_STRING_EQUAL(b.data, "50.5,-12.9");
	buf_reset(&b);
	search_escape(&b, "50.5,-12.9", 0);
	CU_ASSERT_STRING_EQUAL(b.data, "50.5%2C-12.9");
	CU_ASSERT_FALSE(buf_failed(&b));
	buf_free(&b);
}

static void
test_every_flag(void)
{
	check_one(SEARCH_REGION, "14521", "region=14521");
	check_one(SEARCH_REGION, "145210020020", "region=145210020020");
	check_one(SEARCH_BBOX, "50.5,12.9,50.7,13.1", "bbox=50.5,12.9,50.7,13.1");
	check_one(SEARCH_BBOX, "-10,-170.25,10,170", "bbox=-10,-170.25,10,170");
	check_one(SEARCH_NEAR, "50.58,13.00,2000", "near=50.58,13.00,2000");
	check_one(SEARCH_SITE_KIND, "BROWNFIELD", "site_kind=BROWNFIELD");
	check_one(SEARCH_USAGE, "mixed", "usage=MIXED");
	check_one(SEARCH_MARKETING, "Rent", "marketing=RENT");
	check_one(SEARCH_OBJECT_TYPE, "hall_storage_production",
		  "object_type=HALL_STORAGE_PRODUCTION");
	check_one(SEARCH_STATUS, "MARKETED", "status=MARKETED");
	check_one(SEARCH_MIN_USABLE_AREA, "100", "min_usable_area_m2=100");
	check_one(SEARCH_MAX_USABLE_AREA, "250.75", "max_usable_area_m2=250.75");
	check_one(SEARCH_MIN_PLOT_AREA, "0", "min_plot_area_m2=0");
	check_one(SEARCH_MAX_PLOT_AREA, "5000", "max_plot_area_m2=5000");
	check_one(SEARCH_MAX_PRICE, "150000", "max_purchase_price_eur=150000");
	check_one(SEARCH_MAX_PRICE, "99999.5", "max_purchase_price_eur=99999.5");
	check_one(SEARCH_MAX_RENT, "1200.00", "max_rent_eur_month=1200.00");
	check_one(SEARCH_UPDATED_SINCE, "2026-01-31T12:00:00+01:00",
		  "updated_since=2026-01-31T12%3A00%3A00%2B01%3A00");
	check_one(SEARCH_UPDATED_SINCE, "2026-01-31T11:00:00.123456Z",
		  "updated_since=2026-01-31T11%3A00%3A00.123456Z");
	/* a date is its midnight in UTC */
	check_one(SEARCH_UPDATED_SINCE, "2024-02-29", "updated_since=2024-02-29T00%3A00%3A00Z");
	check_one(SEARCH_TEXT, "Gewerbehalle", "text=Gewerbehalle");
	check_one(SEARCH_SORT, "area_desc", "sort=AREA_DESC");
	check_one(SEARCH_SORT, "PRICE_ASC", "sort=PRICE_ASC");
}

/* Text may hold anything: it arrives as one parameter, byte for byte. */
static void
test_text_encoding(void)
{
	check_one(SEARCH_TEXT, "Laden & Café = \"gut\"",
		  "text=Laden%20%26%20Caf%C3%A9%20%3D%20%22gut%22");
	check_one(SEARCH_TEXT, "'; DROP TABLE registry.record; --",
		  "text=%27%3B%20DROP%20TABLE%20registry.record%3B%20--");
	check_one(SEARCH_TEXT, "a+b%20c#frag?x=1&page_size=500",
		  "text=a%2Bb%2520c%23frag%3Fx%3D1%26page_size%3D500");
	check_one(SEARCH_TEXT, "Straße, Größe; €",
		  "text=Stra%C3%9Fe%2C%20Gr%C3%B6%C3%9Fe%3B%20%E2%82%AC");
	check_one(SEARCH_TEXT, "\"Altes Rathaus\" -Abriss", "text=%22Altes%20Rathaus%22%20-Abriss");
	check_one(SEARCH_TEXT, "tab\there\nline", "text=tab%09here%0Aline");
}

static void
test_lists(void)
{
	struct search_options o = {0};
	char err[ERRSZ], *got;

	/* repeated, comma-separated, spaces around the names, any case: OR in the given order */
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_STATUS, "MARKETED,reserved"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_OBJECT_TYPE, " retail , OFFICE_PRACTICE"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_STATUS, "Confirmed"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_USAGE, "COMMERCIAL"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_USAGE, "MIXED"), 0);
	got = filters(&o, err);
	check_text(got,
		   "usage=COMMERCIAL&usage=MIXED&object_type=RETAIL&object_type=OFFICE_PRACTICE&"
		   "status=MARKETED&status=RESERVED&status=CONFIRMED");
	free(got);
	/* every filter together, in the order of the parameters */
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_SORT, "DISTANCE_ASC"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_TEXT, "Halle"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_NEAR, "50.58,13,2000"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_MAX_RENT, "900"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_MIN_USABLE_AREA, "100"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_MAX_USABLE_AREA, "100"), 0); /* min = max */
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_REGION, "14521"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_SITE_KIND, "UNIT,BUILDING"), 0);
	got = filters(&o, err);
	check_text(got, "region=14521&near=50.58,13,2000&site_kind=UNIT&site_kind=BUILDING&"
			"min_usable_area_m2=100&max_usable_area_m2=100&max_rent_eur_month=900&"
			"text=Halle&sort=DISTANCE_ASC");
	free(got);
	/* no filter at all */
	memset(&o, 0, sizeof(o));
	got = filters(&o, err);
	check_text(got, "");
	free(got);
	/* a flag is kept at most SEARCH_MAX_ARGS times */
	for (int i = 0; i < SEARCH_MAX_ARGS; i++)
		CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_STATUS, "MARKETED"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_STATUS, "MARKETED"), -1);
	CU_ASSERT_EQUAL(o.n[SEARCH_STATUS], SEARCH_MAX_ARGS);
}

static void
test_bad_values(void)
{
	check_bad(SEARCH_REGION, "1", "2 to 12 digits");
	check_bad(SEARCH_REGION, "1452102002001", "2 to 12 digits");
	check_bad(SEARCH_REGION, "14a21", "2 to 12 digits");
	check_bad(SEARCH_REGION, "17", "01 to 16");
	check_bad(SEARCH_REGION, "00521", "01 to 16");
	/* bbox: arity, numbers, ranges, order */
	check_bad(SEARCH_BBOX, "50.5,12.9,50.7", "got 3");
	check_bad(SEARCH_BBOX, "50.5,12.9,50.7,13.1,1", "got 5");
	check_bad(SEARCH_BBOX, "50.5", "got 1");
	check_bad(SEARCH_BBOX, "50.5,12.9,,13.1", "four numbers");
	check_bad(SEARCH_BBOX, "50.5;12.9;50.7;13.1", "four numbers");
	check_bad(SEARCH_BBOX, "50,5,12,9", "crosses itself");
	check_bad(SEARCH_BBOX, "1e1,2,3,4", "four numbers");
	check_bad(SEARCH_BBOX, "50.5,12.9,50.7,13.1x", "four numbers");
	check_bad(SEARCH_BBOX, "-91,0,0,1", "latitude");
	check_bad(SEARCH_BBOX, "0,-181,1,1", "longitude");
	check_bad(SEARCH_BBOX, "50.7,12.9,50.5,13.1", "crosses itself");
	check_bad(SEARCH_BBOX, "50.5,13.1,50.7,12.9", "crosses itself");
	/* near */
	check_bad(SEARCH_NEAR, "50.58,13.00", "got 2");
	check_bad(SEARCH_NEAR, "50.58,13.00,2000,1", "got 4");
	check_bad(SEARCH_NEAR, "50.58,13.00,-5", "lat,lon,radius_m");
	check_bad(SEARCH_NEAR, "50.58,13.00,0", "more than 0");
	check_bad(SEARCH_NEAR, "95,13.00,10", "latitude");
	check_bad(SEARCH_NEAR, "50,13,2km", "lat,lon,radius_m");
	/* enums */
	check_bad(SEARCH_STATUS, "SOLD", "'SOLD' is not one of SUSPECTED, CONFIRMED, MARKETED");
	check_bad(SEARCH_STATUS, "UNSPECIFIED", "is not one of");
	check_bad(SEARCH_STATUS, "MARKETED,,RESERVED", "an empty value");
	check_bad(SEARCH_STATUS, "MARKETED,", "an empty value");
	check_bad(SEARCH_OBJECT_TYPE, "", "an empty value");
	check_bad(SEARCH_SITE_KIND, "BUILD", "is not one of");
	check_bad(SEARCH_USAGE, "RETAIL", "is not one of RESIDENTIAL");
	check_bad(SEARCH_MARKETING, "SALE RENT", "is not one of");
	/* numbers */
	check_bad(SEARCH_MIN_USABLE_AREA, "abc", "a number >= 0");
	check_bad(SEARCH_MIN_USABLE_AREA, "-1", "a number >= 0");
	check_bad(SEARCH_MAX_USABLE_AREA, "1,5", "a number >= 0");
	check_bad(SEARCH_MAX_USABLE_AREA, "1.", "a number >= 0");
	check_bad(SEARCH_MIN_PLOT_AREA, "", "a number >= 0");
	check_bad(SEARCH_MAX_PLOT_AREA, "1e3", "a number >= 0");
	check_bad(SEARCH_MAX_PLOT_AREA, "NaN", "a number >= 0");
	check_bad(SEARCH_MAX_PLOT_AREA, "123456789012345678901234567890123", "a number >= 0");
	check_bad(SEARCH_MAX_PRICE, "100.123", "at most 2 decimals");
	check_bad(SEARCH_MAX_PRICE, "100,50", "at most 2 decimals");
	check_bad(SEARCH_MAX_PRICE, "100 EUR", "at most 2 decimals");
	check_bad(SEARCH_MAX_RENT, "-5", "at most 2 decimals");
	/* times */
	check_bad(SEARCH_UPDATED_SINCE, "2026-01-31T12:00:00", "with offset");
	check_bad(SEARCH_UPDATED_SINCE, "2026-02-30", "with offset");
	check_bad(SEARCH_UPDATED_SINCE, "2025-02-29", "with offset");
	check_bad(SEARCH_UPDATED_SINCE, "2026-13-01", "with offset");
	check_bad(SEARCH_UPDATED_SINCE, "2026-01-31 12:00:00Z", "with offset");
	check_bad(SEARCH_UPDATED_SINCE, "2026-01-31T24:00:00Z", "with offset");
	check_bad(SEARCH_UPDATED_SINCE, "2026-01-31T12:00:00+1:00", "with offset");
	check_bad(SEARCH_UPDATED_SINCE, "2026-01-31T12:00:00.Z", "with offset");
	check_bad(SEARCH_UPDATED_SINCE, "2026-01-31T12:00:00Zjunk", "with offset");
	check_bad(SEARCH_UPDATED_SINCE, "yesterday", "with offset");
	/* text: 1 to 200 characters of UTF-8 (characters, not bytes) */
	check_bad(SEARCH_TEXT, "", "1 to 200 characters, got 0");
	check_bad(SEARCH_TEXT, "Caf\xe9", "not valid UTF-8");
	{
		char text[2 * 201 + 1] = "";

		for (int i = 0; i < 200; i++)
			strcat(text, "\xc3\xa4"); /* 200 characters, 400 bytes: fine */
		{
			char err[ERRSZ], *got = one(SEARCH_TEXT, text, err);

			CU_ASSERT_PTR_NOT_NULL(got);
			free(got);
		}
		strcat(text, "a");
		check_bad(SEARCH_TEXT, text, "got 201");
	}
	check_bad(SEARCH_SORT, "NEWEST", "is not one of UPDATED_DESC");
	/* what the command line said is escaped in the reason */
	{
		char err[ERRSZ], *got = one(SEARCH_STATUS, "\033[2J", err);

		CU_ASSERT_PTR_NULL(got);
		CU_ASSERT_PTR_NULL(strchr(err, '\033'));
	}
}

static void
test_combinations(void)
{
	struct search_options o;
	struct search_query q;
	char err[ERRSZ];

#define REFUSED(part)                                                                              \
	do {                                                                                       \
		err[0] = '\0';                                                                     \
		CU_ASSERT_EQUAL(search_check(&o, SEARCH_MODE_RECORDS, &q, err, sizeof(err)), -1);  \
		CU_ASSERT_PTR_NOT_NULL(strstr(err, part));                                         \
	} while (0)

	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_REGION, "14521"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_REGION, "14522"), 0);
	REFUSED("--region may be given once");
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_TEXT, "a"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_TEXT, "b"), 0);
	REFUSED("--text may be given once");
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_MIN_USABLE_AREA, "200"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_MAX_USABLE_AREA, "100.5"), 0);
	REFUSED("--min-usable-area 200 is more than --max-usable-area 100.5");
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_MIN_PLOT_AREA, "10.01"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_MAX_PLOT_AREA, "10"), 0);
	REFUSED("--min-plot-area");
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_SORT, "DISTANCE_ASC"), 0);
	REFUSED("needs --near");
	memset(&o, 0, sizeof(o));
	o.json = o.csv = 1;
	REFUSED("--json and --csv exclude each other");
	memset(&o, 0, sizeof(o));
	o.all = 1;
	o.limit = "5";
	REFUSED("--all and --limit exclude each other");
	memset(&o, 0, sizeof(o));
	o.geojson = "f.geojson";
	REFUSED("--geojson is for 'vacancy export'");
	/* --limit and --page-size: whole numbers of at least 1 (the registry caps the page) */
	{
		const char *bad[] = {"0", "-1", "", "abc", "1.5", "2x", " 5", "99999999999"};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memset(&o, 0, sizeof(o));
			o.limit = bad[i];
			REFUSED("--limit wants a whole number");
			memset(&o, 0, sizeof(o));
			o.page_size = bad[i];
			REFUSED("--page-size wants a whole number");
		}
	}
	memset(&o, 0, sizeof(o));
	o.page_size = "100000"; /* more than the registry allows: its answer, not ours */
	o.limit = "7";
	o.csv = 1;
	CU_ASSERT_EQUAL_FATAL(search_check(&o, SEARCH_MODE_RECORDS, &q, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(q.page_size, 100000);
	CU_ASSERT_EQUAL(q.limit, 7);
	CU_ASSERT_EQUAL(q.format, SEARCH_CSV);
	search_query_free(&q);
	/* export: filters and sort, no output options, a file */
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(search_check(&o, SEARCH_MODE_EXPORT, &q, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "export wants --geojson FILE"));
	o.geojson = "";
	CU_ASSERT_EQUAL(search_check(&o, SEARCH_MODE_EXPORT, &q, err, sizeof(err)), -1);
	o.geojson = "out.geojson";
	o.json = 1;
	CU_ASSERT_EQUAL(search_check(&o, SEARCH_MODE_EXPORT, &q, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--json does not go with export"));
	o.json = 0;
	o.page_size = "10";
	CU_ASSERT_EQUAL(search_check(&o, SEARCH_MODE_EXPORT, &q, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--page-size does not go with export"));
	o.page_size = NULL;
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_STATUS, "marketed"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_SORT, "AREA_ASC"), 0);
	CU_ASSERT_EQUAL_FATAL(search_check(&o, SEARCH_MODE_EXPORT, &q, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(q.geojson, "out.geojson");
	{
		char *path = search_path(&q, "ignored", 10);

		CU_ASSERT_STRING_EQUAL(path, "/v1/export.geojson?status=MARKETED&sort=AREA_ASC");
		free(path);
	}
	search_query_free(&q);
#undef REFUSED
}

static void
test_path(void)
{
	struct search_options o = {0};
	struct search_query q;
	char err[ERRSZ], *p;

	CU_ASSERT_EQUAL_FATAL(search_check(&o, SEARCH_MODE_RECORDS, &q, err, sizeof(err)), 0);
	p = search_path(&q, NULL, 0);
	CU_ASSERT_STRING_EQUAL(p, "/v1/records");
	free(p);
	p = search_path(&q, "AbC-_09", 25);
	CU_ASSERT_STRING_EQUAL(p, "/v1/records?page_size=25&page_token=AbC-_09");
	free(p);
	/* a token is opaque: whatever it holds stays one parameter */
	p = search_path(&q, "a&b=c d+", 0);
	CU_ASSERT_STRING_EQUAL(p, "/v1/records?page_token=a%26b%3Dc%20d%2B");
	free(p);
	search_query_free(&q);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_REGION, "14521"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_TEXT, "a b"), 0);
	CU_ASSERT_EQUAL_FATAL(search_check(&o, SEARCH_MODE_RECORDS, &q, err, sizeof(err)), 0);
	p = search_path(&q, "tok", 2);
	CU_ASSERT_STRING_EQUAL(p, "/v1/records?region=14521&text=a%20b&page_size=2&page_token=tok");
	free(p);
	p = search_path(&q, NULL, 0);
	CU_ASSERT_STRING_EQUAL(p, "/v1/records?region=14521&text=a%20b");
	free(p);
	search_query_free(&q);
	q.mode = SEARCH_MODE_EXPORT;
	q.filters = NULL;
	p = search_path(&q, NULL, 0);
	CU_ASSERT_STRING_EQUAL(p, "/v1/export.geojson");
	free(p);
}

/* ---- The outputs ---- */

static void
test_table(void)
{
	struct rec a, b;
	struct search_out so;
	struct capture c;
	char want[2048];
	const char *got;

	rec_init(&a, UUID_A, "14521020", VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL,
		 VACANCY__V1__STATUS__VALUE__MARKETED, 110, NULL, "650", "Annaberg-Buchholz",
		 "Ladenlokal mit Schaufensterfront in der Buchholzer Straße");
	rec_init(&b, UUID_B, "14521035", VACANCY__V1__OBJECT_TYPE__VALUE__HALL_STORAGE_PRODUCTION,
		 VACANCY__V1__STATUS__VALUE__RESERVED, 1234.6, "1250000.50", "800",
		 "Ehrenfriedersdorf", "Halle\033[31m\nrot");
	search_out_init(&so, SEARCH_TABLE, capture_open(&c));
	CU_ASSERT_EQUAL(search_out_record(&so, &a.r), 0);
	CU_ASSERT_EQUAL(search_out_record(&so, &b.r), 0);
	CU_ASSERT_EQUAL(so.count, 2);
	CU_ASSERT_EQUAL(search_out_finish(&so), 0);
	search_out_free(&so);
	got = capture_close(&c);
	/*
	 * Columns as wide as their widest cell, numbers right-aligned; the
	 * purchase price wins over the rent; the title cut to 40 columns with
	 * an ellipsis; escape sequences and line breaks shown, not obeyed.
	 */
	snprintf(want, sizeof(want),
		 "%-36s  %-8s  %-23s  %-8s  %s  %16s  %-17s  %s\n"
		 "%-36s  %-8s  %-23s  %-8s  %9s  %16s  %-17s  %s\n"
		 "%-36s  %-8s  %-23s  %-8s  %9s  %16s  %-17s  %s\n",
		 "record id", "AGS", "object type", "status", "usable m\u00b2", "price", "locality",
		 "title", UUID_A, "14521020", "RETAIL", "MARKETED", "110", "650 EUR/month",
		 "Annaberg-Buchholz", "Ladenlokal mit Schaufensterfront in der\u2026", UUID_B,
		 "14521035", "HALL_STORAGE_PRODUCTION", "RESERVED", "1,235", "1,250,000.50 EUR",
		 "Ehrenfriedersdorf", "Halle\\x1b[31m\\nrot");
	check_text(got, want);
	CU_ASSERT_PTR_NULL(strchr(got, '\033'));
	free(c.text);

	/* absent values are a dash; price on request; nothing collected, nothing written */
	rec_init(&a, UUID_A, NULL, 0, 0, -1, NULL, NULL, NULL, NULL);
	a.r.has_object_type = a.r.has_status = 0;
	a.r.has_price_on_request = 1;
	a.r.price_on_request = 1;
	search_out_init(&so, SEARCH_TABLE, capture_open(&c));
	CU_ASSERT_EQUAL(search_out_record(&so, &a.r), 0);
	CU_ASSERT_EQUAL(search_out_finish(&so), 0);
	search_out_free(&so);
	got = capture_close(&c);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(got, "\n" UUID_A "  \u2013    \u2013            \u2013"
			"               \u2013  on request  \u2013         \u2013\n"));
	free(c.text);
	search_out_init(&so, SEARCH_TABLE, capture_open(&c));
	CU_ASSERT_EQUAL(search_out_finish(&so), 0);
	search_out_free(&so);
	check_text(capture_close(&c), "");
	free(c.text);
}

static void
test_csv(void)
{
	struct rec a, b;
	struct search_out so;
	struct capture c;

	rec_init(&a, UUID_A, "14521020", VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL,
		 VACANCY__V1__STATUS__VALUE__MARKETED, 85.5, NULL, "650.00", "Annaberg-Buchholz",
		 "Laden, \"Zur Post\"\nmit Lager");
	a.r.has_site_kind = 1;
	a.r.site_kind = VACANCY__V1__SITE_KIND__VALUE__UNIT;
	a.usage[0] = VACANCY__V1__USAGE__VALUE__COMMERCIAL;
	a.usage[1] = VACANCY__V1__USAGE__VALUE__MIXED;
	a.r.usage = a.usage;
	a.r.n_usage = 2;
	a.marketing[0] = VACANCY__V1__MARKETING__VALUE__RENT;
	a.r.marketing = a.marketing;
	a.r.n_marketing = 1;
	a.r.has_plot_area_m2 = 1;
	a.r.plot_area_m2 = 310;
	a.r.has_price_on_request = 1;
	a.r.street = "Buchholzer Straße";
	a.r.house_number = "12";
	a.r.postcode = "09456";
	a.loc.has_lat = a.loc.has_lon = 1;
	a.loc.lat = 50.5785;
	a.loc.lon = 13.0012;
	a.r.location = &a.loc;
	a.r.updated_at = "2026-11-20T14:30:00Z";
	rec_init(&b, UUID_B, "14521035", VACANCY__V1__OBJECT_TYPE__VALUE__PLOT,
		 VACANCY__V1__STATUS__VALUE__RESERVED, -1, "38400", NULL, NULL, "=1+2");
	search_out_init(&so, SEARCH_CSV, capture_open(&c));
	CU_ASSERT_EQUAL(search_out_record(&so, &a.r), 0);
	CU_ASSERT_EQUAL(search_out_record(&so, &b.r), 0);
	CU_ASSERT_EQUAL(search_out_finish(&so), 0);
	search_out_free(&so);
	check_text(capture_close(&c),
		   "record_id,municipality_ags,site_kind,object_type,status,usage,marketing,"
		   "usable_area_m2,plot_area_m2,purchase_price_eur,rent_eur_month,price_on_request,"
		   "street,house_number,postcode,locality,lat,lon,updated_at,title\r\n" UUID_A
		   ",14521020,UNIT,RETAIL,MARKETED,COMMERCIAL|MIXED,RENT,85.5,310,,650.00,false,"
		   "Buchholzer Straße,12,09456,Annaberg-Buchholz,50.5785,13.0012,"
		   "2026-11-20T14:30:00Z,\"Laden, \"\"Zur Post\"\"\nmit Lager\"\r\n" UUID_B
		   ",14521035,,PLOT,RESERVED,,,,,38400,,,,,,,,,,=1+2\r\n");
	free(c.text);
}

static void
test_json_lines(void)
{
	struct rec a, b;
	struct search_out so;
	struct capture c;
	const char *text, *nl;
	Vacancy__V1__Record *back;
	char err[256];

	rec_init(&a, UUID_A, "14521020", VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL,
		 VACANCY__V1__STATUS__VALUE__MARKETED, 110, NULL, "650", "Annaberg-Buchholz",
		 "Zeile 1\nZeile 2 \"zitiert\" \033[0m");
	rec_init(&b, UUID_B, "14521035", VACANCY__V1__OBJECT_TYPE__VALUE__PLOT,
		 VACANCY__V1__STATUS__VALUE__RESERVED, -1, "38400", NULL, NULL, NULL);
	search_out_init(&so, SEARCH_JSON, capture_open(&c));
	CU_ASSERT_EQUAL(search_out_record(&so, &a.r), 0);
	CU_ASSERT_EQUAL(search_out_record(&so, &b.r), 0);
	CU_ASSERT_EQUAL(search_out_finish(&so), 0);
	search_out_free(&so);
	text = capture_close(&c);
	/* one object per line; the first decodes back to the record */
	nl = strchr(text, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
	CU_ASSERT_PTR_NULL(strchr(text, '\033'));
	back = (Vacancy__V1__Record *)json_decode(&vacancy__v1__record__descriptor, text,
						  (size_t)(nl - text), NULL, 0, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_STRING_EQUAL(back->record_id, UUID_A);
	CU_ASSERT_STRING_EQUAL(back->title, a.r.title);
	CU_ASSERT_STRING_EQUAL(back->rent_eur_month, "650");
	CU_ASSERT_EQUAL(back->object_type, VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL);
	CU_ASSERT(back->has_usable_area_m2 && back->usable_area_m2 == 110);
	protobuf_c_message_free_unpacked(&back->base, NULL);
	check_text(nl + 1, "{\"recordId\":\"" UUID_B "\",\"municipalityAgs\":\"14521035\","
			   "\"objectType\":\"PLOT\",\"status\":\"RESERVED\","
			   "\"purchasePriceEur\":\"38400\"}\n");
	free(c.text);
}

/* ---- The commands against a fake registry ---- */

/* A flag the client refuses is exit 2, and no connection reaches the registry. */
static void
test_usage_error_sends_nothing(void)
{
	struct answer a[1];
	struct fake f;
	struct search_options o;
	char *out, *err, *log;

	a[0] = answer(500, "text/plain", "no", 2, 0);
	fake_start(&f, a, 1);
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_BBOX, "50.5,12.9,50.7"), 0);
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_RECORDS, &out, &err), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--bbox wants four numbers"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "vacancy help search"));
	CU_ASSERT_STRING_EQUAL(out, "");
	free(out);
	free(err);
	memset(&o, 0, sizeof(o));
	o.page_size = "ten";
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_RECORDS, &out, &err), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--page-size"));
	free(out);
	free(err);
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_MAX_PRICE, "1.234"), 0);
	o.geojson = "x.geojson";
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_EXPORT, &out, &err), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "vacancy help export"));
	free(out);
	free(err);
	/* the control: a valid search reaches the fake, with the query on the request line */
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_TEXT, "'; DROP TABLE x; --"), 0);
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_RECORDS, &out, &err), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "HTTP 500"));
	free(out);
	free(err);
	log = fake_stop(&f);
	/* libcurl writes the hex digits of %XX in lower case on the wire: the same URL */
	if (strcasecmp(log, "GET /v1/records?text=%27%3B%20DROP%20TABLE%20x%3B%20-- HTTP/1.1\n") !=
	    0)
		check_text(log,
			   "GET /v1/records?text=%27%3B%20DROP%20TABLE%20x%3B%20-- HTTP/1.1\n");
	free(log);
}

/* A page of n records with ids ...0001 on from first, and next_page_token token. */
static struct answer
page(int first, int n, const char *token)
{
	Vacancy__V1__SearchResponse resp = VACANCY__V1__SEARCH_RESPONSE__INIT;
	Vacancy__V1__Record recs[8], *ptr[8];
	char ids[8][40];
	struct answer a;

	for (int i = 0; i < n; i++) {
		vacancy__v1__record__init(&recs[i]);
		snprintf(ids[i], sizeof(ids[i]), "00000000-0000-4000-8000-%012d", first + i);
		recs[i].record_id = ids[i];
		ptr[i] = &recs[i];
	}
	resp.records = ptr;
	resp.n_records = (size_t)n;
	resp.next_page_token = (char *)token;
	a = answer_msg(200, &resp.base);
	return a;
}

static void
test_pages(void)
{
	struct answer a[3];
	struct fake f;
	struct search_options o;
	char *out, *err, *log;

	/* --all follows the tokens to a page without one */
	a[0] = page(1, 2, "T1");
	a[1] = page(3, 2, "T-2");
	a[2] = page(5, 1, NULL);
	fake_start(&f, a, 3);
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_REGION, "14521"), 0);
	o.all = 1;
	o.page_size = "2";
	o.json = 1;
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_RECORDS, &out, &err), 0);
	check_text(out, "{\"recordId\":\"00000000-0000-4000-8000-000000000001\"}\n"
			"{\"recordId\":\"00000000-0000-4000-8000-000000000002\"}\n"
			"{\"recordId\":\"00000000-0000-4000-8000-000000000003\"}\n"
			"{\"recordId\":\"00000000-0000-4000-8000-000000000004\"}\n"
			"{\"recordId\":\"00000000-0000-4000-8000-000000000005\"}\n");
	check_text(err, "");
	free(out);
	free(err);
	log = fake_stop(&f);
	check_text(log, "GET /v1/records?region=14521&page_size=2 HTTP/1.1\n"
			"GET /v1/records?region=14521&page_size=2&page_token=T1 HTTP/1.1\n"
			"GET /v1/records?region=14521&page_size=2&page_token=T-2 HTTP/1.1\n");
	free(log);

	/* by default one page, and a note that more follow */
	a[0] = page(1, 2, "T1");
	fake_start(&f, a, 1);
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_RECORDS, &out, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "00000000-0000-4000-8000-000000000002"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "more records follow"));
	free(out);
	free(err);
	log = fake_stop(&f);
	check_text(log, "GET /v1/records HTTP/1.1\n");
	free(log);

	/* --limit 3: pages of the default size until 3, the last page asks only for the rest */
	a[0] = page(1, 2, "T1");
	a[1] = page(3, 2, "T2");
	fake_start(&f, a, 2);
	memset(&o, 0, sizeof(o));
	o.limit = "3";
	o.page_size = "2";
	o.csv = 1;
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_RECORDS, &out, &err), 0);
	/* a header and three rows: the fourth record of the second page is not printed */
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "000000000003,"));
	CU_ASSERT_PTR_NULL(strstr(out, "000000000004"));
	check_text(err, "");
	free(out);
	free(err);
	log = fake_stop(&f);
	check_text(log, "GET /v1/records?page_size=2 HTTP/1.1\n"
			"GET /v1/records?page_size=1&page_token=T1 HTTP/1.1\n");
	free(log);

	/* a registry that sends the same token again is not followed forever */
	a[0] = page(1, 1, "same");
	a[1] = page(2, 1, "same");
	fake_start(&f, a, 2);
	memset(&o, 0, sizeof(o));
	o.all = 1;
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_RECORDS, &out, &err), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "same page token twice"));
	free(out);
	free(err);
	free(fake_stop(&f));
}

/* An error answer: the server's message, exit 1, nothing on stdout. */
static void
test_server_error(void)
{
	Vacancy__V1__Error e = VACANCY__V1__ERROR__INIT;
	Vacancy__V1__FieldError fe = VACANCY__V1__FIELD_ERROR__INIT, *fes[1] = {&fe};
	struct answer a[1];
	struct fake f;
	struct search_options o = {0};
	char *out, *err;

	e.code = "INVALID_ARGUMENT";
	e.message = "page_size must be 1..500 (max_page_size)";
	fe.field = "page_size";
	fe.message = "page_size must be 1..500";
	e.field_errors = fes;
	e.n_field_errors = 1;
	a[0] = answer_msg(400, &e.base);
	fake_start(&f, a, 1);
	o.page_size = "100000";
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_RECORDS, &out, &err), 1);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(err, "vacancy: INVALID_ARGUMENT: page_size must be 1..500 (max_page_size)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "  page_size: page_size must be 1..500"));
	CU_ASSERT_STRING_EQUAL(out, "");
	free(out);
	free(err);
	free(fake_stop(&f));
}

static const char geojson[] =
    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"id\":\"" UUID_A
    "\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[13.0012,50.5785]},"
    "\"properties\":{\"title\":\"Laden\"}}]}\n";

static void
test_export(void)
{
	struct answer a[2];
	struct fake f;
	struct search_options o;
	struct stat st;
	char *out, *err, *log, *body, file[200], tmp[220];

	/* 200, chunked: the body lands in FILE, byte for byte; FILE.tmp is gone */
	a[0] = answer(200, "application/geo+json", geojson, strlen(geojson), 1);
	fake_start(&f, a, 1);
	snprintf(file, sizeof(file), "%s/x.geojson", f.dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	memset(&o, 0, sizeof(o));
	o.geojson = file;
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_STATUS, "MARKETED"), 0);
	CU_ASSERT_EQUAL(search_option_add(&o, SEARCH_SORT, "AREA_DESC"), 0);
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_EXPORT, &out, &err), 0);
	check_text(err, "");
	CU_ASSERT_STRING_EQUAL(out, "");
	free(out);
	free(err);
	body = slurp(file);
	check_text(body, geojson);
	free(body);
	CU_ASSERT_EQUAL(stat(tmp, &st), -1);
	unlink(file);
	log = fake_stop(&f);
	check_text(log, "GET /v1/export.geojson?status=MARKETED&sort=AREA_DESC HTTP/1.1\n");
	free(log);

	/* 400 with a JSON Error: its message, exit 1; no FILE, no FILE.tmp, an old FILE kept */
	{
		const char *e = "{\"httpStatus\":400,\"code\":\"INVALID_ARGUMENT\",\"message\":"
				"\"the export matches 200001 records, more than max_export_records "
				"= 100000\"}";

		a[0] = answer(400, "application/json", e, strlen(e), 0);
	}
	fake_start(&f, a, 1);
	snprintf(file, sizeof(file), "%s/x.geojson", f.dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	{
		FILE *old = fopen(file, "w");

		fputs("old", old);
		fclose(old);
	}
	memset(&o, 0, sizeof(o));
	o.geojson = file;
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_EXPORT, &out, &err), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "INVALID_ARGUMENT: the export matches 200001 records"));
	free(out);
	free(err);
	body = slurp(file);
	check_text(body, "old");
	free(body);
	unlink(file);
	CU_ASSERT_EQUAL(stat(tmp, &st), -1);
	free(fake_stop(&f));

	/* a 200 that is not GeoJSON (a proxy's page) is not written */
	a[0] = answer(200, "text/html", "<html>", 6, 0);
	fake_start(&f, a, 1);
	snprintf(file, sizeof(file), "%s/x.geojson", f.dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	memset(&o, 0, sizeof(o));
	o.geojson = file;
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_EXPORT, &out, &err), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "expected application/geo+json"));
	free(out);
	free(err);
	CU_ASSERT_EQUAL(stat(file, &st), -1);
	CU_ASSERT_EQUAL(stat(tmp, &st), -1);
	free(fake_stop(&f));

	/* a body cut short (the connection closes mid-chunk) leaves no file */
	{
		const char *cut = "HTTP/1.1 200 OK\r\nContent-Type: application/geo+json\r\n"
				  "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
				  "10\r\n{\"type\":\"Featur";

		a[0].data = strdup(cut);
		a[0].len = strlen(cut);
	}
	fake_start(&f, a, 1);
	snprintf(file, sizeof(file), "%s/x.geojson", f.dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	memset(&o, 0, sizeof(o));
	o.geojson = file;
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_EXPORT, &out, &err), 1);
	free(out);
	free(err);
	CU_ASSERT_EQUAL(stat(file, &st), -1);
	CU_ASSERT_EQUAL(stat(tmp, &st), -1);
	free(fake_stop(&f));

	/* "-" is stdout */
	a[0] = answer(200, "application/geo+json", geojson, strlen(geojson), 1);
	fake_start(&f, a, 1);
	memset(&o, 0, sizeof(o));
	o.geojson = "-";
	CU_ASSERT_EQUAL(run_search(&f, &o, SEARCH_MODE_EXPORT, &out, &err), 0);
	check_text(out, geojson);
	free(out);
	free(err);
	free(fake_stop(&f));
}

/* ---- The feed ---- */

static void
test_feed_check(void)
{
	struct feed_options o;
	struct feed_query q;
	char err[ERRSZ], *p;

	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL_FATAL(feed_check(&o, &q, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(q.cursor, "0");
	CU_ASSERT_EQUAL(q.limit, 0);
	CU_ASSERT_EQUAL(q.interval_s, FEED_DEFAULT_INTERVAL);
	o.after = "123456789012345678";
	o.limit = "20";
	o.follow = 1;
	o.interval = "30";
	CU_ASSERT_EQUAL_FATAL(feed_check(&o, &q, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(q.cursor, "123456789012345678");
	CU_ASSERT_EQUAL(q.limit, 20);
	CU_ASSERT_EQUAL(q.interval_s, 30);
	CU_ASSERT(q.follow);
	{
		const char *bad_after[] = {"", "-1", "1234567890123456789", "12a", "1 ", "0x10"};

		for (size_t i = 0; i < sizeof(bad_after) / sizeof(bad_after[0]); i++) {
			memset(&o, 0, sizeof(o));
			o.after = bad_after[i];
			err[0] = '\0';
			CU_ASSERT_EQUAL(feed_check(&o, &q, err, sizeof(err)), -1);
			CU_ASSERT(strncmp(err, "--after", 7) == 0);
		}
	}
	memset(&o, 0, sizeof(o));
	o.limit = "0";
	CU_ASSERT_EQUAL(feed_check(&o, &q, err, sizeof(err)), -1);
	CU_ASSERT(strncmp(err, "--limit", 7) == 0);
	memset(&o, 0, sizeof(o));
	o.interval = "5";
	CU_ASSERT_EQUAL(feed_check(&o, &q, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "--interval needs --follow");
	o.follow = 1;
	o.interval = "0";
	CU_ASSERT_EQUAL(feed_check(&o, &q, err, sizeof(err)), -1);
	o.interval = "86401";
	CU_ASSERT_EQUAL(feed_check(&o, &q, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "1 to 86400"));
	p = feed_path("0", 100);
	CU_ASSERT_STRING_EQUAL(p, "/v1/changes?after=0&limit=100");
	free(p);
	p = feed_path("42", 0);
	CU_ASSERT_STRING_EQUAL(p, "/v1/changes?after=42");
	free(p);
	CU_ASSERT(feed_cursor_ok("1"));
	CU_ASSERT(!feed_cursor_ok(""));
	CU_ASSERT(!feed_cursor_ok("1;2"));
}

static void
test_feed_lines(void)
{
	Vacancy__V1__Change up = VACANCY__V1__CHANGE__INIT, wd = VACANCY__V1__CHANGE__INIT;
	struct rec a;
	struct capture c;
	FILE *f;

	rec_init(&a, UUID_A, "14521020", VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL,
		 VACANCY__V1__STATUS__VALUE__MARKETED, 110, NULL, "650", "Annaberg-Buchholz",
		 "Ladenlokal\033]0;pwned\007 mit einem sehr langen Titel, der abgeschnitten wird");
	up.cursor = "17";
	up.record_id = UUID_A;
	up.has_kind = 1;
	up.kind = VACANCY__V1__CHANGE_KIND__VALUE__UPSERT;
	up.record = &a.r;
	wd.cursor = "123456789";
	wd.record_id = UUID_B;
	wd.has_kind = 1;
	wd.kind = VACANCY__V1__CHANGE_KIND__VALUE__WITHDRAW;
	f = capture_open(&c);
	CU_ASSERT_EQUAL(feed_print_change(&up, 0, f), 0);
	CU_ASSERT_EQUAL(feed_print_change(&wd, 0, f), 0);
	CU_ASSERT_EQUAL(feed_print_change(&wd, 1, f), 0);
	check_text(capture_close(&c),
		   "17        UPSERT    " UUID_A "  RETAIL MARKETED Annaberg-Buchholz: "
		   "Ladenlokal\\x1b]0;pwned\\x07 mit einem sehr langen Titel, der\u2026\n"
		   "123456789  WITHDRAW  " UUID_B "\n"
		   "{\"cursor\":\"123456789\",\"recordId\":\"" UUID_B
		   "\",\"kind\":\"WITHDRAW\"}\n");
	free(c.text);
}

/* A ChangeBatch answer: changes with cursors from first (n of them), next_cursor next. */
static struct answer
batch(int first, int n, const char *next)
{
	Vacancy__V1__ChangeBatch b = VACANCY__V1__CHANGE_BATCH__INIT;
	Vacancy__V1__Change ch[8], *ptr[8];
	char cur[8][24];

	for (int i = 0; i < n; i++) {
		vacancy__v1__change__init(&ch[i]);
		snprintf(cur[i], sizeof(cur[i]), "%d", first + i);
		ch[i].cursor = cur[i];
		ch[i].record_id = UUID_A;
		ch[i].has_kind = 1;
		ch[i].kind = VACANCY__V1__CHANGE_KIND__VALUE__WITHDRAW;
		ptr[i] = &ch[i];
	}
	b.changes = ptr;
	b.n_changes = (size_t)n;
	b.next_cursor = (char *)next;
	return answer_msg(200, &b.base);
}

/* Runs feed_command against f; *out and *err as run_end gives them. */
static int
run_feed(const struct fake *f, const struct feed_options *o, char **out, char **err)
{
	struct client_http_config cfg;
	char url[64];
	struct run r;
	int rc;

	fake_config(f, &cfg, url, sizeof(url));
	run_begin(&r, f);
	rc = feed_command(o, &cfg);
	run_end(&r, out, err);
	return rc;
}

static void
test_feed_command(void)
{
	struct answer a[3];
	struct fake f;
	struct feed_options o;
	char *out, *err, *log;

	/* two batches, then an empty one: caught up; the cursor to go on from */
	a[0] = batch(6, 2, "7");
	a[1] = batch(8, 1, "8");
	a[2] = batch(0, 0, "8");
	fake_start(&f, a, 3);
	memset(&o, 0, sizeof(o));
	o.after = "5";
	CU_ASSERT_EQUAL(run_feed(&f, &o, &out, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "6         WITHDRAW"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n8         WITHDRAW"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "next cursor 8 (continue with --after 8)"));
	free(out);
	free(err);
	log = fake_stop(&f);
	check_text(log, "GET /v1/changes?after=5 HTTP/1.1\n"
			"GET /v1/changes?after=7 HTTP/1.1\n"
			"GET /v1/changes?after=8 HTTP/1.1\n");
	free(log);

	/* --limit 3: asks for what it still needs and stops at the third change */
	a[0] = batch(1, 2, "2");
	a[1] = batch(3, 1, "3");
	fake_start(&f, a, 2);
	memset(&o, 0, sizeof(o));
	o.limit = "3";
	o.json = 1;
	CU_ASSERT_EQUAL(run_feed(&f, &o, &out, &err), 0);
	check_text(out, "{\"cursor\":\"1\",\"recordId\":\"" UUID_A "\",\"kind\":\"WITHDRAW\"}\n"
			"{\"cursor\":\"2\",\"recordId\":\"" UUID_A "\",\"kind\":\"WITHDRAW\"}\n"
			"{\"cursor\":\"3\",\"recordId\":\"" UUID_A "\",\"kind\":\"WITHDRAW\"}\n");
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "next cursor 3 "));
	free(out);
	free(err);
	log = fake_stop(&f);
	check_text(log, "GET /v1/changes?after=0&limit=3 HTTP/1.1\n"
			"GET /v1/changes?after=2&limit=1 HTTP/1.1\n");
	free(log);

	/* a malformed cursor from the server is not used in the next request */
	a[0] = batch(1, 1, "1&limit=9");
	fake_start(&f, a, 1);
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL(run_feed(&f, &o, &out, &err), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "malformed next_cursor"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "next cursor 1 "));
	free(out);
	free(err);
	free(fake_stop(&f));
}

/* client_http_expect on r; its stderr into *err (owned). */
static int
expect_on(const struct client_response *r, const char *want, char **err)
{
	struct client_http_config cfg = {.url = "https://127.0.0.1:1", .timeout_s = 5};
	FILE *f = tmpfile();
	int saved, rc;
	long n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(f), 2);
	rc = client_http_expect(r, &cfg, "GET /v1/x", want);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = ftell(f);
	*err = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	rewind(f);
	if (n > 0 && fread(*err, 1, (size_t)n, f) != (size_t)n)
		(*err)[0] = '\0';
	fclose(f);
	return rc;
}

static void
test_http_expect(void)
{
	struct client_response r;
	char *err;

	client_response_init(&r);
	r.status = 200;
	snprintf(r.content_type, sizeof(r.content_type), "%s", CLIENT_HTTP_PROTOBUF);
	CU_ASSERT_EQUAL(expect_on(&r, CLIENT_HTTP_PROTOBUF, &err), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	free(err);
	/* another media type, none, a redirect, another 2xx: refused, each said */
	CU_ASSERT_EQUAL(expect_on(&r, CLIENT_HTTP_JSON, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "expected application/json from the server, got "
					   "application/x-protobuf"));
	free(err);
	r.content_type[0] = '\0';
	CU_ASSERT_EQUAL(expect_on(&r, CLIENT_HTTP_JSON, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no Content-Type"));
	free(err);
	r.status = 302;
	CU_ASSERT_EQUAL(expect_on(&r, CLIENT_HTTP_JSON, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(err, "unexpected answer HTTP 302 (redirects are not followed"));
	free(err);
	r.status = 204;
	CU_ASSERT_EQUAL(expect_on(&r, CLIENT_HTTP_JSON, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unexpected answer HTTP 204\n"));
	free(err);
	/* an error status goes to the server's Error report */
	r.status = 404;
	CU_ASSERT_EQUAL(expect_on(&r, CLIENT_HTTP_JSON, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "404"));
	free(err);
	client_response_free(&r);
}

void
test_client_search_register(void)
{
	CU_pSuite s = CU_add_suite("client search", NULL, NULL);

	CU_add_test(s, "percent-encoding", test_escape);
	CU_add_test(s, "every flag to its parameter", test_every_flag);
	CU_add_test(s, "text of any kind is one parameter", test_text_encoding);
	CU_add_test(s, "repeated and comma lists", test_lists);
	CU_add_test(s, "malformed values refused", test_bad_values);
	CU_add_test(s, "combinations of options", test_combinations);
	CU_add_test(s, "request paths", test_path);
	CU_add_test(s, "table", test_table);
	CU_add_test(s, "CSV", test_csv);
	CU_add_test(s, "JSON lines", test_json_lines);
	CU_add_test(s, "usage error sends nothing", test_usage_error_sends_nothing);
	CU_add_test(s, "pages: --all, default, --limit", test_pages);
	CU_add_test(s, "server error", test_server_error);
	CU_add_test(s, "export to a file", test_export);
	CU_add_test(s, "feed options and path", test_feed_check);
	CU_add_test(s, "feed lines", test_feed_lines);
	CU_add_test(s, "feed command", test_feed_command);
	CU_add_test(s, "an answer checked for status and media type", test_http_expect);
}
