//! TCP stream reassembly, one direction of one connection at a time.
//!
//! Written by hand because no crate in the tree fills this gap:
//! pcap-parser and etherparse stop at one packet's TCP header and payload,
//! and etherparse's defrag module reassembles IP fragments, not TCP
//! streams. Turning segments into each direction's byte stream
//! (sequence-number wrap, reordering, retransmission, overlap, a bounded
//! backlog, and gaps reported rather than guessed) feeds the BGP framer
//! (`framing.rs`), which is evpnd's own concern.

use super::framing::{Framer, FramingError};
use std::collections::BTreeMap;

/// Out-of-order data held per direction before the missing octets are
/// declared lost.
const MAX_PENDING: usize = 8 << 20;

/// One direction of one TCP connection.
#[derive(Debug, Default)]
pub(super) struct Direction {
    /// Sequence number of stream offset 0.
    pub(super) isn: Option<u32>,
    /// Stream offset of the next octet expected.
    next: u64,
    /// Segments ahead of `next`, by stream offset.
    pub(super) pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    pub(super) framer: Framer,
}

impl Direction {
    /// Takes in a segment's payload starting at sequence number `seq`;
    /// contiguous data goes to the framer. Returns a gap error if the
    /// out-of-order backlog grew too large to wait for the missing data.
    pub(super) fn receive(&mut self, seq: u32, payload: &[u8]) -> Option<FramingError> {
        let isn = *self.isn.get_or_insert(seq);
        if payload.is_empty() {
            return None;
        }
        // Sequence numbers wrap (RFC 9293 section 3.4): place the segment
        // by its signed distance from the next expected octet.
        let expected = isn.wrapping_add(self.next as u32);
        let ahead = i64::from(seq.wrapping_sub(expected) as i32);
        let end = ahead + payload.len() as i64;
        if end <= 0 {
            return None; // retransmission of data already taken
        }
        if ahead <= 0 {
            let fresh = payload
                .get(ahead.unsigned_abs() as usize..)
                .unwrap_or_default();
            self.take(fresh);
            self.drain_pending();
            return None;
        }
        let at = self.next + ahead.unsigned_abs();
        let slot = self.pending.entry(at).or_default();
        if payload.len() > slot.len() {
            self.pending_bytes += payload.len() - slot.len();
            *slot = payload.to_vec();
        }
        (self.pending_bytes > MAX_PENDING).then(|| self.skip_to_pending())
    }

    fn take(&mut self, data: &[u8]) {
        self.framer.push(data);
        self.next += data.len() as u64;
    }

    fn drain_pending(&mut self) {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() > self.next {
                break;
            }
            let at = *entry.key();
            let data = entry.remove();
            self.pending_bytes -= data.len();
            let skip = usize::try_from(self.next - at).unwrap_or(usize::MAX);
            if let Some(fresh) = data.get(skip..) {
                self.take(fresh);
            }
        }
    }

    /// Declares the octets before the first pending segment lost.
    pub(super) fn skip_to_pending(&mut self) -> FramingError {
        let first = self.pending.keys().next().copied().unwrap_or(self.next);
        let missing = first.saturating_sub(self.next);
        let error = self.framer.skip_gap(missing);
        self.next = first;
        self.drain_pending();
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::framing::Framed;
    use crate::decode::test_util::*;

    #[test]
    fn reassembly_handles_reordering_retransmission_and_overlap() {
        let mut d = Direction::default();
        let data: Vec<u8> = (0u8..100).collect();
        let base = u32::MAX - 30; // wraps inside the stream
        assert!(d.receive(base, &[]).is_none());
        d.receive(base.wrapping_add(50), &data[50..80]);
        d.receive(base.wrapping_add(20), &data[20..60]);
        assert_eq!(d.next, 0);
        d.receive(base, &data[..30]);
        assert_eq!(d.next, 80);
        d.receive(base, &data[..10]); // retransmission
        d.receive(base.wrapping_add(70), &data[70..100]); // overlap
        assert_eq!(d.next, 100);
        assert_eq!(d.framer.pending(), &data[..]);
        assert!(d.pending.is_empty());
    }

    #[test]
    fn a_gap_is_reported_and_decoding_resumes_at_the_next_marker() {
        let mut d = Direction::default();
        let ka = hex(KEEPALIVE);
        let mut stream = ka.clone();
        stream.extend_from_slice(&ka);
        stream.extend_from_slice(&ka);
        d.receive(1000, &stream[..5]);
        d.receive(1000 + 25, &stream[25..]);
        let error = d.skip_to_pending();
        assert_eq!(
            error,
            FramingError::Gap {
                offset: 5,
                missing: 20
            }
        );
        assert_eq!(d.framer.next_item(), Some(Framed::Message(ka)));
        assert_eq!(d.framer.next_item(), None);
    }
}
