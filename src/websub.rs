//! WebSub pings: tell each hub of `site.websub_hubs` that a feed's bytes changed
//! (`hub.mode=publish`), off the scheduler's thread and off the request path. It does not
//! decide what changed (the scheduler does); the requests are `client`'s, https or http.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, warn};

use crate::client::{Backoff, HttpClient};
use crate::config::Site;
use crate::metrics::Metrics;

/// Attempts per ping; waits of about 1 s, 2 s, 4 s, 8 s between them: a hub restarting
/// is back within that, and subscribers poll anyway.
const TRIES: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// One notification: `topic` (a feed's public URL) changed, tell `hub`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Ping {
    hub: String,
    topic: String,
}

/// The scheduler's end of the channel: cheap, never blocks (an unbounded channel is fine
/// because pings are coalesced by topic on the other side, so the queue is bounded by the
/// number of feeds times hubs).
#[derive(Clone)]
pub struct Pinger(mpsc::UnboundedSender<Ping>);

impl Pinger {
    /// The feeds named `names` (file names, `world.rss`) have new bytes: queue a ping per
    /// hub and feed. Returns at once.
    pub fn feeds_changed(&self, site: &Site, names: &[String]) {
        if names.is_empty() || site.websub_hubs.is_empty() {
            return;
        }
        for hub in &site.websub_hubs {
            for name in names {
                let topic = site.feed_url(name);
                let _ = self.0.send(Ping {
                    hub: hub.to_string(),
                    topic,
                });
            }
        }
    }
}

/// What the delivery tasks share: the pings waiting to be sent (or waiting to retry).
struct Queue {
    // A std mutex: held for one set operation, never across an await.
    waiting: Mutex<HashSet<Ping>>,
    client: HttpClient,
    metrics: Arc<Metrics>,
}

/// Starts the publisher task on the current tokio runtime. It ends when every `Pinger`
/// is dropped or the handle is aborted; pings still waiting are then dropped (the next
/// change pings again, and subscribers also poll).
pub fn start(client: HttpClient, metrics: Arc<Metrics>) -> (Pinger, JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let queue = Arc::new(Queue {
        waiting: Mutex::new(HashSet::new()),
        client,
        metrics,
    });
    (Pinger(tx), tokio::spawn(run(rx, queue)))
}

async fn run(mut rx: mpsc::UnboundedReceiver<Ping>, queue: Arc<Queue>) {
    // Owned here so that aborting this task aborts every delivery too.
    let mut deliveries = JoinSet::new();
    loop {
        tokio::select! {
            ping = rx.recv() => {
                let Some(ping) = ping else { break };
                // Already waiting (not yet sent, or between retries): that ping covers
                // this change too, since the hub fetches the feed as it is when it comes.
                if queue.waiting(&ping) {
                    continue;
                }
                deliveries.spawn(deliver(ping, queue.clone()));
            }
            Some(_) = deliveries.join_next(), if !deliveries.is_empty() => {}
        }
    }
}

impl Queue {
    /// Marks `ping` waiting; true if it already was.
    fn waiting(&self, ping: &Ping) -> bool {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        !waiting.insert(ping.clone())
    }

    fn sending(&self, ping: &Ping) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        waiting.remove(ping);
    }
}

async fn deliver(ping: Ping, queue: Arc<Queue>) {
    let mut backoff = Backoff::new(FIRST_BACKOFF, TRIES);
    let form = [("hub.mode", "publish"), ("hub.url", ping.topic.as_str())];
    loop {
        // Leaves the queue as it is sent: a change from now on may be missed by a hub that
        // fetches quickly, so it needs a ping of its own.
        queue.sending(&ping);
        // WebSub hubs accept with 2xx (usually 202 or 204).
        let error = match queue.client.post_form(&ping.hub, &form).await {
            Ok(()) => {
                queue.metrics.websub_ok.inc();
                debug!(hub = %ping.hub, topic = %ping.topic, "WebSub hub notified");
                return;
            }
            Err(e) => e,
        };
        queue.metrics.websub_error.inc();
        warn!(hub = %ping.hub, topic = %ping.topic, error = %error, "WebSub ping failed");
        let Some(wait) = backoff.after(&error) else {
            break;
        };
        // Back in the queue for the retry, unless a newer change queued its own ping,
        // which then takes over.
        if queue.waiting(&ping) {
            return;
        }
        tokio::time::sleep(wait).await;
    }
    queue.sending(&ping);
    warn!(hub = %ping.hub, topic = %ping.topic, "WebSub ping given up");
}
