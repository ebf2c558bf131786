//! What an operator watches: request and byte counters at `/metrics`, and `/readyz`
//! following the first build and the store, saying what is wrong without the server's
//! paths; all three only read.

mod common;

use common::{Server, site};
use http::{Method, StatusCode};

fn line_value(metrics: &str, series: &str) -> Option<u64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn requests_are_counted_by_route_status_and_coding() {
    let server = Server::one_article().await;

    let gz = server
        .request(
            Method::GET,
            "/feeds/world.rss",
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(gz.status, StatusCode::OK);
    let etag = gz.header("etag").to_owned();
    let not_modified = server
        .request(
            Method::GET,
            "/feeds/world.rss",
            &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED);
    let plain = server.get("/feeds/world.atom").await;
    // HEAD sends no body: no bytes counted.
    server.request(Method::HEAD, "/feeds/world.atom", &[]).await;
    assert_eq!(server.get("/nowhere").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        server.get("/feeds/nope.rss").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.get("/admin/api/sections").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(server.get("/healthz").await.status, StatusCode::OK);

    let metrics = server.get("/metrics").await;
    let text = metrics.text();
    let count =
        |series: &str| line_value(text, series).unwrap_or_else(|| panic!("{series} in {text}"));
    assert_eq!(
        count(r#"pressfeed_http_requests_total{route="feed",status="200"}"#),
        3
    );
    assert_eq!(
        count(r#"pressfeed_http_requests_total{route="feed",status="304"}"#),
        1
    );
    assert_eq!(
        count(r#"pressfeed_http_requests_total{route="feed",status="404"}"#),
        1
    );
    assert_eq!(
        count(r#"pressfeed_http_requests_total{route="other",status="404"}"#),
        1
    );
    assert_eq!(
        count(r#"pressfeed_http_requests_total{route="admin",status="404"}"#),
        1
    );
    // `/readyz` was polled until the first build, then `/healthz` once.
    assert!(count(r#"pressfeed_http_requests_total{route="health",status="200"}"#) >= 2);
    assert_eq!(
        count(r#"pressfeed_http_response_bytes_total{encoding="gzip"}"#),
        gz.body.len() as u64
    );
    assert_eq!(
        count(r#"pressfeed_http_response_bytes_total{encoding="br"}"#),
        0
    );
    // Identity: the Atom body plus the small text bodies of the 404s and health checks.
    assert!(
        count(r#"pressfeed_http_response_bytes_total{encoding="identity"}"#)
            > plain.body.len() as u64
    );

    // This `/metrics` request is counted once answered.
    let again = server.get("/metrics").await;
    assert_eq!(
        line_value(
            again.text(),
            r#"pressfeed_http_requests_total{route="metrics",status="200"}"#
        ),
        Some(1)
    );
}

#[tokio::test]
async fn readyz_follows_the_store() {
    let server = Server::start(site(&[("world", "")]), &[]).await;
    let ready = server.get("/readyz").await;
    assert_eq!((ready.status, ready.text()), (StatusCode::OK, "ready\n"));

    // Another process breaks the store under the server: the change log is gone.
    let db = rusqlite::Connection::open(server.data.join(pressfeed::store::FILE_NAME)).unwrap();
    db.execute_batch("ALTER TABLE changes RENAME TO changes_away")
        .unwrap();
    server
        .wait_until("/readyz to fail", |s| async move {
            let reply = s.get("/readyz").await;
            reply.status == StatusCode::SERVICE_UNAVAILABLE && reply.text().contains("store")
        })
        .await;
    // The fault in words; the error behind it (SQLite's, which may name the store's file)
    // is the log's.
    let degraded = server.get("/readyz").await;
    assert!(degraded.text().contains("damaged"), "{}", degraded.text());
    for detail in ["no such table", "changes", server.data.to_str().unwrap()] {
        assert!(!degraded.text().contains(detail), "{}", degraded.text());
    }
    assert_eq!(server.get("/healthz").await.status, StatusCode::OK);

    db.execute_batch("ALTER TABLE changes_away RENAME TO changes")
        .unwrap();
    server
        .wait_until("/readyz to recover", |s| async move {
            s.get("/readyz").await.status == StatusCode::OK
        })
        .await;
}

#[tokio::test]
async fn health_readiness_and_metrics_only_read() {
    let server = Server::start(site(&[("world", "")]), &[]).await;
    for path in ["/healthz", "/readyz", "/metrics"] {
        for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
            let reply = server.request(method.clone(), path, &[]).await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_eq!(reply.header("allow"), "GET, HEAD", "{method} {path}");
        }
        let head = server.request(Method::HEAD, path, &[]).await;
        assert_eq!(head.status, StatusCode::OK, "HEAD {path}");
        assert!(head.body.is_empty());
    }
}
