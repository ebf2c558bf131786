//! The SQLite side of the store's health: which SQLite errors are faults of the disk or
//! the file, and the probe that shows writes land again. Noting and clearing the outage is
//! `Store`'s.

use chrono::Utc;

use super::Sqlite;
use crate::store::{Fault, StoreError};

/// Bytes a probe must be able to allocate beside the store: a write of a few articles
/// needs about this much, and SQLite can land a small transaction in the space its
/// write-ahead log already holds even when the disk is full.
const PROBE_ROOM: usize = 256 << 10;
/// The probe's scratch file in the data directory; hidden, and removed after each probe.
const PROBE_FILE: &str = ".pressfeed-probe.tmp";

/// The fault behind an SQLite error, if it is one.
pub(in crate::store) fn fault_of(e: &rusqlite::Error) -> Option<Fault> {
    use rusqlite::ErrorCode as Code;
    let rusqlite::Error::SqliteFailure(e, _) = e else {
        return None;
    };
    Some(match e.code {
        Code::DiskFull => Fault::Full,
        Code::ReadOnly | Code::PermissionDenied => Fault::ReadOnly,
        Code::SystemIoFailure | Code::CannotOpen | Code::FileLockingProtocolFailed => Fault::Io,
        Code::DatabaseBusy | Code::DatabaseLocked => Fault::Locked,
        // SQLITE_ERROR from pressfeed's fixed SQL: a table or column is not there.
        Code::DatabaseCorrupt | Code::NotADatabase | Code::Unknown => Fault::Damaged,
        _ => return None,
    })
}

/// A small transaction that reads the change log lands, and `PROBE_ROOM` bytes can be
/// allocated in the data directory beside it.
pub(super) fn probe(db: &Sqlite) -> Result<(), StoreError> {
    db.write(|tx| {
        tx.query_row("SELECT counter FROM changes", [], |_| Ok(()))?;
        // The system's time, not the `Clock`: the value only makes a write, nobody reads it.
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('probe', ?1)",
            [Utc::now().timestamp()],
        )?;
        Ok(())
    })?;
    let scratch = db.dir.join(PROBE_FILE);
    let room = std::fs::write(&scratch, vec![0u8; PROBE_ROOM]);
    let _ = std::fs::remove_file(&scratch);
    room.map_err(|source| StoreError::DataDir {
        path: db.dir.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_faults_of_the_disk_or_file_count() {
        let failure = |code| {
            StoreError::Sql(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(code),
                None,
            ))
        };
        assert_eq!(
            failure(rusqlite::ffi::SQLITE_FULL).fault(),
            Some(Fault::Full)
        );
        assert_eq!(
            failure(rusqlite::ffi::SQLITE_READONLY).fault(),
            Some(Fault::ReadOnly)
        );
        assert_eq!(
            failure(rusqlite::ffi::SQLITE_BUSY).fault(),
            Some(Fault::Locked)
        );
        assert_eq!(failure(rusqlite::ffi::SQLITE_CONSTRAINT).fault(), None);
        let io = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let e = StoreError::DataDir {
            path: "d".into(),
            source: io,
        };
        assert_eq!(e.fault(), Some(Fault::Full));
    }
}
