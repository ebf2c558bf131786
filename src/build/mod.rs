//! Feed builders: a section and its prepared items in, the bytes of each feed format out.
//! Nothing here knows about HTTP; the same bytes are served and exported. Beside the feeds:
//! each feed's HTML preview for browsers, the site's feeds page and OPML list, and the
//! stylesheet that makes RSS and Atom readable in browsers that still run XSLT.

mod atom;
pub(crate) mod feeds_page;
mod html;
mod json;
mod media_rss;
pub(crate) mod opml;
pub(crate) mod preview;
mod rss;
mod xml;
pub(crate) mod xsl;

// The binary prints the list's URL; the rest of `opml` is the crate's business.
pub use opml::FILE_NAME as OPML_FILE_NAME;

use chrono::{DateTime, FixedOffset};

use crate::config::{ContentMode, Section, Site};
use crate::item::FeedItem;

/// The generator named in every feed.
const GENERATOR: &str = concat!("pressfeed ", env!("CARGO_PKG_VERSION"));

/// The formats every section is published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// RSS 2.0, `<slug>.rss`.
    Rss,
    /// Atom 1.0 (RFC 4287), `<slug>.atom`.
    Atom,
    /// JSON Feed 1.1, `<slug>.json`.
    Json,
}

impl Format {
    /// Every format, in the order a section's feeds are built and listed.
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    /// The format of a feed file name such as `world.rss`; `None` for other files.
    pub fn of_file(name: &str) -> Option<Format> {
        let (_, ext) = name.rsplit_once('.')?;
        Format::ALL.into_iter().find(|f| f.extension() == ext)
    }

    /// The file extension, which is also the URL suffix: `/feeds/<slug>.<ext>`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json",
        }
    }

    /// The media type alone, as `<link rel="alternate" type>` names it.
    pub(crate) fn media_type(self) -> &'static str {
        let content_type = self.content_type();
        content_type
            .split_once(';')
            .map_or(content_type, |(t, _)| t)
    }

    /// The format's name for people.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Format::Rss => "RSS",
            Format::Atom => "Atom",
            Format::Json => "JSON Feed",
        }
    }

    /// The feed's file name, e.g. `top-news.rss`.
    pub fn file_name(self, section: &Section) -> String {
        format!("{}.{}", section.slug, self.extension())
    }
}

/// Everything one feed is made of.
pub struct FeedSource<'a> {
    /// The site: its title, feed base URL and default author.
    pub site: &'a Site,
    /// The section the feed is of.
    pub section: &'a Section,
    /// Newest first, already limited: the builders render what they are given.
    pub items: &'a [FeedItem],
    /// The key of a feed built on demand (`all`, `tag/krakow`: its path under `/feeds/`
    /// and its id), whose `section` only lends the feed's title, links and rules; `None`
    /// for a section's own feed.
    pub key: Option<&'a str>,
}

impl FeedSource<'_> {
    /// The feed's file name in `format`: `world.rss`, `tag/krakow.rss`.
    fn file_name(&self, format: Format) -> String {
        match self.key {
            Some(key) => format!("{key}.{}", format.extension()),
            None => format.file_name(self.section),
        }
    }

    /// The public URL of this feed in `format`.
    fn self_url(&self, format: Format) -> String {
        self.site.feed_url(&self.file_name(format))
    }

    /// What follows the site's id prefix in the feed's Atom id: `section:<slug>`, or
    /// `feed:<key>` for a feed built on demand (no section takes a key's name).
    fn id(&self) -> [&str; 2] {
        match self.key {
            Some(key) => ["feed:", key],
            None => ["section:", self.section.slug.as_str()],
        }
    }

    /// The feed's `updated`: the newest change among its items. Derived from content, not
    /// the clock, so an unchanged feed rebuilds to the same bytes.
    fn updated(&self) -> DateTime<FixedOffset> {
        self.items
            .iter()
            .map(|item| item.updated)
            .max()
            .unwrap_or_default()
    }

    /// The body, when the section carries full content.
    fn content<'i>(&self, item: &'i FeedItem) -> Option<&'i str> {
        match self.section.content {
            ContentMode::Full => item.body_html.as_deref(),
            ContentMode::Summary => None,
        }
    }

    /// The item's authors as (name, url), or the site's default author.
    fn authors<'i>(
        &'i self,
        item: &'i FeedItem,
    ) -> impl Iterator<Item = (&'i str, Option<&'i str>)> {
        let default = item
            .authors
            .is_empty()
            .then_some((self.site.default_author.as_str(), None));
        item.authors
            .iter()
            .map(|a| (a.name.as_str(), a.url.as_deref()))
            .chain(default)
    }

    /// About the size of one feed: the items' HTML plus markup, so the output buffer is
    /// allocated once.
    fn size_hint(&self) -> usize {
        let html = |item: &FeedItem| {
            item.summary_html.as_ref().map_or(0, String::len)
                + self.content(item).map_or(0, str::len)
        };
        4096 + self.items.iter().map(|i| html(i) + 2048).sum::<usize>()
    }
}

