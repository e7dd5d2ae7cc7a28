//! The pure BGP FSM (crates/evpnd-core/src/session/fsm) driven by event
//! sequences taken from the fuzz bytes, through a model of the tokio shell
//! (src/session/peer.rs): administrative starts, stops and resets, timers
//! firing (also ones already stopped: the shell's stop/fire race), TCP
//! connections offered, completing and failing, and bytes received from
//! the peer (OPENs, KEEPALIVEs, NOTIFICATIONs, UPDATEs built from the input
//! and optionally corrupted, or raw bytes) framed and decoded as the shell
//! does, each message becoming the event the shell would give the FSM.
//!
//! Beyond "no panic", after every event the model checks what RFC 4271
//! section 8 and evpnd's own rules promise:
//! - the FSM holds a connection exactly in OpenSent, OpenConfirm and
//!   Established, sends nothing without one, one OPEN per connection, a
//!   KEEPALIVE only after our OPEN, and closes after every NOTIFICATION;
//! - Established is only reached from OpenConfirm on a KEEPALIVE, after our
//!   OPEN went out and the peer's OPEN passed `check_open` on the same
//!   connection, with exactly the session `check_open` negotiates;
//!   SessionDown only when leaving Established, for Idle (a reset starts
//!   again at once);
//! - the timers the FSM believes running are the ones its actions started
//!   and did not stop, and each runs only in its states (Hold in OpenSent
//!   and, with a hold time, later; Keepalive with a hold time; Stability in
//!   Established; no ConnectRetry for a passive peer; only IdleHold in
//!   Idle), with the delays configured or negotiated;
//! - after a ManualStop (or a prefix limit without restart) the FSM stays in
//!   Idle, runs no timer and connects nowhere until started or reset.
//!
//! Input: an 8-byte configuration header, then operations of one opcode
//! byte and their arguments (the `match` in `fuzz_target!`);
//! fuzz/make_seeds.py writes its seeds in the same layout.
#![no_main]

use bytes::{Bytes, BytesMut};
use evpnd_core::rib::ingress::{LocalIdentity, ingress_update};
use evpnd_core::session::fsm::OPEN_HOLD_TIME;
use evpnd_core::session::{Action, Backoff, Event, Fsm, FsmConfig, State, Timer, check_open};
use evpnd_wire::Family;
use evpnd_wire::capability::{AddPathFamily, Capability};
use evpnd_wire::header::frame;
use evpnd_wire::message::{DecodeOptions, Message, MessageError};
use evpnd_wire::notification::{CeaseSubcode, ErrorCode, Notification};
use evpnd_wire::open::Open;
use evpnd_wire::rfc7606::{ErrorAction, classify};
use evpnd_wire::update::Update;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::Duration;

const LOCAL_ASN: u32 = 65000;
const LOCAL_ID: Ipv4Addr = Ipv4Addr::new(198, 19, 0, 4);
const EVPN: Family = Family::L2VPN_EVPN;

/// Reads the input front to back; past the end every byte is 0.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

fn pick<T: Copy>(choices: &[T], b: u8) -> T {
    choices[usize::from(b) % choices.len()]
}

/// Hold times worth trying: 0 (no keepalives), the illegal 1 and 2, the
/// minimum 3, FRR's 9, the usual 90/180 and the maximum.
const HOLD_TIMES: [u16; 8] = [0, 1, 2, 3, 9, 90, 180, 65535];

