//! The browser view and the feeds page over HTTP: one feed URL answers a browser with the
//! feed's HTML preview and a reader with the feed, each its own representation (bytes,
//! ETag, 304s, codings) under `Vary: Accept, Accept-Encoding`; `/feeds/` lists every feed;
//! hostile article text stays text; `build --out` writes the same pages. Chromium renders
//! them in tests/browser.rs.

mod common;

use common::{Server, article, parse_rss, site};
use http::{Method, StatusCode};
use scraper::{ElementRef, Html};
use serde_json::json;

const CHROMIUM: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                        image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
const READER: &str = "application/rss+xml, */*";
const BASE: &str = "https://feeds.news.example/feeds/";

/// The elements of `html` named `name`, parsed as a browser parses it.
fn elements<'a>(html: &'a Html, name: &'a str) -> impl Iterator<Item = ElementRef<'a>> + 'a {
    html.tree
        .nodes()
        .filter_map(ElementRef::wrap)
        .filter(move |e| e.value().name() == name)
}

fn text_of(element: ElementRef<'_>) -> String {
    element.text().collect()
}

/// A GET of `path` with `accept` and the `extra` headers.
async fn ask(server: &Server, path: &str, accept: &str, extra: &[(&str, &str)]) -> common::Reply {
    let mut headers = vec![("accept", accept)];
    headers.extend_from_slice(extra);
    server.request(Method::GET, path, &headers).await
}

async fn two_articles() -> Server {
    Server::start(
        site(&[("world", ""), ("sports", ""), ("off", "enabled = false")]),
        &[
            article(
                "w1",
                &["world"],
                "2022-05-01T10:00:00Z",
                json!({"image": {"url": "https://news.example/w1.jpg", "type": "image/jpeg"}}),
            ),
            article("w2", &["world"], "2022-05-02T10:00:00Z", json!({})),
        ],
    )
    .await
}

#[tokio::test]
async fn one_feed_url_answers_a_browser_with_the_preview_and_a_reader_with_the_feed() {
    let server = two_articles().await;
    for format in ["rss", "atom", "json"] {
        let path = format!("/feeds/world.{format}");
        let page = server
            .request(Method::GET, &path, &[("accept", CHROMIUM)])
            .await;
        let feed = server
            .request(Method::GET, &path, &[("accept", READER)])
            .await;
        let bare = server.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
        assert_ne!(feed.header("content-type"), "text/html; charset=utf-8");
        assert_eq!(feed.body, bare.body, "{path}: no Accept is a reader");
        assert_ne!(
            page.header("etag"),
            feed.header("etag"),
            "{path}: two representations"
        );
        for reply in [&page, &feed, &bare] {
            assert_eq!(reply.header("vary"), "Accept, Accept-Encoding", "{path}");
            assert!(reply.header("cache-control").contains("max-age="));
            assert_eq!(reply.header("access-control-allow-origin"), "*");
        }
        // The preview is the file beside the feed, as `build --out` writes it.
        let file = server.get(&format!("{path}.html")).await;
        assert_eq!(file.body, page.body);
        assert_eq!(file.header("etag"), page.header("etag"));
        assert_eq!(file.header("vary"), "Accept-Encoding");

        let html = Html::parse_document(page.text());
        assert!(page.text().starts_with("<!DOCTYPE html>"));
        assert_eq!(elements(&html, "script").count(), 0, "no script");
        let h1: Vec<String> = elements(&html, "h1").map(text_of).collect();
        assert_eq!(h1, ["world title"]);
        let notice = text_of(elements(&html, "p").next().unwrap());
        assert!(
            notice.contains("This is a news feed")
                && notice.contains(&format!("{BASE}world.{format}")),
            "{notice}"
        );
        let alternate: Vec<_> = elements(&html, "link")
            .filter(|l| l.value().attr("rel") == Some("alternate"))
            .map(|l| l.value().attr("href").unwrap().to_owned())
            .collect();
        assert_eq!(alternate, [format!("{BASE}world.{format}")]);
        let items: Vec<String> = elements(&html, "h3").map(text_of).collect();
        assert_eq!(items, ["Title of w2", "Title of w1"], "newest first");
        let images: Vec<_> = elements(&html, "img")
            .map(|i| i.value().attr("src").unwrap().to_owned())
            .collect();
        assert_eq!(images, ["https://news.example/w1.jpg"], "the lead image");
        let times: Vec<_> = elements(&html, "time")
            .map(|t| t.value().attr("datetime").unwrap().to_owned())
            .collect();
        assert_eq!(
            times,
            ["2022-05-02T10:00:00+00:00", "2022-05-01T10:00:00+00:00"]
        );
        assert!(page.text().contains("href=\"https://news.example/w1/\""));
        assert!(page.text().contains("Summary of w2"));
    }
}

