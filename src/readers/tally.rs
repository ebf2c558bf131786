//! One process's counts of who polls its feeds since it last flushed them to the store, in
//! memory bounded whatever the clients send: polls, 304s and bytes per feed and client
//! family (atomics, made once per feed), and the aggregators' latest subscriber counts per
//! feed and feed id (a short list per feed, emptied by every flush). Also what `/metrics`
//! shows of them (`Collector`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::agent::{Agent, Client, FeedId, Report};
use super::summary::{self, Current};
use crate::store::{PollCount, ReadershipBounds, Store, StoreError, SubscriberReport};

/// Feeds counted at most. Only the catalog's feeds are counted, whose names the
/// configuration gives, so this is a net against a bug rather than a client.
const MAX_FEEDS: usize = 10_000;
/// Reports (of one feed, aggregator and feed id) kept between two flushes, over every
/// feed. A report past it is dropped and counted.
pub(crate) const MAX_REPORTS: usize = 10_000;
/// Feed ids kept per feed and aggregator, in memory between two flushes and in the store
/// per day: a subscription over `http://` and one over `https://`, and a few more. A report
/// with another id is dropped and counted.
pub(crate) const MAX_FEED_IDS: usize = 8;
/// Days of history the store keeps.
pub(crate) const KEEP_DAYS: i64 = 90;

/// The counts of every feed, shared by the worker threads that serve feeds and the task
/// that flushes them.
#[derive(Default)]
pub struct Tally {
    // Copy-on-write: a request looks its feed up with a few atomic operations and no lock;
    // a feed is added once (the first poll after it is published), by copying the map.
    feeds: ArcSwap<HashMap<Box<str>, Arc<FeedTally>>>,
    /// Held to add a feed, so that two first polls do not drop each other's copy.
    adding: Mutex<()>,
    /// Held by a flush: the periodic one and the one at shutdown take turns.
    flushing: Mutex<()>,
    /// Reports kept now, over every feed (`MAX_REPORTS`).
    reports: AtomicUsize,
    /// Reports not kept: dropped at `MAX_REPORTS` or `MAX_FEED_IDS`, in memory or in the
    /// store, or older than one the store has.
    dropped: AtomicU64,
    /// The subscribers of each feed by aggregator, as the store had them after the last
    /// flush: every process's reports, merged.
    subscribers: ArcSwap<Vec<Current>>,
}

#[derive(Default)]
struct FeedTally {
    counts: [Counts; Client::ALL.len()],
    /// The reports since the last flush; a repeat replaces.
    reports: Mutex<Vec<Pending>>,
}

/// One client family's polls of one feed: totals since start (the counters of `/metrics`)
/// and how much of them the store has.
#[derive(Default)]
struct Counts {
    polls: AtomicU64,
    not_modified: AtomicU64,
    bytes: AtomicU64,
    /// Written by flushes only, which take turns.
    flushed: [AtomicU64; 3],
}

impl Counts {
    fn totals(&self) -> [u64; 3] {
        [
            self.polls.load(Relaxed),
            self.not_modified.load(Relaxed),
            self.bytes.load(Relaxed),
        ]
    }

