//! The SQLite schema: its migrations, in order, and running them. `PRAGMA user_version`
//! says how many a file has had; a step is never edited once released, only a new one
//! appended, so every store made by an older pressfeed opens.

use rusqlite::{Connection, TransactionBehavior};

use crate::store::StoreError;

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
    r#"
    -- Set while a feed's Last-Modified second was also stamped on earlier bytes of it, so
    -- If-Modified-Since cannot tell them apart (see FeedState); NULL when it can.
    ALTER TABLE feed_state ADD COLUMN ambiguous_until INTEGER;  -- unix seconds
"#,
    r#"
    -- What a source last saw of the labels its articles carry (a WordPress source: the
    -- names and slugs of its tags, categories and users, as JSON), so that a rename made
    -- while pressfeed was down is noticed too.
    CREATE TABLE source_labels (
        name   TEXT PRIMARY KEY,         -- the source
        labels TEXT NOT NULL
    );
"#,
    r#"
    -- The site's sections, each as its file's text (store::sections).
    CREATE TABLE sections (
        slug    TEXT PRIMARY KEY,
        text    TEXT NOT NULL,
        hash    TEXT NOT NULL,           -- content_hash of text
        synced  TEXT,                    -- hash of the text last seeded, imported or exported
        changed INTEGER NOT NULL         -- unix seconds
    );
    -- Bumped by every write of sections, so other processes notice one cheaply; 0 while
    -- the store never had sections (not yet seeded from feeds/sections).
    CREATE TABLE sections_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
    INSERT INTO sections_version VALUES (1, 0);
"#,
    r#"
    -- Work one process of those sharing the store does at a time (store::Leases).
    CREATE TABLE leases (
        name   TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        until  INTEGER NOT NULL          -- unix milliseconds
    );
    -- The change counter a feed's build read (SavedFeed::built_from): a save of bytes
    -- built from an older read does not replace them.
    ALTER TABLE feed_state ADD COLUMN built_from INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
    -- On-demand feeds (docs/feeds.md): each published article under the keys of the
    -- feeds it is in (`all`, `tag/<slug>`, `author/<slug>`) with the name it gives the key
    -- (empty for `all`). Filled for the articles stored already as the step runs
    -- (`keys::fill`), as folding names into slugs is no SQL.
    CREATE TABLE article_keys (
        key          TEXT NOT NULL,
        published_at INTEGER NOT NULL,   -- unix milliseconds
        article_id   TEXT NOT NULL,
        name         TEXT NOT NULL,
        PRIMARY KEY (key, published_at, article_id)
    ) WITHOUT ROWID;
    CREATE INDEX article_keys_by_article ON article_keys (article_id);
    -- The keys each write touched (before and after), as section_changes the sections.
    CREATE TABLE key_changes (
        counter INTEGER NOT NULL,
        key     TEXT NOT NULL,
        PRIMARY KEY (counter, key)
    ) WITHOUT ROWID;
    -- The validators of on-demand feeds, without their bytes: a rebuild gives the bytes
    -- back, and the same bytes keep their Last-Modified.
    CREATE TABLE demand_feed_state (
        name            TEXT PRIMARY KEY,    -- e.g. tag/krakow.rss
        hash            TEXT NOT NULL,
        last_modified   INTEGER NOT NULL,    -- unix seconds
        ambiguous_until INTEGER,
        built_from      INTEGER NOT NULL
    );
"#,
    r#"
    -- Who reads the feeds (store::readership), by UTC day (days since 1970-01-01): polls
    -- by client family, added up by every process that flushes them ...
    CREATE TABLE reader_polls (
        day          INTEGER NOT NULL,
        feed         TEXT NOT NULL,      -- e.g. world.rss
        client       TEXT NOT NULL,      -- the client family, e.g. feedly, browser
        polls        INTEGER NOT NULL,   -- answered 200 or 304
        not_modified INTEGER NOT NULL,   -- answered 304
        bytes        INTEGER NOT NULL,
        PRIMARY KEY (day, feed, client)
    ) WITHOUT ROWID;
    -- ... and each aggregator's latest subscriber count per feed id of its own ('' for none).
    CREATE TABLE reader_reports (
        day          INTEGER NOT NULL,
        feed         TEXT NOT NULL,
        aggregator   TEXT NOT NULL,
        feed_id      TEXT NOT NULL,
        subscribers  INTEGER NOT NULL,
        seen         INTEGER NOT NULL,   -- unix seconds: the later report wins
        PRIMARY KEY (day, feed, aggregator, feed_id)
    ) WITHOUT ROWID;
"#,
];

/// The schema version of a store this pressfeed made or migrated: a file with a higher
/// one is a newer pressfeed's.
pub(super) const VERSION: usize = MIGRATIONS.len();

/// The number of migrations after which `article_keys` exists: the step that makes it
/// also fills it.
const KEYED: usize = 11;

/// Brings the store at `path` (for messages) up to the last migration.
pub(super) fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
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
        if done + 1 == KEYED {
            super::keys::fill(&tx)?;
        }
        tx.pragma_update(None, "user_version", (done + 1) as i64)?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::fixtures::seeded;
    use crate::store::sqlite::{FILE_NAME, PAGE_SIZE};

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
    fn feed_state_saved_before_ambiguous_seconds_were_kept_opens_unambiguous() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        let before = MIGRATIONS.len() - 1;
        for step in &MIGRATIONS[..before] {
            conn.execute_batch(step).unwrap();
        }
        conn.pragma_update(None, "user_version", before as i64)
            .unwrap();
        conn.execute(
            "INSERT INTO feed_state (name, hash, last_modified) VALUES ('world.rss', 'abc', 42)",
            [],
        )
        .unwrap();
        drop(conn);
        let store = Store::open(dir.path()).unwrap();
        let (name, state, has_bytes) = store.feed_states().unwrap().remove(0);
        assert_eq!((name.as_str(), has_bytes), ("world.rss", false));
        assert_eq!(
            (
                state.hash.as_str(),
                state.last_modified,
                state.ambiguous_until
            ),
            ("abc", 42, None)
        );
    }

    #[test]
    fn the_step_that_makes_the_key_index_fills_it_with_the_articles_stored() {
        let (dir, store) = seeded();
        drop(store);
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        // Back to the store as it was before the step, with the steps after it undone too.
        conn.execute_batch(
            "DROP TABLE article_keys; DROP TABLE key_changes; DROP TABLE demand_feed_state;
             DROP TABLE reader_polls; DROP TABLE reader_reports;",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", (KEYED - 1) as i64)
            .unwrap();
        drop(conn);
        let store = Store::open(dir.path()).unwrap();
        let now = crate::store::fixtures::now();
        let newest = store
            .newest_of("tag/russia", 10, crate::store::Span::live(now))
            .unwrap();
        assert_eq!(
            crate::store::fixtures::ids(&newest),
            ["a"],
            "not the draft d"
        );
        assert_eq!(
            store
                .newest_of("all", 10, crate::store::Span::live(now))
                .unwrap()
                .len(),
            4
        );
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
}
