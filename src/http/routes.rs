//! Routing: a request and the shared state in, a response out. A feed request reads the
//! catalog once and copies nothing but reference-counted bytes and prebuilt header values.

use bytes::Bytes;
use http::header::{
    ALLOW, CACHE_CONTROL, CONNECTION, CONTENT_ENCODING, CONTENT_TYPE, ETAG, LAST_MODIFIED,
    RETRY_AFTER, USER_AGENT, VARY,
};
use http::{HeaderValue, Method, Request, Response, StatusCode, Version};
use hyper::body::Body as _;

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use super::{Body, Shared, accept, cache, cors, encoding, wordpress};
use crate::build::{Format, feeds_page, preview};
use crate::catalog::{Feed, Snapshot, Variant};
use crate::ondemand::{Answer, Lookup};
use crate::publish;

const FEEDS_PREFIX: &str = "/feeds/";
/// The headers of a feed's 200: the validators, Cache-Control, Vary, Content-Type,
/// Content-Encoding, and the two of `cors::allow_any_origin`.
const FEED_HEADERS: usize = 8;

/// The answer to `req`, a request outside `/admin/`. Every answer under `/feeds/`, a
/// preflight's and errors too, may be read by any origin (`cors`); health, readiness and
/// metrics are for the operator's tools, which are no browser scripts, and only read.
pub fn respond<B>(req: &Request<B>, shared: &Shared) -> Routed {
    let path = req.uri().path();
    if let Some(name) = path.strip_prefix(FEEDS_PREFIX) {
        return match cors::preflight(req).map_or_else(|| feed(req, shared, name), Routed::Now) {
            Routed::Now(mut response) => {
                cors::allow_any_origin(response.headers_mut());
                Routed::Now(response)
            }
            Routed::Later(later) => Routed::Later(Box::pin(async move {
                let mut response = later.await;
                cors::allow_any_origin(response.headers_mut());
                response
            })),
        };
    }
    let answer: fn(&Shared) -> Response<Body> = match path {
        "/healthz" => |_| text(StatusCode::OK, "ok\n"),
        "/readyz" => ready,
        "/metrics" => metrics,
        _ => {
            let config = &shared.config.current().config;
            return Routed::Now(wordpress::redirect(req, config).unwrap_or_else(not_found));
        }
    };
    if !is_read(req.method()) {
        return Routed::Now(get_or_head_only());
    }
    Routed::Now(answer(shared))
}

/// An answer made now, or one a feed built on demand is awaited for (see `ondemand`).
pub enum Routed {
    Now(Response<Body>),
    Later(Pin<Box<dyn Future<Output = Response<Body>> + Send>>),
}

fn feed<B>(req: &Request<B>, shared: &Shared, name: &str) -> Routed {
    let snapshot = shared.catalog.snapshot();
    let name = if name.is_empty() {
        feeds_page::FILE_NAME
    } else {
        name
    };
    let Some(feed) = snapshot.feeds.get(name) else {
        return on_demand(req, shared, &snapshot, name);
    };
    // A browser is sent the feed's preview, a representation of its own (validators and
    // all). Missing only while a store an older pressfeed wrote is served before the first
    // build: the feed itself then.
    let preview = (asks_for_preview(req, name, feed.previewed))
        .then(|| snapshot.feeds.get(&preview::file_name(name)))
        .flatten();
    let response = serve(req, preview.map_or(feed, |preview| &**preview), feed.vary());
    count_poll(req, shared, name, &response);
    Routed::Now(response)
}

/// Whether `req` is a browser's for the feed `name`, if it has a preview (`previewed`): its
/// `Accept` prefers HTML to the feed's media type.
fn asks_for_preview<B>(req: &Request<B>, name: &str, previewed: bool) -> bool {
    previewed
        && Format::of_file(name)
            .is_some_and(|format| accept::prefers_html(req.headers(), format.content_type()))
}

/// Counts a poll of the section feed `name` answered 200 or 304, by who polled
/// (`readers`): a few byte searches in the User-Agent and atomic increments. The site's
/// other files (the feeds page, the OPML list) are not feeds anyone subscribes to.
fn count_poll<B>(req: &Request<B>, shared: &Shared, name: &str, response: &Response<Body>) {
    let not_modified = match response.status() {
        StatusCode::OK => false,
        StatusCode::NOT_MODIFIED => true,
        _ => return,
    };
    if Format::of_file(name).is_none() {
        return;
    }
    // A HEAD response's body is never sent.
    let sent = if req.method() == Method::HEAD {
        0
    } else {
        response.body().size_hint().exact().unwrap_or(0)
    };
    let user_agent = req.headers().get(USER_AGENT).map(HeaderValue::as_bytes);
    (shared.metrics.readers).record(name, user_agent, not_modified, sent);
}

/// The answer of `feed` to `req`: its bytes in the coding asked for, or 304. `vary` is
/// that of the URL, which may answer with another file than `feed` (its preview).
fn serve<B>(req: &Request<B>, feed: &Feed, vary: HeaderValue) -> Response<Body> {
    if !is_read(req.method()) {
        return get_or_head_only();
    }
    let Some(coding) = encoding::negotiate(req.headers()) else {
        let mut response = text(StatusCode::NOT_ACCEPTABLE, "no acceptable content coding\n");
        response.headers_mut().insert(VARY, vary);
        return response;
    };
    let variant = feed.variant(coding);
    let etag = variant.etag.as_bytes();
    if cache::not_modified(
        req.headers(),
        etag,
        feed.last_modified,
        feed.ambiguous_until(),
    ) {
        let response = Response::new(Body::default());
        return with_validators(response, feed, variant, vary, StatusCode::NOT_MODIFIED);
    }
    let response = Response::new(Body::new(variant.body.clone()));
    let mut response = with_validators(response, feed, variant, vary, StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, feed.content_type.clone());
    if let Some(coding) = &variant.content_encoding {
        headers.insert(CONTENT_ENCODING, coding.clone());
    }
    response
}

