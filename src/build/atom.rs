//! Atom 1.0 with the `atom_syndication` crate: feed metadata, entries, links, people, and
//! the same Media RSS elements as RSS.

use std::collections::BTreeMap;

use atom_syndication::{
    Category, Content, Entry as AtomEntry, Feed, Generator, Link, Person, Text,
};

use super::{FeedSource, Format, media_rss};
use crate::item::FeedItem;
use crate::sanitize::xml_safe;

pub(super) fn render(source: &FeedSource<'_>) -> Vec<u8> {
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
        authors: vec![Person {
            name: xml_safe(&site.default_author).into_owned(),
            uri: Some(site.url.to_string()),
            ..Person::default()
        }],
        generator: Some(Generator {
            value: "pressfeed".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        icon: site.icon.as_ref().map(ToString::to_string),
        logo: site.logo.as_ref().map(ToString::to_string),
        links,
        rights: site.copyright.as_deref().map(|c| Text::plain(xml_safe(c))),
        subtitle: (!section.description.trim().is_empty())
            .then(|| Text::plain(xml_safe(&section.description))),
        lang: Some(site.language.clone()),
        entries: source.items.iter().map(|i| entry(source, i)).collect(),
        namespaces: BTreeMap::from([(
            media_rss::PREFIX.to_owned(),
            media_rss::NAMESPACE.to_owned(),
        )]),
        ..Feed::default()
    };
    feed.to_string().into_bytes()
}

fn entry(source: &FeedSource<'_>, item: &FeedItem) -> AtomEntry {
    let mut links = vec![Link {
        href: item.url.to_string(),
        rel: "alternate".into(),
        mime_type: Some("text/html".into()),
        ..Link::default()
    }];
    if let Some((image, mime)) = item.lead_image() {
        links.push(Link {
            href: image.page.to_string(),
            rel: "enclosure".into(),
            mime_type: Some(mime.to_owned()),
            length: image.length.map(|l| l.to_string()),
            ..Link::default()
        });
    }
    AtomEntry {
        title: Text::plain(item.title.clone()),
        id: source.entry_id(item.id.as_str()),
        updated: item.updated,
        published: Some(item.published),
        authors: source
            .authors(item)
            .into_iter()
            .map(|(name, uri)| Person {
                name,
                uri: uri.map(str::to_owned),
                ..Person::default()
            })
            .collect(),
        categories: item
            .tags
            .iter()
            .map(|t| Category {
                term: t.clone(),
                ..Category::default()
            })
            .collect(),
        links,
        summary: item.summary_html.clone().map(Text::html),
        content: source.content(item).map(|html| Content {
            value: Some(html.to_owned()),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        extensions: media_rss::atom_extensions(media_rss::elements(&item.media)),
        ..AtomEntry::default()
    }
}
