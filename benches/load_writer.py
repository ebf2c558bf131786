"""The writing side of benches/load.sh: streams article upserts and section edits through
the admin API for a fixed time, measures publish-to-feed latency of a sample of the
upserts, then checks that every acknowledged article is in the store.

    python3 load_writer.py BASE_URL TOKEN SECONDS

Standard library only. Prints a summary; exits 1 on any failed write or missing article.
"""

import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request

BASE, TOKEN, SECONDS = sys.argv[1], sys.argv[2], float(sys.argv[3])
# Writes go to the first four sections; the others stay unchanged, so the wrk side's
# revalidations of them keep answering 304.
SECTIONS = [f"section-{i:02d}" for i in range(1, 5)]
UPSERTS_PER_SECOND = 10
EDIT_EVERY = 5.0  # seconds between section edits
SAMPLE_EVERY = 5  # every fifth upsert is followed until it shows in its feed


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + TOKEN)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def article(n, section):
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "id": f"load-{n}",
        "url": f"https://asianlite.example/load/{n}/",
        "title": f"Load test story {n}",
        "sections": [section],
        "published_at": now,
        "summary": f"Story {n} written while the server is under load.",
        "body_html": "<p>Body of a story written under load.</p>" * 60,
        "tags": ["Load"],
    }


def shows_in_feed(section, article_id):
    # The JSON Feed, uncompressed; the server is on 127.0.0.1, so this is quick.
    with urllib.request.urlopen(f"{BASE}/feeds/{section}.json", timeout=10) as res:
        feed = json.load(res)
    return any(item["id"].endswith(":" + article_id) for item in feed["items"])


latencies, errors, acked = [], [], []
lock = threading.Lock()


def follow(section, article_id, written):
    deadline = written + 10
    while time.monotonic() < deadline:
        if shows_in_feed(section, article_id):
            with lock:
                latencies.append(time.monotonic() - written)
            return
        time.sleep(0.01)
    with lock:
        errors.append(f"{article_id} not in {section}'s feed after 10 s")


def main():
    rng = random.Random(1)
    start = time.monotonic()
    n, edits, followers = 0, 0, []
    next_edit = start + EDIT_EVERY
    while time.monotonic() - start < SECONDS:
        section = rng.choice(SECTIONS)
        status, body = call("POST", "/admin/api/articles", article(n, section))
        written = time.monotonic()
        if 200 <= status < 300:
            acked.append(f"load-{n}")
            if n % SAMPLE_EVERY == 0:
                t = threading.Thread(target=follow, args=(section, f"load-{n}", written))
                t.start()
                followers.append(t)
        else:
            errors.append(f"upsert load-{n}: {status} {body[:200]!r}")
        n += 1
        if written >= next_edit:
            slug = rng.choice(SECTIONS)
            status, body = call("PATCH", f"/admin/api/sections/{slug}",
                                {"description": f"Edited under load, edit {edits}"})
            if not 200 <= status < 300:
                errors.append(f"edit {slug}: {status} {body[:200]!r}")
            edits += 1
            next_edit += EDIT_EVERY
        # Paced, not flat out: a steady stream as a CMS sends it.
        time.sleep(max(0.0, start + n / UPSERTS_PER_SECOND - time.monotonic()))
    for t in followers:
        t.join()

    missing = [a for a in acked if call("GET", f"/admin/api/articles/{a}")[0] != 200]
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(round((len(latencies) - 1) * p)))] * 1000
    print(f"writer: {n} upserts ({len(acked)} acknowledged), {edits} section edits, "
          f"{len(errors)} errors")
    if latencies:
        print(f"publish-to-feed latency over {len(latencies)} sampled upserts under load: "
              f"p50 {pct(0.5):.0f} ms, p90 {pct(0.9):.0f} ms, p99 {pct(0.99):.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms")
    print(f"after the run: {len(acked) - len(missing)} of {len(acked)} acknowledged articles "
          f"in the store")
    for e in errors[:10] + [f"missing: {m}" for m in missing[:10]]:
        print("  " + e)
    sys.exit(1 if errors or missing else 0)


if __name__ == "__main__":
    main()
