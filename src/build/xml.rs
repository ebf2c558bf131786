//! The XML writer under the RSS and Atom builders: elements written straight into the
//! output bytes, text and attribute values escaped, HTML carried as CDATA. Not a general
//! XML library: it writes what the two feed formats need and nothing is indented.
//!
//! Why not the rss and atom_syndication crates' writers: they need an owned struct of
//! every string, and quick-xml escapes every byte of an item's HTML; together that was
//! three quarters of a build. The crates still read every feed back in the tests.

use std::fmt::Display;
use std::io::Write;

/// Bytes a text or attribute value may need changed: markup characters, and the start of
/// characters XML 1.0 forbids (C0 controls but tab, LF and CR; U+FFFE and U+FFFF start
/// with 0xEF), which are dropped. Everything else is copied as it is.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = !matches!(b, 0x09 | 0x0A | 0x0D);
        b += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'"' as usize] = true;
    table[0xEF] = true;
    table
};

pub(super) struct Xml {
    out: Vec<u8>,
}

impl Xml {
    /// A document with its XML declaration and the browser view's stylesheet instruction.
    pub fn new(capacity: usize) -> Xml {
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        out.extend_from_slice(super::xsl::INSTRUCTION);
        out.push(b'\n');
        Xml { out }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    /// `<name`: attributes may follow, then `open`'s `>` or `empty`'s `/>`.
    pub fn start(&mut self, name: &str) -> &mut Xml {
        self.out.push(b'<');
        self.out.extend_from_slice(name.as_bytes());
        self
    }

    pub fn attr(&mut self, name: &str, value: &str) -> &mut Xml {
        self.out.push(b' ');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"=\"");
        self.escaped(value);
        self.out.push(b'"');
        self
    }

    /// An attribute whose value is written with `Display` (numbers), when there is one.
    pub fn attr_display(&mut self, name: &str, value: Option<impl Display>) -> &mut Xml {
        if let Some(value) = value {
            write!(self.out, " {name}=\"{value}\"").expect("writing to a Vec does not fail");
        }
        self
    }

    pub fn attr_opt(&mut self, name: &str, value: Option<&str>) -> &mut Xml {
        if let Some(value) = value {
            self.attr(name, value);
        }
        self
    }

    /// Ends a start tag: children follow, then `end`.
    pub fn open(&mut self) -> &mut Xml {
        self.out.push(b'>');
        self
    }

    /// Ends a start tag as an empty element.
    pub fn empty(&mut self) {
        self.out.extend_from_slice(b"/>");
    }

    pub fn end(&mut self, name: &str) {
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'>');
    }

    /// Escaped text inside the element opened last.
    pub fn text(&mut self, text: &str) -> &mut Xml {
        self.escaped(text);
        self
    }

    /// `<name>text</name>`.
    pub fn element(&mut self, name: &str, text: &str) {
        self.start(name).open().text(text).end(name);
    }

    /// `<name>value</name>` for a value written with `Display` (numbers, dates).
    pub fn element_display(&mut self, name: &str, value: impl Display) {
        self.start(name).open();
        write!(self.out, "{value}").expect("writing to a Vec does not fail");
        self.end(name);
    }

    /// HTML as one or more CDATA sections: readers get the HTML back as text, as if it
    /// were escaped, at the cost of a copy. A `]]>` inside is split across two sections.
    /// The HTML must be free of the characters XML forbids (the sanitizer sees to it).
    pub fn cdata(&mut self, html: &str) -> &mut Xml {
        let mut rest = html.as_bytes();
        self.out.extend_from_slice(b"<![CDATA[");
        while let Some(at) = memchr::memmem::find(rest, b"]]>") {
            self.out.extend_from_slice(&rest[..at + 2]);
            self.out.extend_from_slice(b"]]><![CDATA[");
            rest = &rest[at + 2..];
        }
        self.out.extend_from_slice(rest);
        self.out.extend_from_slice(b"]]>");
        self
    }

    fn escaped(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut copied = 0;
        let mut i = 0;
        while let Some(found) = find_special(&bytes[i..]) {
            i += found;
            let (replacement, len): (&[u8], usize) = match bytes[i] {
                b'&' => (b"&amp;", 1),
                b'<' => (b"&lt;", 1),
                b'>' => (b"&gt;", 1),
                b'"' => (b"&quot;", 1),
                b'\t' | b'\n' | b'\r' => (&bytes[i..i + 1], 1),
                0xEF if matches!(bytes.get(i + 1..i + 3), Some([0xBF, 0xBE | 0xBF])) => (b"", 3),
                0xEF => (b"\xEF", 1),
                _ => (b"", 1),
            };
            self.out.extend_from_slice(&bytes[copied..i]);
            self.out.extend_from_slice(replacement);
            i += len;
            copied = i;
        }
        self.out.extend_from_slice(&bytes[copied..]);
    }
}

