//! The change log in SQLite: a counter every article write bumps, the sections each write
//! touched (so a reader rebuilds only those), and the scheduled articles whose time comes.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::params;

use super::Sqlite;
use crate::store::backend::ChangeLog;
use crate::store::{CHANGE_LOG_KEEP, ChangedSections, StoreError};

impl ChangeLog for Sqlite {
    fn change_counter(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT counter FROM changes", [], |r| r.get(0))?))
    }

    fn changes_since(&self, seen: i64) -> Result<ChangedSections, StoreError> {
        self.read(|conn| {
            let counter: i64 = conn.query_row("SELECT counter FROM changes", [], |r| r.get(0))?;
            let logged = |sql: &str| -> Result<BTreeSet<String>, StoreError> {
                let mut stmt = conn.prepare_cached(sql)?;
                let rows = stmt.query_map([seen], |r| r.get(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            };
            let (sections, keys) = if counter == seen {
                (Some(BTreeSet::new()), BTreeSet::new())
            } else if seen < counter - CHANGE_LOG_KEEP || seen > counter {
                (None, BTreeSet::new())
            } else {
                (
                    Some(logged(
                        "SELECT DISTINCT section FROM section_changes WHERE counter > ?1",
                    )?),
                    logged("SELECT DISTINCT key FROM key_changes WHERE counter > ?1")?,
                )
            };
            Ok(ChangedSections {
                counter,
                sections,
                keys,
            })
        })
    }

    fn next_embargo(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<i64> = self.read(|conn| {
            Ok(conn.query_row(
                "SELECT MIN(published_at) FROM article_sections WHERE published_at > ?1",
                [now.timestamp_millis()],
                |r| r.get(0),
            )?)
        })?;
        Ok(next.and_then(|ms| Utc.timestamp_millis_opt(ms).single()))
    }

    fn sections_published_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT DISTINCT section FROM article_sections WHERE published_at > ?1 AND published_at <= ?2",
            )?;
            let rows = stmt
                .query_map([after.timestamp_millis(), until.timestamp_millis()], |r| {
                    r.get(0)
                })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}

/// Counts a write and logs the sections and keys it touched, forgetting writes older than
/// the log keeps.
pub(super) fn bump_changes(
    tx: &rusqlite::Transaction<'_>,
    touched: &BTreeSet<String>,
    keys: &BTreeSet<String>,
) -> Result<(), rusqlite::Error> {
    let counter: i64 = tx.query_row(
        "UPDATE changes SET counter = counter + 1 RETURNING counter",
        [],
        |r| r.get(0),
    )?;
    let mut log =
        tx.prepare_cached("INSERT INTO section_changes (counter, section) VALUES (?1, ?2)")?;
    for section in touched {
        log.execute(params![counter, section])?;
    }
    let mut log_key =
        tx.prepare_cached("INSERT INTO key_changes (counter, key) VALUES (?1, ?2)")?;
    for key in keys {
        log_key.execute(params![counter, key])?;
    }
    for log in ["section_changes", "key_changes"] {
        tx.execute(
            &format!("DELETE FROM {log} WHERE counter <= ?1"),
            [counter - CHANGE_LOG_KEEP],
        )?;
    }
    Ok(())
}

/// The sections an article is in feeds of now (none for a draft).
pub(super) fn sections_of(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
) -> Result<Vec<String>, rusqlite::Error> {
    let mut stmt =
        tx.prepare_cached("SELECT section FROM article_sections WHERE article_id = ?1")?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    rows.collect()
}
