//! The SQLite backend: one file in the data directory (WAL mode) behind one connection.
//! Opening it, its tuning and the bulk settings are here; the schema in `schema`, and each
//! concern's queries in a file of its own (`articles`, `changes`, `feeds`, `keys`, `leases`,
//! `readership`, `sections`, `sources`), with the probe and the SQLite errors that are
//! faults in `health`.
//!
//! Articles are kept whole as their canonical JSON, beside the columns the feed query
//! filters and sorts on and their prepared item. `article_sections` only has rows for
//! published articles, so the hot query never looks at drafts and walks one index in feed
//! order.

mod articles;
pub(super) mod backup;
mod changes;
mod feeds;
mod health;
mod keys;
mod leases;
mod readership;
mod schema;
mod sections;
mod sources;
mod transfer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

// Write transactions are IMMEDIATE: a deferred one that reads first and then writes fails
// with SQLITE_BUSY_SNAPSHOT (no retry) when another process wrote in between.
use rusqlite::{Connection, TransactionBehavior};

use super::backend::Backend;
use super::{ChangeNotice, StoreError};
pub(super) use health::fault_of;

/// The file name of the store inside the data directory.
pub const FILE_NAME: &str = "pressfeed.sqlite3";

/// Bytes per page of a new store file.
const PAGE_SIZE: i64 = 32 << 10;
/// Page cache sizes, as `PRAGMA cache_size` takes them (negative: KiB). The default is
/// SQLite's own.
const DEFAULT_CACHE_KIB: i64 = -2000;
const BULK_CACHE_KIB: i64 = -(64 << 10);
/// WAL bytes after which a commit checkpoints: SQLite's default of 1000 pages in 4 KB pages.
/// Kept in bytes whatever the page size, as a checkpoint's time grows with them and the
/// commit that runs it (an admin write, a build saving its feeds) waits for it.
const WAL_BYTES: i64 = 4 << 20;
/// While importing, fewer and larger checkpoints: nobody waits on one commit.
const BULK_WAL_BYTES: i64 = 32 << 20;

/// The SQLite store of one data directory.
pub(super) struct Sqlite {
    // One connection behind a std Mutex: every call is short and runs on a blocking
    // thread, and SQLite serializes writers anyway.
    conn: Mutex<Connection>,
    /// The data directory: where a probe checks that there is room.
    dir: PathBuf,
    /// A shared lock on the data directory while the store is open, so that a restore
    /// does not replace the file under it (`backup::lock`).
    _open: std::fs::File,
}

/// Sets the page cache (`cache_kib`, as `PRAGMA cache_size` takes it) and checkpoints the
/// WAL after `wal_bytes`, whatever the file's page size.
fn tune(conn: &Connection, cache_kib: i64, wal_bytes: i64) -> rusqlite::Result<()> {
    conn.pragma_update(None, "cache_size", cache_kib)?;
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    conn.pragma_update(None, "wal_autocheckpoint", wal_bytes / page_size)
}

impl Sqlite {
    /// Opens (creating if needed) the store in `data_dir`, migrating its schema.
    pub(super) fn open(data_dir: &Path) -> Result<Sqlite, StoreError> {
        let path = data_dir.join(FILE_NAME);
        let display = path.display().to_string();
        let open_err = |source| StoreError::Open {
            path: display.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        // Waits while a restore is putting a file in place: then the new file opens.
        let open =
            backup::lock(data_dir, rustix::fs::FlockOperation::LockShared).map_err(|source| {
                StoreError::DataDir {
                    path: data_dir.display().to_string(),
                    source,
                }
            })?;
        let mut conn = Connection::open(&path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        // Takes effect on a new, empty file only. An article row (its JSON, the prepared
        // item and its HTML) is around 10 KB: with 32 KB pages a few rows share a page
        // instead of each spilling into a chain of overflow pages, so an import writes and
        // checkpoints fewer, larger pages and a build reads fewer. 64 KB pages import faster
        // still but slow rebuilds (a whole page copied per row read); BENCHMARKS.md,
        // "Import", has the figures.
        conn.pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        // NORMAL is durable across application crashes in WAL mode; only a power loss may
        // drop the last transactions, never corrupt the file.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        tune(&conn, DEFAULT_CACHE_KIB, WAL_BYTES).map_err(open_err)?;
        schema::migrate(&mut conn, &display)?;
        Ok(Sqlite {
            conn: Mutex::new(conn),
            dir: data_dir.to_owned(),
            _open: open,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable: every write is a
        // transaction that rolled back when the panic dropped it.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs a read on the connection.
    fn read<T>(
        &self,
        op: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        op(&self.conn())
    }

    /// Runs `op` in an IMMEDIATE transaction and commits it.
    fn write<T>(
        &self,
        op: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = op(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

impl Backend for Sqlite {
    fn probe(&self) -> Result<(), StoreError> {
        health::probe(self)
    }

    /// Bulk: a page cache that holds a whole batch of an import (with the default 2 MB,
    /// SQLite spills a batch's dirty pages to the WAL mid-transaction and reads them back)
    /// and larger checkpoints. Back to normal, the memory of the big cache is given back.
    fn bulk_writes(&self, on: bool) {
        // Hints: if SQLite refused them the import would only be slower.
        let conn = self.conn();
        if on {
            let _ = tune(&conn, BULK_CACHE_KIB, BULK_WAL_BYTES);
        } else {
            let _ = tune(&conn, DEFAULT_CACHE_KIB, WAL_BYTES);
            let _ = conn.execute_batch("PRAGMA shrink_memory");
        }
    }

    /// SQLite tells no other process of a commit: the change log is polled.
    fn listen(
        &self,
        _on_change: Arc<dyn Fn(ChangeNotice) + Send + Sync>,
    ) -> Option<tokio::task::AbortHandle> {
        None
    }

    fn hears_changes(&self) -> bool {
        false
    }
}

/// `?,?,?` for `n` values.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_file_keeps_its_page_size() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.execute_batch("PRAGMA page_size = 4096; CREATE TABLE old (x);")
            .unwrap();
        drop(conn);
        let store = Sqlite::open(dir.path()).unwrap();
        let page_size: i64 = store
            .conn()
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .unwrap();
        assert_eq!(page_size, 4096);
    }
}
