//! Route distinguishers (RFC 4364 section 4.2), the first field of every
//! EVPN NLRI (RFC 7432 section 7).

use super::error::DecodeResult;
use super::extcomm::{ParseAdminValueError, RouteTarget, parse_admin_value};
use super::mac::write_hex;
use super::reader::Reader;
use bytes::{BufMut, BytesMut};
use serde::{Serialize, Serializer};
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// Wire size of a route distinguisher.
pub const ROUTE_DISTINGUISHER_LEN: usize = 8;

/// A route distinguisher (RFC 4364 section 4.2): a 2-octet type and a
/// 6-octet value whose layout the type selects.
///
/// ```text
/// Type 0:  | 0x0000 | Administrator: 2-octet AS | Assigned Number: 4 octets |
/// Type 1:  | 0x0001 | Administrator: IPv4 addr  | Assigned Number: 2 octets |
/// Type 2:  | 0x0002 | Administrator: 4-octet AS | Assigned Number: 2 octets |
/// ```
///
/// Other types are kept as their 8 wire octets. Displays, parses and
/// serializes as FRR writes them: `65000:10`, `198.19.0.1:2`,
/// `4200000000:5` (EVPN RDs are normally type 1, RFC 7432 section 7.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteDistinguisher {
    /// Type 0: 2-octet AS, 4-octet assigned number.
    As2 { asn: u16, number: u32 },
    /// Type 1: IPv4 address, 2-octet assigned number.
    Ipv4 { addr: Ipv4Addr, number: u16 },
    /// Type 2: 4-octet AS, 2-octet assigned number.
    As4 { asn: u32, number: u16 },
    /// Any other type: the 8 wire octets, type included.
    Unknown([u8; 8]),
}

impl RouteDistinguisher {
    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        Ok(Self::from_bytes(
            r.array::<ROUTE_DISTINGUISHER_LEN>("route distinguisher")?,
        ))
    }

    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.to_bytes());
    }

    /// Interprets 8 wire octets; never fails (unknown types are kept).
    pub fn from_bytes(bytes: [u8; 8]) -> Self {
        let [t0, t1, v0, v1, v2, v3, v4, v5] = bytes;
        match u16::from_be_bytes([t0, t1]) {
            0 => RouteDistinguisher::As2 {
                asn: u16::from_be_bytes([v0, v1]),
                number: u32::from_be_bytes([v2, v3, v4, v5]),
            },
            1 => RouteDistinguisher::Ipv4 {
                addr: Ipv4Addr::new(v0, v1, v2, v3),
                number: u16::from_be_bytes([v4, v5]),
            },
            2 => RouteDistinguisher::As4 {
                asn: u32::from_be_bytes([v0, v1, v2, v3]),
                number: u16::from_be_bytes([v4, v5]),
            },
            _ => RouteDistinguisher::Unknown(bytes),
        }
    }

    pub fn to_bytes(&self) -> [u8; 8] {
        let mut out = [0u8; 8];
        match *self {
            RouteDistinguisher::As2 { asn, number } => {
                out[2..4].copy_from_slice(&asn.to_be_bytes());
                out[4..8].copy_from_slice(&number.to_be_bytes());
            }
            RouteDistinguisher::Ipv4 { addr, number } => {
                out[1] = 1;
                out[2..6].copy_from_slice(&addr.octets());
                out[6..8].copy_from_slice(&number.to_be_bytes());
            }
            RouteDistinguisher::As4 { asn, number } => {
                out[1] = 2;
                out[2..6].copy_from_slice(&asn.to_be_bytes());
                out[6..8].copy_from_slice(&number.to_be_bytes());
            }
            RouteDistinguisher::Unknown(bytes) => out = bytes,
        }
        out
    }
}

impl fmt::Display for RouteDistinguisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteDistinguisher::As2 { asn, number } => write!(f, "{asn}:{number}"),
            RouteDistinguisher::Ipv4 { addr, number } => write!(f, "{addr}:{number}"),
            RouteDistinguisher::As4 { asn, number } => write!(f, "{asn}:{number}"),
            RouteDistinguisher::Unknown(bytes) => {
                f.write_str("rd:0x")?;
                write_hex(f, bytes)
            }
        }
    }
}

