//! What RSS, Atom and OPML share in writing XML with quick-xml's `Writer`: the feed
//! document's start, text and attribute values with the characters XML 1.0 forbids
//! dropped before quick-xml escapes them, and article HTML as CDATA. The element structure
//! of each format stays in its own file.
//!
//! Why HTML as CDATA: quick-xml's escaping looks at every byte, and an item's HTML is
//! most of a feed; as CDATA it is copied whole, and readers take it exactly as escaped
//! HTML. Text and attributes are short, so they go through quick-xml's escaping, which
//! is most of what a render costs now (BENCHMARKS.md has the figures beside those of the
//! hand-written writer this replaced).

use std::borrow::Cow;
use std::io;

use quick_xml::Writer;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesCData, BytesDecl, BytesText, Event};

use crate::sanitize::xml_safe;

/// A writer holding the XML declaration and the browser view's stylesheet instruction,
/// for the feed file `name` of about `capacity` bytes. Nothing is indented: feeds are read
/// by programs.
pub(super) fn feed_document(name: &str, capacity: usize) -> io::Result<Writer<Vec<u8>>> {
    let mut w = Writer::new(Vec::with_capacity(capacity));
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    w.write_event(Event::Text(BytesText::new("\n")))?;
    // The instruction as xsl.rs spells it, whole: already markup, of a slug-made path.
    w.get_mut()
        .extend_from_slice(super::xsl::instruction(name).as_bytes());
    w.write_event(Event::Text(BytesText::new("\n")))?;
    Ok(w)
}

/// `text` as an escaped text event, without the characters XML 1.0 forbids. Prepared
/// items are XML-safe already; the site's configuration and media captions may not be,
/// and a single forbidden character makes the whole feed unreadable.
pub(super) fn text(text: &str) -> BytesText<'_> {
    match safe(text) {
        Cow::Borrowed(safe) => BytesText::new(safe),
        Cow::Owned(safe) => BytesText::new(&safe).into_owned(),
    }
}

/// An attribute with its value escaped, without the characters XML 1.0 forbids.
pub(super) fn attr<'a>(name: &'a str, value: &'a str) -> Attribute<'a> {
    match safe(value) {
        Cow::Borrowed(safe) => Attribute::from((name, safe)),
        Cow::Owned(safe) => Attribute::from((name, Cow::Owned(safe))),
    }
}

/// `text` without the characters XML 1.0 forbids, borrowed when it has none (nearly
/// always). Every text and attribute value of a feed passes here, and `xml_safe`'s exact
/// scan goes byte by byte, which showed in profiles of a render; so a quick look first.
/// It has no early exit within a block of 16 bytes, so the compiler can vectorize a block's
/// test. It flags every C0 control (tab, LF and CR too) and 0xEF, the lead byte of U+FFFE and
/// U+FFFF (and of other characters), and `xml_safe` decides about what it flags.
pub(super) fn safe(text: &str) -> Cow<'_, str> {
    let suspect = text.as_bytes().chunks(16).any(|block| {
        block
            .iter()
            .fold(false, |found, &b| found | (b < 0x20) | (b == 0xEF))
    });
    if suspect {
        xml_safe(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// An attribute whose value is a number.
pub(super) fn number_attr(name: &str, value: impl Into<u64>) -> Attribute<'_> {
    Attribute::from((name, Cow::Owned(value.into().to_string())))
}

/// `<name>text</name>`.
pub(super) fn element(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name).write_text_content(text(value))?;
    Ok(())
}

/// The concatenation of `parts` as text of the element being written, without joining
/// them first.
pub(super) fn texts(w: &mut Writer<Vec<u8>>, parts: &[&str]) -> io::Result<()> {
    for part in parts {
        w.write_event(Event::Text(text(part)))?;
    }
    Ok(())
}

