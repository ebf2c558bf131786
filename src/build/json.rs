//! JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/), written straight into the output
//! bytes. Strings are escaped with SIMD (json-escape-simd): the items' HTML is most of a
//! feed, and serde_json's byte-at-a-time escaping of it was most of the format's cost.
//! serde_json reads every feed back in the tests.

use chrono::{DateTime, FixedOffset, SecondsFormat};

use super::{FeedSource, Format};
use crate::article::Medium;
use crate::item::FeedItem;
use crate::media::MediaItem;

pub(super) fn render(source: &FeedSource<'_>) -> Vec<u8> {
    let site = source.site;
    let section = source.section;
    let mut out = Vec::with_capacity(source.size_hint());
    let mut feed = Object::new(&mut out);
    feed.str("version", "https://jsonfeed.org/version/1.1");
    feed.str("title", &section.title);
    feed.str("home_page_url", section.link.as_str());
    // The feed's identity (JSON Feed 1.1): an archive document names its subscription's.
    feed.str("feed_url", &source.current_url(Format::Json));
    // Pagination: each document names the one of the month before.
    if let Some(older) = (source.archive_links(Format::Json).into_iter())
        .find_map(|(rel, url)| (rel == "prev-archive").then_some(url))
    {
        feed.str("next_url", &older);
    }
    if !section.description.trim().is_empty() {
        feed.str("description", &section.description);
    }
    feed.opt_str("icon", site.logo.as_ref().map(|u| u.as_str()));
    feed.opt_str("favicon", site.icon.as_ref().map(|u| u.as_str()));
    feed.list(
        "authors",
        [(site.default_author.as_str(), Some(site.url.as_str()))],
        author,
    );
    feed.str("language", &site.language);
    if !site.websub_hubs.is_empty() {
        feed.list("hubs", &site.websub_hubs, |hub, url| {
            hub.str("type", "WebSub");
            hub.str("url", url.as_str());
        });
    }
    let id_prefix = site.id_prefix();
    feed.list("items", source.items, |object, i| {
        item(object, source, &id_prefix, i)
    });
    feed.end();
    out
}

fn item(object: &mut Object<'_>, source: &FeedSource<'_>, id_prefix: &str, item: &FeedItem) {
    let content_html = source.content(item).or(item.summary_html.as_deref());
    let lead_image = item.lead_image().map(|(image, _)| image.page.as_str());
    object.str("id", &format!("{id_prefix}{}", item.id.as_str()));
    object.str("url", &item.url);
    object.str("title", &item.title);
    match content_html {
        Some(html) => object.str("content_html", html),
        // JSON Feed needs content_html or content_text; text stands in when there is no HTML.
        None => object.str("content_text", &item.title),
    }
    object.opt_str("summary", item.summary_text.as_deref());
    object.opt_str(
        "image",
        lead_image.or_else(|| item.media.iter().find_map(MediaItem::preview)),
    );
    object.opt_str("banner_image", lead_image);
    let date = |d: &DateTime<FixedOffset>| d.to_rfc3339_opts(SecondsFormat::Secs, true);
    object.str("date_published", &date(&item.published));
    object.str("date_modified", &date(&item.updated));
    object.list("authors", source.authors(item), author);
    if !item.tags.is_empty() {
        object.key("tags");
        object.out.push(b'[');
        for (n, tag) in item.tags.iter().enumerate() {
            if n > 0 {
                object.out.push(b',');
            }
            json_escape_simd::escape_into(tag, object.out);
        }
        object.out.push(b']');
    }
    let mut attachments = item
        .media
        .iter()
        .filter(|m| m.medium != Medium::Image)
        .peekable();
    if attachments.peek().is_some() {
        object.list("attachments", attachments, attachment);
    }
}

fn author(object: &mut Object<'_>, (name, url): (&str, Option<&str>)) {
    object.str("name", name);
    object.opt_str("url", url);
}

fn attachment(object: &mut Object<'_>, m: &MediaItem) {
    object.str("url", m.file.as_ref().unwrap_or(&m.page));
    // A player has no file: the attachment is its page.
    let fallback = if m.file.is_some() {
        "application/octet-stream"
    } else {
        "text/html"
    };
    object.str("mime_type", m.mime.as_deref().unwrap_or(fallback));
    object.opt_str("title", m.title.as_deref());
    if let Some(size) = m.length {
        object.key("size_in_bytes");
        object.out.extend_from_slice(size.to_string().as_bytes());
    }
    if let Some(duration) = m.duration {
        object.key("duration_in_seconds");
        object
            .out
            .extend_from_slice(duration.to_string().as_bytes());
    }
}

/// A JSON object being written: `{`, then members, then `end`'s `}`.
struct Object<'o> {
    out: &'o mut Vec<u8>,
    empty: bool,
}

impl<'o> Object<'o> {
    fn new(out: &'o mut Vec<u8>) -> Object<'o> {
        out.push(b'{');
        Object { out, empty: true }
    }

    fn end(self) {
        self.out.push(b'}');
    }

    /// `"key":`, after a comma unless it is the first member. Keys are plain ASCII.
    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        json_escape_simd::escape_into(value, self.out);
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.str(key, value);
        }
    }

    /// An array of objects, each written by `member`.
    fn list<T>(
        &mut self,
        key: &str,
        values: impl IntoIterator<Item = T>,
        member: impl Fn(&mut Object<'_>, T),
    ) {
        self.key(key);
        self.out.push(b'[');
        for (n, value) in values.into_iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            let mut object = Object::new(self.out);
            member(&mut object, value);
            object.end();
        }
        self.out.push(b']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut out = Vec::new();
        let mut object = Object::new(&mut out);
        object.str("s", "q\"\\\n\u{1}\u{2028}é</script>");
        object.end();
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed["s"], "q\"\\\n\u{1}\u{2028}é</script>");
    }

    #[test]
    fn objects_and_lists_are_well_formed() {
        let mut out = Vec::new();
        let mut object = Object::new(&mut out);
        object.str("a", "x");
        object.list("b", [1, 2], |o, n| o.str("n", &n.to_string()));
        object.list("c", Vec::<u8>::new(), |_, _| {});
        object.opt_str("d", None);
        object.end();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":"x","b":[{"n":"1"},{"n":"2"}],"c":[]}"#
        );
    }
}
