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
pub(crate) mod partner;
pub(crate) mod preview;
mod rss;
mod xml;
pub(crate) mod xsl;

// The binary prints the list's URL; the rest of `opml` is the crate's business.
pub use opml::FILE_NAME as OPML_FILE_NAME;

use chrono::{DateTime, FixedOffset};

use crate::archive::{self, Month};
use crate::config::{ContentMode, Partner, Section, Site};
use crate::item::FeedItem;

/// The namespace of RFC 5005's `fh:archive`, which marks an archive document.
const HISTORY_NAMESPACE: &str = "http://purl.org/syndication/history/1.0";

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
    /// Which document of the feed this is: the one subscribed to, or a month's archive.
    pub archive: Archive,
    /// The partner a partner feed is for, whose elements it carries; its `key` is then
    /// its path (`partners/msn/world`). `None` for the public feeds.
    pub partner: Option<Partner>,
}

/// Where a document sits among its feed's archive documents (RFC 5005 §4, `archive`): the
/// links it carries to them. Months without articles have no document, so the links skip
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    /// The subscription document: `prev-archive` (JSON Feed: `next_url`) to the month of
    /// its newest item, the newest month with articles.
    Subscription,
    /// The archive document of `month`: `current` to the subscription document,
    /// `prev-archive` and `next-archive` to the months before and after it that have
    /// articles (JSON Feed: `next_url` to the one before).
    Month {
        /// The month this document holds.
        month: Month,
        /// The nearest earlier month with articles; `None` in the oldest.
        prev: Option<Month>,
        /// The nearest later month with articles; `None` in the newest.
        next: Option<Month>,
    },
}

impl FeedSource<'_> {
    /// The feed's name: the section's slug, or the key of a feed built on demand.
    fn feed(&self) -> &str {
        self.key.unwrap_or(self.section.slug.as_str())
    }

    /// This document's file name in `format`: `world.rss`, `tag/krakow.rss`,
    /// `world/archive/2026-11.rss`.
    fn file_name(&self, format: Format) -> String {
        match self.archive {
            Archive::Subscription => format!("{}.{}", self.feed(), format.extension()),
            Archive::Month { month, .. } => self.month_file_name(month, format),
        }
    }

    fn month_file_name(&self, month: Month, format: Format) -> String {
        archive::file_name(self.feed(), month, format.extension())
    }

    /// The public URL of this document in `format`.
    fn self_url(&self, format: Format) -> String {
        self.site.feed_url(&self.file_name(format))
    }

    /// The public URL of the subscription document in `format`.
    fn current_url(&self, format: Format) -> String {
        (self.site).feed_url(&format!("{}.{}", self.feed(), format.extension()))
    }

    /// The links to the feed's other documents (RFC 5005 §4) in `format`, as (relation,
    /// URL): a subscription document's `prev-archive`, an archive document's `current`,
    /// `prev-archive` and `next-archive`, those that exist.
    fn archive_links(&self, format: Format) -> Vec<(&'static str, String)> {
        // Partners take their window and nothing older.
        if self.partner.is_some() {
            return Vec::new();
        }
        let url = |month: Month| self.site.feed_url(&self.month_file_name(month, format));
        match self.archive {
            Archive::Subscription => (self.items.first())
                .map(|newest| ("prev-archive", url(Month::of(newest.published.to_utc()))))
                .into_iter()
                .collect(),
            Archive::Month { prev, next, .. } => {
                let mut links = vec![("current", self.current_url(format))];
                links.extend(prev.map(|prev| ("prev-archive", url(prev))));
                links.extend(next.map(|next| ("next-archive", url(next))));
                links
            }
        }
    }

    /// Whether this is an archive document, which says so with `fh:archive`.
    fn is_archive(&self) -> bool {
        matches!(self.archive, Archive::Month { .. })
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

    /// The body, when the section carries full content; always in a partner's feed, as
    /// every partner asks for the whole article.
    fn content<'i>(&self, item: &'i FeedItem) -> Option<&'i str> {
        match (self.partner, self.section.content) {
            (Some(_), _) | (None, ContentMode::Full) => item.body_html.as_deref(),
            (None, ContentMode::Summary) => None,
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

/// The names of every file built for `section`: its feeds, their previews, and its
/// partners' feeds.
pub fn section_file_names(site: &Site, section: &Section) -> Vec<String> {
    let feeds = Format::ALL.map(|format| format.file_name(section));
    let previews = feeds.clone().map(|feed| preview::file_name(&feed));
    let partners = site.partners.of_section(&section.slug).flat_map(|partner| {
        let key = partner_key(partner, section);
        partner::formats(partner)
            .iter()
            .map(move |format| format!("{key}.{}", format.extension()))
    });
    feeds.into_iter().chain(previews).chain(partners).collect()
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
        archive: Archive::Subscription,
        partner: None,
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

/// Renders a document of a feed built on demand, `key` (see `FeedSource::key`; `None`: of
/// `section`'s own feed, an archive document then) in `format`.
pub fn demand_feed(
    site: &Site,
    section: &Section,
    key: Option<&str>,
    archive: Archive,
    format: Format,
    items: &[FeedItem],
) -> BuiltFeed {
    built(format, &demand_source(site, section, key, archive, items))
}

/// The source of a document of a feed built on demand (no partner's).
fn demand_source<'a>(
    site: &'a Site,
    section: &'a Section,
    key: Option<&'a str>,
    archive: Archive,
    items: &'a [FeedItem],
) -> FeedSource<'a> {
    FeedSource {
        site,
        section,
        items,
        key,
        archive,
        partner: None,
    }
}

/// Renders the preview (for browsers) of the feed built on demand `key` in `format`, at
/// `<key>.<ext>.html`: only when a browser asks for it, so a crawler of feeds pays for none.
pub fn demand_preview(
    site: &Site,
    section: &Section,
    key: &str,
    format: Format,
    items: &[FeedItem],
) -> BuiltFeed {
    let source = demand_source(site, section, Some(key), Archive::Subscription, items);
    BuiltFeed {
        name: preview::file_name(&source.file_name(format)),
        content_type: html::CONTENT_TYPE,
        bytes: preview::render_one(&source, format),
    }
}

/// Renders the feed of `section` for `partner` in `format` from the items it takes (newest
/// first, already chosen: see the `partner` module), at `partners/<partner>/<slug>.<ext>`.
pub fn partner_feed(
    site: &Site,
    section: &Section,
    partner: Partner,
    format: Format,
    items: &[FeedItem],
) -> BuiltFeed {
    let key = partner_key(partner, section);
    let source = FeedSource {
        site,
        section,
        items,
        key: Some(&key),
        archive: Archive::Subscription,
        partner: Some(partner),
    };
    built(format, &source)
}

/// The path of `section`'s feed for `partner` under `/feeds/`, without its extension.
pub fn partner_key(partner: Partner, section: &Section) -> String {
    format!("partners/{partner}/{}", section.slug)
}

fn built(format: Format, source: &FeedSource<'_>) -> BuiltFeed {
    BuiltFeed {
        name: source.file_name(format),
        content_type: format.content_type(),
        bytes: render(format, source),
    }
}
