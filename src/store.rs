//! The article store: one SQLite file in the data directory (WAL mode), its schema and
//! migrations, and the few queries the rest of pressfeed needs. Knows nothing of feeds' formats.
//!
//! Articles are kept whole as their canonical JSON, beside the columns the feed query filters
//! and sorts on. `article_sections` only has rows for published articles, so the hot query
//! never looks at drafts and walks one index in feed order.
//!
//! The store also keeps the feeds last published (their validators and bytes), so a restart
//! serves them before its first build, and its own `Health`: a call that fails because of
//! the disk or the file (full, read-only, I/O error, locked, damaged) marks it degraded until
//! a `probe` shows that writes land again.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use bytes::Bytes;
use chrono::{DateTime, TimeZone, Utc};
// Write transactions are IMMEDIATE: a deferred one that reads first and then writes fails
// with SQLITE_BUSY_SNAPSHOT (no retry) when another process wrote in between.
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params, params_from_iter};

use crate::article::{Article, ArticleError, ArticleId, Status};
use crate::item::{self, FeedItem};
use crate::slug::Slug;

/// The file name of the store inside the data directory.
pub const FILE_NAME: &str = "pressfeed.sqlite3";

/// Bytes per page of a new store file.
const PAGE_SIZE: i64 = 32 << 10;
/// Page cache sizes, as `PRAGMA cache_size` takes them (negative: KiB). The default is
/// SQLite's own.
const DEFAULT_CACHE_KIB: i64 = -2000;
const BULK_CACHE_KIB: i64 = -(64 << 10);
/// WAL bytes after which a commit checkpoints: SQLite's default of 1000 pages in 4 KB pages.
/// Kept in bytes whatever the page size, as a checkpoint's time grows with them and the
/// commit that runs it (an admin write, a build saving its feeds) waits for it.
const WAL_BYTES: i64 = 4 << 20;
/// While importing, fewer and larger checkpoints: nobody waits on one commit.
const BULK_WAL_BYTES: i64 = 32 << 20;

/// Schema migrations, in order; `PRAGMA user_version` says how many a file has had.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE articles (
        id           TEXT PRIMARY KEY,
        status       TEXT NOT NULL,
        published_at INTEGER,            -- unix milliseconds
        doc          TEXT NOT NULL       -- canonical JSON of the article
    );
    CREATE TABLE article_sections (
        section      TEXT NOT NULL,
        published_at INTEGER NOT NULL,
        article_id   TEXT NOT NULL,
        PRIMARY KEY (section, published_at, article_id)
    ) WITHOUT ROWID;
    CREATE INDEX article_sections_by_article ON article_sections (article_id);
    CREATE INDEX article_sections_by_time ON article_sections (published_at);
    CREATE TABLE article_tags (
        article_id   TEXT NOT NULL,
        tag          TEXT NOT NULL,      -- lowercased
        PRIMARY KEY (article_id, tag)
    ) WITHOUT ROWID;
    -- Bumped by every write, so a server notices writes made by other processes cheaply.
    CREATE TABLE changes (id INTEGER PRIMARY KEY CHECK (id = 1), counter INTEGER NOT NULL);
    INSERT INTO changes VALUES (1, 0);
    -- Validators of the feeds last built, so a restart serves the same ETag and Last-Modified.
    CREATE TABLE feed_state (
        name          TEXT PRIMARY KEY,  -- e.g. top-news.rss
        hash          TEXT NOT NULL,
        last_modified INTEGER NOT NULL   -- unix seconds
    );
"#,
    r#"
    ALTER TABLE articles ADD COLUMN item TEXT;  -- the FeedItem JSON; NULL for drafts
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"#,
    r#"
    -- The sections each write touched (before and after), so a reader rebuilds only those.
    CREATE TABLE section_changes (
        counter INTEGER NOT NULL,
        section TEXT NOT NULL,
        PRIMARY KEY (counter, section)
    ) WITHOUT ROWID;
"#,
    r#"
    -- The item's HTML, outside its JSON: read back without unescaping, the biggest part
    -- of decoding an item.
    ALTER TABLE articles ADD COLUMN item_summary TEXT;
    ALTER TABLE articles ADD COLUMN item_body TEXT;
"#,
    r#"
    -- The bytes of each feed as last published, in every coding, saved in the transaction
    -- of its validators: a restart serves them at once. NULL for rows saved before.
    ALTER TABLE feed_state ADD COLUMN content_type TEXT;
    ALTER TABLE feed_state ADD COLUMN browser_content_type TEXT;
    ALTER TABLE feed_state ADD COLUMN identity BLOB;
    ALTER TABLE feed_state ADD COLUMN gzip BLOB;
    ALTER TABLE feed_state ADD COLUMN brotli BLOB;
"#,
    r#"
    -- The `[[sources]]` entry an article was pulled from; NULL for articles pushed in. A
    -- source's sweep retracts its articles that the source no longer has.
    ALTER TABLE articles ADD COLUMN source TEXT;
    CREATE INDEX articles_by_source ON articles (source) WHERE source IS NOT NULL;
    -- What a source remembers between polls, across restarts.
    CREATE TABLE source_state (
        name          TEXT PRIMARY KEY,
        high_water    TEXT,              -- e.g. the newest WordPress modified_gmt seen
        fetched_url   TEXT,              -- the URL the validators below belong to
        etag          TEXT,
        last_modified TEXT
    );
