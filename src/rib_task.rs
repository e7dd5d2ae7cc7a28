//! The RIB task: the tokio shell around the pure [`Rib`]. It owns the RIB,
//! moves decoded UPDATEs in from the peer tasks and the VTEP, moves encoded
//! UPDATEs out to each peer's sink and best-path changes to the observer,
//! and answers the control socket's queries. One owner, no locks.
//!
//! Inputs are processed in batches: everything already queued (up to
//! [`MAX_BATCH`]) is applied before [`Rib::flush`] computes the outbound
//! side, so routes that arrive in many small UPDATEs leave in few large
//! ones, and a route that flaps within a batch costs its peers nothing.

use evpnd_core::rib::adj_out::OutGroupKey;
use evpnd_core::rib::engine::{
    IngressUpdate, OutChunk, PeerCounters, Rib, RibEvent, RibInput, RibOutput, RibPath, RibStats,
};
use evpnd_core::rib::peer::{PeerIdx, PeerInfo};
use tokio::sync::{mpsc, oneshot};

/// Where a peer task receives what it must send. Unbounded so that one slow
/// peer never stalls the RIB for the others; what queues is shared bytes.
pub type PeerSink = mpsc::UnboundedSender<OutChunk>;

/// How many queued requests are folded into one outbound computation.
const MAX_BATCH: usize = 256;

/// What the peer tasks, the VTEP and the control socket send the RIB task.
pub enum RibRequest {
    /// A session reached Established: register it and send it the table.
    PeerUp {
        peer: PeerIdx,
        info: PeerInfo,
        group: OutGroupKey,
        sink: PeerSink,
    },
    /// A session went down: withdraw its routes from everyone.
    PeerDown { peer: PeerIdx },
    Update {
        peer: PeerIdx,
        update: IngressUpdate,
    },
    /// Routes this node originates, as if received from [`PeerIdx::LOCAL`].
    Local { update: IngressUpdate },
    /// RFC 2918: the peer asks for our whole Adj-RIB-Out again.
    RouteRefresh { peer: PeerIdx },
    /// Every path in the Loc-RIB, for `show routes`.
    Dump {
        reply: oneshot::Sender<Vec<RibPath>>,
    },
    Counters {
        peer: PeerIdx,
        reply: oneshot::Sender<PeerCounters>,
    },
    /// Table sizes, for the metrics endpoint.
    Stats { reply: oneshot::Sender<RibStats> },
}

pub struct RibTask {
    rib: Rib,
    /// Indexed by `PeerIdx`; `None` while the peer is down.
    sinks: Vec<Option<PeerSink>>,
    /// Gets every batch of best-path changes (the VTEP's importer).
    observer: Option<mpsc::UnboundedSender<RibEvent>>,
}

impl RibTask {
    pub fn new(rib: Rib) -> Self {
        Self {
            rib,
            sinks: Vec::new(),
            observer: None,
        }
    }

    /// Send every batch of best-path changes to `observer` too.
    pub fn observe(&mut self, observer: mpsc::UnboundedSender<RibEvent>) {
        self.rib.observe();
        self.observer = Some(observer);
    }

    /// Register a configured peer before its session comes up, so its index
    /// is stable across reconnects.
    pub fn add_peer(&mut self, info: PeerInfo) -> PeerIdx {
        self.rib.add_peer(info)
    }

    pub async fn run(mut self, mut rx: mpsc::Receiver<RibRequest>) {
        while let Some(first) = rx.recv().await {
            self.handle(first);
            for _ in 1..MAX_BATCH {
                match rx.try_recv() {
                    Ok(request) => self.handle(request),
                    Err(_) => break,
                }
            }
            self.rib.flush();
            self.deliver();
        }
    }

    fn handle(&mut self, request: RibRequest) {
        let input = match request {
            RibRequest::PeerUp {
                peer,
                info,
                group,
                sink,
            } => {
                let slot = usize::from(peer.0);
                if self.sinks.len() <= slot {
                    self.sinks.resize(slot + 1, None);
                }
                self.sinks[slot] = Some(sink);
                RibInput::PeerUp { peer, info, group }
            }
            RibRequest::PeerDown { peer } => {
                if let Some(sink) = self.sinks.get_mut(usize::from(peer.0)) {
                    *sink = None;
                }
                RibInput::PeerDown { peer }
            }
            RibRequest::Update { peer, update } => RibInput::Update { peer, update },
            RibRequest::Local { update } => RibInput::Local { update },
            RibRequest::RouteRefresh { peer } => RibInput::RouteRefresh { peer },
            RibRequest::Dump { reply } => {
                let _ = reply.send(self.rib.dump());
                return;
            }
            RibRequest::Counters { peer, reply } => {
                let _ = reply.send(self.rib.counters(peer));
                return;
            }
            RibRequest::Stats { reply } => {
                let _ = reply.send(self.rib.stats());
                return;
            }
        };
        // What one input produced goes out before the next is applied, in
        // the order the RIB produced it (a full table before its End-of-RIB).
        self.rib.handle(input);
        self.deliver();
    }

    /// Move what the RIB produced to the peers' sinks and the observer. A
    /// closed sink or observer is a task that already ended; its own
    /// shutdown path reports that.
    fn deliver(&mut self) {
        for output in self.rib.take_output() {
            match output {
                RibOutput::Send { peer, messages } => {
                    if let Some(Some(sink)) = self.sinks.get(usize::from(peer.0)) {
                        let _ = sink.send(messages);
                    }
                }
                RibOutput::Event(event) => {
                    if let Some(observer) = &self.observer {
                        let _ = observer.send(event);
                    }
                }
            }
        }
    }
}
