#!/usr/bin/env bash
# install-deps.sh: install the Debian 12 packages vacancyd needs to build, run,
# test and benchmark. Idempotent: when everything is present it does nothing
# (one dpkg-query pass) and exits 0 at once.
#
# Usage: deploy/install-deps.sh [--check]
#   (no argument)  install whatever is missing (needs root when something is)
#   --check        install nothing; exit 0 if all is present, 1 otherwise
#
# When something is missing and we are not root, it prints the apt-get command
# to run and exits 1. Before PostgreSQL is first installed it writes
# `create_main_cluster = false` into /etc/postgresql-common/createcluster.conf
# so that Debian does not create and start a system cluster on port 5432:
# vacancyd uses its own private cluster (deploy/pg.sh).
set -euo pipefail

PROG=install-deps
PKGS=(
    # build: compiler and tools, headers of the libraries daemon and client link
    gcc make pkg-config libc6-dev git ca-certificates
    libssl-dev libevent-dev libpq-dev protobuf-c-compiler libprotobuf-c-dev
    libcurl4-openssl-dev libxml2-dev
    # runtime: TLS tooling, PostgreSQL 15 server and client with PostGIS
    openssl postgresql-15 postgresql-15-postgis-3 postgresql-client-15
    # test: CUnit, HTTP and protobuf tooling for fixtures, GIS data tools,
    # memory checking, formatting
    libcunit1-dev curl python3 python3-protobuf protobuf-compiler gdal-bin
    valgrind clang-format
    # bench: HTTP load generator, static-file reference server
    wrk nginx-light
)
CREATECLUSTER_CONF=/etc/postgresql-common/createcluster.conf

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { msg "error: $*"; exit 1; }

check_only=0
case "${1:-}" in
    "") ;;
    --check) check_only=1 ;;
    -h | --help) sed -n '2,14s/^# \{0,1\}//p' "$0" >&2; exit 0 ;;
    *) die "unknown argument '$1' (usage: deploy/install-deps.sh [--check])" ;;
esac

# Prints, one per line, the packages of PKGS that are not fully installed.
missing_pkgs() {
    local out line name status
    local -A ok=()
    # dpkg-query exits 1 when a package is unknown to dpkg: that is "missing".
    out=$(dpkg-query -W -f='${Package}\t${Status}\n' "${PKGS[@]}" 2>/dev/null || true)
    while IFS= read -r line; do
        name=${line%%$'\t'*}
        status=${line#*$'\t'}
        [[ $status == "install ok installed" ]] && ok[$name]=1
    done <<<"$out"
    for name in "${PKGS[@]}"; do
        [[ -n ${ok[$name]:-} ]] || printf '%s\n' "$name"
    done
}

command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script is for Debian 12"

mapfile -t missing < <(missing_pkgs)
if ((${#missing[@]} == 0)); then
    exit 0
fi

if ((check_only)); then
    msg "missing: ${missing[*]}"
    exit 1
fi

if ((EUID != 0)); then
    msg "missing packages: ${missing[*]}"
    msg "run as root:"
    printf '  apt-get update && apt-get install -y --no-install-recommends %s\n' "${missing[*]}" >&2
    exit 1
fi

# Debian creates and starts a cluster "main" on port 5432 when a server package
# is installed, unless createcluster.conf says otherwise. Set that before the
# first install of PostgreSQL; it is kept by the package's configuration
# handling (an existing local file wins over the packaged default).
disable_main_cluster() {
    mkdir -p "$(dirname "$CREATECLUSTER_CONF")"
    if [[ -f $CREATECLUSTER_CONF ]] &&
        grep -Eq '^[[:space:]]*create_main_cluster[[:space:]]*=[[:space:]]*(false|off|no|0)[[:space:]]*$' "$CREATECLUSTER_CONF"; then
        return 0
    fi
    if [[ -f $CREATECLUSTER_CONF ]] &&
        grep -Eq '^[[:space:]]*#?[[:space:]]*create_main_cluster[[:space:]]*=' "$CREATECLUSTER_CONF"; then
        sed -Ei 's/^[[:space:]]*#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' "$CREATECLUSTER_CONF"
    else
        printf 'create_main_cluster = false\n' >>"$CREATECLUSTER_CONF"
    fi
    msg "wrote 'create_main_cluster = false' to $CREATECLUSTER_CONF"
}

needs_pg=0
for p in "${missing[@]}"; do
    [[ $p == postgresql* ]] && needs_pg=1
done
if ((needs_pg)); then
    disable_main_cluster
fi

# The packages are for vacancyd's private servers (its own PostgreSQL
# cluster, the bench's own nginx): Debian must not start system services
# for them. policy-rc.d answering 101 forbids that during this install; an
# existing policy is left alone.
POLICY_RC=/usr/sbin/policy-rc.d
if [[ ! -e $POLICY_RC ]]; then
    printf '#!/bin/sh\n# written by vacancyd deploy/install-deps.sh for one install\nexit 101\n' >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
    trap 'rm -f "$POLICY_RC"' EXIT
fi

msg "installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1
apt-get update </dev/null >&2 || die "apt-get update failed"
apt-get install -y --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" </dev/null >&2 || die "apt-get install failed for: ${missing[*]}"

# Keep the setting for later server installs, whatever the packages did.
if ((needs_pg)); then
    disable_main_cluster
fi

mapfile -t still < <(missing_pkgs)
if ((${#still[@]} != 0)); then
    die "still missing after install: ${still[*]}"
fi
msg "installed: ${missing[*]}"
