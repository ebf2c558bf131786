//! The article store as callers see it: one handle, `Store`, whose methods speak of
//! articles, the change log, the feeds last published and what sources remember; its
//! records and its error. How a backend keeps them is behind `backend::Backend`: SQLite
//! (`sqlite/`), the embedded default, or PostgreSQL (`postgres/`), which any number of
//! processes share. The store stores: articles arrive prepared for feeds
//! (`item::PreparedArticle`). When the rules of preparing change, the caller
//! (`app::prepare_stale`) says how to prepare again; the store runs that over its articles
//! inside one transaction, so no write slips between an article's read and its new item.
//! Who reads the feeds is kept by day (`readership`), as every process flushes it.
//! A whole store is copied into an empty one as stored (`transfer`, `pressfeed migrate`).
//! A SQLite store is backed up while in use and restored from such a copy
//! (`sqlite::backup`, `pressfeed backup` and `restore`); PostgreSQL has its own tools.
//!
//! The store keeps its own `StoreHealth` too: a call that fails because of the disk or the
//! file (full, read-only, I/O error, locked, damaged) marks it degraded until a `probe`
//! shows that writes land again.

mod backend;
#[cfg(test)]
mod contract;
mod health;
mod postgres;
mod readership;
mod sections;
mod sqlite;
#[doc(hidden)]
pub mod testing;
mod transfer;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use chrono::{DateTime, Utc};

pub(crate) use health::Fault;
pub use health::{Outage, StoreHealth};
pub use postgres::{Settings as PostgresSettings, SettingsError as PostgresSettingsError};
pub use readership::{PollCount, Readership, ReadershipBounds, SubscriberReport};
pub use sections::{Expect, SectionWrite, StoredSection};
pub use sqlite::FILE_NAME;
pub use sqlite::backup::{BackupError, Summary, backup, check, restore};
pub use transfer::Copied;

use crate::article::{Article, ArticleError, ArticleId};
use crate::dimension::Dimension;
use crate::item::{FeedItem, PreparedArticle, StoredItem};
use crate::slug::Slug;
use backend::Backend;

/// Writes whose touched sections the change log remembers; a reader further behind
/// rebuilds every section.
const CHANGE_LOG_KEEP: i64 = 10_000;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store's file could not be opened or set up.
    #[error("store {path}: {source}")]
    Open {
        /// The store's file.
        path: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The data directory could not be created, or a probe could not write in it.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The data directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A newer pressfeed wrote the store; this one refuses to touch it.
    #[error("store {path} has schema version {found}, newer than this pressfeed knows ({known})")]
    TooNew {
        /// The store's file.
        path: String,
        /// The store's schema version.
        found: usize,
        /// The newest schema version this pressfeed knows.
        known: usize,
    },
    /// The PostgreSQL store could not be reached or set up.
    #[error("store {store}: {source}")]
    Connect {
        /// The database's URL, without its password.
        store: String,
        /// What tokio-postgres said.
        source: tokio_postgres::Error,
    },
    /// No pooled connection to the PostgreSQL store came in time.
    #[error("store {store}: {message}")]
    Pool {
        /// The database's URL, without its password.
        store: String,
        /// What the pool said.
        message: String,
    },
    /// The PostgreSQL store's runtime did not start.
    #[error("store: starting its runtime: {source}")]
    Runtime {
        /// The I/O error.
        source: std::io::Error,
    },
    /// A query failed.
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A query of the PostgreSQL store failed.
    #[error("store: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// A stored article no longer passes validation.
    #[error("store: article {id} is unreadable: {source}")]
    Corrupt {
        /// The article's id as stored.
        id: String,
        /// The rule it breaks.
        source: ArticleError,
    },
    /// A stored feed item does not decode.
    #[error("store: the feed item of article {id} is unreadable: {message}")]
    CorruptItem {
        /// The article's id as stored.
        id: String,
        /// What the decoder said.
        message: String,
    },
    /// A section write found the store other than it expected (see `sections::Expect`):
    /// these sections changed meanwhile (none named: the sections version moved).
    #[error("store: sections changed meanwhile: {}", .0.join(", "))]
    SectionsChanged(Vec<String>),
    /// A stored section's slug is not a valid one.
    #[error("store: section slug {0:?} is unreadable")]
    CorruptSlug(String),
    /// A copy (`Store::copy_into`) found its target holding these already.
    #[error(
        "store: not empty: it holds {articles} articles, {sections} sections and {feeds} saved feeds"
    )]
    NotEmpty {
        /// Articles, drafts included.
        articles: i64,
        /// Sections.
        sections: i64,
        /// Saved feeds.
        feeds: i64,
    },
    /// See `Store::simulate_io_error`.
    #[error("store: disk I/O error (simulated by Store::simulate_io_error)")]
    SimulatedIo,
}

