//! The daemon: wires the configured peers, the RIB task, the BGP listener
//! and the control socket together, and answers `show` queries.

pub mod dynamic;
pub mod metrics;
pub mod reload;
pub mod show;

use crate::api::protocol::{NeighborRow, Request, Response, UpgradeReport};
use crate::api::server::ApiCall;
use crate::config::{Config, Dataplane};
use crate::rib_task::{RibRequest, RibTask};
use crate::session::auth;
use crate::session::handover::{HandedOver, HandedPaths, Loaded, Resumed, paths_to_hand_over};
use crate::session::peer::reject;
use crate::session::spec::{PeerSpec, peer_kind};
use crate::session::status::PeerControl;
use crate::session::supervise::PeerHandle;
use crate::vtep::{self, VtepError, VtepQuery};
use evpnd_core::rib::encode::OutboundEncoder;
use evpnd_core::rib::engine::{PeerCounters, Rib, RibInput};
use evpnd_core::rib::ingress::restored;
use evpnd_core::rib::peer::{PeerIdx, PeerInfo, PeerKind};
use evpnd_core::session::State;
use evpnd_core::session::graceful_restart;
use evpnd_wire::Family;
use reload::{InboundMap, ReloadSource, Reloader};
use show::{RouteFilter, route_rows};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{info, warn};

