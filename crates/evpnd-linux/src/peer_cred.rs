//! Who is at the other end of a Unix stream socket, beyond what
//! `SO_PEERCRED` (tokio's `UnixStream::peer_cred`) says: the peer's
//! supplementary groups, for the control socket's `admin_group` check.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Supplementary groups the kernel allows a process (`NGROUPS_MAX` on
/// Linux since 2.6.4): no answer is longer.
const MAX_GROUPS: usize = 65536;

/// The supplementary group IDs of the process that connected (or created
/// the pair) at the other end of this Unix stream socket, as they were at
/// connect() time (`SO_PEERGROUPS`, Linux 4.13).
///
/// Read from the socket rather than from `/proc/<pid>/status`: the kernel
/// took them together with `SO_PEERCRED`'s uid and gid when the peer
/// connected, so they describe the same moment and the same process,
/// whereas the pid may have exited (or been reused) by the time /proc is
/// read, may name nothing in our pid namespace, and the process may have
/// changed its groups since.
///
/// An older kernel answers `ENOPROTOOPT`; the caller then has the primary
/// gid only.
pub fn peer_groups(fd: BorrowedFd<'_>) -> io::Result<Vec<u32>> {
    // Most users are in a handful of groups; the kernel says how many
    // there are when the buffer is too small (ERANGE), and we ask again.
    let mut groups: Vec<libc::gid_t> = vec![0; 32];
    loop {
        let mut len = std::mem::size_of_val(groups.as_slice()) as libc::socklen_t;
        // SAFETY: `groups` has room for `len` bytes and the kernel writes
        // at most that many, then sets `len` to what it wrote (or, with
        // ERANGE, to what it needs). A bad descriptor is an error return.
        let rc = unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_PEERGROUPS,
                groups.as_mut_ptr().cast(),
                &mut len,
            )
        };
        let count = len as usize / size_of::<libc::gid_t>();
        if rc == 0 {
            groups.truncate(count);
            return Ok(groups);
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::ERANGE) || count <= groups.len() || count > MAX_GROUPS
        {
            return Err(error);
        }
        groups.resize(count, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    /// Our own supplementary groups, as getgroups(2) reports them.
    fn own_groups() -> Vec<u32> {
        // SAFETY: with size 0 getgroups only counts; then it writes at
        // most `n` gids into a buffer of `n`.
        let n = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
        assert!(n >= 0);
        let mut groups = vec![0; n as usize];
        // SAFETY: as above.
        let n = unsafe { libc::getgroups(n, groups.as_mut_ptr()) };
        assert!(n >= 0);
        groups.truncate(n as usize);
        groups
    }

    #[test]
    fn the_peer_of_a_pair_has_our_groups() {
        let (a, _b) = UnixStream::pair().unwrap();
        let mut peer = peer_groups(a.as_fd()).unwrap();
        let mut own = own_groups();
        peer.sort_unstable();
        own.sort_unstable();
        own.dedup();
        peer.dedup();
        assert_eq!(peer, own);
    }

    #[test]
    fn a_socket_that_is_not_unix_is_an_error() {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert!(peer_groups(udp.as_fd()).is_err());
    }
}
