"""The writing side of benches/load.sh and benches/replicas.sh: streams article upserts and
section edits through the admin API for a fixed time, measures publish-to-feed latency of a
sample of the upserts, then checks that every acknowledged article is in the store.

    python3 load_writer.py BASE_URL[,BASE_URL...] TOKEN SECONDS

With several base URLs (replicas of one store), writes take turns among them and a sampled
upsert is followed on every replica: the latency is counted per replica, from the write's
answer to the article in that replica's feed, and printed per replica and for the slowest.

Standard library only. Prints a summary; exits 1 on any failed write or missing article.
"""

import json
import random
import sys
import threading
import time
import urllib.error
import urllib.request

BASES, TOKEN, SECONDS = sys.argv[1].split(","), sys.argv[2], float(sys.argv[3])
# Writes go to the first four sections; the others stay unchanged, so the wrk side's
# revalidations of them keep answering 304.
SECTIONS = [f"section-{i:02d}" for i in range(1, 5)]
UPSERTS_PER_SECOND = 10
EDIT_EVERY = 5.0  # seconds between section edits
SAMPLE_EVERY = 5  # every fifth upsert is followed until it shows in its feed


def call(method, path, body=None, base=BASES[0]):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + TOKEN)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError as e:  # a timeout or a refused connection: an error of the run, not a crash
        return None, repr(e).encode()


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


def shows_in_feed(base, section, article_id):
    # The JSON Feed, uncompressed; the server is on 127.0.0.1, so this is quick.
    with urllib.request.urlopen(f"{base}/feeds/{section}.json", timeout=10) as res:
        feed = json.load(res)
    return any(item["id"].endswith(":" + article_id) for item in feed["items"])


# latencies[i]: seconds until a sampled upsert showed on BASES[i]; slowest: until it showed
# on all of them.
latencies, slowest, errors, acked = [[] for _ in BASES], [], [], []
# answers: seconds from sending each upsert until its answer.
answers = []
lock = threading.Lock()


def follow(section, article_id, written):
    deadline = written + 10
    waiting = set(range(len(BASES)))
    seen = []
    while waiting and time.monotonic() < deadline:
        for i in sorted(waiting):
            if shows_in_feed(BASES[i], section, article_id):
                waiting.discard(i)
                seen.append((i, time.monotonic() - written))
        time.sleep(0.01)
    with lock:
        for i, latency in seen:
            latencies[i].append(latency)
        if waiting:
            errors.append(f"{article_id} not in {section}'s feed on "
                          f"{', '.join(BASES[i] for i in sorted(waiting))} after 10 s")
        else:
            slowest.append(max(latency for _, latency in seen))


def percentiles(seconds):
    seconds = sorted(seconds)
    pct = lambda p: seconds[min(len(seconds) - 1, int(round((len(seconds) - 1) * p)))] * 1000
    return (f"p50 {pct(0.5):.0f} ms, p90 {pct(0.9):.0f} ms, p99 {pct(0.99):.0f} ms, "
            f"max {seconds[-1] * 1000:.0f} ms")


def main():
    rng = random.Random(1)
    start = time.monotonic()
    n, edits, followers = 0, 0, []
    next_edit = start + EDIT_EVERY
    while time.monotonic() - start < SECONDS:
        section = rng.choice(SECTIONS)
        sent = time.monotonic()
        status, body = call("POST", "/admin/api/articles", article(n, section),
                            BASES[n % len(BASES)])
        written = time.monotonic()
        answers.append(written - sent)
        if status is not None and 200 <= status < 300:
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
                                {"description": f"Edited under load, edit {edits}"},
                                BASES[edits % len(BASES)])
            if status is None or not 200 <= status < 300:
                errors.append(f"edit {slug}: {status} {body[:200]!r}")
            edits += 1
            next_edit += EDIT_EVERY
        # Paced, not flat out: a steady stream as a CMS sends it.
        time.sleep(max(0.0, start + n / UPSERTS_PER_SECOND - time.monotonic()))
    for t in followers:
        t.join()

    missing = [a for a in acked if call("GET", f"/admin/api/articles/{a}")[0] != 200]
    print(f"writer: {n} upserts ({len(acked)} acknowledged), {edits} section edits, "
          f"{len(errors)} errors")
    if answers:
        print(f"upsert answered in {percentiles(answers)}")
    named = list(zip(BASES, latencies))
    if len(BASES) > 1:
        named.append(("every replica (the slowest of each upsert)", slowest))
    for name, found in named:
        if found:
            print(f"publish-to-feed latency over {len(found)} sampled upserts under load"
                  f"{'' if len(BASES) == 1 else ', ' + name}: {percentiles(found)}")
    print(f"after the run: {len(acked) - len(missing)} of {len(acked)} acknowledged articles "
          f"in the store")
    for e in errors[:10] + [f"missing: {m}" for m in missing[:10]]:
        print("  " + e)
    sys.exit(1 if errors or missing else 0)


if __name__ == "__main__":
    main()