fn config(input: &mut Input) -> (FsmConfig, u64) {
    let flags = input.byte();
    // Flags: bit 0 passive, 1 Extended Message, 2 ADD-PATH, 3-4 the peer's
    // AS, 5 a hold time (else 0).
    let hold_choice = input.byte();
    let hold = if flags & 0x20 != 0 {
        pick(&HOLD_TIMES[3..], hold_choice)
    } else {
        0
    };
    let keepalive = u16::from(input.byte());
    let backoff = input.byte();
    let seed = u64::from(u32::from_be_bytes([
        input.byte(),
        input.byte(),
        input.byte(),
        input.byte(),
    ]));
    let mut caps = vec![
        Capability::Multiprotocol(EVPN),
        Capability::RouteRefresh,
        Capability::FourOctetAs(LOCAL_ASN),
    ];
    if flags & 2 != 0 {
        caps.push(Capability::ExtendedMessage);
    }
    if flags & 4 != 0 {
        caps.push(Capability::AddPath(vec![AddPathFamily {
            family: EVPN,
            send_receive: 3,
        }]));
    }
    let secs = Duration::from_secs;
    let cfg = FsmConfig {
        local_open: Open::new(LOCAL_ASN, hold, LOCAL_ID, caps),
        // iBGP (the reflector's clients), eBGP with a 2- or 4-octet AS.
        peer_asn: pick(&[LOCAL_ASN, 65001, 4_200_000_001], (flags >> 3) & 3),
        keepalive,
        passive: flags & 1 != 0,
        connect_backoff: Backoff {
            base: pick(&[secs(1), secs(30)], backoff),
            cap: pick(&[secs(30), secs(120)], backoff >> 1),
        },
        idle_backoff: Backoff {
            base: pick(&[secs(1), secs(5)], backoff >> 2),
            cap: secs(60),
        },
        stable_after: secs(60),
    };
    (cfg, seed)
}

/// The shell's side of one peer, as src/session/peer.rs keeps it.
struct Shell {
    fsm: Fsm,
    cfg: FsmConfig,
    /// The FSM's TCP connection is up.
    conn: bool,
    /// An outgoing connection attempt (Action::Connect) is pending.
    connecting: bool,
    /// Bytes received on the connection, not framed yet.
    buf: BytesMut,
    rx_opts: DecodeOptions,
    /// On this connection: our OPEN went out, the peer's OPEN passed.
    sent_open: bool,
    received_open: Option<Open>,
    /// Timers as the shell sees them, from the actions alone.
    timers: BTreeSet<Timer>,
    /// ManualStop or a prefix limit without restart, not undone since.
    stopped: bool,
}

impl Shell {
    fn step(&mut self, event: Event) {
        let before = self.fsm.state();
        if let Some(t) = event.timer() {
            // The shell forgets a timer once it fires.
            self.timers.remove(&t);
        }
        let offered = matches!(event, Event::TcpCrAcked | Event::TcpConnectionConfirmed);
        let key = format!("{event:?}");
        match &event {
            Event::ManualStop => self.stopped = true,
            Event::ManualStart
            | Event::ManualStartWithPassiveTcpEstablishment
            | Event::ManualReset => self.stopped = false,
            Event::PrefixLimitExceeded { restart_after, .. }
                if matches!(
                    before,
                    State::OpenSent | State::OpenConfirm | State::Established
                ) =>
            {
                self.stopped = restart_after.is_none()
            }
            _ => {}
        }
        let peer_open = match &event {
            Event::BgpOpen(open) => Some(open.clone()),
            _ => None,
        };
        let keepalive = event == Event::KeepAliveMsg;
        let actions = self.fsm.handle(event);
        let after = self.fsm.state();
        let ctx = || format!("{key} in {before:?} -> {after:?}: {actions:?}");

        if offered && before == State::Idle {
            // RFC 4271 8.2.2 Idle: the offered connection is refused.
            assert_eq!(actions, [Action::DropConnection], "{}", ctx());
            return;
        }
        if offered && matches!(before, State::Connect | State::Active) {
            // The shell hands the new connection to the FSM, dropping its
            // own attempt.
            self.conn = true;
            self.connecting = false;
        }
        for (i, action) in actions.iter().enumerate() {
            match action {
                Action::Connect => {
                    assert!(!self.cfg.passive, "a passive peer connected: {}", ctx());
                    assert!(!self.conn && !self.connecting, "{}", ctx());
                    self.connecting = true;
                }
                Action::DropConnection => self.drop_connection(),
                Action::SendOpen => {
                    assert!(self.conn && !self.sent_open, "{}", ctx());
                    self.sent_open = true;
                }
                Action::SendKeepalive => assert!(self.conn && self.sent_open, "{}", ctx()),
                Action::SendNotification(_) => {
                    assert!(self.conn, "NOTIFICATION without a connection: {}", ctx());
                    assert!(
                        actions[i + 1..].contains(&Action::DropConnection),
                        "{}",
                        ctx()
                    );
                }
                Action::StartTimer {
                    timer,
                    after: delay,
                } => {
                    self.timers.insert(*timer);
                    self.check_delay(*timer, *delay, &key, after);
                }
                Action::StopTimer(t) => {
                    assert!(
                        self.timers.remove(t),
                        "stopped a timer not running: {}",
                        ctx()
                    );
                }
                Action::Established(session) => {
                    assert_eq!(before, State::OpenConfirm, "{}", ctx());
                    assert!(keepalive && self.sent_open, "{}", ctx());
                    let open = self
                        .received_open
                        .as_ref()
                        .expect("Established without the peer's OPEN");
                    assert_eq!(
                        Ok(session),
                        check_open(open, &self.cfg).as_ref(),
                        "{}",
                        ctx()
                    );
                }
                Action::SessionDown { .. } => {
                    // Down to Idle; a reset starts again within the event.
                    assert_eq!(before, State::Established, "{}", ctx());
                    assert!(after == State::Idle || key == "ManualReset", "{}", ctx());
                }
            }
        }
        assert_eq!(
            actions.iter().any(|a| matches!(a, Action::Established(_))),
            before != State::Established && after == State::Established,
            "{}",
            ctx()
        );
        if before == State::OpenSent && after == State::OpenConfirm {
            let open = peer_open.expect("OpenConfirm without an OPEN");
            assert!(check_open(&open, &self.cfg).is_ok(), "{}", ctx());
            self.received_open = Some(open);
        }
        self.check_state(&ctx);
    }

