#!/usr/bin/env bash
# Makes a throwaway PKI for the TLS tests (the Swift tests and the end-to-end scripts): a CA, a server
# certificate for 127.0.0.1/localhost signed by it, one for the name receiver.test only, a client certificate
# signed by it, and a second, foreign CA with a client certificate of its own. EC P-256 keys, one day of
# validity.
#   Tests/e2e/lib/make-pki.sh DIR
# Writes DIR/{ca,server,named-server,client,foreign-ca,foreign-client}.{pem,key}.
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca() {
    key "$1"
    openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 1 -subj "/CN=$2" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
leaf() { # name, CA, common name, extensions
    key "$1"
    openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr" 2>/dev/null
    printf '%s\n' "$4" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 1 -out "$1.pem" \
        -extfile "$1.ext" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}
ca ca "KataPulse test CA"
ca foreign-ca "Foreign test CA"
leaf server ca localhost "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
leaf named-server ca receiver.test "subjectAltName=DNS:receiver.test
extendedKeyUsage=serverAuth"
leaf client ca prometheus "extendedKeyUsage=clientAuth"
leaf foreign-client foreign-ca intruder "extendedKeyUsage=clientAuth"
rm -f ./*.srl
