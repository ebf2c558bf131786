//! The `pressfeed` binary as a newcomer and an operator use it: check, import, build, serve.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{parse_atom, parse_rss, site};

fn pressfeed() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pressfeed"));
    cmd.env_remove("PRESSFEED_FEEDS")
        .env_remove("PRESSFEED_DATA")
        .env_remove("PRESSFEED_LISTEN")
        .env_remove("PRESSFEED_ADMIN_TOKEN")
        .env_remove("PRESSFEED_ADMIN_TOKEN_FILE")
        .env_remove("PRESSFEED_ADMIN_MAX_BODY")
        .env_remove("PRESSFEED_ACCESS_LOG")
        .env_remove("PRESSFEED_LOG_FORMAT")
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "pressfeed=warn");
    cmd
}

/// `pressfeed --feeds FEEDS --data DATA`, ready for its command.
fn pressfeed_on(feeds: impl AsRef<Path>, data: impl AsRef<Path>) -> Command {
    let mut cmd = pressfeed();
    cmd.arg("--feeds")
        .arg(feeds.as_ref())
        .arg("--data")
        .arg(data.as_ref());
    cmd
}

fn demo_feeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds")
}

/// `pressfeed import` of the demo articles into the store in `data`, which must succeed.
fn import_demo(data: &Path) {
    let demo = demo_feeds().join("demo/articles.ndjson");
    let out = pressfeed_on(demo_feeds(), data)
        .arg("import")
        .arg(&demo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn run_with_stdin(cmd: &mut Command, stdin: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

/// `pressfeed --feeds FEEDS check`.
fn check(feeds: &Path) -> Output {
    check_by(pressfeed(), feeds)
}

/// `check`, run by `cmd`: a `pressfeed()` with its environment set.
fn check_by(mut cmd: Command, feeds: &Path) -> Output {
    cmd.arg("--feeds").arg(feeds).arg("check").output().unwrap()
}

#[test]
fn check_accepts_the_demo_site() {
    let out = check(&demo_feeds());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("valid"));
}

#[test]
fn check_reports_every_problem_and_fails() {
    let feeds = site(&[("sports", "limit = 0"), ("ok", "")]);
    let unix_cron = common::section("world", "").replace("0 0 0 1 1 *", "*/5 * * * *");
    std::fs::write(feeds.path().join("sections/world.toml"), unix_cron).unwrap();
    std::fs::write(
        feeds.path().join("sections/bad-name.toml"),
        common::section("other", ""),
    )
    .unwrap();
    let out = check(feeds.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    for expected in [
        "world.toml: line 5: schedule:",
        "sports.toml: line 6: limit: must be 1 to 500 items, not 0",
        "bad-name.toml: line 1: slug:",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(!stderr.contains("ok.toml"));
}

#[test]
fn check_tells_every_problem_of_every_file_in_one_run() {
    let feeds = site(&[("ok", "")]);
    std::fs::write(
        feeds.path().join("site.toml"),
        r#"title = "Test Times"
url = "https://news.example/"
feed_base_url = "feeds/"
colour = "red"

[[sources]]
name = "Wire"
kind = "json"
schedule = "*/5 * * * *"
"#,
    )
    .unwrap();
    std::fs::write(
        feeds.path().join("sections/world.toml"),
        r#"slug = "World"
title = 3
link = "https://news.example/world/"
limit = 0
schedule = "every minute"
sort = "newest"
"#,
    )
    .unwrap();
    let out = check(feeds.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let expected = [
        "site.toml: default_author: required",
        "site.toml: line 3: feed_base_url: ",
        "site.toml: line 4: colour: unknown field `colour`",
        "site.toml: line 7: sources[0].name: ",
        "site.toml: line 9: sources[0].schedule: ",
        "world.toml: line 1: slug: ",
        "world.toml: line 2: title: invalid type",
        "world.toml: line 4: limit: must be 1 to 500 items, not 0",
        "world.toml: line 5: schedule: \"every minute\" is not a cron expression",
        "world.toml: line 6: sort: unknown field `sort`",
    ];
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(".toml: ")).collect();
    assert_eq!(lines.len(), expected.len(), "{stderr}");
    for (line, expected) in lines.iter().zip(expected) {
        assert!(
            line.contains(expected),
            "{expected:?} is not in {line:?}:\n{stderr}"
        );
    }
    assert!(!stderr.contains("ok.toml"), "{stderr}");
}

/// Four sources: credentials from two variables, a folder, a file, and a folder that is
/// there (`sections`).
const SOURCES: &str = r#"
[[sources]]
name = "newsroom"
kind = "wordpress"
url = "https://wp.example/"
username_env = "PRESSFEED_TEST_WP_USER"
password_env = "PRESSFEED_TEST_WP_PASSWORD"

[[sources]]
name = "inbox"
kind = "directory"
path = "incoming"

[[sources]]
name = "wire"
kind = "json"
path = "wire.ndjson"

[[sources]]
name = "desk"
kind = "directory"
path = "sections"
"#;

#[test]
fn check_tells_sources_this_machine_cannot_serve_and_other_commands_load_them() {
    let feeds = site(&[("world", "")]);
    let site_toml = format!("{}{SOURCES}", common::SITE);
    std::fs::write(feeds.path().join("site.toml"), &site_toml).unwrap();
    let line = |text: &str| 1 + site_toml.lines().position(|l| l == text).unwrap();
    let check = |password: Option<&str>| {
        let mut cmd = pressfeed();
        cmd.env("PRESSFEED_TEST_WP_USER", "editor");
        match password {
            Some(password) => cmd.env("PRESSFEED_TEST_WP_PASSWORD", password),
            None => cmd.env_remove("PRESSFEED_TEST_WP_PASSWORD"),
        };
        check_by(cmd, feeds.path())
    };

    let out = check(None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let feeds_dir = feeds.path().display();
    let expected = [
        format!(
            "site.toml: line {}: sources[0].password_env: environment variable \
             PRESSFEED_TEST_WP_PASSWORD is not set",
            line(r#"password_env = "PRESSFEED_TEST_WP_PASSWORD""#)
        ),
        format!(
            "site.toml: line {}: sources[1].path: {feeds_dir}/incoming does not exist",
            line(r#"path = "incoming""#)
        ),
        format!(
            "site.toml: line {}: sources[2].path: {feeds_dir}/wire.ndjson does not exist",
            line(r#"path = "wire.ndjson""#)
        ),
    ];
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(".toml: ")).collect();
    assert_eq!(lines.len(), expected.len(), "{stderr}");
    for (line, expected) in lines.iter().zip(&expected) {
        assert!(line.contains(expected), "{expected:?} is not in {line:?}");
    }

    // Only `check` asks: the configuration loads as written for the other commands (and
    // `serve`, whose sources tell what they lack at each poll).
    let data = tempfile::tempdir().unwrap();
    let listed = pressfeed_on(feeds.path(), data.path())
        .env_remove("PRESSFEED_TEST_WP_PASSWORD")
        .args(["sections", "list"])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{}", text(&listed.stderr));

    std::fs::create_dir(feeds.path().join("incoming")).unwrap();
    std::fs::create_dir(feeds.path().join("wire.ndjson")).unwrap();
    let out = check(Some("secret"));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "sources[2].path: {feeds_dir}/wire.ndjson is a directory, not a file"
        )),
        "{stderr}"
    );
    std::fs::remove_dir(feeds.path().join("wire.ndjson")).unwrap();
    std::fs::write(feeds.path().join("wire.ndjson"), "").unwrap();
    let out = check(Some("secret"));
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn import_keeps_good_lines_and_names_bad_ones() {
    let feeds = site(&[("world", "")]);
    let data = tempfile::tempdir().unwrap();
    let good = |id: &str| {
        format!(
            r#"{{"id":"{id}","url":"https://news.example/{id}","title":"T {id}","sections":["world"],"published_at":"2022-05-01T00:00:00Z"}}"#
        )
    };
    let input = [
        good("a"),
        r#"{"id":"b","url":"https://news.example/b","title":"B","sections":["world"],"published_at":"May 1"}"#.into(),
        "not json".into(),
        good("c"),
    ]
    .join("\n");
    let out = run_with_stdin(
        pressfeed_on(feeds.path(), data.path()).args(["import", "-"]),
        &input,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "bad lines make the exit code non-zero"
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("line 2: published_at:"), "{stderr}");
    assert!(stderr.contains("line 3: not valid JSON"), "{stderr}");
    assert!(text(&out.stdout).contains("imported 2 articles, 2 bad lines"));

    let export = tempfile::tempdir().unwrap();
    let out = pressfeed_on(feeds.path(), data.path())
        .arg("build")
        .arg("--out")
        .arg(export.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rss = std::fs::read(export.path().join("feeds/world.rss")).unwrap();
    assert_eq!(parse_rss(&rss).items().len(), 2);
    let atom = std::fs::read(export.path().join("feeds/world.atom")).unwrap();
    assert_eq!(parse_atom(&atom).entries().len(), 2);
}

/// `pressfeed serve` as the README runs it, on its own process.
struct Serve {
    child: Child,
    base: String,
    urls: Vec<String>,
}

impl Serve {
    fn start(feeds: &Path, data: &Path) -> Serve {
        Serve::start_with(pressfeed_on(feeds, data), |_| {})
    }

    /// `cmd serve`, with the flags `serve_args` adds.
    fn start_with(mut cmd: Command, serve_args: impl FnOnce(&mut Command)) -> Serve {
        cmd.arg("serve");
        serve_args(&mut cmd);
        let mut child = cmd
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let banner = lines.next().unwrap().unwrap();
        let base = banner
            .split(" on ")
            .nth(1)
            .unwrap()
            .trim_end_matches('/')
            .to_owned();
        let urls = lines
            .map_while(Result::ok)
            .take_while(|l| l.starts_with("  http://"))
            .map(|l| l.trim().to_owned())
            .collect();
        Serve { child, base, urls }
    }

    /// GETs `path` once the server is ready, with std only: this test must not share a runtime.
    fn get(&self, path: &str) -> (u16, String) {
        let addr = self.base.trim_start_matches("http://").to_owned();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok((status, _, body)) = http_get(&addr, path)
                && status != 503
            {
                return (status, body);
            }
            assert!(Instant::now() < deadline, "server did not answer {path}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap()
    }
}

/// The status, head and body of a GET of `path`.
fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String, String)> {
    let (status, head, body) = http_request(addr, "GET", path, &[])?;
    Ok((status, head, String::from_utf8_lossy(&body).into_owned()))
}

/// The status, head (lower case) and body bytes of a `method` request of `path` with the
/// extra `headers` (`name: value`).
fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[&str],
) -> std::io::Result<(u16, String, Vec<u8>)> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let headers: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n"
    )?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    let end = memchr::memmem::find(&reply, b"\r\n\r\n").map_or(reply.len(), |at| at + 4);
    let head = String::from_utf8_lossy(&reply[..end]).to_ascii_lowercase();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, head, reply[end..].to_vec()))
}

#[test]
fn serve_answers_503_not_404_from_its_first_moment_until_a_feed_is_built() {
    let data = tempfile::tempdir().unwrap();
    import_demo(data.path());
    // The sections are seeded into the store first: `serve` would wait for the lock to
    // seed them.
    let out = pressfeed_on(demo_feeds(), data.path())
        .args(["sections", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Another process holds the store's write lock: `serve` starts and listens, but its
    // first build cannot be saved, so it is not published until the lock goes.
    let lock = rusqlite::Connection::open(data.path().join(pressfeed::store::FILE_NAME)).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let server = Serve::start(&demo_feeds(), data.path());
    let addr = server.base.trim_start_matches("http://").to_owned();
    for path in [
        "/feeds/top-news.rss",
        "/feeds/world.json",
        "/feeds/index.opml",
    ] {
        let (status, head, _) = http_get(&addr, path).unwrap();
        assert_eq!(status, 503, "{path}: {head}");
        assert!(
            head.contains("retry-after: 1\r\n") && head.contains("cache-control: no-store\r\n"),
            "{head}"
        );
    }
    let (status, _, _) = http_get(&addr, "/feeds/no-such-section.rss").unwrap();
    assert_eq!(
        status, 404,
        "a feed the configuration lacks is still not found"
    );
    drop(lock);
    let (status, body) = server.get("/feeds/top-news.rss");
    assert_eq!(status, 200);
    assert!(!parse_rss(body.as_bytes()).items().is_empty());
    assert!(server.terminate().success());
}

#[test]
fn serve_runs_the_demo_site_from_a_fresh_data_directory() {
    let data = tempfile::tempdir().unwrap();
    let server = Serve::start(&demo_feeds(), data.path());
    assert!(
        server
            .urls
            .iter()
            .any(|u| u.ends_with("/feeds/top-news.rss")),
        "{:?}",
        server.urls
    );

    let (status, body) = server.get("/readyz");
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.get("/feeds/top-news.rss");
    assert_eq!(status, 200);
    let channel = parse_rss(body.as_bytes());
    let first = &channel.items()[0];
    assert_eq!(
        first.title(),
        Some("Austin speaks with Russian counterpart for first time since Ukraine invasion")
    );
    assert!(
        first.content().unwrap().contains("SJ6vaRpQ0fc"),
        "the YouTube link is in the body"
    );
    for url in &server.urls {
        let path = url.trim_start_matches(&server.base);
        assert_eq!(server.get(path).0, 200, "{url}");
    }

    // An import into the running server's store shows up without a restart.
    let line = r#"{"id":"breaking-1","url":"https://asianlite.example/breaking-1/","title":"Breaking: imported while serving","sections":["top-news"],"published_at":"2026-01-01T00:00:00Z"}"#;
    let out = run_with_stdin(
        pressfeed_on(demo_feeds(), data.path()).args(["import", "-"]),
        line,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server
        .get("/feeds/top-news.rss")
        .1
        .contains("Breaking: imported while serving")
    {
        assert!(
            Instant::now() < deadline,
            "the imported article never appeared"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    assert!(server.terminate().success(), "SIGTERM is a clean shutdown");
}

/// The first line `serve` logs to stderr, `env` set, before it is killed.
fn first_log_line(env: &[(&str, &str)]) -> String {
    let feeds = site(&[("world", "")]);
    let data = tempfile::tempdir().unwrap();
    let mut child = pressfeed_on(feeds.path(), data.path())
        .env("RUST_LOG", "pressfeed=info")
        .envs(env.iter().copied())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    line
}

#[test]
fn json_logs_are_one_object_per_line() {
    let line = first_log_line(&[("PRESSFEED_LOG_FORMAT", "json")]);
    let log: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(log["level"], "INFO", "{line}");
    assert!(log["fields"]["message"].is_string(), "{line}");
}

#[test]
fn text_logs_to_a_pipe_carry_no_colour_codes() {
    let line = first_log_line(&[]);
    assert!(!line.contains("\x1b["), "a colour code in {line:?}");
    assert!(line.contains(" INFO "), "{line}");
}

/// A request as the access log should tell it: method, path, status, body bytes, coding
/// and user agent.
type Logged = (String, String, u16, u64, String, Option<String>);

/// Serves a one-section site with the access log in `format` going to a file, makes a 200
/// in identity and in gzip, a 304, a HEAD and a 404 once the first build is served, and
/// stops the server with SIGTERM. Returns those requests as the server answered them, and
/// the log's lines but those of the readiness polls. Each worker thread buffers its own
/// lines, so lines from different connections may be out of order: both come sorted.
fn logged_requests(format: &str) -> (Vec<Logged>, Vec<String>) {
    let feeds = site(&[("world", "")]);
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("access.log");
    let mut cmd = pressfeed_on(feeds.path(), data.path());
    cmd.env("PRESSFEED_LOG_FORMAT", format);
    let server = Serve::start_with(cmd, |serve| {
        serve.arg("--access-log").arg(&log);
    });
    assert_eq!(server.get("/readyz").0, 200);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let reader = "Reader/1.0 (+https://reader.example/)";
    let agent = format!("User-Agent: {reader}");
    let mut made = Vec::new();
    let mut request = |method: &str, path: &str, headers: &[&str], coding: &str| {
        let (status, head, body) = http_request(&addr, method, path, headers).unwrap();
        let user_agent = headers.contains(&agent.as_str()).then(|| reader.to_owned());
        let logged_path = path.split('?').next().unwrap().to_owned();
        made.push((
            method.to_owned(),
            logged_path,
            status,
            body.len() as u64,
            coding.to_owned(),
            user_agent,
        ));
        head
    };
    let head = request("GET", "/feeds/world.rss", &[&agent], "identity");
    let etag = head
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .unwrap()
        .to_owned();
    let gzip = request(
        "GET",
        "/feeds/world.rss",
        &[&agent, "Accept-Encoding: gzip"],
        "gzip",
    );
    assert!(gzip.contains("content-encoding: gzip\r\n"), "{gzip}");
    let inm = format!("If-None-Match: {etag}");
    request("GET", "/feeds/world.rss", &[&inm], "identity");
    request("HEAD", "/feeds/world.atom", &[&agent], "identity");
    request("GET", "/nowhere?page=2", &[&agent], "identity");
    let statuses: Vec<u16> = made.iter().map(|r| r.2).collect();
    assert_eq!(statuses, [200, 200, 304, 200, 404]);
    assert!(made[0].3 > 0 && made[1].3 > 0 && made[4].3 > 0, "{made:?}");
    assert_eq!((made[2].3, made[3].3), (0, 0), "{made:?}");

    assert!(server.terminate().success());
    let lines = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|l| !l.contains("/readyz"))
        .map(str::to_owned)
        .collect();
    made.sort();
    (made, lines)
}

/// An access log time stamp: RFC 3339 in UTC, to the millisecond, within the last minute.
fn assert_recent(time: &str) {
    let at = chrono::DateTime::parse_from_rfc3339(time).unwrap_or_else(|e| panic!("{time}: {e}"));
    assert!(time.ends_with('Z') && time.len() == "2026-12-05T18:30:00.123Z".len());
    let age = chrono::Utc::now().signed_duration_since(at);
    assert!(age >= chrono::TimeDelta::zero() && age < chrono::TimeDelta::minutes(1));
}

#[test]
fn the_text_access_log_has_a_line_per_request() {
    let (made, lines) = logged_requests("text");
    let mut logged: Vec<Logged> = lines
        .iter()
        .map(|line| {
            let (fields, agent) = line.split_once(" \"").unwrap_or_else(|| panic!("{line}"));
            let f: Vec<&str> = fields.split(' ').collect();
            let [time, method, path, status, bytes, coding, duration] = f[..] else {
                panic!("seven fields before the user agent: {line}");
            };
            assert_recent(time);
            let duration: f64 = duration.parse().unwrap();
            assert!((0.0..10.0).contains(&duration), "{line}");
            let agent = agent.strip_suffix('"').unwrap();
            (
                method.to_owned(),
                path.to_owned(),
                status.parse().unwrap(),
                bytes.parse().unwrap(),
                coding.to_owned(),
                (agent != "-").then(|| agent.to_owned()),
            )
        })
        .collect();
    logged.sort();
    assert_eq!(logged, made, "{lines:#?}");
}

#[test]
fn the_json_access_log_has_an_object_per_request() {
    let (made, lines) = logged_requests("json");
    let mut logged: Vec<Logged> = lines
        .iter()
        .map(|line| {
            let v: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert_recent(v["time"].as_str().unwrap());
            let duration = v["duration"].as_f64().unwrap();
            assert!((0.0..10.0).contains(&duration), "{line}");
            (
                v["method"].as_str().unwrap().to_owned(),
                v["path"].as_str().unwrap().to_owned(),
                v["status"].as_u64().unwrap().try_into().unwrap(),
                v["bytes"].as_u64().unwrap(),
                v["coding"].as_str().unwrap().to_owned(),
                v["user_agent"].as_str().map(str::to_owned),
            )
        })
        .collect();
    logged.sort();
    assert_eq!(logged, made, "{lines:#?}");
}

#[test]
fn an_unknown_log_format_is_refused() {
    let out = pressfeed()
        .env("PRESSFEED_LOG_FORMAT", "xml")
        .arg("--feeds")
        .arg(demo_feeds())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("PRESSFEED_LOG_FORMAT"));
}

#[test]
fn an_error_tells_each_cause_once() {
    // A data directory under a file: the standard library's I/O error is the cause of the
    // store's, whose message carries it too.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = pressfeed_on(demo_feeds(), file.join("data"))
        .args(["sections", "list"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    let error = stderr
        .lines()
        .find(|line| line.starts_with("pressfeed: "))
        .unwrap_or_else(|| panic!("no error line in:\n{stderr}"));
    assert!(error.contains("Not a directory"), "{error}");
    assert_eq!(error.matches("Not a directory").count(), 1, "{error}");
}

#[test]
fn sections_list_names_each_section_and_its_feed_urls() {
    let feeds = site(&[("world", ""), ("sports", "enabled = false")]);
    let data = tempfile::tempdir().unwrap();
    let out = pressfeed_on(feeds.path(), data.path())
        .args(["sections", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut lines: Vec<&str> = text(&out.stdout).lines().collect();
    lines.sort_unstable();
    let base = "https://feeds.news.example/feeds/";
    assert_eq!(
        lines,
        [
            format!(
                "sports\tsports title\tdisabled\t{base}sports.rss {base}sports.atom {base}sports.json"
            ),
            format!(
                "world\tworld title\tenabled\t{base}world.rss {base}world.atom {base}world.json"
            ),
        ]
    );
}

#[test]
fn articles_show_prints_the_stored_article() {
    let feeds = site(&[("world", "")]);
    let data = tempfile::tempdir().unwrap();
    let line = r#"{"id":"a-1","url":"https://news.example/a-1/","title":"First","sections":["world"],"published_at":"2024-01-01T10:00:00Z"}"#;
    let imported = run_with_stdin(
        pressfeed_on(feeds.path(), data.path()).args(["import", "-"]),
        line,
    );
    assert!(imported.status.success(), "{}", text(&imported.stderr));

    let show = |id: &str| {
        pressfeed_on(feeds.path(), data.path())
            .args(["articles", "show", id])
            .output()
            .unwrap()
    };
    let out = show("a-1");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("\n  \"title\": \"First\""),
        "pretty"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["id"], "a-1");
    assert_eq!(doc["url"], "https://news.example/a-1/");

    let missing = show("nope");
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("no article nope"));
    assert_eq!(show("bad id!").status.code(), Some(2));
}

#[test]
fn a_long_import_reports_progress_on_stderr() {
    let feeds = site(&[("world", "")]);
    let data = tempfile::tempdir().unwrap();
    let lines = many_articles(25_000);
    let out = run_with_stdin(
        pressfeed_on(feeds.path(), data.path()).args(["import", "-"]),
        &lines,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // stderr is a pipe here, not a terminal: plain lines.
    assert_eq!(
        text(&out.stderr),
        "import: 10000 articles read\nimport: 20000 articles read\n"
    );
    assert!(text(&out.stdout).contains("imported 25000 articles"));
}

#[test]
fn help_documents_the_exit_codes() {
    let out = pressfeed().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("Exit codes:"), "{help}");
    assert!(help.contains("2  invalid configuration"), "{help}");
}

/// The ETag and Last-Modified of every feed `server` lists, once its first build is done.
fn validators(server: &Serve) -> Vec<(String, String, String)> {
    assert_eq!(server.get("/readyz").0, 200);
    let addr = server.base.trim_start_matches("http://");
    server
        .urls
        .iter()
        .map(|url| {
            let path = url.trim_start_matches(&server.base);
            let (status, head, _) = http_request(addr, "GET", path, &[]).unwrap();
            assert_eq!(status, 200, "{path}: {head}");
            let header = |name: &str| {
                head.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_else(|| panic!("{path} has no {name}"))
                    .trim()
                    .to_owned()
            };
            (path.to_owned(), header("etag:"), header("last-modified:"))
        })
        .collect()
}

#[test]
fn migrate_moves_a_site_to_postgres_without_changing_a_validator() {
    let Some(url) =
        common::fresh_postgres("migrate_moves_a_site_to_postgres_without_changing_a_validator")
    else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    import_demo(data.path());
    let server = Serve::start(&demo_feeds(), data.path());
    let before = validators(&server);
    assert!(server.terminate().success());
    // Seconds pass between the runs: a feed built again and stamped anew would show it.
    std::thread::sleep(Duration::from_millis(1100));

    let out = pressfeed_on(demo_feeds(), data.path())
        .args(["migrate", "--to", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(
        summary.starts_with("migrated 301 articles, 7 sections, ")
            && summary.contains(" feeds, 0 sources to postgres://"),
        "{summary}"
    );

    let mut on_postgres = pressfeed_on(demo_feeds(), data.path());
    on_postgres.arg("--store").arg(&url);
    let server = Serve::start_with(on_postgres, |_| {});
    let after = validators(&server);
    assert_eq!(
        after, before,
        "the same ETag and Last-Modified for every feed"
    );
    let addr = server.base.trim_start_matches("http://");
    for (path, etag, _) in &before {
        let (status, head, _) =
            http_request(addr, "GET", path, &[&format!("if-none-match: {etag}")]).unwrap();
        assert_eq!(
            status, 304,
            "{path} with the ETag served before the move: {head}"
        );
    }
    assert!(server.terminate().success());
}

#[test]
fn migrate_refuses_a_store_that_holds_anything_and_writes_nothing() {
    let Some(url) =
        common::fresh_postgres("migrate_refuses_a_store_that_holds_anything_and_writes_nothing")
    else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    import_demo(data.path());
    // The target's sections are seeded: it holds something.
    let out = pressfeed_on(demo_feeds(), data.path())
        .args(["--store", &url, "sections", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = pressfeed_on(demo_feeds(), data.path())
        .args(["migrate", "--to", &url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stderr);
    assert!(
        said.contains("is not empty: it holds 0 articles, 7 sections and 0 saved feeds")
            && said.contains("nothing was written"),
        "{said}"
    );
    assert!(text(&out.stdout).is_empty());
    let settings = pressfeed::store::PostgresSettings::parse(&url, None).unwrap();
    let target = pressfeed::store::Store::open_postgres(&settings).unwrap();
    assert_eq!(target.article_count().unwrap(), 0);
    assert_eq!(target.change_counter().unwrap(), 0);
    assert!(target.feed_states().unwrap().is_empty());
}

#[test]
fn a_long_migrate_reports_progress_on_stderr() {
    let Some(url) = common::fresh_postgres("a_long_migrate_reports_progress_on_stderr") else {
        return;
    };
    let feeds = site(&[("world", "")]);
    let data = tempfile::tempdir().unwrap();
    let lines = many_articles(25_000);
    let out = run_with_stdin(
        pressfeed_on(feeds.path(), data.path()).args(["import", "-"]),
        &lines,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = pressfeed_on(feeds.path(), data.path())
        .args(["migrate", "--to", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "migrate: 10000 articles copied\nmigrate: 20000 articles copied\n"
    );
    assert!(
        text(&out.stdout).starts_with("migrated 25000 articles, 0 sections, 0 feeds, 0 sources"),
        "{}",
        text(&out.stdout)
    );
    let settings = pressfeed::store::PostgresSettings::parse(&url, None).unwrap();
    let target = pressfeed::store::Store::open_postgres(&settings).unwrap();
    assert_eq!(target.article_count().unwrap(), 25_000);
}

/// NDJSON of `count` small articles in `world`, `a-0` to `a-<count - 1>`.
fn many_articles(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                r#"{{"id":"a-{i}","url":"https://news.example/a-{i}/","title":"T{i}","sections":["world"],"published_at":"2024-01-01T10:00:00Z"}}"#
            ) + "\n"
        })
        .collect()
}