impl StoreError {
    /// The fault of the disk or the file behind this error, if that is what it is (rather
    /// than a bug or bad data): the store may work again once the fault ends.
    pub(crate) fn fault(&self) -> Option<Fault> {
        match self {
            StoreError::Sql(e) | StoreError::Open { source: e, .. } => sqlite::fault_of(e),
            StoreError::Postgres(e) | StoreError::Connect { source: e, .. } => {
                postgres::fault_of(e)
            }
            StoreError::Pool { .. } => Some(Fault::Unreachable),
            StoreError::DataDir { source, .. } => Some(Fault::of_io(source)),
            StoreError::SimulatedIo => Some(Fault::Io),
            _ => None,
        }
    }
}

/// What a feed asks of the store.
#[derive(Debug, Clone)]
pub struct FeedQuery<'a> {
    /// The article sections to collect: the feed's section and those it includes.
    pub sections: &'a [Slug],
    /// Keep only articles with one of these tags (any case); empty keeps all.
    pub tags: &'a [String],
    /// Leave out articles with any of these tags (any case).
    pub exclude_tags: &'a [String],
    /// The most items to return.
    pub limit: usize,
    /// Which of them, by `published_at`, in which order.
    pub span: Span,
}

/// The articles of a feed a query reads, by `published_at`, and their order.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    /// Articles published before are left out (an archive's month starts); `None`: none is.
    pub from: Option<DateTime<Utc>>,
    /// Articles published later are left out: not live yet (embargoed), or after an
    /// archive's month.
    pub until: DateTime<Utc>,
    /// Oldest first rather than newest first (ties reversed too): the month after an
    /// archive's.
    pub oldest_first: bool,
}

impl Span {
    /// What a feed holds at `now`: its live articles, newest first.
    pub fn live(now: DateTime<Utc>) -> Span {
        Span {
            from: None,
            until: now,
            oldest_first: false,
        }
    }

    /// The bounds in unix milliseconds, both inclusive.
    fn millis(&self) -> (i64, i64) {
        let from = self.from.map_or(i64::MIN, |from| from.timestamp_millis());
        (from, self.until.timestamp_millis())
    }

    /// The SQL of the order: the feed's (newest first, ties by id, last first) or its
    /// reverse.
    fn order(&self) -> &'static str {
        if self.oldest_first { "ASC" } else { "DESC" }
    }
}

/// What another process's commit changed, as `Store::listen` hears it: a reason to read
/// the change log or the sections version now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeNotice {
    /// Articles were written: the change counter moved.
    Articles,
    /// Sections were written: the sections version moved.
    Sections,
}

/// Hearing other processes' commits (`Store::listen`); stops when dropped.
pub struct Listening(Option<tokio::task::AbortHandle>);

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(listener) = &self.0 {
            listener.abort();
        }
    }
}

