//! The access log: one line per request (time, method, path, status, body bytes, content
//! coding, duration, user agent), as text or JSON, to a file or stderr. Off unless `serve`
//! is given somewhere to write it. Not the operational logs (tracing, set up in `main.rs`)
//! and not the counters of `/metrics`, which are made at the same point.
//!
//! A request never waits for the disk and never takes a lock another worker takes: each
//! worker thread appends its lines to a buffer of its own, and one writer thread takes the
//! buffers whole (a swap under the buffer's lock) and writes them out, on a short interval
//! or sooner when one fills. A buffer the writer cannot empty in time (a slow or stalled
//! disk) stops growing at `MAX_BUFFERED`: the lines past it are dropped and counted in
//! `pressfeed_access_log_dropped_lines_total`, as a stalled request would cost more than a
//! lost line.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use http::header::USER_AGENT;
use http::{HeaderValue, Method, Request, Uri};
use prometheus_client::metrics::counter::Counter;
use tracing::warn;

use crate::clock::Clock;

/// How long a line may wait in its worker's buffer: `tail -f` shows it this late at most.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// A worker's buffer this full wakes the writer before the interval is up, so that a busy
/// server writes in large batches rather than filling its buffers to the cap.
const WAKE_AT: usize = 64 << 10;
/// The most a worker's buffer holds; the lines past it are dropped.
const MAX_BUFFERED: usize = 4 << 20;

/// The form of log lines, from `PRESSFEED_LOG_FORMAT`: the operational logs and the access
/// log follow the same setting, as whatever reads one usually reads both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Space-separated fields, for people and `awk`.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Where the access log goes and in which form, as `serve` was told; nothing is written
/// until the server starts it.
pub struct AccessLog {
    out: Box<dyn Write + Send>,
    format: LogFormat,
}

impl AccessLog {
    /// Appends to the file at `path`, made if missing, or writes to stderr for `-`.
    /// Appending, so that `logrotate`'s `copytruncate` can rotate it under a running server.
    pub fn open(path: &Path, format: LogFormat) -> io::Result<AccessLog> {
        let out: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(io::stderr())
        } else {
            Box::new(OpenOptions::new().create(true).append(true).open(path)?)
        };
        Ok(AccessLog::to(out, format))
    }

    fn to(out: Box<dyn Write + Send>, format: LogFormat) -> AccessLog {
        AccessLog { out, format }
    }

    /// Starts the writer thread; lines are stamped by `clock`, and lines lost (dropped at
    /// a full buffer, or whose write failed) are counted in `dropped`.
    pub(crate) fn start(self, clock: Clock, dropped: Counter) -> io::Result<Writer> {
        let sink = Arc::new(Sink {
            buffers: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            format: self.format,
            clock,
            dropped,
        });
        let out = self.out;
        let thread = {
            let sink = sink.clone();
            std::thread::Builder::new()
                .name("pressfeed-access-log".into())
                .spawn(move || write_out(&sink, out))?
        };
        Ok(Writer { sink, thread })
    }
}

/// The running access log: hands out one buffer per worker thread; `stop` writes what is
/// left and ends the writer thread.
pub(crate) struct Writer {
    sink: Arc<Sink>,
    thread: JoinHandle<()>,
}

impl Writer {
    /// A buffer for one worker thread.
    pub(super) fn buffer(&self) -> Buffer {
        let pending = Arc::new(Mutex::new(Pending::default()));
        lock(&self.sink.buffers).push(pending.clone());
        Buffer {
            pending,
            sink: self.sink.clone(),
            writer: self.thread.thread().clone(),
        }
    }

    /// Writes every line still buffered and waits for the writer thread to end. Called
    /// once no request can be served any more.
    pub(crate) fn stop(self) {
        self.sink.stopping.store(true, Ordering::Release);
        self.thread.thread().unpark();
        let _ = self.thread.join();
    }
}

/// What the writer and every buffer share.
struct Sink {
    /// Every worker's buffer. A std mutex, taken when a worker starts and by the writer
    /// once per flush: never on the request path.
    buffers: Mutex<Vec<Arc<Mutex<Pending>>>>,
    stopping: AtomicBool,
    format: LogFormat,
    clock: Clock,
    dropped: Counter,
}

