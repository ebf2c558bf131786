//! What the store's readership rows say, per section: subscribers now and by aggregator,
//! polls by client family, and a day-by-day history for the chart. Reads rows every
//! process flushed; the names in them are checked against the fixed client families, so a
//! row a newer pressfeed wrote with another family is left out rather than shown.

use std::collections::{BTreeMap, HashMap};

use chrono::DateTime;
use serde::Serialize;

use super::agent::Client;
use crate::store::Readership;

/// The subscribers one aggregator announced for one feed, summed over its feed ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub feed: String,
    pub aggregator: Client,
    pub subscribers: u64,
}

/// Each feed's subscribers by aggregator now: for each feed, aggregator and feed id, the
/// latest count of today or yesterday (an aggregator that polls daily may not have polled
/// yet today), summed over the feed ids.
pub fn current(stored: &Readership, today: i64) -> Vec<Current> {
    let mut latest: HashMap<(&str, Client, &str), (i64, i64, u64)> = HashMap::new();
    for r in &stored.reports {
        let Some(aggregator) = Client::named(&r.aggregator) else {
            continue;
        };
        if r.day < today - 1 || r.day > today {
            continue;
        }
        let seen = (r.day, r.seen, u64::try_from(r.subscribers).unwrap_or(0));
        let key = (r.feed.as_str(), aggregator, r.feed_id.as_str());
        let kept = latest.entry(key).or_insert(seen);
        if (seen.0, seen.1) > (kept.0, kept.1) {
            *kept = seen;
        }
    }
    let mut sums: BTreeMap<(&str, Client), u64> = BTreeMap::new();
    for ((feed, aggregator, _), (_, _, n)) in latest {
        *sums.entry((feed, aggregator)).or_default() += n;
    }
    sums.into_iter()
        .map(|((feed, aggregator), subscribers)| Current {
            feed: feed.to_owned(),
            aggregator,
            subscribers,
        })
        .collect()
}

/// The readership of every section.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The last day shown, `YYYY-MM-DD` (UTC).
    pub today: String,
    /// Days in each section's `daily`.
    pub days: usize,
    pub sections: Vec<SectionReaders>,
}

/// One section's readership, over all its feeds (RSS, Atom, JSON Feed).
#[derive(Debug, Serialize)]
pub struct SectionReaders {
    pub section: String,
    /// Subscribers now, all aggregators together.
    pub subscribers: u64,
    /// Subscribers now, by aggregator; only those that announced any.
    pub aggregators: BTreeMap<&'static str, u64>,
    /// Polls over the days shown, by client family; only families that polled.
    pub clients: BTreeMap<&'static str, Polls>,
    /// One entry per day shown, oldest first.
    pub daily: Vec<Day>,
}

/// Polls, the 304s among them, and bytes sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Polls {
    pub polls: u64,
    pub not_modified: u64,
    pub bytes: u64,
}

impl Polls {
    fn add(&mut self, polls: i64, not_modified: i64, bytes: i64) {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        self.polls = self.polls.saturating_add(n(polls));
        self.not_modified = self.not_modified.saturating_add(n(not_modified));
        self.bytes = self.bytes.saturating_add(n(bytes));
    }
}

/// One day of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// The sum over aggregators and feed ids of the latest count each gave that day.
    pub subscribers: u64,
    #[serde(flatten)]
    pub polls: Polls,
}

/// The date of UTC day `day` (days since 1970-01-01).
pub fn date(day: i64) -> String {
    DateTime::from_timestamp(day.saturating_mul(86_400), 0)
        .map(|at| at.date_naive().to_string())
        .unwrap_or_default()
}

