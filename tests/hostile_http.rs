//! Hostile HTTP clients against the real server: slow, idle, greedy, oversized, malformed
//! and old-fashioned ones. Raw TCP where hyper's client cannot misbehave on purpose.

mod common;

use std::io;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Options, SITE, Server, article, h2, site};
use http::{Method, Request, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

const TOKEN: &str = "hostile-test-token-0123456789";
/// Every wait for the server is bounded by this; none is expected to take near it.
const PATIENCE: Duration = Duration::from_secs(10);

/// A server with one section, `world`, holding one article, and `http` as its `[http]` table.
async fn server(http: &str, options: Options) -> Server {
    let feeds = site(&[("world", "")]);
    std::fs::write(
        feeds.path().join("site.toml"),
        format!("{SITE}\n[http]\n{http}\n"),
    )
    .unwrap();
    let w1 = article("w1", &["world"], "2024-01-01T10:00:00Z", Default::default());
    Server::start_with(feeds, &[w1], options).await
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: feeds.example\r\n\r\n")
}

/// A client on a bare socket: it sends what the test says and parses what comes back.
struct Raw {
    read: OwnedReadHalf,
    // Taken by a test that writes from another task while this one reads.
    write: Option<OwnedWriteHalf>,
    buf: Vec<u8>,
}

#[derive(Debug)]
struct RawReply {
    status: u16,
    version: u8,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawReply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Raw {
    async fn connect(server: &Server) -> Raw {
        let (read, write) = TcpStream::connect(server.addr).await.unwrap().into_split();
        Raw {
            read,
            write: Some(write),
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, bytes: impl AsRef<[u8]>) -> io::Result<()> {
        let write = self.write.as_mut().expect("the write half is here");
        write.write_all(bytes.as_ref()).await
    }

    /// The next response, with a body unless it answers a HEAD.
    async fn reply_to(&mut self, head: bool) -> RawReply {
        tokio::time::timeout(PATIENCE, self.next_reply(head))
            .await
            .expect("a response within the patience")
    }

    async fn reply(&mut self) -> RawReply {
        self.reply_to(false).await
    }

    async fn next_reply(&mut self, head: bool) -> RawReply {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut parsed = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(len) = parsed.parse(&self.buf).unwrap() {
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        let value = String::from_utf8_lossy(h.value).into_owned();
                        (h.name.to_owned(), value)
                    })
                    .collect();
                let mut reply = RawReply {
                    status: parsed.code.unwrap(),
                    version: parsed.version.unwrap(),
                    headers,
                    body: Vec::new(),
                };
                assert!(
                    reply.header("transfer-encoding").is_none(),
                    "this client reads only Content-Length bodies"
                );
                let body_len = match reply.header("content-length") {
                    Some(n) if !head && reply.status != 304 => n.parse::<usize>().unwrap(),
                    _ => 0,
                };
                while self.buf.len() < len + body_len {
                    self.fill().await;
                }
                reply.body = self.buf[len..len + body_len].to_vec();
                self.buf.drain(..len + body_len);
                return reply;
            }
            self.fill().await;
        }
    }

    async fn fill(&mut self) {
        let mut chunk = [0; 16 << 10];
        match self.read.read(&mut chunk).await {
            Ok(0) => panic!(
                "the server closed the connection mid-response: {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
            Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("reading a response: {e}"),
        }
    }

    /// Waits at most `within` for the server to close the connection, discarding anything
    /// else it sends; true if it closed.
    async fn closed(&mut self, within: Duration) -> bool {
        let mut chunk = [0; 16 << 10];
        tokio::time::timeout(within, async {
            while let Ok(1..) = self.read.read(&mut chunk).await {}
        })
        .await
        .is_ok()
    }
}

/// A server with `limits`, and a client that has sent the first lines of a request head.
async fn half_a_head(limits: &str) -> (Server, Raw) {
    let server = server(limits, Options::default()).await;
    let mut client = Raw::connect(&server).await;
    client
        .send("GET /feeds/world.rss HTTP/1.1\r\nHost: feeds.example\r\n")
        .await
        .unwrap();
    (server, client)
}

#[tokio::test]
async fn a_slowloris_is_cut_off_at_the_header_timeout_while_others_are_served() {
    let (server, mut slow) = half_a_head("header_read_timeout = 1\nidle_timeout = 60").await;

    let mut other = Raw::connect(&server).await;
    other.send(get("/feeds/world.rss")).await.unwrap();
    assert_eq!(other.reply().await.status, 200);

    // One more header line every 100 ms: never a complete head.
    let start = Instant::now();
    let mut lines = 0;
    loop {
        if slow.send(format!("X-Slow-{lines}: a\r\n")).await.is_err()
            || slow.closed(Duration::from_millis(100)).await
        {
            break;
        }
        lines += 1;
        assert!(
            start.elapsed() < PATIENCE,
            "the trickling client is still connected"
        );
    }
    assert!(lines >= 2, "closed before it trickled: {lines} lines");
    let mut after = Raw::connect(&server).await;
    after.send(get("/healthz")).await.unwrap();
    assert_eq!(after.reply().await.status, 200);
}

#[tokio::test]
async fn a_slow_head_within_the_header_timeout_is_not_idle() {
    let (_server, mut slow) = half_a_head("header_read_timeout = 60\nidle_timeout = 1").await;
    // Three idle timeouts' worth of trickling: bytes keep arriving, so it is not idle.
    for line in 0..10 {
        assert!(
            !slow.closed(Duration::from_millis(300)).await,
            "closed while sending"
        );
        slow.send(format!("X-Slow-{line}: a\r\n")).await.unwrap();
    }
    slow.send("\r\n").await.unwrap();
    assert_eq!(slow.reply().await.status, 200);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_the_idle_timeout() {
    let server = server(
        "header_read_timeout = 60\nidle_timeout = 1",
        Options::default(),
    )
    .await;
    let mut client = Raw::connect(&server).await;
    client.send(get("/healthz")).await.unwrap();
    assert_eq!(client.reply().await.status, 200);
    client.send(get("/healthz")).await.unwrap();
    assert_eq!(
        client.reply().await.status,
        200,
        "kept alive between requests"
    );
    assert!(
        client.closed(PATIENCE).await,
        "an idle HTTP/1.1 connection stayed open"
    );
}

#[tokio::test]
async fn a_connection_that_never_sends_a_byte_is_closed_at_the_idle_timeout() {
    let server = server(
        "header_read_timeout = 60\nidle_timeout = 1",
        Options::default(),
    )
    .await;
    let mut silent = Raw::connect(&server).await;
    assert!(
        silent.closed(PATIENCE).await,
        "a silent connection stayed open"
    );
    // Half an HTTP/2 preface: hyper would wait for the rest forever on its own.
    let mut stuck = Raw::connect(&server).await;
    stuck.send("PRI * HTTP/2.0\r\n").await.unwrap();
    assert!(stuck.closed(PATIENCE).await, "a half preface stayed open");
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_served_limited_and_closed_when_idle() {
    let server = server("idle_timeout = 1", Options::default()).await;
    let (mut sender, connection) = h2(&server).await;
    for path in ["/feeds/world.rss", "/feeds/world.json"] {
        let req = Request::get(format!("http://{}{path}", server.addr))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let res = sender.send_request(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.version(), Version::HTTP_2);
        assert!(
            !res.into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .is_empty()
        );
    }
    let mut big = Request::get(format!("http://{}/feeds/world.rss", server.addr));
    for i in 0..40 {
        big = big.header(format!("x-filler-{i}"), "a".repeat(1000));
    }
    let res = sender.send_request(big.body(Empty::new()).unwrap()).await;
    assert_eq!(
        res.unwrap().status(),
        431,
        "an HTTP/2 header list past the limit"
    );
    let ended = tokio::time::timeout(PATIENCE, connection).await;
    assert!(
        matches!(ended, Ok(Ok(Ok(())))),
        "the idle HTTP/2 connection was not closed cleanly: {ended:?}"
    );
}

#[tokio::test]
async fn connections_past_the_cap_get_503_with_retry_after_until_one_closes() {
    let server = server(
        "max_connections = 3\nheader_read_timeout = 60\nidle_timeout = 60",
        Options::default(),
    )
    .await;
    // The test harness's own client may hold one of the three.
    let mut held = Vec::new();
    let (mut refused, reply) = loop {
        let mut client = Raw::connect(&server).await;
        client.send(get("/healthz")).await.unwrap();
        let reply = client.reply().await;
        if reply.status == 503 {
            break (client, reply);
        }
        assert_eq!(reply.status, 200);
        held.push(client);
        assert!(held.len() <= 3, "more connections served than the cap");
    };
    assert!(!held.is_empty());
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(reply.text().contains("too many connections"));
    assert!(refused.closed(PATIENCE).await);

    drop(held.pop());
    let start = Instant::now();
    loop {
        let mut client = Raw::connect(&server).await;
        client.send(get("/healthz")).await.unwrap();
        if client.reply().await.status == 200 {
            break;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the freed slot was never reused"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn with_headers(path: &str, count: usize, each: usize) -> String {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: feeds.example\r\n");
    for i in 0..count {
        request.push_str(&format!("X-Filler-{i}: {}\r\n", "a".repeat(each)));
    }
    request.push_str("\r\n");
    request
}

#[tokio::test]
async fn heads_past_the_limit_get_431_not_a_reset() {
    // The default limit: 32 KiB.
    let server = server("", Options::default()).await;
    let mut client = Raw::connect(&server).await;
    client
        .send(with_headers("/feeds/world.rss", 16, 1000))
        .await
        .unwrap();
    assert_eq!(client.reply().await.status, 200, "16 KB of headers is fine");

    for request in [
        with_headers("/feeds/world.rss", 64, 1000),
        // Many small headers: past hyper's count of 100, well within the size.
        with_headers("/feeds/world.rss", 150, 1),
        get(&format!("/feeds/{}", "a".repeat(64 << 10))),
    ] {
        let mut client = Raw::connect(&server).await;
        client.send(&request).await.unwrap();
        let reply = client.reply().await;
        assert_eq!(reply.status, 431, "{} bytes", request.len());
        assert!(client.closed(PATIENCE).await);
    }
    let mut client = Raw::connect(&server).await;
    client
        .send(get(&format!("/feeds/{}", "a".repeat(16 << 10))))
        .await
        .unwrap();
    assert_eq!(
        client.reply().await.status,
        404,
        "a long path within the limit"
    );

    // A client still sending when the server answers: it may finish, then reads the 431.
    let head = with_headers("/admin/api/articles", 64, 1000)
        .replacen("GET", "POST", 1)
        .replace(
            "\r\n\r\n",
            &format!("\r\nContent-Length: {}\r\n\r\n", 8 << 20),
        );
    let (reply, written) = upload(&server, head, vec![b'x'; 8 << 20]).await;
    assert_eq!(reply.status, 431);
    written.expect("the client could send its whole request");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_after_the_idle_timeout() {
    let server = server(
        "header_read_timeout = 60\nidle_timeout = 1",
        Options::default(),
    )
    .await;
    let mut client = Raw::connect(&server).await;
    // Far more than the socket buffers hold, in requests and even more in answers.
    let requests = get("/feeds/world.rss").repeat(700_000);
    let mut write = client.write.take().unwrap();
    let writer = tokio::spawn(async move { write.write_all(requests.as_bytes()).await });
    // The writer blocks once the server, unable to write its answers, stops reading; it is
    // released only when the server gives up on the connection.
    let released = tokio::time::timeout(PATIENCE, writer).await;
    assert!(
        released.is_ok(),
        "the server still waits on a client that does not read"
    );
    assert!(client.closed(PATIENCE).await);
}

/// Sends `head` and then `body` from a task of its own, as a client that writes its whole
/// request before it reads; returns the answer and whether the write went through.
async fn upload(server: &Server, head: String, body: Vec<u8>) -> (RawReply, io::Result<()>) {
    let mut client = Raw::connect(server).await;
    client.send(head).await.unwrap();
    let mut write = client.write.take().unwrap();
    let writer = tokio::spawn(async move { write.write_all(&body).await });
    let reply = client.reply().await;
    let written = tokio::time::timeout(PATIENCE, writer)
        .await
        .unwrap()
        .unwrap();
    assert!(client.closed(PATIENCE).await, "the connection stayed open");
    (reply, written)
}

#[tokio::test]
async fn a_body_where_none_is_taken_gets_413_before_it_is_read() {
    let server = server("", Options::default()).await;
    // 8 MiB the server never reads: it answers, then drops what is still coming, so the
    // client's write completes and it reads the 413 rather than a reset.
    let (reply, written) = upload(
        &server,
        format!(
            "POST /feeds/world.rss HTTP/1.1\r\nHost: feeds.example\r\nContent-Length: {}\r\n\r\n",
            8 << 20
        ),
        vec![b'x'; 8 << 20],
    )
    .await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.header("connection"), Some("close"));
    written.expect("the client could send its whole body");

    // Chunked, and never finished: the answer cannot have waited for the end.
    let mut client = Raw::connect(&server).await;
    client
        .send("GET /healthz HTTP/1.1\r\nHost: feeds.example\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n")
        .await
        .unwrap();
    assert_eq!(client.reply().await.status, 413);
}

#[tokio::test]
async fn an_admin_body_past_the_limit_gets_413_before_it_ends() {
    let options = Options {
        max_body: Some(1024),
        ..Options::admin(TOKEN)
    };
    let server = server("", options).await;
    let head = |framing: &str| {
        format!(
            "POST /admin/api/articles HTTP/1.1\r\nHost: feeds.example\r\n\
             Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n{framing}\r\n"
        )
    };
    // Declared too long: refused on the headers alone.
    let mut client = Raw::connect(&server).await;
    client
        .send(head("Content-Length: 10485760\r\n"))
        .await
        .unwrap();
    let reply = client.reply().await;
    assert_eq!(reply.status, 413);
    assert!(reply.text().contains("\"error\""), "{}", reply.text());

    // Chunked without a length: refused once the limit is passed, the body still open.
    let mut client = Raw::connect(&server).await;
    client
        .send(head("Transfer-Encoding: chunked\r\n"))
        .await
        .unwrap();
    for _ in 0..4 {
        client
            .send(format!("200\r\n{}\r\n", "x".repeat(0x200)))
            .await
            .unwrap();
    }
    assert_eq!(client.reply().await.status, 413);
}

#[tokio::test]
async fn odd_paths_never_reach_a_file_and_odd_methods_are_refused() {
    let server = server("", Options::default()).await;
    for (request, status) in [
        (get("/feeds/../feeds/world.rss"), 404),
        (get("/feeds/%2e%2e/%2e%2e/etc/passwd"), 404),
        (get("/feeds/..%2f..%2fetc%2fpasswd"), 404),
        (get("/../../../../etc/passwd"), 404),
        (get("/feeds/world.rss%00"), 404),
        (get("/feeds/world%00.rss"), 404),
        (get("/feeds/world\0.rss"), 400),
        (get("/feeds/./world.rss"), 404),
        (get("/feeds//world.rss"), 404),
        (
            "FOO /feeds/world.rss HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            405,
        ),
        (
            "TRACE /feeds/world.rss HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            405,
        ),
        (
            "DELETE /feeds/world.rss HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            405,
        ),
        (
            "CONNECT feeds.example:443 HTTP/1.1\r\nHost: feeds.example:443\r\n\r\n".into(),
            404,
        ),
        (
            "G\tT /feeds/world.rss HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            400,
        ),
        // Absolute form (RFC 9112 §3.2.2): a server must accept it.
        (
            "GET http://feeds.example/feeds/world.rss HTTP/1.1\r\nHost: feeds.example\r\n\r\n"
                .into(),
            200,
        ),
    ] {
        let mut client = Raw::connect(&server).await;
        client.send(&request).await.unwrap();
        let reply = client.reply().await;
        assert_eq!(reply.status, status, "{request:?}: {}", reply.text());
        assert!(!reply.text().contains("root:"), "{request:?}");
        if status == 405 {
            assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{request:?}");
            // TRACE must never echo the request (cross-site tracing).
            assert!(!reply.text().contains("Host"), "{request:?}");
        }
    }
}

#[tokio::test]
async fn http_1_0_closes_unless_asked_to_keep_alive() {
    let server = server("", Options::default()).await;
    let mut client = Raw::connect(&server).await;
    client
        .send("GET /feeds/world.rss HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let reply = client.reply().await;
    assert_eq!((reply.status, reply.version), (200, 0));
    assert!(reply.text().contains("<rss"));
    assert!(
        client.closed(PATIENCE).await,
        "HTTP/1.0 without keep-alive stays open"
    );

    let mut client = Raw::connect(&server).await;
    client
        .send("HEAD /feeds/world.rss HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await
        .unwrap();
    let reply = client.reply_to(true).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("connection"), Some("keep-alive"));
    client
        .send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(client.reply().await.text(), "ok\n");
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = server("", Options::default()).await;
    let mut client = Raw::connect(&server).await;
    let batch = [
        get("/healthz"),
        get("/feeds/world.json"),
        get("/nope"),
        "HEAD /feeds/world.rss HTTP/1.1\r\nHost: x\r\n\r\n".into(),
        get("/feeds/world.atom"),
    ]
    .concat();
    client.send(batch).await.unwrap();
    let healthz = client.reply().await;
    assert_eq!((healthz.status, healthz.text().as_str()), (200, "ok\n"));
    let json = client.reply().await;
    assert!(json.text().contains("\"version\""), "{}", json.text());
    assert_eq!(client.reply().await.status, 404);
    let head = client.reply_to(true).await;
    assert_eq!(head.status, 200);
    assert!(head.header("etag").is_some());
    let atom = client.reply().await;
    assert!(atom.text().contains("<feed"), "{}", atom.text());
}

#[tokio::test]
async fn hostile_slugs_in_admin_urls_never_touch_files() {
    let server = server("", Options::admin(TOKEN)).await;
    let before = tree(server.feeds.path());
    let auth = format!("Bearer {TOKEN}");
    let body = r#"{"title": "Evil", "link": "https://news.example/evil/"}"#;
    for slug in [
        "..%2f..%2fetc%2fpasswd",
        "..",
        "%2e%2e",
        "%2e%2e%2f%2e%2e%2fsite",
        "a/b",
        "World",
        "world%00",
        "world.toml",
        &"a".repeat(65),
    ] {
        let path = format!("/admin/api/sections/{slug}");
        for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
            let content_type = if method == Method::PATCH {
                "application/merge-patch+json"
            } else {
                "application/json"
            };
            let headers = [
                ("authorization", auth.as_str()),
                ("content-type", content_type),
            ];
            let reply = server
                .send(method.clone(), &path, &headers, body.to_owned())
                .await;
            assert!(
                matches!(reply.status.as_u16(), 400 | 404 | 405),
                "{method} {path}: {} {}",
                reply.status,
                reply.text()
            );
        }
    }
    for slug in ["../../etc/passwd", "a/b", "Evil", "..", &"a".repeat(65)] {
        let section =
            serde_json::json!({"slug": slug, "title": "Evil", "link": "https://news.example/"});
        let reply = server
            .send(
                Method::POST,
                "/admin/api/sections",
                &[
                    ("authorization", &auth),
                    ("content-type", "application/json"),
                ],
                section.to_string(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{slug}: {}",
            reply.text()
        );
        assert!(reply.text().contains("\"slug\""), "{}", reply.text());
    }
    assert_eq!(tree(server.feeds.path()), before, "a file changed");
}

/// Every file under `dir` with its bytes.
fn tree(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(tree(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap();
            files.push((path, bytes));
        }
    }
    files.sort();
    files
}

/// One request on its own connection, std only: this test runs the binary, not a runtime.
fn call(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

#[test]
fn the_admin_token_never_reaches_the_logs() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    const WRONG: &str = "wrong-but-plausible-token-987654";
    for format in ["text", "json"] {
        let feeds = site(&[("world", "")]);
        let data = tempfile::tempdir().unwrap();
        let log_path = data.path().join("stderr.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_pressfeed"))
            .env("PRESSFEED_ADMIN_TOKEN", TOKEN)
            .env("PRESSFEED_LOG_FORMAT", format)
            // Everything every crate logs, not only what the default filter lets through.
            .env("RUST_LOG", "trace")
            .arg("--feeds")
            .arg(feeds.path())
            .arg("--data")
            .arg(data.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let banner = stdout.next().unwrap().unwrap();
        let addr = banner
            .rsplit("http://")
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_owned();
        let start = Instant::now();
        while !call(
            &addr,
            "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .starts_with("HTTP/1.1 200")
        {
            assert!(start.elapsed() < PATIENCE, "the server never got ready");
            std::thread::sleep(Duration::from_millis(50));
        }

        let request = |method: &str, path: &str, authorization: &str, body: &str| {
            call(
                &addr,
                &format!(
                    "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                     Authorization: {authorization}\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\n\r\n{body}",
                    body.len()
                ),
            )
        };
        let section = r#"{"slug": "logged", "title": "Logged", "link": "https://news.example/l/"}"#;
        let bearer = format!("Bearer {TOKEN}");
        let created = request("POST", "/admin/api/sections", &bearer, section);
        assert!(created.starts_with("HTTP/1.1 201"), "{created}");
        let listed = request("GET", "/admin/api/sections", &bearer, "");
        assert!(listed.starts_with("HTTP/1.1 200"), "{listed}");
        for authorization in [
            format!("Bearer {WRONG}"),
            format!("Basic {TOKEN}"),
            format!("Bearer {TOKEN} {WRONG}"),
            format!("Bearer {TOKEN}x"),
        ] {
            let refused = request("PUT", "/admin/api/sections/logged", &authorization, section);
            assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
        }
        child.kill().unwrap();
        child.wait().unwrap();

        let log = std::fs::read_to_string(&log_path).unwrap();
        assert!(
            log.contains("admin write") && log.contains("unauthenticated"),
            "the audit lines are missing, so the log was not captured:\n{log}"
        );
        assert!(
            !log.contains(TOKEN),
            "{format} log holds the admin token:\n{log}"
        );
        assert!(
            !log.contains(WRONG),
            "{format} log holds a presented token:\n{log}"
        );
    }
}

#[tokio::test]
async fn a_slow_download_is_neither_idle_nor_a_slow_head() {
    let feeds = site(&[("world", "")]);
    std::fs::write(
        feeds.path().join("site.toml"),
        format!("{SITE}\n[http]\nheader_read_timeout = 1\nidle_timeout = 1\n"),
    )
    .unwrap();
    let body_html = format!("<p>{}</p>", "A long story, read slowly. ".repeat(12_000));
    let long = article(
        "w1",
        &["world"],
        "2024-01-01T10:00:00Z",
        serde_json::json!({ "body_html": body_html }),
    );
    let server = Server::start(feeds, &[long]).await;
    // Over HTTP/2 the client's window updates keep arriving while nothing else does: the
    // response going out is what keeps the connection alive, for several timeouts.
    // A 64 KB window, so that the server can only send as fast as this client reads.
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .initial_stream_window_size(65_535)
            .initial_connection_window_size(65_535)
            .handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    let req = Request::get(format!("http://{}/feeds/world.rss", server.addr))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let res = sender.send_request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body();
    let (start, mut received) = (Instant::now(), 0);
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("the download was cut off");
        received += frame.data_ref().map_or(0, |d| d.len());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(received > 300_000, "{received} bytes");
    assert!(
        start.elapsed() > Duration::from_secs(3),
        "not slow enough to test anything"
    );
}