/// Renders one feed. RSS and Atom point to the browser view's stylesheet.
pub fn render(format: Format, source: &FeedSource<'_>) -> Vec<u8> {
    match format {
        Format::Rss => rss::render(source),
        Format::Atom => atom::render(source),
        Format::Json => json::render(source),
    }
}

/// One built file: a section's feed or its preview, the feeds page, the OPML list or the
/// stylesheet.
pub struct BuiltFeed {
    /// The file name, e.g. `top-news.rss`.
    pub name: String,
    pub(crate) content_type: &'static str,
    /// The file as served without compression.
    pub bytes: Vec<u8>,
}

/// The names of the files of the whole site rather than of one section, which change with
/// the configuration (and the feeds page with the most used tags and authors too).
pub const SITE_FILES: [&str; 3] = [feeds_page::FILE_NAME, opml::FILE_NAME, xsl::FILE_NAME];

/// The files named in `SITE_FILES`: the feeds page and `index.opml` (of every enabled
/// section), and `feed.xsl`.
pub fn site_files(site: &Site, sections: &[Section], top: &feeds_page::TopKeys) -> Vec<BuiltFeed> {
    vec![
        BuiltFeed {
            name: feeds_page::FILE_NAME.to_owned(),
            content_type: html::CONTENT_TYPE,
            bytes: feeds_page::render(site, sections, top),
        },
        BuiltFeed {
            name: opml::FILE_NAME.to_owned(),
            content_type: opml::CONTENT_TYPE,
            bytes: opml::render(site, sections),
        },
        BuiltFeed {
            name: xsl::FILE_NAME.to_owned(),
            content_type: xsl::CONTENT_TYPE,
            bytes: xsl::STYLESHEET.as_bytes().to_vec(),
        },
    ]
}

/// The names of every file built for `section`: its feeds and their previews.
pub fn section_file_names(section: &Section) -> Vec<String> {
    let feeds = Format::ALL.map(|format| format.file_name(section));
    let previews = feeds.clone().map(|feed| preview::file_name(&feed));
    feeds.into_iter().chain(previews).collect()
}

/// Renders every format of a section's feed from its items (newest first, already
/// limited: the caller asks the store), and each one's preview, in the order of
/// `section_file_names`.
pub fn section_feeds(site: &Site, section: &Section, items: &[FeedItem]) -> Vec<BuiltFeed> {
    let source = FeedSource {
        site,
        section,
        items,
        key: None,
    };
    let feeds = Format::ALL.map(|format| built(format, &source));
    let previews = Format::ALL
        .into_iter()
        .zip(preview::render(&source))
        .map(|(format, bytes)| BuiltFeed {
            name: preview::file_name(&format.file_name(section)),
            content_type: html::CONTENT_TYPE,
            bytes,
        });
    feeds.into_iter().chain(previews).collect()
}

/// Renders the feed built on demand `key` (see `FeedSource::key`) in `format`.
pub fn key_feed(
    site: &Site,
    section: &Section,
    key: &str,
    format: Format,
    items: &[FeedItem],
) -> BuiltFeed {
    let source = FeedSource {
        site,
        section,
        items,
        key: Some(key),
    };
    built(format, &source)
}

fn built(format: Format, source: &FeedSource<'_>) -> BuiltFeed {
    BuiltFeed {
        name: source.file_name(format),
        content_type: format.content_type(),
        bytes: render(format, source),
    }
}
