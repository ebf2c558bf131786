//! Source state in PostgreSQL: what each `[[sources]]` entry remembers between polls.

use super::{Postgres, Transaction};
use crate::store::backend::SourceStates;
use crate::store::{SourceState, StoreError};

impl SourceStates for Postgres {
    fn source_state(&self, name: &str) -> Result<Option<SourceState>, StoreError> {
        self.read(async |client| {
            Ok(client
                .query_opt(
                    "SELECT high_water, fetched_url, etag, last_modified
                     FROM source_state WHERE name = $1",
                    &[&name],
                )
                .await?
                .map(|row| SourceState {
                    high_water: row.get(0),
                    fetched_url: row.get(1),
                    etag: row.get(2),
                    last_modified: row.get(3),
                }))
        })
    }

    fn save_source_state(&self, name: &str, state: &SourceState) -> Result<(), StoreError> {
        self.write(async |tx| put_source_state(tx, name, state).await)
    }

    fn source_labels(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.read(async |client| {
            Ok(client
                .query_opt("SELECT labels FROM source_labels WHERE name = $1", &[&name])
                .await?
                .map(|row| row.get(0)))
        })
    }

    fn save_source_labels(&self, name: &str, labels: &str) -> Result<(), StoreError> {
        self.write(async |tx| put_source_labels(tx, name, labels).await)
    }
}

pub(super) async fn put_source_state(
    tx: &Transaction<'_>,
    name: &str,
    state: &SourceState,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO source_state (name, high_water, fetched_url, etag, last_modified)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET high_water = excluded.high_water,
            fetched_url = excluded.fetched_url, etag = excluded.etag,
            last_modified = excluded.last_modified",
        &[
            &name,
            &state.high_water,
            &state.fetched_url,
            &state.etag,
            &state.last_modified,
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn put_source_labels(
    tx: &Transaction<'_>,
    name: &str,
    labels: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO source_labels (name, labels) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET labels = excluded.labels",
        &[&name, &labels],
    )
    .await?;
    Ok(())
}
