//! The sources lease: of all the processes sharing one store (replicas behind a load
//! balancer), one pulls the sources on their schedules, so an upstream CMS is polled once
//! per firing, not once per replica. Held in the store (`Store::take_lease`), renewed
//! every `RENEW`; a holder that dies stops renewing, and another replica takes the lease
//! at most `TTL + RENEW` later and polls at once (`run::poll_forever`), so no firing is
//! missed for long; around a takeover a poll may run twice, which writes nothing twice
//! (a source's write of an unchanged article is skipped). A poll asked for through the
//! admin API runs wherever it is asked, lease or not.

use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::store::Store;

const NAME: &str = "sources";
/// How long a renewal holds the lease: a few renewals, so a slow store call does not lose
/// it.
const TTL: Duration = Duration::from_secs(8);
/// How often the holder renews and the others try to take it.
const RENEW: Duration = Duration::from_secs(2);

/// This process's part in the lease; dropped, it stops renewing and gives the lease up,
/// so another replica takes it at once on a graceful stop.
pub(super) struct SourcesLease {
    store: Store,
    holder: String,
    renewing: JoinHandle<()>,
}

impl SourcesLease {
    /// Starts trying to take and keep the lease; the receiver says whether this process
    /// holds it now.
    pub(super) fn hold(store: Store) -> (SourcesLease, watch::Receiver<bool>) {
        let holder = Store::lease_holder();
        let (held_tx, held) = watch::channel(false);
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
                            warn!(error = %e, "cannot renew the sources lease");
                            false
                        }
                        Err(_) => false,
                    };
                    if now != *held_tx.borrow() {
                        info!(holder = %holder, held = now, "sources lease changed hands");
                    }
                    held_tx.send_replace(now);
                }
            }
        });
        (
            SourcesLease {
                store,
                holder,
                renewing,
            },
            held,
        )
    }
}

impl Drop for SourcesLease {
    fn drop(&mut self) {
        self.renewing.abort();
        // One short write as the server stops; if it fails, the lease runs out by itself.
        let _ = self.store.release_lease(NAME, &self.holder);
    }
}
