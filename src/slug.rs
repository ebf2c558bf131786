//! `Slug`: the validated name of a section, used in file names, URLs and article `sections`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest slug accepted; keeps file names and URLs reasonable.
const MAX_LEN: usize = 64;

/// A section name: 1–64 characters of `a-z`, `0-9` and `-`, starting with a letter or digit.
/// Being a valid file name and URL segment is what lets a slug name `feeds/sections/<slug>.toml`
/// and `/feeds/<slug>.rss` without any escaping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Result<Slug, String> {
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.len() > MAX_LEN {
            return Err(format!("must be at most {MAX_LEN} characters"));
        }
        if s.starts_with('-') {
            return Err("must start with a letter or digit".into());
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(format!(
                "{c:?} is not allowed; use lowercase letters, digits and '-'"
            ));
        }
        Ok(Slug(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Slug::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_section_names() {
        for ok in ["top-news", "world", "a", "2024-elections"] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_what_cannot_be_a_file_name() {
        for bad in [
            "",
            "-x",
            "Top",
            "a b",
            "../x",
            "a/b",
            "a.toml",
            &"x".repeat(65),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
