//! The VTEP's OS threads (netlink notifications, netlink requests,
//! topology drift healing), each supervised: a panic (a bug) is logged and
//! counted, the thread starts again after a back-off, and the VTEP task
//! re-reads the kernel. The VTEP task itself is supervised the same way
//! (`super::supervise`), with the back-off and counters defined here.

use super::*;

/// First restart of a VTEP thread that panicked; doubles per panic in a row.
pub(super) const PANIC_RESTART_BASE: Duration = Duration::from_millis(100);
/// Longest wait before restarting a thread that keeps panicking.
pub(super) const PANIC_RESTART_CAP: Duration = Duration::from_secs(30);
/// A thread that ran this long since its last restart starts over at
/// PANIC_RESTART_BASE.
pub(super) const PANIC_STABLE: Duration = Duration::from_secs(60);

/// Restarts of the VTEP's threads after a panic, per thread (issue 13,
/// contained failures), for `show`/metrics.
#[derive(Debug, Default)]
pub struct ThreadRestarts {
    pub nl_events: AtomicU64,
    pub nl_requests: AtomicU64,
    pub topology: AtomicU64,
    /// The VTEP task itself (the tokio task around the core).
    pub reconciler: AtomicU64,
}

/// The VTEP's threads, by their short names (fault injection, logs, the
/// `thread` label of the restart counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VtepThread {
    NlEvents,
    NlRequests,
    Topology,
    /// The VTEP task (a tokio task, supervised the same way).
    Reconciler,
}

impl VtepThread {
    pub(super) const fn name(self) -> &'static str {
        match self {
            VtepThread::NlEvents => "nl-events",
            VtepThread::NlRequests => "nl-requests",
            VtepThread::Topology => "topology",
            VtepThread::Reconciler => "reconciler",
        }
    }

    pub(super) fn counter(self, restarts: &ThreadRestarts) -> &AtomicU64 {
        match self {
            VtepThread::NlEvents => &restarts.nl_events,
            VtepThread::NlRequests => &restarts.nl_requests,
            VtepThread::Topology => &restarts.topology,
            VtepThread::Reconciler => &restarts.reconciler,
        }
    }

    /// Said when the VTEP re-reads the kernel after this thread restarted.
    const fn resync_reason(self) -> &'static str {
        match self {
            VtepThread::NlEvents => "the netlink notification thread restarted after a panic",
            VtepThread::NlRequests => "the netlink request thread restarted after a panic",
            VtepThread::Topology => "the topology healing thread restarted after a panic",
            VtepThread::Reconciler => "the VTEP task restarted after a panic",
        }
    }
}

/// Test-only fault injection: with `EVPND_FAULT_VTEP_PANIC=<names>`
/// (comma-separated: `nl-events`, `nl-requests`, `topology`, `reconciler`)
/// in the environment, each named thread panics once per process, the first
/// time it has work (a notification batch, an operation batch, a topology
/// check, an input after start),
/// to show its restart, the resync after it and the counter
/// (`proto-tests/vtep-drift-vm.sh`). Costs one environment lookup per batch
/// only while some injection is still pending.
pub(super) fn inject_panic(thread: VtepThread) {
    use std::sync::atomic::AtomicBool;
    static NONE_LEFT: AtomicBool = AtomicBool::new(false);
    static FIRED: [AtomicBool; 4] = [
        AtomicBool::new(false),
        AtomicBool::new(false),
        AtomicBool::new(false),
        AtomicBool::new(false),
    ];
    if NONE_LEFT.load(Ordering::Relaxed) {
        return;
    }
    let Ok(names) = std::env::var("EVPND_FAULT_VTEP_PANIC") else {
        NONE_LEFT.store(true, Ordering::Relaxed);
        return;
    };
    if names.split(',').any(|n| n.trim() == thread.name())
        && !FIRED[thread as usize].swap(true, Ordering::Relaxed)
    {
        panic!("fault injection: EVPND_FAULT_VTEP_PANIC={}", thread.name());
    }
}

