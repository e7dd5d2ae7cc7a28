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
use std::sync::Arc;
use tokio::sync::{Notify, mpsc, oneshot};
use tracing::warn;

/// How many chunks may wait in one peer's outbound queue (ADR 0007).
///
/// A chunk is what one RIB step (one input, or one batch of up to
/// [`MAX_BATCH`] inputs and its flush) produced for the peer: its UPDATEs
/// (the bytes shared with its group), or its whole table on a new session
/// or a route refresh. So 256 chunks are 256 steps the peer is behind, at
/// most 256 x 256 received UPDATEs' worth of changes, more than a whole
/// table's worth under full-rate churn, which a peer reading at TCP speed
/// never comes near; a reconnecting peer's table is one chunk. What a
/// stalled peer pins is bounded by the same product (at 4096-octet
/// messages ~256 MiB in the worst case, typically far less), where an
/// unbounded queue grew until the process ran out of memory.
pub const PEER_QUEUE_CHUNKS: usize = 256;

/// Where a peer's writer receives what it must send: the RIB task's
/// UPDATEs and the session's own messages, in order.
///
/// Back-pressure (ADR 0007): the queue is bounded ([`PEER_QUEUE_CHUNKS`])
/// and nobody ever waits on it. The RIB task must not wait for one peer, so
/// it only `try_send`s; a full queue means the peer keeps its session up but
/// does not read what we send. Then the sink raises its overflow signal and
/// the RIB task drops it; the peer task ends the session with a Cease / Out
/// of Resources NOTIFICATION (RFC 4486 section 4, subcode 8) and counts it
/// (`evpnd_peer_queue_overflows_total`). When the peer reconnects it gets
/// the whole table again: Adj-RIB-Out is re-derived from the Loc-RIB (RFC
/// 4271 section 9.4), so nothing dropped here is lost.
#[derive(Debug, Clone)]
pub struct PeerSink {
    chunks: mpsc::Sender<OutChunk>,
    overflow: Arc<Notify>,
}

/// A chunk could not be queued: the queue is full (the overflow signal is
/// raised) or its writer is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkError {
    Full,
    Closed,
}

impl PeerSink {
    /// A new queue of [`PEER_QUEUE_CHUNKS`]: the sink, and the receiving end
    /// for the peer's writer.
    pub fn channel() -> (PeerSink, mpsc::Receiver<OutChunk>) {
        Self::with_capacity(PEER_QUEUE_CHUNKS)
    }

    pub fn with_capacity(chunks: usize) -> (PeerSink, mpsc::Receiver<OutChunk>) {
        let (tx, rx) = mpsc::channel(chunks);
        let sink = PeerSink {
            chunks: tx,
            overflow: Arc::new(Notify::new()),
        };
        (sink, rx)
    }

    /// Queue `chunk` without waiting. On a full queue the overflow signal is
    /// raised: the session must end (see [`PeerSink`]).
    pub fn try_send(&self, chunk: OutChunk) -> Result<(), SinkError> {
        match self.chunks.try_send(chunk) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                // A stored permit: the session sees it even if it is busy
                // now, and once however often the queue is found full.
                self.overflow.notify_one();
                Err(SinkError::Full)
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SinkError::Closed),
        }
    }

    /// The overflow signal (`notified()` resolves once the queue was found
    /// full), as a handle that does not keep the queue open.
    pub fn overflow_signal(&self) -> Arc<Notify> {
        self.overflow.clone()
    }
}

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
    /// Indexed by `PeerIdx`: the chunks one RIB step produced for the
    /// peer, queued as one (kept allocated between steps).
    outbox: Vec<Vec<OutChunk>>,
    /// Gets every batch of best-path changes (the VTEP's importer).
    observer: Option<mpsc::UnboundedSender<RibEvent>>,
}

impl RibTask {
    pub fn new(rib: Rib) -> Self {
        Self {
            rib,
            sinks: Vec::new(),
            outbox: Vec::new(),
            observer: None,
        }
    }

