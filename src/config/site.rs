//! `feeds/site.toml`: the site's title, links, authorship, where feeds are published and
//! the server-only tables (`[http]`, `[tls]`, `[[sources]]`, listen address, data directory);
//! the feeds built on demand (`[feeds]`).

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use toml::Spanned;
use toml::de::DeValue;

use super::bucket::Bucket;
use super::feeds::OnDemand;
use super::file::TomlFile;
use super::http::Limits;
use super::partner::Partners;
use super::source::{self, Source};
use super::tls::Tls;
use super::{ConfigError, read_text};
use crate::link::HttpUrl;

/// The fields without a default, all told when missing: serde names only the first.
const REQUIRED: [&str; 4] = ["title", "url", "feed_base_url", "default_author"];

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
    /// A PostgreSQL store shared by every replica, in place of SQLite in `data_dir`, unless
    /// `--store` or `PRESSFEED_STORE` names another.
    #[serde(default)]
    pub store: Option<StoreUrl>,
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
    /// The `[tls]` table: HTTPS on the listener; plain HTTP when not set.
    #[serde(default)]
    pub tls: Option<Tls>,
    /// The `[feeds]` table: feeds built on demand (the whole site, tags, authors); off
    /// without it.
    #[serde(default)]
    pub feeds: Option<OnDemand>,
    /// The `[partners]` table: distribution partners' feeds of sections, and Feedly's
    /// settings for the public feeds.
    #[serde(default)]
    pub partners: Partners,
    /// Where the scheduler pulls articles from (`[[sources]]`); pushing needs none.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// The `[publish]` table: a bucket every changed feed file is copied to.
    #[serde(default)]
    pub publish: Option<Bucket>,
    /// Whether WordPress's feed URLs (`/feed/`, `/category/{slug}/feed/` ...) answer 301 to
    /// the feeds that take their place, for a site that moved from WordPress.
    #[serde(default)]
    pub wordpress_paths: bool,
}

impl Site {
    /// The data directory: `--data` if given, else the site's, relative to the feeds
    /// directory `feeds`.
    pub fn data_dir(&self, feeds: &Path, override_dir: Option<&Path>) -> PathBuf {
        override_dir
            .map(Path::to_owned)
            .unwrap_or_else(|| feeds.join(&self.data_dir))
    }

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

    /// Whether `other` makes the same section feeds: the fields only the server reads
    /// (where it listens, its store, its seed, its HTTP limits and TLS, its sources, its
    /// bucket, its redirects) and the feeds built on demand (`feeds`) set aside. Any other
    /// field, including one added later, counts.
    pub fn same_feeds_as(&self, other: &Site) -> bool {
        let feeds_only = |site: &Site| Site {
            listen: String::new(),
            data_dir: PathBuf::new(),
            store: None,
            seed_articles: None,
            http: Limits::default(),
            tls: None,
            sources: Vec::new(),
            publish: None,
            wordpress_paths: false,
            feeds: None,
            ..site.clone()
        };
        feeds_only(self) == feeds_only(other)
    }
}

/// `store` of site.toml: a `postgres://` URL with no password in it, as a file kept in
/// version control must not hold one (it comes from `PRESSFEED_STORE_PASSWORD` or
/// `PRESSFEED_STORE_PASSWORD_FILE`). The store reads it whole when it connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrl(String);

impl StoreUrl {
    /// The URL as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for StoreUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<StoreUrl, D::Error> {
        use serde::de::Error;
        let text = String::deserialize(d)?;
        let url = url::Url::parse(&text)
            .map_err(|e| D::Error::custom(format!("{text:?} is not a URL: {e}")))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(D::Error::custom(format!(
                "{text:?}: only PostgreSQL stores are named by URL (postgres://USER@HOST/DATABASE); \
                 leave `store` out for SQLite in data_dir"
            )));
        }
        if url.password().is_some() {
            return Err(D::Error::custom(
                "the URL holds a password: set PRESSFEED_STORE_PASSWORD or \
                 PRESSFEED_STORE_PASSWORD_FILE instead, so it stays out of files",
            ));
        }
        Ok(StoreUrl(text))
    }
}