/// How many decoded UPDATEs may wait for the RIB task before the peer tasks
/// stop reading (TCP flow control then slows the peers down).
const RIB_QUEUE: usize = 1024;
/// How long peers get to send their Cease on shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Error)]
pub enum DaemonError {
    #[error(transparent)]
    Vtep(#[from] VtepError),
    #[error("cannot serve metrics on {addr}: {source}")]
    Metrics {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot listen for BGP on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// How the daemon ended.
#[derive(Debug)]
pub enum Stopped {
    /// Sessions closed (a signal, or the control socket server stopped).
    Shutdown,
    /// `evpnd upgrade`: these established sessions were handed over, for
    /// the binary executed next, with the paths the RIB held from them and
    /// from us (ADR 0010).
    Upgrade {
        sessions: Vec<HandedOver>,
        paths: Vec<HandedPaths>,
    },
}

/// Runs until `calls` closes (the control socket server stopped on a
/// signal) or an upgrade is asked for, then shuts the sessions down or
/// hands them over. `reload` is where a reload (`Request::Reload`) reads the
/// configuration again; `inherited`: what the previous image handed over;
/// `upgrade_to`: the binary an upgrade executes (the path this process was
/// started from), or why it is unknown (an upgrade is then refused).
pub async fn run(
    config: Config,
    mut calls: mpsc::Receiver<ApiCall>,
    reload: ReloadSource,
    inherited: Option<Loaded>,
    upgrade_to: Result<PathBuf, String>,
) -> Result<Stopped, DaemonError> {
    let (resumed, local_paths) = match inherited {
        Some(loaded) => (loaded.sessions, loaded.local_paths),
        None => (Vec::new(), None),
    };
    let bgp = &config.bgp;
    let mut listeners = Vec::new();
    for addr in bgp.listen_addrs() {
        // With the neighbours' TCP-MD5 keys before it listens (RFC 2385).
        let listener = auth::bind_listener(addr, &config)
            .map_err(|source| DaemonError::Listen { addr, source })?;
        info!(%addr, "listening for BGP");
        listeners.push(listener);
    }
    // Kept in step with the neighbours by each reload.
    let mut listener_keys =
        auth::ListenerKeys::new(&listeners, &config).map_err(|source| DaemonError::Listen {
            addr: bgp.listen_addrs()[0],
            source,
        })?;

    let local = PeerInfo {
        address: IpAddr::V4(bgp.router_id),
        kind: PeerKind::Local,
        remote_as: bgp.asn,
        router_id: bgp.router_id,
    };
    let encoder = OutboundEncoder {
        family: Family::L2VPN_EVPN,
        local_asn: bgp.asn,
        cluster_id: bgp.cluster_id,
    };
    let mut rib = RibTask::new(Rib::new(local, encoder));
    let specs: Vec<PeerSpec> = config
        .neighbors
        .iter()
        .map(|n| {
            let idx = rib.add_peer(PeerInfo {
                address: n.address,
                kind: peer_kind(bgp, n),
                remote_as: n.remote_as,
                router_id: Ipv4Addr::UNSPECIFIED,
            });
            PeerSpec::new(idx, bgp, n)
        })
        .collect();
    let vtep_role = config
        .vtep
        .as_ref()
        .is_some_and(|v| v.dataplane == Dataplane::Linux);
    let observer = vtep_role.then(|| {
        // RIB -> VTEP best-path changes: unbounded on purpose, the RIB never
        // waits for the VTEP. The VTEP waits for room in the bounded RIB
        // queue (its local routes), so a RIB waiting on the VTEP would be a
        // cycle of waits that can deadlock (ADR 0007, rule 3). A slow kernel
        // grows this queue, not the RIB's latency.
        let (tx, rx) = mpsc::unbounded_channel();
        rib.observe(tx);
        rx
    });
    // Bound before any session starts: a bad address fails the start-up
    // before peers are contacted, and a scrape never races the first routes.
    let (snapshots_tx, mut snapshots) = mpsc::channel::<metrics::SnapshotRequest>(4);
    let metrics_task = match config.metrics.listen {
        Some(addr) => Some(
            metrics::serve(addr, snapshots_tx)
                .await
                .map_err(|source| DaemonError::Metrics { addr, source })?,
        ),
        None => None,
    };
    let (rib_tx, rib_rx) = mpsc::channel(RIB_QUEUE);
    if let Some(gr) = &bgp.graceful_restart {
        // RFC 4724 section 4.1: our peers keep our routes while we were
        // away; the first table we send replaces them, so it waits until
        // theirs are in (the local ones are: the VTEP reads the kernel
        // below, before any session starts).
        info!(
            bound_secs = gr.select_defer_time.as_secs(),
            "graceful restart: first advertisement deferred until the peers' End-of-RIB"
        );
        rib.defer_selection(gr.select_defer_time, rib_tx.clone());
    }
    let rib_task = tokio::spawn(rib.run(rib_rx));
    // The local routes the previous image announced (ADR 0010) stay, stale,
    // until the VTEP below has originated its own; those it does not
    // originate again are withdrawn then, so none lingers at the peers.
    let inherits_local = local_paths.as_ref().is_some_and(|p| !p.is_empty());
    for p in local_paths.into_iter().flatten() {
        let update = restored(p.attributes, p.next_hop, p.nlri, false);
        let _ = rib_tx
            .send(RibRequest::Input(RibInput::Local { update }))
            .await;
    }
    let local = PeerIdx::LOCAL;
    if inherits_local {
        let _ = rib_tx
            .send(RibRequest::Input(RibInput::MarkStale { peer: local }))
            .await;
    }
    let vtep = match observer {
        Some(changes) => Some(vtep::start(&config, rib_tx.clone(), changes).await?),
        None => None,
    };
    if inherits_local {
        let _ = rib_tx
            .send(RibRequest::Input(RibInput::StaleExpired { peer: local }))
            .await;
    }

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    // The accept loops read the neighbours' addresses from here; a reload
    // publishes a new map.
    let (inbound_tx, inbound) = watch::channel(InboundMap::default());
    let mut reloader = Reloader::new(
        reload,
        config.clone(),
        inbound_tx,
        rib_tx.clone(),
        vtep.clone(),
        shutdown_rx,
    );
    let mut resumed: std::collections::HashMap<IpAddr, Resumed> = resumed.into_iter().collect();
    let mut peers: Vec<PeerHandle> = specs
        .into_iter()
        .map(|spec| {
            let session = resumed.remove(&spec.neighbor.address);
            reloader.start_peer(spec, session)
        })
        .collect();
    for (address, session) in resumed {
        // A dynamic neighbour's session goes on under its range's template.
        if let Some(range) = config.listen_range_of(address) {
            let neighbor = range.neighbor(address);
            let prefix = range.prefix;
            if reloader
                .add_peer(bgp, &neighbor, Some(prefix), Some(session), &mut peers)
                .await
            {
                continue;
            }
        }
        // Dropped here, which closes the connection: the peer sees the
        // session end, as after a restart.
        warn!(peer = %address, "a handed-over session's neighbour is no longer configured; closing it");
    }
    reloader.publish(&peers);
    let mut dynamic = dynamic::Dynamic::default();
    let (accepted_tx, mut accepted) = mpsc::channel(dynamic::ACCEPT_QUEUE);
    let accept_tasks: Vec<_> = listeners
        .into_iter()
        .map(|l| tokio::spawn(accept_loop(l, inbound.clone(), accepted_tx.clone())))
        .collect();
    let mut reap = tokio::time::interval(dynamic::REAP_EVERY);
    reap.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    let mut upgrading = false;
    loop {
        tokio::select! {
            call = calls.recv() => {
                let Some(call) = call else { break };
                let response = match call.request {
                    Request::Upgrade => match &upgrade_to {
                        Ok(binary) => {
                            let _ = call.reply.send(upgrade_report(binary, &peers));
                            upgrading = true;
                            break;
                        }
                        // Refused, and the daemon runs on as it was.
                        Err(e) => Response::error(format!(
                            "cannot upgrade: which binary runs is unknown ({e})"
                        )),
                    },
                    Request::Reload => {
                        let report = reloader.reload(&mut peers).await;
                        listener_keys.sync(reloader.running());
                        Response::Reload(report)
                    }
                    Request::ShowConfig => Response::Config(reloader.status()),
                    request => answer(request, &peers, &rib_tx, vtep.as_ref()).await,
                };
                let _ = call.reply.send(response);
            }
            Some(reply) = snapshots.recv() => {
                let mut snapshot = snapshot(&peers, &rib_tx, vtep.as_ref()).await;
                snapshot.config_generation = reloader.generation();
                snapshot.listen_ranges = reloader
                    .running()
                    .listen_ranges
                    .iter()
                    .map(|r| metrics::RangeMetrics {
                        prefix: r.prefix,
                        sessions: dynamic::in_range(&peers, r.prefix) as u64,
                        max_sessions: r.max_sessions,
                        refused: dynamic.refused(&r.prefix),
                    })
                    .collect();
                let _ = reply.send(snapshot);
            }
            Some(connection) = accepted.recv() => {
                dynamic.accept(connection, &mut reloader, &mut peers).await;
            }
            _ = reap.tick() => {
                dynamic.reap(&mut reloader, &mut peers, &rib_tx).await;
            }
        }
    }
    if let Some(task) = metrics_task {
        task.abort();
    }

    if upgrading {
        info!("handing the established sessions over to the new image");
        reloader.handover().request();
    } else {
        info!("stopping sessions");
    }
    let _ = shutdown_tx.send(true);
    for task in accept_tasks {
        task.abort();
    }
    // Its duplicates of the listening sockets: they close with it.
    drop(listener_keys);
    for peer in peers {
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, peer.task).await;
    }
    // Give the writers a moment to put the Cease NOTIFICATIONs on the wire.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopped = if upgrading {
        let sessions = reloader.handover().take();
        // The sessions handed over never told the RIB they ended: it still
        // holds their paths, which go with them.
        let handed: std::collections::HashSet<IpAddr> =
            sessions.iter().map(|s| s.address).collect();
        let (reply, rows) = oneshot::channel();
        let paths = match rib_tx.send(RibRequest::Dump { reply }).await {
            Ok(()) => rows.await.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let paths = paths_to_hand_over(paths, &handed);
        info!(
            sessions = sessions.len(),
            path_sets = paths.len(),
            "handing over"
        );
        Stopped::Upgrade { sessions, paths }
    } else {
        Stopped::Shutdown
    };
    drop(rib_tx);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, rib_task).await;
    Ok(stopped)
}

/// The answer to `evpnd upgrade`, given before the hand-over starts.
fn upgrade_report(binary: &Path, peers: &[PeerHandle]) -> Response {
    let sessions = peers
        .iter()
        .filter(|p| p.status.borrow().state == State::Established)
        .count();
    Response::Upgrade(UpgradeReport {
        binary: binary.display().to_string(),
        sessions,
    })
}

/// Hands each accepted connection to its peer's task, or to the daemon
/// loop (`dynamic`) when the address is in a listen range; connections
/// from other addresses are refused (RFC 4486 Cease / Connection Rejected)
/// and logged.
async fn accept_loop(
    listener: TcpListener,
    inbound: watch::Receiver<InboundMap>,
    dynamic: mpsc::Sender<dynamic::Accepted>,
) {
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let peer = from.ip().to_canonical();
        let (session, in_range) = {
            let map = inbound.borrow();
            let in_range = map.ranges.iter().any(|r| r.contains(peer));
            (map.sessions.get(&peer).cloned(), in_range)
        };
        match session {
            Some(tx) => {
                if tx.try_send(stream).is_err() {
                    warn!(%peer, "refused connection: the session is busy with another one");
                }
            }
            None if in_range => {
                let accepted = dynamic::Accepted { stream, from: peer };
                if let Err(e) = dynamic.try_send(accepted) {
                    warn!(%peer, "refused connection: too many connections from listen ranges wait to be taken on");
                    let (mpsc::error::TrySendError::Full(a) | mpsc::error::TrySendError::Closed(a)) =
                        e;
                    reject(a.stream);
                }
            }
            None => {
                warn!(%peer, "refused connection from an address that is not a configured neighbor");
                reject(stream);
            }
        }
    }
}

