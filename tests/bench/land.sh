#!/usr/bin/env bash
# land.sh: vacancyd against a Land-sized set, with its references measured in
# the same run on the same machine (issue 6).
#
# Usage: tests/bench/land.sh BUILD [N]        (N default 1000000)
#
#   1. a private cluster and daemon under var/bench-land (deploy/devenv.sh),
#      N synthetic records over Saxony (tests/bench/land.py: 13 Kreise, 2,000
#      municipalities, Zipf sizes) loaded through POST /v1/sync with
#      `vacancy sync --batch 10000`, one run per municipality with its own
#      token (timed: the ingest rate); then VACUUM ANALYZE and a restart of
#      the daemon (timed: to its first answer)
#   2. references: COPY of the same rows into ref.record (the record's
#      columns and checks, a primary key and the issue's three indexes:
#      btree (municipality_ags, site_kind, status), btree (updated_at), GiST
#      (geom)); COPY of every row the load wrote into scratch copies of its
#      six tables with their indexes (the floor under any write path);
#      pgbench over ref.record: the typical search, fetch by id, the
#      Landkreis overview; nginx serving a static file the size of a
#      50-row protobuf search answer (wrk, TLS keep-alive)
#   3. the daemon with wrk (TLS keep-alive, protobuf): investor search
#      (search.lua), fetch by id (byid.lua), Landkreis overview
#      (overview.lua); CPU of daemon and PostgreSQL and the daemon's RSS
#   4. memory: RSS with BENCH_IDLE_CONNECTIONS idle TLS connections
#      (idle_conns.py), and over a soak of BENCH_SOAK seconds (soak.lua, with
#      a transfer of 100 changed records every 2 s: writes.py soak)
#   5. write visibility: a one-record sync, then the typical search until it
#      shows the change (writes.py visibility)
# Prints one table (figures, ratios, goals with "holds"/"misses") and writes it
# to var/bench/land.txt; raw outputs stay in var/bench-land. Everything it
# starts (PostgreSQL, vacancyd, nginx, wrk, helpers) is stopped at the end.
#
# Knobs (environment): BENCH_DURATION seconds per measured run (25; 10 when
#   N < 200000), BENCH_SOAK seconds (600; 30 when N < 200000),
#   BENCH_CONNECTIONS (16), BENCH_IDLE_CONNECTIONS (1000), BENCH_DB_POOL
#   (daemon's db_pool_size, 8), BENCH_VISIBILITY_REPS (10),
#   BENCH_VISIBILITY_BOUND_MS (1000: the bound the visibility goal checks),
#   BENCH_SEED (6).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:?usage: tests/bench/land.sh BUILD [N]}
N=${2:-1000000}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
WORK=$ROOT/var/bench-land
OUT=$ROOT/var/bench/land.txt
HERE=$ROOT/tests/bench
PORT=18645
NGINX_PORT=18646
if [ "$N" -ge 200000 ]; then DUR_DEF=25 SOAK_DEF=600; else DUR_DEF=10 SOAK_DEF=30; fi
DUR=${BENCH_DURATION:-$DUR_DEF}
SOAK=${BENCH_SOAK:-$SOAK_DEF}
CONNS=${BENCH_CONNECTIONS:-16}
IDLE=${BENCH_IDLE_CONNECTIONS:-1000}
POOL=${BENCH_DB_POOL:-8}
VIS_REPS=${BENCH_VISIBILITY_REPS:-10}
VIS_BOUND=${BENCH_VISIBILITY_BOUND_MS:-1000}
SEED=${BENCH_SEED:-6}
THREADS=2 # wrk and pgbench threads
WARM=3    # seconds of the same load before each measured wrk run
PGBIN=/usr/lib/postgresql/15/bin
export BENCH_LUA_DIR=$HERE
[ "$N" -ge 1000 ] || { echo "land.sh: N must be at least 1000" >&2; exit 2; }

msg() { printf 'land.sh: %s\n' "$*" >&2; }
die() { msg "error: $*"; exit 1; }
for t in wrk nginx python3 curl "$PGBIN/pgbench"; do
	command -v "$t" >/dev/null || die "$t not found: run deploy/install-deps.sh"
done

