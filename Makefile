# vacancyd: GNU make build. Explicit source lists, -MMD dependencies, one
# build directory per variant (plain or sanitized) so that both can coexist.
#
#   make            build daemon and client
#   make run        install what is missing, set up var/, run the registry
#   make test       set up a throwaway cluster and run every test (sanitized)
#   make SANITIZE=address,undefined ...   any target with sanitizers
#   make format-check / make format

SHELL      := /bin/bash
CC         ?= cc
SANITIZE   ?=
ifeq ($(SANITIZE),)
BUILD      := build/default
SANFLAGS   :=
else
BUILD      := build/san
SANFLAGS   := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PKGS       := libevent_core libevent_extra libevent_openssl libpq libprotobuf-c openssl
WARN       := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wno-format-nonliteral -Werror
CFLAGS     ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(CFLAGS) $(SANFLAGS) $(WARN) -MMD -MP \
              -I$(BUILD)/proto -Idaemon $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_D   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
LDFLAGS    += $(SANFLAGS)

PROTO_C    := $(BUILD)/proto/vacancy.pb-c.c
PROTO_O    := $(BUILD)/proto/vacancy.pb-c.o

# Pure modules: no sockets, no database. Linked into daemon, client and unit tests.
CORE_SRCS  := daemon/buf.c daemon/log.c daemon/config.c daemon/json.c \
              daemon/route.c daemon/project.c daemon/codec.c daemon/pgmap.c \
              daemon/token.c daemon/validate.c daemon/pbfield.c daemon/utf8.c \
              daemon/searchq.c daemon/rm.c daemon/om.c \
              daemon/syncrow.c daemon/certid.c
# I/O modules of the daemon.
DAEMON_SRCS := daemon/db.c daemon/server.c daemon/req.c daemon/auth.c \
              daemon/metrics.c daemon/health.c daemon/records.c daemon/history.c daemon/sync.c daemon/overview.c daemon/changes.c daemon/search.c daemon/export.c daemon/rmsync.c \
              daemon/tokencli.c daemon/explaincli.c \
              daemon/main.c
CLIENT_SRCS := clients/vacancy.c clients/http.c clients/print.c clients/sync.c clients/csv.c \
              clients/openimmo.c clients/report.c clients/search.c clients/feed.c
UNIT_SRCS  := tests/unit/unit_main.c tests/unit/test_config.c tests/unit/test_json.c \
              tests/unit/test_route.c tests/unit/test_project.c tests/unit/test_codec.c \
              tests/unit/test_pgmap.c tests/unit/test_token.c \
              tests/unit/test_client_print.c tests/unit/test_validate.c tests/unit/test_csv.c \
              tests/unit/test_openimmo.c tests/unit/test_report.c tests/unit/test_searchq.c \
              tests/unit/test_client_search.c tests/unit/test_rm.c \
              tests/unit/test_om.c tests/unit/test_syncrow.c tests/unit/test_certid.c \
              tests/certgen.c
INTEG_SRCS := tests/integration/integ_main.c tests/integration/harness.c \
              tests/integration/test_http.c tests/integration/test_db.c \
              tests/integration/test_daemon.c tests/integration/test_sync.c \
              tests/integration/test_overview.c tests/integration/test_search.c \
              tests/integration/test_search_random.c tests/integration/test_privacy.c \
              tests/integration/test_clients.c tests/integration/test_mirror.c \
              tests/integration/test_certs.c tests/integration/gen_records.c \
              tests/certgen.c

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
CORE_OBJS   := $(call obj,$(CORE_SRCS)) $(PROTO_O)
DAEMON_OBJS := $(call obj,$(DAEMON_SRCS))
CLIENT_OBJS := $(call obj,$(CLIENT_SRCS))
UNIT_OBJS   := $(call obj,$(UNIT_SRCS))
INTEG_OBJS  := $(call obj,$(INTEG_SRCS))

VACANCYD   := $(BUILD)/vacancyd
VACANCY    := $(BUILD)/vacancy
UNIT_BIN   := $(BUILD)/unit_tests
INTEG_BIN  := $(BUILD)/integration_tests

