//! Contained failures (issue 13): a panic in one peer's session task (fault
//! injection, `EVPND_FAULT_PEER_PANIC`) resets that session only, as a
//! NOTIFICATION would. Its routes are withdrawn from the others, the panic is
//! logged and counted, the session comes back after a back-off and gets the
//! table again, and the other session never notices (same uptime, no
//! NOTIFICATION, still exchanging routes).

// The helpers are shared with tests/daemon_rr.rs; this test uses a few.
#[allow(dead_code)]
mod common;

use common::*;
use evpnd_wire::extcomm::ExtendedCommunity;
use evpnd_wire::mac::MacAddress;
use std::net::Ipv4Addr;

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const A_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const B_ID: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 3);

/// `from`'s type-2 route for host `host` in VNI 10, via `vtep`.
fn route(
    from: Ipv4Addr,
    vtep: Ipv4Addr,
    host: u8,
    speaker: &mut Speaker,
) -> evpnd_wire::evpn::EvpnRoute {
    let attributes = vtep_attributes(
        false,
        &[rt(10), ExtendedCommunity::VXLAN_ENCAPSULATION],
        None,
    );
    let route = type2(
        rd(from, 10),
        MacAddress([2, 0, 0, 0, from.octets()[3], host]),
        None,
        10,
    );
    speaker.announce(vtep, &attributes, std::slice::from_ref(&route));
    route
}

#[test]
fn a_panicking_session_is_reset_and_restarted_and_the_other_is_untouched() {
    let daemon = Daemon::start_with_env(
        "peer-panic",
        &[("EVPND_FAULT_PEER_PANIC", "127.0.0.2")],
        |port, socket| rr_config(port, &[A, B], socket),
    );
    let mut b = Speaker::establish(B, B_ID, daemon.port);
    b.initial_table();
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    a.initial_table();
    daemon.wait_state(A, "Established");
    let b_before = daemon.wait_state(B, "Established");

    // A's route reaches B; then A's End-of-RIB panics A's session task.
    let a_route = route(A_ID, Ipv4Addr::new(198, 18, 1, 2), 1, &mut a);
    let mut seen = Received::default();
    b.collect_until(&mut seen, |r| !r.announced.is_empty());
    assert_eq!(seen.announced_keys(), [key(&a_route)]);
    a.end_of_rib();
    a.expect_closed();

    // B sees A's route withdrawn, and nothing else: no NOTIFICATION, no reset.
    let mut after = Received::default();
    b.collect_until(&mut after, |r| !r.withdrawn.is_empty());
    assert_eq!(after.withdrawn_keys(), [key(&a_route)]);
    assert!(after.notifications.is_empty(), "{:?}", after.notifications);
    let row = daemon.neighbor(A);
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.contains("internal error")),
        "A's row says why: {row:?}"
    );
    assert!(
        daemon.log().contains("the session task panicked"),
        "{}",
        daemon.log()
    );

    // A comes back (back-off 1 s) and gets the table again, B's route in it.
    let b_route = route(B_ID, Ipv4Addr::new(198, 18, 1, 3), 2, &mut b);
    daemon.wait_state(A, "Active");
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    let table = a.initial_table();
    assert_eq!(table.announced_keys(), [key(&b_route)]);
    daemon.wait_state(A, "Established");

    // B was never reset: the same session, up all along, still working.
    let b_now = daemon.neighbor(B);
    assert_eq!(b_now.state, "Established");
    assert!(
        b_now.uptime_secs >= b_before.uptime_secs,
        "{b_before:?} -> {b_now:?}"
    );
    assert_eq!(b_now.last_error, None);
    let a_again = route(A_ID, Ipv4Addr::new(198, 18, 1, 2), 3, &mut a);
    let mut more = Received::default();
    b.collect_until(&mut more, |r| !r.announced.is_empty());
    assert_eq!(more.announced_keys(), [key(&a_again)]);
}
