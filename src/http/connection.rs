//! One accepted connection's life beyond what hyper bounds itself: closing connections that
//! sit with no request (before the protocol is even known, and HTTP/2 ones, which hyper never
//! times out), failing writes to a client that stopped reading, closing without resetting a
//! client that is still sending, and turning connections past the cap away with a 503.
//! Request heads (slowloris) and HTTP/1.1 keep-alive are hyper's `header_read_timeout`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tracing::debug;

/// After the server closes, it reads and drops what a client still sends for this long, so
/// the client finishes writing and reads the answer (413, 431, 503) instead of a reset.
const LINGER: Duration = Duration::from_secs(2);
/// How long in-flight requests get to finish once a connection is told to close.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// The answer to a connection past the cap, written before reading anything: the connection
/// is refused as a whole, whatever it was going to ask.
const BUSY: &str = "busy: too many connections; retry shortly\n";

/// A TCP connection as hyper sees it: writes that wait on the client for longer than
/// `stall` fail, and dropping it closes gracefully (see `linger`) unless the client closed.
pub(super) struct Stream {
    // An `Option` so that `drop` can hand the socket to the lingering task.
    tcp: Option<TcpStream>,
    stall: Duration,
    // Boxed to keep `Stream` `Unpin`; made once, on the first write that has to wait.
    write_deadline: Option<Pin<Box<Sleep>>>,
    // A write is pending and `write_deadline` runs for it.
    waiting: bool,
    // The client closed its side: nothing can be reset any more, so no lingering.
    client_closed: bool,
}

impl Stream {
    pub(super) fn new(tcp: TcpStream, stall: Duration) -> Stream {
        Stream {
            tcp: Some(tcp),
            stall,
            write_deadline: None,
            waiting: false,
            client_closed: false,
        }
    }

    fn tcp(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.tcp.as_mut().expect("present until drop"))
    }

    /// A write is pending: fails it once it has waited `stall`.
    fn stalled<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if !self.waiting {
            let deadline = Instant::now() + self.stall;
            match &mut self.write_deadline {
                Some(sleep) => sleep.as_mut().reset(deadline),
                None => self.write_deadline = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
            self.waiting = true;
        }
        if let Some(sleep) = &mut self.write_deadline {
            ready!(sleep.as_mut().poll(cx));
        }
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped reading",
        )))
    }

    fn wrote<T>(
        &mut self,
        result: Poll<io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<T>> {
        match result {
            Poll::Pending => self.stalled(cx),
            ready => {
                self.waiting = false;
                ready
            }
        }
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
        self.wrote(result, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = self.tcp().poll_write_vectored(cx, data);
        self.wrote(result, cx)
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

/// What the service tells the supervisor about a connection's requests.
#[derive(Default)]
pub(super) struct Activity {
    started: AtomicU64,
    in_flight: AtomicUsize,
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

/// Drives `connection` to its end. It is shut down gracefully (in-flight requests finish,
/// no new ones start) when the server shuts down, or when a whole `idle` passes with no
/// request started or in flight; either way it then gets `CLOSE_GRACE` before it is dropped.
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
    let mut seen = 0;
    let mut ticks = tokio::time::interval_at(Instant::now() + idle, idle);
    let why = loop {
        tokio::select! {
            result = connection.as_mut() => return ended(result),
            _ = shutdown.wait_for(|stop| *stop) => break "server shutting down",
            _ = ticks.tick() => {
                let started = activity.started.load(Relaxed);
                if started == seen && activity.in_flight.load(Relaxed) == 0 {
                    break "idle";
                }
                seen = started;
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
