//! Import (RFC 7432 section 9.2, RFC 8365 section 5.1): from the Loc-RIB's
//! best paths to the kernel state a VTEP wants (`dataplane::model`).
//!
//! A best path is imported into the instances whose import RTs match one of
//! its RTs *and* whose VNI is the route's VNI (type 2: label1, type 3: the
//! PMSI label, RFC 8365 section 5.1.3): with RTs shared between VNIs, the
//! label picks the instance, and the kernel model (one VNI per VLAN, no
//! NDA_VNI) cannot express a remote VNI other than the local one anyway.
//!
//! What a route imports as is computed once per best-path change and kept
//! per route key, so a change touches only the kernel objects ("slots") the
//! old and the new path contribute to:
//! - a flood entry `(VNI, VTEP)` exists while any type 3 claims it (several
//!   RDs of one VTEP share it);
//! - a remote MAC `(VNI, VLAN, MAC)` takes the winner among every type 2
//!   for that MAC in the VNI, any RD, ours included (RFC 7432 section 15,
//!   [`compare_claims`]); when ours wins, nothing is installed;
//! - a suppression neighbour `(SVI, IP)` likewise from the MAC+IP routes.
//!
//! Routes whose next hop is our VTEP (or that we originate) are ours: they
//! take part in MAC selection but are never installed.

use super::instance::EvpnInstances;
use super::mobility::{MacClaim, compare_claims};
use crate::dataplane::diff::DesiredDelta;
use crate::dataplane::model::{
    FloodEntry, KernelState, MacKey, Object, RemoteMac, SuppressionNeighbor, Vni,
};
use crate::rib::loc_rib::{BestChange, Path};
use crate::rib::peer::PeerIdx;
use evpnd_wire::Reader;
use evpnd_wire::evpn::{EvpnRoute, EvpnRouteKey, evpn_route_key};
use evpnd_wire::extcomm::RouteTarget;
use evpnd_wire::mac::MacAddress;
use evpnd_wire::pmsi::PmsiTunnelId;
use evpnd_wire::update::Update;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Per-instance import counters, for `show vnis`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounters {
    /// Best paths carrying this instance's VNI but none of its import RTs:
    /// not installed (RFC 7432 section 9.2), usually an RT misconfiguration.
    pub no_matching_rt: u64,
    /// Best paths with a matching RT but another VNI in their label.
    pub vni_mismatch: u64,
    /// Matching best paths that cannot be installed: a type 3 without an
    /// ingress-replication PMSI (RFC 8365 section 5.1.3), a type 2 whose
    /// next hop is not an address.
    pub unusable: u64,
}

/// Best paths that carry an instance's VNI but none of its import RTs,
/// grouped by where they come from: what an operator needs to fix the RT
/// configuration on one side or the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RtMismatch {
    pub vni: Vni,
    /// The advertising VTEP: the type 3's ingress-replication endpoint, the
    /// type 2's next hop.
    pub vtep: Option<IpAddr>,
    /// The route's lowest route target (it may carry more).
    pub route_target: Option<RouteTarget>,
}

/// What one best path contributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contribution {
    Flood(FloodEntry),
    Mac(MacKey, MacClaim),
    Neighbor(NeighborSlot, MacAddress, MacClaim),
    NoMatchingRt(RtMismatch),
    VniMismatch(Vni),
    Unusable(Vni),
    /// Neither an RT nor the VNI of any instance.
    Foreign,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct NeighborSlot {
    ifindex: u32,
    ip: IpAddr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    Flood(FloodEntry),
    Mac(MacKey),
    Neighbor(NeighborSlot),
}

/// Incremental import of best-path changes into desired kernel state.
#[derive(Debug, Clone)]
pub struct Importer {
    instances: EvpnInstances,
    local_vtep: Option<IpAddr>,
    /// VLAN -> ifindex of its SVI. VLANs without one get no suppression
    /// neighbours. Rebuild the importer when an SVI is recreated.
    svi_ifindex: BTreeMap<u16, u32>,
    routes: HashMap<EvpnRouteKey, Vec<Contribution>>,
    floods: BTreeMap<FloodEntry, BTreeSet<EvpnRouteKey>>,
    macs: BTreeMap<MacKey, BTreeMap<EvpnRouteKey, MacClaim>>,
    neighbors: BTreeMap<NeighborSlot, BTreeMap<EvpnRouteKey, (MacAddress, MacClaim)>>,
    counters: BTreeMap<Vni, ImportCounters>,
    rt_mismatches: BTreeMap<RtMismatch, u64>,
    /// Mismatches seen for the first time since the last
    /// [`Importer::take_new_rt_mismatches`], to be logged once.
    new_rt_mismatches: Vec<RtMismatch>,
    foreign: u64,
    overridden_local: BTreeSet<(Vni, MacAddress)>,
}

