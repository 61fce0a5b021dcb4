#!/usr/bin/env bash
# Makes the certificates the mutual-TLS tests use, with openssl, in DIR (a temporary directory
# of the test): a CA and a server certificate it signs (localhost, 127.0.0.1), a client
# certificate it signs, and a second, unrelated CA with a client certificate of its own.
# EC P-256 keys, unencrypted PKCS#8 PEM; valid for 30 days.
set -euo pipefail
dir=$1
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() { # name subject
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 30 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() { # name subject ca extensions
    key "$1.key"
    openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
    printf '%s\n' "$4" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -days 30 -out "$1.pem" -extfile "$1.ext" 2>/dev/null
}
ca ca hookrelay-test-ca
ca other-ca hookrelay-other-ca
leaf server localhost ca "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf client hookrelay-test-client ca "extendedKeyUsage=clientAuth"
leaf other-client hookrelay-other-client other-ca "extendedKeyUsage=clientAuth"
