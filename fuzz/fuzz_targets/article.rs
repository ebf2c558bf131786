//! The article JSON parser and validator, and for every accepted article the whole way to
//! feeds: canonical JSON reads back to the same article, and the RSS, Atom and JSON Feed
//! built from it parse back.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use pressfeed::article::Article;
use pressfeed::build::{Archive, FeedSource, Format, render};
use pressfeed::config::{Section, Site, parse_toml};
use pressfeed::item::FeedItem;

static SITE: LazyLock<Site> = LazyLock::new(|| {
    parse_toml(
        Path::new("feeds/site.toml"),
        r#"title = "T"
url = "https://news.example/"
feed_base_url = "https://news.example/feeds/"
default_author = "Desk""#,
    )
    .expect("the fixed site parses")
});

static SECTION: LazyLock<Section> = LazyLock::new(|| {
    parse_toml(
        Path::new("feeds/sections/world.toml"),
        r#"slug = "world"
title = "World"
link = "https://news.example/world/""#,
    )
    .expect("the fixed section parses")
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(accepted) = Article::from_json(text) else {
        return;
    };
    let article = accepted.article;
    assert_eq!(
        Article::from_json(&article.to_json())
            .map(|reread| reread.article)
            .as_ref(),
        Ok(&article),
        "canonical JSON reads back"
    );
    let Some(item) = FeedItem::prepare(&article) else {
        return;
    };
    let items = [item];
    let source = FeedSource {
        site: &SITE,
        section: &SECTION,
        items: &items,
        key: None,
        archive: Archive::Subscription,
        partner: None,
    };
    let rss = render(Format::Rss, &source);
    rss::Channel::read_from(&rss[..]).expect("RSS parses back");
    let atom = render(Format::Atom, &source);
    atom_syndication::Feed::read_from(&atom[..]).expect("Atom parses back");
    let json = render(Format::Json, &source);
    serde_json::from_slice::<serde_json::Value>(&json).expect("JSON Feed parses back");
});
