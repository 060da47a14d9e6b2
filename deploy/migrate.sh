#!/usr/bin/env bash
# migrate.sh: bring a vacancyd database up to the newest schema migration.
#
# Usage: deploy/migrate.sh CONNINFO [SQLDIR]
#   CONNINFO  libpq connection string of a role allowed to change the schema,
#             e.g. "$(deploy/pg.sh conninfo var/pg)"
#   SQLDIR    directory of migrations (default: the repository's sql/)
#
# Migrations are the files SQLDIR/NNN_name.sql (three digits, name of letters,
# digits, '_' or '-'), numbered from 001 without gaps or duplicates; other
# files and subdirectories (e.g. sql/demo/) are ignored. Applied ones are
# recorded in public.schema_migrations (version, name, sha256 checksum,
# applied_at). Each pending migration runs in ONE transaction together with its
# schema_migrations row, so a failing migration leaves nothing behind. A
# migration file must therefore not manage transactions itself (no
# BEGIN/COMMIT/ROLLBACK) nor use commands that cannot run in a transaction.
# An applied migration whose file has changed is refused: an existing database
# is only ever upgraded by new migrations, never rebuilt. A session-level
# pg_advisory_lock (key 7265637301) keeps two migrators from running at once.
# Prints "migrate: applied NNN_name" per migration and
# "migrate: database at version N" at the end (on stderr).
set -euo pipefail

PROG=migrate
LOCK_KEY=7265637301

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { msg "error: $*"; exit 1; }

