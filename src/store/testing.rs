//! Test support, for this crate's tests and `tests/`: a fresh PostgreSQL database for each
//! test on the cluster the test run started (`tests/postgres/start.sh`), so the store's
//! contract and the end-to-end tests run on PostgreSQL as on SQLite, and the CA of its
//! certificate for the tests of TLS. Nothing else uses it.

use std::sync::atomic::{AtomicU32, Ordering};

/// The variable naming the cluster: the URL of a database its user may create others from.
pub const POSTGRES: &str = "PRESSFEED_TEST_POSTGRES";
/// The variable naming the PEM file of the CA that signed the cluster's certificate, for
/// the tests of TLS to the store (`tests/postgres/start.sh` writes it as `ca.pem`).
pub const POSTGRES_CA: &str = "PRESSFEED_TEST_POSTGRES_CA";

/// Creates an empty database on the cluster `PRESSFEED_TEST_POSTGRES` names and returns
/// its URL; `None` when the variable is unset. Panics when the cluster refuses: a test
/// cannot go on without it.
pub fn fresh_postgres() -> Option<String> {
    static CREATED: AtomicU32 = AtomicU32::new(0);
    let admin = std::env::var(POSTGRES).ok()?;
    let name = format!(
        "pressfeed_{}_{}",
        std::process::id(),
        CREATED.fetch_add(1, Ordering::Relaxed)
    );
    // A thread of its own: the caller may be async code, where no runtime may block.
    let create = {
        let (admin, name) = (admin.clone(), name.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&admin, tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
    };
    if let Err(e) = create.join().expect("creating a database does not panic") {
        panic!("{POSTGRES}={admin}: creating database {name}: {e}");
    }
    let mut url = url::Url::parse(&admin).expect("PRESSFEED_TEST_POSTGRES is a URL");
    url.set_path(&name);
    Some(url.into())
}
