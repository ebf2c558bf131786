//! The site and its sections: `feeds/site.toml` and `feeds/sections/<slug>.toml`, loaded and
//! validated. Every problem is reported with its file and field; nothing here touches the store.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::http::Limits;
use crate::link::HttpUrl;
use crate::slug::Slug;
use crate::source::Source;

/// Items per feed when a section does not say.
const DEFAULT_LIMIT: usize = 50;
/// The most items a section may ask for; bigger feeds only slow readers down.
const MAX_LIMIT: usize = 500;
/// Seconds of max-age of a section that sets none, and of the OPML list and stylesheet.
pub(crate) const DEFAULT_MAX_AGE: u32 = 300;
/// A week: longer than that and readers would miss news for days after an outage.
const MAX_MAX_AGE: u32 = 7 * 24 * 3600;
const DEFAULT_SCHEDULE: &str = "0 */5 * * * *";

/// `feeds/site.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The publisher's home page.
    pub url: HttpUrl,
    /// Where the feeds are published; `<feed_base_url><slug>.rss` is a feed's self link.
    pub feed_base_url: HttpUrl,
    #[serde(default = "default_language")]
    pub language: String,
    /// Author of articles that name none.
    pub default_author: String,
    #[serde(default)]
    pub copyright: Option<String>,
    /// A square logo (JSON Feed icon, Atom logo, RSS image), ideally 512×512.
    #[serde(default)]
    pub logo: Option<HttpUrl>,
    /// A small icon (JSON Feed favicon, Atom icon), ideally 64×64.
    #[serde(default)]
    pub icon: Option<HttpUrl>,
    /// WebSub hubs announced in every feed.
    #[serde(default)]
    pub websub_hubs: Vec<HttpUrl>,
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

/// How much of the article a section's feed carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentMode {
    /// Summary and the full sanitized body (`content:encoded`, Atom `content`).
    #[default]
    Full,
    /// Summary only.
    Summary,
}

