//! Media RSS (`http://search.yahoo.com/mrss/`) elements of an item, shared by RSS and Atom:
//! one `media:content` per medium, with its player, thumbnail, title, caption and credit,
//! and an item-level `media:thumbnail` for readers that show one picture per item.
//!
//! Distinct media are sibling `media:content` elements; `media:group` is for several
//! renditions of the same medium, which articles do not carry.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, Event};

use super::xml::{attr, element, number_attr, text};
use crate::article::Medium;
use crate::media::MediaItem;

pub const NAMESPACE: &str = "http://search.yahoo.com/mrss/";

/// Writes the Media RSS elements of an item with `media`.
pub(super) fn write(w: &mut Writer<Vec<u8>>, media: &[MediaItem]) -> io::Result<()> {
    for item in media {
        content(w, item)?;
    }
    if let Some(preview) = media.iter().find_map(MediaItem::preview) {
        w.create_element("media:thumbnail")
            .with_attribute(attr("url", preview))
            .write_empty()?;
    }
    Ok(())
}

fn content(w: &mut Writer<Vec<u8>>, item: &MediaItem) -> io::Result<()> {
    let medium = match item.medium {
        Medium::Image => "image",
        Medium::Video => "video",
        Medium::Audio => "audio",
        Medium::Document => "document",
        Medium::Executable => "executable",
    };
    // Optional attributes: a start tag built attribute by attribute.
    let mut start = BytesStart::new("media:content");
    if let Some(file) = &item.file {
        start.push_attribute(attr("url", file));
    }
    if let Some(mime) = &item.mime {
        start.push_attribute(attr("type", mime));
    }
    start.push_attribute(("medium", medium));
    let numbers = [
        ("width", item.width.map(u64::from)),
        ("height", item.height.map(u64::from)),
        ("duration", item.duration.map(u64::from)),
        ("fileSize", item.length),
    ];
    for (name, value) in numbers {
        if let Some(value) = value {
            start.push_attribute(number_attr(name, value));
        }
    }
    let has_children = item.player.is_some()
        || item.thumbnail.is_some()
        || item.title.is_some()
        || item.description.is_some()
        || item.credit.is_some();
    if !has_children {
        return w.write_event(Event::Empty(start));
    }
    w.write_event(Event::Start(start))?;
    if let Some(player) = &item.player {
        w.create_element("media:player")
            .with_attribute(attr("url", player))
            .write_empty()?;
    }
    if let Some(thumbnail) = &item.thumbnail {
        w.create_element("media:thumbnail")
            .with_attribute(attr("url", thumbnail))
            .write_empty()?;
    }
    if let Some(title) = &item.title {
        w.create_element("media:title")
            .with_attribute(("type", "plain"))
            .write_text_content(text(title))?;
    }
    if let Some(caption) = &item.description {
        w.create_element("media:description")
            .with_attribute(("type", "plain"))
            .write_text_content(text(caption))?;
    }
    if let Some(credit) = &item.credit {
        element(w, "media:credit", credit)?;
    }
    w.write_event(Event::End(BytesEnd::new("media:content")))
}
