#!/usr/bin/env bash
# overview.sh: how fast the county's overview answers over a realistic stock:
# GET /v1/overview grouped by municipality and object type, the monthly
# series and GET /v1/municipalities for the Landkreis (region 14521), each
# against the same SQL function run directly in psql (EXPLAIN ANALYZE
# execution time), measured in the same run on the same private cluster.
#
# Usage: tests/bench/overview.sh BUILD [N]     (N default 100000, at least 59)
#   N records over the 59 municipalities of 14521 with skewed sizes (at
#   N = 100000 the largest town has 18 % of them, the smallest 0.5 %), made by
#   tests/bench/gen_records.py per municipality and sent with that
#   municipality's token through `vacancy sync --batch 10000`; then a fifth
#   of each town's records again with a new status (history rows), and the
#   history moved back over two years so the series has something to replay.
#   50 sequential requests per query over one keep-alive connection after 5
#   warm-ups: median and p90 latency, requests per second.
# Prints a table and writes it to var/bench/overview.txt. The cluster lives in
# var/bench-overview and is stopped at the end, as is the daemon.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:?usage: tests/bench/overview.sh BUILD [N]}
N=${2:-100000}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
WORK=$ROOT/var/bench-overview
OUT=$ROOT/var/bench/overview.txt
PORT=18644
COUNTY=14521
REQS=50
WARM=5
[ "$N" -ge 59 ] || { echo "overview.sh: N must be at least 59 (one record per municipality)" >&2; exit 2; }

