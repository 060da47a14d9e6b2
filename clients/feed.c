/*
 * feed: "vacancy feed". Owns the checks of its options, the request path,
 * the line of one change and the polling loop over GET /v1/changes.
 *
 * The loop asks for the changes after the cursor (the registry's batch, or
 * fewer when --limit needs fewer than FEED_BATCH), prints them and
 * moves the cursor to the batch's next_cursor, until a batch comes back
 * empty (caught up) or --limit changes are printed. With --follow it then
 * sleeps --interval seconds and asks again; a lost connection or HTTP 503
 * is reported and retried at the next poll, any other error ends the run.
 *
 * SIGINT and SIGTERM are blocked while the command runs and taken with
 * sigtimedwait between requests, so a signal never cuts a line or a request
 * in half and the cursor printed at the end is exactly where the output
 * stopped. A request in flight is finished first (it is bounded by
 * --timeout).
 */
#include "feed.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "json.h"
#include "log.h"
#include "print.h"

#define FEED_ELLIPSIS "\u2026"

/* Parses a whole number lo..hi for flag. 0, or -1 with a reason. */
static int
feed_number(const char *flag, const char *s, long lo, long hi, long *out, char *err, size_t errlen)
{
	char shown[64];
	size_t n = strlen(s);

	if (n == 0 || n > 10 || strspn(s, "0123456789") != n || (*out = atol(s)) < lo ||
	    *out > hi) {
		snprintf(err, errlen, "%s wants a whole number from %ld to %ld, not '%s'", flag, lo,
			 hi, log_escape(s, n, shown, sizeof(shown)));
		return -1;
	}
	return 0;
}

int
feed_cursor_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= FEED_CURSOR_MAX && strspn(s, "0123456789") == n;
}

int
feed_check(const struct feed_options *o, struct feed_query *q, char *err, size_t errlen)
{
	char shown[64];

	memset(q, 0, sizeof(*q));
	snprintf(q->cursor, sizeof(q->cursor), "0");
	q->interval_s = FEED_DEFAULT_INTERVAL;
	q->follow = o->follow;
	q->json = o->json;
	if (o->after) {
		if (!feed_cursor_ok(o->after)) {
			snprintf(err, errlen,
				 "--after wants a cursor (up to %d digits) as a previous run "
				 "printed it, not '%s'",
				 FEED_CURSOR_MAX,
				 log_escape(o->after, strlen(o->after), shown, sizeof(shown)));
			return -1;
		}
		snprintf(q->cursor, sizeof(q->cursor), "%s", o->after);
	}
	if (o->limit &&
	    feed_number("--limit", o->limit, 1, 1000000000L, &q->limit, err, errlen) == -1)
		return -1;
	if (o->interval && !o->follow) {
		snprintf(err, errlen, "--interval needs --follow");
		return -1;
	}
	if (o->interval && feed_number("--interval", o->interval, 1, FEED_MAX_INTERVAL,
				       &q->interval_s, err, errlen) == -1)
		return -1;
	return 0;
}

char *
feed_path(const char *cursor, long limit)
{
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "/v1/changes?after=%s", cursor);
	if (limit > 0)
		buf_printf(&b, "&limit=%ld", limit);
	if (buf_failed(&b)) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* Appends untrusted text escaped on one line, cut to columns with an ellipsis. */
static void
feed_text(struct buf *b, const char *s, size_t columns)
{
	size_t start = b->len, w = 0, i;

	client_print_escape(b, s, strlen(s), PRINT_NL_C);
	if (buf_failed(b))
		return;
	for (i = start; i < b->len; i++)
		if (((unsigned char)b->data[i] & 0xc0) != 0x80 && w++ == columns)
			break;
	if (i == b->len)
		return; /* fits */
	/* i starts character columns + 1: keep columns - 1 and the ellipsis */
	do
		i--;
	while (i > start && ((unsigned char)b->data[i] & 0xc0) == 0x80);
	b->len = i;
	b->data[i] = '\0';
	buf_adds(b, FEED_ELLIPSIS);
}

/* Appends the name of enum value v, or its number. */
static void
feed_enum(struct buf *b, const ProtobufCEnumDescriptor *d, int v)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);

	if (ev)
		buf_adds(b, ev->name);
	else
		buf_printf(b, "%d", v);
}

