//! The accept loop: serves HTTP/1.1 and HTTP/2 on an already-bound listener until
//! `shutdown` resolves, then lets open connections finish (bounded) and returns.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::header::CONTENT_ENCODING;
use http::{Method, Request, Response};
use hyper::body::{Body as _, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

use super::routes::{self, Body};
use super::{Shared, page};
use crate::admin::{self, Admin};
use crate::metrics::{self, Metrics};

/// A client has this long to send its request headers (slowloris defence).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long in-flight requests get to finish after shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
const ADMIN_PREFIX: &str = "/admin/";

/// A request either answered on the spot (feeds, health, metrics: sync, from the catalog)
/// or handed to the admin API, which must read a body and wait for writes.
enum Route {
    Answered(Response<Body>),
    /// With the metrics, to count the response once the admin API has made it.
    Admin(Request<Incoming>, Arc<Admin>, Arc<Metrics>),
}

/// Counts a response in `/metrics`: a few atomic increments, no allocation.
fn record(metrics: &Metrics, route: metrics::Route, head: bool, response: &Response<Body>) {
    // A HEAD response's body is never sent.
    let sent = if head {
        0
    } else {
        response.body().size_hint().exact().unwrap_or(0)
    };
    let encoding = response
        .headers()
        .get(CONTENT_ENCODING)
        .map(|v| v.as_bytes());
    metrics
        .http
        .record(route, response.status().as_u16(), encoding, sent);
}

/// Serves the catalog on `listener` until `shutdown` completes.
pub async fn run(listener: TcpListener, shared: Shared, shutdown: impl Future<Output = ()>) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);

    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Usually EMFILE: back off instead of spinning; the listener recovers.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let counted = metrics::Route::of(req.uri().path());
            let head = req.method() == Method::HEAD;
            let route = if let Some(response) = page::respond(&req) {
                Route::Answered(response)
            } else if !req.uri().path().starts_with(ADMIN_PREFIX) {
                Route::Answered(routes::respond(&req, &shared))
            } else if let Some(admin) = &shared.admin {
                Route::Admin(req, admin.clone(), shared.metrics.clone())
            } else {
                Route::Answered(routes::not_found())
            };
            // Counted here, synchronously: the feed path's future carries no metrics handle.
            if let Route::Answered(response) = &route {
                record(&shared.metrics, counted, head, response);
            }
            async move {
                Ok::<_, Infallible>(match route {
                    Route::Answered(response) => response,
                    // Boxed so the feed path's future stays small; only admin calls pay.
                    Route::Admin(req, admin, metrics) => {
                        let response = Box::pin(admin::handle(req, admin)).await;
                        record(&metrics, counted, head, &response);
                        response
                    }
                })
            }
        });
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(error = %e, "connection ended with an error");
            }
        });
    }

    drop(listener);
    info!("shutting down: draining open connections");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => warn!("connections still open after the drain timeout"),
    }
}