"#,
];

/// Bytes a probe must be able to allocate beside the store: a write of a few articles
/// needs about this much, and SQLite can land a small transaction in the space its
/// write-ahead log already holds even when the disk is full.
const PROBE_ROOM: usize = 256 << 10;
/// The probe's scratch file in the data directory; hidden, and removed after each probe.
const PROBE_FILE: &str = ".pressfeed-probe.tmp";

/// Writes whose touched sections are remembered; a reader further behind rebuilds all.
const CHANGE_LOG_KEEP: i64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("store {path} has schema version {found}, newer than this pressfeed knows ({known})")]
    TooNew {
        path: String,
        found: usize,
        known: usize,
    },
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("store: article {id} is unreadable: {source}")]
    Corrupt { id: String, source: ArticleError },
    #[error("store: the feed item of article {id} is unreadable: {message}")]
    CorruptItem { id: String, message: String },
}

impl StoreError {
    /// The fault of the disk or the file behind this error, if that is what it is (rather
    /// than a bug or bad data): the store may work again once the fault ends.
    pub fn fault(&self) -> Option<Fault> {
        match self {
            StoreError::Sql(e) | StoreError::Open { source: e, .. } => Fault::of_sqlite(e),
            StoreError::DataDir { source, .. } => Some(Fault::of_io(source)),
            _ => None,
        }
    }
}

/// What keeps the store from working, in words an operator can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Full,
    ReadOnly,
    Io,
    Locked,
    Damaged,
}

impl Fault {
    fn of_sqlite(e: &rusqlite::Error) -> Option<Fault> {
        use rusqlite::ErrorCode as Code;
        let rusqlite::Error::SqliteFailure(e, _) = e else {
            return None;
        };
        Some(match e.code {
            Code::DiskFull => Fault::Full,
            Code::ReadOnly | Code::PermissionDenied => Fault::ReadOnly,
            Code::SystemIoFailure | Code::CannotOpen | Code::FileLockingProtocolFailed => Fault::Io,
            Code::DatabaseBusy | Code::DatabaseLocked => Fault::Locked,
            // SQLITE_ERROR from pressfeed's fixed SQL: a table or column is not there.
            Code::DatabaseCorrupt | Code::NotADatabase | Code::Unknown => Fault::Damaged,
            _ => return None,
        })
    }

    fn of_io(e: &std::io::Error) -> Fault {
        use std::io::ErrorKind as Kind;
        match e.kind() {
            Kind::StorageFull | Kind::QuotaExceeded => Fault::Full,
            Kind::ReadOnlyFilesystem | Kind::PermissionDenied => Fault::ReadOnly,
            _ => Fault::Io,
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fault::Full => "the disk holding the store is full",
            Fault::ReadOnly => "the store is read-only",
            Fault::Io => "the store's file cannot be read or written (I/O error)",
            Fault::Locked => "the store is locked by another process",
            Fault::Damaged => "the store's file is damaged or not as pressfeed made it",
        })
    }
}

/// A fault and the error that showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub fault: Fault,
    /// The underlying error, e.g. `database or disk is full`.
    pub detail: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.fault, self.detail)
    }
}

/// Whether the store works, shared by every handle on it: readiness reads it, every store
/// call that fails by a fault sets it, and only a passing `Store::probe` clears it (a read
/// that works says nothing about writes, and a small write may land on a full disk).
#[derive(Clone, Default)]
pub struct Health {
    // ArcSwapOption: `/readyz` reads it with a few atomic operations, never waiting on a
    // store call in progress.
    problem: Arc<ArcSwapOption<Problem>>,
}

impl Health {
    /// `None` while the store works.
    pub fn problem(&self) -> Option<Arc<Problem>> {
        self.problem.load_full()
    }

    fn note(&self, e: &StoreError) {
        if let Some(fault) = e.fault() {
            let problem = Problem {
                fault,
                detail: e.to_string(),
            };
            if self.problem().as_deref() != Some(&problem) {
                tracing::error!(problem = %problem, "the store is degraded");
            }
            self.problem.store(Some(Arc::new(problem)));
        }
    }

    fn clear(&self) {
        if self.problem.swap(None).is_some() {
            tracing::info!("the store works again");
        }
    }
}

/// What a feed asks of the store.
#[derive(Debug, Clone)]
pub struct FeedQuery<'a> {
    pub sections: &'a [Slug],
    /// Keep only articles with one of these tags (any case); empty keeps all.
    pub tags: &'a [String],
    pub exclude_tags: &'a [String],
    pub limit: usize,
    pub now: DateTime<Utc>,
}

/// What changed in the store since a reader last looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// The change counter now; pass it to the next `changes_since`.
    pub counter: i64,
    /// The article sections touched, or `None` when the reader is so far behind that the
    /// log no longer says: then every section counts as changed.
    pub sections: Option<BTreeSet<String>>,
}

/// What a source remembers between polls: how far it has read, and the validators of its
/// last answer for a conditional request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceState {
    pub high_water: Option<String>,
    /// The URL `etag` and `last_modified` were answered for.
    pub fetched_url: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The persisted validators of one built feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedState {
    pub hash: String,
    pub last_modified: i64,
}

