#!/usr/bin/env bash
# Restart benchmark: how soon a killed `pressfeed serve` answers a feed again, and is
# ready, with the feeds it saved in the store (every coding), and with only their
# validators saved (the first build must render and compress everything again). Prints
# milliseconds from spawn and the resident memory at ready.
#
#   bash benches/restart.sh                   # 20,000 articles in 20 sections, 3 restarts each
#   ARTICLES=5000 ROUNDS=1 bash benches/restart.sh
#
# Needs curl and python3. Only 127.0.0.1 is touched; each server is killed by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=${ARTICLES:-20000}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18089}

# pressfeed-corpus: the generator of the workspace (corpus/), a development tool.
cargo build --release --quiet -p pressfeed -p pressfeed-corpus
bin=$PWD/target/release/pressfeed
corpus=$PWD/target/release/pressfeed-corpus
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/feeds/sections"
grep -v '^seed_articles' feeds/site.toml > "$work/feeds/site.toml"
for i in $(seq -w 1 20); do
  printf 'slug = "section-%s"\ntitle = "Section %s"\nlink = "https://news.example/s%s/"\nschedule = "0 0 0 1 1 *"\n' \
    "$i" "$i" "$i" > "$work/feeds/sections/section-$i.toml"
done
"$corpus" --articles "$ARTICLES" --sections 20 > "$work/articles.ndjson"
"$bin" --feeds "$work/feeds" --data "$work/data" import "$work/articles.ndjson" > /dev/null 2>&1

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
status() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$1" || true; }

# Starts the server, polls a feed and /readyz, kills it with SIGKILL.
restart() {
  local start feed= ready=
  start=$(date +%s%N)
  "$bin" --feeds "$work/feeds" --data "$work/data" serve --listen "127.0.0.1:$PORT" > /dev/null 2>&1 &
  pid=$!
  while [ -z "$ready" ]; do
    if [ -z "$feed" ] && [ "$(status /feeds/section-01.rss)" = 200 ]; then feed=$(ms_since "$start"); fi
    if [ "$(status /readyz)" = 200 ]; then ready=$(ms_since "$start"); fi
  done
  local rss
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=
  echo "$1: first feed 200 after ${feed:-$ready} ms, ready after $ready ms, RSS $((rss / 1024)) MiB"
}

sql() { python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); r = c.execute(sys.argv[2]).fetchall(); c.commit(); print(*r)' "$work/data/pressfeed.sqlite3" "$1"; }

restart "first start, nothing saved"
for _ in $(seq "$ROUNDS"); do restart "restart, feeds saved"; done
sizes=$(sql "SELECT count(*), sum(length(identity)) >> 10, sum(length(gzip)) >> 10, sum(length(brotli)) >> 10 FROM feed_state")
for _ in $(seq "$ROUNDS"); do
  sql "UPDATE feed_state SET identity = NULL, gzip = NULL, brotli = NULL" > /dev/null
  restart "restart, only validators saved"
done
echo "saved: files, KiB identity, KiB gzip, KiB brotli: $sizes"
