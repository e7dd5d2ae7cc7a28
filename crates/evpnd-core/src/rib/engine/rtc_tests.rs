//! RT-Constrain (RFC 4684) in the RIB: what a peer with RTC is sent, as its
//! RT membership arrives and changes, beside a peer without it.

use super::*;
use crate::rib::attrs::{PathSummary, encode_stored};
use crate::rib::peer::PeerKind;
use crate::rib::rt_filter::PeerRtMembership;
use evpnd_wire::Family;
use evpnd_wire::as_path::AsPath;
use evpnd_wire::attribute::{AttributeValue, Origin, PathAttribute};
use evpnd_wire::extcomm::ExtendedCommunity;
use evpnd_wire::message::{DecodeOptions, Message};
use std::net::{IpAddr, Ipv4Addr};

const RTC: PeerIdx = PeerIdx(1);
const PLAIN: PeerIdx = PeerIdx(2);
const SOURCE: PeerIdx = PeerIdx(3);

fn info(last: u8) -> PeerInfo {
    PeerInfo {
        address: IpAddr::V4(Ipv4Addr::new(198, 19, 0, last)),
        kind: if last == 4 {
            PeerKind::Local
        } else {
            PeerKind::IbgpClient
        },
        remote_as: 65000,
        router_id: Ipv4Addr::new(198, 19, 0, last),
    }
}

/// `peer` (an iBGP client) comes up with `graceful`.
fn peer_up(peer: PeerIdx, graceful: GracefulPeer) -> RibInput {
    RibInput::PeerUp {
        peer,
        info: info(peer.0 as u8),
        group: OutGroupKey {
            kind: PeerKind::IbgpClient,
            four_octet_as: true,
            max_message_len: 4096,
        },
        graceful,
        prefix_limit: None,
    }
}

fn up(rib: &mut Rib, peer: PeerIdx, sent: &mut Vec<RibOutput>) {
    rib.handle(peer_up(peer, GracefulPeer::default()), sent);
}

/// A reflector (198.19.0.4) with three clients up; RTC negotiated RTC
/// (no membership yet), PLAIN did not.
fn reflector() -> (Rib, Vec<RibOutput>) {
    let encoder = OutboundEncoder {
        family: Family::L2VPN_EVPN,
        local_asn: 65000,
        cluster_id: Ipv4Addr::new(198, 19, 0, 4),
    };
    let mut rib = Rib::new(info(4), encoder);
    for last in 1..=3 {
        assert_eq!(rib.add_peer(info(last)), PeerIdx(u16::from(last)));
    }
    let mut sent = Vec::new();
    rib.handle(RibInput::RtConstrained { peer: RTC }, &mut sent);
    for peer in [RTC, PLAIN, SOURCE] {
        up(&mut rib, peer, &mut sent);
    }
    (rib, sent)
}

/// A type-3 route whose RD ends in `n` (msg 20 of
/// proto-tests/vectors/frr/bgp-evpn-messages.txt, RD 198.19.0.1:n).
fn type3(n: u8) -> Vec<u8> {
    let mut nlri = crate::test_support::hex("03110001c613000100020000000020c6130001");
    nlri[9] = n;
    nlri
}

/// SOURCE announces type-3 `n` with route target 65000:`rt`.
fn announce(rib: &mut Rib, n: u8, rt: u32, sent: &mut Vec<RibOutput>) {
    let attributes = encode_stored(&[
        PathAttribute::new(AttributeValue::Origin(Origin::Igp)),
        PathAttribute::new(AttributeValue::AsPath(AsPath::new())),
        PathAttribute::new(AttributeValue::LocalPref(100)),
        PathAttribute::new(AttributeValue::ExtendedCommunities(vec![
            ExtendedCommunity::RouteTarget(format!("65000:{rt}").parse().unwrap()),
        ])),
    ]);
    let update = IngressUpdate {
        reach: Some(Reach {
            attributes,
            next_hop: Bytes::from_static(&[198, 19, 0, 3]),
            summary: PathSummary::default(),
            nlri: Bytes::from(type3(n)),
        }),
        ..Default::default()
    };
    rib.handle(
        RibInput::Update {
            peer: SOURCE,
            update,
        },
        sent,
    );
    rib.flush(sent);
}

fn membership(rib: &mut Rib, add: &[u32], remove: &[u32], eor: bool, sent: &mut Vec<RibOutput>) {
    let m = |rt: &u32| RtMembership::exact(65000, format!("65000:{rt}").parse().unwrap());
    rib.handle(
        RibInput::RtMembership {
            peer: RTC,
            announced: add.iter().map(m).collect(),
            withdrawn: remove.iter().map(m).collect(),
            end_of_rib: eor,
        },
        sent,
    );
}

/// What `peer` was sent, then `sent` emptied.
fn take(sent: &mut Vec<RibOutput>, peer: PeerIdx) -> (Vec<u8>, Vec<u8>, usize) {
    let got = sent_to(sent, peer);
    sent.clear();
    got
}

