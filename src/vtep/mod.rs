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
use evpnd_core::evpn::instance::{EvpnInstance, EvpnInstances, InstanceError};
use evpnd_core::rib::engine::RibEvent;
pub use evpnd_core::vtep::VtepStats;
use evpnd_core::vtep::{Level, VtepCore, VtepInput, VtepOutput, VtepTimer};
use evpnd_linux::nl::neigh::{KernelEvent, LearnScope, Learned};
use evpnd_linux::setup::{SetupError, Topology, TopologySocket, TopologySpec, VlanVni, setup};
use evpnd_linux::socket::{AckMode, EventSocket, RequestSocket, SocketError};
use evpnd_wire::mac::MacAddress;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

/// AF_BRIDGE, AF_INET, AF_INET6 (socket.h).
const AF_BRIDGE: u8 = 7;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Batches of kernel operations queued for the request thread. Bounded: when
/// the kernel is slow the VTEP task waits here (it stops taking RIB changes
/// and notifications meanwhile) instead of queueing operations without
/// bound; the queued batches stay small (one RIB batch's worth each).
const OPS_QUEUE: usize = 64;
/// Notification batches queued by the netlink event thread. Bounded: when
/// the VTEP task is behind, the thread blocks on this queue, the kernel's
/// socket buffer fills and overflows (ENOBUFS), and the VTEP re-reads the
/// kernel's owned rows (a resync): the kernel's buffer is the bound and
/// the resync the recovery, as for any netlink listener.
const EVENT_QUEUE: usize = 1024;

/// What the netlink event thread and the snoopers send: a batch of events,
/// or `Err(())` when notifications were lost (ENOBUFS).
type EventBatch = Result<Vec<KernelEvent>, ()>;

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

/// `show vnis` / `show fdb`, answered by the VTEP task.
pub enum VtepQuery {
    Stats(oneshot::Sender<VtepStats>),
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
    let scope = LearnScope {
        own: Some(own),
        vlans: instances.iter().map(|i| i.vlan).collect(),
        svis: topology
            .svis
            .iter()
            .map(|(vlan, ifindex)| (*ifindex, *vlan))
            .collect(),
    };

    // What evpnd installed before (adopted) and what the kernel learnt.
    let mut requests = RequestSocket::open()?;
    requests.set_ack_mode(AckMode::ErrorsAndLast);
    let adopted = dump_owned(&mut requests, &topology)?;
    let learned = dump_learned(&mut requests, &topology, &scope)?;
    let (learned_count, adopted_rows) = (learned.len(), adopted.len());

    // Bounded, see EVENT_QUEUE.
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    // Unbounded: `evpnd_linux::snoop` takes an unbounded sender (its API),
    // and a snooped ARP/ND packet is one small event per binding change,
    // rate-limited by the hosts' own ARP/ND timers.
    let (snooped_tx, snooped_rx) = mpsc::unbounded_channel();
    let events = EventSocket::subscribe()?;
    if let Err(e) = evpnd_linux::snoop::spawn_snoopers(scope.svis.clone(), snooped_tx) {
        warn!(error = %e, "cannot snoop ARP/ND; MAC+IP routes come from the SVIs' neighbour tables only");
    }
    spawn_event_thread(events, own, scope.clone(), events_tx);
    // Bounded, see OPS_QUEUE.
    let (ops_tx, ops_rx) = mpsc::channel::<Vec<Op>>(OPS_QUEUE);
    // Unbounded on purpose: the request thread must never wait for the VTEP
    // task, which may itself be waiting for room in `ops` (a cycle of two
    // bounded queues deadlocks). What it holds is at most what the VTEP sent
    // through the bounded `ops` queue, and the VTEP drains it every turn.
    let (failed_tx, failed_rx) = mpsc::unbounded_channel();
    spawn_request_thread(requests, own, ops_rx, failed_tx);

