//! The VTEP shell: brings the bridge/vxlan topology up from config, turns
//! the Loc-RIB's best-path changes into kernel state (import, reconciler),
//! and turns what the kernel learns on the access side into local routes
//! (origination). The decisions are the pure `evpn` and `dataplane` cores;
//! this module only moves data between them, the RIB task and two netlink
//! threads (one applying batched requests, one reading notifications).

use crate::api::protocol::{FdbRow, VniRow};
use crate::config::{Config, VtepConfig};
use crate::rib_task::RibRequest;
use evpnd_core::dataplane::diff::{DesiredDelta, Op, apply_delta, diff};
use evpnd_core::dataplane::model::{KernelState, MacKey, NeighborKey, Object, OwnedRow, Ownership};
use evpnd_core::evpn::import::{Importer, RtMismatch};
use evpnd_core::evpn::instance::{EvpnInstance, EvpnInstances, InstanceError};
use evpnd_core::evpn::mobility::{
    DUPLICATE_WINDOW, DuplicateMac, LocalMacDecision, MobilityTracker,
};
use evpnd_core::evpn::originate;
use evpnd_core::rib::engine::RibEvent;
use evpnd_core::rib::loc_rib::BestChange;
use evpnd_linux::nl::neigh::{KernelEvent, LearnScope, Learned, LearnedRow, NeighEvent};
use evpnd_linux::setup::{SetupError, Topology, TopologySocket, TopologySpec, VlanVni, setup};
use evpnd_linux::socket::{AckMode, EventSocket, RequestSocket, SocketError};
use evpnd_wire::evpn::EvpnRouteKey;
use evpnd_wire::mac::MacAddress;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

/// AF_BRIDGE, AF_INET, AF_INET6 (socket.h).
const AF_BRIDGE: u8 = 7;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;
/// Entries evpnd installed before a restart are adopted, and the ones no
/// route asks for any more are removed once every peer has sent End-of-RIB
/// (RFC 4724 section 2), or after this long for peers that never send one
/// (GoBGP): no traffic loss across a restart.
const STALE_GRACE: Duration = Duration::from_secs(30);
/// A failed kernel request is retried after this, doubling, up to the cap.
const RETRY_BASE: Duration = Duration::from_secs(1);
const RETRY_CAP: Duration = Duration::from_secs(60);

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

