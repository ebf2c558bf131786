//! Feeds built on demand (`[feeds]` of site.toml, docs/feeds.md): the whole site, each tag,
//! each author. A site has tens of thousands of tags, so these are not built on every
//! change as sections are: a feed is built when a request first asks for it, kept in a
//! cache bounded in bytes (least recently used first out), and dropped from it when the
//! store's change log names its key. The one place a request may wait for a build.
//!
//! The archive documents (RFC 5005, `archive`) of these feeds and of sections' feeds are
//! built, kept and dropped the same way, a month of one feed at a time
//! (`world/archive/2026-11.rss`): bounded by the same budget and the same cold builds.
//! Their bytes come from the month's articles and its neighbours alone, never the clock, so
//! every replica builds the same; a closed month is served with a day's `max-age`.
//! `pressfeed build --out` writes the sections' archive documents through the same build
//! (`section_archives`). A feed's preview for browsers (`tag/krakow.rss.html`) is a file of
//! its own here too, built only when a browser asks for it.
//!
//! What a request costs, by case:
//! - **warm** (in the cache): a read lock and an atomic store; the bytes are served as a
//!   section's are.
//! - **cold**: a lookup of the key in the store's index, then a build (the feed's items
//!   from the store, one format rendered, compressed), on one of `cold_builds` threads
//!   kept for it, so at most that many at once; past that 503 with `Retry-After` before
//!   the store is asked, so a crawler walking every tag cannot take more than that from
//!   section rebuilds and warm requests. Requests for a feed being built wait for that build rather than start
//!   their own.
//! - **unknown** (no live article has the key, or the month): the cold case ending at its
//!   lookup (a month's is the query of its articles), 404; a month to come is 404 at once;
//!   nothing is built, cached or evicted, and nothing is remembered of the name, so a
//!   flood of made-up names takes no memory (and, past the bound, only 503s).
//!
//! Validators: Last-Modified moves only when the bytes do (`publish::stamp`), agreed in the
//! store (`Store::agree_demand_state`) without the bytes, so an eviction, a restart or
//! another replica rebuilding the same bytes serves the same ETag and Last-Modified.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, mpsc};

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tracing::warn;

use crate::archive::{self, Month};
use crate::build::{self, Archive, Format};
use crate::catalog::Feed;
use crate::clock::Clock;
use crate::config::{Config, OnDemand as Settings, Section, Site};
use crate::digest::content_hash;
use crate::dimension::{self, Dimension};
use crate::item::FeedItem;
use crate::metrics::Metrics;
use crate::publish;
use crate::slug::Slug;
use crate::store::{FeedState, Span, Store, StoreError};

/// Feeds whose key changed that are rebuilt after the change to learn whether their bytes
/// did (for WebSub): at most this many per change, as the scheduler's thread does it.
/// Beyond them the hubs are told without the check.
const REFRESH_MAX: usize = 64;

/// What a request for a feed under `/feeds/` finds here.
pub enum Lookup {
    /// No feed built on demand by that name (or its dimension is off): not this module's.
    NotOurs,
    /// Built and kept: serve it.
    Warm(Arc<Feed>),
    /// Not built: awaiting this builds it, or finds it unknown or busy.
    Cold(Pin<Box<dyn Future<Output = Answer> + Send>>),
}

/// The end of a cold request.
#[derive(Clone)]
pub enum Answer {
    Feed(Arc<Feed>),
    /// No live published article has the key: 404.
    Unknown,
    /// Too many cold builds at once: 503, retry.
    Busy,
    /// The store failed (logged): 503, retry.
    Failed,
}

/// The feeds built on demand of one server; cheap to clone.
#[derive(Clone)]
pub struct OnDemand(Arc<Inner>);

