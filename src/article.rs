//! The article: the JSON shape the CMS sends, parsed into a validated `Article`.
//!
//! Validation happens here, once, at the edge: everything downstream (store, builders) can
//! rely on the invariants. Rendering and media extraction live elsewhere.

use std::fmt;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::link::HttpUrl;
use crate::markup;
use crate::slug::Slug;
use crate::text;

/// Longest article id accepted.
const MAX_ID_LEN: usize = 200;

/// Why an article was rejected, naming the field (a path such as `image.width` or `tags[3]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArticleError {
    /// Not JSON, or not one JSON object; serde_json's message without its position.
    #[error("not valid JSON: {0}")]
    Syntax(String),
    /// A field is missing or breaks its rule.
    #[error("{field}: {reason}")]
    Field {
        /// The field's path, such as `image.width` or `tags[3]`.
        field: String,
        /// What is wrong with it, in words for the editor (`required` when it is missing).
        reason: String,
    },
}

impl ArticleError {
    fn field(field: &str, reason: impl Into<String>) -> Self {
        ArticleError::Field {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// The offending field, for API error bodies.
    pub fn field_name(&self) -> Option<&str> {
        match self {
            ArticleError::Syntax(_) => None,
            ArticleError::Field { field, .. } => Some(field),
        }
    }
}

/// An article id: 1–200 characters of `A-Za-z0-9._:-`, stable for the life of the article
/// because feeds derive their guids from it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ArticleId(String);

impl ArticleId {
    /// Checks `s` against the id rules; the error names the rule it breaks.
    pub fn parse(s: &str) -> Result<ArticleId, String> {
        if s.is_empty() || s.len() > MAX_ID_LEN {
            return Err(format!("must be 1 to {MAX_ID_LEN} characters"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
        {
            return Err(format!("{c:?} is not allowed; use A-Z a-z 0-9 . _ : -"));
        }
        Ok(ArticleId(s.to_owned()))
    }

    /// The id as the CMS sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ArticleId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ArticleId::parse(&s)
    }
}

impl From<ArticleId> for String {
    fn from(id: ArticleId) -> String {
        id.0
    }
}

impl fmt::Display for ArticleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Status {
    #[default]
    Published,
    Draft,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Author {
    pub(crate) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) url: Option<HttpUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
}

/// The lead image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub(crate) url: HttpUrl,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub(crate) mime: Option<String>,
    /// Pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) height: Option<u32>,
    /// Size in bytes, for the RSS enclosure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) credit: Option<String>,
}

/// The kinds of Media RSS `medium`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Medium {
    Image,
    Video,
    Audio,
    Document,
    Executable,
}

/// A medium listed explicitly by the CMS, beyond the lead image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Media {
    pub(crate) url: HttpUrl,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) medium: Option<Medium>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub(crate) mime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) thumbnail: Option<HttpUrl>,
}

/// A validated article. Field-level rules are enforced by the field types while
/// deserializing; the rules that relate fields to each other by `Article::check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub(crate) id: ArticleId,
    pub(crate) url: HttpUrl,
    /// The headline, cleaned (`text::clean`); never without a visible character.
    pub title: String,
    /// Section slugs; the first is the primary section.
    pub sections: Vec<Slug>,
    #[serde(default)]
    pub(crate) status: Status,
    #[serde(default, with = "rfc3339", skip_serializing_if = "Option::is_none")]
    pub(crate) published_at: Option<DateTime<FixedOffset>>,
    /// After validation, set whenever `published_at` is (it defaults to it).
    #[serde(default, with = "rfc3339", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<FixedOffset>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) authors: Vec<Author>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body_html: Option<String>,
    /// Cleaned, those with nothing visible dropped, and only the first of tags that
    /// differ in case kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The lead image: first among the feed item's media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) media: Vec<Media>,
}

impl Article {
    /// Parses and validates one article from JSON text (one NDJSON line, one API body).
    pub fn from_json(text: &str) -> Result<Accepted, ArticleError> {
        // serde would also take a struct written as an array; an article is an object.
        if !text.trim_start().starts_with('{') {
            return Err(not_an_object());
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let article: Article = serde_path_to_error::deserialize(&mut de).map_err(from_serde)?;
        de.end()
            .map_err(|e| ArticleError::Syntax(strip_position(&e.to_string())))?;
        article.check()
    }

    /// Validates an article that arrived as part of a larger JSON document (an API array).
    pub fn from_value(value: serde_json::Value) -> Result<Accepted, ArticleError> {
        if !value.is_object() {
            return Err(not_an_object());
        }
        let article: Article = serde_path_to_error::deserialize(value).map_err(from_serde)?;
        article.check()
    }

    /// The canonical JSON of the article, as stored and as returned by the API.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an Article always serializes")
    }

