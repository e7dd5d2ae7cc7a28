//! EVPN route type 2, MAC/IP Advertisement (RFC 7432 section 7.2).

use super::esi::Esi;
use super::ip_field::{encode_ip_with_bit_length, ip_wire_len, read_ip_with_bit_length};
use crate::error::{DecodeErrorKind, DecodeResult};
use crate::mac::MacAddress;
use crate::pmsi::ip_from_slice;
use crate::rd::RouteDistinguisher;
use crate::reader::Reader;
use bytes::{BufMut, BytesMut};
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// RFC 7432 section 7.2: the MAC Address Length field, in bits.
pub const MAC_ADDRESS_BITS: u8 = 48;

/// Length of a label field (RFC 7432 section 7.2; RFC 8365 section 5.1.3).
const LABEL_LEN: usize = 3;

/// A MAC/IP Advertisement route (RFC 7432 section 7.2):
///
/// ```text
/// +---------------------------------------+
/// |  RD (8 octets)                        |
/// +---------------------------------------+
/// |Ethernet Segment Identifier (10 octets)|
/// +---------------------------------------+
/// |  Ethernet Tag ID (4 octets)           |
/// +---------------------------------------+
/// |  MAC Address Length (1 octet)         |
/// +---------------------------------------+
/// |  MAC Address (6 octets)               |
/// +---------------------------------------+
/// |  IP Address Length (1 octet)          |
/// +---------------------------------------+
/// |  IP Address (0, 4, or 16 octets)      |
/// +---------------------------------------+
/// |  MPLS Label1 (3 octets)               |
/// +---------------------------------------+
/// |  MPLS Label2 (0 or 3 octets)          |
/// +---------------------------------------+
/// ```
///
/// Lengths are in bits: MAC 48, IP 0, 32 or 128. For VXLAN each label field
/// carries a whole 24-bit VNI (RFC 8365 section 5.1.3): label1 the L2 VNI,
/// label2 (symmetric IRB, RFC 9135 section 5.1) the L3 VNI. Labels are kept
/// raw; [`Type2Route::vni`] reads the VNI.
///
/// Only RD, Ethernet tag, MAC and IP identify the route for BGP (section
/// 7.2); see [`super::key::EvpnRouteKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Type2Route {
    pub rd: RouteDistinguisher,
    pub esi: Esi,
    pub ethernet_tag: u32,
    pub mac: MacAddress,
    pub ip: Option<IpAddr>,
    /// Raw 24-bit label1 field.
    pub label1: u32,
    /// Raw 24-bit label2 field, when present.
    pub label2: Option<u32>,
}

