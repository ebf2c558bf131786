//! Atom 1.0 with the `atom_syndication` crate: feed metadata, entries, links, people.

use atom_syndication::{
    Category, Content, Entry as AtomEntry, Feed, Generator, Link, Person, Text,
};

use super::{Entry, FeedSource, Format, image_mime};
use crate::sanitize::xml_safe;

pub(super) fn render(source: &FeedSource<'_>, entries: &[Entry<'_>]) -> Vec<u8> {
    let site = source.site;
    let section = source.section;
    let mut links = vec![
        Link {
            href: source.self_url(Format::Atom),
            rel: "self".into(),
            mime_type: Some("application/atom+xml".into()),
            ..Link::default()
        },
        Link {
            href: section.link.to_string(),
            rel: "alternate".into(),
            mime_type: Some("text/html".into()),
            ..Link::default()
        },
    ];
    links.extend(site.websub_hubs.iter().map(|hub| Link {
        href: hub.to_string(),
        rel: "hub".into(),
        ..Link::default()
    }));

    let feed = Feed {
        title: Text::plain(xml_safe(&section.title)),
        id: source.entry_id(&format!("section:{}", section.slug)),
        updated: source.updated(),
        authors: vec![person(&site.default_author)],
        generator: Some(Generator {
            value: "pressfeed".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        links,
        rights: site.copyright.as_deref().map(|c| Text::plain(xml_safe(c))),
        subtitle: (!section.description.trim().is_empty())
            .then(|| Text::plain(xml_safe(&section.description))),
        lang: Some(site.language.clone()),
        entries: entries.iter().map(|e| entry(source, e)).collect(),
        ..Feed::default()
    };
    feed.to_string().into_bytes()
}

fn entry(source: &FeedSource<'_>, entry: &Entry<'_>) -> AtomEntry {
    let article = entry.article;
    let mut links = vec![Link {
        href: article.url.to_string(),
        rel: "alternate".into(),
        mime_type: Some("text/html".into()),
        ..Link::default()
    }];
    if let Some(image) = &article.image {
        links.push(Link {
            href: image.url.to_string(),
            rel: "enclosure".into(),
            mime_type: Some(image_mime(image)),
            length: image.length.map(|l| l.to_string()),
            ..Link::default()
        });
    }
    AtomEntry {
        title: Text::plain(entry.title.clone()),
        id: source.entry_id(article.id.as_str()),
        updated: entry.updated(),
        published: Some(entry.published()),
        authors: entry.authors.iter().map(|a| person(a)).collect(),
        categories: entry
            .tags
            .iter()
            .map(|t| Category {
                term: t.clone(),
                ..Category::default()
            })
            .collect(),
        links,
        summary: entry.summary.clone().map(Text::html),
        content: entry.content.clone().map(|html| Content {
            value: Some(html),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        ..AtomEntry::default()
    }
}

fn person(name: &str) -> Person {
    Person {
        name: xml_safe(name).into_owned(),
        ..Person::default()
    }
}
