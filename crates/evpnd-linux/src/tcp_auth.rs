//! Session security on a BGP TCP socket: TCP-MD5 signatures (RFC 2385)
//! and the Generalized TTL Security Mechanism (GTSM, RFC 5082).
//!
//! What `libc` provides and what it lacks (the gap this module fills):
//! `libc` has the option numbers (`TCP_MD5SIG`, `TCP_MD5SIG_MAXKEYLEN`,
//! `IP_TTL`, `IP_MINTTL`, `IPV6_UNICAST_HOPS`, `IPV6_MINHOPCOUNT`,
//! `TCP_SAVE_SYN`, `TCP_SAVED_SYN`, `SO_DOMAIN`) but not `struct
//! tcp_md5sig` from `linux/tcp.h`, which is declared here; std and tokio
//! expose none of these options. Everything else is `setsockopt(2)` /
//! `getsockopt(2)` behind safe functions taking a borrowed descriptor.
//!
//! - [`set_md5_key`] / [`remove_md5_key`]: one key per peer address (or,
//!   with a prefix length, per prefix: `TCP_MD5SIG_EXT` with
//!   `TCP_MD5SIG_FLAG_PREFIX`, Linux 4.13, for listen ranges). On a
//!   listening socket the kernel keeps one entry per neighbour and copies
//!   the peer's key to the socket it accepts; on a socket about to connect,
//!   the one entry for the neighbour. A segment from that address without
//!   the right signature is dropped by the kernel before TCP processes it
//!   (RFC 2385 section 2.0), so a wrong key never completes a handshake.
//! - [`set_gtsm`]: RFC 5082 section 3: send with TTL (hop limit) 255 and
//!   drop what arrives with less than `256 - hops`.
//! - [`save_syn`] / [`saved_syn_ttl`]: on a listener shared by neighbours
//!   with different GTSM settings (or none), a minimum TTL on the listener
//!   would apply to all of them; instead the kernel keeps each connection's
//!   SYN and the TTL it arrived with is checked per neighbour after accept.

use std::io;
use std::mem::size_of;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, BorrowedFd};
use thiserror::Error;

/// Longest TCP-MD5 key Linux accepts (`TCP_MD5SIG_MAXKEYLEN`, 80 octets).
pub const MD5_MAX_KEY_LEN: usize = libc::TCP_MD5SIG_MAXKEYLEN;
/// The TTL (hop limit) a GTSM speaker sends with (RFC 5082 section 3).
pub const GTSM_TTL: u8 = 255;

/// Why a session-security option could not be set.
#[derive(Debug, Error)]
pub enum TcpAuthError {
    #[error("TCP-MD5 key of {len} octets: must be 1 to {MD5_MAX_KEY_LEN}")]
    KeyLength { len: usize },
    #[error("GTSM hop count {hops}: must be 1 to 254")]
    Hops { hops: u8 },
    #[error("{option} for {peer}: {source}")]
    Sockopt {
        option: &'static str,
        peer: IpAddr,
        #[source]
        source: io::Error,
    },
    #[error("cannot tell the socket's address family: {0}")]
    Domain(#[source] io::Error),
}

/// `struct tcp_md5sig` (linux/include/uapi/linux/tcp.h), which libc lacks.
/// With `TCP_MD5SIG` (not `_EXT`) the flags, prefix length and ifindex are
/// ignored: the key is for exactly `tcpm_addr`; with `TCP_MD5SIG_EXT` and
/// `TCP_MD5SIG_FLAG_PREFIX` it covers `tcpm_addr/tcpm_prefixlen` (the most
/// specific entry wins when several match).
#[repr(C)]
struct TcpMd5Sig {
    tcpm_addr: libc::sockaddr_storage,
    tcpm_flags: u8,
    tcpm_prefixlen: u8,
    tcpm_keylen: u16,
    tcpm_ifindex: libc::c_int,
    tcpm_key: [u8; MD5_MAX_KEY_LEN],
}

/// The socket's address family (`SO_DOMAIN`): `AF_INET` or `AF_INET6`.
fn domain(fd: BorrowedFd<'_>) -> Result<libc::c_int, TcpAuthError> {
    getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN).map_err(TcpAuthError::Domain)
}

