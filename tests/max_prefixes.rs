//! Maximum prefixes per neighbour (issue 14) against a running reflector:
//! past its limit a client's session ends with Cease / Maximum Number of
//! Prefixes Reached carrying AFI, SAFI and the limit (RFC 4486 section 4),
//! its routes leave the other clients, and it stays down (no restart
//! configured); with `action = "warn"` the session and the routes stay. Both
//! are counted in `show neighbors`; `evpnd clear neighbors` lets the
//! stopped client in again.

// The helpers are shared with tests/daemon_rr.rs; this test uses a few.
#[allow(dead_code)]
mod common;

use common::two_clients::*;
use common::*;
use evpnd_wire::Family;
use evpnd_wire::notification::{CeaseSubcode, ErrorCode};
use std::time::Duration;

/// A reflector whose client A has `max_prefixes = { SETTING }`.
fn daemon(name: &str, setting: &str) -> Daemon {
    Daemon::start_with(name, |port, socket| {
        let a = format!("address = \"{A}\"\n");
        rr_config(port, &[A, B], socket).replacen(
            &a,
            &format!("{a}max_prefixes = {{ {setting} }}\n"),
            1,
        )
    })
}

fn clients(daemon: &Daemon) -> (Speaker, Speaker) {
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    let mut b = Speaker::establish(B, B_ID, daemon.port);
    a.initial_table();
    b.initial_table();
    (a, b)
}

#[test]
fn past_its_limit_a_client_is_cut_off_and_its_routes_withdrawn() {
    let daemon = daemon("max-prefixes", "limit = 3, restart_secs = 0");
    let (mut a, mut b) = clients(&daemon);
    a.announce(A_VTEP, &a_attributes(), &a_routes(&[1, 2, 3]));
    let mut seen = Received::default();
    b.collect_until(&mut seen, |r| r.announced.len() == 3);
    assert_eq!(
        daemon.neighbor(A).prefix_limit_exceeded,
        0,
        "3 is the limit"
    );

    a.announce(A_VTEP, &a_attributes(), &a_routes(&[4]));
    let n = a.expect_notification();
    assert_eq!(
        n.code,
        ErrorCode::Cease(CeaseSubcode::MaximumPrefixesReached)
    );
    assert_eq!(n.maximum_prefixes_data(), Some((Family::L2VPN_EVPN, 3)));
    a.expect_closed();
    // B loses every route of A's.
    let mut gone = Received::default();
    b.collect_until(&mut gone, |r| r.withdrawn.len() == 4);
    let row = daemon.neighbor(A);
    assert_eq!(row.prefix_limit_exceeded, 1);
    assert_eq!(
        row.max_prefixes.as_deref(),
        Some("limit 3, warning at 75%, teardown, no restart")
    );
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.contains("Maximum Number of Prefixes Reached")),
        "{row:?}"
    );
    // No restart configured: A is not accepted again...
    std::thread::sleep(Duration::from_millis(1500));
    assert_ne!(daemon.neighbor(A).state, "Established");
    assert!(daemon.log().contains("more paths than its prefix limit"));
    // ...until the operator clears it; an unknown address is refused.
    let clear = |args: &[&str]| daemon.cli(&[&["clear", "neighbors"], args].concat());
    let unknown = clear(&["198.18.9.9"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not a configured neighbor"));
    let out = clear(&[&A.to_string()]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("reset {A}\n"));
    let mut again = Speaker::establish(A, A_ID, daemon.port);
    again.initial_table();
    daemon.wait_state(A, "Established");
}

#[test]
fn with_action_warn_the_session_and_the_routes_stay() {
    let daemon = daemon("max-prefixes-warn", "limit = 2, action = \"warn\"");
    let (mut a, mut b) = clients(&daemon);
    // 2 paths: the warning threshold (75 % of 2, rounded up); 3: past it.
    a.announce(A_VTEP, &a_attributes(), &a_routes(&[1, 2]));
    let mut seen = Received::default();
    b.collect_until(&mut seen, |r| r.announced.len() == 2);
    a.announce(A_VTEP, &a_attributes(), &a_routes(&[3]));
    b.collect_until(&mut seen, |r| r.announced.len() == 3);
    let mut quiet = Received::default();
    a.drain(&mut quiet, Duration::from_millis(500));
    assert!(quiet.notifications.is_empty(), "{:?}", quiet.notifications);
    let row = daemon.wait_state(A, "Established");
    assert_eq!(row.prefix_limit_exceeded, 1);
    assert_eq!(row.prefixes_received, 3);
    let log = daemon.log();
    assert!(log.contains("reached the warning threshold"), "{log}");
    assert!(log.contains("kept (action = warn)"), "{log}");
}
