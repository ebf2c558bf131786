//! The browser view: the XSLT stylesheet every RSS and Atom feed points to, and the
//! processing instruction that points to it. Nothing here runs XSLT.

/// The stylesheet, served and exported as `feed.xsl` beside the feeds.
pub const STYLESHEET: &str = include_str!("../../assets/feed.xsl");

/// The stylesheet's file name, which is also its URL suffix: `/feeds/feed.xsl`.
pub const FILE_NAME: &str = "feed.xsl";

pub const CONTENT_TYPE: &str = "text/xsl; charset=utf-8";

/// The processing instruction of the feed file `name` (its path under `/feeds/`). The
/// href is relative, so it is same-origin (browsers refuse a cross-origin stylesheet)
/// whether the feed is opened from pressfeed, from a CDN in front of it, or from an export
/// under any path: beside a feed at the top (`feed.xsl`), climbing out of a feed's folder
/// to it (`../feed.xsl` from `tag/krakow.rss`, `../../feed.xsl` from
/// `world/archive/2026-11.rss`).
pub(super) fn instruction(name: &str) -> String {
    let up = "../".repeat(name.matches('/').count());
    format!("<?xml-stylesheet type=\"text/xsl\" href=\"{up}{FILE_NAME}\"?>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instruction_points_to_the_one_stylesheet_from_any_folder() {
        let href = |name| {
            let instruction = instruction(name);
            instruction.split('"').nth(3).unwrap().to_owned()
        };
        assert_eq!(href("world.rss"), "feed.xsl");
        assert_eq!(href("tag/krakow.atom"), "../feed.xsl");
        assert_eq!(href("world/archive/2026-11.rss"), "../../feed.xsl");
        assert_eq!(href("tag/krakow/archive/2026-11.rss"), "../../../feed.xsl");
    }

    #[test]
    fn the_stylesheet_is_xslt_1() {
        assert!(STYLESHEET.starts_with("<?xml"));
        assert!(STYLESHEET.contains("<xsl:stylesheet version=\"1.0\""));
    }
}
