//! Sources the scheduler pulls from, end to end against the real server: a `json` source
//! served by a small HTTP server in the test (conditional GETs, a bad line, a failing and a
//! hanging origin), a `json` file, a `directory` of `.json` and `.md` files, the state in
//! `GET /admin/api/sources` and `/metrics`, and `pressfeed check` on bad `[[sources]]`.

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Options, Server, site};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

const TOKEN: &str = "sources-token-0123456789";

/// What the test's origin server answers.
#[derive(Clone)]
enum Answer {
    /// NDJSON with this ETag; `If-None-Match` with it gets a 304.
    Ndjson {
        body: String,
        etag: String,
    },
    Status(StatusCode),
    /// Accepts the request and never answers.
    Hang,
    /// A WordPress site without pretty permalinks, from the recorded responses: `/wp-json/`
    /// is a 404, `?rest_route=/wp/v2/posts` answers. The published ids are `ids`; a listing
    /// without `modified_after` has every recorded post, one with it has `changed`. The
    /// tags, categories and users routes list those the recorded posts embed.
    /// `users/me` answers 200 to the `Authorization` value `me`, else 401, and the posts
    /// are public, as on a real site.
    WordPress {
        ids: Vec<u64>,
        changed: Vec<Value>,
        me: Option<String>,
    },
}

/// One request the origin saw.
#[derive(Debug, Clone)]
struct Seen {
    /// Path and query.
    target: String,
    if_none_match: Option<String>,
    user_agent: Option<String>,
    status: u16,
}

