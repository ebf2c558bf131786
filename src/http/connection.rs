//! One accepted connection's life beyond what hyper bounds itself: closing connections that
//! sit with no request (before the protocol is even known, and HTTP/2 ones, which hyper never
//! times out), dropping a client that stopped reading, closing without resetting a client
//! that is still sending, and turning connections past the cap away with a 503.
//! Request heads (slowloris) and HTTP/1.1 keep-alive are hyper's `header_read_timeout`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::debug;

/// After the server closes, it reads and drops what a client still sends for this long, so
/// the client finishes writing and reads the answer (413, 431, 503) instead of a reset.
const LINGER: Duration = Duration::from_secs(2);
/// How long in-flight requests get to finish once a connection is told to close.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// The answer to a connection past the cap, written before reading anything: the connection
/// is refused as a whole, whatever it was going to ask.
const BUSY: &str = "busy: too many connections; retry shortly\n";

/// A TCP connection as hyper sees it: it tells `activity` whether its writes move, and
/// dropping it closes gracefully (see `linger`) unless the client closed first.
pub(super) struct Stream {
    // An `Option` so that `drop` can hand the socket to the lingering task.
    tcp: Option<TcpStream>,
    activity: Arc<Activity>,
    // The client closed its side: nothing can be reset any more, so no lingering.
    client_closed: bool,
}

impl Stream {
    pub(super) fn new(tcp: TcpStream, activity: Arc<Activity>) -> Stream {
        Stream {
            tcp: Some(tcp),
            activity,
            client_closed: false,
        }
    }

    fn tcp(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.tcp.as_mut().expect("present until drop"))
    }

    /// Two relaxed stores on a line only this connection touches: no clock, no timer.
    fn wrote<T>(&self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        let blocked = result.is_pending();
        self.activity.write_blocked.store(blocked, Relaxed);
        if !blocked {
            self.activity.writes.fetch_add(1, Relaxed);
        }
        result
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let asked = buf.remaining() > 0;
        ready!(self.tcp().poll_read(cx, buf))?;
        if asked && buf.filled().len() == before {
            self.client_closed = true;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = self.tcp().poll_write(cx, data);
        self.wrote(result)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = self.tcp().poll_write_vectored(cx, data);
        self.wrote(result)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tcp().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tcp().poll_shutdown(cx)
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if self.client_closed {
            return;
        }
        if let (Some(tcp), Ok(runtime)) = (self.tcp.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(linger(tcp));
        }
    }
}

/// Closes `tcp` the way RFC 9112 §9.6 asks: the write side first, then reading (and
/// dropping) until the client closes too, bounded. Closing with unread data would send a
/// reset, and a client still writing a large request would lose the answer to it.
async fn linger(mut tcp: TcpStream) {
    let _ = tcp.shutdown().await;
    let mut buf = vec![0; 16 << 10];
    let _ = tokio::time::timeout(LINGER, async {
        while let Ok(1..) = tcp.read(&mut buf).await {}
    })
    .await;
}

/// Answers a connection past the cap with a 503 and closes it.
pub(super) async fn refuse(mut tcp: TcpStream, stall: Duration) {
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BUSY}",
        BUSY.len()
    );
    if let Ok(Ok(())) = tokio::time::timeout(stall, tcp.write_all(answer.as_bytes())).await {
        linger(tcp).await;
    }
}

/// What the service and the stream tell the supervisor about a connection.
#[derive(Default)]
pub(super) struct Activity {
    started: AtomicU64,
    in_flight: AtomicUsize,
    /// Writes that went through.
    writes: AtomicU64,
    /// The last write is waiting for the client to read.
    write_blocked: AtomicBool,
}

impl Activity {
    /// A request has begun; it is in flight until the guard is dropped (its response made).
    pub(super) fn begin(self: &Arc<Self>) -> InFlight {
        self.started.fetch_add(1, Relaxed);
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(self.clone())
    }
}

pub(super) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

/// Drives `connection` to its end, checking on it every `idle`:
/// - a write that has not moved since the last check (the client stopped reading): the
///   connection is dropped at once, as nothing more can be sent on it;
/// - no request started since the last check and none in flight, or the server shutting
///   down: it is shut down gracefully (in-flight requests finish, no new ones start) and
///   dropped if that takes longer than `CLOSE_GRACE`.
pub(super) async fn supervise<C, E>(
    connection: C,
    graceful_shutdown: impl FnOnce(Pin<&mut C>),
    activity: Arc<Activity>,
    idle: Duration,
    mut shutdown: watch::Receiver<bool>,
) where
    C: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    tokio::pin!(connection);
    let (mut started, mut writes) = (0, 0);
    let mut ticks = tokio::time::interval_at(Instant::now() + idle, idle);
    let why = loop {
        tokio::select! {
            result = connection.as_mut() => return ended(result),
            _ = shutdown.wait_for(|stop| *stop) => break "server shutting down",
            _ = ticks.tick() => {
                let now_writes = activity.writes.load(Relaxed);
                if activity.write_blocked.load(Relaxed) && now_writes == writes {
                    debug!("connection dropped: the client stopped reading");
                    return;
                }
                let now_started = activity.started.load(Relaxed);
                if now_started == started && activity.in_flight.load(Relaxed) == 0 {
                    break "idle";
                }
                (started, writes) = (now_started, now_writes);
            }
        }
    };
    debug!(why, "closing a connection");
    graceful_shutdown(connection.as_mut());
    match tokio::time::timeout(CLOSE_GRACE, connection).await {
        Ok(result) => ended(result),
        Err(_) => debug!(
            why,
            "connection dropped: its requests did not finish in time"
        ),
    }
}

fn ended<E: std::fmt::Display>(result: Result<(), E>) {
    if let Err(e) = result {
        debug!(error = %e, "connection ended with an error");
    }
}