/// Reads `site.toml`, telling every problem in it.
pub(super) fn load_site(path: &Path) -> Result<Site, ConfigError> {
    let text = read_text(path)?;
    let mut file = TomlFile::parse(path, &text)?;
    file.require(&REQUIRED);
    for (field, span, message) in missing_in_sources(&file) {
        file.report(field, span, message);
    }
    let site = file.deserialize::<Site>();
    // Told after `deserialize`, which leaves the rules of an entry untold when something in
    // it was told before: a name used twice says nothing about them.
    for (field, span, message) in duplicate_sources(&file) {
        file.report(field, span, message);
    }
    file.finish(site)
}

/// What keeps `site`, loaded from the `site.toml` at `path`, from working on this machine
/// now: its sources' unmet needs (see `Source::unmet`) and TLS files it cannot read (see
/// `Tls::unreadable`), each told at its field's line.
pub(super) fn check_environment(
    path: &Path,
    site: &Site,
    feeds_dir: &Path,
) -> Result<(), ConfigError> {
    let text = read_text(path)?;
    let mut file = TomlFile::parse(path, &text)?;
    let mut found: Vec<Found> = entries(&file)
        .zip(&site.sources)
        .flat_map(|((i, entry), source)| {
            let unmet = source.unmet(feeds_dir).into_iter();
            unmet.filter_map(move |(field, message)| {
                let value = entry.get_ref().get(field)?;
                Some((format!("sources[{i}].{field}"), value.span(), message))
            })
        })
        .collect();
    if let (Some(tls), Some(table)) = (&site.tls, file.get("tls")) {
        for (field, message) in tls.unreadable(feeds_dir) {
            if let Some(value) = table.get_ref().get(field) {
                found.push((format!("tls.{field}"), value.span(), message));
            }
        }
    }
    for (field, span, message) in found {
        file.report(field, span, message);
    }
    file.finish(Some(()))
}

/// A problem found in the text: (field, where, message).
type Found = (String, Range<usize>, String);

/// The `[[sources]]` entries as written, with their index.
fn entries<'f, 'a>(
    file: &'f TomlFile<'a>,
) -> impl Iterator<Item = (usize, &'f Spanned<DeValue<'a>>)> {
    let entries = file.get("sources").and_then(|s| s.get_ref().as_array());
    entries.into_iter().flatten().enumerate()
}

/// The required fields each entry lacks: serde names only the first, then takes the entry
/// out whole.
fn missing_in_sources(file: &TomlFile<'_>) -> Vec<Found> {
    entries(file)
        .flat_map(|(i, entry)| {
            let lacks = source::REQUIRED
                .into_iter()
                .filter(|field| entry.get_ref().get(*field).is_none());
            lacks.map(move |field| {
                (
                    format!("sources[{i}].{field}"),
                    entry.span(),
                    "required".into(),
                )
            })
        })
        .collect()
}