cleanup() {
	[ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	"$ROOT/deploy/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT
mkdir -p "$WORK" "$(dirname "$OUT")"
"$ROOT/deploy/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
rm -rf "$WORK/pg" "$WORK/csv"
mkdir -p "$WORK/csv"
"$ROOT/deploy/devenv.sh" setup "$WORK" "$BUILD/vacancyd" "$PORT" >/dev/null 2>&1
"$BUILD/vacancyd" -f "$WORK/vacancyd.conf" -o log_level=warn -o db_query_timeout_ms=600000 \
	-o request_timeout_ms=600000 -o max_sync_records=10000 -o max_sync_body_bytes=256M \
	>"$WORK/vacancyd.log" 2>&1 &
DPID=$!
for _ in $(seq 1 50); do
	curl -fsS --cacert "$WORK/tls/ca.pem" "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
	sleep 0.2
done
# shellcheck disable=SC1091
. "$WORK/dev.env"
PSQL=("$ROOT/deploy/pg.sh" psql "$WORK/pg" -Atq)
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ---- the stock: skewed town sizes (weight 1/rank^0.9, ranks shuffled with a
# fixed seed), one CSV per municipality, and a fifth of each again with a new
# status and a higher revision
"${PSQL[@]}" -c "SELECT ags FROM registry.municipality WHERE ags LIKE '$COUNTY%' ORDER BY ags" \
	>"$WORK/ags.txt"
python3 - "$N" "$WORK/ags.txt" >"$WORK/sizes.txt" <<'EOF'
import random, sys
n, ags = int(sys.argv[1]), open(sys.argv[2]).read().split()
rnd = random.Random(5)
rnd.shuffle(ags)
w = [1 / (i + 1) ** 0.9 for i in range(len(ags))]
sizes = [max(1, int(n * x / sum(w))) for x in w]
sizes[0] += n - sum(sizes)
for a, s in sorted(zip(ags, sizes)):
    print(a, s)
EOF
t0=$(now)
seed=1
while read -r ags size; do
	python3 "$ROOT/tests/bench/gen_records.py" "$size" "$ags" "$seed" >"$WORK/csv/$ags.csv"
	seed=$((seed + 1))
done <"$WORK/sizes.txt"
python3 - "$WORK/csv" <<'EOF'
import csv, glob, os, sys
STATUS = ["SUSPECTED", "CONFIRMED", "MARKETED", "RESERVED", "REUSED", "WITHDRAWN", "DEMOLISHED"]
for path in sorted(glob.glob(os.path.join(sys.argv[1], "????????.csv"))):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head, out = rows[0], [rows[0]]
    rev, st = head.index("revision"), head.index("status")
    for i, r in enumerate(rows[1:]):
        if i % 5 == 2:
            r[rev] = str(int(r[rev]) + 10)
            r[st] = STATUS[(STATUS.index(r[st]) + 1 + i % 6) % 7]
            out.append(r)
    with open(path[:-4] + "-2.csv", "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(out)
EOF
t1=$(now)
# one token per municipality, revoked after its transfers
sync_all() { # suffix of the files, prefix of the transfer ids
	local ags size tok
	while read -r ags size; do
		tok=$("$BUILD/vacancyd" -f "$WORK/vacancyd.conf" token create --role municipality \
			--scope "$ags" --name "bench $ags" 2>/dev/null)
		VACANCY_TOKEN=$tok "$BUILD/vacancy" sync "$WORK/csv/$ags$1.csv" --batch 10000 \
			--transfer-id "$2-$ags" >/dev/null
		"$BUILD/vacancyd" -f "$WORK/vacancyd.conf" token revoke "$tok" >/dev/null 2>&1
	done <"$WORK/sizes.txt"
}
sync_all "" ovb-c
t2=$(now)
sync_all "-2" ovb-u
t3=$(now)
# the history over two years: each record created 60 to 760 days ago, its
# status change half as far back as its creation's offset; each town's last
# transfer up to 120 days back (some overdue)
"${PSQL[@]}" -c "
UPDATE registry.history h SET changed_at = h.changed_at - make_interval(days =>
	CASE WHEN h.transfer_id LIKE 'ovb-u-%' THEN x.d / 2 ELSE x.d + 60 END)
FROM (SELECT record_id, abs(hashtext(record_id::text)) % 700 AS d FROM registry.record) x
WHERE h.record_id = x.record_id;
UPDATE registry.transfer SET received_at = received_at - make_interval(days =>
	abs(hashtext(municipality_ags)) % 120);"
"${PSQL[@]}" -c "VACUUM ANALYZE"
records=$("${PSQL[@]}" -c "SELECT count(*) FROM registry.record WHERE municipality_ags LIKE '$COUNTY%'")
hist=$("${PSQL[@]}" -c "SELECT count(*) FROM registry.history")
largest=$(sort -k2 -n "$WORK/sizes.txt" | tail -n 1)
smallest=$(sort -k2 -n "$WORK/sizes.txt" | head -n 1)

# ---- measurements
first=$("${PSQL[@]}" -c "SELECT to_char(date_trunc('month', registry.today()) - interval '23 months', 'YYYY-MM')")
last=$("${PSQL[@]}" -c "SELECT to_char(registry.today(), 'YYYY-MM')")

# stats FILE COLUMN: median, p90 (continuous, as docs/overview.md) in ms
stats() {
	awk -v c="$2" '{ print $c * 1000 }' "$1" | sort -g | awk '
		{ v[NR - 1] = $1 }
		function pct(f,   p, i) { p = f * (NR - 1); i = int(p);
			return i + 1 < NR ? v[i] + (v[i + 1] - v[i]) * (p - i) : v[NR - 1] }
		END { printf "%.1f %.1f", pct(0.5), pct(0.9) }'
}

# measure NAME PATH: REQS sequential GETs over one connection as the county
measure() {
	local name=$1 path=$2 cfg=$WORK/$1.curl times=$WORK/$1.times
	: >"$cfg"
	for _ in $(seq 1 $((WARM + REQS))); do
		printf 'url = "%s%s"\noutput = "/dev/null"\n' "$VACANCY_URL" "$path" >>"$cfg"
	done
	curl -s --cacert "$VACANCY_CACERT" -H "Authorization: Bearer $VACANCY_TOKEN_COUNTY" \
		-H 'Accept: application/x-protobuf' -K "$cfg" \
		-w '%{http_code} %{time_total} %{time_pretransfer} %{time_starttransfer} %{size_download}\n' \
		>"$times.all"
	if awk '$1 != 200 { bad = 1 } END { exit !bad }' "$times.all"; then
		echo "overview.sh: $path answered other than 200:" >&2
		sort "$times.all" | uniq -c | head -n 5 >&2
		exit 1
	fi
	tail -n "$REQS" "$times.all" >"$times"
	# requests per second: back to back, so the inverse of the mean latency
	read -r med p90 <<<"$(stats "$times" 2)"
	# the first byte of the answer, from the request sent (the rest of the
	# latency is the transfer of the body)
	awk '{ print $4 - $3 }' "$times" >"$times.ttfb"
	read -r ttfb _ <<<"$(stats "$times.ttfb" 1)"
	rps=$(awk '{ s += $2 } END { printf "%.1f", NR / s }' "$times")
	bytes=$(awk 'NR == 1 { print $5 }' "$times")
	printf '%s %s %s %s %s %s\n' "$name" "$med" "$p90" "$ttfb" "$rps" "$bytes" \
		>>"$WORK/results.txt"
}

# sqlref NAME SQL: median and p90 of EXPLAIN ANALYZE execution time, REQS runs
sqlref() {
	{
		for _ in $(seq 1 $((WARM + REQS))); do
			echo "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) $2;"
		done
	} | "${PSQL[@]}" | sed -n 's/^Execution Time: \([0-9.]*\) ms$/\1/p' |
		tail -n "$REQS" | awk '{ print $1 / 1000 }' >"$WORK/$1.sql"
	stats "$WORK/$1.sql" 1
}

: >"$WORK/results.txt"
measure overview "/v1/overview?region=$COUNTY&group_by=municipality,object_type"
measure series "/v1/overview?region=$COUNTY&series=monthly&from=$first&to=$last"
measure municipalities "/v1/municipalities?region=$COUNTY"
sql_overview=$(sqlref overview "SELECT * FROM registry.overview('$COUNTY', 'municipality', 'object_type', 365)")
sql_series=$(sqlref series "SELECT * FROM registry.vacancy_series('$COUNTY', '$first-01', '$last-01')")
sql_munis=$(sqlref municipalities "SELECT * FROM registry.municipality_list('$COUNTY', 90)")

row() { # name label sql-stats
	local name med p90 ttfb rps bytes smed sp90
	read -r name med p90 ttfb rps bytes <<<"$(grep "^$1 " "$WORK/results.txt")"
	read -r smed sp90 <<<"$3"
	printf '%-50s %7s %7s %7s %7s %7s %7s %7s\n' "$2" "$med" "$p90" "$ttfb" "$rps" "$bytes" \
		"$smed" "$sp90"
}
{
	printf 'overview of region %s: %s live records in 59 municipalities (largest %s: %s, smallest %s: %s), %s history rows\n' \
		"$COUNTY" "$records" "${largest% *}" "${largest#* }" "${smallest% *}" \
		"${smallest#* }" "$hist"
	printf '%d sequential requests per line over one keep-alive connection (curl, protobuf) after %d warm-ups;\n' \
		"$REQS" "$WARM"
	printf 'SQL: the function the daemon calls, EXPLAIN ANALYZE execution time in psql, same count\n'
	printf 'ttfb: median time from the request sent to the first byte of the answer\n'
	printf '%-50s %7s %7s %7s %7s %7s %7s %7s\n' "request" "med ms" "p90 ms" "ttfb" "req/s" \
		"bytes" "SQL med" "SQL p90"
	row overview "GET /v1/overview group_by=municipality,object_type" "$sql_overview"
	row series "GET /v1/overview series=monthly $first..$last" "$sql_series"
	row municipalities "GET /v1/municipalities" "$sql_munis"
	printf 'set-up: generate %ss, sync %s records %ss (%.0f records/s), status updates %ss; measured %s on %s cores\n' \
		"$(elapsed "$t0" "$t1")" "$N" "$(elapsed "$t1" "$t2")" \
		"$(awk -v n="$N" -v a="$t1" -v b="$t2" 'BEGIN { print n / (b - a) }')" \
		"$(elapsed "$t2" "$t3")" "$(date -u +%Y-%m-%d)" "$(nproc)"
} | tee "$OUT"
