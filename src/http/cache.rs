//! Conditional requests (RFC 9110 §13): does the client already hold the current feed?
//!
//! Precedence, as §13.2.2 orders it for GET and HEAD:
//! 1. If `If-None-Match` is present, it alone decides: `*` matches any current feed, and a
//!    list matches when any entity tag equals ours by weak comparison (`W/` ignored).
//! 2. Otherwise, if `If-Modified-Since` holds a valid HTTP date (any of the three formats),
//!    the feed is unmodified when its Last-Modified is not later than that date. An
//!    invalid date is ignored. While the feed's Last-Modified is ambiguous (its second, or
//!    a later one the clock was set back from, was also stamped on earlier bytes), a date
//!    up to the newest such second cannot tell the client's bytes from ours, so it gets
//!    the bytes: a 304 might hide bytes it never saw.
//! 3. Otherwise the request is unconditional.
//!
//! For writes (the admin API), `If-Match` (§13.1.1) holds when it is absent, or when the
//! resource exists and the field is `*` or lists its entity tag by strong comparison.

use std::time::SystemTime;

use http::HeaderMap;
use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH};

/// True when a `304 Not Modified` answers the request. `ambiguous_until` is the newest
/// second stamped on earlier bytes while Last-Modified is ambiguous.
pub fn not_modified(
    headers: &HeaderMap,
    etag: &[u8],
    last_modified: SystemTime,
    ambiguous_until: Option<SystemTime>,
) -> bool {
    let mut if_none_match = headers.get_all(IF_NONE_MATCH).iter().peekable();
    if if_none_match.peek().is_some() {
        return if_none_match.any(|value| etag_list_matches(value.as_bytes(), etag, false));
    }
    headers
        .get(IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| {
            last_modified <= since && ambiguous_until.is_none_or(|until| until < since)
        })
}

/// True when a write may proceed: no `If-Match`, or `current` (the resource's quoted
/// strong tag; `None` when it does not exist) matches it. A missing resource fails any
/// `If-Match`, even `*`.
pub fn if_match(headers: &HeaderMap, current: Option<&[u8]>) -> bool {
    let mut if_match = headers.get_all(IF_MATCH).iter().peekable();
    if if_match.peek().is_none() {
        return true;
    }
    let Some(current) = current else {
        return false;
    };
    if_match.any(|value| etag_list_matches(value.as_bytes(), current, true))
}

/// Whether an `If-None-Match` or `If-Match` field value (`*` or a comma-separated list of
/// entity tags) matches `ours` (a quoted strong tag), by weak comparison or, if `strong`, by
/// strong comparison (a weak tag never matches). Parsing stops at the first malformed
/// element: what came before it still counts, nothing after it does.
fn etag_list_matches(mut list: &[u8], ours: &[u8], strong: bool) -> bool {
    let ours = strip_weak(ours);
    loop {
        list = list.trim_ascii_start();
        while let Some(rest) = list.strip_prefix(b",") {
            list = rest.trim_ascii_start();
        }
        if list.is_empty() {
            return false;
        }
        if list.starts_with(b"*") {
            return true;
        }
        let weak = list.starts_with(b"W/");
        let tag = strip_weak(list);
        let Some(body) = tag.strip_prefix(b"\"") else {
            return false;
        };
        // An entity tag's characters exclude DQUOTE, so the next quote closes it.
        let Some(end) = body.iter().position(|&b| b == b'"') else {
            return false;
        };
        if &tag[..end + 2] == ours && !(strong && weak) {
            return true;
        }
        list = &body[end + 1..];
    }
}

