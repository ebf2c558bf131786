//! Test helpers: a real pressfeed server on 127.0.0.1:0 over a temp site and store, on the
//! system clock or a manual one; a small HTTP client; waiting for an event; and the one
//! way a test that needs a missing real part skips or fails. The store is SQLite in a temp
//! data directory, or with `PRESSFEED_TEST_STORE=postgres` a fresh PostgreSQL database per
//! data directory (`open_store`, `store_args`): tests/run runs the end-to-end tests again so.
#![allow(dead_code)]

pub mod hub;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use pressfeed::admin;
use pressfeed::article::Article;
use pressfeed::clock::{Clock, ManualClock};
use pressfeed::item::PreparedArticle;
use pressfeed::store::{PostgresSettings, Store, StoreError};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub const SITE: &str = r#"
title = "Test Times"
url = "https://news.example/"
feed_base_url = "https://feeds.news.example/feeds/"
default_author = "Test Desk"
websub_hubs = ["https://hub.example/"]
"#;

/// A section file with the given slug and extra lines. Unless `extra` sets one, the
/// schedule fires once a year, so tests see only the rebuilds they cause.
pub fn section(slug: &str, extra: &str) -> String {
    let schedule = if extra.contains("schedule") {
        ""
    } else {
        "schedule = \"0 0 0 1 1 *\"\n"
    };
    format!(
        "slug = \"{slug}\"\ntitle = \"{slug} title\"\ndescription = \"About {slug}\"\n\
         link = \"https://news.example/{slug}/\"\n{schedule}{extra}\n"
    )
}

/// A site directory with `sections` (slug, extra lines) in a temp dir.
pub fn site(sections: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("site.toml"), SITE).unwrap();
    std::fs::create_dir(dir.path().join("sections")).unwrap();
    for (slug, extra) in sections {
        std::fs::write(
            dir.path().join(format!("sections/{slug}.toml")),
            section(slug, extra),
        )
        .unwrap();
    }
    dir
}

/// An article's JSON as a CMS posts it, with sensible defaults.
pub fn article_json(id: &str, sections: &[&str], published_at: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "url": format!("https://news.example/{id}/"),
        "title": format!("Title of {id}"),
        "sections": sections,
        "published_at": published_at,
        "summary": format!("Summary of {id}"),
        "body_html": format!("<p>Body of {id}</p>"),
    })
}

/// `article_json` as an `Article`; `extra` fields override the defaults.
pub fn article(
    id: &str,
    sections: &[&str],
    published_at: &str,
    extra: serde_json::Value,
) -> Article {
    let mut doc = article_json(id, sections, published_at);
    if let serde_json::Value::Object(extra) = extra {
        for (k, v) in extra {
            doc[k] = v;
        }
    }
    Article::from_value(doc).unwrap().article
}

/// How long a test waits for an event before it calls it a hang. Not a timing assertion:
/// what is promised in time is measured by the benchmarks (BENCHMARKS.md); this only
/// keeps a broken build from waiting forever on a loaded machine.
pub const HANG: Duration = Duration::from_secs(30);

/// A manual clock at a fixed hour, later than every date the tests' articles carry
/// (2022–2024), so those are live and an article dated after it is scheduled.
pub fn manual_clock() -> ManualClock {
    use chrono::TimeZone as _;
    ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap())
}

/// How a test server is set up beyond its feeds and store. Passed to `app::run` directly:
/// tests run in parallel threads of one process, so nothing comes from the environment.
#[derive(Clone, Default)]
pub struct Options {
    /// Token lines (`label:token` or `token`); `None` leaves the admin API off.
    pub admin_tokens: Option<String>,
    /// Overrides the admin body limit (bytes).
    pub max_body: Option<usize>,
    /// The server's time; the system's by default. On a `ManualClock`'s, time passes only
    /// when the test moves it, and so do the scheduler's reads of the change log: a write
    /// through `Server::store` (another process, as far as the server knows) shows up
    /// after the next `advance`, a write through the admin API at once.
    pub clock: Clock,
}

impl Options {
    pub fn admin(tokens: &str) -> Options {
        Options {
            admin_tokens: Some(tokens.to_owned()),
            ..Options::default()
        }
    }

