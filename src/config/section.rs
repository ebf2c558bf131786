//! `feeds/sections/<slug>.toml`: one section's feeds, its rules, and reading and checking
//! one file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::schedule::Schedule;
use super::{Problem, parse_toml, read_text};
use crate::link::HttpUrl;
use crate::slug::Slug;

/// Items per feed when a section does not say.
const DEFAULT_LIMIT: usize = 50;
/// The most items a section may ask for; bigger feeds only slow readers down.
const MAX_LIMIT: usize = 500;
/// Seconds of max-age of a section that sets none, and of the OPML list and stylesheet.
pub const DEFAULT_MAX_AGE: u32 = 300;
/// A week: longer than that and readers would miss news for days after an outage.
const MAX_MAX_AGE: u32 = 7 * 24 * 3600;

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
    pub slug: Slug,
    /// The feed's title.
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
    #[serde(default = "default_limit")]
    pub limit: usize,
    #[serde(default)]
    pub(crate) content: ContentMode,
    /// When the feeds are rebuilt even if no article changed; every five minutes when not set.
    #[serde(default)]
    pub schedule: Schedule,
    /// Seconds a cache may serve the feed without asking again.
    #[serde(default = "default_max_age")]
    pub max_age: u32,
    /// A disabled section is neither built nor served, nor listed in `index.opml`.
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
}