    let (queries_tx, queries_rx) = mpsc::channel(16);
    let core = VtepCore::new(instances, topology.svis.clone());
    let mut task = VtepTask {
        vtep,
        topology,
        scope,
        core,
        rib,
        ops: ops_tx,
        retry_at: None,
        stale_at: None,
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
    tokio::spawn(task.run(changes, events_rx, snooped_rx, failed_rx, queries_rx));
    Ok(queries_tx)
}

/// Reads neighbour/FDB notifications on a thread of its own (the socket is
/// blocking) and forwards what concerns evpnd; blocks when the VTEP task is
/// behind (EVENT_QUEUE).
fn spawn_event_thread(
    mut events: EventSocket,
    own: Ownership,
    scope: LearnScope,
    tx: mpsc::Sender<EventBatch>,
) {
    std::thread::Builder::new()
        .name("evpnd-nl-events".into())
        .spawn(move || {
            loop {
                let batch = match events.recv_all(&own, &scope) {
                    Ok(batch) if batch.is_empty() => continue,
                    Ok(batch) => Ok(batch),
                    Err(SocketError::ResyncNeeded) => Err(()),
                    Err(e) => {
                        warn!(error = %e, "netlink notification socket failed; no more drift healing or local learning");
                        return;
                    }
                };
                if tx.blocking_send(batch).is_err() {
                    return;
                }
            }
        })
        .map(drop)
        .unwrap_or_else(|e| warn!(error = %e, "cannot start the netlink notification thread"));
}

/// Applies batches of operations on a thread of its own, pipelined
/// (many requests per sendmsg, see `dataplane::socket`); failures go back to
/// the VTEP task to be retried.
fn spawn_request_thread(
    mut requests: RequestSocket,
    own: Ownership,
    mut ops: mpsc::Receiver<Vec<Op>>,
    failed: mpsc::UnboundedSender<Vec<Op>>,
) {
    std::thread::Builder::new()
        .name("evpnd-nl-requests".into())
        .spawn(move || {
            while let Some(batch) = ops.blocking_recv() {
                match requests.apply(&batch, &own) {
                    Ok(report) => {
                        for failure in &report.failures {
                            warn!(failure = %failure, "kernel refused an update; will retry");
                        }
                        debug!(applied = report.applied, failed = report.failures.len(), "kernel updated");
                        let again: Vec<Op> = report.failures.iter().map(|f| f.op).collect();
                        if !again.is_empty() && failed.send(again).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, ops = batch.len(), "netlink request batch failed; will retry");
                        if failed.send(batch).is_err() {
                            return;
                        }
                    }
                }
            }
        })
        .map(drop)
        .unwrap_or_else(|e| warn!(error = %e, "cannot start the netlink request thread"));
}

struct VtepTask {
    vtep: VtepConfig,
    topology: Topology,
    /// What the kernel's own learning is read for (resync dumps).
    scope: LearnScope,
    core: VtepCore,
    rib: mpsc::Sender<RibRequest>,
    ops: mpsc::Sender<Vec<Op>>,
    /// Deadlines the core asked for, not yet handed to the timers.
    retry_at: Option<Instant>,
    stale_at: Option<Instant>,
}

