//! Partner feeds: for each partner a section goes to, the items the partner's rules let in,
//! its window and size cap, the feeds built from them, and every problem found on the way,
//! which the lint reports. Built with the section's public feeds, from the same read of
//! the store, so a partner feed is as fresh as the public one. The rules, each with its
//! source, are in `rules`; what a partner feed adds to the XML is `build`'s.

pub mod rules;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::build::{self, BuiltFeed};
use crate::config::{Config, Partner, Section, Site};
use crate::item::FeedItem;
use crate::media::MediaItem;
use crate::sanitize::plain_text;
use rules::{Rule, Severity};

/// Items a partner's feed holds when its profile sets no `limit`.
fn default_window(partner: Partner) -> usize {
    match partner {
        // Flipboard asks for at least 30.
        Partner::Flipboard | Partner::SmartNews => 30,
        // MSN describes about 20 new items between its fetches and asks for fewer than
        // about 30.
        Partner::Msn => 25,
        // Google takes at most 60 new articles a fetch.
        Partner::GoogleNews => 50,
    }
}

/// The size a partner's feed should stay under, and the rule saying so: an error's rule
/// leaves the oldest items out until the feed fits, a warning's only tells.
fn size_cap(partner: Partner) -> Option<(usize, &'static Rule)> {
    match partner {
        Partner::Msn => Some((10_000_000, rules::MSN_FEED_SIZE)),
        Partner::GoogleNews => Some((2_000_000, rules::GOOGLE_FEED_SIZE)),
        Partner::SmartNews => Some((1_000_000, rules::SMARTNEWS_FEED_SIZE)),
        Partner::Flipboard => None,
    }
}

/// Bytes of one article Google News takes at most.
const GOOGLE_ITEM_BYTES: usize = 1_000_000;

/// How many of a section's newest items are read for its feeds: its own limit, or twice
/// the widest window of its partners, so a window still fills when some items break a
/// partner's rules.
pub fn items_to_read(site: &Site, section: &Section) -> usize {
    let windows = site
        .partners
        .of_section(&section.slug)
        .map(|partner| 2 * window(site, partner));
    windows.fold(section.limit, usize::max)
}

fn window(site: &Site, partner: Partner) -> usize {
    (site.partners.profile(partner))
        .and_then(|(_, limit)| limit)
        .unwrap_or_else(|| default_window(partner))
}

/// One problem the lint reports. As JSON, the rule is its id, with its severity and source
/// beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// `None` for Feedly, whose settings go into the public feeds.
    pub partner: Option<Partner>,
    /// The section's slug; `None` for a problem of the site's settings.
    pub section: Option<String>,
    /// The feed's path under `/feeds/`, without extension (`partners/msn/world`).
    pub feed: Option<String>,
    /// The article's id, for a problem of one item.
    pub item: Option<String>,
    /// The article's URL, so whoever reads the report can open it.
    pub url: Option<String>,
    /// The rule broken: its id, severity and source.
    pub rule: &'static Rule,
    /// What was found, in words.
    pub found: String,
    /// Whether the item was left out of the feed for it.
    pub left_out: bool,
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Problem", 10)?;
        out.serialize_field("partner", self.partner_name())?;
        out.serialize_field("section", &self.section)?;
        out.serialize_field("feed", &self.feed)?;
        out.serialize_field("item", &self.item)?;
        out.serialize_field("url", &self.url)?;
        out.serialize_field("rule", self.rule.id)?;
        out.serialize_field("severity", &self.rule.severity)?;
        out.serialize_field("found", &self.found)?;
        out.serialize_field("left_out", &self.left_out)?;
        out.serialize_field("source", self.rule.source)?;
        out.end()
    }
}

