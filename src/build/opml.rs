//! OPML 2.0 subscription list of the site's feeds (`index.opml`): every enabled section
//! with its RSS and Atom feed, for readers that import a whole site at once. Written with
//! quick-xml's `Writer`, like the feeds, but indented: people open this file.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, Event};

use super::Format;
use super::xml::{attr, element, text};
use crate::config::{Section, Site};

/// The list's file name, which is also its URL suffix: `/feeds/index.opml`.
pub const FILE_NAME: &str = "index.opml";

pub const CONTENT_TYPE: &str = "text/x-opml; charset=utf-8";

/// Renders the list. No date in it: `dateCreated` would change the bytes (and the ETag)
/// on every build although the list did not change.
pub fn render(site: &Site, sections: &[Section]) -> Vec<u8> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    write(&mut writer, site, sections).expect("writing to a Vec cannot fail");
    let mut bytes = writer.into_inner();
    bytes.push(b'\n');
    bytes
}

fn write(w: &mut Writer<Vec<u8>>, site: &Site, sections: &[Section]) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("opml")
        .with_attribute(("version", "2.0"))
        .write_inner_content(|w| {
            w.create_element("head").write_inner_content(|w| {
                w.create_element("title")
                    .write_text_content(text(&format!("{} feeds", site.title)))?;
                element(w, "docs", "http://opml.org/spec2.opml")
            })?;
            w.create_element("body").write_inner_content(|w| {
                for section in sections.iter().filter(|s| s.enabled) {
                    outline(w, site, section)?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(())
}

/// A section as a folder outline holding one subscription per feed format.
fn outline(w: &mut Writer<Vec<u8>>, site: &Site, section: &Section) -> std::io::Result<()> {
    let title = section.title.as_str();
    w.create_element("outline")
        .with_attribute(attr("text", title))
        .with_attribute(attr("title", title))
        .write_inner_content(|w| {
            for format in [Format::Rss, Format::Atom] {
                let text = format!("{title} ({})", format.label());
                let xml_url = site.feed_url(&format.file_name(section));
                // OPML 2.0 says `type="rss"` for every feed subscription, Atom included.
                w.create_element("outline")
                    .with_attribute(("type", "rss"))
                    .with_attribute(attr("text", &text))
                    .with_attribute(attr("title", &text))
                    .with_attribute(attr("xmlUrl", &xml_url))
                    .with_attribute(attr("htmlUrl", section.link.as_str()))
                    .write_empty()?;
            }
            Ok(())
        })?;
    Ok(())
}