/// Runs `body` on its own OS thread, again after a panic (a bug): the
/// panic is logged with its message, counted per thread, the VTEP task is
/// asked to re-read the kernel (what the thread was doing is lost: a batch
/// of operations half applied, notifications not read) and the thread
/// restarts after a back-off (100 ms doubling to 30 s, from the start after
/// a minute without panic). `body` returns when its work is over for good
/// (a channel closed); `state` is what survives a restart (channels), the
/// rest (sockets) `body` rebuilds.
pub(super) fn spawn_supervised<S: Send + 'static>(
    thread: VtepThread,
    restarts: Arc<ThreadRestarts>,
    resync: mpsc::Sender<EventBatch>,
    mut state: S,
    body: impl Fn(&mut S) + Send + 'static,
) {
    std::thread::Builder::new()
        .name(format!("evpnd-{}", thread.name()))
        .spawn(move || {
            let mut backoff = PANIC_RESTART_BASE;
            loop {
                let started = Instant::now();
                let panic = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    body(&mut state)
                })) {
                    Ok(()) => return,
                    Err(panic) => panic,
                };
                let what = crate::panic::message(&*panic);
                thread.counter(&restarts).fetch_add(1, Ordering::Relaxed);
                if started.elapsed() > PANIC_STABLE {
                    backoff = PANIC_RESTART_BASE;
                }
                tracing::error!(
                    thread = thread.name(),
                    panic = %what,
                    restart_in_ms = backoff.as_millis() as u64,
                    "a VTEP thread panicked (a bug); restarting it, then re-reading the kernel"
                );
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(PANIC_RESTART_CAP);
                if resync.blocking_send(Err(thread.resync_reason())).is_err() {
                    return;
                }
            }
        })
        .map(drop)
        .unwrap_or_else(
            |e| warn!(error = %e, thread = thread.name(), "cannot start a VTEP thread"),
        );
}

/// Reads neighbour/FDB notifications on a thread of its own (the socket is
/// blocking) and forwards what concerns evpnd; blocks when the VTEP task is
/// behind (EVENT_QUEUE). `events` was subscribed before the start-up dumps;
/// after a restart the thread subscribes again.
pub(super) fn spawn_event_thread(
    events: EventSocket,
    own: Ownership,
    scope: SharedLearnScope,
    tx: mpsc::Sender<EventBatch>,
    restarts: Arc<ThreadRestarts>,
) {
    let resync = tx.clone();
    let body = move |first: &mut Option<EventSocket>| {
        let mut events = match first.take().map_or_else(EventSocket::subscribe, Ok) {
            Ok(events) => events,
            Err(e) => {
                warn!(error = %e, "cannot subscribe to netlink notifications; no more drift healing or local learning");
                return;
            }
        };
        loop {
            let batch = match events.recv_all(&own, &scope) {
                Ok(batch) if batch.is_empty() => continue,
                Ok(batch) => Ok(batch),
                Err(SocketError::ResyncNeeded) => Err("notifications were lost (ENOBUFS)"),
                Err(e) => {
                    warn!(error = %e, "netlink notification socket failed; no more drift healing or local learning");
                    return;
                }
            };
            inject_panic(VtepThread::NlEvents);
            if tx.blocking_send(batch).is_err() {
                return;
            }
        }
    };
    spawn_supervised(VtepThread::NlEvents, restarts, resync, Some(events), body);
}

