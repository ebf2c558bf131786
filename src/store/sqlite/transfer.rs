//! A whole SQLite store read out row by row, and written in as stored, for
//! `store::transfer`.

use rusqlite::{OptionalExtension, params};

use super::Sqlite;
use super::articles::{ADD_SECTION, ADD_TAG, PUT, item_columns};
use super::feeds::put_feeds;
use super::sources::{put_source_labels, put_source_state};
use crate::item::StoredItem;
use crate::store::backend::Transfer;
use crate::store::transfer::{ArticleRow, HOLDS, Holdings, SOURCES, SourceRecord};
use crate::store::{SourceState, StoreError};

impl Transfer for Sqlite {
    fn article_rows(&self, after: &str, limit: usize) -> Result<Vec<ArticleRow>, StoreError> {
        self.read(|conn| {
            let mut page = conn.prepare_cached(
                "SELECT id, status, published_at, doc, item, item_summary, item_body, source
                 FROM articles WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            let mut sections = conn.prepare_cached(
                "SELECT section FROM article_sections WHERE article_id = ?1 ORDER BY section",
            )?;
            let mut tags = conn.prepare_cached(
                "SELECT tag FROM article_tags WHERE article_id = ?1 ORDER BY tag",
            )?;
            let rows = page.query_map(params![after, limit as i64], |r| {
                let item: Option<String> = r.get(4)?;
                Ok(ArticleRow {
                    id: r.get(0)?,
                    status: r.get(1)?,
                    published_at: r.get(2)?,
                    doc: r.get(3)?,
                    item: item
                        .map(|json| {
                            Ok::<_, rusqlite::Error>(StoredItem {
                                json,
                                summary_html: r.get(5)?,
                                body_html: r.get(6)?,
                            })
                        })
                        .transpose()?,
                    source: r.get(7)?,
                    sections: Vec::new(),
                    tags: Vec::new(),
                })
            })?;
            let mut rows = rows.collect::<Result<Vec<_>, _>>()?;
            for row in &mut rows {
                row.sections = sections
                    .query_map([&row.id], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
                row.tags = tags
                    .query_map([&row.id], |r| r.get(0))?
                    .collect::<Result<_, _>>()?;
            }
            Ok(rows)
        })
    }

    fn preparation(&self) -> Result<Option<i64>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT value FROM meta WHERE key = 'preparation'",
                    [],
                    |r| r.get(0),
                )
                .optional()?)
        })
    }

    fn sources(&self) -> Result<Vec<SourceRecord>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(SOURCES)?;
            let rows = stmt.query_map([], |r| {
                let saved_state: bool = r.get(1)?;
                Ok(SourceRecord {
                    name: r.get(0)?,
                    state: saved_state
                        .then(|| {
                            Ok::<_, rusqlite::Error>(SourceState {
                                high_water: r.get(2)?,
                                fetched_url: r.get(3)?,
                                etag: r.get(4)?,
                                last_modified: r.get(5)?,
                            })
                        })
                        .transpose()?,
                    labels: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn restore(
        &self,
        holdings: &Holdings,
        next: &mut dyn FnMut() -> Result<Option<Vec<ArticleRow>>, StoreError>,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let (articles, sections, feeds) =
                tx.query_row(HOLDS, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            if (articles, sections, feeds) != (0, 0, 0) {
                return Err(StoreError::NotEmpty {
                    articles,
                    sections,
                    feeds,
                });
            }
            let mut put = tx.prepare_cached(PUT)?;
            let mut add_section = tx.prepare_cached(ADD_SECTION)?;
            let mut add_tag = tx.prepare_cached(ADD_TAG)?;
            while let Some(rows) = next()? {
                for row in &rows {
                    let (json, summary, body) = item_columns(row.item.as_ref());
                    put.execute(params![
                        row.id,
                        row.status,
                        row.published_at,
                        row.doc,
                        json,
                        summary,
                        body,
                        row.source
                    ])?;
                    if let Some(published) = row.published_at {
                        for section in &row.sections {
                            add_section.execute(params![section, published, row.id])?;
                        }
                    }
                    for tag in &row.tags {
                        add_tag.execute(params![row.id, tag])?;
                    }
                }
            }
            super::keys::fill(tx)?;
            tx.execute(
                "UPDATE changes SET counter = MAX(counter, ?1)",
                [holdings.change_counter],
            )?;
            if let Some(version) = holdings.preparation {
                tx.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('preparation', ?1)",
                    [version],
                )?;
            }
            let mut put_section = tx.prepare(
                "INSERT INTO sections (slug, text, hash, synced, changed) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for section in &holdings.sections {
                put_section.execute(params![
                    section.slug.as_str(),
                    section.text,
                    section.hash,
                    section.synced,
                    section.changed
                ])?;
            }
            tx.execute(
                "UPDATE sections_version SET version = MAX(version, ?1)",
                [holdings.sections_version],
            )?;
            put_feeds(tx, &holdings.feeds)?;
            for source in &holdings.sources {
                if let Some(state) = &source.state {
                    put_source_state(tx, &source.name, state)?;
                }
                if let Some(labels) = &source.labels {
                    put_source_labels(tx, &source.name, labels)?;
                }
            }
            Ok(())
        })
    }
}
