#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests and benchmarks: initdb in STATE_DIR
# (made by the caller), owned by the unprivileged `postgres` user, listening on 127.0.0.1
# on a free port and a socket in STATE_DIR. Writes the URL of its maintenance database to
# STATE_DIR/url; tests/postgres/stop.sh STATE_DIR stops it, and start.sh STATE_DIR again
# starts the same cluster on the same port. It serves TLS too, with a certificate for
# 127.0.0.1 and localhost signed by a CA of its own, made once with `openssl`, whose
# certificate is STATE_DIR/ca.pem (the tests of TLS to the store trust it); the URL in
# STATE_DIR/url connects in plain text. Needs root (initdb refuses to run as root, so it
# runs as `postgres`), Debian's postgresql package and openssl.
#
#   bash tests/postgres/start.sh STATE_DIR [durable]
#
# Without `durable` the cluster does not wait for the disk on commit (fsync off): the
# tests' data is thrown away, and a test run should not pay for durability. Benchmarks
# pass `durable`, so the figures are those of a real server.
set -euo pipefail
state=${1:?usage: start.sh STATE_DIR [durable]}
mode=${2:-}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/initdb" ] || {
  echo "start.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
}
command -v openssl >/dev/null || {
  echo "start.sh: openssl is not installed (apt-get install openssl)" >&2
  exit 1
}
id postgres >/dev/null 2>&1 || {
  echo "start.sh: no 'postgres' user (Debian's postgresql package makes it)" >&2
  exit 1
}
if [ -f "$state/url" ]; then
  port=$(sed -E 's|.*:([0-9]+)/.*|\1|' "$state/url")
  mode=$(cat "$state/mode")
else
  chown postgres "$state"
  runuser -u postgres -- "$bin/initdb" -D "$state/data" --auth=trust -U pressfeed \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  # The CA, and the server's certificate it signs: valid for ten years, so a long-lived
  # STATE_DIR (a benchmark's) never sees one expire.
  # openssl's chatter goes to a log, shown if it fails.
  quiet_openssl() { openssl "$@" 2>>"$state/openssl.log" || { cat "$state/openssl.log" >&2; exit 1; }; }
  ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  quiet_openssl req -x509 "${ec[@]}" -days 3650 -subj "/CN=pressfeed test CA" \
    -keyout "$state/ca.key" -out "$state/ca.pem"
  quiet_openssl req "${ec[@]}" -subj "/CN=localhost" \
    -keyout "$state/data/server.key" -out "$state/server.csr"
  quiet_openssl x509 -req -in "$state/server.csr" -CA "$state/ca.pem" -CAkey "$state/ca.key" \
    -CAcreateserial -days 3650 -out "$state/data/server.crt" -extfile <(
      printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
        "keyUsage=digitalSignature" "extendedKeyUsage=serverAuth"
    )
  rm "$state/server.csr"
  # PostgreSQL refuses a key that others may read.
  chown postgres "$state/data/server.key" "$state/data/server.crt"
  chmod 600 "$state/data/server.key"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "$mode" >"$state/mode"
fi
options="-p $port -k $state -c listen_addresses=127.0.0.1 -c max_connections=400"
# server.crt and server.key in the data directory are PostgreSQL's default files.
options+=" -c ssl=on"
if [ "$mode" != durable ]; then
  options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
runuser -u postgres -- "$bin/pg_ctl" -D "$state/data" -l "$state/log" -o "$options" -w start >/dev/null
echo "postgres://pressfeed@127.0.0.1:$port/postgres" >"$state/url"
