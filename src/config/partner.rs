//! The `[partners]` table of `site.toml`: which distribution partners get which sections'
//! feeds, each with the partner's settings (SmartNews's logos, analytics and ad tag), and
//! Feedly's `webfeeds` settings, which go into the public feeds. What a partner's feed
//! carries and which of its rules an item must keep is the `partner` module's.

use serde::{Deserialize, Deserializer};

use crate::link::HttpUrl;
use crate::slug::Slug;

/// A partner that gets feeds of its own, at `/feeds/partners/<name>/<slug>.<ext>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Partner {
    /// Flipboard, which reads RSS.
    Flipboard,
    /// SmartNews, which reads SmartFormat: RSS with its `snf:` elements.
    SmartNews,
    /// MSN (Microsoft Start), through Partner Hub.
    Msn,
    /// Google News, through Publisher Center.
    GoogleNews,
}

impl Partner {
    /// Every partner, in the order reports list them.
    pub const ALL: [Partner; 4] = [
        Partner::Flipboard,
        Partner::SmartNews,
        Partner::Msn,
        Partner::GoogleNews,
    ];

    /// The partner's name in `site.toml`, URLs, the lint and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Partner::Flipboard => "flipboard",
            Partner::SmartNews => "smartnews",
            Partner::Msn => "msn",
            Partner::GoogleNews => "google-news",
        }
    }

    /// The partner called `name`, if any.
    pub fn named(name: &str) -> Option<Partner> {
        Partner::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl std::fmt::Display for Partner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The `[partners]` table: one table per partner, each optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partners {
    /// `[partners.flipboard]`.
    #[serde(default)]
    pub flipboard: Option<Profile>,
    /// `[partners.smartnews]`.
    #[serde(default)]
    pub smartnews: Option<SmartNews>,
    /// `[partners.msn]`.
    #[serde(default)]
    pub msn: Option<Profile>,
    /// `[partners.google-news]`.
    #[serde(default, rename = "google-news")]
    pub google_news: Option<Profile>,
    /// Feedly reads the public feeds its users subscribe to, so its settings go there.
    #[serde(default)]
    pub feedly: Option<Feedly>,
}

/// Which sections a partner gets, and how many items each of their feeds holds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The sections, by slug. A slug no section has is reported by the lint (sections are
    /// edited live, so it may name one about to be made).
    pub sections: Vec<Slug>,
    /// The most items in each feed; the partner's own window when not set.
    #[serde(default, deserialize_with = "limit")]
    pub limit: Option<usize>,
}

/// `[partners.smartnews]`: a profile and what SmartFormat 2.1 adds to it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmartNews {
    /// As a `Profile`'s.
    pub sections: Vec<Slug>,
    /// As a `Profile`'s.
    #[serde(default, deserialize_with = "limit")]
    pub limit: Option<usize>,
    /// `snf:logo`: the logo SmartView shows above every article.
    #[serde(default)]
    pub logo: Option<HttpUrl>,
    /// `snf:darkModeLogo`: the same in dark mode.
    #[serde(default)]
    pub dark_mode_logo: Option<HttpUrl>,
    /// `snf:analytics`: the tracking code (HTML) SmartView runs for each article.
    #[serde(default)]
    pub analytics: Option<String>,
    /// `snf:adcontent`: an ad tag (HTML) SmartView shows with each article.
    #[serde(default)]
    pub ad: Option<String>,
    /// `snf:sponsoredLink`: links SmartView shows under each article, two at most.
    #[serde(default, deserialize_with = "sponsored_links")]
    pub sponsored_links: Vec<SponsoredLink>,
}

/// A `[[partners.smartnews.sponsored_links]]` entry: a house ad or a sponsor's article.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SponsoredLink {
    /// Where it leads: a page of the site's own domain, SmartNews asks.
    pub link: HttpUrl,
    /// Who pays for it (the publisher's name for a house ad).
    pub advertiser: String,
    /// Its headline.
    #[serde(default)]
    pub title: Option<String>,
    /// An image, 4:3 (320×240) recommended.
    #[serde(default)]
    pub thumbnail: Option<HttpUrl>,
}

/// `[partners.feedly]`: the `webfeeds` elements every public RSS and Atom feed carries.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feedly {
    /// `webfeeds:icon`; the site's `icon` when not set.
    #[serde(default)]
    pub icon: Option<HttpUrl>,
    /// `webfeeds:logo`; the site's `logo` when not set.
    #[serde(default)]
    pub logo: Option<HttpUrl>,
    /// `webfeeds:cover`: a wide image Feedly shows atop the feed.
    #[serde(default)]
    pub cover: Option<HttpUrl>,
    /// `webfeeds:accentColor`: six hexadecimal digits, no `#`.
    #[serde(default, deserialize_with = "accent_color")]
    pub accent_color: Option<String>,
    /// `webfeeds:analytics`: a Google Analytics property id Feedly reports reads to.
    #[serde(default)]
    pub analytics: Option<String>,
}

