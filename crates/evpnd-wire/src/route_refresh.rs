//! ROUTE-REFRESH message (RFC 2918 section 3; RFC 7313 section 3 subtypes).

use super::error::{DecodeErrorKind, DecodeResult};
use super::family::{Afi, Family, Safi};
use super::reader::Reader;
use bytes::{BufMut, BytesMut};
use serde::Serialize;
use std::fmt;

/// Message Subtype (RFC 7313 section 3; the "Reserved" octet of RFC 2918).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RefreshSubtype {
    /// 0: a plain route refresh request.
    Request,
    /// 1: Beginning of Route Refresh.
    BeginningOfRefresh,
    /// 2: End of Route Refresh.
    EndOfRefresh,
    /// Anything else; RFC 7313 section 5 says to ignore the message.
    Other(u8),
}

impl RefreshSubtype {
    fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Request,
            1 => Self::BeginningOfRefresh,
            2 => Self::EndOfRefresh,
            v => Self::Other(v),
        }
    }
    fn to_u8(self) -> u8 {
        match self {
            Self::Request => 0,
            Self::BeginningOfRefresh => 1,
            Self::EndOfRefresh => 2,
            Self::Other(v) => v,
        }
    }
}

/// ROUTE-REFRESH body (RFC 2918 section 3, RFC 7313 section 3).
///
/// ```text
///  0       7      15      23      31
/// +-------+-------+-------+-------+
/// |      AFI      | Subtype| SAFI |
/// +-------+-------+-------+-------+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct RouteRefresh {
    pub family: Family,
    pub subtype: RefreshSubtype,
}

impl RouteRefresh {
    pub fn request(family: Family) -> Self {
        Self {
            family,
            subtype: RefreshSubtype::Request,
        }
    }

    /// Decode a body; RFC 7313 section 5: any length but 4 is an error
    /// (answered with ROUTE-REFRESH Message Error / Invalid Message Length).
    pub fn decode(body: &[u8]) -> DecodeResult<Self> {
        let r = Reader::new(body);
        if body.len() != 4 {
            return Err(r.error(
                "ROUTE-REFRESH length",
                DecodeErrorKind::BadLength(body.len()),
            ));
        }
        Self::decode_from(&mut Reader::new(body))
    }

    pub(crate) fn decode_from(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let afi = Afi(r.u16("ROUTE-REFRESH AFI")?);
        let subtype = RefreshSubtype::from_u8(r.u8("ROUTE-REFRESH subtype")?);
        let safi = Safi(r.u8("ROUTE-REFRESH SAFI")?);
        r.finish("ROUTE-REFRESH")?;
        Ok(Self {
            family: Family::new(afi, safi),
            subtype,
        })
    }

    pub fn encode(&self, out: &mut BytesMut) {
        out.put_u16(self.family.afi.0);
        out.put_u8(self.subtype.to_u8());
        out.put_u8(self.family.safi.0);
    }
}

impl fmt::Display for RouteRefresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.subtype {
            RefreshSubtype::Request => write!(f, "ROUTE-REFRESH {}", self.family),
            RefreshSubtype::BeginningOfRefresh => write!(f, "BoRR {}", self.family),
            RefreshSubtype::EndOfRefresh => write!(f, "EoRR {}", self.family),
            RefreshSubtype::Other(v) => write!(f, "ROUTE-REFRESH {} subtype {v}", self.family),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_rfc7313_subtypes() {
        let rr = RouteRefresh::decode(&[0, 25, 1, 70]).unwrap();
        assert_eq!(rr.family, Family::L2VPN_EVPN);
        assert_eq!(rr.subtype, RefreshSubtype::BeginningOfRefresh);
        assert_eq!(rr.to_string(), "BoRR l2vpn-evpn");
        assert!(RouteRefresh::decode(&[0, 25, 0]).is_err());
        assert!(RouteRefresh::decode(&[0, 25, 0, 70, 0]).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(wire: [u8; 4]) {
            let rr = RouteRefresh::decode(&wire).unwrap();
            let mut out = BytesMut::new();
            rr.encode(&mut out);
            prop_assert_eq!(&out[..], &wire[..]);
            prop_assert_eq!(RouteRefresh::decode(&out).unwrap(), rr);
        }
    }
}
