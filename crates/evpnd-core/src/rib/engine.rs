//! The RIB as one pure value: owns the Loc-RIB, the attribute interner and
//! the outbound groups; takes decoded UPDATEs and produces, for each peer,
//! the encoded UPDATEs it must send, and for the VTEP the best-path changes.
//!
//! [`Rib::handle`] applies an input; [`Rib::flush`] computes the outbound
//! side of everything applied since the last flush; [`Rib::take_output`]
//! hands the results to whoever moves bytes (the tokio shell
//! `evpnd::rib_task`, or a test). The shell folds everything already queued
//! (up to a bound) into one flush, so routes that arrive in many small
//! UPDATEs leave in few large ones, and a route that flaps within a batch
//! costs its peers nothing.

use super::adj_out::{ChangeSet, OutBatch, OutGroupKey, OutPeers, advertisable, full_table};
use super::attrs::AttrInterner;
use super::encode::{OutboundEncoder, end_of_rib};
pub use super::ingress::{IngressUpdate, Reach};
use super::loc_rib::{BestChange, LocRib, NlriBytes, Path};
use super::peer::{PeerIdx, PeerInfo, PeerTable};
use bytes::Bytes;
use evpnd_wire::evpn::{EvpnRoute, EvpnRouteKey, evpn_route_key, split_evpn_nlri};
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

pub struct Rib {
    peers: PeerTable,
    rib: LocRib<EvpnRouteKey>,
    interner: AttrInterner,
    out: OutPeers,
    /// Peers whose session is up, indexed by `PeerIdx`: only they are sent to.
    up: Vec<bool>,
    encoder: OutboundEncoder,
    pending: ChangeSet<EvpnRouteKey>,
    /// Whether someone (the VTEP's importer) wants [`RibOutput::Event`]s.
    observed: bool,
    output: Vec<RibOutput>,
    /// Configured peers, and those that sent End-of-RIB since start.
    configured: usize,
    end_of_rib_from: BTreeSet<PeerIdx>,
}

impl Rib {
    pub fn new(local: PeerInfo, encoder: OutboundEncoder) -> Self {
        Self {
            peers: PeerTable::new(local),
            rib: LocRib::new(|nlri| evpn_route_key(nlri).ok()),
            interner: AttrInterner::default(),
            out: OutPeers::default(),
            up: Vec::new(),
            encoder,
            pending: ChangeSet::default(),
            observed: false,
            output: Vec::new(),
            configured: 0,
            end_of_rib_from: BTreeSet::new(),
        }
    }

    /// Report every batch of best-path changes as [`RibOutput::Event`] too.
    pub fn observe(&mut self) {
        self.observed = true;
    }

    /// What the inputs handled so far produced, in order.
    pub fn take_output(&mut self) -> Vec<RibOutput> {
        std::mem::take(&mut self.output)
    }

    /// Register a configured peer before its session comes up, so its index
    /// is stable across reconnects.
    pub fn add_peer(&mut self, info: PeerInfo) -> PeerIdx {
        self.configured += 1;
        self.peers.add(info)
    }

