//! The one outbound HTTP client: sources fetch with it (conditional GETs, redirects, gzip,
//! a size limit) and WebSub pings hubs with it (form POSTs). A `User-Agent` naming
//! pressfeed, timeouts, and one retry policy (`Backoff`) for both. It knows nothing of what
//! the bytes mean.

use std::io::Read as _;
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION, RETRY_AFTER, USER_AGENT,
};
use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use url::Url;

/// The connection must be up within this long...
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// ...and the whole answer, headers and body, in within this long, per attempt.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts per GET when the source fails in a way that may pass (no answer, 5xx, 429).
const GET_TRIES: u32 = 3;
/// The wait before a GET's second attempt; a source polls again on its schedule anyway.
const GET_FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest `Retry-After` honoured; a server asking for more gets its next turn instead.
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
        /// How long the server asked us to wait (`Retry-After` in seconds), if it did.
        retry_after: Option<Duration>,
    },
    #[error("{url}: no complete answer within {TIMEOUT:?}")]
    Timeout { url: String },
    #[error("{url}: the body is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    /// The request could not be made at all (not a URL, a header that cannot be sent):
    /// no attempt reached the server, and none ever will.
    #[error("{url}: {message}")]
    Request { url: String, message: String },
    #[error("{url}: more than {MAX_REDIRECTS} redirects")]
    Redirects { url: String },
}

impl FetchError {
    /// Worth another attempt: the server may answer better in a moment.
    pub fn transient(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            FetchError::Timeout { .. } | FetchError::Transport { .. } => true,
            FetchError::TooLarge { .. }
            | FetchError::Redirects { .. }
            | FetchError::Request { .. } => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
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

/// When to try again after a failure: waits that double from a first one, each jittered by
/// ±50% so that requests failing together do not retry together, or the server's own
/// `Retry-After` when it is short; none once the attempts are used up.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    /// Attempts still allowed after the one in progress.
    left: u32,
}

impl Backoff {
    /// `tries` attempts in all, the second `first` after the first.
    pub fn new(first: Duration, tries: u32) -> Backoff {
        Backoff {
            next: first,
            left: tries.saturating_sub(1),
        }
    }

    /// The wait before the next attempt after `error`, or `None` to give up.
    pub fn after(&mut self, error: &FetchError) -> Option<Duration> {
        if !error.transient() || self.left == 0 {
            return None;
        }
        self.left -= 1;
        let jittered = self.next.mul_f64(0.5 + fastrand::f64());
        self.next *= 2;
        Some(
            error
                .retry_after()
                .filter(|w| *w <= MAX_RETRY_AFTER)
                .unwrap_or(jittered),
        )
    }
}

/// Cheap to clone; one per server, shared by its sources and its WebSub pings.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
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
            .with_provider_and_webpki_roots(crate::crypto::provider())
            .expect("ring supports the default TLS versions")
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
    /// GETs `get.url`, retrying what may pass.
    pub async fn get(&self, get: &Get<'_>) -> Result<Fetched, FetchError> {
        let mut backoff = Backoff::new(GET_FIRST_BACKOFF, GET_TRIES);
        loop {
            match self.follow(get).await {
                Ok(fetched) => return Ok(fetched),
                Err(e) => match backoff.after(&e) {
                    None => return Err(e),
                    Some(wait) => {
                        tracing::debug!(error = %e, ?wait, "fetch failed; retrying");
                        tokio::time::sleep(wait).await;
                    }
                },
            }
        }
    }

    /// One POST of `form` (`application/x-www-form-urlencoded`) to `url`: success is a 2xx
    /// answer. Not retried and not redirected: the caller knows whether a repeat is worth it
    /// (`Backoff`), and a form is not sent on to wherever a redirect points.
    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<(), FetchError> {
        let parsed = Url::parse(url).map_err(|e| FetchError::Request {
            url: url.to_owned(),
            message: format!("not a URL: {e}"),
        })?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = Request::post(parsed.as_str())
            .header(USER_AGENT, self.user_agent.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| unmakeable(&parsed, &e))?;
        let (status, headers, body) = self.exchange(req, &parsed).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(status_error(&parsed, status, &headers, &body))
        }
    }

    /// One attempt, following redirects.
    async fn follow(&self, get: &Get<'_>) -> Result<Fetched, FetchError> {
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
            let req = req
                .body(Full::default())
                .map_err(|e| unmakeable(&url, &e))?;
            let (status, headers, body) = self.exchange(req, &url).await?;
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
                        return Err(transport(&url, message));
                    }
                }
            }
            if !status.is_success() {
                return Err(status_error(&url, status, &headers, &body));
            }
            return Ok(Fetched::Body(Box::new(Answer {
                validators: Validators::of(&headers),
                url,
                headers,
                body,
            })));
        }
        Err(FetchError::Redirects {
            url: get.url.to_string(),
        })
    }

    /// Sends `req` and reads the whole answer within `TIMEOUT`.
    async fn exchange(
        &self,
        req: Request<Full<Bytes>>,
        url: &Url,
    ) -> Result<(StatusCode, HeaderMap, Bytes), FetchError> {
        tokio::time::timeout(TIMEOUT, self.read(req, url))
            .await
            .map_err(|_| FetchError::Timeout {
                url: url.to_string(),
            })?
    }

    /// Sends `req` and reads the whole answer, decompressed, within `max_body`.
    async fn read(
        &self,
        req: Request<Full<Bytes>>,
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

/// A non-success answer, with the start of its body and the wait it asked for.
fn status_error(url: &Url, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> FetchError {
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .map(Duration::from_secs);
    let detail = excerpt(body);
    FetchError::Status {
        url: url.to_string(),
        status,
        detail: if detail.is_empty() {
            detail
        } else {
            format!(": {detail}")
        },
        retry_after,
    }
}

fn unmakeable(url: &Url, e: &http::Error) -> FetchError {
    FetchError::Request {
        url: url.to_string(),
        message: format!("cannot make the request: {e}"),
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
            retry_after: None,
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
        let unmakeable = FetchError::Request {
            url: String::new(),
            message: String::new(),
        };
        assert!(!unmakeable.transient());
    }

    #[test]
    fn backoff_doubles_with_jitter_honours_retry_after_and_gives_up() {
        let failure = |status, retry_after| FetchError::Status {
            url: String::new(),
            status,
            detail: String::new(),
            retry_after,
        };
        let unavailable = failure(StatusCode::SERVICE_UNAVAILABLE, None);
        let mut backoff = Backoff::new(Duration::from_secs(1), 4);
        let first = backoff.after(&unavailable).unwrap();
        assert!((Duration::from_millis(500)..=Duration::from_millis(1500)).contains(&first));
        let second = backoff.after(&unavailable).unwrap();
        assert!((Duration::from_secs(1)..=Duration::from_secs(3)).contains(&second));
        let asked = failure(StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(7)));
        assert_eq!(backoff.after(&asked), Some(Duration::from_secs(7)));
        assert_eq!(backoff.after(&unavailable), None, "four attempts in all");

        let mut backoff = Backoff::new(Duration::from_secs(1), 4);
        assert_eq!(backoff.after(&failure(StatusCode::NOT_FOUND, None)), None);
        let too_long = failure(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(Duration::from_secs(3600)),
        );
        assert!(backoff.after(&too_long).unwrap() <= Duration::from_millis(1500));
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
