//! A `[[sources]]` entry of `feeds/site.toml`: where articles are pulled from, how often, with
//! which credentials, and how the source's categories become section slugs. Validated here,
//! once; fetching and mapping items are the sibling modules' business.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer, de};

use super::Schedule;
use crate::link::HttpUrl;
use crate::slug::Slug;

/// How often a file or folder is looked at when its source sets no schedule.
const LOCAL_SCHEDULE: &str = "*/5 * * * * *";
/// How often a WordPress source reads its terms and users again when it sets no
/// `terms_refresh`: a rename is rare, and each look costs a request per page of them.
const TERMS_REFRESH: Duration = Duration::from_secs(60 * 60);
/// The longest `terms_refresh` accepted: longer, a renamed tag would linger in the feeds
/// for days.
const MAX_TERMS_REFRESH: u64 = 24 * 60 * 60;

/// One source, checked: the kind and its location agree, names and slugs are valid.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawSource")]
pub struct Source {
    /// Unique among the sources; part of the ids of WordPress articles, so it must not change
    /// once feeds are public.
    pub name: Slug,
    pub(crate) origin: Origin,
    /// When the source is pulled: when not set, every five seconds for a file or folder,
    /// every five minutes over HTTP.
    pub schedule: Schedule,
    /// HTTP basic auth (a WordPress application password), read from the environment.
    pub credentials: Option<Credentials>,
    /// The source's category slug → article section slug. `None`: categories are section
    /// slugs as they are.
    pub categories: Option<BTreeMap<String, Slug>>,
}

/// Where a source's articles are, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A WordPress site's REST API.
    WordPress(WordPressSite),
    /// NDJSON or a JSON array of articles, over HTTP...
    JsonUrl(HttpUrl),
    /// ...or in a file (relative to the feeds directory).
    JsonFile(PathBuf),
    /// A folder of `.json` and `.md` article files (relative to the feeds directory).
    Directory(PathBuf),
}

/// A WordPress site, as a source reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordPressSite {
    /// The site's root, ending in `/`; the REST API is below it.
    pub root: HttpUrl,
    /// How often the tags, categories and users its posts carry are read again: WordPress
    /// gives them no modified time, and renaming one leaves the posts' own unchanged.
    pub terms_refresh: Duration,
}

/// The names of the environment variables holding the user name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub(crate) username_env: String,
    pub(crate) password_env: String,
}

impl Source {
    /// The `kind` of the entry: `wordpress`, `json` (a URL or a file) or `directory`.
    pub fn kind(&self) -> &'static str {
        match self.origin {
            Origin::WordPress(_) => "wordpress",
            Origin::JsonUrl(_) | Origin::JsonFile(_) => "json",
            Origin::Directory(_) => "directory",
        }
    }

    /// The URL or path, as written in the file.
    pub fn location(&self) -> String {
        match &self.origin {
            Origin::WordPress(WordPressSite { root: url, .. }) | Origin::JsonUrl(url) => {
                url.to_string()
            }
            Origin::JsonFile(path) | Origin::Directory(path) => path.display().to_string(),
        }
    }

    /// The section slugs of an item in `categories` (the source's names for them, in order):
    /// mapped through the table when there is one (unmapped categories are dropped), else
    /// taken as they are (those that are not valid slugs are dropped). An item left with
    /// no section is not for the feeds: the error says why.
    pub fn sections<'a>(
        &self,
        categories: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Slug>, String> {
        let categories: Vec<&str> = categories.into_iter().collect();
        let mut sections: Vec<Slug> = match &self.categories {
            Some(table) => categories
                .iter()
                .filter_map(|c| table.get(*c).cloned())
                .collect(),
            None => categories
                .iter()
                .filter_map(|c| Slug::parse(c).ok())
                .collect(),
        };
        // Two categories may map to one section; the first keeps its place.
        crate::article::dedup_by_key(&mut sections, |s| s.to_string());
        if !sections.is_empty() {
            return Ok(sections);
        }
        let listed = if categories.is_empty() {
            "it has no categories".to_owned()
        } else {
            format!("its categories {categories:?}")
        };
        Err(match &self.categories {
            Some(_) => format!("{listed} are not in the source's categories table"),
            None => format!("{listed} are not section slugs"),
        })
    }
}

