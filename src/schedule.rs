//! The scheduler: decides when each section's feeds are rebuilt (its cron schedule, any
//! write to the store by any process, a scheduled article's time coming) and rebuilds them
//! on its own thread, publishing a new catalog snapshot. Requests never wait for it.

use std::collections::{BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use crate::build;
use crate::catalog::{Catalog, Feed, Snapshot, content_hash};
use crate::site::Config;
use crate::slug::Slug;
use crate::store::{FeedState, Store, StoreError};

/// How often the store's change counter is read; bounds how late a write by another
/// process (an import, a replica) shows up.
const POLL: Duration = Duration::from_secs(1);

/// Messages to the scheduler thread.
enum Message {
    Stop,
}

/// The running scheduler; dropping it does not stop it, `stop` does.
pub struct SchedulerHandle {
    tx: Sender<Message>,
    thread: JoinHandle<()>,
}

impl SchedulerHandle {
    /// Asks the thread to stop and waits for the rebuild in progress, if any.
    pub fn stop(self) {
        let _ = self.tx.send(Message::Stop);
        if self.thread.join().is_err() {
            error!("the scheduler thread panicked");
        }
    }
}

/// Starts the scheduler thread: it builds every feed at once, then keeps them fresh.
pub fn start(
    config: Arc<Config>,
    store: Store,
    catalog: Catalog,
) -> Result<SchedulerHandle, StoreError> {
    let validators = store.feed_states()?.into_iter().collect();
    let mut scheduler = Scheduler {
        config,
        store,
        catalog,
        validators,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("scheduler".into())
        .spawn(move || scheduler.run(&rx))
        .expect("spawning the scheduler thread");
    Ok(SchedulerHandle { tx, thread })
}

struct Scheduler {
    config: Arc<Config>,
    store: Store,
    catalog: Catalog,
    /// Validators of every feed built so far, by file name; mirrors the store's copy.
    validators: HashMap<String, FeedState>,
}

impl Scheduler {
    fn run(&mut self, rx: &Receiver<Message>) {
        let sections: Vec<Slug> = self.enabled().map(|s| s.slug.clone()).collect();
        let mut dirty: BTreeSet<Slug> = sections.iter().cloned().collect();
        let mut next_cron: HashMap<Slug, Option<DateTime<Utc>>> = HashMap::new();
        let mut seen_changes = None;
        let mut next_embargo = None;

        loop {
            let now = Utc::now();
            for section in self.enabled() {
                let due = next_cron
                    .entry(section.slug.clone())
                    .or_insert_with(|| section.schedule.next_after(now));
                if due.is_some_and(|due| due <= now) {
                    dirty.insert(section.slug.clone());
                    *due = section.schedule.next_after(now);
                }
            }
            match self.store.change_counter() {
                Ok(counter) if seen_changes != Some(counter) => {
                    if seen_changes.is_some() {
                        dirty.extend(sections.iter().cloned());
                    }
                    seen_changes = Some(counter);
                    next_embargo = self.store.next_embargo(now).unwrap_or(None);
                }
                Ok(_) => {}
                Err(e) => warn!(error = %e, "cannot read the store's change counter"),
            }
            if next_embargo.is_some_and(|at| at <= now) {
                dirty.extend(sections.iter().cloned());
                next_embargo = self.store.next_embargo(now).unwrap_or(None);
            }

            if !dirty.is_empty() {
                // A panic in a builder must not take the scheduler down: the last good
                // feeds stay served and the sections stay dirty for the next attempt.
                match std::panic::catch_unwind(AssertUnwindSafe(|| self.rebuild(&dirty, now))) {
                    Ok(Ok(())) => dirty.clear(),
                    Ok(Err(e)) => error!(error = %e, "rebuild failed; will retry"),
                    Err(_) => error!("rebuild panicked; will retry"),
                }
            }

            match rx.recv_timeout(POLL) {
                Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    fn enabled(&self) -> impl Iterator<Item = &crate::site::Section> {
        self.config.sections.iter().filter(|s| s.enabled)
    }

    /// Rebuilds the `dirty` sections, keeps every other section's feeds as they are, and
    /// publishes the result as one snapshot.
    fn rebuild(&mut self, dirty: &BTreeSet<Slug>, now: DateTime<Utc>) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let old = self.catalog.snapshot();
        let mut feeds = HashMap::new();
        let mut changed = Vec::new();
        for section in self.enabled() {
            let names = build::Format::ALL.map(|f| f.file_name(section));
            let kept: Option<Vec<_>> = names
                .iter()
                .map(|name| old.feeds.get(name).map(|feed| (name.clone(), feed.clone())))
                .collect();
            if let (false, Some(kept)) = (dirty.contains(&section.slug), kept) {
                feeds.extend(kept);
                continue;
            }
            for built in build::section_feeds(&self.store, &self.config.site, section, now)? {
                let hash = content_hash(&built.bytes);
                let last_modified = match self.validators.get(&built.name) {
                    Some(state) if state.hash == hash => state.last_modified,
                    // Never backwards, even if the clock is.
                    Some(state) => now.timestamp().max(state.last_modified),
                    None => now.timestamp(),
                };
                let state = FeedState {
                    hash,
                    last_modified,
                };
                if self.validators.get(&built.name) != Some(&state) {
                    changed.push((built.name.clone(), state.clone()));
                }
                let feed = Feed::new(
                    Bytes::from(built.bytes),
                    &state.hash,
                    built.format.content_type(),
                    section.max_age,
                    last_modified,
                );
                feeds.insert(built.name, Arc::new(feed));
            }
        }
        self.store.save_feed_states(&changed)?;
        for (name, state) in changed {
            self.validators.insert(name, state);
        }
        self.catalog.publish(Snapshot { feeds, ready: true });
        info!(
            sections = dirty.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "feeds rebuilt"
        );
        Ok(())
    }
}
