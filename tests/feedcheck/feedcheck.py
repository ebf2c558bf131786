"""Checks built feed files with independent parsers.

RSS and Atom: python feedparser must parse each with bozo 0 as rss20 / atom10; read
again with the standard library's XML parser, no element is blank (no text, children or
attributes; RFC 5005's fh:archive, empty by definition, aside) and no attribute value is
blank (the W3C Feed Validator warns of both), and
every RSS item has a title or a description (RSS 2.0 requires one of them) and a
description before any content:encoded (the validator's NeedDescriptionBeforeContent).
JSON Feed: released feedparser (6.0) has no JSON Feed support, so each .json file is
checked against the JSON Feed 1.1 schema beside this script with jsonschema (formats
such as uri and date-time checked too).

Usage: feedcheck.py DIR [DIR ...]   (every *.rss, *.atom and *.json file below each DIR)
"""
import json
import pathlib
import sys
import xml.etree.ElementTree as ET

import feedparser
import jsonschema

EXPECTED = {".rss": "rss20", ".atom": "atom10"}
SCHEMA = json.loads((pathlib.Path(__file__).parent / "jsonfeed-1.1.schema.json").read_text())
JSON_FEED = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def problems_of(path):
    data = path.read_bytes()
    if path.suffix == ".json":
        try:
            doc = json.loads(data)
        except ValueError as e:
            return [f"not JSON: {e}"]
        return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in JSON_FEED.iter_errors(doc)]
    parsed = feedparser.parse(data)
    problems = []
    if parsed.bozo:
        problems.append(f"bozo: {parsed.bozo_exception!r}")
    if parsed.version != EXPECTED[path.suffix]:
        problems.append(f"version {parsed.version!r}, expected {EXPECTED[path.suffix]}")
    return problems + blanks_of(ET.fromstring(data))


# RFC 5005 §4 defines fh:archive, which marks an archive document, as an empty element
# (https://www.rfc-editor.org/rfc/rfc5005#section-4): blank by definition.
EMPTY_BY_DEFINITION = {"{http://purl.org/syndication/history/1.0}archive"}


def blanks_of(root):
    problems = []
    for el in root.iter():
        if el.tag in EMPTY_BY_DEFINITION:
            continue
        if not len(el) and not (el.text or "").strip() and not el.attrib:
            problems.append(f"blank element {el.tag}")
        problems += [f"blank {name}= on {el.tag}" for name, v in el.attrib.items() if not v.strip()]
    for item in root.iter("item"):
        tags = [child.tag for child in item]
        if "title" not in tags and "description" not in tags:
            problems.append(f"an item with neither title nor description: {ET.tostring(item)[:80]!r}")
        content = "{http://purl.org/rss/1.0/modules/content/}encoded"
        if content in tags and ("description" not in tags or tags.index("description") > tags.index(content)):
            problems.append(f"content:encoded without a description before it: {ET.tostring(item)[:80]!r}")
    return problems


def main(dirs):
    checked, failures = 0, []
    for d in dirs:
        for path in sorted(pathlib.Path(d).rglob("*")):
            # Sidecars (`world.rss.headers.json`) hold headers, not feeds.
            if path.suffix not in (".rss", ".atom", ".json") or path.name.endswith(".headers.json"):
                continue
            checked += 1
            problems = problems_of(path)
            if problems:
                failures.append(f"{path}: {'; '.join(problems[:5])}")
    for f in failures:
        print(f)
    print(f"feedcheck: {checked - len(failures)} passed, {len(failures)} failed")
    if checked == 0 or failures:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
