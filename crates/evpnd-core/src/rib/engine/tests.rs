use super::*;
use crate::rib::attrs::PathSummary;
use crate::rib::peer::PeerKind;
use crate::test_support::hex;
use evpnd_wire::Family;
use std::net::{IpAddr, Ipv4Addr};

/// The RIB of VTEP 198.19.0.1 in AS 65000, no peer yet.
fn vtep_rib() -> Rib {
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
    Rib::new(local, encoder)
}

#[test]
fn local_routes_enter_the_rib_and_reach_the_observer() {
    let mut rib = vtep_rib();
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
fn the_observer_gets_the_table_again_after_the_changes_before_it() {
    let mut rib = vtep_rib();
    let mut sent: Vec<RibOutput> = Vec::new();
    // Not observed: nobody to replay to.
    rib.handle(RibInput::ReplayToObserver, &mut sent);
    assert!(sent.is_empty());
    rib.observe();
    // Two type-3 routes, RD 198.19.0.1:2 and :3 (msg 20 of
    // proto-tests/vectors/frr/bgp-evpn-messages.txt, the second with its
    // RD's last byte changed).
    let nlris = [
        Bytes::from(hex("03110001c613000100020000000020c6130001")),
        Bytes::from(hex("03110001c613000100030000000020c6130001")),
    ];
    let update = IngressUpdate {
        reach: Some(Reach {
            attributes: Bytes::from(hex("400101005002000040050400000064")),
            next_hop: Bytes::from_static(&[198, 19, 0, 1]),
            summary: PathSummary::default(),
            nlri: Bytes::from([nlris[0].as_ref(), nlris[1].as_ref()].concat()),
        }),
        ..Default::default()
    };
    rib.handle(RibInput::Local { update }, &mut sent);
    rib.flush(&mut sent);
    sent.clear();
    // A withdrawal not flushed yet reaches the observer before the table,
    // and the table is the state after it.
    let update = IngressUpdate {
        withdrawn: vec![nlris[0].clone()],
        ..Default::default()
    };
    rib.handle(RibInput::Local { update }, &mut sent);
    rib.handle(RibInput::ReplayToObserver, &mut sent);
    let mut out = sent.into_iter();
    let Some(RibOutput::Event(RibEvent::Changes(changes))) = out.next() else {
        panic!("the pending withdrawal first")
    };
    assert!(changes[0].new.is_none());
    let Some(RibOutput::Event(RibEvent::Table(table))) = out.next() else {
        panic!("then the table")
    };
    assert_eq!(table.len(), 1);
    assert!(table[0].old.is_none());
    let best = table[0].new.as_ref().expect("an announcement");
    assert_eq!(best.nlri.as_slice(), nlris[1].as_ref());
    assert_eq!(best.source(), PeerIdx::LOCAL);
    assert!(out.next().is_none(), "nothing else");
}

#[test]
fn inherited_local_paths_not_originated_again_go_when_the_stale_time_ends() {
    use crate::rib::ingress::restored;
    let mut rib = vtep_rib();
    rib.observe();
    let mut sent: Vec<RibOutput> = Vec::new();
    // The previous process's two local type-3 routes (RD :2 and :3), in
    // stored form (msg 20 of proto-tests/vectors/frr/bgp-evpn-messages.txt).
    let nlris = [
        Bytes::from(hex("03110001c613000100020000000020c6130001")),
        Bytes::from(hex("03110001c613000100030000000020c6130001")),
    ];
    let attributes = Bytes::from(hex("400101005002000040050400000064"));
    let next_hop = Bytes::from_static(&[198, 19, 0, 1]);
    let inherited = restored(
        attributes.clone(),
        next_hop.clone(),
        Bytes::from([nlris[0].as_ref(), nlris[1].as_ref()].concat()),
        false,
    );
    assert_eq!(
        inherited.reach.as_ref().unwrap().summary.local_pref,
        Some(100),
        "summarized as the RIB summarizes a stored set"
    );
    rib.handle(RibInput::Local { update: inherited }, &mut sent);
    rib.handle(
        RibInput::MarkStale {
            peer: PeerIdx::LOCAL,
        },
        &mut sent,
    );
    // The new VTEP originates only the first again.
    let again = restored(attributes, next_hop, nlris[0].clone(), false);
    rib.handle(RibInput::Local { update: again }, &mut sent);
    rib.flush(&mut sent);
    sent.clear();
    rib.handle(
        RibInput::StaleExpired {
            peer: PeerIdx::LOCAL,
        },
        &mut sent,
    );
    rib.flush(&mut sent);
    let Some(RibOutput::Event(RibEvent::Changes(changes))) = sent.first() else {
        panic!("a withdrawal: {sent:?}")
    };
    assert_eq!(changes.len(), 1);
    assert!(changes[0].new.is_none());
    assert_eq!(
        changes[0].old.as_ref().unwrap().nlri.as_slice(),
        nlris[1].as_ref()
    );
    let left: Vec<_> = rib.dump().into_iter().map(|p| p.path.nlri).collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].as_slice(), nlris[0].as_ref());
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

    pub(super) fn info(last: u8, kind: PeerKind) -> PeerInfo {
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

    pub(super) fn rib() -> Rib {
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
    pub(super) fn nlri(key: u8, vni: u32) -> Vec<u8> {
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

    pub(super) fn announce(keys: &[u8], lp: u32, vni: u32) -> IngressUpdate {
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
            keeps_stale: bool,
        },
        PeerDown {
            peer: u16,
            retain: bool,
        },
        StaleExpired {
            peer: u16,
        },
        EndOfRib {
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
            2 => (1u16..5, any::<bool>())
                .prop_map(|(peer, keeps_stale)| Op::PeerUp { peer, keeps_stale }),
            1 => (1u16..5, any::<bool>()).prop_map(|(peer, retain)| Op::PeerDown { peer, retain }),
            1 => (1u16..5).prop_map(|peer| Op::StaleExpired { peer }),
            1 => (1u16..5).prop_map(|peer| Op::EndOfRib { peer }),
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

    fn apply(rib: &mut Rib, op: Op, sent: &mut Vec<RibOutput>) {
        match op {
            Op::Announce {
                peer,
                keys,
                lp,
                vni,
            } => {
                rib.handle(input(peer, announce(&keys, lp, vni)), sent);
            }
            Op::Withdraw { peer, keys } => {
                let withdrawn = keys.iter().map(|k| Bytes::from(nlri(*k, 0))).collect();
                let update = IngressUpdate {
                    withdrawn,
                    ..Default::default()
                };
                rib.handle(input(peer, update), sent);
            }
            Op::PeerUp { peer, keeps_stale } => {
                let kind = PEER_KINDS[usize::from(peer) - 1];
                let input = RibInput::PeerUp {
                    peer: PeerIdx(peer),
                    info: info(peer as u8, kind),
                    group: OutGroupKey {
                        kind,
                        four_octet_as: true,
                        max_message_len: 4096,
                    },
                    graceful: GracefulPeer {
                        keeps_stale,
                        awaited: true,
                    },
                    prefix_limit: None,
                };
                rib.handle(input, sent);
            }
            Op::PeerDown { peer, retain } => {
                let peer = PeerIdx(peer);
                rib.handle(RibInput::PeerDown { peer, retain }, sent);
            }
            Op::StaleExpired { peer } => {
                rib.handle(
                    RibInput::StaleExpired {
                        peer: PeerIdx(peer),
                    },
                    sent,
                );
            }
            Op::EndOfRib { peer } => {
                let update = IngressUpdate {
                    end_of_rib: true,
                    ..Default::default()
                };
                rib.handle(input(peer, update), sent);
            }
            Op::Flush => rib.flush(sent),
        }
    }

    proptest! {
        /// After any sequence of announcements, withdrawals, End-of-RIBs,
        /// sessions going up and down (gracefully or not) and stale timers,
        /// the counters kept as routes change equal the full walk they
        /// replaced, and a stale route is always one the Loc-RIB holds from
        /// that peer.
        #[test]
        fn incremental_counters_equal_the_full_walk(ops in prop::collection::vec(op(), 1..60)) {
            let mut rib = rib();
            let mut sent: Vec<RibOutput> = Vec::new();
            for op in ops {
                apply(&mut rib, op, &mut sent);
                sent.clear();
                prop_assert_eq!(rib.stats(), rib.stats_walk());
                for peer in 0..5 {
                    let peer = PeerIdx(peer);
                    prop_assert_eq!(rib.counters(peer).sent, rib.advertised_to_walk(peer), "{:?}", peer);
                }
                for row in rib.dump().iter().filter(|row| row.stale) {
                    prop_assert!(rib.counters(row.path.source()).stale > 0);
                }
                for peer in 1..5 {
                    let peer = PeerIdx(peer);
                    let stale = rib.dump().iter().filter(|r| r.stale && r.path.source() == peer).count();
                    prop_assert_eq!(rib.counters(peer).stale, stale as u64, "{:?}", peer);
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
                graceful: GracefulPeer::default(),
                prefix_limit: None,
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

/// Graceful Restart in the RIB (RFC 4724): stale routes of a restarting
/// peer (section 4.2) and our own deferred first advertisement (4.1).
mod graceful {
    use super::counters::{announce, info, nlri, rib};
    use super::*;

    pub(super) fn up(peer: u16, graceful: GracefulPeer) -> RibInput {
        RibInput::PeerUp {
            peer: PeerIdx(peer),
            info: info(peer as u8, PeerKind::IbgpClient),
            group: OutGroupKey {
                kind: PeerKind::IbgpClient,
                four_octet_as: true,
                max_message_len: 4096,
            },
            graceful,
            prefix_limit: None,
        }
    }

    pub(super) const RESTARTING: GracefulPeer = GracefulPeer {
        keeps_stale: true,
        awaited: true,
    };

    pub(super) fn update(peer: u16, update: IngressUpdate) -> RibInput {
        RibInput::Update {
            peer: PeerIdx(peer),
            update,
        }
    }

    pub(super) fn end_of_rib(peer: u16) -> RibInput {
        update(
            peer,
            IngressUpdate {
                end_of_rib: true,
                ..Default::default()
            },
        )
    }

    /// What each peer was sent, in order, as UPDATE messages.
    fn sent_to(out: &[RibOutput], peer: u16) -> Vec<Bytes> {
        out.iter()
            .filter_map(|o| match o {
                RibOutput::Send { peer: p, messages } if *p == PeerIdx(peer) => {
                    Some(messages.iter().cloned())
                }
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Peer 1 (a client) holds keys 0, 1 and 4; peer 2 (a client) is up
    /// and has been sent them.
    fn two_clients() -> (Rib, Vec<RibOutput>) {
        let mut rib = rib();
        rib.observe();
        let mut out = Vec::new();
        rib.handle(up(1, RESTARTING), &mut out);
        rib.handle(up(2, RESTARTING), &mut out);
        rib.handle(update(1, announce(&[0, 1, 4], 100, 10)), &mut out);
        rib.flush(&mut out);
        assert!(!sent_to(&out, 2).is_empty());
        out.clear();
        (rib, out)
    }

    fn stale_keys(rib: &Rib) -> usize {
        rib.dump().iter().filter(|row| row.stale).count()
    }

    #[test]
    fn a_restarting_peers_routes_stay_best_and_reflected_until_its_end_of_rib() {
        let (mut rib, mut out) = two_clients();
        rib.handle(
            RibInput::PeerDown {
                peer: PeerIdx(1),
                retain: true,
            },
            &mut out,
        );
        rib.flush(&mut out);
        assert!(out.is_empty(), "nothing withdrawn, nothing told: {out:?}");
        assert_eq!(rib.counters(PeerIdx(1)).stale, 3);
        assert_eq!(rib.counters(PeerIdx(1)).received, 3);
        assert_eq!(stale_keys(&rib), 3);
        // Still reflected to a peer that comes up meanwhile.
        rib.handle(up(3, RESTARTING), &mut out);
        assert_eq!(rib.counters(PeerIdx(3)).sent, 3);
        out.clear();

        // Back: it re-announces keys 0 and 4 unchanged; they are no longer
        // stale and nobody hears of it.
        rib.handle(up(1, RESTARTING), &mut out);
        rib.handle(update(1, announce(&[0, 4], 100, 10)), &mut out);
        rib.flush(&mut out);
        assert!(sent_to(&out, 2).is_empty(), "unchanged routes: {out:?}");
        assert_eq!(rib.counters(PeerIdx(1)).stale, 1);
        out.clear();

        // End-of-RIB: key 1, which it no longer has, is withdrawn.
        rib.handle(end_of_rib(1), &mut out);
        rib.flush(&mut out);
        let to_2 = sent_to(&out, 2);
        assert_eq!(to_2.len(), 1, "one withdrawal UPDATE: {to_2:?}");
        let withdrawn = &nlri(1, 10)[2..];
        assert!(
            to_2[0].windows(withdrawn.len()).any(|w| w == withdrawn),
            "the UPDATE withdraws key 1"
        );
        assert_eq!(rib.counters(PeerIdx(1)).stale, 0);
        assert_eq!(rib.counters(PeerIdx(1)).received, 2);
        let Some(RibOutput::Event(RibEvent::Changes(changes))) = out.first() else {
            panic!("the VTEP hears of the withdrawal first: {out:?}");
        };
        assert_eq!(changes.len(), 1);
        assert!(changes[0].new.is_none());
    }

    #[test]
    fn stale_routes_go_when_the_restart_time_runs_out() {
        let (mut rib, mut out) = two_clients();
        let peer = PeerIdx(1);
        rib.handle(RibInput::PeerDown { peer, retain: true }, &mut out);
        rib.handle(RibInput::StaleExpired { peer }, &mut out);
        rib.flush(&mut out);
        assert_eq!(rib.counters(peer).received, 0);
        assert_eq!(rib.counters(peer).stale, 0);
        assert!(!sent_to(&out, 2).is_empty(), "withdrawn from peer 2");
        // A second expiry (a timer that raced the End-of-RIB) changes nothing.
        out.clear();
        rib.handle(RibInput::StaleExpired { peer }, &mut out);
        rib.flush(&mut out);
        assert!(out.is_empty());
    }

    /// RFC 4724 section 4.2: a new session without the Forwarding State bit
    /// for the family means the peer lost its state: stale routes go at once.
    #[test]
    fn stale_routes_go_when_the_new_session_did_not_preserve_forwarding() {
        let (mut rib, mut out) = two_clients();
        let peer = PeerIdx(1);
        rib.handle(RibInput::PeerDown { peer, retain: true }, &mut out);
        rib.handle(up(1, GracefulPeer::default()), &mut out);
        rib.flush(&mut out);
        assert_eq!(rib.counters(peer).received, 0);
        assert!(!sent_to(&out, 2).is_empty());
    }

    #[test]
    fn a_session_that_ends_without_graceful_restart_takes_its_routes_at_once() {
        let (mut rib, mut out) = two_clients();
        let peer = PeerIdx(1);
        rib.handle(RibInput::PeerDown { peer, retain: true }, &mut out);
        // Then it comes back and goes for good (a NOTIFICATION, say).
        rib.handle(up(1, RESTARTING), &mut out);
        rib.handle(
            RibInput::PeerDown {
                peer,
                retain: false,
            },
            &mut out,
        );
        rib.flush(&mut out);
        assert_eq!(rib.counters(peer).received, 0);
        assert_eq!(rib.counters(peer).stale, 0);
        assert_eq!(stale_keys(&rib), 0);
    }

    /// RFC 4724 section 4.1: after our own restart, peers get nothing until
    /// every peer we wait for sent End-of-RIB; then each gets the whole
    /// table, End-of-RIB last, in one chunk.
    #[test]
    fn the_first_advertisement_waits_for_every_awaited_end_of_rib() {
        let mut rib = rib();
        rib.defer_selection();
        let mut out = Vec::new();
        rib.handle(
            RibInput::Local {
                update: announce(&[4], 100, 10),
            },
            &mut out,
        );
        for peer in 1..=3 {
            rib.handle(up(peer, RESTARTING), &mut out);
        }
        // Peer 4 is restarting too: we do not wait for it.
        rib.handle(
            up(
                4,
                GracefulPeer {
                    keeps_stale: true,
                    awaited: false,
                },
            ),
            &mut out,
        );
        rib.handle(update(1, announce(&[0], 100, 10)), &mut out);
        rib.handle(end_of_rib(1), &mut out);
        rib.handle(end_of_rib(2), &mut out);
        rib.handle(RibInput::RouteRefresh { peer: PeerIdx(2) }, &mut out);
        rib.flush(&mut out);
        assert!(rib.deferring());
        assert!(
            (1..=4).all(|p| sent_to(&out, p).is_empty()),
            "nothing sent while deferring: {out:?}"
        );
        rib.handle(end_of_rib(3), &mut out);
        assert!(!rib.deferring());
        for peer in 1..=4 {
            let messages = sent_to(&out, peer);
            assert_eq!(
                messages.last(),
                Some(&super::super::end_of_rib(Family::L2VPN_EVPN)),
                "peer {peer} got End-of-RIB last"
            );
            let chunks = out
                .iter()
                .filter(|o| matches!(o, RibOutput::Send { peer: p, .. } if *p == PeerIdx(peer)))
                .count();
            assert_eq!(chunks, 1, "peer {peer}: one chunk");
        }
        // Peer 1's own route is not sent back to it; the local one is.
        assert_eq!(rib.counters(PeerIdx(1)).sent, 1);
        assert_eq!(rib.counters(PeerIdx(2)).sent, 2);
    }

    #[test]
    fn the_deferral_timer_ends_the_wait_for_a_peer_that_never_comes() {
        let mut rib = rib();
        rib.defer_selection();
        let mut out = Vec::new();
        rib.handle(up(1, RESTARTING), &mut out);
        rib.handle(end_of_rib(1), &mut out);
        assert!(rib.deferring(), "peers 2-4 never came up");
        assert!(out.is_empty());
        rib.handle(RibInput::SelectionDeferralExpired, &mut out);
        assert!(!rib.deferring());
        assert_eq!(
            sent_to(&out, 1),
            vec![super::super::end_of_rib(Family::L2VPN_EVPN)]
        );
        // Later sessions get their table at once, as without deferral.
        out.clear();
        rib.handle(up(2, RESTARTING), &mut out);
        assert_eq!(sent_to(&out, 2).len(), 1);
        rib.handle(RibInput::SelectionDeferralExpired, &mut out);
        assert_eq!(out.len(), 1, "a late timer changes nothing");
    }
}

/// A neighbour removed by a reload (after its session ended).
mod removal {
    use super::counters::{announce, rib};
    use super::graceful::{RESTARTING, end_of_rib, up, update};
    use super::*;

    #[test]
    fn a_removed_peer_loses_its_routes_and_is_no_longer_waited_for() {
        let mut rib = rib();
        rib.defer_selection();
        let mut out = Vec::new();
        for peer in 1..=3 {
            rib.handle(up(peer, RESTARTING), &mut out);
            rib.handle(end_of_rib(peer), &mut out);
        }
        rib.handle(update(1, announce(&[4], 100, 10)), &mut out);
        assert!(rib.deferring(), "peer 4 never came up");
        rib.handle(RibInput::RemovePeer { peer: PeerIdx(4) }, &mut out);
        assert!(!rib.deferring(), "nobody left to wait for");
        out.clear();
        // Peer 1 removed: its route is withdrawn from the others.
        rib.handle(RibInput::RemovePeer { peer: PeerIdx(1) }, &mut out);
        rib.flush(&mut out);
        assert!(
            out.iter()
                .any(|o| matches!(o, RibOutput::Send { peer, .. } if *peer == PeerIdx(2))),
            "peer 2 hears of the withdrawal: {out:?}"
        );
        assert_eq!(rib.counters(PeerIdx(1)).received, 0);
        assert!(rib.dump().is_empty());
        // Removing it again, or the local pseudo-peer, changes nothing.
        out.clear();
        rib.handle(RibInput::RemovePeer { peer: PeerIdx(1) }, &mut out);
        rib.handle(
            RibInput::RemovePeer {
                peer: PeerIdx::LOCAL,
            },
            &mut out,
        );
        rib.flush(&mut out);
        assert!(out.is_empty());
    }
}

mod prefix_limits {
    use super::counters::{announce, info, nlri, rib};
    use super::*;
    use crate::rib::prefix_limit::{PrefixAlert, PrefixLimit};

    #[test]
    fn the_session_is_told_when_its_peer_nears_and_passes_its_limit() {
        let mut rib = rib();
        let mut sent = Vec::new();
        let limit = PrefixLimit::new(3, 50);
        rib.handle(
            RibInput::PeerUp {
                peer: PeerIdx(1),
                info: info(1, PeerKind::IbgpClient),
                group: OutGroupKey {
                    kind: PeerKind::IbgpClient,
                    four_octet_as: true,
                    max_message_len: 4096,
                },
                graceful: GracefulPeer::default(),
                prefix_limit: Some(limit),
            },
            &mut sent,
        );
        let alerts = |rib: &mut Rib, update: IngressUpdate| {
            let mut out = Vec::new();
            rib.handle(
                RibInput::Update {
                    peer: PeerIdx(1),
                    update,
                },
                &mut out,
            );
            out.into_iter()
                .filter_map(|o| match o {
                    RibOutput::PrefixLimit(alert) => Some(alert),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let alert = |received, exceeded| PrefixAlert {
            peer: PeerIdx(1),
            received,
            limit,
            exceeded,
        };
        assert_eq!(alerts(&mut rib, announce(&[0], 100, 10)), vec![]);
        assert_eq!(
            alerts(&mut rib, announce(&[1], 100, 10)),
            vec![alert(2, false)],
            "2 paths: 50 % of 3"
        );
        // The same route again is no new path.
        assert_eq!(alerts(&mut rib, announce(&[1], 100, 10)), vec![]);
        assert_eq!(alerts(&mut rib, announce(&[2], 100, 10)), vec![]);
        assert_eq!(
            alerts(&mut rib, announce(&[3, 4], 100, 10)),
            vec![alert(5, true)]
        );
        // Withdrawals bring it back under; a new excess is said again.
        let withdraw = IngressUpdate {
            withdrawn: vec![Bytes::from([nlri(3, 10), nlri(4, 10)].concat())],
            ..Default::default()
        };
        assert_eq!(alerts(&mut rib, withdraw), vec![]);
        assert_eq!(
            alerts(&mut rib, announce(&[5], 100, 10)),
            vec![alert(4, true)]
        );
    }
}