struct Inner {
    store: Store,
    clock: Clock,
    metrics: Arc<Metrics>,
    // A read-write lock: warm requests on every worker thread only read (the recency of a
    // use is an atomic), and a build's insertion or an invalidation writes for a moment.
    cache: RwLock<Cache>,
    // Taken before `cache` whenever both are (see `land` and `invalidate`).
    flights: Mutex<HashMap<String, Flight>>,
    /// Cold requests at once (`cold_builds`): a lookup, and a build if the key is known.
    builds: Arc<Semaphore>,
    /// The threads that do them (`builders`).
    builders: mpsc::Sender<Job>,
}

type Job = Box<dyn FnOnce() + Send>;

/// Starts `count` threads that run the jobs sent, until the sender is dropped; a job that
/// panics ends, its thread does not. Cold builds run there rather than on tokio's blocking
/// threads: under a crawler's stream of builds that pool grew to 18 threads, each with its
/// allocator's pages of the feeds it had built, most of them half emptied by evictions,
/// and 300 MB beside a full cache (BENCHMARKS.md, 2026-12-06, morning).
fn builders(count: usize) -> std::io::Result<mpsc::Sender<Job>> {
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    for n in 0..count {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("pressfeed-cold-{n}"))
            .spawn(move || {
                while let Ok(job) = lock(&queue).recv() {
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                }
            })?;
    }
    Ok(jobs)
}

/// A cold build under way, which other requests for the feed wait for.
struct Flight {
    done: watch::Receiver<Option<Answer>>,
    /// Its key changed while it was built: its bytes may be older than the change, so it
    /// is served to those waiting but not kept.
    stale: bool,
}

/// Built feeds by file name (`tag/krakow.rss`), at most `budget` bytes of them.
struct Cache {
    slots: HashMap<String, Slot>,
    bytes: usize,
    budget: usize,
    /// Counts insertions: a slot's `used` is the count at its last use. Uses do not move
    /// it, so a warm request writes no line every worker shares (it would cost each request
    /// a contended atomic); recency is told apart between insertions, which is what
    /// eviction, at an insertion, asks.
    epoch: u64,
}

struct Slot {
    feed: Arc<Feed>,
    used: AtomicU64,
}

impl Cache {
    fn touch(&self, slot: &Slot) {
        // Read before written: a feed used again within an epoch costs no write.
        if slot.used.load(Ordering::Relaxed) != self.epoch {
            slot.used.store(self.epoch, Ordering::Relaxed);
        }
    }

    /// Keeps `feed`, dropping the least recently used until it fits; a feed bigger than the
    /// whole budget is not kept.
    fn insert(&mut self, name: String, feed: Arc<Feed>) {
        let size = feed.size();
        if size > self.budget {
            return;
        }
        self.remove(&name);
        while self.bytes + size > self.budget {
            // A scan, not a list kept in order: a use then costs an atomic store under the
            // read lock, and an eviction a pass over the few thousand feeds a budget holds.
            let oldest = (self.slots.iter())
                .min_by_key(|(_, slot)| slot.used.load(Ordering::Relaxed))
                .map(|(name, _)| name.clone());
            match oldest {
                Some(oldest) => drop(self.remove(&oldest)),
                None => break,
            }
        }
        self.epoch += 1;
        let slot = Slot {
            feed,
            used: AtomicU64::new(self.epoch),
        };
        self.bytes += size;
        self.slots.insert(name, slot);
    }

    fn remove(&mut self, name: &str) -> Option<Arc<Feed>> {
        let slot = self.slots.remove(name)?;
        self.bytes -= slot.feed.size();
        Some(slot.feed)
    }
}

impl OnDemand {
    /// Serves the feeds built on demand from `store`, with the cache budget and the bound
    /// on cold builds of `settings` (read once, as a restart is needed to change them) or
    /// their defaults.
    pub fn new(
        store: Store,
        clock: Clock,
        metrics: Arc<Metrics>,
        settings: Option<&Settings>,
    ) -> std::io::Result<OnDemand> {
        let defaults = Settings::default();
        let settings = settings.unwrap_or(&defaults);
        Ok(OnDemand(Arc::new(Inner {
            store,
            clock,
            metrics,
            cache: RwLock::new(Cache {
                slots: HashMap::new(),
                bytes: 0,
                budget: settings.cache_bytes,
                epoch: 0,
            }),
            flights: Mutex::new(HashMap::new()),
            builds: Arc::new(Semaphore::new(settings.cold_builds)),
            builders: builders(settings.cold_builds)?,
        })))
    }

