//! One EVPN NLRI as a value ([`EvpnRoute`]) and the walk over a packed
//! NLRI field ([`split_evpn_nlri`]), RFC 7432 section 7.

use super::ethernet_ad::Type1Route;
use super::ethernet_segment::Type4Route;
use super::inclusive_multicast::Type3Route;
use super::ip_prefix::Type5Route;
use super::key::EvpnRouteKey;
use super::mac_ip::Type2Route;
use super::route_type;
use crate::error::DecodeResult;
use crate::mac::{serialize_hex, write_hex};
use crate::rd::RouteDistinguisher;
use crate::reader::Reader;
use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use std::fmt;

/// One EVPN NLRI (RFC 7432 section 7):
///
/// ```text
/// +-----------------------------------+
/// |    Route Type (1 octet)           |
/// +-----------------------------------+
/// |     Length (1 octet)              |
/// +-----------------------------------+
/// | Route Type specific (variable)    |
/// +-----------------------------------+
/// ```
///
/// Displays as FRR's prefix string (`[2]:[0]:[48]:[02:0a:00:00:00:01]`,
/// `[3]:[0]:[32]:[198.19.0.1]`; the RD is shown apart, as FRR does).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "route", rename_all = "kebab-case")]
pub enum EvpnRoute {
    /// Type 2 (RFC 7432 section 7.2).
    MacIp(Type2Route),
    /// Type 3 (RFC 7432 section 7.3).
    InclusiveMulticast(Type3Route),
    /// Any other type, kept as its value octets. Types 1, 4 and 5 are
    /// checked for the fields their key reads (see [`EvpnRouteKey`]); other
    /// types are taken as they are. `value` is at most 255 octets when it
    /// comes from the wire; [`EvpnRoute::encode`] writes at most that many.
    Opaque {
        route_type: u8,
        #[serde(serialize_with = "serialize_hex")]
        value: Bytes,
    },
}

