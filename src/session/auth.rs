//! Session security on the daemon's BGP sockets (issue 14): TCP-MD5
//! signatures (RFC 2385, `neighbors[].password`) and GTSM (RFC 5082,
//! `neighbors[].ttl_security`), carried out by `evpnd_linux::tcp_auth`.
//!
//! - Listening sockets are created with a key for every neighbour and every
//!   listen range (a prefix key) that has a password before they listen,
//!   so no connection from such a peer is ever accepted unsigned;
//!   [`ListenerKeys::sync`] adds and removes keys after a reload. The
//!   kernel copies the peer's key to the socket it accepts.
//! - Outgoing connections get the neighbour's key and GTSM options before
//!   `connect` ([`prepare_connect`]), so the SYN is signed and sent with
//!   TTL 255.
//! - Accepted connections ([`accepted`]): RFC 5082 section 3 drops every
//!   packet from a protected peer whose TTL is below 255 - (hops - 1). A
//!   minimum TTL on the shared listener would apply to every neighbour
//!   (and refuse the multihop ones without `ttl_security`), so the
//!   listener saves each SYN and the TTL it arrived with is checked per
//!   neighbour before a byte of the connection is read; the accepted socket
//!   then gets `IP_MINTTL` for everything after the handshake. The
//!   listener sends with TTL 255 (its SYN-ACKs leave before any accept,
//!   with its TTL; a GTSM peer drops less), and so does every socket it
//!   accepts, as FRR's listeners. FRR 8.4 sets the minimum only after accept (its
//!   `bgp_set_socket_ttl`); the SYN check is ours.
//! - `evpnd upgrade` hands the established sockets over as they are: their
//!   key and TTL options are the kernel's, so they survive the `exec`.

use crate::config::{Config, NeighborConfig, Secret};
use evpnd_linux::tcp_auth::{self, TcpAuthError};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};
use thiserror::Error;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tracing::{info, warn};

/// Backlog of the BGP listening sockets (what tokio's `bind` uses).
const LISTEN_BACKLOG: u32 = 1024;

/// Why an accepted connection is refused before BGP sees it.
#[derive(Debug, Error)]
pub enum Refused {
    /// RFC 5082 section 3: the peer is farther than its trust radius.
    #[error(
        "its SYN arrived with TTL {ttl}, below {min} (ttl_security {hops}, RFC 5082 section 3)"
    )]
    Gtsm { ttl: u8, min: u16, hops: u8 },
    #[error(transparent)]
    Socket(#[from] TcpAuthError),
}

/// The lowest TTL RFC 5082 section 3 accepts from a peer `hops` away:
/// 255 - (hops - 1).
pub fn min_ttl(hops: u8) -> u16 {
    256 - u16::from(hops)
}

/// Options of a socket about to connect to `n` (RFC 2385 key, RFC 5082
/// TTL 255 and minimum TTL).
pub fn prepare_connect(socket: &TcpSocket, n: &SocketSecurity) -> io::Result<()> {
    if let Some(key) = &n.password {
        tcp_auth::set_md5_key(socket.as_fd(), n.address, key.expose()).map_err(io::Error::other)?;
    }
    if let Some(hops) = n.ttl_security {
        tcp_auth::set_gtsm(socket.as_fd(), n.address, hops).map_err(io::Error::other)?;
    }
    Ok(())
}

/// What a socket for one neighbour needs, cloned into the connect task.
#[derive(Debug, Clone)]
pub struct SocketSecurity {
    pub address: IpAddr,
    pub password: Option<Secret>,
    pub ttl_security: Option<u8>,
}

impl SocketSecurity {
    pub fn of(n: &NeighborConfig) -> Self {
        Self {
            address: n.address,
            password: n.password.clone(),
            ttl_security: n.ttl_security,
        }
    }
}

/// Checks and prepares a connection accepted from neighbour `n`: the
/// SYN's TTL against `ttl_security`, then TTL 255 and the minimum TTL on
/// the socket. The MD5 key needs nothing here: the kernel verified the
/// handshake with the listener's key and the socket inherited it.
pub fn accepted(stream: &TcpStream, n: &NeighborConfig) -> Result<(), Refused> {
    // Read for every connection: the kernel frees the saved SYN then.
    let syn_ttl = tcp_auth::saved_syn_ttl(stream.as_fd()).unwrap_or(None);
    let Some(hops) = n.ttl_security else {
        return Ok(());
    };
    let min = min_ttl(hops);
    if let Some(ttl) = syn_ttl
        && u16::from(ttl) < min
    {
        return Err(Refused::Gtsm { ttl, min, hops });
    }
    tcp_auth::set_gtsm(stream.as_fd(), n.address, hops)?;
    Ok(())
}

/// Where a listener key applies: one neighbour's address (`None`), or a
/// listen range's network and prefix length.
type KeyScope = (IpAddr, Option<u8>);

