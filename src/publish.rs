//! Built bytes in, catalog `Feed`s out: Last-Modified from validators kept in the store
//! (it moves only when the bytes change, see `stamp`), compressed variants reused when the
//! bytes did not change. The scheduler and `pressfeed build --out` both publish through
//! here, so an export carries exactly the bytes and headers the server serves. Nothing
//! about when.
//!
//! A feed's bytes, in every coding, are saved in the store in the transaction of its
//! validators, so they never disagree, and `restore` serves them after a restart before
//! anything is built. SQLite rather than files: one atomic commit per build whatever the
//! number of feeds, no fsync per file (WAL with `synchronous = NORMAL` survives a crash of
//! the process), and no second place that could hold other bytes than the validators say.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use http::HeaderValue;

use crate::build::feeds_page::{self, TopKeys};
use crate::build::{self, BuiltFeed, Format, preview};
use crate::catalog::{Coding, Feed, Snapshot};
use crate::config::{Config, Section};
use crate::digest::content_hash;
use crate::dimension::Dimension;
use crate::item::FeedItem;
use crate::partner::{self, Problem};
use crate::store::{FeedQuery, FeedState, SavedFeed, Span, Store, StoreError};

/// Files whose bytes changed in one build (or are not in the store yet), to be saved
/// together.
pub type Changes = Files;

