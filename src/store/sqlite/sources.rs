//! Source state in SQLite: what each `[[sources]]` entry remembers between polls, across
//! restarts. Which articles a source owns is kept with the articles (`articles`).

use rusqlite::{OptionalExtension, params};

use super::Sqlite;
use crate::store::backend::SourceStates;
use crate::store::{SourceState, StoreError};

impl SourceStates for Sqlite {
    fn source_state(&self, name: &str) -> Result<Option<SourceState>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT high_water, fetched_url, etag, last_modified FROM source_state WHERE name = ?1",
                    [name],
                    |r| {
                        Ok(SourceState {
                            high_water: r.get(0)?,
                            fetched_url: r.get(1)?,
                            etag: r.get(2)?,
                            last_modified: r.get(3)?,
                        })
                    },
                )
                .optional()?)
        })
    }

    fn save_source_state(&self, name: &str, state: &SourceState) -> Result<(), StoreError> {
        self.write(|tx| put_source_state(tx, name, state))
    }

    fn source_labels(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT labels FROM source_labels WHERE name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .optional()?)
        })
    }

    fn save_source_labels(&self, name: &str, labels: &str) -> Result<(), StoreError> {
        self.write(|tx| put_source_labels(tx, name, labels))
    }
}

pub(super) fn put_source_state(
    tx: &rusqlite::Transaction<'_>,
    name: &str,
    state: &SourceState,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT OR REPLACE INTO source_state (name, high_water, fetched_url, etag, last_modified)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            name,
            state.high_water,
            state.fetched_url,
            state.etag,
            state.last_modified
        ],
    )?;
    Ok(())
}

pub(super) fn put_source_labels(
    tx: &rusqlite::Transaction<'_>,
    name: &str,
    labels: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT OR REPLACE INTO source_labels (name, labels) VALUES (?1, ?2)",
        params![name, labels],
    )?;
    Ok(())
}
