//! The browser view: the XSLT stylesheet every RSS and Atom feed points to, and the
//! processing instruction that points to it. Nothing here runs XSLT.

/// The stylesheet, served and exported as `feed.xsl` beside the feeds.
pub const STYLESHEET: &str = include_str!("../../assets/feed.xsl");

/// The stylesheet's file name, which is also its URL suffix: `/feeds/feed.xsl`.
pub const FILE_NAME: &str = "feed.xsl";

pub const CONTENT_TYPE: &str = "text/xsl; charset=utf-8";

/// The processing instruction. The href is relative: it resolves beside the feed itself,
/// so it is same-origin (browsers refuse a cross-origin stylesheet) whether the feed is
/// opened from pressfeed, from a CDN in front of it, or from an export under any path.
pub(super) const INSTRUCTION: &[u8] = b"<?xml-stylesheet type=\"text/xsl\" href=\"feed.xsl\"?>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_is_xslt_1() {
        assert!(STYLESHEET.starts_with("<?xml"));
        assert!(STYLESHEET.contains("<xsl:stylesheet version=\"1.0\""));
    }
}
