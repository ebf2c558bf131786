//! RSS 2.0 with the `rss` crate: channel, items, Dublin Core creators, Atom self/hub links.

use std::collections::BTreeMap;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Enclosure, Guid, Item};

use super::{Entry, FeedSource, Format, image_mime};
use crate::sanitize::xml_safe;

pub(super) fn render(source: &FeedSource<'_>, entries: &[Entry<'_>]) -> Vec<u8> {
    let site = source.site;
    let section = source.section;
    let mut links = vec![Link {
        href: source.self_url(Format::Rss),
        rel: "self".into(),
        mime_type: Some("application/rss+xml".into()),
        ..Link::default()
    }];
    links.extend(site.websub_hubs.iter().map(|hub| Link {
        href: hub.to_string(),
        rel: "hub".into(),
        ..Link::default()
    }));

    let description = if section.description.trim().is_empty() {
        &section.title
    } else {
        &section.description
    };
    let channel = Channel {
        title: xml_safe(&section.title).into_owned(),
        link: section.link.to_string(),
        description: xml_safe(description).into_owned(),
        language: Some(site.language.clone()),
        copyright: site.copyright.as_deref().map(|c| xml_safe(c).into_owned()),
        last_build_date: (!entries.is_empty()).then(|| source.updated().to_rfc2822()),
        generator: Some(super::GENERATOR.to_owned()),
        docs: Some("https://www.rssboard.org/rss-specification".into()),
        // ttl is in minutes; round up so readers never poll more often than caches allow.
        ttl: Some(section.max_age.div_ceil(60).max(1).to_string()),
        items: entries.iter().map(|e| item(source, e)).collect(),
        atom_ext: Some(AtomExtension { links }),
        namespaces: BTreeMap::new(),
        ..Channel::default()
    };
    channel.to_string().into_bytes()
}

fn item(source: &FeedSource<'_>, entry: &Entry<'_>) -> Item {
    let article = entry.article;
    Item {
        title: Some(entry.title.clone()),
        link: Some(article.url.to_string()),
        description: entry.summary.clone(),
        guid: Some(Guid {
            value: source.entry_id(article.id.as_str()),
            permalink: false,
        }),
        pub_date: Some(entry.published().to_rfc2822()),
        content: entry.content.clone(),
        categories: entry
            .tags
            .iter()
            .map(|t| Category {
                name: t.clone(),
                domain: None,
            })
            .collect(),
        enclosure: article.image.as_ref().map(|image| Enclosure {
            url: image.url.to_string(),
            length: image.length.unwrap_or(0).to_string(),
            mime_type: image_mime(image),
        }),
        dublin_core_ext: Some(DublinCoreExtension {
            creators: entry.authors.clone(),
            ..DublinCoreExtension::default()
        }),
        ..Item::default()
    }
}
