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
    GracefulPeer, OutChunk, PeerCounters, Rib, RibEvent, RibInput, RibOutlet, RibOutput, RibPath,
    RibStats,
};
use evpnd_core::rib::peer::{PeerIdx, PeerInfo};
use evpnd_core::rib::prefix_limit::{PrefixAlert, PrefixLimit};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};
use tracing::warn;

/// Where a peer's writer receives what it must send: the RIB task's
/// UPDATEs and the session's own messages, in order.
///
/// Back-pressure (ADR 0007): the queue is bounded in octets
/// (`bgp.peer_queue_bytes`, 64 MiB by default) and nobody ever waits on it.
/// The RIB task must not wait for one peer, so it only `try_send`s; a full
/// queue means the peer keeps its session up but does not read what we
/// send. Then the sink raises its overflow signal and the RIB task drops it;
/// the peer task ends the session with a Cease / Out of Resources
/// NOTIFICATION (RFC 4486 section 4, subcode 8) and counts it
/// (`evpnd_peer_queue_overflows_total`). When the peer reconnects it gets
/// the whole table again: Adj-RIB-Out is re-derived from the Loc-RIB (RFC
/// 4271 section 9.4), so nothing dropped here is lost.
///
/// Octets, not chunks: a chunk is one encoded batch (shared by the peer's
/// group) or a whole table, from a few hundred octets to tens of MiB, so
/// only octets bound the memory a stalled peer pins. An empty queue takes
/// any one chunk, so a table larger than the bound still reaches a peer
/// that reads.
#[derive(Debug, Clone)]
pub struct PeerSink {
    chunks: mpsc::UnboundedSender<OutChunk>,
    /// Octets queued and not yet taken by the writer.
    queued: Arc<AtomicUsize>,
    limit: usize,
    overflow: Arc<Notify>,
}

/// The writer's end of a [`PeerSink`].
#[derive(Debug)]
pub struct PeerQueue {
    chunks: mpsc::UnboundedReceiver<OutChunk>,
    queued: Arc<AtomicUsize>,
}

/// A chunk could not be queued: the queue is full (the overflow signal is
/// raised) or its writer is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkError {
    Full,
    Closed,
}

fn octets(chunk: &OutChunk) -> usize {
    chunk.iter().map(|message| message.len()).sum()
}

impl PeerSink {
    /// A new queue holding up to `limit` octets: the sink, and the
    /// receiving end for the peer's writer.
    pub fn channel(limit: usize) -> (PeerSink, PeerQueue) {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let sink = PeerSink {
            chunks: tx,
            queued: queued.clone(),
            limit,
            overflow: Arc::new(Notify::new()),
        };
        (sink, PeerQueue { chunks: rx, queued })
    }

    /// Queue `chunk` without waiting. When it would take the queue past its
    /// limit the overflow signal is raised: the session must end (see
    /// [`PeerSink`]).
    pub fn try_send(&self, chunk: OutChunk) -> Result<(), SinkError> {
        let size = octets(&chunk);
        let queued = self.queued.load(Ordering::Relaxed);
        if queued > 0 && queued + size > self.limit {
            // A stored permit: the session sees it even if it is busy now,
            // and once however often the queue is found full.
            self.overflow.notify_one();
            return Err(SinkError::Full);
        }
        self.queued.fetch_add(size, Ordering::Relaxed);
        self.chunks.send(chunk).map_err(|_| SinkError::Closed)
    }

    /// The overflow signal (`notified()` resolves once the queue was found
    /// full), as a handle that does not keep the queue open.
    pub fn overflow_signal(&self) -> Arc<Notify> {
        self.overflow.clone()
    }
}

impl PeerQueue {
    /// The next chunk; its octets leave the queue's account.
    pub async fn recv(&mut self) -> Option<OutChunk> {
        let chunk = self.chunks.recv().await?;
        self.queued.fetch_sub(octets(&chunk), Ordering::Relaxed);
        Some(chunk)
    }

