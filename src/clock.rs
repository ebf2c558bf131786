//! Wall time, from one seam: what schedules, stamps or embargoes (cron firings, scheduled
//! articles, Last-Modified, source polls) reads `Clock::now` and waits with `Clock`, so a
//! test sets the time instead of sleeping. Not for timeouts, debounce and backoff: those
//! measure spans on tokio's or std's monotonic time, which a manual clock does not move.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;

/// The time as the server sees it. Cheap to clone; the system's in production, a
/// `ManualClock`'s in tests.
#[derive(Clone, Default)]
pub struct Clock(Source);

#[derive(Clone, Default)]
enum Source {
    #[default]
    System,
    Manual(Arc<Manual>),
}

impl Clock {
    /// The operating system's clock.
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// The time now, as this clock reads it.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Source::System => Utc::now(),
            Source::Manual(manual) => *manual.now.borrow(),
        }
    }

    /// Returns once the clock reads `at` or later: at once for a past `at`. On the system
    /// clock the time is looked at again after the sleep, so a clock set back while
    /// sleeping is waited out too.
    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        match &self.0 {
            Source::System => loop {
                let left = at - Utc::now();
                if left <= TimeDelta::zero() {
                    return;
                }
                tokio::time::sleep(left.to_std().unwrap_or_default()).await;
            },
            Source::Manual(manual) => {
                let mut moved = manual.now.subscribe();
                // The sender lives as long as `manual`, which `self` holds: `changed` cannot
                // fail while this waits.
                while *moved.borrow_and_update() < at {
                    if moved.changed().await.is_err() {
                        return std::future::pending().await;
                    }
                }
            }
        }
    }

    /// For a thread that blocks instead of awaiting: how long to block at most for the
    /// clock to reach `at`. `None` when only a manual clock's move can bring `at`, which
    /// calls the `on_advance` wakers: block until woken.
    pub fn timeout_until(&self, at: DateTime<Utc>) -> Option<Duration> {
        let left = at - self.now();
        if left <= TimeDelta::zero() {
            return Some(Duration::ZERO);
        }
        match &self.0 {
            Source::System => Some(left.to_std().unwrap_or_default()),
            Source::Manual(_) => None,
        }
    }

    /// Calls `wake` after every move of a manual clock, until it returns false (its
    /// receiver is gone). The system clock moves by itself and never calls it: a thread
    /// on it blocks for `timeout_until`.
    pub fn on_advance(&self, wake: impl Fn() -> bool + Send + 'static) {
        if let Source::Manual(manual) = &self.0 {
            manual.wakers().push(Box::new(wake));
        }
    }
}

/// A clock that moves only when told: `set` and `advance` wake every sleeper whose time
/// came, and every thread registered with `Clock::on_advance`.
#[derive(Clone)]
pub struct ManualClock(Arc<Manual>);

struct Manual {
    /// A watch channel, so that async sleepers wake when the time moves.
    now: watch::Sender<DateTime<Utc>>,
    /// Threads that cannot await (the scheduler's). A std mutex: held only to call the
    /// wakers, each a channel send, never across an await.
    wakers: Mutex<Vec<Box<dyn Fn() -> bool + Send>>>,
}

impl Manual {
    fn wakers(&self) -> std::sync::MutexGuard<'_, Vec<Box<dyn Fn() -> bool + Send>>> {
        // A waker that panicked left nothing half-done: the list is still a list.
        self.wakers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ManualClock {
    /// A clock that reads `start` until moved.
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock(Arc::new(Manual {
            now: watch::Sender::new(start),
            wakers: Mutex::new(Vec::new()),
        }))
    }

    /// The handle the server is given.
    pub fn clock(&self) -> Clock {
        Clock(Source::Manual(self.0.clone()))
    }

    /// The time the clock was last set or moved to.
    pub fn now(&self) -> DateTime<Utc> {
        *self.0.now.borrow()
    }

    /// Moves the clock to `at`, backwards too (as an operator's clock may go).
    pub fn set(&self, at: DateTime<Utc>) {
        self.0.now.send_replace(at);
        self.0.wakers().retain(|wake| wake());
    }

    /// Moves the clock on by `by`; `TimeDelta::zero()` only wakes the waiters, so they
    /// look at what else changed (the scheduler reads the store's change log).
    pub fn advance(&self, by: TimeDelta) {
        self.set(self.now() + by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[tokio::test]
    async fn a_sleeper_wakes_when_the_clock_reaches_its_time_and_not_before() {
        let manual = ManualClock::new(at("2026-03-01T12:00:00Z"));
        let clock = manual.clock();
        let sleeper = tokio::spawn(async move {
            clock.sleep_until(at("2026-03-01T12:01:00Z")).await;
            clock.now()
        });
        tokio::task::yield_now().await;
        manual.advance(TimeDelta::seconds(59));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        manual.advance(TimeDelta::seconds(1));
        assert_eq!(sleeper.await.unwrap(), at("2026-03-01T12:01:00Z"));
    }

    #[test]
    fn a_blocked_thread_is_woken_by_every_move_until_it_is_gone() {
        let manual = ManualClock::new(at("2026-03-01T12:00:00Z"));
        let clock = manual.clock();
        assert_eq!(
            clock.timeout_until(at("2026-03-01T11:00:00Z")),
            Some(Duration::ZERO)
        );
        assert_eq!(clock.timeout_until(at("2026-03-01T13:00:00Z")), None);
        let (tx, rx) = std::sync::mpsc::channel();
        clock.on_advance(move || tx.send(()).is_ok());
        manual.advance(TimeDelta::zero());
        manual.set(at("2026-03-01T13:00:00Z"));
        assert_eq!(rx.try_iter().count(), 2);
        assert_eq!(
            clock.timeout_until(at("2026-03-01T13:00:00Z")),
            Some(Duration::ZERO)
        );
        drop(rx);
        manual.advance(TimeDelta::seconds(1));
        assert!(manual.0.wakers().is_empty());
    }

    #[test]
    fn the_system_clock_needs_no_waking() {
        let clock = Clock::system();
        let soon = clock.timeout_until(clock.now() + TimeDelta::seconds(5));
        assert!(soon.is_some_and(|d| d <= Duration::from_secs(5)));
    }
}
