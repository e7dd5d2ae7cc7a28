//! The RIB as one pure value: owns the Loc-RIB, the attribute interner and
//! the outbound groups; takes decoded UPDATEs and produces, for each peer,
//! the encoded UPDATEs it must send, and for the VTEP the best-path changes.
//!
//! [`Rib::handle`] applies an input; [`Rib::flush`] computes the outbound
//! side of everything applied since the last flush. Both hand what they
//! produce, as they produce it, to a [`RibOutlet`]: the tokio shell
//! `evpnd::rib_task` queues each batch for its peers at once (so writers
//! start while the rest is encoded), a test collects a `Vec`. The shell folds everything already queued
//! (up to a bound) into one flush, so routes that arrive in many small
//! UPDATEs leave in few large ones, and a route that flaps within a batch
//! costs its peers nothing.

use super::adj_out::{ChangeSet, OutBatch, OutGroupKey, OutPeers, full_table};
use super::attrs::AttrInterner;
use super::encode::{OutboundEncoder, end_of_rib};
pub use super::ingress::{IngressUpdate, Reach};
use super::loc_rib::{BestChange, LocRib, NlriBytes, Path};
use super::peer::{PeerIdx, PeerInfo, PeerKind, PeerTable, may_advertise};
use bytes::Bytes;
use evpnd_wire::evpn::{EvpnRouteKey, evpn_route_key, split_evpn_nlri};
use hashbrown::HashMap;
use std::collections::BTreeSet;
use std::sync::Arc;
use tracing::{debug, warn};

/// Encoded UPDATE messages for one peer, in order. Shared (`Arc`) between
/// the members of a group: encoded once, sent to all.
pub type OutChunk = Arc<[Bytes]>;

/// One row of `show routes`: a path and whether it is the best.
#[derive(Debug, Clone)]
pub struct RibPath {
    pub key: EvpnRouteKey,
    pub path: Path,
    pub best: bool,
    pub from: Option<PeerInfo>,
}

/// Per-peer counters for `show neighbors`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerCounters {
    pub received: u32,
    pub sent: u64,
}

/// What changes the RIB.
pub enum RibInput {
    /// A session reached Established: register it and send it the table.
    PeerUp {
        peer: PeerIdx,
        info: PeerInfo,
        group: OutGroupKey,
    },
    /// A session went down: withdraw its routes from everyone.
    PeerDown { peer: PeerIdx },
    Update {
        peer: PeerIdx,
        update: IngressUpdate,
    },
    /// Routes this node originates (a VTEP's VNIs and local MACs), as if
    /// received from [`PeerIdx::LOCAL`].
    Local { update: IngressUpdate },
    /// RFC 2918: the peer asks for our whole Adj-RIB-Out again.
    RouteRefresh { peer: PeerIdx },
}

/// Where the RIB puts what it produces, in the order it must be acted on.
/// The RIB calls it synchronously and never waits: an implementation that
/// moves bytes must not block (the shell's sinks only `try_send`).
pub trait RibOutlet {
    fn put(&mut self, output: RibOutput);
}

impl RibOutlet for Vec<RibOutput> {
    fn put(&mut self, output: RibOutput) {
        self.push(output);
    }
}

/// What the RIB produces, in the order it must be acted on.
#[derive(Debug)]
pub enum RibOutput {
    /// Encoded UPDATEs for one peer that is up.
    Send { peer: PeerIdx, messages: OutChunk },
    /// For the observer (the VTEP's importer), when one is registered.
    Event(RibEvent),
}

/// Loc-RIB sizes for the metrics endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RibStats {
    /// Routes (keys) per EVPN route type.
    pub routes_by_type: std::collections::BTreeMap<u8, u64>,
    /// Type-2 routes per VNI (label1, RFC 8365 section 5.1.3).
    pub type2_by_vni: std::collections::BTreeMap<u32, u64>,
    pub paths: u64,
    pub attribute_sets: u64,
}

/// What the RIB tells its observer (the VTEP).
#[derive(Debug)]
pub enum RibEvent {
    /// One batch of best-path changes.
    Changes(Vec<BestChange<EvpnRouteKey>>),
    /// Every configured peer has sent End-of-RIB (RFC 4724 section 2) since
    /// start: the Loc-RIB holds the fabric's routes, so state nobody asks
    /// for any more can go.
    InitialSyncDone,
}

