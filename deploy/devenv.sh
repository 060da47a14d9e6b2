#!/usr/bin/env bash
# devenv.sh: the development registry under one directory (var/ by default).
#
# Usage: deploy/devenv.sh setup VARDIR VACANCYD [PORT]
#          private PostgreSQL cluster (VARDIR/pg), migrations of sql/, TLS
#          material (VARDIR/tls), daemon config (VARDIR/vacancyd.conf), one
#          token per role (VARDIR/credentials.env, mode 0600). Idempotent.
#        deploy/devenv.sh run VACANCYD
#          setup var/, run the daemon in the foreground on
#          https://127.0.0.1:${VACANCY_PORT:-8443}, load the demo data through
#          POST /v1/sync (once), write var/dev.env; Ctrl-C stops the daemon
#          and the private cluster.
#
# Demo region: Erzgebirgskreis (AGS prefix 14521). The municipality token is
# for Annaberg-Buchholz (14521020).
set -euo pipefail

PROG=devenv
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO_COUNTY=14521
DEMO_MUNICIPALITY=14521020

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { msg "error: $*"; exit 1; }

# writes the daemon's config for VARDIR and PORT
write_config() {
	local var=$1 port=$2 conf=$1/vacancyd.conf pg=$1/pg
	cat >"$conf.tmp" <<EOF
# vacancyd development configuration, written by deploy/devenv.sh.
# Every setting with its default: vacancyd -p
listen_addr = 127.0.0.1
listen_port = $port
tls = on
tls_cert_file = $var/tls/server.pem
tls_key_file = $var/tls/server.key
# client certificates of the development CA (the county's CA in production)
tls_client_ca_file = $var/tls/ca.pem
db_staff_conninfo = $("$ROOT/deploy/pg.sh" conninfo "$pg" vacancyd_staff)
db_investor_conninfo = $("$ROOT/deploy/pg.sh" conninfo "$pg" vacancyd_investor)
pid_file = $var/vacancyd.pid
EOF
	mv "$conf.tmp" "$conf"
}

# prints 0/1: does the token in variable NAME of credentials.env still exist?
token_valid() {
	local var=$1 tok=$2
	[ -n "$tok" ] || return 1
	local n
	n=$("$ROOT/deploy/pg.sh" psql "$var/pg" -Atq -c \
		"SELECT count(*) FROM registry.credential WHERE prefix = '${tok:0:12}' AND revoked_at IS NULL")
	[ "$n" = 1 ]
}

# one token per role, kept across runs while the database knows them
make_tokens() {
	local var=$1 bin=$2 cred=$1/credentials.env
	local tm="" tc="" ti=""
	if [ -f "$cred" ]; then
		# shellcheck disable=SC1090
		. "$cred"
		tm=${VACANCY_TOKEN_MUNICIPALITY:-} tc=${VACANCY_TOKEN_COUNTY:-} ti=${VACANCY_TOKEN_INVESTOR:-}
	fi
	token_valid "$var" "$tm" || tm=$("$bin" -f "$var/vacancyd.conf" token create --role municipality \
		--scope "$DEMO_MUNICIPALITY" --name "Annaberg-Buchholz (demo)")
	token_valid "$var" "$tc" || tc=$("$bin" -f "$var/vacancyd.conf" token create --role county \
		--scope "$DEMO_COUNTY" --name "Landratsamt Erzgebirgskreis (demo)")
	token_valid "$var" "$ti" || ti=$("$bin" -f "$var/vacancyd.conf" token create --role investor \
		--scope "" --name "Investor portal (demo)")
	(umask 077 && cat >"$cred" <<EOF
VACANCY_TOKEN_MUNICIPALITY=$tm
VACANCY_TOKEN_COUNTY=$tc
VACANCY_TOKEN_INVESTOR=$ti
EOF
	)
}

