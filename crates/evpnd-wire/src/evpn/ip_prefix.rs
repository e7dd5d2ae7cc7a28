//! EVPN route type 5, IP Prefix (RFC 9136 section 3.1).
//!
//! evpnd reflects type-5 routes as opaque bytes ([`super::route::EvpnRoute::Opaque`]);
//! [`Type5Route`] is a read-only view of those bytes for display.

use super::esi::Esi;
use crate::error::{DecodeError, DecodeErrorKind, DecodeResult};
use crate::pmsi::ip_from_slice;
use crate::rd::RouteDistinguisher;
use crate::reader::Reader;
use bytes::{BufMut, BytesMut};
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// Octets of an IPv4 type-5 value: RD 8, ESI 10, tag 4, length 1, prefix 4,
/// gateway 4, label 3 (RFC 9136 section 3.1).
pub const TYPE5_IPV4_VALUE_LEN: usize = 34;
/// Octets of an IPv6 type-5 value: the same with 16-octet prefix and gateway.
pub const TYPE5_IPV6_VALUE_LEN: usize = 58;

/// An IP Prefix route (RFC 9136 section 3.1):
///
/// ```text
/// +---------------------------------------+
/// |      RD (8 octets)                    |
/// +---------------------------------------+
/// |Ethernet Segment Identifier (10 octets)|
/// +---------------------------------------+
/// |  Ethernet Tag ID (4 octets)           |
/// +---------------------------------------+
/// |  IP Prefix Length (1 octet, 0 to 32)  |
/// +---------------------------------------+
/// |  IP Prefix (4 octets)                 |
/// +---------------------------------------+
/// |  GW IP Address (4 octets)             |
/// +---------------------------------------+
/// |  MPLS Label (3 octets)                |
/// +---------------------------------------+
/// ```
///
/// The IPv6 form has 16-octet prefix and gateway and a length of 0 to 128;
/// the form follows from the route's length, 34 or 58 octets (section 3.1).
/// The prefix is kept as sent, host bits included, so nothing is lost; the
/// label is kept raw (for VXLAN it is the L3 VNI, RFC 9136 section 4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Type5Route {
    pub rd: RouteDistinguisher,
    pub esi: Esi,
    pub ethernet_tag: u32,
    /// IP Prefix Length in bits.
    pub prefix_len: u8,
    pub prefix: IpAddr,
    /// GW IP Address; all zeros when the route has no gateway overlay index
    /// (RFC 9136 section 3.2).
    pub gateway: IpAddr,
    /// Raw 24-bit label field.
    pub label: u32,
}

impl Type5Route {
    /// Decodes the route-type-specific value (after type and length); the
    /// reader must hold exactly that value.
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let address_len = match r.remaining() {
            TYPE5_IPV4_VALUE_LEN => 4,
            TYPE5_IPV6_VALUE_LEN => 16,
            other => {
                return Err(r.error("type-5 route length", DecodeErrorKind::BadLength(other)));
            }
        };
        let rd = RouteDistinguisher::decode(r)?;
        let esi = Esi::decode(r)?;
        let ethernet_tag = r.u32("type-5 Ethernet tag")?;
        let prefix_len_offset = r.offset();
        let prefix_len = r.u8("type-5 IP prefix length")?;
        if usize::from(prefix_len) > address_len * 8 {
            return Err(DecodeError::new(
                "type-5 IP prefix length",
                prefix_len_offset,
                DecodeErrorKind::BadValue(u64::from(prefix_len)),
            ));
        }
        let prefix = ip_from_slice(r.bytes(address_len, "type-5 IP prefix")?);
        let gateway = ip_from_slice(r.bytes(address_len, "type-5 gateway IP")?);
        let label = r.u24("type-5 label")?;
        r.finish("type-5 route")?;
        Ok(Self {
            rd,
            esi,
            ethernet_tag,
            prefix_len,
            prefix,
            gateway,
            label,
        })
    }

    /// Reads a whole type-5 value (the bytes after the length octet).
    pub fn from_value(value: &[u8]) -> DecodeResult<Self> {
        Self::decode(&mut Reader::new(value))
    }

    /// Encodes the route-type-specific value (without type and length). The
    /// gateway is written in the prefix's family, as section 3.1 requires.
    pub fn encode(&self, out: &mut BytesMut) {
        self.rd.encode(out);
        self.esi.encode(out);
        out.put_u32(self.ethernet_tag);
        out.put_u8(self.prefix_len);
        match (self.prefix, self.gateway) {
            (IpAddr::V4(prefix), IpAddr::V4(gateway)) => {
                out.put_slice(&prefix.octets());
                out.put_slice(&gateway.octets());
            }
            (IpAddr::V4(prefix), IpAddr::V6(_)) => {
                out.put_slice(&prefix.octets());
                out.put_slice(&[0; 4]);
            }
            (IpAddr::V6(prefix), IpAddr::V6(gateway)) => {
                out.put_slice(&prefix.octets());
                out.put_slice(&gateway.octets());
            }
            (IpAddr::V6(prefix), IpAddr::V4(_)) => {
                out.put_slice(&prefix.octets());
                out.put_slice(&[0; 16]);
            }
        }
        out.put_slice(&self.label.to_be_bytes()[1..]);
    }

    /// The L3 VNI: the whole 24-bit label (RFC 9136 section 4.1; RFC 8365
    /// section 5.1.3).
    pub fn vni(&self) -> u32 {
        self.label & 0x00ff_ffff
    }

    /// The gateway, or `None` when it is all zeros (no gateway overlay
    /// index, RFC 9136 section 3.2).
    pub fn gateway_ip(&self) -> Option<IpAddr> {
        (!self.gateway.is_unspecified()).then_some(self.gateway)
    }

    /// The prefix in CIDR notation, as sent: "198.18.21.0/24".
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.prefix, self.prefix_len)
    }
}

