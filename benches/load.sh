#!/usr/bin/env bash
# Load: 60 s of wrk against `pressfeed serve` (100,000-article store, 20 sections), mixing
# revalidations (304s) and gzip 200s, while a second process (benches/load_writer.py)
# streams article upserts (10/s) and section edits (one every 5 s) through the admin API
# and follows every fifth upsert until it shows in its feed (publish-to-feed latency under
# load). Prints errors (must be 0), latency percentiles, the server's RSS over time, and
# checks that every acknowledged article is in the store at the end. Exits 1 on any error.
#
#   bash benches/load.sh                 # 60 s, 100,000 articles
#   SECONDS_OF_LOAD=20 ARTICLES=20000 bash benches/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_OF_LOAD=${SECONDS_OF_LOAD:-60}
P99_MS=${P99_MS:-100}
source benches/common.sh

setup_store
start_server
fetch_etags "$work/etags.lua"
write_wrk_script "$work/mix.lua"
sample_memory "$work/memory.txt" &
pids+=($!)

echo "== $SECONDS_OF_LOAD s: wrk -t2 -c32 (half revalidations of unchanged sections 05-20,"
echo "   half gzip 200s of any section) and the admin writer (sections 01-04)"
python3 benches/load_writer.py "http://127.0.0.1:$PORT" "$TOKEN" "$SECONDS_OF_LOAD" \
  > "$work/writer.txt" 2>&1 &
writer=$!
pids+=("$writer")
ETAGS=$work/etags.lua CODINGS=gzip REVALIDATE=0.5 FIRST_STABLE=5 \
  wrk -t2 -c32 -d"${SECONDS_OF_LOAD}s" --timeout 5s -s "$work/mix.lua" "http://127.0.0.1:$PORT" \
  > "$work/wrk.txt"
writer_status=0
wait "$writer" || writer_status=$?

sed -n '/^status\|^socket\|^latency/p' "$work/wrk.txt" | sed 's/^/   /'
sed 's/^/   /' "$work/writer.txt"

failed=0
bad_statuses=$(awk '$1 == "status" && $2 !~ /^(200|304):$/ {n += $3} END {print n + 0}' "$work/wrk.txt")
socket_errors=$(awk '$1 == "socket" {print $3}' "$work/wrk.txt")
p99=$(awk '$1 == "latency" {print $6}' "$work/wrk.txt")
echo "== reader errors: $bad_statuses bad statuses, $socket_errors socket errors"
[ "$bad_statuses" = 0 ] && [ "$socket_errors" = 0 ] || failed=1
if awk -v p="$p99" -v max="$P99_MS" 'BEGIN {exit !(p <= max)}'; then
  echo "== reader p99 $p99 ms: within the stated $P99_MS ms"
else
  echo "== reader p99 $p99 ms: over the stated $P99_MS ms"
  failed=1
fi
[ "$writer_status" = 0 ] || failed=1

echo "== server RSS (MB), one sample a second:"
awk '{printf "%s%.0f", (NR > 1 ? " " : "   "), $2 / 1024} END {print ""}' "$work/memory.txt"
awk '
  {n++; v[n] = $2; if ($3 > hwm) hwm = $3}
  END {
    k = int(n / 6); if (k < 1) k = 1
    for (i = 1; i <= k; i++) {first += v[i]; last += v[n - k + i]}
    printf "== RSS first sixth %.0f MB, last sixth %.0f MB (%+.0f%%), peak %.0f MB\n",
      first / k / 1024, last / k / 1024, (last - first) / first * 100, hwm / 1024
  }' "$work/memory.txt"

if [ "$failed" = 0 ]; then echo "load: passed"; else echo "load: FAILED"; fi
exit "$failed"