/// The sections writes touched since a reader last looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedSections {
    /// The change counter now; pass it to the next `changes_since`.
    pub counter: i64,
    /// The article sections touched, or `None` when the reader is so far behind that the
    /// log no longer says: then every section counts as changed.
    pub sections: Option<BTreeSet<String>>,
    /// The keys of on-demand feeds (`dimension::keys_of`) the writes touched, before and
    /// after: `all`, tags and authors the articles had and have. Empty when `sections` is
    /// `None`: then every key counts as changed too.
    pub keys: BTreeSet<String>,
}

/// A tag or an author, and how many live published articles carry it (`Store::top_keys`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCount {
    /// The slug: the feed is `/feeds/<dimension>/<slug>.<format>`.
    pub slug: String,
    /// The name most of those articles give it (ties: the first in sort order).
    pub name: String,
    /// How many articles.
    pub articles: i64,
}

/// What a source remembers between polls: how far it has read, and the validators of its
/// last answer for a conditional request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceState {
    pub(crate) high_water: Option<String>,
    /// The URL `etag` and `last_modified` were answered for.
    pub fetched_url: Option<String>,
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<String>,
}

/// The persisted validators of one built feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedState {
    /// `content_hash` of the feed's bytes, from which its ETags are made.
    pub hash: String,
    /// When the bytes last changed, in Unix seconds: the Last-Modified.
    pub last_modified: i64,
    /// Set while `last_modified` does not name these bytes alone: earlier bytes of the feed
    /// were stamped with this second, which is not before `last_modified` (two changes in
    /// one second, or a clock set back). Cleared by a change stamped after it. `None` also
    /// for rows saved before the store kept it.
    pub ambiguous_until: Option<i64>,
}

/// How `Store::save_feeds` agrees a feed's validators: the state to save, from the state
/// stored now (if any) and the feed as built (whose `state` is the one it was built with).
pub type Stamp<'a> = dyn Fn(Option<&FeedState>, &SavedFeed) -> FeedState + 'a;

/// A published feed as the store keeps it: validators and bytes, saved together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedFeed {
    /// The file name, e.g. `top-news.rss`.
    pub name: String,
    /// Its validators, saved with its bytes so they never disagree.
    pub state: FeedState,
    pub(crate) content_type: String,
    /// The bytes without compression.
    pub identity: Bytes,
    pub(crate) gzip: Bytes,
    pub(crate) brotli: Bytes,
    /// The change counter the build read before it read the articles: of two processes
    /// saving other bytes for one feed, the one that read the store later wins (see
    /// `agree`). 0 when unknown.
    pub built_from: i64,
}

/// What the store holds of a feed when a save of it comes.
#[derive(Debug)]
struct Held {
    state: FeedState,
    /// Whether its bytes are saved too.
    has_bytes: bool,
    built_from: i64,
}

/// Decides a save of `feed` over what the store holds of it (`held`, as another process
/// may have left it): stamps `feed.state` as `stamp` says, and tells whether to write the
/// feed. Bytes built from an earlier read of the store than the bytes held are not
/// written (a slow build must not put back what a newer one replaced); its process builds
/// again when it sees the change counter move, and then agrees.
fn agree(feed: &mut SavedFeed, held: Option<&Held>, stamp: &Stamp<'_>) -> bool {
    let Some(state) = agreed(&feed.state.hash, feed.built_from, held, |held| {
        stamp(held, feed)
    }) else {
        return false;
    };
    feed.state = state;
    !held.is_some_and(|held| held.has_bytes && held.state == feed.state)
}

/// The state to save for bytes hashing to `hash`, built from change counter `built_from`,
/// over `held`: `None` when the bytes held were built from a later read and differ (see
/// `agree`), else what `stamp` makes of the state held.
fn agreed(
    hash: &str,
    built_from: i64,
    held: Option<&Held>,
    stamp: impl FnOnce(Option<&FeedState>) -> FeedState,
) -> Option<FeedState> {
    if let Some(held) = held
        && held.built_from > built_from
        && held.state.hash != hash
    {
        return None;
    }
    Some(stamp(held.map(|held| &held.state)))
}

