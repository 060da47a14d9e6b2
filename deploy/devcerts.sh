#!/usr/bin/env bash
# devcerts.sh: development TLS material for vacancyd (never for production).
#
# Usage: deploy/devcerts.sh DIR [ROLE:SCOPE:NAME ...]
#
# Makes, in DIR:
#   ca.key, ca.pem          a development CA: EC P-256, CN "vacancyd development
#                           CA", valid 10 years
#   server.key, server.pem  a server certificate signed by that CA: EC P-256,
#                           CN localhost, subjectAltName DNS:localhost,
#                           IP:127.0.0.1, IP:::1, extendedKeyUsage serverAuth,
#                           basicConstraints CA:FALSE, valid 825 days
#   client-ROLE.key, client-ROLE.pem   for each ROLE:SCOPE:NAME: a client
#                           certificate signed by that CA (the development
#                           stand-in for the county's CA): CN NAME,
#                           subjectAltName URI urn:vacancyd:ROLE:SCOPE (the
#                           claim vacancyd reads), extendedKeyUsage
#                           clientAuth, valid 825 days
# Idempotent: valid existing files are kept as they are. The CA is made anew
# (and so the server certificate) when it is missing, unreadable, does not match
# its key or expires within 30 days; the server certificate when it is missing,
# does not match its key or the CA, lacks a name above, or expires within 30
# days. Keys are mode 0600. Ends with `openssl verify -CAfile ca.pem server.pem`.
set -euo pipefail

PROG=devcerts
RENEW_SECONDS=$((30 * 24 * 3600))
CA_CN="vacancyd development CA"

msg() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { msg "error: $*"; exit 1; }

