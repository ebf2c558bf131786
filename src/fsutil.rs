//! Crash-safe file replacement: the one way pressfeed writes a file that something else may
//! be reading (a feed a CDN syncs, a section file `sections export` writes, a backup of the
//! store, the store a restore puts in place). Nothing else here.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Replaces `path` with `bytes` so that a reader sees the old file or the new one, never
/// half of either, and so that the new one survives a power loss once this returns: a temp
/// file in the same directory (a rename is only atomic within one file system), written and
/// fsynced, renamed over `path`, then the directory fsynced so the rename itself is durable.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_with(path, |tmp| {
        let mut file = File::create(tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })
}

/// `write_atomically` for a file that something else writes: `write` makes the file at
/// the temp path it is given, whole and synced (or fails), and only then is it renamed
/// over `path`.
pub fn replace_with<E: From<io::Error>>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let tmp = temp_path(path)?;
    let written = write(&tmp).and_then(|()| Ok(std::fs::rename(&tmp, path)?));
    if written.is_err() {
        // Best effort: a leftover temp file is harmless (its name never ends in `.toml`),
        // but litter is not.
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    Ok(sync_parent(path)?)
}

/// A name no concurrent writer in this process or another uses: hidden, and ending in
/// `.tmp` so that directory scans for `*.toml` or feed names never pick it up.
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let unique = NEXT.fetch_add(1, Ordering::Relaxed);
    Ok(path.with_file_name(format!(".{name}.{}.{unique}.tmp", std::process::id())))
}

fn sync_parent(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        File::open(parent)?.sync_all()
    }
    // Windows cannot open a directory as a file; NTFS journals the rename itself.
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("world.toml");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["world.toml"]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir/world.toml");
        assert!(write_atomically(&path, b"x").is_err());
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }
}
