//! Every article the store accepts yields feeds that real parsers read back whole: hostile
//! text, markup in titles, `]]>` in bodies, control characters, emoji, right-to-left text,
//! huge tag lists, missing optional fields, and titles, names and tags made only of
//! characters a reader cannot see. No element of any format is ever blank, and every item
//! has a description when its article has any text.

mod common;

use std::path::Path;

use pressfeed::article::Article;
use pressfeed::build::{Archive, FeedSource, Format, render};
use pressfeed::config::{Section, Site};
use pressfeed::item::FeedItem;
use pressfeed::sanitize::xml_safe;
use proptest::prelude::*;
use serde_json::{Value, json};

fn site() -> Site {
    pressfeed::config::parse_toml(
        Path::new("site.toml"),
        r#"title = "T"
url = "https://news.example/"
feed_base_url = "https://news.example/feeds/"
default_author = "Desk"
websub_hubs = ["https://hub.example/"]
logo = "https://news.example/logo.png""#,
    )
    .unwrap()
}

fn section() -> Section {
    pressfeed::config::parse_toml(
        Path::new("sections/world.toml"),
        r#"slug = "world"
title = "World & <Friends>"
link = "https://news.example/world/""#,
    )
    .unwrap()
}

/// Text built to break XML and JSON writers.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        Just("]]>".to_owned()),
        Just("<![CDATA[".to_owned()),
        Just("&amp; & &#0; &#x1b; <b>bold</b> </p>".to_owned()),
        Just("\u{0}\u{1}\u{8}\u{b}\u{c}\u{1b}\u{7f}\u{fffe}\u{ffff}".to_owned()),
        Just("مرحبا بالعالم \u{202e}txet\u{202c} שלום".to_owned()),
        Just("😀👩‍👩‍👧 🇺🇦".to_owned()),
        invisible(),
        Just("\"quotes\" 'apos' \\back".to_owned()),
        Just("<script>alert(1)</script><img src=x onerror=alert(1)>".to_owned()),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|parts| parts.concat())
}

/// Text a reader cannot see: controls, whitespace, zero-width and bidi marks, fillers.
fn invisible() -> impl Strategy<Value = String> {
    let removable = prop::sample::select(vec![
        '\u{0}',
        '\u{1}',
        '\u{7}',
        '\u{1b}',
        '\u{7f}',
        '\u{85}',
        '\u{9f}',
        ' ',
        '\t',
        '\n',
        '\u{a0}',
        '\u{3000}',
        '\u{ad}',
        '\u{61c}',
        '\u{200b}',
        '\u{200c}',
        '\u{200d}',
        '\u{200e}',
        '\u{200f}',
        '\u{202a}',
        '\u{202e}',
        '\u{2060}',
        '\u{2066}',
        '\u{2069}',
        '\u{3164}',
        '\u{fe0f}',
        '\u{feff}',
        '\u{fffe}',
        '\u{ffff}',
        '\u{e0001}',
    ]);
    prop::collection::vec(removable, 0..8).prop_map(String::from_iter)
}

/// Text for a field of an article: hostile, or invisible only.
fn field_text() -> impl Strategy<Value = String> {
    prop_oneof![hostile_text(), invisible()]
}

