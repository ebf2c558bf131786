//! The configuration in force: the site from `site.toml` in the feeds directory and the
//! sections the store keeps (`sections`: seeding the store from section files, reading
//! them back, import and export). While the server runs it changes whole: after an admin
//! write, on SIGHUP, when a poll sees `site.toml` change, and when the store's sections
//! version shows another process (a replica, `pressfeed sections import`) wrote sections:
//! read when the store hears of such a commit, and polled. A configuration that does not load never replaces a good one. Writing
//! sections is the admin API's business and `sections`'; this module loads and hands the
//! result to the scheduler.

mod sections;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use prometheus_client::metrics::counter::Counter;
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

pub use sections::{ImportReport, SectionsError, export, import, load};

use crate::config::{Config, ConfigError, Section};
use crate::slug::Slug;
use crate::store::{Store, StoredSection};

/// How often `site.toml`'s size and modification time and the store's sections version
/// are compared with the last load's: a stat and a one-row read, cheap enough to do often,
/// so a section written through another replica (or imported) is served here within a
/// second, build included.
const POLL: Duration = Duration::from_millis(500);

/// What the store says of one section besides its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Revision {
    /// `content_hash` of the stored text: the admin API's ETag, so a tag names the text an
    /// admin's change was based on.
    pub hash: String,
    /// When the text was last written, in Unix seconds.
    pub changed: i64,
}

/// A loaded configuration and the revision of each section it was read from.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub config: Arc<Config>,
    pub revisions: HashMap<Slug, Revision>,
}

impl Loaded {
    /// The site and the stored sections as one configuration; every stored text that does
    /// not load is a problem (the store only keeps checked text, but another pressfeed's
    /// rules may differ).
    fn new(
        dir: &Path,
        site: crate::config::Site,
        stored: Vec<StoredSection>,
    ) -> Result<Loaded, ConfigError> {
        let mut problems = Vec::new();
        let mut sections = Vec::new();
        let mut revisions = HashMap::new();
        for row in stored {
            match sections::parse(&row) {
                Ok(section) => sections.push(section),
                Err(ConfigError(found)) => problems.extend(found),
            }
            revisions.insert(
                row.slug,
                Revision {
                    hash: row.hash,
                    changed: row.changed,
                },
            );
        }
        if !problems.is_empty() {
            return Err(ConfigError(problems));
        }
        let config = Config {
            dir: dir.to_owned(),
            site,
            sections,
        };
        Ok(Loaded {
            config: Arc::new(config),
            revisions,
        })
    }

    fn same_as(&self, other: &Loaded) -> bool {
        self.config.site == other.config.site
            && self.config.sections == other.config.sections
            && self.revisions == other.revisions
    }
}

/// An admin write the configuration must reflect even when the rest does not load
/// (`site.toml` broken since the last load): the written section passed every check.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    // Boxed: a Section is large and a Change is moved around.
    Upsert {
        section: Box<Section>,
        revision: Revision,
    },
    Remove(Slug),
}

impl Change {
    fn apply(self, loaded: &Loaded) -> Loaded {
        let mut config = (*loaded.config).clone();
        let mut revisions = loaded.revisions.clone();
        match self {
            Change::Upsert { section, revision } => {
                config.sections.retain(|s| s.slug != section.slug);
                revisions.insert(section.slug.clone(), revision);
                config.sections.push(*section);
                config.sections.sort_by(|a, b| a.slug.cmp(&b.slug));
            }
            Change::Remove(slug) => {
                config.sections.retain(|s| s.slug != slug);
                revisions.remove(&slug);
            }
        }
        Loaded {
            config: Arc::new(config),
            revisions,
        }
    }
}

/// Size and modification time of `site.toml`: when they differ from the last load's, the
/// file changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Fingerprint(Option<SystemTime>, u64);

impl Fingerprint {
    fn of(dir: &Path) -> Fingerprint {
        std::fs::metadata(dir.join(crate::config::SITE_FILE))
            .map(|m| Fingerprint(m.modified().ok(), m.len()))
            .unwrap_or(Fingerprint(None, u64::MAX))
    }
}

