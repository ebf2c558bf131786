//! Who reads the feeds, in SQLite: a row per day, feed and client of polls, and a row per
//! day, feed, aggregator and feed id of the latest subscriber count.

use super::Sqlite;
use crate::store::StoreError;
use crate::store::backend::Readerships;
use crate::store::readership::{PollCount, Readership, ReadershipBounds, SubscriberReport};

impl Readerships for Sqlite {
    fn record_readership(
        &self,
        polls: &[PollCount],
        reports: &[SubscriberReport],
        bounds: ReadershipBounds,
    ) -> Result<usize, StoreError> {
        let max_ids = i64::try_from(bounds.max_feed_ids).unwrap_or(i64::MAX);
        self.write(|tx| {
            let mut add = tx.prepare_cached(
                "INSERT INTO reader_polls (day, feed, client, polls, not_modified, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (day, feed, client) DO UPDATE SET
                     polls = polls + excluded.polls,
                     not_modified = not_modified + excluded.not_modified,
                     bytes = bytes + excluded.bytes",
            )?;
            for p in polls {
                add.execute(rusqlite::params![
                    p.day,
                    p.feed,
                    p.client,
                    p.polls,
                    p.not_modified,
                    p.bytes
                ])?;
            }
            let mut keep = tx.prepare_cached(
                "INSERT INTO reader_reports (day, feed, aggregator, feed_id, subscribers, seen)
                 SELECT ?1, ?2, ?3, ?4, ?5, ?6
                 WHERE EXISTS (SELECT 1 FROM reader_reports
                               WHERE day = ?1 AND feed = ?2 AND aggregator = ?3 AND feed_id = ?4)
                    OR (SELECT count(*) FROM reader_reports
                        WHERE day = ?1 AND feed = ?2 AND aggregator = ?3) < ?7
                 ON CONFLICT (day, feed, aggregator, feed_id) DO UPDATE SET
                     subscribers = excluded.subscribers, seen = excluded.seen
                 WHERE excluded.seen >= reader_reports.seen",
            )?;
            let mut kept = 0;
            for r in reports {
                kept += keep.execute(rusqlite::params![
                    r.day,
                    r.feed,
                    r.aggregator,
                    r.feed_id,
                    r.subscribers,
                    r.seen,
                    max_ids
                ])?;
            }
            tx.execute(
                "DELETE FROM reader_polls WHERE day < ?1",
                [bounds.forget_before],
            )?;
            tx.execute(
                "DELETE FROM reader_reports WHERE day < ?1",
                [bounds.forget_before],
            )?;
            Ok(kept)
        })
    }

    fn readership(&self, since: i64) -> Result<Readership, StoreError> {
        self.read(|conn| {
            let polls = conn
                .prepare_cached(
                    "SELECT day, feed, client, polls, not_modified, bytes FROM reader_polls
                     WHERE day >= ?1 ORDER BY day, feed, client",
                )?
                .query_map([since], |r| {
                    Ok(PollCount {
                        day: r.get(0)?,
                        feed: r.get(1)?,
                        client: r.get(2)?,
                        polls: r.get(3)?,
                        not_modified: r.get(4)?,
                        bytes: r.get(5)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            let reports = conn
                .prepare_cached(
                    "SELECT day, feed, aggregator, feed_id, subscribers, seen FROM reader_reports
                     WHERE day >= ?1 ORDER BY day, feed, aggregator, feed_id",
                )?
                .query_map([since], |r| {
                    Ok(SubscriberReport {
                        day: r.get(0)?,
                        feed: r.get(1)?,
                        aggregator: r.get(2)?,
                        feed_id: r.get(3)?,
                        subscribers: r.get(4)?,
                        seen: r.get(5)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(Readership { polls, reports })
        })
    }
}
