//! `feeds/sections/<slug>.toml`: one section's feeds, its rules, and reading and checking
//! one file.

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use super::file::TomlFile;
use super::schedule::Schedule;
use super::{ConfigError, in_range};
use crate::link::HttpUrl;
use crate::slug::Slug;

/// Items per feed when a section does not say.
pub(super) const DEFAULT_LIMIT: usize = 50;
/// The most items a section may ask for; bigger feeds only slow readers down.
const MAX_LIMIT: usize = 500;
/// Seconds of max-age of a section that sets none, and of the OPML list and stylesheet.
pub const DEFAULT_MAX_AGE: u32 = 300;
/// A week: longer than that and readers would miss news for days after an outage.
const MAX_MAX_AGE: u32 = 7 * 24 * 3600;
/// The fields without a default, all told when missing: serde names only the first.
const REQUIRED: [&str; 3] = ["slug", "title", "link"];

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

/// `feeds/sections/<slug>.toml`: one feed (in every format) of the site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// The section's name in its file name and its feeds' URLs: `/feeds/<slug>.rss`.
    #[serde(deserialize_with = "unreserved")]
    pub slug: Slug,
    /// The feed's title.
    #[serde(deserialize_with = "title")]
    pub title: String,
    #[serde(default)]
    pub(crate) description: String,
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
    /// The most items in a feed, newest first: 1 to 500, 50 when not set.
    #[serde(default = "default_limit", deserialize_with = "limit")]
    pub limit: usize,
    #[serde(default)]
    pub(crate) content: ContentMode,
    /// When the feeds are rebuilt even if no article changed; every five minutes when not set.
    #[serde(default)]
    pub schedule: Schedule,
    /// Seconds a cache may serve the feed without asking again.
    #[serde(default = "default_max_age", deserialize_with = "max_age")]
    pub max_age: u32,
    /// A disabled section is neither built nor served, nor listed in `index.opml`.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
}

/// Names a section cannot take: the paths under `/feeds/` of the feeds built on demand
/// (`all.rss`, `tag/…`, `author/…`, docs/feeds.md) and of partner feeds (`partners/…`).
pub const RESERVED: [&str; 4] = ["all", "tag", "author", "partners"];

fn unreserved<'de, D: Deserializer<'de>>(d: D) -> Result<Slug, D::Error> {
    let slug = Slug::deserialize(d)?;
    if RESERVED.contains(&slug.as_str()) {
        return Err(serde::de::Error::custom(format!(
            "{:?} is reserved for the feeds under /feeds/{slug}; choose another name",
            slug.as_str()
        )));
    }
    Ok(slug)
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

// Each field's rules are kept where serde reads it, so that a file and an admin request's
// JSON are held to them alike and every field's problem is told on its own.
fn title<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let title = String::deserialize(d)?;
    if title.trim().is_empty() {
        return Err(serde::de::Error::custom("must not be empty"));
    }
    Ok(title)
}
pub(super) fn limit<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    in_range(d, 1, MAX_LIMIT as u64, "items").map(|n| n as usize)
}
pub(super) fn max_age<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    in_range(d, 0, MAX_MAX_AGE.into(), "seconds").map(|n| n as u32)
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
        serde_path_to_error::deserialize(value).map_err(|e| {
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
        })
    }

    /// The section file's text, every field spelled out so an admin reading the file sees
    /// the defaults that apply.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let body = toml::to_string_pretty(self)?;
        Ok(format!(
            "# Written by the pressfeed admin API and kept in its store: `pressfeed sections\n\
             # export` writes it to a file, `pressfeed sections import` reads it back.\n{body}"
        ))
    }
}