impl Source {
    /// What keeps the source from working on this machine as it is now, by field: a
    /// credential variable not set in this process's environment, a file or folder not
    /// there (relative paths from `feeds_dir`). Not a rule of the file: the same entry
    /// works once the secret is set or the folder made.
    pub(super) fn unmet(&self, feeds_dir: &Path) -> Vec<(&'static str, String)> {
        let mut unmet = Vec::new();
        if let Some(credentials) = &self.credentials {
            let variables = [
                ("username_env", &credentials.username_env),
                ("password_env", &credentials.password_env),
            ];
            for (field, name) in variables {
                // As the source reads it at each request: unset or not Unicode alike.
                if std::env::var(name).is_err() {
                    let message = format!(
                        "environment variable {name} is not set; the source's requests fail until it is"
                    );
                    unmet.push((field, message));
                }
            }
        }
        let local = match &self.origin {
            Origin::JsonFile(path) => Some((path, false)),
            Origin::Directory(path) => Some((path, true)),
            Origin::WordPress(_) | Origin::JsonUrl(_) => None,
        };
        if let Some(message) = local.and_then(|(path, folder)| not_there(feeds_dir, path, folder)) {
            unmet.push(("path", message));
        }
        unmet
    }
}

/// Why `path` (from `feeds_dir`) is not the file, or the folder, a source reads; `None`
/// when it is.
fn not_there(feeds_dir: &Path, path: &Path, folder: bool) -> Option<String> {
    let full = feeds_dir.join(path);
    let shown = full.display();
    match std::fs::metadata(&full) {
        Ok(meta) if meta.is_dir() == folder => None,
        Ok(_) if folder => Some(format!("{shown} is not a directory")),
        Ok(_) => Some(format!("{shown} is a directory, not a file")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some(format!("{shown} does not exist"))
        }
        Err(e) => Some(format!("{shown}: {e}")),
    }
}

/// The fields of an entry without a default, all told when missing: serde names only the
/// first.
pub(super) const REQUIRED: [&str; 2] = ["name", "kind"];

/// A `[[sources]]` table as written, each field checked on its own; `Source::try_from`
/// checks the rules between them.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    name: Slug,
    kind: String,
    #[serde(default, deserialize_with = "url")]
    url: Option<HttpUrl>,
    #[serde(default, deserialize_with = "path")]
    path: Option<PathBuf>,
    #[serde(default)]
    schedule: Option<Schedule>,
    #[serde(default, deserialize_with = "terms_refresh")]
    terms_refresh: Option<Duration>,
    #[serde(default, deserialize_with = "env_name")]
    username_env: Option<String>,
    #[serde(default, deserialize_with = "env_name")]
    password_env: Option<String>,
    #[serde(default, deserialize_with = "categories")]
    categories: Option<BTreeMap<String, Slug>>,
}

impl TryFrom<RawSource> for Source {
    /// Every rule between the fields that the entry breaks, each naming its field:
    /// `url: required for kind "wordpress"; password_env: required with username_env`.
    type Error = String;

    fn try_from(raw: RawSource) -> Result<Source, String> {
        let origin = raw.origin();
        let credentials = raw.credentials(origin.as_ref().ok());
        let (origin, credentials) = match (origin, credentials) {
            (Ok(origin), Ok(credentials)) => (origin, credentials),
            (origin, credentials) => {
                let broken = [origin.err(), credentials.err()];
                return Err(broken.into_iter().flatten().collect::<Vec<_>>().join("; "));
            }
        };
        let schedule = match raw.schedule {
            Some(schedule) => schedule,
            // Local files cost a stat to look at: watched closely. Remote ones every five
            // minutes, as sections are rebuilt.
            None if matches!(origin, Origin::JsonFile(_) | Origin::Directory(_)) => {
                Schedule::parse(LOCAL_SCHEDULE).expect("the local default parses")
            }
            None => Schedule::default(),
        };
        Ok(Source {
            name: raw.name,
            origin,
            schedule,
            credentials,
            categories: raw.categories,
        })
    }
}

