//! Feed bodies the kernel sends without copying them, as nginx sends a file.
//!
//! Writing a large feed from memory makes the kernel copy it into socket buffers, the
//! largest share of the server's CPU on uncompressed 200s (BENCHMARKS.md, "What changed
//! this round"). So each large body is also kept
//! in a file of its own, and the connection sends a write of such a body with
//! `sendfile(2)`, which hands the file's cached pages to the socket. hyper only ever sees
//! ordinary bytes: the connection recognises a body by the address of the slice hyper
//! writes, looked up in a table of the bodies alive. Linux only, like the service.
//!
//! The file is an unnamed one (`O_TMPFILE`) in the temporary directory: on a disk file
//! system its page cache comes in large folios, which `sendfile` moves with less work per
//! byte than a memory file's 4 KB pages (measured in BENCHMARKS.md). Where the directory
//! cannot hold one, a sealed memory file
//! (`memfd`) is used, and where neither can be made the body is sent by copying.
//!
//! Both copies are written once, from the same bytes, and neither changes afterwards: the
//! heap copy is never handed out mutably, and the file has no name, is open only here and
//! is never written again (a memory file is also sealed against writes). The file's pages
//! are page cache (or shared memory), not part of the process's resident set.

use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll, ready};

use arc_swap::ArcSwap;
use bytes::Bytes;
use rustix::fs::{MemfdFlags, Mode, OFlags, SealFlags};
use rustix::io::Errno;
use rustix::net::SendFlags;
use tokio::io::Interest;
use tokio::net::TcpStream;

/// Smaller bodies are copied: for a gzip-sized feed a copy cost less server CPU per request
/// than `sendfile` (BENCHMARKS.md).
pub const MIN_LEN: usize = 64 << 10;

/// The bodies alive, sorted by address. Read on every large write, changed only when a
/// feed is built or dropped.
static BODIES: LazyLock<ArcSwap<Vec<Region>>> = LazyLock::new(ArcSwap::default);

#[derive(Clone)]
struct Region {
    start: usize,
    len: usize,
    file: Arc<OwnedFd>,
}

/// The owner of a sendable body's bytes, while they are in the table.
struct Sendable {
    bytes: Bytes,
}

