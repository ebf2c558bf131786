//! The feeds page (`/feeds/`, the file `index.html`): every enabled section with the URLs
//! of its feeds, the OPML list, and the `<link rel="alternate">` lines a publisher pastes
//! into the site's pages for autodiscovery. Built when the configuration changes, like the
//! OPML list; no script.
//!
//! The page is a title and a run of parts, each an `<h2>` with what it lists: a new list
//! (the most used tags and authors, say) is one more part.

use std::fmt::Write;

use super::html::{alternate_link, document};
use super::{Format, opml};
use crate::config::{Section, Site};
use crate::sanitize::escape;

/// The page's file name: `/feeds/index.html`, which `/feeds/` answers too.
pub const FILE_NAME: &str = "index.html";

/// Renders the page for the enabled ones of `sections`.
pub fn render(site: &Site, sections: &[Section]) -> Vec<u8> {
    let enabled: Vec<&Section> = sections.iter().filter(|s| s.enabled).collect();
    let title = format!("{} feeds", site.title);
    let mut body = format!(
        "<h1>{}</h1>\n<p>Subscribe in a feed reader: copy a feed's URL into it. \
         Readers that take a whole list import <a href=\"{}\">every feed at once (OPML)</a>.</p>\n",
        escape(&title),
        escape(&site.feed_url(opml::FILE_NAME)),
    );
    write_sections(&mut body, site, &enabled);
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
