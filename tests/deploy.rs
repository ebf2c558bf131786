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

/// Behind deploy/nginx.conf, twenty real-world wordings of Accept-Encoding (and browsers'
/// and readers' Accept) cost one miss per variant pressfeed keeps, not one per wording, and
/// each gets a coding it asked for and the content type pressfeed gives it directly.
#[tokio::test]
async fn nginx_caches_one_entry_per_coding_whatever_the_wording() {
    if !nginx_available() {
        return;
    }
    const CHROME: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                          image/webp,image/apng,*/*;q=0.8";
    const FIREFOX: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const READER: &str = "application/rss+xml, application/rdf+xml;q=0.8, \
                          application/atom+xml;q=0.6, application/xml;q=0.4, text/xml;q=0.4";
    // (Accept-Encoding, Accept, the coding nginx must answer with); `None` sends no header.
    let cases: [(Option<&str>, Option<&str>, &str); 20] = [
        (Some("gzip, deflate, br, zstd"), Some(CHROME), "br"),
        (Some("gzip, deflate, br"), Some(FIREFOX), "br"),
        (Some("br, gzip"), Some(CHROME), "br"),
        (Some("gzip, deflate"), Some("*/*"), "gzip"),
        (Some("gzip"), None, "gzip"),
        (Some("deflate, gzip"), Some("*/*"), "gzip"),
        (Some("x-gzip, gzip, deflate"), Some(READER), "gzip"),
        (
            Some("gzip;q=1.0, identity;q=0.5, *;q=0"),
            Some(READER),
            "gzip",
        ),
        (Some("identity"), Some("*/*"), "identity"),
        (None, None, "identity"),
        (Some("br;q=1.0, gzip;q=0.8, *;q=0.1"), Some(READER), "br"),
        (Some("*"), Some("*/*"), "br"),
        (Some("GZIP,DEFLATE"), None, "gzip"),
        (Some("deflate"), Some(READER), "identity"),
        (Some("gzip;q=0, br"), Some("*/*"), "br"),
        (Some("br;q=0, gzip"), Some(READER), "gzip"),
        (Some("compress, gzip"), None, "gzip"),
        (Some("gzip, deflate, sdch"), Some(CHROME), "gzip"),
        (Some("zstd, br, gzip"), Some(READER), "br"),
        (Some("identity;q=1, *;q=0"), None, "identity"),
    ];
    let server = Server::one_article().await;
    let nginx = Nginx::start(
        "nginx.conf",
        &[("server 127.0.0.1:8080", server.addr.port())],
    );
    nginx.first_get("/healthz").await;
    let mut misses = std::collections::BTreeMap::<(String, String), usize>::new();
    for (encoding, accept, coding) in cases {
        let headers: Vec<(&str, &str)> = [("accept-encoding", encoding), ("accept", accept)]
            .into_iter()
            .filter_map(|(name, value)| Some((name, value?)))
            .collect();
        let (reply, body) = nginx.get("/feeds/world.rss", &headers).await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{headers:?}");
        let header = |name: &str| {
            (reply.headers.get(name)).map_or(String::new(), |v| v.to_str().unwrap().to_owned())
        };
        let sent = match header("content-encoding").as_str() {
            "" => "identity".to_owned(),
            other => other.to_owned(),
        };
        assert_eq!(sent, coding, "{headers:?}");
        let direct = server
            .request(http::Method::GET, "/feeds/world.rss", &headers)
            .await;
        assert_eq!(
            header("content-type"),
            direct.header("content-type"),
            "{headers:?}"
        );
        if sent == "identity" {
            assert_eq!(body, server.get("/feeds/world.rss").await.body);
        }
        if header("x-cache-status") == "MISS" {
            *misses.entry((sent, header("content-type"))).or_default() += 1;
        }
    }
    assert!(misses.values().all(|&n| n == 1), "{misses:?}");
}

/// The kit's systemd unit and Kubernetes manifests pass validators that run offline:
/// `systemd-analyze verify` (any complaint fails, as it exits 0 on unknown keys) and
/// kubernetes-validate, strict (a field the API does not have is an error), against the
/// schemas bundled in it. tests/run installs kubernetes-validate into its venv and names it
/// in `PRESSFEED_KUBERNETES_VALIDATE`.
#[test]
fn the_unit_and_the_manifests_pass_offline_validators() {
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let validator = std::env::var("PRESSFEED_KUBERNETES_VALIDATE")
        .unwrap_or_else(|_| "kubernetes-validate".to_owned());
    let have = |program: &str| Command::new(program).arg("--help").output().is_ok();
    if !have("systemd-analyze") || !have(&validator) {
        common::missing(
            "tests/deploy.rs",
            "systemd-analyze or kubernetes-validate is not installed",
            "apt-get install systemd; pip install kubernetes-validate (bash tests/run does both)",
        );
        return;
    }

    // The binary the unit starts must exist for `verify`: this build's stands in for it.
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(deploy.join("pressfeed.service"))
        .unwrap()
        .replace("/usr/local/bin/pressfeed", env!("CARGO_BIN_EXE_pressfeed"));
    let unit_file = dir.path().join("pressfeed.service");
    std::fs::write(&unit_file, unit).unwrap();
    let verified = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&unit_file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verified.stderr);
    assert!(
        verified.status.success() && said.trim().is_empty(),
        "systemd-analyze verify deploy/pressfeed.service: {said}"
    );

    let mut manifests = Vec::new();
    for kit in ["k8s", "k8s-replicas"] {
        for entry in std::fs::read_dir(deploy.join(kit)).unwrap() {
            manifests.push(entry.unwrap().path());
        }
    }
    assert!(manifests.len() >= 7, "{manifests:?}");
    let validated = Command::new(&validator)
        .args(["--strict", "--quiet"])
        .args(&manifests)
        .output()
        .unwrap();
    assert!(
        validated.status.success(),
        "kubernetes-validate --strict: {}{}",
        String::from_utf8_lossy(&validated.stdout),
        String::from_utf8_lossy(&validated.stderr)
    );
}

