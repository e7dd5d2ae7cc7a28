//! Netlink encoding and decoding for exactly the objects of
//! [`evpnd_core::dataplane::model`].
//!
//! Every netlink construction of evpnd lives here, so that a bump of the
//! pinned netlink crates (docs/netlink.md: API breaks in most minor
//! releases) touches this module only. The golden tests in
//! `tests/fixtures/netlink/` compare our bytes with what iproute2 sends for
//! the same object, so an encoding change in a bump fails CI.
//!
//! Message layout references: `include/uapi/linux/netlink.h` (nlmsghdr,
//! nlmsgerr), `include/uapi/linux/neighbour.h` (ndmsg, NDA_*, NTF_*),
//! `include/uapi/linux/rtnetlink.h` (RTM_*, RTNLGRP_*).

pub mod link;
pub mod neigh;
pub mod tunnel;

#[cfg(test)]
mod golden;

use thiserror::Error;

/// `struct nlmsghdr` is 16 bytes (netlink.h).
pub const NLMSG_HDRLEN: usize = 16;
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

pub const RTM_NEWNEIGH: u16 = 28;
pub const RTM_DELNEIGH: u16 = 29;
pub const RTM_GETNEIGH: u16 = 30;

/// Multicast group for neighbour (and bridge FDB) notifications
/// (rtnetlink.h `RTNLGRP_NEIGH`).
pub const RTNLGRP_NEIGH: u32 = 3;
/// `AF_BRIDGE` (socket.h).
pub const AF_BRIDGE: u8 = 7;

/// A link or tunnel message from the kernel that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopologyDecodeError {
    #[error("link message: {0}")]
    Link(String),
    #[error("tunnel message: {0}")]
    Tunnel(String),
}

pub use netlink_packet_core::{
    NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_MULTIPART, NLM_F_REPLACE,
    NLM_F_REQUEST,
};

/// Neighbour states (neighbour.h `NUD_*`). netlink-packet-route models the
/// state as a single-valued enum, but the kernel stores a bit set and evpnd
/// needs combinations (NOARP|PERMANENT for flood rows, REACHABLE|NOARP for
/// sticky MACs), so the state is kept as raw bits here (docs/netlink.md, gap 3).
pub mod nud {
    pub const INCOMPLETE: u16 = 0x01;
    pub const REACHABLE: u16 = 0x02;
    pub const STALE: u16 = 0x04;
    pub const DELAY: u16 = 0x08;
    pub const PROBE: u16 = 0x10;
    pub const FAILED: u16 = 0x20;
    pub const NOARP: u16 = 0x40;
    pub const PERMANENT: u16 = 0x80;
}

/// Neighbour flags (neighbour.h `NTF_*`): netlink-packet-route's typed
/// `NeighbourFlags` under the kernel's names (the crate calls NTF_SELF
/// `Own` and NTF_MASTER `Controller`).
pub mod ntf {
    use netlink_packet_route::neighbour::NeighbourFlags;
    pub const SELF: NeighbourFlags = NeighbourFlags::Own;
    pub const MASTER: NeighbourFlags = NeighbourFlags::Controller;
    pub const EXT_LEARNED: NeighbourFlags = NeighbourFlags::ExtLearned;
    pub const STICKY: NeighbourFlags = NeighbourFlags::Sticky;
}

/// Why a netlink buffer could not be decoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum NlDecodeError {
    #[error("netlink message at offset {offset} truncated: need {needed} bytes, have {available}")]
    Truncated {
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("netlink message at offset {offset} has invalid length {length}")]
    BadLength { offset: usize, length: u32 },
    #[error("neighbour message: {0}")]
    Neighbour(String),
}

/// One netlink message header, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NlHeader {
    pub length: u32,
    pub message_type: u16,
    pub flags: u16,
    pub sequence: u32,
    pub port: u32,
}

fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(buf.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?))
}

/// Iterates over the netlink messages packed in one datagram, checking every
/// length against the bytes actually present (netlink.h `NLMSG_OK`,
/// `NLMSG_NEXT`, 4-byte alignment).
pub struct Messages<'a> {
    buf: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Messages<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Messages {
            buf,
            offset: 0,
            failed: false,
        }
    }
}