impl Importer {
    pub fn new(instances: EvpnInstances, svi_ifindex: BTreeMap<u16, u32>) -> Self {
        Self {
            local_vtep: instances.local_vtep(),
            instances,
            svi_ifindex,
            routes: HashMap::new(),
            floods: BTreeMap::new(),
            macs: BTreeMap::new(),
            neighbors: BTreeMap::new(),
            counters: BTreeMap::new(),
            rt_mismatches: BTreeMap::new(),
            new_rt_mismatches: Vec::new(),
            foreign: 0,
            overridden_local: BTreeSet::new(),
        }
    }

    pub fn instances(&self) -> &EvpnInstances {
        &self.instances
    }

    /// Applies one best-path change; returns the change of desired kernel
    /// state, for `dataplane::diff::apply_delta`.
    pub fn apply(&mut self, change: &BestChange<EvpnRouteKey>) -> DesiredDelta {
        let old = self.routes.remove(&change.key).unwrap_or_default();
        let new = change
            .new
            .as_ref()
            .map(|path| self.contributions(path))
            .unwrap_or_default();
        let touched: BTreeSet<Slot> = old.iter().chain(&new).filter_map(slot_of).collect();
        let before: Vec<Option<Object>> = touched.iter().map(|s| self.evaluate(s)).collect();
        for c in &old {
            self.withdraw(&change.key, c);
        }
        for c in &new {
            self.announce(&change.key, c);
        }
        if !new.is_empty() {
            self.routes.insert(change.key.clone(), new);
        }
        let mut delta = DesiredDelta::default();
        for (slot, before) in touched.iter().zip(before) {
            let after = self.evaluate(slot);
            if let Slot::Mac(key) = slot {
                self.note_overridden_local(key);
            }
            match (before, after) {
                (before, Some(after)) if before != Some(after) => delta.upsert.push(after),
                (Some(before), None) => delta.remove.push(before),
                _ => {}
            }
        }
        delta
    }

    /// Every slot evaluated: the whole desired state (start-up, resync).
    pub fn desired_state(&self) -> KernelState {
        let mut state = KernelState::new();
        let slots = self
            .floods
            .keys()
            .map(|e| Slot::Flood(*e))
            .chain(self.macs.keys().map(|k| Slot::Mac(*k)))
            .chain(self.neighbors.keys().map(|n| Slot::Neighbor(*n)));
        for slot in slots {
            if let Some(object) = self.evaluate(&slot) {
                state.upsert(object);
            }
        }
        state
    }

    /// Counters of the instance with VNI `vni`.
    pub fn counters(&self, vni: Vni) -> ImportCounters {
        self.counters.get(&vni).copied().unwrap_or_default()
    }

    /// The routes counted in `no_matching_rt` of VNI `vni`, by advertising
    /// VTEP and route target, with how many routes each.
    pub fn rt_mismatches(&self, vni: Vni) -> impl Iterator<Item = (&RtMismatch, u64)> {
        self.rt_mismatches
            .iter()
            .filter(move |(m, _)| m.vni == vni)
            .map(|(m, n)| (m, *n))
    }

    /// Mismatches that appeared since the last call (each reported once
    /// while it lasts), for the log.
    pub fn take_new_rt_mismatches(&mut self) -> Vec<RtMismatch> {
        std::mem::take(&mut self.new_rt_mismatches)
    }

    /// Best paths matching no instance by RT or VNI.
    pub fn foreign_routes(&self) -> u64 {
        self.foreign
    }

    /// Every claim held for `mac` in `vni` (any RD, ours included), for
    /// `MobilityTracker::learn`.
    pub fn mac_claims(&self, vni: Vni, mac: MacAddress) -> Vec<MacClaim> {
        let Some(instance) = self.instances.by_vni(vni) else {
            return Vec::new();
        };
        let key = MacKey {
            vni,
            vlan: instance.vlan,
            mac,
        };
        self.macs
            .get(&key)
            .map(|claims| claims.values().copied().collect())
            .unwrap_or_default()
    }

