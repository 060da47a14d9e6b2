#!/usr/bin/env bash
# sync.sh: how long a transfer of N records takes through POST /v1/sync
# (validation, history, feed included), against a plain COPY of every row the
# transfer of new records wrote (the record, its internal and personal rows,
# history, PERSONAL history values, feed) into scratch copies of those six
# tables with the same indexes, measured in the same run on the same private
# cluster: the floor under any write path of the registry's tables.
#
# Usage: tests/bench/sync.sh BUILD [N]      (N default 10000, one transfer)
# Prints a table and writes it to var/bench/sync.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$1
N=${2:-10000}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
WORK=$ROOT/var/bench
AGS=14521020
PORT=18643

cleanup() {
	[ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	"$ROOT/deploy/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT
mkdir -p "$WORK"
"$ROOT/deploy/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
rm -rf "$WORK/pg"
"$ROOT/deploy/devenv.sh" setup "$WORK" "$BUILD/vacancyd" "$PORT" >/dev/null 2>&1
"$BUILD/vacancyd" -f "$WORK/vacancyd.conf" -o log_level=warn -o db_query_timeout_ms=600000 \
	-o request_timeout_ms=600000 -o max_sync_records="$N" -o max_sync_body_bytes=256M \
	>"$WORK/vacancyd.log" 2>&1 &
DPID=$!
for _ in $(seq 1 50); do
	curl -fsS --cacert "$WORK/tls/ca.pem" "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
	sleep 0.2
done
# shellcheck disable=SC1091
. "$WORK/dev.env"
export VACANCY_TOKEN=$VACANCY_TOKEN_MUNICIPALITY
python3 "$ROOT/tests/bench/gen_records.py" "$N" "$AGS" 1 >"$WORK/records.csv"
# the same sites one revision later with changed titles, for the update run
sed -E '2,$ s/^([0-9]+),(B-[0-9]+),([0-9]+),/\1,\2,9\3,/; 2,$ s/Nr\. /Nummer /' \
	"$WORK/records.csv" >"$WORK/records2.csv"

PSQL=("$ROOT/deploy/pg.sh" psql "$WORK/pg" -Atq)
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

TABLES="record record_internal record_personal history history_personal feed"
t0=$(now)
"$BUILD/vacancy" sync "$WORK/records.csv" --batch "$N" --transfer-id bench-create >/dev/null
t1=$(now)
# the rows the transfer of new records wrote, for the reference below
rows=0
for t in $TABLES; do
	"${PSQL[@]}" -c "COPY registry.$t TO STDOUT" >"$WORK/$t.copy"
	rows=$((rows + $(wc -l <"$WORK/$t.copy")))
done
t1b=$(now)
"$BUILD/vacancy" sync "$WORK/records.csv" --batch "$N" --transfer-id bench-same >/dev/null
t2=$(now)
"$BUILD/vacancy" sync "$WORK/records2.csv" --batch "$N" --transfer-id bench-update >/dev/null
t3=$(now)
live=$("${PSQL[@]}" -c "SELECT count(*) FROM registry.record")
hist=$("${PSQL[@]}" -c "SELECT count(*) FROM registry.history")

# the reference: those rows COPYed into scratch tables that have the same
# columns, constraints and indexes (no triggers, no foreign keys)
"${PSQL[@]}" -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS scratch CASCADE" \
	-c "CREATE SCHEMA scratch"
for t in $TABLES; do
	"${PSQL[@]}" -c "CREATE TABLE scratch.$t (LIKE registry.$t INCLUDING ALL)"
done
copies=()
for t in $TABLES; do copies+=(-c "\\copy scratch.$t FROM '$WORK/$t.copy'"); done
t4=$(now)
"${PSQL[@]}" "${copies[@]}" # one session, as the daemon's one transaction
t5=$(now)

create=$(elapsed "$t0" "$t1")
same=$(elapsed "$t1b" "$t2")
update=$(elapsed "$t2" "$t3")
copy=$(elapsed "$t4" "$t5")
{
	printf 'sync of %d records in one transfer (vacancy sync, CSV client included)\n' "$N"
	printf '%-44s %9s %12s %10s\n' "what" "seconds" "records/s" "vs COPY"
	printf '%-44s %9.2f %12.0f %10s\n' "COPY of its $rows rows (6 tables, indexed)" "$copy" \
		"$(div "$N" "$copy")" "1.00"
	printf '%-44s %9.2f %12.0f %10.2f\n' "sync: all created (validation, history, feed)" \
		"$create" "$(div "$N" "$create")" "$(div "$copy" "$create")"
	printf '%-44s %9.2f %12.0f %10.2f\n' "sync: the same again (all unchanged)" "$same" \
		"$(div "$N" "$same")" "$(div "$copy" "$same")"
	printf '%-44s %9.2f %12.0f %10.2f\n' "sync: all updated (new revision, title)" "$update" \
		"$(div "$N" "$update")" "$(div "$copy" "$update")"
	printf 'records stored: %s, history rows: %s; measured %s on %s cores\n' "$live" "$hist" \
		"$(date -u +%Y-%m-%d)" "$(nproc)"
} | tee "$WORK/sync.txt"
