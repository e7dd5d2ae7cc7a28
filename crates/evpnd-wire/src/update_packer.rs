//! Packing many NLRI into as few UPDATE messages as fit (RFC 4271 section
//! 4.3, RFC 4760 sections 3 and 4), for the route reflector's Adj-RIB-Out.
//!
//! An announcement UPDATE is laid out as FRR sends it: MP_REACH_NLRI first
//! (which RFC 7606 section 5.1 also asks for), with the Extended Length
//! flag, then the shared path attributes, already encoded once per set:
//!
//! ```text
//! | header (19) | 0x0000 | attr len (2) | 0x90 0x0e len(2) AFI SAFI NHlen NH 0 NLRI... | shared attrs |
//! ```
//! Withdrawals carry only MP_UNREACH_NLRI (RFC 4760 section 4: no other
//! attribute is needed).

use super::attribute::{AttrFlags, type_code};
use super::attribute_table;
use super::family::Family;
use super::header::{HEADER_LEN, MARKER, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, MessageType};
use bytes::{BufMut, Bytes, BytesMut};
use thiserror::Error;

/// Withdrawn Routes Length + Total Path Attribute Length.
const UPDATE_FIXED_LEN: usize = 4;
/// Flags, type code and a 2-octet length.
const EXTENDED_ATTRIBUTE_HEADER_LEN: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PackError {
    /// One NLRI (index `index` of the input) cannot fit any message.
    #[error("NLRI #{index} of {len} octets does not fit in a {max}-octet UPDATE")]
    NlriTooLarge {
        index: usize,
        len: usize,
        max: usize,
    },
    /// The shared attributes and next hop leave no room for any NLRI.
    #[error("{overhead} octets of attributes leave no room for NLRI in a {max}-octet UPDATE")]
    AttributesTooLarge { overhead: usize, max: usize },
}

/// Packs NLRI into UPDATEs of at most `max_message_len` octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdatePacker {
    max_message_len: usize,
}

impl UpdatePacker {
    /// `max_message_len`: 4096, or 65535 when RFC 8654 Extended Message was
    /// negotiated (clamped to that range).
    pub fn new(max_message_len: usize) -> Self {
        Self {
            max_message_len: max_message_len.clamp(MAX_MESSAGE_LEN, MAX_EXTENDED_MESSAGE_LEN),
        }
    }

    /// UPDATEs announcing `nlri` (each one complete NLRI in wire form) for
    /// `family` via `next_hop` (raw MP_REACH next-hop octets), with
    /// `shared_attributes` (encoded path attributes, without MP_REACH_NLRI).
    pub fn pack_reach<'a>(
        &self,
        family: Family,
        next_hop: &[u8],
        shared_attributes: &[u8],
        nlri: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<Bytes>, PackError> {
        // RFC 4760 section 3: AFI, SAFI, next-hop length, next hop, reserved.
        let mut prologue = BytesMut::with_capacity(5 + next_hop.len());
        prologue.put_u16(family.afi.0);
        prologue.put_u8(family.safi.0);
        prologue.put_u8(next_hop.len() as u8);
        prologue.put_slice(next_hop);
        prologue.put_u8(0);
        self.pack(type_code::MP_REACH_NLRI, &prologue, shared_attributes, nlri)
    }

    /// UPDATEs withdrawing `nlri` for `family` with MP_UNREACH_NLRI.
    pub fn pack_unreach<'a>(
        &self,
        family: Family,
        nlri: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<Bytes>, PackError> {
        let mut prologue = [0u8; 3];
        prologue[..2].copy_from_slice(&family.afi.0.to_be_bytes());
        prologue[2] = family.safi.0;
        self.pack(type_code::MP_UNREACH_NLRI, &prologue, &[], nlri)
    }

