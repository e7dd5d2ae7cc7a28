//! EVPN route type 1, Ethernet Auto-Discovery (RFC 7432 section 7.1).
//!
//! evpnd reflects type-1 routes as opaque bytes ([`super::route::EvpnRoute::Opaque`]);
//! [`Type1Route`] is a read-only view of those bytes for display.

use super::esi::Esi;
use crate::error::DecodeResult;
use crate::rd::RouteDistinguisher;
use crate::reader::Reader;
use bytes::{BufMut, BytesMut};
use serde::Serialize;
use std::fmt;

/// Octets of a type-1 value: RD 8, ESI 10, Ethernet tag 4, label 3.
pub const TYPE1_VALUE_LEN: usize = 8 + 10 + 4 + 3;

/// An Ethernet Auto-Discovery route (RFC 7432 section 7.1):
///
/// ```text
/// +---------------------------------------+
/// |  Route Distinguisher (RD) (8 octets)  |
/// +---------------------------------------+
/// |Ethernet Segment Identifier (10 octets)|
/// +---------------------------------------+
/// |  Ethernet Tag ID (4 octets)           |
/// +---------------------------------------+
/// |  MPLS Label (3 octets)                |
/// +---------------------------------------+
/// ```
///
/// The per-ES form has Ethernet tag `0xffffffff` and label 0 (section 8.2.1);
/// the per-EVI form carries the VNI in the label (RFC 8365 section 5.1.3).
/// The label is kept raw, like [`super::mac_ip::Type2Route::label1`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Type1Route {
    pub rd: RouteDistinguisher,
    pub esi: Esi,
    pub ethernet_tag: u32,
    /// Raw 24-bit label field.
    pub label: u32,
}

impl Type1Route {
    /// Decodes the route-type-specific value (after type and length); the
    /// reader must hold exactly that value.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let rd = RouteDistinguisher::decode(r)?;
        let esi = Esi::decode(r)?;
        let ethernet_tag = r.u32("type-1 Ethernet tag")?;
        let label = r.u24("type-1 label")?;
        r.finish("type-1 route")?;
        Ok(Self {
            rd,
            esi,
            ethernet_tag,
            label,
        })
    }

    /// Reads a whole type-1 value (the bytes after the length octet).
    pub fn from_value(value: &[u8]) -> DecodeResult<Self> {
        Self::decode(&mut Reader::new(value))
    }

    /// Encodes the route-type-specific value (without type and length).
    pub fn encode(&self, out: &mut BytesMut) {
        self.rd.encode(out);
        self.esi.encode(out);
        out.put_u32(self.ethernet_tag);
        out.put_slice(&self.label.to_be_bytes()[1..]);
    }

    /// The VNI of a per-EVI route: the whole 24-bit label (RFC 8365 section
    /// 5.1.3).
    pub fn vni(&self) -> u32 {
        self.label & 0x00ff_ffff
    }
}

impl fmt::Display for Type1Route {
    /// FRR's prefix string `[1]:[EthTag]:[ESI]:[IPlen]:[VTEP-IP]:[Frag-id]`.
    /// The VTEP IP and fragment are FRR-internal, not NLRI fields; FRR's
    /// global table keys received type-1 routes with 0.0.0.0 and fragment 0,
    /// which is what is printed here so the two read alike.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[1]:[{}]:[{}]:[32]:[0.0.0.0]:[0]",
            self.ethernet_tag, self.esi
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DecodeErrorKind;
    use proptest::prelude::*;

    /// GoBGP 3.10's `a-d esi LACP 02:ee:00:00:00:01 7 etag 0 label 11 rd
    /// 198.18.0.1:11` (proto-tests/vectors/gobgp/messages.txt), value only.
    const GOBGP_AD_VALUE: [u8; 25] = [
        0x00, 0x01, 198, 18, 0, 1, 0x00, 0x0b, // RD 198.18.0.1:11
        0x01, 0x02, 0xee, 0, 0, 0, 0x01, 0x00, 0x07, 0x00, // ESI type 1 (LACP)
        0, 0, 0, 0, // Ethernet tag 0
        0x00, 0x00, 0x0b, // label = VNI 11
    ];

    #[test]
    fn decodes_gobgp_ethernet_ad_route() {
        let route = Type1Route::from_value(&GOBGP_AD_VALUE).unwrap();
        assert_eq!(route.rd.to_string(), "198.18.0.1:11");
        assert_eq!(route.esi.to_string(), "01:02:ee:00:00:00:01:00:07:00");
        assert_eq!(route.ethernet_tag, 0);
        assert_eq!(route.vni(), 11);
        // FRR 8.4's key for this route (proto-tests/vectors/gobgp/frr-received.json).
        assert_eq!(
            route.to_string(),
            "[1]:[0]:[01:02:ee:00:00:00:01:00:07:00]:[32]:[0.0.0.0]:[0]"
        );
        let mut out = BytesMut::new();
        route.encode(&mut out);
        assert_eq!(&out[..], &GOBGP_AD_VALUE[..]);
    }

    #[test]
    fn rejects_short_and_long_values() {
        let err = Type1Route::from_value(&GOBGP_AD_VALUE[..24]).unwrap_err();
        assert_eq!((err.field, err.offset), ("type-1 label", 22));
        let mut long = GOBGP_AD_VALUE.to_vec();
        long.push(0);
        let err = Type1Route::from_value(&long).unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::Trailing(1));
    }

    fn any_type1() -> impl Strategy<Value = Type1Route> {
        (
            any::<[u8; 8]>(),
            any::<[u8; 10]>(),
            any::<u32>(),
            0u32..(1 << 24),
        )
            .prop_map(|(rd, esi, ethernet_tag, label)| Type1Route {
                rd: RouteDistinguisher::from_bytes(rd),
                esi: Esi(esi),
                ethernet_tag,
                label,
            })
    }

    proptest! {
        #[test]
        fn round_trips(route in any_type1()) {
            let mut out = BytesMut::new();
            route.encode(&mut out);
            prop_assert_eq!(out.len(), TYPE1_VALUE_LEN);
            prop_assert_eq!(Type1Route::from_value(&out).unwrap(), route);
        }

        #[test]
        fn any_bytes_decode_exactly_when_25_long(value in proptest::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(Type1Route::from_value(&value).is_ok(), value.len() == TYPE1_VALUE_LEN);
        }
    }
}