impl Type2Route {
    /// Decodes the route-type-specific value (after type and length); the
    /// reader must hold exactly that value.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let rd = RouteDistinguisher::decode(r)?;
        let esi = Esi::decode(r)?;
        let ethernet_tag = r.u32("type-2 Ethernet tag")?;
        let mac_len_offset = r.offset();
        let mac_len = r.u8("type-2 MAC address length")?;
        if mac_len != MAC_ADDRESS_BITS {
            return Err(crate::DecodeError::new(
                "type-2 MAC address length",
                mac_len_offset,
                DecodeErrorKind::BadValue(u64::from(mac_len)),
            ));
        }
        let mac = MacAddress(r.array::<6>("type-2 MAC address")?);
        let ip_bytes =
            read_ip_with_bit_length(r, "type-2 IP address length", "type-2 IP address", true)?;
        let ip = (!ip_bytes.is_empty()).then(|| ip_from_slice(ip_bytes));
        let label1 = r.u24("type-2 label1")?;
        let label2 = match r.remaining() {
            0 => None,
            LABEL_LEN => Some(r.u24("type-2 label2")?),
            _ => {
                return Err(r.error("type-2 label2", DecodeErrorKind::Trailing(r.remaining())));
            }
        };
        Ok(Self {
            rd,
            esi,
            ethernet_tag,
            mac,
            ip,
            label1,
            label2,
        })
    }

    /// Encodes the route-type-specific value (without type and length).
    pub fn encode(&self, out: &mut BytesMut) {
        self.rd.encode(out);
        self.esi.encode(out);
        out.put_u32(self.ethernet_tag);
        out.put_u8(MAC_ADDRESS_BITS);
        out.put_slice(&self.mac.0);
        encode_ip_with_bit_length(self.ip, out);
        out.put_slice(&self.label1.to_be_bytes()[1..]);
        if let Some(label2) = self.label2 {
            out.put_slice(&label2.to_be_bytes()[1..]);
        }
    }

    /// Length of the encoded value.
    pub fn encoded_len(&self) -> usize {
        8 + 10
            + 4
            + 1
            + 6
            + 1
            + self.ip.map_or(0, ip_wire_len)
            + LABEL_LEN
            + self.label2.map_or(0, |_| LABEL_LEN)
    }

    /// The L2 VNI: the whole 24-bit label1 field (RFC 8365 section 5.1.3).
    pub fn vni(&self) -> u32 {
        self.label1 & 0x00ff_ffff
    }

    /// The L3 VNI of symmetric IRB (RFC 9135 section 5.1), from label2.
    pub fn l3_vni(&self) -> Option<u32> {
        self.label2.map(|label| label & 0x00ff_ffff)
    }
}