/// An article, and whether its title has a visible character.
fn article_json() -> impl Strategy<Value = (Value, bool)> {
    (
        prop_oneof![
            hostile_text().prop_map(|t| (format!("{t}T"), true)),
            invisible().prop_map(|t| (t, false)),
        ],
        prop::option::of(field_text()),
        prop::option::of(field_text()),
        prop::collection::vec(field_text(), 0..40),
        prop::collection::vec(field_text(), 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|((title, visible), summary, body, tags, authors, image, video)| {
            let mut doc = json!({
                "id": "x",
                "url": "https://news.example/a/",
                "title": title,
                "sections": ["world"],
                "published_at": "2022-05-14T09:30:00+05:30",
                "tags": tags,
                "authors": authors.iter().map(|a| json!({"name": a})).collect::<Vec<_>>(),
            });
            if let Some(summary) = summary {
                doc["summary"] = json!(summary);
            }
            if let Some(body) = body {
                let video = if video { "<p>https://youtu.be/SJ6vaRpQ0fc?t=3</p>" } else { "" };
                doc["body_html"] = json!(format!("{body}{video}"));
            }
            if image {
                doc["image"] = json!({"url": "https://cdn.example/a b.jpg?x=1&y=<2>", "caption": "cap ]]> & <", "credit": "\u{200b}"});
            }
            (doc, visible)
        })
}

/// The articles of a feed: the same hostile article under several ids, newest first.
fn articles(doc: &Value, n: usize) -> Vec<Article> {
    (0..n)
        .map(|i| {
            let mut doc = doc.clone();
            doc["id"] = json!(format!("a-{i}"));
            Article::from_value(doc)
                .expect("the strategy makes acceptable articles")
                .article
        })
        .collect()
}

fn expected_title(article: &Article) -> String {
    xml_safe(&article.title).into_owned()
}

/// The authors every format names for an item: its own, or the site's default.
fn expected_authors(item: &FeedItem) -> Vec<String> {
    if item.authors.is_empty() {
        return vec!["Desk".to_owned()];
    }
    item.authors.iter().map(|a| a.name.clone()).collect()
}

/// The rss crate's reader trims text and gives an empty element back as no value: both
/// sides of a comparison are taken so.
fn non_empty(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// True when HTML has text with a letter or digit of ASCII (those are surely visible).
fn has_words(html: &str) -> bool {
    let doc = scraper::Html::parse_fragment(html);
    doc.root_element()
        .text()
        .any(|t| t.chars().any(|c| c.is_ascii_alphanumeric()))
}

/// The paths of the blank strings of a JSON document.
fn blank_strings(value: &Value, path: &str) -> Vec<String> {
    match value {
        Value::String(s) if s.trim().is_empty() => vec![path.to_owned()],
        Value::Array(values) => values
            .iter()
            .enumerate()
            .flat_map(|(i, v)| blank_strings(v, &format!("{path}[{i}]")))
            .collect(),
        Value::Object(fields) => fields
            .iter()
            .flat_map(|(k, v)| blank_strings(v, &format!("{path}.{k}")))
            .collect(),
        _ => vec![],
    }
}

/// The checked-in seeds are read: the property below replays them before any new case.
#[test]
fn the_checked_in_failures_are_replayed() {
    let config = common::proptest_config(1);
    let persistence = config
        .failure_persistence
        .expect("failure persistence is on");
    let seeds = persistence.load_persisted_failures2(Some(file!()));
    assert!(
        !seeds.is_empty(),
        "no seed read from tests/valid_feeds.proptest-regressions"
    );
}

proptest! {
    #![proptest_config(common::proptest_config(256))]

    #[test]
    fn every_accepted_article_makes_valid_feeds((doc, visible) in article_json(), n in 1usize..4) {
        if !visible {
            // Refused, for its title only, in words.
            let refused = Article::from_value(doc).unwrap_err();
            prop_assert_eq!(refused.to_string(), "title: has no visible characters");
            return Ok(());
        }
        let site = site();
        let section = section();
        let articles = articles(&doc, n);
        let items: Vec<FeedItem> = articles.iter().map(|a| FeedItem::prepare(a).unwrap()).collect();
        let source = FeedSource { site: &site, section: &section, items: &items, key: None, archive: Archive::Subscription, partner: None };

        let rss = render(Format::Rss, &source);
        prop_assert_eq!(common::blanks(&rss), Vec::<String>::new());
        let channel = rss::Channel::read_from(&rss[..]).expect("RSS parses back");
        rss::validation::Validate::validate(&channel).expect("RSS is valid");
        prop_assert_eq!(channel.items().len(), n);
        prop_assert_eq!(channel.title(), "World & <Friends>");
        for ((item, article), prepared) in channel.items().iter().zip(&articles).zip(&items) {
            prop_assert_eq!(item.title().unwrap(), expected_title(article));
            let tags: Vec<String> = article.tags.iter().map(|t| xml_safe(t).into_owned()).collect();
            let parsed: Vec<&str> = item.categories().iter().map(|c| c.name()).collect();
            prop_assert_eq!(parsed, tags.iter().map(String::as_str).collect::<Vec<_>>());
            // Every field comes back as it was prepared: HTML, ids, dates, people, media.
            prop_assert_eq!(item.link(), Some(prepared.url.as_str()));
            prop_assert_eq!(non_empty(item.description()), non_empty(prepared.summary_html.as_deref()));
            // A body describes the item when the summary does not: in words when it has any.
            if item.content().is_some() {
                prop_assert!(item.description().is_some(), "no description beside {:?}", item.content());
            }
            if item.content().is_some_and(has_words) && doc.get("summary").is_none() {
                prop_assert!(item.description().is_some_and(has_words), "{:?}", item.description());
            }
            prop_assert_eq!(non_empty(item.content()), non_empty(prepared.body_html.as_deref()));
            prop_assert_eq!(item.guid().unwrap().value(), format!("tag:news.example,2000:{}", prepared.id.as_str()));
            prop_assert_eq!(item.pub_date().unwrap(), prepared.published.to_rfc2822());
            let creators = item.dublin_core_ext().unwrap().creators();
            prop_assert_eq!(creators.to_vec(), expected_authors(prepared));
            let media = item.extensions().get("media").map_or(0, |m| m.get("content").map_or(0, Vec::len));
            prop_assert_eq!(media, prepared.media.len());
        }

        let atom = render(Format::Atom, &source);
        prop_assert_eq!(common::blanks(&atom), Vec::<String>::new());
        let feed = atom_syndication::Feed::read_from(&atom[..]).expect("Atom parses back");
        prop_assert_eq!(feed.entries().len(), n);
        prop_assert_eq!(&feed.title().value, "World & <Friends>");
        for ((entry, article), prepared) in feed.entries().iter().zip(&articles).zip(&items) {
            prop_assert_eq!(&entry.title().value, &expected_title(article));
            prop_assert_eq!(entry.categories().len(), article.tags.len());
            let terms: Vec<&str> = entry.categories().iter().map(|c| c.term()).collect();
            prop_assert_eq!(terms, prepared.tags.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert_eq!(entry.links()[0].href(), prepared.url.as_str());
            prop_assert_eq!(non_empty(entry.summary().map(|s| s.value.as_str())), non_empty(prepared.summary_html.as_deref()));
            prop_assert_eq!(non_empty(entry.content().and_then(|c| c.value())), non_empty(prepared.body_html.as_deref()));
            prop_assert_eq!(entry.published(), Some(&prepared.published));
            prop_assert_eq!(entry.updated(), &prepared.updated);
            let names: Vec<String> = entry.authors().iter().map(|a| a.name().to_owned()).collect();
            prop_assert_eq!(names, expected_authors(prepared));
            let media = entry.extensions().get("media").map_or(0, |m| m.get("content").map_or(0, Vec::len));
            prop_assert_eq!(media, prepared.media.len());
        }

        let json = render(Format::Json, &source);
        let parsed: Value = serde_json::from_slice(&json).expect("JSON Feed parses back");
        prop_assert_eq!(blank_strings(&parsed, "$"), Vec::<String>::new());
        let parsed_items = parsed["items"].as_array().unwrap();
        prop_assert_eq!(parsed_items.len(), n);
        for ((item, article), prepared) in parsed_items.iter().zip(&articles).zip(&items) {
            prop_assert_eq!(item["title"].as_str().unwrap(), expected_title(article));
            prop_assert!(item.get("content_html").is_some() || item.get("content_text").is_some());
            prop_assert_eq!(item["content_html"].as_str(), prepared.body_html.as_deref().or(prepared.summary_html.as_deref()));
            prop_assert_eq!(item["summary"].as_str(), prepared.summary_text.as_deref());
            prop_assert_eq!(item["url"].as_str(), Some(prepared.url.as_str()));
            let names: Vec<&str> = item["authors"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
            prop_assert_eq!(names, expected_authors(prepared));
            let tags: Vec<&str> = item.get("tags").map_or(vec![], |t| t.as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect());
            prop_assert_eq!(tags, prepared.tags.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}
