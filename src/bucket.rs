//! Publishing to a bucket for a CDN (`[publish]` in `site.toml`): every feed file whose
//! bytes change is copied to an S3-compatible bucket with its `.gz` and `.br` variants
//! (`Feed::static_files`, the files `build --out` writes), each object with the headers
//! pressfeed would send (Content-Type, Content-Encoding, Cache-Control); a feed that goes
//! away is deleted. Off the scheduler's thread and off the request path. Of replicas
//! sharing a store, the holder of the singleton lease does it (`schedule`), and on taking
//! the lease it copies every file and deletes what the catalog no longer has, which mends
//! whatever was missed while nobody held it.
//!
//! Uploads of one file are coalesced (the newest bytes win, a file changed twice while its
//! upload waits is sent once); a failed one is tried again after `RETRY`, unless newer
//! bytes came meanwhile.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt as _, PutOptions};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{info, warn};

use crate::catalog::{Feed, static_file_names};
use crate::config::Bucket;
use crate::metrics::Metrics;

/// How long a failed upload waits before it is tried again: a bucket that fails fails
/// for a while; the log says so once a second at most.
const RETRY: Duration = Duration::from_secs(1);
/// Objects sent at once: a sync of every file is many, and S3 prefers a few connections.
const AT_ONCE: usize = 16;

/// Why the bucket cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("the [publish] bucket: {0}")]
pub struct BucketError(#[from] object_store::Error);

/// What became of one file since it was last copied.
enum Change {
    Put(Arc<Feed>),
    Delete,
}

enum Job {
    /// These files' bytes changed, or they went away (`None`).
    Files(Vec<(String, Option<Arc<Feed>>)>),
    /// Copy all of these, and delete every other object under the prefix.
    Sync(Vec<(String, Arc<Feed>)>),
}

/// The scheduler's end: cheap, never blocks.
#[derive(Clone)]
pub struct Uploads(mpsc::UnboundedSender<Job>);

impl Uploads {
    /// Copies these files (`Some`) or deletes them (`None`).
    pub fn changed(&self, files: Vec<(String, Option<Arc<Feed>>)>) {
        if !files.is_empty() {
            let _ = self.0.send(Job::Files(files));
        }
    }

    /// Makes the bucket hold exactly `files`: copies every one and deletes the rest.
    pub fn sync(&self, files: Vec<(String, Arc<Feed>)>) {
        let _ = self.0.send(Job::Sync(files));
    }
}

/// Connects to `bucket` (credentials from the environment, as every S3 tool reads them)
/// and starts the task that copies; abort the handle to stop it (an upload in progress is
/// one object: a reader sees the old bytes or the new).
pub fn start(
    bucket: &Bucket,
    metrics: Arc<Metrics>,
) -> Result<(Uploads, JoinHandle<()>), BucketError> {
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(&bucket.target.bucket)
        .with_region(&bucket.region);
    if let Some(endpoint) = &bucket.endpoint {
        let endpoint = endpoint.as_str().trim_end_matches('/');
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false);
    }
    let store: Arc<dyn ObjectStore> = Arc::new(builder.build()?);
    let prefix = Path::from(bucket.target.prefix.as_str());
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(run(store, prefix, rx, metrics));
    Ok((Uploads(tx), task))
}