    fn pack<'a>(
        &self,
        mp_code: u8,
        prologue: &[u8],
        epilogue: &[u8],
        nlri: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Vec<Bytes>, PackError> {
        let overhead = HEADER_LEN
            + UPDATE_FIXED_LEN
            + EXTENDED_ATTRIBUTE_HEADER_LEN
            + prologue.len()
            + epilogue.len();
        let max = self.max_message_len;
        let budget = max
            .checked_sub(overhead)
            .filter(|b| *b > 0)
            .ok_or(PackError::AttributesTooLarge { overhead, max })?;
        let mut messages = Vec::new();
        let mut buf = BytesMut::new();
        let mut used: Option<usize> = None;
        for (index, item) in nlri.into_iter().enumerate() {
            if item.len() > budget {
                return Err(PackError::NlriTooLarge {
                    index,
                    len: item.len(),
                    max,
                });
            }
            match used {
                Some(u) if u + item.len() <= budget => used = Some(u + item.len()),
                Some(_) => {
                    finish(&mut buf, epilogue);
                    messages.push(buf.split().freeze());
                    begin(&mut buf, mp_code, prologue);
                    used = Some(item.len());
                }
                None => {
                    buf.reserve(max.min(overhead + budget));
                    begin(&mut buf, mp_code, prologue);
                    used = Some(item.len());
                }
            }
            buf.put_slice(item);
        }
        if used.is_some() {
            finish(&mut buf, epilogue);
            messages.push(buf.split().freeze());
        }
        Ok(messages)
    }
}

/// Start a message in an empty `buf`: header, empty Withdrawn Routes,
/// attribute-length placeholder, the MP attribute header and prologue.
fn begin(buf: &mut BytesMut, mp_code: u8, prologue: &[u8]) {
    buf.put_slice(&MARKER);
    buf.put_u16(0);
    buf.put_u8(MessageType::Update as u8);
    buf.put_u16(0);
    buf.put_u16(0);
    // The MP attribute's table flags (optional non-transitive, RFC 4760
    // sections 3 and 4), with Extended Length: NLRI fill the message.
    let flags = attribute_table::lookup(mp_code).map_or(AttrFlags::OPTIONAL, |row| row.flags());
    buf.put_u8(flags | AttrFlags::EXTENDED_LENGTH);
    buf.put_u8(mp_code);
    buf.put_u16(0);
    buf.put_slice(prologue);
}

