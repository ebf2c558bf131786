//! Sections in SQLite: one row per section with its file's text, and the one-row
//! `sections_version` that every write bumps in its own transaction.

use rusqlite::{OptionalExtension, params};

use super::Sqlite;
use crate::slug::Slug;
use crate::store::backend::Sections;
use crate::store::{SectionWrite, StoreError, StoredSection};

const COLUMNS: &str = "slug, text, hash, synced, changed";

/// A row as SQLite holds it; its slug is checked by `checked`, as a row function cannot
/// return our error.
type Row = (String, String, String, Option<String>, i64);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

/// The row's section, unless its slug does not parse (written by hand, or by a pressfeed
/// with other rules).
fn checked((slug, text, hash, synced, changed): Row) -> Result<StoredSection, StoreError> {
    Ok(StoredSection {
        slug: Slug::parse(&slug).map_err(|_| StoreError::CorruptSlug(slug.clone()))?,
        text,
        hash,
        synced,
        changed,
    })
}

impl Sections for Sqlite {
    fn sections_version(&self) -> Result<i64, StoreError> {
        self.read(|conn| {
            Ok(conn.query_row("SELECT version FROM sections_version", [], |r| r.get(0))?)
        })
    }

    fn sections(&self) -> Result<Vec<StoredSection>, StoreError> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {COLUMNS} FROM sections ORDER BY slug"))?;
            let rows = stmt.query_map([], row)?;
            rows.map(|row| checked(row?)).collect()
        })
    }

    fn section(&self, slug: &Slug) -> Result<Option<StoredSection>, StoreError> {
        self.read(|conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM sections WHERE slug = ?1"),
                [slug.as_str()],
                row,
            )
            .optional()?
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
        self.write(|tx| {
            let version: i64 =
                tx.query_row("SELECT version FROM sections_version", [], |r| r.get(0))?;
            if if_version.is_some_and(|v| v != version) {
                return Err(StoreError::SectionsChanged(Vec::new()));
            }
            let mut stored = tx.prepare_cached("SELECT hash FROM sections WHERE slug = ?1")?;
            let mut missed = Vec::new();
            for write in writes.iter().filter(|w| w.expect.is_some()) {
                let hash: Option<String> = stored
                    .query_row([write.slug.as_str()], |r| r.get(0))
                    .optional()?;
                if !write.expects(hash.as_deref()) {
                    missed.push(write.slug.to_string());
                }
            }
            if !missed.is_empty() {
                return Err(StoreError::SectionsChanged(missed));
            }
            for write in writes {
                match &write.text {
                    // An admin edit keeps the synced hash of the row it replaces.
                    Some((text, hash)) => tx.execute(
                        "INSERT INTO sections (slug, text, hash, synced, changed)
                         VALUES (?1, ?2, ?3, CASE WHEN ?4 THEN ?3 END, ?5)
                         ON CONFLICT (slug) DO UPDATE SET
                             text = excluded.text, hash = excluded.hash, changed = excluded.changed,
                             synced = CASE WHEN ?4 THEN excluded.hash ELSE sections.synced END",
                        params![write.slug.as_str(), text, hash, write.synced, now],
                    )?,
                    None => tx.execute(
                        "DELETE FROM sections WHERE slug = ?1",
                        [write.slug.as_str()],
                    )?,
                };
            }
            tx.execute("UPDATE sections_version SET version = version + 1", [])?;
            Ok(version + 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_with_an_invalid_slug_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Sqlite::open(dir.path()).unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO sections VALUES ('Not OK', 't', 'h', NULL, 0)",
                [],
            )
            .unwrap();
        assert!(matches!(
            store.sections(),
            Err(StoreError::CorruptSlug(slug)) if slug == "Not OK"
        ));
    }
}
