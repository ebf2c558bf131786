//! Whether the store works: the faults that keep it from working (`Fault`), the one in
//! force with the error that showed it (`Outage`), and `StoreHealth`, shared by every
//! handle. Which backend error is which fault is the backend's to say.

use std::sync::Arc;

use arc_swap::ArcSwapOption;

use super::StoreError;

/// What keeps the store from working, in words an operator can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Full,
    ReadOnly,
    Io,
    Locked,
    Damaged,
    /// The database server cannot be reached, or is shutting down.
    Unreachable,
}

impl Fault {
    pub(super) fn of_io(e: &std::io::Error) -> Fault {
        use std::io::ErrorKind as Kind;
        match e.kind() {
            Kind::StorageFull | Kind::QuotaExceeded => Fault::Full,
            Kind::ReadOnlyFilesystem | Kind::PermissionDenied => Fault::ReadOnly,
            _ => Fault::Io,
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fault::Full => "the disk holding the store is full",
            Fault::ReadOnly => "the store is read-only",
            Fault::Io => "the store's file cannot be read or written (I/O error)",
            Fault::Locked => "the store is locked by another process",
            Fault::Damaged => "the store's file is damaged or not as pressfeed made it",
            Fault::Unreachable => "the store's database server cannot be reached",
        })
    }
}

/// A fault in force and the error that showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub(crate) fault: Fault,
    /// The underlying error, e.g. `database or disk is full`.
    pub detail: String,
}

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.fault, self.detail)
    }
}

/// Whether the store works, shared by every handle on it: readiness reads it, every store
/// call that fails by a fault sets it, and only a passing `Store::probe` clears it (a read
/// that works says nothing about writes, and a small write may land on a full disk).
#[derive(Clone, Default)]
pub struct StoreHealth {
    // ArcSwapOption: `/readyz` reads it with a few atomic operations, never waiting on a
    // store call in progress.
    outage: Arc<ArcSwapOption<Outage>>,
}

impl StoreHealth {
    /// `None` while the store works.
    pub fn outage(&self) -> Option<Arc<Outage>> {
        self.outage.load_full()
    }

    pub(super) fn note(&self, e: &StoreError) {
        if let Some(fault) = e.fault() {
            let outage = Outage {
                fault,
                detail: e.to_string(),
            };
            if self.outage().as_deref() != Some(&outage) {
                tracing::error!(problem = %outage, "the store is degraded");
            }
            self.outage.store(Some(Arc::new(outage)));
        }
    }

    pub(super) fn clear(&self) {
        if self.outage.swap(None).is_some() {
            tracing::info!("the store works again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::seeded;
    use super::*;

    #[test]
    fn a_fault_degrades_the_store_until_a_probe_passes() {
        let (_dir, store) = seeded();
        let health = store.health();
        assert!(health.outage().is_none());
        store.simulate_io_error(true);
        let e = store.article_count().unwrap_err();
        assert_eq!(e.fault(), Some(Fault::Io));
        assert_eq!(health.outage().unwrap().fault, Fault::Io);
        assert!(store.probe().is_err());
        store.simulate_io_error(false);
        store.article_count().unwrap();
        assert!(health.outage().is_some(), "a read does not clear a fault");
        store.probe().unwrap();
        assert!(health.outage().is_none());
    }
}