/// A handle to the store; cheap to clone, and every clone shares the backend and its
/// health. Calls block, so async code runs them on a blocking thread.
#[derive(Clone)]
pub struct Store {
    // A trait object rather than a type parameter: callers hold one `Store` type whatever
    // the backend, and a virtual call is nothing beside a query.
    backend: Arc<dyn Backend>,
    health: StoreHealth,
    /// See `simulate_io_error`.
    io_error: Arc<AtomicBool>,
}

impl Store {
    /// Opens (creating if needed) the SQLite store in `data_dir`, migrating its schema.
    /// Its items may be prepared by older rules: see `prepare_stale`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Ok(Store::with_backend(Arc::new(sqlite::Sqlite::open(
            data_dir,
        )?)))
    }

    /// Connects to the PostgreSQL store `settings` names, migrating its schema. Its items
    /// may be prepared by older rules: see `prepare_stale`.
    pub fn open_postgres(settings: &PostgresSettings) -> Result<Store, StoreError> {
        Ok(Store::with_backend(Arc::new(postgres::Postgres::open(
            settings,
        )?)))
    }

    fn with_backend(backend: Arc<dyn Backend>) -> Store {
        Store {
            backend,
            health: StoreHealth::default(),
            io_error: Arc::default(),
        }
    }

    /// Runs one backend call, noting a fault in `health`.
    fn call<T>(
        &self,
        op: impl FnOnce(&dyn Backend) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let result = if self.io_error.load(Ordering::Relaxed) {
            Err(StoreError::SimulatedIo)
        } else {
            op(&*self.backend)
        };
        if let Err(e) = &result {
            self.health.note(e);
        }
        result
    }

    // Health.

    /// Whether the store works, as every handle on it has found.
    pub fn health(&self) -> StoreHealth {
        self.health.clone()
    }

    /// Checks that the store works: a small write transaction lands, and there is room
    /// beside the store for a few more. Clears `health` when it passes; the scheduler
    /// calls it while the store is degraded.
    pub fn probe(&self) -> Result<(), StoreError> {
        self.call(|b| b.probe())?;
        self.health.clear();
        Ok(())
    }

    /// Test hook (tests/faults.rs): while on, every call on this store (and its clones)
    /// fails as if the disk answered with an I/O error, the fault that cannot be caused
    /// for real under an open connection. Nothing else calls it.
    #[doc(hidden)]
    pub fn simulate_io_error(&self, on: bool) {
        self.io_error.store(on, Ordering::Relaxed);
    }

    /// Runs `f` with the backend's settings for bulk writes (a bigger cache, fewer and
    /// larger checkpoints). Only for imports: a server's cache stays small and its commits
    /// short.
    pub fn with_bulk_settings<T>(&self, f: impl FnOnce() -> T) -> T {
        self.backend.bulk_writes(true);
        let value = f();
        self.backend.bulk_writes(false);
        value
    }

    // Articles.

    /// Inserts or replaces articles by id, all in one transaction. Always counts as a
    /// write, even of nothing new.
    pub fn upsert(&self, articles: &[PreparedArticle]) -> Result<(), StoreError> {
        self.call(|b| b.upsert(articles, None)).map(|_| ())
    }

    /// Stores articles pulled from the source named `source`, which owns them from then on.
    /// An article stored already exactly so (same JSON, same source) is not written again,
    /// so a poll that finds nothing new changes no feed. Returns how many were written.
    pub fn upsert_from_source(
        &self,
        source: &str,
        articles: &[PreparedArticle],
    ) -> Result<usize, StoreError> {
        self.call(|b| b.upsert(articles, Some(source)))
    }

    /// Removes an article from the store and so from every feed. False if it was not there.
    pub fn retract(&self, id: &ArticleId) -> Result<bool, StoreError> {
        Ok(self.retract_all(std::slice::from_ref(id))? > 0)
    }

    /// Removes articles in one transaction; returns how many were there.
    pub fn retract_all(&self, ids: &[ArticleId]) -> Result<usize, StoreError> {
        self.call(|b| b.retract(ids))
    }

    /// The article `id` as last written, draft or not; `None` when there is none.
    pub fn get(&self, id: &ArticleId) -> Result<Option<Article>, StoreError> {
        self.call(|b| b.get(id))
    }

    /// How many articles the store holds, drafts included.
    pub fn article_count(&self) -> Result<i64, StoreError> {
        self.call(|b| b.article_count())
    }

    /// The items of a section's feed: published, in one of `q.sections`, passing the tag
    /// filters, in `q.span` (`Span::live`: the live ones); newest first, ties broken by id
    /// (descending) so the order never flips between builds, or all that reversed.
    pub fn newest(&self, q: &FeedQuery<'_>) -> Result<Vec<FeedItem>, StoreError> {
        if q.sections.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        self.call(|b| b.newest(q))
    }

    /// The ids of the articles pulled from the source named `source`.
    pub fn source_ids(&self, source: &str) -> Result<BTreeSet<String>, StoreError> {
        self.call(|b| b.source_ids(source))
    }

    /// Unless the stored items were prepared by the rules numbered `version`, hands every
    /// stored article (its id and canonical JSON, which the current rules may refuse) to
    /// `prepare` and keeps the item it returns in place of the old one,
    /// then records `version`: all in one transaction, so a crash leaves the old items and
    /// the next open prepares them again. Returns how many articles were prepared again.
    /// Writes nothing when the items are current, so a read-only store still opens.
    pub fn prepare_stale(
        &self,
        version: i64,
        prepare: &mut dyn FnMut(&str, &str) -> Option<StoredItem>,
    ) -> Result<usize, StoreError> {
        self.call(|b| b.prepare_stale(version, prepare))
    }

    // The change log and embargoes.

    /// Calls `on_change`, on a thread of the store's, whenever any process commits a write
    /// of articles or sections, and once each time hearing (re)starts (what was committed
    /// meanwhile is unheard), until the `Listening` is dropped. PostgreSQL can: a
    /// notification per commit. SQLite cannot, so nothing is called there, and a reader
    /// polls the change log: `hears_changes` says which.
    pub fn listen(&self, on_change: impl Fn(ChangeNotice) + Send + Sync + 'static) -> Listening {
        Listening(self.backend.listen(Arc::new(on_change)))
    }

    /// Whether other processes' commits are heard now (see `listen`); while not, poll.
    pub fn hears_changes(&self) -> bool {
        self.backend.hears_changes()
    }

    /// A number that changes whenever any process writes articles to the store.
    pub fn change_counter(&self) -> Result<i64, StoreError> {
        self.call(|b| b.change_counter())
    }

    /// The sections that writes since change counter `seen` touched. Cheap when nothing
    /// changed.
    pub fn changes_since(&self, seen: i64) -> Result<ChangedSections, StoreError> {
        self.call(|b| b.changes_since(seen))
    }

    /// The earliest `published_at` after `now` of a published article: when the next
    /// scheduled article must enter its feeds.
    pub fn next_embargo(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.call(|b| b.next_embargo(now))
    }

    /// The sections of articles whose `published_at` falls in `(after, until]`: the feeds a
    /// scheduled article enters when its time comes.
    pub fn sections_published_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, StoreError> {
        self.call(|b| b.sections_published_between(after, until))
    }

    // Saved feeds.

    /// The validators persisted for every feed built so far, and whether its bytes are
    /// saved too (not for feeds last saved by a pressfeed that did not keep them).
    pub fn feed_states(&self) -> Result<Vec<(String, FeedState, bool)>, StoreError> {
        self.call(|b| b.feed_states())
    }

    /// Every feed saved with its bytes, as the last run published it.
    pub fn saved_feeds(&self) -> Result<Vec<SavedFeed>, StoreError> {
        self.call(|b| b.saved_feeds())
    }

    /// Saves the validators and bytes of feeds whose bytes changed, all or none, agreeing
    /// the validators with every process that shares the store: in one transaction, and
    /// one such save at a time, each feed's state becomes `stamp(stored, feed)` from the
    /// state the store holds now (`None` for a feed never saved), and is written back to
    /// `feed.state`. A feed whose stored state and bytes are that already (another replica
    /// saved the same bytes first) is left as it is, and so is one holding other bytes
    /// built from a later read of the store (`SavedFeed::built_from`). Returns, feed by
    /// feed, whether this call wrote it.
    pub fn save_feeds(
        &self,
        feeds: &mut [SavedFeed],
        stamp: &Stamp<'_>,
    ) -> Result<Vec<bool>, StoreError> {
        if feeds.is_empty() {
            return Ok(Vec::new());
        }
        self.call(|b| b.save_feeds(feeds, stamp))
    }

    // The index of on-demand feeds: articles by key (`dimension::keys_of`).

    /// The items of the on-demand feed `key` (`all`, `tag/<slug>`, `author/<slug>`) in
    /// `span` (`Span::live`: its newest live ones), in `Store::newest`'s order.
    pub fn newest_of(
        &self,
        key: &str,
        limit: usize,
        span: Span,
    ) -> Result<Vec<FeedItem>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.call(|b| b.newest_of(key, limit, span))
    }

    /// Whether a live published article (`published_at <= now`) has `key`: one indexed
    /// lookup, whatever the number of keys.
    pub fn key_exists(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.call(|b| b.key_exists(key, now))
    }

    /// The `n` tags or authors (`dimension`) most live published articles carry, most first,
    /// ties by slug. Empty for `Dimension::All`.
    pub fn top_keys(
        &self,
        dimension: Dimension,
        n: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<KeyCount>, StoreError> {
        if dimension == Dimension::All || n == 0 {
            return Ok(Vec::new());
        }
        self.call(|b| b.top_keys(dimension, n, now))
    }

    /// The keys of articles whose `published_at` falls in `(after, until]`: the on-demand
    /// feeds a scheduled article enters when its time comes.
    pub fn keys_published_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, StoreError> {
        self.call(|b| b.keys_published_between(after, until))
    }

    /// Agrees the validators of the on-demand feed `name` with every process sharing the
    /// store, as `save_feeds` does for section feeds but keeping no bytes (a site's tags are
    /// too many to keep every feed's bytes; a rebuild gives them back): in one transaction,
    /// the state becomes `stamp(held)` from the state held now, and is written unless it is
    /// that already. Bytes hashing to `hash` built from an earlier read of the store
    /// (`built_from`) than other bytes held are not agreed: `None`, nothing written.
    pub fn agree_demand_state(
        &self,
        name: &str,
        hash: &str,
        built_from: i64,
        stamp: &dyn Fn(Option<&FeedState>) -> FeedState,
    ) -> Result<Option<FeedState>, StoreError> {
        self.call(|b| b.agree_demand_state(name, hash, built_from, stamp))
    }

    // Leases.

    /// A name for this process as a lease holder, unique among the processes sharing the
    /// store (its host, as the environment names it, and pid, for logs; a random tag, as
    /// pids repeat across machines).
    pub fn lease_holder() -> String {
        let host = std::env::var("HOSTNAME").unwrap_or_default();
        format!(
            "{host} pid {} #{:08x}",
            std::process::id(),
            fastrand::u32(..)
        )
    }

    /// Takes or renews the lease `name` for `holder` for `ttl`: true if `holder` holds it
    /// now. One holder at a time among every process sharing the store; a holder that
    /// stops renewing (it died) loses it `ttl` after its last renewal.
    pub fn take_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError> {
        self.call(|b| b.take_lease(name, holder, ttl))
    }

    /// Gives up the lease `name` if `holder` holds it, so another takes it at once.
    pub fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.call(|b| b.release_lease(name, holder))
    }

    // Who reads the feeds.

    /// Adds one process's polls since its last flush and keeps its aggregators' reports,
    /// within `bounds`, in one transaction (see `store::readership`). Returns how many
    /// reports were kept: not those past `bounds.max_feed_ids`, nor those older than one
    /// stored for their key.
    pub fn record_readership(
        &self,
        polls: &[PollCount],
        reports: &[SubscriberReport],
        bounds: ReadershipBounds,
    ) -> Result<usize, StoreError> {
        self.call(|b| b.record_readership(polls, reports, bounds))
    }

    /// What every process sharing the store flushed, from day `since` on.
    pub fn readership(&self, since: i64) -> Result<Readership, StoreError> {
        self.call(|b| b.readership(since))
    }

    // Source state.

    /// What the source named `name` remembered at its last poll (empty if it never polled).
    pub fn source_state(&self, name: &str) -> Result<SourceState, StoreError> {
        Ok(self.call(|b| b.source_state(name))?.unwrap_or_default())
    }

    pub(crate) fn save_source_state(
        &self,
        name: &str,
        state: &SourceState,
    ) -> Result<(), StoreError> {
        self.call(|b| b.save_source_state(name, state))
    }

    /// What the source named `name` last saw of the labels its articles carry (names and
    /// slugs of terms and users), as the source wrote it; kept apart from `SourceState`,
    /// which is saved after every page.
    pub fn source_labels(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.call(|b| b.source_labels(name))
    }

    pub(crate) fn save_source_labels(&self, name: &str, labels: &str) -> Result<(), StoreError> {
        self.call(|b| b.save_source_labels(name, labels))
    }
}

