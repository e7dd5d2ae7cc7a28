//! Turning the daemon's state into the control socket's rows.

use crate::api::protocol::{MacMobility, Pmsi, RouteRow};
use crate::rib::peer::PeerKind;
use crate::rib::task::RibPath;
use crate::wire::attribute::MpReach;
use crate::wire::evpn::EvpnRoute;
use crate::wire::extcomm::ExtendedCommunity;
use crate::wire::message::DecodeOptions;
use crate::wire::pmsi::PmsiTunnelId;
use crate::wire::rd::RouteDistinguisher;
use crate::wire::update::Update;
use crate::wire::{Family, Reader};

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
    // Attribute sets are stored in wire form; the 4-octet form is what every
    // peer evpnd talks to negotiates (and what it stores after decoding).
    let opts = DecodeOptions {
        four_octet_as: true,
        ..Default::default()
    };
    paths
        .iter()
        .filter_map(|p| route_row(p, &opts))
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

fn route_row(p: &RibPath, opts: &DecodeOptions) -> Option<RouteRow> {
    let route = EvpnRoute::decode_all(&p.path.nlri, 0)
        .ok()?
        .into_iter()
        .next()?;
    let attrs = Update::from_attributes(&p.path.attrs.encoded, opts);
    let communities = attrs.extended_communities().unwrap_or_default();
    let mut row = RouteRow {
        route_type: route.route_type(),
        rd: String::new(),
        esi: None,
        ethernet_tag: 0,
        mac: None,
        ip: None,
        labels: Vec::new(),
        next_hop: MpReach::new(
            Family::L2VPN_EVPN,
            p.path.attrs.next_hop.clone(),
            bytes::Bytes::new(),
        )
        .next_hop_addr(),
        originator_ip: None,
        prefix: None,
        gateway_ip: None,
        peer: match &p.from {
            Some(info) if info.kind == PeerKind::Local => "local".to_string(),
            Some(info) => info.address.to_string(),
            None => "unknown".to_string(),
        },
        internal: p.from.as_ref().is_some_and(|i| i.kind.is_ibgp()),
        best: p.best,
        origin: attrs
            .origin()
            .map_or("igp".to_string(), |o| o.to_string().to_lowercase()),
        local_pref: attrs.local_pref(),
        med: attrs.multi_exit_disc(),
        as_path: attrs.as_path().map(|a| a.to_string()).unwrap_or_default(),
        originator_id: attrs.originator_id(),
        cluster_list: attrs.cluster_list().map(<[_]>::to_vec).unwrap_or_default(),
        route_targets: communities
            .iter()
            .filter_map(|c| c.route_target())
            .map(|rt| rt.to_string())
            .collect(),
        encapsulation: communities.iter().find_map(|c| match c {
            ExtendedCommunity::Encapsulation { tunnel_type } => Some(*tunnel_type),
            _ => None,
        }),
        mac_mobility: communities.iter().find_map(|c| match c {
            ExtendedCommunity::MacMobility(m) => Some(MacMobility {
                sequence: m.sequence,
                sticky: m.sticky(),
            }),
            _ => None,
        }),
        default_gateway: communities.iter().any(|c| c.is_default_gateway()),
        pmsi: attrs.pmsi_tunnel().and_then(|t| match t.tunnel {
            PmsiTunnelId::IngressReplication { endpoint } => Some(Pmsi {
                tunnel_type: "ingress-replication".to_string(),
                label: t.vni(),
                endpoint,
            }),
            PmsiTunnelId::Other { .. } => None,
        }),
    };
    match route {
        EvpnRoute::MacIp(r) => {
            row.rd = r.rd.to_string();
            row.esi = Some(r.esi.to_string());
            row.ethernet_tag = r.ethernet_tag;
            row.mac = Some(r.mac.to_string());
            row.ip = r.ip;
            row.labels = std::iter::once(r.vni()).chain(r.l3_vni()).collect();
        }
        EvpnRoute::InclusiveMulticast(r) => {
            row.rd = r.rd.to_string();
            row.ethernet_tag = r.ethernet_tag;
            row.originator_ip = Some(r.originating_router);
        }
        EvpnRoute::Opaque { ref value, .. } => {
            if let Some(r) = route.ethernet_ad() {
                row.rd = r.rd.to_string();
                row.esi = Some(r.esi.to_string());
                row.ethernet_tag = r.ethernet_tag;
                row.labels = vec![r.vni()];
            } else if let Some(r) = route.ethernet_segment() {
                row.rd = r.rd.to_string();
                row.esi = Some(r.esi.to_string());
                row.originator_ip = Some(r.originating_router);
            } else if let Some(r) = route.ip_prefix() {
                row.rd = r.rd.to_string();
                row.esi = Some(r.esi.to_string());
                row.ethernet_tag = r.ethernet_tag;
                row.prefix = Some(r.cidr());
                row.gateway_ip = r.gateway_ip();
                row.labels = vec![r.vni()];
            } else {
                // Every EVPN route type starts with its RD (RFC 7432 section 7).
                let mut r = Reader::new(value);
                row.rd = RouteDistinguisher::decode(&mut r)
                    .map(|rd| rd.to_string())
                    .unwrap_or_default();
            }
        }
    }
    Some(row)
}
