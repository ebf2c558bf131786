//! A whole store copied into another, row for row as stored (`pressfeed migrate`, SQLite
//! to PostgreSQL): articles with their prepared items (not prepared again), the change
//! counter, the preparation version, the sections and their version, the saved feeds with
//! their validators and bytes, and what sources remember. A site that moves serves the
//! same bytes under the same ETag and Last-Modified. Not a sync: the target must be empty,
//! and nothing may write the source meanwhile.

use super::{SavedFeed, SourceState, Store, StoreError, StoredSection};
use crate::item::StoredItem;

/// Article rows read and written per batch: a few MB of documents and items.
const BATCH: usize = 1_000;

/// An article as a backend keeps it, read back without decoding anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArticleRow {
    pub(crate) id: String,
    /// `published` or `draft`, as stored.
    pub(crate) status: String,
    /// Unix milliseconds.
    pub(crate) published_at: Option<i64>,
    /// The canonical JSON.
    pub(crate) doc: String,
    /// The item as prepared when it was written; `None` for drafts and refused articles.
    pub(crate) item: Option<StoredItem>,
    /// The `[[sources]]` entry that owns it.
    pub(crate) source: Option<String>,
    /// The sections whose feeds it is in at `published_at` (none for a draft), sorted.
    pub(crate) sections: Vec<String>,
    /// Its tags lowercased, as the tag filters match them, sorted.
    pub(crate) tags: Vec<String>,
}

/// What a source remembers, under its name: its state and its labels, either of which it
/// may never have saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceRecord {
    pub(crate) name: String,
    pub(crate) state: Option<SourceState>,
    pub(crate) labels: Option<String>,
}

/// Everything a store holds beside its articles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holdings {
    pub(crate) change_counter: i64,
    /// The preparation rules the items were made by; `None` before any was recorded.
    pub(crate) preparation: Option<i64>,
    pub(crate) sections_version: i64,
    pub(crate) sections: Vec<StoredSection>,
    /// Only feeds saved with their bytes: a current pressfeed saves every feed's bytes at
    /// its first build, so a row without them is left by one older than that, never served.
    pub(crate) feeds: Vec<SavedFeed>,
    pub(crate) sources: Vec<SourceRecord>,
}

/// What a copy copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    /// Articles, drafts included.
    pub articles: usize,
    /// Sections.
    pub sections: usize,
    /// Saved feeds (every format of every section, and the OPML).
    pub feeds: usize,
    /// Sources that remembered something.
    pub sources: usize,
}

impl Store {
    /// Copies everything this store holds into `target`, in one transaction on `target`:
    /// all of it lands or none. `target` must hold no article, section or saved feed, or
    /// the copy is refused (`StoreError::NotEmpty`) and nothing is written. `progress` is
    /// told the articles copied so far after every batch. Nothing may write this store
    /// meanwhile: its batches are read one after the other, not in one snapshot.
    pub fn copy_into(
        &self,
        target: &Store,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Copied, StoreError> {
        let holdings = self.call(|b| {
            Ok(Holdings {
                change_counter: b.change_counter()?,
                preparation: b.preparation()?,
                sections_version: b.sections_version()?,
                sections: b.sections()?,
                feeds: b.saved_feeds()?,
                sources: b.sources()?,
            })
        })?;
        let mut after = String::new();
        let mut articles = 0;
        let mut next = || {
            let rows = self.call(|b| b.article_rows(&after, BATCH))?;
            let Some(last) = rows.last() else {
                return Ok(None);
            };
            after.clone_from(&last.id);
            articles += rows.len();
            progress(articles);
            Ok(Some(rows))
        };
        target.call(|b| b.restore(&holdings, &mut next))?;
        Ok(Copied {
            articles,
            sections: holdings.sections.len(),
            feeds: holdings.feeds.len(),
            sources: holdings.sources.len(),
        })
    }
}

/// Every source that saved its state or its labels, with both, by name: the same SQL on
/// either backend.
pub(super) const SOURCES: &str = "
    SELECT n.name, s.name IS NOT NULL, s.high_water, s.fetched_url, s.etag, s.last_modified,
           l.labels
    FROM (SELECT name FROM source_state UNION SELECT name FROM source_labels) n
    LEFT JOIN source_state s ON s.name = n.name
    LEFT JOIN source_labels l ON l.name = n.name
    ORDER BY n.name";

/// What a restore checks first: how many articles, sections and saved feeds a store holds,
/// in one row; the same SQL on either backend.
pub(super) const HOLDS: &str = "SELECT (SELECT COUNT(*) FROM articles),
    (SELECT COUNT(*) FROM sections), (SELECT COUNT(*) FROM feed_state)";
