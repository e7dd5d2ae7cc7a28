//! `evpnd upgrade` (ADR 0010, issue 13): the daemon hands its established
//! sessions over to the binary it executes in its place. Against a running
//! reflector with two clients: neither client's TCP session ends or gets a
//! NOTIFICATION, the process keeps its PID, the new image holds every path
//! the old one had (no ROUTE-REFRESH: nothing is asked of the clients),
//! takes the UPDATE that was half read at the hand-over and reflects it;
//! `show neighbors` keeps the sessions' establishment time.

// The helpers are shared with tests/daemon_rr.rs; this test uses a few.
#[allow(dead_code)]
mod common;

use common::two_clients::*;
use common::*;
use evpnd_wire::message::Message;
use std::time::{Duration, Instant};

/// Reads for `quiet` after the last message: UPDATEs go to `into`; a
/// ROUTE-REFRESH, a NOTIFICATION or a closed connection fails the test.
fn read_quietly(speaker: &mut Speaker, into: &mut Received, quiet: Duration) {
    loop {
        match speaker.recv(quiet) {
            Ok(Message::RouteRefresh(_)) => {
                panic!(
                    "{}: the new image asked for routes it was handed",
                    speaker.from
                )
            }
            Ok(Message::Notification(n)) => panic!("{}: NOTIFICATION {n}", speaker.from),
            Ok(m) => absorb(into, m),
            Err(RecvError::Timeout) => return,
            Err(e) => panic!("{}: {e}", speaker.from),
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
    a.announce(A_VTEP, &a_attributes(), &a_routes(&[1, 2, 3]));
    let mut seen = Received::default();
    b.collect_until(&mut seen, |r| r.announced.len() == 3);
    let established = daemon.neighbor(A).established_at_ms;
    assert!(established.is_some());

    // Half of host 4's UPDATE is on the wire when the hand-over starts:
    // the old image has read it, the new one must finish it.
    let update = announcements(A_VTEP, &a_attributes(), &a_routes(&[4]));
    let (head, tail) = update[0].split_at(10);
    a.send_raw(head);
    std::thread::sleep(Duration::from_millis(300));

    let out = daemon.cli(&["upgrade"]);
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

    // The new image holds A's routes without asking A for them, host 4
    // included, and reflects them to B on the same connection.
    let mut a_got = Received::default();
    let mut b_got = Received::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while b_got
        .announced
        .iter()
        .all(|(r, _)| key(r) != key(&a_routes(&[4])[0]))
    {
        assert!(Instant::now() < deadline, "host 4 never reached B");
        read_quietly(&mut b, &mut b_got, Duration::from_millis(200));
    }
    read_quietly(&mut a, &mut a_got, Duration::from_secs(1));
    read_quietly(&mut b, &mut b_got, Duration::from_secs(1));
    assert!(b_got.withdrawn.is_empty(), "nothing was withdrawn");
    assert!(a_got.withdrawn.is_empty());
    let row = daemon.wait_state(A, "Established");
    assert_eq!(
        row.established_at_ms, established,
        "the session never ended"
    );
    assert_eq!(row.prefixes_received, 4, "1-3 handed over, 4 finished");
    assert_eq!(daemon.routes().len(), 4);
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
