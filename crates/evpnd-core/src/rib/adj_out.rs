//! Adj-RIB-Out without per-peer tables.
//!
//! What a peer has been sent is a pure function of the Loc-RIB's best path
//! and the reflection policy (RFC 4456 section 6, split horizon towards the
//! path's source). So a best-path change maps to a few *outbound batches*,
//! each "these NLRI, under this attribute set, to this group of peers (but
//! one)", which are encoded once and shared by every member of the group.
//! Peers with the same kind and capabilities, and the same RT membership
//! when they negotiated RT-Constrain (RFC 4684, `rt_filter.rs`), form one
//! group.

use super::attrs::AttrSet;
use super::loc_rib::{BestChange, LocRib, NlriBytes, Path};
use super::peer::{PeerIdx, PeerKind, PeerTable, may_advertise};
use super::rt_filter::{RtFilterId, RtFilters};
use hashbrown::HashMap;
use std::hash::Hash;
use std::sync::Arc;

/// What decides the bytes a peer is sent: its kind (reflected iBGP or eBGP
/// attributes), and the capabilities that change the encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutGroupKey {
    pub kind: PeerKind,
    /// RFC 6793: the peer understands 4-octet AS numbers.
    pub four_octet_as: bool,
    /// RFC 8654: 65535 when extended messages were negotiated, else 4096.
    pub max_message_len: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId(pub u16);

/// Who an outbound batch goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recipients {
    /// Every member of the group except, optionally, one peer (the source of
    /// the path: split horizon).
    Group {
        group: GroupId,
        except: Option<PeerIdx>,
    },
    /// One peer of the group.
    Peer { group: GroupId, peer: PeerIdx },
}

impl Recipients {
    pub fn group(&self) -> GroupId {
        match *self {
            Recipients::Group { group, .. } | Recipients::Peer { group, .. } => group,
        }
    }
}

/// NLRI to announce under one attribute set, or (attrs `None`) to withdraw.
#[derive(Debug)]
pub struct OutBatch {
    pub to: Recipients,
    pub attrs: Option<Arc<AttrSet>>,
    pub nlri: Vec<NlriBytes>,
}

/// The established peers that receive routes, by group.
#[derive(Debug, Default)]
pub struct OutPeers {
    groups: Vec<(OutGroupKey, RtFilterId, Vec<PeerIdx>)>,
}

impl OutPeers {
    /// Add an established peer that gets every route; returns its group.
    pub fn join(&mut self, peer: PeerIdx, key: OutGroupKey) -> GroupId {
        self.join_filtered(peer, key, RtFilterId::UNCONSTRAINED)
    }

    /// Add (or move) an established peer whose routes pass `filter` (its
    /// RT membership, RFC 4684); returns its group.
    pub fn join_filtered(
        &mut self,
        peer: PeerIdx,
        key: OutGroupKey,
        filter: RtFilterId,
    ) -> GroupId {
        self.leave(peer);
        let pos = match self
            .groups
            .iter()
            .position(|(k, f, _)| *k == key && *f == filter)
        {
            Some(pos) => pos,
            None => {
                self.groups.push((key, filter, Vec::new()));
                self.groups.len() - 1
            }
        };
        self.groups[pos].2.push(peer);
        GroupId(pos as u16)
    }

    /// Remove a peer (its session went down). Empty groups stay, so group ids
    /// stay stable.
    pub fn leave(&mut self, peer: PeerIdx) {
        for (_, _, members) in &mut self.groups {
            members.retain(|p| *p != peer);
        }
    }

    pub fn group_of(&self, peer: PeerIdx) -> Option<GroupId> {
        self.groups
            .iter()
            .position(|(_, _, members)| members.contains(&peer))
            .map(|g| GroupId(g as u16))
    }

    pub fn key(&self, group: GroupId) -> Option<OutGroupKey> {
        self.groups.get(usize::from(group.0)).map(|(k, _, _)| *k)
    }

    /// The RT membership filter of a group.
    pub fn filter(&self, group: GroupId) -> RtFilterId {
        self.groups
            .get(usize::from(group.0))
            .map_or(RtFilterId::UNCONSTRAINED, |(_, f, _)| *f)
    }