if [[ $# -lt 1 || $# -gt 2 || -z $1 || $1 == -h || $1 == --help ]]; then
    sed -n '4,7s/^# \{0,1\}//p' "$0" >&2
    exit 2
fi
CONNINFO=$1
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SQLDIR=${2:-$HERE/../sql}
[[ -d $SQLDIR ]] || die "migration directory $SQLDIR does not exist"
SQLDIR=$(realpath -- "$SQLDIR")

# Never show a password given in the conninfo.
SHOWN_CONNINFO=$(sed -E -e "s/(password[[:space:]]*=[[:space:]]*)('[^']*'|[^[:space:]]*)/\1***/g" \
    -e 's#(://[^:/@]*):[^@/]*@#\1:***@#' -e 's/([?&]password=)[^&]*/\1***/g' <<<"$CONNINFO")

PSQL=$(command -v psql || true)
if [[ -z $PSQL ]]; then
    for d in "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/15/bin; do
        if [[ -n $d && -x $d/psql ]]; then PSQL=$d/psql; break; fi
    done
fi
[[ -n $PSQL ]] || die "psql not found: run deploy/install-deps.sh"
command -v sha256sum >/dev/null || die "sha256sum not found"

# ---------------------------------------------------------------- the files

declare -A byver=()
maxver=0
shopt -s nullglob
for f in "$SQLDIR"/*.sql; do
    [[ -f $f ]] || continue
    b=${f##*/}
    if [[ $b =~ ^([0-9]{3})_([A-Za-z0-9_-]+)\.sql$ ]]; then
        v=$((10#${BASH_REMATCH[1]}))
        ((v >= 1)) || die "$b: migrations are numbered from 001"
        if [[ -n ${byver[$v]:-} ]]; then
            die "duplicate migration number ${BASH_REMATCH[1]}: ${byver[$v]##*/} and $b"
        fi
        byver[$v]=$f
        if ((v > maxver)); then maxver=$v; fi
    elif [[ $b =~ ^[0-9] ]]; then
        msg "warning: ignoring $b (not named NNN_name.sql)"
    fi
done
shopt -u nullglob

files=() names=()
for ((v = 1; v <= maxver; v++)); do
    if [[ -z ${byver[$v]:-} ]]; then
        die "gap in the migrations of $SQLDIR: $(printf '%03d' "$v") is missing (newest is $(printf '%03d' "$maxver"))"
    fi
    f=${byver[$v]}
    b=${f##*/}
    # The whole file runs inside our transaction: it must not end it.
    if grep -Eqi '^[[:space:]]*(BEGIN|COMMIT|ROLLBACK|ABORT|START[[:space:]]+TRANSACTION|END[[:space:]]+(TRANSACTION|WORK))[[:space:]]*;|^[[:space:]]*\\(c|connect)([[:space:]]|$)' "$f"; then
        die "$b manages transactions or connections itself (BEGIN/COMMIT/ROLLBACK/\\connect): remove that, migrate.sh runs each file in one transaction"
    fi
    files+=("$f")
    names+=("${b%.sql}")
done

sums=()
if ((maxver > 0)); then
    mapfile -t sums < <(sha256sum -- "${files[@]}" | cut -d' ' -f1)
    ((${#sums[@]} == maxver)) || die "could not compute the checksums of the migrations"
fi

# ---------------------------------------------------------------- the script

# psql meta-command argument quoting: '...' with ' doubled and \ escaped.
meta_quote() {
    local s=${1//\\/\\\\}
    printf "'%s'" "${s//\'/\'\'}"
}

sql_lit() { printf '%s' "${1//\'/\'\'}"; }

# sql_array A B ...: ARRAY['A', 'B']::text[]
sql_array() {
    local out="" x
    for x in "$@"; do out+="${out:+, }'$(sql_lit "$x")'"; done
    printf 'ARRAY[%s]::text[]' "$out"
}

tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/migrate.XXXXXX")
trap 'rm -rf -- "$tmpdir"' EXIT
script=$tmpdir/migrate.sql

{
    cat <<SQL
\\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT pg_try_advisory_lock($LOCK_KEY) AS mig_locked \\gset
\\if :mig_locked
\\else
\\warn 'migrate: waiting for another migrator to finish'
SELECT pg_advisory_lock($LOCK_KEY) IS NULL AS mig_unused \\gset
\\endif
\\set SHOW_CONTEXT never
CREATE TABLE IF NOT EXISTS public.schema_migrations (
    version    int PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
DO \$mig\$
DECLARE
    -- element v: migration v on disk
    file_names text[] := $(sql_array "${names[@]}");
    file_sums  text[] := $(sql_array "${sums[@]}");
    r record;
BEGIN
    FOR r IN SELECT version, name, checksum FROM public.schema_migrations ORDER BY version LOOP
        IF r.version < 1 OR r.version > $maxver THEN
            RAISE EXCEPTION 'the database has migration % (%), but the newest in % is %: refusing to touch it (older code?)',
                r.version, r.name, '$(sql_lit "$SQLDIR")', $maxver;
        END IF;
        IF r.checksum <> file_sums[r.version] THEN
            RAISE EXCEPTION 'migration % was changed after it was applied (as %, sha256 % then, % now): restore the file and put the change in a new migration',
                file_names[r.version], r.name, r.checksum, file_sums[r.version];
        END IF;
    END LOOP;
END
\$mig\$;
\\set SHOW_CONTEXT errors
SQL
    for ((i = 0; i < maxver; i++)); do
        v=$((i + 1))
        cat <<SQL
SELECT EXISTS (SELECT 1 FROM public.schema_migrations WHERE version = $v) AS mig_applied \\gset
\\if :mig_applied
\\else
RESET ALL;
SET client_min_messages = warning;
BEGIN;
\\i $(meta_quote "${files[i]}")
INSERT INTO public.schema_migrations (version, name, checksum) VALUES ($v, '${names[i]}', '${sums[i]}');
COMMIT;
\\warn 'migrate: applied ${names[i]}'
\\endif
SQL
    done
    cat <<SQL
SELECT coalesce(max(version), 0) AS mig_version FROM public.schema_migrations \\gset
\\warn migrate: database at version :mig_version
SQL
} >"$script"

# ---------------------------------------------------------------- run it

db_version() {
    "$PSQL" -X -q -A -t -w -d "$CONNINFO" -c \
        "SELECT CASE WHEN to_regclass('public.schema_migrations') IS NULL THEN 0
                ELSE (SELECT coalesce(max(version), 0) FROM public.schema_migrations) END" \
        </dev/null 2>/dev/null || true
}

rc=0
# What the migrations SELECT is not shown; messages and errors go to stderr.
"$PSQL" -X -q -w -v ON_ERROR_STOP=1 -d "$CONNINFO" -f "$script" </dev/null >/dev/null || rc=$?
case $rc in
    0) ;;
    2) die "could not connect to the database ($SHOWN_CONNINFO)" ;;
    3)
        ver=$(db_version)
        die "stopped by the error above; a failing migration leaves nothing behind; database at version ${ver:-unknown}"
        ;;
    *) die "psql failed (exit $rc)" ;;
esac
