//! Media RSS (`http://search.yahoo.com/mrss/`) elements of an item, shared by RSS and Atom:
//! one `media:content` per medium, with its player, thumbnail, title, caption and credit,
//! and an item-level `media:thumbnail` for readers that show one picture per item.
//!
//! Distinct media are sibling `media:content` elements; `media:group` is for several
//! renditions of the same medium, which articles do not carry.

use super::xml::Xml;
use crate::article::Medium;
use crate::media::MediaItem;

pub const NAMESPACE: &str = "http://search.yahoo.com/mrss/";

/// Writes the Media RSS elements of an item with `media`.
pub(super) fn write(xml: &mut Xml, media: &[MediaItem]) {
    for item in media {
        content(xml, item);
    }
    if let Some(preview) = media.iter().find_map(MediaItem::preview) {
        xml.start("media:thumbnail").attr("url", preview).empty();
    }
}

fn content(xml: &mut Xml, item: &MediaItem) {
    let medium = match item.medium {
        Medium::Image => "image",
        Medium::Video => "video",
        Medium::Audio => "audio",
        Medium::Document => "document",
        Medium::Executable => "executable",
    };
    xml.start("media:content")
        .attr_opt("url", item.file.as_deref())
        .attr_opt("type", item.mime.as_deref())
        .attr("medium", medium)
        .attr_display("width", item.width)
        .attr_display("height", item.height)
        .attr_display("duration", item.duration)
        .attr_display("fileSize", item.length);
    let has_children = item.player.is_some()
        || item.thumbnail.is_some()
        || item.title.is_some()
        || item.description.is_some()
        || item.credit.is_some();
    if !has_children {
        xml.empty();
        return;
    }
    xml.open();
    if let Some(player) = &item.player {
        xml.start("media:player").attr("url", player).empty();
    }
    if let Some(thumbnail) = &item.thumbnail {
        xml.start("media:thumbnail").attr("url", thumbnail).empty();
    }
    if let Some(title) = &item.title {
        xml.start("media:title")
            .attr("type", "plain")
            .open()
            .text(title)
            .end("media:title");
    }
    if let Some(caption) = &item.description {
        xml.start("media:description")
            .attr("type", "plain")
            .open()
            .text(caption)
            .end("media:description");
    }
    if let Some(credit) = &item.credit {
        xml.element("media:credit", credit);
    }
    xml.end("media:content");
}
