#!/usr/bin/env bash
# Peak memory of `pressfeed serve` with a 100,000-article store and every feed built (20
# sections × 3 formats × 3 codings), under wrk load: VmHWM of the server process, sampled
# with VmRSS every second. Issue 6's target: at most 150 MB.
#
#   bash benches/memory.sh                      # 100,000 articles, 30 s of load
#   ARTICLES=20000 DURATION=10s bash benches/memory.sh
#
# The first run imports the store (see benches/common.sh); later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30s}
LIMIT_MB=${LIMIT_MB:-150}
source benches/common.sh

# The large bodies are also kept in unnamed files for sendfile (src/zerocopy.rs): page
# cache, counted by the system but not in the process's VmRSS, so reported beside it.
body_files() {
  local f link total=0
  for f in /proc/"$server_pid"/fd/*; do
    link=$(readlink "$f" 2>/dev/null) || continue
    if [[ $link == *" (deleted)" || $link == /memfd:pressfeed-body* ]]; then
      total=$((total + $(stat -Lc %s "$f")))
    fi
  done
  echo "   files of the bodies sent with sendfile: $((total / 1048576)) MB (page cache, not in VmRSS)"
}

setup_store
start_server
read -r rss hwm < <(server_memory)
echo "== serving every feed: VmRSS $((rss / 1024)) MB, VmHWM $((hwm / 1024)) MB"
grep -E '^(RssAnon|RssFile|RssShmem)' "/proc/$server_pid/status" | tr -s ' \t' ' ' | sed 's/^/   /'
body_files

fetch_etags "$work/etags.lua"
write_wrk_script "$work/mix.lua"
sample_memory "$work/memory.txt" &
pids+=($!)
echo "== wrk -t2 -c64 -d$DURATION, every feed and coding, half of them revalidations"
ETAGS=$work/etags.lua wrk -t2 -c64 -d"$DURATION" -s "$work/mix.lua" "http://127.0.0.1:$PORT" |
  sed -n '/^status\|^socket\|^latency/p' | sed 's/^/   /'

read -r rss hwm < <(server_memory)
awk -v limit="$LIMIT_MB" -v hwm="$hwm" '
  {n++; if (n == 1 || $2 < min) min = $2; if ($2 > max) max = $2}
  END {
    printf "== VmRSS over %d samples: min %.0f MB, max %.0f MB\n", n, min / 1024, max / 1024
    printf "peak RSS (VmHWM) %.0f MB; target <= %d MB: %s\n", hwm / 1024, limit,
      (hwm / 1024 <= limit ? "met" : "MISSED")
  }' "$work/memory.txt"
grep -E '^(RssAnon|RssFile|RssShmem)' "/proc/$server_pid/status" | tr -s ' \t' ' ' | sed 's/^/   /'
body_files
