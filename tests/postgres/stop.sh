#!/usr/bin/env bash
# Stops the cluster tests/postgres/start.sh started in STATE_DIR, if it runs.
set -uo pipefail
state=${1:?usage: stop.sh STATE_DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -f "$state/data/postmaster.pid" ] || exit 0
runuser -u postgres -- "$bin/pg_ctl" -D "$state/data" -m fast -w stop >/dev/null
