//! The PostgreSQL schema: its migrations, in order, and running them. The `schema_version`
//! table says how many a database has had; as for SQLite, a step is never edited once
//! released, only a new one appended. The tables are SQLite's, in PostgreSQL's types, so a
//! store moves between the two unchanged.

use super::Client;
use crate::store::StoreError;

/// Schema migrations, in order.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE articles (
        id           TEXT PRIMARY KEY,
        status       TEXT NOT NULL,
        published_at BIGINT,             -- unix milliseconds
        -- lz4 rather than the default pglz for the long texts: an import spends most of
        -- its time in the server compressing them, and lz4 cuts that by about a quarter
        -- for the same size (BENCHMARKS.md, "PostgreSQL"). PostgreSQL 14+ built with lz4,
        -- as Debian's and the managed services' are.
        doc          TEXT COMPRESSION lz4 NOT NULL,  -- canonical JSON of the article
        item         TEXT COMPRESSION lz4,           -- the FeedItem JSON; NULL for drafts
        item_summary TEXT COMPRESSION lz4,
        item_body    TEXT COMPRESSION lz4,
        source       TEXT                -- the [[sources]] entry that owns it; NULL if pushed
    );
    CREATE INDEX articles_by_source ON articles (source) WHERE source IS NOT NULL;
    CREATE TABLE article_sections (
        section      TEXT NOT NULL,
        published_at BIGINT NOT NULL,
        article_id   TEXT NOT NULL,
        PRIMARY KEY (section, published_at, article_id)
    );
    CREATE INDEX article_sections_by_article ON article_sections (article_id);
    CREATE INDEX article_sections_by_time ON article_sections (published_at);
    CREATE TABLE article_tags (
        article_id   TEXT NOT NULL,
        tag          TEXT NOT NULL,      -- lowercased
        PRIMARY KEY (article_id, tag)
    );
    -- Bumped by every write; its row is also the lock writers of articles queue on.
    CREATE TABLE changes (id INTEGER PRIMARY KEY CHECK (id = 1), counter BIGINT NOT NULL);
    INSERT INTO changes VALUES (1, 0);
    CREATE TABLE section_changes (
        counter BIGINT NOT NULL,
        section TEXT NOT NULL,
        PRIMARY KEY (counter, section)
    );
    CREATE TABLE meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
    CREATE TABLE feed_state (
        name                 TEXT PRIMARY KEY,
        hash                 TEXT NOT NULL,
        last_modified        BIGINT NOT NULL,    -- unix seconds
        ambiguous_until      BIGINT,
        content_type         TEXT,
        browser_content_type TEXT,
        identity             BYTEA,
        gzip                 BYTEA,
        brotli               BYTEA,
        built_from           BIGINT NOT NULL DEFAULT 0  -- the change counter the build read
    );
    CREATE TABLE source_state (
        name          TEXT PRIMARY KEY,
        high_water    TEXT,
        fetched_url   TEXT,
        etag          TEXT,
        last_modified TEXT
    );
    CREATE TABLE source_labels (
        name   TEXT PRIMARY KEY,
        labels TEXT NOT NULL
    );
    CREATE TABLE sections (
        slug    TEXT PRIMARY KEY,
        text    TEXT NOT NULL,
        hash    TEXT NOT NULL,
        synced  TEXT,
        changed BIGINT NOT NULL          -- unix seconds
    );
    CREATE TABLE sections_version (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
    INSERT INTO sections_version VALUES (1, 0);
    CREATE TABLE leases (
        name   TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        until  TIMESTAMPTZ NOT NULL
    );
"#,
    r#"
    -- Every process listening hears a write of articles or sections when it commits
    -- (`listen`). Statement triggers: one notification per write, whatever it touched.
    CREATE FUNCTION pressfeed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify(TG_ARGV[0], '');
        RETURN NULL;
    END
    $$;
    CREATE TRIGGER changes_notify AFTER UPDATE ON changes
        FOR EACH STATEMENT EXECUTE FUNCTION pressfeed_notify('pressfeed_articles');
    CREATE TRIGGER sections_notify AFTER UPDATE ON sections_version
        FOR EACH STATEMENT EXECUTE FUNCTION pressfeed_notify('pressfeed_sections');
"#,
    r#"
    -- On-demand feeds: as SQLite's (sqlite/schema.rs), filled by `keys::fill`.
    CREATE TABLE article_keys (
        key          TEXT NOT NULL,
        published_at BIGINT NOT NULL,    -- unix milliseconds
        article_id   TEXT NOT NULL,
        name         TEXT NOT NULL,
        PRIMARY KEY (key, published_at, article_id)
    );
    CREATE INDEX article_keys_by_article ON article_keys (article_id);
    CREATE TABLE key_changes (
        counter BIGINT NOT NULL,
        key     TEXT NOT NULL,
        PRIMARY KEY (counter, key)
    );
    CREATE TABLE demand_feed_state (
        name            TEXT PRIMARY KEY,
        hash            TEXT NOT NULL,
        last_modified   BIGINT NOT NULL,     -- unix seconds
        ambiguous_until BIGINT,
        built_from      BIGINT NOT NULL
    );
"#,
    r#"
    -- Who reads the feeds: as SQLite's (sqlite/schema.rs).
    CREATE TABLE reader_polls (
        day          BIGINT NOT NULL,    -- UTC days since 1970-01-01
        feed         TEXT NOT NULL,
        client       TEXT NOT NULL,
        polls        BIGINT NOT NULL,
        not_modified BIGINT NOT NULL,
        bytes        BIGINT NOT NULL,
        PRIMARY KEY (day, feed, client)
    );
    CREATE TABLE reader_reports (
        day          BIGINT NOT NULL,
        feed         TEXT NOT NULL,
        aggregator   TEXT NOT NULL,
        feed_id      TEXT NOT NULL,
        subscribers  BIGINT NOT NULL,
        seen         BIGINT NOT NULL,    -- unix seconds
        PRIMARY KEY (day, feed, aggregator, feed_id)
    );
"#,
];

/// The number of migrations after which `article_keys` exists: the step that makes it
/// also fills it.
const KEYED: usize = 3;

/// A key of `pg_advisory_xact_lock` of pressfeed's own: processes opening one new database
/// at once migrate it one after the other.
const MIGRATION_LOCK: i64 = 0x7072_6573_7366_6431; // "pressfd1"

/// Brings the database (`display` for messages) up to the last migration.
pub(super) async fn migrate(client: &mut Client, display: &str) -> Result<(), StoreError> {
    let known = MIGRATIONS.len();
    loop {
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .await?;
        let done: Option<i32> = tx
            .query_opt("SELECT version FROM schema_version", &[])
            .await?
            .map(|row| row.get(0));
        let done = usize::try_from(done.unwrap_or(0)).unwrap_or(usize::MAX);
        if done > known {
            return Err(StoreError::TooNew {
                path: display.to_owned(),
                found: done,
                known,
            });
        }
        let Some(step) = MIGRATIONS.get(done) else {
            // Committed only to end the transaction: the lock goes with it.
            tx.commit().await?;
            return Ok(());
        };
        tx.batch_execute(step).await?;
        if done + 1 == KEYED {
            super::keys::fill(&tx).await?;
        }
        tx.execute("DELETE FROM schema_version", &[]).await?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&((done + 1) as i32)],
        )
        .await?;
        tx.commit().await?;
    }
}