/// The lines of one worker not written yet, and the time stamp's text down to the second,
/// made once per second rather than per line.
#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    second: i64,
    stamp: String,
}

/// A mutex whose holder panicked left whole lines or a cut one: writing on is better than
/// losing the log.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The writer thread: empties every buffer each `FLUSH_EVERY` or when woken, and once more
/// when stopping.
fn write_out(sink: &Sink, mut out: Box<dyn Write + Send>) {
    let mut batch = Vec::new();
    let mut failing = false;
    loop {
        // Read before emptying: lines buffered before `stop` are then all written.
        let stopping = sink.stopping.load(Ordering::Acquire);
        let buffers = lock(&sink.buffers).clone();
        for pending in buffers {
            // The buffer keeps the emptied batch's capacity: no allocation in the steady state.
            std::mem::swap(&mut lock(&pending).lines, &mut batch);
            if batch.is_empty() {
                continue;
            }
            match out.write_all(&batch).and_then(|()| out.flush()) {
                Ok(()) => failing = false,
                Err(error) => {
                    let lost = memchr::memchr_iter(b'\n', &batch).count();
                    sink.dropped.inc_by(lost as u64);
                    // Once per run of failures: a full disk would otherwise log every second.
                    if !failing {
                        warn!(%error, "writing the access log failed; its lines are dropped");
                        failing = true;
                    }
                }
            }
            batch.clear();
        }
        if stopping {
            return;
        }
        std::thread::park_timeout(FLUSH_EVERY);
    }
}

/// One worker thread's end of the access log. Its mutex is taken by that worker per line and
/// by the writer once per flush, so it is all but never contended.
#[derive(Clone)]
pub(super) struct Buffer {
    pending: Arc<Mutex<Pending>>,
    sink: Arc<Sink>,
    writer: Thread,
}

impl Buffer {
    /// Notes what the line of `req` needs from it, and when it began.
    pub(super) fn begin<B>(&self, req: &Request<B>) -> Entry {
        Entry {
            buffer: self.clone(),
            method: req.method().clone(),
            // Reference-counted copies of the request's bytes: nothing is allocated.
            uri: req.uri().clone(),
            user_agent: req.headers().get(USER_AGENT).cloned(),
            started: Instant::now(),
        }
    }
}

/// A request being answered, to be logged once its response is made.
pub(super) struct Entry {
    buffer: Buffer,
    method: Method,
    uri: Uri,
    user_agent: Option<HeaderValue>,
    started: Instant,
}

impl Entry {
    /// Writes the request's line: its response's `status`, the `bytes` of body sent and
    /// the `coding` (`Content-Encoding`, `None` for identity). The duration ends here, when
    /// the response is made: sending it is the kernel's part.
    pub(super) fn finish(self, status: u16, bytes: u64, coding: Option<&[u8]>) {
        let took = self.started.elapsed();
        let sink = &self.buffer.sink;
        let now = sink.clock.now();
        let mut pending = lock(&self.buffer.pending);
        let Pending {
            lines,
            second,
            stamp,
        } = &mut *pending;
        if stamp.is_empty() || now.timestamp() != *second {
            *second = now.timestamp();
            *stamp = now.format("%Y-%m-%dT%H:%M:%S").to_string();
        }
        let before = lines.len();
        let line = Line {
            time: (stamp, now.timestamp_subsec_millis()),
            method: self.method.as_str(),
            path: self.uri.path(),
            status,
            bytes,
            coding: coding.unwrap_or(b"identity"),
            took,
            user_agent: self.user_agent.as_ref().map(HeaderValue::as_bytes),
        };
        match sink.format {
            LogFormat::Text => line.text(lines),
            LogFormat::Json => line.json(lines),
        }
        let after = lines.len();
        if after > MAX_BUFFERED {
            lines.truncate(before);
            drop(pending);
            sink.dropped.inc();
        } else if before < WAKE_AT && after >= WAKE_AT {
            drop(pending);
            self.buffer.writer.unpark();
        }
    }
}

/// The fields of one line, in their order.
struct Line<'a> {
    /// The time stamp down to the second, and the milliseconds.
    time: (&'a str, u32),
    method: &'a str,
    path: &'a str,
    status: u16,
    bytes: u64,
    coding: &'a [u8],
    took: Duration,
    user_agent: Option<&'a [u8]>,
}

