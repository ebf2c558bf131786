//! The admin API over HTTP: who may call it and what each token's scopes allow, sections
//! edited without a restart, articles pushed in, and the answers to bad requests.

mod common;

use std::sync::{Arc, Mutex, OnceLock};

use common::{Options, Reply, Server, article, parse_rss, site};
use http::{Method, StatusCode};
use pressfeed::config::Config;
use pressfeed::store::StoredSection;
use serde_json::{Value, json};

const TOKEN: &str = "editor-token-0123456789";
const BEARER: &str = "Bearer editor-token-0123456789";
/// Tokens with scopes: the CMS's may only touch articles, the desk's only sections.
const CMS: &str = "cms-token-0123456789abcd";
const DESK: &str = "desk-token-0123456789abc";

fn admin() -> Options {
    Options::admin(&format!("# the test's tokens\neditor:{TOKEN}\n"))
}

async fn start(sections: &[(&str, &str)], articles: &[pressfeed::article::Article]) -> Server {
    Server::start_with(site(sections), articles, admin()).await
}

/// Section `slug` as the store holds it, read as another process would.
fn stored(server: &Server, slug: &str) -> Option<StoredSection> {
    let sections = server.store().sections().unwrap();
    sections.into_iter().find(|s| s.slug.as_str() == slug)
}

/// The configuration in force as another command (`pressfeed build`, say) would load it:
/// `site.toml` and the store's sections.
fn in_force(server: &Server) -> Config {
    pressfeed::live::load(server.feeds.path(), &server.store(), chrono::Utc::now()).unwrap()
}

/// An admin request with the unscoped token; `body` is sent as `application/json`.
async fn call(
    server: &Server,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Reply {
    call_as(server, TOKEN, method, path, body, headers).await
}

/// `call` with `token`.
async fn call_as(
    server: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let bearer = format!("Bearer {token}");
    let mut all = vec![("authorization", bearer.as_str())];
    let bytes = match body {
        Some(body) => {
            all.push(("content-type", "application/json"));
            body.to_string()
        }
        None => String::new(),
    };
    all.extend_from_slice(headers);
    server.send(method, path, &all, bytes).await
}

fn json_of(reply: &Reply) -> Value {
    serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("{e}: {:?} {}", reply.status, reply.text()))
}

/// Checks an error answer: its status, and the spec's body with `code` and `field`.
fn assert_error(reply: &Reply, status: StatusCode, code: &str, field: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.header("content-type"), "application/json");
    let body = json_of(reply);
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(body["error"]["field"].as_str(), field, "{body}");
}

fn new_section(slug: &str) -> Value {
    json!({
        "slug": slug,
        "title": format!("{slug} by API"),
        "description": "Made over HTTP",
        "link": format!("https://news.example/{slug}/"),
        "schedule": "0 0 0 1 1 *",
        "max_age": 60,
    })
}

async fn wait_for_status(server: &Server, path: &str, status: StatusCode) {
    server
        .wait_until(&format!("{path} to answer {status}"), |s| async move {
            s.get(path).await.status == status
        })
        .await;
}