/// A cron expression as the `cron` crate reads it (6 or 7 fields, seconds first), kept with
/// its text so it can be written back as the admin typed it.
#[derive(Debug, Clone)]
pub struct Schedule {
    text: String,
    parsed: cron::Schedule,
}

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, String> {
        let fields = text.split_whitespace().count();
        if fields == 5 {
            return Err(format!(
                "{text:?} has 5 fields; pressfeed's cron has seconds first, e.g. \"0 {text}\""
            ));
        }
        let parsed = cron::Schedule::from_str(text)
            .map_err(|e| format!("{text:?} is not a cron expression ({e})"))?;
        Ok(Schedule {
            text: text.to_owned(),
            parsed,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first firing strictly after `after`.
    pub fn next_after(
        &self,
        after: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.parsed.after(&after).next()
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::parse(DEFAULT_SCHEDULE).expect("the default schedule parses")
    }
}

impl<'de> Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Schedule::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// `feeds/sections/<slug>.toml`: one feed (in every format) of the site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub slug: Slug,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The section's page on the site.
    pub link: HttpUrl,
    /// Article sections that feed this one; empty means just its own slug.
    #[serde(default)]
    pub include: Vec<Slug>,
    /// Only articles with at least one of these tags (case-insensitive); empty means all.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Articles with any of these tags are left out.
    #[serde(default)]
    pub exclude_tags: Vec<String>,
    #[serde(default = "default_limit")]
    pub limit: usize,
    #[serde(default)]
    pub content: ContentMode,
    #[serde(default)]
    pub schedule: Schedule,
    /// Seconds a cache may serve the feed without asking again.
    #[serde(default = "default_max_age")]
    pub max_age: u32,
    #[serde(default = "default_enabled")]
    pub enabled: bool,
}

fn default_limit() -> usize {
    DEFAULT_LIMIT
}
fn default_max_age() -> u32 {
    DEFAULT_MAX_AGE
}
fn default_enabled() -> bool {
    true
}

impl Section {
    /// The article sections this section collects.
    pub fn included_sections(&self) -> Vec<Slug> {
        if self.include.is_empty() {
            vec![self.slug.clone()]
        } else {
            self.include.clone()
        }
    }

    /// A section as the admin API receives it: the fields of a section file as a JSON
    /// object, held to the same rules as the file. The error names the field (`limit`,
    /// `include[0]`, or the unknown key) when the problem is one field's.
    pub fn from_json(value: serde_json::Value) -> Result<Section, (Option<String>, String)> {
        if !value.is_object() {
            return Err((
                None,
                "a section is a JSON object with the fields of a section file".into(),
            ));
        }
        let section: Section = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            // serde names a missing field at its parent; name the field itself.
            if let Some(rest) = message.strip_prefix("missing field `") {
                let name = rest.split('`').next().unwrap_or_default();
                return (Some(name.to_owned()), "required".to_owned());
            }
            // An unknown key is reported at its parent too, with its name in backticks.
            if let Some(rest) = message.strip_prefix("unknown field `") {
                let name = rest.split('`').next().unwrap_or_default();
                return (Some(name.to_owned()), message);
            }
            ((path != ".").then_some(path), message)
        })?;
        section
            .check()
            .map_err(|(field, message)| (Some(field.to_owned()), message))?;
        Ok(section)
    }

    /// The section file's text, every field spelled out so an admin reading the file sees
    /// the defaults that apply.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let body = toml::to_string_pretty(self)?;
        Ok(format!(
            "# Written by the pressfeed admin API. Hand edits are fine: the server reloads\n\
             # this directory on SIGHUP and when a file changes.\n{body}"
        ))
    }

    /// Rules serde cannot express, as (field, reason).
    fn check(&self) -> Result<(), (&'static str, String)> {
        if self.title.trim().is_empty() {
            return Err(("title", "must not be empty".into()));
        }
        if !(1..=MAX_LIMIT).contains(&self.limit) {
            return Err(("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        if self.max_age > MAX_MAX_AGE {
            return Err(("max_age", format!("must be at most {MAX_MAX_AGE} seconds")));
        }
        Ok(())
    }
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// The field, when the problem is one field's.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}: {field}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Everything wrong with a configuration, one problem per line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError(pub Vec<Problem>);

/// The whole configuration of a site, as loaded from a feeds directory.
#[derive(Debug, Clone)]
pub struct Config {
    pub dir: PathBuf,
    pub site: Site,
    /// Sorted by slug, so builds and listings are deterministic.
    pub sections: Vec<Section>,
}

impl Config {
    /// Loads and validates `dir/site.toml` and `dir/sections/*.toml`, reporting every problem.
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        let mut problems = Vec::new();
        let site_path = dir.join("site.toml");
        let site = read_toml::<Site>(&site_path)
            .map_err(|p| problems.push(p))
            .ok();
        if let Some(site) = &site {
            problems.extend(duplicate_sources(&site_path, &site.sources));
        }

        let sections_dir = dir.join("sections");
        let mut sections: Vec<Section> = Vec::new();
        match section_files(&sections_dir) {
            Ok(files) => {
                for path in files {
                    match load_section(&path) {
                        Ok(section) => sections.push(section),
                        Err(p) => problems.push(p),
                    }
                }
            }
            Err(e) => problems.push(Problem {
                file: sections_dir.clone(),
                field: None,
                message: format!("cannot list sections: {e}"),
            }),
        }
        sections.sort_by(|a, b| a.slug.cmp(&b.slug));

        match site {
            Some(site) if problems.is_empty() => Ok(Config {
                dir: dir.to_owned(),
                site,
                sections,
            }),
            _ => Err(ConfigError(problems)),
        }
    }

    /// The data directory: `--data` if given, else the site's, relative to the feeds directory.
    pub fn data_dir(&self, override_dir: Option<&Path>) -> PathBuf {
        override_dir
            .map(Path::to_owned)
            .unwrap_or_else(|| self.dir.join(&self.site.data_dir))
    }

    pub fn section(&self, slug: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.slug.as_str() == slug)
    }
}

/// A source name used twice would mix two sources' articles and state.
fn duplicate_sources(path: &Path, sources: &[Source]) -> Vec<Problem> {
    let mut seen = std::collections::HashSet::new();
    sources
        .iter()
        .enumerate()
        .filter(|(_, source)| !seen.insert(&source.name))
        .map(|(i, source)| Problem {
            file: path.to_owned(),
            field: Some(format!("sources[{i}].name")),
            message: format!(
                "source {:?}: name: another source has this name; names must be unique",
                source.name.as_str()
            ),
        })
        .collect()
}

/// The `*.toml` files of the sections directory, sorted.
fn section_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads one section file; its slug must match its file name so URLs and files agree.
pub fn load_section(path: &Path) -> Result<Section, Problem> {
    let text = read_text(path)?;
    parse_section(path, &text)
}

