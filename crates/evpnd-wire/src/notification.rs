//! NOTIFICATION message (RFC 4271 section 4.5) and its error codes and
//! subcodes (RFC 4271 section 6; IANA "BGP Error (Notification) Codes" and
//! "BGP Error Subcodes").

use super::error::DecodeResult;
use super::family::{Afi, Family, Safi};
use super::reader::Reader;
use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use std::fmt;

/// Defines a subcode enum with named values and an `Other(u8)` fallback, so
/// any received subcode decodes and re-encodes unchanged.
macro_rules! subcodes {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum $name {
            $($variant,)*
            Other(u8),
        }

        impl $name {
            pub fn from_u8(value: u8) -> Self {
                match value {
                    $($value => Self::$variant,)*
                    other => Self::Other(other),
                }
            }

            pub fn to_u8(self) -> u8 {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Other(other) => other,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Self::$variant => f.write_str($text),)*
                    Self::Other(other) => write!(f, "subcode {other}"),
                }
            }
        }
    };
}

subcodes! {
    /// Message Header Error subcodes (RFC 4271 section 6.1).
    HeaderSubcode {
        Unspecific = 0 => "Unspecific",
        ConnectionNotSynchronized = 1 => "Connection Not Synchronized",
        BadMessageLength = 2 => "Bad Message Length",
        BadMessageType = 3 => "Bad Message Type",
    }
}

subcodes! {
    /// OPEN Message Error subcodes (RFC 4271 section 6.2; RFC 5492 section 5
    /// Unsupported Capability; RFC 9234 Role Mismatch).
    OpenSubcode {
        Unspecific = 0 => "Unspecific",
        UnsupportedVersionNumber = 1 => "Unsupported Version Number",
        BadPeerAs = 2 => "Bad Peer AS",
        BadBgpIdentifier = 3 => "Bad BGP Identifier",
        UnsupportedOptionalParameter = 4 => "Unsupported Optional Parameter",
        UnacceptableHoldTime = 6 => "Unacceptable Hold Time",
        UnsupportedCapability = 7 => "Unsupported Capability",
        RoleMismatch = 11 => "Role Mismatch",
    }
}

subcodes! {
    /// UPDATE Message Error subcodes (RFC 4271 section 6.3).
    UpdateSubcode {
        Unspecific = 0 => "Unspecific",
        MalformedAttributeList = 1 => "Malformed Attribute List",
        UnrecognizedWellKnownAttribute = 2 => "Unrecognized Well-known Attribute",
        MissingWellKnownAttribute = 3 => "Missing Well-known Attribute",
        AttributeFlagsError = 4 => "Attribute Flags Error",
        AttributeLengthError = 5 => "Attribute Length Error",
        InvalidOriginAttribute = 6 => "Invalid ORIGIN Attribute",
        InvalidNextHopAttribute = 8 => "Invalid NEXT_HOP Attribute",
        OptionalAttributeError = 9 => "Optional Attribute Error",
        InvalidNetworkField = 10 => "Invalid Network Field",
        MalformedAsPath = 11 => "Malformed AS_PATH",
    }
}

subcodes! {
    /// Finite State Machine Error subcodes (RFC 6608 section 3).
    FsmSubcode {
        Unspecified = 0 => "Unspecified Error",
        UnexpectedMessageInOpenSent = 1 => "Receive Unexpected Message in OpenSent State",
        UnexpectedMessageInOpenConfirm = 2 => "Receive Unexpected Message in OpenConfirm State",
        UnexpectedMessageInEstablished = 3 => "Receive Unexpected Message in Established State",
    }
}

