//! The HTTP side: accept loop and shutdown (`server`), routing (`routes`), conditional
//! requests (`cache`), content negotiation (`encoding`), the admin page's static files
//! (`page`), what one client may cost (`limits`, `connection`), the threads connections
//! are served on (`workers`). It only picks prebuilt bytes and headers; it never builds a
//! feed. `/admin/api/` requests go to `crate::admin`.

pub mod cache;
mod connection;
pub mod encoding;
mod limits;
mod page;
mod routes;
mod server;
mod workers;

use std::sync::Arc;

pub use limits::Limits;
pub use routes::Body;
pub use server::run;

use crate::admin::Admin;
use crate::catalog::Catalog;
use crate::metrics::Metrics;
use crate::store::StoreHealth;

/// What every request handler can read.
#[derive(Clone)]
pub struct Shared {
    pub catalog: Catalog,
    pub metrics: Arc<Metrics>,
    /// `None` when no admin token is configured: `/admin/` answers 404.
    pub admin: Option<Arc<Admin>>,
    /// Whether the store takes writes, for `/readyz`.
    pub store: StoreHealth,
}