/// A published feed as the store keeps it: validators and bytes, saved together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedFeed {
    /// The file name, e.g. `top-news.rss`.
    pub name: String,
    pub state: FeedState,
    pub content_type: String,
    pub browser_content_type: Option<String>,
    pub identity: Bytes,
    pub gzip: Bytes,
    pub brotli: Bytes,
}

/// A handle to the store; cheap to clone. Calls block, so async code runs them on a
/// blocking thread.
#[derive(Clone)]
pub struct Store {
    // One connection behind a std Mutex: every call is short and runs on a blocking
    // thread, and SQLite serializes writers anyway.
    conn: Arc<Mutex<Connection>>,
    /// The data directory: where a probe checks that there is room.
    dir: PathBuf,
    health: Health,
    /// See `simulate_io_error`.
    io_error: Arc<AtomicBool>,
}

/// Sets the page cache (`cache_kib`, as `PRAGMA cache_size` takes it) and checkpoints the
/// WAL after `wal_bytes`, whatever the file's page size.
fn tune(conn: &Connection, cache_kib: i64, wal_bytes: i64) -> rusqlite::Result<()> {
    conn.pragma_update(None, "cache_size", cache_kib)?;
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    conn.pragma_update(None, "wal_autocheckpoint", wal_bytes / page_size)
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir`, migrating its schema.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(FILE_NAME);
        let display = path.display().to_string();
        let open_err = |source| StoreError::Open {
            path: display.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let mut conn = Connection::open(&path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        // Takes effect on a new, empty file only. An article row (its JSON, the prepared
        // item and its HTML) is around 10 KB: with 32 KB pages a few rows share a page
        // instead of each spilling into a chain of overflow pages, so an import writes and
        // checkpoints fewer, larger pages and a build reads fewer. On 100,000 articles, vs
        // 4 KB: import 13.4 s → 12.6 s, full rebuild 25.1 → 22.5 ms (64 KB pages import
        // in 10.7 s, but a rebuild copies a whole 64 KB page per row it reads: 30.3 ms).
        conn.pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        // NORMAL is durable across application crashes in WAL mode; only a power loss may
        // drop the last transactions, never corrupt the file.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        tune(&conn, DEFAULT_CACHE_KIB, WAL_BYTES).map_err(open_err)?;
        migrate(&mut conn, &display)?;
        prepare_stale(&mut conn)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            dir: data_dir.to_owned(),
            health: Health::default(),
            io_error: Arc::default(),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable: every write is a
        // transaction that rolled back when the panic dropped it.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs a read on the connection, noting a fault in `health`.
    fn read<T>(
        &self,
        op: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.conn();
        let result = self.injected().and_then(|()| op(&conn));
        if let Err(e) = &result {
            self.health.note(e);
        }
        result
    }

    /// Runs `op` in an IMMEDIATE transaction and commits it, noting a fault in `health`.
    fn write<T>(
        &self,
        op: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        let result = self.injected().and_then(|()| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = op(&tx)?;
            tx.commit()?;
            Ok(value)
        });
        if let Err(e) = &result {
            self.health.note(e);
        }
        result
    }

    /// Runs `f` with settings for bulk writes: a page cache that holds a whole batch of
    /// `upsert_prepared` (with the default 2 MB, SQLite spills a batch's dirty pages to the
    /// WAL mid-transaction and reads them back) and larger checkpoints. Only for imports: a
    /// server's cache stays small and its commits short.
    pub fn with_bulk_settings<T>(&self, f: impl FnOnce() -> T) -> T {
        // Hints: if SQLite refused them the import would only be slower.
        let _ = tune(&self.conn(), BULK_CACHE_KIB, BULK_WAL_BYTES);
        let value = f();
        let conn = self.conn();
        let _ = tune(&conn, DEFAULT_CACHE_KIB, WAL_BYTES);
        let _ = conn.execute_batch("PRAGMA shrink_memory");
        value
    }

    /// Whether the store works, as every handle on it has found.
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// Checks that the store works: a small transaction that reads the change log lands,
    /// and `PROBE_ROOM` bytes can be allocated in the data directory beside it. Clears
    /// `health` when both pass; the scheduler calls it while the store is degraded.
    pub fn probe(&self) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.query_row("SELECT counter FROM changes", [], |_| Ok(()))?;
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', ?1)",
                [Utc::now().timestamp()],
            )?;
            Ok(())
        })?;
        let scratch = self.dir.join(PROBE_FILE);
        let room = std::fs::write(&scratch, vec![0u8; PROBE_ROOM]);
        let _ = std::fs::remove_file(&scratch);
        if let Err(source) = room {
            let e = StoreError::DataDir {
                path: self.dir.display().to_string(),
                source,
            };
            self.health.note(&e);
            return Err(e);
        }
        self.health.clear();
        Ok(())
    }

    /// Test hook (tests/faults.rs): while on, every call on this store (and its clones)
    /// fails as if the disk answered SQLite with an I/O error, the fault that cannot be
    /// caused for real under an open connection. Nothing else calls it.
    #[doc(hidden)]
    pub fn simulate_io_error(&self, on: bool) {
        self.io_error.store(on, Ordering::Relaxed);
    }

    fn injected(&self) -> Result<(), StoreError> {
        if !self.io_error.load(Ordering::Relaxed) {
            return Ok(());
        }
        Err(StoreError::Sql(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
            Some("disk I/O error (simulated by Store::simulate_io_error)".into()),
        )))
    }

    /// Inserts or replaces articles by id, all in one transaction.
    pub fn upsert(&self, articles: &[Article]) -> Result<(), StoreError> {
        // Prepared before taking the lock: sanitizing is the slow part of a write.
        let prepared: Vec<Prepared> = articles.iter().cloned().map(Prepared::new).collect();
        self.upsert_prepared(&prepared)
    }

    /// `upsert` of articles prepared beforehand (perhaps on another thread).
    pub fn upsert_prepared(&self, articles: &[Prepared]) -> Result<(), StoreError> {
        self.put_articles(articles, None).map(|_| ())
    }

    /// Stores articles pulled from the source named `source`, which owns them from then on.
    /// An article stored already exactly so (same JSON, same source) is not written again,
    /// so a poll that finds nothing new changes no feed. Returns how many were written.
    pub fn upsert_from_source(
        &self,
        source: &str,
        articles: &[Prepared],
    ) -> Result<usize, StoreError> {
        self.put_articles(articles, Some(source))
    }

    /// Writes `articles` in one transaction: all of them when `source` is `None` (a push),
    /// else only those that differ from what is stored.
    fn put_articles(
        &self,
        articles: &[Prepared],
        source: Option<&str>,
    ) -> Result<usize, StoreError> {
        self.write(|tx| {
            let mut touched = BTreeSet::new();
            let mut written = 0;
            let mut stored = tx.prepare_cached("SELECT doc, source FROM articles WHERE id = ?1")?;
            let mut put = tx.prepare_cached(
                "INSERT INTO articles (id, status, published_at, doc, item, item_summary, item_body, source)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status,
                   published_at = excluded.published_at, doc = excluded.doc, item = excluded.item,
                   item_summary = excluded.item_summary, item_body = excluded.item_body,
                   source = excluded.source",
            )?;
            let mut clear_sections =
                tx.prepare_cached("DELETE FROM article_sections WHERE article_id = ?1")?;
            let mut clear_tags =
                tx.prepare_cached("DELETE FROM article_tags WHERE article_id = ?1")?;
            let mut add_section = tx.prepare_cached(
                "INSERT OR IGNORE INTO article_sections (section, published_at, article_id) VALUES (?1, ?2, ?3)",
            )?;
            let mut add_tag = tx.prepare_cached(
                "INSERT OR IGNORE INTO article_tags (article_id, tag) VALUES (?1, ?2)",
            )?;
            for Prepared { article, doc, item } in articles {
                let id = article.id.as_str();
                if source.is_some() {
                    let now: Option<(String, Option<String>)> = stored
                        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    if now.is_some_and(|(d, s)| d == *doc && s.as_deref() == source) {
                        continue;
                    }
                }
                written += 1;
                touched.extend(sections_of(tx, id)?);
                let published = article.published_at.map(|t| t.timestamp_millis());
                let status = match article.status {
                    Status::Published => "published",
                    Status::Draft => "draft",
                };
                let (json, summary, body) =
                    item.as_ref().map(StoredItem::columns).unwrap_or_default();
                put.execute(params![
                    id, status, published, doc, json, summary, body, source
                ])?;
                clear_sections.execute([id])?;
                clear_tags.execute([id])?;
                if let (Status::Published, Some(published)) = (article.status, published) {
                    for section in &article.sections {
                        add_section.execute(params![section.as_str(), published, id])?;
                        touched.insert(section.as_str().to_owned());
                    }
                }
                for tag in &article.tags {
                    add_tag.execute(params![id, tag.to_lowercase()])?;
                }
            }
            // A push always counts as a write, as it always has; a poll only when it wrote.
            if source.is_none() || written > 0 {
                bump_changes(tx, &touched)?;
            }
            Ok(written)
        })
    }

    /// Removes an article from the store and so from every feed. False if it was not there.
    pub fn retract(&self, id: &ArticleId) -> Result<bool, StoreError> {
        Ok(self.retract_all(std::slice::from_ref(id))? > 0)
    }

    /// Removes articles in one transaction; returns how many were there.
    pub fn retract_all(&self, ids: &[ArticleId]) -> Result<usize, StoreError> {
        self.write(|tx| {
            let mut touched = BTreeSet::new();
            let mut removed = 0;
            for id in ids {
                let id = id.as_str();
                touched.extend(sections_of(tx, id)?);
                removed += tx.execute("DELETE FROM articles WHERE id = ?1", [id])?;
                tx.execute("DELETE FROM article_sections WHERE article_id = ?1", [id])?;
                tx.execute("DELETE FROM article_tags WHERE article_id = ?1", [id])?;
            }
            if removed > 0 {
                bump_changes(tx, &touched)?;
            }
            Ok(removed)
        })
    }

    /// The ids of the articles pulled from the source named `source`.
    pub fn source_ids(&self, source: &str) -> Result<BTreeSet<String>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT id FROM articles WHERE source = ?1")?;
            let rows = stmt.query_map([source], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// What the source named `name` remembered at its last poll (empty if it never polled).
    pub fn source_state(&self, name: &str) -> Result<SourceState, StoreError> {
        let state = self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT high_water, fetched_url, etag, last_modified FROM source_state WHERE name = ?1",
                    [name],
                    |r| {
                        Ok(SourceState {
                            high_water: r.get(0)?,
                            fetched_url: r.get(1)?,
                            etag: r.get(2)?,
                            last_modified: r.get(3)?,
                        })
                    },
                )
                .optional()?)
        })?;
        Ok(state.unwrap_or_default())
    }

    pub fn save_source_state(&self, name: &str, state: &SourceState) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR REPLACE INTO source_state (name, high_water, fetched_url, etag, last_modified)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    name,
                    state.high_water,
                    state.fetched_url,
                    state.etag,
                    state.last_modified
                ],
            )?;
            Ok(())
        })
    }

    pub fn get(&self, id: &ArticleId) -> Result<Option<Article>, StoreError> {
        let doc: Option<String> = self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT doc FROM articles WHERE id = ?1",
                    [id.as_str()],
                    |r| r.get(0),
                )
                .optional()?)
        })?;
        doc.map(|doc| decode(id.as_str(), &doc)).transpose()
    }

    /// The newest live items of a feed: published, in one of `q.sections`, passing the
    /// tag filters, `published_at <= now`; newest first, ties broken by id (descending) so
    /// the order never flips between builds.
    pub fn newest(&self, q: &FeedQuery<'_>) -> Result<Vec<FeedItem>, StoreError> {
        if q.sections.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let mut sql = format!(
            "SELECT s.article_id, a.item, a.item_summary, a.item_body
             FROM article_sections s JOIN articles a ON a.id = s.article_id
             WHERE s.section IN ({}) AND s.published_at <= ?",
            placeholders(q.sections.len())
        );
        let tags: Vec<String> = q.tags.iter().map(|t| t.to_lowercase()).collect();
        let excluded: Vec<String> = q.exclude_tags.iter().map(|t| t.to_lowercase()).collect();
        if !tags.is_empty() {
            sql += &format!(
                " AND EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = s.article_id AND t.tag IN ({}))",
                placeholders(tags.len())
            );
        }
        if !excluded.is_empty() {
            sql += &format!(
                " AND NOT EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = s.article_id AND t.tag IN ({}))",
                placeholders(excluded.len())
            );
        }
        sql += " ORDER BY s.published_at DESC, s.article_id DESC";

        let now = q.now.timestamp_millis();
        let values = q
            .sections
            .iter()
            .map(|s| rusqlite::types::Value::from(s.as_str().to_owned()))
            .chain(std::iter::once(now.into()))
            .chain(tags.into_iter().map(Into::into))
            .chain(excluded.into_iter().map(Into::into));

        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params_from_iter(values))?;
            let mut seen = std::collections::HashSet::new();
            let mut articles = Vec::with_capacity(q.limit);
            // Rows stream in feed order; an article in two included sections comes twice.
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                if !seen.insert(id.clone()) {
                    continue;
                }
                let mut item = decode_item(&id, &row.get::<_, String>(1)?)?;
                item.summary_html = row.get(2)?;
                item.body_html = row.get(3)?;
                articles.push(item);
                if articles.len() == q.limit {
                    break;
                }
            }
            Ok(articles)
        })
    }

    /// The earliest `published_at` after `now` of a published article: when the next
    /// scheduled article must enter its feeds.
    pub fn next_embargo(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<i64> = self.read(|conn| {
            Ok(conn.query_row(
                "SELECT MIN(published_at) FROM article_sections WHERE published_at > ?1",
                [now.timestamp_millis()],
                |r| r.get(0),
            )?)
        })?;
        Ok(next.and_then(|ms| Utc.timestamp_millis_opt(ms).single()))
    }

    /// The sections of articles whose `published_at` falls in `(after, until]`: the feeds a
    /// scheduled article enters when its time comes.
    pub fn sections_published_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT section FROM article_sections WHERE published_at > ?1 AND published_at <= ?2",
            )?;
            let rows = stmt
                .query_map([after.timestamp_millis(), until.timestamp_millis()], |r| {
                    r.get(0)
                })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// A number that changes whenever any process writes articles to the store.
    pub fn change_counter(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT counter FROM changes", [], |r| r.get(0))?))
    }

    /// What writes since change counter `seen` touched. Cheap when nothing changed.
    pub fn changes_since(&self, seen: i64) -> Result<Changes, StoreError> {
        self.read(|conn| {
            let counter: i64 = conn.query_row("SELECT counter FROM changes", [], |r| r.get(0))?;
            let sections = if counter == seen {
                Some(BTreeSet::new())
            } else if seen < counter - CHANGE_LOG_KEEP || seen > counter {
                None
            } else {
                let mut stmt = conn.prepare_cached(
                    "SELECT DISTINCT section FROM section_changes WHERE counter > ?1",
                )?;
                let rows = stmt.query_map([seen], |r| r.get(0))?;
                Some(rows.collect::<Result<_, _>>()?)
            };
            Ok(Changes { counter, sections })
        })
    }

    pub fn article_count(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM articles", [], |r| r.get(0))?))
    }

    /// The validators persisted for every feed built so far, and whether its bytes are
    /// saved too (not for feeds last saved by a pressfeed that did not keep them).
    pub fn feed_states(&self) -> Result<Vec<(String, FeedState, bool)>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT name, hash, last_modified, identity IS NOT NULL FROM feed_state",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    FeedState {
                        hash: r.get(1)?,
                        last_modified: r.get(2)?,
                    },
                    r.get(3)?,
                ))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Every feed saved with its bytes, as the last run published it.
    pub fn saved_feeds(&self) -> Result<Vec<SavedFeed>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT name, hash, last_modified, content_type, browser_content_type,
                        identity, gzip, brotli
                 FROM feed_state WHERE identity IS NOT NULL",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(SavedFeed {
                    name: r.get(0)?,
                    state: FeedState {
                        hash: r.get(1)?,
                        last_modified: r.get(2)?,
                    },
                    content_type: r.get(3)?,
                    browser_content_type: r.get(4)?,
                    identity: Bytes::from(r.get::<_, Vec<u8>>(5)?),
                    gzip: Bytes::from(r.get::<_, Vec<u8>>(6)?),
                    brotli: Bytes::from(r.get::<_, Vec<u8>>(7)?),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// Saves the validators and bytes of feeds whose bytes changed, all or none.
    pub fn save_feeds(&self, feeds: &[SavedFeed]) -> Result<(), StoreError> {
        if feeds.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO feed_state (name, hash, last_modified, content_type,
                    browser_content_type, identity, gzip, brotli)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for feed in feeds {
                put.execute(params![
                    feed.name,
                    feed.state.hash,
                    feed.state.last_modified,
                    feed.content_type,
                    feed.browser_content_type,
                    &feed.identity[..],
                    &feed.gzip[..],
                    &feed.brotli[..],
                ])?;
            }
            Ok(())
        })
    }
}

fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let version = |conn: &Connection| -> Result<usize, StoreError> {
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(usize::MAX);
        if version > MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        Ok(version)
    };
    // Read first without a write lock: an up-to-date store (the usual case) opens even
    // when it is read-only.
    if version(conn)? == MIGRATIONS.len() {
        return Ok(());
    }
    loop {
        // Read again inside the write transaction: another process opening a new store
        // at the same moment may have run the step meanwhile.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done = version(&tx)?;
        let Some(step) = MIGRATIONS.get(done) else {
            return Ok(());
        };
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (done + 1) as i64)?;
        tx.commit()?;
    }
}

/// Counts a write and logs the sections it touched, forgetting writes older than the log keeps.
fn bump_changes(
    tx: &rusqlite::Transaction<'_>,
    touched: &BTreeSet<String>,
) -> Result<(), rusqlite::Error> {
    let counter: i64 = tx.query_row(
        "UPDATE changes SET counter = counter + 1 RETURNING counter",
        [],
        |r| r.get(0),
    )?;
    let mut log =
        tx.prepare_cached("INSERT INTO section_changes (counter, section) VALUES (?1, ?2)")?;
    for section in touched {
        log.execute(params![counter, section])?;
    }
    tx.execute(
        "DELETE FROM section_changes WHERE counter <= ?1",
        [counter - CHANGE_LOG_KEEP],
    )?;
    Ok(())
}

/// The sections an article is in feeds of now (none for a draft).
fn sections_of(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<Vec<String>, rusqlite::Error> {
    let mut stmt =
        tx.prepare_cached("SELECT section FROM article_sections WHERE article_id = ?1")?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    rows.collect()
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// An article with its feed item, ready to store: the expensive part of a write, done
/// outside the store's lock.
pub struct Prepared {
    article: Article,
    /// The article's canonical JSON.
    doc: String,
    /// `None` for drafts.
    item: Option<StoredItem>,
}

/// A FeedItem as stored: its HTML in columns of its own, the rest as JSON.
struct StoredItem {
    json: String,
    summary_html: Option<String>,
    body_html: Option<String>,
}

impl StoredItem {
    fn new(article: &Article) -> Option<StoredItem> {
        let mut item = FeedItem::prepare(article)?;
        let summary_html = item.summary_html.take();
        let body_html = item.body_html.take();
        Some(StoredItem {
            json: serde_json::to_string(&item).expect("a FeedItem always serializes"),
            summary_html,
            body_html,
        })
    }

    fn columns(&self) -> (Option<&str>, Option<&str>, Option<&str>) {
        (
            Some(&self.json),
            self.summary_html.as_deref(),
            self.body_html.as_deref(),
        )
    }
}

impl Prepared {
    pub fn new(article: Article) -> Prepared {
        Prepared {
            doc: article.to_json(),
            item: StoredItem::new(&article),
            article,
        }
    }
}

/// Prepares every stored article again when the preparation rules changed (or the store
/// predates prepared items), so old articles render like new ones.
fn prepare_stale(conn: &mut Connection) -> Result<(), StoreError> {
    let done: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'preparation'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if done == Some(item::PREPARATION) {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut all = tx.prepare("SELECT id, doc FROM articles")?;
        let mut put = tx.prepare(
            "UPDATE articles SET item = ?2, item_summary = ?3, item_body = ?4 WHERE id = ?1",
        )?;
        let mut rows = all.query([])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let article = decode(&id, &row.get::<_, String>(1)?)?;
            let item = StoredItem::new(&article);
            let (json, summary, body) = item.as_ref().map(StoredItem::columns).unwrap_or_default();
            put.execute(params![id, json, summary, body])?;
        }
    }
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('preparation', ?1)",
        [item::PREPARATION],
    )?;
    tx.commit()?;
    Ok(())
}

fn decode_item(id: &str, json: &str) -> Result<FeedItem, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::CorruptItem {
        id: id.to_owned(),
        message: e.to_string(),
    })
}

fn decode(id: &str, doc: &str) -> Result<Article, StoreError> {
    Article::from_json(doc).map_err(|source| StoreError::Corrupt {
        id: id.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(
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
    }

    fn now() -> DateTime<Utc> {
        "2022-06-01T00:00:00Z".parse().unwrap()
    }

    fn ids(articles: &[FeedItem]) -> Vec<&str> {
        articles.iter().map(|a| a.id.as_str()).collect()
    }

    fn slugs(names: &[&str]) -> Vec<Slug> {
        names.iter().map(|s| Slug::parse(s).unwrap()).collect()
    }

    fn query<'a>(sections: &'a [Slug], limit: usize) -> FeedQuery<'a> {
        FeedQuery {
            sections,
            tags: &[],
            exclude_tags: &[],
            limit,
            now: now(),
        }
    }

    fn seeded() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .upsert(&[
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
            ])
            .unwrap();
        (dir, store)
    }

    #[test]
    fn newest_live_articles_first_with_a_stable_tie_break() {
        let (_dir, store) = seeded();
        let world = slugs(&["world"]);
        assert_eq!(
            ids(&store.newest(&query(&world, 10)).unwrap()),
            ["f", "b", "a"]
        );
        assert_eq!(ids(&store.newest(&query(&world, 2)).unwrap()), ["f", "b"]);
    }

    #[test]
    fn several_sections_without_duplicates() {
        let (_dir, store) = seeded();
        let both = slugs(&["world", "top-news"]);
        assert_eq!(
            ids(&store.newest(&query(&both, 10)).unwrap()),
            ["f", "b", "c", "a"]
        );
    }

    #[test]
    fn tag_filters_ignore_case() {
        let (_dir, store) = seeded();
        let world = slugs(&["world"]);
        let tags = ["RUSSIA".to_owned(), "ukraine".to_owned()];
        let q = FeedQuery {
            tags: &tags,
            ..query(&world, 10)
        };
        assert_eq!(ids(&store.newest(&q).unwrap()), ["b", "a"]);
        let q = FeedQuery {
            exclude_tags: &tags[..1],
            ..query(&world, 10)
        };
        assert_eq!(ids(&store.newest(&q).unwrap()), ["f", "b"]);
    }

    #[test]
    fn upsert_replaces_and_retract_removes() {
        let (_dir, store) = seeded();
        let before = store.change_counter().unwrap();
        store
            .upsert(&[article(
                "f",
                &["business"],
                "2022-05-03T00:00:00Z",
                &[],
                "published",
            )])
            .unwrap();
        let world = slugs(&["world"]);
        assert_eq!(ids(&store.newest(&query(&world, 10)).unwrap()), ["b", "a"]);
        assert!(store.retract(&ArticleId::parse("b").unwrap()).unwrap());
        assert!(!store.retract(&ArticleId::parse("b").unwrap()).unwrap());
        assert_eq!(ids(&store.newest(&query(&world, 10)).unwrap()), ["a"]);
        assert_eq!(store.change_counter().unwrap(), before + 2);
        assert_eq!(store.article_count().unwrap(), 5);
    }

    #[test]
    fn the_change_log_names_the_sections_before_and_after() {
        let (_dir, store) = seeded();
        let seen = store.change_counter().unwrap();
        assert_eq!(
            store.changes_since(seen).unwrap().sections,
            Some(BTreeSet::new())
        );
        store
            .upsert(&[article(
                "a",
                &["business"],
                "2022-05-01T00:00:00Z",
                &[],
                "published",
            )])
            .unwrap();
        let changes = store.changes_since(seen).unwrap();
        assert_eq!(changes.counter, seen + 1);
        let expected: BTreeSet<String> = ["business".into(), "world".into()].into();
        assert_eq!(changes.sections, Some(expected));
        store.retract(&ArticleId::parse("c").unwrap()).unwrap();
        let changes = store.changes_since(seen + 1).unwrap();
        assert_eq!(changes.sections, Some(["top-news".to_owned()].into()));
        assert_eq!(
            store
                .changes_since(seen - CHANGE_LOG_KEEP - 1)
                .unwrap()
                .sections,
            None
        );
    }

    #[test]
    fn the_next_embargo_is_the_earliest_future_article() {
        let (_dir, store) = seeded();
        let next = store.next_embargo(now()).unwrap().unwrap();
        assert_eq!(
            next,
            "2099-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn reopening_keeps_data_and_schema_version() {
        let (dir, store) = seeded();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.article_count().unwrap(), 6);
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let page_size: i64 = conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .unwrap();
        assert_eq!(page_size, PAGE_SIZE);
    }

    #[test]
    fn an_existing_file_keeps_its_page_size() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.execute_batch("PRAGMA page_size = 4096; CREATE TABLE old (x);")
            .unwrap();
        drop(conn);
        let store = Store::open(dir.path()).unwrap();
        let page_size: i64 = store
            .conn()
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .unwrap();
        assert_eq!(page_size, 4096);
    }

    #[test]
    fn items_are_prepared_again_when_preparation_changes() {
        let (dir, store) = seeded();
        drop(store);
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.execute_batch("UPDATE articles SET item = NULL; UPDATE meta SET value = 0;")
            .unwrap();
        drop(conn);
        let store = Store::open(dir.path()).unwrap();
        let world = slugs(&["world"]);
        assert_eq!(
            ids(&store.newest(&query(&world, 10)).unwrap()),
            ["f", "b", "a"]
        );
    }

    #[test]
    fn processes_opening_a_new_store_at_once_migrate_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let opened: Vec<_> = (0..4)
            .map(|_| {
                let path = dir.path().to_owned();
                std::thread::spawn(move || Store::open(&path).map(|_| ()))
            })
            .collect();
        for open in opened {
            open.join().unwrap().unwrap();
        }
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Connection::open(dir.path().join(FILE_NAME))
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::TooNew { .. })
        ));
    }

    #[test]
    fn a_source_writes_only_what_changed_and_owns_what_it_wrote() {
        let (_dir, store) = seeded();
        let pulled = |title: &str| {
            let mut a = article("p1", &["world"], "2022-05-04T00:00:00Z", &[], "published");
            a.title = title.to_owned();
            Prepared::new(a)
        };
        let before = store.change_counter().unwrap();
        assert_eq!(
            store.upsert_from_source("wire", &[pulled("One")]).unwrap(),
            1
        );
        assert_eq!(
            store.upsert_from_source("wire", &[pulled("One")]).unwrap(),
            0
        );
        assert_eq!(
            store.change_counter().unwrap(),
            before + 1,
            "no write, no change"
        );
        assert_eq!(
            store.upsert_from_source("wire", &[pulled("Two")]).unwrap(),
            1
        );
        assert_eq!(store.source_ids("wire").unwrap(), ["p1".to_owned()].into());
        // A push takes the article over: the source's sweep no longer touches it.
        store.upsert(&[pulled("Three").article]).unwrap();
        assert!(store.source_ids("wire").unwrap().is_empty());
        let ids = [
            ArticleId::parse("p1").unwrap(),
            ArticleId::parse("a").unwrap(),
        ];
        assert_eq!(store.retract_all(&ids).unwrap(), 2);
        assert_eq!(store.retract_all(&ids).unwrap(), 0);
    }

    #[test]
    fn source_state_persists() {
        let (_dir, store) = seeded();
        assert_eq!(store.source_state("wire").unwrap(), SourceState::default());
        let state = SourceState {
            high_water: Some("2024-01-01T10:00:00Z".into()),
            fetched_url: Some("http://127.0.0.1/a.ndjson".into()),
            etag: Some("\"x\"".into()),
            last_modified: None,
        };
        store.save_source_state("wire", &state).unwrap();
        assert_eq!(store.source_state("wire").unwrap(), state);
    }

    #[test]
    fn saved_feeds_keep_validators_and_bytes_together() {
        let (dir, store) = seeded();
        let feed = SavedFeed {
            name: "world.rss".into(),
            state: FeedState {
                hash: "abc".into(),
                last_modified: 42,
            },
            content_type: "application/rss+xml; charset=utf-8".into(),
            browser_content_type: Some("application/xml; charset=utf-8".into()),
            identity: Bytes::from_static(b"<rss/>"),
            gzip: Bytes::from_static(b"gz"),
            brotli: Bytes::from_static(b"br"),
        };
        store.save_feeds(std::slice::from_ref(&feed)).unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.saved_feeds().unwrap(), std::slice::from_ref(&feed));
        assert_eq!(
            store.feed_states().unwrap(),
            [("world.rss".to_owned(), feed.state, true)]
        );
    }

    #[test]
    fn a_fault_degrades_the_store_until_a_probe_passes() {
        let (_dir, store) = seeded();
        let health = store.health();
        assert!(health.problem().is_none());
        store.simulate_io_error(true);
        let e = store.article_count().unwrap_err();
        assert_eq!(e.fault(), Some(Fault::Io));
        assert_eq!(health.problem().unwrap().fault, Fault::Io);
        assert!(store.probe().is_err());
        store.simulate_io_error(false);
        store.article_count().unwrap();
        assert!(health.problem().is_some(), "a read does not clear a fault");
        store.probe().unwrap();
        assert!(health.problem().is_none());
    }

    #[test]
    fn only_faults_of_the_disk_or_file_count() {
        let failure = |code| {
            StoreError::Sql(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        assert_eq!(
            failure(rusqlite::ffi::SQLITE_FULL).fault(),
            Some(Fault::Full)
        );
        assert_eq!(
            failure(rusqlite::ffi::SQLITE_READONLY).fault(),
            Some(Fault::ReadOnly)
        );
        assert_eq!(
            failure(rusqlite::ffi::SQLITE_BUSY).fault(),
            Some(Fault::Locked)
        );
        assert_eq!(failure(rusqlite::ffi::SQLITE_CONSTRAINT).fault(), None);
        let io = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let e = StoreError::DataDir {
            path: "d".into(),
            source: io,
        };
        assert_eq!(e.fault(), Some(Fault::Full));
    }
}
