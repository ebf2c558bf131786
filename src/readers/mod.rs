//! Who reads the feeds: the client family of every poll of a feed and the subscriber
//! counts feed aggregators announce in their User-Agent (`agent`), counted in memory
//! bounded whatever clients send (`tally`), flushed to the store every `FLUSH_EVERY` and at
//! shutdown, so that every process sharing it sees the same merged readership, and read
//! back per section for the admin page (`summary`). What is counted, from which
//! User-Agents, and the bounds: docs/operations.md, "Who reads the feeds".

mod agent;
mod summary;
mod tally;

use std::sync::Arc;

use chrono::TimeDelta;

pub use summary::{SectionReaders, Summary, summarize};
pub use tally::Tally;
pub(crate) use tally::day_of;

use crate::clock::Clock;
use crate::store::Store;

/// How often a process writes its counts to the store: the admin page is this late at
/// most, and a crash loses at most this much.
pub const FLUSH_EVERY: TimeDelta = TimeDelta::seconds(60);

/// Flushes `tally` to `store` every `FLUSH_EVERY` of `clock`'s time, until aborted; a
/// failed flush is logged and its counts kept for the next.
pub(crate) fn flush_periodically(
    tally: &Arc<Tally>,
    store: &Store,
    clock: &Clock,
) -> tokio::task::JoinHandle<()> {
    let (tally, store, clock) = (tally.clone(), store.clone(), clock.clone());
    tokio::spawn(async move {
        loop {
            clock.sleep_until(clock.now() + FLUSH_EVERY).await;
            flush(&tally, &store, &clock).await;
        }
    })
}

/// Flushes `tally` to `store` now, on a blocking thread, as every store call runs.
pub(crate) async fn flush(tally: &Arc<Tally>, store: &Store, clock: &Clock) {
    let (tally, store, now) = (tally.clone(), store.clone(), clock.now());
    let flushed = tokio::task::spawn_blocking(move || tally.flush(&store, now)).await;
    if let Ok(Err(e)) = flushed {
        tracing::warn!(error = %e, "readership not flushed to the store; kept for the next flush");
    }
}
