//! Arbitrary input to each parser that faces the outside world never panics: the article
//! JSON and its validation, the media extractor, section files, and the request headers of
//! conditional requests and content negotiation. An article that is accepted, however odd,
//! builds feeds that real parsers read back, and most mangled articles are accepted, so
//! that check runs. (`tests/valid_feeds.rs` varies the text of well-formed articles; here
//! the shape itself is arbitrary too. `fuzz/` does the same for longer, with coverage
//! guidance.)

mod common;

use std::path::Path;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use chrono::{FixedOffset, TimeZone, Utc};
use http::header::{ACCEPT_ENCODING, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use http::{HeaderMap, HeaderName, HeaderValue};
use pressfeed::article::{Article, ArticleError};
use pressfeed::build::{Archive, FeedSource, Format, render};
use pressfeed::config::{Config, parse_section};
use pressfeed::http::cache::{if_match, not_modified};
use pressfeed::http::encoding::negotiate;
use pressfeed::item::FeedItem;
use pressfeed::media::embed::embeds_in_html;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use url::Url;

/// The demo site of the repository: its `world` section is the feed accepted articles go in.
static DEMO: LazyLock<Config> =
    LazyLock::new(|| Config::load(Path::new("feeds")).expect("the demo site loads"));

/// Any JSON value, nested a little: what a confused CMS might put in any field.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        // Values that pass some field's rules, so validation gets past the first field.
        Just(json!("https://news.example/a/")),
        Just(json!("2022-05-14T09:30:00+05:30")),
        Just(json!(["world"])),
        Just(json!("image/jpeg")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const ARTICLE_FIELDS: &[&str] = &[
    "id",
    "url",
    "title",
    "sections",
    "status",
    "published_at",
    "updated_at",
    "authors",
    "summary",
    "body_html",
    "tags",
    "image",
    "media",
];

/// An http(s) URL with an arbitrary path, query and fragment.
fn web_url() -> impl Strategy<Value = String> {
    let path = prop_oneof![
        "[a-z0-9/._~%-]{0,30}",
        any::<String>(),
        Just("a b/é?q=<1>&r=\"2\"#frag".to_owned()),
    ];
    (
        prop::sample::select(
            &[
                "https://news.example/",
                "http://[::1]:8080/",
                "https://xn--nxasmq6b.example/",
            ][..],
        ),
        path,
    )
        .prop_map(|(root, path)| format!("{root}{path}"))
}

/// An RFC 3339 time between 1970 and 2099 (`later` from 2100 on, so never before the
/// other) at any offset, with or without fractions of a second.
fn rfc3339(later: bool) -> impl Strategy<Value = String> {
    let from = if later { 4_102_444_800 } else { 0 };
    (
        from..from + 4_102_444_800i64,
        0..1_000_000_000u32,
        -1439..1440i32,
        any::<bool>(),
    )
        .prop_map(|(secs, nanos, minutes, fraction)| {
            let offset = FixedOffset::east_opt(minutes * 60).unwrap();
            let at = Utc
                .timestamp_opt(secs, if fraction { nanos } else { 0 })
                .unwrap();
            at.with_timezone(&offset).to_rfc3339()
        })
}

/// Arbitrary content in the shape `field` takes: what a CMS sends on a bad day that is
/// still an article.
fn field_content(field: &'static str) -> BoxedStrategy<Value> {
    let text = || any::<String>();
    match field {
        "id" => "[A-Za-z0-9._:-]{1,60}".prop_map(Value::from).boxed(),
        "url" => web_url().prop_map(Value::from).boxed(),
        // A title needs a visible character.
        "title" => text().prop_map(|t| json!(format!("{t} T"))).boxed(),
        "sections" => prop::collection::vec("[a-z0-9][a-z0-9-]{0,20}", 1..4)
            .prop_map(Value::from)
            .boxed(),
        "status" => prop_oneof![9 => Just(json!("published")), 1 => Just(json!("draft"))].boxed(),
        "published_at" => rfc3339(false).prop_map(Value::from).boxed(),
        "updated_at" => rfc3339(true).prop_map(Value::from).boxed(),
        "authors" => prop::collection::vec(
            (text(), prop::option::of(web_url())).prop_map(|(name, url)| match url {
                Some(url) => json!({"name": format!("{name} A"), "url": url}),
                None => json!({"name": format!("{name} A")}),
            }),
            0..4,
        )
        .prop_map(Value::from)
        .boxed(),
        "summary" => prop_oneof![text(), html_soup()].prop_map(Value::from).boxed(),
        "body_html" => html_soup().prop_map(Value::from).boxed(),
        "tags" => prop::collection::vec(text(), 0..12)
            .prop_map(Value::from)
            .boxed(),
        "image" => (web_url(), text(), text())
            .prop_map(|(url, caption, credit)| {
                json!({"url": url, "type": "image/jpeg", "caption": caption, "credit": credit})
            })
            .boxed(),
        "media" => prop::collection::vec(
            (web_url(), text(), prop::sample::select(&["image", "video", "audio"][..])).prop_map(
                |(url, title, medium)| json!({"url": url, "title": title, "medium": medium}),
            ),
            0..3,
        )
        .prop_map(Value::from)
        .boxed(),
        other => unreachable!("no content for {other}"),
    }
}

/// A valid article with some fields changed: most filled with arbitrary content of the
/// right shape, some replaced by any JSON at all, some removed.
fn mangled_article() -> impl Strategy<Value = String> {
    let base = json!({
        "id": "a-1",
        "url": "https://news.example/a/1/",
        "title": "Title",
        "sections": ["world"],
        "published_at": "2022-05-14T09:30:00Z",
        "body_html": "<p>Text <iframe src=\"https://www.youtube.com/embed/SJ6vaRpQ0fc\"></iframe></p>",
        "image": {"url": "https://cdn.example/a.jpg"},
    });
    let change = prop::sample::select(ARTICLE_FIELDS).prop_flat_map(|field| {
        let value = prop_oneof![
            8 => field_content(field).prop_map(Some),
            1 => any_json().prop_map(Some),
            1 => Just(None),
        ];
        (Just(field), value)
    });
    prop::collection::vec(change, 0..6).prop_map(move |changes| {
        let mut doc = base.clone();
        for (field, value) in changes {
            match value {
                Some(value) => doc[field] = value,
                None => {
                    doc.as_object_mut().unwrap().remove(field);
                }
            }
        }
        doc.to_string()
    })
}

/// What `check_article` could check.
#[derive(Debug, PartialEq)]
enum Checked {
    /// Rejected, by a field or as bad JSON.
    Rejected,
    /// Accepted, but a draft: in no feed.
    Draft,
    /// Accepted, and its feeds parsed back.
    Feeds,
}

/// Either an error that names a field, or an article whose feeds parse back.
fn check_article(text: &str) -> Result<Checked, TestCaseError> {
    let article = match Article::from_json(text) {
        Ok(accepted) => accepted.article,
        Err(ArticleError::Field { field, reason }) => {
            prop_assert!(!field.is_empty() && !reason.is_empty());
            return Ok(Checked::Rejected);
        }
        Err(ArticleError::Syntax(message)) => {
            prop_assert!(!message.is_empty());
            return Ok(Checked::Rejected);
        }
    };
    let reread = Article::from_json(&article.to_json()).map(|accepted| accepted.article);
    prop_assert_eq!(reread.as_ref(), Ok(&article));
    let Some(item) = FeedItem::prepare(&article) else {
        return Ok(Checked::Draft);
    };
    let items = [item];
    let source = FeedSource {
        site: &DEMO.site,
        section: DEMO.section("world").expect("the demo has a world section"),
        items: &items,
        key: None,
        archive: Archive::Subscription,
        partner: None,
    };
    let rss = rss::Channel::read_from(&render(Format::Rss, &source)[..]).expect("RSS parses");
    prop_assert_eq!(rss.items().len(), 1);
    let atom =
        atom_syndication::Feed::read_from(&render(Format::Atom, &source)[..]).expect("Atom parses");
    prop_assert_eq!(atom.entries().len(), 1);
    let json: Value = serde_json::from_slice(&render(Format::Json, &source)).expect("JSON parses");
    prop_assert_eq!(json["items"].as_array().map(Vec::len), Some(1));
    Ok(Checked::Feeds)
}

/// HTML-ish text: tags the extractor looks at, with attributes it reads, mixed with noise.
fn html_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        "<(img|video|audio|source|iframe|embed|a|p|script|template|b)( (src|href|type|width|height|alt|title|poster)=\"[^\"]{0,40}\")*/?>",
        "</(video|audio|iframe|a|p|script|template|b)>",
        Just("https://www.youtube.com/watch?v=SJ6vaRpQ0fc ".to_owned()),
        Just("https://vimeo.com/76979871".to_owned()),
        Just("//youtu.be/x?t=1&amp;".to_owned()),
        Just("<![CDATA[ <!-- --> &#0; &bogus; ".to_owned()),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|parts| parts.concat())
}

