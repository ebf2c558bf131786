#!/usr/bin/env bash
# Feeds built on demand (`[feeds]`, docs/feeds.md) on the benchmark store: 100,000
# articles whose tags are rewritten to TAGS distinct tags (every one used, a few used a
# lot) and AUTHORS authors. Prints, for BENCHMARKS.md:
#   1. cold tag feeds: COLD requests one after the other, each for a tag not built yet
#      (the build, its three codings and the validators' agreement in the store included):
#      p50, p99, max;
#   2. warm tag feeds against section feeds: wrk on WARM tag feeds already built, then on
#      the 20 sections' feeds, alternately, ROUNDS times each; req/s and the ratio of
#      the medians;
#   3. serve's memory under wrk requesting random tags of all TAGS for LOAD_SECONDS (cold
#      builds, 503s past the bound, evictions), against 150 MB + the cache budget;
#   4. startup (spawn to /readyz) and memory at ready with 1,000 / 10,000 / 100,000 tags;
#   5. a flood of UNKNOWN distinct tags no article has, beside readers of section feeds:
#      the sections' req/s and p99 beside the flood and beside the same load of warm tag
#      feeds (so only the names differ), serve's memory before and after, and the
#      cache's bytes and builds (which must not move).
#
#   bash benches/on-demand.sh
#   ARTICLES=20000 TAGS=5000 STARTUP_TAGS="1000 5000" bash benches/on-demand.sh
#   PHASES="1 2" bash benches/on-demand.sh     # only the cold and warm figures
#
# Each store is imported once per (articles, tags) and kept in
# target/tmp/bench-on-demand-ARTICLES-TAGS (about 1 GB each); each run serves a copy.
# Needs wrk, curl and python3. Only 127.0.0.1 is touched; every server is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=${ARTICLES:-100000}
TAGS=${TAGS:-20000}
AUTHORS=${AUTHORS:-2000}
COLD=${COLD:-1000}
WARM=${WARM:-200}
ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-10}
LOAD_SECONDS=${LOAD_SECONDS:-30}
STARTUP_TAGS=${STARTUP_TAGS:-1000 10000 100000}
UNKNOWN=${UNKNOWN:-10000}
PHASES=${PHASES:-1 2 3 4 5}
PORT=${PORT:-18092}
CACHE_BYTES=$((256 << 20))

cargo build --release --quiet -p pressfeed -p pressfeed-corpus
bin=$PWD/target/release/pressfeed
corpus=$PWD/target/release/pressfeed-corpus
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

write_site() { # dir
  mkdir -p "$1/sections"
  cat > "$1/site.toml" <<EOF
title = "Benchmark"
url = "https://asianlite.example/"
feed_base_url = "http://127.0.0.1:$PORT/feeds/"
default_author = "Desk"

[feeds]
limit = 50
cache_bytes = $CACHE_BYTES
EOF
  for i in $(seq -w 1 20); do
    printf 'slug = "section-%s"\ntitle = "Section %s"\nlink = "https://asianlite.example/s%s/"\nlimit = 50\n' \
      "$i" "$i" "$i" > "$1/sections/section-$i.toml"
  done
}

# The corpus with its tags and authors rewritten: article n is tagged `Topic n mod TAGS`
# (so every tag is used) and 0–3 more drawn by a Zipf-like law (a few tags on thousands
# of articles), and written by one of AUTHORS.
retag() { # tags
  python3 -c '
import json, random, sys
tags, authors = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(17)
for n, line in enumerate(sys.stdin):
    a = json.loads(line)
    picked = ["Topic %d" % (n % tags)]
    for _ in range(r.randrange(4)):
        picked.append("Topic %d" % min(tags - 1, int(r.paretovariate(1.1)) - 1))
    a["tags"] = sorted(set(picked))
    a["authors"] = [{"name": "Author %d" % r.randrange(authors)}]
    print(json.dumps(a))
' "$1" "$AUTHORS"
}

store_for() { # tags -> prints the cached store directory
  local cache=$PWD/target/tmp/bench-on-demand-$ARTICLES-$1
  if [ ! -f "$cache/imported" ]; then
    echo "== $ARTICLES articles with $1 tags into $cache (once)" >&2
    rm -rf "$cache"
    mkdir -p "$cache"
    write_site "$cache/feeds"
    "$corpus" --articles "$ARTICLES" --sections 20 | retag "$1" |
      "$bin" --feeds "$cache/feeds" --data "$cache/data" import - >/dev/null
    touch "$cache/imported"
  fi
  echo "$cache"
}

