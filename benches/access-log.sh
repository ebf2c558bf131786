#!/usr/bin/env bash
# What the access log costs: `pressfeed serve` without and with `--access-log` (to a file),
# side by side on one store, under serve-vs-nginx.sh's wrk runs of the 200 identity and the
# 304 If-None-Match of section-01.rss, interleaved in rounds. Prints req/s, p50 and p99 of
# each and the ratio with/without (of the median req/s over the rounds); issue 20's target
# is 0.8 or more. After each run with the log, its lines are counted (once the writer's
# interval has passed) and the file emptied; the lines dropped at a full buffer are read
# from /metrics at the end.
#
#   bash benches/access-log.sh                    # 20,000 articles, 3 rounds of 5 s per case
#   ROUNDS=1 DURATION=3s bash benches/access-log.sh
#
# The first run imports the store (see benches/common.sh); later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
ARTICLES=${ARTICLES:-20000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-64}
FEED=section-01.rss
source benches/common.sh
source benches/wrk.sh

setup_store
off_port=$PORT
on_port=$((PORT + 1))
start_server
PORT=$on_port start_server --access-log "$work/access.log"
echo "== serving $FEED ($(curl -s "http://127.0.0.1:$off_port/feeds/$FEED" | wc -c) bytes) on :$off_port without the access log, on :$on_port with it"

cases=(plain inm)

declare -A result
echo "== wrk -t2 -c$CONNECTIONS -d$DURATION, $ROUNDS rounds, interleaved"
for round in $(seq "$ROUNDS"); do
  for c in "${cases[@]}"; do
    for log in off on; do
      port=$([ $log = off ] && echo "$off_port" || echo "$on_port")
      IFS='|' read -r -a extra <<<"$(args_for "$c" "$port")"
      line=$(run_wrk "$port" "${extra[@]}")
      result[$log,$c]+="$line"$'\n'
      logged=""
      if [ $log = on ]; then
        # The writer flushes every second: wait for this run's last lines.
        sleep 1.5
        logged=", $(wc -l < "$work/access.log") lines logged"
        : > "$work/access.log"
      fi
      echo "   round $round $(describe "$c") log $log: $line$logged"
      if [ "${line##* }" != 0 ]; then echo "errors answered; stopping"; exit 1; fi
    done
  done
done

ratio_table on off
echo "(latencies in ms, medians over rounds; ratio = with the log / without, target >= 0.8)"
curl -s "http://127.0.0.1:$on_port/metrics" | grep '^pressfeed_access_log_dropped_lines_total' |
  sed 's/^/lines dropped at a full buffer: /'