impl Partners {
    /// The sections `partner` gets and its window, when it is configured.
    pub fn profile(&self, partner: Partner) -> Option<(&[Slug], Option<usize>)> {
        match partner {
            Partner::Flipboard => self.flipboard.as_ref().map(Profile::reach),
            Partner::Msn => self.msn.as_ref().map(Profile::reach),
            Partner::GoogleNews => self.google_news.as_ref().map(Profile::reach),
            Partner::SmartNews => (self.smartnews.as_ref()).map(|s| (&s.sections[..], s.limit)),
        }
    }

    /// The partners that get the feeds of the section `slug`.
    pub fn of_section<'a>(&'a self, slug: &'a Slug) -> impl Iterator<Item = Partner> + 'a {
        Partner::ALL.into_iter().filter(move |&partner| {
            self.profile(partner)
                .is_some_and(|(sections, _)| sections.contains(slug))
        })
    }
}

impl Profile {
    fn reach(&self) -> (&[Slug], Option<usize>) {
        (&self.sections, self.limit)
    }
}

fn limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    super::section::limit(d).map(Some)
}

/// SmartNews shows at most two with an article.
const SPONSORED_LINKS: usize = 2;

fn sponsored_links<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<SponsoredLink>, D::Error> {
    let links = Vec::<SponsoredLink>::deserialize(d)?;
    if links.len() > SPONSORED_LINKS {
        return Err(serde::de::Error::custom(format!(
            "{} links: SmartNews shows {SPONSORED_LINKS} at most",
            links.len()
        )));
    }
    Ok(links)
}

fn accent_color<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(d)?;
    if text.len() == 6 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(Some(text))
    } else {
        Err(serde::de::Error::custom(format!(
            "{text:?}: six hexadecimal digits without `#`, such as \"1a73e8\""
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;

    use crate::config::{assert_told, test_site as site};

    #[test]
    fn each_partner_gets_the_sections_it_names() {
        let site = site(
            "[partners.flipboard]\nsections = [\"world\"]\n\
             [partners.smartnews]\nsections = [\"world\", \"sports\"]\nlimit = 10\n\
             logo = \"https://x.example/l.png\"\n\
             [partners.feedly]\naccent_color = \"1a73e8\"\n",
        )
        .unwrap();
        let world = Slug::parse("world").unwrap();
        let sports = Slug::parse("sports").unwrap();
        let partners = &site.partners;
        assert_eq!(
            partners.of_section(&world).collect::<Vec<_>>(),
            [Partner::Flipboard, Partner::SmartNews]
        );
        assert_eq!(
            partners.of_section(&sports).collect::<Vec<_>>(),
            [Partner::SmartNews]
        );
        assert_eq!(partners.profile(Partner::SmartNews).unwrap().1, Some(10));
        assert_eq!(partners.profile(Partner::Msn), None);
        assert_eq!(
            partners.feedly.as_ref().unwrap().accent_color.as_deref(),
            Some("1a73e8")
        );
        assert_eq!(Partner::named("google-news"), Some(Partner::GoogleNews));
    }

    #[test]
    fn smartnews_takes_two_sponsored_links_at_most() {
        let link = "[[partners.smartnews.sponsored_links]]\n\
                    link = \"https://x.example/n/\"\nadvertiser = \"X\"\n";
        let two = format!("[partners.smartnews]\nsections = []\n{link}{link}");
        let smartnews = site(&two).unwrap().partners.smartnews.unwrap();
        assert_eq!(smartnews.sponsored_links.len(), 2);
        let ConfigError(problems) = site(&format!("{two}{link}")).unwrap_err();
        assert_eq!(
            problems[0].field.as_deref(),
            Some("partners.smartnews.sponsored_links")
        );
        assert!(problems[0].message.contains("2 at most"), "{problems:?}");
    }

    #[test]
    fn each_bad_key_is_told_with_its_field_and_line() {
        let text = "[partners.flipboard]\nsections = [\"World News\"]\nlimit = 0\n\
                    [partners.msn]\nsections = []\nlogo = \"https://x.example/l.png\"\n\
                    [partners.feedly]\naccent_color = \"#fff\"\n\
                    [partners.yahoo]\nsections = []\n";
        let ConfigError(problems) = site(text).unwrap_err();
        assert_told(
            &problems,
            &[
                ("partners.flipboard.sections[0]", 6),
                ("partners.flipboard.limit", 7),
                ("partners.feedly.accent_color", 12),
            ],
        );
        for unknown in ["logo", "yahoo"] {
            assert!(
                problems.iter().any(|p| p.message.contains(unknown)),
                "the unknown key {unknown}: {problems:?}"
            );
        }
    }
}
