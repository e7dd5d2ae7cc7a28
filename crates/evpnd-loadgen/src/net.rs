//! Sockets: an outgoing connection bound to a chosen local address (the
//! harness peers from 198.18.16.x), as evpn-blast.py's `open_session`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpSocket, TcpStream};

/// Connects to `remote` from `local` (any when `None`), with SO_REUSEADDR
/// and TCP_NODELAY, giving up after `timeout`.
pub async fn connect(
    local: Option<IpAddr>,
    remote: SocketAddr,
    timeout: Duration,
) -> io::Result<TcpStream> {
    let sock = if remote.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    sock.set_reuseaddr(true)?;
    if let Some(l) = local {
        sock.bind(SocketAddr::new(l, 0))?;
    }
    let s = tokio::time::timeout(timeout, sock.connect(remote))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "timed out"))??;
    s.set_nodelay(true)?;
    Ok(s)
}

/// `base + off` for IPv4 (evpn-blast.py's `ip_add`).
pub fn ip_add(base: std::net::Ipv4Addr, off: u64) -> Option<std::net::Ipv4Addr> {
    u32::try_from(u64::from(u32::from(base)) + off)
        .ok()
        .map(Into::into)
}

/// An address option as evpn-blast.py takes it: '' means any.
pub fn parse_opt_addr(s: &str) -> Result<Option<IpAddr>, std::net::AddrParseError> {
    if s.is_empty() {
        Ok(None)
    } else {
        s.parse().map(Some)
    }
}