async fn answer(
    request: Request,
    peers: &[PeerHandle],
    rib: &mpsc::Sender<RibRequest>,
    vtep: Option<&mpsc::Sender<VtepQuery>>,
) -> Response {
    match request {
        Request::ShowRoutes {
            vni,
            route_type,
            rd,
        } => {
            let rd = match rd.map(|rd| rd.parse()).transpose() {
                Ok(rd) => rd,
                Err(e) => return Response::error(format!("--rd: {e}")),
            };
            let filter = RouteFilter {
                vni,
                route_type,
                rd,
            };
            let (reply, rx) = oneshot::channel();
            if rib.send(RibRequest::Dump { reply }).await.is_err() {
                return Response::error("the RIB task is not running");
            }
            match rx.await {
                Ok(paths) => Response::Routes(route_rows(paths, &filter)),
                Err(_) => Response::error("the RIB task did not answer"),
            }
        }
        Request::ShowNeighbors => {
            let mut rows = Vec::with_capacity(peers.len());
            for peer in peers {
                rows.push(neighbor_row(peer, peer_counters(rib, peer).await));
            }
            Response::Neighbors(rows)
        }
        // The daemon loop answers these itself (they change its state).
        Request::ClearNeighbors { address } => {
            let chosen: Vec<&PeerHandle> = peers
                .iter()
                .filter(|p| address.is_none_or(|a| p.spec.neighbor.address == a))
                .collect();
            if let (Some(a), true) = (address, chosen.is_empty()) {
                return Response::error(format!(
                    "{a} is not a configured neighbor (evpnd show neighbors lists them)"
                ));
            }
            let mut reset = Vec::new();
            for peer in chosen {
                if peer.control.send(PeerControl::Reset).await.is_ok() {
                    reset.push(peer.spec.neighbor.address);
                }
            }
            info!(neighbors = ?reset, "sessions reset by the operator");
            Response::Cleared(reset)
        }
        Request::Reload | Request::ShowConfig | Request::Upgrade => {
            Response::error("internal error: a reload or upgrade request reached the query path")
        }
        // A route reflector has no VNIs and no forwarding table.
        Request::ShowVnis => {
            let Some(vtep) = vtep else {
                return Response::Vnis(Vec::new());
            };
            let (reply, rx) = oneshot::channel();
            match vtep.send(VtepQuery::Vnis(reply)).await {
                Ok(()) => rx.await.map_or_else(
                    |_| Response::error("the VTEP task did not answer"),
                    Response::Vnis,
                ),
                Err(_) => Response::error("the VTEP task is not running"),
            }
        }
        Request::ShowFdb { vni } => {
            let Some(vtep) = vtep else {
                return Response::Fdb(Vec::new());
            };
            let (reply, rx) = oneshot::channel();
            match vtep.send(VtepQuery::Fdb { vni, reply }).await {
                Ok(()) => rx.await.map_or_else(
                    |_| Response::error("the VTEP task did not answer"),
                    Response::Fdb,
                ),
                Err(_) => Response::error("the VTEP task is not running"),
            }
        }
    }
}

