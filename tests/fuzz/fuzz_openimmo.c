/*
 * fuzz_openimmo: libFuzzer target for openimmo_read() of clients/openimmo.c.
 *
 * The input is the OpenImmo XML document. Whatever the reader accepts or
 * refuses, it must not crash or leak; the changes it keeps must pack (every
 * string and sub-message in place) to the size protobuf-c computed, and the
 * batch must survive sync_batch_finish and free cleanly. A failed read must
 * say why.
 *
 * Built and run by tests/fuzz/run.sh:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
 *       -Idaemon -Iclients -Ibuild/default/proto tests/fuzz/fuzz_openimmo.c \
 *       clients/csv.c clients/openimmo.c clients/sync.c clients/http.c \
 *       clients/print.c daemon/codec.c daemon/json.c daemon/pgmap.c \
 *       daemon/project.c daemon/pbfield.c daemon/buf.c daemon/log.c \
 *       daemon/utf8.c build/default/proto/vacancy.pb-c.c \
 *       $(pkg-config --cflags --libs libprotobuf-c libxml-2.0 libcurl openssl) -lm
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "openimmo.h"
#include "log.h"
#include "sync.h"
#include "vacancy.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_ERROR);
	return 0;
}

/* Packs every change: a malformed message (a NULL string in a repeated
 * field, a oneof case without its member) crashes here, not in the field. */
static void
check_batch(const struct sync_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const ProtobufCMessage *m = &b->changes[i]->base;
		size_t n = protobuf_c_message_get_packed_size(m);
		uint8_t *out = malloc(n ? n : 1);

		if (out == NULL)
			return;
		if (protobuf_c_message_pack(m, out) != n)
			abort();
		free(out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sync_batch batch;
	struct sync_problems probs;
	int rc;

	if (size > OPENIMMO_MAX_FILE)
		return 0;
	sync_batch_init(&batch, SYNC_FORMAT_OPENIMMO);
	sync_problems_init(&probs, SYNC_MAX_PROBLEMS);
	rc = openimmo_read((const char *)data, size, &batch, &probs);
	if (rc == -1 && probs.errors == 0)
		abort(); /* a refusal must name an error */
	check_batch(&batch);
	if (rc == 0)
		(void)sync_batch_finish(&batch, NULL, &probs);
	sync_problems_free(&probs);
	sync_batch_free(&batch);
	return 0;
}