/// Checks the text of the section file at `path`; its slug must match its file name so URLs
/// and files agree. Every section text passes here before the store keeps it (admin write,
/// import, seed): the very rules `pressfeed check` applies.
pub fn parse_section(path: &Path, text: &str) -> Result<Section, ConfigError> {
    let mut file = TomlFile::parse(path, text)?;
    file.require(&REQUIRED);
    let section = file.deserialize::<Section>();
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    // The slug as written, so that a mismatch is told with whatever else is wrong; a slug
    // that is no slug at all was told already.
    let mismatch = file
        .get("slug")
        .and_then(|slug| Some((slug.span(), slug.get_ref().as_str()?)))
        .filter(|(_, slug)| *slug != stem && Slug::parse(slug).is_ok())
        .map(|(span, slug)| {
            (
                span,
                format!("{slug:?} does not match the file name {stem:?}"),
            )
        });
    if let Some((span, message)) = mismatch {
        file.report("slug".into(), span, message);
    }
    file.finish(section)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A valid section file, shared with the loading tests of `config`.
    pub(in crate::config) const SECTION: &str = r#"
slug = "world"
title = "World"
description = "News from around the world"
link = "https://asianlite.example/category/world/"
schedule = "0 */5 * * * *"
max_age = 120
"#;

    fn section(extra: &str) -> Result<Section, ConfigError> {
        parse_section(
            Path::new("sections/world.toml"),
            &format!("{SECTION}{extra}"),
        )
    }

    /// Each problem's (field, line), in the order told.
    fn told(text: &str, file: &str) -> Vec<(Option<String>, Option<usize>)> {
        let ConfigError(problems) = parse_section(Path::new(file), text).unwrap_err();
        problems.into_iter().map(|p| (p.field, p.line)).collect()
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
            let ConfigError(problems) = section(&format!("\n{extra}")).unwrap_err();
            assert_eq!(problems.len(), 1, "{extra}: {problems:?}");
            assert_eq!(problems[0].field.as_deref(), Some(field), "{extra}");
            assert_eq!(problems[0].line, Some(9), "{extra}");
        }
    }

    #[test]
    fn unknown_keys_are_reported_by_name() {
        let ConfigError(problems) = section("\ncolour = \"red\"").unwrap_err();
        assert!(problems[0].message.contains("colour"), "{problems:?}");
    }

    #[test]
    fn every_mistake_of_a_file_is_told_in_one_run_in_file_order() {
        let text = r#"slug = "World News"
title = 3
link = "ftp://asianlite.example/world/"
include = ["world", "Top News"]
limit = 0
schedule = "*/5 * * * *"
colour = "red"
enabled = "yes"
"#;
        let fields = [
            "slug",
            "title",
            "link",
            "include[1]",
            "limit",
            "schedule",
            "colour",
            "enabled",
        ];
        let expected: Vec<_> = (1..)
            .zip(fields)
            .map(|(line, field)| (Some(field.to_owned()), Some(line)))
            .collect();
        // Required fields whose values were wrong are not told again as missing.
        assert_eq!(told(text, "sections/world.toml"), expected);
    }

    #[test]
    fn missing_fields_and_the_file_name_are_told_with_the_rest() {
        let text = "slug = \"world\"\nlimit = 0\n";
        assert_eq!(
            told(text, "sections/sport.toml"),
            [
                (Some("title".to_owned()), None),
                (Some("link".to_owned()), None),
                (Some("slug".to_owned()), Some(1)),
                (Some("limit".to_owned()), Some(2)),
            ]
        );
    }

    #[test]
    fn the_names_of_feeds_built_on_demand_are_no_section_names() {
        for name in RESERVED {
            let text = format!("title = \"T\"\nslug = \"{name}\"\nlink = \"https://x.example/\"\n");
            assert_eq!(
                told(&text, &format!("sections/{name}.toml")),
                [(Some("slug".to_owned()), Some(2))],
                "{name}"
            );
            let json =
                serde_json::json!({"slug": name, "title": "T", "link": "https://x.example/"});
            assert_eq!(
                Section::from_json(json).unwrap_err().0.as_deref(),
                Some("slug")
            );
        }
    }

    #[test]
    fn the_required_fields_are_those_without_a_default() {
        let only = r#"slug = "world"
title = "World"
link = "https://asianlite.example/world/"
"#;
        assert!(section_only(only).is_ok());
        for (line, field) in only.lines().zip(REQUIRED) {
            let ConfigError(problems) = section_only(&only.replace(line, "")).unwrap_err();
            assert_eq!(problems[0].field.as_deref(), Some(field), "{problems:?}");
            assert_eq!(problems[0].message, "required");
        }
    }

    /// Without `parse_section`'s own check of `REQUIRED`: what serde requires.
    fn section_only(text: &str) -> Result<Section, ConfigError> {
        super::super::parse_toml(Path::new("world.toml"), text)
    }

    #[test]
    fn a_syntax_error_is_the_one_problem_of_its_file() {
        let ConfigError(problems) =
            parse_section(Path::new("world.toml"), "slug = \"world\"\ntitle = \n").unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, Some(2));
        assert!(
            problems[0].message.contains("once this is mended"),
            "{problems:?}"
        );
    }
}
