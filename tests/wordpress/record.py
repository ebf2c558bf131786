#!/usr/bin/env python3
"""Records real WordPress REST API responses into tests/data/wordpress/.

Run against a fresh site from tests/wordpress/setup.sh:

    python3 tests/wordpress/record.py ENV_FILE tests/data/wordpress

It makes categories, tags, media and posts through the REST API (as the newsdesk editor,
with the application password), then saves the responses pressfeed reads: bodies as
received (NAME.json) and status line and headers (NAME.headers). README.md beside them
says what each one is.
"""

import base64
import json
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

YOUTUBE_ID = "M7lc1UVf-VE"  # YouTube's own API sample video

# What WordPress's embed block saves for a YouTube URL once oEmbed has answered (this
# site has no network, so its oEmbed cannot): the block comment and the iframe.
EMBED_BLOCK = f"""<!-- wp:paragraph -->
<p>Polls closed at eight; the count went on through the night.</p>
<!-- /wp:paragraph -->

<!-- wp:html -->
<figure class="wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube wp-embed-aspect-16-9 wp-has-aspect-ratio"><div class="wp-block-embed__wrapper">
<iframe title="YouTube Developers Live: Embedded Web Player Customization" width="500" height="281" src="https://www.youtube.com/embed/{YOUTUBE_ID}?feature=oembed" frameborder="0" allow="accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture; web-share" allowfullscreen></iframe>
</div><figcaption class="wp-element-caption">The count, live.</figcaption></figure>
<!-- /wp:html -->

<!-- wp:paragraph -->
<p>Turnout was the highest in twenty years.</p>
<!-- /wp:paragraph -->"""

# A bare URL on its own line, as people paste it into the classic editor.
BARE_URL = f"""Ministers met in Brussels on Tuesday.

https://www.youtube.com/watch?v={YOUTUBE_ID}

The talks resume in March."""


class Site:
    def __init__(self, env_file):
        env = dict(
            line.split("=", 1) for line in Path(env_file).read_text().splitlines() if "=" in line
        )
        self.url = env["WP_URL"]
        self.author = int(env["WP_AUTHOR_ID"])
        token = base64.b64encode(f"{env['WP_USER']}:{env['WP_APP_PASSWORD']}".encode()).decode()
        self.auth = {"Authorization": f"Basic {token}"}

    def call(self, method, path, body=None, headers=None, auth=True):
        """Returns (status, status line and headers as text, body bytes)."""
        headers = dict(headers or {})
        if auth:
            headers.update(self.auth)
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            res = urllib.request.urlopen(req)
        except urllib.error.HTTPError as err:
            res = err
        data = res.read()
        head = f"HTTP/1.1 {res.status} {res.reason}\n" + "".join(
            f"{k}: {v}\n" for k, v in res.headers.items()
        )
        return res.status, head, data

    def make(self, path, body, headers=None):
        status, _, data = self.call("POST", path, body, headers)
        if status not in (200, 201):
            sys.exit(f"POST {path}: {status} {data[:300]!r}")
        return json.loads(data)