/* Appends "OBJECT_TYPE STATUS locality: title" of r, leaving out what is absent. */
static void
feed_summary(struct buf *b, const Vacancy__V1__Record *r)
{
	size_t start = b->len;

	if (r->has_object_type)
		feed_enum(b, &vacancy__v1__object_type__value__descriptor, (int)r->object_type);
	if (r->has_status) {
		if (b->len > start)
			buf_addc(b, ' ');
		feed_enum(b, &vacancy__v1__status__value__descriptor, (int)r->status);
	}
	if (r->locality && *r->locality) {
		if (b->len > start)
			buf_addc(b, ' ');
		feed_text(b, r->locality, FEED_TITLE_COLUMNS);
	}
	if (r->title && *r->title) {
		if (b->len > start)
			buf_adds(b, r->locality && *r->locality ? ": " : " ");
		feed_text(b, r->title, FEED_TITLE_COLUMNS);
	}
}

int
feed_print_change(const Vacancy__V1__Change *ch, int json, FILE *out)
{
	struct buf b;
	size_t mark;
	int rc = 0;

	buf_init(&b, 0);
	if (json) {
		if (json_encode(&ch->base, &b, 0) == -1)
			b.failed = 1;
	} else {
		mark = b.len;
		feed_text(&b, ch->cursor ? ch->cursor : "-", FEED_CURSOR_MAX + 2);
		buf_printf(&b, "%*s", (int)(b.len - mark < 8 ? 8 - (b.len - mark) : 0), "");
		buf_adds(&b, "  ");
		mark = b.len;
		if (ch->has_kind)
			feed_enum(&b, &vacancy__v1__change_kind__value__descriptor, (int)ch->kind);
		else
			buf_addc(&b, '-');
		buf_printf(&b, "%*s", (int)(b.len - mark < 8 ? 8 - (b.len - mark) : 0), "");
		buf_adds(&b, "  ");
		feed_text(&b, ch->record_id ? ch->record_id : "-", 40);
		if (ch->record) {
			mark = b.len;
			buf_adds(&b, "  ");
			feed_summary(&b, ch->record);
			if (b.len == mark + 2 && !b.failed) {
				b.len = mark;
				b.data[mark] = '\0';
			}
		}
	}
	buf_addc(&b, '\n');
	if (buf_failed(&b) || fwrite(b.data, 1, b.len, out) != b.len || ferror(out))
		rc = -1;
	buf_free(&b);
	return rc;
}

/* ---- The command ---- */

/* What one poll came to. */
enum feed_poll {
	FEED_POLL_OK,	 /* a batch was printed */
	FEED_POLL_RETRY, /* transport failure or 503: worth another try */
	FEED_POLL_FAIL,	 /* anything else: the run ends */
};

/* Whether SIGINT or SIGTERM is pending; takes it. */
static int
feed_stop_pending(const sigset_t *stop)
{
	struct timespec zero = {0, 0};
	sigset_t pending;

	if (sigpending(&pending) == -1)
		return 0;
	if (!sigismember(&pending, SIGINT) && !sigismember(&pending, SIGTERM))
		return 0;
	(void)sigtimedwait(stop, NULL, &zero);
	return 1;
}

/* Sleeps seconds, or less when SIGINT or SIGTERM arrives: then returns 1. */
static int
feed_wait(const sigset_t *stop, long seconds)
{
	struct timespec ts = {seconds, 0};

	while (sigtimedwait(stop, NULL, &ts) == -1) {
		if (errno == EAGAIN)
			return 0;
		if (errno != EINTR)
			return feed_stop_pending(stop);
	}
	return 1;
}

/*
 * One request after q->cursor: prints its changes (at most *left when
 * q->limit, counted down) and moves q->cursor on. *n is the number of
 * changes in the batch.
 */