    /// The next chunk if one is queued now, without waiting.
    pub fn try_recv(&mut self) -> Option<OutChunk> {
        let chunk = self.chunks.try_recv().ok()?;
        self.queued.fetch_sub(octets(&chunk), Ordering::Relaxed);
        Some(chunk)
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

/// How many queued requests are folded into one outbound computation.
const MAX_BATCH: usize = 256;

/// What the peer tasks, the VTEP and the control socket send the RIB task.
pub enum RibRequest {
    /// A session reached Established: register it (with where its UPDATEs
    /// go and where its prefix-limit alerts go) and send it the table.
    PeerUp {
        peer: PeerIdx,
        info: PeerInfo,
        group: OutGroupKey,
        graceful: GracefulPeer,
        prefix_limit: Option<PrefixLimit>,
        sink: PeerSink,
        alerts: mpsc::UnboundedSender<PrefixAlert>,
    },
    /// Any other input of the pure RIB, applied as is.
    Input(RibInput),
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
    /// A neighbour added by a reload: register it as [`RibTask::add_peer`]
    /// does at start, and answer with its index.
    AddPeer {
        info: PeerInfo,
        reply: oneshot::Sender<PeerIdx>,
    },
}

pub struct RibTask {
    rib: Rib,
    outlet: Outlet,
}

/// Where the RIB's outputs go, as it produces them: each encoded batch to
/// the sinks of its group's members at once, so writers start while the
/// rest of a step is still being encoded.
struct Outlet {
    /// Indexed by `PeerIdx`; `None` while the peer is down.
    sinks: Vec<Option<PeerSink>>,
    /// Gets every batch of best-path changes (the VTEP's importer).
    observer: Option<mpsc::UnboundedSender<RibEvent>>,
    /// Indexed by `PeerIdx`: the session told when its path count crosses
    /// its prefix limit. Unbounded: one message per crossing.
    alerts: Vec<Option<mpsc::UnboundedSender<PrefixAlert>>>,
}

impl RibOutlet for Outlet {
    /// A closed sink or observer is a task that already ended; its own
    /// shutdown path reports that.
    fn put(&mut self, output: RibOutput) {
        match output {
            RibOutput::Send { peer, messages } => {
                let Some(sink) = self.sinks.get_mut(usize::from(peer.0)) else {
                    return;
                };
                if let Some(s) = sink
                    && s.try_send(messages) == Err(SinkError::Full)
                {
                    // The peer task ends the session (Cease / Out of
                    // Resources); until its PeerDown arrives, nothing more
                    // is queued for this connection.
                    warn!(
                        peer = peer.0,
                        queue_bytes = s.limit,
                        "outbound queue full: dropping the peer's sink"
                    );
                    *sink = None;
                }
            }
            RibOutput::Event(event) => {
                if let Some(observer) = &self.observer {
                    let _ = observer.send(event);
                }
            }
            RibOutput::PrefixLimit(alert) => {
                if let Some(Some(session)) = self.alerts.get(usize::from(alert.peer.0)) {
                    let _ = session.send(alert);
                }
            }
        }
    }
}

impl RibTask {
    pub fn new(rib: Rib) -> Self {
        Self {
            rib,
            outlet: Outlet {
                sinks: Vec::new(),
                observer: None,
                alerts: Vec::new(),
            },
        }
    }

    /// Send every batch of best-path changes to `observer` too. Unbounded:
    /// the RIB must never wait for the VTEP, which waits for the RIB (ADR
    /// 0007, rule 3; the channel is made in `daemon::run`).
    pub fn observe(&mut self, observer: mpsc::UnboundedSender<RibEvent>) {
        self.rib.observe();
        self.outlet.observer = Some(observer);
    }

    /// Register a configured peer before its session comes up, so its index
    /// is stable across reconnects.
    pub fn add_peer(&mut self, info: PeerInfo) -> PeerIdx {
        self.rib.add_peer(info)
    }

    /// Defer the first advertisement until the peers' End-of-RIB (RFC 4724
    /// section 4.1, [`Rib::defer_selection`]); `requests` gets the end of
    /// the deferral timer after `bound`.
    pub fn defer_selection(&mut self, bound: Duration, requests: mpsc::Sender<RibRequest>) {
        self.rib.defer_selection();
        tokio::spawn(async move {
            tokio::time::sleep(bound).await;
            let _ = requests
                .send(RibRequest::Input(RibInput::SelectionDeferralExpired))
                .await;
        });
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
            self.rib.flush(&mut self.outlet);
        }
    }

    fn handle(&mut self, request: RibRequest) {
        let input = match request {
            RibRequest::PeerUp {
                peer,
                info,
                group,
                graceful,
                prefix_limit,
                sink,
                alerts,
            } => {
                let slot = usize::from(peer.0);
                let outlet = &mut self.outlet;
                if outlet.sinks.len() <= slot {
                    outlet.sinks.resize(slot + 1, None);
                    outlet.alerts.resize(slot + 1, None);
                }
                outlet.sinks[slot] = Some(sink);
                outlet.alerts[slot] = Some(alerts);
                RibInput::PeerUp {
                    peer,
                    info,
                    group,
                    graceful,
                    prefix_limit,
                }
            }
            RibRequest::Input(input) => {
                if let RibInput::PeerDown { peer, .. } = input
                    && let Some(sink) = self.outlet.sinks.get_mut(usize::from(peer.0))
                {
                    *sink = None;
                }
                input
            }
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
            RibRequest::AddPeer { info, reply } => {
                let _ = reply.send(self.rib.add_peer(info));
                return;
            }
        };
        // What one input produces goes out as it is produced, in order (a
        // full table before its End-of-RIB).
        self.rib.handle(input, &mut self.outlet);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use evpnd_core::rib::attrs::PathSummary;
    use evpnd_core::rib::encode::OutboundEncoder;
    use evpnd_core::rib::engine::{IngressUpdate, Reach};
    use evpnd_core::rib::peer::PeerKind;
    use evpnd_wire::Family;
    use std::net::{IpAddr, Ipv4Addr};

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
        RibRequest::Input(RibInput::Local {
            update: IngressUpdate {
                reach: Some(Reach {
                    attributes: Bytes::from(attributes),
                    next_hop: Bytes::from(vec![198, 18, 1, vtep]),
                    summary: PathSummary::default(),
                    nlri: Bytes::from(nlri),
                }),
                ..Default::default()
            },
        })
    }

    fn group() -> OutGroupKey {
        OutGroupKey {
            kind: PeerKind::IbgpClient,
            four_octet_as: true,
            max_message_len: 4096,
        }
    }

    /// A RIB task with one client up on a queue of `limit` octets, fed
    /// `routes` local routes one step each; what the queue holds, in order.
    fn queue_after(limit: usize, routes: u8) -> (RibTask, PeerIdx, PeerQueue, Arc<Notify>) {
        let encoder = OutboundEncoder {
            family: Family::L2VPN_EVPN,
            local_asn: 65000,
            cluster_id: Ipv4Addr::new(198, 18, 0, 1),
        };
        let mut task = RibTask::new(Rib::new(info(1, PeerKind::Local), encoder));
        let peer = task.add_peer(info(2, PeerKind::IbgpClient));
        let (sink, queue) = PeerSink::channel(limit);
        let overflow = sink.overflow_signal();
        task.handle(RibRequest::PeerUp {
            peer,
            info: info(2, PeerKind::IbgpClient),
            group: group(),
            graceful: GracefulPeer::default(),
            prefix_limit: None,
            sink,
            alerts: mpsc::unbounded_channel().0,
        });
        for vtep in 1..=routes {
            task.handle(local_route(vtep));
            task.rib.flush(&mut task.outlet);
        }
        (task, peer, queue, overflow)
    }

    fn drain(queue: &mut PeerQueue) -> Vec<usize> {
        std::iter::from_fn(|| queue.chunks.try_recv().ok())
            .map(|chunk| octets(&chunk))
            .collect()
    }

    /// A peer whose queue nobody drains: the RIB task never waits on it;
    /// when the next chunk would take it past its octets the overflow
    /// signal (which ends the session) is raised and the RIB task drops the
    /// sink.
    #[tokio::test]
    async fn a_sink_that_is_never_drained_overflows_and_is_dropped() {
        // The sizes: End-of-RIB, then one UPDATE per route.
        let (_, _, mut roomy, _) = queue_after(1 << 20, 3);
        let sizes = drain(&mut roomy);
        assert_eq!(sizes.len(), 4, "End-of-RIB and three UPDATEs: {sizes:?}");
        let limit = sizes[..3].iter().sum();
        let (task, peer, mut queue, overflow) = queue_after(limit, 3);
        assert!(
            task.outlet.sinks[usize::from(peer.0)].is_none(),
            "the sink that would pass {limit} octets is dropped"
        );
        tokio::time::timeout(Duration::from_secs(1), overflow.notified())
            .await
            .expect("the overflow is signalled");
        assert_eq!(queue.queued.load(Ordering::Relaxed), limit);
        assert_eq!(drain(&mut queue), sizes[..3], "nothing more was queued");
    }

    /// An empty queue takes any one chunk, so a table larger than the bound
    /// still reaches a peer that reads; the writer taking a chunk frees its
    /// octets.
    #[tokio::test]
    async fn an_empty_queue_takes_a_chunk_larger_than_its_bound() {
        let (task, peer, mut queue, _) = queue_after(1, 0);
        assert!(task.outlet.sinks[usize::from(peer.0)].is_some());
        let table = queue.recv().await.expect("the table (End-of-RIB)");
        assert_eq!(table.len(), 1);
        assert_eq!(queue.queued.load(Ordering::Relaxed), 0);
    }
}