#[tokio::test]
async fn the_preview_and_the_feed_each_answer_their_own_conditional_requests() {
    let server = two_articles().await;
    let path = "/feeds/world.rss";
    let page = ask(&server, path, CHROMIUM, &[]).await;
    let feed = ask(&server, path, READER, &[]).await;
    for (accept, reply, other) in [(CHROMIUM, &page, &feed), (READER, &feed, &page)] {
        let again = ask(
            &server,
            path,
            accept,
            &[("if-none-match", reply.header("etag"))],
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{accept}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), reply.header("etag"));
        assert_eq!(again.header("vary"), "Accept, Accept-Encoding");
        let since = reply.header("last-modified");
        let since = ask(&server, path, accept, &[("if-modified-since", since)]).await;
        assert_eq!(since.status, StatusCode::NOT_MODIFIED, "{accept}: by date");
        // The other representation's tag names other bytes.
        let crossed = ask(
            &server,
            path,
            accept,
            &[("if-none-match", other.header("etag"))],
        )
        .await;
        assert_eq!(crossed.status, StatusCode::OK, "{accept}");
        assert_eq!(crossed.body, reply.body);
    }
    // Codings of the preview, each with its own tag.
    let mut tags = vec![page.header("etag").to_owned()];
    for (coding, suffix) in [("gzip", "-gz\""), ("br", "-br\"")] {
        let compressed = ask(&server, path, CHROMIUM, &[("accept-encoding", coding)]).await;
        assert_eq!(compressed.header("content-encoding"), coding);
        assert_eq!(
            compressed.header("content-type"),
            "text/html; charset=utf-8"
        );
        assert!(
            compressed.header("etag").ends_with(suffix),
            "{}",
            compressed.header("etag")
        );
        tags.push(compressed.header("etag").to_owned());
        let head = server
            .request(
                Method::HEAD,
                path,
                &[("accept", CHROMIUM), ("accept-encoding", coding)],
            )
            .await;
        assert_eq!(head.header("etag"), compressed.header("etag"));
        assert!(head.body.is_empty());
    }
    tags.dedup();
    assert_eq!(tags.len(), 3);
}

#[tokio::test]
async fn hostile_titles_stay_text_in_the_preview() {
    let text = include_str!("data/hostile.ndjson");
    let articles: Vec<_> = text
        .lines()
        .map(|line| {
            pressfeed::article::Article::from_json(line)
                .unwrap()
                .article
        })
        .collect();
    let server = Server::start(site(&[("world", "limit = 500")]), &articles).await;
    let rss = parse_rss(&server.get("/feeds/world.rss").await.body);
    let page = server
        .request(Method::GET, "/feeds/world.rss", &[("accept", CHROMIUM)])
        .await;
    let html = Html::parse_document(page.text());
    assert_eq!(elements(&html, "script").count(), 0, "{}", page.text());
    for element in html.tree.nodes().filter_map(ElementRef::wrap) {
        for (name, value) in element.value().attrs() {
            assert!(!name.starts_with("on"), "an event handler: {name}={value}");
            assert!(!value.trim_start().starts_with("javascript:"), "{value}");
        }
    }
    // Every headline reads as the feed carries it: escaped, not interpreted, not mangled.
    let headlines: Vec<String> = elements(&html, "h3").map(text_of).collect();
    let titles: Vec<String> = rss
        .items()
        .iter()
        .map(|item| item.title().unwrap().to_owned())
        .collect();
    assert_eq!(headlines, titles);
    assert!(
        titles
            .iter()
            .any(|t| t.contains("<script>alert(1)</script>"))
    );
    // An image URL with quotes and markup stays one attribute value.
    let odd = elements(&html, "img")
        .filter_map(|i| i.value().attr("src"))
        .find(|src| src.contains("a%20b.jpg"))
        .expect("hostile-10's lead image");
    assert!(odd.contains("x=1&y="), "{odd}");
}

#[tokio::test]
async fn the_feeds_page_lists_every_enabled_feed_and_its_autodiscovery_lines() {
    let server = two_articles().await;
    let page = server.get("/feeds/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.header("vary"), "Accept-Encoding");
    assert_eq!(page.header("access-control-allow-origin"), "*");
    let named = server.get("/feeds/index.html").await;
    assert_eq!(named.body, page.body);
    assert_eq!(named.header("etag"), page.header("etag"));

    let html = Html::parse_document(page.text());
    assert_eq!(elements(&html, "script").count(), 0);
    let links: Vec<String> = elements(&html, "a")
        .filter_map(|a| a.value().attr("href").map(str::to_owned))
        .filter(|href| href.starts_with(BASE))
        .collect();
    let mut expected: Vec<String> = ["index.opml"]
        .into_iter()
        .map(|f| format!("{BASE}{f}"))
        .collect();
    for slug in ["world", "sports"] {
        for format in ["rss", "atom", "json"] {
            expected.push(format!("{BASE}{slug}.{format}"));
        }
    }
    let mut sorted = links.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected, "no disabled section");
    // The lines to paste, shown as text (escaped in the page), one per feed.
    let pre = text_of(elements(&html, "pre").next().unwrap());
    let lines: Vec<&str> = pre.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 6, "{pre}");
    assert_eq!(
        lines[0],
        format!(
            "<link rel=\"alternate\" type=\"application/rss+xml\" \
             title=\"Test Times: sports title (RSS)\" href=\"{BASE}sports.rss\">"
        )
    );
    assert!(lines[2].contains("type=\"application/feed+json\""));
    // The page's own head points readers to the feeds too.
    let alternates = elements(&html, "link")
        .filter(|l| l.value().attr("rel") == Some("alternate"))
        .count();
    assert_eq!(alternates, 2);

    let again = server
        .request(
            Method::GET,
            "/feeds/",
            &[("if-none-match", page.header("etag"))],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let br = server
        .request(Method::GET, "/feeds/", &[("accept-encoding", "br")])
        .await;
    assert_eq!(br.header("content-encoding"), "br");
    let post = server.request(Method::POST, "/feeds/", &[]).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_export_writes_the_preview_beside_each_feed_and_the_feeds_page() {
    let server = two_articles().await;
    let out = common::export(&server);
    let dir = out.path().join("feeds");
    for format in ["rss", "atom", "json"] {
        let path = format!("/feeds/world.{format}");
        let page = server
            .request(Method::GET, &path, &[("accept", CHROMIUM)])
            .await;
        let file = std::fs::read(dir.join(format!("world.{format}.html"))).unwrap();
        assert_eq!(file, page.body, "{path}");
    }
    let index = std::fs::read(dir.join("index.html")).unwrap();
    assert_eq!(index, server.get("/feeds/").await.body);
}