if [[ $# -lt 1 || -z $1 || $1 == -h || $1 == --help ]]; then
    sed -n '4s/^# \{0,1\}//p' "$0" >&2
    exit 2
fi
command -v openssl >/dev/null || die "openssl not found: run deploy/install-deps.sh"
DIR=$1
shift
CLIENTS=("$@")
for c in "${CLIENTS[@]}"; do
    [[ $c =~ ^(municipality|county|investor):[0-9]{0,8}:[^:]+$ ]] ||
        die "a client is ROLE:SCOPE:NAME (ROLE municipality, county or investor), not '$c'"
done
mkdir -p -- "$DIR"
DIR=$(realpath -- "$DIR")
CA_KEY=$DIR/ca.key CA_PEM=$DIR/ca.pem
SRV_KEY=$DIR/server.key SRV_PEM=$DIR/server.pem

tmp=$(mktemp -d "$DIR/.devcerts.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# key_matches KEY CERT: the certificate is for that private key.
key_matches() {
    local a b
    a=$(openssl pkey -in "$1" -pubout 2>/dev/null) || return 1
    b=$(openssl x509 -in "$2" -noout -pubkey 2>/dev/null) || return 1
    [[ -n $a && $a == "$b" ]]
}

not_expiring() { openssl x509 -in "$1" -noout -checkend "$RENEW_SECONDS" >/dev/null 2>&1; }

ca_ok() {
    [[ -s $CA_KEY && -s $CA_PEM ]] || return 1
    key_matches "$CA_KEY" "$CA_PEM" || return 1
    not_expiring "$CA_PEM" || return 1
    openssl verify -CAfile "$CA_PEM" "$CA_PEM" >/dev/null 2>&1
}

server_ok() {
    [[ -s $SRV_KEY && -s $SRV_PEM ]] || return 1
    key_matches "$SRV_KEY" "$SRV_PEM" || return 1
    not_expiring "$SRV_PEM" || return 1
    openssl verify -CAfile "$CA_PEM" -purpose sslserver "$SRV_PEM" >/dev/null 2>&1 || return 1
    local san
    san=$(openssl x509 -in "$SRV_PEM" -noout -ext subjectAltName 2>/dev/null) || return 1
    [[ $san == *"DNS:localhost"* && $san == *"IP Address:127.0.0.1"* &&
        $san == *"IP Address:0:0:0:0:0:0:0:1"* ]]
}

new_key() { # FILE
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$1" 2>/dev/null) || die "could not generate an EC P-256 key"
}

not_after() { openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//'; }

make_ca() {
    cat >"$tmp/ca.cnf" <<EOF
[req]
distinguished_name = dn
prompt             = no
x509_extensions    = v3_ca
[dn]
CN = $CA_CN
[v3_ca]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
EOF
    new_key "$tmp/ca.key"
    openssl req -x509 -new -config "$tmp/ca.cnf" -key "$tmp/ca.key" -sha256 \
        -days 3650 -set_serial "0x$(openssl rand -hex 16)" -out "$tmp/ca.pem" 2>"$tmp/err" ||
        die "could not create the CA certificate: $(cat "$tmp/err")"
    chmod 0644 "$tmp/ca.pem"
    mv -f -- "$tmp/ca.key" "$CA_KEY"
    mv -f -- "$tmp/ca.pem" "$CA_PEM"
    msg "created the development CA $CA_PEM (valid until $(not_after "$CA_PEM"))"
}

# make_leaf WHAT CN PURPOSE SAN CERT KEY: a key and a certificate signed by
# the CA (extendedKeyUsage PURPOSE, subjectAltName SAN), written to CERT, KEY.
make_leaf() {
    cat >"$tmp/leaf.cnf" <<EOF
[req]
distinguished_name = dn
prompt             = no
utf8               = yes
[dn]
CN = $2
[v3_leaf]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = $3
subjectAltName         = $4
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid, issuer
EOF
    new_key "$tmp/leaf.key"
    openssl req -new -config "$tmp/leaf.cnf" -key "$tmp/leaf.key" \
        -out "$tmp/leaf.csr" 2>"$tmp/err" ||
        die "could not create the $1 certificate request: $(cat "$tmp/err")"
    openssl x509 -req -in "$tmp/leaf.csr" -CA "$CA_PEM" -CAkey "$CA_KEY" \
        -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 \
        -extfile "$tmp/leaf.cnf" -extensions v3_leaf -out "$tmp/leaf.pem" 2>"$tmp/err" ||
        die "could not sign the $1 certificate: $(cat "$tmp/err")"
    chmod 0644 "$tmp/leaf.pem"
    mv -f -- "$tmp/leaf.key" "$6"
    mv -f -- "$tmp/leaf.pem" "$5"
    msg "created the $1 certificate $5 for $4 (valid until $(not_after "$5"))"
}

make_server() {
    make_leaf server localhost serverAuth "DNS:localhost, IP:127.0.0.1, IP:::1" \
        "$SRV_PEM" "$SRV_KEY"
}

# client_ok ROLE URI: the client certificate is there, matches, names URI.
client_ok() {
    local key=$DIR/client-$1.key pem=$DIR/client-$1.pem san
    [[ -s $key && -s $pem ]] || return 1
    key_matches "$key" "$pem" || return 1
    not_expiring "$pem" || return 1
    openssl verify -CAfile "$CA_PEM" -purpose sslclient "$pem" >/dev/null 2>&1 || return 1
    san=$(openssl x509 -in "$pem" -noout -ext subjectAltName 2>/dev/null) || return 1
    [[ $san == *"URI:$2"* ]]
}

make_client() { # ROLE URI NAME
    make_leaf client "$3" clientAuth "URI:$2" "$DIR/client-$1.pem" "$DIR/client-$1.key"
}

changed=0
if ! ca_ok; then
    make_ca
    make_server
    changed=1
elif ! server_ok; then
    make_server
    changed=1
fi

for c in "${CLIENTS[@]}"; do
    role=${c%%:*} rest=${c#*:}
    scope=${rest%%:*} name=${rest#*:}
    if ((changed)) || ! client_ok "$role" "urn:vacancyd:$role:$scope"; then
        make_client "$role" "urn:vacancyd:$role:$scope" "$name"
        changed=1
    fi
    chmod 0600 -- "$DIR/client-$role.key"
done

for k in "$CA_KEY" "$SRV_KEY"; do
    if [[ $(stat -c %a -- "$k") != 600 ]]; then chmod 0600 -- "$k"; fi
done

if ! out=$(openssl verify -CAfile "$CA_PEM" "$SRV_PEM" 2>&1); then
    die "verification failed: $out"
fi
if ((changed == 0)); then
    msg "up to date in $DIR (server certificate valid until $(not_after "$SRV_PEM"))"
fi
