//! Every EVPN route by its fields: the typed routes (types 2 and 3) and the
//! read-only views of the opaque ones (types 1, 4 and 5), behind one enum,
//! and the fields they share by meaning. `evpnd show routes` builds its rows
//! and `evpnd decode` prints its routes from these, so the two name and
//! format a field alike.

use super::esi::Esi;
use super::ethernet_ad::Type1Route;
use super::ethernet_segment::Type4Route;
use super::inclusive_multicast::Type3Route;
use super::ip_prefix::Type5Route;
use super::mac_ip::Type2Route;
use super::route::EvpnRoute;
use crate::mac::{MacAddress, serialize_hex};
use crate::rd::RouteDistinguisher;
use serde::Serialize;
use std::net::IpAddr;

/// An EVPN route read field by field: types 2 and 3 as decoded, types 1, 4
/// and 5 through their views of the opaque value (RFC 7432 sections 7.1
/// and 7.4, RFC 9136 section 3.1), anything else (another type, or a view
/// that does not decode, which only a hand-built route can have) as bytes.
///
/// Serializes with the route's kind in `route` ("mac-ip",
/// "inclusive-multicast", "ethernet-ad", "ethernet-segment", "ip-prefix",
/// "opaque") and each wire field as the typed route names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "route", rename_all = "kebab-case")]
pub enum EvpnRouteView<'a> {
    EthernetAd(Type1Route),
    MacIp(&'a Type2Route),
    InclusiveMulticast(&'a Type3Route),
    EthernetSegment(Type4Route),
    IpPrefix(Type5Route),
    Opaque {
        route_type: u8,
        #[serde(serialize_with = "serialize_hex")]
        value: &'a [u8],
    },
}

impl EvpnRoute {
    /// The route through its typed form or read-only view.
    pub fn view(&self) -> EvpnRouteView<'_> {
        match self {
            EvpnRoute::MacIp(route) => EvpnRouteView::MacIp(route),
            EvpnRoute::InclusiveMulticast(route) => EvpnRouteView::InclusiveMulticast(route),
            EvpnRoute::Opaque { route_type, value } => self
                .ethernet_ad()
                .map(EvpnRouteView::EthernetAd)
                .or_else(|| self.ethernet_segment().map(EvpnRouteView::EthernetSegment))
                .or_else(|| self.ip_prefix().map(EvpnRouteView::IpPrefix))
                .unwrap_or(EvpnRouteView::Opaque {
                    route_type: *route_type,
                    value,
                }),
        }
    }

    /// The route's fields by meaning (see [`EvpnRouteFields`]).
    pub fn fields(&self) -> EvpnRouteFields {
        let mut fields = EvpnRouteFields {
            route_type: self.route_type(),
            rd: self.rd(),
            ..EvpnRouteFields::default()
        };
        match self.view() {
            EvpnRouteView::EthernetAd(r) => {
                fields.esi = Some(r.esi);
                fields.ethernet_tag = Some(r.ethernet_tag);
                fields.labels = vec![r.vni()];
            }
            EvpnRouteView::MacIp(r) => {
                fields.esi = Some(r.esi);
                fields.ethernet_tag = Some(r.ethernet_tag);
                fields.mac = Some(r.mac);
                fields.ip = r.ip;
                fields.labels = std::iter::once(r.vni()).chain(r.l3_vni()).collect();
            }
            EvpnRouteView::InclusiveMulticast(r) => {
                fields.ethernet_tag = Some(r.ethernet_tag);
                fields.originator_ip = Some(r.originating_router);
            }
            EvpnRouteView::EthernetSegment(r) => {
                fields.esi = Some(r.esi);
                fields.originator_ip = Some(r.originating_router);
            }
            EvpnRouteView::IpPrefix(r) => {
                fields.esi = Some(r.esi);
                fields.ethernet_tag = Some(r.ethernet_tag);
                fields.prefix = Some(r.cidr());
                fields.gateway_ip = r.gateway_ip();
                fields.labels = vec![r.vni()];
            }
            EvpnRouteView::Opaque { .. } => {}
        }
        fields
    }
}

