#!/usr/bin/env bash
# tests/fuzz/run.sh: builds the libFuzzer targets of tests/fuzz/ with clang
# into build/fuzz/ and runs each for a bounded time. Independent of the
# Makefile; needs the generated build/default/proto/vacancy.pb-c.c (make).
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]   (default 60 s each, every target)
#
# Prints "fuzz <name>: ok (N runs)" per target, or the crash (input in hex and
# the sanitizer's report); exits 1 when a target crashed or failed to build.
# The corpus grows in build/fuzz/corpus/<name>/ between runs; crashing inputs
# land in build/fuzz/artifacts/.
# shellcheck disable=SC2317 # the seed_* functions are called as "seed_$t"
set -u -o pipefail

cd "$(dirname "$0")/../.." || exit 2
SECS=${1:-60}
shift || true
case $SECS in '' | *[!0-9]*)
	echo "usage: $0 [SECONDS] [TARGET...]" >&2
	exit 2
	;;
esac

CC=${FUZZ_CC:-clang}
OUT=build/fuzz
PROTO=build/default/proto
if ! command -v "$CC" >/dev/null; then
	echo "fuzz: $CC not found (libFuzzer needs clang: apt-get install clang)" >&2
	exit 2
fi
if [ ! -f $PROTO/vacancy.pb-c.c ]; then
	echo "fuzz: $PROTO/vacancy.pb-c.c missing: run make first" >&2
	exit 2
fi

# shellcheck disable=SC2054 # the commas belong to -fsanitize
CFLAGS=(-g -O1 -std=c11 -D_GNU_SOURCE -fno-omit-frame-pointer
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
	-Idaemon -Iclients "-I$PROTO")
# shellcheck disable=SC2207
PKG=($(pkg-config --cflags --libs libprotobuf-c libxml-2.0 libpq openssl libcurl)) || exit 2

CORE="daemon/buf.c daemon/log.c daemon/json.c daemon/pbfield.c daemon/codec.c $PROTO/vacancy.pb-c.c"
# the UTF-8 decoder shared by json, validate, csv and print, where present
[ -f daemon/utf8.c ] && CORE="$CORE daemon/utf8.c"
# clients/sync.c holds the batch and problem lists and also the sync command,
# which needs both readers, the HTTP client (curl) and the printer.
CLIENT="clients/csv.c clients/openimmo.c clients/sync.c clients/http.c clients/print.c daemon/pgmap.c daemon/project.c"
declare -A SRCS=(
	[codec]="tests/fuzz/fuzz_codec.c daemon/validate.c $CORE"
	[csv]="tests/fuzz/fuzz_reader.c $CLIENT $CORE"
	[openimmo]="-DFUZZ_OPENIMMO tests/fuzz/fuzz_reader.c $CLIENT $CORE"
)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(codec csv openimmo)

mkdir -p $OUT/artifacts

