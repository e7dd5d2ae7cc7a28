//! The per-peer session task: the tokio shell around the pure [`Fsm`].
//!
//! It turns TCP and timer happenings into FSM events, carries out the FSM's
//! actions, frames and decodes what the peer sends, and hands UPDATEs to the
//! RIB task. Writing happens in a separate task fed by a queue (the same
//! queue the RIB task sends this peer's UPDATEs to), so a peer that is slow
//! to read never stops us from reading it, and the session's own KEEPALIVEs
//! and NOTIFICATIONs stay in order with the UPDATEs.

use super::conn::{CLOSE_GRACE, Conn, READ_CHUNK};
pub use super::counters::MessageCounters;
use super::handover::{HandedOver, HandedRtc, Resumed};
use super::spec::PeerSpec;
use super::status::{Damping, PeerControl, PeerInbox, PeerStatus};
use crate::config::MaxPrefixAction;

mod connect;
mod resume;
mod rtc;
use crate::rib_task::RibRequest;
use bytes::Bytes;
use evpnd_core::rib::adj_out::OutGroupKey;
use evpnd_core::rib::engine::{GracefulPeer, RibInput};
use evpnd_core::rib::ingress::{Ignored, ingress_update, restored};
use evpnd_core::rib::peer::{PeerInfo, PeerKind};
use evpnd_core::rib::prefix_limit::{PrefixAlert, PrefixLimit};
use evpnd_core::rib::rt_filter::PeerRtMembership;
use evpnd_core::session::collision::{self, Inbound, Initiator, Outbound};
use evpnd_core::session::fsm::{Action, DownReason, Event, Fsm, State, Timer};
use evpnd_core::session::graceful_restart;
use evpnd_core::session::open_check::NegotiatedSession;
use evpnd_core::session::rt_constraint;
use evpnd_wire::Family;
use evpnd_wire::capability::GracefulRestart;
use evpnd_wire::header::{self, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN};
use evpnd_wire::message::{DecodeOptions, EncodeOptions, Message, MessageError};
use evpnd_wire::notification::{CeaseSubcode, Notification};
use evpnd_wire::open::Open;
use evpnd_wire::rfc7606::UpdateProblem;
use evpnd_wire::rfc7606::{self, ErrorAction};
use evpnd_wire::route_refresh::RouteRefresh;
use evpnd_wire::rtc::RtMembership;
use evpnd_wire::update::Update;
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// Test-only fault injection: with `EVPND_FAULT_PEER_PANIC=<peer address>`
/// in the environment, the first End-of-RIB received from that peer panics
/// its session task, once per process (tests/peer_panic.rs), after its
/// routes are in the RIB. Unset, it costs one load of a cached `None` per
/// UPDATE; the End-of-RIB test runs only for the named peer.
fn inject_panic(peer: std::net::IpAddr, update: &Update) {
    static TARGET: std::sync::OnceLock<Option<std::net::IpAddr>> = std::sync::OnceLock::new();
    static FIRED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let target = TARGET.get_or_init(|| {
        std::env::var("EVPND_FAULT_PEER_PANIC")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if *target == Some(peer)
        && update.is_end_of_rib().is_some()
        && !FIRED.swap(true, Ordering::Relaxed)
    {
        panic!("fault injection: EVPND_FAULT_PEER_PANIC={peer}");
    }
}

fn nanos_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// What woke the session loop.
enum Wake {
    Shutdown,
    /// The shutdown flag changed but is not set.
    Nothing,
    Inbound(TcpStream),
    Connected(io::Result<TcpStream>),
    Read(io::Result<usize>),
    /// The RIB has room for the UPDATE that was waiting.
    RibReady(mpsc::OwnedPermit<RibRequest>),
    Timer(Timer),
    /// The outbound queue was found full.
    QueueFull,
    /// The peer's stale routes ran out of time (RFC 4724 section 4.2).
    StaleTimer,
    /// The RIB: the peer's paths crossed its prefix limit or warning.
    PrefixLimit(PrefixAlert),
    /// The operator resets the session (`evpnd clear neighbors`).
    Reset,
    /// The peer's RT membership End-of-RIB did not come in time (RFC 4684
    /// section 6).
    RtMembershipWait,
    /// Our own RT membership changed (a reload changed the VNIs).
    OurRtMembership,
}

/// How long a peer with RT-Constrain may take to send its RT membership
/// End-of-RIB before it gets its EVPN table by the membership received so
/// far (RFC 4684 section 6 sets no figure). GoBGP sends that End-of-RIB
/// only with Graceful Restart configured, so without it a GoBGP client
/// waits this long.
const RT_MEMBERSHIP_WAIT: Duration = Duration::from_secs(5);

pub(super) struct Session {
    spec: PeerSpec,
    fsm: Fsm,
    rib: mpsc::Sender<RibRequest>,
    status: watch::Sender<PeerStatus>,
    counters: Arc<MessageCounters>,
    timers: BTreeMap<Timer, Instant>,
    conn: Option<Conn>,
    connecting: Option<JoinHandle<io::Result<TcpStream>>>,
    /// A NOTIFICATION the FSM sent, written just before the connection drops.
    pending_notification: Option<Bytes>,
    /// A decoded UPDATE waiting for room in the RIB's queue.
    blocked: Option<RibRequest>,
    rx_opts: DecodeOptions,
    tx_opts: EncodeOptions,
    established: bool,
    seed: u64,
    /// Our OPEN carries the Restart State bit (RFC 4724 section 4.1):
    /// from start until this peer's first session is established.
    restarting: bool,
    /// The peer's Graceful Restart capability in the current session.
    peer_gr: Option<GracefulRestart>,
    /// When the peer's stale routes go if it has not sent End-of-RIB by
    /// then: its restart time after the session ended, then our
    /// `stale_routes_time` once it is back (RFC 4724 section 4.2).
    stale_until: Option<Instant>,
    /// The session negotiated RT-Constrain (RFC 4684).
    rt_constraint: bool,
    /// Until when its EVPN table waits for its RT membership End-of-RIB.
    rt_membership_until: Option<Instant>,
    /// The RT membership we announced on this session.
    rt_announced: Arc<[RtMembership]>,
    /// The peer's RT membership on this session, as the RIB has it: kept
    /// here too, to be handed over (ADR 0010).
    rt_received: PeerRtMembership,
    /// Set by a resume until its Established takes it: the RT-Constrain
    /// state the previous image handed over (`Some(None)`: none, an older
    /// image's file).
    rt_handed: Option<Option<HandedRtc>>,
    /// The OPENs of the current connection, ours and the peer's: what a
    /// hand-over passes on (ADR 0010).
    sent_open: Option<Open>,
    received_open: Option<Open>,
    /// The session was handed over by the previous image: the peer sends
    /// no End-of-RIB, so nobody waits for one (RFC 4724 section 4.1).
    resumed: bool,
    /// Where the RIB says that the peer's paths crossed its prefix limit
    /// (the sender goes with PeerUp).
    alerts_tx: mpsc::UnboundedSender<PrefixAlert>,
    alerts: mpsc::UnboundedReceiver<PrefixAlert>,
}

impl Session {
    pub(super) fn new(
        spec: PeerSpec,
        rib: mpsc::Sender<RibRequest>,
        status: watch::Sender<PeerStatus>,
        counters: Arc<MessageCounters>,
    ) -> Self {
        let seed =
            u64::from(u32::from(spec.local.router_id)) << 16 ^ u64::from(spec.idx.0) ^ nanos_now();
        let spec_restarting = spec.graceful_restart.is_some();
        let (alerts_tx, alerts) = mpsc::unbounded_channel();
        Session {
            fsm: Fsm::new(spec.fsm.clone(), seed),
            spec,
            rib,
            status,
            counters,
            timers: BTreeMap::new(),
            conn: None,
            connecting: None,
            pending_notification: None,
            blocked: None,
            rx_opts: DecodeOptions::default(),
            tx_opts: EncodeOptions::default(),
            established: false,
            seed,
            restarting: spec_restarting,
            peer_gr: None,
            stale_until: None,
            rt_constraint: false,
            rt_membership_until: None,
            rt_announced: Arc::from([]),
            rt_received: PeerRtMembership::default(),
            rt_handed: None,
            sent_open: None,
            received_open: None,
            resumed: false,
            alerts_tx,
            alerts,
        }
    }

    pub(super) async fn run(
        mut self,
        inbox: &mut PeerInbox,
        shutdown: &mut watch::Receiver<bool>,
        resumed: Option<Resumed>,
    ) {
        let resumed = match resumed {
            Some(r) => self.resume(r).await,
            None => false,
        };
        if !resumed {
            let start = if self.spec.neighbor.passive {
                Event::AutomaticStartWithPassiveTcpEstablishment
            } else {
                Event::AutomaticStart
            };
            self.event(start).await;
        }
        loop {
            let wake = self.wait(inbox, shutdown).await;
            match wake {
                Wake::Shutdown => {
                    if self.spec.handover.requested() && self.established {
                        self.hand_over().await;
                        return;
                    }
                    let stop = if self.spec.deconfigured.load(Ordering::Relaxed) {
                        Event::AutomaticStop {
                            cease_subcode: CeaseSubcode::PeerDeconfigured,
                        }
                    } else if self.peer_keeps_our_routes() {
                        self.close_for_restart();
                        return;
                    } else {
                        Event::ManualStop
                    };
                    self.event(stop).await;
                    return;
                }
                Wake::OurRtMembership => self.announce_rt_membership_change(),
                Wake::RtMembershipWait => {
                    self.rt_membership_until = None;
                    self.rt_received.complete = true;
                    let expired = RibInput::RtMembershipWaitExpired {
                        peer: self.spec.idx,
                    };
                    let _ = self.rib.send(RibRequest::Input(expired)).await;
                }
                Wake::StaleTimer => {
                    self.stale_until = None;
                    let expired = RibInput::StaleExpired {
                        peer: self.spec.idx,
                    };
                    let _ = self.rib.send(RibRequest::Input(expired)).await;
                }
                Wake::Nothing => {}
                Wake::Inbound(stream) => self.inbound(stream).await,
                Wake::Connected(result) => self.connected(result).await,
                Wake::Read(result) => self.read(result).await,
                Wake::RibReady(permit) => {
                    if let Some(input) = self.blocked.take() {
                        permit.send(input);
                    }
                    self.process_buffered().await;
                }
                Wake::Timer(timer) => {
                    self.timers.remove(&timer);
                    self.event(timer_event(timer)).await;
                }
                Wake::QueueFull => self.queue_full().await,
                Wake::PrefixLimit(alert) => self.prefix_limit(alert).await,
                Wake::Reset => {
                    info!(peer = %self.peer(), "session reset by the operator (Cease / Administrative Reset)");
                    self.event(Event::ManualReset).await;
                }
            }
        }
    }

    async fn wait(&mut self, inbox: &mut PeerInbox, shutdown: &mut watch::Receiver<bool>) -> Wake {
        let next_timer = self
            .timers
            .iter()
            .min_by_key(|(_, at)| **at)
            .map(|(t, at)| (*t, *at));
        let timer = async {
            match next_timer {
                Some((timer, at)) => {
                    tokio::time::sleep_until(at).await;
                    timer
                }
                None => std::future::pending().await,
            }
        };
        let connecting = async {
            match self.connecting.as_mut() {
                Some(handle) => handle
                    .await
                    .unwrap_or_else(|e| Err(io::Error::other(e.to_string()))),
                None => std::future::pending().await,
            }
        };
        // While an UPDATE waits for room in the RIB's queue, stop reading:
        // TCP flow control then slows the peer down, and timers (our
        // KEEPALIVEs, the hold timer) keep running meanwhile.
        let blocked = self.blocked.is_some();
        let rib = self.rib.clone();
        let rib_ready = async move {
            if blocked {
                rib.reserve_owned().await
            } else {
                std::future::pending().await
            }
        };
        let overflow = self.conn.as_ref().map(|c| c.sink.overflow_signal());
        let queue_full = async move {
            match overflow {
                Some(signal) => signal.notified().await,
                None => std::future::pending().await,
            }
        };
        let read = async {
            match self.conn.as_mut().filter(|_| !blocked) {
                Some(conn) => {
                    conn.buf.reserve(READ_CHUNK);
                    conn.read.read_buf(&mut conn.buf).await
                }
                None => std::future::pending().await,
            }
        };
        let stale_until = self.stale_until;
        let stale = async move {
            match stale_until {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let rt_membership_until = self.rt_membership_until;
        let rt_membership_wait = async move {
            match rt_membership_until {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let mut ours = self.spec.rt_membership.clone();
        let our_rt_membership = async move {
            match ours.changed().await {
                Ok(()) => (),
                // The daemon is gone; nothing will change any more.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stale => Wake::StaleTimer,
            () = our_rt_membership => Wake::OurRtMembership,
            () = rt_membership_wait => Wake::RtMembershipWait,
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() { Wake::Shutdown } else { Wake::Nothing }
            }
            Some(stream) = inbox.connections.recv() => Wake::Inbound(stream),
            Some(PeerControl::Reset) = inbox.control.recv() => Wake::Reset,
            result = connecting => Wake::Connected(result),
            result = read => Wake::Read(result),
            Ok(permit) = rib_ready => Wake::RibReady(permit),
            timer = timer => Wake::Timer(timer),
            () = queue_full => Wake::QueueFull,
            Some(alert) = self.alerts.recv() => Wake::PrefixLimit(alert),
        }
    }

    /// The peer keeps its session up but does not read what we send, and
    /// its outbound queue filled: end the session with Cease / Out of
    /// Resources (RFC 4486 section 4, subcode 8). It restarts on its own,
    /// and the peer then gets the whole table again (RFC 4271 9.4).
    async fn queue_full(&mut self) {
        warn!(
            peer = %self.peer(),
            queue_bytes = self.spec.queue_bytes,
            "outbound queue full: the peer does not read what we send; closing the session (Cease / Out of Resources)"
        );
        self.counters
            .queue_overflows
            .fetch_add(1, Ordering::Relaxed);
        self.event(Event::AutomaticStop {
            cease_subcode: CeaseSubcode::OutOfResources,
        })
        .await;
    }

    /// The RIB says the peer's paths crossed its limit or its warning
    /// threshold (`neighbors[].max_prefixes`).
    async fn prefix_limit(&mut self, alert: PrefixAlert) {
        let Some(max) = self.spec.neighbor.max_prefixes else {
            return;
        };
        let (peer, received, limit) = (self.peer(), alert.received, alert.limit.limit);
        if !alert.exceeded {
            warn!(peer = %peer, received, limit, warning_percent = max.warning_percent, "the peer's paths reached the warning threshold of its prefix limit");
            return;
        }
        self.counters
            .prefix_limit_exceeded
            .fetch_add(1, Ordering::Relaxed);
        if max.action == MaxPrefixAction::Warn || !self.established {
            warn!(peer = %peer, received, limit, "the peer sent more paths than its prefix limit; kept (action = warn)");
            return;
        }
        warn!(
            peer = %peer,
            received,
            limit,
            restart_secs = max.restart_after.map(|d| d.as_secs()),
            "the peer sent more paths than its prefix limit: ending the session (Cease / Maximum Number of Prefixes Reached)"
        );
        self.event(Event::PrefixLimitExceeded {
            notification: Notification::maximum_prefixes(self.spec.family, limit),
            restart_after: max.restart_after,
        })
        .await;
    }

    fn peer(&self) -> std::net::IpAddr {
        self.spec.neighbor.address
    }

    /// Feed one event to the FSM and carry out its actions, in order.
    async fn event(&mut self, event: Event) {
        let name = event.name();
        let before = self.fsm.state();
        let actions = self.fsm.handle(event);
        for action in actions {
            self.act(action).await;
        }
        if let Some(last) = self.pending_notification.take()
            && let Some(conn) = &self.conn
        {
            conn.send(last);
        }
        let after = self.fsm.state();
        if before != after {
            info!(peer = %self.peer(), from = before.name(), to = after.name(), event = name, "session state");
            self.status.send_modify(|s| s.state = after);
        }
        let damping = Damping {
            failures: self.fsm.failures(),
            // A zero wait (`peer_damping = false`) is no damping.
            restart_at: self
                .timers
                .get(&Timer::IdleHold)
                .copied()
                .filter(|at| *at > Instant::now()),
        };
        self.status.send_if_modified(|s| {
            let changed = s.damping != damping;
            s.damping = damping;
            changed
        });
    }

    async fn act(&mut self, action: Action) {
        match action {
            Action::Connect => self.connect(),
            Action::DropConnection => {
                if let Some(handle) = self.connecting.take() {
                    handle.abort();
                }
                if let Some(conn) = self.conn.take() {
                    conn.close(self.pending_notification.take());
                }
                self.rx_opts = DecodeOptions::default();
                self.tx_opts = EncodeOptions::default();
            }
            Action::SendOpen => {
                let open = graceful_restart::with_restart_state(
                    &self.spec.fsm.local_open,
                    self.restarting,
                );
                self.send(&Message::Open(open.clone()));
                self.sent_open = Some(open);
            }
            Action::SendKeepalive => self.send(&Message::Keepalive),
            Action::SendNotification(notification) => {
                warn!(peer = %self.peer(), notification = %notification, "sending NOTIFICATION");
                self.pending_notification = Message::Notification(notification)
                    .to_bytes(&self.tx_opts)
                    .ok();
            }
            Action::StartTimer { timer, after } => {
                self.timers.insert(timer, Instant::now() + after);
            }
            Action::StopTimer(timer) => {
                self.timers.remove(&timer);
            }
            Action::Established(negotiated) => self.established(negotiated).await,
            Action::SessionDown { reason } => self.down(reason).await,
        }
    }

    fn send(&self, message: &Message) {
        let Some(conn) = &self.conn else { return };
        match message.to_bytes(&self.tx_opts) {
            Ok(bytes) => conn.send(bytes),
            Err(e) => warn!(peer = %self.peer(), error = %e, "cannot encode message"),
        }
    }

    async fn read(&mut self, result: io::Result<usize>) {
        match result {
            Ok(0) => {
                info!(peer = %self.peer(), "connection closed by peer");
                self.event(Event::TcpConnectionFails).await;
            }
            Err(e) => {
                info!(peer = %self.peer(), error = %e, "connection error");
                self.event(Event::TcpConnectionFails).await;
            }
            Ok(_) => self.process_buffered().await,
        }
    }

    /// Handle every whole message in the read buffer, until one has to wait
    /// for the RIB.
    async fn process_buffered(&mut self) {
        while self.blocked.is_none() {
            match self.next_message() {
                None => return,
                Some(Ok(bytes)) => self.message(bytes).await,
                Some(Err(notification)) => {
                    return self.event(Event::BgpHeaderErr(notification)).await;
                }
            }
            if self.conn.is_none() {
                return;
            }
        }
    }

    /// The next whole message in the read buffer, if any.
    fn next_message(&mut self) -> Option<Result<Bytes, Notification>> {
        let conn = self.conn.as_mut()?;
        match header::frame(&conn.buf, self.rx_opts.max_message_len) {
            Ok(Some(len)) => Some(Ok(conn.buf.split_to(len).freeze())),
            Ok(None) => None,
            Err(e) => Some(Err(e.notification())),
        }
    }

    async fn message(&mut self, bytes: Bytes) {
        self.counters.messages_in.fetch_add(1, Ordering::Relaxed);
        let decoded = Message::decode_lenient(&bytes, &self.rx_opts);
        let (message, problems) = match decoded {
            Ok(decoded) => decoded,
            Err(e) => return self.malformed(e).await,
        };
        match message {
            Message::Open(open) => {
                self.received_open = Some(open.clone());
                // The FSM checks the OPEN (evpnd_core::session::open_check).
                self.event(Event::BgpOpen(open)).await;
                // RFC 6793 4, RFC 8654 3, RFC 7911 5: the wire form each way,
                // as check_open negotiated it from both OPENs.
                if let Some(session) = self.fsm.negotiated() {
                    self.rx_opts = session.receive.clone();
                    self.tx_opts = session.send.clone();
                }
            }
            Message::Keepalive => self.event(Event::KeepAliveMsg).await,
            Message::Notification(n) => {
                warn!(peer = %self.peer(), notification = %n, "received NOTIFICATION");
                self.event(Event::NotifMsg(n)).await;
            }
            Message::RouteRefresh(rr) => {
                if self.established && rr.family == self.spec.family {
                    let refresh = RibInput::RouteRefresh {
                        peer: self.spec.idx,
                    };
                    let _ = self.rib.send(RibRequest::Input(refresh)).await;
                }
            }
            Message::Update(update) => {
                self.counters.updates_in.fetch_add(1, Ordering::Relaxed);
                inject_panic(self.spec.neighbor.address, &update);
                let action = rfc7606::classify(&problems);
                if let ErrorAction::SessionReset(n) = action {
                    warn!(peer = %self.peer(), problems = ?problems, "malformed UPDATE");
                    return self.event(Event::UpdateMsgErr(n)).await;
                }
                // AS4_PATH / AS4_AGGREGATOR between 4-octet-AS speakers are
                // not malformed, only never meant for us (RFC 6793 4.1).
                let (as4, malformed): (Vec<_>, Vec<_>) = problems
                    .iter()
                    .partition(|p| matches!(p, UpdateProblem::As4FromNewSpeaker { .. }));
                if !malformed.is_empty() {
                    warn!(peer = %self.peer(), problems = ?malformed, action = ?action, "malformed UPDATE handled per RFC 7606");
                }
                if !as4.is_empty() {
                    debug!(peer = %self.peer(), attributes = ?as4, "AS4_PATH / AS4_AGGREGATOR from a 4-octet-AS peer discarded (RFC 6793 section 4.1)");
                }
                self.event(Event::UpdateMsg).await;
                if !self.established {
                    return;
                }
                if self.rt_constraint {
                    self.rt_membership(&update, &action).await;
                }
                let external = self.spec.kind == PeerKind::Ebgp;
                match ingress_update(
                    &update,
                    &action,
                    &self.spec.local,
                    external,
                    self.spec.family,
                ) {
                    Ok((ingress, ignored)) => {
                        if ingress.unrecognized > 0 {
                            warn!(peer = %self.peer(), routes = ingress.unrecognized, "routes of EVPN route types evpnd does not recognize: discarded (RFC 7606 section 5.4)");
                        }
                        if let Some(why) = ignored.filter(|w| *w != Ignored::OwnOriginatorId) {
                            debug!(peer = %self.peer(), reason = ?why, "announced routes handled as withdrawn");
                        }
                        if ingress.end_of_rib {
                            // The RIB drops what is still stale now.
                            self.stale_until = None;
                        }
                        let input = RibRequest::Input(RibInput::Update {
                            peer: self.spec.idx,
                            update: ingress,
                        });
                        match self.rib.try_send(input) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(input)) => {
                                self.blocked = Some(input)
                            }
                            Err(mpsc::error::TrySendError::Closed(_)) => {
                                warn!(peer = %self.peer(), "RIB task gone")
                            }
                        }
                    }
                    Err(malformed) => {
                        warn!(peer = %self.peer(), error = %malformed.reason, notification = %malformed.notification, "malformed EVPN NLRI");
                        self.event(Event::UpdateMsgErr(malformed.notification))
                            .await;
                    }
                }
            }
        }
    }

    async fn malformed(&mut self, error: MessageError) {
        warn!(peer = %self.peer(), error = %error, "malformed message");
        let event = match (&error, error.notification()) {
            (MessageError::Header(_) | MessageError::Framing(_), Some(n)) => Event::BgpHeaderErr(n),
            (MessageError::Open(_), Some(n)) => Event::BgpOpenMsgErr(n),
            (_, Some(n)) => Event::UpdateMsgErr(n),
            // RFC 4271 6.4: a malformed NOTIFICATION is not answered.
            (_, None) => Event::TcpConnectionFails,
        };
        self.event(event).await;
    }

    async fn established(&mut self, negotiated: NegotiatedSession) {
        let Some((sink, remote)) = self.conn.as_ref().map(|c| (c.sink.clone(), c.peer_addr)) else {
            return;
        };
        info!(
            peer = %self.peer(),
            remote = %remote,
            id = %negotiated.peer_bgp_id,
            hold = negotiated.hold_time,
            families = ?negotiated.families,
            "session established"
        );
        self.status.send_modify(|s| {
            s.established_since = Some(SystemTime::now());
            s.negotiated = Some(negotiated.clone());
        });
        if !negotiated.families.contains(&self.spec.family) {
            warn!(peer = %self.peer(), "peer did not negotiate l2vpn-evpn: no routes exchanged");
            return;
        }
        if negotiated.rt_constraint() {
            self.rt_constraint_up(&negotiated).await;
        }
        self.rt_constraint = negotiated.rt_constraint();
        self.established = true;
        self.restarting = false;
        self.peer_gr = negotiated.peer_graceful_restart.clone();
        let graceful = self.graceful_peer();
        if graceful.keeps_stale
            && let (Some(_), Some(gr)) = (self.stale_until, &self.spec.graceful_restart)
        {
            // Back in time: its End-of-RIB now has our bound.
            self.stale_until = Some(Instant::now() + gr.stale_routes_time);
        } else {
            self.stale_until = None;
        }
        let input = RibRequest::PeerUp {
            peer: self.spec.idx,
            info: PeerInfo {
                address: self.peer(),
                kind: self.spec.kind,
                remote_as: negotiated.peer_asn,
                router_id: negotiated.peer_bgp_id,
            },
            group: OutGroupKey {
                kind: self.spec.kind,
                four_octet_as: negotiated.four_octet_as,
                max_message_len: if negotiated.extended_message {
                    MAX_EXTENDED_MESSAGE_LEN as u16
                } else {
                    MAX_MESSAGE_LEN as u16
                },
            },
            graceful,
            prefix_limit: self
                .spec
                .neighbor
                .max_prefixes
                .map(|m| PrefixLimit::new(m.limit, m.warning_percent)),
            sink,
            alerts: self.alerts_tx.clone(),
        };
        let _ = self.rib.send(input).await;
    }

    /// What this session means for Graceful Restart in the RIB; nothing
    /// when we have it turned off (we then neither keep nor wait).
    fn graceful_peer(&self) -> GracefulPeer {
        if self.spec.graceful_restart.is_none() {
            return GracefulPeer::default();
        }
        GracefulPeer {
            keeps_stale: graceful_restart::keeps_stale(self.peer_gr.as_ref(), self.spec.family),
            awaited: !self.resumed
                && graceful_restart::awaited_after_restart(self.peer_gr.as_ref()),
        }
    }

    /// Whether the peer would keep our routes if our TCP session just
    /// ended: we advertised the capability (with the family) and so did it,
    /// as restarting speaker or as helper only (RFC 4724 section 4.2: the
    /// receiving speaker keeps the families in the restarting one's
    /// capability; its own lists what it can preserve itself).
    fn peer_keeps_our_routes(&self) -> bool {
        self.established
            && self.spec.graceful_restart.is_some()
            && graceful_restart::helps(self.peer_gr.as_ref())
    }

    /// Shut down for a restart (RFC 4724 section 4): close the TCP session
    /// without a NOTIFICATION, so the peer keeps our routes, and the kernel
    /// keeps forwarding, until we are back and have sent End-of-RIB.
    fn close_for_restart(&mut self) {
        info!(
            peer = %self.peer(),
            restart_time = self.spec.graceful_restart.map(|gr| gr.restart_time),
            "closing the session without a NOTIFICATION: the peer keeps our routes while we restart (graceful restart)"
        );
        if let Some(conn) = self.conn.take() {
            conn.close(None);
        }
    }

    async fn down(&mut self, reason: DownReason) {
        // An UPDATE still waiting for the RIB belongs to the session that
        // just ended: its routes go with the PeerDown below.
        self.blocked = None;
        self.rt_constraint = false;
        self.rt_membership_until = None;
        self.rt_received = PeerRtMembership::default();
        // The next session is a new one.
        self.resumed = false;
        self.rt_handed = None;
        let text = reason.to_string();
        if self.established {
            self.established = false;
            let retain = self.spec.graceful_restart.and(graceful_restart::retention(
                self.peer_gr.as_ref(),
                self.spec.family,
                &reason,
            ));
            match retain {
                Some(restart_time) => {
                    warn!(peer = %self.peer(), reason = %text, restart_time_secs = restart_time.as_secs(), "session down; the peer may be restarting: its routes are kept as stale (graceful restart)");
                    self.stale_until = Some(Instant::now() + restart_time);
                }
                None => {
                    warn!(peer = %self.peer(), reason = %text, "session down");
                    self.stale_until = None;
                }
            }
            let down = RibInput::PeerDown {
                peer: self.spec.idx,
                retain: retain.is_some(),
            };
            let _ = self.rib.send(RibRequest::Input(down)).await;
        } else {
            debug!(peer = %self.peer(), reason = %text, "session attempt failed");
        }
        self.status.send_modify(|s| {
            s.established_since = None;
            s.negotiated = None;
            s.last_error = Some(text);
        });
    }
}

fn timer_event(timer: Timer) -> Event {
    match timer {
        Timer::ConnectRetry => Event::ConnectRetryTimerExpires,
        Timer::Hold => Event::HoldTimerExpires,
        Timer::Keepalive => Event::KeepaliveTimerExpires,
        Timer::IdleHold => Event::IdleHoldTimerExpires,
        Timer::Stability => Event::StabilityTimerExpires,
    }
}

/// Sends a Cease / Connection Rejected to a connection from an address that
/// is not a configured neighbor, then closes it (RFC 4486 section 4).
pub fn reject(stream: TcpStream) {
    let notification = Notification::cease(CeaseSubcode::ConnectionRejected);
    if let Ok(bytes) = Message::Notification(notification).to_bytes(&EncodeOptions::default()) {
        tokio::spawn(async move {
            let mut stream = stream;
            let _ = tokio::time::timeout(CLOSE_GRACE, async {
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
            })
            .await;
        });
    }
}