/// Loc-RIB sizes kept up to date as best paths change, so that neither a
/// metrics scrape nor `show neighbors` walks the table (at a million routes
/// that walk competes with route processing). Every change costs O(1) on
/// the route path: two array additions and, for a type-2 route, one
/// hash-map update for its VNI. What a peer holds from us is derived at
/// query time from the per-source counts, O(peers).
#[derive(Debug)]
struct Tally {
    /// Routes (keys) per EVPN route type (RFC 7432 section 7), by type.
    routes_by_type: [u64; 256],
    /// Type-2 routes per VNI of their best path (label1, RFC 8365 section
    /// 5.1.3); VNIs with no route are removed.
    type2_by_vni: HashMap<u32, u64>,
    /// Best paths per source peer, indexed by `PeerIdx`.
    best_from: Vec<u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            routes_by_type: [0; 256],
            type2_by_vni: HashMap::new(),
            best_from: Vec::new(),
        }
    }
}

impl Tally {
    /// Account for one best-path change (every one the Loc-RIB reports).
    fn record(&mut self, change: &BestChange<EvpnRouteKey>) {
        match (&change.old, &change.new) {
            (None, Some(new)) => self.route(new, true),
            (Some(old), None) => self.route(old, false),
            _ => {}
        }
        if let Some(old) = &change.old {
            self.best(old, false);
        }
        if let Some(new) = &change.new {
            self.best(new, true);
        }
    }

    fn route(&mut self, path: &Path, added: bool) {
        if let Some(&route_type) = path.nlri.first() {
            bump(&mut self.routes_by_type[usize::from(route_type)], added);
        }
    }

    fn best(&mut self, path: &Path, added: bool) {
        let slot = usize::from(path.source().0);
        if self.best_from.len() <= slot {
            self.best_from.resize(slot + 1, 0);
        }
        bump(&mut self.best_from[slot], added);
        if let Some(vni) = type2_vni(&path.nlri) {
            if added {
                *self.type2_by_vni.entry(vni).or_default() += 1;
            } else if let Some(n) = self.type2_by_vni.get_mut(&vni) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.type2_by_vni.remove(&vni);
                }
            }
        }
    }

    fn best_from(&self, peer: PeerIdx) -> u64 {
        self.best_from
            .get(usize::from(peer.0))
            .copied()
            .unwrap_or(0)
    }
}

fn bump(n: &mut u64, up: bool) {
    if up {
        *n += 1;
    } else {
        *n = n.saturating_sub(1);
    }
}

/// The VNI of a type-2 NLRI (label1, RFC 7432 section 7.2 and RFC 8365
/// section 5.1.3), read at its offset: type, length, RD (8), ESI (10),
/// Ethernet tag (4), MAC length and MAC (7), IP length, IP, label1. Only
/// NLRI whose key was derived (so whose layout was checked) reach here.
fn type2_vni(nlri: &[u8]) -> Option<u32> {
    const IP_LEN_AT: usize = 2 + 8 + 10 + 4 + 1 + 6;
    if nlri.first() != Some(&2) {
        return None;
    }
    let label_at = IP_LEN_AT + 1 + usize::from(*nlri.get(IP_LEN_AT)?) / 8;
    let label = nlri.get(label_at..label_at + 3)?;
    Some(u32::from_be_bytes([0, label[0], label[1], label[2]]))
}

pub struct Rib {
    peers: PeerTable,
    rib: LocRib<EvpnRouteKey>,
    tally: Tally,
    interner: AttrInterner,
    out: OutPeers,
    /// Peers whose session is up, indexed by `PeerIdx`: only they are sent to.
    up: Vec<bool>,
    encoder: OutboundEncoder,
    pending: ChangeSet<EvpnRouteKey>,
    /// Whether someone (the VTEP's importer) wants [`RibOutput::Event`]s.
    observed: bool,
    /// Configured peers, and those that sent End-of-RIB since start.
    configured: usize,
    end_of_rib_from: BTreeSet<PeerIdx>,
}

impl Rib {
    pub fn new(local: PeerInfo, encoder: OutboundEncoder) -> Self {
        Self {
            peers: PeerTable::new(local),
            rib: LocRib::new(|nlri| evpn_route_key(nlri).ok()),
            tally: Tally::default(),
            interner: AttrInterner::default(),
            out: OutPeers::default(),
            up: Vec::new(),
            encoder,
            pending: ChangeSet::default(),
            observed: false,
            configured: 0,
            end_of_rib_from: BTreeSet::new(),
        }
    }

