/*
 * test_mirror: the investor portal's mirror in Python (clients/python/
 * mirror.py) against the real daemon. A first run holds exactly the
 * published records, byte for byte as GET /v1/records/{id} shows them; a
 * second run follows updates, withdrawals and changes of visibility from its
 * stored cursor; a batch and its cursor are applied whole or not at all;
 * the protobuf module is generated again when stale; --follow picks up a
 * change, outlives an unreachable registry and stops on SIGTERM; --verify
 * agrees with the search and finds a tampered mirror; errors exit 1 with
 * the server's message, bad usage 2. The mirror's SQLite file is read with
 * Python's sqlite3 module (libsqlite3-dev is not a build dependency).
 */
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "vacancy.pb-c.h"

#define AGS "14521020"
/* Debian's interpreter: python3-protobuf is installed for it (a python3
 * earlier in PATH, e.g. pyenv's, may lack it) */
#define PYTHON "/usr/bin/python3"
#define SCRIPT "clients/python/mirror.py"

static struct daemon dmn;
static char *tok_muni, *tok_investor;
static char root[512]; /* the source tree that holds SCRIPT */
static char main_db[700];

/* A published record: external_id ext, revision 1, title title. */
struct rec {
	Vacancy__V1__Record r;
	Vacancy__V1__LatLon loc;
	Vacancy__V1__Usage__Value usage[1];
	char ext[32], title[64];
};

static void
rec_init(struct rec *x, const char *ext, const char *title)
{
	vacancy__v1__record__init(&x->r);
	vacancy__v1__lat_lon__init(&x->loc);
	snprintf(x->ext, sizeof(x->ext), "%s", ext);
	snprintf(x->title, sizeof(x->title), "%s", title);
	x->r.municipality_ags = AGS;
	x->r.external_id = x->ext;
	x->r.has_revision = 1;
	x->r.revision = 1;
	x->r.last_verified_at = "2026-10-01";
	x->r.has_publication = 1;
	x->r.publication = VACANCY__V1__PUBLICATION__VALUE__PUBLIC;
	x->r.has_owner_consent = 1;
	x->r.owner_consent = VACANCY__V1__OWNER_CONSENT__VALUE__CONSENTED;
	x->r.has_site_kind = 1;
	x->r.site_kind = VACANCY__V1__SITE_KIND__VALUE__UNIT;
	x->usage[0] = VACANCY__V1__USAGE__VALUE__COMMERCIAL;
	x->r.n_usage = 1;
	x->r.usage = x->usage;
	x->r.has_object_type = 1;
	x->r.object_type = VACANCY__V1__OBJECT_TYPE__VALUE__RETAIL;
	x->r.has_status = 1;
	x->r.status = VACANCY__V1__STATUS__VALUE__MARKETED;
	x->r.street = "Buchholzer Straße";
	x->r.house_number = "12";
	x->r.postcode = "09456";
	x->r.locality = "Annaberg-Buchholz";
	x->loc.has_lat = x->loc.has_lon = 1;
	x->loc.lat = 50.5797;
	x->loc.lon = 13.0061;
	x->r.location = &x->loc;
	x->r.title = x->title;
	x->r.owner_name = "Owner of the test";
	x->r.has_usable_area_m2 = 1;
	x->r.usable_area_m2 = 140;
}

/* Sends one PARTIAL transfer: upserts of recs[0..n-1], then a withdrawal of
 * wd_ext (if not NULL) at revision wd_rev. Returns the HTTP status. */
