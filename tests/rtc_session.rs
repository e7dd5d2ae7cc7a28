//! RT-Constrain (RFC 4684) on a session, against a running reflector: with
//! `families = ["l2vpn-evpn", "rtc"]` a peer that also announces AFI 1 /
//! SAFI 132 negotiates it and is told, before anything else, that evpnd
//! wants every route target (the default RT membership, then End-of-RIB
//! for the family); a peer without the capability sees none of it.

#[allow(dead_code)]
mod common;

use common::*;
use evpnd_wire::Family;
use evpnd_wire::capability::Capability;
use evpnd_wire::message::Message;
use evpnd_wire::open::Open;
use evpnd_wire::rtc::RtMembership;
use std::net::Ipv4Addr;

const RTC_PEER: Ipv4Addr = Ipv4Addr::new(127, 0, 15, 1);
const PLAIN_PEER: Ipv4Addr = Ipv4Addr::new(127, 0, 15, 2);

/// Bring `s` to Established announcing `families`; the daemon's OPEN.
fn establish_with(s: &mut Speaker, families: &[Family]) -> Open {
    let mut caps: Vec<Capability> = families
        .iter()
        .map(|f| Capability::Multiprotocol(*f))
        .collect();
    caps.push(Capability::FourOctetAs(ASN));
    s.send(&Message::Open(Open::new(ASN, 90, s.router_id, caps)));
    let open = match s.recv(STEP) {
        Ok(Message::Open(open)) => open,
        other => panic!("expected OPEN, got {other:?}"),
    };
    assert!(matches!(s.recv(STEP), Ok(Message::Keepalive)));
    s.send(&Message::Keepalive);
    open
}

#[test]
fn a_peer_with_rtc_is_asked_for_every_route_target_first() {
    let daemon = Daemon::start_with("rtc-session", |port, socket| {
        rr_config(port, &[RTC_PEER, PLAIN_PEER], socket).replace(
            "families = [\"l2vpn-evpn\"]",
            "families = [\"l2vpn-evpn\", \"rtc\"]",
        )
    });
    let mut rtc = Speaker::connect(RTC_PEER, RTC_PEER, daemon.port);
    let open = establish_with(&mut rtc, &[Family::L2VPN_EVPN, Family::IPV4_RTC]);
    assert_eq!(open.families(), [Family::L2VPN_EVPN, Family::IPV4_RTC]);
    // Graceful Restart is off in these tests; with it on it would name
    // l2vpn-evpn only (src/session/spec.rs).
    let first = loop {
        match rtc.recv(STEP) {
            Ok(Message::Keepalive) => continue,
            Ok(Message::Update(u)) => break u,
            other => panic!("expected an UPDATE, got {other:?}"),
        }
    };
    let reach = first.mp_reach().expect("RT membership in MP_REACH_NLRI");
    assert_eq!(reach.family, Family::IPV4_RTC);
    assert_eq!(
        RtMembership::decode_all(&reach.nlri).unwrap(),
        [RtMembership::Default]
    );
    assert_eq!(reach.next_hop_addr(), Some(RR_ROUTER_ID.into()));
    let second = loop {
        match rtc.recv(STEP) {
            Ok(Message::Keepalive) => continue,
            Ok(Message::Update(u)) => break u,
            other => panic!("expected End-of-RIB, got {other:?}"),
        }
    };
    assert_eq!(second.is_end_of_rib(), Some(Family::IPV4_RTC));
    let row = daemon.wait_state(RTC_PEER, "Established");
    assert!(
        row.families.contains(&"rtc".to_string()),
        "{:?}",
        row.families
    );

    // A peer without the capability: no RTC family, no RT membership.
    let mut plain = Speaker::connect(PLAIN_PEER, PLAIN_PEER, daemon.port);
    establish_with(&mut plain, &[Family::L2VPN_EVPN]);
    let table = plain.initial_table();
    assert!(table.announced.is_empty(), "{:?}", table.announced);
    let row = daemon.wait_state(PLAIN_PEER, "Established");
    assert_eq!(row.families, ["l2vpn-evpn"]);
}

const SOURCE_PEER: Ipv4Addr = Ipv4Addr::new(127, 0, 15, 3);

/// What an RTC-aware speaker reads: EVPN routes announced and withdrawn
/// (by RD number), EVPN End-of-RIBs; RT membership UPDATEs are skipped.
#[derive(Debug, Default, PartialEq)]
struct Evpn {
    announced: Vec<u16>,
    withdrawn: Vec<u16>,
    end_of_rib: usize,
}

