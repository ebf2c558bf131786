//! Test helpers: a real pressfeed server on 127.0.0.1:0 over a temp site and store, and a
//! small HTTP client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use pressfeed::admin;
use pressfeed::article::Article;
use pressfeed::config::Config;
use pressfeed::item::PreparedArticle;
use pressfeed::store::Store;
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

/// An article JSON object with sensible defaults; `extra` fields override them.
pub fn article(
    id: &str,
    sections: &[&str],
    published_at: &str,
    extra: serde_json::Value,
) -> Article {
    let mut doc = serde_json::json!({
        "id": id,
        "url": format!("https://news.example/{id}/"),
        "title": format!("Title of {id}"),
        "sections": sections,
        "published_at": published_at,
        "summary": format!("Summary of {id}"),
        "body_html": format!("<p>Body of {id}</p>"),
    });
    if let serde_json::Value::Object(extra) = extra {
        for (k, v) in extra {
            doc[k] = v;
        }
    }
    Article::from_value(doc).unwrap()
}

/// How a test server is set up beyond its feeds and store. Passed to `app::run` directly:
/// tests run in parallel threads of one process, so nothing comes from the environment.
#[derive(Clone, Default)]
pub struct Options {
    /// Token lines (`label:token` or `token`); `None` leaves the admin API off.
    pub admin_tokens: Option<String>,
    /// Overrides the admin body limit (bytes).
    pub max_body: Option<usize>,
}

impl Options {
    pub fn admin(tokens: &str) -> Options {
        Options {
            admin_tokens: Some(tokens.to_owned()),
            max_body: None,
        }
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
        Store::open(&path).unwrap().upsert(&prepared).unwrap();
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
        let settings = options.settings();
        let config = Config::load(feeds.path()).unwrap();
        let store = Store::open(data).unwrap();
        let served_store = store.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            pressfeed::app::run(listener, config, store, settings, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        let server = Server {
            addr,
            feeds,
            data: data.to_owned(),
            served_store,
            _data_dir: None,
            shutdown: Some(tx),
            task: Some(task),
            http: Http::new(),
        };
        server
            .wait_until("the first build", |s| async move {
                s.get("/readyz").await.status == StatusCode::OK
            })
            .await;
        server
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
        Store::open(&self.data).unwrap()
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

    /// Polls `check` until it holds, failing the test after 10 seconds.
    pub async fn wait_until<'a, F, Fut>(&'a self, what: &str, check: F)
    where
        F: Fn(&'a Server) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !check(self).await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
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