# Starts a server on a copy of the store for `tags`; sets $server_pid (so not in a
# subshell) and prints "ms_to_ready rss_kb".
start_server() { # tags
  local cache
  cache=$(store_for "$1")
  rm -rf "$work/data" "$work/feeds"
  cp -r "$cache/data" "$work/data"
  write_site "$work/feeds"
  local start=$(date +%s%N)
  "$bin" --feeds "$work/feeds" --data "$work/data" serve --listen "127.0.0.1:$PORT" \
    >/dev/null 2>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 3000); do
    if curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz"; then
      echo "$(( ($(date +%s%N) - start) / 1000000 )) $(awk '/^VmRSS:/ {print $2}' /proc/$server_pid/status)"
      return 0
    fi
    sleep 0.01
  done
  echo "the server did not get ready:" >&2
  tail -20 "$work/server.log" >&2
  exit 1
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

memory() { awk '/^VmRSS:/ {rss = $2} /^VmHWM:/ {hwm = $2} END {print rss, hwm}' "/proc/$server_pid/status"; }

# wrk's Lua: requests PATHS (a file of paths, one a line) at random, gzip, counting statuses.
cat > "$work/paths.lua" <<'EOF'
local paths = {}
for line in io.lines(os.getenv("PATHS")) do table.insert(paths, line) end
local threads = {}
function setup(thread) table.insert(threads, thread); thread:set("id", #threads) end
function init(args) math.randomseed(os.time() * 100 + id); statuses = {} end
function request()
  return wrk.format("GET", paths[math.random(#paths)], {["Accept-Encoding"] = "gzip"})
end
function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + n end
  end
  local line = ""
  for status, n in pairs(total) do line = line .. string.format(" %d:%d", status, n) end
  io.write(string.format("%.0f req/s, p99 %.2f ms, statuses%s\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(99) / 1000, line))
end
EOF
run_wrk() { # paths file, seconds
  PATHS=$1 wrk -t2 -c64 -d"$2s" -s "$work/paths.lua" "http://127.0.0.1:$PORT" | tail -1
}

echo "== $ARTICLES articles, $TAGS tags, $AUTHORS authors; $(nproc) cores; load $(cut -d' ' -f1 /proc/loadavg)"
start_server "$TAGS" > "$work/ready"
read -r ready rss < "$work/ready"
echo "ready in $ready ms, RSS $((rss / 1024)) MB"

phase() { [[ " $PHASES " == *" $1 "* ]]; }
for i in $(seq -w 1 20); do for f in rss atom json; do echo "/feeds/section-$i.$f"; done; done > "$work/sections.txt"

if phase 1; then
echo "== 1. cold tag feeds: $COLD one after the other"
python3 - "$PORT" "$TAGS" "$COLD" <<'EOF'
import http.client, random, sys, time
port, tags, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
picked = random.Random(5).sample(range(tags), count)
conn = http.client.HTTPConnection("127.0.0.1", port)
times, statuses = [], {}
for i, tag in enumerate(picked):
    fmt = ("rss", "atom", "json")[i % 3]
    start = time.perf_counter()
    conn.request("GET", "/feeds/tag/topic-%d.%s" % (tag, fmt), headers={"Accept-Encoding": "gzip"})
    reply = conn.getresponse()
    reply.read()
    times.append((time.perf_counter() - start) * 1000)
    statuses[reply.status] = statuses.get(reply.status, 0) + 1
times.sort()
pick = lambda p: times[min(len(times) - 1, int(len(times) * p))]
print("cold: p50 %.2f ms, p99 %.2f ms, max %.2f ms; statuses %s" % (pick(0.5), pick(0.99), times[-1], statuses))
EOF
fi

if phase 2; then

echo "== 2. warm tag feeds against section feeds: $ROUNDS x ${SECONDS_EACH}s each, alternately"
python3 -c '
import random, sys
tags, warm = int(sys.argv[1]), int(sys.argv[2])
for t in random.Random(9).sample(range(tags), warm):
    for f in ("rss", "atom", "json"):
        print("/feeds/tag/topic-%d.%s" % (t, f))
' "$TAGS" "$WARM" > "$work/warm.txt"
while read -r path; do curl -s -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT$path"; done < "$work/warm.txt"
warm=() sections=()
for round in $(seq "$ROUNDS"); do
  w=$(run_wrk "$work/warm.txt" "$SECONDS_EACH"); echo "round $round, warm tags: $w"
  s=$(run_wrk "$work/sections.txt" "$SECONDS_EACH"); echo "round $round, sections:  $s"
  warm+=("${w%% *}") sections+=("${s%% *}")
done
python3 -c '
import statistics, sys
n = len(sys.argv) // 2
w, s = [float(x) for x in sys.argv[1:1 + n]], [float(x) for x in sys.argv[1 + n:]]
print("median warm tags %.0f req/s, sections %.0f req/s: ratio %.2f" % (statistics.median(w), statistics.median(s), statistics.median(w) / statistics.median(s)))
' "${warm[@]}" "${sections[@]}"
fi

# Before phase 3, whose flood of builds fills the cache.
if phase 5; then

echo "== 5. $UNKNOWN unknown tags beside section feeds' readers, ${SECONDS_EACH}s each, $ROUNDS rounds"
python3 -c '
import sys
for n in range(int(sys.argv[1])):
    print("/feeds/tag/no-such-tag-%d.rss" % n)
' "$UNKNOWN" > "$work/unknown.txt"
python3 -c '
import random, sys
for t in random.Random(9).sample(range(int(sys.argv[1])), 200):
    print("/feeds/tag/topic-%d.rss" % t)
' "$TAGS" > "$work/known.txt"
while read -r path; do curl -s -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$PORT$path"; done < "$work/known.txt"
beside() { # paths of the other load -> "sections' line" after both ran at once
  PATHS=$1 wrk -t1 -c32 -d"${SECONDS_EACH}s" -s "$work/paths.lua" "http://127.0.0.1:$PORT" > "$work/other.out" &
  local other=$!
  PATHS=$work/sections.txt wrk -t1 -c16 -d"${SECONDS_EACH}s" -s "$work/paths.lua" "http://127.0.0.1:$PORT" | tail -1
  wait "$other"
  echo "   beside: $(tail -1 "$work/other.out")" >&2
}
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
read -r before _ < <(memory)
cache_before=$(metric pressfeed_on_demand_cache_bytes) builds_before=$(metric pressfeed_on_demand_builds_total)
for round in $(seq "$ROUNDS"); do
  echo "round $round, sections beside warm tags:    $(beside "$work/known.txt")"
  echo "round $round, sections beside unknown tags: $(beside "$work/unknown.txt")"
done
read -r after _ < <(memory)
echo "RSS before $((before / 1024)) MB, after $((after / 1024)) MB; cache bytes $cache_before -> $(metric pressfeed_on_demand_cache_bytes), builds $builds_before -> $(metric pressfeed_on_demand_builds_total)"
fi

if phase 3; then

echo "== 3. memory under random tags of all $TAGS for ${LOAD_SECONDS}s (budget $((CACHE_BYTES >> 20)) MiB)"
python3 -c '
import sys
for t in range(int(sys.argv[1])):
    for f in ("rss", "atom", "json"):
        print("/feeds/tag/topic-%d.%s" % (t, f))
' "$TAGS" > "$work/all-tags.txt"
read -r before _ < <(memory)
run_wrk "$work/all-tags.txt" "$LOAD_SECONDS"
read -r after hwm < <(memory)
cache=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^pressfeed_on_demand_cache_bytes / {print $2}')
echo "RSS before $((before / 1024)) MB, after $((after / 1024)) MB, peak $((hwm / 1024)) MB; cache $((${cache%.*} >> 20)) MiB; bound $((150 + (CACHE_BYTES >> 20))) MB"
fi
stop_server

phase 4 || exit 0

echo "== 4. startup and memory at ready by number of tags"
for tags in $STARTUP_TAGS; do
  for round in $(seq "$ROUNDS"); do
    start_server "$tags" > "$work/ready"
    read -r ready rss < "$work/ready"
    echo "$tags tags, round $round: ready in $ready ms, RSS $((rss / 1024)) MB"
    stop_server
  done
done
