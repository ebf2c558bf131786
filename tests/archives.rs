//! Archives (RFC 5005 §4): every section feed and every feed built on demand links to
//! archive documents, one per calendar month with articles, at
//! `/feeds/<feed>/archive/<YYYY-MM>.<format>`; walking them from the subscription document
//! reaches every article once; a closed month is cached a day and changes only when one of
//! its articles does.

mod common;

use std::collections::BTreeSet;

use chrono::TimeDelta;
use common::{Options, Reply, Server, article, article_json, parse_atom, parse_rss, site};
use http::{Method, StatusCode};
use pressfeed::article::Article;
use pressfeed::clock::ManualClock;
use serde_json::json;

const TOKEN: &str = "archive-token-0123456789";
const HISTORY: &str = "http://purl.org/syndication/history/1.0";
/// Where the site's feeds are, as their links name them.
const FEED_BASE: &str = "https://feeds.news.example";

/// What a test runs on: the common manual clock (2026-03-01T12:00Z, so March is the
/// current month) and the admin API, whose writes the server sees at once.
fn options(clock: &ManualClock) -> Options {
    Options::admin(&format!("editor:{TOKEN}\n")).on(clock.clock())
}

/// `world` (at most two items in its feed) and `business`, with `[feeds]` on.
fn archive_site() -> tempfile::TempDir {
    let dir = site(&[("world", "limit = 2"), ("business", "")]);
    let path = dir.path().join("site.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(path, format!("{text}\n[feeds]\nlimit = 2\n")).unwrap();
    dir
}

fn world(id: &str, published: &str, tags: &[&str]) -> Article {
    article(id, &["world"], published, json!({ "tags": tags }))
}

/// Four months of `world` with none in December 2025: w3 and w4 share a second (w4 first
/// by the tie-break), w6 is February's last second, w7 is in the current month, w8 is
/// scheduled; `Port` tags w1, w2, w3, w5, w7 and w8. b1 is another section's.
fn articles() -> Vec<Article> {
    vec![
        world("w1", "2025-11-20T10:00:00Z", &["Port"]),
        world("w2", "2026-01-05T10:00:00Z", &["Port"]),
        world("w3", "2026-01-20T10:00:00Z", &["Port"]),
        world("w4", "2026-01-20T10:00:00Z", &[]),
        world("w5", "2026-02-10T10:00:00Z", &["Port"]),
        world("w6", "2026-02-28T23:59:59Z", &[]),
        world("w7", "2026-03-01T08:00:00Z", &["Port"]),
        world("w8", "2026-03-05T08:00:00Z", &["Port"]),
        article("b1", &["business"], "2025-12-10T10:00:00Z", json!({})),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Format {
    Rss,
    Atom,
    Json,
}

const FORMATS: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

/// One document read by its format's parser: its items (article ids, in order) and links.
#[derive(Debug, Default)]
struct Document {
    ids: Vec<String>,
    /// `prev-archive` (JSON Feed: `next_url`), as a path on the server.
    prev: Option<String>,
    next: Option<String>,
    current: Option<String>,
    /// Says it is an archive document (`fh:archive`; JSON Feed has no such word).
    archive: bool,
}

fn path_of(url: &str) -> String {
    url.strip_prefix(FEED_BASE)
        .unwrap_or_else(|| panic!("{url} is not one of the site's feeds"))
        .to_owned()
}

/// The article id of an item's link, `https://news.example/<id>/`.
fn id_of(link: &str) -> String {
    link.trim_start_matches("https://news.example/")
        .trim_end_matches('/')
        .to_owned()
}

fn read(format: Format, body: &[u8]) -> Document {
    match format {
        Format::Rss => {
            let channel = parse_rss(body);
            let link = |rel: &str| {
                (channel.atom_ext().unwrap().links().iter())
                    .find(|l| l.rel() == rel)
                    .map(|l| path_of(l.href()))
            };
            let archive = channel
                .extensions()
                .get("fh")
                .is_some_and(|fh| fh.contains_key("archive"));
            assert!(
                !archive || channel.namespaces().get("fh").map(String::as_str) == Some(HISTORY),
                "fh is RFC 5005's namespace"
            );
            Document {
                ids: (channel.items().iter())
                    .map(|i| id_of(i.link().unwrap()))
                    .collect(),
                prev: link("prev-archive"),
                next: link("next-archive"),
                current: link("current"),
                archive,
            }
        }
        Format::Atom => {
            let feed = parse_atom(body);
            let link = |rel: &str| {
                (feed.links().iter())
                    .find(|l| l.rel() == rel)
                    .map(|l| path_of(l.href()))
            };
            Document {
                ids: (feed.entries().iter())
                    .map(|e| id_of(e.links()[0].href()))
                    .collect(),
                prev: link("prev-archive"),
                next: link("next-archive"),
                current: link("current"),
                archive: feed
                    .extensions()
                    .get("fh")
                    .is_some_and(|fh| fh.contains_key("archive")),
            }
        }
        Format::Json => {
            let doc: serde_json::Value = serde_json::from_slice(body).unwrap();
            let items = doc["items"].as_array().unwrap();
            Document {
                ids: items
                    .iter()
                    .map(|i| id_of(i["url"].as_str().unwrap()))
                    .collect(),
                prev: doc["next_url"].as_str().map(path_of),
                ..Document::default()
            }
        }
    }
}

fn extension(format: Format) -> &'static str {
    match format {
        Format::Rss => "rss",
        Format::Atom => "atom",
        Format::Json => "json",
    }
}

async fn get_ok(server: &Server, path: &str) -> Reply {
    let reply = server.get(path).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
    reply
}

/// Walks `feed`'s documents in `format` on `server` (see `walk_by`).
async fn walk(server: &Server, feed: &str, format: Format) -> Vec<(String, Vec<String>)> {
    walk_by(
        async |path| get_ok(server, path).await.body.to_vec(),
        feed,
        format,
    )
    .await
}

/// Walks `feed`'s documents in `format` from its subscription document back along
/// `prev-archive`, each read by `fetch` (a path on the server: the document's bytes),
/// checking each archive's links; returns the archive documents' paths and the ids each
/// holds.
async fn walk_by(
    fetch: impl AsyncFn(&str) -> Vec<u8>,
    feed: &str,
    format: Format,
) -> Vec<(String, Vec<String>)> {
    let ext = extension(format);
    let subscription = format!("/feeds/{feed}.{ext}");
    let first = read(format, &fetch(&subscription).await);
    assert!(!first.archive, "{subscription} is no archive");
    let mut walked: Vec<(String, Vec<String>)> = Vec::new();
    let mut next = first.prev;
    while let Some(path) = next {
        assert!(walked.len() < 20, "a loop in the archive links: {walked:?}");
        assert!(
            path.starts_with(&format!("/feeds/{feed}/archive/")),
            "{path}"
        );
        let bytes = fetch(&path).await;
        let doc = read(format, &bytes);
        assert!(!doc.ids.is_empty(), "{path} has articles");
        if !matches!(format, Format::Json) {
            assert_eq!(
                stylesheet_of(&path, &bytes),
                "/feeds/feed.xsl",
                "{path}: a browser finds the one stylesheet from the month's folder"
            );
            assert!(doc.archive, "{path} says it is an archive document");
            assert_eq!(
                doc.current.as_deref(),
                Some(subscription.as_str()),
                "{path}"
            );
            // Its next-archive is the document walked before it (none for the newest).
            let newer = walked.last().map(|(newer, _)| newer.clone());
            assert_eq!(doc.next, newer, "{path}'s next-archive");
        }
        walked.push((path, doc.ids));
        next = doc.prev;
    }
    walked
}

/// The path of the stylesheet the RSS or Atom document at `path` names, resolved against
/// `path` as a browser resolves it.
fn stylesheet_of(path: &str, body: &[u8]) -> String {
    let text = std::str::from_utf8(body).unwrap();
    let instruction = text.lines().nth(1).unwrap();
    assert!(
        instruction.starts_with("<?xml-stylesheet "),
        "{instruction}"
    );
    let href = instruction.split("href=\"").nth(1).unwrap();
    let mut rest = href.split('"').next().unwrap();
    let mut folder: Vec<&str> = path.split('/').collect();
    folder.pop();
    while let Some(up) = rest.strip_prefix("../") {
        folder.pop();
        rest = up;
    }
    format!("{}/{rest}", folder.join("/"))
}

/// The months of the walk's documents, `2026-03` of `/feeds/world/archive/2026-03.rss`.
fn months(walked: &[(String, Vec<String>)]) -> Vec<&str> {
    (walked.iter())
        .filter_map(|(path, _)| path.rsplit('/').next()?.split('.').next())
        .collect()
}

/// Every article of the walk, each exactly once.
fn every_once(walked: &[(String, Vec<String>)]) -> BTreeSet<String> {
    let all: Vec<&String> = walked.iter().flat_map(|(_, ids)| ids).collect();
    let once: BTreeSet<String> = all.iter().map(|id| id.to_string()).collect();
    assert_eq!(
        once.len(),
        all.len(),
        "an article in two documents: {walked:?}"
    );
    once
}

async fn put_article(server: &Server, body: serde_json::Value) {
    let id = body["id"].as_str().unwrap().to_owned();
    let reply = server
        .send(
            Method::PUT,
            &format!("/admin/api/articles/{id}"),
            &[
                ("authorization", &format!("Bearer {TOKEN}")),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

async fn retract(server: &Server, id: &str) {
    let reply = server
        .request(
            Method::DELETE,
            &format!("/admin/api/articles/{id}"),
            &[("authorization", &format!("Bearer {TOKEN}"))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
}

/// Waits until `path` answers another ETag than `etag`; returns the new answer.
async fn changed_from(server: &Server, path: &str, etag: &str) -> Reply {
    server
        .wait_until(&format!("{path} to change"), |s| async move {
            s.get(path).await.header("etag") != etag
        })
        .await;
    get_ok(server, path).await
}

fn seconds(last_modified: &str) -> i64 {
    httpdate::parse_http_date(last_modified)
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_sections_archive_walks_back_to_every_article_once_in_every_format() {
    let clock = common::manual_clock();
    let server = Server::start_with(archive_site(), &articles(), options(&clock)).await;
    let live: BTreeSet<String> = ["w1", "w2", "w3", "w4", "w5", "w6", "w7"]
        .map(String::from)
        .into();
    for format in FORMATS {
        let walked = walk(&server, "world", format).await;
        assert_eq!(
            months(&walked),
            ["2026-03", "2026-02", "2026-01", "2025-11"],
            "{format:?}: newest first, December has no article of world's"
        );
        assert_eq!(every_once(&walked), live, "{format:?}: not w8, scheduled");
        assert_eq!(
            walked[2].1,
            ["w4", "w3", "w2"],
            "the feed's order and tie-break"
        );
    }
    // The subscription holds two items; the archive of their month all of its own.
    let feed = read(Format::Rss, &get_ok(&server, "/feeds/world.rss").await.body);
    assert_eq!(feed.ids, ["w7", "w6"]);

    // Only months with articles exist; anything else under archive/ is 404.
    for path in [
        "/feeds/world/archive/2025-12.rss",
        "/feeds/world/archive/2026-04.atom",
        "/feeds/world/archive/2024-01.json",
        "/feeds/world/archive/2026-13.rss",
        "/feeds/world/archive/2026-1.rss",
        "/feeds/world/archive/2026-01.xml",
        "/feeds/nowhere/archive/2026-01.rss",
        "/feeds/business/archive/2026-01.rss",
    ] {
        assert_eq!(
            server.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        server
            .get("/feeds/business/archive/2025-12.rss")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_closed_month_is_cached_a_day_and_changes_only_with_its_articles() {
    let clock = common::manual_clock();
    let server = Server::start_with(archive_site(), &articles(), options(&clock)).await;
    closed_month_caching(&server, &clock, "world").await;
}

#[tokio::test]
async fn a_tags_archive_walks_and_caches_as_a_sections() {
    let clock = common::manual_clock();
    let server = Server::start_with(archive_site(), &articles(), options(&clock)).await;
    for format in FORMATS {
        let walked = walk(&server, "tag/port", format).await;
        assert_eq!(
            months(&walked),
            ["2026-03", "2026-02", "2026-01", "2025-11"],
            "{format:?}"
        );
        let ids: BTreeSet<String> = ["w1", "w2", "w3", "w5", "w7"].map(String::from).into();
        assert_eq!(every_once(&walked), ids, "{format:?}");
    }
    for path in [
        "/feeds/tag/port/archive/2025-12.rss",
        "/feeds/tag/nowhere/archive/2026-01.rss",
        "/feeds/tag/Port/archive/2026-01.rss",
    ] {
        assert_eq!(
            server.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // The whole site's too: b1 makes December a month of `all`.
    let walked = walk(&server, "all", Format::Atom).await;
    assert_eq!(
        months(&walked),
        ["2026-03", "2026-02", "2026-01", "2025-12", "2025-11"]
    );
    closed_month_caching(&server, &clock, "tag/port").await;
}

/// `feed`'s January (closed: the clock is in March) answers a day's max-age and 304s; an
/// edit of one of its articles (w3), then the retraction of another (w2), change its ETag
/// and move its Last-Modified on, and leave November's bytes alone. The current month is
/// cached as long as the feed.
async fn closed_month_caching(server: &Server, clock: &ManualClock, feed: &str) {
    let january = format!("/feeds/{feed}/archive/2026-01.rss");
    let november = format!("/feeds/{feed}/archive/2025-11.rss");
    let first = get_ok(server, &january).await;
    assert!(
        first
            .header("cache-control")
            .starts_with("public, max-age=86400,"),
        "{}",
        first.header("cache-control")
    );
    let march = get_ok(server, &format!("/feeds/{feed}/archive/2026-03.rss")).await;
    assert!(
        march
            .header("cache-control")
            .starts_with("public, max-age=300,"),
        "{}",
        march.header("cache-control")
    );
    let (etag, last_modified) = (first.header("etag"), first.header("last-modified"));
    for (name, value) in [
        ("if-none-match", etag),
        ("if-modified-since", last_modified),
    ] {
        let again = server
            .request(Method::GET, &january, &[(name, value)])
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{name}");
        assert_eq!(again.header("etag"), etag);
        assert!(again.body.is_empty());
    }
    // Built again with nothing changed (another replica, or after the cache let it go): the
    // same validators, from the store.
    let same = get_ok(server, &january).await;
    assert_eq!(
        (same.header("etag"), same.header("last-modified")),
        (etag, last_modified)
    );
    let november_etag = get_ok(server, &november).await.header("etag").to_owned();

    // w3 is edited an hour later: January changes, November does not.
    clock.advance(TimeDelta::hours(1));
    let mut edited = article_json("w3", &["world"], "2026-01-20T10:00:00Z");
    edited["title"] = json!("Title of w3, corrected");
    edited["tags"] = json!(["Port"]);
    put_article(server, edited).await;
    let after_edit = changed_from(server, &january, etag).await;
    assert!(seconds(after_edit.header("last-modified")) > seconds(last_modified));
    let channel = parse_rss(&after_edit.body);
    assert!(
        (channel.items().iter()).any(|i| i.title() == Some("Title of w3, corrected")),
        "the edit is in the month's document"
    );
    assert_eq!(
        get_ok(server, &november).await.header("etag"),
        november_etag
    );

    // A retraction an hour later: gone from the month, new validators again.
    clock.advance(TimeDelta::hours(1));
    retract(server, "w2").await;
    let after_retraction = changed_from(server, &january, after_edit.header("etag")).await;
    assert!(
        seconds(after_retraction.header("last-modified"))
            > seconds(after_edit.header("last-modified"))
    );
    let ids: Vec<String> = (parse_rss(&after_retraction.body).items().iter())
        .map(|i| id_of(i.link().unwrap()))
        .collect();
    assert!(
        !ids.contains(&"w2".to_owned()) && ids.contains(&"w3".to_owned()),
        "{ids:?}"
    );
    assert_eq!(
        get_ok(server, &november).await.header("etag"),
        november_etag
    );
}

#[tokio::test]
async fn another_process_serves_the_same_bytes_and_validators() {
    let data = common::seeded_data(&articles());
    let clock = common::manual_clock();
    let paths = [
        "/feeds/world/archive/2026-01.rss",
        "/feeds/world/archive/2026-01.json",
        "/feeds/tag/port/archive/2025-11.atom",
        "/feeds/all/archive/2026-03.rss",
    ];
    let server = Server::start_on_with(archive_site(), data.path(), options(&clock)).await;
    let mut first = Vec::new();
    for path in paths {
        first.push(get_ok(&server, path).await);
    }
    drop(server.stop().await);

    // A day later, a new process (a replica, or this one restarted) with nothing kept in
    // memory builds every document again from the store: the same bytes, the same
    // validators, so a reader's revalidation is a 304 whichever process answers.
    clock.advance(TimeDelta::days(1));
    let server = Server::start_on_with(archive_site(), data.path(), options(&clock)).await;
    for (path, first) in paths.iter().zip(&first) {
        let again = get_ok(&server, path).await;
        assert_eq!(again.body, first.body, "{path}");
        assert_eq!(again.header("etag"), first.header("etag"), "{path}");
        assert_eq!(
            again.header("last-modified"),
            first.header("last-modified"),
            "{path}"
        );
        let revalidated = server
            .request(
                Method::GET,
                path,
                &[("if-modified-since", first.header("last-modified"))],
            )
            .await;
        assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED, "{path}");
    }
}

/// `pressfeed build --out` writes every section's archive documents beside its feeds, the
/// very files the server sends for their URLs: walking `prev-archive` from the exported
/// `world.rss` through the files reaches every article once. Feeds built on demand, and
/// so their archives, are not exported.
#[tokio::test]
async fn the_export_writes_every_sections_archive_as_served() {
    let clock = common::manual_clock();
    // Nothing scheduled: `build --out` reads the system's clock, later than the server's,
    // and would take w8 for published.
    let published: Vec<Article> = (articles().into_iter())
        .filter(|article| serde_json::to_value(article).unwrap()["id"] != "w8")
        .collect();
    let server = Server::start_with(archive_site(), &published, options(&clock)).await;
    let live: BTreeSet<String> = ["w1", "w2", "w3", "w4", "w5", "w6", "w7"]
        .map(String::from)
        .into();
    // The server builds first: the export then agrees the same validators in the store.
    let mut served = Vec::new();
    for format in FORMATS {
        served.push(walk(&server, "world", format).await);
    }
    let out = common::export(&server);
    let file = |path: &str| out.path().join(path.trim_start_matches('/'));
    let read_file = async |path: &str| {
        std::fs::read(file(path)).unwrap_or_else(|e| panic!("{path} is not exported: {e}"))
    };
    for (format, served) in FORMATS.into_iter().zip(served) {
        let exported = walk_by(&read_file, "world", format).await;
        assert_eq!(
            months(&exported),
            ["2026-03", "2026-02", "2026-01", "2025-11"],
            "{format:?}"
        );
        assert_eq!(every_once(&exported), live, "{format:?}");
        assert_eq!(exported, served, "{format:?}: the server's documents");
        for (path, _) in &exported {
            let reply = get_ok(&server, path).await;
            assert_eq!(read_file(path).await, reply.body.to_vec(), "{path}");
            let sidecar = format!("{}.headers.json", file(path).display());
            let headers: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&sidecar).unwrap()).unwrap();
            assert_eq!(headers["etag"], reply.header("etag"), "{path}");
            assert_eq!(
                headers["last_modified"],
                reply.header("last-modified"),
                "{path}"
            );
            assert_eq!(headers["content_type"], reply.header("content-type"));
            // Months the server's clock (March) has closed are closed for the export too.
            if !path.contains("2026-03") {
                assert_eq!(
                    headers["cache_control"],
                    reply.header("cache-control"),
                    "{path}"
                );
            }
            for coding in ["gz", "br"] {
                let variant = format!("{}.{coding}", file(path).display());
                assert!(std::path::Path::new(&variant).is_file(), "{variant}");
            }
        }
    }
    // Every section's months, every format; a closed month cached a day.
    for ext in ["rss", "atom", "json"] {
        let december = file(&format!("/feeds/business/archive/2025-12.{ext}"));
        assert!(december.is_file(), "{}", december.display());
    }
    let january = format!(
        "{}.headers.json",
        file("/feeds/world/archive/2026-01.rss").display()
    );
    let headers: serde_json::Value =
        serde_json::from_slice(&std::fs::read(january).unwrap()).unwrap();
    let cache_control = headers["cache_control"].as_str().unwrap();
    assert!(
        cache_control.starts_with("public, max-age=86400,"),
        "{cache_control}"
    );
    assert!(!file("/feeds/world/archive/2025-12.rss").exists());
    for on_demand in ["/feeds/all.rss", "/feeds/tag", "/feeds/all"] {
        assert!(!file(on_demand).exists(), "{on_demand} is exported");
    }
}
