//! File descriptors that survive `exec` (ADR 0010, `evpnd upgrade`): the
//! running daemon hands its established BGP sessions' TCP sockets to the
//! binary it executes in its place, so no peer ever sees the session end.
//! std opens every descriptor close-on-exec and has no safe way to change
//! that or to adopt a descriptor number, so these two wrappers around
//! fcntl(2) are the only unsafe code the hand-over needs.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Clears FD_CLOEXEC on `fd`: it stays open in the image `exec` loads.
pub fn keep_across_exec(fd: BorrowedFd<'_>) -> io::Result<()> {
    set_cloexec(fd.as_raw_fd(), false)
}

/// Adopts descriptor `raw`, inherited across `exec`: it must be open and
/// not one of the standard streams. It is made close-on-exec again, so a
/// later `exec` does not leak it unless handed over again.
pub fn take_inherited(raw: RawFd) -> io::Result<OwnedFd> {
    if raw <= 2 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("descriptor {raw} is a standard stream, not a handed-over socket"),
        ));
    }
    set_cloexec(raw, true)?;
    // SAFETY: `raw` is open (fcntl succeeded on it), and the hand-over
    // state names each descriptor once, so nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn set_cloexec(raw: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: F_GETFD/F_SETFD only read and write the descriptor's flags;
    // an invalid descriptor is reported as EBADF.
    let flags = unsafe { libc::fcntl(raw, libc::F_GETFD) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let wanted = if on {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(raw, libc::F_SETFD, wanted) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsFd, IntoRawFd};

    fn cloexec(fd: RawFd) -> bool {
        // SAFETY: reads the flags of a descriptor the test owns.
        unsafe { libc::fcntl(fd, libc::F_GETFD) & libc::FD_CLOEXEC != 0 }
    }

    #[test]
    fn a_socket_kept_across_exec_is_adopted_again_close_on_exec() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(cloexec(listener.as_raw_fd()), "std's default");
        keep_across_exec(listener.as_fd()).unwrap();
        assert!(!cloexec(listener.as_raw_fd()));
        let raw = listener.into_raw_fd();
        let adopted = take_inherited(raw).unwrap();
        assert!(cloexec(adopted.as_raw_fd()));
        // It is the same socket.
        let back = std::net::TcpListener::from(adopted);
        assert!(back.local_addr().unwrap().port() > 0);
    }

    #[test]
    fn closed_and_standard_descriptors_are_refused() {
        // Far above any descriptor a test process opens (a closed one of
        // ours could be reused by a test running in parallel).
        let err = take_inherited(1 << 20).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBADF));
        assert!(take_inherited(1).is_err());
    }
}
