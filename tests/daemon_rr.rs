//! The `evpnd` binary as a route reflector, end to end: a real daemon on
//! 127.0.0.1 and a private port, driven by scripted BGP peers connecting
//! from 127.0.0.2, .3, ... (see `common`). Each test starts its own daemon.

// Graceful Restart helpers are for tests/graceful_restart.rs.
#[allow(dead_code)]
mod common;

use common::*;
use evpnd::api::protocol::{NeighborRow, Request, Response, RouteRow};
use evpnd_wire::Family;
use evpnd_wire::capability::Capability;
use evpnd_wire::evpn::{EvpnRoute, EvpnRouteKey};
use evpnd_wire::extcomm::{ExtendedCommunity, MacMobility};
use evpnd_wire::message::Message;
use evpnd_wire::notification::{
    CeaseSubcode, ErrorCode, HeaderSubcode, OpenSubcode, UpdateSubcode,
};
use evpnd_wire::open::Open;
use evpnd_wire::pmsi::PmsiTunnel;
use evpnd_wire::route_refresh::RouteRefresh;
use evpnd_wire::update::Update;
use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

/// Peer A: TCP source, BGP identifier (distinct, to see which one
/// ORIGINATOR_ID carries) and VTEP address (the next hop).
const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const A_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const A_VTEP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const B_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 3);
const B_VTEP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 3);
const C: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 4);
const C_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 4);
const D: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 5);
const D_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 5);
const VNI: u32 = 10;
const TYPE2_ROUTES: u16 = 100;

/// A's EVPN instance: one type-3 with PMSI and 100 type-2 routes, even
/// ones MAC only, odd ones MAC+IP.
struct VtepTable {
    type3: EvpnRoute,
    type3_attributes: bytes::Bytes,
    pmsi: PmsiTunnel,
    type2: Vec<EvpnRoute>,
    type2_attributes: bytes::Bytes,
    communities: Vec<ExtendedCommunity>,
}

fn a_table() -> VtepTable {
    let rd_a = rd(A_ID, VNI as u16);
    let pmsi = PmsiTunnel::ingress_replication(VNI, IpAddr::V4(A_VTEP));
    let communities = vec![rt(VNI), ExtendedCommunity::VXLAN_ENCAPSULATION];
    let type2 = (0..TYPE2_ROUTES)
        .map(|i| {
            let ip = (i % 2 == 1).then(|| Ipv4Addr::new(198, 18, 100, i as u8));
            type2(rd_a, mac(2, i), ip, VNI)
        })
        .collect();
    VtepTable {
        type3: type3(rd_a, A_VTEP),
        // FRR sends LOCAL_PREF 100 to its reflector; leaving it out of the
        // type-3 checks that the reflector supplies it (RFC 4271 5.1.5).
        type3_attributes: vtep_attributes(
            false,
            &[ExtendedCommunity::VXLAN_ENCAPSULATION, rt(VNI)],
            Some(pmsi.clone()),
        ),
        pmsi,
        type2,
        type2_attributes: vtep_attributes(true, &communities, None),
        communities,
    }
}

impl VtepTable {
    fn all(&self) -> Vec<EvpnRoute> {
        std::iter::once(self.type3.clone())
            .chain(self.type2.iter().cloned())
            .collect()
    }

    fn send(&self, speaker: &mut Speaker, vtep: Ipv4Addr) {
        speaker.announce(
            vtep,
            &self.type3_attributes,
            std::slice::from_ref(&self.type3),
        );
        speaker.announce(vtep, &self.type2_attributes, &self.type2);
        speaker.end_of_rib();
    }
}

fn sorted(communities: &[ExtendedCommunity]) -> Vec<ExtendedCommunity> {
    let mut c = communities.to_vec();
    c.sort();
    c
}

fn key_set(routes: &[EvpnRoute]) -> BTreeSet<EvpnRouteKey> {
    routes.iter().map(key).collect()
}

/// Every key of `keys` once and nothing else.
fn assert_exactly_once(keys: &[EvpnRouteKey], expected: &BTreeSet<EvpnRouteKey>, what: &str) {
    let mut counts: HashMap<&EvpnRouteKey, usize> = HashMap::new();
    for k in keys {
        *counts.entry(k).or_default() += 1;
    }
    let duplicates: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "{what}: duplicates {duplicates:?}");
    let got: BTreeSet<EvpnRouteKey> = keys.iter().cloned().collect();
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing {missing:?}, unexpected {extra:?}"
    );
}

/// A reflected path as RFC 4456 section 8 wants it, with everything else
/// unchanged.
fn assert_reflected(
    route: &EvpnRoute,
    update: &Update,
    sent: &EvpnRoute,
    next_hop: Ipv4Addr,
    originator: Ipv4Addr,
    communities: &[ExtendedCommunity],
    pmsi: Option<&PmsiTunnel>,
) {
    assert_eq!(route, sent, "NLRI (labels included) changed");
    let reach = update.mp_reach().expect("MP_REACH_NLRI");
    assert_eq!(
        reach.next_hop_addr(),
        Some(IpAddr::V4(next_hop)),
        "{route}: next hop"
    );
    assert_eq!(
        sorted(update.extended_communities().unwrap_or_default()),
        sorted(communities),
        "{route}: extended communities"
    );
    assert_eq!(update.pmsi_tunnel(), pmsi, "{route}: PMSI");
    assert_eq!(
        update.originator_id(),
        Some(originator),
        "{route}: ORIGINATOR_ID"
    );
    assert_eq!(
        update.cluster_list(),
        Some(&[CLUSTER_ID][..]),
        "{route}: CLUSTER_LIST"
    );
    assert_eq!(update.local_pref(), Some(100), "{route}: LOCAL_PREF");
}

/// A daemon with `peers` configured; A and B established, each having
/// received its (empty) initial table and End-of-RIB.
fn two_clients(name: &str, peers: &[Ipv4Addr]) -> (Daemon, Speaker, Speaker) {
    let daemon = Daemon::start(name, peers);
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    let mut b = Speaker::establish(B, B_ID, daemon.port);
    for s in [&mut a, &mut b] {
        let table = s.initial_table();
        assert_eq!(table.end_of_rib, 1, "{}: one End-of-RIB", s.from);
        assert!(table.announced.is_empty() && table.withdrawn.is_empty());
    }
    (daemon, a, b)
}

