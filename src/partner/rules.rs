//! Every partner rule pressfeed checks: its id, what it asks, how much it matters, and the
//! partner's public page that asks it. The one table the lint, the metrics and
//! docs/partners.md name rules by; the checks themselves are in `check`.

use serde::Serialize;

/// How much breaking a rule matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The partner refuses what breaks it: an item is left out of the feed, or, for what
    /// the feed or the site's settings lack, the partner refuses the feed.
    Error,
    /// The partner recommends it: the item stays in.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One rule of one partner.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// `partner/what`, as the lint, the metrics and docs/partners.md name it.
    pub id: &'static str,
    /// How much breaking it matters.
    pub severity: Severity,
    /// What the rule asks, in a few words.
    pub asks: &'static str,
    /// The partner's public page that asks it.
    pub source: &'static str,
}

const FLIPBOARD_SPEC: &str = "https://about.flipboard.com/rss-spec/";
/// An older copy of Flipboard's spec, the one that lists WebSub among the requirements.
const FLIPBOARD_SPEC_OLDER: &str = "https://in-id.about.flipboard.com/rss-spec";
const FLIPBOARD_FAQ: &str =
    "https://flipboard.helpshift.com/hc/en/1-flipboard/faq/1023-resubmit-an-rss-feed/";
const SMARTFORMAT: &str = "https://publishers.smartnews.com/hc/en-us/articles/56500436151065";
const SMARTFORMAT_JA: &str = "https://publishers.smartnews.com/hc/ja/articles/360036526213";
const SMARTNEWS_SPONSORED: &str =
    "https://publishers.smartnews.com/hc/en-us/articles/51338435733913";
const SMARTNEWS_TRAFFIC: &str = "https://publishers.smartnews.com/hc/en-us/articles/360049232353";
const MSN_FEEDS: &str = "https://helpcenter.microsoftstart.com/kb/feed-specifications";
const MSN_ITEMS: &str = "https://support.microsoft.com/en-us/topic/msn-feed-item-metadata-requirements-0114c19c-36bb-4fef-8322-4a1ed6888329";
const MSN_ERRORS: &str = "https://support.microsoft.com/en-us/topic/troubleshoot-msn-content-ingestion-and-feed-errors-55651a8b-7594-4a41-9666-5a2fd9906861";
const GOOGLE_FEEDS: &str = "https://support.google.com/news/publisher-center/answer/9545420";
const GOOGLE_FETCH: &str = "https://support.google.com/news/publisher-center/answer/9545414";
const FEEDLY: &str = "https://blog.feedly.com/10-ways-to-optimize-your-feed-for-feedly/";

macro_rules! rules {
    ($($name:ident = $id:literal, $severity:ident, $asks:literal, $source:expr;)*) => {
        $(#[allow(missing_docs)] // The table says it all.
        pub const $name: &Rule = &Rule {
            id: $id,
            severity: Severity::$severity,
            asks: $asks,
            source: $source,
        };)*
        /// Every rule, partner by partner.
        pub const ALL: &[&Rule] = &[$($name),*];
    };
}

