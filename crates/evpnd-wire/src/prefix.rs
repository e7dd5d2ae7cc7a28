//! IPv4/IPv6 unicast NLRI prefixes (RFC 4271 section 4.3 "Withdrawn Routes"
//! and "NLRI"; RFC 4760 section 5 for IPv6; RFC 7911 section 3 ADD-PATH).

use super::error::{DecodeErrorKind, DecodeResult};
use super::family::Afi;
use super::reader::Reader;
use bytes::{BufMut, BytesMut};
use serde::Serialize;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One prefix as carried in Withdrawn Routes, NLRI and MP_(UN)REACH_NLRI.
///
/// ```text
/// +---------------------------+
/// | Path Identifier (4 octets)|   only with ADD-PATH (RFC 7911 section 3)
/// +---------------------------+
/// |   Length (1 octet)        |
/// +---------------------------+
/// |   Prefix (variable)       |   ceil(Length / 8) octets
/// +---------------------------+
/// ```
/// Trailing bits past `len` in the last octet are "irrelevant" (RFC 4271
/// 4.3) but kept in `addr`, so re-encoding is byte-identical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Prefix {
    pub path_id: Option<u32>,
    pub addr: IpAddr,
    pub len: u8,
}

impl Prefix {
    /// Decode one prefix of family `afi` (IPv4 or IPv6).
    pub fn decode(r: &mut Reader<'_>, afi: Afi, add_path: bool) -> DecodeResult<Self> {
        let path_id = if add_path {
            Some(r.u32("prefix path identifier")?)
        } else {
            None
        };
        let len_offset = r.offset();
        let len = r.u8("prefix length")?;
        let max_bits = match afi {
            Afi::IPV4 => 32,
            Afi::IPV6 => 128,
            _ => {
                return Err(r.error(
                    "prefix address family",
                    DecodeErrorKind::BadValue(afi.0.into()),
                ));
            }
        };
        if len > max_bits {
            return Err(super::error::DecodeError::new(
                "prefix length",
                len_offset,
                DecodeErrorKind::BadValue(len.into()),
            ));
        }
        let octets = r.bytes(usize::from(len).div_ceil(8), "prefix")?;
        let addr = if afi == Afi::IPV4 {
            let mut a = [0u8; 4];
            a[..octets.len()].copy_from_slice(octets);
            IpAddr::V4(Ipv4Addr::from(a))
        } else {
            let mut a = [0u8; 16];
            a[..octets.len()].copy_from_slice(octets);
            IpAddr::V6(Ipv6Addr::from(a))
        };
        Ok(Self { path_id, addr, len })
    }

    /// Decode a whole Withdrawn Routes / NLRI field.
    pub fn decode_all(buf: &[u8], afi: Afi, add_path: bool) -> DecodeResult<Vec<Self>> {
        let mut r = Reader::new(buf);
        let mut out = Vec::new();
        while !r.is_empty() {
            out.push(Self::decode(&mut r, afi, add_path)?);
        }
        Ok(out)
    }

    /// Check a field's syntax (RFC 7606 section 5.3) without allocating.
    pub fn validate_all(buf: &[u8], afi: Afi, add_path: bool, base: usize) -> DecodeResult<usize> {
        let mut r = Reader::with_base(buf, base);
        let mut count = 0;
        while !r.is_empty() {
            Self::decode(&mut r, afi, add_path)?;
            count += 1;
        }
        Ok(count)
    }

    pub fn encode(&self, out: &mut BytesMut) {
        if let Some(id) = self.path_id {
            out.put_u32(id);
        }
        out.put_u8(self.len);
        let octets = usize::from(self.len).div_ceil(8);
        match self.addr {
            IpAddr::V4(a) => out.put_slice(&a.octets()[..octets.min(4)]),
            IpAddr::V6(a) => out.put_slice(&a.octets()[..octets.min(16)]),
        }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)?;
        if let Some(id) = self.path_id {
            write!(f, " path-id {id}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_rfc4271_examples() {
        // 10.0.0.0/8, 198.18.10.0/24, 0.0.0.0/0
        let wire = [8u8, 10, 24, 198, 18, 10, 0];
        let p = Prefix::decode_all(&wire, Afi::IPV4, false).unwrap();
        let shown: Vec<String> = p.iter().map(|p| p.to_string()).collect();
        assert_eq!(shown, ["10.0.0.0/8", "198.18.10.0/24", "0.0.0.0/0"]);
        let mut out = BytesMut::new();
        p.iter().for_each(|p| p.encode(&mut out));
        assert_eq!(&out[..], &wire);
    }

    #[test]
    fn rejects_overlong_and_truncated_prefixes() {
        let err = Prefix::decode_all(&[33, 1, 2, 3, 4, 5], Afi::IPV4, false).unwrap_err();
        assert_eq!(err.field, "prefix length");
        assert_eq!(err.kind, DecodeErrorKind::BadValue(33));
        assert!(Prefix::decode_all(&[24, 1, 2], Afi::IPV4, false).is_err());
        assert!(Prefix::decode_all(&[0, 0, 0], Afi::IPV4, true).is_err());
        assert_eq!(
            Prefix::validate_all(&[0, 0, 0, 7, 8, 10], Afi::IPV4, true, 0),
            Ok(1)
        );
    }

    fn arb_prefix() -> impl Strategy<Value = Prefix> {
        (
            any::<bool>(),
            any::<Option<u32>>(),
            any::<u128>(),
            0u8..=128,
        )
            .prop_map(|(v4, path_id, bits, len)| {
                // Only the octets the length covers are on the wire.
                let (addr, len) = if v4 {
                    let len = len % 33;
                    let keep = usize::from(len).div_ceil(8);
                    let mut a = (bits as u32).to_be_bytes();
                    a[keep..].fill(0);
                    (IpAddr::V4(Ipv4Addr::from(a)), len)
                } else {
                    let keep = usize::from(len).div_ceil(8);
                    let mut a = bits.to_be_bytes();
                    a[keep..].fill(0);
                    (IpAddr::V6(Ipv6Addr::from(a)), len)
                };
                Prefix { path_id, addr, len }
            })
    }

    proptest! {
        #[test]
        fn round_trip(p in arb_prefix()) {
            let mut out = BytesMut::new();
            p.encode(&mut out);
            let afi = if p.addr.is_ipv4() { Afi::IPV4 } else { Afi::IPV6 };
            let back = Prefix::decode(&mut Reader::new(&out), afi, p.path_id.is_some()).unwrap();
            prop_assert_eq!(back, p);
        }

        #[test]
        fn wire_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..64), v6: bool) {
            let afi = if v6 { Afi::IPV6 } else { Afi::IPV4 };
            if let Ok(ps) = Prefix::decode_all(&bytes, afi, false) {
                let mut out = BytesMut::new();
                ps.iter().for_each(|p| p.encode(&mut out));
                prop_assert_eq!(&out[..], &bytes[..]);
            }
        }
    }
}