impl AsRef<[u8]> for Sendable {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Sendable {
    fn drop(&mut self) {
        // Before the memory is freed, so no lookup can find a later allocation there.
        let start = self.bytes.as_ptr() as usize;
        BODIES.rcu(|bodies| {
            let mut bodies = Vec::clone(bodies);
            bodies.retain(|r| r.start != start);
            bodies
        });
    }
}

/// `body`, sendable with `sendfile` when it is at least `MIN_LEN` long. Where no file can
/// be made for it, the body stays as it is: served by copying.
pub fn sendable(body: Bytes) -> Bytes {
    if body.len() < MIN_LEN {
        return body;
    }
    match body_file(&std::env::temp_dir(), &body) {
        Ok(file) => {
            let region = Region {
                start: body.as_ptr() as usize,
                len: body.len(),
                file: Arc::new(file),
            };
            BODIES.rcu(|bodies| {
                let mut bodies = Vec::clone(bodies);
                let at = bodies.partition_point(|r| r.start < region.start);
                bodies.insert(at, region.clone());
                bodies
            });
            Bytes::from_owner(Sendable { bytes: body })
        }
        Err(e) => {
            tracing::debug!(error = %e, "no file for a body: it is sent by copying");
            body
        }
    }
}

/// A file holding `data`: unnamed in `dir`, or else a sealed memory file.
fn body_file(dir: &Path, data: &[u8]) -> io::Result<OwnedFd> {
    let unnamed = rustix::fs::open(
        dir,
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::RUSR | Mode::WUSR,
    );
    let (fd, sealable) = match unnamed {
        Ok(fd) => (fd, false),
        Err(_) => {
            let flags = MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING;
            (rustix::fs::memfd_create("pressfeed-body", flags)?, true)
        }
    };
    let mut file = File::from(fd);
    file.write_all(data)?;
    if sealable {
        rustix::fs::fcntl_add_seals(
            &file,
            SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL,
        )?;
    }
    Ok(file.into())
}

/// The file holding `slice`, and where in it `slice` begins, if `slice` lies in a
/// sendable body. The file stays open while the body's owner is alive, which it is as long
/// as `slice` may be read.
fn file_of(slice: &[u8]) -> Option<(Arc<OwnedFd>, u64)> {
    if slice.len() < MIN_LEN {
        return None;
    }
    let start = slice.as_ptr() as usize;
    let bodies = BODIES.load();
    let region = &bodies[bodies
        .partition_point(|r| r.start <= start)
        .checked_sub(1)?];
    (start + slice.len() <= region.start + region.len)
        .then(|| (region.file.clone(), (start - region.start) as u64))
}

/// `poll_write_vectored` on `tcp`, sending a sendable body in `data` with `sendfile`: the
/// slices before it go first (held back with `MSG_MORE` so that head and body leave in
/// the same packets), then as much of the body as the socket takes. Slices after it wait
/// for the next call, as a short write allows.
pub fn poll_write_vectored(
    tcp: &TcpStream,
    cx: &mut Context<'_>,
    data: &[IoSlice<'_>],
) -> Option<Poll<io::Result<usize>>> {
    let (at, (file, offset)) = data
        .iter()
        .enumerate()
        .find_map(|(i, s)| Some((i, file_of(s)?)))?;
    let (head, body_len) = (&data[..at], data[at].len());
    Some(poll_send(tcp, cx, || {
        send(tcp.as_fd(), head, file.as_fd(), offset, body_len)
    }))
}

fn poll_send(
    tcp: &TcpStream,
    cx: &mut Context<'_>,
    mut send: impl FnMut() -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    loop {
        ready!(tcp.poll_write_ready(cx))?;
        match tcp.try_io(Interest::WRITABLE, &mut send) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            result => return Poll::Ready(result),
        }
    }
}

/// One attempt: `head`, then `len` bytes of `file` from `offset`. Would-block only when
/// nothing was sent.
fn send(
    socket: BorrowedFd<'_>,
    head: &[IoSlice<'_>],
    file: BorrowedFd<'_>,
    mut offset: u64,
    len: usize,
) -> io::Result<usize> {
    let head_len: usize = head.iter().map(|s| s.len()).sum();
    if head_len > 0 {
        let flags = SendFlags::MORE | SendFlags::NOSIGNAL;
        let sent = rustix::net::sendmsg(socket, head, &mut Default::default(), flags)?;
        if sent < head_len {
            return Ok(sent);
        }
    }
    match rustix::fs::sendfile(socket, file, Some(&mut offset), len) {
        Ok(sent) => Ok(head_len + sent),
        Err(Errno::AGAIN) if head_len > 0 => Ok(head_len),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileExt;

    use super::*;

    #[test]
    fn large_bodies_are_found_by_address_and_forgotten_when_dropped() {
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        let body = sendable(Bytes::from(data.clone()));
        assert_eq!(body, data);
        let (file, offset) = file_of(&body[1000..1000 + MIN_LEN]).expect("inside the body");
        assert_eq!(offset, 1000);
        let file = File::from(file.try_clone().unwrap());
        let mut copy = vec![0; data.len()];
        file.read_exact_at(&mut copy, 0).unwrap();
        assert_eq!(copy, data, "the file holds the same bytes");

        assert!(
            file_of(&body[..MIN_LEN - 1]).is_none(),
            "too short to look up"
        );
        assert!(file_of(&data[..MIN_LEN]).is_none(), "other memory");
        let start = body.as_ptr() as usize;
        drop(body);
        assert!(BODIES.load().iter().all(|r| r.start != start));
    }

    #[test]
    fn without_a_directory_a_body_is_a_sealed_memory_file() {
        let data = vec![1; 1000];
        let file = File::from(body_file(Path::new("/nonexistent"), &data).unwrap());
        let link = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).unwrap();
        assert!(link.to_string_lossy().starts_with("/memfd:pressfeed-body"));
        let mut copy = vec![0; data.len()];
        file.read_exact_at(&mut copy, 0).unwrap();
        assert_eq!(copy, data);
        assert!((&file).write_all(b"x").is_err(), "sealed");
    }

    #[test]
    fn small_bodies_stay_as_they_are() {
        let body = Bytes::from(vec![7; MIN_LEN - 1]);
        let ptr = body.as_ptr();
        assert_eq!(sendable(body).as_ptr(), ptr);
    }
}
