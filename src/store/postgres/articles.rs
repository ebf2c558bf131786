//! Articles in PostgreSQL: the same writes, reads and feed query as SQLite's, each batch
//! written with a few statements over arrays (`UNNEST`) rather than a round trip per
//! article, which is what a server across a network costs.

use std::collections::{BTreeSet, HashMap, HashSet};

use tokio_postgres::types::ToSql;

use super::changes::{bump_changes, sections_of, take_write_lock};
use super::keys::remove_keys;
use super::{Postgres, Transaction};
use crate::article::{Article, ArticleId, Status};
use crate::dimension;
use crate::item::{FeedItem, PreparedArticle, StoredItem};
use crate::store::backend::{Articles, Transfer};
use crate::store::transfer::ArticleRow;
use crate::store::{FeedQuery, StoreError, decode_article, newest_items};

/// The columns of `articles` for a batch, one array per column.
#[derive(Default)]
pub(super) struct Rows<'a> {
    id: Vec<&'a str>,
    status: Vec<&'a str>,
    published_at: Vec<Option<i64>>,
    doc: Vec<&'a str>,
    item: Vec<Option<&'a str>>,
    item_summary: Vec<Option<&'a str>>,
    item_body: Vec<Option<&'a str>>,
    source: Vec<Option<&'a str>>,
    // `article_sections` and `article_tags`.
    section: (Vec<&'a str>, Vec<i64>, Vec<&'a str>),
    tag: (Vec<&'a str>, Vec<String>),
    /// `article_keys`: key, published_at, article_id, name.
    key: (Vec<String>, Vec<i64>, Vec<&'a str>, Vec<String>),
}

impl<'a> Rows<'a> {
    fn push(
        &mut self,
        prepared: &'a PreparedArticle,
        source: Option<&'a str>,
        touched: &mut BTreeSet<String>,
    ) {
        let article = prepared.article();
        let id = article.id.as_str();
        let published = article.published_at.map(|t| t.timestamp_millis());
        self.id.push(id);
        self.status.push(match article.status {
            Status::Published => "published",
            Status::Draft => "draft",
        });
        self.published_at.push(published);
        self.doc.push(prepared.doc());
        let item = prepared.item();
        self.item.push(item.map(|i| i.json.as_str()));
        self.item_summary
            .push(item.and_then(|i| i.summary_html.as_deref()));
        self.item_body
            .push(item.and_then(|i| i.body_html.as_deref()));
        self.source.push(source);
        if let (Status::Published, Some(published)) = (article.status, published) {
            for section in &article.sections {
                self.section.0.push(section.as_str());
                self.section.1.push(published);
                self.section.2.push(id);
                touched.insert(section.as_str().to_owned());
            }
        }
        for tag in &article.tags {
            self.tag.0.push(id);
            self.tag.1.push(tag.to_lowercase());
        }
        if let Some(published) = published {
            self.push_keys(article, published);
        }
    }

    /// Adds the keys of `article`, published at `published` (unix milliseconds).
    pub(super) fn push_keys(&mut self, article: &'a Article, published: i64) {
        for (key, name) in dimension::keys_of(article) {
            self.key.0.push(key);
            self.key.1.push(published);
            self.key.2.push(article.id.as_str());
            self.key.3.push(name);
        }
    }

    /// Writes the keys added (`push_keys`).
    pub(super) async fn write_keys(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let (key, published_at, article_id, name) = &self.key;
        tx.execute(
            "INSERT INTO article_keys (key, published_at, article_id, name)
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[])
             ON CONFLICT DO NOTHING",
            &[key, published_at, article_id, name],
        )
        .await?;
        Ok(())
    }

    /// Adds a row as another store kept it, its sections and tags as they were.
    pub(super) fn push_row(&mut self, row: &'a ArticleRow) {
        self.id.push(&row.id);
        self.status.push(&row.status);
        self.published_at.push(row.published_at);
        self.doc.push(&row.doc);
        let item = row.item.as_ref();
        self.item.push(item.map(|i| i.json.as_str()));
        self.item_summary
            .push(item.and_then(|i| i.summary_html.as_deref()));
        self.item_body
            .push(item.and_then(|i| i.body_html.as_deref()));
        self.source.push(row.source.as_deref());
        if let Some(published) = row.published_at {
            for section in &row.sections {
                self.section.0.push(section);
                self.section.1.push(published);
                self.section.2.push(&row.id);
            }
        }
        for tag in &row.tags {
            self.tag.0.push(&row.id);
            self.tag.1.push(tag.clone());
        }
    }
}