    /// Report every batch of best-path changes as [`RibOutput::Event`] too.
    pub fn observe(&mut self) {
        self.observed = true;
    }

    /// Register a configured peer before its session comes up, so its index
    /// is stable across reconnects.
    pub fn add_peer(&mut self, info: PeerInfo) -> PeerIdx {
        self.configured += 1;
        self.peers.add(info)
    }

    /// Apply one input to the Loc-RIB; outbound work waits for `flush`,
    /// except a new or refreshed peer's table and End-of-RIB events, which
    /// go to `out` at once.
    pub fn handle(&mut self, input: RibInput, out: &mut impl RibOutlet) {
        match input {
            RibInput::PeerUp { peer, info, group } => {
                // Changes queued so far were planned without this peer; send
                // them first so the dump below is the peer's whole truth.
                self.flush(out);
                self.peers.set(peer, info);
                self.out.join(peer, group);
                let slot = usize::from(peer.0);
                if self.up.len() <= slot {
                    self.up.resize(slot + 1, false);
                }
                self.up[slot] = true;
                self.send_full_table(peer, out);
            }
            RibInput::PeerDown { peer } => {
                self.out.leave(peer);
                if let Some(up) = self.up.get_mut(usize::from(peer.0)) {
                    *up = false;
                }
                let changes = self.rib.withdraw_peer(peer, &self.peers);
                debug!(?peer, withdrawn = changes.len(), "peer down");
                for change in changes {
                    self.note(Some(change));
                }
            }
            RibInput::Update { peer, update } => self.apply_update(peer, update, out),
            RibInput::Local { update } => self.apply_update(PeerIdx::LOCAL, update, out),
            RibInput::RouteRefresh { peer } => {
                self.flush(out);
                self.send_full_table(peer, out);
            }
        }
    }

    /// Routes received from and advertised to `peer`, for `show neighbors`.
    pub fn counters(&self, peer: PeerIdx) -> PeerCounters {
        PeerCounters {
            received: self.rib.received_from(peer),
            sent: self.advertised_to(peer),
        }
    }

    /// Sizes by route type and type-2 VNI: read off counters kept as routes
    /// change, O(route types + VNIs), never a walk of the table.
    pub fn stats(&self) -> RibStats {
        RibStats {
            routes_by_type: (0..=u8::MAX)
                .zip(self.tally.routes_by_type)
                .filter(|(_, n)| *n > 0)
                .collect(),
            type2_by_vni: self
                .tally
                .type2_by_vni
                .iter()
                .map(|(vni, n)| (*vni, *n))
                .collect(),
            paths: self.rib.path_count(),
            attribute_sets: self.interner.len() as u64,
        }
    }

    /// The old full walk that [`Rib::stats`] replaced, kept as the oracle
    /// its counters are tested against.
    #[cfg(test)]
    fn stats_walk(&self) -> RibStats {
        use evpnd_wire::evpn::EvpnRoute;
        let mut stats = RibStats {
            attribute_sets: self.interner.len() as u64,
            ..Default::default()
        };
        for paths in self.rib.iter() {
            stats.paths += paths.len() as u64;
            let nlri = &paths[0].nlri;
            let Some(&route_type) = nlri.first() else {
                continue;
            };
            *stats.routes_by_type.entry(route_type).or_default() += 1;
            if let Some(EvpnRoute::MacIp(route)) = EvpnRoute::decode_all(nlri, 0)
                .ok()
                .and_then(|routes| routes.into_iter().next())
            {
                *stats.type2_by_vni.entry(route.vni()).or_default() += 1;
            }
        }
        stats
    }

    /// Every path, for `show routes`.
    pub fn dump(&self) -> Vec<RibPath> {
        let mut rows = Vec::with_capacity(self.rib.len());
        for paths in self.rib.iter() {
            let Some(key) = self.rib.key(&paths[0]) else {
                continue;
            };
            for (i, path) in paths.iter().enumerate() {
                rows.push(RibPath {
                    key: key.clone(),
                    path: path.clone(),
                    best: i == 0,
                    from: self.peers.get(path.source()).cloned(),
                });
            }
        }
        rows
    }