subcodes! {
    /// Cease subcodes (RFC 4486 section 4; RFC 8538 Hard Reset; RFC 9384 BFD Down).
    CeaseSubcode {
        Unspecific = 0 => "Unspecific",
        MaximumPrefixesReached = 1 => "Maximum Number of Prefixes Reached",
        AdministrativeShutdown = 2 => "Administrative Shutdown",
        PeerDeconfigured = 3 => "Peer De-configured",
        AdministrativeReset = 4 => "Administrative Reset",
        ConnectionRejected = 5 => "Connection Rejected",
        OtherConfigurationChange = 6 => "Other Configuration Change",
        ConnectionCollisionResolution = 7 => "Connection Collision Resolution",
        OutOfResources = 8 => "Out of Resources",
        HardReset = 9 => "Hard Reset",
        BfdDown = 10 => "BFD Down",
    }
}

subcodes! {
    /// ROUTE-REFRESH Message Error subcodes (RFC 7313 section 5).
    RouteRefreshSubcode {
        Reserved = 0 => "Reserved",
        InvalidMessageLength = 1 => "Invalid Message Length",
    }
}

/// Error code and subcode of a NOTIFICATION (RFC 4271 section 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ErrorCode {
    /// 1, RFC 4271 section 6.1.
    MessageHeader(HeaderSubcode),
    /// 2, RFC 4271 section 6.2.
    Open(OpenSubcode),
    /// 3, RFC 4271 section 6.3.
    Update(UpdateSubcode),
    /// 4, RFC 4271 section 6.5; the subcode is unused (0) but kept as seen.
    HoldTimerExpired(u8),
    /// 5, RFC 4271 section 6.6, subcodes RFC 6608.
    FiniteStateMachine(FsmSubcode),
    /// 6, RFC 4271 section 6.7, subcodes RFC 4486.
    Cease(CeaseSubcode),
    /// 7, RFC 7313 section 5.
    RouteRefresh(RouteRefreshSubcode),
    /// An error code evpnd does not know, kept as seen.
    Other { code: u8, subcode: u8 },
}

impl ErrorCode {
    pub fn from_wire(code: u8, subcode: u8) -> Self {
        match code {
            1 => Self::MessageHeader(HeaderSubcode::from_u8(subcode)),
            2 => Self::Open(OpenSubcode::from_u8(subcode)),
            3 => Self::Update(UpdateSubcode::from_u8(subcode)),
            4 => Self::HoldTimerExpired(subcode),
            5 => Self::FiniteStateMachine(FsmSubcode::from_u8(subcode)),
            6 => Self::Cease(CeaseSubcode::from_u8(subcode)),
            7 => Self::RouteRefresh(RouteRefreshSubcode::from_u8(subcode)),
            code => Self::Other { code, subcode },
        }
    }

    /// (code, subcode) as sent on the wire.
    pub fn to_wire(self) -> (u8, u8) {
        match self {
            Self::MessageHeader(s) => (1, s.to_u8()),
            Self::Open(s) => (2, s.to_u8()),
            Self::Update(s) => (3, s.to_u8()),
            Self::HoldTimerExpired(s) => (4, s),
            Self::FiniteStateMachine(s) => (5, s.to_u8()),
            Self::Cease(s) => (6, s.to_u8()),
            Self::RouteRefresh(s) => (7, s.to_u8()),
            Self::Other { code, subcode } => (code, subcode),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MessageHeader(s) => write!(f, "Message Header Error/{s}"),
            Self::Open(s) => write!(f, "OPEN Message Error/{s}"),
            Self::Update(s) => write!(f, "UPDATE Message Error/{s}"),
            Self::HoldTimerExpired(0) => f.write_str("Hold Timer Expired"),
            Self::HoldTimerExpired(s) => write!(f, "Hold Timer Expired/subcode {s}"),
            Self::FiniteStateMachine(s) => write!(f, "Finite State Machine Error/{s}"),
            Self::Cease(s) => write!(f, "Cease/{s}"),
            Self::RouteRefresh(s) => write!(f, "ROUTE-REFRESH Message Error/{s}"),
            Self::Other { code, subcode } => write!(f, "error code {code}/subcode {subcode}"),
        }
    }
}

