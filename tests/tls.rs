//! HTTPS: the server with a certificate made here, talked to by a real TLS client that
//! trusts only this test's CA. HTTP/2 and HTTP/1.1 by ALPN, 304s, the admin token, a
//! certificate rotated while serving (and a bad one refused), the plain-HTTP redirect and
//! HSTS.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::TimeDelta;
use common::{HANG, article, manual_clock, open_store, site};
use http::{HeaderMap, Method, Request, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use pressfeed::admin;
use pressfeed::clock::ManualClock;
use pressfeed::item::PreparedArticle;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;

const TOKEN: &str = "ops-token-over-tls";

/// A CA made for one test; every leaf it signs names localhost and 127.0.0.1.
struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate (its chain as PEM, CA last) and its key.
struct Leaf {
    der: CertificateDer<'static>,
    chain_pem: String,
    key_pem: String,
}

impl Pki {
    fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "pressfeed test CA");
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Pki { ca }
    }

    fn leaf(&self, name: &str) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.signed_by(&key, &self.ca).unwrap();
        Leaf {
            der: cert.der().clone(),
            chain_pem: format!("{}{}", cert.pem(), self.ca.pem()),
            key_pem: key.serialize_pem(),
        }
    }

    fn client(&self, alpn: &[&[u8]]) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.der().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        TlsConnector::from(Arc::new(config))
    }
}

