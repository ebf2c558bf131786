//! The catalog: every built feed with its bytes, compressed variants and precomputed
//! headers, swapped in whole after a build. The one piece of state the scheduler and the
//! HTTP server share.

use crate::partner::SectionProblems;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::HeaderValue;

use crate::sendfile;
use crate::store::FeedState;

/// Extra seconds a cache may serve a feed while it revalidates, or while pressfeed is down.
/// Feeds are news: a minute stale while revalidating is fine, an hour stale beats an error.
pub const STALE_WHILE_REVALIDATE: u32 = 60;
pub const STALE_IF_ERROR: u32 = 3600;

const VARY_ENCODING: &str = "Accept-Encoding";
const VARY_ACCEPT: &str = "Accept, Accept-Encoding";

/// The content codings every feed is stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    pub const ALL: [Coding; 3] = [Coding::Identity, Coding::Gzip, Coding::Brotli];

    /// The `Content-Encoding` token (`identity` is never sent).
    pub fn token(self) -> &'static str {
        match self {
            Coding::Identity => "identity",
            Coding::Gzip => "gzip",
            Coding::Brotli => "br",
        }
    }

    /// What sets this variant's ETag apart: each coding is its own representation.
    fn etag_suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => "-gz",
            Coding::Brotli => "-br",
        }
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    // The default level (6): on a 250 KB feed 0.3% more bytes than the best (9) in
    // half the time, and every replica compresses every change.
    let mut out = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    out.write_all(body).expect("writing to a Vec cannot fail");
    out.finish().expect("writing to a Vec cannot fail")
}

fn brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 5);
    // Quality 6: on a 250 KB feed about 6% more bytes than quality 9 at a fifth of
    // the time (BENCHMARKS.md, "Compression levels"). Every replica compresses every
    // change, and with quality 9 the compression of a few sections' feeds took most
    // of the one-second freshness budget on a loaded machine.
    // The window fitted to the feed (at most 4 MB, as before): the same output,
    // but the encoder zeroes and keeps a ring buffer of 256 KB for a 250 KB
    // feed instead of 4 MB, which was most of a rebuild's peak memory. Never under
    // 128 KB: with a window of 64 KB or less the encoder picks another hash table,
    // which it allocates and zeroes whole, so a 38 KB preview took 5 ms instead of
    // 0.5 ms (and fewer bytes).
    let lgwin = (usize::BITS - (body.len() + 16).leading_zeros()).clamp(17, 22);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 6,
        lgwin: lgwin as i32,
        size_hint: body.len(),
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params)
        .expect("writing to a Vec cannot fail");
    out
}

/// Bytes to keep for as long as their feed is served, in an allocation of their size. A
/// `Vec` grown while writing, or made with room for the worst case (a compressor's output),
/// holds up to three times its length, and `Bytes::from` keeps all of it: what a cache
/// bounded in bytes counts would be a third of what it holds.
fn kept(bytes: Vec<u8>) -> Bytes {
    if bytes.capacity() == bytes.len() {
        Bytes::from(bytes)
    } else {
        Bytes::copy_from_slice(&bytes)
    }
}

/// The names of `Feed::static_files`, in `Coding::ALL` order.
pub fn static_file_names(name: &str) -> [String; 3] {
    [name.to_owned(), format!("{name}.gz"), format!("{name}.br")]
}

/// One coding of a feed.
#[derive(Debug, Clone)]
pub struct Variant {
    pub body: Bytes,
    /// A strong ETag: `"<hash>"`, `"<hash>-gz"`, `"<hash>-br"`.
    pub etag: HeaderValue,
    /// `None` for identity.
    pub content_encoding: Option<HeaderValue>,
}

/// One feed as served: bytes in every coding and every header value computed at build time.
#[derive(Debug)]
pub struct Feed {
    /// The validators: `content_hash` of the identity bytes, and Last-Modified.
    pub state: FeedState,
    variants: [Variant; 3],
    pub content_type: HeaderValue,
    /// Whether a browser asking for this file is sent its HTML preview instead (a feed's;
    /// see `build::preview`), so the answer varies with `Accept`.
    pub previewed: bool,
    /// Seconds, as in `cache_control`.
    pub max_age: u32,
    pub cache_control: HeaderValue,
    /// `state.last_modified`, as HTTP dates carry it (whole seconds).
    pub last_modified: SystemTime,
    pub last_modified_header: HeaderValue,
}

