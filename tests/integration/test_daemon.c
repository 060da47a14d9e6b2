/*
 * test_daemon: behaviour that needs a daemon of its own: the connection
 * limit, the per-request deadline, the database going away and coming back,
 * SIGHUP reload, SIGTERM drain, and the command-line client against it.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "harness.h"

#define REC1 "00000000-0000-4000-8000-000000000001"

static char *
daemon_token(const struct daemon *d, const char *role, const char *scope)
{
	char *t = harness_token(d, role, scope);

	CU_ASSERT_PTR_NOT_NULL(t);
	return t;
}

/* An admin connection holding an ACCESS EXCLUSIVE lock on registry.record,
 * so that every query on it waits. */
static PGconn *
lock_records(void)
{
	PGconn *c = harness_pg(harness_env("VACANCY_TEST_PG_CONNINFO"));
	PGresult *res = PQexec(c, "BEGIN; LOCK registry.record IN ACCESS EXCLUSIVE MODE");

	CU_ASSERT_EQUAL(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	return c;
}

static void
unlock_records(PGconn *c)
{
	PGresult *res = PQexec(c, "ROLLBACK");

	PQclear(res);
	PQfinish(c);
}

struct limit_arg {
	struct daemon *d;
	long status;
	int done;
};

static void *
limit_request(void *p)
{
	struct limit_arg *a = p;
	struct http_resp r;

	harness_http(a->d, "GET", "/healthz", NULL, NULL, NULL, NULL, 0, NULL, &r);
	a->status = r.status;
	harness_resp_free(&r);
	__atomic_store_n(&a->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void
test_connection_limit(void)
{
	struct daemon d;
	void *a, *b;
	struct http_resp r;

	CU_ASSERT_EQUAL_FATAL(harness_daemon_start(&d, "max_connections = 2\nidle_timeout_s = 30"),
			      0);
	/* harness_daemon_start's probe connections are closed; let them be counted out */
	usleep(200000);
	a = harness_tls_open(d.port);
	b = harness_tls_open(d.port);
	CU_ASSERT_PTR_NOT_NULL(a);
	CU_ASSERT_PTR_NOT_NULL(b);
	/* a third request waits in the backlog instead of being served (a
	 * thread, not a fork: a child would hold copies of a's and b's sockets) */
	{
		struct limit_arg la = {&d, 0, 0};
		pthread_t th;

		pthread_create(&th, NULL, limit_request, &la);
		usleep(700000);
		CU_ASSERT_EQUAL(__atomic_load_n(&la.done, __ATOMIC_SEQ_CST), 0);
		harness_tls_close(a);
		/* one slot free: the waiting request is served */
		for (int i = 0; i < 50 && !__atomic_load_n(&la.done, __ATOMIC_SEQ_CST); i++)
			usleep(100000);
		CU_ASSERT_EQUAL(__atomic_load_n(&la.done, __ATOMIC_SEQ_CST), 1);
		pthread_join(th, NULL);
		CU_ASSERT_EQUAL(la.status, 200);
	}
	harness_tls_close(b);
	usleep(200000);
	CU_ASSERT_EQUAL(harness_http(&d, "GET", "/metrics", NULL, NULL, NULL, NULL, 0, NULL, &r),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "vacancyd_connections_max 2"));
	harness_resp_free(&r);
	CU_ASSERT(harness_log_contains(&d, "max_connections (2) reached"));
	CU_ASSERT_EQUAL(harness_daemon_stop(&d), 0);
}

static void
test_request_deadline(void)
{
	struct daemon d;
	struct http_resp r;
	PGconn *lock;
	char *tok;

	CU_ASSERT_EQUAL_FATAL(
	    harness_daemon_start(&d, "request_timeout_ms = 400\nauth_cache_ttl_ms = 60000"), 0);
	tok = daemon_token(&d, "county", "14521");
	/* authenticate once so the lock below only stalls the record query */
	harness_http(&d, "GET", "/v1/records/" REC1, tok, NULL, NULL, NULL, 0, NULL, &r);
	harness_resp_free(&r);
	lock = lock_records();
	harness_http(&d, "GET", "/v1/records/" REC1, tok, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 503);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "DEADLINE_EXCEEDED"));
	harness_resp_free(&r);
	/* everyone else is still served */
	CU_ASSERT_EQUAL(harness_http(&d, "GET", "/healthz", NULL, NULL, NULL, NULL, 0, NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	unlock_records(lock);
	harness_http(&d, "GET", "/v1/records/" REC1, tok, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	free(tok);
	CU_ASSERT_EQUAL(harness_daemon_stop(&d), 0);
}

static void
test_database_unreachable(void)
{
	struct daemon d;
	struct http_resp r;

	CU_ASSERT_EQUAL_FATAL(
	    harness_daemon_start(&d, "db_staff_conninfo = host=/nonexistent/vacancyd dbname=x\n"
				     "db_investor_conninfo = host=/nonexistent/vacancyd dbname=x"),
	    0);
	harness_http(&d, "GET", "/healthz", NULL, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 503);
	harness_resp_free(&r);
	harness_http(&d, "GET", "/v1/records/" REC1,
		     "vcy_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "application/json", NULL,
		     NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 503);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"UNAVAILABLE\""));
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(harness_daemon_stop(&d), 0);
}

static void
test_database_restart(void)
{
	struct daemon d;
	struct http_resp r;
	char *tok;

	CU_ASSERT_EQUAL_FATAL(harness_daemon_start(&d, "auth_cache_ttl_ms = 0"), 0);
	CU_ASSERT_EQUAL_FATAL(harness_daemon_wait_healthy(&d, 10000), 0);
	tok = daemon_token(&d, "investor", "");
	CU_ASSERT_EQUAL(system(harness_env("VACANCY_TEST_PG_STOP")), 0);
	harness_http(&d, "GET", "/healthz", NULL, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 503);
	harness_resp_free(&r);
	harness_http(&d, "GET", "/v1/records/" REC1, tok, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 503);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(system(harness_env("VACANCY_TEST_PG_START")), 0);
	/* the pools reconnect with backoff (max 500 ms here) */
	CU_ASSERT_EQUAL(harness_daemon_wait_healthy(&d, 10000), 0);
	harness_http(&d, "GET", "/v1/records/" REC1, tok, NULL, NULL, NULL, 0, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	free(tok);
	CU_ASSERT_EQUAL(harness_daemon_stop(&d), 0);
}

static void
test_sighup_reload(void)
{
	struct daemon d;
	struct http_resp r;
	char *body = calloc(1, 3000), *tok;

	CU_ASSERT_EQUAL_FATAL(harness_daemon_start(&d, "auth_cache_ttl_ms = 60000"), 0);
	tok = daemon_token(&d, "county", "14521");
	harness_http(&d, "GET", "/v1/records/" REC1, tok, NULL, "application/json", body, 3000,
		     NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	/* a smaller body limit takes effect on SIGHUP */
	CU_ASSERT_EQUAL(harness_daemon_write_config(&d, "max_body_bytes = 2K"), 0);
	kill(d.pid, SIGHUP);
	usleep(300000);
	harness_http(&d, "GET", "/v1/records/" REC1, tok, NULL, "application/json", body, 3000,
		     NULL, &r);
	CU_ASSERT_EQUAL(r.status, 413);
	harness_resp_free(&r);
	CU_ASSERT(harness_log_contains(&d, "reloaded"));
	/* a broken config is refused and the running one kept */
	CU_ASSERT_EQUAL(harness_daemon_write_config(&d, "max_body_bytes = lots"), 0);
	kill(d.pid, SIGHUP);
	usleep(300000);
	CU_ASSERT(harness_log_contains(&d, "keeping the running configuration"));
	harness_http(&d, "GET", "/v1/records/" REC1, tok, NULL, "application/json", body, 1000,
		     NULL, &r);
	CU_ASSERT_EQUAL(r.status, 200);
	harness_resp_free(&r);
	free(body);
	free(tok);
	CU_ASSERT_EQUAL(harness_daemon_stop(&d), 0);
}

static void
test_sighup_certificate(void)
{
	struct daemon d;
	char before[128], after[128], cmd[4096], extra[1400];
	const char *tls = harness_env("VACANCY_TEST_TLS");

	CU_ASSERT_EQUAL_FATAL(harness_daemon_start(&d, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(harness_tls_serial(d.port, before, sizeof(before)), 0);
	/* a new key and certificate from the same CA */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout new.key -subj /CN=localhost -out new.csr 2>/dev/null && "
		 "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > new.ext && "
		 "openssl x509 -req -in new.csr -CA %s/ca.pem -CAkey %s/ca.key -set_serial 0x5EED "
		 "-days 2 -extfile new.ext -out new.pem 2>/dev/null",
		 d.dir, tls, tls);
	CU_ASSERT_EQUAL_FATAL(harness_run(cmd, NULL, 0), 0);
	snprintf(extra, sizeof(extra), "tls_cert_file = %s/new.pem\ntls_key_file = %s/new.key",
		 d.dir, d.dir);
	CU_ASSERT_EQUAL(harness_daemon_write_config(&d, extra), 0);
	kill(d.pid, SIGHUP);
	usleep(300000);
	CU_ASSERT_EQUAL(harness_tls_serial(d.port, after, sizeof(after)), 0);
	CU_ASSERT_STRING_NOT_EQUAL(before, after);
	CU_ASSERT_STRING_EQUAL(after, "5EED");
	/* a key that does not match is refused; the new pair stays in use */
	snprintf(extra, sizeof(extra), "tls_cert_file = %s/new.pem\ntls_key_file = %s/server.key",
		 d.dir, tls);
	CU_ASSERT_EQUAL(harness_daemon_write_config(&d, extra), 0);
	kill(d.pid, SIGHUP);
	usleep(300000);
	CU_ASSERT(harness_log_contains(&d, "keeping the running configuration"));
	CU_ASSERT_EQUAL(harness_tls_serial(d.port, after, sizeof(after)), 0);
	CU_ASSERT_STRING_EQUAL(after, "5EED");
	CU_ASSERT_EQUAL(harness_daemon_stop(&d), 0);
}

struct drain_arg {
	struct daemon *d;
	const char *tok;
	long status;
};

static void *
drain_request(void *p)
{
	struct drain_arg *a = p;
	struct http_resp r;

	harness_http(a->d, "GET", "/v1/records/" REC1, a->tok, NULL, NULL, NULL, 0, NULL, &r);
	a->status = r.status;
	harness_resp_free(&r);
	return NULL;
}

static void
test_sigterm_drain(void)
{
	struct daemon d;
	struct drain_arg a;
	struct http_resp r;
	pthread_t th;
	PGconn *lock;
	int status;

	CU_ASSERT_EQUAL_FATAL(harness_daemon_start(&d, "auth_cache_ttl_ms = 60000"), 0);
	a.d = &d;
	a.tok = daemon_token(&d, "county", "14521");
	a.status = 0;
	drain_request(&a); /* warm the token cache */
	CU_ASSERT_EQUAL(a.status, 200);
	lock = lock_records();
	pthread_create(&th, NULL, drain_request, &a);
	usleep(300000);
	kill(d.pid, SIGTERM);
	usleep(300000);
	/* draining: no new connections, the daemon still runs */
	CU_ASSERT_EQUAL(harness_http(&d, "GET", "/healthz", NULL, NULL, NULL, NULL, 0, NULL, &r),
			-1);
	harness_resp_free(&r);
	CU_ASSERT_EQUAL(waitpid(d.pid, &status, WNOHANG), 0);
	unlock_records(lock);
	pthread_join(th, NULL);
	/* the request in flight was answered, then the daemon exited cleanly */
	CU_ASSERT_EQUAL(a.status, 200);
	for (int i = 0; i < 100 && waitpid(d.pid, &status, WNOHANG) == 0; i++)
		usleep(100000);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	d.pid = 0;
	free((char *)a.tok);
}

/* Runs the client with the daemon's URL and CA; returns its exit status. */
static int
run_client(const struct daemon *d, const char *token, const char *args, char *out, size_t outlen)
{
	char cmd[2048];

	snprintf(
	    cmd, sizeof(cmd),
	    "VACANCY_URL=https://127.0.0.1:%d VACANCY_CACERT=%s/ca.pem VACANCY_TOKEN=%s %s %s 2>&1",
	    d->port, harness_env("VACANCY_TEST_TLS"), token ? token : "",
	    harness_env("VACANCY_TEST_CLIENT"), args);
	return harness_run(cmd, out, outlen);
}

static void
test_client_get(void)
{
	struct daemon d;
	char out[16384], *inv, *muni;

	CU_ASSERT_EQUAL_FATAL(harness_daemon_start(&d, NULL), 0);
	inv = daemon_token(&d, "investor", "");
	muni = daemon_token(&d, "municipality", "14521020");
	CU_ASSERT_EQUAL(run_client(&d, inv, "get " REC1, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Fixture 1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Nutzfläche"));
	CU_ASSERT_PTR_NULL(strstr(out, "SECRET-"));
	CU_ASSERT_EQUAL(run_client(&d, muni, "get " REC1, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "SECRET-OWNER-1"));
	CU_ASSERT_EQUAL(run_client(&d, inv, "get --json " REC1, out, sizeof(out)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"title\":\"Fixture 1\""));
	/* errors: not published (404), no token (401), bad id (usage) */
	CU_ASSERT_EQUAL(
	    run_client(&d, inv, "get 00000000-0000-4000-8000-000000000003", out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "NOT_FOUND"));
	CU_ASSERT_EQUAL(run_client(&d, NULL, "get " REC1, out, sizeof(out)), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "UNAUTHENTICATED"));
	CU_ASSERT_EQUAL(run_client(&d, inv, "get nonsense", out, sizeof(out)), 2);
	free(inv);
	free(muni);
	CU_ASSERT_EQUAL(harness_daemon_stop(&d), 0);
}

static int
suite_init(void)
{
	return fixtures_load();
}

void test_daemon_register(void);
void
test_daemon_register(void)
{
	CU_pSuite s = CU_add_suite("daemon", suite_init, NULL);

	CU_add_test(s, "connection limit pauses accept", test_connection_limit);
	CU_add_test(s, "per-request deadline", test_request_deadline);
	CU_add_test(s, "database unreachable: 503", test_database_unreachable);
	CU_add_test(s, "database restart: reconnect", test_database_restart);
	CU_add_test(s, "SIGHUP reloads, keeps a good config", test_sighup_reload);
	CU_add_test(s, "SIGHUP reloads the certificate", test_sighup_certificate);
	CU_add_test(s, "SIGTERM drains", test_sigterm_drain);
	CU_add_test(s, "client vacancy get", test_client_get);
}
