//! Feed builders: a section and its articles in, the bytes of each feed format out.
//! Nothing here knows about HTTP or the store; the same bytes are served and exported.

mod atom;
mod json;
mod media_rss;
mod rss;

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};

use crate::article::Article;
use crate::media::{self, MediaItem};
use crate::sanitize::{clean_html, plain_text, xml_safe};
use crate::site::{ContentMode, Section, Site};
use crate::store::{FeedQuery, Store, StoreError};

/// The generator named in every feed.
const GENERATOR: &str = concat!("pressfeed ", env!("CARGO_PKG_VERSION"));

/// The formats every section is published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    /// The file extension, which is also the URL suffix: `/feeds/<slug>.<ext>`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Rss => "rss",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json",
        }
    }

    /// The feed's file name, e.g. `top-news.rss`.
    pub fn file_name(self, section: &Section) -> String {
        format!("{}.{}", section.slug, self.extension())
    }
}

/// Everything one feed is made of.
pub struct FeedSource<'a> {
    pub site: &'a Site,
    pub section: &'a Section,
    /// Newest first, already limited: the builders render what they are given.
    pub articles: &'a [Article],
}

impl FeedSource<'_> {
    /// The public URL of this feed in `format`.
    fn self_url(&self, format: Format) -> String {
        format!(
            "{}{}",
            self.site.feed_base_url.as_str(),
            format.file_name(self.section)
        )
    }

    /// The feed's `updated`: the newest change among its items. Derived from content, not
    /// the clock, so an unchanged feed rebuilds to the same bytes.
    fn updated(&self) -> DateTime<FixedOffset> {
        self.articles
            .iter()
            .filter_map(|a| a.updated_at)
            .max()
            .unwrap_or_default()
            .trunc_subsecs(0)
    }

    /// A stable id for an article or the feed itself, a `tag:` URI under the site's prefix.
    fn entry_id(&self, local: &str) -> String {
        format!("{}{local}", self.site.id_prefix())
    }
}

/// One article, ready to render: text made XML-safe, HTML sanitized, media collected,
/// defaults applied.
struct Entry<'a> {
    article: &'a Article,
    title: String,
    /// Sanitized HTML.
    summary: Option<String>,
    /// The summary as plain text, for formats that want text.
    summary_text: Option<String>,
    /// The sanitized body, when the section carries full content.
    content: Option<String>,
    authors: Vec<EntryAuthor<'a>>,
    tags: Vec<String>,
    media: Vec<MediaItem>,
}

struct EntryAuthor<'a> {
    name: String,
    url: Option<&'a str>,
}

impl<'a> Entry<'a> {
    fn new(source: &FeedSource<'_>, article: &'a Article) -> Entry<'a> {
        let base = article.url.as_url();
        let authors = if article.authors.is_empty() {
            vec![EntryAuthor {
                name: xml_safe(&source.site.default_author).into_owned(),
                url: None,
            }]
        } else {
            article
                .authors
                .iter()
                .map(|a| EntryAuthor {
                    name: xml_safe(&a.name).into_owned(),
                    url: a.url.as_ref().map(|u| u.as_str()),
                })
                .collect()
        };
        let summary = article.summary.as_deref().map(|s| clean_html(s, base));
        Entry {
            article,
            title: xml_safe(&article.title).into_owned(),
            summary_text: summary.as_deref().map(plain_text),
            summary,
            content: match source.section.content {
                ContentMode::Full => article.body_html.as_deref().map(|b| clean_html(b, base)),
                ContentMode::Summary => None,
            },
            authors,
            tags: article
                .tags
                .iter()
                .map(|t| xml_safe(t).into_owned())
                .collect(),
            media: media::collect(article),
        }
    }

    /// The lead image: collected first, so it is the first medium when there is one.
    fn lead_image(&self) -> Option<(&MediaItem, &str)> {
        self.article.image.as_ref()?;
        let image = self.media.first()?;
        // RSS requires a type; an image of unknown type is most likely a JPEG.
        Some((image, image.mime.as_deref().unwrap_or("image/jpeg")))
    }

    fn published(&self) -> DateTime<FixedOffset> {
        self.article
            .published_at
            .unwrap_or_default()
            .trunc_subsecs(0)
    }

    fn updated(&self) -> DateTime<FixedOffset> {
        self.article
            .updated_at
            .or(self.article.published_at)
            .unwrap_or_default()
            .trunc_subsecs(0)
    }
}

/// Renders one feed.
pub fn render(format: Format, source: &FeedSource<'_>) -> Vec<u8> {
    let entries: Vec<Entry<'_>> = source
        .articles
        .iter()
        .map(|a| Entry::new(source, a))
        .collect();
    match format {
        Format::Rss => rss::render(source, &entries),
        Format::Atom => atom::render(source, &entries),
        Format::Json => json::render(source, &entries),
    }
}

/// One built feed of a section.
pub struct BuiltFeed {
    /// The file name, e.g. `top-news.rss`.
    pub name: String,
    pub format: Format,
    pub bytes: Vec<u8>,
}

/// Collects a section's newest live articles at `now` and renders every format.
pub fn section_feeds(
    store: &Store,
    site: &Site,
    section: &Section,
    now: DateTime<Utc>,
) -> Result<Vec<BuiltFeed>, StoreError> {
    let sections = section.included_sections();
    let articles = store.newest(&FeedQuery {
        sections: &sections,
        tags: &section.tags,
        exclude_tags: &section.exclude_tags,
        limit: section.limit,
        now,
    })?;
    let source = FeedSource {
        site,
        section,
        articles: &articles,
    };
    Ok(Format::ALL
        .into_iter()
        .map(|format| BuiltFeed {
            name: format.file_name(section),
            format,
            bytes: render(format, &source),
        })
        .collect())
}