/// A feed the catalog does not hold: one built on demand, served if it is kept, else built
/// (the request waits for it); a name no live article has is 404, and so is any other
/// name `not_served` does not know. A browser asking for a feed built on demand is sent
/// its preview, a file of its own there, kept and built (only then) as the feed is.
fn on_demand<B>(req: &Request<B>, shared: &Shared, snapshot: &Snapshot, name: &str) -> Routed {
    let config = || shared.config.current().config.clone();
    let previewed = preview::has_preview(name);
    let vary = Feed::vary_of(previewed);
    let asked = if asks_for_preview(req, name, previewed) {
        Cow::Owned(preview::file_name(name))
    } else {
        Cow::Borrowed(name)
    };
    let cold = match shared.on_demand.lookup(config, &asked) {
        Lookup::NotOurs => return Routed::Now(not_served(req, shared, snapshot, name)),
        Lookup::Warm(feed) => return Routed::Now(serve(req, &feed, vary)),
        Lookup::Cold(_) if !is_read(req.method()) => return Routed::Now(get_or_head_only()),
        Lookup::Cold(cold) => cold,
    };
    // What `serve` reads of the request, owned by the future.
    let mut head = Request::new(());
    *head.method_mut() = req.method().clone();
    *head.headers_mut() = req.headers().clone();
    Routed::Later(Box::pin(async move {
        match cold.await {
            Answer::Feed(feed) => serve(&head, &feed, vary),
            Answer::Unknown => not_found(),
            Answer::Busy => retry_soon("busy: too many feeds are being built; retry in a second\n"),
            Answer::Failed => {
                retry_soon("unavailable: this feed cannot be built now; retry soon\n")
            }
        }
    }))
}

/// 503 that asks to come back in a second. `no-store` keeps a cache in front from
/// answering with this in place of the feed once it is built.
fn retry_soon(message: &'static str) -> Response<Body> {
    let mut response = text(StatusCode::SERVICE_UNAVAILABLE, message);
    let headers = response.headers_mut();
    headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A feed the catalog does not hold. One the configuration in force publishes is not built
/// yet (the first build after a start or after its section was added is running): 503, as
/// a reader takes 404 for a feed that does not exist and may drop it. That comes first, so
/// a section deleted and made again is not 410. A feed that was served once and whose
/// section was deleted is 410; anything else 404.
fn not_served<B>(
    req: &Request<B>,
    shared: &Shared,
    snapshot: &Snapshot,
    name: &str,
) -> Response<Body> {
    if publish::max_age_of(&shared.config.current().config, name).is_some() {
        if !is_read(req.method()) {
            return get_or_head_only();
        }
        // A first build is quick, so asking again soon costs little.
        return retry_soon("not built yet: this feed is being built; retry in a second\n");
    }
    if snapshot.gone.contains(name) {
        return text(
            StatusCode::GONE,
            "gone: this feed's section was removed; please unsubscribe\n",
        );
    }
    not_found()
}

/// The headers a 200 and a 304 share (RFC 9110 §15.4.5). `vary` is that of the URL, which
/// may answer with another file than `feed` (its preview).
fn with_validators(
    mut response: Response<Body>,
    feed: &Feed,
    variant: &Variant,
    vary: HeaderValue,
    status: StatusCode,
) -> Response<Body> {
    *response.status_mut() = status;
    let headers = response.headers_mut();
    // Every header a 200 carries, so the map is allocated once, not grown on the way.
    headers.reserve(FEED_HEADERS);
    headers.insert(ETAG, variant.etag.clone());
    headers.insert(LAST_MODIFIED, feed.last_modified_header.clone());
    headers.insert(CACHE_CONTROL, feed.cache_control.clone());
    headers.insert(VARY, vary);
    response
}

/// Ready when the first build is done and the store works. A store fault (disk full, I/O
/// errors) answers 503 with the fault in words, without the error behind it, which may
/// name the store's path: that is for the log, where the store wrote it. Readiness is what
/// load balancers and orchestrators route by, and a server whose writes cannot land should
/// leave the CMS's rotation and be seen by whoever watches. Feeds are still served
/// meanwhile (the last good bytes), and `/healthz` stays 200 so nothing restarts a process
/// that a restart cannot mend. Reading the store's health is a few atomic operations: a
/// probe never queues behind a write.
fn ready(shared: &Shared) -> Response<Body> {
    if !shared.catalog.snapshot().ready {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "starting: first build not done\n",
        );
    }
    match shared.store.outage() {
        Some(outage) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "degraded: {}; writes fail, the last good feeds are served\n",
                outage.fault
            ),
        ),
        None => text(StatusCode::OK, "ready\n"),
    }
}

fn metrics(shared: &Shared) -> Response<Body> {
    let mut response = Response::new(Body::new(Bytes::from(shared.metrics.encode())));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// 413 for a request that sends a body where none is taken. The connection closes after it,
/// so the rest of the body is never read (HTTP/2 resets just the stream instead).
pub(crate) fn body_not_allowed(version: Version) -> Response<Body> {
    let mut response = text(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request body not allowed: only /admin/api/ takes one\n",
    );
    if version < Version::HTTP_2 {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Whether `method` only reads, as every resource outside the admin API takes.
pub(crate) fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// 405 for a resource that only reads.
pub(crate) fn get_or_head_only() -> Response<Body> {
    let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

pub(crate) fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found\n")
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Body::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
