//! Sections in PostgreSQL, as SQLite's: one row per section with its file's text, and the
//! one-row `sections_version` every write bumps. A write locks that row first, so writes of
//! sections from several processes take turns and each checks its expectations against
//! what the one before it left.

use std::collections::HashMap;

use tokio_postgres::Row;

use super::Postgres;
use crate::slug::Slug;
use crate::store::backend::Sections;
use crate::store::{SectionWrite, StoreError, StoredSection};

const COLUMNS: &str = "slug, text, hash, synced, changed";

/// The row's section, unless its slug does not parse (written by hand, or by a pressfeed
/// with other rules).
fn checked(row: &Row) -> Result<StoredSection, StoreError> {
    let slug: String = row.get(0);
    Ok(StoredSection {
        slug: Slug::parse(&slug).map_err(|_| StoreError::CorruptSlug(slug.clone()))?,
        text: row.get(1),
        hash: row.get(2),
        synced: row.get(3),
        changed: row.get(4),
    })
}

impl Sections for Postgres {
    fn sections_version(&self) -> Result<i64, StoreError> {
        self.read(async |client| {
            Ok(client
                .query_one("SELECT version FROM sections_version", &[])
                .await?
                .get(0))
        })
    }

    fn sections(&self) -> Result<Vec<StoredSection>, StoreError> {
        self.read(async |client| {
            let sql = format!("SELECT {COLUMNS} FROM sections ORDER BY slug");
            client.query(&sql, &[]).await?.iter().map(checked).collect()
        })
    }

    fn section(&self, slug: &Slug) -> Result<Option<StoredSection>, StoreError> {
        self.read(async |client| {
            let sql = format!("SELECT {COLUMNS} FROM sections WHERE slug = $1");
            client
                .query_opt(&sql, &[&slug.as_str()])
                .await?
                .as_ref()
                .map(checked)
                .transpose()
        })
    }

    fn write_sections(
        &self,
        writes: &[SectionWrite],
        if_version: Option<i64>,
        now: i64,
    ) -> Result<i64, StoreError> {
        self.write(async |tx| {
            let version: i64 = tx
                .query_one("SELECT version FROM sections_version FOR UPDATE", &[])
                .await?
                .get(0);
            if if_version.is_some_and(|v| v != version) {
                return Err(StoreError::SectionsChanged(Vec::new()));
            }
            let slugs: Vec<&str> = writes.iter().map(|w| w.slug.as_str()).collect();
            let stored: HashMap<String, String> = tx
                .query(
                    "SELECT slug, hash FROM sections WHERE slug = ANY($1)",
                    &[&slugs],
                )
                .await?
                .iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            let missed: Vec<String> = writes
                .iter()
                .filter(|w| !w.expects(stored.get(w.slug.as_str()).map(String::as_str)))
                .map(|w| w.slug.to_string())
                .collect();
            if !missed.is_empty() {
                return Err(StoreError::SectionsChanged(missed));
            }
            for write in writes {
                let slug = write.slug.as_str();
                match &write.text {
                    // An admin edit keeps the synced hash of the row it replaces.
                    Some((text, hash)) => {
                        tx.execute(
                            "INSERT INTO sections (slug, text, hash, synced, changed)
                             VALUES ($1, $2, $3, CASE WHEN $4 THEN $3 END, $5)
                             ON CONFLICT (slug) DO UPDATE SET
                                 text = excluded.text, hash = excluded.hash,
                                 changed = excluded.changed,
                                 synced = CASE WHEN $4 THEN excluded.hash
                                               ELSE sections.synced END",
                            &[&slug, text, hash, &write.synced, &now],
                        )
                        .await?
                    }
                    None => {
                        tx.execute("DELETE FROM sections WHERE slug = $1", &[&slug])
                            .await?
                    }
                };
            }
            tx.execute("UPDATE sections_version SET version = version + 1", &[])
                .await?;
            Ok(version + 1)
        })
    }
}
