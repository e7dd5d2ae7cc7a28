//! Connection collision resolution (RFC 4271 section 6.8), pure.
//!
//! Two TCP connections to the same peer (one we initiated, one the peer
//! initiated) may both reach OpenSent/OpenConfirm. Once the peer's BGP
//! Identifier is known from an OPEN, exactly one survives: the one initiated
//! by the speaker with the higher BGP Identifier. The loser is closed with
//! Cease / Connection Collision Resolution (RFC 4486 section 4, subcode 7):
//! the shell feeds OpenCollisionDump (Event 23) to that connection's FSM,
//! which sends the NOTIFICATION and drops it.

use super::fsm::State;
use evpnd_wire::notification::{CeaseSubcode, Notification};
use std::net::Ipv4Addr;

/// Who opened a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiator {
    /// We connected out (Tcp_CR_Acked).
    Local,
    /// The peer connected in (TcpConnectionConfirmed).
    Remote,
}

impl Initiator {
    pub fn other(self) -> Self {
        match self {
            Initiator::Local => Initiator::Remote,
            Initiator::Remote => Initiator::Local,
        }
    }
}

/// What to do about a new connection while another one exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollisionDecision {
    /// The existing connection has not reached OpenSent: no collision yet,
    /// the new connection replaces the pending attempt.
    NoCollision,
    /// Close the connection initiated by `close` with the NOTIFICATION; keep the other.
    Close {
        close: Initiator,
        notification: Notification,
    },
}

/// The NOTIFICATION sent on the connection that loses: Cease, subcode 7 (RFC 4486).
pub fn collision_notification() -> Notification {
    Notification::cease(CeaseSubcode::ConnectionCollisionResolution)
}

/// Which connection survives, by BGP Identifier (RFC 4271 section 6.8): "If
/// the value of the local BGP Identifier is less than the remote one, the
/// local system closes the BGP connection that already exists ... and
/// accepts the BGP connection initiated by the remote system"; in other
/// words the connection initiated by the higher identifier survives. With
/// equal identifiers (allowed between ASes, RFC 6286 section 2.3) the
/// connection initiated by the speaker with the larger AS number survives.
/// Identifiers compare as host-order 32-bit unsigned integers.
pub fn surviving_initiator(
    local_id: Ipv4Addr,
    local_asn: u32,
    remote_id: Ipv4Addr,
    remote_asn: u32,
) -> Initiator {
    let (l, r) = (u32::from(local_id), u32::from(remote_id));
    if l != r {
        if l > r {
            Initiator::Local
        } else {
            Initiator::Remote
        }
    } else if local_asn >= remote_asn {
        // Equal ASes with equal identifiers cannot pass OPEN validation
        // (Bad BGP Identifier); the tie-break only needs to be deterministic.
        Initiator::Local
    } else {
        Initiator::Remote
    }
}

/// Decide a collision between the `existing` connection (in `existing_state`,
/// opened by `existing_initiator`) and a new one opened by the other side.
///
/// RFC 4271 section 6.8: a connection in Established always wins (the new one
/// is closed); connections in OpenConfirm, or OpenSent once the peer's
/// identifier is known, are compared; earlier states are not collisions.
pub fn resolve(
    existing_state: State,
    existing_initiator: Initiator,
    local_id: Ipv4Addr,
    local_asn: u32,
    remote_id: Ipv4Addr,
    remote_asn: u32,
) -> CollisionDecision {
    let new_initiator = existing_initiator.other();
    let close = match existing_state {
        State::Idle | State::Connect | State::Active => return CollisionDecision::NoCollision,
        State::Established => new_initiator,
        State::OpenSent | State::OpenConfirm => {
            if surviving_initiator(local_id, local_asn, remote_id, remote_asn) == existing_initiator
            {
                new_initiator
            } else {
                existing_initiator
            }
        }
    };
    CollisionDecision::Close {
        close,
        notification: collision_notification(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOW: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 1);
    const HIGH: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 4);

    fn closes(d: CollisionDecision) -> Initiator {
        match d {
            CollisionDecision::Close {
                close,
                notification,
            } => {
                assert_eq!(notification.code.to_wire(), (6, 7));
                close
            }
            other => panic!("expected a close, got {other:?}"),
        }
    }

    #[test]
    fn higher_identifier_keeps_its_own_connection() {
        // We are HIGH: the connection we initiated survives.
        assert_eq!(
            surviving_initiator(HIGH, 65000, LOW, 65000),
            Initiator::Local
        );
        assert_eq!(
            surviving_initiator(LOW, 65000, HIGH, 65000),
            Initiator::Remote
        );
        // Existing outbound in OpenConfirm, peer connects in: we are higher, close the new one.
        let d = resolve(
            State::OpenConfirm,
            Initiator::Local,
            HIGH,
            65000,
            LOW,
            65000,
        );
        assert_eq!(closes(d), Initiator::Remote);
        // Same, but we are lower: close our existing outbound connection.
        let d = resolve(
            State::OpenConfirm,
            Initiator::Local,
            LOW,
            65000,
            HIGH,
            65000,
        );
        assert_eq!(closes(d), Initiator::Local);
        // Existing inbound, new outbound, we are higher: the inbound one goes.
        let d = resolve(State::OpenSent, Initiator::Remote, HIGH, 65000, LOW, 65000);
        assert_eq!(closes(d), Initiator::Remote);
    }

    #[test]
    fn identifier_compares_as_unsigned_host_order() {
        let big = Ipv4Addr::new(200, 0, 0, 1);
        let small = Ipv4Addr::new(9, 255, 255, 255);
        assert_eq!(surviving_initiator(big, 1, small, 1), Initiator::Local);
    }

    #[test]
    fn equal_identifiers_use_the_larger_as() {
        assert_eq!(
            surviving_initiator(LOW, 65001, LOW, 65002),
            Initiator::Remote
        );
        assert_eq!(
            surviving_initiator(LOW, 65002, LOW, 65001),
            Initiator::Local
        );
    }

    #[test]
    fn established_always_wins_and_early_states_do_not_collide() {
        let d = resolve(
            State::Established,
            Initiator::Local,
            LOW,
            65000,
            HIGH,
            65000,
        );
        assert_eq!(closes(d), Initiator::Remote);
        for s in [State::Idle, State::Connect, State::Active] {
            assert_eq!(
                resolve(s, Initiator::Local, LOW, 65000, HIGH, 65000),
                CollisionDecision::NoCollision
            );
        }
    }
}
