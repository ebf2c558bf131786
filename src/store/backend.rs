//! What a store backend implements, one trait per concern, and nothing of health: `Store`
//! notes faults, injects the simulated one and answers the trivial calls (an empty query,
//! nothing to save) before a backend sees them. SQLite (`sqlite/`) and PostgreSQL
//! (`postgres/`) implement them; another backend implements these traits and gets a
//! constructor on `Store`, and no caller changes.
//!
//! Calls block and may be made from several threads at once; a backend serializes what
//! it must. Every write is one transaction: all of it lands or none.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::readership::{PollCount, Readership, ReadershipBounds, SubscriberReport};
use super::transfer::{ArticleRow, Holdings, SourceRecord};
use super::{
    ChangeNotice, ChangedSections, FeedQuery, FeedState, KeyCount, SavedFeed, SectionWrite,
    SourceState, Span, Stamp, StoreError, StoredSection,
};
use crate::article::{Article, ArticleId};
use crate::dimension::Dimension;
use crate::item::{FeedItem, PreparedArticle, StoredItem};
use crate::slug::Slug;

/// A whole store: every concern, and the upkeep that is the backend's own.
pub(crate) trait Backend:
    Articles
    + ChangeLog
    + KeyIndex
    + SavedFeeds
    + SourceStates
    + Sections
    + Leases
    + Readerships
    + Transfer
    + Send
    + Sync
{
    /// A small write transaction lands and there is room for a few more; an error says
    /// why not (see `Store::probe`).
    fn probe(&self) -> Result<(), StoreError>;

    /// Turns the settings for bulk writes on or off (see `Store::with_bulk_settings`).
    /// Hints only: refused, an import is merely slower.
    fn bulk_writes(&self, on: bool);

    /// Starts calling `on_change` for other processes' commits (see `Store::listen`);
    /// `None` when the backend cannot hear them.
    fn listen(
        &self,
        on_change: Arc<dyn Fn(ChangeNotice) + Send + Sync>,
    ) -> Option<tokio::task::AbortHandle>;

    /// Whether other processes' commits are heard now.
    fn hears_changes(&self) -> bool;
}

/// Articles, their prepared items and the feed query.
pub(crate) trait Articles {
    /// Writes `articles` (replacing by id), their keys (`dimension::keys_of`) with them,
    /// and counts the write in the change log with the sections and keys they had and have. With no `source` (a push) every article is written
    /// and the write always counts, even of nothing; with one, only the articles that
    /// differ from what is stored (JSON or owning source) are written, the source owns
    /// them, and a write of none is no change. Returns how many were written.
    fn upsert(
        &self,
        articles: &[PreparedArticle],
        source: Option<&str>,
    ) -> Result<usize, StoreError>;

    /// Removes articles and counts a change if any was there; returns how many were.
    fn retract(&self, ids: &[ArticleId]) -> Result<usize, StoreError>;

    fn get(&self, id: &ArticleId) -> Result<Option<Article>, StoreError>;

    fn article_count(&self) -> Result<i64, StoreError>;

    /// `Store::newest`, for a query with sections and a limit.
    fn newest(&self, q: &FeedQuery<'_>) -> Result<Vec<FeedItem>, StoreError>;

    fn source_ids(&self, source: &str) -> Result<BTreeSet<String>, StoreError>;

    /// `Store::prepare_stale`. Not a change: the articles are the same, and a server
    /// builds every feed when it starts.
    fn prepare_stale(
        &self,
        version: i64,
        prepare: &mut dyn FnMut(&str, &str) -> Option<StoredItem>,
    ) -> Result<usize, StoreError>;
}

/// The change counter, the sections each write touched, and scheduled articles.
pub(crate) trait ChangeLog {
    fn change_counter(&self) -> Result<i64, StoreError>;

    fn changes_since(&self, seen: i64) -> Result<ChangedSections, StoreError>;

    fn next_embargo(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError>;

    fn sections_published_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, StoreError>;
}

/// On-demand feeds: articles by key (`all`, `tag/<slug>`, `author/<slug>`), kept by
/// `Articles`'s writes, and the validators of the feeds built from them.
pub(crate) trait KeyIndex {
    fn newest_of(&self, key: &str, limit: usize, span: Span) -> Result<Vec<FeedItem>, StoreError>;