impl fmt::Display for Type5Route {
    /// FRR's prefix string: `[5]:[EthTag]:[IPlen]:[IP]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[5]:[{}]:[{}]:[{}]",
            self.ethernet_tag, self.prefix_len, self.prefix
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// ExaBGP 4.2's `ip-prefix rd 198.18.0.2:100 prefix 198.18.21.0/24 gw
    /// 198.18.21.1 label 100` (proto-tests/vectors/exabgp/messages.txt).
    const EXABGP_V4_VALUE: [u8; 34] = [
        0x00, 0x01, 198, 18, 0, 2, 0x00, 0x64, // RD 198.18.0.2:100
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // ESI 0
        0, 0, 0, 0,  // Ethernet tag 0
        24, // prefix length
        198, 18, 21, 0, // prefix
        198, 18, 21, 1, // gateway
        0x00, 0x00, 0x64, // label = VNI 100
    ];

    fn exabgp_v6_value() -> Vec<u8> {
        let mut value = vec![0x00, 0x01, 198, 18, 0, 2, 0x00, 0x64];
        value.extend_from_slice(&[0; 10 + 4]);
        value.push(64);
        value.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0x00, 0x21]);
        value.extend_from_slice(&[0; 10 + 16]);
        value.extend_from_slice(&[0, 0, 100]);
        value
    }

    #[test]
    fn decodes_exabgp_ipv4_and_ipv6_forms() {
        let v4 = Type5Route::from_value(&EXABGP_V4_VALUE).unwrap();
        assert_eq!(v4.rd.to_string(), "198.18.0.2:100");
        assert!(v4.esi.is_zero());
        assert_eq!(v4.cidr(), "198.18.21.0/24");
        assert_eq!(v4.gateway_ip(), Some("198.18.21.1".parse().unwrap()));
        assert_eq!(v4.vni(), 100);
        assert_eq!(v4.to_string(), "[5]:[0]:[24]:[198.18.21.0]");
        let mut out = BytesMut::new();
        v4.encode(&mut out);
        assert_eq!(&out[..], &EXABGP_V4_VALUE[..]);

        let v6_value = exabgp_v6_value();
        assert_eq!(v6_value.len(), TYPE5_IPV6_VALUE_LEN);
        let v6 = Type5Route::from_value(&v6_value).unwrap();
        assert_eq!(v6.cidr(), "2001:db8:21::/64");
        assert_eq!(v6.gateway, "::".parse::<IpAddr>().unwrap());
        assert_eq!(v6.gateway_ip(), None);
        assert_eq!(v6.to_string(), "[5]:[0]:[64]:[2001:db8:21::]");
        let mut out = BytesMut::new();
        v6.encode(&mut out);
        assert_eq!(&out[..], &v6_value[..]);
    }

    #[test]
    fn rejects_other_lengths_and_long_prefixes() {
        let err = Type5Route::from_value(&EXABGP_V4_VALUE[..33]).unwrap_err();
        assert_eq!(err.field, "type-5 route length");
        assert_eq!(err.kind, DecodeErrorKind::BadLength(33));
        let mut long_prefix = EXABGP_V4_VALUE;
        long_prefix[22] = 33;
        let err = Type5Route::from_value(&long_prefix).unwrap_err();
        assert_eq!((err.field, err.offset), ("type-5 IP prefix length", 22));
        let mut v6 = exabgp_v6_value();
        v6[22] = 128;
        assert_eq!(Type5Route::from_value(&v6).unwrap().prefix_len, 128);
        v6[22] = 129;
        assert!(Type5Route::from_value(&v6).is_err());
    }

    proptest! {
        #[test]
        fn round_trips(rd in any::<[u8; 8]>(), esi in any::<[u8; 10]>(), ethernet_tag in any::<u32>(),
                       label in 0u32..(1 << 24), v6 in any::<bool>(), len in any::<u8>(),
                       prefix in any::<[u8; 16]>(), gateway in any::<[u8; 16]>()) {
            let (prefix, gateway, max) = if v6 {
                (IpAddr::from(prefix), IpAddr::from(gateway), 128)
            } else {
                let p: [u8; 4] = prefix[..4].try_into().unwrap();
                let g: [u8; 4] = gateway[..4].try_into().unwrap();
                (IpAddr::from(p), IpAddr::from(g), 32)
            };
            let route = Type5Route {
                rd: RouteDistinguisher::from_bytes(rd),
                esi: Esi(esi),
                ethernet_tag,
                prefix_len: len % (max + 1),
                prefix,
                gateway,
                label,
            };
            let mut out = BytesMut::new();
            route.encode(&mut out);
            prop_assert_eq!(out.len(), if v6 { TYPE5_IPV6_VALUE_LEN } else { TYPE5_IPV4_VALUE_LEN });
            prop_assert_eq!(Type5Route::from_value(&out).unwrap(), route);
        }
    }
}