    /// Local MACs a remote route now beats (RFC 7432 section 15.1: higher
    /// sequence, a sticky MAC, or the lower VTEP at equal sequence). The
    /// caller must withdraw their routes (`MobilityTracker::forget`).
    pub fn take_overridden_local(&mut self) -> Vec<(Vni, MacAddress)> {
        std::mem::take(&mut self.overridden_local)
            .into_iter()
            .collect()
    }

    fn note_overridden_local(&mut self, key: &MacKey) {
        let Some(claims) = self.macs.get(key) else {
            return;
        };
        let winner = claims.values().min_by(|a, b| compare_claims(a, b));
        if winner.is_some_and(|w| !w.local) && claims.values().any(|c| c.local) {
            self.overridden_local.insert((key.vni, key.mac));
        }
    }

    fn evaluate(&self, slot: &Slot) -> Option<Object> {
        match slot {
            Slot::Flood(entry) => self
                .floods
                .get(entry)
                .filter(|routes| !routes.is_empty())
                .map(|_| Object::Flood(*entry)),
            Slot::Mac(key) => {
                let winner = self
                    .macs
                    .get(key)?
                    .values()
                    .min_by(|a, b| compare_claims(a, b))?;
                (!winner.local).then_some(Object::Mac(RemoteMac {
                    vni: key.vni,
                    vlan: key.vlan,
                    mac: key.mac,
                    vtep: winner.vtep,
                    sticky: winner.sticky,
                }))
            }
            Slot::Neighbor(n) => {
                let (mac, winner) = self
                    .neighbors
                    .get(n)?
                    .values()
                    .min_by(|(ma, a), (mb, b)| compare_claims(a, b).then(ma.cmp(mb)))?;
                (!winner.local).then_some(Object::Neighbor(SuppressionNeighbor {
                    ifindex: n.ifindex,
                    ip: n.ip,
                    mac: *mac,
                }))
            }
        }
    }

    fn announce(&mut self, key: &EvpnRouteKey, c: &Contribution) {
        match *c {
            Contribution::Flood(e) => {
                self.floods.entry(e).or_default().insert(key.clone());
            }
            Contribution::Mac(k, claim) => {
                self.macs.entry(k).or_default().insert(key.clone(), claim);
            }
            Contribution::Neighbor(n, mac, claim) => {
                self.neighbors
                    .entry(n)
                    .or_default()
                    .insert(key.clone(), (mac, claim));
            }
            Contribution::NoMatchingRt(m) => {
                self.counter(m.vni).no_matching_rt += 1;
                let n = self.rt_mismatches.entry(m).or_default();
                if *n == 0 {
                    self.new_rt_mismatches.push(m);
                }
                *n += 1;
            }
            Contribution::VniMismatch(vni) => self.counter(vni).vni_mismatch += 1,
            Contribution::Unusable(vni) => self.counter(vni).unusable += 1,
            Contribution::Foreign => self.foreign += 1,
        }
    }

    fn withdraw(&mut self, key: &EvpnRouteKey, c: &Contribution) {
        fn drop_from<K: Ord, V>(
            map: &mut BTreeMap<K, V>,
            slot: K,
            remove: impl FnOnce(&mut V) -> bool,
        ) {
            if let Some(v) = map.get_mut(&slot)
                && remove(v)
            {
                map.remove(&slot);
            }
        }
        match *c {
            Contribution::Flood(e) => drop_from(&mut self.floods, e, |s| {
                s.remove(key);
                s.is_empty()
            }),
            Contribution::Mac(k, _) => drop_from(&mut self.macs, k, |m| {
                m.remove(key);
                m.is_empty()
            }),
            Contribution::Neighbor(n, ..) => drop_from(&mut self.neighbors, n, |m| {
                m.remove(key);
                m.is_empty()
            }),
            Contribution::NoMatchingRt(m) => {
                let c = self.counter(m.vni);
                c.no_matching_rt = c.no_matching_rt.saturating_sub(1);
                drop_from(&mut self.rt_mismatches, m, |n| {
                    *n = n.saturating_sub(1);
                    *n == 0
                });
            }
            Contribution::VniMismatch(vni) => {
                let c = self.counter(vni);
                c.vni_mismatch = c.vni_mismatch.saturating_sub(1);
            }
            Contribution::Unusable(vni) => {
                let c = self.counter(vni);
                c.unusable = c.unusable.saturating_sub(1);
            }
            Contribution::Foreign => self.foreign = self.foreign.saturating_sub(1),
        }
    }

