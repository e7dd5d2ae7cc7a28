//! EVPN route type 4, Ethernet Segment (RFC 7432 section 7.4).
//!
//! evpnd reflects type-4 routes as opaque bytes ([`super::route::EvpnRoute::Opaque`]);
//! [`Type4Route`] is a read-only view of those bytes for display.

use super::esi::Esi;
use super::ip_field::{encode_ip_with_bit_length, read_ip_with_bit_length};
use crate::error::DecodeResult;
use crate::pmsi::ip_from_slice;
use crate::rd::RouteDistinguisher;
use crate::reader::Reader;
use bytes::BytesMut;
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// An Ethernet Segment route (RFC 7432 section 7.4):
///
/// ```text
/// +---------------------------------------+
/// |  RD (8 octets)                        |
/// +---------------------------------------+
/// |Ethernet Segment Identifier (10 octets)|
/// +---------------------------------------+
/// |  IP Address Length (1 octet)          |
/// +---------------------------------------+
/// |  Originating Router's IP Address      |
/// |          (4 or 16 octets)             |
/// +---------------------------------------+
/// ```
///
/// The IP Address Length is in bits: 32 or 128.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Type4Route {
    pub rd: RouteDistinguisher,
    pub esi: Esi,
    pub originating_router: IpAddr,
}

impl Type4Route {
    /// Decodes the route-type-specific value (after type and length); the
    /// reader must hold exactly that value.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let rd = RouteDistinguisher::decode(r)?;
        let esi = Esi::decode(r)?;
        let ip = read_ip_with_bit_length(
            r,
            "type-4 originating router IP length",
            "type-4 originating router IP",
            false,
        )?;
        r.finish("type-4 route")?;
        Ok(Self {
            rd,
            esi,
            originating_router: ip_from_slice(ip),
        })
    }

    /// Reads a whole type-4 value (the bytes after the length octet).
    pub fn from_value(value: &[u8]) -> DecodeResult<Self> {
        Self::decode(&mut Reader::new(value))
    }

    /// Encodes the route-type-specific value (without type and length).
    pub fn encode(&self, out: &mut BytesMut) {
        self.rd.encode(out);
        self.esi.encode(out);
        encode_ip_with_bit_length(Some(self.originating_router), out);
    }
}

impl fmt::Display for Type4Route {
    /// FRR's prefix string: `[4]:[ESI]:[IPlen]:[OrigIP]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = if self.originating_router.is_ipv4() {
            32
        } else {
            128
        };
        write!(
            f,
            "[4]:[{}]:[{bits}]:[{}]",
            self.esi, self.originating_router
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DecodeErrorKind;
    use proptest::prelude::*;

    /// GoBGP 3.10's `esi 198.18.0.1 esi LACP 02:ee:00:00:00:01 7 rd
    /// 198.18.0.1:1` (proto-tests/vectors/gobgp/messages.txt), value only.
    const GOBGP_ES_VALUE: [u8; 23] = [
        0x00, 0x01, 198, 18, 0, 1, 0x00, 0x01, // RD 198.18.0.1:1
        0x01, 0x02, 0xee, 0, 0, 0, 0x01, 0x00, 0x07, 0x00, // ESI type 1 (LACP)
        32, 198, 18, 0, 1, // originating router
    ];

    #[test]
    fn decodes_gobgp_ethernet_segment_route() {
        let route = Type4Route::from_value(&GOBGP_ES_VALUE).unwrap();
        assert_eq!(route.rd.to_string(), "198.18.0.1:1");
        assert_eq!(route.originating_router.to_string(), "198.18.0.1");
        // FRR 8.4's key for this route (proto-tests/vectors/gobgp/frr-received.json).
        assert_eq!(
            route.to_string(),
            "[4]:[01:02:ee:00:00:00:01:00:07:00]:[32]:[198.18.0.1]"
        );
        let mut out = BytesMut::new();
        route.encode(&mut out);
        assert_eq!(&out[..], &GOBGP_ES_VALUE[..]);
    }

    #[test]
    fn ipv6_originator_and_bad_lengths() {
        let route = Type4Route {
            originating_router: "2001:db8::1".parse().unwrap(),
            ..Type4Route::from_value(&GOBGP_ES_VALUE).unwrap()
        };
        let mut out = BytesMut::new();
        route.encode(&mut out);
        assert_eq!(out.len(), 8 + 10 + 1 + 16);
        assert_eq!(Type4Route::from_value(&out).unwrap(), route);
        assert!(route.to_string().ends_with(":[128]:[2001:db8::1]"));

        let mut zero_len = GOBGP_ES_VALUE;
        zero_len[18] = 0;
        let err = Type4Route::from_value(&zero_len).unwrap_err();
        assert_eq!(err.field, "type-4 originating router IP length");
        assert_eq!(err.kind, DecodeErrorKind::BadValue(0));
        let err = Type4Route::from_value(&GOBGP_ES_VALUE[..22]).unwrap_err();
        assert_eq!(err.field, "type-4 originating router IP");
    }

    proptest! {
        #[test]
        fn round_trips(rd in any::<[u8; 8]>(), esi in any::<[u8; 10]>(),
                       ip in prop_oneof![
                           any::<[u8; 4]>().prop_map(IpAddr::from),
                           any::<[u8; 16]>().prop_map(IpAddr::from),
                       ]) {
            let route = Type4Route {
                rd: RouteDistinguisher::from_bytes(rd),
                esi: Esi(esi),
                originating_router: ip,
            };
            let mut out = BytesMut::new();
            route.encode(&mut out);
            prop_assert_eq!(Type4Route::from_value(&out).unwrap(), route);
        }
    }
}