    fn drop_connection(&mut self) {
        self.conn = false;
        self.connecting = false;
        self.buf.clear();
        self.rx_opts = DecodeOptions::default();
        self.sent_open = false;
        self.received_open = None;
    }

    fn check_delay(&self, timer: Timer, delay: Duration, event: &str, state: State) {
        let hold = self.fsm.negotiated().map(|s| s.hold_time);
        match timer {
            Timer::ConnectRetry => {
                let b = self.cfg.connect_backoff;
                assert!(
                    delay <= b.cap && delay >= b.base.min(b.cap) * 3 / 4,
                    "{delay:?} after {event}"
                );
            }
            // A prefix limit restarts after its own interval.
            Timer::IdleHold if !event.starts_with("PrefixLimitExceeded") => {
                let b = self.cfg.idle_backoff;
                assert!(
                    delay <= b.cap && delay >= b.base.min(b.cap) * 3 / 4,
                    "{delay:?} after {event}"
                );
            }
            Timer::IdleHold => {}
            Timer::Hold if state == State::OpenSent => assert_eq!(delay, OPEN_HOLD_TIME),
            Timer::Hold => assert_eq!(Some(delay.as_secs()), hold.map(u64::from)),
            Timer::Keepalive => {
                let s = self.fsm.negotiated().expect("keepalives without a session");
                assert!(s.keepalive >= 1 && s.keepalive <= s.hold_time / 3, "{s:?}");
                assert_eq!(delay.as_secs(), u64::from(s.keepalive));
            }
            Timer::Stability => assert_eq!(delay, self.cfg.stable_after),
        }
    }

    fn check_state(&self, ctx: &dyn Fn() -> String) {
        let state = self.fsm.state();
        let running: BTreeSet<Timer> = self.fsm.running_timers().collect();
        assert_eq!(running, self.timers, "{}", ctx());
        let synchronized = matches!(
            state,
            State::OpenSent | State::OpenConfirm | State::Established
        );
        assert_eq!(self.conn, synchronized, "connection model: {}", ctx());
        if self.cfg.passive {
            assert!(!running.contains(&Timer::ConnectRetry), "{}", ctx());
        }
        if state != State::Established {
            assert!(!running.contains(&Timer::Stability), "{}", ctx());
        }
        match state {
            State::Idle => assert!(running.iter().all(|t| *t == Timer::IdleHold), "{}", ctx()),
            State::Connect | State::Active => assert!(self.fsm.negotiated().is_none()),
            State::OpenSent => {
                assert!(self.fsm.negotiated().is_none());
                assert!(running.contains(&Timer::Hold), "{}", ctx());
            }
            State::OpenConfirm | State::Established => {
                let session = self.fsm.negotiated().expect("a negotiated session");
                let open = self.received_open.as_ref().expect("the peer's OPEN");
                assert_eq!(Ok(session), check_open(open, &self.cfg).as_ref());
                assert_eq!(
                    running.contains(&Timer::Hold),
                    session.hold_time > 0,
                    "{}",
                    ctx()
                );
                assert_eq!(
                    running.contains(&Timer::Keepalive),
                    session.hold_time > 0,
                    "{}",
                    ctx()
                );
            }
        }
        if self.stopped {
            assert_eq!(state, State::Idle, "{}", ctx());
            assert!(running.is_empty(), "a stopped FSM runs timers: {}", ctx());
        }
    }

