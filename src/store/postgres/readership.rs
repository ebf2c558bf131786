//! Who reads the feeds, in PostgreSQL: SQLite's rows (`sqlite/readership.rs`), written by
//! every replica's flush, one flush at a time, so that the bound on feed ids holds however
//! many replicas flush at once.

use super::Postgres;
use crate::store::StoreError;
use crate::store::backend::Readerships;
use crate::store::readership::{PollCount, Readership, ReadershipBounds, SubscriberReport};

/// The `pg_advisory_xact_lock` key flushes of readership take turns on.
const FLUSH_LOCK: i64 = 0x7072_6573_7366_6434; // "pressfd4"

impl Readerships for Postgres {
    fn record_readership(
        &self,
        polls: &[PollCount],
        reports: &[SubscriberReport],
        bounds: ReadershipBounds,
    ) -> Result<usize, StoreError> {
        let max_ids = i64::try_from(bounds.max_feed_ids).unwrap_or(i64::MAX);
        self.write(async |tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&FLUSH_LOCK])
                .await?;
            let add = tx
                .prepare_cached(
                    "INSERT INTO reader_polls (day, feed, client, polls, not_modified, bytes)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (day, feed, client) DO UPDATE SET
                         polls = reader_polls.polls + excluded.polls,
                         not_modified = reader_polls.not_modified + excluded.not_modified,
                         bytes = reader_polls.bytes + excluded.bytes",
                )
                .await?;
            for p in polls {
                tx.execute(
                    &add,
                    &[
                        &p.day,
                        &p.feed,
                        &p.client,
                        &p.polls,
                        &p.not_modified,
                        &p.bytes,
                    ],
                )
                .await?;
            }
            let keep = tx
                .prepare_cached(
                    "INSERT INTO reader_reports (day, feed, aggregator, feed_id, subscribers, seen)
                     SELECT $1::bigint, $2::text, $3::text, $4::text, $5::bigint, $6::bigint
                     WHERE EXISTS (SELECT 1 FROM reader_reports
                                   WHERE day = $1 AND feed = $2 AND aggregator = $3
                                     AND feed_id = $4)
                        OR (SELECT count(*) FROM reader_reports
                            WHERE day = $1 AND feed = $2 AND aggregator = $3) < $7
                     ON CONFLICT (day, feed, aggregator, feed_id) DO UPDATE SET
                         subscribers = excluded.subscribers, seen = excluded.seen
                     WHERE excluded.seen >= reader_reports.seen",
                )
                .await?;
            let mut kept = 0;
            for r in reports {
                kept += tx
                    .execute(
                        &keep,
                        &[
                            &r.day,
                            &r.feed,
                            &r.aggregator,
                            &r.feed_id,
                            &r.subscribers,
                            &r.seen,
                            &max_ids,
                        ],
                    )
                    .await?;
            }
            tx.execute(
                "DELETE FROM reader_polls WHERE day < $1",
                &[&bounds.forget_before],
            )
            .await?;
            tx.execute(
                "DELETE FROM reader_reports WHERE day < $1",
                &[&bounds.forget_before],
            )
            .await?;
            Ok(usize::try_from(kept).unwrap_or(usize::MAX))
        })
    }

    fn readership(&self, since: i64) -> Result<Readership, StoreError> {
        self.read(async |client| {
            let polls = client
                .query(
                    "SELECT day, feed, client, polls, not_modified, bytes FROM reader_polls
                     WHERE day >= $1 ORDER BY day, feed, client",
                    &[&since],
                )
                .await?
                .into_iter()
                .map(|row| PollCount {
                    day: row.get(0),
                    feed: row.get(1),
                    client: row.get(2),
                    polls: row.get(3),
                    not_modified: row.get(4),
                    bytes: row.get(5),
                })
                .collect();
            let reports = client
                .query(
                    "SELECT day, feed, aggregator, feed_id, subscribers, seen FROM reader_reports
                     WHERE day >= $1 ORDER BY day, feed, aggregator, feed_id",
                    &[&since],
                )
                .await?
                .into_iter()
                .map(|row| SubscriberReport {
                    day: row.get(0),
                    feed: row.get(1),
                    aggregator: row.get(2),
                    feed_id: row.get(3),
                    subscribers: row.get(4),
                    seen: row.get(5),
                })
                .collect();
            Ok(Readership { polls, reports })
        })
    }
}
