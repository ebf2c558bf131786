//! The admin page: the HTML, CSS and JavaScript under `assets/admin/`, compiled into the
//! binary and served at `/admin/` with a strict Content-Security-Policy. Public, like any
//! static file: the page holds no data; every call it makes to `/admin/api/` needs the
//! token. Served whether or not the API is on, so the page can say that it is off.

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderValue, Request, Response, StatusCode};

use super::Body;

/// No inline script or style anywhere, so none is allowed; images may come from the feeds'
/// own hosts (https) for the preview; nothing may frame the page (clickjacking).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' https: data:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'self'";

const INDEX: &str = include_str!("../../assets/admin/index.html");
const SCRIPT: &str = include_str!("../../assets/admin/admin.js");
const STYLE: &str = include_str!("../../assets/admin/admin.css");

/// The page's response to `req`, or `None` when `req` is not for one of its files.
pub fn respond<B>(req: &Request<B>) -> Option<Response<Body>> {
    let (body, content_type) = match req.uri().path() {
        // Without the slash the page's relative URLs would resolve against `/`.
        "/admin" => return Some(redirect("/admin/")),
        "/admin/" | "/admin/index.html" => (INDEX, "text/html; charset=utf-8"),
        "/admin/admin.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "/admin/admin.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return None,
    };
    if !super::routes::is_read(req.method()) {
        return Some(super::routes::get_or_head_only());
    }
    let mut response = Response::new(Body::new(Bytes::from_static(body.as_bytes())));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // Revalidate every time: after an upgrade the page and its script must match.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Some(response)
}

fn redirect(to: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    response
        .headers_mut()
        .insert(LOCATION, HeaderValue::from_static(to));
    response
}