    /// True when the article belongs in feeds at `now`: published and its time has come.
    pub fn is_live_at(&self, now: DateTime<chrono::Utc>) -> bool {
        self.status == Status::Published && self.published_at.is_some_and(|p| p <= now)
    }

    /// Cross-field rules, and normalisation that keeps feeds clean: every plain-text field
    /// cleaned by `text::clean`, optional ones that are left with nothing visible dropped
    /// (and named in the warnings), tags and sections de-duplicated.
    fn check(mut self) -> Result<Accepted, ArticleError> {
        let mut warnings = Vec::new();
        self.title = text::clean(&self.title);
        if self.title.is_empty() {
            return Err(ArticleError::field("title", NOTHING_VISIBLE));
        }
        if self.sections.is_empty() {
            return Err(ArticleError::field(
                "sections",
                "must list at least one section",
            ));
        }
        dedup_by_key(&mut self.sections, |s| s.as_str().to_owned());

        let mut i = 0;
        self.authors.retain_mut(|author| {
            author.name = text::clean(&author.name);
            let kept = !author.name.is_empty();
            if !kept {
                warnings.push(Warning::left_out(format!("authors[{i}].name"), "author"));
            }
            i += 1;
            kept
        });
        let mut i = 0;
        self.tags.retain_mut(|tag| {
            *tag = text::clean(tag);
            let kept = !tag.is_empty();
            if !kept {
                warnings.push(Warning::left_out(format!("tags[{i}]"), "tag"));
            }
            i += 1;
            kept
        });
        dedup_by_key(&mut self.tags, |t| t.to_lowercase());
        if let Some(image) = &mut self.image {
            clean_optional(&mut image.caption, "image.caption", &mut warnings);
            clean_optional(&mut image.credit, "image.credit", &mut warnings);
        }
        for (i, media) in self.media.iter_mut().enumerate() {
            clean_optional(
                &mut media.title,
                &format!("media[{i}].title"),
                &mut warnings,
            );
            clean_optional(
                &mut media.description,
                &format!("media[{i}].description"),
                &mut warnings,
            );
        }
        if let Some(mime) = self.image.as_ref().and_then(|i| i.mime.as_deref()) {
            check_mime("image.type", mime)?;
        }
        for (i, media) in self.media.iter().enumerate() {
            if let Some(mime) = media.mime.as_deref() {
                check_mime(&format!("media[{i}].type"), mime)?;
            }
        }

        // Before any HTML parser sees them: see `markup` for what makes HTML slow to parse.
        for (field, html) in [("summary", &self.summary), ("body_html", &self.body_html)] {
            if let Some(html) = html {
                markup::check(html).map_err(|reason| ArticleError::field(field, reason))?;
            }
        }

        match (self.status, self.published_at) {
            (Status::Published, None) => {
                return Err(ArticleError::field(
                    "published_at",
                    "required when status is \"published\"",
                ));
            }
            (_, Some(published)) => match self.updated_at {
                None => self.updated_at = Some(published),
                Some(updated) if updated < published => {
                    return Err(ArticleError::field(
                        "updated_at",
                        "must not be earlier than published_at",
                    ));
                }
                Some(_) => {}
            },
            (Status::Draft, None) => {}
        }
        Ok(Accepted {
            article: self,
            warnings,
        })
    }
}

/// What a field with no visible character is told.
const NOTHING_VISIBLE: &str = "has no visible characters";

/// An article that passed validation, and what was left out of it on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The article, cleaned.
    pub article: Article,
    /// The optional fields dropped because nothing visible was left of them, in field order.
    pub warnings: Vec<Warning>,
}

/// An optional field that was left out of an accepted article: the article is stored
/// without it rather than rejected for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Warning {
    /// The field's path, such as `tags[3]` or `authors[0].name`.
    pub field: String,
    /// What happened to it, in words for the editor.
    pub reason: String,
}

impl Warning {
    fn left_out(field: String, what: &str) -> Warning {
        Warning {
            field,
            reason: format!("{NOTHING_VISIBLE}; the {what} was left out"),
        }
    }
}

/// Cleans an optional text field, dropping it (with a warning) when nothing visible is left.
fn clean_optional(value: &mut Option<String>, field: &str, warnings: &mut Vec<Warning>) {
    if let Some(text) = value {
        *text = text::clean(text);
        if text.is_empty() {
            *value = None;
            warnings.push(Warning::left_out(field.to_owned(), "field"));
        }
    }
}

