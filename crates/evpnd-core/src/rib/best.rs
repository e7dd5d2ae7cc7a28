//! The BGP decision process between two paths for the same route:
//! RFC 4271 section 9.1.2.2, with RFC 4456 section 9 (route reflection) and
//! RFC 7432 section 15 (MAC mobility) steps.

use super::attrs::PathSummary;
use super::peer::{PeerInfo, PeerKind};
use evpnd_wire::extcomm::MacMobility;
use std::cmp::Ordering;
use std::net::IpAddr;

/// The step that decided between two paths, for `show` output and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionReason {
    StickyMac,
    MacMobilitySequence,
    LocalPref,
    LocallyOriginated,
    AsPathLength,
    Origin,
    Med,
    EbgpOverIbgp,
    ClusterListLength,
    RouterId,
    PeerAddress,
    Equal,
}

/// What the decision process looks at for one path.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub summary: &'a PathSummary,
    pub peer: &'a PeerInfo,
}

/// Default LOCAL_PREF for paths without one (eBGP-learnt or local): the
/// value FRR and most implementations use.
pub const DEFAULT_LOCAL_PREF: u32 = 100;

impl Candidate<'_> {
    fn local_pref(&self) -> u32 {
        self.summary.local_pref.unwrap_or(DEFAULT_LOCAL_PREF)
    }

    /// RFC 4456 section 9: the ORIGINATOR_ID stands in for the advertising
    /// speaker's BGP Identifier.
    fn router_id(&self) -> u32 {
        u32::from(self.summary.originator_id.unwrap_or(self.peer.router_id))
    }

    fn peer_address(&self) -> IpAddr {
        self.peer.address
    }
}