/// What the configuration in force was loaded from.
#[derive(Debug)]
struct Seen {
    site: Fingerprint,
    /// The store's sections version; `None` until the first reload from the store.
    sections: Option<i64>,
}

/// The configuration in force, shared by the admin API, the sources and the reload watcher.
pub(crate) struct LiveConfig {
    dir: PathBuf,
    store: Store,
    // ArcSwap: readers (admin GETs) take the current configuration without waiting for a
    // reload in progress; a reload replaces it whole.
    current: ArcSwap<Loaded>,
    // The admin write lock. A tokio Mutex because its holder awaits blocking file and store
    // work. Holding it across the If-Match check and the write keeps this process's writes
    // in order; the store's compare-and-set (`store::Expect`) keeps other processes' out.
    // Reloads take it too, so a poll can never install a configuration read before an
    // admin write after that write's own. It guards what the last load was read from.
    writes: Arc<Mutex<Seen>>,
    /// Told of every configuration installed: the scheduler, which rebuilds what changed.
    on_reload: Box<dyn Fn(Arc<Config>) + Send + Sync>,
    /// Loads that failed (`/metrics`): the one sign, beside the log, that a broken file
    /// was seen and the last good configuration kept.
    load_failures: Counter,
}

impl LiveConfig {
    /// Starts from the configuration the scheduler was started with, as `load` gave it
    /// from `store`, whose sections it follows from then on. Reads the stored sections'
    /// revisions once; the first poll reads the sections again, so a write made since
    /// `load` is not missed. `on_reload` is called with every configuration installed
    /// after that; `load_failures` counts the reloads that did not load.
    pub(crate) fn new(
        config: Arc<Config>,
        store: Store,
        load_failures: Counter,
        on_reload: impl Fn(Arc<Config>) + Send + Sync + 'static,
    ) -> LiveConfig {
        let dir = config.dir.clone();
        let seen = Seen {
            site: Fingerprint::of(&dir),
            sections: None,
        };
        let revisions = store
            .sections()
            .inspect_err(|e| warn!(error = %e, "reading the sections' revisions"))
            .unwrap_or_default()
            .into_iter()
            .map(|row| {
                let revision = Revision {
                    hash: row.hash,
                    changed: row.changed,
                };
                (row.slug, revision)
            })
            .collect();
        LiveConfig {
            current: ArcSwap::from_pointee(Loaded { config, revisions }),
            dir,
            store,
            writes: Arc::new(Mutex::new(seen)),
            on_reload: Box::new(on_reload),
            load_failures,
        }
    }

    pub(crate) fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    /// Runs `work` on a blocking thread holding the write lock: no other write or reload
    /// runs meanwhile. Waiting for the lock does not block a thread.
    pub(crate) async fn edit<T, F>(self: &Arc<Self>, work: F) -> Result<T, tokio::task::JoinError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Edit<'_>) -> T + Send + 'static,
    {
        let mut seen = self.writes.clone().lock_owned().await;
        let live = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut edit = Edit {
                live: &live,
                seen: &mut seen,
            };
            work(&mut edit)
        })
        .await
    }

    fn install(&self, loaded: Loaded) {
        if self.current.load().same_as(&loaded) {
            return;
        }
        let config = loaded.config.clone();
        self.current.store(Arc::new(loaded));
        info!(sections = config.sections.len(), "configuration reloaded");
        (self.on_reload)(config);
    }
}

/// What a holder of the write lock may do.
pub(crate) struct Edit<'a> {
    live: &'a LiveConfig,
    seen: &'a mut Seen,
}