    /// What serving the file `name` (the path under `/feeds/`) takes, as the configuration
    /// in force (`config`) has it.
    /// A feed kept is served without a look at the configuration: an edit of `[feeds]`
    /// drops every feed kept (`invalidate`), so one kept is one the configuration serves.
    pub fn lookup(&self, config: impl FnOnce() -> Arc<Config>, name: &str) -> Lookup {
        if let Some(feed) = self.cached(name) {
            return Lookup::Warm(feed);
        }
        let Some(target) = parse(name) else {
            return Lookup::NotOurs;
        };
        let config = config();
        // A month to come has no articles yet: 404 without a look at the store.
        let served = target.feed(&config).is_some()
            && (target.month).is_none_or(|month| month <= Month::of(self.0.clock.now()));
        if !served {
            return Lookup::NotOurs;
        }
        let (this, name) = (self.clone(), name.to_owned());
        Lookup::Cold(Box::pin(async move { this.cold(config, name).await }))
    }

    fn cached(&self, name: &str) -> Option<Arc<Feed>> {
        let cache = read(&self.0.cache);
        let slot = cache.slots.get(name)?;
        cache.touch(slot);
        Some(slot.feed.clone())
    }

    /// Joins the build of `name` under way, or starts one on a builder's thread.
    async fn cold(self, config: Arc<Config>, name: String) -> Answer {
        let mut done = {
            let mut flights = lock(&self.0.flights);
            match flights.get(&name) {
                Some(flight) => flight.done.clone(),
                None => {
                    // Built since the lookup: `land` keeps it before it ends the flight.
                    if let Some(feed) = self.cached(&name) {
                        return Answer::Feed(feed);
                    }
                    let Ok(permit) = self.0.builds.clone().try_acquire_owned() else {
                        self.0.metrics.on_demand.refused.inc();
                        return Answer::Busy;
                    };
                    let (tx, done) = watch::channel(None);
                    let flight = Flight {
                        done: done.clone(),
                        stale: false,
                    };
                    flights.insert(name.clone(), flight);
                    let this = self.clone();
                    // Cannot fail: the builders end only once this sender is dropped.
                    let _ = self.0.builders.send(Box::new(move || {
                        let answer = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            this.fly(&config, &name, permit)
                        }))
                        .unwrap_or(Answer::Failed);
                        this.land(&name, &answer);
                        let _ = tx.send(Some(answer));
                    }));
                    done
                }
            }
        };
        match done.wait_for(Option::is_some).await {
            Ok(answer) => answer.clone().unwrap_or(Answer::Failed),
            Err(_) => Answer::Failed,
        }
    }

    /// A cold request's work, on a builder's thread, holding one of the `cold_builds`
    /// permits: the lookup, then the build if the key is known.
    fn fly(&self, config: &Config, name: &str, _permit: OwnedSemaphorePermit) -> Answer {
        let Some(target) = parse(name) else {
            return Answer::Unknown;
        };
        // An archive's month is looked up by its build, one query of the month's articles.
        if let (Some(key), None) = (target.key, target.month) {
            match self.0.store.key_exists(key, self.0.clock.now()) {
                Ok(true) => {}
                Ok(false) => return Answer::Unknown,
                Err(e) => {
                    warn!(feed = name, error = %e, "cannot look up a feed built on demand");
                    return Answer::Failed;
                }
            }
        }
        self.0.metrics.on_demand.builds.inc();
        match self.build(config, name) {
            Ok(Some(feed)) => Answer::Feed(feed),
            Ok(None) => Answer::Unknown,
            Err(e) => {
                warn!(feed = name, error = %e, "cannot build a feed on demand");
                Answer::Failed
            }
        }
    }

    /// Ends the flight of `name`, keeping what it built unless its key changed meanwhile.
    fn land(&self, name: &str, answer: &Answer) {
        let mut flights = lock(&self.0.flights);
        let flight = flights.remove(name);
        if let (Answer::Feed(feed), Some(flight)) = (answer, flight)
            && !flight.stale
        {
            let mut cache = write(&self.0.cache);
            cache.insert(name.to_owned(), feed.clone());
            self.gauge(&cache);
        }
    }

    /// Builds the file `name` from the store now (see `build`).
    fn build(&self, config: &Config, name: &str) -> Result<Option<Arc<Feed>>, StoreError> {
        build(&self.0.store, config, name, self.0.clock.now())
    }

    /// Drops the kept feeds of `keys` (every feed for `None`), their previews and their
    /// archive documents (`keys` may name sections too, for theirs), and marks builds of
    /// them under way stale. Returns the names of the feeds dropped with the hash of their
    /// bytes, for `refresh`; previews and archive documents are no hub's business.
    pub fn invalidate(&self, keys: Option<&BTreeSet<String>>) -> Vec<(String, String)> {
        let mut flights = lock(&self.0.flights);
        let mut cache = write(&self.0.cache);
        let mut dropped = Vec::new();
        match keys {
            None => {
                flights.values_mut().for_each(|flight| flight.stale = true);
                dropped = (cache.slots.drain())
                    .filter(|(name, _)| is_feed(name))
                    .map(|(name, slot)| (name, slot.feed.state.hash.clone()))
                    .collect();
                cache.bytes = 0;
            }
            Some(keys) => {
                // Drops the file `name` and marks a build of it under way stale.
                let mut forget = |name: &str| {
                    if let Some(flight) = flights.get_mut(name) {
                        flight.stale = true;
                    }
                    cache.remove(name)
                };
                for key in keys {
                    for format in Format::ALL {
                        let name = format!("{key}.{}", format.extension());
                        // Its preview goes with it, told to no hub.
                        forget(&build::preview::file_name(&name));
                        if let Some(feed) = forget(&name) {
                            dropped.push((name, feed.state.hash.clone()));
                        }
                    }
                }
                // Archive documents: any month of the feed may be the one that changed
                // (the log names feeds, not months), or the neighbour of one that did. A
                // pass over the few thousand names kept; not told to hubs.
                let archived =
                    |name: &str| archive::parse(name).is_some_and(|(feed, ..)| keys.contains(feed));
                (flights.iter_mut())
                    .filter(|(name, _)| archived(name))
                    .for_each(|(_, flight)| flight.stale = true);
                let names: Vec<String> = (cache.slots.keys())
                    .filter(|name| archived(name))
                    .cloned()
                    .collect();
                for name in names {
                    cache.remove(&name);
                }
            }
        }
        self.gauge(&cache);
        dropped
    }

    /// Rebuilds feeds `invalidate` dropped (they had been asked for) to learn whether
    /// their bytes changed, keeping them again; returns the names of those whose bytes
    /// did, which WebSub hubs are told of. Off the request path: the scheduler calls it
    /// after its rebuild. Past `REFRESH_MAX` feeds, the rest count as changed unchecked.
    pub fn refresh(&self, config: &Config, dropped: Vec<(String, String)>) -> Vec<String> {
        let mut changed = Vec::new();
        for (i, (name, hash)) in dropped.into_iter().enumerate() {
            if i >= REFRESH_MAX {
                changed.push(name);
                continue;
            }
            match self.build(config, &name) {
                Ok(Some(feed)) => {
                    if feed.state.hash != hash {
                        changed.push(name.clone());
                    }
                    // A request building it now keeps its own.
                    let flights = lock(&self.0.flights);
                    if !flights.contains_key(&name) {
                        let mut cache = write(&self.0.cache);
                        cache.insert(name, feed);
                        self.gauge(&cache);
                    }
                }
                // No feed any more: nothing for a hub to fetch.
                Ok(None) => {}
                Err(e) => warn!(feed = name, error = %e, "cannot rebuild a feed built on demand"),
            }
        }
        changed
    }

    fn gauge(&self, cache: &Cache) {
        let metrics = &self.0.metrics.on_demand;
        metrics.cache_bytes.set(cache.bytes as i64);
        metrics.cache_feeds.set(cache.slots.len() as i64);
    }
}

