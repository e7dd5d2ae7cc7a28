//! Dynamic neighbours (issue 14): sessions accepted from the addresses of a
//! `[[listen_ranges]]` prefix, as a reflector for hundreds of VTEPs is
//! configured (FRR's `bgp listen range`).
//!
//! - A connection from an address that is no neighbour but falls in a
//!   range becomes a neighbour configured as the range's template says
//!   (always passive), with its own session task and Adj-RIB-In, listed in
//!   `show neighbors` with its range. It counts against the range's
//!   `max_sessions`; past it the connection gets Cease / Connection
//!   Rejected (RFC 4486 section 4, subcode 5), is logged and counted.
//! - A dynamic neighbour without a session in progress (not OpenSent,
//!   OpenConfirm or Established) for [`LINGER`] is removed and its routes
//!   withdrawn, unless it is damped (its restart is due) or the RIB still
//!   keeps its routes for a Graceful Restart (RFC 4724 section 4.2): a
//!   VTEP that reconnects in time finds its own session task again.
//! - Reloads: the sessions of a removed range end with Cease / Peer
//!   De-configured, those of a changed template are reset, and a neighbour
//!   configured at a dynamic address takes its place
//!   (`Reloader::apply_neighbors`).

use super::reload::Reloader;
use crate::config::ListenRange;
use crate::rib_task::RibRequest;
use crate::session::peer::reject;
use crate::session::supervise::PeerHandle;
use evpnd_core::session::State;
use ipnetwork::IpNetwork;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{info, warn};

/// How long a dynamic neighbour stays without a session before it is
/// removed: long enough for its first connection to reach OpenSent, and
/// for a peer that lost its connection to come back to the same task.
pub const LINGER: Duration = Duration::from_secs(3);

/// How often dynamic neighbours are checked for removal.
pub const REAP_EVERY: Duration = Duration::from_secs(1);

/// Connections from range addresses waiting for the daemon loop; more are
/// refused at once (a burst of SYNs cannot queue without bound).
pub const ACCEPT_QUEUE: usize = 256;

/// A connection from a listen-range address with no session task yet.
pub struct Accepted {
    pub stream: TcpStream,
    pub from: IpAddr,
}

/// Pure: whether `range`, with `sessions` dynamic neighbours now, takes
/// one more (below its `max_sessions`).
pub fn admits(range: &ListenRange, sessions: usize) -> bool {
    sessions < range.max_sessions as usize
}

/// The dynamic neighbours' bookkeeping beside the peer list.
#[derive(Default)]
pub struct Dynamic {
    /// Since when each dynamic neighbour has had no session in progress.
    idle_since: HashMap<IpAddr, Instant>,
    /// Connections refused per range because it was full.
    refused: HashMap<IpNetwork, u64>,
}

impl Dynamic {
    /// Connections refused because `range` was full, since start.
    pub fn refused(&self, range: &IpNetwork) -> u64 {
        self.refused.get(range).copied().unwrap_or(0)
    }

    /// Takes `accepted` on as a dynamic neighbour, or refuses it.
    pub async fn accept(
        &mut self,
        accepted: Accepted,
        reloader: &mut Reloader,
        peers: &mut Vec<PeerHandle>,
    ) {
        let Accepted { stream, from } = accepted;
        // A session task made for an earlier connection from the same
        // address, before the accept loop saw the new map.
        if let Some(peer) = peers.iter().find(|p| p.spec.neighbor.address == from) {
            if peer.inbound.try_send(stream).is_err() {
                warn!(peer = %from, "refused connection: the session is busy with another one");
            }
            return;
        }
        let config = reloader.running();
        // No range has the address any more: a reload removed it.
        let Some(range) = config.listen_range_of(from) else {
            warn!(peer = %from, "refused connection from an address that is not a configured neighbor");
            reject(stream);
            return;
        };
        let (prefix, sessions) = (range.prefix, in_range(peers, range.prefix));
        if !admits(range, sessions) {
            *self.refused.entry(prefix).or_default() += 1;
            warn!(
                peer = %from,
                listen_range = %prefix,
                max_sessions = range.max_sessions,
                "refused connection (Cease / Connection Rejected): the listen range holds its max_sessions already"
            );
            reject(stream);
            return;
        }
        let neighbor = range.neighbor(from);
        let bgp = config.bgp.clone();
        if !reloader
            .add_peer(&bgp, &neighbor, Some(prefix), None, peers)
            .await
        {
            reject(stream);
            return;
        }
        let peer = peers.last().expect("add_peer pushed it");
        let _ = peer.inbound.try_send(stream);
        reloader.publish(peers);
        self.idle_since.insert(from, Instant::now());
        info!(
            peer = %from,
            listen_range = %prefix,
            sessions = sessions + 1,
            "dynamic neighbor accepted"
        );
    }

    /// Removes the dynamic neighbours that have had no session for
    /// [`LINGER`], are not damped, and whose routes the RIB does not keep
    /// for a Graceful Restart.
    pub async fn reap(
        &mut self,
        reloader: &mut Reloader,
        peers: &mut Vec<PeerHandle>,
        rib: &mpsc::Sender<RibRequest>,
    ) {
        let now = Instant::now();
        let mut gone = Vec::new();
        for peer in peers.iter().filter(|p| p.spec.listen_range.is_some()) {
            let address = peer.spec.neighbor.address;
            let (state, restart_at) = {
                let status = peer.status.borrow();
                (status.state, status.damping.restart_at)
            };
            let in_session = matches!(
                state,
                State::OpenSent | State::OpenConfirm | State::Established
            );
            if in_session || restart_at.is_some() {
                self.idle_since.remove(&address);
                continue;
            }
            let since = *self.idle_since.entry(address).or_insert(now);
            if now.duration_since(since) < LINGER {
                continue;
            }
            // Kept for its Graceful Restart (RFC 4724 section 4.2).
            if super::peer_counters(rib, peer).await.stale > 0 {
                continue;
            }
            gone.push(address);
        }
        if gone.is_empty() {
            return;
        }
        for address in &gone {
            self.idle_since.remove(address);
            info!(peer = %address, "dynamic neighbor removed: no session for {} s", LINGER.as_secs());
        }
        reloader.stop_peers(&gone, peers, false).await;
    }
}

/// The dynamic neighbours of `range` now.
pub fn in_range(peers: &[PeerHandle], range: IpNetwork) -> usize {
    peers
        .iter()
        .filter(|p| p.spec.listen_range == Some(range))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn a_range_takes_sessions_up_to_its_limit() {
        let c = Config::from_toml_str(
            "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.4\"\n\
             [[listen_ranges]]\nprefix = \"198.18.0.0/24\"\nremote_as = 65000\nmax_sessions = 2\n",
        )
        .unwrap();
        let inside = c.listen_range_of("198.18.0.9".parse().unwrap()).unwrap();
        assert!(admits(inside, 0));
        assert!(admits(inside, 1));
        assert!(!admits(inside, 2), "max_sessions = 2");
        assert!(c.listen_range_of("198.18.1.9".parse().unwrap()).is_none());
    }
}