    /// What the shell does with bytes read from the connection
    /// (peer.rs `process_buffered` and `message`).
    fn receive(&mut self, bytes: &[u8]) {
        if !self.conn {
            return;
        }
        self.buf.extend_from_slice(bytes);
        while self.conn {
            let len = match frame(&self.buf, self.rx_opts.max_message_len) {
                Ok(Some(len)) => len,
                Ok(None) => return,
                Err(e) => return self.step(Event::BgpHeaderErr(e.notification())),
            };
            let message = self.buf.split_to(len).freeze();
            self.message(&message);
        }
    }

    fn message(&mut self, bytes: &[u8]) {
        let (message, problems) = match Message::decode_lenient(bytes, &self.rx_opts) {
            Ok(decoded) => decoded,
            Err(error) => {
                let event = match (&error, error.notification()) {
                    (MessageError::Header(_) | MessageError::Framing(_), Some(n)) => {
                        Event::BgpHeaderErr(n)
                    }
                    (MessageError::Open(_), Some(n)) => Event::BgpOpenMsgErr(n),
                    (_, Some(n)) => Event::UpdateMsgErr(n),
                    (_, None) => Event::TcpConnectionFails,
                };
                return self.step(event);
            }
        };
        match message {
            Message::Open(open) => {
                self.step(Event::BgpOpen(open));
                if let Some(session) = self.fsm.negotiated() {
                    self.rx_opts = session.receive.clone();
                }
            }
            Message::Keepalive => self.step(Event::KeepAliveMsg),
            Message::Notification(n) => self.step(Event::NotifMsg(n)),
            Message::RouteRefresh(_) => {}
            Message::Update(update) => {
                let action = classify(&problems);
                if let ErrorAction::SessionReset(n) = action {
                    return self.step(Event::UpdateMsgErr(n));
                }
                self.step(Event::UpdateMsg);
                if self.fsm.state() != State::Established {
                    return;
                }
                let local = LocalIdentity {
                    asn: LOCAL_ASN,
                    router_id: LOCAL_ID,
                    cluster_id: LOCAL_ID,
                };
                let external = !self.cfg.is_internal();
                if let Err(malformed) = ingress_update(&update, &action, &local, external, EVPN) {
                    self.step(Event::UpdateMsgErr(malformed.notification));
                }
            }
        }
    }

    /// A message the peer sends, encoded as the peer would, then maybe
    /// corrupted: one octet XORed (zero: left intact).
    fn peer_sends(&mut self, message: Message, input: &mut Input) {
        let corrupt_at = usize::from(input.byte());
        let xor = input.byte();
        let Ok(bytes) = message.to_bytes(&self.rx_opts) else {
            return;
        };
        let mut bytes = bytes.to_vec();
        if xor != 0 && !bytes.is_empty() {
            let i = corrupt_at % bytes.len();
            bytes[i] ^= xor;
        }
        self.receive(&bytes);
    }
}