/// `peer` as the socket's family writes it: an IPv4 peer of an IPv6
/// (dual-stack) socket is the v4-mapped address, which the kernel keys as
/// the IPv4 address.
fn sockaddr(family: libc::c_int, peer: IpAddr) -> libc::sockaddr_storage {
    // SAFETY: sockaddr_storage is plain old data; all zeroes is valid.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match (family, peer) {
        (libc::AF_INET, IpAddr::V4(v4)) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: 0,
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(v4.octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_in fits in sockaddr_storage (128 octets).
            unsafe { std::ptr::write((&raw mut storage).cast(), sin) };
        }
        (_, peer) => {
            let v6 = match peer {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: 0,
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: sockaddr_in6 fits in sockaddr_storage (128 octets).
            unsafe { std::ptr::write((&raw mut storage).cast(), sin6) };
        }
    }
    storage
}

/// [`setsockopt_raw`], the error naming the option and the peer.
fn setsockopt<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
    option: &'static str,
    peer: IpAddr,
) -> Result<(), TcpAuthError> {
    setsockopt_raw(fd, level, name, value).map_err(|source| TcpAuthError::Sockopt {
        option,
        peer,
        source,
    })
}

fn setsockopt_raw<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `value` points to a live T of `size_of::<T>()` bytes, which
    // is the layout the option expects (the callers pass c_int or
    // TcpMd5Sig); the kernel only reads it.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `TCP_MD5SIG_FLAG_PREFIX` (linux/tcp.h), which libc has only for Hurd.
const TCP_MD5SIG_FLAG_PREFIX: u8 = 1;

/// Sets (or, with an empty key, deletes) the key for `peer`, or for
/// `peer/prefix_len` when a prefix length is given.
fn md5sig(
    fd: BorrowedFd<'_>,
    peer: IpAddr,
    prefix_len: Option<u8>,
    key: &[u8],
) -> Result<(), TcpAuthError> {
    let family = domain(fd)?;
    // An IPv4 prefix on a dual-stack socket is keyed v4-mapped
    // (::ffff:a.b.c.d): 96 more bits.
    let mapped = family == libc::AF_INET6 && peer.is_ipv4();
    let (option, name, flags, prefix) = match prefix_len {
        None => (libc::TCP_MD5SIG, "TCP_MD5SIG", 0, 0),
        Some(len) => (
            libc::TCP_MD5SIG_EXT,
            "TCP_MD5SIG_EXT",
            TCP_MD5SIG_FLAG_PREFIX,
            if mapped { len.saturating_add(96) } else { len },
        ),
    };
    let mut sig = TcpMd5Sig {
        tcpm_addr: sockaddr(family, peer),
        tcpm_flags: flags,
        tcpm_prefixlen: prefix,
        tcpm_keylen: key.len() as u16,
        tcpm_ifindex: 0,
        tcpm_key: [0; MD5_MAX_KEY_LEN],
    };
    sig.tcpm_key[..key.len()].copy_from_slice(key);
    let result = setsockopt(fd, libc::IPPROTO_TCP, option, &sig, name, peer);
    // The key does not linger in this stack frame.
    sig.tcpm_key.fill(0);
    result
}

/// Sign every segment to and from `peer` with `key` (RFC 2385), on a
/// listening socket (one entry per neighbour) or on a socket before it
/// connects. Replaces a key set before for the same address.
pub fn set_md5_key(fd: BorrowedFd<'_>, peer: IpAddr, key: &[u8]) -> Result<(), TcpAuthError> {
    set_md5_prefix_key(fd, peer, None, key)
}

