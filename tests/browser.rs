//! The browser view: a feed opened in a real browser (headless Chromium) runs the served
//! XSLT and shows a page, not raw XML. Where Chromium is missing it fails, or skips loudly
//! where `PRESSFEED_ALLOW_SKIP=1` allows it (never in CI).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Server, article, site};
use serde_json::json;

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

#[tokio::test(flavor = "multi_thread")]
async fn a_feed_opened_in_a_browser_is_a_readable_page() {
    if !Path::new(CHROMIUM).exists() {
        common::missing(
            "tests/browser.rs",
            &format!("{CHROMIUM} not found"),
            "apt-get install chromium; bash tests/run installs it",
        );
        return;
    }
    let server = Server::start(
        site(&[("world", "")]),
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
    .await;
    let out = output_dir();
    std::fs::create_dir_all(&out).unwrap();

    for format in ["rss", "atom"] {
        let url = format!("http://{}/feeds/world.{format}", server.addr);
        let profile = tempfile::tempdir().unwrap();
        let shot = out.join(format!("browser-world-{format}.png"));
        let (dom, screenshot) = {
            let url = url.clone();
            let shot = shot.clone();
            tokio::task::spawn_blocking(move || {
                let dom = chromium(&url, "--dump-dom", profile.path());
                let screenshot = chromium(
                    &url,
                    &format!("--screenshot={}", shot.display()),
                    profile.path(),
                );
                (dom, screenshot)
            })
            .await
            .unwrap()
        };
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert!(
            dom.contains("<h1>world title</h1>"),
            "{format}: XSLT did not run:\n{dom}"
        );
        assert!(dom.contains("This is a news feed"), "{format}: {dom}");
        assert!(
            dom.contains("https://feeds.news.example/feeds/world."),
            "{format}: the feed URL to copy: {dom}"
        );
        assert!(
            dom.contains("Title of w1") && dom.contains("Title of w2"),
            "{format}: {dom}"
        );
        assert!(
            dom.contains("href=\"https://news.example/w1/\""),
            "{format}: item links: {dom}"
        );
        assert!(
            dom.contains("https://news.example/w1.jpg"),
            "{format}: thumbnail: {dom}"
        );
        assert!(dom.contains("Summary of w2"), "{format}: {dom}");
        assert!(
            screenshot.status.success() && shot.exists(),
            "{format}: no screenshot: {}",
            String::from_utf8_lossy(&screenshot.stderr)
        );
        println!("browser view of {url}: {}", shot.display());
    }
}