impl FromStr for RouteDistinguisher {
    type Err = ParseAdminValueError;

    /// Accepts the forms FRR configs use; a plain AS that fits 2 octets
    /// selects type 0, a larger one type 2.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match parse_admin_value(s, "route distinguisher")? {
            RouteTarget::As2 { asn, number } => RouteDistinguisher::As2 { asn, number },
            RouteTarget::Ipv4 { addr, number } => RouteDistinguisher::Ipv4 { addr, number },
            RouteTarget::As4 { asn, number } => RouteDistinguisher::As4 { asn, number },
        })
    }
}

impl Serialize for RouteDistinguisher {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode_to_vec(rd: &RouteDistinguisher) -> Vec<u8> {
        let mut out = BytesMut::new();
        rd.encode(&mut out);
        out.to_vec()
    }

    #[test]
    fn decodes_frr_type1_rd() {
        // RD 198.19.0.1:2 from FRR's type-3 NLRI (proto-tests/vectors/frr/, msg 62).
        let bytes = [0x00, 0x01, 0xc6, 0x13, 0x00, 0x01, 0x00, 0x02];
        let rd = RouteDistinguisher::decode(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(rd, "198.19.0.1:2".parse().unwrap());
        assert_eq!(rd.to_string(), "198.19.0.1:2");
        assert_eq!(serde_json::to_string(&rd).unwrap(), "\"198.19.0.1:2\"");
        assert_eq!(encode_to_vec(&rd), bytes);
    }

    #[test]
    fn each_type_decodes_displays_and_re_encodes() {
        let cases: [(&[u8], &str); 3] = [
            (&[0, 0, 0xfd, 0xe8, 0, 0, 0, 10], "65000:10"),
            (&[0, 2, 0xfa, 0x56, 0xea, 0x00, 0, 5], "4200000000:5"),
            (&[0, 7, 1, 2, 3, 4, 5, 6], "rd:0x0007010203040506"),
        ];
        for (bytes, shown) in cases {
            let rd = RouteDistinguisher::decode(&mut Reader::new(bytes)).unwrap();
            assert_eq!(rd.to_string(), shown);
            assert_eq!(encode_to_vec(&rd), bytes);
        }
        assert_eq!(
            "4200000000:5".parse::<RouteDistinguisher>().unwrap(),
            RouteDistinguisher::As4 {
                asn: 4_200_000_000,
                number: 5
            }
        );
        assert!(
            "rd:0x0007010203040506"
                .parse::<RouteDistinguisher>()
                .is_err()
        );
        assert!("198.19.0.1:65536".parse::<RouteDistinguisher>().is_err());
    }

    #[test]
    fn truncated_rd_reports_field_and_offset() {
        let mut r = Reader::with_base(&[0, 1, 2], 30);
        let err = RouteDistinguisher::decode(&mut r).unwrap_err();
        assert_eq!((err.field, err.offset), ("route distinguisher", 30));
    }

    proptest! {
        #[test]
        fn any_eight_bytes_round_trip(bytes in any::<[u8; 8]>()) {
            let rd = RouteDistinguisher::decode(&mut Reader::new(&bytes)).unwrap();
            prop_assert_eq!(encode_to_vec(&rd), bytes.to_vec());
        }

        #[test]
        fn typed_display_parse_round_trips(bytes in any::<[u8; 8]>(), rd_type in 0u8..3) {
            let mut bytes = bytes;
            bytes[0] = 0;
            bytes[1] = rd_type;
            let rd = RouteDistinguisher::from_bytes(bytes);
            let parsed: RouteDistinguisher = rd.to_string().parse().unwrap();
            match rd {
                // A type-2 AS that fits 2 octets reads back as type 0.
                RouteDistinguisher::As4 { asn, number } if asn <= u32::from(u16::MAX) => {
                    prop_assert_eq!(parsed.to_string(), rd.to_string());
                    prop_assert_eq!(parsed, RouteDistinguisher::As2 { asn: asn as u16, number: u32::from(number) });
                }
                _ => prop_assert_eq!(parsed, rd),
            }
        }
    }
}
