//! The configuration being served and how it changes while the server runs: reloaded whole
//! from disk after an admin write, on SIGHUP, and when a poll of `feeds/` sees a file change.
//! A configuration that does not load never replaces a good one. Writing files is the admin
//! API's business; this module only loads them and hands the result to the scheduler.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use prometheus_client::metrics::counter::Counter;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use super::{Config, ConfigError, SITE_FILE, Section};
use crate::digest::content_hash;
use crate::slug::Slug;

/// How often the files' sizes and modification times are compared. A stat of a dozen
/// files: cheap enough to do often, and an edit is live a couple of seconds after saving.
const POLL: Duration = Duration::from_secs(2);

/// A loaded configuration and the hash of each section file's bytes it was read from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Arc<Config>,
    /// `content_hash` of `sections/<slug>.toml` as loaded: the admin API's ETags, so a tag
    /// names the file an admin's change was based on.
    pub hashes: HashMap<Slug, String>,
}

impl Loaded {
    /// Reads `dir` the way `pressfeed check` does.
    fn load(dir: &Path) -> Result<Loaded, ConfigError> {
        let config = Config::load(dir)?;
        Ok(Loaded::hashed(Arc::new(config)))
    }

    /// Hashes the files of an already loaded configuration. A file edited between the load
    /// and this read gets the new file's hash for a moment; the next poll sees the edit and
    /// loads both again.
    fn hashed(config: Arc<Config>) -> Loaded {
        let hashes = config
            .sections
            .iter()
            .filter_map(|s| {
                let bytes = std::fs::read(section_path(&config.dir, &s.slug)).ok()?;
                Some((s.slug.clone(), content_hash(&bytes)))
            })
            .collect();
        Loaded { config, hashes }
    }

    fn same_as(&self, other: &Loaded) -> bool {
        self.config.site == other.config.site
            && self.config.sections == other.config.sections
            && self.hashes == other.hashes
    }
}

/// An admin write the configuration must reflect even when the directory as a whole does
/// not load (another file is broken): the written file passed every check on its own.
#[derive(Debug, Clone)]
pub enum Change {
    // Boxed: a Section is large and a Change is moved around.
    Upsert { section: Box<Section>, hash: String },
    Remove(Slug),
}

impl Change {
    fn apply(self, loaded: &Loaded) -> Loaded {
        let mut config = (*loaded.config).clone();
        let mut hashes = loaded.hashes.clone();
        match self {
            Change::Upsert { section, hash } => {
                config.sections.retain(|s| s.slug != section.slug);
                hashes.insert(section.slug.clone(), hash);
                config.sections.push(*section);
                config.sections.sort_by(|a, b| a.slug.cmp(&b.slug));
            }
            Change::Remove(slug) => {
                config.sections.retain(|s| s.slug != slug);
                hashes.remove(&slug);
            }
        }
        Loaded {
            config: Arc::new(config),
            hashes,
        }
    }
}

/// Sizes and modification times of `site.toml` and `sections/*.toml`: when they differ from
/// the last load's, the files changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Fingerprint(Vec<(OsString, Option<SystemTime>, u64)>);

impl Fingerprint {
    fn of(dir: &Path) -> Fingerprint {
        let stat = |path: &Path| {
            std::fs::metadata(path)
                .map(|m| (m.modified().ok(), m.len()))
                .unwrap_or((None, u64::MAX))
        };
        let (modified, len) = stat(&dir.join(SITE_FILE));
        let mut files = vec![(OsString::from(SITE_FILE), modified, len)];
        if let Ok(entries) = std::fs::read_dir(dir.join("sections")) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let (modified, len) = stat(&path);
                    files.push((entry.file_name(), modified, len));
                }
            }
        }
        files.sort();
        Fingerprint(files)
    }
}

/// The configuration in force, shared by the admin API and the reload watcher.
pub struct LiveConfig {
    dir: PathBuf,
    // ArcSwap: readers (admin GETs) take the current configuration without waiting for a
    // reload in progress; a reload replaces it whole.
    current: ArcSwap<Loaded>,
    // The admin write lock. A tokio Mutex because its holder awaits blocking file and store
    // work. Holding it across the If-Match check and the write is what makes the check
    // race-free; reloads take it too, so a poll can never install a configuration read
    // before an admin write after that write's own. It guards the files' fingerprint as
    // last loaded.
    writes: Arc<Mutex<Fingerprint>>,
    /// Told of every configuration installed: the scheduler, which rebuilds what changed.
    on_reload: Box<dyn Fn(Arc<Config>) + Send + Sync>,
    /// Loads that failed (`/metrics`): the one sign, beside the log, that a broken file
    /// was seen and the last good configuration kept.
    load_failures: Counter,
}

