//! The change log in PostgreSQL, as SQLite's: a counter every article write bumps, the
//! sections each write touched, and the scheduled articles whose time comes. The counter's
//! row is also the writers' lock (`take_write_lock`).

use std::collections::BTreeSet;

use chrono::{DateTime, TimeZone, Utc};

use super::{Postgres, Transaction};
use crate::store::backend::ChangeLog;
use crate::store::{CHANGE_LOG_KEEP, ChangedSections, StoreError};

impl ChangeLog for Postgres {
    fn change_counter(&self) -> Result<i64, StoreError> {
        self.read(async |client| {
            Ok(client
                .query_one("SELECT counter FROM changes", &[])
                .await?
                .get(0))
        })
    }

    fn changes_since(&self, seen: i64) -> Result<ChangedSections, StoreError> {
        self.read(async |client| {
            // One snapshot for the counter and the log, so neither runs ahead of the other.
            let rows = client
                .query(
                    "SELECT counter, NULL, NULL FROM changes
                     UNION ALL
                     SELECT NULL, section, NULL FROM section_changes WHERE counter > $1
                     UNION ALL
                     SELECT DISTINCT NULL::bigint, NULL, key FROM key_changes WHERE counter > $1",
                    &[&seen],
                )
                .await?;
            let counter: i64 = rows
                .iter()
                .find_map(|row| row.get::<_, Option<i64>>(0))
                .unwrap_or_default();
            let logged = |column| {
                rows.iter()
                    .filter_map(|row| row.get::<_, Option<String>>(column))
                    .collect()
            };
            let (sections, keys) = if seen < counter - CHANGE_LOG_KEEP || seen > counter {
                (None, BTreeSet::new())
            } else {
                (Some(logged(1)), logged(2))
            };
            Ok(ChangedSections {
                counter,
                sections,
                keys,
            })
        })
    }

    fn next_embargo(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        let next: Option<i64> = self.read(async |client| {
            Ok(client
                .query_one(
                    "SELECT MIN(published_at) FROM article_sections WHERE published_at > $1",
                    &[&now.timestamp_millis()],
                )
                .await?
                .get(0))
        })?;
        Ok(next.and_then(|ms| Utc.timestamp_millis_opt(ms).single()))
    }

    fn sections_published_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<BTreeSet<String>, StoreError> {
        self.read(async |client| {
            Ok(client
                .query(
                    "SELECT DISTINCT section FROM article_sections
                     WHERE published_at > $1 AND published_at <= $2",
                    &[&after.timestamp_millis(), &until.timestamp_millis()],
                )
                .await?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })
    }
}

/// Waits until no other transaction is writing articles, and keeps others waiting until
/// this one ends: the first statement of every write of articles.
pub(super) async fn take_write_lock(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute("SELECT 1 FROM changes FOR UPDATE", &[]).await?;
    Ok(())
}

/// Counts a write and logs the sections and keys it touched, forgetting writes older than
/// the log keeps.
pub(super) async fn bump_changes(
    tx: &Transaction<'_>,
    touched: &BTreeSet<String>,
    keys: &BTreeSet<String>,
) -> Result<(), StoreError> {
    let counter: i64 = tx
        .query_one(
            "UPDATE changes SET counter = counter + 1 RETURNING counter",
            &[],
        )
        .await?
        .get(0);
    let sections: Vec<&str> = touched.iter().map(String::as_str).collect();
    tx.execute(
        "INSERT INTO section_changes (counter, section) SELECT $1, * FROM UNNEST($2::text[])",
        &[&counter, &sections],
    )
    .await?;
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    tx.execute(
        "INSERT INTO key_changes (counter, key) SELECT $1, * FROM UNNEST($2::text[])",
        &[&counter, &keys],
    )
    .await?;
    for log in ["section_changes", "key_changes"] {
        tx.execute(
            &format!("DELETE FROM {log} WHERE counter <= $1"),
            &[&(counter - CHANGE_LOG_KEEP)],
        )
        .await?;
    }
    Ok(())
}

/// The sections the articles `ids` are in feeds of now (none for drafts).
pub(super) async fn sections_of(
    tx: &Transaction<'_>,
    ids: &[&str],
) -> Result<BTreeSet<String>, StoreError> {
    Ok(tx
        .query(
            "SELECT DISTINCT section FROM article_sections WHERE article_id = ANY($1)",
            &[&ids],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect())
}