    /// The peers a batch is delivered to.
    pub fn members(&self, to: Recipients) -> impl Iterator<Item = PeerIdx> + '_ {
        let (members, except, only) = match to {
            Recipients::Group { group, except } => (self.members_of(group), except, None),
            Recipients::Peer { group, peer } => (self.members_of(group), None, Some(peer)),
        };
        members
            .iter()
            .copied()
            .filter(move |p| Some(*p) != except && only.is_none_or(|o| o == *p))
    }

    fn members_of(&self, group: GroupId) -> &[PeerIdx] {
        self.groups
            .get(usize::from(group.0))
            .map_or(&[], |(_, _, members)| members.as_slice())
    }

    fn active_groups(
        &self,
    ) -> impl Iterator<Item = (GroupId, &OutGroupKey, RtFilterId, &[PeerIdx])> {
        self.groups
            .iter()
            .enumerate()
            .filter(|(_, (_, _, members))| !members.is_empty())
            .map(|(i, (k, f, m))| (GroupId(i as u16), k, *f, m.as_slice()))
    }
}

/// Folds a stream of best-path changes into one net change per key, so that
/// a key announced and withdrawn within one batch produces nothing, and
/// batches never reorder two updates of the same key.
#[derive(Debug)]
pub struct ChangeSet<K> {
    net: HashMap<K, (Option<Path>, Option<Path>)>,
}

