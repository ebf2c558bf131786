//! Cross-origin reads (CORS) of the public files under `/feeds/`: feeds, the OPML list and
//! the stylesheet may be read by a script on any site, as a web feed reader or a news
//! widget does. Not the admin page or API, nor health and metrics: those are not for
//! other sites' scripts. The header values are constants; a request pays for two inserts.

use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD,
    HeaderMap, ORIGIN,
};
use http::{HeaderValue, Method, Request, Response, StatusCode};

use super::Body;

// Consts, not statics: each use is a `HeaderValue` over static bytes, made at compile time,
// with no check of the text and no reference count at run time.
const ANY_ORIGIN: HeaderValue = HeaderValue::from_static("*");
/// What a script may read beyond the safelisted headers: the validators, to make its own
/// conditional requests, and when to ask again after a 503. (Last-Modified is safelisted
/// already; it is named so the list says whole what a conditional request needs.)
const EXPOSED: HeaderValue = HeaderValue::from_static("ETag, Last-Modified, Retry-After");
const METHODS: HeaderValue = HeaderValue::from_static("GET, HEAD");
/// The headers of a conditional request, the only ones a script sets here that are not
/// safelisted and so need a preflight.
const REQUEST_HEADERS: HeaderValue = HeaderValue::from_static("If-None-Match, If-Modified-Since");
/// A day: the answer never changes while the server runs, so a browser may keep it as long
/// as it is willing to (some cap it lower).
const MAX_AGE: HeaderValue = HeaderValue::from_static("86400");

/// Lets any origin read the response and the headers in `EXPOSED`. Every answer under
/// `/feeds/` carries it, errors too, so a script sees a 404, 410 or 503 as it is rather
/// than as a network error.
pub(super) fn allow_any_origin(headers: &mut HeaderMap) {
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, ANY_ORIGIN);
    headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED);
}

/// The answer to a CORS preflight, or `None` when `req` is not one. The Fetch standard
/// sends a preflight as an `OPTIONS` with `Origin` and `Access-Control-Request-Method`;
/// any other `OPTIONS` is an ordinary request for a method the files do not take, and
/// stays 405. The answer is the same for every path under `/feeds/`, whether or not a feed
/// is there: the request that follows learns that (404, 410, 503) with headers a script
/// may read. Methods and headers other than those allowed are refused by the browser,
/// which compares them with the answer.
pub(super) fn preflight<B>(req: &Request<B>) -> Option<Response<Body>> {
    let headers = req.headers();
    let is_preflight = req.method() == Method::OPTIONS
        && headers.contains_key(ORIGIN)
        && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    if !is_preflight {
        return None;
    }
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, METHODS);
    headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, REQUEST_HEADERS);
    headers.insert(ACCESS_CONTROL_MAX_AGE, MAX_AGE);
    Some(response)
}