/// What deploy/Dockerfile's final stage says the container runs: its `ENV`, `ENTRYPOINT`
/// and `CMD`, and its `HEALTHCHECK`'s command. Read from the file, so the test below runs
/// what the image would.
struct Image {
    env: Vec<(String, String)>,
    command: Vec<String>,
    healthcheck: Vec<String>,
}

impl Image {
    fn read() -> Image {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/Dockerfile"),
        )
        .unwrap();
        // Instructions, their continuation lines joined; the final stage's only.
        let joined = text.replace("\\\n", " ");
        let stage = joined.rsplit_once("\nFROM ").unwrap().1;
        let exec_form = |args: &str| -> Vec<String> { serde_json::from_str(args.trim()).unwrap() };
        let mut image = Image {
            env: Vec::new(),
            command: Vec::new(),
            healthcheck: Vec::new(),
        };
        let mut cmd = Vec::new();
        for line in stage.lines().map(str::trim) {
            if let Some(pairs) = line.strip_prefix("ENV ") {
                for pair in pairs.split_whitespace() {
                    let (name, value) = pair.split_once('=').unwrap();
                    image.env.push((name.to_owned(), value.to_owned()));
                }
            } else if let Some(args) = line.strip_prefix("ENTRYPOINT ") {
                image.command = exec_form(args);
            } else if let Some(args) = line.strip_prefix("CMD ") {
                cmd = exec_form(args);
            } else if let Some(rest) = line.strip_prefix("HEALTHCHECK ") {
                image.healthcheck = exec_form(rest.split_once(" CMD ").unwrap().1);
            }
        }
        image.command.extend(cmd);
        assert!(!image.command.is_empty() && !image.healthcheck.is_empty());
        image
    }
}

/// The image's entrypoint and arguments, environment and user (uid 10001, when the test
/// may switch to it), with its paths on this machine: the site at a read-only copy of the
/// demo `feeds/`, the store in an empty directory that user owns. It gets healthy by the
/// image's own HEALTHCHECK command and serves the demo feeds; nothing is written to the
/// site. (The image itself is not built here: its base images come from a registry this
/// machine does not reach.)
#[tokio::test]
async fn the_image_entrypoint_serves_with_a_read_only_site() {
    use std::os::unix::fs::PermissionsExt as _;
    let image = Image::read();
    let root = tempfile::tempdir().unwrap();
    let feeds = root.path().join("etc-pressfeed-feeds");
    let data = root.path().join("data");
    copy_read_only(&Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds"), &feeds);
    std::fs::create_dir(&data).unwrap();
    // What this process creates is its user's: root, when its directory is root's.
    let as_root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&data).unwrap()) == 0;
    if as_root {
        std::os::unix::fs::chown(&data, Some(10001), Some(10001)).unwrap();
        // The image's user must reach the directories above as well.
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let port = free_port();
    let paths = |value: &str| {
        value
            .replace("/etc/pressfeed/feeds", feeds.to_str().unwrap())
            .replace("/data", data.to_str().unwrap())
            .replace("0.0.0.0:8080", &format!("127.0.0.1:{port}"))
            .replace("/usr/local/bin/pressfeed", env!("CARGO_BIN_EXE_pressfeed"))
    };
    let args: Vec<String> = image.command.iter().map(|a| paths(a)).collect();
    let mut command = if as_root {
        let mut setpriv = Command::new("setpriv");
        setpriv.args(["--reuid=10001", "--regid=10001", "--clear-groups", "--"]);
        setpriv.args(&args);
        setpriv
    } else {
        let mut direct = Command::new(&args[0]);
        direct.args(&args[1..]);
        direct
    };
    command.env_clear().env("PATH", "/usr/bin:/bin");
    for (name, value) in &image.env {
        command.env(name, paths(value));
    }
    let mut server = Killed(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let healthcheck: Vec<String> = image
        .healthcheck
        .iter()
        .map(|a| a.replace("127.0.0.1/8080", &format!("127.0.0.1/{port}")))
        .collect();
    let deadline = Instant::now() + common::HANG;
    loop {
        let healthy = Command::new(&healthcheck[0])
            .args(&healthcheck[1..])
            .stderr(Stdio::null())
            .status()
            .unwrap();
        if healthy.success() {
            break;
        }
        assert!(server.0.try_wait().unwrap().is_none(), "the server exited");
        assert!(
            Instant::now() < deadline,
            "not healthy after {:?}",
            common::HANG
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let url = format!("http://127.0.0.1:{port}/feeds/top-news.rss");
    let deadline = Instant::now() + common::HANG;
    loop {
        let res = client.get(url.parse().unwrap()).await.unwrap();
        if res.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "{url}: {}", res.status());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(data.join(pressfeed::store::FILE_NAME).exists());
    let _ = server.0.kill();
}

/// A copy of `from` at `to` that nobody may write: directories 0555, files 0444.
fn copy_read_only(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_read_only(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o444)).unwrap();
        }
    }
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o555)).unwrap();
}

/// A child process killed by its PID when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