/// Close the MP attribute, append the shared attributes, fix the lengths.
fn finish(buf: &mut BytesMut, epilogue: &[u8]) {
    const ATTRS_LEN_AT: usize = HEADER_LEN + 2;
    const MP_LEN_AT: usize = ATTRS_LEN_AT + 2 + 2;
    let mp_len = buf.len() - (MP_LEN_AT + 2);
    buf.put_slice(epilogue);
    let attrs_len = buf.len() - (ATTRS_LEN_AT + 2);
    let total = buf.len();
    buf[HEADER_LEN - 3..HEADER_LEN - 1].copy_from_slice(&(total as u16).to_be_bytes());
    buf[ATTRS_LEN_AT..ATTRS_LEN_AT + 2].copy_from_slice(&(attrs_len as u16).to_be_bytes());
    buf[MP_LEN_AT..MP_LEN_AT + 2].copy_from_slice(&(mp_len as u16).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::tests::hex;
    use crate::message::{DecodeOptions, Message};
    use proptest::prelude::*;

    /// ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100 (as FRR sends them).
    const SHARED: &str = "40010100 400200 40050400000064";

    /// Fake EVPN-shaped NLRI: route type, length, payload.
    fn item(i: usize, len: usize) -> Vec<u8> {
        let mut v = vec![3u8, len as u8];
        v.extend((0..len).map(|j| (i + j) as u8));
        v
    }

    /// Split an EVPN-shaped NLRI field back into items.
    fn split_items(mut nlri: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let [_, len, ..] = nlri {
            let n = 2 + usize::from(*len);
            out.push(nlri[..n].to_vec());
            nlri = &nlri[n..];
        }
        assert!(nlri.is_empty());
        out
    }

    fn unpack(messages: &[Bytes], max: usize, reach: bool) -> Vec<Vec<u8>> {
        let opts = DecodeOptions {
            max_message_len: max,
            ..DecodeOptions::default()
        };
        let mut items = Vec::new();
        for m in messages {
            assert!(m.len() <= max);
            let Message::Update(u) = Message::decode(m, &opts).unwrap() else {
                panic!("not an UPDATE");
            };
            let first = &u.attributes[0];
            assert!(first.flags.extended_length());
            if reach {
                let mp = u.mp_reach().unwrap();
                assert_eq!(mp.family, Family::L2VPN_EVPN);
                assert_eq!(&mp.next_hop[..], &[198, 19, 0, 1]);
                assert_eq!(u.local_pref(), Some(100));
                items.extend(split_items(&mp.nlri));
            } else {
                assert_eq!(u.attributes.len(), 1);
                items.extend(split_items(&u.mp_unreach().unwrap().withdrawn));
            }
        }
        items
    }

    #[test]
    fn packs_frr_shaped_announcement() {
        // The type-3 route of the vectors' msg 6, re-packed: same MP_REACH.
        let nlri = hex("03110001c613000300020000000020c6130003");
        let msgs = UpdatePacker::new(4096)
            .pack_reach(
                Family::L2VPN_EVPN,
                &[198, 19, 0, 3],
                &hex(SHARED),
                [&nlri[..]],
            )
            .unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(
            &msgs[0][23..55],
            &hex("900e001c00194604c61300030003110001c613000300020000000020c6130003")[..]
        );
    }

    #[test]
    fn fills_messages_and_rejects_oversized_nlri() {
        let items: Vec<Vec<u8>> = (0..1000).map(|i| item(i, 33)).collect();
        let packer = UpdatePacker::new(4096);
        let msgs = packer
            .pack_reach(
                Family::L2VPN_EVPN,
                &[198, 19, 0, 1],
                &hex(SHARED),
                items.iter().map(Vec::as_slice),
            )
            .unwrap();
        // (4096 - 19 - 4 - 4 - 9 - 14) / 35 = 115 per message.
        assert_eq!(msgs.len(), 1000usize.div_ceil(115));
        assert_eq!(unpack(&msgs, 4096, true), items);
        assert!(
            packer
                .pack_unreach(Family::L2VPN_EVPN, std::iter::empty())
                .unwrap()
                .is_empty()
        );
        let huge = vec![0u8; 5000];
        assert!(matches!(
            packer.pack_unreach(Family::L2VPN_EVPN, [&huge[..]]),
            Err(PackError::NlriTooLarge { index: 0, .. })
        ));
        let attrs = vec![0u8; 4090];
        assert!(matches!(
            packer.pack_reach(Family::L2VPN_EVPN, &[1, 2, 3, 4], &attrs, [&huge[..1]]),
            Err(PackError::AttributesTooLarge { .. })
        ));
    }

    proptest! {
        #[test]
        fn every_nlri_exactly_once(
            sizes in proptest::collection::vec(1usize..=200, 0..400),
            extended: bool,
            reach: bool,
        ) {
            let max = if extended { MAX_EXTENDED_MESSAGE_LEN } else { MAX_MESSAGE_LEN };
            let items: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, &n)| item(i, n)).collect();
            let packer = UpdatePacker::new(max);
            let slices = items.iter().map(Vec::as_slice);
            let msgs = if reach {
                packer.pack_reach(Family::L2VPN_EVPN, &[198, 19, 0, 1], &hex(SHARED), slices)
            } else {
                packer.pack_unreach(Family::L2VPN_EVPN, slices)
            }.unwrap();
            prop_assert_eq!(unpack(&msgs, max, reach), items);
            // No message could have taken the next message's first item.
            for pair in msgs.windows(2) {
                let next_first = 2 + usize::from(pair[1][if reach { 23 + 4 + 9 + 1 } else { 23 + 4 + 3 + 1 }]);
                prop_assert!(pair[0].len() + next_first > max);
            }
        }
    }
}
