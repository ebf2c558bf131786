//! Sections live in the store: seeded once from `feeds/sections`, edited by the admin API
//! with a read-only feeds directory, moved to and from files by `pressfeed sections export`
//! and `import` (the real binary), and served without a restart when another process
//! imports them.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Options, Reply, Server, article, parse_rss, site};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const TOKEN: &str = "editor-token-0123456789";

fn admin() -> Options {
    Options::admin(&format!("editor:{TOKEN}\n"))
}

/// An admin request; `body` is sent as JSON.
async fn call(
    server: &Server,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let bearer = format!("Bearer {TOKEN}");
    let mut all = vec![
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    all.extend_from_slice(headers);
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    server.send(method, path, &all, body).await
}

/// `pressfeed --feeds FEEDS --data DATA ARGS...`, the real binary, run to its end.
fn pressfeed(feeds: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pressfeed"))
        .env_remove("PRESSFEED_FEEDS")
        .env_remove("PRESSFEED_DATA")
        .env("RUST_LOG", "pressfeed=warn")
        .arg("--feeds")
        .arg(feeds)
        .args(common::store_args(data))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// Every file under `dir` and its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                found.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The slugs the store holds.
fn stored_slugs(server: &Server) -> Vec<String> {
    let sections = server.store().sections().unwrap();
    sections.into_iter().map(|s| s.slug.to_string()).collect()
}

async fn rss_title(server: &Server, slug: &str) -> Option<String> {
    let reply = server.get(&format!("/feeds/{slug}.rss")).await;
    (reply.status == StatusCode::OK).then(|| parse_rss(&reply.body).title().to_owned())
}

#[tokio::test]
async fn an_admin_edit_succeeds_with_a_read_only_feeds_directory_and_writes_no_file() {
    let feeds = site(&[("world", "")]);
    let before = files(feeds.path());
    // Read-only as every shipped deployment mounts it. Root ignores mode bits, so the
    // test asserts below that no file was written rather than counting on EACCES.
    for dir in [feeds.path().join("sections"), feeds.path().to_owned()] {
        set_mode(&dir, 0o555);
    }
    let world = article("w1", &["world"], "2024-01-01T10:00:00Z", json!({}));
    let server = Server::start_with(feeds, &[world], admin()).await;
    let path = "/admin/api/sections/world";
    let etag = call(&server, Method::GET, path, None, &[])
        .await
        .header("etag")
        .to_owned();
    let patch = json!({"title": "World, edited"});
    let reply = call(
        &server,
        Method::PATCH,
        path,
        Some(patch),
        &[("if-match", &etag)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    server
        .wait_until("the edited title", |s| async move {
            rss_title(s, "world").await.as_deref() == Some("World, edited")
        })
        .await;
    let created = call(
        &server,
        Method::POST,
        "/admin/api/sections",
        Some(json!({
            "slug": "sports", "title": "Sports", "link": "https://news.example/sports/",
        })),
        &[],
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let gone = call(
        &server,
        Method::DELETE,
        "/admin/api/sections/sports",
        None,
        &[],
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text());

    // A stale tag is still refused.
    let stale = call(
        &server,
        Method::PATCH,
        path,
        Some(json!({"limit": 3})),
        &[("if-match", &etag)],
    )
    .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);

    let mode = std::fs::metadata(server.feeds.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o555);
    assert_eq!(
        files(server.feeds.path()),
        before,
        "no file under feeds/ was written"
    );
    for dir in [
        server.feeds.path().to_owned(),
        server.feeds.path().join("sections"),
    ] {
        set_mode(&dir, 0o755);
    }
}

#[tokio::test]
async fn the_store_is_seeded_once_so_deleting_every_section_sticks() {
    let data = tempfile::tempdir().unwrap();
    let server =
        Server::start_on_with(site(&[("world", ""), ("sports", "")]), data.path(), admin()).await;
    assert_eq!(stored_slugs(&server), ["sports", "world"]);
    for slug in ["sports", "world"] {
        let path = format!("/admin/api/sections/{slug}");
        let reply = call(&server, Method::DELETE, &path, None, &[]).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    }
    let feeds = server.stop().await;
    assert!(feeds.path().join("sections/world.toml").exists());
    let server = Server::start_on_with(feeds, data.path(), admin()).await;
    assert!(stored_slugs(&server).is_empty(), "not seeded again");
    assert_eq!(
        server.get("/feeds/world.rss").await.status,
        StatusCode::GONE
    );
}

#[test]
fn export_then_import_gives_back_the_very_bytes() {
    let feeds = site(&[("world", "tags = [\"x\"]  # a comment the store keeps\n")]);
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let exported = out.path().join("sections");
    let run = |args: &[&str]| pressfeed(feeds.path(), data.path(), args);

    let done = run(&["sections", "export", exported.to_str().unwrap()]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert_eq!(
        text(&done.stdout).trim(),
        format!("exported 1 sections to {}", exported.display())
    );
    let original = std::fs::read(feeds.path().join("sections/world.toml")).unwrap();
    assert_eq!(
        std::fs::read(exported.join("world.toml")).unwrap(),
        original
    );

    let done = run(&["sections", "import", exported.to_str().unwrap()]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(
        text(&done.stdout).contains("0 added, 0 changed, 0 removed, 1 unchanged"),
        "{}",
        text(&done.stdout)
    );

    // An edited and a new file, then exported again: the same bytes come back.
    let edited = String::from_utf8(original)
        .unwrap()
        .replace("world title", "World ✓");
    std::fs::write(exported.join("world.toml"), &edited).unwrap();
    std::fs::write(exported.join("sports.toml"), common::section("sports", "")).unwrap();
    let done = run(&["sections", "import", exported.to_str().unwrap()]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(
        text(&done.stdout).contains("1 added, 1 changed, 0 removed, 0 unchanged"),
        "{}",
        text(&done.stdout)
    );
    let again = out.path().join("again");
    let done = run(&["sections", "export", again.to_str().unwrap()]);
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert_eq!(
        files(&again).into_values().collect::<Vec<_>>(),
        files(&exported).into_values().collect::<Vec<_>>()
    );

    // A file taken away removes its section.
    std::fs::remove_file(exported.join("sports.toml")).unwrap();
    let done = run(&["sections", "import", exported.to_str().unwrap()]);
    assert!(
        text(&done.stdout).contains("0 added, 0 changed, 1 removed, 1 unchanged"),
        "{}",
        text(&done.stdout)
    );
    let listed = run(&["sections", "list"]);
    assert!(
        text(&listed.stdout).starts_with("world\tWorld ✓\t"),
        "{}",
        text(&listed.stdout)
    );
    assert_eq!(text(&listed.stdout).lines().count(), 1);
}

#[test]
fn an_import_with_a_bad_file_tells_every_problem_and_writes_nothing() {
    let feeds = site(&[("world", "")]);
    let data = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("world.toml"),
        common::section("world", "").replace("world title", "New"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sports.toml"),
        common::section("sports", "limit = 0"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("culture.toml"),
        "slug = \"culture\"\ntitle = [\n",
    )
    .unwrap();
    let seeded = pressfeed(feeds.path(), data.path(), &["sections", "list"]);
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));

    let done = pressfeed(
        feeds.path(),
        data.path(),
        &["sections", "import", dir.path().to_str().unwrap()],
    );
    assert_eq!(done.status.code(), Some(2), "{}", text(&done.stderr));
    let stderr = text(&done.stderr);
    assert!(stderr.contains("sports.toml: line 6: limit: "), "{stderr}");
    assert!(stderr.contains("culture.toml: line 2"), "{stderr}");
    let listed = pressfeed(feeds.path(), data.path(), &["sections", "list"]);
    assert_eq!(listed.stdout, seeded.stdout, "nothing was written");
}

#[tokio::test]
async fn an_import_refuses_a_section_edited_by_the_admin_api_unless_forced() {
    let server = Server::start_with(site(&[("world", ""), ("sports", "")]), &[], admin()).await;
    let reply = call(
        &server,
        Method::PATCH,
        "/admin/api/sections/world",
        Some(json!({"title": "Edited online"})),
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let created = call(
        &server,
        Method::POST,
        "/admin/api/sections",
        Some(json!({
            "slug": "culture", "title": "Culture", "link": "https://news.example/culture/",
        })),
        &[],
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());

    // The files in git: world edited there too, sports unchanged, culture unknown.
    let git = tempfile::tempdir().unwrap();
    let world = common::section("world", "").replace("world title", "Edited in git");
    std::fs::write(git.path().join("world.toml"), &world).unwrap();
    std::fs::copy(
        server.feeds.path().join("sections/sports.toml"),
        git.path().join("sports.toml"),
    )
    .unwrap();
    let import = |force: bool| {
        let mut args = vec!["sections", "import", git.path().to_str().unwrap()];
        if force {
            args.push("--force");
        }
        pressfeed(server.feeds.path(), &server.data, &args)
    };
    let refused = import(false);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("culture, world"),
        "each edited section named: {stderr}"
    );
    assert_eq!(
        stored_slugs(&server),
        ["culture", "sports", "world"],
        "nothing written"
    );

    let forced = import(true);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert!(
        text(&forced.stdout).contains("0 added, 1 changed, 1 removed, 1 unchanged"),
        "{}",
        text(&forced.stdout)
    );
    server
        .wait_until("git's title served", |s| async move {
            rss_title(s, "world").await.as_deref() == Some("Edited in git")
        })
        .await;
}

#[tokio::test]
async fn a_section_imported_by_another_process_is_served_without_a_restart() {
    let server = Server::start_with(
        site(&[("world", "")]),
        &[article(
            "s1",
            &["sports"],
            "2024-01-01T10:00:00Z",
            json!({}),
        )],
        admin(),
    )
    .await;
    assert_eq!(
        server.get("/feeds/sports.rss").await.status,
        StatusCode::NOT_FOUND
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        server.feeds.path().join("sections/world.toml"),
        dir.path().join("world.toml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sports.toml"),
        common::section("sports", ""),
    )
    .unwrap();
    let done = pressfeed(
        server.feeds.path(),
        &server.data,
        &["sections", "import", dir.path().to_str().unwrap()],
    );
    assert!(done.status.success(), "{}", text(&done.stderr));
    server
        .wait_until("the imported section's feed", |s| async move {
            rss_title(s, "sports").await.as_deref() == Some("sports title")
        })
        .await;
    let reply = call(
        &server,
        Method::GET,
        "/admin/api/sections/sports",
        None,
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}