static long
sync_send(const char *transfer_id, struct rec **recs, size_t n, const char *wd_ext, uint64_t wd_rev)
{
	Vacancy__V1__SyncRequest q = VACANCY__V1__SYNC_REQUEST__INIT;
	Vacancy__V1__RecordChange chs[16], *ch[16];
	Vacancy__V1__Withdrawal wd = VACANCY__V1__WITHDRAWAL__INIT;
	struct http_resp r;
	uint8_t *b;
	size_t len;

	CU_ASSERT_FATAL(n < 16);
	q.transfer_id = (char *)transfer_id;
	q.municipality_ags = AGS;
	q.has_scope = 1;
	q.scope = VACANCY__V1__SYNC_SCOPE__VALUE__PARTIAL;
	q.changes = ch;
	for (size_t i = 0; i < n; i++) {
		vacancy__v1__record_change__init(&chs[i]);
		chs[i].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_UPSERT;
		chs[i].upsert = &recs[i]->r;
		ch[q.n_changes++] = &chs[i];
	}
	if (wd_ext) {
		wd.external_id = (char *)wd_ext;
		wd.has_revision = 1;
		wd.revision = wd_rev;
		vacancy__v1__record_change__init(&chs[n]);
		chs[n].change_case = VACANCY__V1__RECORD_CHANGE__CHANGE_WITHDRAW;
		chs[n].withdraw = &wd;
		ch[q.n_changes++] = &chs[n];
	}
	len = protobuf_c_message_get_packed_size(&q.base);
	b = malloc(len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	protobuf_c_message_pack(&q.base, b);
	harness_http(&dmn, "POST", "/v1/sync", tok_muni, NULL, "application/x-protobuf", b, len,
		     NULL, &r);
	free(b);
	harness_resp_free(&r);
	return r.status;
}

/* The first value of an SQL query on the registry's database as a number, or -1. */
static long
count(const char *sql)
{
	char *v = harness_sql_value(sql);
	long n = v ? atol(v) : -1;

	free(v);
	return n;
}

/* The record_id of external_id ext, into id (37 bytes). */
static void
id_of(const char *ext, char *id)
{
	char sql[160], *v;

	snprintf(sql, sizeof(sql),
		 "SELECT record_id FROM registry.record_internal WHERE external_id = '%.32s'", ext);
	v = harness_sql_value(sql);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	snprintf(id, 37, "%s", v);
	free(v);
}

/* s quoted for sh: in single quotes, each of its own as '\''. */
static const char *
shq(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	buf[n++] = '\'';
	for (; *s && n + 6 < len; s++) {
		if (*s == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else {
			buf[n++] = *s;
		}
	}
	CU_ASSERT(*s == '\0'); /* it fitted */
	buf[n++] = '\'';
	buf[n] = '\0';
	return buf;
}

/* Runs the mirror on file with token (or none) and args; output and errors
 * into out. Returns the exit status. */
static int
mirror_run(const char *file, const char *token, const char *args, char *out, size_t outlen)
{
	char cmd[4096], url[64], t[256];

	snprintf(url, sizeof(url), "https://127.0.0.1:%d", dmn.port);
	snprintf(t, sizeof(t), "--token '%s'", token ? token : "");
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && env -u VACANCY_TOKEN " PYTHON " " SCRIPT
		 " --url %s --ca '%s/ca.pem' %s --db '%s' --gen-dir '%s/python' %s 2>&1",
		 root, url, harness_env("VACANCY_TEST_TLS"), token ? t : "", file,
		 harness_env("VACANCY_TEST_WORK"), args);
	return harness_run(cmd, out, outlen);
}

/* Runs one SQL statement on the mirror file and commits; prints the rows
 * into out, one line each, columns joined by '|', NULL as "". Returns the
 * exit status (0 when the statement ran). */
static int
mirror_sql(const char *file, const char *sql, char *out, size_t outlen)
{
	char cmd[8192], q[4096];
	size_t n;
	int rc;

	snprintf(cmd, sizeof(cmd),
		 PYTHON " -c 'import sqlite3, sys\n"
			"c = sqlite3.connect(sys.argv[1])\n"
			"for row in c.execute(sys.argv[2]):\n"
			"    print(\"|\".join(\"\" if v is None else str(v) for v in row))\n"
			"c.commit()' '%s' %s 2>&1",
		 file, shq(sql, q, sizeof(q)));
	rc = harness_run(cmd, out, outlen);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	return rc;
}

/* The value of one SQL query on the mirror as a number, or -1. */
static long
mirror_count(const char *file, const char *sql)
{
	char out[256];

	return mirror_sql(file, sql, out, sizeof(out)) == 0 ? atol(out) : -1;
}

/* p[0..n-1] as upper-case hex, as SQLite's hex() writes it; out holds 2n+1. */
static void
hex(const void *p, size_t n, char *out)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02X", b[i]);
	out[2 * n] = '\0';
}

/* Asserts that the mirror in file holds exactly the published records, each
 * byte for byte as GET /v1/records/{id} shows it to an investor, and that
 * its cursor is the end of the feed (where the feed answers no change). */