    fn counter(&mut self, vni: Vni) -> &mut ImportCounters {
        self.counters.entry(vni).or_default()
    }

    /// What `path` imports as (RFC 7432 section 9.2). A path the RIB
    /// accepted always decodes; anything else imports as nothing.
    fn contributions(&self, path: &Path) -> Vec<Contribution> {
        let Ok(route) = EvpnRoute::decode(&mut Reader::new(&path.nlri)) else {
            return Vec::new();
        };
        let attributes = read_attributes(path);
        // RFC 8365 section 5.1.3: the VNI is label1 of a type 2, the PMSI
        // label of a type 3 (which has none without a PMSI).
        let route_vni = match &route {
            EvpnRoute::MacIp(r) => Some(r.vni()),
            EvpnRoute::InclusiveMulticast(_) => attributes.pmsi_tunnel().map(|p| p.vni()),
            EvpnRoute::Opaque { .. } => return Vec::new(),
        };
        let next_hop = next_hop_addr(&path.attrs.next_hop);
        let ours =
            path.source() == PeerIdx::LOCAL || (next_hop.is_some() && next_hop == self.local_vtep);
        let communities = attributes.extended_communities().unwrap_or_default();
        let rts: BTreeSet<RouteTarget> = communities
            .iter()
            .filter_map(|c| c.route_target())
            .collect();
        let matched: BTreeSet<Vni> = rts
            .iter()
            .flat_map(|rt| self.instances.importing(rt).map(|i| i.vni))
            .collect();
        // RFC 8365 section 5.1.3 / RFC 7432 section 11.1: a type 3's BUM
        // goes to its PMSI tunnel endpoint by ingress replication.
        let replication_endpoint = match attributes.pmsi_tunnel().map(|p| &p.tunnel) {
            Some(PmsiTunnelId::IngressReplication { endpoint }) => Some(*endpoint),
            _ => None,
        };
        if matched.is_empty() {
            return vec![match route_vni.and_then(|vni| self.instances.by_vni(vni)) {
                Some(instance) => Contribution::NoMatchingRt(RtMismatch {
                    vni: instance.vni,
                    vtep: match route {
                        EvpnRoute::InclusiveMulticast(_) => replication_endpoint.or(next_hop),
                        _ => next_hop,
                    },
                    route_target: rts.first().copied(),
                }),
                None => Contribution::Foreign,
            }];
        }
        let mut out = Vec::new();
        for vni in matched {
            let Some(instance) = self.instances.by_vni(vni) else {
                continue;
            };
            match route_vni {
                None => {
                    out.push(Contribution::Unusable(vni));
                    continue;
                }
                Some(route_vni) if route_vni != vni => {
                    out.push(Contribution::VniMismatch(vni));
                    continue;
                }
                Some(_) => {}
            }
            match &route {
                EvpnRoute::InclusiveMulticast(_) => match replication_endpoint {
                    Some(vtep) => {
                        if !ours && Some(vtep) != self.local_vtep {
                            out.push(Contribution::Flood(FloodEntry { vni, vtep }));
                        }
                    }
                    None => out.push(Contribution::Unusable(vni)),
                },
                EvpnRoute::MacIp(r) => {
                    let Some(vtep) = next_hop else {
                        out.push(Contribution::Unusable(vni));
                        continue;
                    };
                    let mobility = path.attrs.summary.mac_mobility;
                    // A gateway's MAC (Default Gateway community, RFC 7432
                    // section 10.1) is as immovable as a sticky one (section
                    // 15.2): installed sticky, as zebra does, so a local port
                    // cannot take it over, and never beaten by a host's claim.
                    let default_gateway = communities.iter().any(|c| c.is_default_gateway());
                    let claim = MacClaim {
                        vtep,
                        sequence: mobility.map_or(0, |m| m.sequence),
                        sticky: mobility.is_some_and(|m| m.sticky()) || default_gateway,
                        local: ours,
                    };
                    out.push(Contribution::Mac(
                        MacKey {
                            vni,
                            vlan: instance.vlan,
                            mac: r.mac,
                        },
                        claim,
                    ));
                    // RFC 7432 section 10: MAC+IP routes feed ARP/ND
                    // suppression on the VLAN's SVI.
                    if let (Some(ip), Some(&ifindex)) = (r.ip, self.svi_ifindex.get(&instance.vlan))
                    {
                        out.push(Contribution::Neighbor(
                            NeighborSlot { ifindex, ip },
                            r.mac,
                            claim,
                        ));
                    }
                }
                EvpnRoute::Opaque { .. } => {}
            }
        }
        out
    }
}