/// Replaces `path` as certbot and cert-manager do: a new file renamed into place.
fn rename_into_place(path: &Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A server over HTTPS with the `world` section, one article, the admin token, its
/// certificate files in `certs` and time on `clock`.
struct TlsServer {
    addr: SocketAddr,
    redirect: Option<SocketAddr>,
    certificate: PathBuf,
    key: PathBuf,
    clock: ManualClock,
    _feeds: TempDir,
    _data: TempDir,
    _certs: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TlsServer {
    /// `extra` goes into `[tls]`; `redirect` adds a plain-HTTP listener.
    async fn start(pki: &Pki, leaf: &Leaf, extra: &str, redirect: bool) -> TlsServer {
        let certs = tempfile::tempdir().unwrap();
        let certificate = certs.path().join("fullchain.pem");
        let key = certs.path().join("privkey.pem");
        std::fs::write(&certificate, &leaf.chain_pem).unwrap();
        std::fs::write(&key, &leaf.key_pem).unwrap();
        let feeds = site(&[("world", "")]);
        let site_file = feeds.path().join("site.toml");
        let mut text = std::fs::read_to_string(&site_file).unwrap();
        text.push_str(&format!(
            "\n[tls]\ncertificate = {:?}\nkey = {:?}\n{extra}\n",
            certificate.display().to_string(),
            key.display().to_string()
        ));
        std::fs::write(&site_file, text).unwrap();

        let data = tempfile::tempdir().unwrap();
        let store = open_store(data.path()).unwrap();
        let first = article("w1", &["world"], "2024-01-01T10:00:00Z", Default::default());
        store.upsert(&[PreparedArticle::new(first)]).unwrap();
        let clock = manual_clock();
        let config = pressfeed::live::load(feeds.path(), &store, clock.now()).unwrap();
        let mut settings = admin::Settings::default();
        settings
            .tokens
            .add_lines(&format!("ops:{TOKEN}"), "test")
            .unwrap();

        let serve = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = serve.local_addr().unwrap();
        let plain = if redirect {
            Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        } else {
            None
        };
        let redirect = plain.as_ref().map(|l| l.local_addr().unwrap());
        let (tx, rx) = oneshot::channel();
        let server_clock = clock.clock();
        let task = tokio::spawn(async move {
            let listeners = pressfeed::app::Listeners {
                serve,
                redirect: plain,
            };
            pressfeed::app::run(
                listeners,
                config,
                store,
                settings,
                None,
                server_clock,
                async {
                    let _ = rx.await;
                },
            )
            .await
            .unwrap();
        });
        let server = TlsServer {
            addr,
            redirect,
            certificate,
            key,
            clock,
            _feeds: feeds,
            _data: data,
            _certs: certs,
            shutdown: Some(tx),
            task: Some(task),
        };
        let deadline = Instant::now() + HANG;
        while server.get(pki, &[b"h2"], "/readyz", &[]).await.status != StatusCode::OK {
            assert!(Instant::now() < deadline, "not ready after {HANG:?}");
            tokio::task::yield_now().await;
        }
        server
    }

    async fn stop(mut self) {
        self.shutdown.take().unwrap().send(()).ok();
        self.task.take().unwrap().await.unwrap();
    }

    async fn get(&self, pki: &Pki, alpn: &[&[u8]], path: &str, headers: &[(&str, &str)]) -> Answer {
        self.send(pki, alpn, Method::GET, path, headers, Bytes::new())
            .await
    }

    async fn send(
        &self,
        pki: &Pki,
        alpn: &[&[u8]],
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Answer {
        fetch(pki, self.addr, alpn, method, path, headers, body).await
    }

    /// Moves the clock on, so that the server looks at its files, until `check` holds.
    async fn advance_until<F: AsyncFnMut() -> bool>(&self, what: &str, mut check: F) {
        let deadline = Instant::now() + HANG;
        while !check().await {
            assert!(
                Instant::now() < deadline,
                "no {what} after {HANG:?}: a hang?"
            );
            self.clock.advance(TimeDelta::seconds(5));
            tokio::task::yield_now().await;
        }
    }

    async fn metric(&self, pki: &Pki, name: &str) -> f64 {
        let text = self.get(pki, &[b"h2"], "/metrics", &[]).await.body;
        let text = String::from_utf8(text.to_vec()).unwrap();
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

/// One request to `addr` on a new TLS connection offering `alpn`, trusting only `pki`'s CA.
async fn fetch(
    pki: &Pki,
    addr: SocketAddr,
    alpn: &[&[u8]],
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Answer {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = pki.client(alpn).connect(name, tcp).await.unwrap();
    let certificate = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let url = format!("https://localhost:{}{path}", addr.port());
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(body)).unwrap();
    let io = TokioIo::new(tls);
    let response = if h2 {
        let (mut sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .unwrap();
        tokio::spawn(connection);
        sender.send_request(request).await.unwrap()
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(connection);
        let mut request = request;
        request.headers_mut().insert(
            http::header::HOST,
            format!("localhost:{}", addr.port()).parse().unwrap(),
        );
        sender.send_request(request).await.unwrap()
    };
    let (parts, body) = response.into_parts();
    Answer {
        version: parts.version,
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
        certificate,
    }
}

struct Answer {
    version: Version,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    certificate: CertificateDer<'static>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

#[tokio::test]
async fn feeds_and_the_admin_api_over_http2_and_http1_as_alpn_picks() {
    let pki = Pki::new();
    let leaf = pki.leaf("feeds one");
    let server = TlsServer::start(&pki, &leaf, "", false).await;
    for (alpn, version) in [
        (&[&b"h2"[..], b"http/1.1"][..], Version::HTTP_2),
        (&[&b"http/1.1"[..]][..], Version::HTTP_11),
        (&[][..], Version::HTTP_11),
    ] {
        let feed = server.get(&pki, alpn, "/feeds/world.rss", &[]).await;
        assert_eq!(
            (feed.status, feed.version),
            (StatusCode::OK, version),
            "{alpn:?}"
        );
        assert_eq!(feed.certificate, leaf.der);
        common::parse_rss(&feed.body);
        assert_eq!(
            feed.header("strict-transport-security"),
            None,
            "HSTS is off by default"
        );
        let etag = feed.header("etag").unwrap().to_owned();
        let again = server
            .get(&pki, alpn, "/feeds/world.rss", &[("if-none-match", &etag)])
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{alpn:?}");
        assert!(again.body.is_empty());
        let since = feed.header("last-modified").unwrap().to_owned();
        let again = server
            .get(
                &pki,
                alpn,
                "/feeds/world.rss",
                &[("if-modified-since", &since)],
            )
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{alpn:?}");
    }

    // The admin token works as over plain HTTP, on either protocol.
    for (alpn, id) in [(&b"h2"[..], "t2"), (&b"http/1.1"[..], "t1")] {
        let body = common::article_json(id, &["world"], "2024-02-01T10:00:00Z").to_string();
        let path = format!("/admin/api/articles/{id}");
        let bearer = format!("Bearer {TOKEN}");
        let json = [("content-type", "application/json")];
        let refused = server
            .send(
                &pki,
                &[alpn],
                Method::PUT,
                &path,
                &json,
                body.clone().into(),
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let headers = [json[0], ("authorization", &bearer)];
        let stored = server
            .send(&pki, &[alpn], Method::PUT, &path, &headers, body.into())
            .await;
        assert!(stored.status.is_success(), "{:?}", stored.status);
        let read = server
            .get(&pki, &[alpn], &path, &[("authorization", &bearer)])
            .await;
        assert_eq!(read.status, StatusCode::OK);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_renewed_certificate_is_served_to_new_connections_and_a_bad_one_is_refused() {
    let pki = Pki::new();
    let first = pki.leaf("first");
    let server = TlsServer::start(&pki, &first, "", false).await;
    let served =
        async |server: &TlsServer| server.get(&pki, &[b"h2"], "/readyz", &[]).await.certificate;
    assert_eq!(served(&server).await, first.der);

    // Renewed as certbot does: the key, then the chain, each renamed into place.
    let second = pki.leaf("second");
    rename_into_place(&server.key, &second.key_pem);
    rename_into_place(&server.certificate, &second.chain_pem);
    server
        .advance_until("renewed certificate", async || {
            served(&server).await == second.der
        })
        .await;
    assert!(
        server
            .metric(
                &pki,
                "pressfeed_tls_certificate_reloads_total{result=\"ok\"}"
            )
            .await
            >= 1.0
    );

    // A chain whose key is another's, then a file that is no PEM at all: each is refused,
    // and the pair before stays served.
    let error = "pressfeed_tls_certificate_reloads_total{result=\"error\"}";
    let before = server.metric(&pki, error).await;
    let third = pki.leaf("third");
    rename_into_place(&server.certificate, &third.chain_pem);
    server
        .advance_until("refused key mismatch", async || {
            server.metric(&pki, error).await > before
        })
        .await;
    assert_eq!(served(&server).await, second.der);
    let before = server.metric(&pki, error).await;
    rename_into_place(&server.certificate, "not a certificate\n");
    server
        .advance_until("refused garbage", async || {
            server.metric(&pki, error).await > before
        })
        .await;
    assert_eq!(served(&server).await, second.der);

    // Mended, it is served again without a restart.
    rename_into_place(&server.key, &third.key_pem);
    rename_into_place(&server.certificate, &third.chain_pem);
    server
        .advance_until("mended certificate", async || {
            served(&server).await == third.der
        })
        .await;
    server.stop().await;
}

/// The plain listener's whole answer to `request`.
async fn plain(addr: SocketAddr, request: &str) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn plain_http_is_redirected_to_https_and_hsts_is_sent_when_configured() {
    let pki = Pki::new();
    let leaf = pki.leaf("redirecting");
    let server = TlsServer::start(&pki, &leaf, "hsts_max_age = 31536000", true).await;
    let plain_addr = server.redirect.unwrap();
    let https_port = server.addr.port();

    let answer = plain(
        plain_addr,
        "GET /feeds/world.rss?utm=x HTTP/1.1\r\nHost: localhost:80\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 301 "), "{answer}");
    let location = format!("location: https://localhost:{https_port}/feeds/world.rss?utm=x\r\n");
    assert!(answer.to_lowercase().contains(&location), "{answer}");
    // A write keeps its method: 308. Nothing of it is served in clear.
    let answer = plain(
        plain_addr,
        "PUT /admin/api/articles/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 308 "), "{answer}");
    assert!(!answer.to_lowercase().contains("strict-transport-security"));
    let answer = plain(plain_addr, "GET / HTTP/1.0\r\n\r\n").await;
    assert!(
        answer.starts_with("HTTP/1.0 400 ") || answer.starts_with("HTTP/1.1 400 "),
        "{answer}"
    );

    // Where the redirect leads, HSTS as configured, on feeds and everything else.
    for path in ["/feeds/world.rss", "/healthz"] {
        let answer = server.get(&pki, &[b"h2"], path, &[]).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(
            answer.header("strict-transport-security"),
            Some("max-age=31536000")
        );
    }
    server.stop().await;
}

/// The address after `prefix` in `line`, up to the next `/`.
fn address_after(line: &str, prefix: &str) -> SocketAddr {
    let rest = &line[line
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix} in {line:?}"))
        + prefix.len()..];
    rest.split('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn serve_takes_the_certificate_and_the_redirect_from_flags() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};

    let pki = Pki::new();
    let leaf = pki.leaf("from flags");
    let certs = tempfile::tempdir().unwrap();
    std::fs::write(certs.path().join("chain.pem"), &leaf.chain_pem).unwrap();
    std::fs::write(certs.path().join("key.pem"), &leaf.key_pem).unwrap();
    let feeds = site(&[("world", "")]);
    let data = tempfile::tempdir().unwrap();
    let pressfeed = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pressfeed"));
        cmd.arg("--feeds")
            .arg(feeds.path())
            .args(common::store_args(data.path()))
            .env("RUST_LOG", "warn")
            // Relative to the working directory, as a flag's file is.
            .current_dir(certs.path());
        cmd
    };

    let mut child = pressfeed()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(["--tls-certificate", "chain.pem", "--tls-key", "key.pem"])
        .args(["--redirect-listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let banner = lines.next().unwrap().unwrap();
    let https = address_after(&banner, " on https://");
    let redirect = lines.next().unwrap().unwrap();
    let plain_addr = address_after(&redirect, "plain HTTP on http://");

    let deadline = Instant::now() + HANG;
    loop {
        let ready = fetch(
            &pki,
            https,
            &[b"h2"],
            Method::GET,
            "/readyz",
            &[],
            Bytes::new(),
        )
        .await;
        assert_eq!(ready.certificate, leaf.der);
        if ready.status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "not ready after {HANG:?}");
        tokio::task::yield_now().await;
    }
    let answer = plain(
        plain_addr,
        "GET /feeds/world.rss HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await;
    let location = format!(
        "location: https://localhost:{}/feeds/world.rss\r\n",
        https.port()
    );
    assert!(answer.to_lowercase().contains(&location), "{answer}");
    child.kill().unwrap();
    child.wait().unwrap();

    // A redirect to HTTPS without HTTPS, and half a pair, are refused before anything runs.
    let output = pressfeed()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--redirect-listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs a certificate and key"));
    let output = pressfeed()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-certificate",
            "chain.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    // And a key that is not the certificate's: the server does not start.
    let other = pki.leaf("other");
    std::fs::write(certs.path().join("other-key.pem"), &other.key_pem).unwrap();
    let output = pressfeed()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args([
            "--tls-certificate",
            "chain.pem",
            "--tls-key",
            "other-key.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("other-key.pem does not fit"), "{stderr}");
}

#[test]
fn check_tells_the_tls_files_it_cannot_read() {
    let feeds = site(&[("world", "")]);
    let site_file = feeds.path().join("site.toml");
    let mut text = std::fs::read_to_string(&site_file).unwrap();
    let lines = text.lines().count();
    std::fs::write(feeds.path().join("chain.pem"), "present").unwrap();
    text.push_str("[tls]\ncertificate = \"chain.pem\"\nkey = \"tls/missing-key.pem\"\n");
    std::fs::write(&site_file, text).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pressfeed"))
        .arg("--feeds")
        .arg(feeds.path())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let told = format!("line {}: tls.key: cannot read ", lines + 3);
    assert!(stderr.contains(&told), "{stderr}");
    assert!(stderr.contains("missing-key.pem"), "{stderr}");
    assert!(!stderr.contains("tls.certificate"), "{stderr}");
}

#[tokio::test]
async fn the_redirect_names_the_https_port_clients_reach_when_configured() {
    let pki = Pki::new();
    let leaf = pki.leaf("mapped");
    // As in a container listening on another port than the 443 it is published on.
    let server = TlsServer::start(&pki, &leaf, "redirect_port = 443", true).await;
    let answer = plain(
        server.redirect.unwrap(),
        "GET /feeds/world.rss HTTP/1.1\r\nHost: feeds.example\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 301 "), "{answer}");
    assert!(
        answer
            .to_lowercase()
            .contains("location: https://feeds.example/feeds/world.rss\r\n"),
        "{answer}"
    );
    server.stop().await;
}
