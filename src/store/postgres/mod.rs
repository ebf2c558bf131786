//! The PostgreSQL backend: one database shared by any number of pressfeed processes,
//! through a pool of connections. Its settings (`Settings`: the URL, the password kept
//! apart from it) and opening are here; the schema in `schema`, each concern's queries in
//! a file of its own (`articles`, `changes`, `feeds`, `leases`, `readership`, `sections`,
//! `sources`), and which errors are faults in `health`, as for SQLite.
//!
//! tokio-postgres with deadpool-postgres: the client the PostgreSQL ecosystem of tokio is
//! built on, and a pool that is a thin layer over it (no query builder, no compile-time
//! database, nothing that links a second SQLite beside rusqlite's). Store calls block (the
//! seam is synchronous, and callers already run them on blocking threads), so the backend
//! owns a small runtime of its own that drives the connections, and a call waits for its
//! future on the caller's thread (`block_on`); the server's runtime never sees a database
//! future.
//!
//! Writers of articles queue on the change counter's row, taken first: like SQLite's one
//! writer, two writes never interleave, so no two transactions lock articles in opposite
//! orders and the change log counts writes in the order they commit.

mod articles;
mod changes;
mod feeds;
mod health;
mod keys;
mod leases;
mod listen;
mod readership;
mod schema;
mod sections;
mod sources;
mod transfer;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::backend::Backend;
use super::{ChangeNotice, StoreError};
pub(super) use health::fault_of;

/// Connections one process keeps at most: a build, an admin write, a source's poll and
/// the probe at once, with room to spare; a PostgreSQL server's default allows 100.
const POOL_SIZE: usize = 8;
/// How long a call waits for a connection before it fails (and the store is degraded).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a statement waits for another transaction's lock before it fails, as SQLite's
/// busy timeout: a writer stuck elsewhere degrades the store instead of hanging every call.
const LOCK_TIMEOUT: &str = "-c lock_timeout=10s";

/// Where a PostgreSQL store is and how to log in: a `postgres://` URL (as libpq reads it)
/// and the password, which may come from elsewhere so that it never sits in a command
/// line or a config file.
#[derive(Clone)]
pub struct Settings {
    config: tokio_postgres::Config,
    /// The URL without its password, for messages.
    display: String,
}

/// Why a store URL is refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Not a URL tokio-postgres reads.
    #[error("the store URL is not a PostgreSQL URL: {0}")]
    Url(tokio_postgres::Error),
    /// The URL names no host.
    #[error("the store URL names no host")]
    NoHost,
    /// The URL names no user.
    #[error("the store URL names no user (postgres://USER@HOST/DATABASE)")]
    NoUser,
}

impl Settings {
    /// Reads a `postgres://` or `postgresql://` URL; `password`, when given, replaces one
    /// in the URL.
    pub fn parse(url: &str, password: Option<&str>) -> Result<Settings, SettingsError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(SettingsError::Url)?;
        if config.get_hosts().is_empty() {
            return Err(SettingsError::NoHost);
        }
        let Some(user) = config.get_user().map(str::to_owned) else {
            return Err(SettingsError::NoUser);
        };
        if let Some(password) = password {
            config.password(password);
        }
        let options = match config.get_options() {
            Some(given) => format!("{given} {LOCK_TIMEOUT}"),
            None => LOCK_TIMEOUT.to_owned(),
        };
        config
            .application_name("pressfeed")
            .connect_timeout(CONNECT_TIMEOUT)
            .options(&options);
        let host = match &config.get_hosts()[0] {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let database = config.get_dbname().unwrap_or(&user).to_owned();
        Ok(Settings {
            display: format!("postgres://{user}@{host}:{port}/{database}"),
            config,
        })
    }
}

/// `postgres://user@host:port/database`: never the password.
impl fmt::Display for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Settings({})", self.display)
    }
}

/// The PostgreSQL store of one database.
pub(super) struct Postgres {
    /// Runs the pool's connections; `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    /// For the listening connection, which is not the pool's.
    config: tokio_postgres::Config,
    /// Whether a connection listens for other processes' changes now (`listen`).
    hearing: Arc<AtomicBool>,
    /// For messages: the URL without its password.
    display: String,
}

type Client = deadpool_postgres::Object;
type Transaction<'a> = deadpool_postgres::Transaction<'a>;

