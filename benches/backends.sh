#!/usr/bin/env bash
# The two store backends side by side: `pressfeed import` of a generated corpus into an
# empty store (a SQLite data directory against a fresh database on a PostgreSQL cluster
# started here with durable commits), then full rebuilds of the 20-section benchmark site
# from that store (`pressfeed build --out DIR`: every section's query, RSS + Atom + JSON
# Feed, their gzip and brotli variants, the files written, the validators saved). Rounds
# are interleaved, SQLite and PostgreSQL taking turns going first, so that a machine
# getting busier or quieter hits both. Prints each round, then the medians and the
# PostgreSQL/SQLite ratios against issue 16's targets (≤ 2× for both).
#
#   bash benches/backends.sh                                  # 100,000 articles, 3 imports, 5 rebuilds
#   ARTICLES=20000 IMPORTS=1 REBUILDS=3 bash benches/backends.sh
#
# Needs root (tests/postgres/start.sh runs initdb as the postgres user) and Debian's
# postgresql. About 5 minutes for 100,000 articles on 2 quiet cores; the corpus (~450 MB)
# and two stores at a time (~1 GB each) sit in a temporary directory on the root disk (not
# a tmpfs: fsync should cost what it costs), removed on exit with the cluster.
#
# Serving is not measured: requests are answered from the catalog in memory, whatever the
# backend (see serve-vs-nginx.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=${ARTICLES:-100000}
IMPORTS=${IMPORTS:-3}
REBUILDS=${REBUILDS:-5}

[ "$(id -u)" = 0 ] || {
  echo "backends.sh: run as root (tests/postgres/start.sh needs it)" >&2
  exit 1
}
# pressfeed-corpus: the generator of the workspace (corpus/), a development tool.
cargo build --release --quiet -p pressfeed -p pressfeed-corpus
bin=$PWD/target/release/pressfeed
corpus=$PWD/target/release/pressfeed-corpus

work=$(mktemp -d)
# Its own directory, not under $work: start.sh hands it to the postgres user.
pg_state=$(mktemp -d)
cleanup() {
  bash tests/postgres/stop.sh "$pg_state" || true
  rm -rf "$work" "$pg_state"
}
trap cleanup EXIT

source benches/site.sh
write_site "$work/feeds" 18091
echo "== $(date -u +%H:%M) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg); corpus of $ARTICLES articles"
"$corpus" --articles "$ARTICLES" --sections 20 >"$work/articles.ndjson"
echo "   $(du -m "$work/articles.ndjson" | cut -f1) MB"

bash tests/postgres/start.sh "$pg_state" durable
cluster=$(cat "$pg_state/url") # postgres://pressfeed@127.0.0.1:PORT/postgres
db_url() { echo "${cluster%/*}/$1"; }
psql_at() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
# The cluster's WAL position, and the MB of WAL written since one: what a replica or an
# archive of the database would have to ship.
wal_now() { psql_at "$cluster" -c "SELECT pg_current_wal_lsn()"; }
wal_mb_since() { psql_at "$cluster" -c "SELECT round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$1') / 1048576.0, 1)"; }

# Seconds (3 decimals) that the command took; its output goes to $work/last.log.
timed() {
  local start end
  start=$(date +%s%N)
  "$@" >"$work/last.log" 2>&1 || {
    echo "failed: $*" >&2
    tail -20 "$work/last.log" >&2
    exit 1
  }
  end=$(date +%s%N)
  echo "$(((end - start) / 1000000))" | awk '{printf "%.3f", $1 / 1000}'
}

# results: "what backend seconds" lines.
results=$work/results
: >"$results"
record() { # what backend seconds
  echo "$1 $2 $3" >>"$results"
}

import_sqlite() { # round
  local data=$work/sqlite-$1
  sync
  local s
  s=$(timed "$bin" --feeds "$work/feeds" --data "$data" import "$work/articles.ndjson")
  grep -q "imported $ARTICLES articles, 0 bad lines" "$work/last.log" || {
    cat "$work/last.log"
    exit 1
  }
  record import sqlite "$s"
  # What the import left the disk to write; SQLite checkpoints as it goes, so little.
  local f
  f=$(timed sync)
  record flush sqlite "$f"
  echo "   SQLite     import ${s} s, then sync ${f} s; $(du -sm "$data" | cut -f1) MB"
}

import_postgres() { # round
  local db=import_$1
  psql_at "$cluster" -c "CREATE DATABASE $db"
  sync
  local s wal
  wal=$(wal_now)
  s=$(timed "$bin" --feeds "$work/feeds" --store "$(db_url "$db")" import "$work/articles.ndjson")
  wal=$(wal_mb_since "$wal")
  grep -q "imported $ARTICLES articles, 0 bad lines" "$work/last.log" || {
    cat "$work/last.log"
    exit 1
  }
  record import postgres "$s"
  # PostgreSQL's commits wait for the WAL only; the tables' pages are written at the next
  # checkpoint, which would otherwise land in the next measurement.
  local f
  f=$(timed bash -c "psql -X -q -v ON_ERROR_STOP=1 '$(db_url "$db")' -c CHECKPOINT && sync")
  record flush postgres "$f"
  local mb
  mb=$(psql_at "$(db_url "$db")" -c "SELECT pg_database_size(current_database()) >> 20")
  echo "   PostgreSQL import ${s} s, then CHECKPOINT + sync ${f} s; $mb MB, $wal MB of WAL"
}

