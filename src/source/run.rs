//! Running the sources: one tokio task per `[[sources]]` entry, polling at start and then on
//! its cron schedule, one poll at a time (a poll longer than the interval skips the firings
//! it overran). A supervisor follows the configuration in force: a source added, changed or
//! removed in `site.toml` is started, restarted or stopped without a restart of the server.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::{AbortHandle, JoinSet};
use tracing::{error, info, warn};

use super::directory::DirectorySource;
use super::intake::Intake;
use super::json::{self, JsonSource};
use super::status::{Counts, Registry, Report};
use super::wordpress::WordPressSource;
use super::{Origin, Source, SourceError};
use crate::client::HttpClient;
use crate::clock::Clock;
use crate::config::{Config, LiveConfig};
use crate::schedule::Notifier;
use crate::store::Store;

/// How often the supervisor looks for a new configuration: a pointer comparison.
const RELOAD_POLL: Duration = Duration::from_secs(1);

/// Runs the sources of the configuration in `live`, and follows its changes: spawn it and
/// abort the task to stop every source at once (a write in progress finishes on its
/// blocking thread, each is one transaction, so nothing is half-written). `registry` hears
/// how each is doing; `clock` says when each poll is due.
pub async fn supervise(
    live: Arc<LiveConfig>,
    store: Store,
    notifier: Notifier,
    client: HttpClient,
    registry: Registry,
    clock: Clock,
) {
    // Owned here, so that aborting the supervisor aborts every source.
    let mut tasks = JoinSet::new();
    let mut running: HashMap<String, (Arc<Source>, AbortHandle)> = HashMap::new();
    let mut applied: Option<Arc<Config>> = None;
    let mut tick = tokio::time::interval(RELOAD_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            Some(ended) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                // A source task ends only when aborted or when it panicked.
                if let Err(e) = ended && e.is_panic() {
                    let name = running
                        .iter()
                        .find(|(_, (_, handle))| handle.id() == e.id())
                        .map(|(name, _)| name.clone());
                    if let Some(name) = name {
                        error!(source = %name, "the source's task panicked; restarting it");
                        registry.failed(&name, &Counts::default(), "the source's task panicked".into(), clock.now());
                        running.remove(&name);
                        // Reconciled at the next tick, which starts it again.
                        applied = None;
                    }
                }
                continue;
            }
        }
        let config = live.current().config.clone();
        if applied.as_ref().is_some_and(|a| Arc::ptr_eq(a, &config)) {
            continue;
        }
        let wanted: HashMap<&str, &Source> = config
            .site
            .sources
            .iter()
            .map(|s| (s.name.as_str(), s))
            .collect();
        running.retain(|name, (source, handle)| {
            let keep = wanted
                .get(name.as_str())
                .is_some_and(|w| *w == source.as_ref());
            if !keep {
                info!(source = %name, "source stopped: it changed or left the configuration");
                handle.abort();
                registry.unregister(name);
            }
            keep
        });
        for source in &config.site.sources {
            let name = source.name.to_string();
            if running.contains_key(&name) {
                continue;
            }
            let source = Arc::new(source.clone());
            registry.register(&source);
            let intake = Intake::new(&name, store.clone(), notifier.clone());
            let puller = Puller::new(source.clone(), &config.dir, client.clone(), intake);
            let handle = tasks.spawn(poll_forever(
                source.clone(),
                puller,
                registry.clone(),
                clock.clone(),
            ));
            info!(source = %name, kind = source.kind(), location = %source.location(), schedule = source.schedule.as_str(), "source started");
            running.insert(name, (source, handle));
        }
        applied = Some(config);
    }
}

/// Polls `source` at once, then at every firing of its schedule.
async fn poll_forever(source: Arc<Source>, mut puller: Puller, registry: Registry, clock: Clock) {
    let name = source.name.to_string();
    let mut next = Some(clock.now());
    loop {
        registry.next_poll(&name, next);
        let Some(at) = next else {
            // A schedule that never fires again (a past year): nothing more to do.
            return std::future::pending().await;
        };
        clock.sleep_until(at).await;
        registry.polling(&name, clock.now());
        let mut counts = Counts::default();
        match puller.poll(&mut counts).await {
            Ok(not_modified) => {
                if counts.upserted + counts.retracted > 0 {
                    info!(source = %name, upserted = counts.upserted, retracted = counts.retracted, skipped = counts.skipped, "source polled");
                }
                registry.succeeded(
                    &name,
                    &Report {
                        counts,
                        not_modified,
                    },
                    clock.now(),
                );
            }
            Err(e) => {
                warn!(source = %name, error = %e, "source poll failed; the next poll tries again");
                registry.failed(&name, &counts, e.to_string(), clock.now());
            }
        }
        next = source.schedule.next_after(clock.now());
    }
}

/// A source's reader, by kind.
enum Puller {
    WordPress(Box<WordPressSource>),
    Json(Box<JsonSource>),
    Directory(DirectorySource),
}

impl Puller {
    fn new(source: Arc<Source>, feeds_dir: &Path, client: HttpClient, intake: Intake) -> Puller {
        match &source.origin {
            Origin::WordPress(root) => {
                let root = root.as_url().clone();
                Puller::WordPress(Box::new(WordPressSource::new(source, root, client, intake)))
            }
            Origin::JsonUrl(url) => {
                let location = json::Location::Url(url.as_url().clone());
                Puller::Json(Box::new(JsonSource::new(source, location, client, intake)))
            }
            Origin::JsonFile(path) => {
                let location = json::Location::File(feeds_dir.join(path), None);
                Puller::Json(Box::new(JsonSource::new(source, location, client, intake)))
            }
            Origin::Directory(path) => {
                let dir = feeds_dir.join(path);
                Puller::Directory(DirectorySource::new(source, dir, intake))
            }
        }
    }

    /// One poll; true when the source said nothing changed.
    async fn poll(&mut self, counts: &mut Counts) -> Result<bool, SourceError> {
        match self {
            Puller::WordPress(wp) => wp.poll(counts).await.map(|()| false),
            Puller::Json(json) => json.poll(counts).await,
            Puller::Directory(dir) => dir.poll(counts).await,
        }
    }
}
