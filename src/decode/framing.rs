//! BGP message framing: a byte stream split into messages by the
//! header's Length, resynchronising on the marker after a bad header.

use evpnd_wire::header::{HEADER_LEN, HeaderError, MARKER};
use evpnd_wire::rfc7606::ErrorAction;
use thiserror::Error;

/// Why a stream could not be split into messages at some point.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub(super) enum FramingError {
    /// The header is unusable (RFC 4271 section 6.1); decoding resumes at
    /// the next marker.
    #[error("message header at stream offset {offset}: {error}")]
    Header { offset: u64, error: HeaderError },
    /// The stream ended inside a message.
    #[error("input ends inside a message at stream offset {offset}: {have} of {need} octets")]
    Incomplete {
        offset: u64,
        have: usize,
        need: usize,
    },
    /// Octets never seen (not captured, or lost); decoding resumes at the
    /// next marker after them.
    #[error("{missing} octets missing from the capture at stream offset {offset}")]
    Gap { offset: u64, missing: u64 },
}

impl FramingError {
    /// What a session would do (RFC 4271 section 6.1).
    pub(super) fn action(&self) -> Option<String> {
        match self {
            Self::Header { error, .. } => {
                Some(ErrorAction::SessionReset(error.notification()).to_string())
            }
            Self::Incomplete { .. } | Self::Gap { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Framed {
    Message(Vec<u8>),
    Error(FramingError),
}

/// Splits a byte stream into messages by the header's Length (RFC 4271
/// section 4.1), resynchronising on the marker after a bad header.
#[derive(Debug, Default)]
pub(super) struct Framer {
    buf: Vec<u8>,
    /// Start of the unconsumed octets in `buf`.
    start: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    /// Skipping to the next marker.
    resync: bool,
}

impl Framer {
    pub(super) fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    pub(super) fn pending(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    fn advance(&mut self, n: usize) {
        let n = n.min(self.pending().len());
        self.start += n;
        self.offset += n as u64;
    }

    /// The next complete message or framing error, `None` until more data.
    pub(super) fn next_item(&mut self) -> Option<Framed> {
        if self.resync {
            let pending = self.pending();
            match pending.windows(MARKER.len()).position(|w| w == MARKER) {
                Some(at) => {
                    self.advance(at);
                    self.resync = false;
                }
                None => {
                    // Keep what could be the start of a marker.
                    let keep = pending.len().min(MARKER.len() - 1);
                    self.advance(pending.len() - keep);
                    return None;
                }
            }
        }
        let header: [u8; HEADER_LEN] = self.pending().get(..HEADER_LEN)?.try_into().ok()?;
        let offset = self.offset;
        if header[..MARKER.len()] != MARKER {
            self.resync = true;
            self.advance(1);
            return Some(Framed::Error(FramingError::Header {
                offset,
                error: HeaderError::BadMarker,
            }));
        }
        let length = u16::from_be_bytes([header[16], header[17]]);
        if usize::from(length) < HEADER_LEN {
            self.resync = true;
            self.advance(1);
            return Some(Framed::Error(FramingError::Header {
                offset,
                error: HeaderError::BadLength {
                    length,
                    message_type: header[18],
                },
            }));
        }
        let message = self.pending().get(..usize::from(length))?.to_vec();
        self.advance(message.len());
        Some(Framed::Message(message))
    }

    /// End of the stream: an error if it stopped inside a message.
    pub(super) fn finish(&mut self) -> Option<FramingError> {
        let pending = self.pending();
        if self.resync || pending.is_empty() {
            return None;
        }
        let need = match pending.get(16..18) {
            Some(&[high, low]) => usize::from(u16::from_be_bytes([high, low])),
            _ => HEADER_LEN,
        };
        let error = FramingError::Incomplete {
            offset: self.offset,
            have: pending.len(),
            need,
        };
        self.advance(pending.len());
        Some(error)
    }

    /// `missing` octets will never arrive: drop the partial message and
    /// resume at the next marker.
    pub(super) fn skip_gap(&mut self, missing: u64) -> FramingError {
        let error = FramingError::Gap {
            offset: self.offset + self.pending().len() as u64,
            missing,
        };
        self.advance(self.pending().len());
        self.offset += missing;
        self.resync = true;
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_util::*;

    #[test]
    fn framer_splits_waits_and_resynchronises() {
        let mut framer = Framer::default();
        let ka = hex(KEEPALIVE);
        framer.push(&ka[..10]);
        assert_eq!(framer.next_item(), None);
        framer.push(&ka[10..]);
        framer.push(b"junk");
        framer.push(&ka);
        assert_eq!(framer.next_item(), Some(Framed::Message(ka.clone())));
        assert_eq!(
            framer.next_item(),
            Some(Framed::Error(FramingError::Header {
                offset: 19,
                error: HeaderError::BadMarker
            }))
        );
        assert_eq!(framer.next_item(), Some(Framed::Message(ka.clone())));
        assert_eq!(framer.next_item(), None);
        framer.push(&ka[..5]);
        assert_eq!(
            framer.finish(),
            Some(FramingError::Incomplete {
                offset: 42,
                have: 5,
                need: 19
            })
        );
    }

    #[test]
    fn framer_rejects_a_length_below_the_header() {
        let mut framer = Framer::default();
        framer.push(&hex("ffffffffffffffffffffffffffffffff000504"));
        let Some(Framed::Error(error)) = framer.next_item() else {
            panic!("expected an error");
        };
        assert_eq!(
            error.action().unwrap(),
            "session-reset (Message Header Error/Bad Message Length data 0005)"
        );
    }
}
