//! What a `User-Agent` says about the client polling a feed: its family (a fixed set, so
//! `/metrics` never grows a label from what a client sends) and, for the aggregators that
//! announce them, how many subscribers it polls for and its own id of the feed. The formats
//! and where each is documented are in docs/operations.md ("Who reads the feeds").
//!
//! On the request path: a few byte searches over at most `EXAMINED` bytes, lowercased into
//! a buffer on the stack; no regex, no allocation, and nothing a User-Agent can make panic
//! or grow.

use std::sync::LazyLock;

use memchr::memmem::Finder;

/// Bytes of a User-Agent looked at; past them, nothing is read. Every format recognised
/// here says what it is in its first hundred bytes.
pub(crate) const EXAMINED: usize = 512;
/// A subscriber count above this is not believed: no aggregator has that many subscribers
/// to one feed, and one such claim would flatten every chart.
pub(crate) const MAX_SUBSCRIBERS: u64 = 100_000_000;
/// The longest feed id kept; a longer one is not an id any aggregator sends.
pub(crate) const MAX_FEED_ID: usize = 40;

/// The kind of client that polled a feed, as `/metrics` and the admin page group them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Client {
    Feedly,
    Inoreader,
    NewsBlur,
    TheOldReader,
    Feedbin,
    BazQux,
    /// Another feed reader or aggregator, hosted or self-hosted.
    OtherAggregator,
    /// A search engine's or another crawler.
    Crawler,
    /// An HTTP library or command-line tool (curl, Python, Go ...).
    Library,
    Browser,
    /// No User-Agent, or one of none of the above.
    Unknown,
}

impl Client {
    pub const ALL: [Client; 11] = [
        Client::Feedly,
        Client::Inoreader,
        Client::NewsBlur,
        Client::TheOldReader,
        Client::Feedbin,
        Client::BazQux,
        Client::OtherAggregator,
        Client::Crawler,
        Client::Library,
        Client::Browser,
        Client::Unknown,
    ];

    /// The name in `/metrics`, the store and the admin API.
    pub fn name(self) -> &'static str {
        match self {
            Client::Feedly => "feedly",
            Client::Inoreader => "inoreader",
            Client::NewsBlur => "newsblur",
            Client::TheOldReader => "theoldreader",
            Client::Feedbin => "feedbin",
            Client::BazQux => "bazqux",
            Client::OtherAggregator => "other_aggregator",
            Client::Crawler => "crawler",
            Client::Library => "library",
            Client::Browser => "browser",
            Client::Unknown => "unknown",
        }
    }

    /// The client named `name` (as `name` gives it), for rows read back from the store.
    pub fn named(name: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether the client's subscriber counts are kept: an aggregator whose announcement
    /// is documented (docs/operations.md). Any client could say "5 subscribers"; counting
    /// only these keeps the chart to services that mean it.
    pub fn announces_subscribers(self) -> bool {
        self <= Client::BazQux
    }

    /// For arrays indexed by client, in `ALL`'s order.
    pub(crate) fn slot(self) -> usize {
        self as usize
    }
}

/// An aggregator's own id of the feed (two ids: two subscriptions, such as the feed's
/// `http://` and `https://` URLs). Inline, so a report costs no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct FeedId {
    len: u8,
    bytes: [u8; MAX_FEED_ID],
}

/// No id: what a report that names none is kept under.
impl Default for FeedId {
    fn default() -> FeedId {
        FeedId {
            len: 0,
            bytes: [0; MAX_FEED_ID],
        }
    }
}

impl FeedId {
    /// The id in `bytes` if it is one: 1 to `MAX_FEED_ID` ASCII letters, digits, `-` or `_`.
    pub fn new(bytes: &[u8]) -> Option<FeedId> {
        let ok =
            !bytes.is_empty() && bytes.len() <= MAX_FEED_ID && bytes.iter().all(|&b| is_id_byte(b));
        ok.then(|| {
            let mut id = FeedId {
                len: bytes.len() as u8,
                ..FeedId::default()
            };
            id.bytes[..bytes.len()].copy_from_slice(bytes);
            id
        })
    }

    /// The id; empty for a report without one.
    pub fn as_str(&self) -> &str {
        // Only ASCII was copied in.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }
}

impl std::fmt::Debug for FeedId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FeedId({:?})", self.as_str())
    }
}

fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// What one User-Agent says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agent {
    pub client: Client,
    /// What an aggregator that announces subscribers reports; `None` for other clients,
    /// and when the count is missing, unreadable or past `MAX_SUBSCRIBERS`.
    pub report: Option<Report>,
}

/// An aggregator's announcement: this many subscribers to the feed it knows by `feed_id`
/// (the empty id when it names none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub subscribers: u64,
    pub feed_id: FeedId,
}

/// The needles, lowercase, and the client each names, in the order they are tried: the
/// aggregators first (Inoreader's and The Old Reader's agents start as a browser's do),
/// then other readers, crawlers, libraries; a browser is what is left that starts with
/// `mozilla/`.
const NEEDLES: &[(&str, Client)] = &[
    ("feedly", Client::Feedly),
    ("inoreader", Client::Inoreader),
    ("newsblur", Client::NewsBlur),
    ("theoldreader", Client::TheOldReader),
    ("feedbin", Client::Feedbin),
    ("bazqux", Client::BazQux),
    // Readers that say how many they poll for, and readers and aggregators by name.
    ("subscriber", Client::OtherAggregator),
    ("feedfetcher", Client::OtherAggregator),
    ("feedspot", Client::OtherAggregator),
    ("netvibes", Client::OtherAggregator),
    ("feedhq", Client::OtherAggregator),
    ("dreamwidth", Client::OtherAggregator),
    ("miniflux", Client::OtherAggregator),
    ("netnewswire", Client::OtherAggregator),
    ("newsboat", Client::OtherAggregator),
    ("liferea", Client::OtherAggregator),
    ("reeder", Client::OtherAggregator),
    ("superfeedr", Client::OtherAggregator),
    // FreshRSS, Tiny Tiny RSS, "RSS reader" ...
    ("rss", Client::OtherAggregator),
    ("bot", Client::Crawler),
    ("crawl", Client::Crawler),
    ("spider", Client::Crawler),
    ("slurp", Client::Crawler),
    ("curl/", Client::Library),
    ("wget/", Client::Library),
    ("python", Client::Library),
    ("go-http-client", Client::Library),
    ("java/", Client::Library),
    ("okhttp", Client::Library),
    ("libwww", Client::Library),
    ("node-fetch", Client::Library),
    ("axios", Client::Library),
    ("reqwest", Client::Library),
    ("aiohttp", Client::Library),
    ("feedparser", Client::Library),
    ("guzzle", Client::Library),
    ("ruby", Client::Library),
];

/// The needles' searchers, built once.
static FINDERS: LazyLock<Vec<(Finder<'static>, Client)>> = LazyLock::new(|| {
    NEEDLES
        .iter()
        .map(|&(needle, client)| (Finder::new(needle.as_bytes()), client))
        .collect()
});
static SUBSCRIBER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"subscriber"));
/// Where an id follows: `feed-id=` (The Old Reader), `feed-id:` (Feedbin), and NewsBlur's
/// site URL, `/site/<id>/`.
static ID_MARKS: LazyLock<[Finder<'static>; 3]> = LazyLock::new(|| {
    [
        Finder::new(b"feed-id="),
        Finder::new(b"feed-id:"),
        Finder::new(b"/site/"),
    ]
});

impl Agent {
    /// Reads a `User-Agent` value (`None`: the request had none).
    pub fn parse(user_agent: Option<&[u8]>) -> Agent {
        let Some(raw) = user_agent else {
            return Agent {
                client: Client::Unknown,
                report: None,
            };
        };
        let raw = &raw[..raw.len().min(EXAMINED)];
        let mut buffer = [0u8; EXAMINED];
        let lower = &mut buffer[..raw.len()];
        for (to, from) in lower.iter_mut().zip(raw) {
            *to = from.to_ascii_lowercase();
        }
        let lower = &*lower;
        let client = FINDERS
            .iter()
            .find(|(finder, _)| finder.find(lower).is_some())
            .map(|&(_, client)| client)
            .unwrap_or(if lower.starts_with(b"mozilla/") {
                Client::Browser
            } else {
                Client::Unknown
            });
        let report = client
            .announces_subscribers()
            .then(|| report(raw, lower))
            .flatten();
        Agent { client, report }
    }
}

