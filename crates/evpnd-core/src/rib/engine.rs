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

use super::adj_out::{ChangeSet, OutBatch, OutGroupKey, OutPeers, full_table, refilter};
use super::attrs::AttrInterner;
use super::encode::{OutboundEncoder, end_of_rib};
pub use super::ingress::{IngressUpdate, Reach};
use super::loc_rib::{BestChange, LocRib, NlriBytes, Path};
use super::peer::{PeerIdx, PeerInfo, PeerKind, PeerTable, may_advertise};
use super::prefix_limit::{PrefixAlert, PrefixLimit, PrefixLimits};
use super::rt_filter::{PeerRtMembership, RtFilterId, RtFilters};
use bytes::Bytes;
use evpnd_wire::evpn::{EvpnRouteKey, evpn_route_key, split_evpn_nlri};
use evpnd_wire::rtc::RtMembership;
use hashbrown::HashMap;
use std::collections::BTreeSet;
use std::sync::Arc;
use tracing::{debug, info, warn};

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
    /// Kept from a peer's previous session (RFC 4724 section 4.2).
    pub stale: bool,
}

/// Per-peer counters for `show neighbors`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerCounters {
    pub received: u32,
    pub sent: u64,
    /// Routes kept from the peer's last session, not yet refreshed (RFC 4724).
    pub stale: u64,
    /// The RT membership NLRI it announced, when it negotiated
    /// RT-Constrain (RFC 4684).
    pub rt_memberships: Option<u64>,
}

/// What a new session tells the RIB about Graceful Restart (RFC 4724),
/// decided by `session::graceful_restart` from the peer's OPEN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GracefulPeer {
    /// The routes kept from its previous session stay (stale) until it
    /// re-announces them or sends End-of-RIB (section 4.2: its new OPEN
    /// has the Forwarding State bit for the family); otherwise they go now.
    pub keeps_stale: bool,
    /// Our deferred first advertisement waits for its End-of-RIB (section
    /// 4.1: it advertised the capability and is not restarting itself).
    pub awaited: bool,
}

