//! The HTTP client sources fetch with: GET only, a `User-Agent` naming pressfeed, conditional
//! requests, timeouts, retries with backoff and jitter, a size limit, gzip, and a few
//! redirects. It knows nothing of what the bytes mean.

use std::io::Read as _;
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION, RETRY_AFTER, USER_AGENT,
};
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use url::Url;

/// The connection must be up within this long...
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// ...and the whole answer, headers and body, in within this long, per attempt.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts per fetch when the source fails in a way that may pass (no answer, 5xx, 429).
const TRIES: u32 = 3;
/// The wait before the second attempt; doubled for each next, then jittered by ±50% so that
/// sources failing together do not retry together.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest `Retry-After` honoured; a source asking for more gets its next poll instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// The largest body accepted (after decompression): a page of a hundred long posts is a few
/// megabytes; much more is a misconfigured URL or a hostile server.
const MAX_BODY: usize = 32 << 20;
const MAX_REDIRECTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: answered {status}{detail}")]
    Status {
        url: String,
        status: StatusCode,
        /// The start of the body, which often says why (a WordPress error's message).
        detail: String,
    },
    #[error("{url}: no complete answer within {TIMEOUT:?}")]
    Timeout { url: String },
    #[error("{url}: the body is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: more than {MAX_REDIRECTS} redirects")]
    Redirects { url: String },
}

impl FetchError {
    /// Worth another attempt: the source may answer better in a moment.
    fn transient(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            FetchError::Timeout { .. } | FetchError::Transport { .. } => true,
            FetchError::TooLarge { .. } | FetchError::Redirects { .. } => false,
        }
    }

    pub fn status(&self) -> Option<StatusCode> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The validators of an answer, sent back to ask "changed since?".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    fn of(headers: &HeaderMap) -> Validators {
        let get = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Validators {
            etag: get(ETAG),
            last_modified: get(LAST_MODIFIED),
        }
    }
}

/// What a GET brought back.
#[derive(Debug)]
pub enum Fetched {
    /// 304: what was fetched with these validators has not changed.
    NotModified,
    Body(Box<Answer>),
}

/// A successful answer, read whole.
#[derive(Debug)]
pub struct Answer {
    /// The URL answered, after redirects.
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub validators: Validators,
}

/// One GET to make.
pub struct Get<'a> {
    pub url: Url,
    /// An `Authorization` value, sent to the URL's host only (not after a redirect away).
    pub auth: Option<&'a HeaderValue>,
    /// Validators of an earlier answer for this URL: a conditional request.
    pub validators: Option<&'a Validators>,
    pub accept: &'static str,
}

/// Cheap to clone; one per server, shared by its sources.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    user_agent: HeaderValue,
    /// Bytes; `MAX_BODY` but in tests.
    max_body: usize,
}

impl Default for HttpClient {
    fn default() -> Self {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        // The https connector takes over the scheme check.
        http.enforce_http(false);
        let connector = HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        HttpClient {
            client: Client::builder(TokioExecutor::new()).build(connector),
            user_agent: HeaderValue::from_static(concat!("pressfeed/", env!("CARGO_PKG_VERSION"))),
            max_body: MAX_BODY,
        }
    }
}

