//! MAC mobility (RFC 7432 section 15): which of several routes for one MAC
//! in one VNI wins, and which sequence number a locally learnt MAC is
//! advertised with.
//!
//! Out of scope: duplicate MAC detection (section 15.1's "N moves in M
//! seconds" damping) and sequence-number wrap-around; sequences saturate at
//! `u32::MAX` (four billion moves of one MAC).

use crate::dataplane::model::Vni;
use crate::wire::mac::MacAddress;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// One route's claim that a MAC lives behind a VTEP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MacClaim {
    /// The BGP next hop of the route (RFC 8365 section 5.1.3).
    pub vtep: IpAddr,
    /// MAC Mobility sequence; 0 without the community (RFC 7432 section 15.1).
    pub sequence: u32,
    /// MAC Mobility sticky/static flag (RFC 7432 section 15.2).
    pub sticky: bool,
    /// Our own route (originated by this VTEP).
    pub local: bool,
}

/// RFC 7432 section 15 preference between two claims on the same MAC:
/// `Less` when `a` wins.
/// 1. a sticky (static) MAC cannot move, it beats any dynamic one (15.2);
/// 2. the higher sequence number wins (15.1);
/// 3. equal sequence: the lower VTEP IP address wins (15.1), our own route
///    included ("it will compare its own IP address with the IP address of
///    the remote PE and will select the lowest IP"), so two VTEPs that
///    learnt the MAC at the same time agree on one;
/// 4. same VTEP (several RDs): our own route first.
pub fn compare_claims(a: &MacClaim, b: &MacClaim) -> Ordering {
    b.sticky
        .cmp(&a.sticky)
        .then(b.sequence.cmp(&a.sequence))
        .then(a.vtep.cmp(&b.vtep))
        .then(b.local.cmp(&a.local))
}

/// What to do with a MAC this VTEP has just learnt locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalMacDecision {
    /// Advertise (MAC-only and MAC+IP routes) with this sequence and flag,
    /// see `originate::mac_mobility_community`.
    Advertise { sequence: u32, sticky: bool },
    /// Another VTEP advertises the MAC as static (RFC 7432 section 15.2):
    /// do not advertise; warn the operator.
    StickyElsewhere { vtep: IpAddr },
}

/// The sequence and flag this VTEP advertises a local MAC with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMacState {
    pub sequence: u32,
    pub sticky: bool,
}

/// The locally learnt MACs and the sequence each is advertised with.
#[derive(Debug, Clone, Default)]
pub struct MobilityTracker {
    local: BTreeMap<(Vni, MacAddress), LocalMacState>,
}

impl MobilityTracker {
    /// `mac` was learnt locally in `vni` (`sticky`: a static MAC). `claims`
    /// are the routes currently held for the same MAC in the same VNI, any
    /// RD (`Importer::mac_claims`); our own claims among them are ignored.
    ///
    /// RFC 7432 section 15.1: a MAC learnt locally while another VTEP
    /// advertises it is advertised with the highest remote sequence + 1; a
    /// MAC already advertised keeps its sequence while it is still above
    /// every remote one, so re-learning is idempotent. Section 15.2: a
    /// dynamic MAC that another VTEP holds as static is not advertised.
    pub fn learn(
        &mut self,
        vni: Vni,
        mac: MacAddress,
        sticky: bool,
        claims: impl IntoIterator<Item = MacClaim>,
    ) -> LocalMacDecision {
        let remote: Vec<MacClaim> = claims.into_iter().filter(|c| !c.local).collect();
        if !sticky
            && let Some(holder) = remote
                .iter()
                .filter(|c| c.sticky)
                .min_by(|a, b| compare_claims(a, b))
        {
            self.local.remove(&(vni, mac));
            return LocalMacDecision::StickyElsewhere { vtep: holder.vtep };
        }
        let current = self.local.get(&(vni, mac)).map(|s| s.sequence);
        let highest_remote = remote.iter().map(|c| c.sequence).max();
        let sequence = match (current, highest_remote) {
            (Some(own), Some(other)) if own > other => own,
            (Some(own), None) => own,
            (_, Some(other)) => other.saturating_add(1),
            (None, None) => 0,
        };
        self.local
            .insert((vni, mac), LocalMacState { sequence, sticky });
        LocalMacDecision::Advertise { sequence, sticky }
    }

