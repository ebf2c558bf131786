//! How each running source is doing: last success, last error, next poll and what its polls
//! did to the store. `GET /admin/api/sources` lists it and `/metrics` counts it; the source
//! tasks write it, nothing here decides anything. It also carries the one request that goes
//! the other way, "poll now" (`POST /admin/api/sources/{name}/poll`), to the source's task.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::Notify;

use super::Source;
use crate::metrics::{Metrics, SourceLabel, SourceOutcomeLabel};

/// Articles a poll (or, summed, every poll since start) dealt with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Items read from the source, good or bad.
    pub seen: u64,
    /// Articles written to the store (new or changed).
    pub upserted: u64,
    /// Articles the store already had exactly so.
    pub unchanged: u64,
    /// Items left out, each with a logged reason: invalid, or for no section.
    pub skipped: u64,
    /// Articles removed because the source no longer has them.
    pub retracted: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.seen += other.seen;
        self.upserted += other.upserted;
        self.unchanged += other.unchanged;
        self.skipped += other.skipped;
        self.retracted += other.retracted;
    }
}

/// What one successful poll did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub counts: Counts,
    /// The source said nothing changed (a 304, or files as they were).
    pub not_modified: bool,
    /// When the poll read the source's terms and users again (WordPress), if it did.
    pub terms_refreshed: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Not polled yet.
    Pending,
    Ok,
    /// The last poll failed; the articles it had pulled before stay.
    Error,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastError {
    pub at: DateTime<Utc>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Polls {
    pub ok: u64,
    pub not_modified: u64,
    pub error: u64,
}

/// One source as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    pub name: String,
    pub kind: &'static str,
    /// The URL or path of the configuration.
    pub location: String,
    pub schedule: String,
    pub health: Health,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<LastError>,
    pub next_poll: Option<DateTime<Utc>>,
    /// When a poll last read the tags, categories and users again (WordPress only).
    pub terms_refreshed: Option<DateTime<Utc>>,
    pub polls: Polls,
    /// Summed over every poll since the server started.
    pub articles: Counts,
}

/// The state of every configured source. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    // A std mutex: held for a map operation, never across an await.
    sources: Arc<Mutex<BTreeMap<String, Tracked>>>,
    metrics: Arc<Metrics>,
}

struct Tracked {
    status: SourceStatus,
    /// Wakes the source's task for a poll now. A `Notify` keeps one permit: requests made
    /// while a poll runs add up to one more poll, not one each.
    poll_now: Arc<Notify>,
}

const POLL_RESULTS: [&str; 3] = ["ok", "not_modified", "error"];
const OUTCOMES: [&str; 4] = ["seen", "upserted", "skipped", "retracted"];

impl Registry {
    pub fn new(metrics: Arc<Metrics>) -> Registry {
        Registry {
            sources: Arc::default(),
            metrics,
        }
    }

    /// Every source, by name.
    pub fn list(&self) -> Vec<SourceStatus> {
        self.lock().values().map(|t| t.status.clone()).collect()
    }

