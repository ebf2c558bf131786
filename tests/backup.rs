//! `pressfeed backup` and `restore`, run as an operator runs them: a backup taken by the
//! binary while a server takes a stream of writes through the admin API, a restore refused
//! while a server has the store open, a restore into a fresh data directory, and a server
//! on it that has every write acknowledged before the backup began and serves the feeds
//! nobody wrote since with the same validators.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{Options, Server, TEST_STORE, article, article_json, site};
use http::{Method, StatusCode};

const TOKEN: &str = "backup-test-token";

fn pressfeed(feeds: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pressfeed"))
        .arg("--feeds")
        .arg(feeds)
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("PRESSFEED_STORE")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The validators of every feed of `section`.
async fn validators(server: &Server, section: &str) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for ext in ["rss", "atom", "json"] {
        let reply = server.get(&format!("/feeds/{section}.{ext}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        all.push((
            reply.header("etag").to_owned(),
            reply.header("last-modified").to_owned(),
        ));
    }
    all
}

async fn put_article(server: &Server, id: &str, section: &str) -> StatusCode {
    let body = article_json(id, &[section], "2024-03-01T10:00:00Z").to_string();
    let bearer = format!("Bearer {TOKEN}");
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let path = format!("/admin/api/articles/{id}");
    server.send(Method::PUT, &path, &headers, body).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_writes_restores_every_write_acknowledged_before_it() {
    if std::env::var(TEST_STORE).as_deref() == Ok("postgres") {
        // PostgreSQL is backed up with pg_dump (docs/operations.md); `backup` says so,
        // which tests/cli.rs pins.
        return;
    }
    let sections = [("quiet", ""), ("busy", "")];
    let quiet: Vec<_> = (0..3)
        .map(|i| {
            let at = format!("2024-01-0{}T10:00:00Z", i + 1);
            article(&format!("q{i}"), &["quiet"], &at, Default::default())
        })
        .collect();
    let admin = Options::admin(&format!("ops:{TOKEN}"));
    let server = Arc::new(Server::start_with(site(&sections), &quiet, admin.clone()).await);
    let quiet_before = validators(&server, "quiet").await;

    // A stream of writes to `busy`, counted as each is acknowledged.
    let acked = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (server, acked, stop) = (server.clone(), acked.clone(), stop.clone());
        tokio::spawn(async move {
            for i in 0..5_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let status = put_article(&server, &format!("b{i}"), "busy").await;
                assert!(status.is_success(), "write b{i}: {status}");
                acked.store(i + 1, Ordering::Release);
            }
        })
    };
    server
        .wait_until("writes under way", |_| async {
            acked.load(Ordering::Acquire) >= 20
        })
        .await;

    let backup_dir = tempfile::tempdir().unwrap();
    let backup = backup_dir.path().join("pressfeed-backup.sqlite3");
    let acked_before = acked.load(Ordering::Acquire);
    let taken = {
        let (feeds, data, backup) = (
            server.feeds.path().to_owned(),
            server.data.clone(),
            backup.clone(),
        );
        tokio::task::spawn_blocking(move || {
            pressfeed(&feeds, &data, &["backup", backup.to_str().unwrap()])
        })
        .await
        .unwrap()
    };
    let acked_during = acked.load(Ordering::Acquire);
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(taken.status.success(), "{}", stderr(&taken));
    assert!(
        acked_during > acked_before,
        "the writes went on during the backup ({acked_before} before, {acked_during} after)"
    );

    // Into the data directory of the running server: refused, and nothing changes.
    let refused = pressfeed(
        server.feeds.path(),
        &server.data,
        &["restore", backup.to_str().unwrap()],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("open in a pressfeed process"),
        "{}",
        stderr(&refused)
    );
    let written = acked.load(Ordering::Acquire);
    assert_eq!(
        server.served_store.article_count().unwrap(),
        (quiet.len() + written) as i64
    );

    // Into a fresh data directory, and a server on it.
    let fresh = tempfile::tempdir().unwrap();
    let feeds = site(&sections);
    let restored = pressfeed(
        feeds.path(),
        fresh.path(),
        &["restore", backup.to_str().unwrap()],
    );
    assert!(restored.status.success(), "{}", stderr(&restored));
    let restored = Server::start_on_with(feeds, fresh.path(), admin).await;
    for i in 0..acked_before {
        let path = format!("/admin/api/articles/b{i}");
        let bearer = format!("Bearer {TOKEN}");
        let reply = restored
            .request(Method::GET, &path, &[("authorization", &bearer)])
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "b{i}, acknowledged before the backup began"
        );
    }
    assert_eq!(validators(&restored, "quiet").await, quiet_before);
    restored.stop().await;
}

#[test]
fn a_file_that_is_no_readable_store_is_refused_and_the_store_stays() {
    let feeds = site(&[("world", "")]);
    let data = tempfile::tempdir().unwrap();
    let made = pressfeed(feeds.path(), data.path(), &["sections", "list"]);
    assert!(made.status.success(), "{}", stderr(&made));
    let store = data.path().join(pressfeed::store::FILE_NAME);
    let before = std::fs::read(&store).unwrap();

    let files = tempfile::tempdir().unwrap();
    let junk = files.path().join("junk.sqlite3");
    std::fs::write(
        &junk,
        b"not a database at all, but long enough to look like one?",
    )
    .unwrap();
    let newer = files.path().join("newer.sqlite3");
    let backed = pressfeed(
        feeds.path(),
        data.path(),
        &["backup", newer.to_str().unwrap()],
    );
    assert!(backed.status.success(), "{}", stderr(&backed));
    let conn = rusqlite::Connection::open(&newer).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let empty = files.path().join("empty.sqlite3");
    rusqlite::Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); PRAGMA user_version = 3;")
        .unwrap();

    for (file, says) in [
        (&junk, "is not a pressfeed store"),
        (
            &newer,
            "schema version 999, newer than this pressfeed reads",
        ),
        (&empty, "has no `articles` table"),
    ] {
        let output = pressfeed(
            feeds.path(),
            data.path(),
            &["restore", file.to_str().unwrap()],
        );
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        assert!(stderr(&output).contains(says), "{}", stderr(&output));
        assert!(stderr(&output).contains("the store was not replaced"));
    }
    assert_eq!(std::fs::read(&store).unwrap(), before);

    // A PostgreSQL store is pointed at its own tools, before anything is connected to.
    for command in ["backup", "restore"] {
        let output = Command::new(env!("CARGO_BIN_EXE_pressfeed"))
            .arg("--feeds")
            .arg(feeds.path())
            .args(["--store", "postgres://feeds@db.invalid/news", command, "x"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr(&output).contains("pg_dump and pg_restore"),
            "{}",
            stderr(&output)
        );
    }
}
