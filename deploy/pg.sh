#!/usr/bin/env bash
# pg.sh: a private PostgreSQL 15 cluster for vacancyd under one directory.
#
# Usage: deploy/pg.sh CMD DIR [...]
#   init DIR              create the cluster if DIR/data has none, start it,
#                         make sure database "vacancy", the roles and DIR/pgpass
#                         exist (idempotent: never re-initialises, keeps data)
#   start DIR             start it (idempotent; clears a stale postmaster.pid)
#   stop DIR              fast shutdown (idempotent; fine when nothing runs)
#   restart DIR           stop, then start
#   crash DIR             immediate stop (as if the machine died: nothing is
#                         cleaned up, open transactions are lost), then start
#                         with crash recovery; for fault tests
#   status DIR            exit 0 if running, 3 if stopped, 4 if there is no cluster
#   conninfo DIR [ROLE]   print the libpq conninfo for ROLE (default vacancy_admin)
#   psql DIR [ARGS...]    run psql as vacancy_admin on database vacancy
#
# Layout: DIR/data (cluster), DIR/run (Unix socket; no TCP at all),
# DIR/log/postgres.log, DIR/pgpass (libpq password file, mode 0600, owned by
# the invoking user) holding the passwords of vacancy_admin (superuser),
# vacancyd_staff and vacancyd_investor (generated at init).
# As root, the server runs as the user `postgres` if it exists, else as the
# system user `vacancy-pg` (created when needed); VACANCY_PG_USER overrides.
# An existing cluster always runs as the owner of DIR/data.
# Environment: PG_FAST=1 (tests) turns off fsync, synchronous_commit and
# full_page_writes: never use it for data you want to keep.
set -euo pipefail