/// Builds the file `name` (`tag/krakow.rss`, its preview `tag/krakow.rss.html`,
/// `world/archive/2026-11.rss`) from the store as of `now`; `None` when no live article is
/// in it, or `name` is none of this configuration's.
fn build(
    store: &Store,
    config: &Config,
    name: &str,
    now: DateTime<Utc>,
) -> Result<Option<Arc<Feed>>, StoreError> {
    let Some(target) = parse(name) else {
        return Ok(None);
    };
    let Some(feed) = target.feed(config) else {
        return Ok(None);
    };
    let Some(document) = Document::read(store, &config.site, &feed, target.month, now)? else {
        return Ok(None);
    };
    let rendering = match (target.preview, target.key) {
        (true, Some(key)) => Rendering::Preview(key),
        _ => Rendering::Feed(target.key),
    };
    document
        .render(store, &config.site, rendering, target.format, now)
        .map(Some)
}

/// Builds every archive document of every enabled section as of `now`, each month with
/// articles in every format, and hands each to `each` with its file name as it is built
/// (a site's history is too big to hold at once); returns how many. What
/// `pressfeed build --out` writes beside the sections' feeds, built as a request to `serve`
/// builds it (the same bytes, validators agreed in the same store). Feeds built on demand
/// have no end of names, and are not among them. Walks each section's months from its
/// newest back along `prev-archive`, one document's read of the store per month.
pub fn section_archives<E: From<StoreError>>(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
    mut each: impl FnMut(&str, &Feed) -> Result<(), E>,
) -> Result<usize, E> {
    let mut built = 0;
    for section in config.sections.iter().filter(|s| s.enabled) {
        let feed = Source::Section(section);
        let newest = feed.items(store, 1, Span::live(now))?;
        let mut month = newest
            .first()
            .map(|item| Month::of(item.published.to_utc()));
        while let Some(this) = month {
            let Some(document) = Document::read(store, &config.site, &feed, Some(this), now)?
            else {
                break;
            };
            for format in Format::ALL {
                let file =
                    document.render(store, &config.site, Rendering::Feed(None), format, now)?;
                let name = archive::file_name(section.slug.as_str(), this, format.extension());
                each(&name, &file)?;
                built += 1;
            }
            month = match document.place {
                Archive::Month { prev, .. } => prev,
                Archive::Subscription => None,
            };
        }
    }
    Ok(built)
}

