//! `deploy/nginx.conf` in front of a real pressfeed: the configuration is valid, and a
//! conditional GET through the cache gets a 304 with pressfeed's ETag.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::Server;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Is nginx here? Without it the test fails, or skips where that is allowed
/// (`common::missing`).
fn nginx_available() -> bool {
    if Command::new("nginx").arg("-v").output().is_ok() {
        return true;
    }
    common::missing(
        "tests/deploy.rs",
        "nginx is not installed, so deploy/nginx.conf is untested",
        "apt-get install nginx-light; bash tests/run installs it",
    );
    false
}

/// The example configuration with its ports and paths moved to 127.0.0.1 and `dir`.
fn render(dir: &Path, listen: u16, upstream: u16) -> String {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf"))
            .unwrap();
    let dir = dir.display().to_string();
    let rendered = text
        .replace("listen 80;", &format!("listen 127.0.0.1:{listen};"))
        .replace(
            "server 127.0.0.1:8080;",
            &format!("server 127.0.0.1:{upstream};"),
        )
        .replace("/var/cache/nginx/", &format!("{dir}/cache/"))
        .replace("/var/log/nginx/", &format!("{dir}/"))
        .replace("/run/", &format!("{dir}/"));
    assert!(!rendered.contains("/var/") && !rendered.contains("/run/"));
    rendered
}

/// nginx in the foreground, one process (so it never switches to an unprivileged user
/// that could not write the temp dir); killed by its PID when dropped.
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn nginx_caches_and_passes_etags_through() {
    if !nginx_available() {
        return;
    }
    let server = Server::one_article().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // nginx makes the last level of its cache and temp paths, not their parent.
    std::fs::create_dir(dir.path().join("cache")).unwrap();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, render(dir.path(), port, server.addr.port())).unwrap();
    let prefix = format!("{}/", dir.path().display());

    let check = Command::new("nginx")
        .args(["-e", "stderr", "-p", &prefix, "-t", "-c"])
        .arg(&conf)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&check.stderr)
    );

    let _nginx = Nginx(
        Command::new("nginx")
            .args(["-e", "stderr", "-p", &prefix, "-c"])
            .arg(&conf)
            .args(["-g", "daemon off; master_process off;"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let get = |headers: Vec<(&'static str, String)>| {
        let client = client.clone();
        async move {
            let mut req = Request::get(format!("http://127.0.0.1:{port}/feeds/world.rss"));
            for (name, value) in headers {
                req = req.header(name, value);
            }
            let res = client.request(req.body(Full::default()).unwrap()).await?;
            let (parts, body) = res.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            Ok::<_, hyper_util::client::legacy::Error>((parts, body))
        }
    };

    let deadline = Instant::now() + Duration::from_secs(10);
    let (first, body) = loop {
        match get(vec![]).await {
            Ok(reply) => break reply,
            Err(e) => assert!(Instant::now() < deadline, "nginx did not start: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(first.status, StatusCode::OK);
    let direct = server.get("/feeds/world.rss").await;
    assert_eq!(body, direct.body, "nginx serves pressfeed's bytes");
    let etag = first.headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, direct.header("etag"), "the ETag passes through");
    assert!(
        first.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );

    let (again, body) = get(vec![("if-none-match", etag.clone())]).await.unwrap();
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(again.headers["etag"].to_str().unwrap(), etag);
    // Answered from nginx's cache: pressfeed saw only the first request.
    assert_eq!(again.headers["x-cache-status"].to_str().unwrap(), "HIT");
}
