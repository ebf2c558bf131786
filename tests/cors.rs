//! Cross-origin reads: a script on any site (a web feed reader, a news widget) may read the
//! feeds, the OPML list and the stylesheet, every answer of them, with their validators,
//! and make conditional requests after a preflight; the admin page and API, health and
//! metrics stay closed to other sites.

mod common;

use http::{Method, StatusCode};

use common::{Options, Reply, Server, site};

const ORIGIN: (&str, &str) = ("origin", "https://reader.example");
/// What a browser sends before a GET that carries `If-None-Match`.
const PREFLIGHT: [(&str, &str); 3] = [
    ORIGIN,
    ("access-control-request-method", "GET"),
    ("access-control-request-headers", "if-none-match"),
];

/// Any origin may read `reply` and its validators.
fn assert_open(reply: &Reply, what: &str) {
    assert_eq!(
        reply
            .headers
            .get("access-control-allow-origin")
            .unwrap_or_else(|| panic!("{what}: {:?}", reply.headers)),
        "*",
        "{what}: {:?}",
        reply.headers
    );
    assert_eq!(
        reply.header("access-control-expose-headers"),
        "ETag, Last-Modified, Retry-After",
        "{what}"
    );
}

/// No origin but the server's own may read `reply`.
fn assert_closed(reply: &Reply, what: &str) {
    let cors: Vec<_> = reply
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "{what} carries {cors:?}");
}

#[tokio::test]
async fn every_answer_under_feeds_lets_any_origin_read_it() {
    let feeds = site(&[("world", ""), ("sports", "")]);
    let server = Server::start(feeds, &[]).await;
    for path in [
        "/feeds/world.rss",
        "/feeds/world.atom",
        "/feeds/world.json",
        "/feeds/index.opml",
        "/feeds/feed.xsl",
    ] {
        for coding in ["identity", "gzip", "br"] {
            let asked = [ORIGIN, ("accept-encoding", coding)];
            let full = server.request(Method::GET, path, &asked).await;
            assert_eq!(full.status, StatusCode::OK, "{path} {coding}");
            assert_open(&full, &format!("{path} {coding}"));
            // The headers a 200 had before still come with it.
            for name in [
                "etag",
                "last-modified",
                "cache-control",
                "vary",
                "content-type",
            ] {
                assert!(full.headers.contains_key(name), "{path} {coding}: {name}");
            }
            let etag = full.header("etag");
            let unchanged = [ORIGIN, ("accept-encoding", coding), ("if-none-match", etag)];
            let reply = server.request(Method::GET, path, &unchanged).await;
            assert_eq!(reply.status, StatusCode::NOT_MODIFIED, "{path} {coding}");
            assert_open(&reply, &format!("{path} {coding}, 304"));
        }
        let head = server.request(Method::HEAD, path, &[ORIGIN]).await;
        assert_open(&head, &format!("HEAD {path}"));
    }

    let unknown = server
        .request(Method::GET, "/feeds/nowhere.rss", &[ORIGIN])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_open(&unknown, "404");
    let deleted = server
        .request(Method::DELETE, "/feeds/world.rss", &[ORIGIN])
        .await;
    assert_eq!(deleted.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_open(&deleted, "405");
    let no_coding = [ORIGIN, ("accept-encoding", "identity;q=0")];
    let refused = server
        .request(Method::GET, "/feeds/world.rss", &no_coding)
        .await;
    assert_eq!(refused.status, StatusCode::NOT_ACCEPTABLE);
    assert_open(&refused, "406");

    // Another process imports the site's sections without sports: it is removed.
    let sections = tempfile::tempdir().unwrap();
    std::fs::copy(
        server.feeds.path().join("sections/world.toml"),
        sections.path().join("world.toml"),
    )
    .unwrap();
    let now = chrono::Utc::now();
    pressfeed::live::import(sections.path(), &server.store(), false, now).unwrap();
    server
        .wait_until("the removed section's feeds to be gone", |s| async move {
            s.get("/feeds/sports.rss").await.status == StatusCode::GONE
        })
        .await;
    let gone = server
        .request(Method::GET, "/feeds/sports.json", &[ORIGIN])
        .await;
    assert_eq!(gone.status, StatusCode::GONE);
    assert_open(&gone, "410");
    // The 503 of a feed not built yet: tests/caching.rs, which can hold a build back.
}

#[tokio::test]
async fn a_preflight_allows_conditional_reads_for_a_day() {
    let server = Server::one_article().await;
    // Known or not: the GET that follows says which, readably.
    for path in ["/feeds/world.rss", "/feeds/nowhere.rss"] {
        let reply = server.request(Method::OPTIONS, path, &PREFLIGHT).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{path}");
        assert!(reply.body.is_empty());
        assert_open(&reply, path);
        assert_eq!(reply.header("access-control-allow-methods"), "GET, HEAD");
        assert_eq!(
            reply.header("access-control-allow-headers"),
            "If-None-Match, If-Modified-Since"
        );
        assert_eq!(reply.header("access-control-max-age"), "86400");
    }
    // An OPTIONS that is no preflight (no Origin, or no method asked for) asks for a
    // method the files do not take.
    for headers in [&PREFLIGHT[1..], &PREFLIGHT[..1]] {
        let reply = server
            .request(Method::OPTIONS, "/feeds/world.rss", headers)
            .await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{headers:?}");
        assert_eq!(reply.header("allow"), "GET, HEAD");
    }
}

#[tokio::test]
async fn the_admin_page_and_api_health_and_metrics_stay_closed_to_other_sites() {
    let token = "cors-token-0123456789abcdef";
    let bearer = format!("Bearer {token}");
    let feeds = site(&[("world", "")]);
    let server = Server::start_with(feeds, &[], Options::admin(token)).await;
    let signed = [ORIGIN, ("authorization", bearer.as_str())];
    for path in [
        "/admin/api/sections",
        "/admin/",
        "/admin/admin.js",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        let reply = server.request(Method::GET, path, &signed).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_closed(&reply, path);
        let reply = server.request(Method::OPTIONS, path, &PREFLIGHT).await;
        assert_ne!(reply.status, StatusCode::NO_CONTENT, "{path}");
        assert_closed(&reply, &format!("OPTIONS {path}"));
    }
    let unsigned = server
        .request(Method::GET, "/admin/api/sections", &[ORIGIN])
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    assert_closed(&unsigned, "401");
}
