//! Graceful Restart (RFC 4724, issue 13) against a running reflector:
//! - helper: a client whose TCP session just ends keeps its routes in the
//!   reflector, still reflected, until it comes back and sends End-of-RIB
//!   (what it did not re-announce is withdrawn then) or its restart time
//!   runs out;
//! - restarting speaker: the reflector's OPEN carries the capability (the
//!   Restart State bit on its first session, the Forwarding State bit for
//!   l2vpn-evpn), it defers its first table until the clients' End-of-RIB
//!   (section 4.1), and on SIGTERM it closes without a NOTIFICATION, so its
//!   clients keep its routes.

// The helpers are shared with tests/daemon_rr.rs; this test uses a few.
#[allow(dead_code)]
mod common;

use common::two_clients::*;
use common::*;
use evpnd_wire::evpn::EvpnRoute;
use std::time::Duration;

fn gr_config(port: u16, socket: &std::path::Path) -> String {
    rr_config_with(
        port,
        &[A, B],
        socket,
        "[bgp.graceful_restart]\nrestart_time = 30\nselect_defer_time = 20\n",
    )
}

fn announce(speaker: &mut Speaker, routes: &[EvpnRoute]) {
    speaker.announce(A_VTEP, &a_attributes(), routes);
}

/// A (restart time `a_restart`) and B, both with Graceful Restart and up;
/// A announced hosts 1, 2 and 3, and B has them.
fn fabric(name: &str, a_restart: u16) -> (Daemon, Speaker, Speaker) {
    let daemon = Daemon::start_with(name, gr_config);
    let mut a =
        Speaker::connect(A, A_ID, daemon.port).with_graceful_restart(a_restart, true, false);
    a.handshake();
    let mut b = Speaker::connect(B, B_ID, daemon.port).with_graceful_restart(30, true, false);
    b.handshake();
    // Section 4.1: the reflector's first table waits for both End-of-RIBs.
    a.end_of_rib();
    b.end_of_rib();
    a.initial_table();
    b.initial_table();
    announce(&mut a, &a_routes(&[1, 2, 3]));
    let mut seen = Received::default();
    b.collect_until(&mut seen, |r| r.announced.len() == 3);
    (daemon, a, b)
}

#[test]
fn the_reflector_keeps_a_restarting_clients_routes_until_its_end_of_rib() {
    let (daemon, a, mut b) = fabric("gr-helper", 30);
    // The restarting speaker's OPEN, as the reflector saw it.
    let row = daemon.neighbor(A);
    assert_eq!(
        row.graceful_restart.as_deref(),
        Some("restart time 30s, l2vpn-evpn forwarding preserved"),
        "{row:?}"
    );

    // A's control plane goes away without a NOTIFICATION.
    a.close();
    daemon.wait_state(A, "Active");
    let mut quiet = Received::default();
    b.drain(&mut quiet, Duration::from_secs(2));
    assert!(
        quiet.withdrawn.is_empty(),
        "nothing withdrawn from B: {quiet:?}"
    );
    assert_eq!(daemon.neighbor(A).stale_routes, 3);
    let stale: Vec<_> = daemon.routes().into_iter().filter(|r| r.stale).collect();
    assert_eq!(stale.len(), 3, "three stale paths in show routes");
    assert!(
        String::from_utf8_lossy(&daemon.show_cli(&["neighbors"]).stdout)
            .contains("3 stale routes kept while the peer restarts"),
    );

    // A is back (Forwarding State bit set): it has hosts 1 and 3 only.
    let mut a = Speaker::connect(A, A_ID, daemon.port).with_graceful_restart(30, true, true);
    a.handshake();
    let table = a.initial_table();
    assert!(
        table.announced.is_empty(),
        "its own routes are not sent back"
    );
    announce(&mut a, &a_routes(&[1, 3]));
    let mut quiet = Received::default();
    b.drain(&mut quiet, Duration::from_secs(1));
    assert!(
        quiet.is_empty(),
        "unchanged routes are not sent again: {quiet:?}"
    );
    assert_eq!(daemon.neighbor(A).stale_routes, 1);

    // Its End-of-RIB: host 2, which it did not re-announce, is withdrawn.
    a.end_of_rib();
    let mut gone = Received::default();
    b.collect_until(&mut gone, |r| !r.withdrawn.is_empty());
    assert_eq!(gone.withdrawn_keys(), vec![key(&a_routes(&[2])[0])]);
    assert_eq!(daemon.neighbor(A).stale_routes, 0);
    assert_eq!(daemon.neighbor(A).prefixes_received, 2);
}