/// One row of the feed query: the article's id and its stored item (JSON, summary HTML,
/// body HTML).
type ItemRow = (String, String, Option<String>, Option<String>);

/// The feed query's rows, in feed order, as items: an article in two of the queried
/// sections comes once per section and is kept once; at most `limit`, and no row is
/// decoded past them.
fn newest_items(
    rows: impl IntoIterator<Item = Result<ItemRow, StoreError>>,
    limit: usize,
) -> Result<Vec<FeedItem>, StoreError> {
    let mut seen = std::collections::HashSet::new();
    let mut items = Vec::with_capacity(limit);
    for row in rows {
        let (id, json, summary, body) = row?;
        if !seen.insert(id.clone()) {
            continue;
        }
        let item =
            StoredItem::decode(&json, summary, body).map_err(|e| StoreError::CorruptItem {
                id,
                message: e.to_string(),
            })?;
        items.push(item);
        if items.len() == limit {
            break;
        }
    }
    Ok(items)
}

/// The keys of `dimension`'s feeds in byte order lie in `[from, to)`: `tag/` up to `tag0`
/// (`0` follows `/`), so `top_keys` reads a range of the index rather than every key.
fn key_range(dimension: Dimension) -> (String, String) {
    let name = dimension.name();
    (format!("{name}/"), format!("{name}0"))
}

