//! What goes in and out of the FSM: its states, the events of RFC 4271
//! section 8.1 (event numbers in comments), the actions the shell carries
//! out, and why a session went down.

use super::timers::Timer;
use crate::session::open_check::NegotiatedSession;
use bytes::Bytes;
use evpnd_wire::notification::{CeaseSubcode, ErrorCode, Notification};
use evpnd_wire::open::Open;
use std::fmt;
use std::time::Duration;

/// A NOTIFICATION without data (RFC 4271 section 4.5).
pub(super) fn notification(code: ErrorCode) -> Notification {
    Notification::new(code, Bytes::new())
}

/// "Code/Subcode (c/s)", as operators read NOTIFICATIONs in FRR logs.
pub fn describe(n: &Notification) -> String {
    let (code, subcode) = n.code.to_wire();
    format!("{} ({code}/{subcode})", n.code)
}

/// The six states of RFC 4271 section 8.2.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

impl State {
    pub fn name(&self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// FSM inputs, named after RFC 4271 section 8.1 (event numbers in comments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// ManualStart (Event 1).
    ManualStart,
    /// ManualStop (Event 2).
    ManualStop,
    /// AutomaticStart (Event 3).
    AutomaticStart,
    /// ManualStart_with_PassiveTcpEstablishment (Event 4).
    ManualStartWithPassiveTcpEstablishment,
    /// AutomaticStart_with_PassiveTcpEstablishment (Event 5).
    AutomaticStartWithPassiveTcpEstablishment,
    /// AutomaticStop (Event 8), with the Cease subcode to send (RFC 4486).
    AutomaticStop { cease_subcode: CeaseSubcode },
    /// ConnectRetryTimer_Expires (Event 9).
    ConnectRetryTimerExpires,
    /// HoldTimer_Expires (Event 10).
    HoldTimerExpires,
    /// KeepaliveTimer_Expires (Event 11).
    KeepaliveTimerExpires,
    /// IdleHoldTimer_Expires (Event 13).
    IdleHoldTimerExpires,
    /// TcpConnection_Valid (Event 14).
    TcpConnectionValid,
    /// Tcp_CR_Invalid (Event 15).
    TcpCrInvalid,
    /// Tcp_CR_Acked (Event 16): our outgoing connection completed.
    TcpCrAcked,
    /// TcpConnectionConfirmed (Event 17): an incoming connection was accepted.
    TcpConnectionConfirmed,
    /// TcpConnectionFails (Event 18).
    TcpConnectionFails,
    /// BGPOpen (Event 19): an OPEN arrived and decoded. The FSM checks it
    /// (`open_check::check_open`); one that fails is handled as
    /// BGPOpenMsgErr (Event 22) with the check's NOTIFICATION.
    BgpOpen(Open),
    /// BGPHeaderErr (Event 21), with the NOTIFICATION to send.
    BgpHeaderErr(Notification),
    /// BGPOpenMsgErr (Event 22), with the NOTIFICATION to send.
    BgpOpenMsgErr(Notification),
    /// OpenCollisionDump (Event 23): this connection lost collision resolution.
    OpenCollisionDump,
    /// NotifMsgVerErr (Event 24).
    NotifMsgVerErr,
    /// NotifMsg (Event 25): the NOTIFICATION received.
    NotifMsg(Notification),
    /// KeepAliveMsg (Event 26).
    KeepAliveMsg,
    /// UpdateMsg (Event 27). The shell processes the UPDATE itself.
    UpdateMsg,
    /// UpdateMsgErr (Event 28), with the NOTIFICATION to send (RFC 7606
    /// decided this error resets the session).
    UpdateMsgErr(Notification),
    /// evpnd: the Stability timer fired.
    StabilityTimerExpires,
    /// evpnd: the peer sent more paths than its configured maximum and the
    /// configuration says to end the session: AutomaticStop (Event 8) with
    /// Cease / Maximum Number of Prefixes Reached (RFC 4486 section 4,
    /// `notification` carries AFI, SAFI and the limit), then Idle for
    /// `restart_after` (in place of the damping delay), or until a
    /// ManualStart when `None`.
    PrefixLimitExceeded {
        notification: Notification,
        restart_after: Option<std::time::Duration>,
    },
    /// evpnd: the operator resets the session (`evpnd clear neighbors`):
    /// a session in progress ends with Cease / Administrative Reset (RFC
    /// 4486 section 4, subcode 4), the failure count and a stop (ManualStop,
    /// a prefix limit without restart) are forgotten, and the session
    /// starts again at once, without the damping delay.
    ManualReset,
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::ManualStart => "ManualStart",
            Event::ManualStop => "ManualStop",
            Event::AutomaticStart => "AutomaticStart",
            Event::ManualStartWithPassiveTcpEstablishment => {
                "ManualStart_with_PassiveTcpEstablishment"
            }
            Event::AutomaticStartWithPassiveTcpEstablishment => {
                "AutomaticStart_with_PassiveTcpEstablishment"
            }
            Event::AutomaticStop { .. } => "AutomaticStop",
            Event::PrefixLimitExceeded { .. } => "AutomaticStop (maximum prefixes)",
            Event::ManualReset => "ManualStop+ManualStart (reset)",
            Event::ConnectRetryTimerExpires => "ConnectRetryTimer_Expires",
            Event::HoldTimerExpires => "HoldTimer_Expires",
            Event::KeepaliveTimerExpires => "KeepaliveTimer_Expires",
            Event::IdleHoldTimerExpires => "IdleHoldTimer_Expires",
            Event::TcpConnectionValid => "TcpConnection_Valid",
            Event::TcpCrInvalid => "Tcp_CR_Invalid",
            Event::TcpCrAcked => "Tcp_CR_Acked",
            Event::TcpConnectionConfirmed => "TcpConnectionConfirmed",
            Event::TcpConnectionFails => "TcpConnectionFails",
            Event::BgpOpen(_) => "BGPOpen",
            Event::BgpHeaderErr(_) => "BGPHeaderErr",
            Event::BgpOpenMsgErr(_) => "BGPOpenMsgErr",
            Event::OpenCollisionDump => "OpenCollisionDump",
            Event::NotifMsgVerErr => "NotifMsgVerErr",
            Event::NotifMsg(_) => "NotifMsg",
            Event::KeepAliveMsg => "KeepAliveMsg",
            Event::UpdateMsg => "UpdateMsg",
            Event::UpdateMsgErr(_) => "UpdateMsgErr",
            Event::StabilityTimerExpires => "StabilityTimer_Expires",
        }
    }

    /// The timer whose expiry this event reports, if any.
    pub fn timer(&self) -> Option<Timer> {
        match self {
            Event::ConnectRetryTimerExpires => Some(Timer::ConnectRetry),
            Event::HoldTimerExpires => Some(Timer::Hold),
            Event::KeepaliveTimerExpires => Some(Timer::Keepalive),
            Event::IdleHoldTimerExpires => Some(Timer::IdleHold),
            Event::StabilityTimerExpires => Some(Timer::Stability),
            _ => None,
        }
    }
}