    fn flushed(&self) -> [u64; 3] {
        self.flushed.each_ref().map(|f| f.load(Relaxed))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    client: Client,
    feed_id: FeedId,
    subscribers: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its data whole (a push, a replace, a take).
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The UTC day of `at`, in days since 1970-01-01.
pub(crate) fn day_of(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(86_400)
}

impl Tally {
    /// Counts a poll of the catalog's feed `feed` answered 200 (`not_modified` false) or
    /// 304, `bytes` of body sent, by the client `user_agent` names; keeps the subscribers
    /// it reports. No allocation but a feed's first poll's.
    pub fn record(&self, feed: &str, user_agent: Option<&[u8]>, not_modified: bool, bytes: u64) {
        let agent = Agent::parse(user_agent);
        // The feed's tally borrowed from the map as loaded, not cloned: no shared reference
        // count moves on the request path.
        let feeds = self.feeds.load();
        if let Some(tally) = feeds.get(feed) {
            self.count(tally, agent, not_modified, bytes);
        } else if let Some(tally) = self.add_feed(feed) {
            self.count(&tally, agent, not_modified, bytes);
        }
    }

    fn count(&self, tally: &FeedTally, agent: Agent, not_modified: bool, bytes: u64) {
        let counts = &tally.counts[agent.client.slot()];
        counts.polls.fetch_add(1, Relaxed);
        if not_modified {
            counts.not_modified.fetch_add(1, Relaxed);
        }
        counts.bytes.fetch_add(bytes, Relaxed);
        if let Some(report) = agent.report {
            self.keep(tally, agent.client, report, true);
        }
    }

    /// The tally of a feed polled for the first time, added to the map (`None` once the
    /// map holds `MAX_FEEDS`).
    fn add_feed(&self, name: &str) -> Option<Arc<FeedTally>> {
        let _adding = lock(&self.adding);
        let feeds = self.feeds.load();
        if let Some(tally) = feeds.get(name) {
            return Some(tally.clone());
        }
        if feeds.len() >= MAX_FEEDS {
            return None;
        }
        let tally = Arc::new(FeedTally::default());
        let mut more = HashMap::clone(&feeds);
        more.insert(name.into(), tally.clone());
        self.feeds.store(Arc::new(more));
        Some(tally)
    }

    /// Keeps `report` of `client` for the feed of `tally`: in place of the one of its
    /// feed id (unless `replace` is false: a report put back after a failed flush does not
    /// replace a newer one), or beside the others within the bounds.
    fn keep(&self, tally: &FeedTally, client: Client, report: Report, replace: bool) {
        let mut pending = lock(&tally.reports);
        let same = |p: &&mut Pending| p.client == client && p.feed_id == report.feed_id;
        if let Some(kept) = pending.iter_mut().find(same) {
            if replace {
                kept.subscribers = report.subscribers;
            }
            return;
        }
        let ids = pending.iter().filter(|p| p.client == client).count();
        let room = ids < MAX_FEED_IDS
            && (self.reports)
                .fetch_update(Relaxed, Relaxed, |n| (n < MAX_REPORTS).then_some(n + 1))
                .is_ok();
        if !room {
            self.dropped.fetch_add(1, Relaxed);
            return;
        }
        pending.push(Pending {
            client,
            feed_id: report.feed_id,
            subscribers: report.subscribers,
        });
    }

    /// Writes what was counted since the last flush to `store` as of `now` (its UTC day),
    /// forgetting days past `KEEP_DAYS`, then reads back every process's subscribers for
    /// `/metrics`. What did not land is kept for the next flush.
    pub fn flush(&self, store: &Store, now: DateTime<Utc>) -> Result<(), StoreError> {
        let _one = lock(&self.flushing);
        let day = day_of(now);
        let feeds = self.feeds.load_full();
        let mut polls = Vec::new();
        let mut marks = Vec::new();
        let mut taken = Vec::new();
        let mut reports = Vec::new();
        for (name, tally) in feeds.iter() {
            for client in Client::ALL {
                let counts = &tally.counts[client.slot()];
                let (totals, flushed) = (counts.totals(), counts.flushed());
                if totals == flushed {
                    continue;
                }
                let delta = |i: usize| i64::try_from(totals[i] - flushed[i]).unwrap_or(i64::MAX);
                polls.push(PollCount {
                    day,
                    feed: name.to_string(),
                    client: client.name().to_owned(),
                    polls: delta(0),
                    not_modified: delta(1),
                    bytes: delta(2),
                });
                marks.push((counts, totals));
            }
            let pending = std::mem::take(&mut *lock(&tally.reports));
            self.reports.fetch_sub(pending.len(), Relaxed);
            for p in &pending {
                reports.push(SubscriberReport {
                    day,
                    feed: name.to_string(),
                    aggregator: p.client.name().to_owned(),
                    feed_id: p.feed_id.as_str().to_owned(),
                    subscribers: i64::try_from(p.subscribers).unwrap_or(i64::MAX),
                    seen: now.timestamp(),
                });
            }
            taken.push((tally, pending));
        }
        let bounds = ReadershipBounds {
            max_feed_ids: MAX_FEED_IDS,
            forget_before: day - KEEP_DAYS + 1,
        };
        let kept = match store.record_readership(&polls, &reports, bounds) {
            Ok(kept) => kept,
            Err(e) => {
                for (tally, pending) in taken {
                    for p in pending {
                        let report = Report {
                            subscribers: p.subscribers,
                            feed_id: p.feed_id,
                        };
                        self.keep(tally, p.client, report, false);
                    }
                }
                return Err(e);
            }
        };
        (self.dropped).fetch_add(reports.len().saturating_sub(kept) as u64, Relaxed);
        for (counts, totals) in marks {
            for (flushed, total) in counts.flushed.iter().zip(totals) {
                flushed.store(total, Relaxed);
            }
        }
        let current = summary::current(&store.readership(day - 1)?, day);
        self.subscribers.store(Arc::new(current));
        Ok(())
    }

    /// Reports dropped at the bounds so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }

    /// Reports kept in memory now.
    pub fn pending(&self) -> usize {
        self.reports.load(Relaxed)
    }
}

impl std::fmt::Debug for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tally")
            .field("feeds", &self.feeds.load().len())
            .field("reports", &self.pending())
            .field("dropped", &self.dropped())
            .finish()
    }
}

