//! Leases in SQLite: a row per lease with its holder and when it runs out, in SQLite's own
//! clock (the machine's, which every process sharing the file shares).

use std::time::Duration;

use rusqlite::OptionalExtension;

use super::Sqlite;
use crate::store::StoreError;
use crate::store::backend::Leases;

/// SQLite's clock in unix milliseconds.
const NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

impl Leases for Sqlite {
    fn take_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        let ttl = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        self.write(|tx| {
            let taken: Option<String> = tx
                .query_row(
                    &format!(
                        "INSERT INTO leases (name, holder, until) VALUES (?1, ?2, {NOW_MS} + ?3)
                         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                             until = excluded.until
                         WHERE leases.holder = excluded.holder OR leases.until <= {NOW_MS}
                         RETURNING holder"
                    ),
                    rusqlite::params![name, holder, ttl],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(taken.is_some())
        })
    }

    fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
                [name, holder],
            )?;
            Ok(())
        })
    }
}
