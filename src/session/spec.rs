//! What a peer task is started with: the neighbour's configuration resolved
//! against `[bgp]`, its role, and the OPEN we send it.

use crate::config::{BgpConfig, Config, Dataplane, NeighborConfig};
use evpnd_core::evpn::instance::EvpnInstances;
use evpnd_core::rib::ingress::LocalIdentity;
use evpnd_core::rib::peer::{PeerIdx, PeerKind};
use evpnd_core::session::fsm::FsmConfig;
use evpnd_core::session::graceful_restart::{self, GracefulRestartConfig};
use evpnd_wire::Family;
use evpnd_wire::capability::Capability;
use evpnd_wire::open::Open;
use evpnd_wire::rtc::RtMembership;
use std::sync::Arc;
use tokio::sync::watch;

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
    /// A dynamic neighbour: the listen range its session was accepted
    /// from; `None` for a configured one.
    pub listen_range: Option<ipnetwork::IpNetwork>,
    /// The RT membership this node announces on sessions with RT-Constrain
    /// (RFC 4684), kept current by reloads ([`our_rt_memberships`]).
    pub rt_membership: watch::Receiver<Arc<[RtMembership]>>,
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
            listen_range: None,
            // The daemon gives every started peer its own subscription;
            // until then, the reflector's answer.
            rt_membership: watch::channel(Arc::from([RtMembership::Default])).1,
        }
    }
}

/// The RT membership this node announces (RFC 4684): a reflector (any
/// route-reflector client, or no VTEP) must see every route, so the
/// default membership; a VTEP only the import RTs of its VNIs, origin AS
/// `bgp.asn` (RFC 4684 section 4), so that its reflector sends it only
/// what it imports.
pub fn our_rt_memberships(config: &Config) -> Arc<[RtMembership]> {
    let reflects = config.neighbors.iter().any(|n| n.route_reflector_client)
        || config
            .listen_ranges
            .iter()
            .any(|r| r.template.route_reflector_client);
    let vtep = config
        .vtep
        .as_ref()
        .filter(|v| v.dataplane == Dataplane::Linux && !reflects);
    let instances = vtep.and_then(|v| {
        EvpnInstances::from_spec(&v.evpn_spec(config.bgp.router_id, config.bgp.asn)).ok()
    });
    match instances {
        Some(instances) => instances.rt_memberships(config.bgp.asn).into(),
        None => Arc::from([RtMembership::Default]),
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
        // Graceful Restart for l2vpn-evpn only: evpnd keeps no RT
        // membership across a restart or an upgrade, it announces it again.
        let kept: Vec<Family> = neighbor
            .families
            .iter()
            .copied()
            .filter(|f| *f != Family::IPV4_RTC)
            .collect();
        caps.push(graceful_restart::capability(gr, &kept, false));
    }
    Open::new(bgp.asn, neighbor.hold_time, bgp.router_id, caps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// RFC 4684 section 4: a VTEP announces its VNIs' import RTs (origin
    /// AS bgp.asn), and after a change of VNIs the new set; a reflector,
    /// or a VTEP that reflects too, the default membership.
    #[test]
    fn a_vtep_asks_for_its_import_rts_a_reflector_for_everything() {
        let vtep_file = include_str!("../../configs/vtep.toml");
        let shown = |c: &Config| -> Vec<String> {
            our_rt_memberships(c)
                .iter()
                .map(|m| m.to_string())
                .collect()
        };
        let vtep = Config::from_toml_str(vtep_file).unwrap();
        assert_eq!(shown(&vtep), ["65000:65000:10", "65000:65000:11"]);
        // A reload that adds VNI 20 and drops VNI 10.
        let changed = vtep_file.replace("vlan = 10\nvni = 10", "vlan = 20\nvni = 20");
        let changed = Config::from_toml_str(&changed).unwrap();
        assert_eq!(shown(&changed), ["65000:65000:11", "65000:65000:20"]);
        // The same VTEP with a route-reflector client reflects: everything.
        let reflecting = vtep_file.replace(
            "route_reflector_client = false",
            "route_reflector_client = true",
        );
        let reflecting = Config::from_toml_str(&reflecting).unwrap();
        assert_eq!(shown(&reflecting), ["default"]);
        let rr = Config::from_toml_str(include_str!("../../configs/rr.toml")).unwrap();
        assert_eq!(shown(&rr), ["default"]);
    }

    /// With `rtc`, the OPEN announces Multiprotocol for AFI 1 / SAFI 132
    /// (RFC 4684 section 4) and Graceful Restart for l2vpn-evpn alone.
    #[test]
    fn rtc_is_announced_but_not_kept_over_a_restart() {
        let c = Config::from_toml_str(
            "[bgp]\nasn = 65000\nrouter_id = \"198.19.0.4\"\nfamilies = [\"l2vpn-evpn\", \"rtc\"]\n\
             [[neighbors]]\naddress = \"198.19.0.1\"\nremote_as = 65000\n",
        )
        .unwrap();
        let open = local_open(&c.bgp, &c.neighbors[0]);
        assert_eq!(open.families(), [Family::L2VPN_EVPN, Family::IPV4_RTC]);
        let gr = open
            .graceful_restart()
            .expect("Graceful Restart is on by default");
        let kept: Vec<Family> = gr.families.iter().map(|f| f.family).collect();
        assert_eq!(kept, [Family::L2VPN_EVPN]);
    }
}