impl Feed {
    /// The files a static host or a bucket keeps of this feed, published as `name`: each
    /// coding's bytes under `name`, `name.gz` and `name.br` (the names nginx's
    /// `gzip_static`/`brotli_static` and most CDNs look for).
    pub fn static_files(&self, name: &str) -> [(String, &Variant); 3] {
        let [identity, gzip, brotli] = static_file_names(name);
        [
            (identity, self.variant(Coding::Identity)),
            (gzip, self.variant(Coding::Gzip)),
            (brotli, self.variant(Coding::Brotli)),
        ]
    }

    /// Wraps built bytes: compresses them and computes every header. `state.hash` is
    /// `content_hash(&body)`.
    pub fn new(body: Vec<u8>, state: FeedState, content_type: &'static str, max_age: u32) -> Feed {
        // Both on this thread: a thread made for gzip, as before, cost more than it saved
        // once compressing got cheap. Each thread that ends leaves its allocator's pages
        // behind, and a crawler's stream of cold builds made 15,000 of them in 30 s
        // (BENCHMARKS.md, 2026-12-06, morning).
        let (gzip, brotli) = (gzip(&body), brotli(&body));
        // In `Coding::ALL` order.
        let bodies = [body, gzip, brotli].map(kept);
        Feed::restore(
            state,
            bodies,
            HeaderValue::from_static(content_type),
            false,
            max_age,
        )
    }

    /// A feed from bytes already in every coding (`bodies` in `Coding::ALL` order), as
    /// saved by an earlier run: nothing is compressed again.
    pub fn restore(
        state: FeedState,
        bodies: [Bytes; 3],
        content_type: HeaderValue,
        previewed: bool,
        max_age: u32,
    ) -> Feed {
        let mut bodies = bodies.into_iter();
        let variants = Coding::ALL.map(|coding| Variant {
            body: sendfile::sendable(bodies.next().expect("one body per coding")),
            etag: header(format!("\"{}{}\"", state.hash, coding.etag_suffix())),
            content_encoding: (coding != Coding::Identity)
                .then(|| HeaderValue::from_static(coding.token())),
        });
        Feed {
            previewed,
            ..Feed::with_variants(state, variants, content_type, max_age)
        }
    }

    /// The same file, with a preview for browsers (see `previewed`).
    pub fn with_preview(mut self) -> Feed {
        self.previewed = true;
        self
    }

    /// `Accept-Encoding`, plus `Accept` when a browser is sent the preview.
    pub fn vary(&self) -> HeaderValue {
        Feed::vary_of(self.previewed)
    }

    /// The `Vary` of a file's URL: `Accept-Encoding`, plus `Accept` when the file is
    /// `previewed` (a feed whose URL sends browsers its preview).
    pub fn vary_of(previewed: bool) -> HeaderValue {
        HeaderValue::from_static(if previewed {
            VARY_ACCEPT
        } else {
            VARY_ENCODING
        })
    }

    /// The same bytes with other headers: no compression again when only `max_age` or
    /// Last-Modified changed. `state.hash` is this feed's.
    pub fn with_headers(&self, state: FeedState, max_age: u32) -> Feed {
        Feed {
            previewed: self.previewed,
            ..Feed::with_variants(
                state,
                self.variants.clone(),
                self.content_type.clone(),
                max_age,
            )
        }
    }

    fn with_variants(
        state: FeedState,
        variants: [Variant; 3],
        content_type: HeaderValue,
        max_age: u32,
    ) -> Feed {
        let last_modified = UNIX_EPOCH + Duration::from_secs(state.last_modified.max(0) as u64);
        Feed {
            state,
            variants,
            content_type,
            previewed: false,
            max_age,
            cache_control: header(format!(
                "public, max-age={max_age}, stale-while-revalidate={STALE_WHILE_REVALIDATE}, stale-if-error={STALE_IF_ERROR}"
            )),
            last_modified_header: header(httpdate::fmt_http_date(last_modified)),
            last_modified,
        }
    }

    pub fn variant(&self, coding: Coding) -> &Variant {
        &self.variants[coding as usize]
    }

    /// The bytes of every coding together: what keeping this feed costs.
    pub fn size(&self) -> usize {
        self.variants.iter().map(|v| v.body.len()).sum()
    }

