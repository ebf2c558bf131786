//! Backing up the SQLite store while servers use it, and putting a backup in its place
//! (`pressfeed backup`, `pressfeed restore`). And the lock that keeps a restore from
//! replacing the file under a process that has it open: every `Sqlite::open` holds a shared
//! lock on the data directory for as long as the store is open; a restore takes it
//! exclusively, or refuses.
//!
//! Both copies are made with `VACUUM INTO` rather than SQLite's online backup API: it
//! copies in one read transaction, so the copy is the store as one commit left it, and
//! in WAL mode that read never blocks the server's writes nor is restarted by them (the
//! backup API, stepped, starts over whenever another connection writes; stepped whole,
//! it holds the same one read as `VACUUM INTO` anyway). The copy is also compact, and
//! takes in what the WAL holds, so it is one self-contained file.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use rustix::fs::{FlockOperation, flock};

use super::{FILE_NAME, schema};
use crate::fsutil;

/// Why a backup or a restore did nothing.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// There is no store to back up.
    #[error("no SQLite store at {0}")]
    NoStore(String),
    /// SQLite failed on a file.
    #[error("{path}: {error}")]
    Sql {
        /// The file.
        path: String,
        /// What SQLite said.
        error: rusqlite::Error,
    },
    /// A file or directory could not be read, written or locked.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The file is not a pressfeed store.
    #[error("{path} is not a pressfeed store: {why}")]
    NotAStore {
        /// The file.
        path: String,
        /// What it lacks.
        why: String,
    },
    /// A newer pressfeed made the file; this one cannot read it.
    #[error(
        "{path} has schema version {found}, newer than this pressfeed reads ({known}): restore it with that pressfeed"
    )]
    TooNew {
        /// The file.
        path: String,
        /// Its schema version.
        found: usize,
        /// The newest this pressfeed knows.
        known: usize,
    },
    /// SQLite's check of the file found damage.
    #[error("{path} is damaged: {report}")]
    Damaged {
        /// The file.
        path: String,
        /// The first problem `PRAGMA quick_check` reported.
        report: String,
    },
    /// The new file could not be renamed into place, or the rename made durable.
    #[error("putting the new file in place: {0}")]
    Replace(#[from] std::io::Error),
    /// A process has the store open.
    #[error(
        "the store in {0} is open in a pressfeed process (a server, an import): stop it first; nothing was replaced"
    )]
    InUse(String),
}

/// What a checked store file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Its schema version (`PRAGMA user_version`).
    pub schema: usize,
    /// Articles, drafts included.
    pub articles: i64,
}

/// Writes a consistent copy of the store in `data_dir` to `to` (replaced whole if it
/// exists), while servers go on serving and writing it. Every write committed before this
/// is called is in the copy. The copy is checked as `restore` would check it before it
/// takes `to`'s name.
pub fn backup(data_dir: &Path, to: &Path) -> Result<Summary, BackupError> {
    let live = data_dir.join(FILE_NAME);
    if !live.is_file() {
        return Err(BackupError::NoStore(live.display().to_string()));
    }
    // A restore does not replace the file while it is copied.
    let _shared = lock(data_dir, FlockOperation::LockShared).map_err(io(data_dir))?;
    // Read-write, as a reader of a WAL store needs its shared-memory file; nothing is
    // written. Not `Store::open`: a backup neither migrates nor prepares anything.
    let source = open(&live, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    // A checkpoint running meanwhile may hold the read lock for a moment.
    source
        .busy_timeout(std::time::Duration::from_secs(30))
        .map_err(sql(&live))?;
    copy(&source, &live, to)
}

/// Replaces the store in `data_dir` (made if missing) with the backup `from`, after
/// checking that it is a pressfeed store of a schema this pressfeed reads and undamaged.
/// Refused, with nothing changed, while any pressfeed process has the store open. The
/// store is replaced by a rename: a crash leaves the old store or the new one.
pub fn restore(from: &Path, data_dir: &Path) -> Result<Summary, BackupError> {
    let checked = check(from)?;
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let _exclusive = lock(data_dir, FlockOperation::NonBlockingLockExclusive).map_err(|e| {
        if e.kind() == std::io::ErrorKind::WouldBlock {
            BackupError::InUse(data_dir.display().to_string())
        } else {
            io(data_dir)(e)
        }
    })?;
    let live = data_dir.join(FILE_NAME);
    let backup = open(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    fsutil::replace_with(&live, |tmp| {
        copy_to(&backup, from, tmp)?;
        // What the old store left beside it belongs to the old file: SQLite would
        // apply an old WAL to the new one. Nobody has the old store open (the lock
        // says so), so nothing in them is still being written; with the new file
        // complete, only the rename is left.
        for leftover in ["-wal", "-shm"] {
            let path = PathBuf::from(format!("{}{leftover}", live.display()));
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io(&path)(e));
                }
                _ => {}
            }
        }
        Ok::<_, BackupError>(())
    })?;
    Ok(checked)
}

