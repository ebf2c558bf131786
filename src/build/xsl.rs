//! The browser view: the XSLT stylesheet every RSS and Atom feed points to, and the one
//! helper that adds that pointer to rendered feed bytes. Nothing here runs XSLT.

/// The stylesheet, served and exported as `feed.xsl` beside the feeds.
pub const STYLESHEET: &str = include_str!("../../assets/feed.xsl");

/// The stylesheet's file name, which is also its URL suffix: `/feeds/feed.xsl`.
pub const FILE_NAME: &str = "feed.xsl";

pub const CONTENT_TYPE: &str = "text/xsl; charset=utf-8";

/// The processing instruction. The href is relative: it resolves beside the feed itself,
/// so it is same-origin (browsers refuse a cross-origin stylesheet) whether the feed is
/// opened from pressfeed, from a CDN in front of it, or from an export under any path.
const INSTRUCTION: &[u8] = b"<?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>";

/// Inserts the stylesheet instruction right after the XML declaration (the rss and
/// atom_syndication writers emit the declaration themselves and have no hook for a
/// processing instruction), or at the very start when there is no declaration.
pub(super) fn with_stylesheet(mut xml: Vec<u8>) -> Vec<u8> {
    let at = if xml.starts_with(b"<?xml ") {
        match xml.windows(2).position(|w| w == b"?>") {
            Some(end) => end + 2,
            None => 0,
        }
    } else {
        0
    };
    let mut insert = Vec::with_capacity(INSTRUCTION.len() + 1);
    if at > 0 {
        insert.push(b'\n');
    }
    insert.extend_from_slice(INSTRUCTION);
    if at == 0 {
        insert.push(b'\n');
    }
    xml.splice(at..at, insert);
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instruction_follows_the_declaration() {
        let out = with_stylesheet(b"<?xml version=\"1.0\" encoding=\"utf-8\"?><rss/>".to_vec());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
             <?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?><rss/>"
        );
    }

    #[test]
    fn without_a_declaration_the_instruction_comes_first() {
        let out = with_stylesheet(b"<feed/>".to_vec());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>\n<feed/>"
        );
    }

    #[test]
    fn the_stylesheet_is_xslt_1() {
        assert!(STYLESHEET.starts_with("<?xml"));
        assert!(STYLESHEET.contains("<xsl:stylesheet version=\"1.0\""));
    }
}