impl EvpnRoute {
    /// Decodes one NLRI (type, length, value) from `r`.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let route_type = r.u8("EVPN route type")?;
        let len = r.u8("EVPN route length")?;
        let mut value = r.sub(usize::from(len), "EVPN route value")?;
        match route_type {
            route_type::MAC_IP_ADVERTISEMENT => {
                Ok(EvpnRoute::MacIp(Type2Route::decode(&mut value)?))
            }
            route_type::INCLUSIVE_MULTICAST => Ok(EvpnRoute::InclusiveMulticast(
                Type3Route::decode(&mut value)?,
            )),
            _ => {
                // Same acceptance as the key: a route the RIB cannot key is
                // not decodable either.
                EvpnRouteKey::from_value(route_type, value.peek_rest(), value.offset())?;
                Ok(EvpnRoute::Opaque {
                    route_type,
                    value: Bytes::copy_from_slice(value.rest()),
                })
            }
        }
    }

    /// Decodes a whole NLRI field (the NLRI part of MP_REACH_NLRI or the
    /// withdrawn routes of MP_UNREACH_NLRI): a sequence of routes filling it
    /// exactly. `base_offset` is the field's absolute offset, for errors.
    pub fn decode_all(nlri: &[u8], base_offset: usize) -> DecodeResult<Vec<Self>> {
        let mut r = Reader::with_base(nlri, base_offset);
        let mut routes = Vec::new();
        while !r.is_empty() {
            routes.push(Self::decode(&mut r)?);
        }
        Ok(routes)
    }

    /// Encodes the NLRI (type, length, value).
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u8(self.route_type());
        match self {
            EvpnRoute::MacIp(route) => {
                out.put_u8(u8::try_from(route.encoded_len()).unwrap_or(u8::MAX));
                route.encode(out);
            }
            EvpnRoute::InclusiveMulticast(route) => {
                out.put_u8(u8::try_from(route.encoded_len()).unwrap_or(u8::MAX));
                route.encode(out);
            }
            EvpnRoute::Opaque { value, .. } => {
                // A longer value cannot be expressed in a 1-octet length;
                // writing a consistent prefix beats a length that lies.
                let value = value.get(..usize::from(u8::MAX)).unwrap_or(value);
                out.put_u8(u8::try_from(value.len()).unwrap_or(u8::MAX));
                out.put_slice(value);
            }
        }
    }

    /// Length of the encoded NLRI, type and length octets included.
    pub fn encoded_len(&self) -> usize {
        2 + match self {
            EvpnRoute::MacIp(route) => route.encoded_len(),
            EvpnRoute::InclusiveMulticast(route) => route.encoded_len(),
            EvpnRoute::Opaque { value, .. } => value.len().min(usize::from(u8::MAX)),
        }
    }

    pub fn route_type(&self) -> u8 {
        match self {
            EvpnRoute::MacIp(_) => route_type::MAC_IP_ADVERTISEMENT,
            EvpnRoute::InclusiveMulticast(_) => route_type::INCLUSIVE_MULTICAST,
            EvpnRoute::Opaque { route_type, .. } => *route_type,
        }
    }

    /// The route distinguisher: the first field of route types 1 to 5
    /// (RFC 7432 section 7; RFC 9136 section 3.1); unknown for other types.
    pub fn rd(&self) -> Option<RouteDistinguisher> {
        match self {
            EvpnRoute::MacIp(route) => Some(route.rd),
            EvpnRoute::InclusiveMulticast(route) => Some(route.rd),
            EvpnRoute::Opaque { route_type, value }
                if (route_type::ETHERNET_AUTO_DISCOVERY..=route_type::IP_PREFIX)
                    .contains(route_type) =>
            {
                let rd: [u8; 8] = value.get(..8)?.try_into().ok()?;
                Some(RouteDistinguisher::from_bytes(rd))
            }
            EvpnRoute::Opaque { .. } => None,
        }
    }

    /// The value octets of an opaque route of type `wanted`.
    fn opaque_value(&self, wanted: u8) -> Option<&[u8]> {
        match self {
            EvpnRoute::Opaque { route_type, value } if *route_type == wanted => Some(value),
            _ => None,
        }
    }

    /// A type-1 route's fields (RFC 7432 section 7.1), read from its opaque
    /// value without allocating. `None` for other types, and for a value
    /// that does not decode, which only a hand-built route can have: a
    /// decoded one passed the same checks for its key.
    pub fn ethernet_ad(&self) -> Option<Type1Route> {
        let value = self.opaque_value(route_type::ETHERNET_AUTO_DISCOVERY)?;
        Type1Route::from_value(value).ok()
    }

    /// A type-4 route's fields (RFC 7432 section 7.4); as
    /// [`Self::ethernet_ad`].
    pub fn ethernet_segment(&self) -> Option<Type4Route> {
        let value = self.opaque_value(route_type::ETHERNET_SEGMENT)?;
        Type4Route::from_value(value).ok()
    }

    /// A type-5 route's fields (RFC 9136 section 3.1); as
    /// [`Self::ethernet_ad`].
    pub fn ip_prefix(&self) -> Option<Type5Route> {
        let value = self.opaque_value(route_type::IP_PREFIX)?;
        Type5Route::from_value(value).ok()
    }

    /// The route's identity for BGP processing (see [`EvpnRouteKey`]). Only
    /// an `Opaque` route built by hand with malformed fields can fail.
    pub fn key(&self) -> DecodeResult<EvpnRouteKey> {
        match self {
            EvpnRoute::MacIp(route) => Ok(EvpnRouteKey::type2(route)),
            EvpnRoute::InclusiveMulticast(route) => Ok(EvpnRouteKey::type3(route)),
            EvpnRoute::Opaque { route_type, value } => {
                EvpnRouteKey::from_value(*route_type, value, 2)
            }
        }
    }
}

impl fmt::Display for EvpnRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvpnRoute::MacIp(route) => route.fmt(f),
            EvpnRoute::InclusiveMulticast(route) => route.fmt(f),
            EvpnRoute::Opaque { route_type, value } => {
                write!(f, "[{route_type}]:0x")?;
                write_hex(f, value)
            }
        }
    }
}

/// Splits a whole NLRI field into its routes without decoding or copying:
/// each item is one complete NLRI (type, length, value) as a sub-slice of
/// `nlri`, ready for [`evpn_route_key`] and for re-sending unchanged. A
/// truncated route yields one error, then the iterator ends. Error offsets
/// are relative to `nlri`.
pub fn split_evpn_nlri(nlri: &[u8]) -> EvpnNlriSplit<'_> {
    split_evpn_nlri_at(nlri, 0)
}

