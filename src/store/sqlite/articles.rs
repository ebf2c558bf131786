//! Articles in SQLite: writes (pushed or pulled from a source), retractions, reads, the
//! one feed query, and swapping in items prepared again. The change log each write feeds
//! is `changes`'s.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, params, params_from_iter};

use super::changes::{bump_changes, sections_of};
use super::{Sqlite, keys, placeholders};
use crate::article::{Article, ArticleId, Status};
use crate::item::{FeedItem, PreparedArticle, StoredItem};
use crate::store::backend::{Articles, Transfer};
use crate::store::{StoreError, decode_article, newest_items};

/// Writes an article's row, replacing one of its id: id, status, published_at, doc, item,
/// item_summary, item_body, source.
pub(super) const PUT: &str =
    "INSERT INTO articles (id, status, published_at, doc, item, item_summary, item_body, source)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status,
       published_at = excluded.published_at, doc = excluded.doc, item = excluded.item,
       item_summary = excluded.item_summary, item_body = excluded.item_body,
       source = excluded.source";
/// Puts an article in a section's feeds: section, published_at, article_id.
pub(super) const ADD_SECTION: &str = "INSERT OR IGNORE INTO article_sections (section, published_at, article_id) VALUES (?1, ?2, ?3)";
/// Tags an article: article_id, the tag lowercased.
pub(super) const ADD_TAG: &str =
    "INSERT OR IGNORE INTO article_tags (article_id, tag) VALUES (?1, ?2)";

/// The columns of a stored item: its JSON and its HTML; all `NULL` for a draft.
pub(super) fn item_columns(
    item: Option<&StoredItem>,
) -> (Option<&str>, Option<&str>, Option<&str>) {
    item.map(|item| {
        (
            Some(item.json.as_str()),
            item.summary_html.as_deref(),
            item.body_html.as_deref(),
        )
    })
    .unwrap_or_default()
}

impl Articles for Sqlite {
    fn upsert(
        &self,
        articles: &[PreparedArticle],
        source: Option<&str>,
    ) -> Result<usize, StoreError> {
        self.write(|tx| {
            let (mut touched, mut keys) = (BTreeSet::new(), BTreeSet::new());
            let mut written = 0;
            let mut stored = tx.prepare_cached("SELECT doc, source FROM articles WHERE id = ?1")?;
            let mut put = tx.prepare_cached(PUT)?;
            let mut clear_sections =
                tx.prepare_cached("DELETE FROM article_sections WHERE article_id = ?1")?;
            let mut clear_tags =
                tx.prepare_cached("DELETE FROM article_tags WHERE article_id = ?1")?;
            let mut add_section = tx.prepare_cached(ADD_SECTION)?;
            let mut add_tag = tx.prepare_cached(ADD_TAG)?;
            for prepared in articles {
                let (article, doc) = (prepared.article(), prepared.doc());
                let id = article.id.as_str();
                if source.is_some() {
                    let now: Option<(String, Option<String>)> = stored
                        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    if now.is_some_and(|(d, s)| d == doc && s.as_deref() == source) {
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
                let (json, summary, body) = item_columns(prepared.item());
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
                keys::replace(tx, article, published, &mut keys)?;
            }
            // A push always counts as a write, as it always has; a poll only when it wrote.
            if source.is_none() || written > 0 {
                bump_changes(tx, &touched, &keys)?;
            }
            Ok(written)
        })
    }

    fn retract(&self, ids: &[ArticleId]) -> Result<usize, StoreError> {
        self.write(|tx| {
            let (mut touched, mut keys) = (BTreeSet::new(), BTreeSet::new());
            let mut removed = 0;
            for id in ids {
                let id = id.as_str();
                touched.extend(sections_of(tx, id)?);
                keys::remove(tx, id, &mut keys)?;
                removed += tx.execute("DELETE FROM articles WHERE id = ?1", [id])?;
                tx.execute("DELETE FROM article_sections WHERE article_id = ?1", [id])?;
                tx.execute("DELETE FROM article_tags WHERE article_id = ?1", [id])?;
            }
            if removed > 0 {
                bump_changes(tx, &touched, &keys)?;
            }
            Ok(removed)
        })
    }

    fn get(&self, id: &ArticleId) -> Result<Option<Article>, StoreError> {
        let doc: Option<String> = self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT doc FROM articles WHERE id = ?1",
                    [id.as_str()],
                    |r| r.get(0),
                )
                .optional()?)
        })?;
        doc.map(|doc| decode_article(id.as_str(), &doc)).transpose()
    }

    fn article_count(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM articles", [], |r| r.get(0))?))
    }

    fn newest(&self, q: &crate::store::FeedQuery<'_>) -> Result<Vec<FeedItem>, StoreError> {
        let mut sql = format!(
            "SELECT s.article_id, a.item, a.item_summary, a.item_body
             FROM article_sections s JOIN articles a ON a.id = s.article_id
             WHERE s.section IN ({}) AND s.published_at BETWEEN ? AND ? AND a.item IS NOT NULL",
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
        let order = q.span.order();
        sql += &format!(" ORDER BY s.published_at {order}, s.article_id {order}");

        let (from, until) = q.span.millis();
        let values = q
            .sections
            .iter()
            .map(|s| rusqlite::types::Value::from(s.as_str().to_owned()))
            .chain([from.into(), until.into()])
            .chain(tags.into_iter().map(Into::into))
            .chain(excluded.into_iter().map(Into::into));

        self.read(|conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params_from_iter(values), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            // Rows stream in feed order: none is read past the limit.
            newest_items(rows.map(|row| row.map_err(StoreError::from)), q.limit)
        })
    }

    fn source_ids(&self, source: &str) -> Result<BTreeSet<String>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT id FROM articles WHERE source = ?1")?;
            let rows = stmt.query_map([source], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn prepare_stale(
        &self,
        version: i64,
        prepare: &mut dyn FnMut(&str, &str) -> Option<StoredItem>,
    ) -> Result<usize, StoreError> {
        // `meta` has no row for a store that predates prepared items: all are stale.
        if self.preparation()? == Some(version) {
            return Ok(0);
        }
        // One transaction for all and the version: nothing is half done after a crash, and
        // no other process writes an article between its read and its new item.
        self.write(|tx| {
            let mut prepared = 0;
            let mut all = tx.prepare("SELECT id, doc FROM articles")?;
            let mut put = tx.prepare(
                "UPDATE articles SET item = ?2, item_summary = ?3, item_body = ?4 WHERE id = ?1",
            )?;
            let mut rows = all.query([])?;
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                let item = prepare(&id, &row.get::<_, String>(1)?);
                let (json, summary, body) = item_columns(item.as_ref());
                put.execute(params![id, json, summary, body])?;
                prepared += 1;
            }
            tx.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('preparation', ?1)",
                [version],
            )?;
            Ok(prepared)
        })
    }
}
