//! Content negotiation of `Accept` (RFC 9110 §12.5.1) for a feed with a preview: does the
//! request prefer the HTML page to the feed? A browser opening a link lists `text/html`
//! first; a feed reader lists feed types, or takes anything.
//!
//! Rules:
//! 1. No `Accept` field: the feed (the client has said nothing, as many readers do).
//! 2. Each media range has a weight, `q=1` unless given; a malformed `q` voids its range.
//!    Parameters other than `q` are ignored.
//! 3. A media type weighs what the most specific range matching it gives: `type/subtype`,
//!    then `type/*`, then `*/*` (of one range listed twice, the better weight); 0 when none
//!    matches.
//! 4. The feed weighs what its own type weighs or, if more, the generic type of its
//!    structured syntax (RFC 6839: `application/xml` and `text/xml` for `+xml`,
//!    `application/json` for `+json`), as readers ask for those too.
//! 5. The preview when `text/html` weighs more than the feed; a tie is the feed's, so a
//!    reader that takes anything (`application/rss+xml, */*`) gets what it subscribed to.

use http::HeaderMap;
use http::header::ACCEPT;

use super::encoding::weight;

/// Whether a request with `headers` prefers the HTML preview to a feed of `feed_type` (a
/// content type, parameters allowed), by the rules above.
pub fn prefers_html(headers: &HeaderMap, feed_type: &str) -> bool {
    if headers.get(ACCEPT).is_none() {
        return false;
    }
    let weighs = |media_type: &str| weight_of(headers, media_type);
    let feed_type = feed_type.split(';').next().unwrap_or_default().trim();
    let generic: &[&str] = if feed_type.ends_with("+xml") {
        &["application/xml", "text/xml"]
    } else if feed_type.ends_with("+json") {
        &["application/json"]
    } else {
        &[]
    };
    let feed = generic
        .iter()
        .map(|t| weighs(t))
        .fold(weighs(feed_type), u16::max);
    weighs("text/html") > feed
}

/// The weight of `media_type` (`type/subtype`, no parameters) by rule 3.
fn weight_of(headers: &HeaderMap, media_type: &str) -> u16 {
    let (kind, subtype) = media_type.split_once('/').unwrap_or((media_type, ""));
    // (specificity, weight) of the best range so far.
    let mut best: Option<(u8, u16)> = None;
    let fields = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok());
    for element in fields.flat_map(|field| field.split(',')) {
        let mut parts = element.split(';');
        let range = parts.next().unwrap_or_default().trim();
        let Some((range_kind, range_subtype)) = range.split_once('/') else {
            continue;
        };
        let specificity = match (range_kind, range_subtype) {
            ("*", "*") => 0,
            (k, "*") if k.eq_ignore_ascii_case(kind) => 1,
            (k, s) if k.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(subtype) => 2,
            _ => continue,
        };
        let Some(weight) = weight(parts) else {
            continue;
        };
        best = best.max(Some((specificity, weight)));
    }
    best.map_or(0, |(_, weight)| weight)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const RSS: &str = "application/rss+xml; charset=utf-8";
    const JSON_FEED: &str = "application/feed+json";

    fn html_first(values: &[&str], feed_type: &str) -> bool {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(ACCEPT, HeaderValue::from_str(v).unwrap());
        }
        prefers_html(&headers, feed_type)
    }

    #[test]
    fn browsers_get_the_preview_and_readers_the_feed() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                        image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        let safari = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        type Case<'a> = (&'a [&'a str], &'a str, bool, &'a str);
        let cases: &[Case] = &[
            (&[chromium], RSS, true, "Chromium"),
            (&[firefox], RSS, true, "Firefox"),
            (&[safari], JSON_FEED, true, "Safari, a JSON Feed"),
            (&[], RSS, false, "no Accept"),
            (&["*/*"], RSS, false, "anything"),
            (&["application/rss+xml, */*"], RSS, false, "a reader, tie"),
            (
                &["application/rss+xml, application/atom+xml;q=0.9, text/xml;q=0.8, */*;q=0.5"],
                RSS,
                false,
                "a reader listing feed types",
            ),
            (
                &["application/xml, text/xml, text/html;q=0.5"],
                RSS,
                false,
                "generic XML for a +xml type",
            ),
            (
                &["application/json, text/html;q=0.9"],
                JSON_FEED,
                false,
                "generic JSON for a +json type",
            ),
            (&["text/html"], RSS, true, "HTML alone"),
            (&["text/*"], RSS, false, "any text takes text/xml: a tie"),
            (&["text/*"], JSON_FEED, true, "but no JSON"),
            (
                &["text/html;q=0.8, application/rss+xml;q=0.9"],
                RSS,
                false,
                "q-values weigh",
            ),
            (&["text/html;q=0, */*"], RSS, false, "HTML excluded"),
            (
                &["text/html;level=1"],
                RSS,
                true,
                "other parameters ignored",
            ),
            (&["TEXT/HTML"], RSS, true, "case-insensitive"),
            (
                &["text/html;q=2, */*"],
                RSS,
                false,
                "malformed q voids the range",
            ),
            (&["*/*;q=0.1", "text/html"], RSS, true, "several fields"),
            (
                &["text/*;q=0.9, text/html;q=0.1, application/*"],
                RSS,
                false,
                "the most specific range wins",
            ),
            (&["image/png, nonsense"], RSS, false, "nothing acceptable"),
        ];
        for (values, feed_type, expected, why) in cases {
            assert_eq!(
                html_first(values, feed_type),
                *expected,
                "{why}: {values:?}"
            );
        }
    }
}
