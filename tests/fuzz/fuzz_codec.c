/*
 * fuzz_codec: libFuzzer target for codec_decode() of daemon/codec.c (protobuf
 * form, strict mode) and validate_transfer() of daemon/validate.c.
 *
 * The first input byte picks the message type (bits 0-1: SyncRequest,
 * SearchRequest, Record; 3 is SyncRequest too) and the budget (bit 2: 64 KiB,
 * else 8 bytes per input byte); the rest is the protobuf body. Decoding must
 * never crash or leak; whatever decodes frees back to a budget of 0 bytes
 * used, and a decoded SyncRequest is validated as the sync handler does.
 *
 * Built and run by tests/fuzz/run.sh:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 -D_GNU_SOURCE \
 *       -Idaemon -Ibuild/default/proto tests/fuzz/fuzz_codec.c daemon/codec.c \
 *       daemon/validate.c daemon/json.c daemon/pbfield.c daemon/buf.c daemon/log.c \
 *       daemon/utf8.c \
 *       build/default/proto/vacancy.pb-c.c \
 *       $(pkg-config --cflags --libs libprotobuf-c openssl) -lm
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "codec.h"
#include "log.h"
#include "validate.h"
#include "vacancy.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const ProtobufCMessageDescriptor *const targets[] = {
    &vacancy__v1__sync_request__descriptor,
    &vacancy__v1__search_request__descriptor,
    &vacancy__v1__record__descriptor,
    &vacancy__v1__sync_request__descriptor,
};

#define SMALL_BUDGET ((size_t)64 << 10)
#define MAX_RECORDS  10000
#define AGS	     "14521020"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_WARN);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const ProtobufCMessageDescriptor *desc;
	struct codec_budget budget;
	ProtobufCMessage *msg;
	char err[512];
	size_t limit;

	if (size < 1)
		return 0;
	desc = targets[data[0] & 3];
	limit = (data[0] & 4) ? SMALL_BUDGET : (size - 1) * 8;
	data++;
	size--;

	codec_budget_init(&budget, limit);
	err[0] = '\0';
	msg = codec_decode(desc, CODEC_PROTOBUF, data, size, &budget, 16, 1, err, sizeof(err));
	if (msg == NULL) {
		if (err[0] == '\0')
			abort(); /* a refusal must say why */
		if (budget.used != 0)
			abort(); /* a refusal must give back every byte */
		return 0;
	}
	if (msg->descriptor != desc || budget.used > budget.limit)
		abort();

	if (desc == &vacancy__v1__sync_request__descriptor) {
		struct validate_ctx ctx;
		struct validate_errors errs;

		validate_ctx_now(&ctx, AGS, MAX_RECORDS);
		validate_errors_init(&errs, 100);
		validate_transfer((const Vacancy__V1__SyncRequest *)msg, &ctx, &errs);
		validate_errors_close(&errs, "max_errors");
		if (errs.n > errs.max + 1)
			abort();
		validate_errors_free(&errs);
	}

	protobuf_c_message_free_unpacked(msg, &budget.alloc);
	if (budget.used != 0)
		abort(); /* the message did not give back every byte it took */
	return 0;
}
