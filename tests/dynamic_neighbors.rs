//! Dynamic neighbours (issue 14) against a running reflector: sessions
//! accepted from a `[[listen_ranges]]` prefix, configured by the range's
//! template, listed in `show neighbors` with their range and reflected to
//! each other; past `max_sessions` a connection gets Cease / Connection
//! Rejected (RFC 4486 section 4); a dynamic neighbour whose session ended
//! is removed and frees its place; a reload that removes the range ends its
//! sessions with Cease / Peer De-configured; a range with a password signs
//! every session from it (RFC 2385).

// The helpers are shared with tests/daemon_rr.rs; this test uses a few.
#[allow(dead_code)]
mod common;

use common::*;
use evpnd_wire::message::Message;
use evpnd_wire::notification::{CeaseSubcode, ErrorCode};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

/// The range the VTEPs connect from (loopback: every 127/8 address is
/// local, so each client binds its own).
const RANGE: &str = "127.1.0.0/16";

fn vtep(i: u16) -> Ipv4Addr {
    Ipv4Addr::new(127, 1, (i >> 8) as u8, i as u8)
}

fn router_id(i: u16) -> Ipv4Addr {
    Ipv4Addr::new(198, 18, 100 + (i >> 8) as u8, i as u8)
}

/// A reflector with no configured neighbour and one listen range whose
/// template has `extra` keys.
fn range_config(port: u16, socket: &std::path::Path, max_sessions: u32, extra: &str) -> String {
    rr_config_with(
        port,
        &[],
        socket,
        &format!(
            "[bgp.graceful_restart]\nenabled = false\n\n[[listen_ranges]]\nprefix = \"{RANGE}\"\n\
             remote_as = {ASN}\nroute_reflector_client = true\nmax_sessions = {max_sessions}\n\
             peer_damping = false\n{extra}"
        ),
    )
}

fn dynamic_rows(daemon: &Daemon) -> Vec<evpnd::api::protocol::NeighborRow> {
    daemon
        .neighbors()
        .into_iter()
        .filter(|n| n.listen_range.as_deref() == Some(RANGE))
        .collect()
}

/// Polls `probe` until it answers, at most `limit`.
fn wait_for<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "condition not reached in {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_hundred_vteps_from_a_range_and_the_201st_refused() {
    const LIMIT: u16 = 200;
    let daemon = Daemon::start_with("dynamic-200", |port, socket| {
        range_config(port, socket, u32::from(LIMIT), "")
    });
    let mut vteps: Vec<Speaker> = (1..=LIMIT)
        .map(|i| Speaker::establish(vtep(i), router_id(i), daemon.port))
        .collect();
    let rows = wait_for(STEP, || {
        let rows = dynamic_rows(&daemon);
        (rows.len() == usize::from(LIMIT) && rows.iter().all(|r| r.state == "Established"))
            .then_some(rows)
    });
    assert!(
        rows.iter()
            .all(|r| r.route_reflector_client && r.remote_as == ASN)
    );
    assert_eq!(daemon.neighbors().len(), usize::from(LIMIT));

    // Routes between dynamic neighbours are reflected like any others.
    let (first, rest) = vteps.split_at_mut(1);
    let (a, b) = (&mut first[0], &mut rest[0]);
    a.initial_table();
    b.initial_table();
    let route = type2(rd(router_id(1), 10), mac(1, 1), None, 10);
    let attributes = vtep_attributes(false, &[rt(10)], None);
    a.announce(vtep(1), &attributes, std::slice::from_ref(&route));
    let mut seen = Received::default();
    b.collect_until(&mut seen, |r| !r.announced.is_empty());
    assert_eq!(seen.announced_keys(), vec![key(&route)]);

    // The 201st: Cease / Connection Rejected, and counted in the log.
    let mut extra = Speaker::connect(vtep(LIMIT + 1), router_id(LIMIT + 1), daemon.port);
    let n = extra.expect_notification();
    assert_eq!(n.code, ErrorCode::Cease(CeaseSubcode::ConnectionRejected));
    extra.expect_closed();
    assert!(daemon.log().contains("holds its max_sessions already"));
    assert_eq!(dynamic_rows(&daemon).len(), usize::from(LIMIT));

    // One VTEP leaves: its neighbour is removed, its routes withdrawn, and
    // the place is free for the 201st.
    let leaving = vteps.swap_remove(0);
    leaving.close();
    let mut gone = Received::default();
    vteps[0].collect_until(&mut gone, |r| !r.withdrawn.is_empty());
    assert_eq!(gone.withdrawn_keys(), vec![key(&route)]);
    wait_for(STEP, || {
        (dynamic_rows(&daemon).len() == usize::from(LIMIT) - 1).then_some(())
    });
    assert!(daemon.log().contains("dynamic neighbor removed"));
    let _late = Speaker::establish(vtep(LIMIT + 1), router_id(LIMIT + 1), daemon.port);
    daemon.wait_state(vtep(LIMIT + 1), "Established");
}

