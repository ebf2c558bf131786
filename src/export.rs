//! `pressfeed build --out DIR`: every file `serve` publishes, written to `DIR/feeds/` for a
//! CDN or a bucket, with its precompressed `.gz` and `.br` variants (what nginx's
//! `gzip_static`/`brotli_static` and most CDNs pick up) and a `<file>.headers.json` sidecar
//! holding the headers pressfeed would send with it. The files come from `publish`, the
//! scheduler's own path, and the sections' archive documents from `ondemand`, the path a
//! request for one takes, so they are the very bytes `serve` sends in each coding. Feeds
//! built on demand (the site, tags, authors) are not written: their names have no end.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use http::HeaderValue;

use crate::catalog::{Coding, Feed};
use crate::config::Config;
use crate::fsutil::write_atomically;
use crate::store::{Store, StoreError};
use crate::{ondemand, publish};

/// The sidecar's suffix: `world.rss.headers.json`.
pub const SIDECAR_SUFFIX: &str = ".headers.json";

/// Why `pressfeed build --out` stopped; files written before stay.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the articles, or saving the feeds' validators, failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A directory or file under `out/feeds/` could not be written.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Writes every file, its compressed variants and its sidecar under `out/feeds/`; returns
/// how many files (not counting variants and sidecars).
pub fn export(
    config: &Config,
    store: &Store,
    out: &Path,
    now: DateTime<Utc>,
) -> Result<usize, ExportError> {
    let dir = out.join("feeds");
    std::fs::create_dir_all(&dir).map_err(|source| ExportError::Write {
        path: dir.clone(),
        source,
    })?;
    let files = publish::everything(store, config, now)?;
    for (name, feed) in &files {
        write_file(&dir, name, feed)?;
    }
    let archives = ondemand::section_archives(store, config, now, |name, feed| {
        write_file(&dir, name, feed)
    })?;
    Ok(files.len() + archives)
}

/// Writes `feed`, published as `name`, in every coding, and its sidecar under `dir`.
fn write_file(dir: &Path, name: &str, feed: &Feed) -> Result<(), ExportError> {
    for (file, variant) in feed.static_files(name) {
        write(&dir.join(file), &variant.body)?;
    }
    write(
        &dir.join(format!("{name}{SIDECAR_SUFFIX}")),
        &sidecar(feed, &feed.variant(Coding::Identity).etag),
    )
}

/// The identity representation's headers as served, as JSON.
fn sidecar(feed: &Feed, etag: &HeaderValue) -> Vec<u8> {
    // Every value was built from ASCII (see `catalog`), so `to_str` cannot fail.
    let text = |value: &HeaderValue| value.to_str().unwrap_or_default().to_owned();
    let headers = serde_json::json!({
        "content_type": text(&feed.content_type),
        "etag": text(etag),
        "last_modified": text(&feed.last_modified_header),
        "cache_control": text(&feed.cache_control),
    });
    let mut bytes = serde_json::to_vec_pretty(&headers).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Writes `bytes` to `path`, making its folder first: partner feeds and archive documents
/// are in folders of their own (`partners/msn/`, `world/archive/`).
fn write(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let folder = path.parent().map_or(Ok(()), std::fs::create_dir_all);
    folder
        .and_then(|()| write_atomically(path, bytes))
        .map_err(|source| ExportError::Write {
            path: path.to_owned(),
            source,
        })
}