/// How a counter of `/metrics` reads one client family's counts.
type Reading = fn(&Counts) -> u64;

/// `/metrics`, made at each scrape from the tally: nothing on the request path touches a
/// label. Labels are the catalog's feed names and the fixed client families only.
impl Collector for Tally {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let feeds = self.feeds.load();
        let mut names: Vec<&str> = feeds.keys().map(|name| &**name).collect();
        names.sort_unstable();
        let counters: [(&str, &str, Reading); 3] = [
            (
                "feed_polls",
                "Polls of each feed answered 200 or 304, by client family",
                |c| c.polls.load(Relaxed),
            ),
            (
                "feed_not_modified",
                "Polls of each feed answered 304, by client family",
                |c| c.not_modified.load(Relaxed),
            ),
            (
                "feed_bytes",
                "Feed body bytes sent, by feed and client family",
                |c| c.bytes.load(Relaxed),
            ),
        ];
        for (name, help, value) in counters {
            let sample = ConstCounter::new(0u64);
            let mut metric = encoder.encode_descriptor(name, help, None, sample.metric_type())?;
            for feed in &names {
                for client in Client::ALL {
                    let n = value(&feeds[*feed].counts[client.slot()]);
                    if n > 0 {
                        let labels = [("feed", *feed), ("client", client.name())];
                        ConstCounter::new(n).encode(metric.encode_family(&labels)?)?;
                    }
                }
            }
        }
        let gauge = ConstGauge::new(0i64);
        let mut metric = encoder.encode_descriptor(
            "feed_subscribers",
            "Subscribers each aggregator last announced for each feed, summed over its feed \
             ids, as every process sharing the store saw them (the same on every replica: \
             aggregate with max, not sum)",
            None,
            gauge.metric_type(),
        )?;
        for current in self.subscribers.load().iter() {
            let labels = [
                ("feed", current.feed.as_str()),
                ("aggregator", current.aggregator.name()),
            ];
            let n = i64::try_from(current.subscribers).unwrap_or(i64::MAX);
            ConstGauge::new(n).encode(metric.encode_family(&labels)?)?;
        }
        let dropped = ConstCounter::new(self.dropped());
        let metric = encoder.encode_descriptor(
            "reader_reports_dropped",
            "Subscriber reports not kept: past the bound on reports between flushes or on \
             feed ids per feed, aggregator and day, or older than one another process stored",
            None,
            dropped.metric_type(),
        )?;
        dropped.encode(metric)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn feedly(n: u64, id: &str) -> String {
        format!("Feedly/1.0 (+http://www.feedly.com/fetcher.html; {n} subscribers; feed-id={id})")
    }