/// Keeps the first of each group of items with the same key, in order.
pub(crate) fn dedup_by_key<T>(items: &mut Vec<T>, key: impl Fn(&T) -> String) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|item| seen.insert(key(item)));
}

fn check_mime(field: &str, mime: &str) -> Result<(), ArticleError> {
    let valid = mime.split_once('/').is_some_and(|(kind, sub)| {
        let token = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
        };
        token(kind) && token(sub)
    });
    if valid {
        Ok(())
    } else {
        Err(ArticleError::field(
            field,
            format!("{mime:?} is not a MIME type like \"image/jpeg\""),
        ))
    }
}

fn not_an_object() -> ArticleError {
    ArticleError::Syntax("an article is a JSON object: {\"id\": ..., \"url\": ...}".into())
}

fn from_serde(e: serde_path_to_error::Error<serde_json::Error>) -> ArticleError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let message = strip_position(&inner.to_string());
    if inner.is_syntax() || inner.is_eof() {
        return ArticleError::Syntax(message);
    }
    // serde reports a missing field at its parent; name the field itself.
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path == "." {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        return ArticleError::Field {
            field,
            reason: "required".into(),
        };
    }
    if path == "." {
        return ArticleError::Syntax(message);
    }
    ArticleError::Field {
        field: path,
        reason: message,
    }
}

/// serde_json appends " at line L column C"; the field path says more to an editor.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Strict RFC 3339 (an offset is required), written back with `Z` for UTC.
mod rfc3339 {
    use super::*;

