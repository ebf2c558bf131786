//! Conditional-request and Accept-Encoding parsing on arbitrary header lines
//! (`name: value`, one a line), as hyper would hand them over.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use http::header::{IF_MATCH, IF_NONE_MATCH};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use pressfeed::http::cache::{if_match, not_modified};
use pressfeed::http::encoding::negotiate;

const ETAG: &[u8] = b"\"abc123\"";

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    let last_modified = UNIX_EPOCH + Duration::from_secs(1_652_520_600);
    not_modified(&headers, ETAG, last_modified, None);
    if headers.contains_key(IF_NONE_MATCH) {
        // Our own tag as one more field line can only make it match.
        let mut with_ours = headers.clone();
        with_ours.append(IF_NONE_MATCH, HeaderValue::from_static("\"abc123\""));
        assert!(not_modified(&with_ours, ETAG, last_modified, None));
    }
    if_match(&headers, Some(ETAG));
    if headers.contains_key(IF_MATCH) {
        assert!(
            !if_match(&headers, None),
            "a missing resource fails any If-Match"
        );
    }
    negotiate(&headers);
});
