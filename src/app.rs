//! Wiring: the store, the catalog, the feeds built on demand, the scheduler and the HTTP
//! server of one `pressfeed serve`,
//! started together and shut down in order.

use std::future::Future;
use std::io::BufReader;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::admin::{self, Admin};
use crate::article::Article;
use crate::bucket::{self, BucketError};
use crate::catalog::Catalog;
use crate::client::HttpClient;
use crate::clock::Clock;
use crate::config::Config;
use crate::http::{AccessLog, Shared, Tls, TlsError};
use crate::import::{self, ImportError};
use crate::item::{self, StoredItem};
use crate::lease::Lease;
use crate::live::{self, LiveConfig};
use crate::metrics::Metrics;
use crate::ondemand::OnDemand;
use crate::readers;
use crate::schedule::{self, Singleton};

use crate::source;
use crate::store::{ChangeNotice, Store, StoreError};
use crate::websub;

/// Why seeding the store or serving failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The store failed while seeding or while the scheduler started.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The site's `seed_articles` file could not be opened.
    #[error("seed articles {path}: {source}")]
    Seed {
        /// The seed file, as resolved against the feeds directory.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Reading the seed file, or storing its articles, failed.
    #[error("seed articles: {0}")]
    SeedImport(#[from] ImportError),
    /// The threads that serve connections could not be started.
    #[error("starting the HTTP worker threads: {0}")]
    Workers(std::io::Error),
    /// The access log's writer thread could not be started.
    #[error("starting the access log: {0}")]
    AccessLog(std::io::Error),
    /// The threads of the feeds built on demand could not be started.
    #[error("starting the threads of the feeds built on demand: {0}")]
    OnDemand(std::io::Error),
    /// The `[publish]` bucket could not be set up.
    #[error(transparent)]
    Bucket(#[from] BucketError),
    /// The `[tls]` certificate and key did not load.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
    /// The address of the listener could not be read.
    #[error("the listener's address: {0}")]
    Listener(std::io::Error),
}

/// Where `run` takes connections: the listener for feeds and the admin API (HTTPS when
/// the site has `[tls]`), and with `[tls]` maybe a plain-HTTP one that only redirects to
/// it. Bound by the caller, so a test binds port 0 and knows the address.
pub struct Listeners {
    /// Feeds, OPML, health, metrics and the admin API.
    pub serve: TcpListener,
    /// Answers every request with a redirect to HTTPS on `serve`'s port; ignored without
    /// `[tls]`.
    pub redirect: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    fn from(serve: TcpListener) -> Listeners {
        Listeners {
            serve,
            redirect: None,
        }
    }
}

/// Prepares every stored article again when the preparation rules changed
/// (`item::PREPARATION`) or the store predates prepared items, so old articles render like
/// new ones. Every command that opens the store runs it first; the store hands out the
/// stale articles and keeps the new items in one transaction, and writes nothing when all
/// are current. An article stored by an older pressfeed that the current rules refuse (a
/// title with nothing visible) keeps its document but leaves the feeds, with a warning
/// naming it, until it is sent again. Returns how many were prepared again.
pub fn prepare_stale(store: &Store) -> Result<usize, StoreError> {
    let prepared = store.prepare_stale(
        item::PREPARATION,
        &mut |id, doc| match Article::from_json(doc) {
            Ok(accepted) => StoredItem::new(&accepted.article),
            Err(error) => {
                warn!(id, %error, "a stored article the current rules refuse leaves the feeds");
                None
            }
        },
    )?;
    if prepared > 0 {
        info!(
            articles = prepared,
            "stored articles prepared again by the current rules"
        );
    }
    Ok(prepared)
}

/// Fills a store that has never been written with the site's seed articles (the demo
/// content), so a fresh clone serves something; of several processes starting on one
/// new store, one. Returns how many were stored.
pub fn seed_if_new(config: &Config, store: &Store) -> Result<u64, AppError> {
    let Some(seed) = &config.site.seed_articles else {
        return Ok(0);
    };
    if store.change_counter()? != 0 {
        return Ok(0);
    }
    // Replicas starting together on a new shared store: the one that takes this lease
    // seeds, the others find it taken and go on (the seed reaches them through the store).
    if !store.take_lease("seed", &Store::lease_holder(), Duration::from_secs(600))? {
        return Ok(0);
    }
    let path = config.dir.join(seed);
    let file = std::fs::File::open(&path).map_err(|source| AppError::Seed {
        path: path.display().to_string(),
        source,
    })?;
    let report = import::ndjson(BufReader::new(file), store, |bad| {
        warn!(line = bad.line, error = %bad.error, "bad seed article skipped");
    })?;
    for warned in &report.warnings {
        warn!(line = warned.line, warning = %warned.warning, "seed article stored without a field");
    }
    info!(articles = report.stored, path = %path.display(), "store seeded");
    Ok(report.stored)
}

/// Serves `config`'s feeds from `store` on `listeners` until `shutdown` completes, over
/// HTTPS when the site has `[tls]`, with the admin API as `admin` sets it up (off without
/// tokens), logging every request to `access_log` if given. `config` is the configuration
/// in force as `live::load` gave it from `store`; it follows edits of `site.toml` (SIGHUP,
/// polling), admin writes, and section writes of other processes to the store (hearing or
/// polling its sections version). Every wall-time reading (schedules, embargoes, Last-Modified,
/// source polls, access log lines, looks at the TLS files) comes from `clock`.
pub async fn run(
    listeners: impl Into<Listeners>,
    config: Config,
    store: Store,
    admin: admin::Settings,
    access_log: Option<AccessLog>,
    clock: Clock,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AppError> {
    let Listeners {
        serve: listener,
        redirect,
    } = listeners.into();
    // First: a server that was asked for HTTPS and cannot speak it must not start.
    let tls = (config.site.tls.as_ref())
        .map(|tls| Tls::load(&tls.resolved(&config.dir)))
        .transpose()?;
    let catalog = Catalog::default();
    let metrics = Arc::new(Metrics::default());
    // Who reads the feeds, written to the store every minute and once more at shutdown.
    let readership = (metrics.readers.clone(), store.clone(), clock.clone());
    let flusher = readers::flush_periodically(&readership.0, &readership.1, &readership.2);
    let access_log = access_log
        .map(|log| log.start(clock.clone(), metrics.http.access_log_dropped.clone()))
        .transpose()
        .map_err(AppError::AccessLog)?;
    // Read once: a listening server cannot change these without a restart.
    let limits = config.site.http.clone();
    let redirect = match (&tls, redirect) {
        (Some(_), Some(redirect)) => {
            let port = match config.site.tls.as_ref().and_then(|t| t.redirect_port) {
                Some(port) => port,
                None => listener.local_addr().map_err(AppError::Listener)?.port(),
            };
            let limits = limits.clone();
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(async move {
                crate::http::redirect(redirect, port, &limits, async {
                    let _ = stopped.await;
                })
                .await;
            });
            Some((stop, task))
        }
        _ => None,
    };
    let tls_watcher = tls
        .as_ref()
        .map(|tls| tls.watch(clock.clone(), metrics.clone()));
    let config = Arc::new(config);
    // One outbound client: its connection pool is shared by WebSub pings and sources.
    let client = HttpClient::default();
    let (pinger, websub) = websub::start(client.clone(), metrics.clone());
    let (uploads, bucket) = match &config.site.publish {
        Some(target) => {
            let (uploads, task) = bucket::start(target, metrics.clone())?;
            (Some(uploads), Some(task))
        }
        None => (None, None),
    };
    let on_demand = OnDemand::new(
        store.clone(),
        clock.clone(),
        metrics.clone(),
        config.site.feeds.as_ref(),
    )
    .map_err(AppError::OnDemand)?;
    // Whether this process polls the sources and tells the world of changes, of all
    // sharing the store: the lease is tried once the scheduler has started, as a try waits
    // behind another process's write, and SQLite's reads with it.
    let (held_tx, held) = tokio::sync::watch::channel(false);
    // It reads the store before it returns: on a blocking thread, as every store call.
    let scheduler = {
        let (config, store, catalog) = (config.clone(), store.clone(), catalog.clone());
        let (metrics, clock, on_demand) = (metrics.clone(), clock.clone(), on_demand.clone());
        let singleton = Singleton {
            lease: held.clone(),
            websub: pinger,
            bucket: uploads,
        };
        tokio::task::spawn_blocking(move || {
            schedule::start(config, store, catalog, on_demand, metrics, singleton, clock)
        })
        .await
        .expect("starting the scheduler does not panic")?
    };
    let lease = Lease::hold(store.clone(), held_tx);
    let lease_watcher = tokio::spawn({
        let (notifier, mut held) = (scheduler.notifier(), held.clone());
        async move {
            while held.changed().await.is_ok() {
                notifier.lease_changed();
            }
        }
    });
    let notifier = scheduler.notifier();
    let load_failures = metrics.config_load_failures.clone();
    let live = Arc::new(LiveConfig::new(
        config,
        store.clone(),
        load_failures,
        move |config| notifier.reload(config),
    ));
    // Other processes' commits, as the store hears them (PostgreSQL): read at once rather
    // than at the next poll. Heard on the store's thread; both calls only wake a reader.
    let sections_heard = Arc::new(Notify::new());
    let listening = {
        let (notifier, sections_heard) = (scheduler.notifier(), sections_heard.clone());
        store.listen(move |notice| match notice {
            ChangeNotice::Articles => notifier.articles_changed(),
            ChangeNotice::Sections => sections_heard.notify_one(),
        })
    };
    let watcher = live::watch(live.clone(), sections_heard);
    let registry = source::Registry::new(metrics.clone());
    let sources = tokio::spawn(source::supervise(
        live.clone(),
        store.clone(),
        scheduler.notifier(),
        client,
        registry.clone(),
        clock.clone(),
        held,
    ));
    let tokens = admin.tokens.len();
    let store_health = store.health();
    let admin = Admin::new(
        admin,
        live.clone(),
        store,
        scheduler.notifier(),
        catalog.clone(),
        registry,
        clock,
    )
    .map(|admin| admin.handler());
    match &admin {
        Some(_) => info!(tokens, "admin API on at /admin/api/"),
        None => info!(
            "admin API off: no token configured (PRESSFEED_ADMIN_TOKEN or PRESSFEED_ADMIN_TOKEN_FILE); /admin/api/ answers 404"
        ),
    }
    let shared = Shared {
        catalog,
        config: live,
        metrics,
        on_demand,
        store: store_health,
    };
    let served = crate::http::run(
        listener,
        shared,
        admin,
        access_log.as_ref(),
        &limits,
        tls.as_ref(),
        shutdown,
    )
    .await
    .map_err(AppError::Workers);
    // After the workers stopped, so every poll is counted; a flush in progress finishes
    // first (they take turns).
    flusher.abort();
    let (tally, store, clock) = readership;
    readers::flush(&tally, &store, &clock).await;
    // After the workers stopped, so every line is buffered; the last ones are written here.
    if let Some(access_log) = access_log {
        tokio::task::spawn_blocking(move || access_log.stop())
            .await
            .ok();
    }
    if let Some((stop, task)) = redirect {
        let _ = stop.send(());
        let _ = task.await;
    }
    if let Some(watcher) = tls_watcher {
        watcher.abort();
    }
    served?;
    // The watcher only loads files; stopping it mid-reload loses nothing.
    watcher.abort();
    drop(listening);
    // A poll stopped between its store writes resumes from what was written.
    sources.abort();
    lease_watcher.abort();
    // Given up, so another replica takes it over at once.
    drop(lease);
    tokio::task::spawn_blocking(move || scheduler.stop())
        .await
        .ok();
    // Pings still waiting are dropped: subscribers poll too, and the next change pings.
    websub.abort();
    // Uploads still waiting are dropped: the next holder of the lease copies everything.
    if let Some(bucket) = bucket {
        bucket.abort();
    }
    Ok(())
}