/// What changes the RIB.
pub enum RibInput {
    /// A session reached Established: register it and send it the table
    /// (unless the first advertisement is deferred, [`Rib::defer_selection`]).
    PeerUp {
        peer: PeerIdx,
        info: PeerInfo,
        group: OutGroupKey,
        graceful: GracefulPeer,
        /// Its maximum prefixes, if it has a limit: the RIB says when its
        /// count crosses it ([`RibOutput::PrefixLimit`]).
        prefix_limit: Option<PrefixLimit>,
    },
    /// A session went down: withdraw its routes from everyone, or, when
    /// `retain` (RFC 4724 section 4.2, the peer is restarting), keep them as
    /// stale, still best and still reflected, until the peer re-announces
    /// them, sends End-of-RIB, or [`RibInput::StaleExpired`].
    PeerDown { peer: PeerIdx, retain: bool },
    /// The peer's restart time, or the bound on its End-of-RIB, ran out:
    /// what is still stale from it goes.
    StaleExpired { peer: PeerIdx },
    /// The neighbour was removed from the configuration (a reload) and its
    /// session has ended: its routes go, and it no longer counts among the
    /// configured peers (End-of-RIB sync, the deferral). Its index may be
    /// given to a peer added later.
    RemovePeer { peer: PeerIdx },
    /// The Selection_Deferral_Timer (RFC 4724 section 4.1) ran out: send
    /// every peer the table and End-of-RIB without waiting any longer.
    SelectionDeferralExpired,
    Update {
        peer: PeerIdx,
        update: IngressUpdate,
    },
    /// Routes this node originates (a VTEP's VNIs and local MACs), as if
    /// received from [`PeerIdx::LOCAL`].
    Local { update: IngressUpdate },
    /// RFC 2918: the peer asks for our whole Adj-RIB-Out again.
    RouteRefresh { peer: PeerIdx },
    /// Every path `peer` holds now is stale until it is announced again or
    /// withdrawn, or [`RibInput::StaleExpired`] removes it (ADR 0010: the
    /// local routes an upgraded process inherited, until its VTEP has
    /// originated its own).
    MarkStale { peer: PeerIdx },
    /// The peer negotiated RT-Constrain (RFC 4684): sent before its
    /// [`RibInput::PeerUp`], so that it gets EVPN routes only by its RT
    /// membership, and its table only after its RT membership End-of-RIB
    /// (section 6) or [`RibInput::RtMembershipWaitExpired`].
    RtConstrained { peer: PeerIdx },
    /// A session `evpnd upgrade` handed over (ADR 0010) that negotiated
    /// RT-Constrain: instead of [`RibInput::RtConstrained`], before its
    /// [`RibInput::PeerUp`], its RT membership as the previous image had
    /// it. Complete, the peer joins the group of that membership at its
    /// PeerUp and is sent its table by it at once (RFC 4684 section 3; it
    /// sent its End-of-RIB to the previous image, section 6, and sends no
    /// other); incomplete, it waits as a new one does.
    RtResumed {
        peer: PeerIdx,
        membership: PeerRtMembership,
    },
    /// RT membership NLRI the peer announced and withdrew (AFI 1 / SAFI
    /// 132, RFC 4684 section 4); `end_of_rib` when the UPDATE was the
    /// family's End-of-RIB.
    RtMembership {
        peer: PeerIdx,
        announced: Vec<RtMembership>,
        withdrawn: Vec<RtMembership>,
        end_of_rib: bool,
    },
    /// The bound on the wait for a peer's RT membership End-of-RIB ran
    /// out: it gets its table by the membership received so far.
    RtMembershipWaitExpired { peer: PeerIdx },
    /// The observer (a VTEP whose VNIs or route targets were reconfigured)
    /// asks for every best path again: it gets them as one
    /// [`RibEvent::Table`], after every change it was sent before and
    /// before any later one, so it can rebuild its import without a gap.
    ReplayToObserver,
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
    /// For the peer's session: its path count crossed its warning
    /// threshold or its limit.
    PrefixLimit(PrefixAlert),
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
    /// Every best path, as announcements (`old: None`), in answer to
    /// [`RibInput::ReplayToObserver`].
    Table(Vec<BestChange<EvpnRouteKey>>),
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
    /// Routes kept from peers whose session ended gracefully.
    stale: StaleRoutes,
    /// While set, our first advertisement waits (RFC 4724 section 4.1).
    deferral: Option<Deferral>,
    /// The peers' maximum prefixes.
    limits: PrefixLimits,
    /// The RT membership sets peers announced, interned.
    filters: RtFilters,
    /// The peers that negotiated RT-Constrain (RFC 4684), while up.
    constrained: HashMap<PeerIdx, ConstrainedPeer>,
}

/// A peer with RT-Constrain: what it asked for, and whether its table
/// still waits for its RT membership End-of-RIB (RFC 4684 section 6).
#[derive(Debug, Default)]
struct ConstrainedPeer {
    /// Its memberships; complete once its End-of-RIB arrived (or the wait
    /// ran out).
    membership: PeerRtMembership,
    /// Its group key while it waits out of the groups.
    waiting: Option<OutGroupKey>,
}

/// Routes kept, per peer, after its session ended gracefully (RFC 4724
/// section 4.2): the keys not re-announced or withdrawn since. The paths
/// stay in the Loc-RIB as they were (best, reflected, installed); this only
/// says which of them go when the peer's End-of-RIB or timer comes.
#[derive(Debug, Default)]
struct StaleRoutes {
    by_peer: HashMap<PeerIdx, hashbrown::HashSet<EvpnRouteKey>>,
}

impl StaleRoutes {
    fn mark(&mut self, peer: PeerIdx, keys: Vec<EvpnRouteKey>) {
        if !keys.is_empty() {
            self.by_peer.entry(peer).or_default().extend(keys);
        }
    }

    fn count(&self, peer: PeerIdx) -> usize {
        self.by_peer.get(&peer).map_or(0, |keys| keys.len())
    }

    /// `peer` re-announced or withdrew `key`: it is current again.
    fn refreshed(&mut self, peer: PeerIdx, key: &EvpnRouteKey) {
        if let Some(keys) = self.by_peer.get_mut(&peer) {
            keys.remove(key);
        }
    }

