//! `FeedItem`: a published article prepared for feeds once, when it is written, not on every
//! build: HTML sanitized, summary as text, media collected, text made XML-safe. Builders
//! only serialize items; the store keeps them beside the articles. Preparing is the
//! writer's job (`PreparedArticle`), done before a store call: the store only stores (and,
//! when the rules change, runs the preparer it is handed over what it keeps). Media
//! captions and credits are made XML-safe by the writer in `build`, which drops what XML
//! forbids from every text it writes.

use chrono::{DateTime, FixedOffset, SubsecRound};
use serde::{Deserialize, Serialize};

use crate::article::{Article, ArticleId};
use crate::media::{self, MediaItem};
use crate::sanitize::{clean_html, plain_text, xml_safe};

/// Bump when preparation changes (sanitizer rules, media extraction): every stored
/// article is then prepared again when pressfeed opens the store (`app::prepare_stale`).
pub const PREPARATION: i64 = 3;

/// A published article ready for the builders: text XML-safe, HTML sanitized, media collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedItem {
    /// The article's id, from which feeds derive the item's guid.
    pub id: ArticleId,
    /// Strings, not parsed URLs: items are only written out, and decode faster this way.
    pub url: String,
    pub(crate) title: String,
    /// Whole seconds: feeds carry no fractions, and equal input must give equal bytes.
    pub published: DateTime<FixedOffset>,
    /// The article's `updated_at`, whole seconds too; the newest is the feed's `updated`.
    pub updated: DateTime<FixedOffset>,
    /// Empty when the article names none: the site's default author applies at render
    /// time, so a change of default reaches old articles too.
    pub authors: Vec<ItemAuthor>,
    /// The article's tags, made XML-safe.
    pub tags: Vec<String>,
    /// Sanitized HTML. Not in the JSON form: the store keeps the HTML beside it.
    #[serde(skip)]
    pub summary_html: Option<String>,
    /// The summary as plain text, for formats that want text.
    pub summary_text: Option<String>,
    /// The sanitized body. Not in the JSON form, like `summary_html`.
    #[serde(skip)]
    pub body_html: Option<String>,
    /// Lead image first when there is one.
    pub media: Vec<MediaItem>,
    pub(crate) has_lead_image: bool,
}

/// An author as feeds name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemAuthor {
    /// The article's author name, made XML-safe.
    pub name: String,
    pub(crate) url: Option<String>,
}

impl FeedItem {
    /// The feed item of a published article; `None` for one that can never be in a feed
    /// (a draft, or an article without `published_at`).
    pub fn prepare(article: &Article) -> Option<FeedItem> {
        if article.status != crate::article::Status::Published {
            return None;
        }
        let published = article.published_at?.trunc_subsecs(0);
        let base = article.url.as_url();
        let summary_html = article.summary.as_deref().map(|s| clean_html(s, base));
        Some(FeedItem {
            id: article.id.clone(),
            url: article.url.to_string(),
            title: xml_safe(&article.title).into_owned(),
            published,
            updated: article.updated_at.unwrap_or(published).trunc_subsecs(0),
            authors: article
                .authors
                .iter()
                .map(|a| ItemAuthor {
                    name: xml_safe(&a.name).into_owned(),
                    url: a.url.as_ref().map(ToString::to_string),
                })
                .collect(),
            tags: article
                .tags
                .iter()
                .map(|t| xml_safe(t).into_owned())
                .collect(),
            summary_text: summary_html.as_deref().map(plain_text),
            summary_html,
            body_html: article.body_html.as_deref().map(|b| clean_html(b, base)),
            media: media::collect(article),
            has_lead_image: article.image.is_some(),
        })
    }

    /// The lead image and its MIME type (an image of unknown type is most likely a JPEG).
    pub fn lead_image(&self) -> Option<(&MediaItem, &str)> {
        let image = self.media.first().filter(|_| self.has_lead_image)?;
        Some((image, image.mime.as_deref().unwrap_or("image/jpeg")))
    }
}

/// An article ready to store: its canonical JSON and its feed item, made before the store
/// call (perhaps on another thread) because sanitizing is the expensive part of a write and
/// the store writes one batch at a time.
#[derive(Debug, Clone)]
pub struct PreparedArticle {
    article: Article,
    /// The article's canonical JSON.
    doc: String,
    /// `None` for an article that can never be in a feed (a draft).
    item: Option<StoredItem>,
}