/// What the shell must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Initiate a TCP connection to the peer.
    Connect,
    /// Close the TCP connection (after flushing anything queued before this action).
    DropConnection,
    /// Send our OPEN.
    SendOpen,
    SendKeepalive,
    SendNotification(Notification),
    /// (Re)start a timer; replaces any running instance.
    StartTimer {
        timer: Timer,
        after: Duration,
    },
    StopTimer(Timer),
    /// The session reached Established: start exchanging routes.
    Established(NegotiatedSession),
    /// The session left Established: withdraw everything learned from the peer.
    SessionDown {
        reason: DownReason,
    },
}

/// Why the FSM returned to Idle (or the last failure, for `show neighbors`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    ManualStop,
    /// `evpnd clear neighbors` ([`Event::ManualReset`]).
    ManualReset,
    AutomaticStop,
    HoldTimerExpired,
    TcpConnectionFailed,
    /// The peer sent a NOTIFICATION.
    NotificationReceived(Notification),
    /// We sent a NOTIFICATION (OPEN/UPDATE/header error).
    NotificationSent(Notification),
    /// This connection lost collision resolution (RFC 4271 section 6.8).
    ConnectionCollision,
    /// An event the state does not accept.
    UnexpectedEvent {
        state: State,
        event: &'static str,
    },
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::ManualStop => f.write_str("administratively stopped"),
            DownReason::ManualReset => f.write_str("administratively reset"),
            DownReason::AutomaticStop => f.write_str("stopped by the daemon"),
            DownReason::HoldTimerExpired => f.write_str("hold timer expired"),
            DownReason::TcpConnectionFailed => f.write_str("TCP connection failed or closed"),
            DownReason::NotificationReceived(n) => {
                write!(f, "received NOTIFICATION {}", describe(n))
            }
            DownReason::NotificationSent(n) => write!(f, "sent NOTIFICATION {}", describe(n)),
            DownReason::ConnectionCollision => f.write_str("connection collision resolution"),
            DownReason::UnexpectedEvent { state, event } => {
                write!(f, "unexpected event {event} in state {state}")
            }
        }
    }
}