def main():
    site = Site(sys.argv[1])
    out = Path(sys.argv[2])

    def save(name, path, method="GET", auth=True, headers=None):
        status, head, data = site.call(method, path, headers=headers, auth=auth)
        (out / f"{name}.json").write_bytes(data)
        (out / f"{name}.headers").write_text(f"{method} {path}\n{head}")
        print(f"{name}: {method} {path} -> {status}")
        return json.loads(data)

    world = site.make("/wp-json/wp/v2/categories", {"name": "World", "slug": "world"})["id"]
    business = site.make("/wp-json/wp/v2/categories", {"name": "Business", "slug": "business"})["id"]
    tag = {
        name: site.make("/wp-json/wp/v2/tags", {"name": name})["id"]
        for name in ["Elections", "Rates", "Markets", "EU"]
    }
    png = (out / "lead.png").read_bytes()
    media = site.make(
        "/wp-json/wp/v2/media",
        png,
        {"Content-Type": "image/png", "Content-Disposition": 'attachment; filename="lead.png"'},
    )
    site.make(f"/wp-json/wp/v2/media/{media['id']}", {"alt_text": "Four coloured bands", "caption": "Lead image caption"})

    def post(title, content, categories, tags, featured=0, excerpt=""):
        return site.make(
            "/wp-json/wp/v2/posts",
            {
                "title": title,
                "content": content,
                "excerpt": excerpt,
                "status": "publish",
                "author": site.author,
                "categories": categories,
                "tags": tags,
                "featured_media": featured,
            },
        )["id"]

    # Oldest first, each a second apart so dates and order are distinct; the three to be
    # withdrawn are oldest, so the first two pages hold the four that stay.
    doomed = post("Story to be trashed", "<p>Wrong facts.</p>", [world], [])
    drafted = post("Story to be unpublished", "<p>Too early.</p>", [business], [])
    deleted = post("Story to be deleted", "<p>Never mind.</p>", [world], [])
    time.sleep(1.1)
    uncategorized = post("A note from the desk", "<p>No section maps this one.</p>", [1], [])
    time.sleep(1.1)
    bare = post("EU talks stall, resume in March", BARE_URL, [world, business], [tag["EU"]])
    time.sleep(1.1)
    rates = post(
        'Central banks - the "soft landing" & what\'s next',
        "<p>Rates held <strong>steady</strong> at 4.5%.</p>",
        [business],
        [tag["Rates"], tag["Markets"]],
        featured=media["id"],
        excerpt="Rates held steady; markets shrugged.",
    )
    time.sleep(1.1)
    election = post(
        "Election night: a record turnout",
        EMBED_BLOCK,
        [world],
        [tag["Elections"]],
        featured=media["id"],
    )
    time.sleep(1.1)

    save("media", f"/wp-json/wp/v2/media/{media['id']}")
    save("categories", "/wp-json/wp/v2/categories?per_page=100")
    save("posts-embed-page1", "/wp-json/wp/v2/posts?_embed&per_page=2")
    save("posts-embed-page2", "/wp-json/wp/v2/posts?_embed&per_page=2&page=2")
    save("posts-embed-past-last", "/wp-json/wp/v2/posts?_embed&per_page=2&page=9")
    save("ids-before", "/wp-json/wp/v2/posts?_fields=id&status=publish&per_page=100")

    # Something changes after `since`: only that comes back for modified_after.
    time.sleep(1.1)
    since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    time.sleep(1.1)
    site.make(f"/wp-json/wp/v2/posts/{rates}", {"title": "Central banks hold - markets rally"})
    save("posts-modified-after", f"/wp-json/wp/v2/posts?_embed&per_page=100&modified_after={since}")

    save("trash-response", f"/wp-json/wp/v2/posts/{doomed}", method="DELETE")
    save("trashed-get-anonymous", f"/wp-json/wp/v2/posts/{doomed}", auth=False)
    save("trashed-get-authenticated", f"/wp-json/wp/v2/posts/{doomed}")
    site.make(f"/wp-json/wp/v2/posts/{drafted}", {"status": "draft"})
    save("drafted-get-anonymous", f"/wp-json/wp/v2/posts/{drafted}", auth=False)
    save("delete-response", f"/wp-json/wp/v2/posts/{deleted}?force=true", method="DELETE")
    save("deleted-get-authenticated", f"/wp-json/wp/v2/posts/{deleted}")
    save("ids-after", "/wp-json/wp/v2/posts?_fields=id&status=publish&per_page=100")
    save("ids-after-anonymous", "/wp-json/wp/v2/posts?_fields=id&status=publish&per_page=100", auth=False)
    save("posts-status-any-anonymous", "/wp-json/wp/v2/posts?_fields=id,status&status=any", auth=False)
    save("post-unknown", "/wp-json/wp/v2/posts/999999")
    save(
        "posts-conditional",
        "/wp-json/wp/v2/posts?_fields=id&per_page=1",
        headers={"If-None-Match": '"x"', "If-Modified-Since": "Sun, 06 Nov 2044 08:49:37 GMT"},
    )
    print(
        json.dumps(
            {
                "uncategorized": uncategorized,
                "bare_url": bare,
                "rates": rates,
                "election": election,
                "trashed": doomed,
                "drafted": drafted,
                "deleted": deleted,
                "media": media["id"],
                "since": since,
            }
        )
    )


if __name__ == "__main__":
    main()