.PHONY: all run test check unit integration clean distclean format format-check deps \
        valgrind bench fuzz
all: $(VACANCYD) $(VACANCY)

$(BUILD)/proto/vacancy.pb-c.c $(BUILD)/proto/vacancy.pb-c.h: proto/vacancy.proto
	@mkdir -p $(BUILD)/proto
	protoc-c -Iproto --c_out=$(BUILD)/proto $<

# Generated code is not ours to warn about beyond -Wall.
$(PROTO_O): $(PROTO_C)
	$(CC) -std=c11 $(CFLAGS) $(SANFLAGS) -Wall -c -o $@ $< $(shell pkg-config --cflags libprotobuf-c)

$(BUILD)/%.o: %.c $(BUILD)/proto/vacancy.pb-c.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/clients/%.o: ALL_CFLAGS += $(shell pkg-config --cflags libcurl libxml-2.0)
$(BUILD)/tests/%.o: ALL_CFLAGS += $(shell pkg-config --cflags cunit libcurl) -Itests

$(VACANCYD): $(CORE_OBJS) $(DAEMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_D)

$(VACANCY): $(CORE_OBJS) $(CLIENT_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_D) $(shell pkg-config --libs libcurl libxml-2.0)

$(UNIT_BIN): $(CORE_OBJS) $(UNIT_OBJS) $(BUILD)/clients/print.o $(BUILD)/clients/sync.o \
            $(BUILD)/clients/csv.o $(BUILD)/clients/openimmo.o $(BUILD)/clients/http.o \
            $(BUILD)/clients/report.o $(BUILD)/clients/search.o $(BUILD)/clients/feed.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_D) $(shell pkg-config --libs cunit libcurl libxml-2.0)

$(INTEG_BIN): $(CORE_OBJS) $(INTEG_OBJS) $(filter-out $(BUILD)/daemon/main.o,$(DAEMON_OBJS))
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_D) $(shell pkg-config --libs cunit libcurl) -lpthread

deps:
	@deploy/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@deploy/devenv.sh run $(VACANCYD)

# The whole suite, built with AddressSanitizer and UBSan.
test: deps
	@$(MAKE) --no-print-directory SANITIZE=address,undefined check

check: $(VACANCYD) $(VACANCY) $(UNIT_BIN) $(INTEG_BIN)
	@tests/run.sh $(BUILD)

unit: $(UNIT_BIN)
	$(UNIT_BIN)

valgrind: deps
	@$(MAKE) --no-print-directory all $(INTEG_BIN) $(UNIT_BIN)
	@VALGRIND=1 tests/run.sh $(BUILD)

# Figures against references measured in the same run (tests/bench/README.md).
# BENCH_RECORDS: records of the Land-sized set (land.sh); a small number is a
# quick run and also shrinks the overview set. BENCH_SYNC_RECORDS: the one
# transfer of sync.sh.
BENCH_RECORDS ?= 1000000
BENCH_SYNC_RECORDS ?= 10000
BENCH_OVERVIEW_RECORDS ?= $(shell n=$(BENCH_RECORDS); echo $$((n < 100000 ? n : 100000)))
bench: deps
	@$(MAKE) --no-print-directory all
	@tests/bench/sync.sh $(BUILD) $(BENCH_SYNC_RECORDS)
	@tests/bench/overview.sh $(BUILD) $(BENCH_OVERVIEW_RECORDS)
	@tests/bench/land.sh $(BUILD) $(BENCH_RECORDS)

# libFuzzer targets for every parser (clang), FUZZ_SECONDS each (default 60).
fuzz: $(BUILD)/proto/vacancy.pb-c.c
	tests/fuzz/run.sh $(FUZZ_SECONDS)

FORMAT_SRCS = $(wildcard daemon/*.[ch] clients/*.[ch] tests/*/*.[ch])
format:
	clang-format -i $(FORMAT_SRCS)
format-check:
	clang-format --dry-run -Werror $(FORMAT_SRCS)

clean:
	rm -rf build
distclean: clean
	deploy/pg.sh stop var/pg 2>/dev/null || true
	rm -rf var

-include $(shell find build -name '*.d' 2>/dev/null)
