//! Partner feeds: each partner gets its own feeds of the sections its profile names, at
//! `/feeds/partners/<partner>/<slug>.<ext>`, carrying its elements and only the articles
//! its hard rules let in; the lint reports every problem (the `pressfeed lint` command,
//! `/admin/api/lint`, `/metrics`); Feedly's elements are in the public feeds. Each feed is
//! read back by the reference readers (rss, atom_syndication) and by feedparser.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{Options, Server, article, manual_clock, parse_atom, parse_rss, site};
use http::{Method, StatusCode};
use pressfeed::article::Article;
use serde_json::{Value, json};

const TOKEN: &str = "partner-token-0123456789";
const SNF: &str = "http://www.smartnews.be/snf";
const WEBFEEDS: &str = "http://webfeeds.org/rss/1.0";

const PARTNERS: &str = r#"
[partners.flipboard]
sections = ["world"]

[partners.smartnews]
sections = ["world"]
logo = "https://news.example/smartnews-logo.png"
dark_mode_logo = "https://news.example/smartnews-logo-dark.png"
analytics = "<script>track('smartview')</script>"
ad = "<script>showAd()</script>"

[[partners.smartnews.sponsored_links]]
link = "https://news.example/newsletter/"
advertiser = "Test Times"
title = "Our morning newsletter"

[partners.msn]
sections = ["world"]

[partners.google-news]
sections = ["world", "sports"]

[partners.feedly]
icon = "https://news.example/icon.png"
cover = "https://news.example/cover.jpg"
accent_color = "c8102e"
"#;

/// `world` and `business` (no partner), with every partner configured.
fn partner_site() -> tempfile::TempDir {
    let dir = site(&[("world", ""), ("business", "")]);
    let path = dir.path().join("site.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(path, format!("{text}{PARTNERS}")).unwrap();
    dir
}

/// Words enough for every partner's length rules: MSN's 450 characters of body, Flipboard's
/// 300 of description.
fn long_text(id: &str) -> String {
    format!("{id}: ") + &"The council met on Tuesday to weigh the harbour plan. ".repeat(10)
}

/// A world article with a long body and summary, a title of more than 20 characters,
/// published on 2026-02-20 (the clock reads 2026-03-01); `extra` overrides.
fn world(id: &str, extra: Value) -> Article {
    let mut fields = json!({
        "title": format!("The harbour plan, part {id}"),
        "summary": long_text(id),
        "body_html": format!("<p>{}</p>", long_text(id)),
        "updated_at": "2026-02-20T10:00:00Z",
    });
    for (k, v) in extra.as_object().unwrap() {
        fields[k] = v.clone();
    }
    article(id, &["world"], "2026-02-20T10:00:00Z", fields)
}

fn image(width: Option<u32>, height: Option<u32>) -> Value {
    let mut image = json!({"url": "https://cdn.news.example/photo.jpg", "length": 120000});
    if let Some(w) = width {
        image["width"] = w.into();
    }
    if let Some(h) = height {
        image["height"] = h.into();
    }
    image
}

/// One article per rule that leaves an article out somewhere, and two that every partner
/// takes (`good` was updated after it was published).
fn articles() -> Vec<Article> {
    vec![
        world(
            "good",
            json!({"image": image(Some(1200), Some(800)), "updated_at": "2026-02-25T08:00:00Z"}),
        ),
        world("unknown-size", json!({"image": image(None, None)})),
        world("no-image", json!({})),
        world("small-image", json!({"image": image(Some(300), Some(200))})),
        world(
            "old",
            json!({"image": image(Some(1200), Some(800)), "published_at": "2024-06-01T10:00:00Z",
                   "updated_at": "2024-06-01T10:00:00Z"}),
        ),
        world(
            "short",
            json!({"image": image(Some(1200), Some(800)), "title": "Short title"}),
        ),
        world(
            "no-body",
            json!({"image": image(Some(1200), Some(800)), "body_html": null}),
        ),
    ]
}

fn ids(links: impl Iterator<Item = String>) -> BTreeSet<String> {
    links
        .map(|link| {
            link.trim_start_matches("https://news.example/")
                .trim_end_matches('/')
                .to_owned()
        })
        .collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| id.to_string()).collect()
}

