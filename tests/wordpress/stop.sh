#!/usr/bin/env bash
# Stops exactly the processes tests/wordpress/setup.sh started: the PIDs it recorded, each
# with its session (php -S workers, for one), and removes the WordPress config it wrote.
# The database stays for the next start.
#
#   tests/wordpress/stop.sh ENV_FILE|STATE_DIR
set -euo pipefail

arg=${1:-${PRESSFEED_WP_STATE:-/tmp/pressfeed-wordpress}}
if [ -f "$arg" ]; then
  state=$(sed -n 's/^WP_STATE=//p' "$arg")
else
  state=$arg
fi
pids="$state/pids"
if [ -s "$state/wp-config" ]; then
  rm -f "$(cat "$state/wp-config")" "$state/wp-config"
fi
[ -s "$pids" ] || exit 0

alive() { kill -0 "$1" 2>/dev/null; }

# Newest first: the web server goes before the database it uses.
tac "$pids" | while read -r pid name; do
  alive "$pid" || continue
  # setup.sh ran each under setsid, so its PID is also its session and group.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    echo "wordpress stop: $name ($pid) ignored TERM for 10 s; killing it" >&2
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
done
rm -f "$pids"