    fn is_stale(&self, peer: PeerIdx, key: &EvpnRouteKey) -> bool {
        self.by_peer
            .get(&peer)
            .is_some_and(|keys| keys.contains(key))
    }
}

/// The deferred first advertisement after our own start (RFC 4724 section
/// 4.1): peers get the table and End-of-RIB once every peer we wait for
/// sent its End-of-RIB, or when the deferral timer runs out.
#[derive(Debug, Default)]
struct Deferral {
    /// Peers whose End-of-RIB we do not wait for (section 4.1: restarting
    /// themselves, or without the capability), known once they are up.
    not_awaited: BTreeSet<PeerIdx>,
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
            stale: StaleRoutes::default(),
            deferral: None,
            limits: PrefixLimits::default(),
            filters: RtFilters::default(),
            constrained: HashMap::new(),
        }
    }

    /// Defer the first advertisement to every peer until the peers' routes
    /// are in (RFC 4724 section 4.1): called at start by a restarting
    /// speaker, whose peers keep its routes meanwhile. Peers that come up
    /// are registered and get nothing until every configured peer we wait
    /// for has sent End-of-RIB, or [`RibInput::SelectionDeferralExpired`].
    /// The local routes must be in before the first peer is (the VTEP reads
    /// the kernel before any session starts).
    pub fn defer_selection(&mut self) {
        self.deferral = Some(Deferral::default());
    }

    /// Whether the first advertisement is still deferred.
    pub fn deferring(&self) -> bool {
        self.deferral.is_some()
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
            RibInput::PeerUp {
                peer,
                info,
                group,
                graceful,
                prefix_limit,
            } => {
                self.limits.set(peer, prefix_limit);
                if !graceful.keeps_stale {
                    self.flush_stale(peer, "its new session does not preserve them");
                }
                // Changes queued so far were planned without this peer; send
                // them first so the dump below is the peer's whole truth.
                self.flush(out);
                self.peers.set(peer, info);
                let slot = usize::from(peer.0);
                if self.up.len() <= slot {
                    self.up.resize(slot + 1, false);
                }
                self.up[slot] = true;
                if let Some(c) = self.constrained.get_mut(&peer) {
                    if !c.membership.complete {
                        // RFC 4684 section 6: no EVPN route before its RT
                        // membership is in; it stays out of the groups.
                        c.waiting = Some(group);
                        if let Some(deferral) = &mut self.deferral {
                            if !graceful.awaited {
                                deferral.not_awaited.insert(peer);
                            }
                            // It may have been the last one waited for.
                            self.end_deferral_if_ready(out);
                        }
                        return;
                    }
                    let filter = self.filters.intern(&c.membership.memberships);
                    self.out.join_filtered(peer, group, filter);
                } else {
                    self.out.join(peer, group);
                }
                if let Some(deferral) = &mut self.deferral {
                    if !graceful.awaited {
                        deferral.not_awaited.insert(peer);
                    }
                    self.end_deferral_if_ready(out);
                } else {
                    self.send_full_table(peer, out);
                }
            }
            RibInput::PeerDown { peer, retain } => {
                self.out.leave(peer);
                self.constrained.remove(&peer);
                if let Some(up) = self.up.get_mut(usize::from(peer.0)) {
                    *up = false;
                }
                if retain {
                    let keys = self.rib.keys_from(peer);
                    info!(
                        ?peer,
                        routes = keys.len(),
                        "peer down gracefully: its routes are kept as stale (RFC 4724)"
                    );
                    self.stale.mark(peer, keys);
                    return;
                }
                self.stale.by_peer.remove(&peer);
                let changes = self.rib.withdraw_peer(peer, &self.peers);
                debug!(?peer, withdrawn = changes.len(), "peer down");
                for change in changes {
                    self.note(Some(change));
                }
            }
            RibInput::RemovePeer { peer } => self.remove_peer(peer, out),
            RibInput::StaleExpired { peer } => {
                self.flush_stale(peer, "the peer's restart time or End-of-RIB bound ran out");
            }
            RibInput::SelectionDeferralExpired => {
                if self.deferral.is_some() {
                    warn!(
                        waiting_for = ?self.awaited_peers(),
                        "route selection deferral timer ran out: advertising without those peers' End-of-RIB"
                    );
                    self.end_deferral(out);
                }
            }
            RibInput::Update { peer, update } => {
                self.apply_update(peer, update, out);
                let received = self.rib.received_from(peer);
                if let Some(alert) = self.limits.check(peer, received) {
                    out.put(RibOutput::PrefixLimit(alert));
                }
            }
            RibInput::Local { update } => self.apply_update(PeerIdx::LOCAL, update, out),
            // A deferred peer gets the whole table when the deferral ends.
            RibInput::RouteRefresh { .. } if self.deferral.is_some() => {}
            RibInput::RouteRefresh { peer } => {
                self.flush(out);
                self.send_full_table(peer, out);
            }
            RibInput::MarkStale { peer } => {
                let keys = self.rib.keys_from(peer);
                debug!(?peer, routes = keys.len(), "paths marked stale");
                self.stale.mark(peer, keys);
            }
            RibInput::ReplayToObserver if self.observed => {
                // The changes applied so far go first: the table is the
                // state after them.
                self.flush(out);
                out.put(RibOutput::Event(RibEvent::Table(self.best_paths())));
            }
            RibInput::ReplayToObserver => {}
            RibInput::RtConstrained { peer } => {
                self.constrained.insert(peer, ConstrainedPeer::default());
            }
            RibInput::RtResumed { peer, membership } => {
                let c = ConstrainedPeer {
                    membership,
                    waiting: None,
                };
                self.constrained.insert(peer, c);
            }
            RibInput::RtMembership {
                peer,
                announced,
                withdrawn,
                end_of_rib,
            } => self.rt_membership(peer, announced, withdrawn, end_of_rib, out),
            RibInput::RtMembershipWaitExpired { peer } => {
                if self
                    .constrained
                    .get(&peer)
                    .is_some_and(|c| !c.membership.complete)
                {
                    warn!(
                        ?peer,
                        "no RT membership End-of-RIB in time: sending the table by the membership received so far (RFC 4684 section 6)"
                    );
                    self.rt_membership_ready(peer, out);
                }
            }
        }
    }

    /// Every key's best path, as an announcement.
    fn best_paths(&self) -> Vec<BestChange<EvpnRouteKey>> {
        self.rib
            .iter()
            .filter_map(|paths| {
                let best = paths.first()?;
                Some(BestChange {
                    key: self.rib.key(best)?,
                    old: None,
                    new: Some(best.clone()),
                })
            })
            .collect()
    }

    fn remove_peer(&mut self, peer: PeerIdx, out: &mut impl RibOutlet) {
        if peer == PeerIdx::LOCAL || self.peers.get(peer).is_none() {
            return;
        }
        self.handle(
            RibInput::PeerDown {
                peer,
                retain: false,
            },
            out,
        );
        // The withdrawals are planned with the peer still known (its kind
        // decides who had its routes).
        self.flush(out);
        self.peers.remove(peer);
        self.configured = self.configured.saturating_sub(1);
        self.end_of_rib_from.remove(&peer);
        if let Some(deferral) = &mut self.deferral {
            deferral.not_awaited.remove(&peer);
            self.end_deferral_if_ready(out);
        }
        debug!(?peer, "peer removed");
    }

    /// Routes received from and advertised to `peer`, for `show neighbors`.
    pub fn counters(&self, peer: PeerIdx) -> PeerCounters {
        PeerCounters {
            received: self.rib.received_from(peer),
            sent: self.advertised_to(peer),
            stale: self.stale.count(peer) as u64,
            rt_memberships: self.rt_memberships(peer).map(|n| n as u64),
        }
    }

    /// Sizes by route type and type-2 VNI: read off counters kept as routes
    /// change, O(route types + VNIs), never a walk of the table.
    /// The Loc-RIB table's size, slots used or not.
    pub fn loc_rib_footprint(&self) -> super::loc_rib::TableFootprint {
        self.rib.footprint()
    }

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
                    stale: self.stale.is_stale(path.source(), &key),
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
        if let Some(group) = self.out.group_of(peer)
            && self.out.filter(group) != RtFilterId::UNCONSTRAINED
        {
            // What passes its RT membership (RFC 4684) has no running
            // count: a walk, for these peers only and only when asked.
            let filter = self.out.filter(group);
            return self
                .rib
                .iter()
                .filter(|paths| {
                    paths[0].source() != peer
                        && super::adj_out::advertisable(&paths[0], kind, &self.peers)
                        && self.filters.allows(filter, &paths[0])
                })
                .count() as u64;
        }
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
        if update.end_of_rib && peer != PeerIdx::LOCAL {
            // RFC 4724 section 4.2: the restarted peer re-announced what it
            // still has; what it did not is gone.
            self.flush_stale(peer, "End-of-RIB");
            if self.end_of_rib_from.insert(peer) {
                debug!(?peer, "End-of-RIB");
                if self.end_of_rib_from.len() == self.configured && self.observed {
                    // The changes applied so far go first.
                    self.flush(out);
                    out.put(RibOutput::Event(RibEvent::InitialSyncDone));
                }
                if self.deferral.is_some() {
                    self.end_deferral_if_ready(out);
                }
            }
        }
        // Only a peer with stale routes pays for the look-ups below.
        let refreshes_stale = self.stale.by_peer.contains_key(&peer);
        for field in &update.withdrawn {
            for nlri in split_evpn_nlri(field) {
                match nlri.and_then(evpn_route_key) {
                    Ok(key) => {
                        if refreshes_stale {
                            self.stale.refreshed(peer, &key);
                        }
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
                        if refreshes_stale {
                            self.stale.refreshed(peer, &key);
                        }
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

    /// Withdraw what is still stale from `peer` (RFC 4724 section 4.2).
    fn flush_stale(&mut self, peer: PeerIdx, why: &str) {
        let Some(keys) = self.stale.by_peer.remove(&peer) else {
            return;
        };
        info!(?peer, routes = keys.len(), why, "stale routes removed");
        for key in keys {
            let change = self.rib.withdraw(&key, peer, &self.peers);
            self.note(change);
        }
    }

    /// Configured peers whose End-of-RIB the deferral still waits for.
    fn awaited_peers(&self) -> Vec<PeerIdx> {
        let Some(deferral) = &self.deferral else {
            return Vec::new();
        };
        self.peers
            .iter()
            .map(|(peer, _)| peer)
            .filter(|peer| {
                *peer != PeerIdx::LOCAL
                    && !self.end_of_rib_from.contains(peer)
                    && !deferral.not_awaited.contains(peer)
            })
            .collect()
    }

    fn end_deferral_if_ready(&mut self, out: &mut impl RibOutlet) {
        if self.awaited_peers().is_empty() {
            info!("every peer's End-of-RIB is in: route selection deferral over");
            self.end_deferral(out);
        }
    }

    /// Our first advertisement (RFC 4724 section 4.1): the whole table and
    /// End-of-RIB to every peer that is up.
    fn end_deferral(&mut self, out: &mut impl RibOutlet) {
        if self.deferral.take().is_none() {
            return;
        }
        // What was applied while deferring goes to the observer; the peers
        // get it inside their tables.
        self.flush(out);
        let up: Vec<PeerIdx> = self
            .peers
            .iter()
            .map(|(peer, _)| peer)
            .filter(|peer| self.is_up(*peer))
            .collect();
        for peer in up {
            self.send_full_table(peer, out);
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
        if self.deferral.is_some() {
            // No peer has had its table yet: they get all of it at the end.
            self.pending = ChangeSet::default();
            self.interner.sweep();
            return;
        }
        let batches = std::mem::take(&mut self.pending).plan(&self.peers, &self.out, &self.filters);
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
        for batch in full_table(&self.rib, peer, &self.peers, &self.out, &self.filters) {
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

mod rt_constraint;
#[cfg(test)]
mod rtc_tests;
#[cfg(test)]
mod tests;