    /// The options, on `clock`.
    pub fn on(self, clock: Clock) -> Options {
        Options { clock, ..self }
    }

    fn settings(&self) -> admin::Settings {
        let mut settings = admin::Settings::default();
        if let Some(lines) = &self.admin_tokens {
            settings.tokens.add_lines(lines, "test").unwrap();
        }
        if let Some(max) = self.max_body {
            settings.max_body = max;
        }
        settings
    }
}

/// A running server: dropped, it shuts down.
pub struct Server {
    pub addr: SocketAddr,
    pub feeds: TempDir,
    pub data: PathBuf,
    /// The server's own store handle: its clones share the server's connection and health
    /// (for `Store::simulate_io_error`), unlike `store()`.
    pub served_store: Store,
    _data_dir: Option<TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    http: Http,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

impl Server {
    /// Starts a server over `feeds` with a fresh temp store holding `articles`.
    pub async fn start(feeds: TempDir, articles: &[Article]) -> Server {
        Server::start_with(feeds, articles, Options::default()).await
    }

    /// `start`, set up by `options`.
    pub async fn start_with(feeds: TempDir, articles: &[Article], options: Options) -> Server {
        let data = tempfile::tempdir().unwrap();
        let path = data.path().to_owned();
        let prepared: Vec<PreparedArticle> =
            articles.iter().cloned().map(PreparedArticle::new).collect();
        open_store(&path).unwrap().upsert(&prepared).unwrap();
        let mut server = Server::start_on_with(feeds, &path, options).await;
        server._data_dir = Some(data);
        server
    }

    /// A server with one section, `world`, holding one article, `w1`.
    pub async fn one_article() -> Server {
        let article = article("w1", &["world"], "2024-01-01T10:00:00Z", Default::default());
        Server::start(site(&[("world", "")]), &[article]).await
    }

    /// Starts a server over `feeds` and an existing data directory.
    pub async fn start_on(feeds: TempDir, data: &Path) -> Server {
        Server::start_on_with(feeds, data, Options::default()).await
    }

    /// `start_on`, set up by `options`.
    pub async fn start_on_with(feeds: TempDir, data: &Path, options: Options) -> Server {
        let server = Server::launch_on_with(feeds, data, options).await;
        server
            .wait_until("the first build", |s| async move {
                s.get("/readyz").await.status == StatusCode::OK
            })
            .await;
        server
    }

    /// `start_on_with` without waiting for the first build: the port takes requests as
    /// soon as this returns, as `serve`'s does once it prints its address.
    pub async fn launch_on_with(feeds: TempDir, data: &Path, options: Options) -> Server {
        let settings = options.settings();
        let clock = options.clock.clone();
        let store = open_store(data).unwrap();
        let config = pressfeed::live::load(feeds.path(), &store, clock.now()).unwrap();
        let served_store = store.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            pressfeed::app::run(listener, config, store, settings, None, clock, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Server {
            addr,
            feeds,
            data: data.to_owned(),
            served_store,
            _data_dir: None,
            shutdown: Some(tx),
            task: Some(task),
            http: Http::new(),
        }
    }

    /// Stops the server and waits until it has shut down; returns its feeds directory.
    pub async fn stop(mut self) -> TempDir {
        self.shutdown.take().unwrap().send(()).ok();
        self.task.take().unwrap().await.unwrap();
        let feeds = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.feeds, feeds)
    }

    /// A second handle on the server's store, as another process would open it.
    pub fn store(&self) -> Store {
        open_store(&self.data).unwrap()
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, &[]).await
    }

    pub async fn request(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(method, path, headers, Bytes::new()).await
    }