/// One document of a feed as read from the store, ready to render in any format.
struct Document {
    /// What lends it its title, description, link and rules.
    section: Section,
    items: Vec<FeedItem>,
    /// Its place among the feed's documents.
    place: Archive,
    /// The store's change counter, read before the items.
    built_from: i64,
    max_age: u32,
}

/// What of a document is rendered.
#[derive(Clone, Copy)]
enum Rendering<'a> {
    /// The document itself, of the feed built on demand `key` (`None`: of a section's feed,
    /// an archive document then).
    Feed(Option<&'a str>),
    /// The preview of the feed built on demand `key`.
    Preview(&'a str),
}

impl Document {
    /// `feed`'s subscription document (`month` `None`) or its archive document of `month`,
    /// as of `now`; `None` when no live article is in it.
    fn read(
        store: &Store,
        site: &Site,
        feed: &Source<'_, '_>,
        month: Option<Month>,
        now: DateTime<Utc>,
    ) -> Result<Option<Document>, StoreError> {
        // Read before the items: bytes built from it lose to bytes built from a later read.
        let built_from = store.change_counter()?;
        let (items, place) = match month {
            None => (
                feed.items(store, feed.limit(), Span::live(now))?,
                Archive::Subscription,
            ),
            Some(month) => {
                let span = Span {
                    from: Some(month.start()),
                    until: now.min(month.last_millisecond()),
                    oldest_first: false,
                };
                let items = feed.items(store, archive::MONTH_LIMIT, span)?;
                (items, neighbours(store, feed, month, now)?)
            }
        };
        if items.is_empty() {
            return Ok(None);
        }
        let section = feed.section(site, &items);
        // A closed month changes only by an edit or a retraction of one of its articles:
        // caches keep it a day. The current month gains every article published in it, so
        // it is cached as long as the feed itself.
        let max_age = match month {
            Some(month) if month.end() <= now => archive::CLOSED_MAX_AGE,
            _ => section.max_age,
        };
        Ok(Some(Document {
            section,
            items,
            place,
            built_from,
            max_age,
        }))
    }

    /// Renders `what` in `format` and agrees its validators in the store, stamped `now`.
    fn render(
        &self,
        store: &Store,
        site: &Site,
        what: Rendering<'_>,
        format: Format,
        now: DateTime<Utc>,
    ) -> Result<Arc<Feed>, StoreError> {
        let (section, items) = (&self.section, &self.items);
        let built = match what {
            Rendering::Feed(key) => {
                build::demand_feed(site, section, key, self.place, format, items)
            }
            Rendering::Preview(key) => build::demand_preview(site, section, key, format, items),
        };
        let hash = content_hash(&built.bytes);
        let stamp = |held: Option<&FeedState>| publish::stamp(held, hash.clone(), now.timestamp());
        let state = match store.agree_demand_state(&built.name, &hash, self.built_from, &stamp)? {
            Some(state) => state,
            // Another process agreed bytes built from a later read: these are served to
            // the requests waiting, and dropped at the next poll of the change log.
            None => stamp(None),
        };
        Ok(Arc::new(publish::served(built, state, self.max_age)))
    }
}

/// Whether the file `name` kept here is a feed built on demand (`tag/krakow.rss`), neither
/// a preview nor an archive document.
fn is_feed(name: &str) -> bool {
    parse(name).is_some_and(|target| target.month.is_none() && !target.preview)
}

/// What a file name under `/feeds/` names here, before the configuration is asked.
struct Target<'a> {
    format: Format,
    /// The feed's key (`tag/krakow`); `None` for a section's feed (an archive's, then).
    key: Option<&'a str>,
    /// The key's dimension and slug, or the section's slug.
    dimension: Option<Dimension>,
    slug: &'a str,
    /// The archive document's month; `None` for the feed itself.
    month: Option<Month>,
    /// The feed's preview for browsers rather than the feed (never an archive document's).
    preview: bool,
}

