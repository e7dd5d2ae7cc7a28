//! Shared path-attribute sets.
//!
//! Routes arrive ~100 to an UPDATE under one set of path attributes, and a
//! fabric has few distinct sets (one per VTEP and VNI, typically). Every path
//! holds an `Arc<AttrSet>`, interned by content, so a million routes cost a
//! pointer each for their attributes, and everything derived from a set (its
//! best-path fields, its reflected encoding) is computed once per set.

use super::peer::PeerIdx;
use bytes::Bytes;
use evpnd_wire::extcomm::MacMobility;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, OnceLock};

/// The attribute values the decision process (RFC 4271 9.1, RFC 4456 9,
/// RFC 7432 15) looks at, extracted once per attribute set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PathSummary {
    /// ORIGIN: 0 IGP, 1 EGP, 2 INCOMPLETE (RFC 4271 5.1.1).
    pub origin: u8,
    /// AS_PATH length, an AS_SET counting as one (RFC 4271 9.1.2.2 a).
    pub as_path_len: u32,
    /// The first AS of AS_PATH, for comparing MEDs (RFC 4271 9.1.2.2 c).
    pub neighbor_as: Option<u32>,
    pub local_pref: Option<u32>,
    /// A missing MED counts as 0 (RFC 4271 9.1.2.2 c).
    pub med: u32,
    pub originator_id: Option<Ipv4Addr>,
    pub cluster_list_len: u32,
    /// RFC 7432 section 7.7; a type-2 route without one has sequence 0
    /// (section 15.1).
    pub mac_mobility: Option<MacMobility>,
}

/// One interned set of path attributes, as received from one peer.
#[derive(Debug)]
pub struct AttrSet {
    pub source: PeerIdx,
    /// The path attributes other than MP_REACH_NLRI / MP_UNREACH_NLRI, in
    /// wire form as received (RFC 4271 4.3), so that reflection changes only
    /// what RFC 4456 allows.
    pub encoded: Bytes,
    /// The next hop from MP_REACH_NLRI (RFC 4760 3), as received.
    pub next_hop: Bytes,
    pub summary: PathSummary,
    /// The attributes as sent to iBGP peers when reflected (ORIGINATOR_ID and
    /// CLUSTER_LIST added), computed on first use.
    pub reflected: OnceLock<Bytes>,
    /// The attributes as sent to eBGP peers, computed on first use.
    pub external: OnceLock<Bytes>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AttrKey {
    source: PeerIdx,
    encoded: Bytes,
    next_hop: Bytes,
}

/// Interns attribute sets by content (source peer, wire bytes, next hop).
#[derive(Debug, Default)]
pub struct AttrInterner {
    sets: HashMap<AttrKey, Arc<AttrSet>>,
}

impl AttrInterner {
    /// The shared set for these attributes; `summarize` runs only for a set
    /// not seen before. The bytes are copied, so a set never pins the
    /// receive buffer it was parsed from.
    pub fn intern(
        &mut self,
        source: PeerIdx,
        encoded: &[u8],
        next_hop: &[u8],
        summarize: impl FnOnce() -> PathSummary,
    ) -> Arc<AttrSet> {
        let key = AttrKey {
            source,
            encoded: Bytes::copy_from_slice(encoded),
            next_hop: Bytes::copy_from_slice(next_hop),
        };
        self.sets
            .entry(key)
            .or_insert_with_key(|key| {
                Arc::new(AttrSet {
                    source,
                    encoded: key.encoded.clone(),
                    next_hop: key.next_hop.clone(),
                    summary: summarize(),
                    reflected: OnceLock::new(),
                    external: OnceLock::new(),
                })
            })
            .clone()
    }

    /// Forget sets no path refers to any more.
    pub fn sweep(&mut self) {
        self.sets.retain(|_, set| Arc::strong_count(set) > 1);
    }

    pub fn len(&self) -> usize {
        self.sets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_attributes_share_one_set_and_unused_sets_are_swept() {
        let mut interner = AttrInterner::default();
        let mut summaries = 0;
        let mut summarize = || {
            summaries += 1;
            PathSummary::default()
        };
        let a = interner.intern(
            PeerIdx(1),
            b"\x40\x01\x01\x00",
            b"\xc6\x13\x00\x01",
            &mut summarize,
        );
        let b = interner.intern(
            PeerIdx(1),
            b"\x40\x01\x01\x00",
            b"\xc6\x13\x00\x01",
            &mut summarize,
        );
        assert!(Arc::ptr_eq(&a, &b));
        let other_peer = interner.intern(
            PeerIdx(2),
            b"\x40\x01\x01\x00",
            b"\xc6\x13\x00\x01",
            &mut summarize,
        );
        assert!(!Arc::ptr_eq(&a, &other_peer));
        assert_eq!(summaries, 2, "summaries are computed once per distinct set");
        assert_eq!(interner.len(), 2);
        drop((a, other_peer));
        interner.sweep();
        assert_eq!(interner.len(), 1, "b still refers to its set");
        drop(b);
        interner.sweep();
        assert!(interner.is_empty());
    }
}