    /// A request with a body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let url = format!("http://{}{path}", self.addr);
        self.http
            .exchange(method, &url, headers, body.into())
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    /// Polls `check` until it holds, failing the test after `HANG`.
    pub async fn wait_until<'a, F, Fut>(&'a self, what: &str, check: F)
    where
        F: Fn(&'a Server) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + HANG;
        while !check(self).await {
            assert!(
                Instant::now() < deadline,
                "no {what} after {HANG:?}: a hang?"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The sum of the `/metrics` series whose line starts with `name` (add labels to pick
    /// one); 0 when there is none.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self.get("/metrics").await.text().to_owned();
        text.lines()
            .filter(|l| l.starts_with(name) && !l.starts_with('#'))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

/// The variable that runs the end-to-end tests on PostgreSQL: `postgres`.
pub const TEST_STORE: &str = "PRESSFEED_TEST_STORE";

/// A fresh database on the test cluster for `test`, or `None` (after `missing`) when
/// `PRESSFEED_TEST_POSTGRES` names none.
pub fn fresh_postgres(test: &str) -> Option<String> {
    let url = pressfeed::store::testing::fresh_postgres();
    if url.is_none() {
        missing(
            test,
            "PRESSFEED_TEST_POSTGRES is not set",
            "bash tests/run starts a cluster; or as root `bash tests/postgres/start.sh DIR` \
             and export PRESSFEED_TEST_POSTGRES=$(cat DIR/url)",
        );
    }
    url
}

/// The file in a test data directory that names the PostgreSQL database standing for it.
pub const POSTGRES_URL_FILE: &str = "test-postgres-url";

/// The PostgreSQL database standing for the test data directory `data`: the one its
/// `POSTGRES_URL_FILE` names (a test may name one of its own), else with
/// `PRESSFEED_TEST_STORE=postgres` a fresh one, named there; `None` for SQLite.
fn postgres_of(data: &Path) -> Option<String> {
    let named = data.join(POSTGRES_URL_FILE);
    if let Ok(url) = std::fs::read_to_string(&named) {
        return Some(url);
    }
    if std::env::var(TEST_STORE).as_deref() != Ok("postgres") {
        return None;
    }
    let Some(url) = pressfeed::store::testing::fresh_postgres() else {
        panic!(
            "{TEST_STORE}=postgres needs a cluster: set {} to its URL (bash tests/run starts one)",
            pressfeed::store::testing::POSTGRES
        );
    };
    std::fs::create_dir_all(data).unwrap();
    std::fs::write(&named, &url).unwrap();
    Some(url)
}

/// The store of the test data directory `data`, as another process would open it.
pub fn open_store(data: &Path) -> Result<Store, StoreError> {
    match postgres_of(data) {
        Some(url) => Store::open_postgres(&PostgresSettings::parse(&url, None).unwrap()),
        None => Store::open(data),
    }
}

/// A data directory whose store holds `articles`, for a server started on it later.
pub fn seeded_data(articles: &[Article]) -> TempDir {
    let data = tempfile::tempdir().unwrap();
    let prepared: Vec<PreparedArticle> =
        articles.iter().cloned().map(PreparedArticle::new).collect();
    open_store(data.path()).unwrap().upsert(&prepared).unwrap();
    data
}

/// Runs `pressfeed build --out` on `server`'s site and store; the files it wrote.
pub fn export(server: &Server) -> TempDir {
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_pressfeed"))
        .arg("--feeds")
        .arg(server.feeds.path())
        .args(store_args(&server.data))
        .arg("build")
        .arg("--out")
        .arg(out.path())
        .env("RUST_LOG", "pressfeed=warn")
        .status()
        .unwrap();
    assert!(status.success(), "pressfeed build --out failed");
    out
}

/// The arguments that point a `pressfeed` command at the store of `data`.
pub fn store_args(data: &Path) -> Vec<std::ffi::OsString> {
    let mut args = vec!["--data".into(), data.as_os_str().to_owned()];
    if let Some(url) = postgres_of(data) {
        args.extend(["--store".into(), url.into()]);
    }
    args
}

/// The store's write lock, held by another process; released when dropped.
pub struct WriteLock {
    /// SQLite's: a connection in a write transaction.
    _sqlite: Option<rusqlite::Connection>,
    /// PostgreSQL's: a thread holding a transaction, told to end it through the sender.
    postgres: Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        if let Some((release, thread)) = self.postgres.take() {
            let _ = release.send(());
            thread.join().unwrap();
        }
    }
}

/// Takes the store's write lock in `data` as another process would (an import, say) and
/// holds it until dropped. A build renders its feeds meanwhile but cannot save them, and a
/// build is published only once saved: the feeds stay as they were.
pub fn hold_write_lock(data: &Path) -> WriteLock {
    write_then_hold_lock(data, || ())
}

/// Runs `write` (another process's write of sections, say), then at once takes the store's
/// write lock as `hold_write_lock` does. SQLite's lock stops every write, so it is taken
/// right after `write`, on a connection opened before it. PostgreSQL's locks only the
/// tables writers of articles and of feeds take (reads go on), so it is taken first, and
/// `write`, if it writes no article, lands beside it.
pub fn write_then_hold_lock(data: &Path, write: impl FnOnce()) -> WriteLock {
    let Some(url) = postgres_of(data) else {
        let lock = rusqlite::Connection::open(data.join(pressfeed::store::FILE_NAME)).unwrap();
        write();
        lock.execute_batch("BEGIN IMMEDIATE").unwrap();
        return WriteLock {
            _sqlite: Some(lock),
            postgres: None,
        };
    };
    let lock = on_postgres(
        url,
        "LOCK TABLE changes, feed_state, demand_feed_state IN EXCLUSIVE MODE",
    );
    write();
    lock
}

/// Runs `sql` on the store of `data` behind pressfeed's back, as a pressfeed with other
/// rules might have written it. Values go in the text: SQLite and PostgreSQL write
/// parameters differently.
pub fn execute_sql(data: &Path, sql: &str) {
    match postgres_of(data) {
        Some(url) => drop(on_postgres(url, sql)),
        None => rusqlite::Connection::open(data.join(pressfeed::store::FILE_NAME))
            .unwrap()
            .execute_batch(sql)
            .unwrap(),
    }
}

/// Runs `sql` in a transaction on the database at `url`, on a thread of its own, and
/// commits it when the returned lock is dropped.
fn on_postgres(url: String, sql: &str) -> WriteLock {
    let sql = sql.to_owned();
    let (done_tx, done) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(connection);
            let tx = client.transaction().await.unwrap();
            tx.batch_execute(&sql).await.unwrap();
            done_tx.send(()).unwrap();
            let _ = tokio::task::spawn_blocking(move || released.recv()).await;
            tx.commit().await.unwrap();
        });
    });
    done.recv().expect("the statements ran");
    WriteLock {
        _sqlite: None,
        postgres: Some((release, thread)),
    }
}