/// Checks the text of the section file at `path` as `load_section` does, without reading it:
/// what the admin API is about to write must pass the very rules `pressfeed check` applies.
pub fn parse_section(path: &Path, text: &str) -> Result<Section, Problem> {
    let section: Section = parse_toml(text).map_err(|(field, message)| Problem {
        file: path.to_owned(),
        field,
        message,
    })?;
    let problem = |field: &str, message: String| Problem {
        file: path.to_owned(),
        field: Some(field.to_owned()),
        message,
    };
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if section.slug.as_str() != stem {
        return Err(problem(
            "slug",
            format!(
                "{:?} does not match the file name {stem:?}",
                section.slug.as_str()
            ),
        ));
    }
    section
        .check()
        .map_err(|(field, message)| problem(field, message))?;
    Ok(section)
}

fn read_text(path: &Path) -> Result<String, Problem> {
    std::fs::read_to_string(path).map_err(|e| Problem {
        file: path.to_owned(),
        field: None,
        message: format!("cannot read: {e}"),
    })
}

fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Problem> {
    let text = read_text(path)?;
    parse_toml(&text).map_err(|(field, message)| Problem {
        file: path.to_owned(),
        field,
        message,
    })
}

/// Parses TOML into `T`, naming the field (a dotted path) and line of what is wrong.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    text: &str,
) -> Result<T, (Option<String>, String)> {
    let de = toml::de::Deserializer::parse(text).map_err(|e| (None, describe(text, &e)))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = describe(text, e.inner());
        let field = (path != ".").then_some(path);
        (field, message)
    })
}

fn describe(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {}", e.message())
        }
        None => e.message().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECTION: &str = r#"
slug = "world"
title = "World"
description = "News from around the world"
link = "https://asianlite.example/category/world/"
schedule = "0 */5 * * * *"
max_age = 120
"#;

    fn section(extra: &str) -> Result<Section, (Option<String>, String)> {
        parse_toml::<Section>(&format!("{SECTION}{extra}"))
            .and_then(|s| s.check().map(|()| s).map_err(|(f, m)| (Some(f.into()), m)))
    }

    #[test]
    fn defaults_fill_what_a_section_leaves_out() {
        let s = section("").unwrap();
        assert_eq!(s.limit, 50);
        assert_eq!(s.content, ContentMode::Full);
        assert!(s.enabled);
        assert_eq!(s.included_sections(), vec![Slug::parse("world").unwrap()]);
    }

    #[test]
    fn names_the_bad_field() {
        let cases = [
            ("limit = 0", "limit"),
            ("limit = 501", "limit"),
            ("content = \"teaser\"", "content"),
            ("include = [\"Top News\"]", "include[0]"),
            ("colour = \"red\"", "colour"),
            ("enabled = \"yes\"", "enabled"),
        ];
        for (extra, field) in cases {
            let (got, message) = section(&format!("\n{extra}")).unwrap_err();
            assert_eq!(got.as_deref().unwrap_or("."), field, "{extra}: {message}");
        }
    }

    #[test]
    fn unknown_keys_are_reported_by_name() {
        let (_, message) = section("\ncolour = \"red\"").unwrap_err();
        assert!(message.contains("colour"), "{message}");
    }

    #[test]
    fn cron_needs_six_fields_and_says_so() {
        let err = Schedule::parse("*/5 * * * *").unwrap_err();
        assert!(err.contains("seconds first"), "{err}");
        assert!(Schedule::parse("0 */5 * * * *").is_ok());
        assert!(Schedule::parse("0 0 9 * * Mon-Fri").is_ok());
        assert!(Schedule::parse("every minute").is_err());
    }

    #[test]
    fn loads_the_demo_site() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds");
        let config = Config::load(&dir).unwrap();
        assert!(config.sections.len() >= 6);
        assert!(config.section("top-news").is_some());
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

    #[test]
    fn reports_every_problem_with_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sections")).unwrap();
        std::fs::write(dir.path().join("site.toml"), "title = 3").unwrap();
        std::fs::write(dir.path().join("sections/a.toml"), "slug = \"b\"").unwrap();
        std::fs::write(
            dir.path().join("sections/world.toml"),
            SECTION.replace("0 */5 * * * *", "*/5 * * * *"),
        )
        .unwrap();
        let ConfigError(problems) = Config::load(dir.path()).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.file.ends_with("site.toml")));
        assert!(
            problems
                .iter()
                .any(|p| p.field.as_deref() == Some("schedule"))
        );
    }
}
