//! Live reconfiguration (`evpnd reload`, SIGHUP): read the file again,
//! validate it whole, and apply only the difference
//! ([`crate::config::diff::plan`]). A file that fails to load or names a
//! key that cannot change live changes nothing, and the answer names the
//! key. Neighbours added start their sessions, removed ones end with Cease
//! / Peer De-configured (RFC 4486 subcode 3) and their routes are withdrawn
//! (their session's PeerDown); a changed one is removed and added again;
//! the other sessions are not touched. VNIs added or removed and route
//! targets changed go to the VTEP task first (`VtepQuery::Reconfigure`):
//! when it refuses (the kernel topology conflicts with the new VLANs),
//! nothing else is applied either.

use crate::api::protocol::{ConfigStatus, ReloadReport};
use crate::config::diff::{ReloadPlan, plan};
use crate::config::{Config, NeighborConfig};
use crate::rib_task::RibRequest;
use crate::session::handover::{Handover, Resumed};
use crate::session::spec::{PeerSpec, our_rt_memberships, peer_kind};
use crate::session::supervise::{PeerHandle, spawn_peer};
use crate::vtep::VtepQuery;
use evpnd_core::rib::engine::RibInput;
use evpnd_core::rib::peer::{PeerIdx, PeerInfo};
use evpnd_wire::rtc::RtMembership;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{debug, info, warn};

/// Applies a new `[log] level` to the running subscriber; the error says why not.
pub type LogLevelSetter = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// What a reload needs besides the running configuration.
#[derive(Clone, Default)]
pub struct ReloadSource {
    /// The file the daemon was started with; `None`: reloads are refused.
    pub path: Option<PathBuf>,
    /// Sets the log level; `None` when RUST_LOG chose the filter (it wins
    /// over `[log] level`, at start and on reload).
    pub log_level: Option<LogLevelSetter>,
}

/// Where the accept loops find the session task of a connecting address,
/// and the listen ranges whose addresses the daemon may take on as
/// dynamic neighbours.
#[derive(Default)]
pub struct AcceptTable {
    pub sessions: HashMap<IpAddr, mpsc::Sender<TcpStream>>,
    pub ranges: Vec<ipnetwork::IpNetwork>,
}

pub type InboundMap = Arc<AcceptTable>;

/// How long a removed neighbour's session gets to send its Cease and end
/// before a changed one's new session starts.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// How long the VTEP gets to apply new VNIs (set-up, re-import of the
/// table, retiring removed VLANs) before the reload is reported failed.
const VTEP_RECONFIGURE: Duration = Duration::from_secs(60);

/// The running configuration, its generation, and the handles a reload
/// changes: each peer's own stop signal and the accept loops' map.
pub struct Reloader {
    source: ReloadSource,
    running: Config,
    generation: u64,
    applied_at: SystemTime,
    last_refused: Option<String>,
    /// Per peer: fires its session's shutdown (not the others').
    stops: HashMap<IpAddr, oneshot::Sender<()>>,
    inbound: watch::Sender<InboundMap>,
    rib: mpsc::Sender<RibRequest>,
    /// The VTEP task, when there is one (dataplane "linux").
    vtep: Option<mpsc::Sender<VtepQuery>>,
    shutdown: watch::Receiver<bool>,
    /// The hand-over switch every peer task is started with.
    handover: Handover,
    /// The RT membership the sessions announce (RFC 4684), from the
    /// running configuration's VNIs.
    rt_membership: watch::Sender<Arc<[RtMembership]>>,
}

impl Reloader {
    /// Generation 1 of `config`. `inbound` is what the accept loops read.
    pub fn new(
        source: ReloadSource,
        config: Config,
        inbound: watch::Sender<InboundMap>,
        rib: mpsc::Sender<RibRequest>,
        vtep: Option<mpsc::Sender<VtepQuery>>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let rt_membership = watch::Sender::new(our_rt_memberships(&config));
        Self {
            rt_membership,
            source,
            running: config,
            generation: 1,
            applied_at: SystemTime::now(),
            last_refused: None,
            stops: HashMap::new(),
            inbound,
            rib,
            vtep,
            shutdown,
            handover: Handover::default(),
        }
    }