async fn run(
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    mut rx: mpsc::UnboundedReceiver<Job>,
    metrics: Arc<Metrics>,
) {
    let mut pending: BTreeMap<String, Change> = BTreeMap::new();
    // After a sync: the files the bucket keeps; every other object under the prefix goes.
    let mut keep: Option<BTreeSet<String>> = None;
    loop {
        if pending.is_empty() && keep.is_none() {
            let Some(job) = rx.recv().await else { return };
            take(job, &mut pending, &mut keep);
        }
        while let Ok(job) = rx.try_recv() {
            take(job, &mut pending, &mut keep);
        }
        let batch = std::mem::take(&mut pending);
        let mut failed = false;
        let mut sends = JoinSet::new();
        let mut batch = batch.into_iter();
        loop {
            while sends.len() < AT_ONCE
                && let Some((name, change)) = batch.next()
            {
                let (store, prefix) = (store.clone(), prefix.clone());
                sends.spawn(async move {
                    let sent = send(&*store, &prefix, &name, &change).await;
                    (name, change, sent)
                });
            }
            let Some(sent) = sends.join_next().await else {
                break;
            };
            let (name, change, sent) = sent.expect("an upload does not panic");
            match &sent {
                Ok(()) => metrics.bucket_ok.inc(),
                Err(_) => metrics.bucket_error.inc(),
            };
            if let Err(e) = sent {
                warn!(file = %name, error = %e, "copying to the bucket failed; will retry");
                failed = true;
                // Newer bytes, come meanwhile, replace these.
                pending.entry(name).or_insert(change);
            }
        }
        if let Some(kept) = &keep
            && !failed
        {
            match prune(&*store, &prefix, kept).await {
                Ok(deleted) => {
                    info!(
                        files = kept.len(),
                        deleted, "the bucket holds the feeds served"
                    );
                    keep = None;
                }
                Err(e) => {
                    warn!(error = %e, "listing the bucket to delete what went away failed; will retry");
                    failed = true;
                }
            }
        }
        if failed {
            tokio::time::sleep(RETRY).await;
        }
    }
}

fn take(job: Job, pending: &mut BTreeMap<String, Change>, keep: &mut Option<BTreeSet<String>>) {
    match job {
        Job::Files(files) => {
            for (name, feed) in files {
                // A sync not yet done keeps what changed since it was asked for.
                if let Some(kept) = keep.as_mut() {
                    for key in static_file_names(&name) {
                        match feed {
                            Some(_) => kept.insert(key),
                            None => kept.remove(&key),
                        };
                    }
                }
                pending.insert(name, feed.map_or(Change::Delete, Change::Put));
            }
        }
        Job::Sync(files) => {
            let mut kept = BTreeSet::new();
            for (name, feed) in files {
                kept.extend(feed.static_files(&name).map(|(key, _)| key));
                pending.insert(name, Change::Put(feed));
            }
            *keep = Some(kept);
        }
    }
}

/// Copies one file's objects, or deletes them.
async fn send(
    store: &dyn ObjectStore,
    prefix: &Path,
    name: &str,
    change: &Change,
) -> object_store::Result<()> {
    match change {
        Change::Put(feed) => {
            for (key, variant) in feed.static_files(name) {
                let mut attributes = Attributes::new();
                let text =
                    |value: &http::HeaderValue| value.to_str().unwrap_or_default().to_owned();
                attributes.insert(Attribute::ContentType, text(&feed.content_type).into());
                attributes.insert(Attribute::CacheControl, text(&feed.cache_control).into());
                if let Some(coding) = &variant.content_encoding {
                    attributes.insert(Attribute::ContentEncoding, text(coding).into());
                }
                let options = PutOptions {
                    attributes,
                    ..PutOptions::default()
                };
                store
                    .put_opts(
                        &prefix.clone().join(key.as_str()),
                        variant.body.clone().into(),
                        options,
                    )
                    .await?;
            }
        }
        Change::Delete => {
            for key in static_file_names(name) {
                match store.delete(&prefix.clone().join(key.as_str())).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(())
}

/// Deletes every object under `prefix` (at its top level) not in `kept`; returns how many.
async fn prune(
    store: &dyn ObjectStore,
    prefix: &Path,
    kept: &BTreeSet<String>,
) -> object_store::Result<usize> {
    let listed = store.list_with_delimiter(Some(prefix)).await?;
    let mut deleted = 0;
    for object in listed.objects {
        let Some(key) = object.location.filename() else {
            continue;
        };
        if !kept.contains(key) {
            store.delete(&object.location).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
