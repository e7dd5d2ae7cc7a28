//! Pure comparison of desired and observed kernel state.
//!
//! Two entry points:
//! - [`diff`] compares two whole states: used at startup (adoption of the
//!   entries a previous evpnd left behind) and on resync after ENOBUFS;
//! - [`apply_delta`] turns a small change of desired state (derived from
//!   route changes) into operations in O(delta · log n), so the reconciler
//!   never walks a full state at scale (docs/benchmarking.md: dumps are superlinear).
//!
//! Both emit operations in an order that does not lose traffic: new flood
//! rows and new/replaced MAC rows first, deletions after, flood rows last; a
//! MAC that moved VTEP is one in-place Replace (NLM_F_REPLACE), never
//! delete + add.

use super::model::{FloodEntry, KernelState, MacKey, NeighborKey, Object, StrayMacRow};
use std::collections::BTreeMap;

/// One change to kernel state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    /// The object is absent: create it.
    Add(Object),
    /// An object with the same identity exists with other values (a MAC at
    /// another VTEP, a neighbour with another MAC, half rows): overwrite it
    /// in place.
    Replace(Object),
    /// Remove the object (for MACs and neighbours, by identity).
    Delete(Object),
}

impl Op {
    pub const fn object(&self) -> &Object {
        match self {
            Op::Add(o) | Op::Replace(o) | Op::Delete(o) => o,
        }
    }

    /// Applies the operation to a model of kernel state, exactly as the
    /// kernel applies the corresponding request.
    pub fn apply_to(&self, state: &mut KernelState) {
        match self {
            Op::Add(o) | Op::Replace(o) => {
                state.upsert(*o);
            }
            Op::Delete(o) => {
                state.remove(o);
            }
        }
    }

    /// Position in the traffic-safe order; ties keep object order.
    fn phase(&self) -> u8 {
        match self {
            Op::Add(Object::Flood(_)) => 0,
            Op::Add(Object::Mac(_)) | Op::Replace(Object::Mac(_)) => 1,
            Op::Add(_) | Op::Replace(_) => 2,
            Op::Delete(Object::Neighbor(_)) => 3,
            Op::Delete(Object::Mac(_)) => 4,
            Op::Delete(Object::Stray(_)) => 5,
            Op::Delete(Object::Flood(_)) => 6,
        }
    }
}

/// The identity of an object: two objects with the same identity occupy the
/// same kernel slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKey {
    Mac(MacKey),
    Flood(FloodEntry),
    Neighbor(NeighborKey),
    Stray(StrayMacRow),
}

impl Object {
    pub const fn identity(&self) -> ObjectKey {
        match self {
            Object::Mac(m) => ObjectKey::Mac(m.key()),
            Object::Flood(e) => ObjectKey::Flood(*e),
            Object::Neighbor(n) => ObjectKey::Neighbor(n.key()),
            Object::Stray(s) => ObjectKey::Stray(*s),
        }
    }
}

/// Operations that turn `observed` into `desired` in one pass.
///
/// `desired` must have no strays (they only describe observed half rows).
pub fn diff(desired: &KernelState, observed: &KernelState) -> Vec<Op> {
    let mut ops = Vec::new();
    for d in desired.macs.values() {
        let absorbs_strays = observed.strays.iter().any(|s| absorbed(s, d));
        match observed.macs.get(&d.key()) {
            Some(o) if o == d && !absorbs_strays => {}
            Some(_) => ops.push(Op::Replace(Object::Mac(*d))),
            None if absorbs_strays => ops.push(Op::Replace(Object::Mac(*d))),
            None => ops.push(Op::Add(Object::Mac(*d))),
        }
    }
    for d in desired.floods.difference(&observed.floods) {
        ops.push(Op::Add(Object::Flood(*d)));
    }
    for d in desired.neighbors.values() {
        match observed.neighbors.get(&d.key()) {
            Some(o) if o == d => {}
            Some(_) => ops.push(Op::Replace(Object::Neighbor(*d))),
            None => ops.push(Op::Add(Object::Neighbor(*d))),
        }
    }
    for (key, o) in &observed.neighbors {
        if !desired.neighbors.contains_key(key) {
            ops.push(Op::Delete(Object::Neighbor(*o)));
        }
    }
    for (key, o) in &observed.macs {
        if !desired.macs.contains_key(key) {
            ops.push(Op::Delete(Object::Mac(*o)));
        }
    }
    for s in &observed.strays {
        if !desired.macs.values().any(|d| absorbed(s, d)) {
            ops.push(Op::Delete(Object::Stray(*s)));
        }
    }
    for o in observed.floods.difference(&desired.floods) {
        ops.push(Op::Delete(Object::Flood(*o)));
    }
    // Stable sort: within a phase, the deterministic map order above stays.
    ops.sort_by_key(Op::phase);
    ops
}