/// Reconciler counters, for the metrics endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VtepStats {
    /// Kernel operations handed to the netlink thread.
    pub operations: u64,
    /// Operations the kernel refused (each retried).
    pub failures: u64,
    /// Entries put back because a notification said someone else removed
    /// or changed one of ours while routes still ask for it: something on
    /// the host is fighting evpnd.
    pub drift_repairs: u64,
    /// Duplicate MACs (RFC 7432 section 15.1) per configured VNI, zero
    /// included: MACs no longer advertised from here.
    pub duplicate_macs: BTreeMap<u32, u64>,
    pub local_macs: u64,
    pub remote_macs: u64,
    pub flood_entries: u64,
    pub suppression_neighbors: u64,
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
    let mut rows: Vec<OwnedRow> = Vec::new();
    let mut learned: Vec<Learned> = Vec::new();
    rows.extend(
        requests
            .dump_owned(AF_BRIDGE, topology.vxlan_ifindex, &own)?
            .iter()
            .map(|e| *e.row()),
    );
    learned.extend(requests.dump_learned(AF_BRIDGE, 0, &scope)?);
    for svi in topology.svis.values() {
        for family in [AF_INET, AF_INET6] {
            rows.extend(
                requests
                    .dump_owned(family, *svi, &own)?
                    .iter()
                    .map(|e| *e.row()),
            );
            learned.extend(requests.dump_learned(family, *svi, &scope)?);
        }
    }
    let vlan_of = {
        let map: BTreeMap<u32, u16> = instances.iter().map(|i| (i.vni, i.vlan)).collect();
        move |vni: u32| map.get(&vni).copied()
    };
    let kernel = KernelState::from_rows(rows, vlan_of);
    info!(
        adopted = kernel.len(),
        learned = learned.len(),
        "VTEP kernel state read"
    );

    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let events = EventSocket::subscribe()?;
    if let Err(e) = evpnd_linux::snoop::spawn_snoopers(scope.svis.clone(), events_tx.clone()) {
        warn!(error = %e, "cannot snoop ARP/ND; MAC+IP routes come from the SVIs' neighbour tables only");
    }
    spawn_event_thread(events, own, scope.clone(), events_tx);
    let (ops_tx, ops_rx) = std::sync::mpsc::channel::<Vec<Op>>();
    let (failed_tx, failed_rx) = mpsc::unbounded_channel();
    spawn_request_thread(requests, own, ops_rx, failed_tx);

    let (queries_tx, queries_rx) = mpsc::channel(16);
    let importer = Importer::new(instances.clone(), topology.svis.clone());
    let mut task = VtepTask {
        vtep,
        topology,
        instances,
        importer,
        tracker: MobilityTracker::default(),
        desired: KernelState::new(),
        kernel,
        local_macs: BTreeMap::new(),
        bindings: BTreeMap::new(),
        advertised: BTreeMap::new(),
        rib,
        ops: ops_tx,
        retry: Vec::new(),
        retry_delay: RETRY_BASE,
        last_failure: None,
        stale_pending: true,
        stats: VtepStats::default(),
    };
    task.originate_inclusive_multicast().await;
    for l in learned {
        task.learned(l).await;
    }
    tokio::spawn(task.run(changes, events_rx, failed_rx, queries_rx));
    Ok(queries_tx)
}

