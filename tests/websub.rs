//! WebSub: when a feed's bytes change, every hub of the site gets a `hub.mode=publish`
//! ping for the feed's public URL, off the request path, retried when the hub fails.

mod common;

use std::collections::BTreeSet;

use common::hub::Hub;
use common::{Server, article, site};
use http::StatusCode;
use pressfeed::item::PreparedArticle;
use tempfile::TempDir;

/// A site whose only hub is `hub`.
fn site_with_hub(sections: &[(&str, &str)], hub: &str) -> TempDir {
    let dir = site(sections);
    let text = common::SITE.replace("https://hub.example/", hub);
    std::fs::write(dir.path().join("site.toml"), text).unwrap();
    dir
}

fn topic(name: &str) -> String {
    format!("https://feeds.news.example/feeds/{name}")
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| topic(n)).collect()
}

#[tokio::test]
async fn a_changed_feed_pings_the_hub_once_per_topic() {
    let (hub, url) = Hub::start(&[]).await;
    let feeds = site_with_hub(&[("world", ""), ("sports", "")], &url);
    let server = Server::start(
        feeds,
        &[
            article("w1", &["world"], "2024-01-01T10:00:00Z", Default::default()),
            article(
                "s1",
                &["sports"],
                "2024-01-01T10:00:00Z",
                Default::default(),
            ),
        ],
    )
    .await;

    // The first build makes every feed: each is announced once.
    hub.wait_for(6).await;
    let first: BTreeSet<_> = hub.topics().into_iter().collect();
    assert_eq!(
        first,
        set(&[
            "world.rss",
            "world.atom",
            "world.json",
            "sports.rss",
            "sports.atom",
            "sports.json"
        ])
    );
    hub.pings.lock().unwrap().clear();

    server
        .store()
        .upsert(&[PreparedArticle::new(article(
            "w2",
            &["world"],
            "2024-01-02T10:00:00Z",
            Default::default(),
        ))])
        .unwrap();
    hub.wait_for(3).await;
    // No waiting for a stray ping: a later change is the marker. Its rebuild comes after
    // the world change's, and its pings are sent after any that rebuild sent.
    server
        .store()
        .upsert(&[PreparedArticle::new(article(
            "s2",
            &["sports"],
            "2024-01-02T10:00:00Z",
            Default::default(),
        ))])
        .unwrap();
    hub.wait_for(6).await;
    let topics = hub.topics();
    assert_eq!(topics.len(), 6, "{topics:?}");
    let (world, sports): (Vec<_>, Vec<_>) = topics.into_iter().partition(|t| t.contains("world"));
    assert_eq!(
        world.into_iter().collect::<BTreeSet<_>>(),
        set(&["world.rss", "world.atom", "world.json"])
    );
    assert_eq!(
        sports.into_iter().collect::<BTreeSet<_>>(),
        set(&["sports.rss", "sports.atom", "sports.json"])
    );

    // Counted once the hub's answer is in, just after it recorded the ping.
    server
        .wait_until("12 pings counted", |s| async move {
            let metrics = s.get("/metrics").await;
            metrics
                .text()
                .contains("pressfeed_websub_pings_total{result=\"ok\"} 12\n")
        })
        .await;
}

#[tokio::test]
async fn a_failing_hub_is_retried() {
    let (hub, url) = Hub::start(&[500]).await;
    let feeds = site_with_hub(&[("world", "")], &url);
    let server = Server::start(
        feeds,
        &[article(
            "w1",
            &["world"],
            "2024-01-01T10:00:00Z",
            Default::default(),
        )],
    )
    .await;

    // Three topics, the first ping answered 500 and retried after a second.
    hub.wait_for(4).await;
    let topics = hub.topics();
    assert_eq!(
        topics.iter().cloned().collect::<BTreeSet<_>>(),
        set(&["world.rss", "world.atom", "world.json"])
    );
    assert_eq!(topics.iter().filter(|t| **t == topics[0]).count(), 2);

    server
        .wait_until("3 pings counted", |s| async move {
            let metrics = s.get("/metrics").await;
            metrics
                .text()
                .contains("pressfeed_websub_pings_total{result=\"ok\"} 3\n")
        })
        .await;
    let metrics = server.get("/metrics").await;
    let text = metrics.text();
    assert!(
        text.contains("pressfeed_websub_pings_total{result=\"error\"} 1\n"),
        "{text}"
    );
}