impl PreparedArticle {
    /// Does the expensive part of a write (sanitizing, collecting media) for `article`.
    pub fn new(article: Article) -> PreparedArticle {
        PreparedArticle {
            doc: article.to_json(),
            item: StoredItem::new(&article),
            article,
        }
    }

    pub(crate) fn article(&self) -> &Article {
        &self.article
    }

    /// The article's canonical JSON, as stores keep it.
    pub(crate) fn doc(&self) -> &str {
        &self.doc
    }

    pub(crate) fn item(&self) -> Option<&StoredItem> {
        self.item.as_ref()
    }
}

/// A `FeedItem` in the form stores keep it: its HTML apart, so a build reads it back
/// without unescaping (the biggest part of decoding an item), the rest as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredItem {
    /// The item's JSON form, which leaves the HTML out.
    pub(crate) json: String,
    pub(crate) summary_html: Option<String>,
    pub(crate) body_html: Option<String>,
}

impl StoredItem {
    /// The prepared item of `article`; `None` where `FeedItem::prepare` has none.
    pub fn new(article: &Article) -> Option<StoredItem> {
        let mut item = FeedItem::prepare(article)?;
        let summary_html = item.summary_html.take();
        let body_html = item.body_html.take();
        Some(StoredItem {
            json: serde_json::to_string(&item).expect("a FeedItem always serializes"),
            summary_html,
            body_html,
        })
    }

    /// The `FeedItem` a store kept as these three parts (what `new` made): its JSON and
    /// its HTML put back.
    pub(crate) fn decode(
        json: &str,
        summary_html: Option<String>,
        body_html: Option<String>,
    ) -> Result<FeedItem, serde_json::Error> {
        let mut item: FeedItem = serde_json::from_str(json)?;
        item.summary_html = summary_html;
        item.body_html = body_html;
        Ok(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(extra: serde_json::Value) -> Article {
        let mut doc = serde_json::json!({
            "id": "a", "url": "https://news.example/a/", "title": "Bell\u{7} rings",
            "sections": ["world"], "published_at": "2022-05-14T09:30:00.123+02:00",
            "summary": "<p>Fish &amp; <b>chips</b></p>",
            "body_html": "<p>ok</p><script>x()</script><img src=\"/i.png\">",
        });
        for (k, v) in extra.as_object().unwrap() {
            doc[k] = v.clone();
        }
        Article::from_value(doc).unwrap()
    }

    #[test]
    fn prepares_text_html_and_media_once() {
        let item = FeedItem::prepare(&article(serde_json::json!({}))).unwrap();
        assert_eq!(item.title, "Bell rings");
        assert_eq!(item.published.to_rfc3339(), "2022-05-14T09:30:00+02:00");
        assert_eq!(item.updated, item.published);
        assert_eq!(item.summary_text.as_deref(), Some("Fish & chips"));
        let body = item.body_html.as_deref().unwrap();
        assert!(
            !body.contains("script") && body.contains("https://news.example/i.png"),
            "{body}"
        );
        assert_eq!(item.media.len(), 1);
        assert!(
            item.lead_image().is_none(),
            "a body image is not a lead image"
        );
    }

    #[test]
    fn a_prepared_article_keeps_its_items_html_apart_from_its_json() {
        let published = article(serde_json::json!({}));
        let item = FeedItem::prepare(&published).unwrap();
        let prepared = PreparedArticle::new(published.clone());
        assert_eq!(prepared.doc(), published.to_json());
        let stored = prepared.item().unwrap();
        assert_eq!(stored.summary_html, item.summary_html);
        assert_eq!(stored.body_html, item.body_html);
        assert!(!stored.json.contains("<p>"), "{}", stored.json);
        let draft = PreparedArticle::new(article(serde_json::json!({"status": "draft"})));
        assert!(draft.item().is_none());
    }

    #[test]
    fn drafts_have_no_feed_item() {
        assert!(FeedItem::prepare(&article(serde_json::json!({"status": "draft"}))).is_none());
    }

    #[test]
    fn round_trips_through_json_but_for_its_html() {
        let item = FeedItem::prepare(&article(serde_json::json!({
            "image": {"url": "https://cdn.example/a.webp"},
        })))
        .unwrap();
        let mut back: FeedItem =
            serde_json::from_str(&serde_json::to_string(&item).unwrap()).unwrap();
        assert_eq!(back.body_html, None);
        back.summary_html = item.summary_html.clone();
        back.body_html = item.body_html.clone();
        assert_eq!(back, item);
        assert_eq!(item.lead_image().unwrap().1, "image/webp");
    }
}
