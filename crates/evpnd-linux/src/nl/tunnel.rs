//! RTM_NEWTUNNEL / RTM_GETTUNNEL: the VNI filter of a `vnifilter` vxlan
//! device (`bridge vni add|show`). netlink-packet-route has no type for
//! these (docs/netlink.md, gap 1), so they are written and read by hand.
//!
//! Layout (`include/uapi/linux/if_link.h`, `rtnetlink.h`; kernel
//! `drivers/net/vxlan/vxlan_vnifilter.c`):
//! ```text
//! struct tunnel_msg { u8 family (AF_BRIDGE); u8 flags; u16 reserved; u32 ifindex; }
//! VXLAN_VNIFILTER_ENTRY (1) | NLA_F_NESTED
//!     VXLAN_VNIFILTER_ENTRY_START (1) u32
//!     VXLAN_VNIFILTER_ENTRY_END   (2) u32   (optional: a range)
//!     VXLAN_VNIFILTER_ENTRY_GROUP (3) / GROUP6 (4), STATS (5): not used
//! ```

use super::link::{AF_BRIDGE, AttrWriter, RawRequest, TopologyDecodeError};
use std::collections::BTreeSet;

pub const RTM_NEWTUNNEL: u16 = 120;
pub const RTM_GETTUNNEL: u16 = 122;

const VXLAN_VNIFILTER_ENTRY: u16 = 1;
const VXLAN_VNIFILTER_ENTRY_START: u16 = 1;
const VXLAN_VNIFILTER_ENTRY_END: u16 = 2;
/// netlink.h: the attribute holds nested attributes.
const NLA_F_NESTED: u16 = 0x8000;
/// netlink.h: mask of the attribute type without NESTED/NET_BYTEORDER.
const NLA_TYPE_MASK: u16 = 0x3fff;
/// Largest VNI (RFC 7348 section 5: 24 bits); bounds range expansion.
const VNI_MAX: u32 = 0x00ff_ffff;
/// Most VNIs one dump is expanded to; a filter holding more than a VTEP can
/// map (4094 VLANs) is reported as is up to this bound, not allocated blindly.
const MAX_EXPANDED: usize = 1 << 16;

fn tunnel_msg(ifindex: u32) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[0] = AF_BRIDGE;
    h[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    h
}

/// `bridge vni add dev IFINDEX vni VNI`.
pub fn vni_add(ifindex: u32, vni: u32) -> RawRequest {
    let mut w = AttrWriter::new(&tunnel_msg(ifindex));
    let entry = w.begin(VXLAN_VNIFILTER_ENTRY | NLA_F_NESTED);
    w.u32(VXLAN_VNIFILTER_ENTRY_START, vni);
    w.end(entry);
    RawRequest {
        message_type: RTM_NEWTUNNEL,
        flags: 0,
        body: w.buf,
        dump: false,
    }
}

/// `bridge vni show dev IFINDEX`: RTM_GETTUNNEL dump (`vxlan_vnifilter_dump`
/// takes the device from tunnel_msg.ifindex).
pub fn vni_dump(ifindex: u32) -> RawRequest {
    RawRequest {
        message_type: RTM_GETTUNNEL,
        flags: 0,
        body: tunnel_msg(ifindex).to_vec(),
        dump: true,
    }
}

/// The VNIs of one RTM_NEWTUNNEL (dump reply or notification): the device
/// and every VNI its entries cover.
pub fn parse_vnis(payload: &[u8]) -> Result<(u32, BTreeSet<u32>), TopologyDecodeError> {
    let bad = |what: &str| TopologyDecodeError::Tunnel(what.to_owned());
    let ifindex = payload
        .get(4..8)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_ne_bytes)
        .ok_or_else(|| bad("shorter than struct tunnel_msg"))?;
    let mut vnis = BTreeSet::new();
    let mut attrs = payload.get(8..).unwrap_or_default();
    while !attrs.is_empty() {
        let (kind, value, rest) = next_attr(attrs).ok_or_else(|| bad("truncated attribute"))?;
        attrs = rest;
        if kind != VXLAN_VNIFILTER_ENTRY {
            continue;
        }
        let (mut start, mut end) = (None, None);
        let mut inner = value;
        while !inner.is_empty() {
            let (k, v, r) = next_attr(inner).ok_or_else(|| bad("truncated entry"))?;
            inner = r;
            let as_u32 = || {
                v.get(0..4)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_ne_bytes)
            };
            match k {
                VXLAN_VNIFILTER_ENTRY_START => start = as_u32(),
                VXLAN_VNIFILTER_ENTRY_END => end = as_u32(),
                _ => {}
            }
        }
        let start = start.ok_or_else(|| bad("entry without VXLAN_VNIFILTER_ENTRY_START"))?;
        let end = end.unwrap_or(start).clamp(start, VNI_MAX.max(start));
        for vni in start..=end {
            if vnis.len() >= MAX_EXPANDED {
                break;
            }
            vnis.insert(vni);
        }
    }
    Ok((ifindex, vnis))
}

/// One attribute: type (flags masked off), value, and the rest after its
/// 4-byte-aligned end; `None` when the length does not fit the buffer.
fn next_attr(buf: &[u8]) -> Option<(u16, &[u8], &[u8])> {
    let len = u16::from_ne_bytes(buf.get(0..2)?.try_into().ok()?) as usize;
    let kind = u16::from_ne_bytes(buf.get(2..4)?.try_into().ok()?) & NLA_TYPE_MASK;
    let value = buf.get(4..len)?;
    let rest = buf.get(len.next_multiple_of(4).min(buf.len())..)?;
    Some((kind, value, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(ifindex: u32, entries: &[(u32, Option<u32>)]) -> Vec<u8> {
        let mut w = AttrWriter::new(&tunnel_msg(ifindex));
        for (start, end) in entries {
            let e = w.begin(VXLAN_VNIFILTER_ENTRY | NLA_F_NESTED);
            w.u32(VXLAN_VNIFILTER_ENTRY_START, *start);
            if let Some(end) = end {
                w.u32(VXLAN_VNIFILTER_ENTRY_END, *end);
            }
            w.end(e);
        }
        w.buf
    }

    #[test]
    fn dump_entries_expand_ranges() {
        let got = parse_vnis(&reply(3, &[(10, Some(12)), (20, None)]));
        assert_eq!(got, Ok((3, BTreeSet::from([10, 11, 12, 20]))));
    }

    #[test]
    fn malformed_replies_are_errors_not_panics() {
        let good = reply(3, &[(10, None)]);
        for cut in 0..good.len() {
            let r = parse_vnis(&good[..cut]);
            // Every proper prefix is either the bare header (no VNIs) or an error.
            if cut == 8 {
                assert_eq!(r, Ok((3, BTreeSet::new())));
            } else {
                assert!(r.is_err(), "prefix {cut} accepted: {r:?}");
            }
        }
        // An entry without START.
        let mut w = AttrWriter::new(&tunnel_msg(3));
        let e = w.begin(VXLAN_VNIFILTER_ENTRY | NLA_F_NESTED);
        w.u32(VXLAN_VNIFILTER_ENTRY_END, 5);
        w.end(e);
        assert!(parse_vnis(&w.buf).is_err());
        // A huge range is bounded.
        let big = parse_vnis(&reply(3, &[(1, Some(VNI_MAX))])).map(|(_, v)| v.len());
        assert_eq!(big, Ok(MAX_EXPANDED));
    }
}
