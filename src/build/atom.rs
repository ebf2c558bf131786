//! Atom 1.0: feed metadata, entries, links, people, and the same Media RSS elements as RSS.
//! Written with the `xml` writer; HTML (summary, content) as CDATA, which readers take
//! exactly as escaped HTML.

use super::xml::Xml;
use super::{FeedSource, Format, media_rss};
use crate::item::FeedItem;

pub(super) fn render(source: &FeedSource<'_>) -> Vec<u8> {
    let site = source.site;
    let section = source.section;
    let id_prefix = site.id_prefix();
    let mut xml = Xml::new(source.size_hint());
    xml.start("feed")
        .attr("xmlns", "http://www.w3.org/2005/Atom")
        .attr("xmlns:media", media_rss::NAMESPACE)
        .attr("xml:lang", &site.language)
        .open();
    xml.element("title", &section.title);
    xml.start("id")
        .open()
        .text(&id_prefix)
        .text("section:")
        .text(section.slug.as_str())
        .end("id");
    xml.element("updated", &source.updated().to_rfc3339());
    person(
        &mut xml,
        "author",
        &site.default_author,
        Some(site.url.as_str()),
    );
    link(
        &mut xml,
        &source.self_url(Format::Atom),
        "self",
        "application/atom+xml",
    );
    link(&mut xml, section.link.as_str(), "alternate", "text/html");
    for hub in &site.websub_hubs {
        xml.start("link")
            .attr("href", hub.as_str())
            .attr("rel", "hub")
            .empty();
    }
    xml.start("generator")
        .attr("version", env!("CARGO_PKG_VERSION"))
        .open()
        .text("pressfeed")
        .end("generator");
    if let Some(icon) = &site.icon {
        xml.element("icon", icon.as_str());
    }
    if let Some(logo) = &site.logo {
        xml.element("logo", logo.as_str());
    }
    if let Some(copyright) = &site.copyright {
        xml.element("rights", copyright);
    }
    if !section.description.trim().is_empty() {
        xml.element("subtitle", &section.description);
    }
    for item in source.items {
        entry(&mut xml, source, &id_prefix, item);
    }
    xml.end("feed");
    xml.into_bytes()
}

fn entry(xml: &mut Xml, source: &FeedSource<'_>, id_prefix: &str, item: &FeedItem) {
    xml.start("entry").open();
    xml.element("title", &item.title);
    xml.start("id")
        .open()
        .text(id_prefix)
        .text(item.id.as_str())
        .end("id");
    xml.element("updated", &item.updated.to_rfc3339());
    xml.element("published", &item.published.to_rfc3339());
    for (name, uri) in source.authors(item) {
        person(xml, "author", name, uri);
    }
    for tag in &item.tags {
        xml.start("category").attr("term", tag).empty();
    }
    link(xml, &item.url, "alternate", "text/html");
    if let Some((image, mime)) = item.lead_image() {
        xml.start("link")
            .attr("href", &image.page)
            .attr("rel", "enclosure")
            .attr("type", mime)
            .attr_display("length", image.length)
            .empty();
    }
    if let Some(summary) = &item.summary_html {
        xml.start("summary")
            .attr("type", "html")
            .open()
            .cdata(summary)
            .end("summary");
    }
    if let Some(body) = source.content(item) {
        xml.start("content")
            .attr("type", "html")
            .open()
            .cdata(body)
            .end("content");
    }
    media_rss::write(xml, &item.media);
    xml.end("entry");
}

fn link(xml: &mut Xml, href: &str, rel: &str, mime: &str) {
    xml.start("link")
        .attr("href", href)
        .attr("rel", rel)
        .attr("type", mime)
        .empty();
}

fn person(xml: &mut Xml, role: &str, name: &str, uri: Option<&str>) {
    xml.start(role).open();
    xml.element("name", name);
    if let Some(uri) = uri {
        xml.element("uri", uri);
    }
    xml.end(role);
}
