#!/bin/sh
# Makes the certificates of the TLS tests in DIR with Debian's openssl: a CA (ca.pem), a
# server certificate it signs for 127.0.0.1 and localhost (server.pem, server.key), a
# client certificate it signs (client.pem, client.key), and an unrelated second CA
# (other-ca.pem) with a server and a client certificate of its own (other-server.*,
# other-client.*). Keys are unencrypted EC P-256; certificates last a day.
#   make_test_certs.sh DIR
set -eu
dir=$1
cd "$dir"

make_ca() {  # name
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj "/CN=sluice test $1" -keyout "$1.key" -out "$1.pem" 2>/dev/null
}

sign() {  # name ca extensions
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=sluice test $1" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 1 \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

server_ext='subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth'
client_ext='extendedKeyUsage=clientAuth'

make_ca ca
sign server ca "$server_ext"
sign client ca "$client_ext"
make_ca other-ca
sign other-server other-ca "$server_ext"
sign other-client other-ca "$client_ext"
