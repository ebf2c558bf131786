//! Saved feeds in SQLite: the validators and bytes (in every coding) of each feed as last
//! published, written in one transaction so they never disagree.

use bytes::Bytes;
use rusqlite::{OptionalExtension, params};

use super::Sqlite;
use crate::store::backend::SavedFeeds;
use crate::store::{FeedState, Held, SavedFeed, Stamp, StoreError, agree};

impl SavedFeeds for Sqlite {
    fn feed_states(&self) -> Result<Vec<(String, FeedState, bool)>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT name, hash, last_modified, ambiguous_until, identity IS NOT NULL
                 FROM feed_state",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    FeedState {
                        hash: r.get(1)?,
                        last_modified: r.get(2)?,
                        ambiguous_until: r.get(3)?,
                    },
                    r.get(4)?,
                ))
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn saved_feeds(&self) -> Result<Vec<SavedFeed>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT name, hash, last_modified, ambiguous_until, content_type,
                        identity, gzip, brotli, built_from
                 FROM feed_state WHERE identity IS NOT NULL",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(SavedFeed {
                    name: r.get(0)?,
                    state: FeedState {
                        hash: r.get(1)?,
                        last_modified: r.get(2)?,
                        ambiguous_until: r.get(3)?,
                    },
                    content_type: r.get(4)?,
                    identity: Bytes::from(r.get::<_, Vec<u8>>(5)?),
                    gzip: Bytes::from(r.get::<_, Vec<u8>>(6)?),
                    brotli: Bytes::from(r.get::<_, Vec<u8>>(7)?),
                    built_from: r.get(8)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn save_feeds(
        &self,
        feeds: &mut [SavedFeed],
        stamp: &Stamp<'_>,
    ) -> Result<Vec<bool>, StoreError> {
        // IMMEDIATE: one writer at a time, so the stored states read here stay those until
        // the commit.
        self.write(|tx| {
            let mut stored = tx.prepare_cached(
                "SELECT hash, last_modified, ambiguous_until, identity IS NOT NULL, built_from
                 FROM feed_state WHERE name = ?1",
            )?;
            let mut written = Vec::with_capacity(feeds.len());
            for feed in feeds.iter_mut() {
                let held: Option<Held> = stored
                    .query_row([&feed.name], |r| {
                        Ok(Held {
                            state: FeedState {
                                hash: r.get(0)?,
                                last_modified: r.get(1)?,
                                ambiguous_until: r.get(2)?,
                            },
                            has_bytes: r.get(3)?,
                            built_from: r.get(4)?,
                        })
                    })
                    .optional()?;
                written.push(agree(feed, held.as_ref(), stamp));
            }
            put_feeds(
                tx,
                feeds
                    .iter()
                    .zip(&written)
                    .filter(|(_, w)| **w)
                    .map(|(f, _)| f),
            )?;
            Ok(written)
        })
    }
}

/// Writes the validators and bytes of `feeds`, replacing what was saved under their names.
pub(super) fn put_feeds<'a>(
    tx: &rusqlite::Transaction<'_>,
    feeds: impl IntoIterator<Item = &'a SavedFeed>,
) -> Result<(), StoreError> {
    let mut put = tx.prepare_cached(
        "INSERT OR REPLACE INTO feed_state (name, hash, last_modified, ambiguous_until,
            content_type, identity, gzip, brotli, built_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for feed in feeds {
        put.execute(params![
            feed.name,
            feed.state.hash,
            feed.state.last_modified,
            feed.state.ambiguous_until,
            feed.content_type,
            &feed.identity[..],
            &feed.gzip[..],
            &feed.brotli[..],
            feed.built_from,
        ])?;
    }
    Ok(())
}
