//! The change log in SQLite: a counter every article write bumps, the sections each write
//! touched (so a reader rebuilds only those), and the scheduled articles whose time comes.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::params;

use super::Sqlite;
use crate::store::backend::ChangeLog;
use crate::store::{ChangedSections, StoreError};

/// Writes whose touched sections are remembered; a reader further behind rebuilds all.
const CHANGE_LOG_KEEP: i64 = 10_000;

impl ChangeLog for Sqlite {
    fn change_counter(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.query_row("SELECT counter FROM changes", [], |r| r.get(0))?))
    }

    fn changes_since(&self, seen: i64) -> Result<ChangedSections, StoreError> {
        self.read(|conn| {
            let counter: i64 = conn.query_row("SELECT counter FROM changes", [], |r| r.get(0))?;
            let sections = if counter == seen {
                Some(BTreeSet::new())
            } else if seen < counter - CHANGE_LOG_KEEP || seen > counter {
                None
            } else {
                let mut stmt = conn.prepare_cached(
                    "SELECT DISTINCT section FROM section_changes WHERE counter > ?1",
                )?;
                let rows = stmt.query_map([seen], |r| r.get(0))?;
                Some(rows.collect::<Result<_, _>>()?)
            };
            Ok(ChangedSections { counter, sections })
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

/// Counts a write and logs the sections it touched, forgetting writes older than the log keeps.
pub(super) fn bump_changes(
    tx: &rusqlite::Transaction<'_>,
    touched: &BTreeSet<String>,
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
    tx.execute(
        "DELETE FROM section_changes WHERE counter <= ?1",
        [counter - CHANGE_LOG_KEEP],
    )?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::ArticleId;
    use crate::store::fixtures::{article, now, prepared, seeded};

    #[test]
    fn the_change_log_names_the_sections_before_and_after() {
        let (_dir, store) = seeded();
        let seen = store.change_counter().unwrap();
        assert_eq!(
            store.changes_since(seen).unwrap().sections,
            Some(BTreeSet::new())
        );
        store
            .upsert(&prepared([article(
                "a",
                &["business"],
                "2022-05-01T00:00:00Z",
                &[],
                "published",
            )]))
            .unwrap();
        let changes = store.changes_since(seen).unwrap();
        assert_eq!(changes.counter, seen + 1);
        let expected: BTreeSet<String> = ["business".into(), "world".into()].into();
        assert_eq!(changes.sections, Some(expected));
        store.retract(&ArticleId::parse("c").unwrap()).unwrap();
        let changes = store.changes_since(seen + 1).unwrap();
        assert_eq!(changes.sections, Some(["top-news".to_owned()].into()));
        assert_eq!(
            store
                .changes_since(seen - CHANGE_LOG_KEEP - 1)
                .unwrap()
                .sections,
            None
        );
    }

    #[test]
    fn the_next_embargo_is_the_earliest_future_article() {
        let (_dir, store) = seeded();
        let next = store.next_embargo(now()).unwrap().unwrap();
        assert_eq!(
            next,
            "2099-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
