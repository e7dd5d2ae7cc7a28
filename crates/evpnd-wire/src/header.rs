//! BGP message header (RFC 4271 section 4.1) and stream framing.

use super::notification::{ErrorCode, HeaderSubcode, Notification};
use bytes::{BufMut, BytesMut};
use serde::Serialize;
use std::fmt;
use thiserror::Error;

/// RFC 4271 section 4.1: the marker is all ones.
pub const MARKER: [u8; 16] = [0xff; 16];
/// Marker (16) + Length (2) + Type (1).
pub const HEADER_LEN: usize = 19;
/// RFC 4271 section 4.1: the maximum message size without RFC 8654.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// RFC 8654 section 4: the maximum once Extended Message is negotiated
/// (for every message type but OPEN and KEEPALIVE, which keep 4096).
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;

/// Message type (RFC 4271 section 4.1; RFC 2918 section 3 ROUTE-REFRESH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum MessageType {
    Open = 1,
    Update = 2,
    Notification = 3,
    Keepalive = 4,
    RouteRefresh = 5,
}

impl MessageType {
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            1 => Self::Open,
            2 => Self::Update,
            3 => Self::Notification,
            4 => Self::Keepalive,
            5 => Self::RouteRefresh,
            _ => return None,
        })
    }

    /// The smallest length the header check accepts (RFC 4271 section 6.1:
    /// OPEN 29, UPDATE 23, KEEPALIVE 19, NOTIFICATION 21). ROUTE-REFRESH
    /// length errors are answered with a ROUTE-REFRESH Message Error (RFC
    /// 7313 section 5), so its body decoder checks the length instead.
    pub fn min_len(self) -> usize {
        match self {
            Self::Open => 29,
            Self::Update => 23,
            Self::Notification => 21,
            Self::Keepalive | Self::RouteRefresh => HEADER_LEN,
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Open => "OPEN",
            Self::Update => "UPDATE",
            Self::Notification => "NOTIFICATION",
            Self::Keepalive => "KEEPALIVE",
            Self::RouteRefresh => "ROUTE-REFRESH",
        })
    }
}

/// A header the session must answer with a Message Header Error
/// (RFC 4271 section 6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum HeaderError {
    #[error("marker is not all ones")]
    BadMarker,
    #[error("bad message length {length} for type {message_type}")]
    BadLength { length: u16, message_type: u8 },
    #[error("bad message type {0}")]
    BadType(u8),
}

impl HeaderError {
    /// The NOTIFICATION RFC 4271 section 6.1 prescribes: Connection Not
    /// Synchronized; Bad Message Length with the erroneous Length field as
    /// data; Bad Message Type with the erroneous Type field as data.
    pub fn notification(&self) -> Notification {
        match *self {
            Self::BadMarker => Notification::new(
                ErrorCode::MessageHeader(HeaderSubcode::ConnectionNotSynchronized),
                bytes::Bytes::new(),
            ),
            Self::BadLength { length, .. } => Notification::new(
                ErrorCode::MessageHeader(HeaderSubcode::BadMessageLength),
                length.to_be_bytes().to_vec(),
            ),
            Self::BadType(t) => Notification::new(
                ErrorCode::MessageHeader(HeaderSubcode::BadMessageType),
                vec![t],
            ),
        }
    }
}

/// Message header (RFC 4271 section 4.1).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                                                               +
/// |                           Marker                              |
/// +                                                               +
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Length               |      Type     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Header {
    /// Total message length including the header.
    pub length: u16,
    pub message_type: MessageType,
}

