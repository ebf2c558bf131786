//! RSS 2.0 with the `rss` crate: channel, items, Dublin Core creators, Atom self/hub links,
//! and Media RSS.

use std::collections::BTreeMap;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Enclosure, Guid, Image, Item};

use super::{FeedSource, Format, media_rss};
use crate::item::FeedItem;
use crate::sanitize::xml_safe;

pub(super) fn render(source: &FeedSource<'_>) -> Vec<u8> {
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

    let title = xml_safe(&section.title).into_owned();
    let description = if section.description.trim().is_empty() {
        &section.title
    } else {
        &section.description
    };
    let channel = Channel {
        link: section.link.to_string(),
        description: xml_safe(description).into_owned(),
        language: Some(site.language.clone()),
        copyright: site.copyright.as_deref().map(|c| xml_safe(c).into_owned()),
        last_build_date: (!source.items.is_empty()).then(|| source.updated().to_rfc2822()),
        generator: Some(super::GENERATOR.to_owned()),
        docs: Some("https://www.rssboard.org/rss-specification".into()),
        // ttl is in minutes; round up so readers never poll more often than caches allow.
        ttl: Some(section.max_age.div_ceil(60).max(1).to_string()),
        image: site.logo.as_ref().map(|logo| Image {
            url: logo.to_string(),
            title: title.clone(),
            link: section.link.to_string(),
            ..Image::default()
        }),
        items: source.items.iter().map(|i| item(source, i)).collect(),
        atom_ext: Some(AtomExtension { links }),
        // The typed extensions declare their own namespaces; Media RSS is a generic one.
        namespaces: BTreeMap::from([(
            media_rss::PREFIX.to_owned(),
            media_rss::NAMESPACE.to_owned(),
        )]),
        title,
        ..Channel::default()
    };
    channel.to_string().into_bytes()
}

fn item(source: &FeedSource<'_>, item: &FeedItem) -> Item {
    Item {
        title: Some(item.title.clone()),
        link: Some(item.url.to_string()),
        description: item.summary_html.clone(),
        guid: Some(Guid {
            value: source.entry_id(item.id.as_str()),
            permalink: false,
        }),
        pub_date: Some(item.published.to_rfc2822()),
        content: source.content(item).map(str::to_owned),
        categories: item
            .tags
            .iter()
            .map(|t| Category {
                name: t.clone(),
                domain: None,
            })
            .collect(),
        // RSS requires a positive length; without one the image is still in Media RSS.
        enclosure: item.lead_image().and_then(|(image, mime)| {
            Some(Enclosure {
                url: image.page.to_string(),
                length: image.length.filter(|&l| l > 0)?.to_string(),
                mime_type: mime.to_owned(),
            })
        }),
        dublin_core_ext: Some(DublinCoreExtension {
            creators: source
                .authors(item)
                .into_iter()
                .map(|(name, _)| name)
                .collect(),
            ..DublinCoreExtension::default()
        }),
        extensions: media_rss::rss_extensions(media_rss::elements(&item.media)),
        ..Item::default()
    }
}