/// What `peer` was sent: the RD numbers announced, withdrawn, and the
/// End-of-RIB count.
fn sent_to(sent: &[RibOutput], peer: PeerIdx) -> (Vec<u8>, Vec<u8>, usize) {
    let mut got = (Vec::new(), Vec::new(), 0);
    let opts = DecodeOptions {
        four_octet_as: true,
        ..DecodeOptions::default()
    };
    for output in sent {
        let RibOutput::Send { peer: to, messages } = output else {
            continue;
        };
        if *to != peer {
            continue;
        }
        for bytes in messages.iter() {
            let Ok(Message::Update(u)) = Message::decode(bytes, &opts) else {
                panic!("an UPDATE");
            };
            if u.is_end_of_rib().is_some() {
                got.2 += 1;
                continue;
            }
            if let Some(r) = u.mp_reach() {
                got.0.extend(r.nlri.chunks(19).map(|n| n[9]));
            }
            if let Some(w) = u.mp_unreach() {
                got.1.extend(w.withdrawn.chunks(19).map(|n| n[9]));
            }
        }
    }
    got.0.sort();
    got.1.sort();
    got
}

#[test]
fn a_peer_with_rtc_gets_the_routes_of_its_route_targets_as_its_membership_changes() {
    let (mut rib, mut sent) = reflector();
    sent.clear();
    announce(&mut rib, 1, 10, &mut sent);
    announce(&mut rib, 2, 20, &mut sent);
    // PLAIN (no RTC) gets everything (RFC 4684 section 3); RTC, waiting
    // for its membership End-of-RIB (section 6), nothing yet.
    assert_eq!(sent_to(&sent, PLAIN), (vec![1, 2], vec![], 0));
    assert_eq!(take(&mut sent, RTC), (vec![], vec![], 0));
    // A membership before its End-of-RIB is remembered, not acted on.
    membership(&mut rib, &[10], &[], false, &mut sent);
    assert_eq!(take(&mut sent, RTC), (vec![], vec![], 0));
    assert_eq!(rib.counters(RTC).sent, 0);
    // End-of-RIB: its table, by its membership, and our End-of-RIB.
    membership(&mut rib, &[], &[], true, &mut sent);
    assert_eq!(take(&mut sent, RTC), (vec![1], vec![], 1));
    assert_eq!(rib.rt_memberships(RTC), Some(1));
    assert_eq!(rib.counters(RTC).sent, 1);
    // A new RT: its routes follow; one withdrawn: its routes go.
    membership(&mut rib, &[20], &[], false, &mut sent);
    assert_eq!(take(&mut sent, RTC), (vec![2], vec![], 0));
    membership(&mut rib, &[], &[10], false, &mut sent);
    assert_eq!(take(&mut sent, RTC), (vec![], vec![1], 0));
    // New routes pass the filter as they come.
    announce(&mut rib, 3, 10, &mut sent);
    announce(&mut rib, 4, 20, &mut sent);
    assert_eq!(sent_to(&sent, PLAIN), (vec![3, 4], vec![], 0));
    assert_eq!(take(&mut sent, RTC), (vec![4], vec![], 0));
    // The default membership: everything it did not have.
    rib.handle(
        RibInput::RtMembership {
            peer: RTC,
            announced: vec![RtMembership::Default],
            withdrawn: vec![],
            end_of_rib: false,
        },
        &mut sent,
    );
    assert_eq!(take(&mut sent, RTC), (vec![1, 3], vec![], 0));
    assert_eq!(rib.counters(RTC).sent, 4);
}

#[test]
fn peers_with_equal_memberships_share_one_encoded_batch() {
    let (mut rib, mut sent) = reflector();
    // PLAIN comes back with RTC and the same membership as RTC.
    rib.handle(
        RibInput::PeerDown {
            peer: PLAIN,
            retain: false,
        },
        &mut sent,
    );
    rib.handle(RibInput::RtConstrained { peer: PLAIN }, &mut sent);
    up(&mut rib, PLAIN, &mut sent);
    for peer in [RTC, PLAIN] {
        rib.handle(
            RibInput::RtMembership {
                peer,
                announced: vec![RtMembership::exact(65000, "65000:10".parse().unwrap())],
                withdrawn: vec![],
                end_of_rib: true,
            },
            &mut sent,
        );
    }
    sent.clear();
    announce(&mut rib, 1, 10, &mut sent);
    let chunks: Vec<&OutChunk> = sent
        .iter()
        .filter_map(|o| match o {
            RibOutput::Send { messages, .. } => Some(messages),
            _ => None,
        })
        .collect();
    assert_eq!(chunks.len(), 2, "one chunk per peer");
    assert!(
        Arc::ptr_eq(chunks[0], chunks[1]),
        "encoded once, for the group"
    );
}