static enum feed_poll
feed_poll(struct client_http *h, struct feed_query *q, const struct client_http_config *cfg,
	  long *left, size_t *n)
{
	struct client_response resp;
	Vacancy__V1__ChangeBatch *batch = NULL;
	/* the registry's default batch unless fewer are wanted: its cap may be lower than ours */
	long want = q->limit && *left < FEED_BATCH ? *left : 0;
	const char *want_type = CLIENT_HTTP_PROTOBUF, *why = NULL;
	enum feed_poll rc = FEED_POLL_FAIL;
	char *path;

	*n = 0;
	client_response_init(&resp);
	if ((path = feed_path(q->cursor, want)) == NULL) {
		fprintf(stderr, "vacancy: out of memory\n");
		goto done;
	}
	if (client_http_get(h, path, want_type, &resp) == -1) {
		fprintf(stderr, "vacancy: %s\n", client_http_error(h));
		rc = resp.too_large ? FEED_POLL_FAIL : FEED_POLL_RETRY;
		goto done;
	}
	if (client_http_expect(&resp, cfg, "/v1/changes", want_type) == -1) {
		if (resp.status >= 400)
			rc = resp.status == 503 ? FEED_POLL_RETRY : FEED_POLL_FAIL;
		goto done;
	}
	batch = (Vacancy__V1__ChangeBatch *)client_http_unpack(
	    &resp, &vacancy__v1__change_batch__descriptor, &why);
	if (batch == NULL) {
		fprintf(stderr,
			"vacancy: cannot read the ChangeBatch the server sent: %s (%zu bytes)\n",
			why, resp.body.len);
		goto done;
	}
	for (size_t i = 0; i < batch->n_changes; i++) {
		const Vacancy__V1__Change *ch = batch->changes[i];

		if (ch == NULL || ch->cursor == NULL || !feed_cursor_ok(ch->cursor)) {
			fprintf(stderr, "vacancy: change %zu of the batch has no valid cursor\n",
				i + 1);
			goto done;
		}
		if (q->limit && *left == 0)
			break;
		if (feed_print_change(ch, q->json, stdout) == -1) {
			if (!ferror(stdout))
				fprintf(stderr, "vacancy: out of memory\n");
			goto done; /* main reports a write error */
		}
		snprintf(q->cursor, sizeof(q->cursor), "%s", ch->cursor);
		(*n)++;
		if (q->limit)
			(*left)--;
	}
	/* an empty batch names the cursor to keep; after a full one it is the last change's */
	if (*n == batch->n_changes && batch->next_cursor && *batch->next_cursor) {
		if (!feed_cursor_ok(batch->next_cursor)) {
			fprintf(stderr, "vacancy: the registry sent a malformed next_cursor\n");
			goto done;
		}
		snprintf(q->cursor, sizeof(q->cursor), "%s", batch->next_cursor);
	}
	if (fflush(stdout) != 0)
		goto done;
	rc = FEED_POLL_OK;
done:
	if (batch)
		client_http_free_message(&batch->base);
	client_response_free(&resp);
	free(path);
	return rc;
}

int
feed_command(const struct feed_options *o, const struct client_http_config *cfg)
{
	struct client_http *h = NULL;
	struct feed_query q;
	sigset_t stop, saved;
	char err[512];
	long left;
	size_t n;
	int rc = 1, stopped = 0, blocked = 0;

	if (feed_check(o, &q, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancy: %s\nrun 'vacancy help feed' for its usage\n", err);
		return 2;
	}
	if (client_http_check(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancy: %s\nrun 'vacancy --help' for usage\n", err);
		return 2;
	}
	if (client_http_open(&h, cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "vacancy: %s\n", err);
		return 1;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &stop, &saved) == 0)
		blocked = 1;
	left = q.limit;
	for (;;) {
		enum feed_poll p;

		if (blocked && feed_stop_pending(&stop)) {
			stopped = 1;
			break;
		}
		p = feed_poll(h, &q, cfg, &left, &n);
		if (p == FEED_POLL_FAIL || (p == FEED_POLL_RETRY && !q.follow))
			goto done;
		if (q.limit && left == 0)
			break;
		if (p == FEED_POLL_OK && n > 0)
			continue;
		if (!q.follow)
			break; /* caught up */
		if (p == FEED_POLL_RETRY)
			fprintf(stderr, "vacancy: trying again in %ld s\n", q.interval_s);
		if (blocked ? feed_wait(&stop, q.interval_s) : (sleep((unsigned)q.interval_s), 0)) {
			stopped = 1;
			break;
		}
	}
	if (stopped && !q.follow) {
		fputs("vacancy: interrupted\n", stderr);
		goto done;
	}
	rc = 0;
done:
	client_http_close(h);
	fprintf(stderr, "vacancy: next cursor %s (continue with --after %s)\n", q.cursor, q.cursor);
	if (blocked) {
		/* a signal that came with the last request would end us when unblocked */
		(void)feed_stop_pending(&stop);
		sigprocmask(SIG_SETMASK, &saved, NULL);
	}
	return rc;
}
