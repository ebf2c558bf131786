//! What the store keeps of who reads the feeds, by UTC day (days since 1970-01-01): the
//! polls of each feed by client family, added up over every process that flushes them,
//! and each aggregator's latest subscriber count per feed and per its own feed id. The
//! counting and its bounds are the caller's; the store adds, replaces and forgets.

/// One day's polls of one feed by one client family, as one process counted them since
/// its last flush (`Store::record_readership` adds them to what is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollCount {
    /// The UTC day, in days since 1970-01-01.
    pub day: i64,
    /// The feed's file name, e.g. `world.rss`.
    pub feed: String,
    /// The client family's name.
    pub client: String,
    /// Requests answered 200 or 304.
    pub polls: i64,
    /// Of them, answered 304.
    pub not_modified: i64,
    /// Body bytes sent.
    pub bytes: i64,
}

/// An aggregator's announcement for one feed on one day: the latest count it gave for the
/// feed id it polls by (empty when it names none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberReport {
    /// The UTC day, in days since 1970-01-01.
    pub day: i64,
    /// The feed's file name.
    pub feed: String,
    /// The aggregator's client family name, e.g. `feedly`.
    pub aggregator: String,
    /// The aggregator's own id of the feed; empty when it names none.
    pub feed_id: String,
    /// The count it announced.
    pub subscribers: i64,
    /// When it was reported, in Unix seconds: of two reports for one key, the later wins,
    /// whichever process flushes last.
    pub seen: i64,
}

/// Everything kept from a day on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readership {
    /// By day, feed and client.
    pub polls: Vec<PollCount>,
    /// By day, feed, aggregator and feed id.
    pub reports: Vec<SubscriberReport>,
}

/// How a flush is bounded in the store, whatever the clients claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadershipBounds {
    /// A report for a feed id not yet kept for its day, feed and aggregator is dropped
    /// once that many are.
    pub max_feed_ids: usize,
    /// Days before this one are forgotten.
    pub forget_before: i64,
}