    fn key_exists(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError>;

    /// `Store::top_keys`, for a tag or author dimension and `n > 0`.
    fn top_keys(
        &self,
        dimension: Dimension,
        n: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<KeyCount>, StoreError>;

    fn keys_published_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, StoreError>;

    fn agree_demand_state(
        &self,
        name: &str,
        hash: &str,
        built_from: i64,
        stamp: &dyn Fn(Option<&FeedState>) -> FeedState,
    ) -> Result<Option<FeedState>, StoreError>;
}

/// The feeds last published: validators and bytes.
pub(crate) trait SavedFeeds {
    fn feed_states(&self) -> Result<Vec<(String, FeedState, bool)>, StoreError>;

    fn saved_feeds(&self) -> Result<Vec<SavedFeed>, StoreError>;

    /// `Store::save_feeds`, called with at least one feed.
    fn save_feeds(
        &self,
        feeds: &mut [SavedFeed],
        stamp: &Stamp<'_>,
    ) -> Result<Vec<bool>, StoreError>;
}

/// What sources remember between polls.
pub(crate) trait SourceStates {
    /// `None` for a source that never saved its state.
    fn source_state(&self, name: &str) -> Result<Option<SourceState>, StoreError>;

    fn save_source_state(&self, name: &str, state: &SourceState) -> Result<(), StoreError>;

    /// `None` for a source that never saved the labels its articles carry.
    fn source_labels(&self, name: &str) -> Result<Option<String>, StoreError>;

    fn save_source_labels(&self, name: &str, labels: &str) -> Result<(), StoreError>;
}

/// The site's sections, each as its file's text (see `store::sections`), and the version
/// that counts their writes.
pub(crate) trait Sections {
    /// Bumped by every `write_sections`; 0 while the store never had sections.
    fn sections_version(&self) -> Result<i64, StoreError>;

    /// Sorted by slug.
    fn sections(&self) -> Result<Vec<StoredSection>, StoreError>;

    fn section(&self, slug: &Slug) -> Result<Option<StoredSection>, StoreError>;

    /// In one transaction: checks every write's expectation, and with `if_version` that
    /// the version is still that; applies the writes stamped `now` (Unix seconds); bumps
    /// the version, also for no writes. Returns the new version. An unmet expectation is
    /// `StoreError::SectionsChanged` with the slugs that missed theirs (none when only
    /// the version moved), and nothing is written.
    fn write_sections(
        &self,
        writes: &[SectionWrite],
        if_version: Option<i64>,
        now: i64,
    ) -> Result<i64, StoreError>;
}

/// Leases: work that one process of all those sharing the store does at a time. Times are
/// the database's own clock, so processes on machines whose clocks differ agree.
pub(crate) trait Leases {
    /// Takes the lease `name` for `holder`, or renews it, for `ttl` from now: true if
    /// `holder` holds it now. Free is a lease never taken, released, or not renewed in time.
    fn take_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// Gives the lease up, if `holder` holds it, so another may take it at once.
    fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;
}

/// Who reads the feeds, by day (see `store::readership`).
pub(crate) trait Readerships {
    /// In one transaction: adds `polls` to the counts stored for their day, feed and
    /// client; keeps each report unless a later one is stored for its key, or its feed id
    /// is new and `bounds.max_feed_ids` are kept for its day, feed and aggregator; forgets
    /// the days before `bounds.forget_before`. Returns how many reports were kept.
    fn record_readership(
        &self,
        polls: &[PollCount],
        reports: &[SubscriberReport],
        bounds: ReadershipBounds,
    ) -> Result<usize, StoreError>;

    /// Every row from day `since` on.
    fn readership(&self, since: i64) -> Result<Readership, StoreError>;
}

/// A whole store read out and written into another as stored (see `store::transfer`).
pub(crate) trait Transfer {
    /// Up to `limit` articles with ids after `after` ("" for the first), by id.
    fn article_rows(&self, after: &str, limit: usize) -> Result<Vec<ArticleRow>, StoreError>;

    /// The preparation version recorded with the items (see `Articles::prepare_stale`).
    fn preparation(&self) -> Result<Option<i64>, StoreError>;

    /// Every source that saved its state or its labels, by name.
    fn sources(&self) -> Result<Vec<SourceRecord>, StoreError>;

    /// In one transaction, unless the store holds articles, sections or saved feeds
    /// (`StoreError::NotEmpty`, nothing written): writes each batch of articles `next`
    /// returns until `None`, then `holdings`. The change counter and the sections version
    /// become the greater of the store's and the holdings'; the change log stays empty (a
    /// server builds every feed when it starts).
    fn restore(
        &self,
        holdings: &Holdings,
        next: &mut dyn FnMut() -> Result<Option<Vec<ArticleRow>>, StoreError>,
    ) -> Result<(), StoreError>;
}