impl Articles for Postgres {
    fn upsert(
        &self,
        articles: &[PreparedArticle],
        source: Option<&str>,
    ) -> Result<usize, StoreError> {
        // The last of several writes of one id wins, as one after the other would.
        let mut last = HashMap::with_capacity(articles.len());
        for (at, prepared) in articles.iter().enumerate() {
            last.insert(prepared.article().id.as_str(), at);
        }
        let batch: Vec<&PreparedArticle> = articles
            .iter()
            .enumerate()
            .filter(|(at, p)| last[p.article().id.as_str()] == *at)
            .map(|(_, p)| p)
            .collect();
        self.write(async |tx| {
            take_write_lock(tx).await?;
            let mut batch = batch;
            if let Some(source) = source {
                let ids: Vec<&str> = batch.iter().map(|p| p.article().id.as_str()).collect();
                let same: HashSet<String> = tx
                    .query(
                        "SELECT id, doc FROM articles WHERE id = ANY($1) AND source = $2",
                        &[&ids, &source],
                    )
                    .await?
                    .iter()
                    .filter_map(|row| {
                        let (id, doc): (String, &str) = (row.get(0), row.get(1));
                        batch
                            .iter()
                            .any(|p| p.article().id.as_str() == id && p.doc() == doc)
                            .then_some(id)
                    })
                    .collect();
                batch.retain(|p| !same.contains(p.article().id.as_str()));
            }
            let written = batch.len();
            let ids: Vec<&str> = batch.iter().map(|p| p.article().id.as_str()).collect();
            let mut touched = sections_of(tx, &ids).await?;
            let mut rows = Rows::default();
            for prepared in &batch {
                rows.push(prepared, source, &mut touched);
            }
            let mut keys = BTreeSet::new();
            if written > 0 {
                keys = write_rows(tx, &rows).await?;
                keys.extend(rows.key.0.iter().cloned());
            }
            // A push always counts as a write, as it always has; a poll only when it wrote.
            if source.is_none() || written > 0 {
                bump_changes(tx, &touched, &keys).await?;
            }
            Ok(written)
        })
    }

    fn retract(&self, ids: &[ArticleId]) -> Result<usize, StoreError> {
        let ids: Vec<&str> = ids.iter().map(ArticleId::as_str).collect();
        self.write(async |tx| {
            take_write_lock(tx).await?;
            let touched = sections_of(tx, &ids).await?;
            let keys = remove_keys(tx, &ids).await?;
            let removed = tx
                .execute("DELETE FROM articles WHERE id = ANY($1)", &[&ids])
                .await?;
            tx.execute(
                "DELETE FROM article_sections WHERE article_id = ANY($1)",
                &[&ids],
            )
            .await?;
            tx.execute(
                "DELETE FROM article_tags WHERE article_id = ANY($1)",
                &[&ids],
            )
            .await?;
            if removed > 0 {
                bump_changes(tx, &touched, &keys).await?;
            }
            Ok(removed as usize)
        })
    }

    fn get(&self, id: &ArticleId) -> Result<Option<Article>, StoreError> {
        let doc: Option<String> = self.read(async |client| {
            Ok(client
                .query_opt("SELECT doc FROM articles WHERE id = $1", &[&id.as_str()])
                .await?
                .map(|row| row.get(0)))
        })?;
        doc.map(|doc| decode_article(id.as_str(), &doc)).transpose()
    }

    fn article_count(&self) -> Result<i64, StoreError> {
        self.read(async |client| {
            Ok(client
                .query_one("SELECT COUNT(*) FROM articles", &[])
                .await?
                .get(0))
        })
    }

    fn newest(&self, q: &FeedQuery<'_>) -> Result<Vec<FeedItem>, StoreError> {
        let sections: Vec<&str> = q.sections.iter().map(|s| s.as_str()).collect();
        let tags: Vec<String> = q.tags.iter().map(|t| t.to_lowercase()).collect();
        let excluded: Vec<String> = q.exclude_tags.iter().map(|t| t.to_lowercase()).collect();
        let (from, until) = q.span.millis();
        let limit = q.limit.min(i64::MAX as usize) as i64;
        // Each section's first `limit` rows in the span from the primary key, then merged:
        // with `section = ANY($1)` the planner cannot take the key's order and walked the
        // time index instead, dropping every other section's row on the way. An article in
        // several of the sections comes once per section; `newest_items` keeps it once.
        let mut filters = String::new();
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![&sections, &from, &until, &limit];
        if !tags.is_empty() {
            params.push(&tags);
            filters += &format!(
                " AND EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = s.article_id AND t.tag = ANY(${}))",
                params.len()
            );
        }
        if !excluded.is_empty() {
            params.push(&excluded);
            filters += &format!(
                " AND NOT EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = s.article_id AND t.tag = ANY(${}))",
                params.len()
            );
        }
        let order = q.span.order();
        let sql = format!(
            "SELECT n.article_id, n.item, n.item_summary, n.item_body
             FROM unnest($1::text[]) AS wanted(section),
             LATERAL (SELECT s.article_id, s.published_at, a.item, a.item_summary, a.item_body
                      FROM article_sections s JOIN articles a ON a.id = s.article_id
                      WHERE s.section = wanted.section AND s.published_at BETWEEN $2 AND $3
                        AND a.item IS NOT NULL{filters}
                      ORDER BY s.published_at {order}, s.article_id {order} LIMIT $4) n
             ORDER BY n.published_at {order}, n.article_id {order}"
        );
        self.read(async |client| {
            let rows = client.query(&sql, &params).await?;
            let rows = rows
                .iter()
                .map(|row| Ok((row.get(0), row.get(1), row.get(2), row.get(3))));
            newest_items(rows, q.limit)
        })
    }

