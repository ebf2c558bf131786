//! Atom 1.0: feed metadata, entries, links, people, and the same Media RSS elements as RSS.
//! Written with quick-xml's `Writer` (see `xml`); HTML (summary, content) as CDATA, which
//! readers take exactly as escaped HTML.

use std::io;

use quick_xml::Writer;

use super::xml::{attr, cdata, element, feed_document, number_attr, text, texts};
use super::{FeedSource, Format, media_rss, partner};
use crate::item::FeedItem;

pub(super) fn render(source: &FeedSource<'_>) -> Vec<u8> {
    let mut w = feed_document(&source.file_name(Format::Atom), source.size_hint())
        .expect("writing to a Vec cannot fail");
    let mut feed_element = (w.create_element("feed"))
        .with_attribute(("xmlns", "http://www.w3.org/2005/Atom"))
        .with_attribute(("xmlns:media", media_rss::NAMESPACE));
    if source.is_archive() {
        feed_element = feed_element.with_attribute(("xmlns:fh", super::HISTORY_NAMESPACE));
    }
    if let Some(namespace) = partner::webfeeds_namespace(source) {
        feed_element = feed_element.with_attribute(namespace);
    }
    feed_element
        .with_attribute(attr("xml:lang", &source.site.language))
        .write_inner_content(|w| feed(w, source))
        .expect("writing to a Vec cannot fail");
    w.into_inner()
}

fn feed(w: &mut Writer<Vec<u8>>, source: &FeedSource<'_>) -> io::Result<()> {
    let site = source.site;
    let section = source.section;
    let id_prefix = site.id_prefix();
    element(w, "title", &section.title)?;
    w.create_element("id").write_inner_content(|w| {
        let [kind, name] = source.id();
        texts(w, &[&id_prefix, kind, name])
    })?;
    element(w, "updated", &source.updated().to_rfc3339())?;
    person(w, "author", &site.default_author, Some(site.url.as_str()))?;
    link(
        w,
        &source.self_url(Format::Atom),
        "self",
        "application/atom+xml",
    )?;
    link(w, section.link.as_str(), "alternate", "text/html")?;
    for (rel, href) in source.archive_links(Format::Atom) {
        link(w, &href, rel, "application/atom+xml")?;
    }
    if source.is_archive() {
        w.create_element("fh:archive").write_empty()?;
    }
    for hub in &site.websub_hubs {
        w.create_element("link")
            .with_attribute(attr("href", hub.as_str()))
            .with_attribute(("rel", "hub"))
            .write_empty()?;
    }
    w.create_element("generator")
        .with_attribute(("version", env!("CARGO_PKG_VERSION")))
        .write_text_content(text("pressfeed"))?;
    if let Some(icon) = &site.icon {
        element(w, "icon", icon.as_str())?;
    }
    if let Some(logo) = &site.logo {
        element(w, "logo", logo.as_str())?;
    }
    if let Some(copyright) = &site.copyright {
        element(w, "rights", copyright)?;
    }
    if !section.description.trim().is_empty() {
        element(w, "subtitle", &section.description)?;
    }
    partner::webfeeds(w, source)?;
    for item in source.items {
        w.create_element("entry")
            .write_inner_content(|w| entry(w, source, &id_prefix, item))?;
    }
    Ok(())
}

fn entry(
    w: &mut Writer<Vec<u8>>,
    source: &FeedSource<'_>,
    id_prefix: &str,
    item: &FeedItem,
) -> io::Result<()> {
    element(w, "title", &item.title)?;
    w.create_element("id")
        .write_inner_content(|w| texts(w, &[id_prefix, item.id.as_str()]))?;
    element(w, "updated", &item.updated.to_rfc3339())?;
    element(w, "published", &item.published.to_rfc3339())?;
    for (name, uri) in source.authors(item) {
        person(w, "author", name, uri)?;
    }
    for tag in &item.tags {
        w.create_element("category")
            .with_attribute(attr("term", tag))
            .write_empty()?;
    }
    link(w, &item.url, "alternate", "text/html")?;
    if let Some((image, mime)) = item.lead_image() {
        let mut enclosure = w
            .create_element("link")
            .with_attribute(attr("href", &image.page))
            .with_attribute(("rel", "enclosure"))
            .with_attribute(attr("type", mime));
        if let Some(length) = image.length {
            enclosure = enclosure.with_attribute(number_attr("length", length));
        }
        enclosure.write_empty()?;
    }
    if let Some(summary) = &item.summary_html {
        w.create_element("summary")
            .with_attribute(("type", "html"))
            .write_inner_content(|w| cdata(w, summary))?;
    }
    if let Some(body) = source.content(item) {
        w.create_element("content")
            .with_attribute(("type", "html"))
            .write_inner_content(|w| cdata(w, body))?;
    }
    media_rss::write(w, &item.media)
}

fn link(w: &mut Writer<Vec<u8>>, href: &str, rel: &str, mime: &str) -> io::Result<()> {
    w.create_element("link")
        .with_attribute(attr("href", href))
        .with_attribute(attr("rel", rel))
        .with_attribute(attr("type", mime))
        .write_empty()?;
    Ok(())
}

fn person(w: &mut Writer<Vec<u8>>, role: &str, name: &str, uri: Option<&str>) -> io::Result<()> {
    w.create_element(role).write_inner_content(|w| {
        element(w, "name", name)?;
        if let Some(uri) = uri {
            element(w, "uri", uri)?;
        }
        Ok(())
    })?;
    Ok(())
}