impl LiveConfig {
    /// Starts from the configuration the scheduler was started with. Reads the section
    /// files once to hash them. `on_reload` is called with every configuration installed
    /// after that; `load_failures` counts the reloads that did not load.
    pub fn new(
        config: Arc<Config>,
        load_failures: Counter,
        on_reload: impl Fn(Arc<Config>) + Send + Sync + 'static,
    ) -> LiveConfig {
        let dir = config.dir.clone();
        let seen = Fingerprint::of(&dir);
        LiveConfig {
            current: ArcSwap::from_pointee(Loaded::hashed(config)),
            dir,
            writes: Arc::new(Mutex::new(seen)),
            on_reload: Box::new(on_reload),
            load_failures,
        }
    }

    pub fn current(&self) -> Arc<Loaded> {
        self.current.load_full()
    }

    /// Where the file of section `slug` lives.
    pub fn section_path(&self, slug: &Slug) -> PathBuf {
        section_path(&self.dir, slug)
    }

    /// Runs `work` on a blocking thread holding the write lock: no other write or reload
    /// runs meanwhile. Waiting for the lock does not block a thread.
    pub async fn edit<T, F>(self: &Arc<Self>, work: F) -> Result<T, tokio::task::JoinError>
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
pub struct Edit<'a> {
    live: &'a LiveConfig,
    seen: &'a mut Fingerprint,
}

impl Edit<'_> {
    pub fn live(&self) -> &LiveConfig {
        self.live
    }

    /// Reloads the whole configuration from disk after an admin write and serves it. If it
    /// does not load (some other file is broken), every problem is logged and `change` is
    /// applied to the configuration in force instead, so the admin's valid change is served
    /// and the broken file is not.
    pub fn reload_after(&mut self, change: Change) {
        if let Err(problems) = self.reload() {
            let patched = change.apply(&self.live.current());
            self.live.install(patched);
            log_problems(
                &self.live.dir,
                &problems,
                "the admin change is served on top of the last good one",
            );
        }
    }

    /// Reloads if the files changed since the last load, or always when `force`d (SIGHUP).
    fn reload_if_changed(&mut self, force: bool) {
        if !force && Fingerprint::of(&self.live.dir) == *self.seen {
            return;
        }
        if let Err(problems) = self.reload() {
            log_problems(
                &self.live.dir,
                &problems,
                "the last good configuration stays served",
            );
        }
    }

    fn reload(&mut self) -> Result<(), ConfigError> {
        // Taken before loading: an edit racing with the load changes the fingerprint again
        // and is loaded at the next poll. Remembered even when the load fails, so a broken
        // file is reported once, not every poll.
        *self.seen = Fingerprint::of(&self.live.dir);
        let loaded = Loaded::load(&self.live.dir).inspect_err(|_| {
            self.live.load_failures.inc();
        })?;
        self.live.install(loaded);
        Ok(())
    }
}

fn log_problems(dir: &Path, problems: &ConfigError, consequence: &str) {
    for problem in &problems.0 {
        error!(%problem, "configuration problem");
    }
    error!(
        problems = problems.0.len(),
        "the configuration in {} does not load; {consequence}",
        dir.display()
    );
}

fn section_path(dir: &Path, slug: &Slug) -> PathBuf {
    dir.join("sections").join(format!("{slug}.toml"))
}

/// Reloads on SIGHUP and whenever a poll sees the files change, until aborted.
pub fn watch(live: Arc<LiveConfig>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut hangup = Hangup::new();
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        poll.tick().await;
        loop {
            let force = tokio::select! {
                _ = poll.tick() => false,
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
    fn the_fingerprint_notices_edits_new_files_and_removals() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sections")).unwrap();
        std::fs::write(dir.path().join("site.toml"), "x").unwrap();
        let empty = Fingerprint::of(dir.path());
        let world = dir.path().join("sections/world.toml");
        std::fs::write(&world, "a").unwrap();
        let one = Fingerprint::of(dir.path());
        assert_ne!(one, empty);
        std::fs::write(&world, "ab").unwrap();
        assert_ne!(Fingerprint::of(dir.path()), one, "a longer file");
        std::fs::write(dir.path().join("sections/.world.toml.1.tmp"), "x").unwrap();
        std::fs::write(dir.path().join("sections/notes.txt"), "x").unwrap();
        let two = Fingerprint::of(dir.path());
        std::fs::remove_file(dir.path().join("sections/notes.txt")).unwrap();
        assert_eq!(Fingerprint::of(dir.path()), two, "only *.toml counts");
        std::fs::remove_file(&world).unwrap();
        assert_eq!(Fingerprint::of(dir.path()), empty);
    }
}