static void
check_mirror(const char *file)
{
	static char out[1 << 18], body_hex[1 << 16];
	char *want, *line, *save = NULL, path[96];
	struct http_resp r;
	Vacancy__V1__ChangeBatch *b;
	int rows = 0;

	want = harness_sql_value("SELECT coalesce(string_agg(record_id::text, ',' ORDER BY "
				 "record_id), '') FROM investor.published_record");
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	CU_ASSERT_EQUAL(mirror_sql(file,
				   "SELECT coalesce(group_concat(record_id, ','), '') FROM "
				   "(SELECT record_id FROM record ORDER BY record_id)",
				   out, sizeof(out)),
			0);
	CU_ASSERT_STRING_EQUAL(out, want);
	free(want);

	CU_ASSERT_EQUAL_FATAL(
	    mirror_sql(file, "SELECT record_id, hex(record) FROM record", out, sizeof(out)), 0);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *bytes = strchr(line, '|');

		CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
		*bytes++ = '\0';
		snprintf(path, sizeof(path), "/v1/records/%.36s", line);
		harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, NULL, &r);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT_FATAL(r.len * 2 < sizeof(body_hex));
		hex(r.body, r.len, body_hex);
		CU_ASSERT_STRING_EQUAL(bytes, body_hex);
		harness_resp_free(&r);
		rows++;
	}
	CU_ASSERT_EQUAL(rows, count("SELECT count(*) FROM investor.published_record"));

	CU_ASSERT_EQUAL(mirror_sql(file, "SELECT cursor FROM state", out, sizeof(out)), 0);
	want = harness_sql_value("SELECT coalesce(max(seq), 0) FROM investor.changes");
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	CU_ASSERT_STRING_EQUAL(out, want);
	free(want);
	snprintf(path, sizeof(path), "/v1/changes?after=%.20s&limit=10", out);
	harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	b = vacancy__v1__change_batch__unpack(NULL, r.len, (const uint8_t *)r.body);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(b->n_changes, 0);
	vacancy__v1__change_batch__free_unpacked(b, NULL);
	harness_resp_free(&r);
}

/* A mirror file of its own in the daemon's directory, not there yet. */
static void
fresh_db(const char *name, char *file, size_t len)
{
	char cmd[1600];

	snprintf(file, len, "%s/%s.sqlite", dmn.dir, name);
	snprintf(cmd, sizeof(cmd), "rm -f '%s' '%s-wal' '%s-shm'", file, file, file);
	CU_ASSERT_EQUAL(harness_run(cmd, NULL, 0), 0);
}

/* Finds the tree that holds SCRIPT: the working directory (make test runs
 * from the root), else a parent of the vacancyd binary (ROOT/build/X/). */
static int
find_root(void)
{
	char try[600];

	if (getcwd(root, sizeof(root)) != NULL) {
		snprintf(try, sizeof(try), "%s/" SCRIPT, root);
		if (access(try, R_OK) == 0)
			return 0;
	}
	snprintf(root, sizeof(root), "%s", harness_env("VACANCY_TEST_VACANCYD"));
	for (char *slash = strrchr(root, '/'); slash != NULL; slash = strrchr(root, '/')) {
		*slash = '\0';
		snprintf(try, sizeof(try), "%s/" SCRIPT, root);
		if (access(try, R_OK) == 0)
			return 0;
	}
	fprintf(stderr, "test_mirror: " SCRIPT " is neither under the working directory nor "
			"above VACANCY_TEST_VACANCYD\n");
	return -1;
}

static int
suite_init(void)
{
	if (find_root() == -1)
		return -1;
	if (harness_run(PYTHON " -c 'import google.protobuf' 2>/dev/null", NULL, 0) != 0) {
		fprintf(stderr, "test_mirror: " PYTHON " cannot import google.protobuf "
				"(apt-get install python3-protobuf)\n");
		return -1;
	}
	if (harness_sql("TRUNCATE registry.record, registry.transfer, registry.feed, "
			"registry.sync_session_item, registry.personal_access_log CASCADE") == -1)
		return -1;
	if (harness_daemon_start(&dmn, NULL) == -1 ||
	    harness_daemon_wait_healthy(&dmn, 10000) == -1)
		return -1;
	snprintf(main_db, sizeof(main_db), "%s/mirror.sqlite", dmn.dir);
	tok_muni = harness_token(&dmn, "municipality", AGS);
	tok_investor = harness_token(&dmn, "investor", "");
	return tok_muni && tok_investor ? 0 : -1;
}