/// The peer's OPEN: AS, BGP Identifier, Hold Time and capabilities from
/// three bytes, so that most are acceptable and some are not.
fn peer_open(cfg: &FsmConfig, input: &mut Input) -> Open {
    let (who, hold, caps_mask) = (input.byte(), input.byte(), input.byte());
    let asn = pick(
        &[cfg.peer_asn, cfg.peer_asn, 65002, LOCAL_ASN, 4_200_000_001],
        who,
    );
    // Our own identifier is refused for an iBGP peer (RFC 4271 6.2), 0 always.
    let id = pick(
        &[
            Ipv4Addr::new(198, 19, 0, 1),
            Ipv4Addr::new(198, 19, 0, 1),
            LOCAL_ID,
            Ipv4Addr::UNSPECIFIED,
        ],
        who >> 4,
    );
    let mut caps = Vec::new();
    let all = [
        Capability::FourOctetAs(asn),
        Capability::Multiprotocol(EVPN),
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::RouteRefresh,
        Capability::EnhancedRouteRefresh,
        Capability::ExtendedMessage,
        Capability::AddPath(vec![AddPathFamily {
            family: EVPN,
            send_receive: 3,
        }]),
    ];
    // Bits 0 and 1 on by default (inverted), so the usual OPEN is valid.
    let mask = caps_mask ^ 0b11;
    for (bit, cap) in all.into_iter().enumerate() {
        if mask & (1 << bit) != 0 {
            caps.push(cap);
        }
    }
    Open::new(asn, pick(&HOLD_TIMES, hold), id, caps)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let (cfg, seed) = config(&mut input);
    let mut shell = Shell {
        fsm: Fsm::new(cfg.clone(), seed),
        cfg,
        conn: false,
        connecting: false,
        buf: BytesMut::new(),
        rx_opts: DecodeOptions::default(),
        sent_open: false,
        received_open: None,
        timers: BTreeSet::new(),
        stopped: false,
    };
    // Bounded: a long input is many events, not a slow one.
    for _ in 0..512 {
        if input.0.is_empty() {
            break;
        }
        let op = input.byte() % 24;
        let event = match op {
            0 => Event::ManualStart,
            1 => Event::ManualStop,
            2 => Event::AutomaticStart,
            3 => Event::ManualStartWithPassiveTcpEstablishment,
            4 => Event::AutomaticStartWithPassiveTcpEstablishment,
            5 => Event::AutomaticStop {
                cease_subcode: CeaseSubcode::from_u8(input.byte()),
            },
            6 => Event::ManualReset,
            7 => {
                let restart = input.byte();
                Event::PrefixLimitExceeded {
                    notification: Notification::new(
                        ErrorCode::Cease(CeaseSubcode::from_u8(1)),
                        Bytes::copy_from_slice(&[0, 25, 70, 0, 0, 0, 10]),
                    ),
                    restart_after: (restart != 0).then(|| Duration::from_secs(u64::from(restart))),
                }
            }
            // Timers fire whether or not the FSM still runs them.
            8 => Event::ConnectRetryTimerExpires,
            9 => Event::HoldTimerExpires,
            10 => Event::KeepaliveTimerExpires,
            11 => Event::IdleHoldTimerExpires,
            12 => Event::StabilityTimerExpires,
            // An incoming connection may arrive in any state.
            13 => Event::TcpConnectionConfirmed,
            14 if shell.connecting => Event::TcpCrAcked,
            15 => Event::TcpConnectionValid,
            16 => Event::TcpCrInvalid,
            17 if shell.conn || shell.connecting => Event::TcpConnectionFails,
            // The shell resolved a collision against this connection.
            18 if shell.conn => Event::OpenCollisionDump,
            19 => {
                let open = peer_open(&shell.cfg, &mut input);
                shell.peer_sends(Message::Open(open), &mut input);
                continue;
            }
            20 => {
                shell.peer_sends(Message::Keepalive, &mut input);
                continue;
            }
            21 => {
                let (code, subcode, len) = (input.byte(), input.byte(), input.byte() % 16);
                let data = Bytes::copy_from_slice(input.take(usize::from(len)));
                let n = Notification::new(ErrorCode::from_wire(code, subcode), data);
                shell.peer_sends(Message::Notification(n), &mut input);
                continue;
            }
            22 => {
                let family = pick(&[EVPN, Family::IPV4_UNICAST], input.byte());
                shell.peer_sends(Message::Update(Update::end_of_rib(family)), &mut input);
                continue;
            }
            23 => {
                // Raw bytes from the peer, e.g. messages from a capture;
                // they may end or start in the middle of a message.
                let len = usize::from(input.u16() % 8192);
                let bytes = input.take(len);
                shell.receive(bytes);
                continue;
            }
            _ => continue,
        };
        shell.step(event);
    }
});