    /// The hand-over switch of the peer tasks (`evpnd upgrade`).
    pub fn handover(&self) -> &Handover {
        &self.handover
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn status(&self) -> ConfigStatus {
        ConfigStatus {
            generation: self.generation,
            path: self.source.path.as_ref().map(|p| p.display().to_string()),
            applied_at: unix_secs(self.applied_at),
            last_refused: self.last_refused.clone(),
        }
    }

    /// Start a peer task that stops on the daemon's shutdown or when a
    /// reload removes it (or hands its connection over on an upgrade);
    /// `resumed`: the session the previous image handed over.
    pub fn start_peer(&mut self, mut spec: PeerSpec, resumed: Option<Resumed>) -> PeerHandle {
        spec.handover = self.handover.clone();
        spec.rt_membership = self.rt_membership.subscribe();
        let (tx, rx) = watch::channel(false);
        let (stop, stopped) = oneshot::channel();
        let mut global = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = global.wait_for(|stop| *stop) => {}
                Ok(()) = stopped => {}
            }
            let _ = tx.send(true);
        });
        self.stops.insert(spec.neighbor.address, stop);
        spawn_peer(spec, self.rib.clone(), rx, resumed)
    }

    /// The accept loops' map, after the peer list changed.
    pub fn publish(&self, peers: &[PeerHandle]) {
        let sessions = peers
            .iter()
            .map(|p| (p.spec.neighbor.address, p.inbound.clone()))
            .collect();
        let ranges = self
            .running
            .listen_ranges
            .iter()
            .map(|r| r.prefix)
            .collect();
        self.inbound
            .send_replace(Arc::new(AcceptTable { sessions, ranges }));
    }

    /// Read the file again and apply what changed. Nothing changes unless
    /// the whole file is valid and every change can apply live.
    pub async fn reload(&mut self, peers: &mut Vec<PeerHandle>) -> ReloadReport {
        let refuse = |me: &mut Self, error: String| {
            warn!(error = %error, generation = me.generation, "reload refused; nothing changed");
            me.last_refused = Some(error.clone());
            ReloadReport {
                applied: false,
                generation: me.generation,
                changes: Vec::new(),
                error: Some(error),
            }
        };
        let Some(path) = self.source.path.clone() else {
            return refuse(self, "evpnd was started without a config file".into());
        };
        // A small file; read on a blocking thread all the same.
        let file = path.clone();
        let loaded = tokio::task::spawn_blocking(move || Config::load(&path)).await;
        let new = match loaded {
            Ok(Ok(config)) => {
                if let Some(w) = config.readable_secret_warning(&file) {
                    warn!("{w}");
                }
                config
            }
            Ok(Err(e)) => return refuse(self, e.to_string()),
            Err(e) => return refuse(self, format!("reading the config failed: {e}")),
        };
        let plan = match plan(&self.running, &new) {
            Ok(plan) => plan,
            Err(refused) => {
                let file = self
                    .source
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                return refuse(self, format!("{file}: {refused}"));
            }
        };
        if plan.is_empty() {
            info!(generation = self.generation, "reload: no change");
            return ReloadReport {
                applied: true,
                generation: self.generation,
                changes: Vec::new(),
                error: None,
            };
        }
        let mut changes = plan.describe();
        // First, as the only step the kernel may refuse: a refusal leaves
        // everything as it was.
        if plan.vnis_differ() {
            match self.apply_vnis(&new).await {
                Ok(steps) => changes.extend(steps.into_iter().map(|s| format!("VTEP: {s}"))),
                Err(e) => return refuse(self, format!("vtep.vnis: {e}")),
            }
        }
        if let Some(note) = self.apply_log_level(&plan) {
            changes.push(note);
        }
        // At the level just set: the whole plan, for whoever debugs a reload.
        debug!(?plan, "reload plan");
        self.apply_neighbors(&plan, &new, peers).await;
        self.running = new;
        // Sessions with RT-Constrain announce the VNIs' import RTs as they
        // are now (RFC 4684): new ones announced, removed ones withdrawn.
        let ours = our_rt_memberships(&self.running);
        self.rt_membership.send_if_modified(|current| {
            if *current == ours {
                return false;
            }
            *current = ours;
            true
        });
        // The accept loops learn the sessions started above and the new
        // listen ranges (published once `running` holds them).
        self.publish(peers);
        self.generation += 1;
        self.applied_at = SystemTime::now();
        self.last_refused = None;
        info!(generation = self.generation, changes = ?changes, "configuration reloaded");
        ReloadReport {
            applied: true,
            generation: self.generation,
            changes,
            error: None,
        }
    }

    /// Hands the new `[vtep]` to the VTEP task and waits for it to be
    /// applied: the kernel steps taken, or why nothing was. Without a VTEP
    /// task (dataplane "none") VNIs are only words: nothing to do.
    async fn apply_vnis(&self, new: &Config) -> Result<Vec<String>, String> {
        let (Some(vtep), Some(config)) = (&self.vtep, &new.vtep) else {
            return Ok(Vec::new());
        };
        let (reply, answer) = oneshot::channel();
        let query = VtepQuery::Reconfigure {
            vtep: Box::new(config.clone()),
            router_id: new.bgp.router_id,
            asn: new.bgp.asn,
            reply,
        };
        if vtep.send(query).await.is_err() {
            return Err("the VTEP task is not running".into());
        }
        match tokio::time::timeout(VTEP_RECONFIGURE, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err("the VTEP task ended during the reload".into()),
            Err(_) => Err(format!(
                "the VTEP did not finish within {} s; see the log",
                VTEP_RECONFIGURE.as_secs()
            )),
        }
    }

    /// A note for the report when the level could not be applied.
    fn apply_log_level(&self, plan: &ReloadPlan) -> Option<String> {
        let level = plan.log_level.as_deref()?;
        match &self.source.log_level {
            None => Some("log level not changed: RUST_LOG is set and wins".into()),
            Some(set) => set(level)
                .err()
                .map(|e| format!("log level not changed: {e}")),
        }
    }

    async fn apply_neighbors(
        &mut self,
        plan: &ReloadPlan,
        new: &Config,
        peers: &mut Vec<PeerHandle>,
    ) {
        // Dynamic sessions end with their range, are reset with its
        // template, and give way to a neighbour now configured at their
        // address.
        let dynamic_ending = peers.iter().filter(|p| {
            p.spec.listen_range.is_some_and(|range| {
                plan.ranges_removed.contains(&range) || plan.ranges_changed.contains(&range)
            }) || (p.spec.listen_range.is_some()
                && plan
                    .neighbors_added
                    .iter()
                    .any(|n| n.address == p.spec.neighbor.address))
        });
        let stopping: Vec<IpAddr> = plan
            .neighbors_removed
            .iter()
            .copied()
            .chain(plan.neighbors_changed.iter().map(|n| n.address))
            .chain(dynamic_ending.map(|p| p.spec.neighbor.address))
            .collect();
        self.stop_peers(&stopping, peers, true).await;
        for n in plan
            .neighbors_changed
            .iter()
            .chain(plan.neighbors_added.iter())
        {
            self.add_peer(&new.bgp, n, None, None, peers).await;
        }
        for n in &plan.neighbors_renamed {
            if let Some(peer) = peers
                .iter_mut()
                .find(|p| p.spec.neighbor.address == n.address)
            {
                peer.spec.neighbor.description.clone_from(&n.description);
            }
        }
        // `show neighbors` lists them in the file's order, dynamic ones
        // after, by address.
        peers.sort_by_key(|p| {
            let address = p.spec.neighbor.address;
            let position = new.neighbors.iter().position(|n| n.address == address);
            (position.is_none(), position, address)
        });
    }

    /// Ends the sessions of `addresses` (with Cease / Peer De-configured
    /// when `deconfigured`, RFC 4486 section 4) and makes the RIB forget
    /// them, their routes withdrawn.
    pub async fn stop_peers(
        &mut self,
        addresses: &[IpAddr],
        peers: &mut Vec<PeerHandle>,
        deconfigured: bool,
    ) {
        let mut ending = Vec::new();
        for address in addresses {
            let Some(at) = peers
                .iter()
                .position(|p| p.spec.neighbor.address == *address)
            else {
                continue;
            };
            let peer = peers.swap_remove(at);
            peer.spec
                .deconfigured
                .store(deconfigured, Ordering::Relaxed);
            if let Some(stop) = self.stops.remove(address) {
                let _ = stop.send(());
            }
            ending.push((address, peer.spec.idx, peer.task));
        }
        if ending.is_empty() {
            return;
        }
        // No new connection is handed to a stopping session.
        self.publish(peers);
        for (address, idx, task) in ending {
            let abort = task.abort_handle();
            if tokio::time::timeout(STOP_GRACE, task).await.is_err() {
                warn!(peer = %address, "session did not end in time; aborted");
                abort.abort();
            }
            // After its PeerDown: the RIB forgets the neighbour (it no
            // longer counts for End-of-RIB sync or the deferral).
            let remove = RibInput::RemovePeer { peer: idx };
            let _ = self.rib.send(RibRequest::Input(remove)).await;
        }
    }

    /// Adds neighbour `n` to the RIB and starts its session task (a
    /// dynamic one when `listen_range` is set), with `resumed`, a session
    /// handed over by the previous image. The caller publishes the map.
    pub async fn add_peer(
        &mut self,
        bgp: &crate::config::BgpConfig,
        n: &NeighborConfig,
        listen_range: Option<ipnetwork::IpNetwork>,
        resumed: Option<Resumed>,
        peers: &mut Vec<PeerHandle>,
    ) -> bool {
        let info = PeerInfo {
            address: n.address,
            kind: peer_kind(bgp, n),
            remote_as: n.remote_as,
            router_id: Ipv4Addr::UNSPECIFIED,
        };
        let Some(idx) = self.add_to_rib(info).await else {
            warn!(peer = %n.address, "the RIB task is not running; neighbor not started");
            return false;
        };
        let mut spec = PeerSpec::new(idx, bgp, n);
        spec.listen_range = listen_range;
        peers.push(self.start_peer(spec, resumed));
        true
    }

    /// The configuration running now.
    pub fn running(&self) -> &Config {
        &self.running
    }

    async fn add_to_rib(&self, info: PeerInfo) -> Option<PeerIdx> {
        let (reply, rx) = oneshot::channel();
        self.rib
            .send(RibRequest::AddPeer { info, reply })
            .await
            .ok()?;
        rx.await.ok()
    }
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