    /// Asks the source named `name` to poll now, or as soon as its poll in progress ends.
    /// False when there is no such source.
    pub fn poll_now(&self, name: &str) -> bool {
        match self.lock().get(name) {
            Some(tracked) => {
                tracked.poll_now.notify_one();
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Tracked>> {
        self.sources.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, name: &str, change: impl FnOnce(&mut SourceStatus)) {
        if let Some(tracked) = self.lock().get_mut(name) {
            change(&mut tracked.status);
        }
    }

    /// A source (re)started: its state starts afresh, and its metrics appear at zero.
    /// Returns what wakes its task for a poll now (`poll_now`).
    pub(crate) fn register(&self, source: &Source) -> Arc<Notify> {
        let name = source.name.to_string();
        let m = &self.metrics.sources;
        // Made now, so a dashboard sees zeros rather than nothing before the first poll.
        for outcome in POLL_RESULTS {
            let _ = m.polls.get_or_create(&outcome_label(&name, outcome));
        }
        for outcome in OUTCOMES {
            let _ = m.articles.get_or_create(&outcome_label(&name, outcome));
        }
        m.up.get_or_create(&label(&name)).set(0);
        // A source started again after its task panicked keeps its history, the panic as
        // its last error; one that changed was unregistered first.
        self.lock()
            .entry(name.clone())
            .or_insert_with(|| Tracked {
                status: SourceStatus {
                    name,
                    kind: source.kind(),
                    location: source.location(),
                    schedule: source.schedule.as_str().to_owned(),
                    health: Health::Pending,
                    last_attempt: None,
                    last_success: None,
                    last_error: None,
                    next_poll: None,
                    terms_refreshed: None,
                    polls: Polls::default(),
                    articles: Counts::default(),
                },
                poll_now: Arc::default(),
            })
            .poll_now
            .clone()
    }

    /// A source left the configuration.
    pub(crate) fn unregister(&self, name: &str) {
        self.lock().remove(name);
        let m = &self.metrics.sources;
        for outcome in POLL_RESULTS {
            m.polls.remove(&outcome_label(name, outcome));
        }
        for outcome in OUTCOMES {
            m.articles.remove(&outcome_label(name, outcome));
        }
        for family in [&m.last_success, &m.last_error] {
            family.remove(&label(name));
        }
        m.up.remove(&label(name));
    }

    pub(crate) fn next_poll(&self, name: &str, at: Option<DateTime<Utc>>) {
        self.update(name, |s| s.next_poll = at);
    }

    pub(crate) fn polling(&self, name: &str, at: DateTime<Utc>) {
        self.update(name, |s| s.last_attempt = Some(at));
    }

    /// A poll that ended well `now`.
    pub(crate) fn succeeded(&self, name: &str, report: &Report, now: DateTime<Utc>) {
        let result = if report.not_modified {
            "not_modified"
        } else {
            "ok"
        };
        self.count(name, result, &report.counts);
        let m = &self.metrics.sources;
        m.last_success.get_or_create(&label(name)).set(unix(now));
        m.up.get_or_create(&label(name)).set(1);
        self.update(name, |s| {
            s.health = Health::Ok;
            s.last_success = Some(now);
            if report.terms_refreshed.is_some() {
                s.terms_refreshed = report.terms_refreshed;
            }
            if report.not_modified {
                s.polls.not_modified += 1;
            } else {
                s.polls.ok += 1;
            }
        });
    }

    /// A poll failed `now` after doing `counts` (pages stored before the failure stay).
    pub(crate) fn failed(&self, name: &str, counts: &Counts, message: String, now: DateTime<Utc>) {
        self.count(name, "error", counts);
        let m = &self.metrics.sources;
        m.last_error.get_or_create(&label(name)).set(unix(now));
        m.up.get_or_create(&label(name)).set(0);
        self.update(name, |s| {
            s.health = Health::Error;
            s.polls.error += 1;
            s.last_error = Some(LastError { at: now, message });
        });
    }

    fn count(&self, name: &str, result: &'static str, counts: &Counts) {
        let m = &self.metrics.sources;
        m.polls.get_or_create(&outcome_label(name, result)).inc();
        for (outcome, n) in [
            ("seen", counts.seen),
            ("upserted", counts.upserted),
            ("skipped", counts.skipped),
            ("retracted", counts.retracted),
        ] {
            m.articles
                .get_or_create(&outcome_label(name, outcome))
                .inc_by(n);
        }
        self.update(name, |s| s.articles.add(counts));
    }
}

fn label(name: &str) -> SourceLabel {
    SourceLabel {
        source: name.to_owned(),
    }
}

fn outcome_label(name: &str, outcome: &'static str) -> SourceOutcomeLabel {
    SourceOutcomeLabel {
        source: name.to_owned(),
        outcome,
    }
}

fn unix(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_to_poll_now_add_up_to_one_poll() {
        let registry = Registry::new(Arc::default());
        let source: Source = crate::config::parse_toml(
            std::path::Path::new("site.toml"),
            "name = \"desk\"\nkind = \"directory\"\npath = \"in\"",
        )
        .unwrap();
        let poll_now = registry.register(&source);
        assert!(!registry.poll_now("wire"), "no such source");
        // Three requests while the task polls...
        for _ in 0..3 {
            assert!(registry.poll_now("desk"));
        }
        // ...wake it once when it next waits, and not again.
        let mut first = std::pin::pin!(poll_now.notified());
        assert!(first.as_mut().enable());
        let mut second = std::pin::pin!(poll_now.notified());
        assert!(!second.as_mut().enable());
    }
}
