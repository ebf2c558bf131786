"""Checks feed files with python feedparser: every one must parse with bozo 0 as its version.

Usage: feedcheck.py DIR [DIR ...]   (every *.rss, *.atom and *.json file below each DIR)
"""
import pathlib
import sys

import feedparser

EXPECTED = {".rss": "rss20", ".atom": "atom10", ".json": "json1"}


def main(dirs):
    checked, failures = 0, []
    for d in dirs:
        for path in sorted(pathlib.Path(d).rglob("*")):
            expected = EXPECTED.get(path.suffix)
            if expected is None:
                continue
            parsed = feedparser.parse(path.read_bytes())
            checked += 1
            problems = []
            if parsed.bozo:
                problems.append(f"bozo: {parsed.bozo_exception!r}")
            if not parsed.version.startswith(expected):
                problems.append(f"version {parsed.version!r}, expected {expected}")
            if problems:
                failures.append(f"{path}: {'; '.join(problems)}")
    for f in failures:
        print(f)
    print(f"feedcheck: {checked} feeds checked, {len(failures)} failed")
    if checked == 0 or failures:
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