    pub fn serialize<S: Serializer>(
        value: &Option<DateTime<FixedOffset>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(dt) => s.serialize_str(&dt.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        DateTime::parse_from_rfc3339(&text).map(Some).map_err(|e| {
            serde::de::Error::custom(format!(
                "{text:?} is not an RFC 3339 date with an offset, like 2022-05-14T09:30:00Z ({e})"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{
      "id": "austin-shoigu-call-2022-05-14",
      "url": "https://asianlite.example/2022/05/14/austin-speaks-with-russian-counterpart/",
      "title": "Austin speaks with Russian counterpart for first time since Ukraine invasion",
      "sections": ["top-news", "world"],
      "status": "published",
      "published_at": "2022-05-14T09:30:00Z",
      "authors": [{"name": "Asian Lite News", "url": "https://asianlite.example/"}],
      "summary": "In a brief statement ...",
      "body_html": "<p>Text</p><p>https://www.youtube.com/watch?v=SJ6vaRpQ0fc</p>",
      "tags": ["Russia", "Ukraine", "russia", " "],
      "image": {"url": "https://cdn.asianlite.example/2022/05/austin.jpg", "type": "image/jpeg",
                "width": 1200, "height": 675, "length": 183211, "caption": "Lloyd Austin", "credit": "Pentagon"},
      "media": [{"url": "https://www.youtube.com/watch?v=SJ6vaRpQ0fc", "medium": "video", "duration": 95}],
      "something_new": {"ignored": true}
    }"#;

    fn with(field: &str, value: serde_json::Value) -> String {
        let mut doc: serde_json::Value = serde_json::from_str(SEED).unwrap();
        if value.is_null() {
            doc.as_object_mut().unwrap().remove(field);
        } else {
            doc[field] = value;
        }
        doc.to_string()
    }

    fn rejected_field(text: &str) -> String {
        match Article::from_json(text) {
            Err(ArticleError::Field { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_spec_example_and_fills_defaults() {
        let a = Article::from_json(SEED).unwrap().article;
        assert_eq!(a.id.as_str(), "austin-shoigu-call-2022-05-14");
        assert_eq!(
            a.updated_at, a.published_at,
            "updated_at defaults to published_at"
        );
        assert_eq!(
            a.tags,
            ["Russia", "Ukraine"],
            "trimmed, blank and duplicate tags dropped"
        );
        assert_eq!(a.image.as_ref().unwrap().length, Some(183211));
        assert_eq!(a.media[0].medium, Some(Medium::Video));
    }

    #[test]
    fn round_trips_through_canonical_json() {
        let a = Article::from_json(SEED).unwrap().article;
        assert_eq!(Article::from_json(&a.to_json()).unwrap().article, a);
        assert!(
            a.to_json()
                .contains("\"published_at\":\"2022-05-14T09:30:00Z\"")
        );
    }

    #[test]
    fn names_the_field_that_is_wrong() {
        use serde_json::json;
        let cases = [
            ("id", json!("has space"), "id"),
            ("id", json!("x".repeat(201)), "id"),
            ("url", json!("/relative/path"), "url"),
            ("url", json!("javascript:alert(1)"), "url"),
            ("title", json!("   "), "title"),
            ("sections", json!([]), "sections"),
            ("sections", json!(["world", "Top News"]), "sections[1]"),
            ("status", json!("live"), "status"),
            ("published_at", json!("2022-05-14 09:30"), "published_at"),
            ("published_at", json!("2022-05-14T09:30:00"), "published_at"),
            ("updated_at", json!("2022-05-13T09:30:00Z"), "updated_at"),
            (
                "image",
                json!({"url": "https://x.example/a.jpg", "width": -1}),
                "image.width",
            ),
            (
                "image",
                json!({"url": "https://x.example/a.jpg", "type": "jpeg"}),
                "image.type",
            ),
            ("image", json!({"width": 3}), "image.url"),
            ("title", json!("\u{200B}\u{7}\u{202E}"), "title"),
            ("tags", json!(["ok", 3]), "tags[1]"),
            (
                "media",
                json!([{"url": "ftp://x.example/a"}]),
                "media[0].url",
            ),
        ];
        for (field, value, expected) in cases {
            assert_eq!(
                rejected_field(&with(field, value.clone())),
                expected,
                "{field} = {value}"
            );
        }
        for required in ["id", "url", "title", "sections", "published_at"] {
            assert_eq!(
                rejected_field(&with(required, serde_json::Value::Null)),
                required
            );
        }
    }

    #[test]
    fn junk_in_optional_text_is_left_out_with_a_warning_not_a_rejection() {
        use serde_json::json;
        let mut doc: serde_json::Value = serde_json::from_str(SEED).unwrap();
        doc["title"] = json!(" \u{200F}Austin\u{1}  speaks\n");
        doc["authors"] = json!([{"name": "\u{7}"}, {"name": " Asian\u{200B} Lite "}]);
        doc["tags"] = json!(["\u{200B}", "Russia", "\u{FEFF} \u{202A}"]);
        doc["image"]["caption"] = json!("\u{2066}\u{2069}");
        doc["media"][0]["title"] = json!(" Briefing\t");
        let Accepted { article, warnings } = Article::from_value(doc).unwrap();
        assert_eq!(article.title, "\u{200F}Austin speaks");
        assert_eq!(article.authors.len(), 1);
        assert_eq!(article.authors[0].name, "Asian\u{200B} Lite");
        assert_eq!(article.tags, ["Russia"]);
        assert_eq!(article.image.unwrap().caption, None);
        assert_eq!(article.media[0].title.as_deref(), Some("Briefing"));
        let fields: Vec<_> = warnings.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(
            fields,
            ["authors[0].name", "tags[0]", "tags[2]", "image.caption"]
        );
        assert_eq!(
            warnings[0].to_string(),
            "authors[0].name: has no visible characters; the author was left out"
        );
    }

    #[test]
    fn a_title_with_nothing_visible_is_refused_in_words() {
        let err =
            Article::from_json(&with("title", serde_json::json!("\u{200B} \u{1}"))).unwrap_err();
        assert_eq!(err.to_string(), "title: has no visible characters");
    }

    #[test]
    fn html_that_would_stall_the_parser_is_refused_by_field() {
        use serde_json::json;
        let deep = "<div>".repeat(markup::MAX_NESTING + 1);
        let huge = "<p>x</p>".repeat(markup::MAX_HTML_BYTES / 8 + 1);
        for field in ["body_html", "summary"] {
            for html in [&deep, &huge] {
                assert_eq!(rejected_field(&with(field, json!(html))), field);
            }
        }
        let fine = format!("{}x{}", "<div>".repeat(100), "</div>".repeat(100));
        assert!(Article::from_json(&with("body_html", json!(fine))).is_ok());
    }

    #[test]
    fn a_draft_needs_no_dates() {
        let a = Article::from_json(
            r#"{"id":"d1","url":"https://x.example/d","title":"T","sections":["world"],"status":"draft"}"#,
        )
        .unwrap()
        .article;
        assert_eq!(a.status, Status::Draft);
        assert!(!a.is_live_at(chrono::Utc::now()));
    }

    #[test]
    fn bad_json_is_a_syntax_error_without_positions() {
        let trailing = format!("{SEED} trailing");
        for text in ["{", "[1,2]", "{\"id\": }", "nope", &trailing] {
            let err = Article::from_json(text).unwrap_err();
            assert!(matches!(err, ArticleError::Syntax(_)), "{text}: {err:?}");
            assert!(!err.to_string().contains(" at line "));
        }
    }
}