const SECTION_KEYS: &[&str] = &[
    "slug",
    "title",
    "description",
    "link",
    "include",
    "tags",
    "exclude_tags",
    "limit",
    "content",
    "schedule",
    "max_age",
    "enabled",
    "unknown",
];

/// A valid section file with some keys set to arbitrary values or removed, and noise lines.
fn section_toml() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        any::<String>().prop_map(|s| format!("{s:?}")),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("\"world\"".to_owned()),
        Just("[\"world\", \"Top News\"]".to_owned()),
        "\"[0-9*/,-]{1,3}( [0-9*/,A-Za-z-]{1,4}){4,6}\"",
        "[^\n]{0,20}",
    ];
    let change = prop_oneof![
        4 => (prop::sample::select(SECTION_KEYS), prop::option::of(value)),
        1 => "[^\n]{0,30}".prop_map(|line| ("", Some(line))),
    ];
    prop::collection::vec(change, 0..4).prop_map(|changes| {
        let mut lines: std::collections::BTreeMap<&str, String> = [
            ("slug", "\"world\""),
            ("title", "\"World\""),
            ("link", "\"https://news.example/world/\""),
        ]
        .into_iter()
        .map(|(k, v)| (k, format!("{k} = {v}")))
        .collect();
        let mut noise = Vec::new();
        for (key, value) in changes {
            match (key, value) {
                ("", Some(line)) => noise.push(line),
                (key, Some(value)) => {
                    lines.insert(key, format!("{key} = {value}"));
                }
                (key, None) => {
                    lines.remove(key);
                }
            }
        }
        lines
            .into_values()
            .chain(noise)
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Header values in the shapes the parsers expect, and noise.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40),
        "(W/)?\"[a-z0-9,]{0,8}\"?(, ?(W/)?\"[a-z0-9]{0,8}\"?){0,3}".prop_map(String::into_bytes),
        "[a-z*-]{0,8}(;[ qQ]{0,2}=?[0-9.]{0,6})?(, ?[a-z*-]{0,8}(;q=[0-9.]{0,6})?){0,3}"
            .prop_map(String::into_bytes),
        "(Sat|Saturday|Sun), [0-9]{1,2}[ -]May[ -][0-9]{2,4} [0-9:]{8} GMT"
            .prop_map(String::into_bytes),
        Just(b"*".to_vec()),
    ]
}