/// The fields EVPN route types share, by meaning, each present for the
/// types that have it. Named as `evpnd show routes --json` names them
/// (the control socket's `RouteRow` in evpnd's `api::protocol`); serializes without the absent ones.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct EvpnRouteFields {
    /// RFC 7432 section 7; RFC 9136 section 3 for type 5.
    pub route_type: u8,
    /// The first field of types 1 to 5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rd: Option<RouteDistinguisher>,
    /// Types 1, 2, 4 and 5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub esi: Option<Esi>,
    /// Types 1, 2, 3 and 5.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ethernet_tag: Option<u32>,
    /// Type 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddress>,
    /// Type 2, when the route has an IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<IpAddr>,
    /// The labels as VNIs, the whole 24-bit field (RFC 8365 section 5.1.3):
    /// type 2 the L2 VNI, then the L3 VNI if any; type 1 its label (the VNI
    /// of a per-EVI route, 0 per ES); type 5 the L3 VNI.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<u32>,
    /// The originating router's IP address (types 3 and 4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originator_ip: Option<IpAddr>,
    /// Type 5: the IP prefix in CIDR notation, as sent ("198.18.21.0/24").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Type 5: the gateway IP, absent when all zeros (no gateway overlay
    /// index, RFC 9136 section 3.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_ip: Option<IpAddr>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evpn::route_type;
    use crate::reader::Reader;
    use serde_json::json;

    /// One NLRI from hex (spaces allowed between fields).
    fn route(nlri_hex: &str) -> EvpnRoute {
        let hex: String = nlri_hex.split_whitespace().collect();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        EvpnRoute::decode(&mut Reader::new(&bytes)).unwrap()
    }

    /// The NLRI of GoBGP's and ExaBGP's type-1, type-4 and type-5 routes
    /// (proto-tests/vectors/{gobgp,exabgp}/messages.txt).
    const GOBGP_TYPE1: &str = "01190001c6120001000b0102ee000000010007000000000000000b";
    const EXABGP_TYPE1_PER_ES: &str = "01190001c6120002000a00112233445566778899ffffffff000000";
    const EXABGP_TYPE4: &str = "04170001c612000200010011223344556677889920c6120002";
    const EXABGP_TYPE5_V4: &str =
        "05220001c61200020064000000000000000000000000000018c6121500c6121501000064";
    const EXABGP_TYPE5_V6: &str = "053a0001c6120002006400000000000000000000000000004020010db800210000000000000000000000000000000000000000000000000000000064";

    #[test]
    fn views_and_fields_of_the_captured_type_1_4_5_routes() {
        let ad = route(GOBGP_TYPE1);
        assert!(matches!(ad.view(), EvpnRouteView::EthernetAd(_)));
        assert_eq!(
            serde_json::to_value(ad.fields()).unwrap(),
            json!({"route_type": 1, "rd": "198.18.0.1:11",
                   "esi": "01:02:ee:00:00:00:01:00:07:00", "ethernet_tag": 0, "labels": [11]})
        );
        let per_es = route(EXABGP_TYPE1_PER_ES).fields();
        assert_eq!(per_es.ethernet_tag, Some(u32::MAX));
        assert_eq!(per_es.labels, [0]);

        let es = route(EXABGP_TYPE4);
        assert_eq!(
            serde_json::to_value(es.view()).unwrap(),
            json!({"route": "ethernet-segment", "rd": "198.18.0.2:1",
                   "esi": "00:11:22:33:44:55:66:77:88:99", "originating_router": "198.18.0.2"})
        );
        assert_eq!(
            serde_json::to_value(es.fields()).unwrap(),
            json!({"route_type": 4, "rd": "198.18.0.2:1",
                   "esi": "00:11:22:33:44:55:66:77:88:99", "originator_ip": "198.18.0.2"})
        );

        assert_eq!(
            serde_json::to_value(route(EXABGP_TYPE5_V4).fields()).unwrap(),
            json!({"route_type": 5, "rd": "198.18.0.2:100",
                   "esi": "00:00:00:00:00:00:00:00:00:00", "ethernet_tag": 0,
                   "labels": [100], "prefix": "198.18.21.0/24", "gateway_ip": "198.18.21.1"})
        );
        let v6 = route(EXABGP_TYPE5_V6);
        let EvpnRouteView::IpPrefix(view) = v6.view() else {
            panic!("not a type-5 view: {:?}", v6.view());
        };
        assert_eq!(view.gateway.to_string(), "::");
        let fields = v6.fields();
        assert_eq!(fields.prefix.as_deref(), Some("2001:db8:21::/64"));
        assert_eq!(
            fields.gateway_ip, None,
            "an all-zeros gateway is no gateway"
        );
    }

    #[test]
    fn types_2_and_3_read_as_before_and_other_bytes_stay_bytes() {
        // FRR 8.4.4's type-3 (proto-tests/vectors/frr/, msg 62).
        let imet = route("0311 0001c61300010002 00000000 20c6130001");
        assert_eq!(
            serde_json::to_value(imet.view()).unwrap(),
            serde_json::to_value(&imet).unwrap(),
            "the view of a typed route serializes as the route"
        );
        assert_eq!(
            serde_json::to_value(imet.fields()).unwrap(),
            json!({"route_type": 3, "rd": "198.19.0.1:2", "ethernet_tag": 0,
                   "originator_ip": "198.19.0.1"})
        );
        // GoBGP's MAC+IP with two labels (gobgp/messages.txt msg 13).
        let mac_ip = route(
            "02280001c6120001000a000000000000000000000000000030020a0000010320c6120a0d00000a000064",
        );
        let fields = mac_ip.fields();
        assert_eq!(fields.labels, [10, 100]);
        assert_eq!(
            fields.mac.map(|m| m.to_string()).as_deref(),
            Some("02:0a:00:00:01:03")
        );
        assert_eq!(
            fields.ip.map(|ip| ip.to_string()).as_deref(),
            Some("198.18.10.13")
        );

        // A type this code has no view of, and a hand-built type 5 whose
        // value does not decode: bytes, with the RD a type 1 to 5 starts with.
        let other = route("0603aabbcc");
        assert_eq!(
            serde_json::to_value(other.view()).unwrap(),
            json!({"route": "opaque", "route_type": 6, "value": "aabbcc"})
        );
        assert_eq!(
            other.fields(),
            EvpnRouteFields {
                route_type: 6,
                ..Default::default()
            }
        );
        let short = EvpnRoute::Opaque {
            route_type: route_type::IP_PREFIX,
            value: bytes::Bytes::from_static(&[0, 1, 198, 18, 0, 2, 0, 100, 0]),
        };
        assert!(matches!(
            short.view(),
            EvpnRouteView::Opaque { route_type: 5, .. }
        ));
        assert_eq!(
            short.fields().rd.map(|rd| rd.to_string()).as_deref(),
            Some("198.18.0.2:100")
        );
        assert_eq!(short.fields().prefix, None);
    }

    proptest::proptest! {
        /// Any value of any type reads through a view or as bytes without
        /// a panic, and a view's RD is the route's.
        #[test]
        fn any_value_has_a_view_and_fields(
            route_type in 0u8..=7,
            value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..70),
        ) {
            let route = EvpnRoute::Opaque { route_type, value: bytes::Bytes::from(value) };
            let fields = route.fields();
            let typed = !matches!(route.view(), EvpnRouteView::Opaque { .. });
            proptest::prop_assert!(!typed || fields.rd.is_some());
            proptest::prop_assert_eq!(fields.route_type, route_type);
            serde_json::to_string(&route.view()).unwrap();
            serde_json::to_string(&fields).unwrap();
        }
    }
}
