//! Media RSS (`http://search.yahoo.com/mrss/`) elements of an item, shared by RSS and Atom:
//! one `media:content` per medium, with its player, thumbnail, title, caption and credit,
//! and an item-level `media:thumbnail` for readers that show one picture per item.
//!
//! Distinct media are sibling `media:content` elements; `media:group` is for several
//! renditions of the same medium, which articles do not carry.

use std::collections::BTreeMap;

use crate::article::Medium;
use crate::media::MediaItem;
use crate::sanitize::xml_safe;

pub const NAMESPACE: &str = "http://search.yahoo.com/mrss/";
pub const PREFIX: &str = "media";

/// An element of the extension, independent of the two crates' (identical) extension types.
pub struct Element {
    /// The local name, e.g. `content`.
    name: &'static str,
    attrs: Vec<(&'static str, String)>,
    value: Option<String>,
    children: Vec<Element>,
}

impl Element {
    fn new(name: &'static str) -> Element {
        Element {
            name,
            attrs: Vec::new(),
            value: None,
            children: Vec::new(),
        }
    }

    fn attr(mut self, name: &'static str, value: Option<impl ToString>) -> Element {
        if let Some(value) = value {
            self.attrs.push((name, value.to_string()));
        }
        self
    }

    fn text(name: &'static str, text: &str) -> Element {
        Element {
            value: Some(xml_safe(text).into_owned()),
            ..Element::new(name)
        }
        .attr("type", Some("plain"))
    }
}

/// The Media RSS elements of an item with `media`.
pub fn elements(media: &[MediaItem]) -> Vec<Element> {
    let mut elements: Vec<Element> = media.iter().map(content).collect();
    if let Some(preview) = media.iter().find_map(MediaItem::preview) {
        elements.push(Element::new("thumbnail").attr("url", Some(preview)));
    }
    elements
}

fn content(item: &MediaItem) -> Element {
    let medium = match item.medium {
        Medium::Image => "image",
        Medium::Video => "video",
        Medium::Audio => "audio",
        Medium::Document => "document",
        Medium::Executable => "executable",
    };
    let mut element = Element::new("content")
        .attr("url", item.file.as_ref())
        .attr("type", item.mime.as_ref())
        .attr("medium", Some(medium))
        .attr("width", item.width)
        .attr("height", item.height)
        .attr("duration", item.duration)
        .attr("fileSize", item.length);
    if let Some(player) = &item.player {
        element
            .children
            .push(Element::new("player").attr("url", Some(player)));
    }
    if let Some(thumbnail) = &item.thumbnail {
        element
            .children
            .push(Element::new("thumbnail").attr("url", Some(thumbnail)));
    }
    if let Some(title) = &item.title {
        element.children.push(Element::text("title", title));
    }
    if let Some(caption) = &item.description {
        element.children.push(Element::text("description", caption));
    }
    if let Some(credit) = &item.credit {
        element.children.push(Element {
            value: Some(xml_safe(credit).into_owned()),
            ..Element::new("credit")
        });
    }
    element
}

/// Converts elements into either crate's extension map (`prefix -> local name -> elements`),
/// passing attribute values through `$attr` first.
macro_rules! extension_map {
    ($fn_name:ident, $ext:ty, $attr:expr) => {
        pub fn $fn_name(elements: Vec<Element>) -> BTreeMap<String, BTreeMap<String, Vec<$ext>>> {
            fn convert(e: Element) -> $ext {
                let mut children: BTreeMap<String, Vec<$ext>> = BTreeMap::new();
                for child in e.children {
                    children
                        .entry(child.name.to_owned())
                        .or_default()
                        .push(convert(child));
                }
                let mut ext = <$ext>::default();
                // The writers print `name` as it is, so it must be the qualified name.
                ext.name = format!("{PREFIX}:{}", e.name);
                ext.value = e.value;
                ext.attrs = e
                    .attrs
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), $attr(v)))
                    .collect();
                ext.children = children;
                ext
            }
            let mut by_name: BTreeMap<String, Vec<$ext>> = BTreeMap::new();
            for element in elements {
                by_name
                    .entry(element.name.to_owned())
                    .or_default()
                    .push(convert(element));
            }
            if by_name.is_empty() {
                return BTreeMap::new();
            }
            BTreeMap::from([(PREFIX.to_owned(), by_name)])
        }
    };
}

extension_map!(rss_extensions, rss::extension::Extension, |v| v);
// atom_syndication writes extension attributes as raw bytes (unlike rss), so they are
// escaped here; the hostile-input property tests catch it if that ever changes.
extension_map!(
    atom_extensions,
    atom_syndication::extension::Extension,
    |v: String| quick_xml::escape::escape(&v).into_owned()
);
