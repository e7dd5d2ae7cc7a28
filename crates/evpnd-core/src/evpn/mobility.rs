//! MAC mobility (RFC 7432 section 15): which of several routes for one MAC
//! in one VNI wins, and which sequence number a locally learnt MAC is
//! advertised with.
//!
//! Duplicate MAC detection (section 15.1): a MAC that moves here from
//! another VTEP [`DUPLICATE_MAX_MOVES`] times within [`DUPLICATE_WINDOW`] is
//! a duplicate (two live hosts with one MAC): it is no longer advertised
//! from here until it has stayed still for a whole window. The clock is an
//! argument, so this stays pure.
//!
//! Out of scope: sequence-number wrap-around; sequences saturate at
//! `u32::MAX` (four billion moves of one MAC).

use crate::dataplane::model::Vni;
use evpnd_wire::mac::MacAddress;
use std::cmp::Ordering;
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// RFC 7432 section 15.1 "N": moves that make a MAC a duplicate (FRR's
/// default `dup-addr-detection max-moves`).
pub const DUPLICATE_MAX_MOVES: usize = 5;
/// RFC 7432 section 15.1 "M": the window those moves must fall in (FRR's
/// default `dup-addr-detection time`).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(180);

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
    /// A duplicate MAC (RFC 7432 section 15.1): do not advertise. `new` on
    /// the move that made it one, for a single warning.
    Duplicate { new: bool, duplicate: DuplicateMac },
}