/// An article as stored, read back: it must still pass validation.
fn decode_article(id: &str, doc: &str) -> Result<Article, StoreError> {
    Article::from_json(doc)
        .map(|accepted| accepted.article)
        .map_err(|source| StoreError::Corrupt {
            id: id.to_owned(),
            source,
        })
}

/// What the tests of every concern start from.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub(crate) fn article(
        id: &str,
        sections: &[&str],
        published: &str,
        tags: &[&str],
        status: &str,
    ) -> Article {
        Article::from_value(serde_json::json!({
            "id": id, "url": format!("https://x.example/{id}"), "title": id,
            "sections": sections, "published_at": published, "tags": tags, "status": status,
        }))
        .unwrap()
        .article
    }

    pub(crate) fn prepared(articles: impl IntoIterator<Item = Article>) -> Vec<PreparedArticle> {
        articles.into_iter().map(PreparedArticle::new).collect()
    }

    pub(crate) fn now() -> DateTime<Utc> {
        "2022-06-01T00:00:00Z".parse().unwrap()
    }

    pub(crate) fn ids(articles: &[FeedItem]) -> Vec<&str> {
        articles.iter().map(|a| a.id.as_str()).collect()
    }

    pub(crate) fn slugs(names: &[&str]) -> Vec<Slug> {
        names.iter().map(|s| Slug::parse(s).unwrap()).collect()
    }

    pub(crate) fn query<'a>(sections: &'a [Slug], limit: usize) -> FeedQuery<'a> {
        FeedQuery {
            sections,
            tags: &[],
            exclude_tags: &[],
            limit,
            span: Span::live(now()),
        }
    }

    /// `test` cannot run without the variable `variable` (`what` it names): fails, unless
    /// `PRESSFEED_ALLOW_SKIP=1` allows it to skip (never with `CI` set).
    pub(crate) fn missing(test: &str, variable: &str, what: &str) {
        let allowed = std::env::var_os("PRESSFEED_ALLOW_SKIP").is_some_and(|v| v == "1");
        if !allowed || std::env::var_os("CI").is_some() {
            panic!(
                "{test} needs {variable}: set it to {what}, or PRESSFEED_ALLOW_SKIP=1 to skip it"
            );
        }
        eprintln!("SKIPPED {test}: {variable} is not set");
    }

    /// Where a test's store is: a directory of its own, or a database of its own.
    pub(crate) enum Place {
        Sqlite(tempfile::TempDir),
        Postgres(Box<PostgresSettings>),
    }

    impl Place {
        pub(crate) fn sqlite() -> Place {
            Place::Sqlite(tempfile::tempdir().unwrap())
        }

        /// A fresh database on the test cluster; `None` when there is none and
        /// `PRESSFEED_ALLOW_SKIP=1` allows `test` to skip (never with `CI` set).
        pub(crate) fn postgres(test: &str) -> Option<Place> {
            if let Some(url) = super::testing::fresh_postgres() {
                let settings = PostgresSettings::parse(&url, None).unwrap();
                return Some(Place::Postgres(Box::new(settings)));
            }
            missing(
                &format!("postgres::{test}"),
                super::testing::POSTGRES,
                "a cluster's URL (tests/run starts one)",
            );
            None
        }

        /// Opens the store here, again and again if need be.
        pub(crate) fn open(&self) -> Store {
            match self {
                Place::Sqlite(dir) => Store::open(dir.path()).unwrap(),
                Place::Postgres(settings) => Store::open_postgres(settings).unwrap(),
            }
        }
    }

    /// The store at `place` with six articles: published ones in world and top-news, a
    /// draft, and one scheduled far ahead.
    pub(crate) fn seed(place: &Place) -> Store {
        let store = place.open();
        store
            .upsert(&prepared([
                article(
                    "a",
                    &["world"],
                    "2022-05-01T00:00:00Z",
                    &["Russia"],
                    "published",
                ),
                article(
                    "b",
                    &["world", "top-news"],
                    "2022-05-03T00:00:00Z",
                    &["Ukraine"],
                    "published",
                ),
                article("c", &["top-news"], "2022-05-02T00:00:00Z", &[], "published"),
                article(
                    "d",
                    &["world"],
                    "2022-05-02T00:00:00Z",
                    &["russia"],
                    "draft",
                ),
                article("e", &["world"], "2099-01-01T00:00:00Z", &[], "published"),
                article("f", &["world"], "2022-05-03T00:00:00Z", &[], "published"),
            ]))
            .unwrap();
        store
    }

    /// `seed` in a directory of its own, for the tests of SQLite's own concerns.
    pub(crate) fn seeded() -> (tempfile::TempDir, Store) {
        let place = Place::sqlite();
        let store = seed(&place);
        let Place::Sqlite(dir) = place else {
            unreachable!("made as SQLite")
        };
        (dir, store)
    }
}
