"""Checks built feed files with independent parsers.

RSS and Atom: python feedparser must parse each with bozo 0 as rss20 / atom10.
JSON Feed: released feedparser (6.0) has no JSON Feed support, so each .json file is
checked against the JSON Feed 1.1 schema beside this script with jsonschema (formats
such as uri and date-time checked too).

Usage: feedcheck.py DIR [DIR ...]   (every *.rss, *.atom and *.json file below each DIR)
"""
import json
import pathlib
import sys

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
