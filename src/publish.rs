//! Built bytes in, catalog `Feed`s out: Last-Modified from validators kept in the store
//! (it moves only when the bytes change), compressed variants reused when the bytes did
//! not change. The scheduler and `pressfeed build --out` both publish through here, so an
//! export carries exactly the bytes and headers the server serves. Nothing about when.
//!
//! A feed's bytes, in every coding, are saved in the store in the transaction of its
//! validators, so they never disagree, and `restore` serves them after a restart before
//! anything is built. SQLite rather than files: one atomic commit per build whatever the
//! number of feeds, no fsync per file (WAL with `synchronous = NORMAL` survives a crash of
//! the process), and no second place that could hold other bytes than the validators say.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::HeaderValue;

use crate::build::{self, BuiltFeed, Format};
use crate::catalog::{Coding, Feed, Snapshot};
use crate::config::{Config, Section};
use crate::digest::content_hash;
use crate::item::FeedItem;
use crate::store::{FeedQuery, FeedState, SavedFeed, Store, StoreError};

/// Files whose bytes changed in one build (or are not in the store yet), to be saved
/// together.
pub type Changes = Vec<(String, Arc<Feed>)>;

/// Turns built files into served `Feed`s, keeping each file's validators: Last-Modified
/// moves only when the bytes change, across restarts too.
pub struct Publisher {
    /// Validators of every file built so far, by file name; mirrors the store's copy.
    validators: HashMap<String, FeedState>,
    /// Files whose bytes the store holds beside their validators.
    saved: HashSet<String>,
}

impl Publisher {
    /// A publisher that knows the validators and saved files the store holds.
    pub fn load(store: &Store) -> Result<Publisher, StoreError> {
        let mut validators = HashMap::new();
        let mut saved = HashSet::new();
        for (name, state, has_bytes) in store.feed_states()? {
            if has_bytes {
                saved.insert(name.clone());
            }
            validators.insert(name, state);
        }
        Ok(Publisher { validators, saved })
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
        let items = section_items(store, section, now)?;
        Ok(build::section_feeds(&config.site, section, &items)
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
            .map(|built| self.wrap(built, crate::config::DEFAULT_MAX_AGE, now, old, changed))
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
        let unsaved = previous != Some(&state) || !self.saved.contains(&built.name);
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
        if unsaved {
            changed.push((built.name.clone(), feed.clone()));
        }
        (built.name, feed)
    }

    /// Persists `changed`; only then does this publisher remember them, so a failed save
    /// is retried by the next build.
    pub fn save(&mut self, store: &Store, changed: Changes) -> Result<(), StoreError> {
        let saved: Vec<SavedFeed> = changed
            .into_iter()
            .map(|(name, feed)| SavedFeed {
                name,
                state: FeedState {
                    hash: feed.hash.clone(),
                    last_modified: feed.last_modified_secs(),
                },
                content_type: header_text(&feed.content_type),
                browser_content_type: feed.browser_content_type.as_ref().map(header_text),
                identity: feed.variant(Coding::Identity).body.clone(),
                gzip: feed.variant(Coding::Gzip).body.clone(),
                brotli: feed.variant(Coding::Brotli).body.clone(),
            })
            .collect();
        store.save_feeds(&saved)?;
        for feed in saved {
            self.saved.insert(feed.name.clone());
            self.validators.insert(feed.name, feed.state);
        }
        Ok(())
    }

    /// Section feeds built once (their validators persist in the store, so this survives
    /// restarts) whose section is no longer in the configuration. A disabled section is
    /// still there: its feeds are merely off, 404, and may come back.
    pub fn gone(&self, config: &Config) -> HashSet<String> {
        self.validators
            .keys()
            .filter(|name| section_slug(name).is_some_and(|slug| config.section(slug).is_none()))
            .cloned()
            .collect()
    }
}

/// The items of `section`'s feed at `now`: its newest live articles, as the section's
/// included sections, tag filters and limit select them.
pub fn section_items(
    store: &Store,
    section: &Section,
    now: DateTime<Utc>,
) -> Result<Vec<FeedItem>, StoreError> {
    let sections = section.included_sections();
    store.newest(&FeedQuery {
        sections: &sections,
        tags: &section.tags,
        exclude_tags: &section.exclude_tags,
        limit: section.limit,
        now,
    })
}

/// The slug of a section feed's file name (`world` of `world.rss`); `None` for site files.
fn section_slug(name: &str) -> Option<&str> {
    Format::of_file(name)?;
    name.rsplit_once('.').map(|(slug, _)| slug)
}

fn header_text(value: &HeaderValue) -> String {
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

/// The files the last run published, as saved in the store, to serve until the first
/// build replaces them: those `config` still publishes (of enabled sections, and the site
/// files), with its `max_age`. Nothing is compressed again, so this costs a read of the
/// bytes and no more.
pub fn restore(store: &Store, config: &Config) -> Result<HashMap<String, Arc<Feed>>, StoreError> {
    let mut feeds = HashMap::new();
    for saved in store.saved_feeds()? {
        let max_age = if let Some(slug) = section_slug(&saved.name) {
            match config.section(slug) {
                Some(section) if section.enabled => section.max_age,
                _ => continue,
            }
        } else if [build::opml::FILE_NAME, build::xsl::FILE_NAME].contains(&saved.name.as_str()) {
            crate::config::DEFAULT_MAX_AGE
        } else {
            continue;
        };
        let content_type = HeaderValue::from_str(&saved.content_type);
        let browser = saved
            .browser_content_type
            .as_deref()
            .map(HeaderValue::from_str)
            .transpose();
        let (Ok(content_type), Ok(browser)) = (content_type, browser) else {
            tracing::warn!(file = %saved.name, "saved feed has a bad content type; not restored");
            continue;
        };
        let feed = Feed::restore(
            &saved.state.hash,
            [saved.identity, saved.gzip, saved.brotli],
            content_type,
            browser,
            max_age,
            saved.state.last_modified,
        );
        feeds.insert(saved.name, Arc::new(feed));
    }
    Ok(feeds)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn restore_gives_back_what_was_published_as_the_configuration_now_says() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut config =
            Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds")).unwrap();
        let published =
            everything(&store, &config, "2026-01-01T00:00:00Z".parse().unwrap()).unwrap();

        let restored = restore(&store, &config).unwrap();
        assert_eq!(restored.len(), published.len());
        for (name, feed) in &published {
            let back = &restored[name];
            for coding in Coding::ALL {
                assert_eq!(
                    back.variant(coding).body,
                    feed.variant(coding).body,
                    "{name}"
                );
                assert_eq!(
                    back.variant(coding).etag,
                    feed.variant(coding).etag,
                    "{name}"
                );
            }
            assert_eq!(
                back.last_modified_header, feed.last_modified_header,
                "{name}"
            );
            assert_eq!(back.content_type, feed.content_type, "{name}");
            assert_eq!(back.vary(), feed.vary(), "{name}");
        }

        config.sections[0].enabled = false;
        config.sections[1].max_age = 7;
        let (off, edited) = (&config.sections[0], &config.sections[1]);
        let restored = restore(&store, &config).unwrap();
        for format in Format::ALL {
            assert!(!restored.contains_key(&format.file_name(off)));
            assert_eq!(restored[&format.file_name(edited)].max_age, 7);
        }
    }
}
