//! The nginx configurations of `deploy/` in front of real pressfeed servers:
//! `deploy/nginx.conf` (one pressfeed) caches and passes ETags through, so a conditional
//! GET gets a 304 with pressfeed's ETag; `deploy/compose/nginx.conf` (replicas) keeps
//! answering 200 with one of its two upstreams stopped.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::Server;
use http::response::Parts;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tempfile::TempDir;

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

/// A file of `deploy/`, with its ports and paths moved to 127.0.0.1 and `dir`.
/// `upstreams` replaces the configuration's upstream servers, in order: `127.0.0.1:8080`
/// in nginx.conf, the compose service names in compose/nginx.conf.
fn render(file: &str, dir: &Path, listen: u16, upstreams: &[(&str, u16)]) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("deploy")
            .join(file),
    )
    .unwrap();
    let dir = dir.display().to_string();
    let mut rendered = text
        .replace("listen 80;", &format!("listen 127.0.0.1:{listen};"))
        // The container's user, and the stdout of `docker logs`.
        .replace("user nginx;\n", "")
        .replace(
            "access_log /dev/stdout;",
            &format!("access_log {dir}/access.log;"),
        )
        .replace("/var/cache/nginx/", &format!("{dir}/cache/"))
        .replace("/var/log/nginx/", &format!("{dir}/"))
        .replace("/run/", &format!("{dir}/"));
    for (server, port) in upstreams {
        assert!(rendered.contains(server), "{file} has no {server}");
        // `resolve` needs nginx 1.27.3, newer than Debian's; 127.0.0.1 needs no resolving.
        rendered = rendered
            .replace(&format!("{server} resolve"), server)
            .replace(server, &format!("server 127.0.0.1:{port}"));
    }
    assert!(!rendered.contains("/var/") && !rendered.contains("/run/"));
    assert!(!rendered.contains("/dev/"));
    rendered
}

/// nginx in the foreground, one process (so it never switches to an unprivileged user
/// that could not write the temp dir); killed by its PID when dropped.
struct Nginx {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    /// Renders `deploy/<file>` and the `nginx-server.conf` it includes into a temp dir,
    /// checks it with `nginx -t`, and starts it.
    fn start(file: &str, upstreams: &[(&str, u16)]) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        // nginx makes the last level of its cache and temp paths, not their parent.
        std::fs::create_dir(dir.path().join("cache")).unwrap();
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, render(file, dir.path(), port, upstreams)).unwrap();
        // Included relative to the main file's directory, as beside it in deploy/.
        std::fs::write(
            dir.path().join("nginx-server.conf"),
            render("nginx-server.conf", dir.path(), port, &[]),
        )
        .unwrap();
        let prefix = format!("{}/", dir.path().display());

        let check = Command::new("nginx")
            .args(["-e", "stderr", "-p", &prefix, "-t", "-c"])
            .arg(&conf)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "nginx -t on {file}: {}",
            String::from_utf8_lossy(&check.stderr)
        );

        let child = Command::new("nginx")
            .args(["-e", "stderr", "-p", &prefix, "-c"])
            .arg(&conf)
            .args(["-g", "daemon off; master_process off;"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        Nginx {
            child,
            port,
            _dir: dir,
        }
    }

    /// GET `path` through nginx, with `headers`.
    async fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<(Parts, Bytes), hyper_util::client::legacy::Error> {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut req = Request::get(format!("http://127.0.0.1:{}{path}", self.port));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = client.request(req.body(Full::default()).unwrap()).await?;
        let (parts, body) = res.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Ok((parts, body))
    }

    /// The first answer to a GET of `path`, once nginx listens.
    async fn first_get(&self, path: &str) -> (Parts, Bytes) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.get(path, &[]).await {
                Ok(reply) => return reply,
                Err(e) => assert!(Instant::now() < deadline, "nginx did not start: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
    let nginx = Nginx::start(
        "nginx.conf",
        &[("server 127.0.0.1:8080", server.addr.port())],
    );

    let (first, body) = nginx.first_get("/feeds/world.rss").await;
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

    let (again, body) = nginx
        .get("/feeds/world.rss", &[("if-none-match", &etag)])
        .await
        .unwrap();
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(again.headers["etag"].to_str().unwrap(), etag);
    // Answered from nginx's cache: pressfeed saw only the first request.
    assert_eq!(again.headers["x-cache-status"].to_str().unwrap(), "HIT");
}

#[tokio::test]
async fn compose_nginx_retries_the_other_replica() {
    if !nginx_available() {
        return;
    }
    let one = Server::one_article().await;
    let two = Server::one_article().await;
    let nginx = Nginx::start(
        "compose/nginx.conf",
        &[
            ("server pressfeed-1:8080", one.addr.port()),
            ("server pressfeed-2:8080", two.addr.port()),
        ],
    );
    let (first, _) = nginx.first_get("/readyz").await;
    assert_eq!(first.status, StatusCode::OK);

    // A replica gone: its port refuses connections, as a stopping pressfeed's does.
    one.stop().await;
    // Round robin soon sends a request to the stopped replica; nginx retries it on the
    // other and leaves the stopped one out for a while (`fail_timeout`). A new query
    // string each time misses the cache, so every feed request reaches an upstream
    // rather than nginx's cached copy.
    for n in 0..10 {
        let (feed, body) = nginx
            .get(&format!("/feeds/world.rss?n={n}"), &[])
            .await
            .unwrap();
        assert_eq!(feed.status, StatusCode::OK, "feed request {n}");
        assert_eq!(feed.headers["x-cache-status"].to_str().unwrap(), "MISS");
        assert_eq!(body, two.get("/feeds/world.rss").await.body);
        let (ready, _) = nginx.get("/readyz", &[]).await.unwrap();
        assert_eq!(ready.status, StatusCode::OK, "readyz request {n}");
    }
}