/// A sends its table; B gets all of it, exactly once, reflected correctly.
fn reflect_a_table(a: &mut Speaker, b: &mut Speaker) -> VtepTable {
    let table = a_table();
    table.send(a, A_VTEP);
    let expected = key_set(&table.all());
    let mut got = Received::default();
    b.collect_until(&mut got, |r| r.announced.len() >= expected.len());
    assert_exactly_once(&got.announced_keys(), &expected, "B's reflected routes");
    assert!(got.withdrawn.is_empty(), "{:?}", got.withdrawn);
    // The reflector already sent its End-of-RIB to B; A's own End-of-RIB is
    // not forwarded (it is per session, RFC 4724 section 2).
    assert_eq!(got.end_of_rib, 0);
    for (route, update) in &got.announced {
        if *route == table.type3 {
            assert_reflected(
                route,
                update,
                &table.type3,
                A_VTEP,
                A_ID,
                &table.communities,
                Some(&table.pmsi),
            );
        } else {
            let sent = table
                .type2
                .iter()
                .find(|s| key(s) == key(route))
                .expect("a route A sent");
            assert_reflected(route, update, sent, A_VTEP, A_ID, &table.communities, None);
        }
    }
    table
}

/// RFC 4456 section 8: a reflector sends routes to clients other than the
/// one they came from. (FRR sends them back to the originator too, which
/// drops them by ORIGINATOR_ID; evpnd does not send them at all.)
fn assert_nothing_for(speaker: &mut Speaker) {
    let mut got = Received::default();
    speaker.drain(&mut got, QUIET);
    assert!(
        got.is_empty(),
        "{} got {} announced, {} withdrawn, {} EoR, {:?}",
        speaker.from,
        got.announced.len(),
        got.withdrawn.len(),
        got.end_of_rib,
        got.notifications
    );
}

#[test]
fn reflects_a_clients_table_to_the_other_client() {
    let (_daemon, mut a, mut b) = two_clients("reflect", &[A, B]);
    reflect_a_table(&mut a, &mut b);
    assert_nothing_for(&mut a);
}

#[test]
fn withdrawals_and_a_lost_session_withdraw_from_the_other_client() {
    let (daemon, mut a, mut b) = two_clients("withdraw", &[A, B]);
    let table = reflect_a_table(&mut a, &mut b);

    // FRR withdraws type-2 routes with a zero label: the label is not part
    // of the route's identity (RFC 7432 section 7.2).
    let withdrawn: Vec<EvpnRoute> = table.type2[..10]
        .iter()
        .map(|r| match r {
            EvpnRoute::MacIp(t2) => {
                EvpnRoute::MacIp(evpnd_wire::evpn::Type2Route { label1: 0, ..*t2 })
            }
            other => other.clone(),
        })
        .collect();
    a.withdraw(&withdrawn);
    let expected = key_set(&withdrawn);
    let mut got = Received::default();
    b.collect_until(&mut got, |r| r.withdrawn.len() >= expected.len());
    assert_exactly_once(&got.withdrawn_keys(), &expected, "explicit withdrawals");
    assert!(got.announced.is_empty(), "{:?}", got.announced);
    assert_eq!(daemon.neighbor(A).prefixes_received, 91);

    // A's session ends without a NOTIFICATION: everything it still had
    // goes (RFC 4271 section 9.1.3 / 8.2.2, the routes of a closed session
    // are removed).
    a.close();
    let remaining = key_set(&[&[table.type3.clone()][..], &table.type2[10..]].concat());
    let mut got = Received::default();
    b.collect_until(&mut got, |r| r.withdrawn.len() >= remaining.len());
    assert_exactly_once(
        &got.withdrawn_keys(),
        &remaining,
        "session-down withdrawals",
    );
    assert!(got.announced.is_empty(), "{:?}", got.announced);
    assert!(daemon.routes().is_empty(), "{:?}", daemon.routes());
    daemon.wait_state(B, "Established");
}

#[test]
fn late_joiner_gets_the_full_table_then_end_of_rib() {
    let daemon = Daemon::start("late", &[A, B, C]);
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    assert_eq!(a.initial_table().end_of_rib, 1);
    let table = a_table();
    table.send(&mut a, A_VTEP);
    let deadline = Instant::now() + STEP;
    while daemon.neighbor(A).prefixes_received < 101 {
        assert!(Instant::now() < deadline, "{:?}", daemon.neighbor(A));
        std::thread::sleep(Duration::from_millis(20));
    }

    let mut c = Speaker::establish(C, C_ID, daemon.port);
    let mut got = Received::default();
    let mut announced_at_eor = None;
    let deadline = Instant::now() + STEP;
    while got.end_of_rib == 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.recv(left) {
            Ok(m) => {
                absorb(&mut got, m);
                if got.end_of_rib > 0 {
                    announced_at_eor = Some(got.announced.len());
                }
            }
            Err(e) => panic!("C: {e} after {} routes", got.announced.len()),
        }
    }
    c.drain(&mut got, QUIET);
    assert_eq!(
        announced_at_eor,
        Some(101),
        "End-of-RIB must follow the whole table"
    );
    assert_eq!(got.end_of_rib, 1);
    assert_exactly_once(&got.announced_keys(), &key_set(&table.all()), "C's table");
    for (route, update) in &got.announced {
        assert_eq!(update.originator_id(), Some(A_ID), "{route}");
        assert_eq!(update.cluster_list(), Some(&[CLUSTER_ID][..]), "{route}");
    }
    assert!(got.withdrawn.is_empty());
    assert_nothing_for(&mut a);
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn route_rows(daemon: &Daemon, args: &[&str]) -> Vec<RouteRow> {
    let mut full = vec!["routes", "--json"];
    full.extend_from_slice(args);
    let value = json(&daemon.show_cli(&full));
    assert!(value.is_array(), "{value}");
    serde_json::from_value(value).expect("route rows")
}

