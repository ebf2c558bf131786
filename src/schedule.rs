//! The scheduler: decides when each section's feeds are rebuilt and rebuilds them on its
//! own thread, publishing a new catalog snapshot. Requests never wait for it.
//!
//! A section is rebuilt when
//! - its cron `schedule` fires (a periodic re-collect, whatever else happens);
//! - a write touched one of its included sections: in-process writers say so through a
//!   `Notifier` (rebuilt after a short debounce that coalesces bursts), and writes by other
//!   processes show up in the store's change log, read when the store hears of a commit
//!   (`Notifier::articles_changed` again) and every `POLL` (`POLL_HEARING` while it hears);
//! - one of its scheduled articles' time comes (a timer on the next embargo);
//! - the configuration is reloaded.
//!
//! The change log and embargoes also name the keys of the feeds built on demand that a
//! change touched (`all`, tags, authors): those are dropped from `ondemand`'s cache, and
//! the next request builds them again. While WebSub hubs are configured, the dropped ones
//! are rebuilt after the sections, and the hubs told of those whose bytes changed. The
//! archive documents (`archive`) of those keys and of the sections marked for a rebuild by
//! a write, an embargo or a reload are dropped too.
//!
//! A failed rebuild is logged and retried; the last good feeds stay served. Before its
//! first build the scheduler serves the feeds the last run saved in the store. While the
//! store is degraded (disk full, I/O errors), the scheduler probes it until writes land.
//!
//! Cron firings, embargoes and the change log's polls are times on the `Clock`: on a
//! manual clock they come when a test moves it. The debounce, the retry and the probe are
//! spans of real (monotonic) time: they pace work, they say nothing about the hour.