/// proptest's settings for the property tests under `tests/`: `cases` per run, and every
/// failure saved to `tests/<file>.proptest-regressions` and replayed first by every later
/// run (check the file in). `WithSource` names the file: proptest's default,
/// `SourceParallel`, looks for a `lib.rs` above the test file, which `tests/` has not.
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, FileFailurePersistence};
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// The variable that lets a test skip when a real part it needs is missing.
pub const ALLOW_SKIP: &str = "PRESSFEED_ALLOW_SKIP";

/// A real part `test` needs is missing: `what` is missing, `how` gets it. Fails the test
/// unless `PRESSFEED_ALLOW_SKIP=1` allows skipping, which CI never does (with `CI` set the
/// test fails anyway). When allowed, the test prints a `SKIPPED` line and the caller
/// returns: written to the stderr handle itself, which the test harness does not capture
/// (it captures `eprintln!`, and would show the line only for a failing test).
#[track_caller]
pub fn missing(test: &str, what: &str, how: &str) {
    let allowed = std::env::var_os(ALLOW_SKIP).is_some_and(|v| v == "1");
    let ci = std::env::var_os("CI").is_some();
    if !allowed || ci {
        let why = if ci {
            "CI must run every test"
        } else {
            "set PRESSFEED_ALLOW_SKIP=1 to skip it instead"
        };
        panic!("{test} cannot run: {what} ({how}); {why}");
    }
    let line = format!("SKIPPED {test}: {what} ({how}); allowed by PRESSFEED_ALLOW_SKIP=1\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
    }
}

/// Parses RSS bytes back with the `rss` crate, checking them against the RSS spec.
pub fn parse_rss(body: &[u8]) -> rss::Channel {
    use rss::validation::Validate;
    let channel = rss::Channel::read_from(body).expect("well-formed RSS");
    channel.validate().expect("valid RSS");
    channel
}

