#!/usr/bin/env bash
# Serving benchmark: pressfeed and nginx serving the same feed bytes on this machine, side
# by side, interleaved in rounds, with the same wrk commands. Prints req/s, p50 and p99 for
# each case and the ratio pressfeed/nginx (of the median req/s over the rounds).
#
#   bash benches/serve-vs-nginx.sh            # 100,000 articles, 3 rounds of 10 s per case
#   ARTICLES=20000 ROUNDS=1 DURATION=5s bash benches/serve-vs-nginx.sh
#   TLS=1 bash benches/serve-vs-nginx.sh      # both over HTTPS, on one certificate
#
# With TLS=1 both servers speak HTTPS (HTTP/1.1 on keep-alive connections, as wrk asks) with one self-signed ECDSA P-256 certificate made here by openssl; nginx uses its
# OpenSSL, pressfeed rustls.
#
# Needs wrk and nginx (Debian: `apt-get install wrk nginx-light`; installed here if root).
# Only 127.0.0.1 is touched; both servers are stopped, by PID, when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=${ARTICLES:-100000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
PRESSFEED_PORT=${PRESSFEED_PORT:-18080}
NGINX_PORT=${NGINX_PORT:-18081}
FEED=section-01.rss
TLS=${TLS:-0}
SCHEME=$([ "$TLS" = 1 ] && echo https || echo http)

for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null; then
    apt-get install -y --no-install-recommends "$([ "$tool" = nginx ] && echo nginx-light || echo wrk)"
  fi
done
# pressfeed-corpus: the generator of the workspace (corpus/), a development tool.
cargo build --release --quiet -p pressfeed -p pressfeed-corpus
bin=$PWD/target/release/pressfeed
corpus=$PWD/target/release/pressfeed-corpus

work=$(mktemp -d)
# nginx's workers run as an unprivileged user: they must be able to read the export.
chmod 755 "$work"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

source benches/site.sh
write_site "$work/feeds" "$PRESSFEED_PORT"

tls_args=()
nginx_listen="listen 127.0.0.1:$NGINX_PORT;"
if [ "$TLS" = 1 ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
  chmod 644 "$work/key.pem"
  tls_args=(--tls-certificate "$work/cert.pem" --tls-key "$work/key.pem")
  nginx_listen="listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:SSL:1m;"
fi

echo "== corpus of $ARTICLES articles, import, export"
"$corpus" --articles "$ARTICLES" --sections 20 > "$work/corpus.ndjson"
"$bin" --feeds "$work/feeds" --data "$work/data" import "$work/corpus.ndjson" >/dev/null
"$bin" --feeds "$work/feeds" --data "$work/data" build --out "$work/out" >/dev/null
# The export holds the precompressed .gz files (pressfeed's own gzip bytes) that
# nginx's gzip_static serves.
ls -l "$work/out/feeds/$FEED" "$work/out/feeds/$FEED.gz" | awk '{print "   ", $5, "bytes", $9}'

"$bin" --feeds "$work/feeds" --data "$work/data" serve --listen "127.0.0.1:$PRESSFEED_PORT" \
  "${tls_args[@]}" >/dev/null 2>"$work/pressfeed.log" &
pids+=($!)

cat > "$work/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path $work/tmp;
  proxy_temp_path $work/tmp;
  fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp;
  scgi_temp_path $work/tmp;
  types {
    application/rss+xml rss;
    application/atom+xml atom;
    application/feed+json json;
  }
  charset utf-8;
  charset_types application/rss+xml application/atom+xml;
  server {
    $nginx_listen
    root $work/out;
    etag on;
    gzip_static on;
    add_header Cache-Control "public, max-age=300, stale-while-revalidate=60, stale-if-error=3600";
    add_header Vary Accept-Encoding;
    # The headers pressfeed adds for cross-origin readers (docs/feeds.md), so both answer
    # with the same bytes and headers.
    add_header Access-Control-Allow-Origin "*" always;
    add_header Access-Control-Expose-Headers "ETag, Last-Modified, Retry-After" always;
  }
}
EOF
mkdir -p "$work/tmp"
nginx -c "$work/nginx.conf" &
pids+=($!)

for port in "$PRESSFEED_PORT" "$NGINX_PORT"; do
  for _ in $(seq 100); do
    curl -ksf -o /dev/null "$SCHEME://127.0.0.1:$port/feeds/$FEED" && break
    sleep 0.2
  done
  curl -ksf -o /dev/null "$SCHEME://127.0.0.1:$port/feeds/$FEED" ||
    { echo "port $port does not serve /feeds/$FEED"; exit 1; }
done
cmp <(curl -ks "$SCHEME://127.0.0.1:$PRESSFEED_PORT/feeds/$FEED") <(curl -ks "$SCHEME://127.0.0.1:$NGINX_PORT/feeds/$FEED") &&
  echo "   both servers send the same bytes"

source benches/wrk.sh

declare -A result
cases=(plain gzip br inm ims)

echo "== wrk -t2 -c$CONNECTIONS -d$DURATION over $SCHEME, $ROUNDS rounds, interleaved"
for round in $(seq "$ROUNDS"); do
  for c in "${cases[@]}"; do
    for server in pressfeed nginx; do
      port=$([ $server = pressfeed ] && echo "$PRESSFEED_PORT" || echo "$NGINX_PORT")
      IFS='|' read -r -a extra <<<"$(args_for "$c" "$port")"
      line=$(run_wrk "$port" "${extra[@]}")
      result[$server,$c]+="$line"$'\n'
      echo "   round $round $(describe "$c") $server: $line"
      # The fourth field counts answers other than 2xx/3xx: any makes the run worthless.
      if [ "${line##* }" != 0 ]; then echo "$server answered errors; stopping"; exit 1; fi
    done
  done
done

ratio_table pressfeed nginx
echo "(latencies in ms, medians over rounds; ratio = pressfeed req/s / nginx req/s)"
