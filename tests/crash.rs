//! Crash safety of the real binary: `pressfeed serve` and `pressfeed import` killed with
//! SIGKILL in the middle of writes, at several moments, then started again. Whatever was
//! acknowledged is kept, a stored section is the old or the new one, and the restarted server
//! serves the feeds it served before the kill at once, before its first build finishes.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode};
use pressfeed::article::ArticleId;
use pressfeed::item::PreparedArticle;
use serde_json::json;

use common::{Process, site};

const TOKEN: &str = "crash-test-token-0123456789abcdef";
/// Each round kills once some writes were acknowledged, then after one of these delays, so
/// the kill lands at a different point of the write in flight each time.
const KILL_AFTER_MS: [u64; 5] = [0, 7, 23, 51, 97];

/// Polls `done` every 10 ms until it holds; panics after 60 s.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..6000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A `pressfeed serve` process; killed with SIGKILL when dropped.
struct Reply {
    status: StatusCode,
    etag: Option<String>,
    last_modified: Option<String>,
    body: Bytes,
}

/// The shared client, with answers cut down to what these tests compare.
#[derive(Clone)]
struct Http(common::Http);

impl Http {
    fn new() -> Http {
        Http(common::Http::new())
    }

    /// `None` when the server went away mid-request (or never answered).
    async fn send(
        &self,
        addr: SocketAddr,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Option<Reply> {
        let auth = format!("Bearer {TOKEN}");
        let headers: &[(&str, &str)] = match body {
            Some(_) => &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            None => &[],
        };
        let body = body.map_or_else(Bytes::new, |v| Bytes::from(v.to_string()));
        let url = format!("http://{addr}{path}");
        let exchange = self.0.exchange(method, &url, headers, body);
        let reply = tokio::time::timeout(Duration::from_secs(20), exchange)
            .await
            .ok()?
            .ok()?;
        let header = |name: &str| (reply.headers.get(name)).map(|v| v.to_str().unwrap().to_owned());
        Some(Reply {
            status: reply.status,
            etag: header("etag"),
            last_modified: header("last-modified"),
            body: reply.body,
        })
    }

    async fn get(&self, addr: SocketAddr, path: &str) -> Reply {
        self.send(addr, Method::GET, path, None)
            .await
            .unwrap_or_else(|| panic!("GET {path} got no answer"))
    }

    async fn wait_ready(&self, addr: SocketAddr) {
        for _ in 0..400 {
            if let Some(reply) = self.send(addr, Method::GET, "/readyz", None).await
                && reply.status == StatusCode::OK
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the server never became ready");
    }
}

/// A site with two sections: `world`, which the writes go to, and `business`.
fn crash_site() -> tempfile::TempDir {
    site(&[("world", ""), ("business", "")])
}

/// An article of a few kilobytes, as a CMS sends them.
fn article(id: &str) -> serde_json::Value {
    json!({
        "id": id,
        "url": format!("https://news.example/{id}/"),
        "title": format!("Title of {id}"),
        "sections": ["world", "business"],
        "published_at": "2024-03-01T10:00:00Z",
        "summary": format!("Summary of {id}"),
        "body_html": format!("<p>{}</p>", "Body text of a long article. ".repeat(100)),
    })
}

/// After a kill: checks what the store and the files must hold, then restarts the server
/// while another process holds the store's write lock, so its first build cannot finish
/// (it must save new bytes: an article was added after the kill). The first answers must
/// be the feeds saved before the kill, with their validators, while `/readyz` still says
/// starting; once the lock goes, the build lands. Returns the running server.
async fn restart_serves_the_last_good_feeds(http: &Http, feeds: &Path, data: &Path) -> Process {
    let store = common::open_store(data).expect("the store opens after a kill");
    let saved: Vec<_> = store
        .saved_feeds()
        .unwrap()
        .into_iter()
        .filter(|f| f.name.starts_with("world."))
        .collect();
    assert_eq!(
        saved.len(),
        6,
        "world's three feeds and their previews were saved"
    );
    // Newer than every other article, so it changes the first page of every feed.
    let marker = format!("marker-{}", store.change_counter().unwrap());
    let mut doc = article(&marker);
    doc["published_at"] = json!("2024-03-02T00:00:00Z");
    store
        .upsert(&[PreparedArticle::new(
            pressfeed::article::Article::from_value(doc)
                .unwrap()
                .article,
        )])
        .unwrap();
    drop(store);

    let lock = common::hold_write_lock(data);
    let server = Process::serve(feeds, data, TOKEN, &[("RUST_LOG", "pressfeed=error")]);
    for feed in &saved {
        let reply = http
            .get(server.addr, &format!("/feeds/{}", feed.name))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", feed.name);
        assert_eq!(
            reply.etag.as_deref(),
            Some(format!("\"{}\"", feed.state.hash).as_str()),
            "{}: the ETag saved before the kill",
            feed.name
        );
        let saved_at = std::time::UNIX_EPOCH + Duration::from_secs(feed.state.last_modified as u64);
        assert_eq!(
            reply.last_modified.as_deref(),
            Some(httpdate::fmt_http_date(saved_at).as_str())
        );
        assert_eq!(reply.body, feed.identity);
    }
    let ready = http.get(server.addr, "/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        std::str::from_utf8(&ready.body)
            .unwrap()
            .starts_with("starting")
    );

    drop(lock);
    http.wait_ready(server.addr).await;
    let json = http.get(server.addr, "/feeds/world.json").await;
    assert!(
        std::str::from_utf8(&json.body).unwrap().contains(&marker),
        "the first build after the restart published"
    );
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_an_admin_import_keeps_every_acknowledged_article() {
    let feeds = crash_site();
    let data = tempfile::tempdir().unwrap();
    let http = Http::new();
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut server = Process::serve(
        feeds.path(),
        data.path(),
        TOKEN,
        &[("RUST_LOG", "pressfeed=error")],
    );
    http.wait_ready(server.addr).await;

    for (round, kill_after) in KILL_AFTER_MS.into_iter().enumerate() {
        let before = acked.lock().unwrap().len();
        // Two CMS clients posting batches of 50 articles as fast as they are answered.
        let writers: Vec<_> = (0..2)
            .map(|client| {
                let (http, acked, addr) = (http.clone(), acked.clone(), server.addr);
                tokio::spawn(async move {
                    for batch in 0.. {
                        let ids: Vec<String> = (0..50)
                            .map(|i| format!("r{round}-c{client}-b{batch}-{i}"))
                            .collect();
                        let body = json!(ids.iter().map(|id| article(id)).collect::<Vec<_>>());
                        match http
                            .send(addr, Method::POST, "/admin/api/articles", Some(body))
                            .await
                        {
                            Some(reply) if reply.status.is_success() => {
                                acked.lock().unwrap().extend(ids);
                            }
                            Some(reply) => panic!("a write was refused: {}", reply.status),
                            None => return batch,
                        }
                    }
                    unreachable!()
                })
            })
            .collect();
        until("acknowledged writes", || {
            acked.lock().unwrap().len() >= before + 50 * (round % 3 + 1)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(kill_after)).await;
        server.kill();
        let mut batches = 0;
        for writer in writers {
            batches += writer.await.unwrap();
        }

        let store = common::open_store(data.path()).expect("the store opens after a kill");
        let acked = acked.lock().unwrap().clone();
        for id in &acked {
            let id = ArticleId::parse(id).unwrap();
            assert!(
                store.get(&id).unwrap().is_some(),
                "round {round} (kill after {kill_after} ms, {batches} batches acknowledged): \
                 acknowledged article {id} is missing"
            );
        }
        drop(store);
        server = restart_serves_the_last_good_feeds(&http, feeds.path(), data.path()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_section_writes_leaves_the_old_or_the_new_section() {
    let feeds = crash_site();
    let data = tempfile::tempdir().unwrap();
    let http = Http::new();
    let path = std::path::Path::new("sections/world.toml");
    let mut server = Process::serve(
        feeds.path(),
        data.path(),
        TOKEN,
        &[("RUST_LOG", "pressfeed=error")],
    );
    http.wait_ready(server.addr).await;
    // Version 0 is the section as the test site's file seeded it.
    let title = |version: u64| match version {
        0 => "world title".to_owned(),
        n => format!("World, edition {n} {}", "with a long subtitle ".repeat(20)),
    };
    let mut version = 0;

    for (round, kill_after) in KILL_AFTER_MS.into_iter().enumerate() {
        let first = version + 1;
        let progress = Arc::new(Mutex::new(None));
        let writer = {
            let progress = progress.clone();
            let (http, addr, title) = (http.clone(), server.addr, title);
            tokio::spawn(async move {
                let mut acked = None;
                for n in first.. {
                    let body = json!({
                        "title": title(n),
                        "description": "Edited in a loop until the server is killed",
                        "link": "https://news.example/world/",
                        "schedule": "0 0 0 1 1 *",
                    });
                    let path = "/admin/api/sections/world";
                    match http.send(addr, Method::PUT, path, Some(body)).await {
                        Some(reply) if reply.status == StatusCode::OK => {
                            acked = Some(n);
                            *progress.lock().unwrap() = acked;
                        }
                        Some(reply) => panic!("a section write was refused: {}", reply.status),
                        None => return (acked, n),
                    }
                }
                unreachable!()
            })
        };
        let target = first + round as u64 % 3;
        until("acknowledged section writes", || {
            progress.lock().unwrap().is_some_and(|n| n >= target)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(kill_after)).await;
        server.kill();
        let (acked, in_flight) = writer.await.unwrap();

        let stored = common::open_store(data.path()).unwrap().sections().unwrap();
        let text = &stored
            .iter()
            .find(|s| s.slug.as_str() == "world")
            .unwrap()
            .text;
        let section = pressfeed::config::parse_section(path, text)
            .unwrap_or_else(|e| panic!("torn section after a kill: {e}\n{text}"));
        let last_acked = acked.unwrap_or(version);
        let on_disk = (0..=in_flight)
            .find(|&n| title(n) == section.title)
            .unwrap_or_else(|| panic!("the store holds a title never written: {text}"));
        assert!(
            on_disk == last_acked || on_disk == in_flight,
            "the store holds version {on_disk}; acknowledged {last_acked}, in flight {in_flight}"
        );
        version = on_disk;
        server = restart_serves_the_last_good_feeds(&http, feeds.path(), data.path()).await;
        let served = http.get(server.addr, "/feeds/world.json").await;
        assert!(
            std::str::from_utf8(&served.body)
                .unwrap()
                .contains(&title(version)),
            "the restarted server builds from the stored section"
        );
    }
}

#[test]
fn killed_during_a_file_import_keeps_whole_batches() {
    // `pressfeed import` commits a transaction per 1000 articles.
    const BATCH: i64 = 1000;
    let feeds = crash_site();
    let work = tempfile::tempdir().unwrap();
    let ndjson = work.path().join("articles.ndjson");
    let lines: Vec<String> = (0..10 * BATCH)
        .map(|i| {
            let mut doc = article(&format!("import-{i}"));
            doc["body_html"] = json!("<p>Short body.</p>");
            doc.to_string()
        })
        .collect();
    std::fs::write(&ndjson, lines.join("\n")).unwrap();

    for (round, kill_after) in KILL_AFTER_MS.into_iter().enumerate() {
        let data = tempfile::tempdir().unwrap();
        let mut import = Command::new(env!("CARGO_BIN_EXE_pressfeed"))
            .arg("--feeds")
            .arg(feeds.path())
            .args(common::store_args(data.path()))
            .arg("import")
            .arg(&ndjson)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Watched as another process would: kill once some batches are in.
        let target = round as i64 % 3 * BATCH;
        let mut watched = None;
        for _ in 0..6000 {
            watched = watched.or_else(|| common::open_store(data.path()).ok());
            let count = watched
                .as_ref()
                .map_or(0, |s| s.article_count().unwrap_or(0));
            if count >= target {
                break;
            }
            if let Some(status) = import.try_wait().unwrap() {
                panic!("round {round}: the import ended before the kill: {status}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        drop(watched);
        std::thread::sleep(Duration::from_millis(kill_after));
        import.kill().unwrap();
        import.wait().unwrap();

        let store = common::open_store(data.path()).expect("the store opens after a kill");
        let count = store.article_count().unwrap();
        // A kill loses the batch in flight, never part of one.
        assert_eq!(count % BATCH, 0, "round {round}: {count} articles");
        assert!(count >= target, "round {round}: {count} articles");
    }
}
