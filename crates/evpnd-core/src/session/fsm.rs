//! The per-peer BGP finite state machine (RFC 4271 section 8), pure.
//!
//! `Fsm::handle(event) -> Vec<Action>`: no sockets, no clocks, no randomness
//! from the outside world. The shell (a tokio task per peer) turns TCP and
//! timer happenings into [`Event`]s and carries out the [`Action`]s in order.
//! Timers are owned by the shell but *tracked* here: the FSM knows which
//! timers it started, and a timer event for a timer it already stopped (the
//! race between "stop" and "fired") is ignored.
//!
//! Deviations from the letter of RFC 4271 section 8.2.2, each on purpose:
//! - `passive` peers never initiate a connection (FRR `neighbor passive`),
//!   so they run no ConnectRetryTimer while waiting in Active.
//! - Automatic restart and peer damping (RFC 4271 section 8.1.1
//!   DampPeerOscillations) are built in: after a failure the FSM sits in Idle
//!   with the IdleHoldTimer running for an exponentially growing, jittered
//!   [`Backoff`] delay and restarts itself on IdleHoldTimer_Expires (Event 13).
//!   The failure count resets once a session stayed Established for
//!   `stable_after` (the evpnd-specific Stability timer).
//! - A NOTIFICATION received in OpenSent closes the connection without sending
//!   an FSM Error back (as in OpenConfirm/Established; answering a
//!   NOTIFICATION with one is pointless and RFC 4271 section 6.4 forbids it).
//! - A BGPHeaderErr in Established sends its own Message Header Error rather
//!   than an FSM Error, which is more useful to the peer.
//! - Connection collision detection (RFC 4271 section 6.8) runs in the shell,
//!   which has both connections; see `collision.rs`. It tells the losing
//!   connection's FSM with OpenCollisionDump (Event 23).

use super::open_check::{NegotiatedSession, check_open};
use bytes::Bytes;
use evpnd_wire::Family;
use evpnd_wire::notification::{CeaseSubcode, ErrorCode, FsmSubcode, Notification, OpenSubcode};
use evpnd_wire::open::Open;
use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

/// RFC 4271 section 8.2.2: the initial HoldTimer value while waiting for OPEN
/// ("a large value ... A HoldTimer value of 4 minutes is suggested").
pub const OPEN_HOLD_TIME: Duration = Duration::from_secs(240);

/// A NOTIFICATION without data (RFC 4271 section 4.5).
fn notification(code: ErrorCode) -> Notification {
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

/// Timers the FSM asks the shell to run (RFC 4271 section 8.1.3 and 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    ConnectRetry,
    Hold,
    Keepalive,
    /// RFC 4271 section 8.1.1 (DampPeerOscillations): delay before an automatic restart.
    IdleHold,
    /// evpnd: fires once a session has been Established for `stable_after`;
    /// resets the damping failure count.
    Stability,
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
    fn timer(&self) -> Option<Timer> {
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

/// Exponential backoff with RFC 4271 section 10 jitter, pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// Delay before attempt number `attempt` (0-based): `base * 2^attempt`,
    /// capped at `cap`, then multiplied by a factor in [0.75, 1.0) taken from
    /// `random` (uniform over u32), as RFC 4271 section 10 asks for the
    /// ConnectRetryTimer so that peers do not synchronise.
    pub fn delay(&self, attempt: u32, random: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        let raw = self.base.saturating_mul(factor).min(self.cap);
        let nanos = raw.as_nanos();
        // nanos * (0.75 + 0.25 * random / 2^32), in integers.
        let jittered = nanos * ((3u128 << 32) + u128::from(random)) / (4u128 << 32);
        Duration::from_nanos(u64::try_from(jittered).unwrap_or(u64::MAX))
    }
}

/// Per-peer FSM parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsmConfig {
    pub local_asn: u32,
    pub local_bgp_id: Ipv4Addr,
    pub peer_asn: u32,
    /// Hold Time we propose (0 or >= 3).
    pub hold_time: u16,
    /// Keepalive interval we would like (capped at negotiated hold/3).
    pub keepalive: u16,
    /// Never initiate the TCP connection.
    pub passive: bool,
    /// Families we announce, in preference order.
    pub families: Vec<Family>,
    /// We announce Extended Message (RFC 8654).
    pub extended_message: bool,
    /// We announce Enhanced Route Refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// ConnectRetryTimer: base = configured connect_retry.
    pub connect_backoff: Backoff,
    /// IdleHoldTimer after each consecutive failure (peer damping).
    pub idle_backoff: Backoff,
    /// An Established session this old resets the failure count.
    pub stable_after: Duration,
}

impl FsmConfig {
    pub fn is_internal(&self) -> bool {
        self.local_asn == self.peer_asn
    }
}

/// One peer's FSM.
#[derive(Debug, Clone)]
pub struct Fsm {
    config: FsmConfig,
    state: State,
    running: BTreeSet<Timer>,
    negotiated: Option<NegotiatedSession>,
    /// RFC 4271 section 8: ConnectRetryCounter.
    connect_retry_counter: u32,
    /// Connect attempts without a TCP connection (ConnectRetryTimer backoff).
    connect_attempts: u32,
    /// Consecutive session failures (IdleHoldTimer backoff).
    failures: u32,
    /// ManualStop disables automatic restarts until the next ManualStart.
    admin_down: bool,
    /// The last start was one of the passive variants (Events 4/5).
    passive_start: bool,
    last_error: Option<DownReason>,
    rng: u64,
}

