//! Shared path-attribute sets.
//!
//! Routes arrive ~100 to an UPDATE under one set of path attributes, and a
//! fabric has few distinct sets (one per VTEP and VNI, typically). Every path
//! holds an `Arc<AttrSet>`, interned by content, so a million routes cost a
//! pointer each for their attributes, and everything derived from a set (its
//! best-path fields, its reflected encoding) is computed once per set.
//!
//! A set owns its form: the attributes are kept in [`STORED_FORM`] (4-octet
//! AS numbers, RFC 6793), written by [`stored_attributes`] (or
//! [`encode_stored`] for sets evpnd originates) and read back only through
//! [`decode_stored`] / [`AttrSet::decode`].

use super::peer::PeerIdx;
use bytes::{Bytes, BytesMut};
use evpnd_wire::attribute::{Origin, PathAttribute};
use evpnd_wire::attribute_table;
use evpnd_wire::context::DecodeOptions;
use evpnd_wire::extcomm::MacMobility;
use evpnd_wire::header::MAX_MESSAGE_LEN;
use evpnd_wire::update::Update;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, OnceLock};

/// The attribute values the decision process (RFC 4271 9.1, RFC 4456 9,
/// RFC 7432 15) looks at, extracted once per attribute set.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PathSummary {
    /// ORIGIN (RFC 4271 5.1.1); IGP when absent.
    pub origin: Origin,
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
    /// The route targets among its extended communities, as their 8 wire
    /// octets, for RT-Constrain (RFC 4684 section 3); read on first use.
    pub route_targets: OnceLock<Box<[[u8; 8]]>>,
}

/// The form every attribute set is stored in, whatever its source peer
/// negotiated: AS numbers in 4 octets (RFC 6793 section 4), so one set of
/// bytes serves every 4-octet peer unchanged (2-octet peers get AS_TRANS and
/// AS4_PATH on the way out, RFC 6793 section 4.2.2, `encode.rs`). A stored
/// set never holds MP_REACH/MP_UNREACH_NLRI, so ADD-PATH and the message
/// size do not matter to it.
pub const STORED_FORM: DecodeOptions = DecodeOptions {
    max_message_len: MAX_MESSAGE_LEN,
    four_octet_as: true,
    add_path: Vec::new(),
};

/// A received UPDATE's shared attributes (all but MP_REACH/MP_UNREACH_NLRI)
/// in [`STORED_FORM`], passed on as RFC 4271 section 5 says: an
/// unrecognized optional transitive attribute with the Partial bit set, an
/// unrecognized optional non-transitive one dropped; and without the
/// attributes an `external` peer's UPDATE may not set (LOCAL_PREF, RFC 4271
/// 5.1.5: ignored; `from_ebgp` in the attribute table). For a 4-octet peer
/// with only recognized attributes this is the received bytes exactly.
pub fn stored_attributes(update: &Update, external: bool) -> Bytes {
    let kept_from = |code: u8| attribute_table::lookup(code).is_none_or(|row| row.from_ebgp);
    let stored = Update {
        attributes: update
            .attributes
            .iter()
            .filter(|a| !external || kept_from(a.type_code()))
            .filter_map(|a| a.propagated())
            .collect(),
        ..Default::default()
    };
    let mut attributes = BytesMut::new();
    stored.encode_shared_attributes(&mut attributes, &STORED_FORM);
    attributes.freeze()
}

/// Attributes evpnd builds itself (local routes, eBGP rewrites), written in
/// [`STORED_FORM`].
pub fn encode_stored<'a>(attributes: impl IntoIterator<Item = &'a PathAttribute>) -> Bytes {
    let mut out = BytesMut::new();
    for a in attributes {
        a.encode(&mut out, &STORED_FORM);
    }
    out.freeze()
}

/// Read a stored attribute set: the one way every reader (best path,
/// import, encode, show) decodes one. Malformed attributes cannot occur in
/// a stored set; were one there, it is left out as `Update::from_attributes`
/// does.
pub fn decode_stored(encoded: &[u8]) -> Update {
    Update::from_attributes(encoded, &STORED_FORM)
}

impl AttrSet {
    /// This set's attributes, decoded ([`decode_stored`]).
    pub fn decode(&self) -> Update {
        decode_stored(&self.encoded)
    }

    /// The route targets (RFC 4360 section 4, RFC 5668) this set carries,
    /// decoded once per set, not per route or per peer.
    pub fn route_targets(&self) -> &[[u8; 8]] {
        self.route_targets.get_or_init(|| {
            self.decode()
                .extended_communities()
                .unwrap_or_default()
                .iter()
                .filter_map(|c| c.route_target().map(|rt| rt.to_bytes()))
                .collect()
        })
    }
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
                    route_targets: OnceLock::new(),
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