impl Postgres {
    /// Connects to the database, migrating its schema.
    pub(super) fn open(settings: &Settings) -> Result<Postgres, StoreError> {
        let display = settings.display.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pressfeed-postgres")
            .enable_all()
            .build()
            .map_err(|source| StoreError::Runtime { source })?;
        let manager = Manager::from_config(
            settings.config.clone(),
            NoTls,
            ManagerConfig {
                // A connection back in the pool is checked before reuse, so a restart of
                // the server costs a retry, not a failed call.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .expect("a pool with a runtime and its timeouts builds");
        let db = Postgres {
            runtime: Some(runtime),
            pool,
            config: settings.config.clone(),
            hearing: Arc::default(),
            display,
        };
        db.block_on(async {
            let mut client = db.client().await?;
            schema::migrate(&mut client, &db.display).await
        })
        .map_err(|e| match e {
            StoreError::Postgres(source) => StoreError::Connect {
                store: db.display.clone(),
                source,
            },
            other => other,
        })?;
        Ok(db)
    }

    /// Waits on this thread for `work`, whose connections and timers the backend's runtime
    /// drives. Not `Runtime::block_on`, which refuses to run where another runtime's task
    /// runs: callers should be on a blocking thread, but a test or a start-up path calling
    /// from async code only blocks its thread, as a SQLite call does.
    fn block_on<T>(&self, work: impl Future<Output = T>) -> T {
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        let _driven_there = runtime.handle().enter();
        // Unconstrained: called from a runtime's task, the task's cooperative budget would
        // be spent here too, and once spent every poll answers "yield" to a thread that
        // cannot yield: it would spin for ever.
        pollster::block_on(tokio::task::unconstrained(work))
    }

    async fn client(&self) -> Result<Client, StoreError> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(source) => StoreError::Postgres(source),
            other => StoreError::Pool {
                store: self.display.clone(),
                message: other.to_string(),
            },
        })
    }

    /// Runs a read on a pooled connection.
    fn read<T>(
        &self,
        op: impl AsyncFnOnce(&Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.block_on(async {
            let client = self.client().await?;
            op(&client).await
        })
    }

    /// Runs `op` in a transaction and commits it.
    fn write<T>(
        &self,
        op: impl AsyncFnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.block_on(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let value = op(&tx).await?;
            tx.commit().await?;
            Ok(value)
        })
    }
}

impl Drop for Postgres {
    /// The last handle may go in async code (a server's task): a runtime dropped there
    /// would panic, so it is let go in the background.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Backend for Postgres {
    fn probe(&self) -> Result<(), StoreError> {
        health::probe(self)
    }

    /// Nothing to tune: the server's settings are the operator's, and one import's
    /// transactions are already one round trip per statement per batch.
    fn bulk_writes(&self, _on: bool) {}

    fn listen(
        &self,
        on_change: Arc<dyn Fn(ChangeNotice) + Send + Sync>,
    ) -> Option<tokio::task::AbortHandle> {
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        let listener = listen::run(self.config.clone(), on_change, self.hearing.clone());
        Some(runtime.spawn(listener).abort_handle())
    }

    fn hears_changes(&self) -> bool {
        self.hearing.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        let settings = Settings::parse("postgres://feeds:s3cret@db.example:6543/news", None)
            .expect("a URL with a password");
        assert_eq!(
            settings.to_string(),
            "postgres://feeds@db.example:6543/news"
        );
        assert!(!format!("{settings:?}").contains("s3cret"));
        let settings =
            Settings::parse("postgresql://feeds@db.example/news", Some("other")).unwrap();
        assert_eq!(settings.config.get_password(), Some(&b"other"[..]));
        assert_eq!(
            settings.to_string(),
            "postgres://feeds@db.example:5432/news"
        );
    }

    #[test]
    fn a_url_without_host_or_user_is_refused() {
        assert!(matches!(
            Settings::parse("postgres:///news?user=x", None),
            Err(SettingsError::NoHost)
        ));
        assert!(matches!(
            Settings::parse("postgres://db.example/news", None),
            Err(SettingsError::NoUser)
        ));
        assert!(matches!(
            Settings::parse("mysql://x@y/z", None),
            Err(SettingsError::Url(_))
        ));
    }
}