fn rd_number(route: &evpnd_wire::evpn::EvpnRoute) -> u16 {
    let rd = route.rd().expect("type-3 routes have an RD").to_string();
    rd.rsplit(':').next().unwrap().parse().unwrap()
}

/// Everything `s` is sent until [`QUIET`] passes without a message.
fn evpn_received(s: &mut Speaker) -> Evpn {
    use evpnd_wire::evpn::EvpnRoute;
    let mut got = Evpn::default();
    while let Ok(m) = s.recv(QUIET) {
        let Message::Update(u) = m else { continue };
        if u.is_end_of_rib() == Some(Family::L2VPN_EVPN) {
            got.end_of_rib += 1;
        }
        if let Some(r) = u.mp_reach().filter(|r| r.family == Family::L2VPN_EVPN) {
            got.announced.extend(
                EvpnRoute::decode_all(&r.nlri, 0)
                    .unwrap()
                    .iter()
                    .map(rd_number),
            );
        }
        if let Some(w) = u.mp_unreach().filter(|w| w.family == Family::L2VPN_EVPN) {
            got.withdrawn.extend(
                EvpnRoute::decode_all(&w.withdrawn, 0)
                    .unwrap()
                    .iter()
                    .map(rd_number),
            );
        }
    }
    got.announced.sort();
    got.withdrawn.sort();
    got
}

fn member(vni: u32) -> RtMembership {
    RtMembership::exact(ASN, format!("65000:{vni}").parse().unwrap())
}

/// RFC 4684 sections 3 and 6 against a running reflector: a client with
/// RTC gets no EVPN route before its RT membership End-of-RIB, then only
/// the routes of its route targets, and follows its membership as it
/// changes; a client without RTC gets everything.
#[test]
fn a_client_with_rtc_gets_only_the_routes_of_its_route_targets() {
    use evpnd_core::session::rt_constraint::membership_updates;
    use evpnd_wire::attribute::{AttributeValue, MpUnreach, PathAttribute};
    use evpnd_wire::update::Update;
    let daemon = Daemon::start_with("rtc-filter", |port, socket| {
        rr_config(port, &[RTC_PEER, PLAIN_PEER, SOURCE_PEER], socket).replace(
            "families = [\"l2vpn-evpn\"]",
            "families = [\"l2vpn-evpn\", \"rtc\"]",
        )
    });
    let mut rtc = Speaker::connect(RTC_PEER, RTC_PEER, daemon.port);
    establish_with(&mut rtc, &[Family::L2VPN_EVPN, Family::IPV4_RTC]);
    let mut plain = Speaker::connect(PLAIN_PEER, PLAIN_PEER, daemon.port);
    establish_with(&mut plain, &[Family::L2VPN_EVPN]);
    let mut source = Speaker::connect(SOURCE_PEER, SOURCE_PEER, daemon.port);
    establish_with(&mut source, &[Family::L2VPN_EVPN]);
    assert_eq!(evpn_received(&mut plain).end_of_rib, 1);
    for vni in [10u32, 20] {
        source.announce(
            SOURCE_PEER,
            &vtep_attributes(true, &[rt(vni)], None),
            &[type3(rd(SOURCE_PEER, vni as u16), SOURCE_PEER)],
        );
    }
    assert_eq!(evpn_received(&mut plain).announced, [10, 20]);
    // Before its membership's End-of-RIB: nothing (RFC 4684 section 6).
    assert_eq!(evpn_received(&mut rtc), Evpn::default());
    for u in membership_updates(&[member(10)], RTC_PEER, true, ASN) {
        rtc.send(&Message::Update(u));
    }
    let got = evpn_received(&mut rtc);
    assert_eq!((got.announced, got.end_of_rib), (vec![10], 1));
    // Another RT: its route follows (the End-of-RIB is not sent again).
    rtc.send(&Message::Update(
        membership_updates(&[member(20)], RTC_PEER, true, ASN).remove(0),
    ));
    assert_eq!(evpn_received(&mut rtc).announced, [20]);
    // An RT withdrawn: its route is withdrawn.
    let unreach = Update {
        attributes: vec![PathAttribute::new(AttributeValue::MpUnreach(MpUnreach {
            family: Family::IPV4_RTC,
            withdrawn: member(10).to_bytes().into(),
        }))],
        ..Update::default()
    };
    rtc.send(&Message::Update(unreach));
    assert_eq!(evpn_received(&mut rtc).withdrawn, [10]);
    // The plain client saw none of this.
    assert_eq!(evpn_received(&mut plain), Evpn::default());
    // show neighbors: the membership count, for the RTC client only.
    assert_eq!(daemon.neighbor(RTC_PEER).rt_memberships, Some(1));
    assert_eq!(daemon.neighbor(RTC_PEER).prefixes_sent, 1);
    assert_eq!(daemon.neighbor(PLAIN_PEER).rt_memberships, None);
    assert_eq!(daemon.neighbor(PLAIN_PEER).prefixes_sent, 2);
}