PROG=pg
PORT=5432
DBNAME=vacancy
ADMIN=vacancy_admin
APP_ROLES=(vacancyd_staff vacancyd_investor)
SOCK_MAX=100

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { msg "error: $*"; exit 1; }
usage() {
    sed -n '4,16s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

# Our own libpq calls must use exactly the conninfo we build.
unset PGPASSWORD PGPASSFILE PGSERVICE PGSERVICEFILE PGHOSTADDR PGHOST PGPORT \
    PGUSER PGDATABASE PGDATA
export PGCONNECT_TIMEOUT=10

CLEANUP=()
cleanup() {
    local f
    for f in "${CLEANUP[@]}"; do rm -rf -- "$f"; done
}
trap cleanup EXIT

# ---------------------------------------------------------------- setup

find_bindir() {
    local d
    for d in "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/15/bin; do
        [[ -n $d && -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] || continue
        [[ $("$d/postgres" --version 2>/dev/null) =~ \)\ 15\. ]] || continue
        printf '%s\n' "$d"
        return 0
    done
    return 1
}

[[ $# -ge 2 ]] || usage
CMD=$1
[[ -n $2 ]] || die "DIR must not be empty"
DIR=$(realpath -m -- "$2")
shift 2

if [[ $DIR =~ [[:space:]\'\"\\,] ]]; then
    die "DIR '$DIR' contains blanks, quotes, commas or backslashes: choose a plain path"
fi
DATA=$DIR/data
RUN=$DIR/run
LOGDIR=$DIR/log
LOG=$LOGDIR/postgres.log
PGPASS=$DIR/pgpass
SOCK=$RUN/.s.PGSQL.$PORT

check_socket_len() {
    if ((${#SOCK} > SOCK_MAX)); then
        die "socket path $SOCK is ${#SOCK} characters, over the limit of $SOCK_MAX (Unix sockets): use a shorter DIR"
    fi
}

conninfo() { # ROLE [DB]
    printf 'host=%s port=%s dbname=%s user=%s passfile=%s\n' \
        "$RUN" "$PORT" "${2:-$DBNAME}" "$1" "$PGPASS"
}

BINDIR=
need_bindir() {
    [[ -n $BINDIR ]] && return 0
    BINDIR=$(find_bindir) ||
        die "PostgreSQL 15 server binaries not found (pg_config --bindir, /usr/lib/postgresql/15/bin): run deploy/install-deps.sh"
}

psql_bin() {
    need_bindir
    if [[ -x $BINDIR/psql ]]; then printf '%s\n' "$BINDIR/psql"; else command -v psql; fi
}

# RUN_AS: the unprivileged user the server runs as ("" = run as ourselves).
RUN_AS=
pick_user() { # create: 1 to create vacancy-pg if needed
    local create=${1:-0} owner
    RUN_AS=
    if [[ -e $DATA ]]; then
        owner=$(stat -c %U -- "$DATA")
        if ((EUID == 0)); then
            [[ $owner != root ]] || die "$DATA is owned by root: PostgreSQL cannot run as root"
            RUN_AS=$owner
        elif [[ $owner != "$(id -un)" ]]; then
            die "the cluster in $DIR belongs to user $owner: run this as root or as $owner"
        fi
        return 0
    fi
    ((EUID == 0)) || return 0
    if [[ -n ${VACANCY_PG_USER:-} ]]; then
        RUN_AS=$VACANCY_PG_USER
    elif getent passwd postgres >/dev/null; then
        RUN_AS=postgres
    else
        RUN_AS=vacancy-pg
    fi
    [[ $RUN_AS != root ]] || die "PostgreSQL cannot run as root"
    if ! getent passwd "$RUN_AS" >/dev/null; then
        ((create)) || die "user $RUN_AS does not exist (run: deploy/pg.sh init $DIR)"
        [[ $RUN_AS == vacancy-pg ]] || die "user $RUN_AS (VACANCY_PG_USER) does not exist"
        msg "creating system user $RUN_AS"
        useradd --system --user-group --home-dir /nonexistent --no-create-home \
            --shell /usr/sbin/nologin "$RUN_AS" || die "could not create user $RUN_AS"
    fi
}

# Runs a command as the server's user, from / so that no unreadable working
# directory gets in the way.
as_pg() {
    if [[ -n $RUN_AS ]]; then
        (cd / && runuser -u "$RUN_AS" -- "$@")
    else
        "$@"
    fi
}

# As root: RUN_AS must be able to reach DIR through all its existing parents
# (checked before DIR is created) and write DIR itself.
check_reachable() {
    [[ -n $RUN_AS ]] || return 0
    local p="" part
    if [[ -d $DIR ]]; then
        as_pg test -x "$DIR" -a -w "$DIR" && return 0
    else
        p=$DIR
        while [[ ! -d $p ]]; do p=$(dirname -- "$p"); done
        as_pg test -x "$p" && return 0
        p=""
    fi
    local -a parts
    IFS=/ read -ra parts <<<"${DIR#/}"
    for part in "${parts[@]}"; do
        p=$p/$part
        [[ -d $p ]] || break
        if ! as_pg test -x "$p"; then
            die "user $RUN_AS cannot reach $DIR: no search permission on $p ($(stat -c '%A %U:%G' -- "$p")); use a directory elsewhere (e.g. under /tmp or /var/tmp) or run: chmod o+x $p"
        fi
    done
    die "user $RUN_AS cannot write to $DIR"
}

has_cluster() { [[ -f $DATA/PG_VERSION ]]; }
need_cluster() {
    has_cluster || die "no cluster in $DIR (run: deploy/pg.sh init $DIR)"
}

server_pid() { head -n 1 -- "$DATA/postmaster.pid" 2>/dev/null || true; }

# pid_alive PID: PID is a live (not zombie) postgres process using our data
# directory. pg_ctl only asks kill(PID, 0), which a zombie or an unrelated
# process that got the same PID also passes.
pid_alive() {
    local pid=$1 stat cwd
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == postgres ]] || return 1
    # The postmaster's working directory is its data directory (readable when
    # we are root or its user).
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 0
    [[ $cwd == "$(realpath -- "$DATA")" ]]
}

is_running() { [[ -f $DATA/postmaster.pid ]] && pid_alive "$(server_pid)"; }

# Live postgres processes whose working directory is our data directory:
# children of a postmaster that was killed, still attached to its shared memory.
orphans() {
    local d pid stat data comm
    data=$(realpath -- "$DATA")
    for d in /proc/[0-9]*; do
        pid=${d#/proc/}
        comm=$(<"$d/comm") 2>/dev/null || continue
        [[ $comm == postgres ]] || continue
        [[ $(readlink "$d/cwd" 2>/dev/null) == "$data" ]] || continue
        stat=$(cat "$d/stat" 2>/dev/null) || continue
        stat=${stat##*) }
        [[ ${stat:0:1} != Z ]] || continue
        printf '%s ' "$pid"
    done
}

# Lock files left by a server that died without cleaning up (crash, kill -9,
# reboot) would stop the next start: remove them when their PID is not ours,
# but only once no process of the old server is left (the lock file is what
# protects its shared memory from a second server).
clear_stale_locks() {
    local f pid left i
    [[ -f $DATA/postmaster.pid ]] || return 0
    for ((i = 0; i < 20; i++)); do
        left=$(orphans)
        [[ -n $left ]] || break
        sleep 0.5
    done
    [[ -z $left ]] || die "processes of a previous server still use $DATA (pids: ${left% }): stop them first"
    for f in "$DATA/postmaster.pid" "$SOCK.lock"; do
        [[ -f $f ]] || continue
        pid=$(head -n 1 -- "$f" 2>/dev/null || true)
        pid=${pid//[[:space:]-]/}
        if ! pid_alive "$pid"; then
            msg "removing stale $f (pid ${pid:-?} is not running)"
            rm -f -- "$f"
        fi
    done
}

log_tail() {
    if [[ -r $LOG ]]; then
        msg "last lines of $LOG:"
        tail -n 25 -- "$LOG" | sed 's/^/    /' >&2
    fi
}

# The run/ and log/ directories, owned by the server's user.
ensure_dirs() {
    local d
    for d in "$RUN" "$LOGDIR"; do
        if [[ ! -d $d ]]; then
            mkdir -p -- "$d"
            if [[ -n $RUN_AS ]]; then chown -- "$RUN_AS:" "$d"; fi
        fi
    done
}

# ---------------------------------------------------------------- commands

cmd_start() {
    need_cluster
    check_socket_len
    pick_user
    need_bindir
    if is_running; then
        msg "already running in $DIR (pid $(server_pid))"
        return 0
    fi
    clear_stale_locks
    ensure_dirs
    check_reachable
    if ! as_pg "$BINDIR/pg_ctl" start -D "$DATA" -l "$LOG" -w -t 60 -s >&2; then
        log_tail
        die "the server in $DIR did not start"
    fi
    msg "started in $DIR (pid $(server_pid))"
}

cmd_stop() {
    local mode=${1:-fast}
    if ! has_cluster; then
        msg "no cluster in $DIR: nothing to stop"
        return 0
    fi
    pick_user
    need_bindir
    if ! is_running; then
        msg "not running in $DIR"
        return 0
    fi
    if ! as_pg "$BINDIR/pg_ctl" stop -D "$DATA" -m "$mode" -w -t 60 -s >&2; then
        log_tail
        die "the server in $DIR did not stop within 60 s"
    fi
    msg "stopped ($mode) in $DIR"
}

cmd_status() {
    if ! has_cluster; then
        msg "no cluster in $DIR"
        exit 4
    fi
    pick_user
    if is_running; then
        msg "running in $DIR (pid $(server_pid))"
        exit 0
    fi
    msg "not running in $DIR"
    exit 3
}

gen_pw() { openssl rand -hex 24; }

# pgpass_get ROLE: the password stored for ROLE in DIR/pgpass, or nothing.
pgpass_get() {
    [[ -r $PGPASS ]] || return 0
    awk -F: -v r="$1" '$1 == "*" && $2 == "*" && $3 == "*" && $4 == r { print $5; exit }' "$PGPASS"
}

# pgpass_write ADMIN_PW STAFF_PW INVESTOR_PW: replace DIR/pgpass atomically.
pgpass_write() {
    local tmp
    tmp=$(umask 077 && mktemp -- "$DIR/.pgpass.XXXXXX")
    CLEANUP+=("$tmp")
    printf '*:*:*:%s:%s\n' "$ADMIN" "$1" "${APP_ROLES[0]}" "$2" "${APP_ROLES[1]}" "$3" >"$tmp"
    chmod 0600 -- "$tmp"
    mv -f -- "$tmp" "$PGPASS"
}

admin_psql() { # DB ARGS...: psql as the superuser, no prompt, stop on error
    local db=$1
    shift
    "$(psql_bin)" -X -q -w -v ON_ERROR_STOP=1 -d "$(conninfo "$ADMIN" "$db")" "$@"
}

# Sets the superuser's password by single-user mode (server stopped), for when
# DIR/pgpass lost it.
reset_admin_pw() {
    local pw=$1
    msg "no working password for $ADMIN in $PGPASS: setting a new one (the server restarts)"
    cmd_stop
    local out
    if ! out=$(printf "ALTER ROLE %s WITH PASSWORD '%s';\n" "$ADMIN" "$pw" |
        as_pg "$BINDIR/postgres" --single -D "$DATA" postgres 2>&1 >/dev/null); then
        printf '%s\n' "$out" | tail -n 25 | sed 's/^/    /' >&2
        die "could not reset the password of $ADMIN in single-user mode"
    fi
}

cmd_init() {
    check_socket_len
    need_bindir
    command -v openssl >/dev/null || die "openssl not found: run deploy/install-deps.sh"
    pick_user 1
    local admin_pw staff_pw inv_pw
    if ! has_cluster; then
        check_reachable
        mkdir -p -- "$DIR"
        if [[ -n $RUN_AS ]]; then chown -- "$RUN_AS:" "$DIR"; fi
        check_reachable
        ensure_dirs
        if [[ -e $DATA ]]; then
            die "$DATA exists but holds no cluster (no PG_VERSION): move it away and run init again"
        fi
        local tmpdata=$DIR/data.initdb pwfile=$DIR/.initdb-pw locale=C
        rm -rf -- "$tmpdata" "$pwfile"
        CLEANUP+=("$tmpdata" "$pwfile")

        admin_pw=$(gen_pw) staff_pw=$(gen_pw) inv_pw=$(gen_pw)
        # Stored before initdb so that the superuser's password is never lost.
        pgpass_write "$admin_pw" "$staff_pw" "$inv_pw"
        (umask 077 && printf '%s\n' "$admin_pw" >"$pwfile")
        if [[ -n $RUN_AS ]]; then chown -- "$RUN_AS:" "$pwfile"; fi

        # C.UTF-8 when the C library has it (Debian's libc-bin does), else C.
        if grep -Eqix 'c\.utf-?8' <<<"$(locale -a 2>/dev/null || true)"; then locale=C.UTF-8; fi
        local -a fast=()
        [[ ${PG_FAST:-0} == 1 ]] && fast=(--no-sync)
        # Data checksums stay off (initdb's default). The cluster is made in
        # a temporary directory and renamed when complete, so that an
        # interrupted init never leaves a half-made DIR/data behind.
        msg "initialising a PostgreSQL 15 cluster in $DATA (locale $locale)"
        if ! as_pg "$BINDIR/initdb" -D "$tmpdata" -U "$ADMIN" --pwfile="$pwfile" \
            -E UTF8 --locale="$locale" --auth-local=scram-sha-256 \
            --auth-host=scram-sha-256 --no-instructions "${fast[@]}" \
            >"$LOGDIR/initdb.log" 2>&1; then
            tail -n 25 -- "$LOGDIR/initdb.log" | sed 's/^/    /' >&2
            die "initdb failed (see $LOGDIR/initdb.log)"
        fi
        rm -f -- "$pwfile"
        {
            printf '\n# ---- vacancyd private cluster (deploy/pg.sh) ----\n'
            printf "listen_addresses = ''\t\t# Unix socket only, no TCP\n"
            printf "unix_socket_directories = '%s'\n" "$RUN"
            printf 'port = %s\n' "$PORT"
            printf 'max_connections = 100\n'
            printf 'shared_buffers = 128MB\n'
            printf "logging_collector = off\t\t# stderr goes to %s\n" "$LOG"
            printf "log_destination = 'stderr'\n"
            printf "log_line_prefix = '%%m [%%p] %%q%%u@%%d '\n"
            if [[ ${PG_FAST:-0} == 1 ]]; then
                printf '# PG_FAST=1: for throwaway test clusters only\n'
                printf 'fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n'
            fi
        } >>"$tmpdata/postgresql.conf"
        mv -- "$tmpdata" "$DATA"
        msg "cluster created in $DIR"
    else
        ensure_dirs
    fi

    cmd_start

    # The superuser's password must be in pgpass and work.
    admin_pw=$(pgpass_get "$ADMIN")
    staff_pw=$(pgpass_get "${APP_ROLES[0]}")
    inv_pw=$(pgpass_get "${APP_ROLES[1]}")
    local err
    if [[ -z $admin_pw ]] || ! err=$(admin_psql postgres -c 'SELECT 1' 2>&1 >/dev/null); then
        if [[ -n $admin_pw && $err != *"password authentication failed"* ]]; then
            die "cannot connect as $ADMIN: $err"
        fi
        admin_pw=$(gen_pw)
        [[ -n $staff_pw ]] || staff_pw=$(gen_pw)
        [[ -n $inv_pw ]] || inv_pw=$(gen_pw)
        reset_admin_pw "$admin_pw"
        pgpass_write "$admin_pw" "$staff_pw" "$inv_pw"
        cmd_start
    elif [[ -z $staff_pw || -z $inv_pw ]]; then
        [[ -n $staff_pw ]] || staff_pw=$(gen_pw)
        [[ -n $inv_pw ]] || inv_pw=$(gen_pw)
        pgpass_write "$admin_pw" "$staff_pw" "$inv_pw"
    fi
    if [[ $(stat -c %a -- "$PGPASS") != 600 ]]; then chmod 0600 -- "$PGPASS"; fi

    # Database and login roles; the roles' passwords follow pgpass.
    admin_psql postgres <<SQL || die "could not create the database or roles"
SET client_min_messages = warning;
SELECT 'CREATE DATABASE $DBNAME OWNER $ADMIN ENCODING ''UTF8'''
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DBNAME') \\gexec
DO \$\$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES ('${APP_ROLES[0]}', '$staff_pw'),
                                   ('${APP_ROLES[1]}', '$inv_pw')) AS t(name, pw)
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name) THEN
            EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L',
                           r.name, r.pw);
        ELSE
            EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L',
                           r.name, r.pw);
        END IF;
    END LOOP;
END
\$\$;
SQL
    msg "ready: $(conninfo "$ADMIN")"
}

case $CMD in
    init) cmd_init ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart)
        cmd_stop
        cmd_start
        ;;
    crash)
        cmd_stop immediate
        cmd_start
        ;;
    status) cmd_status ;;
    conninfo)
        role=${1:-$ADMIN}
        [[ $role =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad role name '$role'"
        conninfo "$role"
        ;;
    psql)
        need_cluster
        exec "$(psql_bin)" -d "$(conninfo "$ADMIN")" "$@"
        ;;
    *) usage ;;
esac