/// [`split_evpn_nlri`] with error offsets starting at `base_offset`.
pub fn split_evpn_nlri_at(nlri: &[u8], base_offset: usize) -> EvpnNlriSplit<'_> {
    EvpnNlriSplit {
        reader: Reader::with_base(nlri, base_offset),
        failed: false,
    }
}

/// Iterator returned by [`split_evpn_nlri`].
#[derive(Debug, Clone)]
pub struct EvpnNlriSplit<'a> {
    reader: Reader<'a>,
    failed: bool,
}

impl<'a> EvpnNlriSplit<'a> {
    fn next_route(&mut self) -> DecodeResult<&'a [u8]> {
        // Check the header and value against the bytes present on a copy,
        // so errors name the field, then take the whole route at once.
        let mut probe = self.reader;
        probe.u8("EVPN route type")?;
        let len = usize::from(probe.u8("EVPN route length")?);
        probe.bytes(len, "EVPN route value")?;
        self.reader.bytes(2 + len, "EVPN route")
    }
}

impl<'a> Iterator for EvpnNlriSplit<'a> {
    type Item = DecodeResult<&'a [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.reader.is_empty() {
            return None;
        }
        let item = self.next_route();
        self.failed = item.is_err();
        Some(item)
    }
}

impl std::iter::FusedIterator for EvpnNlriSplit<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;
    use crate::evpn::esi::Esi;
    use crate::evpn::key::evpn_route_key;
    use crate::evpn::{inclusive_multicast, mac_ip};
    use crate::mac::MacAddress;
    use proptest::prelude::*;
    use std::collections::HashSet;

    /// FRR 8.4.4's NLRI `[2] RD 198.19.0.1:2, ESI 0, ET 0, MAC
    /// 02:0a:00:00:00:01, IP 198.18.10.1, label 0x00000a` (proto-tests/vectors/frr/, msg 114).
    fn frr_mac_ip_nlri(label: [u8; 3]) -> Vec<u8> {
        let mut nlri = vec![2, 37, 0x00, 0x01, 198, 19, 0, 1, 0x00, 0x02];
        nlri.extend_from_slice(&[0; 10]);
        nlri.extend_from_slice(&[0, 0, 0, 0, 48, 0x02, 0x0a, 0, 0, 0, 0x01]);
        nlri.extend_from_slice(&[32, 198, 18, 10, 1]);
        nlri.extend_from_slice(&label);
        nlri
    }

    /// FRR 8.4.4's `[3] RD 198.19.0.1:2, ET 0, /32 198.19.0.1` (proto-tests/vectors/frr/, msg 62).
    const FRR_IMET_NLRI: [u8; 19] = [
        3, 17, 0x00, 0x01, 0xc6, 0x13, 0x00, 0x01, 0x00, 0x02, 0, 0, 0, 0, 32, 0xc6, 0x13, 0, 1,
    ];

    fn encode_to_vec(route: &EvpnRoute) -> Vec<u8> {
        let mut out = BytesMut::new();
        route.encode(&mut out);
        assert_eq!(out.len(), route.encoded_len());
        out.to_vec()
    }

    fn type1_nlri(esi_last: u8, label: u8) -> Vec<u8> {
        let mut nlri = vec![1, 25, 0, 1, 198, 19, 0, 1, 0, 2];
        nlri.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, esi_last]);
        nlri.extend_from_slice(&[0, 0, 0, 0, 0, 0, label]);
        nlri
    }

    fn type5_v4_nlri(prefix_len: u8, gateway_last: u8) -> Vec<u8> {
        let mut nlri = vec![5, 34, 0, 1, 198, 19, 0, 1, 0, 5];
        nlri.extend_from_slice(&[0; 10]); // ESI
        nlri.extend_from_slice(&[0, 0, 0, 0, prefix_len, 198, 18, 10, 0]);
        nlri.extend_from_slice(&[198, 19, 0, gateway_last, 0, 0x0f, 0xa1]);
        nlri
    }

    #[test]
    fn decodes_frr_update_nlri_field_of_mixed_types() {
        let mut field = frr_mac_ip_nlri([0, 0, 0x0a]);
        field.extend_from_slice(&FRR_IMET_NLRI);
        let routes = EvpnRoute::decode_all(&field, 0).unwrap();
        assert_eq!(routes.len(), 2);
        let EvpnRoute::MacIp(mac_ip) = &routes[0] else {
            panic!("expected type 2, got {:?}", routes[0]);
        };
        assert_eq!(
            mac_ip.mac,
            "02:0a:00:00:00:01".parse::<MacAddress>().unwrap()
        );
        assert_eq!(mac_ip.vni(), 10);
        assert_eq!(routes[1].to_string(), "[3]:[0]:[32]:[198.19.0.1]");
        assert_eq!(routes[1].rd(), Some("198.19.0.1:2".parse().unwrap()));
        let mut out = BytesMut::new();
        routes.iter().for_each(|route| route.encode(&mut out));
        assert_eq!(&out[..], &field[..]);

        let split: Vec<&[u8]> = split_evpn_nlri(&field).collect::<Result<_, _>>().unwrap();
        assert_eq!(split, [&field[..39], &field[39..]]);
        for (slice, route) in split.iter().zip(&routes) {
            assert_eq!(evpn_route_key(slice).unwrap(), route.key().unwrap());
        }
        let json = serde_json::to_value(&routes[1]).unwrap();
        assert_eq!(json["route"], "inclusive-multicast");
        assert_eq!(json["originating_router"], "198.19.0.1");
    }

    #[test]
    fn withdraw_with_zero_label_has_the_announcements_key() {
        let announce = evpn_route_key(&frr_mac_ip_nlri([0, 0, 0x0a])).unwrap();
        let withdraw = evpn_route_key(&frr_mac_ip_nlri([0, 0, 0])).unwrap();
        assert_eq!(announce, withdraw);

        let mut other_esi = frr_mac_ip_nlri([0, 0, 0x0a]);
        other_esi[19] = 7;
        assert_eq!(
            evpn_route_key(&other_esi).unwrap(),
            announce,
            "ESI is not part of a type-2 key"
        );

        let mut other_mac = frr_mac_ip_nlri([0, 0, 0x0a]);
        other_mac[29] = 2;
        assert_ne!(evpn_route_key(&other_mac).unwrap(), announce);
        let mut other_rd = frr_mac_ip_nlri([0, 0, 0x0a]);
        other_rd[9] = 3;
        assert_ne!(evpn_route_key(&other_rd).unwrap(), announce);
        let mut other_tag = frr_mac_ip_nlri([0, 0, 0x0a]);
        other_tag[23] = 1;
        assert_ne!(evpn_route_key(&other_tag).unwrap(), announce);

        // The MAC-only route is a different route from the MAC+IP one.
        let mut mac_only = frr_mac_ip_nlri([0, 0, 0x0a]);
        mac_only.drain(32..36);
        mac_only[31] = 0;
        mac_only[1] = 33;
        assert_ne!(evpn_route_key(&mac_only).unwrap(), announce);
    }

    #[test]
    fn key_size_and_inline_storage() {
        assert_eq!(std::mem::size_of::<EvpnRouteKey>(), 40);
        let mut v6 = frr_mac_ip_nlri([0, 0, 1]);
        v6.splice(
            31..36,
            [128u8]
                .into_iter()
                .chain([0x20, 0x01, 0x0d, 0xb8])
                .chain([0; 12]),
        );
        v6[1] = 49;
        let key = evpn_route_key(&v6).unwrap();
        assert_eq!(key.as_bytes().len(), 37);
        assert!(key.is_inline());
        assert_eq!(key.route_type(), 2);

        // Unknown types key on their whole value; a long one goes to the heap.
        let long = [[9u8, 60].as_slice(), &[0xab; 60]].concat();
        let key = evpn_route_key(&long).unwrap();
        assert!(!key.is_inline());
        assert_eq!(key.as_bytes(), [&[9u8][..], &long[2..]].concat());
        let short = [7u8, 2, 1, 2];
        let key = evpn_route_key(&short).unwrap();
        assert!(key.is_inline());
        assert_eq!(key.as_bytes(), [7, 1, 2]);
    }

    #[test]
    fn keys_of_types_1_4_and_5_use_their_identifying_fields() {
        // Type 1: the label is not part of the key, the ESI is.
        assert_eq!(
            evpn_route_key(&type1_nlri(0, 1)).unwrap(),
            evpn_route_key(&type1_nlri(0, 2)).unwrap()
        );
        assert_ne!(
            evpn_route_key(&type1_nlri(0, 1)).unwrap(),
            evpn_route_key(&type1_nlri(1, 1)).unwrap()
        );
        // Type 5: the gateway is not part of the key, the prefix length is.
        assert_eq!(
            evpn_route_key(&type5_v4_nlri(24, 1)).unwrap(),
            evpn_route_key(&type5_v4_nlri(24, 2)).unwrap()
        );
        assert_ne!(
            evpn_route_key(&type5_v4_nlri(24, 1)).unwrap(),
            evpn_route_key(&type5_v4_nlri(25, 1)).unwrap()
        );
        let err = evpn_route_key(&type5_v4_nlri(33, 1)).unwrap_err();
        assert_eq!((err.field, err.offset), ("type-5 IP prefix length", 24));
        // Type 4: RD, ESI, originating router.
        let mut type4 = vec![4, 23, 0, 1, 198, 19, 0, 1, 0, 2];
        type4.extend_from_slice(&[0; 10]);
        type4.extend_from_slice(&[32, 198, 19, 0, 1]);
        let key = evpn_route_key(&type4).unwrap();
        assert_eq!(key.as_bytes(), [&[4u8][..], &type4[2..]].concat());
        type4[20] = 24;
        assert!(evpn_route_key(&type4).is_err());
        // Opaque types decode, re-encode and key the same way.
        for nlri in [type1_nlri(0, 1), type5_v4_nlri(24, 1)] {
            let routes = EvpnRoute::decode_all(&nlri, 0).unwrap();
            assert!(matches!(routes[0], EvpnRoute::Opaque { .. }));
            assert_eq!(encode_to_vec(&routes[0]), nlri);
            assert_eq!(routes[0].key().unwrap(), evpn_route_key(&nlri).unwrap());
            let rd = format!("198.19.0.1:{}", nlri[9]).parse().unwrap();
            assert_eq!(routes[0].rd(), Some(rd));
        }
    }

    #[test]
    fn views_of_types_1_4_and_5_read_their_opaque_values() {
        let routes = EvpnRoute::decode_all(&type1_nlri(7, 11), 0).unwrap();
        let ad = routes[0].ethernet_ad().unwrap();
        assert_eq!(ad.esi.to_string(), "00:00:00:00:00:00:00:00:00:07");
        assert_eq!((ad.ethernet_tag, ad.vni()), (0, 11));
        assert_eq!(routes[0].ethernet_segment(), None);
        assert_eq!(routes[0].ip_prefix(), None);

        let routes = EvpnRoute::decode_all(&type5_v4_nlri(24, 1), 0).unwrap();
        let prefix = routes[0].ip_prefix().unwrap();
        assert_eq!(prefix.cidr(), "198.18.10.0/24");
        assert_eq!(prefix.gateway_ip(), Some("198.19.0.1".parse().unwrap()));
        assert_eq!(prefix.vni(), 4001);
        assert_eq!(routes[0].ethernet_ad(), None);

        let mut type4 = vec![4, 23, 0, 1, 198, 19, 0, 1, 0, 2];
        type4.extend_from_slice(&[3; 10]);
        type4.extend_from_slice(&[32, 198, 19, 0, 1]);
        let routes = EvpnRoute::decode_all(&type4, 0).unwrap();
        let es = routes[0].ethernet_segment().unwrap();
        assert_eq!(es.esi, Esi([3; 10]));
        assert_eq!(es.originating_router.to_string(), "198.19.0.1");

        // Typed routes and hand-built malformed values have no view.
        let imet = EvpnRoute::decode_all(&FRR_IMET_NLRI, 0).unwrap();
        assert_eq!(imet[0].ethernet_ad(), None);
        let short = EvpnRoute::Opaque {
            route_type: 5,
            value: Bytes::from_static(&[0; 33]),
        };
        assert_eq!(short.ip_prefix(), None);
    }

    #[test]
    fn splitter_reports_truncation_once_and_stops() {
        let mut field = FRR_IMET_NLRI.to_vec();
        field.extend_from_slice(&[3, 17, 0, 1]);
        let items: Vec<_> = split_evpn_nlri_at(&field, 100).collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap(), &&FRR_IMET_NLRI[..]);
        let err = items[1].as_ref().unwrap_err();
        assert_eq!((err.field, err.offset), ("EVPN route value", 121));
        assert_eq!(
            err.kind,
            DecodeErrorKind::Truncated {
                needed: 17,
                available: 2
            }
        );

        let err = EvpnRoute::decode_all(&field, 100).unwrap_err();
        assert_eq!((err.field, err.offset), ("EVPN route value", 121));
        assert_eq!(split_evpn_nlri(&[]).count(), 0);
        assert!(
            evpn_route_key(&field).is_err(),
            "a key is for exactly one NLRI"
        );
    }

    fn any_route() -> impl Strategy<Value = EvpnRoute> {
        prop_oneof![
            mac_ip::tests::any_type2().prop_map(EvpnRoute::MacIp),
            inclusive_multicast::tests::any_type3().prop_map(EvpnRoute::InclusiveMulticast),
            (6u8..=255, proptest::collection::vec(any::<u8>(), 0..=255)).prop_map(
                |(route_type, value)| EvpnRoute::Opaque {
                    route_type,
                    value: Bytes::from(value)
                }
            ),
        ]
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(routes in proptest::collection::vec(any_route(), 0..6)) {
            let mut field = BytesMut::new();
            routes.iter().for_each(|route| route.encode(&mut field));
            prop_assert_eq!(&EvpnRoute::decode_all(&field, 0).unwrap(), &routes);
            let split: Vec<&[u8]> = split_evpn_nlri(&field).collect::<Result<_, _>>().unwrap();
            prop_assert_eq!(split.len(), routes.len());
            for (slice, route) in split.iter().zip(&routes) {
                prop_assert_eq!(evpn_route_key(slice).unwrap(), route.key().unwrap());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_decoded_fields_re_encode_exactly(
            field in proptest::collection::vec(any::<u8>(), 0..120)
        ) {
            let split: Vec<_> = split_evpn_nlri(&field).collect();
            match EvpnRoute::decode_all(&field, 0) {
                Ok(routes) => {
                    let mut out = BytesMut::new();
                    routes.iter().for_each(|route| route.encode(&mut out));
                    prop_assert_eq!(&out[..], &field[..]);
                    for slice in &split {
                        prop_assert!(evpn_route_key(slice.as_ref().unwrap()).is_ok());
                    }
                }
                Err(_) => {
                    // Either framing failed, or one route's key fields did.
                    let framing_ok = split.iter().all(Result::is_ok);
                    let keys_ok = split.iter().flatten().all(|s| evpn_route_key(s).is_ok());
                    prop_assert!(!(framing_ok && keys_ok));
                }
            }
        }

        #[test]
        fn opaque_views_never_panic_and_decode_exactly_what_the_key_accepts(
            route_type in prop_oneof![Just(1u8), Just(4u8), Just(5u8), any::<u8>()],
            value in proptest::collection::vec(any::<u8>(), 0..70)
        ) {
            let route = EvpnRoute::Opaque { route_type, value: Bytes::from(value.clone()) };
            let key_ok = EvpnRouteKey::from_value(route_type, &value, 2).is_ok();
            let views = [
                route.ethernet_ad().is_some(),
                route.ethernet_segment().is_some(),
                route.ip_prefix().is_some(),
            ];
            let expected = [
                route_type == 1 && key_ok,
                route_type == 4 && key_ok,
                route_type == 5 && key_ok,
            ];
            prop_assert_eq!(views, expected);
        }

        #[test]
        fn type2_key_ignores_esi_and_labels(route in mac_ip::tests::any_type2(),
                                            esi in any::<[u8; 10]>(), label1 in 0u32..(1 << 24),
                                            label2 in proptest::option::of(0u32..(1 << 24))) {
            let changed = Type2Route { esi: Esi(esi), label1, label2, ..route };
            prop_assert_eq!(EvpnRouteKey::type2(&route), EvpnRouteKey::type2(&changed));
            let mut set = HashSet::new();
            set.insert(EvpnRouteKey::type2(&route));
            prop_assert!(set.contains(&EvpnRoute::MacIp(changed).key().unwrap()));
        }
    }
}
