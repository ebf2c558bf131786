"""The measuring side of benches/bucket.sh: posts articles through the admin API at random
moments and, for each, times how long until the section's JSON Feed in the bucket holds it
(read through S3's API with boto3, signed, every 10 ms), from the write's answer.

    python3 bucket_follow.py BASE_URL TOKEN S3_ENDPOINT BUCKET PREFIX WRITES

Prints p50, p90, p99 and max; exits 1 if an article never shows within 10 s.
"""

import json
import random
import sys
import time
import urllib.request

import boto3

BASE, TOKEN, ENDPOINT, BUCKET, PREFIX, WRITES = sys.argv[1:7]
s3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")


def post(n, section):
    body = json.dumps({
        "id": f"bucket-{n}",
        "url": f"https://asianlite.example/bucket/{n}/",
        "title": f"Bucket story {n}",
        "sections": [section],
        "published_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "summary": "A story on its way to the CDN.",
        "body_html": "<p>Body.</p>" * 40,
    }).encode()
    req = urllib.request.Request(BASE + "/admin/api/articles", data=body, method="POST")
    req.add_header("Authorization", "Bearer " + TOKEN)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as res:
        assert res.status == 200, res.status


def in_bucket(section, article_id):
    try:
        got = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{section}.json")
    except s3.exceptions.NoSuchKey:
        return False
    feed = json.loads(got["Body"].read())
    return any(item["id"].endswith(":" + article_id) for item in feed["items"])


rng = random.Random(1)
latencies = []
for n in range(int(WRITES)):
    time.sleep(rng.uniform(0.1, 0.4))
    section = f"section-{rng.randint(1, 20):02d}"
    post(n, section)
    written = time.monotonic()
    while not in_bucket(section, f"bucket-{n}"):
        if time.monotonic() - written > 10:
            print(f"bucket-{n} not in the bucket after 10 s")
            sys.exit(1)
        time.sleep(0.01)
    latencies.append(time.monotonic() - written)

latencies.sort()
pct = lambda p: latencies[min(len(latencies) - 1, int(round((len(latencies) - 1) * p)))] * 1000
print(f"publish-to-bucket latency over {len(latencies)} writes: p50 {pct(0.5):.0f} ms, "
      f"p90 {pct(0.9):.0f} ms, p99 {pct(0.99):.0f} ms, max {latencies[-1] * 1000:.0f} ms")
