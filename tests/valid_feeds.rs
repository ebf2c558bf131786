//! Every article the store accepts yields feeds that real parsers read back whole: hostile
//! text, markup in titles, `]]>` in bodies, control characters, emoji, right-to-left text,
//! huge tag lists, missing optional fields.

use pressfeed::article::Article;
use pressfeed::build::{FeedSource, Format, render};
use pressfeed::item::FeedItem;
use pressfeed::sanitize::xml_safe;
use pressfeed::site::{Section, Site};
use proptest::prelude::*;
use serde_json::{Value, json};

fn site() -> Site {
    pressfeed::site::parse_toml(
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
    pressfeed::site::parse_toml(
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
        Just("\"quotes\" 'apos' \\back".to_owned()),
        Just("<script>alert(1)</script><img src=x onerror=alert(1)>".to_owned()),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|parts| parts.concat())
}

fn article_json() -> impl Strategy<Value = Value> {
    (
        hostile_text(),
        prop::option::of(hostile_text()),
        prop::option::of(hostile_text()),
        prop::collection::vec(hostile_text(), 0..40),
        prop::collection::vec(hostile_text(), 0..3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(title, summary, body, tags, authors, image, video)| {
            let mut doc = json!({
                "id": "x",
                "url": "https://news.example/a/",
                // A title must have a visible character.
                "title": format!("{title}T"),
                "sections": ["world"],
                "published_at": "2022-05-14T09:30:00+05:30",
                "tags": tags,
                "authors": authors.iter().filter(|a| !a.trim().is_empty()).map(|a| json!({"name": a})).collect::<Vec<_>>(),
            });
            if let Some(summary) = summary {
                doc["summary"] = json!(summary);
            }
            if let Some(body) = body {
                let video = if video { "<p>https://youtu.be/SJ6vaRpQ0fc?t=3</p>" } else { "" };
                doc["body_html"] = json!(format!("{body}{video}"));
            }
            if image {
                doc["image"] = json!({"url": "https://cdn.example/a b.jpg?x=1&y=<2>", "caption": "cap ]]> & <"});
            }
            doc
        })
}

/// The articles of a feed: the same hostile article under several ids, newest first.
fn articles(doc: &Value, n: usize) -> Vec<Article> {
    (0..n)
        .map(|i| {
            let mut doc = doc.clone();
            doc["id"] = json!(format!("a-{i}"));
            Article::from_value(doc).expect("the strategy makes acceptable articles")
        })
        .collect()
}

fn expected_title(article: &Article) -> String {
    xml_safe(&article.title).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_accepted_article_makes_valid_feeds(doc in article_json(), n in 1usize..4) {
        let site = site();
        let section = section();
        let articles = articles(&doc, n);
        let items: Vec<FeedItem> = articles.iter().map(|a| FeedItem::prepare(a).unwrap()).collect();
        let source = FeedSource { site: &site, section: &section, items: &items };

        let rss = render(Format::Rss, &source);
        let channel = rss::Channel::read_from(&rss[..]).expect("RSS parses back");
        rss::validation::Validate::validate(&channel).expect("RSS is valid");
        prop_assert_eq!(channel.items().len(), n);
        for (item, article) in channel.items().iter().zip(&articles) {
            prop_assert_eq!(item.title().unwrap(), expected_title(article));
            let tags: Vec<String> = article.tags.iter().map(|t| xml_safe(t).into_owned()).collect();
            let parsed: Vec<&str> = item.categories().iter().map(|c| c.name()).collect();
            prop_assert_eq!(parsed, tags.iter().map(String::as_str).collect::<Vec<_>>());
        }

        let atom = render(Format::Atom, &source);
        let feed = atom_syndication::Feed::read_from(&atom[..]).expect("Atom parses back");
        prop_assert_eq!(feed.entries().len(), n);
        for (entry, article) in feed.entries().iter().zip(&articles) {
            prop_assert_eq!(&entry.title().value, &expected_title(article));
            prop_assert_eq!(entry.categories().len(), article.tags.len());
        }

        let json = render(Format::Json, &source);
        let parsed: Value = serde_json::from_slice(&json).expect("JSON Feed parses back");
        let items = parsed["items"].as_array().unwrap();
        prop_assert_eq!(items.len(), n);
        for (item, article) in items.iter().zip(&articles) {
            prop_assert_eq!(item["title"].as_str().unwrap(), expected_title(article));
            prop_assert!(item.get("content_html").is_some() || item.get("content_text").is_some());
        }
    }
}
