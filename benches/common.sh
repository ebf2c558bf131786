# Shared by benches/memory.sh, load.sh, access-log.sh, replicas.sh and bucket.sh (sourced,
# not run): a release build, the 20-section benchmark site, a store of $ARTICLES generated
# articles, a server on 127.0.0.1, and wrk. Only 127.0.0.1 is touched; every process started
# here is stopped by PID when the calling script exits.
#
# The store is imported once per article count and kept in target/tmp/bench-site-N (about
# 1 GB for 100,000 articles; delete it to import again); each run serves a copy of it, so
# writes made during a run never reach the next one.

ARTICLES=${ARTICLES:-100000}
PORT=${PORT:-18090}
TOKEN=bench-token-0123456789abcdef0123

if ! command -v wrk >/dev/null; then
  apt-get install -y --no-install-recommends wrk
fi
# pressfeed-corpus: the generator of the workspace (corpus/), a development tool.
cargo build --release --quiet -p pressfeed -p pressfeed-corpus
bin=$PWD/target/release/pressfeed
corpus=$PWD/target/release/pressfeed-corpus

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

source benches/site.sh

# A fresh copy of the cached store in $work/data, and the site in $work/feeds.
setup_store() {
  local cache=$PWD/target/tmp/bench-site-$ARTICLES
  if [ ! -f "$cache/imported" ]; then
    echo "== corpus of $ARTICLES articles into $cache (once)"
    rm -rf "$cache"
    mkdir -p "$cache"
    write_site "$cache/feeds" "$PORT"
    "$corpus" --articles "$ARTICLES" --sections 20 |
      "$bin" --feeds "$cache/feeds" --data "$cache/data" import - >/dev/null
    touch "$cache/imported"
  fi
  write_site "$work/feeds" "$PORT"
  cp -r "$cache/data" "$work/data"
}

# Starts `pressfeed serve` on $PORT with the admin API on, and `serve`'s flags given, if
# any; sets $server_pid. Waits until every feed is built (/readyz) or gives up after a minute.
start_server() { # serve flags...
  PRESSFEED_ADMIN_TOKEN=$TOKEN "$bin" --feeds "$work/feeds" --data "$work/data" serve \
    --listen "127.0.0.1:$PORT" "$@" >/dev/null 2>"$work/server.log" &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 300); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "the server did not get ready; its log:"
  tail -20 "$work/server.log"
  exit 1
}

# kB of the server's memory: "VmRSS VmHWM".
server_memory() {
  awk '/^VmRSS:/ {rss = $2} /^VmHWM:/ {hwm = $2} END {print rss, hwm}' "/proc/$server_pid/status"
}

# The ETag of every feed in every coding, as a Lua table for the wrk script: revalidating
# clients send what they were sent before.
fetch_etags() { # lua file
  echo "etags = {}" > "$1"
  local section format coding etag
  for section in $(seq -w 1 20); do
    for format in rss atom json; do
      for coding in identity gzip br; do
        etag=$(curl -s -o /dev/null -D - -H "Accept-Encoding: $coding" \
          "http://127.0.0.1:$PORT/feeds/section-$section.$format" |
          tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}')
        printf 'etags["/feeds/section-%s.%s %s"] = [[%s]]\n' "$section" "$format" "$coding" "$etag" >> "$1"
      done
    done
  done
}

# The wrk script: each request is, with probability REVALIDATE, a revalidation (the feed's
# ETag in If-None-Match, a 304 while the feed is unchanged) of a section from FIRST_STABLE
# on, and otherwise a 200 of any section in one of CODINGS. Prints the count of each
# status, socket errors, p50/p99/max latency and req/s at the end.
write_wrk_script() { # file
  cat > "$1" <<'EOF'
dofile(os.getenv("ETAGS"))
local formats = {"rss", "atom", "json"}
local codings = {}
for c in string.gmatch(os.getenv("CODINGS") or "identity,gzip,br", "[^,]+") do
  table.insert(codings, c)
end
local revalidate = tonumber(os.getenv("REVALIDATE") or "0.5")
local first_stable = tonumber(os.getenv("FIRST_STABLE") or "1")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  math.randomseed(os.time() * 100 + id)
  statuses = {}
end

function request()
  local format = formats[math.random(3)]
  if math.random() < revalidate then
    local coding = ({"identity", "gzip", "br"})[math.random(3)]
    local path = string.format("/feeds/section-%02d.%s", math.random(first_stable, 20), format)
    return wrk.format("GET", path, {["Accept-Encoding"] = coding,
      ["If-None-Match"] = etags[path .. " " .. coding]})
  end
  local path = string.format("/feeds/section-%02d.%s", math.random(20), format)
  return wrk.format("GET", path, {["Accept-Encoding"] = codings[math.random(#codings)]})
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  for status, n in pairs(total) do
    io.write(string.format("status %d: %d\n", status, n))
  end
  local e = summary.errors
  io.write(string.format("socket errors: %d (connect %d, read %d, write %d, timeout %d)\n",
    e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout))
  io.write(string.format("latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; %.0f req/s\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests / (summary.duration / 1e6)))
end
EOF
}

# Samples the server's VmRSS and VmHWM every second into a file until killed.
sample_memory() { # file
  while kill -0 "$server_pid" 2>/dev/null; do
    echo "$(date +%s) $(server_memory)" >> "$1"
    sleep 1
  done
}
