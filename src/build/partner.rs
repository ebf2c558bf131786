//! What partners add to RSS, beside what every feed carries: SmartNews's SmartFormat
//! elements (`snf:`), MSN's update date (`dcterms:modified`), and, in the public RSS and
//! Atom feeds, Feedly's `webfeeds:` elements. Which items a partner's feed holds is decided before
//! (the `partner` module); this only writes. docs/partners.md has each element's source.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesStart, Event};

use super::xml::{attr, cdata, element, safe};
use super::{FeedSource, Format};
use crate::config::{Partner, SponsoredLink};
use crate::item::FeedItem;

const SMARTNEWS_NAMESPACE: &str = "http://www.smartnews.be/snf";
const DCTERMS_NAMESPACE: &str = "http://purl.org/dc/terms/";
const WEBFEEDS_NAMESPACE: &str = "http://webfeeds.org/rss/1.0";

/// The formats a partner's feeds are published in: those it reads.
pub fn formats(partner: Partner) -> &'static [Format] {
    match partner {
        // Flipboard reads RSS; SmartFormat is defined over RSS and Atom alike, and RSS
        // is the form SmartNews's own examples and checker start from.
        Partner::Flipboard | Partner::SmartNews => &[Format::Rss],
        Partner::Msn | Partner::GoogleNews => &[Format::Rss, Format::Atom],
    }
}

/// The namespaces an RSS document of `source` declares beyond every feed's.
pub(super) fn rss_namespaces(source: &FeedSource<'_>) -> Option<(&'static str, &'static str)> {
    match source.partner {
        Some(Partner::SmartNews) => Some(("xmlns:snf", SMARTNEWS_NAMESPACE)),
        Some(Partner::Msn) => Some(("xmlns:dcterms", DCTERMS_NAMESPACE)),
        Some(Partner::Flipboard | Partner::GoogleNews) => None,
        None => webfeeds_namespace(source),
    }
}

/// Feedly's namespace, which a public feed declares when `[partners.feedly]` is set.
pub(super) fn webfeeds_namespace(source: &FeedSource<'_>) -> Option<(&'static str, &'static str)> {
    (source.partner.is_none() && source.site.partners.feedly.is_some())
        .then_some(("xmlns:webfeeds", WEBFEEDS_NAMESPACE))
}

/// The channel elements partners add, written after every feed's.
pub(super) fn rss_channel(w: &mut Writer<Vec<u8>>, source: &FeedSource<'_>) -> io::Result<()> {
    let site = source.site;
    match source.partner {
        Some(Partner::SmartNews) => {
            // SmartFormat requires the channel's publication date: the newest item's, so
            // unchanged content rebuilds to the same bytes.
            if let Some(newest) = source.items.iter().map(|item| item.published).max() {
                element(w, "pubDate", &newest.to_rfc2822())?;
            }
            let Some(smartnews) = &site.partners.smartnews else {
                return Ok(());
            };
            for (name, logo) in [
                ("snf:logo", &smartnews.logo),
                ("snf:darkModeLogo", &smartnews.dark_mode_logo),
            ] {
                if let Some(logo) = logo {
                    w.create_element(name)
                        .write_inner_content(|w| element(w, "url", logo.as_str()))?;
                }
            }
        }
        None => webfeeds(w, source)?,
        Some(Partner::Flipboard | Partner::Msn | Partner::GoogleNews) => {}
    }
    Ok(())
}

/// Feedly's elements of a public feed, RSS's channel or Atom's feed alike: Feedly reads
/// them as foreign markup in either.
pub(super) fn webfeeds(w: &mut Writer<Vec<u8>>, source: &FeedSource<'_>) -> io::Result<()> {
    let site = source.site;
    let (None, Some(feedly)) = (source.partner, &site.partners.feedly) else {
        return Ok(());
    };
    let icon = feedly.icon.as_ref().or(site.icon.as_ref());
    let logo = feedly.logo.as_ref().or(site.logo.as_ref());
    if let Some(icon) = icon {
        element(w, "webfeeds:icon", icon.as_str())?;
    }
    if let Some(logo) = logo {
        element(w, "webfeeds:logo", logo.as_str())?;
    }
    if let Some(cover) = &feedly.cover {
        w.create_element("webfeeds:cover")
            .with_attribute(attr("image", cover.as_str()))
            .write_empty()?;
    }
    if let Some(color) = &feedly.accent_color {
        element(w, "webfeeds:accentColor", color)?;
    }
    if let Some(id) = &feedly.analytics {
        w.create_element("webfeeds:analytics")
            .with_attribute(attr("id", id))
            .with_attribute(("engine", "GoogleAnalytics"))
            .write_empty()?;
    }
    Ok(())
}

/// SmartFormat's sponsored link: attributes only, `link` and `advertiser` required.
fn sponsored_link(w: &mut Writer<Vec<u8>>, sponsored: &SponsoredLink) -> io::Result<()> {
    let mut start = BytesStart::new("snf:sponsoredLink");
    start.push_attribute(attr("link", sponsored.link.as_str()));
    if let Some(thumbnail) = &sponsored.thumbnail {
        start.push_attribute(attr("thumbnail", thumbnail.as_str()));
    }
    if let Some(title) = &sponsored.title {
        start.push_attribute(attr("title", title));
    }
    start.push_attribute(attr("advertiser", &sponsored.advertiser));
    w.write_event(Event::Empty(start))
}

/// The item elements partners add, written after every item's.
pub(super) fn rss_item(
    w: &mut Writer<Vec<u8>>,
    source: &FeedSource<'_>,
    item: &FeedItem,
) -> io::Result<()> {
    match source.partner {
        Some(Partner::SmartNews) => {
            let Some(smartnews) = &source.site.partners.smartnews else {
                return Ok(());
            };
            // The settings' HTML as written, less what XML forbids: it is the publisher's
            // own code for SmartView to run, not article content to sanitize.
            if let Some(analytics) = &smartnews.analytics {
                w.create_element("snf:analytics")
                    .write_inner_content(|w| cdata(w, &safe(analytics)))?;
            }
            if smartnews.ad.is_some() || !smartnews.sponsored_links.is_empty() {
                w.create_element("snf:advertisement")
                    .write_inner_content(|w| {
                        if let Some(ad) = &smartnews.ad {
                            w.create_element("snf:adcontent")
                                .write_inner_content(|w| cdata(w, &safe(ad)))?;
                        }
                        for sponsored in &smartnews.sponsored_links {
                            sponsored_link(w, sponsored)?;
                        }
                        Ok(())
                    })?;
            }
        }
        // MSN ingests an item again only when its update date moves past its publication
        // date (docs/partners.md).
        Some(Partner::Msn) if item.updated > item.published => {
            element(w, "dcterms:modified", &item.updated.to_rfc3339())?;
        }
        _ => {}
    }
    Ok(())
}