    /// Apply one input to the Loc-RIB; outbound work waits for `flush`.
    pub fn handle(&mut self, input: RibInput) {
        match input {
            RibInput::PeerUp { peer, info, group } => {
                // Changes queued so far were planned without this peer; send
                // them first so the dump below is the peer's whole truth.
                self.flush();
                self.peers.set(peer, info);
                self.out.join(peer, group);
                let slot = usize::from(peer.0);
                if self.up.len() <= slot {
                    self.up.resize(slot + 1, false);
                }
                self.up[slot] = true;
                self.send_full_table(peer);
            }
            RibInput::PeerDown { peer } => {
                self.out.leave(peer);
                if let Some(up) = self.up.get_mut(usize::from(peer.0)) {
                    *up = false;
                }
                let changes = self.rib.withdraw_peer(peer, &self.peers);
                debug!(?peer, withdrawn = changes.len(), "peer down");
                self.pending.extend(changes);
            }
            RibInput::Update { peer, update } => self.apply_update(peer, update),
            RibInput::Local { update } => self.apply_update(PeerIdx::LOCAL, update),
            RibInput::RouteRefresh { peer } => {
                self.flush();
                self.send_full_table(peer);
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

    /// Sizes by route type and type-2 VNI, read off the NLRI bytes (no
    /// typed decoding: this walks the whole table).
    pub fn stats(&self) -> RibStats {
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

    /// Routes `peer` currently holds from us: derived from the Loc-RIB and
    /// the policy (there is no per-peer table to count), so it costs a walk.
    fn advertised_to(&self, peer: PeerIdx) -> u64 {
        let Some(kind) = self
            .out
            .group_of(peer)
            .and_then(|g| self.out.key(g))
            .map(|k| k.kind)
        else {
            return 0;
        };
        self.rib
            .iter()
            .filter(|paths| paths[0].source() != peer && advertisable(&paths[0], kind, &self.peers))
            .count() as u64
    }

    fn apply_update(&mut self, peer: PeerIdx, update: IngressUpdate) {
        if update.end_of_rib && peer != PeerIdx::LOCAL && self.end_of_rib_from.insert(peer) {
            debug!(?peer, "End-of-RIB");
            if self.end_of_rib_from.len() == self.configured && self.observed {
                // The changes applied so far go first.
                self.flush();
                self.output
                    .push(RibOutput::Event(RibEvent::InitialSyncDone));
            }
        }
        for field in &update.withdrawn {
            for nlri in split_evpn_nlri(field) {
                match nlri.and_then(evpn_route_key) {
                    Ok(key) => self
                        .pending
                        .extend(self.rib.withdraw(&key, peer, &self.peers)),
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
                        self.pending
                            .extend(self.rib.announce(key, path, &self.peers));
                    }
                    Err(e) => warn!(?peer, error = %e, "undecodable NLRI"),
                }
            }
        }
    }

    /// Compute the outbound UPDATEs for everything applied since
    /// the last flush.
    pub fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        if self.observed {
            let changes = self.pending.snapshot();
            self.output
                .push(RibOutput::Event(RibEvent::Changes(changes)));
        }
        let batches = std::mem::take(&mut self.pending).plan(&self.peers, &self.out);
        self.deliver(batches, None);
        self.interner.sweep();
    }

    fn send_full_table(&mut self, peer: PeerIdx) {
        let batches = full_table(&self.rib, peer, &self.peers, &self.out);
        let group = self.out.group_of(peer);
        self.deliver(batches, Some(peer));
        // RFC 4724 2: End-of-RIB marks the end of the initial table.
        if group.is_some() && self.is_up(peer) {
            self.output.push(RibOutput::Send {
                peer,
                messages: Arc::from([end_of_rib(self.encoder.family)]),
            });
        }
    }

    fn deliver(&mut self, batches: Vec<OutBatch>, only: Option<PeerIdx>) {
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
                if only.is_some_and(|o| o != peer) {
                    continue;
                }
                if self.is_up(peer) {
                    self.output.push(RibOutput::Send {
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
    use evpnd_wire::Family;
    use std::net::{IpAddr, Ipv4Addr};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

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
        rib.handle(RibInput::Local { update });
        rib.flush();
        let mut out = rib.take_output().into_iter();
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
        rib.handle(RibInput::Local { update });
        rib.flush();
        let mut out = rib.take_output().into_iter();
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
        let a = rib.add_peer(info(2, PeerKind::IbgpNonClient));
        let b = rib.add_peer(info(3, PeerKind::IbgpNonClient));
        rib.observe();
        let eor = || IngressUpdate {
            end_of_rib: true,
            ..Default::default()
        };
        rib.handle(RibInput::Update {
            peer: a,
            update: eor(),
        });
        rib.handle(RibInput::Update {
            peer: a,
            update: eor(),
        });
        assert!(
            rib.take_output().is_empty(),
            "one of two peers is not the whole fabric"
        );
        rib.handle(RibInput::Update {
            peer: b,
            update: eor(),
        });
        assert!(matches!(
            rib.take_output().as_slice(),
            [RibOutput::Event(RibEvent::InitialSyncDone)]
        ));
        rib.handle(RibInput::Update {
            peer: b,
            update: eor(),
        });
        assert!(rib.take_output().is_empty(), "said once");
    }
}