static int
suite_clean(void)
{
	int rc = harness_daemon_stop(&dmn);

	free(tok_muni);
	free(tok_investor);
	return rc == 0 ? 0 : -1;
}

/* The records of the suite. P1..P5 are published; H1 is INTERNAL, H2 only
 * CONFIRMED, H3's owner OBJECTED: investors never see those three. */
static struct rec p1, p2, p3, p4, p5, h1, h2, h3;

/* Loads the mix and mirrors it from the start: exactly the published
 * records, with the portal's columns filled from each record. */
static void
test_first_run(void)
{
	struct rec *all[] = {&p1, &p2, &p3, &p4, &p5, &h1, &h2, &h3};
	char out[4096], want[160], sql[512], id[37], path[96];
	struct http_resp r;
	Vacancy__V1__Record *got;

	rec_init(&p1, "P-1", "Laden am Markt");
	rec_init(&p2, "P-2", "Büro am Bahnhof");
	p2.r.object_type = VACANCY__V1__OBJECT_TYPE__VALUE__OFFICE_PRACTICE;
	p2.r.status = VACANCY__V1__STATUS__VALUE__RESERVED;
	p2.r.usable_area_m2 = 320.5;
	rec_init(&p3, "P-3", "Halle");
	rec_init(&p4, "P-4", "Gaststätte");
	rec_init(&p5, "P-5", "Kiosk");
	rec_init(&h1, "H-1", "intern");
	h1.r.publication = VACANCY__V1__PUBLICATION__VALUE__INTERNAL;
	rec_init(&h2, "H-2", "nur bestätigt");
	h2.r.status = VACANCY__V1__STATUS__VALUE__CONFIRMED;
	rec_init(&h3, "H-3", "Eigentümer widerspricht");
	h3.r.owner_consent = VACANCY__V1__OWNER_CONSENT__VALUE__OBJECTED;
	CU_ASSERT_EQUAL_FATAL(sync_send("mirror-load", all, 8, NULL, 0), 200);
	CU_ASSERT_EQUAL_FATAL(count("SELECT count(*) FROM investor.published_record"), 5);

	CU_ASSERT_EQUAL(mirror_run(main_db, tok_investor, "", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), ": %ld changes applied (5 upserts, 0 withdrawals), 5 records",
		 count("SELECT count(*) FROM investor.changes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
	check_mirror(main_db);

	/* the portal's columns are those of the record */
	id_of("P-2", id);
	snprintf(path, sizeof(path), "/v1/records/%s", id);
	harness_http(&dmn, "GET", path, tok_investor, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 200);
	got = vacancy__v1__record__unpack(NULL, r.len, (const uint8_t *)r.body);
	harness_resp_free(&r);
	CU_ASSERT_FATAL(got && got->location && got->updated_at);
	snprintf(sql, sizeof(sql),
		 "SELECT municipality_ags, object_type, status, usable_area_m2, updated_at = "
		 "'%.40s', lat = %.17g, lon = %.17g FROM record WHERE record_id = '%s'",
		 got->updated_at, got->location->lat, got->location->lon, id);
	CU_ASSERT_EQUAL(mirror_sql(main_db, sql, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, AGS "|OFFICE_PRACTICE|RESERVED|320.5|1|1|1");
	vacancy__v1__record__free_unpacked(got, NULL);

	/* nothing new: nothing applied */
	CU_ASSERT_EQUAL(mirror_run(main_db, tok_investor, "", out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, ": 0 changes applied (0 upserts, 0 withdrawals), 5 "
					   "records"));
}

/* From its stored cursor the mirror takes only the new changes: an update,
 * a withdrawal, a record that stops being visible (REUSED) and one that
 * becomes visible (INTERNAL -> PUBLIC). */
static void
test_incremental(void)
{
	struct rec *up[] = {&p3, &p5, &h1};
	char out[4096], want[160], sql[160], id[37];
	char *cursor = harness_sql_value("SELECT max(seq) FROM investor.changes");
	long changes;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cursor);
	snprintf(p3.title, sizeof(p3.title), "Halle, neu gedeckt");
	p3.r.revision = 2;
	p5.r.status = VACANCY__V1__STATUS__VALUE__REUSED;
	p5.r.revision = 2;
	h1.r.publication = VACANCY__V1__PUBLICATION__VALUE__PUBLIC;
	h1.r.revision = 2;
	CU_ASSERT_EQUAL_FATAL(sync_send("mirror-change", up, 3, "P-4", 2), 200);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM investor.changes WHERE seq > %s", cursor);
	changes = count(sql);
	CU_ASSERT_EQUAL(changes, 4);
	free(cursor);

	CU_ASSERT_EQUAL(mirror_run(main_db, tok_investor, "", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), ": %ld changes applied (2 upserts, 2 withdrawals), 4 records",
		 changes);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
	check_mirror(main_db);
	/* the same, named */
	id_of("P-4", id);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM record WHERE record_id = '%s'", id);
	CU_ASSERT_EQUAL(mirror_count(main_db, sql), 0);
	id_of("P-5", id);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM record WHERE record_id = '%s'", id);
	CU_ASSERT_EQUAL(mirror_count(main_db, sql), 0);
	id_of("H-1", id);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM record WHERE record_id = '%s'", id);
	CU_ASSERT_EQUAL(mirror_count(main_db, sql), 1);
	id_of("P-3", id);
	snprintf(sql, sizeof(sql),
		 "SELECT instr(record, CAST('Halle, neu gedeckt' AS BLOB)) > 0 FROM record WHERE "
		 "record_id = '%s'",
		 id);
	CU_ASSERT_EQUAL(mirror_count(main_db, sql), 1);
}

/* Small pages give the same mirror; a batch that fails in SQLite leaves
 * neither its records nor its cursor, and the next run applies it. */
static void
test_batches(void)
{
	char file[700], out[4096], sql[512], id[37], *last;

	fresh_db("paged", file, sizeof(file));
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, "--limit 2", out, sizeof(out)), 0);
	check_mirror(file);

	/* start again from nothing, with the last record the feed upserts
	 * refused by a trigger: the whole feed is one batch, and it fails */
	CU_ASSERT_EQUAL(mirror_sql(file, "DELETE FROM record", out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(mirror_sql(file, "UPDATE state SET cursor = '0'", out, sizeof(out)), 0);
	last = harness_sql_value("SELECT c.record_id FROM investor.changes c JOIN "
				 "investor.published_record p USING (record_id) ORDER BY c.seq "
				 "DESC LIMIT 1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(last);
	snprintf(id, sizeof(id), "%s", last);
	free(last);
	snprintf(sql, sizeof(sql),
		 "CREATE TRIGGER refuse BEFORE INSERT ON record WHEN NEW.record_id = '%s' "
		 "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
		 id);
	CU_ASSERT_EQUAL(mirror_sql(file, sql, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, "--limit 500", out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "refused by the test"));
	CU_ASSERT_EQUAL(mirror_count(file, "SELECT count(*) FROM record"), 0);
	CU_ASSERT_EQUAL(mirror_count(file, "SELECT cursor FROM state"), 0);

	CU_ASSERT_EQUAL(mirror_sql(file, "DROP TRIGGER refuse", out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, "", out, sizeof(out)), 0);
	check_mirror(file);
}

/* The feed's end as the mirror's cursor, waiting up to 10 s; 0 or -1. */
static int
wait_caught_up(const char *file)
{
	char *end = harness_sql_value("SELECT max(seq) FROM investor.changes");
	char out[64];
	int rc = -1;

	for (int i = 0; end && i < 100 && rc == -1; i++) {
		if (mirror_sql(file, "SELECT cursor FROM state", out, sizeof(out)) == 0 &&
		    strcmp(out, end) == 0)
			rc = 0;
		else
			usleep(100000);
	}
	free(end);
	return rc;
}

/* The protobuf module is generated when missing and again when it is older
 * than the .proto, and then used as it is. */
static void
test_generated_module(void)
{
	char gen[600], cmd[1400], out[4096];
	struct stat st;

	snprintf(gen, sizeof(gen), "%s/python/vacancy_pb2.py", harness_env("VACANCY_TEST_WORK"));
	CU_ASSERT_EQUAL_FATAL(stat(gen, &st), 0); /* from the first run */
	snprintf(cmd, sizeof(cmd), "touch -d 2001-01-01 '%s'", gen);
	CU_ASSERT_EQUAL_FATAL(harness_run(cmd, NULL, 0), 0);
	CU_ASSERT_EQUAL(mirror_run(main_db, tok_investor, "", out, sizeof(out)), 0);
	CU_ASSERT_EQUAL_FATAL(stat(gen, &st), 0);
	CU_ASSERT(st.st_mtime > time(NULL) - 3600); /* written again */
	/* newer than the .proto: left alone */
	snprintf(cmd, sizeof(cmd), "touch -d '+1 hour' '%s'", gen);
	CU_ASSERT_EQUAL_FATAL(harness_run(cmd, NULL, 0), 0);
	CU_ASSERT_EQUAL(mirror_run(main_db, tok_investor, "", out, sizeof(out)), 0);
	CU_ASSERT_EQUAL_FATAL(stat(gen, &st), 0);
	CU_ASSERT(st.st_mtime > time(NULL) + 1800);
}

/* A loopback port nobody listens on. */
static int
closed_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Starts the mirror with --follow --interval 0.2 on file against url, its
 * output into log; returns its pid (the mirror's own: sh execs it). */
static pid_t
follow_start(const char *file, const char *url, const char *log)
{
	char cmd[4096];
	pid_t pid;

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && exec " PYTHON " " SCRIPT " --url %s --ca '%s/ca.pem' --token '%s' "
		 "--db '%s' --gen-dir '%s/python' --follow --interval 0.2 >'%s' 2>&1",
		 root, url, harness_env("VACANCY_TEST_TLS"), tok_investor, file,
		 harness_env("VACANCY_TEST_WORK"), log);
	if ((pid = fork()) == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Sends SIGTERM and returns the exit status; -1 (and SIGKILL) when the
 * mirror has not ended within 10 s. */
static int
follow_stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* 1 when the file at path contains s, waiting up to 10 s for it. */
static int
file_gets(const char *path, const char *s)
{
	char buf[8192];

	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

		if (f)
			fclose(f);
		buf[n] = '\0';
		if (strstr(buf, s))
			return 1;
		usleep(100000);
	}
	return 0;
}

/* --follow keeps polling: it takes a change made while it runs, and SIGTERM
 * ends it with status 0. */
static void
test_follow(void)
{
	struct rec *up[] = {&p1};
	char file[700], log[700], url[64];
	pid_t pid;

	fresh_db("follow", file, sizeof(file));
	snprintf(log, sizeof(log), "%s/follow.log", dmn.dir);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", dmn.port);
	pid = follow_start(file, url, log);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT_EQUAL(wait_caught_up(file), 0);
	snprintf(p1.title, sizeof(p1.title), "Laden am Markt, renoviert");
	p1.r.revision = 2;
	CU_ASSERT_EQUAL(sync_send("mirror-follow", up, 1, NULL, 0), 200);
	CU_ASSERT_EQUAL(wait_caught_up(file), 0);
	check_mirror(file);
	CU_ASSERT_EQUAL(follow_stop(pid), 0);
	CU_ASSERT(file_gets(log, "stopped by a signal"));
}

/* --follow outlives a registry it cannot reach: it says so and tries again
 * until SIGTERM. */
static void
test_follow_unreachable(void)
{
	char file[700], log[700], url[64];
	pid_t pid;

	fresh_db("follow-unreachable", file, sizeof(file));
	snprintf(log, sizeof(log), "%s/follow-unreachable.log", dmn.dir);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", closed_port());
	pid = follow_start(file, url, log);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT(file_gets(log, "Connection refused; trying again in 0.2 s"));
	usleep(300000); /* and again */
	CU_ASSERT_EQUAL(kill(pid, 0), 0);
	CU_ASSERT_EQUAL(follow_stop(pid), 0);
	CU_ASSERT(file_gets(log, "stopped by a signal"));
}

/* --verify agrees with the search after catching up (in pages of 2), and
 * fails, naming the record, on a mirror with a row missing, a row altered
 * or a row too many. */
static void
test_verify(void)
{
	char file[700], out[8192], sql[512], want[128], a[37], b[37];

	CU_ASSERT_EQUAL(mirror_run(main_db, tok_investor, "--verify --limit 2", out, sizeof(out)),
			0);
	snprintf(want, sizeof(want),
		 "verify: %ld records in the search, %ld in the mirror, 0 "
		 "differences",
		 count("SELECT count(*) FROM investor.published_record"),
		 count("SELECT count(*) FROM investor.published_record"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, want));

	id_of("P-2", a);
	id_of("P-3", b);
	fresh_db("verify-missing", file, sizeof(file));
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, "", out, sizeof(out)), 0);
	snprintf(sql, sizeof(sql), "DELETE FROM record WHERE record_id = '%s'", a);
	CU_ASSERT_EQUAL(mirror_sql(file, sql, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, "--verify", out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "only in the search: %s", a);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, " 1 differences"));

	fresh_db("verify-altered", file, sizeof(file));
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, "", out, sizeof(out)), 0);
	snprintf(sql, sizeof(sql),
		 "UPDATE record SET record = (SELECT record FROM record WHERE record_id = '%s') "
		 "WHERE record_id = '%s'",
		 b, a);
	CU_ASSERT_EQUAL(mirror_sql(file, sql, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, "--verify", out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "differs: %s: record_id", a);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "title"));

	fresh_db("verify-extra", file, sizeof(file));
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, "", out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(mirror_sql(file,
				   "INSERT INTO record (record_id, record) VALUES "
				   "('00000000-0000-0000-0000-000000000001', X'')",
				   out, sizeof(out)),
			0);
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, "--verify", out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(out, "only in the mirror: 00000000-0000-0000-0000-000000000001"));
}

