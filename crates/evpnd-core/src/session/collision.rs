//! Connection collision resolution (RFC 4271 section 6.8), pure.
//!
//! Two TCP connections to the same peer (one we initiated, one the peer
//! initiated) may both reach OpenSent/OpenConfirm. Once the peer's BGP
//! Identifier is known from an OPEN, exactly one survives: the one initiated
//! by the speaker with the higher BGP Identifier. The loser is closed with
//! Cease / Connection Collision Resolution (RFC 4486 section 4, subcode 7):
//! the shell feeds OpenCollisionDump (Event 23) to that connection's FSM,
//! which sends the NOTIFICATION and drops it.
//!
//! This file is the only place that decides: [`inbound`] for a connection
//! the peer opened, [`outbound`] for one we opened. The shell
//! (`evpnd::session::peer`) carries the decision out and decides nothing.

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

/// What to do with a connection accepted from the peer's address
/// (TcpConnectionConfirmed, RFC 4271 section 8.1.4 Event 17) while the
/// session is in `state` with the connection `existing` (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// The session is Idle: RFC 4271 section 8.2.2 Idle refuses incoming
    /// connections. Close it without a word.
    Refuse,
    /// No connection to collide with: the new one becomes the session's
    /// (any outgoing attempt still pending is abandoned).
    Adopt,
    /// Keep the existing connection; send the NOTIFICATION on the new one and
    /// close it.
    RejectNew(Notification),
    /// The existing connection loses: it gets OpenCollisionDump (Event 23),
    /// and the new one runs a fresh FSM (RFC 4271 section 6.8: "the BGP
    /// connection that already exists ... is closed").
    ReplaceExisting,
}

/// Decide about a connection accepted from the peer (RFC 4271 section 6.8),
/// given the session's state, who opened the existing connection, and the
/// peer's BGP Identifier and AS once an OPEN on the existing connection was
/// accepted (from OpenConfirm on).
///
/// - Idle refuses (RFC 4271 section 8.2.2 Idle).
/// - Connect or Active, or no connection at all: adopt.
/// - Established: the new connection is closed (section 6.8: "collision
///   with existing BGP connection that is in the Established state causes
///   closing of the newly created connection").
/// - OpenSent or OpenConfirm with a connection the peer opened: the peer
///   opened a second one itself, so it gave up on the first (it restarted,
///   say). Not a collision: follow it.
/// - OpenConfirm with our own connection: a true collision, decided by the
///   BGP Identifiers ([`resolve`]).
/// - OpenSent with our own connection: the peer's identifier is not known
///   yet (section 6.8 allows, but does not require, waiting for it). Keep
///   the connection we have; the peer's jittered retries settle it.
pub fn inbound(
    state: State,
    existing: Option<Initiator>,
    local_id: Ipv4Addr,
    local_asn: u32,
    remote: Option<(Ipv4Addr, u32)>,
) -> Inbound {
    match (state, existing) {
        (State::Idle, _) => Inbound::Refuse,
        (State::Connect | State::Active, _) | (_, None) => Inbound::Adopt,
        (State::Established, Some(_)) => Inbound::RejectNew(collision_notification()),
        (State::OpenSent | State::OpenConfirm, Some(Initiator::Remote)) => Inbound::ReplaceExisting,
        (State::OpenConfirm, Some(Initiator::Local)) => match remote {
            Some((remote_id, remote_asn)) => {
                match resolve(
                    state,
                    Initiator::Local,
                    local_id,
                    local_asn,
                    remote_id,
                    remote_asn,
                ) {
                    CollisionDecision::Close {
                        close: Initiator::Local,
                        ..
                    } => Inbound::ReplaceExisting,
                    _ => Inbound::RejectNew(collision_notification()),
                }
            }
            None => Inbound::RejectNew(collision_notification()),
        },
        (State::OpenSent, Some(Initiator::Local)) => Inbound::RejectNew(collision_notification()),
    }
}

/// What to do with our own outgoing connection once it completes (Tcp_CR_Acked,
/// RFC 4271 section 8.1.4 Event 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outbound {
    /// The session has no connection: this one is it.
    Adopt,
    /// The peer's connection was adopted meanwhile (and the attempt should
    /// have been abandoned): close ours silently, before any OPEN, so no
    /// collision arises.
    CloseNew,
}

/// Decide about our completed outgoing connection, given the session's
/// existing connection, if any.
pub fn outbound(existing: Option<Initiator>) -> Outbound {
    match existing {
        None => Outbound::Adopt,
        Some(_) => Outbound::CloseNew,
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

    fn inbound_as(state: State, existing: Option<Initiator>, local: Ipv4Addr) -> Inbound {
        let remote = if local == HIGH { LOW } else { HIGH };
        inbound(state, existing, local, 65000, Some((remote, 65000)))
    }

    #[test]
    fn inbound_connections_by_state_and_initiator() {
        let reject = Inbound::RejectNew(collision_notification());
        for existing in [None, Some(Initiator::Local), Some(Initiator::Remote)] {
            assert_eq!(inbound_as(State::Idle, existing, HIGH), Inbound::Refuse);
            assert_eq!(inbound_as(State::Connect, existing, HIGH), Inbound::Adopt);
            assert_eq!(inbound_as(State::Active, existing, HIGH), Inbound::Adopt);
        }
        for state in [State::OpenSent, State::OpenConfirm, State::Established] {
            assert_eq!(inbound_as(state, None, HIGH), Inbound::Adopt);
        }
        for existing in [Initiator::Local, Initiator::Remote] {
            assert_eq!(inbound_as(State::Established, Some(existing), LOW), reject);
        }
        // The peer replaced its own connection: follow it.
        for state in [State::OpenSent, State::OpenConfirm] {
            assert_eq!(
                inbound_as(state, Some(Initiator::Remote), HIGH),
                Inbound::ReplaceExisting
            );
        }
        // A true collision in OpenConfirm: the higher identifier's connection survives.
        assert_eq!(
            inbound_as(State::OpenConfirm, Some(Initiator::Local), HIGH),
            reject
        );
        assert_eq!(
            inbound_as(State::OpenConfirm, Some(Initiator::Local), LOW),
            Inbound::ReplaceExisting
        );
        assert_eq!(
            inbound(State::OpenConfirm, Some(Initiator::Local), LOW, 65000, None),
            reject
        );
        // OpenSent: the identifier is not known yet, keep ours.
        assert_eq!(
            inbound_as(State::OpenSent, Some(Initiator::Local), LOW),
            reject
        );
    }

    #[test]
    fn completed_outbound_connection() {
        assert_eq!(outbound(None), Outbound::Adopt);
        assert_eq!(outbound(Some(Initiator::Remote)), Outbound::CloseNew);
        assert_eq!(outbound(Some(Initiator::Local)), Outbound::CloseNew);
    }
}
