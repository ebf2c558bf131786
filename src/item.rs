//! `FeedItem`: a published article prepared for feeds once, when it is written, not on every
//! build: HTML sanitized, a description found, media collected. Its plain-text fields were
//! cleaned when the article was accepted (`article`). Builders only serialize items; the
//! store keeps them beside the articles. Preparing is the writer's job
//! (`PreparedArticle`), done before a store call: the store only stores (and, when the
//! rules change, runs the preparer it is handed over what it keeps).

use chrono::{DateTime, FixedOffset, SubsecRound};
use serde::{Deserialize, Serialize};

use crate::article::{Article, ArticleId};
use crate::media::{self, MediaItem};
use crate::sanitize::{clean_html, escape, excerpt, expand_bare_players, plain_text};
use crate::text;

/// Bump when preparation changes (sanitizer rules, media extraction): every stored
/// article is then prepared again when pressfeed opens the store (`app::prepare_stale`).
pub const PREPARATION: i64 = 4;

/// Words of a description made from the body: what feed readers' list views show under a
/// headline, about the length of a news summary.
const DESCRIPTION_WORDS: usize = 55;

/// A published article ready for the builders: text clean, HTML sanitized, media collected.
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
    /// The article's tags, cleaned.
    pub tags: Vec<String>,
    /// Sanitized HTML: the article's summary, or, when it has none with text, the start of
    /// its body as text (the body itself when it shows only media); `None` only when the
    /// article shows nothing but its title. Not in the JSON form: the store keeps the HTML
    /// beside it.
    #[serde(skip)]
    pub summary_html: Option<String>,
    /// The description as plain text, for formats that want text; `None` when it has none.
    pub summary_text: Option<String>,
    /// The sanitized body, bare video links made previews; `None` when it shows nothing.
    /// Not in the JSON form, like `summary_html`.
    #[serde(skip)]
    pub body_html: Option<String>,
    /// Lead image first when there is one.
    pub media: Vec<MediaItem>,
    pub(crate) has_lead_image: bool,
}

/// An author as feeds name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemAuthor {
    /// The article's author name, cleaned.
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
        let media = media::collect(article);
        let video_title = |player: &media::embed::Player| {
            let listed = media.iter().find(|m| m.page == player.page_url.as_str());
            listed
                .and_then(|m| m.title.clone())
                .unwrap_or_else(|| article.title.clone())
        };
        let body_html = article
            .body_html
            .as_deref()
            .map(|b| clean_html(b, base))
            .filter(|html| shows_something(html))
            .map(|html| expand_bare_players(&html, video_title).unwrap_or(html));
        let summary = article.summary.as_deref().and_then(|s| {
            let html = clean_html(s, base);
            let text = plain_text(&html);
            (!text.is_empty()).then_some((html, text))
        });
        // A body that shows only media describes itself: an RSS reader picks up the
        // description when it skips `content:encoded`, and the W3C Feed Validator asks for
        // one before it.
        let (summary_html, summary_text) = match (summary, body_html.as_deref()) {
            (Some((html, text)), _) => (Some(html), Some(text)),
            (None, Some(body)) => match excerpt(body, DESCRIPTION_WORDS) {
                Some(text) => (Some(escape(&text).into_owned()), Some(text)),
                None => (Some(body.to_owned()), None),
            },
            (None, None) => (None, None),
        };
        Some(FeedItem {
            id: article.id.clone(),
            url: article.url.to_string(),
            title: article.title.clone(),
            published,
            updated: article.updated_at.unwrap_or(published).trunc_subsecs(0),
            authors: article
                .authors
                .iter()
                .map(|a| ItemAuthor {
                    name: a.name.clone(),
                    url: a.url.as_ref().map(ToString::to_string),
                })
                .collect(),
            tags: article.tags.clone(),
            summary_text,
            summary_html,
            body_html,
            media,
            has_lead_image: article.image.is_some(),
        })
    }

    /// The lead image and its MIME type (an image of unknown type is most likely a JPEG).
    pub fn lead_image(&self) -> Option<(&MediaItem, &str)> {
        let image = self.media.first().filter(|_| self.has_lead_image)?;
        Some((image, image.mime.as_deref().unwrap_or("image/jpeg")))
    }
}

/// True when sanitized HTML shows a reader anything: text, or an embedded medium.
fn shows_something(html: &str) -> bool {
    // Nearly every body has a visible character outside its first tag: found in a few
    // bytes, without a parse. An entity (`&nbsp;`) is left to the parse.
    let (mut in_tag, mut in_entity) = (false, false);
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            '&' => in_entity = true,
            ';' => in_entity = false,
            c if !in_tag && !in_entity && text::visible(c) => return true,
            _ => {}
        }
    }
    ["<img", "<video", "<audio", "<iframe"]
        .iter()
        .any(|tag| html.contains(tag))
        || !plain_text(html).is_empty()
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
        Article::from_value(doc).unwrap().article
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
    fn an_article_without_a_summary_is_described_by_its_body() {
        let body = format!("<p>Fish &amp; chips, {}</p>", "word ".repeat(100));
        let item = FeedItem::prepare(&article(serde_json::json!({
            "summary": "<p>\u{200B}</p>", "body_html": body,
        })))
        .unwrap();
        let text = item.summary_text.as_deref().unwrap();
        assert!(
            text.starts_with("Fish & chips, word") && text.ends_with("word…"),
            "{text}"
        );
        assert_eq!(text.split(' ').count(), DESCRIPTION_WORDS);
        assert_eq!(
            item.summary_html.as_deref().unwrap(),
            text.replace('&', "&amp;"),
            "the same words, as HTML"
        );

        let bare = FeedItem::prepare(&article(serde_json::json!({
            "summary": " ", "body_html": "<p> </p><script>x()</script>",
        })))
        .unwrap();
        assert_eq!(
            (bare.summary_html, bare.summary_text, bare.body_html),
            (None, None, None)
        );
        let pictured = FeedItem::prepare(&article(serde_json::json!({
            "summary": null, "body_html": "<p><img src=\"/a.jpg\"></p>",
        })))
        .unwrap();
        assert_eq!(
            pictured.summary_html, pictured.body_html,
            "it describes itself"
        );
        assert!(pictured.body_html.is_some() && pictured.summary_text.is_none());
    }

    #[test]
    fn a_bare_video_link_is_previewed_under_its_listed_title_or_the_headline() {
        let body = "<p>Text</p><p>https://www.youtube.com/watch?v=SJ6vaRpQ0fc</p>";
        let listed = FeedItem::prepare(&article(serde_json::json!({
            "body_html": body,
            "media": [{"url": "https://youtu.be/SJ6vaRpQ0fc", "title": "Briefing"}],
        })))
        .unwrap();
        let html = listed.body_html.unwrap();
        assert!(
            html.contains(">Watch on YouTube: Briefing</a></figcaption>"),
            "{html}"
        );
        assert_eq!(listed.media.len(), 1, "the medium itself stays as it was");
        let unlisted = FeedItem::prepare(&article(serde_json::json!({"body_html": body}))).unwrap();
        let html = unlisted.body_html.unwrap();
        assert!(html.contains(">Watch on YouTube: Bell rings</a>"), "{html}");
        assert_eq!(
            unlisted.media[0].page,
            "https://www.youtube.com/watch?v=SJ6vaRpQ0fc"
        );
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