# Demo records, once, through the sync API like any municipality's data:
# deploy/demo/<AGS>.csv per town, each sent with a token of that
# municipality that is revoked right after.
load_demo() {
	local var=$1 bin=$2 client=$3 port=$4 n f ags tok rc=0
	n=$("$ROOT/deploy/pg.sh" psql "$var/pg" -Atq -c "SELECT count(*) FROM registry.record" 2>/dev/null)
	[ "$n" = 0 ] || return 0
	for f in "$ROOT"/deploy/demo/*.csv; do
		ags=$(basename "$f" .csv)
		tok=$("$bin" -f "$var/vacancyd.conf" token create --role municipality --scope "$ags" \
			--name "demo loader $ags" 2>/dev/null)
		VACANCY_URL=https://127.0.0.1:$port VACANCY_CACERT=$var/tls/ca.pem VACANCY_TOKEN=$tok \
			"$client" sync "$f" --transfer-id "demo-$ags" >/dev/null || rc=1
		"$bin" -f "$var/vacancyd.conf" token revoke "$tok" 2>/dev/null
	done
	[ $rc = 0 ] || die "the demo data could not be loaded; see the messages above"
	msg "loaded the demo data of $(ls "$ROOT"/deploy/demo/*.csv | wc -l) municipalities through POST /v1/sync"
}

write_env() {
	local var=$1 port=$2 demo
	demo=$("$ROOT/deploy/pg.sh" psql "$var/pg" -Atq -c \
		"SELECT record_id FROM investor.published_record ORDER BY title LIMIT 1" 2>/dev/null || true)
	# shellcheck disable=SC1091
	. "$var/credentials.env"
	(umask 077 && cat >"$var/dev.env" <<EOF
# . $var/dev.env  -- prepares a shell to talk to the development registry
export VACANCY_URL=https://127.0.0.1:$port
export VACANCY_CACERT=$var/tls/ca.pem
export VACANCY_MUNICIPALITY_AGS=$DEMO_MUNICIPALITY
export VACANCY_COUNTY_SCOPE=$DEMO_COUNTY
export VACANCY_TOKEN_MUNICIPALITY=$VACANCY_TOKEN_MUNICIPALITY
export VACANCY_TOKEN_COUNTY=$VACANCY_TOKEN_COUNTY
export VACANCY_TOKEN_INVESTOR=$VACANCY_TOKEN_INVESTOR
export VACANCY_TOKEN=\${VACANCY_TOKEN:-\$VACANCY_TOKEN_INVESTOR}
export VACANCY_DEMO_RECORD_ID=$demo
# client certificates instead of tokens: curl --cert \$VACANCY_CERT_COUNTY --key ...
export VACANCY_CERT_MUNICIPALITY=$var/tls/client-municipality.pem
export VACANCY_KEY_MUNICIPALITY=$var/tls/client-municipality.key
export VACANCY_CERT_COUNTY=$var/tls/client-county.pem
export VACANCY_KEY_COUNTY=$var/tls/client-county.key
export VACANCY_CERT_INVESTOR=$var/tls/client-investor.pem
export VACANCY_KEY_INVESTOR=$var/tls/client-investor.key
export PATH=$ROOT/build/default:\$PATH
EOF
	)
}

setup() {
	local var bin port
	[ $# -ge 2 ] || die "usage: devenv.sh setup VARDIR VACANCYD [PORT]"
	mkdir -p "$1"
	var=$(cd "$1" && pwd) bin=$2 port=${3:-8443}
	[ -x "$bin" ] || die "$bin is not built"
	"$ROOT/deploy/pg.sh" init "$var/pg"
	"$ROOT/deploy/migrate.sh" "$("$ROOT/deploy/pg.sh" conninfo "$var/pg")"
	"$ROOT/deploy/devcerts.sh" "$var/tls" \
		"municipality:$DEMO_MUNICIPALITY:Annaberg-Buchholz (demo certificate)" \
		"county:$DEMO_COUNTY:Landratsamt Erzgebirgskreis (demo certificate)" \
		"investor::Investor portal (demo certificate)"
	write_config "$var" "$port"
	"$bin" -n -f "$var/vacancyd.conf" >/dev/null
	make_tokens "$var" "$bin"
	write_env "$var" "$port"
}

DAEMON_PID=
VAR=$ROOT/var

# stops the daemon (if it still runs) and then the private cluster
stop_all() {
	if [ -n "$DAEMON_PID" ]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null || true
		wait "$DAEMON_PID" 2>/dev/null || true
	fi
	"$ROOT/deploy/pg.sh" stop "$VAR/pg" || true
}

run() {
	local bin=$1 port=${VACANCY_PORT:-8443}
	setup "$VAR" "$bin" "$port"
	"$bin" -f "$VAR/vacancyd.conf" &
	DAEMON_PID=$!
	# Ctrl-C reaches the daemon too (same process group): it drains and
	# exits, then stop_all stops the cluster.
	trap stop_all EXIT
	trap 'exit 0' INT TERM
	local var=$VAR
	for _ in $(seq 1 50); do
		curl -fsS --cacert "$var/tls/ca.pem" "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
		kill -0 "$DAEMON_PID" 2>/dev/null || die "vacancyd exited; see the messages above"
		sleep 0.2
	done
	load_demo "$var" "$bin" "$(dirname "$bin")/vacancy" "$port"
	write_env "$var" "$port"
	# shellcheck disable=SC1091
	. "$var/dev.env"
	cat >&2 <<EOF

  vacancyd is running on $VACANCY_URL (Ctrl-C stops it and the database).
  In another shell:

    . var/dev.env
    curl --cacert \$VACANCY_CACERT \$VACANCY_URL/healthz
    curl --cacert \$VACANCY_CACERT -H "Authorization: Bearer \$VACANCY_TOKEN_INVESTOR" \\
         -H 'Accept: application/json' \$VACANCY_URL/v1/records/\$VACANCY_DEMO_RECORD_ID
    curl --cacert \$VACANCY_CACERT --cert \$VACANCY_CERT_COUNTY --key \$VACANCY_KEY_COUNTY \\
         -H 'Accept: application/json' \$VACANCY_URL/v1/municipalities?region=14521
    vacancy get \$VACANCY_DEMO_RECORD_ID              # as investor (VACANCY_TOKEN)
    VACANCY_TOKEN=\$VACANCY_TOKEN_COUNTY vacancy get \$VACANCY_DEMO_RECORD_ID --json
    vacancy search --object-type RETAIL --sort AREA_DESC     # what investors find
    vacancy export --geojson leerstand.geojson               # the same as a GIS layer
    vacancy feed                                             # the change feed
    VACANCY_TOKEN=\$VACANCY_TOKEN_COUNTY vacancy report      # the county's overview

EOF
	wait "$DAEMON_PID" || true
}

case ${1:-} in
setup)
	shift
	setup "$@"
	;;
run)
	shift
	[ $# -eq 1 ] || die "usage: devenv.sh run VACANCYD"
	run "$1"
	;;
*)
	sed -n '2,13s/^# \{0,1\}//p' "$0" >&2
	exit 2
	;;
esac
