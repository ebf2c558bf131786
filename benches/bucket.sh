#!/usr/bin/env bash
# Publish to bucket: how long from an admin write's answer until the section's feed in the
# `[publish]` bucket holds the article (issue 20's target: p99 ≤ 1 s). A local
# S3-compatible server (moto's server mode, in a venv made here) on 127.0.0.1, the
# 20-section benchmark site over a store of $ARTICLES generated articles, and
# benches/bucket_follow.py writing $WRITES articles at random moments and reading the
# bucket through S3's API every 10 ms.
#
#   bash benches/bucket.sh                    # 200 writes, 20,000 articles
#   WRITES=50 ARTICLES=2000 bash benches/bucket.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ARTICLES=${ARTICLES:-20000}
WRITES=${WRITES:-200}
S3_PORT=${S3_PORT:-18095}
source benches/common.sh

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]"
"$work/venv/bin/moto_server" -H 127.0.0.1 -p "$S3_PORT" >"$work/moto.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -sf -o /dev/null -X PUT "http://127.0.0.1:$S3_PORT/feeds-bench" && break
  sleep 0.1
done

setup_store
cat >>"$work/feeds/site.toml" <<TOML

[publish]
target = "s3://feeds-bench/feeds"
endpoint = "http://127.0.0.1:$S3_PORT"
TOML
echo "== $(date -u +%H:%M) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg)"
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test start_server
echo "== $WRITES admin writes at random moments, each followed into the bucket"
"$work/venv/bin/python" benches/bucket_follow.py "http://127.0.0.1:$PORT" "$TOKEN" \
  "http://127.0.0.1:$S3_PORT" feeds-bench feeds "$WRITES"