drop_store() { # backend round
  case $1 in
  sqlite) rm -rf "$work/sqlite-$2" ;;
  postgres) psql_at "$cluster" -c "DROP DATABASE import_$2" ;;
  esac
}

echo "== import of $ARTICLES articles into an empty store, $IMPORTS rounds"
for round in $(seq "$IMPORTS"); do
  echo "-- round $round ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1 /proc/loadavg))"
  if [ $((round % 2)) = 1 ]; then order="sqlite postgres"; else order="postgres sqlite"; fi
  for backend in $order; do "import_$backend" "$round"; done
  # The last round's stores serve the rebuilds; the others go now (disk).
  if [ "$round" != "$IMPORTS" ]; then
    drop_store sqlite "$round"
    drop_store postgres "$round"
  fi
done

# The stores the rebuilds read.
sqlite_at=(--data "$work/sqlite-$IMPORTS")
postgres_at=(--store "$(db_url "import_$IMPORTS")")
# What autovacuum would do soon after a bulk load, done now so that it does not run during
# the rebuilds: the feed query's plan wants the tables' statistics.
psql_at "$(db_url "import_$IMPORTS")" -c "VACUUM ANALYZE"

build() { # backend round
  local at
  case $1 in
  sqlite) at=("${sqlite_at[@]}") ;;
  postgres) at=("${postgres_at[@]}") ;;
  esac
  rm -rf "$work/out"
  sync
  local s
  s=$(timed "$bin" --feeds "$work/feeds" "${at[@]}" build --out "$work/out")
  grep -q "^wrote [0-9]* files" "$work/last.log" || {
    cat "$work/last.log"
    exit 1
  }
  echo "$s"
}

# The first build seeds the store's sections from feeds/sections and saves every feed's
# bytes; later ones find the bytes saved and only compare. Timed, not in the medians.
echo "== first build after the import (seeds the sections, saves every feed)"
for backend in sqlite postgres; do
  wal=$(wal_now)
  s=$(build "$backend")
  record first "$backend" "$s"
  case $backend in
  sqlite) echo "   $backend ${s} s" ;;
  postgres) echo "   $backend ${s} s; $(wal_mb_since "$wal") MB of WAL (the saved feeds)" ;;
  esac
done
# What one section's feeds weigh, in each coding: what a save of a rebuilt section writes.
for format in rss atom json; do
  printf '   section-01.%s: identity %s KB, gzip %s KB, brotli %s KB\n' "$format" \
    $(($(stat -c %s "$work/out/feeds/section-01.$format") >> 10)) \
    $(($(stat -c %s "$work/out/feeds/section-01.$format.gz") >> 10)) \
    $(($(stat -c %s "$work/out/feeds/section-01.$format.br") >> 10))
done

echo "== full rebuild of 20 sections, $REBUILDS rounds"
for round in $(seq "$REBUILDS"); do
  if [ $((round % 2)) = 1 ]; then order="sqlite postgres"; else order="postgres sqlite"; fi
  line="-- round $round:"
  for backend in $order; do
    s=$(build "$backend")
    record rebuild "$backend" "$s"
    line+=" $backend ${s} s"
  done
  echo "$line"
done

# One section's feed query on PostgreSQL as the planner runs it: where a slow rebuild would
# be.
echo "== the feed query of section-01 on PostgreSQL (EXPLAIN ANALYZE)"
psql_at "$(db_url "import_$IMPORTS")" -c "EXPLAIN (ANALYZE, BUFFERS)
  SELECT s.article_id, a.item, a.item_summary, a.item_body
  FROM article_sections s JOIN articles a ON a.id = s.article_id
  WHERE s.section = ANY('{section-01}') AND s.published_at <= $(date +%s)000
    AND a.item IS NOT NULL
  ORDER BY s.published_at DESC, s.article_id DESC LIMIT 50" | sed 's/^/   /'
# And the article count the scheduler reads for its metric after every rebuild.
echo "== the article count after each rebuild on PostgreSQL (EXPLAIN ANALYZE)"
psql_at "$(db_url "import_$IMPORTS")" -c "EXPLAIN (ANALYZE, BUFFERS) SELECT COUNT(*) FROM articles" |
  sed 's/^/   /'

median() { # what backend
  awk -v w="$1" -v b="$2" '$1 == w && $2 == b {print $3}' "$results" | sort -n |
    awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
all() { # what backend
  awk -v w="$1" -v b="$2" '$1 == w && $2 == b {print $3}' "$results" | paste -sd, | sed 's/,/, /g'
}

echo
echo "== $(date -u +%H:%M) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| what | SQLite: median (rounds) | PostgreSQL: median (rounds) | ratio | target |"
echo "|---|---|---|---|---|"
row() { # what label target
  local s p
  s=$(median "$1" sqlite)
  p=$(median "$1" postgres)
  awk -v l="$2" -v s="$s" -v p="$p" -v t="$3" -v sa="$(all "$1" sqlite)" -v pa="$(all "$1" postgres)" \
    'BEGIN {
       r = p / s
       verdict = t == "" ? "" : sprintf("≤ %s×: %s", t, r <= t ? "met" : "not met")
       printf "| %s | %.2f s (%s) | %.2f s (%s) | %.2f | %s |\n", l, s, sa, p, pa, r, verdict
     }'
}
row import "import of $ARTICLES articles into an empty store" 2
row flush "then writing out what the import left (sync; CHECKPOINT + sync)" ""
row first "first build after the import" ""
row rebuild "full rebuild, 20 sections, \`build --out\`" 2
