//! RSS 2.0: channel, items, Dublin Core creators, Atom self/hub links, and Media RSS.
//! Written with the `xml` writer; HTML (description, content:encoded) as CDATA.

use super::xml::Xml;
use super::{FeedSource, Format, media_rss};
use crate::item::FeedItem;

const NAMESPACES: [(&str, &str); 4] = [
    ("xmlns:atom", "http://www.w3.org/2005/Atom"),
    ("xmlns:content", "http://purl.org/rss/1.0/modules/content/"),
    ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
    ("xmlns:media", media_rss::NAMESPACE),
];

pub(super) fn render(source: &FeedSource<'_>) -> Vec<u8> {
    let site = source.site;
    let section = source.section;
    let mut xml = Xml::new(source.size_hint());
    xml.start("rss").attr("version", "2.0");
    for (name, uri) in NAMESPACES {
        xml.attr(name, uri);
    }
    xml.open();
    xml.start("channel").open();
    xml.element("title", &section.title);
    xml.element("link", section.link.as_str());
    let description = if section.description.trim().is_empty() {
        &section.title
    } else {
        &section.description
    };
    xml.element("description", description);
    xml.element("language", &site.language);
    if let Some(copyright) = &site.copyright {
        xml.element("copyright", copyright);
    }
    if !source.items.is_empty() {
        xml.element("lastBuildDate", &source.updated().to_rfc2822());
    }
    xml.element("generator", super::GENERATOR);
    xml.element("docs", "https://www.rssboard.org/rss-specification");
    // ttl is in minutes; round up so readers never poll more often than caches allow.
    xml.element_display("ttl", section.max_age.div_ceil(60).max(1));
    if let Some(logo) = &site.logo {
        xml.start("image").open();
        xml.element("url", logo.as_str());
        xml.element("title", &section.title);
        xml.element("link", section.link.as_str());
        xml.end("image");
    }
    xml.start("atom:link")
        .attr("href", &source.self_url(Format::Rss))
        .attr("rel", "self")
        .attr("type", "application/rss+xml")
        .empty();
    for hub in &site.websub_hubs {
        xml.start("atom:link")
            .attr("href", hub.as_str())
            .attr("rel", "hub")
            .empty();
    }
    let id_prefix = site.id_prefix();
    for item in source.items {
        write_item(&mut xml, source, &id_prefix, item);
    }
    xml.end("channel");
    xml.end("rss");
    xml.into_bytes()
}

fn write_item(xml: &mut Xml, source: &FeedSource<'_>, id_prefix: &str, item: &FeedItem) {
    xml.start("item").open();
    xml.element("title", &item.title);
    xml.element("link", &item.url);
    if let Some(summary) = &item.summary_html {
        xml.start("description")
            .open()
            .cdata(summary)
            .end("description");
    }
    for tag in &item.tags {
        xml.element("category", tag);
    }
    // RSS requires a positive length; without one the image is still in Media RSS.
    if let Some((image, mime)) = item.lead_image()
        && let Some(length) = image.length.filter(|&l| l > 0)
    {
        xml.start("enclosure")
            .attr("url", &image.page)
            .attr_display("length", Some(length))
            .attr("type", mime)
            .empty();
    }
    xml.start("guid")
        .attr("isPermaLink", "false")
        .open()
        .text(id_prefix)
        .text(item.id.as_str())
        .end("guid");
    xml.element("pubDate", &item.published.to_rfc2822());
    if let Some(body) = source.content(item) {
        xml.start("content:encoded")
            .open()
            .cdata(body)
            .end("content:encoded");
    }
    for (name, _) in source.authors(item) {
        xml.element("dc:creator", name);
    }
    media_rss::write(xml, &item.media);
    xml.end("item");
}