rules! {
    FLIPBOARD_BODY = "flipboard/full-body", Error,
        "the entire body of the article", FLIPBOARD_SPEC;
    FLIPBOARD_IMAGE = "flipboard/image", Error,
        "at least one image per article", FLIPBOARD_SPEC;
    FLIPBOARD_IMAGE_SIZE = "flipboard/image-size", Error,
        "an image at least 400 px in its smallest dimension", FLIPBOARD_SPEC;
    FLIPBOARD_IMAGE_SIZE_NEWER = "flipboard/image-size-500", Warning,
        "an image at least 500 px in its smallest dimension, its size known", FLIPBOARD_FAQ;
    FLIPBOARD_DESCRIPTION = "flipboard/description", Warning,
        "a description of 300 characters or more", FLIPBOARD_FAQ;
    FLIPBOARD_LINK_DOMAIN = "flipboard/link-domain", Warning,
        "item links on the feed's domain", FLIPBOARD_FAQ;
    FLIPBOARD_ITEMS = "flipboard/min-items", Warning,
        "at least 30 items", FLIPBOARD_SPEC;
    FLIPBOARD_WEBSUB = "flipboard/websub", Warning,
        "updates pushed with WebSub (PubSubHubbub)", FLIPBOARD_SPEC_OLDER;
    SMARTNEWS_LOGO = "smartnews/logo", Warning,
        "snf:logo, the publisher's logo for SmartView", SMARTFORMAT;
    SMARTNEWS_DARK_LOGO = "smartnews/dark-mode-logo", Warning,
        "snf:darkModeLogo, the logo for dark mode", SMARTFORMAT;
    SMARTNEWS_ANALYTICS = "smartnews/analytics", Warning,
        "snf:analytics, the tracking code SmartView runs", SMARTFORMAT;
    SMARTNEWS_DESCRIPTION = "smartnews/description", Warning,
        "a channel description of 30 characters or less", SMARTFORMAT;
    SMARTNEWS_FEED_SIZE = "smartnews/feed-size", Warning,
        "a feed of 1 MB or less", SMARTFORMAT_JA;
    SMARTNEWS_BODY = "smartnews/body", Warning,
        "the article's body in content:encoded", SMARTFORMAT;
    SMARTNEWS_THUMBNAIL = "smartnews/thumbnail", Warning,
        "media:thumbnail, an image for the article", SMARTFORMAT;
    SMARTNEWS_SPONSORED_LINK = "smartnews/sponsored-link", Warning,
        "sponsored links to the site's own domain, advertisers of at most 35 characters, titles of at most 45", SMARTNEWS_SPONSORED;
    SMARTNEWS_LINK = "smartnews/link-utm", Warning,
        "canonical links without utm_ parameters", SMARTNEWS_TRAFFIC;
    MSN_HTTPS = "msn/https", Error,
        "the feed served over HTTPS", MSN_FEEDS;
    MSN_FEED_SIZE = "msn/feed-size", Error,
        "a feed of at most 10 MB", MSN_ERRORS;
    MSN_BODY = "msn/body-length", Error,
        "a body of 450 to 500,000 characters", MSN_ERRORS;
    MSN_AGE = "msn/published-age", Error,
        "a publication date less than 365 days old", MSN_ITEMS;
    MSN_TITLE_SHORT = "msn/title-short", Error,
        "a title of more than 20 characters", MSN_ITEMS;
    MSN_TITLE_LONG = "msn/title-long", Warning,
        "a title of at most 150 characters, or a short title beside it", MSN_ITEMS;
    MSN_IMAGE = "msn/image", Warning,
        "an image, without which an article is not published automatically", MSN_FEEDS;
    MSN_IMAGE_SIZE = "msn/image-size", Warning,
        "images at least 720 px wide or high, their size known", MSN_FEEDS;
    MSN_IMAGE_RATIO = "msn/image-ratio", Warning,
        "images of aspect ratio 0.5 to 1.89", MSN_FEEDS;
    GOOGLE_FEED_SIZE = "google-news/feed-size", Error,
        "a feed of at most 2 MB", GOOGLE_FEEDS;
    GOOGLE_ITEM_SIZE = "google-news/item-size", Error,
        "articles of at most 1 MB each", GOOGLE_FEEDS;
    GOOGLE_WINDOW = "google-news/window", Warning,
        "at most 60 new articles a fetch", GOOGLE_FEEDS;
    GOOGLE_WEBSUB = "google-news/websub", Warning,
        "WebSub, or updates are seen only when Google next fetches", GOOGLE_FETCH;
    GOOGLE_BODY = "google-news/full-body", Warning,
        "full articles", GOOGLE_FEEDS;
    FEEDLY_ICON = "feedly/icon", Warning,
        "webfeeds:icon, the feed's icon", FEEDLY;
    FEEDLY_LOGO = "feedly/logo-svg", Warning,
        "webfeeds:logo, an SVG logo", FEEDLY;
    FEEDLY_COVER = "feedly/cover", Warning,
        "webfeeds:cover, the feed's cover image", FEEDLY;
    UNKNOWN_SECTION = "partners/section", Warning,
        "a section that exists for every section a partner is given", "docs/partners.md";
}

/// The rule called `id`.
pub fn named(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|rule| rule.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_one_id_and_a_source() {
        let mut ids = std::collections::HashSet::new();
        for rule in ALL {
            assert!(ids.insert(rule.id), "{} twice", rule.id);
            assert!(named(rule.id) == Some(*rule));
            assert!(
                !rule.source.is_empty() && !rule.asks.is_empty(),
                "{}",
                rule.id
            );
        }
    }
}