    fn source_ids(&self, source: &str) -> Result<BTreeSet<String>, StoreError> {
        self.read(async |client| {
            Ok(client
                .query("SELECT id FROM articles WHERE source = $1", &[&source])
                .await?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })
    }

    fn prepare_stale(
        &self,
        version: i64,
        prepare: &mut dyn FnMut(&str, &str) -> Option<StoredItem>,
    ) -> Result<usize, StoreError> {
        if self.preparation()? == Some(version) {
            return Ok(0);
        }
        // As SQLite's: one transaction, holding the writers' lock, so no article is written
        // between its read and its new item, and a crash leaves the old items.
        self.write(async |tx| {
            take_write_lock(tx).await?;
            let done: Option<i64> = tx
                .query_opt("SELECT value FROM meta WHERE key = 'preparation'", &[])
                .await?
                .map(|row| row.get(0));
            if done == Some(version) {
                // Another process prepared them meanwhile.
                return Ok(0);
            }
            let all = tx.query("SELECT id, doc FROM articles", &[]).await?;
            let put = tx
                .prepare(
                    "UPDATE articles SET item = $2, item_summary = $3, item_body = $4 WHERE id = $1",
                )
                .await?;
            for row in &all {
                let id: &str = row.get(0);
                let item = prepare(id, row.get(1));
                let item = item.as_ref();
                tx.execute(
                    &put,
                    &[
                        &id,
                        &item.map(|i| i.json.as_str()),
                        &item.and_then(|i| i.summary_html.as_deref()),
                        &item.and_then(|i| i.body_html.as_deref()),
                    ],
                )
                .await?;
            }
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('preparation', $1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&version],
            )
            .await?;
            Ok(all.len())
        })
    }
}

/// Writes a batch's articles (replacing by id), their sections and their tags.
/// Writes `rows`, replacing the articles of their ids with their sections, tags and keys;
/// returns the keys those articles had.
pub(super) async fn write_rows(
    tx: &Transaction<'_>,
    rows: &Rows<'_>,
) -> Result<BTreeSet<String>, StoreError> {
    tx.execute(
        "INSERT INTO articles (id, status, published_at, doc, item, item_summary, item_body, source)
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[],
                              $5::text[], $6::text[], $7::text[], $8::text[])
         ON CONFLICT (id) DO UPDATE SET status = excluded.status,
           published_at = excluded.published_at, doc = excluded.doc, item = excluded.item,
           item_summary = excluded.item_summary, item_body = excluded.item_body,
           source = excluded.source",
        &[
            &rows.id,
            &rows.status,
            &rows.published_at,
            &rows.doc,
            &rows.item,
            &rows.item_summary,
            &rows.item_body,
            &rows.source,
        ],
    )
    .await?;
    tx.execute(
        "DELETE FROM article_sections WHERE article_id = ANY($1)",
        &[&rows.id],
    )
    .await?;
    tx.execute(
        "DELETE FROM article_tags WHERE article_id = ANY($1)",
        &[&rows.id],
    )
    .await?;
    let (section, published_at, article_id) = &rows.section;
    tx.execute(
        "INSERT INTO article_sections (section, published_at, article_id)
         SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[]) ON CONFLICT DO NOTHING",
        &[section, published_at, article_id],
    )
    .await?;
    let (article_id, tag) = &rows.tag;
    tx.execute(
        "INSERT INTO article_tags (article_id, tag)
         SELECT * FROM UNNEST($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
        &[article_id, tag],
    )
    .await?;
    let had = remove_keys(tx, &rows.id).await?;
    rows.write_keys(tx).await?;
    Ok(had)
}