#[test]
fn show_routes_and_neighbors_on_the_running_daemon() {
    let (daemon, mut a, mut b) = two_clients("show", &[A, B]);
    let table = reflect_a_table(&mut a, &mut b);
    // B is a VTEP too: VNI 20 under its own RD, so the filters have
    // something to tell apart.
    let rd_b = rd(B_ID, 20);
    let b_type3 = type3(rd_b, B_VTEP);
    let b_type2: Vec<EvpnRoute> = (0..5).map(|i| type2(rd_b, mac(3, i), None, 20)).collect();
    let b_communities = [rt(20), ExtendedCommunity::VXLAN_ENCAPSULATION];
    b.announce(
        B_VTEP,
        &vtep_attributes(
            true,
            &b_communities,
            Some(PmsiTunnel::ingress_replication(20, IpAddr::V4(B_VTEP))),
        ),
        std::slice::from_ref(&b_type3),
    );
    b.announce(
        B_VTEP,
        &vtep_attributes(true, &b_communities, None),
        &b_type2,
    );
    b.end_of_rib();
    let mut got = Received::default();
    a.collect_until(&mut got, |r| r.announced.len() >= 6);
    assert_eq!(got.announced.len(), 6);

    let rows = route_rows(&daemon, &[]);
    assert_eq!(rows.len(), 107, "one row per path");
    let a_rows: Vec<&RouteRow> = rows.iter().filter(|r| r.rd == "198.18.0.2:10").collect();
    assert_eq!(a_rows.len(), 101);
    for row in &a_rows {
        assert_eq!(row.peer, "127.0.0.2", "{row:?}");
        assert!(row.best, "{row:?}");
        assert_eq!(row.next_hop, Some(IpAddr::V4(A_VTEP)), "{row:?}");
        assert_eq!(row.route_targets, vec!["65000:10".to_string()], "{row:?}");
        assert_eq!(row.encapsulation, Some(8), "{row:?}");
        assert!(row.internal, "{row:?}");
    }
    for route in &table.type2 {
        let EvpnRoute::MacIp(t2) = route else {
            unreachable!()
        };
        let row = a_rows
            .iter()
            .find(|r| r.mac.as_deref() == Some(t2.mac.to_string().as_str()))
            .unwrap_or_else(|| panic!("no row for {route}"));
        assert_eq!(row.route_type, 2);
        assert_eq!(row.ip, t2.ip, "{row:?}");
        assert_eq!(row.labels, vec![VNI], "{row:?}");
    }
    let a3 = a_rows
        .iter()
        .find(|r| r.route_type == 3)
        .expect("A's type-3");
    assert_eq!(a3.originator_ip, Some(IpAddr::V4(A_VTEP)));
    let pmsi = a3.pmsi.as_ref().expect("PMSI");
    assert_eq!(
        (pmsi.tunnel_type.as_str(), pmsi.label, pmsi.endpoint),
        ("ingress-replication", VNI, IpAddr::V4(A_VTEP))
    );

    let type3_rows = route_rows(&daemon, &["--type", "3"]);
    assert_eq!(type3_rows.len(), 2, "{type3_rows:?}");
    assert!(type3_rows.iter().all(|r| r.route_type == 3));
    let vni10 = route_rows(&daemon, &["--vni", "10"]);
    assert_eq!(vni10.len(), 101);
    assert!(vni10.iter().all(|r| r.rd == "198.18.0.2:10"));
    let by_rd = route_rows(&daemon, &["--rd", "198.18.0.3:20"]);
    assert_eq!(by_rd.len(), 6);
    assert!(by_rd.iter().all(|r| r.peer == "127.0.0.3"));
    let both = route_rows(&daemon, &["--vni", "20", "--type", "2"]);
    assert_eq!(both.len(), 5);
    assert!(route_rows(&daemon, &["--rd", "198.18.0.9:1"]).is_empty());

    let neighbors: Vec<NeighborRow> =
        serde_json::from_value(json(&daemon.show_cli(&["neighbors", "--json"])))
            .expect("neighbor rows");
    let row = |addr: Ipv4Addr| {
        neighbors
            .iter()
            .find(|n| n.address == IpAddr::V4(addr))
            .expect("configured neighbor")
    };
    for (addr, received, sent) in [(A, 101, 6), (B, 6, 101)] {
        let n = row(addr);
        assert_eq!(n.state, "Established", "{n:?}");
        assert_eq!(n.prefixes_received, received, "{n:?}");
        assert_eq!(n.prefixes_sent, sent, "{n:?}");
        assert_eq!(n.families, vec!["l2vpn-evpn".to_string()], "{n:?}");
        assert!(n.route_reflector_client);
    }

    let out = daemon.show_cli(&["routes"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Route Distinguisher: 198.18.0.2:10",
        "[2]:[0]:[48]:[02:aa:02:00:00:00]",
        "[2]:[0]:[48]:[02:aa:02:00:00:01]:[32]:[198.18.100.1]",
        "[3]:[0]:[32]:[198.18.1.2]",
        "Displayed 107 prefixes (107 paths)",
    ] {
        assert!(text.contains(needle), "{needle} not in:\n{text}");
    }
}

/// One type-2 route of A under RD A:10, number `i` (outside A's table).
fn extra_route(i: u16) -> EvpnRoute {
    type2(rd(A_ID, VNI as u16), mac(2, 1000 + i), None, VNI)
}

fn a_type2_attributes() -> bytes::Bytes {
    vtep_attributes(
        true,
        &[rt(VNI), ExtendedCommunity::VXLAN_ENCAPSULATION],
        None,
    )
}

/// A announces `route`; B must get exactly it.
fn announce_and_see(a: &mut Speaker, b: &mut Speaker, route: &EvpnRoute) {
    a.announce(A_VTEP, &a_type2_attributes(), std::slice::from_ref(route));
    let mut got = Received::default();
    b.collect_until(&mut got, |r| !r.announced.is_empty());
    assert_eq!(got.announced_keys(), vec![key(route)]);
    assert!(got.withdrawn.is_empty());
}

#[test]
fn garbage_resets_only_the_offending_session() {
    let (daemon, mut a, mut b) = two_clients("garbage", &[A, B, C, D]);
    let mut c = Speaker::establish(C, C_ID, daemon.port);
    assert_eq!(c.initial_table().end_of_rib, 1);
    let mut d = Speaker::establish(D, D_ID, daemon.port);
    assert_eq!(d.initial_table().end_of_rib, 1);

    // C: a KEEPALIVE whose marker is not all ones (RFC 4271 section 6.1:
    // Connection Not Synchronized).
    let mut bad = vec![0xff; 19];
    bad[3] = 0x00;
    bad[16..19].copy_from_slice(&[0, 19, 4]);
    c.send_raw(&bad);
    let n = c.expect_notification();
    assert_eq!(
        n.code,
        ErrorCode::MessageHeader(HeaderSubcode::ConnectionNotSynchronized),
        "{n}"
    );
    c.expect_closed();

    // D: an UPDATE with an unrecognized attribute lacking the Optional bit
    // (RFC 4271 section 6.3: Unrecognized Well-known Attribute, the
    // attribute as data; RFC 7606 keeps the reset for it).
    let unknown_well_known = raw_attribute(0x40, 99, &[0xbe, 0xef]);
    let mut attributes = a_type2_attributes().to_vec();
    attributes.extend_from_slice(&unknown_well_known);
    let d_route = type2(rd(D_ID, 10), mac(5, 1), None, VNI);
    d.announce(A_VTEP, &attributes, std::slice::from_ref(&d_route));
    let n = d.expect_notification();
    assert_eq!(
        n.code,
        ErrorCode::Update(UpdateSubcode::UnrecognizedWellKnownAttribute),
        "{n}"
    );
    assert_eq!(&n.data[..], &unknown_well_known[..], "{n}");
    d.expect_closed();

    for peer in [C, D] {
        let deadline = Instant::now() + STEP;
        while daemon.neighbor(peer).state == "Established" {
            assert!(Instant::now() < deadline, "{peer} still Established");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    // The others never noticed, and D's route reached nobody.
    daemon.wait_state(A, "Established");
    daemon.wait_state(B, "Established");
    let r1 = extra_route(1);
    announce_and_see(&mut a, &mut b, &r1);

    // RFC 7606 sections 7.9 / 7.10: a malformed ORIGINATOR_ID or
    // CLUSTER_LIST means treat-as-withdraw, no reset.
    let r2 = extra_route(2);
    announce_and_see(&mut a, &mut b, &r2);
    for (route, bad_attribute) in [
        (&r2, raw_attribute(0x80, 9, &[198, 18, 0])),
        (&r1, raw_attribute(0x80, 10, &[198, 18, 0, 2, 1, 1])),
    ] {
        let mut attributes = a_type2_attributes().to_vec();
        attributes.extend_from_slice(&bad_attribute);
        a.announce(A_VTEP, &attributes, std::slice::from_ref(route));
        let mut got = Received::default();
        b.collect_until(&mut got, |r| !r.withdrawn.is_empty());
        assert_eq!(got.withdrawn_keys(), vec![key(route)], "{route}");
        assert!(got.announced.is_empty(), "{:?}", got.announced);
    }
    // A kept its session: no NOTIFICATION, and it still reflects.
    assert_nothing_for(&mut a);
    assert_eq!(daemon.neighbor(A).state, "Established");
    let r3 = extra_route(3);
    announce_and_see(&mut a, &mut b, &r3);
    let in_rib: Vec<String> = daemon
        .routes()
        .iter()
        .filter_map(|r| r.mac.clone())
        .collect();
    assert_eq!(in_rib, vec![mac(2, 1003).to_string()], "{in_rib:?}");
}

#[test]
fn unknown_peer_is_refused_and_the_others_stay_up() {
    let (daemon, mut a, mut b) = two_clients("unknown", &[A, B]);
    let stranger = Ipv4Addr::new(127, 0, 0, 99);
    let mut s = Speaker::connect(stranger, Ipv4Addr::new(198, 18, 0, 99), daemon.port);
    // RFC 4486 section 4: Cease / Connection Rejected, then the close.
    let n = s.expect_notification();
    assert_eq!(
        n.code,
        ErrorCode::Cease(CeaseSubcode::ConnectionRejected),
        "{n}"
    );
    s.expect_closed();
    assert!(
        daemon
            .log()
            .contains("refused connection from an address that is not a configured neighbor"),
        "{}",
        daemon.log()
    );
    assert!(
        daemon
            .neighbors()
            .iter()
            .all(|n| n.address != IpAddr::V4(stranger))
    );
    daemon.wait_state(A, "Established");
    daemon.wait_state(B, "Established");
    announce_and_see(&mut a, &mut b, &extra_route(1));
}

/// `evpnd run --config FILE`, waited for (killed after [`STEP`]); its exit
/// code and stderr.
fn run_to_exit(name: &str, config: &str) -> (Option<i32>, String) {
    let dir = temp_dir(name);
    let file = dir.join("evpnd.toml");
    std::fs::write(&file, config).expect("write config");
    let stderr_path = dir.join("stderr");
    let mut child = evpnd()
        .arg("run")
        .arg("--config")
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("spawn evpnd");
    let deadline = Instant::now() + STEP;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{name}: evpnd kept running: {}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    (status.code(), stderr)
}

#[test]
fn bad_config_and_busy_port_stop_run() {
    let dir = temp_dir("badcfg-sock");
    let socket = dir.join("evpnd.sock");
    let good = rr_config(free_port(), &[A], &socket);
    let bad = good.replace("address = \"127.0.0.2\"", "address = \"127.0.0.x\"");
    assert_ne!(good, bad);
    let (code, stderr) = run_to_exit("badcfg", &bad);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("neighbors[0].address") && stderr.contains("127.0.0.x"),
        "{stderr}"
    );
    assert!(!socket.exists());

    // The BGP port is taken: run fails (runtime error, 1) naming it.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let (code, stderr) = run_to_exit("busyport", &rr_config(port, &[A], &socket));
    assert!(matches!(code, Some(c) if c != 0), "{code:?}: {stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    drop(taken);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mac_mobility_routes_from_two_vteps_both_reach_a_third() {
    let daemon = Daemon::start("mobility", &[A, B, C]);
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    let mut b = Speaker::establish(B, B_ID, daemon.port);
    let mut c = Speaker::establish(C, C_ID, daemon.port);
    for s in [&mut a, &mut b, &mut c] {
        assert_eq!(s.initial_table().end_of_rib, 1);
    }
    let moving = mac(7, 7);
    // A learnt M first: sequence 0, which FRR expresses by leaving MAC
    // Mobility out (RFC 7432 section 15).
    let from_a = type2(rd(A_ID, VNI as u16), moving, None, VNI);
    let a_communities = [rt(VNI), ExtendedCommunity::VXLAN_ENCAPSULATION];
    a.announce(
        A_VTEP,
        &vtep_attributes(true, &a_communities, None),
        std::slice::from_ref(&from_a),
    );
    let mut at_c = Received::default();
    c.collect_until(&mut at_c, |r| !r.announced.is_empty());
    let mut at_b = Received::default();
    b.collect_until(&mut at_b, |r| !r.announced.is_empty());
    assert_eq!(at_b.announced_keys(), vec![key(&from_a)]);

    // M moved behind B: B's RD, sequence 1.
    let from_b = type2(rd(B_ID, VNI as u16), moving, None, VNI);
    let b_communities = [
        rt(VNI),
        ExtendedCommunity::VXLAN_ENCAPSULATION,
        ExtendedCommunity::MacMobility(MacMobility::new(false, 1)),
    ];
    b.announce(
        B_VTEP,
        &vtep_attributes(true, &b_communities, None),
        std::slice::from_ref(&from_b),
    );
    c.collect_until(&mut at_c, |r| r.announced.len() >= 2);
    assert!(at_c.withdrawn.is_empty(), "{:?}", at_c.withdrawn);
    assert_exactly_once(
        &at_c.announced_keys(),
        &key_set(&[from_a.clone(), from_b.clone()]),
        "C",
    );
    for (route, update) in &at_c.announced {
        let (sent, next_hop, originator, communities) = if key(route) == key(&from_a) {
            (&from_a, A_VTEP, A_ID, &a_communities[..])
        } else {
            (&from_b, B_VTEP, B_ID, &b_communities[..])
        };
        assert_reflected(route, update, sent, next_hop, originator, communities, None);
    }
    let mut at_a = Received::default();
    a.collect_until(&mut at_a, |r| !r.announced.is_empty());
    assert_eq!(at_a.announced_keys(), vec![key(&from_b)]);
    assert!(at_a.withdrawn.is_empty());

    let rows = match daemon.request(Request::ShowRoutes {
        vni: None,
        route_type: Some(2),
        rd: None,
    }) {
        Response::Routes(rows) => rows,
        other => panic!("{other:?}"),
    };
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.best && r.mac.as_deref() == Some("02:aa:07:00:00:07"))
    );
    let mobility: Vec<_> = rows
        .iter()
        .map(|r| (r.rd.as_str(), r.mac_mobility.as_ref().map(|m| m.sequence)))
        .collect();
    assert!(mobility.contains(&("198.18.0.2:10", None)), "{mobility:?}");
    assert!(
        mobility.contains(&("198.18.0.3:10", Some(1))),
        "{mobility:?}"
    );
}

#[test]
fn best_path_moves_when_the_best_client_withdraws() {
    let daemon = Daemon::start("failover", &[A, B, C]);
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    let mut b = Speaker::establish(B, B_ID, daemon.port);
    let mut c = Speaker::establish(C, C_ID, daemon.port);
    for s in [&mut a, &mut b, &mut c] {
        assert_eq!(s.initial_table().end_of_rib, 1);
    }
    // The same route (same RD) from two clients, e.g. an all-active
    // multihomed host. Equal on everything down to ORIGINATOR_ID (RFC 4456
    // section 9): A's is lower, so A's path wins.
    let shared = type2(rd(Ipv4Addr::new(198, 18, 9, 9), 10), mac(9, 1), None, VNI);
    a.announce(A_VTEP, &a_type2_attributes(), std::slice::from_ref(&shared));
    let mut at_c = Received::default();
    c.collect_until(&mut at_c, |r| !r.announced.is_empty());
    let mut at_b = Received::default();
    b.collect_until(&mut at_b, |r| !r.announced.is_empty());
    b.announce(B_VTEP, &a_type2_attributes(), std::slice::from_ref(&shared));
    // B's path is not better: only the best path is advertised (RFC 4271
    // section 9.1.3), and A's best is its own, so nobody hears of B's.
    for s in [&mut a, &mut b, &mut c] {
        assert_nothing_for(s);
    }

    a.withdraw(std::slice::from_ref(&shared));
    let mut at_c = Received::default();
    c.collect_until(&mut at_c, |r| !r.announced.is_empty());
    assert!(at_c.withdrawn.is_empty(), "{at_c:?}");
    assert_eq!(at_c.announced[0].1.originator_id(), Some(B_ID));
    assert_eq!(
        at_c.announced[0]
            .1
            .mp_reach()
            .and_then(|m| m.next_hop_addr()),
        Some(IpAddr::V4(B_VTEP))
    );
    // B held A's path; now the best is its own, so it must lose A's.
    let mut at_b = Received::default();
    b.collect_until(&mut at_b, |r| !r.withdrawn.is_empty());
    assert_eq!(at_b.withdrawn_keys(), vec![key(&shared)]);
    assert!(at_b.announced.is_empty(), "{at_b:?}");
    // And A, which withdrew, now learns B's path.
    let mut at_a = Received::default();
    a.collect_until(&mut at_a, |r| !r.announced.is_empty());
    assert_eq!(at_a.announced_keys(), vec![key(&shared)]);
    assert_eq!(at_a.announced[0].1.originator_id(), Some(B_ID));
    assert!(at_a.withdrawn.is_empty(), "{at_a:?}");
}

#[test]
fn route_refresh_resends_the_table() {
    let (_daemon, mut a, mut b) = two_clients("refresh", &[A, B]);
    let table = reflect_a_table(&mut a, &mut b);
    b.send(&Message::RouteRefresh(RouteRefresh::request(
        Family::L2VPN_EVPN,
    )));
    let mut got = Received::default();
    b.collect_until(&mut got, |r| r.announced.len() >= 101);
    assert_exactly_once(&got.announced_keys(), &key_set(&table.all()), "refresh");
}

#[test]
fn new_attributes_replace_the_old_path() {
    let (daemon, mut a, mut b) = two_clients("replace", &[A, B]);
    let r = extra_route(1);
    announce_and_see(&mut a, &mut b, &r);
    let communities = [
        rt(VNI),
        ExtendedCommunity::VXLAN_ENCAPSULATION,
        ExtendedCommunity::MacMobility(MacMobility::new(true, 5)),
    ];
    a.announce(
        A_VTEP,
        &vtep_attributes(true, &communities, None),
        std::slice::from_ref(&r),
    );
    let mut got = Received::default();
    b.collect_until(&mut got, |r| !r.announced.is_empty());
    assert!(got.withdrawn.is_empty());
    assert_eq!(got.announced.len(), 1);
    assert_eq!(
        sorted(
            got.announced[0]
                .1
                .extended_communities()
                .unwrap_or_default()
        ),
        sorted(&communities)
    );
    assert_eq!(daemon.routes().len(), 1);
}

#[test]
fn oversized_message_gets_bad_message_length() {
    let (daemon, _a, mut b) = two_clients("oversize", &[A, B]);
    let mut bad = vec![0xff; 16];
    bad.extend_from_slice(&5000u16.to_be_bytes());
    bad.push(2);
    bad.extend_from_slice(&[0; 100]);
    b.send_raw(&bad);
    let n = b.expect_notification();
    assert_eq!(
        n.code,
        ErrorCode::MessageHeader(HeaderSubcode::BadMessageLength),
        "{n}"
    );
    // RFC 4271 section 6.1: the data is the erroneous Length field.
    assert_eq!(&n.data[..], &5000u16.to_be_bytes()[..], "{n}");
    b.expect_closed();
    daemon.wait_state(A, "Established");
}

#[test]
fn open_with_the_wrong_as_is_refused() {
    let daemon = Daemon::start("badas", &[A]);
    let mut a = Speaker::connect(A, A_ID, daemon.port);
    // RFC 4271 section 6.2: the peer's AS is not the configured one.
    let open = Open::new(
        65001,
        90,
        A_ID,
        vec![
            Capability::Multiprotocol(Family::L2VPN_EVPN),
            Capability::FourOctetAs(65001),
        ],
    );
    a.send(&Message::Open(open));
    let n = a.expect_notification();
    assert_eq!(n.code, ErrorCode::Open(OpenSubcode::BadPeerAs), "{n}");
    a.expect_closed();
}

#[test]
fn silent_peer_gets_hold_timer_expired() {
    let daemon = Daemon::start("hold", &[A]);
    let mut a = Speaker::connect(A, A_ID, daemon.port);
    let open = Open::new(
        ASN,
        3,
        A_ID,
        vec![
            Capability::Multiprotocol(Family::L2VPN_EVPN),
            Capability::FourOctetAs(ASN),
        ],
    );
    a.send(&Message::Open(open));
    let start = Instant::now();
    let mut keepalives = 0;
    let n = loop {
        match a.recv(STEP) {
            Ok(Message::Keepalive) => {
                keepalives += 1;
                if keepalives == 1 {
                    a.send(&Message::Keepalive);
                }
            }
            Ok(Message::Notification(n)) => break n,
            Ok(_) => {}
            Err(e) => panic!("{e}"),
        }
    };
    let waited = start.elapsed();
    assert_eq!(n.code, ErrorCode::HoldTimerExpired(0), "{n}");
    assert!(keepalives >= 2, "keepalives every hold/3: {keepalives}");
    assert!(
        waited >= Duration::from_millis(2900) && waited < Duration::from_secs(6),
        "{waited:?}"
    );
}

#[test]
fn routes_looping_through_the_cluster_are_not_reflected() {
    let (daemon, mut a, mut b) = two_clients("loops", &[A, B]);
    let looped = extra_route(1);
    let mut attributes = a_type2_attributes().to_vec();
    attributes.extend_from_slice(&raw_attribute(0x80, 10, &CLUSTER_ID.octets()));
    a.announce(A_VTEP, &attributes, std::slice::from_ref(&looped));
    let own = extra_route(2);
    let mut attributes = a_type2_attributes().to_vec();
    attributes.extend_from_slice(&raw_attribute(0x80, 9, &RR_ROUTER_ID.octets()));
    a.announce(A_VTEP, &attributes, std::slice::from_ref(&own));
    // A route reflected by another reflector keeps its ORIGINATOR_ID and
    // gets our cluster prepended.
    let other = extra_route(3);
    let mut attributes = a_type2_attributes().to_vec();
    attributes.extend_from_slice(&raw_attribute(0x80, 9, &[198, 18, 0, 77]));
    attributes.extend_from_slice(&raw_attribute(0x80, 10, &[198, 18, 0, 88]));
    a.announce(A_VTEP, &attributes, std::slice::from_ref(&other));
    let mut got = Received::default();
    b.collect_until(&mut got, |r| !r.announced.is_empty());
    assert_eq!(got.announced_keys(), vec![key(&other)], "{got:?}");
    let u = &got.announced[0].1;
    assert_eq!(u.originator_id(), Some(Ipv4Addr::new(198, 18, 0, 77)));
    assert_eq!(
        u.cluster_list(),
        Some(&[CLUSTER_ID, Ipv4Addr::new(198, 18, 0, 88)][..])
    );
    assert_eq!(daemon.routes().len(), 1);
}

#[test]
fn big_table_and_reconnect() {
    let (daemon, mut a, mut b) = two_clients("big", &[A, B]);
    let rd_a = rd(A_ID, VNI as u16);
    let routes: Vec<EvpnRoute> = (0..3000)
        .map(|i| {
            type2(
                rd_a,
                mac(2, i),
                Some(Ipv4Addr::new(198, 18, (i / 250) as u8, (i % 250) as u8)),
                VNI,
            )
        })
        .collect();
    a.announce(A_VTEP, &a_type2_attributes(), &routes);
    let mut got = Received::default();
    b.collect_until(&mut got, |r| r.announced.len() >= 3000);
    assert_exactly_once(&got.announced_keys(), &key_set(&routes), "big");
    // A reconnects: B loses everything, then gets it back.
    a.close();
    let mut got = Received::default();
    b.collect_until(&mut got, |r| r.withdrawn.len() >= 3000);
    assert_exactly_once(&got.withdrawn_keys(), &key_set(&routes), "down");
    daemon.wait_state(A, "Active");
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    assert_eq!(a.initial_table().end_of_rib, 1);
    a.announce(A_VTEP, &a_type2_attributes(), &routes);
    let mut got = Received::default();
    b.collect_until(&mut got, |r| r.announced.len() >= 3000);
    assert_exactly_once(&got.announced_keys(), &key_set(&routes), "again");
}

#[test]
fn other_route_types_are_reflected_unchanged() {
    let (_daemon, mut a, mut b) = two_clients("type5", &[A, B]);
    // Type 5 (RFC 9136 section 3.1): RD, ESI, Ethernet tag, IP prefix
    // length, IPv4 prefix, gateway, label.
    let mut value = rd(A_ID, 5).to_bytes().to_vec();
    value.extend_from_slice(&[0; 10]);
    value.extend_from_slice(&[0, 0, 0, 0]);
    value.push(24);
    value.extend_from_slice(&[198, 18, 50, 0]);
    value.extend_from_slice(&[0, 0, 0, 0]);
    value.extend_from_slice(&[0, 0, 50]);
    let route = EvpnRoute::Opaque {
        route_type: 5,
        value: value.into(),
    };
    announce_and_see(&mut a, &mut b, &route);
}

#[test]
fn second_connection_of_an_established_peer_is_closed() {
    let (daemon, mut a, mut b) = two_clients("collision", &[A, B]);
    reflect_a_table(&mut a, &mut b);
    // RFC 4271 section 6.8: "a connection collision with an existing BGP
    // connection that is in the Established state causes closing of the
    // newly created connection" (Cease / Connection Collision Resolution,
    // RFC 4486).
    let mut again = Speaker::connect(A, A_ID, daemon.port);
    again.send(&Message::Open(again.our_open()));
    let mut on_new = Received::default();
    let mut new_got_open = false;
    let closed_new = loop {
        match again.recv(Duration::from_secs(2)) {
            Ok(Message::Notification(n)) => on_new.notifications.push(n),
            Ok(Message::Open(_)) => new_got_open = true,
            Ok(m) => absorb(&mut on_new, m),
            Err(RecvError::Closed) => break true,
            Err(_) => break false,
        }
    };
    let mut on_old = Received::default();
    while let Ok(m) = a.recv(QUIET) {
        absorb(&mut on_old, m);
    }
    let mut at_b = Received::default();
    b.drain(&mut at_b, QUIET);
    assert!(
        on_old.notifications.is_empty() && at_b.withdrawn.is_empty() && closed_new,
        "the Established session must survive: old connection got {:?}; B got {} withdrawals; \
         new connection closed: {closed_new}, got an OPEN: {new_got_open}, {:?}, EoR {}",
        on_old.notifications,
        at_b.withdrawn.len(),
        on_new.notifications,
        on_new.end_of_rib
    );
    assert_eq!(
        on_new.notifications.first().map(|n| n.code),
        Some(ErrorCode::Cease(
            CeaseSubcode::ConnectionCollisionResolution
        ))
    );
    daemon.wait_state(A, "Established");
    announce_and_see(&mut a, &mut b, &extra_route(1));
}

#[test]
fn a_peer_that_restarts_at_once_comes_back() {
    let (daemon, a, mut b) = two_clients("restart", &[A, B]);
    // A VTEP whose bgpd restarts: FIN on the old connection and a new one
    // right behind it. Until evpnd has read the FIN, the old session is
    // Established and wins (RFC 4271 6.8: the new connection gets Cease /
    // Connection Collision Resolution); then it sits in Idle for the
    // IdleHold time (a quarter second after a first failure, RFC 4271 8.1.1
    // damping) and drops connections meanwhile. The peer retries as FRR
    // would (with a short connect timer) until it is let in.
    a.close();
    let deadline = Instant::now() + STEP;
    let mut refused = 0;
    let mut a = loop {
        let mut s = Speaker::connect(A, A_ID, daemon.port);
        s.send(&Message::Open(s.our_open()));
        match s.recv(Duration::from_secs(2)) {
            Ok(Message::Open(_)) => {
                match s.recv(STEP) {
                    Ok(Message::Keepalive) => {}
                    other => panic!("expected KEEPALIVE, got {other:?}"),
                }
                s.send(&Message::Keepalive);
                break s;
            }
            Ok(Message::Notification(n))
                if n.code == ErrorCode::Cease(CeaseSubcode::ConnectionCollisionResolution) =>
            {
                refused += 1
            }
            Ok(other) => panic!("expected OPEN, got {other:?}"),
            Err(_) => refused += 1,
        }
        assert!(Instant::now() < deadline, "never let back in");
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(refused <= 8, "refused {refused} times");
    assert_eq!(a.initial_table().end_of_rib, 1);
    announce_and_see(&mut a, &mut b, &extra_route(1));
}

#[test]
fn a_session_lost_right_after_its_updates_leaves_nothing_behind() {
    let (daemon, mut a, mut b) = two_clients("flap", &[A, B]);
    let table = a_table();
    table.send(&mut a, A_VTEP);
    a.close();
    let mut got = Received::default();
    b.drain(&mut got, Duration::from_secs(2));
    // Whatever B was sent (the reflector may fold an announcement and its
    // withdrawal into nothing), each route it was sent must be withdrawn,
    // exactly once.
    let announced: BTreeSet<EvpnRouteKey> = got.announced_keys().into_iter().collect();
    assert_eq!(announced.len(), got.announced.len(), "duplicates");
    assert_exactly_once(&got.withdrawn_keys(), &announced, "B after the flap");
    let deadline = Instant::now() + STEP;
    while !daemon.routes().is_empty() {
        assert!(Instant::now() < deadline, "{:?}", daemon.routes());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ipv6_routes_and_next_hop_are_reflected() {
    let (_daemon, mut a, mut b) = two_clients("ipv6", &[A, B]);
    let v6: std::net::Ipv6Addr = "2001:db8::2".parse().expect("IPv6");
    let route = EvpnRoute::MacIp(evpnd_wire::evpn::Type2Route {
        rd: rd(A_ID, 10),
        esi: evpnd_wire::evpn::Esi::ZERO,
        ethernet_tag: 0,
        mac: mac(2, 600),
        ip: Some(IpAddr::V6(v6)),
        label1: VNI,
        label2: Some(4000),
    });
    let next_hop: std::net::Ipv6Addr = "2001:db8:1::2".parse().expect("IPv6");
    let nlri = nlri(&route);
    let messages = evpnd_wire::update_packer::UpdatePacker::new(4096)
        .pack_reach(
            Family::L2VPN_EVPN,
            &next_hop.octets(),
            &a_type2_attributes(),
            [&nlri[..]],
        )
        .expect("pack");
    for m in messages {
        a.send_raw(&m);
    }
    let mut got = Received::default();
    b.collect_until(&mut got, |r| !r.announced.is_empty());
    assert_eq!(got.announced.len(), 1);
    assert_eq!(got.announced[0].0, route);
    assert_eq!(
        got.announced[0]
            .1
            .mp_reach()
            .and_then(|m| m.next_hop_addr()),
        Some(IpAddr::V6(next_hop))
    );
}

#[test]
fn malformed_evpn_nlri_resets_the_session() {
    let (daemon, mut a, mut b) = two_clients("badnlri", &[A, B]);
    // A type-2 whose MAC length says 47 bits (RFC 7432 section 7.2: 48).
    let mut value = nlri(&extra_route(1)).to_vec();
    value[2 + 8 + 10 + 4] = 47;
    let messages = evpnd_wire::update_packer::UpdatePacker::new(4096)
        .pack_reach(
            Family::L2VPN_EVPN,
            &A_VTEP.octets(),
            &a_type2_attributes(),
            [&value[..]],
        )
        .expect("pack");
    for m in messages {
        a.send_raw(&m);
    }
    let n = a.expect_notification();
    assert!(matches!(n.code, ErrorCode::Update(_)), "{n}");
    a.expect_closed();
    assert_nothing_for(&mut b);
    daemon.wait_state(B, "Established");
}

/// An eBGP neighbor (RFC 4271 5.1): a client's route reaches it with our AS
/// prepended and without LOCAL_PREF, ORIGINATOR_ID or CLUSTER_LIST, next hop
/// and communities unchanged; its own route reaches the iBGP client with
/// LOCAL_PREF 100 and no reflection attributes (it is not reflected).
#[test]
fn ebgp_neighbor_gets_our_as_and_no_ibgp_attributes() {
    const EBGP_AS: u32 = 65099;
    let daemon = Daemon::start_with("ebgp", |port, socket| {
        let mut config = rr_config(port, &[A], socket);
        config = config.replacen(
            "\n[control]",
            &format!("\n[[neighbors]]\naddress = \"{B}\"\nremote_as = {EBGP_AS}\npassive = true\n\n[control]"),
            1,
        );
        config
    });
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    let mut b = Speaker::connect(B, B_ID, daemon.port).with_asn(EBGP_AS);
    b.handshake();
    for s in [&mut a, &mut b] {
        assert_eq!(s.initial_table().end_of_rib, 1);
    }
    let route = type2(rd(A_VTEP, 10), mac(1, 1), None, 10);
    a.announce(
        A_VTEP,
        &vtep_attributes(true, &[rt(10)], None),
        std::slice::from_ref(&route),
    );
    let mut got = Received::default();
    b.collect_until(&mut got, |r| !r.announced.is_empty());
    let (_, update) = &got.announced[0];
    assert_eq!(
        update.as_path().map(|p| p.to_string()),
        Some("65000".to_string())
    );
    assert_eq!(update.local_pref(), None);
    assert_eq!(update.originator_id(), None);
    assert!(update.cluster_list().is_none());
    assert_eq!(
        update.mp_reach().and_then(|m| m.next_hop_addr()),
        Some(std::net::IpAddr::V4(A_VTEP))
    );
    assert_eq!(
        update.extended_communities().map(<[_]>::to_vec),
        Some(vec![rt(10)])
    );

    let theirs = type2(rd(B_ID, 10), mac(2, 1), None, 10);
    b.announce(
        B_ID,
        &ebgp_attributes(EBGP_AS, &[rt(10)]),
        std::slice::from_ref(&theirs),
    );
    let mut got = Received::default();
    a.collect_until(&mut got, |r| !r.announced.is_empty());
    let (_, update) = &got.announced[0];
    assert_eq!(
        update.local_pref(),
        Some(100),
        "LOCAL_PREF added towards iBGP"
    );
    assert_eq!(
        update.originator_id(),
        None,
        "an eBGP route is not reflected"
    );
    assert_eq!(
        update.as_path().map(|p| p.to_string()),
        Some(EBGP_AS.to_string())
    );
}

/// What an eBGP VTEP in AS `asn` sends: ORIGIN IGP, AS_PATH [asn], the
/// communities; no LOCAL_PREF (RFC 4271 5.1.5).
fn ebgp_attributes(asn: u32, communities: &[ExtendedCommunity]) -> bytes::Bytes {
    use evpnd_wire::as_path::AsPath;
    use evpnd_wire::attribute::{AttributeValue, Origin, PathAttribute};
    let mut path = AsPath::new();
    path.prepend(asn);
    let opts = evpnd_wire::message::EncodeOptions {
        four_octet_as: true,
        ..Default::default()
    };
    let mut out = bytes::BytesMut::new();
    for value in [
        AttributeValue::Origin(Origin::Igp),
        AttributeValue::AsPath(path),
        AttributeValue::ExtendedCommunities(communities.to_vec()),
    ] {
        PathAttribute::new(value).encode(&mut out, &opts);
    }
    out.freeze()
}

/// `[metrics] listen`: a Prometheus scrape reports the sessions and the
/// Loc-RIB (issue: observability).
#[test]
fn metrics_endpoint_reports_sessions_and_routes() {
    use std::io::{Read, Write};
    let metrics_port = free_port();
    let daemon = Daemon::start_with("metrics", |port, socket| {
        rr_config(port, &[A, B], socket)
            + &format!("\n[metrics]\nlisten = \"127.0.0.1:{metrics_port}\"\n")
    });
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    let mut b = Speaker::establish(B, B_ID, daemon.port);
    for s in [&mut a, &mut b] {
        assert_eq!(s.initial_table().end_of_rib, 1);
    }
    let route = type2(rd(A_VTEP, 10), mac(1, 1), None, 10);
    announce_and_see(&mut a, &mut b, &route);
    let scrape = |path: &str| {
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", metrics_port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        // One write: `write!` would send the pieces as separate segments,
        // and the server answers (and closes) after its first read.
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        text
    };
    let text = scrape("/metrics");
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    for line in [
        format!("evpnd_peer_established{{peer=\"{A}\"}} 1"),
        format!("evpnd_peer_established{{peer=\"{B}\"}} 1"),
        format!("evpnd_peer_prefixes_received{{peer=\"{A}\"}} 1"),
        "evpnd_routes{type=\"2\"} 1".to_string(),
        "evpnd_type2_routes{vni=\"10\"} 1".to_string(),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(scrape("/").starts_with("HTTP/1.1 404"));
}