impl Edit<'_> {
    /// The store whose sections are in force.
    pub(crate) fn store(&self) -> &Store {
        &self.live.store
    }

    /// Reloads the whole configuration after an admin write and serves it. If it does not
    /// load (`site.toml` is broken), every problem is logged and `change` is applied to the
    /// configuration in force instead, so the admin's valid change is served.
    pub(crate) fn reload_after(&mut self, change: Change) {
        if let Err(e) = self.reload() {
            let patched = change.apply(&self.live.current());
            self.live.install(patched);
            log_failure(
                &self.live.dir,
                &e,
                "the admin change is served on top of the last good one",
            );
        }
    }

    /// Reloads if `site.toml` or the stored sections changed since the last load, or
    /// always when `force`d (SIGHUP).
    fn reload_if_changed(&mut self, force: bool) {
        if !force && Fingerprint::of(&self.live.dir) == self.seen.site {
            // A store that fails this read tells so itself (its health: `/readyz`,
            // `/metrics`, the log); the poll waits for the next tick quietly.
            match self.live.store.sections_version() {
                Ok(version) if Some(version) != self.seen.sections => {}
                _ => return,
            }
        }
        if let Err(e) = self.reload() {
            log_failure(
                &self.live.dir,
                &e,
                "the last good configuration stays served",
            );
        }
    }

    fn reload(&mut self) -> Result<(), SectionsError> {
        // Taken before loading: an edit racing with the load changes them again and is
        // loaded at the next poll. Remembered even when the load fails, so a broken file is
        // reported once, not every poll; a store that failed is asked again.
        self.seen.site = Fingerprint::of(&self.live.dir);
        let version = self.live.store.sections_version()?;
        let stored = self.live.store.sections()?;
        self.seen.sections = Some(version);
        let loaded = Config::load_site(&self.live.dir)
            .and_then(|site| Loaded::new(&self.live.dir, site, stored))
            .inspect_err(|_| {
                self.live.load_failures.inc();
            })?;
        self.live.install(loaded);
        Ok(())
    }
}

fn log_failure(dir: &Path, failure: &SectionsError, consequence: &str) {
    match failure {
        SectionsError::Invalid(problems) => {
            for problem in &problems.0 {
                error!(%problem, "configuration problem");
            }
            error!(
                problems = problems.0.len(),
                "the configuration of {} and its stored sections does not load; {consequence}",
                dir.display()
            );
        }
        other => error!(error = %other, "reloading the configuration failed; {consequence}"),
    }
}

/// Reloads on SIGHUP and whenever a poll sees `site.toml` or the stored sections change,
/// until aborted. `sections_heard` is notified when the store hears another process write
/// sections (`Store::listen`): then the sections version is read at once, not at the poll.
pub(crate) fn watch(live: Arc<LiveConfig>, sections_heard: Arc<Notify>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut hangup = Hangup::new();
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        poll.tick().await;
        loop {
            let force = tokio::select! {
                _ = poll.tick() => false,
                () = sections_heard.notified() => false,
                () = hangup.recv() => {
                    info!("SIGHUP: reloading the configuration");
                    true
                }
            };
            if let Err(e) = live.edit(move |edit| edit.reload_if_changed(force)).await {
                error!(error = %e, "configuration reload panicked");
            }
        }
    })
}

/// SIGHUP where there is such a thing; elsewhere a signal that never comes.
struct Hangup {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangup {
    fn new() -> Hangup {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signal = signal(SignalKind::hangup())
                .map_err(|e| warn!(error = %e, "cannot listen for SIGHUP; polling only"))
                .ok();
            Hangup { signal }
        }
        #[cfg(not(unix))]
        Hangup {}
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_some() {
                return;
            }
            self.signal = None;
        }
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_notices_edits_of_the_site_file_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sections")).unwrap();
        std::fs::write(dir.path().join("site.toml"), "x").unwrap();
        let before = Fingerprint::of(dir.path());
        std::fs::write(dir.path().join("sections/world.toml"), "a").unwrap();
        assert_eq!(
            Fingerprint::of(dir.path()),
            before,
            "section files no longer count"
        );
        std::fs::write(dir.path().join("site.toml"), "xy").unwrap();
        assert_ne!(Fingerprint::of(dir.path()), before, "a longer file");
        std::fs::remove_file(dir.path().join("site.toml")).unwrap();
        assert_ne!(Fingerprint::of(dir.path()), before, "a removed file");
    }
}