/// NOTIFICATION message body (RFC 4271 section 4.5).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Error code    | Error subcode |   Data (variable)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub code: ErrorCode,
    #[serde(serialize_with = "super::mac::serialize_hex")]
    pub data: Bytes,
}

/// RFC 9003 section 2: the Shutdown Communication is at most 255 octets.
pub const MAX_SHUTDOWN_COMMUNICATION: usize = 255;

impl Notification {
    pub fn new(code: ErrorCode, data: impl Into<Bytes>) -> Self {
        Self {
            code,
            data: data.into(),
        }
    }

    pub fn cease(subcode: CeaseSubcode) -> Self {
        Self::new(ErrorCode::Cease(subcode), Bytes::new())
    }

    /// Cease / Administrative Shutdown or Reset with a Shutdown Communication
    /// (RFC 9003 section 2: one length octet, then UTF-8). A message longer
    /// than 255 octets is cut at a character boundary.
    pub fn cease_with_communication(subcode: CeaseSubcode, message: &str) -> Self {
        let mut end = message.len().min(MAX_SHUTDOWN_COMMUNICATION);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let text = &message.as_bytes()[..end];
        let mut data = BytesMut::with_capacity(1 + text.len());
        data.put_u8(text.len() as u8);
        data.put_slice(text);
        Self::new(ErrorCode::Cease(subcode), data.freeze())
    }

    /// Cease / Maximum Number of Prefixes Reached (RFC 4486 section 4): the
    /// Data field "MAY contain" the AFI (2 octets), the SAFI (1 octet) and
    /// the upper bound (4 octets); evpnd always sends them, as FRR does.
    pub fn maximum_prefixes(family: Family, limit: u32) -> Self {
        let mut data = BytesMut::with_capacity(7);
        data.put_u16(family.afi.0);
        data.put_u8(family.safi.0);
        data.put_u32(limit);
        Self::new(ErrorCode::Cease(CeaseSubcode::MaximumPrefixesReached), data)
    }

    /// The family and limit of a Maximum Number of Prefixes Reached, when its
    /// Data has the RFC 4486 form.
    pub fn maximum_prefixes_data(&self) -> Option<(Family, u32)> {
        if self.code != ErrorCode::Cease(CeaseSubcode::MaximumPrefixesReached) {
            return None;
        }
        let d: &[u8; 7] = self.data.as_ref().try_into().ok()?;
        let family = Family::new(Afi(u16::from_be_bytes([d[0], d[1]])), Safi(d[2]));
        Some((family, u32::from_be_bytes([d[3], d[4], d[5], d[6]])))
    }

    /// The RFC 9003 Shutdown Communication, for Cease subcodes 2 and 4, when
    /// the data is a well-formed length-prefixed UTF-8 string.
    pub fn shutdown_communication(&self) -> Option<&str> {
        match self.code {
            ErrorCode::Cease(
                CeaseSubcode::AdministrativeShutdown | CeaseSubcode::AdministrativeReset,
            ) => {
                let (&len, text) = self.data.split_first()?;
                let text = text.get(..usize::from(len))?;
                std::str::from_utf8(text).ok()
            }
            _ => None,
        }
    }

    pub fn decode(body: &[u8]) -> DecodeResult<Self> {
        let mut r = Reader::new(body);
        Self::decode_from(&mut r)
    }

    pub(crate) fn decode_from(r: &mut Reader<'_>) -> DecodeResult<Self> {
        let code = r.u8("notification error code")?;
        let subcode = r.u8("notification error subcode")?;
        let data = Bytes::copy_from_slice(r.rest());
        Ok(Self::new(ErrorCode::from_wire(code, subcode), data))
    }

