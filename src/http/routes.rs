//! Routing: a request and the current catalog in, a response out. Reads the catalog once
//! and copies nothing but reference-counted bytes and precomputed header values.

use bytes::Bytes;
use http::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, ETAG, LAST_MODIFIED, VARY};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;

use super::cache;
use crate::catalog::{Catalog, Feed};

pub type Body = Full<Bytes>;

const FEEDS_PREFIX: &str = "/feeds/";

pub fn respond<B>(req: &Request<B>, catalog: &Catalog) -> Response<Body> {
    let path = req.uri().path();
    match path {
        "/healthz" => text(StatusCode::OK, "ok\n"),
        "/readyz" if catalog.snapshot().ready => text(StatusCode::OK, "ready\n"),
        "/readyz" => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "starting: first build not done\n",
        ),
        _ => match path.strip_prefix(FEEDS_PREFIX) {
            Some(name) => feed(req, catalog, name),
            None => not_found(),
        },
    }
}

fn feed<B>(req: &Request<B>, catalog: &Catalog, name: &str) -> Response<Body> {
    let snapshot = catalog.snapshot();
    let Some(feed) = snapshot.feeds.get(name) else {
        return not_found();
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    if cache::not_modified(req.headers(), feed.etag.as_bytes(), feed.last_modified) {
        return with_validators(
            Response::new(Body::default()),
            feed,
            StatusCode::NOT_MODIFIED,
        );
    }
    let mut response = with_validators(
        Response::new(Body::new(feed.body.clone())),
        feed,
        StatusCode::OK,
    );
    response
        .headers_mut()
        .insert(CONTENT_TYPE, feed.content_type.clone());
    response
}

/// The headers a 200 and a 304 share (RFC 9110 §15.4.5).
fn with_validators(
    mut response: Response<Body>,
    feed: &Feed,
    status: StatusCode,
) -> Response<Body> {
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(ETAG, feed.etag.clone());
    headers.insert(LAST_MODIFIED, feed.last_modified_header.clone());
    headers.insert(CACHE_CONTROL, feed.cache_control.clone());
    headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    response
}

fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found\n")
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