#[test]
fn a_reload_that_removes_the_range_ends_its_sessions() {
    let daemon = Daemon::start_with("dynamic-reload", |port, socket| {
        range_config(port, socket, 10, "")
    });
    let mut a = Speaker::establish(vtep(1), router_id(1), daemon.port);
    daemon.wait_state(vtep(1), "Established");
    let row = daemon.neighbor(vtep(1));
    assert_eq!(row.listen_range.as_deref(), Some(RANGE));
    std::fs::write(
        daemon.dir.join("evpnd.toml"),
        rr_config(daemon.port, &[], &daemon.socket),
    )
    .expect("write config");
    let out = daemon.cli(&["reload"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("listen range 127.1.0.0/16 removed"), "{text}");
    let n = a.expect_notification();
    assert_eq!(n.code, ErrorCode::Cease(CeaseSubcode::PeerDeconfigured));
    assert!(daemon.neighbors().is_empty());
    // And the address is a stranger now.
    let mut again = Speaker::connect(vtep(1), router_id(1), daemon.port);
    let n = again.expect_notification();
    assert_eq!(n.code, ErrorCode::Cease(CeaseSubcode::ConnectionRejected));
}

#[test]
fn a_range_password_signs_its_sessions() {
    let daemon = Daemon::start_with("dynamic-md5", |port, socket| {
        range_config(port, socket, 10, "password = \"range-key\"\n")
    });
    let signed = connect_from_with(vtep(1), daemon.port, Some(b"range-key"), None, STEP)
        .expect("a signed connection from the range");
    let mut a = Speaker::on(signed, vtep(1), router_id(1));
    a.handshake();
    let row = daemon.wait_state(vtep(1), "Established");
    assert!(row.password, "{row:?}");
    // Unsigned or wrongly signed: the kernel drops the SYN (RFC 2385).
    let limit = Duration::from_millis(1500);
    assert!(connect_from_with(vtep(2), daemon.port, None, None, limit).is_err());
    assert!(connect_from_with(vtep(3), daemon.port, Some(b"wrong"), None, limit).is_err());
    // Neither became a neighbour; the signed session is untouched.
    let rows = dynamic_rows(&daemon);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].address, IpAddr::V4(vtep(1)));
    a.send(&Message::Keepalive);
    daemon.wait_state(vtep(1), "Established");
}

#[test]
fn an_upgrade_hands_dynamic_sessions_over() {
    let daemon = Daemon::start_with("dynamic-upgrade", |port, socket| {
        range_config(port, socket, 10, "")
    });
    let mut a = Speaker::establish(vtep(1), router_id(1), daemon.port);
    let mut b = Speaker::establish(vtep(2), router_id(2), daemon.port);
    a.initial_table();
    b.initial_table();
    let route = type2(rd(router_id(1), 10), mac(1, 7), None, 10);
    let attributes = vtep_attributes(false, &[rt(10)], None);
    a.announce(vtep(1), &attributes, std::slice::from_ref(&route));
    let mut seen = Received::default();
    b.collect_until(&mut seen, |r| !r.announced.is_empty());
    let out = daemon.cli(&["upgrade"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2 of 2 session(s) established"),
        "{text}\n{}",
        daemon.log()
    );
    // Both are dynamic neighbours of the new image, on the same sessions:
    // nothing ended, and a withdrawal still reaches B.
    let rows = dynamic_rows(&daemon);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r.state == "Established"), "{rows:?}");
    a.withdraw(std::slice::from_ref(&route));
    let mut gone = Received::default();
    b.collect_until(&mut gone, |r| !r.withdrawn.is_empty());
    assert!(gone.notifications.is_empty());
    assert_eq!(gone.withdrawn_keys(), vec![key(&route)]);
}
