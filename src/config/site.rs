//! `feeds/site.toml`: the site's title, links, authorship, where feeds are published and
//! the server-only tables (`[http]`, `[[sources]]`, listen address, data directory).

use std::path::PathBuf;

use serde::Deserialize;

use super::http::Limits;
use super::source::Source;
use crate::link::HttpUrl;

/// `feeds/site.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub(crate) title: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
    /// The publisher's home page.
    pub url: HttpUrl,
    /// Where the feeds are published; `<feed_base_url><slug>.rss` is a feed's self link.
    pub feed_base_url: HttpUrl,
    #[serde(default = "default_language")]
    pub(crate) language: String,
    /// Author of articles that name none.
    pub default_author: String,
    #[serde(default)]
    pub(crate) copyright: Option<String>,
    /// A square logo (JSON Feed icon, Atom logo, RSS image), ideally 512×512.
    #[serde(default)]
    pub logo: Option<HttpUrl>,
    /// A small icon (JSON Feed favicon, Atom icon), ideally 64×64.
    #[serde(default)]
    pub icon: Option<HttpUrl>,
    /// WebSub hubs announced in every feed.
    #[serde(default)]
    pub websub_hubs: Vec<HttpUrl>,
    /// The address `pressfeed serve` listens on unless `--listen` gives another;
    /// `127.0.0.1:8080` when not set.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The store's directory; relative paths are relative to the feeds directory.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Prefix of entry and feed ids, a `tag:` URI prefix (RFC 4151). Ids must never change once
    /// feeds are public, so this does not follow `url` when the site moves. Default:
    /// `tag:<host of url>,2000:`.
    #[serde(default)]
    pub id_prefix: Option<String>,
    /// NDJSON articles loaded into a new, empty store (the demo site's content).
    #[serde(default)]
    pub seed_articles: Option<PathBuf>,
    /// The `[http]` table: timeouts, the connection cap, the header size limit.
    #[serde(default)]
    pub http: Limits,
    /// Where the scheduler pulls articles from (`[[sources]]`); pushing needs none.
    #[serde(default)]
    pub sources: Vec<Source>,
}

impl Site {
    /// Borrowed when configured: it is asked for once per item of every feed built.
    pub fn id_prefix(&self) -> std::borrow::Cow<'_, str> {
        match &self.id_prefix {
            Some(prefix) => prefix.into(),
            None => format!(
                "tag:{},2000:",
                self.url.as_url().host_str().unwrap_or_default()
            )
            .into(),
        }
    }

    /// The public URL of the published feed file `file_name` (`top-news.rss`): the one
    /// place a feed's URL is made, for self links, OPML, WebSub topics and listings.
    pub fn feed_url(&self, file_name: &str) -> String {
        format!("{}{file_name}", self.feed_base_url)
    }

    /// Whether `other` makes the same feeds: the fields only the server reads (where it
    /// listens, its store, its seed, its HTTP limits, its sources) set aside. Any other
    /// field, including one added later, counts.
    pub fn same_feeds_as(&self, other: &Site) -> bool {
        let feeds_only = |site: &Site| Site {
            listen: String::new(),
            data_dir: PathBuf::new(),
            seed_articles: None,
            http: Limits::default(),
            sources: Vec::new(),
            ..site.clone()
        };
        feeds_only(self) == feeds_only(other)
    }
}

fn default_language() -> String {
    "en".into()
}
fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("../data")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    #[test]
    fn only_fields_that_feeds_show_change_the_feeds() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds");
        let site = Config::load(&dir).unwrap().site;
        let mut server_only = site.clone();
        server_only.listen = "0.0.0.0:1".into();
        server_only.http.max_connections = 1;
        server_only.sources.clear();
        assert!(site.same_feeds_as(&server_only));
        let mut retitled = site.clone();
        retitled.title += " (new)";
        assert!(!site.same_feeds_as(&retitled));
    }
}
