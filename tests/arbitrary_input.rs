//! Arbitrary input to each parser that faces the outside world never panics: the article
//! JSON and its validation, the media extractor, section files, and the request headers of
//! conditional requests and content negotiation. An article that is accepted, however odd,
//! builds feeds that real parsers read back. (`tests/valid_feeds.rs` varies the text of
//! well-formed articles; here the shape itself is arbitrary. `fuzz/` does the same for
//! longer, with coverage guidance.)

use std::path::Path;
use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

use chrono::{TimeZone, Utc};
use http::header::{ACCEPT_ENCODING, IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use http::{HeaderMap, HeaderName, HeaderValue};
use pressfeed::article::{Article, ArticleError};
use pressfeed::build::{FeedSource, Format, render};
use pressfeed::config::{Config, parse_section};
use pressfeed::http::cache::{if_match, not_modified};
use pressfeed::http::encoding::negotiate;
use pressfeed::item::FeedItem;
use pressfeed::media::embed::embeds_in_html;
use proptest::prelude::*;
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

/// A valid article with some fields replaced by arbitrary values or removed.
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
    prop::collection::vec(
        (
            prop::sample::select(ARTICLE_FIELDS),
            prop::option::of(any_json()),
        ),
        0..4,
    )
    .prop_map(move |changes| {
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

/// Either an error that names a field, or an article whose feeds parse back.
fn check_article(text: &str) -> Result<(), TestCaseError> {
    let article = match Article::from_json(text) {
        Ok(article) => article,
        Err(ArticleError::Field { field, reason }) => {
            prop_assert!(!field.is_empty() && !reason.is_empty());
            return Ok(());
        }
        Err(ArticleError::Syntax(message)) => {
            prop_assert!(!message.is_empty());
            return Ok(());
        }
    };
    let reread = Article::from_json(&article.to_json());
    prop_assert_eq!(reread.as_ref(), Ok(&article));
    let Some(item) = FeedItem::prepare(&article) else {
        return Ok(());
    };
    let items = [item];
    let source = FeedSource {
        site: &DEMO.site,
        section: DEMO.section("world").expect("the demo has a world section"),
        items: &items,
    };
    let rss = rss::Channel::read_from(&render(Format::Rss, &source)[..]).expect("RSS parses");
    prop_assert_eq!(rss.items().len(), 1);
    let atom =
        atom_syndication::Feed::read_from(&render(Format::Atom, &source)[..]).expect("Atom parses");
    prop_assert_eq!(atom.entries().len(), 1);
    let json: Value = serde_json::from_slice(&render(Format::Json, &source)).expect("JSON parses");
    prop_assert_eq!(json["items"].as_array().map(Vec::len), Some(1));
    Ok(())
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_text_as_an_article(text in any::<String>()) {
        check_article(&text)?;
    }

    #[test]
    fn any_json_as_an_article(value in any_json()) {
        check_article(&value.to_string())?;
    }

    #[test]
    fn mangled_articles_are_rejected_by_field_or_make_valid_feeds(text in mangled_article()) {
        check_article(&text)?;
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
        not_modified(&headers, b"\"abc123\"", last_modified);
        let exists = if_match(&headers, Some(b"\"abc123\""));
        prop_assert!(exists || headers.contains_key(IF_MATCH));
        prop_assert!(!if_match(&headers, None) || !headers.contains_key(IF_MATCH));
        negotiate(&headers);
    }
}