fn strip_weak(tag: &[u8]) -> &[u8] {
    tag.strip_prefix(b"W/").unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use std::time::{Duration, UNIX_EPOCH};

    const ETAG: &[u8] = b"\"abc123\"";
    /// Sat, 14 May 2022 09:30:00 GMT
    const LAST_MODIFIED: u64 = 1_652_520_600;

    fn headers(headers: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn check(list: &[(&str, &str)]) -> bool {
        let last_modified = UNIX_EPOCH + Duration::from_secs(LAST_MODIFIED);
        not_modified(&headers(list), ETAG, last_modified, None)
    }

    #[test]
    fn the_rules_in_order() {
        let inm = "if-none-match";
        let ims = "if-modified-since";
        type Case<'a> = (&'a [(&'a str, &'a str)], bool, &'a str);
        let cases: &[Case] = &[
            (&[], false, "unconditional"),
            (&[(inm, "\"abc123\"")], true, "exact tag"),
            (&[(inm, "W/\"abc123\"")], true, "weak comparison ignores W/"),
            (&[(inm, "\"x\", \"abc123\"")], true, "list"),
            (&[(inm, "\"x\",W/\"abc123\"")], true, "list without spaces"),
            (
                &[(inm, "\"x\""), (inm, "\"abc123\"")],
                true,
                "several header lines",
            ),
            (&[(inm, "*")], true, "star"),
            (&[(inm, "\"abc1234\"")], false, "other tag"),
            (&[(inm, "abc123")], false, "unquoted is malformed"),
            (&[(inm, "\"abc")], false, "unterminated"),
            (&[(inm, "\"a,b\", \"abc123\"")], true, "comma inside a tag"),
            (&[(inm, ", ,\"abc123\"")], true, "empty list elements"),
            (
                &[(ims, "Sat, 14 May 2022 09:30:00 GMT")],
                true,
                "IMF-fixdate, equal",
            ),
            (
                &[(ims, "Sat, 14 May 2022 09:29:59 GMT")],
                false,
                "one second earlier",
            ),
            (&[(ims, "Sun, 15 May 2022 00:00:00 GMT")], true, "later"),
            (
                &[(ims, "Saturday, 14-May-22 09:30:00 GMT")],
                true,
                "RFC 850 date",
            ),
            (&[(ims, "Sat May 14 09:30:00 2022")], true, "asctime date"),
            (&[(ims, "yesterday")], false, "invalid date is ignored"),
            (
                &[(inm, "\"other\""), (ims, "Sun, 15 May 2022 00:00:00 GMT")],
                false,
                "If-None-Match wins over If-Modified-Since",
            ),
            (
                &[(inm, "\"abc123\""), (ims, "Sat, 01 Jan 2000 00:00:00 GMT")],
                true,
                "If-None-Match wins even when the date says modified",
            ),
        ];
        for (headers, expected, why) in cases {
            assert_eq!(check(headers), *expected, "{why}: {headers:?}");
        }
    }

    #[test]
    fn an_ambiguous_second_is_never_taken_for_our_bytes() {
        // Stamped 09:30:00 after bytes stamped up to 09:30:05 (the clock was set back).
        let at = UNIX_EPOCH + Duration::from_secs(LAST_MODIFIED);
        let until = at + Duration::from_secs(5);
        let check = |list: &[(&str, &str)]| not_modified(&headers(list), ETAG, at, Some(until));
        let same_second = ("if-modified-since", "Sat, 14 May 2022 09:30:00 GMT");
        let newest_earlier = ("if-modified-since", "Sat, 14 May 2022 09:30:05 GMT");
        let after = ("if-modified-since", "Sat, 14 May 2022 09:30:06 GMT");
        assert!(
            !check(&[same_second]),
            "the second names more than one version"
        );
        assert!(!check(&[newest_earlier]), "nor does one earlier bytes had");
        assert!(check(&[after]), "a date after every stamp names ours");
        assert!(check(&[("if-none-match", "\"abc123\""), same_second]));
        assert!(!check(&[("if-none-match", "\"old\""), after]));
    }

    #[test]
    fn if_match_uses_strong_comparison_and_needs_the_resource() {
        let check = |values: &[&str], current: Option<&[u8]>| {
            let mut map = HeaderMap::new();
            for value in values {
                map.append(IF_MATCH, HeaderValue::from_str(value).unwrap());
            }
            if_match(&map, current)
        };
        type Case<'a> = (&'a [&'a str], Option<&'a [u8]>, bool, &'a str);
        let cases: &[Case] = &[
            (&[], Some(ETAG), true, "no If-Match: unconditional"),
            (&[], None, true, "no If-Match, no resource"),
            (&["\"abc123\""], Some(ETAG), true, "same tag"),
            (&["\"x\", \"abc123\""], Some(ETAG), true, "in a list"),
            (&["\"x\""], Some(ETAG), false, "stale tag"),
            (&["W/\"abc123\""], Some(ETAG), false, "weak never matches"),
            (&["*"], Some(ETAG), true, "star, resource exists"),
            (&["*"], None, false, "star, no resource"),
            (&["\"abc123\""], None, false, "tag, no resource"),
            (&["abc123"], Some(ETAG), false, "unquoted"),
        ];
        for (values, current, expected, why) in cases {
            assert_eq!(check(values, *current), *expected, "{why}");
        }
    }
}