/// A MAC found to be a duplicate, for `show vnis`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplicateMac {
    pub mac: MacAddress,
    /// The VTEP it last moved here from.
    pub other_vtep: IpAddr,
    /// Moves within the window when it was found.
    pub moves: usize,
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
    /// When each MAC moved here from another VTEP, oldest first, within the
    /// last [`DUPLICATE_WINDOW`].
    moves: BTreeMap<(Vni, MacAddress), VecDeque<Instant>>,
    duplicates: BTreeMap<(Vni, MacAddress), DuplicateMac>,
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
    /// Section 15.1: a MAC that keeps moving here is a duplicate (module
    /// documentation); `now` is the time of this learning.
    pub fn learn(
        &mut self,
        vni: Vni,
        mac: MacAddress,
        sticky: bool,
        claims: impl IntoIterator<Item = MacClaim>,
        now: Instant,
    ) -> LocalMacDecision {
        let remote: Vec<MacClaim> = claims.into_iter().filter(|c| !c.local).collect();
        let key = (vni, mac);
        // Only MACs that moved within the window keep an entry.
        if let Some(moves) = self.moves.get_mut(&key) {
            while moves
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= DUPLICATE_WINDOW)
            {
                moves.pop_front();
            }
            if moves.is_empty() {
                self.moves.remove(&key);
            }
        }
        if let Some(duplicate) = self.duplicates.get(&key) {
            if self.moves.contains_key(&key) {
                return LocalMacDecision::Duplicate {
                    new: false,
                    duplicate: *duplicate,
                };
            }
            // Still for a whole window: advertise again.
            self.duplicates.remove(&key);
        }
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
        // A move here: a remote route holds the MAC with a sequence ours
        // does not beat (or we advertise none).
        if let Some(from) = remote
            .iter()
            .filter(|c| current.is_none_or(|own| own <= c.sequence))
            .min_by(|a, b| compare_claims(a, b))
        {
            let moves = self.moves.entry(key).or_default();
            moves.push_back(now);
            if moves.len() >= DUPLICATE_MAX_MOVES {
                let duplicate = DuplicateMac {
                    mac,
                    other_vtep: from.vtep,
                    moves: moves.len(),
                };
                self.local.remove(&key);
                self.duplicates.insert(key, duplicate);
                return LocalMacDecision::Duplicate {
                    new: true,
                    duplicate,
                };
            }
        }
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

    /// The duplicate MACs of `vni` (RFC 7432 section 15.1).
    pub fn duplicates(&self, vni: Vni) -> impl Iterator<Item = &DuplicateMac> {
        self.duplicates
            .range((vni, MacAddress([0; 6]))..=(vni, MacAddress([0xff; 6])))
            .map(|(_, d)| d)
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

    fn now() -> Instant {
        Instant::now()
    }

    #[test]
    fn a_mac_that_keeps_moving_here_is_a_duplicate_until_it_stays_still() {
        let mut t = MobilityTracker::default();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        // Two live hosts with one MAC: each time the other VTEP outbids us
        // and our bridge learns the MAC again, it moves here.
        let mut seq = 0;
        for i in 0..DUPLICATE_MAX_MOVES - 1 {
            let d = t.learn(
                10,
                MAC,
                false,
                [claim(3, seq, false, false)],
                at(i as u64 * 10),
            );
            assert!(
                matches!(d, LocalMacDecision::Advertise { .. }),
                "move {i}: {d:?}"
            );
            seq += 2;
        }
        let d = t.learn(10, MAC, false, [claim(3, seq, false, false)], at(45));
        assert_eq!(
            d,
            LocalMacDecision::Duplicate {
                new: true,
                duplicate: DuplicateMac {
                    mac: MAC,
                    other_vtep: claim(3, 0, false, false).vtep,
                    moves: DUPLICATE_MAX_MOVES
                }
            }
        );
        assert_eq!(t.advertised(10, MAC), None);
        assert_eq!(t.duplicates(10).count(), 1);
        assert_eq!(t.duplicates(11).count(), 0, "per VNI");
        // Frozen while the moves are recent, reported once.
        assert!(matches!(
            t.learn(10, MAC, false, [claim(3, seq, false, false)], at(100)),
            LocalMacDecision::Duplicate { new: false, .. }
        ));
        // A whole window without moves: advertised again (a move, seq + 1).
        assert_eq!(
            t.learn(
                10,
                MAC,
                false,
                [claim(3, seq, false, false)],
                at(45) + DUPLICATE_WINDOW
            ),
            LocalMacDecision::Advertise {
                sequence: seq + 1,
                sticky: false
            }
        );
        assert_eq!(t.duplicates(10).count(), 0);
    }

    #[test]
    fn moves_spread_over_more_than_the_window_are_no_duplicate() {
        let mut t = MobilityTracker::default();
        let t0 = Instant::now();
        // At most N - 1 moves fit in any window.
        let step = DUPLICATE_WINDOW / (DUPLICATE_MAX_MOVES as u32 - 1) + Duration::from_secs(1);
        for i in 0..3 * DUPLICATE_MAX_MOVES as u32 {
            let d = t.learn(
                10,
                MAC,
                false,
                [claim(3, 2 * i, false, false)],
                t0 + step * i,
            );
            assert!(
                matches!(d, LocalMacDecision::Advertise { .. }),
                "{i}: {d:?}"
            );
        }
        // Re-learning with nothing remote is no move, and a MAC that has
        // not moved for a window leaves no trace.
        for i in 0..10 {
            t.learn(10, MAC, false, [], t0 + step * 100 + Duration::from_secs(i));
        }
        assert_eq!(t.duplicates(10).count(), 0);
        assert!(t.moves.is_empty());
    }

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
            t.learn(10, MAC, false, [], now()),
            LocalMacDecision::Advertise {
                sequence: 0,
                sticky: false
            }
        );
        // Seen remotely with sequence 4 (it moved away and back): 4 + 1.
        let remote = [claim(2, 4, false, false), claim(3, 2, false, false)];
        assert_eq!(
            t.learn(10, MAC, false, remote, now()),
            LocalMacDecision::Advertise {
                sequence: 5,
                sticky: false
            }
        );
        // Our own route in the claims does not bump the sequence.
        let with_ours = [claim(2, 4, false, false), claim(1, 5, false, true)];
        assert_eq!(
            t.learn(10, MAC, false, with_ours, now()),
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
            t.learn(10, MAC, true, max, now()),
            LocalMacDecision::Advertise {
                sequence: u32::MAX,
                sticky: true
            }
        );
    }

    #[test]
    fn a_sticky_remote_mac_is_not_taken_over() {
        let mut t = MobilityTracker::default();
        t.learn(10, MAC, false, [], now());
        let decision = t.learn(10, MAC, false, [claim(3, 0, true, false)], now());
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
            t.learn(10, MAC, true, [claim(3, 0, true, false)], now()),
            LocalMacDecision::Advertise {
                sequence: 1,
                sticky: true
            }
        ));
    }
}
