//! Hearing other processes' writes as they commit: the schema's triggers `NOTIFY` on every
//! update of the change counter and of the sections version, and one connection of each
//! listening process, outside the pool, `LISTEN`s. A notification is a hint to read the
//! change log now, never the change itself, so one lost with its connection loses nothing:
//! after every (re)connection the listener says "something may have changed" once, and
//! the scheduler's slower poll of the counter stays on as the net under a connection that
//! died without saying so.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{AsyncMessage, NoTls, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;
use tracing::{info, warn};

use crate::store::ChangeNotice;

/// The channels the triggers notify (schema migration 2).
const ARTICLES: &str = "pressfeed_articles";
const SECTIONS: &str = "pressfeed_sections";
/// How long to wait before connecting again after the listening connection failed: a
/// server that is down is tried once a second, as the store's probe does.
const RECONNECT: Duration = Duration::from_secs(1);
/// Idle time before the kernel probes the listening connection, which otherwise carries
/// nothing for hours on a quiet site: a peer gone without a word is found within a minute.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);

/// Listens until aborted, calling `on_change` for every notification and once after every
/// connection, over `tls` when the store takes TLS; `hearing` says whether a connection is
/// listening now.
pub(super) async fn run(
    mut config: tokio_postgres::Config,
    tls: Option<MakeRustlsConnect>,
    on_change: Arc<dyn Fn(ChangeNotice) + Send + Sync>,
    hearing: Arc<AtomicBool>,
) {
    config
        .application_name("pressfeed listener")
        .keepalives_idle(KEEPALIVE_IDLE);
    let _deaf_when_stopped = Deaf(hearing.clone());
    loop {
        let ended = match &tls {
            Some(tls) => listen(&config, tls.clone(), &*on_change, &hearing).await,
            None => listen(&config, NoTls, &*on_change, &hearing).await,
        };
        let was_hearing = hearing.swap(false, Ordering::Relaxed);
        match ended {
            Err(e) if was_hearing => {
                warn!(error = %e, "lost the store's change notifications; polling until back")
            }
            Err(_) => {}
            Ok(()) => warn!("the store closed the notifications' connection; polling until back"),
        }
        tokio::time::sleep(RECONNECT).await;
    }
}

/// One connection's life: connect, listen, hand on notifications until it ends.
async fn listen<T>(
    config: &tokio_postgres::Config,
    tls: T,
    on_change: &(dyn Fn(ChangeNotice) + Send + Sync),
    hearing: &AtomicBool,
) -> Result<(), tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
{
    let (client, mut connection) = config.connect(tls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // The connection's messages must be read while `LISTEN` runs, so it is driven apart
    // from the client; it ends with the client or with an error, which it passes on.
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            let failed = message.is_err();
            if !matches!(message, Ok(AsyncMessage::Notice(_))) && tx.send(message).is_err() {
                return;
            }
            if failed {
                return;
            }
        }
    });
    let _stop_driver = AbortOnDrop(driver);
    client
        .batch_execute(&format!("LISTEN {ARTICLES}; LISTEN {SECTIONS}"))
        .await?;
    if !hearing.swap(true, Ordering::Relaxed) {
        info!("hearing the store's change notifications");
    }
    // Whatever was committed while nobody listened.
    on_change(ChangeNotice::Articles);
    on_change(ChangeNotice::Sections);
    while let Some(message) = rx.recv().await {
        if let AsyncMessage::Notification(notification) = message? {
            match notification.channel() {
                ARTICLES => on_change(ChangeNotice::Articles),
                SECTIONS => on_change(ChangeNotice::Sections),
                _ => {}
            }
        }
    }
    Ok(())
}

/// Clears `hearing` when the listener stops, aborted where it awaits.
struct Deaf(Arc<AtomicBool>);

impl Drop for Deaf {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