/// A small HTTP server on 127.0.0.1:0, stopped with the test's runtime.
struct Origin {
    addr: SocketAddr,
    answer: Arc<Mutex<Answer>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Origin {
    async fn start(answer: Answer) -> Origin {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = Origin {
            addr: listener.local_addr().unwrap(),
            answer: Arc::new(Mutex::new(answer)),
            seen: Arc::default(),
        };
        let (answer, seen) = (origin.answer.clone(), origin.seen.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (answer, seen) = (answer.clone(), seen.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| respond(req, answer.clone(), seen.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        origin
    }

    fn url(&self) -> String {
        format!("http://{}/articles.ndjson", self.addr)
    }

    fn set(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn respond(
    req: Request<Incoming>,
    answer: Arc<Mutex<Answer>>,
    seen: Arc<Mutex<Vec<Seen>>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let if_none_match = header("if-none-match");
    let user_agent = header("user-agent");
    let target = req.uri().to_string();
    let answer = answer.lock().unwrap().clone();
    let response = match answer {
        Answer::WordPress { ids, changed, me } => wordpress(&req, &ids, changed, me),
        Answer::Hang => std::future::pending().await,
        Answer::Status(status) => Response::builder()
            .status(status)
            .body(Full::new(Bytes::from_static(b"origin trouble")))
            .unwrap(),
        Answer::Ndjson { etag, .. } if if_none_match.as_deref() == Some(etag.as_str()) => {
            Response::builder()
                .status(StatusCode::NOT_MODIFIED)
                .header("etag", etag)
                .body(Full::default())
                .unwrap()
        }
        Answer::Ndjson { body, etag } => Response::builder()
            .header("content-type", "application/x-ndjson")
            .header("etag", etag)
            .body(Full::new(Bytes::from(body)))
            .unwrap(),
    };
    seen.lock().unwrap().push(Seen {
        target,
        if_none_match,
        user_agent,
        status: response.status().as_u16(),
    });
    Ok(response)
}

/// The recorded WordPress answer to `req` (see `Answer::WordPress`).
fn wordpress(
    req: &Request<Incoming>,
    ids: &[u64],
    changed: Vec<Value>,
    me: Option<String>,
) -> Response<Full<Bytes>> {
    let query: std::collections::HashMap<String, String> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    if query.get("rest_route").map(String::as_str) == Some("/wp/v2/users/me") {
        let auth = req
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap());
        let (status, body) = match me {
            Some(me) if auth == Some(me.as_str()) => (StatusCode::OK, r#"{"id":2}"#),
            _ => (
                StatusCode::UNAUTHORIZED,
                r#"{"code":"rest_not_logged_in","message":"You are not currently logged in.","data":{"status":401}}"#,
            ),
        };
        return Response::builder()
            .status(status)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap();
    }
    let included = |id: &Value| {
        let id = id.to_string();
        query
            .get("include")
            .is_none_or(|include| include.split(',').any(|i| i == id))
    };
    let all = || {
        ["posts-embed-page1", "posts-embed-page2"]
            .iter()
            .flat_map(|name| recorded(name))
            .collect::<Vec<Value>>()
    };
    let route = query.get("rest_route").map(String::as_str);
    let embedded = match route {
        Some("/wp/v2/tags" | "/wp/v2/categories") => Some("/_embedded/wp:term"),
        Some("/wp/v2/users") => Some("/_embedded/author"),
        _ => None,
    };
    if let Some(pointer) = embedded {
        let taxonomy = match route {
            Some("/wp/v2/tags") => Some("post_tag"),
            Some("/wp/v2/categories") => Some("category"),
            _ => None,
        };
        let mut listed: Vec<Value> = Vec::new();
        for post in all() {
            let found = post.pointer(pointer).cloned().unwrap_or_default();
            let found: Vec<Value> = match taxonomy {
                Some(_) => found
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|terms| terms.as_array().cloned().unwrap_or_default())
                    .collect(),
                None => found.as_array().cloned().unwrap_or_default(),
            };
            for thing in found {
                let fits = taxonomy.is_none_or(|t| thing["taxonomy"] == t);
                if fits && included(&thing["id"]) && !listed.iter().any(|l| l["id"] == thing["id"])
                {
                    listed.push(
                        json!({"id": thing["id"], "name": thing["name"], "slug": thing["slug"]}),
                    );
                }
            }
        }
        return Response::builder()
            .header("content-type", "application/json; charset=UTF-8")
            .body(Full::new(Bytes::from(serde_json::to_vec(&listed).unwrap())))
            .unwrap();
    }
    if route != Some("/wp/v2/posts") {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(Full::new(Bytes::from_static(b"<html>Not Found</html>")))
            .unwrap();
    }
    let posts: Vec<Value> = if query.get("_fields").is_some_and(|f| f.starts_with("id")) {
        // The sweep's list: ids, and what each post carries.
        all()
            .into_iter()
            .filter(|p| ids.contains(&p["id"].as_u64().unwrap()) && included(&p["id"]))
            .map(|p| json!({"id": p["id"], "author": p["author"], "categories": p["categories"], "tags": p["tags"]}))
            .collect()
    } else {
        let listed = match (
            query.contains_key("include"),
            query.contains_key("modified_after"),
        ) {
            (true, _) => all().into_iter().filter(|p| included(&p["id"])).collect(),
            (false, true) => changed,
            (false, false) => all(),
        };
        listed
            .into_iter()
            .filter(|p| ids.contains(&p["id"].as_u64().unwrap()))
            .collect()
    };
    Response::builder()
        .header("content-type", "application/json; charset=UTF-8")
        .header("x-wp-total", posts.len().to_string())
        .header("x-wp-totalpages", "1")
        .body(Full::new(Bytes::from(serde_json::to_vec(&posts).unwrap())))
        .unwrap()
}

/// The posts of a recorded WordPress answer (`tests/data/wordpress/NAME.json`).
fn recorded(name: &str) -> Vec<Value> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/data/wordpress/{name}.json"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// One NDJSON line of an article in `section`.
fn line(id: &str, section: &str, title: &str) -> String {
    json!({
        "id": id,
        "url": format!("https://wire.example/{id}/"),
        "title": title,
        "sections": [section],
        "published_at": "2024-03-01T10:00:00Z",
        "summary": format!("Summary of {id}"),
    })
    .to_string()
}

/// A site with sections `world` and `business` and `sources` (TOML) in its `site.toml`.
fn site_with_sources(sources: &str) -> tempfile::TempDir {
    let feeds = site(&[("world", ""), ("business", "")]);
    let path = feeds.path().join("site.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}\n{sources}")).unwrap();
    feeds
}

async fn start(feeds: tempfile::TempDir) -> Server {
    let options = Options::admin(&format!("editor:{TOKEN}"));
    Server::start_with(feeds, &[], options).await
}

/// One field of every item in a section's JSON Feed, in feed order.
async fn item_fields(server: &Server, section: &str, field: &str) -> Vec<String> {
    let reply = server.get(&format!("/feeds/{section}.json")).await;
    let feed: Value = serde_json::from_slice(&reply.body).unwrap();
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect()
}

async fn feed_urls(server: &Server, section: &str) -> Vec<String> {
    item_fields(server, section, "url").await
}

async fn titles(server: &Server, section: &str) -> Vec<String> {
    item_fields(server, section, "title").await
}

/// `GET /admin/api/sources`, the entry named `name`.
async fn source_status(server: &Server, name: &str) -> Value {
    let auth = format!("Bearer {TOKEN}");
    let reply = server
        .request(
            http::Method::GET,
            "/admin/api/sources",
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let list: Value = serde_json::from_slice(&reply.body).unwrap();
    list["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no source {name} in {list}"))
}

/// Polls `check` until it holds, for at most `secs` seconds.
async fn eventually<F, Fut>(secs: u64, what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_json_url_lands_skips_its_bad_line_and_is_polled_conditionally() {
    let body = [
        line("wire-1", "world", "First"),
        "{\"id\": \"wire-bad\", \"url\": \"not a url\"}".to_owned(),
        "{broken".to_owned(),
        line("wire-2", "business", "Second"),
    ]
    .join("\n");
    let origin = Origin::start(Answer::Ndjson {
        body,
        etag: "\"v1\"".into(),
    })
    .await;
    let feeds = site_with_sources(&format!(
        "[[sources]]\nname = \"wire\"\nkind = \"json\"\nurl = \"{}\"\nschedule = \"* * * * * *\"\n",
        origin.url()
    ));
    let server = start(feeds).await;

    server
        .wait_until("both good lines in their feeds", |s| async move {
            feed_urls(s, "world").await == ["https://wire.example/wire-1/"]
                && feed_urls(s, "business").await == ["https://wire.example/wire-2/"]
        })
        .await;
    eventually(10, "a conditional poll answered 304", || async {
        origin
            .seen()
            .iter()
            .any(|s| s.status == 304 && s.if_none_match.as_deref() == Some("\"v1\""))
    })
    .await;
    let first = &origin.seen()[0];
    assert_eq!(first.if_none_match, None, "the first poll is unconditional");
    assert!(
        first
            .user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("pressfeed/")),
        "{first:?}"
    );

    let status = source_status(&server, "wire").await;
    assert_eq!(status["kind"], "json");
    assert_eq!(status["health"], "ok", "{status}");
    assert_eq!(status["articles"]["upserted"], 2, "{status}");
    assert_eq!(status["articles"]["skipped"], 2, "{status}");
    assert!(status["polls"]["not_modified"].as_u64().unwrap() >= 1);
    assert!(status["last_success"].is_string() && status["next_poll"].is_string());
    assert!(status["last_error"].is_null());

    // The document changes: one article edited, one gone.
    origin.set(Answer::Ndjson {
        body: line("wire-1", "world", "First, edited"),
        etag: "\"v2\"".into(),
    });
    server
        .wait_until("the edit in, the removed article out", |s| async move {
            titles(s, "world").await == ["First, edited"]
                && feed_urls(s, "business").await.is_empty()
        })
        .await;
    let status = source_status(&server, "wire").await;
    assert_eq!(status["articles"]["retracted"], 1, "{status}");

    let metrics = server.get("/metrics").await;
    for expected in [
        "pressfeed_source_polls_total{source=\"wire\",outcome=\"not_modified\"}",
        "pressfeed_source_articles_total{source=\"wire\",outcome=\"skipped\"} 2",
        "pressfeed_source_up{source=\"wire\"} 1",
        "pressfeed_source_last_success_timestamp_seconds{source=\"wire\"}",
    ] {
        assert!(
            metrics.text().contains(expected),
            "{expected} in\n{}",
            metrics.text()
        );
    }
}

#[tokio::test]
async fn a_failing_or_hanging_source_stops_neither_serving_nor_the_others() {
    let failing = Origin::start(Answer::Status(StatusCode::INTERNAL_SERVER_ERROR)).await;
    let hanging = Origin::start(Answer::Hang).await;
    let feeds = site_with_sources(&format!(
        "[[sources]]\nname = \"failing\"\nkind = \"json\"\nurl = \"{}\"\nschedule = \"* * * * * *\"\n\
         [[sources]]\nname = \"hanging\"\nkind = \"json\"\nurl = \"{}\"\nschedule = \"* * * * * *\"\n\
         [[sources]]\nname = \"file\"\nkind = \"json\"\npath = \"wire.json\"\nschedule = \"* * * * * *\"\n",
        failing.url(),
        hanging.url()
    ));
    std::fs::write(
        feeds.path().join("wire.json"),
        format!("[{}]", line("file-1", "world", "From a file")),
    )
    .unwrap();
    let server = start(feeds).await;

    server
        .wait_until("the file source's article", |s| async move {
            titles(s, "world").await == ["From a file"]
        })
        .await;
    eventually(15, "the failing source's error", || async {
        source_status(&server, "failing").await["health"] == "error"
    })
    .await;
    let status = source_status(&server, "failing").await;
    let message = status["last_error"]["message"].as_str().unwrap();
    assert!(message.contains("500"), "{message}");
    assert!(
        failing.seen().len() >= 3,
        "a 5xx is retried: {:?}",
        failing.seen()
    );
    let hung = source_status(&server, "hanging").await;
    assert!(hung["last_attempt"].is_string(), "{hung}");
    assert_eq!(hung["health"], "pending", "still waiting for its answer");

    // Serving goes on meanwhile, and so does the admin API.
    assert_eq!(server.get("/feeds/world.rss").await.status, StatusCode::OK);
    assert_eq!(server.get("/readyz").await.status, StatusCode::OK);

    // The file changes; its source goes on polling while the others fail.
    let path = server.feeds.path().join("wire.json");
    std::fs::write(
        &path,
        format!(
            "[{}, {}]",
            line("file-1", "world", "From a file, edited"),
            line("file-2", "business", "Another")
        ),
    )
    .unwrap();
    server
        .wait_until("the file's edit", |s| async move {
            titles(s, "world").await == ["From a file, edited"]
                && titles(s, "business").await == ["Another"]
        })
        .await;
}

#[tokio::test]
async fn a_directory_of_json_and_markdown_files_is_watched() {
    let feeds = site_with_sources(
        "[[sources]]\nname = \"desk\"\nkind = \"directory\"\npath = \"incoming\"\nschedule = \"* * * * * *\"\n\
         [sources.categories]\nnews = \"world\"\nmoney = \"business\"\n",
    );
    let incoming = feeds.path().join("incoming");
    std::fs::create_dir(&incoming).unwrap();
    let server = start(feeds).await;

    write(
        &incoming.join("a.json"),
        &line("dir-a", "news", "From JSON"),
    );
    write(
        &incoming.join("budget-day.md"),
        "+++\ntitle = \"Budget day\"\nurl = \"https://desk.example/budget/\"\nsections = [\"money\"]\n\
         published_at = 2024-03-02T08:00:00Z\ntags = [\"budget\"]\n+++\n\
         The minister **spoke**.\n\nhttps://www.youtube.com/watch?v=SJ6vaRpQ0fc\n",
    );
    write(
        &incoming.join("yaml.md"),
        "---\nid: dir-yaml\ntitle: \"In YAML\"\nurl: https://desk.example/yaml/\nsections: [news]\n\
         published_at: 2024-03-01T09:00:00Z\n---\nText.\n",
    );
    // Left alone: a hidden file, another extension, an article for no mapped category.
    write(&incoming.join(".draft.md"), "not an article");
    write(&incoming.join("notes.txt"), "not an article");
    write(
        &incoming.join("sport.json"),
        &line("dir-sport", "sport", "Sport"),
    );
    server
        .wait_until("the files' articles", |s| async move {
            titles(s, "world").await == ["From JSON", "In YAML"]
                && titles(s, "business").await == ["Budget day"]
        })
        .await;
    let business = server.get("/feeds/business.json").await;
    let item = &serde_json::from_slice::<Value>(&business.body).unwrap()["items"][0];
    assert!(
        item["id"].as_str().unwrap().ends_with("budget-day"),
        "{item}"
    );
    let html = item["content_html"].as_str().unwrap();
    assert!(html.contains("<strong>spoke</strong>"), "{html}");
    let rss = server.get("/feeds/business.rss").await;
    assert!(
        rss.text().contains("SJ6vaRpQ0fc"),
        "the YouTube link is a medium"
    );
    let status = source_status(&server, "desk").await;
    assert_eq!(status["articles"]["skipped"], 1, "{status}");

    // Edited, then removed.
    write(
        &incoming.join("a.json"),
        &line("dir-a", "news", "From JSON, edited once"),
    );
    server
        .wait_until("the edit", |s| async move {
            titles(s, "world").await == ["From JSON, edited once", "In YAML"]
        })
        .await;
    std::fs::remove_file(incoming.join("yaml.md")).unwrap();
    server
        .wait_until("the removed file's article retracted", |s| async move {
            titles(s, "world").await == ["From JSON, edited once"]
        })
        .await;
    assert!(
        server
            .store()
            .get(&pressfeed::article::ArticleId::parse("dir-yaml").unwrap())
            .unwrap()
            .is_none()
    );
    // A broken file is skipped and its name logged; the rest stays.
    write(&incoming.join("broken.md"), "+++\ntitle = \n+++\n");
    eventually(10, "the broken file counted", || async {
        source_status(&server, "desk").await["articles"]["skipped"] == 2
    })
    .await;
    assert_eq!(titles(&server, "world").await, ["From JSON, edited once"]);
}

#[tokio::test]
async fn wordpress_without_pretty_permalinks_syncs_edits_and_withdrawals() {
    let origin = Origin::start(Answer::WordPress {
        ids: vec![11, 10, 9, 8],
        changed: Vec::new(),
        me: None,
    })
    .await;
    let feeds = site_with_sources(&format!(
        "[[sources]]\nname = \"press\"\nkind = \"wordpress\"\nurl = \"http://{}\"\n\
         schedule = \"* * * * * *\"\n[sources.categories]\nworld = \"world\"\nbusiness = \"business\"\n",
        origin.addr
    ));
    let server = start(feeds).await;
    server
        .wait_until("the posts in their sections", |s| async move {
            titles(s, "world").await
                == [
                    "Election night: a record turnout",
                    "EU talks stall, resume in March",
                ]
                && titles(s, "business").await
                    == [
                        "Central banks – the “soft landing” & what’s next",
                        "EU talks stall, resume in March",
                    ]
        })
        .await;
    let stored = server
        .store()
        .get(&pressfeed::article::ArticleId::parse("wp-press-11").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(stored.image.unwrap().width, Some(640));
    let targets: Vec<String> = origin.seen().into_iter().map(|s| s.target).collect();
    assert!(
        targets[0].starts_with("/wp-json/wp/v2/posts?"),
        "{targets:?}"
    );
    assert!(
        targets[1].starts_with("/?rest_route=%2Fwp%2Fv2%2Fposts&"),
        "{targets:?}"
    );
    assert!(
        targets.iter().skip(2).all(|t| !t.starts_with("/wp-json/")),
        "the fallback is remembered: {targets:?}"
    );

    // Post 10 is edited (it comes back from modified_after), post 9 is trashed.
    origin.set(Answer::WordPress {
        ids: vec![11, 10, 8],
        changed: recorded("posts-modified-after"),
        me: None,
    });
    server
        .wait_until("the edit in and the trashed post out", |s| async move {
            titles(s, "business").await == ["Central banks hold – markets rally"]
                && titles(s, "world").await == ["Election night: a record turnout"]
        })
        .await;
    assert!(
        origin
            .seen()
            .iter()
            .any(|s| s.target.contains("modified_after=2026-11-30T17%3A")),
        "incremental after the first poll"
    );
    let status = source_status(&server, "press").await;
    assert_eq!(status["kind"], "wordpress");
    assert_eq!(status["health"], "ok", "{status}");
    assert_eq!(status["articles"]["retracted"], 1, "{status}");
}

/// Credentials come from the environment, so this runs the binary, with `password` in
/// `WP_APP_PASSWORD`; the site takes `newsdesk:right`.
async fn wordpress_with_password(password: &str) -> (Value, Vec<Seen>) {
    let origin = Origin::start(Answer::WordPress {
        ids: vec![11],
        changed: Vec::new(),
        // base64("newsdesk:right")
        me: Some("Basic bmV3c2Rlc2s6cmlnaHQ=".into()),
    })
    .await;
    let feeds = site_with_sources(&format!(
        "[[sources]]\nname = \"press\"\nkind = \"wordpress\"\nurl = \"http://{}/\"\n\
         schedule = \"* * * * * *\"\nusername_env = \"WP_USER\"\npassword_env = \"WP_APP_PASSWORD\"\n",
        origin.addr
    ));
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pressfeed"))
        .env_remove("PRESSFEED_ADMIN_TOKEN_FILE")
        .env("PRESSFEED_ADMIN_TOKEN", TOKEN)
        .env("WP_USER", "newsdesk")
        .env("WP_APP_PASSWORD", password)
        .env("RUST_LOG", "pressfeed=warn")
        .arg("--feeds")
        .arg(feeds.path())
        .arg("--data")
        .arg(data.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut banner,
    )
    .unwrap();
    let base = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .trim_end_matches('/')
        .to_owned();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let status = || async {
        let req = Request::get(format!("{base}/admin/api/sources"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Full::default())
            .unwrap();
        let Ok(res) = client.request(req).await else {
            return Value::Null;
        };
        let body = http_body_util::BodyExt::collect(res.into_body())
            .await
            .unwrap();
        let list: Value = serde_json::from_slice(&body.to_bytes()).unwrap();
        list["sources"][0].clone()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = status().await;
    while last["health"] == "pending" || last.is_null() {
        assert!(Instant::now() < deadline, "no poll: {last}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        last = status().await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    (last, origin.seen())
}

#[tokio::test]
async fn wordpress_credentials_come_from_the_environment_and_are_checked() {
    let (status, seen) = wordpress_with_password("right").await;
    assert_eq!(status["health"], "ok", "{status}");
    assert!(
        seen.iter().any(|s| s.target.contains("users%2Fme")),
        "{seen:?}"
    );

    let (status, seen) = wordpress_with_password("wrong").await;
    assert_eq!(status["health"], "error", "{status}");
    let message = status["last_error"]["message"].as_str().unwrap();
    assert!(
        message.contains("WP_USER")
            && message.contains("WP_APP_PASSWORD")
            && message.contains("401"),
        "{message}"
    );
    assert!(
        !seen.iter().any(|s| s.target.contains("posts")),
        "nothing is read with credentials the site refuses: {seen:?}"
    );
}

#[tokio::test]
async fn the_sources_list_needs_the_admin_token() {
    let feeds = site_with_sources(
        "[[sources]]\nname = \"desk\"\nkind = \"directory\"\npath = \"missing-folder\"\n",
    );
    let server = start(feeds).await;
    let reply = server.get("/admin/api/sources").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    eventually(10, "the missing folder reported", || async {
        source_status(&server, "desk").await["health"] == "error"
    })
    .await;
    let status = source_status(&server, "desk").await;
    assert_eq!(status["kind"], "directory");
    assert_eq!(status["location"], "missing-folder");
    assert_eq!(
        status["schedule"], "*/5 * * * * *",
        "a folder's default schedule"
    );
    let message = status["last_error"]["message"].as_str().unwrap();
    assert!(message.contains("missing-folder"), "{message}");
}

#[tokio::test]
async fn asking_a_source_to_poll_polls_it_now() {
    // Polled at start, then not until next new year: only asking brings a new file in.
    let feeds = site_with_sources(
        "[[sources]]\nname = \"desk\"\nkind = \"directory\"\npath = \"incoming\"\n\
         schedule = \"0 0 0 1 1 *\"\n[sources.categories]\nnews = \"world\"\n",
    );
    let incoming = feeds.path().join("incoming");
    std::fs::create_dir(&incoming).unwrap();
    let server = start(feeds).await;
    eventually(10, "the poll at start", || async {
        source_status(&server, "desk").await["polls"]["ok"] == 1
    })
    .await;
    let auth = format!("Bearer {TOKEN}");
    let ask = |name: &'static str| {
        let auth = auth.clone();
        let server = &server;
        async move {
            let path = format!("/admin/api/sources/{name}/poll");
            server
                .request(http::Method::POST, &path, &[("authorization", &auth)])
                .await
        }
    };

    write(
        &incoming.join("a.json"),
        &line("desk-a", "news", "Asked for"),
    );
    let reply = ask("desk").await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["source"], "desk", "{body}");
    server
        .wait_until("the file's article, polled on request", |s| async move {
            titles(s, "world").await == ["Asked for"]
        })
        .await;

    // What a CMS's fire-and-forget call does: the request, and the connection closed
    // without waiting for the answer. The poll happens all the same.
    write(
        &incoming.join("b.json"),
        &line("desk-b", "news", "Asked and gone"),
    );
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "POST /admin/api/sources/desk/poll HTTP/1.1\r\nHost: pressfeed\r\n\
         Authorization: {auth}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tokio::io::AsyncWriteExt::write_all(&mut tcp, request.as_bytes())
        .await
        .unwrap();
    drop(tcp);
    server
        .wait_until("the second file's article", |s| async move {
            titles(s, "world")
                .await
                .contains(&"Asked and gone".to_owned())
        })
        .await;

    let reply = ask("nosuch").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let body: Value = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nosuch")
    );
    let reply = server
        .request(
            http::Method::GET,
            "/admin/api/sources/desk/poll",
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), "POST");
    let reply = server
        .request(http::Method::POST, "/admin/api/sources/desk/poll", &[])
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        source_status(&server, "desk").await["polls"]["ok"],
        3,
        "one poll at start, one per request"
    );
}

#[test]
fn check_names_the_bad_source_and_its_field() {
    let feeds = site_with_sources("[[sources]]\nname = \"newsroom\"\nkind = \"wordpress\"\n");
    let out = check(feeds.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("site.toml: line 8: sources[0]: url: required for kind \"wordpress\""),
        "{stderr}"
    );

    let feeds = site_with_sources(
        "[[sources]]\nname = \"wire\"\nkind = \"json\"\npath = \"a.ndjson\"\n\
         [[sources]]\nname = \"wire\"\nkind = \"directory\"\npath = \"in\"\n",
    );
    let out = check(feeds.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sources[1].name: \"wire\": another source has this name"),
        "{stderr}"
    );

    let feeds = site_with_sources(
        "[[sources]]\nname = \"newsroom\"\nkind = \"wordpress\"\nurl = \"http://127.0.0.1:8081/\"\n\
         username_env = \"WP_USER\"\npassword_env = \"WP_APP_PASSWORD\"\n\
         [sources.categories]\nworld = \"world\"\n",
    );
    let out = check(feeds.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sources[0].username_env: environment variable WP_USER is not set"),
        "{stderr}"
    );
    let set = [("WP_USER", "editor"), ("WP_APP_PASSWORD", "abcd efgh")];
    let out = check(feeds.path(), &set);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 sources"));
}

/// `pressfeed check` of `feeds`, with `env` set and the credential variables of the
/// tests' sources unset unless `env` sets them.
fn check(feeds: &Path, env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pressfeed"))
        .env_remove("PRESSFEED_FEEDS")
        .env_remove("PRESSFEED_DATA")
        .env_remove("WP_USER")
        .env_remove("WP_APP_PASSWORD")
        .envs(env.iter().copied())
        .arg("--feeds")
        .arg(feeds)
        .arg("check")
        .output()
        .unwrap()
}

/// Writes a file whole: a reader never sees it half-written.
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Two replicas on one store: one holds the singleton lease and polls on schedule, the
/// other does not poll at all; stopped, the holder gives the lease up and the other takes
/// it and polls. (A holder that dies without a word is replaced once its lease runs out:
/// tests/replicas.rs kills one.)
#[tokio::test]
async fn of_two_replicas_on_one_store_one_polls_and_the_other_takes_over() {
    let origin = Origin::start(Answer::Ndjson {
        body: line("wire-1", "world", "First"),
        etag: "\"v1\"".into(),
    })
    .await;
    let sources = format!(
        "[[sources]]\nname = \"wire\"\nkind = \"json\"\nurl = \"{}\"\nschedule = \"* * * * * *\"\n",
        origin.url()
    );
    let data = tempfile::tempdir().unwrap();
    let options = || Options::admin(&format!("editor:{TOKEN}"));
    let first = Server::start_on_with(site_with_sources(&sources), data.path(), options()).await;
    let polls = "pressfeed_source_polls_total";
    first
        .wait_until("the first replica's first poll", |s| async move {
            s.metric(polls).await >= 1.0
        })
        .await;
    let second = Server::start_on_with(site_with_sources(&sources), data.path(), options()).await;
    let before = first.metric(polls).await;
    first
        .wait_until("three more polls by the holder", |s| async move {
            s.metric(polls).await >= before + 3.0
        })
        .await;
    assert_eq!(second.metric(polls).await, 0.0, "the other replica polled");
    first.stop().await;
    second
        .wait_until("the second replica taking over", |s| async move {
            s.metric(polls).await >= 1.0
        })
        .await;
}
