//! Saved feeds in PostgreSQL: the validators and bytes (in every coding) of each feed as
//! last published, written in one transaction so they never disagree.

use std::collections::HashMap;

use bytes::Bytes;

use super::{Postgres, Transaction};
use crate::store::backend::SavedFeeds;
use crate::store::{FeedState, Held, SavedFeed, Stamp, StoreError, agree};

/// The `pg_advisory_xact_lock` key saves of feeds take turns on.
const SAVE_LOCK: i64 = 0x7072_6573_7366_6432; // "pressfd2"

impl SavedFeeds for Postgres {
    fn feed_states(&self) -> Result<Vec<(String, FeedState, bool)>, StoreError> {
        self.read(async |client| {
            Ok(client
                .query(
                    "SELECT name, hash, last_modified, ambiguous_until, identity IS NOT NULL
                     FROM feed_state",
                    &[],
                )
                .await?
                .iter()
                .map(|row| {
                    (
                        row.get(0),
                        FeedState {
                            hash: row.get(1),
                            last_modified: row.get(2),
                            ambiguous_until: row.get(3),
                        },
                        row.get(4),
                    )
                })
                .collect())
        })
    }

    fn saved_feeds(&self) -> Result<Vec<SavedFeed>, StoreError> {
        self.read(async |client| {
            Ok(client
                .query(
                    "SELECT name, hash, last_modified, ambiguous_until, content_type,
                            identity, gzip, brotli, built_from
                     FROM feed_state WHERE identity IS NOT NULL",
                    &[],
                )
                .await?
                .iter()
                .map(|row| SavedFeed {
                    name: row.get(0),
                    state: FeedState {
                        hash: row.get(1),
                        last_modified: row.get(2),
                        ambiguous_until: row.get(3),
                    },
                    content_type: row.get(4),
                    identity: Bytes::from(row.get::<_, Vec<u8>>(5)),
                    gzip: Bytes::from(row.get::<_, Vec<u8>>(6)),
                    brotli: Bytes::from(row.get::<_, Vec<u8>>(7)),
                    built_from: row.get(8),
                })
                .collect())
        })
    }

    fn save_feeds(
        &self,
        feeds: &mut [SavedFeed],
        stamp: &Stamp<'_>,
    ) -> Result<Vec<bool>, StoreError> {
        self.write(async |tx| {
            // One save at a time across every process: two replicas that built the same
            // new bytes must not both stamp them (rows not there yet cannot be locked).
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SAVE_LOCK])
                .await?;
            let names: Vec<&str> = feeds.iter().map(|f| f.name.as_str()).collect();
            let mut stored: HashMap<String, Held> = tx
                .query(
                    "SELECT name, hash, last_modified, ambiguous_until, identity IS NOT NULL,
                            built_from
                     FROM feed_state WHERE name = ANY($1)",
                    &[&names],
                )
                .await?
                .iter()
                .map(|row| {
                    let state = FeedState {
                        hash: row.get(1),
                        last_modified: row.get(2),
                        ambiguous_until: row.get(3),
                    };
                    let held = Held {
                        state,
                        has_bytes: row.get(4),
                        built_from: row.get(5),
                    };
                    (row.get(0), held)
                })
                .collect();
            let mut written = Vec::with_capacity(feeds.len());
            for feed in feeds.iter_mut() {
                written.push(agree(feed, stored.remove(&feed.name).as_ref(), stamp));
            }
            let changed = feeds
                .iter()
                .zip(&written)
                .filter(|(_, w)| **w)
                .map(|(f, _)| f);
            put_feeds(tx, changed).await?;
            Ok(written)
        })
    }
}

/// Writes the validators and bytes of `feeds`, replacing what was saved under their names.
pub(super) async fn put_feeds<'a>(
    tx: &Transaction<'_>,
    feeds: impl IntoIterator<Item = &'a SavedFeed>,
) -> Result<(), StoreError> {
    let put = tx
        .prepare(
            "INSERT INTO feed_state (name, hash, last_modified, ambiguous_until,
                content_type, identity, gzip, brotli, built_from)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (name) DO UPDATE SET hash = excluded.hash,
                last_modified = excluded.last_modified,
                ambiguous_until = excluded.ambiguous_until,
                content_type = excluded.content_type,
                identity = excluded.identity, gzip = excluded.gzip,
                brotli = excluded.brotli, built_from = excluded.built_from",
        )
        .await?;
    for feed in feeds {
        tx.execute(
            &put,
            &[
                &feed.name,
                &feed.state.hash,
                &feed.state.last_modified,
                &feed.state.ambiguous_until,
                &feed.content_type,
                &&feed.identity[..],
                &&feed.gzip[..],
                &&feed.brotli[..],
                &feed.built_from,
            ],
        )
        .await?;
    }
    Ok(())
}
