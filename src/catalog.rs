//! The catalog: every built feed with its bytes and precomputed headers, swapped in whole
//! after a build. The one piece of state the scheduler and the HTTP server share.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::HeaderValue;

/// Extra seconds a cache may serve a feed while it revalidates, or while pressfeed is down.
/// Feeds are news: a few minutes stale beats an error page, an hour stale does not.
const STALE_WHILE_REVALIDATE: u32 = 60;
const STALE_IF_ERROR: u32 = 3600;

/// One feed as served: bytes and every header value computed once, at build time.
#[derive(Debug)]
pub struct Feed {
    pub body: Bytes,
    /// A strong ETag from the bytes, quoted: `"<hash>"`.
    pub etag: HeaderValue,
    pub content_type: HeaderValue,
    pub cache_control: HeaderValue,
    /// Whole seconds, as HTTP dates carry them.
    pub last_modified: SystemTime,
    pub last_modified_header: HeaderValue,
}

impl Feed {
    /// Wraps built bytes with their validators: `hash` is `content_hash(&body)`,
    /// `last_modified` is in unix seconds.
    pub fn new(
        body: Bytes,
        hash: &str,
        content_type: &'static str,
        max_age: u32,
        last_modified: i64,
    ) -> Feed {
        let last_modified = UNIX_EPOCH + Duration::from_secs(last_modified.max(0) as u64);
        Feed {
            etag: HeaderValue::from_str(&format!("\"{hash}\""))
                .expect("a hex hash is a valid header value"),
            content_type: HeaderValue::from_static(content_type),
            cache_control: HeaderValue::from_str(&format!(
                "public, max-age={max_age}, stale-while-revalidate={STALE_WHILE_REVALIDATE}, stale-if-error={STALE_IF_ERROR}"
            ))
            .expect("digits and ASCII are a valid header value"),
            last_modified_header: HeaderValue::from_str(&httpdate::fmt_http_date(last_modified))
                .expect("an HTTP date is a valid header value"),
            last_modified,
            body,
        }
    }
}

/// The hash that names a representation: 128 bits of BLAKE3, hex. Collisions would make a
/// cache keep stale bytes, so it must be a real hash, not a checksum.
pub fn content_hash(bytes: &[u8]) -> String {
    let hash = blake3::hash(bytes);
    hash.to_hex()[..32].to_owned()
}

/// Every feed of one moment, immutable once published.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// By file name, e.g. `top-news.rss`.
    pub feeds: HashMap<String, Arc<Feed>>,
    /// True once the first build has finished.
    pub ready: bool,
}

/// A cheap-to-clone handle on the current snapshot.
#[derive(Clone, Default)]
pub struct Catalog {
    // ArcSwap, not a lock: a request reads the snapshot with a few atomic operations and
    // never waits for a build, and a build replaces it whole.
    current: Arc<ArcSwap<Snapshot>>,
}

impl Catalog {
    pub fn snapshot(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    pub fn publish(&self, snapshot: Snapshot) {
        self.current.store(Arc::new(snapshot));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(body: &'static [u8], max_age: u32, last_modified: i64) -> Feed {
        let hash = content_hash(body);
        Feed::new(
            Bytes::from_static(body),
            &hash,
            "application/rss+xml",
            max_age,
            last_modified,
        )
    }

    #[test]
    fn the_etag_follows_the_bytes_only() {
        let a = feed(b"<rss/>", 60, 0);
        let b = feed(b"<rss/>", 300, 99);
        let c = feed(b"<rss />", 60, 0);
        assert_eq!(a.etag, b.etag);
        assert_ne!(a.etag, c.etag);
        assert_eq!(a.etag.len(), 34);
    }

    #[test]
    fn headers_are_ready_to_send() {
        let feed = feed(b"", 120, 1_652_520_600);
        assert_eq!(feed.last_modified_header, "Sat, 14 May 2022 09:30:00 GMT");
        assert_eq!(
            feed.cache_control,
            "public, max-age=120, stale-while-revalidate=60, stale-if-error=3600"
        );
    }
}
