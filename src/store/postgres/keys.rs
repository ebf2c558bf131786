//! The index of on-demand feeds in PostgreSQL, as SQLite's (`sqlite/keys.rs`): articles
//! by key, kept by the writes of `articles`; the queries of a feed by key; the validators
//! of the feeds built from them, agreed one save at a time.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::articles::Rows;
use super::{Client, Postgres, Transaction};
use crate::dimension::Dimension;
use crate::item::FeedItem;
use crate::store::backend::KeyIndex;
use crate::store::{
    FeedState, Held, KeyCount, Span, StoreError, agreed, decode_article, key_range, newest_items,
};

/// The `pg_advisory_xact_lock` key agreements of on-demand feeds' validators take turns on.
const AGREE_LOCK: i64 = 0x7072_6573_7366_6433; // "pressfd3"
/// Articles read per query while the index is filled.
const FILL_PAGE: i64 = 1000;

/// Removes the keys of the articles `ids`; returns the keys they had.
pub(super) async fn remove_keys(
    tx: &Transaction<'_>,
    ids: &[&str],
) -> Result<BTreeSet<String>, StoreError> {
    Ok(tx
        .query(
            "DELETE FROM article_keys WHERE article_id = ANY($1) RETURNING key",
            &[&ids],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// Indexes every stored article anew, a page at a time: when the table is made and when a
/// whole store is copied in. An unreadable article is in no on-demand feed.
pub(super) async fn fill(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("DELETE FROM article_keys", &[]).await?;
    let mut after = String::new();
    loop {
        let page = tx
            .query(
                "SELECT id, published_at, doc FROM articles
                 WHERE status = 'published' AND published_at IS NOT NULL AND id > $1
                 ORDER BY id LIMIT $2",
                &[&after, &FILL_PAGE],
            )
            .await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.get(0);
        let mut articles = Vec::with_capacity(page.len());
        for row in &page {
            let (id, doc): (&str, &str) = (row.get(0), row.get(2));
            match decode_article(id, doc) {
                Ok(article) => articles.push((article, row.get::<_, i64>(1))),
                Err(e) => {
                    tracing::warn!(error = %e, "an unreadable article is in no on-demand feed")
                }
            }
        }
        let mut rows = Rows::default();
        for (article, published) in &articles {
            rows.push_keys(article, *published);
        }
        rows.write_keys(tx).await?;
    }
}

impl KeyIndex for Postgres {
    fn newest_of(&self, key: &str, limit: usize, span: Span) -> Result<Vec<FeedItem>, StoreError> {
        let limit_rows = limit.min(i64::MAX as usize) as i64;
        let order = span.order();
        let (from, until) = span.millis();
        let sql = format!(
            "SELECT k.article_id, a.item, a.item_summary, a.item_body
             FROM article_keys k JOIN articles a ON a.id = k.article_id
             WHERE k.key = $1 AND k.published_at BETWEEN $2 AND $3 AND a.item IS NOT NULL
             ORDER BY k.published_at {order}, k.article_id {order} LIMIT $4"
        );
        self.read(async |client| {
            let rows = client
                .query(&sql, &[&key, &from, &until, &limit_rows])
                .await?;
            let rows = rows
                .iter()
                .map(|row| Ok((row.get(0), row.get(1), row.get(2), row.get(3))));
            newest_items(rows, limit)
        })
    }

    fn key_exists(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.read(async |client| {
            Ok(client
                .query_opt(
                    "SELECT 1 FROM article_keys WHERE key = $1 AND published_at <= $2 LIMIT 1",
                    &[&key, &now.timestamp_millis()],
                )
                .await?
                .is_some())
        })
    }

    fn top_keys(
        &self,
        dimension: Dimension,
        n: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<KeyCount>, StoreError> {
        // Compared byte by byte (`C`), as `key_range` is made for.
        let (from, to) = key_range(dimension);
        let n = n.min(i64::MAX as usize) as i64;
        let now = now.timestamp_millis();
        self.read(async |client: &Client| {
            let top = client
                .query(
                    "SELECT key, COUNT(*) AS articles FROM article_keys
                     WHERE key COLLATE \"C\" >= $1 AND key COLLATE \"C\" < $2
                       AND published_at <= $3
                     GROUP BY key ORDER BY articles DESC, key COLLATE \"C\" LIMIT $4",
                    &[&from, &to, &now, &n],
                )
                .await?;
            let mut keys = Vec::with_capacity(top.len());
            for row in &top {
                let key: String = row.get(0);
                let name: String = client
                    .query_one(
                        "SELECT name FROM article_keys WHERE key = $1 AND published_at <= $2
                         GROUP BY name ORDER BY COUNT(*) DESC, name COLLATE \"C\" LIMIT 1",
                        &[&key, &now],
                    )
                    .await?
                    .get(0);
                keys.push(KeyCount {
                    slug: key[from.len()..].to_owned(),
                    name,
                    articles: row.get(1),
                });
            }
            Ok(keys)
        })
    }

    fn keys_published_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, StoreError> {
        self.read(async |client| {
            Ok(client
                .query(
                    "SELECT DISTINCT k.key FROM article_sections s
                     JOIN article_keys k ON k.article_id = s.article_id
                     WHERE s.published_at > $1 AND s.published_at <= $2",
                    &[&after.timestamp_millis(), &until.timestamp_millis()],
                )
                .await?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })
    }

    fn agree_demand_state(
        &self,
        name: &str,
        hash: &str,
        built_from: i64,
        stamp: &dyn Fn(Option<&FeedState>) -> FeedState,
    ) -> Result<Option<FeedState>, StoreError> {
        const HELD: &str = "SELECT hash, last_modified, ambiguous_until, built_from
                            FROM demand_feed_state WHERE name = $1";
        let held = |row: Option<tokio_postgres::Row>| {
            row.map(|row| Held {
                state: FeedState {
                    hash: row.get(0),
                    last_modified: row.get(1),
                    ambiguous_until: row.get(2),
                },
                has_bytes: false,
                built_from: row.get(3),
            })
        };
        // Read first without the lock: a rebuild after an eviction or a restart finds its
        // bytes' state there and writes nothing.
        let before = held(self.read(async |client| Ok(client.query_opt(HELD, &[&name]).await?))?);
        let unchanged = agreed(hash, built_from, before.as_ref(), stamp);
        if let (Some(before), Some(state)) = (&before, &unchanged)
            && before.state == *state
        {
            return Ok(unchanged);
        }
        self.write(async |tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AGREE_LOCK])
                .await?;
            let held = held(tx.query_opt(HELD, &[&name]).await?);
            let Some(state) = agreed(hash, built_from, held.as_ref(), stamp) else {
                return Ok(None);
            };
            if held.is_none_or(|held| held.state != state) {
                tx.execute(
                    "INSERT INTO demand_feed_state
                       (name, hash, last_modified, ambiguous_until, built_from)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (name) DO UPDATE SET hash = excluded.hash,
                       last_modified = excluded.last_modified,
                       ambiguous_until = excluded.ambiguous_until,
                       built_from = excluded.built_from",
                    &[
                        &name,
                        &state.hash,
                        &state.last_modified,
                        &state.ambiguous_until,
                        &built_from,
                    ],
                )
                .await?;
            }
            Ok(Some(state))
        })
    }
}