DPID='' NGINX_PID='' BGPIDS=()
stop_daemon() {
	if [ -n "$DPID" ]; then
		kill -TERM "$DPID" 2>/dev/null || true
		wait "$DPID" 2>/dev/null || true
		DPID=
	fi
}
stop_nginx() {
	if [ -n "$NGINX_PID" ]; then
		kill -QUIT "$NGINX_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$NGINX_PID" 2>/dev/null || true
		NGINX_PID=
	fi
}
cleanup() {
	local p
	for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${BGPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	stop_nginx
	stop_daemon
	"$ROOT/deploy/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { printf '%s\n' "$EPOCHREALTIME"; }
calc() { awk "BEGIN { printf \"%.6f\", ($1) }" </dev/null; }
PSQL=("$ROOT/deploy/pg.sh" psql "$WORK/pg" -X -Atq -v ON_ERROR_STOP=1)
declare -A R # the results, by name

# ---------------------------------------------------------------- set-up
mkdir -p "$WORK" "$(dirname "$OUT")"
"$ROOT/deploy/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
rm -rf "$WORK/pg" "$WORK/land" "$WORK/nginx" "$WORK/out"
mkdir -p "$WORK/out"
msg "setting up the cluster and the daemon's configuration in $WORK"
"$ROOT/deploy/devenv.sh" setup "$WORK" "$BUILD/vacancyd" "$PORT" >"$WORK/out/setup.log" 2>&1 ||
	{ tail -n 20 "$WORK/out/setup.log" >&2; die "set-up failed"; }
# the same settings for the daemon's SQL and for the references: enough
# shared buffers for the set and no checkpoint storms while loading
"${PSQL[@]}" -c "ALTER SYSTEM SET shared_buffers = '1GB'" -c "ALTER SYSTEM SET max_wal_size = '8GB'" \
	-c "ALTER SYSTEM SET max_connections = 200"
"$ROOT/deploy/pg.sh" restart "$WORK/pg" >/dev/null 2>&1
PGPID=$(head -n 1 "$WORK/pg/data/postmaster.pid")
# shellcheck disable=SC1091
. "$WORK/credentials.env"
INVESTOR=$VACANCY_TOKEN_INVESTOR
URL=https://127.0.0.1:$PORT
CA=$WORK/tls/ca.pem

msg "generating $N records (land.py, seed $SEED)"
t0=$(now)
python3 "$HERE/land.py" "$N" "$WORK/land" "$SEED"
R[gen_s]=$(calc "$(now) - $t0")
MUNIS=$(wc -l <"$WORK/land/municipalities.tsv")

# the synthetic municipalities replace the demo region's real ones
cut -f 1,2,5 "$WORK/land/municipalities.tsv" >"$WORK/out/municipality.copy"
"${PSQL[@]}" -c "DELETE FROM registry.municipality" \
	-c "\\copy registry.municipality (ags, ars, name) FROM '$WORK/out/municipality.copy'"

# one municipality token per AGS and a county token per Landkreis, minted
# as `vacancyd token create` does (vcy_ + 43 characters; SHA-256 stored)
python3 - "$WORK" <<'EOF'
import hashlib, os, secrets, sys
w = sys.argv[1]
alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
def tok():
    return "vcy_" + "".join(secrets.choice(alpha) for _ in range(43))
rows, muni, county = [], [], []
for line in open(os.path.join(w, "land", "municipalities.tsv")):
    ags = line.split("\t")[0]
    t = tok()
    muni.append(f"{ags} {t}\n")
    rows.append(("municipality", ags, f"bench {ags}", t))
for line in open(os.path.join(w, "land", "kreise.tsv")):
    k, kind = line.split("\t")[:2]
    if kind == "Landkreis":
        t = tok()
        county.append(f"{k} {t}\n")
        rows.append(("county", k, f"bench Landratsamt {k}", t))
old = os.umask(0o077)
open(os.path.join(w, "muni_tokens.txt"), "w").writelines(muni)
open(os.path.join(w, "county_tokens.txt"), "w").writelines(county)
with open(os.path.join(w, "out", "tokens.sql"), "w") as f:
    f.write("CREATE TEMP TABLE t (role registry.role, scope text, name text, h bytea, prefix text);\n")
    f.write("COPY t FROM STDIN;\n")
    for role, scope, name, t in rows:
        f.write(f"{role}\t{scope}\t{name}\t\\\\x{hashlib.sha256(t.encode()).hexdigest()}\t{t[:12]}\n")
    f.write("\\.\n")
    f.write("WITH p AS (INSERT INTO registry.principal (role, scope, name) "
            "SELECT role, scope, name FROM t RETURNING principal_id, role, scope) "
            "INSERT INTO registry.credential (token_hash, prefix, principal_id) "
            "SELECT t.h, t.prefix, p.principal_id FROM t JOIN p USING (role, scope);\n")
os.umask(old)
EOF
"${PSQL[@]}" -f "$WORK/out/tokens.sql"

DAEMON_OPTS=(-o log_level=warn -o "db_pool_size=$POOL" -o max_connections=2000
	-o max_sync_records=10000 -o max_sync_body_bytes=64M -o request_timeout_ms=600000
	-o db_query_timeout_ms=600000 -o idle_timeout_s=3600 -o db_max_queue=8192)
# starts the daemon and waits for a healthy answer and a search (R[start_s])
start_daemon() {
	local t0
	t0=$(now)
	"$BUILD/vacancyd" -f "$WORK/vacancyd.conf" "${DAEMON_OPTS[@]}" >>"$WORK/out/vacancyd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 1 6000); do
		if curl -fsS --cacert "$CA" "$URL/healthz" >/dev/null 2>&1 &&
			curl -fsS --cacert "$CA" -H "Authorization: Bearer $INVESTOR" \
				"$URL/v1/records?page_size=1" >/dev/null 2>&1; then
			R[start_s]=$(calc "$(now) - $t0")
			return 0
		fi
		kill -0 "$DPID" 2>/dev/null || { tail -n 20 "$WORK/out/vacancyd.log" >&2; die "vacancyd exited"; }
		sleep 0.1
	done
	die "vacancyd did not answer within 600 s"
}
rss() { python3 "$HERE/procstat.py" rss "$@"; }
cpu() { python3 "$HERE/procstat.py" cpu "$@"; }

start_daemon
cat >"$WORK/env" <<EOF
VACANCY_URL=$URL
VACANCY_CACERT=$CA
BENCH_TOKEN=$INVESTOR
VACANCY_BIN=$BUILD/vacancy
EOF

# ---------------------------------------------------------------- ingest
msg "loading $N records of $MUNIS municipalities through POST /v1/sync (vacancy sync --batch 10000)"
: >"$WORK/out/load.tsv"
d0=$(cpu "$DPID") p0=$(cpu "$PGPID") t0=$(now)
while read -r ags tok; do
	size=$(wc -l <"$WORK/land/csv/$ags.csv")
	s=$EPOCHREALTIME
	VACANCY_URL=$URL VACANCY_CACERT=$CA VACANCY_TOKEN=$tok "$BUILD/vacancy" sync \
		"$WORK/land/csv/$ags.csv" --batch 10000 --transfer-id "land-$ags" </dev/null >/dev/null 2>"$WORK/out/sync.err" ||
		{ cat "$WORK/out/sync.err" >&2; die "the sync of $ags failed"; }
	printf '%s\t%s\t%s\n' "$ags" "$((size - 1))" "$(calc "$EPOCHREALTIME - $s")" >>"$WORK/out/load.tsv"
done <"$WORK/muni_tokens.txt"
t1=$(now)
R[load_s]=$(calc "$t1 - $t0")
R[load_dcpu]=$(calc "($(cpu "$DPID") - $d0) / (${R[load_s]}) * 100")
R[load_pcpu]=$(calc "($(cpu "$PGPID") - $p0) / (${R[load_s]}) * 100")
R[load_rate]=$(calc "$N / ${R[load_s]}")
read -r 'R[big_n]' 'R[big_s]' 'R[big_m]' <<<"$(awk -F'\t' '$2 >= 10000 { n += $2; s += $3; m++ }
	END { printf "%d %.3f %d", n, s, m }' "$WORK/out/load.tsv")"
[ "${R[big_n]}" -gt 0 ] && R[big_rate]=$(calc "${R[big_n]} / ${R[big_s]}")
R[rss_loaded]=$(rss "$DPID")
R[records]=$("${PSQL[@]}" -c "SELECT count(*) FROM registry.record WHERE withdrawn_at IS NULL")
R[published]=$("${PSQL[@]}" -c "SELECT count(*) FROM registry.record WHERE published")
[ "${R[records]}" = "$N" ] || die "registry.record holds ${R[records]} live records, not $N"
msg "loaded in ${R[load_s]} s; VACUUM ANALYZE and a restart of the daemon"
"${PSQL[@]}" -c "VACUUM ANALYZE"
stop_daemon
start_daemon
R[restart_s]=${R[start_s]}
R[rss_ready]=$(rss "$DPID")

# samples the runs draw from: published records for fetch by id, published
# MARKETED ones (position as investors see it) for the visibility check
"${PSQL[@]}" -c "SELECT record_id FROM registry.record WHERE published
	ORDER BY md5(record_id::text) LIMIT 10000" >"$WORK/ids.txt"
"${PSQL[@]}" -F ' ' -c "SELECT r.municipality_ags, i.external_id, r.object_type,
	round(ST_Y(r.pub_geom)::numeric, 6), round(ST_X(r.pub_geom)::numeric, 6)
	FROM registry.record r JOIN registry.record_internal i USING (record_id)
	WHERE r.published AND r.status = 'MARKETED' ORDER BY md5(r.record_id::text) LIMIT 50" \
	>"$WORK/visible.txt"
NIDS=$(wc -l <"$WORK/ids.txt")
[ "$NIDS" -gt 0 ] || die "no published records"

# a typical answer: the first page of 50 of all marketed records, protobuf
mkdir -p "$WORK/nginx/html" "$WORK/nginx/tmp"
curl -fsS --cacert "$CA" -H "Authorization: Bearer $INVESTOR" -H 'Accept: application/x-protobuf' \
	"$URL/v1/records?status=MARKETED&sort=UPDATED_DESC&page_size=50" -o "$WORK/nginx/html/search.pb"
R[typical_bytes]=$(stat -c %s "$WORK/nginx/html/search.pb")

# ---------------------------------------------------------------- references
R[loadavg]=$(cut -d' ' -f1-3 /proc/loadavg)
msg "reference: COPY of the same rows into ref.record (primary key and the three indexes)"
COLS=$("${PSQL[@]}" -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
	FROM pg_attribute WHERE attrelid = 'registry.record'::regclass AND attnum > 0
	AND NOT attisdropped AND attgenerated = ''")
"${PSQL[@]}" -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS ref CASCADE" -c "CREATE SCHEMA ref" \
	-c "CREATE TABLE ref.record (LIKE registry.record INCLUDING DEFAULTS INCLUDING CONSTRAINTS)" \
	-c "ALTER TABLE ref.record ADD PRIMARY KEY (record_id)" \
	-c "CREATE INDEX ref_ags_kind_status ON ref.record (municipality_ags, site_kind, status)" \
	-c "CREATE INDEX ref_updated ON ref.record (updated_at)" \
	-c "CREATE INDEX ref_geom ON ref.record USING gist (geom)"
"${PSQL[@]}" -c "COPY (SELECT $COLS FROM registry.record ORDER BY municipality_ags) TO STDOUT" \
	>"$WORK/out/record.copy"
p0=$(cpu "$PGPID") t0=$(now)
"${PSQL[@]}" -c "COPY ref.record ($COLS) FROM STDIN" <"$WORK/out/record.copy"
R[copy_s]=$(calc "$(now) - $t0")
R[copy_pcpu]=$(calc "($(cpu "$PGPID") - $p0) / ${R[copy_s]} * 100")
R[copy_rate]=$(calc "$N / ${R[copy_s]}")
rm -f "$WORK/out/record.copy"
"${PSQL[@]}" -c "VACUUM ANALYZE ref.record"

# the floor under any write path of the registry: every row the load wrote
# (record, internal and personal rows, history, PERSONAL history values,
# feed) COPYed into scratch copies of those tables with their indexes, in one
# session; no triggers, no foreign keys, no validation
msg "reference: COPY of every row the load wrote (6 tables, their indexes): the floor"
FLOOR_TABLES="record record_internal record_personal history history_personal feed"
"${PSQL[@]}" -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS floor CASCADE" \
	-c "CREATE SCHEMA floor"
copies=() R[floor_rows]=0
for t in $FLOOR_TABLES; do
	"${PSQL[@]}" -c "CREATE TABLE floor.$t (LIKE registry.$t INCLUDING ALL)"
	"${PSQL[@]}" -c "COPY registry.$t TO STDOUT" >"$WORK/out/floor_$t.copy"
	R[floor_rows]=$((R[floor_rows] + $(wc -l <"$WORK/out/floor_$t.copy")))
	copies+=(-c "\\copy floor.$t FROM '$WORK/out/floor_$t.copy'")
done
p0=$(cpu "$PGPID") t0=$(now)
"${PSQL[@]}" "${copies[@]}"
R[floor_s]=$(calc "$(now) - $t0")
R[floor_pcpu]=$(calc "($(cpu "$PGPID") - $p0) / ${R[floor_s]} * 100")
R[floor_rate]=$(calc "$N / ${R[floor_s]}")
rm -f "$WORK"/out/floor_*.copy
"${PSQL[@]}" -c "SET client_min_messages = warning" -c "DROP SCHEMA floor CASCADE"

KREISE=$(awk -F'\t' '$2 == "Landkreis" { printf "%s\x27%s\x27", n++ ? "," : "", $1 }' "$WORK/land/kreise.tsv")
NKREISE=$(awk -F'\t' '$2 == "Landkreis"' "$WORK/land/kreise.tsv" | wc -l)
# the typical search, drawn as search.lua draws it (wrk_common.lua)
cat >"$WORK/out/pgb_search.sql" <<EOF
\\set t random(1, 12)
\\set a random(0, 500)
\\set la random(50170, 51510)
\\set lo random(11870, 14755)
SELECT record_id, municipality_ags, municipality_ars, updated_at, last_verified_at, site_kind,
	usage, marketing, object_type, status, vacancy_degree, vacant_since, vacant_since_precision,
	condition, construction_year, development, planning_basis, bplan_ref, contamination, street,
	house_number, postcode, locality, gemarkung, flur, flurstueck, parcel_ids, pub_geom,
	usable_area_m2, floor_area_m2, sales_area_m2, plot_area_m2, divisible_from_m2,
	purchase_price_eur, rent_eur_month, rent_eur_m2, price_on_request, title, description,
	location_text, marketing_contact, attachments
FROM ref.record
WHERE published AND status = 'MARKETED'
	AND object_type = (ARRAY['OFFICE_PRACTICE', 'RETAIL', 'HOSPITALITY', 'HALL_STORAGE_PRODUCTION',
		'PLOT', 'HOUSE', 'APARTMENT', 'AGRICULTURE_FORESTRY', 'PARKING', 'LEISURE_COMMERCIAL',
		'INVESTMENT', 'OTHER'])[:t]::registry.object_type
	AND usable_area_m2 >= :a
	AND geom && ST_MakeEnvelope(:lo::float8 / 1000, :la::float8 / 1000,
		:lo::float8 / 1000 + 0.285, :la::float8 / 1000 + 0.18, 4326)
ORDER BY updated_at DESC, record_id LIMIT 50;
EOF
{
	printf '\\set k random(1, %d)\n' "$NIDS"
	printf "SELECT * FROM ref.record WHERE record_id = ('{%s}'::uuid[])[:k];\n" "$(paste -sd, "$WORK/ids.txt")"
} >"$WORK/out/pgb_byid.sql"
cat >"$WORK/out/pgb_overview.sql" <<EOF
\\set k random(1, $NKREISE)
SELECT municipality_ags, site_kind, count(*), sum(usable_area_m2), sum(plot_area_m2)
FROM ref.record
WHERE municipality_ags BETWEEN ((ARRAY[$KREISE])[:k] || '000')::bpchar
		AND ((ARRAY[$KREISE])[:k] || '999')::bpchar
	AND withdrawn_at IS NULL
GROUP BY municipality_ags, site_kind;
EOF

# pgbench NAME: CONNS clients for DUR seconds (prepared statements), after
# WARM seconds of the same; rate, p50, p99 from the per-transaction log
pgbench_run() {
	local name=$1 p0 t0 wall
	local -a args=(-n -M prepared -c "$CONNS" -j "$THREADS" -f "$WORK/out/pgb_$name.sql"
		--random-seed="$SEED")
	msg "reference: pgbench $name ($CONNS clients, ${DUR} s)"
	"$PGBIN/pgbench" "${args[@]}" -T "$WARM" "$("$ROOT/deploy/pg.sh" conninfo "$WORK/pg")" \
		>/dev/null 2>&1 || true
	rm -f "$WORK/out/pgb_log_$name".*
	p0=$(cpu "$PGPID") t0=$(now)
	"$PGBIN/pgbench" "${args[@]}" -T "$DUR" -l --log-prefix="$WORK/out/pgb_log_$name" \
		"$("$ROOT/deploy/pg.sh" conninfo "$WORK/pg")" >"$WORK/out/pgb_$name.out" 2>&1 ||
		{ tail -n 20 "$WORK/out/pgb_$name.out" >&2; die "pgbench $name failed"; }
	wall=$(calc "$(now) - $t0")
	R[${name}_ref_pcpu]=$(calc "($(cpu "$PGPID") - $p0) / $wall * 100")
	R[${name}_ref_rps]=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p' \
		"$WORK/out/pgb_$name.out")
	read -r "R[${name}_ref_p50]" "R[${name}_ref_p99]" <<<"$(cat "$WORK/out/pgb_log_$name".* |
		awk '{ print $3 / 1000 }' | sort -g | awk '{ v[NR] = $1 }
		END { i = int(NR * 0.5); j = int(NR * 0.99); if (i < 1) i = 1; if (j < 1) j = 1;
		      printf "%.2f %.2f", v[i], v[j] }')"
	rm -f "$WORK/out/pgb_log_$name".*
}
pgbench_run search
pgbench_run byid
pgbench_run overview

# wrk_run NAME SCRIPT URL: CONNS connections, TLS keep-alive, for DUR
# seconds after WARM seconds of the same; CPU of the daemon and PostgreSQL
# (or of nginx for the static reference), the RSS at the end
wrk_run() {
	local name=$1 script=$2 url=$3 pid=${4:-$DPID} c0 p0 t0 wall line
	wrk -t "$THREADS" -c "$CONNS" -d "${WARM}s" --timeout 60s -s "$HERE/$script" "$url" \
		>/dev/null 2>&1 || true
	c0=$(cpu "$pid") p0=$(cpu "$PGPID") t0=$(now)
	wrk -t "$THREADS" -c "$CONNS" -d "${DUR}s" --timeout 60s -s "$HERE/$script" "$url" \
		>"$WORK/out/wrk_$name.out" 2>&1 || { cat "$WORK/out/wrk_$name.out" >&2; die "wrk $name failed"; }
	wall=$(calc "$(now) - $t0")
	R[${name}_cpu]=$(calc "($(cpu "$pid") - $c0) / $wall * 100")
	R[${name}_pcpu]=$(calc "($(cpu "$PGPID") - $p0) / $wall * 100")
	R[${name}_rss]=$(rss "$pid")
	line=$(grep '^BENCH ' "$WORK/out/wrk_$name.out") || { cat "$WORK/out/wrk_$name.out" >&2; die "wrk $name: no report"; }
	eval "$(sed -E 's/^BENCH //; s/([a-z0-9_]+)=/w_\1=/g' <<<"$line")"
	# shellcheck disable=SC2154
	{
		R[${name}_rps]=$(calc "$w_requests / ($w_duration_us / 1000000)")
		R[${name}_p50]=$(calc "$w_p50_us / 1000")
		R[${name}_p99]=$(calc "$w_p99_us / 1000")
		R[${name}_bytes]=$(calc "$w_requests ? $w_bytes / $w_requests : 0")
		R[${name}_bad]=$((w_non2xx + w_errors))
	}
}

msg "reference: nginx serving a static file of ${R[typical_bytes]} bytes ($CONNS connections, ${DUR} s)"
cat >"$WORK/nginx/nginx.conf" <<EOF
# written by tests/bench/land.sh: the HTTP ceiling on this machine
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $WORK/nginx/tmp/body;
	proxy_temp_path $WORK/nginx/tmp/proxy;
	fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
	uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
	scgi_temp_path $WORK/nginx/tmp/scgi;
	types { application/x-protobuf pb; }
	sendfile on;
	tcp_nodelay on;
	keepalive_timeout 300s;
	keepalive_requests 1000000000;
	server {
		listen 127.0.0.1:$NGINX_PORT ssl;
		ssl_certificate $WORK/tls/server.pem;
		ssl_certificate_key $WORK/tls/server.key;
		root $WORK/nginx/html;
	}
}
EOF
chmod 755 "$WORK/nginx" "$WORK/nginx/html"
chmod 644 "$WORK/nginx/html/search.pb"
nginx -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" ||
	die "nginx did not start (see $WORK/nginx/error.log)"
for _ in $(seq 1 50); do [ -s "$WORK/nginx/nginx.pid" ] && break; sleep 0.1; done
NGINX_PID=$(cat "$WORK/nginx/nginx.pid")
curl -fsS --cacert "$CA" "https://127.0.0.1:$NGINX_PORT/search.pb" -o /dev/null ||
	die "nginx does not serve the file"
wrk_run static static.lua "https://127.0.0.1:$NGINX_PORT/search.pb" "$NGINX_PID"
stop_nginx

# ---------------------------------------------------------------- the daemon
export BENCH_TOKEN=$INVESTOR BENCH_IDS=$WORK/ids.txt BENCH_COUNTIES=$WORK/county_tokens.txt
msg "daemon: investor search ($CONNS connections, ${DUR} s)"
wrk_run search search.lua "$URL"
msg "daemon: fetch by id"
wrk_run byid byid.lua "$URL"
msg "daemon: Landkreis overview"
wrk_run overview overview.lua "$URL"

# ---------------------------------------------------------------- memory, writes
msg "memory: $IDLE idle TLS connections"
line=$(python3 "$HERE/idle_conns.py" "$URL" "$CA" "$IDLE" "$DPID")
eval "$(sed -E 's/([a-z_]+)=/local_\1=/g' <<<"$line")"
# shellcheck disable=SC2154
R[idle_open]=$local_opened R[idle_failed]=$local_failed R[rss_idle]=$local_rss_kb R[idle_fresh]=$local_fresh_ms

msg "write visibility: $VIS_REPS one-record transfers"
python3 "$HERE/writes.py" visibility "$WORK" "$VIS_REPS" >"$WORK/out/visibility.out" 2>"$WORK/out/visibility.log" ||
	{ cat "$WORK/out/visibility.log" >&2; die "the visibility check failed"; }
line=$(grep '^visibility ' "$WORK/out/visibility.out")
eval "$(sed -E 's/^visibility //; s/([a-z_]+)=/local_\1=/g' <<<"$line")"
# shellcheck disable=SC2154
R[vis_med]=$local_median_ms R[vis_max]=$local_max_ms R[vis_sync]=$local_sync_median_ms

msg "memory: soak of $SOAK s (80 % search, 15 % by id, 5 % overview; 100 changed records every 2 s)"
python3 "$HERE/writes.py" soak "$WORK" "$SOAK" >"$WORK/out/soak_writes.out" 2>"$WORK/out/soak_writes.log" &
BGPIDS+=($!)
WRITER=$!
: >"$WORK/out/soak_rss.txt"
(
	s0=$EPOCHREALTIME
	while kill -0 "$DPID" 2>/dev/null; do
		printf '%s %s\n' "$(calc "$EPOCHREALTIME - $s0")" "$(rss "$DPID")" >>"$WORK/out/soak_rss.txt"
		sleep 5
	done
) &
BGPIDS+=($!)
SAMPLER=$!
c0=$(cpu "$DPID") p0=$(cpu "$PGPID") t0=$(now)
wrk -t "$THREADS" -c "$CONNS" -d "${SOAK}s" --timeout 60s -s "$HERE/soak.lua" "$URL" \
	>"$WORK/out/wrk_soak.out" 2>&1 || { cat "$WORK/out/wrk_soak.out" >&2; die "wrk soak failed"; }
wall=$(calc "$(now) - $t0")
wait "$WRITER" || true
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
R[soak_cpu]=$(calc "($(cpu "$DPID") - $c0) / $wall * 100")
R[soak_pcpu]=$(calc "($(cpu "$PGPID") - $p0) / $wall * 100")
R[rss_soak_end]=$(rss "$DPID")
# the start of the soak: the first sample after a tenth of it (warmed up)
R[rss_soak_start]=$(awk -v t="$SOAK" '$1 >= t / 10 { print $2; exit }' "$WORK/out/soak_rss.txt")
[ -n "${R[rss_soak_start]}" ] || R[rss_soak_start]=$(head -n 1 "$WORK/out/soak_rss.txt" | cut -d' ' -f2)
R[rss_soak_max]=$(awk -v m="${R[rss_soak_end]}" '$2 > m { m = $2 } END { print m + 0 }' "$WORK/out/soak_rss.txt")
line=$(grep '^BENCH ' "$WORK/out/wrk_soak.out")
eval "$(sed -E 's/^BENCH //; s/([a-z0-9_]+)=/local_\1=/g' <<<"$line")"
# shellcheck disable=SC2154
{
	R[soak_rps]=$(calc "$local_requests / ($local_duration_us / 1000000)")
	R[soak_p50]=$(calc "$local_p50_us / 1000") R[soak_p99]=$(calc "$local_p99_us / 1000")
	R[soak_bad]=$((local_non2xx + local_errors))
}
R[soak_writes]=$(sed -nE 's/.*records=([0-9]+).*/\1/p' "$WORK/out/soak_writes.out")

# ---------------------------------------------------------------- the table
fmt() { # number with thousands separators, no decimals
	LC_ALL=C awk -v x="$1" 'BEGIN { x = sprintf("%.0f", x); s = "";
		while (length(x) > 3) { s = "," substr(x, length(x) - 2) s; x = substr(x, 1, length(x) - 3) }
		printf "%s%s", x, s }'
}
ratio() { calc "$2 > 0 ? $1 / $2 : 0"; }
rx() { # a ratio for the eye: 25.3x, 2.52x, 0.0049x
	awk -v r="$1" 'BEGIN { printf (r >= 10 ? "%.1fx" : r >= 0.1 ? "%.2fx" : "%.2gx"), r }'
}
mb() { calc "$1 / 1024"; }
line() { # what rate p50 p99 dcpu pcpu rss_kb ratio-text
	printf '%-46s %10s %8s %8s %6s %6s %7s  %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
}
pct() { printf '%.0f%%' "$1"; }
ms() { printf '%.2f' "$1"; }
bad() { [ "${R[${1}_bad]:-0}" = 0 ] || printf ' [%s failed answers]' "${R[${1}_bad]}"; }

S_RATIO=$(ratio "${R[search_rps]}" "${R[search_ref_rps]}")
B_RATIO=$(ratio "${R[byid_rps]}" "${R[byid_ref_rps]}")
O_RATIO=$(ratio "${R[overview_rps]}" "${R[overview_ref_rps]}")
if [ -n "${R[big_rate]:-}" ]; then
	I_RATE=${R[big_rate]}
	I_WHAT="municipalities >= 10,000 records (${R[big_m]}): 10,000-record transfers"
else
	I_RATE=${R[load_rate]}
	I_WHAT="no municipality reaches 10,000 records at this N: the whole load"
fi
I_RATIO=$(ratio "$I_RATE" "${R[copy_rate]}")
F_RATIO=$(ratio "${R[floor_rate]}" "${R[copy_rate]}")
MEM_LIMIT=$((64 * 1024 + N * 256 / 1024))
GROWTH=$(calc "(${R[rss_soak_end]} - ${R[rss_soak_start]}) / ${R[rss_soak_start]} * 100")
verdict() { if awk "BEGIN { exit !($1) }" </dev/null; then echo holds; else echo misses; fi; }
goal() { printf '%-58s %14s %14s  %s\n' "$1" "$2" "$3" "$4"; }

{
	printf 'vacancyd bench on a Land-sized set (tests/bench/land.sh), %s on %s cores, %s\n' \
		"$(date -u +%Y-%m-%d)" "$(nproc)" "$(uname -m)"
	printf '%s live records (%s published) in %s municipalities of 13 Kreise; generated in %.1f s\n' \
		"$(fmt "${R[records]}")" "$(fmt "${R[published]}")" "$MUNIS" "${R[gen_s]}"
	printf 'runs: %d s each after %d s warm-up, %d connections (wrk -t%d, TLS keep-alive; pgbench -c%d -j%d -M prepared);\n' \
		"$DUR" "$WARM" "$CONNS" "$THREADS" "$CONNS" "$THREADS"
	printf 'load generator on the same cores; CPU in %% of one core; RSS of the daemon (nginx: master + workers);\n'
	printf 'load average before the runs: %s (other work on the machine skews every figure)\n\n' "${R[loadavg]}"
	line "what" "per s" "p50 ms" "p99 ms" "daemon" "pg" "RSS MB" "ratio"
	line "nginx: static file, ${R[typical_bytes]} B (HTTP ceiling)" "$(fmt "${R[static_rps]}")" \
		"$(ms "${R[static_p50]}")" "$(ms "${R[static_p99]}")" "$(pct "${R[static_cpu]}")" "-" \
		"$(mb "${R[static_rss]}" | xargs printf '%.1f')" "$(bad static)"
	line "pgbench: typical search" "$(fmt "${R[search_ref_rps]}")" "$(ms "${R[search_ref_p50]}")" \
		"$(ms "${R[search_ref_p99]}")" "-" "$(pct "${R[search_ref_pcpu]}")" "-" ""
	line "daemon: investor search (GET, protobuf)" "$(fmt "${R[search_rps]}")" "$(ms "${R[search_p50]}")" \
		"$(ms "${R[search_p99]}")" "$(pct "${R[search_cpu]}")" "$(pct "${R[search_pcpu]}")" \
		"$(mb "${R[search_rss]}" | xargs printf '%.1f')" \
		"$(rx "$S_RATIO") pgbench, $(rx "$(ratio "${R[search_rps]}" "${R[static_rps]}")") nginx; $(fmt "${R[search_bytes]}") B/answer$(bad search)"
	line "pgbench: by id" "$(fmt "${R[byid_ref_rps]}")" "$(ms "${R[byid_ref_p50]}")" \
		"$(ms "${R[byid_ref_p99]}")" "-" "$(pct "${R[byid_ref_pcpu]}")" "-" ""
	line "daemon: fetch by id" "$(fmt "${R[byid_rps]}")" "$(ms "${R[byid_p50]}")" "$(ms "${R[byid_p99]}")" \
		"$(pct "${R[byid_cpu]}")" "$(pct "${R[byid_pcpu]}")" "$(mb "${R[byid_rss]}" | xargs printf '%.1f')" \
		"$(rx "$B_RATIO") pgbench, $(rx "$(ratio "${R[byid_rps]}" "${R[static_rps]}")") nginx$(bad byid)"
	line "pgbench: Landkreis overview" "$(printf '%.1f' "${R[overview_ref_rps]}")" \
		"$(ms "${R[overview_ref_p50]}")" "$(ms "${R[overview_ref_p99]}")" "-" \
		"$(pct "${R[overview_ref_pcpu]}")" "-" ""
	line "daemon: Landkreis overview" "$(printf '%.1f' "${R[overview_rps]}")" "$(ms "${R[overview_p50]}")" \
		"$(ms "${R[overview_p99]}")" "$(pct "${R[overview_cpu]}")" "$(pct "${R[overview_pcpu]}")" \
		"$(mb "${R[overview_rss]}" | xargs printf '%.1f')" "$(rx "$O_RATIO") pgbench$(bad overview)"
	line "COPY into ref.record (PK + 3 indexes), rows" "$(fmt "${R[copy_rate]}")" "-" "-" "-" \
		"$(pct "${R[copy_pcpu]}")" "-" "$(printf '%.1f s' "${R[copy_s]}")"
	line "COPY of every row the load wrote (6 tables)" "$(fmt "${R[floor_rate]}")" "-" "-" "-" \
		"$(pct "${R[floor_pcpu]}")" "-" \
		"$(rx "$F_RATIO") COPY: the floor; $(fmt "${R[floor_rows]}") rows in $(printf '%.1f s' "${R[floor_s]}")"
	line "daemon: sync, whole load ($MUNIS client runs)" "$(fmt "${R[load_rate]}")" "-" "-" \
		"$(pct "${R[load_dcpu]}")" "$(pct "${R[load_pcpu]}")" "$(mb "${R[rss_loaded]}" | xargs printf '%.1f')" \
		"$(rx "$(ratio "${R[load_rate]}" "${R[copy_rate]}")") COPY; $(printf '%.1f s' "${R[load_s]}")"
	if [ -n "${R[big_rate]:-}" ]; then
		line "daemon: sync, municipalities >= 10,000 records" "$(fmt "${R[big_rate]}")" "-" "-" "-" "-" "-" \
			"$(rx "$I_RATIO") COPY; $(fmt "${R[big_n]}") records in $(printf '%.1f s' "${R[big_s]}")"
	fi
	line "daemon: soak mix (${SOAK} s, with writes)" "$(fmt "${R[soak_rps]}")" "$(ms "${R[soak_p50]}")" \
		"$(ms "${R[soak_p99]}")" "$(pct "${R[soak_cpu]}")" "$(pct "${R[soak_pcpu]}")" \
		"$(mb "${R[rss_soak_end]}" | xargs printf '%.1f')" \
		"$(printf '%s records written' "$(fmt "${R[soak_writes]:-0}")")$(bad soak)"
	printf '\nmemory (daemon VmRSS, MB): after the load %.1f; after restart (%.1f s to the first answer) %.1f;\n' \
		"$(mb "${R[rss_loaded]}")" "${R[restart_s]}" "$(mb "${R[rss_ready]}")"
	printf '  with %s idle TLS connections %.1f (%s failed; a new connection meanwhile: %s ms);\n' \
		"${R[idle_open]}" "$(mb "${R[rss_idle]}")" "${R[idle_failed]}" "${R[idle_fresh]}"
	printf '  soak: %.1f at %d s, %.1f at the end, peak %.1f\n' "$(mb "${R[rss_soak_start]}")" \
		"$((SOAK / 10))" "$(mb "${R[rss_soak_end]}")" "$(mb "${R[rss_soak_max]}")"
	printf 'write visibility: %s one-record syncs (median %s ms each); visible to the search after the answer: median %s ms, max %s ms\n\n' \
		"$VIS_REPS" "${R[vis_sync]}" "${R[vis_med]}" "${R[vis_max]}"

	goal "goal (issue 6)" "measured" "target" "verdict"
	goal "investor search vs pgbench search" "$(rx "$S_RATIO")" ">= 20x" "$(verdict "$S_RATIO >= 20")"
	goal "investor search p99" "$(printf '%.1f ms' "${R[search_p99]}")" "<= 50 ms" "$(verdict "${R[search_p99]} <= 50")"
	goal "fetch by id vs pgbench by id" "$(rx "$B_RATIO")" ">= 0.35x" "$(verdict "$B_RATIO >= 0.35")"
	goal "Landkreis overview vs pgbench overview" "$(rx "$O_RATIO")" ">= 10x" "$(verdict "$O_RATIO >= 10")"
	goal "Landkreis overview median" "$(printf '%.1f ms' "${R[overview_p50]}")" "<= 20 ms" \
		"$(verdict "${R[overview_p50]} <= 20")"
	goal "ingest (sync) vs COPY of the same rows" "$(rx "$I_RATIO")" ">= 0.7x" "$(verdict "$I_RATIO >= 0.7")"
	goal "  ($I_WHAT)" "" "" ""
	goal "  (COPY of every row a sync writes: $(rx "$F_RATIO"); no write path of these tables reaches more)" "" "" ""
	goal "RSS, whole set + $IDLE idle connections" "$(printf '%.1f MB' "$(mb "${R[rss_idle]}")")" \
		"$(printf '<= %.1f MB' "$(mb "$MEM_LIMIT")")" \
		"$(verdict "${R[rss_idle]} <= $MEM_LIMIT && ${R[idle_open]} == $IDLE")"
	goal "RSS growth over the soak ($SOAK s$([ "$SOAK" -ge 600 ] || echo ', short'))" \
		"$(printf '%+.1f %%' "$GROWTH")" "<= +5 %" "$(verdict "$GROWTH <= 5")"
	goal "write visible to search (max of $VIS_REPS)" "$(printf '%.1f ms' "${R[vis_max]}")" \
		"<= $VIS_BOUND ms" "$(verdict "${R[vis_max]} <= $VIS_BOUND")"
} | tee "$OUT"
msg "written to $OUT (raw outputs in $WORK/out)"