/* The server's refusal, an unreachable server and an unknown certificate
 * exit 1 with a message; bad usage exits 2; none of them touches the mirror. */
static void
test_errors(void)
{
	char file[700], out[4096], args[1600], cmd[2048];

	fresh_db("errors", file, sizeof(file));
	/* well-formed, but no such token */
	CU_ASSERT_EQUAL(mirror_run(file, "vcy_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "", out,
				   sizeof(out)),
			1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "401 UNAUTHENTICATED: the token is not valid"));
	CU_ASSERT_EQUAL(mirror_count(file, "SELECT cursor FROM state"), 0);

	snprintf(args, sizeof(args), "--url https://127.0.0.1:%d", closed_port());
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, args, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "cannot reach https://127.0.0.1:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Connection refused"));

	/* verification is never skipped: a CA that did not sign the server's certificate */
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-subj /CN=other -days 1 -keyout '%s/other.key' -out '%s/other.pem' 2>&1",
		 dmn.dir, dmn.dir);
	CU_ASSERT_EQUAL_FATAL(harness_run(cmd, out, sizeof(out)), 0);
	snprintf(args, sizeof(args), "--ca '%s/other.pem'", dmn.dir);
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, args, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "certificate verify failed"));

	CU_ASSERT_EQUAL(mirror_run(file, NULL, "", out, sizeof(out)), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "no token"));
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, "--follow --verify", out, sizeof(out)), 2);
	CU_ASSERT_EQUAL(mirror_run(file, tok_investor, "--limit 0", out, sizeof(out)), 2);
	CU_ASSERT_EQUAL(mirror_count(file, "SELECT cursor FROM state"), 0);
}

void test_mirror_register(void);
void
test_mirror_register(void)
{
	CU_pSuite s = CU_add_suite("mirror", suite_init, suite_clean);

	CU_add_test(s, "first run: exactly the published records", test_first_run);
	CU_add_test(s, "second run: updates, withdrawals, visibility", test_incremental);
	CU_add_test(s, "small pages; a failed batch leaves nothing", test_batches);
	CU_add_test(s, "the protobuf module is generated when stale", test_generated_module);
	CU_add_test(s, "--follow takes changes, stops on SIGTERM", test_follow);
	CU_add_test(s, "--follow tries an unreachable registry again", test_follow_unreachable);
	CU_add_test(s, "--verify agrees, and finds a tampered mirror", test_verify);
	CU_add_test(s, "errors and usage", test_errors);
}
