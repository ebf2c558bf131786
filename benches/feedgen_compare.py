"""Times python feedgen building RSS 2.0 and Atom 1.0 from the items of a JSON Feed.

The JSON Feed is pressfeed's own export of a section, so feedgen gets the very items
pressfeed renders (sanitized HTML, lead image, media, authors, tags), already parsed: the
timing covers what pressfeed's "in memory" bench covers, building the feed and writing
its bytes. Prints one line per case: `feedgen <case> median_ms <ms> runs <n>`.

    python feedgen_compare.py top-news.json [repeats]
"""

import json
import statistics
import sys
import timeit
from datetime import datetime

from feedgen.feed import FeedGenerator


def load(path):
    with open(path, encoding="utf-8") as f:
        feed = json.load(f)
    for item in feed["items"]:
        # Parsed once, outside the timing, as pressfeed's items carry parsed dates.
        item["date_published"] = datetime.fromisoformat(item["date_published"].replace("Z", "+00:00"))
        item["date_modified"] = datetime.fromisoformat(item["date_modified"].replace("Z", "+00:00"))
    return feed


def generator(feed):
    fg = FeedGenerator()
    fg.load_extension("media")
    fg.id(feed["feed_url"])
    fg.title(feed["title"])
    fg.description(feed.get("description") or feed["title"])
    fg.link(href=feed["home_page_url"], rel="alternate")
    fg.link(href=feed["feed_url"], rel="self")
    fg.language(feed.get("language", "en"))
    fg.author({"name": feed["authors"][0]["name"]})
    fg.generator("feedgen")
    fg.lastBuildDate(max(i["date_modified"] for i in feed["items"]))
    fg.updated(max(i["date_modified"] for i in feed["items"]))
    for item in feed["items"]:
        fe = fg.add_entry(order="append")
        fe.id(item["id"])
        fe.guid(item["id"], permalink=False)
        fe.title(item["title"])
        fe.link(href=item["url"], rel="alternate")
        if item.get("summary"):
            fe.summary(item["summary"])
            fe.description(item["summary"])
        if item.get("content_html"):
            fe.content(item["content_html"], type="CDATA")
        fe.published(item["date_published"])
        fe.updated(item["date_modified"])
        for author in item.get("authors", []):
            fe.author({"name": author["name"], "email": "desk@news.example"})
        for tag in item.get("tags", []):
            fe.category(term=tag)
        if item.get("image"):
            fe.media.thumbnail(url=item["image"])
            fe.media.content(url=item["image"], medium="image")
        for attachment in item.get("attachments", []):
            fe.media.content(url=attachment["url"], type=attachment["mime_type"], medium="video")
    return fg


def main():
    feed = load(sys.argv[1])
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    cases = {
        "rss": lambda: generator(feed).rss_str(),
        "atom": lambda: generator(feed).atom_str(),
        "rss+atom": lambda: (lambda fg: (fg.rss_str(), fg.atom_str()))(generator(feed)),
    }
    # Both outputs must be whole feeds, or the timing means nothing.
    assert generator(feed).rss_str().count(b"<item>") == len(feed["items"])
    assert generator(feed).atom_str().count(b"<entry>") == len(feed["items"])
    for name, build in cases.items():
        number = 5
        runs = timeit.repeat(build, number=number, repeat=repeats)
        median_ms = statistics.median(runs) / number * 1000
        print(f"feedgen {name} median_ms {median_ms:.3f} runs {repeats * number}")


if __name__ == "__main__":
    main()