impl fmt::Display for Type2Route {
    /// FRR's prefix string: `[2]:[ET]:[48]:[MAC]` plus `:[32]:[IP]` when an
    /// IP is present (the RD is shown separately, as FRR does).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[2]:[{}]:[48]:[{}]", self.ethernet_tag, self.mac)?;
        match self.ip {
            Some(ip @ IpAddr::V4(_)) => write!(f, ":[32]:[{ip}]"),
            Some(ip @ IpAddr::V6(_)) => write!(f, ":[128]:[{ip}]"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// FRR 8.4.4's MAC+IP route from n1 (proto-tests/vectors/frr/, msg 114), value only.
    const FRR_MAC_IP_VALUE: [u8; 37] = [
        0x00, 0x01, 198, 19, 0, 1, 0x00, 0x02, // RD 198.19.0.1:2
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ESI 0
        0, 0, 0, 0,  // ET 0
        48, // MAC length
        0x02, 0x0a, 0, 0, 0, 0x01, // MAC
        32, 198, 18, 10, 1, // IP
        0x00, 0x00, 0x0a, // label1 = VNI 10, unshifted
    ];

    fn encode_to_vec(route: &Type2Route) -> Vec<u8> {
        let mut out = BytesMut::new();
        route.encode(&mut out);
        assert_eq!(out.len(), route.encoded_len());
        out.to_vec()
    }

    #[test]
    fn decodes_frr_mac_ip_route() {
        let route = Type2Route::decode(&mut Reader::new(&FRR_MAC_IP_VALUE)).unwrap();
        assert_eq!(route.rd.to_string(), "198.19.0.1:2");
        assert!(route.esi.is_zero());
        assert_eq!(route.mac.to_string(), "02:0a:00:00:00:01");
        assert_eq!(route.ip, Some("198.18.10.1".parse().unwrap()));
        assert_eq!(route.vni(), 10);
        assert_eq!(route.label2, None);
        assert_eq!(
            route.to_string(),
            "[2]:[0]:[48]:[02:0a:00:00:00:01]:[32]:[198.18.10.1]"
        );
        assert_eq!(encode_to_vec(&route), FRR_MAC_IP_VALUE);
        let json = serde_json::to_value(route).unwrap();
        assert_eq!(json["rd"], "198.19.0.1:2");
        assert_eq!(json["mac"], "02:0a:00:00:00:01");
        assert_eq!(json["ip"], "198.18.10.1");
        assert_eq!(json["label1"], 10);
    }

    #[test]
    fn mac_only_ipv6_and_label2_forms_round_trip() {
        let mut route = Type2Route::decode(&mut Reader::new(&FRR_MAC_IP_VALUE)).unwrap();
        route.ip = None;
        assert_eq!(route.to_string(), "[2]:[0]:[48]:[02:0a:00:00:00:01]");
        assert_eq!(encode_to_vec(&route).len(), 33);
        route.ip = Some("2001:db8::1".parse().unwrap());
        route.label2 = Some(4001);
        let bytes = encode_to_vec(&route);
        assert_eq!(bytes.len(), 52);
        let decoded = Type2Route::decode(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(decoded, route);
        assert_eq!(decoded.l3_vni(), Some(4001));
    }

    #[test]
    fn rejects_bad_lengths_with_field_and_offset() {
        let mut bad_mac_len = FRR_MAC_IP_VALUE;
        bad_mac_len[22] = 47;
        let err = Type2Route::decode(&mut Reader::with_base(&bad_mac_len, 100)).unwrap_err();
        assert_eq!((err.field, err.offset), ("type-2 MAC address length", 122));

        let mut bad_ip_len = FRR_MAC_IP_VALUE;
        bad_ip_len[29] = 24;
        let err = Type2Route::decode(&mut Reader::new(&bad_ip_len)).unwrap_err();
        assert_eq!((err.field, err.offset), ("type-2 IP address length", 29));
        assert_eq!(err.kind, DecodeErrorKind::BadValue(24));

        let mut extra = FRR_MAC_IP_VALUE.to_vec();
        extra.push(0);
        let err = Type2Route::decode(&mut Reader::new(&extra)).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::Trailing(1));

        let err = Type2Route::decode(&mut Reader::new(&FRR_MAC_IP_VALUE[..35])).unwrap_err();
        assert_eq!(err.field, "type-2 label1");
    }

    pub(crate) fn any_type2() -> impl Strategy<Value = Type2Route> {
        (
            any::<[u8; 8]>(),
            any::<[u8; 10]>(),
            any::<u32>(),
            any::<[u8; 6]>(),
            prop_oneof![
                Just(None),
                any::<[u8; 4]>().prop_map(|a| Some(IpAddr::from(a))),
                any::<[u8; 16]>().prop_map(|a| Some(IpAddr::from(a))),
            ],
            0u32..(1 << 24),
            proptest::option::of(0u32..(1 << 24)),
        )
            .prop_map(
                |(rd, esi, ethernet_tag, mac, ip, label1, label2)| Type2Route {
                    rd: RouteDistinguisher::from_bytes(rd),
                    esi: Esi(esi),
                    ethernet_tag,
                    mac: MacAddress(mac),
                    ip,
                    label1,
                    label2,
                },
            )
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(route in any_type2()) {
            let bytes = encode_to_vec(&route);
            prop_assert_eq!(Type2Route::decode(&mut Reader::new(&bytes)).unwrap(), route);
        }

        #[test]
        fn near_valid_values_decode_iff_well_formed_and_re_encode_identically(
            mut value in proptest::collection::vec(any::<u8>(), 30..56),
            ip_bits in prop_oneof![Just(0u8), Just(32), Just(128), any::<u8>()],
        ) {
            // Fix the length fields so the interesting cases (label2 present
            // or not, trailing bytes) are reached, not just a bad MAC length.
            value[22] = MAC_ADDRESS_BITS;
            value[29] = ip_bits;
            let ip_len = match ip_bits { 0 => Some(0), 32 => Some(4), 128 => Some(16), _ => None };
            let well_formed = ip_len.is_some_and(|n| {
                let len = 30 + n + LABEL_LEN;
                value.len() == len || value.len() == len + LABEL_LEN
            });
            match Type2Route::decode(&mut Reader::new(&value)) {
                Ok(route) => {
                    prop_assert!(well_formed);
                    prop_assert_eq!(encode_to_vec(&route), value);
                }
                Err(_) => prop_assert!(!well_formed),
            }
        }
    }
}
