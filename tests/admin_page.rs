//! The admin page in a real browser: headless Chromium, driven by playwright-core from
//! `tests/e2e/`, against the real server. Where Chromium or the npm packages are missing it
//! fails, or skips loudly where `PRESSFEED_ALLOW_SKIP=1` allows it (never in CI).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Options, Server, site};

const CHROMIUM: &str = "/usr/bin/chromium";
const TOKEN: &str = "page-token-0123456789abcdef";
/// A CMS's token: it may push articles, not edit sections, so the page offers no editing.
const ARTICLES_TOKEN: &str = "cms-page-token-0123456789ab";

fn output_dir() -> PathBuf {
    let target = option_env!("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("test-output")
}

/// What is missing to run the browser, if anything.
fn missing(e2e: &Path) -> Option<String> {
    if !Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} not found (apt-get install chromium)"));
    }
    if !e2e.join("node_modules/playwright-core").exists() {
        return Some("tests/e2e/node_modules is missing (cd tests/e2e && npm ci)".into());
    }
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("node not found (apt-get install nodejs)".into()),
    }
}

/// The demo articles, all filed under `world`: headlines, lead images and a video.
fn articles() -> Vec<pressfeed::article::Article> {
    pressfeed_corpus::demo_articles()
        .into_iter()
        .take(8)
        .map(|mut doc| {
            doc["sections"] = serde_json::json!(["world"]);
            pressfeed::article::Article::from_value(doc)
                .unwrap()
                .article
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_editor_creates_edits_and_deletes_a_section_in_the_browser() {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    if let Some(what) = missing(&e2e) {
        common::missing("tests/admin_page.rs", &what, "bash tests/run sets both up");
        return;
    }
    // Partner feeds of `world`, and Feedly's settings, which the lint finds lacking.
    let feeds = site(&[("world", ""), ("culture", "enabled = false")]);
    let site_toml = feeds.path().join("site.toml");
    let text = std::fs::read_to_string(&site_toml).unwrap();
    let partners = "[partners.flipboard]\nsections = [\"world\"]\n\
                    [partners.msn]\nsections = [\"world\"]\n[partners.feedly]\n";
    std::fs::write(&site_toml, format!("{text}\n{partners}")).unwrap();
    let server = Server::start_with(
        feeds,
        &articles(),
        Options::admin(&format!("editor:{TOKEN}\ncms[articles]:{ARTICLES_TOKEN}")),
    )
    .await;
    let out = output_dir();
    std::fs::create_dir_all(&out).unwrap();

    // Into a file, not a pipe: a pipe nobody reads while we wait could fill and stall node.
    let log_path = out.join("admin-page-e2e.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new("node")
        .arg("admin-page.mjs")
        .current_dir(&e2e)
        .env("PRESSFEED_URL", format!("http://{}", server.addr))
        .env("PRESSFEED_TOKEN", TOKEN)
        .env("PRESSFEED_ARTICLES_TOKEN", ARTICLES_TOKEN)
        .env("OUT_DIR", &out)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("starting node");
    // The server runs on this runtime: wait for node without blocking it.
    let deadline = Instant::now() + Duration::from_secs(180);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("the admin page test took over three minutes");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(status.success(), "the browser run failed:\n{log}");
    for name in [
        "admin-list.png",
        "admin-form.png",
        "admin-form-error.png",
        "admin-conflict.png",
        "admin-list-phone.png",
        "admin-list-articles-only.png",
        "admin-partners.png",
    ] {
        assert!(out.join(name).exists(), "no screenshot {name}");
        println!("screenshot: {}", out.join(name).display());
    }
}