#[tokio::test]
async fn an_https_hub_is_pinged_over_tls() {
    // A listener that speaks no TLS: the client must try a TLS handshake (and fail it),
    // which shows https hubs are pinged, not skipped.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handshakes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = handshakes.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut first = [0u8; 1];
            // 0x16: a TLS handshake record (ClientHello).
            if stream.read_exact(&mut first).await.is_ok() && first[0] == 0x16 {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    let feeds = site_with_hub(&[("world", "")], &format!("https://{addr}/"));
    let server = Server::start(
        feeds,
        &[article(
            "w1",
            &["world"],
            "2024-01-01T10:00:00Z",
            Default::default(),
        )],
    )
    .await;
    server
        .wait_until("a failed TLS ping counted", |s| async move {
            s.get("/metrics")
                .await
                .text()
                .contains("pressfeed_websub_pings_total{result=\"error\"}")
        })
        .await;
    assert!(handshakes.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn a_feed_built_on_demand_that_was_asked_for_pings_when_its_bytes_change() {
    let (hub, url) = Hub::start(&[]).await;
    let feeds = site_with_hub(&[("world", ""), ("sports", "")], &url);
    let path = feeds.path().join("site.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\n[feeds]\n")).unwrap();
    let tagged = |id: &str, section: &str, tag: &str, title: &str| {
        let extra = serde_json::json!({ "tags": [tag], "title": title });
        article(id, &[section], "2024-01-01T10:00:00Z", extra)
    };
    let articles = [
        tagged("a", "world", "Alpha", "A"),
        tagged("b", "world", "Beta", "B"),
    ];
    let server = Server::start(feeds, &articles).await;
    // The first build announces the sections' six feeds, and nothing built on demand.
    hub.wait_for(6).await;
    for feed in ["/feeds/tag/alpha.rss", "/feeds/tag/beta.rss"] {
        assert_eq!(server.get(feed).await.status, StatusCode::OK, "{feed}");
    }
    hub.pings.lock().unwrap().clear();
    let tagged = |id: &str, section: &str, tag: &str, title: &str| {
        PreparedArticle::new(tagged(id, section, tag, title))
    };

    // Alpha's article changes: its section's feeds and Alpha's feed (asked for) change;
    // Beta's (asked for, untouched) and `all` (never asked for) are not announced.
    server
        .store()
        .upsert(&[tagged("a", "world", "Alpha", "A, again")])
        .unwrap();
    hub.wait_for(4).await;
    // A later change in another section is the marker: its pings come after.
    server
        .store()
        .upsert(&[tagged("s", "sports", "Gamma", "S")])
        .unwrap();
    hub.wait_for(7).await;
    let topics = hub.topics();
    assert_eq!(
        topics[..4].iter().cloned().collect::<BTreeSet<_>>(),
        set(&["world.rss", "world.atom", "world.json", "tag/alpha.rss"]),
        "{topics:?}"
    );
    assert_eq!(
        topics[4..].iter().cloned().collect::<BTreeSet<_>>(),
        set(&["sports.rss", "sports.atom", "sports.json"]),
        "{topics:?}"
    );
}

#[tokio::test]
async fn a_partner_feed_pings_the_hub_when_its_bytes_change() {
    let (hub, url) = Hub::start(&[]).await;
    let feeds = site_with_hub(&[("world", "")], &url);
    let path = feeds.path().join("site.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let partner = "[partners.google-news]\nsections = [\"world\"]\n";
    std::fs::write(&path, format!("{text}{partner}")).unwrap();
    let w1 = article("w1", &["world"], "2024-01-01T10:00:00Z", Default::default());
    let server = Server::start(feeds, &[w1]).await;
    let every = set(&[
        "world.rss",
        "world.atom",
        "world.json",
        "partners/google-news/world.rss",
        "partners/google-news/world.atom",
    ]);
    hub.wait_for(5).await;
    assert_eq!(hub.topics().into_iter().collect::<BTreeSet<_>>(), every);
    hub.pings.lock().unwrap().clear();

    let w2 = article("w2", &["world"], "2024-01-02T10:00:00Z", Default::default());
    server.store().upsert(&[PreparedArticle::new(w2)]).unwrap();
    hub.wait_for(5).await;
    assert_eq!(hub.topics().into_iter().collect::<BTreeSet<_>>(), every);
}