    #[test]
    fn polls_are_counted_by_feed_and_client() {
        let tally = Tally::default();
        tally.record("world.rss", Some(feedly(3, "a").as_bytes()), false, 100);
        tally.record("world.rss", Some(feedly(4, "a").as_bytes()), true, 0);
        tally.record("world.rss", Some(b"curl/8.5.0"), false, 100);
        tally.record("world.atom", None, false, 7);
        let feeds = tally.feeds.load();
        let counts = |feed: &str, client: Client| feeds[feed].counts[client.slot()].totals();
        assert_eq!(counts("world.rss", Client::Feedly), [2, 1, 100]);
        assert_eq!(counts("world.rss", Client::Library), [1, 0, 100]);
        assert_eq!(counts("world.atom", Client::Unknown), [1, 0, 7]);
        let pending = lock(&feeds["world.rss"].reports).clone();
        assert_eq!(pending.len(), 1, "a repeat poll replaces");
        assert_eq!(pending[0].subscribers, 4);
    }

    /// Thousands of invented feed ids, on thousands of feeds: memory stays within the
    /// bounds, and what was dropped is counted.
    #[test]
    fn invented_feed_ids_are_bounded() {
        let tally = Tally::default();
        for i in 0..5_000 {
            tally.record(
                "world.rss",
                Some(feedly(i, &i.to_string()).as_bytes()),
                false,
                1,
            );
        }
        assert_eq!(tally.pending(), MAX_FEED_IDS);
        assert_eq!(tally.dropped(), 5_000 - MAX_FEED_IDS as u64);
        for feed in 0..2_000 {
            for id in 0..10 {
                let ua = feedly(1, &format!("{feed}x{id}"));
                tally.record(&format!("f{feed}.rss"), Some(ua.as_bytes()), false, 1);
            }
        }
        assert_eq!(tally.pending(), MAX_REPORTS);
        let kept: usize = (tally.feeds.load().values())
            .map(|t| lock(&t.reports).len())
            .sum();
        assert_eq!(kept, MAX_REPORTS);
        // A very long User-Agent costs what a short one does.
        let long = format!("{}{}", feedly(9, "z"), "x".repeat(1 << 20));
        tally.record("world.rss", Some(long.as_bytes()), false, 1);
        assert_eq!(tally.pending(), MAX_REPORTS);
    }

    #[test]
    fn a_flush_writes_the_difference_and_empties_the_reports() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let tally = Tally::default();
        let now = at("2026-03-01T12:00:00Z");
        tally.record("world.rss", Some(feedly(10, "http").as_bytes()), false, 100);
        tally.record("world.rss", Some(feedly(5, "https").as_bytes()), true, 0);
        tally.flush(&store, now).unwrap();
        assert_eq!(tally.pending(), 0);
        tally.record("world.rss", Some(feedly(12, "http").as_bytes()), true, 0);
        tally
            .flush(&store, now + chrono::TimeDelta::seconds(60))
            .unwrap();
        let stored = store.readership(0).unwrap();
        assert_eq!(stored.polls.len(), 1);
        let polls = &stored.polls[0];
        assert_eq!((polls.polls, polls.not_modified, polls.bytes), (3, 2, 100));
        let subscribers: Vec<_> = (stored.reports.iter())
            .map(|r| (r.feed_id.as_str(), r.subscribers))
            .collect();
        assert_eq!(subscribers, [("http", 12), ("https", 5)]);
        let metrics = {
            let mut registry = prometheus_client::registry::Registry::with_prefix("pressfeed");
            registry.register_collector(Box::new(Arc::new(tally)));
            let mut text = String::new();
            prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
            text
        };
        assert!(
            metrics
                .contains(r#"pressfeed_feed_subscribers{feed="world.rss",aggregator="feedly"} 17"#),
            "{metrics}"
        );
        assert!(
            metrics.contains(r#"pressfeed_feed_polls_total{feed="world.rss",client="feedly"} 3"#),
            "{metrics}"
        );
    }
}
