//! The HTTP side: accept loop and shutdown (`server`), routing (`routes`), conditional
//! requests (`cache`), cross-origin reads of `/feeds/` (`cors`), content negotiation
//! (`encoding`, `accept`), WordPress's feed URLs (`wordpress`), the admin page's static
//! files (`page`), what one client may cost
//! (`limits`, `connection`), the threads connections are served on (`workers`), the
//! access log (`access_log`), HTTPS and its certificates (`tls`), the plain-HTTP redirect
//! beside it (`redirect`). It only picks prebuilt bytes and headers; it never builds a
//! feed itself (a feed built on demand is `ondemand`'s, awaited off the worker thread).
//! `/admin/` requests go to the `AdminHandler` the server is started with.

mod accept;
mod access_log;
mod body;
pub mod cache;
mod connection;
mod cors;
pub mod encoding;
mod page;
mod redirect;
mod routes;
mod server;
mod tls;
mod wordpress;
mod workers;

use std::sync::Arc;

pub use access_log::{AccessLog, LogFormat};
pub use body::{AdminHandler, Body};
pub(crate) use redirect::run as redirect;
pub(crate) use server::run;
pub use tls::{Tls, TlsError};

use crate::catalog::Catalog;
use crate::live::LiveConfig;
use crate::metrics::Metrics;
use crate::ondemand::OnDemand;
use crate::store::StoreHealth;

/// What every request handler can read.
#[derive(Clone)]
pub struct Shared {
    pub(crate) catalog: Catalog,
    /// The configuration in force: which feeds exist, built or not. Swapped before the
    /// scheduler hears of it, so a section added live is known at once.
    pub(crate) config: Arc<LiveConfig>,
    pub(crate) metrics: Arc<Metrics>,
    /// The feeds built on demand (`all`, tags, authors), and their cache.
    pub(crate) on_demand: OnDemand,
    /// Whether the store takes writes, for `/readyz`.
    pub store: StoreHealth,
}
