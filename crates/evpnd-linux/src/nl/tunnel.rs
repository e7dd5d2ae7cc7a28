//! RTM_NEWTUNNEL / RTM_GETTUNNEL: the VNI filter of a `vnifilter` vxlan
//! device (`bridge vni add|show`).
//!
//! Hand-encoded, because the crates lack it (docs/netlink.md, "gaps"):
//! - netlink-packet-route 0.34.0 has no RTM_NEWTUNNEL/DELTUNNEL/GETTUNNEL
//!   (120-122) message, no `struct tunnel_msg` header and no
//!   VXLAN_VNIFILTER_* attributes (its `RouteNetlinkMessage` reports them as
//!   unknown). An upstream patch (a `tunnel` module: message, header,
//!   attributes, like `neighbour`) would close this gap.
//!
//! So [`TunnelMessage`] is a local message type that plugs into
//! netlink-packet-core 0.9: it implements `NetlinkSerializable` (framed by
//! `NetlinkMessage` like every other request), its entry is an `Nla`, and
//! replies are walked with `NlasIterator`. Only the 8-byte header is written
//! by hand.
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

use super::{AF_BRIDGE, TopologyDecodeError};
use netlink_packet_core::{
    Emitable, NLA_F_NESTED, NetlinkSerializable, Nla, NlaBuffer, NlasIterator, emit_u32, parse_u32,
};
use std::collections::BTreeSet;

pub const RTM_NEWTUNNEL: u16 = 120;
pub const RTM_GETTUNNEL: u16 = 122;

const VXLAN_VNIFILTER_ENTRY: u16 = 1;
const VXLAN_VNIFILTER_ENTRY_START: u16 = 1;
const VXLAN_VNIFILTER_ENTRY_END: u16 = 2;
/// `sizeof(struct tunnel_msg)`.
const TUNNEL_MSG_LEN: usize = 8;
/// Largest VNI (RFC 7348 section 5: 24 bits); bounds range expansion.
const VNI_MAX: u32 = 0x00ff_ffff;
/// Most VNIs one dump is expanded to; a filter holding more than a VTEP can
/// map (4094 VLANs) is reported as is up to this bound, not allocated blindly.
const MAX_EXPANDED: usize = 1 << 16;

/// One attribute inside a VXLAN_VNIFILTER_ENTRY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VniFilterAttr {
    Start(u32),
    End(u32),
}

impl Nla for VniFilterAttr {
    fn value_len(&self) -> usize {
        4
    }

    fn kind(&self) -> u16 {
        match self {
            VniFilterAttr::Start(_) => VXLAN_VNIFILTER_ENTRY_START,
            VniFilterAttr::End(_) => VXLAN_VNIFILTER_ENTRY_END,
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        let (VniFilterAttr::Start(v) | VniFilterAttr::End(v)) = *self;
        let _ = emit_u32(buffer, v);
    }
}

/// VXLAN_VNIFILTER_ENTRY (nested, with NLA_F_NESTED as iproute2 sets it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VniFilterEntry(pub Vec<VniFilterAttr>);

impl Nla for VniFilterEntry {
    fn value_len(&self) -> usize {
        self.0.as_slice().buffer_len()
    }

    fn kind(&self) -> u16 {
        VXLAN_VNIFILTER_ENTRY | NLA_F_NESTED
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        self.0.as_slice().emit(buffer);
    }
}

/// RTM_NEWTUNNEL / RTM_GETTUNNEL with `struct tunnel_msg` (family
/// AF_BRIDGE) and its VNI filter entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelMessage {
    pub message_type: u16,
    pub ifindex: u32,
    pub entries: Vec<VniFilterEntry>,
}

impl NetlinkSerializable for TunnelMessage {
    fn message_type(&self) -> u16 {
        self.message_type
    }

    fn buffer_len(&self) -> usize {
        TUNNEL_MSG_LEN + self.entries.as_slice().buffer_len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        let (header, attrs) = buffer.split_at_mut(TUNNEL_MSG_LEN);
        header.fill(0);
        header[0] = AF_BRIDGE;
        header[4..8].copy_from_slice(&self.ifindex.to_ne_bytes());
        self.entries.as_slice().emit(attrs);
    }
}

/// The VNIs of one RTM_NEWTUNNEL (dump reply or notification): the device
/// and every VNI its entries cover.
pub fn parse_vnis(payload: &[u8]) -> Result<(u32, BTreeSet<u32>), TopologyDecodeError> {
    let bad = |what: &str| TopologyDecodeError::Tunnel(what.to_owned());
    let ifindex = payload
        .get(4..TUNNEL_MSG_LEN)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_ne_bytes)
        .ok_or_else(|| bad("shorter than struct tunnel_msg"))?;
    let mut vnis = BTreeSet::new();
    for attr in NlasIterator::new(payload.get(TUNNEL_MSG_LEN..).unwrap_or_default()) {
        let attr: NlaBuffer<&[u8]> = attr.map_err(|e| bad(&format!("attribute: {e}")))?;
        if attr.kind() != VXLAN_VNIFILTER_ENTRY {
            continue;
        }
        let (mut start, mut end) = (None, None);
        for inner in NlasIterator::new(attr.value()) {
            let inner = inner.map_err(|e| bad(&format!("entry: {e}")))?;
            match inner.kind() {
                VXLAN_VNIFILTER_ENTRY_START => start = parse_u32(inner.value()).ok(),
                VXLAN_VNIFILTER_ENTRY_END => end = parse_u32(inner.value()).ok(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn body(message: TunnelMessage) -> Vec<u8> {
        let mut out = vec![0; message.buffer_len()];
        message.serialize(&mut out);
        out
    }

    fn reply(ifindex: u32, entries: &[(u32, Option<u32>)]) -> Vec<u8> {
        let entries = entries
            .iter()
            .map(|(start, end)| {
                let mut attrs = vec![VniFilterAttr::Start(*start)];
                attrs.extend(end.map(VniFilterAttr::End));
                VniFilterEntry(attrs)
            })
            .collect();
        body(TunnelMessage {
            message_type: RTM_NEWTUNNEL,
            ifindex,
            entries,
        })
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
        let no_start = body(TunnelMessage {
            message_type: RTM_NEWTUNNEL,
            ifindex: 3,
            entries: vec![VniFilterEntry(vec![VniFilterAttr::End(5)])],
        });
        assert!(parse_vnis(&no_start).is_err());
        // A huge range is bounded.
        let big = parse_vnis(&reply(3, &[(1, Some(VNI_MAX))])).map(|(_, v)| v.len());
        assert_eq!(big, Ok(MAX_EXPANDED));
    }
}