use std::collections::{BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::build;
use crate::catalog::{Catalog, Feed, Snapshot};
use crate::clock::Clock;
use crate::config::{Config, Section};
use crate::lease::TAKEOVER_PINGS;
use crate::metrics::{Metrics, SectionLabel};
use crate::ondemand::OnDemand;
use crate::partner::{self, SectionProblems};
use crate::publish::{self, Changes, Publisher};
use crate::slug::Slug;
use crate::store::{Store, StoreError};
use crate::{bucket, websub};

/// How often the store's change log is read: bounds how late a write by another process
/// (an import, a replica) shows up. The read is one indexed query. Clock time: a manual
/// clock's move is a poll.
const POLL: TimeDelta = TimeDelta::milliseconds(100);
/// ...and while the store hears other processes' commits (`Store::hears_changes`): only the
/// net under a notification lost without its connection noticing.
const POLL_HEARING: TimeDelta = TimeDelta::seconds(1);
/// The feeds page's most used tags and authors are counted again at most this often, at a
/// rebuild: counting reads every tag of every article (`Store::top_keys`), and the order
/// of the most used changes slowly.
const TOP_KEYS_EVERY: TimeDelta = TimeDelta::minutes(10);
/// The article count (`pressfeed_articles`) is read at most this often, after rebuilds:
/// `COUNT(*)` reads the whole table (40 ms at 100,000 articles on PostgreSQL), too much
/// for every rebuild of every replica, and a dashboard's gauge needs no more.
const COUNT_EVERY: Duration = Duration::from_secs(10);
/// Quiet time after a notification before rebuilding, so a burst is one rebuild...
const DEBOUNCE: Duration = Duration::from_millis(50);
/// ...but a steady stream still gets rebuilds this often.
const MAX_DEBOUNCE: Duration = Duration::from_millis(250);
/// A failed rebuild is tried again after this long, not at every poll: a store that fails
/// fails for a while, and the log should say so once a second, not ten times.
const RETRY: Duration = Duration::from_secs(1);
/// How often a degraded store is probed: how soon readiness comes back after a fault.
const PROBE_EVERY: Duration = Duration::from_secs(1);

enum Message {
    /// Articles were written by this process.
    Changed,
    /// The configuration changed: new sections, edits, removals.
    Reload(Arc<Config>),
    /// A manual clock moved: cron firings, embargoes and the change log are looked at.
    Tick,
    /// This process took or lost the singleton lease.
    Lease,
    Stop,
}

/// Tells the scheduler about changes made in this process. Cheap to clone. The thread ends
/// when the last `Notifier` is gone: a manual clock's waker holds only a `Weak` of it, so a
/// clock that outlives the server keeps no scheduler thread alive.
#[derive(Clone)]
pub struct Notifier(Arc<Sender<Message>>);

impl Notifier {
    /// Articles were upserted or retracted: rebuild the affected feeds now.
    pub fn articles_changed(&self) {
        let _ = self.0.send(Message::Changed);
    }

    /// Serve `config` from now on.
    pub fn reload(&self, config: Arc<Config>) {
        let _ = self.0.send(Message::Reload(config));
    }

    /// This process took or lost the singleton lease: the hubs are its to ping, or no more.
    pub(crate) fn lease_changed(&self) {
        let _ = self.0.send(Message::Lease);
    }
}

/// The running scheduler; `stop` ends it.
pub struct SchedulerHandle {
    notifier: Notifier,
    thread: JoinHandle<()>,
}

impl SchedulerHandle {
    pub fn notifier(&self) -> Notifier {
        self.notifier.clone()
    }

    /// Asks the thread to stop and waits for the rebuild in progress, if any.
    pub fn stop(self) {
        let _ = self.notifier.0.send(Message::Stop);
        if self.thread.join().is_err() {
            error!("the scheduler thread panicked");
        }
    }
}

/// What the scheduler tells the world of changed feeds while `lease` says this process
/// holds the singleton lease (see `lease`): the WebSub hubs, and the `[publish]` bucket if
/// there is one. Tell the scheduler of a change of the lease through
/// `Notifier::lease_changed`.
pub(crate) struct Singleton {
    pub lease: watch::Receiver<bool>,
    pub websub: websub::Pinger,
    pub bucket: Option<bucket::Uploads>,
}

/// Starts the scheduler thread: it builds every feed at once, then keeps them fresh.
pub(crate) fn start(
    config: Arc<Config>,
    store: Store,
    catalog: Catalog,
    on_demand: OnDemand,
    metrics: Arc<Metrics>,
    singleton: Singleton,
    clock: Clock,
) -> Result<SchedulerHandle, StoreError> {
    let publisher = Publisher::load(&store)?;
    let seen = store.change_counter()?;
    metrics.store_up.set(1);
    // The last run's feeds, served until the first build is done (not ready before: the
    // configuration may have changed since they were built).
    catalog.publish(Snapshot {
        feeds: crate::publish::restore(&store, &config)?,
        gone: publisher.gone(&config),
        ready: false,
        problems: SectionProblems::new(),
    });
    let mut scheduler = Scheduler {
        dirty: enabled(&config).map(|s| s.slug.clone()).collect(),
        config,
        store,
        catalog,
        on_demand,
        refresh: Vec::new(),
        metrics,
        publisher,
        singleton,
        held_lease: false,
        seen,
        next_cron: HashMap::new(),
        republish: true,
        embargo_checked: clock.now(),
        next_embargo: None,
        retry_at: None,
        probed_at: None,
        top_keys_at: None,
        count_due: false,
        counted_at: None,
        clock: clock.clone(),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Arc::new(tx);
    let tick = Arc::downgrade(&tx);
    clock.on_advance(move || {
        tick.upgrade()
            .is_some_and(|tx| tx.send(Message::Tick).is_ok())
    });
    let thread = std::thread::Builder::new()
        .name("scheduler".into())
        .spawn(move || scheduler.run(&rx))
        .expect("spawning the scheduler thread");
    Ok(SchedulerHandle {
        notifier: Notifier(tx),
        thread,
    })
}

fn enabled(config: &Config) -> impl Iterator<Item = &Section> {
    config.sections.iter().filter(|s| s.enabled)
}

struct Scheduler {
    config: Arc<Config>,
    store: Store,
    catalog: Catalog,
    /// Told the keys of the feeds built on demand that changes touched.
    on_demand: OnDemand,
    /// Feeds built on demand that changes dropped, to rebuild after the sections to learn
    /// whether the hubs are to be told (only while hubs are configured).
    refresh: Vec<(String, String)>,
    metrics: Arc<Metrics>,
    /// Turns built bytes into served files; holds every file's validators.
    publisher: Publisher,
    /// Told of the files whose bytes changed, after the snapshot is published.
    singleton: Singleton,
    /// Whether this process held the lease when it last looked (see `holds_lease`).
    held_lease: bool,
    /// Sections to rebuild at the next opportunity.
    dirty: BTreeSet<Slug>,
    /// The store's change counter as last read.
    seen: i64,
    next_cron: HashMap<Slug, Option<DateTime<Utc>>>,
    /// A new snapshot is due even with nothing dirty: the configuration changed, so feeds
    /// of removed or disabled sections must leave the catalog (and deleted ones turn 410).
    republish: bool,
    /// Articles published up to this instant are in the feeds.
    embargo_checked: DateTime<Utc>,
    next_embargo: Option<DateTime<Utc>>,
    /// After a failed rebuild: not again before this.
    retry_at: Option<Instant>,
    /// When the degraded store was last probed.
    probed_at: Option<Instant>,
    /// When the feeds page's most used tags and authors were last counted.
    top_keys_at: Option<DateTime<Utc>>,
    /// A rebuild happened since the articles were last counted, at `counted_at`.
    count_due: bool,
    counted_at: Option<Instant>,
    clock: Clock,
}

impl Scheduler {
    fn run(&mut self, rx: &Receiver<Message>) {
        self.next_embargo = self.store.next_embargo(self.clock.now()).unwrap_or(None);
        loop {
            let now = self.clock.now();
            self.collect_due(now);
            let waiting = self.retry_at.is_some_and(|at| Instant::now() < at);
            if (!self.dirty.is_empty() || self.republish) && !waiting {
                self.rebuild_dirty(now);
            }
            self.count_articles();
            if !self.refresh.is_empty() {
                let dropped = std::mem::take(&mut self.refresh);
                let changed = self.on_demand.refresh(&self.config, dropped);
                // The holder of the lease tells the hubs, of the feeds it was asked for.
                if self.holds_lease() {
                    (self.singleton.websub).feeds_changed(&self.config.site, &changed);
                }
            }
            let received = match self.wait() {
                Some(wait) => rx.recv_timeout(wait),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match received {
                // Not debounced: a move of the clock is no burst of writes.
                Ok(Message::Tick) => {}
                Ok(Message::Lease) => {
                    self.holds_lease();
                }
                Ok(message) => {
                    if !self.handle(message) || !self.debounce(rx) {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// Applies a message; false means stop.
    fn handle(&mut self, message: Message) -> bool {
        match message {
            // The store's change log says which sections; it is read in `collect_due`.
            Message::Changed | Message::Tick => {}
            Message::Lease => {
                self.holds_lease();
            }
            Message::Reload(config) => {
                // Only the feeds an edit touched are rebuilt: one section's edit must not
                // queue every other section's fresh articles behind a full rebuild. A site
                // change that feeds show reaches every feed.
                let site_changed = !config.site.same_feeds_as(&self.config.site);
                if site_changed || config.site.feeds != self.config.site.feeds {
                    self.keys_changed(None);
                }
                let touched: Vec<Slug> = enabled(&config)
                    .filter(|s| site_changed || self.config.section(s.slug.as_str()) != Some(*s))
                    .map(|s| s.slug.clone())
                    .collect();
                // Archives of the sections touched, and of those disabled or deleted: a kept
                // archive document is served without a look at the configuration.
                let left = enabled(&self.config)
                    .filter(|s| config.section(s.slug.as_str()) != Some(*s))
                    .map(|s| &s.slug);
                let archived = touched.iter().chain(left).map(Slug::to_string).collect();
                self.archives_changed(&archived);
                self.dirty.extend(touched);
                self.config = config;
                self.republish = true;
                self.next_cron.clear();
            }
            Message::Stop => return false,
        }
        true
    }

    /// Waits until messages stop coming for `DEBOUNCE` (at most `MAX_DEBOUNCE`); false
    /// means stop.
    fn debounce(&mut self, rx: &Receiver<Message>) -> bool {
        let deadline = Instant::now() + MAX_DEBOUNCE;
        loop {
            let wait = DEBOUNCE.min(deadline.saturating_duration_since(Instant::now()));
            match rx.recv_timeout(wait) {
                Ok(message) => {
                    if !self.handle(message) {
                        return false;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return false,
                Err(RecvTimeoutError::Timeout) => return true,
            }
        }
    }

    /// Marks dirty every section whose cron fired, whose articles changed, or whose
    /// scheduled article's time came.
    fn collect_due(&mut self, now: DateTime<Utc>) {
        let config = self.config.clone();
        for section in enabled(&config) {
            let due = self
                .next_cron
                .entry(section.slug.clone())
                .or_insert_with(|| section.schedule.next_after(now));
            if due.is_some_and(|due| due <= now) {
                self.dirty.insert(section.slug.clone());
                *due = section.schedule.next_after(now);
            }
        }

        self.probe_if_degraded();
        let read = self.store.changes_since(self.seen);
        match read {
            Ok(changes) if changes.counter != self.seen => {
                self.seen = changes.counter;
                self.mark_affected(changes.sections.as_ref());
                self.keys_changed(changes.sections.is_some().then_some(&changes.keys));
                self.next_embargo = self.store.next_embargo(now).unwrap_or(None);
            }
            Ok(_) => {}
            Err(e) => warn!(error = %e, "cannot read the store's changes"),
        }

        if self.next_embargo.is_some_and(|at| at <= now) {
            let published = (self.store)
                .sections_published_between(self.embargo_checked, now)
                .and_then(|sections| {
                    let keys = (self.store).keys_published_between(self.embargo_checked, now)?;
                    Ok((sections, keys))
                });
            match published {
                Ok((sections, keys)) => {
                    self.mark_affected(Some(&sections));
                    self.keys_changed(Some(&keys));
                    self.embargo_checked = now;
                    self.next_embargo = self.store.next_embargo(now).unwrap_or(None);
                }
                Err(e) => {
                    warn!(error = %e, "cannot read scheduled articles");
                    // Looked at again at the next poll, not at once: a store that keeps
                    // failing must not spin this thread.
                    self.next_embargo = Some(now + POLL);
                }
            }
        }
    }

    /// Probes the store while a fault keeps it degraded, so readiness comes back by itself
    /// when the fault ends, without waiting for a write to try. `store_up` follows.
    fn probe_if_degraded(&mut self) {
        let health = self.store.health();
        let due = self.probed_at.is_none_or(|at| at.elapsed() >= PROBE_EVERY);
        if health.outage().is_some() && due {
            self.probed_at = Some(Instant::now());
            if self.store.probe().is_ok() {
                self.retry_at = None;
            }
        }
        self.metrics
            .store_up
            .set(i64::from(health.outage().is_none()));
    }

    /// Drops the feeds built on demand of `keys` (every one for `None`); while hubs are
    /// configured, those dropped are rebuilt after the sections, to tell the hubs of those
    /// whose bytes changed.
    fn keys_changed(&mut self, keys: Option<&BTreeSet<String>>) {
        let dropped = self.on_demand.invalidate(keys);
        if !self.config.site.websub_hubs.is_empty() {
            self.refresh.extend(dropped);
        }
    }

    /// Marks dirty the enabled sections that include any of `changed` (all when `None`),
    /// and drops their archive documents built on demand.
    fn mark_affected(&mut self, changed: Option<&BTreeSet<String>>) {
        let mut affected = BTreeSet::new();
        for section in enabled(&self.config) {
            let includes_changed = changed.is_none_or(|changed| {
                section
                    .included_sections()
                    .iter()
                    .any(|s| changed.contains(s.as_str()))
            });
            if includes_changed {
                self.dirty.insert(section.slug.clone());
                affected.insert(section.slug.to_string());
            }
        }
        self.archives_changed(&affected);
    }

    /// Drops the archive documents of the sections `slugs` (their feeds are the catalog's).
    fn archives_changed(&self, slugs: &BTreeSet<String>) {
        if !slugs.is_empty() {
            self.on_demand.invalidate(Some(slugs));
        }
    }

    /// How long to block: until the next poll, cron firing or embargo on the clock, or the
    /// next retry or probe in real time, whichever is first. `None`: until a message or a
    /// move of a manual clock.
    fn wait(&self) -> Option<Duration> {
        let now = self.clock.now();
        let next = self
            .next_cron
            .values()
            .flatten()
            .chain(self.next_embargo.iter())
            .copied()
            .chain([now + self.poll()])
            .min()
            .unwrap_or(now);
        let since = |at: Option<Instant>| at.map_or(Duration::MAX, |at| at.elapsed());
        let probe = self
            .store
            .health()
            .outage()
            .map(|_| PROBE_EVERY.saturating_sub(since(self.probed_at)));
        let pending = !self.dirty.is_empty() || self.republish;
        let retry = self
            .retry_at
            .filter(|_| pending)
            .map(|at| at.saturating_duration_since(Instant::now()));
        [self.clock.timeout_until(next), probe, retry]
            .into_iter()
            .flatten()
            .min()
    }

    /// Sets `pressfeed_articles` when a rebuild happened since it was set and `COUNT_EVERY`
    /// has passed; the loop comes by at least every `POLL_HEARING`.
    fn count_articles(&mut self) {
        if !self.count_due || self.counted_at.is_some_and(|at| at.elapsed() < COUNT_EVERY) {
            return;
        }
        if let Ok(count) = self.store.article_count() {
            self.metrics.articles.set(count);
        }
        self.count_due = false;
        self.counted_at = Some(Instant::now());
    }

    /// Whether this process holds the singleton lease, so tells the world of changes. When
    /// it has just taken the lease, the hubs hear again of every feed served that changed
    /// in the last `TAKEOVER_PINGS`, and the bucket is made to hold what is served: the
    /// holder before may have died before it told them. (At a start, what the last run
    /// changed just before it stopped.)
    fn holds_lease(&mut self) -> bool {
        let held = *self.singleton.lease.borrow();
        if held && !self.held_lease {
            self.catch_up();
        }
        self.held_lease = held;
        held
    }

    fn catch_up(&self) {
        let since = self.clock.now().timestamp() - TAKEOVER_PINGS.as_secs() as i64;
        let snapshot = self.catalog.snapshot();
        let recent: Vec<String> = (snapshot.feeds.iter())
            .filter(|(name, feed)| {
                build::Format::of_file(name).is_some() && feed.state.last_modified >= since
            })
            .map(|(name, _)| name.clone())
            .collect();
        if !recent.is_empty() {
            info!(
                feeds = recent.len(),
                "took the singleton lease: pinging the hubs again for the feeds changed lately"
            );
        }
        self.singleton
            .websub
            .feeds_changed(&self.config.site, &recent);
        if let Some(bucket) = &self.singleton.bucket {
            let all = snapshot.feeds.iter();
            bucket.sync(
                all.map(|(name, feed)| (name.clone(), feed.clone()))
                    .collect(),
            );
        }
    }

    /// How long until the change log is read again without a notification.
    fn poll(&self) -> TimeDelta {
        if self.store.hears_changes() {
            POLL_HEARING
        } else {
            POLL
        }
    }

    fn rebuild_dirty(&mut self, now: DateTime<Utc>) {
        let started = Instant::now();
        // A panic in a builder must not take the scheduler down: the last good feeds stay
        // served and the sections stay dirty for the next attempt.
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.rebuild(now))) {
            Ok(Ok(())) => {
                let elapsed = started.elapsed();
                info!(
                    sections = self.dirty.len(),
                    elapsed_ms = elapsed.as_millis() as u64,
                    "feeds rebuilt"
                );
                self.metrics.rebuilds.inc();
                self.metrics.rebuild_seconds.observe(elapsed.as_secs_f64());
                self.metrics
                    .last_rebuild
                    .set(self.clock.now().timestamp_millis() as f64 / 1000.0);
                self.count_due = true;
                self.dirty.clear();
                self.republish = false;
                self.retry_at = None;
            }
            Ok(Err(e)) => {
                self.metrics.rebuild_failures.inc();
                self.retry_at = Some(Instant::now() + RETRY);
                error!(error = %e, "rebuild failed; will retry");
            }
            Err(_) => {
                self.metrics.rebuild_failures.inc();
                self.retry_at = Some(Instant::now() + RETRY);
                error!("rebuild panicked; will retry");
            }
        }
    }

    /// Rebuilds the dirty sections (and, after a configuration change, the OPML list),
    /// keeps every other file as it is, and publishes the result as one snapshot.
    fn rebuild(&mut self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let old = self.catalog.snapshot();
        let mut feeds = HashMap::new();
        let mut changed = Changes::new();
        let mut found = SectionProblems::new();
        for section in enabled(&self.config) {
            let names = build::section_file_names(&self.config.site, section);
            let kept: Option<Vec<_>> = names
                .iter()
                .map(|name| old.feeds.get(name).map(|feed| (name.clone(), feed.clone())))
                .collect();
            if let (false, Some(kept)) = (self.dirty.contains(&section.slug), kept) {
                feeds.extend(kept);
                if let Some(problems) = old.problems.get(section.slug.as_str()) {
                    found.insert(section.slug.to_string(), problems.clone());
                }
                continue;
            }
            let started = Instant::now();
            let (built, problems) = self.publisher.section(
                &self.store,
                &self.config,
                section,
                now,
                &old,
                &mut changed,
            )?;
            feeds.extend(built);
            if !problems.is_empty() {
                found.insert(section.slug.to_string(), problems.into());
            }
            self.metrics
                .section_builds
                .get_or_create(&SectionLabel {
                    section: section.slug.to_string(),
                })
                .observe(started.elapsed().as_secs_f64());
        }
        // The site files depend on the configuration, and the feeds page on the most used
        // tags and authors, read again at most every `TOP_KEYS_EVERY`.
        let kept: Option<Vec<_>> = build::SITE_FILES
            .iter()
            .map(|&name| {
                old.feeds
                    .get(name)
                    .map(|feed| (name.to_owned(), feed.clone()))
            })
            .collect();
        let top_due = self.top_keys_at.is_none_or(|at| now >= at + TOP_KEYS_EVERY);
        let counting_top = self.republish || top_due || kept.is_none();
        match kept {
            Some(kept) if !counting_top => feeds.extend(kept),
            _ => {
                let top = publish::top_keys(&self.store, &self.config, now)?;
                feeds.extend((self.publisher).site_files(
                    &self.config,
                    &top,
                    now,
                    &old,
                    &mut changed,
                ));
            }
        }
        // Stamped at the save, not at `now`: see `Publisher::save`.
        let clock = &self.clock;
        let adopted =
            (self.publisher).save(&self.store, changed, self.seen, || clock.now().timestamp())?;
        feeds.extend(adopted);
        // The files whose bytes now served differ from those served before (`Some`), or
        // that are served no more (`None`), whichever replica saved them first: the world
        // hears of them from the holder of the lease only.
        let changed_files: Vec<(String, Option<Arc<Feed>>)> = if self.holds_lease() {
            let differ = |(name, feed): (&String, &Arc<Feed>)| {
                let served = old.feeds.get(name);
                served.is_none_or(|served| served.state.hash != feed.state.hash)
            };
            let new = feeds.iter().filter(|&file| differ(file));
            let went = old.feeds.keys().filter(|name| !feeds.contains_key(*name));
            new.map(|(name, feed)| (name.clone(), Some(feed.clone())))
                .chain(went.map(|name| (name.clone(), None)))
                .collect()
        } else {
            Vec::new()
        };
        self.metrics
            .count_problems(&partner::all_problems(&self.config, &found));
        let gone = self.publisher.gone(&self.config);
        self.catalog.publish(Snapshot {
            feeds,
            gone,
            ready: true,
            problems: found,
        });
        if counting_top {
            self.top_keys_at = Some(now);
        }
        // After publishing: a hub told of a change fetches the feed at once.
        let pings: Vec<String> = (changed_files.iter())
            .filter(|(name, feed)| feed.is_some() && build::Format::of_file(name).is_some())
            .map(|(name, _)| name.clone())
            .collect();
        self.singleton
            .websub
            .feeds_changed(&self.config.site, &pings);
        if let Some(bucket) = &self.singleton.bucket {
            bucket.changed(changed_files);
        }
        Ok(())
    }
}
