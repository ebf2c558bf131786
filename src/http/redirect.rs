//! The plain-HTTP listener beside an HTTPS one: every request is answered with a redirect
//! to the same host and path over HTTPS (301 for GET and HEAD, which every feed reader
//! follows; 308 for other methods, which must not turn into a GET), and the connection is
//! closed. It serves nothing else, so nothing, an admin token least of all, is ever
//! answered in clear.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use http::header::{CONTENT_TYPE, HOST, LOCATION};
use http::uri::Authority;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::Body;
use super::server::accept_or_stop;
use crate::config::Limits;

/// Redirects every request on `listener` to HTTPS on `https_port` until `shutdown`
/// completes. Connections past `limits.max_connections` are closed unanswered.
pub(crate) async fn run(
    listener: TcpListener,
    https_port: u16,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes)
        // One answer per connection: a client follows the redirect elsewhere anyway.
        .keep_alive(false);
    // The header timeout bounds a slow head; this bounds a client that never reads.
    let life = limits.header_read_timeout + limits.idle_timeout;
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    while let Some(stream) = accept_or_stop(&listener, &mut shutdown).await {
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            service_fn(move |req| async move { Ok::<_, Infallible>(redirect(&req, https_port)) }),
        );
        tokio::spawn(async move {
            let _ = tokio::time::timeout(life, connection).await;
            drop(slot);
        });
    }
}

/// The redirect for `req`, or 400 when it names no host to redirect to.
fn redirect(req: &Request<Incoming>, https_port: u16) -> Response<Body> {
    let location = req
        .headers()
        .get(HOST)
        .and_then(|host| https_url(host, req.uri().path_and_query(), https_port));
    let Some(location) = location else {
        return Response::builder()
            .status(StatusCode::BAD_REQUEST)
            .header(CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Body::from(
                "this address serves only redirects to https, which need a Host header\n",
            ))
            .expect("a valid response");
    };
    let status = if matches!(*req.method(), Method::GET | Method::HEAD) {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    Response::builder()
        .status(status)
        .header(LOCATION, location)
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from("moved to https\n"))
        .expect("a valid response")
}

/// `https://HOST[:PORT]/PATH?QUERY`: the host of the request's `Host` (its port dropped:
/// that was the plain listener's), the HTTPS port unless it is 443, the same path and
/// query. `None` for a `Host` that is not a bare host and port.
fn https_url(
    host: &HeaderValue,
    path: Option<&http::uri::PathAndQuery>,
    https_port: u16,
) -> Option<HeaderValue> {
    let authority = Authority::try_from(host.as_bytes()).ok()?;
    // `user@host` is an authority but never a Host; a redirect must not carry it on.
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return None;
    }
    let port = match https_port {
        443 => String::new(),
        port => format!(":{port}"),
    };
    let path = path.map_or("/", |p| p.as_str());
    HeaderValue::from_str(&format!("https://{}{port}{path}", authority.host())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_location_keeps_host_path_and_query_and_takes_the_https_port() {
        let url = |host: &str, path: &str, port| {
            let path = http::uri::PathAndQuery::try_from(path).unwrap();
            https_url(&HeaderValue::from_str(host).unwrap(), Some(&path), port)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(
            url("feeds.example", "/feeds/world.rss?x=1", 443).as_deref(),
            Some("https://feeds.example/feeds/world.rss?x=1")
        );
        assert_eq!(
            url("feeds.example:80", "/", 8443).as_deref(),
            Some("https://feeds.example:8443/")
        );
        assert_eq!(
            url("[::1]:8080", "/a", 443).as_deref(),
            Some("https://[::1]/a")
        );
        for bad in ["user@evil.example", "a b", ""] {
            assert_eq!(url(bad, "/", 443), None, "{bad:?}");
        }
    }
}