async fn rss_titles(server: &Server, path: &str) -> Vec<String> {
    let reply = server.get(path).await;
    parse_rss(&reply.body)
        .items()
        .iter()
        .map(|i| i.title().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn every_admin_request_needs_a_valid_bearer_token() {
    let server = start(&[("world", "")], &[]).await;
    let wrong = format!("Bearer {TOKEN}x");
    let basic = format!("Basic {TOKEN}");
    for (headers, error) in [
        (vec![], None),
        (
            vec![("authorization", wrong.as_str())],
            Some("invalid_token"),
        ),
        (
            vec![("authorization", basic.as_str())],
            Some("invalid_request"),
        ),
        (vec![("authorization", "Bearer")], Some("invalid_request")),
    ] {
        for path in ["/admin/api/sections", "/admin/api/nothing-here"] {
            let reply = server.request(Method::GET, path, &headers).await;
            assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized", None);
            let challenge = reply.header("www-authenticate");
            assert!(challenge.starts_with("Bearer "), "{challenge}");
            if let Some(error) = error {
                assert!(challenge.contains(error), "{challenge}");
            }
        }
    }
    // A write without the token is refused before its body is looked at.
    let reply = server
        .send(
            Method::POST,
            "/admin/api/sections",
            &[("content-type", "application/json")],
            new_section("sports").to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(stored(&server, "sports").is_none());

    let reply = call(&server, Method::GET, "/admin/api/sections", None, &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
}

/// Everything the audit target logs in this test process, the server's connection threads
/// included: a process-wide subscriber, set up once.
fn audit_log() -> Arc<Mutex<Vec<u8>>> {
    #[derive(Clone)]
    struct Log(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Log {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Log(Arc::default());
        let shared = log.0.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("audit=info"))
            .with_ansi(false)
            .with_writer(move || log.clone())
            .init();
        shared
    })
    .clone()
}

/// The audit line of `who`'s `method` on `path` that was answered `status`.
fn audit_line(log: &Mutex<Vec<u8>>, who: &str, method: &str, path: &str, status: u16) -> String {
    let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    let (who, request) = (
        format!("who={who} "),
        format!("method={method} path={path} "),
    );
    text.lines()
        .find(|l| {
            l.contains(&who) && l.contains(&request) && l.contains(&format!("status={status}"))
        })
        .unwrap_or_else(|| panic!("no audit line of {who}{request}status={status} in\n{text}"))
        .to_owned()
}

#[tokio::test]
async fn a_token_may_do_what_its_scopes_allow_and_gets_403_for_the_rest() {
    let log = audit_log();
    let feeds = site(&[("world", ""), ("culture", "")]);
    let site_toml = feeds.path().join("site.toml");
    let text = std::fs::read_to_string(&site_toml).unwrap();
    std::fs::write(
        &site_toml,
        format!(
            "{text}\n[[sources]]\nname = \"desk\"\nkind = \"directory\"\npath = \"incoming\"\n\
             schedule = \"0 0 0 1 1 *\"\n[sources.categories]\nnews = \"world\"\n"
        ),
    )
    .unwrap();
    std::fs::create_dir(feeds.path().join("incoming")).unwrap();
    let tokens = format!("newsroom:{TOKEN}\ncms[articles]:{CMS}\ndesk[sections]:{DESK}\n");
    let server = Server::start_with(feeds, &[], Options::admin(&tokens)).await;
    let story = |id: &str| {
        json!({"id": id, "url": format!("https://news.example/{id}/"), "title": id,
            "sections": ["world"], "published_at": "2022-05-14T09:30:00Z"})
    };

    // Each token says what it may do, for the admin page.
    let token_of = |label| match label {
        "cms" => CMS,
        "desk" => DESK,
        _ => TOKEN,
    };
    for (label, scopes) in [
        ("newsroom", json!(["admin"])),
        ("cms", json!(["articles"])),
        ("desk", json!(["sections"])),
    ] {
        let token = token_of(label);
        let reply = call_as(&server, token, Method::GET, "/admin/api/whoami", None, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(json_of(&reply), json!({"label": label, "scopes": scopes}));
        // Reading the sections and the sources is open to every token.
        for path in [
            "/admin/api/sections",
            "/admin/api/sections/world",
            "/admin/api/sources",
        ] {
            let reply = call_as(&server, token, Method::GET, path, None, &[]).await;
            assert_eq!(reply.status, StatusCode::OK, "{label} {path}");
        }
    }

    let sports = || Some(new_section("sports"));
    let limit = || Some(json!({"limit": 3}));
    let [a1, a2, d1, e1] = ["a1", "a2", "d1", "e1"].map(|id| Some(story(id)));
    for (who, method, path, body, status) in [
        // The CMS pushes, reads and retracts articles and asks a source to poll...
        ("cms", Method::POST, "articles", a1, 200),
        ("cms", Method::PUT, "articles/a2", a2, 200),
        ("cms", Method::GET, "articles/a1", None, 200),
        ("cms", Method::DELETE, "articles/a2", None, 204),
        ("cms", Method::POST, "sources/desk/poll", None, 202),
        // ...but writes no section, however it asks.
        ("cms", Method::POST, "sections", sports(), 403),
        (
            "cms",
            Method::PUT,
            "sections/world",
            Some(new_section("world")),
            403,
        ),
        ("cms", Method::PATCH, "sections/world", limit(), 403),
        ("cms", Method::DELETE, "sections/culture", None, 403),
        // The desk the reverse: sections, but no articles and no polls.
        ("desk", Method::POST, "articles", d1.clone(), 403),
        ("desk", Method::PUT, "articles/d1", d1, 403),
        ("desk", Method::GET, "articles/a1", None, 403),
        ("desk", Method::DELETE, "articles/a1", None, 403),
        ("desk", Method::POST, "sources/desk/poll", None, 403),
        ("desk", Method::POST, "sections", sports(), 201),
        ("desk", Method::PATCH, "sections/sports", limit(), 200),
        ("desk", Method::DELETE, "sections/sports", None, 204),
        // The unscoped token, as every token was before scopes, may do all of it.
        ("newsroom", Method::POST, "articles", e1, 200),
        ("newsroom", Method::POST, "sources/desk/poll", None, 202),
        ("newsroom", Method::POST, "sections", sports(), 201),
        ("newsroom", Method::DELETE, "sections/sports", None, 204),
    ] {
        let path = format!("/admin/api/{path}");
        let reply = call_as(&server, token_of(who), method.clone(), &path, body, &[]).await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{who} {method} {path}: {}",
            reply.text()
        );
        if status == 403 {
            assert_error(&reply, StatusCode::FORBIDDEN, "forbidden", None);
            let needed = if path.contains("sections") {
                "sections"
            } else {
                "articles"
            };
            let message = json_of(&reply)["error"]["message"].to_string();
            assert!(
                message.contains(needed),
                "names the scope it needs: {message}"
            );
        }
    }
    // What was refused left nothing behind.
    assert_eq!(
        server.get("/feeds/culture.rss").await.status,
        StatusCode::OK
    );
    let reply = call(&server, Method::GET, "/admin/api/articles/a1", None, &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = call(&server, Method::GET, "/admin/api/articles/d1", None, &[]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // A wrong token is still 401, before any scope is looked at.
    let wrong = format!("{CMS}x");
    let reply = call_as(
        &server,
        &wrong,
        Method::POST,
        "/admin/api/sections",
        None,
        &[],
    )
    .await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthorized", None);

    // The audit log names the caller and the scope that let it in, or that it lacked.
    for (who, method, path, status, scope) in [
        ("cms", "POST", "/admin/api/articles", 200, "articles"),
        (
            "cms",
            "POST",
            "/admin/api/sources/desk/poll",
            202,
            "articles",
        ),
        (
            "cms",
            "DELETE",
            "/admin/api/sections/culture",
            403,
            "sections",
        ),
        ("desk", "POST", "/admin/api/sections", 201, "sections"),
        ("desk", "POST", "/admin/api/articles", 403, "articles"),
        ("newsroom", "POST", "/admin/api/sections", 201, "admin"),
    ] {
        let line = audit_line(&log, who, method, path, status);
        assert!(line.contains(&format!("scope={scope} ")), "{line}");
    }
    let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(
        !text.contains(CMS) && !text.contains(DESK) && !text.contains(TOKEN),
        "no token in the log"
    );
}

#[tokio::test]
async fn the_admin_api_is_off_without_a_token() {
    let server = Server::start(site(&[("world", "")]), &[]).await;
    for method in [Method::GET, Method::POST] {
        let reply = call(&server, method, "/admin/api/sections", None, &[]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(server.get("/feeds/world.rss").await.status, StatusCode::OK);
}

#[tokio::test]
async fn sections_are_listed_and_read_with_their_etag() {
    let server = start(&[("world", "limit = 7"), ("off", "enabled = false")], &[]).await;
    let list = call(&server, Method::GET, "/admin/api/sections", None, &[]).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.header("cache-control"), "no-store");
    let list = json_of(&list);
    let slugs: Vec<_> = list["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["section"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        ["off", "world"],
        "every section, disabled too, by slug"
    );

    let reply = call(&server, Method::GET, "/admin/api/sections/world", None, &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let etag = reply.header("etag");
    assert_eq!(etag.len(), 34, "a quoted 32-hex hash: {etag}");
    assert_eq!(list["sections"][1]["etag"], etag);
    let text = stored(&server, "world").unwrap().text;
    let file = std::fs::read_to_string(server.feeds.path().join("sections/world.toml")).unwrap();
    assert_eq!(text, file, "seeded from the file, byte for byte");
    assert_eq!(
        etag,
        format!("\"{}\"", pressfeed::digest::content_hash(text.as_bytes())),
        "the tag is the stored text's hash"
    );
    let section = json_of(&reply);
    assert_eq!(section["title"], "world title");
    assert_eq!(section["limit"], 7);
    assert_eq!(section["content"], "full", "defaults are spelled out");
    assert_eq!(section["link"], "https://news.example/world/");

    let missing = call(&server, Method::GET, "/admin/api/sections/nope", None, &[]).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found", None);
}

#[tokio::test]
async fn a_section_created_by_the_api_is_served_and_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_on_with(site(&[("world", "")]), data.path(), admin()).await;
    assert_eq!(
        server.get("/feeds/sports.rss").await.status,
        StatusCode::NOT_FOUND
    );
    let reply = call(
        &server,
        Method::POST,
        "/admin/api/sections",
        Some(new_section("sports")),
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.header("location"), "/admin/api/sections/sports");
    let etag = reply.header("etag").to_owned();
    assert_eq!(json_of(&reply)["title"], "sports by API");
    wait_for_status(&server, "/feeds/sports.rss", StatusCode::OK).await;
    assert_eq!(
        parse_rss(&server.get("/feeds/sports.rss").await.body).title(),
        "sports by API"
    );

    // The store keeps readable TOML that `pressfeed check` accepts; no file is written.
    let text = stored(&server, "sports").unwrap().text;
    assert!(text.contains("title = \"sports by API\""), "{text}");
    assert_eq!(in_force(&server).section("sports").unwrap().max_age, 60);
    assert!(!server.feeds.path().join("sections/sports.toml").exists());

    let feeds = server.stop().await;
    let server = Server::start_on_with(feeds, data.path(), admin()).await;
    assert_eq!(server.get("/feeds/sports.rss").await.status, StatusCode::OK);
    let reply = call(
        &server,
        Method::GET,
        "/admin/api/sections/sports",
        None,
        &[],
    )
    .await;
    assert_eq!(reply.header("etag"), etag, "same file, same tag");
}

#[tokio::test]
async fn two_editors_with_the_same_etag_one_wins_and_one_gets_412() {
    let server = start(&[("world", "")], &[]).await;
    let path = "/admin/api/sections/world";
    let read = call(&server, Method::GET, path, None, &[]).await;
    let etag = read.header("etag").to_owned();
    let mut alice = json_of(&read);
    alice["title"] = json!("Alice's world");
    let mut bob = alice.clone();
    bob["title"] = json!("Bob's world");

    let if_match = [("if-match", etag.as_str())];
    let (a, b) = tokio::join!(
        call(&server, Method::PUT, path, Some(alice), &if_match),
        call(&server, Method::PUT, path, Some(bob), &if_match),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::PRECONDITION_FAILED],
        "{} / {}",
        a.text(),
        b.text()
    );
    let (winner, loser) = if a.status == StatusCode::OK {
        (a, b)
    } else {
        (b, a)
    };
    assert_error(
        &loser,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        None,
    );
    let now = call(&server, Method::GET, path, None, &[]).await;
    assert_eq!(json_of(&now)["title"], json_of(&winner)["title"]);
    assert_eq!(now.header("etag"), winner.header("etag"));
    assert_ne!(winner.header("etag"), etag);

    // The current tag proceeds; so does a write without If-Match (it is optional).
    let fresh = [("if-match", winner.header("etag"))];
    let patch = json!({"title": "Agreed world"});
    let reply = call(&server, Method::PATCH, path, Some(patch), &fresh).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = call(&server, Method::PATCH, path, Some(json!({"limit": 9})), &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let stale = [("if-match", etag.as_str())];
    let reply = call(&server, Method::DELETE, path, None, &stale).await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    assert!(stored(&server, "world").is_some());
}

#[tokio::test]
async fn patch_changes_only_the_given_fields_and_the_feed_follows() {
    let server = start(
        &[("world", "max_age = 120\ntags = [\"x\"]")],
        &[article(
            "a",
            &["world"],
            "2022-05-14T09:30:00Z",
            json!({"tags": ["x"]}),
        )],
    )
    .await;
    let path = "/admin/api/sections/world";
    let reply = server
        .send(
            Method::PATCH,
            path,
            &[
                ("authorization", BEARER),
                ("content-type", "application/merge-patch+json"),
            ],
            r#"{"title": "World, patched", "tags": null}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let section = json_of(&reply);
    assert_eq!(section["title"], "World, patched");
    assert_eq!(section["tags"], json!([]), "null resets to the default");
    assert_eq!(section["max_age"], 120, "untouched fields stay");
    server
        .wait_until("the new title", |s| async move {
            let reply = s.get("/feeds/world.rss").await;
            reply.status == StatusCode::OK && parse_rss(&reply.body).title() == "World, patched"
        })
        .await;
}

#[tokio::test]
async fn writes_are_validated_like_pressfeed_check() {
    let server = start(&[("world", "")], &[]).await;
    let with = |key: &str, value: Value| {
        let mut body = new_section("sports");
        body[key] = value;
        body
    };
    let cases = [
        (with("slug", json!("Sports Desk")), "slug"),
        (with("content", json!("teaser")), "content"),
        (with("schedule", json!("*/5 * * * *")), "schedule"),
        (with("schedule", json!("every minute")), "schedule"),
        (with("limit", json!(0)), "limit"),
        (with("limit", json!(501)), "limit"),
        (with("link", json!("ftp://news.example/")), "link"),
        (with("colour", json!("red")), "colour"),
        (with("title", json!("  ")), "title"),
    ];
    for (body, field) in cases {
        let reply = call(
            &server,
            Method::POST,
            "/admin/api/sections",
            Some(body),
            &[],
        )
        .await;
        assert_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some(field),
        );
    }
    let reply = call(
        &server,
        Method::PUT,
        "/admin/api/sections/world",
        Some(with("slug", json!("sports"))),
        &[],
    )
    .await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("slug"),
    );
    let reply = call(
        &server,
        Method::PATCH,
        "/admin/api/sections/world",
        Some(json!({"limit": 1000})),
        &[],
    )
    .await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("limit"),
    );

    let config = in_force(&server);
    assert_eq!(config.sections.len(), 1, "nothing was written");
    assert_eq!(config.section("world").unwrap().limit, 50);
}

#[tokio::test]
async fn a_patch_of_a_stored_section_that_does_not_load_is_409_naming_its_file() {
    let server = start(&[("world", "")], &[]).await;
    // As a pressfeed with other rules might have left it.
    store_text(&server, "world", "slug = \"world\"\ntitle = 3\n");
    let path = "/admin/api/sections/world";
    let reply = call(&server, Method::PATCH, path, Some(json!({"limit": 9})), &[]).await;
    assert_error(&reply, StatusCode::CONFLICT, "conflict", None);
    let body = json_of(&reply);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("sections/world.toml: line 2: title: "),
        "{message}"
    );
    let feeds = server.feeds.path().to_str().unwrap();
    assert!(!message.contains(feeds), "{message}");
}

#[tokio::test]
async fn post_to_a_taken_slug_is_409_and_put_to_a_missing_one_is_404() {
    let server = start(&[("world", "")], &[]).await;
    let reply = call(
        &server,
        Method::POST,
        "/admin/api/sections",
        Some(new_section("world")),
        &[],
    )
    .await;
    assert_error(&reply, StatusCode::CONFLICT, "conflict", None);
    assert!(
        stored(&server, "world")
            .unwrap()
            .text
            .contains("world title"),
        "the existing section is untouched"
    );
    for method in [Method::PUT, Method::PATCH] {
        let reply = call(
            &server,
            method,
            "/admin/api/sections/sports",
            Some(new_section("sports")),
            &[],
        )
        .await;
        assert_error(&reply, StatusCode::NOT_FOUND, "not_found", None);
    }
    let reply = call(
        &server,
        Method::DELETE,
        "/admin/api/sections/sports",
        None,
        &[],
    )
    .await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found", None);
    assert!(stored(&server, "sports").is_none());
}

#[tokio::test]
async fn a_deleted_sections_feeds_answer_410_and_a_disabled_ones_404() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_on_with(
        site(&[("world", ""), ("business", ""), ("sports", "")]),
        data.path(),
        admin(),
    )
    .await;
    let reply = call(
        &server,
        Method::DELETE,
        "/admin/api/sections/business",
        None,
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert!(stored(&server, "business").is_none());
    assert!(
        server.feeds.path().join("sections/business.toml").exists(),
        "the admin API writes no file"
    );
    wait_for_status(&server, "/feeds/business.rss", StatusCode::GONE).await;
    for file in ["atom", "json", "rss.html", "json.html"] {
        let path = format!("/feeds/business.{file}");
        assert_eq!(server.get(&path).await.status, StatusCode::GONE, "{path}");
    }
    let reply = call(
        &server,
        Method::GET,
        "/admin/api/sections/business",
        None,
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    let off = json!({"enabled": false});
    let reply = call(
        &server,
        Method::PATCH,
        "/admin/api/sections/sports",
        Some(off),
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    wait_for_status(&server, "/feeds/sports.rss", StatusCode::NOT_FOUND).await;
    assert_eq!(server.get("/feeds/world.rss").await.status, StatusCode::OK);

    // Gone survives a restart: the store remembers which feeds were served.
    let feeds = server.stop().await;
    let server = Server::start_on_with(feeds, data.path(), admin()).await;
    assert_eq!(
        server.get("/feeds/business.rss").await.status,
        StatusCode::GONE
    );
    assert_eq!(
        server.get("/feeds/sports.rss").await.status,
        StatusCode::NOT_FOUND
    );

    // A section made again under the same slug is served again.
    let reply = call(
        &server,
        Method::POST,
        "/admin/api/sections",
        Some(new_section("business")),
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    wait_for_status(&server, "/feeds/business.rss", StatusCode::OK).await;
}

#[tokio::test]
async fn a_section_added_live_is_503_until_its_first_build() {
    let server = start(&[("world", ""), ("business", "")], &[]).await;
    let reply = call(
        &server,
        Method::DELETE,
        "/admin/api/sections/business",
        None,
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    wait_for_status(&server, "/feeds/business.rss", StatusCode::GONE).await;

    // Another process adds a section and at once holds the store's write lock, so the
    // server sees the section (its poll reads the store) but cannot publish its first
    // build. The lock's connection is open before the import: taking it is one statement
    // after the import's commit, far quicker than a poll, a reload and a build.
    let sections = tempfile::tempdir().unwrap();
    for slug in ["world", "sports"] {
        let text = std::fs::read_to_string(server.feeds.path().join("sections/world.toml"))
            .unwrap()
            .replace("world", slug);
        std::fs::write(sections.path().join(format!("{slug}.toml")), text).unwrap();
    }
    let lock = common::write_then_hold_lock(&server.data, || {
        pressfeed::live::import(sections.path(), &server.store(), false, chrono::Utc::now())
            .unwrap();
    });
    server
        .wait_until("the imported section seen", |s| async move {
            call(s, Method::GET, "/admin/api/sections/sports", None, &[])
                .await
                .status
                == StatusCode::OK
        })
        .await;
    for format in ["rss", "atom", "json"] {
        let reply = server.get(&format!("/feeds/sports.{format}")).await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "sports.{format}"
        );
        assert_eq!(reply.header("retry-after"), "1");
        assert_eq!(reply.header("cache-control"), "no-store");
    }
    assert_eq!(
        server.get("/feeds/business.rss").await.status,
        StatusCode::GONE
    );
    assert_eq!(
        server.get("/feeds/nowhere.rss").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(server.get("/feeds/world.rss").await.status, StatusCode::OK);

    drop(lock);
    server
        .wait_until("sports' first build", |s| async move {
            let status = s.get("/feeds/sports.rss").await.status;
            assert!(
                [StatusCode::SERVICE_UNAVAILABLE, StatusCode::OK].contains(&status),
                "sports.rss answered {status}"
            );
            status == StatusCode::OK
        })
        .await;
}

#[tokio::test]
async fn a_stored_section_that_does_not_load_leaves_the_last_good_config_serving() {
    let server = start(
        &[("world", "")],
        &[article("a", &["world"], "2022-05-14T09:30:00Z", json!({}))],
    )
    .await;
    let before = server.get("/feeds/world.rss").await;
    const FAILED: &str = "pressfeed_config_load_failures_total";
    let failed = server.metric(FAILED).await;
    // A hand edit of the section file is not served: the store's text is.
    let file = server.feeds.path().join("sections/world.toml");
    std::fs::write(&file, "slug = \"world\"\ntitle = [broken").unwrap();
    // As a pressfeed with other rules might leave it.
    store_text(&server, "world", "slug = \"world\"\ntitle = [broken");
    hangup();
    // The SIGHUP or the next poll of the store, whichever comes first, read the text.
    server
        .wait_until("the broken text read", |s| async move {
            s.metric(FAILED).await > failed
        })
        .await;
    let during = server.get("/feeds/world.rss").await;
    assert_eq!(during.status, StatusCode::OK);
    assert_eq!(during.header("etag"), before.header("etag"));
    let reply = call(&server, Method::GET, "/admin/api/sections/world", None, &[]).await;
    assert_eq!(
        json_of(&reply)["title"],
        "world title",
        "the served section"
    );

    // Mended in the store by another process, it is picked up without a restart.
    store_text(
        &server,
        "world",
        &common::section("world", "").replace("world title", "Mended in the store"),
    );
    server
        .wait_until("the mended title", |s| async move {
            parse_rss(&s.get("/feeds/world.rss").await.body).title() == "Mended in the store"
        })
        .await;
}

/// Stores `text` as section `slug` behind pressfeed's back, bumping the sections version
/// as every write does: what a pressfeed with other rules could leave in the store.
fn store_text(server: &Server, slug: &str, text: &str) {
    let hash = pressfeed::digest::content_hash(text.as_bytes());
    let quoted = |value: &str| format!("'{}'", value.replace('\'', "''"));
    common::execute_sql(
        &server.data,
        &format!(
            "UPDATE sections SET text = {}, hash = {} WHERE slug = {};
             UPDATE sections_version SET version = version + 1;",
            quoted(text),
            quoted(&hash),
            quoted(slug)
        ),
    );
}

/// Sends SIGHUP to this test process: every running test server reloads its files. The
/// servers' watchers are listening for it, so it does not end the process.
fn hangup() {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_batch_with_one_bad_article_is_rejected_whole() {
    let server = start(
        &[("world", "")],
        &[article(
            "old",
            &["world"],
            "2022-05-01T09:30:00Z",
            json!({}),
        )],
    )
    .await;
    let good = |id: &str| {
        json!({"id": id, "url": format!("https://news.example/{id}/"), "title": id,
               "sections": ["world"], "published_at": "2022-05-14T09:30:00Z"})
    };
    let mut bad = good("b3");
    bad.as_object_mut().unwrap().remove("published_at");
    let batch = json!([good("b0"), good("b1"), good("b2"), bad, good("b4")]);
    let before = server.store().change_counter().unwrap();
    let reply = call(
        &server,
        Method::POST,
        "/admin/api/articles",
        Some(batch),
        &[],
    )
    .await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("[3].published_at"),
    );
    assert_eq!(
        server.store().change_counter().unwrap(),
        before,
        "nothing stored"
    );
    assert_eq!(server.store().article_count().unwrap(), 1);

    let mut bad_image = good("c1");
    bad_image["image"] = json!({"url": "https://cdn.example/a.jpg", "width": -1});
    let batch = json!([good("c0"), bad_image]);
    let reply = call(
        &server,
        Method::POST,
        "/admin/api/articles",
        Some(batch),
        &[],
    )
    .await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("[1].image.width"),
    );
    let reply = call(
        &server,
        Method::POST,
        "/admin/api/articles",
        Some(json!([good("d0"), 7])),
        &[],
    )
    .await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("[1]"),
    );
    assert_eq!(server.store().article_count().unwrap(), 1);

    // A byline or tag of nothing visible costs the story nothing: it is left out, and
    // named in the answer; the title alone must be visible.
    let mut junk = good("b1");
    junk["authors"] = json!([{"name": "\u{7}"}, {"name": "Desk"}]);
    junk["tags"] = json!(["Tennis", "\u{200b}\u{202e}"]);
    let batch = json!([good("b0"), junk]);
    let reply = call(
        &server,
        Method::POST,
        "/admin/api/articles",
        Some(batch),
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let left_out = "has no visible characters; the";
    assert_eq!(
        json_of(&reply),
        json!({"stored": 2, "ids": ["b0", "b1"], "warnings": [
            {"field": "[1].authors[0].name", "reason": format!("{left_out} author was left out")},
            {"field": "[1].tags[1]", "reason": format!("{left_out} tag was left out")},
        ]})
    );
    assert_eq!(server.store().article_count().unwrap(), 3);
    let stored = call(&server, Method::GET, "/admin/api/articles/b1", None, &[]).await;
    assert_eq!(json_of(&stored)["tags"], json!(["Tennis"]));

    let mut invisible = good("b5");
    invisible["title"] = json!("\u{200b} \u{1}");
    let reply = call(
        &server,
        Method::POST,
        "/admin/api/articles",
        Some(invisible),
        &[],
    )
    .await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("title"),
    );
    assert!(
        reply.text().contains("has no visible characters"),
        "{}",
        reply.text()
    );
}

/// How soon is measured by `benches/freshness.rs` and `benches/load.sh` (BENCHMARKS.md);
/// here it must arrive, once.
#[tokio::test]
async fn a_posted_article_appears_in_its_feed() {
    let server = start(&[("world", "")], &[]).await;
    assert!(rss_titles(&server, "/feeds/world.rss").await.is_empty());
    let body = json!({"id": "breaking", "url": "https://news.example/breaking/",
        "title": "Breaking news", "sections": ["world"], "published_at": "2022-05-14T09:30:00Z"});
    let reply = call(
        &server,
        Method::POST,
        "/admin/api/articles",
        Some(body),
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(json_of(&reply)["stored"], 1);
    server
        .wait_until("the posted article in its feed", |s| async {
            !rss_titles(s, "/feeds/world.rss").await.is_empty()
        })
        .await;
    assert_eq!(
        rss_titles(&server, "/feeds/world.rss").await,
        ["Breaking news"]
    );
}

#[tokio::test]
async fn articles_are_read_replaced_and_retracted_by_id() {
    let server = start(
        &[("world", "")],
        &[article("a", &["world"], "2022-05-14T09:30:00Z", json!({}))],
    )
    .await;
    let path = "/admin/api/articles/a";
    let reply = call(&server, Method::GET, path, None, &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let mut doc = json_of(&reply);
    assert_eq!(doc["id"], "a");
    assert_eq!(doc["title"], "Title of a");

    doc["id"] = json!("b");
    let reply = call(&server, Method::PUT, path, Some(doc.clone()), &[]).await;
    assert_error(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        Some("id"),
    );

    doc.as_object_mut().unwrap().remove("id");
    doc["title"] = json!("Title, corrected");
    doc["tags"] = json!(["\u{feff}"]);
    let reply = call(&server, Method::PUT, path, Some(doc), &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let stored = json_of(&reply);
    assert_eq!(stored["id"], "a", "the id comes from the URL");
    assert_eq!(stored["warnings"][0]["field"], "tags[0]", "{stored}");
    assert!(stored.get("tags").is_none(), "{stored}");
    server
        .wait_until("the corrected title", |s| async move {
            rss_titles(s, "/feeds/world.rss").await == ["Title, corrected"]
        })
        .await;

    let reply = call(&server, Method::DELETE, path, None, &[]).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    server
        .wait_until("the retraction", |s| async move {
            rss_titles(s, "/feeds/world.rss").await.is_empty()
        })
        .await;
    let reply = call(&server, Method::DELETE, path, None, &[]).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found", None);
    let reply = call(&server, Method::GET, path, None, &[]).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found", None);
    let reply = call(
        &server,
        Method::GET,
        "/admin/api/articles/not%20an%20id",
        None,
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_requests_get_json_errors_with_the_fitting_status() {
    let options = Options {
        max_body: Some(4096),
        ..admin()
    };
    let server = Server::start_with(site(&[("world", "")]), &[], options).await;
    let post = |content_type: &'static str, body: String| {
        let server = &server;
        async move {
            server
                .send(
                    Method::POST,
                    "/admin/api/sections",
                    &[("authorization", BEARER), ("content-type", content_type)],
                    body,
                )
                .await
        }
    };

    let reply = post("application/json", "{\"slug\": ".into()).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_json", None);
    let reply = post("application/json", String::new()).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_json", None);

    let body = new_section("sports").to_string();
    let reply = post("text/plain", body.clone()).await;
    assert_error(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        None,
    );
    let reply = server
        .send(
            Method::POST,
            "/admin/api/sections",
            &[("authorization", BEARER)],
            body.clone(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let reply = post("application/json; charset=utf-8", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "parameters are fine");

    let mut big = new_section("big");
    big["description"] = json!("x".repeat(5000));
    let reply = post("application/json", big.to_string()).await;
    assert_error(
        &reply,
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        None,
    );
    assert!(stored(&server, "big").is_none());

    for (method, path, allow) in [
        (Method::DELETE, "/admin/api/sections", "GET, HEAD, POST"),
        (
            Method::POST,
            "/admin/api/sections/world",
            "GET, HEAD, PUT, PATCH, DELETE",
        ),
        (Method::GET, "/admin/api/articles", "POST"),
        (
            Method::PATCH,
            "/admin/api/articles/a",
            "GET, HEAD, PUT, DELETE",
        ),
    ] {
        let reply = call(&server, method, path, None, &[]).await;
        assert_error(
            &reply,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            None,
        );
        assert_eq!(reply.header("allow"), allow, "{path}");
    }
    for path in [
        "/admin/api/",
        "/admin/api/things",
        "/admin/api/sections/a/b",
    ] {
        let reply = call(&server, Method::GET, path, None, &[]).await;
        assert_error(&reply, StatusCode::NOT_FOUND, "not_found", None);
    }
}

#[tokio::test]
async fn a_batch_over_the_limit_is_413() {
    let server = start(&[("world", "")], &[]).await;
    let one = |i: usize| {
        json!({"id": format!("n{i}"), "url": "https://news.example/n/", "title": "n",
               "sections": ["world"], "published_at": "2022-05-14T09:30:00Z"})
    };
    let batch: Vec<_> = (0..=pressfeed::admin::MAX_BATCH).map(one).collect();
    let reply = call(
        &server,
        Method::POST,
        "/admin/api/articles",
        Some(json!(batch)),
        &[],
    )
    .await;
    assert_error(
        &reply,
        StatusCode::PAYLOAD_TOO_LARGE,
        "batch_too_large",
        None,
    );
    assert_eq!(server.store().article_count().unwrap(), 0);

    let batch: Vec<_> = (0..pressfeed::admin::MAX_BATCH).map(one).collect();
    let reply = call(
        &server,
        Method::POST,
        "/admin/api/articles",
        Some(json!(batch)),
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        server.store().article_count().unwrap(),
        pressfeed::admin::MAX_BATCH as i64
    );
}

#[tokio::test]
async fn the_section_list_says_what_each_feed_serves_now() {
    let server = start(
        &[("world", ""), ("off", "enabled = false")],
        &[
            article("w1", &["world"], "2022-05-01T10:00:00Z", json!({})),
            article("w2", &["world"], "2022-05-02T10:00:00Z", json!({})),
        ],
    )
    .await;
    let list = json_of(&call(&server, Method::GET, "/admin/api/sections", None, &[]).await);
    let (off, world) = (&list["sections"][0], &list["sections"][1]);
    assert_eq!(world["section"]["slug"], "world");
    assert_eq!(world["items"], 2, "{world}");
    let feeds: Vec<_> = world["feeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["format"].as_str().unwrap(),
                f["url"].as_str().unwrap(),
                f["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        feeds,
        [
            (
                "rss",
                "https://feeds.news.example/feeds/world.rss",
                "/feeds/world.rss"
            ),
            (
                "atom",
                "https://feeds.news.example/feeds/world.atom",
                "/feeds/world.atom"
            ),
            (
                "json",
                "https://feeds.news.example/feeds/world.json",
                "/feeds/world.json"
            ),
        ]
    );
    for (_, _, path) in &feeds {
        assert_eq!(server.get(path).await.status, StatusCode::OK, "{path}");
    }
    // The feed's Last-Modified, as its own response says it.
    let modified = world["feed_modified"].as_str().unwrap();
    let header = server.get("/feeds/world.json").await;
    let header = httpdate::parse_http_date(header.header("last-modified")).unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(modified)
            .unwrap()
            .timestamp(),
        chrono::DateTime::<chrono::Utc>::from(header).timestamp()
    );
    // The section file was written moments ago, by the test.
    let changed = chrono::DateTime::parse_from_rfc3339(world["changed"].as_str().unwrap()).unwrap();
    assert!((chrono::Utc::now().timestamp() - changed.timestamp()).abs() < 600);
    // A disabled section serves no feed: nothing to count.
    assert!(
        off["items"].is_null() && off["feed_modified"].is_null(),
        "{off}"
    );
    assert_eq!(off["feeds"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn schedule_explains_a_cron_by_its_next_three_runs() {
    let clock = common::manual_clock();
    clock.set("2026-01-05T08:59:30Z".parse().unwrap());
    let server = Server::start_with(site(&[("world", "")]), &[], admin().on(clock.clock())).await;
    let reply = call(
        &server,
        Method::GET,
        "/admin/api/schedule?cron=0%20*%2F5%20*%20*%20*%20*",
        None,
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    // The next three runs after the server's "now", whatever the machine's clock says.
    assert_eq!(
        json_of(&reply)["next"],
        json!([
            "2026-01-05T09:00:00Z",
            "2026-01-05T09:05:00Z",
            "2026-01-05T09:10:00Z"
        ])
    );

    for query in ["?cron=*%2F5+*+*+*+*", "?cron=every+day", "", "?cron="] {
        let reply = call(
            &server,
            Method::GET,
            &format!("/admin/api/schedule{query}"),
            None,
            &[],
        )
        .await;
        assert_error(
            &reply,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            Some("schedule"),
        );
    }
    // The 5-field mistake gets the hint that fixes it.
    let reply = call(
        &server,
        Method::GET,
        "/admin/api/schedule?cron=*%2F5+*+*+*+*",
        None,
        &[],
    )
    .await;
    assert!(
        json_of(&reply)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("seconds first")
    );
    let reply = server.get("/admin/api/schedule?cron=0+0+9+*+*+*").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "needs the token");
    let reply = call(&server, Method::POST, "/admin/api/schedule", None, &[]).await;
    assert_error(
        &reply,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        None,
    );
}

/// The page's files: public, typed, under the strict CSP, with the API on or off.
#[tokio::test]
async fn the_admin_page_is_served_with_a_strict_csp_whether_or_not_the_api_is_on() {
    let on = start(&[("world", "")], &[]).await;
    let off = Server::start(site(&[("world", "")]), &[]).await;
    for server in [&on, &off] {
        for (path, content_type, marker) in [
            (
                "/admin/",
                "text/html; charset=utf-8",
                "<script src=\"admin.js\"",
            ),
            (
                "/admin/admin.js",
                "text/javascript; charset=utf-8",
                "sessionStorage",
            ),
            ("/admin/admin.css", "text/css; charset=utf-8", ":root"),
        ] {
            let reply = server.get(path).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert_eq!(reply.header("content-type"), content_type, "{path}");
            assert_eq!(
                reply.header("content-security-policy"),
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
                 connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
            );
            assert_eq!(reply.header("x-content-type-options"), "nosniff");
            assert!(reply.text().contains(marker), "{path}");
        }
        let index = server.get("/admin/").await;
        let html = index.text();
        assert!(
            !html.contains("<script>") && !html.contains("style="),
            "no inline script or style: the CSP would block them"
        );
        let redirect = server.get("/admin").await;
        assert_eq!(redirect.status, StatusCode::PERMANENT_REDIRECT);
        assert_eq!(redirect.header("location"), "/admin/");
        let post = server.request(Method::POST, "/admin/", &[]).await;
        assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    }
    // How the page tells the two apart: a JSON 401 when on, a plain 404 when off.
    assert_eq!(
        on.get("/admin/api/sections").await.status,
        StatusCode::UNAUTHORIZED
    );
    let reply = off.get("/admin/api/sections").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.header("content-type").starts_with("text/plain"));
}
