//! Publish-to-feed latency: from a write returning to the feed's ETag changing, over a few
//! hundred writes at random moments, against a real server on 127.0.0.1. Prints p50, p90,
//! p99 and max for two paths:
//! - api: `POST /admin/api/articles`; the server wakes its scheduler itself;
//! - store: a second connection writes the store, as `pressfeed import` or another
//!   replica would; the server learns of it from the store's change log.
//!
//! `cargo bench --bench freshness [-- WRITES]` (default 300 per path).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use pressfeed::admin::{Settings, Tokens};
use pressfeed::article::Article;
use pressfeed::config::Config;
use pressfeed::item::PreparedArticle;
use pressfeed::store::Store;

const SITE: &str = r#"title = "Bench"
url = "https://news.example/"
feed_base_url = "https://news.example/feeds/"
default_author = "Desk""#;

const TOKEN: &str = "freshness-bench-token-0123456789";

fn article(i: usize) -> Article {
    Article::from_value(article_json(i))
        .expect("a valid article")
        .article
}

/// `article(i)` prepared for the store, as a writer prepares it before its store call.
fn prepared(i: usize) -> PreparedArticle {
    PreparedArticle::new(article(i))
}

fn article_json(i: usize) -> serde_json::Value {
    serde_json::json!({
        "id": format!("fresh-{i}"),
        "url": format!("https://news.example/fresh-{i}/"),
        "title": format!("Fresh story {i}"),
        "sections": ["world"],
        "published_at": format!("2024-01-01T{:02}:{:02}:{:02}Z", i / 3600, i / 60 % 60, i % 60),
        "summary": "A short summary.",
        "body_html": "<p>Body text of a news story.</p>".repeat(40),
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let writes: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(300);
    let feeds = tempfile::tempdir().unwrap();
    std::fs::write(feeds.path().join("site.toml"), SITE).unwrap();
    std::fs::create_dir(feeds.path().join("sections")).unwrap();
    std::fs::write(
        feeds.path().join("sections/world.toml"),
        "slug = \"world\"\ntitle = \"World\"\nlink = \"https://news.example/world/\"\nschedule = \"0 0 0 1 1 *\"\n",
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = Config::load(feeds.path()).unwrap();
    let writer = Store::open(data.path()).unwrap();
    writer
        .upsert(&(0..100).map(prepared).collect::<Vec<_>>())
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url: hyper::Uri = format!("http://{}/feeds/world.rss", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let store = Store::open(data.path()).unwrap();
    let api: hyper::Uri = format!(
        "http://{}/admin/api/articles",
        listener.local_addr().unwrap()
    )
    .parse()
    .unwrap();
    let mut tokens = Tokens::default();
    tokens
        .add_lines(&format!("bench:{TOKEN}"), "bench")
        .unwrap();
    let admin = Settings {
        tokens,
        ..Settings::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(pressfeed::app::run(
        listener,
        config,
        store,
        admin,
        None,
        pressfeed::clock::Clock::system(),
        async {
            let _ = stopped.await;
        },
    ));
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let etag = || async {
        let res = client
            .request(
                hyper::Request::get(url.clone())
                    .body(Full::default())
                    .unwrap(),
            )
            .await
            .expect("the server answers");
        let etag = res.headers().get("etag").cloned();
        res.into_body().collect().await.unwrap();
        etag
    };
    while etag().await.is_none() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let post = |i: usize| {
        let request = hyper::Request::post(api.clone())
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(article_json(i).to_string())))
            .unwrap();
        async {
            let res = client.request(request).await.expect("the server answers");
            assert!(res.status().is_success(), "POST answered {}", res.status());
            res.into_body().collect().await.unwrap();
        }
    };

    let mut report = Vec::new();
    for path in ["api", "store"] {
        let first = if path == "api" { 100 } else { 100 + writes };
        let mut latencies = Vec::with_capacity(writes);
        for i in first..first + writes {
            // Writes come at random moments, not in step with the scheduler's polling.
            let jitter = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56;
            tokio::time::sleep(Duration::from_millis(jitter % 150)).await;
            let before = etag().await;
            if path == "api" {
                post(i).await;
            } else {
                let writer = writer.clone();
                tokio::task::spawn_blocking(move || writer.upsert(&[prepared(i)]).unwrap())
                    .await
                    .unwrap();
            }
            let written = Instant::now();
            while etag().await == before {
                assert!(
                    written.elapsed() < Duration::from_secs(10),
                    "write {i} never showed"
                );
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            latencies.push(written.elapsed());
        }
        latencies.sort();
        report.push((path, latencies));
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for (path, latencies) in report {
        println!(
            "freshness over {writes} writes ({path} path): p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.9)),
            ms(percentile(&latencies, 0.99)),
            ms(*latencies.last().unwrap()),
        );
    }
}
