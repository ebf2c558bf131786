//! The browser view in a real browser (headless Chromium): a feed opened from its URL shows
//! the server-rendered preview page, and `/feeds/` the feeds page, with no script and no
//! XSLT (Chromium 156 puts a removal banner over pages that run XSLT). Screenshots go to
//! `target/test-output/`; docs/feed-preview.png and docs/feeds-page.png are copies. Where
//! Chromium is missing it fails, or skips loudly where `PRESSFEED_ALLOW_SKIP=1` allows it
//! (never in CI).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Server, site};

const CHROMIUM: &str = "/usr/bin/chromium";

/// Runs headless Chromium on `url` with `mode` (`--dump-dom` or `--screenshot=FILE`),
/// killing it if it takes longer than a minute.
fn chromium(url: &str, mode: &str, profile: &Path) -> Output {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(mode)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting chromium");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("chromium took over a minute on {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

fn output_dir() -> PathBuf {
    let target = option_env!("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("test-output")
}

/// The demo articles, all filed under `world` (headlines, lead images, a video), and a
/// hostile headline, as JSON.
fn articles() -> Vec<serde_json::Value> {
    let hostile = include_str!("data/hostile.ndjson").lines().next().unwrap();
    let hostile: serde_json::Value = serde_json::from_str(hostile).unwrap();
    pressfeed_corpus::demo_articles()
        .into_iter()
        .take(6)
        .chain([hostile])
        .map(|mut doc| {
            doc["sections"] = serde_json::json!(["world"]);
            doc
        })
        .collect()
}

/// The DOM Chromium made of `url`, after taking a screenshot of it into `shot`.
async fn render(url: String, shot: PathBuf) -> String {
    let dom = tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().unwrap();
        let dom = chromium(&url, "--dump-dom", profile.path());
        let mode = format!("--screenshot={}", shot.display());
        let screenshot = chromium(&url, &mode, profile.path());
        assert!(
            screenshot.status.success() && shot.exists(),
            "{url}: no screenshot: {}",
            String::from_utf8_lossy(&screenshot.stderr)
        );
        println!("{url}: {}", shot.display());
        assert!(
            dom.status.success(),
            "{}",
            String::from_utf8_lossy(&dom.stderr)
        );
        dom
    })
    .await
    .unwrap();
    String::from_utf8_lossy(&dom.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_feed_and_the_feeds_page_opened_in_a_browser_are_readable_pages() {
    if !Path::new(CHROMIUM).exists() {
        common::missing(
            "tests/browser.rs",
            &format!("{CHROMIUM} not found"),
            "apt-get install chromium; bash tests/run installs it",
        );
        return;
    }
    let docs = articles();
    let articles: Vec<_> = (docs.iter().cloned())
        .map(|doc| {
            pressfeed::article::Article::from_value(doc)
                .unwrap()
                .article
        })
        .collect();
    // With feeds by dimension on, the feeds page lists the tags and authors too.
    let feeds = site(&[("world", ""), ("sports", "")]);
    let site_toml = feeds.path().join("site.toml");
    let text = std::fs::read_to_string(&site_toml).unwrap();
    std::fs::write(&site_toml, format!("{text}\n[feeds]\n")).unwrap();
    let server = Server::start(feeds, &articles).await;
    let out = output_dir();
    std::fs::create_dir_all(&out).unwrap();
    let base = format!("http://{}/feeds/", server.addr);

    for format in ["rss", "atom", "json"] {
        let url = format!("{base}world.{format}");
        let dom = render(url, out.join(format!("feed-preview-{format}.png"))).await;
        assert!(dom.contains("<h1>world title</h1>"), "{format}: {dom}");
        assert!(dom.contains("This is a news feed"), "{format}: {dom}");
        assert!(
            dom.contains(&format!("https://feeds.news.example/feeds/world.{format}")),
            "{format}: the feed URL to copy: {dom}"
        );
        assert!(!dom.contains("<script"), "{format}: {dom}");
        // The server's page, not the stylesheet's, which would say the same words.
        assert!(
            dom.contains("<meta http-equiv=\"Content-Security-Policy\""),
            "{format}: not the preview: {dom}"
        );
        // The hostile headline shows as text.
        assert!(
            dom.contains("Markup in a title: &lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;"),
            "{format}: {dom}"
        );
        for doc in &docs {
            let url = doc["url"].as_str().unwrap();
            assert!(
                dom.contains(&format!("href=\"{url}\"")),
                "{format}: a link to {url}: {dom}"
            );
            if let Some(image) = doc["image"]["url"].as_str() {
                assert!(dom.contains(image), "{format}: thumbnail {image}: {dom}");
            }
        }
    }

    let dom = render(base.clone(), out.join("feeds-page.png")).await;
    assert!(dom.contains("<h1>Test Times feeds</h1>"), "{dom}");
    assert!(dom.contains("Most used tags"), "{dom}");
    for feed in [
        "world.rss",
        "world.atom",
        "world.json",
        "sports.rss",
        "index.opml",
        "all.rss",
        "tag/russia.rss",
        "author/asian-lite-news.json",
    ] {
        assert!(
            dom.contains(&format!("href=\"https://feeds.news.example/feeds/{feed}\"")),
            "{feed}: {dom}"
        );
    }
    assert!(
        dom.contains("&lt;link rel=\"alternate\" type=\"application/rss+xml\""),
        "the autodiscovery lines as text: {dom}"
    );
    assert!(!dom.contains("<script"), "{dom}");
}
