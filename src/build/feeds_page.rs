//! The feeds page (`/feeds/`, the file `index.html`): every enabled section with the URLs
//! of its feeds, the whole site's feed and the most used tags and authors (those of the
//! feeds built on demand that `[feeds]` turns on), the OPML list, and the
//! `<link rel="alternate">` lines a publisher pastes into the site's pages for
//! autodiscovery. No script.
//!
//! The page is a title and a run of parts, each an `<h2>` with what it lists.

use std::fmt::Write;

use super::html::{alternate_link, document};
use super::{Format, opml};
use crate::config::{Section, Site};
use crate::dimension::Dimension;
use crate::sanitize::escape;
use crate::store::KeyCount;

/// How many tags and how many authors the page lists.
pub const TOP: usize = 30;

/// The most used tags and authors, as `Store::top_keys` counts them, most used first.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TopKeys {
    pub tags: Vec<KeyCount>,
    pub authors: Vec<KeyCount>,
}

/// The page's file name: `/feeds/index.html`, which `/feeds/` answers too.
pub const FILE_NAME: &str = "index.html";

/// Renders the page for the enabled ones of `sections`, with the lists of `top` whose
/// dimension `[feeds]` turns on.
pub fn render(site: &Site, sections: &[Section], top: &TopKeys) -> Vec<u8> {
    let enabled: Vec<&Section> = sections.iter().filter(|s| s.enabled).collect();
    let title = format!("{} feeds", site.title);
    let mut body = format!(
        "<h1>{}</h1>\n<p>Subscribe in a feed reader: copy a feed's URL into it. \
         Readers that take a whole list import <a href=\"{}\">every feed at once (OPML)</a>.</p>\n",
        escape(&title),
        escape(&site.feed_url(opml::FILE_NAME)),
    );
    write_sections(&mut body, site, &enabled);
    let on = |dimension| {
        (site.feeds.as_ref()).is_some_and(|feeds| feeds.dimensions.contains(&dimension))
    };
    if on(Dimension::All) {
        body.push_str(
            "<h2 id=\"all\">The whole site</h2>\n<p>Every published article, of every section: ",
        );
        write_formats(&mut body, site, &Dimension::All.key(""));
        body.push_str("</p>\n");
    }
    if on(Dimension::Tag) {
        write_keys(
            &mut body,
            site,
            "tags",
            "Most used tags",
            Dimension::Tag,
            &top.tags,
        );
    }
    if on(Dimension::Author) {
        write_keys(
            &mut body,
            site,
            "authors",
            "Authors",
            Dimension::Author,
            &top.authors,
        );
    }
    write_autodiscovery(&mut body, site, &enabled);
    let head: String = enabled
        .iter()
        .map(|section| alternate_link(site, section, Format::Rss) + "\n")
        .collect();
    document(site, &title, &head, &body)
}

fn write_sections(body: &mut String, site: &Site, sections: &[&Section]) {
    body.push_str("<h2 id=\"sections\">Sections</h2>\n");
    if sections.is_empty() {
        body.push_str("<p>No section is published.</p>\n");
    }
    for section in sections {
        let _ = write!(
            body,
            "<section class=\"feed\"><h3><a href=\"{}\">{}</a></h3>",
            escape(section.link.as_str()),
            escape(&section.title),
        );
        if !section.description.trim().is_empty() {
            let _ = write!(body, "<p>{}</p>", escape(&section.description));
        }
        body.push_str("<ul>");
        for format in Format::ALL {
            let url = site.feed_url(&format.file_name(section));
            let url = escape(&url);
            let _ = write!(
                body,
                "<li>{}: <a href=\"{url}\"><code>{url}</code></a></li>",
                format.label()
            );
        }
        body.push_str("</ul></section>\n");
    }
}

/// A list of tags or authors, each with its article count and feeds.
fn write_keys(
    body: &mut String,
    site: &Site,
    id: &str,
    heading: &str,
    dimension: Dimension,
    keys: &[KeyCount],
) {
    let _ = writeln!(body, "<h2 id=\"{id}\">{heading}</h2>");
    if keys.is_empty() {
        body.push_str("<p>None yet.</p>\n");
        return;
    }
    body.push_str("<ul class=\"keys\">");
    for key in keys {
        let _ = write!(
            body,
            "<li>{} ({} {}): ",
            escape(&key.name),
            key.articles,
            if key.articles == 1 {
                "article"
            } else {
                "articles"
            }
        );
        write_formats(body, site, &dimension.key(&key.slug));
        body.push_str("</li>");
    }
    body.push_str("</ul>\n");
}

/// Links to the feed `key` (`all`, `tag/<slug>`, ...) in every format.
fn write_formats(body: &mut String, site: &Site, key: &str) {
    let links: Vec<String> = Format::ALL
        .map(|format| {
            let url = site.feed_url(&format!("{key}.{}", format.extension()));
            format!("<a href=\"{}\">{}</a>", escape(&url), format.label())
        })
        .into();
    body.push_str(&links.join(" · "));
}

fn write_autodiscovery(body: &mut String, site: &Site, sections: &[&Section]) {
    body.push_str(
        "<h2 id=\"autodiscovery\">Autodiscovery</h2>\n<p>Paste a section's lines into the \
         <code>&lt;head&gt;</code> of its pages on the site, so that browsers and feed \
         readers find its feeds from the page itself:</p>\n<pre>",
    );
    // A blank line between sections; each line's title names its section.
    let lines: Vec<String> = sections
        .iter()
        .map(|section| {
            Format::ALL
                .map(|format| escape(&alternate_link(site, section, format)).into_owned())
                .join("\n")
        })
        .collect();
    body.push_str(&lines.join("\n\n"));
    body.push_str("</pre>\n");
}
