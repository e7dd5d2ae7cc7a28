//! The peers the RIB knows about, and the relationship that decides how
//! routes flow between them (RFC 4456 section 6).

use std::net::{IpAddr, Ipv4Addr};

/// A compact handle for a peer inside the RIB: paths store this, not the
/// peer's address, so a path costs two bytes for its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PeerIdx(pub u16);

impl PeerIdx {
    /// Routes this node originates itself (a VTEP's local MACs and VNIs).
    pub const LOCAL: PeerIdx = PeerIdx(0);
}

/// How a peer relates to us; decides reflection (RFC 4456 section 6) and
/// the eBGP/iBGP step of the decision process (RFC 4271 9.1.2.2 d).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerKind {
    /// This node itself: routes it originates.
    Local,
    /// An iBGP peer configured as route-reflector client.
    IbgpClient,
    /// An iBGP peer that is not a client (e.g. another reflector).
    IbgpNonClient,
    Ebgp,
}

impl PeerKind {
    pub fn is_ibgp(self) -> bool {
        matches!(self, PeerKind::IbgpClient | PeerKind::IbgpNonClient)
    }
}

/// What the RIB needs to know about a peer for best-path selection and
/// reflection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub address: IpAddr,
    pub kind: PeerKind,
    pub remote_as: u32,
    /// The BGP identifier from the peer's OPEN (RFC 4271 4.2); the
    /// ORIGINATOR_ID we add when reflecting its routes (RFC 4456 section 8).
    pub router_id: Ipv4Addr,
}

/// RFC 4456 section 6: may a route learnt from a peer of kind `from` be
/// advertised to a peer of kind `to`?
///
/// - from a non-client iBGP peer: reflect to clients only (and to eBGP);
/// - from a client: reflect to clients and non-clients;
/// - from eBGP or local: advertise to everyone.
///
/// The source peer itself is excluded separately (split horizon).
pub fn may_advertise(from: PeerKind, to: PeerKind) -> bool {
    !matches!(
        (from, to),
        (_, PeerKind::Local) | (PeerKind::IbgpNonClient, PeerKind::IbgpNonClient)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use PeerKind::*;

    #[test]
    fn reflection_rules_follow_rfc4456_section_6() {
        assert!(may_advertise(IbgpClient, IbgpClient));
        assert!(may_advertise(IbgpClient, IbgpNonClient));
        assert!(may_advertise(IbgpNonClient, IbgpClient));
        assert!(!may_advertise(IbgpNonClient, IbgpNonClient));
        assert!(may_advertise(Ebgp, IbgpNonClient));
        assert!(may_advertise(Local, IbgpNonClient));
        assert!(may_advertise(IbgpNonClient, Ebgp));
        assert!(!may_advertise(IbgpClient, Local));
    }
}

/// Every peer the RIB has paths from, indexed by [`PeerIdx`]. Index 0 is
/// this node ([`PeerIdx::LOCAL`]).
#[derive(Debug, Clone)]
pub struct PeerTable {
    peers: Vec<Option<PeerInfo>>,
}

impl PeerTable {
    pub fn new(local: PeerInfo) -> Self {
        Self {
            peers: vec![Some(local)],
        }
    }

    /// Register a peer; reuses a free slot so indices stay small.
    pub fn add(&mut self, info: PeerInfo) -> PeerIdx {
        let slot = match self.peers.iter().skip(1).position(Option::is_none) {
            Some(free) => free + 1,
            None => {
                self.peers.push(None);
                self.peers.len() - 1
            }
        };
        self.peers[slot] = Some(info);
        PeerIdx(u16::try_from(slot).unwrap_or(u16::MAX))
    }

    /// Update what is known of a peer (e.g. its BGP Identifier, learnt from
    /// its OPEN).
    pub fn set(&mut self, idx: PeerIdx, info: PeerInfo) {
        if let Some(slot) = self.peers.get_mut(usize::from(idx.0)) {
            *slot = Some(info);
        }
    }

    pub fn remove(&mut self, idx: PeerIdx) {
        if idx != PeerIdx::LOCAL
            && let Some(slot) = self.peers.get_mut(usize::from(idx.0))
        {
            *slot = None;
        }
    }

    pub fn get(&self, idx: PeerIdx) -> Option<&PeerInfo> {
        self.peers.get(usize::from(idx.0)).and_then(Option::as_ref)
    }

    pub fn iter(&self) -> impl Iterator<Item = (PeerIdx, &PeerInfo)> {
        self.peers
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((PeerIdx(i as u16), p.as_ref()?)))
    }
}
