//! The PostgreSQL side of the store's health: which errors are faults of the database
//! server or the way to it, and the probe that shows writes land again.

use chrono::Utc;
use tokio_postgres::error::SqlState;

use super::Postgres;
use crate::store::{Fault, StoreError};

/// The fault behind a PostgreSQL error, if it is one: the server cannot be reached or went
/// away, its disk is full, it is a read-only standby, or a lock waits too long. A refused
/// statement (a bug, bad data) is not a fault.
pub(in crate::store) fn fault_of(e: &tokio_postgres::Error) -> Option<Fault> {
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection failed or closed, or the server's answer was cut.
        return Some(Fault::Unreachable);
    };
    Some(match code {
        c if *c == SqlState::DISK_FULL => Fault::Full,
        c if *c == SqlState::READ_ONLY_SQL_TRANSACTION => Fault::ReadOnly,
        c if *c == SqlState::LOCK_NOT_AVAILABLE || *c == SqlState::QUERY_CANCELED => Fault::Locked,
        c if *c == SqlState::DATA_CORRUPTED || *c == SqlState::INDEX_CORRUPTED => Fault::Damaged,
        c if *c == SqlState::UNDEFINED_TABLE || *c == SqlState::UNDEFINED_COLUMN => Fault::Damaged,
        c if c.code().starts_with("08") // connection exception
            || c.code().starts_with("53") // insufficient resources
            || c.code().starts_with("57") // operator intervention: shutdown, crash
            || c.code().starts_with("58") =>
        // system error: I/O
        {
            Fault::Unreachable
        }
        _ => return None,
    })
}

/// A small transaction that reads the change log lands.
pub(super) fn probe(db: &Postgres) -> Result<(), StoreError> {
    db.write(async |tx| {
        tx.query_one("SELECT counter FROM changes", &[]).await?;
        // The system's time, not the `Clock`: the value only makes a write, nobody reads it.
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('probe', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&Utc::now().timestamp()],
        )
        .await?;
        Ok(())
    })
}