impl<'a> Iterator for Messages<'a> {
    /// The header and the payload after it.
    type Item = Result<(NlHeader, &'a [u8]), NlDecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.buf.len() {
            return None;
        }
        let offset = self.offset;
        let rest = self.buf.get(offset..).unwrap_or_default();
        let header = (|| {
            Some(NlHeader {
                length: u32_at(rest, 0)?,
                message_type: u16_at(rest, 4)?,
                flags: u16_at(rest, 6)?,
                sequence: u32_at(rest, 8)?,
                port: u32_at(rest, 12)?,
            })
        })();
        let Some(header) = header else {
            self.failed = true;
            return Some(Err(NlDecodeError::Truncated {
                offset,
                needed: NLMSG_HDRLEN,
                available: rest.len(),
            }));
        };
        let length = header.length as usize;
        if length < NLMSG_HDRLEN {
            self.failed = true;
            return Some(Err(NlDecodeError::BadLength {
                offset,
                length: header.length,
            }));
        }
        let Some(payload) = rest.get(NLMSG_HDRLEN..length) else {
            self.failed = true;
            return Some(Err(NlDecodeError::Truncated {
                offset,
                needed: length,
                available: rest.len(),
            }));
        };
        self.offset = offset.saturating_add((length + 3) & !3);
        Some(Ok((header, payload)))
    }
}

/// The payload of an NLMSG_ERROR message (netlink.h `struct nlmsgerr`):
/// the negated errno (0 = ACK) and the header of the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NlAck {
    /// 0 for success, else a positive errno.
    pub errno: i32,
    /// Sequence number of the request this answers.
    pub sequence: u32,
}

/// Decodes an NLMSG_ERROR payload; `None` when it is too short to carry the
/// error code and the echoed request header.
pub fn parse_ack(payload: &[u8]) -> Option<NlAck> {
    let code = i32::from_ne_bytes(payload.get(0..4)?.try_into().ok()?);
    let sequence = u32_at(payload, 4 + 8)?;
    Some(NlAck {
        errno: code.checked_neg().unwrap_or(i32::MAX),
        sequence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_walk_rejects_lengths_beyond_the_buffer() {
        let mut buf = vec![0u8; 20];
        buf[0..4].copy_from_slice(&64u32.to_ne_bytes());
        let got: Vec<_> = Messages::new(&buf).collect();
        assert_eq!(
            got,
            vec![Err(NlDecodeError::Truncated {
                offset: 0,
                needed: 64,
                available: 20
            })]
        );
        buf[0..4].copy_from_slice(&3u32.to_ne_bytes());
        assert!(matches!(
            Messages::new(&buf).next(),
            Some(Err(NlDecodeError::BadLength { .. }))
        ));
    }

    #[test]
    fn message_walk_steps_over_aligned_messages() {
        let mut buf = Vec::new();
        for (seq, extra) in [(7u32, 1usize), (8, 4)] {
            let len = (NLMSG_HDRLEN + extra) as u32;
            buf.extend_from_slice(&len.to_ne_bytes());
            buf.extend_from_slice(&NLMSG_NOOP.to_ne_bytes());
            buf.extend_from_slice(&0u16.to_ne_bytes());
            buf.extend_from_slice(&seq.to_ne_bytes());
            buf.extend_from_slice(&0u32.to_ne_bytes());
            buf.resize(buf.len() + extra.next_multiple_of(4), 0);
        }
        let seqs: Vec<u32> = Messages::new(&buf)
            .map(|m| m.map(|(h, _)| h.sequence))
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        assert_eq!(seqs, vec![7, 8]);
    }

    #[test]
    fn ack_decodes_errno_and_sequence() {
        let mut p = Vec::new();
        p.extend_from_slice(&(-17i32).to_ne_bytes());
        p.extend_from_slice(&[0u8; 8]);
        p.extend_from_slice(&42u32.to_ne_bytes());
        p.extend_from_slice(&[0u8; 4]);
        assert_eq!(
            parse_ack(&p),
            Some(NlAck {
                errno: 17,
                sequence: 42
            })
        );
        assert_eq!(parse_ack(&p[..10]), None);
    }
}