/// Drift healing of the topology (issue 13) on a thread of its own: after
/// every link/VLAN/VNI-filter notification, and every TOPOLOGY_CHECK
/// anyway, `setup::heal` re-observes the bridge/vxlan topology and puts back
/// what differs from the spec (the decision is the pure `heal_plan`).
/// After a repair the VTEP re-reads its rows: a device set down or
/// re-created takes rows with it (the vxlan driver flushes its non-permanent
/// FDB rows on down, an SVI its neighbours).
pub(super) fn spawn_topology_thread(
    watch: TopologyWatch,
    shared: SharedTopology,
    tx: mpsc::Sender<EventBatch>,
    repairs: Arc<AtomicU64>,
    restarts: Arc<ThreadRestarts>,
) {
    let resync = tx.clone();
    let body = move |first: &mut Option<TopologyWatch>| {
        let mut watch = match first.take().map_or_else(TopologyWatch::subscribe, Ok) {
            Ok(watch) => Some(watch),
            Err(e) => {
                warn!(error = %e, "cannot subscribe to link notifications; checking the topology every {} s only", TOPOLOGY_CHECK.as_secs());
                None
            }
        };
        let mut socket = None;
        // Said once each, not every TOPOLOGY_CHECK.
        let mut last_unhealable = Vec::new();
        let mut last_error = String::new();
        let mut moved = false;
        loop {
            match watch.as_mut().map(|w| w.wait(TOPOLOGY_CHECK)) {
                None => std::thread::sleep(TOPOLOGY_CHECK),
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    warn!(error = %e, "topology notifications failed; checking every {} s only", TOPOLOGY_CHECK.as_secs());
                    watch = None;
                }
            }
            inject_panic(VtepThread::Topology);
            let state = lock(&shared);
            let (spec, topology) = (&state.spec, &state.topology);
            let healed = match socket.as_mut() {
                Some(s) => heal(s, spec, topology),
                None => TopologySocket::open().and_then(|mut s| {
                    let r = heal(&mut s, spec, topology);
                    socket = Some(s);
                    r
                }),
            };
            let report = match healed {
                Ok(report) => report,
                Err(e) => {
                    let text = e.to_string();
                    if text != last_error {
                        warn!(error = %text, "VTEP topology drift healing failed; trying again");
                        last_error = text;
                    }
                    socket = None;
                    continue;
                }
            };
            last_error.clear();
            for change in &report.changes {
                warn!(change = %change, "VTEP topology changed by someone else; restored");
            }
            if report.unhealable != last_unhealable {
                for problem in &report.unhealable {
                    warn!(problem = %problem, "VTEP topology differs from the config; not changing it");
                }
                last_unhealable = report.unhealable;
            }
            let now_moved = report.topology.as_ref().is_some_and(|t| t != topology);
            if now_moved && !moved {
                warn!(
                    now = ?report.topology,
                    was = ?topology,
                    "a VTEP device was re-created under another ifindex; evpnd's rows still name the old one: restart evpnd"
                );
            }
            moved = now_moved;
            drop(state);
            if !report.changes.is_empty() {
                repairs.fetch_add(report.changes.len() as u64, Ordering::Relaxed);
                if tx
                    .blocking_send(Err("the VTEP topology was repaired"))
                    .is_err()
                {
                    return;
                }
            }
        }
    };
    spawn_supervised(VtepThread::Topology, restarts, resync, Some(watch), body);
}

/// What the request thread keeps across a restart: its socket (reopened if
/// a panic took it), the queues.
pub(super) struct RequestState {
    socket: Option<RequestSocket>,
    ops: mpsc::Receiver<Vec<Op>>,
    failed: mpsc::UnboundedSender<Vec<Op>>,
}

/// Applies batches of operations on a thread of its own, pipelined
/// (many requests per sendmsg, see `dataplane::socket`); failures go back to
/// the VTEP task to be retried.
pub(super) fn spawn_request_thread(
    requests: RequestSocket,
    own: Ownership,
    ops: mpsc::Receiver<Vec<Op>>,
    failed: mpsc::UnboundedSender<Vec<Op>>,
    resync: mpsc::Sender<EventBatch>,
    restarts: Arc<ThreadRestarts>,
) {
    let body = move |state: &mut RequestState| {
        // Taken for the time of a batch: a panic in it drops the socket,
        // whose state (pending ACKs) is unknown, and the restart opens a
        // fresh one.
        let mut requests = match state.socket.take().map_or_else(
            || {
                RequestSocket::open().map(|mut s| {
                    s.set_ack_mode(AckMode::ErrorsAndLast);
                    s
                })
            },
            Ok,
        ) {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "cannot open the netlink request socket; no more kernel updates");
                return;
            }
        };
        while let Some(batch) = state.ops.blocking_recv() {
            inject_panic(VtepThread::NlRequests);
            match requests.apply(&batch, &own) {
                Ok(report) => {
                    for failure in &report.failures {
                        warn!(failure = %failure, "kernel refused an update; will retry");
                    }
                    debug!(
                        applied = report.applied,
                        failed = report.failures.len(),
                        "kernel updated"
                    );
                    let again: Vec<Op> = report.failures.iter().map(|f| f.op).collect();
                    if !again.is_empty() && state.failed.send(again).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    warn!(error = %e, ops = batch.len(), "netlink request batch failed; will retry");
                    if state.failed.send(batch).is_err() {
                        return;
                    }
                }
            }
        }
    };
    let state = RequestState {
        socket: Some(requests),
        ops,
        failed,
    };
    spawn_supervised(VtepThread::NlRequests, restarts, resync, state, body);
}
