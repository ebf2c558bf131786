//! Every configuration pressfeed reads, and its loading: the site (`site.toml`), its
//! sections (section files: `sections/*.toml`, or their text as the store keeps it), cron
//! schedules, pull sources (`[[sources]]`) and the HTTP limits (`[http]`). Every problem is
//! reported with its file, field and line; nothing here touches the store: the
//! configuration in force, site file and stored sections together, is the `live` module's.
//!
//! - `file`      one TOML file read whole, every problem in it told
//! - `site`      `Site`, the `site.toml` table
//! - `section`   `Section`: one section file, its defaults and rules
//! - `schedule`  `Schedule`: a cron expression, seconds first
//! - `source`    `Source`: a `[[sources]]` entry, validated
//! - `http`      `Limits`: what one client may cost the server
//! - `bucket`    `Bucket`: the `[publish]` table, a bucket the feed files are copied to
//! - `tls`       `Tls`: HTTPS on the listener, the redirect to it, HSTS
//! - `feeds`     `OnDemand`: the `[feeds]` table, feeds built on demand
//! - `partner`   `Partners`: the `[partners]` table, which partners get which sections

mod bucket;
mod feeds;
mod file;
mod http;
mod partner;
mod schedule;
mod section;
mod site;
mod source;
mod tls;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

pub use bucket::{Bucket, S3Target};
pub use feeds::OnDemand;
pub use file::parse_toml;
pub use http::Limits;
pub use partner::{Feedly, Partner, Partners, Profile, SmartNews, SponsoredLink};
pub use schedule::Schedule;
pub use section::{ContentMode, DEFAULT_MAX_AGE, RESERVED, Section, parse_section};
pub use site::{Site, StoreUrl};
use site::{check_environment, load_site};
pub use source::{Credentials, Origin, Source, WordPressSite};
pub use tls::Tls;

/// The site's file in the feeds directory.
pub const SITE_FILE: &str = "site.toml";

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub(crate) file: PathBuf,
    /// The field, when the problem is one field's.
    pub field: Option<String>,
    /// The line of the file, counted from 1, when the problem has a place in it.
    pub(crate) line: Option<usize>,
    pub(crate) message: String,
}

/// `feeds/sections/world.toml: line 6: schedule: "*/5 * * * *" has 5 fields ...`
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Everything wrong with a configuration, one problem per line.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
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
    /// Loads and validates `dir/site.toml` and `dir/sections/*.toml`, reporting every problem
    /// of every file, file by file: what `pressfeed check` checks. The sections a server
    /// uses are the store's (see the `live` module); these files only seed an empty store.
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        let site = Config::load_site(dir);
        let sections = read_section_files(&dir.join("sections"));
        match (site, sections) {
            (Ok(site), Ok(files)) => Ok(Config {
                dir: dir.to_owned(),
                site,
                sections: files.into_iter().map(|f| f.section).collect(),
            }),
            (site, sections) => Err(ConfigError(
                [site.err(), sections.err()]
                    .into_iter()
                    .flatten()
                    .flat_map(|ConfigError(found)| found)
                    .collect(),
            )),
        }
    }

    /// Loads and validates `dir/site.toml` alone.
    pub fn load_site(dir: &Path) -> Result<Site, ConfigError> {
        load_site(&dir.join(SITE_FILE))
    }

    /// What `pressfeed check` tells beyond the files' own rules, with file, field and line:
    /// a source whose credential variables are not set in this process's environment, or
    /// whose file or folder is not there; a `[tls]` file this process cannot read. Not part of `load`, which `serve` and every
    /// reload use: a running source tells these itself at each poll (its status, the log,
    /// `/metrics`), and works as soon as the secret is set or the folder made, no reload
    /// needed. Call on a configuration `load` gave.
    pub fn check_environment(&self) -> Result<(), ConfigError> {
        check_environment(&self.dir.join(SITE_FILE), &self.site, &self.dir)
    }

    /// The section named `slug`, enabled or not.
    pub fn section(&self, slug: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.slug.as_str() == slug)
    }
}

/// A section file as read: the section, and its text byte for byte.
#[derive(Debug, Clone)]
pub struct SectionFile {
    /// The section the file describes, validated.
    pub section: Section,
    /// The file's text, which the store keeps as it is.
    pub text: String,
}

/// Reads and validates every `*.toml` file of `dir` as a section file, reporting every
/// problem of every file, file by file; sorted by slug.
pub fn read_section_files(dir: &Path) -> Result<Vec<SectionFile>, ConfigError> {
    let files = section_files(dir).map_err(|e| {
        ConfigError(vec![Problem {
            file: dir.to_owned(),
            field: None,
            line: None,
            message: format!("cannot list sections: {e}"),
        }])
    })?;
    let mut problems = Vec::new();
    let mut read = Vec::new();
    for path in files {
        let loaded = read_text(&path).and_then(|text| {
            let section = parse_section(&path, &text)?;
            Ok(SectionFile { section, text })
        });
        match loaded {
            Ok(file) => read.push(file),
            Err(ConfigError(found)) => problems.extend(found),
        }
    }
    if !problems.is_empty() {
        return Err(ConfigError(problems));
    }
    read.sort_by(|a, b| a.section.slug.cmp(&b.section.slug));
    Ok(read)
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

fn read_text(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| {
        ConfigError(vec![Problem {
            file: path.to_owned(),
            field: None,
            line: None,
            message: format!("cannot read: {e}"),
        }])
    })
}

/// A whole number from `min` to `max` (`unit` names what it counts), for `deserialize_with`.
fn in_range<'de, D: Deserializer<'de>>(
    d: D,
    min: u64,
    max: u64,
    unit: &str,
) -> Result<u64, D::Error> {
    let n = u64::deserialize(d)?;
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(serde::de::Error::custom(format!(
            "must be {min} to {max} {unit}, not {n}"
        )))
    }
}

/// A minimal `site.toml` with `extra` after it, loaded as `pressfeed` loads it, for the
/// tests of its tables.
#[cfg(test)]
pub(crate) fn test_site(extra: &str) -> Result<Site, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(SITE_FILE);
    let text = "title = \"T\"\nurl = \"https://x.example/\"\n\
                feed_base_url = \"https://x.example/feeds/\"\ndefault_author = \"A\"\n";
    std::fs::write(&path, format!("{text}{extra}")).unwrap();
    site::load_site(&path)
}

/// Asserts that `problems` tell each (field, line) of `expected`, among others.
#[cfg(test)]
pub(crate) fn assert_told(problems: &[Problem], expected: &[(&str, usize)]) {
    for &(field, line) in expected {
        let told =
            (problems.iter()).any(|p| p.field.as_deref() == Some(field) && p.line == Some(line));
        assert!(told, "{field} at line {line}: {problems:?}");
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
    fn reports_every_problem_of_every_file_file_by_file() {
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
        let told: Vec<_> = problems
            .iter()
            .map(|p| {
                let file = p.file.file_name().unwrap().to_str().unwrap();
                (file, p.field.as_deref().unwrap(), p.line)
            })
            .collect();
        assert_eq!(
            told,
            [
                ("site.toml", "url", None),
                ("site.toml", "feed_base_url", None),
                ("site.toml", "default_author", None),
                ("site.toml", "title", Some(1)),
                ("a.toml", "title", None),
                ("a.toml", "link", None),
                ("a.toml", "slug", Some(1)),
                ("world.toml", "schedule", Some(6)),
            ]
        );
    }
}