/// The RIB's counters for one peer (zero when the RIB task is gone).
pub(crate) async fn peer_counters(
    rib: &mpsc::Sender<RibRequest>,
    peer: &PeerHandle,
) -> PeerCounters {
    let (reply, rx) = oneshot::channel();
    let query = RibRequest::Counters {
        peer: peer.spec.idx,
        reply,
    };
    match rib.send(query).await {
        Ok(()) => rx.await.unwrap_or_default(),
        Err(_) => PeerCounters::default(),
    }
}

/// What the metrics endpoint reports, read now.
async fn snapshot(
    peers: &[PeerHandle],
    rib: &mpsc::Sender<RibRequest>,
    vtep: Option<&mpsc::Sender<VtepQuery>>,
) -> metrics::Snapshot {
    let mut snapshot = metrics::Snapshot::default();
    for peer in peers {
        let counters = peer_counters(rib, peer).await;
        let c = &peer.counters;
        snapshot.peers.push(metrics::PeerMetrics {
            address: peer.spec.neighbor.address,
            established: peer.status.borrow().state == State::Established,
            messages_in: c.messages_in.load(Ordering::Relaxed),
            messages_out: c.messages_out.load(Ordering::Relaxed),
            updates_in: c.updates_in.load(Ordering::Relaxed),
            updates_out: c.updates_out.load(Ordering::Relaxed),
            prefixes_received: u64::from(counters.received),
            stale_routes: counters.stale,
        });
        snapshot.queue_overflows.push((
            peer.spec.neighbor.address,
            c.queue_overflows.load(Ordering::Relaxed),
        ));
        snapshot
            .peer_panics
            .push((peer.spec.neighbor.address, c.panics.load(Ordering::Relaxed)));
        snapshot.prefix_limit_exceeded.push((
            peer.spec.neighbor.address,
            c.prefix_limit_exceeded.load(Ordering::Relaxed),
        ));
    }
    let (reply, rx) = oneshot::channel();
    if rib.send(RibRequest::Stats { reply }).await.is_ok() {
        snapshot.rib = rx.await.unwrap_or_default();
    }
    if let Some(vtep) = vtep {
        let (reply, rx) = oneshot::channel();
        if vtep.send(VtepQuery::Stats(reply)).await.is_ok() {
            snapshot.vtep = rx.await.ok();
        }
    }
    snapshot
}