impl HttpClient {
    /// GETs `get.url`, retrying what may pass with backoff and jitter.
    pub async fn get(&self, get: &Get<'_>) -> Result<Fetched, FetchError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            match self.follow(get).await {
                Ok(fetched) => return Ok(fetched),
                Err((e, _)) if !e.transient() || attempt == TRIES => return Err(e),
                Err((e, retry_after)) => {
                    let wait = retry_after
                        .filter(|w| *w <= MAX_RETRY_AFTER)
                        .unwrap_or_else(|| backoff.mul_f64(0.5 + fastrand::f64()));
                    tracing::debug!(error = %e, attempt, ?wait, "source fetch failed; retrying");
                    tokio::time::sleep(wait).await;
                    backoff *= 2;
                    attempt += 1;
                }
            }
        }
    }

    /// One attempt, following redirects. A failure comes with the `Retry-After` it asked for.
    async fn follow(&self, get: &Get<'_>) -> Result<Fetched, (FetchError, Option<Duration>)> {
        let mut url = get.url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let same_origin = url.origin() == get.url.origin();
            let mut req = Request::get(url.as_str())
                .header(USER_AGENT, self.user_agent.clone())
                .header(ACCEPT, get.accept)
                .header(ACCEPT_ENCODING, "gzip");
            if let (Some(auth), true) = (get.auth, same_origin) {
                req = req.header(AUTHORIZATION, auth.clone());
            }
            // Validators belong to the URL asked for; a redirect target gets a plain GET.
            if let (Some(v), true) = (get.validators, url == get.url) {
                if let Some(etag) = &v.etag {
                    req = req.header(IF_NONE_MATCH, etag);
                }
                if let Some(date) = &v.last_modified {
                    req = req.header(IF_MODIFIED_SINCE, date);
                }
            }
            let req = req.body(Empty::new()).map_err(|e| {
                let message = format!("cannot make the request: {e}");
                (transport(&url, message), None)
            })?;
            let answer = tokio::time::timeout(TIMEOUT, self.read(req, &url)).await;
            let (status, headers, body) = match answer {
                Err(_) => {
                    return Err((
                        FetchError::Timeout {
                            url: url.to_string(),
                        },
                        None,
                    ));
                }
                Ok(Err(e)) => return Err((e, None)),
                Ok(Ok(answer)) => answer,
            };
            if status == StatusCode::NOT_MODIFIED {
                return Ok(Fetched::NotModified);
            }
            if status.is_redirection() {
                let next = headers
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok());
                match next {
                    Some(next) => {
                        url = next;
                        continue;
                    }
                    None => {
                        let message = format!("answered {status} without a usable Location");
                        return Err((transport(&url, message), None));
                    }
                }
            }
            if !status.is_success() {
                let retry_after = headers
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse().ok())
                    .map(Duration::from_secs);
                let detail = excerpt(&body);
                let e = FetchError::Status {
                    url: url.to_string(),
                    status,
                    detail: if detail.is_empty() {
                        detail
                    } else {
                        format!(": {detail}")
                    },
                };
                return Err((e, retry_after));
            }
            return Ok(Fetched::Body(Box::new(Answer {
                validators: Validators::of(&headers),
                url,
                headers,
                body,
            })));
        }
        Err((
            FetchError::Redirects {
                url: get.url.to_string(),
            },
            None,
        ))
    }

    /// Sends `req` and reads the whole answer, decompressed, within `max_body`.
    async fn read(
        &self,
        req: Request<Empty<Bytes>>,
        url: &Url,
    ) -> Result<(StatusCode, HeaderMap, Bytes), FetchError> {
        let limit = self.max_body;
        let too_large = || FetchError::TooLarge {
            url: url.to_string(),
            limit,
        };
        let res = self
            .client
            .request(req)
            .await
            .map_err(|e| transport(url, describe(&e)))?;
        let (parts, body) = res.into_parts();
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(too_large());
        }
        let body = Limited::new(body, limit)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    too_large()
                } else {
                    transport(url, format!("reading the body: {e}"))
                }
            })?
            .to_bytes();
        let gzipped = parts
            .headers
            .get(CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let body = if gzipped {
            let mut out = Vec::new();
            // One byte over the limit tells a bomb from a body that just fits.
            flate2::read::GzDecoder::new(&body[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| transport(url, format!("bad gzip body: {e}")))?;
            if out.len() > limit {
                return Err(too_large());
            }
            Bytes::from(out)
        } else {
            body
        };
        Ok((parts.status, parts.headers, body))
    }
}

fn transport(url: &Url, message: String) -> FetchError {
    FetchError::Transport {
        url: url.to_string(),
        message,
    }
}

