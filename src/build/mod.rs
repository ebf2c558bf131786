//! Feed builders: a section and its prepared items in, the bytes of each feed format out.
//! Nothing here knows about HTTP; the same bytes are served and exported. Beside the feeds:
//! the site's OPML list and the stylesheet that makes RSS and Atom readable in a browser.

mod atom;
mod json;
mod media_rss;
pub mod opml;
mod rss;
pub mod xsl;

use chrono::{DateTime, FixedOffset, Utc};

use crate::item::FeedItem;
use crate::sanitize::xml_safe;
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

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json",
        }
    }

    /// The type sent to a browser that opens the feed, when it differs: browsers render
    /// RSS and Atom with the stylesheet only when told they are plain XML.
    pub fn browser_content_type(self) -> Option<&'static str> {
        match self {
            Format::Rss | Format::Atom => Some("application/xml; charset=utf-8"),
            Format::Json => None,
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
    pub items: &'a [FeedItem],
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
        self.items
            .iter()
            .map(|item| item.updated)
            .max()
            .unwrap_or_default()
    }

    /// A stable id for an article or the feed itself, a `tag:` URI under the site's prefix.
    fn entry_id(&self, local: &str) -> String {
        format!("{}{local}", self.site.id_prefix())
    }

    /// The body, when the section carries full content.
    fn content<'i>(&self, item: &'i FeedItem) -> Option<&'i str> {
        match self.section.content {
            ContentMode::Full => item.body_html.as_deref(),
            ContentMode::Summary => None,
        }
    }

    /// The item's authors as (name, url), or the site's default author.
    fn authors<'i>(&'i self, item: &'i FeedItem) -> Vec<(String, Option<&'i str>)> {
        if item.authors.is_empty() {
            return vec![(xml_safe(&self.site.default_author).into_owned(), None)];
        }
        item.authors
            .iter()
            .map(|a| (a.name.clone(), a.url.as_deref()))
            .collect()
    }
}

/// Renders one feed. RSS and Atom point to the browser view's stylesheet.
pub fn render(format: Format, source: &FeedSource<'_>) -> Vec<u8> {
    match format {
        Format::Rss => xsl::with_stylesheet(rss::render(source)),
        Format::Atom => xsl::with_stylesheet(atom::render(source)),
        Format::Json => json::render(source),
    }
}

/// One built file: a section's feed, the OPML list or the stylesheet.
pub struct BuiltFeed {
    /// The file name, e.g. `top-news.rss`.
    pub name: String,
    pub content_type: &'static str,
    /// See `Format::browser_content_type`.
    pub browser_content_type: Option<&'static str>,
    pub bytes: Vec<u8>,
}

/// The files of the whole site rather than of one section: `index.opml` (every enabled
/// section) and `feed.xsl`.
pub fn site_files(site: &Site, sections: &[Section]) -> Vec<BuiltFeed> {
    vec![
        BuiltFeed {
            name: opml::FILE_NAME.to_owned(),
            content_type: opml::CONTENT_TYPE,
            browser_content_type: None,
            bytes: opml::render(site, sections),
        },
        BuiltFeed {
            name: xsl::FILE_NAME.to_owned(),
            content_type: xsl::CONTENT_TYPE,
            browser_content_type: None,
            bytes: xsl::STYLESHEET.as_bytes().to_vec(),
        },
    ]
}

/// Collects a section's newest live items at `now` and renders every format.
pub fn section_feeds(
    store: &Store,
    site: &Site,
    section: &Section,
    now: DateTime<Utc>,
) -> Result<Vec<BuiltFeed>, StoreError> {
    let sections = section.included_sections();
    let items = store.newest(&FeedQuery {
        sections: &sections,
        tags: &section.tags,
        exclude_tags: &section.exclude_tags,
        limit: section.limit,
        now,
    })?;
    let source = FeedSource {
        site,
        section,
        items: &items,
    };
    let built = |format: Format| BuiltFeed {
        name: format.file_name(section),
        content_type: format.content_type(),
        browser_content_type: format.browser_content_type(),
        bytes: render(format, &source),
    };
    // Atom takes about as long as RSS and JSON together (it escapes every byte of the
    // HTML), so it gets a core of its own: a build is CPU-bound and rare, and this halves
    // how long a change takes to reach the feeds.
    Ok(std::thread::scope(|scope| {
        let atom = scope.spawn(|| built(Format::Atom));
        let rss = built(Format::Rss);
        let json = built(Format::Json);
        vec![rss, atom.join().expect("rendering does not panic"), json]
    }))
}
