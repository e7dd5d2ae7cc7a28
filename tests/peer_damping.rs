//! Peer damping (RFC 4271 section 8.1.1, DampPeerOscillations) against a
//! running reflector: a client whose session fails waits the configured
//! time before it is taken back, `show neighbors` says how many failures
//! were counted and when the session starts again, `evpnd clear
//! neighbors` forgets them at once, and `peer_damping = false` takes a
//! flapping client back every time without a wait.

// The helpers are shared with tests/daemon_rr.rs; this test uses a few.
#[allow(dead_code)]
mod common;

use common::two_clients::*;
use common::*;
use evpnd_wire::message::Message;
use std::time::{Duration, Instant};

/// A reflector whose client A has `peer_damping = SETTING`.
fn daemon(name: &str, setting: &str) -> Daemon {
    Daemon::start_with(name, |port, socket| {
        let a = format!("address = \"{A}\"\n");
        rr_config(port, &[A, B], socket).replacen(&a, &format!("{a}peer_damping = {setting}\n"), 1)
    })
}

/// One attempt by A to bring a session up within `limit`: `None` when the
/// daemon does not answer our OPEN (it holds A back) or closes.
fn attempt(port: u16, limit: Duration) -> Option<Speaker> {
    let mut s = Speaker::connect(A, A_ID, port);
    s.send(&Message::Open(s.our_open()));
    match s.recv(limit) {
        Ok(Message::Open(open)) => s.open_received = Some(open),
        _ => return None,
    }
    match s.recv(limit) {
        Ok(Message::Keepalive) => s.send(&Message::Keepalive),
        _ => return None,
    }
    Some(s)
}

/// Attempts until one comes up; how long that took.
fn back_within(port: u16, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(s) = attempt(port, Duration::from_millis(300)) {
            s.close();
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn a_failed_client_waits_is_shown_damped_and_clear_takes_it_back() {
    let daemon = daemon("peer-damping", "{ initial_ms = 3000, max_secs = 60 }");
    let a = Speaker::establish(A, A_ID, daemon.port);
    daemon.wait_state(A, "Established");
    // The TCP connection dies under an Established session: a failure.
    a.close();
    let row = wait_for(|| {
        let row = daemon.neighbor(A);
        (row.damping_failures == 1).then_some(row)
    });
    let restart_in = row.restart_in_ms.expect("damped: a restart time is shown");
    // 3 s jittered down by at most a quarter (RFC 4271 section 10).
    assert!((1_500..=3_000).contains(&restart_in), "{row:?}");
    assert_eq!(
        row.peer_damping,
        "3 s doubling to 60 s, forgotten after 60 s established"
    );
    // Held back meanwhile: the OPEN gets no answer.
    assert!(attempt(daemon.port, Duration::from_millis(400)).is_none());

    let out = daemon.cli(&["clear", "neighbors", &A.to_string()]);
    assert!(out.status.success(), "{out:?}");
    let row = daemon.neighbor(A);
    assert_eq!(
        (row.damping_failures, row.restart_in_ms),
        (0, None),
        "{row:?}"
    );
    let back = back_within(daemon.port, Duration::from_secs(1));
    assert!(back.is_some(), "cleared: A comes back at once");
}

#[test]
fn without_damping_a_flapping_client_is_taken_back_every_time() {
    let daemon = daemon("peer-damping-off", "false");
    for flap in 0..6 {
        // With the default damping the 4th flap would wait 1-2 s, the 6th 4-8 s.
        let back = back_within(daemon.port, Duration::from_secs(1)).unwrap_or_else(|| {
            panic!("flap {flap}: A not taken back within 1 s\n{}", daemon.log())
        });
        assert!(back < Duration::from_secs(1), "flap {flap}: {back:?}");
        // back_within closed the session again: the next flap.
        wait_for(|| (daemon.neighbor(A).state != "Established").then_some(()));
    }
    let row = daemon.neighbor(A);
    assert_eq!(row.peer_damping, "off");
    assert_eq!(row.restart_in_ms, None, "{row:?}");
}

/// Polls `probe` until it answers, at most [`STEP`].
fn wait_for<T>(mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(start.elapsed() < STEP, "condition not reached in {STEP:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
