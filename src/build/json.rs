//! JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) with serde.

use serde::Serialize;

use super::{Entry, FeedSource, Format};
use crate::article::Medium;

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    favicon: Option<&'a str>,
    authors: Vec<Author<'a>>,
    language: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    id: String,
    url: &'a str,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<&'a str>,
    /// JSON Feed needs content_html or content_text; text stands in when there is no HTML.
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    banner_image: Option<&'a str>,
    date_published: String,
    date_modified: String,
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    tags: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment<'a>>,
}

#[derive(Serialize)]
struct Attachment<'a> {
    url: &'a str,
    mime_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_in_seconds: Option<u32>,
}

pub(super) fn render(source: &FeedSource<'_>, entries: &[Entry<'_>]) -> Vec<u8> {
    let site = source.site;
    let section = source.section;
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &section.title,
        home_page_url: section.link.as_str(),
        feed_url: source.self_url(Format::Json),
        description: (!section.description.trim().is_empty()).then_some(&section.description),
        icon: site.logo.as_ref().map(|u| u.as_str()),
        favicon: site.icon.as_ref().map(|u| u.as_str()),
        authors: vec![Author {
            name: &site.default_author,
            url: Some(site.url.as_str()),
        }],
        language: &site.language,
        hubs: site
            .websub_hubs
            .iter()
            .map(|hub| Hub {
                kind: "WebSub",
                url: hub.as_str(),
            })
            .collect(),
        items: entries.iter().map(|e| item(source, e)).collect(),
    };
    serde_json::to_vec(&feed).expect("a JSON Feed always serializes")
}

fn item<'a>(source: &FeedSource<'_>, entry: &'a Entry<'_>) -> Item<'a> {
    let article = entry.article;
    let content_html = entry.content.as_deref().or(entry.summary.as_deref());
    let lead_image = article.image.as_ref().map(|i| i.url.as_str());
    Item {
        id: source.entry_id(article.id.as_str()),
        url: article.url.as_str(),
        title: &entry.title,
        content_html,
        content_text: content_html.is_none().then_some(entry.title.as_str()),
        summary: entry.summary_text.as_deref(),
        image: lead_image.or_else(|| entry.media.iter().find_map(|m| m.preview()).map(|u| u.as_str())),
        banner_image: lead_image,
        date_published: entry.published().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        date_modified: entry.updated().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        authors: entry
            .authors
            .iter()
            .map(|a| Author {
                name: &a.name,
                url: a.url,
            })
            .collect(),
        tags: &entry.tags,
        attachments: entry
            .media
            .iter()
            .filter(|m| m.medium != Medium::Image)
            .map(|m| Attachment {
                url: m.file.as_ref().unwrap_or(&m.page).as_str(),
                // A player has no file: the attachment is its page.
                mime_type: m.mime.as_deref().unwrap_or(if m.file.is_some() {
                    "application/octet-stream"
                } else {
                    "text/html"
                }),
                title: m.title.as_deref(),
                size_in_bytes: m.length,
                duration_in_seconds: m.duration,
            })
            .collect(),
    }
}
