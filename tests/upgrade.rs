//! `evpnd upgrade` (ADR 0010, issue 13): the daemon hands its established
//! sessions over to the binary it executes in its place. Against a running
//! reflector with two clients: neither client's TCP session ends or gets a
//! NOTIFICATION, the process keeps its PID, each client gets a KEEPALIVE
//! and a ROUTE-REFRESH (RFC 2918) from the new image, which re-learns their
//! routes from the answers (half an UPDATE in flight at the hand-over
//! included) and reflects them again; `show neighbors` keeps the sessions'
//! establishment time.

// The helpers are shared with tests/daemon_rr.rs; this test uses a few.
#[allow(dead_code)]
mod common;

use common::*;
use evpnd_wire::evpn::EvpnRoute;
use evpnd_wire::extcomm::ExtendedCommunity;
use evpnd_wire::message::Message;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const A_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const B_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 3);
const A_VTEP: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);

/// A's type-2 routes for hosts `hosts` in VNI 10.
fn routes(hosts: &[u8]) -> Vec<EvpnRoute> {
    hosts
        .iter()
        .map(|h| type2(rd(A_ID, 10), mac(2, u16::from(*h)), None, 10))
        .collect()
}

fn attributes() -> bytes::Bytes {
    vtep_attributes(
        false,
        &[rt(10), ExtendedCommunity::VXLAN_ENCAPSULATION],
        None,
    )
}

/// Reads until a ROUTE-REFRESH arrives; the UPDATEs meanwhile go to `into`.
/// Panics on a NOTIFICATION or a closed connection.
fn expect_refresh(speaker: &mut Speaker, into: &mut Received) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match speaker.recv(left) {
            Ok(Message::RouteRefresh(rr)) => {
                assert_eq!(rr.family, evpnd_wire::Family::L2VPN_EVPN);
                return;
            }
            Ok(Message::Notification(n)) => panic!("{}: NOTIFICATION {n}", speaker.from),
            Ok(m) => absorb(into, m),
            Err(e) => panic!("{}: waiting for ROUTE-REFRESH: {e}", speaker.from),
        }
    }
}

#[test]
fn an_upgrade_hands_the_sessions_over_without_ending_them() {
    let mut daemon = Daemon::start("upgrade", &[A, B]);
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    let mut b = Speaker::establish(B, B_ID, daemon.port);
    a.end_of_rib();
    b.end_of_rib();
    a.initial_table();
    b.initial_table();
    a.announce(A_VTEP, &attributes(), &routes(&[1, 2, 3]));
    let mut seen = Received::default();
    b.collect_until(&mut seen, |r| r.announced.len() == 3);
    let established = daemon.neighbor(A).established_at_ms;
    assert!(established.is_some());

    // Half of host 4's UPDATE is on the wire when the hand-over starts:
    // the old image has read it, the new one must finish it.
    let update = announcements(A_VTEP, &attributes(), &routes(&[4]));
    let (head, tail) = update[0].split_at(10);
    a.send_raw(head);
    std::thread::sleep(Duration::from_millis(300));

    let out = evpnd()
        .arg("--socket")
        .arg(&daemon.socket)
        .arg("upgrade")
        .output()
        .expect("run evpnd upgrade");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        daemon.log()
    );
    assert!(text.contains("handing 2 session(s) over to"), "{text}");
    assert!(
        text.contains("upgraded: the new image runs, 2 of 2 session(s) established"),
        "{text}"
    );
    a.send_raw(tail);

    // The new image: a KEEPALIVE and a ROUTE-REFRESH on the same
    // connections, no NOTIFICATION, nothing closed.
    let mut a_got = Received::default();
    let mut b_got = Received::default();
    expect_refresh(&mut a, &mut a_got);
    expect_refresh(&mut b, &mut b_got);
    // A answers the refresh with its Adj-RIB-Out (RFC 2918 section 4).
    a.announce(A_VTEP, &attributes(), &routes(&[1, 2, 3, 4]));
    b.collect_until(&mut b_got, |r| r.announced.len() >= 4);
    let mut keys = b_got.announced_keys();
    keys.sort();
    keys.dedup();
    let mut want: Vec<_> = routes(&[1, 2, 3, 4]).iter().map(key).collect();
    want.sort();
    assert_eq!(keys, want, "B has A's routes, host 4 included");
    assert!(b_got.withdrawn.is_empty(), "nothing was withdrawn");
    assert!(a_got.notifications.is_empty() && b_got.notifications.is_empty());
    let row = daemon.wait_state(A, "Established");
    assert_eq!(
        row.established_at_ms, established,
        "the session never ended"
    );
    assert_eq!(row.prefixes_received, 4);
    assert!(
        daemon
            .log()
            .contains("session handed over by the previous process"),
        "{}",
        daemon.log()
    );
    // Still the process the test started.
    daemon.assert_running();
}