/// Copies the store open as `source` (the file `from`) to `to` by way of a temp file,
/// checked before it is renamed.
fn copy(source: &Connection, from: &Path, to: &Path) -> Result<Summary, BackupError> {
    let mut summary = None;
    fsutil::replace_with(to, |tmp| {
        summary = Some(copy_to(source, from, tmp)?);
        Ok::<_, BackupError>(())
    })?;
    Ok(summary.expect("set when the copy succeeded"))
}

/// `VACUUM INTO` the new file `tmp`, made durable and checked.
fn copy_to(source: &Connection, from: &Path, tmp: &Path) -> Result<Summary, BackupError> {
    let target = tmp.to_str().ok_or_else(|| BackupError::Io {
        path: tmp.display().to_string(),
        error: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "SQLite takes only UTF-8 file names",
        ),
    })?;
    source
        .execute("VACUUM INTO ?1", [target])
        .map_err(sql(from))?;
    File::open(tmp)
        .and_then(|file| file.sync_all())
        .map_err(io(tmp))?;
    check(tmp)
}

/// What the file at `path` holds, if it is an undamaged pressfeed store that this
/// pressfeed can read (as is, or after migrating it when it opens).
pub fn check(path: &Path) -> Result<Summary, BackupError> {
    if !path.is_file() {
        return Err(io(path)(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        )));
    }
    let conn = open(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let not_a_store = |why: String| BackupError::NotAStore {
        path: path.display().to_string(),
        why,
    };
    // The first read of the file: where a file that is no database says so.
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| not_a_store(e.to_string()))?;
    let schema = usize::try_from(version).unwrap_or(usize::MAX);
    if schema == 0 {
        return Err(not_a_store("it has no pressfeed schema".into()));
    }
    if schema > schema::VERSION {
        return Err(BackupError::TooNew {
            path: path.display().to_string(),
            found: schema,
            known: schema::VERSION,
        });
    }
    // The tables the first schema made, which every later one keeps.
    for table in ["articles", "article_sections", "changes", "feed_state"] {
        let found: bool = conn
            .query_row(
                "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )
            .map_err(sql(path))?;
        if !found {
            return Err(not_a_store(format!("it has no `{table}` table")));
        }
    }
    let report: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(sql(path))?;
    if report != "ok" {
        return Err(BackupError::Damaged {
            path: path.display().to_string(),
            report,
        });
    }
    let articles = conn
        .query_row("SELECT count(*) FROM articles", [], |r| r.get(0))
        .map_err(sql(path))?;
    Ok(Summary { schema, articles })
}

/// The data directory `dir` locked as `how`: shared by every process that has the store
/// open, exclusive for a restore. Held until the returned file is dropped. A lock on the
/// directory, not the store's file: SQLite's own locks are on the file, and closing any
/// other descriptor of it would drop them (POSIX locks belong to the process).
pub(super) fn lock(dir: &Path, how: FlockOperation) -> std::io::Result<File> {
    let file = File::open(dir)?;
    flock(&file, how)?;
    Ok(file)
}

fn open(path: &Path, flags: OpenFlags) -> Result<Connection, BackupError> {
    Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX).map_err(sql(path))
}

fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> BackupError + '_ {
    move |error| BackupError::Sql {
        path: path.display().to_string(),
        error,
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |error| BackupError::Io {
        path: path.display().to_string(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::Sqlite;

    fn marker(data: &Path) -> i64 {
        let store = Sqlite::open(data).unwrap();
        let conn = store.conn();
        conn.query_row("SELECT value FROM meta WHERE key = 'marker'", [], |r| {
            r.get(0)
        })
        .unwrap()
    }

    #[test]
    fn a_restore_leaves_nothing_of_the_old_store_not_even_its_wal() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        let file = dir.path().join("backup.sqlite3");
        let store = Sqlite::open(&first).unwrap();
        store
            .conn()
            .execute("INSERT INTO meta VALUES ('marker', 1)", [])
            .unwrap();
        drop(store);
        assert_eq!(backup(&first, &file).unwrap().schema, schema::VERSION);

        // The store to replace, with a write still in its WAL, as a process that died
        // leaves it (a connection never closed does not checkpoint).
        drop(Sqlite::open(&second).unwrap());
        let died = Connection::open(second.join(FILE_NAME)).unwrap();
        died.execute("INSERT INTO meta VALUES ('marker', 2)", [])
            .unwrap();
        std::mem::forget(died);
        let wal = second.join(format!("{FILE_NAME}-wal"));
        assert!(wal.exists());

        restore(&file, &second).unwrap();
        assert!(!wal.exists());
        assert_eq!(marker(&second), 1);
        // And while the store is open, a restore is refused.
        let open = Sqlite::open(&second).unwrap();
        assert!(matches!(
            restore(&file, &second),
            Err(BackupError::InUse(_))
        ));
        drop(open);
    }
}
