//! What the daemon sees of a session and may ask of it: its status as
//! `show neighbors` reports it, and the queues a session task reads besides
//! its connection (accepted connections, operator requests), which outlive
//! a restart of the task.

use evpnd_core::session::State;
use evpnd_core::session::open_check::NegotiatedSession;
use std::time::SystemTime;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// A peer's session as `show neighbors` reports it.
#[derive(Debug, Clone)]
pub struct PeerStatus {
    pub state: State,
    pub established_since: Option<SystemTime>,
    pub negotiated: Option<NegotiatedSession>,
    pub last_error: Option<String>,
    /// Consecutive failures counted for peer damping (RFC 4271 section
    /// 8.1.1), and when the damped session starts again.
    pub damping: Damping,
}

/// Where peer damping stands for one session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Damping {
    pub failures: u32,
    /// The IdleHoldTimer's deadline, while it runs.
    pub restart_at: Option<Instant>,
}

impl Default for PeerStatus {
    fn default() -> Self {
        Self {
            state: State::Idle,
            established_since: None,
            negotiated: None,
            last_error: None,
            damping: Damping::default(),
        }
    }
}

/// What the operator may ask of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerControl {
    /// End it (Cease / Administrative Reset) and start again at once, its
    /// failures and stops forgotten (`Event::ManualReset`).
    Reset,
}

/// A session task's queues, which outlive a restart of the task: accepted
/// connections from the peer's address, and operator requests.
pub(crate) struct PeerInbox {
    pub(crate) connections: mpsc::Receiver<TcpStream>,
    pub(crate) control: mpsc::Receiver<PeerControl>,
}
