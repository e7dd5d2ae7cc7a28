//! The VTEP shell: brings the bridge/vxlan topology up from config and moves
//! data between the pure [`VtepCore`] (every decision: origination, import,
//! drift repair, retries, stale clean-up), the RIB task and two netlink
//! threads (one applying batched requests, one reading notifications).
//! Nothing here decides; it reads the clock, dumps the kernel, sends and
//! receives.

use crate::api::protocol::{FdbRow, VniRow};
use crate::config::{Config, VtepConfig};
use crate::rib_task::RibRequest;
use evpnd_core::dataplane::diff::Op;
use evpnd_core::dataplane::model::{OwnedRow, Ownership};
use evpnd_core::evpn::instance::{EvpnInstances, InstanceError};
use evpnd_core::rib::engine::{RibEvent, RibInput};
use evpnd_core::vtep::InstanceChanges;
pub use evpnd_core::vtep::VtepStats;
use evpnd_core::vtep::{Level, VtepCore, VtepInput, VtepOutput, VtepTimer};
use evpnd_linux::nl::neigh::{KernelEvent, LearnScope, Learned, SharedLearnScope};
use evpnd_linux::setup::{
    SetupError, Topology, TopologySocket, TopologySpec, TopologyWatch, VlanVni, heal, retire, setup,
};
use evpnd_linux::socket::{AckMode, EventSocket, RequestSocket, SocketError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::panic::CatchUnwind;

mod show;
mod threads;

pub use threads::ThreadRestarts;
use threads::{
    PANIC_RESTART_BASE, PANIC_RESTART_CAP, PANIC_STABLE, VtepThread, inject_panic,
    spawn_event_thread, spawn_request_thread, spawn_topology_thread,
};

/// AF_BRIDGE, AF_INET, AF_INET6 (socket.h).
const AF_BRIDGE: u8 = 7;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Batches of kernel operations queued for the request thread (each batch
/// is what one input decided, usually a few operations). Bounded: when the
/// kernel is slow, the VTEP task waits for room here and meanwhile takes
/// no RIB changes, notifications or queries. The RIB is not slowed: its
/// changes wait in the observer queue, which is unbounded so that the RIB
/// never waits for the VTEP (ADR 0007 rule 3; `daemon::run`); so a slow
/// kernel costs memory there, as RIB events sharing the Loc-RIB's paths,
/// rather than as copied operations here. Notifications back up into
/// EVENT_QUEUE and then the kernel's socket buffer.
const OPS_QUEUE: usize = 64;
/// Notification batches queued by the netlink event thread. Bounded: when
/// the VTEP task is behind, the thread blocks on this queue, the kernel's
/// socket buffer fills and overflows (ENOBUFS), and the VTEP re-reads what
/// the kernel holds, owned and learnt rows (a resync, `VtepInput::Resync`):
/// the kernel's buffer is the bound and the resync the recovery, one dump
/// instead of every lost notification.
const EVENT_QUEUE: usize = 1024;
/// Snooped ARP/ND bindings waiting for the VTEP, one per packet. When full,
/// the snoopers drop new ones and count them: a binding is named again by
/// the host's next packet, so losing one under a storm costs a delay, never
/// state.
const SNOOP_QUEUE: usize = 1024;

/// What the netlink event thread, the snoopers and topology healing send: a
/// batch of events, or `Err(why)` when the kernel must be re-read
/// (notifications were lost, or the topology was repaired and rows may have
/// gone with it).
type EventBatch = Result<Vec<KernelEvent>, &'static str>;

/// Drift healing of the topology re-checks it this often even when no
/// notification came (a safety net: a lost notification, a change no group
/// reports). Three dumps of a few kB each.
const TOPOLOGY_CHECK: Duration = Duration::from_secs(2);

#[derive(Debug, Error)]
pub enum VtepError {
    #[error("VTEP set-up: {0}")]
    Setup(#[from] SetupError),
    #[error("EVPN instances: {0}")]
    Instances(#[from] InstanceError),
    #[error("netlink: {0}")]
    Socket(#[from] SocketError),
    #[error("VTEP set-up task: {0}")]
    Join(String),
}

/// `show vnis` / `show fdb`, answered by the VTEP task, and a reload's
/// new `[vtep]`.
pub enum VtepQuery {
    Stats(oneshot::Sender<VtepStats>),
    /// Apply the VNIs and route targets of `vtep` (a reload; its devices
    /// and addresses are the running ones, `config::diff` refuses other
    /// changes). Answered once everything is applied: what changed, one
    /// line per step, or why nothing did.
    Reconfigure {
        vtep: Box<VtepConfig>,
        router_id: std::net::Ipv4Addr,
        asn: u32,
        reply: oneshot::Sender<Result<Vec<String>, String>>,
    },
    Vnis(oneshot::Sender<Vec<VniRow>>),
    Fdb {
        vni: Option<u32>,
        reply: oneshot::Sender<Vec<FdbRow>>,
    },
}

/// The bridge/vxlan topology `[vtep]` asks for, in the set-up layer's own
/// terms (the kernel layer takes desired state, not config).
fn topology_spec(vtep: &VtepConfig) -> TopologySpec {
    TopologySpec {
        bridge: vtep.bridge.clone(),
        vxlan_device: vtep.vxlan_device.clone(),
        local_ip: vtep.local_ip,
        vxlan_port: vtep.vxlan_port,
        bridge_mac: vtep.bridge_mac,
        vlan_vnis: vtep
            .vnis
            .iter()
            .map(|v| VlanVni {
                vlan: v.vlan,
                vni: v.vni,
            })
            .collect(),
    }
}

/// The topology spec drift healing holds the kernel to, and the topology
/// it found, shared by the VTEP task (a reload changes both) and the
/// healing thread (which holds the lock for each check, so a reload's
/// set-up never races a repair).
#[derive(Debug)]
struct TopologyState {
    spec: TopologySpec,
    topology: Topology,
}

type SharedTopology = Arc<Mutex<TopologyState>>;

fn lock(shared: &SharedTopology) -> std::sync::MutexGuard<'_, TopologyState> {
    // Only ever assigned whole: a panic while held leaves a usable value.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The learning scope of `topology` for `instances`' VLANs.
fn learn_scope(topology: &Topology, instances: &EvpnInstances) -> LearnScope {
    LearnScope {
        own: Some(topology.ownership()),
        vlans: instances.iter().map(|i| i.vlan).collect(),
        svis: topology
            .svis
            .iter()
            .map(|(vlan, ifindex)| (*ifindex, *vlan))
            .collect(),
    }
}

/// Every row evpnd owns: on the vxlan device, and on each SVI (IPv4 and
/// IPv6 suppression neighbours).
fn dump_owned(
    socket: &mut RequestSocket,
    topology: &Topology,
) -> Result<Vec<OwnedRow>, SocketError> {
    let own = topology.ownership();
    let mut rows: Vec<OwnedRow> = socket
        .dump_owned(AF_BRIDGE, topology.vxlan_ifindex, &own)?
        .iter()
        .map(|e| *e.row())
        .collect();
    for svi in topology.svis.values() {
        for family in [AF_INET, AF_INET6] {
            rows.extend(
                socket
                    .dump_owned(family, *svi, &own)?
                    .iter()
                    .map(|e| *e.row()),
            );
        }
    }
    Ok(rows)
}

/// Every row the kernel learnt that evpnd advertises: the bridge's FDB and
/// the SVIs' neighbour tables (IPv4 and IPv6).
fn dump_learned(
    socket: &mut RequestSocket,
    topology: &Topology,
    scope: &LearnScope,
) -> Result<Vec<Learned>, SocketError> {
    let mut learned = socket.dump_learned(AF_BRIDGE, 0, scope)?;
    for svi in topology.svis.values() {
        for family in [AF_INET, AF_INET6] {
            learned.extend(socket.dump_learned(family, *svi, scope)?);
        }
    }
    Ok(learned)
}

/// Brings the topology up (or refuses, naming each problem) and starts the
/// VTEP task. `changes` is the RIB task's best-path observer.
pub async fn start(
    config: &Config,
    rib: mpsc::Sender<RibRequest>,
    changes: mpsc::UnboundedReceiver<RibEvent>,
) -> Result<mpsc::Sender<VtepQuery>, VtepError> {
    let Some(vtep) = config.vtep.clone() else {
        return Err(VtepError::Join("no [vtep] section".into()));
    };
    let instances =
        EvpnInstances::from_spec(&vtep.evpn_spec(config.bgp.router_id, config.bgp.asn))?;
    let topology_spec = topology_spec(&vtep);
    let heal_spec = topology_spec.clone();
    let (topology, report) = tokio::task::spawn_blocking(move || {
        let mut socket = TopologySocket::open()?;
        setup(&mut socket, &topology_spec)
    })
    .await
    .map_err(|e| VtepError::Join(e.to_string()))??;
    for change in &report.changes {
        info!(change = %change, "VTEP set-up");
    }
    info!(
        bridge = %vtep.bridge,
        vxlan = %vtep.vxlan_device,
        vnifilter = topology.vnifilter,
        vnis = instances.len(),
        "VTEP topology ready"
    );
    let own = topology.ownership();
    let scope = learn_scope(&topology, &instances);

    // What evpnd installed before (adopted) and what the kernel learnt.
    let mut requests = RequestSocket::open()?;
    requests.set_ack_mode(AckMode::ErrorsAndLast);
    let adopted = dump_owned(&mut requests, &topology)?;
    let learned = dump_learned(&mut requests, &topology, &scope)?;
    let (learned_count, adopted_rows) = (learned.len(), adopted.len());

    // Bounded, see EVENT_QUEUE.
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    // Bounded, see SNOOP_QUEUE: the snoopers drop (and count) rather than wait.
    let (snooped_tx, snooped_rx) = mpsc::channel(SNOOP_QUEUE);
    let events = EventSocket::subscribe()?;
    let scope: SharedLearnScope = Arc::new(RwLock::new(scope));
    let snoop_drops = match evpnd_linux::snoop::spawn_snoopers(scope.clone(), snooped_tx) {
        Ok(drops) => drops,
        Err(e) => {
            warn!(error = %e, "cannot snoop ARP/ND; MAC+IP routes come from the SVIs' neighbour tables only");
            Default::default()
        }
    };
    // Subscribed before the thread starts, so no change after set-up is missed.
    let watch = TopologyWatch::subscribe()?;
    let topology_repairs = Arc::new(AtomicU64::new(0));
    let thread_restarts = Arc::new(ThreadRestarts::default());
    let shared_topology = Arc::new(Mutex::new(TopologyState {
        spec: heal_spec,
        topology: topology.clone(),
    }));
    spawn_topology_thread(
        watch,
        shared_topology.clone(),
        events_tx.clone(),
        topology_repairs.clone(),
        thread_restarts.clone(),
    );
    let resync_tx = events_tx.clone();
    spawn_event_thread(
        events,
        own,
        scope.clone(),
        events_tx,
        thread_restarts.clone(),
    );
    // Bounded, see OPS_QUEUE.
    let (ops_tx, ops_rx) = mpsc::channel::<Vec<Op>>(OPS_QUEUE);
    // Unbounded on purpose: the request thread must never wait for the VTEP
    // task, which may itself be waiting for room in `ops` (a cycle of two
    // bounded queues deadlocks). What it holds is at most what the VTEP sent
    // through the bounded `ops` queue, and the VTEP drains it every turn.
    let (failed_tx, failed_rx) = mpsc::unbounded_channel();
    spawn_request_thread(
        requests,
        own,
        ops_rx,
        failed_tx,
        resync_tx,
        thread_restarts.clone(),
    );

    let (queries_tx, queries_rx) = mpsc::channel(16);
    let core = VtepCore::new(instances, topology.svis.clone());
    let mut task = VtepTask {
        topology,
        shared_topology,
        scope,
        core,
        rib,
        ops: ops_tx,
        snoop_drops,
        topology_repairs,
        thread_restarts,
        retry_at: None,
        stale_at: None,
        reconfiguring: None,
    };
    task.input(VtepInput::Start {
        now: Instant::now(),
        adopted,
        learned,
    })
    .await;
    info!(
        adopted = task.core.kernel().len(),
        adopted_rows,
        learned = learned_count,
        "VTEP kernel state read"
    );
    let inbox = VtepInbox {
        changes,
        events: events_rx,
        snooped: snooped_rx,
        failed: failed_rx,
        queries: queries_rx,
    };
    tokio::spawn(supervise(task, inbox));
    Ok(queries_tx)
}

/// The VTEP task's queues: they outlive a restart of the task, so nothing
/// sent to it is lost and nobody holding a sender notices.
struct VtepInbox {
    changes: mpsc::UnboundedReceiver<RibEvent>,
    events: mpsc::Receiver<EventBatch>,
    snooped: mpsc::Receiver<Result<Vec<KernelEvent>, ()>>,
    failed: mpsc::UnboundedReceiver<Vec<Op>>,
    queries: mpsc::Receiver<VtepQuery>,
}

/// Runs the VTEP task until its queues close. A panic in it (a bug) is
/// contained like one in the netlink threads: logged, counted (`thread`
/// "reconciler"), and after a back-off the task starts over with a fresh
/// core that adopts the kernel's rows, re-reads what the kernel learnt and
/// re-imports the RIB's table (`VtepTask::start_over`), with the same
/// queues; the sessions and the kernel's forwarding never notice.
async fn supervise(mut task: VtepTask, mut inbox: VtepInbox) {
    let mut backoff = PANIC_RESTART_BASE;
    loop {
        let started = Instant::now();
        let panic = match CatchUnwind(Box::pin(task.run(&mut inbox))).await {
            Ok(()) => return,
            Err(panic) => panic,
        };
        let thread = VtepThread::Reconciler;
        thread
            .counter(&task.thread_restarts)
            .fetch_add(1, Ordering::Relaxed);
        if started.elapsed() > PANIC_STABLE {
            backoff = PANIC_RESTART_BASE;
        }
        tracing::error!(
            thread = thread.name(),
            panic = %crate::panic::message(&*panic),
            restart_in_ms = backoff.as_millis() as u64,
            "the VTEP task panicked (a bug); starting it over from the kernel's rows and the RIB's table"
        );
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(PANIC_RESTART_CAP);
        task.start_over().await;
    }
}

struct VtepTask {
    topology: Topology,
    /// The same, with the spec, as drift healing holds the kernel to it.
    shared_topology: SharedTopology,
    /// What the kernel's own learning is read for (resync dumps, the
    /// notification thread, the snoopers).
    scope: SharedLearnScope,
    core: VtepCore,
    rib: mpsc::Sender<RibRequest>,
    ops: mpsc::Sender<Vec<Op>>,
    /// Snooped bindings dropped on a full queue (see SNOOP_QUEUE).
    snoop_drops: evpnd_linux::snoop::SnoopDrops,
    /// Topology objects put back by drift healing (counted with the core's
    /// row repairs in `drift_repairs`).
    topology_repairs: Arc<AtomicU64>,
    /// Restarts of the netlink and topology threads after a panic.
    thread_restarts: Arc<ThreadRestarts>,
    /// Deadlines the core asked for, not yet handed to the timers.
    retry_at: Option<Instant>,
    stale_at: Option<Instant>,
    /// A reload's reconfiguration waiting for the RIB's table.
    reconfiguring: Option<Reconfiguring>,
}

/// What is left of a reload once the core has the new instances: retiring
/// the removed VLANs' topology after the core deleted their rows, and the
/// answer.
struct Reconfiguring {
    retired: Vec<VlanVni>,
    report: Vec<String>,
    reply: oneshot::Sender<Result<Vec<String>, String>>,
}

impl VtepTask {
    async fn run(&mut self, inbox: &mut VtepInbox) {
        let VtepInbox {
            changes,
            events,
            snooped,
            failed,
            queries,
        } = inbox;
        let far = || tokio::time::Instant::now() + Duration::from_secs(3600);
        let stale = tokio::time::sleep_until(far());
        tokio::pin!(stale);
        let retry = tokio::time::sleep_until(far());
        tokio::pin!(retry);
        // The deadline each timer is armed for; `None` while disarmed. A
        // timer's Tick carries at least its deadline, so the core acts on it
        // even if the clock read after waking were a hair early.
        let (mut stale_armed, mut retry_armed): (Option<Instant>, Option<Instant>) = (None, None);
        loop {
            if let Some(at) = self.retry_at.take() {
                retry.as_mut().reset(tokio::time::Instant::from_std(at));
                retry_armed = Some(at);
            }
            if let Some(at) = self.stale_at.take() {
                stale.as_mut().reset(tokio::time::Instant::from_std(at));
                stale_armed = Some(at);
            }
            let input = tokio::select! {
                event = changes.recv() => match event {
                    Some(RibEvent::Table(table)) => {
                        // The table a reload asked for: the core applies the
                        // new instances with it, then the topology of the
                        // removed VNIs goes.
                        self.input(VtepInput::Rib(RibEvent::Table(table))).await;
                        self.finish_reconfigure().await;
                        continue;
                    }
                    Some(event) => VtepInput::Rib(event),
                    None => return,
                },
                Some(batch) = events.recv() => self.kernel_input(batch),
                Some(batch) = snooped.recv() => {
                    self.kernel_input(batch.map_err(|()| "snooped bindings were lost"))
                }
                Some(ops) = failed.recv() => VtepInput::Failed { now: Instant::now(), ops },
                () = &mut retry, if retry_armed.is_some() => VtepInput::Tick {
                    now: Instant::now().max(retry_armed.take().unwrap_or_else(Instant::now)),
                },
                () = &mut stale, if stale_armed.is_some() => VtepInput::Tick {
                    now: Instant::now().max(stale_armed.take().unwrap_or_else(Instant::now)),
                },
                Some(query) = queries.recv() => {
                    match query {
                        VtepQuery::Reconfigure { vtep, router_id, asn, reply } => {
                            self.reconfigure(&vtep, router_id, asn, reply).await;
                        }
                        query => self.answer(query),
                    }
                    continue;
                }
            };
            inject_panic(VtepThread::Reconciler);
            self.input(input).await;
        }
    }

    /// After a panic: a fresh core with the instances that ran, adopting
    /// the kernel's rows as at start, then the RIB's table re-imported
    /// against them (only what differs is sent) and local learning read
    /// again. A reload that was waiting is answered with the failure.
    async fn start_over(&mut self) {
        if let Some(waiting) = self.reconfiguring.take() {
            let _ = waiting.reply.send(Err(
                "the VTEP task restarted after a panic; run the reload again".into(),
            ));
        }
        let instances = self.core.instances().clone();
        self.core = VtepCore::new(instances.clone(), self.topology.svis.clone());
        self.retry_at = None;
        self.stale_at = None;
        let dumped = RequestSocket::open().and_then(|mut s| {
            let rows = dump_owned(&mut s, &self.topology)?;
            let learned = dump_learned(&mut s, &self.topology, &LearnScope::read(&self.scope))?;
            Ok((rows, learned))
        });
        let (adopted, learned) = dumped.unwrap_or_else(|e| {
            warn!(error = %e, "cannot read the kernel after the VTEP task's panic; its rows are installed again");
            (Vec::new(), Vec::new())
        });
        let now = Instant::now();
        self.input(VtepInput::Start {
            now,
            adopted,
            learned: learned.clone(),
        })
        .await;
        let replay = RibRequest::Input(RibInput::ReplayToObserver);
        if self.rib.send(replay).await.is_err() {
            return;
        }
        self.input(VtepInput::Reconfigure {
            now,
            instances,
            svis: self.topology.svis.clone(),
            learned,
        })
        .await;
    }

    /// A batch of notifications, or a resync when some were lost.
    fn kernel_input(&self, batch: EventBatch) -> VtepInput {
        match batch {
            Ok(events) => VtepInput::Kernel {
                now: Instant::now(),
                events,
            },
            Err(why) => self.resync(why),
        }
    }

    /// Re-reads every owned and every learnt row, for the core to
    /// reconcile against. A dump that fails leaves nothing to do (an empty
    /// resync is not sent: it would read as "the kernel holds nothing").
    fn resync(&self, why: &str) -> VtepInput {
        warn!(reason = why, "re-reading the kernel's EVPN state");
        let dumped = RequestSocket::open().and_then(|mut s| {
            let rows = dump_owned(&mut s, &self.topology)?;
            let learned = dump_learned(&mut s, &self.topology, &LearnScope::read(&self.scope))?;
            Ok((rows, learned))
        });
        match dumped {
            Ok((rows, learned)) => VtepInput::Resync {
                now: Instant::now(),
                rows,
                learned,
            },
            Err(e) => {
                warn!(error = %e, "cannot re-read the kernel state");
                VtepInput::Kernel {
                    now: Instant::now(),
                    events: Vec::new(),
                }
            }
        }
    }

    /// Feeds one input to the core and carries out what it decided, in
    /// order.
    async fn input(&mut self, input: VtepInput) {
        for output in self.core.handle(input) {
            match output {
                VtepOutput::Kernel(ops) => {
                    // Waits while OPS_QUEUE is full: a slow kernel slows the
                    // VTEP, not memory.
                    let _ = self.ops.send(ops).await;
                }
                VtepOutput::Rib(update) => {
                    let _ = self
                        .rib
                        .send(RibRequest::Input(RibInput::Local { update }))
                        .await;
                }
                VtepOutput::Timer { timer, at } => match timer {
                    VtepTimer::Retry => self.retry_at = Some(at),
                    VtepTimer::StaleGrace => self.stale_at = Some(at),
                },
                VtepOutput::Event(event) => match event.level() {
                    Level::Debug => debug!("{event}"),
                    Level::Info => info!("{event}"),
                    Level::Warn => warn!("{event}"),
                },
            }
        }
    }

    /// A reload's `[vtep]`: set up the new VLANs' topology, then hand the
    /// new instances to the core and ask the RIB for its table (the core
    /// applies them when it arrives, `finish_reconfigure` answers). Nothing
    /// changes when the instances are invalid or set-up refuses.
    async fn reconfigure(
        &mut self,
        vtep: &VtepConfig,
        router_id: std::net::Ipv4Addr,
        asn: u32,
        reply: oneshot::Sender<Result<Vec<String>, String>>,
    ) {
        let instances = match EvpnInstances::from_spec(&vtep.evpn_spec(router_id, asn)) {
            Ok(instances) => instances,
            Err(e) => {
                let _ = reply.send(Err(format!("EVPN instances: {e}")));
                return;
            }
        };
        let changes = InstanceChanges::between(self.core.instances(), &instances);
        if changes.is_empty() {
            let _ = reply.send(Ok(Vec::new()));
            return;
        }
        let spec = topology_spec(vtep);
        let shared = self.shared_topology.clone();
        let set_up = tokio::task::spawn_blocking(move || {
            let mut state = lock(&shared);
            let retired: Vec<VlanVni> = state
                .spec
                .vlan_vnis
                .iter()
                .filter(|v| !spec.vlan_vnis.contains(v))
                .copied()
                .collect();
            let mut socket = TopologySocket::open()?;
            // A VNI moved to another VLAN: its old mapping would contradict
            // the new one, so it goes first (its traffic stops either way).
            let moved: Vec<VlanVni> = retired
                .iter()
                .filter(|r| spec.vlan_vnis.iter().any(|v| v.vni == r.vni))
                .copied()
                .collect();
            let mut changes = Vec::new();
            if !moved.is_empty() {
                changes = retire(&mut socket, &spec, &moved)?.changes;
            }
            let (topology, mut report) = setup(&mut socket, &spec)?;
            changes.append(&mut report.changes);
            report.changes = changes;
            // From now on drift healing holds the kernel to the new spec:
            // the removed VLANs are no longer put back.
            state.spec = spec;
            state.topology = topology.clone();
            Ok::<_, SetupError>((topology, report, retired))
        })
        .await;
        let (topology, report, retired) = match set_up {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => {
                let _ = reply.send(Err(format!("VTEP set-up of the new VNIs: {e}")));
                return;
            }
            Err(e) => {
                let _ = reply.send(Err(format!("VTEP set-up task: {e}")));
                return;
            }
        };
        for change in &report.changes {
            info!(change = %change, "VTEP set-up (reload)");
        }
        let scope = learn_scope(&topology, &instances);
        *self.scope.write().unwrap_or_else(PoisonError::into_inner) = scope.clone();
        self.topology = topology;
        let learned = RequestSocket::open()
            .and_then(|mut s| dump_learned(&mut s, &self.topology, &scope))
            .unwrap_or_else(|e| {
                warn!(error = %e, "cannot read what the kernel learnt in the new VLANs; it is advertised as it is learnt again");
                Vec::new()
            });
        let replay = RibRequest::Input(RibInput::ReplayToObserver);
        if self.rib.send(replay).await.is_err() {
            let _ = reply.send(Err("the RIB task is not running".into()));
            return;
        }
        self.input(VtepInput::Reconfigure {
            now: Instant::now(),
            instances,
            svis: self.topology.svis.clone(),
            learned,
        })
        .await;
        if let Some(earlier) = self.reconfiguring.take() {
            // Overtaken by this one (the core applies the latest).
            let _ = earlier.reply.send(Ok(earlier.report));
        }
        self.reconfiguring = Some(Reconfiguring {
            retired,
            report: report.changes,
            reply,
        });
    }

    /// The core applied the new instances: remove what set-up made for the
    /// VNIs that are gone (their rows are deleted by now), and answer.
    async fn finish_reconfigure(&mut self) {
        let Some(Reconfiguring {
            retired,
            mut report,
            reply,
        }) = self.reconfiguring.take()
        else {
            return;
        };
        if !retired.is_empty() {
            let shared = self.shared_topology.clone();
            let retiring = tokio::task::spawn_blocking(move || {
                let state = lock(&shared);
                let mut socket = TopologySocket::open()?;
                retire(&mut socket, &state.spec, &retired)
            })
            .await;
            match retiring {
                Ok(Ok(done)) => {
                    for change in &done.changes {
                        info!(change = %change, "VTEP retired (reload)");
                    }
                    report.extend(done.changes);
                }
                Ok(Err(e)) => {
                    warn!(error = %e, "cannot remove the topology of the removed VNIs; remove it by hand");
                    report.push(format!("the removed VNIs' topology was not removed: {e}"));
                }
                Err(e) => report.push(format!("VTEP retire task: {e}")),
            }
        }
        let _ = reply.send(Ok(report));
    }

    fn answer(&self, query: VtepQuery) {
        match query {
            VtepQuery::Stats(reply) => {
                let mut stats = self.core.stats();
                stats.snooped_dropped = self.snoop_drops.load(Ordering::Relaxed);
                stats.drift_repairs += self.topology_repairs.load(Ordering::Relaxed);
                stats.thread_restarts = [
                    VtepThread::NlEvents,
                    VtepThread::NlRequests,
                    VtepThread::Topology,
                    VtepThread::Reconciler,
                ]
                .into_iter()
                .map(|t| {
                    (
                        t.name(),
                        t.counter(&self.thread_restarts).load(Ordering::Relaxed),
                    )
                })
                .collect();
                let _ = reply.send(stats);
            }
            VtepQuery::Vnis(reply) => {
                let rows = self
                    .core
                    .instances()
                    .iter()
                    .map(|i| show::vni_row(&self.core, i))
                    .collect();
                let _ = reply.send(rows);
            }
            VtepQuery::Fdb { vni, reply } => {
                let _ = reply.send(show::fdb_rows(
                    &self.core,
                    vni,
                    evpnd_linux::interface::name,
                ));
            }
            VtepQuery::Reconfigure { reply, .. } => {
                let _ = reply.send(Err("internal error: a reload reached the query path".into()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn interface_name_asks_the_kernel() {
        // Every network namespace has its loopback at index 1; none has 0.
        assert_eq!(evpnd_linux::interface::name(1).as_deref(), Some("lo"));
        assert_eq!(evpnd_linux::interface::name(0), None);
    }
}
