#!/usr/bin/env bash
# test_deploy.sh: tests of the deploy scripts (install-deps.sh, pg.sh,
# migrate.sh, devcerts.sh), run for real: a private PostgreSQL cluster in
# WORKDIR (PG_FAST=1), test migrations and certificates made in WORKDIR.
#
# Usage: tests/scripts/test_deploy.sh WORKDIR
#   WORKDIR  a throwaway directory (created if missing); the cluster is stopped
#            at the end whatever happens. If the server's user could not reach
#            WORKDIR (as root, e.g. a mode 0700 mktemp directory) or its socket
#            path would be too long, the cluster goes to a private directory
#            under /tmp instead, removed at the end.
# Prints "ok - ..." / "not ok - ..." per check (with "# " diagnostics), then
# "deploy: N passed, M failed"; exits 1 if any check failed.
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
    sed -n '5s/^# \{0,1\}//p' "$0" >&2
    exit 2
fi
exec </dev/null
export PG_FAST=1 LC_ALL=C
unset PGPASSWORD PGPASSFILE PGSERVICE PGHOSTADDR PGHOST PGPORT PGUSER PGDATABASE

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
DEPLOY=$ROOT/deploy
WORK=$(realpath -m -- "$1")
mkdir -p -- "$WORK"
OUT=$WORK/last.out
PSQL=$(command -v psql || echo /usr/lib/postgresql/15/bin/psql)

PASSED=0
FAILED=0
ok() {
    PASSED=$((PASSED + 1))
    printf 'ok - %s\n' "$*"
}
notok() {
    FAILED=$((FAILED + 1))
    printf 'not ok - %s\n' "$*"
    if [[ -s $OUT ]]; then tail -n 15 -- "$OUT" | sed 's/^/# /'; fi
}
# check DESC CMD...: CMD's output goes to $OUT (shown on failure).
check() {
    local desc=$1
    shift
    if "$@" >"$OUT" 2>&1; then ok "$desc"; else notok "$desc"; fi
}
note() { printf '# %s\n' "$*"; }
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# ------------------------------------------------------------ the cluster dir