pub fn parse_atom(body: &[u8]) -> atom_syndication::Feed {
    atom_syndication::Feed::read_from(body).expect("well-formed Atom")
}

/// The blank elements (no text, no children, no attributes) and blank attribute values of
/// an XML feed, read back with quick-xml: the W3C Feed Validator warns of each.
pub fn blanks(xml: &[u8]) -> Vec<String> {
    use quick_xml::events::{BytesStart, Event};
    fn blank_attributes(e: &BytesStart<'_>, blanks: &mut Vec<String>) -> bool {
        let mut any = false;
        for attr in e.attributes() {
            let attr = attr.expect("well-formed attributes");
            any = true;
            if attr.value.trim_ascii().is_empty() {
                let (key, name) = (attr.key.as_ref(), e.name());
                blanks.push(format!(
                    "{}= on <{}>",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(name.as_ref())
                ));
            }
        }
        any
    }
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut blanks = Vec::new();
    // Per open element: its name, and whether it has shown anything yet.
    let mut open: Vec<(Vec<u8>, bool)> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).expect("well-formed XML") {
            Event::Start(e) => {
                if let Some(parent) = open.last_mut() {
                    parent.1 = true;
                }
                let attributes = blank_attributes(&e, &mut blanks);
                open.push((e.name().as_ref().to_vec(), attributes));
            }
            Event::Empty(e) => {
                if let Some(parent) = open.last_mut() {
                    parent.1 = true;
                }
                if !blank_attributes(&e, &mut blanks) {
                    blanks.push(format!("<{}/>", String::from_utf8_lossy(e.name().as_ref())));
                }
            }
            Event::Text(t) if !t.trim_ascii().is_empty() => {
                open.last_mut().expect("text inside the root").1 = true;
            }
            Event::CData(t) if !t.trim_ascii().is_empty() => {
                open.last_mut().expect("CDATA inside the root").1 = true;
            }
            Event::GeneralRef(_) => open.last_mut().expect("a reference inside the root").1 = true,
            Event::End(_) => {
                let (name, shown) = open.pop().expect("balanced");
                if !shown {
                    blanks.push(format!("<{}></{0}>", String::from_utf8_lossy(&name)));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    blanks
}

/// An HTTP/1 client: every test's requests go through `exchange`.
#[derive(Clone)]
pub struct Http(Client<HttpConnector, Full<Bytes>>);

impl Http {
    pub fn new() -> Http {
        Http(Client::builder(TokioExecutor::new()).build_http())
    }

    /// One request to `url`; an error when the connection failed or broke off.
    pub async fn exchange(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Reply, Box<dyn std::error::Error + Send + Sync>> {
        let mut req = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = self.0.request(req.body(Full::new(body))?).await?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// An h2c connection with prior knowledge, as hyper's HTTP/2 client makes it.
pub async fn h2(
    server: &Server,
) -> (
    hyper::client::conn::http2::SendRequest<http_body_util::Empty<Bytes>>,
    tokio::task::JoinHandle<hyper::Result<()>>,
) {
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (sender, connection) = hyper::client::conn::http2::handshake(
        TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .unwrap();
    (sender, tokio::spawn(connection))
}

/// A real `pressfeed serve` process on 127.0.0.1; killed by its PID when dropped.
pub struct Process {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Process {
    /// Starts `pressfeed serve` on `feeds` and the store of `data`, with the admin API on
    /// for `token` and `env` added, on a port of its own choosing, which its banner's first
    /// line tells.
    pub fn serve(feeds: &Path, data: &Path, token: &str, env: &[(&str, &str)]) -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pressfeed"))
            .arg("--feeds")
            .arg(feeds)
            .args(store_args(data))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("PRESSFEED_ADMIN_TOKEN", token)
            .env_remove("PRESSFEED_ADMIN_TOKEN_FILE")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut banner = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut banner)
            .unwrap();
        let addr = banner
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {banner:?}"))
            .parse()
            .unwrap();
        Process { child, addr }
    }

    /// SIGKILL: no shutdown, no flush, no destructor runs.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
