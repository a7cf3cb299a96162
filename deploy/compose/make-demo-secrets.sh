#!/bin/sh
# Makes the secrets of the compose stack (docker-compose.yml) in deploy/compose/secrets/:
# a CA (ca.pem), the ingest port's certificate for the `sluiced` service name (server.pem,
# server.key) and a random admin token (admin.tokens, read by sluiced; admin.token, read
# by `sluice --token-file`). For trying the stack out only: the files are readable by the
# containers' user, and the CA's key is thrown away. Run it once before
# `docker compose up`; it keeps secrets that exist already.
#   deploy/compose/make-demo-secrets.sh
set -eu
dir="$(dirname "$0")/secrets"
mkdir -p "$dir"
cd "$dir"
if [ -f server.pem ] && [ -f admin.tokens ]; then
  echo "deploy/compose/secrets: present, kept"
  exit 0
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
  -subj "/CN=sluice compose demo CA" -keyout ca.key -out ca.pem 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=sluiced" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:sluiced,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
  > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 \
  -extfile server.ext -out server.pem 2>/dev/null
rm -f ca.key ca.srl server.csr server.ext
openssl rand -hex 32 > admin.token
cp admin.token admin.tokens
# The containers run as the image's `sluice` user, not as the user who ran this.
chmod 644 ca.pem server.pem server.key admin.token admin.tokens
echo "deploy/compose/secrets: made ca.pem, server.pem, server.key, admin.tokens, admin.token"
