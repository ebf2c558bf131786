//! Publishing to a bucket (`[publish]`): a real `pressfeed serve` copies every feed file, its
//! `.gz` and `.br` with the headers it serves them with, to a local S3-compatible server
//! (moto's server mode, started here on 127.0.0.1); a change is copied, a deleted section's
//! files are deleted, and a server starting deletes what it does not serve. The objects are
//! read back through S3's API, signed, as a CDN would.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{HANG, Http, Process};
use http::{Method, StatusCode};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{Attribute, ObjectStore, ObjectStoreExt as _};

const TOKEN: &str = "bucket-test-token-0123456789abcdef";
const BUCKET: &str = "feeds-test";

/// A process started here, killed by its PID when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// moto's S3 server on a free port of 127.0.0.1, with the bucket made; `None` (after
/// `common::missing`) without moto. tests/run installs it in its venv and names it in
/// `PRESSFEED_MOTO_SERVER`.
async fn moto() -> Option<(Killed, String)> {
    let program = std::env::var("PRESSFEED_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    if Command::new(&program).arg("--help").output().is_err() {
        common::missing(
            "tests/bucket.rs",
            "moto_server is not installed",
            "pip install 'moto[server]' (bash tests/run installs it)",
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&program)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Killed(child);
    let endpoint = format!("http://127.0.0.1:{port}");
    let http = Http::new();
    let deadline = Instant::now() + HANG;
    // Making the bucket is the first request that works; moto takes a moment to start.
    loop {
        let made = http
            .exchange(
                Method::PUT,
                &format!("{endpoint}/{BUCKET}"),
                &[],
                Bytes::new(),
            )
            .await;
        if made.is_ok_and(|r| r.status == StatusCode::OK) {
            return Some((server, endpoint));
        }
        assert!(Instant::now() < deadline, "moto did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn bucket(endpoint: &str) -> Arc<dyn ObjectStore> {
    Arc::new(
        AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .build()
            .unwrap(),
    )
}

/// The object at `public/<file>`: its bytes and the headers it is stored with; `None`
/// while there is none.
async fn object(bucket: &dyn ObjectStore, file: &str) -> Option<(Bytes, Vec<(String, String)>)> {
    let got = bucket.get(&Key::from(format!("public/{file}"))).await;
    let got = match got {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return None,
        Err(e) => panic!("{file}: {e}"),
    };
    let mut headers: Vec<(String, String)> = (got.attributes.iter())
        .filter_map(|(attribute, value)| {
            let name = match attribute {
                Attribute::ContentType => "content-type",
                Attribute::ContentEncoding => "content-encoding",
                Attribute::CacheControl => "cache-control",
                _ => return None,
            };
            Some((name.to_owned(), value.to_string()))
        })
        .collect();
    headers.sort();
    Some((got.bytes().await.unwrap(), headers))
}

/// What pressfeed serves at `/feeds/<file>` in `coding`, as the bucket should hold it;
/// `None` before it is built.
async fn served(
    http: &Http,
    addr: SocketAddr,
    file: &str,
    coding: &str,
) -> Option<(Bytes, Vec<(String, String)>)> {
    let url = format!("http://{addr}/feeds/{file}");
    let reply = http
        .exchange(
            Method::GET,
            &url,
            &[("accept-encoding", coding)],
            Bytes::new(),
        )
        .await
        .unwrap();
    if reply.status != StatusCode::OK {
        return None;
    }
    let mut headers: Vec<(String, String)> = ["content-type", "content-encoding", "cache-control"]
        .into_iter()
        .filter_map(|name| {
            Some((
                name.to_owned(),
                reply.headers.get(name)?.to_str().ok()?.to_owned(),
            ))
        })
        .collect();
    headers.sort();
    Some((reply.body, headers))
}

/// Waits until every coding of `file` in the bucket is what the server serves.
async fn mirrored(http: &Http, bucket: &dyn ObjectStore, addr: SocketAddr, file: &str) {
    let deadline = Instant::now() + HANG;
    for (suffix, coding) in [("", "identity"), (".gz", "gzip"), (".br", "br")] {
        loop {
            let want = served(http, addr, file, coding).await;
            if want.is_some() && object(bucket, &format!("{file}{suffix}")).await == want {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{file}{suffix} not in the bucket as served"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn gone(bucket: &dyn ObjectStore, file: &str) {
    let deadline = Instant::now() + HANG;
    while object(bucket, file).await.is_some() {
        assert!(Instant::now() < deadline, "{file} still in the bucket");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_reaches_the_bucket_with_its_headers() {
    let Some((_moto, endpoint)) = moto().await else {
        return;
    };
    let bucket = bucket(&endpoint);
    let feeds = common::site(&[("world", ""), ("sports", "")]);
    let site = feeds.path().join("site.toml");
    let text = std::fs::read_to_string(&site).unwrap();
    std::fs::write(
        &site,
        format!(
            "{text}\n[publish]\ntarget = \"s3://{BUCKET}/public/\"\nendpoint = \"{endpoint}\"\n"
        ),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let http = Http::new();

    // Something the server does not serve: the sync at its start deletes it.
    bucket
        .put(
            &Key::from("public/stray.rss"),
            Bytes::from_static(b"old").into(),
        )
        .await
        .unwrap();
    let server = Process::serve(
        feeds.path(),
        data.path(),
        TOKEN,
        &[
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("RUST_LOG", "pressfeed=warn"),
        ],
    );
    let addr = server.addr;
    for file in [
        "world.rss",
        "world.atom",
        "world.json",
        "sports.rss",
        "index.opml",
    ] {
        mirrored(&http, &*bucket, addr, file).await;
    }
    gone(&*bucket, "stray.rss").await;

    // A new article: world's files change in the bucket.
    let article = common::article_json("fresh", &["world"], "2024-05-01T10:00:00Z");
    let auth = format!("Bearer {TOKEN}");
    let posted = http
        .exchange(
            Method::POST,
            &format!("http://{addr}/admin/api/articles"),
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            Bytes::from(article.to_string()),
        )
        .await
        .unwrap();
    assert_eq!(posted.status, StatusCode::OK);
    let deadline = Instant::now() + HANG;
    while !object(&*bucket, "world.rss")
        .await
        .is_some_and(|(bytes, _)| String::from_utf8_lossy(&bytes).contains("Title of fresh"))
    {
        assert!(
            Instant::now() < deadline,
            "the new article never reached the bucket"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    mirrored(&http, &*bucket, addr, "world.rss").await;

    // A deleted section: its files leave the bucket.
    let deleted = http
        .exchange(
            Method::DELETE,
            &format!("http://{addr}/admin/api/sections/sports"),
            &[("authorization", &auth)],
            Bytes::new(),
        )
        .await
        .unwrap();
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
    for file in [
        "sports.rss",
        "sports.rss.gz",
        "sports.rss.br",
        "sports.atom",
        "sports.json",
    ] {
        gone(&*bucket, file).await;
    }
    mirrored(&http, &*bucket, addr, "index.opml").await;
    drop(server);
}
