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
//! TLS, as the URL's `sslmode` and `sslrootcert` ask, is in `tls`.
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
mod tls;
mod transfer;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::backend::Backend;
use super::{ChangeNotice, StoreError};
pub(super) use health::fault_of;
use tls::{Stripped, Tls, verifying};

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
    /// The TLS of every connection, the pool's and the listener's; `None` for plain text.
    tls: Option<MakeRustlsConnect>,
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
    /// `sslmode` is none of libpq's.
    #[error(
        "the store URL's sslmode {0:?} is not one of disable, prefer, require, verify-ca, verify-full"
    )]
    SslMode(String),
    /// `sslrootcert` with an `sslmode` that takes no TLS, where libpq would ignore it.
    #[error(
        "the store URL names an sslrootcert but its sslmode takes no TLS: add sslmode=verify-full"
    )]
    RootCertWithoutTls,
    /// The file `sslrootcert` names cannot be read.
    #[error("the store URL's sslrootcert {}: {source}", path.display())]
    RootCertUnreadable {
        /// The file, as the URL names it.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// The file `sslrootcert` names holds no certificate that can be trusted.
    #[error("the store URL's sslrootcert {}: {reason}", path.display())]
    RootCertInvalid {
        /// The file, as the URL names it.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl Settings {
    /// Reads a `postgres://` or `postgresql://` URL; `password`, when given, replaces one
    /// in the URL. Its `sslmode` and `sslrootcert` are libpq's (see `tls`
    /// for what `require` means here), and the file `sslrootcert` names is read now.
    pub fn parse(url: &str, password: Option<&str>) -> Result<Settings, SettingsError> {
        let stripped = Stripped::of(url)?;
        let mut config: tokio_postgres::Config =
            stripped.url.parse().map_err(SettingsError::Url)?;
        if config.get_hosts().is_empty() {
            return Err(SettingsError::NoHost);
        }
        let Some(user) = config.get_user().map(str::to_owned) else {
            return Err(SettingsError::NoUser);
        };
        if let Some(password) = password {
            config.password(password);
        }
        // Without `sslmode` in a URL, tokio-postgres's default is `prefer`; in libpq's
        // `key=value` form it has read the mode itself.
        let tls = stripped.tls.unwrap_or(match config.get_ssl_mode() {
            SslMode::Require => Tls::Verified,
            _ => Tls::Off,
        });
        let tls = match (tls, stripped.root_cert) {
            (Tls::Off, Some(_)) => return Err(SettingsError::RootCertWithoutTls),
            (Tls::Off, None) => {
                config.ssl_mode(SslMode::Disable);
                None
            }
            (Tls::Verified, root_cert) => {
                config.ssl_mode(SslMode::Require);
                Some(verifying(root_cert.as_deref())?)
            }
        };
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
            tls,
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
    /// The pool's TLS, for the listening connection too.
    tls: Option<MakeRustlsConnect>,
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
        let manager_config = ManagerConfig {
            // A connection back in the pool is checked before reuse, so a restart of the
            // server costs a retry, not a failed call.
            recycling_method: RecyclingMethod::Fast,
        };
        let config = settings.config.clone();
        let manager = match &settings.tls {
            Some(tls) => Manager::from_config(config, tls.clone(), manager_config),
            None => Manager::from_config(config, NoTls, manager_config),
        };
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
            tls: settings.tls.clone(),
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
        let listener = listen::run(
            self.config.clone(),
            self.tls.clone(),
            on_change,
            self.hearing.clone(),
        );
        Some(runtime.spawn(listener).abort_handle())
    }

    fn hears_changes(&self) -> bool {
        self.hearing.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fixtures::missing;
    use crate::store::testing::{POSTGRES, POSTGRES_CA, fresh_postgres};
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

    /// A fresh database on the test cluster, which serves TLS too, and the CA that signed
    /// its certificate (for `127.0.0.1` and `localhost`); `None` where `test` may skip.
    fn tls_cluster(test: &str) -> Option<(url::Url, String)> {
        let Ok(ca) = std::env::var(POSTGRES_CA) else {
            missing(
                test,
                POSTGRES_CA,
                "STATE_DIR/ca.pem of tests/postgres/start.sh STATE_DIR (tests/run does)",
            );
            return None;
        };
        let Some(url) = fresh_postgres() else {
            missing(test, POSTGRES, "a cluster's URL (tests/run starts one)");
            return None;
        };
        Some((url::Url::parse(&url).unwrap(), ca))
    }

    /// `url` with `query` (its values percent-encoded as a provider's URL would be).
    fn with_query(url: &url::Url, query: &[(&str, &str)]) -> String {
        let query: Vec<String> = query
            .iter()
            .map(|(key, value)| format!("{key}={}", utf8_percent_encode(value, NON_ALPHANUMERIC)))
            .collect();
        format!("{url}?{}", query.join("&"))
    }

    /// The error and every cause under it, as `pressfeed` prints them.
    fn told(error: &dyn std::error::Error) -> String {
        let mut text = error.to_string();
        let mut cause = error.source();
        while let Some(e) = cause {
            text.push_str(&format!(": {e}"));
            cause = e.source();
        }
        text
    }

    fn open_fails(url: &str) -> String {
        let settings = Settings::parse(url, None).expect("a URL pressfeed reads");
        match Postgres::open(&settings) {
            Ok(_) => panic!("{url}: opened"),
            Err(e) => told(&e),
        }
    }

    #[test]
    fn verify_full_with_the_clusters_ca_talks_tls_on_every_connection() {
        let Some((url, ca)) =
            tls_cluster("verify_full_with_the_clusters_ca_talks_tls_on_every_connection")
        else {
            return;
        };
        let url = with_query(&url, &[("sslmode", "verify-full"), ("sslrootcert", &ca)]);
        let db = Postgres::open(&Settings::parse(&url, None).unwrap()).unwrap();
        // Whether the connection `query` picks in `pg_stat_ssl` talks TLS.
        let ssl = |query: &'static str| -> bool {
            db.read(async |client| Ok(client.query_one(query, &[]).await?.get(0)))
                .unwrap()
        };
        assert!(
            ssl("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"),
            "the pool's connection is not TLS"
        );
        // The listening connection, outside the pool, takes the same TLS; it tells of a
        // change once it listens.
        let (heard, listening) = std::sync::mpsc::channel();
        let _listener = db
            .listen(Arc::new(move |_| {
                let _ = heard.send(());
            }))
            .unwrap();
        // A loose bound that only catches a listener that never connects.
        listening
            .recv_timeout(Duration::from_secs(30))
            .expect("the listener connects");
        assert!(
            ssl(
                "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                 WHERE a.application_name = 'pressfeed listener'
                   AND a.datname = current_database()"
            ),
            "the listening connection is not TLS"
        );
    }

    #[test]
    fn require_refuses_a_server_whose_certificate_no_root_vouches_for() {
        let Some((url, _)) =
            tls_cluster("require_refuses_a_server_whose_certificate_no_root_vouches_for")
        else {
            return;
        };
        let told = open_fails(&with_query(&url, &[("sslmode", "require")]));
        assert!(
            told.contains("invalid peer certificate: UnknownIssuer"),
            "{told}"
        );
    }

    #[test]
    fn verify_full_refuses_a_certificate_for_another_host() {
        let Some((mut url, ca)) = tls_cluster("verify_full_refuses_a_certificate_for_another_host")
        else {
            return;
        };
        // Connected to the cluster's address, but expecting a name its certificate lacks.
        url.set_host(Some("db.example")).unwrap();
        let url = with_query(
            &url,
            &[
                ("hostaddr", "127.0.0.1"),
                ("sslmode", "verify-full"),
                ("sslrootcert", &ca),
            ],
        );
        let told = open_fails(&url);
        assert!(
            told.contains("certificate not valid for name \"db.example\""),
            "{told}"
        );
    }

    #[test]
    fn the_sslmodes_of_libpq_are_read_and_others_refused() {
        let tls = |url: &str| {
            let settings = Settings::parse(url, None).unwrap();
            (settings.tls.is_some(), settings.config.get_ssl_mode())
        };
        let url = "postgres://feeds@db.example/news";
        assert_eq!(tls(url), (false, SslMode::Disable));
        for off in ["disable", "prefer"] {
            assert_eq!(
                tls(&format!("{url}?sslmode={off}")),
                (false, SslMode::Disable)
            );
        }
        for on in ["require", "verify-ca", "verify-full"] {
            assert_eq!(
                tls(&format!("{url}?sslmode={on}")),
                (true, SslMode::Require)
            );
        }
        // The other parameters still reach tokio-postgres; the last `sslmode` counts.
        let settings = Settings::parse(
            &format!("{url}?keepalives_idle=77&sslmode=disable&sslmode=verify-full"),
            None,
        )
        .unwrap();
        assert!(settings.tls.is_some());
        assert_eq!(
            settings.config.get_keepalives_idle(),
            Duration::from_secs(77)
        );
        let told = Settings::parse(&format!("{url}?sslmode=allow"), None)
            .unwrap_err()
            .to_string();
        assert!(told.contains("sslmode \"allow\""), "{told}");
    }

    #[test]
    fn a_bad_sslrootcert_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("no such ca.pem");
        let url = with_query(
            &url::Url::parse("postgres://feeds:s3cret@db.example/news").unwrap(),
            &[
                ("sslmode", "verify-full"),
                ("sslrootcert", absent.to_str().unwrap()),
            ],
        );
        let error = Settings::parse(&url, None).unwrap_err();
        assert!(
            matches!(&error, SettingsError::RootCertUnreadable { path, .. } if *path == absent),
            "{error}"
        );
        let told = error.to_string();
        assert!(told.contains(&absent.display().to_string()), "{told}");
        assert!(!told.contains("s3cret"), "{told}");

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let url = format!(
            "postgres://feeds@db.example/news?sslmode=require&sslrootcert={}",
            empty.display()
        );
        let told = Settings::parse(&url, None).unwrap_err().to_string();
        assert!(
            told.contains(&empty.display().to_string()) && told.contains("no PEM certificate"),
            "{told}"
        );

        // Given where no TLS is taken, it would be ignored, as libpq does: refused instead.
        let url = format!(
            "postgres://feeds@db.example/news?sslrootcert={}",
            empty.display()
        );
        assert!(matches!(
            Settings::parse(&url, None),
            Err(SettingsError::RootCertWithoutTls)
        ));
    }

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
