//! The dimensions a feed can be built on demand by: the whole site (`all`), a tag, an
//! author. A tag's or author's name becomes a slug here (`slug_of`), and a feed of one is
//! known by its key (`all`, `tag/<slug>`, `author/<slug>`), which is also its path under
//! `/feeds/` without the extension, and what the store indexes articles by. It does not
//! build or serve anything (`ondemand` does).

use crate::article::{Article, Status};

/// Longest slug kept: a longer name is cut at a `-` boundary or at this length, as a URL
/// segment must stay reasonable (a section's slug has the same bound).
const MAX_SLUG: usize = 64;

/// What an on-demand feed collects articles by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// Every published article of the site: one feed, key `all`.
    All,
    /// The articles carrying a tag: key `tag/<slug>`.
    Tag,
    /// The articles naming an author: key `author/<slug>`.
    Author,
}

impl Dimension {
    /// Every dimension, in the order they are listed.
    pub const ALL: [Dimension; 3] = [Dimension::All, Dimension::Tag, Dimension::Author];

    /// The name in `site.toml` (`[feeds] dimensions`) and the first segment of the key.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::All => "all",
            Dimension::Tag => "tag",
            Dimension::Author => "author",
        }
    }

    /// The dimension called `name` in `site.toml`.
    pub fn named(name: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The key of this dimension's feed of `slug` (ignored for `All`).
    pub fn key(self, slug: &str) -> String {
        match self {
            Dimension::All => "all".to_owned(),
            other => format!("{}/{slug}", other.name()),
        }
    }
}

/// A key split into its dimension and slug: `all`, or `tag/<slug>` and `author/<slug>`
/// with a slug as `slug_of` makes them. `None` for anything else, so a path no name could
/// fold to is refused before the store is asked.
pub fn parse_key(key: &str) -> Option<(Dimension, &str)> {
    if key == "all" {
        return Some((Dimension::All, ""));
    }
    let (dimension, slug) = key.split_once('/')?;
    let dimension = Dimension::named(dimension).filter(|d| *d != Dimension::All)?;
    let well_formed = !slug.is_empty()
        && slug.len() <= MAX_SLUG
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    well_formed.then_some((dimension, slug))
}

/// The slug of a tag's or author's name: transliterated to ASCII (deunicode: "Kraków" →
/// `krakow`, "Łódź" → `lodz`, "Москва" → `moskva`), lowercased, every run of other
/// characters one `-`, none at either end, at most 64 characters. `None` when nothing is
/// left (a name of punctuation only): such a name has no feed.
///
/// deunicode rather than Unicode decomposition alone (`unicode-normalization` and dropping
/// the combining marks): decomposition leaves letters that are not a base letter plus a
/// mark (`ł`, `ø`, `ß`, every non-Latin script) as they are, so their slugs would need
/// percent-encoding in a URL, while deunicode's tables give every script a readable ASCII
/// form. Its tables are data of the crate's version; a new version that spelled a name
/// otherwise would move that name's feed, so the crate is only updated with that in mind.
pub fn slug_of(name: &str) -> Option<String> {
    let ascii = deunicode::deunicode(name);
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    if slug.len() > MAX_SLUG {
        let cut = slug[..=MAX_SLUG].rfind('-').unwrap_or(MAX_SLUG);
        slug.truncate(cut);
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    (!slug.is_empty()).then_some(slug)
}

/// The keys of the on-demand feeds `article` is in, each with the name it carries there
/// (empty for `all`): none unless it is published with a date; else `all`, its tags and its
/// authors. Names that fold to one slug give one key, with the first of them.
pub fn keys_of(article: &Article) -> Vec<(String, String)> {
    if article.status != Status::Published || article.published_at.is_none() {
        return Vec::new();
    }
    let mut keys: Vec<(String, String)> = vec![(Dimension::All.key(""), String::new())];
    let tags = (article.tags.iter()).map(|tag| (Dimension::Tag, tag.as_str()));
    let authors = (article.authors.iter()).map(|author| (Dimension::Author, author.name.as_str()));
    for (dimension, name) in tags.chain(authors) {
        let Some(slug) = slug_of(name) else { continue };
        let key = dimension.key(&slug);
        if !keys.iter().any(|(k, _)| *k == key) {
            keys.push((key, name.to_owned()));
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_to_ascii_slugs() {
        let cases = [
            ("Kraków", Some("krakow")),
            ("KRAKÓW", Some("krakow")),
            ("Łódź", Some("lodz")),
            ("Москва", Some("moskva")),
            ("  New   York -- City! ", Some("new-york-city")),
            ("C++", Some("c")),
            ("2024 Elections", Some("2024-elections")),
            ("???", None),
            ("", None),
        ];
        for (name, slug) in cases {
            assert_eq!(slug_of(name).as_deref(), slug, "{name:?}");
        }
        let long = slug_of(&"word ".repeat(40)).unwrap();
        assert!(long.len() <= MAX_SLUG && !long.ends_with('-'), "{long}");
    }

    #[test]
    fn every_slug_made_parses_back_and_nothing_else_does() {
        for name in ["Kraków", "Jane O'Neil", "日本", "a-b"] {
            let slug = slug_of(name).unwrap();
            let key = Dimension::Tag.key(&slug);
            assert_eq!(
                parse_key(&key),
                Some((Dimension::Tag, slug.as_str())),
                "{name}"
            );
        }
        assert_eq!(parse_key("all"), Some((Dimension::All, "")));
        for bad in [
            "tag/",
            "tag/Krakow",
            "tag/a--b",
            "tag/-a",
            "tag/a-",
            "tag/a/b",
            "all/x",
            "x/y",
            "tag",
            "author/kraków",
            "section/world",
        ] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_article_is_in_all_and_its_tags_and_authors_once_each() {
        let article = Article::from_value(serde_json::json!({
            "id": "a", "url": "https://x.example/a", "title": "A", "sections": ["world"],
            "published_at": "2022-05-01T00:00:00Z", "status": "published",
            "tags": ["Kraków", "krakow!", "Poland"],
            "authors": [{"name": "Jane Doe"}],
        }))
        .unwrap()
        .article;
        let keys = keys_of(&article);
        let keys: Vec<(&str, &str)> = keys.iter().map(|(k, n)| (&**k, &**n)).collect();
        assert_eq!(
            keys,
            [
                ("all", ""),
                ("tag/krakow", "Kraków"),
                ("tag/poland", "Poland"),
                ("author/jane-doe", "Jane Doe"),
            ]
        );
    }
}