impl Header {
    /// Decode and validate the first 19 bytes of `buf` (which must hold at
    /// least that many; see [`frame`]). `max_len` is 4096, or 65535 once RFC
    /// 8654 Extended Message is negotiated.
    pub fn decode(buf: &[u8], max_len: usize) -> Result<Option<Header>, HeaderError> {
        let Some(head) = buf.get(..HEADER_LEN) else {
            return Ok(None);
        };
        if head[..16] != MARKER {
            return Err(HeaderError::BadMarker);
        }
        let length = u16::from_be_bytes([head[16], head[17]]);
        let type_code = head[18];
        let message_type =
            MessageType::from_u8(type_code).ok_or(HeaderError::BadType(type_code))?;
        // RFC 8654 section 4: OPEN and KEEPALIVE never exceed 4096.
        let max = match message_type {
            MessageType::Open | MessageType::Keepalive => MAX_MESSAGE_LEN,
            _ => max_len.clamp(MAX_MESSAGE_LEN, MAX_EXTENDED_MESSAGE_LEN),
        };
        let len = usize::from(length);
        let fixed_size = message_type == MessageType::Keepalive && len != HEADER_LEN;
        if len < message_type.min_len() || len > max || fixed_size {
            return Err(HeaderError::BadLength {
                length,
                message_type: type_code,
            });
        }
        Ok(Some(Header {
            length,
            message_type,
        }))
    }

    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&MARKER);
        out.put_u16(self.length);
        out.put_u8(self.message_type as u8);
    }
}

/// Stream framing for the session layer: `Ok(None)` while `buf` does not yet
/// hold a whole message, else the length of the first message. Header
/// errors are reported as soon as the 19 header bytes are present.
pub fn frame(buf: &[u8], max_len: usize) -> Result<Option<usize>, HeaderError> {
    match Header::decode(buf, max_len)? {
        Some(h) if buf.len() >= usize::from(h.length) => Ok(Some(usize::from(h.length))),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEEPALIVE: [u8; 19] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0x00, 0x13, 0x04,
    ];

    #[test]
    fn frames_a_keepalive_and_waits_for_partial_input() {
        assert_eq!(frame(&KEEPALIVE[..10], MAX_MESSAGE_LEN), Ok(None));
        assert_eq!(frame(&KEEPALIVE, MAX_MESSAGE_LEN), Ok(Some(19)));
        let mut two = KEEPALIVE.to_vec();
        two.extend_from_slice(&KEEPALIVE[..5]);
        assert_eq!(frame(&two, MAX_MESSAGE_LEN), Ok(Some(19)));
    }

    #[test]
    fn header_errors_map_to_rfc4271_6_1_notifications() {
        let mut bad = KEEPALIVE;
        bad[3] = 0;
        assert_eq!(frame(&bad, MAX_MESSAGE_LEN), Err(HeaderError::BadMarker));
        assert_eq!(
            HeaderError::BadMarker.notification().code,
            ErrorCode::MessageHeader(HeaderSubcode::ConnectionNotSynchronized)
        );

        let mut bad = KEEPALIVE;
        bad[18] = 9;
        let err = frame(&bad, MAX_MESSAGE_LEN).unwrap_err();
        assert_eq!(err, HeaderError::BadType(9));
        assert_eq!(&err.notification().data[..], &[9]);

        // A KEEPALIVE is exactly 19 bytes.
        let mut bad = KEEPALIVE;
        bad[17] = 20;
        let err = frame(&bad, MAX_MESSAGE_LEN).unwrap_err();
        assert_eq!(&err.notification().data[..], &[0, 20]);
    }

    #[test]
    fn extended_message_length_only_when_negotiated() {
        let mut update = KEEPALIVE;
        update[18] = 2;
        update[16..18].copy_from_slice(&5000u16.to_be_bytes());
        assert!(matches!(
            Header::decode(&update, MAX_MESSAGE_LEN),
            Err(HeaderError::BadLength { length: 5000, .. })
        ));
        assert_eq!(
            Header::decode(&update, MAX_EXTENDED_MESSAGE_LEN)
                .unwrap()
                .unwrap()
                .length,
            5000
        );
        // OPEN stays capped at 4096 (RFC 8654 section 4).
        update[18] = 1;
        assert!(Header::decode(&update, MAX_EXTENDED_MESSAGE_LEN).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(t in 1u8..=5, extra in 0u16..4000) {
            let message_type = MessageType::from_u8(t).unwrap();
            let length = if message_type == MessageType::Keepalive {
                19
            } else {
                message_type.min_len() as u16 + extra
            };
            let h = Header { length, message_type };
            let mut out = BytesMut::new();
            h.encode(&mut out);
            prop_assert_eq!(Header::decode(&out, MAX_MESSAGE_LEN).unwrap(), Some(h));
        }

        #[test]
        fn framing_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = frame(&bytes, MAX_EXTENDED_MESSAGE_LEN);
        }
    }
}