    pub fn encode(&self, out: &mut BytesMut) {
        let (code, subcode) = self.code.to_wire();
        out.put_u8(code);
        out.put_u8(subcode);
        out.put_slice(&self.data);
    }
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(text) = self.shutdown_communication() {
            write!(f, " \"{}\"", text.escape_default())?;
        } else if let Some((family, limit)) = self.maximum_prefixes_data() {
            write!(f, " ({family}, limit {limit})")?;
        } else if !self.data.is_empty() {
            write!(f, " data ")?;
            for b in self.data.iter() {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_code_and_subcode_names() {
        let n = Notification::cease(CeaseSubcode::ConnectionCollisionResolution);
        assert_eq!(n.to_string(), "Cease/Connection Collision Resolution");
        let n = Notification::new(ErrorCode::HoldTimerExpired(0), Bytes::new());
        assert_eq!(n.to_string(), "Hold Timer Expired");
        let n = Notification::new(ErrorCode::Open(OpenSubcode::Other(42)), vec![1u8]);
        assert_eq!(n.to_string(), "OPEN Message Error/subcode 42 data 01");
    }

    #[test]
    fn round_trips_cease_out_of_resources() {
        let wire = [6u8, 8];
        let n = Notification::decode(&wire).unwrap();
        assert_eq!(n.code, ErrorCode::Cease(CeaseSubcode::OutOfResources));
        let mut out = BytesMut::new();
        n.encode(&mut out);
        assert_eq!(&out[..], &wire);
    }

    #[test]
    fn shutdown_communication_rfc9003() {
        let n = Notification::cease_with_communication(
            CeaseSubcode::AdministrativeShutdown,
            "maintenance",
        );
        assert_eq!(n.data[0], 11);
        assert_eq!(n.shutdown_communication(), Some("maintenance"));
        assert_eq!(
            n.to_string(),
            "Cease/Administrative Shutdown \"maintenance\""
        );
        let long = "é".repeat(200);
        let n = Notification::cease_with_communication(CeaseSubcode::AdministrativeReset, &long);
        assert_eq!(n.data.len(), 1 + 254, "cut at a char boundary below 255");
        assert_eq!(n.shutdown_communication().map(str::len), Some(254));
        // A length octet beyond the data is not a communication.
        let bad = Notification::new(
            ErrorCode::Cease(CeaseSubcode::AdministrativeShutdown),
            vec![9u8, b'a'],
        );
        assert_eq!(bad.shutdown_communication(), None);
    }

    #[test]
    fn maximum_prefixes_carries_the_family_and_the_limit_rfc4486() {
        let n = Notification::maximum_prefixes(Family::L2VPN_EVPN, 1000);
        let mut out = BytesMut::new();
        n.encode(&mut out);
        // Cease (6) / 1, AFI 25, SAFI 70, 1000.
        assert_eq!(&out[..], &[6, 1, 0, 25, 70, 0, 0, 3, 0xe8]);
        let back = Notification::decode(&out).unwrap();
        assert_eq!(back, n);
        assert_eq!(
            back.maximum_prefixes_data(),
            Some((Family::L2VPN_EVPN, 1000))
        );
        assert_eq!(
            back.to_string(),
            "Cease/Maximum Number of Prefixes Reached (l2vpn-evpn, limit 1000)"
        );
        // Without the optional data (another speaker's choice): just the code.
        let bare = Notification::cease(CeaseSubcode::MaximumPrefixesReached);
        assert_eq!(bare.maximum_prefixes_data(), None);
    }

    #[test]
    fn too_short_is_an_error() {
        assert!(Notification::decode(&[6]).is_err());
    }

    proptest! {
        #[test]
        fn wire_round_trip(bytes in proptest::collection::vec(any::<u8>(), 2..64)) {
            let n = Notification::decode(&bytes).unwrap();
            let mut out = BytesMut::new();
            n.encode(&mut out);
            prop_assert_eq!(&out[..], &bytes[..]);
            prop_assert_eq!(Notification::decode(&out).unwrap(), n);
        }
    }
}