impl Fsm {
    /// A stopped FSM. `seed` drives the timer jitter (any value; the shell
    /// passes something random, tests pass a constant).
    pub fn new(config: FsmConfig, seed: u64) -> Self {
        Self {
            config,
            state: State::Idle,
            running: BTreeSet::new(),
            negotiated: None,
            connect_retry_counter: 0,
            connect_attempts: 0,
            failures: 0,
            admin_down: false,
            passive_start: false,
            last_error: None,
            // xorshift must not start at zero.
            rng: seed | 1,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }
    pub fn config(&self) -> &FsmConfig {
        &self.config
    }
    /// The negotiated parameters, from OpenConfirm on.
    pub fn negotiated(&self) -> Option<&NegotiatedSession> {
        self.negotiated.as_ref()
    }
    pub fn last_error(&self) -> Option<&DownReason> {
        self.last_error.as_ref()
    }
    /// Timers the FSM believes are running.
    pub fn running_timers(&self) -> impl Iterator<Item = Timer> + '_ {
        self.running.iter().copied()
    }
    /// Consecutive failures counted for damping.
    pub fn failures(&self) -> u32 {
        self.failures
    }
    pub fn connect_retry_counter(&self) -> u32 {
        self.connect_retry_counter
    }

    /// Feed one event; returns the actions to perform in order.
    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        if let Some(timer) = event.timer() {
            // A timer we stopped may still fire in the shell: ignore it.
            if !self.running.remove(&timer) {
                return out;
            }
        }
        // RFC 4271 section 8.1.2: BGPOpen (Event 19) is an OPEN that passed
        // the checks of section 6.2; one that did not is BGPOpenMsgErr
        // (Event 22), whatever the state.
        let mut checked = None;
        let event = match event {
            Event::BgpOpen(open) => match check_open(&open, &self.config) {
                Ok(session) => {
                    checked = Some(session);
                    Event::BgpOpen(open)
                }
                Err(n) => Event::BgpOpenMsgErr(n),
            },
            other => other,
        };
        match self.state {
            State::Idle => self.idle(event, &mut out),
            State::Connect | State::Active => self.connect_or_active(event, &mut out),
            State::OpenSent => self.open_sent(event, checked, &mut out),
            State::OpenConfirm => self.open_confirm(event, &mut out),
            State::Established => self.established(event, &mut out),
        }
        out
    }

    fn random(&mut self) -> u32 {
        // xorshift64*: plenty for timer jitter.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    fn start_timer(&mut self, out: &mut Vec<Action>, timer: Timer, after: Duration) {
        self.running.insert(timer);
        out.push(Action::StartTimer { timer, after });
    }

    fn stop_timer(&mut self, out: &mut Vec<Action>, timer: Timer) {
        if self.running.remove(&timer) {
            out.push(Action::StopTimer(timer));
        }
    }

    fn start_connect_retry(&mut self, out: &mut Vec<Action>) {
        let r = self.random();
        let after = self.config.connect_backoff.delay(self.connect_attempts, r);
        self.start_timer(out, Timer::ConnectRetry, after);
    }

    /// Idle -> Connect (active open) or Active (passive open).
    fn start(&mut self, passive: bool, out: &mut Vec<Action>) {
        self.passive_start = passive;
        self.connect_retry_counter = 0;
        self.stop_timer(out, Timer::IdleHold);
        if self.config.passive {
            // Wait for the peer, forever: no ConnectRetryTimer.
            self.state = State::Active;
        } else if passive {
            // RFC 4271 8.2.2 Idle, Events 4/5: start ConnectRetryTimer, listen.
            self.start_connect_retry(out);
            self.state = State::Active;
        } else {
            // Events 1/3: start ConnectRetryTimer, initiate the TCP connection.
            self.start_connect_retry(out);
            out.push(Action::Connect);
            self.state = State::Connect;
        }
    }

    /// The common "release resources, drop TCP, go to Idle" exit.
    fn enter_idle(
        &mut self,
        out: &mut Vec<Action>,
        reason: DownReason,
        notify: Option<Notification>,
        count_failure: bool,
    ) {
        if let Some(n) = notify {
            out.push(Action::SendNotification(n));
        }
        if self.state != State::Idle {
            out.push(Action::DropConnection);
        }
        let timers: Vec<Timer> = self.running.iter().copied().collect();
        for t in timers {
            self.stop_timer(out, t);
        }
        if self.state == State::Established {
            out.push(Action::SessionDown {
                reason: reason.clone(),
            });
        }
        self.negotiated = None;
        self.state = State::Idle;
        if count_failure {
            self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
            self.failures = self.failures.saturating_add(1);
        } else {
            self.connect_retry_counter = 0;
        }
        let manual = reason == DownReason::ManualStop;
        self.last_error = Some(reason);
        if manual {
            self.admin_down = true;
        } else if !self.admin_down {
            // Peer damping: the more consecutive failures, the longer we wait.
            let r = self.random();
            let after = self
                .config
                .idle_backoff
                .delay(self.failures.saturating_sub(1), r);
            self.start_timer(out, Timer::IdleHold, after);
        }
    }

    /// Send a NOTIFICATION and go to Idle, recording what we sent.
    fn notify_and_idle(&mut self, out: &mut Vec<Action>, n: Notification) {
        self.enter_idle(out, DownReason::NotificationSent(n.clone()), Some(n), true);
    }

    /// RFC 6608: FSM Error with the subcode of the current state.
    fn fsm_error(&mut self, out: &mut Vec<Action>, event: &Event) {
        let subcode = match self.state {
            State::OpenSent => FsmSubcode::UnexpectedMessageInOpenSent,
            State::OpenConfirm => FsmSubcode::UnexpectedMessageInOpenConfirm,
            _ => FsmSubcode::UnexpectedMessageInEstablished,
        };
        let reason = DownReason::UnexpectedEvent {
            state: self.state,
            event: event.name(),
        };
        self.enter_idle(
            out,
            reason,
            Some(notification(ErrorCode::FiniteStateMachine(subcode))),
            true,
        );
    }

    fn idle(&mut self, event: Event, out: &mut Vec<Action>) {
        match event {
            Event::ManualStart => {
                self.admin_down = false;
                self.start(false, out);
            }
            Event::ManualStartWithPassiveTcpEstablishment => {
                self.admin_down = false;
                self.start(true, out);
            }
            Event::AutomaticStart if !self.admin_down => self.start(false, out),
            Event::AutomaticStartWithPassiveTcpEstablishment if !self.admin_down => {
                self.start(true, out)
            }
            Event::IdleHoldTimerExpires if !self.admin_down => {
                let passive = self.passive_start;
                self.start(passive, out);
            }
            Event::ManualStop => {
                self.admin_down = true;
                self.stop_timer(out, Timer::IdleHold);
            }
            // RFC 4271 8.2.2 Idle: incoming connections are refused.
            Event::TcpConnectionConfirmed | Event::TcpCrAcked | Event::TcpConnectionValid => {
                out.push(Action::DropConnection);
            }
            _ => {}
        }
    }

    fn connect_or_active(&mut self, event: Event, out: &mut Vec<Action>) {
        match event {
            Event::ManualStart
            | Event::AutomaticStart
            | Event::ManualStartWithPassiveTcpEstablishment
            | Event::AutomaticStartWithPassiveTcpEstablishment => {}
            Event::ManualStop => self.enter_idle(out, DownReason::ManualStop, None, false),
            Event::ConnectRetryTimerExpires => {
                // Connect: drop the attempt and retry. Active: initiate. Both
                // end in Connect (RFC 4271 8.2.2), with a longer wait each time.
                if self.state == State::Connect {
                    out.push(Action::DropConnection);
                }
                self.connect_attempts = self.connect_attempts.saturating_add(1);
                self.start_connect_retry(out);
                out.push(Action::Connect);
                self.state = State::Connect;
            }
            Event::TcpConnectionValid | Event::TcpCrInvalid => {}
            Event::TcpCrAcked | Event::TcpConnectionConfirmed => {
                self.stop_timer(out, Timer::ConnectRetry);
                self.connect_attempts = 0;
                out.push(Action::SendOpen);
                self.start_timer(out, Timer::Hold, OPEN_HOLD_TIME);
                self.state = State::OpenSent;
            }
            // A connection that failed before any BGP message (refused,
            // unreachable): RFC 4271 8.2.2 takes Connect to Active when
            // DelayOpen runs and to Idle otherwise; we always wait in Active
            // for the ConnectRetryTimer, as FRR does. Nothing was exchanged,
            // so it is no session oscillation to damp (8.1.1): a reflector
            // that comes back is found within one ConnectRetryTime, not after
            // a damping delay that grew while it was down.
            Event::TcpConnectionFails => {
                out.push(Action::DropConnection);
                self.last_error = Some(DownReason::TcpConnectionFailed);
                if !self.config.passive && !self.running.contains(&Timer::ConnectRetry) {
                    self.start_connect_retry(out);
                }
                self.state = State::Active;
            }
            // RFC 4271 8.2.2 Connect/Active, Events 21-22: we send the
            // NOTIFICATION even without an OPEN (SendNOTIFICATIONwithoutOPEN).
            Event::BgpHeaderErr(n) | Event::BgpOpenMsgErr(n) => self.notify_and_idle(out, n),
            Event::NotifMsgVerErr => self.enter_idle(
                out,
                DownReason::NotificationReceived(notification(ErrorCode::Open(
                    OpenSubcode::UnsupportedVersionNumber,
                ))),
                None,
                false,
            ),
            Event::NotifMsg(n) => {
                self.enter_idle(out, DownReason::NotificationReceived(n), None, true)
            }
            Event::AutomaticStop { .. } => {
                self.enter_idle(out, DownReason::AutomaticStop, None, true)
            }
            other => {
                let reason = DownReason::UnexpectedEvent {
                    state: self.state,
                    event: other.name(),
                };
                self.enter_idle(out, reason, None, true)
            }
        }
    }

    /// Stops common to OpenSent, OpenConfirm and Established.
    /// Returns the event back when it is not one of them.
    fn common_stops(&mut self, event: Event, out: &mut Vec<Action>) -> Option<Event> {
        match event {
            Event::ManualStart
            | Event::AutomaticStart
            | Event::ManualStartWithPassiveTcpEstablishment
            | Event::AutomaticStartWithPassiveTcpEstablishment => {}
            Event::ManualStop => self.enter_idle(
                out,
                DownReason::ManualStop,
                Some(Notification::cease(CeaseSubcode::AdministrativeShutdown)),
                false,
            ),
            Event::AutomaticStop { cease_subcode } => self.enter_idle(
                out,
                DownReason::AutomaticStop,
                Some(Notification::cease(cease_subcode)),
                true,
            ),
            Event::HoldTimerExpires => self.enter_idle(
                out,
                DownReason::HoldTimerExpired,
                Some(notification(ErrorCode::HoldTimerExpired(0))),
                true,
            ),
            // A second connection for this peer: the shell resolves the
            // collision (RFC 4271 section 6.8) and may send OpenCollisionDump.
            Event::TcpConnectionValid | Event::TcpCrAcked | Event::TcpConnectionConfirmed => {}
            Event::TcpCrInvalid => {}
            Event::OpenCollisionDump => self.enter_idle(
                out,
                DownReason::ConnectionCollision,
                Some(Notification::cease(
                    CeaseSubcode::ConnectionCollisionResolution,
                )),
                true,
            ),
            Event::NotifMsgVerErr => self.enter_idle(
                out,
                DownReason::NotificationReceived(notification(ErrorCode::Open(
                    OpenSubcode::UnsupportedVersionNumber,
                ))),
                None,
                true,
            ),
            Event::NotifMsg(n) => {
                self.enter_idle(out, DownReason::NotificationReceived(n), None, true)
            }
            Event::BgpHeaderErr(n) => self.notify_and_idle(out, n),
            other => return Some(other),
        }
        None
    }

    fn open_sent(
        &mut self,
        event: Event,
        checked: Option<NegotiatedSession>,
        out: &mut Vec<Action>,
    ) {
        let Some(event) = self.common_stops(event, out) else {
            return;
        };
        match (event, checked) {
            (Event::TcpConnectionFails, _) => {
                // RFC 4271 8.2.2 OpenSent, Event 18: close, restart the
                // ConnectRetryTimer, continue to listen, go to Active.
                out.push(Action::DropConnection);
                self.stop_timer(out, Timer::Hold);
                if !self.config.passive {
                    self.start_connect_retry(out);
                }
                self.last_error = Some(DownReason::TcpConnectionFailed);
                self.state = State::Active;
            }
            // `handle` checked the OPEN and negotiated the session.
            (Event::BgpOpen(_), Some(session)) => {
                self.stop_timer(out, Timer::ConnectRetry);
                out.push(Action::SendKeepalive);
                if session.hold_time > 0 {
                    self.start_timer(
                        out,
                        Timer::Keepalive,
                        Duration::from_secs(u64::from(session.keepalive)),
                    );
                    self.start_timer(
                        out,
                        Timer::Hold,
                        Duration::from_secs(u64::from(session.hold_time)),
                    );
                } else {
                    // RFC 4271 section 4.2: Hold Time 0, no timers at all.
                    self.stop_timer(out, Timer::Hold);
                }
                self.negotiated = Some(session);
                self.state = State::OpenConfirm;
            }
            (Event::BgpOpenMsgErr(n), _) => self.notify_and_idle(out, n),
            (other, _) => self.fsm_error(out, &other),
        }
    }

    fn restart_hold(&mut self, out: &mut Vec<Action>) {
        if let Some(hold) = self.negotiated.as_ref().map(|s| s.hold_time)
            && hold > 0
        {
            self.start_timer(out, Timer::Hold, Duration::from_secs(u64::from(hold)));
        }
    }

    fn restart_keepalive(&mut self, out: &mut Vec<Action>) {
        out.push(Action::SendKeepalive);
        if let Some(ka) = self.negotiated.as_ref().map(|s| s.keepalive)
            && ka > 0
        {
            self.start_timer(out, Timer::Keepalive, Duration::from_secs(u64::from(ka)));
        }
    }

    fn open_confirm(&mut self, event: Event, out: &mut Vec<Action>) {
        let Some(event) = self.common_stops(event, out) else {
            return;
        };
        match event {
            Event::KeepaliveTimerExpires => self.restart_keepalive(out),
            Event::TcpConnectionFails => {
                self.enter_idle(out, DownReason::TcpConnectionFailed, None, true)
            }
            Event::BgpOpenMsgErr(n) => self.notify_and_idle(out, n),
            Event::KeepAliveMsg => match self.negotiated.clone() {
                Some(session) => {
                    self.restart_hold(out);
                    self.state = State::Established;
                    out.push(Action::Established(session));
                    let stable = self.config.stable_after;
                    self.start_timer(out, Timer::Stability, stable);
                }
                // OpenConfirm is only entered with a negotiated session.
                None => self.fsm_error(out, &Event::KeepAliveMsg),
            },
            other => self.fsm_error(out, &other),
        }
    }

    fn established(&mut self, event: Event, out: &mut Vec<Action>) {
        let Some(event) = self.common_stops(event, out) else {
            return;
        };
        match event {
            Event::KeepaliveTimerExpires => self.restart_keepalive(out),
            Event::KeepAliveMsg | Event::UpdateMsg => self.restart_hold(out),
            Event::UpdateMsgErr(n) => self.notify_and_idle(out, n),
            Event::TcpConnectionFails => {
                self.enter_idle(out, DownReason::TcpConnectionFailed, None, true)
            }
            Event::StabilityTimerExpires => {
                self.failures = 0;
                self.connect_attempts = 0;
            }
            other => self.fsm_error(out, &other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evpnd_wire::capability::Capability;
    use evpnd_wire::{Afi, Safi};
    use proptest::prelude::*;

    const EVPN: Family = Family::L2VPN_EVPN;

    fn n(code: u8, subcode: u8) -> Notification {
        super::notification(ErrorCode::from_wire(code, subcode))
    }

    fn cease(subcode: u8) -> Notification {
        Notification::cease(CeaseSubcode::from_u8(subcode))
    }

    /// An OPEN from `asn` (4-octet AS capability included) with `caps`.
    fn open_from(asn: u32, hold_time: u16, id: Ipv4Addr, mut caps: Vec<Capability>) -> Open {
        caps.push(Capability::FourOctetAs(asn));
        Open::new(asn, hold_time, id, caps)
    }

    fn config() -> FsmConfig {
        FsmConfig {
            local_asn: 65000,
            local_bgp_id: Ipv4Addr::new(198, 19, 0, 4),
            peer_asn: 65000,
            hold_time: 90,
            keepalive: 30,
            passive: false,
            families: vec![EVPN],
            extended_message: true,
            enhanced_route_refresh: false,
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

    /// FRR's OPEN: IPv4 unicast and EVPN, Route Refresh, Enhanced Route
    /// Refresh, Extended Message, 4-octet AS.
    fn open() -> Open {
        open_from(
            65000,
            9,
            Ipv4Addr::new(198, 19, 0, 1),
            vec![
                Capability::Multiprotocol(Family::IPV4_UNICAST),
                Capability::Multiprotocol(EVPN),
                Capability::RouteRefresh,
                Capability::EnhancedRouteRefresh,
                Capability::ExtendedMessage,
            ],
        )
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn timer_started(actions: &[Action], timer: Timer) -> Option<Duration> {
        actions.iter().find_map(|a| match a {
            Action::StartTimer { timer: t, after } if *t == timer => Some(*after),
            _ => None,
        })
    }

    fn notification(actions: &[Action]) -> Option<&Notification> {
        actions.iter().find_map(|a| match a {
            Action::SendNotification(n) => Some(n),
            _ => None,
        })
    }

    /// Drive a fresh FSM to Established over an outgoing connection.
    fn established(cfg: FsmConfig) -> Fsm {
        let mut fsm = Fsm::new(cfg, 7);
        fsm.handle(Event::ManualStart);
        fsm.handle(Event::TcpCrAcked);
        fsm.handle(Event::BgpOpen(open()));
        fsm.handle(Event::KeepAliveMsg);
        assert_eq!(fsm.state(), State::Established);
        fsm
    }

    #[test]
    fn active_open_happy_path() {
        let mut fsm = Fsm::new(config(), 7);
        let a = fsm.handle(Event::ManualStart);
        assert_eq!(fsm.state(), State::Connect);
        let retry = timer_started(&a, Timer::ConnectRetry).unwrap();
        assert!(retry >= secs(22) && retry <= secs(30), "{retry:?}");
        assert_eq!(a.last(), Some(&Action::Connect));

        let a = fsm.handle(Event::TcpCrAcked);
        assert_eq!(
            a,
            vec![
                Action::StopTimer(Timer::ConnectRetry),
                Action::SendOpen,
                Action::StartTimer {
                    timer: Timer::Hold,
                    after: OPEN_HOLD_TIME
                },
            ]
        );
        assert_eq!(fsm.state(), State::OpenSent);

        let a = fsm.handle(Event::BgpOpen(open()));
        assert_eq!(
            a,
            vec![
                Action::SendKeepalive,
                Action::StartTimer {
                    timer: Timer::Keepalive,
                    after: secs(3)
                },
                Action::StartTimer {
                    timer: Timer::Hold,
                    after: secs(9)
                },
            ]
        );
        assert_eq!(fsm.state(), State::OpenConfirm);

        let a = fsm.handle(Event::KeepAliveMsg);
        assert_eq!(fsm.state(), State::Established);
        assert_eq!(
            a[0],
            Action::StartTimer {
                timer: Timer::Hold,
                after: secs(9)
            }
        );
        let Action::Established(s) = &a[1] else {
            panic!("{a:?}")
        };
        assert_eq!(s.hold_time, 9);
        assert_eq!(s.keepalive, 3);
        assert_eq!(s.families, vec![EVPN]);
        assert!(s.four_octet_as && s.extended_message && s.route_refresh);
        assert!(!s.enhanced_route_refresh, "we do not announce it");
        assert!(s.internal);
        assert_eq!(timer_started(&a, Timer::Stability), Some(secs(60)));

        // Keepalives and updates keep the session up.
        assert_eq!(
            fsm.handle(Event::UpdateMsg),
            vec![Action::StartTimer {
                timer: Timer::Hold,
                after: secs(9)
            }]
        );
        assert_eq!(
            fsm.handle(Event::KeepaliveTimerExpires),
            vec![
                Action::SendKeepalive,
                Action::StartTimer {
                    timer: Timer::Keepalive,
                    after: secs(3)
                }
            ]
        );
    }

    #[test]
    fn passive_peer_waits_and_accepts() {
        let mut fsm = Fsm::new(
            FsmConfig {
                passive: true,
                ..config()
            },
            1,
        );
        let a = fsm.handle(Event::ManualStart);
        assert_eq!(fsm.state(), State::Active);
        assert!(
            a.is_empty(),
            "a passive peer neither connects nor retries: {a:?}"
        );
        let a = fsm.handle(Event::TcpConnectionConfirmed);
        assert_eq!(fsm.state(), State::OpenSent);
        assert!(a.contains(&Action::SendOpen));
        fsm.handle(Event::BgpOpen(open()));
        fsm.handle(Event::KeepAliveMsg);
        assert_eq!(fsm.state(), State::Established);
    }

    #[test]
    fn passive_start_event_connects_after_connect_retry() {
        let mut fsm = Fsm::new(config(), 1);
        let a = fsm.handle(Event::ManualStartWithPassiveTcpEstablishment);
        assert_eq!(fsm.state(), State::Active);
        assert!(!a.contains(&Action::Connect));
        let a = fsm.handle(Event::ConnectRetryTimerExpires);
        assert_eq!(fsm.state(), State::Connect);
        assert!(a.contains(&Action::Connect));
    }

    #[test]
    fn hold_timer_expiry_sends_notification_and_goes_idle() {
        let mut fsm = established(config());
        let a = fsm.handle(Event::HoldTimerExpires);
        assert_eq!(fsm.state(), State::Idle);
        assert_eq!(a[0], Action::SendNotification(n(4, 0)));
        assert_eq!(a[1], Action::DropConnection);
        assert!(a.contains(&Action::SessionDown {
            reason: DownReason::HoldTimerExpired
        }));
        // Damping: an automatic restart is scheduled.
        assert!(timer_started(&a, Timer::IdleHold).is_some());
        assert_eq!(
            fsm.running_timers().collect::<Vec<_>>(),
            vec![Timer::IdleHold]
        );
        let a = fsm.handle(Event::IdleHoldTimerExpires);
        assert_eq!(fsm.state(), State::Connect);
        assert!(a.contains(&Action::Connect));
    }

    #[test]
    fn hold_timer_in_open_sent() {
        let mut fsm = Fsm::new(config(), 1);
        fsm.handle(Event::ManualStart);
        fsm.handle(Event::TcpCrAcked);
        let a = fsm.handle(Event::HoldTimerExpires);
        assert_eq!(notification(&a), Some(&n(4, 0)));
        assert_eq!(fsm.state(), State::Idle);
        assert!(!a.iter().any(|a| matches!(a, Action::SessionDown { .. })));
    }

    fn open_error(o: Open) -> Notification {
        let mut fsm = Fsm::new(config(), 1);
        fsm.handle(Event::ManualStart);
        fsm.handle(Event::TcpCrAcked);
        let a = fsm.handle(Event::BgpOpen(o));
        assert_eq!(fsm.state(), State::Idle);
        let n = notification(&a).cloned().unwrap();
        assert!(matches!(
            fsm.last_error(),
            Some(DownReason::NotificationSent(_))
        ));
        n
    }

    #[test]
    fn open_errors_have_rfc_codes() {
        let n = open_error(Open {
            version: 3,
            ..open()
        });
        assert_eq!((n.code.to_wire(), n.data.to_vec()), ((2, 1), vec![0, 4]));
        let n = open_error(open_from(65001, 9, Ipv4Addr::new(198, 19, 0, 1), vec![]));
        assert_eq!(n.code.to_wire(), (2, 2));
        let n = open_error(Open {
            hold_time: 2,
            ..open()
        });
        assert_eq!(n.code.to_wire(), (2, 6));
        let n = open_error(Open {
            bgp_identifier: Ipv4Addr::UNSPECIFIED,
            ..open()
        });
        assert_eq!(n.code.to_wire(), (2, 3));
        // iBGP with our own identifier.
        let n = open_error(Open {
            bgp_identifier: Ipv4Addr::new(198, 19, 0, 4),
            ..open()
        });
        assert_eq!(n.code.to_wire(), (2, 3));
        // No shared family: Unsupported Capability listing our MP capability.
        let n = open_error(open_from(
            65000,
            9,
            Ipv4Addr::new(198, 19, 0, 1),
            vec![Capability::Multiprotocol(Family::IPV4_UNICAST)],
        ));
        assert_eq!(
            (n.code.to_wire(), n.data.to_vec()),
            ((2, 7), vec![1, 4, 0, 25, 0, 70])
        );
        // No MP capability at all means IPv4 unicast only.
        let n = open_error(open_from(65000, 9, Ipv4Addr::new(198, 19, 0, 1), vec![]));
        assert_eq!(n.code.to_wire(), (2, 7));
    }

    #[test]
    fn ebgp_may_share_our_identifier() {
        let cfg = FsmConfig {
            peer_asn: 65001,
            ..config()
        };
        let s = check_open(
            &Open::new(
                65001,
                0,
                Ipv4Addr::new(198, 19, 0, 4),
                vec![Capability::Multiprotocol(EVPN), Capability::RouteRefresh],
            ),
            &cfg,
        )
        .unwrap();
        assert!(!s.internal);
        assert_eq!((s.hold_time, s.keepalive), (0, 0));
        assert!(!s.extended_message && !s.four_octet_as);
    }

    #[test]
    fn zero_hold_time_runs_no_timers() {
        let mut fsm = Fsm::new(config(), 1);
        fsm.handle(Event::ManualStart);
        fsm.handle(Event::TcpCrAcked);
        fsm.handle(Event::BgpOpen(Open {
            hold_time: 0,
            ..open()
        }));
        assert_eq!(fsm.running_timers().count(), 0);
        fsm.handle(Event::KeepAliveMsg);
        assert_eq!(fsm.state(), State::Established);
        assert_eq!(
            fsm.running_timers().collect::<Vec<_>>(),
            vec![Timer::Stability]
        );
    }

    #[test]
    fn manual_stop_sends_cease_and_stays_down() {
        let mut fsm = established(config());
        let a = fsm.handle(Event::ManualStop);
        assert_eq!(notification(&a), Some(&cease(2)));
        assert_eq!(fsm.state(), State::Idle);
        assert_eq!(fsm.running_timers().count(), 0);
        assert!(fsm.handle(Event::AutomaticStart).is_empty());
        assert_eq!(fsm.state(), State::Idle);
        fsm.handle(Event::ManualStart);
        assert_eq!(fsm.state(), State::Connect);
    }

    #[test]
    fn unexpected_messages_are_fsm_errors() {
        let mut fsm = Fsm::new(config(), 1);
        fsm.handle(Event::ManualStart);
        fsm.handle(Event::TcpCrAcked);
        let a = fsm.handle(Event::UpdateMsg);
        assert_eq!(notification(&a), Some(&n(5, 1)));

        let mut fsm = Fsm::new(config(), 1);
        fsm.handle(Event::ManualStart);
        fsm.handle(Event::TcpCrAcked);
        fsm.handle(Event::BgpOpen(open()));
        let a = fsm.handle(Event::UpdateMsg);
        assert_eq!(notification(&a), Some(&n(5, 2)));

        let mut fsm = established(config());
        let a = fsm.handle(Event::BgpOpen(open()));
        assert_eq!(notification(&a), Some(&n(5, 3)));
    }

    #[test]
    fn collision_dump_sends_cease_7() {
        let mut fsm = Fsm::new(config(), 1);
        fsm.handle(Event::ManualStart);
        fsm.handle(Event::TcpCrAcked);
        fsm.handle(Event::BgpOpen(open()));
        let a = fsm.handle(Event::OpenCollisionDump);
        assert_eq!(notification(&a), Some(&cease(7)));
        assert_eq!(fsm.last_error(), Some(&DownReason::ConnectionCollision));
    }

    #[test]
    fn received_notification_is_not_answered() {
        let mut fsm = established(config());
        let a = fsm.handle(Event::NotifMsg(cease(2)));
        assert!(notification(&a).is_none());
        assert!(a.contains(&Action::DropConnection));
        assert_eq!(
            fsm.last_error().map(|r| r.to_string()),
            Some("received NOTIFICATION Cease/Administrative Shutdown (6/2)".into())
        );
    }

    #[test]
    fn stale_timer_events_are_ignored() {
        let mut fsm = established(config());
        fsm.handle(Event::ManualStop);
        assert!(fsm.handle(Event::HoldTimerExpires).is_empty());
        assert!(fsm.handle(Event::ConnectRetryTimerExpires).is_empty());
        assert_eq!(fsm.state(), State::Idle);
    }

    #[test]
    fn tcp_failure_in_open_sent_goes_active() {
        let mut fsm = Fsm::new(config(), 1);
        fsm.handle(Event::ManualStart);
        fsm.handle(Event::TcpCrAcked);
        let a = fsm.handle(Event::TcpConnectionFails);
        assert_eq!(fsm.state(), State::Active);
        assert_eq!(a[0], Action::DropConnection);
        assert!(timer_started(&a, Timer::ConnectRetry).is_some());
    }

    #[test]
    fn backoff_grows_jitters_and_caps() {
        let b = Backoff {
            base: secs(2),
            cap: secs(60),
        };
        assert_eq!(b.delay(0, u32::MAX), Duration::from_nanos(1_999_999_999));
        assert_eq!(b.delay(0, 0), Duration::from_millis(1500));
        assert_eq!(b.delay(3, 0), secs(12));
        assert_eq!(b.delay(10, 0), secs(45));
        assert_eq!(b.delay(u32::MAX, 0), secs(45));
        assert!(b.delay(100, u32::MAX) < secs(60));
    }

    #[test]
    fn refused_connections_are_retried_every_connect_retry_time() {
        // As FsmConfig::from_config sets it: one ConnectRetryTime, jittered.
        let mut c = config();
        c.connect_backoff.cap = c.connect_backoff.base;
        let mut fsm = Fsm::new(c, 3);
        let a = fsm.handle(Event::ManualStart);
        let first = timer_started(&a, Timer::ConnectRetry).unwrap();
        for _ in 0..8 {
            // Refused at once: wait in Active for the running timer, then
            // connect again, with no growing delay and no damping.
            let a = fsm.handle(Event::TcpConnectionFails);
            assert_eq!(fsm.state(), State::Active);
            assert!(timer_started(&a, Timer::IdleHold).is_none());
            let a = fsm.handle(Event::ConnectRetryTimerExpires);
            assert!(a.contains(&Action::Connect));
            assert_eq!(fsm.state(), State::Connect);
            let next = timer_started(&a, Timer::ConnectRetry).unwrap();
            assert!(next <= first * 4 / 3 && next >= first * 3 / 4, "{next:?}");
        }
        assert_eq!(fsm.failures(), 0);
        assert_eq!(fsm.last_error(), Some(&DownReason::TcpConnectionFailed));
    }

    #[test]
    fn failing_peer_is_damped_then_forgiven() {
        let mut fsm = Fsm::new(config(), 3);
        fsm.handle(Event::ManualStart);
        let mut delays = Vec::new();
        for _ in 0..8 {
            // A peer that accepts the connection and never answers the OPEN.
            fsm.handle(Event::TcpCrAcked);
            let a = fsm.handle(Event::HoldTimerExpires);
            delays.push(timer_started(&a, Timer::IdleHold).unwrap());
            fsm.handle(Event::IdleHoldTimerExpires);
        }
        assert_eq!(fsm.failures(), 8);
        // Monotone up to the cap (jitter is within a factor 0.75).
        assert!(delays[0] <= secs(1));
        assert!(delays[3] >= secs(6));
        assert!(delays[7] >= secs(45) && delays[7] < secs(60), "{delays:?}");
        // A session that stays up resets the count.
        fsm.handle(Event::TcpCrAcked);
        fsm.handle(Event::BgpOpen(open()));
        fsm.handle(Event::KeepAliveMsg);
        assert_eq!(fsm.failures(), 8);
        fsm.handle(Event::StabilityTimerExpires);
        assert_eq!(fsm.failures(), 0);
        let a = fsm.handle(Event::HoldTimerExpires);
        assert!(timer_started(&a, Timer::IdleHold).unwrap() <= secs(1));
    }

    #[test]
    fn connect_retry_backs_off() {
        let mut fsm = Fsm::new(config(), 3);
        fsm.handle(Event::ManualStart);
        let mut last = Duration::ZERO;
        for _ in 0..4 {
            let a = fsm.handle(Event::ConnectRetryTimerExpires);
            assert_eq!(a[0], Action::DropConnection);
            assert!(a.contains(&Action::Connect));
            last = timer_started(&a, Timer::ConnectRetry).unwrap();
        }
        assert!(last >= secs(90) && last <= secs(120), "{last:?}");
    }

    // ---- property tests -------------------------------------------------

    fn arb_notification() -> impl Strategy<Value = Notification> {
        (
            1u8..=6,
            0u8..=8,
            proptest::collection::vec(any::<u8>(), 0..4),
        )
            .prop_map(|(code, subcode, data)| {
                Notification::new(ErrorCode::from_wire(code, subcode), data)
            })
    }

    fn arb_open() -> impl Strategy<Value = Open> {
        (
            prop_oneof![Just(4u8), any::<u8>()],
            prop_oneof![Just(65000u32), any::<u32>()],
            prop_oneof![Just(90u16), Just(0u16), any::<u16>()],
            prop_oneof![Just(0x0101_0101u32), any::<u32>()],
            prop_oneof![
                Just(vec![(25, 70)]),
                proptest::collection::vec((any::<u16>(), any::<u8>()), 0..3)
            ],
            any::<(bool, bool, bool, bool)>(),
        )
            .prop_map(
                |(version, asn, hold_time, id, families, (f, rr, err, ext))| {
                    let mut caps: Vec<Capability> = families
                        .into_iter()
                        .map(|(afi, safi)| {
                            Capability::Multiprotocol(Family::new(Afi(afi), Safi(safi)))
                        })
                        .collect();
                    if f {
                        caps.push(Capability::FourOctetAs(asn));
                    }
                    if rr {
                        caps.push(Capability::RouteRefresh);
                    }
                    if err {
                        caps.push(Capability::EnhancedRouteRefresh);
                    }
                    if ext {
                        caps.push(Capability::ExtendedMessage);
                    }
                    Open {
                        version,
                        ..Open::new(asn, hold_time, Ipv4Addr::from(id), caps)
                    }
                },
            )
    }

    fn arb_event() -> impl Strategy<Value = Event> {
        prop_oneof![
            Just(Event::ManualStart),
            Just(Event::ManualStop),
            Just(Event::AutomaticStart),
            Just(Event::ManualStartWithPassiveTcpEstablishment),
            Just(Event::AutomaticStartWithPassiveTcpEstablishment),
            (0u8..9).prop_map(|s| Event::AutomaticStop {
                cease_subcode: CeaseSubcode::from_u8(s)
            }),
            Just(Event::ConnectRetryTimerExpires),
            Just(Event::HoldTimerExpires),
            Just(Event::KeepaliveTimerExpires),
            Just(Event::IdleHoldTimerExpires),
            Just(Event::TcpConnectionValid),
            Just(Event::TcpCrInvalid),
            Just(Event::TcpCrAcked),
            Just(Event::TcpConnectionConfirmed),
            Just(Event::TcpConnectionFails),
            arb_open().prop_map(Event::BgpOpen),
            arb_notification().prop_map(Event::BgpHeaderErr),
            arb_notification().prop_map(Event::BgpOpenMsgErr),
            Just(Event::OpenCollisionDump),
            Just(Event::NotifMsgVerErr),
            arb_notification().prop_map(Event::NotifMsg),
            Just(Event::KeepAliveMsg),
            Just(Event::UpdateMsg),
            arb_notification().prop_map(Event::UpdateMsgErr),
            Just(Event::StabilityTimerExpires),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn random_event_sequences_keep_invariants(
            passive in any::<bool>(),
            seed in any::<u64>(),
            events in proptest::collection::vec(arb_event(), 0..60),
        ) {
            let cfg = FsmConfig { passive, ..config() };
            let mut fsm = Fsm::new(cfg, seed);
            // The shell's view of the timers, rebuilt from the actions alone.
            let mut shell_timers = BTreeSet::new();
            for event in events {
                let before = fsm.state();
                let timer_event = event.timer();
                let actions = fsm.handle(event);
                if let Some(t) = timer_event && shell_timers.contains(&t) {
                    shell_timers.remove(&t);
                }
                for (i, a) in actions.iter().enumerate() {
                    match a {
                        Action::StartTimer { timer, after } => {
                            shell_timers.insert(*timer);
                            if *timer != Timer::IdleHold && *timer != Timer::ConnectRetry {
                                prop_assert!(*after > Duration::ZERO, "{a:?}");
                            }
                        }
                        Action::StopTimer(t) => { shell_timers.remove(t); }
                        // Every NOTIFICATION is followed by closing the connection.
                        Action::SendNotification(_) => prop_assert!(
                            actions[i + 1..].contains(&Action::DropConnection),
                            "{actions:?}"
                        ),
                        Action::Established(s) => {
                            prop_assert_eq!(before, State::OpenConfirm);
                            prop_assert!(s.hold_time == 0 || s.hold_time >= 3);
                            prop_assert!(s.hold_time == 0 || s.keepalive >= 1 && s.keepalive <= s.hold_time / 3);
                            prop_assert!(!s.families.is_empty());
                        }
                        Action::SessionDown { .. } => {
                            prop_assert_eq!(before, State::Established);
                            prop_assert_eq!(fsm.state(), State::Idle);
                        }
                        Action::Connect => prop_assert!(!passive),
                        _ => {}
                    }
                }
                let now: BTreeSet<Timer> = fsm.running_timers().collect();
                prop_assert_eq!(&now, &shell_timers);
                if actions.contains(&Action::DropConnection) {
                    prop_assert!(matches!(fsm.state(), State::Idle | State::Active | State::Connect),
                        "{:?} after {actions:?}", fsm.state());
                }
                match fsm.state() {
                    State::Idle => prop_assert!(now.iter().all(|t| matches!(t, Timer::IdleHold | Timer::ConnectRetry)), "{now:?}"),
                    State::Established | State::OpenConfirm => {
                        let s = fsm.negotiated();
                        prop_assert!(s.is_some());
                        let hold = s.map(|s| s.hold_time).unwrap_or_default();
                        prop_assert_eq!(now.contains(&Timer::Hold), hold > 0);
                    }
                    _ => prop_assert!(fsm.negotiated().is_none()),
                }
                if fsm.state() != State::Established {
                    prop_assert!(!now.contains(&Timer::Stability));
                }
                if passive {
                    prop_assert!(!now.contains(&Timer::ConnectRetry));
                }
            }
        }
    }
}