impl RawSource {
    /// Where the articles are: the kind and its location agree.
    fn origin(&self) -> Result<Origin, String> {
        let kind = &self.kind;
        let required = |field: &str| format!("{field}: required for kind {kind:?}");
        let not_for = |field: &str| format!("{field}: not used by kind {kind:?}");
        let origin = match (kind.as_str(), &self.url, &self.path) {
            ("wordpress", None, _) => return Err(required("url")),
            ("wordpress", Some(_), Some(_)) => return Err(not_for("path")),
            ("wordpress", Some(url), None) => Origin::WordPress(WordPressSite {
                root: site_root(url).map_err(|e| format!("url: {e}"))?,
                terms_refresh: self.terms_refresh.unwrap_or(TERMS_REFRESH),
            }),
            ("json", Some(_), Some(_)) => {
                return Err("path: give either url or path, not both".into());
            }
            ("json", None, None) => return Err("url: a json source needs a url or a path".into()),
            ("json", Some(url), None) => Origin::JsonUrl(url.clone()),
            ("json", None, Some(path)) => Origin::JsonFile(path.clone()),
            ("directory", Some(_), _) => return Err(not_for("url")),
            ("directory", None, None) => return Err(required("path")),
            ("directory", None, Some(path)) => Origin::Directory(path.clone()),
            (kind, ..) => {
                return Err(format!(
                    "kind: {kind:?} is not a kind of source; use \"wordpress\", \"json\" or \"directory\""
                ));
            }
        };
        if self.terms_refresh.is_some() && !matches!(origin, Origin::WordPress(_)) {
            return Err(not_for("terms_refresh"));
        }
        Ok(origin)
    }

    /// The credentials, given in pairs, and only for a source over HTTP (not known when the
    /// origin is not).
    fn credentials(&self, origin: Option<&Origin>) -> Result<Option<Credentials>, String> {
        match (&self.username_env, &self.password_env) {
            (None, None) => Ok(None),
            (Some(_), None) => Err("password_env: required with username_env".into()),
            (None, Some(_)) => Err("username_env: required with password_env".into()),
            (Some(_), Some(_))
                if matches!(origin, Some(Origin::JsonFile(_) | Origin::Directory(_))) =>
            {
                Err(format!("username_env: not used by kind {:?}", self.kind))
            }
            (Some(username_env), Some(password_env)) => Ok(Some(Credentials {
                username_env: username_env.clone(),
                password_env: password_env.clone(),
            })),
        }
    }
}

// Each field's own rules, kept where serde reads it so that every field's problem is told.
fn url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HttpUrl>, D::Error> {
    let url = HttpUrl::deserialize(d)?;
    if !url.as_url().username().is_empty() || url.as_url().password().is_some() {
        return Err(de::Error::custom(
            "credentials do not belong in the file: name environment variables in \
             username_env and password_env",
        ));
    }
    Ok(Some(url))
}

fn terms_refresh<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    super::in_range(d, 1, MAX_TERMS_REFRESH, "seconds").map(|s| Some(Duration::from_secs(s)))
}

fn path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    let path = PathBuf::deserialize(d)?;
    if path.as_os_str().is_empty() {
        return Err(de::Error::custom("must not be empty"));
    }
    Ok(Some(path))
}

/// A portable environment variable name.
fn env_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let name = String::deserialize(d)?;
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(de::Error::custom(format!(
            "{name:?} is not an environment variable name (letters, digits, _)"
        )));
    }
    Ok(Some(name))
}

fn categories<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, Slug>>, D::Error> {
    let table = BTreeMap::deserialize(d)?;
    if table.is_empty() {
        return Err(de::Error::custom(
            "an empty table maps nothing; leave it out to use the categories as section slugs",
        ));
    }
    Ok(Some(table))
}

/// A WordPress site's root URL, ending in `/` so the API's path joins below it.
fn site_root(url: &HttpUrl) -> Result<HttpUrl, String> {
    let mut url = url.as_url().clone();
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{:?}: give the site's root, without ?query or #fragment",
            url.as_str()
        ));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    HttpUrl::try_from(url)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::ConfigError;

    fn parse(text: &str) -> Result<Source, ConfigError> {
        crate::config::parse_toml(Path::new("site.toml"), text)
    }

    const WORDPRESS: &str = r#"