/// The position of the first byte that `escaped` may have to change, eight bytes at a
/// time: titles and URLs are mostly plain, and a byte-at-a-time scan of them was the
/// writer's largest cost. Candidates it reports but leaves alone (tab, a lone 0xEF) are
/// copied by `escaped`.
fn find_special(bytes: &[u8]) -> Option<usize> {
    /// `byte` in each of the eight lanes.
    const fn splat(byte: u8) -> u64 {
        u64::from_ne_bytes([byte; 8])
    }
    const ONES: u64 = splat(0x01);
    const HIGH: u64 = splat(0x80);
    /// High bit set in each byte of `v` that is zero. A borrow can also flag a byte above
    /// a zero one, never below it, so the lowest flag is always right.
    fn zero_bytes(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGH
    }
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("chunks of eight"));
        // `<` and `>` differ in bit 0x02, `"` and `&` in bit 0x04: one test for each pair.
        let found = zero_bytes((x | splat(0x02)) ^ splat(b'>'))
            | zero_bytes((x | splat(0x04)) ^ splat(b'&'))
            | zero_bytes(x ^ splat(0xEF))
            // Bytes below 0x20: the C0 controls.
            | (x.wrapping_sub(splat(0x20)) & !x & HIGH);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| SPECIAL[b as usize])
        .map(|p| at + p)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::sanitize::xml_safe;

    fn body(xml: Xml) -> String {
        let bytes = xml.into_bytes();
        let text = String::from_utf8(bytes).unwrap();
        text.split_once("?>\n")
            .unwrap()
            .1
            .split_once("?>\n")
            .unwrap()
            .1
            .to_owned()
    }

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        let mut xml = Xml::new(0);
        xml.start("a")
            .attr("href", "x?a=1&b=\"2\"")
            .open()
            .text("<b>\u{0}\u{1b}tab\tnl\n & \u{FFFE}\u{FFFF}\u{FFFD}é");
        xml.end("a");
        assert_eq!(
            body(xml),
            "<a href=\"x?a=1&amp;b=&quot;2&quot;\">&lt;b&gt;tab\tnl\n &amp; \u{FFFD}é</a>"
        );
    }

    #[test]
    fn cdata_splits_its_end_marker() {
        let mut xml = Xml::new(0);
        xml.start("d").open().cdata("a]]>b]]]>c");
        xml.end("d");
        assert_eq!(
            body(xml),
            "<d><![CDATA[a]]]]><![CDATA[>b]]]]]><![CDATA[>c]]></d>"
        );
    }

    proptest! {
        #[test]
        fn escaping_is_the_plain_definition(
            s in prop_oneof![any::<String>(), "[<>&\"'\\x00-\\x1f\u{FFFE}\u{FFFF}\u{FFFD}\u{F000}\u{EFBF}a-z ]{0,40}"]
        ) {
            let mut xml = Xml { out: Vec::new() };
            xml.escaped(&s);
            let expected = xml_safe(&s)
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;");
            prop_assert_eq!(String::from_utf8(xml.out).unwrap(), expected);
        }
    }
}
