//! Built bytes in, catalog `Feed`s out: Last-Modified from validators kept in the store
//! (it moves only when the bytes change), compressed variants reused when the bytes did
//! not change. The scheduler and `pressfeed build --out` both publish through here, so an
//! export carries exactly the bytes and headers the server serves. Nothing about when.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::build::{self, BuiltFeed, Format};
use crate::catalog::{Feed, Snapshot, content_hash};
use crate::site::{Config, Section};
use crate::store::{FeedState, Store, StoreError};

/// Validators that changed in one build, to be saved together.
pub type Changes = Vec<(String, FeedState)>;

pub struct Publisher {
    /// Validators of every file built so far, by file name; mirrors the store's copy.
    validators: HashMap<String, FeedState>,
}

impl Publisher {
    pub fn load(store: &Store) -> Result<Publisher, StoreError> {
        Ok(Publisher {
            validators: store.feed_states()?.into_iter().collect(),
        })
    }

    /// Builds `section`'s feeds at `now` and wraps each for serving.
    pub fn section(
        &self,
        store: &Store,
        config: &Config,
        section: &Section,
        now: DateTime<Utc>,
        old: &Snapshot,
        changed: &mut Changes,
    ) -> Result<Vec<(String, Arc<Feed>)>, StoreError> {
        Ok(build::section_feeds(store, &config.site, section, now)?
            .into_iter()
            .map(|built| self.wrap(built, section.max_age, now, old, changed))
            .collect())
    }

    /// The site's OPML list and the browser view's stylesheet, wrapped for serving. They
    /// change with the configuration only; caches may keep them as long as a feed.
    pub fn site_files(
        &self,
        config: &Config,
        now: DateTime<Utc>,
        old: &Snapshot,
        changed: &mut Changes,
    ) -> Vec<(String, Arc<Feed>)> {
        build::site_files(&config.site, &config.sections)
            .into_iter()
            .map(|built| self.wrap(built, crate::site::DEFAULT_MAX_AGE, now, old, changed))
            .collect()
    }

    /// One built file as served: its Last-Modified is the previous one while the bytes are
    /// the same, else `now` (never backwards, even if the clock is).
    fn wrap(
        &self,
        built: BuiltFeed,
        max_age: u32,
        now: DateTime<Utc>,
        old: &Snapshot,
        changed: &mut Changes,
    ) -> (String, Arc<Feed>) {
        let hash = content_hash(&built.bytes);
        let previous = self.validators.get(&built.name);
        let last_modified = match previous {
            Some(state) if state.hash == hash => state.last_modified,
            Some(state) => now.timestamp().max(state.last_modified),
            None => now.timestamp(),
        };
        let state = FeedState {
            hash,
            last_modified,
        };
        if previous != Some(&state) {
            changed.push((built.name.clone(), state.clone()));
        }
        let feed = match old.feeds.get(&built.name) {
            // Same bytes: reuse the compressed variants.
            Some(feed) if feed.hash == state.hash => {
                if feed.max_age == max_age && feed.last_modified_secs() == last_modified {
                    feed.clone()
                } else {
                    Arc::new(feed.with_headers(max_age, last_modified))
                }
            }
            _ => {
                let feed = Feed::new(
                    Bytes::from(built.bytes),
                    &state.hash,
                    built.content_type,
                    max_age,
                    last_modified,
                );
                Arc::new(match built.browser_content_type {
                    Some(content_type) => feed.for_browsers(content_type),
                    None => feed,
                })
            }
        };
        (built.name, feed)
    }

    /// Persists `changed`; only then does this publisher remember them, so a failed save
    /// is retried by the next build.
    pub fn save(&mut self, store: &Store, changed: Changes) -> Result<(), StoreError> {
        store.save_feed_states(&changed)?;
        self.validators.extend(changed);
        Ok(())
    }

    /// Section feeds built once (their validators persist in the store, so this survives
    /// restarts) whose section is no longer in the configuration. A disabled section is
    /// still there: its feeds are merely off, 404, and may come back.
    pub fn gone(&self, config: &Config) -> HashSet<String> {
        self.validators
            .keys()
            .filter(|name| {
                Format::of_file(name).is_some()
                    && name
                        .rsplit_once('.')
                        .is_some_and(|(slug, _)| config.section(slug).is_none())
            })
            .cloned()
            .collect()
    }
}

/// Every file `serve` would publish at `now`, built from scratch, with validators saved
/// to the store as the scheduler saves them. Sorted by name.
pub fn everything(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Arc<Feed>)>, StoreError> {
    let mut publisher = Publisher::load(store)?;
    let old = Snapshot::default();
    let mut changed = Changes::new();
    let mut files = Vec::new();
    for section in config.sections.iter().filter(|s| s.enabled) {
        files.extend(publisher.section(store, config, section, now, &old, &mut changed)?);
    }
    files.extend(publisher.site_files(config, now, &old, &mut changed));
    publisher.save(store, changed)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}