# ---- seed corpora ----
seed_codec() {
	local d=$OUT/seeds/codec
	mkdir -p "$d"
	# selector byte: bits 0-1 the type (0 SyncRequest, 1 SearchRequest,
	# 2 Record), bit 2 the 64 KiB budget
	printf '\000' >"$d/empty-sync"
	printf '\001' >"$d/empty-search"
	printf '\006' >"$d/empty-record"
	command -v protoc >/dev/null || return 0
	local rec='municipality_ags: "14521020" external_id: "ANN-1" revision: 20261120143000
last_verified_at: "2026-11-12" publication: PUBLIC owner_consent: NO_OBJECTION
site_kind: UNIT usage: COMMERCIAL marketing: RENT object_type: RETAIL status: MARKETED
street: "Buchholzer Straße" house_number: "12" postcode: "09456" locality: "Annaberg-Buchholz"
parcel_ids: "142201___004120003__" location { lat: 50.5785 lon: 13.0012 }
usable_area_m2: 110 rent_eur_month: "650.00" title: "Ladenlokal"
marketing_contact { organisation: "Stadt" email: "a@b.example" }
attachments { group: PHOTO media_type: "image/jpeg" url: "https://x.example/a.jpg" }'
	enc() { protoc -Iproto --encode="vacancy.v1.$1" proto/vacancy.proto; }
	{ printf '\000'; enc SyncRequest <<<"transfer_id: \"t-1\" municipality_ags: \"14521020\"
scope: FULL changes { upsert { $rec } } changes { withdraw { external_id: \"ANN-2\" revision: 3 } }"; } >"$d/sync"
	{ printf '\004'; enc SyncRequest <<<"transfer_id: \"t-2\" municipality_ags: \"14521020\"
scope: PARTIAL validate_only: true full_session: \"s-1\" changes { withdraw { external_id: \"X\" } }"; } >"$d/sync-small"
	{ printf '\001'; enc SearchRequest <<<'region: "14521020" bbox { } site_kind: PLOT usage: COMMERCIAL
min_usable_area_m2: 10 max_purchase_price_eur: "100000.00" text: "laden" page_size: 20 page_token: "abc"'; } >"$d/search"
	{ printf '\002'; enc Record <<<"$rec"; } >"$d/record"
}
seed_csv() {
	local d=$OUT/seeds/csv
	mkdir -p "$d"
	cp clients/examples/leerstand.csv "$d/example.csv"
	head -n 2 clients/examples/leerstand.csv >"$d/one-row.csv"
	printf 'action,external_id,municipality_ags,usage,location.lat,location.lon\nD,ANN-9,14521020,,,\nU,"A ""B""",14521020,COMMERCIAL|HOUSING,50.5,13.0\n' >"$d/comma.csv"
	printf '\357\273\277external_id;title\r\nA;"x;\r\ny"\r\n' >"$d/bom.csv"
}
seed_openimmo() {
	local d=$OUT/seeds/openimmo
	mkdir -p "$d"
	cp clients/examples/leerstand.xml "$d/example.xml"
	cat >"$d/small.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<openimmo><uebertragung art="OFFLINE" umfang="TEIL" version="1.2.7" techn_email="" sendersoftware="x" senderversion="1"/>
<anbieter><anbieternr>1</anbieternr><immobilie><objektkategorie><nutzungsart GEWERBE="true"/><vermarktungsart KAUF="true"/><objektart><einzelhandel/></objektart></objektkategorie>
<geo><plz>09456</plz><ort>Annaberg</ort><geokoordinaten breitengrad="50.5" laengengrad="13.0"/></geo>
<verwaltung_techn><objektnr_extern>A-1</objektnr_extern><aktion aktionart="DELETE"/></verwaltung_techn></immobilie></anbieter></openimmo>
XML
}

# ---- build and run ----
status=0
for t in "${TARGETS[@]}"; do
	if [ -z "${SRCS[$t]:-}" ]; then
		echo "fuzz $t: no such target (codec csv openimmo)"
		status=1
		continue
	fi
	# shellcheck disable=SC2086
	if ! "$CC" "${CFLAGS[@]}" -o $OUT/fuzz_$t ${SRCS[$t]} "${PKG[@]}" -lm 2>$OUT/$t.build.log; then
		echo "fuzz $t: build failed"
		cat $OUT/$t.build.log
		status=1
		continue
	fi
	"seed_$t"
	mkdir -p "$OUT/corpus/$t"
	log=$OUT/$t.log
	"$OUT/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t-" \
		"$OUT/corpus/$t" "$OUT/seeds/$t" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "fuzz $t: ok (${runs:-?} runs)"
		continue
	fi
	status=1
	echo "fuzz $t: CRASH (exit $rc)"
	art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
	if [ -n "$art" ] && [ -f "$art" ]; then
		echo "  input ($art, $(wc -c <"$art") bytes):"
		od -An -tx1 -v "$art" | tr -d ' \n' | fold -w 128 | head -n 64 | sed 's/^/    /'
	fi
	sed -n '/^==[0-9]*==ERROR\|runtime error\|^SUMMARY/,/^SUMMARY/p' "$log" | head -n 60 | sed 's/^/  /'
done
exit $status
