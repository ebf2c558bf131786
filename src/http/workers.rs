//! The threads that serve connections: one per core, each running a single-threaded tokio
//! runtime, like nginx's worker processes. A connection lives on one thread from accept to
//! close, so serving it takes no work-stealing queue, no cross-thread wake-ups and no
//! atomic hand-offs of its task; the accept loop deals connections out in turn. Each worker
//! may keep something of its own that its connections share (the access log's buffer),
//! which no other worker touches.

use std::future::Future;
use std::io;
use std::thread::JoinHandle;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

pub(super) struct Workers<T> {
    workers: Vec<Worker<T>>,
    next: usize,
}

struct Worker<T> {
    runtime: Handle,
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
    /// What this worker's connections share.
    own: T,
}

impl<T> Workers<T> {
    /// Starts one worker per core, each with its own `own()`.
    pub(super) fn start(mut own: impl FnMut() -> T) -> io::Result<Workers<T>> {
        let count = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = (0..count)
            .map(|i| {
                let runtime = Builder::new_current_thread().enable_all().build()?;
                let handle = runtime.handle().clone();
                let (stop, stopped) = oneshot::channel::<()>();
                let thread = std::thread::Builder::new()
                    .name(format!("pressfeed-http-{i}"))
                    // Dropping the runtime drops the connections still on it.
                    .spawn(move || runtime.block_on(async { stopped.await.unwrap_or(()) }))?;
                Ok(Worker {
                    runtime: handle,
                    stop,
                    thread,
                    own: own(),
                })
            })
            .collect::<io::Result<_>>()?;
        Ok(Workers { workers, next: 0 })
    }

    /// Runs the future `task` makes of the worker's own on the next worker in turn.
    pub(super) fn spawn<F>(&mut self, task: impl FnOnce(&T) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let worker = &self.workers[self.next];
        self.next = (self.next + 1) % self.workers.len();
        worker.runtime.spawn(task(&worker.own));
    }

    /// Stops every worker, dropping what still runs on them, and waits for their threads.
    pub(super) async fn stop(self) {
        let threads: Vec<_> = self
            .workers
            .into_iter()
            .map(|w| {
                let _ = w.stop.send(());
                w.thread
            })
            .collect();
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
    }
}