/// Names used twice, as written whatever else is wrong: two sources with one name would mix
/// their articles and state.
fn duplicate_sources(file: &TomlFile<'_>) -> Vec<Found> {
    let mut names = HashSet::new();
    entries(file)
        .filter_map(|(i, entry)| {
            let name = entry.get_ref().get("name")?;
            let text = name.get_ref().as_str()?;
            (!names.insert(text)).then(|| {
                let message =
                    format!("{text:?}: another source has this name; names must be unique");
                (format!("sources[{i}].name"), name.span(), message)
            })
        })
        .collect()
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

    use super::{REQUIRED, Site, load_site};
    use crate::config::{Config, ConfigError};

    /// Every problem `load_site` tells of a site.toml holding `text`.
    fn problems(text: &str) -> Vec<crate::config::Problem> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.toml");
        std::fs::write(&path, text).unwrap();
        let ConfigError(problems) = load_site(&path).unwrap_err();
        problems
    }

    /// The field and line of each problem.
    fn told(problems: &[crate::config::Problem]) -> Vec<(&str, Option<usize>)> {
        problems
            .iter()
            .map(|p| (p.field.as_deref().unwrap(), p.line))
            .collect()
    }
    #[test]
    fn every_mistake_of_the_site_and_its_sources_is_told_in_one_run() {
        let text = r#"title = "Asianlite"
url = "https://asianlite.example/"
feed_base_url = "feeds/"
colour = "red"
[http]
idle_timeout = 0

[[sources]]
name = "Newsroom"
kind = "wordpress"
url = "https://user:secret@wp.example/"
schedule = "*/5 * * * *"
username_env = "WP-USER"
tags = ["x"]
[sources.categories]
world = "World News"

[[sources]]
name = "wire"
kind = "json"
username_env = "WIRE_USER"

[[sources]]
name = "wire"
kind = "directory"
path = "incoming"
"#;
        let problems = problems(text);
        let told = told(&problems);
        assert_eq!(
            told,
            [
                ("default_author", None),
                ("feed_base_url", Some(3)),
                ("colour", Some(4)),
                ("http.idle_timeout", Some(6)),
                ("sources[0].name", Some(9)),
                ("sources[0].url", Some(11)),
                ("sources[0].schedule", Some(12)),
                ("sources[0].username_env", Some(13)),
                ("sources[0].tags", Some(14)),
                ("sources[0].categories.world", Some(16)),
                ("sources[1]", Some(18)),
                ("sources[2].name", Some(24)),
            ],
            "{problems:#?}"
        );
        // Both rules between the second entry's fields that it breaks.
        assert_eq!(
            problems[10].message,
            "url: a json source needs a url or a path; password_env: required with username_env"
        );
    }

    #[test]
    fn the_required_fields_are_those_without_a_default() {
        let only = "title = \"T\"\nurl = \"https://x.example/\"\n\
                    feed_base_url = \"https://x.example/f/\"\ndefault_author = \"D\"\n";
        let parse = |text: &str| crate::config::parse_toml::<Site>(Path::new("site.toml"), text);
        assert!(parse(only).is_ok());
        for (line, field) in only.lines().zip(REQUIRED) {
            let ConfigError(problems) = parse(&only.replace(line, "")).unwrap_err();
            assert_eq!(problems[0].field.as_deref(), Some(field), "{problems:?}");
            assert_eq!(problems[0].message, "required");
        }
    }

    #[test]
    fn an_entry_is_told_every_required_field_it_lacks() {
        let text = "title = \"T\"\nurl = \"https://x.example/\"\n\
                    feed_base_url = \"https://x.example/f/\"\ndefault_author = \"D\"\n\
                    [[sources]]\npath = \"a\"\n";
        let problems = problems(text);
        let told = told(&problems);
        assert_eq!(
            told,
            [("sources[0].name", Some(5)), ("sources[0].kind", Some(5))]
        );
    }

    #[test]
    fn a_store_url_is_postgres_and_has_no_password() {
        let site = |store: &str| {
            format!(
                "title = \"T\"\nurl = \"https://x.example/\"\n\
                 feed_base_url = \"https://x.example/f/\"\ndefault_author = \"D\"\n\
                 store = \"{store}\"\n"
            )
        };
        let parse = |text: &str| crate::config::parse_toml::<Site>(Path::new("site.toml"), text);
        let good = parse(&site("postgres://feeds@db.internal:5432/news")).unwrap();
        assert_eq!(
            good.store.unwrap().as_str(),
            "postgres://feeds@db.internal:5432/news"
        );
        for bad in [
            "postgres://feeds:secret@db/news",
            "mysql://db/news",
            "db/news",
        ] {
            let ConfigError(problems) = parse(&site(bad)).unwrap_err();
            assert_eq!(problems[0].field.as_deref(), Some("store"), "{bad}");
            assert!(!problems[0].message.contains("secret"), "{problems:?}");
        }
    }

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
