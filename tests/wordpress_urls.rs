//! WordPress's feed URLs (`wordpress_paths = true`): each answers 301 with the absolute URL
//! of the pressfeed feed in its place, in the forms WordPress accepts (trailing slash or
//! not, a format after `/feed/`, the query form with other parameters); off by default.

mod common;

use common::{Server, site};
use http::{Method, StatusCode};

const BASE: &str = "https://feeds.news.example/feeds/";

/// A site answering WordPress's URLs, with `world` and a section whose page is the old
/// WordPress category `local-news` (`link` ends in it), and a disabled one.
async fn moved_site() -> Server {
    let feeds = site(&[("world", ""), ("off", "enabled = false")]);
    let site_toml = feeds.path().join("site.toml");
    let text = std::fs::read_to_string(&site_toml).unwrap();
    std::fs::write(&site_toml, format!("wordpress_paths = true\n{text}")).unwrap();
    std::fs::write(
        feeds.path().join("sections/city.toml"),
        common::section("city", "").replace(
            "news.example/city/",
            "news.example/category/news/local-news/",
        ),
    )
    .unwrap();
    Server::start(feeds, &[]).await
}

#[tokio::test]
async fn wordpress_feed_urls_answer_301_to_the_feed_in_their_place() {
    let server = moved_site().await;
    let cases = [
        ("/feed/", "all.rss"),
        ("/feed", "all.rss"),
        ("/feed/rss2/", "all.rss"),
        ("/feed/rss2", "all.rss"),
        ("/feed/rss/", "all.rss"),
        ("/feed/rdf/", "all.rss"),
        ("/feed/atom/", "all.atom"),
        ("/feed/atom", "all.atom"),
        ("/feed/?utm_source=x", "all.rss"),
        ("/?feed=rss2", "all.rss"),
        ("/?feed=rss2&x=1", "all.rss"),
        ("/?x=1&feed=atom", "all.atom"),
        ("/?feed=rss", "all.rss"),
        ("/category/world/feed/", "world.rss"),
        ("/category/world/feed", "world.rss"),
        ("/category/world/feed/atom/", "world.atom"),
        ("/category/local-news/feed/", "city.rss"),
        ("/category/news/local-news/feed/", "city.rss"),
        ("/category/city/feed/", "city.rss"),
        ("/?feed=rss2&category_name=world", "world.rss"),
        ("/tag/ukraine/feed/", "tag/ukraine.rss"),
        ("/tag/ukraine/feed", "tag/ukraine.rss"),
        ("/tag/ukraine/feed/atom/", "tag/ukraine.atom"),
        ("/?feed=rss2&tag=ukraine", "tag/ukraine.rss"),
        ("/author/jane-doe/feed/", "author/jane-doe.rss"),
        ("/author/jane-doe/feed/atom", "author/jane-doe.atom"),
        ("/?feed=atom&author_name=jane-doe", "author/jane-doe.atom"),
    ];
    for (path, file) in cases {
        let reply = server.get(path).await;
        assert_eq!(reply.status, StatusCode::MOVED_PERMANENTLY, "{path}");
        assert_eq!(reply.header("location"), format!("{BASE}{file}"), "{path}");
        let head = server.request(Method::HEAD, path, &[]).await;
        assert_eq!(head.status, StatusCode::MOVED_PERMANENTLY, "HEAD {path}");
    }
    // Readers that follow the redirect to a section land on its feed.
    let world = server.get("/feeds/world.rss").await;
    assert_eq!(world.status, StatusCode::OK);

    for path in [
        "/category/nowhere/feed/",
        "/category/off/feed/",
        "/category/world/",
        "/feed/comments-rss2/",
        "/comments/feed/",
        "/tag/Not%20A%20Slug/feed/",
        "/tag/a/b/feed/",
        "/?feed=nonsense",
        "/?feed=rss2&cat=3",
        "/?feed=rss2&category_name=nowhere",
        "/?p=12",
        "/",
        "/feeds",
    ] {
        let reply = server.get(path).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    let post = server.request(Method::POST, "/feed/", &[]).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn wordpress_feed_urls_are_not_found_unless_switched_on_which_needs_no_restart() {
    let server = Server::start(site(&[("world", "")]), &[]).await;
    for path in [
        "/feed/",
        "/?feed=rss2",
        "/category/world/feed/",
        "/tag/x/feed/",
    ] {
        assert_eq!(
            server.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let site_toml = server.feeds.path().join("site.toml");
    let text = std::fs::read_to_string(&site_toml).unwrap();
    std::fs::write(&site_toml, format!("wordpress_paths = true\n{text}")).unwrap();
    server
        .wait_until("the setting read again", |s| async move {
            s.get("/category/world/feed/").await.status == StatusCode::MOVED_PERMANENTLY
        })
        .await;
}
