//! EVPN route type 3, Inclusive Multicast Ethernet Tag (RFC 7432 section
//! 7.3): "send BUM traffic for this VNI to me", one per VTEP and VNI.

use super::ip_field::{encode_ip_with_bit_length, ip_wire_len, read_ip_with_bit_length};
use crate::error::DecodeResult;
use crate::pmsi::ip_from_slice;
use crate::rd::RouteDistinguisher;
use crate::reader::Reader;
use bytes::{BufMut, BytesMut};
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// An Inclusive Multicast Ethernet Tag route (RFC 7432 section 7.3):
///
/// ```text
/// +---------------------------------------+
/// |  RD (8 octets)                        |
/// +---------------------------------------+
/// |  Ethernet Tag ID (4 octets)           |
/// +---------------------------------------+
/// |  IP Address Length (1 octet)          |
/// +---------------------------------------+
/// |  Originating Router's IP Address      |
/// |          (4 or 16 octets)             |
/// +---------------------------------------+
/// ```
///
/// The IP length is in bits (32 or 128). The VNI is not in the NLRI: it is
/// the label of the PMSI tunnel attribute that comes with the route (RFC 8365
/// section 5.1.3), see [`crate::pmsi::PmsiTunnel::vni`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Type3Route {
    pub rd: RouteDistinguisher,
    pub ethernet_tag: u32,
    pub originating_router: IpAddr,
}

impl Type3Route {
    /// Decodes the route-type-specific value; the reader must hold exactly it.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let rd = RouteDistinguisher::decode(r)?;
        let ethernet_tag = r.u32("type-3 Ethernet tag")?;
        let originating_router = ip_from_slice(read_ip_with_bit_length(
            r,
            "type-3 originating router IP length",
            "type-3 originating router IP",
            false,
        )?);
        r.finish("type-3 route")?;
        Ok(Self {
            rd,
            ethernet_tag,
            originating_router,
        })
    }

    /// Encodes the route-type-specific value (without type and length).
    pub fn encode(&self, out: &mut BytesMut) {
        self.rd.encode(out);
        out.put_u32(self.ethernet_tag);
        encode_ip_with_bit_length(Some(self.originating_router), out);
    }

    pub fn encoded_len(&self) -> usize {
        8 + 4 + 1 + ip_wire_len(self.originating_router)
    }
}

impl fmt::Display for Type3Route {
    /// FRR's prefix string, `[3]:[ET]:[32]:[IP]` (the RD is shown apart).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = match self.originating_router {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        write!(
            f,
            "[3]:[{}]:[{bits}]:[{}]",
            self.ethernet_tag, self.originating_router
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::error::DecodeErrorKind;
    use proptest::prelude::*;

    /// FRR 8.4.4's type-3 from n1 (proto-tests/vectors/frr/, msg 62), value only.
    const FRR_IMET_VALUE: [u8; 17] = [
        0x00, 0x01, 198, 19, 0, 1, 0x00, 0x02, // RD 198.19.0.1:2
        0, 0, 0, 0, // ET 0
        32, 198, 19, 0, 1,
    ];

    fn encode_to_vec(route: &Type3Route) -> Vec<u8> {
        let mut out = BytesMut::new();
        route.encode(&mut out);
        assert_eq!(out.len(), route.encoded_len());
        out.to_vec()
    }

    #[test]
    fn decodes_frr_inclusive_multicast_route() {
        let route = Type3Route::decode(&mut Reader::new(&FRR_IMET_VALUE)).unwrap();
        assert_eq!(route.rd.to_string(), "198.19.0.1:2");
        assert_eq!(route.ethernet_tag, 0);
        assert_eq!(
            route.originating_router,
            "198.19.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(route.to_string(), "[3]:[0]:[32]:[198.19.0.1]");
        assert_eq!(encode_to_vec(&route), FRR_IMET_VALUE);
        assert_eq!(
            serde_json::to_value(route).unwrap(),
            serde_json::json!({"rd": "198.19.0.1:2", "ethernet_tag": 0,
                               "originating_router": "198.19.0.1"})
        );
    }

    #[test]
    fn rejects_zero_or_odd_ip_length_and_trailing_bytes() {
        let mut zero = FRR_IMET_VALUE[..13].to_vec();
        zero[12] = 0;
        let err = Type3Route::decode(&mut Reader::new(&zero)).unwrap_err();
        assert_eq!(
            (err.field, err.offset),
            ("type-3 originating router IP length", 12)
        );
        assert_eq!(err.kind, DecodeErrorKind::BadValue(0));

        let mut extra = FRR_IMET_VALUE.to_vec();
        extra.extend_from_slice(&[0, 0]);
        let err = Type3Route::decode(&mut Reader::new(&extra)).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::Trailing(2));

        let err = Type3Route::decode(&mut Reader::new(&FRR_IMET_VALUE[..15])).unwrap_err();
        assert_eq!(err.field, "type-3 originating router IP");
    }

    pub(crate) fn any_type3() -> impl Strategy<Value = Type3Route> {
        (
            any::<[u8; 8]>(),
            any::<u32>(),
            prop_oneof![
                any::<[u8; 4]>().prop_map(IpAddr::from),
                any::<[u8; 16]>().prop_map(IpAddr::from),
            ],
        )
            .prop_map(|(rd, ethernet_tag, originating_router)| Type3Route {
                rd: RouteDistinguisher::from_bytes(rd),
                ethernet_tag,
                originating_router,
            })
    }

    proptest! {
        #[test]
        fn encode_then_decode_round_trips(route in any_type3()) {
            let bytes = encode_to_vec(&route);
            prop_assert_eq!(Type3Route::decode(&mut Reader::new(&bytes)).unwrap(), route);
        }

        #[test]
        fn decodes_only_well_formed_values_and_re_encodes_them(
            mut value in proptest::collection::vec(any::<u8>(), 13..32),
            ip_bits in prop_oneof![Just(32u8), Just(128), any::<u8>()],
        ) {
            value[12] = ip_bits;
            let well_formed = (ip_bits == 32 && value.len() == 17)
                || (ip_bits == 128 && value.len() == 29);
            match Type3Route::decode(&mut Reader::new(&value)) {
                Ok(route) => {
                    prop_assert!(well_formed);
                    prop_assert_eq!(encode_to_vec(&route), value);
                }
                Err(_) => prop_assert!(!well_formed),
            }
        }
    }
}
