//! A whole BGP message: header (RFC 4271 section 4.1) plus the body of its
//! type. The per-session options decoding depends on live in `context.rs`
//! (re-exported here); how they follow from two OPENs is here.

pub use super::context::{DecodeOptions, EncodeOptions};
use super::error::{DecodeError, DecodeErrorKind};
use super::header::{
    HEADER_LEN, Header, HeaderError, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, MessageType,
};
use super::notification::{ErrorCode, Notification, RouteRefreshSubcode};
use super::open::{Open, open_error};
use super::reader::Reader;
use super::rfc7606::{ErrorAction, UpdateProblem};
use super::route_refresh::RouteRefresh;
use super::update::Update;
use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use std::fmt;
use thiserror::Error;

impl DecodeOptions {
    /// The options for messages `remote` sends to `local`, from the two
    /// OPENs. Swap the arguments for the messages `local` sends.
    /// 4-octet AS and Extended Message need both sides (RFC 6793 section 4,
    /// RFC 8654 section 3); ADD-PATH needs the receiver to announce Receive
    /// and the sender Send for the family (RFC 7911 section 5).
    pub fn negotiated(local: &Open, remote: &Open) -> Self {
        let add_path = local
            .add_path()
            .filter(|l| l.can_receive())
            .filter(|l| {
                remote
                    .add_path()
                    .any(|r| r.family == l.family && r.can_send())
            })
            .map(|l| l.family)
            .collect();
        Self {
            max_message_len: if local.extended_message() && remote.extended_message() {
                MAX_EXTENDED_MESSAGE_LEN
            } else {
                MAX_MESSAGE_LEN
            },
            four_octet_as: local.four_octet_as().is_some() && remote.four_octet_as().is_some(),
            add_path,
        }
    }
}

/// A BGP message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

/// Why a message could not be decoded; [`MessageError::notification`] says
/// what to send back.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MessageError {
    #[error("message header: {0}")]
    Header(#[from] HeaderError),
    /// The buffer is not exactly the one message its header announces.
    #[error("message framing: {0}")]
    Framing(DecodeError),
    #[error("OPEN: {0}")]
    Open(DecodeError),
    #[error("UPDATE: {0}")]
    Update(UpdateProblem),
    #[error("NOTIFICATION: {0}")]
    Notification(DecodeError),
    /// RFC 7313 section 5: the whole message goes back as data.
    #[error("ROUTE-REFRESH: {error}")]
    RouteRefresh { error: DecodeError, message: Bytes },
}

impl MessageError {
    /// The NOTIFICATION to send before closing, if any: none for a bad
    /// NOTIFICATION (RFC 4271 section 6.4), none for UPDATE problems RFC
    /// 7606 handles without a reset.
    pub fn notification(&self) -> Option<Notification> {
        match self {
            Self::Header(h) => Some(h.notification()),
            Self::Framing(_) => Some(Notification::new(
                ErrorCode::MessageHeader(super::notification::HeaderSubcode::BadMessageLength),
                Bytes::new(),
            )),
            Self::Open(e) => Some(open_error(e)),
            Self::Update(p) => match p.action() {
                ErrorAction::SessionReset(n) => Some(n),
                _ => None,
            },
            Self::Notification(_) => None,
            Self::RouteRefresh { message, .. } => Some(Notification::new(
                ErrorCode::RouteRefresh(RouteRefreshSubcode::InvalidMessageLength),
                message.clone(),
            )),
        }
    }
}

/// A message that cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("message of {length} octets exceeds the maximum {max}")]
    TooLong { length: usize, max: usize },
}

