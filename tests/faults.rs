//! Faults of the disk, or of the database server, under a running server: it keeps
//! serving the last good feeds, `/readyz` says degraded and why, admin writes answer 503
//! with a JSON error naming the problem (never a path on the server), and all of it
//! recovers by itself when the fault ends.
//!
//! A full disk is real: the site and the store live on a tiny tmpfs that the test fills
//! (needs root, as in CI). An unreadable store is injected (`Store::simulate_io_error`):
//! under an open SQLite connection neither `chmod`, `chattr +i` nor a read-only remount
//! (refused while files are open for writing) takes effect, even for root. A PostgreSQL
//! outage is real: the test starts a cluster of its own, stops it and starts it again.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Options, Reply, SITE, Server, section};

const TOKEN: &str = "fault-token-0123456789abcdef";
const BEARER: &str = "Bearer fault-token-0123456789abcdef";

fn admin() -> Options {
    Options::admin(TOKEN)
}

/// `count` articles of about 8 KB each in `world`, newest last.
fn batch(prefix: &str, count: usize) -> Value {
    let articles: Vec<Value> = (0..count)
        .map(|i| {
            json!({
                "id": format!("{prefix}-{i}"),
                "url": format!("https://news.example/{prefix}-{i}/"),
                "title": format!("Title of {prefix}-{i}"),
                "sections": ["world"],
                "published_at": format!("2024-05-01T10:{:02}:{:02}Z", i / 60 % 60, i % 60),
                "body_html": format!("<p>{}</p>", "A paragraph of a long report. ".repeat(270)),
            })
        })
        .collect();
    json!(articles)
}

