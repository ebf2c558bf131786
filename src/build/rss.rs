//! RSS 2.0: channel, items, Dublin Core creators, Atom self/hub links, and Media RSS.
//! Written with quick-xml's `Writer` (see `xml`); HTML (description, content:encoded) as
//! CDATA.

use std::io;

use quick_xml::Writer;

use super::xml::{attr, cdata, element, feed_document, number_attr, texts};
use super::{FeedSource, Format, media_rss, partner};
use crate::item::FeedItem;

const NAMESPACES: [(&str, &str); 4] = [
    ("xmlns:atom", "http://www.w3.org/2005/Atom"),
    ("xmlns:content", "http://purl.org/rss/1.0/modules/content/"),
    ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
    ("xmlns:media", media_rss::NAMESPACE),
];

pub(super) fn render(source: &FeedSource<'_>) -> Vec<u8> {
    let mut w = feed_document(&source.file_name(Format::Rss), source.size_hint())
        .expect("writing to a Vec cannot fail");
    write(&mut w, source).expect("writing to a Vec cannot fail");
    w.into_inner()
}

fn write(w: &mut Writer<Vec<u8>>, source: &FeedSource<'_>) -> io::Result<()> {
    let mut rss = (w.create_element("rss"))
        .with_attribute(("version", "2.0"))
        .with_attributes(NAMESPACES);
    if source.is_archive() {
        rss = rss.with_attribute(("xmlns:fh", super::HISTORY_NAMESPACE));
    }
    if let Some(namespace) = partner::rss_namespaces(source) {
        rss = rss.with_attribute(namespace);
    }
    rss.write_inner_content(|w| {
        w.create_element("channel")
            .write_inner_content(|w| channel(w, source))?;
        Ok(())
    })?;
    Ok(())
}

fn channel(w: &mut Writer<Vec<u8>>, source: &FeedSource<'_>) -> io::Result<()> {
    let site = source.site;
    let section = source.section;
    element(w, "title", &section.title)?;
    element(w, "link", section.link.as_str())?;
    let description = if section.description.trim().is_empty() {
        &section.title
    } else {
        &section.description
    };
    element(w, "description", description)?;
    element(w, "language", &site.language)?;
    if let Some(copyright) = &site.copyright {
        element(w, "copyright", copyright)?;
    }
    if !source.items.is_empty() {
        element(w, "lastBuildDate", &source.updated().to_rfc2822())?;
    }
    element(w, "generator", super::GENERATOR)?;
    element(w, "docs", "https://www.rssboard.org/rss-specification")?;
    // ttl is in minutes; round up so readers never poll more often than caches allow.
    element(w, "ttl", &section.max_age.div_ceil(60).max(1).to_string())?;
    if let Some(logo) = &site.logo {
        w.create_element("image").write_inner_content(|w| {
            element(w, "url", logo.as_str())?;
            element(w, "title", &section.title)?;
            element(w, "link", section.link.as_str())
        })?;
    }
    w.create_element("atom:link")
        .with_attribute(attr("href", &source.self_url(Format::Rss)))
        .with_attribute(("rel", "self"))
        .with_attribute(("type", "application/rss+xml"))
        .write_empty()?;
    for hub in &site.websub_hubs {
        w.create_element("atom:link")
            .with_attribute(attr("href", hub.as_str()))
            .with_attribute(("rel", "hub"))
            .write_empty()?;
    }
    // RFC 5005 Appendix B: in RSS 2.0 as Atom's links and the `fh` element.
    for (rel, href) in source.archive_links(Format::Rss) {
        w.create_element("atom:link")
            .with_attribute(attr("href", &href))
            .with_attribute(("rel", rel))
            .with_attribute(("type", "application/rss+xml"))
            .write_empty()?;
    }
    if source.is_archive() {
        w.create_element("fh:archive").write_empty()?;
    }
    partner::rss_channel(w, source)?;
    let id_prefix = site.id_prefix();
    for item in source.items {
        w.create_element("item")
            .write_inner_content(|w| write_item(w, source, &id_prefix, item))?;
    }
    Ok(())
}

fn write_item(
    w: &mut Writer<Vec<u8>>,
    source: &FeedSource<'_>,
    id_prefix: &str,
    item: &FeedItem,
) -> io::Result<()> {
    element(w, "title", &item.title)?;
    element(w, "link", &item.url)?;
    if let Some(summary) = &item.summary_html {
        w.create_element("description")
            .write_inner_content(|w| cdata(w, summary))?;
    }
    for tag in &item.tags {
        element(w, "category", tag)?;
    }
    // RSS requires a positive length; without one the image is still in Media RSS.
    if let Some((image, mime)) = item.lead_image()
        && let Some(length) = image.length.filter(|&l| l > 0)
    {
        w.create_element("enclosure")
            .with_attribute(attr("url", &image.page))
            .with_attribute(number_attr("length", length))
            .with_attribute(attr("type", mime))
            .write_empty()?;
    }
    w.create_element("guid")
        .with_attribute(("isPermaLink", "false"))
        .write_inner_content(|w| texts(w, &[id_prefix, item.id.as_str()]))?;
    element(w, "pubDate", &item.published.to_rfc2822())?;
    if let Some(body) = source.content(item) {
        w.create_element("content:encoded")
            .write_inner_content(|w| cdata(w, body))?;
    }
    for (name, _) in source.authors(item) {
        element(w, "dc:creator", name)?;
    }
    media_rss::write(w, &item.media)?;
    partner::rss_item(w, source, item)
}
