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
//! - Connection collision detection (RFC 4271 section 6.8) runs outside the
//!   FSM: `collision.rs` decides, and the shell, which has both connections,
//!   carries it out. It tells the losing connection's FSM with
//!   OpenCollisionDump (Event 23).
//!
//! Every received OPEN is checked by `open_check::check_open` (RFC 4271
//! section 6.2), which also negotiates the session; one that fails is
//! BGPOpenMsgErr (Event 22) in whatever state it arrives (section 8.1.2).
//!
//! Layout: `events.rs` has the states, events, actions and down reasons;
//! `timers.rs` the timers and their backoff; this file the configuration and
//! the transitions of RFC 4271 section 8.2.2, one method per state;
//! `tests.rs` the unit and property tests.

mod events;
#[cfg(test)]
mod tests;
pub(in crate::session) mod timers;

pub use events::{Action, DownReason, Event, State, describe};
pub use timers::{Backoff, OPEN_HOLD_TIME, Timer};

pub use super::config::FsmConfig;
use super::open_check::{NegotiatedSession, check_open};
use events::notification;
use evpnd_wire::notification::{CeaseSubcode, ErrorCode, FsmSubcode, Notification, OpenSubcode};
use std::collections::BTreeSet;
use std::time::Duration;

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

    /// An FSM in Established on a TCP connection another evpnd process
    /// handed over (ADR 0010, `evpnd upgrade`): the OPEN exchange happened
    /// there, `sent` is the OPEN it sent and `received` the peer's, checked
    /// and negotiated again exactly as then (RFC 4271 section 6.2), so both
    /// sides keep the parameters they agreed on. The actions start the
    /// timers as entering Established does (section 8.2.2, OpenConfirm on
    /// KEEPALIVE) and send a KEEPALIVE at once, which restarts the peer's
    /// hold timer.
    pub fn resume(
        config: FsmConfig,
        seed: u64,
        sent: &evpnd_wire::open::Open,
        received: &evpnd_wire::open::Open,
    ) -> Result<(Self, Vec<Action>), Notification> {
        let as_sent = FsmConfig {
            local_open: sent.clone(),
            ..config.clone()
        };
        let session = check_open(received, &as_sent)?;
        let mut fsm = Self::new(config, seed);
        let mut out = Vec::new();
        fsm.state = State::Established;
        fsm.negotiated = Some(session.clone());
        fsm.restart_keepalive(&mut out);
        fsm.restart_hold(&mut out);
        out.push(Action::Established(session));
        let stable = fsm.config.stable_after;
        fsm.start_timer(&mut out, Timer::Stability, stable);
        Ok((fsm, out))
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
        if event == Event::ManualReset {
            self.reset(&mut out);
            return out;
        }
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

    /// [`Event::ManualReset`]: end what is in progress (with Cease /
    /// Administrative Reset once the peer has our OPEN), forget failures and
    /// stops, start again now.
    fn reset(&mut self, out: &mut Vec<Action>) {
        let notify = matches!(
            self.state,
            State::OpenSent | State::OpenConfirm | State::Established
        )
        .then(|| Notification::cease(CeaseSubcode::AdministrativeReset));
        // No damping timer from enter_idle: the start below replaces it.
        self.admin_down = true;
        if self.state != State::Idle {
            self.enter_idle(out, DownReason::ManualReset, notify, false);
        }
        self.stop_timer(out, Timer::IdleHold);
        self.failures = 0;
        self.connect_attempts = 0;
        self.admin_down = false;
        let passive = self.passive_start;
        self.start(passive, out);
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
            // About a session that has ended already.
            Event::PrefixLimitExceeded { .. } => {}
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
            Event::PrefixLimitExceeded {
                notification,
                restart_after,
            } => {
                // Not a failure to damp: no damping delay from enter_idle,
                // but the configured interval, or a stop until someone
                // starts the session again.
                self.admin_down = true;
                self.enter_idle(
                    out,
                    DownReason::NotificationSent(notification.clone()),
                    Some(notification),
                    false,
                );
                if let Some(after) = restart_after {
                    self.admin_down = false;
                    self.start_timer(out, Timer::IdleHold, after);
                }
            }
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