/// ADR 0010 beside RFC 4684 section 3: a session `evpnd upgrade` hands
/// over keeps the RT-Constrain state the previous image had. A client with
/// the membership 65000:10 only, then an upgrade: a route of 65000:20 that
/// another client announces afterwards is not sent to it, one of 65000:10
/// is, at once (no wait for a membership End-of-RIB the client sent to the
/// previous image), and nothing is asked of it again.
#[test]
fn an_upgrade_keeps_a_clients_rt_membership() {
    use evpnd_core::session::rt_constraint::membership_updates;
    let mut daemon = Daemon::start_with("rtc-upgrade", |port, socket| {
        rr_config(port, &[RTC_PEER, SOURCE_PEER], socket).replace(
            "families = [\"l2vpn-evpn\"]",
            "families = [\"l2vpn-evpn\", \"rtc\"]",
        )
    });
    let mut rtc = Speaker::connect(RTC_PEER, RTC_PEER, daemon.port);
    establish_with(&mut rtc, &[Family::L2VPN_EVPN, Family::IPV4_RTC]);
    let mut source = Speaker::connect(SOURCE_PEER, SOURCE_PEER, daemon.port);
    establish_with(&mut source, &[Family::L2VPN_EVPN]);
    for u in membership_updates(&[member(10)], RTC_PEER, true, ASN) {
        rtc.send(&Message::Update(u));
    }
    let announce = |source: &mut Speaker, vni: u32, number: u16| {
        source.announce(
            SOURCE_PEER,
            &vtep_attributes(true, &[rt(vni)], None),
            &[type3(rd(SOURCE_PEER, number), SOURCE_PEER)],
        );
    };
    announce(&mut source, 10, 10);
    announce(&mut source, 20, 20);
    let got = evpn_received(&mut rtc);
    assert_eq!((got.announced, got.end_of_rib), (vec![10], 1));
    assert_eq!(daemon.neighbor(RTC_PEER).rt_memberships, Some(1));

    let out = daemon.cli(&["upgrade"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("upgraded: the new image runs, 2 of 2 session(s) established"),
        "{text}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        daemon.log()
    );
    // The new image's first words to the client: a KEEPALIVE, then its
    // table by the membership it was handed (an implicit replace of what
    // the client has), no RT membership of ours again (unchanged), no
    // ROUTE-REFRESH.
    let mut after = Evpn::default();
    let deadline = std::time::Instant::now() + STEP;
    loop {
        match rtc.recv(QUIET) {
            Ok(Message::Update(u)) => {
                assert!(
                    u.mp_reach().is_none_or(|r| r.family != Family::IPV4_RTC)
                        && u.is_end_of_rib() != Some(Family::IPV4_RTC),
                    "our RT membership again: {u:?}"
                );
                if u.is_end_of_rib() == Some(Family::L2VPN_EVPN) {
                    after.end_of_rib += 1;
                }
                if let Some(r) = u.mp_reach().filter(|r| r.family == Family::L2VPN_EVPN) {
                    after.announced.extend(
                        evpnd_wire::evpn::EvpnRoute::decode_all(&r.nlri, 0)
                            .unwrap()
                            .iter()
                            .map(rd_number),
                    );
                }
            }
            Ok(Message::Keepalive) => {}
            Ok(other) => panic!("after the upgrade: {other:?}"),
            Err(RecvError::Timeout) if after.end_of_rib > 0 => break,
            Err(RecvError::Timeout) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no table after the upgrade: {after:?}\n{}",
                    daemon.log()
                );
            }
            Err(e) => panic!("{e}\n{}", daemon.log()),
        }
    }
    assert_eq!(after.announced, [10], "{after:?}");
    assert_eq!(daemon.neighbor(RTC_PEER).rt_memberships, Some(1));
    assert!(
        daemon
            .log()
            .contains("RT-Constrain state handed over by the previous process"),
        "{}",
        daemon.log()
    );

    // New routes from the other client: only 65000:10's reaches it.
    announce(&mut source, 20, 21);
    announce(&mut source, 10, 11);
    let got = evpn_received(&mut rtc);
    assert_eq!(
        (&got.announced[..], got.end_of_rib),
        (&[11][..], 0),
        "{got:?}"
    );
    assert_eq!(daemon.neighbor(RTC_PEER).prefixes_sent, 2);
    daemon.assert_running();
}
