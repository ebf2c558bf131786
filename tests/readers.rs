//! Who reads the feeds: aggregators polling with the User-Agents they send for real (each
//! cited in src/readers/agent.rs), a conditional poll, a library and a browser; counted at
//! `/metrics` at once, and after the flush the manual clock brings, merged over two
//! servers sharing one store at `/admin/api/readers` (an editor's, not the CMS's), with a
//! chart per section; what is polled after the last flush reaches the store at shutdown.

mod common;

use chrono::TimeDelta;
use common::{Options, Server, site};
use http::{Method, StatusCode};
use serde_json::Value;

const EDITOR: &str = "editor-token-0123456789abcdef";
const CMS: &str = "cms-token-0123456789abcdefghij";

fn feedly(subscribers: u32, feed_id: &str) -> String {
    format!(
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; {subscribers} subscribers; feed-id={feed_id})"
    )
}

const INOREADER: &str = "Mozilla/5.0 (compatible; inoreader.com; 7 subscribers)";
const FEEDBIN: &str = "Feedbin feed-id:1697787 - 3 subscribers";

async fn poll(
    server: &Server,
    feed: &str,
    user_agent: &str,
    etag: Option<&str>,
) -> (StatusCode, String) {
    let mut headers = vec![("user-agent", user_agent)];
    if let Some(etag) = etag {
        headers.push(("if-none-match", etag));
    }
    let reply = server.request(Method::GET, feed, &headers).await;
    let etag = reply
        .headers
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (reply.status, etag.unwrap_or_default())
}

async fn readers(server: &Server, token: &str) -> (StatusCode, Value) {
    let bearer = format!("Bearer {token}");
    let reply = server
        .request(
            Method::GET,
            "/admin/api/readers",
            &[("authorization", &bearer)],
        )
        .await;
    (reply.status, serde_json::from_slice(&reply.body).unwrap())
}

fn world(summary: &Value) -> &Value {
    (summary["sections"].as_array().unwrap().iter())
        .find(|s| s["section"] == "world")
        .unwrap_or_else(|| panic!("no world in {summary}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregators_subscribers_and_polls_reach_metrics_and_the_admin_api() {
    let data = tempfile::tempdir().unwrap();
    let article = common::article("w1", &["world"], "2024-01-01T10:00:00Z", Value::Null);
    common::open_store(data.path())
        .unwrap()
        .upsert(&[pressfeed::item::PreparedArticle::new(article)])
        .unwrap();
    let clock = common::manual_clock();
    let tokens = format!("editor[sections]:{EDITOR}\ncms[articles]:{CMS}");
    let options = Options::admin(&tokens).on(clock.clock());
    let one = Server::start_on_with(site(&[("world", "")]), data.path(), options.clone()).await;
    let two = Server::start_on_with(site(&[("world", "")]), data.path(), options).await;

    // Feedly on its http subscription, then again with fewer validators to send: a 304,
    // and the later count replaces the first.
    let (status, etag) = poll(&one, "/feeds/world.rss", &feedly(10, "http1"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = poll(&one, "/feeds/world.rss", &feedly(12, "http1"), Some(&etag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    // Its https subscription lands on the other replica: both count.
    let (status, _) = poll(&two, "/feeds/world.rss", &feedly(5, "https1"), None).await;
    assert_eq!(status, StatusCode::OK);
    poll(&two, "/feeds/world.atom", INOREADER, None).await;
    poll(&one, "/feeds/world.json", "curl/8.5.0", None).await;
    poll(
        &one,
        "/feeds/world.rss",
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        None,
    )
    .await;

    // Counted at once, by the process polled.
    for (server, series, count) in [
        (
            &one,
            r#"pressfeed_feed_polls_total{feed="world.rss",client="feedly"}"#,
            2.0,
        ),
        (
            &one,
            r#"pressfeed_feed_not_modified_total{feed="world.rss",client="feedly"}"#,
            1.0,
        ),
        (
            &one,
            r#"pressfeed_feed_polls_total{feed="world.json",client="library"}"#,
            1.0,
        ),
        (
            &one,
            r#"pressfeed_feed_polls_total{feed="world.rss",client="browser"}"#,
            1.0,
        ),
        (
            &two,
            r#"pressfeed_feed_polls_total{feed="world.atom",client="inoreader"}"#,
            1.0,
        ),
    ] {
        assert_eq!(server.metric(series).await, count, "{series}");
    }
    assert!(
        one.metric(r#"pressfeed_feed_bytes_total{feed="world.rss",client="feedly"}"#)
            .await
            > 0.0
    );

    // Only an editor's token reads it; nothing is in the store before a flush.
    assert_eq!(readers(&one, CMS).await.0, StatusCode::FORBIDDEN);
    let anonymous = one.get("/admin/api/readers").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let (status, before) = readers(&one, EDITOR).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(world(&before)["subscribers"], 0);

    // A minute later both replicas flush.
    clock.advance(TimeDelta::seconds(61));
    one.wait_until("both replicas' reports merged", |s| async move {
        world(&readers(s, EDITOR).await.1)["subscribers"] == 12 + 5 + 7
    })
    .await;
    let summary = readers(&one, EDITOR).await.1;
    let world = world(&summary);
    assert_eq!(
        world["aggregators"],
        serde_json::json!({"feedly": 17, "inoreader": 7})
    );
    assert_eq!(world["clients"]["feedly"]["polls"], 3);
    assert_eq!(world["clients"]["feedly"]["not_modified"], 1);
    assert_eq!(world["clients"]["inoreader"]["polls"], 1);
    assert_eq!(world["clients"]["library"]["polls"], 1);
    assert_eq!(world["clients"]["browser"]["polls"], 1);
    let daily = world["daily"].as_array().unwrap();
    assert_eq!(daily.len(), summary["days"].as_u64().unwrap() as usize);
    assert_eq!(daily.last().unwrap()["date"], summary["today"]);
    assert_eq!(daily.last().unwrap()["subscribers"], 24);
    assert_eq!(daily.last().unwrap()["polls"], 6);

    // The gauge: every replica's reports, the same on each, as of its last flush (the one
    // that flushed first read the store before the other's reports were in it).
    clock.advance(TimeDelta::seconds(61));
    for server in [&one, &two] {
        server
            .wait_until("the merged gauge", |s| async move {
                s.metric(r#"pressfeed_feed_subscribers{feed="world.rss",aggregator="feedly"}"#)
                    .await
                    == 17.0
            })
            .await;
    }

    // The chart, for an editor.
    let bearer = format!("Bearer {EDITOR}");
    let chart = one
        .request(
            Method::GET,
            "/admin/api/readers/world.svg",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(chart.status, StatusCode::OK);
    assert_eq!(chart.header("content-type"), "image/svg+xml");
    assert!(chart.text().starts_with("<svg "), "{}", chart.text());
    assert!(
        chart.text().contains("24 subscribers now"),
        "{}",
        chart.text()
    );
    let none = one
        .request(
            Method::GET,
            "/admin/api/readers/nope.svg",
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    // Polled after the last flush: written as the server stops.
    poll(&two, "/feeds/world.rss", FEEDBIN, None).await;
    two.stop().await;
    one.stop().await;
    let stored = common::open_store(data.path())
        .unwrap()
        .readership(0)
        .unwrap();
    let feedbin: Vec<_> = (stored.reports.iter())
        .filter(|r| r.aggregator == "feedbin")
        .map(|r| (r.feed_id.as_str(), r.subscribers))
        .collect();
    assert_eq!(feedbin, [("1697787", 3)]);
}
