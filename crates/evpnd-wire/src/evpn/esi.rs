//! Ethernet Segment Identifier (RFC 7432 section 5).

use crate::error::DecodeResult;
use crate::mac::write_hex_separated;
use crate::reader::Reader;
use bytes::{BufMut, BytesMut};
use serde::{Serialize, Serializer};
use std::fmt;

/// Wire size of an ESI.
pub const ESI_LEN: usize = 10;

/// An Ethernet Segment Identifier (RFC 7432 section 5): a 1-octet type and a
/// 9-octet value. All zeros (type 0, value 0) means "single-homed", which is
/// what a VXLAN VTEP without multihoming advertises.
///
/// ```text
/// +---+---+---+---+---+---+---+---+---+---+
/// | T |          ESI Value                |
/// +---+---+---+---+---+---+---+---+---+---+
/// ```
///
/// Displays and serializes as FRR prints it: ten colon-separated hex octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Esi(pub [u8; ESI_LEN]);

impl Esi {
    /// RFC 7432 section 5: the reserved value for a single-homed site.
    pub const ZERO: Esi = Esi([0; ESI_LEN]);

    pub fn decode(r: &mut Reader<'_>) -> DecodeResult<Self> {
        Ok(Esi(r.array::<ESI_LEN>("ESI")?))
    }

    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.0);
    }

    /// RFC 7432 section 5: the first octet says how the value was formed.
    pub fn esi_type(&self) -> u8 {
        self.0[0]
    }

    pub fn is_zero(&self) -> bool {
        *self == Esi::ZERO
    }
}

impl fmt::Display for Esi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex_separated(f, &self.0, ':')
    }
}

impl Serialize for Esi {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_like_frr_and_round_trips() {
        let esi = Esi([0x03, 0x00, 0x00, 0x5e, 0x00, 0x53, 0x01, 0x00, 0x00, 0x01]);
        assert_eq!(esi.to_string(), "03:00:00:5e:00:53:01:00:00:01");
        assert_eq!(esi.esi_type(), 3);
        assert!(!esi.is_zero());
        assert!(Esi::ZERO.is_zero());
        assert_eq!(
            serde_json::to_string(&Esi::ZERO).unwrap(),
            "\"00:00:00:00:00:00:00:00:00:00\""
        );
        let mut out = BytesMut::new();
        esi.encode(&mut out);
        assert_eq!(Esi::decode(&mut Reader::new(&out)).unwrap(), esi);
        assert!(Esi::decode(&mut Reader::new(&out[..9])).is_err());
    }

    proptest! {
        #[test]
        fn any_ten_bytes_round_trip(bytes in any::<[u8; ESI_LEN]>()) {
            let esi = Esi::decode(&mut Reader::new(&bytes)).unwrap();
            let mut out = BytesMut::new();
            esi.encode(&mut out);
            prop_assert_eq!(&out[..], &bytes[..]);
        }
    }
}