    /// Send every batch of best-path changes to `observer` too. Unbounded:
    /// the RIB must never wait for the VTEP, which waits for the RIB (ADR
    /// 0007, rule 3; the channel is made in `daemon::run`).
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
    ///
    /// What one step produced for one peer goes as one chunk, so a peer's
    /// queue counts RIB steps, not batches: a burst of UPDATEs under
    /// attributes of their own (one batch each) costs a slot per step.
    fn deliver(&mut self) {
        let output = self.rib.take_output();
        if output.is_empty() {
            return;
        }
        for output in output {
            match output {
                RibOutput::Send { peer, messages } => {
                    let slot = usize::from(peer.0);
                    if self.outbox.len() <= slot {
                        self.outbox.resize_with(slot + 1, Vec::new);
                    }
                    self.outbox[slot].push(messages);
                }
                RibOutput::Event(event) => {
                    if let Some(observer) = &self.observer {
                        let _ = observer.send(event);
                    }
                }
            }
        }
        for (slot, chunks) in self.outbox.iter_mut().enumerate() {
            let chunk: OutChunk = match chunks.len() {
                0 => continue,
                // The common case: one shared batch, or a whole table.
                1 => chunks.pop().unwrap_or_else(|| Arc::from([])),
                // The bytes stay shared with the group; only the list is new.
                _ => chunks.drain(..).flat_map(|c| c.to_vec()).collect(),
            };
            let Some(sink) = self.sinks.get_mut(slot) else {
                continue;
            };
            if let Some(s) = sink
                && s.try_send(chunk) == Err(SinkError::Full)
            {
                // The peer task ends the session (Cease / Out of
                // Resources); until its PeerDown arrives, nothing more is
                // queued for this connection.
                warn!(
                    peer = slot,
                    queue = PEER_QUEUE_CHUNKS,
                    "outbound queue full: dropping the peer's sink"
                );
                *sink = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use evpnd_core::rib::attrs::PathSummary;
    use evpnd_core::rib::encode::OutboundEncoder;
    use evpnd_core::rib::engine::Reach;
    use evpnd_core::rib::peer::PeerKind;
    use evpnd_wire::Family;
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Duration;

    fn info(last: u8, kind: PeerKind) -> PeerInfo {
        PeerInfo {
            address: IpAddr::V4(Ipv4Addr::new(198, 18, 0, last)),
            kind,
            remote_as: 65000,
            router_id: Ipv4Addr::new(198, 18, 0, last),
        }
    }

    /// A type-3 route (RFC 7432 section 7.3) for `vtep`, under attributes
    /// of its own (LOCAL_PREF `vtep`), so each is a batch, a chunk, of its own.
    fn local_route(vtep: u8) -> RibRequest {
        let mut attributes = vec![0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 5, 4, 0, 0, 0];
        attributes.push(vtep);
        let mut nlri = vec![3, 17, 0, 1, 198, 18, 0, 1, 0, 2, 0, 0, 0, 0, 32];
        nlri.extend([198, 18, 1, vtep]);
        RibRequest::Local {
            update: IngressUpdate {
                reach: Some(Reach {
                    attributes: Bytes::from(attributes),
                    next_hop: Bytes::from(vec![198, 18, 1, vtep]),
                    summary: PathSummary::default(),
                    nlri: Bytes::from(nlri),
                }),
                ..Default::default()
            },
        }
    }

    /// A peer whose queue nobody drains: the RIB task never waits on it;
    /// when it is full the overflow signal (which ends the session) is
    /// raised and the RIB task drops the sink.
    #[tokio::test]
    async fn a_sink_that_is_never_drained_overflows_and_is_dropped() {
        let encoder = OutboundEncoder {
            family: Family::L2VPN_EVPN,
            local_asn: 65000,
            cluster_id: Ipv4Addr::new(198, 18, 0, 1),
        };
        let mut task = RibTask::new(Rib::new(info(1, PeerKind::Local), encoder));
        let peer = task.add_peer(info(2, PeerKind::IbgpClient));
        let (sink, mut queue) = PeerSink::with_capacity(3);
        let overflow = sink.overflow_signal();
        task.handle(RibRequest::PeerUp {
            peer,
            info: info(2, PeerKind::IbgpClient),
            group: OutGroupKey {
                kind: PeerKind::IbgpClient,
                four_octet_as: true,
                max_message_len: 4096,
            },
            sink,
        });
        assert_eq!(queue.len(), 1, "the (empty) table: End-of-RIB");
        // Two routes under attributes of their own, in one step: one chunk.
        for vtep in 1..=2 {
            task.handle(local_route(vtep));
        }
        task.rib.flush();
        task.deliver();
        assert_eq!(queue.len(), 2, "one chunk per step");
        task.handle(local_route(3));
        task.rib.flush();
        task.deliver();
        assert_eq!(queue.len(), 3, "full, not yet overflowing");
        assert!(task.sinks[usize::from(peer.0)].is_some());
        task.handle(local_route(4));
        task.rib.flush();
        task.deliver();
        assert!(
            task.sinks[usize::from(peer.0)].is_none(),
            "the full sink is dropped"
        );
        tokio::time::timeout(Duration::from_secs(1), overflow.notified())
            .await
            .expect("the overflow is signalled");
        assert_eq!(queue.len(), 3, "nothing more was queued");
        let messages: Vec<usize> = std::iter::from_fn(|| queue.try_recv().ok())
            .map(|chunk| chunk.len())
            .collect();
        assert_eq!(messages, [1, 2, 1], "End-of-RIB; two UPDATEs; one");
    }
}
