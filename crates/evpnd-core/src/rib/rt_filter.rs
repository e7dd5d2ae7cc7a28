//! RT-Constrain (RFC 4684) on the way out: which EVPN routes a peer that
//! negotiated AFI 1 / SAFI 132 may be sent.
//!
//! RFC 4684 section 3: a route goes to such a peer only when one of its
//! route targets matches one of the RT membership NLRI the peer announced
//! (the default membership, length 0, matches everything). A peer without
//! the capability gets every route (section 3, the default behaviour of a
//! speaker that does not support it).
//!
//! Peers are grouped by what they are sent (`adj_out`); a peer's RT
//! membership becomes part of its group as a [`RtFilterId`]: the set of
//! memberships interned, so peers that announced the same set share a
//! group, and its batches, as before.

use super::loc_rib::Path;
use evpnd_wire::rtc::RtMembership;
use std::collections::{BTreeSet, HashMap};

/// An interned RT membership set, or none (the peer is not constrained).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RtFilterId(u32);

impl RtFilterId {
    /// A peer that did not negotiate RT-Constrain: everything goes.
    pub const UNCONSTRAINED: RtFilterId = RtFilterId(u32::MAX);
}

/// Every distinct membership set any peer has, by id. Sets are few (one
/// per distinct set of VNIs' import RTs in the fabric) and never
/// forgotten while the process runs; an id stays valid for good.
#[derive(Debug, Default)]
pub struct RtFilters {
    ids: HashMap<BTreeSet<RtMembership>, RtFilterId>,
    sets: Vec<BTreeSet<RtMembership>>,
}

impl RtFilters {
    /// The id of `set`, the same for equal sets.
    pub fn intern(&mut self, set: &BTreeSet<RtMembership>) -> RtFilterId {
        if let Some(id) = self.ids.get(set) {
            return *id;
        }
        let id = RtFilterId(u32::try_from(self.sets.len()).unwrap_or(u32::MAX - 1));
        self.sets.push(set.clone());
        self.ids.insert(set.clone(), id);
        id
    }

    /// The memberships behind `id` (empty for [`RtFilterId::UNCONSTRAINED`]).
    pub fn set(&self, id: RtFilterId) -> Option<&BTreeSet<RtMembership>> {
        self.sets.get(id.0 as usize)
    }

    /// May `path` go to a peer whose filter is `id` (RFC 4684 section 3)?
    pub fn allows(&self, id: RtFilterId, path: &Path) -> bool {
        if id == RtFilterId::UNCONSTRAINED {
            return true;
        }
        let Some(set) = self.sets.get(id.0 as usize) else {
            return false;
        };
        // `Default` sorts first: one look answers "everything".
        if set.first() == Some(&RtMembership::Default) {
            return true;
        }
        path.attrs
            .route_targets()
            .iter()
            .any(|rt| set.iter().any(|m| m.covers(rt)))
    }
}

/// What a peer with RT-Constrain has told us so far (RFC 4684): the RT
/// membership NLRI it announced and not withdrawn (section 4), and whether
/// that set is complete, that is its RT membership End-of-RIB arrived or
/// the wait for it ran out (section 6). The RIB keeps one per constrained
/// peer; the session task keeps its own, to hand it over at `evpnd
/// upgrade` (ADR 0010), so that the next image filters the resumed
/// session at once, exactly as before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerRtMembership {
    pub memberships: BTreeSet<RtMembership>,
    pub complete: bool,
}

