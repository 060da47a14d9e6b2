/*
 * fuzz_reader: libFuzzer target for the sync client's file readers:
 * csv_read() of clients/csv.c, or with -DFUZZ_OPENIMMO openimmo_read() of
 * clients/openimmo.c (run.sh builds it both ways).
 *
 * The input is the file. Whatever the reader accepts or refuses, it must not
 * crash or leak; the changes it keeps must pack (every string and
 * sub-message in place) to the size protobuf-c computed, and the batch must
 * survive sync_batch_finish and free cleanly. A failed read must say why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "csv.h"
#include "openimmo.h"
#include "log.h"
#include "sync.h"
#include "vacancy.pb-c.h"

#ifdef FUZZ_OPENIMMO
#define FUZZ_MAX_FILE OPENIMMO_MAX_FILE
#define FUZZ_FORMAT   SYNC_FORMAT_OPENIMMO
#define FUZZ_READ     openimmo_read
#else
#define FUZZ_MAX_FILE CSV_MAX_FILE
#define FUZZ_FORMAT   SYNC_FORMAT_CSV
#define FUZZ_READ     csv_read
#endif

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

	if (size > FUZZ_MAX_FILE)
		return 0;
	sync_batch_init(&batch, FUZZ_FORMAT);
	sync_problems_init(&probs, SYNC_MAX_PROBLEMS);
	rc = FUZZ_READ((const char *)data, size, &batch, &probs);
	if (rc == -1 && probs.errors == 0)
		abort(); /* a refusal must name an error */
	check_batch(&batch);
	if (rc == 0)
		(void)sync_batch_finish(&batch, NULL, &probs);
	sync_problems_free(&probs);
	sync_batch_free(&batch);
	return 0;
}