async fn post(server: &Server, body: &Value) -> Reply {
    server
        .send(
            Method::POST,
            "/admin/api/articles",
            &[
                ("authorization", BEARER),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await
}

async fn put_section(server: &Server, title: &str) -> Reply {
    let body =
        json!({"title": title, "link": "https://news.example/world/", "schedule": "0 0 0 1 1 *"});
    server
        .send(
            Method::PUT,
            "/admin/api/sections/world",
            &[
                ("authorization", BEARER),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await
}

/// The JSON error of a 503: its code and message, and a Retry-After.
fn unavailable(reply: &Reply) -> (String, String) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text()
    );
    assert_eq!(reply.header("content-type"), "application/json");
    assert!(reply.header("retry-after").parse::<u32>().is_ok());
    let error: Value = serde_json::from_slice(&reply.body).unwrap();
    let text = |key: &str| error["error"][key].as_str().unwrap().to_owned();
    (text("code"), text("message"))
}

/// Checks that `text`, sent to a client, names no place on the server: neither `dir` nor
/// anything in it. The error behind a fault often does; the log keeps it.
fn assert_no_path(text: &str, dir: &Path) {
    let dir = dir.to_str().unwrap();
    assert!(!text.contains(dir), "{dir} in {text:?}");
}

/// Posts `count` articles before any fault, waits until the feed shows them, and returns
/// `path` as served then: the last good bytes a fault must leave served.
async fn publish_first(server: &Server, count: usize, path: &str) -> Reply {
    assert_eq!(
        post(server, &batch("before", count)).await.status,
        StatusCode::OK
    );
    let last = format!("before-{}", count - 1);
    server
        .wait_until("the first articles in the feed", |s| {
            let last = last.clone();
            async move { s.get("/feeds/world.json").await.text().contains(&last) }
        })
        .await;
    server.get(path).await
}

/// Waits until `/readyz` answers `status` with a body containing `says`.
async fn readyz_until(server: &Server, status: StatusCode, says: &str) {
    server
        .wait_until(
            &format!("/readyz {status} saying {says:?}"),
            |s| async move {
                let reply = s.get("/readyz").await;
                reply.status == status && reply.text().contains(says)
            },
        )
        .await;
}

/// A tmpfs mounted on a temp dir, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` where mounting is not allowed (not root) and `common::missing` allows the
    /// test to skip; without that allowance the test fails.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|out| out.status.success());
        if mounted {
            return Some(Tmpfs { dir });
        }
        common::missing(
            "tests/faults.rs (the full-disk test)",
            "cannot mount a tmpfs here",
            "run the tests as root, as tests/run does",
        );
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system to the last byte; returns the filler to remove.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 << 10];
        while file.write_all(&chunk).is_ok() {}
        let mut byte = [0u8; 1];
        while file.write_all(&byte).is_ok() {
            byte[0] = 1;
        }
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: the server's threads may still hold files open for a moment.
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

#[tokio::test]
async fn a_full_disk_keeps_feeds_served_and_writes_refused_until_space_returns() {
    let Some(disk) = Tmpfs::mount("32m") else {
        return;
    };
    // Site and store on the one small disk, as on a small server.
    let feeds = tempfile::tempdir_in(disk.path()).unwrap();
    std::fs::write(feeds.path().join("site.toml"), SITE).unwrap();
    std::fs::create_dir(feeds.path().join("sections")).unwrap();
    let section_file = feeds.path().join("sections/world.toml");
    std::fs::write(&section_file, section("world", "")).unwrap();
    let data = disk.path().join("data");
    let server = Server::start_on_with(feeds, &data, admin()).await;
    let good = publish_first(&server, 3, "/feeds/world.rss").await;

    let filler = disk.fill();
    // More than the space SQLite's write-ahead log already holds.
    let (code, message) = unavailable(&post(&server, &batch("during", 300)).await);
    assert_eq!(code, "storage_unavailable");
    assert!(
        message.contains("the disk holding the store is full"),
        "{message}"
    );
    assert!(message.contains("nothing was changed"), "{message}");
    assert_no_path(&message, disk.path());
    let stored = |server: &Server| server.store().sections().unwrap();
    let section_before = stored(&server);
    let (code, message) = unavailable(&put_section(&server, "World in a full disk").await);
    assert_eq!(code, "storage_unavailable");
    assert!(
        message.contains("the disk holding the store is full"),
        "{message}"
    );
    assert_no_path(&message, disk.path());
    assert_eq!(stored(&server), section_before);
    assert_eq!(
        std::fs::read_to_string(&section_file).unwrap(),
        section("world", ""),
        "no file is written"
    );

    readyz_until(
        &server,
        StatusCode::SERVICE_UNAVAILABLE,
        "degraded: the disk holding the store is full",
    )
    .await;
    assert_no_path(server.get("/readyz").await.text(), disk.path());
    assert_eq!(server.get("/healthz").await.status, StatusCode::OK);
    let served = server.get("/feeds/world.rss").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("etag"), good.header("etag"));
    assert_eq!(served.body, good.body);
    let gzip = server
        .request(
            Method::GET,
            "/feeds/world.rss",
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(gzip.status, StatusCode::OK);

    std::fs::remove_file(filler).unwrap();
    readyz_until(&server, StatusCode::OK, "ready").await;
    assert_eq!(
        post(&server, &batch("after", 20)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        put_section(&server, "World after the fault").await.status,
        StatusCode::OK
    );
    server
        .wait_until("the feed rebuilt after the fault", |s| async move {
            let feed = s.get("/feeds/world.json").await;
            feed.text().contains("after-19") && feed.text().contains("World after the fault")
        })
        .await;
    assert_ne!(
        server.get("/feeds/world.rss").await.header("etag"),
        good.header("etag")
    );
    server.stop().await;
}

#[tokio::test]
async fn an_unreadable_store_keeps_feeds_served_and_writes_refused_until_it_reads_again() {
    let feeds = common::site(&[("world", "")]);
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_on_with(feeds, data.path(), admin()).await;
    let good = publish_first(&server, 2, "/feeds/world.atom").await;

    server.served_store.simulate_io_error(true);
    readyz_until(&server, StatusCode::SERVICE_UNAVAILABLE, "I/O error").await;
    let (code, message) = unavailable(&post(&server, &batch("during", 1)).await);
    assert_eq!(code, "storage_unavailable");
    assert!(
        message.contains("the article store is unavailable"),
        "{message}"
    );
    assert!(message.contains("I/O error"), "{message}");
    // The fault in words; the error behind it is the log's.
    let readyz = server.get("/readyz").await;
    for told in [&message, readyz.text()] {
        assert!(!told.contains("simulated"), "{told}");
        assert_no_path(told, data.path());
    }
    let read = server
        .request(
            Method::GET,
            "/admin/api/articles/before-1",
            &[("authorization", BEARER)],
        )
        .await;
    assert_eq!(unavailable(&read).0, "storage_unavailable");
    // A section edit is refused like every write; the last good bytes stay served.
    let (code, _) = unavailable(&put_section(&server, "World while the store fails").await);
    assert_eq!(code, "storage_unavailable");
    let served = server.get("/feeds/world.atom").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("etag"), good.header("etag"));
    assert_eq!(served.body, good.body);

    server.served_store.simulate_io_error(false);
    readyz_until(&server, StatusCode::OK, "ready").await;
    assert_eq!(
        post(&server, &batch("after", 1)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        put_section(&server, "World after the store failed")
            .await
            .status,
        StatusCode::OK
    );
    server
        .wait_until("the feed rebuilt after the fault", |s| async move {
            let feed = s.get("/feeds/world.json").await;
            feed.text().contains("after-0") && feed.text().contains("World after the store failed")
        })
        .await;
    server.stop().await;
}

/// A throwaway PostgreSQL cluster of the test's own (tests/postgres/start.sh), so the test
/// may stop and start it; stopped when dropped.
struct Cluster {
    state: tempfile::TempDir,
}

impl Cluster {
    /// `None` where there is no PostgreSQL or no root and `common::missing` allows the
    /// test to skip; without that allowance the test fails.
    fn start() -> Option<Cluster> {
        let cluster = Cluster {
            state: tempfile::tempdir().unwrap(),
        };
        if cluster.run("start.sh") {
            return Some(cluster);
        }
        common::missing(
            "tests/faults.rs (the PostgreSQL outage test)",
            "cannot start a PostgreSQL cluster here (tests/postgres/start.sh failed)",
            "apt-get install postgresql and run the tests as root, as tests/run does",
        );
        None
    }

    fn url(&self) -> String {
        std::fs::read_to_string(self.state.path().join("url"))
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Runs `tests/postgres/<script>` on this cluster; true if it succeeded.
    fn run(&self, script: &str) -> bool {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/postgres")
            .join(script);
        Command::new("bash")
            .arg(script)
            .arg(self.state.path())
            .status()
            .is_ok_and(|status| status.success())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.run("stop.sh");
    }
}

#[tokio::test]
async fn a_postgresql_outage_keeps_feeds_served_and_writes_refused_until_it_is_back() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join(common::POSTGRES_URL_FILE), cluster.url()).unwrap();
    let server = Server::start_on_with(common::site(&[("world", "")]), data.path(), admin()).await;
    let good = publish_first(&server, 2, "/feeds/world.atom").await;

    assert!(cluster.run("stop.sh"), "the cluster stops");
    readyz_until(
        &server,
        StatusCode::SERVICE_UNAVAILABLE,
        "cannot be reached",
    )
    .await;
    let (code, message) = unavailable(&post(&server, &batch("during", 1)).await);
    assert_eq!(code, "storage_unavailable");
    assert!(message.contains("cannot be reached"), "{message}");
    let served = server.get("/feeds/world.atom").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header("etag"), good.header("etag"));
    assert_eq!(served.body, good.body);

    assert!(cluster.run("start.sh"), "the cluster starts again");
    readyz_until(&server, StatusCode::OK, "ready").await;
    assert_eq!(
        post(&server, &batch("after", 1)).await.status,
        StatusCode::OK
    );
    server
        .wait_until("the feed rebuilt after the outage", |s| async move {
            s.get("/feeds/world.json").await.text().contains("after-0")
        })
        .await;
}