/// The TCP-MD5 keys `config` puts on the listeners: each neighbour's and
/// each listen range's that has a password.
fn md5_keys(config: &Config) -> HashMap<KeyScope, Secret> {
    let neighbors = config
        .neighbors
        .iter()
        .filter_map(|n| Some(((n.address, None), n.password.clone()?)));
    let ranges = config.listen_ranges.iter().filter_map(|r| {
        let scope = (r.prefix.network(), Some(r.prefix.prefix()));
        Some((scope, r.template.password.clone()?))
    });
    neighbors.chain(ranges).collect()
}

/// Binds a BGP listener with the key of every neighbour and listen range
/// that has a password (before `listen`, so none connects unsigned) and
/// SYN saving for the GTSM check.
pub fn bind_listener(addr: SocketAddr, config: &Config) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    for ((peer, prefix_len), key) in md5_keys(config) {
        if serves(addr, peer) {
            tcp_auth::set_md5_prefix_key(socket.as_fd(), peer, prefix_len, key.expose())
                .map_err(io::Error::other)?;
        }
    }
    // SYN-ACKs and accepted sockets with TTL 255, as RFC 5082 section 3
    // wants for a GTSM peer's handshake (FRR's listeners do the same).
    tcp_auth::send_with_ttl_255(socket.as_fd()).map_err(io::Error::other)?;
    if let Err(e) = tcp_auth::save_syn(socket.as_fd()) {
        warn!(%addr, error = %e, "cannot save SYNs: the TTL of an accepted handshake is not checked (ttl_security)");
    }
    socket.listen(LISTEN_BACKLOG)
}

/// Whether a listener on `listen` can accept `peer` (an IPv4 listener takes
/// only IPv4 peers; an IPv6 one both, IPv4 as v4-mapped).
fn serves(listen: SocketAddr, peer: IpAddr) -> bool {
    listen.is_ipv6() || peer.is_ipv4()
}

/// The keys installed on the listening sockets, kept in step with the
/// configured neighbours and listen ranges across reloads.
pub struct ListenerKeys {
    /// A duplicate of each listener's descriptor (the same socket).
    listeners: Vec<(SocketAddr, OwnedFd)>,
    installed: HashMap<KeyScope, Secret>,
}

impl ListenerKeys {
    /// The listeners as [`bind_listener`] made them for `config`.
    pub fn new(listeners: &[TcpListener], config: &Config) -> io::Result<Self> {
        let listeners = listeners
            .iter()
            .map(|l| Ok((l.local_addr()?, l.as_fd().try_clone_to_owned()?)))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Self {
            listeners,
            installed: md5_keys(config),
        })
    }

    /// Adds, replaces and removes keys so the listeners hold exactly the
    /// passwords of `config`'s neighbours and listen ranges. A failure is
    /// logged: that peer's connections in are refused by the kernel until
    /// the next reload.
    pub fn sync(&mut self, config: &Config) {
        let wanted = md5_keys(config);
        for (addr, fd) in &self.listeners {
            for &(peer, prefix_len) in self.installed.keys() {
                if !wanted.contains_key(&(peer, prefix_len))
                    && serves(*addr, peer)
                    && let Err(e) = tcp_auth::remove_md5_prefix_key(fd.as_fd(), peer, prefix_len)
                {
                    warn!(listen = %addr, %peer, ?prefix_len, error = %e, "cannot remove the TCP-MD5 key from the listener");
                }
            }
            for (&(peer, prefix_len), key) in &wanted {
                if self.installed.get(&(peer, prefix_len)) != Some(key) && serves(*addr, peer) {
                    match tcp_auth::set_md5_prefix_key(fd.as_fd(), peer, prefix_len, key.expose()) {
                        Ok(()) => {
                            info!(listen = %addr, %peer, ?prefix_len, "TCP-MD5 key set on the listener")
                        }
                        Err(e) => {
                            warn!(listen = %addr, %peer, ?prefix_len, error = %e, "cannot set the TCP-MD5 key on the listener")
                        }
                    }
                }
            }
        }
        self.installed = wanted;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_radius() {
        // RFC 5082 section 3: one hop accepts 255 only.
        assert_eq!(min_ttl(1), 255);
        assert_eq!(min_ttl(2), 254);
        assert_eq!(min_ttl(254), 2);
    }

    #[test]
    fn listener_families() {
        let v4: SocketAddr = "0.0.0.0:179".parse().unwrap();
        let v6: SocketAddr = "[::]:179".parse().unwrap();
        assert!(serves(v4, "198.19.0.1".parse().unwrap()));
        assert!(!serves(v4, "2001:db8::1".parse().unwrap()));
        assert!(serves(v6, "198.19.0.1".parse().unwrap()));
    }
}