/// HTML as CDATA, in as many sections as it takes: a `]]>` inside would end a section,
/// so quick-xml's `BytesCData::escaped` splits it between `]]` and `>` (`BytesCData::new`
/// would write it as it is). Nearly all HTML has no `]]>` and goes whole into one
/// section; one search of the whole HTML finds that out, where `escaped` stops at every
/// `>`, and HTML is full of them. The HTML must be free of the characters XML forbids;
/// the sanitizer sees to it when an item is prepared, and a second look at every byte
/// here would cost what CDATA saves.
pub(super) fn cdata(w: &mut Writer<Vec<u8>>, html: &str) -> io::Result<()> {
    if memchr::memmem::find(html.as_bytes(), b"]]>").is_none() {
        return w.write_event(Event::CData(BytesCData::new(html)));
    }
    for section in BytesCData::escaped(html) {
        w.write_event(Event::CData(section))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn written(write: impl FnOnce(&mut Writer<Vec<u8>>) -> io::Result<()>) -> String {
        let mut w = Writer::new(Vec::new());
        write(&mut w).unwrap();
        String::from_utf8(w.into_inner()).unwrap()
    }

    #[test]
    fn a_feed_starts_with_the_declaration_and_the_stylesheet() {
        let bytes = feed_document("world.rss", 0).unwrap().into_inner();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>\n"
        );
    }

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        let xml = written(|w| {
            w.create_element("a")
                .with_attribute(attr("href", "x?a=1&b=\"2\"\u{1}"))
                .with_attribute(number_attr("length", 12u32))
                .write_text_content(text(
                    "<b>\u{0}\u{1b}tab\tnl\n & 'q' \u{FFFE}\u{FFFF}\u{FFFD}é",
                ))?;
            Ok(())
        });
        assert_eq!(
            xml,
            "<a href=\"x?a=1&amp;b=&quot;2&quot;\" length=\"12\">\
             &lt;b&gt;tab\tnl\n &amp; &apos;q&apos; \u{FFFD}é</a>"
        );
    }

    #[test]
    fn cdata_splits_its_end_marker() {
        let xml = written(|w| {
            w.create_element("d")
                .write_inner_content(|w| cdata(w, "a]]>b]]]>c"))?;
            w.create_element("e")
                .write_inner_content(|w| cdata(w, ""))?;
            w.create_element("f")
                .write_inner_content(|w| cdata(w, "]]>"))?;
            Ok(())
        });
        assert_eq!(
            xml,
            "<d><![CDATA[a]]]]><![CDATA[>b]]]]]><![CDATA[>c]]></d>\
             <e><![CDATA[]]></e><f><![CDATA[]]]]><![CDATA[>]]></f>"
        );
    }

    /// What a reader gets back as text, entities and CDATA resolved.
    fn read_back(xml: &str) -> String {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut back = String::new();
        loop {
            match reader.read_event().expect("well-formed") {
                Event::Text(t) => back.push_str(&t.decode().unwrap()),
                Event::CData(c) => back.push_str(&c.decode().unwrap()),
                Event::GeneralRef(r) => {
                    let name = r.decode().unwrap();
                    back.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap());
                }
                Event::Eof => break,
                _ => {}
            }
        }
        back
    }

    proptest! {
        #[test]
        fn html_comes_back_whole_from_its_cdata(
            html in "[]>a<&]{0,40}|(\\]\\]>|\\]|>|x){0,12}"
        ) {
            let xml = written(|w| w.create_element("d").write_inner_content(|w| cdata(w, &html)).map(drop));
            prop_assert_eq!(read_back(&xml), html);
        }

        #[test]
        fn text_and_attributes_are_escaped_less_forbidden_characters(
            s in prop_oneof![any::<String>(), "[<>&\"'\\x00-\\x1f\u{FFFE}\u{FFFF}\u{FFFD}\u{F000}\u{EFBF}a-z ]{0,40}"]
        ) {
            let xml = written(|w| {
                w.create_element("t").with_attribute(attr("v", &s)).write_text_content(text(&s))?;
                Ok(())
            });
            let safe = xml_safe(&s);
            let escaped = safe
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&apos;");
            prop_assert_eq!(&xml, &format!("<t v=\"{escaped}\">{escaped}</t>"));
            prop_assert_eq!(read_back(&xml), safe);
        }
    }
}