/// `tag/krakow.rss` (a feed built on demand), `tag/krakow.rss.html` (its preview),
/// `tag/krakow/archive/2026-11.rss` or `world/archive/2026-11.rss` (an archive document)
/// as a `Target`.
fn parse(name: &str) -> Option<Target<'_>> {
    let (file, preview) = match build::preview::feed_of(name) {
        Some(feed) => (feed, true),
        None => (name, false),
    };
    let format = Format::of_file(file)?;
    let (feed, month) = match archive::parse(file) {
        Some((feed, month, _)) => (feed, Some(month)),
        None => (file.rsplit_once('.')?.0, None),
    };
    let target = |key, dimension, slug| Target {
        format,
        key,
        dimension,
        slug,
        month,
        preview,
    };
    match dimension::parse_key(feed) {
        Some((dimension, slug)) => Some(target(Some(feed), Some(dimension), slug)),
        // A section's own feeds and their previews are the catalog's: only its archive is
        // this module's.
        None => month
            .filter(|_| Slug::parse(feed).is_ok())
            .map(|_| target(None, None, feed)),
    }
}

impl<'a> Target<'a> {
    /// The feed the configuration serves by this name: a key's whose dimension `[feeds]`
    /// enables, or an enabled section's.
    fn feed<'c>(&self, config: &'c Config) -> Option<Source<'a, 'c>> {
        match self.dimension {
            Some(dimension) => {
                let settings = (config.site.feeds.as_ref()).filter(|s| s.serves(dimension))?;
                Some(Source::Key {
                    key: self.key?,
                    dimension,
                    slug: self.slug,
                    settings,
                })
            }
            None => (config.section(self.slug))
                .filter(|section| section.enabled)
                .map(Source::Section),
        }
    }
}