impl Line<'_> {
    /// `2026-12-05T18:30:00.123Z GET /feeds/world.rss 200 5120 gzip 0.000081 "Reader/1.0"`:
    /// nginx's order and quoting, where a byte that could break the line (a quote, a
    /// backslash, a control or non-ASCII byte) is written `\xHH`, as nginx writes it.
    fn text(&self, out: &mut Vec<u8>) {
        let (stamp, millis) = self.time;
        // Writing to a Vec cannot fail.
        let _ = write!(out, "{stamp}.{millis:03}Z {} ", self.method);
        escaped(out, self.path.as_bytes());
        let _ = write!(out, " {} {} ", self.status, self.bytes);
        escaped(out, self.coding);
        let _ = write!(
            out,
            " {}.{:06} \"",
            self.took.as_secs(),
            self.took.subsec_micros()
        );
        escaped(out, self.user_agent.unwrap_or(b"-"));
        out.extend_from_slice(b"\"\n");
    }

    /// The same fields as one JSON object: `time`, `method`, `path`, `status`, `bytes`,
    /// `coding`, `duration` (seconds) and `user_agent` (`null` when none was sent).
    fn json(&self, out: &mut Vec<u8>) {
        let (stamp, millis) = self.time;
        let _ = write!(out, "{{\"time\":\"{stamp}.{millis:03}Z\",\"method\":");
        json_string(out, self.method.as_bytes());
        out.extend_from_slice(b",\"path\":");
        json_string(out, self.path.as_bytes());
        let _ = write!(
            out,
            ",\"status\":{},\"bytes\":{},\"coding\":",
            self.status, self.bytes
        );
        json_string(out, self.coding);
        let _ = write!(
            out,
            ",\"duration\":{}.{:06},\"user_agent\":",
            self.took.as_secs(),
            self.took.subsec_micros()
        );
        match self.user_agent {
            Some(agent) => json_string(out, agent),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b"}\n");
    }
}

fn escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            let _ = write!(out, "\\x{b:02X}");
        } else {
            out.push(b);
        }
    }
}

/// A header's bytes as a JSON string; bytes that are not UTF-8 become U+FFFD.
fn json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    let _ = serde_json::to_writer(out, &String::from_utf8_lossy(bytes));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_past_a_full_buffer_are_dropped_and_counted_rather_than_waited_for() {
        // A pipe nobody reads: the writer blocks in its first write, as on a stalled disk.
        let (reader, writer) = io::pipe().unwrap();
        let dropped = Counter::default();
        let log = AccessLog::to(Box::new(writer), LogFormat::Text)
            .start(Clock::system(), dropped.clone())
            .unwrap();
        let buffer = log.buffer();
        let request = Request::get("/feeds/world.rss").body(()).unwrap();
        let started = Instant::now();
        let mut lines = 0;
        while dropped.get() == 0 {
            buffer.begin(&request).finish(200, 5120, Some(b"gzip"));
            lines += 1;
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no line dropped"
            );
        }
        // Nothing waited: the buffer holds what the pipe could not take, and no more.
        assert!(lines > MAX_BUFFERED / 100, "{lines} lines");
        buffer.begin(&request).finish(200, 5120, None);
        assert_eq!(dropped.get(), 2);
        drop(reader);
        log.stop();
    }

    #[test]
    fn text_escapes_what_could_break_a_line_and_json_parses() {
        let line = Line {
            time: ("2026-12-05T18:30:00", 7),
            method: "GET",
            path: "/feeds/a\"b",
            status: 304,
            bytes: 0,
            coding: b"identity",
            took: Duration::from_micros(1_000_042),
            user_agent: Some(b"Reader \"1\"\n\\ \xff"),
        };
        let mut text = Vec::new();
        line.text(&mut text);
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "2026-12-05T18:30:00.007Z GET /feeds/a\\x22b 304 0 identity 1.000042 \
             \"Reader \\x221\\x22\\x0A\\x5C \\xFF\"\n"
        );
        let mut json = Vec::new();
        Line {
            user_agent: None,
            ..line
        }
        .json(&mut json);
        let parsed: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "time": "2026-12-05T18:30:00.007Z", "method": "GET", "path": "/feeds/a\"b",
                "status": 304, "bytes": 0, "coding": "identity", "duration": 1.000042,
                "user_agent": null,
            })
        );
    }
}
