#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests and benchmarks: initdb in STATE_DIR
# (made by the caller), owned by the unprivileged `postgres` user, listening on 127.0.0.1
# on a free port and a socket in STATE_DIR. Writes the URL of its maintenance database to
# STATE_DIR/url; tests/postgres/stop.sh STATE_DIR stops it, and start.sh STATE_DIR again
# starts the same cluster on the same port. Needs root (initdb refuses to run as root, so
# it runs as `postgres`) and Debian's postgresql package.
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
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "$mode" >"$state/mode"
fi
options="-p $port -k $state -c listen_addresses=127.0.0.1 -c max_connections=400"
if [ "$mode" != durable ]; then
  options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
runuser -u postgres -- "$bin/pg_ctl" -D "$state/data" -l "$state/log" -o "$options" -w start >/dev/null
echo "postgres://pressfeed@127.0.0.1:$port/postgres" >"$state/url"