/// The partner site on the common manual clock (2026-03-01), with the admin API.
async fn start() -> Server {
    let options = Options::admin(&format!("editor:{TOKEN}\n")).on(manual_clock().clock());
    Server::start_with(partner_site(), &articles(), options).await
}

async fn ok(server: &Server, path: &str) -> common::Reply {
    let reply = server.get(path).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
    reply
}

#[tokio::test]
async fn each_partner_gets_its_elements_and_only_the_articles_its_rules_let_in() {
    let server = start().await;

    // Flipboard: an image of at least 400 px (or of unknown size) and a body.
    let reply = ok(&server, "/feeds/partners/flipboard/world.rss").await;
    assert_eq!(
        reply.header("content-type"),
        "application/rss+xml; charset=utf-8"
    );
    let etag = reply.header("etag").to_owned();
    let channel = parse_rss(&reply.body);
    let links = channel.items().iter().map(|i| i.link().unwrap().to_owned());
    assert_eq!(ids(links), set(&["good", "unknown-size", "old", "short"]));
    for item in channel.items() {
        assert!(item.content().is_some(), "the whole body: {item:?}");
        assert!(
            item.dublin_core_ext()
                .is_some_and(|dc| !dc.creators().is_empty())
        );
        assert!(
            item.extensions()
                .get("media")
                .is_some_and(|m| m.contains_key("content"))
        );
    }
    let atom = channel.atom_ext().unwrap();
    let href = |rel: &str| {
        (atom.links().iter())
            .find(|l| l.rel() == rel)
            .map(|l| l.href().to_owned())
    };
    assert_eq!(
        href("self").as_deref(),
        Some("https://feeds.news.example/feeds/partners/flipboard/world.rss")
    );
    assert_eq!(href("hub").as_deref(), Some("https://hub.example/"));
    assert_eq!(
        href("prev-archive"),
        None,
        "partners take their window only"
    );
    // Cached and validated as every feed.
    let again = server
        .request(
            Method::GET,
            "/feeds/partners/flipboard/world.rss",
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    // Flipboard reads RSS only.
    assert_eq!(
        server
            .get("/feeds/partners/flipboard/world.atom")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // A section no partner is given has no partner feed.
    assert_eq!(
        server
            .get("/feeds/partners/flipboard/business.rss")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // SmartNews: SmartFormat's elements, in its namespace, on the channel and every item.
    let reply = ok(&server, "/feeds/partners/smartnews/world.rss").await;
    let channel = parse_rss(&reply.body);
    assert_eq!(
        channel.namespaces().get("snf").map(String::as_str),
        Some(SNF)
    );
    // SmartFormat requires the channel's pubDate: the newest article's.
    assert_eq!(channel.pub_date(), Some("Fri, 20 Feb 2026 10:00:00 +0000"));
    let snf = channel.extensions().get("snf").expect("snf elements");
    for (logo, url) in [
        ("logo", "https://news.example/smartnews-logo.png"),
        (
            "darkModeLogo",
            "https://news.example/smartnews-logo-dark.png",
        ),
    ] {
        let element = &snf[logo][0];
        assert_eq!(element.children()["url"][0].value(), Some(url), "{logo}");
    }
    assert_eq!(
        channel.items().len(),
        7,
        "SmartNews has no hard item rule here"
    );
    for item in channel.items() {
        let snf = item
            .extensions()
            .get("snf")
            .expect("snf elements of an item");
        assert_eq!(
            snf["analytics"][0].value(),
            Some("<script>track('smartview')</script>")
        );
        let advertisement = snf["advertisement"][0].children();
        assert_eq!(
            advertisement["adcontent"][0].value(),
            Some("<script>showAd()</script>")
        );
        let sponsored = advertisement["sponsoredLink"][0].attrs();
        assert_eq!(sponsored["link"], "https://news.example/newsletter/");
        assert_eq!(sponsored["advertiser"], "Test Times");
        assert_eq!(sponsored["title"], "Our morning newsletter");
    }
    let good = (channel.items().iter())
        .find(|i| i.link() == Some("https://news.example/good/"))
        .unwrap();
    assert!(good.extensions()["media"].contains_key("thumbnail"));

    // MSN: a body of 450 characters or more, a title of more than 20, less than a year
    // old; updates flagged. In RSS and Atom alike.
    let msn = set(&["good", "unknown-size", "no-image", "small-image"]);
    let reply = ok(&server, "/feeds/partners/msn/world.rss").await;
    let channel = parse_rss(&reply.body);
    let links = channel.items().iter().map(|i| i.link().unwrap().to_owned());
    assert_eq!(ids(links), msn);
    for item in channel.items() {
        let modified = (item.extensions().get("dcterms"))
            .and_then(|d| d.get("modified"))
            .and_then(|m| m[0].value());
        let expected = (item.link() == Some("https://news.example/good/"))
            .then_some("2026-02-25T08:00:00+00:00");
        assert_eq!(modified, expected, "only an updated article says so");
    }
    let reply = ok(&server, "/feeds/partners/msn/world.atom").await;
    let feed = parse_atom(&reply.body);
    let links = (feed.entries().iter()).map(|e| e.links()[0].href().to_owned());
    assert_eq!(ids(links), msn);

    // Google News: every article (none breaks its rules), of both sections it is given.
    let reply = ok(&server, "/feeds/partners/google-news/world.atom").await;
    assert_eq!(parse_atom(&reply.body).entries().len(), 7);
    ok(&server, "/feeds/partners/google-news/world.rss").await;

    // Feedly reads the public feeds: its elements are there, not in a partner feed.
    let reply = ok(&server, "/feeds/world.rss").await;
    let channel = parse_rss(&reply.body);
    assert_eq!(
        channel.namespaces().get("webfeeds").map(String::as_str),
        Some(WEBFEEDS)
    );
    let webfeeds = &channel.extensions()["webfeeds"];
    assert_eq!(
        webfeeds["cover"][0].attrs()["image"],
        "https://news.example/cover.jpg"
    );
    assert_eq!(webfeeds["accentColor"][0].value(), Some("c8102e"));
    assert_eq!(
        webfeeds["icon"][0].value(),
        Some("https://news.example/icon.png")
    );
    assert_eq!(
        channel.items().len(),
        7,
        "the public feed leaves nothing out"
    );
    let reply = ok(&server, "/feeds/world.atom").await;
    let feed = parse_atom(&reply.body);
    assert_eq!(
        feed.namespaces().get("webfeeds").map(String::as_str),
        Some(WEBFEEDS)
    );
    assert_eq!(
        feed.extensions()["webfeeds"]["accentColor"][0].value(),
        Some("c8102e")
    );
    assert_eq!(
        server.get("/feeds/partners/feedly/world.rss").await.status,
        StatusCode::NOT_FOUND
    );

    feedcheck(&server).await;
}

/// The partner feeds read by feedparser (tests/feedcheck): written to a folder as
/// `build --out` would, then checked.
async fn feedcheck(server: &Server) {
    let python = std::env::var("PRESSFEED_FEEDCHECK_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_feedparser = Command::new(&python)
        .args(["-c", "import feedparser, jsonschema"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !has_feedparser {
        common::missing(
            "tests/partners.rs",
            "python with feedparser and jsonschema is not there",
            "pip install feedparser jsonschema, and name that python in \
             PRESSFEED_FEEDCHECK_PYTHON (bash tests/run does both)",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "flipboard/world.rss",
        "smartnews/world.rss",
        "msn/world.rss",
        "msn/world.atom",
        "google-news/world.rss",
        "google-news/world.atom",
    ] {
        let reply = ok(server, &format!("/feeds/partners/{name}")).await;
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &reply.body).unwrap();
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/feedcheck/feedcheck.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(dir.path())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "feedparser: {report}");
    assert!(report.contains("6 passed, 0 failed"), "{report}");
}

#[tokio::test]
async fn the_lint_reports_what_was_left_out_and_why_in_every_form() {
    let server = start().await;
    let reply = server
        .request(
            Method::GET,
            "/admin/api/lint",
            &[("authorization", &format!("Bearer {TOKEN}"))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let report: Value = serde_json::from_slice(&reply.body).unwrap();
    let problems = report["problems"].as_array().unwrap();
    let has = |partner: &str, item: &str, rule: &str, left_out: bool| {
        problems.iter().any(|p| {
            p["partner"] == partner
                && p["item"] == item
                && p["rule"] == rule
                && p["left_out"] == left_out
                && p["url"] == format!("https://news.example/{item}/")
                && p["source"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("https://"))
        })
    };
    for (partner, item, rule, left_out) in [
        ("flipboard", "no-image", "flipboard/image", true),
        ("flipboard", "small-image", "flipboard/image-size", true),
        ("flipboard", "no-body", "flipboard/full-body", true),
        (
            "flipboard",
            "unknown-size",
            "flipboard/image-size-500",
            false,
        ),
        ("msn", "old", "msn/published-age", true),
        ("msn", "short", "msn/title-short", true),
        ("msn", "no-body", "msn/body-length", true),
        ("msn", "unknown-size", "msn/image-size", false),
        ("msn", "no-image", "msn/image", false),
        ("smartnews", "no-image", "smartnews/thumbnail", false),
    ] {
        assert!(
            has(partner, item, rule, left_out),
            "{partner} {item} {rule}: {problems:#?}"
        );
    }
    let feeds = report["feeds"].as_array().unwrap();
    let listed: BTreeSet<String> = feeds
        .iter()
        .map(|f| {
            format!(
                "{}/{}",
                f["partner"].as_str().unwrap(),
                f["section"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        listed,
        set(&[
            "flipboard/world",
            "smartnews/world",
            "msn/world",
            "google-news/world"
        ]),
        "sports is no section: the lint says so instead"
    );
    assert!(
        problems
            .iter()
            .any(|p| p["rule"] == "partners/section" && p["section"] == "sports")
    );
    let google = feeds
        .iter()
        .find(|f| f["partner"] == "google-news")
        .unwrap();
    assert_eq!(google["errors"], 0, "ready");
    assert_eq!(report["errors"].as_u64().unwrap() as usize, {
        problems.iter().filter(|p| p["severity"] == "error").count()
    });

    // Narrowed to one partner.
    let reply = server
        .request(
            Method::GET,
            "/admin/api/lint?partner=msn",
            &[("authorization", &format!("Bearer {TOKEN}"))],
        )
        .await;
    let msn: Value = serde_json::from_slice(&reply.body).unwrap();
    assert!(
        msn["problems"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["partner"] == "msn")
    );
    assert_eq!(msn["feeds"].as_array().unwrap().len(), 1);

    // Counted in /metrics by partner, rule and severity.
    let metrics = ok(&server, "/metrics").await;
    assert!(
        metrics.text().contains(
            "pressfeed_partner_problems{partner=\"flipboard\",rule=\"flipboard/image\",severity=\"error\"} 1"
        ),
        "{}",
        metrics.text()
    );

    // The command prints the same problems, one line each, and fails on errors.
    let out = Command::new(env!("CARGO_BIN_EXE_pressfeed"))
        .arg("--feeds")
        .arg(server.feeds.path())
        .args(common::store_args(&server.data))
        .args(["lint", "--partner", "flipboard", "world"])
        .env("RUST_LOG", "pressfeed=warn")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "errors fail the command");
    let printed = String::from_utf8(out.stdout).unwrap();
    let line = printed
        .lines()
        .find(|l| l.contains("\tsmall-image\t"))
        .unwrap_or_else(|| panic!("{printed}"));
    let fields: Vec<&str> = line.split('\t').collect();
    assert_eq!(
        fields,
        [
            "error",
            "partners/flipboard/world",
            "small-image",
            "flipboard/image-size",
            "the largest image is 200 px on its smaller side (left out)",
            "https://about.flipboard.com/rss-spec/",
        ]
    );
    assert!(
        printed.lines().all(|l| l.contains("flipboard/")),
        "{printed}"
    );
    let summary = String::from_utf8(out.stderr).unwrap();
    assert!(summary.contains("1 partner feeds, 3 errors"), "{summary}");

    // An unknown partner is a mistake of the command line.
    let out = Command::new(env!("CARGO_BIN_EXE_pressfeed"))
        .arg("--feeds")
        .arg(server.feeds.path())
        .args(common::store_args(&server.data))
        .args(["lint", "--partner", "yahoo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn build_out_writes_the_partner_feeds_in_folders_of_their_own() {
    let server = start().await;
    let out = common::export(&server);
    let served = ok(&server, "/feeds/partners/msn/world.atom").await;
    let dir = out.path().join("feeds/partners/msn");
    assert_eq!(std::fs::read(dir.join("world.atom")).unwrap(), served.body);
    assert!(dir.join("world.atom.headers.json").exists());
    assert!(dir.join("world.rss.br").exists());
}
