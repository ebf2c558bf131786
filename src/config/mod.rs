//! Every configuration pressfeed reads, and its loading: the site (`site.toml`), its
//! sections (`sections/*.toml`), cron schedules, pull sources (`[[sources]]`), the HTTP
//! limits (`[http]`), and the configuration in force while the server runs (`live`).
//! Every problem is reported with its file and field; nothing here touches the store.
//!
//! - `site`      `Site`, the `site.toml` table
//! - `section`   `Section`: one section file, its defaults and rules
//! - `schedule`  `Schedule`: a cron expression, seconds first
//! - `source`    `Source`: a `[[sources]]` entry, validated
//! - `http`      `Limits`: what one client may cost the server
//! - `live`      the configuration in force, reloaded on admin writes, SIGHUP and file changes

mod http;
mod live;
mod schedule;
mod section;
mod site;
mod source;

use std::fmt;
use std::path::{Path, PathBuf};

pub use http::Limits;
pub(crate) use live::{Change, Edit, LiveConfig, watch};
pub use schedule::Schedule;
pub use section::{ContentMode, DEFAULT_MAX_AGE, Section, load_section, parse_section};
pub use site::Site;
pub use source::{Credentials, Origin, Source, WordPressSite};

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub(crate) file: PathBuf,
    /// The field, when the problem is one field's.
    pub field: Option<String>,
    pub(crate) message: String,
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
    /// The feeds directory it was loaded from, which holds `site.toml` and `sections/`.
    pub dir: PathBuf,
    /// `site.toml`.
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

    /// The section named `slug`, enabled or not.
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
    use super::section::tests::SECTION;
    use super::*;

    #[test]
    fn loads_the_demo_site() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds");
        let config = Config::load(&dir).unwrap();
        assert!(config.sections.len() >= 6);
        assert!(config.section("top-news").is_some());
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