    /// Routes `peer` currently holds from us: the best paths of every other
    /// source whose kind may be advertised to its kind (RFC 4456 section 6;
    /// its own are split horizon), from the per-source counts kept as best
    /// paths change. There is no per-peer table; this is the count of what
    /// [`full_table`] would send it, in O(peers).
    fn advertised_to(&self, peer: PeerIdx) -> u64 {
        let Some(kind) = self.out_kind(peer) else {
            return 0;
        };
        self.peers
            .iter()
            .filter(|(source, info)| *source != peer && may_advertise(info.kind, kind))
            .map(|(source, _)| self.tally.best_from(source))
            .sum()
    }

    fn out_kind(&self, peer: PeerIdx) -> Option<PeerKind> {
        self.out
            .group_of(peer)
            .and_then(|g| self.out.key(g))
            .map(|k| k.kind)
    }

    /// The old walk that [`Rib::advertised_to`] replaced: the test oracle.
    #[cfg(test)]
    fn advertised_to_walk(&self, peer: PeerIdx) -> u64 {
        let Some(kind) = self.out_kind(peer) else {
            return 0;
        };
        self.rib
            .iter()
            .filter(|paths| {
                paths[0].source() != peer
                    && super::adj_out::advertisable(&paths[0], kind, &self.peers)
            })
            .count() as u64
    }

    fn apply_update(&mut self, peer: PeerIdx, update: IngressUpdate, out: &mut impl RibOutlet) {
        if update.end_of_rib && peer != PeerIdx::LOCAL && self.end_of_rib_from.insert(peer) {
            debug!(?peer, "End-of-RIB");
            if self.end_of_rib_from.len() == self.configured && self.observed {
                // The changes applied so far go first.
                self.flush(out);
                out.put(RibOutput::Event(RibEvent::InitialSyncDone));
            }
        }
        for field in &update.withdrawn {
            for nlri in split_evpn_nlri(field) {
                match nlri.and_then(evpn_route_key) {
                    Ok(key) => {
                        let change = self.rib.withdraw(&key, peer, &self.peers);
                        self.note(change);
                    }
                    // The peer task validated the field; this is a bug, not
                    // peer input, but it must not take the daemon down.
                    Err(e) => warn!(?peer, error = %e, "undecodable withdrawn NLRI"),
                }
            }
        }
        if let Some(reach) = update.reach {
            let summary = reach.summary;
            let attrs = self
                .interner
                .intern(peer, &reach.attributes, &reach.next_hop, || summary);
            for nlri in split_evpn_nlri(&reach.nlri) {
                let parsed = nlri.and_then(|n| Ok((evpn_route_key(n)?, n)));
                match parsed {
                    Ok((key, bytes)) => {
                        let path = Path {
                            attrs: attrs.clone(),
                            nlri: NlriBytes::from_slice(bytes),
                        };
                        let change = self.rib.announce(key, path, &self.peers);
                        self.note(change);
                    }
                    Err(e) => warn!(?peer, error = %e, "undecodable NLRI"),
                }
            }
        }
    }

    /// Count a best-path change and queue it for the next flush.
    fn note(&mut self, change: Option<BestChange<EvpnRouteKey>>) {
        if let Some(change) = change {
            self.tally.record(&change);
            self.pending.push(change);
        }
    }

    /// Compute the outbound UPDATEs for everything applied since
    /// the last flush.
    pub fn flush(&mut self, out: &mut impl RibOutlet) {
        if self.pending.is_empty() {
            return;
        }
        if self.observed {
            let changes = self.pending.snapshot();
            out.put(RibOutput::Event(RibEvent::Changes(changes)));
        }
        let batches = std::mem::take(&mut self.pending).plan(&self.peers, &self.out);
        self.deliver(batches, out);
        self.interner.sweep();
    }

    /// The whole table for one peer (RFC 4271 9.4 on a new session, RFC
    /// 2918 on a refresh) as ONE chunk, End-of-RIB last (RFC 4724 section
    /// 2). The shell bounds a peer's queue in chunks, and a table under
    /// thousands of attribute sets (one batch each) must not fill it by
    /// itself: a reconnecting peer would overflow again and again.
    fn send_full_table(&mut self, peer: PeerIdx, out: &mut impl RibOutlet) {
        if !self.is_up(peer) {
            return;
        }
        let Some(key) = self.out.group_of(peer).and_then(|g| self.out.key(g)) else {
            return;
        };
        let mut messages = Vec::new();
        for batch in full_table(&self.rib, peer, &self.peers, &self.out) {
            match self.encoder.encode(&batch, &key, &self.peers) {
                Ok(encoded) => messages.extend(encoded),
                Err(e) => warn!(?peer, error = %e, "cannot encode part of the table; skipped"),
            }
        }
        messages.push(end_of_rib(self.encoder.family));
        out.put(RibOutput::Send {
            peer,
            messages: messages.into(),
        });
    }