name = "newsroom"
kind = "wordpress"
url = "http://127.0.0.1:8081/blog"
schedule = "* * * * * *"
terms_refresh = 600
username_env = "WP_USER"
password_env = "WP_APP_PASSWORD"
[categories]
world = "world"
economy = "business"
"#;

    #[test]
    fn a_wordpress_source_with_everything() {
        let source = parse(WORDPRESS).unwrap();
        assert_eq!(source.kind(), "wordpress");
        assert_eq!(
            source.location(),
            "http://127.0.0.1:8081/blog/",
            "a root ends in /"
        );
        let Origin::WordPress(site) = &source.origin else {
            panic!("{:?}", source.origin)
        };
        assert_eq!(site.terms_refresh, Duration::from_secs(600));
        assert_eq!(source.credentials.unwrap().password_env, "WP_APP_PASSWORD");
        assert_eq!(source.categories.unwrap()["economy"].as_str(), "business");
    }

    #[test]
    fn defaults() {
        let source = parse("name = \"in\"\nkind = \"directory\"\npath = \"incoming\"").unwrap();
        assert_eq!(source.schedule.as_str(), LOCAL_SCHEDULE);
        assert_eq!(source.origin, Origin::Directory("incoming".into()));
        assert!(source.categories.is_none() && source.credentials.is_none());
        let source =
            parse("name = \"wire\"\nkind = \"json\"\nurl = \"https://x.example/a.ndjson\"")
                .unwrap();
        assert!(matches!(source.origin, Origin::JsonUrl(_)));
        assert_eq!(source.schedule, Schedule::default());
        let source =
            parse("name = \"newsroom\"\nkind = \"wordpress\"\nurl = \"https://x.example/\"")
                .unwrap();
        assert_eq!(source.schedule, Schedule::default());
        let Origin::WordPress(site) = source.origin else {
            panic!("{:?}", source.origin)
        };
        assert_eq!(
            site.terms_refresh,
            Duration::from_secs(3600),
            "terms and users are read again hourly"
        );
    }

    #[test]
    fn every_problem_names_its_field() {
        let cases = [
            ("kind = \"wordpress\"", "url"),
            ("kind = \"rss\"\nurl = \"https://x.example/\"", "kind"),
            ("kind = \"json\"", "url"),
            (
                "kind = \"json\"\nurl = \"https://x.example/\"\npath = \"a\"",
                "path",
            ),
            ("kind = \"json\"\nurl = \"ftp://x.example/a\"", "url"),
            ("kind = \"json\"\nurl = \"https://u:p@x.example/a\"", "url"),
            ("kind = \"directory\"\nurl = \"https://x.example/\"", "url"),
            (
                "kind = \"directory\"\npath = \"a\"\nschedule = \"*/5 * * * *\"",
                "schedule",
            ),
            (
                "kind = \"wordpress\"\nurl = \"https://x.example/\"\nusername_env = \"U\"",
                "password_env",
            ),
            (
                "kind = \"wordpress\"\nurl = \"https://x.example/\"\nusername_env = \"U\"\npassword_env = \"A-B\"",
                "password_env",
            ),
            (
                "kind = \"directory\"\npath = \"a\"\nusername_env = \"U\"\npassword_env = \"P\"",
                "username_env",
            ),
            (
                "kind = \"directory\"\npath = \"a\"\n[categories]",
                "categories",
            ),
            (
                "kind = \"wordpress\"\nurl = \"https://x.example/\"\nterms_refresh = 0",
                "terms_refresh",
            ),
            (
                "kind = \"wordpress\"\nurl = \"https://x.example/\"\nterms_refresh = -60",
                "terms_refresh",
            ),
            (
                "kind = \"wordpress\"\nurl = \"https://x.example/\"\nterms_refresh = 86401",
                "terms_refresh",
            ),
            (
                "kind = \"json\"\nurl = \"https://x.example/a\"\nterms_refresh = 60",
                "terms_refresh",
            ),
            (
                "kind = \"directory\"\npath = \"a\"\n[categories]\nworld = \"World News\"",
                "categories.world",
            ),
        ];
        for (rest, field) in cases {
            let message = parse(&format!("name = \"wire\"\n{rest}"))
                .unwrap_err()
                .to_string();
            assert!(
                message.contains(&format!(" {field}: ")),
                "{rest}: {message}"
            );
        }
        let message = parse("name = \"Wire\"\nkind = \"directory\"\npath = \"a\"").unwrap_err();
        assert!(message.to_string().contains(" name: "), "{message}");
    }

    #[test]
    fn categories_map_through_the_table_or_pass_as_slugs() {
        let mapped = parse(WORDPRESS).unwrap();
        let slugs = |r: Result<Vec<Slug>, String>| {
            r.map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            slugs(mapped.sections(["economy", "sport", "world", "economy"])).unwrap(),
            ["business", "world"]
        );
        let err = mapped.sections(["sport"]).unwrap_err();
        assert!(
            err.contains("not in the source's categories table"),
            "{err}"
        );
        let plain = parse("name = \"in\"\nkind = \"directory\"\npath = \"a\"").unwrap();
        assert_eq!(
            slugs(plain.sections(["world", "%e6%97%a5"])).unwrap(),
            ["world"]
        );
        assert!(plain.sections([]).unwrap_err().contains("no categories"));
    }
}