impl VtepTask {
    async fn run(
        mut self,
        mut changes: mpsc::UnboundedReceiver<RibEvent>,
        mut events: mpsc::Receiver<EventBatch>,
        mut snooped: mpsc::UnboundedReceiver<EventBatch>,
        mut failed: mpsc::UnboundedReceiver<Vec<Op>>,
        mut queries: mpsc::Receiver<VtepQuery>,
    ) {
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
                    Some(event) => VtepInput::Rib(event),
                    None => return,
                },
                Some(batch) = events.recv() => self.kernel_input(batch),
                Some(batch) = snooped.recv() => self.kernel_input(batch),
                Some(ops) = failed.recv() => VtepInput::Failed { now: Instant::now(), ops },
                () = &mut retry, if retry_armed.is_some() => VtepInput::Tick {
                    now: Instant::now().max(retry_armed.take().unwrap_or_else(Instant::now)),
                },
                () = &mut stale, if stale_armed.is_some() => VtepInput::Tick {
                    now: Instant::now().max(stale_armed.take().unwrap_or_else(Instant::now)),
                },
                Some(query) = queries.recv() => {
                    self.answer(query);
                    continue;
                }
            };
            self.input(input).await;
        }
    }

    /// A batch of notifications, or a resync when some were lost.
    fn kernel_input(&self, batch: EventBatch) -> VtepInput {
        match batch {
            Ok(events) => VtepInput::Kernel {
                now: Instant::now(),
                events,
            },
            Err(()) => self.resync("notifications were lost (ENOBUFS)"),
        }
    }

    /// Re-reads every owned and every learnt row, for the core to
    /// reconcile against. A dump that fails leaves nothing to do (an empty
    /// resync is not sent: it would read as "the kernel holds nothing").
    fn resync(&self, why: &str) -> VtepInput {
        warn!(reason = why, "re-reading the kernel's EVPN state");
        let dumped = RequestSocket::open().and_then(|mut s| {
            let rows = dump_owned(&mut s, &self.topology)?;
            let learned = dump_learned(&mut s, &self.topology, &self.scope)?;
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
                    let _ = self.rib.send(RibRequest::Local { update }).await;
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

    fn answer(&self, query: VtepQuery) {
        match query {
            VtepQuery::Stats(reply) => {
                let _ = reply.send(self.core.stats());
            }
            VtepQuery::Vnis(reply) => {
                let rows = self
                    .core
                    .instances()
                    .iter()
                    .map(|i| self.vni_row(i))
                    .collect();
                let _ = reply.send(rows);
            }
            VtepQuery::Fdb { vni, reply } => {
                let _ = reply.send(self.fdb_rows(vni, evpnd_linux::interface::name));
            }
        }
    }

    fn vni_row(&self, instance: &EvpnInstance) -> VniRow {
        let desired = self.core.desired();
        VniRow {
            vni: instance.vni,
            vlan: instance.vlan,
            rd: instance.rd.to_string(),
            import_rts: instance
                .import_rts
                .iter()
                .map(ToString::to_string)
                .collect(),
            export_rts: instance
                .export_rts
                .iter()
                .map(ToString::to_string)
                .collect(),
            remote_vteps: desired
                .floods
                .iter()
                .filter(|f| f.vni == instance.vni)
                .map(|f| f.vtep)
                .collect(),
            local_macs: self
                .core
                .local_macs()
                .keys()
                .filter(|(v, _)| *v == instance.vlan)
                .count() as u64,
            remote_macs: desired
                .macs
                .values()
                .filter(|m| m.vni == instance.vni)
                .count() as u64,
            warnings: self.core.warnings(instance.vni),
        }
    }

    /// `show fdb`. `port_name` names a local MAC's port: asked when the
    /// operator asks, not remembered from when the MAC was learnt, so a port
    /// renamed since shows its current name.
    fn fdb_rows(&self, vni: Option<u32>, port_name: impl Fn(u32) -> Option<String>) -> Vec<FdbRow> {
        let mut rows = Vec::new();
        let mut port_names: BTreeMap<u32, Option<String>> = BTreeMap::new();
        let ip_of = |vlan: u16, mac: MacAddress| {
            self.core
                .bindings()
                .iter()
                .find(|((v, _), m)| *v == vlan && **m == mac)
                .map(|((_, ip), _)| *ip)
        };
        for instance in self
            .core
            .instances()
            .iter()
            .filter(|i| vni.is_none_or(|v| v == i.vni))
        {
            for ((vlan, mac), port) in self
                .core
                .local_macs()
                .iter()
                .filter(|((v, _), _)| *v == instance.vlan)
            {
                let name = port_names
                    .entry(*port)
                    .or_insert_with(|| port_name(*port))
                    .clone();
                rows.push(FdbRow {
                    vni: instance.vni,
                    vlan: *vlan,
                    mac: mac.to_string(),
                    ip: ip_of(*vlan, *mac),
                    dest: name.clone().unwrap_or_else(|| format!("ifindex {port}")),
                    port: name,
                    port_ifindex: Some(*port),
                    origin: "learned".into(),
                    state: "local".into(),
                });
            }
            for m in self
                .core
                .desired()
                .macs
                .values()
                .filter(|m| m.vni == instance.vni)
            {
                let ip = self
                    .core
                    .desired()
                    .neighbors
                    .values()
                    .find(|n| n.mac == m.mac && Some(n.ifindex) == self.core.svi(m.vlan))
                    .map(|n| n.ip);
                rows.push(FdbRow {
                    vni: m.vni,
                    vlan: m.vlan,
                    mac: m.mac.to_string(),
                    ip,
                    dest: m.vtep.to_string(),
                    port: None,
                    port_ifindex: None,
                    origin: "installed".into(),
                    state: if m.sticky {
                        "static".into()
                    } else {
                        "extern_learn".into()
                    },
                });
            }
            for f in self
                .core
                .desired()
                .floods
                .iter()
                .filter(|f| f.vni == instance.vni)
            {
                rows.push(FdbRow {
                    vni: f.vni,
                    vlan: instance.vlan,
                    mac: MacAddress::ZERO.to_string(),
                    ip: None,
                    dest: f.vtep.to_string(),
                    port: None,
                    port_ifindex: None,
                    origin: "installed".into(),
                    state: "flood".into(),
                });
            }
        }
        let _ = &self.vtep;
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Dataplane;
    use evpnd_core::vtep::{Learned as CoreLearned, LearnedRow};
    use std::net::{IpAddr, Ipv4Addr};

    /// A VTEP task for VLAN 10 <-> VNI 10 with no kernel behind it: the
    /// operations it would send arrive on the returned receiver.
    fn vni_10_task() -> (VtepTask, mpsc::Receiver<Vec<Op>>) {
        let local_vtep = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1));
        let rt = "65000:10".parse().unwrap();
        let instances = EvpnInstances::new([EvpnInstance {
            vlan: 10,
            vni: 10,
            rd: "198.19.0.1:2".parse().unwrap(),
            import_rts: vec![rt],
            export_rts: vec![rt],
            local_vtep,
        }])
        .unwrap();
        let topology = Topology {
            bridge_ifindex: 2,
            vxlan_ifindex: 3,
            bridge_mac: [2, 0, 198, 19, 0, 1],
            vnifilter: false,
            svis: BTreeMap::new(),
        };
        // The RIB end is dropped: what the task originates goes nowhere.
        let (rib, _) = mpsc::channel(1);
        let (ops, sent) = mpsc::channel(OPS_QUEUE);
        let task = VtepTask {
            vtep: VtepConfig {
                bridge: "br0".into(),
                vxlan_device: "vxlan0".into(),
                local_ip: local_vtep,
                vxlan_port: 4789,
                bridge_mac: None,
                vnis: Vec::new(),
                dataplane: Dataplane::Linux,
            },
            core: VtepCore::new(instances, topology.svis.clone()),
            topology,
            scope: LearnScope::default(),
            rib,
            ops,
            retry_at: None,
            stale_at: None,
        };
        (task, sent)
    }

    fn mac(last: u8) -> MacAddress {
        MacAddress([2, 0x0a, 0, 0, 0, last])
    }

    #[tokio::test]
    async fn show_fdb_names_the_local_port_and_falls_back_to_its_ifindex() {
        let (mut task, _sent) = vni_10_task();
        for (last, port) in [(1, 4), (2, 5)] {
            let row = LearnedRow::Mac {
                vlan: 10,
                mac: mac(last),
                port,
            };
            task.input(VtepInput::Kernel {
                now: Instant::now(),
                events: vec![KernelEvent::Learned(CoreLearned { row, present: true })],
            })
            .await;
        }
        let names = |ifindex: u32| (ifindex == 4).then(|| "h1a".to_string());
        let local: Vec<_> = task
            .fdb_rows(Some(10), names)
            .into_iter()
            .map(|r| (r.mac, r.dest, r.port, r.port_ifindex, r.origin))
            .collect();
        assert_eq!(
            local,
            vec![
                (
                    "02:0a:00:00:00:01".to_string(),
                    "h1a".to_string(),
                    Some("h1a".to_string()),
                    Some(4),
                    "learned".to_string()
                ),
                (
                    "02:0a:00:00:00:02".to_string(),
                    "ifindex 5".to_string(),
                    None,
                    Some(5),
                    "learned".to_string()
                ),
            ]
        );
    }

    #[test]
    fn interface_name_asks_the_kernel() {
        // Every network namespace has its loopback at index 1; none has 0.
        assert_eq!(evpnd_linux::interface::name(1).as_deref(), Some("lo"));
        assert_eq!(evpnd_linux::interface::name(0), None);
    }
}