/// Served files by name.
pub type Files = Vec<(String, Arc<Feed>)>;

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

    /// Builds `section`'s feeds, and its partners' (see `partner`), at `now` and wraps
    /// each for serving; with them, the problems found in making the partners' feeds.
    pub fn section(
        &self,
        store: &Store,
        config: &Config,
        section: &Section,
        now: DateTime<Utc>,
        old: &Snapshot,
        changed: &mut Changes,
    ) -> Result<(Files, Vec<Problem>), StoreError> {
        let site = &config.site;
        let items = section_items(store, section, partner::items_to_read(site, section), now)?;
        let public = &items[..items.len().min(section.limit)];
        let partners = partner::feeds(site, section, &items, now);
        let feeds = (build::section_feeds(site, section, public).into_iter())
            .chain(partners.files)
            .map(|built| self.wrap(built, section.max_age, now, old, changed))
            .collect();
        Ok((feeds, partners.problems))
    }

    /// The site's feeds page, OPML list and stylesheet, wrapped for serving. They
    /// change with the configuration and `top`; caches may keep them as long as a feed.
    pub fn site_files(
        &self,
        config: &Config,
        top: &TopKeys,
        now: DateTime<Utc>,
        old: &Snapshot,
        changed: &mut Changes,
    ) -> Vec<(String, Arc<Feed>)> {
        build::site_files(&config.site, &config.sections, top)
            .into_iter()
            .map(|built| self.wrap(built, crate::config::DEFAULT_MAX_AGE, now, old, changed))
            .collect()
    }

    /// One built file as served, its validators stamped at `now` (see `stamp`).
    fn wrap(
        &self,
        built: BuiltFeed,
        max_age: u32,
        now: DateTime<Utc>,
        old: &Snapshot,
        changed: &mut Changes,
    ) -> (String, Arc<Feed>) {
        let name = built.name.clone();
        let previous = self.validators.get(&name);
        let state = stamp(previous, content_hash(&built.bytes), now.timestamp());
        let unsaved = previous != Some(&state) || !self.saved.contains(&name);
        let feed = match old.feeds.get(&name) {
            // Same bytes: reuse the compressed variants.
            Some(feed) if feed.state.hash == state.hash => {
                if feed.max_age == max_age && feed.state == state {
                    feed.clone()
                } else {
                    Arc::new(feed.with_headers(state, max_age))
                }
            }
            _ => Arc::new(served(built, state, max_age)),
        };
        if unsaved {
            changed.push((name.clone(), feed.clone()));
        }
        (name, feed)
    }

    /// Persists `changed`, stamped at the unix second `now` gives; only then does this
    /// publisher remember them, so a failed save is retried by the next build. The
    /// validators are agreed in the store (`Store::save_feeds`): when another process
    /// sharing it saved the same bytes first, its Last-Modified is the one served, so every
    /// replica answers a conditional request alike. Returns those files, with the
    /// validators agreed, to serve in place of the ones built.
    ///
    /// `now` is read when the store is ours, not when the build began: another replica may
    /// have stamped the same bytes in between, at a second later than this build's start,
    /// and `stamp` would take that stamp for one the clock has not reached (a clock set
    /// back) and stamp the bytes again, earlier, so the replicas would disagree.
    ///
    /// `built_from` is the store's change counter as read before the build read the
    /// articles: bytes saved from a later read are not replaced by these.
    pub fn save(
        &mut self,
        store: &Store,
        changed: Changes,
        built_from: i64,
        now: impl Fn() -> i64,
    ) -> Result<Changes, StoreError> {
        let mut saved: Vec<SavedFeed> = changed
            .iter()
            .map(|(name, feed)| SavedFeed {
                name: name.clone(),
                state: feed.state.clone(),
                content_type: header_text(&feed.content_type),
                identity: feed.variant(Coding::Identity).body.clone(),
                gzip: feed.variant(Coding::Gzip).body.clone(),
                brotli: feed.variant(Coding::Brotli).body.clone(),
                built_from,
            })
            .collect();
        let validators = &self.validators;
        store.save_feeds(&mut saved, &|stored, feed| match stored {
            // Another process saved these bytes since this one last looked: its stamp is
            // everyone's, whatever this machine's clock says of it (clocks of machines
            // differ by a little; a stamp from this one's future is no clock set back).
            Some(stored)
                if stored.hash == feed.state.hash && validators.get(&feed.name) != Some(stored) =>
            {
                stored.clone()
            }
            _ => stamp(stored, feed.state.hash.clone(), now()),
        })?;
        let mut adopted = Changes::new();
        for ((name, built), feed) in changed.into_iter().zip(saved) {
            if feed.state != built.state {
                let served = Arc::new(built.with_headers(feed.state.clone(), built.max_age));
                adopted.push((name.clone(), served));
            }
            self.saved.insert(name.clone());
            self.validators.insert(name, feed.state);
        }
        Ok(adopted)
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

/// Built bytes as served with the validators `state`: compressed, every header made.
pub(crate) fn served(built: BuiltFeed, state: FeedState, max_age: u32) -> Feed {
    let feed = Feed::new(built.bytes, state, built.content_type, max_age);
    if preview::has_preview(&built.name) {
        feed.with_preview()
    } else {
        feed
    }
}

/// The validators of a file whose bytes hash to `hash` at the unix second `now`, after
/// `previous`. Last-Modified moves only when the bytes change, and then to `now`: never
/// later than the clock, as RFC 9110 §8.8.2.1 requires ("An origin server with a clock
/// ... MUST NOT generate a Last-Modified date that is later than the server's time of
/// message origination"). A stamp the clock has not reached (it was set back) is replaced
/// by `now` too, even for the same bytes.
///
/// HTTP dates have whole seconds: when a change is stamped with a second that earlier
/// bytes of the file already carried (two changes in one second), or an earlier one (a
/// clock set back), a client's `If-Modified-Since` cannot say which bytes it holds.
/// `ambiguous_until` keeps the newest second stamped so far until a change is stamped
/// after it; meanwhile only `If-None-Match` gets a 304.
pub(crate) fn stamp(previous: Option<&FeedState>, hash: String, now: i64) -> FeedState {
    let Some(previous) = previous else {
        return FeedState {
            hash,
            last_modified: now,
            ambiguous_until: None,
        };
    };
    if previous.hash == hash && previous.last_modified <= now {
        return previous.clone();
    }
    let newest = previous
        .ambiguous_until
        .map_or(previous.last_modified, |until| {
            until.max(previous.last_modified)
        });
    FeedState {
        hash,
        last_modified: now,
        ambiguous_until: (now <= newest).then_some(newest),
    }
}

/// The items of `section`'s feeds at `now`: its newest `limit` live articles, as the
/// section's included sections and tag filters select them.
pub fn section_items(
    store: &Store,
    section: &Section,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<FeedItem>, StoreError> {
    items_in(store, section, limit, Span::live(now))
}

/// At most `limit` of `section`'s articles in `span` (a month's, for an archive), as the
/// section's included sections and tag filters select them.
pub(crate) fn items_in(
    store: &Store,
    section: &Section,
    limit: usize,
    span: Span,
) -> Result<Vec<FeedItem>, StoreError> {
    let sections = section.included_sections();
    store.newest(&FeedQuery {
        sections: &sections,
        tags: &section.tags,
        exclude_tags: &section.exclude_tags,
        limit,
        span,
    })
}

/// The slug of the section whose file `name` is (`world` of `world.rss`, of its preview
/// `world.rss.html` and of its partner feed `partners/msn/world.rss`); `None` for site
/// files.
pub(crate) fn section_slug(name: &str) -> Option<&str> {
    let feed = preview::feed_of(name).unwrap_or(name);
    Format::of_file(feed)?;
    let feed = match feed.strip_prefix("partners/") {
        Some(partner_feed) => partner_feed.split_once('/')?.1,
        None => feed,
    };
    feed.rsplit_once('.').map(|(slug, _)| slug)
}

/// The `max_age` of the file `name` if `config` publishes it (a feed of an enabled section
/// or of one of its partners, or a site file); `None` for any other name. Whether it is
/// built yet does not matter.
pub fn max_age_of(config: &Config, name: &str) -> Option<u32> {
    match section_slug(name) {
        Some(slug) => config
            .section(slug)
            .filter(|section| section.enabled)
            .filter(|section| {
                let names = build::section_file_names(&config.site, section);
                names.iter().any(|published| published == name)
            })
            .map(|section| section.max_age),
        None => build::SITE_FILES
            .contains(&name)
            .then_some(crate::config::DEFAULT_MAX_AGE),
    }
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
        let Some(max_age) = max_age_of(config, &saved.name) else {
            continue;
        };
        let Ok(content_type) = HeaderValue::from_str(&saved.content_type) else {
            tracing::warn!(file = %saved.name, "saved feed has a bad content type; not restored");
            continue;
        };
        let feed = Feed::restore(
            saved.state,
            [saved.identity, saved.gzip, saved.brotli],
            content_type,
            preview::has_preview(&saved.name),
            max_age,
        );
        feeds.insert(saved.name, Arc::new(feed));
    }
    Ok(feeds)
}

/// The most used tags and authors for the feeds page, of the dimensions `[feeds]` turns
/// on (the page links to their feeds); none are read for the others.
pub fn top_keys(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<TopKeys, StoreError> {
    let on = |dimension| {
        (config.site.feeds.as_ref()).is_some_and(|feeds| feeds.dimensions.contains(&dimension))
    };
    let read = |dimension| -> Result<_, StoreError> {
        if on(dimension) {
            store.top_keys(dimension, feeds_page::TOP, now)
        } else {
            Ok(Vec::new())
        }
    };
    Ok(TopKeys {
        tags: read(Dimension::Tag)?,
        authors: read(Dimension::Author)?,
    })
}

/// The lint's problems of `config`'s partner feeds as they would be built at `now`, by the
/// same build the scheduler runs (nothing is saved), with those of the configuration.
pub fn lint(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<Problem>, StoreError> {
    let mut problems = partner::config_problems(config);
    for section in config.sections.iter().filter(|s| s.enabled) {
        let site = &config.site;
        if site.partners.of_section(&section.slug).next().is_none() {
            continue;
        }
        let items = section_items(store, section, partner::items_to_read(site, section), now)?;
        problems.extend(partner::feeds(site, section, &items, now).problems);
    }
    Ok(problems)
}

/// Every file `serve` would publish at `now`, built from scratch, with validators saved
/// to the store as the scheduler saves them. Sorted by name.
pub fn everything(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Arc<Feed>)>, StoreError> {
    let built_from = store.change_counter()?;
    let mut publisher = Publisher::load(store)?;
    let old = Snapshot::default();
    let mut changed = Changes::new();
    let mut files = std::collections::BTreeMap::new();
    for section in config.sections.iter().filter(|s| s.enabled) {
        let (feeds, _) = publisher.section(store, config, section, now, &old, &mut changed)?;
        files.extend(feeds);
    }
    let top = top_keys(store, config, now)?;
    files.extend(publisher.site_files(config, &top, now, &old, &mut changed));
    files.extend(publisher.save(store, changed, built_from, || now.timestamp())?);
    Ok(files.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::{article, prepared};
    use proptest::prelude::*;
    use std::path::Path;

    fn state(hash: &str, last_modified: i64, ambiguous_until: Option<i64>) -> FeedState {
        FeedState {
            hash: hash.to_owned(),
            last_modified,
            ambiguous_until,
        }
    }

    #[test]
    fn a_stamp_follows_the_clock_and_remembers_an_ambiguous_second() {
        type Case<'a> = (Option<FeedState>, &'a str, i64, FeedState, &'a str);
        let cases: &[Case] = &[
            (None, "a", 100, state("a", 100, None), "first build"),
            (
                Some(state("a", 100, None)),
                "a",
                105,
                state("a", 100, None),
                "the same bytes keep their stamp",
            ),
            (
                Some(state("a", 100, None)),
                "b",
                105,
                state("b", 105, None),
                "a change in a later second",
            ),
            (
                Some(state("a", 100, None)),
                "b",
                100,
                state("b", 100, Some(100)),
                "a second change within the second",
            ),
            (
                Some(state("b", 100, Some(100))),
                "b",
                101,
                state("b", 100, Some(100)),
                "the same bytes keep the ambiguity",
            ),
            (
                Some(state("b", 100, Some(100))),
                "c",
                101,
                state("c", 101, None),
                "a change in a later second clears it",
            ),
            (
                Some(state("a", 100, None)),
                "b",
                90,
                state("b", 90, Some(100)),
                "clock set back: stamped by it, ambiguous",
            ),
            (
                Some(state("b", 90, Some(100))),
                "c",
                100,
                state("c", 100, Some(100)),
                "not yet past the newest second stamped",
            ),
            (
                Some(state("b", 90, Some(100))),
                "c",
                101,
                state("c", 101, None),
                "past it",
            ),
            (
                Some(state("a", 100, None)),
                "a",
                90,
                state("a", 90, Some(100)),
                "a stamp the clock has not reached is replaced",
            ),
        ];
        for (previous, hash, now, expected, why) in cases {
            let got = stamp(previous.as_ref(), (*hash).to_owned(), *now);
            assert_eq!(&got, expected, "{why}");
        }
    }

    proptest! {
        /// Whatever the clock does and however often the bytes change, Last-Modified is
        /// never later than the clock, and a client holding any earlier bytes never gets a
        /// 304 for other bytes by sending the Last-Modified it was given.
        #[test]
        fn if_modified_since_never_hides_new_bytes(
            steps in proptest::collection::vec((-3i64..=3, 0u8..3), 1..30)
        ) {
            let mut now = 1_000;
            let mut served: Vec<FeedState> = Vec::new();
            for (moved, bytes) in steps {
                now += moved;
                let current = stamp(served.last(), bytes.to_string(), now);
                prop_assert!(current.last_modified <= now);
                for earlier in served.iter().filter(|e| e.hash != current.hash) {
                    let not_modified = current.last_modified <= earlier.last_modified
                        && current.ambiguous_until.is_none_or(|until| until < earlier.last_modified);
                    prop_assert!(!not_modified, "{earlier:?} then {current:?}");
                }
                served.push(current);
            }
        }
    }

    #[test]
    fn an_ambiguous_second_is_saved_with_the_feed_and_cleared_by_a_later_change() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let config = Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds")).unwrap();
        let second: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let world = |store: &Store| {
            store
                .feed_states()
                .unwrap()
                .into_iter()
                .find(|(name, ..)| name == "world.rss")
                .map(|(_, state, _)| state)
                .unwrap()
        };
        let add = |id: &str| {
            let published = "2025-12-01T00:00:00Z";
            let new = article(id, &["world"], published, &[], "published");
            store.upsert(&prepared([new])).unwrap();
        };

        add("first");
        everything(&store, &config, second).unwrap();
        assert_eq!(world(&store).ambiguous_until, None);
        // New bytes in the same second, each build by a publisher loaded from the store.
        add("second");
        let half = second + chrono::TimeDelta::milliseconds(500);
        everything(&store, &config, half).unwrap();
        let saved = world(&store);
        assert_eq!(saved.last_modified, second.timestamp());
        assert_eq!(saved.ambiguous_until, Some(second.timestamp()));
        let restored = restore(&store, &config).unwrap();
        assert_eq!(
            restored["world.rss"].ambiguous_until(),
            Some(restored["world.rss"].last_modified)
        );

        add("third");
        let later = second + chrono::TimeDelta::seconds(1);
        everything(&store, &config, later).unwrap();
        let cleared = world(&store);
        assert_ne!(cleared.hash, saved.hash);
        assert_eq!(cleared.last_modified, later.timestamp());
        assert_eq!(cleared.ambiguous_until, None);
    }

    /// Two replicas build the same new bytes; the one that began a second later saves
    /// first. The other saves after it, and serves that stamp: before `save` read the clock
    /// at the save, it stamped with its build's start, earlier than the stored stamp, took
    /// that for a clock set back and stamped the bytes again, so the two disagreed.
    #[test]
    fn bytes_another_replica_stamped_first_keep_its_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let config = Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds")).unwrap();
        let world = config.section("world").unwrap();
        let start: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
        let at = |seconds: i64| start + chrono::TimeDelta::seconds(seconds);
        let new = article(
            "first",
            &["world"],
            "2025-12-01T00:00:00Z",
            &[],
            "published",
        );
        store.upsert(&prepared([new])).unwrap();
        let old = Snapshot::default();
        let mut slow = Publisher::load(&store).unwrap();
        let mut fast = Publisher::load(&store).unwrap();

        let mut slow_changes = Changes::new();
        let slow_built = (slow.section(&store, &config, world, at(0), &old, &mut slow_changes))
            .unwrap()
            .0;
        let mut fast_changes = Changes::new();
        let fast_built = (fast.section(&store, &config, world, at(1), &old, &mut fast_changes))
            .unwrap()
            .0;
        let rss = |feeds: &[(String, Arc<Feed>)]| {
            (feeds.iter())
                .find(|(name, _)| name == "world.rss")
                .map(|(_, feed)| feed.state.clone())
        };
        let fast_saved = fast
            .save(&store, fast_changes, 0, || at(1).timestamp())
            .unwrap();
        assert!(fast_saved.is_empty());
        let fast_state = rss(&fast_built).unwrap();
        assert_eq!(fast_state.last_modified, at(1).timestamp());
        // The clock reads 2 when `slow` gets the store, after `fast`'s save.
        let slow_saved = slow
            .save(&store, slow_changes, 0, || at(2).timestamp())
            .unwrap();
        assert_eq!(
            rss(&slow_built).unwrap().hash,
            fast_state.hash,
            "same bytes"
        );
        assert_eq!(
            rss(&slow_saved),
            Some(fast_state.clone()),
            "the slow replica serves the stamp saved first"
        );
        let stored = (store.feed_states().unwrap().into_iter())
            .find(|(name, ..)| name == "world.rss")
            .map(|(_, state, _)| state);
        assert_eq!(stored, Some(fast_state));
    }

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
