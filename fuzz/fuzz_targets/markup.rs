//! The nesting estimate of `markup` against the parser it protects: HTML that passes
//! `markup::check` must not build a tree in html5ever (through scraper) much deeper than
//! the limit, or the limit would not bound the parser's work.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pressfeed::markup::{self, MAX_NESTING};
use scraper::Html;

/// html5ever adds elements the estimate leaves out: a table's `tbody` and `tr`, re-opened
/// formatting elements (bounded apart), the `html` element around a fragment.
const DEEPEST: usize = 3 * MAX_NESTING;

fuzz_target!(|data: &[u8]| {
    let Ok(html) = std::str::from_utf8(data) else {
        return;
    };
    if markup::check(html).is_err() {
        return;
    }
    let doc = Html::parse_fragment(html);
    let deepest = doc
        .tree
        .root()
        .descendants()
        .filter(|node| node.first_child().is_none())
        .map(|leaf| leaf.ancestors().count())
        .max()
        .unwrap_or(0);
    assert!(deepest <= DEEPEST, "estimate passed a tree {deepest} deep");
});