/// Where a feed's items come from.
enum Source<'a, 'c> {
    /// A feed built on demand.
    Key {
        key: &'a str,
        dimension: Dimension,
        slug: &'a str,
        settings: &'c Settings,
    },
    /// A section's feed (its archive documents are built on demand).
    Section(&'c Section),
}

impl Source<'_, '_> {
    fn limit(&self) -> usize {
        match self {
            Source::Key { settings, .. } => settings.limit,
            Source::Section(section) => section.limit,
        }
    }

    /// At most `limit` of the feed's items in `span`, in its order.
    fn items(&self, store: &Store, limit: usize, span: Span) -> Result<Vec<FeedItem>, StoreError> {
        match self {
            Source::Key { key, .. } => store.newest_of(key, limit, span),
            Source::Section(section) => publish::items_in(store, section, limit, span),
        }
    }

    /// What lends the feed its title, description, link and rules.
    fn section(&self, site: &Site, items: &[FeedItem]) -> Section {
        match self {
            Source::Key {
                dimension,
                slug,
                settings,
                ..
            } => section_of(site, settings, *dimension, slug, items),
            Source::Section(section) => (*section).clone(),
        }
    }
}

/// The archive links of `month`'s document: the months before and after it that have live
/// articles of `feed`, each found from one article (the newest before, the oldest after).
fn neighbours(
    store: &Store,
    feed: &Source<'_, '_>,
    month: Month,
    now: DateTime<Utc>,
) -> Result<Archive, StoreError> {
    let nearest = |span| -> Result<Option<Month>, StoreError> {
        let items = feed.items(store, 1, span)?;
        Ok(items.first().map(|item| Month::of(item.published.to_utc())))
    };
    let prev = nearest(Span {
        from: None,
        until: month.start() - TimeDelta::milliseconds(1),
        oldest_first: false,
    })?;
    let next = if month.end() <= now {
        nearest(Span {
            from: Some(month.end()),
            until: now,
            oldest_first: true,
        })?
    } else {
        None
    };
    Ok(Archive::Month { month, prev, next })
}

/// What lends an on-demand feed its title, description, link and rules: a section that
/// is none of the site's (its slug, a dimension's name, is one no section may take).
fn section_of(
    site: &Site,
    settings: &Settings,
    dimension: Dimension,
    slug: &str,
    items: &[FeedItem],
) -> Section {
    let (title, description) = match dimension {
        Dimension::All => (
            site.title.clone(),
            site.description.clone().unwrap_or_default(),
        ),
        Dimension::Tag => {
            let name = name_in(items, slug, |item| &item.tags);
            (
                format!("{}: {name}", site.title),
                format!("Articles tagged {name}"),
            )
        }
        Dimension::Author => {
            let names: Vec<Vec<String>> = (items.iter())
                .map(|item| item.authors.iter().map(|a| a.name.clone()).collect())
                .collect();
            let name = name_in(&names, slug, |names| names);
            (
                format!("{}: {name}", site.title),
                format!("Articles by {name}"),
            )
        }
    };
    Section {
        slug: Slug::parse(dimension.name()).expect("a dimension's name is a slug"),
        title,
        description,
        link: site.url.clone(),
        include: Vec::new(),
        tags: Vec::new(),
        exclude_tags: Vec::new(),
        limit: settings.limit,
        content: settings.content,
        schedule: Default::default(),
        max_age: settings.max_age,
        enabled: true,
    }
}

/// The name a feed of `slug` is titled by: of the names its items give it (names that fold
/// to `slug`), the most frequent; of those, the first in sort order. Deterministic for the
/// same items, whatever order the names came in.
fn name_in<'a, T>(items: &'a [T], slug: &str, names: impl Fn(&'a T) -> &'a Vec<String>) -> String {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for name in items.iter().flat_map(|item| names(item).iter()) {
        if dimension::slug_of(name).as_deref() == Some(slug) {
            *counts.entry(name.as_str()).or_default() += 1;
        }
    }
    (counts.into_iter())
        .min_by(|(a, m), (b, n)| n.cmp(m).then(a.cmp(b)))
        .map_or_else(|| slug.to_owned(), |(name, _)| name.to_owned())
}

// Poisoning: a panic while one of these is held leaves maps that are still whole (every
// change to them is one insertion or removal), so the lock is taken anyway.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_feeds_and_archive_documents_parse_apart() {
        let parts = |name| {
            parse(name).map(|t| (t.key, t.dimension, t.slug, t.month.map(|m| m.to_string())))
        };
        let month = || Some("2026-11".to_owned());
        assert_eq!(
            parts("tag/krakow.rss"),
            Some((Some("tag/krakow"), Some(Dimension::Tag), "krakow", None))
        );
        assert_eq!(
            parts("tag/krakow/archive/2026-11.atom"),
            Some((Some("tag/krakow"), Some(Dimension::Tag), "krakow", month()))
        );
        assert_eq!(
            parts("all/archive/2026-11.json"),
            Some((Some("all"), Some(Dimension::All), "", month()))
        );
        assert_eq!(
            parts("world/archive/2026-11.rss"),
            Some((None, None, "world", month()))
        );
        // A section's own feed is the catalog's; a tag may be called `archive`.
        assert_eq!(parts("world.rss"), None);
        assert_eq!(
            parts("tag/archive.rss"),
            Some((Some("tag/archive"), Some(Dimension::Tag), "archive", None))
        );
        // A feed built on demand's preview; a section's is the catalog's, and an archive
        // document has none.
        let preview = parse("tag/krakow.rss.html").unwrap();
        assert!(preview.preview && preview.month.is_none());
        assert_eq!(
            (preview.key, preview.format),
            (Some("tag/krakow"), Format::Rss)
        );
        assert!(!parse("tag/krakow.rss").unwrap().preview);
        assert!(is_feed("tag/krakow.rss") && is_feed("all.json"));
        for other in ["tag/krakow.rss.html", "tag/krakow/archive/2026-11.rss"] {
            assert!(!is_feed(other), "{other}");
        }
        for other in [
            "world.rss.html",
            "tag/krakow/archive/2026-11.rss.html",
            "tag/krakow.html",
            "world/archive/2026-11.rss.html",
            "world/archive/2026-11.xml",
            "tag/Krakow/archive/2026-11.rss",
            "world/archive/2026-11/x.rss",
        ] {
            assert!(parse(other).is_none(), "{other}");
        }
    }

    #[test]
    fn the_title_takes_the_most_frequent_name_then_the_first_sorted() {
        let names = |lists: &[&[&str]]| -> Vec<Vec<String>> {
            (lists.iter())
                .map(|l| l.iter().map(|s| s.to_string()).collect())
                .collect()
        };
        let items = names(&[&["Kraków", "x"], &["krakow"], &["Kraków"]]);
        assert_eq!(name_in(&items, "krakow", |v| v), "Kraków");
        let tie = names(&[&["krakow"], &["Kraków"]]);
        assert_eq!(name_in(&tie, "krakow", |v| v), "Kraków");
        let tie = names(&[&["Kraków"], &["krakow"]]);
        assert_eq!(
            name_in(&tie, "krakow", |v| v),
            "Kraków",
            "order does not matter"
        );
    }
}
