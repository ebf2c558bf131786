//! A feed's preview: the HTML page a browser is shown in the feed's place, built beside the
//! feed from the same items (title, a note saying what a feed is with its URL to copy, the
//! items with their lead image, date and link). No script, no XSLT: it outlives browsers'
//! XSLT. Served as `<file>.html` too, and exported so, for static hosts. A feed built on
//! demand has one as well, built only when a browser asks (`ondemand`); an archive document
//! has none: it is no feed to subscribe to.

use std::fmt::Write;

use super::html::{alternate, alternate_link, document};
use super::{FeedSource, Format};
use crate::archive;
use crate::item::FeedItem;
use crate::sanitize::escape;

/// The preview's file name: `world.rss.html` for `world.rss`.
pub fn file_name(feed: &str) -> String {
    format!("{feed}.html")
}

/// The feed file a preview's name is of (`world.rss` of `world.rss.html`), if it is one.
pub fn feed_of(name: &str) -> Option<&str> {
    name.strip_suffix(".html").filter(|feed| has_preview(feed))
}

/// Whether the file `name` has a preview: every feed does, whatever its format; the site's
/// other files and archive documents are for programs.
pub fn has_preview(name: &str) -> bool {
    Format::of_file(name).is_some() && archive::parse(name).is_none()
}

/// Renders the preview of `source`'s feed in each format, in `Format::ALL` order. The
/// items are the same in the three pages: their markup is written once.
pub(super) fn render(source: &FeedSource<'_>) -> [Vec<u8>; 3] {
    let items = items(source);
    Format::ALL.map(|format| page(format, source, &items))
}

/// Renders the preview of `source`'s feed in `format` alone: a feed built on demand's, whose
/// three pages are built apart, each when a browser asks for it.
pub(super) fn render_one(source: &FeedSource<'_>, format: Format) -> Vec<u8> {
    page(format, source, &items(source))
}

/// The markup of the items, the same in the pages of every format.
fn items(source: &FeedSource<'_>) -> String {
    let mut items = String::with_capacity(256 + source.items.len() * 1024);
    items.push_str("<main>\n");
    for item in source.items {
        write_item(&mut items, source, item);
    }
    if source.items.is_empty() {
        items.push_str("<p>Nothing published here yet.</p>\n");
    }
    items.push_str("</main>\n");
    items
}

/// The preview of the feed in `format`, around its `items` markup.
fn page(format: Format, source: &FeedSource<'_>, items: &str) -> Vec<u8> {
    let (site, section) = (source.site, source.section);
    let url = source.self_url(format);
    let mut body = String::with_capacity(1024 + items.len());
    let _ = write!(
        body,
        "<p class=\"notice\">This is a news feed ({label}). Copy its URL into your feed reader \
         to subscribe:<br><code>{url}</code></p>\n<h1>{title}</h1>\n",
        label = format.label(),
        url = escape(&url),
        title = escape(&section.title),
    );
    if !section.description.trim().is_empty() {
        let _ = writeln!(body, "<p>{}</p>", escape(&section.description));
    }
    let _ = write!(
        body,
        "<p class=\"meta\"><a href=\"{link}\">{site_title}</a> · also as",
        link = escape(section.link.as_str()),
        site_title = escape(&site.title),
    );
    let others = Format::ALL.into_iter().filter(|&f| f != format);
    for (i, other) in others.enumerate() {
        let _ = write!(
            body,
            "{} <a href=\"{}\">{}</a>",
            if i == 0 { "" } else { "," },
            escape(&source.self_url(other)),
            other.label()
        );
    }
    let _ = writeln!(
        body,
        " · <a href=\"{}\">every feed of the site</a></p>",
        escape(&site.feed_url(""))
    );
    body.push_str(items);
    // A feed built on demand is titled after the site already (`Test Times: Kraków`), and
    // is no section's: its links name its own files.
    let (head, title) = match source.key {
        None => (
            alternate_link(site, section, format),
            format!("{} · {}", section.title, site.title),
        ),
        Some(_) => (
            alternate(format, &section.title, &url),
            section.title.clone(),
        ),
    };
    let head = head + "\n";
    document(site, &title, &head, &body)
}

fn write_item(body: &mut String, source: &FeedSource<'_>, item: &FeedItem) {
    let url = escape(&item.url);
    body.push_str("<article class=\"item\">");
    let lead = item.lead_image().map(|(image, _)| image);
    if let Some((image, src)) = lead.and_then(|image| Some((image, image.preview()?))) {
        // Out of the tab order: the headline beside it is the same link, once is enough.
        let _ = write!(
            body,
            "<a href=\"{url}\" tabindex=\"-1\"><img src=\"{}\" alt=\"{}\" loading=\"lazy\"></a>",
            escape(src),
            escape(image.description.as_deref().unwrap_or_default()),
        );
    }
    let _ = write!(
        body,
        "<div><h3><a href=\"{url}\">{title}</a></h3><p class=\"meta\">\
         <time datetime=\"{datetime}\">{date}</time>",
        title = escape(&item.title),
        datetime = item.published.to_rfc3339(),
        date = item.published.to_utc().format("%-d %B %Y, %H:%M UTC"),
    );
    let authors: Vec<&str> = source.authors(item).map(|(name, _)| name).collect();
    let _ = write!(body, " · {}</p>", escape(&authors.join(", ")));
    if let Some(summary) = &item.summary_text {
        let _ = write!(body, "<p>{}</p>", escape(summary));
    }
    body.push_str("</div></article>\n");
}