/// The count before the first `subscriber` (`12 subscribers`, `1 subscriber`) and the
/// feed id after an id mark, if any; positions in `lower` are those in `raw`, whose bytes
/// the id is copied from (an id may be case-sensitive).
fn report(raw: &[u8], lower: &[u8]) -> Option<Report> {
    let at = SUBSCRIBER.find(lower)?;
    let before = lower[..at].trim_ascii_end();
    let start = before
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let digits = &before[start..];
    if digits.is_empty() {
        return None;
    }
    let mut subscribers: u64 = 0;
    for &d in digits {
        subscribers = subscribers
            .checked_mul(10)?
            .checked_add(u64::from(d - b'0'))?;
    }
    if subscribers > MAX_SUBSCRIBERS {
        return None;
    }
    let feed_id = ID_MARKS
        .iter()
        .find_map(|mark| {
            let from = mark.find(lower)? + mark.needle().len();
            let rest = &raw[from..];
            let len = rest
                .iter()
                .position(|&b| !is_id_byte(b))
                .unwrap_or(rest.len());
            // Too long for an id: the report still counts, as one without an id.
            Some(FeedId::new(&rest[..len]).unwrap_or_default())
        })
        .unwrap_or_default();
    Some(Report {
        subscribers,
        feed_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(ua: &str) -> Agent {
        Agent::parse(Some(ua.as_bytes()))
    }

    fn reported(ua: &str) -> (Client, Option<(u64, String)>) {
        let agent = parse(ua);
        (
            agent.client,
            agent
                .report
                .map(|r| (r.subscribers, r.feed_id.as_str().to_owned())),
        )
    }

    /// Where a User-Agent was recorded, the User-Agent, and what is read from it.
    type Case = (&'static str, &'static str, Client, Option<(u64, String)>);

    fn some(n: u64, id: &str) -> Option<(u64, String)> {
        Some((n, id.to_owned()))
    }

    /// Real User-Agents as recorded where each is cited, and what is read from them.
    #[test]
    fn recorded_user_agents_are_read() {
        let cases: &[Case] = &[
            // Buttondown's table of the readers it counts:
            // https://docs.buttondown.com/rss-subscribers
            (
                "Buttondown",
                "Feedbin feed-id:1697787 - 102 subscribers",
                Client::Feedbin,
                some(102, "1697787"),
            ),
            (
                "Buttondown",
                "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 462 subscribers; )",
                Client::Feedly,
                some(462, ""),
            ),
            (
                "Buttondown",
                "NewsBlur Feed Fetcher - 27 subscribers - https://www.newsblur.com/site/7704055/rendezvous-with-cassidoo (\"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.0.1 Safari/605.1.15\")",
                Client::NewsBlur,
                some(27, "7704055"),
            ),
            (
                "Buttondown",
                "Mozilla/5.0 (compatible; inoreader.com; 114 subscribers)",
                Client::Inoreader,
                some(114, ""),
            ),
            (
                "Buttondown",
                "Mozilla/5.0 (compatible; theoldreader.com; 1 subscribers; feed-id=cead6c3a837650eeefd8fe4a)",
                Client::TheOldReader,
                some(1, "cead6c3a837650eeefd8fe4a"),
            ),
            (
                "Buttondown",
                "Mozilla/5.0 (compatible; BazQux/2.4; +https://bazqux.com/fetcher; 1 subscribers)",
                Client::BazQux,
                some(1, ""),
            ),
            (
                "Buttondown",
                "Dreamwidth Studios (webmaster@dreamwidth.org; for https://www.dreamwidth.org/users/vikingschoice_feed/; 2 readers)",
                Client::OtherAggregator,
                None,
            ),
            // Feedbin's own documentation:
            // https://github.com/feedbin/support/blob/master/subscriber-statistics.md
            (
                "Feedbin",
                "Feedbin - 12 subscribers",
                Client::Feedbin,
                some(12, ""),
            ),
            // A publisher's list of Feedly's agent: https://chrisleverseo.com/user-agents/feedly
            (
                "CL SEO",
                "Feedly/1.0 (+https://feedly.com/fetcher.html; 1 subscriber)",
                Client::Feedly,
                some(1, ""),
            ),
            // FeedHQ's wiki: https://github.com/feedhq/feedhq/wiki/User-Agent
            (
                "FeedHQ",
                "FeedHQ/1.2.3 (https://github.org/feedhq/feedhq; 1 subscriber; https://github.com/feedhq/feedhq/wiki/User-Agent; like FeedFetcher-Google)",
                Client::OtherAggregator,
                None,
            ),
            // A blog's access log: https://lawtee.com/en/article/estimate-rss-subscribers-from-vps-logs
            (
                "lawtee.com",
                "FreshRSS/1.28.0 (Linux; https://freshrss.org)",
                Client::OtherAggregator,
                None,
            ),
            (
                "lawtee.com",
                "Tiny Tiny RSS/25.07-dea3f2d (Unsupported) (https://tt-rss.org/)",
                Client::OtherAggregator,
                None,
            ),
            (
                "lawtee.com",
                "NetNewsWire (RSS Reader; https://netnewswire.com/)",
                Client::OtherAggregator,
                None,
            ),
            // The agents every server sees.
            (
                "Google",
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                Client::Crawler,
                None,
            ),
            ("curl", "curl/8.5.0", Client::Library, None),
            ("requests", "python-requests/2.31.0", Client::Library, None),
            ("Go", "Go-http-client/2.0", Client::Library, None),
            (
                "Firefox",
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                Client::Browser,
                None,
            ),
            (
                "Chrome",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                Client::Browser,
                None,
            ),
        ];
        for (source, ua, client, report) in cases {
            assert_eq!(reported(ua), (*client, report.clone()), "{source}: {ua}");
        }
    }

    #[test]
    fn no_user_agent_is_unknown() {
        assert_eq!(
            Agent::parse(None),
            Agent {
                client: Client::Unknown,
                report: None
            }
        );
        assert_eq!(parse("").client, Client::Unknown);
        assert_eq!(parse("x").client, Client::Unknown);
    }

    #[test]
    fn hostile_counts_are_not_believed_and_nothing_panics() {
        // Past u64, past the cap, no digits at all, digits far away.
        for ua in [
            "Feedly/1.0 (99999999999999999999999999 subscribers)",
            "Feedly/1.0 (18446744073709551616 subscribers)",
            "Feedly/1.0 (100000001 subscribers)",
            "Feedly/1.0 (subscribers)",
            "Feedly/1.0 (- subscribers)",
            "subscribers Feedly",
        ] {
            assert_eq!(reported(ua), (Client::Feedly, None), "{ua}");
        }
        assert_eq!(
            reported("Feedly/1.0 (100000000 subscribers)"),
            (Client::Feedly, some(100_000_000, ""))
        );
        // An id too long, or of other bytes, is no id; the count still counts.
        let long = format!("Feedbin feed-id:{} - 3 subscribers", "7".repeat(41));
        assert_eq!(reported(&long), (Client::Feedbin, some(3, "")));
        assert_eq!(
            reported("Feedbin feed-id:é1 - 3 subscribers"),
            (Client::Feedbin, some(3, ""))
        );
        // Bytes that are no UTF-8, everywhere.
        let mut bytes = b"Feedly/1.0 (\xff\xfe 5 subscribers; feed-id=ab\xc3".to_vec();
        let agent = Agent::parse(Some(&bytes));
        assert_eq!(agent.client, Client::Feedly);
        assert_eq!(agent.report.unwrap().subscribers, 5);
        assert_eq!(agent.report.unwrap().feed_id.as_str(), "ab");
        bytes.extend(std::iter::repeat_n(0xff, 100_000));
        assert_eq!(Agent::parse(Some(&bytes)).client, Client::Feedly);
    }

    #[test]
    fn only_the_first_bytes_are_read() {
        let padded = format!("{}Feedly/1.0 (5 subscribers)", " ".repeat(EXAMINED));
        assert_eq!(reported(&padded), (Client::Unknown, None));
        // A count cut at the edge is read as far as it goes, never past it.
        let at_edge = format!("Feedly/1.0 ({}", "9".repeat(EXAMINED));
        assert_eq!(reported(&at_edge), (Client::Feedly, None));
    }

    #[test]
    fn every_client_has_its_own_name() {
        for client in Client::ALL {
            assert_eq!(Client::named(client.name()), Some(client));
            assert_eq!(Client::ALL[client.slot()], client);
        }
        assert_eq!(Client::named("Feedly"), None);
    }
}
