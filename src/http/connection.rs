//! One accepted connection's life beyond what hyper bounds itself: closing connections that
//! sit idle or trickle a request head that never ends (slowloris), dropping a client that
//! stopped reading, closing without resetting a client that is still sending, and turning
//! connections past the cap away with a 503.
//!
//! All of it is one periodic check per connection reading a few counters that the stream
//! and the service bump, rather than hyper's `header_read_timeout`, which arms and cancels a
//! timer for every request: about a tenth of the CPU of a 304.

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

use crate::sendfile;

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
        if buf.filled().len() > before {
            self.activity.reads.fetch_add(1, Relaxed);
        } else if asked {
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
        let tcp = self.tcp.as_ref().expect("present until drop");
        let result = match sendfile::poll_write_vectored(tcp, cx, data) {
            Some(sent) => sent,
            None => self.tcp().poll_write_vectored(cx, data),
        };
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
    /// Reads that brought bytes.
    reads: AtomicU64,
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

/// When the supervisor closes a connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct Timeouts {
    /// Nothing arrives and no request is in progress.
    pub idle: Duration,
    /// Bytes arrive but no request begins: a head that never ends, or a client that
    /// sends anything but requests.
    pub head: Duration,
}

/// Drives `connection` to its end, checking on it every `min(idle, head)`:
/// - a write that has not moved since the last check (the client stopped reading): the
///   connection is dropped at once, as nothing more can be sent on it;
/// - bytes read but no request begun for `head`: it is dropped, as no request came;
/// - no request in progress and nothing read for `idle`, or the server shutting down: it
///   is shut down gracefully (in-flight requests finish, no new ones start) and dropped if
///   that takes longer than `CLOSE_GRACE`.
///
/// Being checked once per period, a timeout takes up to one period longer.
pub(super) async fn supervise<C, E>(
    connection: C,
    graceful_shutdown: impl FnOnce(Pin<&mut C>),
    activity: Arc<Activity>,
    timeouts: Timeouts,
    mut shutdown: watch::Receiver<bool>,
) where
    C: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    tokio::pin!(connection);
    let period = timeouts.idle.min(timeouts.head);
    let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
    // After a stall, one late check rather than a burst of them: back to back, no write
    // could move between two, and a healthy connection would look stuck.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut started, mut reads, mut writes) = (0, 0, 0);
    // When a request was last seen beginning or in flight, and what had been read by then.
    let (mut last_request, mut reads_at_request) = (Instant::now(), 0);
    let mut last_read = Instant::now();
    let why = loop {
        tokio::select! {
            result = connection.as_mut() => return ended(result),
            _ = shutdown.wait_for(|stop| *stop) => break "server shutting down",
            now = ticks.tick() => {
                let now_writes = activity.writes.load(Relaxed);
                if activity.write_blocked.load(Relaxed) && now_writes == writes {
                    debug!("connection dropped: the client stopped reading");
                    return;
                }
                let sending = now_writes != writes;
                writes = now_writes;
                let now_reads = activity.reads.load(Relaxed);
                if now_reads != reads {
                    (reads, last_read) = (now_reads, now);
                }
                let now_started = activity.started.load(Relaxed);
                // A response still going out is a request in progress, whatever the client
                // sends meanwhile (HTTP/2 window updates): its service call ended long ago.
                if now_started != started || sending || activity.in_flight.load(Relaxed) > 0 {
                    (started, last_request, reads_at_request) = (now_started, now, reads);
                } else if reads != reads_at_request && now - last_request >= timeouts.head {
                    // Dropped: a graceful close would wait for the head to end.
                    debug!("connection dropped: no request head completed in time");
                    return;
                } else if now - last_request.max(last_read) >= timeouts.idle {
                    break "idle";
                }
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