impl Problem {
    /// The partner's name, `feedly` for Feedly's.
    pub fn partner_name(&self) -> &'static str {
        self.partner.map_or("feedly", Partner::name)
    }

    /// The rule's severity.
    pub fn severity(&self) -> Severity {
        self.rule.severity
    }

    /// A problem of the site's settings alone; the callers say of what else.
    fn new(rule: &'static Rule, found: String) -> Problem {
        Problem {
            partner: None,
            section: None,
            feed: None,
            item: None,
            url: None,
            rule,
            found,
            left_out: false,
        }
    }
}

/// A section's feeds for its partners, and the problems found making them.
pub struct PartnerFeeds {
    /// One file per format each partner reads.
    pub files: Vec<BuiltFeed>,
    /// What the lint reports of them.
    pub problems: Vec<Problem>,
}

/// The feeds of `section` for every partner that gets it, from `items`, the section's
/// newest live items (newest first, `items_to_read` of them), at `now`.
pub fn feeds(
    site: &Site,
    section: &Section,
    items: &[FeedItem],
    now: DateTime<Utc>,
) -> PartnerFeeds {
    let mut all = PartnerFeeds {
        files: Vec::new(),
        problems: Vec::new(),
    };
    for partner in site.partners.of_section(&section.slug) {
        let one = partner_feeds(site, section, partner, items, now);
        all.files.extend(one.files);
        all.problems.extend(one.problems);
    }
    all
}

/// `feeds` for `partner` alone.
fn partner_feeds(
    site: &Site,
    section: &Section,
    partner: Partner,
    items: &[FeedItem],
    now: DateTime<Utc>,
) -> PartnerFeeds {
    let key = build::partner_key(partner, section);
    let problem = |rule: &'static Rule, item: Option<&FeedItem>, found: String| Problem {
        partner: Some(partner),
        section: Some(section.slug.to_string()),
        feed: Some(key.clone()),
        item: item.map(|item| item.id.to_string()),
        url: item.map(|item| item.url.clone()),
        left_out: item.is_some() && rule.severity == Severity::Error,
        ..Problem::new(rule, found)
    };
    let mut problems: Vec<Problem> = feed_checks(site, section, partner)
        .into_iter()
        .map(|(rule, found)| problem(rule, None, found))
        .collect();
    let window = window(site, partner);
    let mut kept: Vec<FeedItem> = Vec::with_capacity(window);
    for item in items {
        if kept.len() == window {
            break;
        }
        let found = item_checks(site, partner, item, now);
        let left_out = found
            .iter()
            .any(|(rule, _)| rule.severity == Severity::Error);
        problems.extend(
            found
                .into_iter()
                .map(|(rule, f)| problem(rule, Some(item), f)),
        );
        if !left_out {
            kept.push(item.clone());
        }
    }
    if partner == Partner::Flipboard && kept.len() < 30 {
        let found = format!("{} items", kept.len());
        problems.push(problem(rules::FLIPBOARD_ITEMS, None, found));
    }
    let cap = size_cap(partner);
    let mut files = Vec::new();
    for &format in build::partner::formats(partner) {
        let (built, held) = fitted(site, section, partner, format, &kept, cap);
        if let Some((bytes, rule)) = cap {
            let size = built.bytes.len();
            if held < kept.len() {
                let found = format!(
                    "over the cap with all {} items: the oldest {} left out of the {} feed",
                    kept.len(),
                    kept.len() - held,
                    format.label(),
                );
                let mut trimmed = problem(rule, None, found);
                trimmed.left_out = true;
                problems.push(trimmed);
            } else if size > bytes {
                let found = format!("{size} bytes in the {} feed", format.label());
                problems.push(problem(rule, None, found));
            }
        }
        files.push(built);
    }
    PartnerFeeds { files, problems }
}