    /// Encode each batch once for its group and hand it to `out` for every
    /// member that is up, batch by batch.
    fn deliver(&mut self, batches: Vec<OutBatch>, out: &mut impl RibOutlet) {
        for batch in batches {
            let Some(group) = self.out.key(batch.to.group()) else {
                continue;
            };
            let messages: OutChunk = match self.encoder.encode(&batch, &group, &self.peers) {
                Ok(messages) => messages.into(),
                Err(e) => {
                    warn!(error = %e, "cannot encode an outbound batch; skipped");
                    continue;
                }
            };
            for peer in self.out.members(batch.to) {
                if self.is_up(peer) {
                    out.put(RibOutput::Send {
                        peer,
                        messages: messages.clone(),
                    });
                }
            }
        }
    }

    fn is_up(&self, peer: PeerIdx) -> bool {
        self.up.get(usize::from(peer.0)).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rib::attrs::PathSummary;
    use crate::rib::peer::PeerKind;
    use crate::test_support::hex;
    use evpnd_wire::Family;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn local_routes_enter_the_rib_and_reach_the_observer() {
        let local = PeerInfo {
            address: IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1)),
            kind: PeerKind::Local,
            remote_as: 65000,
            router_id: Ipv4Addr::new(198, 19, 0, 1),
        };
        let encoder = OutboundEncoder {
            family: Family::L2VPN_EVPN,
            local_asn: 65000,
            cluster_id: Ipv4Addr::new(198, 19, 0, 1),
        };
        let mut rib = Rib::new(local, encoder);
        let mut sent: Vec<RibOutput> = Vec::new();
        rib.observe();
        // A type-3 route (msg 20 of proto-tests/vectors/frr/bgp-evpn-messages.txt:
        // RD 198.19.0.1:2).
        let nlri = Bytes::from(hex("03110001c613000100020000000020c6130001"));
        let update = IngressUpdate {
            reach: Some(Reach {
                attributes: Bytes::from(hex("400101005002000040050400000064")),
                next_hop: Bytes::from_static(&[198, 19, 0, 1]),
                summary: PathSummary::default(),
                nlri: nlri.clone(),
            }),
            ..Default::default()
        };
        rib.handle(RibInput::Local { update }, &mut sent);
        rib.flush(&mut sent);
        let mut out = std::mem::take(&mut sent).into_iter();
        let Some(RibOutput::Event(RibEvent::Changes(changes))) = out.next() else {
            panic!("one batch of changes")
        };
        assert_eq!(changes.len(), 1);
        let new = changes[0].new.as_ref().expect("announced");
        assert_eq!(new.source(), PeerIdx::LOCAL);
        assert_eq!(new.nlri.as_slice(), nlri.as_ref());
        // Withdrawn again: the observer sees the route go.
        let update = IngressUpdate {
            withdrawn: vec![nlri],
            ..Default::default()
        };
        rib.handle(RibInput::Local { update }, &mut sent);
        rib.flush(&mut sent);
        let mut out = std::mem::take(&mut sent).into_iter();
        let Some(RibOutput::Event(RibEvent::Changes(changes))) = out.next() else {
            panic!("second batch")
        };
        assert!(changes[0].new.is_none() && changes[0].old.is_some());
        assert!(out.next().is_none(), "nothing else");
    }

    #[test]
    fn end_of_rib_from_every_configured_peer_ends_the_initial_sync() {
        let info = |last: u8, kind| PeerInfo {
            address: IpAddr::V4(Ipv4Addr::new(198, 19, 0, last)),
            kind,
            remote_as: 65000,
            router_id: Ipv4Addr::new(198, 19, 0, last),
        };
        let encoder = OutboundEncoder {
            family: Family::L2VPN_EVPN,
            local_asn: 65000,
            cluster_id: Ipv4Addr::new(198, 19, 0, 1),
        };
        let mut rib = Rib::new(info(1, PeerKind::Local), encoder);
        let mut sent: Vec<RibOutput> = Vec::new();
        let a = rib.add_peer(info(2, PeerKind::IbgpNonClient));
        let b = rib.add_peer(info(3, PeerKind::IbgpNonClient));
        rib.observe();
        let eor = || IngressUpdate {
            end_of_rib: true,
            ..Default::default()
        };
        rib.handle(
            RibInput::Update {
                peer: a,
                update: eor(),
            },
            &mut sent,
        );
        rib.handle(
            RibInput::Update {
                peer: a,
                update: eor(),
            },
            &mut sent,
        );
        assert!(
            std::mem::take(&mut sent).is_empty(),
            "one of two peers is not the whole fabric"
        );
        rib.handle(
            RibInput::Update {
                peer: b,
                update: eor(),
            },
            &mut sent,
        );
        assert!(matches!(
            std::mem::take(&mut sent).as_slice(),
            [RibOutput::Event(RibEvent::InitialSyncDone)]
        ));
        rib.handle(
            RibInput::Update {
                peer: b,
                update: eor(),
            },
            &mut sent,
        );
        assert!(std::mem::take(&mut sent).is_empty(), "said once");
    }

    mod counters {
        use super::*;
        use proptest::prelude::*;

        fn info(last: u8, kind: PeerKind) -> PeerInfo {
            PeerInfo {
                address: IpAddr::V4(Ipv4Addr::new(198, 19, 0, last)),
                kind,
                remote_as: if kind == PeerKind::Ebgp { 65001 } else { 65000 },
                router_id: Ipv4Addr::new(198, 19, 0, last),
            }
        }

        /// Peers 1..=4: two clients, a non-client, an eBGP peer.
        const PEER_KINDS: [PeerKind; 4] = [
            PeerKind::IbgpClient,
            PeerKind::IbgpClient,
            PeerKind::IbgpNonClient,
            PeerKind::Ebgp,
        ];

        fn rib() -> Rib {
            let encoder = OutboundEncoder {
                family: Family::L2VPN_EVPN,
                local_asn: 65000,
                cluster_id: Ipv4Addr::new(198, 19, 0, 100),
            };
            let mut rib = Rib::new(info(100, PeerKind::Local), encoder);
            for (i, kind) in PEER_KINDS.iter().enumerate() {
                rib.add_peer(info(i as u8 + 1, *kind));
            }
            rib
        }

        /// Route `key`: keys 0..4 are type-2 (MAC ..:key, with an IPv4
        /// address for odd keys) whose label1 carries `vni`; keys 4.. are
        /// type-3 (RFC 7432 section 7.2, 7.3).
        fn nlri(key: u8, vni: u32) -> Vec<u8> {
            let rd = [0, 1, 198, 19, 0, 1, 0, 2];
            let mut v = Vec::new();
            if key < 4 {
                v.extend([2, 0]);
                v.extend(rd);
                v.extend([0; 10]); // ESI
                v.extend([0; 4]); // Ethernet tag
                v.extend([48, 0x02, 0, 0, 0, 0, key]);
                if key % 2 == 1 {
                    v.extend([32, 10, 0, 0, key]);
                } else {
                    v.push(0);
                }
                v.extend(&vni.to_be_bytes()[1..]);
            } else {
                v.extend([3, 0]);
                v.extend(rd);
                v.extend([0; 4]);
                v.extend([32, 198, 19, 0, key]);
            }
            v[1] = (v.len() - 2) as u8;
            v
        }

        fn announce(keys: &[u8], lp: u32, vni: u32) -> IngressUpdate {
            let mut attributes = hex("4001010050020000400504");
            attributes.extend(lp.to_be_bytes());
            IngressUpdate {
                reach: Some(Reach {
                    attributes: Bytes::from(attributes),
                    next_hop: Bytes::from_static(&[198, 19, 0, 9]),
                    summary: PathSummary {
                        local_pref: Some(lp),
                        ..Default::default()
                    },
                    nlri: Bytes::from(keys.iter().flat_map(|k| nlri(*k, vni)).collect::<Vec<_>>()),
                }),
                ..Default::default()
            }
        }

        #[derive(Debug, Clone)]
        enum Op {
            Announce {
                peer: u16,
                keys: Vec<u8>,
                lp: u32,
                vni: u32,
            },
            Withdraw {
                peer: u16,
                keys: Vec<u8>,
            },
            PeerUp {
                peer: u16,
            },
            PeerDown {
                peer: u16,
            },
            Flush,
        }

        fn op() -> impl Strategy<Value = Op> {
            let keys = || prop::collection::vec(0u8..7, 1..4);
            prop_oneof![
                6 => (0u16..5, keys(), 0u32..3, 10u32..13)
                    .prop_map(|(peer, keys, lp, vni)| Op::Announce { peer, keys, lp, vni }),
                3 => (0u16..5, keys()).prop_map(|(peer, keys)| Op::Withdraw { peer, keys }),
                2 => (1u16..5).prop_map(|peer| Op::PeerUp { peer }),
                1 => (1u16..5).prop_map(|peer| Op::PeerDown { peer }),
                1 => Just(Op::Flush),
            ]
        }

        fn input(peer: u16, update: IngressUpdate) -> RibInput {
            if peer == 0 {
                RibInput::Local { update }
            } else {
                RibInput::Update {
                    peer: PeerIdx(peer),
                    update,
                }
            }
        }

        proptest! {
                    /// After any sequence of announcements, withdrawals and sessions
                    /// going up and down, the counters kept as routes change equal
                    /// the full walk they replaced.
                    #[test]
                    fn incremental_counters_equal_the_full_walk(ops in prop::collection::vec(op(), 1..60)) {
                        let mut rib = rib();
        let mut sent: Vec<RibOutput> = Vec::new();
                        for op in ops {
                            match op {
                                Op::Announce { peer, keys, lp, vni } => {
                                    rib.handle(input(peer, announce(&keys, lp, vni)), &mut sent);
                                }
                                Op::Withdraw { peer, keys } => {
                                    let withdrawn = keys.iter().map(|k| Bytes::from(nlri(*k, 0))).collect();
                                    rib.handle(input(peer, IngressUpdate { withdrawn, ..Default::default() }), &mut sent);
                                }
                                Op::PeerUp { peer } => {
                                    let kind = PEER_KINDS[usize::from(peer) - 1];
                                    rib.handle(RibInput::PeerUp {
                                        peer: PeerIdx(peer),
                                        info: info(peer as u8, kind),
                                        group: OutGroupKey { kind, four_octet_as: true, max_message_len: 4096 },
                                    }, &mut sent);
                                }
                                Op::PeerDown { peer } => rib.handle(RibInput::PeerDown { peer: PeerIdx(peer) }, &mut sent),
                                Op::Flush => rib.flush(&mut sent),
                            }
                            std::mem::take(&mut sent);
                            prop_assert_eq!(rib.stats(), rib.stats_walk());
                            for peer in 0..5 {
                                let peer = PeerIdx(peer);
                                prop_assert_eq!(rib.counters(peer).sent, rib.advertised_to_walk(peer), "{:?}", peer);
                            }
                        }
                        rib.flush(&mut sent);
                        prop_assert_eq!(rib.stats(), rib.stats_walk());
                    }
                }

        #[test]
        fn the_full_table_is_one_chunk_ending_with_end_of_rib() {
            let mut rib = rib();
            let mut sent: Vec<RibOutput> = Vec::new();
            for key in 0..7 {
                rib.handle(input(1, announce(&[key], u32::from(key), 10)), &mut sent);
            }
            rib.flush(&mut sent);
            std::mem::take(&mut sent);
            rib.handle(
                RibInput::PeerUp {
                    peer: PeerIdx(2),
                    info: info(2, PeerKind::IbgpClient),
                    group: OutGroupKey {
                        kind: PeerKind::IbgpClient,
                        four_octet_as: true,
                        max_message_len: 4096,
                    },
                },
                &mut sent,
            );
            let out = std::mem::take(&mut sent);
            let [RibOutput::Send { peer, messages }] = out.as_slice() else {
                panic!("one chunk, got {out:?}")
            };
            assert_eq!(*peer, PeerIdx(2));
            assert_eq!(messages.len(), 8, "7 attribute sets, 7 UPDATEs, End-of-RIB");
            assert_eq!(messages.last(), Some(&end_of_rib(Family::L2VPN_EVPN)));
            assert_eq!(rib.counters(PeerIdx(2)).sent, 7);
        }

        #[test]
        fn type2_vni_is_read_off_label1() {
            assert_eq!(type2_vni(&nlri(0, 10_020)), Some(10_020));
            assert_eq!(type2_vni(&nlri(1, 0x00ab_cdef)), Some(0x00ab_cdef));
            assert_eq!(type2_vni(&nlri(5, 10)), None, "type-3");
            assert_eq!(type2_vni(&[2, 3, 0]), None, "truncated");
        }
    }
}
