#!/usr/bin/env bash
# devcerts.sh: development TLS material for vacancyd (never for production).
#
# Usage: deploy/devcerts.sh DIR
#
# Makes, in DIR:
#   ca.key, ca.pem          a development CA: EC P-256, CN "vacancyd development
#                           CA", valid 10 years
#   server.key, server.pem  a server certificate signed by that CA: EC P-256,
#                           CN localhost, subjectAltName DNS:localhost,
#                           IP:127.0.0.1, IP:::1, extendedKeyUsage serverAuth,
#                           basicConstraints CA:FALSE, valid 825 days
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

if [[ $# -ne 1 || -z $1 || $1 == -h || $1 == --help ]]; then
    sed -n '4s/^# \{0,1\}//p' "$0" >&2
    exit 2
fi
command -v openssl >/dev/null || die "openssl not found: run deploy/install-deps.sh"
DIR=$1
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

make_server() {
    cat >"$tmp/server.cnf" <<EOF
[req]
distinguished_name = dn
prompt             = no
[dn]
CN = localhost
[v3_server]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid, issuer
EOF
    new_key "$tmp/server.key"
    openssl req -new -config "$tmp/server.cnf" -key "$tmp/server.key" \
        -out "$tmp/server.csr" 2>"$tmp/err" ||
        die "could not create the server certificate request: $(cat "$tmp/err")"
    openssl x509 -req -in "$tmp/server.csr" -CA "$CA_PEM" -CAkey "$CA_KEY" \
        -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 \
        -extfile "$tmp/server.cnf" -extensions v3_server -out "$tmp/server.pem" 2>"$tmp/err" ||
        die "could not sign the server certificate: $(cat "$tmp/err")"
    chmod 0644 "$tmp/server.pem"
    mv -f -- "$tmp/server.key" "$SRV_KEY"
    mv -f -- "$tmp/server.pem" "$SRV_PEM"
    msg "created the server certificate $SRV_PEM for localhost (valid until $(not_after "$SRV_PEM"))"
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

for k in "$CA_KEY" "$SRV_KEY"; do
    if [[ $(stat -c %a -- "$k") != 600 ]]; then chmod 0600 -- "$k"; fi
done

if ! out=$(openssl verify -CAfile "$CA_PEM" "$SRV_PEM" 2>&1); then
    die "verification failed: $out"
fi
if ((changed == 0)); then
    msg "up to date in $DIR (server certificate valid until $(not_after "$SRV_PEM"))"
fi
