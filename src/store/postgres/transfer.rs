//! A whole PostgreSQL store read out page by page, and written in as stored, for
//! `store::transfer`: each batch of articles in a few statements over arrays, as `articles`
//! writes them, and the whole copy in one transaction.

use std::collections::HashMap;

use super::Postgres;
use super::articles::{Rows, write_rows};
use super::changes::take_write_lock;
use super::feeds::put_feeds;
use super::sources::{put_source_labels, put_source_state};
use crate::item::StoredItem;
use crate::store::backend::Transfer;
use crate::store::transfer::{ArticleRow, HOLDS, Holdings, SOURCES, SourceRecord};
use crate::store::{SourceState, StoreError};

impl Transfer for Postgres {
    fn article_rows(&self, after: &str, limit: usize) -> Result<Vec<ArticleRow>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(async |client| {
            // The database's collation orders the pages; any order does, the same each time.
            let page = client
                .query(
                    "SELECT id, status, published_at, doc, item, item_summary, item_body, source
                     FROM articles WHERE id > $1 ORDER BY id LIMIT $2",
                    &[&after, &limit],
                )
                .await?;
            let mut rows: Vec<ArticleRow> = page
                .iter()
                .map(|r| ArticleRow {
                    id: r.get(0),
                    status: r.get(1),
                    published_at: r.get(2),
                    doc: r.get(3),
                    item: r.get::<_, Option<String>>(4).map(|json| StoredItem {
                        json,
                        summary_html: r.get(5),
                        body_html: r.get(6),
                    }),
                    source: r.get(7),
                    sections: Vec::new(),
                    tags: Vec::new(),
                })
                .collect();
            let ids: Vec<&str> = page.iter().map(|r| r.get(0)).collect();
            let at: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
            for (id, section) in client
                .query(
                    "SELECT article_id, section FROM article_sections
                     WHERE article_id = ANY($1) ORDER BY section",
                    &[&ids],
                )
                .await?
                .iter()
                .map(|r| (r.get::<_, &str>(0), r.get(1)))
            {
                rows[at[id]].sections.push(section);
            }
            for (id, tag) in client
                .query(
                    "SELECT article_id, tag FROM article_tags WHERE article_id = ANY($1) ORDER BY tag",
                    &[&ids],
                )
                .await?
                .iter()
                .map(|r| (r.get::<_, &str>(0), r.get(1)))
            {
                rows[at[id]].tags.push(tag);
            }
            Ok(rows)
        })
    }

    fn preparation(&self) -> Result<Option<i64>, StoreError> {
        self.read(async |client| {
            Ok(client
                .query_opt("SELECT value FROM meta WHERE key = 'preparation'", &[])
                .await?
                .map(|row| row.get(0)))
        })
    }

    fn sources(&self) -> Result<Vec<SourceRecord>, StoreError> {
        self.read(async |client| {
            Ok(client
                .query(SOURCES, &[])
                .await?
                .iter()
                .map(|r| SourceRecord {
                    name: r.get(0),
                    state: r.get::<_, bool>(1).then(|| SourceState {
                        high_water: r.get(2),
                        fetched_url: r.get(3),
                        etag: r.get(4),
                        last_modified: r.get(5),
                    }),
                    labels: r.get(6),
                })
                .collect())
        })
    }

    fn restore(
        &self,
        holdings: &Holdings,
        next: &mut dyn FnMut() -> Result<Option<Vec<ArticleRow>>, StoreError>,
    ) -> Result<(), StoreError> {
        self.write(async |tx| {
            // The writers' locks of articles and of sections, so that nothing lands between
            // the check and the copy.
            take_write_lock(tx).await?;
            tx.execute("SELECT 1 FROM sections_version FOR UPDATE", &[])
                .await?;
            let holds = tx.query_one(HOLDS, &[]).await?;
            let (articles, sections, feeds) = (holds.get(0), holds.get(1), holds.get(2));
            if (articles, sections, feeds) != (0, 0, 0) {
                return Err(StoreError::NotEmpty {
                    articles,
                    sections,
                    feeds,
                });
            }
            while let Some(batch) = next()? {
                let mut rows = Rows::default();
                for row in &batch {
                    rows.push_row(row);
                }
                write_rows(tx, &rows).await?;
            }
            super::keys::fill(tx).await?;
            tx.execute(
                "UPDATE changes SET counter = GREATEST(counter, $1)",
                &[&holdings.change_counter],
            )
            .await?;
            if let Some(version) = holdings.preparation {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('preparation', $1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[&version],
                )
                .await?;
            }
            let put_section = tx
                .prepare(
                    "INSERT INTO sections (slug, text, hash, synced, changed)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .await?;
            for section in &holdings.sections {
                tx.execute(
                    &put_section,
                    &[
                        &section.slug.as_str(),
                        &section.text,
                        &section.hash,
                        &section.synced,
                        &section.changed,
                    ],
                )
                .await?;
            }
            tx.execute(
                "UPDATE sections_version SET version = GREATEST(version, $1)",
                &[&holdings.sections_version],
            )
            .await?;
            put_feeds(tx, &holdings.feeds).await?;
            for source in &holdings.sources {
                if let Some(state) = &source.state {
                    put_source_state(tx, &source.name, state).await?;
                }
                if let Some(labels) = &source.labels {
                    put_source_labels(tx, &source.name, labels).await?;
                }
            }
            Ok(())
        })
    }
}
