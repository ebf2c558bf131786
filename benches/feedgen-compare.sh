#!/usr/bin/env bash
# Build speed side by side with python feedgen, on the same 50 items: the demo site's
# Top News section. pressfeed exports the section as JSON Feed (its prepared items:
# sanitized HTML, media, authors, tags); feedgen builds RSS and Atom from those items
# (benches/feedgen_compare.py, timeit, median); criterion times pressfeed rendering the
# same items from memory (benches/build.rs). Prints both and the ratios.
#
#   bash benches/feedgen-compare.sh
#
# Makes a Python venv in a temp dir and installs feedgen there; touches nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet
bin=$PWD/target/release/pressfeed

echo "== feedgen into a venv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check feedgen
"$work/venv/bin/python" -c 'import feedgen.version as v; print("   feedgen", v.version_str)'

echo "== the demo site's top-news items, exported as JSON Feed"
"$bin" --feeds feeds --data "$work/data" import feeds/demo/articles.ndjson >/dev/null
"$bin" --feeds feeds --data "$work/data" build --out "$work/out" >/dev/null
items=$work/out/feeds/top-news.json
python3 -c 'import json,sys; f=json.load(open(sys.argv[1])); print("   %d items, %d bytes" % (len(f["items"]), len(open(sys.argv[1],"rb").read())))' "$items"

echo "== feedgen (timeit, median of 30 × 5 builds)"
"$work/venv/bin/python" benches/feedgen_compare.py "$items" | tee "$work/feedgen.txt"

echo "== pressfeed (criterion, the same items from memory)"
cargo bench --quiet --bench build -- --warm-up-time 1 --measurement-time 4 "in memory" 2>&1 |
  tee "$work/criterion.txt" | grep -E "^top-news|time:"

# Criterion's estimate (the middle of "time: [low estimate high]") in ms.
pressfeed_ms() { # bench name
  awk -v name="$1" '
    function ms(v, unit) {
      if (unit == "ns") return v / 1e6; if (unit == "µs" || unit == "us") return v / 1e3
      if (unit == "ms") return v; if (unit == "s") return v * 1e3 }
    index($0, name) == 1 { found = 1 }
    found && /time:/ { sub(/.*\[/, ""); print ms($3, $4); exit }' "$work/criterion.txt"
}
feedgen_ms() { awk -v c="$1" '$2 == c {print $4}' "$work/feedgen.txt"; }

pf_rss=$(pressfeed_ms "top-news 50 items, Rss only, in memory")
pf_atom=$(pressfeed_ms "top-news 50 items, Atom only, in memory")
pf_both=$(pressfeed_ms "top-news 50 items, RSS + Atom, in memory")
pf_all=$(pressfeed_ms "top-news 50 items, 3 formats, in memory")
fg_rss=$(feedgen_ms rss)
fg_atom=$(feedgen_ms atom)
fg_both=$(feedgen_ms rss+atom)

printf '\n%-34s %12s %12s %8s\n' "50 items, from memory" "feedgen ms" "pressfeed ms" ratio
row() { printf '%-34s %12.3f %12.3f %8.1f\n' "$1" "$2" "$3" "$(awk -v a="$2" -v b="$3" 'BEGIN {print a / b}')"; }
row "RSS 2.0" "$fg_rss" "$pf_rss"
row "Atom 1.0" "$fg_atom" "$pf_atom"
row "RSS + Atom" "$fg_both" "$pf_both"
row "feedgen RSS vs pressfeed all three" "$fg_rss" "$pf_all"
echo "(ratio = feedgen time / pressfeed time; pressfeed's three are RSS, Atom and JSON Feed)"