#[test]
fn the_wait_for_the_membership_end_of_rib_is_bounded() {
    let (mut rib, mut sent) = reflector();
    announce(&mut rib, 1, 10, &mut sent);
    membership(&mut rib, &[10], &[], false, &mut sent);
    sent.clear();
    rib.handle(RibInput::RtMembershipWaitExpired { peer: RTC }, &mut sent);
    assert_eq!(take(&mut sent, RTC), (vec![1], vec![], 1));
    // Its End-of-RIB, late, changes nothing.
    membership(&mut rib, &[], &[], true, &mut sent);
    assert_eq!(take(&mut sent, RTC), (vec![], vec![], 0));
}

/// RFC 4724 section 4.1 beside RFC 4684 section 6: a deferred first
/// advertisement ends when the last awaited peer is up, even when that
/// peer is a constrained one not waited for; it still gets its table only
/// after its RT membership End-of-RIB.
#[test]
fn a_constrained_peer_not_waited_for_ends_the_deferral_and_waits_for_its_membership() {
    let encoder = OutboundEncoder {
        family: Family::L2VPN_EVPN,
        local_asn: 65000,
        cluster_id: Ipv4Addr::new(198, 19, 0, 4),
    };
    let mut rib = Rib::new(info(4), encoder);
    for last in 1..=3 {
        rib.add_peer(info(last));
    }
    rib.defer_selection();
    let mut sent = Vec::new();
    // PLAIN and SOURCE are up and have sent End-of-RIB.
    for peer in [PLAIN, SOURCE] {
        rib.handle(
            peer_up(
                peer,
                GracefulPeer {
                    keeps_stale: false,
                    awaited: true,
                },
            ),
            &mut sent,
        );
    }
    announce(&mut rib, 1, 10, &mut sent);
    for peer in [PLAIN, SOURCE] {
        let update = IngressUpdate {
            end_of_rib: true,
            ..Default::default()
        };
        rib.handle(RibInput::Update { peer, update }, &mut sent);
    }
    assert!(rib.deferring(), "RTC has not come up yet");
    // RTC comes up without Graceful Restart: nothing more to wait for.
    rib.handle(RibInput::RtConstrained { peer: RTC }, &mut sent);
    up(&mut rib, RTC, &mut sent);
    assert!(!rib.deferring());
    assert_eq!(sent_to(&sent, PLAIN), (vec![1], vec![], 1));
    assert_eq!(take(&mut sent, RTC), (vec![], vec![], 0));
    membership(&mut rib, &[10], &[], true, &mut sent);
    assert_eq!(take(&mut sent, RTC), (vec![1], vec![], 1));
}

/// ADR 0010 beside RFC 4684 sections 3 and 6: a session `evpnd upgrade`
/// handed over comes into the new RIB with the membership the previous
/// image had. Complete, it is filtered from its PeerUp on, its table by
/// that membership at once; incomplete, it still waits for its End-of-RIB.
#[test]
fn a_resumed_peer_is_filtered_by_the_membership_it_was_handed() {
    let encoder = OutboundEncoder {
        family: Family::L2VPN_EVPN,
        local_asn: 65000,
        cluster_id: Ipv4Addr::new(198, 19, 0, 4),
    };
    let member = |rt: u32| RtMembership::exact(65000, format!("65000:{rt}").parse().unwrap());
    for complete in [true, false] {
        let mut rib = Rib::new(info(4), encoder);
        for last in 1..=3 {
            rib.add_peer(info(last));
        }
        let mut sent = Vec::new();
        up(&mut rib, SOURCE, &mut sent);
        announce(&mut rib, 1, 10, &mut sent);
        announce(&mut rib, 2, 20, &mut sent);
        sent.clear();
        let handed = PeerRtMembership {
            memberships: BTreeSet::from([member(10)]),
            complete,
        };
        let resumed = RibInput::RtResumed {
            peer: RTC,
            membership: handed,
        };
        rib.handle(resumed, &mut sent);
        up(&mut rib, RTC, &mut sent);
        assert_eq!(rib.rt_memberships(RTC), Some(1));
        if !complete {
            // Handed over while it waited: it still waits.
            assert_eq!(take(&mut sent, RTC), (vec![], vec![], 0));
            membership(&mut rib, &[], &[], true, &mut sent);
        }
        assert_eq!(
            take(&mut sent, RTC),
            (vec![1], vec![], 1),
            "complete: {complete}"
        );
        // What comes next passes the filter as before the upgrade.
        announce(&mut rib, 3, 20, &mut sent);
        announce(&mut rib, 4, 10, &mut sent);
        assert_eq!(take(&mut sent, RTC), (vec![4], vec![], 0));
        membership(&mut rib, &[20], &[], false, &mut sent);
        assert_eq!(take(&mut sent, RTC), (vec![2, 3], vec![], 0));
    }
}
