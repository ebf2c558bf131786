//! Feeds built on demand (`[feeds]`): the whole site, each tag, each author, built when
//! first asked for, kept in a cache and dropped by the change log; their validators kept
//! in the store; unknown names 404 for nothing; cold builds bounded.

mod common;

use common::{Options, Server, article, parse_atom, parse_rss, site};
use http::{Method, StatusCode};
use pressfeed::article::Article;
use pressfeed::item::PreparedArticle;

/// A site with one section, `world`, and the `[feeds]` table `feeds` adds to.
fn on_demand_site(feeds: &str) -> tempfile::TempDir {
    let dir = site(&[("world", "")]);
    let path = dir.path().join("site.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(path, format!("{text}\n[feeds]\n{feeds}\n")).unwrap();
    dir
}

fn tagged(id: &str, published: &str, tags: &[&str], authors: &[&str]) -> Article {
    let authors: Vec<_> = (authors.iter())
        .map(|name| serde_json::json!({ "name": name }))
        .collect();
    article(
        id,
        &["world"],
        published,
        serde_json::json!({ "tags": tags, "authors": authors }),
    )
}

/// a1: Kraków, Poland, by Jane Doe; a2: krakow; a3: Sport.
fn articles() -> Vec<Article> {
    vec![
        tagged(
            "a1",
            "2024-01-01T10:00:00Z",
            &["Kraków", "Poland"],
            &["Jane Doe"],
        ),
        tagged("a2", "2024-01-02T10:00:00Z", &["krakow"], &[]),
        tagged("a3", "2024-01-03T10:00:00Z", &["Sport"], &["Ann Lee"]),
    ]
}

fn write(server: &Server, articles: &[Article]) {
    let prepared: Vec<PreparedArticle> =
        articles.iter().cloned().map(PreparedArticle::new).collect();
    server.store().upsert(&prepared).unwrap();
}

#[tokio::test]
async fn tag_author_and_site_feeds_parse_with_folded_slugs() {
    let server = Server::start(on_demand_site(""), &articles()).await;

    let rss = server.get("/feeds/tag/krakow.rss").await;
    assert_eq!(rss.status, StatusCode::OK, "{}", rss.text());
    assert_eq!(
        rss.header("content-type"),
        "application/rss+xml; charset=utf-8"
    );
    assert!(
        rss.header("cache-control")
            .starts_with("public, max-age=300")
    );
    let channel = parse_rss(&rss.body);
    let links: Vec<_> = channel.items().iter().filter_map(|i| i.link()).collect();
    assert_eq!(
        links,
        ["https://news.example/a2/", "https://news.example/a1/"],
        "names that fold to one slug share its feed, newest first"
    );
    // A tie between "Kraków" and "krakow": the first in sort order.
    assert_eq!(channel.title(), "Test Times: Kraków");

    let atom = server.get("/feeds/author/jane-doe.atom").await;
    assert_eq!(atom.status, StatusCode::OK);
    let feed = parse_atom(&atom.body);
    assert_eq!(feed.entries().len(), 1);
    assert_eq!(feed.title().as_str(), "Test Times: Jane Doe");
    let own = feed.links().iter().find(|l| l.rel() == "self").unwrap();
    assert_eq!(
        own.href(),
        "https://feeds.news.example/feeds/author/jane-doe.atom"
    );

    let json = server.get("/feeds/all.json").await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.header("content-type"), "application/feed+json");
    let doc: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
    assert_eq!(doc["items"].as_array().unwrap().len(), 3);
    assert_eq!(doc["feed_url"], "https://feeds.news.example/feeds/all.json");

    // The same validators and 304 rules as a section's feed, in every coding.
    let etag = rss.header("etag").to_owned();
    let again = (server.request(
        Method::GET,
        "/feeds/tag/krakow.rss",
        &[("if-none-match", &etag)],
    ))
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let gzip = (server.request(
        Method::GET,
        "/feeds/tag/krakow.rss",
        &[("accept-encoding", "gzip")],
    ))
    .await;
    assert_eq!(gzip.header("content-encoding"), "gzip");
    assert_eq!(
        gzip.header("etag"),
        format!("{}-gz\"", &etag[..etag.len() - 1])
    );

    // Only slugs as names fold to them; a section's name space is apart.
    for path in [
        "/feeds/tag/Krak%C3%B3w.rss",
        "/feeds/tag/KRAKOW.rss",
        "/feeds/tag/krakow.xml",
        "/feeds/author/.rss",
        "/feeds/tag/krakow/x.rss",
    ] {
        assert_eq!(
            server.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let post = server
        .request(Method::POST, "/feeds/tag/sport.rss", &[])
        .await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(server.metric("pressfeed_on_demand_builds_total").await, 3.0);
}

#[tokio::test]
async fn a_write_drops_exactly_the_feeds_of_its_article_before_and_after() {
    let server = Server::start(on_demand_site(""), &articles()).await;
    let feeds = [
        "/feeds/all.rss",
        "/feeds/tag/krakow.rss",
        "/feeds/tag/poland.rss",
        "/feeds/tag/sport.rss",
        "/feeds/author/jane-doe.rss",
        "/feeds/author/ann-lee.rss",
    ];
    let mut etags = Vec::new();
    for feed in feeds {
        let reply = server.get(feed).await;
        assert_eq!(reply.status, StatusCode::OK, "{feed}");
        etags.push(reply.header("etag").to_owned());
    }
    let builds = server.metric("pressfeed_on_demand_builds_total").await;
    assert_eq!(builds, feeds.len() as f64);

    // a1 loses Poland and gains Travel, by another process: the change log tells.
    write(
        &server,
        &[tagged(
            "a1",
            "2024-01-01T10:00:00Z",
            &["Kraków", "Travel"],
            &["Jane Doe"],
        )],
    );
    server
        .wait_until("Poland's feed to go", |s| async move {
            s.get("/feeds/tag/poland.rss").await.status == StatusCode::NOT_FOUND
        })
        .await;
    let travel = server.get("/feeds/tag/travel.rss").await;
    assert_eq!(travel.status, StatusCode::OK);
    assert_eq!(parse_rss(&travel.body).items().len(), 1);
    // The article is in these, and its categories changed in them.
    for i in [0, 1, 4] {
        assert!(changed(&server, feeds[i], &etags[i]).await, "{}", feeds[i]);
    }
    let before = server.metric("pressfeed_on_demand_builds_total").await;
    for i in [3, 5] {
        assert!(
            !changed(&server, feeds[i], &etags[i]).await,
            "{} keeps its ETag",
            feeds[i]
        );
    }
    assert_eq!(
        server.metric("pressfeed_on_demand_builds_total").await,
        before,
        "and was served from the cache, not built again"
    );
}

/// Whether `feed` is served with another ETag than `etag`.
async fn changed(server: &Server, feed: &str, etag: &str) -> bool {
    let reply = server.get(feed).await;
    assert_eq!(reply.status, StatusCode::OK, "{feed}");
    reply.header("etag") != etag
}

#[tokio::test]
async fn validators_survive_a_restart() {
    let data = common::seeded_data(&articles());
    let clock = common::manual_clock();
    let on_clock = || Options::default().on(clock.clock());
    let server = Server::start_on_with(on_demand_site(""), data.path(), on_clock()).await;
    let first = server.get("/feeds/tag/krakow.atom").await;
    assert_eq!(first.status, StatusCode::OK);
    let feeds = server.stop().await;

    // An hour on, a new process builds the same bytes again: the same validators.
    clock.advance(chrono::TimeDelta::hours(1));
    let server = Server::start_on_with(feeds, data.path(), on_clock()).await;
    let again = server.get("/feeds/tag/krakow.atom").await;
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(again.header("last-modified"), first.header("last-modified"));
    let since = first.header("last-modified");
    let not_modified = server
        .request(
            Method::GET,
            "/feeds/tag/krakow.atom",
            &[("if-modified-since", since)],
        )
        .await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn unknown_names_are_404_and_a_flood_of_them_keeps_nothing() {
    let server = Server::start(on_demand_site("cold_builds = 4"), &articles()).await;
    assert_eq!(
        server.get("/feeds/tag/sport.rss").await.status,
        StatusCode::OK
    );
    let bytes = server.metric("pressfeed_on_demand_cache_bytes").await;
    let kept = server.metric("pressfeed_on_demand_cache_feeds").await;
    assert_eq!(kept, 1.0);
    assert!(bytes > 0.0);
    // 10,000 distinct names no article has (issue 17's flood), four at a time (the bound
    // on cold requests). What the flood costs the other feeds' readers and serve's memory
    // is measured in `benches/on-demand.sh` (phase 5).
    for batch in 0..2_500 {
        let replies = futures_join(&server, batch).await;
        for (path, status) in replies {
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
    }
    assert_eq!(
        server.metric("pressfeed_on_demand_cache_bytes").await,
        bytes
    );
    assert_eq!(server.metric("pressfeed_on_demand_cache_feeds").await, kept);
    assert_eq!(server.metric("pressfeed_on_demand_builds_total").await, 1.0);
    let warm = server.get("/feeds/tag/sport.rss").await;
    assert_eq!(warm.status, StatusCode::OK);
    assert_eq!(server.metric("pressfeed_on_demand_builds_total").await, 1.0);
}

async fn futures_join(server: &Server, batch: usize) -> Vec<(String, StatusCode)> {
    let paths: Vec<String> = (0..4)
        .map(|i| format!("/feeds/tag/unknown-{batch}-{i}.rss"))
        .collect();
    let (a, b, c, d) = tokio::join!(
        server.get(&paths[0]),
        server.get(&paths[1]),
        server.get(&paths[2]),
        server.get(&paths[3])
    );
    paths
        .into_iter()
        .zip([a.status, b.status, c.status, d.status])
        .collect()
}

#[tokio::test]
async fn cold_builds_past_the_bound_are_503_to_retry() {
    let server = Server::start(on_demand_site("cold_builds = 1"), &articles()).await;
    // A build saves its feed's validators: held up by another process's write lock.
    let lock = common::hold_write_lock(&server.data);
    let building = tokio::spawn({
        let url = format!("http://{}/feeds/tag/krakow.rss", server.addr);
        async move { reqwest_get(&url).await }
    });
    server
        .wait_until("the first cold build", |s| async move {
            s.metric("pressfeed_on_demand_builds_total").await == 1.0
        })
        .await;
    let busy = server.get("/feeds/tag/poland.rss").await;
    assert_eq!(
        busy.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        busy.text()
    );
    assert_eq!(busy.header("retry-after"), "1");
    assert_eq!(busy.header("cache-control"), "no-store");
    // Section feeds are served meanwhile.
    assert_eq!(server.get("/feeds/world.rss").await.status, StatusCode::OK);
    drop(lock);
    assert_eq!(building.await.unwrap(), StatusCode::OK);
    assert_eq!(
        server.get("/feeds/tag/poland.rss").await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.metric("pressfeed_on_demand_refused_total").await,
        1.0
    );
}

/// A GET on a client of its own, so the test can go on while it waits.
async fn reqwest_get(url: &str) -> StatusCode {
    let http = common::Http::new();
    http.exchange(Method::GET, url, &[], bytes::Bytes::new())
        .await
        .unwrap()
        .status
}

#[tokio::test]
async fn the_feeds_page_lists_the_most_used_tags_and_authors_and_counts_again_later() {
    let clock = common::manual_clock();
    let server = Server::start_with(
        on_demand_site(""),
        &articles(),
        Options::default().on(clock.clock()),
    )
    .await;
    let page = server.get("/feeds/").await.text().to_owned();
    for path in [
        "all.rss",
        "tag/krakow.rss",
        "tag/krakow.atom",
        "tag/krakow.json",
        "tag/poland.rss",
        "author/jane-doe.rss",
        "author/ann-lee.json",
    ] {
        assert!(
            page.contains(&format!("{path}\"")),
            "no link to {path}: {page}"
        );
    }
    // "Kraków" and "krakow" are one tag, the most used, so listed first.
    let krakow = page.find("tag/krakow.rss").unwrap();
    assert!(krakow < page.find("tag/poland.rss").unwrap());
    assert!(page.contains("Kraków (2 articles)"), "{page}");
    assert!(page.contains("Jane Doe (1 article)"), "{page}");

    // A new tag is counted at the first rebuild ten minutes on, not at every rebuild.
    let breaking = |id: &str| tagged(id, "2024-01-04T10:00:00Z", &["Breaking"], &[]);
    write(&server, &[breaking("b1")]);
    clock.advance(chrono::TimeDelta::seconds(1));
    server
        .wait_until("b1 in the world feed", async |s| {
            s.get("/feeds/world.json").await.text().contains("/b1")
        })
        .await;
    assert!(!server.get("/feeds/").await.text().contains("tag/breaking"));
    clock.advance(chrono::TimeDelta::minutes(10));
    write(&server, &[breaking("b2")]);
    clock.advance(chrono::TimeDelta::seconds(1));
    server
        .wait_until("the tag Breaking on the feeds page", async |s| {
            s.get("/feeds/")
                .await
                .text()
                .contains("Breaking (2 articles)")
        })
        .await;
}

/// What Chromium, Firefox and Safari send when a link to a feed is opened.
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A browser is sent a feed built on demand's HTML preview, as it is a section feed's; a
/// reader the feed. The preview is built only when a browser asks, kept like the feed and
/// dropped with it.
#[tokio::test]
async fn a_browser_gets_an_on_demand_feeds_preview_built_only_when_asked() {
    let server = Server::start(on_demand_site(""), &articles()).await;
    let builds = async || server.metric("pressfeed_on_demand_builds_total").await;
    let url = "/feeds/tag/krakow.rss";

    // A reader's request builds the feed and nothing else.
    let feed = (server.request(Method::GET, url, &[("accept", "application/rss+xml, */*")])).await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.text());
    assert_eq!(
        feed.header("content-type"),
        "application/rss+xml; charset=utf-8"
    );
    assert_eq!(feed.header("vary"), "Accept, Accept-Encoding");
    assert_eq!(parse_rss(&feed.body).items().len(), 2);
    assert_eq!(builds().await, 1.0, "no preview for a reader");
    // A browser that still runs XSLT and is sent the feed finds the stylesheet from
    // `tag/`: `/feeds/feed.xsl`.
    assert_eq!(
        feed.text().lines().nth(1),
        Some("<?xml-stylesheet type=\"text/xsl\" href=\"../feed.xsl\"?>")
    );

    let page = server
        .request(Method::GET, url, &[("accept", BROWSER)])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.header("vary"), "Accept, Accept-Encoding");
    assert_ne!(
        page.header("etag"),
        feed.header("etag"),
        "an ETag of its own"
    );
    let html = page.text();
    for shown in [
        "Title of a1",
        "Title of a2",
        "<h1>Test Times: Kraków</h1>",
        "<code>https://feeds.news.example/feeds/tag/krakow.rss</code>",
        "href=\"https://feeds.news.example/feeds/tag/krakow.atom\"",
        "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"Test Times: Kraków (RSS)\" \
         href=\"https://feeds.news.example/feeds/tag/krakow.rss\">",
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    assert!(!html.contains("Title of a3"), "a3 is not tagged Kraków");
    assert_eq!(builds().await, 2.0, "the preview, at the browser's request");

    // Kept: a browser's revalidation is a 304 on the preview's ETag, built no more.
    let etag = page.header("etag");
    let again = (server.request(
        Method::GET,
        url,
        &[("accept", BROWSER), ("if-none-match", etag)],
    ))
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.header("etag"), etag);
    assert_eq!(again.header("vary"), "Accept, Accept-Encoding");
    let reader = (server.request(Method::GET, url, &[("if-none-match", etag)])).await;
    assert_eq!(reader.status, StatusCode::OK, "the feed is not the page");
    assert_eq!(reader.body, feed.body);
    assert_eq!(builds().await, 2.0);

    // The page is a file of its own too, as a section feed's is.
    let file = server.get("/feeds/tag/krakow.rss.html").await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body, page.body);
    assert_eq!(file.header("vary"), "Accept-Encoding");

    // An archive document is no feed to subscribe to: no preview, nothing to vary on.
    let month = "/feeds/tag/krakow/archive/2024-01.rss";
    let archive = server
        .request(Method::GET, month, &[("accept", BROWSER)])
        .await;
    assert_eq!(archive.status, StatusCode::OK);
    assert_eq!(
        archive.header("content-type"),
        "application/rss+xml; charset=utf-8"
    );
    assert_eq!(archive.header("vary"), "Accept-Encoding");
    // An unknown tag is 404 for a browser too.
    let unknown = (server.request(
        Method::GET,
        "/feeds/tag/nowhere.rss",
        &[("accept", BROWSER)],
    ))
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // A new article of the tag (another process: the change log tells) drops the page.
    write(
        &server,
        &[tagged("a4", "2024-01-04T10:00:00Z", &["Kraków"], &[])],
    );
    server
        .wait_until("the page to show a4", |s| async move {
            let page = s.request(Method::GET, url, &[("accept", BROWSER)]).await;
            page.text().contains("Title of a4")
        })
        .await;
}