/// Compare two paths for the same route. `Ordering::Less` means `a` is
/// preferred. Pairwise, as deployed implementations do: MED is compared only
/// between paths from the same neighbouring AS (RFC 4271 9.1.2.2 c), which
/// makes the relation not strictly transitive across three or more ASes.
pub fn compare(a: Candidate<'_>, b: Candidate<'_>) -> (Ordering, DecisionReason) {
    use DecisionReason::*;
    let sa = a.summary;
    let sb = b.summary;
    let mobility = |s: &PathSummary| s.mac_mobility.unwrap_or(MacMobility::new(false, 0));
    let steps: [(Ordering, DecisionReason); 7] = [
        // RFC 7432 15.2: a sticky (static) MAC is preferred.
        (mobility(sb).sticky().cmp(&mobility(sa).sticky()), StickyMac),
        // RFC 7432 15.1: the higher MAC Mobility sequence number wins.
        (
            mobility(sb).sequence.cmp(&mobility(sa).sequence),
            MacMobilitySequence,
        ),
        // RFC 4271 9.1.1: the higher degree of preference.
        (b.local_pref().cmp(&a.local_pref()), LocalPref),
        // Locally originated routes before learnt ones (as FRR's weight does).
        (
            (b.peer.kind == PeerKind::Local).cmp(&(a.peer.kind == PeerKind::Local)),
            LocallyOriginated,
        ),
        // RFC 4271 9.1.2.2 a: fewest AS numbers.
        (sa.as_path_len.cmp(&sb.as_path_len), AsPathLength),
        // RFC 4271 9.1.2.2 b: lowest ORIGIN.
        (sa.origin.cmp(&sb.origin), Origin),
        // RFC 4271 9.1.2.2 c: lowest MED, between routes from the same AS.
        (
            if sa.neighbor_as == sb.neighbor_as {
                sa.med.cmp(&sb.med)
            } else {
                Ordering::Equal
            },
            Med,
        ),
    ];
    let tail: [(Ordering, DecisionReason); 4] = [
        // RFC 4271 9.1.2.2 d: eBGP-learnt over iBGP-learnt.
        (
            (b.peer.kind == PeerKind::Ebgp).cmp(&(a.peer.kind == PeerKind::Ebgp)),
            EbgpOverIbgp,
        ),
        // (e, interior cost to the next hop, is not modelled: evpnd does not
        // resolve next hops through an IGP.)
        // RFC 4271 9.1.2.2 f: lowest BGP Identifier (ORIGINATOR_ID, RFC 4456 9).
        (a.router_id().cmp(&b.router_id()), RouterId),
        // RFC 4456 section 9, inserted between steps f and g: the shorter
        // CLUSTER_LIST.
        (
            sa.cluster_list_len.cmp(&sb.cluster_list_len),
            ClusterListLength,
        ),
        // RFC 4271 9.1.2.2 g: lowest peer address.
        (a.peer_address().cmp(&b.peer_address()), PeerAddress),
    ];
    steps
        .into_iter()
        .chain(tail)
        .find(|(order, _)| order.is_ne())
        .unwrap_or((Ordering::Equal, Equal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn peer(kind: PeerKind, last: u8) -> PeerInfo {
        PeerInfo {
            address: IpAddr::V4(Ipv4Addr::new(198, 19, 0, last)),
            kind,
            remote_as: 65000,
            router_id: Ipv4Addr::new(198, 19, 0, last),
        }
    }

    fn decide(
        sa: &PathSummary,
        pa: &PeerInfo,
        sb: &PathSummary,
        pb: &PeerInfo,
    ) -> (Ordering, DecisionReason) {
        let result = compare(
            Candidate {
                summary: sa,
                peer: pa,
            },
            Candidate {
                summary: sb,
                peer: pb,
            },
        );
        // The relation must be antisymmetric, with the same deciding step.
        let reverse = compare(
            Candidate {
                summary: sb,
                peer: pb,
            },
            Candidate {
                summary: sa,
                peer: pa,
            },
        );
        assert_eq!(reverse, (result.0.reverse(), result.1));
        result
    }

    #[test]
    fn higher_mac_mobility_sequence_beats_local_pref() {
        let p1 = peer(PeerKind::IbgpClient, 1);
        let p2 = peer(PeerKind::IbgpClient, 2);
        let moved = PathSummary {
            mac_mobility: Some(MacMobility::new(false, 3)),
            local_pref: Some(50),
            ..Default::default()
        };
        let stale = PathSummary {
            mac_mobility: Some(MacMobility::new(false, 2)),
            local_pref: Some(200),
            ..Default::default()
        };
        assert_eq!(
            decide(&moved, &p2, &stale, &p1),
            (Ordering::Less, DecisionReason::MacMobilitySequence)
        );
        let no_community = PathSummary::default();
        assert_eq!(
            decide(&moved, &p2, &no_community, &p1).1,
            DecisionReason::MacMobilitySequence
        );
    }

    #[test]
    fn sticky_mac_wins_over_any_sequence() {
        let p1 = peer(PeerKind::IbgpClient, 1);
        let sticky = PathSummary {
            mac_mobility: Some(MacMobility::new(true, 0)),
            ..Default::default()
        };
        let high_seq = PathSummary {
            mac_mobility: Some(MacMobility::new(false, 99)),
            ..Default::default()
        };
        assert_eq!(
            decide(&sticky, &p1, &high_seq, &p1),
            (Ordering::Less, DecisionReason::StickyMac)
        );
    }

    #[test]
    fn rfc4271_steps_in_order() {
        let p1 = peer(PeerKind::IbgpClient, 1);
        let p2 = peer(PeerKind::IbgpClient, 2);
        let base = PathSummary {
            local_pref: Some(100),
            ..Default::default()
        };
        let higher_lp = PathSummary {
            local_pref: Some(150),
            as_path_len: 5,
            ..base.clone()
        };
        assert_eq!(
            decide(&higher_lp, &p2, &base, &p1),
            (Ordering::Less, DecisionReason::LocalPref)
        );
        let longer = PathSummary {
            as_path_len: 2,
            ..base.clone()
        };
        assert_eq!(
            decide(&base, &p2, &longer, &p1),
            (Ordering::Less, DecisionReason::AsPathLength)
        );
        let incomplete = PathSummary {
            origin: evpnd_wire::attribute::Origin::Incomplete,
            ..base.clone()
        };
        assert_eq!(
            decide(&base, &p2, &incomplete, &p1),
            (Ordering::Less, DecisionReason::Origin)
        );
        let med10 = PathSummary {
            med: 10,
            neighbor_as: Some(65001),
            ..base.clone()
        };
        let med20 = PathSummary {
            med: 20,
            neighbor_as: Some(65001),
            ..base.clone()
        };
        assert_eq!(
            decide(&med10, &p2, &med20, &p1),
            (Ordering::Less, DecisionReason::Med)
        );
        let med20_other_as = PathSummary {
            neighbor_as: Some(65002),
            ..med20.clone()
        };
        assert_eq!(
            decide(&med10, &p2, &med20_other_as, &p1).1,
            DecisionReason::RouterId,
            "MED is only compared within one neighbouring AS"
        );
        let ebgp = peer(PeerKind::Ebgp, 9);
        assert_eq!(
            decide(&base, &ebgp, &base, &p1),
            (Ordering::Less, DecisionReason::EbgpOverIbgp)
        );
    }

    #[test]
    fn reflection_tie_breaks_use_cluster_list_then_originator_id() {
        let rr_a = peer(PeerKind::IbgpNonClient, 7);
        let rr_b = peer(PeerKind::IbgpNonClient, 8);
        let via_one = PathSummary {
            cluster_list_len: 1,
            originator_id: Some(Ipv4Addr::new(198, 19, 0, 3)),
            ..Default::default()
        };
        let via_two = PathSummary {
            cluster_list_len: 2,
            ..via_one.clone()
        };
        assert_eq!(
            decide(&via_one, &rr_b, &via_two, &rr_a),
            (Ordering::Less, DecisionReason::ClusterListLength)
        );
        // The same route reflected by two reflectors: ORIGINATOR_ID ties, so
        // the lower peer address decides.
        assert_eq!(
            decide(&via_one, &rr_a, &via_one, &rr_b),
            (Ordering::Less, DecisionReason::PeerAddress)
        );
        let lower_originator = PathSummary {
            originator_id: Some(Ipv4Addr::new(198, 19, 0, 1)),
            ..via_one.clone()
        };
        assert_eq!(
            decide(&lower_originator, &rr_b, &via_one, &rr_a),
            (Ordering::Less, DecisionReason::RouterId)
        );
    }

    #[test]
    fn locally_originated_beats_learnt_at_equal_preference() {
        let local = peer(PeerKind::Local, 200);
        let p1 = peer(PeerKind::IbgpClient, 1);
        let s = PathSummary::default();
        assert_eq!(
            decide(&s, &local, &s, &p1),
            (Ordering::Less, DecisionReason::LocallyOriginated)
        );
    }
}
