//! The accept loop: serves HTTP/1.1 and HTTP/2 on an already-bound listener until
//! `shutdown` resolves, then lets open connections finish (bounded) and returns. At most
//! `Limits::max_connections` are served at once; `connection` bounds each one's life.
//! Every response is counted in `/metrics` and, with the access log on, logged, at one point.
//! With `Tls`, every connection is handshaken first, and speaks HTTP/2 or HTTP/1.1 within.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::header::{CONTENT_ENCODING, STRICT_TRANSPORT_SECURITY};
use http::{HeaderValue, Method, Request, Response};
use hyper::body::{Body as _, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tracing::{debug, info, warn};

use super::access_log::{self, Entry};
use super::connection::{self, Activity, Stream, Timeouts};
use super::routes::{self, Routed};
use super::tls::Tls;
use super::workers::Workers;
use super::{AdminHandler, Body, Shared, page};
use crate::config::Limits;
use crate::metrics::{self, Metrics};

/// How long in-flight requests get to finish after shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
const ADMIN_PREFIX: &str = "/admin/";
const ADMIN_API_PREFIX: &str = "/admin/api/";

/// A request either answered on the spot (feeds, health, metrics: sync, from the catalog),
/// handed to the admin API, which must read a body and wait for writes, or waiting for a
/// feed built on demand.
enum Dispatch {
    Answered(Response<Body>),
    /// With the metrics and the access log's entry, to count and log the response once the
    /// admin API has made it. The entry boxed, so that this variant, and with it the feed
    /// path's future, does not grow by it.
    Admin(
        Request<Incoming>,
        AdminHandler,
        Arc<Metrics>,
        Option<Box<Entry>>,
    ),
    /// A feed built on demand being built, as the admin API's answer is counted.
    Later(
        Pin<Box<dyn Future<Output = Response<Body>> + Send>>,
        Arc<Metrics>,
        Option<Box<Entry>>,
    ),
}

/// Counts a response in `/metrics` (a few atomic increments, no allocation) and writes its
/// access log line when the log is on (`logged`).
fn record(
    metrics: &Metrics,
    logged: Option<Entry>,
    route: metrics::Route,
    head: bool,
    response: &Response<Body>,
) {
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
    let status = response.status().as_u16();
    metrics.http.record(route, status, encoding, sent);
    if let Some(entry) = logged {
        entry.finish(status, sent, encoding);
    }
}

/// A body (`Content-Length` above 0, or chunked) on a request outside the admin API, which
/// is the only part that reads one.
fn brings_unwanted_body(req: &Request<Incoming>) -> bool {
    !req.body().is_end_stream() && !req.uri().path().starts_with(ADMIN_API_PREFIX)
}

/// A connection as hyper reads and writes it: plain, or TLS over it. Boxed rather than
/// generic: one dynamic call per read or write is nothing beside the system call, and the
/// service and the connection's supervision stay one type.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// What a connection needs of the listener's TLS, when it has one.
#[derive(Clone)]
struct Handshake {
    acceptor: TlsAcceptor,
    hsts: Option<HeaderValue>,
}

/// Serves the catalog on `listener` until `shutdown` completes, over HTTPS with `tls`,
/// `/admin/` by `admin` (404 without), logging each request to `access_log` if given.
/// Connections are served on worker threads of their own (see `workers`); fails only if
/// those cannot start.
pub(crate) async fn run(
    listener: TcpListener,
    shared: Shared,
    admin: Option<AdminHandler>,
    access_log: Option<&access_log::Writer>,
    limits: &Limits,
    tls: Option<&Tls>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let handshake = tls.map(|tls| Handshake {
        acceptor: tls.acceptor(),
        hsts: tls.hsts(),
    });
    let mut workers = Workers::start(|| access_log.map(access_log::Writer::buffer))?;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        // `connection::supervise` bounds heads without a timer per request.
        .header_read_timeout(None)
        // A request that arrived whole is served even when the client closed its side
        // straight after sending it, as a webhook's fire-and-forget call does (WordPress's
        // non-blocking `wp_remote_post`); by default hyper drops such a request unserved.
        .half_close(true)
        // The read buffer never grows past this, so a longer head is refused with 431.
        .max_buf_size(limits.max_header_bytes);
    builder
        .http2()
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
    let timeouts = Timeouts {
        idle: limits.idle_timeout,
        head: limits.header_read_timeout,
    };
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Connections hold the receivers; `closed` resolves when the last one has ended.
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);

    while let Some(stream) = accept_or_stop(&listener, &mut shutdown).await {
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Answered rather than left in the accept queue: a client learns at once that
            // it should come back, and the queue never fills with connections nobody serves.
            shared.metrics.http.connections_refused.inc();
            tokio::spawn(connection::refuse(stream, limits.idle_timeout));
            continue;
        };
        let open = shared.metrics.clone();
        open.http.connections_open.inc();
        workers.spawn(|access_log| {
            let serve = serve(
                stream,
                builder.clone(),
                shared.clone(),
                admin.clone(),
                access_log.clone(),
                handshake.clone(),
                timeouts,
                stopping.clone(),
            );
            async move {
                serve.await;
                // Freed however the connection ended; a lingering close no longer counts.
                drop(slot);
                open.http.connections_open.dec();
            }
        });
    }

    drop(listener);
    info!("shutting down: draining open connections");
    let _ = stop.send(true);
    drop(stopping);
    tokio::select! {
        () = stop.closed() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => warn!("connections still open after the drain timeout"),
    }
    workers.stop().await;
    Ok(())
}

