//! The body of every response the server sends, and the handler it hands `/admin/`
//! requests to. A leaf: the admin API builds its responses with these types without the
//! server knowing anything of it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;

/// Every response is whole bytes: feeds are prebuilt, admin answers are small.
pub type Body = Full<Bytes>;

/// What answers `/admin/` requests, given by whoever starts the server. Boxed: only admin
/// calls pay for the allocation, and the feed path's future stays small.
pub type AdminHandler = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync,
>;
