//! What the FSM and the OPEN checks are configured with, for one peer:
//! our OPEN, the peer's AS and the timers. A leaf of the session module, so
//! that the FSM and `open_check` both read it without importing each other.

use super::fsm::timers::Backoff;
use evpnd_wire::open::Open;
use std::net::Ipv4Addr;
use std::time::Duration;

/// Per-peer FSM parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsmConfig {
    /// The OPEN we send (RFC 4271 section 4.2), the one source of what we
    /// announce: our AS (it carries the 4-octet AS capability, RFC 6793
    /// section 3), BGP Identifier, the Hold Time we propose (0 or >= 3), the
    /// families in preference order (RFC 4760 section 8) and the other
    /// capabilities (RFC 5492).
    pub local_open: Open,
    pub peer_asn: u32,
    /// Keepalive interval we would like (capped at negotiated hold/3).
    pub keepalive: u16,
    /// Never initiate the TCP connection.
    pub passive: bool,
    /// ConnectRetryTimer: base = configured connect_retry.
    pub connect_backoff: Backoff,
    /// IdleHoldTimer after each consecutive failure (peer damping).
    pub idle_backoff: Backoff,
    /// An Established session this old resets the failure count.
    pub stable_after: Duration,
}

impl FsmConfig {
    /// Our AS (RFC 6793 section 4.1: the 4-octet AS capability's value).
    pub fn local_asn(&self) -> u32 {
        self.local_open.asn()
    }

    pub fn local_bgp_id(&self) -> Ipv4Addr {
        self.local_open.bgp_identifier
    }

    /// iBGP (RFC 4271 section 1.1 "internal peer").
    pub fn is_internal(&self) -> bool {
        self.local_asn() == self.peer_asn
    }
}