/// Serves one connection on the worker thread that runs this future, until it ends; its
/// requests are logged to that worker's `access_log` buffer, if any. With `handshake`, the
/// TLS handshake comes first, and must end within the head timeout.
#[allow(clippy::too_many_arguments)]
fn serve(
    stream: TcpStream,
    builder: auto::Builder<TokioExecutor>,
    shared: Shared,
    admin: Option<AdminHandler>,
    access_log: Option<access_log::Buffer>,
    handshake: Option<Handshake>,
    timeouts: Timeouts,
    stopping: watch::Receiver<bool>,
) -> impl Future<Output = ()> + Send + 'static {
    let _ = stream.set_nodelay(true);
    // Moved between runtimes as a plain socket: a tokio socket belongs to the runtime that
    // registered it.
    let stream = stream.into_std();
    async move {
        let Ok(stream) = stream.and_then(TcpStream::from_std) else {
            return;
        };
        let activity = Arc::new(Activity::default());
        let stream = Stream::new(stream, activity.clone());
        let (io, hsts): (Box<dyn Transport>, _) = match handshake {
            None => (Box::new(stream), None),
            Some(Handshake { acceptor, hsts }) => {
                match tokio::time::timeout(timeouts.head, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => (Box::new(tls), hsts),
                    Ok(Err(e)) => {
                        debug!(error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        debug!("TLS handshake not done in time");
                        return;
                    }
                }
            }
        };
        let requests = activity.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let in_flight = requests.begin();
            let counted = metrics::Route::of(req.uri().path());
            let head = req.method() == Method::HEAD;
            let mut logged = access_log.as_ref().map(|log| log.begin(&req));
            let route = if brings_unwanted_body(&req) {
                Dispatch::Answered(routes::body_not_allowed(req.version()))
            } else if let Some(response) = page::respond(&req) {
                Dispatch::Answered(response)
            } else if !req.uri().path().starts_with(ADMIN_PREFIX) {
                match routes::respond(&req, &shared) {
                    Routed::Now(response) => Dispatch::Answered(response),
                    Routed::Later(later) => {
                        Dispatch::Later(later, shared.metrics.clone(), logged.take().map(Box::new))
                    }
                }
            } else if let Some(admin) = &admin {
                Dispatch::Admin(
                    req,
                    admin.clone(),
                    shared.metrics.clone(),
                    logged.take().map(Box::new),
                )
            } else {
                Dispatch::Answered(routes::not_found())
            };
            // Counted here, synchronously: the feed path's future carries no metrics handle.
            if let Dispatch::Answered(response) = &route {
                record(&shared.metrics, logged, counted, head, response);
            }
            let hsts = hsts.clone();
            async move {
                let _in_flight = in_flight;
                let mut response = match route {
                    Dispatch::Answered(response) => response,
                    Dispatch::Admin(req, admin, metrics, logged) => {
                        let response = admin(req).await;
                        record(&metrics, logged.map(|e| *e), counted, head, &response);
                        response
                    }
                    Dispatch::Later(later, metrics, logged) => {
                        let response = later.await;
                        record(&metrics, logged.map(|e| *e), counted, head, &response);
                        response
                    }
                };
                if let Some(hsts) = hsts {
                    response
                        .headers_mut()
                        .insert(STRICT_TRANSPORT_SECURITY, hsts);
                }
                Ok::<_, Infallible>(response)
            }
        });
        let io = TokioIo::new(io);
        let connection = builder.serve_connection(io, service).into_owned();
        connection::supervise(
            connection,
            |c| c.graceful_shutdown(),
            activity,
            timeouts,
            stopping,
        )
        .await;
    }
}

/// The next connection on `listener`, or `None` once `shutdown` resolves. A failed accept
/// (usually EMFILE) is logged and retried after a pause instead of spinning; the listener
/// recovers.
pub(super) async fn accept_or_stop(
    listener: &TcpListener,
    shutdown: &mut Pin<&mut impl Future<Output = ()>>,
) -> Option<TcpStream> {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => return Some(stream),
                Err(e) => {
                    warn!(error = %e, listener = ?listener.local_addr().ok(), "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = shutdown.as_mut() => return None,
        }
    }
}