impl PeerRtMembership {
    /// One UPDATE's RT membership NLRI: the withdrawn go, then the
    /// announced come (an NLRI in both stays, as the UPDATE's reachable
    /// NLRI are the later word, RFC 4760 section 3); an End-of-RIB
    /// completes the set.
    pub fn apply(
        &mut self,
        announced: &[RtMembership],
        withdrawn: &[RtMembership],
        end_of_rib: bool,
    ) {
        for m in withdrawn {
            self.memberships.remove(m);
        }
        self.memberships.extend(announced.iter().copied());
        self.complete |= end_of_rib;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rib::attrs::{AttrInterner, PathSummary, encode_stored};
    use crate::rib::loc_rib::NlriBytes;
    use crate::rib::peer::PeerIdx;
    use evpnd_wire::attribute::{AttributeValue, PathAttribute};
    use evpnd_wire::extcomm::{ExtendedCommunity, RouteTarget};

    fn rt(s: &str) -> RouteTarget {
        s.parse().unwrap()
    }

    fn path_with(interner: &mut AttrInterner, rts: &[&str]) -> Path {
        let communities = rts.iter().map(|r| ExtendedCommunity::RouteTarget(rt(r)));
        let attrs = encode_stored(&[PathAttribute::new(AttributeValue::ExtendedCommunities(
            communities.collect(),
        ))]);
        Path {
            attrs: interner.intern(PeerIdx(1), &attrs, &[], PathSummary::default),
            nlri: NlriBytes::from_slice(&[3, 0]),
        }
    }

    #[test]
    fn a_route_goes_where_one_of_its_route_targets_is_a_member() {
        let mut interner = AttrInterner::default();
        let mut filters = RtFilters::default();
        let vni10 = path_with(&mut interner, &["65000:10"]);
        let both = path_with(&mut interner, &["65000:20", "65000:11"]);
        let none = path_with(&mut interner, &[]);
        let member = |r: &str| RtMembership::exact(65000, rt(r));
        let f10 = filters.intern(&BTreeSet::from([member("65000:10")]));
        let f11 = filters.intern(&BTreeSet::from([member("65000:11"), member("65000:12")]));
        assert!(filters.allows(f10, &vni10));
        assert!(!filters.allows(f10, &both));
        assert!(filters.allows(f11, &both));
        assert!(!filters.allows(f11, &vni10));
        // No membership yet: nothing (RFC 4684 section 3).
        let empty = filters.intern(&BTreeSet::new());
        assert!(!filters.allows(empty, &vni10));
        // The default membership and a peer without RTC: everything, a
        // route without route targets too.
        let default = filters.intern(&BTreeSet::from([RtMembership::Default]));
        for p in [&vni10, &both, &none] {
            assert!(filters.allows(default, p));
            assert!(filters.allows(RtFilterId::UNCONSTRAINED, p));
        }
        assert!(!filters.allows(f10, &none));
    }

    #[test]
    fn a_peers_membership_follows_its_updates() {
        let m = |r: &str| RtMembership::exact(65000, rt(r));
        let mut p = PeerRtMembership::default();
        p.apply(&[m("65000:10"), m("65000:11")], &[], false);
        assert_eq!(p.memberships.len(), 2);
        assert!(!p.complete);
        // Announced again: the same set; End-of-RIB completes it.
        p.apply(&[m("65000:10")], &[], true);
        assert_eq!(p.memberships.len(), 2);
        assert!(p.complete);
        p.apply(&[], &[m("65000:11")], false);
        assert_eq!(p.memberships, BTreeSet::from([m("65000:10")]));
        // Withdrawn and announced in one UPDATE: it stays.
        p.apply(&[m("65000:10")], &[m("65000:10")], false);
        // A withdrawal of what it never announced changes nothing.
        p.apply(&[], &[m("65000:99")], false);
        assert_eq!(p.memberships, BTreeSet::from([m("65000:10")]));
        assert!(p.complete, "a later UPDATE does not undo End-of-RIB");
    }

    #[test]
    fn equal_sets_share_an_id() {
        let mut filters = RtFilters::default();
        let a = BTreeSet::from([RtMembership::exact(65000, rt("65000:10"))]);
        let id = filters.intern(&a);
        assert_eq!(filters.intern(&a.clone()), id);
        assert_ne!(filters.intern(&BTreeSet::new()), id);
        assert_eq!(filters.set(id), Some(&a));
    }
}
