//! JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) with serde.

use std::borrow::Cow;

use serde::Serialize;

use super::{FeedSource, Format};
use crate::article::Medium;
use crate::item::FeedItem;
use crate::media::MediaItem;

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
    name: Cow<'a, str>,
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

pub(super) fn render(source: &FeedSource<'_>) -> Vec<u8> {
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
            name: Cow::Borrowed(&site.default_author),
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
        items: source.items.iter().map(|i| item(source, i)).collect(),
    };
    serde_json::to_vec(&feed).expect("a JSON Feed always serializes")
}

fn item<'a>(source: &'a FeedSource<'_>, item: &'a FeedItem) -> Item<'a> {
    let content_html = source.content(item).or(item.summary_html.as_deref());
    let lead_image = item.lead_image().map(|(image, _)| image.page.as_str());
    Item {
        id: source.entry_id(item.id.as_str()),
        url: item.url.as_str(),
        title: &item.title,
        content_html,
        content_text: content_html.is_none().then_some(item.title.as_str()),
        summary: item.summary_text.as_deref(),
        image: lead_image.or_else(|| item.media.iter().find_map(MediaItem::preview)),
        banner_image: lead_image,
        date_published: item
            .published
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        date_modified: item
            .updated
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        authors: source
            .authors(item)
            .into_iter()
            .map(|(name, url)| Author {
                name: Cow::Owned(name),
                url,
            })
            .collect(),
        tags: &item.tags,
        attachments: item
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