/// The feed of `items` in `format`, less its oldest items while it is over a `cap` whose
/// rule is an error (in proportion to the excess, and at least one each time); with the
/// number of items it holds.
fn fitted(
    site: &Site,
    section: &Section,
    partner: Partner,
    format: build::Format,
    items: &[FeedItem],
    cap: Option<(usize, &'static Rule)>,
) -> (BuiltFeed, usize) {
    let mut held = items.len();
    loop {
        let built = build::partner_feed(site, section, partner, format, &items[..held]);
        let size = built.bytes.len();
        match cap {
            Some((cap, rule)) if rule.severity == Severity::Error && size > cap && held > 0 => {
                held = (held * cap / size).min(held - 1);
            }
            _ => return (built, held),
        }
    }
}

/// What the site's settings or the section lack that `partner` asks of a feed.
fn feed_checks(site: &Site, section: &Section, partner: Partner) -> Vec<(&'static Rule, String)> {
    let mut found = Vec::new();
    let no_hub = "no websub_hubs in site.toml";
    match partner {
        Partner::Flipboard if site.websub_hubs.is_empty() => {
            found.push((rules::FLIPBOARD_WEBSUB, no_hub.into()));
        }
        Partner::Flipboard => {}
        Partner::SmartNews => {
            let smartnews = site.partners.smartnews.as_ref();
            let lacks = [
                (
                    rules::SMARTNEWS_LOGO,
                    "logo",
                    smartnews.is_none_or(|s| s.logo.is_none()),
                ),
                (
                    rules::SMARTNEWS_DARK_LOGO,
                    "dark_mode_logo",
                    smartnews.is_none_or(|s| s.dark_mode_logo.is_none()),
                ),
                (
                    rules::SMARTNEWS_ANALYTICS,
                    "analytics",
                    smartnews.is_none_or(|s| s.analytics.is_none()),
                ),
            ];
            for (rule, key, lacking) in lacks {
                if lacking {
                    found.push((rule, format!("no {key} in [partners.smartnews]")));
                }
            }
            let links = smartnews.map_or(&[][..], |s| &s.sponsored_links[..]);
            for (i, sponsored) in links.iter().enumerate() {
                let field = format!("sponsored_links[{i}]");
                let site_domain = domain(site.url.as_url().host_str());
                if domain(sponsored.link.as_url().host_str()) != site_domain {
                    let what = format!("{field} leads to {}", sponsored.link);
                    found.push((rules::SMARTNEWS_SPONSORED_LINK, what));
                }
                let lengths = [
                    ("advertiser", Some(&sponsored.advertiser), 35),
                    ("title", sponsored.title.as_ref(), 45),
                ];
                for (key, text, most) in lengths {
                    let chars = text.map_or(0, |t| t.chars().count());
                    if chars > most {
                        let what = format!("{field}.{key} has {chars} characters");
                        found.push((rules::SMARTNEWS_SPONSORED_LINK, what));
                    }
                }
            }
            let description = if section.description.trim().is_empty() {
                &section.title
            } else {
                &section.description
            };
            let chars = description.chars().count();
            if chars > 30 {
                let what = format!("the section's description has {chars} characters");
                found.push((rules::SMARTNEWS_DESCRIPTION, what));
            }
        }
        Partner::Msn => {
            let base = site.feed_base_url.as_url();
            if base.scheme() != "https" {
                found.push((rules::MSN_HTTPS, format!("feed_base_url is {base}")));
            }
        }
        Partner::GoogleNews => {
            if site.websub_hubs.is_empty() {
                found.push((rules::GOOGLE_WEBSUB, no_hub.into()));
            }
            let window = window(site, partner);
            if window > 60 {
                let what = format!("[partners.google-news] limit is {window}");
                found.push((rules::GOOGLE_WINDOW, what));
            }
        }
    }
    found
}

/// The rules of `partner` that `item` breaks at `now`, with what was found.
fn item_checks(
    site: &Site,
    partner: Partner,
    item: &FeedItem,
    now: DateTime<Utc>,
) -> Vec<(&'static Rule, String)> {
    let mut found = Vec::new();
    let images: Vec<&MediaItem> = item.media.iter().filter(|m| m.is_image()).collect();
    let body = item.body_html.as_deref();
    match partner {
        Partner::Flipboard => {
            if body.is_none() {
                found.push((rules::FLIPBOARD_BODY, "no body".into()));
            }
            flipboard_image(&images, &mut found);
            let chars = item
                .summary_text
                .as_deref()
                .map_or(0, |t| t.chars().count());
            if chars < 300 {
                let what = format!("a description of {chars} characters");
                found.push((rules::FLIPBOARD_DESCRIPTION, what));
            }
            let link = url::Url::parse(&item.url).ok();
            let link_host = link.as_ref().and_then(|l| l.host_str());
            if domain(link_host) != domain(site.feed_base_url.as_url().host_str()) {
                let what = format!("links to {}", item.url);
                found.push((rules::FLIPBOARD_LINK_DOMAIN, what));
            }
        }
        Partner::SmartNews => {
            if body.is_none() {
                found.push((rules::SMARTNEWS_BODY, "no body".into()));
            }
            if !item.media.iter().any(|m| m.preview().is_some()) {
                let what = "no image or video thumbnail".into();
                found.push((rules::SMARTNEWS_THUMBNAIL, what));
            }
            if item.url.contains("utm_") {
                found.push((rules::SMARTNEWS_LINK, format!("links to {}", item.url)));
            }
        }
        Partner::Msn => {
            // The text a reader sees for the least, the HTML sent for the most.
            let text = body.map_or(0, |html| plain_text(html).chars().count());
            let html = body.map_or(0, |html| html.chars().count());
            if text < 450 || html > 500_000 {
                let what = format!("a body of {text} characters of text, {html} of HTML");
                found.push((rules::MSN_BODY, what));
            }
            let age = now.signed_duration_since(item.published.to_utc());
            if age > Duration::days(365) {
                let what = format!("published {} days ago", age.num_days());
                found.push((rules::MSN_AGE, what));
            }
            let chars = item.title.chars().count();
            if chars <= 20 {
                found.push((
                    rules::MSN_TITLE_SHORT,
                    format!("a title of {chars} characters"),
                ));
            } else if chars > 150 {
                found.push((
                    rules::MSN_TITLE_LONG,
                    format!("a title of {chars} characters"),
                ));
            }
            msn_images(&images, &mut found);
        }
        Partner::GoogleNews => {
            let bytes = body.map_or(0, str::len) + item.summary_html.as_deref().map_or(0, str::len);
            if bytes > GOOGLE_ITEM_BYTES {
                let what = format!("{bytes} bytes of HTML");
                found.push((rules::GOOGLE_ITEM_SIZE, what));
            }
            if body.is_none() {
                found.push((rules::GOOGLE_BODY, "no body".into()));
            }
        }
    }
    // Errors first: they are why an item is left out.
    found.sort_by_key(|(rule, _)| rule.severity);
    found
}

/// The last two labels of `host` (`example.com` of `feeds.example.com`): sites serve feeds
/// from a host of their own. Short of a public suffix list, two labels; a site under
/// `co.uk` gets no warning for a link to another `co.uk` site, which errs on the quiet side.
fn domain(host: Option<&str>) -> Option<String> {
    let labels: Vec<&str> = host?.rsplitn(3, '.').take(2).collect();
    Some(labels.into_iter().rev().collect::<Vec<_>>().join("."))
}

/// Flipboard: one image of at least 400 px on its smaller side (500 on its newer pages).
/// An image whose size nobody gave may be large enough: it is kept, and said to be unknown.
fn flipboard_image(images: &[&MediaItem], found: &mut Vec<(&'static Rule, String)>) {
    if images.is_empty() {
        found.push((rules::FLIPBOARD_IMAGE, "no image".into()));
        return;
    }
    let smallest_sides = images
        .iter()
        .filter_map(|image| image.size())
        .map(|(w, h)| w.min(h));
    let best = smallest_sides.max();
    let unknown = images.iter().any(|image| image.size().is_none());
    match best {
        Some(side) if side >= 500 => {}
        Some(side) if side >= 400 || unknown => {
            let what = if unknown {
                format!(
                    "the largest known image is {side} px on its smaller side; other images' size unknown"
                )
            } else {
                format!("the largest image is {side} px on its smaller side")
            };
            found.push((rules::FLIPBOARD_IMAGE_SIZE_NEWER, what));
        }
        Some(side) => {
            let what = format!("the largest image is {side} px on its smaller side");
            found.push((rules::FLIPBOARD_IMAGE_SIZE, what));
        }
        None => found.push((rules::FLIPBOARD_IMAGE_SIZE_NEWER, "size unknown".into())),
    }
}

/// MSN: images are not required, but an article without one is not published on its own,
/// and small or oddly shaped ones may not show well.
fn msn_images(images: &[&MediaItem], found: &mut Vec<(&'static Rule, String)>) {
    let Some(lead) = images.first() else {
        found.push((rules::MSN_IMAGE, "no image".into()));
        return;
    };
    let Some((width, height)) = lead.size() else {
        found.push((rules::MSN_IMAGE_SIZE, "size unknown".into()));
        return;
    };
    if width.max(height) < 720 {
        let what = format!("the first image is {width}×{height} px");
        found.push((rules::MSN_IMAGE_SIZE, what));
    }
    let ratio = f64::from(width) / f64::from(height.max(1));
    if !(0.5..=1.89).contains(&ratio) {
        let what = format!("the first image is {width}×{height} px, ratio {ratio:.2}");
        found.push((rules::MSN_IMAGE_RATIO, what));
    }
}

/// The problems of the configuration alone: sections partners are given that do not
/// exist.
pub fn config_problems(config: &Config) -> Vec<Problem> {
    let mut problems = Vec::new();
    for partner in Partner::ALL {
        let Some((sections, _)) = config.site.partners.profile(partner) else {
            continue;
        };
        for slug in sections
            .iter()
            .filter(|s| config.section(s.as_str()).is_none())
        {
            let found = format!("[partners.{partner}] names {slug:?}, which no section is");
            problems.push(Problem {
                partner: Some(partner),
                section: Some(slug.to_string()),
                ..Problem::new(rules::UNKNOWN_SECTION, found)
            });
        }
    }
    if let Some(feedly) = &config.site.partners.feedly {
        let site = &config.site;
        let mut lacks = Vec::new();
        let icon = feedly.icon.as_ref().or(site.icon.as_ref());
        if icon.is_none() {
            lacks.push((
                rules::FEEDLY_ICON,
                "no icon in [partners.feedly] or site.toml".into(),
            ));
        }
        match feedly.logo.as_ref().or(site.logo.as_ref()) {
            Some(logo) if logo.as_url().path().ends_with(".svg") => {}
            Some(logo) => lacks.push((rules::FEEDLY_LOGO, format!("the logo is {logo}"))),
            None => lacks.push((rules::FEEDLY_LOGO, "no logo".into())),
        }
        if feedly.cover.is_none() {
            lacks.push((rules::FEEDLY_COVER, "no cover in [partners.feedly]".into()));
        }
        problems.extend(
            lacks
                .into_iter()
                .map(|(rule, found)| Problem::new(rule, found)),
        );
    }
    problems
}

/// The lint's report: every problem, and each partner feed's readiness.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Problems of severity error.
    pub errors: usize,
    /// Problems of severity warning.
    pub warnings: usize,
    /// Every partner feed the configuration publishes, with its problems counted.
    pub feeds: Vec<Readiness>,
    /// Every problem, errors first; in each, the configuration's first, then section by
    /// section.
    pub problems: Vec<Problem>,
}

/// One partner feed and how ready it is: ready when it has no error.
#[derive(Debug, Serialize)]
pub struct Readiness {
    /// The partner's name.
    pub partner: &'static str,
    /// The section's slug.
    pub section: String,
    /// The feed's URL in RSS, which every partner takes.
    pub url: String,
    /// Its problems of severity error.
    pub errors: usize,
    /// Its problems of severity warning.
    pub warnings: usize,
}

impl Report {
    /// The report of `problems` (for `config`'s partner feeds), only of `partner` and
    /// `section` when given.
    pub fn new(
        config: &Config,
        problems: Vec<Problem>,
        partner: Option<&str>,
        section: Option<&str>,
    ) -> Report {
        let wanted = |name: &str, slug: Option<&str>| {
            partner.is_none_or(|p| p == name) && section.is_none_or(|s| slug == Some(s))
        };
        let mut problems: Vec<Problem> = problems
            .into_iter()
            .filter(|p| wanted(p.partner_name(), p.section.as_deref()))
            .collect();
        // Errors apart from warnings, each in the order found.
        problems.sort_by_key(Problem::severity);
        let count = |severity, name: &str, slug: &str| {
            let of_feed = |p: &&Problem| {
                p.severity() == severity
                    && p.partner_name() == name
                    && p.section.as_deref() == Some(slug)
            };
            problems.iter().filter(of_feed).count()
        };
        let mut feeds = Vec::new();
        for section in config.sections.iter().filter(|s| s.enabled) {
            for p in config.site.partners.of_section(&section.slug) {
                if !wanted(p.name(), Some(section.slug.as_str())) {
                    continue;
                }
                let key = build::partner_key(p, section);
                feeds.push(Readiness {
                    partner: p.name(),
                    section: section.slug.to_string(),
                    url: config.site.feed_url(&format!("{key}.rss")),
                    errors: count(Severity::Error, p.name(), section.slug.as_str()),
                    warnings: count(Severity::Warning, p.name(), section.slug.as_str()),
                });
            }
        }
        let errors = problems
            .iter()
            .filter(|p| p.severity() == Severity::Error)
            .count();
        Report {
            errors,
            warnings: problems.len() - errors,
            feeds,
            problems,
        }
    }
}

/// The problems found in each section's partner feeds when they were last built, by
/// section slug; shared, as a section not rebuilt keeps its problems.
pub type SectionProblems = BTreeMap<String, Arc<[Problem]>>;

/// Every problem: those of `config`, then those of `sections`.
pub fn all_problems(config: &Config, sections: &SectionProblems) -> Vec<Problem> {
    let mut problems = config_problems(config);
    problems.extend(sections.values().flat_map(|p| p.iter().cloned()));
    problems
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Value, json};

    use super::*;
    use crate::article::Article;
    use crate::config::parse_toml;

    fn now() -> DateTime<Utc> {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    /// Long enough for MSN's body and Flipboard's description.
    const TEXT: &str = "The council met on Tuesday to weigh the harbour plan and its cost to the \
        city, which the mayor says will be paid back within a decade by the fees of the ships \
        that dock there. Critics on the council asked for the figures behind that promise, and \
        the detail of how the fees were set, how long the works would close the quay, \
        the harbour board said it would publish them before the vote next month, with the \
        studies of traffic and of the water in the bay that the plan depends on.";

    /// An item every partner takes, but for what `extra` changes.
    fn item(extra: Value) -> FeedItem {
        let mut doc = json!({
            "id": "a1", "url": "https://news.example/a1/", "sections": ["world"],
            "title": "The harbour plan goes to a vote",
            "published_at": "2026-02-20T10:00:00Z",
            "summary": TEXT, "body_html": format!("<p>{TEXT}</p>"),
            "image": {"url": "https://cdn.news.example/a.jpg", "width": 1200, "height": 800},
        });
        for (k, v) in extra.as_object().unwrap() {
            doc[k] = v.clone();
        }
        FeedItem::prepare(&Article::from_value(doc).unwrap().article).unwrap()
    }

    fn site(extra: &str) -> Site {
        let text = format!(
            "title = \"T\"\nurl = \"https://news.example/\"\n\
             feed_base_url = \"https://feeds.news.example/feeds/\"\ndefault_author = \"D\"\n\
             websub_hubs = [\"https://hub.example/\"]\n{extra}"
        );
        parse_toml(Path::new("site.toml"), &text).unwrap()
    }

    fn section() -> Section {
        let text = "slug = \"world\"\ntitle = \"World\"\nlink = \"https://news.example/world/\"\n";
        crate::config::parse_section(Path::new("world.toml"), text).unwrap()
    }

    #[test]
    fn each_item_rule_leaves_out_or_warns_as_its_table_says() {
        type Case<'a> = (Partner, Value, &'a [&'a str], bool);
        let no_image = json!({"image": null});
        let cases: &[Case] = &[
            (Partner::Flipboard, json!({}), &[], false),
            (
                Partner::Flipboard,
                no_image.clone(),
                &["flipboard/image"],
                true,
            ),
            (
                Partner::Flipboard,
                json!({"image": {"url": "https://cdn.news.example/s.jpg", "width": 640, "height": 399}}),
                &["flipboard/image-size"],
                true,
            ),
            (
                Partner::Flipboard,
                json!({"image": {"url": "https://cdn.news.example/m.jpg", "width": 640, "height": 450}}),
                &["flipboard/image-size-500"],
                false,
            ),
            (
                Partner::Flipboard,
                json!({"image": {"url": "https://cdn.news.example/u.jpg"}}),
                &["flipboard/image-size-500"],
                false,
            ),
            (
                Partner::Flipboard,
                json!({"body_html": null}),
                &["flipboard/full-body"],
                true,
            ),
            (
                Partner::Flipboard,
                json!({"summary": "Short."}),
                &["flipboard/description"],
                false,
            ),
            (
                Partner::Flipboard,
                json!({"url": "https://elsewhere.example/a1/"}),
                &["flipboard/link-domain"],
                false,
            ),
            (Partner::SmartNews, json!({}), &[], false),
            (
                Partner::SmartNews,
                no_image.clone(),
                &["smartnews/thumbnail"],
                false,
            ),
            (
                Partner::SmartNews,
                json!({"body_html": null}),
                &["smartnews/body"],
                false,
            ),
            (
                Partner::SmartNews,
                json!({"url": "https://news.example/a1/?utm_source=feed"}),
                &["smartnews/link-utm"],
                false,
            ),
            (Partner::Msn, json!({}), &[], false),
            (
                Partner::Msn,
                json!({"title": "Exactly twenty chars"}),
                &["msn/title-short"],
                true,
            ),
            (
                Partner::Msn,
                json!({"title": "A".repeat(151)}),
                &["msn/title-long"],
                false,
            ),
            (
                Partner::Msn,
                json!({"body_html": "<p>Too short.</p>"}),
                &["msn/body-length"],
                true,
            ),
            (
                Partner::Msn,
                json!({"published_at": "2025-02-28T10:00:00Z"}),
                &["msn/published-age"],
                true,
            ),
            (Partner::Msn, no_image, &["msn/image"], false),
            (
                Partner::Msn,
                json!({"image": {"url": "https://cdn.news.example/t.jpg", "width": 300, "height": 700}}),
                &["msn/image-size", "msn/image-ratio"],
                false,
            ),
            (
                Partner::Msn,
                json!({"image": {"url": "https://cdn.news.example/u.jpg"}}),
                &["msn/image-size"],
                false,
            ),
            (Partner::GoogleNews, json!({}), &[], false),
            (
                Partner::GoogleNews,
                json!({"body_html": null}),
                &["google-news/full-body"],
                false,
            ),
            (
                Partner::GoogleNews,
                json!({"body_html": format!("<p>{}</p>", "x".repeat(1_000_001))}),
                &["google-news/item-size"],
                true,
            ),
        ];
        let site = site("");
        for (partner, extra, rules, left_out) in cases {
            let found = item_checks(&site, *partner, &item(extra.clone()), now());
            let ids: Vec<&str> = found.iter().map(|(rule, _)| rule.id).collect();
            assert_eq!(ids, *rules, "{partner} {extra}: {found:?}");
            let out = found
                .iter()
                .any(|(rule, _)| rule.severity == Severity::Error);
            assert_eq!(out, *left_out, "{partner} {extra}");
        }
    }

    #[test]
    fn what_the_settings_lack_is_told_of_the_feed() {
        let bare = site("");
        let told = |site: &Site, partner| -> Vec<&str> {
            feed_checks(site, &section(), partner)
                .iter()
                .map(|(r, _)| r.id)
                .collect()
        };
        assert_eq!(
            told(&bare, Partner::SmartNews),
            [
                "smartnews/logo",
                "smartnews/dark-mode-logo",
                "smartnews/analytics"
            ]
        );
        let http = site("").clone();
        let http = Site {
            feed_base_url: crate::link::HttpUrl::parse("http://feeds.news.example/").unwrap(),
            ..http
        };
        assert_eq!(told(&http, Partner::Msn), ["msn/https"]);
        assert!(told(&bare, Partner::Msn).is_empty());
        let no_hub = Site {
            websub_hubs: Vec::new(),
            ..bare.clone()
        };
        assert_eq!(told(&no_hub, Partner::Flipboard), ["flipboard/websub"]);
        let wide = site("[partners.google-news]\nsections = [\"world\"]\nlimit = 80\n");
        assert_eq!(told(&wide, Partner::GoogleNews), ["google-news/window"]);
        let sponsored = site(
            "[partners.smartnews]\nsections = [\"world\"]\n\
             logo = \"https://news.example/l.png\"\n\
             dark_mode_logo = \"https://news.example/d.png\"\nanalytics = \"<script></script>\"\n\
             [[partners.smartnews.sponsored_links]]\nlink = \"https://www.news.example/a/\"\n\
             advertiser = \"Test Times\"\n\
             [[partners.smartnews.sponsored_links]]\nlink = \"https://sponsor.example/b/\"\n\
             advertiser = \"A sponsor whose name runs past thirty-five\"\n",
        );
        let found = feed_checks(&sponsored, &section(), Partner::SmartNews);
        let what: Vec<&str> = found.iter().map(|(_, what)| what.as_str()).collect();
        assert_eq!(
            what,
            [
                "sponsored_links[1] leads to https://sponsor.example/b/",
                "sponsored_links[1].advertiser has 42 characters"
            ],
            "the first is on the site's own domain"
        );
    }

    #[test]
    fn a_feed_over_its_cap_loses_its_oldest_items_and_says_so() {
        let site = site("[partners.google-news]\nsections = [\"world\"]\n");
        // About 300 kB each: seven fit under Google's 2 MB, not ten.
        let big = format!("<p>{}</p>", "word ".repeat(60_000));
        let items: Vec<FeedItem> = (0..10)
            .map(|i| {
                let published = format!("2026-02-{:02}T10:00:00Z", 20 - i);
                let id = format!("a{i}");
                item(
                    json!({"id": id, "url": format!("https://news.example/{id}/"),
                            "published_at": published, "body_html": big}),
                )
            })
            .collect();
        let feeds = partner_feeds(&site, &section(), Partner::GoogleNews, &items, now());
        for file in &feeds.files {
            assert!(
                file.bytes.len() <= 2_000_000,
                "{}: {}",
                file.name,
                file.bytes.len()
            );
            assert!(file.bytes.len() > 1_500_000, "no more left out than needed");
        }
        let trimmed: Vec<&Problem> = (feeds.problems.iter())
            .filter(|p| p.rule.id == "google-news/feed-size")
            .collect();
        assert_eq!(trimmed.len(), 2, "one per format: {trimmed:?}");
        assert!(
            trimmed
                .iter()
                .all(|p| p.left_out && p.found.contains("the oldest"))
        );
    }
}
