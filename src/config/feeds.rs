//! The `[feeds]` table of `site.toml`: the feeds built on demand, by dimension (the whole
//! site, each tag, each author), their items and caching, and the memory and build bounds
//! of serving them. Off while the table is absent. How they are built and served is
//! `ondemand`'s.

use serde::{Deserialize, Deserializer};

use super::in_range;
use super::section::{self, ContentMode, DEFAULT_LIMIT, DEFAULT_MAX_AGE};
use crate::dimension::Dimension;

/// 256 MiB: thousands of tag feeds in every coding, beside a server's own ~100 MB.
const DEFAULT_CACHE_BYTES: u64 = 256 << 20;
/// At least a few feeds; at most what a machine's memory could mean.
const MIN_CACHE_BYTES: u64 = 1 << 20;
const MAX_CACHE_BYTES: u64 = 1 << 40;
/// Cold builds at once per core when not set: a build is CPU (rendering and compressing),
/// so one per core keeps a crawler from taking more than the cores' share from section
/// rebuilds and warm requests.
const COLD_BUILDS_PER_CORE: usize = 1;

/// The `[feeds]` table. Every key is optional; the table itself turns the feeds on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OnDemand {
    /// Which feeds: `"all"` (`/feeds/all.rss`), `"tag"` (`/feeds/tag/<slug>.rss`),
    /// `"author"` (`/feeds/author/<slug>.rss`); all three when not set.
    #[serde(deserialize_with = "dimensions")]
    pub dimensions: Vec<Dimension>,
    /// The most items in each feed, newest first: 1 to 500, 50 when not set.
    #[serde(deserialize_with = "section::limit")]
    pub limit: usize,
    /// Seconds a cache may serve one without asking again, as a section's `max_age`.
    #[serde(deserialize_with = "section::max_age")]
    pub max_age: u32,
    /// `"full"` or `"summary"`, as a section's `content`.
    pub content: ContentMode,
    /// Bytes of built feeds kept in memory, every coding counted; the least recently used
    /// goes first. 256 MiB when not set.
    #[serde(deserialize_with = "cache_bytes")]
    pub cache_bytes: usize,
    /// Feeds built at once for requests that found none built (cold builds); past that the
    /// answer is 503 with `Retry-After`. One per core when not set.
    #[serde(deserialize_with = "cold_builds")]
    pub cold_builds: usize,
}

impl Default for OnDemand {
    fn default() -> Self {
        OnDemand {
            dimensions: Dimension::ALL.to_vec(),
            limit: DEFAULT_LIMIT,
            max_age: DEFAULT_MAX_AGE,
            content: ContentMode::default(),
            cache_bytes: DEFAULT_CACHE_BYTES as usize,
            cold_builds: COLD_BUILDS_PER_CORE
                * std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

impl OnDemand {
    /// Whether the feeds of `dimension` are served.
    pub fn serves(&self, dimension: Dimension) -> bool {
        self.dimensions.contains(&dimension)
    }
}

fn dimensions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Dimension>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    let mut dimensions = Vec::with_capacity(names.len());
    for name in names {
        let dimension = Dimension::named(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{name:?} is no dimension; use \"all\", \"tag\" or \"author\""
            ))
        })?;
        if !dimensions.contains(&dimension) {
            dimensions.push(dimension);
        }
    }
    Ok(dimensions)
}

fn cache_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    in_range(d, MIN_CACHE_BYTES, MAX_CACHE_BYTES, "bytes").map(|n| n as usize)
}

fn cold_builds<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    in_range(d, 1, 1024, "builds").map(|n| n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;

    use crate::config::{assert_told, test_site as site};

    #[test]
    fn off_unless_the_table_is_there_and_then_every_dimension() {
        assert_eq!(site("").unwrap().feeds, None);
        let on = site("[feeds]\n").unwrap().feeds.unwrap();
        assert_eq!(on, OnDemand::default());
        assert!(on.serves(Dimension::Tag) && on.serves(Dimension::All));
        let some = site("[feeds]\ndimensions = [\"tag\"]\nlimit = 5\ncontent = \"summary\"\n")
            .unwrap()
            .feeds
            .unwrap();
        assert_eq!(some.dimensions, [Dimension::Tag]);
        assert_eq!((some.limit, some.content), (5, ContentMode::Summary));
    }

    #[test]
    fn each_bad_key_is_told_with_its_field_and_line() {
        let text = "[feeds]\ndimensions = [\"tags\"]\nlimit = 0\ncache_bytes = 10\ncold_builds = 0\nmax_age = -1\nsize = 3\n";
        let ConfigError(problems) = site(text).unwrap_err();
        assert_told(
            &problems,
            &[
                ("feeds.dimensions", 6),
                ("feeds.limit", 7),
                ("feeds.cache_bytes", 8),
                ("feeds.cold_builds", 9),
                ("feeds.max_age", 10),
            ],
        );
        assert!(
            problems.iter().any(|p| p.message.contains("size")),
            "the unknown key: {problems:?}"
        );
    }
}
