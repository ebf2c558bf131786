//! Running the sources: one tokio task per `[[sources]]` entry, polling at start, then on
//! its cron schedule and whenever asked to poll now (`Registry::poll_now`), one poll at a
//! time (a poll longer than the interval skips the firings it overran; requests to poll
//! now made during a poll add up to one more). A poll that had to leave work for later
//! (a WordPress sweep not yet due) is followed by another when that work is due. A
//! supervisor follows the configuration in force: a source added, changed or removed in
//! `site.toml` is started, restarted or stopped without a restart of the server.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
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
use crate::config::Config;
use crate::live::LiveConfig;
use crate::schedule::Notifier;
use crate::store::Store;

/// How often the supervisor looks for a new configuration: a pointer comparison.
const RELOAD_POLL: Duration = Duration::from_secs(1);

/// Runs the sources of the configuration in `live`, and follows its changes: spawn it and
/// abort the task to stop every source at once (a write in progress finishes on its
/// blocking thread, each is one transaction, so nothing is half-written). `registry` hears
/// how each is doing; `clock` says when each poll is due; `held` whether this process holds
/// the singleton lease (`lease`), and so polls on schedule.
pub async fn supervise(
    live: Arc<LiveConfig>,
    store: Store,
    notifier: Notifier,
    client: HttpClient,
    registry: Registry,
    clock: Clock,
    held: watch::Receiver<bool>,
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
            let poll_now = registry.register(&source);
            let intake = Intake::new(&name, store.clone(), notifier.clone());
            let puller = Puller::new(
                source.clone(),
                &config.dir,
                client.clone(),
                intake,
                clock.clone(),
            );
            let handle = tasks.spawn(poll_forever(
                source.clone(),
                puller,
                registry.clone(),
                clock.clone(),
                poll_now,
                held.clone(),
            ));
            info!(source = %name, kind = source.kind(), location = %source.location(), schedule = source.schedule.as_str(), "source started");
            running.insert(name, (source, handle));
        }
        applied = Some(config);
    }
}

/// Polls `source` at once, then at every firing of its schedule and whenever `poll_now`
/// is notified; the scheduled polls only while `lease` says this process holds the
/// singleton lease, and at once when it takes it over.
async fn poll_forever(
    source: Arc<Source>,
    mut puller: Puller,
    registry: Registry,
    clock: Clock,
    poll_now: Arc<Notify>,
    mut lease: watch::Receiver<bool>,
) {
    let name = source.name.to_string();
    let mut next = Some(clock.now());
    loop {
        let held = *lease.borrow_and_update();
        registry.next_poll(&name, next);
        let scheduled = async {
            match next {
                Some(at) => clock.sleep_until(at).await,
                // A schedule that never fires again (a past year): only asking polls it.
                None => std::future::pending().await,
            }
        };
        let owed = async {
            match puller.owed() {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let taken_over = async {
            if held || lease.wait_for(|held| *held).await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let asked = tokio::select! {
            () = scheduled => false,
            () = owed => false,
            () = taken_over => {
                info!(source = %name, "polling: this replica took the singleton lease over");
                true
            }
            () = poll_now.notified() => {
                info!(source = %name, "polling now, as asked");
                true
            }
        };
        if !asked && !*lease.borrow() {
            // Another replica holds the lease and polls on schedule.
            next = source.schedule.next_after(clock.now());
            continue;
        }
        registry.polling(&name, clock.now());
        let mut report = Report::default();
        match puller.poll(&mut report).await {
            Ok(()) => {
                let counts = &report.counts;
                if counts.upserted + counts.retracted > 0 {
                    info!(source = %name, upserted = counts.upserted, retracted = counts.retracted, skipped = counts.skipped, "source polled");
                }
                registry.succeeded(&name, &report, clock.now());
            }
            Err(e) => {
                warn!(source = %name, error = %e, "source poll failed; the next poll tries again");
                registry.failed(&name, &report.counts, e.to_string(), clock.now());
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
    fn new(
        source: Arc<Source>,
        feeds_dir: &Path,
        client: HttpClient,
        intake: Intake,
        clock: Clock,
    ) -> Puller {
        match &source.origin {
            Origin::WordPress(site) => {
                let site = site.clone();
                Puller::WordPress(Box::new(WordPressSource::new(
                    source, site, client, intake, clock,
                )))
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

    /// When a poll is owed before the next scheduled one: the last one, asked for out of
    /// schedule, left out work whose pacing had not allowed it yet.
    fn owed(&self) -> Option<std::time::Instant> {
        match self {
            Puller::WordPress(wp) => wp.owed_sweep(),
            Puller::Json(_) | Puller::Directory(_) => None,
        }
    }

    /// One poll, told in `report` (also what it did before failing).
    async fn poll(&mut self, report: &mut Report) -> Result<(), SourceError> {
        let counts = &mut report.counts;
        match self {
            Puller::WordPress(wp) => report.terms_refreshed = wp.poll(counts).await?,
            Puller::Json(json) => report.not_modified = json.poll(counts).await?,
            Puller::Directory(dir) => report.not_modified = dir.poll(counts).await?,
        }
        Ok(())
    }
}