/// `sections` (slugs, in the order shown) over the `days` days up to `today`, from
/// `stored` (read from `today - days + 1` on); `section_of` names the section of a feed
/// file, and rows of feeds of no listed section are left out.
pub fn summarize(
    stored: &Readership,
    today: i64,
    days: usize,
    sections: &[&str],
    section_of: impl Fn(&str) -> Option<&str>,
) -> Summary {
    let first = today - days as i64 + 1;
    let index: HashMap<&str, usize> = sections.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let slot = |feed: &str| section_of(feed).and_then(|s| index.get(s).copied());
    let mut out: Vec<SectionReaders> = sections
        .iter()
        .map(|section| SectionReaders {
            section: (*section).to_owned(),
            subscribers: 0,
            aggregators: BTreeMap::new(),
            clients: BTreeMap::new(),
            daily: (first..=today)
                .map(|day| Day {
                    date: date(day),
                    subscribers: 0,
                    polls: Polls::default(),
                })
                .collect(),
        })
        .collect();
    let day_slot = |day: i64| usize::try_from(day - first).ok().filter(|&d| d < days);
    for p in &stored.polls {
        let (Some(s), Some(d), Some(client)) =
            (slot(&p.feed), day_slot(p.day), Client::named(&p.client))
        else {
            continue;
        };
        out[s].daily[d].polls.add(p.polls, p.not_modified, p.bytes);
        (out[s].clients.entry(client.name()).or_default()).add(p.polls, p.not_modified, p.bytes);
    }
    for r in &stored.reports {
        let (Some(s), Some(d)) = (slot(&r.feed), day_slot(r.day)) else {
            continue;
        };
        if Client::named(&r.aggregator).is_some_and(Client::announces_subscribers) {
            let day = &mut out[s].daily[d];
            day.subscribers = day
                .subscribers
                .saturating_add(u64::try_from(r.subscribers).unwrap_or(0));
        }
    }
    for now in current(stored, today) {
        let Some(s) = slot(&now.feed) else {
            continue;
        };
        let section = &mut out[s];
        section.subscribers = section.subscribers.saturating_add(now.subscribers);
        *section
            .aggregators
            .entry(now.aggregator.name())
            .or_default() += now.subscribers;
    }
    Summary {
        today: date(today),
        days,
        sections: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{PollCount, SubscriberReport};

    fn report(
        day: i64,
        feed: &str,
        aggregator: &str,
        id: &str,
        n: i64,
        seen: i64,
    ) -> SubscriberReport {
        SubscriberReport {
            day,
            feed: feed.into(),
            aggregator: aggregator.into(),
            feed_id: id.into(),
            subscribers: n,
            seen,
        }
    }

    fn polls(day: i64, feed: &str, client: &str, n: i64) -> PollCount {
        PollCount {
            day,
            feed: feed.into(),
            client: client.into(),
            polls: n,
            not_modified: n / 2,
            bytes: n * 100,
        }
    }

    #[test]
    fn subscribers_are_the_latest_per_feed_id_summed() {
        let stored = Readership {
            polls: vec![
                polls(99, "world.rss", "feedly", 4),
                polls(100, "world.rss", "feedly", 2),
                polls(100, "world.atom", "browser", 1),
                polls(100, "gone.rss", "feedly", 9),
                polls(100, "world.rss", "someday", 9),
            ],
            reports: vec![
                // Two subscriptions of Feedly's (http and https), one seen again today.
                report(99, "world.rss", "feedly", "http", 10, 1),
                report(99, "world.rss", "feedly", "https", 5, 1),
                report(100, "world.rss", "feedly", "http", 12, 2),
                report(100, "world.atom", "inoreader", "", 3, 2),
                // Too old for now; and a family this pressfeed does not know.
                report(98, "world.rss", "feedbin", "", 50, 0),
                report(100, "world.rss", "someday", "", 50, 2),
            ],
        };
        fn section_of(feed: &str) -> Option<&str> {
            feed.split_once('.').map(|(s, _)| s)
        }
        let summary = summarize(&stored, 100, 3, &["world", "quiet"], section_of);
        assert_eq!(summary.today, date(100));
        let world = &summary.sections[0];
        assert_eq!(world.subscribers, 12 + 5 + 3);
        assert_eq!(
            world.aggregators,
            BTreeMap::from([("feedly", 17), ("inoreader", 3)])
        );
        let daily: Vec<_> = world
            .daily
            .iter()
            .map(|d| (d.subscribers, d.polls.polls))
            .collect();
        assert_eq!(daily, [(50, 0), (15, 4), (15, 3)]);
        assert_eq!(
            world.clients["feedly"],
            Polls {
                polls: 6,
                not_modified: 3,
                bytes: 600
            }
        );
        assert_eq!(world.clients["browser"].polls, 1);
        assert_eq!(summary.sections[1].subscribers, 0);
        assert_eq!(summary.sections[1].daily.len(), 3);
    }
}
