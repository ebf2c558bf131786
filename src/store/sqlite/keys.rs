//! The index of on-demand feeds in SQLite: each published article under its keys
//! (`dimension::keys_of`), kept by the writes of `articles`; the queries of a feed by key;
//! and the validators of the feeds built from them, agreed as saved feeds' are.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Transaction, params};

use super::Sqlite;
use crate::article::Article;
use crate::dimension::{self, Dimension};
use crate::item::FeedItem;
use crate::store::backend::KeyIndex;
use crate::store::{
    FeedState, Held, KeyCount, Span, StoreError, agreed, decode_article, key_range, newest_items,
};

/// Replaces the keys of the article `article` (`published`: its `published_at` in unix
/// milliseconds) with those it has now, adding the keys it had and has to `touched`.
pub(super) fn replace(
    tx: &Transaction<'_>,
    article: &Article,
    published: Option<i64>,
    touched: &mut BTreeSet<String>,
) -> Result<(), rusqlite::Error> {
    let id = article.id.as_str();
    remove(tx, id, touched)?;
    let Some(published) = published else {
        return Ok(());
    };
    let mut add = tx.prepare_cached(
        "INSERT OR IGNORE INTO article_keys (key, published_at, article_id, name)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (key, name) in dimension::keys_of(article) {
        add.execute(params![key, published, id, name])?;
        touched.insert(key);
    }
    Ok(())
}

/// Removes the keys of the article `id`, adding them to `touched`.
pub(super) fn remove(
    tx: &Transaction<'_>,
    id: &str,
    touched: &mut BTreeSet<String>,
) -> Result<(), rusqlite::Error> {
    let mut had =
        tx.prepare_cached("DELETE FROM article_keys WHERE article_id = ?1 RETURNING key")?;
    let rows = had.query_map([id], |r| r.get(0))?;
    for key in rows {
        touched.insert(key?);
    }
    Ok(())
}

/// Indexes every stored article anew: when the table is made (the migration that makes
/// it) and when a whole store is copied in. An article the current rules refuse has no
/// feed item either, so it is left out here too.
pub(super) fn fill(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("DELETE FROM article_keys", [])?;
    let mut all = tx.prepare(
        "SELECT id, published_at, doc FROM articles
         WHERE status = 'published' AND published_at IS NOT NULL",
    )?;
    let mut rows = all.query([])?;
    let mut none = BTreeSet::new();
    while let Some(row) = rows.next()? {
        let (id, published, doc): (String, i64, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        match decode_article(&id, &doc) {
            Ok(article) => replace(tx, &article, Some(published), &mut none)?,
            Err(e) => tracing::warn!(error = %e, "an unreadable article is in no on-demand feed"),
        }
    }
    Ok(())
}

impl KeyIndex for Sqlite {
    fn newest_of(&self, key: &str, limit: usize, span: Span) -> Result<Vec<FeedItem>, StoreError> {
        let order = span.order();
        let (from, until) = span.millis();
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT k.article_id, a.item, a.item_summary, a.item_body
                 FROM article_keys k JOIN articles a ON a.id = k.article_id
                 WHERE k.key = ?1 AND k.published_at BETWEEN ?2 AND ?3 AND a.item IS NOT NULL
                 ORDER BY k.published_at {order}, k.article_id {order}"
            ))?;
            let rows = stmt.query_map(params![key, from, until], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            newest_items(rows.map(|row| row.map_err(StoreError::from)), limit)
        })
    }

    fn key_exists(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT 1 FROM article_keys WHERE key = ?1 AND published_at <= ?2 LIMIT 1",
                )?
                .exists(params![key, now.timestamp_millis()])?)
        })
    }

    fn top_keys(
        &self,
        dimension: Dimension,
        n: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<KeyCount>, StoreError> {
        let (from, to) = key_range(dimension);
        self.read(|conn| {
            let mut top = conn.prepare_cached(
                "SELECT key, COUNT(*) AS articles FROM article_keys
                 WHERE key >= ?1 AND key < ?2 AND published_at <= ?3
                 GROUP BY key ORDER BY articles DESC, key LIMIT ?4",
            )?;
            let mut name = conn.prepare_cached(
                "SELECT name FROM article_keys WHERE key = ?1 AND published_at <= ?2
                 GROUP BY name ORDER BY COUNT(*) DESC, name LIMIT 1",
            )?;
            let now = now.timestamp_millis();
            let rows = top.query_map(params![from, to, now, n as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?))
            })?;
            let mut keys = Vec::with_capacity(n);
            for row in rows {
                let (key, articles) = row?;
                let name: String = name.query_row(params![key, now], |r| r.get(0))?;
                let slug = key[from.len()..].to_owned();
                keys.push(KeyCount {
                    slug,
                    name,
                    articles,
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
        self.read(|conn| {
            // Through the sections' index by time: every published article is in one.
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT k.key FROM article_sections s
                 JOIN article_keys k ON k.article_id = s.article_id
                 WHERE s.published_at > ?1 AND s.published_at <= ?2",
            )?;
            let rows = stmt
                .query_map([after.timestamp_millis(), until.timestamp_millis()], |r| {
                    r.get(0)
                })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn agree_demand_state(
        &self,
        name: &str,
        hash: &str,
        built_from: i64,
        stamp: &dyn Fn(Option<&FeedState>) -> FeedState,
    ) -> Result<Option<FeedState>, StoreError> {
        let held = |conn: &rusqlite::Connection| -> Result<Option<Held>, StoreError> {
            Ok(conn
                .prepare_cached(
                    "SELECT hash, last_modified, ambiguous_until, built_from
                     FROM demand_feed_state WHERE name = ?1",
                )?
                .query_row([name], |r| {
                    Ok(Held {
                        state: FeedState {
                            hash: r.get(0)?,
                            last_modified: r.get(1)?,
                            ambiguous_until: r.get(2)?,
                        },
                        has_bytes: false,
                        built_from: r.get(3)?,
                    })
                })
                .optional()?)
        };
        // Read first without the write lock: a rebuild after an eviction or a restart
        // (the usual cold build) finds its bytes' state there and writes nothing.
        let before = self.read(|conn| held(conn))?;
        let unchanged = agreed(hash, built_from, before.as_ref(), stamp);
        if let (Some(before), Some(state)) = (&before, &unchanged)
            && before.state == *state
        {
            return Ok(unchanged);
        }
        self.write(|tx| {
            let held = held(tx)?;
            let Some(state) = agreed(hash, built_from, held.as_ref(), stamp) else {
                return Ok(None);
            };
            if held.is_none_or(|held| held.state != state) {
                tx.prepare_cached(
                    "INSERT OR REPLACE INTO demand_feed_state
                     (name, hash, last_modified, ambiguous_until, built_from)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    name,
                    state.hash,
                    state.last_modified,
                    state.ambiguous_until,
                    built_from
                ])?;
            }
            Ok(Some(state))
        })
    }
}