/// [`set_md5_key`] for every address of `network/prefix_len` (a listen
/// range) when `prefix_len` is given; a neighbour's own key, more
/// specific, wins over its range's.
pub fn set_md5_prefix_key(
    fd: BorrowedFd<'_>,
    network: IpAddr,
    prefix_len: Option<u8>,
    key: &[u8],
) -> Result<(), TcpAuthError> {
    if key.is_empty() || key.len() > MD5_MAX_KEY_LEN {
        return Err(TcpAuthError::KeyLength { len: key.len() });
    }
    md5sig(fd, network, prefix_len, key)
}

/// Remove `peer`'s key (a key length of 0 deletes the entry); removing a
/// key that is not there is not an error.
pub fn remove_md5_key(fd: BorrowedFd<'_>, peer: IpAddr) -> Result<(), TcpAuthError> {
    remove_md5_prefix_key(fd, peer, None)
}

/// [`remove_md5_key`] for the entry [`set_md5_prefix_key`] made.
pub fn remove_md5_prefix_key(
    fd: BorrowedFd<'_>,
    network: IpAddr,
    prefix_len: Option<u8>,
) -> Result<(), TcpAuthError> {
    match md5sig(fd, network, prefix_len, &[]) {
        Err(TcpAuthError::Sockopt { source, .. })
            if source.raw_os_error() == Some(libc::ENOENT) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Whether the socket carries `peer`'s traffic as IPv4 (an IPv4 socket,
/// or an IPv4 peer on a dual-stack IPv6 socket): the IP_* options apply.
fn carries_ipv4(family: libc::c_int, peer: IpAddr) -> bool {
    family == libc::AF_INET || peer.is_ipv4() || is_v4_mapped(peer)
}

fn is_v4_mapped(peer: IpAddr) -> bool {
    matches!(peer, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some())
}

/// GTSM (RFC 5082 section 3) for a session with `peer` at most `hops`
/// hops away: send with TTL (hop limit) 255 and have the kernel drop every
/// segment that arrives with less than `256 - hops` (`IP_MINTTL`,
/// `IPV6_MINHOPCOUNT`), as FRR's `neighbor X ttl-security hops N`.
pub fn set_gtsm(fd: BorrowedFd<'_>, peer: IpAddr, hops: u8) -> Result<(), TcpAuthError> {
    if hops == 0 || hops == u8::MAX {
        return Err(TcpAuthError::Hops { hops });
    }
    let min: libc::c_int = 256 - libc::c_int::from(hops);
    let ttl = libc::c_int::from(GTSM_TTL);
    if carries_ipv4(domain(fd)?, peer) {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_TTL, &ttl, "IP_TTL", peer)?;
        setsockopt(
            fd,
            libc::IPPROTO_IP,
            libc::IP_MINTTL,
            &min,
            "IP_MINTTL",
            peer,
        )
    } else {
        setsockopt(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_UNICAST_HOPS,
            &ttl,
            "IPV6_UNICAST_HOPS",
            peer,
        )?;
        setsockopt(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_MINHOPCOUNT,
            &min,
            "IPV6_MINHOPCOUNT",
            peer,
        )
    }
}

/// Send with TTL (hop limit) 255 whoever the peer is. For a listener:
/// its SYN-ACKs leave before any accept, with the listener's own TTL, and
/// the sockets it accepts inherit it; a GTSM peer (RFC 5082 section 3)
/// drops a handshake answered with less. FRR's listeners do the same.
pub fn send_with_ttl_255(fd: BorrowedFd<'_>) -> Result<(), TcpAuthError> {
    let ttl = libc::c_int::from(GTSM_TTL);
    let any = IpAddr::from([0u8; 4]);
    // IP_TTL on an IPv6 socket covers its IPv4 (v4-mapped) peers.
    setsockopt(fd, libc::IPPROTO_IP, libc::IP_TTL, &ttl, "IP_TTL", any)?;
    if domain(fd)? == libc::AF_INET6 {
        setsockopt(
            fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_UNICAST_HOPS,
            &ttl,
            "IPV6_UNICAST_HOPS",
            any,
        )?;
    }
    Ok(())
}

fn getsockopt_int(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int) -> io::Result<i32> {
    let mut value: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `value` is a c_int and `len` says so; the kernel writes at
    // most `len` bytes. A bad descriptor is reported as an error.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&raw mut value).cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

/// The minimum TTL the socket accepts for an IPv4 peer (`IP_MINTTL`; 0:
/// none) and the TTL it sends with (`IP_TTL`).
pub fn ipv4_ttls(fd: BorrowedFd<'_>) -> io::Result<(i32, i32)> {
    Ok((
        getsockopt_int(fd, libc::IPPROTO_IP, libc::IP_MINTTL)?,
        getsockopt_int(fd, libc::IPPROTO_IP, libc::IP_TTL)?,
    ))
}

/// Keep the SYN of every connection this listener accepts, for
/// [`saved_syn_ttl`] (`TCP_SAVE_SYN`, Linux 4.2).
pub fn save_syn(fd: BorrowedFd<'_>) -> io::Result<()> {
    let on: libc::c_int = 1;
    setsockopt_raw(fd, libc::IPPROTO_TCP, libc::TCP_SAVE_SYN, &on)
}

/// The TTL (IPv4) or hop limit (IPv6) the SYN of this accepted connection
/// arrived with, when its listener saved it ([`save_syn`]); `None` when
/// nothing was saved (or it was read already: the kernel hands it out
/// once).
pub fn saved_syn_ttl(fd: BorrowedFd<'_>) -> io::Result<Option<u8>> {
    let mut buf = [0u8; 512];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `buf`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_SAVED_SYN,
            buf.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(syn_ttl(&buf[..len as usize]))
}

/// The TTL / hop limit of an IP header (the saved SYN starts with it).
fn syn_ttl(header: &[u8]) -> Option<u8> {
    match header.first()? >> 4 {
        4 => header.get(8).copied(),
        6 => header.get(7).copied(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddr};
    use std::os::fd::AsFd;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpSocket};

    const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn the_struct_has_the_kernel_layout() {
        // linux/tcp.h: sockaddr_storage (128) + 1 + 1 + 2 + 4 + 80.
        assert_eq!(size_of::<TcpMd5Sig>(), 216);
    }

    #[test]
    fn ttl_of_an_ip_header() {
        let mut v4 = [0u8; 20];
        v4[0] = 0x45;
        v4[8] = 254;
        assert_eq!(syn_ttl(&v4), Some(254));
        let mut v6 = [0u8; 40];
        v6[0] = 0x60;
        v6[7] = 253;
        assert_eq!(syn_ttl(&v6), Some(253));
        assert_eq!(syn_ttl(&[]), None);
    }

    async fn listener(key: Option<&[u8]>) -> TcpListener {
        let socket = TcpSocket::new_v4().unwrap();
        if let Some(key) = key {
            set_md5_key(socket.as_fd(), LO, key).unwrap();
        }
        save_syn(socket.as_fd()).unwrap();
        send_with_ttl_255(socket.as_fd()).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        socket.listen(16).unwrap()
    }

    /// Connects with `key` (or none) and exchanges a byte within 1.5 s.
    async fn talks(addr: SocketAddr, listener: &TcpListener, key: Option<&[u8]>) -> bool {
        let socket = TcpSocket::new_v4().unwrap();
        if let Some(key) = key {
            set_md5_key(socket.as_fd(), LO, key).unwrap();
        }
        let exchange = async {
            let mut client = socket.connect(addr).await?;
            let (mut server, _) = listener.accept().await?;
            client.write_all(b"x").await?;
            let mut b = [0u8; 1];
            server.read_exact(&mut b).await?;
            io::Result::Ok(())
        };
        matches!(
            tokio::time::timeout(Duration::from_millis(1500), exchange).await,
            Ok(Ok(()))
        )
    }

    #[tokio::test]
    async fn md5_matching_keys_connect_and_others_do_not() {
        let l = listener(Some(b"s3cret")).await;
        let addr = l.local_addr().unwrap();
        assert!(talks(addr, &l, Some(b"s3cret")).await, "same key");
        assert!(!talks(addr, &l, Some(b"wrong")).await, "other key");
        assert!(!talks(addr, &l, None).await, "no key");
        // Key removed from the listener: an unsigned connection works again.
        remove_md5_key(l.as_fd(), LO).unwrap();
        remove_md5_key(l.as_fd(), LO).unwrap();
        assert!(talks(addr, &l, None).await, "key removed");
    }

    #[tokio::test]
    async fn a_prefix_key_signs_every_address_of_the_range() {
        let socket = TcpSocket::new_v4().unwrap();
        set_md5_prefix_key(
            socket.as_fd(),
            "127.0.0.0".parse().unwrap(),
            Some(8),
            b"range",
        )
        .unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let l = socket.listen(16).unwrap();
        let addr = l.local_addr().unwrap();
        assert!(talks(addr, &l, Some(b"range")).await, "the range's key");
        assert!(!talks(addr, &l, None).await, "no key");
        // The exact key of one address wins over its range's.
        set_md5_key(l.as_fd(), LO, b"own").unwrap();
        assert!(talks(addr, &l, Some(b"own")).await, "own key");
        assert!(
            !talks(addr, &l, Some(b"range")).await,
            "range key for that address"
        );
        remove_md5_key(l.as_fd(), LO).unwrap();
        remove_md5_prefix_key(l.as_fd(), "127.0.0.0".parse().unwrap(), Some(8)).unwrap();
        remove_md5_prefix_key(l.as_fd(), "127.0.0.0".parse().unwrap(), Some(8)).unwrap();
        assert!(talks(addr, &l, None).await, "both removed");
    }

    #[test]
    fn key_lengths() {
        let s = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(matches!(
            set_md5_key(s.as_fd(), LO, &[]),
            Err(TcpAuthError::KeyLength { len: 0 })
        ));
        assert!(set_md5_key(s.as_fd(), LO, &[b'k'; 81]).is_err());
        set_md5_key(s.as_fd(), LO, &[b'k'; 80]).unwrap();
    }

    #[test]
    fn gtsm_options_read_back() {
        let s = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        set_gtsm(s.as_fd(), LO, 1).unwrap();
        assert_eq!(ipv4_ttls(s.as_fd()).unwrap(), (255, 255));
        set_gtsm(s.as_fd(), LO, 2).unwrap();
        assert_eq!(ipv4_ttls(s.as_fd()).unwrap(), (254, 255));
        assert!(set_gtsm(s.as_fd(), LO, 0).is_err());
        assert!(set_gtsm(s.as_fd(), LO, 255).is_err());
    }

    #[tokio::test]
    async fn the_saved_syn_tells_the_ttl() {
        let l = listener(None).await;
        let addr = l.local_addr().unwrap();
        let client = TcpSocket::new_v4().unwrap();
        set_gtsm(client.as_fd(), LO, 1).unwrap();
        let _c = client.connect(addr).await.unwrap();
        let (server, _) = l.accept().await.unwrap();
        // Loopback does not decrement: sent with 255, arrived with 255.
        assert_eq!(saved_syn_ttl(server.as_fd()).unwrap(), Some(255));
        // Handed out once.
        assert_eq!(saved_syn_ttl(server.as_fd()).unwrap(), None);
        // The accepted socket sends with the listener's 255, no minimum.
        assert_eq!(ipv4_ttls(server.as_fd()).unwrap(), (0, 255));
    }

    #[test]
    fn dual_stack_socket_takes_an_ipv4_peer_as_mapped() {
        let Ok(s) = std::net::TcpListener::bind("[::1]:0") else {
            return; // no IPv6 on this host
        };
        set_md5_key(s.as_fd(), LO, b"k").unwrap();
        remove_md5_key(s.as_fd(), LO).unwrap();
        set_md5_key(s.as_fd(), "::1".parse().unwrap(), b"k").unwrap();
        set_gtsm(s.as_fd(), "::1".parse().unwrap(), 1).unwrap();
    }
}