impl Message {
    pub fn message_type(&self) -> MessageType {
        match self {
            Self::Open(_) => MessageType::Open,
            Self::Update(_) => MessageType::Update,
            Self::Notification(_) => MessageType::Notification,
            Self::Keepalive => MessageType::Keepalive,
            Self::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }

    /// Decode exactly one message (`buf` as returned by `header::frame`).
    /// UPDATEs are decoded strictly: any RFC 7606 problem is an error. A
    /// session should use [`Message::decode_lenient`].
    pub fn decode(buf: &[u8], opts: &DecodeOptions) -> Result<Message, MessageError> {
        let (message, problems) = Self::decode_lenient(buf, opts)?;
        match problems.into_iter().next() {
            Some(problem) => Err(MessageError::Update(problem)),
            None => Ok(message),
        }
    }

    /// Decode exactly one message; an UPDATE comes back with its RFC 7606
    /// problems (see `rfc7606::classify`), malformed attributes left out.
    pub fn decode_lenient(
        buf: &[u8],
        opts: &DecodeOptions,
    ) -> Result<(Message, Vec<UpdateProblem>), MessageError> {
        let truncated = || {
            MessageError::Framing(DecodeError::new(
                "message",
                buf.len(),
                DecodeErrorKind::Truncated {
                    needed: HEADER_LEN,
                    available: buf.len(),
                },
            ))
        };
        let header = Header::decode(buf, opts.max_message_len)?.ok_or_else(truncated)?;
        let length = usize::from(header.length);
        if buf.len() != length {
            let kind = if buf.len() < length {
                DecodeErrorKind::Truncated {
                    needed: length,
                    available: buf.len(),
                }
            } else {
                DecodeErrorKind::Trailing(buf.len() - length)
            };
            return Err(MessageError::Framing(DecodeError::new("message", 0, kind)));
        }
        let body = &buf[HEADER_LEN..];
        let mut r = Reader::with_base(body, HEADER_LEN);
        let message = match header.message_type {
            MessageType::Open => {
                Message::Open(Open::decode_from(&mut r).map_err(MessageError::Open)?)
            }
            MessageType::Update => {
                let l = Update::decode_lenient_at(body, HEADER_LEN, opts)
                    .map_err(MessageError::Update)?;
                return Ok((Message::Update(l.update), l.problems));
            }
            MessageType::Notification => Message::Notification(
                Notification::decode_from(&mut r).map_err(MessageError::Notification)?,
            ),
            // Header::decode checked the length is exactly 19.
            MessageType::Keepalive => Message::Keepalive,
            MessageType::RouteRefresh => {
                Message::RouteRefresh(RouteRefresh::decode_from(&mut r).map_err(|error| {
                    MessageError::RouteRefresh {
                        error,
                        message: Bytes::copy_from_slice(buf),
                    }
                })?)
            }
        };
        Ok((message, Vec::new()))
    }

    /// Append the whole message (header included) to `out`. Fails, leaving
    /// `out` as it was, if it would exceed the maximum length (4096 for
    /// OPEN and KEEPALIVE always, RFC 8654 section 4).
    pub fn encode(&self, out: &mut BytesMut, opts: &EncodeOptions) -> Result<(), EncodeError> {
        let start = out.len();
        out.put_slice(&super::header::MARKER);
        out.put_u16(0);
        out.put_u8(self.message_type() as u8);
        match self {
            Self::Open(o) => o.encode(out),
            Self::Update(u) => u.encode(out, opts),
            Self::Notification(n) => n.encode(out),
            Self::Keepalive => {}
            Self::RouteRefresh(rr) => rr.encode(out),
        }
        let length = out.len() - start;
        let max = match self {
            Self::Open(_) | Self::Keepalive => MAX_MESSAGE_LEN,
            _ => opts.max_message_len.min(MAX_EXTENDED_MESSAGE_LEN),
        };
        if length > max {
            out.truncate(start);
            return Err(EncodeError::TooLong { length, max });
        }
        out[start + 16..start + 18].copy_from_slice(&(length as u16).to_be_bytes());
        Ok(())
    }

    /// The message as one buffer.
    pub fn to_bytes(&self, opts: &EncodeOptions) -> Result<Bytes, EncodeError> {
        let mut out = BytesMut::new();
        self.encode(&mut out, opts)?;
        Ok(out.freeze())
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open(o) => o.fmt(f),
            Self::Update(u) => u.fmt(f),
            Self::Notification(n) => write!(f, "NOTIFICATION {n}"),
            Self::Keepalive => f.write_str("KEEPALIVE"),
            Self::RouteRefresh(rr) => rr.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::tests::hex;
    use crate::capability::{AddPathFamily, Capability};
    use crate::family::Family;
    use crate::notification::CeaseSubcode;
    use crate::update::tests::arb_update;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn opts() -> DecodeOptions {
        DecodeOptions {
            four_octet_as: true,
            ..DecodeOptions::default()
        }
    }

    const REFLECTED: &str = "ffffffffffffffffffffffffffffffff007a0200000063900e001c00194604c61300030003110001c613000300020000000020c613000340010100500200008004040000000040050400000064800904c6130003800a04c6130004c010100002fde800000000030c000000000008c016090006000000c6130003";

    #[test]
    fn keepalive_and_notification_round_trip() {
        let ka = hex("ffffffffffffffffffffffffffffffff001304");
        assert_eq!(Message::decode(&ka, &opts()).unwrap(), Message::Keepalive);
        let n = Message::Notification(Notification::cease(
            CeaseSubcode::ConnectionCollisionResolution,
        ));
        let wire = n.to_bytes(&opts()).unwrap();
        assert_eq!(&wire[16..], &[0, 21, 3, 6, 7]);
        assert_eq!(Message::decode(&wire, &opts()).unwrap(), n);
    }

    #[test]
    fn framing_errors() {
        let ka = hex("ffffffffffffffffffffffffffffffff001304");
        let mut long = ka.clone();
        long.push(0);
        assert!(matches!(
            Message::decode(&long, &opts()),
            Err(MessageError::Framing(_))
        ));
        assert!(matches!(
            Message::decode(&ka[..10], &opts()),
            Err(MessageError::Framing(_))
        ));
        // ROUTE-REFRESH of 5 octets: RFC 7313 section 5 answer with the message.
        let rr = hex("ffffffffffffffffffffffffffffffff0018050019004600");
        let err = Message::decode(&rr, &opts()).unwrap_err();
        let n = err.notification().unwrap();
        assert_eq!(
            n.code,
            ErrorCode::RouteRefresh(RouteRefreshSubcode::InvalidMessageLength)
        );
        assert_eq!(&n.data[..], &rr[..]);
        let short = hex("ffffffffffffffffffffffffffffffff001605001900");
        let n = Message::decode(&short, &opts())
            .unwrap_err()
            .notification()
            .unwrap();
        assert_eq!(
            n.code,
            ErrorCode::RouteRefresh(RouteRefreshSubcode::InvalidMessageLength)
        );
    }

    #[test]
    fn reflected_update_keeps_extended_length_flags() {
        let wire = hex(REFLECTED);
        let Message::Update(u) = Message::decode(&wire, &opts()).unwrap() else {
            panic!("not an UPDATE");
        };
        assert!(u.attributes[0].flags.extended_length());
        assert_eq!(u.originator_id(), Some(Ipv4Addr::new(198, 19, 0, 3)));
        assert_eq!(u.to_string().split(';').count(), 10);
        assert_eq!(
            &Message::Update(u).to_bytes(&opts()).unwrap()[..],
            &wire[..]
        );
    }

    #[test]
    fn encode_refuses_oversized_messages() {
        let big = Update {
            nlri: Bytes::from(vec![0u8; 5000]),
            ..Update::default()
        };
        let mut out = BytesMut::from(&b"keep"[..]);
        let err = Message::Update(big.clone())
            .encode(&mut out, &opts())
            .unwrap_err();
        assert_eq!(
            err,
            EncodeError::TooLong {
                length: 5023,
                max: 4096
            }
        );
        assert_eq!(&out[..], b"keep");
        let ext = DecodeOptions {
            max_message_len: MAX_EXTENDED_MESSAGE_LEN,
            ..opts()
        };
        assert!(Message::Update(big).encode(&mut out, &ext).is_ok());
    }

    #[test]
    fn negotiates_from_both_opens() {
        let id = Ipv4Addr::new(198, 18, 0, 1);
        let local = Open::new(
            65000,
            9,
            id,
            vec![
                Capability::FourOctetAs(65000),
                Capability::ExtendedMessage,
                Capability::AddPath(vec![AddPathFamily {
                    family: Family::L2VPN_EVPN,
                    send_receive: 1,
                }]),
            ],
        );
        let remote = Open::new(
            65000,
            9,
            id,
            vec![
                Capability::FourOctetAs(65000),
                Capability::AddPath(vec![AddPathFamily {
                    family: Family::L2VPN_EVPN,
                    send_receive: 3,
                }]),
            ],
        );
        let rx = DecodeOptions::negotiated(&local, &remote);
        assert!(rx.four_octet_as);
        assert_eq!(rx.max_message_len, MAX_MESSAGE_LEN);
        assert_eq!(rx.add_path, [Family::L2VPN_EVPN]);
        let tx = DecodeOptions::negotiated(&remote, &local);
        assert!(tx.add_path.is_empty(), "local only receives");
    }

    fn arb_message() -> impl Strategy<Value = Message> {
        prop_oneof![
            Just(Message::Keepalive),
            arb_update().prop_map(Message::Update),
            (
                any::<[u8; 2]>(),
                proptest::collection::vec(any::<u8>(), 0..20)
            )
                .prop_map(|(c, d)| {
                    Message::Notification(Notification::new(ErrorCode::from_wire(c[0], c[1]), d))
                }),
            any::<[u8; 4]>().prop_map(|b| Message::RouteRefresh(RouteRefresh::decode(&b).unwrap())),
        ]
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Message::decode(&bytes, &opts());
        }

        #[test]
        fn random_bodies_behind_a_valid_header_never_panic(
            t in 1u8..=5,
            body in proptest::collection::vec(any::<u8>(), 0..300),
            four: bool,
        ) {
            let mut buf = vec![0xff; 16];
            buf.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
            buf.push(t);
            buf.extend_from_slice(&body);
            let o = DecodeOptions { four_octet_as: four, add_path: vec![Family::IPV4_UNICAST], ..opts() };
            let _ = Message::decode_lenient(&buf, &o);
        }

        #[test]
        fn mutated_valid_messages_never_panic(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
            fix_header: bool,
        ) {
            let mut buf = hex(REFLECTED);
            for (at, byte) in flips {
                let i = at.index(buf.len());
                buf[i] = byte;
            }
            if fix_header {
                // Reach the body decoders rather than the header checks.
                let len = buf.len() as u16;
                buf[..16].fill(0xff);
                buf[16..18].copy_from_slice(&len.to_be_bytes());
                buf[18] = 2;
            }
            let _ = Message::decode_lenient(&buf, &opts());
            let _ = Message::decode_lenient(&buf[..cut.index(buf.len())], &opts());
        }

        #[test]
        fn round_trip(m in arb_message()) {
            if let Ok(wire) = m.to_bytes(&opts()) {
                let (back, _) = Message::decode_lenient(&wire, &opts()).unwrap();
                prop_assert_eq!(&back.to_bytes(&opts()).unwrap()[..], &wire[..]);
            }
        }
    }
}
