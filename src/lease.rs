//! The singleton lease: of all the processes sharing one store (replicas behind a load
//! balancer), one does the work that must be done once, not once per replica. It pulls
//! the sources on their schedules, so an upstream CMS is polled once per firing (`source`),
//! and it pings the WebSub hubs when feeds' bytes change, whichever replica built them
//! first (`schedule`). Held in the store (`Store::take_lease`), renewed every `RENEW`; a
//! holder that dies stops renewing, and another replica takes the lease at most
//! `TTL + RENEW` later. The new holder polls at once and pings again the feeds changed in
//! the last `TAKEOVER_PINGS`, so nothing is missed for long; around a takeover a poll may
//! run twice (which writes nothing twice: a source's write of an unchanged article is
//! skipped) and a hub may hear of a change twice (it finds the feed unchanged). A poll
//! asked for through the admin API runs wherever it is asked, lease or not. Alone on its
//! store (SQLite), a process takes the lease at its start.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::store::Store;

/// The name the lease had when it covered the sources only, kept so that replicas of both
/// versions agree on one holder during a rolling upgrade.
const NAME: &str = "sources";
/// How long a renewal holds the lease: a few renewals, so a slow store call does not lose
/// it.
const TTL: Duration = Duration::from_secs(8);
/// How often the holder renews and the others try to take it.
const RENEW: Duration = Duration::from_secs(2);
/// How far back a new holder pings again: the changes a holder that died may have left
/// unpinged, up to its last renewal (`TTL + RENEW` before the takeover) and its pings'
/// retries (about 15 s), with room.
pub(crate) const TAKEOVER_PINGS: Duration = Duration::from_secs(60);

/// This process's part in the lease; dropped, it stops renewing and gives the lease up,
/// so another replica takes it at once on a graceful stop.
pub(crate) struct Lease {
    store: Store,
    holder: String,
    renewing: JoinHandle<()>,
}

impl Lease {
    /// Starts trying to take and keep the lease, telling `held_tx`'s receivers whether this
    /// process holds it whenever that changes.
    pub(crate) fn hold(store: Store, held_tx: watch::Sender<bool>) -> Lease {
        let holder = Store::lease_holder();
        let renewing = tokio::spawn({
            let (store, holder) = (store.clone(), holder.clone());
            async move {
                let mut tick = tokio::time::interval(RENEW);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let (store, me) = (store.clone(), holder.clone());
                    let taken =
                        tokio::task::spawn_blocking(move || store.take_lease(NAME, &me, TTL)).await;
                    // A store that does not answer cannot say who holds it: this process
                    // stops pulling rather than risk two pulling.
                    let now = match taken {
                        Ok(Ok(held)) => held,
                        Ok(Err(e)) => {
                            warn!(error = %e, "cannot renew the singleton lease");
                            false
                        }
                        Err(_) => false,
                    };
                    // Receivers hear of a change only: the scheduler wakes for each.
                    held_tx.send_if_modified(|held| {
                        let changed = *held != now;
                        if changed {
                            info!(holder = %holder, held = now, "singleton lease changed hands");
                            *held = now;
                        }
                        changed
                    });
                }
            }
        });
        Lease {
            store,
            holder,
            renewing,
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewing.abort();
        // One short write as the server stops; if it fails, the lease runs out by itself.
        let _ = self.store.release_lease(NAME, &self.holder);
    }
}