fn slot_of(c: &Contribution) -> Option<Slot> {
    match *c {
        Contribution::Flood(e) => Some(Slot::Flood(e)),
        Contribution::Mac(k, _) => Some(Slot::Mac(k)),
        Contribution::Neighbor(n, ..) => Some(Slot::Neighbor(n)),
        _ => None,
    }
}

/// MP_REACH next hop octets to an address (RFC 4760 section 3; EVPN: 4 or
/// 16 octets, or 32 with an IPv6 link-local, RFC 2545 section 3).
/// The importer's reading of a path's stored attribute set: in the form the
/// set is stored in (`rib::attrs::STORED_FORM`, 4-octet AS, RFC 6793).
fn read_attributes(path: &Path) -> Update {
    path.attrs.decode()
}

fn next_hop_addr(octets: &[u8]) -> Option<IpAddr> {
    match octets.len() {
        4 => <[u8; 4]>::try_from(octets)
            .ok()
            .map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        16 | 32 => octets
            .get(..16)
            .and_then(|s| <[u8; 16]>::try_from(s).ok())
            .map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        _ => None,
    }
}

/// The desired kernel state for a whole Loc-RIB (its best paths), at
/// start-up: the same computation [`Importer::apply`] does incrementally.
pub fn desired_state<'a>(
    instances: &EvpnInstances,
    svi_ifindex: &BTreeMap<u16, u32>,
    best_paths: impl IntoIterator<Item = &'a Path>,
) -> (Importer, KernelState) {
    let mut importer = Importer::new(instances.clone(), svi_ifindex.clone());
    for path in best_paths {
        let Ok(key) = evpn_route_key(&path.nlri) else {
            continue;
        };
        let contributions = importer.contributions(path);
        for c in &contributions {
            importer.announce(&key, c);
        }
        if !contributions.is_empty() {
            importer.routes.insert(key, contributions);
        }
    }
    importer.overridden_local.clear();
    let state = importer.desired_state();
    (importer, state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::diff::apply_delta;
    use crate::evpn::instance::EvpnInstance;
    use crate::evpn::originate::{
        LocalAdvertisement, inclusive_multicast, mac_ip, mac_mobility_community,
    };
    use crate::rib::attrs::AttrInterner;
    use evpnd_wire::rd::RouteDistinguisher;
    use proptest::prelude::*;

    const SVI: u32 = 100;

    fn vtep(node: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(198, 19, 0, node))
    }

    fn mac(last: u8) -> MacAddress {
        MacAddress([2, 0x0a, 0, 0, 0, last])
    }

    /// The instance a VTEP `node` originates from: its RD, the given RT and
    /// label VNI.
    fn origin(node: u8, vni: Vni, rt: &str) -> EvpnInstance {
        EvpnInstance {
            vlan: 1,
            vni,
            rd: RouteDistinguisher::Ipv4 {
                addr: Ipv4Addr::new(198, 19, 0, node),
                number: vni as u16,
            },
            import_rts: Vec::new(),
            export_rts: vec![rt.parse().unwrap()],
            local_vtep: vtep(node),
        }
    }

    /// This VTEP: 198.19.0.1, VNI 10 on VLAN 100 (SVI 100), VNI 11 on VLAN 110.
    fn importer() -> Importer {
        let ours = |vlan, vni: Vni| EvpnInstance {
            vlan,
            vni,
            rd: RouteDistinguisher::Ipv4 {
                addr: Ipv4Addr::new(198, 19, 0, 1),
                number: vlan,
            },
            import_rts: vec![format!("65000:{vni}").parse().unwrap()],
            export_rts: vec![format!("65000:{vni}").parse().unwrap()],
            local_vtep: vtep(1),
        };
        let instances = EvpnInstances::new([ours(100, 10), ours(110, 11)]).unwrap();
        Importer::new(instances, BTreeMap::from([(100, SVI)]))
    }

    /// The best paths of one advertisement, as the Loc-RIB holds them.
    fn paths(
        interner: &mut AttrInterner,
        node: u8,
        ad: LocalAdvertisement,
    ) -> Vec<(EvpnRouteKey, Path)> {
        let source = if node == 1 {
            PeerIdx::LOCAL
        } else {
            PeerIdx(u16::from(node))
        };
        let summary = ad.summary.clone();
        let attrs = interner.intern(source, &ad.attributes, &ad.next_hop, || summary);
        ad.nlri
            .into_iter()
            .map(|nlri| {
                let key = evpn_route_key(&nlri).unwrap();
                (
                    key,
                    Path {
                        attrs: attrs.clone(),
                        nlri,
                    },
                )
            })
            .collect()
    }

    fn announce(importer: &mut Importer, (key, path): &(EvpnRouteKey, Path)) -> DesiredDelta {
        importer.apply(&BestChange {
            key: key.clone(),
            old: None,
            new: Some(path.clone()),
        })
    }

    fn withdraw(importer: &mut Importer, (key, path): &(EvpnRouteKey, Path)) -> DesiredDelta {
        importer.apply(&BestChange {
            key: key.clone(),
            old: Some(path.clone()),
            new: None,
        })
    }

    /// Stored attribute sets are in the 4-octet AS form (RFC 6793 section 4,
    /// `rib::attrs`); the importer must read them in that form, or a
    /// non-empty AS_PATH comes back wrong (or is dropped as malformed).
    #[test]
    fn stored_as_path_reads_back_with_four_octet_asns() {
        use evpnd_wire::as_path::{AsPath, Segment, SegmentType};
        use evpnd_wire::attribute::{AttributeValue, Origin, PathAttribute};
        use evpnd_wire::update::Update;
        let path = AsPath {
            segments: vec![Segment {
                kind: SegmentType::AsSequence,
                asns: vec![65001, 4_200_000_001],
            }],
        };
        // A received UPDATE from a 4-octet peer, stored as ingress stores it.
        let received = Update {
            attributes: vec![
                PathAttribute::new(AttributeValue::Origin(Origin::Igp)),
                PathAttribute::new(AttributeValue::AsPath(path.clone())),
            ],
            ..Update::default()
        };
        let stored = crate::rib::attrs::stored_attributes(&received, false);
        let mut interner = AttrInterner::default();
        let attrs = interner.intern(PeerIdx(3), &stored, &[198, 19, 0, 3], Default::default);
        let read = read_attributes(&Path {
            attrs,
            nlri: Default::default(),
        });
        assert_eq!(read.as_path(), Some(&path));
        assert_eq!(read.origin(), Some(Origin::Igp));
    }

    #[test]
    fn remote_routes_become_flood_mac_and_neighbor_entries() {
        let mut interner = AttrInterner::default();
        let mut imp = importer();
        let t3 = paths(
            &mut interner,
            2,
            inclusive_multicast(&origin(2, 10, "65000:10")),
        );
        let delta = announce(&mut imp, &t3[0]);
        let flood = FloodEntry {
            vni: 10,
            vtep: vtep(2),
        };
        assert_eq!(delta.upsert, vec![Object::Flood(flood)]);
        let ip: IpAddr = "198.18.10.2".parse().unwrap();
        let t2 = paths(
            &mut interner,
            2,
            mac_ip(
                &origin(2, 10, "65000:10"),
                None,
                [(mac(2), None), (mac(2), Some(ip))],
            ),
        );
        let remote = RemoteMac {
            vni: 10,
            vlan: 100,
            mac: mac(2),
            vtep: vtep(2),
            sticky: false,
        };
        assert_eq!(announce(&mut imp, &t2[0]).upsert, vec![Object::Mac(remote)]);
        let delta = announce(&mut imp, &t2[1]);
        assert_eq!(
            delta.upsert,
            vec![Object::Neighbor(SuppressionNeighbor {
                ifindex: SVI,
                ip,
                mac: mac(2)
            })],
            "the MAC is already installed; the MAC+IP route adds the neighbour"
        );
        // The MAC-only route goes: the MAC+IP route still holds the MAC.
        assert!(withdraw(&mut imp, &t2[0]).is_empty());
        let delta = withdraw(&mut imp, &t2[1]);
        assert_eq!(delta.remove.len(), 2);
        assert!(delta.upsert.is_empty());
        let delta = withdraw(&mut imp, &t3[0]);
        assert_eq!(delta.remove, vec![Object::Flood(flood)]);
        assert!(imp.desired_state().is_empty());
    }

    #[test]
    fn own_routes_and_unmatched_routes_are_not_installed() {
        let mut interner = AttrInterner::default();
        let mut imp = importer();
        // Ours: originated here (LOCAL) and our VTEP as next hop.
        for p in paths(
            &mut interner,
            1,
            inclusive_multicast(&origin(1, 10, "65000:10")),
        )
        .iter()
        .chain(&paths(
            &mut interner,
            1,
            mac_ip(&origin(1, 10, "65000:10"), None, [(mac(1), None)]),
        )) {
            assert!(announce(&mut imp, p).is_empty());
        }
        // VNI 10 in the label but RT 65000:99: counted, not installed.
        let stray = paths(
            &mut interner,
            2,
            inclusive_multicast(&origin(2, 10, "65000:99")),
        );
        assert!(announce(&mut imp, &stray[0]).is_empty());
        assert_eq!(imp.counters(10).no_matching_rt, 1);
        // ... and named: from which VTEP, with which RT, once in the log.
        let stray_rt: RouteTarget = "65000:99".parse().unwrap();
        assert_eq!(
            imp.rt_mismatches(10).collect::<Vec<_>>(),
            vec![(
                &RtMismatch {
                    vni: 10,
                    vtep: Some(vtep(2)),
                    route_target: Some(stray_rt),
                },
                1
            )]
        );
        assert_eq!(imp.take_new_rt_mismatches().len(), 1);
        assert!(imp.take_new_rt_mismatches().is_empty());
        // RT of VNI 11 with label 10: the label picks the instance.
        let mismatch = paths(
            &mut interner,
            3,
            mac_ip(&origin(3, 10, "65000:11"), None, [(mac(3), None)]),
        );
        assert!(announce(&mut imp, &mismatch[0]).is_empty());
        assert_eq!(imp.counters(11).vni_mismatch, 1);
        // Neither our RT nor our VNI.
        let foreign = paths(
            &mut interner,
            3,
            inclusive_multicast(&origin(3, 99, "65000:99")),
        );
        announce(&mut imp, &foreign[0]);
        assert_eq!(imp.foreign_routes(), 1);
        withdraw(&mut imp, &stray[0]);
        assert_eq!(imp.counters(10), ImportCounters::default());
        assert_eq!(imp.rt_mismatches(10).count(), 0);
    }

    #[test]
    fn a_default_gateway_mac_is_installed_sticky_and_beats_a_higher_sequence() {
        use evpnd_wire::attribute::{AttributeValue, Origin, PathAttribute};
        use evpnd_wire::extcomm::ExtendedCommunity;
        let mut interner = AttrInterner::default();
        let mut imp = importer();
        // RFC 7432 section 10.1: the gateway's MAC+IP route carries the
        // Default Gateway community; re-encode the attributes with it.
        let mut ad = mac_ip(&origin(3, 10, "65000:10"), None, [(mac(7), None)]);
        ad.attributes = crate::rib::attrs::encode_stored(&[
            PathAttribute::new(AttributeValue::Origin(Origin::Igp)),
            PathAttribute::new(AttributeValue::ExtendedCommunities(vec![
                ExtendedCommunity::VXLAN_ENCAPSULATION,
                ExtendedCommunity::RouteTarget("65000:10".parse().unwrap()),
                ExtendedCommunity::DefaultGateway,
            ])),
        ]);
        let gateway = paths(&mut interner, 3, ad).remove(0);
        let sticky_at = |node: u8| {
            Object::Mac(RemoteMac {
                vni: 10,
                vlan: 100,
                mac: mac(7),
                vtep: vtep(node),
                sticky: true,
            })
        };
        assert_eq!(announce(&mut imp, &gateway).upsert, vec![sticky_at(3)]);
        // A host elsewhere claiming the gateway's MAC, even with a higher
        // sequence, does not move it.
        let claim = paths(
            &mut interner,
            4,
            mac_ip(
                &origin(4, 10, "65000:10"),
                mac_mobility_community(5, false),
                [(mac(7), None)],
            ),
        )
        .remove(0);
        assert!(announce(&mut imp, &claim).upsert.is_empty());
    }

    #[test]
    fn mac_mobility_picks_the_winner_and_reports_overridden_local_macs() {
        let mut interner = AttrInterner::default();
        let mut imp = importer();
        let at = |interner: &mut AttrInterner, node: u8, seq: u32, sticky: bool| {
            paths(
                interner,
                node,
                mac_ip(
                    &origin(node, 10, "65000:10"),
                    mac_mobility_community(seq, sticky),
                    [(mac(9), None)],
                ),
            )
            .remove(0)
        };
        let m = |node: u8, sticky: bool| {
            Object::Mac(RemoteMac {
                vni: 10,
                vlan: 100,
                mac: mac(9),
                vtep: vtep(node),
                sticky,
            })
        };
        assert_eq!(
            announce(&mut imp, &at(&mut interner, 3, 0, false)).upsert,
            vec![m(3, false)]
        );
        // Same sequence from a lower VTEP: it wins (RFC 7432 15.1).
        assert_eq!(
            announce(&mut imp, &at(&mut interner, 2, 0, false)).upsert,
            vec![m(2, false)]
        );
        // The MAC moves to .4 with sequence 1.
        assert_eq!(
            announce(&mut imp, &at(&mut interner, 4, 1, false)).upsert,
            vec![m(4, false)]
        );
        // Learnt here: sequence 2 beats every remote; the remote MAC goes.
        let local = at(&mut interner, 1, 2, false);
        let delta = announce(&mut imp, &local);
        assert_eq!(delta.remove, vec![m(4, false)]);
        assert!(imp.take_overridden_local().is_empty());
        assert_eq!(imp.mac_claims(10, mac(9)).len(), 4);
        // .3 re-advertises with sequence 3: ours is overridden.
        assert_eq!(
            announce(&mut imp, &at(&mut interner, 3, 3, false)).upsert,
            vec![m(3, false)]
        );
        assert_eq!(imp.take_overridden_local(), vec![(10, mac(9))]);
        assert!(imp.take_overridden_local().is_empty());
        // A sticky MAC wins over any sequence.
        assert_eq!(
            announce(&mut imp, &at(&mut interner, 4, 0, true)).upsert,
            vec![m(4, true)]
        );
    }

    /// One route of the property test's universe.
    #[derive(Debug, Clone)]
    struct Announcement {
        node: u8,
        type3: bool,
        mac: u8,
        with_ip: bool,
        vni: Vni,
        rt: Vni,
        sequence: u32,
        sticky: bool,
    }

    fn any_announcement() -> impl Strategy<Value = Announcement> {
        (
            1u8..=4,
            any::<bool>(),
            1u8..=3,
            any::<bool>(),
            10u32..=11,
            prop_oneof![Just(10u32), Just(11), Just(99)],
            0u32..3,
            proptest::bool::weighted(0.15),
        )
            .prop_map(|(node, type3, mac, with_ip, vni, rt, sequence, sticky)| {
                Announcement {
                    node,
                    type3,
                    mac,
                    with_ip,
                    vni,
                    rt,
                    sequence,
                    sticky,
                }
            })
    }

    fn path_of(interner: &mut AttrInterner, a: &Announcement) -> (EvpnRouteKey, Path) {
        let o = origin(a.node, a.vni, &format!("65000:{}", a.rt));
        let ad = if a.type3 {
            inclusive_multicast(&o)
        } else {
            let ip = a
                .with_ip
                .then(|| IpAddr::V4(Ipv4Addr::new(198, 18, 10, a.mac)));
            mac_ip(
                &o,
                mac_mobility_community(a.sequence, a.sticky),
                [(mac(a.mac), ip)],
            )
        };
        paths(interner, a.node, ad).remove(0)
    }

    proptest! {
        /// Applying the deltas of any sequence of best-path changes gives the
        /// full computation on the final table, counters included.
        #[test]
        fn incremental_import_equals_full_computation(
            ops in proptest::collection::vec((any_announcement(), any::<bool>()), 1..40)
        ) {
            let mut interner = AttrInterner::default();
            let mut imp = importer();
            let mut installed = KernelState::new();
            let mut table: HashMap<EvpnRouteKey, Path> = HashMap::new();
            for (a, withdrawn) in &ops {
                let (key, path) = path_of(&mut interner, a);
                let old = table.get(&key).cloned();
                let new = if *withdrawn { table.remove(&key); None } else { table.insert(key.clone(), path.clone()); Some(path) };
                let delta = imp.apply(&BestChange { key, old, new });
                apply_delta(&mut installed, &delta);
            }
            let (full, state) = desired_state(imp.instances(), &BTreeMap::from([(100, SVI)]), table.values());
            prop_assert_eq!(&installed, &state);
            prop_assert_eq!(imp.desired_state(), state);
            for vni in [10, 11] {
                prop_assert_eq!(imp.counters(vni), full.counters(vni));
            }
            prop_assert_eq!(imp.foreign_routes(), full.foreign_routes());
            prop_assert!(installed.floods.iter().all(|f| f.vtep != vtep(1)));
            prop_assert!(installed.macs.values().all(|m| m.vtep != vtep(1)));
        }
    }
}