    /// While Last-Modified is ambiguous, the newest second stamped on earlier bytes: an
    /// `If-Modified-Since` up to it does not name these bytes alone (RFC 9110 §8.8.2.2
    /// deems a date a strong validator only when the origin server "reliably knows that
    /// the associated representation did not change twice during the second covered").
    pub fn ambiguous_until(&self) -> Option<SystemTime> {
        let until = self.state.ambiguous_until?;
        Some(UNIX_EPOCH + Duration::from_secs(until.max(0) as u64))
    }
}

fn header(value: String) -> HeaderValue {
    HeaderValue::from_str(&value).expect("built from ASCII digits, letters and punctuation")
}

/// Every feed of one moment, immutable once published.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// By file name, e.g. `top-news.rss`.
    pub feeds: HashMap<String, Arc<Feed>>,
    /// File names of feeds that were served once and whose section has since been deleted:
    /// they answer 410 so readers unsubscribe instead of retrying a 404 for ever.
    pub gone: HashSet<String>,
    /// True once the first build has finished.
    pub ready: bool,
    /// What the lint found in each section's partner feeds when they were built (sections
    /// without problems have none here).
    pub problems: SectionProblems,
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
    use crate::digest::content_hash;
    use std::io::Read;

    fn state(body: &[u8], last_modified: i64) -> FeedState {
        FeedState {
            hash: content_hash(body),
            last_modified,
            ambiguous_until: None,
        }
    }

    fn feed(body: &'static [u8], max_age: u32, last_modified: i64) -> Feed {
        Feed::new(
            body.to_vec(),
            state(body, last_modified),
            "application/rss+xml",
            max_age,
        )
    }

    #[test]
    fn the_etag_follows_the_bytes_and_the_coding() {
        let a = feed(b"<rss/>", 60, 0);
        let b = feed(b"<rss/>", 300, 99);
        let c = feed(b"<rss />", 60, 0);
        let etag = |f: &Feed, coding| f.variant(coding).etag.clone();
        assert_eq!(etag(&a, Coding::Identity), etag(&b, Coding::Identity));
        assert_ne!(etag(&a, Coding::Identity), etag(&c, Coding::Identity));
        assert_eq!(etag(&a, Coding::Identity).len(), 34);
        assert_eq!(
            etag(&a, Coding::Gzip).to_str().unwrap(),
            format!("\"{}-gz\"", a.state.hash)
        );
        assert_ne!(etag(&a, Coding::Brotli), etag(&a, Coding::Gzip));
    }

    #[test]
    fn compressed_variants_decode_to_the_same_bytes() {
        let body = "<item>news</item>".repeat(1000);
        let f = Feed::new(
            body.clone().into_bytes(),
            state(body.as_bytes(), 0),
            "application/rss+xml",
            60,
        );
        let gz = &f.variant(Coding::Gzip).body;
        assert!(gz.len() < body.len() / 10);
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, body);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &f.variant(Coding::Brotli).body[..], &mut out).unwrap();
        assert_eq!(out, body.as_bytes());
        assert_eq!(
            f.variant(Coding::Brotli).content_encoding.as_ref().unwrap(),
            "br"
        );
    }

    #[test]
    fn headers_are_ready_to_send() {
        let f = feed(b"", 120, 1_652_520_600);
        assert_eq!(f.last_modified_header, "Sat, 14 May 2022 09:30:00 GMT");
        assert_eq!(
            f.cache_control,
            "public, max-age=120, stale-while-revalidate=60, stale-if-error=3600"
        );
        let g = f.with_headers(state(b"", 1_652_520_601), 300);
        assert_eq!(
            g.cache_control,
            "public, max-age=300, stale-while-revalidate=60, stale-if-error=3600"
        );
        assert_eq!(g.content_type, "application/rss+xml");
        assert_eq!(g.vary(), "Accept-Encoding");
        let h = f
            .with_headers(state(b"", 2), 1)
            .with_preview()
            .with_headers(state(b"", 4), 3);
        assert!(h.previewed);
        assert_eq!(h.vary(), "Accept, Accept-Encoding");
        assert_eq!(g.variant(Coding::Gzip).body, f.variant(Coding::Gzip).body);
        assert_eq!(g.ambiguous_until(), None);
        let ambiguous = FeedState {
            ambiguous_until: Some(1_652_520_601),
            ..state(b"", 1_652_520_601)
        };
        let a = f.with_headers(ambiguous, 300);
        assert_eq!(a.last_modified_header, "Sat, 14 May 2022 09:30:01 GMT");
        assert_eq!(a.ambiguous_until(), Some(a.last_modified));
    }
}
