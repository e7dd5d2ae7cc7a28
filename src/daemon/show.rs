//! Turning the daemon's state into the control socket's rows.

use crate::api::protocol::{Pmsi, RouteRow};
use evpnd_core::rib::engine::RibPath;
use evpnd_core::rib::peer::PeerKind;
use evpnd_wire::attribute::MpReach;
use evpnd_wire::evpn::EvpnRoute;
use evpnd_wire::extcomm::EvpnCommunities;
use evpnd_wire::pmsi::PmsiTunnelId;
use evpnd_wire::rd::RouteDistinguisher;
use evpnd_wire::{Family, Reader};

/// `show routes` filters.
#[derive(Debug, Clone, Default)]
pub struct RouteFilter {
    pub vni: Option<u32>,
    pub route_type: Option<u8>,
    pub rd: Option<RouteDistinguisher>,
}

/// One row per path, best first within a route, routes ordered by key.
pub fn route_rows(mut paths: Vec<RibPath>, filter: &RouteFilter) -> Vec<RouteRow> {
    paths.sort_by(|a, b| a.key.cmp(&b.key).then(b.best.cmp(&a.best)));
    paths
        .iter()
        .filter_map(route_row)
        .filter(|row| filter.route_type.is_none_or(|t| row.route_type == t))
        .filter(|row| filter.rd.is_none_or(|rd| row.rd == rd.to_string()))
        .filter(|row| {
            filter.vni.is_none_or(|vni| {
                row.labels.first() == Some(&vni)
                    || row.pmsi.as_ref().is_some_and(|p| p.label == vni)
            })
        })
        .collect()
}

fn route_row(p: &RibPath) -> Option<RouteRow> {
    let route = EvpnRoute::decode_all(&p.path.nlri, 0)
        .ok()?
        .into_iter()
        .next()?;
    // In the form the set is stored in (`rib::attrs::STORED_FORM`).
    let attrs = p.path.attrs.decode();
    let communities = EvpnCommunities::of(attrs.extended_communities().unwrap_or_default());
    // The NLRI's fields as `evpnd decode` reads them too.
    let fields = route.fields();
    let rd = match fields.rd {
        Some(rd) => rd.to_string(),
        // Every EVPN route type starts with its RD (RFC 7432 section 7),
        // known or not.
        None => match &route {
            EvpnRoute::Opaque { value, .. } => RouteDistinguisher::decode(&mut Reader::new(value))
                .map(|rd| rd.to_string())
                .unwrap_or_default(),
            _ => String::new(),
        },
    };
    Some(RouteRow {
        route_type: fields.route_type,
        rd,
        esi: fields.esi.map(|esi| esi.to_string()),
        ethernet_tag: fields.ethernet_tag.unwrap_or(0),
        mac: fields.mac.map(|mac| mac.to_string()),
        ip: fields.ip,
        labels: fields.labels,
        next_hop: MpReach::new(
            Family::L2VPN_EVPN,
            p.path.attrs.next_hop.clone(),
            bytes::Bytes::new(),
        )
        .next_hop_addr(),
        originator_ip: fields.originator_ip,
        prefix: fields.prefix,
        gateway_ip: fields.gateway_ip,
        peer: match &p.from {
            Some(info) if info.kind == PeerKind::Local => "local".to_string(),
            Some(info) => info.address.to_string(),
            None => "unknown".to_string(),
        },
        internal: p.from.as_ref().is_some_and(|i| i.kind.is_ibgp()),
        best: p.best,
        stale: p.stale,
        origin: attrs.origin().unwrap_or_default(),
        local_pref: attrs.local_pref(),
        med: attrs.multi_exit_disc(),
        as_path: attrs.as_path().map(|a| a.to_string()).unwrap_or_default(),
        originator_id: attrs.originator_id(),
        cluster_list: attrs.cluster_list().map(<[_]>::to_vec).unwrap_or_default(),
        route_targets: communities
            .route_targets
            .iter()
            .map(ToString::to_string)
            .collect(),
        encapsulation: communities.encapsulation,
        mac_mobility: communities.mac_mobility,
        default_gateway: communities.default_gateway,
        es_import_rt: communities.es_import_rt.map(|mac| mac.to_string()),
        router_mac: communities.router_mac.map(|mac| mac.to_string()),
        pmsi: attrs.pmsi_tunnel().and_then(|t| match t.tunnel {
            PmsiTunnelId::IngressReplication { endpoint } => Some(Pmsi {
                tunnel_type: "ingress-replication".to_string(),
                label: t.vni(),
                endpoint,
            }),
            PmsiTunnelId::Other { .. } => None,
        }),
    })
}
