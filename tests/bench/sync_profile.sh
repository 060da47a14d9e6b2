#!/usr/bin/env bash
# sync_profile.sh: where a sync's time and the daemon's memory go.
#
# Usage: tests/bench/sync_profile.sh BUILD [N] [BATCH]
#   (N records of one municipality, default 200000, sent in transfers of
#   BATCH, default 10000)
#
# On a private cluster under var/bench-profile with auto_explain logging every
# nested statement of 20 ms or more and track_functions = all, it sends the
# records through `vacancy sync --batch BATCH` and prints:
#   - the time of the whole load and the client's CPU time;
#   - the statements of the last transfer by duration (auto_explain);
#   - functions by total time over the load (pg_stat_user_functions);
#   - the daemon's VmRSS after the load and after a restart on the same data
#     (what the daemon keeps beyond its models).
# Everything it starts is stopped when it ends. It measures, it asserts nothing.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$1
N=${2:-200000}
BATCH=${3:-10000}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
WORK=$ROOT/var/bench-profile
AGS=14521020
PORT=18655
DPID=

msg() { printf 'sync_profile: %s\n' "$*" >&2; }
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	"$ROOT/deploy/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_daemon() {
	"$BUILD/vacancyd" -f "$WORK/vacancyd.conf" -o log_level=warn -o db_query_timeout_ms=600000 \
		-o request_timeout_ms=600000 -o max_sync_records="$BATCH" \
		-o max_sync_body_bytes=256M >>"$WORK/vacancyd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 1 300); do
		curl -fsS --cacert "$WORK/tls/ca.pem" "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 &&
			return 0
		sleep 0.2
	done
	msg "the daemon did not answer (see $WORK/vacancyd.log)"
	exit 1
}
rss() { awk '/^VmRSS/ { printf "%.1f MB", $2 / 1024 }' "/proc/$1/status"; }

"$ROOT/deploy/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
rm -rf "$WORK"
mkdir -p "$WORK"
"$ROOT/deploy/devenv.sh" setup "$WORK" "$BUILD/vacancyd" "$PORT" >"$WORK/setup.log" 2>&1 ||
	{ tail -n 20 "$WORK/setup.log" >&2; exit 1; }
PSQL=("$ROOT/deploy/pg.sh" psql "$WORK/pg" -Atq)
"${PSQL[@]}" -c "LOAD 'auto_explain'" \
	-c "ALTER SYSTEM SET session_preload_libraries = 'auto_explain'" \
	-c "ALTER SYSTEM SET auto_explain.log_min_duration = '20ms'" \
	-c "ALTER SYSTEM SET auto_explain.log_nested_statements = on" \
	-c "ALTER SYSTEM SET track_functions = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
start_daemon
# shellcheck disable=SC1091
. "$WORK/dev.env"
export VACANCY_TOKEN=$VACANCY_TOKEN_MUNICIPALITY
msg "generating $N records"
python3 "$ROOT/tests/bench/gen_records.py" "$N" "$AGS" 1 >"$WORK/records.csv"
LOG=$WORK/pg/log/postgres.log
: >"$LOG"
msg "sending them in transfers of $BATCH"
t0=$(date +%s.%N)
/usr/bin/time -f '%U %S' -o "$WORK/client.time" \
	"$BUILD/vacancy" sync "$WORK/records.csv" --batch "$BATCH" --transfer-id profile >/dev/null
t1=$(date +%s.%N)
sleep 2
after_load=$(rss "$DPID")
kill "$DPID"
wait "$DPID" 2>/dev/null || true
DPID=
start_daemon
sleep 1
after_restart=$(rss "$DPID")

awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN { printf "load: %d records in %.1f s, %.0f records/s\n", n, b - a, n / (b - a) }'
awk '{ printf "client CPU: %.2f s user, %.2f s system\n", $1, $2 }' "$WORK/client.time"
echo "daemon VmRSS: $after_load after the load, $after_restart after a restart on the same data"
echo
echo "the last transfer's statements of 20 ms or more (auto_explain):"
# auto_explain logs a transfer's own statement after its nested ones: the last
# transfer's begin after the one before it (or at the top, if it is the only one)
start=1
ends=$(grep -n 'registry.apply_transfer(\$1' "$LOG" | tail -n 2 | cut -d: -f1)
[ "$(echo "$ends" | wc -l)" -lt 2 ] || start=$(echo "$ends" | head -n 1)
tail -n +"$start" "$LOG" | awk '
	/duration: [0-9.]+ ms/ { match($0, /duration: [0-9.]+ ms/); d = substr($0, RSTART + 10, RLENGTH - 13); want = 1; next }
	want && /Query Text:/ { sub(/.*Query Text: */, ""); printf "%10.1f ms  %s\n", d, substr($0, 1, 100); want = 0 }' |
	sort -rn | head -n 25
echo
echo "functions over the whole load (pg_stat_user_functions, ms):"
"${PSQL[@]}" -c "SELECT format('%10s %10s %8s  %s', round(total_time), round(self_time), calls, funcname)
	FROM pg_stat_user_functions ORDER BY total_time DESC LIMIT 10"