    /// The MAC is no longer local (aged out, or a remote route overrode it,
    /// `Importer::take_overridden_local`): its routes must be withdrawn
    /// (RFC 7432 section 15.1). Returns what was advertised.
    pub fn forget(&mut self, vni: Vni, mac: MacAddress) -> Option<LocalMacState> {
        self.local.remove(&(vni, mac))
    }

    /// The sequence and flag `mac` is advertised with, if it is local.
    pub fn advertised(&self, vni: Vni, mac: MacAddress) -> Option<LocalMacState> {
        self.local.get(&(vni, mac)).copied()
    }

    pub fn len(&self) -> usize {
        self.local.len()
    }

    pub fn is_empty(&self) -> bool {
        self.local.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn claim(node: u8, sequence: u32, sticky: bool, local: bool) -> MacClaim {
        MacClaim {
            vtep: IpAddr::V4(Ipv4Addr::new(198, 19, 0, node)),
            sequence,
            sticky,
            local,
        }
    }

    const MAC: MacAddress = MacAddress([2, 0x0a, 0, 0, 0, 1]);

    #[test]
    fn preference_is_sticky_then_sequence_then_lowest_vtep() {
        let best =
            |claims: &[MacClaim]| *claims.iter().min_by(|a, b| compare_claims(a, b)).unwrap();
        assert_eq!(
            best(&[claim(2, 1, false, false), claim(3, 2, false, false)]).vtep,
            claim(3, 0, false, false).vtep
        );
        assert_eq!(
            best(&[claim(3, 5, false, false), claim(4, 0, true, false)]),
            claim(4, 0, true, false)
        );
        assert_eq!(
            best(&[claim(3, 1, false, false), claim(2, 1, false, false)]),
            claim(2, 1, false, false)
        );
        // Equal sequence: the lower IP wins even against our own route.
        assert_eq!(
            best(&[claim(3, 0, false, true), claim(2, 0, false, false)]),
            claim(2, 0, false, false)
        );
        assert_eq!(
            best(&[claim(2, 0, false, false), claim(2, 0, false, true)]),
            claim(2, 0, false, true)
        );
    }

    #[test]
    fn a_moved_mac_outbids_the_remote_sequence_and_relearning_is_idempotent() {
        let mut t = MobilityTracker::default();
        assert_eq!(
            t.learn(10, MAC, false, []),
            LocalMacDecision::Advertise {
                sequence: 0,
                sticky: false
            }
        );
        // Seen remotely with sequence 4 (it moved away and back): 4 + 1.
        let remote = [claim(2, 4, false, false), claim(3, 2, false, false)];
        assert_eq!(
            t.learn(10, MAC, false, remote),
            LocalMacDecision::Advertise {
                sequence: 5,
                sticky: false
            }
        );
        // Our own route in the claims does not bump the sequence.
        let with_ours = [claim(2, 4, false, false), claim(1, 5, false, true)];
        assert_eq!(
            t.learn(10, MAC, false, with_ours),
            LocalMacDecision::Advertise {
                sequence: 5,
                sticky: false
            }
        );
        assert_eq!(
            t.advertised(10, MAC),
            Some(LocalMacState {
                sequence: 5,
                sticky: false
            })
        );
        assert_eq!(t.advertised(11, MAC), None, "per VNI");
        assert_eq!(t.forget(10, MAC).map(|s| s.sequence), Some(5));
        assert!(t.is_empty());
        let max = [claim(2, u32::MAX, false, false)];
        assert_eq!(
            t.learn(10, MAC, true, max),
            LocalMacDecision::Advertise {
                sequence: u32::MAX,
                sticky: true
            }
        );
    }

    #[test]
    fn a_sticky_remote_mac_is_not_taken_over() {
        let mut t = MobilityTracker::default();
        t.learn(10, MAC, false, []);
        let decision = t.learn(10, MAC, false, [claim(3, 0, true, false)]);
        assert_eq!(
            decision,
            LocalMacDecision::StickyElsewhere {
                vtep: claim(3, 0, false, false).vtep
            }
        );
        assert_eq!(t.advertised(10, MAC), None, "no longer advertised");
        // A static local MAC is advertised regardless (a configuration
        // conflict both sides report).
        assert!(matches!(
            t.learn(10, MAC, true, [claim(3, 0, true, false)]),
            LocalMacDecision::Advertise {
                sequence: 1,
                sticky: true
            }
        ));
    }
}