#[test]
fn stale_routes_go_when_the_restart_time_runs_out() {
    let (daemon, a, mut b) = fabric("gr-timer", 2);
    a.close();
    let mut gone = Received::default();
    b.collect_until(&mut gone, |r| r.withdrawn.len() == 3);
    assert_eq!(daemon.neighbor(A).stale_routes, 0);
    assert!(daemon.log().contains("stale routes removed"));
}

#[test]
fn a_client_back_without_the_forwarding_bit_loses_its_routes_at_once() {
    let (daemon, a, mut b) = fabric("gr-no-forwarding", 30);
    a.close();
    daemon.wait_state(A, "Active");
    let mut a = Speaker::connect(A, A_ID, daemon.port).with_graceful_restart(30, false, true);
    a.handshake();
    let mut gone = Received::default();
    b.collect_until(&mut gone, |r| r.withdrawn.len() == 3);
}

#[test]
fn a_client_that_sends_a_notification_loses_its_routes_at_once() {
    let (daemon, mut a, mut b) = fabric("gr-notification", 30);
    a.send(&evpnd_wire::message::Message::Notification(
        evpnd_wire::notification::Notification::cease(
            evpnd_wire::notification::CeaseSubcode::AdministrativeShutdown,
        ),
    ));
    let mut gone = Received::default();
    b.collect_until(&mut gone, |r| r.withdrawn.len() == 3);
    assert_eq!(daemon.neighbor(A).stale_routes, 0);
}

/// The restarting speaker's side: its OPEN says it restarted and keeps
/// forwarding state; the first table waits for every client's End-of-RIB
/// (the deferral); SIGTERM closes the sessions without a NOTIFICATION.
#[test]
fn the_reflector_defers_its_first_table_and_restarts_without_a_notification() {
    let daemon = Daemon::start_with("gr-speaker", gr_config);
    let mut a = Speaker::connect(A, A_ID, daemon.port).with_graceful_restart(30, true, false);
    a.handshake();
    let gr = a
        .open_received
        .as_ref()
        .and_then(|open| open.graceful_restart().cloned())
        .expect("the reflector advertises Graceful Restart");
    assert!(gr.restart_state(), "first session after start: R bit");
    assert_eq!(gr.restart_time, 30);
    assert_eq!(gr.families.len(), 1);
    assert_eq!(gr.families[0].family, evpnd_wire::Family::L2VPN_EVPN);
    assert_eq!(gr.families[0].flags, 0x80, "forwarding state preserved");

    // A sends its routes and End-of-RIB; B is not up yet: nothing comes.
    announce(&mut a, &a_routes(&[1]));
    a.end_of_rib();
    let mut early = Received::default();
    a.drain(&mut early, Duration::from_secs(1));
    assert!(early.is_empty(), "deferred while B is missing: {early:?}");

    // B, restarting itself (R bit), is not waited for: both get their
    // tables as soon as it is up.
    let mut b = Speaker::connect(B, B_ID, daemon.port).with_graceful_restart(30, true, true);
    b.handshake();
    let table = b.initial_table();
    assert_eq!(table.announced_keys(), vec![key(&a_routes(&[1])[0])]);
    assert_eq!(a.initial_table().end_of_rib, 1);
    assert!(daemon.log().contains("route selection deferral over"));

    // SIGTERM: the sessions close without a NOTIFICATION.
    daemon.terminate();
    for speaker in [&mut a, &mut b] {
        loop {
            match speaker.recv(Duration::from_secs(5)) {
                Ok(evpnd_wire::message::Message::Notification(n)) => {
                    panic!(
                        "{}: a NOTIFICATION on a graceful restart: {n}",
                        speaker.from
                    )
                }
                Ok(_) => {}
                Err(RecvError::Closed) => break,
                Err(e) => panic!("{}: the session did not close: {e}", speaker.from),
            }
        }
    }
    assert!(
        daemon
            .log()
            .contains("closing the session without a NOTIFICATION")
    );
}
