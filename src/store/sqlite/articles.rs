//! Articles in SQLite: writes (pushed or pulled from a source), retractions, reads, the
//! one feed query, and swapping in items prepared again. The change log each write feeds
//! is `changes`'s.

use std::collections::BTreeSet;

use rusqlite::{OptionalExtension, params, params_from_iter};

use super::changes::{bump_changes, sections_of};
use super::{Sqlite, placeholders};
use crate::article::{Article, ArticleId, Status};
use crate::item::{FeedItem, PreparedArticle, StoredItem};
use crate::store::StoreError;
use crate::store::backend::Articles;

/// The columns of a stored item: its JSON and its HTML; all `NULL` for a draft.
fn item_columns(item: Option<&StoredItem>) -> (Option<&str>, Option<&str>, Option<&str>) {
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
            }
            // A push always counts as a write, as it always has; a poll only when it wrote.
            if source.is_none() || written > 0 {
                bump_changes(tx, &touched)?;
            }
            Ok(written)
        })
    }

    fn retract(&self, ids: &[ArticleId]) -> Result<usize, StoreError> {
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
        doc.map(|doc| decode(id.as_str(), &doc)).transpose()
    }

    fn article_count(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM articles", [], |r| r.get(0))?))
    }

    fn newest(&self, q: &crate::store::FeedQuery<'_>) -> Result<Vec<FeedItem>, StoreError> {
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
                let item = StoredItem::decode(&row.get::<_, String>(1)?, row.get(2)?, row.get(3)?)
                    .map_err(|e| StoreError::CorruptItem {
                        id: id.clone(),
                        message: e.to_string(),
                    })?;
                articles.push(item);
                if articles.len() == q.limit {
                    break;
                }
            }
            Ok(articles)
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
        let done: Option<i64> = self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT value FROM meta WHERE key = 'preparation'",
                    [],
                    |r| r.get(0),
                )
                .optional()?)
        })?;
        if done == Some(version) {
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

fn decode(id: &str, doc: &str) -> Result<Article, StoreError> {
    Article::from_json(doc)
        .map(|accepted| accepted.article)
        .map_err(|source| StoreError::Corrupt {
            id: id.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use crate::article::{Article, ArticleId};
    use crate::item::{self, PreparedArticle, StoredItem};
    use crate::store::fixtures::{article, ids, prepared, query, seeded, slugs};
    use crate::store::sqlite::FILE_NAME;
    use crate::store::{FeedQuery, Store};

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
            .upsert(&prepared([article(
                "f",
                &["business"],
                "2022-05-03T00:00:00Z",
                &[],
                "published",
            )]))
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
    fn items_are_prepared_again_when_preparation_changes() {
        let (dir, store) = seeded();
        drop(store);
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.execute_batch("UPDATE articles SET item = NULL; UPDATE meta SET value = 0;")
            .unwrap();
        drop(conn);
        let store = Store::open(dir.path()).unwrap();
        let world = slugs(&["world"]);
        assert!(
            store.newest(&query(&world, 10)).is_err(),
            "opening prepares nothing"
        );
        let before = store.change_counter().unwrap();
        let mut seen = Vec::new();
        let prepared_again = store
            .prepare_stale(item::PREPARATION, &mut |id, doc| {
                seen.push(id.to_owned());
                StoredItem::new(&Article::from_json(doc).unwrap().article)
            })
            .unwrap();
        assert_eq!(prepared_again, 6, "drafts too: {seen:?}");
        assert_eq!(
            ids(&store.newest(&query(&world, 10)).unwrap()),
            ["f", "b", "a"]
        );
        assert_eq!(store.change_counter().unwrap(), before, "not a change");
        let mut again = |_: &str, _: &str| -> Option<StoredItem> {
            panic!("nothing is stale once the version is recorded")
        };
        assert_eq!(
            store.prepare_stale(item::PREPARATION, &mut again).unwrap(),
            0
        );
        assert_eq!(
            store
                .prepare_stale(item::PREPARATION + 1, &mut |_, doc| {
                    StoredItem::new(&Article::from_json(doc).unwrap().article)
                })
                .unwrap(),
            6,
            "new rules make every item stale"
        );
    }

    #[test]
    fn a_source_writes_only_what_changed_and_owns_what_it_wrote() {
        let (_dir, store) = seeded();
        let pulled = |title: &str| {
            let mut a = article("p1", &["world"], "2022-05-04T00:00:00Z", &[], "published");
            a.title = title.to_owned();
            PreparedArticle::new(a)
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
        store.upsert(&[pulled("Three")]).unwrap();
        assert!(store.source_ids("wire").unwrap().is_empty());
        let ids = [
            ArticleId::parse("p1").unwrap(),
            ArticleId::parse("a").unwrap(),
        ];
        assert_eq!(store.retract_all(&ids).unwrap(), 2);
        assert_eq!(store.retract_all(&ids).unwrap(), 0);
    }
}