fn absorbed(stray: &StrayMacRow, mac: &super::model::RemoteMac) -> bool {
    match *stray {
        StrayMacRow::SelfOnly { vni, mac: m, .. } => vni == mac.vni && m == mac.mac,
        StrayMacRow::MasterOnly { vlan, mac: m, .. } => vlan == mac.vlan && m == mac.mac,
    }
}

/// A change of desired state: objects to set (insert or overwrite by
/// identity) and objects to remove (by identity). Removals apply before
/// upserts, so "remove K, upsert K'" with the same identity is a Replace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredDelta {
    pub upsert: Vec<Object>,
    pub remove: Vec<Object>,
}

impl DesiredDelta {
    pub fn is_empty(&self) -> bool {
        self.upsert.is_empty() && self.remove.is_empty()
    }
}

/// Applies `delta` to `state` (the desired state the reconciler believes is
/// installed) and returns the operations that bring the kernel along.
///
/// Equivalent to `diff(state_after, state_before)` but touches only the
/// objects named in the delta; changes that cancel out emit nothing.
pub fn apply_delta(state: &mut KernelState, delta: &DesiredDelta) -> Vec<Op> {
    // identity -> value before the delta (None: absent)
    let mut before: BTreeMap<ObjectKey, Option<Object>> = BTreeMap::new();
    for o in &delta.remove {
        let prior = state.remove(o);
        before.entry(o.identity()).or_insert(prior);
    }
    for o in &delta.upsert {
        let prior = state.upsert(*o);
        before.entry(o.identity()).or_insert(prior);
    }
    let mut ops = Vec::new();
    for (key, prior) in before {
        let now = match key {
            ObjectKey::Mac(k) => state.macs.get(&k).copied().map(Object::Mac),
            ObjectKey::Flood(e) => state.floods.get(&e).copied().map(Object::Flood),
            ObjectKey::Neighbor(k) => state.neighbors.get(&k).copied().map(Object::Neighbor),
            ObjectKey::Stray(s) => state.strays.get(&s).copied().map(Object::Stray),
        };
        match (prior, now) {
            (None, Some(n)) => ops.push(Op::Add(n)),
            (Some(p), Some(n)) if p != n => ops.push(Op::Replace(n)),
            (Some(p), None) => ops.push(Op::Delete(p)),
            _ => {}
        }
    }
    ops.sort_by_key(Op::phase);
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::model::{RemoteMac, SuppressionNeighbor};
    use evpnd_wire::mac::MacAddress;
    use proptest::prelude::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn vtep(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(198, 19, 0, n))
    }

    // Small domains so that generated states collide on identities often
    // (moves, replacements, strays that get absorbed).
    fn arb_mac() -> impl Strategy<Value = RemoteMac> {
        (1u32..4, 0u8..6, 1u8..4, any::<bool>()).prop_map(|(vni, m, t, sticky)| RemoteMac {
            vni,
            vlan: vni as u16 * 10,
            mac: MacAddress([2, 0, 0, 0, 0, m]),
            vtep: vtep(t),
            sticky,
        })
    }
    fn arb_flood() -> impl Strategy<Value = FloodEntry> {
        (1u32..4, 1u8..5).prop_map(|(vni, t)| FloodEntry { vni, vtep: vtep(t) })
    }
    fn arb_neighbor() -> impl Strategy<Value = SuppressionNeighbor> {
        (1u32..3, 1u8..5, 0u8..3).prop_map(|(ifindex, i, m)| SuppressionNeighbor {
            ifindex,
            ip: IpAddr::V4(Ipv4Addr::new(198, 18, 10, i)),
            mac: MacAddress([2, 0, 0, 0, 0, m]),
        })
    }
    fn arb_stray() -> impl Strategy<Value = StrayMacRow> {
        prop_oneof![
            (arb_mac()).prop_map(|m| StrayMacRow::SelfOnly {
                vni: m.vni,
                vlan: m.vlan,
                mac: m.mac,
                vtep: m.vtep,
                sticky: m.sticky
            }),
            (arb_mac()).prop_map(|m| StrayMacRow::MasterOnly {
                vlan: m.vlan,
                mac: m.mac,
                sticky: m.sticky
            }),
        ]
    }
    fn arb_state(with_strays: bool) -> impl Strategy<Value = KernelState> {
        let strays = if with_strays { 0..4usize } else { 0..1usize };
        (
            prop::collection::vec(arb_mac(), 0..12),
            prop::collection::vec(arb_flood(), 0..8),
            prop::collection::vec(arb_neighbor(), 0..6),
            prop::collection::vec(arb_stray(), strays),
        )
            .prop_map(move |(macs, floods, neighbors, strays)| {
                let mut s = KernelState::new();
                for m in macs {
                    s.macs.insert(m.key(), m);
                }
                s.floods.extend(floods);
                for n in neighbors {
                    s.neighbors.insert(n.key(), n);
                }
                if with_strays {
                    s.strays.extend(strays);
                }
                s
            })
    }

    fn apply_all(mut state: KernelState, ops: &[Op]) -> KernelState {
        for op in ops {
            op.apply_to(&mut state);
        }
        state
    }

    proptest! {
        #[test]
        fn applying_the_diff_yields_desired(desired in arb_state(false), observed in arb_state(true)) {
            let ops = diff(&desired, &observed);
            prop_assert_eq!(apply_all(observed, &ops), desired);
        }

        #[test]
        fn diff_of_a_state_with_itself_is_empty(state in arb_state(false)) {
            prop_assert!(diff(&state, &state).is_empty());
        }

        #[test]
        fn ops_are_in_traffic_safe_order(desired in arb_state(false), observed in arb_state(true)) {
            let ops = diff(&desired, &observed);
            let first_delete = ops.iter().position(|o| matches!(o, Op::Delete(_))).unwrap_or(ops.len());
            prop_assert!(ops[first_delete..].iter().all(|o| matches!(o, Op::Delete(_))));
            let first_flood_delete = ops.iter().position(|o| matches!(o, Op::Delete(Object::Flood(_)))).unwrap_or(ops.len());
            prop_assert!(ops[first_flood_delete..].iter().all(|o| matches!(o, Op::Delete(Object::Flood(_)))));
            // Never a delete and an add/replace of the same MAC identity.
            for op in &ops {
                if let Op::Delete(Object::Mac(m)) = op {
                    prop_assert!(!desired.macs.contains_key(&m.key()));
                }
            }
        }

        #[test]
        fn delta_matches_full_diff(before in arb_state(false),
                                   upsert in prop::collection::vec(prop_oneof![
                                       arb_mac().prop_map(Object::Mac),
                                       arb_flood().prop_map(Object::Flood),
                                       arb_neighbor().prop_map(Object::Neighbor)], 0..10),
                                   remove in prop::collection::vec(prop_oneof![
                                       arb_mac().prop_map(Object::Mac),
                                       arb_flood().prop_map(Object::Flood),
                                       arb_neighbor().prop_map(Object::Neighbor)], 0..10)) {
            let mut after = before.clone();
            let delta = DesiredDelta { upsert, remove };
            let ops = apply_delta(&mut after, &delta);
            prop_assert_eq!(&ops, &diff(&after, &before));
            prop_assert_eq!(apply_all(before, &ops), after);
        }
    }

    #[test]
    fn a_mac_that_moved_vtep_is_one_replace() {
        let m = RemoteMac {
            vni: 10,
            vlan: 10,
            mac: MacAddress([2, 0x0a, 0, 0, 0, 1]),
            vtep: vtep(2),
            sticky: false,
        };
        let moved = RemoteMac { vtep: vtep(3), ..m };
        let mut observed = KernelState::new();
        observed.upsert(Object::Mac(m));
        let mut desired = KernelState::new();
        desired.upsert(Object::Mac(moved));
        assert_eq!(
            diff(&desired, &observed),
            vec![Op::Replace(Object::Mac(moved))]
        );
        let delta = DesiredDelta {
            upsert: vec![Object::Mac(moved)],
            remove: vec![Object::Mac(m)],
        };
        assert_eq!(
            apply_delta(&mut observed, &delta),
            vec![Op::Replace(Object::Mac(moved))]
        );
    }

    #[test]
    fn flood_rows_are_added_before_old_ones_are_deleted() {
        let mut observed = KernelState::new();
        observed.upsert(Object::Flood(FloodEntry {
            vni: 10,
            vtep: vtep(2),
        }));
        let mut desired = KernelState::new();
        desired.upsert(Object::Flood(FloodEntry {
            vni: 10,
            vtep: vtep(3),
        }));
        let m = RemoteMac {
            vni: 10,
            vlan: 10,
            mac: MacAddress([2, 0x0a, 0, 0, 0, 1]),
            vtep: vtep(3),
            sticky: false,
        };
        desired.upsert(Object::Mac(m));
        assert_eq!(
            diff(&desired, &observed),
            vec![
                Op::Add(Object::Flood(FloodEntry {
                    vni: 10,
                    vtep: vtep(3)
                })),
                Op::Add(Object::Mac(m)),
                Op::Delete(Object::Flood(FloodEntry {
                    vni: 10,
                    vtep: vtep(2)
                })),
            ]
        );
    }
}
