#!/usr/bin/env bash
# Freshness on every replica under load: three `pressfeed serve` processes on one
# PostgreSQL store (a throwaway cluster started here, durable commits) of $ARTICLES
# generated articles, each under its own wrk (half revalidations of unchanged sections
# 05-20, half gzip 200s), while benches/load_writer.py streams article upserts (10/s) and
# section edits (one every 5 s) through the admin API, taking turns among the replicas, and
# follows every fifth upsert until it shows in the JSON Feed of every replica. Prints the
# publish-to-feed percentiles per replica and for the slowest replica of each upsert (issue
# 16's target: p99 ≤ 1 s on every replica), reader errors (must be 0), and whether every
# acknowledged article is in the store. Exits 1 on any error.
#
#   bash benches/replicas.sh                       # 60 s, 100,000 articles
#   SECONDS_OF_LOAD=20 ARTICLES=20000 bash benches/replicas.sh
#
# Needs root (tests/postgres/start.sh runs initdb as the postgres user), Debian's
# postgresql and wrk. Only 127.0.0.1 is touched; every process started here is stopped by
# PID on exit, and the cluster with them.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_OF_LOAD=${SECONDS_OF_LOAD:-60}
REPLICAS=${REPLICAS:-3}
[ "$(id -u)" = 0 ] || {
  echo "replicas.sh: run as root (tests/postgres/start.sh needs it)" >&2
  exit 1
}
source benches/common.sh

# The kernel's autogroup scheduling makes every session a scheduling group, and every
# PostgreSQL backend starts a session of its own (setsid). With the replicas and wrk
# keeping both cores busy in this script's session, a backend then waited 15-80 ms for a
# CPU at every wake-up (/proc/PID/schedstat), so every statement did: admin writes took
# seconds, some over 10 s. A database on a host of its own never meets this, so it is
# turned off for the run (as root) and put back on exit. AUTOGROUP=keep leaves it be.
autogroup=/proc/sys/kernel/sched_autogroup_enabled
autogroup_was=$(cat "$autogroup" 2>/dev/null || echo 0)
if [ "${AUTOGROUP:-off}" != keep ] && [ "$autogroup_was" = 1 ]; then
  echo 0 >"$autogroup"
  echo "== autogroup scheduling off for the run (AUTOGROUP=keep to leave it on)"
fi

# Its own directory, not under $work: start.sh hands it to the postgres user.
pg_state=$(mktemp -d)
trap 'cleanup; bash tests/postgres/stop.sh "$pg_state" || true; rm -rf "$pg_state"
  echo "$autogroup_was" >"$autogroup" 2>/dev/null || true' EXIT
bash tests/postgres/start.sh "$pg_state" durable
store=$(cat "$pg_state/url")

echo "== $(date -u +%H:%M) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== corpus of $ARTICLES articles into PostgreSQL"
write_site "$work/feeds" "$PORT"
"$corpus" --articles "$ARTICLES" --sections 20 |
  "$bin" --feeds "$work/feeds" --store "$store" import - | tail -1 | sed 's/^/   /'
psql -X -q -v ON_ERROR_STOP=1 "$store" -c "VACUUM ANALYZE"

bases=()
for i in $(seq 0 $((REPLICAS - 1))); do
  port=$((PORT + i))
  mkdir -p "$work/data-$i"
  PRESSFEED_ADMIN_TOKEN=$TOKEN RUST_LOG=pressfeed=warn "$bin" --feeds "$work/feeds" \
    --data "$work/data-$i" --store "$store" serve --listen "127.0.0.1:$port" \
    >/dev/null 2>"$work/replica-$i.log" &
  pids+=($!)
  bases+=("http://127.0.0.1:$port")
done
for base in "${bases[@]}"; do
  for _ in $(seq 300); do
    curl -sf -o /dev/null "$base/readyz" && break
    sleep 0.2
  done
  curl -sf -o /dev/null "$base/readyz" || {
    echo "$base did not get ready; the replicas' logs:"
    tail -n 5 "$work"/replica-*.log
    exit 1
  }
done
# The replicas agree on validators, so one replica's ETags revalidate on all of them.
fetch_etags "$work/etags.lua"
write_wrk_script "$work/mix.lua"

echo "== $SECONDS_OF_LOAD s: on each of $REPLICAS replicas wrk -t1 -c10 (half revalidations of"
echo "   unchanged sections 05-20, half gzip 200s); the admin writer (sections 01-04) takes"
echo "   turns among them and follows every fifth upsert on all of them"
joined=$(IFS=,; echo "${bases[*]}")
python3 benches/load_writer.py "$joined" "$TOKEN" "$SECONDS_OF_LOAD" >"$work/writer.txt" 2>&1 &
writer=$!
pids+=("$writer")
readers=()
for i in "${!bases[@]}"; do
  ETAGS=$work/etags.lua CODINGS=gzip REVALIDATE=0.5 FIRST_STABLE=5 \
    wrk -t1 -c10 -d"${SECONDS_OF_LOAD}s" --timeout 5s -s "$work/mix.lua" "${bases[$i]}" \
    >"$work/wrk-$i.txt" &
  readers+=($!)
  pids+=($!)
done
wait "${readers[@]}"
writer_status=0
wait "$writer" || writer_status=$?

failed=0
for i in "${!bases[@]}"; do
  echo "-- replica $i (${bases[$i]}), readers:"
  sed -n '/^status\|^socket\|^latency/p' "$work/wrk-$i.txt" | sed 's/^/   /'
  bad=$(awk '$1 == "status" && $2 !~ /^(200|304):$/ {n += $3} END {print n + 0}' "$work/wrk-$i.txt")
  sockets=$(awk '$1 == "socket" {print $3}' "$work/wrk-$i.txt")
  [ "$bad" = 0 ] && [ "$sockets" = 0 ] || failed=1
  # What the replica's scheduler did: how often it published, how many sections it built.
  curl -s "${bases[$i]}/metrics" | awk '
    /^pressfeed_rebuilds_total / {r = $2}
    /^pressfeed_section_build_duration_seconds_sum/ {s += $2}
    /^pressfeed_section_build_duration_seconds_count/ {n += $2}
    END {printf "   %d rebuilds, %d section builds (mean %.0f ms)\n", r, n, n ? 1000 * s / n : 0}'
done
echo "-- writer:"
sed 's/^/   /' "$work/writer.txt"
[ "$writer_status" = 0 ] || failed=1
if [ "$failed" = 0 ]; then echo "replicas: passed"; else echo "replicas: FAILED"; fi
exit "$failed"
