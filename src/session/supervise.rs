//! The daemon's side of a peer task: the handle it keeps and the
//! supervisor that runs the [`Session`] and restarts it after a panic.

use super::counters::MessageCounters;
use super::handover::Resumed;
use super::peer::Session;
use super::spec::PeerSpec;
use super::status::{PeerControl, PeerInbox, PeerStatus};
use crate::panic::CatchUnwind;
use crate::rib_task::RibRequest;
use evpnd_core::rib::engine::RibInput;
use evpnd_core::session::State;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// The daemon's handle on a running peer task.
pub struct PeerHandle {
    pub spec: PeerSpec,
    /// Accepted connections from this peer's address go here.
    pub inbound: mpsc::Sender<TcpStream>,
    /// Operator requests for the session (`evpnd clear neighbors`).
    pub control: mpsc::Sender<PeerControl>,
    pub status: watch::Receiver<PeerStatus>,
    pub counters: Arc<MessageCounters>,
    pub task: JoinHandle<()>,
}

/// Start a peer task. It runs until `shutdown` turns true, then sends a
/// Cease / Administrative Shutdown (RFC 4486, RFC 9003) and ends (or closes
/// without one for a graceful restart, or hands its connection over).
/// `resumed`: a session the previous image handed over, to continue.
pub fn spawn_peer(
    spec: PeerSpec,
    rib: mpsc::Sender<RibRequest>,
    shutdown: watch::Receiver<bool>,
    resumed: Option<Resumed>,
) -> PeerHandle {
    let (inbound_tx, inbound_rx) = mpsc::channel(4);
    let (control_tx, control_rx) = mpsc::channel(4);
    let (status_tx, status_rx) = watch::channel(PeerStatus::default());
    let counters = Arc::new(MessageCounters::default());
    let task = tokio::spawn(supervise(
        spec.clone(),
        rib,
        status_tx,
        counters.clone(),
        PeerInbox {
            connections: inbound_rx,
            control: control_rx,
        },
        shutdown,
        resumed,
    ));
    PeerHandle {
        spec,
        inbound: inbound_tx,
        control: control_tx,
        status: status_rx,
        counters,
        task,
    }
}

/// First restart of a session whose task panicked; doubles per panic.
const PANIC_RESTART_BASE: Duration = Duration::from_secs(1);
/// Longest wait before restarting a session that keeps panicking.
const PANIC_RESTART_CAP: Duration = Duration::from_secs(60);

/// Runs the peer's session until shutdown. A panic in it (a bug, never peer
/// input: decoding is total and RFC 7606 decides what a malformed message
/// costs) resets that session only, as a NOTIFICATION would: its routes are
/// withdrawn from the RIB, the connection closes, the panic is logged and
/// counted (`evpnd_peer_task_panics_total`), and a fresh session starts
/// after a back-off, with the same channels, so the daemon and the other
/// sessions never notice.
async fn supervise(
    spec: PeerSpec,
    rib: mpsc::Sender<RibRequest>,
    status: watch::Sender<PeerStatus>,
    counters: Arc<MessageCounters>,
    mut inbox: PeerInbox,
    mut shutdown: watch::Receiver<bool>,
    mut resumed: Option<Resumed>,
) {
    let mut backoff = PANIC_RESTART_BASE;
    loop {
        let session = Session::new(spec.clone(), rib.clone(), status.clone(), counters.clone());
        let run = session.run(&mut inbox, &mut shutdown, resumed.take());
        let panic = match CatchUnwind(Box::pin(run)).await {
            Ok(()) => return,
            Err(panic) => panic,
        };
        let what = crate::panic::message(&*panic);
        counters.panics.fetch_add(1, Ordering::Relaxed);
        tracing::error!(
            peer = %spec.neighbor.address,
            panic = %what,
            restart_in_ms = backoff.as_millis() as u64,
            "the session task panicked (a bug): session reset, its routes withdrawn; restarting it"
        );
        // The RIB forgets the session (a no-op if it never came up).
        let down = RibInput::PeerDown {
            peer: spec.idx,
            retain: false,
        };
        let _ = rib.send(RibRequest::Input(down)).await;
        status.send_modify(|s| {
            s.state = State::Idle;
            s.established_since = None;
            s.negotiated = None;
            s.last_error = Some(format!("internal error, session reset: {what}"));
        });
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        backoff = (backoff * 2).min(PANIC_RESTART_CAP);
    }
}