/// The error and its causes on one line: hyper's own message alone says only "client error".
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The start of an error body, on one line.
fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX * 4)]);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_that_may_pass_are_retried() {
        let status = |status| FetchError::Status {
            url: String::new(),
            status,
            detail: String::new(),
        };
        assert!(status(StatusCode::INTERNAL_SERVER_ERROR).transient());
        assert!(status(StatusCode::TOO_MANY_REQUESTS).transient());
        assert!(!status(StatusCode::NOT_FOUND).transient());
        assert!(!status(StatusCode::UNAUTHORIZED).transient());
        assert!(FetchError::Timeout { url: String::new() }.transient());
        let too_large = FetchError::TooLarge {
            url: String::new(),
            limit: 1,
        };
        assert!(!too_large.transient());
    }

    #[test]
    fn error_bodies_are_cut_to_one_short_line() {
        assert_eq!(
            excerpt(b"{\"code\":\n  \"rest_forbidden\"}"),
            "{\"code\": \"rest_forbidden\"}"
        );
        let long = "é".repeat(500);
        assert_eq!(excerpt(long.as_bytes()).chars().count(), 201);
    }

    /// A server on 127.0.0.1:0 answering each connection with the next of `answers` (raw
    /// HTTP/1.1), and telling each request's head on the channel.
    async fn serve(answers: Vec<Vec<u8>>) -> (Url, tokio::sync::mpsc::UnboundedReceiver<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            for answer in answers {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut head = Vec::new();
                let mut buf = [0; 1024];
                while !head.ends_with(b"\r\n\r\n") {
                    let n = stream.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                let _ = tx.send(String::from_utf8_lossy(&head).into_owned());
                stream.write_all(&answer).await.unwrap();
                stream.shutdown().await.unwrap();
            }
        });
        (url, rx)
    }

    fn get(url: Url, auth: Option<&HeaderValue>) -> Get<'_> {
        Get {
            url,
            auth,
            validators: None,
            accept: "application/json",
        }
    }

    fn answer(head: &str, body: &[u8]) -> Vec<u8> {
        let mut bytes = format!(
            "HTTP/1.1 {head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(body);
        bytes
    }

    #[tokio::test]
    async fn redirects_are_followed_and_credentials_stay_home() {
        let (target, mut target_heads) = serve(vec![answer("200 OK", b"[]")]).await;
        let moved = format!("301 Moved Permanently\r\nlocation: {target}feed");
        let (origin, mut origin_heads) = serve(vec![answer(&moved, b"")]).await;
        let auth = HeaderValue::from_static("Basic dTpw");
        let Fetched::Body(got) = HttpClient::default()
            .get(&get(origin, Some(&auth)))
            .await
            .unwrap()
        else {
            panic!("a body")
        };
        assert_eq!(got.url.as_str(), format!("{target}feed"));
        assert_eq!(&got.body[..], b"[]");
        let first = origin_heads.recv().await.unwrap().to_ascii_lowercase();
        assert!(first.contains("authorization: basic dtpw"), "{first}");
        assert!(first.contains("user-agent: pressfeed/"), "{first}");
        let second = target_heads.recv().await.unwrap().to_ascii_lowercase();
        assert!(
            !second.contains("authorization"),
            "another origin: {second}"
        );
    }

    #[tokio::test]
    async fn gzip_is_decoded_within_the_size_limit() {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&[b'x'; 4096]).unwrap();
        let zipped = gz.finish().unwrap();
        let head = "200 OK\r\ncontent-encoding: gzip";
        let (url, _heads) = serve(vec![answer(head, &zipped), answer(head, &zipped)]).await;
        let mut client = HttpClient::default();
        let Fetched::Body(got) = client.get(&get(url.clone(), None)).await.unwrap() else {
            panic!("a body")
        };
        assert_eq!(got.body.len(), 4096);
        client.max_body = 1000;
        let e = client.get(&get(url, None)).await.unwrap_err();
        assert!(matches!(e, FetchError::TooLarge { limit: 1000, .. }), "{e}");
    }

    #[tokio::test]
    async fn validators_make_a_conditional_request() {
        let ok = answer(
            "200 OK\r\netag: \"v1\"\r\nlast-modified: Mon, 30 Nov 2026 10:00:00 GMT",
            b"[]",
        );
        let (url, mut heads) = serve(vec![ok, answer("304 Not Modified", b"")]).await;
        let client = HttpClient::default();
        let Fetched::Body(first) = client.get(&get(url.clone(), None)).await.unwrap() else {
            panic!("a body")
        };
        assert_eq!(first.validators.etag.as_deref(), Some("\"v1\""));
        let again = Get {
            validators: Some(&first.validators),
            ..get(url, None)
        };
        assert!(matches!(
            client.get(&again).await.unwrap(),
            Fetched::NotModified
        ));
        let _ = heads.recv().await.unwrap();
        let second = heads.recv().await.unwrap().to_ascii_lowercase();
        assert!(second.contains("if-none-match: \"v1\""), "{second}");
        assert!(
            second.contains("if-modified-since: mon, 30 nov 2026"),
            "{second}"
        );
    }
}