impl<K> Default for ChangeSet<K> {
    fn default() -> Self {
        Self {
            net: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash> ChangeSet<K> {
    pub fn push(&mut self, change: BestChange<K>) {
        self.net
            .entry(change.key)
            .and_modify(|(_, new)| new.clone_from(&change.new))
            .or_insert((change.old, change.new));
    }

    pub fn extend(&mut self, changes: impl IntoIterator<Item = BestChange<K>>) {
        for c in changes {
            self.push(c);
        }
    }

    pub fn len(&self) -> usize {
        self.net.len()
    }

    pub fn is_empty(&self) -> bool {
        self.net.is_empty()
    }

    /// The net changes, for observers other than the peers (the VTEP's
    /// importer).
    pub fn snapshot(&self) -> Vec<BestChange<K>>
    where
        K: Clone,
    {
        self.net
            .iter()
            .filter(|(_, (old, new))| !matches!((old, new), (Some(o), Some(n)) if o.same_as(n)))
            .map(|(key, (old, new))| BestChange {
                key: key.clone(),
                old: old.clone(),
                new: new.clone(),
            })
            .collect()
    }

    /// The outbound batches for everything that changed.
    pub fn plan(self, peers: &PeerTable, out: &OutPeers, filters: &RtFilters) -> Vec<OutBatch> {
        let mut plan = Planner::default();
        for (_, (old, new)) in self.net {
            if let (Some(o), Some(n)) = (&old, &new)
                && o.same_as(n)
            {
                continue;
            }
            for (group, key, filter, members) in out.active_groups() {
                let allowed =
                    |p: &Path| advertisable(p, key.kind, peers) && filters.allows(filter, p);
                plan.change(group, members, old.as_ref(), new.as_ref(), allowed);
            }
        }
        plan.finish()
    }
}

/// Everything in the Loc-RIB that `peer` (just established, or asking for a
/// route refresh, RFC 2918) should hold.
pub fn full_table<K: Eq + Hash + Clone>(
    rib: &LocRib<K>,
    peer: PeerIdx,
    peers: &PeerTable,
    out: &OutPeers,
    filters: &RtFilters,
) -> Vec<OutBatch> {
    let (Some(group), Some(info)) = (out.group_of(peer), peers.get(peer)) else {
        return Vec::new();
    };
    let filter = out.filter(group);
    let mut plan = Planner::default();
    for paths in rib.iter() {
        let best = &paths[0];
        if advertisable(best, info.kind, peers)
            && best.source() != peer
            && filters.allows(filter, best)
        {
            plan.announce(Recipients::Peer { group, peer }, best);
        }
    }
    plan.finish()
}

/// What `peer` must be sent now that its RT membership filter changed
/// from `before` to the one of the group it has just joined (RFC 4684
/// section 3): the routes the new membership lets through and the old
/// did not, announced; the ones the old let through and the new does not,
/// withdrawn.
pub fn refilter<K: Eq + Hash + Clone>(
    rib: &LocRib<K>,
    peer: PeerIdx,
    peers: &PeerTable,
    out: &OutPeers,
    filters: &RtFilters,
    before: RtFilterId,
) -> Vec<OutBatch> {
    let (Some(group), Some(info)) = (out.group_of(peer), peers.get(peer)) else {
        return Vec::new();
    };
    let now = out.filter(group);
    let mut plan = Planner::default();
    for paths in rib.iter() {
        let best = &paths[0];
        if !advertisable(best, info.kind, peers) || best.source() == peer {
            continue;
        }
        match (filters.allows(before, best), filters.allows(now, best)) {
            (false, true) => plan.announce(Recipients::Peer { group, peer }, best),
            (true, false) => plan.withdraw(Recipients::Peer { group, peer }, best),
            _ => {}
        }
    }
    plan.finish()
}

/// May `path` be advertised to a peer of kind `to` (RFC 4456 section 6)?
pub fn advertisable(path: &Path, to: PeerKind, peers: &PeerTable) -> bool {
    peers
        .get(path.source())
        .is_some_and(|src| may_advertise(src.kind, to))
}

#[derive(Default)]
struct Planner {
    announce: HashMap<(Recipients, *const AttrSet), OutBatch>,
    withdraw: HashMap<Recipients, Vec<NlriBytes>>,
}

impl Planner {
    fn announce(&mut self, to: Recipients, path: &Path) {
        self.announce
            .entry((to, Arc::as_ptr(&path.attrs)))
            .or_insert_with(|| OutBatch {
                to,
                attrs: Some(path.attrs.clone()),
                nlri: Vec::new(),
            })
            .nlri
            .push(path.nlri.clone());
    }

    fn withdraw(&mut self, to: Recipients, path: &Path) {
        self.withdraw.entry(to).or_default().push(path.nlri.clone());
    }

    /// One group's share of a best-path change from `old` to `new`;
    /// `allowed` says which paths the group may be sent at all (RFC 4456
    /// section 6, RFC 4684 section 3).
    fn change(
        &mut self,
        group: GroupId,
        members: &[PeerIdx],
        old: Option<&Path>,
        new: Option<&Path>,
        allowed: impl Fn(&Path) -> bool,
    ) {
        let old = old.filter(|p| allowed(p));
        let new = new.filter(|p| allowed(p));
        match (old, new) {
            (old, Some(new)) => {
                let source = new.source();
                let source_in_group = members.contains(&source);
                self.announce(
                    Recipients::Group {
                        group,
                        except: source_in_group.then_some(source),
                    },
                    new,
                );
                // The new path's source was sent the old path, and will not be
                // sent its own back: withdraw it there.
                if let Some(old) = old
                    && source_in_group
                    && old.source() != source
                {
                    self.withdraw(
                        Recipients::Peer {
                            group,
                            peer: source,
                        },
                        old,
                    );
                }
            }
            (Some(old), None) => {
                let source = old.source();
                let except = members.contains(&source).then_some(source);
                self.withdraw(Recipients::Group { group, except }, old);
            }
            (None, None) => {}
        }
    }

    fn finish(self) -> Vec<OutBatch> {
        let withdrawals = self.withdraw.into_iter().map(|(to, nlri)| OutBatch {
            to,
            attrs: None,
            nlri,
        });
        withdrawals.chain(self.announce.into_values()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rib::attrs::{AttrInterner, PathSummary};
    use crate::rib::peer::PeerInfo;
    use proptest::prelude::*;
    use std::net::{IpAddr, Ipv4Addr};

    const KINDS: [PeerKind; 4] = [
        PeerKind::IbgpClient,
        PeerKind::IbgpClient,
        PeerKind::IbgpNonClient,
        PeerKind::IbgpNonClient,
    ];

    fn setup() -> (PeerTable, OutPeers) {
        let info = |last: u8, kind| PeerInfo {
            address: IpAddr::V4(Ipv4Addr::new(198, 19, 0, last)),
            kind,
            remote_as: 65000,
            router_id: Ipv4Addr::new(198, 19, 0, last),
        };
        let mut peers = PeerTable::new(info(100, PeerKind::Local));
        let mut out = OutPeers::default();
        for (i, kind) in KINDS.iter().enumerate() {
            let idx = peers.add(info(i as u8 + 1, *kind));
            out.join(
                idx,
                OutGroupKey {
                    kind: *kind,
                    four_octet_as: true,
                    max_message_len: 4096,
                },
            );
        }
        (peers, out)
    }

    /// What each peer holds, as the batches it was sent say: key -> path
    /// identity (source, label).
    type Received = HashMap<PeerIdx, HashMap<u8, (PeerIdx, u8)>>;

    fn deliver(batches: Vec<OutBatch>, out: &OutPeers, received: &mut Received) {
        for b in batches {
            for peer in out.members(b.to) {
                let table = received.entry(peer).or_default();
                for nlri in &b.nlri {
                    match &b.attrs {
                        Some(a) => {
                            table.insert(nlri[0], (a.source, nlri[1]));
                        }
                        None => {
                            assert!(
                                table.remove(&nlri[0]).is_some(),
                                "withdrawal of a route {peer:?} was never sent"
                            );
                        }
                    }
                }
            }
        }
    }

    /// What RFC 4456 says each peer should hold.
    fn expected(rib: &LocRib<u8>, peers: &PeerTable, peer: PeerIdx) -> HashMap<u8, (PeerIdx, u8)> {
        let kind = peers.get(peer).unwrap().kind;
        rib.iter()
            .filter(|paths| advertisable(&paths[0], kind, peers) && paths[0].source() != peer)
            .map(|paths| (paths[0].nlri[0], (paths[0].source(), paths[0].nlri[1])))
            .collect()
    }

    #[derive(Debug, Clone)]
    enum Op {
        Announce {
            key: u8,
            peer: u16,
            lp: u32,
            label: u8,
        },
        Withdraw {
            key: u8,
            peer: u16,
        },
        PeerDown {
            peer: u16,
        },
        Flush,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..5, 0u16..5, 0u32..3, 0u8..2)
                .prop_map(|(key, peer, lp, label)| Op::Announce { key, peer, lp, label }),
            3 => (0u8..5, 0u16..5).prop_map(|(key, peer)| Op::Withdraw { key, peer }),
            1 => (1u16..5).prop_map(|peer| Op::PeerDown { peer }),
            2 => Just(Op::Flush),
        ]
    }

    proptest! {
        /// Delivering the planned batches leaves every peer holding exactly
        /// the best paths RFC 4456 lets it see, minus its own (split horizon),
        /// and a peer that joins late gets the same from `full_table`.
        #[test]
        fn peers_converge_to_the_reflection_policy(ops in prop::collection::vec(op(), 1..80)) {
            let (peers, out) = setup();
            let mut interner = AttrInterner::default();
            let mut rib: LocRib<u8> = LocRib::new(|nlri| nlri.first().copied());
            let mut received = Received::new();
            let mut pending = ChangeSet::default();
            let ops = ops.into_iter().chain([Op::Flush]);
            for op in ops {
                match op {
                    Op::Announce { key, peer, lp, label } => {
                        let attrs = interner.intern(PeerIdx(peer), &lp.to_be_bytes(), &[], || PathSummary {
                            local_pref: Some(lp),
                            ..Default::default()
                        });
                        let path = Path { attrs, nlri: NlriBytes::from_slice(&[key, label]) };
                        pending.extend(rib.announce(key, path, &peers));
                    }
                    Op::Withdraw { key, peer } => pending.extend(rib.withdraw(&key, PeerIdx(peer), &peers)),
                    // A peer's routes go away; its session stays in the groups
                    // (it re-announces later in the sequence).
                    Op::PeerDown { peer } => pending.extend(rib.withdraw_peer(PeerIdx(peer), &peers)),
                    Op::Flush => {
                        let batches = std::mem::take(&mut pending).plan(&peers, &out, &RtFilters::default());
                        deliver(batches, &out, &mut received);
                        for (idx, _) in peers.iter().skip(1) {
                            let got = received.get(&idx).cloned().unwrap_or_default();
                            prop_assert_eq!(&got, &expected(&rib, &peers, idx), "peer {:?}", idx);
                        }
                    }
                }
            }
            for (idx, _) in peers.iter().skip(1) {
                let mut fresh = Received::new();
                deliver(full_table(&rib, idx, &peers, &out, &RtFilters::default()), &out, &mut fresh);
                let got = fresh.remove(&idx).unwrap_or_default();
                prop_assert_eq!(got, expected(&rib, &peers, idx));
            }
        }
    }

    #[test]
    fn one_batch_per_attribute_set_shared_by_the_group() {
        let (peers, out) = setup();
        let mut interner = AttrInterner::default();
        let mut rib: LocRib<u8> = LocRib::new(|nlri| nlri.first().copied());
        let mut changes = ChangeSet::default();
        let attrs = interner.intern(PeerIdx(1), b"a", &[], PathSummary::default);
        for key in 0..100 {
            changes.extend(rib.announce(
                key,
                Path {
                    attrs: attrs.clone(),
                    nlri: NlriBytes::from_slice(&[key, 0]),
                },
                &peers,
            ));
        }
        let batches = changes.plan(&peers, &out, &RtFilters::default());
        // Two groups (clients, non-clients): one batch each, 100 NLRI each.
        assert_eq!(batches.len(), 2);
        assert!(batches.iter().all(|b| b.nlri.len() == 100));
        let client_batch = batches
            .iter()
            .find(|b| out.key(b.to.group()).unwrap().kind == PeerKind::IbgpClient)
            .unwrap();
        assert_eq!(
            client_batch.to,
            Recipients::Group {
                group: client_batch.to.group(),
                except: Some(PeerIdx(1))
            }
        );
        assert_eq!(
            out.members(client_batch.to).collect::<Vec<_>>(),
            vec![PeerIdx(2)]
        );
    }
}
