//! What the crate's test modules share: a reader for the hex strings test
//! vectors are written in (captured messages, NLRI), and a session
//! configuration like evpnd's own.

use crate::session::{Backoff, FsmConfig};
use evpnd_wire::open::Open;
use std::time::Duration;

/// The bytes of `s`, two hex digits each; panics on anything else (a test
/// vector typo should fail loudly).
pub fn hex(s: &str) -> Vec<u8> {
    assert!(
        s.len().is_multiple_of(2),
        "odd number of hex digits in {s:?}"
    );
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// An iBGP session of AS 65000 sending `local_open`, with evpnd's default
/// keepalive and back-offs.
pub fn fsm_config(local_open: Open) -> FsmConfig {
    FsmConfig {
        local_open,
        peer_asn: 65000,
        keepalive: 30,
        passive: false,
        connect_backoff: Backoff {
            base: Duration::from_secs(30),
            cap: Duration::from_secs(120),
        },
        idle_backoff: Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        },
        stable_after: Duration::from_secs(60),
    }
}
