//! What a peer task is started with: the neighbour's configuration resolved
//! against `[bgp]`, its role, and the OPEN we send it.

use crate::config::{BgpConfig, NeighborConfig};
use evpnd_core::rib::ingress::LocalIdentity;
use evpnd_core::rib::peer::{PeerIdx, PeerKind};
use evpnd_core::session::fsm::FsmConfig;
use evpnd_core::session::graceful_restart::{self, GracefulRestartConfig};
use evpnd_wire::Family;
use evpnd_wire::capability::Capability;
use evpnd_wire::open::Open;
use std::sync::Arc;

/// Everything a peer task needs to know, fixed for its lifetime.
#[derive(Debug, Clone)]
pub struct PeerSpec {
    pub idx: PeerIdx,
    pub neighbor: NeighborConfig,
    pub fsm: FsmConfig,
    pub local: LocalIdentity,
    pub kind: PeerKind,
    /// The family routed through the RIB (l2vpn-evpn).
    pub family: Family,
    /// Octets that may wait in the outbound queue (`bgp.peer_queue_bytes`).
    pub queue_bytes: usize,
    /// Set by a reload that removes this neighbour, before its shutdown
    /// fires: the session then ends with Cease / Peer De-configured (RFC
    /// 4486 section 4, subcode 3) instead of Administrative Shutdown.
    pub deconfigured: Arc<std::sync::atomic::AtomicBool>,
    /// Graceful Restart (RFC 4724), `None` when disabled.
    pub graceful_restart: Option<GracefulRestartConfig>,
    /// The daemon's hand-over switch (`evpnd upgrade`): when set, a stop
    /// hands the established connection over instead of closing it.
    pub handover: super::handover::Handover,
}

impl PeerSpec {
    pub fn new(idx: PeerIdx, bgp: &BgpConfig, neighbor: &NeighborConfig) -> Self {
        let kind = peer_kind(bgp, neighbor);
        Self {
            idx,
            neighbor: neighbor.clone(),
            fsm: super::fsm_config(bgp, neighbor),
            local: LocalIdentity {
                asn: bgp.asn,
                router_id: bgp.router_id,
                cluster_id: bgp.cluster_id,
            },
            kind,
            family: Family::L2VPN_EVPN,
            queue_bytes: bgp.peer_queue_bytes,
            deconfigured: Arc::default(),
            graceful_restart: bgp.graceful_restart,
            handover: Default::default(),
        }
    }
}

/// How a configured neighbor relates to us (RFC 4456 section 6 roles).
pub fn peer_kind(bgp: &BgpConfig, neighbor: &NeighborConfig) -> PeerKind {
    match (
        neighbor.is_internal(bgp.asn),
        neighbor.route_reflector_client,
    ) {
        (true, true) => PeerKind::IbgpClient,
        (true, false) => PeerKind::IbgpNonClient,
        (false, _) => PeerKind::Ebgp,
    }
}

/// The OPEN we send this neighbor (RFC 4271 4.2) with its capabilities
/// (RFC 5492): one Multiprotocol per family (RFC 4760 8), Route Refresh (RFC
/// 2918), 4-octet AS (RFC 6793), Extended Message (RFC 8654) and Graceful
/// Restart (RFC 4724; its Restart State bit is set per session, see
/// `Session::restarting`) if enabled.
pub fn local_open(bgp: &BgpConfig, neighbor: &NeighborConfig) -> Open {
    let mut caps: Vec<Capability> = neighbor
        .families
        .iter()
        .map(|f| Capability::Multiprotocol(*f))
        .collect();
    caps.push(Capability::RouteRefresh);
    caps.push(Capability::FourOctetAs(bgp.asn));
    if bgp.extended_message {
        caps.push(Capability::ExtendedMessage);
    }
    if let Some(gr) = &bgp.graceful_restart {
        caps.push(graceful_restart::capability(gr, &neighbor.families, false));
    }
    Open::new(bgp.asn, neighbor.hold_time, bgp.router_id, caps)
}