/// Reads neighbour/FDB notifications on a thread of its own (the socket is
/// blocking) and forwards what concerns evpnd.
fn spawn_event_thread(
    mut events: EventSocket,
    own: Ownership,
    scope: LearnScope,
    tx: mpsc::UnboundedSender<Result<Vec<KernelEvent>, ()>>,
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
                if tx.send(batch).is_err() {
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
    ops: std::sync::mpsc::Receiver<Vec<Op>>,
    failed: mpsc::UnboundedSender<Vec<Op>>,
) {
    std::thread::Builder::new()
        .name("evpnd-nl-requests".into())
        .spawn(move || {
            while let Ok(batch) = ops.recv() {
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
    instances: EvpnInstances,
    importer: Importer,
    tracker: MobilityTracker,
    /// What the routes ask for.
    desired: KernelState,
    /// What we believe the kernel holds (adopted at start, then every
    /// operation sent; corrected by notifications).
    kernel: KernelState,
    /// MACs the bridge learnt on access ports: (VLAN, MAC) -> port.
    local_macs: BTreeMap<(u16, MacAddress), u32>,
    /// IP/MAC bindings from the SVIs' neighbour tables.
    bindings: BTreeMap<(u16, IpAddr), MacAddress>,
    /// What we advertise per local MAC: the IPs with it (MAC-only always).
    advertised: BTreeMap<(u16, MacAddress), BTreeSet<IpAddr>>,
    rib: mpsc::Sender<RibRequest>,
    ops: std::sync::mpsc::Sender<Vec<Op>>,
    retry: Vec<Op>,
    retry_delay: Duration,
    last_failure: Option<tokio::time::Instant>,
    /// Adopted entries not (yet) asked for are kept until STALE_GRACE.
    stale_pending: bool,
    stats: VtepStats,
}

/// Does a kernel row say what the desired object says?
/// `show vnis` and the log: routes for this VNI that no import RT takes
/// (RFC 7432 section 9.2), said so that the fix is obvious: which VTEP, which
/// RT, and the two ways to make them meet.
fn rt_mismatch_warning(instance: &EvpnInstance, mismatch: &RtMismatch, routes: u64) -> String {
    let import_rts = instance
        .import_rts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let from = mismatch
        .vtep
        .map_or_else(|| "an unknown VTEP".to_string(), |v| format!("VTEP {v}"));
    match mismatch.route_target {
        Some(rt) => format!(
            "{routes} route(s) from {from} carry VNI {vni} with RT {rt}, which is not an import RT of VNI {vni} ({import_rts}): not installed; import {rt} here or export {import_rts} there",
            vni = instance.vni,
        ),
        None => format!(
            "{routes} route(s) from {from} carry VNI {vni} without any route target: not installed (RFC 7432 section 9.2)",
            vni = instance.vni,
        ),
    }
}

/// `show vnis` and the log: a MAC this VTEP no longer advertises because it
/// keeps moving here (RFC 7432 section 15.1).
fn duplicate_mac_warning(duplicate: &DuplicateMac) -> String {
    format!(
        "duplicate MAC {}: moved here from VTEP {} {} times within {} s (RFC 7432 section 15.1); not advertised until it stays still that long",
        duplicate.mac,
        duplicate.other_vtep,
        duplicate.moves,
        DUPLICATE_WINDOW.as_secs()
    )
}

fn row_matches(row: &OwnedRow, object: &Object) -> bool {
    match (*row, *object) {
        (OwnedRow::Flood(f), Object::Flood(d)) => f == d,
        (OwnedRow::MacSelf { vtep, sticky, .. }, Object::Mac(m)) => {
            vtep == m.vtep && sticky == m.sticky
        }
        (OwnedRow::MacMaster { sticky, .. }, Object::Mac(m)) => sticky == m.sticky,
        (OwnedRow::Neighbor(n), Object::Neighbor(d)) => n.mac == d.mac,
        _ => false,
    }
}

impl VtepTask {
    async fn run(
        mut self,
        mut changes: mpsc::UnboundedReceiver<RibEvent>,
        mut events: mpsc::UnboundedReceiver<Result<Vec<KernelEvent>, ()>>,
        mut failed: mpsc::UnboundedReceiver<Vec<Op>>,
        mut queries: mpsc::Receiver<VtepQuery>,
    ) {
        let stale = tokio::time::sleep(STALE_GRACE);
        tokio::pin!(stale);
        let retry = tokio::time::sleep(Duration::from_secs(3600));
        tokio::pin!(retry);
        loop {
            tokio::select! {
                event = changes.recv() => match event {
                    Some(RibEvent::Changes(batch)) => self.import(&batch).await,
                    Some(RibEvent::InitialSyncDone) if self.stale_pending => {
                        info!("every peer sent End-of-RIB");
                        self.remove_stale();
                    }
                    Some(RibEvent::InitialSyncDone) => {}
                    None => return,
                },
                Some(batch) = events.recv() => match batch {
                    Ok(batch) => {
                        for event in batch {
                            self.kernel_event(event).await;
                        }
                    }
                    Err(()) => self.resync("notifications were lost (ENOBUFS)"),
                },
                Some(ops) = failed.recv() => {
                    self.stats.failures += ops.len() as u64;
                    let now = tokio::time::Instant::now();
                    if self.retry.is_empty() {
                        // Failures after a quiet spell start the back-off
                        // over; failures that keep coming back wait longer.
                        if self.last_failure.is_none_or(|t| now - t > RETRY_CAP) {
                            self.retry_delay = RETRY_BASE;
                        }
                        retry.as_mut().reset(now + self.retry_delay);
                    }
                    self.last_failure = Some(now);
                    self.retry.extend(ops);
                }
                () = &mut retry, if !self.retry.is_empty() => {
                    self.retry_failed();
                    self.retry_delay = (self.retry_delay * 2).min(RETRY_CAP);
                }
                () = &mut stale, if self.stale_pending => {
                    info!("End-of-RIB not seen from every peer in {STALE_GRACE:?}");
                    self.remove_stale();
                }
                Some(query) = queries.recv() => self.answer(query),
            }
        }
    }

    /// The initial sync is over: remove what evpnd installed before a
    /// restart and no route asks for any more.
    fn remove_stale(&mut self) {
        self.stale_pending = false;
        let ops = diff(&self.desired, &self.kernel);
        info!(
            operations = ops.len(),
            "initial sync over: removing stale entries"
        );
        self.send(ops);
        self.kernel = self.desired.clone();
    }

    fn send(&mut self, ops: Vec<Op>) {
        if !ops.is_empty() {
            self.stats.operations += ops.len() as u64;
            let _ = self.ops.send(ops);
        }
    }

    /// Best-path changes from the RIB: import them, then withdraw local
    /// MACs that a remote route now beats (RFC 7432 section 15.1).
    async fn import(&mut self, batch: &[BestChange<EvpnRouteKey>]) {
        let mut delta = DesiredDelta::default();
        for change in batch {
            let d = self.importer.apply(change);
            delta.upsert.extend(d.upsert);
            delta.remove.extend(d.remove);
        }
        apply_delta(&mut self.desired, &delta);
        let ops = apply_delta(&mut self.kernel, &delta);
        self.send(ops);
        for mismatch in self.importer.take_new_rt_mismatches() {
            if let Some(instance) = self.instances.by_vni(mismatch.vni) {
                warn!("{}", rt_mismatch_warning(instance, &mismatch, 1));
            }
        }
        for (vni, mac) in self.importer.take_overridden_local() {
            if let Some(vlan) = self.instances.by_vni(vni).map(|i| i.vlan) {
                info!(vni, %mac, "local MAC moved to another VTEP: withdrawing our routes");
                // Not local any more: the remote entry now installed takes
                // the bridge's row. Until the bridge learns the MAC on an
                // access port again, a binding seen for it (an ARP, a
                // neighbour probe) must not advertise it back.
                self.local_macs.remove(&(vlan, mac));
                self.withdraw_local(vlan, mac).await;
            }
        }
    }

    async fn kernel_event(&mut self, event: KernelEvent) {
        match event {
            KernelEvent::Learned(learned) => self.learned(learned).await,
            // Drift: one of our rows went away while routes still ask for
            // it. Put the whole object back.
            KernelEvent::Owned(NeighEvent::Deleted(row)) => {
                if let Some(object) = self.desired_object_of(&row) {
                    warn!(object = %object, "an entry evpnd installed was removed by someone else; restoring it");
                    self.stats.drift_repairs += 1;
                    self.send(vec![Op::Replace(object)]);
                }
            }
            // Someone changed one of our rows (another VTEP, a flag): put
            // back what the routes say. Our own changes echo back matching.
            KernelEvent::Owned(NeighEvent::New(row)) => {
                if let Some(object) = self.desired_object_of(&row)
                    && !row_matches(&row, &object)
                {
                    warn!(object = %object, "an entry evpnd installed was changed by someone else; restoring it");
                    self.stats.drift_repairs += 1;
                    self.send(vec![Op::Replace(object)]);
                }
            }
        }
    }

    /// The desired object a kernel row belongs to, if the row is missing
    /// from the kernel but wanted.
    /// The desired object a kernel row belongs to: keyed lookups only, since
    /// this runs for every notification (each of our own changes echoes).
    fn desired_object_of(&self, row: &OwnedRow) -> Option<Object> {
        let mac_at = |vni: u32, vlan: u16, mac: MacAddress| {
            self.desired
                .macs
                .get(&MacKey { vni, vlan, mac })
                .map(|m| Object::Mac(*m))
        };
        match *row {
            OwnedRow::Flood(f) => self.desired.floods.contains(&f).then_some(Object::Flood(f)),
            OwnedRow::MacSelf { vni, mac, .. } => {
                mac_at(vni, self.instances.by_vni(vni)?.vlan, mac)
            }
            OwnedRow::MacMaster { vlan, mac, .. } => {
                mac_at(self.instances.by_vlan(vlan)?.vni, vlan, mac)
            }
            OwnedRow::Neighbor(n) => self
                .desired
                .neighbors
                .get(&NeighborKey {
                    ifindex: n.ifindex,
                    ip: n.ip,
                })
                .map(|d| Object::Neighbor(*d)),
        }
    }

    fn resync(&mut self, why: &str) {
        warn!(reason = why, "re-reading the kernel's EVPN state");
        let own = self.topology.ownership();
        let result = (|| -> Result<KernelState, SocketError> {
            let mut socket = RequestSocket::open()?;
            let mut rows: Vec<OwnedRow> = Vec::new();
            rows.extend(
                socket
                    .dump_owned(AF_BRIDGE, self.topology.vxlan_ifindex, &own)?
                    .iter()
                    .map(|e| *e.row()),
            );
            for svi in self.topology.svis.values() {
                for family in [AF_INET, AF_INET6] {
                    rows.extend(
                        socket
                            .dump_owned(family, *svi, &own)?
                            .iter()
                            .map(|e| *e.row()),
                    );
                }
            }
            let map: BTreeMap<u32, u16> = self.instances.iter().map(|i| (i.vni, i.vlan)).collect();
            Ok(KernelState::from_rows(rows, |vni| map.get(&vni).copied()))
        })();
        match result {
            Ok(observed) => {
                let mut ops = diff(&self.desired, &observed);
                if self.stale_pending {
                    // Adopted entries no route asks for yet stay until the
                    // initial sync is over.
                    ops.retain(|op| !matches!(op, Op::Delete(_)));
                }
                self.kernel = observed;
                for op in &ops {
                    op.apply_to(&mut self.kernel);
                }
                self.send(ops);
            }
            Err(e) => warn!(error = %e, "cannot re-read the kernel state"),
        }
    }

    /// Re-sends what failed, as it stands now: an object still wanted is
    /// (re)installed, one no longer wanted is deleted.
    fn retry_failed(&mut self) {
        let failed = std::mem::take(&mut self.retry);
        let ops: Vec<Op> = failed
            .into_iter()
            .map(|op| {
                let object = *op.object();
                match self.desired.get(&object) {
                    Some(wanted) => Op::Replace(wanted),
                    None => Op::Delete(object),
                }
            })
            .collect();
        info!(operations = ops.len(), "retrying failed kernel updates");
        let _ = self.ops.send(ops);
    }

    /// RFC 7432 section 11 / RFC 8365 section 5.1.3: one type-3 route per
    /// VNI, with an ingress-replication PMSI.
    async fn originate_inclusive_multicast(&mut self) {
        for instance in self.instances.iter() {
            let update = originate::inclusive_multicast(instance).into_ingress();
            let _ = self.rib.send(RibRequest::Local { update }).await;
        }
    }

    async fn learned(&mut self, learned: Learned) {
        match learned.row {
            LearnedRow::Mac { vlan, mac, port } => {
                if learned.present {
                    if self.local_macs.insert((vlan, mac), port).is_none() {
                        debug!(vlan, %mac, port, "local MAC learnt");
                    }
                } else if self.local_macs.remove(&(vlan, mac)).is_some() {
                    debug!(vlan, %mac, "local MAC gone");
                }
                self.advertise_local(vlan, mac).await;
            }
            LearnedRow::Neighbor { vlan, ip, mac } => {
                let before = if learned.present {
                    self.bindings.insert((vlan, ip), mac)
                } else {
                    self.bindings.remove(&(vlan, ip))
                };
                for affected in [before, learned.present.then_some(mac)]
                    .into_iter()
                    .flatten()
                {
                    self.advertise_local(vlan, affected).await;
                }
            }
        }
    }

    /// Brings what we advertise for (VLAN, MAC) in line with what is local:
    /// MAC-only plus one MAC+IP route per IP bound to it (RFC 7432 section
    /// 9.1), with the MAC Mobility sequence the tracker decides (15.1).
    async fn advertise_local(&mut self, vlan: u16, mac: MacAddress) {
        let Some(instance) = self.instances.by_vlan(vlan).cloned() else {
            return;
        };
        if !self.local_macs.contains_key(&(vlan, mac)) {
            return self.withdraw_local(vlan, mac).await;
        }
        let claims = self.importer.mac_claims(instance.vni, mac);
        let now = std::time::Instant::now();
        let (sequence, sticky) = match self.tracker.learn(instance.vni, mac, false, claims, now) {
            LocalMacDecision::Advertise { sequence, sticky } => (sequence, sticky),
            LocalMacDecision::StickyElsewhere { vtep } => {
                warn!(vni = instance.vni, %mac, %vtep, "MAC is static on another VTEP; not advertising it");
                return self.withdraw_local(vlan, mac).await;
            }
            LocalMacDecision::Duplicate { new, duplicate } => {
                if new {
                    warn!(vni = instance.vni, "{}", duplicate_mac_warning(&duplicate));
                }
                return self.withdraw_local(vlan, mac).await;
            }
        };
        let ips: BTreeSet<IpAddr> = self
            .bindings
            .iter()
            .filter(|((v, _), m)| *v == vlan && **m == mac)
            .map(|((_, ip), _)| *ip)
            .collect();
        let before = self
            .advertised
            .insert((vlan, mac), ips.clone())
            .unwrap_or_default();
        let gone: Vec<_> = before
            .difference(&ips)
            .map(|ip| originate::mac_ip_nlri(&instance, mac, Some(*ip)))
            .collect();
        if !gone.is_empty() {
            let _ = self
                .rib
                .send(RibRequest::Local {
                    update: originate::withdrawal(gone),
                })
                .await;
        }
        let mobility = originate::mac_mobility_community(sequence, sticky);
        let routes = std::iter::once((mac, None)).chain(ips.iter().map(|ip| (mac, Some(*ip))));
        let update = originate::mac_ip(&instance, mobility, routes).into_ingress();
        let _ = self.rib.send(RibRequest::Local { update }).await;
    }

    async fn withdraw_local(&mut self, vlan: u16, mac: MacAddress) {
        let Some(instance) = self.instances.by_vlan(vlan).cloned() else {
            return;
        };
        self.tracker.forget(instance.vni, mac);
        let Some(ips) = self.advertised.remove(&(vlan, mac)) else {
            return;
        };
        let nlri = std::iter::once(originate::mac_ip_nlri(&instance, mac, None))
            .chain(
                ips.iter()
                    .map(|ip| originate::mac_ip_nlri(&instance, mac, Some(*ip))),
            )
            .collect::<Vec<_>>();
        let _ = self
            .rib
            .send(RibRequest::Local {
                update: originate::withdrawal(nlri),
            })
            .await;
    }

    fn answer(&self, query: VtepQuery) {
        match query {
            VtepQuery::Stats(reply) => {
                let _ = reply.send(self.stats());
            }
            VtepQuery::Vnis(reply) => {
                let rows = self.instances.iter().map(|i| self.vni_row(i)).collect();
                let _ = reply.send(rows);
            }
            VtepQuery::Fdb { vni, reply } => {
                let _ = reply.send(self.fdb_rows(vni, evpnd_linux::interface::name));
            }
        }
    }

    fn stats(&self) -> VtepStats {
        VtepStats {
            local_macs: self.local_macs.len() as u64,
            remote_macs: self.desired.macs.len() as u64,
            flood_entries: self.desired.floods.len() as u64,
            suppression_neighbors: self.desired.neighbors.len() as u64,
            duplicate_macs: self
                .instances
                .iter()
                .map(|i| (i.vni, self.tracker.duplicates(i.vni).count() as u64))
                .collect(),
            ..self.stats.clone()
        }
    }

    fn vni_row(&self, instance: &EvpnInstance) -> VniRow {
        let counters = self.importer.counters(instance.vni);
        let mut warnings = Vec::new();
        for (mismatch, routes) in self.importer.rt_mismatches(instance.vni) {
            warnings.push(rt_mismatch_warning(instance, mismatch, routes));
        }
        for duplicate in self.tracker.duplicates(instance.vni) {
            warnings.push(duplicate_mac_warning(duplicate));
        }
        if counters.vni_mismatch > 0 {
            warnings.push(format!(
                "{} routes match an import RT but carry another VNI: not installed",
                counters.vni_mismatch
            ));
        }
        if counters.unusable > 0 {
            warnings.push(format!("{} routes cannot be installed (no ingress-replication PMSI, or no usable next hop)", counters.unusable));
        }
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
            remote_vteps: self
                .desired
                .floods
                .iter()
                .filter(|f| f.vni == instance.vni)
                .map(|f| f.vtep)
                .collect(),
            local_macs: self
                .local_macs
                .keys()
                .filter(|(v, _)| *v == instance.vlan)
                .count() as u64,
            remote_macs: self
                .desired
                .macs
                .values()
                .filter(|m| m.vni == instance.vni)
                .count() as u64,
            warnings,
        }
    }

    /// `show fdb`. `port_name` names a local MAC's port: asked when the
    /// operator asks, not remembered from when the MAC was learnt, so a port
    /// renamed since shows its current name.
    fn fdb_rows(&self, vni: Option<u32>, port_name: impl Fn(u32) -> Option<String>) -> Vec<FdbRow> {
        let mut rows = Vec::new();
        let mut port_names: BTreeMap<u32, Option<String>> = BTreeMap::new();
        let ip_of = |vlan: u16, mac: MacAddress| {
            self.bindings
                .iter()
                .find(|((v, _), m)| *v == vlan && **m == mac)
                .map(|((_, ip), _)| *ip)
        };
        for instance in self
            .instances
            .iter()
            .filter(|i| vni.is_none_or(|v| v == i.vni))
        {
            for ((vlan, mac), port) in self
                .local_macs
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
            for m in self.desired.macs.values().filter(|m| m.vni == instance.vni) {
                let ip = self
                    .desired
                    .neighbors
                    .values()
                    .find(|n| n.mac == m.mac && Some(n.ifindex) == self.topology.svi(m.vlan))
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
            for f in self.desired.floods.iter().filter(|f| f.vni == instance.vni) {
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
    use evpnd_core::dataplane::model::{FloodEntry, RemoteMac};
    use evpnd_core::evpn::mobility::{DUPLICATE_MAX_MOVES, MacClaim};
    use std::net::Ipv4Addr;

    const VTEP_3: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 19, 0, 3));

    /// A VTEP task for VLAN 10 <-> VNI 10 with no kernel behind it: the
    /// operations it would send arrive on the returned receiver.
    fn vni_10_task() -> (VtepTask, std::sync::mpsc::Receiver<Vec<Op>>) {
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
        let (ops, sent) = std::sync::mpsc::channel();
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
            importer: Importer::new(instances.clone(), topology.svis.clone()),
            topology,
            instances,
            tracker: MobilityTracker::default(),
            desired: KernelState::new(),
            kernel: KernelState::new(),
            local_macs: BTreeMap::new(),
            bindings: BTreeMap::new(),
            advertised: BTreeMap::new(),
            rib,
            ops,
            retry: Vec::new(),
            retry_delay: RETRY_BASE,
            last_failure: None,
            stale_pending: false,
            stats: VtepStats::default(),
        };
        (task, sent)
    }

    fn mac(last: u8) -> MacAddress {
        MacAddress([2, 0x0a, 0, 0, 0, last])
    }

    #[tokio::test]
    async fn drift_is_put_back_and_counted_but_our_own_echo_is_not() {
        let (mut task, sent) = vni_10_task();
        let flood = FloodEntry {
            vni: 10,
            vtep: VTEP_3,
        };
        let remote = RemoteMac {
            vni: 10,
            vlan: 10,
            mac: mac(3),
            vtep: VTEP_3,
            sticky: false,
        };
        let delta = DesiredDelta {
            upsert: vec![Object::Flood(flood), Object::Mac(remote)],
            remove: Vec::new(),
        };
        apply_delta(&mut task.desired, &delta);
        apply_delta(&mut task.kernel, &delta);

        // The echo of what we installed, and a row no route asks for.
        for row in [
            OwnedRow::Flood(flood),
            OwnedRow::MacSelf {
                vni: 10,
                mac: mac(3),
                vtep: VTEP_3,
                sticky: false,
            },
        ] {
            task.kernel_event(KernelEvent::Owned(NeighEvent::New(row)))
                .await;
        }
        let unwanted = OwnedRow::Flood(FloodEntry {
            vni: 10,
            vtep: IpAddr::V4(Ipv4Addr::new(198, 19, 0, 9)),
        });
        task.kernel_event(KernelEvent::Owned(NeighEvent::Deleted(unwanted)))
            .await;
        assert_eq!(task.stats().drift_repairs, 0);
        assert!(sent.try_recv().is_err(), "nothing to repair");

        // Someone deletes our flood entry, then points our MAC elsewhere.
        task.kernel_event(KernelEvent::Owned(NeighEvent::Deleted(OwnedRow::Flood(
            flood,
        ))))
        .await;
        let elsewhere = OwnedRow::MacSelf {
            vni: 10,
            mac: mac(3),
            vtep: IpAddr::V4(Ipv4Addr::new(198, 19, 0, 9)),
            sticky: false,
        };
        task.kernel_event(KernelEvent::Owned(NeighEvent::New(elsewhere)))
            .await;
        assert_eq!(
            sent.try_iter().collect::<Vec<_>>(),
            vec![
                vec![Op::Replace(Object::Flood(flood))],
                vec![Op::Replace(Object::Mac(remote))]
            ]
        );
        assert_eq!(task.stats().drift_repairs, 2);
    }

    #[test]
    fn duplicate_macs_are_counted_per_vni() {
        let (mut task, _sent) = vni_10_task();
        assert_eq!(task.stats().duplicate_macs, [(10, 0)].into());
        // The other VTEP outbids us each time and our bridge learns the MAC
        // again: after DUPLICATE_MAX_MOVES moves it is a duplicate.
        let start = std::time::Instant::now();
        for moved in 0..DUPLICATE_MAX_MOVES {
            let claim = MacClaim {
                vtep: VTEP_3,
                sequence: 2 * moved as u32,
                sticky: false,
                local: false,
            };
            let at = start + Duration::from_secs(10 * moved as u64);
            task.tracker.learn(10, mac(1), false, [claim], at);
        }
        assert_eq!(task.stats().duplicate_macs, [(10, 1)].into());
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
            task.learned(Learned { row, present: true }).await;
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

    #[test]
    fn rt_mismatch_warning_names_the_vtep_the_rt_and_both_fixes() {
        let local_rt = "65000:12".parse().unwrap();
        let instance = EvpnInstance {
            vlan: 12,
            vni: 12,
            rd: "198.19.0.1:4".parse().unwrap(),
            import_rts: vec![local_rt],
            export_rts: vec![local_rt],
            local_vtep: IpAddr::V4(Ipv4Addr::new(198, 19, 0, 1)),
        };
        let mismatch = RtMismatch {
            vni: 12,
            vtep: Some(IpAddr::V4(Ipv4Addr::new(198, 19, 0, 3))),
            route_target: Some("65000:1212".parse().unwrap()),
        };
        assert_eq!(
            rt_mismatch_warning(&instance, &mismatch, 2),
            "2 route(s) from VTEP 198.19.0.3 carry VNI 12 with RT 65000:1212, which is not an import RT of VNI 12 (65000:12): not installed; import 65000:1212 here or export 65000:12 there"
        );
        let no_rt = RtMismatch {
            route_target: None,
            ..mismatch
        };
        assert!(rt_mismatch_warning(&instance, &no_rt, 1).contains("without any route target"));
    }
}