# Can every user search DIR and all its parents?
world_reachable() {
    local p=$1
    while :; do
        [[ $(stat -c %A -- "$p") =~ ^.........[xt]$ ]] || return 1
        [[ $p == / ]] && return 0
        p=$(dirname -- "$p")
    done
}
PGD=$WORK/pg
FALLBACK=
if ((${#PGD} + 18 > 100)) || { ((EUID == 0)) && ! world_reachable "$WORK"; }; then
    FALLBACK=$(mktemp -d /tmp/vdtest.XXXXXX)
    chmod 0755 "$FALLBACK"
    PGD=$FALLBACK/pg
    note "cluster in $PGD ($WORK is not reachable by the server's user or too long)"
fi

# A fresh cluster every run, even when WORKDIR is reused.
"$DEPLOY/pg.sh" stop "$PGD" >/dev/null 2>&1 || true
rm -rf -- "$PGD"

cleanup() {
    "$DEPLOY/pg.sh" stop "$PGD" >/dev/null 2>&1 || true
    if [[ -n $FALLBACK ]]; then rm -rf -- "$FALLBACK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

q() { # ROLE SQL: one value from psql as ROLE through the pgpass file
    "$PSQL" -X -w -A -t -v ON_ERROR_STOP=1 -d "$("$DEPLOY/pg.sh" conninfo "$PGD" "$1")" -c "$2"
}
qdb() { # DB SQL: as vacancy_admin in database DB
    "$PSQL" -X -w -A -t -v ON_ERROR_STOP=1 \
        -d "host=$PGD/run port=5432 dbname=$1 user=vacancy_admin passfile=$PGD/pgpass" -c "$2"
}
# expect_eq WHAT GOT WANT
expect_eq() {
    if [[ $2 == "$3" ]]; then return 0; fi
    printf '%s: got [%s], want [%s]\n' "$1" "$2" "$3"
    return 1
}

# ------------------------------------------------------------ install-deps.sh

t_deps_present() { "$DEPLOY/install-deps.sh" --check; }
t_deps_fast() {
    local t0 out rc=0 dt
    t0=$(now)
    out=$("$DEPLOY/install-deps.sh" 2>&1) || rc=$?
    dt=$(elapsed "$t0")
    printf '%s\nexit %s in %s s\n' "$out" "$rc" "$dt"
    note "install-deps.sh with everything present: ${dt} s" >&3
    [[ $rc == 0 && -z $out ]] && awk -v d="$dt" 'BEGIN { exit !(d < 2) }'
}
exec 3>&1
if check "install-deps.sh --check: every package is installed" t_deps_present; then
    check "install-deps.sh does nothing, exits 0 in under 2 s when all is present" t_deps_fast
else
    notok "install-deps.sh fast path not tested: packages are missing (run deploy/install-deps.sh)"
fi

# ------------------------------------------------------------ pg.sh

t_init() {
    local t0
    t0=$(now)
    "$DEPLOY/pg.sh" init "$PGD" || return 1
    note "pg.sh init of a fresh cluster: $(elapsed "$t0") s" >&3
}
check "pg.sh init creates and starts a fresh cluster" t_init
check "pg.sh status: running" "$DEPLOY/pg.sh" status "$PGD"

t_conninfo() {
    expect_eq conninfo "$("$DEPLOY/pg.sh" conninfo "$PGD")" \
        "host=$PGD/run port=5432 dbname=vacancy user=vacancy_admin passfile=$PGD/pgpass" &&
        expect_eq conninfo "$("$DEPLOY/pg.sh" conninfo "$PGD" vacancyd_staff)" \
            "host=$PGD/run port=5432 dbname=vacancy user=vacancyd_staff passfile=$PGD/pgpass"
}
check "pg.sh conninfo prints host, port, dbname, user, passfile" t_conninfo

t_pgpass() {
    expect_eq "pgpass mode/owner" "$(stat -c '%a %u' -- "$PGD/pgpass")" "600 $EUID" &&
        expect_eq "pgpass roles" "$(cut -d: -f1-4 "$PGD/pgpass" | sort | tr '\n' ' ')" \
            '*:*:*:vacancy_admin *:*:*:vacancyd_investor *:*:*:vacancyd_staff '
}
check "pgpass: mode 0600, owned by the invoking user, three roles" t_pgpass

t_role() {
    local want=false
    [[ $1 == vacancy_admin ]] && want=true
    expect_eq "user, superuser, database" \
        "$(q "$1" 'SELECT current_user || $$ $$ || usesuper || $$ $$ || current_database() FROM pg_user WHERE usename = current_user')" \
        "$1 $want vacancy"
}
for role in vacancy_admin vacancyd_staff vacancyd_investor; do
    check "conninfo + pgpass log in as $role (superuser only for vacancy_admin)" t_role "$role"
done

t_wrong_pw() {
    local bad=$WORK/bad.pgpass out
    sed -E 's/^(\*:\*:\*:vacancyd_staff:).*/\1wrongpassword/' "$PGD/pgpass" >"$bad"
    chmod 0600 "$bad"
    if out=$("$PSQL" -X -w -At -c 'SELECT 1' \
        -d "host=$PGD/run port=5432 dbname=vacancy user=vacancyd_staff passfile=$bad" 2>&1); then
        echo "logged in with a wrong password: $out"
        return 1
    fi
    echo "$out"
    [[ $out == *"password authentication failed"* ]]
}
check "a wrong password is refused" t_wrong_pw

check "no TCP: listen_addresses is empty" \
    expect_eq listen_addresses "$(q vacancy_admin 'SHOW listen_addresses' 2>&1)" ""

t_keep_data() {
    local sum pid
    q vacancy_admin "CREATE TABLE keep_me (v text); INSERT INTO keep_me VALUES ('precious')" || return 1
    sum=$(sha256sum <"$PGD/pgpass")
    pid=$(head -n 1 "$PGD/data/postmaster.pid")
    "$DEPLOY/pg.sh" init "$PGD" || return 1
    expect_eq "row" "$(q vacancy_admin 'SELECT v FROM keep_me')" precious &&
        expect_eq "pgpass" "$(sha256sum <"$PGD/pgpass")" "$sum" &&
        expect_eq "postmaster pid" "$(head -n 1 "$PGD/data/postmaster.pid")" "$pid" &&
        expect_eq "staff login" "$(q vacancyd_staff 'SELECT current_user')" vacancyd_staff
}
check "pg.sh init again is idempotent (data, pgpass, server kept)" t_keep_data

t_stop_start() {
    local rc=0
    "$DEPLOY/pg.sh" stop "$PGD" || return 1
    "$DEPLOY/pg.sh" status "$PGD" || rc=$?
    expect_eq "status after stop" "$rc" 3 || return 1
    "$DEPLOY/pg.sh" stop "$PGD" || return 1
    "$DEPLOY/pg.sh" start "$PGD" && "$DEPLOY/pg.sh" start "$PGD" &&
        "$DEPLOY/pg.sh" status "$PGD" &&
        expect_eq "row" "$(q vacancy_admin 'SELECT v FROM keep_me')" precious
}
check "pg.sh stop/status/stop again/start/start again keep the data" t_stop_start

t_stale_pid() {
    local pid=999999
    "$DEPLOY/pg.sh" stop "$PGD" || return 1
    while [[ -d /proc/$pid ]]; do pid=$((pid - 1)); done
    printf '%s\n%s\n' "$pid" "$PGD/data" >"$PGD/data/postmaster.pid"
    "$DEPLOY/pg.sh" start "$PGD" &&
        expect_eq "row" "$(q vacancy_admin 'SELECT v FROM keep_me')" precious
}
check "pg.sh start removes a stale postmaster.pid" t_stale_pid

check "pg.sh restart" "$DEPLOY/pg.sh" restart "$PGD"

t_long_path() {
    local long rc=0 out
    long=$WORK/$(printf 'x%.0s' {1..100})
    out=$("$DEPLOY/pg.sh" init "$long" 2>&1) || rc=$?
    echo "$out"
    [[ $rc != 0 && $out == *"socket path"* && ! -e $long ]]
}
check "pg.sh init refuses a socket path over 100 characters" t_long_path

# ------------------------------------------------------------ migrate.sh

MIG=$WORK/migrations
rm -rf -- "$MIG"
mkdir -p -- "$MIG/demo"
cat >"$MIG/001_create_things.sql" <<'SQL'
CREATE TABLE things (id int PRIMARY KEY);
INSERT INTO things VALUES (1);
SQL
cat >"$MIG/002_add_label.sql" <<'SQL'
ALTER TABLE things ADD COLUMN label text NOT NULL DEFAULT 'none';
SQL
echo 'DROP TABLE things;' >"$MIG/demo/001_demo.sql"
echo 'not a migration' >"$MIG/README"
CONN=$("$DEPLOY/pg.sh" conninfo "$PGD")
version() { qdb "${1:-vacancy}" 'SELECT coalesce(max(version), 0) FROM schema_migrations'; }

t_migrate_first() {
    "$DEPLOY/migrate.sh" "$CONN" "$MIG" 2>&1 | tee "$WORK/mig1.out"
    ((PIPESTATUS[0] == 0)) || return 1
    grep -qx 'migrate: applied 001_create_things' "$WORK/mig1.out" &&
        grep -qx 'migrate: applied 002_add_label' "$WORK/mig1.out" &&
        grep -qx 'migrate: database at version 2' "$WORK/mig1.out" &&
        expect_eq "things" "$(q vacancy_admin 'SELECT id || label FROM things')" 1none &&
        expect_eq "recorded" "$(q vacancy_admin "SELECT string_agg(version || name || length(checksum), ',' ORDER BY version) FROM schema_migrations")" \
            "1001_create_things64,2002_add_label64"
}
check "migrate.sh applies 001 and 002 on an empty database, ignores other files" t_migrate_first

t_migrate_again() {
    local out
    out=$("$DEPLOY/migrate.sh" "$CONN" "$MIG" 2>&1) || return 1
    echo "$out"
    [[ $out != *applied* ]] && expect_eq output "$out" "migrate: database at version 2"
}
check "migrate.sh second run applies nothing" t_migrate_again

t_migrate_changed() {
    local out rc=0
    cp "$MIG/001_create_things.sql" "$WORK/001.orig"
    echo '-- edited after the fact' >>"$MIG/001_create_things.sql"
    out=$("$DEPLOY/migrate.sh" "$CONN" "$MIG" 2>&1) || rc=$?
    mv "$WORK/001.orig" "$MIG/001_create_things.sql"
    echo "$out"
    [[ $rc != 0 && $out == *"001_create_things was changed"* ]] &&
        expect_eq version "$(version)" 2
}
check "migrate.sh refuses an applied migration whose checksum changed" t_migrate_changed

t_migrate_fails() {
    local out rc=0
    cat >"$MIG/003_broken.sql" <<'SQL'
CREATE TABLE half_done (id int);
INSERT INTO half_done VALUES (1);
UPDATE things SET label = 'touched';
SELECT 1 / 0;
SQL
    out=$("$DEPLOY/migrate.sh" "$CONN" "$MIG" 2>&1) || rc=$?
    rm -f "$MIG/003_broken.sql"
    echo "$out"
    [[ $rc != 0 && $out == *"division by zero"* ]] &&
        expect_eq "half_done" "$(q vacancy_admin "SELECT to_regclass('half_done') IS NULL")" t &&
        expect_eq "things" "$(q vacancy_admin 'SELECT label FROM things')" none &&
        expect_eq version "$(version)" 2 &&
        expect_eq rows "$(q vacancy_admin 'SELECT count(*) FROM schema_migrations')" 2
}
check "a failing migration 003 leaves no trace (version still 2)" t_migrate_fails

t_migrate_gap() {
    local out rc=0
    echo 'CREATE TABLE gap (id int);' >"$MIG/004_after_gap.sql"
    out=$("$DEPLOY/migrate.sh" "$CONN" "$MIG" 2>&1) || rc=$?
    rm -f "$MIG/004_after_gap.sql"
    echo "$out"
    [[ $rc != 0 && $out == *gap* ]] && expect_eq version "$(version)" 2 &&
        expect_eq "gap table" "$(q vacancy_admin "SELECT to_regclass('gap') IS NULL")" t
}
check "migrate.sh refuses a gap in the numbering" t_migrate_gap

t_migrate_dup() {
    local out rc=0
    echo 'SELECT 1;' >"$MIG/002_other.sql"
    out=$("$DEPLOY/migrate.sh" "$CONN" "$MIG" 2>&1) || rc=$?
    rm -f "$MIG/002_other.sql"
    echo "$out"
    [[ $rc != 0 && $out == *duplicate* ]]
}
check "migrate.sh refuses duplicate numbers" t_migrate_dup

t_migrate_lock() {
    local lk=$WORK/lockmig o1=$WORK/lock1.out o2=$WORK/lock2.out c p1 p2 r1=0 r2=0
    rm -rf -- "$lk"
    mkdir -p -- "$lk"
    printf 'SELECT pg_sleep(1);\nCREATE TABLE slow (id int);\n' >"$lk/001_slow.sql"
    echo 'ALTER TABLE slow ADD COLUMN v int;' >"$lk/002_more.sql"
    q vacancy_admin 'DROP DATABASE IF EXISTS locktest' &&
        q vacancy_admin 'CREATE DATABASE locktest' || return 1
    c="host=$PGD/run port=5432 dbname=locktest user=vacancy_admin passfile=$PGD/pgpass"
    "$DEPLOY/migrate.sh" "$c" "$lk" >"$o1" 2>&1 &
    p1=$!
    sleep 0.3
    "$DEPLOY/migrate.sh" "$c" "$lk" >"$o2" 2>&1 &
    p2=$!
    wait "$p1" || r1=$?
    wait "$p2" || r2=$?
    cat "$o1" "$o2"
    expect_eq "exit codes" "$r1 $r2" "0 0" &&
        expect_eq "applied 001 once" "$(cat "$o1" "$o2" | grep -c 'applied 001_slow')" 1 &&
        expect_eq "applied 002 once" "$(cat "$o1" "$o2" | grep -c 'applied 002_more')" 1 &&
        expect_eq version "$(version locktest)" 2
}
check "two migrators at once: the advisory lock serialises them" t_migrate_lock

# ------------------------------------------------------------ devcerts.sh

CERTS=$WORK/certs
rm -rf -- "$CERTS"
t_certs() {
    "$DEPLOY/devcerts.sh" "$CERTS" || return 1
    openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/server.pem" &&
        openssl verify -CAfile "$CERTS/ca.pem" -purpose sslserver -verify_hostname localhost "$CERTS/server.pem" &&
        openssl verify -CAfile "$CERTS/ca.pem" -purpose sslserver -verify_ip 127.0.0.1 "$CERTS/server.pem" &&
        openssl verify -CAfile "$CERTS/ca.pem" -purpose sslserver -verify_ip ::1 "$CERTS/server.pem" &&
        expect_eq "CA subject" "$(openssl x509 -in "$CERTS/ca.pem" -noout -subject)" \
            "subject=CN = vacancyd development CA" &&
        expect_eq "key modes" "$(stat -c %a "$CERTS/ca.key" "$CERTS/server.key" | tr '\n' ' ')" "600 600 " &&
        [[ $(openssl x509 -in "$CERTS/server.pem" -noout -ext basicConstraints,extendedKeyUsage) == *CA:FALSE*"TLS Web Server Authentication"* ]] &&
        [[ $(openssl pkey -in "$CERTS/server.key" -noout -text) == *prime256v1* ]]
}
check "devcerts.sh: CA and server certificate that openssl verify accepts (localhost, 127.0.0.1, ::1)" t_certs

fingerprint() { (cd "$CERTS" && sha256sum ca.key ca.pem server.key server.pem && stat -c '%n %Y %a' ca.key ca.pem server.key server.pem); }
t_certs_again() {
    local before
    before=$(fingerprint)
    "$DEPLOY/devcerts.sh" "$CERTS" && expect_eq "files" "$(fingerprint)" "$before"
}
check "devcerts.sh second run leaves the files unchanged" t_certs_again

t_certs_renew() {
    local ca
    ca=$(sha256sum <"$CERTS/ca.pem")
    openssl req -new -key "$CERTS/server.key" -subj /CN=localhost -out "$WORK/short.csr" &&
        openssl x509 -req -in "$WORK/short.csr" -CA "$CERTS/ca.pem" -CAkey "$CERTS/ca.key" \
            -set_serial 42 -days 10 -out "$CERTS/server.pem" || return 1
    "$DEPLOY/devcerts.sh" "$CERTS" &&
        openssl x509 -in "$CERTS/server.pem" -noout -checkend $((700 * 86400)) &&
        expect_eq "CA kept" "$(sha256sum <"$CERTS/ca.pem")" "$ca" &&
        openssl verify -CAfile "$CERTS/ca.pem" "$CERTS/server.pem"
}
check "devcerts.sh renews a server certificate expiring within 30 days, keeps the CA" t_certs_renew

t_certs_clients() {
    local before
    "$DEPLOY/devcerts.sh" "$CERTS" "municipality:14521020:Stadt Thum (test)" "investor::Portal" ||
        return 1
    openssl verify -CAfile "$CERTS/ca.pem" -purpose sslclient "$CERTS/client-municipality.pem" &&
        openssl verify -CAfile "$CERTS/ca.pem" -purpose sslclient "$CERTS/client-investor.pem" &&
        [[ $(openssl x509 -in "$CERTS/client-municipality.pem" -noout -ext subjectAltName) == \
            *"URI:urn:vacancyd:municipality:14521020"* ]] &&
        [[ $(openssl x509 -in "$CERTS/client-investor.pem" -noout -ext subjectAltName) == \
            *"URI:urn:vacancyd:investor:"* ]] &&
        expect_eq "client subject" "$(openssl x509 -in "$CERTS/client-municipality.pem" -noout -subject)" \
            "subject=CN = Stadt Thum (test)" &&
        expect_eq "key mode" "$(stat -c %a "$CERTS/client-municipality.key")" 600 || return 1
    before=$(sha256sum "$CERTS"/client-*)
    "$DEPLOY/devcerts.sh" "$CERTS" "municipality:14521020:Stadt Thum (test)" "investor::Portal" &&
        expect_eq "second run" "$(sha256sum "$CERTS"/client-*)" "$before" || return 1
    # a claim that changed makes the certificate anew; a malformed one is refused
    "$DEPLOY/devcerts.sh" "$CERTS" "municipality:14521030:Stadt Thum (test)" &&
        [[ $(openssl x509 -in "$CERTS/client-municipality.pem" -noout -ext subjectAltName) == \
            *"URI:urn:vacancyd:municipality:14521030"* ]] &&
        ! "$DEPLOY/devcerts.sh" "$CERTS" "admin:1:x" 2>/dev/null &&
        ! "$DEPLOY/devcerts.sh" "$CERTS" "county:14521" 2>/dev/null
}
check "devcerts.sh: client certificates naming role and scope (urn:vacancyd:ROLE:SCOPE), idempotent" t_certs_clients

# ------------------------------------------------------------ the end

check "pg.sh stop at the end" "$DEPLOY/pg.sh" stop "$PGD"
printf 'deploy: %d passed, %d failed\n' "$PASSED" "$FAILED"
((FAILED == 0))