fn neighbor_row(peer: &PeerHandle, counters: PeerCounters) -> NeighborRow {
    let status = peer.status.borrow().clone();
    let n = &peer.spec.neighbor;
    let negotiated = status.negotiated.as_ref();
    NeighborRow {
        address: n.address,
        remote_as: n.remote_as,
        description: n.description.clone(),
        state: status.state.name().to_string(),
        uptime_secs: status
            .established_since
            .filter(|_| status.state == State::Established)
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .map(|d| d.as_secs()),
        families: negotiated
            .map(|neg| {
                neg.families
                    .iter()
                    .map(|family| family.to_string())
                    .collect()
            })
            .unwrap_or_default(),
        prefixes_received: u64::from(counters.received),
        prefixes_sent: counters.sent,
        stale_routes: counters.stale,
        graceful_restart: negotiated
            .and_then(|neg| neg.peer_graceful_restart.as_ref())
            .map(graceful_restart::describe),
        messages_in: peer.counters.messages_in.load(Ordering::Relaxed),
        messages_out: peer.counters.messages_out.load(Ordering::Relaxed),
        last_error: status.last_error,
        route_reflector_client: n.route_reflector_client,
        hold_time: negotiated.map(|neg| neg.hold_time),
        established_at_ms: status
            .established_since
            .filter(|_| status.state == State::Established)
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64),
        password: n.password.is_some(),
        listen_range: peer.spec.listen_range.map(|r| r.to_string()),
        rt_memberships: counters.rt_memberships,
        ttl_security: n.ttl_security,
        max_prefixes: n.max_prefixes.map(|m| m.to_string()),
        prefix_limit_exceeded: peer.counters.prefix_limit_exceeded.load(Ordering::Relaxed),
        peer_damping: n.peer_damping.to_string(),
        damping_failures: status.damping.failures,
        restart_in_ms: status.damping.restart_at.map(|at| {
            at.saturating_duration_since(tokio::time::Instant::now())
                .as_millis() as u64
        }),
    }
}