/// Cases of `mangled_articles_are_rejected_by_field_or_make_valid_feeds`.
const MANGLED_CASES: u32 = 256;

/// Run by hand rather than by `proptest!`, to count what the cases reached: the feed
/// checks run only for accepted articles, so most must be.
#[test]
fn mangled_articles_are_rejected_by_field_or_make_valid_feeds() {
    let mut config = common::proptest_config(MANGLED_CASES);
    config.source_file = Some(file!());
    let (cases, fed) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let result = TestRunner::new(config).run(&mangled_article(), |text| {
        let checked = check_article(&text)?;
        cases.fetch_add(1, Ordering::Relaxed);
        if checked == Checked::Feeds {
            fed.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (cases, fed) = (cases.into_inner(), fed.into_inner());
    eprintln!("{fed} of {cases} mangled articles reached the feed checks");
    // Most changes keep a field's shape, so most articles are accepted; a strategy that
    // drifted back to mostly rejected ones (as whole fields of any JSON were) falls below
    // half.
    assert!(
        fed * 2 >= cases,
        "only {fed} of {cases} mangled articles were accepted into feeds"
    );
}

proptest! {
    #![proptest_config(common::proptest_config(128))]

    #[test]
    fn any_text_as_an_article(text in any::<String>()) {
        check_article(&text)?;
    }

    #[test]
    fn any_json_as_an_article(value in any_json()) {
        check_article(&value.to_string())?;
    }

    #[test]
    fn any_html_to_the_media_extractor(html in html_soup(), base in prop::sample::select(&[
        "https://news.example/a/b/", "http://[::1]:8080/x?y#z", "https://xn--nxasmq6b.example/",
    ][..])) {
        let base = Url::parse(base).unwrap();
        for embed in embeds_in_html(&html, &base) {
            prop_assert!(matches!(embed.url.scheme(), "http" | "https"), "{}", embed.url);
        }
    }

    #[test]
    fn any_text_as_a_section_file(text in prop_oneof![any::<String>(), section_toml()]) {
        if let Ok(section) = parse_section(Path::new("feeds/sections/world.toml"), &text) {
            // The scheduler asks every accepted schedule for its next firing.
            let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
            let _ = section.schedule.next_after(now);
            let written = section.to_toml().expect("a section serializes");
            prop_assert_eq!(parse_section(Path::new("world.toml"), &written), Ok(section));
        }
    }

    #[test]
    fn any_conditional_and_encoding_headers(
        fields in prop::collection::vec((0..4usize, header_value()), 0..6),
    ) {
        let names = [IF_NONE_MATCH, IF_MATCH, IF_MODIFIED_SINCE, ACCEPT_ENCODING];
        let mut headers = HeaderMap::new();
        for (name, value) in fields {
            let name: &HeaderName = &names[name];
            if let Ok(value) = HeaderValue::from_bytes(&value) {
                headers.append(name.clone(), value);
            }
        }
        let last_modified = UNIX_EPOCH + Duration::from_secs(1_652_520_600);
        not_modified(&headers, b"\"abc123\"", last_modified, None);
        // A date cannot name bytes of an ambiguous second: only the ETag answers 304.
        let far = last_modified + Duration::from_secs(1 << 40);
        let ambiguous = not_modified(&headers, b"\"abc123\"", last_modified, Some(far));
        prop_assert!(!ambiguous || headers.contains_key(IF_NONE_MATCH));
        let exists = if_match(&headers, Some(b"\"abc123\""));
        prop_assert!(exists || headers.contains_key(IF_MATCH));
        prop_assert!(!if_match(&headers, None) || !headers.contains_key(IF_MATCH));
        negotiate(&headers);
    }
}
